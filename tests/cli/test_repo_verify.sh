#!/usr/bin/env bash
# CLI test of upkeep-server verify (upkeep-server.1.md): a repository damaged in one
# way at a time (target content, length, missing names and metadata, signatures,
# root chain gaps, foreign roots, rollback, delegation paths) must be reported with
# the right class and exit code, every problem listed, harmless files only noted.
. "$(dirname "$0")/test_repo_lib.bash"

new_repo
mkdir data
printf 'one\n' >data/1.bin
printf 'two\n' >data/2.bin
mkkey keys/rel.key
ON=(--online-keys online)
expect 0 "$S" publish --repo "$repo" --key keys/targets.key "${ON[@]}" --name fw/1.bin data/1.bin
expect 0 "$S" delegate --repo "$repo" --role releases --key keys/rel.key --paths 'rel/*' \
	--signing-key keys/targets.key --role-key keys/rel.key "${ON[@]}"
expect 0 "$S" publish --repo "$repo" --role releases --key keys/rel.key "${ON[@]}" \
	--name rel/2.bin data/2.bin
expect 0 "$S" verify --repo "$repo" --json
json "$OUT" "(d['ok'], d['exit_code'], d['problems'], d['targets'], d['delegated_roles'])" |
	grep -qx "(True, 0, \[\], 2, 1)" || fail "verify --json of a good repository"
json "$OUT" "(d['roles']['releases']['version'], d['roles']['releases']['targets'])" |
	grep -qx "(2, 1)" || fail "verify --json roles"
cp -a "$repo" "$work/pristine"

restore() {
	rm -rf "$repo"
	cp -a "$work/pristine" "$repo"
}

# problems_are CODE PY-EXPR: verify --json exits CODE and the problem list, as
# [(file, error), ...], satisfies PY-EXPR (a Python expression on `p`).
problems_are() {
	expect "$1" "$S" verify --repo "$repo" --json
	"$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
p = [(x["file"], x["error"]) for x in d["problems"]]
assert d["exit_code"] == int(sys.argv[3]) and d["ok"] == (not p), d
assert eval(sys.argv[2]), p' "$OUT" "$2" "$1" || fail "problems: $(cat "$OUT")"
}

t256() { # the sha256-named file of target fw/1.bin
	find "$repo/targets/fw" -name "$(sha256sum data/1.bin | cut -c1-64).1.bin"
}
t512() {
	find "$repo/targets/fw" -name "$(sha512sum data/1.bin | cut -c1-128).1.bin"
}

# Changed content (same length): both names are the same inode, each reports it.
printf 'ONE\n' >"$(t256)"
problems_are 10 "len(p) == 4 and all(e == 'HASH' and f.startswith('targets/fw/') for f, e in p)"
expect 10 "$S" verify --repo "$repo"
[ "$(grep -c '^upkeep-server: targets/fw/.*mismatch (target fw/1.bin) (HASH)$' "$ERR")" = 4 ] ||
	fail "HASH lines"
out_has '^4 problems$'
restore
# Truncated: a length problem (no hashing needed).
rm "$(t512)"
: >"$(t256)"
problems_are 10 "p[0][1] == 'LENGTH' and p[1][1] == 'NOT_FOUND' and len(p) == 2"
restore
# One name missing.
rm "$(t512)"
problems_are 10 "len(p) == 1 and p[0][1] == 'NOT_FOUND' and p[0][0].endswith('.1.bin')"
restore
# A delegated role's metadata missing: its targets cannot be checked either.
rm "$repo/metadata/2.releases.json"
problems_are 10 "p == [('metadata/2.releases.json', 'NOT_FOUND')]"
restore
# A bad timestamp signature, and a missing target: both listed, the first decides.
"$PY" - "$repo/metadata/timestamp.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["signatures"][0]["sig"]
d["signatures"][0]["sig"] = ("0" if s[0] != "0" else "1") + s[1:]
json.dump(d, open(sys.argv[1], "w"))
EOF
rm "$(t512)"
problems_are 11 "[e for f, e in p] == ['THRESHOLD', 'NOT_FOUND'] and p[0][0] == 'metadata/timestamp.json'"
restore
# Changed targets metadata: its hash in snapshot and its signature both fail.
sed -i 's/"length": 4/"length": 5/' "$repo/metadata/3.targets.json"
problems_are 10 "p[0] == ('metadata/3.targets.json', 'HASH') and ('metadata/3.targets.json', 'THRESHOLD') in p"
restore
# A root gap: 3.root.json without 2.root.json is unreachable.
cp "$repo/metadata/1.root.json" "$repo/metadata/3.root.json"
problems_are 10 "p == [('metadata/2.root.json', 'NOT_FOUND')]"
grep -q 'never reach 3.root.json' "$OUT" || fail "gap reason"
restore
# A root 2 from another repository: not signed by root 1's threshold.
mkkey keys/foreign.key
expect 0 "$S" init --repo "$work/foreign" --root-key keys/foreign.key --targets-key keys/targets.key \
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key
expect 0 "$S" rotate --repo "$work/foreign" --role root --signing-key keys/foreign.key "${ON[@]}"
cp "$work/foreign/metadata/2.root.json" "$repo/metadata/2.root.json"
problems_are 11 "p[0] == ('metadata/2.root.json', 'THRESHOLD')"
grep -q 'not signed by the threshold of root version 1' "$OUT" || fail "foreign root reason"
restore
# Rollback: a file that holds another version than its name says.
expect 0 "$S" rotate --repo "$repo" --role root --signing-key keys/root.key "${ON[@]}"
cp "$repo/metadata/2.root.json" "$repo/metadata/1.root.json"
problems_are 12 "p[0] == ('metadata/1.root.json', 'ROLLBACK')"
restore
# Malformed metadata.
echo '{"signed": {}, "signatures": []}' >"$repo/metadata/timestamp.json"
problems_are 10 "p[0] == ('metadata/timestamp.json', 'FORMAT')"
restore
# A target outside its role's delegated paths (the delegation narrowed afterwards).
expect 0 "$S" delegate --repo "$repo" --role releases --key keys/rel.key --paths 'other/*' \
	--signing-key keys/targets.key "${ON[@]}"
problems_are 10 "p == [('rel/2.bin', 'FORMAT')]"
grep -q 'outside the paths delegated to releases' "$OUT" || fail "outside reason"
restore
# Unreferenced files are notes, not problems.
cp "$repo/metadata/3.targets.json" "$repo/metadata/9.targets.json"
cp "$repo/metadata/2.releases.json" "$repo/metadata/7.releases.json"
echo hi >"$repo/metadata/README"
cp "$repo/metadata/1.targets.json" "$repo/metadata/1.nosuchrole.json"
expect 0 "$S" verify --repo "$repo"
out_has '^note: metadata/9.targets.json: newer than the current version 3 and not referenced'
out_has '^note: metadata/7.releases.json: newer than the current version 2'
out_has '^note: metadata/README: not a metadata file name'
out_has '^note: metadata/1.nosuchrole.json: not referenced by any metadata'
out_has '^ok: '
[ ! -s "$ERR" ] || fail "notes went to stderr"
# Old versions are history, not debris: no notes for them.
grep -q '2.targets.json' "$OUT" && fail "old versions were noted"
restore
# Not a repository, and a repository with no root at all.
rm "$repo/metadata/"*.root.json
problems_are 10 "p[0] == ('metadata/1.root.json', 'NOT_FOUND')"

done_ok
