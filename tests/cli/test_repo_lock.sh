#!/usr/bin/env bash
# CLI test of the repository lock (upkeep-server.1.md, "Concurrency"): commands run
# one at a time; a second publish waits for the first and both land; a command that
# cannot get the lock within --lock-timeout fails with exit 3 and a clear message,
# changing nothing; verify --no-recover reads without the lock.
. "$(dirname "$0")/test_repo_lib.bash"
command -v flock >/dev/null || { echo "flock (util-linux) is needed" >&2; exit 1; }

new_repo
mkdir data
for i in $(seq 1 8); do printf 'file %s\n' "$i" >data/$i.bin; done
PUB=(--key keys/targets.key --online-keys online)
lock="$repo/.upkeep/lock"

# ---- held lock, short timeout: exit 3, nothing changed ----
exec 9>>"$lock"
flock 9 # this shell holds the lock now
start=$(date +%s%N)
unchanged_after 3 "$S" publish --repo "$repo" "${PUB[@]}" --lock-timeout 1 --name a data/1.bin
elapsed=$((($(date +%s%N) - start) / 1000000))
err_is "^upkeep-server: $lock: another upkeep-server command holds the repository lock; gave up after 1.000 s \(--lock-timeout\) \(LOCKED\)$"
[ "$elapsed" -ge 900 ] || fail "gave up after $elapsed ms, before the timeout"
unchanged_after 3 "$S" verify --repo "$repo" --lock-timeout 0
err_is 'holds the repository lock'
unchanged_after 3 "$S" refresh --repo "$repo" --online-keys online --lock-timeout 0
err_is '(LOCKED)'
# Read-only verification needs no lock.
expect 0 "$S" verify --repo "$repo" --no-recover
out_has '^ok: '
exec 9>&-

# ---- with the default timeout a publish waits for the holder, then lands ----
# The holder notes when it has the lock and when it is about to let it go.
(
	flock 9
	date +%s%N >io/held
	sleep 3
	date +%s%N >io/releasing
) 9>>"$lock" &
holder=$!
cleanup_hooks+=("kill $holder 2>/dev/null")
for _ in $(seq 1 200); do # bounded wait until the holder has it
	[ -s io/held ] && break
	sleep 0.05
done
[ -s io/held ] || fail "the holder did not take the lock"
[ ! -e io/releasing ] || fail "the holder let go before the waiting publish started"
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --name waited data/1.bin
done_at=$(date +%s%N)
[ -s io/releasing ] && [ "$done_at" -gt "$(cat io/releasing)" ] ||
	fail "publish finished before the holder let the lock go"
wait "$holder" || true

# ---- two publishes at once: both succeed, one after the other ----
pids=()
for i in 2 3; do
	"$S" publish --repo "$repo" "${PUB[@]}" --name "pair/$i.bin" "data/$i.bin" \
		>"io/pair$i.out" 2>"io/pair$i.err" &
	pids+=($!)
done
for i in 0 1; do
	wait "${pids[$i]}" || { cat io/pair*.err >&2; fail "a concurrent publish failed"; }
done
checks=$((checks + 1))
# ---- and six at once ----
pids=()
for i in 4 5 6 7 8 1; do
	"$S" publish --repo "$repo" "${PUB[@]}" --name "many/$i.bin" "data/$i.bin" \
		>"io/many$i.out" 2>"io/many$i.err" &
	pids+=($!)
done
for pid in "${pids[@]}"; do
	wait "$pid" || { cat io/many*.err >&2; fail "a concurrent publish failed"; }
done
checks=$((checks + 1))
# Every one of them is in the final targets, at one version each: nothing was lost.
[ "$(version_of targets)" = 10 ] || fail "targets version $(version_of targets), want 10"
json "$repo/metadata/10.targets.json" "sorted(d['signed']['targets'])" |
	grep -qxF "['many/1.bin', 'many/4.bin', 'many/5.bin', 'many/6.bin', 'many/7.bin', 'many/8.bin', 'pair/2.bin', 'pair/3.bin', 'waited']" ||
	fail "a concurrent publish was lost"
verify_ok
out_has '9 targets'
[ -z "$(ls -A "$repo/.upkeep/tmp")" ] || fail "temporary files left behind"

done_ok
