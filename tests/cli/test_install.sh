#!/usr/bin/env bash
# Integration test of the device-side bundle pipeline (client/install.c, issue 6) through
# tests/tools/upk_install_tool against `upkeep-server serve` on loopback: a full install
# equals the image and fetches each stored byte once; a tampered chunk (raw or compressed)
# is refused with exit 10 and not one byte of it is written; a tampered header (tar header,
# manifest, index), a wrong signed header hash or length, a truncated or foreign bundle are
# refused with the slot byte-identical; delta: over a slot holding v1 only the changed
# chunks are fetched, and with v1 as a seed an insertion costs only the chunks around it;
# the same from a file (offline); a decompression bomb; servers that send too much, ignore
# ranges, trickle (exit 3), fail (retried with back-off) or cut a transfer (resumed from the
# first chunk not written). Resume after kill -9 (64 MiB, 20 interruptions) is
# test_install_resume.sh, a test of its own so that ctest runs the two in parallel.
. "$(dirname "$0")/test_repo_lib.bash"

T="$UPKEEP_BUILD_DIR/tests/upk_install_tool"
[ -x "$T" ] || fail "no $T"

mkdir in
# v1: 3 MiB of random and text regions; v2: two regions changed in place; v3: v1 with
# 8 KiB inserted at 1 MiB (block aligned) and one region changed.
"$PY" - <<'EOF'
import random
r = random.Random(11)
img = bytearray()
while len(img) < 3 * 1024 * 1024:
    if len(img) // 400000 % 2:
        img += b"".join(b"config line %d\n" % i for i in range(30000))[:400000]
    else:
        img += r.randbytes(400000)
v1 = bytes(img[: 3 * 1024 * 1024])
open("in/v1.img", "wb").write(v1)
v2 = bytearray(v1)
v2[500000:500100] = r.randbytes(100)
v2[2500000:2500050] = r.randbytes(50)
open("in/v2.img", "wb").write(bytes(v2))
v3 = bytearray(v1[: 1 << 20] + r.randbytes(8192) + v1[1 << 20 :])
v3[2000000:2000010] = r.randbytes(10)
open("in/v3.img", "wb").write(bytes(v3))
head = r.randbytes(1024 * 1024)
open("in/fill.img", "wb").write(head * 4)
EOF
COMMON=(--product cam --hardware rev-a --security-version 1 --kind feature
	--build-time 2026-01-01T00:00:00Z)
repo="$work/repo"
mkdir -p "$repo/metadata" "$repo/targets"
for v in 1 2 3; do
	expect 0 "$S" bundle create --out "$repo/targets/cam-$v.upk" "${COMMON[@]}" \
		--version "$v.0.0" --firmware "in/v$v.img"
	expect 0 "$S" bundle info "$repo/targets/cam-$v.upk" --json --chunks
	cp "$OUT" "io/info$v.json"
done
hlen=$(json io/info1.json "d['header']['length']")
hsha=$(json io/info1.json "d['header']['sha256']")
blen=$(stat -c %s "$repo/targets/cam-1.upk")
serve_start --access-log "$work/io/access.log"
LOG=$work/io/access.log

# install BUNDLE_NAME INFO_JSON EXTRA_ARGS...: the tool on the served bundle
install_args() {
	local name=$1 info=$2
	echo --bundle-url "$BASE/targets/$name" --bundle-length "$(stat -c %s "$repo/targets/$name")" \
		--header-len "$(json "$info" "d['header']['length']")" \
		--header-sha256 "$(json "$info" "d['header']['sha256']")" --component firmware
}

# Bytes served and range requests for one path since the log was last cleared.
served_bytes() {
	awk -v p="/targets/$1" '$2 == p && $5 ~ /^[0-9]+$/ { s += $5 } END { print s + 0 }' "$LOG"
}
served_requests() {
	awk -v p="/targets/$1" '$2 == p { n++ } END { print n + 0 }' "$LOG"
}
stat_of() { # FIELD from the last JSON line of stdout
	tail -n 1 "$OUT" | "$PY" -c "import json, sys; print(json.load(sys.stdin)['$1'])"
}

