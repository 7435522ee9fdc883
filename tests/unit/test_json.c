/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for common/json: strict parsing (size, depth, duplicates, reals,
 * syntax, UTF-8, NUL), canonical encoding against vectors produced by
 * securesystemslib 0.26's encode_canonical, readable serialization, and the
 * typed accessors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

#define LIMIT (1024u * 1024u)

static json_t *parse_ok(const char *s)
{
	json_t *v = NULL;
	struct upk_diag d;

	upk_diag_clear(&d);
	assert_int_equal(upk_json_parse((const uint8_t *)s, strlen(s), LIMIT, &v, &d), UPK_OK);
	assert_non_null(v);
	return v;
}

/* Parse must fail with `want`; *ret stays untouched. Returns the diag. */
static struct upk_diag parse_fail_n(const char *s, size_t len, enum upk_err want)
{
	json_t sentinel_storage;
	json_t *const sentinel = &sentinel_storage;
	json_t *v = sentinel;
	struct upk_diag d;

	upk_diag_clear(&d);
	assert_int_equal(upk_json_parse((const uint8_t *)s, len, LIMIT, &v, &d), want);
	assert_ptr_equal(v, sentinel);
	assert_int_equal(d.err, want);
	assert_true(d.reason[0] != 0);
	return d;
}

static struct upk_diag parse_fail(const char *s, enum upk_err want)
{
	return parse_fail_n(s, strlen(s), want);
}

/* Canonicalize v into a fresh buffer and compare with expected[0..len). */
static void assert_canonical(const json_t *v, const char *expected, size_t len)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;

	upk_diag_clear(&d);
	assert_int_equal(upk_json_canonical(v, &b, &d), UPK_OK);
	assert_int_equal(b.len, len);
	assert_memory_equal(b.data, expected, len);
	assert_int_equal(b.data[b.len], 0);
}

/* ---- parsing ---- */

static void test_parse_object_and_array(void **state)
{
	_cleanup_json_ json_t *o = parse_ok("{\"a\": [1, \"x\", true, null], \"b\": {}}");
	_cleanup_json_ json_t *a = parse_ok(" [ ] \n");

	(void)state;
	assert_true(json_is_object(o));
	assert_int_equal(json_object_size(o), 2);
	assert_true(json_is_array(a));
	assert_int_equal(json_array_size(a), 0);
}

static void test_parse_size_limit(void **state)
{
	const char *s = "{\"abc\":1}"; /* 9 bytes */
	json_t *v = NULL;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	assert_int_equal(upk_json_parse((const uint8_t *)s, 9, 8, &v, &d), UPK_E_TOO_LARGE);
	assert_null(v);
	assert_int_equal(d.err, UPK_E_TOO_LARGE);
	assert_non_null(strstr(d.reason, "limit"));
	/* Exactly at the limit is fine. */
	assert_int_equal(upk_json_parse((const uint8_t *)s, 9, 9, &v, &d), UPK_OK);
	json_decref(v);
	/* The limit is checked before the bytes are looked at: bad JSON over it is TOO_LARGE. */
	v = NULL;
	assert_int_equal(upk_json_parse((const uint8_t *)"[[[[[[[[[[1.5", 13, 12, &v, NULL),
			 UPK_E_TOO_LARGE);
	assert_null(v);
	/* A NULL diag is accepted on every path. */
	assert_int_equal(upk_json_parse((const uint8_t *)s, 9, 0, &v, NULL), UPK_E_TOO_LARGE);
	assert_null(v);
}

static void test_parse_rejects_duplicates(void **state)
{
	struct upk_diag d;

	(void)state;
	d = parse_fail("{\"a\":1,\"a\":2}", UPK_E_FORMAT);
	assert_non_null(strstr(d.reason, "duplicate"));
	assert_true(d.offset > 0);
	parse_fail("{\"x\":{\"k\":[],\"k\":[]}}", UPK_E_FORMAT);
	parse_fail("[{\"s\":\"1\",\"t\":0,\"s\":\"1\"}]", UPK_E_FORMAT);
	/* Same key through different escapes is still a duplicate. */
	parse_fail("{\"a\":1,\"\\u0061\":1}", UPK_E_FORMAT);
	/* Equal keys in sibling objects are not duplicates. */
	json_decref(parse_ok("[{\"a\":1},{\"a\":1}]"));
}

/* n nested arrays around a 0, e.g. n = 2: "[[0]]" */
static char *nested(size_t n, char open, char close)
{
	char *s = malloc(2 * n * 5 + 2);
	size_t p = 0;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		if (open == '{') {
			memcpy(s + p, "{\"k\":", 5);
			p += 5;
		} else {
			s[p++] = open;
		}
	}
	s[p++] = '0';
	for (size_t i = 0; i < n; i++)
		s[p++] = close;
	s[p] = 0;
	return s;
}

