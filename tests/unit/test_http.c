/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client/http: the pure HTTP/1.1 response parser (head and body decoder),
 * fed whole and byte by byte. The transport over sockets is test_fetch.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static enum upk_err parse(const char *s, struct upkc_http_head *h, struct upk_diag *d)
{
	size_t scan = 0, len = strlen(s);

	upk_diag_clear(d);
	/* The head ends where upkc_http_head_end says, fed whole or growing. */
	for (size_t i = 0; i <= len; i++) {
		size_t e = upkc_http_head_end((const uint8_t *)s, i, &scan);
		if (e) {
			assert_int_equal(e, i);
			break;
		}
	}
	return upkc_http_head_parse((const uint8_t *)s, len, h, d);
}

static void test_head_ok(void **state)
{
	struct upkc_http_head h;
	struct upk_diag d;

	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 42\r\n"
			       "content-length:42\r\nX-Other:  y \r\n\r\n",
			       &h, &d),
			 UPK_OK);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.minor, 1);
	assert_true(h.has_length);
	assert_int_equal(h.length, 42);
	assert_false(h.chunked);
	assert_false(h.close);
	/* Bare LF line ends; no reason phrase; HTTP/1.0 closes unless keep-alive. */
	assert_int_equal(parse("HTTP/1.0 404\nConnection: Keep-Alive\n\n", &h, &d), UPK_OK);
	assert_int_equal(h.status, 404);
	assert_false(h.close);
	assert_int_equal(parse("HTTP/1.0 200 OK\r\n\r\n", &h, &d), UPK_OK);
	assert_true(h.close);
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nConnection: foo, close\r\n"
			       "Transfer-Encoding: Chunked\r\nContent-Length: 9\r\n\r\n",
			       &h, &d),
			 UPK_OK);
	assert_true(h.close);
	assert_true(h.chunked);
	assert_int_equal(parse("HTTP/1.1 302 Found\r\nLocation:  /a b \r\n\r\n", &h, &d), UPK_OK);
	assert_true(h.has_location);
	assert_string_equal(h.location, "/a b");
	assert_int_equal(parse("HTTP/1.1 206 P\r\nContent-Range: bytes 5-9/100\r\n\r\n", &h, &d),
			 UPK_OK);
	assert_true(h.has_range);
	assert_int_equal(h.range_first, 5);
	assert_int_equal(h.range_last, 9);
	assert_int_equal(parse("HTTP/1.1 416 R\r\nContent-Range: bytes */100\r\n\r\n", &h, &d),
			 UPK_OK);
	assert_false(h.has_range);
}

static void assert_bad(const char *s, const char *reason)
{
	struct upkc_http_head h;
	struct upk_diag d;

	memset(&h, 0x5a, sizeof(h));
	if (parse(s, &h, &d) != UPK_E_SERVER)
		fail_msg("accepted: %s", s);
	if (!strstr(d.reason, reason))
		fail_msg("'%s': reason '%s' lacks '%s'", s, d.reason, reason);
	/* Output untouched on failure. */
	for (size_t i = 0; i < sizeof(h); i++)
		assert_int_equal(((uint8_t *)&h)[i], 0x5a);
}

