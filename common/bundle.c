/* SPDX-License-Identifier: Apache-2.0 */
#include "bundle.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>
#include <libdeflate.h>

#include "hex.h"
#include "json.h"
#include "tuftime.h"

/* ---- small helpers ---- */

static uint64_t round_up_block(uint64_t x)
{
	return (x + UPK_BUNDLE_TAR_BLOCK - 1) & ~(uint64_t)(UPK_BUNDLE_TAR_BLOCK - 1);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)get_le32(p) | (uint64_t)get_le32(p + 4) << 32;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i])
			return false;
	}
	return true;
}

static enum upk_err nomem(struct upk_diag *d)
{
	return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, "out of memory");
}

/* ---- names ---- */

static const char *const kind_names[] = { "security", "feature", "mixed" };
static const char *const ctype_names[] = { "firmware", "model" };
static const char *const codec_names[] = { "zlib" };
static const char *const chunker_names[] = { "fixed", "block-cdc" };
static const char *const op_names[] = { ">=", ">", "<=", "<", "=" };
static const char *const severity_names[] = { "none", "low", "medium", "high", "critical" };

#define NAME_OF(table, v) ((size_t)(v) < UPK_ARRAY_SIZE(table) ? table[v] : "unknown")

const char *upk_bundle_kind_name(enum upk_bundle_kind k)
{
	return NAME_OF(kind_names, k);
}

const char *upk_bundle_ctype_name(enum upk_bundle_ctype t)
{
	return NAME_OF(ctype_names, t);
}

const char *upk_bundle_codec_name(enum upk_bundle_codec c)
{
	return NAME_OF(codec_names, c);
}

const char *upk_bundle_chunker_name(enum upk_bundle_chunker c)
{
	return NAME_OF(chunker_names, c);
}

const char *upk_bundle_op_name(enum upk_bundle_op op)
{
	return NAME_OF(op_names, op);
}

const char *upk_bundle_severity_name(enum upk_bundle_severity s)
{
	return NAME_OF(severity_names, s);
}

/* Index of s in table, or -1. */
static int lookup(const char *const *table, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(table[i], s) == 0)
			return (int)i;
	}
	return -1;
}

bool upk_bundle_kind_from_name(const char *s, enum upk_bundle_kind *ret)
{
	int i = s ? lookup(kind_names, UPK_ARRAY_SIZE(kind_names), s) : -1;

	if (i < 0)
		return false;
	*ret = (enum upk_bundle_kind)i;
	return true;
}

/*
 * Names become tar member names ("data/NAME") and path segments on devices
 * (models/NAME/VERSION/): one segment, no leading dot, nothing a shell or a
 * URL would read specially.
 */
bool upk_bundle_name_is_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > UPK_BUNDLE_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Hardware identifiers also allow ':' and '+' ("imx8mp:rev-b", "board+wifi"). */
bool upk_bundle_hardware_is_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > UPK_BUNDLE_NAME_MAX || s[0] == '.' || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == ':' || c == '+'))
			return false;
	}
	return true;
}

/* Free text shown to people: 1..max bytes, no control characters (terminal safety). */
static bool text_is_valid(const json_t *v, size_t max)
{
	size_t n = json_string_length(v);
	const unsigned char *s = (const unsigned char *)json_string_value(v);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return false;
	}
	return true;
}

/* "CVE-" four digits "-" four to nineteen digits (the CVE id syntax since 2014). */
static bool cve_is_valid(const char *s)
{
	size_t n = strlen(s), digits = 0;

	if (n < 13 || strncmp(s, "CVE-", 4) != 0)
		return false;
	for (size_t i = 4; i < 8; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	if (s[8] != '-')
		return false;
	for (size_t i = 9; i < n; i++, digits++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return digits >= 4 && digits <= 19;
}

/* ---- JSON field access ---- */

/* jansson's read-only calls take json_t *; this launders const (as json.c does). */
static json_t *json_mut(const json_t *v)
{
	return (json_t *)(uintptr_t)v;
}

/* Refuse members not in `allowed` (NULL-terminated): new fields need a new format version. */
static enum upk_err check_keys(const json_t *obj, const char *const *allowed,
			       struct upk_diag *reterr_diag)
{
	const char *key;
	json_t *v;

	json_object_foreach (json_mut(obj), key, v) {
		bool ok = false;

		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(*a, key) == 0;
		if (!ok)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, key, -1, "unknown member");
	}
	return UPK_OK;
}

static enum upk_err get_u64(const json_t *obj, const char *key, uint64_t min, uint64_t max,
			    uint64_t *ret, struct upk_diag *reterr_diag)
{
	int64_t v = 0;
	enum upk_err r;

	assert(max <= INT64_MAX);
	r = upk_json_get_int(obj, key, (int64_t)min, (int64_t)max, &v, reterr_diag);
	if (r)
		return r;
	*ret = (uint64_t)v;
	return UPK_OK;
}

static enum upk_err get_sha256(const json_t *obj, const char *key, uint8_t ret[UPK_SHA256_LEN],
			       struct upk_diag *reterr_diag)
{
	const char *s = NULL;
	enum upk_err r = upk_json_get_str(obj, key, &s, reterr_diag);

	if (r)
		return r;
	if (!upk_hex_is_valid(s, 2 * UPK_SHA256_LEN) ||
	    upk_hex_decode(s, 2 * UPK_SHA256_LEN, ret, UPK_SHA256_LEN, NULL) != UPK_OK)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, key, -1,
				    "not 64 lower-case hex digits");
	return UPK_OK;
}

/* A string member that must be one of table's names. */
static enum upk_err get_enum(const json_t *obj, const char *key, const char *const *table, size_t n,
			     int *ret, struct upk_diag *reterr_diag)
{
	const char *s = NULL;
	enum upk_err r = upk_json_get_str(obj, key, &s, reterr_diag);
	int i;

	if (r)
		return r;
	i = lookup(table, n, s);
	if (i < 0)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, key, -1, "unknown value '%.64s'", s);
	*ret = i;
	return UPK_OK;
}

static enum upk_err get_text(const json_t *obj, const char *key, size_t max, const char **ret,
			     struct upk_diag *reterr_diag)
{
	const char *s = NULL;
	enum upk_err r = upk_json_get_str(obj, key, &s, reterr_diag);

	if (r)
		return r;
	if (!text_is_valid(json_object_get(obj, key), max))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, key, -1,
				    "must be 1 to %zu bytes without control characters", max);
	*ret = s;
	return UPK_OK;
}

/* Prefix diag->where with the member an inner error belongs to ("components[3]: size"). */
static enum upk_err in_field(struct upk_diag *d, enum upk_err r, const char *array, size_t i)
{
	char prefix[64];

	if (r && d) {
		snprintf(prefix, sizeof(prefix), "%s[%zu]", array, i);
		upk_diag_prefix_where(d, prefix);
	}
	return r;
}

static enum upk_err in_member(struct upk_diag *d, enum upk_err r, const char *name)
{
	if (r)
		upk_diag_prefix_where(d, name);
	return r;
}

/* ---- parsing the release object ---- */

enum mode {
	MODE_MANIFEST,
	MODE_CUSTOM,
};

static enum upk_err chunking_check(const struct upk_bundle_chunking *p,
				   struct upk_diag *reterr_diag)
{
	switch (p->alg) {
	case UPK_BUNDLE_CHUNK_FIXED:
		if (p->min != p->max || p->block != p->min || p->mask_bits != 0 ||
		    p->min < UPK_BUNDLE_CDC_BLOCK || p->min > UPK_BUNDLE_MAX_CHUNK ||
		    p->min % UPK_BUNDLE_CDC_BLOCK)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "size", -1,
					    "fixed chunks are a multiple of 4096 bytes up to "
					    "4 MiB");
		return UPK_OK;
	case UPK_BUNDLE_CHUNK_BLOCK_CDC:
		if (p->block < 512 || p->block > 65536 || (p->block & (p->block - 1)))
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "block", -1,
					    "not a power of two in [512, 65536]");
		if (p->min < p->block || p->min % p->block || p->max < p->min ||
		    p->max % p->block || p->max > UPK_BUNDLE_MAX_CHUNK)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "min", -1,
					    "need block <= min <= max <= 4 MiB, multiples of "
					    "block");
		if (p->mask_bits > 16)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "mask_bits", -1, "above 16");
		return UPK_OK;
	}
	return upk_diag_set(reterr_diag, UPK_E_UNSUPPORTED, "algorithm", -1, "unknown chunking");
}

