/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for server/serve: the pure request decisions (path, Range,
 * ETag, If-None-Match, If-Range, listen address, access-log line) and the
 * server's life cycle (start, tick hook, stop, start failures). The HTTP
 * behaviour end to end is tests/cli/test_serve.sh.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "serve.h"

/* ---- request path ------------------------------------------------------ */

static void assert_path_ok(const char *url, const char *want)
{
	char rel[UPKS_SERVE_PATH_MAX];
	struct upk_diag d = { 0 };

	if (upks_serve_path_resolve(url, rel, sizeof(rel), &d) != UPK_OK)
		fail_msg("'%s' refused: %s", url, d.reason);
	assert_string_equal(rel, want);
}

static void assert_path_refused(const char *url)
{
	char rel[UPKS_SERVE_PATH_MAX];
	struct upk_diag d = { 0 };

	memset(rel, 'Z', sizeof(rel));
	if (upks_serve_path_resolve(url, rel, sizeof(rel), &d) != UPK_E_NOT_FOUND)
		fail_msg("'%s' accepted", url);
	assert_int_equal(d.err, UPK_E_NOT_FOUND);
	assert_true(d.reason[0] != '\0');
	/* Outputs untouched on failure. */
	for (size_t i = 0; i < sizeof(rel); i++)
		assert_int_equal(rel[i], 'Z');
}

static void test_path_accepts(void **state)
{
	assert_path_ok("/metadata/1.root.json", "metadata/1.root.json");
	assert_path_ok("/metadata/timestamp.json", "metadata/timestamp.json");
	assert_path_ok("/targets/a/b/c.bin", "targets/a/b/c.bin");
	assert_path_ok("/targets/x", "targets/x");
	/* Percent-decoding, either case, once. */
	assert_path_ok("/targets/a%20b", "targets/a b");
	assert_path_ok("/targets/%41%62", "targets/Ab");
	assert_path_ok("/targets/%2541", "targets/%41");
	assert_path_ok("/targets/%e2%82%ac", "targets/\xe2\x82\xac");
	/* An encoded slash is a separator like any other, checked the same. */
	assert_path_ok("/targets/a%2Fb", "targets/a/b");
	assert_path_ok("/%6Detadata/x", "metadata/x");
	/* Dots inside a name are just names. */
	assert_path_ok("/targets/...", "targets/...");
	assert_path_ok("/targets/..a", "targets/..a");
	assert_path_ok("/targets/a..", "targets/a..");
	assert_path_ok("/targets/.hidden", "targets/.hidden");
	assert_path_ok("/targets/a+b~c", "targets/a+b~c");
}

static void test_path_refuses_traversal(void **state)
{
	static const char *const urls[] = {
		"/metadata/../x",
		"/metadata/..",
		"/metadata/../../etc/passwd",
		"/targets/a/../../etc/passwd",
		"/metadata/%2e%2e/x",
		"/metadata/%2E%2E/x",
		"/metadata/%2e%2E/x",
		"/metadata/.%2e/x",
		"/metadata/%2e./x",
		"/metadata/..%2fx",
		"/metadata/..%2Fx",
		"/metadata/x%2f..%2f..%2fetc",
		"/%2e%2e/metadata/x",
		"/metadata/./x",
		"/metadata/.",
		"/metadata/%2e/x",
		"/metadata/%2e",
		"//etc/passwd",
		"/metadata//x",
		"/metadata/%2f/x",
		"/metadata/%2F%2Fx",
		"/metadata/x/",
		"/metadata/x//",
		"/etc/passwd",
		"/",
		"",
		"/metadata",
		"/metadata/",
		"/targets",
		"/targets/",
		"/metadatax/y",
		"/METADATA/x",
		"/Targets/x",
		"/other/x",
		"metadata/x",
		"*",
		"http://127.0.0.1/metadata/x",
		"\\metadata\\x",
		"/targets/a\\b",
		"/targets/a%5cb",
		"/targets/a%5Cb",
		"/targets/..\\..\\x",
	};

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		assert_path_refused(urls[i]);
}

