# Shared helpers of the device agent tests (tests/cli/test_agent*.sh and tests/crash/),
# sourced by each. Not a test itself.
#
# A simulated device: file-backed A/B slots, a boot backend on files, the bootloader
# simulator tests/sim/upk-bootsim, a health check that reads a marker at the end of the
# booted slot's image ("HEALTH=ok" or "HEALTH=fail"), a model self-test that reads a
# marker in the model file ("SELFTEST=ok"/"SELFTEST=fail"), and a repository served by
# `upkeep-server serve` on loopback.
. "$(dirname "${BASH_SOURCE[0]}")/test_repo_lib.bash"

C="$UPKEEP_BUILD_DIR/client/upkeep-client"
BOOTSIM="${UPKEEP_BOOTSIM:-$UPKEEP_SOURCE_DIR/tests/sim/upk-bootsim}"
[ -x "$C" ] || fail "no $C"
[ -x "$BOOTSIM" ] || fail "no $BOOTSIM"
export UPKEEP_SLOT_DIR="$work/dev"

# image FILE SIZE_KIB HEALTH [SEED]: a firmware image of SIZE KiB (mostly reproducible
# from SEED, so versions share chunks) ending in the health marker.
image() {
	"$PY" - "$@" <<'EOF'
import random, sys
path, kib, health = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seed = sys.argv[4] if len(sys.argv) > 4 else path
r = random.Random(seed)
body = bytearray()
while len(body) < kib * 1024 - 64:
    body += r.randbytes(32768) if r.random() < 0.5 else b"firmware text block %d\n" % len(body) * 800
body = bytes(body[: kib * 1024 - 64])
open(path, "wb").write(body + ("\nHEALTH=%s\n" % health).encode().ljust(64, b"#"))
EOF
}

# model FILE SELFTEST [SIZE_KIB]: a model file with its self-test marker.
model() {
	"$PY" - "$@" <<'EOF'
import random, sys
path, verdict = sys.argv[1], sys.argv[2]
kib = int(sys.argv[3]) if len(sys.argv) > 3 else 256
r = random.Random(path)
open(path, "wb").write(("SELFTEST=%s\n" % verdict).encode() + r.randbytes(kib * 1024))
EOF
}

# release VERSION SECVER KIND [bundle create args...]: build and publish cam-VERSION.upk.
release() {
	local v=$1 sv=$2 kind=$3
	shift 3
	local extra=()
	[ "$kind" = security ] && extra+=(--advisory "$work/advisory.json")
	expect 0 "$S" bundle create --out "$work/rel/cam-$v.upk" --product cam \
		--hardware rev-a --hardware rev-b --version "$v" --security-version "$sv" \
		--kind "$kind" --build-time 2026-01-01T00:00:00Z --jobs 1 "${extra[@]}" "$@"
	expect 0 "$S" publish --repo "$repo" --key keys/targets.key --online-keys online \
		"$work/rel/cam-$v.upk"
}

# new_device [BACKEND]: $dev/ with slots, boot state, config $dev/client.conf; the
# factory image (version 1.0.0) in slot A, booted.
new_device() {
	local backend=${1:-file}
	dev="$work/dev"
	mkdir -p "$dev/state" "$dev/models"
	image "$dev/factory.img" 512 ok factory
	cp "$dev/factory.img" "$dev/slot-A"
	: >"$dev/slot-B"
	cat >"$dev/client.conf" <<EOF
[repository]
metadata_url = $BASE/metadata
targets_url = $BASE/targets

[device]
state_dir = $dev/state
trusted_root = $repo/metadata/1.root.json
product = cam
hardware = rev-a
factory_version = 1.0.0

[slots]
a = $dev/slot-A
b = $dev/slot-B

[boot]
backend = $backend
cmdline = $dev/cmdline
trial_boots = 2
EOF
	case $backend in
	file) echo "file = $dev/bootstate" >>"$dev/client.conf" ;;
	uboot)
		# The environment partition exists but holds no valid environment yet.
		printf '%s 0x0 0x4000\n' "$dev/uboot.env" >"$dev/fw_env.config"
		: >"$dev/uboot.env"
		cp "$UPKEEP_SOURCE_DIR/tests/sim/uboot-boot.txt" "$dev/default.env"
		{ echo "fw_env_config = $dev/fw_env.config"; echo "default_env = $dev/default.env"; } \
			>>"$dev/client.conf"
		;;
	grub) echo "grubenv = $dev/grubenv" >>"$dev/client.conf" ;;
	script)
		# The script backend keeps the file backend's format in a file of its own.
		cat >"$dev/boot.sh" <<'EOS'
