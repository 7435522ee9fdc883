/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * HTTP(S) transport of the client (libcurl), bounded the way TUF needs:
 * every download has a maximum length (endless-data attack: the transfer
 * is cut as soon as one byte more arrives, or before it starts when the
 * server announces a longer Content-Length) and a minimum average speed
 * (slow-retrieval attack). One fetcher keeps one connection alive across
 * requests (HTTP/1.1 keep-alive).
 *
 * Only http and https URLs are followed, redirects included. No content
 * encoding is requested: lengths are those of the bytes signed.
 *
 * Errors (diag->where is the URL):
 *   UPK_E_NOT_FOUND   HTTP 404 or 403 (the TUF workflow treats both as
 *                     "no such file", e.g. the end of the root chain)
 *   UPK_E_SERVER      any other HTTP status that is not 2xx
 *   UPK_E_TOO_LARGE   more than max_len bytes
 *   UPK_E_SLOW        slower than the minimum speed for the whole window
 *   UPK_E_TIMEOUT     connecting took too long
 *   UPK_E_NETWORK     any other transfer failure (DNS, refused, reset, TLS)
 *   UPK_E_USAGE       a URL libcurl refuses (bad syntax, other protocol)
 *   the sink's own error, passed through
 *   UPK_E_NOMEM, UPK_E_INTERNAL
 *
 * THREAD SAFETY: a fetcher belongs to one thread. The first upkc_fetch_new
 * initializes libcurl for the process (thread-safe, once).
 */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct upkc_fetch_opts {
	long connect_timeout_s;	 /* 0: UPKC_FETCH_CONNECT_TIMEOUT */
	long low_speed_bytes;	 /* minimum bytes per second; 0: UPKC_FETCH_LOW_SPEED_BYTES */
	long low_speed_window_s; /* over this many seconds; 0: UPKC_FETCH_LOW_SPEED_WINDOW */
	/* Also accept file:// URLs (an offline install reads the metadata of a USB
	 * stick through the same workflow); a missing file is UPK_E_NOT_FOUND.
	 * Redirects stay limited to http and https. */
	bool allow_file;
};

#define UPKC_FETCH_CONNECT_TIMEOUT  30
#define UPKC_FETCH_LOW_SPEED_BYTES  1024
#define UPKC_FETCH_LOW_SPEED_WINDOW 30

struct upkc_fetch;

/* opts may be NULL (defaults). */
UPK_WUR enum upk_err upkc_fetch_new(const struct upkc_fetch_opts *opts, struct upkc_fetch **ret,
				    struct upk_diag *reterr_diag);
void upkc_fetch_free(struct upkc_fetch *f);

/*
 * Receives the body as it arrives; a non-OK return aborts the transfer and
 * becomes the result of the fetch (the sink fills diag itself if it wants).
 */
typedef enum upk_err (*upkc_fetch_sink_fn)(void *ctx, const uint8_t *data, size_t len);

/*
 * GET url, passing at most max_len body bytes to sink. On failure the sink
 * may have received part of the body: the caller discards it.
 */
UPK_WUR enum upk_err upkc_fetch_stream(struct upkc_fetch *f, const char *url, uint64_t max_len,
				       upkc_fetch_sink_fn sink, void *ctx,
				       struct upk_diag *reterr_diag);

/* GET url into out (appended), at most max_len bytes; out keeps its length on failure. */
UPK_WUR enum upk_err upkc_fetch_bytes(struct upkc_fetch *f, const char *url, size_t max_len,
				      struct upk_buf *out, struct upk_diag *reterr_diag);

/* Number of requests made so far (tests and statistics). */
unsigned long upkc_fetch_requests(const struct upkc_fetch *f);

UPK_DEFINE_CLEANUP(struct upkc_fetch, upkc_fetch_free)
