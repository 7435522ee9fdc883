/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TUF 1.0 metadata: parse rules, signature threshold, signing.
 *
 * The parse rules are python-tuf's (tuf/api/_payload.py, tuf/api/metadata.py)
 * so that whatever the reference implementation accepts or rejects, Upkeep
 * does too; meta.h lists where Upkeep is stricter. Every list is bounded
 * (UPK_META_MAX_LIST) and every look-up done during verification is a
 * binary search over arrays sorted once at parse time, so a large or hostile
 * file costs O(n log n).
 */
#include "meta.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "jcanon.h"
#include "json.h"
#include "sig.h"
#include "tuftime.h"
#include "util.h"

static const char *const role_names[UPK_ROLE_COUNT] = {
	[UPK_ROLE_ROOT] = "root",
	[UPK_ROLE_TIMESTAMP] = "timestamp",
	[UPK_ROLE_SNAPSHOT] = "snapshot",
	[UPK_ROLE_TARGETS] = "targets",
};

const char *upk_role_name(enum upk_role role)
{
	switch (role) {
	case UPK_ROLE_ROOT:
	case UPK_ROLE_TIMESTAMP:
	case UPK_ROLE_SNAPSHOT:
	case UPK_ROLE_TARGETS:
		return role_names[role];
	}
	return "unknown";
}

size_t upk_role_max_size(enum upk_role role)
{
	switch (role) {
	case UPK_ROLE_ROOT:
		return UPK_META_MAX_ROOT;
	case UPK_ROLE_TIMESTAMP:
		return UPK_META_MAX_TIMESTAMP;
	case UPK_ROLE_SNAPSHOT:
		return UPK_META_MAX_SNAPSHOT;
	case UPK_ROLE_TARGETS:
		return UPK_META_MAX_TARGETS;
	}
	return 0;
}

static bool role_valid(enum upk_role role)
{
	return (unsigned)role < UPK_ROLE_COUNT;
}

/* ------------------------------------------------------------------------ */
/* Parse context: the dotted path of the field being checked, for diag->where. */

#define SEG_MAX 64

struct pctx {
	struct upk_diag *diag;
	size_t len;
	char path[200];
};