# ---- full install ----
: >"$LOG"
# shellcheck disable=SC2046
expect 0 "$T" $(install_args cam-1.upk io/info1.json) --out slot1 --state state1 --json-progress
cmp -s slot1 in/v1.img || fail "installed slot differs from the image"
[ "$(stat_of event)" = "done" ] || fail "no done event"
[ "$(stat_of from_net)" = "$(json io/info1.json "d['components'][0]['chunks']")" ] ||
	fail "every chunk should come from the network"
grep -q '^done [0-9]*$' state1 || fail "journal not complete"
# Each stored byte once: the header and the chunks (not the tar padding after them).
stored=$(json io/info1.json "d['components'][0]['stored_bytes']")
[ "$(served_bytes cam-1.upk)" = $((hlen + stored)) ] ||
	fail "served $(served_bytes cam-1.upk), want header $hlen + chunks $stored"
# Installing again: every chunk is journaled, nothing fetched but the header.
: >"$LOG"
# shellcheck disable=SC2046
expect 0 "$T" $(install_args cam-1.upk io/info1.json) --out slot1 --state state1
out_has '49 journaled|[0-9]+ journaled, 0 in place, 0 from seeds, 0 fetched'
[ "$(served_bytes cam-1.upk)" = "$hlen" ] || fail "a journaled install fetched chunks"
# The same from the file (offline): no server involved.
expect 0 "$T" --bundle-file "$repo/targets/cam-1.upk" --header-len "$hlen" --header-sha256 "$hsha" \
	--component firmware --out slot1f --state state1f
cmp -s slot1f in/v1.img || fail "offline install differs from the image"
# A model file in a staging directory: a longer stale file is cut to the component's size.
cp in/fill.img model1
expect 0 "$T" --bundle-file "$repo/targets/cam-1.upk" --header-len "$hlen" --header-sha256 "$hsha" \
	--component firmware --out model1 --state statem --truncate
cmp -s model1 in/v1.img || fail "--truncate: the model file differs from the component"

# ---- refusals that leave the slot byte-identical ----
# refuse CODE BUNDLE_NAME ARGS...: the tool exits CODE and a pre-filled slot is unchanged.
refuse() {
	local code=$1 name=$2
	shift 2
	cp in/fill.img slotx
	rm -f statex
	expect "$code" "$T" --bundle-url "$BASE/targets/$name" --component firmware \
		--out slotx --state statex "$@"
	cmp -s slotx in/fill.img || fail "a refused install ($name $*) changed the slot"
	[ ! -e statex ] || fail "a refused install wrote a journal"
}
OK_ARGS=(--bundle-length "$blen" --header-len "$hlen")
refuse 10 cam-1.upk "${OK_ARGS[@]}" --header-sha256 "$(json io/info2.json "d['header']['sha256']")"
refuse 10 cam-1.upk --bundle-length "$blen" --header-len $((hlen + 512)) --header-sha256 "$hsha"
refuse 10 cam-1.upk --bundle-length "$blen" --header-len 100 --header-sha256 "$hsha"
refuse 10 cam-1.upk --bundle-length $((blen + 512)) --header-len "$hlen" --header-sha256 "$hsha"
refuse 2 cam-1.upk "${OK_ARGS[@]}" --header-sha256 "${hsha:0:10}"
refuse 1 cam-1.upk "${OK_ARGS[@]}" --header-sha256 "$hsha" --component nosuch
refuse 1 missing.upk "${OK_ARGS[@]}" --header-sha256 "$hsha"
refuse 2 cam-1.upk --header-len "$hlen" --header-sha256 "$hsha" # no signed length
# A bundle of another release under the signed header hash of v1.
cp "$repo/targets/cam-2.upk" "$repo/targets/other.upk"
refuse 10 other.upk "${OK_ARGS[@]}" --header-sha256 "$hsha"
# flip NAME OFFSET: a served copy of cam-1.upk with one byte flipped.
flip() {
	cp "$repo/targets/cam-1.upk" "$repo/targets/$1"
	"$PY" - "$repo/targets/$1" "$2" <<'EOF'
import sys
f = open(sys.argv[1], "r+b")
f.seek(int(sys.argv[2]))
b = f.read(1)
f.seek(int(sys.argv[2]))
f.write(bytes([b[0] ^ 0x40]))
EOF
}
idx_off=$(json io/info1.json "d['components'][0]['index_offset']")
for off in 10 148 600 $((idx_off + 3)) $((idx_off + 16 + 45)) $((hlen - 1)); do
	flip hdr.upk "$off"
	refuse 10 hdr.upk "${OK_ARGS[@]}" --header-sha256 "$hsha"
