#!/usr/bin/env bash
# The device agent through each boot backend, against the real tools on files
# (fw_printenv/fw_setenv for `uboot`, grub-editenv for `grub`, a shell script for
# `script`; `file` is covered by test_agent.sh): for each, install -> trial boot ->
# health check -> commit; a release whose health check fails rolls back by itself; a
# release that never boots falls back when the bootloader's counter runs out. The
# bootloader simulator reads the same variables a U-Boot or GRUB script would.
. "$(dirname "$0")/test_agent_lib.bash"

agent_repo
image "$work/rel/fw-1.1.0.img" 512 ok fw-1.1
image "$work/rel/fw-1.2.0.img" 512 fail fw-1.1
image "$work/rel/fw-1.3.0.img" 512 ok fw-1.3
release 1.1.0 1 feature --firmware "$work/rel/fw-1.1.0.img"
release 1.2.0 1 feature --firmware "$work/rel/fw-1.2.0.img"
release 1.3.0 1 feature --firmware "$work/rel/fw-1.3.0.img"

for backend in uboot grub script; do
	rm -rf "$work/dev"
	new_device "$backend"
	[ "$booted" = A ] || fail "$backend: the factory slot A does not boot"
	status_is "d['boot']['backend'] == '$backend' and not d['boot']['trial']"

	client 0 install cam-1.1.0.upk --no-reboot
	status_is "d['boot']['trial'] and d['boot']['primary'] == 'B' and d['boot']['tries_left'] == 2"
	case $backend in
	uboot)
		fw_printenv -c "$dev/fw_env.config" upgrade_available bootlimit upkeep_slot >"$OUT"
		out_has '^upgrade_available=1$'
		out_has '^bootlimit=2$'
		out_has '^upkeep_slot=B$'
		;;
	grub)
		grub-editenv "$dev/grubenv" list >"$OUT"
		out_has '^upkeep_trial=1$'
		out_has '^upkeep_tries=11$'
		;;
	esac
	power_on
	[ "$booted" = B ] || fail "$backend: the trial slot B did not boot"
	client 0 boot --no-reboot
	out_has 'committed'
	status_is "d['active'] == 'B' and not d['boot']['trial'] and d['boot']['primary'] == 'B'"
	power_on
	[ "$booted" = B ] || fail "$backend: the committed slot B does not boot again"

	# Health check fails: rolled back by the agent, the old slot boots.
	client 0 install cam-1.2.0.upk --no-reboot
	power_on
	[ "$booted" = A ] || fail "$backend: the 1.2.0 trial did not boot"
	client 15 boot --no-reboot
	status_is "d['active'] == 'B' and d['slots']['A']['status'] == 'bad' and not d['boot']['trial']"
	power_on
	[ "$booted" = B ] || fail "$backend: slot B does not boot after the rollback"

	# Never boots: the bootloader falls back by itself after two tries.
	client 0 install cam-1.3.0.upk --no-reboot
	power_on
	power_on
	[ "$booted" = A ] || fail "$backend: second trial boot was not slot A"
	power_on
	[ "$booted" = B ] || fail "$backend: the boot counter ran out but slot B did not boot"
	client 15 boot
	err_has 'did not boot'
	status_is "d['active'] == 'B' and d['trial'] is None and d['slots']['A']['status'] == 'bad'"
	client 0 boot
done

# A health check that hangs past its timeout, or dies of a signal, is a failure: rollback.
for hc in 'sleep 30' 'kill -9 $$'; do
	rm -rf "$work/dev"
	new_device file
	sed -i "s|^command = .*|command = $hc|; s|^timeout = 20s|timeout = 1s|" "$dev/client.conf"
	client 0 install cam-1.1.0.upk --no-reboot
	power_on
	t0=$(date +%s)
	client 15 boot --no-reboot
	[ $(($(date +%s) - t0)) -lt 20 ] || fail "'$hc': the health check was not cut at its timeout"
	case $hc in
	sleep*) out_has 'health check timed out after 1 s' ;;
	*) out_has 'health check exited with status 137' ;;
	esac
	status_is "d['active'] == 'A' and d['slots']['B']['status'] == 'bad' and d['trial'] is None"
	power_on
	[ "$booted" = A ] || fail "'$hc': slot A does not boot after the rollback"
