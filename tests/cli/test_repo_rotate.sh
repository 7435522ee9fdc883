#!/usr/bin/env bash
# CLI test of upkeep-server rotate, refresh and expiry (upkeep-server.1.md): root
# rotation signed by the thresholds of both the old and the new root (checked with
# securesystemslib), rotation of targets, snapshot and timestamp keys with the role
# re-signed by its new keys only, renewal, refresh, --expires, and verify --at.
. "$(dirname "$0")/test_repo_lib.bash"

for k in r1 r2 r3 t2; do
	mkkey keys/$k.key
	"$K" export-public keys/$k.key >keys/$k.pub
done
mkkey keys/targets.key
mkkey online/snapshot.key
mkkey online/timestamp.key
repo="$work/repo"
expect 0 "$S" init --repo "$repo" --root-key keys/r1.key --targets-key keys/targets.key \
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key
printf 'payload\n' >io/p.bin
ON=(--online-keys online)

# root_signed_by N: N.root.json carries valid signatures (securesystemslib) meeting the
# root thresholds of both N-1 and N.
root_signed_by_both() {
	"$PY" - "$repo/metadata" "$1" <<'EOF' || fail "root $1 signatures"
import json, sys
import securesystemslib.keys as keys, securesystemslib.formats as formats
md, n = sys.argv[1], int(sys.argv[2])
new = json.load(open(f"{md}/{n}.root.json"))
old = json.load(open(f"{md}/{n - 1}.root.json"))["signed"]
data = formats.encode_canonical(new["signed"]).encode()
def count(trusted):
    good = set()
    for s in new["signatures"]:
        kid = s["keyid"]
        if kid in trusted["roles"]["root"]["keyids"] and kid in trusted["keys"]:
            if keys.verify_signature(dict(trusted["keys"][kid], keyid=kid), s, data):
                good.add(kid)
    return len(good)
assert new["signed"]["version"] == n
assert count(old) >= old["roles"]["root"]["threshold"], "old threshold"
assert count(new["signed"]) >= new["signed"]["roles"]["root"]["threshold"], "new threshold"
EOF
}

# ---- root: add a key and raise the threshold ----
expect 0 "$S" rotate --repo "$repo" --role root --add keys/r2.pub --threshold 2 \
	--signing-key keys/r1.key keys/r2.key "${ON[@]}"
out_has 'rotated; root 2, targets 1, snapshot 2, timestamp 2'
root_signed_by_both 2
verify_ok
# Replace r1 by r3: root 3 needs 2 of {r1, r2} (root 2) and 2 of {r2, r3} (itself).
unchanged_after 2 "$S" rotate --repo "$repo" --role root --remove "$(keyid keys/r1.key)" \
	--add keys/r3.pub --signing-key keys/r2.key keys/r3.key "${ON[@]}"
err_is 'root version 3 \(for root version 2\) needs signatures of 2 of its 2 keys; the keys given hold 1'
unchanged_after 2 "$S" rotate --repo "$repo" --role root --remove "$(keyid keys/r1.key)" \
	--add keys/r3.pub --signing-key keys/r1.key keys/r2.key "${ON[@]}"
err_is 'root version 3 needs signatures of 2 of its 2 keys; the keys given hold 1'
expect 0 "$S" rotate --repo "$repo" --role root --remove keys/r1.key --add keys/r3.pub \
	--signing-key keys/r1.key keys/r2.key keys/r3.key "${ON[@]}"
root_signed_by_both 3
json "$repo/metadata/3.root.json" "sorted(d['signed']['keys'])" | grep -q "$(keyid keys/r1.key)" &&
	fail "the removed root key stayed in root's key map"
verify_ok
# Refusals of rotate.
unchanged_after 2 "$S" rotate --repo "$repo" --role root --remove "$(keyid keys/r1.key)" \
	--signing-key keys/r2.key keys/r3.key "${ON[@]}"
err_is 'is not a key of root'
unchanged_after 2 "$S" rotate --repo "$repo" --role root --add keys/r2.pub \
	--signing-key keys/r2.key keys/r3.key "${ON[@]}"
err_is 'is already a key of root'
unchanged_after 2 "$S" rotate --repo "$repo" --role root --threshold 3 \
	--signing-key keys/r2.key keys/r3.key "${ON[@]}"
err_is 'root would have 2 keys for a threshold of 3'
unchanged_after 2 "$S" rotate --repo "$repo" --role root --remove nothex \
	--signing-key keys/r2.key keys/r3.key "${ON[@]}"
err_is 'no such key file'
unchanged_after 2 "$S" rotate --repo "$repo" --role root --threshold 0 \
	--signing-key keys/r2.key "${ON[@]}"
err_is 'threshold'
unchanged_after 2 "$S" rotate --repo "$repo" --role root --add keys/r1.pub \
	--signing-key keys/r2.key keys/r3.key keys/targets.key "${ON[@]}"
err_is 'keys/targets.key: key .* is not a key of the roles this command signs \(root, snapshot, timestamp\)'
unchanged_after 2 "$S" rotate --repo "$repo" --add keys/r1.pub --signing-key keys/r2.key "${ON[@]}"
err_is 'role ROLE is required'

# ---- targets: new key; targets is re-signed by it alone ----
unchanged_after 2 "$S" rotate --repo "$repo" --role targets --remove keys/targets.key \
	--add keys/t2.pub --signing-key keys/r2.key keys/r3.key "${ON[@]}"
err_is 'targets needs signatures of 1 of its 1 keys; the keys given hold 0'
expect 0 "$S" rotate --repo "$repo" --role targets --remove keys/targets.key --add keys/t2.pub \
	--signing-key keys/r2.key keys/r3.key keys/t2.key "${ON[@]}"
