/* SPDX-License-Identifier: Apache-2.0 */
#include "json.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

/*
 * jansson's iteration API takes non-const json_t * although it does not
 * modify the object; this launders the qualifier without -Wcast-qual noise.
 */
static json_t *json_mut(const json_t *v)
{
	return (json_t *)(uintptr_t)v;
}

/*
 * Where a value sits in its document, for diagnostics: one segment per
 * enclosing container (an object key or an array index). Depth is bounded by
 * UPK_JSON_MAX_DEPTH, so the stack is a fixed array.
 */
struct path_seg {
	const char *key; /* NULL for an array element */
	size_t keylen;
	size_t index;
};

struct walk {
	struct path_seg path[UPK_JSON_MAX_DEPTH];
	struct upk_buf *out;
	struct upk_diag *diag;
};

/* Append src[0..n) to dst (size cap, NUL-terminated), bytes a terminal would act on replaced. */
static void path_put(char *dst, size_t cap, size_t *pos, const char *src, size_t n)
{
	for (size_t i = 0; i < n && *pos + 1 < cap; i++) {
		unsigned char c = (unsigned char)src[i];

		dst[(*pos)++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	dst[*pos] = 0;
}

/*
 * Render the first `depth` segments as "signed.meta.x" / "signed.keys[2]";
 * "(top level)" for the root value itself. Truncated to the diag's size.
 */
static void path_format(const struct walk *w, size_t depth, char *dst, size_t cap)
{
	size_t pos = 0;

	dst[0] = 0;
	if (depth == 0) {
		path_put(dst, cap, &pos, "(top level)", strlen("(top level)"));
		return;
	}
	for (size_t i = 0; i < depth; i++) {
		const struct path_seg *s = &w->path[i];

		if (s->key) {
			if (i > 0)
				path_put(dst, cap, &pos, ".", 1);
			path_put(dst, cap, &pos, s->key, s->keylen);
		} else {
			char idx[32];
			int n = snprintf(idx, sizeof(idx), "[%zu]", s->index);

			if (n > 0)
				path_put(dst, cap, &pos, idx, (size_t)n);
		}
	}
}

static enum upk_err walk_fail(const struct walk *w, size_t depth, enum upk_err err,
			      const char *reason)
{
	char where[sizeof(((struct upk_diag *)NULL)->where)];

	if (!w->diag)
		return err;
	path_format(w, depth, where, sizeof(where));
	return upk_diag_set(w->diag, err, where, -1, "%s", reason);
}

/*
 * Count nesting outside strings, before jansson (which recurses per level)
 * sees the bytes. Inside a string a backslash hides the next byte, so `\"`
 * does not end it and brackets in strings never count. Any input where this
 * scan and jansson could disagree about string boundaries is one jansson
 * rejects at that point anyway.
 */
static enum upk_err depth_prescan(const uint8_t *data, size_t len, struct upk_diag *diag)
{
	size_t depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		uint8_t c = data[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		switch (c) {
		case 0:
			/*
			 * jansson 2.14 skips one raw NUL right after a number or
			 * literal (`[1\0]` parses); RFC 8259 and Python's json do
			 * not, and bytes a parser ignores must not hide in signed
			 * files. (Inside strings jansson rejects raw control bytes.)
			 */
			return upk_diag_set(diag, UPK_E_FORMAT, "", (int64_t)i,
					    "NUL byte outside a string");
		case '"':
			in_str = true;
			break;
		case '[':
		case '{':
			if (++depth > UPK_JSON_MAX_DEPTH)
				return upk_diag_set(diag, UPK_E_FORMAT, "", (int64_t)i,
						    "nesting deeper than %d levels",
						    UPK_JSON_MAX_DEPTH);
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return UPK_OK;
}

/* Reject reals anywhere in a parsed tree (depth already bounded by the pre-scan). */
static enum upk_err no_reals(struct walk *w, const json_t *v, size_t depth)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		size_t keylen;
		json_t *child;

		if (depth >= UPK_JSON_MAX_DEPTH)
			return walk_fail(w, depth, UPK_E_FORMAT, "nesting too deep");
		json_object_keylen_foreach (json_mut(v), key, keylen, child) {
			enum upk_err r;

			w->path[depth] = (struct path_seg){ key, keylen, 0 };
			r = no_reals(w, child, depth + 1);
			if (r)
				return r;
		}
		return UPK_OK;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(v);

		if (depth >= UPK_JSON_MAX_DEPTH)
			return walk_fail(w, depth, UPK_E_FORMAT, "nesting too deep");
		for (size_t i = 0; i < n; i++) {
			enum upk_err r;

			w->path[depth] = (struct path_seg){ NULL, 0, i };
			r = no_reals(w, json_array_get(v, i), depth + 1);
			if (r)
				return r;
		}
		return UPK_OK;
	}
	case JSON_REAL:
		return walk_fail(w, depth, UPK_E_FORMAT, "real numbers are not allowed");
	case JSON_STRING:
	case JSON_INTEGER:
	case JSON_TRUE:
	case JSON_FALSE:
	case JSON_NULL:
		return UPK_OK;
	}
	return walk_fail(w, depth, UPK_E_INTERNAL, "unknown JSON type");
}

enum upk_err upk_json_parse(const uint8_t *data, size_t len, size_t max_len, json_t **ret,
			    struct upk_diag *reterr_diag)
{
	_cleanup_json_ json_t *root = NULL;
	struct walk w = { .diag = reterr_diag };
	json_error_t jerr;
	enum upk_err r;

	assert(ret);
	/* The limit comes first: nothing is allocated for an oversized input. */
	if (len > max_len)
		return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, "", -1,
				    "JSON document of %zu bytes exceeds the limit of %zu bytes",
				    len, max_len);
	if (!data)
		data = (const uint8_t *)"";
	r = depth_prescan(data, len, reterr_diag);
	if (r)
		return r;
	root = json_loadb((const char *)data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/*
		 * jansson 2.14 sets an error text on every syntax error it
		 * reports; most of its allocation failures return without one.
		 * (A few surface as syntax errors and cannot be told apart.)
		 */
		if (json_error_code(&jerr) == json_error_out_of_memory || !jerr.text[0])
			return upk_diag_set(reterr_diag, UPK_E_NOMEM, "", -1, "out of memory");
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "", (int64_t)jerr.position, "%s",
				    jerr.text);
	}
	if (!json_is_object(root) && !json_is_array(root))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "", 0,
				    "top level must be an object or an array");
	r = no_reals(&w, root, 0);
	if (r)
		return r;
	*ret = root;
	root = NULL;
	return UPK_OK;
}