static enum upk_err parse_chunking(const json_t *o, struct upk_bundle_chunking *ret,
				   struct upk_diag *reterr_diag)
{
	static const char *const fixed_keys[] = { "algorithm", "size", NULL };
	static const char *const cdc_keys[] = { "algorithm", "block",	  "min",
						"max",	     "mask_bits", NULL };
	struct upk_bundle_chunking p = { 0 };
	const char *alg = NULL;
	uint64_t v[4] = { 0 };
	enum upk_err r;

	if (!json_is_object(o))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "not an object");
	r = upk_json_get_str(o, "algorithm", &alg, reterr_diag);
	if (r)
		return r;
	if (strcmp(alg, "fixed") == 0) {
		r = check_keys(o, fixed_keys, reterr_diag);
		if (!r)
			r = get_u64(o, "size", 1, UPK_BUNDLE_MAX_CHUNK, &v[0], reterr_diag);
		if (r)
			return r;
		p.alg = UPK_BUNDLE_CHUNK_FIXED;
		p.block = p.min = p.max = (uint32_t)v[0];
	} else if (strcmp(alg, "block-cdc") == 0) {
		r = check_keys(o, cdc_keys, reterr_diag);
		if (!r)
			r = get_u64(o, "block", 1, UPK_BUNDLE_MAX_CHUNK, &v[0], reterr_diag);
		if (!r)
			r = get_u64(o, "min", 1, UPK_BUNDLE_MAX_CHUNK, &v[1], reterr_diag);
		if (!r)
			r = get_u64(o, "max", 1, UPK_BUNDLE_MAX_CHUNK, &v[2], reterr_diag);
		if (!r)
			r = get_u64(o, "mask_bits", 0, 64, &v[3], reterr_diag);
		if (r)
			return r;
		p.alg = UPK_BUNDLE_CHUNK_BLOCK_CDC;
		p.block = (uint32_t)v[0];
		p.min = (uint32_t)v[1];
		p.max = (uint32_t)v[2];
		p.mask_bits = (uint32_t)v[3];
	} else {
		return upk_diag_set(reterr_diag, UPK_E_UNSUPPORTED, "algorithm", -1,
				    "unknown chunking '%.32s'", alg);
	}
	r = chunking_check(&p, reterr_diag);
	if (r)
		return r;
	*ret = p;
	return UPK_OK;
}

static uint64_t div_up(uint64_t a, uint64_t b)
{
	return a / b + (a % b != 0);
}

static enum upk_err parse_component(const json_t *o, enum mode mode,
				    struct upk_bundle_component *ret, struct upk_diag *reterr_diag)
{
	static const char *const manifest_keys[] = { "name",	 "type",	"size",
						     "sha256",	 "chunks",	"codec",
						     "chunking", "data_offset", "data_length",
						     NULL };
	static const char *const custom_keys[] = { "name",   "type",  "size", "sha256",
						   "chunks", "codec", NULL };
	struct upk_bundle_component c = { 0 };
	int type = 0, codec = 0;
	enum upk_err r;

	if (!json_is_object(o))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "not an object");
	r = check_keys(o, mode == MODE_MANIFEST ? manifest_keys : custom_keys, reterr_diag);
	if (!r)
		r = upk_json_get_str(o, "name", &c.name, reterr_diag);
	if (!r && !upk_bundle_name_is_valid(c.name))
		r = upk_diag_set(reterr_diag, UPK_E_FORMAT, "name", -1,
				 "not a name ([A-Za-z0-9][A-Za-z0-9._-]*, at most 64 bytes)");
	if (!r)
		r = get_enum(o, "type", ctype_names, UPK_ARRAY_SIZE(ctype_names), &type,
			     reterr_diag);
	if (!r)
		r = get_u64(o, "size", 1, UPK_BUNDLE_MAX_COMPONENT, &c.size, reterr_diag);
	if (!r)
		r = get_sha256(o, "sha256", c.sha256, reterr_diag);
	if (!r)
		r = get_u64(o, "chunks", 1, UPK_BUNDLE_MAX_CHUNKS, &c.chunks, reterr_diag);
	if (!r) {
		const char *s = NULL;

		r = upk_json_get_str(o, "codec", &s, reterr_diag);
		if (!r && (codec = lookup(codec_names, UPK_ARRAY_SIZE(codec_names), s)) < 0)
			r = upk_diag_set(reterr_diag, UPK_E_UNSUPPORTED, "codec", -1,
					 "unknown codec '%.32s'", s);
	}
	if (r)
		return r;
	c.type = (enum upk_bundle_ctype)type;
	c.codec = (enum upk_bundle_codec)codec;
	/* Every chunk holds 1..UPK_BUNDLE_MAX_CHUNK bytes. */
	if (c.chunks > c.size || c.chunks < div_up(c.size, UPK_BUNDLE_MAX_CHUNK))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "chunks", -1,
				    "%llu chunks cannot hold %llu bytes",
				    (unsigned long long)c.chunks, (unsigned long long)c.size);
	if (mode == MODE_MANIFEST) {
		json_t *ch = json_object_get(o, "chunking");

		if (!ch)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "chunking", -1, "missing");
		r = in_member(reterr_diag, parse_chunking(ch, &c.chunking, reterr_diag),
			      "chunking");
		if (!r)
			r = get_u64(o, "data_offset", UPK_BUNDLE_MIN_HEADER, INT64_MAX,
				    &c.data_offset, reterr_diag);
		if (!r)
			r = get_u64(o, "data_length", 1, UPK_BUNDLE_MAX_MEMBER, &c.data_length,
				    reterr_diag);
		if (r)
			return r;
		/* Chunk counts the chunking allows: all full but the last, or at least min. */
		if (c.chunks < div_up(c.size, c.chunking.max) ||
		    (c.chunking.alg == UPK_BUNDLE_CHUNK_FIXED &&
		     c.chunks != div_up(c.size, c.chunking.max)) ||
		    c.chunks > (c.size - 1) / c.chunking.min + 1)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "chunks", -1,
					    "%llu chunks do not fit %llu bytes with this chunking",
					    (unsigned long long)c.chunks,
					    (unsigned long long)c.size);
	}
	*ret = c;
	return UPK_OK;
}

static enum upk_err parse_requirement(const json_t *o, struct upk_bundle_requirement *ret,
				      struct upk_diag *reterr_diag)
{
	static const char *const keys[] = { "subject", "op", "version", NULL };
	struct upk_bundle_requirement q = { 0 };
	const char *name = NULL;
	int op = 0;
	enum upk_err r;

	if (!json_is_object(o))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "not an object");
	r = check_keys(o, keys, reterr_diag);
	if (!r)
		r = upk_json_get_str(o, "subject", &q.subject, reterr_diag);
	if (!r) {
		if (strncmp(q.subject, "model:", 6) == 0)
			name = q.subject + 6;
		else if (strncmp(q.subject, "abi:", 4) == 0)
			name = q.subject + 4;
		if (strcmp(q.subject, "firmware") != 0 && !upk_bundle_name_is_valid(name))
			r = upk_diag_set(reterr_diag, UPK_E_FORMAT, "subject", -1,
					 "not firmware, model:NAME or abi:NAME");
	}
	if (!r)
		r = get_enum(o, "op", op_names, UPK_ARRAY_SIZE(op_names), &op, reterr_diag);
	if (!r)
		r = upk_json_get_str(o, "version", &q.version, reterr_diag);
	if (!r && upk_semver_parse(q.version, &q.semver) != UPK_OK)
		r = upk_diag_set(reterr_diag, UPK_E_FORMAT, "version", -1,
				 "not a SemVer 2.0.0 version");
	if (r)
		return r;
	q.op = (enum upk_bundle_op)op;
	*ret = q;
	return UPK_OK;
}

