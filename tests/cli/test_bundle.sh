#!/usr/bin/env bash
# CLI test of upkeep-server bundle create / info and of publishing bundles
# (common/FORMAT.md, CLI.md): create and info (text and --json), reproducibility
# (thread counts, SOURCE_DATE_EPOCH), an independent Python reader of the format
# (tar members, manifest, indexes, chunks, the block-cdc cut rule), every refusal
# of create with nothing written, tampering with each part of a bundle found by
# info --verify (exit 10), a decompression bomb, and publish filling custom.upkeep
# with its refusals leaving the repository byte-identical.
. "$(dirname "$0")/test_repo_lib.bash"

mkdir in
# Inputs: a 3 MiB "image" of text, zero and random regions; two models; SBOM; advisory.
"$PY" - <<'EOF'
import random
r = random.Random(7)
img = bytearray()
while len(img) < 3 * 1024 * 1024:
    kind = len(img) // 300000 % 3
    if kind == 0:
        img += b"".join(b"line %d of a configuration file\n" % i for i in range(9000))[:300000]
    elif kind == 1:
        img += bytes(300000)
    else:
        img += r.randbytes(300000)
open("in/fw.img", "wb").write(bytes(img[: 3 * 1024 * 1024]))
open("in/det.bin", "wb").write(r.randbytes(200000))
open("in/cls.onnx", "wb").write(b"weights " * 12500)
open("in/sbom.json", "w").write('{"spdxVersion": "SPDX-2.3", "name": "cam"}\n')
EOF
cat >in/adv.json <<'EOF'
{"summary": "Fixes a remote crash in the RTSP parser", "cves": ["CVE-2026-1234"],
 "severity": "high", "action": "install within 7 days"}
EOF
cp in/fw.img in/fw-copy.img
COMMON=(--product cam --hardware rev-a rev-b --security-version 7 --build-time 2026-01-01T00:00:00Z)
ALL=(--firmware in/fw.img --model det=in/det.bin --model cls=in/cls.onnx --sbom in/sbom.json)

# ---- create and info ----
expect 0 "$S" bundle create --out cam-2.1.0.upk "${COMMON[@]}" --version 2.1.0 --kind security \
	"${ALL[@]}" --advisory in/adv.json --requires 'abi:onnx>=1.16.0' firmware'>=2.0.0' \
	--support-end 2031-12-31
out_has '^created cam-2\.1\.0\.upk: [0-9]+ bytes, header [0-9]+ bytes'
expect 0 "$S" bundle info cam-2.1.0.upk
out_has '^product +cam$'
out_has '^hardware +rev-a rev-b$'
out_has '^kind +security$'
out_has '^requires +abi:onnx>=1\.16\.0$'
out_has '^advisory +high: Fixes a remote crash'
out_has '^component +det \(model\)$'
expect 0 "$S" bundle info cam-2.1.0.upk --verify
out_has 'every byte verified'
expect 0 "$S" bundle info cam-2.1.0.upk --json --chunks
cp "$OUT" io/info.json
"$PY" - <<'EOF' || fail "info --json"
import json
d = json.load(open("io/info.json"))
m, c = d["manifest"], d["custom"]
assert m["format"] == "upkeep-bundle" and m["format_version"] == 1
assert [x["name"] for x in m["components"]] == ["firmware", "det", "cls"]
assert [x["type"] for x in m["components"]] == ["firmware", "model", "model"]
assert m["requirements"] == [{"subject": "abi:onnx", "op": ">=", "version": "1.16.0"},
                             {"subject": "firmware", "op": ">=", "version": "2.0.0"}]
assert m["support_end"] == "2031-12-31" and m["build_time"] == "2026-01-01T00:00:00Z"
assert m["advisory"]["cves"] == ["CVE-2026-1234"]
assert c["header"]["length"] == d["header"]["length"]
assert c["header"]["sha256"] == d["header"]["sha256"]
assert set(c["components"][0]) == {"name", "type", "size", "sha256", "chunks", "codec"}
assert c["format_version"] == 1 and "format" not in c
assert d["verified"] is False
det = d["components"][1]
assert det["raw_chunks"] == det["chunks"], "random model chunks are stored raw"
assert d["components"][2]["stored_bytes"] < 20000, "text compresses"
for s in d["components"]:
    assert len(s["chunk_list"]) == s["chunks"]