/*
 * Length of the valid UTF-8 sequence starting at s[0] (a byte >= 0x80), or 0
 * if it is not one: overlong forms, surrogates and code points above
 * U+10FFFF are invalid (RFC 3629), as a Python str cannot carry them either.
 */
size_t upk_utf8_seq_len(const uint8_t *s, size_t avail)
{
	uint8_t c = s[0];
	size_t n;
	uint8_t lo = 0x80, hi = 0xbf;

	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

/*
 * securesystemslib's _canonical_string_encoder: `"` + s with `\` -> `\\` and
 * `"` -> `\"` + `"`; every other byte raw. Reserves the worst case once so
 * the loop writes straight into the buffer (5 MB targets.json stays linear).
 */
static enum upk_err canon_string(struct walk *w, size_t depth, const char *str, size_t len)
{
	struct upk_buf *out = w->out;
	const uint8_t *s = (const uint8_t *)str;
	size_t worst;
	uint8_t *d;
	enum upk_err r;

	if (!upk_size_mul(len, 2, &worst) || !upk_size_add(worst, 2, &worst))
		return walk_fail(w, depth, UPK_E_NOMEM, "string too long");
	r = upk_buf_reserve(out, worst);
	if (r)
		return walk_fail(w, depth, r, "out of memory");
	d = out->data + out->len;
	*d++ = '"';
	for (size_t i = 0; i < len;) {
		uint8_t c = s[i];

		if (c < 0x80) {
			if (c == '"' || c == '\\')
				*d++ = '\\';
			*d++ = c;
			i++;
		} else {
			size_t n = upk_utf8_seq_len(s + i, len - i);

			if (n == 0) {
				out->data[out->len] = 0;
				return walk_fail(w, depth, UPK_E_FORMAT, "invalid UTF-8 in string");
			}
			memcpy(d, s + i, n);
			d += n;
			i += n;
		}
	}
	*d++ = '"';
	out->len = (size_t)(d - out->data);
	out->data[out->len] = 0;
	return UPK_OK;
}

static enum upk_err canon_int(struct walk *w, size_t depth, json_int_t v)
{
	char tmp[24];
	size_t pos = sizeof(tmp);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	enum upk_err r;

	do {
		tmp[--pos] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--pos] = '-';
	r = upk_buf_append(w->out, tmp + pos, sizeof(tmp) - pos);
	return r ? walk_fail(w, depth, r, "out of memory") : UPK_OK;
}

static enum upk_err canon_lit(struct walk *w, size_t depth, const char *lit)
{
	enum upk_err r = upk_buf_append_str(w->out, lit);

	return r ? walk_fail(w, depth, r, "out of memory") : UPK_OK;
}

struct member {
	const char *key;
	size_t keylen;
	const json_t *value;
};

/* Python sorts str keys by code point; for valid UTF-8 that is byte order. */
static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	return (x->keylen > y->keylen) - (x->keylen < y->keylen);
}