static void test_parse_depth_limit(void **state)
{
	_cleanup_free_ char *ok_arr = nested(UPK_JSON_MAX_DEPTH, '[', ']');
	_cleanup_free_ char *ok_obj = nested(UPK_JSON_MAX_DEPTH, '{', '}');
	_cleanup_free_ char *deep_arr = nested(UPK_JSON_MAX_DEPTH + 1, '[', ']');
	_cleanup_free_ char *deep_obj = nested(UPK_JSON_MAX_DEPTH + 1, '{', '}');
	/* Deeper than jansson's own JSON_PARSER_MAX_DEPTH (2048): only the pre-scan stops at 64. */
	_cleanup_free_ char *huge = nested(5000, '[', ']');
	struct upk_diag d;

	(void)state;
	json_decref(parse_ok(ok_arr));
	json_decref(parse_ok(ok_obj));
	d = parse_fail(deep_arr, UPK_E_FORMAT);
	assert_non_null(strstr(d.reason, "nesting"));
	assert_int_equal(d.offset, UPK_JSON_MAX_DEPTH); /* the 65th '[' */
	d = parse_fail(deep_obj, UPK_E_FORMAT);
	assert_non_null(strstr(d.reason, "nesting"));
	assert_int_equal(d.offset, 5 * UPK_JSON_MAX_DEPTH);
	d = parse_fail(huge, UPK_E_FORMAT);
	assert_non_null(strstr(d.reason, "nesting"));
	assert_int_equal(d.offset, UPK_JSON_MAX_DEPTH);
	/* Unbalanced: the pre-scan still stops it before jansson sees it. */
	d = parse_fail("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
		       UPK_E_FORMAT);
	assert_non_null(strstr(d.reason, "nesting"));
}

static void test_parse_depth_prescan_ignores_strings(void **state)
{
	char buf[1024];
	size_t p = 0;
	_cleanup_free_ char *deep = nested(UPK_JSON_MAX_DEPTH + 1, '[', ']');
	_cleanup_json_ json_t *v = NULL;
	struct upk_diag d;

	(void)state;
	/* 200 brackets inside a string, at depth 1. */
	buf[p++] = '[';
	buf[p++] = '"';
	for (int i = 0; i < 100; i++) {
		buf[p++] = '[';
		buf[p++] = '{';
	}
	buf[p++] = '"';
	buf[p++] = ']';
	buf[p] = 0;
	v = parse_ok(buf);
	json_decref(v);

	/* An escaped quote does not end the string: the brackets after it are still inside. */
	p = (size_t)snprintf(buf, sizeof(buf), "[\"\\\"");
	memset(buf + p, '[', 100);
	memcpy(buf + p + 100, "\"]", 3);
	v = parse_ok(buf);
	json_decref(v);
	/* Keys are strings too. */
	p = (size_t)snprintf(buf, sizeof(buf), "{\"");
	memset(buf + p, '{', 100);
	memcpy(buf + p + 100, "\":0}", 5);
	v = parse_ok(buf);
	json_decref(v);
	v = NULL;

	/* An escaped backslash does end before the quote: brackets after it count. */
	snprintf(buf, sizeof(buf), "[\"\\\\\",%s]", deep);
	d = parse_fail(buf, UPK_E_FORMAT);
	assert_non_null(strstr(d.reason, "nesting"));
	/* Closing brackets inside strings do not lower the count either. */
	snprintf(buf, sizeof(buf), "[\"]]]]]]]]]]\",%s]", deep);
	d = parse_fail(buf, UPK_E_FORMAT);
	assert_non_null(strstr(d.reason, "nesting"));
}

static void test_parse_rejects_reals(void **state)
{
	static const char *const reals[] = {
		"[1.0]",	"[1e5]",  "[-0.5]",	 "[1E+2]",
		"[0.0]",	"[2e-1]", "{\"a\":1.5}", "{\"a\":[0,1,{\"b\":-1e0}]}",
		"[[[[3.25]]]]",
	};
	struct upk_diag d;

	(void)state;
	for (size_t i = 0; i < UPK_ARRAY_SIZE(reals); i++) {
		d = parse_fail(reals[i], UPK_E_FORMAT);
		assert_non_null(strstr(d.reason, "real"));
	}
	d = parse_fail("{\"signed\":{\"meta\":{\"a\":1,\"x\":1.0}}}", UPK_E_FORMAT);
	assert_string_equal(d.where, "signed.meta.x");
	d = parse_fail("{\"a\":[0,{\"b\":1e5}]}", UPK_E_FORMAT);
	assert_string_equal(d.where, "a[1].b");
	d = parse_fail("[7,-0.5]", UPK_E_FORMAT);
	assert_string_equal(d.where, "[1]");
	/* Control characters in a key are not echoed into the diagnostic. */
	d = parse_fail("{\"a\\u001bb\":0.5}", UPK_E_FORMAT);
	assert_string_equal(d.where, "a?b");
}

