/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for common/bundle: the manifest and custom.upkeep parsers, the
 * header parser (tar headers, indexes, layout), the chunk decoder with its
 * output bound, the chunker, and the command-line helpers, with every
 * rejection path. Bundles are built here by a small writer of this file's
 * own (ustar headers, zlib chunks, FORMAT.md's layout), independent of the
 * server's libarchive writer, and then mutated one field at a time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "bundle.h"
#include "hash.h"
#include "hex.h"
#include "json.h"

#define MAXC 4

/* ---- a test bundle writer ---- */

struct tb {
	json_t *m; /* manifest */
	size_t n;
	struct upk_buf idx[MAXC], dat[MAXC], content[MAXC];
	struct upk_buf sbom;
	struct upk_buf manifest; /* canonical bytes as written */
	struct upk_buf file;
	size_t header_len;
};

static void tb_done(struct tb *t)
{
	if (t->m)
		json_decref(t->m);
	for (size_t i = 0; i < MAXC; i++) {
		upk_buf_done(&t->idx[i]);
		upk_buf_done(&t->dat[i]);
		upk_buf_done(&t->content[i]);
	}
	upk_buf_done(&t->sbom);
	upk_buf_done(&t->manifest);
	upk_buf_done(&t->file);
	memset(t, 0, sizeof(*t));
}

/* Deterministic test content: text, zeros and pseudo-random runs. */
static void fill(struct upk_buf *b, size_t size, unsigned seed)
{
	uint32_t x = 2463534242u ^ seed;

	b->len = 0;
	assert_int_equal(upk_buf_reserve(b, size), UPK_OK);
	for (size_t i = 0; i < size; i++) {
		size_t region = (i / 200000 + seed) % 3;

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		b->data[i] = region == 0   ? (uint8_t)("upkeep bundle text "[i % 19])
			     : region == 1 ? 0
					   : (uint8_t)x;
	}
	b->len = size;
}

static void hexof(const uint8_t *data, size_t len, char out[65])
{
	uint8_t sha[UPK_HASH_MAX_LEN];

	assert_int_equal(upk_hash_oneshot(UPK_HASH_SHA256, data, len, sha), UPK_OK);
	upk_hex_encode(sha, UPK_SHA256_LEN, out);
}

static void tar_header(uint8_t blk[512], const char *name, uint64_t size)
{
	unsigned sum = 0;

	memset(blk, 0, 512);
	memcpy(blk, name, strlen(name));
	memcpy(blk + 100, "000644 ", 8);
	memcpy(blk + 108, "000000 ", 8);
	memcpy(blk + 116, "000000 ", 8);
	snprintf((char *)blk + 124, 12, "%011llo", (unsigned long long)size);
	blk[135] = ' ';
	memcpy(blk + 136, "14524770400 ", 12);
	blk[156] = '0';
	memcpy(blk + 257,
	       "ustar\0"
	       "00",
	       8);
	memset(blk + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += blk[i];
	snprintf((char *)blk + 148, 8, "%06o", sum);
	blk[155] = ' ';
}

/* Recompute a tar header's checksum after a test changed one of its fields. */
static void tar_fix_sum(uint8_t *blk)
{
	unsigned sum = 0;

	memset(blk + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += blk[i];
	snprintf((char *)blk + 148, 8, "%06o", sum);
	blk[155] = ' ';
}

static void put_member(struct upk_buf *f, const char *name, const void *data, size_t len)
{
	uint8_t blk[512];
	size_t pad = (512 - len % 512) % 512;

	tar_header(blk, name, len);
	assert_int_equal(upk_buf_append(f, blk, 512), UPK_OK);
	if (len)
		assert_int_equal(upk_buf_append(f, data, len), UPK_OK);
	memset(blk, 0, sizeof(blk));
	assert_int_equal(upk_buf_append(f, blk, pad), UPK_OK);
}

/* Write t->file from t->m, the indexes, the data and the SBOM, as given. */
static void tb_write(struct tb *t)
{
	uint8_t zero[1024] = { 0 };
	char name[100];

	t->manifest.len = 0;
	t->file.len = 0;
	assert_int_equal(upk_json_canonical(t->m, &t->manifest, NULL), UPK_OK);
	put_member(&t->file, "manifest.json", t->manifest.data, t->manifest.len);
	for (size_t i = 0; i < t->n; i++) {
		snprintf(name, sizeof(name), "index/%s",
			 json_string_value(json_object_get(
				 json_array_get(json_object_get(t->m, "components"), i), "name")));
		put_member(&t->file, name, t->idx[i].data, t->idx[i].len);
	}
	for (size_t i = 0; i < t->n; i++) {
		snprintf(name, sizeof(name), "data/%s",
			 json_string_value(json_object_get(
				 json_array_get(json_object_get(t->m, "components"), i), "name")));
		put_member(&t->file, name, t->dat[i].data, t->dat[i].len);
		if (i == 0)
			t->header_len =
				t->file.len - t->dat[0].len - (512 - t->dat[0].len % 512) % 512;
	}
	if (t->sbom.len)
		put_member(&t->file, "sbom", t->sbom.data, t->sbom.len);
	assert_int_equal(upk_buf_append(&t->file, zero, sizeof(zero)), UPK_OK);
}

/* Set data_offset / sbom offset from the layout, until the manifest's length settles. */
static void tb_layout(struct tb *t)
{
	uint64_t ilen[MAXC], dlen[MAXC];
	json_t *comps = json_object_get(t->m, "components");

	for (size_t i = 0; i < t->n; i++) {
		ilen[i] = t->idx[i].len;
		dlen[i] = t->dat[i].len;
	}
	for (int round = 0; round < 6; round++) {
		struct upk_bundle_layout l;

		t->manifest.len = 0;
		assert_int_equal(upk_json_canonical(t->m, &t->manifest, NULL), UPK_OK);
		assert_int_equal(upk_bundle_layout_compute(t->manifest.len, t->n, ilen, dlen,
							   t->sbom.len, &l, NULL),
				 UPK_OK);
		for (size_t i = 0; i < t->n; i++)
			json_object_set_new(json_array_get(comps, i), "data_offset",
					    json_integer((json_int_t)l.data_offset[i]));
		if (t->sbom.len)
			json_object_set_new(json_object_get(t->m, "sbom"), "offset",
					    json_integer((json_int_t)l.sbom_offset));
	}
	tb_write(t);
}

static json_t *chunking_json(const struct upk_bundle_chunking *p)
{
	if (p->alg == UPK_BUNDLE_CHUNK_FIXED)
		return json_pack("{s:s, s:i}", "algorithm", "fixed", "size", (int)p->min);
	return json_pack("{s:s, s:i, s:i, s:i, s:i}", "algorithm", "block-cdc", "block",
			 (int)p->block, "min", (int)p->min, "max", (int)p->max, "mask_bits",
			 (int)p->mask_bits);
}

/* Chunk and compress content[i] into idx[i] / dat[i]; add its manifest entry. */
static void tb_component(struct tb *t, const char *name, const char *type,
			 const struct upk_bundle_chunking *p)
{
	size_t i = t->n++, off = 0, chunks = 0;
	struct upk_buf *c = &t->content[i];
	uint8_t head[UPK_BUNDLE_INDEX_HEAD] = { 0 };
	char hex[65];

	assert_int_equal(upk_buf_append(&t->idx[i], head, sizeof(head)), UPK_OK);
	while (off < c->len) {
		size_t len = upk_bundle_chunk_cut(p, c->data + off, c->len - off, true);
		uLongf zl = compressBound(len);
		uint8_t *z = malloc(zl), sha[UPK_HASH_MAX_LEN], e[UPK_BUNDLE_INDEX_ENTRY];

		assert_non_null(z);
		assert_true(len > 0);
		assert_int_equal(compress2(z, &zl, c->data + off, len, 6), Z_OK);
		assert_int_equal(upk_hash_oneshot(UPK_HASH_SHA256, c->data + off, len, sha),
				 UPK_OK);
		if (zl < len) {
			upk_bundle_index_put_entry(e, (uint32_t)len, (uint32_t)zl, sha);
			assert_int_equal(upk_buf_append(&t->dat[i], z, zl), UPK_OK);
		} else {
			upk_bundle_index_put_entry(e, (uint32_t)len, 0, sha);
			assert_int_equal(upk_buf_append(&t->dat[i], c->data + off, len), UPK_OK);
		}
		free(z);
		assert_int_equal(upk_buf_append(&t->idx[i], e, sizeof(e)), UPK_OK);
		off += len;
		chunks++;
	}
	upk_bundle_index_put_head(t->idx[i].data, (uint32_t)chunks);
	hexof(c->data, c->len, hex);
	assert_int_equal(
		json_array_append_new(
			json_object_get(t->m, "components"),
			json_pack("{s:s, s:s, s:I, s:s, s:I, s:s, s:o, s:I, s:I}", "name", name,
				  "type", type, "size", (json_int_t)c->len, "sha256", hex, "chunks",
				  (json_int_t)chunks, "codec", "zlib", "chunking", chunking_json(p),
				  "data_offset", (json_int_t)UPK_BUNDLE_MIN_HEADER, "data_length",
				  (json_int_t)t->dat[i].len)),
		0);
}

static json_t *base_manifest(void)
{
	json_t *m = json_pack(
		"{s:s, s:i, s:s, s:[s, s], s:s, s:s, s:i, s:s, s:[{s:s, s:s, s:s}], s:[], s:s, "
		"s:{s:s, s:[s, s], s:s, s:s}}",
		"format", "upkeep-bundle", "format_version", 1, "product", "cam", "hardware",
		"rev-a", "rev-b", "version", "2.1.0", "build_time", "2026-01-01T00:00:00Z",
		"security_version", 7, "kind", "security", "requirements", "subject", "abi:onnx",
		"op", ">=", "version", "1.16.0", "components", "support_end", "2031-12-31",
		"advisory", "summary", "Fixes a remote crash", "cves", "CVE-2026-1234",
		"CVE-2026-56789", "severity", "high", "action", "install within 7 days");

	assert_non_null(m);
	return m;
}

/* A valid bundle: firmware (block-cdc) + one model (fixed 64 KiB) + SBOM. */
static void tb_standard(struct tb *t)
{
	struct upk_bundle_chunking cdc, fixed;

	memset(t, 0, sizeof(*t));
	t->m = base_manifest();
	upk_bundle_chunking_default(&cdc);
	assert_int_equal(upk_bundle_chunking_fixed(65536, &fixed, NULL), UPK_OK);
	fill(&t->content[0], 700000, 1);
	tb_component(t, "firmware", "firmware", &cdc);
	fill(&t->content[1], 150001, 3);
	tb_component(t, "detector", "model", &fixed);
	assert_int_equal(upk_buf_append_str(&t->sbom, "{\"spdxVersion\": \"SPDX-2.3\"}"), UPK_OK);
	{
		char hex[65];

		hexof(t->sbom.data, t->sbom.len, hex);
		json_object_set_new(t->m, "sbom",
				    json_pack("{s:s, s:I, s:i}", "sha256", hex, "size",
					      (json_int_t)t->sbom.len, "offset", 0));
	}
	tb_layout(t);
}

static enum upk_err parse_file(const struct tb *t, struct upk_bundle_header **h, struct upk_diag *d)
{
	return upk_bundle_header_parse(t->file.data, t->header_len, t->file.len, h, d);
}

/* Parse t's header; expect err. */
static void expect_header(const struct tb *t, enum upk_err err)
{
	struct upk_bundle_header *h = NULL;
	struct upk_diag d;
	enum upk_err r;

	upk_diag_clear(&d);
	r = parse_file(t, &h, &d);
	if (r != err)
		fail_msg("header parse: got %s (%s: %s), want %s", upk_err_name(r), d.where,
			 d.reason, upk_err_name(err));
	if (err)
		assert_null(h);
	upk_bundle_header_free(h);
}

/*
 * Set (value != NULL) or delete the member at a dotted path of doc ("components.1.size");
 * takes value's reference.
 */
static void json_put(json_t *doc, const char *path, json_t *value)
{
	char buf[256], *seg, *next;
	json_t *cur = doc;

	snprintf(buf, sizeof(buf), "%s", path);
	seg = buf;
	while ((next = strchr(seg, '.'))) {
		*next = 0;
		cur = json_is_array(cur) ? json_array_get(cur, strtoul(seg, NULL, 10))
					 : json_object_get(cur, seg);
		assert_non_null(cur);
		seg = next + 1;
	}
	if (json_is_array(cur)) {
		size_t i = strtoul(seg, NULL, 10);

		if (value)
			assert_int_equal(json_array_set_new(cur, i, value), 0);
		else
			assert_int_equal(json_array_remove(cur, i), 0);
	} else if (value) {
		assert_int_equal(json_object_set_new(cur, seg, value), 0);
	} else {
		assert_int_equal(json_object_del(cur, seg), 0);
	}
}

/* ---- manifest ---- */

static void expect_manifest(json_t *m, enum upk_err err, const char *what)
{
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_bundle_manifest *pm = (struct upk_bundle_manifest *)(uintptr_t)0x1;
	struct upk_diag d;
	enum upk_err r;

	upk_diag_clear(&d);
	assert_int_equal(upk_json_canonical(m, &b, NULL), UPK_OK);
	r = upk_bundle_manifest_parse(b.data, b.len, &pm, &d);
	if (r != err)
		fail_msg("%s: got %s (%s: %s), want %s", what, upk_err_name(r), d.where, d.reason,
			 upk_err_name(err));
	if (r == UPK_OK)
		upk_bundle_manifest_free(pm);
	else
		assert_ptr_equal(pm, (void *)(uintptr_t)0x1); /* untouched on failure */
	upk_buf_done(&b);
}

static void test_manifest_fields(void **state)
{
	struct tb t;
	struct upk_bundle_header *h = NULL;
	const struct upk_bundle_manifest *m;

	(void)state;
	tb_standard(&t);
	assert_int_equal(parse_file(&t, &h, NULL), UPK_OK);
	m = h->manifest;
	assert_string_equal(m->product, "cam");
	assert_int_equal(m->n_hardware, 2);
	assert_string_equal(m->hardware[1], "rev-b");
	assert_string_equal(m->version, "2.1.0");
	assert_true(m->semver.major == 2 && m->semver.minor == 1);
	assert_true(m->build_time == 1767225600);
	assert_true(m->security_version == 7);
	assert_int_equal(m->kind, UPK_BUNDLE_KIND_SECURITY);
	assert_null(m->mixed_reason);
	assert_int_equal(m->n_requirements, 1);
	assert_string_equal(m->requirements[0].subject, "abi:onnx");
	assert_int_equal(m->requirements[0].op, UPK_BUNDLE_OP_GE);
	assert_true(m->requirements[0].semver.minor == 16);
	assert_string_equal(m->support_end_str, "2031-12-31");
	assert_true(m->support_end == 1956441600);
	assert_true(m->has_sbom && m->sbom_size == t.sbom.len);
	assert_true(m->has_advisory);
	assert_int_equal(m->advisory.severity, UPK_BUNDLE_SEVERITY_HIGH);
	assert_int_equal(m->advisory.n_cves, 2);
	assert_string_equal(m->advisory.cves[1], "CVE-2026-56789");
	assert_int_equal(m->n_components, 2);
	assert_string_equal(m->components[0].name, "firmware");
	assert_int_equal(m->components[0].type, UPK_BUNDLE_FIRMWARE);
	assert_int_equal(m->components[0].chunking.alg, UPK_BUNDLE_CHUNK_BLOCK_CDC);
	assert_int_equal(m->components[1].type, UPK_BUNDLE_MODEL);
	assert_int_equal(m->components[1].chunking.alg, UPK_BUNDLE_CHUNK_FIXED);
	assert_true(m->components[1].chunks == 3); /* 150001 bytes in 64 KiB chunks */
	assert_true(h->len == t.header_len);
	assert_true(h->file_length == t.file.len);
	assert_true(m->components[0].data_offset == t.header_len);
	assert_false(m->is_custom);
	upk_bundle_header_free(h);
	tb_done(&t);
}

/* Each mutation of a valid manifest, and the error it must give. */
struct mutation {
	const char *path;
	const char *value; /* JSON text; NULL deletes the member */
	enum upk_err err;
};

static const struct mutation manifest_mutations[] = {
	{ "format", NULL, UPK_E_FORMAT },
	{ "format", "\"upkeep-bundles\"", UPK_E_FORMAT },
	{ "format_version", "2", UPK_E_UNSUPPORTED },
	{ "format_version", "0", UPK_E_FORMAT },
	{ "format_version", "\"1\"", UPK_E_FORMAT },
	{ "format_version", NULL, UPK_E_FORMAT },
	{ "extra", "1", UPK_E_FORMAT },
	{ "header", "{}", UPK_E_FORMAT }, /* custom.upkeep only */
	{ "product", NULL, UPK_E_FORMAT },
	{ "product", "\"../cam\"", UPK_E_FORMAT },
	{ "product", "\".cam\"", UPK_E_FORMAT },
	{ "product", "\"\"", UPK_E_FORMAT },
	{ "product", "\"a/b\"", UPK_E_FORMAT },
	{ "product", "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"",
	  UPK_E_FORMAT },
	{ "product", "1", UPK_E_FORMAT },
	{ "hardware", "[]", UPK_E_FORMAT },
	{ "hardware", "\"rev-a\"", UPK_E_FORMAT },
	{ "hardware", "[\"rev-a\", \"rev-a\"]", UPK_E_FORMAT },
	{ "hardware", "[\"rev a\"]", UPK_E_FORMAT },
	{ "hardware", "[1]", UPK_E_FORMAT },
	{ "hardware", "[\".rev\"]", UPK_E_FORMAT },
	{ "hardware", "[\"-rev\"]", UPK_E_FORMAT },
	{ "hardware", "[\"\"]", UPK_E_FORMAT },
	{ "hardware", "[\"rev/a\"]", UPK_E_FORMAT },
	{ "hardware", NULL, UPK_E_FORMAT },
	{ "version", "\"2.1\"", UPK_E_FORMAT },
	{ "version", "\"v2.1.0\"", UPK_E_FORMAT },
	{ "version", NULL, UPK_E_FORMAT },
	{ "build_time", "\"2026-01-01\"", UPK_E_FORMAT },
	{ "build_time", "\"2026-02-30T00:00:00Z\"", UPK_E_FORMAT },
	{ "build_time", NULL, UPK_E_FORMAT },
	{ "security_version", "-1", UPK_E_FORMAT },
	{ "security_version", "\"7\"", UPK_E_FORMAT },
	{ "security_version", NULL, UPK_E_FORMAT },
	{ "kind", "\"urgent\"", UPK_E_FORMAT },
	{ "kind", NULL, UPK_E_FORMAT },
	{ "mixed_reason", "\"because\"", UPK_E_FORMAT }, /* kind is security */
	{ "requirements", NULL, UPK_E_FORMAT },
	{ "requirements", "{}", UPK_E_FORMAT },
	{ "requirements.0.subject", "\"kernel\"", UPK_E_FORMAT },
	{ "requirements.0.subject", "\"model:../x\"", UPK_E_FORMAT },
	{ "requirements.0.subject", "\"abi:\"", UPK_E_FORMAT },
	{ "requirements.0.op", "\"=>\"", UPK_E_FORMAT },
	{ "requirements.0.op", "\"==\"", UPK_E_FORMAT },
	{ "requirements.0.version", "\"1.16\"", UPK_E_FORMAT },
	{ "requirements.0.extra", "1", UPK_E_FORMAT },
	{ "requirements.0", "\"abi:onnx>=1.16.0\"", UPK_E_FORMAT },
	{ "components", "[]", UPK_E_FORMAT },
	{ "components", NULL, UPK_E_FORMAT },
	{ "components.1.name", "\"firmware\"", UPK_E_FORMAT },
	{ "components.1.name", "\"../x\"", UPK_E_FORMAT },
	{ "components.1.name", "\"a/b\"", UPK_E_FORMAT },
	{ "components.1.name", "\".hidden\"", UPK_E_FORMAT },
	{ "components.1.name", "\"-opt\"", UPK_E_FORMAT },
	{ "components.1.name", "\"\"", UPK_E_FORMAT },
	{ "components.1.type", "\"firmware\"", UPK_E_FORMAT }, /* two firmware */
	{ "components.1.type", "\"kernel\"", UPK_E_FORMAT },
	{ "components.1.size", "0", UPK_E_FORMAT },
	{ "components.1.size", "68719476737", UPK_E_FORMAT },
	{ "components.1.sha256", "\"ABCDEF\"", UPK_E_FORMAT },
	{ "components.1.sha256",
	  "\"E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855\"", UPK_E_FORMAT },
	{ "components.1.chunks", "0", UPK_E_FORMAT },
	{ "components.1.chunks", "2", UPK_E_FORMAT },		 /* fixed: exactly 3 */
	{ "components.1.chunks", "200000", UPK_E_FORMAT },	 /* more than bytes */
	{ "components.0.chunks", "1", UPK_E_FORMAT },		 /* 700000 > 128 KiB */
	{ "components.0.chunks", "23", UPK_E_FORMAT },		 /* each >= 32 KiB */
	{ "components.1.codec", "\"zstd\"", UPK_E_UNSUPPORTED }, /* not in version 1 */
	{ "components.1.codec", "\"gzip\"", UPK_E_UNSUPPORTED },
	{ "components.1.chunking", NULL, UPK_E_FORMAT },
	{ "components.1.chunking", "\"fixed\"", UPK_E_FORMAT },
	{ "components.1.chunking.algorithm", "\"rabin\"", UPK_E_UNSUPPORTED },
	{ "components.1.chunking.size", "1000", UPK_E_FORMAT },
	{ "components.1.chunking.size", "8388608", UPK_E_FORMAT },
	{ "components.1.chunking.extra", "1", UPK_E_FORMAT },
	{ "components.1.chunking.algorithm", NULL, UPK_E_FORMAT },
	{ "components.1", "7", UPK_E_FORMAT },
	{ "requirements.0.op", "1", UPK_E_FORMAT },
	{ "kind", "1", UPK_E_FORMAT },
	{ "components.0.chunking.block", "3000", UPK_E_FORMAT },
	{ "components.0.chunking.block", "256", UPK_E_FORMAT },
	{ "components.0.chunking.min", "1000", UPK_E_FORMAT },
	{ "components.0.chunking.min", "262144", UPK_E_FORMAT }, /* above max */
	{ "components.0.chunking.max", "8388608", UPK_E_FORMAT },
	{ "components.0.chunking.mask_bits", "17", UPK_E_FORMAT },
	{ "components.0.chunking.mask_bits", NULL, UPK_E_FORMAT },
	{ "components.0.data_offset", NULL, UPK_E_FORMAT },
	{ "components.0.data_offset", "100", UPK_E_FORMAT },
	{ "components.0.data_length", "0", UPK_E_FORMAT },
	{ "components.0.data_length", "8589934592", UPK_E_FORMAT },
	{ "components.0.extra", "true", UPK_E_FORMAT },
	{ "support_end", "\"2031-02-30\"", UPK_E_FORMAT },
	{ "support_end", "\"2031-1-1\"", UPK_E_FORMAT },
	{ "support_end", "\"2031-12-31T00:00:00Z\"", UPK_E_FORMAT },
	{ "support_end", "20311231", UPK_E_FORMAT },
	{ "sbom.sha256", "\"zz\"", UPK_E_FORMAT },
	{ "sbom.size", "0", UPK_E_FORMAT },
	{ "sbom.size", "67108865", UPK_E_FORMAT },
	{ "sbom.offset", NULL, UPK_E_FORMAT },
	{ "sbom.extra", "1", UPK_E_FORMAT },
	{ "sbom", "[]", UPK_E_FORMAT },
	{ "advisory", "[]", UPK_E_FORMAT },
	{ "advisory.summary", NULL, UPK_E_FORMAT },
	{ "advisory.summary", "\"\"", UPK_E_FORMAT },
	{ "advisory.summary", "\"line\\nbreak\"", UPK_E_FORMAT },
	{ "advisory.summary", "\"esc\\u001b[31m\"", UPK_E_FORMAT },
	{ "advisory.severity", "\"severe\"", UPK_E_FORMAT },
	{ "advisory.severity", NULL, UPK_E_FORMAT },
	{ "advisory.action", NULL, UPK_E_FORMAT },
	{ "advisory.action", "\"\\u007f\"", UPK_E_FORMAT },
	{ "advisory.cves", "\"CVE-2026-1234\"", UPK_E_FORMAT },
	{ "advisory.cves", NULL, UPK_E_FORMAT },
	{ "advisory.cves.0", "\"CVE-26-1234\"", UPK_E_FORMAT },
	{ "advisory.cves.0", "\"CVE-2026-123\"", UPK_E_FORMAT },
	{ "advisory.cves.0", "\"cve-2026-1234\"", UPK_E_FORMAT },
	{ "advisory.cves.0", "\"CVE-2026-56789\"", UPK_E_FORMAT }, /* listed twice */
	{ "advisory.cves.0", "\"GHSA-xxxx-yyyy-zzzz\"", UPK_E_FORMAT },
	{ "advisory.cves.0", "7", UPK_E_FORMAT },
	{ "advisory.extra", "1", UPK_E_FORMAT },
};

static void test_manifest_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < UPK_ARRAY_SIZE(manifest_mutations); i++) {
		const struct mutation *mu = &manifest_mutations[i];
		struct tb t;
		json_t *v = NULL;
		char what[160];

		tb_standard(&t);
		if (mu->value) {
			v = json_loads(mu->value, JSON_DECODE_ANY, NULL);
			assert_non_null(v);
		}
		json_put(t.m, mu->path, v);
		snprintf(what, sizeof(what), "%s = %s", mu->path,
			 mu->value ? mu->value : "(deleted)");
		expect_manifest(t.m, mu->err, what);
		tb_done(&t);
	}
}

static void test_manifest_limits(void **state)
{
	struct tb t;
	json_t *arr;
	char name[80];

	(void)state;
	/* The optional members may be absent. */
	tb_standard(&t);
	json_put(t.m, "advisory", NULL);
	json_put(t.m, "sbom", NULL);
	json_put(t.m, "support_end", NULL);
	json_put(t.m, "requirements", json_array());
	expect_manifest(t.m, UPK_OK, "minimal");
	/* A mixed release with a reason; every op. */
	json_put(t.m, "kind", json_string("mixed"));
	json_put(t.m, "mixed_reason", json_string("the fix needs the new model API"));
	for (int op = 0; op <= UPK_BUNDLE_OP_EQ; op++) {
		json_t *q = json_pack("{s:s, s:s, s:s}", "subject", op % 2 ? "firmware" : "model:x",
				      "op", upk_bundle_op_name((enum upk_bundle_op)op), "version",
				      "1.0.0-rc.1");

		json_array_append_new(json_object_get(t.m, "requirements"), q);
	}
	expect_manifest(t.m, UPK_OK, "mixed with reason, all ops");
	json_put(t.m, "mixed_reason", json_string(""));
	expect_manifest(t.m, UPK_E_FORMAT, "empty mixed_reason");
	json_put(t.m, "mixed_reason", json_string("a\tb"));
	expect_manifest(t.m, UPK_E_FORMAT, "tab in mixed_reason");
	tb_done(&t);

	/* Counts: 64 hardware ids pass, 65 do not; 32 requirements, 33; 256 CVEs, 257. */
	tb_standard(&t);
	arr = json_object_get(t.m, "hardware");
	json_array_clear(arr);
	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "hw-%d:rev+%d", i, i);
		json_array_append_new(arr, json_string(name));
	}
	expect_manifest(t.m, UPK_OK, "64 hardware ids");
	json_array_append_new(arr, json_string("one-more"));
	expect_manifest(t.m, UPK_E_FORMAT, "65 hardware ids");
	json_put(t.m, "hardware", json_pack("[s]", "x"));
	arr = json_object_get(t.m, "requirements");
	for (int i = 1; i < 32; i++)
		json_array_append(arr, json_array_get(arr, 0));
	expect_manifest(t.m, UPK_OK, "32 requirements");
	json_array_append(arr, json_array_get(arr, 0));
	expect_manifest(t.m, UPK_E_FORMAT, "33 requirements");
	json_array_remove(arr, 0);
	arr = json_object_get(json_object_get(t.m, "advisory"), "cves");
	json_array_clear(arr);
	for (int i = 0; i < 256; i++) {
		snprintf(name, sizeof(name), "CVE-2026-%05d", i);
		json_array_append_new(arr, json_string(name));
	}
	expect_manifest(t.m, UPK_OK, "256 CVEs");
	json_array_append_new(arr, json_string("CVE-2027-00001"));
	expect_manifest(t.m, UPK_E_FORMAT, "257 CVEs");
	json_array_clear(arr);
	expect_manifest(t.m, UPK_OK, "no CVE ids (an internal finding)");
	json_put(t.m, "advisory.summary", json_stringn("x\0y", 3));
	expect_manifest(t.m, UPK_E_FORMAT, "NUL in summary");
	tb_done(&t);

	/* 64 components pass, 65 do not (from the parser's view). */
	tb_standard(&t);
	arr = json_object_get(t.m, "components");
	json_array_remove(arr, 0);
	for (int i = 1; i < 64; i++) {
		json_t *c = json_deep_copy(json_array_get(arr, 0));

		snprintf(name, sizeof(name), "model-%d", i);
		json_object_set_new(c, "name", json_string(name));
		json_array_append_new(arr, c);
	}
	expect_manifest(t.m, UPK_OK, "64 components");
	json_array_append_new(arr, json_pack("{}"));
	expect_manifest(t.m, UPK_E_FORMAT, "65 components");
	tb_done(&t);
}

