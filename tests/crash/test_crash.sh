#!/usr/bin/env bash
# Power-cut crash test of the device agent (issue 7; tests/crash/README.md). The agent is
# killed with SIGKILL at every kill point (client/failpoint.h) of:
#   - the install of 1.1.0 (firmware + model) and the trial boot that commits it,
#   - the install of 1.1.1, a models-only release (switched and committed by `install`),
#   - the trial boot of 1.2.0, whose health check fails, and its rollback.
# After each cut the power comes back (the bootloader simulator tests/sim/upk-bootsim picks
# a slot) and `upkeep-client boot` reconciles. The device must then boot a verified image,
# keep a device.json that parses, never lower a floor, point its model at a published model
# file, and take the update again to its end. The `boot` after a cut is itself cut at each
# of its own kill points (a second power cut during the recovery from the first).
# shellcheck source-path=SCRIPTDIR source=../cli/test_agent_lib.bash
. "$(dirname "$0")/../cli/test_agent_lib.bash"

MIN_POINTS=200 # issue 7: kill points of the 1.1.0 install and trial boot together
check_py="$UPKEEP_SOURCE_DIR/tests/crash/check_device.py"

# check_device SPEC: `status --json` works (device.json parses) and check_device.py
# accepts the device (SPEC: see there).
check_device() {
	"$C" status --config "$dev/client.conf" --json >"$work/io/status.json" 2>"$ERR" ||
		fail "$where: status --json failed (device.json damaged?)"
	"$PY" "$check_py" "$where" "$work/io/status.json" "$1" || fail "$where: device check failed"
	checks=$((checks + 1))
}

# agent CODES CMD ARGS...: `upkeep-client CMD ARGS` exits with one of CODES ("0", "0|15").
agent() {
	local codes=$1 rc=0
	shift
	"$C" "$1" --config "$dev/client.conf" "${@:2}" </dev/null >"$OUT" 2>"$ERR" || rc=$?
	[[ "|$codes|" == *"|$rc|"* ]] || fail "$where: 'upkeep-client $*' exited $rc, want $codes"
	checks=$((checks + 1))
}

# traced TRACE CODES CMD ARGS...: agent CODES CMD ARGS, its kill points listed in TRACE
# (one name a line, the N-th line for kill point N).
traced() {
	local trace=$1
	shift
	rm -f "$trace"
	UPKEEP_FAILPOINT_TRACE=$trace agent "$@"
	touch "$trace"
	sed -i 's/^[0-9]* //' "$trace"
}

# cut N TRACE CMD ARGS...: `upkeep-client CMD ARGS` killed at its kill point N: it must
# die of SIGKILL (137), at the point the reference run TRACE names N. Adds the cut to
# $where, which names the device's history in every failure.
cut() {
	local n=$1 ref=$2 rc=0 name
	shift 2
	name=$(sed -n "${n}p" "$ref")
	where="${where:+$where, then }cut at kill point $n '$name' of '$*'"
	rm -f "$work/io/cut.trace"
	# (The braces take bash's "Killed" notice; the command's stderr goes to $ERR.)
	{ UPKEEP_FAILPOINT=$n UPKEEP_FAILPOINT_TRACE="$work/io/cut.trace" \
		"$C" "$1" --config "$dev/client.conf" "${@:2}" </dev/null >"$OUT" 2>"$ERR"; } \
		2>/dev/null || rc=$?
	[ "$rc" = 137 ] || fail "$where: exited $rc, want 137 (SIGKILL)"
	[ "$(tail -n 1 "$work/io/cut.trace")" = "$n $name" ] ||
		fail "$where: killed at '$(tail -n 1 "$work/io/cut.trace")' instead"
	checks=$((checks + 1))
}

# Device snapshots: $dev (whose configuration names its own paths) is copied aside and
# back, which is much cheaper than building the device again; the slot the simulator
# booted last goes with it.
save_device() {
	rm -rf "$work/snap-$1"
	cp -a "$dev" "$work/snap-$1"
	echo "$booted" >"$work/snap-$1.booted"
}
restore_device() {
	rm -rf "$dev"
	cp -a "$work/snap-$1" "$dev"
	booted=$(cat "$work/snap-$1.booted")
}