static enum upk_err parse_advisory(const json_t *o, struct upk_bundle_advisory *ret,
				   struct upk_diag *reterr_diag)
{
	static const char *const keys[] = { "summary", "cves", "severity", "action", NULL };
	struct upk_bundle_advisory a = { 0 };
	json_t *cves = NULL, *v;
	int sev = 0;
	size_t i;
	enum upk_err r;

	if (!json_is_object(o))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "not an object");
	r = check_keys(o, keys, reterr_diag);
	if (!r)
		r = get_text(o, "summary", UPK_BUNDLE_SUMMARY_MAX, &a.summary, reterr_diag);
	if (!r)
		r = get_enum(o, "severity", severity_names, UPK_ARRAY_SIZE(severity_names), &sev,
			     reterr_diag);
	if (!r)
		r = get_text(o, "action", UPK_BUNDLE_TEXT_MAX, &a.action, reterr_diag);
	if (!r)
		r = upk_json_get_arr(o, "cves", &cves, reterr_diag);
	if (r)
		return r;
	if (json_array_size(cves) > UPK_BUNDLE_MAX_CVES)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "cves", -1, "more than %d entries",
				    UPK_BUNDLE_MAX_CVES);
	a.n_cves = json_array_size(cves);
	if (a.n_cves) {
		a.cves = calloc(a.n_cves, sizeof(*a.cves));
		if (!a.cves)
			return nomem(reterr_diag);
	}
	json_array_foreach (cves, i, v) {
		const char *s = json_string_value(v);

		if (!s || strlen(s) != json_string_length(v) || !cve_is_valid(s)) {
			free(a.cves);
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "cves", -1,
					    "entry %zu is not a CVE id (CVE-YYYY-NNNN)", i);
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(a.cves[k], s) == 0) {
				free(a.cves);
				return upk_diag_set(reterr_diag, UPK_E_FORMAT, "cves", -1,
						    "%.32s is listed twice", s);
			}
		}
		a.cves[i] = s;
	}
	a.severity = (enum upk_bundle_severity)sev;
	*ret = a;
	return UPK_OK;
}

static enum upk_err parse_hardware(const json_t *arr, struct upk_bundle_manifest *m,
				   struct upk_diag *reterr_diag)
{
	size_t n = json_array_size(arr), i;
	json_t *v;

	if (n == 0 || n > UPK_BUNDLE_MAX_HARDWARE)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "hardware", -1,
				    "needs 1 to %d entries", UPK_BUNDLE_MAX_HARDWARE);
	m->hardware = calloc(n, sizeof(*m->hardware));
	if (!m->hardware)
		return nomem(reterr_diag);
	json_array_foreach (arr, i, v) {
		const char *s = json_string_value(v);

		if (!s || strlen(s) != json_string_length(v) || !upk_bundle_hardware_is_valid(s))
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "hardware", -1,
					    "entry %zu is not a hardware id", i);
		for (size_t k = 0; k < i; k++) {
			if (strcmp(m->hardware[k], s) == 0)
				return upk_diag_set(reterr_diag, UPK_E_FORMAT, "hardware", -1,
						    "'%.64s' is listed twice", s);
		}
		m->hardware[i] = s;
		m->n_hardware = i + 1;
	}
	return UPK_OK;
}

static enum upk_err parse_requirements(const json_t *arr, struct upk_bundle_manifest *m,
				       struct upk_diag *reterr_diag)
{
	size_t n = json_array_size(arr), i;
	json_t *v;

	if (n > UPK_BUNDLE_MAX_REQUIREMENTS)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "requirements", -1,
				    "more than %d entries", UPK_BUNDLE_MAX_REQUIREMENTS);
	if (n) {
		m->requirements = calloc(n, sizeof(*m->requirements));
		if (!m->requirements)
			return nomem(reterr_diag);
	}
	json_array_foreach (arr, i, v) {
		enum upk_err r = in_field(reterr_diag,
					  parse_requirement(v, &m->requirements[i], reterr_diag),
					  "requirements", i);

		if (r)
			return r;
		m->n_requirements = i + 1;
	}
	return UPK_OK;
}

static enum upk_err parse_components(const json_t *arr, enum mode mode,
				     struct upk_bundle_manifest *m, struct upk_diag *reterr_diag)
{
	size_t n = json_array_size(arr), i, firmware = 0;
	json_t *v;

	if (n == 0 || n > UPK_BUNDLE_MAX_COMPONENTS)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "components", -1,
				    "needs 1 to %d entries", UPK_BUNDLE_MAX_COMPONENTS);
	m->components = calloc(n, sizeof(*m->components));
	if (!m->components)
		return nomem(reterr_diag);
	json_array_foreach (arr, i, v) {
		struct upk_bundle_component *c = &m->components[i];
		enum upk_err r = in_field(reterr_diag, parse_component(v, mode, c, reterr_diag),
					  "components", i);

		if (r)
			return r;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(m->components[k].name, c->name) == 0)
				return upk_diag_set(reterr_diag, UPK_E_FORMAT, "components", -1,
						    "component '%s' is listed twice", c->name);
		}
		if (c->type == UPK_BUNDLE_FIRMWARE && ++firmware > 1)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "components", -1,
					    "more than one firmware component");
		m->n_components = i + 1;
	}
	return UPK_OK;
}

/* "YYYY-MM-DD", a real date (upk_time_parse checks days per month). */
static enum upk_err parse_date(const char *s, int64_t *ret)
{
	char buf[UPK_TIME_STR_LEN + 1];

	if (strlen(s) != UPK_BUNDLE_SUPPORT_END_LEN)
		return UPK_E_FORMAT;
	snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
	return upk_time_parse(buf, ret);
}

static enum upk_err parse_sbom(const json_t *o, enum mode mode, struct upk_bundle_manifest *m,
			       struct upk_diag *reterr_diag)
{
	static const char *const manifest_keys[] = { "sha256", "size", "offset", NULL };
	static const char *const custom_keys[] = { "sha256", "size", NULL };
	enum upk_err r;

	if (!json_is_object(o))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "not an object");
	r = check_keys(o, mode == MODE_MANIFEST ? manifest_keys : custom_keys, reterr_diag);
	if (!r)
		r = get_sha256(o, "sha256", m->sbom_sha256, reterr_diag);
	if (!r)
		r = get_u64(o, "size", 1, UPK_BUNDLE_MAX_SBOM, &m->sbom_size, reterr_diag);
	if (!r && mode == MODE_MANIFEST)
		r = get_u64(o, "offset", UPK_BUNDLE_MIN_HEADER, INT64_MAX, &m->sbom_offset,
			    reterr_diag);
	if (!r)
		m->has_sbom = true;
	return r;
}

static enum upk_err parse_header_ref(const json_t *o, struct upk_bundle_manifest *m,
				     struct upk_diag *reterr_diag)
{
	static const char *const keys[] = { "length", "sha256", NULL };
	enum upk_err r;

	if (!json_is_object(o))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "not an object");
	r = check_keys(o, keys, reterr_diag);
	if (!r)
		r = get_u64(o, "length", UPK_BUNDLE_MIN_HEADER, UPK_BUNDLE_MAX_HEADER,
			    &m->header_length, reterr_diag);
	if (!r)
		r = get_sha256(o, "sha256", m->header_sha256, reterr_diag);
	return r;
}