static void test_manifest_bytes(void **state)
{
	struct tb t;
	struct upk_bundle_manifest *m = NULL;
	struct upk_buf b = UPK_BUF_INIT;
	uint8_t *big;

	(void)state;
	tb_standard(&t);
	/* Readable (not canonical) JSON of a valid manifest: refused. */
	assert_int_equal(upk_json_serialize(t.m, &b), UPK_OK);
	assert_int_equal(upk_bundle_manifest_parse(b.data, b.len, &m, NULL), UPK_E_FORMAT);
	/* Canonical bytes plus trailing space: refused. */
	assert_int_equal(upk_bundle_manifest_parse(t.manifest.data, t.manifest.len - 1, &m, NULL),
			 UPK_E_FORMAT);
	assert_int_equal(upk_bundle_manifest_parse((const uint8_t *)"[1]", 3, &m, NULL),
			 UPK_E_FORMAT);
	assert_int_equal(upk_bundle_manifest_parse((const uint8_t *)"{", 1, &m, NULL),
			 UPK_E_FORMAT);
	/* Above the limit: refused before parsing. */
	big = calloc(1, UPK_BUNDLE_MAX_MANIFEST + 1);
	assert_non_null(big);
	assert_int_equal(upk_bundle_manifest_parse(big, UPK_BUNDLE_MAX_MANIFEST + 1, &m, NULL),
			 UPK_E_TOO_LARGE);
	free(big);
	assert_null(m);
	assert_int_equal(upk_bundle_manifest_parse(t.manifest.data, t.manifest.len, &m, NULL),
			 UPK_OK);
	upk_bundle_manifest_free(m);
	/* from_json takes the reference even on failure. */
	assert_int_equal(upk_bundle_manifest_from_json(json_pack("{}"), &m, NULL), UPK_E_FORMAT);
	assert_int_equal(upk_bundle_manifest_from_json(json_pack("[]"), &m, NULL), UPK_E_FORMAT);
	upk_bundle_manifest_free(NULL);
	upk_buf_done(&b);
	tb_done(&t);
}