done
# Truncated bundle: the last chunk's range cannot be served in full.
head -c $((hlen + stored - 100)) "$repo/targets/cam-1.upk" >"$repo/targets/trunc.upk"
cp in/fill.img slotx
rm -f statex
expect 10 "$T" --bundle-url "$BASE/targets/trunc.upk" "${OK_ARGS[@]}" --header-sha256 "$hsha" \
	--component firmware --out slotx --state statex

# A decompression bomb (test_bundle.sh's writer): a valid header whose one chunk inflates
# past its declared size; refused while inflating, nothing written.
"$PY" "$UPKEEP_SOURCE_DIR/tests/tools/write_bomb_bundle.py" "$repo/targets/bomb.upk" ||
	fail "writing the bomb"
expect 0 "$S" bundle info "$repo/targets/bomb.upk" --json
cp "$OUT" io/bomb.json
refuse 10 bomb.upk --bundle-length "$(stat -c %s "$repo/targets/bomb.upk")" --component m \
	--header-len "$(json io/bomb.json "d['header']['length']")" \
	--header-sha256 "$(json io/bomb.json "d['header']['sha256']")"
grep -qi 'size limit' "$ERR" || fail "the bomb was not refused as too large"

# ---- misbehaving servers (a Python server on loopback; mode in the URL path) ----
# long: 206 with more bytes than asked; full: 200 with the whole file (ranges ignored);
# slow: a trickle of 10 bytes/s; e500: always 500; flaky: two ranges fail once, then work;
# cut: the header and the 3rd range are cut halfway once.
cat >io/badserver.py <<'EOF'
import http.server, os, sys, threading, time
root, portfile, logfile = sys.argv[1], sys.argv[2], sys.argv[3]
seen, lock = set(), threading.Lock()  # (mode, range) asked for
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def do_GET(self):
        mode, name = self.path.strip("/").split("/", 1)
        data = open(os.path.join(root, name), "rb").read()
        rng = self.headers.get("Range", "")
        with open(logfile, "a") as f:
            f.write("%s %s\n" % (mode, rng))
        a, b = (int(x) for x in rng[len("bytes="):].split("-"))
        body, status = data[a : b + 1], 206
        if mode == "long":
            body = data[a : b + 100]
        elif mode == "full":
            body, status = data, 200
        elif mode == "e500":
            body, status = b"oops", 500
        elif mode == "flaky" or mode == "cut":
            with lock:
                # The first try of the header and of the 3rd range asked for fails:
                # flaky with a 500, cut by closing the connection halfway through.
                nth = sum(1 for m, _ in seen if m == mode)
                first = (mode, rng) not in seen and nth in (0, 2)
                seen.add((mode, rng))
            if first and mode == "flaky":
                body, status = b"oops", 500
            elif first:
                self.send_response(206)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2 + 7])
                self.wfile.flush()
                self.close_connection = True
                return
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        if status == 206:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (a, a + len(body) - 1, len(data)))
        self.end_headers()
        if mode == "slow":
            for i in range(0, len(body), 10):
                self.wfile.write(body[i : i + 10])
                self.wfile.flush()
                time.sleep(1)
        else:
            self.wfile.write(body)
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
open(portfile + ".tmp", "w").write(str(s.server_address[1]))
os.rename(portfile + ".tmp", portfile)
s.serve_forever()
EOF
"$PY" io/badserver.py "$repo/targets" io/badport io/badlog 2>io/badserver.err &
badserver=$!
cleanup_hooks+=("kill $badserver 2>/dev/null; wait $badserver 2>/dev/null")
for _ in $(seq 1 400); do
	[ -s io/badport ] && break
	sleep 0.05
