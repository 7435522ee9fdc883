/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Target search helpers (TUF 1.0 §5.6.7): PATHPATTERN matching with
 * Python's fnmatch rules one path segment at a time (python-tuf
 * DelegatedRole._is_target_in_pathpattern), hash prefixes, TAP 15 bins,
 * and the pre-order depth-first walk of python-tuf's Updater.
 */
#include "delegation.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* fnmatch over code points. */

/* Decode n bytes of UTF-8 into out (room for n code points); false if invalid. */
static bool utf8_decode(const char *s, size_t n, uint32_t *out, size_t *ret_n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k = 0;

	while (i < n) {
		uint32_t c = p[i], min;
		size_t len;

		if (c < 0x80) {
			out[k++] = c;
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			len = 2, c &= 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			len = 3, c &= 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			len = 4, c &= 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i < len)
			return false;
		for (size_t j = 1; j < len; j++) {
			if ((p[i + j] & 0xc0) != 0x80)
				return false;
			c = c << 6 | (p[i + j] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
		out[k++] = c;
		i += len;
	}
	*ret_n = k;
	return true;
}

/*
 * Python's fnmatch set `[...]` whose content is p[i..j) (j is the closing
 * ']'): is c in it? Mirrors fnmatch._translate: a '-' (not the first char,
 * nor one right after a range) splits the content into chunks; the last
 * char of one chunk and the first of the next form a range; a reversed
 * range is removed by dropping both ends and joining the chunks; every
 * other char, a '-' inside a chunk or trailing included, is literal. The
 * regex set is then read as Python's re reads it: after a range, a join
 * '-' is a literal.
 */
struct set_tok {
	uint32_t c;
	bool join; /* a range '-' between two chunks */
};

static bool set_has(const uint32_t *p, size_t i, size_t j, uint32_t c)
{
	bool negate = p[i] == '!', found = false;
	size_t n = j - i, n_chunks = 0, nt = 0, k, start;
	struct set_tok stack_toks[64];
	size_t stack_ends[64];
	bool stack_drop[64], stack_nojoin[64];
	_cleanup_free_ struct set_tok *heap_toks = NULL;
	_cleanup_free_ size_t *heap_ends = NULL;
	_cleanup_free_ bool *heap_drop = NULL, *heap_nojoin = NULL;
	struct set_tok *toks = stack_toks;
	size_t *ends = stack_ends; /* chunk m is p[ends[m-1]+1 .. ends[m]) (from i for m = 0) */
	bool *drop = stack_drop, *nojoin = stack_nojoin, dash = false;

	if (2 * n + 2 > UPK_ARRAY_SIZE(stack_toks)) {
		heap_toks = calloc(2 * n + 2, sizeof(*toks));
		heap_ends = calloc(n + 1, sizeof(*ends));
		heap_drop = calloc(n + 1, sizeof(*drop));
		heap_nojoin = calloc(n + 1, sizeof(*nojoin));
		if (!heap_toks || !heap_ends || !heap_drop || !heap_nojoin)
			return false;
		toks = heap_toks, ends = heap_ends, drop = heap_drop, nojoin = heap_nojoin;
	}
	memset(drop, 0, (n + 1) * sizeof(*drop));
	memset(nojoin, 0, (n + 1) * sizeof(*nojoin));

	/* Split at '-': the search starts past a leading '!' and its first char. */
	start = i;
	k = negate ? i + 2 : i + 1;
	for (;;) {
		while (k < j && p[k] != '-')
			k++;
		if (k >= j)
			break;
		ends[n_chunks++] = k;
		start = k + 1;
		k += 3;
	}
	if (start < j)
		ends[n_chunks++] = j;
	else if (n_chunks > 0)
		dash = true; /* a trailing '-' is literal, added to the last chunk */
	else
		ends[n_chunks++] = j;

	/*
	 * Reversed ranges, from the last join to the first. Middle chunks hold
	 * at least two chars, so the chars compared are never already dropped.
	 */
	for (size_t m = n_chunks - 1; m >= 1; m--) {
		size_t a_last = ends[m - 1] - 1, b_first = ends[m - 1] + 1;

		if (p[a_last] > p[b_first]) {
			drop[a_last - i] = true;
			drop[b_first - i] = true;
			nojoin[m] = true;
		}
	}

	for (size_t m = 0; m < n_chunks; m++) {
		size_t s = m == 0 ? i : ends[m - 1] + 1;

		if (m == 0 && negate)
			s++;
		if (m > 0 && !nojoin[m])
			toks[nt++] = (struct set_tok){ '-', true };
		for (size_t t = s; t < ends[m]; t++) {
			if (!drop[t - i])
				toks[nt++] = (struct set_tok){ p[t], false };
		}
	}
	if (dash)
		toks[nt++] = (struct set_tok){ '-', false };

	for (size_t t = 0; t < nt;) {
		uint32_t lo = toks[t++].c;

		if (t + 1 < nt && toks[t].join && !toks[t + 1].join) {
			uint32_t hi = toks[t + 1].c;

			t += 2;
			if (c >= lo && c <= hi)
				found = true;
		} else if (c == lo) {
			found = true;
		}
	}
	return negate ? !found : found;
}

/*
 * Does pattern token p[*pi] match one char c? Advances *pi past the token.
 * A '[' without a closing ']' is a literal '['.
 */
static bool token_match(const uint32_t *p, size_t np, size_t *pi, uint32_t c)
{
	size_t i = *pi, j;

	if (p[i] == '?') {
		*pi = i + 1;
		return true;
	}
	if (p[i] != '[') {
		*pi = i + 1;
		return p[i] == c;
	}
	j = i + 1;
	if (j < np && p[j] == '!')
		j++;
	if (j < np && p[j] == ']')
		j++;
	while (j < np && p[j] != ']')
		j++;
	if (j >= np) {
		*pi = i + 1;
		return c == '[';
	}
	*pi = j + 1;
	return set_has(p, i + 1, j, c);
}

/*
 * Wildcard match with one backtracking point (the last '*'): every other
 * token matches exactly one char, so this is exact and O(np * ns).
 */
static bool segment_match(const uint32_t *p, size_t np, const uint32_t *s, size_t ns)
{
	size_t pi = 0, si = 0, star_p = 0, star_s = 0;
	bool star = false;

	while (si < ns) {
		size_t next = pi;

		if (pi < np && p[pi] == '*') {
			star = true;
			star_p = ++pi;
			star_s = si;
		} else if (pi < np && token_match(p, np, &next, s[si])) {
			pi = next;
			si++;
		} else if (star) {
			pi = star_p;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < np && p[pi] == '*')
		pi++;
	return pi == np;
}

bool upk_deleg_path_match(const char *pattern, const char *path)
{
	size_t plen = strlen(pattern), slen = strlen(path), np, ns;
	_cleanup_free_ uint32_t *p = calloc(plen + 1, sizeof(*p));
	_cleanup_free_ uint32_t *s = calloc(slen + 1, sizeof(*s));
	size_t pa = 0, sa = 0;

	if (!p || !s || !utf8_decode(pattern, plen, p, &np) || !utf8_decode(path, slen, s, &ns))
		return false;
	/* Segment by segment: both must run out of '/' together. */
	for (;;) {
		size_t pb = pa, sb = sa;

		while (pb < np && p[pb] != '/')
			pb++;
		while (sb < ns && s[sb] != '/')
			sb++;
		if (!segment_match(p + pa, pb - pa, s + sa, sb - sa))
			return false;
		if (pb == np || sb == ns)
			return pb == np && sb == ns;
		pa = pb + 1;
		sa = sb + 1;
	}
}

/* ------------------------------------------------------------------------ */
/* Hash prefixes and succinct bins. */

bool upk_deleg_role_matches(const struct upk_delegated_role *role, const char *path,
			    const uint8_t path_sha256[UPK_SHA256_LEN])
{
	char hex[2 * UPK_SHA256_LEN + 1];

	if (role->has_paths) {
		for (size_t i = 0; i < role->n_paths; i++) {
			if (upk_deleg_path_match(role->paths[i], path))
				return true;
		}
		return false;
	}
	upk_hex_encode(path_sha256, UPK_SHA256_LEN, hex);
	for (size_t i = 0; i < role->n_prefixes; i++) {
		size_t n = strlen(role->prefixes[i]);

		if (n <= 2 * UPK_SHA256_LEN && memcmp(hex, role->prefixes[i], n) == 0)
			return true;
	}
	return false;
}

char *upk_deleg_succinct_bin(const struct upk_succinct_roles *succinct,
			     const uint8_t path_sha256[UPK_SHA256_LEN])
{
	uint32_t first = (uint32_t)path_sha256[0] << 24 | (uint32_t)path_sha256[1] << 16 |
			 (uint32_t)path_sha256[2] << 8 | path_sha256[3];
	int bits = succinct->bit_length, width;
	size_t len;
	uint32_t bin;
	char *name;

	if (bits < 1 || bits > 32)
		return NULL;
	/* The leftmost bit_length bits (python-tuf SuccinctRoles.get_role_for_target). */
	bin = bits == 32 ? first : first >> (32 - bits);
	width = (bits + 3) / 4;
	/* prefix, '-', at most 8 hex digits, NUL */
	if (!upk_size_add(strlen(succinct->name_prefix), 10, &len))
		return NULL;
	name = malloc(len);
	if (name)
		snprintf(name, len, "%s-%0*" PRIx32, succinct->name_prefix, width, bin);
	return name;
}

/* ------------------------------------------------------------------------ */
/* The walk. */

static void item_free(struct upk_walk_item *it)
{
	free(it->owned);
	it->owned = NULL;
}

static enum upk_err grow(struct upk_walk_item **arr, size_t *cap, size_t need)
{
	struct upk_walk_item *n;
	size_t c = *cap ? *cap : 8;

	if (need <= *cap)
		return UPK_OK;
	while (c < need) {
		if (!upk_size_mul(c, 2, &c))
			return UPK_E_NOMEM;
	}
	if (!upk_size_mul(c, sizeof(**arr), &(size_t){ 0 }))
		return UPK_E_NOMEM;
	n = realloc(*arr, c * sizeof(**arr));
	if (!n)
		return UPK_E_NOMEM;
	*arr = n;
	*cap = c;
	return UPK_OK;
}

enum upk_err upk_walk_init(struct upk_walk *w, const char *path, size_t max_roles)
{
	uint8_t digest[UPK_HASH_MAX_LEN];
	enum upk_err r;

	memset(w, 0, sizeof(*w));
	w->path = path;
	w->max_roles = max_roles;
	r = upk_hash_oneshot(UPK_HASH_SHA256, path, strlen(path), digest);
	if (r)
		return r;
	memcpy(w->path_sha256, digest, UPK_SHA256_LEN);
	r = grow(&w->stack, &w->cap_stack, 1);
	if (r)
		return r;
	w->stack[w->n_stack++] = (struct upk_walk_item){ "targets", "root", NULL };
	return UPK_OK;
}

static bool was_visited(const struct upk_walk *w, const char *role)
{
	for (size_t i = 0; i < w->n_visited; i++) {
		if (strcmp(w->visited[i].role, role) == 0)
			return true;
	}
	return false;
}

bool upk_walk_next(struct upk_walk *w, const char **ret_role, const char **ret_delegator)
{
	if (w->has_cur) {
		/* The caller skipped upk_walk_visit: the role failed to load. */
		item_free(&w->cur);
		w->has_cur = false;
	}
	while (w->n_stack > 0 && w->n_visited < w->max_roles) {
		struct upk_walk_item it = w->stack[--w->n_stack];

		/* §5.6.7.1: a role visited before is skipped (cycles). */
		if (was_visited(w, it.role)) {
			item_free(&it);
			continue;
		}
		w->cur = it;
		w->has_cur = true;
		*ret_role = it.role;
		*ret_delegator = it.delegator;
		return true;
	}
	return false;
}

static void clear_stack(struct upk_walk *w)
{
	for (size_t i = 0; i < w->n_stack; i++)
		item_free(&w->stack[i]);
	w->n_stack = 0;
}

enum upk_err upk_walk_visit(struct upk_walk *w, const struct upk_meta *role_meta,
			    const struct upk_target **ret_target)
{
	const struct upk_delegations *d = &role_meta->delegations;
	const struct upk_target *t;
	const char *self;
	size_t first, n_children = 0;
	enum upk_err r;

	if (!w->has_cur)
		return UPK_E_INTERNAL;
	r = grow(&w->visited, &w->cap_visited, w->n_visited + 1);
	if (r)
		return r;
	/* §5.6.7.1: this role lists the target: the search ends here. */
	r = upk_meta_lookup_target(role_meta, w->path, &t);
	if (r == UPK_E_NOT_FOUND)
		t = NULL;
	else if (r)
		return r;
	w->visited[w->n_visited++] = w->cur;
	w->has_cur = false;
	self = w->visited[w->n_visited - 1].role;
	if (t) {
		*ret_target = t;
		return UPK_OK;
	}
	*ret_target = NULL;
	if (!role_meta->has_delegations)
		return UPK_OK;

	if (d->has_succinct) {
		/* TAP 15: one bin holds the path, and bins are terminating. */
		char *bin = upk_deleg_succinct_bin(&d->succinct, w->path_sha256);

		if (!bin)
			return UPK_E_NOMEM;
		clear_stack(w);
		r = grow(&w->stack, &w->cap_stack, 1);
		if (r) {
			free(bin);
			return r;
		}
		w->stack[w->n_stack++] = (struct upk_walk_item){ bin, self, bin };
		return UPK_OK;
	}

	/*
	 * §5.6.7.2: matching delegations in order of appearance; a
	 * terminating one ends the search outside its subtree. They are
	 * pushed in reverse so that the first is visited first.
	 */
	first = w->n_stack;
	for (size_t i = 0; i < d->n_roles; i++) {
		const struct upk_delegated_role *dr = &d->roles[i];

		if (!upk_deleg_role_matches(dr, w->path, w->path_sha256))
			continue;
		r = grow(&w->stack, &w->cap_stack, w->n_stack + 1);
		if (r)
			return r;
		w->stack[w->n_stack++] = (struct upk_walk_item){ dr->name, self, NULL };
		n_children++;
		if (dr->terminating) {
			/* Drop everything queued before this role's siblings. */
			for (size_t k = 0; k < first; k++)
				item_free(&w->stack[k]);
			memmove(w->stack, w->stack + first, n_children * sizeof(*w->stack));
			w->n_stack = n_children;
			first = 0;
			break;
		}
	}
	for (size_t a = first, b = w->n_stack; a + 1 < b; a++, b--) {
		struct upk_walk_item tmp = w->stack[a];

		w->stack[a] = w->stack[b - 1];
		w->stack[b - 1] = tmp;
	}
	return UPK_OK;
}

size_t upk_walk_visited(const struct upk_walk *w)
{
	return w->n_visited;
}

void upk_walk_done(struct upk_walk *w)
{
	clear_stack(w);
	free(w->stack);
	for (size_t i = 0; i < w->n_visited; i++)
		item_free(&w->visited[i]);
	free(w->visited);
	if (w->has_cur)
		item_free(&w->cur);
	memset(w, 0, sizeof(*w));
}