static enum upk_err parse_release(struct upk_bundle_manifest *m, enum mode mode,
				  struct upk_diag *reterr_diag)
{
	static const char *const manifest_keys[] = {
		"format",     "format_version",	  "product", "hardware",     "version",
		"build_time", "security_version", "kind",    "mixed_reason", "requirements",
		"components", "support_end",	  "sbom",    "advisory",     NULL
	};
	static const char *const custom_keys[] = {
		"format_version",   "product",	   "hardware",	   "version",	   "build_time",
		"security_version", "kind",	   "mixed_reason", "requirements", "components",
		"header",	    "support_end", "sbom",	   "advisory",	   NULL
	};
	const json_t *o = m->doc;
	json_t *arr = NULL, *v;
	uint64_t fv = 0;
	int kind = 0;
	enum upk_err r;

	if (!json_is_object(o))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "not a JSON object");
	/* The version first: a newer format is "unsupported", not "malformed". */
	r = get_u64(o, "format_version", 1, INT64_MAX, &fv, reterr_diag);
	if (r)
		return r;
	if (fv != UPK_BUNDLE_FORMAT_VERSION)
		return upk_diag_set(reterr_diag, UPK_E_UNSUPPORTED, "format_version", -1,
				    "bundle format version %llu (this reads version %d)",
				    (unsigned long long)fv, UPK_BUNDLE_FORMAT_VERSION);
	r = check_keys(o, mode == MODE_MANIFEST ? manifest_keys : custom_keys, reterr_diag);
	if (r)
		return r;
	if (mode == MODE_MANIFEST) {
		const char *f = NULL;

		r = upk_json_get_str(o, "format", &f, reterr_diag);
		if (r)
			return r;
		if (strcmp(f, UPK_BUNDLE_FORMAT) != 0)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "format", -1,
					    "not \"" UPK_BUNDLE_FORMAT "\"");
	}
	r = upk_json_get_str(o, "product", &m->product, reterr_diag);
	if (!r && !upk_bundle_name_is_valid(m->product))
		r = upk_diag_set(reterr_diag, UPK_E_FORMAT, "product", -1, "not a name");
	if (!r)
		r = upk_json_get_arr(o, "hardware", &arr, reterr_diag);
	if (!r)
		r = parse_hardware(arr, m, reterr_diag);
	if (!r)
		r = upk_json_get_str(o, "version", &m->version, reterr_diag);
	if (!r && upk_semver_parse(m->version, &m->semver) != UPK_OK)
		r = upk_diag_set(reterr_diag, UPK_E_FORMAT, "version", -1,
				 "not a SemVer 2.0.0 version");
	if (!r)
		r = upk_json_get_str(o, "build_time", &m->build_time_str, reterr_diag);
	if (!r && upk_time_parse(m->build_time_str, &m->build_time) != UPK_OK)
		r = upk_diag_set(reterr_diag, UPK_E_FORMAT, "build_time", -1,
				 "not YYYY-MM-DDTHH:MM:SSZ");
	if (!r)
		r = get_u64(o, "security_version", 0, INT64_MAX, &m->security_version, reterr_diag);
	if (!r)
		r = get_enum(o, "kind", kind_names, UPK_ARRAY_SIZE(kind_names), &kind, reterr_diag);
	if (r)
		return r;
	m->kind = (enum upk_bundle_kind)kind;
	if (json_object_get(o, "mixed_reason")) {
		if (m->kind != UPK_BUNDLE_KIND_MIXED)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "mixed_reason", -1,
					    "only a mixed release has a mixed_reason");
		r = get_text(o, "mixed_reason", UPK_BUNDLE_TEXT_MAX, &m->mixed_reason, reterr_diag);
		if (r)
			return r;
	}
	r = upk_json_get_arr(o, "requirements", &arr, reterr_diag);
	if (!r)
		r = parse_requirements(arr, m, reterr_diag);
	if (!r)
		r = upk_json_get_arr(o, "components", &arr, reterr_diag);
	if (!r)
		r = parse_components(arr, mode, m, reterr_diag);
	if (r)
		return r;
	if ((v = json_object_get(o, "support_end"))) {
		r = upk_json_get_str(o, "support_end", &m->support_end_str, reterr_diag);
		if (!r && parse_date(m->support_end_str, &m->support_end) != UPK_OK)
			r = upk_diag_set(reterr_diag, UPK_E_FORMAT, "support_end", -1,
					 "not a date YYYY-MM-DD");
		if (r)
			return r;
	}
	if ((v = json_object_get(o, "sbom"))) {
		r = in_member(reterr_diag, parse_sbom(v, mode, m, reterr_diag), "sbom");
		if (r)
			return r;
	}
	if ((v = json_object_get(o, "advisory"))) {
		r = in_member(reterr_diag, parse_advisory(v, &m->advisory, reterr_diag),
			      "advisory");
		if (r)
			return r;
		m->has_advisory = true;
	}
	if (mode == MODE_CUSTOM) {
		v = json_object_get(o, "header");
		if (!v)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "header", -1, "missing");
		r = in_member(reterr_diag, parse_header_ref(v, m, reterr_diag), "header");
		if (r)
			return r;
	}
	return UPK_OK;
}

void upk_bundle_manifest_free(struct upk_bundle_manifest *m)
{
	if (!m)
		return;
	free(m->hardware);
	free(m->requirements);
	free(m->advisory.cves);
	free(m->components);
	if (m->doc)
		json_decref(m->doc);
	free(m);
}

static enum upk_err release_new(json_t *doc, enum mode mode, struct upk_bundle_manifest **ret,
				struct upk_diag *reterr_diag)
{
	_cleanup_(upk_bundle_manifest_freep) struct upk_bundle_manifest *m = calloc(1, sizeof(*m));
	enum upk_err r;

	if (!m) {
		json_decref(doc);
		return nomem(reterr_diag);
	}
	m->doc = doc;
	m->is_custom = mode == MODE_CUSTOM;
	r = parse_release(m, mode, reterr_diag);
	if (r)
		return r;
	*ret = m;
	m = NULL;
	return UPK_OK;
}

enum upk_err upk_bundle_manifest_from_json(json_t *doc, struct upk_bundle_manifest **ret,
					   struct upk_diag *reterr_diag)
{
	return release_new(doc, MODE_MANIFEST, ret, reterr_diag);
}

enum upk_err upk_bundle_manifest_parse(const uint8_t *data, size_t len,
				       struct upk_bundle_manifest **ret,
				       struct upk_diag *reterr_diag)
{
	_cleanup_(upk_bundle_manifest_freep) struct upk_bundle_manifest *m = NULL;
	_cleanup_buf_ struct upk_buf canon = UPK_BUF_INIT;
	json_t *doc = NULL;
	enum upk_err r;

	r = upk_json_parse(data, len, UPK_BUNDLE_MAX_MANIFEST, &doc, reterr_diag);
	if (r)
		return r;
	r = release_new(doc, MODE_MANIFEST, &m, reterr_diag);
	if (r)
		return r;
	r = upk_json_canonical(m->doc, &canon, reterr_diag);
	if (r)
		return r;
	if (canon.len != len || memcmp(canon.data, data, len) != 0)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1,
				    "not in canonical JSON form");
	*ret = m;
	m = NULL;
	return UPK_OK;
}

enum upk_err upk_bundle_custom_parse(const json_t *upkeep, struct upk_bundle_manifest **ret,
				     struct upk_diag *reterr_diag)
{
	if (!upkeep)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "missing");
	return release_new(json_incref(json_mut(upkeep)), MODE_CUSTOM, ret, reterr_diag);
}

/* Both members absent, or both present and equal. */
static bool member_equal(const json_t *a, const json_t *b, const char *key)
{
	const json_t *x = json_object_get(a, key), *y = json_object_get(b, key);

	if (!x || !y)
		return !x && !y;
	return json_equal(json_mut(x), json_mut(y));
}

