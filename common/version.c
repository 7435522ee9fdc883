/* SPDX-License-Identifier: Apache-2.0 */
#include "version.h"

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_ident_char(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

/*
 * Numeric identifier s[0..n): "0" or a non-zero digit then digits, value in
 * 64 bits. Checked by hand because strtoull accepts signs, spaces and
 * leading zeros.
 */
static bool numeric_ident(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || (n > 1 && s[0] == '0'))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(s[i] - '0'), &v))
			return false;
	}
	*ret = v;
	return true;
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
	}
	return true;
}

/* Length of the run of digits at s. */
static size_t digit_run(const char *s)
{
	size_t n = 0;

	while (is_digit(s[n]))
		n++;
	return n;
}

/*
 * Dot-separated identifiers s[0..n), none empty, [0-9A-Za-z-] only; with
 * `pre`, numeric ones follow numeric_ident (build metadata may have leading
 * zeros, SemVer §10).
 */
static bool ident_list(const char *s, size_t n, bool pre)
{
	size_t start = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i <= n; i++) {
		size_t len;
		uint64_t ignored;

		if (i < n && s[i] != '.') {
			if (!is_ident_char(s[i]))
				return false;
			continue;
		}
		len = i - start;
		if (len == 0)
			return false;
		if (pre && all_digits(s + start, len) && !numeric_ident(s + start, len, &ignored))
			return false;
		start = i + 1;
	}
	return true;
}

enum upk_err upk_semver_parse(const char *s, struct upk_semver *ret)
{
	struct upk_semver v = { 0 };
	const char *p = s, *pre = NULL, *build = NULL;
	size_t n, len, pre_len = 0, build_len = 0;

	assert(s && ret);
	len = strnlen(s, UPK_SEMVER_MAX_LEN);
	if (len >= UPK_SEMVER_MAX_LEN)
		return UPK_E_FORMAT;

	n = digit_run(p);
	if (!numeric_ident(p, n, &v.major) || p[n] != '.')
		return UPK_E_FORMAT;
	p += n + 1;
	n = digit_run(p);
	if (!numeric_ident(p, n, &v.minor) || p[n] != '.')
		return UPK_E_FORMAT;
	p += n + 1;
	n = digit_run(p);
	if (!numeric_ident(p, n, &v.patch))
		return UPK_E_FORMAT;
	p += n;

	if (*p == '-') {
		pre = ++p;
		while (*p && *p != '+')
			p++;
		pre_len = (size_t)(p - pre);
		if (!ident_list(pre, pre_len, true))
			return UPK_E_FORMAT;
	}
	if (*p == '+') {
		build = ++p;
		build_len = strlen(p);
		p += build_len;
		if (!ident_list(build, build_len, false))
			return UPK_E_FORMAT;
	}
	if (*p)
		return UPK_E_FORMAT;

	/* Both fit: each is a part of s, which is shorter than UPK_SEMVER_MAX_LEN. */
	if (pre)
		memcpy(v.pre, pre, pre_len);
	if (build)
		memcpy(v.build, build, build_len);
	*ret = v;
	return UPK_OK;
}

static int cmp_u64(uint64_t a, uint64_t b)
{
	return (a > b) - (a < b);
}

/*
 * One pre-release identifier each (SemVer §11.4.1-3): numeric ones compare
 * as numbers (no leading zeros, so longer is larger, equal lengths compare
 * by digits), numeric is lower than alphanumeric, alphanumeric ones compare
 * in ASCII order.
 */
static int cmp_ident(const char *a, size_t an, const char *b, size_t bn)
{
	bool anum = all_digits(a, an), bnum = all_digits(b, bn);
	int c;

	if (anum && bnum) {
		if (an != bn)
			return an < bn ? -1 : 1;
		c = memcmp(a, b, an);
		return (c > 0) - (c < 0);
	}
	if (anum != bnum)
		return anum ? -1 : 1;
	c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return (c > 0) - (c < 0);
	return cmp_u64(an, bn);
}

int upk_semver_cmp(const struct upk_semver *a, const struct upk_semver *b)
{
	const char *pa, *pb;
	int c;

	assert(a && b);
	c = cmp_u64(a->major, b->major);
	if (!c)
		c = cmp_u64(a->minor, b->minor);
	if (!c)
		c = cmp_u64(a->patch, b->patch);
	if (c)
		return c;
	/* §11.3: a pre-release has lower precedence than the release. */
	if (!a->pre[0] || !b->pre[0])
		return (!a->pre[0]) - (!b->pre[0]);
	pa = a->pre;
	pb = b->pre;
	for (;;) {
		size_t an = strcspn(pa, "."), bn = strcspn(pb, ".");

		c = cmp_ident(pa, an, pb, bn);
		if (c)
			return c;
		pa += an;
		pb += bn;
		/* §11.4.4: the larger set of identifiers wins when all before are equal. */
		if (!*pa || !*pb)
			return (*pa != 0) - (*pb != 0);
		pa++;
		pb++;
	}
}

enum upk_err upk_secver_parse(const char *s, uint64_t *ret)
{
	uint64_t v;
	size_t n;

	assert(s && ret);
	n = digit_run(s);
	if (s[n] || !numeric_ident(s, n, &v) || v > (uint64_t)INT64_MAX)
		return UPK_E_FORMAT;
	*ret = v;
	return UPK_OK;
}
