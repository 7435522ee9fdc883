#!/usr/bin/env bash
# CLI test of upkeep-server publish and yank (upkeep-server.1.md): the three ways to
# name targets, custom metadata, the content-addressed files (both hash names, one
# inode), replacing and yanking, encrypted keys, --hashes (entries listing sha256 or
# sha512 alone, stored under that name only, verified, re-signed by serve and
# downloaded by upkeep-client and tuf-js), and every refusal proven to leave the
# repository byte-identical.
. "$(dirname "$0")/test_repo_lib.bash"

new_repo
mkdir data
printf 'alpha\n' >data/a.bin
printf 'beta\n' >data/b.bin
printf 'gamma\n' >data/c.bin
printf 'delta\n' >data/d.bin
head -c 300000 /dev/urandom >data/big.bin
PUB=(--key keys/targets.key --online-keys online)

# ---- publishing ----
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --name fw/a.bin data/a.bin \
	--name b.bin data/b.bin data/big.bin --custom '{"upkeep": {"kind": "security"}}' --json
json "$OUT" "(d['targets'], d['snapshot'], d['timestamp'], d['role']['targets'])" |
	grep -qx '(2, 2, 2, 3)' || fail "publish --json"
verify_ok
out_has '3 targets'

# Metadata entries against hashes computed here, and both stored names per target.
"$PY" - "$repo" <<'EOF' || fail "target entries or files"
import hashlib, json, os, sys
repo = sys.argv[1]
t = json.load(open(f"{repo}/metadata/2.targets.json"))["signed"]["targets"]
assert sorted(t) == ["b.bin", "big.bin", "fw/a.bin"], sorted(t)
for path, src in (("fw/a.bin", "data/a.bin"), ("b.bin", "data/b.bin"), ("big.bin", "data/big.bin")):
    data = open(src, "rb").read()
    e = t[path]
    assert e["length"] == len(data)
    h256, h512 = hashlib.sha256(data).hexdigest(), hashlib.sha512(data).hexdigest()
    assert e["hashes"] == {"sha256": h256, "sha512": h512}, path
    assert e["custom"] == {"upkeep": {"kind": "security"}}, path
    d, _, name = path.rpartition("/")
    base = f"{repo}/targets/{d}/" if d else f"{repo}/targets/"
    a, b = os.stat(base + f"{h256}.{name}"), os.stat(base + f"{h512}.{name}")
    assert (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev), "not one inode"
    assert oct(a.st_mode & 0o777) == "0o644"
    assert open(base + f"{h256}.{name}", "rb").read() == data
# Serialized with sorted keys, so sha256 comes first in every hashes object.
raw = open(f"{repo}/metadata/2.targets.json").read()
assert raw.index('"sha256"') < raw.index('"sha512"')
EOF
[ -z "$(ls -A "$repo/.upkeep/tmp")" ] || fail "publish left files in .upkeep/tmp"

# --targets-from: PATH<TAB>FILE lines, CR LF and blank lines tolerated; UPKEEP_ONLINE_KEYS.
printf 'list/c.bin\tdata/c.bin\r\n\nlist/d.bin\tdata/d.bin\n' >io/list
: >io/empty.json
unchanged_after 2 env UPKEEP_ONLINE_KEYS=online "$S" publish --repo "$repo" --key keys/targets.key \
	--targets-from io/list --custom-file io/empty.json
err_is 'io/empty.json: custom metadata is not JSON'
printf '{"a": 1}' >io/custom.json
expect 0 env UPKEEP_ONLINE_KEYS=online "$S" publish --repo "$repo" --key keys/targets.key \
	--targets-from io/list --custom-file io/custom.json --expires targets=10d
out_has 'published: targets version 3 \(5 targets\)'
json "$repo/metadata/3.targets.json" "d['signed']['targets']['list/d.bin']['custom']" |
	grep -qx "{'a': 1}" || fail "custom-file"
json "$repo/.upkeep/config.json" "d['expires']['targets']" | grep -qx 864000 ||
	fail "--expires was not kept"
verify_ok

# Replacing a target: new content, new names; the old files stay for old snapshots.
printf 'alpha 2\n' >data/a2.bin
old_a=$(find "$repo/targets/fw" -type f | LC_ALL=C sort)
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --name fw/a.bin data/a2.bin
[ "$(find "$repo/targets/fw" -type f | wc -l)" = 4 ] || fail "replacing did not add two names"
for f in $old_a; do [ -f "$f" ] || fail "replacing removed $f"; done
json "$repo/metadata/4.targets.json" "d['signed']['targets']['fw/a.bin']['length']" |
	grep -qx 8 || fail "replaced entry"
