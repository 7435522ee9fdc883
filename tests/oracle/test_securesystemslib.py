#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Cross-check Upkeep's common core against securesystemslib, an independent
implementation of TUF's canonical JSON, key ids and signature schemes.

Random JSON documents and keys (from a seeded random.Random; the seed is
printed, UPKEEP_ORACLE_SEED overrides it) go through both sides:

 1. canonical JSON: Upkeep's bytes equal encode_canonical(doc).encode("utf-8");
    invalid documents (floats, bad syntax, bad UTF-8, lone surrogates) are
    rejected by both; inputs Upkeep refuses on purpose (duplicate keys, NUL,
    integers beyond 64 bits, deep nesting, bare scalars) are rejected by it;
 2. key ids of securesystemslib's ed25519, ecdsa-sha2-nistp256 and
    rsassa-pss-sha256 keys, with and without keyid_hash_algorithms;
 3. securesystemslib signs, Upkeep verifies (and refuses any flipped bit);
 4. Upkeep signs (Ed25519), securesystemslib and OpenSSL verify; the
    signatures are byte-identical (Ed25519 is deterministic);
 5. root and targets metadata built and signed in Python (threshold 2 of 3,
    mixed key types) verify in Upkeep exactly when the spec's rule, evaluated
    here with securesystemslib, says they should.