/* ---- header ---- */

/* Byte offset of the tar header of member `k` (0 manifest, then indexes, then data). */
static size_t member_header(const struct tb *t, size_t k)
{
	size_t off = 0;

	for (size_t i = 0; i < k; i++) {
		uint64_t size = strtoull((const char *)t->file.data + off + 124, NULL, 8);

		off += 512 + (size + 511) / 512 * 512;
	}
	return off;
}

static void test_header_valid(void **state)
{
	struct tb t;
	struct upk_bundle_header *h = NULL;
	uint64_t need = 0;
	uint8_t sha[UPK_HASH_MAX_LEN];

	(void)state;
	tb_standard(&t);
	assert_int_equal(parse_file(&t, &h, NULL), UPK_OK);
	assert_int_equal(upk_hash_oneshot(UPK_HASH_SHA256, t.file.data, t.header_len, sha), UPK_OK);
	assert_memory_equal(sha, h->sha256, 32);
	assert_true(h->manifest_length == t.manifest.len);
	assert_true(h->manifest->components[0].index_offset == member_header(&t, 1) + 512);
	assert_true(h->manifest->components[1].index_offset == member_header(&t, 2) + 512);
	assert_true(h->manifest->components[1].data_offset == member_header(&t, 4) + 512);
	assert_true(h->manifest->sbom_offset == member_header(&t, 5) + 512);
	upk_bundle_header_free(h);
	upk_bundle_header_free(NULL);

	/* Probe: 512 bytes, then the manifest, then the header length. */
	assert_int_equal(upk_bundle_header_probe(t.file.data, 0, &need, NULL), UPK_OK);
	assert_true(need == 512);
	assert_int_equal(upk_bundle_header_probe(t.file.data, 100, &need, NULL), UPK_OK);
	assert_true(need == 512);
	assert_int_equal(upk_bundle_header_probe(t.file.data, 512, &need, NULL), UPK_OK);
	assert_true(need == 512 + t.manifest.len);
	assert_int_equal(upk_bundle_header_probe(t.file.data, 512 + t.manifest.len, &need, NULL),
			 UPK_OK);
	assert_true(need == t.header_len);
	assert_int_equal(upk_bundle_header_probe(t.file.data, t.header_len, &need, NULL), UPK_OK);
	assert_true(need == t.header_len);
	/* A manifest whose indexes alone exceed the header limit: refused by the probe. */
	{
		json_t *m = json_deep_copy(t.m);
		struct upk_buf b = UPK_BUF_INIT;

		for (int i = 0; i < 2; i++) {
			char path[64];

			snprintf(path, sizeof(path), "components.%d.chunking", i);
			json_put(m, path,
				 json_pack("{s:s, s:i}", "algorithm", "fixed", "size", 4096));
			snprintf(path, sizeof(path), "components.%d.size", i);
			json_put(m, path, json_integer(4096LL << 20));
			snprintf(path, sizeof(path), "components.%d.chunks", i);
			json_put(m, path, json_integer(1 << 20));
		}
		assert_int_equal(upk_json_canonical(m, &b, NULL), UPK_OK);
		{
			uint8_t *p = calloc(1, 512 + b.len);

			assert_non_null(p);
			tar_header(p, "manifest.json", b.len);
			memcpy(p + 512, b.data, b.len);
			assert_int_equal(upk_bundle_header_probe(p, 512 + b.len, &need, NULL),
					 UPK_E_TOO_LARGE);
			free(p);
		}
		upk_buf_done(&b);
		json_decref(m);
	}
	/* Probe errors. */
	t.file.data[257] = 'x';
	assert_int_equal(upk_bundle_header_probe(t.file.data, 512, &need, NULL), UPK_E_FORMAT);
	t.file.data[257] = 'u';
	t.file.data[512] = '[';
	assert_int_equal(upk_bundle_header_probe(t.file.data, t.header_len, &need, NULL),
			 UPK_E_FORMAT);
	tb_done(&t);
}

