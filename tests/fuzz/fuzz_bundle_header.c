/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for common/bundle's header parser, the device's first contact
 * with a bundle. The input is an 8-byte little-endian file length followed by
 * the header bytes (tests/fuzz/corpus/bundle_header holds real headers that
 * `upkeep-server bundle create` wrote, in that form, and mutations of them).
 * The header is parsed with the product's limits (upk_bundle_header_parse);
 * the probe the file reader uses runs on every prefix length it asks for.
 * Whatever parses is walked chunk by chunk, and three invariants are
 * checked (abort on violation):
 *   - the chunks of each component are contiguous, sum to its size and to
 *     its data length, and end inside the file;
 *   - the probe names exactly the header length for the full header;
 *   - the custom.upkeep object built from the header parses and verifies
 *     the same header bytes (upk_bundle_header_verify).
 * An input that is a JSON object is also parsed as a manifest and as a
 * custom.upkeep object.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
	fprintf(stderr, "fuzz_bundle_header: %s\n", what);
	abort();
}

static void walk(const struct upk_bundle_header *h)
{
	const struct upk_bundle_manifest *m = h->manifest;

	for (size_t i = 0; i < m->n_components; i++) {
		const struct upk_bundle_component *c = &m->components[i];
		struct upk_bundle_chunk_iter it;
		struct upk_bundle_chunk ch;
		uint64_t off = 0, foff = c->data_offset, n = 0;

		upk_bundle_chunk_iter_init(&it, c);
		while (upk_bundle_chunk_iter_next(&it, &ch)) {
			if (ch.offset != off || ch.file_offset != foff || ch.size == 0 ||
			    ch.stored_size == 0 || (ch.raw && ch.stored_size != ch.size))
				die("chunk iteration is inconsistent");
			off += ch.size;
			foff += ch.stored_size;
			n++;
		}
		if (n != c->chunks || off != c->size || foff != c->data_offset + c->data_length ||
		    foff > h->file_length)
			die("chunks do not add up to the component");
	}
}

static void exercise(const struct upk_bundle_header *h)
{
	struct upk_bundle_manifest *custom = NULL;
	struct upk_bundle_header *h2 = NULL;
	json_t *o = NULL;
	uint64_t need = 0;

	walk(h);
	if (upk_bundle_header_probe(h->data, h->len, &need, NULL) != UPK_OK || need != h->len)
		die("probe disagrees with the parsed header length");
	if (upk_bundle_custom_build(h, &o, NULL) != UPK_OK)
		die("custom.upkeep cannot be built from a valid header");
	if (upk_bundle_custom_parse(o, &custom, NULL) != UPK_OK)
		die("built custom.upkeep does not parse");
	if (upk_bundle_header_verify(h->data, h->len, h->file_length, custom, &h2, NULL) != UPK_OK)
		die("header does not verify against its own custom.upkeep");
	upk_bundle_header_free(h2);
	upk_bundle_manifest_free(custom);
	json_decref(o);
}

static void as_json(const uint8_t *data, size_t size)
{
	struct upk_bundle_manifest *m = NULL;
	json_t *doc = NULL;

	if (upk_json_parse(data, size, UPK_BUNDLE_MAX_MANIFEST, &doc, NULL) != UPK_OK)
		return;
	if (upk_bundle_custom_parse(doc, &m, NULL) == UPK_OK)
		upk_bundle_manifest_free(m);
	m = NULL;
	if (upk_bundle_manifest_parse(data, size, &m, NULL) == UPK_OK)
		upk_bundle_manifest_free(m);
	json_decref(doc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upk_bundle_header *h = NULL;
	uint64_t file_length = 0, need = 0, have = 0;
	const uint8_t *hdr;
	size_t len;

	as_json(data, size);
	if (size < 8)
		return 0;
	for (int i = 0; i < 8; i++)
		file_length |= (uint64_t)data[i] << (8 * i);
	hdr = data + 8;
	len = size - 8;
	/* The reader's loop: probe until it names a length the input cannot extend. */
	for (int round = 0; round < 4; round++) {
		if (upk_bundle_header_probe(hdr, (size_t)have, &need, NULL) != UPK_OK)
			break;
		if (need <= have || need > len)
			break;
		have = need;
	}
	if (upk_bundle_header_parse(hdr, len, file_length, &h, NULL) == UPK_OK) {
		exercise(h);
		upk_bundle_header_free(h);
	}
	return 0;
}
