#!/usr/bin/env bash
# CLI test of upkeep-server init (upkeep-server.1.md): --help/--version and usage errors
# of every repository command; the layout and content init writes, with every
# signature checked by securesystemslib; thresholds, public keys, online keys,
# encrypted keys and --expires; every refusal leaves no repository behind.
. "$(dirname "$0")/test_repo_lib.bash"

# ---- --help, --version, usage errors of every command ----
for cmd in init publish delegate rotate yank refresh verify; do
	expect 0 "$S" "$cmd" --help
	out_has "^Usage: upkeep-server $cmd "
	expect 0 "$S" "$cmd" --version
	out_has '^upkeep-server [0-9]+\.[0-9]+\.[0-9]+'
	expect 2 "$S" "$cmd" --no-such-option
	err_is 'unknown option .--no-such-option. \(USAGE\)'
	expect 2 "$S" "$cmd" --repo
	err_is 'needs a value \(USAGE\)'
done
expect 0 "$S" --help
for cmd in init publish delegate rotate yank refresh verify; do
	out_has "^  $cmd "
done
expect 2 "$S" init --repo r --repo r2
err_is 'given twice'
expect 2 "$S" verify --repo r --terminating
err_is 'does not apply here'
expect 2 "$S" refresh --repo r --online-keys online stray
err_is "unexpected argument 'stray'"
expect 2 "$S" refresh --repo r
err_is 'online-keys DIR \(or UPKEEP_ONLINE_KEYS\) is required'

mkkey keys/root.key
mkkey keys/root2.key
mkkey keys/targets.key
mkkey online/snapshot.key
mkkey online/timestamp.key
"$K" export-public keys/root2.key >keys/root2.pub
"$K" export-public online/snapshot.key >keys/snapshot.pub
"$K" export-public online/timestamp.key >keys/timestamp.pub
INIT_KEYS=(--root-key keys/root.key --targets-key keys/targets.key
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key)

# ---- refusals: nothing is created ----
no_repo_after() { # CODE CMD...: CMD fails and no repository directory appears
	expect "$@"
	[ ! -e "$work/r" ] || fail "'${*:2}' left $work/r behind"
}
no_repo_after 2 "$S" init --repo r --targets-key keys/targets.key \
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key
err_is 'root-key K is required'
no_repo_after 2 "$S" init --repo r "${INIT_KEYS[@]}" --root-threshold 2
err_is 'root needs at least one key and a threshold from 1 to its number of keys'
no_repo_after 2 "$S" init --repo r "${INIT_KEYS[@]}" --root-threshold 0
err_is 'root-threshold'
no_repo_after 2 "$S" init --repo r --root-key keys/root.key keys/root2.pub --root-threshold 2 \
	--targets-key keys/targets.key --snapshot-key online/snapshot.key \
	--timestamp-key online/timestamp.key
err_is 'root version 1 needs signatures of 2 of its 2 keys; the keys given hold 1'
no_repo_after 2 "$S" init --repo r --root-key keys/root.key --targets-key keys/targets.key \
	--snapshot-key keys/snapshot.pub --timestamp-key online/timestamp.key
err_is 'snapshot needs 1 of its 1 keys; the online keys directory holds 0'
no_repo_after 2 "$S" init --repo r --root-key keys/root.key keys/root.key \
	--targets-key keys/targets.key --snapshot-key online/snapshot.key \
	--timestamp-key online/timestamp.key
err_is 'given twice for root'
no_repo_after 2 "$S" init --repo r "${INIT_KEYS[@]}" --expires root=1y
err_is 'unknown unit'
no_repo_after 2 "$S" init --repo r "${INIT_KEYS[@]}" --expires root
err_is 'is not ROLE=DURATION'
no_repo_after 2 "$S" init --repo r "${INIT_KEYS[@]}" --expires nosuchrole=1d
err_is 'no such role'
no_repo_after 2 "$S" init --repo r "${INIT_KEYS[@]}" --expires root=36501d
err_is 'between 1 s and 36500 d'
no_repo_after 2 "$S" init --repo r --root-key keys/missing.key --targets-key keys/targets.key \
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key
err_is 'keys/missing.key: no such key file'
echo 'not json' >keys/garbage.key
no_repo_after 2 "$S" init --repo r --root-key keys/garbage.key --targets-key keys/targets.key \
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key
err_is 'keys/garbage.key'
echo '{"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": "zz"}}' >keys/bad.pub
no_repo_after 2 "$S" init --repo r --root-key keys/root.key keys/bad.pub \
	--targets-key keys/targets.key --snapshot-key online/snapshot.key \
	--timestamp-key online/timestamp.key