The Upkeep side is tests/tools/upk_oracle, found at
$UPKEEP_BUILD_DIR/tests/upk_oracle. Run with /usr/bin/python3 (Debian's, which
has python3-securesystemslib and python3-cryptography).
"""
import collections
import hashlib
import itertools
import json
import os
import random
import string
import subprocess
import sys
import tempfile
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from securesystemslib import exceptions as sslib_exceptions
from securesystemslib import formats
from securesystemslib import keys as sslib_keys
from securesystemslib.signer import SSlibKey

DEFAULT_SEED = 20240611
N_DOCS = 300  # random documents for the canonical check
N_BAD_DOCS = 120  # random invalid documents
N_KEYS = 30  # keys per key type
N_RSA_3072 = 3  # of which RSA keys of securesystemslib's default size (slow to make)
N_META_ROUNDS = 6  # independent root/targets setups
TOOL_TIMEOUT = 300  # seconds for one tool run (a sanitizer build is slow)

SSLIB_ERRORS = (
    sslib_exceptions.Error,
    ValueError,  # binascii.Error, UnicodeError, json.JSONDecodeError
    TypeError,
    RecursionError,
)

Result = collections.namedtuple("Result", "ok out err detail")


class Failures:
    """Collects disagreements; every one is printed with the seed at the end."""

    def __init__(self, seed):
        self.seed = seed
        self.items = []
        self.counts = collections.Counter()

    def check(self, cond, category, what, **case):
        self.counts[category] += 1
        if not cond:
            self.items.append((category, what, case))
        return cond

    def report(self):
        for category, what, case in self.items[:20]:
            print(f"DISAGREE [{category}] {what}")
            for k, v in case.items():
                text = repr(v)
                if len(text) > 2000:
                    text = text[:2000] + "..."
                print(f"    {k}: {text}")
        if len(self.items) > 20:
            print(f"... and {len(self.items) - 20} more")


class Tool:
    """Runs tests/tools/upk_oracle, in batches (see its header for the format)."""

    def __init__(self, path):
        self.path = path
        self.records = []
        self.checks = []
        self.runs = 0

    def add(self, op, args, check):
        """Queue op on args (bytes or str each); check(Result) runs after the batch."""
        args = [a.encode("utf-8") if isinstance(a, str) else a for a in args]
        header = " ".join([op] + [str(len(a)) for a in args]) + "\n"
        self.records.append(header.encode("ascii") + b"".join(args))
        self.checks.append(check)

    def run(self):
        records, checks = self.records, self.checks
        self.records, self.checks = [], []
        if not records:
            return
        self.runs += 1
        p = subprocess.run([self.path, "batch"], input=b"".join(records), capture_output=True,
                           timeout=TOOL_TIMEOUT, check=False)
        if p.returncode != 0:
            sys.stderr.write(p.stderr.decode("utf-8", "replace"))
            raise SystemExit(f"upk_oracle batch failed with status {p.returncode}")
        lines = p.stdout.split(b"\n")
        if len(lines) != len(records) + 1 or lines[-1] != b"":
            raise SystemExit(f"upk_oracle answered {len(lines) - 1} lines "
                             f"to {len(records)} records")
        for line, check in zip(lines, checks):
            check(parse_result(line))

    def single(self, args, stdin=b""):
        p = subprocess.run([self.path] + args, input=stdin, capture_output=True,
                           timeout=TOOL_TIMEOUT, check=False)
        return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def parse_result(line):
    text = line.decode("utf-8", "replace")
    if text.startswith("ok "):
        return Result(True, bytes.fromhex(text[3:]), None, None)
    if text.startswith("reject "):
        parts = text.split(" ", 2)
        return Result(False, None, parts[1], parts[2] if len(parts) > 2 else "")
    raise SystemExit(f"upk_oracle: unexpected line {text!r}")


# --- random JSON ------------------------------------------------------------

CHARS_ASCII = string.ascii_letters + string.digits + " _-.:/@#"
CHARS_TRICKY = ['"', "\\", "/", "'", "\x7f", "<", "&"]
CHARS_CONTROL = [chr(c) for c in range(1, 0x20)]  # NUL excluded: Upkeep refuses it (below)
CHARS_UNICODE = [
    "\u00e9", "\u00df", "\u00ff", "\u0100", "\u03a9", "\u0301", "\u0308", "\u030a", "\u200b",
    "\u200d", "\u2028", "\u2029", "\u4e2d", "\u6587", "\u3000", "\ud7ff", "\ue000", "\uf8ff",
    "\ufb01", "\ufeff", "\ufffd", "\ufffe", "\uffff", "\u212b", "\u00c5", "\U00010000",
    "\U0001d11e", "\U0001f600", "\U0001f44d", "\U0001f3fd", "\U000e0001", "\U0010fffd",
    "\U0010ffff",
]
# Keys whose order differs between UTF-16 code units, code points and
# normalisation forms ("\u00c5", "\u212b" and "A\u030a" look alike).
TRICKY_KEYS = [
    "", "a", "ab", "b", "A", "_", "\u00c5", "\u212b", "A\u030a", "\ue000", "\uffff",
    "\U00010000", "\U0001f600", "a\x01", "a\x7f", "a b", "\"", "\\",
]
EDGE_INTS = [0, 1, -1, 2**31 - 1, -2**31, 2**32, 2**53, 2**53 + 1, 2**63 - 1, -2**63,
             -2**63 + 1]
SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                 "\r": "\\r", "\t": "\\t"}


def rand_str(rng, maxlen=12):
    out = []
    for _ in range(rng.randint(0, maxlen)):
        r = rng.random()
        if r < 0.5:
            out.append(rng.choice(CHARS_ASCII))
        elif r < 0.6:
            out.append(rng.choice(CHARS_TRICKY))
        elif r < 0.7:
            out.append(rng.choice(CHARS_CONTROL))
        else:
            out.append(rng.choice(CHARS_UNICODE))
    return "".join(out)


def rand_key(rng):
    return rng.choice(TRICKY_KEYS) if rng.random() < 0.3 else rand_str(rng, 8)


def rand_int(rng):
    r = rng.random()
    if r < 0.4:
        return rng.randint(-100, 100)
    if r < 0.6:
        return rng.choice(EDGE_INTS)
    if r < 0.8:
        return rng.randint(-2**31, 2**31)
    return rng.randint(-2**63, 2**63 - 1)


def rand_scalar(rng):
    r = rng.random()
    if r < 0.45:
        return rand_str(rng)
    if r < 0.8:
        return rand_int(rng)
    return rng.choice([True, False, None])


def rand_value(rng, depth=0, max_depth=6):
    if depth >= max_depth or (depth > 0 and rng.random() < 0.35 + 0.1 * depth):
        return rand_scalar(rng)
    if rng.random() < 0.55:
        return {rand_key(rng): rand_value(rng, depth + 1, max_depth)
                for _ in range(rng.randint(0, 6))}
    return [rand_value(rng, depth + 1, max_depth) for _ in range(rng.randint(0, 6))]


class Raw:
    """Literal JSON text (bytes) to plant in a document as it is written."""

    def __init__(self, data):
        self.data = data


def ws(rng):
    return rng.choice(["", "", "", "", " ", "\n", "\t", "\r\n", "  \n  "])


def dump_char(c, rng):
    """One string character in a randomly chosen valid JSON spelling."""
    cp = ord(c)
    r = rng.random()
    if c in SHORT_ESCAPES and (cp < 0x20 or c in '"\\' or r < 0.5):
        if r < 0.7:
            return SHORT_ESCAPES[c]
    elif cp >= 0x20 and c not in '"\\' and r < 0.75:
        return c
    hexfmt = "\\u%04x" if rng.random() < 0.5 else "\\u%04X"
    if cp < 0x10000:
        return hexfmt % cp
    cp -= 0x10000
    return hexfmt % (0xD800 + (cp >> 10)) + hexfmt % (0xDC00 + (cp & 0x3FF))


def dump_str(s, rng):
    return '"' + "".join(dump_char(c, rng) for c in s) + '"'


def dump(v, rng):
    """JSON text (bytes) of v with random whitespace, key order and escapes."""
    if isinstance(v, Raw):
        return v.data
    if v is None:
        return b"null"
    if v is True:
        return b"true"
    if v is False:
        return b"false"
    if isinstance(v, int):
        return str(v).encode("ascii")
    if isinstance(v, str):
        return dump_str(v, rng).encode("utf-8")
    if isinstance(v, list):
        sep = (ws(rng) + "," + ws(rng)).encode("ascii")
        inner = sep.join(dump(x, rng) for x in v)
        return b"[" + ws(rng).encode("ascii") + inner + ws(rng).encode("ascii") + b"]"
    if isinstance(v, dict):
        items = list(v.items())
        rng.shuffle(items)
        sep = (ws(rng) + "," + ws(rng)).encode("ascii")
        inner = sep.join(dump_str(k, rng).encode("utf-8") + ws(rng).encode("ascii") + b":" +
                         ws(rng).encode("ascii") + dump(x, rng) for k, x in items)
        return b"{" + ws(rng).encode("ascii") + inner + ws(rng).encode("ascii") + b"}"
    raise TypeError(f"cannot dump {v!r}")


def plant(doc, value, rng):
    """Put value into a random container of doc (which must be a container)."""
    node = doc
    while True:
        children = [x for x in (node.values() if isinstance(node, dict) else node)
                    if isinstance(x, (dict, list))]
        if not children or rng.random() < 0.4:
            break
        node = rng.choice(children)
    if isinstance(node, dict):
        node["planted" + str(rng.randint(0, 10**6)) + rand_str(rng, 3)] = value
    else:
        node.insert(rng.randint(0, len(node)), value)


def rand_doc(rng):
    doc = rand_value(rng)
    while not isinstance(doc, (dict, list)):
        doc = rand_value(rng)
    return doc


def sslib_canonical(data):
    """securesystemslib's canonical bytes for JSON text, or None if it refuses it."""
    try:
        obj = json.loads(data.decode("utf-8"))
        return formats.encode_canonical(obj).encode("utf-8")
    except SSLIB_ERRORS:
        return None


