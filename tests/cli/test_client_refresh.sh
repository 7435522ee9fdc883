#!/usr/bin/env bash
# CLI test of `upkeep-client refresh`: the device configuration (upkeep-client.conf(5))
# and its errors, the first run from the image's pinned root, --json, the time floor
# (DESIGN.md "Trust") against a clock set back or far ahead, and CLI.md exit codes.
# The repository is written by upkeep-server and served by upkeep-server serve.
. "$(dirname "$0")/test_repo_lib.bash"

C="$UPKEEP_BUILD_DIR/client/upkeep-client"
[ -x "$C" ] || { echo "no $C" >&2; exit 1; }
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

# cerr_is REGEX: stderr is one upkeep-client error line matching REGEX.
cerr_is() {
	[ "$(wc -l <"$ERR")" = 1 ] || fail "stderr is not one line"
	grep -qE -- '^upkeep-client: ' "$ERR" || fail "stderr is not an upkeep-client line"
	grep -qE -- "$1" "$ERR" || fail "stderr does not match /$1/"
}

new_repo
ON=(--online-keys online)
serve_start
cp "$repo/metadata/1.root.json" "$work/image-root.json"

STATE="$work/state"
CONF="$work/client.conf"
cat >"$CONF" <<EOF
# a device
[repository]
metadata_url = $BASE/metadata/
targets_url = $BASE/targets/

[device]
state_dir = $STATE
trusted_root = $work/image-root.json

[network]
connect_timeout = 5
low_speed_limit = 100
low_speed_time = 10
EOF
refresh() { "$C" refresh --config "$CONF" "$@"; }

# --- help, version, usage ------------------------------------------------------
expect 0 "$C" refresh --help
out_has '^Usage: upkeep-client refresh'
expect 0 "$C" refresh --version
out_has '^upkeep-client [0-9]'
expect 0 "$C" --help
out_has 'refresh +update the trusted TUF metadata'
expect 2 "$C" refresh --bogus
cerr_is "unexpected argument '--bogus' \(USAGE\)"
expect 2 "$C" refresh --config
cerr_is '--config needs a FILE \(USAGE\)'

# --- configuration errors: exit 2, naming file, line and key; nothing created ----
expect 2 "$C" refresh --config "$work/none.conf"
cerr_is "none.conf: .*\(CONFIG\)$"
cp "$CONF" "$work/bad.conf"
echo 'metdata_url = http://x/' >>"$work/bad.conf"
expect 2 "$C" refresh --config "$work/bad.conf"
cerr_is "bad.conf:14: \[network\] metdata_url: unknown key \(CONFIG\)$"
sed '/^targets_url/d' "$CONF" >"$work/bad.conf"
expect 2 "$C" refresh --config "$work/bad.conf"
cerr_is "bad.conf: \[repository\] targets_url is required \(CONFIG\)$"
sed 's/^low_speed_limit = .*/low_speed_limit = fast/' "$CONF" >"$work/bad.conf"
expect 2 "$C" refresh --config="$work/bad.conf"
cerr_is "bad.conf:12: \[network\] low_speed_limit: 'fast' is not a number"
sed 's/^\[device\]/[devices]/' "$CONF" >"$work/bad.conf"
expect 2 "$C" refresh --config "$work/bad.conf"
cerr_is "bad.conf:6: unknown section \[devices\] \(CONFIG\)$"
[ ! -e "$STATE" ] || fail "a configuration error created state"
checks=$((checks + 1))

# --- first run: the image's pinned root, then the repository ----------------------
before=$(date +%s)
expect 0 refresh
out_has '^trusted: root 1, timestamp 1, snapshot 1, targets 1$'
cmp -s "$STATE/metadata/root.json" "$work/image-root.json" || fail "root not pinned"
for f in timestamp.json 1.snapshot.json 1.targets.json; do
	cmp -s "$STATE/metadata/${f#1.}" "$repo/metadata/$f" || fail "$f not stored as served"
done
floor=$(cat "$STATE/time-floor")
[ "$floor" -ge "$before" ] && [ "$floor" -le "$(date +%s)" ] || fail "time floor $floor"
checks=$((checks + 1))

mkdir -p data
printf 'fw\n' >data/fw
expect 0 "$S" publish --repo "$repo" --key keys/targets.key "${ON[@]}" --name fw.bin data/fw
expect 0 refresh --json
json "$OUT" 'd["root"], d["timestamp"], d["snapshot"], d["targets"]' >io/v
[ "$(cat io/v)" = "(1, 2, 2, 2)" ] || fail "json versions: $(cat io/v)"
json "$OUT" 'd["time_floor"]' | grep -qE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' ||
	fail "json time_floor"