EOF

# An independent reader: Python's tarfile and zlib against FORMAT.md.
"$PY" - cam-2.1.0.upk <<'EOF' || fail "the Python reader disagrees with the bundle"
import hashlib, json, struct, sys, tarfile, zlib
path = sys.argv[1]
raw = open(path, "rb").read()
tf = tarfile.open(path)
names = [t.name for t in tf.getmembers()]
assert names == ["manifest.json", "index/firmware", "index/det", "index/cls", "data/firmware",
                 "data/det", "data/cls", "sbom"], names
for t in tf.getmembers():
    assert t.isreg() and t.mode == 0o644 and t.uid == 0 and t.gid == 0, t.name
    assert t.mtime == 1767225600, t.mtime
info = {t.name: t for t in tf.getmembers()}
man = raw[info["manifest.json"].offset_data:][: info["manifest.json"].size]
m = json.loads(man)
assert man == json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
assert len(raw) == info["sbom"].offset_data + (info["sbom"].size + 511) // 512 * 512 + 1024
assert raw[-1024:] == bytes(1024)
K = 0x9E3779B97F4A7C15
M64 = (1 << 64) - 1
def block_hash(b):
    h = 0x6A09E667F3BCC908
    for (w,) in struct.iter_unpack("<Q", b):
        h = ((h ^ w) * K) & M64
    h ^= h >> 29
    h = (h * 0xBF58476D1CE4E5B9) & M64
    return h ^ (h >> 32)
sources = {"firmware": "in/fw.img", "det": "in/det.bin", "cls": "in/cls.onnx"}
for c in m["components"]:
    idx = raw[info["index/" + c["name"]].offset_data:][: info["index/" + c["name"]].size]
    assert idx[:8] == b"UPKIDX1\n"
    count, zero = struct.unpack("<II", idx[8:16])
    assert count == c["chunks"] and zero == 0
    assert c["data_offset"] == info["data/" + c["name"]].offset_data
    assert c["data_length"] == info["data/" + c["name"]].size
    src = open(sources[c["name"]], "rb").read()
    assert c["sha256"] == hashlib.sha256(src).hexdigest() and c["size"] == len(src)
    ch = c["chunking"]
    off, foff = 0, c["data_offset"]
    for i in range(count):
        size, csize = struct.unpack("<II", idx[16 + 40 * i: 24 + 40 * i])
        sha = idx[24 + 40 * i: 56 + 40 * i]
        stored = raw[foff: foff + (csize or size)]
        data = stored if csize == 0 else zlib.decompress(stored)
        assert data == src[off: off + size] and hashlib.sha256(data).digest() == sha
        if i + 1 < count:
            assert ch["min"] <= size <= ch["max"] and size % ch["block"] == 0
            # The cut rule: the block before the cut hashes to a cut, no earlier one does.
            top = lambda h: h >> (64 - ch["mask_bits"])
            if size < ch["max"]:
                assert top(block_hash(data[size - ch["block"]: size])) == 0
            for o in range(ch["min"], size, ch["block"]):
                assert top(block_hash(data[o - ch["block"]: o])) != 0, (c["name"], i, o)
        off += size
        foff += csize or size
    assert off == len(src) and foff == c["data_offset"] + c["data_length"]
sb = info["sbom"]
assert hashlib.sha256(raw[sb.offset_data: sb.offset_data + sb.size]).hexdigest() == m["sbom"]["sha256"]
assert m["sbom"]["offset"] == sb.offset_data
EOF

# ---- reproducibility ----
expect 0 "$S" bundle create --out again.upk "${COMMON[@]}" --version 2.1.0 --kind security \
	"${ALL[@]}" --advisory in/adv.json --requires 'abi:onnx>=1.16.0' firmware'>=2.0.0' \
	--support-end 2031-12-31 --jobs 1
