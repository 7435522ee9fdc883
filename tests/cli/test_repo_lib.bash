# Shared helpers of the repository command tests (tests/cli/test_repo_*.sh), sourced
# by each. Not a test itself (ctest runs tests/cli/test_*.sh only).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib_check.bash"

: "${UPKEEP_BUILD_DIR:?UPKEEP_BUILD_DIR must point at the build directory}"
S="$UPKEEP_BUILD_DIR/server/upkeep-server"
K="$UPKEEP_BUILD_DIR/keys/upkeep-keys"
PY=/usr/bin/python3 # Debian's python (the pyenv one on PATH lacks the test modules)
[ -x "$S" ] || { echo "no $S" >&2; exit 1; }
[ -x "$K" ] || { echo "no $K" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/upk-repo-cli.XXXXXX")
cleanup_hooks=()
cleanup() {
	local h
	for h in "${cleanup_hooks[@]}"; do
		eval "$h" || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
unset UPKEEP_PASSPHRASE UPKEEP_ONLINE_KEYS UPKEEP_FAILPOINT
cd "$work"
mkdir io keys online
OUT="$work/io/out"
ERR="$work/io/err"

# err_is REGEX: stderr is exactly one line, the CLI.md error line, matching REGEX.
err_is() {
	[ "$(wc -l <"$ERR")" = 1 ] || fail "stderr is not one line"
	grep -qE -- '^upkeep-server: ' "$ERR" || fail "stderr is not an upkeep-server error line"
	grep -qE -- "$1" "$ERR" || fail "stderr does not match /$1/"
}

# Every path and every file's hash under DIR: compared before and after a refusal.
tree_state() {
	(cd "$1" && find . -print | LC_ALL=C sort && find . -type f -print0 | LC_ALL=C sort -z |
		xargs -0 -r sha256sum)
}

# unchanged_after CODE CMD...: CMD exits CODE and the repository ($repo) is unchanged.
unchanged_after() {
	local before
	before=$(tree_state "$repo")
	expect "$@"
	[ "$(tree_state "$repo")" = "$before" ] || fail "'${*:2}' changed the repository"
}

# mkkey FILE: a new unencrypted key file; prints nothing.
mkkey() {
	"$K" generate --out "$1" --no-passphrase >/dev/null
}

keyid() {
	"$K" show "$1" | sed -n 's/^keyid: //p'
}

# json FILE EXPR: evaluate a Python expression on the JSON document `d` of FILE.
json() {
	"$PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# A repository with one root, targets key and the online keys: $repo, keys/*.key, online/.
new_repo() {
	repo="$work/${1:-repo}"
	[ -f keys/root.key ] || mkkey keys/root.key
	[ -f keys/targets.key ] || mkkey keys/targets.key
	[ -f online/snapshot.key ] || mkkey online/snapshot.key
	[ -f online/timestamp.key ] || mkkey online/timestamp.key
	expect 0 "$S" init --repo "$repo" --root-key keys/root.key --targets-key keys/targets.key \
		--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key
}

# verify_ok [ARGS]: verify exits 0 and prints "ok".
verify_ok() {
	expect 0 "$S" verify --repo "$repo" "$@"
	out_has '^ok: '
}

# The version of ROLE as verify --json reports it.
version_of() {
	"$S" verify --repo "$repo" --json >"$work/io/v.json" 2>/dev/null || true
	json "$work/io/v.json" "d['roles']['$1']['version']"
}

done_ok() {
	echo "$(basename "$0"): $checks checks passed"
}

# serve_start [ARGS...]: `upkeep-server serve` of $repo on a free loopback port with
# ARGS; sets $server (its pid, stopped at exit) and $BASE (http://127.0.0.1:PORT).
# Waits up to 20 s for the "listening on" line (a loaded machine is slow).
serve_start() {
	# Emptied here, not by the redirection below: that happens in the child, maybe after the
	# loop has already read a previous server's "listening on" line (and its dead port).
	: >io/serve.out
	: >io/serve.err
	"$S" serve --repo "$repo" --listen 127.0.0.1:0 "$@" >>io/serve.out 2>>io/serve.err &
	server=$!
	cleanup_hooks+=("kill $server 2>/dev/null; wait $server 2>/dev/null")
	for _ in $(seq 1 400); do
		kill -0 "$server" 2>/dev/null || break
		grep -q '^listening on ' io/serve.out 2>/dev/null && break
		sleep 0.05
	done
	grep -q '^listening on ' io/serve.out ||
		fail "upkeep-server serve did not start: $(cat io/serve.err)"
	BASE=$(sed -n 's/^listening on //p' io/serve.out)
}

# serve_stop: SIGTERM to the server started by serve_start; it must exit 0.
serve_stop() {
	kill -TERM "$server"
	wait "$server" || fail "upkeep-server serve exited non-zero after SIGTERM"
}
