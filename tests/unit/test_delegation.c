/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for common/delegation: PATHPATTERN matching against a table
 * computed with Python's fnmatch (python-tuf's matcher), hash prefixes,
 * TAP 15 bin names (vectors from Python's hashlib), and the pre-order
 * depth-first walk on the delegation graphs of the TUF conformance suite
 * (order, terminating delegations, cycles, diamonds, the role cap).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "delegation.h"
#include "hex.h"
#include "json.h"
#include "meta.h"

#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/* A key id no key has: delegations may name keys absent from their map. */
#define KEYID "00000000000000000000000000000000000000000000000000000000000000aa"

struct fn_case {
	const char *pattern, *path;
	bool match;
};

/* Expected values from Python 3.11: fnmatch.fnmatchcase per '/'-segment, as python-tuf. */
static const struct fn_case fn_cases[] = {
	{ "targets/*.tgz", "targets/foo.tgz", true },
	{ "targets/*.tgz", "targets/foo.txt", false },
	{ "foo-version-?.tgz", "foo-version-2.tgz", true },
	{ "foo-version-?.tgz", "foo-version-a.tgz", true },
	{ "foo-version-?.tgz", "foo-version-alpha.tgz", false },
	{ "*.tgz", "foo.tgz", true },
	{ "*.tgz", "targets/foo.tgz", false },
	{ "foo.tgz", "foo.tgz", true },
	{ "foo.tgz", "bar.tgz", false },
	{ "*", "a/b", false },
	{ "*/*", "a/b", true },
	{ "*", "", true },
	{ "", "", true },
	{ "", "a", false },
	{ "a/*", "a/", true },
	{ "a//b", "a//b", true },
	{ "a/*/b", "a//b", true },
	{ "/a", "/a", true },
	{ "*/a", "/a", true },
	{ "*.MD", "README.md", false },
	{ "README.md", "README.MD", false },
	{ "[abc]x", "bx", true },
	{ "[abc]x", "dx", false },
	{ "[!abc]x", "dx", true },
	{ "[!abc]x", "ax", false },
	{ "[a-c]", "b", true },
	{ "[a-c]", "d", false },
	{ "[z-a]", "z", false },
	{ "[z-a]", "-", false },
	{ "[!z-a]", "q", true },
	{ "[]]", "]", true },
	{ "[]a]", "a", true },
	{ "[!]]", "]", false },
	{ "[!]]", "x", true },
	{ "[a-]", "-", true },
	{ "[-a]", "-", true },
	{ "[a-c-e]", "-", true },
	{ "[a-c-e]", "d", false },
	{ "[a-c-e]", "e", true },
	{ "[b-a-c]", "b", false },
	{ "[b-a-c]", "-", true },
	{ "[", "[", true },
	{ "[a", "[a", true },
	{ "[!", "[!", true },
	{ "[]", "[]", true },
	{ "\\*", "\\x", true },
	{ "\\*", "*", false },
	{ "[\\]", "\\", true },
	{ "[^a]", "^", true },
	{ "[^a]", "b", false },
	{ "a*b*c", "aXbYc", true },
	{ "a*b*c", "aXbY", false },
	{ "*a*a*a*", "aaa", true },
	{ "**", "x", true },
	{ "?",
	  "\xc3"
	  "\xa9",
	  true },
	{ "??",
	  "\xc3"
	  "\xa9",
	  false },
	{ "[\xc3"
	  "\xa0"
	  "-\xc3"
	  "\xbf"
	  "]",
	  "\xc3"
	  "\xa9",
	  true },
	{ "*\xe4"
	  "\xb8"
	  "\xad",
	  "x\xe4"
	  "\xb8"
	  "\xad",
	  true },
	{ "releases/*/*", "releases/x/x_v1", true },
	{ "releases/*/*", "releases/README.md", false },
	{ "*.py", "a.py", true },
	{ "[[]", "[", true },
	{ "[a-c-]", "-", true },
	{ "[!a-c]", "b", false },
	{ "[!a-c]", "-", true },
	{ "x[!]", "x[!]", true },
	{ "[?]", "?", true },
	{ "[?]", "a", false },
	{ "[*]", "*", true },
	{ "[*]", "a", false },
};

static void test_fnmatch_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(fn_cases) / sizeof(fn_cases[0]); i++) {
		bool got = upk_deleg_path_match(fn_cases[i].pattern, fn_cases[i].path);

		if (got != fn_cases[i].match)
			print_message("pattern \"%s\" path \"%s\": got %d\n", fn_cases[i].pattern,
				      fn_cases[i].path, got);
		assert_int_equal(got, fn_cases[i].match);
	}
}

