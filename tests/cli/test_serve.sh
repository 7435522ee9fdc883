#!/usr/bin/env bash
# upkeep-server serve against curl on 127.0.0.1: files, HEAD, every Range
# form, ETag and If-None-Match/If-Range, errors, every way out of the
# repository, the access log, limits, and stopping on SIGTERM/SIGINT.
# Bounded: every curl has --max-time, every wait loop a fixed number of
# rounds, and the servers are killed by the trap whatever happens.
set -euo pipefail

bin=${UPKEEP_BUILD_DIR:?}/server/upkeep-server
tmp=$(mktemp -d "${TMPDIR:-/tmp}/upk-serve-cli.XXXXXX")
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}
expect_eq() { # actual expected what
	[ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

# ---- the repository, and secrets outside it ----------------------------------

repo=$tmp/repo
mkdir -p "$repo/metadata" "$repo/targets/fw" "$repo/targets/sub" "$tmp/outside"
secret="TOP-SECRET-$RANDOM$RANDOM"
echo "$secret" >"$tmp/secret.txt"
echo "$secret" >"$tmp/outside/secret.txt"
printf '{"signed":{"_type":"timestamp","version":7}}' >"$repo/metadata/timestamp.json"
printf '{"signed":{"_type":"root","version":1}}' >"$repo/metadata/1.root.json"
head -c 1000 /dev/urandom >"$repo/targets/fw/small.bin"
head -c $((1024 * 1024 + 123)) /dev/urandom >"$repo/targets/fw/big.bin" # sendfile path
: >"$repo/targets/empty.bin"
truncate -s 64M "$repo/targets/fw/huge.bin" # more than socket buffers hold: stays in flight
mkfifo "$repo/targets/fifo"
# Symbolic links: out of the repository in every way, and one that stays inside.
ln -s "$tmp/secret.txt" "$repo/targets/link-abs"
ln -s ../../secret.txt "$repo/targets/link-rel"
ln -s "$tmp/outside" "$repo/targets/link-dir"
ln -s chain2 "$repo/targets/chain1"
ln -s ../metadata/chain3 "$repo/targets/chain2"
ln -s "$tmp/secret.txt" "$repo/metadata/chain3"
ln -s / "$repo/metadata/link-root"
ln -s /proc/self/root "$repo/targets/magic"
ln -s ../metadata/timestamp.json "$repo/targets/inside-link"
ts_size=$(stat -c %s "$repo/metadata/timestamp.json")

# ---- helpers ----------------------------------------------------------------------

# start_server NAME ARGS...: starts serve, sets $url and $port, pid in pids and $srv_pid.
start_server() {
	local name=$1
	shift
	"$bin" serve --repo "$repo" --listen 127.0.0.1:0 "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	srv_pid=$!
	pids+=("$srv_pid")
	url=
	for _ in $(seq 1 100); do
		# (the shell may not have created the file yet)
		url=$(sed -n 's|^listening on \(http://127\.0\.0\.1:[0-9]*\)$|\1|p' "$tmp/$name.out" \
			2>/dev/null || true)
		[ -n "$url" ] && break
		kill -0 "$srv_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$url" ] || { cat "$tmp/$name.err" >&2; fail "$name: no 'listening on' line"; }
	expect_eq "$(wc -l <"$tmp/$name.out")" 1 "$name: exactly one line on stdout"
	port=${url##*:}
}

# stop_server PID SIGNAL: the server must exit 0 within 10 s.
stop_server() {
	local pid=$1 sig=$2 rc=0
	kill "-$sig" "$pid"
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "server still running 10 s after SIG$sig"
	wait "$pid" || rc=$?
	expect_eq "$rc" 0 "exit code after SIG$sig"
}

# req OUT CURL-ARGS...: prints the status; headers in $tmp/h, body in OUT
# (never left over from an earlier request: curl creates no file for no body).
req() {
	local out=$1
	shift
	rm -f "$out" "$tmp/h"
	curl -s --max-time 5 --path-as-is -o "$out" -D "$tmp/h" -w '%{http_code}' "$@" || true
	[ -e "$out" ] || : >"$out"
	[ -e "$tmp/h" ] || : >"$tmp/h"
}
# no_leak FILE WHAT: neither the secret nor /etc/passwd in FILE.
no_leak() {
	if grep -q "$secret" "$1" || grep -q '^root:' "$1"; then
		fail "$2 leaked a file outside the repository"
	fi
}
# raw METHOD TARGET: a hand-written request (forms curl does not send); the
# whole response in $tmp/raw, its status in $raw_status.
raw() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$port"
	printf '%s %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n' "$1" "$2" >&"$fd"
	timeout 5 cat <&"$fd" >"$tmp/raw" || true
	exec {fd}>&-
	no_leak "$tmp/raw" "raw $1 $2"
	raw_status=$(head -1 "$tmp/raw" | awk '{ print $2 }')
}
# hdr NAME: a header of the last req (empty if absent).
hdr() {
	grep -i "^$1:" "$tmp/h" | head -1 | cut -d' ' -f2- | tr -d '\r' || true
}

# ---- usage and configuration errors -------------------------------------------------

usage_rc() {
	local rc=0
	"$bin" serve "$@" >"$tmp/u.out" 2>"$tmp/u.err" || rc=$?
	echo "$rc"
}
expect_eq "$(usage_rc --help)" 0 "--help"
grep -q -- '--repo DIR' "$tmp/u.out" || fail "--help does not show --repo"
expect_eq "$(usage_rc --version)" 0 "--version"
grep -Eq '^upkeep-server [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/u.out" || fail "--version: $(cat "$tmp/u.out")"
for args in "" "--repo" "--repo $repo --online-keys $tmp/no-such-dir" "--repo $repo --db $tmp/db" \
	"--repo $repo extra" "--repo $repo --bogus" "--repo $repo --listen localhost:8080" \
	"--repo $repo --listen 127.0.0.1" "--repo $repo --listen 127.0.0.1:65536" \
	"--repo $repo --listen ::1:80" "--repo $repo --max-connections 0" \
	"--repo $repo --max-connections x" "--repo $repo --timeout 0" \
	"--repo $repo --timeout -1" "--repo $repo --threads 0" "--repo $repo --threads 257"; do
	# shellcheck disable=SC2086 # word splitting wanted
	expect_eq "$(usage_rc $args)" 2 "serve $args"
	grep -q '(USAGE)' "$tmp/u.err" || fail "serve $args: no USAGE line: $(cat "$tmp/u.err")"
	[ ! -s "$tmp/u.out" ] || fail "serve $args printed on stdout"
done
expect_eq "$(usage_rc --repo "$tmp/missing" --listen 127.0.0.1:0)" 2 "missing repository"
grep -q "^upkeep-server: $tmp/missing: .*(CONFIG)$" "$tmp/u.err" || fail "bad repo: $(cat "$tmp/u.err")"
expect_eq "$(usage_rc --repo "$repo/metadata/timestamp.json" --listen 127.0.0.1:0)" 2 "file as repo"
grep -q "timestamp.json: .*(CONFIG)$" "$tmp/u.err" || fail "file as repo: $(cat "$tmp/u.err")"
expect_eq "$(usage_rc --repo "$repo" --listen 127.0.0.1:0 --access-log "$tmp/no/such/dir/log")" 2 \
	"unwritable access log"
grep -q "$tmp/no/such/dir/log: .*(CONFIG)$" "$tmp/u.err" || fail "log: $(cat "$tmp/u.err")"

# ---- the main server ----------------------------------------------------------------

start_server main --access-log "$tmp/access.log"
main_pid=$srv_pid

# The port is taken now: a second server on it is a transient error (exit 3).
expect_eq "$(usage_rc --repo "$repo" --listen "127.0.0.1:$port")" 3 "address in use"
grep -q '^upkeep-server: --listen: .*(NETWORK)$' "$tmp/u.err" || fail "in use: $(cat "$tmp/u.err")"

# 200: exact bytes, Content-Length, Content-Type, ETag, Accept-Ranges.
for f in metadata/timestamp.json metadata/1.root.json targets/fw/small.bin targets/fw/big.bin \
	targets/empty.bin; do
	expect_eq "$(req "$tmp/body" "$url/$f")" 200 "GET $f"
	cmp -s "$tmp/body" "$repo/$f" || fail "GET $f: wrong bytes"
	expect_eq "$(hdr Content-Length)" "$(stat -c %s "$repo/$f")" "GET $f Content-Length"
	case $f in
	*.json) expect_eq "$(hdr Content-Type)" application/json "GET $f Content-Type" ;;
	*) expect_eq "$(hdr Content-Type)" application/octet-stream "GET $f Content-Type" ;;
	esac
	expect_eq "$(hdr Accept-Ranges)" bytes "GET $f Accept-Ranges"
	[[ "$(hdr ETag)" =~ ^\"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+\"$ ]] || fail "GET $f ETag: $(hdr ETag)"
done
# A query is not part of the file name.
expect_eq "$(req "$tmp/body" "$url/metadata/timestamp.json?x=1&y")" 200 "GET with a query"
cmp -s "$tmp/body" "$repo/metadata/timestamp.json" || fail "GET with a query: wrong bytes"
# A link that stays inside the repository is followed.
expect_eq "$(req "$tmp/body" "$url/targets/inside-link")" 200 "GET inside link"
cmp -s "$tmp/body" "$repo/metadata/timestamp.json" || fail "inside link: wrong bytes"
# Keep-alive: two requests, one connection.
curl -sv --max-time 5 -o /dev/null -o /dev/null "$url/metadata/timestamp.json" \
	"$url/targets/fw/big.bin" 2>"$tmp/v" || fail "two requests on one connection"
grep -Eqi 're-?using existing connection' "$tmp/v" || fail "connection not kept alive"

# HEAD: headers of the GET, no body (raw: the response ends with the header).
ends_with_header() {
	[ "$(tail -c 4 "$tmp/raw" | od -An -tx1 | tr -d ' \n')" = 0d0a0d0a ] ||
		fail "$1: bytes after the header"
}
for f in targets/fw/big.bin metadata/timestamp.json; do
	expect_eq "$(req "$tmp/body" -I "$url/$f")" 200 "HEAD $f"
	expect_eq "$(hdr Content-Length)" "$(stat -c %s "$repo/$f")" "HEAD $f Content-Length"
	raw HEAD "/$f"
	expect_eq "$raw_status" 200 "raw HEAD $f"
	ends_with_header "HEAD $f"
done
expect_eq "$(req "$tmp/body" -I "$url/targets/fw/big.bin")" 200 "HEAD"
expect_eq "$(hdr Content-Type)" application/octet-stream "HEAD Content-Type"
expect_eq "$(req "$tmp/body" -I "$url/metadata/nope.json")" 404 "HEAD of a missing file"
raw HEAD /metadata/nope.json
ends_with_header "HEAD of a missing file"

# Range: every form (the bytes are compared with dd's slice of the file).
slice() { # file first length
	dd if="$1" bs=1 skip="$2" count="$3" status=none
}
big=$repo/targets/fw/big.bin
big_size=$(stat -c %s "$big")
check_range() { # range first length [file]
	local f=${4:-$big} path
	path=${f#"$repo"/}
	expect_eq "$(req "$tmp/body" -H "Range: $1" "$url/$path")" 206 "Range $1"
	slice "$f" "$2" "$3" >"$tmp/want"
	cmp -s "$tmp/body" "$tmp/want" || fail "Range $1: wrong bytes"
	expect_eq "$(hdr Content-Length)" "$3" "Range $1 Content-Length"
	expect_eq "$(hdr Content-Range)" "bytes $2-$(($2 + $3 - 1))/$(stat -c %s "$f")" \
		"Range $1 Content-Range"
}
check_range "bytes=0-99" 0 100
check_range "bytes=0-0" 0 1
check_range "bytes=1000-1999" 1000 1000
check_range "bytes=65530-200000" 65530 134471 # sendfile from an offset
check_range "bytes=$((big_size - 10))-$((big_size + 1000))" $((big_size - 10)) 10
check_range "bytes=$((big_size - 5))-" $((big_size - 5)) 5
check_range "bytes=1048000-" 1048000 $((big_size - 1048000))
check_range "bytes=-100" $((big_size - 100)) 100
check_range "bytes=-$((big_size + 5))" 0 "$big_size"
check_range "Bytes= 3-7 ," 3 5
check_range "bytes=10-20" 10 11 "$repo/metadata/timestamp.json"
check_range "bytes=-1" $((ts_size - 1)) 1 "$repo/metadata/timestamp.json"
# HEAD with a range: 206 headers.
expect_eq "$(req "$tmp/body" -I -H 'Range: bytes=0-99' "$url/targets/fw/big.bin")" 206 "HEAD range"
expect_eq "$(hdr Content-Length)" 100 "HEAD range Content-Length"
expect_eq "$(hdr Content-Range)" "bytes 0-99/$big_size" "HEAD range Content-Range"
# Several ranges and other units: the whole file, 200.
for r in "bytes=0-1,5-6" "bytes=0-1, -5" "items=0-5"; do
	expect_eq "$(req "$tmp/body" -H "Range: $r" "$url/targets/fw/small.bin")" 200 "Range $r"
	cmp -s "$tmp/body" "$repo/targets/fw/small.bin" || fail "Range $r: wrong bytes"
	[ -z "$(hdr Content-Range)" ] || fail "Range $r: Content-Range on a 200"
done
# Unsatisfiable and malformed: 416 with Content-Range: bytes */SIZE.
for r in "bytes=1000-" "bytes=5000-6000" "bytes=-0" "bytes=" "bytes=5-1" "bytes=abc" \
	"bytes=1-2-3" "bytes=0-1,x" "bytes=-"; do
	expect_eq "$(req "$tmp/body" -H "Range: $r" "$url/targets/fw/small.bin")" 416 "Range $r"
	expect_eq "$(hdr Content-Range)" "bytes */1000" "Range $r Content-Range"
	[ "$(stat -c %s "$tmp/body")" -eq 0 ] || fail "Range $r: 416 with a body"
done
expect_eq "$(req "$tmp/body" -H "Range: bytes=0-0" "$url/targets/empty.bin")" 416 "range of empty"
expect_eq "$(hdr Content-Range)" "bytes */0" "range of empty Content-Range"
# Two Range fields: refused as malformed.
expect_eq "$(req "$tmp/body" -H "Range: bytes=0-1" -H "Range: bytes=2-3" "$url/targets/fw/small.bin")" \
	416 "two Range fields"

# ETag, If-None-Match (304, with the 200's Content-Length), If-Range.
req "$tmp/body" "$url/targets/fw/small.bin" >/dev/null
etag=$(hdr ETag)
for inm in "$etag" "W/$etag" "\"x\", $etag" "*" "\"a\",W/$etag,\"b\""; do
	expect_eq "$(req "$tmp/body" -H "If-None-Match: $inm" "$url/targets/fw/small.bin")" 304 \
		"If-None-Match: $inm"
	expect_eq "$(hdr ETag)" "$etag" "304 ETag"
	expect_eq "$(hdr Content-Length)" 1000 "304 Content-Length"
	expect_eq "$(stat -c %s "$tmp/body")" 0 "304 body"
done
for inm in '"x"' 'W/"x", "y"' "${etag%\"}0\"" 'garbage'; do
	expect_eq "$(req "$tmp/body" -H "If-None-Match: $inm" "$url/targets/fw/small.bin")" 200 \
		"If-None-Match: $inm"
done
expect_eq "$(req "$tmp/body" -H 'If-None-Match: "x"' -H "If-None-Match: $etag" \
	"$url/targets/fw/small.bin")" 304 "If-None-Match over two fields"
expect_eq "$(req "$tmp/body" -I -H "If-None-Match: $etag" "$url/targets/fw/small.bin")" 304 \
	"HEAD If-None-Match"
expect_eq "$(req "$tmp/body" -H "If-None-Match: $etag" -H 'Range: bytes=0-9' \
	"$url/targets/fw/small.bin")" 304 "If-None-Match wins over Range"
expect_eq "$(req "$tmp/body" -H "If-Range: $etag" -H 'Range: bytes=0-9' \
	"$url/targets/fw/small.bin")" 206 "If-Range matching"
expect_eq "$(req "$tmp/body" -H 'If-Range: "old"' -H 'Range: bytes=0-9' \
	"$url/targets/fw/small.bin")" 200 "If-Range stale"
expect_eq "$(stat -c %s "$tmp/body")" 1000 "If-Range stale: whole file"
expect_eq "$(req "$tmp/body" -H "If-Range: W/$etag" -H 'Range: bytes=0-9' \
	"$url/targets/fw/small.bin")" 200 "If-Range weak"
# A replaced file (the release commands rename into place) has a new ETag.
cp "$repo/targets/fw/small.bin" "$tmp/new" && mv "$tmp/new" "$repo/targets/fw/small.bin"
req "$tmp/body" "$url/targets/fw/small.bin" >/dev/null
[ "$(hdr ETag)" != "$etag" ] || fail "ETag unchanged after replacement"
expect_eq "$(req "$tmp/body" -H "If-None-Match: $etag" "$url/targets/fw/small.bin")" 200 \
	"old ETag after replacement"

# Errors: 404 for what is not a regular file in the repository, 405 for other methods.
for p in /metadata/nope.json /targets/nope /targets/sub /targets/fw /targets/fw/ /metadata \
	/targets/fifo; do
	expect_eq "$(req "$tmp/body" "$url$p")" 404 "GET $p"
done
for m in POST PUT DELETE PATCH OPTIONS; do
	expect_eq "$(req "$tmp/body" -X "$m" -d 'data' "$url/metadata/timestamp.json")" 405 "$m"
	expect_eq "$(hdr Allow)" "GET, HEAD" "$m Allow"
done
# The server is still fine after refusing a body.
expect_eq "$(req "$tmp/body" "$url/metadata/timestamp.json")" 200 "GET after 405"

# ---- every way out of the repository: 404, and never the secret ---------------------

escape_paths=(
	/metadata/../x
	/metadata/../../secret.txt
	/targets/../../secret.txt
	/metadata/%2e%2e/x
	/metadata/%2E%2E/x
	/metadata/%2e%2e/%2e%2e/secret.txt
	/metadata/%2E%2E/%2E%2E/secret.txt
	/metadata/.%2e/.%2e/secret.txt
	/metadata/..%2f..%2fsecret.txt
	/metadata/..%2F..%2Fsecret.txt
	/metadata/./timestamp.json
	//etc/passwd
	/metadata//x
	/metadata//timestamp.json
	/etc/passwd
	/secret.txt
	/../secret.txt
	/%2e%2e/secret.txt
	/targets/%00
	/targets/fw/small.bin%00
	/targets/fw/small.bin%00.json
	/targets/..%5c..%5csecret.txt
	/targets/link-abs
	/targets/link-rel
	/targets/link-dir/secret.txt
	/targets/chain1
	/targets/chain2
	/metadata/chain3
	/metadata/link-root/etc/passwd
	"/metadata/link-root$tmp/secret.txt"
	/targets/magic/etc/passwd
	"/targets/magic$tmp/secret.txt"
)
for p in "${escape_paths[@]}"; do
	expect_eq "$(req "$tmp/body" "$url$p")" 404 "GET $p"
	no_leak "$tmp/body" "GET $p"
	raw GET "$p"
	expect_eq "$raw_status" 404 "raw GET $p"
done
# Forms curl does not send.
for t in "http://127.0.0.1/metadata/../../secret.txt" "http://127.0.0.1/metadata/timestamp.json" \
	'*' 'metadata/timestamp.json' '/targets/..\..\secret.txt' '\metadata\timestamp.json' \
	"$tmp/secret.txt" '/metadata/..;/x'; do
	raw GET "$t"
	expect_eq "$raw_status" 404 "raw GET $t"
done

# ---- request size limit ---------------------------------------------------------------

big_header=$(head -c 20000 /dev/zero | tr '\0' 'a')
code=$(req "$tmp/body" -H "X-Big: $big_header" "$url/metadata/timestamp.json")
[[ "$code" =~ ^4[0-9][0-9]$ ]] || fail "oversized header: status $code"
code=$(req "$tmp/body" "$url/metadata/$big_header")
[[ "$code" =~ ^4[0-9][0-9]$ ]] || fail "oversized request line: status $code"
expect_eq "$(req "$tmp/body" "$url/metadata/timestamp.json")" 200 "GET after oversized requests"

# ---- responses that do not complete -------------------------------------------------

# A client that goes away mid-body: its line says so.
curl -s --max-time 1 --limit-rate 100K -o /dev/null "$url/targets/fw/huge.bin" || true
for _ in $(seq 1 50); do
	grep -q '^GET /targets/fw/huge.bin - 200 67108864 incomplete=' "$tmp/access.log" && break
	sleep 0.1
done
grep -q '^GET /targets/fw/huge.bin - 200 67108864 incomplete=' "$tmp/access.log" ||
	fail "no incomplete line for a client that went away"
# SIGTERM with a download in flight: it is aborted, the server exits 0 at once.
curl -s --max-time 20 --limit-rate 1M -o /dev/null "$url/targets/fw/huge.bin?inflight" &
curl_pid=$!
pids+=("$curl_pid")
for _ in $(seq 1 50); do # until it is connected, then a little into the body
	ss -Htn state established "( sport = :$port )" 2>/dev/null | grep -q . && break
	sleep 0.1
done
sleep 0.5

# ---- access log, then SIGTERM ---------------------------------------------------------

stop_server "$main_pid" TERM
wait "$curl_pid" && fail "the in-flight download completed after SIGTERM"
grep -qxF 'GET /targets/fw/huge.bin - 200 67108864 incomplete=shutdown' "$tmp/access.log" ||
	fail "no incomplete=shutdown line for the download in flight"
log=$tmp/access.log
[ "$(wc -l <"$log")" -ge 80 ] || fail "access log has $(wc -l <"$log") lines"
bad=$(grep -Evc '^[^ ]+ [^ ]+ [^ ]+ ([0-9]{3}|-) ([0-9]+|-)( incomplete=[a-z-]+)?$' "$log" || true)
expect_eq "$bad" 0 "malformed access-log lines"
for line in "GET /metadata/timestamp.json - 200 $ts_size" \
	"GET /targets/fw/small.bin - 200 1000" \
	"HEAD /targets/fw/big.bin - 200 0" \
	"GET /targets/fw/big.bin bytes=0-99 206 100" \
	"GET /targets/fw/big.bin bytes=-100 206 100" \
	"GET /targets/fw/small.bin bytes=1000- 416 0" \
	"GET /targets/fw/small.bin - 304 0" \
	"GET /targets/fw/small.bin items=0-5 200 1000" \
	"POST /metadata/timestamp.json - 405 19" \
	"GET /metadata/../x - 404 10" \
	"GET /metadata/%2e%2e/x - 404 10" \
	"GET /targets/%00 - 404 10" \
	"GET /targets/link-abs - 404 10" \
	"GET /targets/..\\..\\secret.txt - 404 10" \
	"GET * - 404 10"; do
	grep -qxF "$line" "$log" || fail "access log lacks '$line'"
done
if grep -qF '?' "$log"; then
	fail "the access log shows a query"
fi
grep -Eq '^[^ ]+ /metadata/timestamp.json - 4[0-9][0-9] ' "$log" || fail "no line for the oversized header"

# ---- SIGINT -----------------------------------------------------------------------------

start_server int
stop_server "$srv_pid" INT
if grep -Eq '^GET ' "$tmp/int.err"; then
	fail "access log on stderr without requests"
fi
# Without --access-log the lines go to stderr.
start_server stderr
expect_eq "$(req "$tmp/body" "$url/metadata/1.root.json")" 200 "GET (log on stderr)"
stop_server "$srv_pid" TERM
grep -qxF "GET /metadata/1.root.json - 200 $(stat -c %s "$repo/metadata/1.root.json")" \
	"$tmp/stderr.err" || fail "no access-log line on stderr"

# ---- connection limit -------------------------------------------------------------------

start_server limit --max-connections 2 --threads 1 --access-log "$tmp/limit.log"
hold() { # opens a connection and gets one answer on it (kept alive); fd in $held
	local status
	exec {held}<>"/dev/tcp/127.0.0.1/$port"
	printf 'GET /metadata/timestamp.json HTTP/1.1\r\nHost: t\r\n\r\n' >&"$held"
	IFS= read -t 5 -r status <&"$held" || true
	[[ "$status" == "HTTP/1.1 200 OK"* ]] || fail "held connection got '$status'"
}
hold
c1=$held
hold
c2=$held
# Both slots are held (and kept alive): a third client is refused or waits.
code=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$url/metadata/timestamp.json" || true)
[ "$code" != 200 ] || fail "a connection over the limit was served"
exec {c1}>&- {c2}>&-
ok=
for _ in $(seq 1 25); do
	code=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' "$url/metadata/timestamp.json" || true)
	[ "$code" = 200 ] && { ok=1; break; }
	sleep 0.2
done
[ -n "$ok" ] || fail "server not serving again after the held connections closed"
# SIGTERM at the limit, with idle connections held open: still a prompt exit.
hold
c1=$held
hold
c2=$held
stop_server "$srv_pid" TERM
exec {c1}>&- {c2}>&-

# ---- idle timeout -----------------------------------------------------------------------

start_server idle --timeout 1
exec {c}<>"/dev/tcp/127.0.0.1/$port"
t0=$(date +%s)
rc=0
timeout 10 cat <&"$c" >/dev/null || rc=$?
exec {c}>&-
expect_eq "$rc" 0 "idle connection closed by the server"
[ $(($(date +%s) - t0)) -le 5 ] || fail "idle connection lived more than 5 s with --timeout 1"
expect_eq "$(req "$tmp/body" "$url/metadata/timestamp.json")" 200 "GET after an idle timeout"
stop_server "$srv_pid" TERM

echo "test_serve.sh: all passed"