# run_points LABEL TRACE FUNC ARGS...: FUNC N ARGS for every kill point N of TRACE, each
# in a subshell of its own, so that a point that does not recover is recorded (after
# LABEL) in $work/failed and the others still run (the test fails at the end if any did
# not). Every point run is counted in $work/points, by nesting level. With
# UPKEEP_CRASH_ONLY="LABEL:N" only that point (and the second cuts after it) runs.
run_points() {
	local label=$1 trace=$2 func=$3 n k rc level=$((BASH_SUBSHELL + 1))
	shift 3
	k=$(wc -l <"$trace")
	for n in $(seq 1 "$k"); do
		if [ "$level" = 1 ] && [ -n "${UPKEEP_CRASH_ONLY:-}" ] &&
			[ "$label:$n" != "$UPKEEP_CRASH_ONLY" ]; then
			continue
		fi
		echo "$BASH_SUBSHELL" >>"$work/points"
		set +e
		(
			set -e
			"$func" "$n" "$@"
			echo "$checks" >"$work/io/checks.$level"
		)
		rc=$?
		set -e
		if [ "$rc" = 0 ]; then
			checks=$(cat "$work/io/checks.$level")
		else
			echo "$label, kill point $n '$(sed -n "${n}p" "$trace")'" >>"$work/failed"
			# The device as the first failure left it, for UPKEEP_CRASH_KEEP.
			[ -e "$work/failed-dev" ] || cp -a "$dev" "$work/failed-dev"
		fi
	done
}

# point N SNAPSHOT TRACE RECOVER CMD ARGS...: from SNAPSHOT, `upkeep-client CMD ARGS` is
# cut at its kill point N (of TRACE) and the power comes back; the `boot` that reconciles
# runs (0, or 15 for a rollback), then RECOVER checks the device and takes it to the end.
# Then the same from the power-on again, but with that `boot` cut at each of its own kill
# points, and a second power-on and boot.
point() {
	local n=$1 snap=$2 trace=$3 recover=$4
	shift 4
	restore_device "$snap"
	cut "$n" "$trace" "$@"
	power_on
	save_device cut
	traced "$work/io/trace-recovery" "0|15" boot --no-reboot
	"$recover"
	cp "$work/io/trace-recovery" "$work/trace-recovery"
	run_points "$where, then in the boot after it" "$work/trace-recovery" second_cut "$recover"
}
second_cut() {
	restore_device cut
	cut "$1" "$work/trace-recovery" boot --no-reboot
	power_on
	agent "0|15" boot --no-reboot
	"$2"
}

# UPKEEP_CRASH_KEEP=DIR (a new directory): the work directory is copied there at the end,
# for a look by hand: the repository, the traces (trace-*), the device snapshots (snap-*),
# and the device as the first point that did not recover left it (failed-dev).
if [ -n "${UPKEEP_CRASH_KEEP:-}" ]; then
	[ ! -e "$UPKEEP_CRASH_KEEP" ] || fail "UPKEEP_CRASH_KEEP: $UPKEEP_CRASH_KEEP exists"
	# shellcheck disable=SC2016 # expanded when the hook runs
	cleanup_hooks+=('cp -a "$work" "$UPKEEP_CRASH_KEEP"')
fi

agent_repo
new_device file
fw11="$work/rel/fw-1.1.0.img"
md11="$work/rel/detector-1.1.0.onnx"
# Fixed 4 KiB chunks: a kill point per chunk written, two per journal entry; 768 KiB of
# firmware make the 1.1.0 install and trial boot MIN_POINTS on their own, with a margin.
image "$fw11" 768 ok fw-1.1
model "$md11" ok 64
release 1.1.0 2 security --chunking fixed:4K --firmware "$fw11" --model detector="$md11"
where="set-up"
agent 0 check # provisions device.json and fetches the metadata once
save_device factory