static void test_fnmatch_invalid_utf8(void **state)
{
	(void)state;
	/* Bytes that are not UTF-8 match nothing, not even '*'. */
	assert_false(upk_deleg_path_match("*", "\xff"));
	assert_false(upk_deleg_path_match("\xc3", "\xc3"));
	assert_false(upk_deleg_path_match("?", "\xc0\x80"));	    /* overlong NUL */
	assert_false(upk_deleg_path_match("?", "\xed\xa0\x80"));    /* surrogate */
	assert_true(upk_deleg_path_match("?", "\xf0\x9f\x98\x80")); /* one code point */
}

static void test_fnmatch_long_set(void **state)
{
	char pat[300], path[2] = "q";
	size_t n = 0;

	(void)state;
	/* A set longer than the matcher's stack buffers: [a-b-c-...]. */
	pat[n++] = '[';
	for (char c = 'a'; c <= 'z'; c++) {
		pat[n++] = c;
		pat[n++] = '-';
		pat[n++] = c;
	}
	for (int i = 0; i < 150; i++)
		pat[n++] = '0';
	pat[n++] = ']';
	pat[n] = 0;
	assert_true(upk_deleg_path_match(pat, path));
	assert_true(upk_deleg_path_match(pat, "0"));
	assert_false(upk_deleg_path_match(pat, "-"));
	assert_false(upk_deleg_path_match(pat, "A"));
}

static void sha256_of(const char *s, uint8_t out[UPK_SHA256_LEN])
{
	uint8_t d[UPK_HASH_MAX_LEN];

	assert_int_equal(upk_hash_oneshot(UPK_HASH_SHA256, s, strlen(s), d), UPK_OK);
	memcpy(out, d, UPK_SHA256_LEN);
}

static void test_hash_prefixes(void **state)
{
	/* sha256("a.txt") begins 18b7cb09. */
	const char *pfx_hit[] = { "ff", "18b7" }, *pfx_miss[] = { "18b8", "1"
									  "9" };
	const char *pfx_empty[] = { "" };
	struct upk_delegated_role r = { .name = "bins" };
	uint8_t h[UPK_SHA256_LEN];

	(void)state;
	sha256_of("a.txt", h);
	r.prefixes = pfx_hit;
	r.n_prefixes = 2;
	assert_true(upk_deleg_role_matches(&r, "a.txt", h));
	r.prefixes = pfx_miss;
	assert_false(upk_deleg_role_matches(&r, "a.txt", h));
	/* Like Python's str.startswith(""), an empty prefix covers every path. */
	r.prefixes = pfx_empty;
	r.n_prefixes = 1;
	assert_true(upk_deleg_role_matches(&r, "a.txt", h));
	r.n_prefixes = 0;
	assert_false(upk_deleg_role_matches(&r, "a.txt", h));
}

static void test_paths_role(void **state)
{
	const char *paths[] = { "*.doc", "releases/*/*" };
	struct upk_delegated_role r = {
		.name = "A", .has_paths = true, .paths = paths, .n_paths = 2
	};
	uint8_t h[UPK_SHA256_LEN] = { 0 };

	(void)state;
	assert_true(upk_deleg_role_matches(&r, "x.doc", h));
	assert_true(upk_deleg_role_matches(&r, "releases/x/y", h));
	assert_false(upk_deleg_role_matches(&r, "releases/x", h));
	assert_false(upk_deleg_role_matches(&r, "dir/x.doc", h));
	r.n_paths = 0;
	assert_false(upk_deleg_role_matches(&r, "x.doc", h));
}