enum upk_err upk_bundle_custom_matches(const struct upk_bundle_manifest *custom,
				       const struct upk_bundle_manifest *manifest,
				       struct upk_diag *reterr_diag)
{
	static const char *const release_keys[] = { "product",	    "hardware",		"version",
						    "build_time",   "security_version", "kind",
						    "requirements", "support_end" };
	static const char *const component_keys[] = { "name",	"type",	  "size",
						      "sha256", "chunks", "codec" };
	const json_t *cs = json_object_get(custom->doc, "sbom");
	const json_t *ms = json_object_get(manifest->doc, "sbom");

	for (size_t i = 0; i < UPK_ARRAY_SIZE(release_keys); i++) {
		if (!member_equal(custom->doc, manifest->doc, release_keys[i]))
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, release_keys[i], -1,
					    "the signed target entry and the bundle differ");
	}
	if ((!cs) != (!ms) ||
	    (cs && (!member_equal(cs, ms, "sha256") || !member_equal(cs, ms, "size"))))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "sbom", -1,
				    "the signed target entry and the bundle differ");
	if (custom->n_components != manifest->n_components)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "components", -1,
				    "the signed target entry lists %zu components, the bundle %zu",
				    custom->n_components, manifest->n_components);
	for (size_t i = 0; i < custom->n_components; i++) {
		const json_t *a = json_array_get(json_object_get(custom->doc, "components"), i);
		const json_t *b = json_array_get(json_object_get(manifest->doc, "components"), i);

		for (size_t k = 0; k < UPK_ARRAY_SIZE(component_keys); k++) {
			if (!member_equal(a, b, component_keys[k]))
				return upk_diag_set(reterr_diag, UPK_E_FORMAT, "components", -1,
						    "component %zu: %s differs from the signed "
						    "target entry",
						    i, component_keys[k]);
		}
	}
	return UPK_OK;
}

/* ---- tar ---- */

/* An octal field: optional leading spaces, digits, then NUL or space to its end. */
static bool parse_octal(const uint8_t *f, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0, digits = 0;

	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++, digits++) {
		if (v >> 60)
			return false;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	if (digits == 0)
		return false;
	for (; i < n; i++) {
		if (f[i] != 0 && f[i] != ' ')
			return false;
	}
	*ret = v;
	return true;
}

enum upk_err upk_bundle_tar_check(const uint8_t block[UPK_BUNDLE_TAR_BLOCK],
				  const char *expect_name, uint64_t *ret_size,
				  struct upk_diag *reterr_diag)
{
	size_t nlen = strlen(expect_name);
	uint64_t sum = 0, want = 0, size = 0;

	assert(nlen < UPK_BUNDLE_TAR_NAME_MAX);
	if (memcmp(block + 257,
		   "ustar\0"
		   "00",
		   8) != 0)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, expect_name, -1,
				    "not a ustar header");
	for (size_t i = 0; i < UPK_BUNDLE_TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : block[i];
	if (!parse_octal(block + 148, 8, &want) || want != sum)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, expect_name, -1,
				    "tar header checksum mismatch");
	if (block[156] != '0')
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, expect_name, -1,
				    "tar member is not a regular file");
	if (memcmp(block, expect_name, nlen) != 0 ||
	    !all_zero(block + nlen, UPK_BUNDLE_TAR_NAME_MAX - nlen) || block[345] != 0)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, expect_name, -1,
				    "tar member is not named %s", expect_name);
	if (!parse_octal(block + 124, 12, &size))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, expect_name, -1,
				    "tar member size is not an octal number");
	*ret_size = size;
	return UPK_OK;
}

/* ---- layout ---- */

enum upk_err upk_bundle_layout_compute(uint64_t manifest_len, size_t n, const uint64_t *index_len,
				       const uint64_t *data_len, uint64_t sbom_len,
				       struct upk_bundle_layout *ret, struct upk_diag *reterr_diag)
{
	struct upk_bundle_layout l;
	uint64_t off;

	memset(&l, 0, sizeof(l));
	if (n == 0 || n > UPK_BUNDLE_MAX_COMPONENTS)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "components", -1,
				    "needs 1 to %d components", UPK_BUNDLE_MAX_COMPONENTS);
	if (manifest_len > UPK_BUNDLE_MAX_MANIFEST || sbom_len > UPK_BUNDLE_MAX_SBOM)
		return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, NULL, -1,
				    "manifest or SBOM above its limit");
	for (size_t i = 0; i < n; i++) {
		if (index_len[i] > UPK_BUNDLE_MAX_MEMBER || data_len[i] > UPK_BUNDLE_MAX_MEMBER)
			return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, NULL, -1,
					    "component %zu is above the tar member limit", i);
	}
	/* n <= 64 members of < 2^33 bytes each: no sum below can overflow 64 bits. */
	l.manifest_offset = UPK_BUNDLE_TAR_BLOCK;
	off = l.manifest_offset + round_up_block(manifest_len);
	for (size_t i = 0; i < n; i++) {
		l.index_offset[i] = off + UPK_BUNDLE_TAR_BLOCK;
		off = l.index_offset[i] + round_up_block(index_len[i]);
	}
	for (size_t i = 0; i < n; i++) {
		l.data_offset[i] = off + UPK_BUNDLE_TAR_BLOCK;
		off = l.data_offset[i] + round_up_block(data_len[i]);
	}
	if (sbom_len) {
		l.sbom_offset = off + UPK_BUNDLE_TAR_BLOCK;
		off = l.sbom_offset + round_up_block(sbom_len);
	}
	l.header_length = l.data_offset[0];
	l.file_length = off + 2 * UPK_BUNDLE_TAR_BLOCK;
	*ret = l;
	return UPK_OK;
}

static uint64_t index_length(uint64_t chunks)
{
	return UPK_BUNDLE_INDEX_HEAD + chunks * UPK_BUNDLE_INDEX_ENTRY;
}

static enum upk_err layout_of(const struct upk_bundle_manifest *m, uint64_t manifest_len,
			      struct upk_bundle_layout *ret, struct upk_diag *reterr_diag)
{
	uint64_t ilen[UPK_BUNDLE_MAX_COMPONENTS], dlen[UPK_BUNDLE_MAX_COMPONENTS];

	for (size_t i = 0; i < m->n_components; i++) {
		ilen[i] = index_length(m->components[i].chunks);
		dlen[i] = m->components[i].data_length;
	}
	return upk_bundle_layout_compute(manifest_len, m->n_components, ilen, dlen,
					 m->has_sbom ? m->sbom_size : 0, ret, reterr_diag);
}

/* ---- the header ---- */

static void index_entry(const uint8_t *e, uint32_t *size, uint32_t *csize, const uint8_t **sha)
{
	*size = get_le32(e);
	*csize = get_le32(e + 4);
	*sha = e + 8;
}

/* One component's index: head, then each entry against the chunking rules and the sums. */
static enum upk_err check_index(const struct upk_bundle_component *c, const uint8_t *idx,
				struct upk_diag *reterr_diag)
{
	const struct upk_bundle_chunking *p = &c->chunking;
	uint64_t total = 0, stored = 0;

