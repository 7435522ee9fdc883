#!/usr/bin/env bash
# serve --online-keys: timestamp and snapshot are re-signed by the server itself once
# half their lifetime has passed, the repository stays valid throughout, and a serve
# without online keys changes nothing. Lifetimes of a few seconds keep it short;
# every wait is bounded.
. "$(dirname "$0")/test_repo_lib.bash"

mkkey keys/root.key
mkkey keys/targets.key
mkkey online/snapshot.key
mkkey online/timestamp.key
repo="$work/repo"
expect 0 "$S" init --repo "$repo" --root-key keys/root.key --targets-key keys/targets.key \
	--snapshot-key online/snapshot.key --timestamp-key online/timestamp.key \
	--online-keys online --expires timestamp=4s --expires snapshot=8s

served_version() { # ROLE: the version the served timestamp (or snapshot) carries
	curl -sf --max-time 5 "$BASE/metadata/timestamp.json" >io/ts.json ||
		fail "GET timestamp.json failed"
	case $1 in
	timestamp) json io/ts.json "d['signed']['version']" ;;
	snapshot) json io/ts.json "d['signed']['meta']['snapshot.json']['version']" ;;
	esac
}

# wait_version_above ROLE V SECONDS: poll until the served ROLE version exceeds V.
wait_version_above() {
	local i
	for i in $(seq 1 $(($3 * 4))); do
		[ "$(served_version "$1")" -gt "$2" ] && return 0
		sleep 0.25
	done
	fail "$1 stayed at version $2 for $3 s"
}

# Without online keys: serve only serves, whatever is due.
ts0=$(json "$repo/metadata/timestamp.json" "d['signed']['version']")
before=$(tree_state "$repo")
serve_start --resign-check 1
sleep 3
[ "$(served_version timestamp)" = "$ts0" ] || fail "serve without keys re-signed"
serve_stop
[ "$(tree_state "$repo")" = "$before" ] || fail "serve without keys changed the repository"
checks=$((checks + 1))

# A missing online keys directory is refused at start, before serving.
expect 2 "$S" serve --repo "$repo" --listen 127.0.0.1:0 --online-keys "$work/nonexistent"
err_is 'nonexistent: the online keys directory does not exist \(USAGE\)$'

# With online keys: timestamp (4 s lifetime) within a few seconds, snapshot (8 s) later.
serve_start --online-keys online --resign-check 1
ts1=$(served_version timestamp)
snap1=$(served_version snapshot)
exp1=$(json io/ts.json "d['signed']['expires']")
wait_version_above timestamp "$ts1" 20
checks=$((checks + 1))
wait_version_above snapshot "$snap1" 30
checks=$((checks + 1))
grep -q 're-signed metadata with the online keys' io/serve.err || fail "no re-sign log line"
verify_ok
serve_stop
# The re-signed timestamp is fresh: it expires later than the one served at the start.
exp2=$(json "$repo/metadata/timestamp.json" "d['signed']['expires']")
[[ "$exp2" > "$exp1" ]] || fail "timestamp expiry $exp2 is not after $exp1"
checks=$((checks + 1))

done_ok