static void test_parse_rejects_syntax(void **state)
{
	struct upk_diag d;

	(void)state;
	/* jansson's offset points just past the offending token. */
	d = parse_fail("{} x", UPK_E_FORMAT);
	assert_int_equal(d.offset, 4);
	assert_non_null(strstr(d.reason, "end of file expected"));
	parse_fail("{}{}", UPK_E_FORMAT);
	parse_fail("[1],", UPK_E_FORMAT);
	parse_fail("[1]]", UPK_E_FORMAT);
	parse_fail("", UPK_E_FORMAT);
	parse_fail("   ", UPK_E_FORMAT);
	parse_fail("[1,]", UPK_E_FORMAT);
	parse_fail("{\"a\":}", UPK_E_FORMAT);
	parse_fail("{a:1}", UPK_E_FORMAT);
	parse_fail("['a']", UPK_E_FORMAT);
	parse_fail("[01]", UPK_E_FORMAT);
	parse_fail("[+1]", UPK_E_FORMAT);
	parse_fail("[NaN]", UPK_E_FORMAT);
	parse_fail("[Infinity]", UPK_E_FORMAT);
	parse_fail("[\"unterminated]", UPK_E_FORMAT);
	parse_fail("[\"bad escape \\x\"]", UPK_E_FORMAT);
	parse_fail("[\"raw\ttab\"]", UPK_E_FORMAT);
	parse_fail("[\"raw\nnewline\"]", UPK_E_FORMAT);
	parse_fail("/* comment */ []", UPK_E_FORMAT);
	parse_fail("\xef\xbb\xbf[]", UPK_E_FORMAT); /* byte order mark */
	d = parse_fail("{\"a\" 1}", UPK_E_FORMAT);
	assert_int_equal(d.offset, 6);
	assert_non_null(strstr(d.reason, "':' expected"));
	assert_string_equal(d.where, "");
	/* Integers beyond 64 bits. */
	parse_fail("[9223372036854775808]", UPK_E_FORMAT);
	parse_fail("[-9223372036854775809]", UPK_E_FORMAT);
	parse_fail("[99999999999999999999999]", UPK_E_FORMAT);
	/* NULL data with length 0 is just empty input. */
	parse_fail_n(NULL, 0, UPK_E_FORMAT);
}

static void test_parse_rejects_top_level_scalars(void **state)
{
	(void)state;
	parse_fail("\"x\"", UPK_E_FORMAT);
	parse_fail("1", UPK_E_FORMAT);
	parse_fail("true", UPK_E_FORMAT);
	parse_fail("null", UPK_E_FORMAT);
	parse_fail("1.5", UPK_E_FORMAT);
}

static void test_parse_rejects_bad_utf8(void **state)
{
	(void)state;
	parse_fail("[\"\xff\"]", UPK_E_FORMAT);
	parse_fail("[\"\xc0\xaf\"]", UPK_E_FORMAT);	    /* overlong '/' */
	parse_fail("[\"\xe0\x80\xaf\"]", UPK_E_FORMAT);	    /* overlong, 3 bytes */
	parse_fail("[\"\xed\xa0\x80\"]", UPK_E_FORMAT);	    /* encoded surrogate */
	parse_fail("[\"\xf4\x90\x80\x80\"]", UPK_E_FORMAT); /* above U+10FFFF */
	parse_fail("[\"\xc3\"]", UPK_E_FORMAT);		    /* truncated */
	parse_fail("[\"\x80\"]", UPK_E_FORMAT);		    /* lone continuation */
	parse_fail("{\"\xfe\":1}", UPK_E_FORMAT);	    /* in a key */
	parse_fail("[\"\\ud800\"]", UPK_E_FORMAT);	    /* lone high surrogate escape */
	parse_fail("[\"\\udc00\"]", UPK_E_FORMAT);	    /* lone low surrogate escape */
	parse_fail("[\"\\ud800\\u0041\"]", UPK_E_FORMAT);   /* high surrogate, no low */
	/* Valid multi-byte text passes. */
	json_decref(parse_ok("[\"\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80\\ud83d\\ude00\"]"));
}

static void test_parse_rejects_nul(void **state)
{
	static const char raw_in_string[] = "[\"a\0b\"]";
	static const char raw_outside[] = "[1]\0";
	struct upk_diag d;

	(void)state;
	d = parse_fail("[\"a\\u0000b\"]", UPK_E_FORMAT);
	assert_true(d.offset > 0);
	parse_fail("{\"k\\u0000\":1}", UPK_E_FORMAT);
	parse_fail("{\"\\u0000\":1}", UPK_E_FORMAT);
	parse_fail_n(raw_in_string, sizeof(raw_in_string) - 1, UPK_E_FORMAT);
	parse_fail_n(raw_outside, sizeof(raw_outside) - 1, UPK_E_FORMAT);
}