static void test_succinct_bins(void **state)
{
	/* Bins as python-tuf's SuccinctRoles.get_role_for_target names them. */
	static const struct {
		const char *path;
		int bits;
		const char *bin;
	} v[] = {
		{ "a.txt", 1, "bin-0" },
		{ "a.txt", 4, "bin-1" },
		{ "a.txt", 5, "bin-03" },
		{ "a.txt", 8, "bin-18" },
		{ "a.txt", 13, "bin-0316" },
		{ "a.txt", 32, "bin-18b7cb09" },
		{ "releases/x/x_v1", 4, "bin-4" },
		{ "releases/x/x_v1", 13, "bin-0976" },
		{ "foo", 8, "bin-2c" },
		{ "foo", 32, "bin-2c26b46b" },
	};
	struct upk_succinct_roles s = { .name_prefix = "bin" };
	uint8_t h[UPK_SHA256_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char *name;

		sha256_of(v[i].path, h);
		s.bit_length = v[i].bits;
		name = upk_deleg_succinct_bin(&s, h);
		assert_non_null(name);
		assert_string_equal(name, v[i].bin);
		free(name);
	}
	s.bit_length = 0;
	assert_null(upk_deleg_succinct_bin(&s, h));
	s.bit_length = 33;
	assert_null(upk_deleg_succinct_bin(&s, h));
}

/* ------------------------------------------------------------------------ */
/* Walks over a repository of targets metadata built here. */

struct dspec {
	const char *delegator, *name;
	bool terminating;
	const char *paths; /* comma-separated patterns; NULL: path_hash_prefixes [""] */
};

struct role_md {
	const char *name;
	struct upk_meta *meta;
};

#define MAX_ROLES 64

struct repo {
	struct role_md roles[MAX_ROLES];
	size_t n;
};

static json_t *target_entry(void)
{
	json_t *t = json_pack("{s:i, s:{s:s}}", "length", 3, "hashes", "sha256", SHA256_ABC);

	assert_non_null(t);
	return t;
}

static json_t *paths_array(const char *csv)
{
	json_t *a = json_array();
	char *copy = strdup(csv), *save = NULL;

	assert_non_null(copy);
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
		assert_int_equal(json_array_append_new(a, json_string(p)), 0);
	free(copy);
	return a;
}

/* Build targets metadata for role `name`: its delegations and targets. */
static struct upk_meta *build_role(const char *name, const struct dspec *ds, size_t n_ds,
				   const char *const *targets, json_t *succinct)
{
	json_t *s = json_pack("{s:s, s:s, s:i, s:s, s:{}}", "_type", "targets", "spec_version",
			      "1.0.31", "version", 1, "expires", "2030-01-01T00:00:00Z", "targets");
	json_t *roles = json_array(), *doc;
	struct upk_meta *m = NULL;
	struct upk_diag d;

	assert_non_null(s);
	for (; targets && *targets; targets++)
		assert_int_equal(json_object_set_new(json_object_get(s, "targets"), *targets,
						     target_entry()),
				 0);
	for (size_t i = 0; i < n_ds; i++) {
		json_t *r;

		if (strcmp(ds[i].delegator, name) != 0)
			continue;
		r = json_pack("{s:s, s:[s], s:i, s:b}", "name", ds[i].name, "keyids", KEYID,
			      "threshold", 1, "terminating", ds[i].terminating);
		assert_non_null(r);
		if (ds[i].paths)
			json_object_set_new(r, "paths", paths_array(ds[i].paths));
		else
			json_object_set_new(r, "path_hash_prefixes", json_pack("[s]", ""));
		assert_int_equal(json_array_append_new(roles, r), 0);
	}
	if (succinct)
		json_object_set_new(s, "delegations",
				    json_pack("{s:{}, s:o}", "keys", "succinct_roles", succinct));
	else if (json_array_size(roles))
		json_object_set_new(s, "delegations",
				    json_pack("{s:{}, s:o}", "keys", "roles", json_incref(roles)));
	json_decref(roles);
	doc = json_pack("{s:o, s:[]}", "signed", s, "signatures");
	upk_diag_clear(&d);
	if (upk_meta_from_json(doc, UPK_ROLE_TARGETS, &m, &d) != UPK_OK)
		print_message("%s: %s: %s\n", name, d.where, d.reason);
	assert_non_null(m);
	return m;
}