static void test_header_tar_rejects(void **state)
{
	struct tb t;
	uint64_t size = 0;
	uint8_t blk[512];

	(void)state;
	tb_standard(&t);
	/* Each manipulation of the manifest's tar header. */
	memcpy(blk, t.file.data, 512);
	t.file.data[257] = 'U';
	expect_header(&t, UPK_E_FORMAT); /* magic */
	memcpy(t.file.data, blk, 512);
	t.file.data[263] = ' ';
	tar_fix_sum(t.file.data);
	expect_header(&t, UPK_E_FORMAT); /* GNU "ustar  " magic */
	memcpy(t.file.data, blk, 512);
	t.file.data[0] = 'M';
	expect_header(&t, UPK_E_FORMAT); /* checksum */
	tar_fix_sum(t.file.data);
	expect_header(&t, UPK_E_FORMAT); /* name */
	memcpy(t.file.data, blk, 512);
	t.file.data[156] = '5';
	tar_fix_sum(t.file.data);
	expect_header(&t, UPK_E_FORMAT); /* a directory */
	memcpy(t.file.data, blk, 512);
	t.file.data[345] = 'p';
	tar_fix_sum(t.file.data);
	expect_header(&t, UPK_E_FORMAT); /* prefix */
	memcpy(t.file.data, blk, 512);
	t.file.data[13] = 'x'; /* "manifest.jsonx" */
	tar_fix_sum(t.file.data);
	expect_header(&t, UPK_E_FORMAT);
	memcpy(t.file.data, blk, 512);
	t.file.data[125] = '9';
	tar_fix_sum(t.file.data);
	expect_header(&t, UPK_E_FORMAT); /* size not octal */
	memcpy(t.file.data, blk, 512);
	memcpy(t.file.data + 124, "00000000000 ", 12);
	tar_fix_sum(t.file.data);
	expect_header(&t, UPK_E_FORMAT); /* empty manifest */
	memcpy(t.file.data + 124, "00004000001 ", 12);
	tar_fix_sum(t.file.data);
	expect_header(&t, UPK_E_TOO_LARGE); /* 1 MiB + 1 */
	memcpy(t.file.data + 124, "00000000001 ", 12);
	tar_fix_sum(t.file.data);
	expect_header(&t, UPK_E_FORMAT); /* manifest cut to "{" */
	memcpy(t.file.data, blk, 512);
	memcpy(t.file.data + 148, "      \0 ", 8);
	expect_header(&t, UPK_E_FORMAT); /* no checksum digits */
	memcpy(t.file.data, blk, 512);
	expect_header(&t, UPK_OK);

	/* upk_bundle_tar_check directly: octal with leading spaces is fine. */
	memcpy(blk + 124, " 0000000123 ", 12);
	tar_fix_sum(blk);
	assert_int_equal(upk_bundle_tar_check(blk, "manifest.json", &size, NULL), UPK_OK);
	assert_true(size == 0123);
	memcpy(blk + 124, "0000000012x ", 12);
	tar_fix_sum(blk);
	assert_int_equal(upk_bundle_tar_check(blk, "manifest.json", &size, NULL), UPK_E_FORMAT);
	memcpy(blk + 124, "77777777777777777777", 12);
	tar_fix_sum(blk);
	assert_int_equal(upk_bundle_tar_check(blk, "manifest.json", &size, NULL), UPK_OK);
	assert_int_equal(upk_bundle_tar_check(blk, "manifest.jso", &size, NULL), UPK_E_FORMAT);

	/* The tar header of index/firmware, index/detector and data/firmware. */
	for (size_t k = 1; k <= 3; k++) {
		size_t off = member_header(&t, k);

		memcpy(blk, t.file.data + off, 512);
		t.file.data[off + 6] ^= 0x20;
		tar_fix_sum(t.file.data + off);
		expect_header(&t, UPK_E_FORMAT); /* another name */
		memcpy(t.file.data + off, blk, 512);
		t.file.data[off + 134] ^= 1;
		tar_fix_sum(t.file.data + off);
		expect_header(&t, UPK_E_FORMAT); /* another size */
		memcpy(t.file.data + off, blk, 512);
		t.file.data[off + 300] = 1;
		expect_header(&t, UPK_E_FORMAT); /* checksum */
		memcpy(t.file.data + off, blk, 512);
	}
	expect_header(&t, UPK_OK);
	tb_done(&t);
}

