#!/usr/bin/env bash
# Integration test of the device agent (client/agent.c, issue 7) against `upkeep-server
# serve` on loopback, with the `file` boot backend and the bootloader simulator:
# install -> trial boot -> health check -> commit; a release whose health check fails
# rolls back by itself (exit 15); a release that does not boot at all falls back when the
# boot counter runs out (exit 15 at the next boot); an older or lower-security release
# (exit 12), another product or hardware, an unmet requirement (exit 14) are refused
# before any payload byte with the device unchanged; models commit and roll back with
# their firmware; a models-only release is self-tested without a reboot; offline install
# from a bundle file and a metadata directory; status, check, run --once and policy.
. "$(dirname "$0")/test_agent_lib.bash"

agent_repo
new_device file
[ "$booted" = A ] || fail "the factory image does not boot from slot A"

# --- usage and configuration ---
expect 0 "$C" install --help
out_has 'Usage: upkeep-client install'
expect 2 "$C" install --config "$dev/client.conf" --bogus
expect 2 "$C" boot --config "$work/nonexistent.conf"
err_has 'nonexistent.conf'
grep -v '^product' "$dev/client.conf" >"$work/noproduct.conf"
expect 2 "$C" status --config "$work/noproduct.conf"
err_has 'product'

# --- first status: provisioned from the factory image ---
status_is "d['active'] == 'A' and d['firmware']['version'] == '1.0.0' and d['trial'] is None"
status_is "d['booted'] == 'A' and d['boot']['backend'] == 'file'"

# --- no release yet ---
client 0 check
out_has 'no release'
client 0 install
out_has 'no release'

# --- 1.1.0: firmware + model, health ok ---
image "$work/rel/fw-1.1.0.img" 512 ok fw-1.1
model "$work/rel/detector-1.1.0.onnx" ok
release 1.1.0 2 security --firmware "$work/rel/fw-1.1.0.img" \
	--model detector="$work/rel/detector-1.1.0.onnx" --support-end 2031-12-31
client 0 check --json
[ "$(json "$OUT" "d['release'] == 'cam-1.1.0.upk' and d['applies'] and d['automatic']")" = True ] ||
	fail "check does not offer 1.1.0"
client 0 install --no-reboot
out_has 'armed for a trial boot'
cmp -s "$dev/slot-B" "$work/rel/fw-1.1.0.img" || fail "slot B is not the 1.1.0 image"
# The signed header is fetched once for both components (firmware and model).
[ "$(grep -c 'cam-1\.1\.0\.upk bytes=0-' io/serve.err)" = 1 ] ||
	fail "the header of cam-1.1.0.upk was fetched $(grep -c 'cam-1\.1\.0\.upk bytes=0-' io/serve.err) times"
status_is "d['trial']['phase'] == 'armed' and d['trial']['slot'] == 'B'"
status_is "d['boot']['trial'] and d['boot']['primary'] == 'B'"
# A second install while the trial is pending is refused (exit 3: after the reboot).
device_unchanged_after 3 install --no-reboot
err_has 'trial of cam-1.1.0.upk'
power_on
[ "$booted" = B ] || fail "the trial slot B did not boot"
client 0 boot --no-reboot
out_has 'health check: passed'
out_has 'committed cam-1.1.0.upk 1.1.0'
status_is "d['active'] == 'B' and d['firmware']['version'] == '1.1.0' and d['firmware']['floor'] == 2"
status_is "d['models']['detector']['version'] == '1.1.0' and d['trial'] is None"
status_is "d['support_end'] == '2031-12-31' and not d['boot']['trial']"
[ "$(readlink "$dev/models/detector/current")" = 1.1.0 ] || fail "model 1.1.0 is not current"
cmp -s "$dev/models/detector/current/detector" "$work/rel/detector-1.1.0.onnx" ||
	fail "the model file differs"
power_on
[ "$booted" = B ] || fail "the committed slot B does not boot again"
client 0 boot
out_has 'committed'
grep -q '"event":"commit"' "$dev/state/log" || fail "no commit in the event log"
client 0 install
out_has 'already installed'

# --- 1.2.0: health check fails -> rollback by itself, models too ---
image "$work/rel/fw-1.2.0.img" 512 fail fw-1.1
model "$work/rel/detector-1.2.0.onnx" ok
release 1.2.0 3 feature --firmware "$work/rel/fw-1.2.0.img" \
	--model detector="$work/rel/detector-1.2.0.onnx"
# On a terminal: one progress line per component with bytes, rate and ETA.
script -qec "$C install --config $dev/client.conf --no-reboot" /dev/null >"$OUT" 2>"$ERR" ||
	fail "install on a terminal failed"