done

# commit and rollback by hand; a boot state edited behind the agent's back is repaired.
rm -rf "$work/dev"
new_device file
client 0 status
device_unchanged_after 2 commit
err_has 'no trial in progress'
client 0 install cam-1.1.0.upk --no-reboot
device_unchanged_after 2 commit # the trial slot is not running yet
err_has 'boot the trial slot first'
power_on
client 0 commit
out_has 'committed cam-1.1.0.upk'
status_is "d['active'] == 'B' and d['firmware']['version'] == '1.1.0' and not d['boot']['trial']"
client 0 install cam-1.3.0.upk --no-reboot
power_on
[ "$booted" = A ] || fail "the 1.3.0 trial did not boot"
client 0 rollback --no-reboot
out_has 'rolled back cam-1.3.0.upk 1.3.0: rolled back by hand'
status_is "d['active'] == 'B' and d['slots']['A']['status'] == 'bad' and d['boot']['primary'] == 'B'"
power_on
[ "$booted" = B ] || fail "slot B does not boot after the rollback by hand"
printf 'primary=A\nfallback=B\ntrial=0\ntries_left=0\n' >"$dev/bootstate"
client 0 boot
status_is "d['boot']['primary'] == 'B'"
grep -q '"event":"boot state repaired"' "$dev/state/log" || fail "no repair in the event log"

# run without --once: polls, installs what the policy allows, and stops on SIGTERM.
sed -i 's/^\[health\]/[policy]\nfeature_updates = auto\npoll_interval = 1s\n\n[health]/' "$dev/client.conf"
"$C" run --config "$dev/client.conf" --no-reboot >"$OUT" 2>"$ERR" &
runner=$!
for _ in $(seq 1 300); do
	grep -q '"event":"installed"' "$dev/state/log" && [ "$(grep -c '"event":"installed"' "$dev/state/log")" -ge 3 ] && break
	sleep 0.1
done
kill -TERM "$runner"
rc=0
wait "$runner" || rc=$?
[ "$rc" = 0 ] || fail "run exited $rc after SIGTERM"
out_has 'installing cam-1.9.0.upk|installing cam-1.2.0.upk'
checks=$((checks + 1))

# A damaged device state is reported, never guessed around or rewritten.
printf '{"format": 1, "active": "C"}' >"$dev/state/device.json"
for cmd in status boot install; do
	device_unchanged_after 1 "$cmd"
	err_has 'damaged device state'
done

# The time floor: an install raises it to the release's signed build time, capped at the
# trusted timestamp's expiry (a build time in the future must not freeze the device).
rm -rf "$work/dev"
new_device file
expect 0 "$S" bundle create --out "$work/rel/cam-1.9.0.upk" --product cam --hardware rev-a \
	--version 1.9.0 --security-version 1 --kind feature --firmware "$work/rel/fw-1.1.0.img" \
	--build-time 2099-01-01T00:00:00Z
expect 0 "$S" publish --repo "$repo" --key keys/targets.key --online-keys online \
	"$work/rel/cam-1.9.0.upk"
client 0 install cam-1.9.0.upk --no-reboot
ts_expiry=$(date -d "$(json "$repo/metadata/timestamp.json" "d['signed']['expires']")" +%s)
[ "$(cat "$dev/state/time-floor")" = $((ts_expiry - 1)) ] ||
	fail "time floor $(cat "$dev/state/time-floor"), want the timestamp expiry - 1 ($((ts_expiry - 1)))"
client 0 refresh
err_has 'before the time floor'
power_on
client 0 boot

# A boot state the agent cannot read is an error, never a guess; the device is unchanged.
rm -rf "$work/dev"
new_device grub
client 0 status
grub-editenv "$dev/grubenv" set upkeep_slot=C
device_unchanged_after 1 install cam-1.1.0.upk --no-reboot
err_has 'upkeep_slot'

done_ok
