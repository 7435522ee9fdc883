#!/usr/bin/env bash
# CLI test of upkeep-server delegate, publish --role and rotate of a delegated role
# (upkeep-server.1.md): path patterns and hash prefixes enforced along the whole
# delegation chain, nested delegations, changing a delegation in place, new role
# keys, thresholds, and every refusal proven to leave the repository unchanged.
. "$(dirname "$0")/test_repo_lib.bash"

new_repo
mkdir data
printf 'one\n' >data/1.bin
printf 'two\n' >data/2.bin
for k in rel rel2 beta hashed; do
	mkkey keys/$k.key
	"$K" export-public keys/$k.key >keys/$k.pub
done
ON=(--online-keys online)

# ---- a delegation ----
expect 0 "$S" delegate --repo "$repo" --role releases --key keys/rel.pub --paths 'rel/*' 'fw/*.upk' \
	--signing-key keys/targets.key --role-key keys/rel.key "${ON[@]}"
out_has 'delegated: releases version 1 \(0 targets\); root 1, targets 2, snapshot 2'
"$PY" - "$repo/metadata" "$(keyid keys/rel.key)" <<'EOF' || fail "delegation entry"
import json, sys
md, kid = sys.argv[1], sys.argv[2]
t = json.load(open(f"{md}/2.targets.json"))["signed"]
d = t["delegations"]
assert list(d["keys"]) == [kid]
assert d["roles"] == [{"name": "releases", "keyids": [kid], "threshold": 1,
                       "terminating": False, "paths": ["rel/*", "fw/*.upk"]}], d["roles"]
s = json.load(open(f"{md}/2.snapshot.json"))["signed"]
assert s["meta"]["releases.json"]["version"] == 1
r = json.load(open(f"{md}/1.releases.json"))
assert r["signed"]["targets"] == {} and r["signatures"][0]["keyid"] == kid
EOF
verify_ok
out_has '1 delegated role'

expect 0 "$S" publish --repo "$repo" --role releases --key keys/rel.key "${ON[@]}" \
	--name rel/1.bin data/1.bin --name fw/x.upk data/2.bin
out_has 'releases version 2 \(2 targets\); root 1, targets 2, snapshot 3'
verify_ok
out_has '2 targets'
for bad in rel/sub/1.bin other/1.bin fw/x.bin; do
	unchanged_after 2 "$S" publish --repo "$repo" --role releases --key keys/rel.key "${ON[@]}" \
		--name "$bad" data/1.bin
	err_is "^upkeep-server: $bad: outside the paths targets delegates to releases \\(USAGE\\)"
done
# The role's key signs only the role; the targets key is not the role's.
unchanged_after 2 "$S" publish --repo "$repo" --role releases --key keys/targets.key "${ON[@]}" \
	--name rel/2.bin data/2.bin
err_is 'is not a key of the roles this command signs \(releases, snapshot, timestamp\)'

# ---- nested: beta, delegated by releases, may only narrow it ----
expect 0 "$S" delegate --repo "$repo" --role beta --delegator releases --key keys/beta.pub \
	--paths 'rel/beta-*' 'x/beta-*' --signing-key keys/rel.key --role-key keys/beta.key "${ON[@]}"
expect 0 "$S" publish --repo "$repo" --role beta --key keys/beta.key "${ON[@]}" \
	--name rel/beta-1 data/1.bin
unchanged_after 2 "$S" publish --repo "$repo" --role beta --key keys/beta.key "${ON[@]}" \
	--name x/beta-1 data/1.bin
err_is 'x/beta-1: outside the paths targets delegates to releases'
unchanged_after 2 "$S" publish --repo "$repo" --role beta --key keys/beta.key "${ON[@]}" \
	--name rel/gamma data/1.bin
err_is 'rel/gamma: outside the paths releases delegates to beta'
verify_ok
out_has '2 delegated roles, 3 targets'

# ---- hash prefixes (sha256 of "h/one" starts a419, of "h/two" 6a49) ----
expect 0 "$S" delegate --repo "$repo" --role hashed --key keys/hashed.pub \
	--path-hash-prefixes a4 0 --terminating --signing-key keys/targets.key \
	--role-key keys/hashed.key "${ON[@]}"
expect 0 "$S" publish --repo "$repo" --role hashed --key keys/hashed.key "${ON[@]}" \
	--name h/one data/1.bin
unchanged_after 2 "$S" publish --repo "$repo" --role hashed --key keys/hashed.key "${ON[@]}" \
	--name h/two data/1.bin
err_is 'h/two: outside the paths targets delegates to hashed'
json "$repo/metadata/$(version_of targets).targets.json" \
	"[(r['name'], r.get('path_hash_prefixes'), r['terminating']) for r in d['signed']['delegations']['roles']]" |
	grep -qF "[('releases', None, False), ('hashed', ['a4', '0'], True)]" ||
	fail "hashed delegation entry"
verify_ok

# ---- changing a delegation in place: priority and the role's metadata are kept ----
rel_version=$(version_of releases)
expect 0 "$S" delegate --repo "$repo" --role releases --key keys/rel.pub --paths 'rel/*' 'fw/*' \
	--signing-key keys/targets.key "${ON[@]}"
[ "$(version_of releases)" = "$rel_version" ] || fail "changing paths re-signed the role"
json "$repo/metadata/$(version_of targets).targets.json" \
	"[r['name'] for r in d['signed']['delegations']['roles']]" |
	grep -qF "['releases', 'hashed']" || fail "changing a delegation moved it"
verify_ok
# New keys for the role: the role is re-signed with them (its new key is needed).
unchanged_after 2 "$S" delegate --repo "$repo" --role releases --key keys/rel2.pub --paths 'rel/*' \
	--signing-key keys/targets.key "${ON[@]}"