def canonical(obj):
    return formats.encode_canonical(obj).encode("utf-8")


# Values that are not valid JSON, or not encodable as canonical JSON, planted
# inside otherwise valid documents: both sides must refuse the document.
BAD_VALUES = [
    b"1.5", b"-0.0", b"0.0", b"1e3", b"1E3", b"1e-7", b"-2.5E+10", b"3.141592653589793", b"1.0",
    b"0.1e1", b"100000000000000000000.0", b"NaN", b"Infinity", b"-Infinity", b"01", b"-01",
    b"+1", b"0x10", b".5", b"1.", b"-", b"'s'", b"tru", b"nul", b"True", b"None", b'"\\x41"',
    b'"\\u12"', b'"\\u12g4"', b'"\\ud800"', b'"\\udc00x"', b'"\\ud800\\u0041"',
    b'"\\ud83d\\ud83d"', b'"a\x01b"', b'"a\tb"', b'"a\nb"', b'"\x1f"', b'"\xff"', b'"\xc0\xaf"',
    b'"\xc3"', b'"\xed\xa0\x80"', b'"\xe4\xb8"', b'"\xf4\x90\x80\x80"', b'"\xf8\x88\x80\x80\x80"',
    b'"\xe0\x80\xaf"', b'"\x80"', b'"unterminated', b"[1,]", b'{"a":1,}', b'{"a" 1}',
    b'{"a":1 "b":2}', b"[1 2]", b"{1:2}", b"{'a':1}", b"/* c */ 1", b"[", b"{", b"]",
]
# Whole-document corruptions: trailing data, truncation, empty input.
BAD_WRAPPERS = [
    lambda d: d + b" x", lambda d: d + b"{}", lambda d: d + b",", lambda d: b"{}" + d,
    lambda d: d[:-1], lambda d: b"", lambda d: b"   \n", lambda d: d + b"\x00",
]


def stricter_cases():
    """Documents securesystemslib may accept that Upkeep refuses on purpose (json.h)."""
    deep_arrays = b"[" * 65 + b"]" * 65
    deep_objects = b'{"a":' * 65 + b"1" + b"}" * 65
    return [
        ("duplicate key", b'{"a":1,"a":1}'),
        ("duplicate key by escape", b'{"a":1,"\\u0061":2}'),
        ("duplicate nested key", b'[{"x":{"k":true,"k":false}}]'),
        ("duplicate non-ASCII key", '{"\u00e9":1,"\\u00e9":2}'.encode("utf-8")),
        ("duplicate astral key", '{"\U0001f600":1,"\\ud83d\\ude00":2}'.encode("utf-8")),
        ("integer 2^63", b"[9223372036854775808]"),
        ("integer -2^63-1", b"[-9223372036854775809]"),
        ("integer 10^30", b'{"n":1000000000000000000000000000000}'),
        ("integer -10^30", b"[-1000000000000000000000000000000]"),
        ("NUL in string", b'["\\u0000"]'),
        ("NUL in key", b'{"\\u0000":1}'),
        ("NUL inside string", b'["a\\u0000b"]'),
        ("depth 65 arrays", deep_arrays),
        ("depth 65 objects", deep_objects),
        ("depth 100000", b"[" * 100000 + b"]" * 100000),
        ("bare integer", b"1"),
        ("bare string", b'"s"'),
        ("bare true", b"true"),
        ("bare null", b"null"),
    ]


def edge_docs():
    """Fixed documents both sides must accept and encode identically."""
    return [
        b"{}", b"[]", b"[[]]", b'{"":""}', b"[-0]", b"[0]", b" \t\r\n[ 1 , 2 ]\n",
        b"[9223372036854775807,-9223372036854775808]", b'["\\/"]', b'["\\u00e9","\xc3\xa9"]',
        b'{"b":1,"a":2,"A":3,"_":4,"\\ue000":5,"\\ud800\\udc00":6,"\\uffff":7,"":8}',
        b'{"ab":1,"a":2,"a b":3,"a\\u0001":4}',
        '{"\u00c5":1,"\u212b":2,"A\u030a":3,"\U0001f600":4}'.encode("utf-8"),
        b'["\\u2028\\u2029","\\"\\\\","\\b\\f\\n\\r\\t"]',
        b'["\x7f"]', b"[true,false,null]",
        b"[" * 64 + b"]" * 64,
        b'{"a":' * 63 + b"[]" + b"}" * 63,
    ]