/* Append text, truncating at the buffer end; control bytes become '?'. */
static void path_append(struct pctx *c, const char *s, size_t max)
{
	for (size_t i = 0; s[i] && i < max && c->len + 1 < sizeof(c->path); i++) {
		unsigned char ch = (unsigned char)s[i];

		c->path[c->len++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	c->path[c->len] = 0;
}

static size_t push(struct pctx *c, const char *seg)
{
	size_t old = c->len;

	if (c->len)
		path_append(c, ".", 1);
	path_append(c, seg, SEG_MAX);
	return old;
}

static size_t push_index(struct pctx *c, size_t i)
{
	size_t old = c->len;
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "[%zu]", i);
	path_append(c, tmp, sizeof(tmp));
	return old;
}

static void pop(struct pctx *c, size_t old)
{
	c->len = old;
	c->path[old] = 0;
}

/* Fail at the current path, or at member `key` of it. */
static enum upk_err fail(struct pctx *c, const char *key, enum upk_err err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum upk_err fail(struct pctx *c, const char *key, enum upk_err err, const char *fmt, ...)
{
	char reason[sizeof(c->diag->reason)];
	size_t old = c->len;
	va_list ap;

	if (!c->diag)
		return err;
	if (key)
		push(c, key);
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	upk_diag_set(c->diag, err, c->path, -1, "%s", reason);
	pop(c, old);
	return err;
}

/* Put the path of the current field before an inner module's diag->where. */
static enum upk_err fail_inner(struct pctx *c, const char *key, enum upk_err err)
{
	size_t old = c->len;

	if (key)
		push(c, key);
	upk_diag_prefix_where(c->diag, c->path);
	if (c->diag)
		c->diag->err = err;
	pop(c, old);
	return err;
}

/* ------------------------------------------------------------------------ */
/* Typed member access. */

enum jtype { J_OBJ, J_ARR, J_STR, J_INT, J_BOOL };

static const char *jtype_name(enum jtype t)
{
	switch (t) {
	case J_OBJ:
		return "an object";
	case J_ARR:
		return "an array";
	case J_STR:
		return "a string";
	case J_INT:
		return "an integer";
	case J_BOOL:
		return "a boolean";
	}
	return "?";
}

static bool jtype_is(const json_t *v, enum jtype t)
{
	switch (t) {
	case J_OBJ:
		return json_is_object(v);
	case J_ARR:
		return json_is_array(v);
	case J_STR:
		/* A NUL inside would make the C view differ from the signed bytes. */
		return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
	case J_INT:
		return json_is_integer(v);
	case J_BOOL:
		return json_is_boolean(v);
	}
	return false;
}

static enum upk_err check_type(struct pctx *c, const char *key, const json_t *v, enum jtype t)
{
	if (!jtype_is(v, t))
		return fail(c, key, UPK_E_FORMAT, "expected %s", jtype_name(t));
	return UPK_OK;
}

/* Member `key` of obj with type t; *ret = NULL if absent and optional. */
static enum upk_err member(struct pctx *c, const json_t *obj, const char *key, enum jtype t,
			   bool optional, json_t **ret)
{
	json_t *v = json_object_get(obj, key);

	/* python-tuf reads optional members with dict.pop(key, None): null is absence. */
	if (!v || (optional && json_is_null(v))) {
		if (optional) {
			*ret = NULL;
			return UPK_OK;
		}
		return fail(c, key, UPK_E_FORMAT, "missing");
	}
	if (!jtype_is(v, t))
		return fail(c, key, UPK_E_FORMAT, "expected %s", jtype_name(t));
	*ret = v;
	return UPK_OK;
}

static enum upk_err member_str(struct pctx *c, const json_t *obj, const char *key, const char **ret)
{
	json_t *v = NULL;
	enum upk_err r = member(c, obj, key, J_STR, false, &v);

	if (r)
		return r;
	*ret = json_string_value(v);
	return UPK_OK;
}

static enum upk_err int_range(struct pctx *c, const char *key, const json_t *v, int64_t min,
			      int64_t max, int64_t *ret)
{
	json_int_t n;

	if (!jtype_is(v, J_INT))
		return fail(c, key, UPK_E_FORMAT, "expected an integer");
	n = json_integer_value(v);
	if (n < min || n > max)
		return fail(c, key, UPK_E_FORMAT, "%lld out of range %lld..%lld", (long long)n,
			    (long long)min, (long long)max);
	*ret = (int64_t)n;
	return UPK_OK;
}

static enum upk_err member_int(struct pctx *c, const json_t *obj, const char *key, int64_t min,
			       int64_t max, int64_t *ret)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return fail(c, key, UPK_E_FORMAT, "missing");
	return int_range(c, key, v, min, max, ret);
}

/* calloc that never returns NULL for n == 0 and checks n * size. */
static void *alloc_array(size_t n, size_t size)
{
	size_t total;

	if (!upk_size_mul(n ? n : 1, size, &total))
		return NULL;
	return calloc(1, total);
}

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Lower-case hex digit values plus one; 0 for every other byte (NUL included). */
static const uint8_t hex_lower1[256] = {
	['0'] = 1,  ['1'] = 2,	['2'] = 3,  ['3'] = 4,	['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,	['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

/*
 * Decode s[0..slen), which must be exactly 2*n lower-case hex digits, into
 * out[n]: one pass that validates and decodes, since digests are most of a
 * large targets file.
 */
static bool lower_hex_decode_n(const uint8_t *s, size_t slen, uint8_t *out, size_t n)
{
	if (slen != 2 * n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned hi = hex_lower1[s[2 * i]], lo;

		if (!hi)
			return false;
		lo = hex_lower1[s[2 * i + 1]];
		if (!lo)
			return false;
		out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	return true;
}

static bool keyid_valid(const char *s)
{
	return upk_hex_is_valid(s, UPK_KEYID_HEX_LEN);
}

/* ------------------------------------------------------------------------ */
/* Field parsers. */

/* "N.N" or "N.N.N", decimal digits only (python-tuf Signed). */
static bool spec_version_syntax_ok(const char *s)
{
	size_t parts = 0;
	const char *p = s;

	for (;;) {
		size_t digits = 0;

		while (*p >= '0' && *p <= '9') {
			p++;
			digits++;
		}
		if (!digits)
			return false;
		parts++;
		if (*p == 0)
			break;
		if (*p != '.')
			return false;
		p++;
	}
	return parts == 2 || parts == 3;
}

static enum upk_err parse_common(struct pctx *c, const json_t *sig_obj, enum upk_role expected,
				 struct upk_meta *m)
{
	const char *type, *expires;
	enum upk_err r;

	r = member_str(c, sig_obj, "_type", &type);
	if (r)
		return r;
	if (strcmp(type, upk_role_name(expected)) != 0)
		return fail(c, "_type", UPK_E_FORMAT, "expected \"%s\"", upk_role_name(expected));
	r = member_str(c, sig_obj, "spec_version", &m->spec_version);
	if (r)
		return r;
	if (!spec_version_syntax_ok(m->spec_version))
		return fail(c, "spec_version", UPK_E_FORMAT, "not a version (1.x or 1.x.y)");
	/* Same major version only, compared as text as python-tuf does ("01.0" is not 1). */
	if (strncmp(m->spec_version, "1.", 2) != 0)
		return fail(c, "spec_version", UPK_E_UNSUPPORTED,
			    "unsupported specification version (need 1.x or 1.x.y)");
	r = member_int(c, sig_obj, "version", 1, INT64_MAX, &m->version);
	if (r)
		return r;
	r = member_str(c, sig_obj, "expires", &expires);
	if (r)
		return r;
	if (upk_time_parse(expires, &m->expires) != UPK_OK)
		return fail(c, "expires", UPK_E_FORMAT, "not a YYYY-MM-DDTHH:MM:SSZ time");
	return UPK_OK;
}

/*
 * One listed digest into h: its algorithm's name (as diag->where shows it;
 * known false when the name was too long to be one Upkeep implements) and
 * its hex text. Unknown algorithms are counted; their digests must be hex.
 */
static enum upk_err hashes_add(struct pctx *c, const char *alg, bool known, const uint8_t *hex,
			       size_t len, struct upk_hashes *h)
{
	enum upk_hash_alg a;
	bool ok = false;

	if (!known || !upk_hash_from_name(alg, &a)) {
		bool valid = len > 0 && len % 2 == 0;

		for (size_t i = 0; valid && i < len; i++)
			valid = hex_lower1[hex[i]] != 0;
		if (!valid)
			return fail(c, alg, UPK_E_FORMAT, "not lower-case hex");
		h->n_unknown++;
		h->count++;
		return UPK_OK;
	}
	switch (a) {
	case UPK_HASH_SHA256:
		ok = lower_hex_decode_n(hex, len, h->sha256, sizeof(h->sha256));
		h->has_sha256 = true;
		break;
	case UPK_HASH_SHA512:
		ok = lower_hex_decode_n(hex, len, h->sha512, sizeof(h->sha512));
		h->has_sha512 = true;
		break;
	}
	if (!ok)
		return fail(c, alg, UPK_E_FORMAT, "not %zu lower-case hex digits",
			    2 * upk_hash_len(a));
	h->count++;
	return UPK_OK;
}

static enum upk_err parse_hashes(struct pctx *c, json_t *obj, struct upk_hashes *h)
{
	const char *alg;
	json_t *v;

	memset(h, 0, sizeof(*h));
	if (json_object_size(obj) == 0)
		return fail(c, NULL, UPK_E_FORMAT, "no hashes");
	json_object_foreach (obj, alg, v) {
		enum upk_err r = check_type(c, alg, v, J_STR);

		if (!r)
			r = hashes_add(c, alg, true, (const uint8_t *)json_string_value(v),
				       json_string_length(v), h);
		if (r)
			return r;
	}
	return UPK_OK;
}

/* A META entry: version required; length and hashes optional (python-tuf MetaFile). */
static enum upk_err parse_metafile(struct pctx *c, const char *name, const json_t *obj,
				   struct upk_metafile *mf)
{
	size_t old = push(c, name);
	json_t *v;
	enum upk_err r;

	mf->name = name;
	mf->length = -1;
	r = check_type(c, NULL, obj, J_OBJ);
	if (!r)
		r = member_int(c, obj, "version", 1, INT64_MAX, &mf->version);
	if (!r && (v = json_object_get(obj, "length")) && !json_is_null(v))
		r = int_range(c, "length", v, 0, INT64_MAX, &mf->length);
	if (!r)
		r = member(c, obj, "hashes", J_OBJ, true, &v);
	if (!r && v) {
		size_t o2 = push(c, "hashes");

		r = parse_hashes(c, v, &mf->hashes);
		pop(c, o2);
		mf->has_hashes = true;
	}
	pop(c, old);
	return r;
}

static int cmp_metafile(const void *a, const void *b)
{
	return strcmp(((const struct upk_metafile *)a)->name,
		      ((const struct upk_metafile *)b)->name);
}

static enum upk_err parse_meta_map(struct pctx *c, const json_t *sig_obj, struct upk_meta *m)
{
	const char *name;
	json_t *obj, *v;
	size_t old, i = 0;
	enum upk_err r;

	r = member(c, sig_obj, "meta", J_OBJ, false, &obj);
	if (r)
		return r;
	old = push(c, "meta");
	/* Spec: timestamp's METAFILES "MUST only include" snapshot.json. */
	if (m->type == UPK_ROLE_TIMESTAMP &&
	    (json_object_size(obj) != 1 || !json_object_get(obj, "snapshot.json"))) {
		r = fail(c, NULL, UPK_E_FORMAT, "must list exactly \"snapshot.json\"");
		pop(c, old);
		return r;
	}
	m->meta = alloc_array(json_object_size(obj), sizeof(*m->meta));
	if (!m->meta) {
		pop(c, old);
		return UPK_E_NOMEM;
	}
	json_object_foreach (obj, name, v) {
		r = parse_metafile(c, name, v, &m->meta[i]);
		if (r) {
			pop(c, old);
			return r;
		}
		i++;
		m->n_meta = i;
	}
	pop(c, old);
	qsort(m->meta, m->n_meta, sizeof(*m->meta), cmp_metafile);
	return UPK_OK;
}

/* {"keyids": [unique KEYID...], "threshold": >= 1}; keyids must be a fresh array. */
static enum upk_err parse_role_keys(struct pctx *c, const json_t *obj, struct upk_role_keys *rk)
{
	_cleanup_free_ const char **sorted = NULL;
	json_t *arr, *v;
	size_t i, n;
	enum upk_err r;

	r = member(c, obj, "keyids", J_ARR, false, &arr);
	if (r)
		return r;
	n = json_array_size(arr);
	if (n > UPK_META_MAX_LIST)
		return fail(c, "keyids", UPK_E_FORMAT, "more than %d key ids", UPK_META_MAX_LIST);
	rk->keyids = alloc_array(n, sizeof(*rk->keyids));
	sorted = alloc_array(n, sizeof(*sorted));
	if (!rk->keyids || !sorted)
		return UPK_E_NOMEM;
	json_array_foreach (arr, i, v) {
		size_t old = push(c, "keyids");

		push_index(c, i);
		r = check_type(c, NULL, v, J_STR);
		if (!r && !keyid_valid(json_string_value(v)))
			r = fail(c, NULL, UPK_E_FORMAT, "key id is not 64 lower-case hex digits");
		pop(c, old);
		if (r)
			return r;
		rk->keyids[i] = sorted[i] = json_string_value(v);
		rk->n_keyids = i + 1;
	}
	/* python-tuf Role: "Nonunique keyids". */
	qsort(sorted, n, sizeof(*sorted), cmp_strp);
	for (i = 1; i < n; i++) {
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			return fail(c, "keyids", UPK_E_FORMAT, "key id listed twice");
	}
	return member_int(c, obj, "threshold", 1, INT64_MAX, &rk->threshold);
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(((const struct upk_key *)a)->keyid, ((const struct upk_key *)b)->keyid);
}

/* {KEYID: KEY, ...}: key ids come from the map (python-tuf does not recompute them). */
static enum upk_err parse_keymap(struct pctx *c, const json_t *parent, struct upk_key **ret_keys,
				 size_t *ret_n)
{
	const char *keyid;
	json_t *obj, *v;
	size_t n, i = 0;
	enum upk_err r;

	r = member(c, parent, "keys", J_OBJ, false, &obj);
	if (r)
		return r;
	n = json_object_size(obj);
	if (n > UPK_META_MAX_LIST)
		return fail(c, "keys", UPK_E_FORMAT, "more than %d keys", UPK_META_MAX_LIST);
	*ret_keys = alloc_array(n, sizeof(**ret_keys));
	if (!*ret_keys)
		return UPK_E_NOMEM;
	json_object_foreach (obj, keyid, v) {
		size_t old = push(c, "keys");

		if (!keyid_valid(keyid)) {
			r = fail(c, keyid, UPK_E_FORMAT, "key id is not 64 lower-case hex digits");
		} else if (!jtype_is(v, J_OBJ)) {
			r = fail(c, keyid, UPK_E_FORMAT, "expected an object");
		} else {
			r = upk_key_parse(v, &(*ret_keys)[i], c->diag);
			if (r)
				r = fail_inner(c, keyid, r == UPK_E_NOMEM ? r : UPK_E_FORMAT);
		}
		pop(c, old);
		if (r)
			return r;
		memcpy((*ret_keys)[i].keyid, keyid, UPK_KEYID_HEX_LEN + 1);
		i++;
		*ret_n = i;
	}
	qsort(*ret_keys, *ret_n, sizeof(**ret_keys), cmp_key);
	return UPK_OK;
}

static enum upk_err parse_root(struct pctx *c, const json_t *sig_obj, struct upk_meta *m)
{
	json_t *v, *roles;
	enum upk_err r;

	r = member(c, sig_obj, "consistent_snapshot", J_BOOL, true, &v);
	if (r)
		return r;
	m->consistent_snapshot = v && json_is_true(v);
	r = parse_keymap(c, sig_obj, &m->keys, &m->n_keys);
	if (r)
		return r;
	r = member(c, sig_obj, "roles", J_OBJ, false, &roles);
	if (r)
		return r;
	/* python-tuf Root: "Role names must be the top-level metadata roles". */
	if (json_object_size(roles) != UPK_ROLE_COUNT)
		return fail(c, "roles", UPK_E_FORMAT, "must list exactly the four top-level roles");
	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		const char *name = role_names[i];
		size_t old = push(c, "roles");

		r = member(c, roles, name, J_OBJ, false, &v);
		if (!r) {
			push(c, name);
			r = parse_role_keys(c, v, &m->roles[i]);
		}
		pop(c, old);
		if (r)
			return r;
	}
	return UPK_OK;
}

/* Strings of a list, each checked by ok() (NULL: any string). */
static enum upk_err parse_str_list(struct pctx *c, const json_t *arr, bool (*ok)(const char *),
				   const char *what, const char ***ret, size_t *ret_n)
{
	size_t i;
	json_t *v;

	*ret = alloc_array(json_array_size(arr), sizeof(**ret));
	if (!*ret)
		return UPK_E_NOMEM;
	json_array_foreach (arr, i, v) {
		size_t old = push_index(c, i);
		enum upk_err r = check_type(c, NULL, v, J_STR);

		if (!r && ok && !ok(json_string_value(v)))
			r = fail(c, NULL, UPK_E_FORMAT, "not %s", what);
		pop(c, old);
		if (r)
			return r;
		(*ret)[i] = json_string_value(v);
		*ret_n = i + 1;
	}
	return UPK_OK;
}

/* A path hash prefix: lower-case hex, any number of digits up to a SHA-256. */
static bool prefix_ok(const char *s)
{
	size_t n = strlen(s);

	if (n > 2 * UPK_SHA256_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static enum upk_err parse_delegated_role(struct pctx *c, const json_t *obj,
					 struct upk_delegated_role *dr)
{
	json_t *paths, *prefixes, *v;
	enum upk_err r;

	r = check_type(c, NULL, obj, J_OBJ);
	if (r)
		return r;
	r = member_str(c, obj, "name", &dr->name);
	if (r)
		return r;
	/* python-tuf Delegations: "cannot be empty or use top-level role names". */
	if (!dr->name[0])
		return fail(c, "name", UPK_E_FORMAT, "empty role name");
	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		if (strcmp(dr->name, role_names[i]) == 0)
			return fail(c, "name", UPK_E_FORMAT, "top-level role name");
	}
	r = parse_role_keys(c, obj, &dr->keys);
	if (r)
		return r;
	r = member(c, obj, "terminating", J_BOOL, false, &v);
	if (r)
		return r;
	dr->terminating = json_is_true(v);
	r = member(c, obj, "paths", J_ARR, true, &paths);
	if (!r)
		r = member(c, obj, "path_hash_prefixes", J_ARR, true, &prefixes);
	if (r)
		return r;
	/* python-tuf DelegatedRole: exactly one of the two (neither is an error too). */
	if (!paths == !prefixes)
		return fail(c, NULL, UPK_E_FORMAT,
			    "needs exactly one of \"paths\" and \"path_hash_prefixes\"");
	if (paths) {
		size_t old = push(c, "paths");

		dr->has_paths = true;
		r = parse_str_list(c, paths, NULL, NULL, &dr->paths, &dr->n_paths);
		pop(c, old);
	} else {
		size_t old = push(c, "path_hash_prefixes");

		r = parse_str_list(c, prefixes, prefix_ok, "a lower-case hex prefix", &dr->prefixes,
				   &dr->n_prefixes);
		pop(c, old);
	}
	return r;
}

static int cmp_role_name(const void *a, const void *b)
{
	return strcmp((*(const struct upk_delegated_role *const *)a)->name,
		      (*(const struct upk_delegated_role *const *)b)->name);
}

static enum upk_err parse_delegated_roles(struct pctx *c, const json_t *arr,
					  struct upk_delegations *d)
{
	_cleanup_free_ const struct upk_delegated_role **sorted = NULL;
	size_t i, n = json_array_size(arr);
	json_t *v;

	if (n > UPK_META_MAX_LIST)
		return fail(c, NULL, UPK_E_FORMAT, "more than %d roles", UPK_META_MAX_LIST);
	d->roles = alloc_array(n, sizeof(*d->roles));
	sorted = alloc_array(n, sizeof(*sorted));
	if (!d->roles || !sorted)
		return UPK_E_NOMEM;
	json_array_foreach (arr, i, v) {
		size_t old = push_index(c, i);
		enum upk_err r;

		/* Count the entry first so that its partial allocations are freed. */
		d->n_roles = i + 1;
		r = parse_delegated_role(c, v, &d->roles[i]);
		pop(c, old);
		if (r)
			return r;
		sorted[i] = &d->roles[i];
	}
	qsort(sorted, n, sizeof(*sorted), cmp_role_name);
	for (i = 1; i < n; i++) {
		if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
			return fail(c, NULL, UPK_E_FORMAT, "role \"%.64s\" delegated twice",
				    sorted[i]->name);
	}
	return UPK_OK;
}

static enum upk_err parse_succinct(struct pctx *c, const json_t *obj, struct upk_succinct_roles *s)
{
	int64_t bits;
	enum upk_err r;

	r = parse_role_keys(c, obj, &s->keys);
	if (!r)
		r = member_int(c, obj, "bit_length", 1, 32, &bits);
	if (!r)
		r = member_str(c, obj, "name_prefix", &s->name_prefix);
	if (r)
		return r;
	s->bit_length = (int)bits;
	return UPK_OK;
}

static enum upk_err parse_delegations(struct pctx *c, const json_t *obj, struct upk_delegations *d)
{
	json_t *roles, *succinct;
	enum upk_err r;

	r = parse_keymap(c, obj, &d->keys, &d->n_keys);
	if (!r)
		r = member(c, obj, "roles", J_ARR, true, &roles);
	if (!r)
		r = member(c, obj, "succinct_roles", J_OBJ, true, &succinct);
	if (r)
		return r;
	/* python-tuf Delegations: "One of roles and succinct_roles must be set". */
	if (!roles == !succinct)
		return fail(c, NULL, UPK_E_FORMAT,
			    "needs exactly one of \"roles\" and \"succinct_roles\"");
	if (roles) {
		size_t old = push(c, "roles");

		r = parse_delegated_roles(c, roles, d);
		pop(c, old);
	} else {
		size_t old = push(c, "succinct_roles");

		d->has_succinct = true;
		r = parse_succinct(c, succinct, &d->succinct);
		pop(c, old);
	}
	return r;
}

/* The optional "delegations" member of a targets role. */
static enum upk_err parse_delegations_member(struct pctx *c, const json_t *sig_obj,
					     struct upk_meta *m)
{
	json_t *deleg = json_object_get(sig_obj, "delegations");
	size_t old;
	enum upk_err r;

	/* Unlike other optional members, python-tuf fails on "delegations": null. */
	if (!deleg)
		return UPK_OK;
	r = check_type(c, "delegations", deleg, J_OBJ);
	if (r)
		return r;
	m->has_delegations = true;
	old = push(c, "delegations");
	r = parse_delegations(c, deleg, &m->delegations);
	pop(c, old);
	return r;
}

static int cmp_target(const void *a, const void *b)
{
	return strcmp(((const struct upk_target *)a)->path, ((const struct upk_target *)b)->path);
}

static enum upk_err parse_target(struct pctx *c, const char *path, const json_t *obj,
				 struct upk_target *t)
{
	json_t *hashes;
	enum upk_err r;

	t->path = path;
	r = check_type(c, NULL, obj, J_OBJ);
	if (!r)
		r = member_int(c, obj, "length", 0, INT64_MAX, &t->length);
	if (!r)
		r = member(c, obj, "hashes", J_OBJ, false, &hashes);
	if (!r) {
		size_t old = push(c, "hashes");

		r = parse_hashes(c, hashes, &t->hashes);
		pop(c, old);
	}
	t->custom = json_object_get(obj, "custom");
	if (json_is_null(t->custom))
		t->custom = NULL; /* python-tuf's custom property: None either way */
	return r;
}

static enum upk_err parse_targets(struct pctx *c, const json_t *sig_obj, struct upk_meta *m)
{
	const char *path;
	json_t *obj, *v;
	size_t old, i = 0;
	enum upk_err r;

	r = member(c, sig_obj, "targets", J_OBJ, false, &obj);
	if (r)
		return r;
	m->targets = alloc_array(json_object_size(obj), sizeof(*m->targets));
	if (!m->targets)
		return UPK_E_NOMEM;
	old = push(c, "targets");
	json_object_foreach (obj, path, v) {
		size_t o2 = push(c, path);

		r = parse_target(c, path, v, &m->targets[i]);
		pop(c, o2);
		if (r) {
			pop(c, old);
			return r;
		}
		i++;
	}
	pop(c, old);
	m->n_targets = i;
	qsort(m->targets, m->n_targets, sizeof(*m->targets), cmp_target);
	return parse_delegations_member(c, sig_obj, m);
}

/* ------------------------------------------------------------------------ */
/* Signatures. */

static void sigs_free(struct upk_signature *sigs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(sigs[i].sig);
	free(sigs);
}

static int cmp_sig(const void *a, const void *b)
{
	return strcmp(((const struct upk_signature *)a)->keyid,
		      ((const struct upk_signature *)b)->keyid);
}

/* [{"keyid": KEYID, "sig": HEX}, ...], no key id twice (python-tuf Metadata.from_dict). */
static enum upk_err parse_signatures(struct pctx *c, const json_t *arr,
				     struct upk_signature **ret_sigs, size_t *ret_n)
{
	struct upk_signature *sigs;
	size_t i, n = json_array_size(arr);
	json_t *v;
	enum upk_err r = UPK_OK;

	if (n > UPK_META_MAX_LIST)
		return fail(c, NULL, UPK_E_FORMAT, "more than %d signatures", UPK_META_MAX_LIST);
	sigs = alloc_array(n, sizeof(*sigs));
	if (!sigs)
		return UPK_E_NOMEM;
	json_array_foreach (arr, i, v) {
		size_t old = push_index(c, i), hexlen = 0;
		const char *keyid = NULL, *hex = NULL;

		r = check_type(c, NULL, v, J_OBJ);
		if (!r)
			r = member_str(c, v, "keyid", &keyid);
		if (!r && !keyid_valid(keyid))
			r = fail(c, "keyid", UPK_E_FORMAT, "not 64 lower-case hex digits");
		if (!r)
			r = member_str(c, v, "sig", &hex);
		if (!r) {
			hexlen = strlen(hex);
			if (hexlen > 2 * UPK_META_MAX_SIG_LEN)
				r = fail(c, "sig", UPK_E_FORMAT, "longer than %d bytes",
					 UPK_META_MAX_SIG_LEN);
		}
		if (!r) {
			sigs[i].sig = malloc(hexlen / 2 + 1);
			if (!sigs[i].sig)
				r = UPK_E_NOMEM;
			else if (upk_hex_decode(hex, hexlen, sigs[i].sig, hexlen / 2,
						&sigs[i].sig_len) != UPK_OK)
				r = fail(c, "sig", UPK_E_FORMAT, "not hex");
		}
		pop(c, old);
		if (r) {
			sigs_free(sigs, i + 1);
			return r;
		}
		sigs[i].keyid = keyid;
	}
	qsort(sigs, n, sizeof(*sigs), cmp_sig);
	for (i = 1; i < n; i++) {
		if (strcmp(sigs[i - 1].keyid, sigs[i].keyid) == 0) {
			r = fail(c, NULL, UPK_E_FORMAT, "two signatures by key %s", sigs[i].keyid);
			sigs_free(sigs, n);
			return r;
		}
	}
	*ret_sigs = sigs;
	*ret_n = n;
	return UPK_OK;
}

/* ------------------------------------------------------------------------ */
/* Whole documents. */

static void role_keys_done(struct upk_role_keys *rk)
{
	free(rk->keyids);
}

static void keys_free(struct upk_key *keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		upk_key_done(&keys[i]);
	free(keys);
}

/* Free every view and the doc reference; m is zeroed. */
static void meta_clear(struct upk_meta *m)
{
	sigs_free(m->sigs, m->n_sigs);
	upk_buf_done(&m->canonical);
	keys_free(m->keys, m->n_keys);
	for (int i = 0; i < UPK_ROLE_COUNT; i++)
		role_keys_done(&m->roles[i]);
	free(m->meta);
	free(m->targets);
	keys_free(m->delegations.keys, m->delegations.n_keys);
	for (size_t i = 0; i < m->delegations.n_roles; i++) {
		struct upk_delegated_role *dr = &m->delegations.roles[i];

		role_keys_done(&dr->keys);
		free(dr->paths);
		free(dr->prefixes);
	}
	free(m->delegations.roles);
	role_keys_done(&m->delegations.succinct.keys);
	for (size_t i = 0; m->view_cache && i < m->n_targets; i++)
		free(m->view_cache[i]);
	free(m->view_cache);
	free(m->view_index);
	json_decref(m->view_custom);
	if (m->doc)
		json_decref(m->doc);
	memset(m, 0, sizeof(*m));
}

void upk_meta_free(struct upk_meta *m)
{
	if (!m)
		return;
	meta_clear(m);
	free(m);
}

/*
 * The signatures (unless sigs is NULL) and the fields every role has; leaves
 * c at "signed" for the role's own fields.
 */
static enum upk_err parse_head(struct pctx *c, struct upk_meta *m, const json_t *sigs,
			       json_t *sig_obj)
{
	enum upk_err r;

	m->signed_obj = sig_obj;
	if (sigs) {
		push(c, "signatures");
		r = parse_signatures(c, sigs, &m->sigs, &m->n_sigs);
		pop(c, 0);
		if (r)
			return r;
	}
	push(c, "signed");
	return parse_common(c, sig_obj, m->type, m);
}

/*
 * Fill m's views from m->doc (m otherwise zeroed). With_sigs false skips the
 * signatures list (upk_meta_resign_begin is about to drop it).
 */
static enum upk_err meta_build(struct upk_meta *m, bool with_sigs, struct upk_diag *diag)
{
	struct pctx c = { .diag = diag, .len = 0, .path = "" };
	json_t *sigs, *sig_obj;
	enum upk_err r;

	if (!json_is_object(m->doc))
		return fail(&c, NULL, UPK_E_FORMAT, "metadata is not a JSON object");
	r = member(&c, m->doc, "signed", J_OBJ, false, &sig_obj);
	if (!r)
		r = member(&c, m->doc, "signatures", J_ARR, false, &sigs);
	if (r)
		return r;
	r = parse_head(&c, m, with_sigs ? sigs : NULL, sig_obj);
	if (r)
		return r;
	switch (m->type) {
	case UPK_ROLE_ROOT:
		r = parse_root(&c, sig_obj, m);
		break;
	case UPK_ROLE_TIMESTAMP:
	case UPK_ROLE_SNAPSHOT:
		r = parse_meta_map(&c, sig_obj, m);
		break;
	case UPK_ROLE_TARGETS:
		r = parse_targets(&c, sig_obj, m);
		break;
	}
	if (r)
		return r;
	r = upk_json_canonical(sig_obj, &m->canonical, diag);
	if (r) {
		upk_diag_prefix_where(diag, "signed");
		return r;
	}
	return UPK_OK;
}

enum upk_err upk_meta_from_json(json_t *doc, enum upk_role expected, struct upk_meta **ret,
				struct upk_diag *reterr_diag)
{
	_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;
	enum upk_err r;

	if (!doc)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "no document");
	if (!role_valid(expected)) {
		json_decref(doc);
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, NULL, -1, "unknown role %d",
				    (int)expected);
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		json_decref(doc);
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	}
	m->doc = doc;
	m->type = expected;
	r = meta_build(m, true, reterr_diag);
	if (r == UPK_E_NOMEM)
		return upk_diag_set(reterr_diag, r, NULL, -1, NULL);
	if (r)
		return r;
	*ret = m;
	m = NULL;
	return UPK_OK;
}

/* The role's size limit, or max_len when smaller (not 0); UPK_E_TOO_LARGE if len is above it. */
static enum upk_err size_limit(enum upk_role role, size_t len, size_t max_len, size_t *ret_limit,
			       struct upk_diag *diag)
{
	size_t limit = upk_role_max_size(role);

	if (max_len && max_len < limit)
		limit = max_len;
	if (len > limit)
		return upk_diag_set(diag, UPK_E_TOO_LARGE, NULL, -1,
				    "%s metadata of %zu bytes exceeds the limit of %zu",
				    upk_role_name(role), len, limit);
	*ret_limit = limit;
	return UPK_OK;
}

enum upk_err upk_meta_parse(const uint8_t *data, size_t len, enum upk_role expected, size_t max_len,
			    struct upk_meta **ret, struct upk_diag *reterr_diag)
{
	size_t limit;
	json_t *doc = NULL;
	enum upk_err r;

	if (!role_valid(expected))
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, NULL, -1, "unknown role %d",
				    (int)expected);
	r = size_limit(expected, len, max_len, &limit, reterr_diag);
	if (r)
		return r;
	r = upk_json_parse(data, len, limit, &doc, reterr_diag);
	if (r)
		return r;
	return upk_meta_from_json(doc, expected, ret, reterr_diag);
}

/* ------------------------------------------------------------------------ */
/*
 * Read-only views of targets metadata (upk_meta_parse_view). The document is
 * canonicalized in one pass without a tree (upk_json_canonicalize), and the
 * targets map is read straight from the canonical bytes; everything else of
 * `signed` is small and goes through jansson and the parsers above, so the
 * rules are the same ones.
 *
 * Canonical JSON is easy to scan: no whitespace, and strings escape only `"`
 * and `\`. The scanners below rely on their input being the output of
 * upk_json_canonicalize, i.e. valid; they never read past `end` anyway.
 */

struct cspan {
	const uint8_t *p;
	size_t len;
};

/* Length of the string token at p (p[0] == '"'), quotes included. */
static size_t cj_string_len(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p + 1;

	for (;;) {
		const uint8_t *x = memchr(q, '"', (size_t)(end - q));
		size_t bs = 0;

		if (!x)
			return (size_t)(end - p);
		/* An even run of backslashes before it is escaped backslashes: the quote ends it.
		 */
		while (x - bs > q && x[-1 - (ptrdiff_t)bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			return (size_t)(x + 1 - p);
		q = x + 1;
	}
}

/* Length of the value at p. */
static size_t cj_value_len(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p;
	size_t depth = 0;

	if (q >= end)
		return 0;
	do {
		switch (*q) {
		case '"':
			q += cj_string_len(q, end);
			break;
		case '{':
		case '[':
			depth++;
			q++;
			break;
		case '}':
		case ']':
			depth--;
			q++;
			break;
		case ':':
		case ',':
			q++;
			break;
		default: /* a number, true, false or null */
			while (q < end && *q != ',' && *q != '}' && *q != ']')
				q++;
		}
	} while (depth && q < end);
	return (size_t)(q - p);
}

/* Members of the object at obj.p[0] == '{'. */
struct cj_iter {
	const uint8_t *q, *end;
};

static struct cj_iter cj_members(struct cspan obj)
{
	return (struct cj_iter){ .q = obj.p + 1, .end = obj.p + obj.len };
}

/* Next member: key (between the quotes, still escaped) and value; false at the end. */
static bool cj_next(struct cj_iter *it, struct cspan *key, struct cspan *val)
{
	size_t n;

	if (it->q >= it->end || *it->q == '}')
		return false;
	if (*it->q == ',')
		it->q++;
	n = cj_string_len(it->q, it->end);
	*key = (struct cspan){ it->q + 1, n - 2 };
	it->q += n + 1; /* the string and ':' */
	if (it->q > it->end)
		it->q = it->end;
	val->p = it->q;
	val->len = cj_value_len(it->q, it->end);
	it->q += val->len;
	return true;
}

/* Key k equals lit, which has no `"` or `\` (so escaped keys never match). */
static bool cj_is(struct cspan k, const char *lit)
{
	size_t n = strlen(lit);

	return k.len == n && memcmp(k.p, lit, n) == 0;
}

/* Decode string contents s into out (room for s.len + 1), NUL-terminated; returns the length. */
static size_t cj_unescape(struct cspan s, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < s.len; i++) {
		if (s.p[i] == '\\' && i + 1 < s.len)
			i++;
		out[o++] = (char)s.p[i];
	}
	out[o] = 0;
	return o;
}

static bool cj_is_null(struct cspan v)
{
	return v.len == 4 && memcmp(v.p, "null", 4) == 0;
}

/* The integer at v; false if v is not one that fits int64_t. */
static bool cj_int_value(struct cspan v, int64_t *ret)
{
	bool neg = v.len && v.p[0] == '-';
	uint64_t mag = 0;

	if (v.len <= (size_t)neg)
		return false;
	for (size_t i = neg; i < v.len; i++) {
		unsigned d = (unsigned)(v.p[i] - '0');

		if (d > 9 || mag > (UINT64_MAX - d) / 10)
			return false;
		mag = mag * 10 + d;
	}
	if (mag > (neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX))
		return false;
	/* -(2^63) wraps to INT64_MIN: a conversion gcc and clang define. */
	*ret = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return true;
}

/* Next element of an array iterated with cj_members (same iterator). */
static bool cj_next_elem(struct cj_iter *it, struct cspan *val)
{
	if (it->q >= it->end || *it->q == ']')
		return false;
	if (*it->q == ',')
		it->q++;
	val->p = it->q;
	val->len = cj_value_len(it->q, it->end);
	it->q += val->len;
	return true;
}

/*
 * A jansson value of v; NULL only when memory runs out. Not json_loadb():
 * canonical strings carry control characters raw, which JSON does not allow.
 * Recursion is bounded by the depth upk_json_canonicalize accepted.
 */
static json_t *cj_to_json(struct cspan v)
{
	struct cj_iter it = cj_members(v);
	struct cspan k, x;
	json_t *j = NULL;
	int64_t n;

	switch (v.p[0]) {
	case '{':
		j = json_object();
		while (j && cj_next(&it, &k, &x)) {
			char *key = malloc(k.len + 1);
			json_t *val = key ? cj_to_json(x) : NULL;
			size_t kl = key ? cj_unescape(k, key) : 0;

			if (!val || json_object_setn_new_nocheck(j, key, kl, val) != 0) {
				json_decref(j);
				j = NULL;
			}
			free(key);
		}
		return j;
	case '[':
		j = json_array();
		while (j && cj_next_elem(&it, &x)) {
			if (json_array_append_new(j, cj_to_json(x)) != 0) {
				json_decref(j);
				j = NULL;
			}
		}
		return j;
	case '"': {
		char *s = malloc(v.len);

		if (!s)
			return NULL;
		n = (int64_t)cj_unescape((struct cspan){ v.p + 1, v.len - 2 }, s);
		j = json_stringn_nocheck(s, (size_t)n);
		free(s);
		return j;
	}
	case 't':
		return json_true();
	case 'f':
		return json_false();
	case 'n':
		return json_null();
	default:
		return cj_int_value(v, &n) ? json_integer((json_int_t)n) : NULL;
	}
}

/* int_range() for a canonical value. */
static enum upk_err cj_int(struct pctx *c, const char *key, struct cspan v, int64_t min,
			   int64_t max, int64_t *ret)
{
	int64_t n;

	if (!cj_int_value(v, &n))
		return fail(c, key, UPK_E_FORMAT, "expected an integer");
	if (n < min || n > max)
		return fail(c, key, UPK_E_FORMAT, "%lld out of range %lld..%lld", (long long)n,
			    (long long)min, (long long)max);
	*ret = n;
	return UPK_OK;
}

/* parse_hashes() for a canonical object at obj.p (obj.len may run past it; *ret_len: its length).
 */
static enum upk_err cj_hashes(struct pctx *c, struct cspan obj, struct upk_hashes *h,
			      size_t *ret_len)
{
	struct cj_iter it = cj_members(obj);
	struct cspan k, v;

	memset(h, 0, sizeof(*h));
	if (obj.p[1] == '}')
		return fail(c, NULL, UPK_E_FORMAT, "no hashes");
	while (cj_next(&it, &k, &v)) {
		char alg[SEG_MAX + 1];
		struct cspan hex = { v.p + 1, v.len >= 2 ? v.len - 2 : 0 };
		enum upk_err r;

		/* Only the first SEG_MAX bytes show in diag->where; names are short. */
		cj_unescape((struct cspan){ k.p, k.len < SEG_MAX ? k.len : SEG_MAX }, alg);
		if (k.len >= SEG_MAX)
			alg[SEG_MAX] = 0;
		if (v.p[0] != '"')
			return fail(c, alg, UPK_E_FORMAT, "expected a string");
		r = hashes_add(c, alg, k.len < SEG_MAX, hex.p, hex.len, h);
		if (r)
			return r;
	}
	*ret_len = (size_t)(it.q - obj.p) + 1;
	return UPK_OK;
}

/*
 * parse_target() for a canonical value at v.p (v.len: the bytes left, which
 * may go past it; *ret_len gets its length). Custom values are kept in
 * `customs` (NULL: only check the entry; custom values are valid JSON).
 */
static enum upk_err cj_target(struct pctx *c, const char *path, struct cspan v,
			      struct upk_target *t, json_t *customs, size_t *ret_len)
{
	struct cspan length = { 0 }, hashes = { 0 }, custom = { 0 };
	struct pctx quiet = { .diag = NULL, .len = 0, .path = "" };
	const uint8_t *q, *end;
	enum upk_err r, r_hashes = UPK_OK;

	t->path = path;
	if (v.p[0] != '{')
		return fail(c, NULL, UPK_E_FORMAT, "expected an object");
	/*
	 * v may run past the entry: the members end at its '}'. The hashes are
	 * read as they are met (one scan of them, not two), quietly; their
	 * error, if any, is reported in parse_target()'s order below.
	 */
	q = v.p + 1;
	end = v.p + v.len;
	while (q < end && *q != '}') {
		struct cspan k, x;
		size_t n;

		if (*q == ',')
			q++;
		n = cj_string_len(q, end);
		k = (struct cspan){ q + 1, n - 2 };
		q += n + 1;
		x = (struct cspan){ q, 0 };
		if (cj_is(k, "hashes") && *q == '{') {
			hashes = (struct cspan){ q, (size_t)(end - q) };
			r_hashes = cj_hashes(&quiet, hashes, &t->hashes, &x.len);
			if (r_hashes)
				x.len = cj_value_len(q, end);
		} else {
			x.len = cj_value_len(q, end);
			if (cj_is(k, "length"))
				length = x;
			else if (cj_is(k, "hashes"))
				hashes = x;
			else if (cj_is(k, "custom"))
				custom = x;
		}
		q += x.len;
	}
	*ret_len = (size_t)(q - v.p) + 1;
	if (!length.p)
		return fail(c, "length", UPK_E_FORMAT, "missing");
	r = cj_int(c, "length", length, 0, INT64_MAX, &t->length);
	if (r)
		return r;
	if (!hashes.p)
		return fail(c, "hashes", UPK_E_FORMAT, "missing");
	if (hashes.p[0] != '{')
		return fail(c, "hashes", UPK_E_FORMAT, "expected an object");
	if (r_hashes) {
		size_t old = push(c, "hashes"), ignored;

		/* Again, to say where and why. */
		r = cj_hashes(c, hashes, &t->hashes, &ignored);
		pop(c, old);
		return r ? r : r_hashes;
	}
	if (customs && custom.p && !cj_is_null(custom)) {
		json_t *j = cj_to_json(custom);

		if (!j || json_array_append_new(customs, j) != 0)
			return UPK_E_NOMEM;
		t->custom = j; /* the array holds the reference */
	}
	return UPK_OK;
}

/*
 * The targets map: every entry is checked now (a view accepts exactly what a
 * tree accepts), but only indexed: entry i is decoded when first asked for
 * (view_target()). A decoded target costs about 150 bytes, an index entry 12:
 * most of a refresh's memory when a role lists thousands of targets and the
 * client looks one up. Canonical order is path order: no sort needed. Offsets
 * are from `base`, where m->canonical will start.
 */
static enum upk_err cj_targets(struct pctx *c, struct cspan obj, const uint8_t *base,
			       struct upk_meta *m)
{
	const uint8_t *q = obj.p + 1, *end = obj.p + obj.len;
	/* Entries are checked without building diag->where; a bad one is checked again with it. */
	struct pctx quiet = { .diag = NULL, .len = 0, .path = "" };
	size_t n = 0, cap = 0;

	m->view_custom = json_array();
	if (!m->view_custom)
		return UPK_E_NOMEM;
	while (q < end && *q != '}') {
		struct upk_target t = { 0 };
		struct cspan k, v;
		size_t len, vlen;

		if (*q == ',')
			q++;
		len = cj_string_len(q, end);
		k = (struct cspan){ q + 1, len - 2 };
		v = (struct cspan){ q + len + 1, (size_t)(end - q) - len - 1 };
		if (cj_target(&quiet, "", v, &t, NULL, &vlen) != UPK_OK) {
			char path[SEG_MAX + 1];
			size_t old = push(c, "targets"), o2;
			enum upk_err r;

			/* diag->where shows the first SEG_MAX bytes of a path. */
			cj_unescape((struct cspan){ k.p, k.len < SEG_MAX ? k.len : SEG_MAX }, path);
			o2 = push(c, path);
			r = cj_target(c, path, v, &t, NULL, &vlen);
			pop(c, o2);
			pop(c, old);
			return r ? r
				 : upk_diag_set(c->diag, UPK_E_INTERNAL, NULL, -1, "entry check");
		}
		if (n == cap) {
			uint32_t *x;

			cap = cap ? 2 * cap : 1024;
			x = realloc(m->view_index, cap * sizeof(*x));
			if (!x)
				return UPK_E_NOMEM;
			m->view_index = x;
		}
		/* The size limit (5 MB) keeps offsets far below 4 GiB. */
		m->view_index[n++] = (uint32_t)(q - base);
		q = v.p + vlen;
	}
	m->view_cache = alloc_array(n, sizeof(*m->view_cache));
	if (!m->view_cache)
		return UPK_E_NOMEM;
	m->n_targets = n;
	return UPK_OK;
}

/* Entry i of a view, decoded (and kept) on first use; NULL when memory runs out. */
static const struct upk_target *view_target(const struct upk_meta *m, size_t i)
{
	const uint8_t *end = m->canonical.data + m->canonical.len;
	const uint8_t *q = m->canonical.data + m->view_index[i];
	struct pctx c = { .diag = NULL, .len = 0, .path = "" };
	struct cspan k, v;
	struct upk_target *t;
	size_t n;

	if (m->view_cache[i])
		return m->view_cache[i];
	n = cj_string_len(q, end);
	k = (struct cspan){ q + 1, n - 2 };
	v.p = q + n + 1;
	v.len = (size_t)(end - v.p);
	/* The struct and its path in one allocation. */
	t = calloc(1, sizeof(*t) + k.len + 1);
	if (!t)
		return NULL;
	cj_unescape(k, (char *)(t + 1));
	if (cj_target(&c, (const char *)(t + 1), v, t, m->view_custom, &n) != UPK_OK) {
		free(t); /* only memory can fail: the entry was checked on parse */
		return NULL;
	}
	m->view_cache[i] = t;
	return t;
}

/* strcmp() of the decoded canonical string contents k and s. */
static int cj_strcmp(struct cspan k, const char *s)
{
	const unsigned char *b = (const unsigned char *)s;

	for (size_t i = 0; i < k.len; i++, b++) {
		unsigned char a = k.p[i];

		if (a == '\\' && i + 1 < k.len)
			a = k.p[++i];
		if (a != *b)
			return a < *b ? -1 : 1;
	}
	return *b ? -1 : 0;
}

/* Binary search of a view's index; SIZE_MAX if path is not listed. */
static size_t view_find(const struct upk_meta *m, const char *path)
{
	const uint8_t *end = m->canonical.data + m->canonical.len;
	size_t lo = 0, hi = m->n_targets;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const uint8_t *q = m->canonical.data + m->view_index[mid];
		size_t n = cj_string_len(q, end);
		int cmp = cj_strcmp((struct cspan){ q + 1, n - 2 }, path);

		if (cmp == 0)
			return mid;
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return SIZE_MAX;
}

/* Fill m (a view of targets metadata) from the canonical encoding of the document. */
static enum upk_err view_build(struct upk_meta *m, struct upk_buf *canon, struct upk_diag *diag)
{
	struct pctx c = { .diag = diag, .len = 0, .path = "" };
	struct cspan all = { canon->data, canon->len }, k, v, sig_v = { 0 }, sigs_v = { 0 },
		     targets_v = { 0 };
	struct cj_iter it;
	json_t *sigs, *sig_obj;
	enum upk_err r;

	if (!canon->len || all.p[0] != '{')
		return fail(&c, NULL, UPK_E_FORMAT, "metadata is not a JSON object");
	it = cj_members(all);
	while (cj_next(&it, &k, &v)) {
		if (cj_is(k, "signed"))
			sig_v = v;
		else if (cj_is(k, "signatures"))
			sigs_v = v;
	}
	/* meta_build()'s order and messages. */
	if (!sig_v.p)
		return fail(&c, "signed", UPK_E_FORMAT, "missing");
	if (sig_v.p[0] != '{')
		return fail(&c, "signed", UPK_E_FORMAT, "expected an object");
	if (!sigs_v.p)
		return fail(&c, "signatures", UPK_E_FORMAT, "missing");
	if (sigs_v.p[0] != '[')
		return fail(&c, "signatures", UPK_E_FORMAT, "expected an array");
	m->doc = json_object();
	sigs = cj_to_json(sigs_v);
	sig_obj = json_object();
	if (!m->doc || json_object_set_new(m->doc, "signatures", sigs) != 0 ||
	    json_object_set_new(m->doc, "signed", sig_obj) != 0)
		return UPK_E_NOMEM;
	/* `signed` as a tree, but for the targets map, which stays an empty placeholder. */
	it = cj_members(sig_v);
	while (cj_next(&it, &k, &v)) {
		_cleanup_free_ char *key = malloc(k.len + 1);
		size_t kl;
		json_t *j;

		if (!key)
			return UPK_E_NOMEM;
		kl = cj_unescape(k, key);
		if (cj_is(k, "targets") && v.p[0] == '{') {
			targets_v = v;
			j = json_object();
		} else {
			j = cj_to_json(v);
		}
		/* Keys come from canonicalized input: valid UTF-8 already. */
		if (!j || json_object_setn_new_nocheck(sig_obj, key, kl, j) != 0)
			return UPK_E_NOMEM;
	}
	r = parse_head(&c, m, sigs, sig_obj);
	if (r)
		return r;
	if (!targets_v.p) {
		json_t *obj;

		/* Missing or not an object: parse_targets' own message. */
		r = member(&c, sig_obj, "targets", J_OBJ, false, &obj);
		if (r)
			return r;
		return fail(&c, "targets", UPK_E_INTERNAL, "targets map not found");
	}
	r = cj_targets(&c, targets_v, sig_v.p, m);
	if (!r)
		r = parse_delegations_member(&c, sig_obj, m);
	if (r)
		return r;
	/* What the signatures cover: `signed`'s bytes within the canonical document. */
	memmove(canon->data, sig_v.p, sig_v.len);
	canon->len = sig_v.len;
	canon->data[canon->len] = 0;
	m->canonical = *canon;
	*canon = (struct upk_buf)UPK_BUF_INIT;
	return UPK_OK;
}

enum upk_err upk_meta_parse_view(const uint8_t *data, size_t len, enum upk_role expected,
				 size_t max_len, struct upk_meta **ret,
				 struct upk_diag *reterr_diag)
{
	_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;
	_cleanup_buf_ struct upk_buf canon = UPK_BUF_INIT;
	size_t limit;
	enum upk_err r;

	if (expected != UPK_ROLE_TARGETS)
		return upk_meta_parse(data, len, expected, max_len, ret, reterr_diag);
	r = size_limit(expected, len, max_len, &limit, reterr_diag);
	if (r)
		return r;
	r = upk_json_canonicalize(data, len, limit, &canon, reterr_diag);
	if (r)
		return r;
	m = calloc(1, sizeof(*m));
	if (!m)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	m->type = expected;
	m->view = true;
	r = view_build(m, &canon, reterr_diag);
	if (r == UPK_E_NOMEM)
		return upk_diag_set(reterr_diag, r, NULL, -1, NULL);
	if (r)
		return r;
	*ret = m;
	m = NULL;
	return UPK_OK;
}

/* ------------------------------------------------------------------------ */
/* Look-ups. */

static bool keys_sorted(const struct upk_key *keys, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		if (strcmp(keys[i - 1].keyid, keys[i].keyid) >= 0)
			return false;
	}
	return true;
}

static const struct upk_key *key_bsearch(const struct upk_key *keys, size_t n, const char *keyid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(keyid, keys[mid].keyid);

		if (d == 0)
			return &keys[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct upk_key *upk_meta_find_key(const struct upk_key *keys, size_t n_keys,
					const char *keyid)
{
	for (size_t i = 0; i < n_keys; i++) {
		if (strcmp(keys[i].keyid, keyid) == 0)
			return &keys[i];
	}
	return NULL;
}

static const struct upk_signature *sig_find(const struct upk_meta *m, const char *keyid)
{
	size_t lo = 0, hi = m->n_sigs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(keyid, m->sigs[mid].keyid);

		if (d == 0)
			return &m->sigs[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const struct upk_metafile *upk_meta_find_meta(const struct upk_meta *m, const char *name)
{
	struct upk_metafile key = { .name = name, .version = 0, .length = 0 };

	if (!m->n_meta)
		return NULL;
	return bsearch(&key, m->meta, m->n_meta, sizeof(*m->meta), cmp_metafile);
}

enum upk_err upk_meta_lookup_target(const struct upk_meta *m, const char *path,
				    const struct upk_target **ret)
{
	struct upk_target key = { .path = path, .length = 0, .custom = NULL };
	const struct upk_target *t = NULL;

	if (m->view) {
		size_t i = view_find(m, path);

		if (i == SIZE_MAX)
			return UPK_E_NOT_FOUND;
		t = view_target(m, i);
		if (!t)
			return UPK_E_NOMEM;
	} else if (m->n_targets) {
		t = bsearch(&key, m->targets, m->n_targets, sizeof(*m->targets), cmp_target);
	}
	if (!t)
		return UPK_E_NOT_FOUND;
	*ret = t;
	return UPK_OK;
}

const struct upk_target *upk_meta_find_target(const struct upk_meta *m, const char *path)
{
	const struct upk_target *t = NULL;

	return upk_meta_lookup_target(m, path, &t) == UPK_OK ? t : NULL;
}

const struct upk_target *upk_meta_target(const struct upk_meta *m, size_t i)
{
	if (i >= m->n_targets)
		return NULL;
	return m->view ? view_target(m, i) : &m->targets[i];
}

/* ------------------------------------------------------------------------ */
/* Verification. */

enum upk_err upk_meta_verify_role(const struct upk_key *keys, size_t n_keys,
				  const struct upk_role_keys *role, const struct upk_meta *m,
				  struct upk_diag *reterr_diag)
{
	_cleanup_free_ const struct upk_key **counted = NULL;
	bool sorted = keys_sorted(keys, n_keys);
	size_t valid = 0, cap;

	/* A zeroed role would otherwise be met by no signature at all. */
	if (role->threshold < 1)
		return upk_diag_set(reterr_diag, UPK_E_THRESHOLD, NULL, -1,
				    "role threshold %lld is not positive",
				    (long long)role->threshold);
	cap = role->n_keyids < m->n_sigs ? role->n_keyids : m->n_sigs;
	counted = alloc_array(cap, sizeof(*counted));
	if (!counted)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	for (size_t i = 0; i < role->n_keyids && (int64_t)valid < role->threshold; i++) {
		const char *keyid = role->keyids[i];
		const struct upk_key *key = sorted ? key_bsearch(keys, n_keys, keyid)
						   : upk_meta_find_key(keys, n_keys, keyid);
		const struct upk_signature *sig;
		bool seen = false;

		if (!key || !key->supported)
			continue;
		sig = sig_find(m, keyid);
		if (!sig)
			continue;
		/* One key under two ids (or one id listed twice) counts once. */
		for (size_t j = 0; j < valid && !seen; j++)
			seen = counted[j] == key || upk_key_same_material(counted[j], key);
		if (seen)
			continue;
		if (upk_sig_verify(key, m->canonical.data, m->canonical.len, sig->sig,
				   sig->sig_len) != UPK_OK)
			continue;
		counted[valid++] = key;
	}
	if ((int64_t)valid < role->threshold)
		return upk_diag_set(reterr_diag, UPK_E_THRESHOLD, NULL, -1,
				    "%zu of %zu signatures valid, threshold %lld", valid, m->n_sigs,
				    (long long)role->threshold);
	return UPK_OK;
}

enum upk_err upk_meta_verify_by_root(const struct upk_meta *root, enum upk_role role,
				     const struct upk_meta *m, struct upk_diag *reterr_diag)
{
	enum upk_err r;

	if (root->type != UPK_ROLE_ROOT || !role_valid(role) || m->type != role)
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, NULL, -1,
				    "verifying %s metadata as %s with %s metadata",
				    upk_role_name(m->type), upk_role_name(role),
				    upk_role_name(root->type));
	r = upk_meta_verify_role(root->keys, root->n_keys, &root->roles[role], m, reterr_diag);
	if (r)
		upk_diag_prefix_where(reterr_diag, upk_role_name(role));
	return r;
}

/*
 * TAP 15 bin name "<name_prefix>-<suffix>": the suffix has exactly as many
 * lower-case hex digits as the last bin's number (python-tuf suffix_len)
 * and names a bin below 2^bit_length.
 */
static bool succinct_has(const struct upk_succinct_roles *s, const char *name)
{
	size_t plen = strlen(s->name_prefix), width;
	uint64_t bins, num = 0;
	const char *suffix;

	if (s->bit_length < 1 || s->bit_length > 32)
		return false;
	bins = UINT64_C(1) << s->bit_length;
	width = ((size_t)s->bit_length + 3) / 4;
	if (strncmp(name, s->name_prefix, plen) != 0 || name[plen] != '-')
		return false;
	suffix = name + plen + 1;
	if (strlen(suffix) != width)
		return false;
	for (size_t i = 0; i < width; i++) {
		char ch = suffix[i];
		int d;

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else
			return false;
		num = num << 4 | (uint64_t)d;
	}
	return num < bins;
}

enum upk_err upk_meta_verify_delegated(const struct upk_meta *delegator, const char *name,
				       const struct upk_meta *m, struct upk_diag *reterr_diag)
{
	const struct upk_delegations *d = &delegator->delegations;
	const struct upk_role_keys *rk = NULL;
	enum upk_err r;

	if (delegator->type != UPK_ROLE_TARGETS || m->type != UPK_ROLE_TARGETS)
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, name, -1,
				    "delegations are between targets metadata");
	if (delegator->has_delegations && d->has_succinct) {
		if (succinct_has(&d->succinct, name))
			rk = &d->succinct.keys;
	} else if (delegator->has_delegations) {
		for (size_t i = 0; i < d->n_roles && !rk; i++) {
			if (strcmp(d->roles[i].name, name) == 0)
				rk = &d->roles[i].keys;
		}
	}
	if (!rk)
		return upk_diag_set(reterr_diag, UPK_E_NOT_FOUND, name, -1,
				    "role is not delegated by this metadata");
	r = upk_meta_verify_role(d->keys, d->n_keys, rk, m, reterr_diag);
	if (r)
		upk_diag_prefix_where(reterr_diag, name);
	return r;
}

bool upk_meta_is_expired(const struct upk_meta *m, int64_t now)
{
	return now >= m->expires;
}

/* ------------------------------------------------------------------------ */
/* Signing and writing. */

enum upk_err upk_meta_resign_begin(struct upk_meta *m, struct upk_diag *reterr_diag)
{
	_cleanup_(upk_meta_freep) struct upk_meta *tmp = NULL;
	json_t *empty;
	enum upk_err r;

	if (m->view)
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, NULL, -1,
				    "a metadata view cannot be changed");

	tmp = calloc(1, sizeof(*tmp));
	if (!tmp)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	tmp->doc = json_incref(m->doc);
	tmp->type = m->type;
	r = meta_build(tmp, false, reterr_diag);
	if (r == UPK_E_NOMEM)
		return upk_diag_set(reterr_diag, r, NULL, -1, NULL);
	if (r)
		return r;
	empty = json_array();
	if (!empty || json_object_set_new(tmp->doc, "signatures", empty) != 0)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	meta_clear(m);
	*m = *tmp;
	memset(tmp, 0, sizeof(*tmp));
	return UPK_OK;
}

/* New signatures list: old entries, with keyid's replaced or entry appended. */
static json_t *sigs_with(const json_t *old, const char *keyid, json_t *entry)
{
	json_t *arr = json_array(), *v;
	bool replaced = false;
	size_t i;

	if (!arr)
		return NULL;
	json_array_foreach (old, i, v) {
		json_t *kid = json_object_get(v, "keyid");

		if (json_is_string(kid) && strcmp(json_string_value(kid), keyid) == 0) {
			if (replaced)
				continue;
			v = entry;
			replaced = true;
		}
		if (json_array_append(arr, v) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	if (!replaced && json_array_append(arr, entry) != 0) {
		json_decref(arr);
		return NULL;
	}
	return arr;
}

enum upk_err upk_meta_sign(struct upk_meta *m, const char *keyid, upk_sign_fn fn, void *ctx,
			   struct upk_diag *reterr_diag)
{
	_cleanup_buf_ struct upk_buf sig = UPK_BUF_INIT;
	_cleanup_free_ char *hex = NULL;
	_cleanup_json_ json_t *entry = NULL;
	_cleanup_json_ json_t *arr = NULL;
	struct pctx c = { .diag = reterr_diag, .len = 0, .path = "signatures" };
	struct upk_signature *sigs = NULL;
	size_t n_sigs = 0;
	enum upk_err r;

	if (m->view)
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, NULL, -1,
				    "a metadata view cannot be signed");
	c.len = strlen(c.path);
	if (!keyid_valid(keyid))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyid", -1,
				    "key id is not 64 lower-case hex digits");
	r = fn(ctx, m->canonical.data, m->canonical.len, &sig);
	if (r)
		return r;
	if (sig.len == 0 || sig.len > UPK_META_MAX_SIG_LEN)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, keyid, -1,
				    "signer returned %zu bytes", sig.len);
	hex = malloc(2 * sig.len + 1);
	if (!hex)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	upk_hex_encode(sig.data, sig.len, hex);
	entry = json_pack("{s:s, s:s}", "keyid", keyid, "sig", hex);
	if (!entry)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	arr = sigs_with(json_object_get(m->doc, "signatures"), keyid, entry);
	if (!arr)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	/* The new list is parsed like a received one, so m->sigs stay consistent. */
	r = parse_signatures(&c, arr, &sigs, &n_sigs);
	if (r)
		return r;
	if (json_object_set(m->doc, "signatures", arr) != 0) {
		sigs_free(sigs, n_sigs);
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	}
	sigs_free(m->sigs, m->n_sigs);
	m->sigs = sigs;
	m->n_sigs = n_sigs;
	return UPK_OK;
}

enum upk_err upk_meta_serialize(const struct upk_meta *m, struct upk_buf *out)
{
	if (m->view)
		return UPK_E_INTERNAL; /* its tree lacks the targets map */
	return upk_json_serialize(m->doc, out);
}

enum upk_err upk_meta_hashes_json(const uint8_t *data, size_t len, json_t **ret)
{
	static const enum upk_hash_alg algs[] = { UPK_HASH_SHA256, UPK_HASH_SHA512 };
	_cleanup_json_ json_t *obj = json_object();

	if (!obj)
		return UPK_E_NOMEM;
	for (size_t i = 0; i < UPK_ARRAY_SIZE(algs); i++) {
		uint8_t digest[UPK_HASH_MAX_LEN];
		char hex[2 * UPK_HASH_MAX_LEN + 1];
		enum upk_err r = upk_hash_oneshot(algs[i], data, len, digest);

		if (r)
			return r;
		upk_hex_encode(digest, upk_hash_len(algs[i]), hex);
		if (json_object_set_new(obj, upk_hash_name(algs[i]), json_string(hex)) != 0)
			return UPK_E_NOMEM;
	}
	*ret = obj;
	obj = NULL;
	return UPK_OK;
}

enum upk_err upk_meta_hashes_check(const struct upk_hashes *h, const uint8_t *data, size_t len,
				   struct upk_diag *reterr_diag)
{
	struct {
		bool listed;
		enum upk_hash_alg alg;
		const uint8_t *want;
	} checks[] = {
		{ h->has_sha256, UPK_HASH_SHA256, h->sha256 },
		{ h->has_sha512, UPK_HASH_SHA512, h->sha512 },
	};

	if (h->count == 0)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "no hashes listed");
	if (h->n_unknown)
		return upk_diag_set(reterr_diag, UPK_E_UNSUPPORTED, NULL, -1,
				    "%zu listed hash algorithm(s) not supported", h->n_unknown);
	for (size_t i = 0; i < UPK_ARRAY_SIZE(checks); i++) {
		uint8_t digest[UPK_HASH_MAX_LEN];
		enum upk_err r;

		if (!checks[i].listed)
			continue;
		r = upk_hash_oneshot(checks[i].alg, data, len, digest);
		if (r)
			return upk_diag_set(reterr_diag, r, NULL, -1, "hashing failed");
		if (!upk_hash_equal(digest, checks[i].want, upk_hash_len(checks[i].alg)))
			return upk_diag_set(reterr_diag, UPK_E_HASH, NULL, -1, "%s mismatch",
					    upk_hash_name(checks[i].alg));
	}
	return UPK_OK;
}
