/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the client's HTTP/1.1 response parser (client/http.h),
 * the pure half of client/fetch.c, with the product's limits.
 *
 * The input is what a server sends. Like fetch.c, it finds the end of the
 * head in at most UPKC_HTTP_HEAD_MAX bytes, parses it and decodes the body
 * that follows, fed in pieces whose size comes from the input's last byte
 * (1 to 64 bytes). Inputs whose head is refused are decoded as a
 * chunked body anyway, so the chunk decoder sees every input. Checked
 * (abort() otherwise):
 *   - the head end is inside the input and agrees when searched again
 *     byte by byte; a parsed head has a status of 100..599, a terminated
 *     Location, a Content-Range with first <= last;
 *   - the decoder consumes at least one byte per call until done, never
 *     more than it was given, nothing once done; its body data is never
 *     more than the input;
 *   - a Content-Length body yields exactly that many bytes when done;
 *   - errors are UPK_E_SERVER (malformed) or UPK_E_NETWORK (truncated).
 *
 * Seed corpus (tests/fuzz/corpus/http/): valid responses of every framing
 * (length, chunked with extensions and trailers, close-delimited, 1xx,
 * redirect, range, HTTP/1.0) and malformed ones (status line, folding,
 * conflicting lengths, bad chunk sizes, codings).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void decode(const struct upkc_http_head *h, const uint8_t *in, size_t len, size_t step)
{
	struct upkc_http_body b;
	size_t pos = 0;
	uint64_t got = 0;
	enum upk_err r = UPK_OK;

	upkc_http_body_init(&b, h);
	while (pos < len && !b.done) {
		size_t give = len - pos < step ? len - pos : step, used = 0;
		bool is_data = false;

		r = upkc_http_body_feed(&b, in + pos, give, &used, &is_data, NULL);
		if (r) {
			if (r != UPK_E_SERVER)
				abort();
			return;
		}
		if (used < 1 || used > give)
			abort();
		if (is_data)
			got += used;
		pos += used;
	}
	if (b.done) {
		size_t used = 1;
		bool is_data = true;
		if (pos < len &&
		    (upkc_http_body_feed(&b, in + pos, len - pos, &used, &is_data, NULL) ||
		     used != 0))
			abort();
	} else {
		r = upkc_http_body_eof(&b, NULL);
		if (r && r != UPK_E_NETWORK)
			abort();
	}
	if (got > len)
		abort();
	if (b.done && b.framing == UPKC_HTTP_LENGTH && got != h->length)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upkc_http_head h;
	size_t scan = 0, end, step = 1;
	size_t lim = size < UPKC_HTTP_HEAD_MAX ? size : UPKC_HTTP_HEAD_MAX;

	if (size > 0)
		step = (size_t)(data[size - 1] % 64) + 1;
	end = upkc_http_head_end(data, lim, &scan);
	if (end > lim)
		abort();
	if (end) {
		size_t s2 = 0, e2 = 0;
		for (size_t i = 0; i <= end && !e2; i++)
			e2 = upkc_http_head_end(data, i, &s2);
		if (e2 != end)
			abort();
	}
	if (end && upkc_http_head_parse(data, end, &h, NULL) == UPK_OK) {
		if (h.status < 100 || h.status > 599 ||
		    memchr(h.location, 0, sizeof(h.location)) == NULL ||
		    (h.has_range && h.range_first > h.range_last))
			abort();
		decode(&h, data + end, size - end, step);
		return 0;
	}
	memset(&h, 0, sizeof(h));
	h.status = 200;
	h.chunked = true;
	decode(&h, data, size, step);
	return 0;
}
