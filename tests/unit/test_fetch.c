/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client/fetch: the HTTP/1.1 transport against real servers on loopback.
 * tests/cli/http_testserver.py (run with /usr/bin/python3) plays scripted
 * behaviours selected by the path: framings, keep-alive and closes,
 * redirects, statuses, endless and slow data, malformed responses, ranges,
 * TLS with a throwaway CA, and an HTTP proxy. Every test is bounded in time
 * (slow-retrieval windows of 1 s, a connect timeout of 1 s).
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "buf.h"
#include "fetch.h"

static struct {
	pid_t pid;
	int plain, tls, proxy, v6;
	char ca[1024];
	char dir[512];
} srv;

static const char *const proxy_vars[] = { "http_proxy",	 "HTTP_PROXY", "https_proxy",
					  "HTTPS_PROXY", "all_proxy",  "ALL_PROXY",
					  "no_proxy",	 "NO_PROXY",   NULL };

static void clear_env(void)
{
	for (const char *const *v = proxy_vars; *v; v++)
		unsetenv(*v);
	unsetenv("SSL_CERT_FILE");
}

static int group_setup(void **state)
{
	const char *src = getenv("UPKEEP_SOURCE_DIR");
	char script[1024], line[2048];
	int fds[2];
	FILE *in;

	clear_env();
	upk_test_tmpdir(srv.dir, sizeof(srv.dir), "upk-fetch");
	snprintf(script, sizeof(script), "%s/tests/cli/http_testserver.py", src ? src : ".");
	if (pipe(fds) != 0)
		return -1;
	srv.pid = fork();
	if (srv.pid < 0)
		return -1;
	if (srv.pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execl("/usr/bin/python3", "python3", script, srv.dir, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	in = fdopen(fds[0], "r");
	if (!in || !fgets(line, sizeof(line), in) ||
	    sscanf(line, "%d %d %d %d %1023s", &srv.plain, &srv.tls, &srv.proxy, &srv.v6, srv.ca) !=
		    5) {
		fprintf(stderr, "the test server did not start (%s)\n", script);
		return -1;
	}
	fclose(in);
	return 0;
}

static int group_teardown(void **state)
{
	if (srv.pid > 0) {
		kill(srv.pid, SIGTERM);
		waitpid(srv.pid, NULL, 0);
	}
	upk_test_rmdir(srv.dir);
	return 0;
}

static int test_setup(void **state)
{
	clear_env();
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static char url_buf[4][2048];

/* A URL on the plain server (the buffer is reused every 4 calls). */
static const char *U(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *U(const char *fmt, ...)
{
	static unsigned n;
	char *u = url_buf[n++ % 4];
	char path[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(u, sizeof(url_buf[0]), "http://127.0.0.1:%d%s", srv.plain, path);
	return u;
}

static struct upkc_fetch *new_fetch(long low_bytes, long window)
{
	struct upkc_fetch_opts o = { .connect_timeout_s = 1,
				     .low_speed_bytes = low_bytes,
				     .low_speed_window_s = window };
	struct upkc_fetch *f = NULL;

	assert_int_equal(upkc_fetch_new(&o, &f, NULL), UPK_OK);
	return f;
}

struct count {
	uint64_t bytes, stop_at; /* stop_at: UPK_E_HASH once this many arrived (0: never) */
	unsigned calls;
	enum upk_err ret;
};

static enum upk_err count_sink(void *ctx, const uint8_t *data, size_t len)
{
	struct count *c = ctx;

	c->calls++;
	c->bytes += len;
	if (c->stop_at && c->bytes >= c->stop_at)
		return UPK_E_HASH;
	return c->ret;
}

/* GET url into out; the result. */
static enum upk_err get(struct upkc_fetch *f, const char *url, size_t max, struct upk_buf *out,
			struct upk_diag *d)
{
	upk_buf_done(out);
	upk_diag_clear(d);
	return upkc_fetch_bytes(f, url, max, out, d);
}

static void assert_body(const struct upk_buf *b, const char *want)
{
	assert_int_equal(b->len, strlen(want));
	assert_memory_equal(b->data, want, b->len);
}

static void assert_filled(const struct upk_buf *b, size_t n, char c)
{
	assert_int_equal(b->len, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(b->data[i], c);
}

static void assert_reason(const struct upk_diag *d, const char *part)
{
	if (!strstr(d->reason, part))
		fail_msg("reason '%s' lacks '%s'", d->reason, part);
}

/* The failure, its reason and where, and nothing passed to the sink. */
static void assert_refused(struct upkc_fetch *f, const char *url, uint64_t max, enum upk_err want,
			   const char *reason)
{
	struct count c = { 0 };
	struct upk_diag d = { 0 };
	enum upk_err r = upkc_fetch_stream(f, url, max, count_sink, &c, &d);

	if (r != want)
		fail_msg("%s: %s (%s), want %s", url, upk_err_name(r), d.reason,
			 upk_err_name(want));
	assert_int_equal(d.err, want);
	assert_string_equal(d.where, url);
	assert_reason(&d, reason);
	assert_int_equal(c.bytes, 0);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- framing and keep-alive --------------------------------------------- */

static void test_length_keepalive(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct upk_buf b = UPK_BUF_INIT;

	for (int i = 0; i < 5; i++) {
		assert_int_equal(get(f, U("/len/%d", 100 + i), 1000, &b, NULL), UPK_OK);
		assert_filled(&b, (size_t)(100 + i), 'a');
	}
	/* Empty bodies and a body of exactly max_len. */
	assert_int_equal(get(f, U("/len/0"), 0, &b, NULL), UPK_OK);
	assert_int_equal(b.len, 0);
	assert_int_equal(get(f, U("/len/64"), 64, &b, NULL), UPK_OK);
	assert_int_equal(upkc_fetch_requests(f), 7);
	assert_int_equal(upkc_fetch_connections(f), 1);
	upk_buf_done(&b);
}

static void test_chunked(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct upk_buf b = UPK_BUF_INIT;

	assert_int_equal(get(f, U("/chunked/1000"), 1000, &b, NULL), UPK_OK);
	assert_filled(&b, 1000, 'c');
	/* Read to its trailers, the connection is reused. */
	assert_int_equal(get(f, U("/chunked/1"), 1000, &b, NULL), UPK_OK);
	assert_filled(&b, 1, 'c');
	assert_int_equal(get(f, U("/continue"), 10, &b, NULL), UPK_OK); /* 100 skipped */
	assert_body(&b, "ok");
	assert_int_equal(upkc_fetch_connections(f), 1);
	upk_buf_done(&b);
}

static void test_close_delimited(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct upk_buf b = UPK_BUF_INIT;

	assert_int_equal(get(f, U("/close/777"), 777, &b, NULL), UPK_OK);
	assert_filled(&b, 777, 'z');
	assert_int_equal(get(f, U("/http10/9"), 100, &b, NULL), UPK_OK);
	assert_filled(&b, 9, 't');
	/* Neither connection could be kept. */
	assert_int_equal(get(f, U("/len/1"), 100, &b, NULL), UPK_OK);
	assert_int_equal(upkc_fetch_connections(f), 3);
	upk_buf_done(&b);
}

static void test_reconnect_idle_closed(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct upk_buf b = UPK_BUF_INIT;
	struct timespec ts = { 0, 400000000L };

	/* The server closes the kept-alive connection while idle. */
	assert_int_equal(get(f, U("/idle-close/3"), 100, &b, NULL), UPK_OK);
	nanosleep(&ts, NULL);
	assert_int_equal(get(f, U("/len/4"), 100, &b, NULL), UPK_OK);
	assert_filled(&b, 4, 'a');
	assert_int_equal(upkc_fetch_connections(f), 2);
	/* It reads the next request and closes without an answer: sent again once. */
	assert_int_equal(get(f, U("/drop-next"), 100, &b, NULL), UPK_OK);
	assert_body(&b, "dn");
	assert_int_equal(upkc_fetch_connections(f), 2);
	assert_int_equal(get(f, U("/len/5"), 100, &b, NULL), UPK_OK);
	assert_filled(&b, 5, 'a');
	assert_int_equal(upkc_fetch_requests(f), 4);
	assert_int_equal(upkc_fetch_connections(f), 3);
	upk_buf_done(&b);
}

/* The request as the server received it: path encoding, Host, no Accept-Encoding. */
static void test_request_form(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct upk_buf b = UPK_BUF_INIT;
	const char *line = "GET /echo/a%20b%5Bc%7F%C3%A9?x=1%20 HTTP/1.1\r\n";
	char want[256];

	assert_int_equal(get(f, U("/echo/a b%%5Bc\x7f\xc3\xa9?x=1%%20#frag"), 4096, &b, NULL),
			 UPK_OK);
	assert_int_equal(upk_buf_append(&b, "", 1), UPK_OK);
	if (strncmp((char *)b.data, line, strlen(line)) != 0)
		fail_msg("request line: %s", (char *)b.data);
	snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%d\r\n", srv.plain);
	assert_non_null(strstr((char *)b.data, want));
	assert_non_null(strstr((char *)b.data, "\r\nUser-Agent: upkeep-client"));
	assert_null(strstr((char *)b.data, "Accept-Encoding"));
	assert_null(strstr((char *)b.data, "Range"));
	/* No path: "/". */
	snprintf(want, sizeof(want), "http://127.0.0.1:%d", srv.plain);
	assert_int_equal(get(f, want, 4096, &b, NULL), UPK_E_NOT_FOUND);
	if (srv.v6) {
		snprintf(want, sizeof(want), "http://[::1]:%d/echo/6", srv.v6);
		assert_int_equal(get(f, want, 4096, &b, NULL), UPK_OK);
		assert_int_equal(upk_buf_append(&b, "", 1), UPK_OK);
		snprintf(want, sizeof(want), "\r\nHost: [::1]:%d\r\n", srv.v6);
		assert_non_null(strstr((char *)b.data, want));
	}
	upk_buf_done(&b);
}

static void test_url_refused(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	static const char *const bad[] = {
		"http://user:pw@127.0.0.1/x",
		"http://user@127.0.0.1/x",
		"ftp://127.0.0.1/x",
		"gopher:x",
		"http:///x",
		"http://127.0.0.1:99999/x",
		"http://127.0.0.1:8a/x",
		"http://[::1/x",
		"http://[zz::1]/x",
		"http://a%20b/x",
		"file:///etc/hostname",
		"",
	};
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;

	for (size_t i = 0; i < UPK_ARRAY_SIZE(bad); i++) {
		if (get(f, bad[i], 100, &b, &d) != UPK_E_USAGE)
			fail_msg("'%s' not refused as USAGE: %s", bad[i], d.reason);
		assert_string_equal(d.where, bad[i]);
	}
	assert_int_equal(upkc_fetch_connections(f), 0);
	upk_buf_done(&b);
}

static void test_file_urls(void **state)
{
	struct upkc_fetch_opts o = { .allow_file = true };
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = NULL;
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	char path[1024], url[1200];
	FILE *fp;

	assert_int_equal(upkc_fetch_new(&o, &f, NULL), UPK_OK);
	snprintf(path, sizeof(path), "%s/a file", srv.dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("offline", fp);
	fclose(fp);
	snprintf(url, sizeof(url), "file://%s/a%%20file", srv.dir);
	assert_int_equal(get(f, url, 7, &b, &d), UPK_OK);
	assert_body(&b, "offline");
	assert_int_equal(get(f, url, 6, &b, &d), UPK_E_TOO_LARGE);
	assert_int_equal(b.len, 0);
	snprintf(url, sizeof(url), "file://%s/missing", srv.dir);
	assert_int_equal(get(f, url, 100, &b, &d), UPK_E_NOT_FOUND);
	assert_string_equal(d.where, url);
	assert_int_equal(get(f, "file://otherhost/etc/hostname", 100, &b, &d), UPK_E_USAGE);
	/* Ranges are for http and https only. */
	assert_int_equal(upkc_fetch_range(f, url, 0, 1, count_sink, NULL, &d), UPK_E_USAGE);
	upk_buf_done(&b);
}

/* ---- redirects and statuses --------------------------------------------- */

static void test_redirects(void **state)
{
	struct upkc_fetch_opts o = { .allow_file = true };
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = NULL;
	struct upk_buf b = UPK_BUF_INIT;

	assert_int_equal(upkc_fetch_new(&o, &f, NULL), UPK_OK);
	assert_int_equal(get(f, U("/redirect/5"), 100, &b, NULL), UPK_OK);
	assert_body(&b, "arrived");
	/* The redirect bodies were drained: one connection for six requests. */
	assert_int_equal(upkc_fetch_connections(f), 1);
	assert_int_equal(upkc_fetch_requests(f), 1);
	assert_int_equal(get(f, U("/relative/a/b"), 100, &b, NULL), UPK_OK);
	assert_body(&b, "relative ok");
	assert_int_equal(get(f, U("/redirect-abs"), 100, &b, NULL), UPK_OK);
	assert_filled(&b, 3, 'a');
	assert_refused(f, U("/redirect/6"), 100, UPK_E_SERVER, "more than 5 redirects");
	assert_refused(f, U("/loop"), 100, UPK_E_SERVER, "more than 5 redirects");
	/* Never file://, even when allowed for the URL given. */
	assert_refused(f, U("/redirect-file"), 100, UPK_E_SERVER, "redirect refused");
	upk_buf_done(&b);
}

static void test_statuses(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);

	assert_refused(f, U("/status/404"), 1000, UPK_E_NOT_FOUND, "HTTP status 404");
	assert_refused(f, U("/status/403"), 1000, UPK_E_NOT_FOUND, "HTTP status 403");
	assert_refused(f, U("/status/500"), 1000, UPK_E_SERVER, "HTTP status 500");
	assert_refused(f, U("/status/410"), 1000, UPK_E_SERVER, "HTTP status 410");
	/* An error page longer than max_len is still the status. */
	assert_refused(f, U("/status/404"), 5, UPK_E_NOT_FOUND, "HTTP status 404");
	/* A 3xx without Location is an error, not a body. */
	assert_refused(f, U("/status/302"), 1000, UPK_E_SERVER, "HTTP status 302");
	/* The small error bodies were drained: the connection stayed. */
	assert_int_equal(upkc_fetch_connections(f), 1);
}

static void test_sink_error_passed(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct count c = { .ret = UPK_E_HASH };
	struct upk_diag d = { 0 };

	assert_int_equal(upkc_fetch_stream(f, U("/len/10"), 100, count_sink, &c, &d), UPK_E_HASH);
	assert_int_equal(c.calls, 1);
	c.ret = UPK_OK;
	assert_int_equal(upkc_fetch_stream(f, U("/len/10"), 100, count_sink, &c, &d), UPK_OK);
}

/* ---- the length bound ----------------------------------------------------- */

static void test_endless_data(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct count c = { 0 };
	struct upk_diag d = { 0 };

	assert_refused(f, U("/big-announced"), 999999, UPK_E_TOO_LARGE,
		       "server announces more than 999999 bytes");
	assert_int_equal(upkc_fetch_stream(f, U("/endless-chunked"), 100001, count_sink, &c, &d),
			 UPK_E_TOO_LARGE);
	assert_int_equal(c.bytes, 100001);
	assert_reason(&d, "more than 100001 bytes");
	c.bytes = 0;
	assert_int_equal(upkc_fetch_stream(f, U("/endless-close"), 70000, count_sink, &c, &d),
			 UPK_E_TOO_LARGE);
	assert_int_equal(c.bytes, 70000);
	c.bytes = 0;
	assert_int_equal(upkc_fetch_stream(f, U("/close/10"), 9, count_sink, &c, &d),
			 UPK_E_TOO_LARGE);
	assert_int_equal(c.bytes, 9);
	c.bytes = 0;
	assert_int_equal(upkc_fetch_stream(f, U("/chunked/50"), 49, count_sink, &c, &d),
			 UPK_E_TOO_LARGE);
	assert_int_equal(c.bytes, 49);
}

/* ---- slow retrieval and connection failures ---------------------------- */

static void assert_slow(const char *path)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(1000, 1);
	struct count c = { 0 };
	struct upk_diag d = { 0 };
	double t0 = now_s(), el;

	assert_int_equal(upkc_fetch_stream(f, U("%s", path), 100000, count_sink, &c, &d),
			 UPK_E_SLOW);
	el = now_s() - t0;
	if (el < 0.9 || el > 3.5)
		fail_msg("%s: SLOW after %.2f s for a 1 s window", path, el);
	assert_reason(&d, "below 1000 bytes/s for 1 s");
}

static void test_slow(void **state)
{
	assert_slow("/trickle");
	/* 6 KB/s of chunk framing carrying 5 bytes/s of body: only the body counts. */
	assert_slow("/chunk-ext-trickle");
	assert_slow("/trickle-head");
	assert_slow("/hang");
}

static void test_slow_but_fast_enough(void **state)
{
	/* 5 bytes/s for 2 s against a limit of 2 bytes/s over 1 s: no SLOW. */
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(2, 1);
	struct count c = { .stop_at = 10 };

	assert_int_equal(upkc_fetch_stream(f, U("/trickle"), 1000, count_sink, &c, NULL),
			 UPK_E_HASH);
	assert_int_equal(c.bytes, 10);
}

static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
	close(s);
	return ntohs(a.sin_port);
}

static void test_network_errors(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", closed_port());
	assert_refused(f, url, 100, UPK_E_NETWORK, "refused");
	assert_refused(f, "http://no-such-host.invalid/x", 100, UPK_E_NETWORK, "cannot resolve");
	assert_refused(f, U("/reset"), 100, UPK_E_NETWORK, "reset");
}

static void test_connect_timeout(void **state)
{
	/* A listener whose backlog is full drops SYNs: connect() never completes. */
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t l = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), fill[8];
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	char url[128];
	double t0, el;

	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 0), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &l), 0);
	for (size_t i = 0; i < UPK_ARRAY_SIZE(fill); i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		connect(fill[i], (struct sockaddr *)&a, sizeof(a));
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", ntohs(a.sin_port));
	t0 = now_s();
	assert_refused(f, url, 100, UPK_E_TIMEOUT, "timed out after 1 s");
	el = now_s() - t0;
	assert_true(el > 0.9 && el < 3);
	for (size_t i = 0; i < UPK_ARRAY_SIZE(fill); i++)
		close(fill[i]);
	close(s);
}

/* ---- malformed responses -------------------------------------------------- */

static void test_malformed(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);

	assert_refused(f, U("/bad-status"), 100, UPK_E_SERVER, "malformed status line");
	assert_refused(f, U("/header-bomb"), 100, UPK_E_SERVER, "response headers too large");
	assert_refused(f, U("/many-headers"), 100, UPK_E_SERVER, "response headers too large");
	assert_refused(f, U("/obs-fold"), 100, UPK_E_SERVER, "obsolete line folding");
	assert_refused(f, U("/dup-length"), 100, UPK_E_SERVER, "conflicting Content-Length");
	assert_refused(f, U("/gzip"), 100, UPK_E_SERVER, "unsupported Transfer-Encoding");
}

static void test_malformed_chunk(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct count c = { 0 };
	struct upk_diag d = { 0 };

	/* The first chunk was good and passed on; the size line after it is not. */
	assert_int_equal(upkc_fetch_stream(f, U("/bad-chunk"), 100, count_sink, &c, &d),
			 UPK_E_SERVER);
	assert_reason(&d, "malformed chunk size");
	assert_string_equal(d.where, U("/bad-chunk"));
	assert_int_equal(c.bytes, 5);
}

/* ---- ranges ----------------------------------------------------------------- */

struct rangebuf {
	uint8_t data[4096];
	size_t len;
};

static enum upk_err range_sink(void *ctx, const uint8_t *data, size_t len)
{
	struct rangebuf *r = ctx;

	assert_true(len <= sizeof(r->data) - r->len);
	memcpy(r->data + r->len, data, len);
	r->len += len;
	return UPK_OK;
}

static enum upk_err range(struct upkc_fetch *f, const char *mode, uint64_t off, size_t len,
			  struct rangebuf *rb, struct upk_diag *d)
{
	rb->len = 0;
	upk_diag_clear(d);
	return upkc_fetch_range(f, U("/range/%s", mode), off, len, range_sink, rb, d);
}

static void test_ranges(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct rangebuf rb;
	struct upk_diag d;

	assert_int_equal(range(f, "ok", 1000, 300, &rb, &d), UPK_OK);
	assert_int_equal(rb.len, 300);
	for (size_t i = 0; i < 300; i++)
		assert_int_equal(rb.data[i], (1000 + i) % 256);
	assert_int_equal(range(f, "ok", 0, 1, &rb, &d), UPK_OK);
	assert_int_equal(rb.len, 1);
	assert_int_equal(upkc_fetch_connections(f), 1);
	assert_int_equal(range(f, "ignore", 10, 20, &rb, &d), UPK_E_SERVER);
	assert_reason(&d, "ranges not supported");
	assert_int_equal(rb.len, 0);
	assert_int_equal(d.offset, 10);
	assert_int_equal(range(f, "416", 10, 20, &rb, &d), UPK_E_LENGTH);
	assert_int_equal(range(f, "404", 10, 20, &rb, &d), UPK_E_NOT_FOUND);
	assert_int_equal(range(f, "short", 10, 20, &rb, &d), UPK_E_LENGTH);
	assert_reason(&d, "19 bytes of a 20-byte range");
	assert_int_equal(range(f, "long", 10, 20, &rb, &d), UPK_E_TOO_LARGE);
	assert_reason(&d, "more than the 20 bytes asked for");
	assert_int_equal(rb.len, 20);
	assert_int_equal(range(f, "long-announced", 10, 20, &rb, &d), UPK_E_TOO_LARGE);
	assert_int_equal(rb.len, 0);
	assert_int_equal(range(f, "wrong-start", 10, 20, &rb, &d), UPK_E_SERVER);
	assert_reason(&d, "Content-Range");
	assert_int_equal(rb.len, 0);
	assert_int_equal(upkc_fetch_range(f, U("/range/ok"), 0, 0, range_sink, &rb, &d),
			 UPK_E_USAGE);
}

/* ---- TLS and proxies ------------------------------------------------------- */

static void test_tls(void **state)
{
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	char url[256];

	setenv("SSL_CERT_FILE", srv.ca, 1);
	{
		_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);

		snprintf(url, sizeof(url), "https://localhost:%d/len/10", srv.tls);
		assert_int_equal(get(f, url, 100, &b, &d), UPK_OK);
		assert_filled(&b, 10, 'a');
		snprintf(url, sizeof(url), "https://localhost:%d/chunked/100", srv.tls);
		assert_int_equal(get(f, url, 100, &b, &d), UPK_OK);
		assert_filled(&b, 100, 'c');
		assert_int_equal(upkc_fetch_connections(f), 1);
		snprintf(url, sizeof(url), "https://localhost:%d/close/5000", srv.tls);
		assert_int_equal(get(f, url, 5000, &b, &d), UPK_OK);
		assert_filled(&b, 5000, 'z');
		/* The certificate names localhost, not 127.0.0.1. */
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/len/10", srv.tls);
		assert_int_equal(get(f, url, 100, &b, &d), UPK_E_NETWORK);
		assert_reason(&d, "TLS: certificate verify failed");
		/* Plain http to the TLS port: the server's TLS alert is no HTTP response. */
		snprintf(url, sizeof(url), "http://localhost:%d/len/10", srv.tls);
		assert_int_not_equal(get(f, url, 100, &b, &d), UPK_OK);
	}
	/* The system trust store does not know the test CA. */
	unsetenv("SSL_CERT_FILE");
	{
		_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);

		snprintf(url, sizeof(url), "https://localhost:%d/len/10", srv.tls);
		assert_int_equal(get(f, url, 100, &b, &d), UPK_E_NETWORK);
		assert_reason(&d, "TLS: certificate verify failed");
		assert_int_equal(b.len, 0);
	}
	upk_buf_done(&b);
}