/* Every role named in ds (and "targets"), each with its own targets. */
static void build_repo(struct repo *r, const struct dspec *ds, size_t n_ds,
		       const char *const *const *role_targets, const char *const *target_owner)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i <= n_ds; i++) {
		const char *name = i == n_ds ? "targets" : ds[i].name;
		const char *const *targets = NULL;
		bool have = false;

		for (size_t k = 0; k < r->n; k++)
			have = have || strcmp(r->roles[k].name, name) == 0;
		if (have)
			continue;
		for (size_t k = 0; target_owner && target_owner[k]; k++) {
			if (strcmp(target_owner[k], name) == 0)
				targets = role_targets[k];
		}
		assert_true(r->n < MAX_ROLES);
		r->roles[r->n].name = name;
		r->roles[r->n].meta = build_role(name, ds, n_ds, targets, NULL);
		r->n++;
	}
}

static void free_repo(struct repo *r)
{
	for (size_t i = 0; i < r->n; i++)
		upk_meta_free(r->roles[i].meta);
}

static const struct upk_meta *lookup(const struct repo *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(r->roles[i].name, name) == 0)
			return r->roles[i].meta;
	}
	return NULL;
}

/*
 * Search `path`; returns the visit order as "A,B,..." (without the
 * top-level "targets") and whether the target was found.
 */
static bool walk(const struct repo *r, const char *path, size_t max, char *order, size_t size)
{
	struct upk_walk w;
	const char *role, *delegator;
	bool found = false;

	order[0] = 0;
	assert_int_equal(upk_walk_init(&w, path, max), UPK_OK);
	while (upk_walk_next(&w, &role, &delegator)) {
		const struct upk_meta *m = lookup(r, role);
		const struct upk_target *t = (const void *)1;

		assert_non_null(m);
		if (strcmp(role, "targets") != 0) {
			if (order[0])
				strncat(order, ",", size - strlen(order) - 1);
			strncat(order, role, size - strlen(order) - 1);
		} else {
			assert_string_equal(delegator, "root");
		}
		assert_int_equal(upk_walk_visit(&w, m, &t), UPK_OK);
		if (t) {
			assert_string_equal(t->path, path);
			found = true;
			break;
		}
	}
	upk_walk_done(&w);
	return found;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct graph_case {
	const char *id;
	struct dspec ds[8];
	size_t n;
	const char *order;
};

/* The conformance suite's test_graph_traversal cases (all paths "*"). */
static const struct graph_case graphs[] = {
	{ "basic", { { "targets", "A", false, "*" } }, 1, "A" },
	{ "single-level",
	  { { "targets", "A", false, "*" }, { "targets", "B", false, "*" } },
	  2,
	  "A,B" },
	{ "two-level",
	  { { "targets", "A", false, "*" },
	    { "targets", "B", false, "*" },
	    { "B", "C", false, "*" } },
	  3,
	  "A,B,C" },
	{ "dfs-order",
	  { { "targets", "A", false, "*" },
	    { "targets", "B", false, "*" },
	    { "A", "C", false, "*" },
	    { "A", "D", false, "*" } },
	  4,
	  "A,C,D,B" },
	{ "dfs-three-level",
	  { { "targets", "A", false, "*" },
	    { "targets", "B", false, "*" },
	    { "A", "C", false, "*" },
	    { "C", "D", false, "*" } },
	  4,
	  "A,C,D,B" },
	{ "terminating",
	  { { "targets", "A", false, "*" },
	    { "targets", "B", false, "*" },
	    { "A", "C", true, "*" },
	    { "A", "D", false, "*" } },
	  4,
	  "A,C" },
	{ "terminating-keeps-subtree",
	  { { "targets", "A", false, "*" },
	    { "targets", "B", false, "*" },
	    { "A", "C", true, "*" },
	    { "C", "D", false, "*" } },
	  4,
	  "A,C,D" },
	{ "terminating-keeps-earlier-siblings",
	  { { "targets", "A", false, "*" },
	    { "targets", "B", false, "*" },
	    { "A", "C", false, "*" },
	    { "A", "D", true, "*" },
	    { "A", "E", false, "*" } },
	  5,
	  "A,C,D" },
	{ "paths-prune-branch",
	  { { "targets", "A", false, "*.py" },
	    { "targets", "B", false, "*" },
	    { "A", "C", false, "*" } },
	  3,
	  "B" },
	{ "paths-prune-deeper",
	  { { "targets", "A", false, "*" },
	    { "targets", "B", false, "*" },
	    { "A", "C", false, "*.py" },
	    { "C", "D", false, "*" } },
	  4,
	  "A,B" },
	{ "cycle",
	  { { "targets", "A", false, "*" },
	    { "targets", "B", false, "*" },
	    { "B", "C", false, "*" },
	    { "C", "D", false, "*" },
	    { "D", "B", false, "*" } },
	  5,
	  "A,B,C,D" },
	{ "diamond",
	  { { "targets", "A", false, "*" },
	    { "targets", "B", false, "*" },
	    { "B", "C", false, "*" },
	    { "A", "C", false, "*" } },
	  4,
	  "A,C,B" },
	{ "diamond-other-paths",
	  { { "targets", "A", false, "*" },
	    { "targets", "B", false, "*" },
	    { "B", "C", false, "*" },
	    { "A", "C", false, "*.py" } },
	  4,
	  "A,B,C" },
	{ "hash-prefixes",
	  { { "targets", "A", false, NULL }, { "A", "B", false, NULL } },
	  2,
	  "A,B" },
};

static void test_walk_graphs(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(graphs); i++) {
		struct repo r;
		char order[256];
		bool found;

		build_repo(&r, graphs[i].ds, graphs[i].n, NULL, NULL);
		found = walk(&r, "missingpath", UPK_DELEG_MAX_ROLES, order, sizeof(order));
		if (strcmp(order, graphs[i].order) != 0)
			print_message("%s: visited \"%s\", expected \"%s\"\n", graphs[i].id, order,
				      graphs[i].order);
		assert_false(found);
		assert_string_equal(order, graphs[i].order);
		free_repo(&r);
	}
}