static void test_path_refuses_bad_bytes(void **state)
{
	static const char *const urls[] = {
		"/targets/%00",	   "/targets/a%00b", "/targets/a%00", "/targets/%0a",
		"/targets/%0D%0A", "/targets/a\x01", "/targets/\x1f", "/targets/%7f",
		"/targets/\x7f",   "/targets/a\tb",  "/targets/%09",  "/targets/%",
		"/targets/a%",	   "/targets/%4",    "/targets/%zz",  "/targets/%g0",
		"/targets/%0g",	   "/targets/%%41",  "/targets/%-1",  "/targets/% 1",
	};

	for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++)
		assert_path_refused(urls[i]);
}

static void test_path_limits(void **state)
{
	char url[3 * UPKS_SERVE_PATH_MAX + 64];
	char want[UPKS_SERVE_PATH_MAX + 8];
	char rel[UPKS_SERVE_PATH_MAX];
	size_t n;

	/* A segment of exactly UPKS_SERVE_SEGMENT_MAX bytes is fine, one more is not. */
	n = (size_t)snprintf(url, sizeof(url), "/targets/");
	memset(url + n, 'a', UPKS_SERVE_SEGMENT_MAX);
	url[n + UPKS_SERVE_SEGMENT_MAX] = '\0';
	memcpy(want, url + 1, strlen(url + 1) + 1);
	assert_path_ok(url, want);
	url[n + UPKS_SERVE_SEGMENT_MAX] = 'a';
	url[n + UPKS_SERVE_SEGMENT_MAX + 1] = '\0';
	assert_path_refused(url);
	/* Encoded, the same segment counts decoded bytes. */
	n = (size_t)snprintf(url, sizeof(url), "/targets/");
	for (int i = 0; i < UPKS_SERVE_SEGMENT_MAX; i++)
		n += (size_t)snprintf(url + n, sizeof(url) - n, "%%61");
	assert_path_ok(url, want);

	/* Decoded length: UPKS_SERVE_PATH_MAX bytes (leading '/' included) is the limit. */
	n = (size_t)snprintf(url, sizeof(url), "/targets");
	while (n + 100 <= UPKS_SERVE_PATH_MAX) {
		url[n++] = '/';
		memset(url + n, 'b', 99);
		n += 99;
	}
	while (n < UPKS_SERVE_PATH_MAX)
		url[n++] = 'c';
	url[n] = '\0';
	assert_int_equal(strlen(url), UPKS_SERVE_PATH_MAX);
	assert_path_ok(url, url + 1);
	url[n++] = 'c';
	url[n] = '\0';
	assert_path_refused(url);

	/* A caller's buffer too small for the result is an internal error, not an overflow. */
	memset(rel, 'Z', sizeof(rel));
	assert_int_equal(upks_serve_path_resolve("/metadata/timestamp.json", rel, 10, NULL),
			 UPK_E_INTERNAL);
	assert_int_equal(rel[0], 'Z');
	/* Without a diag. */
	assert_int_equal(upks_serve_path_resolve("/x", rel, sizeof(rel), NULL), UPK_E_NOT_FOUND);
}

/* ---- Range -------------------------------------------------------------- */

static void assert_partial(const char *h, uint64_t size, uint64_t first, uint64_t length)
{
	struct upks_range r = { 77, 77 };

	if (upks_serve_range_parse(h, size, &r) != UPKS_RANGE_PARTIAL)
		fail_msg("'%s' (size %llu) is not PARTIAL", h, (unsigned long long)size);
	assert_int_equal(r.first, first);
	assert_int_equal(r.length, length);
}

static void assert_kind(const char *h, uint64_t size, enum upks_range_kind want)
{
	struct upks_range r = { 77, 77 };
	enum upks_range_kind got = upks_serve_range_parse(h, size, &r);

	if (got != want)
		fail_msg("'%s' (size %llu): kind %d, want %d", h ? h : "(null)",
			 (unsigned long long)size, got, want);
	/* *ret is written only for PARTIAL. */
	assert_int_equal(r.first, 77);
	assert_int_equal(r.length, 77);
}