static void stats(int v[4])
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct upk_buf b = UPK_BUF_INIT;

	assert_int_equal(get(f, U("/stats"), 100, &b, NULL), UPK_OK);
	assert_int_equal(upk_buf_append(&b, "", 1), UPK_OK);
	assert_int_equal(sscanf((char *)b.data, "%d %d %d %d", &v[0], &v[1], &v[2], &v[3]), 4);
	upk_buf_done(&b);
}

static void test_proxy(void **state)
{
	_cleanup_(upkc_fetch_freep) struct upkc_fetch *f = new_fetch(0, 0);
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	char proxy[128], url[256], want[256];
	int before[4], after[4];

	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", srv.proxy);
	/* Upper-case HTTP_PROXY is ignored (CGI sets it from a request header). */
	setenv("HTTP_PROXY", proxy, 1);
	assert_int_equal(get(f, U("/len/2"), 100, &b, NULL), UPK_OK);
	assert_filled(&b, 2, 'a');
	/* http: the absolute form to the proxy. */
	setenv("http_proxy", proxy, 1);
	assert_int_equal(get(f, U("/len/2?q"), 100, &b, NULL), UPK_OK);
	snprintf(want, sizeof(want), "via proxy: http://127.0.0.1:%d/len/2?q", srv.plain);
	assert_body(&b, want);
	/* no_proxy: a host suffix, or "*". */
	setenv("no_proxy", "example.org, 0.0.1", 1);
	assert_int_equal(get(f, U("/len/2"), 100, &b, NULL), UPK_OK);
	assert_filled(&b, 2, 'a');
	setenv("no_proxy", "example.org,.1", 1);
	assert_int_equal(get(f, U("/len/2"), 100, &b, NULL), UPK_OK);
	assert_filled(&b, 2, 'a');
	setenv("no_proxy", "7.0.0.1", 1); /* not a whole label */
	assert_int_equal(get(f, U("/len/2"), 100, &b, NULL), UPK_OK);
	snprintf(want, sizeof(want), "via proxy: http://127.0.0.1:%d/len/2", srv.plain);
	assert_body(&b, want);
	snprintf(want, sizeof(want), "via proxy: http://127.0.0.1:%d/len/2?q", srv.plain);
	unsetenv("no_proxy");
	/* all_proxy covers http too. */
	unsetenv("http_proxy");
	setenv("ALL_PROXY", proxy, 1);
	assert_int_equal(get(f, U("/len/2?q"), 100, &b, NULL), UPK_OK);
	assert_body(&b, want);
	unsetenv("ALL_PROXY");
	unsetenv("HTTP_PROXY");

	/* https: a CONNECT tunnel, TLS to the origin through it. */
	setenv("SSL_CERT_FILE", srv.ca, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	stats(before);
	snprintf(url, sizeof(url), "https://localhost:%d/len/7", srv.tls);
	assert_int_equal(get(f, url, 100, &b, &d), UPK_OK);
	assert_filled(&b, 7, 'a');
	assert_int_equal(get(f, url, 100, &b, &d), UPK_OK);
	stats(after);
	assert_int_equal(after[3], before[3] + 1); /* one tunnel for both */
	/* The proxy refuses: a network error naming it. */
	snprintf(url, sizeof(url), "https://localhost:1/len/7");
	assert_int_equal(get(f, url, 100, &b, &d), UPK_E_NETWORK);
	assert_reason(&d, "proxy refused CONNECT: HTTP 403");
	/* Only http:// proxies. */
	setenv("HTTPS_PROXY", "socks5://127.0.0.1:1", 1);
	assert_int_equal(get(f, url, 100, &b, &d), UPK_E_USAGE);
	assert_reason(&d, "only http:// proxies");
	/* no_proxy="*": direct. */
	setenv("HTTPS_PROXY", proxy, 1);
	setenv("NO_PROXY", "*", 1);
	snprintf(url, sizeof(url), "https://localhost:%d/len/7", srv.tls);
	stats(before);
	assert_int_equal(get(f, url, 100, &b, &d), UPK_OK);
	stats(after);
	assert_int_equal(after[3], before[3]);
	upk_buf_done(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_length_keepalive, test_setup),
		cmocka_unit_test_setup(test_chunked, test_setup),
		cmocka_unit_test_setup(test_close_delimited, test_setup),
		cmocka_unit_test_setup(test_reconnect_idle_closed, test_setup),
		cmocka_unit_test_setup(test_request_form, test_setup),
		cmocka_unit_test_setup(test_url_refused, test_setup),
		cmocka_unit_test_setup(test_file_urls, test_setup),
		cmocka_unit_test_setup(test_redirects, test_setup),
		cmocka_unit_test_setup(test_statuses, test_setup),
		cmocka_unit_test_setup(test_sink_error_passed, test_setup),
		cmocka_unit_test_setup(test_endless_data, test_setup),
		cmocka_unit_test_setup(test_slow, test_setup),
		cmocka_unit_test_setup(test_slow_but_fast_enough, test_setup),
		cmocka_unit_test_setup(test_network_errors, test_setup),
		cmocka_unit_test_setup(test_connect_timeout, test_setup),
		cmocka_unit_test_setup(test_malformed, test_setup),
		cmocka_unit_test_setup(test_malformed_chunk, test_setup),
		cmocka_unit_test_setup(test_ranges, test_setup),
		cmocka_unit_test_setup(test_tls, test_setup),
		cmocka_unit_test_setup(test_proxy, test_setup),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