cmp cam-2.1.0.upk again.upk || fail "two creates differ (--jobs 1 against all CPUs)"
expect 0 env SOURCE_DATE_EPOCH=1767225600 "$S" bundle create --out again.upk --product cam \
	--hardware rev-a rev-b --security-version 7 --version 2.1.0 --kind security "${ALL[@]}" \
	--advisory in/adv.json --requires 'abi:onnx>=1.16.0' firmware'>=2.0.0' \
	--support-end 2031-12-31 --jobs 3
cmp cam-2.1.0.upk again.upk || fail "SOURCE_DATE_EPOCH does not give the same bytes"
expect 0 "$S" bundle create --out again.upk --product cam --hardware rev-a rev-b \
	--security-version 7 --build-time @1767225600 --version 2.1.0 --kind security "${ALL[@]}" \
	--advisory in/adv.json --requires 'abi:onnx>=1.16.0' firmware'>=2.0.0' \
	--support-end 2031-12-31
cmp cam-2.1.0.upk again.upk || fail "--build-time @SECONDS does not give the same bytes"
expect 0 "$S" bundle create --out again.upk "${COMMON[@]}" --version 2.1.0 --kind security \
	--firmware in/fw-copy.img --model det=in/det.bin --model cls=in/cls.onnx \
	--sbom in/sbom.json --advisory in/adv.json --requires 'abi:onnx>=1.16.0' \
	firmware'>=2.0.0' --support-end 2031-12-31
cmp cam-2.1.0.upk again.upk || fail "the input's file name changed the bytes"
# Without a build time: now, recorded.
before=$(date -u +%s)
expect 0 env -u SOURCE_DATE_EPOCH "$S" bundle create --out now.upk --product cam --hardware x \
	--security-version 0 --version 1.0.0 --kind feature --model m=in/cls.onnx --json
json "$OUT" "d['build_time']" >io/t
"$PY" -c "import calendar, sys, time
t = calendar.timegm(time.strptime(open('io/t').read().strip(), '%Y-%m-%dT%H:%M:%SZ'))
sys.exit(not ($before <= t <= $before + 120))" || fail "build time is not now"
# Fixed chunking is recorded and read back.
expect 0 "$S" bundle create --out fixed.upk "${COMMON[@]}" --version 1.0.0 --kind feature \
	--firmware in/fw.img --chunking fixed:64K
expect 0 "$S" bundle info fixed.upk --verify
out_has 'chunks +48 \(fixed 65536\)'

# ---- refusals of create: exit 2, nothing written ----
refuse() {
	local msg=$1
	shift
	expect 2 "$S" bundle create --out refused.upk "$@"
	err_is "$msg"
	[ ! -e refused.upk ] || fail "refused create wrote refused.upk"
	[ -z "$(find . -maxdepth 1 -name '.refused*' -o -maxdepth 1 -name '.upkeep-chunks*')" ] ||
		fail "refused create left a temporary file"
}
F=(--version 1.0.0 --kind feature)
refuse "--kind is security, feature or mixed" "${COMMON[@]}" --version 1.0.0 --kind urgent \
	--firmware in/fw.img
refuse "in/missing.img: firmware: no such file" "${COMMON[@]}" "${F[@]}" --firmware in/missing.img
refuse "in/none.bin: m: no such file" "${COMMON[@]}" "${F[@]}" --model m=in/none.bin
refuse "in: firmware: not a regular file" "${COMMON[@]}" "${F[@]}" --firmware in
: >in/empty.bin
refuse "in/empty.bin: m: 0 bytes" "${COMMON[@]}" "${F[@]}" --model m=in/empty.bin
refuse "det: component name given twice" "${COMMON[@]}" "${F[@]}" --model det=in/det.bin \
	--model det=in/cls.onnx
refuse "firmware: component name given twice" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img \
	--model firmware=in/det.bin