static enum upk_err canon_value(struct walk *w, const json_t *v, size_t depth);

static enum upk_err canon_object(struct walk *w, const json_t *v, size_t depth)
{
	_cleanup_free_ struct member *m = NULL;
	size_t n = json_object_size(v), i = 0, bytes;
	const char *key;
	size_t keylen;
	json_t *child;
	enum upk_err r;

	if (n > 0) {
		if (!upk_size_mul(n, sizeof(*m), &bytes))
			return walk_fail(w, depth, UPK_E_NOMEM, "object too large");
		m = malloc(bytes);
		if (!m)
			return walk_fail(w, depth, UPK_E_NOMEM, "out of memory");
		json_object_keylen_foreach (json_mut(v), key, keylen, child) {
			assert(i < n);
			m[i++] = (struct member){ key, keylen, child };
		}
		assert(i == n);
		qsort(m, n, sizeof(*m), member_cmp);
	}
	r = canon_lit(w, depth, "{");
	for (i = 0; !r && i < n; i++) {
		w->path[depth] = (struct path_seg){ m[i].key, m[i].keylen, 0 };
		if (i > 0)
			r = canon_lit(w, depth + 1, ",");
		if (!r)
			r = canon_string(w, depth + 1, m[i].key, m[i].keylen);
		if (!r)
			r = canon_lit(w, depth + 1, ":");
		if (!r)
			r = canon_value(w, m[i].value, depth + 1);
	}
	return r ? r : canon_lit(w, depth, "}");
}

static enum upk_err canon_array(struct walk *w, const json_t *v, size_t depth)
{
	size_t n = json_array_size(v);
	enum upk_err r = canon_lit(w, depth, "[");

	for (size_t i = 0; !r && i < n; i++) {
		w->path[depth] = (struct path_seg){ NULL, 0, i };
		if (i > 0)
			r = canon_lit(w, depth + 1, ",");
		if (!r)
			r = canon_value(w, json_array_get(v, i), depth + 1);
	}
	return r ? r : canon_lit(w, depth, "]");
}

/* Recursion is bounded: a container at depth UPK_JSON_MAX_DEPTH is refused. */
static enum upk_err canon_value(struct walk *w, const json_t *v, size_t depth)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (depth >= UPK_JSON_MAX_DEPTH)
			return walk_fail(w, depth, UPK_E_FORMAT, "nesting too deep");
		return canon_object(w, v, depth);
	case JSON_ARRAY:
		if (depth >= UPK_JSON_MAX_DEPTH)
			return walk_fail(w, depth, UPK_E_FORMAT, "nesting too deep");
		return canon_array(w, v, depth);
	case JSON_STRING:
		return canon_string(w, depth, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return canon_int(w, depth, json_integer_value(v));
	case JSON_REAL:
		return walk_fail(w, depth, UPK_E_FORMAT,
				 "real numbers cannot be encoded in canonical JSON");
	case JSON_TRUE:
		return canon_lit(w, depth, "true");
	case JSON_FALSE:
		return canon_lit(w, depth, "false");
	case JSON_NULL:
		return canon_lit(w, depth, "null");
	}
	return walk_fail(w, depth, UPK_E_INTERNAL, "unknown JSON type");
}

enum upk_err upk_json_canonical(const json_t *v, struct upk_buf *out, struct upk_diag *reterr_diag)
{
	struct walk w = { .out = out, .diag = reterr_diag };
	size_t len0 = out->len;
	enum upk_err r;

	assert(v && out);
	r = canon_value(&w, v, 0);
	if (r) {
		out->len = len0;
		if (out->data)
			out->data[len0] = 0;
	}
	return r;
}