/*
 * Fault injection: jansson allocations fail from the Nth on. Every outcome is
 * a clean error with *ret untouched (ASan's leak check proves nothing is left
 * behind) until N is high enough for the parse to succeed. jansson 2.14
 * reports most allocation failures without an error text (mapped to NOMEM)
 * but some as syntax errors, so FORMAT is accepted too; NOMEM must occur.
 */
static size_t alloc_budget;

static void *failing_malloc(size_t n)
{
	if (alloc_budget == 0)
		return NULL;
	alloc_budget--;
	return malloc(n);
}

static void test_parse_out_of_memory(void **state)
{
	const char *s =
		"{\"signed\":{\"keys\":{\"a\":{\"v\":\"x\"}},\"roles\":[1,2,3]},\"z\":\"y\"}";
	bool succeeded = false;
	size_t nomem = 0;

	(void)state;
	for (size_t n = 0; n < 200 && !succeeded; n++) {
		json_t sentinel_storage;
		json_t *v = &sentinel_storage;
		struct upk_diag d;
		enum upk_err r;

		upk_diag_clear(&d);
		alloc_budget = n;
		json_set_alloc_funcs(failing_malloc, free);
		r = upk_json_parse((const uint8_t *)s, strlen(s), LIMIT, &v, &d);
		json_set_alloc_funcs(malloc, free);
		if (r == UPK_OK) {
			succeeded = true;
			json_decref(v);
			continue;
		}
		assert_true(r == UPK_E_NOMEM || r == UPK_E_FORMAT);
		assert_int_equal(d.err, r);
		assert_true(d.reason[0] != 0);
		assert_ptr_equal(v, &sentinel_storage);
		nomem += r == UPK_E_NOMEM;
	}
	assert_true(succeeded);
	assert_true(nomem > 0);
}

/* ---- canonical encoding ---- */

/*
 * Vectors: the input JSON text and what securesystemslib 0.26's
 * encode_canonical(json.loads(input)) returned for it, verified with
 * /usr/bin/python3 and pasted here (octal escapes are the raw UTF-8 bytes).
 */
static const struct {
	const char *name, *in, *out;
} vectors[] = {
	{ "keys sorted by code point, not UTF-16 (U+FF61 before U+1F600)",
	  "{\"b\":1,\"a\":{\"z\":[],\"y\":{}},\"A\":null,\"\\u00e4\":true,\"\\u00e9\":\"\\u00fc\","
	  "\"\\ud83d\\ude00\":false,\"\\uff61\":2,\"\\u007f\":3,\"\":4,\"aa\":5,\"a b\":6}",
	  "{\"\":4,\"A\":null,\"a\":{\"y\":{},\"z\":[]},\"a b\":6,\"aa\":5,\"b\":1,\"\177\":3,"
	  "\"\303\244\":true,\"\303\251\":\"\303\274\",\"\357\275\241\":2,\"\360\237\230\200\":"
	  "false}" },
	{ "only quote and backslash escaped; control characters and non-ASCII raw",
	  "[\"a\\nb\\tc\\u0001\\u001f\\b\\f\\r\", \"q\\\"b\\\\s/\\/\", \"\\\\\\\\\\\"\\\"\", "
	  "\"caf\\u00e9 \\u65e5\\u672c \\ud834\\udd1e\", \"\\u2028\\u2029\", \"\"]",
	  "[\"a\012b\011c\001\037\010\014\015\",\"q\\\"b\\\\s//\",\"\\\\\\\\\\\"\\\"\",\"caf\303"
	  "\251 \346\227\245\346\234\254 \360\235\204\236\",\"\342\200\250\342\200\251\",\"\"]" },
	{ "integers, including -0 and the 64-bit extremes",
	  "[0, -1, -0, 9223372036854775807, -9223372036854775808, 1, 42, -17, 1000000]",
	  "[0,-1,0,9223372036854775807,-9223372036854775808,1,42,-17,1000000]" },
	{ "empty containers and the empty key",
	  "{\"\": [], \"e\": {}, \"n\": [[], [{}], {\"x\": []}]}",
	  "{\"\":[],\"e\":{},\"n\":[[],[{}],{\"x\":[]}]}" },
	{ "literals", "[true, false, null, [null], {\"t\": true, \"f\": false}]",
	  "[true,false,null,[null],{\"f\":false,\"t\":true}]" },
	{ "escaped keys sort by their raw bytes",
	  "{\"a\\\"b\": 1, \"a\\\\b\": 2, \"a\\nb\": 3, \"a\": {\"\\\"\": \"\\\\\"}}",
	  "{\"a\":{\"\\\"\":\"\\\\\"},\"a\012b\":3,\"a\\\"b\":1,\"a\\\\b\":2}" },
	{ "a TUF root",
	  "{\n  \"signatures\": [{\"keyid\": \"ab12\", \"sig\": \"00ff\"}],\n  \"signed\": {\n   "
	  "\"_type\": \"root\", \"spec_version\": \"1.0.31\", \"version\": 1,\n   \"expires\": "
	  "\"2030-01-01T00:00:00Z\", \"consistent_snapshot\": true,\n   \"keys\": {\"ab12\": "
	  "{\"keytype\": \"ed25519\", \"scheme\": \"ed25519\",\n            \"keyval\": "
	  "{\"public\": \"c0ffee\"}}},\n   \"roles\": {\"root\": {\"keyids\": [\"ab12\"], "
	  "\"threshold\": 1},\n             \"targets\": {\"keyids\": [\"ab12\"], \"threshold\": "
	  "1}}\n  }\n }",
	  "{\"signatures\":[{\"keyid\":\"ab12\",\"sig\":\"00ff\"}],\"signed\":{\"_type\":\"root\","
	  "\"consistent_snapshot\":true,\"expires\":\"2030-01-01T00:00:00Z\",\"keys\":{\"ab12\":{"
	  "\"keytype\":\"ed25519\",\"keyval\":{\"public\":\"c0ffee\"},\"scheme\":\"ed25519\"}},"
	  "\"roles\":{\"root\":{\"keyids\":[\"ab12\"],\"threshold\":1},\"targets\":{\"keyids\":["
	  "\"ab12\"],\"threshold\":1}},\"spec_version\":\"1.0.31\",\"version\":1}}" },
};