static void test_header_layout_rejects(void **state)
{
	struct tb t;
	struct upk_bundle_header *h = NULL;

	(void)state;
	tb_standard(&t);
	/* Lengths: header and file. */
	assert_int_equal(upk_bundle_header_parse(t.file.data, 511, t.file.len, &h, NULL),
			 UPK_E_LENGTH);
	assert_int_equal(upk_bundle_header_parse(t.file.data, 512 + t.manifest.len - 1, t.file.len,
						 &h, NULL),
			 UPK_E_LENGTH);
	assert_int_equal(
		upk_bundle_header_parse(t.file.data, t.header_len - 512, t.file.len, &h, NULL),
		UPK_E_LENGTH);
	assert_int_equal(
		upk_bundle_header_parse(t.file.data, t.header_len + 512, t.file.len, &h, NULL),
		UPK_E_LENGTH);
	assert_int_equal(
		upk_bundle_header_parse(t.file.data, t.header_len, t.file.len - 1, &h, NULL),
		UPK_E_LENGTH);
	assert_int_equal(
		upk_bundle_header_parse(t.file.data, t.header_len, t.file.len + 512, &h, NULL),
		UPK_E_LENGTH);
	assert_int_equal(upk_bundle_header_parse(t.file.data, UPK_BUNDLE_MAX_HEADER + 1, t.file.len,
						 &h, NULL),
			 UPK_E_TOO_LARGE);
	assert_null(h);
	tb_done(&t);

	/* A data_offset the layout does not give. */
	tb_standard(&t);
	json_put(t.m, "components.1.data_offset",
		 json_integer(json_integer_value(json_object_get(
				      json_array_get(json_object_get(t.m, "components"), 1),
				      "data_offset")) +
			      512));
	tb_write(&t);
	expect_header(&t, UPK_E_FORMAT);
	tb_done(&t);
	/* An sbom offset the layout does not give. */
	tb_standard(&t);
	json_put(t.m, "sbom.offset",
		 json_integer(json_integer_value(
				      json_object_get(json_object_get(t.m, "sbom"), "offset")) -
			      512));
	tb_write(&t);
	expect_header(&t, UPK_E_FORMAT);
	tb_done(&t);
	/* data_length that is not what the index stores (layout moves: lengths differ). */
	tb_standard(&t);
	json_put(t.m, "components.1.data_length", json_integer((json_int_t)t.dat[1].len - 1));
	tb_write(&t);
	expect_header(&t, UPK_E_LENGTH);
	tb_done(&t);
	/* Non-zero padding after the manifest, in the header. */
	tb_standard(&t);
	assert_true(t.manifest.len % 512 != 0);
	t.file.data[512 + t.manifest.len] = 1;
	expect_header(&t, UPK_E_FORMAT);
	tb_done(&t);
}

/* Rewrite entry i of index c as (size, csize), keeping the hash. */
static void set_entry(struct tb *t, size_t c, size_t i, uint32_t size, uint32_t csize)
{
	uint8_t *e = t->idx[c].data + UPK_BUNDLE_INDEX_HEAD + i * UPK_BUNDLE_INDEX_ENTRY;

	upk_bundle_index_put_entry(e, size, csize, e + 8);
	tb_write(t);
}

static uint32_t entry_field(const struct tb *t, size_t c, size_t i, size_t f)
{
	const uint8_t *e = t->idx[c].data + UPK_BUNDLE_INDEX_HEAD + i * UPK_BUNDLE_INDEX_ENTRY;

	return (uint32_t)e[4 * f] | (uint32_t)e[4 * f + 1] << 8 | (uint32_t)e[4 * f + 2] << 16 |
	       (uint32_t)e[4 * f + 3] << 24;
}

static void test_header_index_rejects(void **state)
{
	struct tb t;
	uint32_t size, csize;

	(void)state;
	/* Magic, count, reserved. */
	tb_standard(&t);
	t.idx[0].data[3] = 'x';
	tb_write(&t);
	expect_header(&t, UPK_E_FORMAT);
	tb_done(&t);
	tb_standard(&t);
	t.idx[1].data[8]++;
	tb_write(&t);
	expect_header(&t, UPK_E_FORMAT);
	tb_done(&t);
	tb_standard(&t);
	t.idx[1].data[15] = 1;
	tb_write(&t);
	expect_header(&t, UPK_E_FORMAT);
	tb_done(&t);

	/* Entry sizes against the fixed chunking of component 1 (65536, 65536, 18929). */
	tb_standard(&t);
	size = entry_field(&t, 1, 0, 0);
	csize = entry_field(&t, 1, 0, 1);
	assert_true(size == 65536 && csize > 0 && csize < size);
	set_entry(&t, 1, 0, 0, csize);
	expect_header(&t, UPK_E_FORMAT); /* size 0 */
	set_entry(&t, 1, 0, 65537, csize);
	expect_header(&t, UPK_E_FORMAT); /* above the fixed size */
	set_entry(&t, 1, 0, 65536 - 4096, csize);
	expect_header(&t, UPK_E_FORMAT); /* a non-last chunk of another size */
	set_entry(&t, 1, 0, 65536, 65536);
	expect_header(&t, UPK_E_FORMAT); /* compressed size not below size */
	set_entry(&t, 1, 0, 65536, 70000);
	expect_header(&t, UPK_E_FORMAT);
	set_entry(&t, 1, 0, 65536, csize + 1);
	expect_header(&t, UPK_E_LENGTH); /* stored sum != data_length */
	set_entry(&t, 1, 0, 65536, csize);
	expect_header(&t, UPK_OK);
	/* The last chunk: smaller is fine, but sums must match. */
	size = entry_field(&t, 1, 2, 0);
	csize = entry_field(&t, 1, 2, 1);
	set_entry(&t, 1, 2, size - 1, csize);
	expect_header(&t, UPK_E_LENGTH); /* sizes sum != component size */
	set_entry(&t, 1, 2, size, csize);
	expect_header(&t, UPK_OK);
	tb_done(&t);

	/* block-cdc: non-last chunks are multiples of the block in [min, max]. */
	tb_standard(&t);
	size = entry_field(&t, 0, 0, 0);
	csize = entry_field(&t, 0, 0, 1);
	assert_true(size % 4096 == 0 && size >= 32768 && size <= 131072);
	set_entry(&t, 0, 0, size - 1, csize);
	expect_header(&t, UPK_E_FORMAT);
	set_entry(&t, 0, 0, 28672, csize);
	expect_header(&t, UPK_E_FORMAT);
	set_entry(&t, 0, 0, 135168, csize);
	expect_header(&t, UPK_E_FORMAT);
	tb_done(&t);

	/* Non-zero padding after an index (40 * n + 16 is never a multiple of 512 here). */
	tb_standard(&t);
	assert_true(t.idx[1].len % 512 != 0);
	t.file.data[member_header(&t, 2) + 512 + t.idx[1].len] = 7;
	expect_header(&t, UPK_E_FORMAT);
	tb_done(&t);
}

/* ---- custom.upkeep ---- */