err_is 'not a TUF public key'
cp keys/root.key keys/open.key
chmod 0644 keys/open.key
no_repo_after 2 "$S" init --repo r --root-key keys/open.key --targets-key keys/targets.key \
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key
err_is '(PERMISSION)'
# Online keys inside the repository directory are refused.
mkdir -p r/keys
cp online/* r/keys/
expect 2 "$S" init --repo r --root-key keys/root.key --targets-key keys/targets.key \
	--snapshot-key keys/snapshot.pub --timestamp-key keys/timestamp.pub --online-keys r/keys
err_is 'inside the repository'
[ ! -e r/metadata ] || fail "refused init wrote metadata"
rm -rf r

# ---- a repository ----
repo="$work/repo"
expect 0 "$S" init --repo "$repo" --root-key keys/root.key keys/root2.key --root-threshold 2 \
	--targets-key keys/targets.key --snapshot-key keys/snapshot.pub \
	--timestamp-key keys/timestamp.pub --online-keys online --expires targets=30d \
	--expires timestamp=6h --json
json "$OUT" "d['root'] == d['targets'] == d['snapshot'] == d['timestamp'] == 1" | grep -qx True ||
	fail "init --json versions"
for f in 1.root.json 1.targets.json 1.snapshot.json timestamp.json; do
	[ -f "$repo/metadata/$f" ] || fail "init did not write metadata/$f"
done
[ "$(ls "$repo/metadata" | wc -l)" = 4 ] || fail "init wrote more than four metadata files"
[ -d "$repo/targets" ] || fail "no targets/ directory"
[ "$(stat -c %a "$repo/.upkeep")" = 700 ] || fail ".upkeep is not private"
[ "$(stat -c %a "$repo/metadata/timestamp.json")" = 644 ] || fail "metadata is not 0644"
json "$repo/.upkeep/config.json" "d['expires']" | grep -q "'targets': 2592000" ||
	fail "config.json lacks targets=30d"
json "$repo/.upkeep/config.json" "d['expires']" | grep -q "'timestamp': 21600" ||
	fail "config.json lacks timestamp=6h"
verify_ok
out_has 'root 1, timestamp 1, snapshot 1, targets 1, 0 delegated roles, 0 targets'

# The content, checked independently: securesystemslib verifies every signature with the
# keys root lists, and the expiry of each role is now plus its lifetime.
"$PY" - "$repo/metadata" "$(date +%s)" <<'EOF' || fail "securesystemslib check of init"
import json, sys, datetime
import securesystemslib.keys as keys
import securesystemslib.formats as formats
md, now = sys.argv[1], int(sys.argv[2])
root = json.load(open(f"{md}/1.root.json"))
files = {"root": "1.root.json", "targets": "1.targets.json",
         "snapshot": "1.snapshot.json", "timestamp": "timestamp.json"}
life = {"root": 365 * 86400, "targets": 30 * 86400, "snapshot": 7 * 86400, "timestamp": 6 * 3600}
s = root["signed"]
assert s["consistent_snapshot"] is True and s["spec_version"].startswith("1.0.")
assert len(s["roles"]["root"]["keyids"]) == 2 and s["roles"]["root"]["threshold"] == 2
for role, name in files.items():
    doc = json.load(open(f"{md}/{name}"))
    signed = doc["signed"]
    assert signed["_type"] == role and signed["version"] == 1, name
    data = formats.encode_canonical(signed).encode()
    good = 0
    for sig in doc["signatures"]:
        kid = sig["keyid"]
        assert kid in s["roles"][role]["keyids"], (name, kid)
        key = dict(s["keys"][kid], keyid=kid)
        good += keys.verify_signature(key, sig, data)
    assert good >= s["roles"][role]["threshold"], (name, good)
    exp = datetime.datetime.strptime(signed["expires"], "%Y-%m-%dT%H:%M:%SZ")
    exp = int(exp.replace(tzinfo=datetime.timezone.utc).timestamp())
    assert abs(exp - now - life[role]) <= 120, (name, exp - now)
snap = json.load(open(f"{md}/1.snapshot.json"))["signed"]
assert snap["meta"]["targets.json"]["version"] == 1
ts = json.load(open(f"{md}/timestamp.json"))["signed"]
assert ts["meta"]["snapshot.json"]["version"] == 1
assert ts["meta"]["snapshot.json"]["length"] == len(open(f"{md}/1.snapshot.json", "rb").read())
assert json.load(open(f"{md}/1.targets.json"))["signed"]["targets"] == {}
EOF

# A second init is refused and changes nothing.
unchanged_after 2 "$S" init --repo "$repo" "${INIT_KEYS[@]}"
err_is 'already holds a repository'

# ---- encrypted keys: one passphrase for all, from a file or the environment ----
printf 'pass phrase one\n' >io/pass
printf 'wrong\n' >io/wrong
"$K" generate --out keys/eroot.key --passphrase-file io/pass >/dev/null
"$K" generate --out keys/etargets.key --passphrase-file io/pass >/dev/null
ENC_KEYS=(--root-key keys/eroot.key --targets-key keys/etargets.key
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key)
no_repo_after 2 "$S" init --repo r "${ENC_KEYS[@]}"
err_is 'keys/eroot.key: the key is encrypted: give --passphrase-file F or set UPKEEP_PASSPHRASE'
no_repo_after 2 "$S" init --repo r "${ENC_KEYS[@]}" --passphrase-file io/wrong
err_is 'keys/eroot.key.*\(PASSPHRASE\)'
no_repo_after 2 "$S" init --repo r "${ENC_KEYS[@]}" --passphrase-file io/nonexistent
err_is 'cannot open the passphrase file'
expect 0 "$S" init --repo "$work/enc" "${ENC_KEYS[@]}" --passphrase-file io/pass
expect 0 env UPKEEP_PASSPHRASE='pass phrase one' "$S" init --repo "$work/enc2" "${ENC_KEYS[@]}"
repo="$work/enc2"
verify_ok

# ---- verify of something that is not a repository ----
expect 2 "$S" verify --repo "$work/nothing"
err_is 'not a repository'
expect 2 "$S" verify --repo "$repo" --at yesterday
err_is 'neither YYYY-MM-DDTHH:MM:SSZ nor @SECONDS'
expect 2 "$S" publish --repo "$work/nothing" --key keys/targets.key --online-keys online \
	--name a keys/root2.pub
err_is 'not a repository'

done_ok