static void test_canonical_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < UPK_ARRAY_SIZE(vectors); i++) {
		_cleanup_json_ json_t *v = parse_ok(vectors[i].in);

		print_message("vector: %s\n", vectors[i].name);
		assert_canonical(v, vectors[i].out, strlen(vectors[i].out));
	}
}

/* Canonical text that is valid JSON canonicalizes to itself. */
static void test_canonical_is_idempotent(void **state)
{
	(void)state;
	for (size_t i = 0; i < UPK_ARRAY_SIZE(vectors); i++) {
		_cleanup_json_ json_t *v = NULL;

		if (upk_json_parse((const uint8_t *)vectors[i].out, strlen(vectors[i].out), LIMIT,
				   &v, NULL) != UPK_OK)
			continue; /* raw control characters: canonical, but not JSON */
		assert_canonical(v, vectors[i].out, strlen(vectors[i].out));
	}
}

/* In-memory strings may hold NUL (json_stringn, json_object_setn): emitted raw, as Python does. */
static void test_canonical_nul_in_memory(void **state)
{
	/* encode_canonical({"a\x00b": "x\x00", "a": 1, "a\x00": 2}) */
	static const char want[] = "{\"a\":1,\"a\0\":2,\"a\0b\":\"x\0\"}";
	/* encode_canonical({"k": "\x00\x01\x7f\x80"}) */
	static const char want2[] = "{\"k\":\"\0\001\177\302\200\"}";
	_cleanup_json_ json_t *o = json_object();
	_cleanup_json_ json_t *o2 = json_object();

	(void)state;
	assert_int_equal(json_object_setn_new(o, "a\0b", 3, json_stringn("x\0", 2)), 0);
	assert_int_equal(json_object_set_new(o, "a", json_integer(1)), 0);
	assert_int_equal(json_object_setn_new(o, "a\0", 2, json_integer(2)), 0);
	assert_canonical(o, want, sizeof(want) - 1);
	assert_int_equal(json_object_set_new(o2, "k", json_stringn("\0\001\177\302\200", 5)), 0);
	assert_canonical(o2, want2, sizeof(want2) - 1);
}

static void test_canonical_scalars_and_append(void **state)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_json_ json_t *s = json_string("x\"y");
	_cleanup_json_ json_t *i = json_integer(INT64_MIN);
	_cleanup_json_ json_t *t = json_true();
	_cleanup_json_ json_t *n = json_null();
	_cleanup_json_ json_t *e = json_string("");

	(void)state;
	assert_int_equal(upk_buf_append_str(&b, "prefix:"), UPK_OK);
	assert_int_equal(upk_json_canonical(s, &b, NULL), UPK_OK);
	assert_int_equal(upk_json_canonical(i, &b, NULL), UPK_OK);
	assert_int_equal(upk_json_canonical(t, &b, NULL), UPK_OK);
	assert_int_equal(upk_json_canonical(n, &b, NULL), UPK_OK);
	assert_int_equal(upk_json_canonical(e, &b, NULL), UPK_OK);
	assert_string_equal((char *)b.data, "prefix:\"x\\\"y\"-9223372036854775808truenull\"\"");
}

