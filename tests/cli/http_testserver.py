# SPDX-License-Identifier: Apache-2.0
"""Scripted HTTP/1.1 servers for tests/unit/test_fetch.c (client/fetch.c).

Run with /usr/bin/python3: http_testserver.py DIR. Makes a throwaway CA and a
certificate for DNS:localhost in DIR with `openssl req`, listens on 127.0.0.1
port 0 three times (plain HTTP, HTTPS, an HTTP proxy) and on [::1] when it
can, and prints one line: "PLAIN TLS PROXY V6 CAFILE" (V6 is 0 without
IPv6). Behaviours are selected by the request path (see handle()). Bounded:
the process exits after 300 s whatever happens; the test kills it sooner.

Raw sockets, not http.server: the tests need malformed and hostile answers.
"""
import os
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time

DIR = sys.argv[1]
LOCK = threading.Lock()
STATS = {"plain": 0, "tls": 0, "proxy": 0, "connect": 0}
DATA = bytes(range(256)) * 40  # the file behind /range/...


def watchdog():
    time.sleep(300)
    os._exit(3)


def make_certs():
    ca_key, ca = os.path.join(DIR, "ca.key"), os.path.join(DIR, "ca.pem")
    key, csr, crt = (os.path.join(DIR, n) for n in ("leaf.key", "leaf.csr", "leaf.pem"))
    ext = os.path.join(DIR, "leaf.ext")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
        "-subj", "/CN=upkeep test CA", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign")
    run("openssl", "req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", crt, "-days", "2", "-extfile", ext)
    return ca, crt, key


def read_head(c, buf=b""):
    """The request head (bytes before the blank line) or None at EOF."""
    while b"\r\n\r\n" not in buf:
        d = c.recv(65536)
        if not d:
            return None, b""
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    return head.decode("latin1"), rest


def header(head, name):
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name:
            return v.strip()
    return None


def resp(c, status, body=b"", extra=""):
    c.sendall(("HTTP/1.1 %s\r\nContent-Length: %d\r\n%s\r\n" % (status, len(body), extra))
              .encode() + body)