	if (memcmp(idx, UPK_BUNDLE_INDEX_MAGIC, 8) != 0)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, 0, "bad index magic");
	if (get_le32(idx + 8) != c->chunks)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, 8,
				    "index holds %u chunks, the manifest says %llu",
				    get_le32(idx + 8), (unsigned long long)c->chunks);
	if (get_le32(idx + 12) != 0)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, 12,
				    "reserved index field is not zero");
	for (uint64_t i = 0; i < c->chunks; i++) {
		const uint8_t *e = idx + UPK_BUNDLE_INDEX_HEAD + i * UPK_BUNDLE_INDEX_ENTRY;
		int64_t at = (int64_t)(UPK_BUNDLE_INDEX_HEAD + i * UPK_BUNDLE_INDEX_ENTRY);
		bool last = i + 1 == c->chunks;
		uint32_t size, csize;
		const uint8_t *sha;

		index_entry(e, &size, &csize, &sha);
		if (size == 0 || size > p->max)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, at,
					    "chunk %llu: size %u outside 1..%u",
					    (unsigned long long)i, size, p->max);
		if (!last && (size < p->min || size % p->block))
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, at,
					    "chunk %llu: size %u breaks the %s chunking rule",
					    (unsigned long long)i, size,
					    upk_bundle_chunker_name(p->alg));
		/* A compressed chunk is smaller than its data, or it is stored raw. */
		if (csize >= size)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, at + 4,
					    "chunk %llu: stored size %u not below size %u",
					    (unsigned long long)i, csize, size);
		total += size;
		stored += csize ? csize : size;
	}
	if (total != c->size)
		return upk_diag_set(reterr_diag, UPK_E_LENGTH, NULL, -1,
				    "chunks hold %llu bytes, the component %llu",
				    (unsigned long long)total, (unsigned long long)c->size);
	if (stored != c->data_length)
		return upk_diag_set(reterr_diag, UPK_E_LENGTH, NULL, -1,
				    "chunks store %llu bytes, data_length says %llu",
				    (unsigned long long)stored, (unsigned long long)c->data_length);
	return UPK_OK;
}

/* The first member: a ustar header for manifest.json with a plausible size. */
static enum upk_err first_member(const uint8_t *data, size_t len, uint64_t *ret_mlen,
				 struct upk_diag *reterr_diag)
{
	uint64_t mlen = 0;
	enum upk_err r;

	if (len < UPK_BUNDLE_TAR_BLOCK)
		return upk_diag_set(reterr_diag, UPK_E_LENGTH, NULL, -1,
				    "shorter than one tar record");
	r = upk_bundle_tar_check(data, UPK_BUNDLE_MANIFEST_MEMBER, &mlen, reterr_diag);
	if (r)
		return r;
	if (mlen == 0)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, UPK_BUNDLE_MANIFEST_MEMBER, -1,
				    "empty");
	if (mlen > UPK_BUNDLE_MAX_MANIFEST)
		return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, UPK_BUNDLE_MANIFEST_MEMBER, -1,
				    "%llu bytes, more than %d", (unsigned long long)mlen,
				    UPK_BUNDLE_MAX_MANIFEST);
	*ret_mlen = mlen;
	return UPK_OK;
}

enum upk_err upk_bundle_header_probe(const uint8_t *prefix, size_t len, uint64_t *ret_need,
				     struct upk_diag *reterr_diag)
{
	_cleanup_(upk_bundle_manifest_freep) struct upk_bundle_manifest *m = NULL;
	struct upk_bundle_layout l;
	uint64_t mlen = 0;
	enum upk_err r;

	if (len < UPK_BUNDLE_TAR_BLOCK) {
		*ret_need = UPK_BUNDLE_TAR_BLOCK;
		return UPK_OK;
	}
	r = first_member(prefix, len, &mlen, reterr_diag);
	if (r)
		return r;
	if (len < UPK_BUNDLE_TAR_BLOCK + mlen) {
		*ret_need = UPK_BUNDLE_TAR_BLOCK + mlen;
		return UPK_OK;
	}
	r = upk_bundle_manifest_parse(prefix + UPK_BUNDLE_TAR_BLOCK, mlen, &m, reterr_diag);
	if (!r)
		r = layout_of(m, mlen, &l, reterr_diag);
	if (r) {
		upk_diag_prefix_where(reterr_diag, UPK_BUNDLE_MANIFEST_MEMBER);
		return r;
	}
	if (l.header_length > UPK_BUNDLE_MAX_HEADER)
		return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, NULL, -1,
				    "header of %llu bytes, more than %u",
				    (unsigned long long)l.header_length, UPK_BUNDLE_MAX_HEADER);
	*ret_need = l.header_length;
	return UPK_OK;
}

void upk_bundle_header_free(struct upk_bundle_header *h)
{
	if (!h)
		return;
	upk_bundle_manifest_free(h->manifest);
	free(h);
}

/* The member header at `off` (its contents start there) named prefix+name, of size `want`. */
static enum upk_err check_member(const uint8_t *data, uint64_t off, const char *prefix,
				 const char *name, uint64_t want, struct upk_diag *reterr_diag)
{
	char member[UPK_BUNDLE_TAR_NAME_MAX];
	uint64_t size = 0;
	enum upk_err r;

	snprintf(member, sizeof(member), "%s%s", prefix, name);
	r = upk_bundle_tar_check(data + off - UPK_BUNDLE_TAR_BLOCK, member, &size, reterr_diag);
	if (r)
		return r;
	if (size != want)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, member, -1,
				    "tar member of %llu bytes, the manifest needs %llu",
				    (unsigned long long)size, (unsigned long long)want);
	return UPK_OK;
}

/* The bytes from the end of a member's contents to the next record: zeros. */
static enum upk_err check_padding(const uint8_t *data, uint64_t end, const char *what,
				  struct upk_diag *reterr_diag)
{
	uint64_t pad = round_up_block(end) - end;

	if (!all_zero(data + end, pad))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, what, (int64_t)end,
				    "tar padding is not zero");
	return UPK_OK;
}

static enum upk_err header_parse(const uint8_t *data, size_t len, uint64_t file_length,
				 struct upk_bundle_header *h, struct upk_diag *reterr_diag)
{
	uint8_t sha[UPK_HASH_MAX_LEN];
	struct upk_bundle_manifest *m;
	struct upk_bundle_layout l;
	uint64_t mlen = 0;
	enum upk_err r;

	r = first_member(data, len, &mlen, reterr_diag);
	if (r)
		return r;
	if (len < UPK_BUNDLE_TAR_BLOCK + mlen)
		return upk_diag_set(reterr_diag, UPK_E_LENGTH, NULL, -1,
				    "header ends inside the manifest");
	r = upk_bundle_manifest_parse(data + UPK_BUNDLE_TAR_BLOCK, mlen, &h->manifest, reterr_diag);
	if (!r)
		r = layout_of(h->manifest, mlen, &l, reterr_diag);
	if (r) {
		upk_diag_prefix_where(reterr_diag, UPK_BUNDLE_MANIFEST_MEMBER);
		return r;
	}
	m = h->manifest;
	h->manifest_length = mlen;
	if (l.header_length != len)
		return upk_diag_set(reterr_diag, UPK_E_LENGTH, NULL, -1,
				    "header is %zu bytes, its layout needs %llu", len,
				    (unsigned long long)l.header_length);
	if (l.file_length != file_length)
		return upk_diag_set(reterr_diag, UPK_E_LENGTH, NULL, -1,
				    "bundle is %llu bytes, its layout needs %llu",
				    (unsigned long long)file_length,
				    (unsigned long long)l.file_length);
	r = check_padding(data, UPK_BUNDLE_TAR_BLOCK + mlen, UPK_BUNDLE_MANIFEST_MEMBER,
			  reterr_diag);
	if (r)
		return r;
	for (size_t i = 0; i < m->n_components; i++) {
		struct upk_bundle_component *c = &m->components[i];
		uint64_t ilen = index_length(c->chunks);
		char where[UPK_BUNDLE_TAR_NAME_MAX];

		if (c->data_offset != l.data_offset[i])
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, UPK_BUNDLE_MANIFEST_MEMBER,
					    -1,
					    "component %s: data_offset %llu, the layout puts it "
					    "at %llu",
					    c->name, (unsigned long long)c->data_offset,
					    (unsigned long long)l.data_offset[i]);
		c->index_offset = l.index_offset[i];
		c->index = data + c->index_offset + UPK_BUNDLE_INDEX_HEAD;
		snprintf(where, sizeof(where), "index/%s", c->name);
		r = check_member(data, c->index_offset, "index/", c->name, ilen, reterr_diag);
		if (!r)
			r = check_index(c, data + c->index_offset, reterr_diag);
		if (!r)
			r = check_padding(data, c->index_offset + ilen, where, reterr_diag);
		if (r) {
			upk_diag_prefix_where(reterr_diag, where);
			return r;
		}
	}
	if (m->has_sbom && m->sbom_offset != l.sbom_offset)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, UPK_BUNDLE_MANIFEST_MEMBER, -1,
				    "sbom offset %llu, the layout puts it at %llu",
				    (unsigned long long)m->sbom_offset,
				    (unsigned long long)l.sbom_offset);
	r = check_member(data, l.data_offset[0], "data/", m->components[0].name,
			 m->components[0].data_length, reterr_diag);
	if (r)
		return r;
	r = upk_hash_oneshot(UPK_HASH_SHA256, data, len, sha);
	if (r)
		return upk_diag_set(reterr_diag, r, NULL, -1, "hashing the header failed");
	memcpy(h->sha256, sha, UPK_SHA256_LEN);
	h->data = data;
	h->len = len;
	h->file_length = file_length;
	return UPK_OK;
}