static void test_custom(void **state)
{
	struct tb t;
	struct upk_bundle_header *h = NULL, *h2 = NULL;
	struct upk_bundle_manifest *c = NULL, *c2 = NULL;
	json_t *o = NULL;
	struct upk_diag d;
	static const char *const same[] = { "product",	    "hardware",		"version",
					    "build_time",   "security_version", "kind",
					    "requirements", "support_end" };

	(void)state;
	upk_diag_clear(&d);
	tb_standard(&t);
	assert_int_equal(parse_file(&t, &h, NULL), UPK_OK);
	assert_int_equal(upk_bundle_custom_build(h, &o, NULL), UPK_OK);
	assert_int_equal(json_integer_value(json_object_get(o, "format_version")), 1);
	assert_null(json_object_get(o, "format"));
	assert_null(json_object_get(json_array_get(json_object_get(o, "components"), 0),
				    "data_offset"));
	assert_int_equal(upk_bundle_custom_parse(o, &c, NULL), UPK_OK);
	assert_true(c->is_custom);
	assert_true(c->header_length == t.header_len);
	assert_memory_equal(c->header_sha256, h->sha256, 32);
	assert_int_equal(c->n_components, 2);
	assert_true(c->components[1].chunks == 3);
	assert_int_equal(upk_bundle_custom_matches(c, h->manifest, NULL), UPK_OK);

	/* The device's entry point. */
	assert_int_equal(
		upk_bundle_header_verify(t.file.data, t.header_len, t.file.len, c, &h2, NULL),
		UPK_OK);
	upk_bundle_header_free(h2);
	h2 = NULL;
	assert_int_equal(
		upk_bundle_header_verify(t.file.data, t.header_len - 512, t.file.len, c, &h2, NULL),
		UPK_E_LENGTH);
	t.file.data[600] ^= 1;
	assert_int_equal(
		upk_bundle_header_verify(t.file.data, t.header_len, t.file.len, c, &h2, &d),
		UPK_E_HASH);
	t.file.data[600] ^= 1;
	assert_null(h2);

	/* Every release field and component field must match; advisory and mixed_reason may not. */
	for (size_t i = 0; i < UPK_ARRAY_SIZE(same) + 8; i++) {
		json_t *o2 = json_deep_copy(o);
		enum upk_err want = UPK_E_FORMAT;

		switch (i) {
		case UPK_ARRAY_SIZE(same):
			json_put(o2, "components.0.sha256",
				 json_string("00000000000000000000000000000000"
					     "00000000000000000000000000000000"));
			break;
		case UPK_ARRAY_SIZE(same) + 1:
			json_put(o2, "components.1.chunks", json_integer(4));
			break;
		case UPK_ARRAY_SIZE(same) + 2:
			json_put(o2, "components.1.name", json_string("detect0r"));
			break;
		case UPK_ARRAY_SIZE(same) + 3:
			json_put(o2, "components.1", NULL);
			break;
		case UPK_ARRAY_SIZE(same) + 4:
			json_put(o2, "sbom", NULL);
			break;
		case UPK_ARRAY_SIZE(same) + 5:
			json_put(o2, "sbom.size", json_integer(1));
			break;
		case UPK_ARRAY_SIZE(same) + 6:
			json_put(o2, "advisory.severity", json_string("critical"));
			want = UPK_OK;
			break;
		case UPK_ARRAY_SIZE(same) + 7:
			json_put(o2, "advisory", NULL);
			want = UPK_OK;
			break;
		default:
			if (!strcmp(same[i], "kind"))
				json_put(o2, "kind", json_string("feature"));
			else if (!strcmp(same[i], "security_version"))
				json_put(o2, same[i], json_integer(8));
			else if (!strcmp(same[i], "hardware"))
				json_put(o2, "hardware.1", json_string("rev-c"));
			else if (!strcmp(same[i], "requirements"))
				json_put(o2, "requirements", json_array());
			else if (!strcmp(same[i], "support_end"))
				json_put(o2, "support_end", NULL);
			else if (!strcmp(same[i], "version"))
				json_put(o2, "version", json_string("2.1.1"));
			else if (!strcmp(same[i], "build_time"))
				json_put(o2, "build_time", json_string("2026-01-01T00:00:01Z"));
			else
				json_put(o2, same[i], json_string("kam"));
		}
		assert_int_equal(upk_bundle_custom_parse(o2, &c2, NULL), UPK_OK);
		if (upk_bundle_custom_matches(c2, h->manifest, &d) != want)
			fail_msg("custom mismatch case %zu not detected", i);
		if (want == UPK_E_FORMAT)
			assert_int_equal(upk_bundle_header_verify(t.file.data, t.header_len,
								  t.file.len, c2, &h2, NULL),
					 UPK_E_FORMAT);
		upk_bundle_manifest_free(c2);
		c2 = NULL;
		json_decref(o2);
	}

	/* custom.upkeep's own rejections. */
	{
		static const struct mutation muts[] = {
			{ "header", NULL, UPK_E_FORMAT },
			{ "header", "[]", UPK_E_FORMAT },
			{ "header.length", "1535", UPK_E_FORMAT },
			{ "header.length", "67108865", UPK_E_FORMAT },
			{ "header.sha256", "\"00\"", UPK_E_FORMAT },
			{ "header.extra", "1", UPK_E_FORMAT },
			{ "format", "\"upkeep-bundle\"", UPK_E_FORMAT },
			{ "format_version", "2", UPK_E_UNSUPPORTED },
			{ "components.0.data_offset", "4096", UPK_E_FORMAT },
			{ "components.0.chunking", "{}", UPK_E_FORMAT },
			{ "components.0.chunks", "700001", UPK_E_FORMAT },
			{ "sbom.offset", "4096", UPK_E_FORMAT },
			{ "kind", "\"mixed\"", UPK_OK },
			{ "mixed_reason", "\"x\"", UPK_E_FORMAT },
		};

		for (size_t i = 0; i < UPK_ARRAY_SIZE(muts); i++) {
			json_t *o2 = json_deep_copy(o);
			json_t *v = muts[i].value ? json_loads(muts[i].value, JSON_DECODE_ANY, NULL)
						  : NULL;
			enum upk_err r;

			json_put(o2, muts[i].path, v);
			r = upk_bundle_custom_parse(o2, &c2, &d);
			if (r != muts[i].err)
				fail_msg("custom %s: got %s, want %s", muts[i].path,
					 upk_err_name(r), upk_err_name(muts[i].err));
			upk_bundle_manifest_free(c2);
			c2 = NULL;
			json_decref(o2);
		}
		assert_int_equal(upk_bundle_custom_parse(NULL, &c2, NULL), UPK_E_FORMAT);
	}

	upk_bundle_manifest_free(c);
	json_decref(o);
	upk_bundle_header_free(h);
	tb_done(&t);
}

/* ---- chunks ---- */