static void test_range_partial(void **state)
{
	assert_partial("bytes=0-99", 1000, 0, 100);
	assert_partial("bytes=0-0", 1000, 0, 1);
	assert_partial("bytes=999-999", 1000, 999, 1);
	assert_partial("bytes=10-19", 1000, 10, 10);
	assert_partial("bytes=990-2000", 1000, 990, 10);		  /* clamped to the end */
	assert_partial("bytes=0-99999999999999999999999", 1000, 0, 1000); /* saturates */
	assert_partial("bytes=500-", 1000, 500, 500);
	assert_partial("bytes=0-", 1000, 0, 1000);
	assert_partial("bytes=999-", 1000, 999, 1);
	assert_partial("bytes=-100", 1000, 900, 100);
	assert_partial("bytes=-1", 1000, 999, 1);
	assert_partial("bytes=-1000", 1000, 0, 1000);
	assert_partial("bytes=-2000", 1000, 0, 1000);
	assert_partial("bytes=-99999999999999999999999", 1000, 0, 1000);
	assert_partial("bytes=0-0", 1, 0, 1);
	/* Unit case-insensitive, OWS and empty list elements (RFC 9110 §5.6.1). */
	assert_partial("Bytes=0-9", 1000, 0, 10);
	assert_partial("BYTES=0-9", 1000, 0, 10);
	assert_partial("bytes= 0-9", 1000, 0, 10);
	assert_partial("bytes=0-9 ", 1000, 0, 10);
	assert_partial("bytes=\t0-9\t", 1000, 0, 10);
	assert_partial("bytes=0-9,", 1000, 0, 10);
	assert_partial("bytes=,0-9", 1000, 0, 10);
	assert_partial("bytes=, ,0-9, ,", 1000, 0, 10);
	/* Large files. */
	assert_partial("bytes=4294967296-", 8589934592ULL, 4294967296ULL, 4294967296ULL);
	assert_partial("bytes=-1", UINT64_MAX, UINT64_MAX - 1, 1);
}

static void test_range_full(void **state)
{
	assert_kind(NULL, 1000, UPKS_RANGE_FULL);
	assert_kind("", 1000, UPKS_RANGE_FULL);
	/* Other units are ignored (RFC 9110 §14.2). */
	assert_kind("items=0-9", 1000, UPKS_RANGE_FULL);
	assert_kind("bytes", 1000, UPKS_RANGE_FULL);
	assert_kind("bytes 0-9", 1000, UPKS_RANGE_FULL);
	assert_kind("bytes =0-9", 1000, UPKS_RANGE_FULL);
	assert_kind(" bytes=0-9", 1000, UPKS_RANGE_FULL);
	assert_kind("bytesx=0-9", 1000, UPKS_RANGE_FULL);
	/* Several ranges: the whole file (no multipart). */
	assert_kind("bytes=0-1,5-6", 1000, UPKS_RANGE_FULL);
	assert_kind("bytes=0-1, 5-6", 1000, UPKS_RANGE_FULL);
	assert_kind("bytes=0-1,-5", 1000, UPKS_RANGE_FULL);
	assert_kind("bytes=0-1,0-1", 1000, UPKS_RANGE_FULL);
	assert_kind("bytes=2000-3000,0-1", 1000, UPKS_RANGE_FULL);
	assert_kind("bytes=2000-3000,4000-", 1000, UPKS_RANGE_FULL);
}

