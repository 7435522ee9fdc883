/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP/1.1 response parsing: see http.h. Everything a hostile server sends
 * passes through here before the transport acts on it, so every limit is
 * checked on the bytes, never asserted.
 */
#include "http.h"

#include <string.h>

#include "hex.h"

size_t upkc_http_head_end(const uint8_t *data, size_t len, size_t *scan)
{
	for (size_t i = *scan; i < len; i++) {
		if (data[i] != '\n')
			continue;
		/* A blank line: LF LF or LF CR LF. */
		if (i + 1 < len && data[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
			return i + 3;
		if (i + 1 == len || (i + 2 == len && data[i + 1] == '\r')) {
			*scan = i; /* undecided until more bytes arrive */
			return 0;
		}
	}
	*scan = len;
	return 0;
}

bool upkc_http_has_body(int status)
{
	return !(status < 200 || status == 204 || status == 304);
}

static bool is_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Case-insensitive comparison of a counted string with a lower-case literal. */
static bool eq_lower(const uint8_t *s, size_t n, const char *lit)
{
	size_t m = strlen(lit);

	if (n != m)
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (uint8_t)(c - 'A' + 'a');
		if (c != (uint8_t)lit[i])
			return false;
	}
	return true;
}

/* Decimal digits only, no sign, no overflow; false otherwise. */
static bool parse_u64(const uint8_t *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return true;
}

/* Calls fn on each trimmed, non-empty element of a comma-separated list value. */
struct list_iter {
	const uint8_t *p, *end;
};

static bool list_next(struct list_iter *it, const uint8_t **ret, size_t *ret_n)
{
	while (it->p < it->end) {
		const uint8_t *s = it->p, *e;
		const uint8_t *comma = memchr(s, ',', (size_t)(it->end - s));

		e = comma ? comma : it->end;
		it->p = comma ? comma + 1 : it->end;
		while (s < e && is_ows(*s))
			s++;
		while (e > s && is_ows(e[-1]))
			e--;
		if (e > s) {
			*ret = s;
			*ret_n = (size_t)(e - s);
			return true;
		}
	}
	return false;
}

static enum upk_err bad(struct upk_diag *d, int64_t off, const char *what)
{
	return upk_diag_set(d, UPK_E_SERVER, NULL, off, "%s", what);
}

static enum upk_err parse_status(const uint8_t *s, size_t n, struct upkc_http_head *h,
				 struct upk_diag *d)
{
	/* "HTTP/1.x NNN" then end of line or a space and any reason phrase. */
	if (n < 12 || memcmp(s, "HTTP/1.", 7) != 0 || s[7] < '0' || s[7] > '9' || s[8] != ' ' ||
	    s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' || s[11] < '0' || s[11] > '9' ||
	    (n > 12 && s[12] != ' '))
		return bad(d, 0, "malformed status line");
	for (size_t i = 12; i < n; i++)
		if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return bad(d, i, "malformed status line");
	h->minor = s[7] - '0';
	h->status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	return UPK_OK;
}

static enum upk_err parse_field(const uint8_t *name, size_t nlen, const uint8_t *v, size_t vlen,
				size_t off, struct upkc_http_head *h, bool *keepalive,
				struct upk_diag *d)
{
	struct list_iter it = { v, v + vlen };
	const uint8_t *e;
	size_t en;

	if (eq_lower(name, nlen, "content-length")) {
		uint64_t n;
		/* A list of identical values is one value (RFC 9110 8.6). */
		if (!list_next(&it, &e, &en))
			return bad(d, off, "malformed Content-Length");
		do {
			if (!parse_u64(e, en, &n))
				return bad(d, off, "malformed Content-Length");
			if (h->has_length && h->length != n)
				return bad(d, off, "conflicting Content-Length values");
			h->has_length = true;
			h->length = n;
		} while (list_next(&it, &e, &en));
	} else if (eq_lower(name, nlen, "transfer-encoding")) {
		while (list_next(&it, &e, &en)) {
			/* Only chunked, once: any other coding changes the signed bytes. */
			if (!eq_lower(e, en, "chunked") || h->chunked)
				return bad(d, off, "unsupported Transfer-Encoding");
			h->chunked = true;
		}
	} else if (eq_lower(name, nlen, "connection")) {
		while (list_next(&it, &e, &en)) {
			if (eq_lower(e, en, "close"))
				h->close = true;
			else if (eq_lower(e, en, "keep-alive"))
				*keepalive = true;
		}
	} else if (eq_lower(name, nlen, "location")) {
		if (h->has_location)
			return bad(d, off, "more than one Location header");
		if (vlen >= sizeof(h->location))
			return bad(d, off, "Location too long");
		memcpy(h->location, v, vlen);
		h->location[vlen] = 0;
		h->has_location = true;
	} else if (eq_lower(name, nlen, "content-range")) {
		const uint8_t *dash, *slash;
		/* "bytes first-last/total", or "bytes" then a star for an unsatisfied range (a
		 * 416). */
		if (vlen < 6 || !eq_lower(v, 6, "bytes "))
			return bad(d, off, "malformed Content-Range");
		v += 6;
		vlen -= 6;
		slash = memchr(v, '/', vlen);
		if (!slash)
			return bad(d, off, "malformed Content-Range");
		if (slash - v == 1 && v[0] == '*')
			return UPK_OK;
		dash = memchr(v, '-', (size_t)(slash - v));
		if (!dash || h->has_range || !parse_u64(v, (size_t)(dash - v), &h->range_first) ||
		    !parse_u64(dash + 1, (size_t)(slash - dash - 1), &h->range_last) ||
		    h->range_last < h->range_first)
			return bad(d, off, "malformed Content-Range");
		h->has_range = true;
	}
	return UPK_OK;
}

enum upk_err upkc_http_head_parse(const uint8_t *data, size_t len, struct upkc_http_head *ret,
				  struct upk_diag *reterr_diag)
{
	struct upkc_http_head h = { 0 };
	size_t pos = 0, lines = 0;
	bool keepalive = false, status_seen = false, blank = false;
	enum upk_err r;

	if (len > UPKC_HTTP_HEAD_MAX)
		return bad(reterr_diag, UPKC_HTTP_HEAD_MAX, "response headers too large");
	while (pos < len) {
		const uint8_t *s = data + pos, *nl = memchr(s, '\n', len - pos);
		size_t n, off = pos;

		if (!nl)
			return bad(reterr_diag, pos, "incomplete response head");
		n = (size_t)(nl - s);
		pos += n + 1;
		if (n && s[n - 1] == '\r')
			n--;
		if (memchr(s, '\r', n) || memchr(s, 0, n))
			return bad(reterr_diag, off,
				   "stray control character in the response head");
		if (!status_seen) {
			r = parse_status(s, n, &h, reterr_diag);
			if (r)
				return r;
			status_seen = true;
			continue;
		}
		if (n == 0) {
			if (pos != len)
				return bad(reterr_diag, (int64_t)pos,
					   "bytes after the response head");
			blank = true;
			break;
		}
		if (++lines > UPKC_HTTP_LINES_MAX)
			return bad(reterr_diag, off, "response headers too large");
		if (is_ows(s[0]))
			return bad(reterr_diag, off, "obsolete line folding in a header");
		size_t nlen = 0;
		while (nlen < n && is_tchar(s[nlen]))
			nlen++;
		if (nlen == 0 || nlen == n || s[nlen] != ':')
			return bad(reterr_diag, off, "malformed header line");
		const uint8_t *v = s + nlen + 1, *ve = s + n;
		while (v < ve && is_ows(*v))
			v++;
		while (ve > v && is_ows(ve[-1]))
			ve--;
		for (const uint8_t *c = v; c < ve; c++)
			if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
				return bad(reterr_diag, off, "malformed header value");
		r = parse_field(s, nlen, v, (size_t)(ve - v), off, &h, &keepalive, reterr_diag);
		if (r)
			return r;
	}
	if (!blank)
		return bad(reterr_diag, (int64_t)len, "incomplete response head");
	if (h.minor == 0 && !keepalive)
		h.close = true;
	/* HTTP/1.0 knows no chunked coding. */
	if (h.minor == 0 && h.chunked)
		return bad(reterr_diag, 0, "chunked coding in an HTTP/1.0 response");
	*ret = h;
	return UPK_OK;
}

/* Chunked syntax states (RFC 9112 7.1). */
enum {
	C_SIZE,	     /* hex digits of the chunk size */
	C_EXT,	     /* after the size: extensions until LF */
	C_SIZE_LF,   /* after CR of the size line */
	C_DATA,	     /* chunk data */
	C_DATA_CR,   /* CRLF after the data */
	C_DATA_LF,   /* LF after the data's CR */
	C_TRAIL_BOL, /* start of a trailer line or the final blank line */
	C_TRAIL,     /* inside a trailer line */
	C_END_LF,    /* LF of the final blank line */
};

void upkc_http_body_init(struct upkc_http_body *b, const struct upkc_http_head *h)
{
	memset(b, 0, sizeof(*b));
	if (!upkc_http_has_body(h->status)) {
		b->framing = UPKC_HTTP_NONE;
	} else if (h->chunked) {
		b->framing = UPKC_HTTP_CHUNKED;
		b->state = C_SIZE;
	} else if (h->has_length) {
		b->framing = UPKC_HTTP_LENGTH;
		b->left = h->length;
	} else {
		b->framing = UPKC_HTTP_CLOSE;
	}
	b->done = b->framing == UPKC_HTTP_NONE || (b->framing == UPKC_HTTP_LENGTH && !b->left);
}

/* One framing byte of the chunked coding. */
static enum upk_err chunk_byte(struct upkc_http_body *b, uint8_t c, struct upk_diag *d)
{
	int v;

	switch (b->state) {
	case C_SIZE:
		v = upk_hex_digit(c);
		if (v >= 0) {
			if (b->size > (UINT64_MAX >> 4))
				return bad(d, -1, "chunk size too large");
			/* Leading zeros never overflow: the line's length is what bounds them. */
			if (++b->line > UPKC_HTTP_CHUNK_LINE_MAX)
				return bad(d, -1, "chunk size line too long");
			b->size = (b->size << 4) | (uint64_t)v;
			break;
		}
		if (b->line == 0)
			return bad(d, -1, "malformed chunk size");
		if (c == ';' || is_ows(c))
			b->state = C_EXT;
		else if (c == '\r')
			b->state = C_SIZE_LF;
		else if (c == '\n')
			goto size_line_done;
		else
			return bad(d, -1, "malformed chunk size");
		break;
	case C_EXT:
		if (++b->line > UPKC_HTTP_CHUNK_LINE_MAX)
			return bad(d, -1, "chunk extensions too long");
		if (c == '\n')
			goto size_line_done;
		if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
			return bad(d, -1, "malformed chunk extension");
		break;
	case C_SIZE_LF:
		if (c != '\n')
			return bad(d, -1, "malformed chunk size");
		goto size_line_done;
	case C_DATA_CR:
		if (c == '\r')
			b->state = C_DATA_LF;
		else if (c == '\n')
			b->state = C_SIZE;
		else
			return bad(d, -1, "chunk data longer than its size");
		break;
	case C_DATA_LF:
		if (c != '\n')
			return bad(d, -1, "chunk data longer than its size");
		b->state = C_SIZE;
		break;
	case C_TRAIL_BOL:
		if (c == '\r') {
			b->state = C_END_LF;
		} else if (c == '\n') {
			b->done = true;
		} else {
			if (++b->trailers > UPKC_HTTP_LINES_MAX)
				return bad(d, -1, "response trailers too large");
			b->state = C_TRAIL;
		}
		break;
	case C_TRAIL:
		if (c == '\n')
			b->state = C_TRAIL_BOL;
		break;
	case C_END_LF:
		if (c != '\n')
			return bad(d, -1, "malformed chunked trailer");
		b->done = true;
		break;
	default:
		return bad(d, -1, "chunked decoder state");
	}
	return UPK_OK;
size_line_done:
	b->line = 0;
	if (b->size == 0) {
		b->state = C_TRAIL_BOL;
	} else {
		b->left = b->size;
		b->size = 0;
		b->state = C_DATA;
	}
	return UPK_OK;
}

enum upk_err upkc_http_body_feed(struct upkc_http_body *b, const uint8_t *in, size_t len,
				 size_t *ret_used, bool *ret_data, struct upk_diag *reterr_diag)
{
	size_t i;
	enum upk_err r;

	if (b->done || !len) {
		*ret_used = 0;
		*ret_data = false;
		return UPK_OK;
	}
	switch (b->framing) {
	case UPKC_HTTP_NONE:
		*ret_used = 0;
		*ret_data = false;
		return UPK_OK;
	case UPKC_HTTP_CLOSE:
		*ret_used = len;
		*ret_data = true;
		return UPK_OK;
	case UPKC_HTTP_LENGTH:
		if ((uint64_t)len > b->left)
			len = (size_t)b->left;
		b->left -= len;
		b->done = b->left == 0;
		*ret_used = len;
		*ret_data = true;
		return UPK_OK;
	case UPKC_HTTP_CHUNKED:
		break;
	}
	if (b->state == C_DATA) {
		if ((uint64_t)len > b->left)
			len = (size_t)b->left;
		b->left -= len;
		if (!b->left)
			b->state = C_DATA_CR;
		*ret_used = len;
		*ret_data = true;
		return UPK_OK;
	}
	for (i = 0; i < len && b->state != C_DATA && !b->done; i++) {
		if (b->state == C_TRAIL || b->state == C_TRAIL_BOL || b->state == C_END_LF) {
			if (++b->trail_len > UPKC_HTTP_HEAD_MAX)
				return bad(reterr_diag, -1, "response trailers too large");
		}
		r = chunk_byte(b, in[i], reterr_diag);
		if (r)
			return r;
	}
	*ret_used = i;
	*ret_data = false;
	return UPK_OK;
}

enum upk_err upkc_http_body_eof(struct upkc_http_body *b, struct upk_diag *reterr_diag)
{
	if (b->framing == UPKC_HTTP_CLOSE)
		b->done = true;
	if (b->done)
		return UPK_OK;
	return upk_diag_set(reterr_diag, UPK_E_NETWORK, NULL, -1,
			    "connection closed before the end of the body");
}