# --- the reference run: install, power on, trial boot, commit; every kill point traced ---
where="reference run of 1.1.0"
traced "$work/trace-install" 0 install --no-reboot
out_has 'armed for a trial boot'
[ -s "$work/trace-install" ] || fail "no kill points traced (a Release build has none)"
power_on
[ "$booted" = B ] || fail "the 1.1.0 trial did not boot slot B"
save_device installed
traced "$work/trace-boot" 0 boot --no-reboot
out_has 'committed cam-1.1.0.upk'
spec11='"images": {"1.0.0": "'$dev/factory.img'", "1.1.0": "'$fw11'"},
	"floors": {"1.0.0": 0, "1.1.0": 2}, "models": {"1.1.0": "'$md11'"},
	"model_floors": {"1.1.0": 2}'
final11='"final": {"version": "1.1.0", "floor": 2, "model": "1.1.0"}'
check_device "{$spec11, $final11}"
for p in 'install: chunk written' 'install: journal written' 'install: read back' \
	'install: state staged' 'install: trial armed' 'install: state armed'; do
	grep -qx "$p" "$work/trace-install" || fail "no kill point '$p' in the install"
done
for p in 'models: activated' 'boot: health check passed' 'commit: boot state written' \
	'commit: state saved'; do
	grep -qx "$p" "$work/trace-boot" || fail "no kill point '$p' in the trial boot"
done
k_install=$(wc -l <"$work/trace-install")
k_boot=$(wc -l <"$work/trace-boot")
echo "1.1.0: $k_install kill points in the install, $k_boot in the trial boot and commit"
[ $((k_install + k_boot)) -ge "$MIN_POINTS" ] ||
	fail "only $((k_install + k_boot)) kill points in the 1.1.0 install and boot, want $MIN_POINTS"

# recover11: the device checks out; a new install (no kill) completes (or finds 1.1.0
# installed) and, after a power-on and a boot, 1.1.0 runs committed with its floor and
# its model.
recover11() {
	check_device "{$spec11}"
	agent 0 install --no-reboot
	power_on
	agent 0 boot --no-reboot
	check_device "{$spec11, $final11}"
}

# --- 1.1.0: a cut at every kill point of the install, then of the trial boot ---
where=
run_points "1.1.0 install" "$work/trace-install" point factory "$work/trace-install" recover11 \
	install --no-reboot
run_points "1.1.0 trial boot" "$work/trace-boot" point installed "$work/trace-boot" recover11 \
	boot --no-reboot

# --- 1.1.1, models only: `install` switches, self-tests and commits without a reboot; a
# switch cut before its self-test passed is rolled back by the next `boot` ---
restore_device installed
where="set-up of 1.1.1"
agent 0 boot --no-reboot
save_device committed11
md111="$work/rel/detector-1.1.1.onnx"
model "$md111" ok 64
release 1.1.1 2 feature --chunking fixed:4K --model detector="$md111"
where="reference run of 1.1.1"
traced "$work/trace-models" 0 install cam-1.1.1.upk --no-reboot
out_has 'committed cam-1.1.1.upk'
grep -qx 'models: self-test passed' "$work/trace-models" || fail "no self-test kill point"
k_models=$(wc -l <"$work/trace-models")
spec111='"images": {"1.1.0": "'$fw11'"}, "floors": {"1.1.0": 2},
	"models": {"1.1.0": "'$md11'", "1.1.1": "'$md111'"},
	"model_floors": {"1.1.0": 2, "1.1.1": 2}'
final111='"final": {"version": "1.1.0", "floor": 2, "model": "1.1.1"}'
check_device "{$spec111, $final111}"

# recover111: the device checks out; installing 1.1.1 again completes (or finds it
# installed), and it stays committed over a power-on.
recover111() {
	check_device "{$spec111}"
	agent 0 install cam-1.1.1.upk --no-reboot
	power_on
	agent 0 boot --no-reboot
	check_device "{$spec111, $final111}"
}
where=
run_points "1.1.1 install" "$work/trace-models" point committed11 "$work/trace-models" recover111 \
	install cam-1.1.1.upk --no-reboot