static void test_range_unsatisfiable(void **state)
{
	assert_kind("bytes=1000-", 1000, UPKS_RANGE_UNSATISFIABLE);
	assert_kind("bytes=1000-1000", 1000, UPKS_RANGE_UNSATISFIABLE);
	assert_kind("bytes=1000-2000", 1000, UPKS_RANGE_UNSATISFIABLE);
	assert_kind("bytes=5000-", 1000, UPKS_RANGE_UNSATISFIABLE);
	assert_kind("bytes=18446744073709551615-", 1000, UPKS_RANGE_UNSATISFIABLE);
	assert_kind("bytes=99999999999999999999999-", 1000, UPKS_RANGE_UNSATISFIABLE);
	assert_kind("bytes=-0", 1000, UPKS_RANGE_UNSATISFIABLE);
	assert_kind("bytes=-000", 1000, UPKS_RANGE_UNSATISFIABLE);
	/* An empty file has no byte to select. */
	assert_kind("bytes=0-0", 0, UPKS_RANGE_UNSATISFIABLE);
	assert_kind("bytes=0-", 0, UPKS_RANGE_UNSATISFIABLE);
	assert_kind("bytes=-5", 0, UPKS_RANGE_UNSATISFIABLE);
	assert_kind("bytes=1-", 1, UPKS_RANGE_UNSATISFIABLE);
}