/* A real anywhere: UPK_E_FORMAT, the path in diag->where, the buffer as it was. */
static void test_canonical_rejects_reals(void **state)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_json_ json_t *root = json_pack("{s:{s:{s:i,s:f,s:s}},s:[i,i]}", "signed", "meta",
						"a", 1, "x", 1.0, "z", "zz", "after", 1, 2);
	_cleanup_json_ json_t *arr = json_pack("[i,{s:[i,i,f]}]", 1, "k", 1, 2, -0.5);
	_cleanup_json_ json_t *top = json_real(1e5);
	struct upk_diag d;

	(void)state;
	assert_non_null(root);
	assert_non_null(arr);
	assert_int_equal(upk_buf_append_str(&b, "keep"), UPK_OK);

	upk_diag_clear(&d);
	assert_int_equal(upk_json_canonical(root, &b, &d), UPK_E_FORMAT);
	assert_string_equal(d.where, "signed.meta.x");
	assert_non_null(strstr(d.reason, "real"));
	assert_int_equal(b.len, 4);
	assert_string_equal((char *)b.data, "keep");

	upk_diag_clear(&d);
	assert_int_equal(upk_json_canonical(arr, &b, &d), UPK_E_FORMAT);
	assert_string_equal(d.where, "[1].k[2]");
	assert_string_equal((char *)b.data, "keep");

	upk_diag_clear(&d);
	assert_int_equal(upk_json_canonical(top, &b, &d), UPK_E_FORMAT);
	assert_string_equal(d.where, "(top level)");
	assert_string_equal((char *)b.data, "keep");

	/* Into an empty buffer: still empty afterwards (len 0). */
	{
		_cleanup_buf_ struct upk_buf e = UPK_BUF_INIT;

		assert_int_equal(upk_json_canonical(root, &e, NULL), UPK_E_FORMAT);
		assert_int_equal(e.len, 0);
	}
}

/* Trees built in memory are not pre-scanned: canonical itself refuses depth over the limit. */
static json_t *nested_tree(size_t n, bool objects)
{
	json_t *v = json_integer(0);

	for (size_t i = 0; i < n; i++) {
		json_t *c = objects ? json_object() : json_array();

		assert_non_null(c);
		if (objects)
			assert_int_equal(json_object_set_new(c, "k", v), 0);
		else
			assert_int_equal(json_array_append_new(c, v), 0);
		v = c;
	}
	return v;
}

static void test_canonical_depth_limit(void **state)
{
	_cleanup_json_ json_t *ok_a = nested_tree(UPK_JSON_MAX_DEPTH, false);
	_cleanup_json_ json_t *ok_o = nested_tree(UPK_JSON_MAX_DEPTH, true);
	_cleanup_json_ json_t *deep_a = nested_tree(UPK_JSON_MAX_DEPTH + 1, false);
	_cleanup_json_ json_t *deep_o = nested_tree(UPK_JSON_MAX_DEPTH + 1, true);
	_cleanup_json_ json_t *huge = nested_tree(1000, false);
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;

	(void)state;
	assert_int_equal(upk_json_canonical(ok_a, &b, NULL), UPK_OK);
	assert_int_equal(b.len, 2 * UPK_JSON_MAX_DEPTH + 1);
	upk_buf_done(&b);
	assert_int_equal(upk_json_canonical(ok_o, &b, NULL), UPK_OK);
	upk_buf_done(&b);

	upk_diag_clear(&d);
	assert_int_equal(upk_json_canonical(deep_a, &b, &d), UPK_E_FORMAT);
	assert_non_null(strstr(d.reason, "deep"));
	assert_int_equal(b.len, 0);
	upk_diag_clear(&d);
	assert_int_equal(upk_json_canonical(deep_o, &b, &d), UPK_E_FORMAT);
	assert_int_equal(b.len, 0);
	assert_int_equal(strncmp(d.where, "k.k.k.k", 7), 0);
	/* Far deeper than any stack would allow unbounded recursion to reach. */
	assert_int_equal(upk_json_canonical(huge, &b, NULL), UPK_E_FORMAT);
	assert_int_equal(b.len, 0);
}

/* Strings built in memory without jansson's UTF-8 check are refused, as Python cannot hold them. */
static void test_canonical_rejects_bad_utf8(void **state)
{
	static const char *const bad[] = {
		"\xff", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",	    "\xf4\x90\x80\x80",
		"\xc3", "\x80",	    "ok\xe6\x97",   "\xf8\x88\x80\x80\x80",
	};
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;

	(void)state;
	for (size_t i = 0; i < UPK_ARRAY_SIZE(bad); i++) {
		_cleanup_json_ json_t *s = json_stringn_nocheck(bad[i], strlen(bad[i]));
		_cleanup_json_ json_t *o = json_object();

		assert_non_null(s);
		upk_diag_clear(&d);
		assert_int_equal(upk_json_canonical(s, &b, &d), UPK_E_FORMAT);
		assert_non_null(strstr(d.reason, "UTF-8"));
		assert_int_equal(b.len, 0);

		assert_int_equal(
			json_object_setn_new_nocheck(o, bad[i], strlen(bad[i]), json_integer(1)),
			0);
		assert_int_equal(upk_json_canonical(o, &b, &d), UPK_E_FORMAT);
		assert_int_equal(b.len, 0);
	}
}

