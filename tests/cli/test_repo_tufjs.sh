#!/usr/bin/env bash
# Interoperability of what the repository commands write (DESIGN.md "Trust"): the
# independent TUF client tuf-js (tests/interop, pinned by package-lock.json) updates
# from an Upkeep repository from upkeep-server serve on 127.0.0.1 and downloads its targets: through
# a root rotation with a raised threshold, targets, timestamp and snapshot key rotations, a
# path delegation, a nested delegation and a hash-prefix delegation, and a yank. One
# client keeps its trusted metadata across the rotations, one starts from root 1.
. "$(dirname "$0")/test_repo_lib.bash"

: "${UPKEEP_SOURCE_DIR:?UPKEEP_SOURCE_DIR must point at the source directory}"
TUFJS="$UPKEEP_SOURCE_DIR/tests/interop/node_modules/tuf-js"
command -v node >/dev/null || { echo "node is needed (scripts/setup)" >&2; exit 1; }
[ -d "$TUFJS" ] || { echo "no $TUFJS: run scripts/setup (npm ci)" >&2; exit 1; }

cat >io/client.js <<EOF
// node client.js BASE ROOT STATE_DIR OUT_DIR PATH... : refresh, then download each PATH
// ("-" prefix: the path must not be found). Exit 1 with the error otherwise.
const { Updater } = require('$TUFJS');
const fs = require('fs'), path = require('path');
const [base, root, state, out, ...paths] = process.argv.slice(2);
(async () => {
  if (!fs.existsSync(path.join(state, 'root.json'))) {
    fs.mkdirSync(state, { recursive: true });
    fs.copyFileSync(root, path.join(state, 'root.json'));
  }
  const u = new Updater({ metadataBaseUrl: base + '/metadata', targetBaseUrl: base + '/targets',
                          metadataDir: state, targetDir: out });
  await u.refresh();
  for (const p of paths) {
    const absent = p.startsWith('-'), name = absent ? p.slice(1) : p;
    const info = await u.getTargetInfo(name);
    if (absent) { if (info) throw new Error(name + ' is still listed'); continue; }
    if (!info) throw new Error(name + ' not found');
    const file = path.join(out, name.replace(/\\//g, '_'));
    await u.downloadTarget(info, file);
    console.log(name + ' ' + fs.readFileSync(file, 'utf8').trim());
  }
})().catch((e) => { console.error('tuf-js: ' + e.message); process.exit(1); });
EOF

# upkeep-server serve on a free loopback port (any static server would do: DESIGN.md).
new_repo
serve_start --access-log io/access.log
cp "$repo/metadata/1.root.json" io/root1.json
mkdir io/dl

client() { # STATE PATH...: tuf-js with trusted metadata in io/STATE
	expect 0 node io/client.js "$BASE" io/root1.json "io/$1" io/dl "${@:2}"
}
mkdir data
printf 'firmware 1\n' >data/fw1
printf 'firmware 2\n' >data/fw2
printf 'release\n' >data/rel
printf 'beta\n' >data/beta
printf 'hashed\n' >data/hashed
ON=(--online-keys online)

expect 0 "$S" publish --repo "$repo" --key keys/targets.key "${ON[@]}" --name fw/a.bin data/fw1 \
	--name top.bin data/fw2
client kept fw/a.bin top.bin
out_has '^fw/a.bin firmware 1$'

# Delegations: paths, nested, hash prefixes (sha256 of "h/one" starts a419).
for k in rel beta hashed; do mkkey keys/$k.key; done
expect 0 "$S" delegate --repo "$repo" --role releases --key keys/rel.key --paths 'rel/*' \
	--signing-key keys/targets.key --role-key keys/rel.key "${ON[@]}"
expect 0 "$S" delegate --repo "$repo" --role beta --delegator releases --key keys/beta.key \
	--paths 'rel/beta-*' --signing-key keys/rel.key --role-key keys/beta.key "${ON[@]}"
expect 0 "$S" delegate --repo "$repo" --role hashed --key keys/hashed.key \
	--path-hash-prefixes a4 --terminating --signing-key keys/targets.key \
	--role-key keys/hashed.key "${ON[@]}"
expect 0 "$S" publish --repo "$repo" --role releases --key keys/rel.key "${ON[@]}" \
	--name rel/r.bin data/rel
expect 0 "$S" publish --repo "$repo" --role beta --key keys/beta.key "${ON[@]}" \
	--name rel/beta-1 data/beta
expect 0 "$S" publish --repo "$repo" --role hashed --key keys/hashed.key "${ON[@]}" \
	--name h/one data/hashed

# Rotations: root gets a second key and threshold 2, then targets, timestamp and snapshot
# keys (a client holding the old timestamp and snapshot needs fast-forward recovery).
mkkey keys/root2.key
mkkey keys/targets2.key
mkkey online/timestamp2.key
expect 0 "$S" rotate --repo "$repo" --role root --add keys/root2.key --threshold 2 \
	--signing-key keys/root.key keys/root2.key "${ON[@]}"
expect 0 "$S" rotate --repo "$repo" --role targets --remove keys/targets.key \
	--add keys/targets2.key --signing-key keys/root.key keys/root2.key keys/targets2.key \
	"${ON[@]}"
expect 0 "$S" rotate --repo "$repo" --role timestamp --remove online/timestamp.key \
	--add online/timestamp2.key --signing-key keys/root.key keys/root2.key "${ON[@]}"
rm online/timestamp.key
mkkey online/snapshot2.key
expect 0 "$S" rotate --repo "$repo" --role snapshot --remove online/snapshot.key \
	--add online/snapshot2.key --signing-key keys/root.key keys/root2.key "${ON[@]}"
rm online/snapshot.key
expect 0 "$S" publish --repo "$repo" --key keys/targets2.key "${ON[@]}" --name fw/a.bin data/fw2
expect 0 "$S" yank --repo "$repo" --key keys/targets2.key "${ON[@]}" top.bin
verify_ok

# The client that trusted the old state follows every rotation; a new one starts at root 1.
client kept fw/a.bin rel/r.bin rel/beta-1 h/one -top.bin
out_has '^fw/a.bin firmware 2$'
out_has '^rel/beta-1 beta$'
out_has '^h/one hashed$'
client fresh fw/a.bin rel/r.bin rel/beta-1 h/one -top.bin
out_has '^rel/r.bin release$'

# Every metadata file the repository holds, after delegations and rotations, is
# accepted by @tufjs/models' own Metadata verification with the delegating keys.
MODELS="$UPKEEP_SOURCE_DIR/tests/interop/verify_models.js"
expect 0 node "$MODELS" "$repo"
out_has 'metadata files accepted by @tufjs/models$'
grep -q '^ok 1.root.json$' "$OUT" || fail "1.root.json was not checked"
grep -q '^ok timestamp.json$' "$OUT" || fail "timestamp.json was not checked"
# The check can fail: one changed byte in a signed delegated file is refused.
cp -r "$repo" io/tampered
f=$(ls io/tampered/metadata/*.beta.json | head -n 1)
sed -i 's/"_type"/"_type" /; s/"version": \([0-9]*\)/"version": 9\1/' "$f"
expect 1 node "$MODELS" io/tampered
err_has 'no beta key set accepts it'

done_ok