refuse "\.\./x: not a component name" "${COMMON[@]}" "${F[@]}" --model ../x=in/det.bin
refuse "a/b: not a component name" "${COMMON[@]}" "${F[@]}" --model a/b=in/det.bin
refuse "\.hidden: not a component name" "${COMMON[@]}" "${F[@]}" --model .hidden=in/det.bin
refuse "--model 'det' is not NAME=FILE" "${COMMON[@]}" "${F[@]}" --model det
refuse "manifest: product: not a name" --product ../cam --hardware x --security-version 1 \
	"${F[@]}" --firmware in/fw.img
refuse "hardware: entry 0 is not a hardware id" --product cam --hardware 'rev a' \
	--security-version 1 "${F[@]}" --firmware in/fw.img
refuse "hardware: 'x' is listed twice" --product cam --hardware x x --security-version 1 \
	"${F[@]}" --firmware in/fw.img
refuse "--hardware is required" --product cam --security-version 1 "${F[@]}" --firmware in/fw.img
refuse "version: not a SemVer" "${COMMON[@]}" --version 1.0 --kind feature --firmware in/fw.img
refuse "--security-version '-1'" --product cam --hardware x --security-version -1 "${F[@]}" \
	--firmware in/fw.img
refuse "nothing to bundle" "${COMMON[@]}" "${F[@]}"
refuse "a requirement is SUBJECT OP VERSION" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img \
	--requires firmware
refuse "kernel>=1.0.0: subject" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img \
	--requires 'kernel>=1.0.0'
refuse "support_end: not a date" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img \
	--support-end 2031-02-30
refuse "--mixed-reason: only a mixed release" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img \
	--mixed-reason because
echo '{"summary": "x", "cves": ["CVE-1"], "severity": "high", "action": "a"}' >in/bad-adv.json
refuse "advisory: cves: entry 0 is not a CVE id" "${COMMON[@]}" "${F[@]}" \
	--firmware in/fw.img --advisory in/bad-adv.json
refuse "in/nope.json: advisory" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img \
	--advisory in/nope.json
refuse "sbom: empty file" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img --sbom in/empty.bin
refuse "--build-time 'yesterday'" --product cam --hardware x --security-version 1 "${F[@]}" \
	--firmware in/fw.img --build-time yesterday
refuse "--build-time @x is not a time" --product cam --hardware x --security-version 1 \
	"${F[@]}" --firmware in/fw.img --build-time @x
refuse "--build-time @253402300800 is not a time" --product cam --hardware x \
	--security-version 1 "${F[@]}" --firmware in/fw.img --build-time @253402300800
refuse "--chunking is block-cdc or fixed:SIZE" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img \
	--chunking rabin
refuse "--chunking fixed:1000" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img --chunking fixed:1000
refuse "--jobs is 1 to 256" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img --jobs 0
refuse "unknown option '--firmwares'" "${COMMON[@]}" "${F[@]}" --firmwares in/fw.img
expect 2 env SOURCE_DATE_EPOCH=soon "$S" bundle create --out refused.upk --product cam \
	--hardware x --security-version 1 "${F[@]}" --firmware in/fw.img
err_is "SOURCE_DATE_EPOCH 'soon'"
[ ! -e refused.upk ] || fail "refused create wrote refused.upk"
refuse "--out needs a value" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img --out
refuse "--product is given twice" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img --product x
refuse "--firmware is given twice" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img \
	--firmware in/fw-copy.img
refuse "unexpected argument 'extra'" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img extra
refuse "unknown option '-j'" "${COMMON[@]}" "${F[@]}" --firmware in/fw.img -j 2
models=()
for i in $(seq 0 64); do models+=(--model "m$i=in/cls.onnx"); done
refuse "more than 64 components" "${COMMON[@]}" "${F[@]}" "${models[@]}"
expect 2 "$S" bundle create --product cam --hardware x --security-version 1 "${F[@]}" \
	--firmware in/fw.img
