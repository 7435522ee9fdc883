#!/usr/bin/env python3
# write_bomb_bundle.py OUT: a decompression bomb for the bundle tests, written from
# common/FORMAT.md on its own (not through upkeep-server): a well-formed bundle whose
# one 4 KiB chunk inflates to 1,000,000 bytes. Its header is valid; only a reader that
# inflates the chunk (bundle info --verify, the device installer) can refuse it.
import hashlib, json, struct, sys, zlib
def tarhdr(name, size):
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"000644 \0"; h[108:116] = b"000000 \0"; h[116:124] = b"000000 \0"
    h[124:136] = b"%011o " % size; h[136:148] = b"14524770400 "
    h[156:157] = b"0"; h[257:265] = b"ustar\x0000"
    h[148:156] = b"        "
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)
def member(name, data):
    return tarhdr(name, len(data)) + data + bytes(-len(data) % 512)
declared = b"A" * 4096
payload = zlib.compress(b"A" * 1000000, 9)
idx = b"UPKIDX1\n" + struct.pack("<II", 1, 0) + struct.pack("<II", 4096, len(payload)) + \
    hashlib.sha256(declared).digest()
def manifest(off):
    m = {"format": "upkeep-bundle", "format_version": 1, "product": "cam", "hardware": ["x"],
         "version": "1.0.0", "build_time": "2026-01-01T00:00:00Z", "security_version": 1,
         "kind": "feature", "requirements": [],
         "components": [{"name": "m", "type": "model", "size": 4096,
                         "sha256": hashlib.sha256(declared).hexdigest(), "chunks": 1,
                         "codec": "zlib", "data_offset": off, "data_length": len(payload),
                         "chunking": {"algorithm": "fixed", "size": 4096}}]}
    return json.dumps(m, sort_keys=True, separators=(",", ":")).encode()
off = 0
for _ in range(3):
    head = member("manifest.json", manifest(off)) + member("index/m", idx)
    off = len(head) + 512
open(sys.argv[1], "wb").write(head + member("data/m", payload) + bytes(1024))
