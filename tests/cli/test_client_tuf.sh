#!/usr/bin/env bash
# CLI test of `upkeep-client tuf` (the TUF conformance protocol) against a real
# HTTP server on 127.0.0.1: init, refresh, download; the exact request
# sequences; the metadata directory's contents (only <role>.json, bytes as
# served); cached targets; failed targets leave nothing behind; exit codes 0/1.
. "$(dirname "$0")/test_client_tuf_lib.bash"

echo "target one" >"$work/one.txt"
echo "target two, longer" >"$work/two.txt"

# --- init -----------------------------------------------------------------
new_repo repo
md_files_are root.json
same_bytes "$MD/root.json" "$REPO/metadata/1.root.json"
# A root that does not verify, or is not a root, is not pinned.
printf '{"signed": {}, "signatures": []}' >"$work/bad-root.json"
expect 1 "$CLIENT" tuf --metadata-dir "$work/md2" init "$work/bad-root.json"
err_is '^upkeep-client: .*bad-root.json: .* \(FORMAT\)$'
[ ! -e "$work/md2/root.json" ] || fail "an invalid root was pinned"
expect 1 "$CLIENT" tuf --metadata-dir "$work/md2" init "$REPO/metadata/1.targets.json"
expect 1 "$CLIENT" tuf --metadata-dir "$work/md2" init "$work/missing.json"
err_is 'missing.json: .*\(NOT_FOUND\)$'
expect 1 "$CLIENT" tuf --metadata-dir "$work/md2" init

# --- first refresh: exactly these four requests ----------------------------
mark
expect 0 refresh
requests_are /metadata/2.root.json /metadata/timestamp.json /metadata/1.snapshot.json \
	/metadata/1.targets.json
md_files_are root.json timestamp.json snapshot.json targets.json
same_bytes "$MD/timestamp.json" "$REPO/metadata/timestamp.json"
same_bytes "$MD/snapshot.json" "$REPO/metadata/1.snapshot.json"
same_bytes "$MD/targets.json" "$REPO/metadata/1.targets.json"

# --- unchanged timestamp: no snapshot or targets request --------------------
mark
expect 0 refresh
requests_are /metadata/2.root.json /metadata/timestamp.json

# Options in another order, and --opt=value.
mark
expect 0 "$CLIENT" tuf "--metadata-url=http://127.0.0.1:$PORT/metadata" refresh \
	--metadata-dir "$MD"
requests_are /metadata/2.root.json /metadata/timestamp.json

# --- a target in a delegated role whose name needs quoting ------------------
"$GEN" add-target "$REPO" targets "dir/one file.txt" "$work/one.txt"
"$GEN" delegate "$REPO" targets "my role" "rel/*"
"$GEN" add-target "$REPO" "my role" "rel/two" "$work/two.txt"
"$GEN" publish "$REPO" "my role" targets snapshot timestamp
sha_one=$(sha256sum "$work/one.txt" | cut -d' ' -f1)
sha_two=$(sha256sum "$work/two.txt" | cut -d' ' -f1)

mark
expect 0 download "dir/one file.txt" "rel/two"
requests_are /metadata/2.root.json /metadata/timestamp.json /metadata/2.snapshot.json \
	/metadata/2.targets.json "/targets/dir/$sha_one.one%20file.txt" \
	"/metadata/1.my%20role.json" "/targets/rel/$sha_two.two"
md_files_are root.json timestamp.json snapshot.json targets.json "my%20role.json"
same_bytes "$MD/my%20role.json" "$REPO/metadata/1.my role.json"
same_bytes "$TD/dir%2Fone%20file.txt" "$work/one.txt"
same_bytes "$TD/rel%2Ftwo" "$work/two.txt"
[ "$(ls -A "$TD" | wc -l)" = 2 ] || fail "target dir: $(ls -A "$TD")"

# --- cached targets are not downloaded again; stored roles not re-fetched ---
mark
expect 0 download "rel/two" "dir/one file.txt"
requests_are /metadata/2.root.json /metadata/timestamp.json

# A changed cached file is fetched again and replaced.
echo "tampered locally" >"$TD/rel%2Ftwo"
mark
expect 0 download "rel/two"
requests_are /metadata/2.root.json /metadata/timestamp.json "/targets/rel/$sha_two.two"
same_bytes "$TD/rel%2Ftwo" "$work/two.txt"

# --- failures leave nothing behind -----------------------------------------
echo "target three" >"$work/three.txt"
"$GEN" add-target "$REPO" targets "three" "$work/three.txt"
"$GEN" publish "$REPO" targets snapshot timestamp
sha_three=$(sha256sum "$work/three.txt" | cut -d' ' -f1)
served="$REPO/targets/$sha_three.three"
# Same length, other bytes: hash mismatch.
echo "target THREE" >"$served"
expect 0 refresh
rejected_unchanged '/targets/[0-9a-f]+\.three: sha256 mismatch \(HASH\)$' download three
# Longer than signed: cut at the signed length.
echo "target three, but longer" >"$served"
rejected_unchanged '\(TOO_LARGE\)$' download three
# Shorter than signed.
echo "short" >"$served"
rejected_unchanged '\(LENGTH\)$' download three
# Missing on the server.
rm "$served"
rejected_unchanged '/targets/[0-9a-f]+\.three: HTTP status 404 \(NOT_FOUND\)$' download three
# Not a target at all, with a space in the name.
rejected_unchanged '^upkeep-client: no target: no such target .* \(NOT_FOUND\)$' \
	download "no target"
# The first failure ends the command: nothing after it is fetched.
cp "$work/three.txt" "$served"
mark
rejected_unchanged 'missing: no such target' download missing three
requests_are /metadata/2.root.json /metadata/timestamp.json
# Names are processed in order: the one before the failure is stored.
expect 1 download three missing
err_is 'missing: no such target'
same_bytes "$TD/three" "$work/three.txt"

# --- usage errors exit 1 as well --------------------------------------------
expect 1 "$CLIENT" tuf refresh
err_is '\(USAGE\)$'
expect 1 "$CLIENT" tuf --metadata-dir "$MD" refresh
expect 1 "$CLIENT" tuf --metadata-dir "$MD" --metadata-url "http://127.0.0.1:$PORT/m" download
expect 1 "$CLIENT" tuf --metadata-dir "$MD" --bogus refresh
expect 1 "$CLIENT" tuf --metadata-dir "$MD" frobnicate
expect 1 "$CLIENT" tuf --metadata-dir
expect 1 "$CLIENT" tuf --metadata-dir "$MD" --low-speed-time 0 refresh
expect 0 "$CLIENT" tuf --help
expect 1 "$CLIENT" tuf --metadata-dir "$work/nowhere" --metadata-url "http://127.0.0.1:$PORT/" \
	refresh
# An unreachable server is a failure with a one-line error, and changes nothing.
rejected_unchanged '\(NETWORK\)$' "$CLIENT" tuf --metadata-dir "$MD" \
	--metadata-url "http://127.0.0.1:1/metadata/" refresh

# --- without consistent snapshots: unversioned names, plain target paths ---
new_repo plain --no-consistent
"$GEN" add-target "$REPO" targets "a/b c" "$work/one.txt"
"$GEN" publish "$REPO" targets snapshot timestamp
mark
expect 0 download "a/b c"
requests_are /metadata/2.root.json /metadata/timestamp.json /metadata/snapshot.json \
	/metadata/targets.json "/targets/a/b%20c"
same_bytes "$TD/a%2Fb%20c" "$work/one.txt"
md_files_are root.json timestamp.json snapshot.json targets.json

echo "ok: $checks checks"
