# The checks test_crash.sh makes on the simulated device after every power cut (not a test
# itself: ctest runs tests/crash/test_*.sh). One Python process per check is cheaper than a
# dozen shell tools, and there are about a thousand checks.
#
#   /usr/bin/python3 check_device.py WHERE STATUS_JSON SPEC_JSON
#
# STATUS_JSON is the output of `upkeep-client status --json`; the device's files are under
# $UPKEEP_SLOT_DIR (slot-A, slot-B, models/). SPEC:
#   images:       {version: file} of every firmware image a slot the bootloader can pick may
#                 hold (a slot being written is never bootable)
#   floors:       {version: firmware floor} for every firmware version that may be committed
#                 (the floor is the one that version implies: floors never drop, and a
#                 release that was rolled back never raised one)
#   models:       {version: file} of every model version `current` may point at
#   model_floors: {version: floor} for every model version that may be committed
#   final:        {version, floor, model[, bad: {slot: version}][, failed: release]}: the one
#                 end state allowed (committed, no trial)
# Exit 0 if every check passed; else 1, each failure on stderr prefixed with WHERE.
import filecmp
import json
import os
import sys

where, status_path, spec = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
dev = os.environ["UPKEEP_SLOT_DIR"]
d = json.load(open(status_path))
errs = []


def same(a, b):
    return os.path.isfile(a) and filecmp.cmp(a, b, shallow=False)


def slot_file(s):
    return os.path.join(dev, "slot-" + s)


def verified(what, s):
    if s not in ("A", "B"):
        errs.append("%s: no slot (%r)" % (what, s))
    elif not any(same(slot_file(s), f) for f in spec["images"].values()):
        errs.append("%s: slot %s holds no verified image" % (what, s))


booted, fw, trial, boot = d["booted"], d["firmware"], d["trial"], d["boot"]

# The running slot, and every slot the bootloader may boot next, hold a whole image.
verified("booted", booted)
verified("the bootloader's next boot", boot["primary"])
if boot["trial"]:
    verified("the bootloader's fallback", boot["fallback"])

# The committed firmware and its floor.
if fw["version"] not in spec["floors"]:
    errs.append("committed firmware %s is not one of %s" % (fw["version"], sorted(spec["floors"])))
elif fw["floor"] != spec["floors"][fw["version"]]:
    errs.append("firmware floor %d, want %d with %s committed"
                % (fw["floor"], spec["floors"][fw["version"]], fw["version"]))
if trial is None:
    act, v = d["active"], fw["version"]
    # Outside a trial the bootloader boots the committed slot; the system may still run a
    # slot that was just rolled back (marked bad) until that reboot.
    if boot["trial"] or boot["primary"] != act:
        errs.append("no trial, but the boot state is %s (committed slot %s)" % (boot, act))
    if booted != act and d["slots"].get(booted, {}).get("status") != "bad":
        errs.append("slot %s booted, but slot %s is committed" % (booted, act))
    if d["slots"][act] != {"status": "good", "version": v}:
        errs.append("committed slot %s is %s, want good %s" % (act, d["slots"][act], v))
    if v in spec["images"] and not same(slot_file(act), spec["images"][v]):
        errs.append("committed slot %s does not hold the %s image" % (act, v))

# The committed model, its floor, and the file `current` points at.
m = d["models"].get("detector")
if m is not None:
    if m["version"] not in spec.get("model_floors", {}):
        errs.append("committed model %s unexpected" % m["version"])
    elif m["floor"] != spec["model_floors"][m["version"]]:
        errs.append("model floor %d, want %d" % (m["floor"], spec["model_floors"][m["version"]]))
cur = os.path.join(dev, "models", "detector", "current")
if os.path.lexists(cur):
    t = os.readlink(cur)
    if t not in spec["models"]:
        errs.append("models/detector/current -> %s, not a published version" % t)
    elif not same(os.path.join(cur, "detector"), spec["models"][t]):
        errs.append("models/detector/current (%s) is not the published model file" % t)
    elif trial is None and m is not None and t != m["version"]:
        errs.append("models/detector/current -> %s, committed %s" % (t, m["version"]))
    elif trial is None and m is None:
        errs.append("models/detector/current -> %s, but no model is committed" % t)
elif m is not None:
    errs.append("model %s committed but models/detector/current is missing" % m["version"])

f = spec.get("final")
if f:
    if trial is not None:
        errs.append("a trial is still in progress: %s" % trial)
    if booted != d["active"]:
        errs.append("slot %s booted, but slot %s is committed" % (booted, d["active"]))
    if fw["version"] != f["version"] or fw["floor"] != f["floor"]:
        errs.append("runs %s floor %d, want %s floor %d"
                    % (fw["version"], fw["floor"], f["version"], f["floor"]))
    if m is None or m["version"] != f["model"] or not os.path.lexists(cur) \
            or os.readlink(cur) != f["model"]:
        errs.append("model detector is not %s" % f["model"])
    if "failed" in f and f["failed"] not in d["failed"]:
        errs.append("%s is not listed as failed" % f["failed"])
    for s, v in f.get("bad", {}).items():
        if d["slots"][s] != {"status": "bad", "version": v}:
            errs.append("slot %s is %s, want bad %s" % (s, d["slots"][s], v))

if errs:
    sys.stderr.write("".join("FAIL: %s: %s\n" % (where, e) for e in errs))
    sys.stderr.write(json.dumps(d, indent=1, sort_keys=True) + "\n")
    sys.exit(1)