def check_canonical(tool, fails, rng, n_docs, n_bad):
    def expect_equal(what, data, expected):
        def check(res):
            fails.check(res.ok and res.out == expected, "canonical", what, input=data,
                        sslib=expected, upkeep=res.out if res.ok else (res.err, res.detail))
        return check

    def expect_reject(what, data, category, both):
        def check(res):
            ok = not res.ok and res.err == "FORMAT"
            if both:
                ok = ok and sslib_canonical(data) is None
            fails.check(ok, category, what, input=data, sslib=sslib_canonical(data),
                        upkeep=res.out if res.ok else (res.err, res.detail))
        return check

    for i, data in enumerate(edge_docs()):
        expected = sslib_canonical(data)
        fails.check(expected is not None, "oracle-self", f"edge document {i} refused by sslib",
                    input=data)
        tool.add("canonical", [data], expect_equal(f"edge document {i}", data, expected))
    for i in range(n_docs):
        doc = rand_doc(rng)
        data = dump(doc, rng)
        expected = sslib_canonical(data)
        # The generator itself must be right: the text means doc.
        fails.check(expected == canonical(doc), "oracle-self", f"random document {i} round trip",
                    input=data)
        tool.add("canonical", [data], expect_equal(f"random document {i}", data, expected))
    for i in range(n_bad):
        doc = rand_doc(rng)
        if rng.random() < 0.8:
            bad = rng.choice(BAD_VALUES)
            plant(doc, Raw(bad), rng)
            data = dump(doc, rng)
        else:
            data = rng.choice(BAD_WRAPPERS)(dump(doc, rng))
        tool.add("canonical", [data], expect_reject(f"invalid document {i}", data,
                                                    "reject-both", True))
    for what, data in stricter_cases():
        tool.add("canonical", [data], expect_reject(what, data, "reject-upkeep", False))


# --- keys and signatures ----------------------------------------------------


def key_object(k, with_algos, keytype=None):
    """The public key object as metadata lists it."""
    obj = SSlibKey.from_securesystemslib_key(k).to_dict()
    if keytype:
        obj["keytype"] = keytype
    if with_algos:
        obj["keyid_hash_algorithms"] = list(k["keyid_hash_algorithms"])
    return obj


def keyid_of(obj):
    return hashlib.sha256(canonical(obj)).hexdigest()


def sslib_verifies(k, keyid, sig_hex, msg):
    """securesystemslib's verdict on a signature of msg by the public part of k."""
    key = {"keyid": keyid, "keytype": k["keytype"], "scheme": k["scheme"],
           "keyval": {"public": k["keyval"]["public"]}}
    try:
        return sslib_keys.verify_signature(key, {"keyid": keyid, "sig": sig_hex}, msg) is True
    except SSLIB_ERRORS:
        return False


def flip(data, rng):
    """data with one random bit flipped (or a byte added if empty)."""
    if not data:
        return b"\x00"
    i = rng.randrange(len(data))
    return data[:i] + bytes([data[i] ^ (1 << rng.randrange(8))]) + data[i + 1:]


def make_keys(rng):
    ed = [sslib_keys.generate_ed25519_key() for _ in range(N_KEYS)]
    ec = [sslib_keys.generate_ecdsa_key() for _ in range(N_KEYS)]
    rsa = [sslib_keys.generate_rsa_key(bits=3072 if i < N_RSA_3072 else 2048)
           for i in range(N_KEYS)]
    return ed, ec, rsa


def check_keyids(tool, fails, rng, all_keys):
    def expect(what, data, expected):
        def check(res):
            fails.check(res.ok and res.out.decode("ascii", "replace") == expected, "keyid", what,
                        key=data, expected=expected,
                        upkeep=res.out if res.ok else (res.err, res.detail))
        return check

    for i, k in enumerate(all_keys):
        variants = [("with keyid_hash_algorithms", key_object(k, True)),
                    ("without keyid_hash_algorithms", key_object(k, False))]
        if k["keytype"] == "ecdsa":
            variants.append(("keytype ecdsa-sha2-nistp256",
                             key_object(k, False, "ecdsa-sha2-nistp256")))
        # securesystemslib computes its key id over the object with
        # keyid_hash_algorithms: the two must agree.
        fails.check(keyid_of(variants[0][1]) == k["keyid"], "oracle-self",
                    f"key {i}: sslib keyid is not sha256 of its key object",
                    key=k["keyval"]["public"])
        for n, (what, obj) in enumerate(variants):
            data = dump(obj, rng)
            expected = k["keyid"] if n == 0 else keyid_of(obj)
            tool.add("keyid", [data], expect(f"key {i} ({k['scheme']}) {what}", data, expected))


def check_sslib_signatures(tool, fails, rng, pools):
    """securesystemslib signs; Upkeep must accept exactly the untouched signatures."""

    def expect(category, what, want_ok, **case):
        def check(res):
            ok = res.ok if want_ok else (not res.ok and res.err == "SIGNATURE")
            fails.check(ok, category, what, upkeep=(res.err, res.detail), **case)
        return check

    for pool in pools:
        for i, k in enumerate(pool):
            obj = key_object(k, rng.random() < 0.5)
            key_json = dump(obj, rng)
            other = pool[(i + 1) % len(pool)]
            other_json = dump(key_object(other, False), rng)
            messages = [rng.randbytes(rng.choice([0, 1, 32, rng.randint(0, 300)])),
                        canonical(rand_doc(rng))]
            for j, msg in enumerate(messages):
                sig = sslib_keys.create_signature(k, msg)["sig"]
                what = f"{k['scheme']} key {i} message {j}"
                case = dict(key=key_json, sig=sig, msg=msg)
                fails.check(sslib_verifies(k, k["keyid"], sig, msg), "oracle-self",
                            what + ": sslib refuses its own signature", **case)
                tool.add("verify", [key_json, sig, msg], expect("signature", what, True, **case))
                bad_msg = flip(msg, rng)
                fails.check(not sslib_verifies(k, k["keyid"], sig, bad_msg), "oracle-self",
                            what + ": sslib accepts a flipped message", **case)
                tool.add("verify", [key_json, sig, bad_msg],
                         expect("reject-signature", what + " flipped message", False, **case))
                bad_sig = flip(bytes.fromhex(sig), rng).hex()
                fails.check(not sslib_verifies(k, k["keyid"], bad_sig, msg), "oracle-self",
                            what + ": sslib accepts a flipped signature", **case)
                tool.add("verify", [key_json, bad_sig, msg],
                         expect("reject-signature", what + " flipped signature", False,
                                bad_sig=bad_sig, **case))
                tool.add("verify", [key_json, sig[:-2], msg],
                         expect("reject-signature", what + " truncated signature", False, **case))
                tool.add("verify", [other_json, sig, msg],
                         expect("reject-signature", what + " other key", False, **case))