done
[ -s io/badport ] || fail "the Python server did not start"
BAD="http://127.0.0.1:$(cat io/badport)"
# bad MODE CODE: install cam-1.upk through MODE; exit CODE, pre-filled slot unchanged.
bad() {
	cp in/fill.img slotx
	rm -f statex
	: >io/badlog
	expect "$2" "$T" --bundle-url "$BAD/$1/cam-1.upk" "${OK_ARGS[@]}" --header-sha256 "$hsha" \
		--component firmware --out slotx --state statex --low-speed 1000 --low-speed-window 2
	cmp -s slotx in/fill.img || fail "install through a '$1' server changed the slot"
}
bad long 10
err_has 'data exceeds its size limit'
bad full 3
err_has 'ranges not supported'
bad slow 3
err_has 'slow retrieval'
bad e500 3
[ "$(grep -c . io/badlog)" = 3 ] || fail "a 500 should be tried 3 times, not $(grep -c . io/badlog)"
# Transient errors are retried: two ranges fail once and the install still succeeds (runs
# of at most 16 chunks, so the 54-chunk image takes four range requests besides the header).
rm -f slotf statef
: >io/badlog
expect 0 "$T" --bundle-url "$BAD/flaky/cam-1.upk" "${OK_ARGS[@]}" --header-sha256 "$hsha" --max-run 16 \
	--component firmware --out slotf --state statef
cmp -s slotf in/v1.img || fail "install through a flaky server differs from the image"
[ "$(sort io/badlog | uniq -d | wc -l)" = 2 ] || fail "flaky: not exactly two ranges retried"
[ "$(grep -c . io/badlog)" = $(($(sort -u io/badlog | wc -l) + 2)) ] ||
	fail "flaky: $(grep -c . io/badlog) requests"
# Cut halfway through a run: the retry asks only for the chunks not yet written.
rm -f slotf statef
: >io/badlog
expect 0 "$T" --bundle-url "$BAD/cut/cam-1.upk" "${OK_ARGS[@]}" --header-sha256 "$hsha" --max-run 16 \
	--component firmware --out slotf --state statef
cmp -s slotf in/v1.img || fail "install through a cutting server differs from the image"
[ "$(sort io/badlog | uniq -d | wc -l)" = 1 ] || fail "cut: only the header is asked twice"
[ "$(grep -c . io/badlog)" = $(($(sort -u io/badlog | wc -l) + 1)) ] ||
	fail "cut: $(grep -c . io/badlog) requests"

# ---- a tampered chunk: exit 10, no byte of it written ----
# Chunk K's stored bytes flipped: raw (random region) and compressed (text region).
read -r raw_k comp_k < <(json io/info1.json "' '.join(str(next(i for i, c in enumerate(d['components'][0]['chunk_list']) if c['raw'] == r)) for r in (True, False))")
if [ "$raw_k" -lt 0 ] || [ "$comp_k" -lt 1 ]; then
	fail "want both raw and compressed chunks"
