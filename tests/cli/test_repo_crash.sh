#!/usr/bin/env bash
# Crash test of the writing commands (repo.h "Crash safety"): publish, and a rotation
# that changes root, are killed with SIGKILL at every step boundary in turn (file
# create, write, fsync, syncfs, rename, link, unlink: the UPKEEP_FAILPOINT counter of
# test builds), and, in every build, at random moments by a real kill -9. After each
# kill, what a client fetches (timestamp -> snapshot -> targets) is wholly the old or
# wholly the new state; verify (which rolls a journal forward) accepts the repository;
# and the next command works on it.
. "$(dirname "$0")/test_repo_lib.bash"

new_repo
mkdir data
printf 'first\n' >data/first.bin
printf 'second\n' >data/second.bin
for i in $(seq 1 150); do printf 'bulk %s\n' "$i" >data/bulk$i.bin; done
PUB=(--key keys/targets.key --online-keys online)
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --name fw/first.bin data/first.bin
cp -a "$repo" "$work/template"

# client_view REPO: what a client walking the files sees, without any checks of ours:
# "TIMESTAMP-VERSION ROOT-VERSION TARGET-PATHS...", or "broken: why".
client_view() {
	"$PY" - "$1" <<'EOF'
import json, os, sys
md = sys.argv[1] + "/metadata"
try:
    ts = json.load(open(f"{md}/timestamp.json"))["signed"]
    sv = ts["meta"]["snapshot.json"]["version"]
    snap = json.load(open(f"{md}/{sv}.snapshot.json"))["signed"]
    tv = snap["meta"]["targets.json"]["version"]
    targets = json.load(open(f"{md}/{tv}.targets.json"))["signed"]["targets"]
    n = 1
    while os.path.exists(f"{md}/{n + 1}.root.json"):
        n += 1
    for path, e in targets.items():
        d, _, name = path.rpartition("/")
        base = f"{sys.argv[1]}/targets/{d}/" if d else f"{sys.argv[1]}/targets/"
        for h in e["hashes"].values():
            if os.path.getsize(base + f"{h}.{name}") != e["length"]:
                raise Exception(f"{path}: wrong length")
    print(ts["version"], n, *sorted(targets))
except Exception as e:
    print("broken:", e)
EOF
}

old_view=$(client_view "$work/template")
[ "$old_view" = "2 1 fw/first.bin" ] || fail "template view: $old_view"

# after_kill KIND OLD NEW: the checks after a killed (or completed) command.
after_kill() {
	local kind=$1 old=$2 new=$3 view
	view=$(client_view "$repo")
	# What clients see at the moment of the kill. A publish never exposes a mix; a root
	# rotation may be caught between its root and timestamp writes, and then only with
	# its journal pending (roll-forward completes it).
	if [ "$view" != "$old" ] && [ "$view" != "$new" ]; then
		[ "$kind" = rotate ] && [ -f "$repo/.upkeep/commit.json" ] ||
			fail "$kind killed: clients see '$view', neither '$old' nor '$new'"
	fi
	if [ "$kind" = publish ]; then
		expect 0 "$S" verify --repo "$repo" --no-recover
	fi
	# verify rolls the journal forward and accepts the result; old or new, nothing else.
	expect 0 "$S" verify --repo "$repo"
	view=$(client_view "$repo")
	[ "$view" = "$old" ] || [ "$view" = "$new" ] ||
		fail "$kind: after roll-forward clients see '$view'"
	[ ! -f "$repo/.upkeep/commit.json" ] || fail "$kind: journal left after verify"
	[ -z "$(ls -A "$repo/.upkeep/tmp")" ] || fail "$kind: temporary files left after verify"
	# The repository keeps working: the next command builds on whatever state it is in.
	expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --name after.bin data/second.bin
	verify_ok
}

run_killed() { # N CMD...: run CMD with the failpoint N; prints the exit code
	local rc=0
	UPKEEP_FAILPOINT=$1 "${@:2}" </dev/null >"$OUT" 2>"$ERR" || rc=$?
	echo "$rc"
}

# ---- deterministic: every step boundary in turn (test builds) ----
rm -rf "$repo"
cp -a "$work/template" "$repo"
rc=$(run_killed 1 "$S" publish --repo "$repo" "${PUB[@]}" --name fw/second.bin data/second.bin)
if [ "$rc" = 137 ]; then
	new_publish="3 1 fw/first.bin fw/second.bin"
	steps=0
	for n in $(seq 1 200); do
		rm -rf "$repo"
		cp -a "$work/template" "$repo"
		rc=$(run_killed "$n" "$S" publish --repo "$repo" "${PUB[@]}" \
			--name fw/second.bin data/second.bin)
		case $rc in
		137) ;;
		0) steps=$n ;;
		*) fail "publish at failpoint $n exited $rc" ;;
		esac
		after_kill publish "$old_view" "$new_publish"
		[ "$steps" = 0 ] || break
	done
	[ "$steps" -gt 15 ] || fail "publish completed after only $steps steps"
	echo "publish: killed at each of $((steps - 1)) step boundaries"

	# A rotation of the timestamp key: a new root, and new online signatures.
	mkkey "$work/io/timestamp2.key"
	cp "$work/io/timestamp2.key" online/
	ROT=(rotate --repo "$repo" --role timestamp --remove online/timestamp.key
		--add online/timestamp2.key --signing-key keys/root.key --online-keys online)
	new_rotate="3 2 fw/first.bin"
	steps=0
	for n in $(seq 1 200); do
		rm -rf "$repo"
		cp -a "$work/template" "$repo"
		rc=$(run_killed "$n" "$S" "${ROT[@]}")
		case $rc in
		137) ;;
		0) steps=$n ;;
		*) fail "rotate at failpoint $n exited $rc" ;;
		esac
		after_kill rotate "$old_view" "$new_rotate"
		[ "$steps" = 0 ] || break
	done
	[ "$steps" -gt 15 ] || fail "rotate completed after only $steps steps"
	echo "rotate: killed at each of $((steps - 1)) step boundaries"
	rm online/timestamp2.key
	random_kills=6
elif [ "$rc" = 0 ]; then
	echo "no failpoints in this build (NDEBUG): random kills only"
	random_kills=25
else
	fail "publish with UPKEEP_FAILPOINT=1 exited $rc"
fi

# ---- real kill -9 at random moments of a 150-target publish (every build) ----
for i in $(seq 1 150); do printf 'bulk/%s.bin\tdata/bulk%s.bin\n' "$i" "$i"; done >io/bulk.list
new_bulk=$(
	rm -rf "$work/full"
	cp -a "$work/template" "$work/full"
	"$S" publish --repo "$work/full" "${PUB[@]}" --targets-from io/bulk.list >/dev/null
	client_view "$work/full"
)
start=$(date +%s%N)
"$S" publish --repo "$work/full" "${PUB[@]}" --targets-from io/bulk.list >/dev/null
full_us=$((($(date +%s%N) - start) / 1000))
killed=0
for i in $(seq 1 "$random_kills"); do
	rm -rf "$repo"
	cp -a "$work/template" "$repo"
	"$S" publish --repo "$repo" "${PUB[@]}" --targets-from io/bulk.list >/dev/null 2>&1 &
	pid=$!
	sleep "$(awk -v us="$full_us" -v r="$RANDOM" 'BEGIN { printf "%.6f", us * (r / 32768) / 1e6 }')"
	kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
	wait "$pid" 2>/dev/null || true
	after_kill publish "$old_view" "$new_bulk"
done
echo "random kills: $killed of $random_kills landed before the publish ended"

done_ok