static void test_range_malformed(void **state)
{
	static const char *const bad[] = {
		"bytes=",	 "bytes= ",	   "bytes=,",	    "bytes=, ,",   "bytes=a-b",
		"bytes=5-1",	 "bytes=1000-999", "bytes=-",	    "bytes=1",	   "bytes=--1",
		"bytes=1-2-3",	 "bytes=0-1;x",	   "bytes=+1-2",    "bytes= 0 -1", "bytes=0- 1",
		"bytes=0x10-20", "bytes=1-2,x",	   "bytes=x,1-2",   "bytes=1 2",   "bytes=-1-2",
		"bytes=0-1 ,x",	 "bytes=\xff",	   "bytes=0-1\r\n", "bytes=1.5-2", "bytes=0-1 2",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_kind(bad[i], 1000, UPKS_RANGE_MALFORMED);
	/* Malformed regardless of the file size. */
	assert_kind("bytes=5-1", 0, UPKS_RANGE_MALFORMED);
}

/* ---- ETag, If-None-Match, If-Range, Content-Type ------------------------ */

static void test_etag_format(void **state)
{
	char e[UPKS_SERVE_ETAG_SIZE];

	upks_serve_etag_format(0x1a, 0x3e8, 0x5, e);
	assert_string_equal(e, "\"1a-3e8-5\"");
	upks_serve_etag_format(0, 0, 0, e);
	assert_string_equal(e, "\"0-0-0\"");
	upks_serve_etag_format(UINT64_MAX, UINT64_MAX, UINT64_MAX, e);
	assert_string_equal(e, "\"ffffffffffffffff-ffffffffffffffff-ffffffffffffffff\"");
	assert_true(strlen(e) < UPKS_SERVE_ETAG_SIZE);
}

static void test_etag_list(void **state)
{
	const char *e = "\"1a-3e8-5\"";

	assert_false(upks_serve_etag_list_has(NULL, e));
	assert_false(upks_serve_etag_list_has("", e));
	assert_false(upks_serve_etag_list_has("  ", e));
	assert_true(upks_serve_etag_list_has("*", e));
	assert_true(upks_serve_etag_list_has(" * ", e));
	assert_false(upks_serve_etag_list_has("*, \"1a-3e8-5\"", e));
	assert_false(upks_serve_etag_list_has("**", e));
	assert_true(upks_serve_etag_list_has("\"1a-3e8-5\"", e));
	assert_true(upks_serve_etag_list_has("W/\"1a-3e8-5\"", e)); /* weak comparison */
	assert_true(upks_serve_etag_list_has(" \"1a-3e8-5\" ", e));
	assert_true(upks_serve_etag_list_has("\"a\", \"1a-3e8-5\"", e));
	assert_true(upks_serve_etag_list_has("\"a\",\"1a-3e8-5\"", e));
	assert_true(upks_serve_etag_list_has("\"a\" ,\t\"1a-3e8-5\" , \"b\"", e));
	assert_true(upks_serve_etag_list_has(", ,\"1a-3e8-5\",", e));
	assert_true(upks_serve_etag_list_has("W/\"a\", W/\"1a-3e8-5\"", e));
	assert_false(upks_serve_etag_list_has("\"a\"", e));
	assert_false(upks_serve_etag_list_has("\"a\", \"b\"", e));
	assert_false(upks_serve_etag_list_has("1a-3e8-5", e));	     /* not quoted */
	assert_false(upks_serve_etag_list_has("\"1a-3e8-\"", e));    /* prefix */
	assert_false(upks_serve_etag_list_has("\"1a-3e8-55\"", e));  /* longer */
	assert_false(upks_serve_etag_list_has("\"1A-3E8-5\"", e));   /* case matters */
	assert_false(upks_serve_etag_list_has("\"1a-3e8-5", e));     /* unterminated */
	assert_false(upks_serve_etag_list_has("w/\"1a-3e8-5\"", e)); /* "W/" is case-sensitive */
	/* A malformed list never matches, even if the tag appears later. */
	assert_false(upks_serve_etag_list_has("x, \"1a-3e8-5\"", e));
	assert_false(upks_serve_etag_list_has("\"a\" x, \"1a-3e8-5\"", e));
	assert_false(upks_serve_etag_list_has("\"a b\", \"1a-3e8-5\"", e)); /* SP not etagc */
	assert_false(upks_serve_etag_list_has("\"a\x01\", \"1a-3e8-5\"", e));
}

static void test_if_range(void **state)
{
	const char *e = "\"1a-3e8-5\"";

	assert_true(upks_serve_if_range_is_fresh(NULL, e));
	assert_true(upks_serve_if_range_is_fresh("\"1a-3e8-5\"", e));
	assert_true(upks_serve_if_range_is_fresh(" \"1a-3e8-5\" ", e));
	assert_false(upks_serve_if_range_is_fresh("W/\"1a-3e8-5\"", e)); /* strong comparison */
	assert_false(upks_serve_if_range_is_fresh("\"other\"", e));
	assert_false(upks_serve_if_range_is_fresh("\"1a-3e8-5\"x", e));
	assert_false(upks_serve_if_range_is_fresh("\"1a-3e8-5\", \"x\"", e));
	assert_false(upks_serve_if_range_is_fresh("\"1a-3e8-", e));
	assert_false(upks_serve_if_range_is_fresh("Wed, 21 Oct 2015 07:28:00 GMT", e));
	assert_false(upks_serve_if_range_is_fresh("", e));
	assert_false(upks_serve_if_range_is_fresh("*", e));
}

static void test_content_type(void **state)
{
	assert_string_equal(upks_serve_content_type("metadata/1.root.json"), "application/json");
	assert_string_equal(upks_serve_content_type("metadata/timestamp.json"), "application/json");
	assert_string_equal(upks_serve_content_type(".json"), "application/json");
	assert_string_equal(upks_serve_content_type("targets/a.bin"), "application/octet-stream");
	assert_string_equal(upks_serve_content_type("targets/a.json.sig"),
			    "application/octet-stream");
	assert_string_equal(upks_serve_content_type("targets/a.JSON"), "application/octet-stream");
	assert_string_equal(upks_serve_content_type("json"), "application/octet-stream");
	assert_string_equal(upks_serve_content_type(""), "application/octet-stream");
}

/* ---- listen address ----------------------------------------------------- */

static void test_listen_ok(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)&ss;
	struct in6_addr loop6 = IN6ADDR_LOOPBACK_INIT;

	assert_int_equal(upks_serve_listen_parse("127.0.0.1:8080", &ss, &len, NULL), UPK_OK);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(ntohs(a4->sin_port), 8080);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), INADDR_LOOPBACK);

	assert_int_equal(upks_serve_listen_parse("0.0.0.0:0", &ss, &len, NULL), UPK_OK);
	assert_int_equal(ntohs(a4->sin_port), 0);
	assert_int_equal(upks_serve_listen_parse("10.1.2.3:65535", &ss, &len, NULL), UPK_OK);
	assert_int_equal(ntohs(a4->sin_port), 65535);

	assert_int_equal(upks_serve_listen_parse("[::1]:443", &ss, &len, NULL), UPK_OK);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_int_equal(ntohs(a6->sin6_port), 443);
	assert_memory_equal(&a6->sin6_addr, &loop6, sizeof(loop6));
	assert_int_equal(upks_serve_listen_parse("[::]:0", &ss, &len, NULL), UPK_OK);
	assert_int_equal(upks_serve_listen_parse("[::ffff:127.0.0.1]:80", &ss, &len, NULL), UPK_OK);
}