# --- 1.2.0 fails its health check: a cut at every kill point of its trial boot and of the
# rollback; the device ends on 1.1.0 with slot A bad, and then 1.2.1 installs ---
restore_device committed11
where="set-up of 1.2.0"
fw12="$work/rel/fw-1.2.0.img"
md12="$work/rel/detector-1.2.0.onnx"
fw121="$work/rel/fw-1.2.1.img"
md121="$work/rel/detector-1.2.1.onnx"
image "$fw12" 768 fail fw-1.1
model "$md12" ok 64
release 1.2.0 3 feature --chunking fixed:4K --firmware "$fw12" --model detector="$md12"
image "$fw121" 768 ok fw-1.2.1
model "$md121" ok 64
release 1.2.1 3 feature --chunking fixed:4K --firmware "$fw121" --model detector="$md121"
agent 0 install cam-1.2.0.upk --no-reboot
power_on
[ "$booted" = A ] || fail "the 1.2.0 trial did not boot slot A"
save_device trial12
where="reference run of 1.2.0"
traced "$work/trace-rollback" 15 boot --no-reboot
err_has 'rolled back'
for p in 'boot: before health check' 'models: reverted' 'rollback: boot state written' \
	'rollback: state saved'; do
	grep -qx "$p" "$work/trace-rollback" || fail "no kill point '$p' in the rollback"
done
k_rollback=$(wc -l <"$work/trace-rollback")
spec12='"images": {"1.1.0": "'$fw11'", "1.2.0": "'$fw12'"}, "floors": {"1.1.0": 2},
	"models": {"1.1.0": "'$md11'", "1.2.0": "'$md12'"}, "model_floors": {"1.1.0": 2}'
final12='"final": {"version": "1.1.0", "floor": 2, "model": "1.1.0", "bad": {"A": "1.2.0"},
	"failed": "cam-1.2.0.upk"}'
spec121='"images": {"1.2.1": "'$fw121'"}, "floors": {"1.2.1": 3},
	"models": {"1.2.1": "'$md121'"}, "model_floors": {"1.2.1": 3}'
final121='"final": {"version": "1.2.1", "floor": 3, "model": "1.2.1"}'

# recover12: the device checks out; the slot rolled back runs until the next power-on,
# whose boot has nothing left to do: 1.1.0 committed with its floor, slot A bad at 1.2.0,
# the 1.2.0 model gone. Then 1.2.1, which passes its health check, installs and commits.
recover12() {
	check_device "{$spec12}"
	power_on
	agent 0 boot --no-reboot
	check_device "{$spec12, $final12}"
	agent 0 install cam-1.2.1.upk --no-reboot
	power_on
	agent 0 boot --no-reboot
	check_device "{$spec121, $final121}"
}
check_device "{$spec12}"
where=
run_points "1.2.0 trial boot" "$work/trace-rollback" point trial12 "$work/trace-rollback" \
	recover12 boot --no-reboot

total=$((k_install + k_boot + k_models + k_rollback))
if [ -n "${UPKEEP_CRASH_ONLY:-}" ]; then
	total=$(grep -cx 0 "$work/points" || true)
	[ "$total" = 1 ] || fail "UPKEEP_CRASH_ONLY='$UPKEEP_CRASH_ONLY' names no kill point"
fi
[ "$(grep -cx 0 "$work/points")" = "$total" ] || fail "not every kill point was cut"
echo "kill points: 1.1.0 install $k_install, trial boot and commit $k_boot; 1.1.1 models-only" \
	"install $k_models; 1.2.0 trial boot and rollback $k_rollback; and" \
	"$(grep -vcx 0 "$work/points") second cuts in the boot after a cut"
if [ -s "$work/failed" ]; then
	sed 's/^/  did not recover: /' "$work/failed" >&2
	echo "FAIL: $(wc -l <"$work/failed") kill point(s) did not recover (see above)" >&2
	exit 1
fi
echo "$total kill points, all recovered"
done_ok