# Publishing the same content again reuses the files.
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --name fw/a.bin data/a2.bin
[ "$(find "$repo/targets/fw" -type f | wc -l)" = 4 ] || fail "same content stored twice"
verify_ok

# ---- refusals: exit code, one error line, repository unchanged ----
unchanged_after 2 "$S" publish --repo "$repo" --key keys/root.key --online-keys online \
	--name x data/a.bin
err_is 'keys/root.key: key [0-9a-f]{16}\.\.\. is not a key of the roles this command signs \(targets, snapshot, timestamp\) \(USAGE\)'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --key keys/root.key --name x data/a.bin
err_is 'keys/root.key: .* is not a key of the roles'
mkkey keys/other.key
unchanged_after 2 "$S" publish --repo "$repo" --key keys/other.key --online-keys online \
	--name x data/a.bin
err_is 'is not a key of the roles'
unchanged_after 2 "$S" publish --repo "$repo" --online-keys online --name x data/a.bin
err_is 'key K is required'
unchanged_after 2 "$S" publish --repo "$repo" --key keys/nonexistent.key --online-keys online \
	--name x data/a.bin
err_is 'no such key file'
for bad in ../x /x 'a//b' 'a\b' 'a b' 'a/./b' 'x?' 'x%20'; do
	unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name "$bad" data/a.bin
	err_is '(USAGE)'
done
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name same data/a.bin \
	--name same data/b.bin
err_is 'same: target path given twice'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/nonexistent.bin
err_is 'data/nonexistent.bin: cannot open the file for target x'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data
err_is 'data: not a regular file'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin --name y data
err_is 'not a regular file'
# A key file named where a target belongs (--key a b) is never published.
unchanged_after 2 "$S" publish --repo "$repo" --key keys/targets.key keys/root.key \
	--online-keys online
err_is 'keys/root.key: is a private key file; refusing to publish it'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin --custom '{"a":'
err_is 'custom metadata is not JSON'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin --custom '[1]'
err_is 'must be a JSON object'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin --custom '{"f": 1.5}'
err_is 'custom metadata is not JSON'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin --custom '{}' \
	--custom-file io/custom.json
err_is 'exclude each other'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin --role nobody
err_is "no role 'nobody' is delegated"
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}"
err_is 'nothing to publish'
printf 'no tab here\n' >io/badlist
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --targets-from io/badlist
err_is 'io/badlist: line 1 is not PATH<TAB>FILE'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --targets-from io/nonexistent
err_is 'io/nonexistent'
unchanged_after 2 "$S" publish --repo "$repo" --key keys/targets.key --online-keys io/nonexistent \
	--name x data/a.bin
err_is 'cannot open the online keys directory'
mkdir -p io/emptyonline
unchanged_after 2 "$S" publish --repo "$repo" --key keys/targets.key --online-keys io/emptyonline \
	--name x data/a.bin
err_is 'snapshot needs 1 of its 1 keys; the online keys directory holds 0 of them'
cp online/snapshot.key io/emptyonline/
unchanged_after 2 "$S" publish --repo "$repo" --key keys/targets.key --online-keys io/emptyonline \
	--name x data/a.bin
