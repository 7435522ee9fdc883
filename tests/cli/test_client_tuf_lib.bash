# Shared by tests/cli/test_client_tuf*.sh: a repository made with
# tests/tools/tuf_repo_gen, served by Debian's `python3 -m http.server` on
# 127.0.0.1, and helpers to run `upkeep-client tuf` and check what it did:
# exit codes, error lines, the requests in the server's log, the metadata
# directory's contents and bytes.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib_check.bash"

: "${UPKEEP_BUILD_DIR:?UPKEEP_BUILD_DIR must point at the build directory}"
CLIENT="$UPKEEP_BUILD_DIR/client/upkeep-client"
GEN="$UPKEEP_BUILD_DIR/tests/tuf_repo_gen"
PY=/usr/bin/python3
[ -x "$CLIENT" ] || { echo "no $CLIENT" >&2; exit 1; }
[ -x "$GEN" ] || { echo "no $GEN" >&2; exit 1; }
# Requests go to 127.0.0.1 directly, whatever the environment says.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

work=$(mktemp -d "${TMPDIR:-/tmp}/upk-client-tuf.XXXXXX")
server_pids=()
cleanup() {
	for pid in "${server_pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
OUT="$work/out"
ERR="$work/err"

# serve DIR: start a static HTTP server for DIR; sets PORT and LOG.
serve() {
	LOG="$work/server.${#server_pids[@]}.log"
	: >"$LOG" # exists before the background job opens it
	"$PY" -u -m http.server --bind 127.0.0.1 --directory "$1" 0 >"$LOG" 2>&1 &
	server_pids+=("$!")
	for _ in $(seq 100); do
		PORT=$(sed -n 's/^Serving HTTP on 127.0.0.1 port \([0-9]*\).*/\1/p' "$LOG")
		[ -n "$PORT" ] && break
		sleep 0.1
	done
	[ -n "$PORT" ] || { cat "$LOG" >&2; echo "server did not start" >&2; exit 1; }
	LOG_MARK=0
}

# Paths requested since the last mark, one per line (the server logs each GET).
requests() {
	tail -n +"$((LOG_MARK + 1))" "$LOG" | sed -n 's/.*"GET \([^ ]*\) HTTP[^"]*".*/\1/p'
}

mark() {
	LOG_MARK=$(wc -l <"$LOG")
}

# requests_are PATH...: exactly these requests, in this order, since the last mark.
requests_are() {
	local want got
	want=$(printf '%s\n' "$@")
	got=$(requests)
	[ "$got" = "$want" ] || fail "requests were:
$got
expected:
$want"
	checks=$((checks + 1))
}

# err_is REGEX: stderr is exactly one line, matching REGEX.
err_is() {
	[ "$(wc -l <"$ERR")" = 1 ] || fail "stderr is not one line"
	grep -qE -- "$1" "$ERR" || fail "stderr does not match /$1/"
	checks=$((checks + 1))
}

# tuf ARGS...: the client with the test's metadata dir and repository URLs.
MD="$work/md"
TD="$work/targets"
tuf() {
	"$CLIENT" tuf --metadata-dir "$MD" --metadata-url "http://127.0.0.1:$PORT/metadata/" "$@"
}
refresh() {
	tuf refresh
}
download() {
	local args=()
	for name in "$@"; do
		args+=(--target-name "$name")
	done
	tuf "${args[@]}" --target-base-url "http://127.0.0.1:$PORT/targets/" --target-dir "$TD" \
		download
}

# Names and hashes of every file in a directory (hidden ones included).
dir_state() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# md_files_are NAME...: the metadata dir holds exactly these files.
md_files_are() {
	local want got
	want=$(printf '%s\n' "$@" | sort)
	got=$(cd "$MD" && find . -mindepth 1 -printf '%P\n' | sort)
	[ "$got" = "$want" ] || fail "metadata dir holds:
$got
expected:
$want"
	checks=$((checks + 1))
}

# same_bytes A B
same_bytes() {
	cmp -s "$1" "$2" || fail "$1 and $2 differ"
	checks=$((checks + 1))
}

# version_of ROLE_FILE: signed.version of a metadata file.
version_of() {
	"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["signed"]["version"])' "$1"
}

# rejected_unchanged REGEX CMD...: CMD exits 1 with one error line matching
# REGEX, and the metadata and target directories are exactly as before.
rejected_unchanged() {
	local regex=$1 before_md before_td
	shift
	before_md=$(dir_state "$MD")
	before_td=$(dir_state "$TD" 2>/dev/null || true)
	expect 1 "$@"
	err_is "$regex"
	[ "$(dir_state "$MD")" = "$before_md" ] || fail "'$*' changed the metadata dir"
	[ "$(dir_state "$TD" 2>/dev/null || true)" = "$before_td" ] ||
		fail "'$*' changed the target dir"
}

# new_repo NAME [init options]: a fresh repository served on its own; the client pinned to it.
new_repo() {
	REPO="$work/$1"
	shift
	"$GEN" init "$REPO" "$@"
	serve "$REPO"
	rm -rf "$MD" "$TD"
	expect 0 "$CLIENT" tuf --metadata-dir "$MD" init "$REPO/metadata/1.root.json"
}
