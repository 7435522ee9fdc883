#!/usr/bin/env bash
# CLI test of `upkeep-client tuf` against a repository that misbehaves:
# rollback, freeze, bad signatures, mix-and-match, endless data and slow
# retrieval, root rotation (good and bad) and fast-forward recovery. Every
# rejection must exit 1 with one error line and leave the trusted metadata
# byte for byte as it was.
. "$(dirname "$0")/test_client_tuf_lib.bash"

new_repo repo --hashes
expect 0 refresh
"$GEN" publish "$REPO" timestamp # v2
expect 0 refresh
cp "$REPO/metadata/timestamp.json" "$work/timestamp-v2.json"
"$GEN" publish "$REPO" timestamp # v3
expect 0 refresh
same_bytes "$MD/timestamp.json" "$REPO/metadata/timestamp.json"

# --- timestamp ---------------------------------------------------------------
cp "$REPO/metadata/timestamp.json" "$work/timestamp-v3.json"
cp "$work/timestamp-v2.json" "$REPO/metadata/timestamp.json"
rejected_unchanged 'timestamp.json: timestamp: version 2 is lower than the trusted 3 \(ROLLBACK\)$' \
	refresh
"$GEN" publish "$REPO" --sign-seeds 99 timestamp # v4, a key root does not list
rejected_unchanged 'timestamp.json: timestamp: 0 of 1 signatures valid, threshold 1 \(THRESHOLD\)$' \
	refresh
"$GEN" set-expires "$REPO" timestamp -1
"$GEN" publish "$REPO" timestamp # v5, expired
rejected_unchanged 'timestamp: version 5 expired at .* \(EXPIRED\)$' refresh
"$GEN" set-expires "$REPO" timestamp 30
# Endless data: a timestamp larger than 16,384 bytes is cut, announced or not.
head -c 20000 /dev/zero | tr '\0' ' ' >"$REPO/metadata/timestamp.json"
rejected_unchanged 'timestamp.json: server announces more than 16384 bytes \(TOO_LARGE\)$' refresh
"$GEN" publish "$REPO" timestamp # v6, good again
expect 0 refresh
same_bytes "$MD/timestamp.json" "$REPO/metadata/timestamp.json"

# --- snapshot ------------------------------------------------------------------
# Timestamp lists snapshot v2's hashes; the server sends other bytes.
"$GEN" publish "$REPO" snapshot timestamp
cp "$REPO/metadata/2.snapshot.json" "$work/snapshot-v2.json"
sed -i "s/1.0.31/1.0.32/" "$REPO/metadata/2.snapshot.json" # same length
before_snapshot=$(sha256sum <"$MD/snapshot.json")
expect 1 refresh
err_is "2.snapshot.json: snapshot: sha256 mismatch \\(HASH\\)$"
# The new timestamp was trusted (and kept); the snapshot was not.
same_bytes "$MD/timestamp.json" "$REPO/metadata/timestamp.json"
[ "$(sha256sum <"$MD/snapshot.json")" = "$before_snapshot" ] || fail "snapshot replaced"
cp "$work/snapshot-v2.json" "$REPO/metadata/2.snapshot.json"
expect 0 refresh
same_bytes "$MD/snapshot.json" "$REPO/metadata/2.snapshot.json"
# A snapshot that drops a targets role the trusted one lists.
"$GEN" delegate "$REPO" targets role "r/*"
"$GEN" publish "$REPO" role targets snapshot timestamp
expect 0 refresh
"$PY" - "$REPO/work/snapshot.json" <<'EOF'
import json, sys
p = sys.argv[1]
s = json.load(open(p))
del s["meta"]["role.json"]
json.dump(s, open(p, "w"))
EOF
"$GEN" publish "$REPO" snapshot timestamp
expect 1 refresh
err_is 'snapshot: role.json is no longer listed \(ROLLBACK\)$'
[ "$(version_of "$MD/snapshot.json")" = 3 ] || fail "snapshot rolled back"
# Targets version lowered in a new snapshot.
"$GEN" set-version "$REPO" targets 0
"$GEN" publish "$REPO" targets
"$PY" - "$REPO/work/snapshot.json" <<'EOF'
import json, sys
p = sys.argv[1]
s = json.load(open(p))
s["meta"]["role.json"] = {"version": 1}
json.dump(s, open(p, "w"))
EOF
"$GEN" publish "$REPO" snapshot timestamp
expect 1 refresh
err_is 'snapshot: lists targets.json version 1, lower than the trusted 2 \(ROLLBACK\)$'
[ "$(version_of "$MD/targets.json")" = 2 ] || fail "targets rolled back"

# --- freeze: an expired root ends the refresh before timestamp -----------------
new_repo frozen
"$GEN" set-expires "$REPO" root -1
"$GEN" publish "$REPO" root
mark
expect 1 refresh
err_is 'root: version 2 expired at .* \(EXPIRED\)$'
requests_are /metadata/2.root.json /metadata/3.root.json
md_files_are root.json
same_bytes "$MD/root.json" "$REPO/metadata/2.root.json"