#!/bin/sh
f=$UPKEEP_SLOT_DIR/bootstate
case $1 in
read) [ -f "$f" ] && cat "$f" || printf 'primary=A\nfallback=B\ntrial=0\ntries_left=0\n' ;;
arm-trial) o=A; [ "$2" = A ] && o=B
	printf 'primary=%s\nfallback=%s\ntrial=1\ntries_left=%s\n' "$2" "$o" "$3" >"$f.tmp" && mv "$f.tmp" "$f" ;;
set-good) o=A; [ "$2" = A ] && o=B
	printf 'primary=%s\nfallback=%s\ntrial=0\ntries_left=0\n' "$2" "$o" >"$f.tmp" && mv "$f.tmp" "$f" ;;
*) exit 2 ;;
esac
EOS
		chmod +x "$dev/boot.sh"
		echo "script = $dev/boot.sh" >>"$dev/client.conf"
		;;
	esac
	cat >>"$dev/client.conf" <<EOF

[health]
command = tail -c 64 $dev/slot-\$UPKEEP_SLOT | grep -q HEALTH=ok
timeout = 20s

[models]
dir = $dev/models
selftest_command = head -c 12 "\$UPKEEP_MODEL_PATH" | grep -q SELFTEST=ok
selftest_timeout = 20s
EOF
	power_on
}

# The simulator's arguments for this device's backend.
bootsim_args() {
	local backend
	backend=$(sed -n 's/^backend = //p' "$dev/client.conf")
	case $backend in
	file | script) echo --backend file --state "$dev/bootstate" ;;
	uboot) echo --backend uboot --fw-config "$dev/fw_env.config" \
		--default-env "$dev/default.env" ;;
	grub) echo --backend grub --state "$dev/grubenv" ;;
	esac
}

# power_on: the bootloader picks a slot and writes the kernel command line; prints the
# slot ("A" or "B") into $booted.
power_on() {
	# shellcheck disable=SC2046
	booted=$("$BOOTSIM" $(bootsim_args) --cmdline "$dev/cmdline" power-on) ||
		fail "bootsim power-on failed"
	booted=${booted#booted }
}

# client CODE COMMAND ARGS...: upkeep-client COMMAND --config $dev/client.conf ARGS.
client() {
	local code=$1 cmd=$2
	shift 2
	expect "$code" "$C" "$cmd" --config "$dev/client.conf" "$@"
}

# device_state: everything a refusal must leave unchanged (slots, state, boot state,
# models), as one text.
device_state() {
	(cd "$dev" && find slot-A slot-B state/device.json models bootstate uboot.env grubenv \
		-type f -print0 2>/dev/null | LC_ALL=C sort -z | xargs -0 -r sha256sum
	find "$dev/models" -type l -printf '%p -> %l\n' | LC_ALL=C sort)
}

# device_unchanged_after CODE COMMAND ARGS...
device_unchanged_after() {
	local before
	before=$(device_state)
	client "$@"
	[ "$(device_state)" = "$before" ] || fail "'upkeep-client $*' changed the device"
}

# status_is EXPR: a Python expression on `upkeep-client status --json` (as d) is true.
status_is() {
	"$C" status --config "$dev/client.conf" --json >"$work/io/status.json" 2>"$ERR" ||
		fail "status failed"
	[ "$(json "$work/io/status.json" "$1")" = True ] || {
		cat "$work/io/status.json" >&2
		fail "status: not $1"
	}
	checks=$((checks + 1))
}

# A repository, advisory and server shared by the tests.
agent_repo() {
	new_repo
	mkdir -p "$work/rel"
	cat >"$work/advisory.json" <<'EOF'
{"summary": "Fixes a remote code execution in the camera's RTSP server.", "cves": ["CVE-2026-12345"], "severity": "high", "action": "Install within 7 days."}
EOF
	serve_start --online-keys online
}