fi
for k in "$raw_k" "$comp_k" 5; do
	read -r foff coff < <(json io/info1.json "' '.join(str(d['components'][0]['chunk_list'][$k][f]) for f in ('file_offset', 'offset'))")
	flip chunk.upk $((foff + 7))
	# Fresh slot: chunks before K written, nothing from K on.
	rm -f slotc statec
	expect 10 "$T" --bundle-url "$BASE/targets/chunk.upk" "${OK_ARGS[@]}" --header-sha256 "$hsha" \
		--component firmware --out slotc --state statec
	[ "$(stat -c %s slotc)" = "$coff" ] || fail "tampered chunk $k: slot has $(stat -c %s slotc) bytes, want $coff"
	cmp -s slotc <(head -c "$coff" in/v1.img) || fail "chunks before $k are not the image's"
	# Pre-filled slot: the tampered chunk's range still holds the old bytes.
	cp in/fill.img slotc
	rm -f statec
	expect 10 "$T" --bundle-url "$BASE/targets/chunk.upk" "${OK_ARGS[@]}" --header-sha256 "$hsha" \
		--component firmware --out slotc --state statec
	cmp -s <(tail -c +$((coff + 1)) slotc) <(tail -c +$((coff + 1)) in/fill.img) ||
		fail "tampered chunk $k: bytes from its offset on changed"
done

# ---- delta ----
# v2 over a slot holding v1: only chunks whose bytes differ at their offset are fetched.
cp in/v1.img slot2
: >"$LOG"
# shellcheck disable=SC2046
expect 0 "$T" $(install_args cam-2.upk io/info2.json) --out slot2 --state state2 --json-progress
cmp -s slot2 in/v2.img || fail "delta install differs from v2"
want=$("$PY" - <<'EOF'
import hashlib, json
d = json.load(open("io/info2.json"))
v1 = open("in/v1.img", "rb").read()
changed = [c for c in d["components"][0]["chunk_list"]
           if hashlib.sha256(v1[c["offset"]:c["offset"] + c["size"]]).hexdigest() != c["sha256"]]
print(len(changed), sum(c["stored_size"] for c in changed))
EOF
)
read -r want want_bytes <<<"$want"
if [ "$want" -lt 1 ] || [ "$want" -gt 4 ]; then
	fail "test data: $want changed chunks"
fi
[ "$(stat_of from_net)" = "$want" ] || fail "delta fetched $(stat_of from_net) chunks, want $want"
# Neighbouring changed chunks share one Range request: count bytes, bound requests.
[ "$(served_bytes cam-2.upk)" = $((hlen + want_bytes)) ] ||
	fail "delta: served $(served_bytes cam-2.upk) bytes, want header $hlen + $want_bytes"
[ "$(served_requests cam-2.upk)" -le $((want + 1)) ] ||
	fail "delta: $(served_requests cam-2.upk) requests for $want chunks"
# v3 (an insertion) into an empty slot with v1 as a seed: the cut rule realigns.
rm -f slot3
: >"$LOG"
# shellcheck disable=SC2046
expect 0 "$T" $(install_args cam-3.upk io/info3.json) --out slot3 --state state3 --seed in/v1.img \
	--json-progress
cmp -s slot3 in/v3.img || fail "seeded install differs from v3"
n3=$(json io/info3.json "d['components'][0]['chunks']")
net=$(stat_of from_net)
[ "$net" -le 5 ] || fail "seeded install fetched $net of $n3 chunks"
[ "$(stat_of from_seed)" = $((n3 - net)) ] || fail "seeded install: $(stat_of from_seed) from the seed"
h3=$(json io/info3.json "d['header']['length']")
[ "$(served_bytes cam-3.upk)" = $((h3 + $(stat_of bytes_fetched))) ] ||
	fail "seeded install: served bytes differ from the chunks fetched"
[ "$(served_requests cam-3.upk)" -le $((net + 1)) ] || fail "seeded install: too many requests"
# A missing seed is an error before anything is written.
cp in/fill.img slotx
# shellcheck disable=SC2046
expect 1 "$T" $(install_args cam-3.upk io/info3.json) --out slotx --state statex --seed in/none
cmp -s slotx in/fill.img || fail "a missing seed changed the slot"

serve_stop
done_ok