# --- freeze: the clock passed the trusted timestamp's expiry and the server
# still serves that version: no snapshot is even requested. (Time really
# passes here: libfaketime cannot preload into a clang ASan build.)
new_repo stale
"$GEN" set-expires "$REPO" timestamp 8s
"$GEN" publish "$REPO" timestamp
expect 0 refresh
expires=$("$PY" -c 'import calendar, json, sys, time
e = json.load(open(sys.argv[1]))["signed"]["expires"]
print(calendar.timegm(time.strptime(e, "%Y-%m-%dT%H:%M:%SZ")))' "$MD/timestamp.json")
while [ "$(date +%s)" -le "$expires" ]; do sleep 0.5; done
mark
rejected_unchanged 'timestamp: version 2 expired at .* \(EXPIRED\)$' refresh
requests_are /metadata/2.root.json /metadata/timestamp.json
"$GEN" set-expires "$REPO" timestamp 30
"$GEN" publish "$REPO" timestamp
expect 0 refresh

# --- root rotation ---------------------------------------------------------------
new_repo rotation
expect 0 refresh
"$GEN" rotate-key "$REPO" root 11
"$GEN" publish "$REPO" --sign-seeds 1,11 root # v2: old and new key
"$GEN" publish "$REPO" root                   # v3: new key only
expect 0 refresh
same_bytes "$MD/root.json" "$REPO/metadata/3.root.json"
# Not signed by the trusted root's key.
"$GEN" rotate-key "$REPO" root 12
"$GEN" publish "$REPO" --sign-seeds 12 root # v4
rejected_unchanged '4.root.json: new root, by the trusted root.s keys: root: 0 of 1 signatures valid, threshold 1 \(THRESHOLD\)$' \
	refresh
# Not signed by its own key.
rm "$REPO/metadata/4.root.json"
"$GEN" set-version "$REPO" root 3
"$GEN" publish "$REPO" --sign-seeds 11 root # v4 again
rejected_unchanged 'new root, by its own keys: .*\(THRESHOLD\)$' refresh
# Version skip: 4.root.json that says 5 (properly signed otherwise).
rm "$REPO/metadata/4.root.json"
"$GEN" set-version "$REPO" root 3
"$GEN" publish "$REPO" --sign-seeds 11,12 root # v4, good
mv "$REPO/metadata/4.root.json" "$work/4.root.json"
"$GEN" publish "$REPO" --sign-seeds 11,12 root # v5
mv "$REPO/metadata/5.root.json" "$REPO/metadata/4.root.json"
rejected_unchanged 'root: version 5, expected 4 \(ROLLBACK\)$' refresh
cp "$work/4.root.json" "$REPO/metadata/4.root.json"
mark
expect 0 refresh
requests_are /metadata/4.root.json /metadata/5.root.json /metadata/timestamp.json
same_bytes "$MD/root.json" "$REPO/metadata/4.root.json"

# --- fast-forward recovery: timestamp key rotated, versions start over -----------
new_repo ff
for _ in 1 2 3 4 5 6 7 8 9; do "$GEN" publish "$REPO" timestamp; done
expect 0 refresh
[ "$(version_of "$MD/timestamp.json")" = 10 ] || fail "timestamp not v10"
"$GEN" rotate-key "$REPO" timestamp 21
"$GEN" publish "$REPO" root
"$GEN" set-version "$REPO" timestamp 1
"$GEN" publish "$REPO" timestamp # v2, signed by the new key
mark
expect 0 refresh
requests_are /metadata/2.root.json /metadata/3.root.json /metadata/timestamp.json \
	/metadata/1.snapshot.json
[ "$(version_of "$MD/timestamp.json")" = 2 ] || fail "timestamp not recovered"
md_files_are root.json timestamp.json snapshot.json targets.json

# --- slow retrieval and endless data from a hostile server ---------------------
cat >"$work/hostile.py" <<'EOF'
# GET /slow/...: headers, then one byte a second. GET /endless/...: no length, bytes forever.
import socket, sys, threading, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
print(srv.getsockname()[1], flush=True)
def handle(c):
    try:
        req = c.recv(4096).decode("latin1")
        path = req.split(" ")[1]
        if path.startswith("/slow/"):
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            for _ in range(1000):
                c.sendall(b" ")
                time.sleep(1)
        else:
            c.sendall(b"HTTP/1.0 200 OK\r\n\r\n")
            while True:
                c.sendall(b" " * 65536)
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF
: >"$work/hostile.port"
"$PY" -u "$work/hostile.py" >"$work/hostile.port" &
server_pids+=("$!")
for _ in $(seq 50); do [ -s "$work/hostile.port" ] && break; sleep 0.1; done
HPORT=$(cat "$work/hostile.port")
cp -r "$MD" "$work/md-saved"
hostile() {
	"$CLIENT" tuf --metadata-dir "$MD" --metadata-url "http://127.0.0.1:$HPORT/$1/" \
		--low-speed-limit 100 --low-speed-time 2 refresh
}
rejected_unchanged '/slow/3.root.json: Operation too slow.* \(SLOW\)$' hostile slow
rejected_unchanged '/endless/3.root.json: more than 512000 bytes \(TOO_LARGE\)$' hostile endless
diff -r "$MD" "$work/md-saved" >/dev/null || fail "metadata dir changed"

echo "ok: $checks checks"