out_has 'rotated: targets version 2 .*root 4'
json "$repo/metadata/2.targets.json" "[s['keyid'] for s in d['signatures']]" |
	grep -qx "\['$(keyid keys/t2.key)'\]" || fail "targets not signed by the new key alone"
unchanged_after 2 "$S" publish --repo "$repo" --key keys/targets.key "${ON[@]}" --name p io/p.bin
err_is 'is not a key of the roles'
expect 0 "$S" publish --repo "$repo" --key keys/t2.key "${ON[@]}" --name p io/p.bin
verify_ok

# ---- snapshot and timestamp: the new private key must be in the online directory ----
mkdir io/new
mkkey io/new/snapshot2.key
mkkey io/new/timestamp2.key
unchanged_after 2 "$S" rotate --repo "$repo" --role snapshot --remove online/snapshot.key \
	--add io/new/snapshot2.key --signing-key keys/r2.key keys/r3.key "${ON[@]}"
err_is 'online: snapshot needs 1 of its 1 keys; the online keys directory holds 0 of them'
mv io/new/snapshot2.key io/new/timestamp2.key online/
expect 0 "$S" rotate --repo "$repo" --role snapshot --remove online/snapshot.key \
	--add online/snapshot2.key --signing-key keys/r2.key keys/r3.key "${ON[@]}"
expect 0 "$S" rotate --repo "$repo" --role timestamp --remove online/timestamp.key \
	--add online/timestamp2.key --signing-key keys/r2.key keys/r3.key "${ON[@]}"
out_has 'root 6'
# Fast-forward recovery: the new versions carry the new keys' signatures only.
sv=$(version_of snapshot)
json "$repo/metadata/$sv.snapshot.json" "[s['keyid'] for s in d['signatures']]" |
	grep -qx "\['$(keyid online/snapshot2.key)'\]" || fail "snapshot not signed by the new key"
json "$repo/metadata/timestamp.json" "[s['keyid'] for s in d['signatures']]" |
	grep -qx "\['$(keyid online/timestamp2.key)'\]" || fail "timestamp not signed by the new key"
rm online/snapshot.key online/timestamp.key
expect 0 "$S" refresh --repo "$repo" "${ON[@]}"
verify_ok
out_has 'root 6, '

# ---- renewal: rotate with no change re-signs the role ----
expect 0 "$S" rotate --repo "$repo" --role root --signing-key keys/r2.key keys/r3.key "${ON[@]}"
out_has 'root 7'
root_signed_by_both 7
expect 0 "$S" rotate --repo "$repo" --role targets --signing-key keys/t2.key "${ON[@]}"
out_has 'targets version 4'
unchanged_after 2 "$S" rotate --repo "$repo" --role timestamp --signing-key keys/r2.key "${ON[@]}"
err_is 'keys/r2.key: .* is not a key of the roles this command signs \(snapshot, timestamp\)'
verify_ok

# ---- refresh and --expires ----
ts=$(version_of timestamp)
sv=$(version_of snapshot)
expect 0 "$S" refresh --repo "$repo" "${ON[@]}" --expires timestamp=2h --json
[ "$(json "$OUT" "d['timestamp']")" = $((ts + 1)) ] || fail "refresh timestamp version"
[ "$(json "$OUT" "d['snapshot']")" = $((sv + 1)) ] || fail "refresh snapshot version"
expires_in() { # ROLE FILE: seconds from now to the file's expiry
	"$PY" -c 'import json, sys, datetime, time
e = json.load(open(sys.argv[1]))["signed"]["expires"]
t = datetime.datetime.strptime(e, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
print(int(t.timestamp() - time.time()))' "$1"
}
left=$(expires_in "$repo/metadata/timestamp.json")
[ "$left" -gt 7000 ] && [ "$left" -le 7200 ] || fail "timestamp=2h gave $left s"
expect 0 "$S" refresh --repo "$repo" "${ON[@]}"
left=$(expires_in "$repo/metadata/timestamp.json")
[ "$left" -gt 7000 ] && [ "$left" -le 7200 ] || fail "the 2h lifetime was not kept ($left s)"
unchanged_after 2 "$S" refresh --repo "$repo" --online-keys keys
err_is 'snapshot needs 1 of its 1 keys'
unchanged_after 2 "$S" refresh --repo "$repo" "${ON[@]}" --expires releases=1d
err_is 'no such role'

# ---- expiry as verify sees it (--at) ----
expect 13 "$S" verify --repo "$repo" --at "@$(($(date +%s) + 3 * 3600))" --json
json "$OUT" "[(p['file'], p['error']) for p in d['problems']]" |
	grep -qx "\[('metadata/timestamp.json', 'EXPIRED')\]" || fail "expired timestamp"
expect 13 "$S" verify --repo "$repo" --at "@$(($(date +%s) + 8 * 86400))" --json
json "$OUT" "[p['error'] for p in d['problems']]" | grep -qx "\['EXPIRED', 'EXPIRED'\]" ||
	fail "expired timestamp and snapshot"
expect 13 "$S" verify --repo "$repo" --at 9999-01-01T00:00:00Z
[ "$(grep -c '(EXPIRED)$' "$ERR")" = 4 ] || fail "root, timestamp, snapshot, targets all expire"
grep -q '^upkeep-server: metadata/7.root.json: expired at ' "$ERR" || fail "root expiry line"
# serve's rule, via refresh: re-signing makes the repository valid again.
expect 0 "$S" verify --repo "$repo" --at "@$(($(date +%s) + 3600))"

done_ok