/*
 * 10,000 targets inserted in reverse order come out sorted; the expected text
 * is built independently in order. (Speed is measured in scripts/bench, not here.)
 */
static void test_canonical_many_targets(void **state)
{
	_cleanup_json_ json_t *targets = json_object();
	_cleanup_buf_ struct upk_buf want = UPK_BUF_INIT;
	_cleanup_buf_ struct upk_buf got = UPK_BUF_INIT;
	const int n = 10000;

	(void)state;
	for (int i = n - 1; i >= 0; i--) {
		char name[32];

		snprintf(name, sizeof(name), "fw/t%05d.bin", i);
		assert_int_equal(json_object_set_new(targets, name,
						     json_pack("{s:I,s:{s:s}}", "length",
							       (json_int_t)i * 1000, "hashes",
							       "sha256", "ab")),
				 0);
	}
	assert_int_equal(upk_buf_append_byte(&want, '{'), UPK_OK);
	for (int i = 0; i < n; i++)
		assert_int_equal(
			upk_buf_printf(&want,
				       "%s\"fw/t%05d.bin\":{\"hashes\":{\"sha256\":\"ab\"},"
				       "\"length\":%lld}",
				       i ? "," : "", i, (long long)i * 1000),
			UPK_OK);
	assert_int_equal(upk_buf_append_byte(&want, '}'), UPK_OK);
	assert_int_equal(upk_json_canonical(targets, &got, NULL), UPK_OK);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
}

/* ---- readable serialization ---- */

static void test_serialize(void **state)
{
	_cleanup_json_ json_t *v = parse_ok("{\"b\":1,\"a\":[1,2],\"\\u00e9\":\"\\u00fc\"}");
	_cleanup_json_ json_t *deep = nested_tree(UPK_JSON_MAX_DEPTH + 1, true);
	_cleanup_json_ json_t *ok = nested_tree(UPK_JSON_MAX_DEPTH, false);
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_json_ json_t *back = NULL;

	(void)state;
	assert_int_equal(upk_buf_append_str(&b, "#"), UPK_OK);
	assert_int_equal(upk_json_serialize(v, &b), UPK_OK);
	assert_string_equal(
		(char *)b.data,
		"#{\n \"a\": [\n  1,\n  2\n ],\n \"b\": 1,\n \"\303\251\": \"\303\274\"\n}\n");
	/* It parses back to the same value. */
	assert_int_equal(upk_json_parse(b.data + 1, b.len - 1, LIMIT, &back, NULL), UPK_OK);
	assert_true(json_equal(back, v));

	upk_buf_done(&b);
	assert_int_equal(upk_buf_append_str(&b, "#"), UPK_OK);
	assert_int_equal(upk_json_serialize(deep, &b), UPK_E_FORMAT);
	assert_int_equal(b.len, 1);
	assert_int_equal(upk_json_serialize(ok, &b), UPK_OK);
	assert_int_equal(b.data[b.len - 1], '\n');
}

/* ---- accessors ---- */

static void test_getters(void **state)
{
	_cleanup_json_ json_t *o = parse_ok(
		"{\"s\":\"str\",\"i\":42,\"neg\":-5,\"t\":true,\"f\":false,\"o\":{\"x\":1},"
		"\"a\":[1],\"n\":null}");
	const char *s = NULL;
	int64_t i = 0;
	bool bv = false;
	json_t *j = NULL;

	(void)state;
	assert_int_equal(upk_json_get_str(o, "s", &s, NULL), UPK_OK);
	assert_string_equal(s, "str");
	assert_int_equal(upk_json_get_int(o, "i", 0, 100, &i, NULL), UPK_OK);
	assert_int_equal(i, 42);
	assert_int_equal(upk_json_get_int(o, "i", 42, 42, &i, NULL), UPK_OK);
	assert_int_equal(upk_json_get_int(o, "neg", INT64_MIN, INT64_MAX, &i, NULL), UPK_OK);
	assert_int_equal(i, -5);
	assert_int_equal(upk_json_get_bool(o, "t", &bv, NULL), UPK_OK);
	assert_true(bv);
	assert_int_equal(upk_json_get_bool(o, "f", &bv, NULL), UPK_OK);
	assert_false(bv);
	assert_int_equal(upk_json_get_obj(o, "o", &j, NULL), UPK_OK);
	assert_true(json_is_object(j));
	assert_int_equal(upk_json_get_arr(o, "a", &j, NULL), UPK_OK);
	assert_true(json_is_array(j));
}

#define ASSERT_GET_FAILS(call, key, var, before)        \
	do {                                            \
		upk_diag_clear(&d);                     \
		assert_int_equal((call), UPK_E_FORMAT); \
		assert_string_equal(d.where, key);      \
		assert_int_equal(d.err, UPK_E_FORMAT);  \
		assert_true(var == before);             \
	} while (0)