def check_upkeep_signatures(tool, fails, rng, n_keys):
    """Upkeep signs with Ed25519 keys from seeds; securesystemslib must agree."""
    pending = []
    for i in range(n_keys):
        seed = rng.randbytes(32)
        priv = Ed25519PrivateKey.from_private_bytes(seed)
        pub_hex = public_hex(priv)
        obj = {"keytype": "ed25519", "scheme": "ed25519", "keyval": {"public": pub_hex}}
        # The key as securesystemslib holds it: its private part is the seed.
        k = {"keytype": "ed25519", "scheme": "ed25519", "keyid": keyid_of(obj),
             "keyval": {"public": pub_hex, "private": seed.hex()}}

        def check_key(res, i=i, obj=obj, seed=seed):
            fails.check(res.ok and res.out == canonical(obj), "ed25519-key",
                        f"seed {i}: key object", seed=seed.hex(), expected=canonical(obj),
                        upkeep=res.out if res.ok else (res.err, res.detail))
        tool.add("ed25519-key", [seed.hex()], check_key)

        for j, msg in enumerate([rng.randbytes(rng.randint(0, 300)), b"",
                                 canonical(rand_doc(rng))]):
            def check_sig(res, i=i, j=j, k=k, msg=msg, seed=seed, priv=priv):
                what = f"seed {i} message {j}"
                case = dict(seed=seed.hex(), msg=msg,
                            upkeep=res.out if res.ok else (res.err, res.detail))
                if not fails.check(res.ok, "upkeep-signature", what + ": Upkeep cannot sign",
                                   **case):
                    return
                sig = res.out.decode("ascii", "replace")
                fails.check(sig == sslib_keys.create_signature(k, msg)["sig"],
                            "upkeep-signature", what + ": differs from sslib's", **case)
                fails.check(sslib_verifies(k, k["keyid"], sig, msg), "upkeep-signature",
                            what + ": sslib refuses it", **case)
                fails.check(openssl_verifies(priv, sig, msg), "upkeep-signature",
                            what + ": OpenSSL refuses it", **case)
                pending.append((what, k, sig, msg))
            tool.add("sign-ed25519", [seed.hex(), msg], check_sig)
    tool.run()

    # Second round: what Upkeep signed, verified by Upkeep, and altered, refused by both.
    for what, k, sig, msg in pending:
        key_json = dump(key_object(k, False), rng)

        def check_own(res, what=what):
            fails.check(res.ok, "upkeep-signature", what + ": Upkeep refuses its own signature",
                        upkeep=(res.err, res.detail))
        tool.add("verify", [key_json, sig, msg], check_own)
        altered = [("flipped signature", flip(bytes.fromhex(sig), rng).hex(), msg),
                   ("flipped message", sig, flip(msg, rng))]
        for how, bad_sig, bad_msg in altered:
            fails.check(not sslib_verifies(k, k["keyid"], bad_sig, bad_msg),
                        "reject-upkeep-signature", f"{what} {how}: sslib accepts it",
                        sig=bad_sig, msg=bad_msg)

            def check_bad(res, what=what, how=how, bad_sig=bad_sig, bad_msg=bad_msg):
                fails.check(not res.ok and res.err == "SIGNATURE", "reject-upkeep-signature",
                            f"{what} {how}: Upkeep accepts it", sig=bad_sig, msg=bad_msg)
            tool.add("verify", [key_json, bad_sig, bad_msg], check_bad)
    tool.run()


def public_hex(priv):
    """Raw public key of an Ed25519 private key, in hex."""
    return priv.public_key().public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw).hex()


def openssl_verifies(priv, sig_hex, msg):
    """Ed25519 verification by OpenSSL (through cryptography), not libsodium."""
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex(priv))).verify(
            bytes.fromhex(sig_hex), msg)
        return True
    except (InvalidSignature, ValueError):
        return False


# --- metadata ---------------------------------------------------------------

EXPIRES = "2031-05-06T07:08:09Z"


class Signer:
    """A securesystemslib key as listed in one root: its key id and object there."""

    def __init__(self, k, rng, with_algos=None):
        self.k = k
        keytype = None
        if k["keytype"] == "ecdsa" and rng.random() < 0.5:
            keytype = "ecdsa-sha2-nistp256"
        self.obj = key_object(k, rng.random() < 0.5 if with_algos is None else with_algos,
                              keytype)
        self.keyid = keyid_of(self.obj)

    def sign(self, signed):
        return {"keyid": self.keyid, "sig": sslib_keys.create_signature(self.k, canonical(signed))
                ["sig"]}


def material(obj):
    keytype = "ecdsa" if obj["keytype"].startswith("ecdsa") else obj["keytype"]
    return keytype, obj["keyval"]["public"]