static void test_listen_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"localhost:8080",
		"example.com:80",
		"127.0.0.1",
		"127.0.0.1:",
		"127.0.0.1:65536",
		"127.0.0.1:99999",
		"127.0.0.1:000080",
		"127.0.0.1:-1",
		"127.0.0.1:+80",
		"127.0.0.1:80x",
		"127.0.0.1: 80",
		"127.0.0.1:0x50",
		":80",
		"::1:80",
		"[::1]",
		"[::1]80",
		"[::1:80",
		"[]:80",
		"[127.0.0.1]:80",
		"[fe80::1%eth0]:80",
		"127.1:80",
		"256.0.0.1:80",
		"1.2.3.4.5:80",
		" 127.0.0.1:80",
		"127.0.0.1 :80",
		"http://127.0.0.1:80",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa:80",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sockaddr_storage ss;
		socklen_t len = 12345;
		struct upk_diag d = { 0 };

		memset(&ss, 0x5a, sizeof(ss));
		if (upks_serve_listen_parse(bad[i], &ss, &len, &d) != UPK_E_USAGE)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(d.err, UPK_E_USAGE);
		assert_int_equal(len, 12345);
		assert_int_equal(((unsigned char *)&ss)[0], 0x5a);
	}
}

/* ---- access-log line ---------------------------------------------------- */

static void test_log_line(void **state)
{
	char b[UPKS_SERVE_LOG_LINE_MAX];
	size_t n;

	n = upks_serve_log_format(b, sizeof(b), "GET", "/targets/ab.x", "bytes=0-99", 206, 100,
				  NULL);
	assert_string_equal(b, "GET /targets/ab.x bytes=0-99 206 100\n");
	assert_int_equal(n, strlen(b));

	upks_serve_log_format(b, sizeof(b), "HEAD", "/metadata/1.root.json", NULL, 200, 0, NULL);
	assert_string_equal(b, "HEAD /metadata/1.root.json - 200 0\n");
	upks_serve_log_format(b, sizeof(b), "", "", "", 0, UINT64_MAX, "read-error");
	assert_string_equal(b, "- - - - - incomplete=read-error\n");
	upks_serve_log_format(b, sizeof(b), NULL, NULL, NULL, 431, UINT64_MAX, NULL);
	assert_string_equal(b, "- - - 431 -\n");
	upks_serve_log_format(b, sizeof(b), "GET", "/targets/big", "-", 200, 268435456, "aborted");
	assert_string_equal(b, "GET /targets/big - 200 268435456 incomplete=aborted\n");
	upks_serve_log_format(b, sizeof(b), "GET", "/x", NULL, 200, UINT64_MAX - 1, NULL);
	assert_string_equal(b, "GET /x - 200 18446744073709551614\n");
}

static void test_log_escapes(void **state)
{
	char b[UPKS_SERVE_LOG_LINE_MAX];

	/* Whatever a client sends, the line stays one line of printable ASCII. */
	upks_serve_log_format(b, sizeof(b), "G T", "/a b\nc\r\x7f\xff\x01%41",
			      "bytes=0-1\n200 GET /fake", 404, 10, NULL);
	assert_string_equal(b, "G%20T /a%20b%0Ac%0D%7F%FF%01%41 "
			       "bytes=0-1%0A200%20GET%20/fake 404 10\n");
}