enum upk_err upk_bundle_header_parse(const uint8_t *data, size_t len, uint64_t file_length,
				     struct upk_bundle_header **ret, struct upk_diag *reterr_diag)
{
	_cleanup_(upk_bundle_header_freep) struct upk_bundle_header *h = NULL;
	enum upk_err r;

	if (len > UPK_BUNDLE_MAX_HEADER)
		return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, NULL, -1,
				    "header of %zu bytes, more than %u", len,
				    UPK_BUNDLE_MAX_HEADER);
	h = calloc(1, sizeof(*h));
	if (!h)
		return nomem(reterr_diag);
	r = header_parse(data, len, file_length, h, reterr_diag);
	if (r)
		return r;
	*ret = h;
	h = NULL;
	return UPK_OK;
}

enum upk_err upk_bundle_header_verify(const uint8_t *data, size_t len, uint64_t file_length,
				      const struct upk_bundle_manifest *custom,
				      struct upk_bundle_header **ret, struct upk_diag *reterr_diag)
{
	_cleanup_(upk_bundle_header_freep) struct upk_bundle_header *h = NULL;
	uint8_t sha[UPK_HASH_MAX_LEN];
	enum upk_err r;

	assert(custom->is_custom);
	if (len != custom->header_length)
		return upk_diag_set(reterr_diag, UPK_E_LENGTH, NULL, -1,
				    "header is %zu bytes, the target entry says %llu", len,
				    (unsigned long long)custom->header_length);
	r = upk_hash_oneshot(UPK_HASH_SHA256, data, len, sha);
	if (r)
		return upk_diag_set(reterr_diag, r, NULL, -1, "hashing the header failed");
	if (!upk_hash_equal(sha, custom->header_sha256, UPK_SHA256_LEN))
		return upk_diag_set(reterr_diag, UPK_E_HASH, NULL, -1,
				    "header SHA-256 does not match the target entry");
	r = upk_bundle_header_parse(data, len, file_length, &h, reterr_diag);
	if (!r)
		r = upk_bundle_custom_matches(custom, h->manifest, reterr_diag);
	if (r)
		return r;
	*ret = h;
	h = NULL;
	return UPK_OK;
}

/* Copy the members of src named in keys (those present) into dst. */
static int copy_members(json_t *dst, const json_t *src, const char *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(src, keys[i]);

		if (v && json_object_set_new(dst, keys[i], json_deep_copy(v)))
			return -1;
	}
	return 0;
}

enum upk_err upk_bundle_custom_build(const struct upk_bundle_header *h, json_t **ret,
				     struct upk_diag *reterr_diag)
{
	static const char *const release_keys[] = {
		"product", "hardware",	   "version",	   "build_time",  "security_version",
		"kind",	   "mixed_reason", "requirements", "support_end", "advisory"
	};
	static const char *const component_keys[] = { "name",	"type",	  "size",
						      "sha256", "chunks", "codec" };
	static const char *const sbom_keys[] = { "sha256", "size" };
	const json_t *doc = h->manifest->doc;
	_cleanup_json_ json_t *o = json_object();
	_cleanup_(upk_bundle_manifest_freep) struct upk_bundle_manifest *check = NULL;
	json_t *comps = json_array(), *sbom = NULL, *hdr = NULL, *v;
	char hex[2 * UPK_SHA256_LEN + 1];
	size_t i;
	enum upk_err r;

	if (!o || !comps || json_object_set_new(o, "components", comps) ||
	    json_object_set_new(o, "format_version", json_integer(UPK_BUNDLE_FORMAT_VERSION)) ||
	    copy_members(o, doc, release_keys, UPK_ARRAY_SIZE(release_keys)))
		return nomem(reterr_diag);
	json_array_foreach (json_object_get(doc, "components"), i, v) {
		json_t *c = json_object();

		if (!c || json_array_append_new(comps, c) ||
		    copy_members(c, v, component_keys, UPK_ARRAY_SIZE(component_keys)))
			return nomem(reterr_diag);
	}
	if ((v = json_object_get(doc, "sbom"))) {
		sbom = json_object();
		if (!sbom || json_object_set_new(o, "sbom", sbom) ||
		    copy_members(sbom, v, sbom_keys, UPK_ARRAY_SIZE(sbom_keys)))
			return nomem(reterr_diag);
	}
	upk_hex_encode(h->sha256, UPK_SHA256_LEN, hex);
	hdr = json_pack("{s:I, s:s}", "length", (json_int_t)h->len, "sha256", hex);
	if (!hdr || json_object_set_new(o, "header", hdr))
		return nomem(reterr_diag);
	/* What a device will parse must parse here first. */
	r = upk_bundle_custom_parse(o, &check, reterr_diag);
	if (!r)
		r = upk_bundle_custom_matches(check, h->manifest, reterr_diag);
	if (r)
		return r;
	*ret = o;
	o = NULL;
	return UPK_OK;
}

/* ---- chunks ---- */

void upk_bundle_chunk_iter_init(struct upk_bundle_chunk_iter *it,
				const struct upk_bundle_component *c)
{
	assert(c->index);
	it->c = c;
	it->next = 0;
	it->offset = 0;
	it->file_offset = c->data_offset;
}

bool upk_bundle_chunk_iter_next(struct upk_bundle_chunk_iter *it, struct upk_bundle_chunk *ret)
{
	uint32_t size, csize;
	const uint8_t *sha;

	if (it->next >= it->c->chunks)
		return false;
	index_entry(it->c->index + it->next * UPK_BUNDLE_INDEX_ENTRY, &size, &csize, &sha);
	ret->index = it->next;
	ret->offset = it->offset;
	ret->size = size;
	ret->file_offset = it->file_offset;
	ret->raw = csize == 0;
	ret->stored_size = csize ? csize : size;
	memcpy(ret->sha256, sha, UPK_SHA256_LEN);
	it->next++;
	it->offset += size;
	it->file_offset += ret->stored_size;
	return true;
}

/*
 * Chunks are independent zlib streams (RFC 1950) of a known size, so they are
 * decoded in one call each with libdeflate, which reads the same format about
 * three times faster than zlib's streaming inflate (scripts/bench-install).
 */
enum upk_err upk_bundle_decoder_init(struct upk_bundle_decoder *d)
{
	d->z = libdeflate_alloc_decompressor();
	return d->z ? UPK_OK : UPK_E_NOMEM;
}

void upk_bundle_decoder_done(struct upk_bundle_decoder *d)
{
	if (d->z) {
		libdeflate_free_decompressor(d->z);
		d->z = NULL;
	}
}

/*
 * Inflate exactly `size` bytes: a stream that would produce more does not
 * fit the output and is a decompression bomb; one that produces fewer, or
 * is followed by more input, is refused too.
 */
static enum upk_err inflate_bounded(struct libdeflate_decompressor *z, const uint8_t *in,
				    size_t in_len, uint8_t *out, uint32_t size,
				    struct upk_diag *reterr_diag)
{
	size_t used = 0, produced = 0;