out_has 'reused locally'
grep -aqE 'firmware: 100%  0\.5/0\.5 MiB  [0-9.]+ MiB/s  ETA [0-9]+ s' "$OUT" ||
	fail "no progress line on the terminal"
power_on
[ "$booted" = A ] || fail "the 1.2.0 trial did not boot from slot A"
client 15 boot --no-reboot
out_has 'health check: FAILED'
err_has 'rolled back'
status_is "d['active'] == 'B' and d['slots']['A']['status'] == 'bad' and d['firmware']['floor'] == 2"
status_is "d['models']['detector']['version'] == '1.1.0' and not d['boot']['trial'] and d['boot']['primary'] == 'B'"
[ "$(readlink "$dev/models/detector/current")" = 1.1.0 ] || fail "model not rolled back"
[ ! -e "$dev/models/detector/1.2.0" ] || fail "the rolled-back model version was kept"
grep -q '"event":"rollback"' "$dev/state/log" || fail "no rollback in the event log"
power_on
[ "$booted" = B ] || fail "after the rollback slot B does not boot"
client 0 boot

# --- 1.3.0: does not boot at all -> the bootloader falls back by itself ---
image "$work/rel/fw-1.3.0.img" 512 ok fw-1.3
release 1.3.0 3 feature --firmware "$work/rel/fw-1.3.0.img"
client 0 install --no-reboot --json
"$PY" - "$OUT" <<'EOF'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
prog = [e for e in ev if e["event"] == "progress"]
assert prog and prog[-1]["done"] == prog[-1]["chunks"] and prog[-1]["bytes"] == 512 * 1024, ev
assert ev[-1] == {"event": "armed", "release": "cam-1.3.0.upk", "version": "1.3.0", "slot": "A"}, ev
EOF
[ ! -s "$ERR" ] || fail "install --json wrote to stderr"
for i in 1 2; do
	power_on # the kernel of 1.3.0 hangs: `boot` never runs
	[ "$booted" = A ] || fail "trial boot $i was not slot A"
done
power_on
[ "$booted" = B ] || fail "the boot counter ran out and slot B did not boot"
client 15 boot
err_has 'did not boot'
status_is "d['active'] == 'B' and d['slots']['A']['status'] == 'bad' and d['trial'] is None"

# --- refusals before any payload byte, device unchanged ---
image "$work/rel/fw-0.9.0.img" 512 ok fw-0.9
release 0.9.0 1 feature --firmware "$work/rel/fw-0.9.0.img"
device_unchanged_after 12 install cam-0.9.0.upk
err_has 'rollback'
image "$work/rel/fw-2.0.0.img" 512 ok fw-2
release 2.0.0 1 feature --firmware "$work/rel/fw-2.0.0.img"
device_unchanged_after 12 install cam-2.0.0.upk
err_has 'below the firmware floor 2'
# Another product, then hardware this device is not: PRODUCT HARDWARE EXPECTED-ERROR.
for case in "other rev-a product 'other'" "cam rev-z hardware 'rev-a'"; do
	read -r product hw why <<<"$case"
	expect 0 "$S" bundle create --out "$work/rel/$product-3.0.0.upk" --product "$product" \
		--hardware "$hw" --version 3.0.0 --security-version 5 --kind feature \
		--firmware "$work/rel/fw-1.3.0.img" --build-time 2026-01-01T00:00:00Z
	expect 0 "$S" publish --repo "$repo" --key keys/targets.key --online-keys online \
		"$work/rel/$product-3.0.0.upk"
	device_unchanged_after 14 install "$product-3.0.0.upk"
	err_has "$why"
done
model "$work/rel/detector-3.1.0.onnx" ok
release 3.1.0 4 feature --model detector="$work/rel/detector-3.1.0.onnx" \
	--requires 'firmware>=3.0.0'
device_unchanged_after 14 install cam-3.1.0.upk
err_has 'requirement firmware >= 3.0.0 is not met'
expect 0 "$S" publish --repo "$repo" --key keys/targets.key --online-keys online \
	--name cam-9.9.9.upk "$work/rel/fw-1.3.0.img"
device_unchanged_after 14 install cam-9.9.9.upk
err_has 'not an Upkeep release'
device_unchanged_after 1 install cam-404.upk
# Nothing of the refused payloads was requested.
! grep -qE 'cam-(0\.9\.0|2\.0\.0|3\.0\.0|3\.1\.0)\.upk' io/serve.err || fail "a refused bundle was fetched"

# --- models-only releases: self-test decides at once, no reboot ---
model "$work/rel/detector-1.4.0.onnx" ok
release 1.4.0 3 feature --model detector="$work/rel/detector-1.4.0.onnx" \
	--requires 'firmware>=1.1.0'