static void test_log_truncates(void **state)
{
	char path[3000], range[600], method[100];
	char b[UPKS_SERVE_LOG_LINE_MAX];
	size_t n;

	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	memset(range, 'r', sizeof(range) - 1);
	range[sizeof(range) - 1] = '\0';
	memset(method, 'M', sizeof(method) - 1);
	method[sizeof(method) - 1] = '\0';
	n = upks_serve_log_format(b, sizeof(b), method, path, range, 200, 1, NULL);
	assert_int_equal(n, 16 + 3 + 1 + 1024 + 3 + 1 + 128 + 3 + strlen(" 200 1\n"));
	assert_memory_equal(b + 16, "... ", 4);
	assert_memory_equal(b + 20 + 1024, "... ", 4);
	assert_string_equal(b + n - 7, " 200 1\n");

	/* Worst case: every byte escaped in every field, and a reason. */
	memset(path, 0x01, sizeof(path) - 1);
	memset(range, '\n', sizeof(range) - 1);
	memset(method, ' ', sizeof(method) - 1);
	n = upks_serve_log_format(b, sizeof(b), method, path, range, 599, UINT64_MAX - 1,
				  "shutdown-shutdown-shutdown-shutdown-shutdown");
	assert_true(n < sizeof(b));
	assert_int_equal(strlen(b), n);
	assert_int_equal(b[n - 1], '\n');
	assert_null(memchr(b, '\n', n - 1));
	/* An escape is never cut in half. */
	assert_memory_equal(b, "%20%20%20%20%20...", 18);
}

/* ---- the server's life cycle -------------------------------------------- */

struct fx {
	char dir[256];
	char repo[300];
};

static int setup_repo(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	const char *tmp = getenv("TMPDIR");

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/upk-serve-XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->repo, sizeof(fx->repo), "%s/repo", fx->dir);
	assert_int_equal(mkdir(fx->repo, 0755), 0);
	*state = fx;
	return 0;
}

