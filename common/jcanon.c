/* SPDX-License-Identifier: Apache-2.0 */
#include "jcanon.h"

#include <assert.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Parser state. Output goes straight into the reserved buffer: every token's
 * canonical form is at most as long as its input (whitespace vanishes, an
 * escape never grows, "-0" shrinks), so after consuming `pos` input bytes at
 * most `pos` bytes have been written past `base`, and reserving len bytes
 * once makes every write in bounds without further checks.
 */
struct jc {
	const uint8_t *in;
	size_t len;
	size_t pos;
	uint8_t *out;
	size_t w;
	size_t base;
	struct upk_diag *diag;
};

static enum upk_err jc_fail(const struct jc *c, size_t at, const char *reason)
{
	return upk_diag_set(c->diag, UPK_E_FORMAT, "", (int64_t)at, "%s", reason);
}

static void skip_ws(struct jc *c)
{
	while (c->pos < c->len) {
		uint8_t ch = c->in[c->pos];

		if (ch != ' ' && ch != '\t' && ch != '\n' && ch != '\r')
			break;
		c->pos++;
	}
}

/* The four hex digits at in[at..at+4) as a code unit; false if absent or not hex. */
static bool read_hex4(const uint8_t *in, size_t len, size_t at, uint32_t *ret)
{
	uint32_t v = 0;

	if (at > len || len - at < 4)
		return false;
	for (size_t i = 0; i < 4; i++) {
		uint8_t ch = in[at + i];
		uint32_t d;

		if (ch >= '0' && ch <= '9')
			d = (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (uint32_t)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			d = (uint32_t)(ch - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*ret = v;
	return true;
}

/* Canonical bytes of code point cp (1..0x10FFFF, no surrogate) at o; returns the count. */
static size_t put_code_point(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) {
		if (cp == '"' || cp == '\\') {
			o[0] = '\\';
			o[1] = (uint8_t)cp;
			return 2;
		}
		o[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (uint8_t)(0xc0 | cp >> 6);
		o[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12);
		o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18);
	o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A string at in[pos] == '"'. Decodes escapes and re-encodes with only `"`
 * and `\` escaped. A \uD800-\uDBFF escape must be followed at once by a
 * \uDC00-\uDFFF escape (jansson's rule); \u0000 is refused because jansson
 * refuses NUL in strings and keys without JSON_ALLOW_NUL.
 */
/*
 * True if none of the 8 bytes in x needs a look: no control character, no
 * byte >= 0x80, no `"`, no `\`. (The zero-byte tests below may flag the
 * wrong byte, never a clean word: a false "no" only sends the word to the
 * byte-by-byte path.)
 */
static inline bool plain8(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return !(((x - ones * 0x20) & ~x & highs) | (x & highs) | ((q - ones) & ~q & highs) |
		 ((b - ones) & ~b & highs));
}

static enum upk_err parse_string(struct jc *c)
{
	const uint8_t *in = c->in;
	const size_t len = c->len;
	uint8_t *o = c->out;
	size_t i = c->pos + 1, w = c->w;

	o[w++] = '"';
	for (;;) {
		uint8_t ch;
		uint32_t cp, lo;
		size_t n;

		/* Eight plain bytes at a time: most of a targets file is hex digests. */
		while (len - i >= 8) {
			uint64_t x;

			memcpy(&x, in + i, 8);
			if (!plain8(x))
				break;
			memcpy(o + w, in + i, 8);
			w += 8;
			i += 8;
		}
		if (i >= len)
			return jc_fail(c, c->pos, "unterminated string");
		ch = in[i];
		if (ch >= 0x20 && ch < 0x80 && ch != '"' && ch != '\\') {
			o[w++] = ch;
			i++;
			continue;
		}
		if (ch == '"')
			break;
		if (ch < 0x20)
			return jc_fail(c, i, "control character in string");
		if (ch >= 0x80) {
			n = upk_utf8_seq_len(in + i, len - i);
			if (n == 0)
				return jc_fail(c, i, "invalid UTF-8 in string");
			memcpy(o + w, in + i, n);
			w += n;
			i += n;
			continue;
		}
		/* A backslash. */
		if (i + 1 >= len)
			return jc_fail(c, c->pos, "unterminated string");
		switch (in[i + 1]) {
		case '"':
		case '\\':
			o[w++] = '\\';
			o[w++] = in[i + 1];
			break;
		case '/':
			o[w++] = '/';
			break;
		case 'b':
			o[w++] = '\b';
			break;
		case 'f':
			o[w++] = '\f';
			break;
		case 'n':
			o[w++] = '\n';
			break;
		case 'r':
			o[w++] = '\r';
			break;
		case 't':
			o[w++] = '\t';
			break;
		case 'u':
			if (!read_hex4(in, len, i + 2, &cp))
				return jc_fail(c, i, "invalid \\u escape");
			if (cp == 0)
				return jc_fail(c, i, "\\u0000 is not allowed");
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return jc_fail(c, i, "lone low surrogate escape");
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (i + 7 >= len || in[i + 6] != '\\' || in[i + 7] != 'u' ||
				    !read_hex4(in, len, i + 8, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return jc_fail(c, i,
						       "high surrogate escape not followed "
						       "by a low surrogate escape");
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				i += 6;
			}
			w += put_code_point(o + w, cp);
			i += 4;
			break;
		default:
			return jc_fail(c, i, "invalid escape");
		}
		i += 2;
	}
	o[w++] = '"';
	c->pos = i + 1;
	c->w = w;
	return UPK_OK;
}

/*
 * An integer: -?(0|[1-9][0-9]*) in int64 range, written back in decimal with
 * "-0" as "0" (jansson reads it with strtoll, the encoder prints the value).
 * A fraction or exponent makes it a real, which TUF metadata cannot hold.
 */
static enum upk_err parse_number(struct jc *c)
{
	static const char int64_max[] = "9223372036854775807";
	static const char int64_min[] = "9223372036854775808";
	const uint8_t *in = c->in;
	size_t start = c->pos, i = start, d0, nd;
	bool neg = false;

	if (in[i] == '-') {
		neg = true;
		i++;
	}
	d0 = i;
	if (i >= c->len || in[i] < '0' || in[i] > '9')
		return jc_fail(c, start, "invalid number");
	if (in[i] == '0') {
		i++;
		if (i < c->len && in[i] >= '0' && in[i] <= '9')
			return jc_fail(c, start, "leading zero in number");
	} else {
		while (i < c->len && in[i] >= '0' && in[i] <= '9')
			i++;
	}
	if (i < c->len && (in[i] == '.' || in[i] == 'e' || in[i] == 'E'))
		return jc_fail(c, start, "real numbers are not allowed");
	nd = i - d0;
	if (nd > 19 || (nd == 19 && memcmp(in + d0, neg ? int64_min : int64_max, 19) > 0))
		return jc_fail(c, start, "integer out of int64 range");
	if (neg && !(nd == 1 && in[d0] == '0'))
		c->out[c->w++] = '-';
	memcpy(c->out + c->w, in + d0, nd);
	c->w += nd;
	c->pos = i;
	return UPK_OK;
}

static enum upk_err parse_literal(struct jc *c, const char *lit, size_t n)
{
	if (c->len - c->pos < n || memcmp(c->in + c->pos, lit, n) != 0)
		return jc_fail(c, c->pos, "invalid token");
	memcpy(c->out + c->w, lit, n);
	c->w += n;
	c->pos += n;
	return UPK_OK;
}

/*
 * Compare two encoded key contents (between the quotes) by their decoded
 * bytes: Python orders str keys by code point, which for UTF-8 is byte
 * order, but the encoding's `\"` and `\\` escapes would not sort as the
 * characters they stand for. Equal encodings are equal keys and vice versa.
 */
static int key_cmp(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	size_t i = 0, j = 0;

	while (i < an && j < bn) {
		uint8_t x = a[i], y = b[j];

		if (x == '\\' && i + 1 < an)
			x = a[++i];
		if (y == '\\' && j + 1 < bn)
			y = b[++j];
		if (x != y)
			return x < y ? -1 : 1;
		i++;
		j++;
	}
	return (i < an) - (j < bn);
}

/*
 * Scanners over canonical output (ours, or any canonical JSON): bounded by
 * end whatever the bytes. canon_string_end: s[i] is '"'; returns the index
 * just past the closing quote (end if there is none).
 */
static size_t canon_string_end(const uint8_t *s, size_t i, size_t end)
{
	for (i++; i < end; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return end;
}

/* End of the value starting at s[i]: the index of the ',' '}' or ']' that follows it, or end. */
static size_t canon_value_end(const uint8_t *s, size_t i, size_t end)
{
	size_t depth = 0;

	while (i < end) {
		uint8_t ch = s[i];

		if (ch == '"') {
			i = canon_string_end(s, i, end);
			continue;
		}
		if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (depth == 0)
				return i;
			depth--;
		} else if (ch == ',' && depth == 0) {
			return i;
		}
		i++;
	}
	return end;
}

/* Whether encoded key content enc[0..en) decodes to plain[0..pn). */
static bool key_is(const uint8_t *enc, size_t en, const char *plain, size_t pn)
{
	size_t i = 0, j = 0;

	for (; i < en && j < pn; i++, j++) {
		if (enc[i] == '\\' && i + 1 < en)
			i++;
		if (enc[i] != (uint8_t)plain[j])
			return false;
	}
	return i == en && j == pn;
}

struct member {
	const uint8_t *key; /* encoded, between the quotes */
	size_t keylen;
	const uint8_t *bytes; /* "key":value */
	size_t len;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	return key_cmp(x->key, x->keylen, y->key, y->keylen);
}

/*
 * Sort the n members of the object encoded at out[start..c->w) (already
 * canonical inside, keys in arrival order) by key, and refuse duplicates,
 * which the in-order check could not see once the order broke. Works on a
 * copy of the region; the result has the same length.
 */
static enum upk_err sort_object(struct jc *c, size_t start, size_t n, size_t in_at)
{
	_cleanup_free_ uint8_t *tmp = NULL;
	_cleanup_free_ struct member *m = NULL;
	size_t size = c->w - start, i = 1, w = start;

	tmp = malloc(size);
	m = calloc(n, sizeof(*m));
	if (!tmp || !m)
		return upk_diag_set(c->diag, UPK_E_NOMEM, "", (int64_t)in_at, "out of memory");
	memcpy(tmp, c->out + start, size);
	for (size_t k = 0; k < n; k++) {
		size_t ke = canon_string_end(tmp, i, size);
		size_t ve = canon_value_end(tmp, ke + 1, size);

		/* Our own encoding: anything else is a bug here, not bad input. */
		if (tmp[i] != '"' || ke < i + 2 || ve >= size || tmp[ke] != ':' ||
		    tmp[ve] != (k + 1 < n ? ',' : '}'))
			return upk_diag_set(c->diag, UPK_E_INTERNAL, "", (int64_t)in_at,
					    "cannot re-scan encoded object");
		m[k] = (struct member){ tmp + i + 1, ke - i - 2, tmp + i, ve - i };
		i = ve + 1;
	}
	qsort(m, n, sizeof(*m), member_cmp);
	for (size_t k = 1; k < n; k++) {
		if (member_cmp(&m[k - 1], &m[k]) == 0)
			return jc_fail(c, in_at, "duplicate object key");
	}
	c->out[w++] = '{';
	for (size_t k = 0; k < n; k++) {
		if (k > 0)
			c->out[w++] = ',';
		memcpy(c->out + w, m[k].bytes, m[k].len);
		w += m[k].len;
	}
	c->out[w++] = '}';
	assert(w == c->w);
	return UPK_OK;
}

static enum upk_err parse_value(struct jc *c, size_t depth);

/*
 * An object at in[pos] == '{'. Keys are compared with the previous one as
 * they arrive: equal is a duplicate, smaller means the object must be sorted
 * when it closes (and duplicates are then found after sorting).
 */
static enum upk_err parse_object(struct jc *c, size_t depth)
{
	size_t in_at = c->pos, start = c->w, n = 0, prev = 0, prevlen = 0;
	bool sorted = true;
	enum upk_err r;

	c->out[c->w++] = '{';
	c->pos++;
	skip_ws(c);
	if (c->pos < c->len && c->in[c->pos] == '}') {
		c->out[c->w++] = '}';
		c->pos++;
		return UPK_OK;
	}
	for (;;) {
		size_t key_at = c->pos, key;

		if (c->pos >= c->len || c->in[c->pos] != '"')
			return jc_fail(c, c->pos, "object key (a string) expected");
		key = c->w + 1;
		r = parse_string(c);
		if (r)
			return r;
		if (sorted && n > 0) {
			int cmp = key_cmp(c->out + prev, prevlen, c->out + key, c->w - 1 - key);

			if (cmp == 0)
				return jc_fail(c, key_at, "duplicate object key");
			sorted = cmp < 0;
		}
		prev = key;
		prevlen = c->w - 1 - key;
		n++;
		skip_ws(c);
		if (c->pos >= c->len || c->in[c->pos] != ':')
			return jc_fail(c, c->pos, "':' expected after object key");
		c->out[c->w++] = ':';
		c->pos++;
		r = parse_value(c, depth + 1);
		if (r)
			return r;
		skip_ws(c);
		if (c->pos < c->len && c->in[c->pos] == ',') {
			c->out[c->w++] = ',';
			c->pos++;
			skip_ws(c);
			continue;
		}
		if (c->pos < c->len && c->in[c->pos] == '}') {
			c->out[c->w++] = '}';
			c->pos++;
			break;
		}
		return jc_fail(c, c->pos, "',' or '}' expected in object");
	}
	return sorted ? UPK_OK : sort_object(c, start, n, in_at);
}

static enum upk_err parse_array(struct jc *c, size_t depth)
{
	enum upk_err r;

	c->out[c->w++] = '[';
	c->pos++;
	skip_ws(c);
	if (c->pos < c->len && c->in[c->pos] == ']') {
		c->out[c->w++] = ']';
		c->pos++;
		return UPK_OK;
	}
	for (;;) {
		r = parse_value(c, depth + 1);
		if (r)
			return r;
		skip_ws(c);
		if (c->pos < c->len && c->in[c->pos] == ',') {
			c->out[c->w++] = ',';
			c->pos++;
			continue;
		}
		if (c->pos < c->len && c->in[c->pos] == ']') {
			c->out[c->w++] = ']';
			c->pos++;
			return UPK_OK;
		}
		return jc_fail(c, c->pos, "',' or ']' expected in array");
	}
}

/* Recursion is bounded: a container at depth UPK_JSON_MAX_DEPTH is refused. */
static enum upk_err parse_value(struct jc *c, size_t depth)
{
	skip_ws(c);
	if (c->pos >= c->len)
		return jc_fail(c, c->pos, "value expected");
	switch (c->in[c->pos]) {
	case '{':
		if (depth >= UPK_JSON_MAX_DEPTH)
			return jc_fail(c, c->pos, "nesting too deep");
		return parse_object(c, depth);
	case '[':
		if (depth >= UPK_JSON_MAX_DEPTH)
			return jc_fail(c, c->pos, "nesting too deep");
		return parse_array(c, depth);
	case '"':
		return parse_string(c);
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		return parse_number(c);
	case 't':
		return parse_literal(c, "true", 4);
	case 'f':
		return parse_literal(c, "false", 5);
	case 'n':
		return parse_literal(c, "null", 4);
	default:
		return jc_fail(c, c->pos, "invalid token");
	}
}

enum upk_err upk_json_canonicalize(const uint8_t *data, size_t len, size_t max_len,
				   struct upk_buf *out, struct upk_diag *reterr_diag)
{
	struct jc c = { .diag = reterr_diag };
	size_t len0;
	enum upk_err r;

	assert(out && (data || len == 0));
	/* The limit comes first: nothing is allocated for an oversized input. */
	if (len > max_len)
		return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, "", -1,
				    "JSON document of %zu bytes exceeds the limit of %zu bytes",
				    len, max_len);
	if (len == 0)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "", 0, "empty JSON document");
	r = upk_buf_reserve(out, len);
	if (r)
		return upk_diag_set(reterr_diag, r, "", -1, "out of memory");
	len0 = out->len;
	c.in = data;
	c.len = len;
	c.out = out->data;
	c.w = c.base = len0;
	skip_ws(&c);
	if (c.pos >= len || (data[c.pos] != '{' && data[c.pos] != '['))
		r = jc_fail(&c, c.pos, "top level must be an object or an array");
	else
		r = parse_value(&c, 0);
	if (!r) {
		skip_ws(&c);
		if (c.pos != len)
			r = jc_fail(&c, c.pos, "trailing data after the top-level value");
	}
	if (r) {
		out->data[len0] = 0;
		return r;
	}
	assert(c.w - len0 <= len);
	out->len = c.w;
	out->data[out->len] = 0;
	return UPK_OK;
}

enum upk_err upk_json_canonical_member(const uint8_t *canon, size_t len, const char *key,
				       size_t *ret_off, size_t *ret_len)
{
	size_t keylen, i = 1;

	assert(key && ret_off && ret_len);
	keylen = strlen(key);
	if (!canon || len < 2 || canon[0] != '{' || canon[len - 1] != '}')
		return UPK_E_FORMAT;
	if (len == 2)
		return UPK_E_NOT_FOUND;
	for (;;) {
		size_t ke, ve;

		if (i >= len || canon[i] != '"')
			return UPK_E_FORMAT;
		ke = canon_string_end(canon, i, len);
		if (ke < i + 2 || ke >= len || canon[ke] != ':')
			return UPK_E_FORMAT;
		ve = canon_value_end(canon, ke + 1, len);
		if (ve >= len || ve == ke + 1)
			return UPK_E_FORMAT;
		if (key_is(canon + i + 1, ke - i - 2, key, keylen)) {
			*ret_off = ke + 1;
			*ret_len = ve - ke - 1;
			return UPK_OK;
		}
		if (canon[ve] == '}')
			return ve == len - 1 ? UPK_E_NOT_FOUND : UPK_E_FORMAT;
		if (canon[ve] != ',')
			return UPK_E_FORMAT;
		i = ve + 1;
	}
}
