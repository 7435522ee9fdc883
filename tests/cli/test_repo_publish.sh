#!/usr/bin/env bash
# CLI test of upkeep-server publish and yank (upkeep-server.1.md): the three ways to
# name targets, custom metadata, the content-addressed files (both hash names, one
# inode), replacing and yanking, encrypted keys, and every refusal proven to leave
# the repository byte-identical.
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

done_ok