def reference_verify(root_signed, role, doc):
    """The spec's rule (5.3-5.6), with securesystemslib checking each signature."""
    role_info = root_signed["roles"][role]
    data = canonical(doc["signed"])
    ids = [s["keyid"] for s in doc["signatures"]]
    if len(ids) != len(set(ids)):
        return False  # python-tuf refuses such a file outright
    counted_ids, counted_material = set(), set()
    for s in doc["signatures"]:
        kid = s["keyid"]
        obj = root_signed["keys"].get(kid)
        if kid not in role_info["keyids"] or obj is None:
            continue
        if kid in counted_ids or material(obj) in counted_material:
            continue
        key = dict(obj, keyid=kid)
        try:
            valid = sslib_keys.verify_signature(key, {"keyid": kid, "sig": s["sig"]}, data)
        except SSLIB_ERRORS:
            valid = False
        if valid:
            counted_ids.add(kid)
            counted_material.add(material(obj))
    return len(counted_ids) >= role_info["threshold"]


def make_root(rng, role_signers, extra_keys=()):
    keys = {}
    for s in itertools.chain(*role_signers.values(), extra_keys):
        keys[s.keyid] = s.obj
    roles = {}
    for role, signers in role_signers.items():
        roles[role] = {"keyids": [s.keyid for s in signers],
                       "threshold": 2 if len(signers) >= 3 else 1}
    return {"_type": "root", "spec_version": "1.0.31", "version": rng.randint(1, 50),
            "expires": EXPIRES, "consistent_snapshot": rng.random() < 0.5, "keys": keys,
            "roles": roles}


def make_targets(rng):
    targets = {}
    for _ in range(rng.randint(0, 4)):
        path = "files/" + "".join(rng.choice(string.ascii_lowercase + "\u00e9\u4e2d\U0001f600-_.")
                                  for _ in range(rng.randint(1, 12)))
        hashes = {"sha256": rng.randbytes(32).hex()}
        if rng.random() < 0.5:
            hashes["sha512"] = rng.randbytes(64).hex()
        entry = {"length": rng.randint(0, 2**40), "hashes": hashes}
        if rng.random() < 0.7:
            entry["custom"] = {rand_key(rng): rand_value(rng, 1, 4)
                               for _ in range(rng.randint(0, 4))}
        targets[path] = entry
    signed = {"_type": "targets", "spec_version": "1.0.31", "version": rng.randint(1, 1000),
              "expires": EXPIRES, "targets": targets}
    if rng.random() < 0.5:
        signed["x-unknown-field"] = rand_value(rng, 1, 4)  # kept and signed over
    return signed


def tamper(signed, rng):
    """A copy of signed changed in one field, as an attacker would after signing."""
    s = json.loads(json.dumps(signed))
    choice = rng.randrange(5)
    if choice == 0:
        s["version"] += 1
    elif choice == 1:
        s["expires"] = "2099-01-01T00:00:00Z"
    elif choice == 2 and s.get("targets"):
        path = rng.choice(sorted(s["targets"]))
        s["targets"][path]["length"] += 1
    elif choice == 3:
        s["targets"]["evil/" + rand_str(rng, 4).replace("\\", "")] = {
            "length": 1, "hashes": {"sha256": "00" * 32}}
    else:
        s["spec_version"] = "1.0.32"
    return s


def doc_of(signed, sigs, rng):
    sigs = list(sigs)
    rng.shuffle(sigs)
    return {"signatures": sigs, "signed": signed}