static void test_iter_and_decode(void **state)
{
	struct tb t;
	struct upk_bundle_header *h = NULL;
	struct upk_bundle_decoder dec = UPK_BUNDLE_DECODER_INIT;
	struct upk_bundle_chunk ch, first;
	struct upk_bundle_chunk_iter it;
	uint8_t *out = malloc(UPK_BUNDLE_MAX_CHUNK);
	uint64_t n = 0, off = 0;
	size_t raw = 0;

	(void)state;
	assert_non_null(out);
	tb_standard(&t);
	assert_int_equal(parse_file(&t, &h, NULL), UPK_OK);
	assert_int_equal(upk_bundle_decoder_init(&dec), UPK_OK);
	for (size_t c = 0; c < 2; c++) {
		const struct upk_bundle_component *comp = &h->manifest->components[c];
		uint64_t foff = comp->data_offset;

		off = 0;
		n = 0;
		upk_bundle_chunk_iter_init(&it, comp);
		while (upk_bundle_chunk_iter_next(&it, &ch)) {
			assert_true(ch.index == n);
			assert_true(ch.offset == off);
			assert_true(ch.file_offset == foff);
			raw += ch.raw;
			assert_int_equal(upk_bundle_chunk_decode(&dec, comp->codec, &ch,
								 t.file.data + ch.file_offset,
								 ch.stored_size, out,
								 UPK_BUNDLE_MAX_CHUNK, NULL),
					 UPK_OK);
			assert_memory_equal(out, t.content[c].data + ch.offset, ch.size);
			off += ch.size;
			foff += ch.stored_size;
			n++;
		}
		assert_false(upk_bundle_chunk_iter_next(&it, &ch));
		assert_true(n == comp->chunks && off == comp->size);
	}
	assert_true(raw > 0); /* the pseudo-random regions are stored raw */

	/* Decoder rejections on the first compressed chunk of the firmware. */
	upk_bundle_chunk_iter_init(&it, &h->manifest->components[0]);
	do
		assert_true(upk_bundle_chunk_iter_next(&it, &first));
	while (first.raw);
	{
		const uint8_t *in = t.file.data + first.file_offset;
		uint8_t *bad = malloc(first.stored_size + 16);
		struct upk_bundle_chunk c2 = first;
		struct upk_diag d;

		upk_diag_clear(&d);
		assert_non_null(bad);
		memcpy(bad, in, first.stored_size);
		/* Wrong input length. */
		assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &first, in,
							 first.stored_size - 1, out,
							 UPK_BUNDLE_MAX_CHUNK, &d),
				 UPK_E_LENGTH);
		/* Declared one byte smaller: a bomb (inflates beyond the bound). */
		c2.size = first.size - 1;
		memset(out, 0xaa, first.size);
		assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &c2, in,
							 first.stored_size, out,
							 UPK_BUNDLE_MAX_CHUNK, &d),
				 UPK_E_TOO_LARGE);
		for (size_t i = 0; i < c2.size; i++)
			assert_int_equal(out[i], 0);  /* wiped */
		assert_int_equal(out[c2.size], 0xaa); /* nothing written past the bound */
		/* Declared larger: short. */
		c2.size = first.size + 1;
		assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &c2, in,
							 first.stored_size, out,
							 UPK_BUNDLE_MAX_CHUNK, &d),
				 UPK_E_LENGTH);
		/* Trailing bytes after the stream. */
		c2 = first;
		bad[first.stored_size] = 0;
		c2.stored_size = first.stored_size + 1;
		assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &c2, bad,
							 c2.stored_size, out, UPK_BUNDLE_MAX_CHUNK,
							 &d),
				 UPK_E_FORMAT);
		/* Truncated stream. */
		c2.stored_size = first.stored_size - 2;
		assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &c2, bad,
							 c2.stored_size, out, UPK_BUNDLE_MAX_CHUNK,
							 &d),
				 UPK_E_FORMAT);
		/* A flipped byte in the middle (corrupt stream or wrong hash, never OK). */
		bad[first.stored_size / 2] ^= 0xff;
		assert_int_not_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &first,
							     bad, first.stored_size, out,
							     UPK_BUNDLE_MAX_CHUNK, &d),
				     UPK_OK);
		bad[first.stored_size / 2] ^= 0xff;
		/* Adler-32 trailer flipped. */
		bad[first.stored_size - 1] ^= 1;
		assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &first, bad,
							 first.stored_size, out,
							 UPK_BUNDLE_MAX_CHUNK, &d),
				 UPK_E_FORMAT);
		bad[first.stored_size - 1] ^= 1;
		/* Preset dictionary flag (FDICT) with a valid header check. */
		{
			uint8_t hdr[2] = { 0x78, 0x20 };

			hdr[1] |= (uint8_t)(31 - ((hdr[0] << 8 | hdr[1]) % 31));
			memcpy(bad, hdr, 2);
			assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB,
								 &first, bad, first.stored_size,
								 out, UPK_BUNDLE_MAX_CHUNK, &d),
					 UPK_E_FORMAT);
			memcpy(bad, in, 2);
		}
		/* Hash mismatch. */
		c2 = first;
		c2.sha256[0] ^= 1;
		assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &c2, in,
							 first.stored_size, out,
							 UPK_BUNDLE_MAX_CHUNK, &d),
				 UPK_E_HASH);
		assert_int_equal(out[0], 0);
		/* A raw chunk with a wrong hash; the right one. */
		c2 = first;
		c2.raw = true;
		c2.size = c2.stored_size;
		assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &c2, in,
							 c2.stored_size, out, UPK_BUNDLE_MAX_CHUNK,
							 &d),
				 UPK_E_HASH);
		{
			uint8_t sha[UPK_HASH_MAX_LEN];

			assert_int_equal(upk_hash_oneshot(UPK_HASH_SHA256, in, c2.size, sha),
					 UPK_OK);
			memcpy(c2.sha256, sha, 32);
			assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &c2,
								 in, c2.stored_size, out,
								 UPK_BUNDLE_MAX_CHUNK, &d),
					 UPK_OK);
			assert_memory_equal(out, in, c2.size);
		}
		/* An unknown codec; a decoder that was never initialized. */
		assert_int_equal(upk_bundle_chunk_decode(&dec, (enum upk_bundle_codec)7, &first, in,
							 first.stored_size, out,
							 UPK_BUNDLE_MAX_CHUNK, &d),
				 UPK_E_UNSUPPORTED);
		{
			struct upk_bundle_decoder none = UPK_BUNDLE_DECODER_INIT;

			assert_int_equal(upk_bundle_chunk_decode(&none, UPK_BUNDLE_CODEC_ZLIB,
								 &first, in, first.stored_size, out,
								 UPK_BUNDLE_MAX_CHUNK, &d),
					 UPK_E_INTERNAL);
			upk_bundle_decoder_done(&none);
		}
		/* Still decodes after all of that (the stream is reset each time). */
		assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &first, in,
							 first.stored_size, out,
							 UPK_BUNDLE_MAX_CHUNK, &d),
				 UPK_OK);
		free(bad);
	}
	upk_bundle_decoder_done(&dec);
	upk_bundle_decoder_done(&dec);
	upk_bundle_header_free(h);
	free(out);
	tb_done(&t);
}

/* A real bomb: 64 KiB of zeros compress to ~80 bytes; declared as a 4 KiB chunk. */
static void test_decode_bomb(void **state)
{
	struct upk_bundle_decoder dec = UPK_BUNDLE_DECODER_INIT;
	struct upk_bundle_chunk ch;
	uint8_t *zeros = calloc(1, 1 << 20), *out = malloc(UPK_BUNDLE_MAX_CHUNK);
	uLongf zl = compressBound(1 << 20);
	uint8_t *z = malloc(zl);

	(void)state;
	assert_non_null(zeros);
	assert_non_null(z);
	assert_non_null(out);
	assert_int_equal(compress2(z, &zl, zeros, 1 << 20, 9), Z_OK);
	memset(&ch, 0, sizeof(ch));
	ch.size = 4096;
	ch.stored_size = (uint32_t)zl;
	assert_int_equal(upk_bundle_decoder_init(&dec), UPK_OK);
	assert_int_equal(
		upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &ch, z, zl, out, 4096, NULL),
		UPK_E_TOO_LARGE);
	/* The exact size with the right hash decodes. */
	ch.size = 1 << 20;
	{
		uint8_t sha[UPK_HASH_MAX_LEN];

		assert_int_equal(upk_hash_oneshot(UPK_HASH_SHA256, zeros, 1 << 20, sha), UPK_OK);
		memcpy(ch.sha256, sha, 32);
	}
	assert_int_equal(upk_bundle_chunk_decode(&dec, UPK_BUNDLE_CODEC_ZLIB, &ch, z, zl, out,
						 UPK_BUNDLE_MAX_CHUNK, NULL),
			 UPK_OK);
	upk_bundle_decoder_done(&dec);
	free(zeros);
	free(z);
	free(out);
}

static void test_chunker(void **state)
{
	struct upk_bundle_chunking cdc, fixed, p;
	struct upk_buf a = UPK_BUF_INIT, b = UPK_BUF_INIT;
	size_t cuts_a[64], cuts_b[64], na = 0, nb = 0, off;

	(void)state;
	upk_bundle_chunking_default(&cdc);
	assert_int_equal(cdc.alg, UPK_BUNDLE_CHUNK_BLOCK_CDC);
	assert_int_equal(upk_bundle_chunking_fixed(65536, &fixed, NULL), UPK_OK);
	assert_int_equal(upk_bundle_chunking_fixed(1000, &p, NULL), UPK_E_USAGE);
	assert_int_equal(upk_bundle_chunking_fixed(0, &p, NULL), UPK_E_USAGE);
	assert_int_equal(upk_bundle_chunking_fixed(8u << 20, &p, NULL), UPK_E_USAGE);
	assert_int_equal(upk_bundle_chunking_fixed(UPK_BUNDLE_MAX_CHUNK, &p, NULL), UPK_OK);

	/* Random bytes: every block is a cut candidate with probability 1/8. */
	assert_int_equal(upk_buf_reserve(&a, 2000000), UPK_OK);
	for (uint32_t x = 88172645u; a.len < 2000000; a.len++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		a.data[a.len] = (uint8_t)(x >> 7);
	}
	/* Need more bytes unless at the end. */
	assert_int_equal(upk_bundle_chunk_cut(&cdc, a.data, 0, true), 0);
	assert_int_equal(upk_bundle_chunk_cut(&cdc, a.data, 131071, false), 0);
	assert_int_equal(upk_bundle_chunk_cut(&fixed, a.data, 65535, false), 0);
	assert_int_equal(upk_bundle_chunk_cut(&fixed, a.data, 65536, false), 65536);
	assert_int_equal(upk_bundle_chunk_cut(&fixed, a.data, 100, true), 100);
	assert_int_equal(upk_bundle_chunk_cut(&cdc, a.data, 5000, true), 5000);
	assert_int_equal(upk_bundle_chunk_cut(&cdc, a.data, 32768, true), 32768);
	/* Zero blocks never cut (so zero runs become max-size chunks). */
	{
		uint8_t *z = calloc(1, 300000);

		assert_non_null(z);
		assert_int_equal(upk_bundle_chunk_cut(&cdc, z, 300000, false), 131072);
		free(z);
	}
	/* mask_bits 0 cuts at min. */
	p = cdc;
	p.mask_bits = 0;
	assert_int_equal(upk_bundle_chunk_cut(&p, a.data, a.len, false), 32768);

	/* Boundaries are block multiples within [min, max]; some cut below max. */
	for (off = 0; off < a.len;) {
		size_t len = upk_bundle_chunk_cut(&cdc, a.data + off, a.len - off, true);

		assert_true(len > 0);
		if (off + len < a.len) {
			assert_true(len % 4096 == 0 && len >= 32768 && len <= 131072);
			assert_true(na < 64);
			cuts_a[na++] = off + len;
		}
		off += len;
	}
	assert_true(na > 10);
	/* Content-defined: insert 3 blocks at the front, later cuts are the same bytes. */
	assert_int_equal(upk_buf_reserve(&b, a.len + 12288), UPK_OK);
	memset(b.data, 0x5c, 12288);
	memcpy(b.data + 12288, a.data, a.len);
	b.len = a.len + 12288;
	for (off = 0; off < b.len;) {
		size_t len = upk_bundle_chunk_cut(&cdc, b.data + off, b.len - off, true);

		off += len;
		if (off < b.len && nb < 64)
			cuts_b[nb++] = off - 12288;
	}
	{
		size_t same = 0;

		for (size_t i = 0; i < na; i++) {
			for (size_t k = 0; k < nb; k++)
				same += cuts_a[i] == cuts_b[k];
		}
		assert_true(same + 2 >= na); /* all but the first one or two */
	}
	upk_buf_done(&a);
	upk_buf_done(&b);
}

