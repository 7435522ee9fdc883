#!/usr/bin/env bash
# The attack matrix of issue 5, through `upkeep-client refresh` (CLI.md exit codes 10-13,
# 3, and a cause naming the attack) and `upkeep-client tuf` (exit 1), against
#   (a) a repository written by upkeep-server, and
#   (b) a repository written by the independent @tufjs/models (tests/interop/make_repo.js),
# both served by upkeep-server serve on 127.0.0.1. After every rejection the trusted
# metadata directory is byte for byte what it was before the failing step.
. "$(dirname "$0")/test_repo_lib.bash"

: "${UPKEEP_SOURCE_DIR:?UPKEEP_SOURCE_DIR must point at the source directory}"
C="$UPKEEP_BUILD_DIR/client/upkeep-client"
MAKE_REPO="$UPKEEP_SOURCE_DIR/tests/interop/make_repo.js"
[ -x "$C" ] || { echo "no $C" >&2; exit 1; }
command -v node >/dev/null || { echo "node is needed (scripts/setup)" >&2; exit 1; }
[ -d "$UPKEEP_SOURCE_DIR/tests/interop/node_modules/@tufjs/models" ] ||
	{ echo "no @tufjs/models: run scripts/setup (npm ci)" >&2; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
ON=(--online-keys online)

# serve_repo DIR: upkeep-server serve for DIR on a free port; sets BASE.
serve_count=0
serve_repo() {
	local out pid
	# A file of its own per server: never a previous server's "listening on" line.
	serve_count=$((serve_count + 1))
	out="$work/io/serve.$serve_count.out"
	"$S" serve --repo "$1" --listen 127.0.0.1:0 >"$out" 2>/dev/null &
	pid=$!
	cleanup_hooks+=("kill $pid 2>/dev/null; wait $pid 2>/dev/null")
	for _ in $(seq 1 100); do
		grep -q '^listening on ' "$out" 2>/dev/null && break
		sleep 0.05
	done
	grep -q '^listening on ' "$out" || fail "upkeep-server serve did not start"
	BASE=$(sed -n 's/^listening on //p' "$out")
}

# device NAME ROOT [METADATA_URL]: a fresh device state and config pinned to ROOT.
device() {
	STATE="$work/$1"
	CONF="$work/$1.conf"
	MD="$STATE/metadata"
	TD="$work/$1.targets"
	cat >"$CONF" <<EOF
[repository]
metadata_url = ${3:-$BASE/metadata/}
targets_url = $BASE/targets/
[device]
state_dir = $STATE
trusted_root = $2
[network]
low_speed_limit = 100
low_speed_time = 2
EOF
}
refresh() { "$C" refresh --config "$CONF"; }
tuf() { "$C" tuf --metadata-dir "$MD" --metadata-url "$BASE/metadata/" "$@"; }

cerr_is() {
	[ "$(wc -l <"$ERR")" = 1 ] || fail "stderr is not one line"
	grep -qE -- '^upkeep-client: ' "$ERR" || fail "stderr is not an upkeep-client line"
	grep -qE -- "$1" "$ERR" || fail "stderr does not match /$1/"
}

# md_state [FILE...]: names and hashes of the trusted metadata, FILEs left out.
md_state() {
	local args=() f
	for f in "$@"; do args+=(! -name "$f"); done
	(cd "$MD" && find . -type f "${args[@]}" -print0 | LC_ALL=C sort -z |
		xargs -0 -r sha256sum)
}

# attack CODE TUF_REGEX REGEX [KEPT...]: `tuf refresh` exits 1 with one error line
# matching TUF_REGEX, `refresh` exits CODE with one line matching REGEX (which names the
# attack class), and neither changes the trusted metadata. KEPT names files a valid
# newer version of which was fetched before the failing step and legitimately kept
# (the spec's order): they are left out of the comparison.
attack() {
	local code=$1 tre=$2 re=$3 before
	shift 3
	before=$(md_state "$@")
	expect 1 tuf refresh
	cerr_is "$tre"
	[ "$(md_state "$@")" = "$before" ] || fail "tuf refresh changed trusted metadata"
	expect "$code" refresh
	cerr_is "$re"
	[ "$(md_state "$@")" = "$before" ] || fail "refresh changed trusted metadata"
	checks=$((checks + 1))
}

# =============================================================================
# (a) a repository written by upkeep-server
# =============================================================================
new_repo
mkdir -p data
printf 'firmware 1\n' >data/fw
expect 0 "$S" publish --repo "$repo" --key keys/targets.key "${ON[@]}" --name fw.bin data/fw
serve_repo "$repo"
cp "$repo/metadata/1.root.json" io/a-root.json
device a "$work/io/a-root.json"
expect 0 refresh

# Arbitrary target: the mirror serves other bytes (longer, then same length) for fw.bin.
# (the repository stores it under its sha256 and its sha512 name; the mirror changes both)
mapfile -t tfiles < <(find "$repo/targets" -type f -name '*.fw.bin')
[ "${#tfiles[@]}" -ge 1 ] || fail "no target file"
cp "${tfiles[0]}" io/fw.good
for f in "${tfiles[@]}"; do printf 'evil firmware, much longer than the signed one\n' >"$f"; done
before=$(tree_state "$MD")
expect 1 tuf --target-name fw.bin --target-base-url "$BASE/targets/" --target-dir "$TD" download
cerr_is 'fw.bin: .*(more than 11 bytes|length).*\((TOO_LARGE|LENGTH)\)$'
for f in "${tfiles[@]}"; do printf 'firmware X\n' >"$f"; done # same length: hash mismatch
expect 1 tuf --target-name fw.bin --target-base-url "$BASE/targets/" --target-dir "$TD" download
cerr_is 'fw.bin: sha(256|512) mismatch \(HASH\)$'
[ -z "$(ls -A "$TD")" ] || fail "a rejected target was left in the target dir"
[ "$(tree_state "$MD")" = "$before" ] || fail "download changed trusted metadata"
for f in "${tfiles[@]}"; do cp io/fw.good "$f"; done
expect 0 tuf --target-name fw.bin --target-base-url "$BASE/targets/" --target-dir "$TD" download
cmp -s "$TD/fw.bin" data/fw || fail "good target not downloaded"

# Rollback of timestamp: the mirror replays an older timestamp.
cp "$repo/metadata/timestamp.json" io/ts.old
expect 0 "$S" refresh --repo "$repo" "${ON[@]}"
expect 0 refresh
cp "$repo/metadata/timestamp.json" io/ts.new
cp io/ts.old "$repo/metadata/timestamp.json"
attack 12 'timestamp.json: timestamp: version 2 is lower than the trusted 3 \(ROLLBACK\)$' \
	'timestamp.json: timestamp: rollback: version 2 is lower than the trusted 3 \(ROLLBACK\)$'

# Threshold not met: a higher timestamp signed by another repository's key.
mkdir other
mkkey other/ts.key
mkkey other/sn.key
expect 0 "$S" init --repo "$work/repo-other" --root-key keys/root.key --targets-key keys/targets.key \
	--snapshot-key other/sn.key --timestamp-key other/ts.key
for _ in 1 2 3 4 5; do expect 0 "$S" refresh --repo "$work/repo-other" --online-keys other; done
cp "$work/repo-other/metadata/timestamp.json" "$repo/metadata/timestamp.json"
attack 11 'timestamp.json: timestamp: 0 of 1 signatures valid, threshold 1 \(THRESHOLD\)$' \
	'timestamp: threshold not met: 0 of 1 signatures valid, threshold 1 \(THRESHOLD\)$'

# Endless data: a timestamp beyond its 16,384-byte bound.
head -c 20000 /dev/zero | tr '\0' ' ' >"$repo/metadata/timestamp.json"
attack 10 'timestamp.json: .*16384 bytes \(TOO_LARGE\)$' \
	'timestamp.json: endless data: .*16384 bytes \(TOO_LARGE\)$'
cp io/ts.new "$repo/metadata/timestamp.json"

# Mix-and-match: the snapshot the timestamp lists is replaced by another snapshot.
expect 0 "$S" refresh --repo "$repo" "${ON[@]}" # snapshot 4, timestamp 4
sn=$(ls "$repo"/metadata/*.snapshot.json | sort -V | tail -n 1)
cp "$sn" io/sn.good
cp "$(ls "$repo"/metadata/*.snapshot.json | sort -V | head -n 1)" "$sn"
expect 10 refresh # the timestamp is new and legitimately kept; the snapshot is not
cerr_is '\.snapshot\.json: snapshot: (length mismatch: .*\(LENGTH\)|hash mismatch: .*\(HASH\))$'
cmp -s "$MD/timestamp.json" "$repo/metadata/timestamp.json" || fail "valid timestamp not kept"
cmp -s "$MD/snapshot.json" io/sn.good && fail "mixed snapshot trusted"
checks=$((checks + 1))
cp io/sn.good "$sn"
expect 0 refresh

# Freeze: the repository signs a timestamp that lives one second; time passes.
expect 0 "$S" refresh --repo "$repo" "${ON[@]}" --expires timestamp=1s
expires=$(json "$repo/metadata/timestamp.json" 'd["signed"]["expires"]')
exp_s=$(date -d "$expires" +%s)
for _ in $(seq 1 40); do [ "$(date +%s)" -gt "$exp_s" ] && break; sleep 0.1; done
attack 13 'timestamp: version [0-9]+ expired at .* \(EXPIRED\)$' \
	'timestamp: freeze: version [0-9]+ expired at .* \(EXPIRED\)$'
expect 0 "$S" refresh --repo "$repo" "${ON[@]}" --expires timestamp=1d
expect 0 refresh

# Slow retrieval: a server that trickles one byte a second (low_speed_time = 2).
cat >io/trickle.py <<'EOF'
import socket, threading, time
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
print(srv.getsockname()[1], flush=True)
def handle(c):
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        for _ in range(100):
            c.sendall(b" ")
            time.sleep(1)
    except OSError:
        pass
    finally:
        c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=handle, args=(c,), daemon=True).start()
EOF
: >io/trickle.port
"$PY" -u io/trickle.py >io/trickle.port &
tpid=$!
cleanup_hooks+=("kill $tpid 2>/dev/null; wait $tpid 2>/dev/null")
for _ in $(seq 1 50); do [ -s io/trickle.port ] && break; sleep 0.1; done
device a "$work/io/a-root.json" "http://127.0.0.1:$(cat io/trickle.port)/metadata/"
before=$(tree_state "$MD")
expect 3 timeout 60 "$C" refresh --config "$CONF"
cerr_is '/metadata/[0-9]+.root.json: slow retrieval: .*\(SLOW\)$'
[ "$(tree_state "$MD")" = "$before" ] || fail "slow retrieval changed trusted metadata"
checks=$((checks + 1))

# =============================================================================
# (b) a repository written by @tufjs/models
# =============================================================================
R="$work/tufjs"
mr() { node "$MAKE_REPO" "$R" "$@" >/dev/null || fail "make_repo.js $*"; }
mr init
serve_repo "$R"
cp "$R/metadata/1.root.json" io/b-root.json
device b "$work/io/b-root.json"
expect 0 refresh
expect 0 tuf --target-name deleg/file2.txt --target-name file1.txt \
	--target-base-url "$BASE/targets/" --target-dir "$TD" download
[ "$(cat "$TD/deleg%2Ffile2.txt")" = "file two" ] || fail "delegated target"
mr publish delegated targets snapshot timestamp # v2 of each
expect 0 refresh
out_has '^trusted: root 1, timestamp 2, snapshot 2, targets 2$'

# save / restore: the repository as the client last followed it.
save() { rm -rf "$work/tufjs.save" && cp -a "$R" "$work/tufjs.save"; }
restore() {
	find "$R/metadata" -type f -delete
	cp -a "$work/tufjs.save/metadata/." "$R/metadata/"
	rm -rf "$R/work" && cp -a "$work/tufjs.save/work" "$R/work"
	cp "$work/tufjs.save/keys.json" "$R/keys.json"
}
save

# Rollback of each role.
mr publish --version 1 timestamp
attack 12 'timestamp: version 1 is lower than the trusted 2 \(ROLLBACK\)$' \
	'timestamp: rollback: version 1 is lower than the trusted 2 \(ROLLBACK\)$'
restore
mr publish --version 1 snapshot
mr publish timestamp
attack 12 'timestamp: lists snapshot version 1, lower than the trusted 2 \(ROLLBACK\)$' \
	'timestamp: rollback: lists snapshot version 1, lower than the trusted 2 \(ROLLBACK\)$'
restore
mr publish --version 1 targets
mr publish snapshot timestamp
attack 12 'snapshot: lists targets.json version 1, lower than the trusted 2 \(ROLLBACK\)$' \
	'snapshot: rollback: lists targets.json version 1, lower than the trusted 2 \(ROLLBACK\)$' \
	timestamp.json
restore
rm -rf "$STATE" && expect 0 refresh # forget the kept timestamp
mr publish --version 1 root # a root that says version 1 ...
mv "$R/metadata/1.root.json" "$R/metadata/2.root.json" # ... served as the next one
cp "$work/tufjs.save/metadata/1.root.json" "$R/metadata/1.root.json"
attack 12 'root: version 1, expected 2 \(ROLLBACK\)$' \
	'root: rollback: version 1, expected 2 \(ROLLBACK\)$'
restore

# Freeze: each role expired (signed already expired, no waiting).
for role in timestamp snapshot targets root; do
	case $role in
	timestamp) mr publish --expires -60 timestamp ;;
	snapshot) mr publish --expires -60 snapshot && mr publish timestamp ;;
	targets) mr publish --expires -60 targets && mr publish snapshot timestamp ;;
	root) mr publish --expires -60 root ;;
	esac
	case $role in
	snapshot) kept=(timestamp.json) ;;
	targets) kept=(timestamp.json snapshot.json) ;;
	root) kept=(root.json) ;; # the valid new root is kept (§5.3.10 comes after)
	*) kept=() ;;
	esac
	attack 13 "$role: version [0-9]+ expired at .* \\(EXPIRED\\)$" \
		"$role: freeze: version [0-9]+ expired at .* \\(EXPIRED\\)$" "${kept[@]}"
	restore
	rm -rf "$STATE" && expect 0 refresh
done

# Mix-and-match: the snapshot the timestamp lists replaced by an older one. The new
# timestamp is valid and legitimately kept; the snapshot is not.
mr publish snapshot timestamp
cp "$R/metadata/1.snapshot.json" "$R/metadata/3.snapshot.json"
cp "$MD/snapshot.json" io/b-sn.before
expect 1 tuf refresh
cerr_is '3.snapshot.json: snapshot: (.* bytes, [0-9]+ listed \(LENGTH\)|sha256 mismatch \(HASH\))$'
cmp -s "$MD/snapshot.json" io/b-sn.before || fail "mixed snapshot trusted"
expect 10 refresh
cerr_is '3.snapshot.json: snapshot: (length mismatch: .* \(LENGTH\)|hash mismatch: .* \(HASH\))$'
cmp -s "$MD/snapshot.json" io/b-sn.before || fail "mixed snapshot trusted"
cmp -s "$MD/timestamp.json" "$R/metadata/timestamp.json" || fail "valid timestamp not kept"
checks=$((checks + 1))
restore
rm -rf "$STATE" && expect 0 refresh # back to the saved state

# Threshold not met: timestamp signed by the snapshot key.
mr publish --sign-with snapshot timestamp
attack 11 'timestamp: 0 of 1 signatures valid, threshold 1 \(THRESHOLD\)$' \
	'timestamp: threshold not met: 0 of 1 signatures valid, threshold 1 \(THRESHOLD\)$'
restore

# Wrong _type: a timestamp that calls itself a snapshot.
mr publish --type-wrong timestamp
attack 10 'timestamp.json: .*_type.*\(FORMAT\)$' \
	'timestamp.json: timestamp: signed._type: malformed metadata: expected "timestamp" \(FORMAT\)$'
restore

# Duplicate keys: root lists the timestamp key twice (two key ids), threshold 2; a
# timestamp "signed" under both ids has one key's signature, not two.
mr publish --alias-key timestamp root
mr publish --alias-sig timestamp
before=$(tree_state "$MD")
expect 11 refresh
cerr_is 'timestamp: threshold not met: 1 of 2 signatures valid, threshold 2 \(THRESHOLD\)$'
# The new root (valid) is kept; the timestamp is not. The new root changed the timestamp
# role's keys, so the old trusted timestamp and snapshot are deleted (§5.3.11).
cmp -s "$MD/root.json" "$R/metadata/2.root.json" || fail "valid new root not kept"
[ ! -e "$MD/timestamp.json" ] && [ ! -e "$MD/snapshot.json" ] || fail "timestamp kept"
expect 1 tuf refresh
cerr_is 'timestamp: 1 of 2 signatures valid, threshold 2 \(THRESHOLD\)$'
[ ! -e "$MD/timestamp.json" ] || fail "timestamp trusted"
checks=$((checks + 1))
restore
rm -rf "$STATE" && expect 0 refresh

# Root not cross-signed: a new root key, the new root signed by it alone.
mr publish --rotate root --no-cross-sign root
attack 11 '2.root.json: new root, by the trusted root.s keys: root: 0 of 1 signatures valid, threshold 1 \(THRESHOLD\)$' \
	'2.root.json: new root, by the trusted root.s keys: root: threshold not met: .*\(THRESHOLD\)$'
restore

# Fast-forward recovery: the timestamp key was compromised and versions pushed to 99;
# the repository rotates the timestamp key and starts over at 1: the device follows.
mr publish --version 99 timestamp
expect 0 refresh
cp "$R/metadata/timestamp.json" io/ts99
out_has 'timestamp 99,'
mr publish --rotate timestamp root
mr publish --version 1 timestamp
expect 0 refresh
out_has '^trusted: root 2, timestamp 1, snapshot 2, targets 2$'
cmp -s "$MD/timestamp.json" "$R/metadata/timestamp.json" || fail "recovered timestamp not stored"
# ... and the attacker's version 99, signed by the retired key, is now refused.
cp "$R/metadata/timestamp.json" io/ts1
cp io/ts99 "$R/metadata/timestamp.json"
attack 11 'timestamp: 0 of 1 signatures valid, threshold 1 \(THRESHOLD\)$' \
	'timestamp: threshold not met: 0 of 1 signatures valid, threshold 1 \(THRESHOLD\)$'
cp io/ts1 "$R/metadata/timestamp.json"
expect 0 tuf --target-name deleg/file2.txt --target-base-url "$BASE/targets/" \
	--target-dir "$work/b2.targets" download

echo "$(basename "$0"): $checks checks passed"