err_is 'timestamp needs 1 of its 1 keys'
mkdir -p "$repo/online-inside"
cp online/* "$repo/online-inside/"
unchanged_after 2 "$S" publish --repo "$repo" --key keys/targets.key \
	--online-keys "$repo/online-inside" --name x data/a.bin
err_is 'inside the repository'
rm -rf "$repo/online-inside"
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin --expires targets=0d
err_is 'between 1 s and 36500 d'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin --lock-timeout -1
err_is 'lock-timeout'
# Metadata clients would refuse as too large (5 MB for targets) is not written.
"$PY" -c 'import json; print(json.dumps({"blob": "x" * 900000}))' >io/big.json
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --custom-file io/big.json \
	--name b1 data/a.bin --name b2 data/a.bin --name b3 data/a.bin --name b4 data/a.bin \
	--name b5 data/a.bin --name b6 data/a.bin
err_is '^upkeep-server: targets: the new metadata has [0-9]+ bytes, more than the 5000000 clients accept; spread the targets over delegated roles \(USAGE\)$'
# A changed metadata file on the server is not signed over: publish refuses to build on it.
ts_version=$(version_of timestamp)
cp "$repo/metadata/5.targets.json" io/saved.json
sed -i 's/"length": 8/"length": 9/' "$repo/metadata/5.targets.json"
unchanged_after 10 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin
err_is '5.targets.json: .*mismatch.*refusing to build on it'
cp io/saved.json "$repo/metadata/5.targets.json"
[ "$(version_of timestamp)" = "$ts_version" ] || fail "a refusal changed the timestamp"

# ---- yank ----
expect 0 "$S" yank --repo "$repo" "${PUB[@]}" b.bin list/c.bin
out_has 'yanked: targets version 6 \(3 targets\)'
json "$repo/metadata/6.targets.json" "sorted(d['signed']['targets'])" |
	grep -qx "\['big.bin', 'fw/a.bin', 'list/d.bin'\]" || fail "yank result"
[ "$(find "$repo/targets" -name '*.b.bin' | wc -l)" = 2 ] || fail "yank removed the files"
verify_ok
unchanged_after 2 "$S" yank --repo "$repo" "${PUB[@]}" b.bin
err_is 'b.bin: not a target of targets'
unchanged_after 2 "$S" yank --repo "$repo" "${PUB[@]}"
err_is 'name the TARGET'
unchanged_after 2 "$S" yank --repo "$repo" --key keys/root.key --online-keys online big.bin
err_is 'is not a key of the roles'
unchanged_after 2 "$S" yank --repo "$repo" "${PUB[@]}" --role nobody big.bin
err_is "no role 'nobody'"

# ---- encrypted targets key ----
printf 'secret words\n' >io/pass
"$K" generate --out keys/etargets.key --passphrase-file io/pass >/dev/null
repo="$work/enc"
expect 0 "$S" init --repo "$repo" --root-key keys/root.key --targets-key keys/etargets.key \
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key --passphrase-file io/pass
unchanged_after 2 "$S" publish --repo "$repo" --key keys/etargets.key --online-keys online \
	--name a data/a.bin
err_is 'keys/etargets.key: the key is encrypted'
printf 'wrong\n' >io/wrong
unchanged_after 2 "$S" publish --repo "$repo" --key keys/etargets.key --online-keys online \
	--name a data/a.bin --passphrase-file io/wrong
err_is 'keys/etargets.key.*\(PASSPHRASE\)'
expect 0 "$S" publish --repo "$repo" --key keys/etargets.key --online-keys online \
	--name a data/a.bin --passphrase-file io/pass
expect 0 env UPKEEP_PASSPHRASE='secret words' "$S" publish --repo "$repo" \
	--key keys/etargets.key --online-keys online --name b data/b.bin
verify_ok
out_has '2 targets'

# ---- --hashes: the hashes each entry lists, and the names its file is stored under ----
repo="$work/hrepo"
expect 0 "$S" init --repo "$repo" --root-key keys/root.key --targets-key keys/targets.key \
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key
for i in 1 2 3 4 5 6; do printf 'hashes test %s\n' "$i" >data/h$i.bin; done
printf 'hashes test 1, second release\n' >data/h1b.bin
printf 'release in a delegated role\n' >data/rel.bin

# hashes_are META PATH:FILE:ALGS...: in metadata/META each PATH's entry has FILE's length
# and exactly the hashes ALGS (comma-separated) of FILE, and FILE is stored under the
# name of each listed hash and under no name of an unlisted one.
hashes_are() {
	"$PY" - "$repo" "$@" <<'EOF' || fail "hashes of $*"
import hashlib, json, os, sys
repo, meta, specs = sys.argv[1], sys.argv[2], sys.argv[3:]
t = json.load(open(f"{repo}/metadata/{meta}"))["signed"]["targets"]
for spec in specs:
    path, src, algs = spec.split(":")
    data = open(src, "rb").read()
    listed = algs.split(",")
    e = t[path]
    assert e["length"] == len(data), path
    assert e["hashes"] == {a: hashlib.new(a, data).hexdigest() for a in listed}, (path, e)
    d, _, name = path.rpartition("/")
    base = f"{repo}/targets/{d}/" if d else f"{repo}/targets/"
    for a in ("sha256", "sha512"):
        f = base + hashlib.new(a, data).hexdigest() + "." + name
        if a in listed:
            assert open(f, "rb").read() == data, f
        else:
            assert not os.path.lexists(f), f + " exists"
EOF
	checks=$((checks + 1))
}

# sha256 alone, for targets named in all three ways in one call; sha512 alone; the default.
printf 'h/list.bin\tdata/h3.bin\nh/gone.bin\tdata/h4.bin\n' >io/hlist
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --hashes sha256 --name h/one.bin data/h1.bin \
	data/h2.bin --targets-from io/hlist
hashes_are 2.targets.json h/one.bin:data/h1.bin:sha256 h2.bin:data/h2.bin:sha256 \
	h/list.bin:data/h3.bin:sha256 h/gone.bin:data/h4.bin:sha256
[ "$(find "$repo/targets" -type f | wc -l)" = 4 ] || fail "sha256 alone stored more than one name"
verify_ok
out_has '4 targets'
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --hashes=sha512 --name h/five.bin data/h5.bin
hashes_are 3.targets.json h/five.bin:data/h5.bin:sha512 h/one.bin:data/h1.bin:sha256
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --name h/both.bin data/h6.bin
hashes_are 4.targets.json h/both.bin:data/h6.bin:sha256,sha512 h/five.bin:data/h5.bin:sha512
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --hashes sha512,sha256 --name h/both2.bin \
	data/h6.bin
hashes_are 5.targets.json h/both2.bin:data/h6.bin:sha256,sha512
verify_ok
# Re-publishing replaces the entry with the hashes of the new call; old files stay.
old_one="$repo/targets/h/$(sha256sum data/h1.bin | cut -c1-64).one.bin"
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --hashes sha512 --name h/one.bin data/h1b.bin \
	--name h2.bin data/h2.bin
hashes_are 6.targets.json h/one.bin:data/h1b.bin:sha512
json "$repo/metadata/6.targets.json" "sorted(d['signed']['targets']['h2.bin']['hashes'])" |
	grep -qx "\['sha512'\]" || fail "re-published h2.bin"
[ -f "$old_one" ] || fail "re-publishing removed the old file"
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --name h2.bin data/h2.bin
hashes_are 7.targets.json h2.bin:data/h2.bin:sha256,sha512
# A delegated role (--role) and a bundle (custom.upkeep filled, its checks passed).
mkkey keys/hrel.key
expect 0 "$S" delegate --repo "$repo" --role hrel --key keys/hrel.key --paths 'rel/*' \
	--signing-key keys/targets.key --role-key keys/hrel.key --online-keys online
expect 0 "$S" publish --repo "$repo" --role hrel --key keys/hrel.key --online-keys online \
	--hashes sha512 --name rel/r.bin data/rel.bin
hashes_are "$(version_of hrel).hrel.json" rel/r.bin:data/rel.bin:sha512
head -c 70000 /dev/urandom >data/small.img
expect 0 "$S" bundle create --out data/hb-1.0.0.upk --product hb --hardware h1 --version 1.0.0 \
	--security-version 1 --kind feature --firmware data/small.img \
	--build-time 2026-01-01T00:00:00Z
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --hashes sha256 data/hb-1.0.0.upk
tv=$(version_of targets)
hashes_are "$tv.targets.json" hb-1.0.0.upk:data/hb-1.0.0.upk:sha256
json "$repo/metadata/$tv.targets.json" \
	"d['signed']['targets']['hb-1.0.0.upk']['custom']['upkeep']['product']" | grep -qx hb ||
	fail "the bundle's entry has no custom.upkeep"
# Yank an entry that lists one hash.
expect 0 "$S" yank --repo "$repo" "${PUB[@]}" h/gone.bin
verify_ok
out_has '8 targets'
# verify checks the one stored name: missing or changed, it is an integrity problem.
h5="$repo/targets/h/$(sha512sum data/h5.bin | cut -c1-128).five.bin"
mv "$h5" io/h5.saved
expect 10 "$S" verify --repo "$repo"
err_has "five.bin: missing \(target h/five.bin\)"
printf 'hashes test X\n' >"$h5"
expect 10 "$S" verify --repo "$repo"
err_has 'sha512 mismatch \(target h/five.bin\)'
mv io/h5.saved "$h5"
verify_ok

# Refusals: a usage error naming the value, before any file is read (a missing passphrase
# file, key file or list is not reached), and the repository byte-identical.
bad_hashes() { # VALUE REGEX
	unchanged_after 2 "$S" publish --repo "$repo" --key keys/nonexistent.key --online-keys online \
		--passphrase-file io/nonexistent --targets-from io/nonexistent --hashes "$1"
	err_is "^upkeep-server: publish: --hashes: $2 \(USAGE\)"
	unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin "--hashes=$1"
	err_is "^upkeep-server: publish: --hashes: $2 \(USAGE\)"
}
bad_hashes md5 "'md5' is not sha256 or sha512"
bad_hashes sha256,sha256 "'sha256' is given twice"
bad_hashes sha256,sha512,sha512 "'sha512' is given twice"
bad_hashes '' "the list '' is empty; give sha256, sha512 or sha256,sha512"
bad_hashes SHA256 "'SHA256' is not sha256 or sha512"
bad_hashes sha256, "'sha256,' has an empty name"
bad_hashes ,sha512 "',sha512' has an empty name"
bad_hashes 'sha256 ' "'sha256 ' is not sha256 or sha512"
bad_hashes sha1,sha256 "'sha1' is not sha256 or sha512"
bad_hashes sha256-and-then-some "'sha256-and-then-some' is not sha256 or sha512"
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name x data/a.bin --hashes sha256 \
	--hashes sha512
err_is 'hashes is given twice'
unchanged_after 2 "$S" yank --repo "$repo" "${PUB[@]}" --hashes sha256 h/five.bin
err_is 'option --hashes does not apply here'

# Served by upkeep-server serve, which re-signs timestamp and snapshot itself (short
# lifetimes set by the last publish), and downloaded by upkeep-client's TUF client and by
# tuf-js: each builds the URL from a hash the entry lists.
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --hashes sha256 --name h/list.bin data/h3.bin \
	--expires timestamp=8s --expires snapshot=10s
ts=$(json "$repo/metadata/timestamp.json" "d['signed']['version']")
serve_start --online-keys online --resign-check 1 --access-log io/access.log
for _ in $(seq 1 80); do
	[ "$(json "$repo/metadata/timestamp.json" "d['signed']['version']")" -gt "$ts" ] && break
	sleep 0.25
done
[ "$(json "$repo/metadata/timestamp.json" "d['signed']['version']")" -gt "$ts" ] ||
	fail "serve did not re-sign the timestamp"
verify_ok
HT=(h/list.bin h/five.bin h/both.bin h/one.bin h2.bin rel/r.bin hb-1.0.0.upk)
HF=(data/h3.bin data/h5.bin data/h6.bin data/h1b.bin data/h2.bin data/rel.bin data/hb-1.0.0.upk)
C="$UPKEEP_BUILD_DIR/client/upkeep-client"
expect 0 "$C" tuf --metadata-dir io/cmd init "$repo/metadata/1.root.json"
args=()
for t in "${HT[@]}"; do args+=(--target-name "$t"); done
expect 0 "$C" tuf --metadata-dir io/cmd --metadata-url "$BASE/metadata/" "${args[@]}" \
	--target-base-url "$BASE/targets/" --target-dir io/ctd download
for i in "${!HT[@]}"; do
	cmp -s "io/ctd/${HT[$i]//\//%2F}" "${HF[$i]}" || fail "upkeep-client got a wrong ${HT[$i]}"
done
grep -q "^GET /targets/h/$(sha512sum data/h5.bin | cut -c1-128).five.bin - 200 " io/access.log ||
	fail "upkeep-client did not fetch h/five.bin by its sha512 name"
grep -q "^GET /targets/h/$(sha256sum data/h3.bin | cut -c1-64).list.bin - 200 " io/access.log ||
	fail "upkeep-client did not fetch h/list.bin by its sha256 name"

: "${UPKEEP_SOURCE_DIR:?UPKEEP_SOURCE_DIR must point at the source directory}"
TUFJS="$UPKEEP_SOURCE_DIR/tests/interop/node_modules/tuf-js"
command -v node >/dev/null || fail "node is needed (scripts/setup)"
[ -d "$TUFJS" ] || fail "no $TUFJS: run scripts/setup (npm ci)"
cat >io/tufjs.js <<EOF
// node tufjs.js BASE ROOT STATE_DIR OUT_DIR PATH...: refresh, download each PATH.
const { Updater } = require('$TUFJS');
const fs = require('fs'), path = require('path');
const [base, root, state, out, ...paths] = process.argv.slice(2);
(async () => {
  fs.mkdirSync(state, { recursive: true });
  fs.mkdirSync(out, { recursive: true });
  fs.copyFileSync(root, path.join(state, 'root.json'));
  const u = new Updater({ metadataBaseUrl: base + '/metadata', targetBaseUrl: base + '/targets',
                          metadataDir: state, targetDir: out });
  await u.refresh();
  for (const p of paths) {
    const info = await u.getTargetInfo(p);
    if (!info) throw new Error(p + ' not found');
    await u.downloadTarget(info, path.join(out, p.replace(/\\//g, '_')));
  }
})().catch((e) => { console.error('tuf-js: ' + e.message); process.exit(1); });
EOF
expect 0 node io/tufjs.js "$BASE" "$repo/metadata/1.root.json" io/jsmd io/jstd "${HT[@]}"
for i in "${!HT[@]}"; do
	cmp -s "io/jstd/${HT[$i]//\//_}" "${HF[$i]}" || fail "tuf-js got a wrong ${HT[$i]}"
done
checks=$((checks + 1))
serve_stop

done_ok
