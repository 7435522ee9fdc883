# Shared checks of the CLI tests (sourced, not a test itself: ctest runs
# tests/cli/test_*.sh). The sourcing script sets OUT and ERR (files that take
# a command's stdout and stderr) before calling any of them; `checks` counts
# what passed, for the closing line.
checks=0

# fail MESSAGE: print it with the last command's output, and end the test.
fail() {
	echo "FAIL: $*" >&2
	echo "--- stdout:" >&2
	cat "$OUT" >&2 || true
	echo "--- stderr:" >&2
	cat "$ERR" >&2 || true
	exit 1
}

# expect CODE CMD...: run CMD with stdin from /dev/null, want exit code CODE.
expect() {
	local want=$1 rc=0
	shift
	"$@" </dev/null >"$OUT" 2>"$ERR" || rc=$?
	[ "$rc" = "$want" ] || fail "'$*' exited $rc, want $want"
	checks=$((checks + 1))
}

out_has() {
	grep -qE -- "$1" "$OUT" || fail "stdout does not match /$1/"
}

err_has() {
	grep -qE -- "$1" "$ERR" || fail "stderr does not match /$1/"
}
