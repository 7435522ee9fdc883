/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The pure half of the client's HTTP/1.1 transport (fetch.c is the socket
 * half): the response head parser and the incremental body decoder, over
 * byte buffers only, so that they can be fuzzed without sockets (STYLE.md
 * "Functional core").
 *
 * Accepted responses (RFC 9112, strictly where it protects the length bound):
 *   - a status line "HTTP/1.x NNN reason", then header lines "name: value";
 *     lines end in CRLF or a bare LF; obs-fold (a line starting with a space
 *     or tab) is refused; names are tokens, compared case-insensitively;
 *   - the head is at most UPKC_HTTP_HEAD_MAX bytes and UPKC_HTTP_LINES_MAX
 *     header lines (beyond: UPK_E_SERVER "response headers too large");
 *   - Content-Length: one decimal value (repeated identical values are one
 *     value; different ones are an error);
 *   - Transfer-Encoding: only "chunked" (alone, as the final coding), which
 *     wins over Content-Length (RFC 9112 6.3), with chunk extensions and
 *     trailers; any other coding is refused (no Accept-Encoding is sent);
 *   - otherwise the body runs until the server closes the connection.
 *
 * Errors: UPK_E_SERVER naming what was malformed (diag->where is left to the
 * caller, diag->offset is the byte offset in the head when known).
 *
 * THREAD SAFETY: no global state; a decoder belongs to one thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define UPKC_HTTP_HEAD_MAX     (64u * 1024) /* status line + headers + blank line */
#define UPKC_HTTP_LINES_MAX    100	    /* header lines (trailer lines too) */
#define UPKC_HTTP_LOCATION_MAX 4096	    /* a longer Location is refused */
/* A chunk-size line (size and extensions) longer than this is refused. */
#define UPKC_HTTP_CHUNK_LINE_MAX 4096

/* What the transport needs from a response head. */
struct upkc_http_head {
	int minor;  /* HTTP/1.<minor> */
	int status; /* 100..999 */
	bool has_length;
	uint64_t length; /* Content-Length */
	bool chunked;	 /* Transfer-Encoding: chunked */
	bool close;	 /* the connection ends after this response (Connection, HTTP/1.0) */
	bool has_location;
	char location[UPKC_HTTP_LOCATION_MAX]; /* NUL-terminated, spaces trimmed */
	bool has_range;			       /* Content-Range: bytes first-last/total */
	uint64_t range_first, range_last;
};

/*
 * Length of the head at the start of data (status line through the blank
 * line), 0 when data does not hold a whole head yet. *scan carries the
 * position already searched between calls on a growing buffer (start at 0).
 */
size_t upkc_http_head_end(const uint8_t *data, size_t len, size_t *scan);

/*
 * Parse a whole head (len as returned by upkc_http_head_end, or any buffer
 * ending in a blank line). *ret is written only on success.
 */
UPK_WUR enum upk_err upkc_http_head_parse(const uint8_t *data, size_t len,
					  struct upkc_http_head *ret, struct upk_diag *reterr_diag);

/* Does a response with this status to a GET carry a body? (1xx, 204, 304: no.) */
bool upkc_http_has_body(int status);

enum upkc_http_framing {
	UPKC_HTTP_NONE,	   /* no body */
	UPKC_HTTP_LENGTH,  /* Content-Length bytes */
	UPKC_HTTP_CHUNKED, /* chunked */
	UPKC_HTTP_CLOSE,   /* until the connection closes */
};

/* Incremental body decoder: a stack object, no allocation. */
struct upkc_http_body {
	enum upkc_http_framing framing;
	int state;	  /* chunked: where in the chunk syntax */
	uint64_t left;	  /* LENGTH: body bytes to come; CHUNKED: of this chunk */
	uint64_t size;	  /* CHUNKED: the chunk size being read */
	size_t line;	  /* CHUNKED: bytes of the current size or trailer line */
	size_t trailers;  /* CHUNKED: trailer lines so far */
	size_t trail_len; /* CHUNKED: bytes of trailers so far */
	bool done;	  /* the whole body was seen */
};

/* Start decoding the body of a response with this head to a GET. */
void upkc_http_body_init(struct upkc_http_body *b, const struct upkc_http_head *h);

/*
 * Consume a prefix of in[0..len): *ret_used bytes (>= 1 when len >= 1 and
 * the body is not done), which are body data when *ret_data is true and
 * framing otherwise. Bytes after the end of the body are not consumed
 * (*ret_used is 0 once done). On error nothing is consumed.
 */
UPK_WUR enum upk_err upkc_http_body_feed(struct upkc_http_body *b, const uint8_t *in, size_t len,
					 size_t *ret_used, bool *ret_data,
					 struct upk_diag *reterr_diag);

/*
 * The connection ended: OK (and done) when the body is close-delimited or
 * already complete; otherwise UPK_E_NETWORK "connection closed ...".
 */
UPK_WUR enum upk_err upkc_http_body_eof(struct upkc_http_body *b, struct upk_diag *reterr_diag);