def rst_close(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def handle_range(c, head, mode):
    rng = header(head, "range") or ""
    a, b = (int(x) for x in rng[len("bytes="):].split("-"))
    body = DATA[a:b + 1]
    cr = "Content-Range: bytes %d-%d/%d\r\n" % (a, b, len(DATA))
    if mode == "ok":
        resp(c, "206 Partial Content", body, cr)
    elif mode == "ignore":
        resp(c, "200 OK", DATA)
    elif mode == "416":
        resp(c, "416 Range Not Satisfiable", b"", "Content-Range: bytes */%d\r\n" % len(DATA))
    elif mode == "short":
        resp(c, "206 Partial Content", body[:-1], cr)
    elif mode == "long":  # no length: the bytes themselves overflow
        c.sendall(("HTTP/1.1 206 Partial Content\r\n%sConnection: close\r\n\r\n" % cr).encode()
                  + DATA[a:b + 101])
        return False
    elif mode == "long-announced":
        resp(c, "206 Partial Content", DATA[a:b + 2], cr)
    elif mode == "wrong-start":
        resp(c, "206 Partial Content", body,
             "Content-Range: bytes %d-%d/%d\r\n" % (a + 1, b + 1, len(DATA)))
    elif mode == "404":
        resp(c, "404 Not Found", b"no")
    return True


def endless(c, chunked):
    c.sendall(b"HTTP/1.1 200 OK\r\n" + (b"Transfer-Encoding: chunked\r\n" if chunked else b"")
              + b"\r\n")
    block = b"x" * 4096
    while True:
        c.sendall(b"1000\r\n" + block + b"\r\n" if chunked else block)


def handle(c, head, rest, kind, port):
    """Answer one request; False: the connection is over."""
    line = head.split("\r\n")[0]
    method, target, _ = line.split(" ", 2)
    path = target.split("?", 1)[0]
    parts = path.strip("/").split("/")
    p0 = parts[0]
    n = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if p0 == "len":
        resp(c, "200 OK", b"a" * n)
    elif p0 == "echo":  # the request head as received
        resp(c, "200 OK", head.encode("latin1"))
    elif p0 == "chunked":
        out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        left = n
        while left:
            k = min(left, 7)
            out += b"%x;name=val\r\n" % k + b"c" * k + b"\r\n"
            left -= k
        c.sendall(out + b"0\r\nX-Trailer: yes\r\n\r\n")
    elif p0 == "close":
        c.sendall(b"HTTP/1.1 200 OK\r\n\r\n" + b"z" * n)
        return False
    elif p0 == "http10":
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % n + b"t" * n)
        return False
    elif p0 == "continue":
        c.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    elif p0 == "idle-close":  # closes the kept-alive connection once idle
        resp(c, "200 OK", b"a" * n)
        time.sleep(0.1)
        return False
    elif p0 == "drop-next":  # keeps the connection, drops the next request unanswered
        resp(c, "200 OK", b"dn")
        read_head(c, rest)
        return False
    elif p0 == "redirect":
        if n:
            resp(c, "302 Found", b"moved", "Location: /redirect/%d\r\n" % (n - 1))
        else:
            resp(c, "200 OK", b"arrived")
    elif p0 == "relative":  # a relative-path reference, a 307 with a close-delimited body
        if parts[-1] == "target":
            resp(c, "200 OK", b"relative ok")
        else:
            c.sendall(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: target\r\n\r\nbye")
            return False
    elif p0 == "redirect-abs":
        resp(c, "301 Moved", b"", "Location: http://127.0.0.1:%d/len/3\r\n" % port)
    elif p0 == "redirect-file":
        resp(c, "302 Found", b"", "Location: file:///etc/hostname\r\n")
    elif p0 == "loop":
        resp(c, "302 Found", b"", "Location: /loop\r\n")
    elif p0 == "status":
        resp(c, "%d Whatever" % n, b"error page " * 10)
    elif p0 == "big-announced":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + b"b" * 65536)
        time.sleep(2)
        return False
    elif p0 == "endless-chunked":
        endless(c, True)
    elif p0 == "endless-close":
        endless(c, False)
    elif p0 == "trickle":  # headers, then a byte every 0.2 s
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            c.sendall(b".")
            time.sleep(0.2)
    elif p0 == "chunk-ext-trickle":  # 1-byte chunks padded with extensions: fast framing, slow data
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in range(30):
            c.sendall(b"1;pad=" + b"e" * 1200 + b"\r\nX\r\n")
            time.sleep(0.2)
        c.sendall(b"0\r\n\r\n")
    elif p0 == "trickle-head":  # the head itself, a byte every 0.2 s
        for b in b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nX-Slow: " + b"s" * 1000:
            c.sendall(bytes([b]))
            time.sleep(0.2)
    elif p0 == "hang":  # accepted, never answered
        time.sleep(10)
        return False
    elif p0 == "header-bomb":  # headers without end
        c.sendall(b"HTTP/1.1 200 OK\r\n")
        for i in range(2000):
            c.sendall(b"X-Bomb-%d: %s\r\n" % (i, b"b" * 100))
        time.sleep(2)
        return False
    elif p0 == "many-headers":
        c.sendall(b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(101))
                  + b"Content-Length: 0\r\n\r\n")
    elif p0 == "bad-status":
        c.sendall(b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n")
        return False
    elif p0 == "bad-chunk":
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n")
        return False
    elif p0 == "obs-fold":
        c.sendall(b"HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\nContent-Length: 0\r\n\r\n")
        return False
    elif p0 == "dup-length":
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!")
        return False
    elif p0 == "gzip":
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")
        return False
    elif p0 == "reset":
        rst_close(c)
        return False
    elif p0 == "range":
        return handle_range(c, head, parts[1])
    elif p0 == "stats":
        with LOCK:
            body = ("%(plain)d %(tls)d %(proxy)d %(connect)d" % STATS).encode()
        resp(c, "200 OK", body, "Connection: close\r\n")
        return False
    else:
        resp(c, "404 Not Found", b"unknown test path")
    return True


def serve_conn(c, kind, port, tls_ctx):
    try:
        if tls_ctx:
            c = tls_ctx.wrap_socket(c, server_side=True)
        rest = b""
        while True:
            head, rest = read_head(c, rest)
            if head is None or not handle(c, head, rest, kind, port):
                break
            rest = b""
    except (OSError, ValueError, ssl.SSLError):
        pass
    finally:
        try:
            c.close()
        except OSError:
            pass


def relay(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve_proxy(c):
    """An http:// proxy: absolute-form GETs answered itself, CONNECT tunnelled."""
    try:
        head, rest = read_head(c)
        if head is None:
            return
        method, target, _ = head.split("\r\n")[0].split(" ", 2)
        if method == "GET":
            resp(c, "200 OK", ("via proxy: " + target).encode(), "Connection: close\r\n")
            return
        host, _, port = target.rpartition(":")
        if method != "CONNECT" or port == "1":
            c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        with LOCK:
            STATS["connect"] += 1
        o = socket.create_connection(("127.0.0.1", int(port)))
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        t = threading.Thread(target=relay, args=(o, c), daemon=True)
        t.start()
        relay(c, o)
        t.join(5)
    except OSError:
        pass
    finally:
        c.close()


def listener(family, addr):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 0))
    s.listen(64)
    return s


def accept_loop(s, kind, tls_ctx=None):
    port = s.getsockname()[1]
    while True:
        c, _ = s.accept()
        with LOCK:
            STATS[kind] += 1
        target = serve_proxy if kind == "proxy" else serve_conn
        args = (c,) if kind == "proxy" else (c, kind, port, tls_ctx)
        threading.Thread(target=target, args=args, daemon=True).start()


def main():
    threading.Thread(target=watchdog, daemon=True).start()
    ca, crt, key = make_certs()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    plain = listener(socket.AF_INET, "127.0.0.1")
    tls = listener(socket.AF_INET, "127.0.0.1")
    proxy = listener(socket.AF_INET, "127.0.0.1")
    try:
        v6 = listener(socket.AF_INET6, "::1")
    except OSError:
        v6 = None
    for s, kind, c in ((plain, "plain", None), (tls, "tls", ctx), (proxy, "proxy", None)):
        threading.Thread(target=accept_loop, args=(s, kind, c), daemon=True).start()
    if v6:
        threading.Thread(target=accept_loop, args=(v6, "plain"), daemon=True).start()
    print("%d %d %d %d %s" % (plain.getsockname()[1], tls.getsockname()[1],
                              proxy.getsockname()[1], v6.getsockname()[1] if v6 else 0, ca),
          flush=True)
    while True:
        time.sleep(60)


main()