static void test_getters_reject(void **state)
{
	_cleanup_json_ json_t *o = parse_ok("{\"s\":\"str\",\"i\":42,\"t\":true,\"o\":{},\"a\":[],"
					    "\"n\":null,\"big\":9223372036854775807}");
	_cleanup_json_ json_t *arr = parse_ok("[1]");
	_cleanup_json_ json_t *r = json_pack("{s:f}", "real", 1.0);
	const char *const s0 = "untouched";
	const char *s = s0;
	int64_t i = 7;
	bool bv = true;
	json_t *j = arr;
	struct upk_diag d;

	(void)state;
	/* Missing. */
	ASSERT_GET_FAILS(upk_json_get_str(o, "nope", &s, &d), "nope", s, s0);
	assert_string_equal(s, "untouched");
	assert_non_null(strstr(d.reason, "missing"));
	ASSERT_GET_FAILS(upk_json_get_int(o, "nope", 0, 1, &i, &d), "nope", i, 7);
	ASSERT_GET_FAILS(upk_json_get_bool(o, "nope", &bv, &d), "nope", bv, true);
	ASSERT_GET_FAILS(upk_json_get_obj(o, "nope", &j, &d), "nope", j, arr);
	ASSERT_GET_FAILS(upk_json_get_arr(o, "nope", &j, &d), "nope", j, arr);
	/* Wrong type, including null for every kind. */
	ASSERT_GET_FAILS(upk_json_get_str(o, "i", &s, &d), "i", s, s0);
	ASSERT_GET_FAILS(upk_json_get_str(o, "n", &s, &d), "n", s, s0);
	assert_string_equal(s, "untouched");
	ASSERT_GET_FAILS(upk_json_get_int(o, "s", 0, 100, &i, &d), "s", i, 7);
	ASSERT_GET_FAILS(upk_json_get_int(o, "t", 0, 100, &i, &d), "t", i, 7);
	ASSERT_GET_FAILS(upk_json_get_int(r, "real", 0, 100, &i, &d), "real", i, 7);
	ASSERT_GET_FAILS(upk_json_get_bool(o, "i", &bv, &d), "i", bv, true);
	ASSERT_GET_FAILS(upk_json_get_bool(o, "n", &bv, &d), "n", bv, true);
	ASSERT_GET_FAILS(upk_json_get_obj(o, "a", &j, &d), "a", j, arr);
	ASSERT_GET_FAILS(upk_json_get_obj(o, "n", &j, &d), "n", j, arr);
	ASSERT_GET_FAILS(upk_json_get_arr(o, "o", &j, &d), "o", j, arr);
	ASSERT_GET_FAILS(upk_json_get_arr(o, "s", &j, &d), "s", j, arr);
	/* Out of range, both ends. */
	ASSERT_GET_FAILS(upk_json_get_int(o, "i", 0, 41, &i, &d), "i", i, 7);
	assert_non_null(strstr(d.reason, "range"));
	ASSERT_GET_FAILS(upk_json_get_int(o, "i", 43, 100, &i, &d), "i", i, 7);
	ASSERT_GET_FAILS(upk_json_get_int(o, "big", 0, INT64_MAX - 1, &i, &d), "big", i, 7);
	/* The parent is not an object. */
	ASSERT_GET_FAILS(upk_json_get_str(arr, "s", &s, &d), "s", s, s0);
	ASSERT_GET_FAILS(upk_json_get_int(arr, "i", 0, 1, &i, &d), "i", i, 7);
	/* NULL diag is accepted. */
	assert_int_equal(upk_json_get_str(o, "nope", &s, NULL), UPK_E_FORMAT);
	assert_int_equal(upk_json_get_bool(NULL, "x", &bv, NULL), UPK_E_FORMAT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_object_and_array),
		cmocka_unit_test(test_parse_size_limit),
		cmocka_unit_test(test_parse_rejects_duplicates),
		cmocka_unit_test(test_parse_depth_limit),
		cmocka_unit_test(test_parse_depth_prescan_ignores_strings),
		cmocka_unit_test(test_parse_rejects_reals),
		cmocka_unit_test(test_parse_rejects_syntax),
		cmocka_unit_test(test_parse_rejects_top_level_scalars),
		cmocka_unit_test(test_parse_rejects_bad_utf8),
		cmocka_unit_test(test_parse_rejects_nul),
		cmocka_unit_test(test_parse_out_of_memory),
		cmocka_unit_test(test_canonical_vectors),
		cmocka_unit_test(test_canonical_is_idempotent),
		cmocka_unit_test(test_canonical_nul_in_memory),
		cmocka_unit_test(test_canonical_scalars_and_append),
		cmocka_unit_test(test_canonical_rejects_reals),
		cmocka_unit_test(test_canonical_depth_limit),
		cmocka_unit_test(test_canonical_rejects_bad_utf8),
		cmocka_unit_test(test_canonical_many_targets),
		cmocka_unit_test(test_serialize),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_getters_reject),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