err_is "--out is required"
# An output directory that does not exist: an I/O error (1), nothing written.
expect 1 "$S" bundle create --out no/such/dir/x.upk "${COMMON[@]}" "${F[@]}" --firmware in/fw.img
err_is "no/such/dir"
[ ! -e no ] || fail "a failed create made a directory"
expect 2 "$S" bundle
expect 0 "$S" bundle --version
out_has '^upkeep-server '
expect 2 "$S" bundle info a.upk b.upk
err_is "give exactly one FILE.upk"
expect 2 "$S" bundle info --verify=yes cam-2.1.0.upk
expect 2 "$S" bundle frobnicate
expect 2 "$S" bundle info
expect 2 "$S" bundle info nosuch.upk
err_is "nosuch.upk: no such file"
expect 0 "$S" bundle create --help
out_has 'Usage: upkeep-server bundle create'
expect 0 "$S" bundle create --version
out_has '^upkeep-server '
expect 0 "$S" bundle info --help
expect 0 "$S" bundle --help

# ---- tampering: every part of the file, found by info --verify ----
json io/info.json "d['components'][0]['index_offset']" >io/idx0
json io/info.json "d['components'][1]['data_offset']" >io/dat1
json io/info.json "d['manifest']['components'][0]['data_offset'] + d['manifest']['components'][0]['data_length']" >io/end0
json io/info.json "d['manifest']['sbom']['offset']" >io/sbom
json io/info.json "d['file_length']" >io/len
json io/info.json "d['header']['length']" >io/hlen
flip() { # flip FILE OFFSET: xor one byte with 0xff
	"$PY" -c "import sys
f = open(sys.argv[1], 'r+b'); f.seek(int(sys.argv[2])); b = f.read(1)
f.seek(int(sys.argv[2])); f.write(bytes([b[0] ^ 0xff]))" "$1" "$2"
}
tamper() { # tamper NAME OFFSET CODE [plain]: flip a byte; info --verify exits CODE
	cp cam-2.1.0.upk t.upk
	flip t.upk "$2"
	expect "$3" "$S" bundle info --verify t.upk
	[ "$(wc -l <"$ERR")" = 1 ] || fail "tamper $1: not one error line"
	if [ "${4:-}" = plain ]; then # in the header: plain info refuses it too
		expect "$3" "$S" bundle info t.upk
	fi
}
tamper "manifest tar header" 100 10 plain
tamper manifest 530 10 plain
tamper "index head" "$(cat io/idx0)" 10 plain
tamper "index entry hash" "$(($(cat io/idx0) + 16 + 40 + 20))" 10
tamper "index entry size" "$(($(cat io/idx0) + 16 + 1))" 10 plain
tamper "first data tar header" "$(($(cat io/hlen) - 400))" 10 plain
tamper "first chunk" "$(($(cat io/hlen) + 30))" 10
tamper "later chunk" "$(($(cat io/end0) - 100))" 10
tamper "padding after data/firmware" "$(cat io/end0)" 10
tamper "tar header of data/det" "$(($(cat io/dat1) - 512 + 3))" 10
tamper "model chunk" "$(($(cat io/dat1) + 5))" 10
tamper "sbom" "$(($(cat io/sbom) + 2))" 10
tamper "end of archive" "$(($(cat io/len) - 1))" 10
# Truncated and extended files.
head -c "$(($(cat io/len) - 512))" cam-2.1.0.upk >t.upk
expect 10 "$S" bundle info t.upk
err_has 'LENGTH'
cp cam-2.1.0.upk t.upk
printf 'x' >>t.upk
expect 10 "$S" bundle info t.upk
head -c 3000 cam-2.1.0.upk >t.upk
expect 10 "$S" bundle info t.upk
printf 'not a bundle' >t.upk
expect 10 "$S" bundle info t.upk

# A decompression bomb: a well-formed bundle (written here from FORMAT.md) whose one
# chunk inflates past its declared size. Its header is valid: only --verify inflates.
"$PY" "$UPKEEP_SOURCE_DIR/tests/tools/write_bomb_bundle.py" bomb.upk || fail "writing the bomb"
expect 0 "$S" bundle info bomb.upk
expect 10 "$S" bundle info --verify bomb.upk
err_is "data/m: chunk inflates beyond its size of 4096 bytes.*TOO_LARGE"