err_is 'delegated role releases needs signatures of 1 of its 1 keys; the keys given hold 0'
expect 0 "$S" delegate --repo "$repo" --role releases --key keys/rel2.pub --paths 'rel/*' 'fw/*' \
	--signing-key keys/targets.key --role-key keys/rel2.key "${ON[@]}"
[ "$(version_of releases)" = $((rel_version + 1)) ] || fail "new role keys did not re-sign it"
json "$repo/metadata/$(version_of targets).targets.json" "list(d['signed']['delegations']['keys'])" |
	grep -q "$(keyid keys/rel.key)" && fail "the old role key stayed in delegations.keys"
verify_ok
out_has '3 delegated roles, 4 targets'

# ---- rotate a delegated role: add a key and raise the threshold ----
expect 0 "$S" rotate --repo "$repo" --role releases --add keys/rel.pub --threshold 2 \
	--signing-key keys/targets.key keys/rel.key keys/rel2.key "${ON[@]}"
out_has 'rotated: releases version'
unchanged_after 2 "$S" publish --repo "$repo" --role releases --key keys/rel.key "${ON[@]}" \
	--name rel/2.bin data/2.bin
err_is 'delegated role releases needs signatures of 2 of its 2 keys; the keys given hold 1'
expect 0 "$S" publish --repo "$repo" --role releases --key keys/rel.key --key keys/rel2.key \
	"${ON[@]}" --name rel/2.bin data/2.bin
expect 0 "$S" rotate --repo "$repo" --role releases --remove "$(keyid keys/rel2.key)" \
	--threshold 1 --signing-key keys/targets.key keys/rel.key "${ON[@]}"
expect 0 "$S" publish --repo "$repo" --role releases --key keys/rel.key "${ON[@]}" \
	--name rel/3.bin data/2.bin
unchanged_after 2 "$S" rotate --repo "$repo" --role releases --remove "$(keyid keys/rel.key)" \
	--signing-key keys/targets.key "${ON[@]}"
err_is 'releases would have 0 keys for a threshold of 1'
unchanged_after 2 "$S" rotate --repo "$repo" --role releases --remove "$(keyid keys/beta.key)" \
	--signing-key keys/targets.key "${ON[@]}"
err_is 'is not a key of releases'
unchanged_after 2 "$S" rotate --repo "$repo" --role releases --add keys/rel.pub \
	--signing-key keys/targets.key keys/rel.key "${ON[@]}"
err_is 'is already a key of releases'
unchanged_after 2 "$S" rotate --repo "$repo" --role releases --threshold 2 \
	--signing-key keys/targets.key keys/rel.key "${ON[@]}"
err_is 'would have 1 keys for a threshold of 2'
unchanged_after 2 "$S" rotate --repo "$repo" --role nobody --threshold 1 \
	--signing-key keys/targets.key "${ON[@]}"
err_is "no role 'nobody'"
verify_ok

# ---- refusals of delegate ----
D=(--signing-key keys/targets.key --role-key keys/rel.key "${ON[@]}")
for name in root targets a/b '.x' ''; do
	unchanged_after 2 "$S" delegate --repo "$repo" --role "$name" --key keys/rel.pub --paths 'x/*' "${D[@]}"
	err_is '(USAGE)'
done
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/rel.pub --paths 'x/*' \
	--path-hash-prefixes ab "${D[@]}"
err_is 'either --paths'
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/rel.pub "${D[@]}"
err_is 'either --paths'
for glob in '[ab]' '{a,b}' '!x' '/x' 'a//b'; do
	unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/rel.pub --paths "$glob" "${D[@]}"
	err_is 'path pattern'
done
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/rel.pub --path-hash-prefixes AB "${D[@]}"
err_is 'not 1 to 64 lower-case hex digits'
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/rel.pub --paths 'x/*' \
	--threshold 2 "${D[@]}"
err_is '1 keys, threshold 2'
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/rel.pub keys/rel.pub --paths 'x/*' "${D[@]}"
err_is 'is given twice'
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/rel.pub --paths 'x/*' \
	--delegator nobody "${D[@]}"
err_is "no role 'nobody'"
unchanged_after 2 "$S" delegate --repo "$repo" --role beta --key keys/beta.pub --paths 'x/*' \
	--signing-key keys/targets.key "${ON[@]}"
err_is "role 'beta' is already delegated by 'releases'"
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/rel.pub --paths 'x/*' \
	--delegator r2 "${D[@]}"
err_is 'cannot delegate to itself'
# A new role needs its own key to sign its empty first version.
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/beta.pub --paths 'x/*' \
	--signing-key keys/targets.key "${ON[@]}"
err_is 'delegated role r2 needs signatures of 1 of its 1 keys; the keys given hold 0'
# The delegator's key is needed, and a key of no role signed here is refused.
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/beta.pub --paths 'x/*' \
	--signing-key keys/root.key --role-key keys/beta.key "${ON[@]}"
err_is 'keys/root.key: key .* is not a key of the roles this command signs'
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/beta.pub --paths 'x/*' \
	--signing-key keys/hashed.key --role-key keys/beta.key "${ON[@]}"
err_is 'keys/hashed.key: key .* is not a key of the roles'
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/nonexistent.pub --paths 'x/*' "${D[@]}"
err_is 'no such key file'
unchanged_after 2 "$S" delegate --repo "$repo" --role r2 --key keys/rel.pub --paths 'x/*' \
	--signing-key keys/targets.key --role-key keys/rel.key
err_is 'online-keys DIR'
verify_ok

done_ok