checks=$((checks + 1))

# A broken trusted_root on a device without state: not trusted, nothing stored.
sed "s|^state_dir = .*|state_dir = $work/state2|; s|^trusted_root = .*|trusted_root = $work/data/fw|" \
	"$CONF" >"$work/other.conf"
expect 10 "$C" refresh --config "$work/other.conf"
cerr_is "data/fw: .*malformed metadata: .*\(FORMAT\)$"
[ ! -e "$work/state2/metadata/root.json" ] || fail "a bad root was pinned"

# --- transient: no server -> exit 3, state unchanged ------------------------------
sed "s|^metadata_url = .*|metadata_url = http://127.0.0.1:1/metadata/|" "$CONF" >"$work/down.conf"
st=$(tree_state "$STATE")
expect 3 "$C" refresh --config "$work/down.conf"
cerr_is "http://127.0.0.1:1/metadata/2.root.json: .*\(NETWORK\)$"
[ "$(tree_state "$STATE")" = "$st" ] || fail "a failed refresh changed the state"

# --- time floor ---------------------------------------------------------------------
# A floor 400 days ahead of the clock (the clock was set back): the floor is used,
# so the trusted metadata is expired: freeze, with a warning naming the clock.
now=$(date +%s)
echo "$((now + 400 * 86400))" >"$STATE/time-floor"
st=$(tree_state "$STATE")
expect 13 refresh
[ "$(wc -l <"$ERR")" = 2 ] || fail "want a warning and an error line"
grep -qE '^upkeep-client: warning: the clock reads .*, before the time floor .*; using the floor$' \
	"$ERR" || fail "no clock warning"
grep -qE '^upkeep-client: .*: freeze: version [0-9]+ expired at .* \(EXPIRED\)$' "$ERR" ||
	fail "no freeze error"
[ "$(tree_state "$STATE")" = "$st" ] || fail "a frozen refresh changed the state"
checks=$((checks + 1))

# A clock 40 days past the floor: used, reported, and the floor moves up.
echo "$((now - 40 * 86400))" >"$STATE/time-floor"
expect 0 refresh
grep -qE '^upkeep-client: warning: the clock reads .*, 4[01] days after the time floor ' "$ERR" ||
	fail "no clock-jump warning"
[ "$(cat "$STATE/time-floor")" -ge "$now" ] || fail "floor not advanced"
checks=$((checks + 1))
# Within clock_jump_warning (30 days by default): no warning.
expect 0 refresh
[ ! -s "$ERR" ] || fail "unexpected stderr"
# A damaged floor is an error, not a reset.
echo "yesterday" >"$STATE/time-floor"
expect 1 refresh
cerr_is "time-floor: damaged time floor"
printf '%s\n' "$now" >"$STATE/time-floor"

# The clock itself set back to 1970 (libfaketime; the gcc ASan runtime needs its link
# order check off; skipped where faketime cannot preload, e.g. clang's static ASan).
FT_ENV=(env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0")
if "${FT_ENV[@]}" timeout 10 faketime -f '@1970-01-02 00:00:00' "$C" --version >/dev/null 2>&1 &&
	[ "$("${FT_ENV[@]}" timeout 10 faketime -f '@1970-01-02 00:00:00' date +%Y)" = 1970 ]; then
	expect 0 timeout 30 "${FT_ENV[@]}" faketime -f '@1970-01-02 00:00:00' "$C" refresh --config "$CONF"
	grep -q 'the clock reads 1970-01-02T00:00:00Z, before the time floor' "$ERR" ||
		fail "1970 clock not reported"
	[ "$(cat "$STATE/time-floor")" = "$now" ] || fail "the floor moved back"
	# 500 days ahead: every trusted expiry has passed: freeze, with the jump reported.
	st=$(tree_state "$STATE")
	expect 13 timeout 30 "${FT_ENV[@]}" faketime -f '+500d' "$C" refresh --config "$CONF"
	grep -qE 'warning: the clock reads .*, 50[01] days after the time floor' "$ERR" ||
		fail "jump not reported"
	grep -q '(EXPIRED)$' "$ERR" || fail "no freeze"
	[ "$(tree_state "$STATE")" = "$st" ] || fail "a frozen refresh changed the state"
	checks=$((checks + 1))
else
	echo "note: faketime cannot run this build; the 1970 and +500d clock cases are skipped"
fi

echo "$(basename "$0"): $checks checks passed"