static void test_head_bad(void **state)
{
	char *big;
	size_t n = 0;

	assert_bad("HTTP/1.1 OK\r\n\r\n", "malformed status line");
	assert_bad("HTTP/2 200 OK\r\n\r\n", "malformed status line");
	assert_bad("HTTP/1.1 20 OK\r\n\r\n", "malformed status line");
	assert_bad("HTTP/1.1 200OK\r\n\r\n", "malformed status line");
	assert_bad("HTTP/1.1 600 X\r\n\r\n", "malformed status line");
	assert_bad("ICY 200 OK\r\n\r\n", "malformed status line");
	assert_bad("HTTP/1.1 200 O\x01K\r\n\r\n", "malformed status line");
	assert_bad("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", "obsolete line folding");
	assert_bad("HTTP/1.1 200 OK\r\n\tb\r\n\r\n", "obsolete line folding");
	assert_bad("HTTP/1.1 200 OK\r\nNo colon\r\n\r\n", "malformed header line");
	assert_bad("HTTP/1.1 200 OK\r\nName : v\r\n\r\n", "malformed header line");
	assert_bad("HTTP/1.1 200 OK\r\n: v\r\n\r\n", "malformed header line");
	assert_bad("HTTP/1.1 200 OK\r\nX: a\x01\r\n\r\n", "malformed header value");
	assert_bad("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "stray control character");
	assert_bad("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		   "conflicting Content-Length");
	assert_bad("HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\n", "conflicting Content-Length");
	assert_bad("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed Content-Length");
	assert_bad("HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\n", "malformed Content-Length");
	assert_bad("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "malformed Content-Length");
	assert_bad("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		   "malformed Content-Length");
	assert_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
		   "unsupported Transfer-Encoding");
	assert_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
		   "unsupported Transfer-Encoding");
	assert_bad("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.0");
	assert_bad("HTTP/1.1 302 F\r\nLocation: /a\r\nLocation: /b\r\n\r\n",
		   "more than one Location");
	assert_bad("HTTP/1.1 206 P\r\nContent-Range: bytes 9-5/100\r\n\r\n", "Content-Range");
	assert_bad("HTTP/1.1 206 P\r\nContent-Range: items 1-5/100\r\n\r\n", "Content-Range");
	assert_bad("HTTP/1.1 206 P\r\nContent-Range: bytes 1-5\r\n\r\n", "Content-Range");
	assert_bad("HTTP/1.1 200 OK\r\nX: y\r\n", "incomplete");
	assert_bad("HTTP/1.1 200 OK\r\n\r\nbody", "bytes after the response head");

	/* 101 header lines; a head over 64 KiB. */
	big = malloc(UPKC_HTTP_HEAD_MAX + 100);
	assert_non_null(big);
	n = (size_t)snprintf(big, 64, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i < UPKC_HTTP_LINES_MAX + 1; i++)
		n += (size_t)snprintf(big + n, 64, "X-%d: v\r\n", i);
	memcpy(big + n, "\r\n", 3);
	assert_bad(big, "response headers too large");
	n = (size_t)snprintf(big, 64, "HTTP/1.1 200 OK\r\nX: ");
	memset(big + n, 'v', UPKC_HTTP_HEAD_MAX - n);
	memcpy(big + UPKC_HTTP_HEAD_MAX - 4, "\r\n\r\n", 5);
	{
		struct upkc_http_head h;
		assert_int_equal(parse(big, &h, NULL), UPK_OK); /* exactly 64 KiB */
	}
	memcpy(big + UPKC_HTTP_HEAD_MAX - 4, "vv\r\n\r\n", 7);
	assert_bad(big, "response headers too large");
	free(big);
}

/* Decode body bytes fed in pieces of step bytes; the data and the result. */
static enum upk_err decode(const struct upkc_http_head *h, const char *in, size_t len, size_t step,
			   char *out, size_t *out_len, bool *done, struct upk_diag *d)
{
	struct upkc_http_body b;
	size_t pos = 0, avail = 0;

	*out_len = 0;
	upkc_http_body_init(&b, h);
	while (!b.done && pos < len) {
		size_t used;
		bool data;
		enum upk_err r;

		if (avail < pos + 1)
			avail = pos + step < len ? pos + step : len;
		r = upkc_http_body_feed(&b, (const uint8_t *)in + pos, avail - pos, &used, &data,
					d);
		if (r)
			return r;
		assert_true(used >= 1);
		if (data) {
			memcpy(out + *out_len, in + pos, used);
			*out_len += used;
		}
		pos += used;
	}
	*done = b.done;
	if (!b.done)
		return upkc_http_body_eof(&b, d);
	return UPK_OK;
}

static const char chunked_body[] = "5;ext=1;x=\"q\"\r\nhello\r\n"
				   "A \r\n, chunked!\r\n"
				   "1\nX\n"
				   "0\r\nTrailer: t\r\nMore: m\r\n\r\n";

static void test_body_chunked(void **state)
{
	struct upkc_http_head h = { .status = 200, .chunked = true };
	char out[64];
	size_t n;
	bool done;

	for (size_t step = 1; step <= sizeof(chunked_body); step++) {
		assert_int_equal(decode(&h, chunked_body, sizeof(chunked_body) - 1, step, out, &n,
					&done, NULL),
				 UPK_OK);
		assert_true(done);
		assert_int_equal(n, 16);
		assert_memory_equal(out, "hello, chunked!X", 16);
	}
	/* Without the final CRLF the body is not complete. */
	assert_int_equal(
		decode(&h, chunked_body, sizeof(chunked_body) - 3, 3, out, &n, &done, NULL),
		UPK_E_NETWORK);
}

static void assert_chunk_bad(const char *in, const char *reason)
{
	struct upkc_http_head h = { .status = 200, .chunked = true };
	struct upk_diag d = { 0 };
	char out[256];
	size_t n;
	bool done;

	if (decode(&h, in, strlen(in), 1, out, &n, &done, &d) != UPK_E_SERVER)
		fail_msg("accepted: %s", in);
	if (!strstr(d.reason, reason))
		fail_msg("reason '%s' lacks '%s'", d.reason, reason);
}

static void test_body_chunked_bad(void **state)
{
	static char ext[UPKC_HTTP_CHUNK_LINE_MAX + 16];
	char *trailers;
	size_t n;

	assert_chunk_bad("zz\r\n", "malformed chunk size");
	assert_chunk_bad("\r\n", "malformed chunk size");
	assert_chunk_bad("-1\r\n", "malformed chunk size");
	assert_chunk_bad("5\rx", "malformed chunk size");
	assert_chunk_bad("10000000000000000\r\n", "chunk size too large");
	assert_chunk_bad("2\r\nabc\r\n", "chunk data longer than its size");
	assert_chunk_bad("2\r\nab\rx", "chunk data longer than its size");
	assert_chunk_bad("2;\x01\r\nab\r\n", "malformed chunk extension");
	assert_chunk_bad("0\r\n\rx", "malformed chunked trailer");
	memset(ext, 'e', sizeof(ext) - 1);
	memcpy(ext, "1;", 2);
	assert_chunk_bad(ext, "chunk extensions too long");
	trailers = malloc(UPKC_HTTP_HEAD_MAX + 64);
	assert_non_null(trailers);
	n = (size_t)snprintf(trailers, 8, "0\r\n");
	for (int i = 0; i <= UPKC_HTTP_LINES_MAX; i++)
		n += (size_t)snprintf(trailers + n, 16, "T%d: v\r\n", i);
	assert_chunk_bad(trailers, "response trailers too large");
	n = (size_t)snprintf(trailers, 16, "0\r\nT: ");
	memset(trailers + n, 'v', UPKC_HTTP_HEAD_MAX + 10 - n);
	trailers[UPKC_HTTP_HEAD_MAX + 10] = 0;
	assert_chunk_bad(trailers, "response trailers too large");
	free(trailers);
}

static void test_body_length_close_none(void **state)
{
	struct upkc_http_head h = { .status = 200, .has_length = true, .length = 5 };
	struct upk_diag d;
	char out[64];
	size_t n;
	bool done;

	/* Bytes after the length are not consumed. */
	assert_int_equal(decode(&h, "helloEXTRA", 10, 3, out, &n, &done, NULL), UPK_OK);
	assert_true(done);
	assert_int_equal(n, 5);
	assert_int_equal(decode(&h, "hel", 3, 3, out, &n, &done, &d), UPK_E_NETWORK);
	assert_non_null(strstr(d.reason, "connection closed"));
	/* No length: until the connection closes. */
	h.has_length = false;
	assert_int_equal(decode(&h, "anything", 8, 2, out, &n, &done, NULL), UPK_OK);
	assert_int_equal(n, 8);
	/* No body for 204 and 304, whatever the headers say. */
	h.status = 204;
	h.has_length = true;
	assert_int_equal(decode(&h, "xx", 2, 1, out, &n, &done, NULL), UPK_OK);
	assert_true(done);
	assert_int_equal(n, 0);
	assert_false(upkc_http_has_body(304));
	assert_false(upkc_http_has_body(100));
	assert_true(upkc_http_has_body(404));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_ok),
		cmocka_unit_test(test_head_bad),
		cmocka_unit_test(test_body_chunked),
		cmocka_unit_test(test_body_chunked_bad),
		cmocka_unit_test(test_body_length_close_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
