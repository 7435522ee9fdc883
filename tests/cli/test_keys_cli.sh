#!/usr/bin/env bash
# CLI test of upkeep-keys (CLI.md, keys/upkeep-keys.1.md): every command, its exit
# codes and error lines; key ids checked against securesystemslib; failures leave
# every file byte-identical and write nothing new; passphrase prompts on a pty.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib_check.bash"

: "${UPKEEP_BUILD_DIR:?UPKEEP_BUILD_DIR must point at the build directory}"
K="$UPKEEP_BUILD_DIR/keys/upkeep-keys"
PY=/usr/bin/python3 # Debian's python, which has securesystemslib
[ -x "$K" ] || { echo "no $K" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/upk-keys-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/keys" "$work/io"
cd "$work/keys"
unset UPKEEP_PASSPHRASE UPKEEP_NEW_PASSPHRASE
OUT="$work/io/out"
ERR="$work/io/err"

# err_is REGEX: stderr is exactly one line matching REGEX.
err_is() {
	[ "$(wc -l <"$ERR")" = 1 ] || fail "stderr is not one line"
	grep -qE -- "$1" "$ERR" || fail "stderr does not match /$1/"
}

# Listing and hashes of the key directory: compared before and after a failure.
state() {
	ls -A
	find . -maxdepth 1 -type f -print0 | sort -z | xargs -0 -r sha256sum
}

# unchanged_after CODE CMD...: CMD fails with CODE and the key directory is unchanged.
unchanged_after() {
	local before
	before=$(state)
	expect "$@"
	[ "$(state)" = "$before" ] || fail "'${*:2}' changed the key directory"
}

keyid_of() { # FILE: the keyid show prints
	"$K" show "$1" | sed -n 's/^keyid: //p'
}

printf 'first passphrase\n' >"$work/io/pass1"
printf 'second passphrase\n' >"$work/io/pass2"
printf 'wrong\n' >"$work/io/wrong"
: >"$work/io/empty"
P1="$work/io/pass1"
P2="$work/io/pass2"

# ---- --help and --version everywhere ----
version_re='^upkeep-keys [0-9]+\.[0-9]+\.[0-9]+'
expect 0 "$K" --version
out_has "$version_re"
expect 0 "$K" --help
out_has '^Usage: upkeep-keys COMMAND'
for cmd in generate show export-public change-passphrase; do
	expect 0 "$K" "$cmd" --help
	out_has "^Usage: upkeep-keys $cmd"
	expect 0 "$K" "$cmd" --version
	out_has "$version_re"
done
expect 0 "$K" --help
for cmd in generate show export-public change-passphrase; do
	out_has "^  $cmd "
done

# ---- usage errors: exit 2, one line, nothing written ----
unchanged_after 2 "$K"
unchanged_after 2 "$K" frobnicate
err_is "^upkeep-keys: unknown command 'frobnicate' \(USAGE\)"
unchanged_after 2 "$K" generate
err_is '--out FILE is required \(USAGE\)'
unchanged_after 2 "$K" generate --out a.key --bogus
err_is "unknown option '--bogus'"
unchanged_after 2 "$K" generate --out
unchanged_after 2 "$K" generate --out a.key extra
unchanged_after 2 "$K" show
unchanged_after 2 "$K" show a.key b.key
unchanged_after 2 "$K" show a.key --force
err_is 'does not apply here'
unchanged_after 2 "$K" generate --out a.key --passphrase-file "$P1" --no-passphrase
unchanged_after 2 "$K" generate --out a.key --passphrase-file "$P1" --kdf weak
unchanged_after 2 "$K" generate --out a.key --no-passphrase --kdf moderate
unchanged_after 2 "$K" generate --out a.key --type rsa --passphrase-file "$P1"
err_is "key type 'rsa' is not supported \(supported: ed25519, ecdsa\) \(USAGE\)"
unchanged_after 2 "$K" generate --out a.key --type ecdsa-sha2-nistp256 --no-passphrase
err_is "key type 'ecdsa-sha2-nistp256' is not supported"
unchanged_after 2 "$K" generate --out a.key --type ECDSA --no-passphrase
unchanged_after 2 "$K" generate --out a.key --type '' --no-passphrase
unchanged_after 2 "$K" generate --out a.key --type
# No passphrase source and stdin is not a terminal.
unchanged_after 2 "$K" generate --out a.key
err_is '^upkeep-keys: a\.key: a new passphrase is needed: give --passphrase-file F or set UPKEEP_PASSPHRASE .*\(USAGE\)$'
unchanged_after 2 "$K" generate --out a.key --passphrase-file "$work/io/empty"
err_is 'new passphrase is empty \(--no-passphrase writes the key unencrypted\)'
unchanged_after 2 "$K" generate --out a.key --passphrase-file "$work/io/missing"
err_is 'cannot open the passphrase file.*\(USAGE\)'
[ -z "$(ls -A)" ] || fail "usage errors left files: $(ls -A)"

# ---- generate, show, export-public ----
expect 0 "$K" generate --out a.key --passphrase-file "$P1"
keyid=$(cat "$OUT")
[[ "$keyid" =~ ^[0-9a-f]{64}$ ]] || fail "generate printed '$keyid'"
[ "$(stat -c %a a.key)" = 600 ] || fail "a.key has mode $(stat -c %a a.key)"
[ "$(ls -A)" = a.key ] || fail "generate left other files: $(ls -A)"
grep -q '"kdf": "argon2id13"' a.key || fail "a.key is not encrypted with argon2id13"
grep -q '"opslimit": 2,' a.key && grep -q '"memlimit": 67108864,' a.key ||
	fail "a.key does not record the INTERACTIVE parameters"

expect 0 "$K" show a.key
out_has "^keyid: $keyid\$"
out_has '^key: \{"keytype":"ed25519","keyval":\{"public":"[0-9a-f]{64}"\},"scheme":"ed25519"\}$'
out_has '^encryption: argon2id13 \(opslimit 2, memlimit 67108864 bytes\), xchacha20poly1305-ietf$'
expect 0 "$K" show a.key --json
cp "$OUT" "$work/io/show.json"
expect 0 "$K" export-public a.key
cp "$OUT" "$work/io/a.pub.json"

# The key id is the TUF key id: sha256 of the canonical key object (securesystemslib).
"$PY" - "$keyid" "$work/io/a.pub.json" "$work/io/show.json" <<'EOF' || fail "securesystemslib oracle"
import hashlib, json, sys
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import SSlibKey

keyid, pub_path, show_path = sys.argv[1:]
with open(pub_path) as f:
    key = json.load(f)
assert set(key) == {"keytype", "scheme", "keyval"}, key
assert set(key["keyval"]) == {"public"}, key
assert key["keytype"] == "ed25519" and key["scheme"] == "ed25519", key
assert len(bytes.fromhex(key["keyval"]["public"])) == 32, key
computed = hashlib.sha256(encode_canonical(key).encode()).hexdigest()
assert computed == keyid, (computed, keyid)
parsed = SSlibKey.from_dict(keyid, dict(key))  # parses as a TUF/securesystemslib key
assert parsed.keyid == keyid and parsed.keyval["public"] == key["keyval"]["public"]
with open(show_path) as f:
    show = json.load(f)
assert show["keyid"] == keyid, show
assert show["key"] == key, show
assert show["encryption"] == {"kdf": "argon2id13", "opslimit": 2, "memlimit": 67108864,
                              "cipher": "xchacha20poly1305-ietf"}, show
EOF
checks=$((checks + 1))

# --verify decrypts: passphrase from the file option or the environment.
expect 0 "$K" show a.key --verify --passphrase-file "$P1"
out_has "^keyid: $keyid\$"
UPKEEP_PASSPHRASE='first passphrase' expect 0 "$K" export-public a.key --verify
cmp -s "$OUT" "$work/io/a.pub.json" || fail "export-public --verify differs"
# The option wins over the environment.
UPKEEP_PASSPHRASE='wrong' expect 0 "$K" show a.key --verify --passphrase-file "$P1"
unchanged_after 2 "$K" show a.key --verify --passphrase-file "$work/io/wrong"
err_is '^upkeep-keys: a\.key: wrong passphrase, or the key file was altered \(PASSPHRASE\)$'
UPKEEP_PASSPHRASE='wrong' unchanged_after 2 "$K" export-public a.key --verify
err_is '\(PASSPHRASE\)$'
unchanged_after 2 "$K" show a.key --verify
err_is 'a passphrase is needed: give --passphrase-file F or set UPKEEP_PASSPHRASE'

# Passphrase files: only the first line counts, CRLF ends it too, pipes work.
printf 'crlf pass\r\nsecond line ignored\n' >"$work/io/crlf"
expect 0 "$K" generate --out c.key --passphrase-file "$work/io/crlf"
UPKEEP_PASSPHRASE='crlf pass' expect 0 "$K" show c.key --verify
expect 0 "$K" show c.key --verify --passphrase-file <(printf 'crlf pass')
printf 'no newline' >"$work/io/nonl"
expect 0 "$K" generate --out n.key --passphrase-file "$work/io/nonl"
UPKEEP_PASSPHRASE='no newline' expect 0 "$K" show n.key --verify
UPKEEP_PASSPHRASE='env pass' expect 0 "$K" generate --out e.key
expect 0 "$K" show e.key --verify --passphrase-file <(echo 'env pass')

# Unencrypted keys, stronger KDF, explicit type, JSON output of generate.
expect 0 "$K" generate --out u.key --no-passphrase --type ed25519
ukeyid=$(cat "$OUT")
grep -q '"encryption": null' u.key || fail "u.key is not unencrypted"
expect 0 "$K" show u.key --verify
out_has '^encryption: none$'
[ "$(keyid_of u.key)" = "$ukeyid" ] || fail "u.key key id differs"
expect 0 "$K" generate --out m.key --passphrase-file "$P1" --kdf moderate --json
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["encryption"]["memlimit"]==268435456 and d["encryption"]["opslimit"]==3, d' "$OUT" ||
	fail "generate --json / --kdf moderate"

# ---- ecdsa (P-256) keys ----
expect 0 "$K" generate --out ec.key --type ecdsa --passphrase-file "$P1"
eckeyid=$(cat "$OUT")
[[ "$eckeyid" =~ ^[0-9a-f]{64}$ ]] || fail "generate --type ecdsa printed '$eckeyid'"
[ "$(stat -c %a ec.key)" = 600 ] || fail "ec.key mode"
grep -q '"keytype": "ecdsa",' ec.key && grep -q '"scheme": "ecdsa-sha2-nistp256",' ec.key ||
	fail "ec.key keytype/scheme"
grep -q '"public": "-----BEGIN PUBLIC KEY-----\\n' ec.key || fail "ec.key public is not a PEM"
expect 0 "$K" show ec.key
out_has "^keyid: $eckeyid\$"
# One line: the PEM's line ends are escaped.
out_has '^key: \{"keytype":"ecdsa","keyval":\{"public":"-----BEGIN PUBLIC KEY-----\\n[A-Za-z0-9+/]{64}\\n[A-Za-z0-9+/=]{60}\\n-----END PUBLIC KEY-----\\n"\},"scheme":"ecdsa-sha2-nistp256"\}$'
[ "$(wc -l <"$OUT")" = 3 ] || fail "show printed more than three lines"
expect 0 "$K" show ec.key --json
cp "$OUT" "$work/io/ecshow.json"
expect 0 "$K" export-public ec.key --verify --passphrase-file "$P1"
cp "$OUT" "$work/io/ec.pub.json"
expect 0 "$K" generate --out ecu.key --type ecdsa --no-passphrase --json
cp "$OUT" "$work/io/ecu.json"

# The key id is securesystemslib's; the PEM is a P-256 SubjectPublicKeyInfo in the
# layout python-cryptography writes, and the clear secret is its private scalar.
"$PY" - "$eckeyid" "$work/io/ec.pub.json" "$work/io/ecshow.json" "$work/io/ecu.json" \
	ecu.key <<'EOF' || fail "securesystemslib oracle (ecdsa)"
import hashlib, json, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from securesystemslib.formats import encode_canonical
from securesystemslib.signer import SSlibKey

keyid, pub_path, show_path, ecu_path, ecu_key = sys.argv[1:]
key = json.load(open(pub_path))
assert set(key) == {"keytype", "scheme", "keyval"} and set(key["keyval"]) == {"public"}, key
assert key["keytype"] == "ecdsa" and key["scheme"] == "ecdsa-sha2-nistp256", key
pem = key["keyval"]["public"]
pub = serialization.load_pem_public_key(pem.encode())
assert isinstance(pub.curve, ec.SECP256R1), pub.curve
assert pub.public_bytes(serialization.Encoding.PEM,
                        serialization.PublicFormat.SubjectPublicKeyInfo).decode() == pem
assert hashlib.sha256(encode_canonical(key).encode()).hexdigest() == keyid
assert SSlibKey.from_dict(keyid, dict(key)).keyval["public"] == pem
show = json.load(open(show_path))
assert show["keyid"] == keyid and show["key"] == key, show
ecu = json.load(open(ecu_path))
f = json.load(open(ecu_key))
assert ecu["encryption"] is None and ecu["keyid"] == f["keyid"], (ecu, f)
assert hashlib.sha256(encode_canonical(ecu["key"]).encode()).hexdigest() == f["keyid"]
priv = ec.derive_private_key(int(f["secret"], 16), ec.SECP256R1())
assert priv.public_key().public_bytes(serialization.Encoding.PEM,
    serialization.PublicFormat.SubjectPublicKeyInfo).decode() == f["public"]
EOF
checks=$((checks + 1))

# Passphrase changes keep the key; a wrong passphrase opens nothing.
unchanged_after 2 "$K" show ec.key --verify --passphrase-file "$work/io/wrong"
err_is '^upkeep-keys: ec\.key: wrong passphrase, or the key file was altered \(PASSPHRASE\)$'
cp ec.key ecch.key
expect 0 "$K" change-passphrase ecch.key --passphrase-file "$P1" --new-passphrase-file "$P2"
[ "$(keyid_of ecch.key)" = "$eckeyid" ] || fail "change-passphrase changed the ecdsa key id"
expect 0 "$K" show ecch.key --verify --passphrase-file "$P2"
expect 0 "$K" change-passphrase ecch.key --passphrase-file "$P2" --no-new-passphrase
expect 0 "$K" show ecch.key --verify
rm ecch.key

# ecmut NAME PY-STATEMENTS: a copy of ecu.key with `d` (its JSON) changed; `rekey()`
# recomputes the key id for d["public"] so only the check under test can object.
ecmut() {
	"$PY" - ecu.key "$1" "$2" <<'EOF'
import hashlib, json, sys
from securesystemslib.formats import encode_canonical
src, dst, stmt = sys.argv[1:]
d = json.load(open(src))
def rekey():
    d["keyid"] = hashlib.sha256(encode_canonical({"keytype": "ecdsa",
        "scheme": "ecdsa-sha2-nistp256", "keyval": {"public": d["public"]}}).encode()).hexdigest()
exec(stmt)
open(dst, "w").write(json.dumps(d, indent=2) + "\n")
EOF
	chmod 600 "$1"
}
ecmut crlf.key 'd["public"] = d["public"].replace("\n", "\r\n"); rekey()'
unchanged_after 2 "$K" show crlf.key
err_is '^upkeep-keys: crlf\.key: public: not in the PEM layout upkeep-keys writes .*\(KEYFILE\)$'
flip='p = d["public"]; i = p.index("\n") + 40; d["public"] = p[:i] + ("A" if p[i] != "A" else "B") + p[i+1:]'
ecmut offcurve.key "$flip; rekey()"
unchanged_after 2 "$K" export-public offcurve.key
err_is '^upkeep-keys: offcurve\.key: public: not an ECDSA P-256 public key: .*\(KEYFILE\)$'
ecmut oldid.key "$flip"
unchanged_after 2 "$K" show oldid.key
err_is 'oldid\.key: (public|keyid): .*\(KEYFILE\)$'
ecmut hexpub.key 'd["public"] = "00" * 32; rekey()'
unchanged_after 2 "$K" show hexpub.key
err_is 'hexpub\.key: public: not an ECDSA P-256 public key'
ecmut other.key 'd["secret"] = "%064x" % (int(d["secret"], 16) ^ 1)'
expect 0 "$K" show other.key # the header alone is consistent
unchanged_after 2 "$K" show other.key --verify
err_is '^upkeep-keys: other\.key: public: the secret key does not belong to this public key \(KEYFILE\)$'
ecmut zero.key 'd["secret"] = "00" * 32'
unchanged_after 2 "$K" export-public zero.key --verify
err_is '^upkeep-keys: zero\.key: secret: not a valid ecdsa private key \(KEYFILE\)$'
ecmut order.key 'd["secret"] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"'
unchanged_after 2 "$K" show order.key --verify
err_is 'order\.key: secret: not a valid ecdsa private key'
ecmut short.key 'd["secret"] = d["secret"][:62]'
unchanged_after 2 "$K" show short.key
err_is '^upkeep-keys: short\.key: secret: not 64 lower-case hex digits \(KEYFILE\)$'
ecmut p384.key 'd["scheme"] = "ecdsa-sha2-nistp384"'
unchanged_after 2 "$K" show p384.key
err_is 'p384\.key: scheme: "ecdsa-sha2-nistp384" does not go with key type "ecdsa"'
ecmut oldtype.key 'd["keytype"] = "ecdsa-sha2-nistp256"'
unchanged_after 2 "$K" show oldtype.key
err_is 'oldtype\.key: keytype: key type "ecdsa-sha2-nistp256" is not supported \(supported: ed25519, ecdsa\)'
"$PY" - ec.key ecalt.key <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["encryption"]["ciphertext"]
d["encryption"]["ciphertext"] = ("1" if c[0] == "0" else "0") + c[1:]
open(sys.argv[2], "w").write(json.dumps(d))
EOF
chmod 600 ecalt.key
unchanged_after 2 "$K" show ecalt.key --verify --passphrase-file "$P1"
err_is 'ecalt\.key: wrong passphrase, or the key file was altered \(PASSPHRASE\)'
rm crlf.key offcurve.key oldid.key hexpub.key other.key zero.key order.key short.key p384.key \
	oldtype.key ecalt.key

# ---- generate never overwrites without --force ----
unchanged_after 2 "$K" generate --out a.key --passphrase-file "$P2"
err_is '^upkeep-keys: a\.key: already exists; not overwritten \(--force replaces it\) \(EXISTS\)$'
unchanged_after 2 "$K" generate --out a.key --no-passphrase
ln -s nowhere dangling.key
unchanged_after 2 "$K" generate --out dangling.key --no-passphrase
rm dangling.key
cp a.key forced.key
expect 0 "$K" generate --out forced.key --passphrase-file "$P2" --force
[ "$(cat "$OUT")" != "$keyid" ] || fail "--force kept the old key"
[ "$(keyid_of forced.key)" = "$(cat "$OUT")" ] || fail "forced.key key id"
[ "$(stat -c %a forced.key)" = 600 ] || fail "forced.key mode"

# ---- reading refuses unsafe or foreign files ----
cp a.key open.key
chmod 644 open.key
unchanged_after 2 "$K" show open.key
err_is '^upkeep-keys: open\.key: permissions 0644 are too open: .*\(PERMISSION\)$'
chmod 640 open.key
unchanged_after 2 "$K" export-public open.key
err_is 'permissions 0640 are too open'
UPKEEP_PASSPHRASE='first passphrase' UPKEEP_NEW_PASSPHRASE='x y z' unchanged_after 2 "$K" change-passphrase open.key
err_is '\(PERMISSION\)$'
rm open.key

install -m 600 "$work/io/a.pub.json" pub.key
unchanged_after 2 "$K" show pub.key
err_is '^upkeep-keys: pub\.key: this is a public key \(a TUF key object\), not a private key file \(KEYFILE\)$'
head -c 200 a.key >trunc.key
chmod 600 trunc.key
unchanged_after 2 "$K" show trunc.key
err_is '^upkeep-keys: trunc\.key: not valid JSON: .*\(KEYFILE\)$'
printf 'not a key\n' >garbage.key
chmod 600 garbage.key
unchanged_after 2 "$K" export-public garbage.key
err_is 'garbage\.key: not valid JSON'
sed 's/"upkeep_private_key": 1/"upkeep_private_key": 7/' a.key >v7.key
chmod 600 v7.key
unchanged_after 2 "$K" show v7.key
err_is '^upkeep-keys: v7\.key: upkeep_private_key: format version 7 is not supported .*\(KEYFILE\)$'
sed 's/"opslimit": 2/"opslimit": 1/' a.key >weak.key
chmod 600 weak.key
unchanged_after 2 "$K" show weak.key
err_is 'weak\.key: encryption\.opslimit: 1 is below the minimum 2'
unchanged_after 1 "$K" show missing.key
err_is '^upkeep-keys: missing\.key: .*\(NOT_FOUND\)$'
mkdir adir
unchanged_after 2 "$K" show adir # a directory where a file belongs: usage
rmdir adir

# The clear header is readable without the passphrase; --verify proves it belongs.
"$PY" - a.key alt.key <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["encryption"]["ciphertext"]
d["encryption"]["ciphertext"] = ("1" if c[0] == "0" else "0") + c[1:]
open(sys.argv[2], "w").write(json.dumps(d))
EOF
chmod 600 alt.key
expect 0 "$K" show alt.key
unchanged_after 2 "$K" show alt.key --verify --passphrase-file "$P1"
err_is 'alt\.key: wrong passphrase, or the key file was altered \(PASSPHRASE\)'

# A failed write to stdout is an error, not a silent success.
rc=0
"$K" export-public a.key >/dev/full 2>"$ERR" || rc=$?
[ "$rc" = 1 ] || fail "export-public to /dev/full exited $rc"
checks=$((checks + 1))

# ---- change-passphrase ----
cp a.key ch.key
unchanged_after 2 "$K" change-passphrase ch.key --passphrase-file "$work/io/wrong" --new-passphrase-file "$P2"
err_is '^upkeep-keys: ch\.key: wrong passphrase, or the key file was altered \(PASSPHRASE\)$'
# The right old passphrase but no new one: nothing written either.
unchanged_after 2 "$K" change-passphrase ch.key --passphrase-file "$P1"
err_is 'a new passphrase is needed: give --new-passphrase-file F or set UPKEEP_NEW_PASSPHRASE'
unchanged_after 2 "$K" change-passphrase ch.key --passphrase-file "$P1" --new-passphrase-file "$work/io/empty"
unchanged_after 2 "$K" change-passphrase ch.key --new-passphrase-file "$P2" --no-new-passphrase
unchanged_after 2 "$K" change-passphrase ch.key alt.key
unchanged_after 2 "$K" change-passphrase alt.key --passphrase-file "$P1" --new-passphrase-file "$P2"
unchanged_after 2 "$K" change-passphrase trunc.key --passphrase-file "$P1" --new-passphrase-file "$P2"

before=$(sha256sum <ch.key)
expect 0 "$K" change-passphrase ch.key --passphrase-file "$P1" --new-passphrase-file "$P2"
[ "$(sha256sum <ch.key)" != "$before" ] || fail "change-passphrase did not rewrite ch.key"
[ "$(keyid_of ch.key)" = "$keyid" ] || fail "change-passphrase changed the key id"
[ "$(stat -c %a ch.key)" = 600 ] || fail "ch.key mode"
unchanged_after 2 "$K" show ch.key --verify --passphrase-file "$P1"
expect 0 "$K" show ch.key --verify --passphrase-file "$P2"
# Environment sources for both.
UPKEEP_PASSPHRASE='second passphrase' UPKEEP_NEW_PASSPHRASE='third passphrase' \
	expect 0 "$K" change-passphrase ch.key
UPKEEP_PASSPHRASE='third passphrase' expect 0 "$K" show ch.key --verify
# To no passphrase and back.
UPKEEP_PASSPHRASE='third passphrase' expect 0 "$K" change-passphrase ch.key --no-new-passphrase
grep -q '"encryption": null' ch.key || fail "ch.key is still encrypted"
[ "$(keyid_of ch.key)" = "$keyid" ] || fail "key id changed on decryption"
expect 0 "$K" change-passphrase ch.key --new-passphrase-file "$P1"
expect 0 "$K" show ch.key --verify --passphrase-file "$P1"
out_has 'opslimit 2, memlimit 67108864'
# The file's stronger KDF cost is kept; --kdf changes it.
expect 0 "$K" change-passphrase m.key --passphrase-file "$P1" --new-passphrase-file "$P2"
expect 0 "$K" show m.key
out_has 'opslimit 3, memlimit 268435456 bytes'
expect 0 "$K" change-passphrase m.key --passphrase-file "$P2" --new-passphrase-file "$P1" --kdf interactive
expect 0 "$K" show m.key --verify --passphrase-file "$P1"
out_has 'opslimit 2, memlimit 67108864 bytes'
# Through a symlink: the link stays, its target is rewritten.
ln -s ch.key link.key
expect 0 "$K" change-passphrase link.key --passphrase-file "$P1" --new-passphrase-file "$P2"
[ -L link.key ] || fail "change-passphrase replaced the symlink"
expect 0 "$K" show ch.key --verify --passphrase-file "$P2"

# ---- prompts on a terminal (a pty): no echo, asked twice for a new passphrase ----
pty_run() { # ANSWERS(|-separated) CMD...: run CMD on a pty, answer each prompt
	"$PY" - "$@" <<'EOF'
import os, pty, signal, sys
answers = sys.argv[1].split("|")
signal.alarm(60)
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
seen, pending = b"", b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
    pending += chunk
    if pending.endswith(b": ") and answers:
        os.write(fd, answers.pop(0).encode() + b"\n")
        pending = b""
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
EOF
}
expect 0 pty_run 'typed secret|typed secret' "$K" generate --out tty.key
out_has '^New passphrase for tty\.key: '
out_has 'Repeat the new passphrase: '
grep -q 'typed secret' "$OUT" && fail "the passphrase was echoed"
UPKEEP_PASSPHRASE='typed secret' expect 0 "$K" show tty.key --verify
unchanged_after 2 pty_run 'one|two' "$K" generate --out tty2.key
out_has 'the passphrases do not match \(USAGE\)'
expect 0 pty_run 'typed secret' "$K" show tty.key --verify
out_has '^Passphrase for tty\.key: '
unchanged_after 2 pty_run 'not it' "$K" show tty.key --verify
out_has '\(PASSPHRASE\)'
expect 0 pty_run 'typed secret|new typed|new typed' "$K" change-passphrase tty.key
UPKEEP_PASSPHRASE='new typed' expect 0 "$K" show tty.key --verify

echo "test_keys_cli: $checks checks passed"