def check_metadata(tool, fails, rng, ed, ec, rsa):
    def expect(what, role, doc, root_signed, root_doc, want_ok, errs=("THRESHOLD",)):
        ref = reference_verify(root_signed, role, doc)
        fails.check(ref == want_ok, "oracle-self", f"{what}: the reference says {ref}",
                    doc=doc)
        meta_bytes, root_bytes = dump(doc, rng), dump(root_doc, rng)

        def check(res):
            ok = res.ok if want_ok else (not res.ok and res.err in errs)
            fails.check(ok, "metadata" if want_ok else "reject-metadata", what, role=role,
                        meta=meta_bytes, root=root_bytes, expected=want_ok,
                        upkeep=(res.err, res.detail))
        tool.add("verify-meta", [role, meta_bytes, root_bytes], check)

    for rnd in range(N_META_ROUNDS):
        ed_i = rng.sample(range(len(ed)), 5)
        ec_i = rng.sample(range(len(ec)), 2)
        rsa_i = rng.sample(range(len(rsa)), 2)
        root_signers = [Signer(ed[ed_i[0]], rng), Signer(ec[ec_i[0]], rng),
                        Signer(rsa[rsa_i[0]], rng)]
        targets_signers = [Signer(ed[ed_i[1]], rng), Signer(ec[ec_i[1]], rng),
                           Signer(rsa[rsa_i[1]], rng)]
        rng.shuffle(root_signers)
        rng.shuffle(targets_signers)
        snapshot_signer, timestamp_signer = Signer(ed[ed_i[2]], rng), Signer(ed[ed_i[3]], rng)
        role_signers = {"root": root_signers, "targets": targets_signers,
                        "snapshot": [snapshot_signer], "timestamp": [timestamp_signer]}
        root_signed = make_root(rng, role_signers)
        root2 = doc_of(root_signed, [s.sign(root_signed) for s in rng.sample(root_signers, 2)],
                       rng)
        root1 = doc_of(root_signed, [rng.choice(root_signers).sign(root_signed)], rng)
        p = f"round {rnd}:"
        expect(f"{p} root signed by 2 of 3", "root", root2, root_signed, root2, True)
        expect(f"{p} root signed by 1 of 3", "root", root1, root_signed, root2, False)

        t = make_targets(rng)
        sigs = {s.keyid: s.sign(t) for s in targets_signers}
        all3 = list(sigs.values())
        expect(f"{p} targets signed by 3 of 3", "targets", doc_of(t, all3, rng), root_signed,
               root2, True)
        for pair in itertools.combinations(all3, 2):
            expect(f"{p} targets signed by 2 of 3", "targets", doc_of(t, pair, rng),
                   root_signed, root2, True)
        expect(f"{p} targets signed by 1 of 3", "targets",
               doc_of(t, [rng.choice(all3)], rng), root_signed, root2, False)
        expect(f"{p} targets unsigned", "targets", doc_of(t, [], rng), root_signed, root2,
               False)
        changed = tamper(t, rng)
        expect(f"{p} targets changed after signing", "targets", doc_of(changed, all3, rng),
               root_signed, root2, False)
        outsider = rng.choice(root_signers).sign(t)
        expect(f"{p} targets signed by 1 targets key and 1 root key", "targets",
               doc_of(t, [all3[0], outsider], rng), root_signed, root2, False)
        corrupt = dict(all3[1], sig=flip(bytes.fromhex(all3[1]["sig"]), rng).hex())
        expect(f"{p} targets with 1 valid and 1 corrupted signature", "targets",
               doc_of(t, [all3[0], corrupt], rng), root_signed, root2, False)
        expect(f"{p} targets with 2 valid and 1 corrupted signature", "targets",
               doc_of(t, [all3[0], all3[2], corrupt], rng), root_signed, root2, True)
        expect(f"{p} targets with one signature listed twice", "targets",
               doc_of(t, [all3[0], dict(all3[0])], rng), root_signed, root2, False,
               errs=("THRESHOLD", "FORMAT"))

        # One key listed under two key ids (its object with and without
        # keyid_hash_algorithms): its two signatures count once.
        dup_a = Signer(ed[ed_i[4]], rng, with_algos=True)
        dup_b = Signer(ed[ed_i[4]], rng, with_algos=False)
        dup_roles = dict(role_signers, targets=[dup_a, dup_b, targets_signers[0]])
        dup_root_signed = make_root(rng, dup_roles)
        dup_root = doc_of(dup_root_signed, [s.sign(dup_root_signed) for s in root_signers], rng)
        expect(f"{p} one key under two key ids signs twice", "targets",
               doc_of(t, [dup_a.sign(t), dup_b.sign(t)], rng), dup_root_signed, dup_root, False)
        expect(f"{p} one key under two key ids and another key", "targets",
               doc_of(t, [dup_a.sign(t), dup_b.sign(t), targets_signers[0].sign(t)], rng),
               dup_root_signed, dup_root, True)

        ts = {"_type": "timestamp", "spec_version": "1.0.31", "version": rng.randint(1, 99),
              "expires": EXPIRES, "meta": {"snapshot.json": {"version": rng.randint(1, 99)}}}
        expect(f"{p} timestamp by the timestamp key", "timestamp",
               doc_of(ts, [timestamp_signer.sign(ts)], rng), root_signed, root2, True)
        expect(f"{p} timestamp by the snapshot key", "timestamp",
               doc_of(ts, [snapshot_signer.sign(ts)], rng), root_signed, root2, False)
        sn = {"_type": "snapshot", "spec_version": "1.0.31", "version": rng.randint(1, 99),
              "expires": EXPIRES, "meta": {"targets.json": {"version": t["version"]}}}
        expect(f"{p} snapshot by the snapshot key", "snapshot",
               doc_of(sn, [snapshot_signer.sign(sn)], rng), root_signed, root2, True)
        expect(f"{p} snapshot by all targets keys", "snapshot",
               doc_of(sn, [s.sign(sn) for s in targets_signers], rng), root_signed, root2, False)


# --- the tool's own command line --------------------------------------------


