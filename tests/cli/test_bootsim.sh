#!/usr/bin/env bash
# The A/B boot backends of client/boot.c (through tests/tools/upk_boot_tool) against the
# bootloader simulator tests/sim/upk-bootsim, on the same storage with the real tools, for
# file, uboot (fw_setenv/fw_printenv, with tests/sim/uboot-boot.txt as default environment),
# grub (grub-editenv) and script (a shell script keeping the file format): a trial of 2 boots
# the new slot twice and the third power-on falls back, trial cleared; a committed trial stays;
# a rollback by the agent boots the good slot. After every step the agent's view (read) equals
# the simulator's (show). Also: the simulator's usage errors and refusals, and grub.cfg
# passing grub-script-check.
set -euo pipefail
. "$(dirname "$0")/lib_check.bash"

: "${UPKEEP_BUILD_DIR:?UPKEEP_BUILD_DIR must point at the build directory}"
: "${UPKEEP_SOURCE_DIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
T="$UPKEEP_BUILD_DIR/tests/upk_boot_tool"
SIM="$UPKEEP_SOURCE_DIR/tests/sim/upk-bootsim"
[ -x "$T" ] || { echo "no $T" >&2; exit 1; }
[ -x "$SIM" ] || { echo "no $SIM" >&2; exit 1; }
for tool in fw_printenv fw_setenv grub-editenv grub-script-check; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/upk-bootsim.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir io
OUT="$work/io/out"
ERR="$work/io/err"

# The boot script of the script backend: the file format in $1.
cat >bootctl.sh <<'EOF'
state=$1; shift
other() { if [ "$1" = A ]; then echo B; else echo A; fi; }
case $1 in
read) [ ! -f "$state" ] || cat "$state" ;;
arm-trial) printf 'primary=%s\nfallback=%s\ntrial=1\ntries_left=%s\n' "$2" "$(other "$2")" "$3" >"$state.new" && mv "$state.new" "$state" ;;
set-good) printf 'primary=%s\nfallback=%s\ntrial=0\ntries_left=0\n' "$2" "$(other "$2")" >"$state.new" && mv "$state.new" "$state" ;;
*) exit 64 ;;
esac
EOF

# setup BACKEND: fresh storage; sets TOOL (upk_boot_tool options) and SIMARGS.
setup() {
	rm -rf "$work/s"
	mkdir "$work/s"
	case $1 in
	file)
		TOOL=(--backend file --file "$work/s/boot.state")
		SIMARGS=(--backend file --state "$work/s/boot.state")
		;;
	script)
		TOOL=(--backend script --script "/bin/sh '$work/bootctl.sh' '$work/s/boot.state'")
		SIMARGS=(--backend file --state "$work/s/boot.state")
		;;
	uboot)
		: >"$work/s/uboot.env"
		echo "$work/s/uboot.env 0x0 0x4000" >"$work/s/fw_env.config"
		mkdir "$work/s/state"
		TOOL=(--backend uboot --fw-config "$work/s/fw_env.config"
			--default-env "$UPKEEP_SOURCE_DIR/tests/sim/uboot-boot.txt"
			--state-dir "$work/s/state")
		SIMARGS=(--backend uboot --fw-config "$work/s/fw_env.config"
			--default-env "$UPKEEP_SOURCE_DIR/tests/sim/uboot-boot.txt")
		;;
	grub)
		TOOL=(--backend grub --grubenv "$work/s/grubenv")
		SIMARGS=(--backend grub --state "$work/s/grubenv")
		;;
	esac
}

# state PRIMARY FALLBACK TRIAL TRIES: the agent reads it, and the simulator shows the same.
state() {
	local want
	want=$(printf 'primary=%s\nfallback=%s\ntrial=%s\ntries_left=%s' "$@")
	expect 0 "$T" "${TOOL[@]}" read
	[ "$(cat "$OUT")" = "$want" ] || fail "$backend: agent reads $(tr '\n' ' ' <"$OUT"), want $*"
	expect 0 "$SIM" "${SIMARGS[@]}" show
	[ "$(cat "$OUT")" = "$want" ] || fail "$backend: simulator shows $(tr '\n' ' ' <"$OUT"), want $*"
}

# power_on SLOT: the simulator boots SLOT, and the agent finds itself booted from it.
power_on() {
	expect 0 "$SIM" "${SIMARGS[@]}" --cmdline "$work/s/cmdline" power-on
	[ "$(cat "$OUT")" = "booted $1" ] || fail "$backend: power-on: $(cat "$OUT"), want booted $1"
	grep -qx "root=/dev/slot-$1 upkeep.slot=$1" "$work/s/cmdline" || fail "$backend: cmdline"
	expect 0 "$T" booted "$work/s/cmdline"
	[ "$(cat "$OUT")" = "$1" ] || fail "$backend: agent booted from $(cat "$OUT"), want $1"
}