static void test_layout(void **state)
{
	struct upk_bundle_layout l;
	uint64_t ilen[2] = { 56, 1016 }, dlen[2] = { 1000, 512 };
	uint64_t big[UPK_BUNDLE_MAX_COMPONENTS + 1] = { 0 };

	(void)state;
	assert_int_equal(upk_bundle_layout_compute(100, 2, ilen, dlen, 0, &l, NULL), UPK_OK);
	assert_true(l.manifest_offset == 512);
	assert_true(l.index_offset[0] == 1536);
	assert_true(l.index_offset[1] == 2560);
	assert_true(l.data_offset[0] == 4096);
	assert_true(l.data_offset[1] == 5632);
	assert_true(l.header_length == 4096);
	assert_true(l.sbom_offset == 0);
	assert_true(l.file_length == 5632 + 512 + 1024);
	assert_int_equal(upk_bundle_layout_compute(100, 2, ilen, dlen, 3, &l, NULL), UPK_OK);
	assert_true(l.sbom_offset == 6656);
	assert_true(l.file_length == 6656 + 512 + 1024);
	assert_int_equal(upk_bundle_layout_compute(100, 0, ilen, dlen, 0, &l, NULL), UPK_E_FORMAT);
	assert_int_equal(upk_bundle_layout_compute(100, UPK_BUNDLE_MAX_COMPONENTS + 1, big, big, 0,
						   &l, NULL),
			 UPK_E_FORMAT);
	dlen[1] = UPK_BUNDLE_MAX_MEMBER + 1;
	assert_int_equal(upk_bundle_layout_compute(100, 2, ilen, dlen, 0, &l, NULL),
			 UPK_E_TOO_LARGE);
	dlen[1] = 1;
	assert_int_equal(
		upk_bundle_layout_compute(UPK_BUNDLE_MAX_MANIFEST + 1, 2, ilen, dlen, 0, &l, NULL),
		UPK_E_TOO_LARGE);
	assert_int_equal(
		upk_bundle_layout_compute(100, 2, ilen, dlen, UPK_BUNDLE_MAX_SBOM + 1, &l, NULL),
		UPK_E_TOO_LARGE);
}

/* ---- command-line helpers ---- */

static void test_requirement_parse(void **state)
{
	static const struct {
		const char *expr, *subject, *op, *version;
	} ok[] = {
		{ "firmware>=2.0.0", "firmware", ">=", "2.0.0" },
		{ "firmware>2.0.0", "firmware", ">", "2.0.0" },
		{ "abi:onnxruntime<=1.16.3", "abi:onnxruntime", "<=", "1.16.3" },
		{ "model:det<3.0.0-rc.1", "model:det", "<", "3.0.0-rc.1" },
		{ "abi:cuda=12.2.0", "abi:cuda", "=", "12.2.0" },
	};
	static const char *const bad[] = {
		"firmware",	    ">=2.0.0",		"firmware>=",	   "firmware>=2.0",
		"firmware >=2.0.0", "firmware==2.0.0",	"firmware=>2.0.0", "kernel>=1.0.0",
		"model:>=1.0.0",    "model:a/b>=1.0.0", "abi:x>>1.0.0",	   "firmware>=2.0.0 ",
	};
	char longest[128];

	(void)state;
	for (size_t i = 0; i < UPK_ARRAY_SIZE(ok); i++) {
		json_t *o = NULL;

		assert_int_equal(upk_bundle_requirement_parse(ok[i].expr, &o, NULL), UPK_OK);
		assert_string_equal(json_string_value(json_object_get(o, "subject")),
				    ok[i].subject);
		assert_string_equal(json_string_value(json_object_get(o, "op")), ok[i].op);
		assert_string_equal(json_string_value(json_object_get(o, "version")),
				    ok[i].version);
		json_decref(o);
	}
	for (size_t i = 0; i < UPK_ARRAY_SIZE(bad); i++) {
		json_t *o = NULL;
		struct upk_diag d;

		upk_diag_clear(&d);
		if (upk_bundle_requirement_parse(bad[i], &o, &d) != UPK_E_USAGE)
			fail_msg("requirement '%s' accepted", bad[i]);
		assert_null(o);
	}
	/* A subject longer than any valid one ("model:" + 64 bytes). */
	{
		json_t *o = NULL;

		memset(longest, 'a', 75);
		snprintf(longest + 75, sizeof(longest) - 75, ">=1.0.0");
		assert_int_equal(upk_bundle_requirement_parse(longest, &o, NULL), UPK_E_USAGE);
		memcpy(longest, "model:", 6);
		snprintf(longest + 6 + 64, sizeof(longest) - 70, ">=1.0.0");
		assert_int_equal(upk_bundle_requirement_parse(longest, &o, NULL), UPK_OK);
		json_decref(o);
	}
}

static void test_advisory_and_names(void **state)
{
	static const char good[] = "{\"summary\": \"Fix\", \"cves\": [\"CVE-2026-0001\"], "
				   "\"severity\": \"critical\", \"action\": \"update now\"}";
	static const char *const bad[] = {
		"",
		"{",
		"[]",
		"{\"summary\": \"Fix\"}",
		"{\"summary\": \"Fix\", \"cves\": [], \"severity\": \"urgent\", \"action\": \"a\"}",
		"{\"summary\": \"Fix\", \"cves\": [], \"severity\": \"low\", \"action\": \"a\", "
		"\"x\": 1}",
		"{\"summary\": \"Fix\", \"cves\": [\"CVE-1\"], \"severity\": \"low\", \"action\": "
		"\"a\"}",
		"{\"summary\": \"Fix\", \"summary\": \"Fix\", \"cves\": [], \"severity\": \"low\", "
		"\"action\": \"a\"}",
	};
	json_t *o = NULL;
	enum upk_bundle_kind k;

	(void)state;
	assert_int_equal(upk_bundle_advisory_parse((const uint8_t *)good, strlen(good), &o, NULL),
			 UPK_OK);
	assert_string_equal(json_string_value(json_object_get(o, "severity")), "critical");
	json_decref(o);
	for (size_t i = 0; i < UPK_ARRAY_SIZE(bad); i++) {
		o = NULL;
		if (upk_bundle_advisory_parse((const uint8_t *)bad[i], strlen(bad[i]), &o, NULL) !=
		    UPK_E_USAGE)
			fail_msg("advisory %zu accepted", i);
		assert_null(o);
	}

	assert_true(upk_bundle_name_is_valid("firmware"));
	assert_true(upk_bundle_name_is_valid("det.v2_int8-q"));
	assert_false(upk_bundle_name_is_valid(NULL));
	assert_false(upk_bundle_name_is_valid(""));
	assert_false(upk_bundle_name_is_valid(".."));
	assert_false(upk_bundle_name_is_valid(".x"));
	assert_false(upk_bundle_name_is_valid("-x"));
	assert_false(upk_bundle_name_is_valid("a/b"));
	assert_false(upk_bundle_name_is_valid("a b"));
	assert_false(upk_bundle_name_is_valid("a\\b"));
	assert_false(upk_bundle_name_is_valid("\xc3\xa9"));
	assert_true(upk_bundle_name_is_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_false(upk_bundle_name_is_valid(
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));

	assert_true(upk_bundle_kind_from_name("mixed", &k) && k == UPK_BUNDLE_KIND_MIXED);
	assert_false(upk_bundle_kind_from_name("Mixed", &k));
	assert_false(upk_bundle_kind_from_name(NULL, &k));
	assert_string_equal(upk_bundle_kind_name((enum upk_bundle_kind)9), "unknown");
	assert_string_equal(upk_bundle_ctype_name(UPK_BUNDLE_MODEL), "model");
	assert_string_equal(upk_bundle_codec_name(UPK_BUNDLE_CODEC_ZLIB), "zlib");
	assert_string_equal(upk_bundle_chunker_name(UPK_BUNDLE_CHUNK_FIXED), "fixed");
	assert_string_equal(upk_bundle_severity_name(UPK_BUNDLE_SEVERITY_NONE), "none");
	assert_string_equal(upk_bundle_op_name(UPK_BUNDLE_OP_LT), "<");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_fields),
		cmocka_unit_test(test_manifest_rejects),
		cmocka_unit_test(test_manifest_limits),
		cmocka_unit_test(test_manifest_bytes),
		cmocka_unit_test(test_header_valid),
		cmocka_unit_test(test_header_tar_rejects),
		cmocka_unit_test(test_header_layout_rejects),
		cmocka_unit_test(test_header_index_rejects),
		cmocka_unit_test(test_custom),
		cmocka_unit_test(test_iter_and_decode),
		cmocka_unit_test(test_decode_bomb),
		cmocka_unit_test(test_chunker),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_requirement_parse),
		cmocka_unit_test(test_advisory_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
