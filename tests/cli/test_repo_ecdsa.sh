#!/usr/bin/env bash
# ECDSA P-256 keys (upkeep-keys generate --type ecdsa, scheme ecdsa-sha2-nistp256) as
# root, targets and online timestamp keys of an Upkeep repository: init, publish, a
# root and a targets key rotation, verify; then three independent checks of what was
# signed: securesystemslib 0.26 (key ids and every signature of every top-level file),
# @tufjs/models (tests/interop/verify_models.js) and upkeep-client tuf downloading the
# targets from upkeep-server serve on 127.0.0.1. Key files the server must refuse
# (altered PEM, a scalar of another key, wrong passphrase) change nothing.
. "$(dirname "$0")/test_repo_lib.bash"

: "${UPKEEP_SOURCE_DIR:?UPKEEP_SOURCE_DIR must point at the source directory}"
CLIENT="$UPKEEP_BUILD_DIR/client/upkeep-client"
MODELS="$UPKEEP_SOURCE_DIR/tests/interop/verify_models.js"
[ -x "$CLIENT" ] || { echo "no $CLIENT" >&2; exit 1; }
command -v node >/dev/null || { echo "node is needed (scripts/setup)" >&2; exit 1; }
[ -d "$UPKEEP_SOURCE_DIR/tests/interop/node_modules/@tufjs/models" ] ||
	{ echo "no @tufjs/models: run scripts/setup (npm ci)" >&2; exit 1; }

# ecdsa root (encrypted), ecdsa targets and timestamp, ed25519 snapshot: mixed types.
printf 'root passphrase\n' >io/pass
expect 0 "$K" generate --type ecdsa --out keys/root.key --passphrase-file io/pass
expect 0 "$K" generate --type ecdsa --out keys/targets.key --no-passphrase
expect 0 "$K" generate --type ecdsa --out online/timestamp.key --no-passphrase
expect 0 "$K" generate --out online/snapshot.key --no-passphrase
repo="$work/repo"
ON=(--online-keys online)
export UPKEEP_PASSPHRASE='root passphrase'

expect 0 "$S" init --repo "$repo" --root-key keys/root.key --targets-key keys/targets.key \
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key
verify_ok
mkdir data
printf 'firmware 1\n' >data/fw1
printf 'model 1\n' >data/model1
expect 0 "$S" publish --repo "$repo" --key keys/targets.key "${ON[@]}" --name fw/a.bin data/fw1 \
	--name model.bin data/model1
verify_ok
out_has '2 targets'

# Rotations signed by ecdsa keys: a second ecdsa root key with threshold 2, a new
# ecdsa targets key; then a publish with it.
expect 0 "$K" generate --type ecdsa --out keys/root2.key --no-passphrase
expect 0 "$K" generate --type ecdsa --out keys/targets2.key --no-passphrase
expect 0 "$S" rotate --repo "$repo" --role root --add keys/root2.key --threshold 2 \
	--signing-key keys/root.key keys/root2.key "${ON[@]}"
expect 0 "$S" rotate --repo "$repo" --role targets --remove keys/targets.key \
	--add keys/targets2.key --signing-key keys/root.key keys/root2.key keys/targets2.key \
	"${ON[@]}"
printf 'firmware 2\n' >data/fw2
expect 0 "$S" publish --repo "$repo" --key keys/targets2.key "${ON[@]}" --name fw/a.bin data/fw2
verify_ok
[ -f "$repo/metadata/2.root.json" ] || fail "no 2.root.json"

# ---- refusals: nothing changes ----
"$PY" - online/timestamp.key io/bad-pem.key io/other-scalar.key <<'EOF'
import hashlib, json, sys
from securesystemslib.formats import encode_canonical
src, bad_pem, other = sys.argv[1:]
d = json.load(open(src))
p = d["public"]
i = p.index("\n") + 30
d2 = dict(d, public=p[:i] + ("A" if p[i] != "A" else "B") + p[i + 1:])
d2["keyid"] = hashlib.sha256(encode_canonical({"keytype": "ecdsa",
    "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": d2["public"]}}).encode()).hexdigest()
open(bad_pem, "w").write(json.dumps(d2))
d3 = dict(d, secret="%064x" % (int(d["secret"], 16) ^ 2))
open(other, "w").write(json.dumps(d3))
EOF
chmod 600 io/bad-pem.key io/other-scalar.key
unchanged_after 2 "$S" publish --repo "$repo" --key io/bad-pem.key "${ON[@]}" --name x data/fw1
err_is 'bad-pem\.key: public: not an ECDSA P-256 public key: .*\(KEYFILE\)$'
unchanged_after 2 "$S" publish --repo "$repo" --key io/other-scalar.key "${ON[@]}" \
	--name x data/fw1
err_is 'other-scalar\.key: public: the secret key does not belong to this public key \(KEYFILE\)$'
UPKEEP_PASSPHRASE='wrong' unchanged_after 2 "$S" rotate --repo "$repo" --role root \
	--signing-key keys/root.key keys/root2.key "${ON[@]}"
err_is 'root\.key: wrong passphrase, or the key file was altered \(PASSPHRASE\)$'
verify_ok

# ---- securesystemslib: key ids, key types and every signature ----
"$PY" - "$repo" "$(keyid keys/root.key)" "$(keyid keys/root2.key)" "$(keyid keys/targets2.key)" \
	"$(keyid online/timestamp.key)" <<'EOF' || fail "securesystemslib check"