for backend in file uboot grub script; do
	setup $backend
	# Nothing stored yet: A, and power-on boots A without writing a trial.
	state A B 0 0
	power_on A
	power_on A
	state A B 0 0

	# A trial of 2 that is never committed: B, B, then back to A for good.
	expect 0 "$T" "${TOOL[@]}" arm B 2
	state B A 1 2
	power_on B
	state B A 1 1
	power_on B
	state B A 1 0
	power_on A
	state A A 0 0
	power_on A
	state A A 0 0

	# A committed trial stays.
	expect 0 "$T" "${TOOL[@]}" arm B 2
	power_on B
	expect 0 "$T" "${TOOL[@]}" good B
	state B A 0 0
	power_on B
	power_on B
	power_on B
	state B A 0 0

	# A trial of 1 that the agent rolls back (health check failed): the good slot boots.
	expect 0 "$T" "${TOOL[@]}" arm A 1
	power_on A
	expect 0 "$T" "${TOOL[@]}" good B
	power_on B
	power_on B
	state B A 0 0

	# A trial of 1 left alone: one boot, then the fallback.
	expect 0 "$T" "${TOOL[@]}" arm A 1
	power_on A
	power_on B
	state B B 0 0
done

# The uboot fallback really runs the altbootcmd in the environment, and U-Boot's counters
# end where U-Boot leaves them.
setup uboot
fwp() { fw_printenv -c "$work/s/fw_env.config" "$@" 2>/dev/null; }
expect 0 "$T" "${TOOL[@]}" arm B 1
power_on B
[ "$(fwp -n bootcount)" = 1 ] || fail "bootcount after one trial boot"
power_on A
[ "$(fwp -n upkeep_slot)" = A ] || fail "upkeep_slot after the fallback"
[ "$(fwp -n upgrade_available)" = 0 ] || fail "upgrade_available after the fallback"
[ "$(fwp -n bootcount)" = 0 ] || fail "bootcount after the fallback"
[ "$(fwp -n bootcmd)" = "run upkeep_boot" ] || fail "bootcmd of uboot-boot.txt"
expect 0 "$T" "${TOOL[@]}" arm B 1
fw_setenv -c "$work/s/fw_env.config" altbootcmd 'setenv upkeep_slot B; run bootcmd' 2>/dev/null
power_on B
power_on B # the altbootcmd now keeps B: the simulator ran it, not its own idea of a fallback
fw_setenv -c "$work/s/fw_env.config" altbootcmd 'setenv upkeep_slot A; reset' 2>/dev/null
expect 1 "$SIM" "${SIMARGS[@]}" --cmdline "$work/s/cmdline" power-on
err_has "unsupported command 'reset'"
fw_setenv -c "$work/s/fw_env.config" altbootcmd 'setenv upkeep_slot A; saveenv' 2>/dev/null
expect 1 "$SIM" "${SIMARGS[@]}" --cmdline "$work/s/cmdline" power-on
err_has "without booting"
fw_setenv -c "$work/s/fw_env.config" altbootcmd 2>/dev/null
expect 1 "$SIM" "${SIMARGS[@]}" --cmdline "$work/s/cmdline" power-on
err_has "altbootcmd is not set"
# A fresh environment without the default environment: neither side can read it.
setup uboot
expect 1 "$T" --backend uboot --fw-config "$work/s/fw_env.config" read
err_has "fw_printenv exited with status"
expect 1 "$SIM" --backend uboot --fw-config "$work/s/fw_env.config" show
err_has "give --default-env"

# A grubenv whose tries string is not ours: the agent refuses it, grub.cfg ends the trial.
setup grub
expect 0 "$T" "${TOOL[@]}" arm B 2
grub-editenv "$work/s/grubenv" set upkeep_tries=1x
expect 1 "$T" "${TOOL[@]}" read
err_has "bad upkeep_tries value '1x'"
power_on A
expect 0 "$SIM" "${SIMARGS[@]}" show
[ "$(cat "$OUT")" = "$(printf 'primary=A\nfallback=A\ntrial=0\ntries_left=0')" ] || fail "grub show"
expect 0 "$T" "${TOOL[@]}" good A
state A B 0 0

# The simulator refuses a malformed boot-state file, as the agent does.
setup file
printf 'primary=C\nfallback=A\ntrial=1\ntries_left=1\n' >"$work/s/boot.state"
expect 1 "$SIM" "${SIMARGS[@]}" --cmdline "$work/s/cmdline" power-on
err_has "bad primary value 'C'"
expect 1 "$T" "${TOOL[@]}" read
err_has "bad primary value 'C'"
printf 'primary=A\nfallback=B\ntrial=1\n' >"$work/s/boot.state"
expect 1 "$SIM" "${SIMARGS[@]}" show
err_has "tries_left is missing"

# Usage errors of the simulator: exit 2.
expect 2 "$SIM"
expect 2 "$SIM" --backend file --state x
err_has "no action"
expect 2 "$SIM" --backend lilo --state x show
err_has "unknown backend"
expect 2 "$SIM" --backend file show
err_has "needs --state"
expect 2 "$SIM" --backend uboot --state x show
expect 2 "$SIM" --backend grub --state x --fw-config y show
expect 2 "$SIM" --backend file --state x power-on
err_has "needs --cmdline"
expect 2 "$SIM" --backend file --state x show power-on
expect 2 "$SIM" --backend file --state x --bogus show
expect 2 "$SIM" --backend file --state
# And of the tool.
expect 2 "$T" --backend file --file x arm C 2
expect 2 "$T" --backend file --file x frobnicate
expect 2 "$T" --backend nope read
expect 2 "$T" --backend file read # no --file: configuration error
err_has "\[boot\] file"

# grub.cfg is a GRUB script GRUB accepts.
expect 0 grub-script-check "$UPKEEP_SOURCE_DIR/tests/sim/grub.cfg"

echo "ok: $checks checks"