def check_single_mode(tool, fails, rng, k_ed, k_rsa):
    """The single-operation command line gives what batch mode gives."""
    with tempfile.TemporaryDirectory(prefix="upk-oracle-") as tmp:
        def write(name, data):
            path = os.path.join(tmp, name)
            with open(path, "wb") as f:
                f.write(data)
            return path

        doc = dump(rand_doc(rng), rng)
        rc, out, err = tool.single(["canonical", write("doc.json", doc)])
        fails.check(rc == 0 and out == sslib_canonical(doc), "single", "canonical FILE",
                    rc=rc, out=out, err=err)
        rc, out, err = tool.single(["canonical", "-"], stdin=doc)
        fails.check(rc == 0 and out == sslib_canonical(doc), "single", "canonical -",
                    rc=rc, out=out, err=err)
        rc, out, err = tool.single(["canonical", write("bad.json", b'{"a":1.5}')])
        fails.check(rc == 1 and "FORMAT" in err, "single", "canonical of a float", rc=rc,
                    err=err)

        obj = key_object(k_rsa, True)
        key_path = write("key.json", dump(obj, rng))
        rc, out, err = tool.single(["keyid", key_path])
        fails.check(rc == 0 and out == (k_rsa["keyid"] + "\n").encode(), "single", "keyid",
                    rc=rc, out=out, err=err)
        msg_path = write("msg", b"message")
        sig = sslib_keys.create_signature(k_rsa, b"message")["sig"]
        rc, out, err = tool.single(["verify", key_path, sig, msg_path])
        fails.check(rc == 0 and out == b"", "single", "verify good", rc=rc, err=err)
        rc, out, err = tool.single(["verify", key_path, flip(bytes.fromhex(sig), rng).hex(),
                                    msg_path])
        fails.check(rc == 1 and "SIGNATURE" in err, "single", "verify bad", rc=rc, err=err)
        rc, out, err = tool.single(["verify", key_path, "zz", msg_path])
        fails.check(rc == 1 and "FORMAT" in err, "single", "verify non-hex", rc=rc, err=err)

        seed = rng.randbytes(32)
        k = {"keytype": "ed25519", "scheme": "ed25519", "keyid": "00",
             "keyval": {"public": public_hex(Ed25519PrivateKey.from_private_bytes(seed)),
                        "private": seed.hex()}}
        rc, out, err = tool.single(["sign-ed25519", seed.hex(), msg_path])
        fails.check(rc == 0 and out == (sslib_keys.create_signature(k, b"message")["sig"] +
                                        "\n").encode(), "single", "sign-ed25519", rc=rc,
                    out=out, err=err)
        rc, out, err = tool.single(["sign-ed25519", seed.hex()[:-2], msg_path])
        fails.check(rc == 1 and "FORMAT" in err, "single", "sign-ed25519 short seed", rc=rc,
                    err=err)
        rc, out, err = tool.single(["ed25519-key", seed.hex()])
        fails.check(rc == 0 and out == canonical(key_object(k, False)), "single", "ed25519-key",
                    rc=rc, out=out, err=err)

        s = Signer(k_ed, rng)
        root_signed = make_root(rng, {"root": [s], "targets": [s], "snapshot": [s],
                                      "timestamp": [s]})
        root_path = write("root.json", dump(doc_of(root_signed, [s.sign(root_signed)], rng), rng))
        t = make_targets(rng)
        good = write("targets.json", dump(doc_of(t, [s.sign(t)], rng), rng))
        bad = write("tampered.json", dump(doc_of(tamper(t, rng), [s.sign(t)], rng), rng))
        rc, out, err = tool.single(["verify-meta", "targets", good, root_path])
        fails.check(rc == 0, "single", "verify-meta good", rc=rc, err=err)
        rc, out, err = tool.single(["verify-meta", "targets", bad, root_path])
        fails.check(rc == 1 and "THRESHOLD" in err, "single", "verify-meta tampered", rc=rc,
                    err=err)
        rc, out, err = tool.single(["verify-meta", "targets", good, good])
        fails.check(rc == 1 and "FORMAT" in err, "single", "verify-meta with targets as root",
                    rc=rc, err=err)
        rc, out, err = tool.single(["verify-meta", "mirrors", good, root_path])
        fails.check(rc == 1 and "USAGE" in err, "single", "verify-meta unknown role", rc=rc,
                    err=err)

        for args, stdin in ((["no-such-op"], b""), (["canonical"], b""),
                            (["canonical", os.path.join(tmp, "missing")], b""),
                            (["verify", "-", sig, "-"], b""),
                            (["batch"], b"canonical 5\n{}"), (["batch"], b"canonical x\n"),
                            (["batch"], b"canonical 2 2\n{}{}"), (["batch"], b"nope 0\n")):
            rc, out, err = tool.single(args, stdin=stdin)
            fails.check(rc == 2, "single", f"usage error {args} {stdin!r}", rc=rc, err=err)


def main():
    seed = int(os.environ.get("UPKEEP_ORACLE_SEED", DEFAULT_SEED))
    print(f"oracle: seed {seed} (set UPKEEP_ORACLE_SEED to choose another)", flush=True)
    build_dir = os.environ.get("UPKEEP_BUILD_DIR")
    if not build_dir:
        raise SystemExit("UPKEEP_BUILD_DIR is not set (run through ctest)")
    tool = Tool(os.path.join(build_dir, "tests", "upk_oracle"))
    if not os.access(tool.path, os.X_OK):
        raise SystemExit(f"{tool.path} is missing: build the upk_oracle target")
    rng = random.Random(seed)
    fails = Failures(seed)
    started = time.monotonic()

    check_canonical(tool, fails, rng, N_DOCS, N_BAD_DOCS)
    ed, ec, rsa = make_keys(rng)
    check_keyids(tool, fails, rng, ed + ec + rsa)
    check_sslib_signatures(tool, fails, rng, (ed, ec, rsa))
    tool.run()
    check_upkeep_signatures(tool, fails, rng, N_KEYS)
    check_metadata(tool, fails, rng, ed, ec, rsa)
    tool.run()
    check_single_mode(tool, fails, rng, ed[0], rsa[-1])

    c = fails.counts
    summary = (f"{c['canonical']} canonical, {c['reject-both']} rejected by both, "
               f"{c['reject-upkeep']} rejected by Upkeep on purpose, {c['keyid']} keyids, "
               f"{c['signature']} sslib signatures (+{c['reject-signature']} altered), "
               f"{c['upkeep-signature']} Upkeep signature checks "
               f"(+{c['reject-upkeep-signature']} altered), {c['ed25519-key']} key objects, "
               f"{c['metadata']} metadata accepted, {c['reject-metadata']} rejected, "
               f"{c['single']} command-line checks, {c['oracle-self']} oracle self-checks; "
               f"{tool.runs} batches, {time.monotonic() - started:.1f} s")
    if fails.items:
        fails.report()
        print(f"oracle: seed {seed}: {len(fails.items)} DISAGREEMENTS; {summary}")
        return 1
    print(f"oracle: {summary}: all agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