/* Bounded recursion check before handing an in-memory tree to jansson's (unbounded) dumper. */
static bool depth_ok(const json_t *v, size_t depth)
{
	if (json_is_object(v)) {
		const char *key;
		json_t *child;

		if (depth >= UPK_JSON_MAX_DEPTH)
			return false;
		json_object_foreach (json_mut(v), key, child) {
			if (!depth_ok(child, depth + 1))
				return false;
		}
	} else if (json_is_array(v)) {
		size_t n = json_array_size(v);

		if (depth >= UPK_JSON_MAX_DEPTH)
			return false;
		for (size_t i = 0; i < n; i++) {
			if (!depth_ok(json_array_get(v, i), depth + 1))
				return false;
		}
	}
	return true;
}

enum upk_err upk_json_serialize(const json_t *v, struct upk_buf *out)
{
	const size_t flags = JSON_SORT_KEYS | JSON_INDENT(1) | JSON_ENCODE_ANY;
	size_t need, got;
	enum upk_err r;

	assert(v && out);
	if (!depth_ok(v, 0))
		return UPK_E_FORMAT;
	need = json_dumpb(v, NULL, 0, flags);
	if (need == 0)
		return UPK_E_FORMAT;
	r = upk_buf_reserve(out, need + 1);
	if (r)
		return r;
	got = json_dumpb(v, (char *)out->data + out->len, need, flags);
	if (got != need) {
		if (out->data)
			out->data[out->len] = 0;
		return got == 0 ? UPK_E_NOMEM : UPK_E_INTERNAL;
	}
	out->len += need;
	out->data[out->len++] = '\n';
	out->data[out->len] = 0;
	return UPK_OK;
}

/* Shared lookup: the member, or UPK_E_FORMAT naming the key. */
static enum upk_err get_member(const json_t *obj, const char *key, json_t **ret,
			       struct upk_diag *diag)
{
	json_t *m = NULL;

	assert(key && ret);
	if (!json_is_object(obj))
		return upk_diag_set(diag, UPK_E_FORMAT, key, -1, "parent is not an object");
	m = json_object_get(obj, key);
	if (!m)
		return upk_diag_set(diag, UPK_E_FORMAT, key, -1, "missing");
	*ret = m;
	return UPK_OK;
}

enum upk_err upk_json_get_str(const json_t *obj, const char *key, const char **ret,
			      struct upk_diag *reterr_diag)
{
	json_t *m = NULL;
	enum upk_err r = get_member(obj, key, &m, reterr_diag);

	if (r)
		return r;
	if (!json_is_string(m))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, key, -1, "not a string");
	*ret = json_string_value(m);
	return UPK_OK;
}

enum upk_err upk_json_get_int(const json_t *obj, const char *key, int64_t min, int64_t max,
			      int64_t *ret, struct upk_diag *reterr_diag)
{
	json_t *m = NULL;
	json_int_t v;
	enum upk_err r = get_member(obj, key, &m, reterr_diag);

	assert(min <= max);
	if (r)
		return r;
	if (!json_is_integer(m))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, key, -1, "not an integer");
	v = json_integer_value(m);
	if (v < min || v > max)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, key, -1,
				    "%lld is out of range [%lld, %lld]", (long long)v,
				    (long long)min, (long long)max);
	*ret = (int64_t)v;
	return UPK_OK;
}

enum upk_err upk_json_get_bool(const json_t *obj, const char *key, bool *ret,
			       struct upk_diag *reterr_diag)
{
	json_t *m = NULL;
	enum upk_err r = get_member(obj, key, &m, reterr_diag);

	if (r)
		return r;
	if (!json_is_boolean(m))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, key, -1, "not a boolean");
	*ret = json_is_true(m);
	return UPK_OK;
}

enum upk_err upk_json_get_obj(const json_t *obj, const char *key, json_t **ret,
			      struct upk_diag *reterr_diag)
{
	json_t *m = NULL;
	enum upk_err r = get_member(obj, key, &m, reterr_diag);

	if (r)
		return r;
	if (!json_is_object(m))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, key, -1, "not an object");
	*ret = m;
	return UPK_OK;
}

enum upk_err upk_json_get_arr(const json_t *obj, const char *key, json_t **ret,
			      struct upk_diag *reterr_diag)
{
	json_t *m = NULL;
	enum upk_err r = get_member(obj, key, &m, reterr_diag);

	if (r)
		return r;
	if (!json_is_array(m))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, key, -1, "not an array");
	*ret = m;
	return UPK_OK;
}