/* The conformance suite's test_targetfile_search tree. */
static void test_walk_target_search(void **state)
{
	static const struct dspec ds[] = {
		{ "targets", "A", false, "*.doc,*.md,foo-?.tgz" },
		{ "targets", "B", false, "releases/*/*" },
		{ "B", "C", false, "releases/x/*" },
		{ "B", "D", false, "releases/y/*.zip" },
	};
	static const char *const t_targets[] = { "targetfile", NULL };
	static const char *const a_targets[] = { "README.md", "releases/README.md", "foo-1.tgz",
						 "foo-alpha.tgz", NULL };
	static const char *const c_targets[] = { "releases/x/x_v1", NULL };
	static const char *const d_targets[] = { "releases/y/y_v1.zip", "releases/z/z_v1.zip",
						 NULL };
	static const char *const *const owned[] = { t_targets, a_targets, c_targets, d_targets };
	static const char *const owners[] = { "targets", "A", "C", "D", NULL };
	static const struct {
		const char *path;
		bool found;
		const char *order;
	} cases[] = {
		{ "targetfile", true, "" },
		{ "README.md", true, "A" },
		{ "releases/x/x_v1", true, "B,C" },
		{ "releases/y/y_v1.zip", true, "B,D" },
		{ "releases/z/z_v1.zip", false, "B" },
		{ "releases/README.md", false, "" },
		{ "foo-1.tgz", true, "A" },
		{ "foo-alpha.tgz", false, "" },
		{ "README.MD", false, "" },
	};
	struct repo r;

	(void)state;
	build_repo(&r, ds, N(ds), owned, owners);
	for (size_t i = 0; i < N(cases); i++) {
		char order[256];
		bool found = walk(&r, cases[i].path, UPK_DELEG_MAX_ROLES, order, sizeof(order));

		if (found != cases[i].found || strcmp(order, cases[i].order) != 0)
			print_message("%s: found %d, visited \"%s\"\n", cases[i].path, found,
				      order);
		assert_int_equal(found, cases[i].found);
		assert_string_equal(order, cases[i].order);
	}
	free_repo(&r);
}

static void test_walk_cap(void **state)
{
	struct dspec ds[40];
	char names[40][16], order[512];
	struct repo r;
	const char *role, *delegator;
	struct upk_walk w;
	size_t visits = 0;

	(void)state;
	/* A chain targets -> r0 -> r1 -> ... -> r39. */
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "r%d", i);
		ds[i] = (struct dspec){ i ? names[i - 1] : "targets", names[i], false, "*" };
	}
	build_repo(&r, ds, 40, NULL, NULL);
	assert_false(walk(&r, "x", UPK_DELEG_MAX_ROLES, order, sizeof(order)));
	/* 32 roles: targets and r0..r30. */
	assert_non_null(strstr(order, ",r30"));
	assert_null(strstr(order, "r31"));

	assert_int_equal(upk_walk_init(&w, "x", 3), UPK_OK);
	while (upk_walk_next(&w, &role, &delegator)) {
		const struct upk_target *t;

		assert_int_equal(upk_walk_visit(&w, lookup(&r, role), &t), UPK_OK);
		visits++;
	}
	assert_int_equal(visits, 3);
	assert_int_equal(upk_walk_visited(&w), 3);
	upk_walk_done(&w);
	free_repo(&r);
}

