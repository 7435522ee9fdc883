/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for common/bundle's chunk decoder, which inflates bytes from
 * the network before anything has vouched for them. Input: a 3-byte
 * little-endian declared size (1 to 2^24 - 1, capped at the chunk limit),
 * then the stored bytes. The output buffer is exactly the declared size, so
 * ASan catches any write past the bound (a decompression bomb that got
 * through). Differential invariant (abort on violation): the decoder finds
 * the stream good (it fails only on the deliberately wrong SHA-256) exactly
 * when zlib's own uncompress2 inflates it to exactly the declared size and
 * consumes every stored byte; then the decoder, given the right SHA-256,
 * succeeds with zlib's bytes. A failed decode leaves the output zeroed.
 * Seeds in tests/fuzz/corpus/bundle_chunk: real zlib chunks, a bomb, a
 * stream with a preset dictionary, truncated and trailing-garbage streams.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "bundle.h"
#include "hash.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_bundle_chunk: %s\n", what);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct upk_bundle_decoder dec = UPK_BUNDLE_DECODER_INIT;
	struct upk_bundle_chunk ch;
	uint8_t *out, *ref, sha[UPK_HASH_MAX_LEN];
	uLongf dl;
	uLong sl;
	uint32_t declared;
	bool good;
	enum upk_err r;

	if (!dec.z && upk_bundle_decoder_init(&dec) != UPK_OK)
		die("decoder init");
	if (size < 4)
		return 0;
	declared = (uint32_t)data[0] | (uint32_t)data[1] << 8 | (uint32_t)data[2] << 16;
	if (declared == 0 || declared > UPK_BUNDLE_MAX_CHUNK)
		return 0;
	memset(&ch, 0, sizeof(ch));
	ch.size = declared;
	ch.stored_size = (uint32_t)(size - 3);
	ch.raw = ch.stored_size == declared && (data[0] & 1);
	out = malloc(declared);
	ref = malloc(declared);
	if (!out || !ref)
		die("malloc");
	r = upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &ch, data + 3, size - 3, out,
				    declared, NULL);
	for (uint32_t i = 0; i < declared; i++) {
		if (out[i])
			die("failed decode left output behind");
	}
	if (ch.raw) {
		memcpy(ref, data + 3, declared);
		good = true;
	} else {
		dl = declared;
		sl = size - 3;
		good = uncompress2(ref, &dl, data + 3, &sl) == Z_OK && dl == declared &&
		       sl == size - 3;
	}
	if (good != (r == UPK_E_HASH))
		die("the decoder and zlib's uncompress2 disagree about the stream");
	if (good) {
		if (upk_hash_oneshot(UPK_HASH_SHA256, ref, declared, sha) != UPK_OK)
			die("hash");
		memcpy(ch.sha256, sha, UPK_SHA256_LEN);
		if (upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &ch, data + 3, size - 3,
					    out, declared, NULL) != UPK_OK ||
		    memcmp(out, ref, declared) != 0)
			die("a good stream with its SHA-256 does not decode to zlib's bytes");
	}
	free(out);
	free(ref);
	return 0;
}