client 0 install cam-1.4.0.upk
out_has 'self-test of model detector 1.4.0: passed'
status_is "d['models']['detector']['version'] == '1.4.0' and d['models']['detector']['floor'] == 3"
[ "$(readlink "$dev/models/detector/previous")" = 1.1.0 ] || fail "previous model not kept"
model "$work/rel/detector-1.5.0.onnx" fail
release 1.5.0 3 feature --model detector="$work/rel/detector-1.5.0.onnx"
client 15 install cam-1.5.0.upk
err_has 'self-test'
status_is "d['models']['detector']['version'] == '1.4.0' and d['trial'] is None"
[ "$(readlink "$dev/models/detector/current")" = 1.4.0 ] || fail "model self-test did not roll back"

# --- run --once and policy: feature updates are off by default ---
image "$work/rel/fw-1.6.0.img" 512 ok fw-1.3
release 1.6.0 3 feature --firmware "$work/rel/fw-1.6.0.img"
device_unchanged_after 16 run --once --no-reboot
err_has 'feature_updates = off'
image "$work/rel/fw-1.7.0.img" 512 ok fw-1.3
release 1.7.0 4 security --firmware "$work/rel/fw-1.7.0.img"
# Bounded postponement: the user may put automatic installs off, never past postpone_max.
client 0 postpone 30d
out_has 'postpone_max limit'
device_unchanged_after 16 run --once --no-reboot
err_has 'postponed until'
expect 2 "$C" postpone --config "$dev/client.conf"
expect 2 "$C" postpone 12 --config "$dev/client.conf"
now=$(date +%s)
printf 'since %d\nuntil %d\n' $((now - 8 * 86400)) $((now - 86400)) >"$dev/state/postpone"
client 16 postpone 1h
err_has 'postpone_max was reached'
printf 'garbage\n' >"$dev/state/postpone"
device_unchanged_after 1 run --once --no-reboot
err_has 'damaged postponement file'
client 0 postpone --clear
[ ! -e "$dev/state/postpone" ] || fail "postpone --clear left the file"
before=$(grep -c 'timestamp.json' io/serve.err)
client 0 run --once --no-reboot
out_has 'installing cam-1.7.0.upk'
# One metadata update per round: the install uses the session that found the release.
[ $(($(grep -c 'timestamp.json' io/serve.err) - before)) = 1 ] || fail "run refreshed twice"
power_on
client 0 boot
status_is "d['firmware']['version'] == '1.7.0' and d['active'] == 'A' and d['firmware']['floor'] == 4"

# --- offline install from a USB stick: bundle + metadata directory ---
image "$work/rel/fw-1.8.0.img" 512 ok fw-1.8
release 1.8.0 4 security --firmware "$work/rel/fw-1.8.0.img"
image "$work/rel/fw-1.9.0.img" 512 ok fw-1.9
release 1.9.0 4 security --firmware "$work/rel/fw-1.9.0.img"
mkdir -p "$work/usb/metadata" "$work/usb2"
cp "$repo"/metadata/*.json "$work/usb/metadata/"
cp "$work/rel/cam-1.8.0.upk" "$work/usb/"
serve_stop # no network from here on
client 0 postpone 1h # `install` by hand is never held back; a commit ends the postponement
client 0 install --from "$work/usb/cam-1.8.0.upk" --no-reboot
power_on
client 0 boot
[ ! -e "$dev/state/postpone" ] || fail "the postponement outlived a commit"
status_is "d['firmware']['version'] == '1.8.0'"
# A bundle file that is not the signed one is refused before anything is written.
cp "$work/rel/cam-1.7.0.upk" "$work/usb/cam-1.9.0.upk"
device_unchanged_after 10 install --from "$work/usb/cam-1.9.0.upk" --no-reboot
err_has 'cam-1.9.0.upk'
cp "$work/rel/cam-1.9.0.upk" "$work/usb/bad.upk"
printf 'X' | dd of="$work/usb/bad.upk" bs=1 seek=100000 conv=notrunc status=none
device_unchanged_after 10 install --from "$work/usb/bad.upk" cam-1.9.0.upk --no-reboot
err_has 'SHA-256 differs'
# No metadata directory next to the file.
cp "$work/rel/cam-1.9.0.upk" "$work/usb2/"
device_unchanged_after 2 install --from "$work/usb2/cam-1.9.0.upk" --no-reboot
device_unchanged_after 2 install --from "$work/usb/none.upk" --no-reboot
# Metadata that is not signed by the trusted keys is refused.
"$PY" - "$work/usb/metadata/timestamp.json" <<'EOF2'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["signed"]["version"] += 100
json.dump(d, open(p, "w"))
EOF2
device_unchanged_after 11 install --from "$work/rel/cam-1.9.0.upk" --metadata "$work/usb/metadata" \
	--no-reboot

done_ok