static int teardown_repo(void **state)
{
	struct fx *fx = *state;
	upk_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

struct ticker {
	int count;   /* updated only inside tick */
	int in_tick; /* > 1 would mean two ticks at once */
	int max_in_tick;
};

static void tick(void *ctx)
{
	struct ticker *t = ctx;
	int now = __atomic_add_fetch(&t->in_tick, 1, __ATOMIC_SEQ_CST);

	if (now > t->max_in_tick)
		t->max_in_tick = now;
	usleep(2000);
	__atomic_add_fetch(&t->count, 1, __ATOMIC_SEQ_CST);
	__atomic_sub_fetch(&t->in_tick, 1, __ATOMIC_SEQ_CST);
}

static void loopback_opts(struct upks_serve_opts *o, struct sockaddr_storage *ss, const char *repo)
{
	memset(o, 0, sizeof(*o));
	assert_int_equal(upks_serve_listen_parse("127.0.0.1:0", ss, &o->listen_addr_len, NULL),
			 UPK_OK);
	o->listen_addr = (const struct sockaddr *)ss;
	o->repo = repo;
	o->access_log_fd = -1;
	o->threads = 2;
	o->max_connections = 8;
}

static void test_server_ticks(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_storage ss;
	struct upks_serve_opts o;
	struct upks_server *srv = NULL;
	struct ticker t = { 0 };
	char addr[64];
	int after_stop;

	loopback_opts(&o, &ss, fx->repo);
	o.tick = tick;
	o.tick_ctx = &t;
	o.tick_interval_ms = 5;
	assert_int_equal(upks_serve_start(&o, &srv, NULL), UPK_OK);
	assert_non_null(srv);
	upks_serve_address(srv, addr, sizeof(addr));
	assert_int_equal(strncmp(addr, "127.0.0.1:", 10), 0);
	assert_string_not_equal(addr, "127.0.0.1:0"); /* the kernel's port */

	/* Bounded wait: 5 ticks of 5 ms must come well within 10 s. */
	for (int i = 0; i < 1000 && __atomic_load_n(&t.count, __ATOMIC_SEQ_CST) < 5; i++)
		usleep(10000);
	assert_true(__atomic_load_n(&t.count, __ATOMIC_SEQ_CST) >= 5);
	upks_serve_stop(srv);
	after_stop = __atomic_load_n(&t.count, __ATOMIC_SEQ_CST);
	usleep(30000);
	assert_int_equal(__atomic_load_n(&t.count, __ATOMIC_SEQ_CST), after_stop);
	assert_int_equal(t.max_in_tick, 1);
	upks_serve_stop(NULL);
}

static void test_server_no_tick(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_storage ss;
	struct upks_serve_opts o;
	struct upks_server *srv = NULL;

	loopback_opts(&o, &ss, fx->repo);
	o.threads = 0; /* one per CPU, clamped to the connection limit */
	o.max_connections = 1;
	assert_int_equal(upks_serve_start(&o, &srv, NULL), UPK_OK);
	upks_serve_stop(srv);
}

static void test_server_bad_repo(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_storage ss;
	struct upks_serve_opts o;
	struct upks_server *srv = NULL;
	struct upk_diag d = { 0 };
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/missing", fx->dir);
	loopback_opts(&o, &ss, path);
	assert_int_equal(upks_serve_start(&o, &srv, &d), UPK_E_CONFIG);
	assert_string_equal(d.where, path);
	assert_null(srv);

	snprintf(path, sizeof(path), "%s/file", fx->dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	o.repo = path;
	memset(&d, 0, sizeof(d));
	assert_int_equal(upks_serve_start(&o, &srv, &d), UPK_E_CONFIG);
	assert_string_equal(d.where, path);
	assert_null(srv);
}

static void test_server_address_in_use(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_storage ss, ss2;
	struct upks_serve_opts o, o2;
	struct upks_server *a = NULL, *b = NULL;
	struct upk_diag d = { 0 };
	char addr[64];

	loopback_opts(&o, &ss, fx->repo);
	assert_int_equal(upks_serve_start(&o, &a, NULL), UPK_OK);
	upks_serve_address(a, addr, sizeof(addr));
	loopback_opts(&o2, &ss2, fx->repo);
	assert_int_equal(upks_serve_listen_parse(addr, &ss2, &o2.listen_addr_len, NULL), UPK_OK);
	assert_int_equal(upks_serve_start(&o2, &b, &d), UPK_E_NETWORK);
	assert_string_equal(d.where, "--listen");
	assert_null(b);
	upks_serve_stop(a);

	/* Not an address of this machine: a configuration error. */
	assert_int_equal(upks_serve_listen_parse("192.0.2.1:0", &ss2, &o2.listen_addr_len, NULL),
			 UPK_OK);
	memset(&d, 0, sizeof(d));
	assert_int_equal(upks_serve_start(&o2, &b, &d), UPK_E_CONFIG);
	assert_null(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_accepts),
		cmocka_unit_test(test_path_refuses_traversal),
		cmocka_unit_test(test_path_refuses_bad_bytes),
		cmocka_unit_test(test_path_limits),
		cmocka_unit_test(test_range_partial),
		cmocka_unit_test(test_range_full),
		cmocka_unit_test(test_range_unsatisfiable),
		cmocka_unit_test(test_range_malformed),
		cmocka_unit_test(test_etag_format),
		cmocka_unit_test(test_etag_list),
		cmocka_unit_test(test_if_range),
		cmocka_unit_test(test_content_type),
		cmocka_unit_test(test_listen_ok),
		cmocka_unit_test(test_listen_refused),
		cmocka_unit_test(test_log_line),
		cmocka_unit_test(test_log_escapes),
		cmocka_unit_test(test_log_truncates),
		cmocka_unit_test_setup_teardown(test_server_ticks, setup_repo, teardown_repo),
		cmocka_unit_test_setup_teardown(test_server_no_tick, setup_repo, teardown_repo),
		cmocka_unit_test_setup_teardown(test_server_bad_repo, setup_repo, teardown_repo),
		cmocka_unit_test_setup_teardown(test_server_address_in_use, setup_repo,
						teardown_repo),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