import hashlib, json, os, sys
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import SSlibKey, Signature

repo, root_id, root2_id, targets_id, ts_id = sys.argv[1:]
md = os.path.join(repo, "metadata")
load = lambda name: json.load(open(os.path.join(md, name)))
checked = 0

def verify(doc, keys, threshold, ids=None):
    """Every signature by a key of `keys` verifies; `threshold` of them are of `ids`."""
    global checked
    data = encode_canonical(doc["signed"]).encode()
    good = set()
    for s in doc["signatures"]:
        if s["keyid"] not in keys:
            continue  # a new root's key, checked against the new root
        key = SSlibKey.from_dict(s["keyid"], dict(keys[s["keyid"]]))
        key.verify_signature(Signature(s["keyid"], s["sig"]), data)  # raises if bad
        if ids is None or s["keyid"] in ids:
            good.add(s["keyid"])
        checked += 1
        # a changed message is refused: the check can fail
        try:
            key.verify_signature(Signature(s["keyid"], s["sig"]), data + b" ")
        except Exception:
            pass
        else:
            raise AssertionError("altered message accepted")
    assert len(good) >= threshold, (good, threshold)

nroots = max(int(f.split(".")[0]) for f in os.listdir(md) if f.endswith(".root.json"))
assert nroots == 3, nroots  # init, root key added, targets key rotated
roots = [load("%d.root.json" % v) for v in range(1, nroots + 1)]
for r in roots:
    for kid, k in r["signed"]["keys"].items():
        assert hashlib.sha256(encode_canonical(k).encode()).hexdigest() == kid, kid
r1, last = roots[0]["signed"], roots[-1]["signed"]
assert r1["roles"]["root"]["keyids"] == [root_id], r1["roles"]["root"]
assert sorted(last["roles"]["root"]["keyids"]) == sorted([root_id, root2_id])
assert last["roles"]["targets"]["keyids"] == [targets_id]
assert last["roles"]["timestamp"]["keyids"] == [ts_id]
for kid in (root_id, root2_id, targets_id, ts_id):
    k = last["keys"][kid]
    assert k["keytype"] == "ecdsa" and k["scheme"] == "ecdsa-sha2-nistp256", k
    assert k["keyval"]["public"].startswith("-----BEGIN PUBLIC KEY-----\n"), k
verify(roots[0], r1["keys"], 1)
for prev, cur in zip(roots, roots[1:]):  # each root is signed by the old and the new keys
    for r in (prev["signed"], cur["signed"]):
        verify(cur, r["keys"], r["roles"]["root"]["threshold"], r["roles"]["root"]["keyids"])
verify(load("timestamp.json"), last["keys"], 1)
snap = load("timestamp.json")["signed"]["meta"]["snapshot.json"]["version"]
verify(load("%d.snapshot.json" % snap), last["keys"], 1)
tv = max(int(f.split(".")[0]) for f in os.listdir(md) if f.endswith(".targets.json"))
t = load("%d.targets.json" % tv)
assert [s["keyid"] for s in t["signatures"]] == [targets_id], t["signatures"]
verify(t, last["keys"], 1)
assert checked >= 6, checked
print("securesystemslib: %d signatures verified" % checked)
EOF
checks=$((checks + 1))

# ---- @tufjs/models: every metadata file, with the delegating keys ----
expect 0 node "$MODELS" "$repo"
out_has 'metadata files accepted by @tufjs/models$'
grep -q '^ok 3.root.json$' "$OUT" || fail "3.root.json was not checked"
cp -r "$repo" io/tampered
sed -i 's/"fw\/a.bin"/"fw\/b.bin"/' io/tampered/metadata/"$(cd "$repo/metadata" &&
	ls -- *.targets.json | sort -n | tail -n 1)"
expect 1 node "$MODELS" io/tampered

# ---- upkeep-client tuf from upkeep-server serve on 127.0.0.1 ----
serve_start
mkdir io/md io/dl
expect 0 "$CLIENT" tuf --metadata-dir io/md init "$repo/metadata/1.root.json"
expect 0 "$CLIENT" tuf --metadata-dir io/md --metadata-url "$BASE/metadata" \
	--target-name fw/a.bin --target-name model.bin --target-base-url "$BASE/targets" \
	--target-dir io/dl download
got=$(find io/dl -type f | wc -l)
[ "$got" = 2 ] || fail "upkeep-client downloaded $got files"
grep -rqx 'firmware 2' io/dl || fail "fw/a.bin is not firmware 2"
grep -rqx 'model 1' io/dl || fail "model.bin is not model 1"
cmp io/md/root.json "$repo/metadata/3.root.json" || fail "client did not reach root 3"
checks=$((checks + 1))
# A repository whose ecdsa signature was altered is refused by the client.
kill "$server"
wait "$server" 2>/dev/null || true
ts="$repo/metadata/timestamp.json"
"$PY" - "$ts" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["signatures"][0]["sig"]
d["signatures"][0]["sig"] = s[:-2] + ("00" if s[-2:] != "00" else "01")
d["signed"]["version"] += 1
open(sys.argv[1], "w").write(json.dumps(d))
EOF
serve_start
before=$(sha256sum io/md/timestamp.json)
expect 1 "$CLIENT" tuf --metadata-dir io/md --metadata-url "$BASE/metadata" refresh
[ "$(sha256sum io/md/timestamp.json)" = "$before" ] || fail "a forged timestamp was stored"

done_ok