# ---- publish ----
new_repo
PUB=(--key keys/targets.key --online-keys online)
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" cam-2.1.0.upk
verify_ok
"$PY" - "$repo" <<'EOF' || fail "custom.upkeep of the published bundle"
import json, sys
repo = sys.argv[1]
t = json.load(open(f"{repo}/metadata/2.targets.json"))["signed"]["targets"]
info = json.load(open("io/info.json"))
e = t["cam-2.1.0.upk"]
assert e["custom"] == {"upkeep": info["custom"]}, e["custom"]
assert e["length"] == info["file_length"]
assert e["custom"]["upkeep"]["advisory"]["severity"] == "high"
EOF
# Refusals leave the repository byte-identical.
cp cam-2.1.0.upk cam-9.9.9.upk
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" cam-9.9.9.upk
err_is "cam-9.9.9.upk: the bundle is cam-2.1.0.upk; its target path must end with that name"
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name fw/cam.upk cam-2.1.0.upk
cp cam-2.1.0.upk t-src.upk
flip t-src.upk "$(($(cat io/hlen) + 30))"
unchanged_after 10 "$S" publish --repo "$repo" "${PUB[@]}" --name cam-2.1.0.upk t-src.upk
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --custom '{"upkeep": {}}' cam-2.1.0.upk
err_is 'must not hold "upkeep" for a bundle'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --mixed-reason x --name a.bin in/det.bin
err_is 'apply to bundles'
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" --name missing.upk in/missing.upk

# A security release without an advisory: refused; with --advisory: published.
expect 0 "$S" bundle create --out cam-2.2.0.upk "${COMMON[@]}" --version 2.2.0 --kind security \
	--firmware in/fw.img
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" cam-2.2.0.upk
err_is "cam-2.2.0.upk: a security release needs an advisory"
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" cam-2.2.0.upk --advisory in/bad-adv.json
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" cam-2.2.0.upk --mixed-reason because
err_is "cam-2.2.0.upk is a security release, not a mixed one"
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" cam-2.2.0.upk --advisory in/adv.json
json "$repo/metadata/3.targets.json" \
	"d['signed']['targets']['cam-2.2.0.upk']['custom']['upkeep']['advisory']['cves']" |
	grep -qx "\['CVE-2026-1234'\]" || fail "publish --advisory"

# A mixed release without a reason: refused; with --mixed-reason: published.
expect 0 "$S" bundle create --out cam-2.3.0.upk "${COMMON[@]}" --version 2.3.0 --kind mixed \
	--firmware in/fw.img --model det=in/det.bin
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" cam-2.3.0.upk
err_is "cam-2.3.0.upk: a mixed release needs a reason"
long=$(head -c 1025 /dev/zero | tr '\0' x)
unchanged_after 2 "$S" publish --repo "$repo" "${PUB[@]}" cam-2.3.0.upk --mixed-reason "$long"
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" --name rel/cam-2.3.0.upk cam-2.3.0.upk \
	--mixed-reason "the detector needs the new ISP driver"
json "$repo/metadata/4.targets.json" \
	"d['signed']['targets']['rel/cam-2.3.0.upk']['custom']['upkeep']['mixed_reason']" |
	grep -qx "the detector needs the new ISP driver" || fail "publish --mixed-reason"
# A mixed bundle built with its reason publishes as it is; --custom merges beside upkeep.
expect 0 "$S" bundle create --out cam-2.4.0.upk "${COMMON[@]}" --version 2.4.0 --kind mixed \
	--firmware in/fw.img --mixed-reason "one ISP driver for both"
expect 0 "$S" bundle info --chunks cam-2.4.0.upk
out_has '^mixed reason +one ISP driver for both$'
out_has '^    0 [0-9]+ [0-9]+ [0-9]+ [0-9a-f]{64}$'
[ "$(grep -cE '^    [0-9]+ ' "$OUT")" -gt 10 ] || fail "info --chunks lists too few chunks"
expect 0 "$S" publish --repo "$repo" "${PUB[@]}" cam-2.4.0.upk --custom '{"channel": "beta"}'
json "$repo/metadata/5.targets.json" \
	"sorted(d['signed']['targets']['cam-2.4.0.upk']['custom'])" |
	grep -qx "\['channel', 'upkeep'\]" || fail "custom beside upkeep"
verify_ok
done_ok