	switch (libdeflate_zlib_decompress_ex(z, in, in_len, out, size, &used, &produced)) {
	case LIBDEFLATE_SUCCESS:
		break;
	case LIBDEFLATE_INSUFFICIENT_SPACE:
		return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, NULL, -1,
				    "chunk inflates beyond its size of %u bytes", size);
	case LIBDEFLATE_SHORT_OUTPUT: /* not returned when `produced` is asked for */
	case LIBDEFLATE_BAD_DATA:
	default:
		/* Corrupt, truncated, a bad check value, or a preset dictionary. */
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1,
				    "corrupt or truncated compressed chunk");
	}
	if (produced != size)
		return upk_diag_set(reterr_diag, UPK_E_LENGTH, NULL, -1,
				    "chunk inflates to %zu bytes, its size is %u", produced, size);
	if (used != in_len)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1,
				    "%zu bytes after the end of the compressed chunk",
				    in_len - used);
	return UPK_OK;
}

enum upk_err upk_bundle_chunk_decode(struct upk_bundle_decoder *d, enum upk_bundle_codec codec,
				     const struct upk_bundle_chunk *ch, const uint8_t *in,
				     size_t in_len, uint8_t *out, size_t out_cap,
				     struct upk_diag *reterr_diag)
{
	uint8_t sha[UPK_HASH_MAX_LEN];
	enum upk_err r = UPK_OK;

	assert(out_cap >= ch->size);
	(void)out_cap;
	if (in_len != ch->stored_size)
		r = upk_diag_set(reterr_diag, UPK_E_LENGTH, NULL, -1,
				 "chunk %llu: got %zu bytes, the index says %u",
				 (unsigned long long)ch->index, in_len, ch->stored_size);
	else if (ch->raw)
		memcpy(out, in, ch->size);
	else if (codec != UPK_BUNDLE_CODEC_ZLIB)
		r = upk_diag_set(reterr_diag, UPK_E_UNSUPPORTED, NULL, -1, "unknown codec");
	else if (!d->z)
		r = upk_diag_set(reterr_diag, UPK_E_INTERNAL, NULL, -1, "decoder not initialized");
	else
		r = inflate_bounded(d->z, in, in_len, out, ch->size, reterr_diag);
	if (!r) {
		r = upk_hash_oneshot(UPK_HASH_SHA256, out, ch->size, sha);
		if (r)
			upk_diag_set(reterr_diag, r, NULL, -1, "hashing failed");
		else if (!upk_hash_equal(sha, ch->sha256, UPK_SHA256_LEN))
			r = upk_diag_set(reterr_diag, UPK_E_HASH, NULL, -1,
					 "chunk %llu: SHA-256 mismatch",
					 (unsigned long long)ch->index);
	}
	if (r)
		memset(out, 0, ch->size);
	return r;
}

/* ---- the release side ---- */

void upk_bundle_chunking_default(struct upk_bundle_chunking *ret)
{
	ret->alg = UPK_BUNDLE_CHUNK_BLOCK_CDC;
	ret->block = UPK_BUNDLE_CDC_BLOCK;
	ret->min = UPK_BUNDLE_CDC_MIN;
	ret->max = UPK_BUNDLE_CDC_MAX;
	ret->mask_bits = UPK_BUNDLE_CDC_MASK_BITS;
}

enum upk_err upk_bundle_chunking_fixed(uint32_t size, struct upk_bundle_chunking *ret,
				       struct upk_diag *reterr_diag)
{
	struct upk_bundle_chunking p = { UPK_BUNDLE_CHUNK_FIXED, size, size, size, 0 };

	if (chunking_check(&p, NULL) != UPK_OK)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "fixed chunk size %u is not a multiple of 4096 in [4096, "
				    "4194304]",
				    size);
	*ret = p;
	return UPK_OK;
}

/*
 * FORMAT.md "Chunking": a multiply-xor hash over the block's 64-bit
 * little-endian words, finished with two xor-shift-multiply rounds so the
 * top bits depend on every word. Not cryptographic: cut points only decide
 * where chunks end; every chunk is identified by its SHA-256.
 */
static uint64_t block_hash(const uint8_t *p, size_t n)
{
	uint64_t h = 0x6a09e667f3bcc908ULL;

	for (size_t i = 0; i + 8 <= n; i += 8)
		h = (h ^ get_le64(p + i)) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

size_t upk_bundle_chunk_cut(const struct upk_bundle_chunking *p, const uint8_t *data, size_t len,
			    bool eof)
{
	size_t lim;

	if (len == 0 || (!eof && len < p->max))
		return 0;
	lim = len < p->max ? len : p->max;
	if (p->alg == UPK_BUNDLE_CHUNK_FIXED || lim <= p->min)
		return lim;
	for (size_t o = p->min; o < lim; o += p->block) {
		uint64_t h = block_hash(data + o - p->block, p->block);

		if (p->mask_bits == 0 || h >> (64 - p->mask_bits) == 0)
			return o;
	}
	return lim;
}

void upk_bundle_index_put_head(uint8_t out[UPK_BUNDLE_INDEX_HEAD], uint32_t count)
{
	memcpy(out, UPK_BUNDLE_INDEX_MAGIC, 8);
	put_le32(out + 8, count);
	put_le32(out + 12, 0);
}

void upk_bundle_index_put_entry(uint8_t out[UPK_BUNDLE_INDEX_ENTRY], uint32_t size, uint32_t csize,
				const uint8_t sha256[UPK_SHA256_LEN])
{
	put_le32(out, size);
	put_le32(out + 4, csize);
	memcpy(out + 8, sha256, UPK_SHA256_LEN);
}

/* ---- command-line inputs ---- */

enum upk_err upk_bundle_requirement_parse(const char *expr, json_t **ret,
					  struct upk_diag *reterr_diag)
{
	struct upk_bundle_requirement q;
	_cleanup_json_ json_t *o = NULL;
	size_t at = strcspn(expr, "<>="), oplen = 1;
	char subject[UPK_BUNDLE_NAME_MAX + 8];
	const char *op;
	struct upk_diag d;

	if (!expr[at] || at == 0 || at >= sizeof(subject))
		return upk_diag_set(reterr_diag, UPK_E_USAGE, expr, -1,
				    "a requirement is SUBJECT OP VERSION, e.g. firmware>=2.0.0");
	if (expr[at] != '=' && expr[at + 1] == '=')
		oplen = 2;
	memcpy(subject, expr, at);
	subject[at] = 0;
	op = oplen == 2 ? (expr[at] == '>' ? ">=" : "<=")
			: (expr[at] == '>'   ? ">"
			   : expr[at] == '<' ? "<"
					     : "=");
	o = json_pack("{s:s, s:s, s:s}", "subject", subject, "op", op, "version",
		      expr + at + oplen);
	if (!o)
		return nomem(reterr_diag);
	upk_diag_clear(&d);
	if (parse_requirement(o, &q, &d) != UPK_OK)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, expr, -1, "%s: %s", d.where,
				    d.reason);
	*ret = o;
	o = NULL;
	return UPK_OK;
}

enum upk_err upk_bundle_advisory_parse(const uint8_t *data, size_t len, json_t **ret,
				       struct upk_diag *reterr_diag)
{
	_cleanup_json_ json_t *o = NULL;
	struct upk_bundle_advisory a;
	struct upk_diag d;

	upk_diag_clear(&d);
	if (upk_json_parse(data, len, 64 * 1024, &o, &d) != UPK_OK ||
	    parse_advisory(o, &a, &d) != UPK_OK) {
		upk_diag_prefix_where(&d, "advisory");
		return upk_diag_set(reterr_diag, UPK_E_USAGE, d.where, -1, "%s", d.reason);
	}
	free(a.cves);
	*ret = o;
	o = NULL;
	return UPK_OK;
}