static void test_walk_delegators_and_misuse(void **state)
{
	static const struct dspec ds[] = {
		{ "targets", "A", false, "*" },
		{ "A", "B", false, "*" },
	};
	struct repo r;
	struct upk_walk w;
	const char *role, *delegator;
	const struct upk_target *t;

	(void)state;
	build_repo(&r, ds, N(ds), NULL, NULL);
	assert_int_equal(upk_walk_init(&w, "x", UPK_DELEG_MAX_ROLES), UPK_OK);
	/* Visiting before next is a programming error, not a crash. */
	assert_int_equal(upk_walk_visit(&w, lookup(&r, "targets"), &t), UPK_E_INTERNAL);
	assert_true(upk_walk_next(&w, &role, &delegator));
	assert_string_equal(role, "targets");
	assert_string_equal(delegator, "root");
	assert_int_equal(upk_walk_visit(&w, lookup(&r, role), &t), UPK_OK);
	assert_null(t);
	assert_true(upk_walk_next(&w, &role, &delegator));
	assert_string_equal(role, "A");
	assert_string_equal(delegator, "targets");
	/* A role that failed to load: next without visit goes on (and frees nothing twice). */
	assert_false(upk_walk_next(&w, &role, &delegator));
	upk_walk_done(&w);
	free_repo(&r);
}

static void test_walk_succinct(void **state)
{
	json_t *succinct = json_pack("{s:[s], s:i, s:i, s:s}", "keyids", KEYID, "threshold", 1,
				     "bit_length", 8, "name_prefix", "bin");
	struct upk_meta *top = build_role("targets", NULL, 0, NULL, succinct);
	struct upk_meta *bin18;
	static const char *const t18[] = { "a.txt", NULL };
	struct upk_walk w;
	const char *role, *delegator;
	const struct upk_target *t;

	(void)state;
	bin18 = build_role("bin-18", NULL, 0, t18, NULL);
	/* sha256("a.txt") starts with 0x18: bin "bin-18" of 256. */
	assert_int_equal(upk_walk_init(&w, "a.txt", UPK_DELEG_MAX_ROLES), UPK_OK);
	assert_true(upk_walk_next(&w, &role, &delegator));
	assert_int_equal(upk_walk_visit(&w, top, &t), UPK_OK);
	assert_null(t);
	assert_true(upk_walk_next(&w, &role, &delegator));
	assert_string_equal(role, "bin-18");
	assert_string_equal(delegator, "targets");
	assert_int_equal(upk_walk_visit(&w, bin18, &t), UPK_OK);
	assert_non_null(t);
	assert_string_equal(t->path, "a.txt");
	upk_walk_done(&w);

	/* Bins are terminating: nothing after the bin, even a bin that delegates nothing. */
	assert_int_equal(upk_walk_init(&w, "other", UPK_DELEG_MAX_ROLES), UPK_OK);
	assert_true(upk_walk_next(&w, &role, &delegator));
	assert_int_equal(upk_walk_visit(&w, top, &t), UPK_OK);
	assert_true(upk_walk_next(&w, &role, &delegator));
	assert_int_equal(strncmp(role, "bin-", 4), 0);
	/* Leave the bin unvisited: done frees its name. */
	upk_walk_done(&w);
	upk_meta_free(top);
	upk_meta_free(bin18);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fnmatch_table),
		cmocka_unit_test(test_fnmatch_invalid_utf8),
		cmocka_unit_test(test_fnmatch_long_set),
		cmocka_unit_test(test_hash_prefixes),
		cmocka_unit_test(test_paths_role),
		cmocka_unit_test(test_succinct_bins),
		cmocka_unit_test(test_walk_graphs),
		cmocka_unit_test(test_walk_target_search),
		cmocka_unit_test(test_walk_cap),
		cmocka_unit_test(test_walk_delegators_and_misuse),
		cmocka_unit_test(test_walk_succinct),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
