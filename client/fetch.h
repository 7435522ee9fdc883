/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * HTTP(S) transport of the client: a small HTTP/1.1 client on plain sockets,
 * TLS through OpenSSL libssl (http.h parses what servers send), bounded the
 * way TUF needs: every download has a maximum length (endless-data attack:
 * the transfer is cut before one byte past it reaches the sink, or before
 * the body when the server announces a longer Content-Length) and a minimum
 * speed (slow-retrieval attack: measured each second once connected; below
 * low_speed_bytes per second for low_speed_window_s seconds in a row fails;
 * during a body only its payload counts, not chunk framing). Framing is
 * bounded too: at most 8 interim 1xx heads, chunk size lines of 4 KiB.
 * One fetcher keeps one connection alive across requests to the same
 * scheme://host:port (HTTP/1.1 keep-alive); a kept-alive connection the
 * server closed while idle is replaced once, transparently.
 *
 * URLs: http:// and https:// (host name, IPv4, [IPv6], port); file:// only
 * with allow_file. User names or passwords in URLs are refused, the
 * fragment is dropped, the path and query are sent as given except that
 * bytes <= 0x20 and >= 0x7f are percent-encoded. Redirects (301, 302, 303,
 * 307, 308; at most 5) are followed to http and https URLs only. No content
 * encoding is requested: lengths are those of the bytes signed.
 *
 * TLS: 1.2 or later, the peer verified against the system trust store
 * (SSL_CERT_FILE and SSL_CERT_DIR override it) and the URL's host name or
 * address. libssl is set up at the first https URL of a fetcher only.
 *
 * Proxies, from the environment as libcurl reads it: http_proxy (lower case
 * only), https_proxy or HTTPS_PROXY, all_proxy or ALL_PROXY; no_proxy or
 * NO_PROXY lists host name suffixes that go direct ("*": all). Only http://
 * proxies: plain http is sent to them in absolute form, https is tunnelled
 * with CONNECT.
 *
 * Errors (diag->where is the URL the caller gave):
 *   UPK_E_NOT_FOUND   HTTP 404 or 403 (the TUF workflow treats both as
 *                     "no such file", e.g. the end of the root chain); a
 *                     missing file:// file
 *   UPK_E_SERVER      any other HTTP status that is not 2xx; a malformed
 *                     response (status line, headers, chunk sizes); response
 *                     headers over 64 KiB or 100 lines; more than 5 redirects
 *                     or a redirect to another scheme
 *   UPK_E_TOO_LARGE   more than max_len bytes (announced or sent)
 *   UPK_E_SLOW        slower than the minimum speed for the whole window
 *   UPK_E_TIMEOUT     connecting took longer than connect_timeout_s
 *   UPK_E_NETWORK     any other transfer failure (DNS, refused, reset, TLS,
 *                     a proxy refusing CONNECT)
 *   UPK_E_USAGE       a URL refused (bad syntax, other scheme, user info,
 *                     file:// without allow_file)
 *   the sink's own error, passed through
 *   UPK_E_NOMEM, UPK_E_IO (file://), UPK_E_INTERNAL
 * An error status's body never reaches the sink.
 *
 * SIGPIPE is never raised (sends use MSG_NOSIGNAL, TLS included); every file
 * descriptor is close-on-exec.
 *
 * MEMORY: a fetcher holds a 64 KiB read buffer and fixed URL buffers; nothing
 * grows with the body.
 *
 * THREAD SAFETY: a fetcher belongs to one thread; fetchers share no state.
 */
#include <stdbool.h>
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

/*
 * GET exactly len (>= 1) bytes at off of url with a Range request, passed to
 * sink as they arrive. Errors besides those above (offset: off):
 *   UPK_E_SERVER      200 (the server ignores ranges: "ranges not supported"),
 *                     any 2xx but 206, a Content-Range not starting at off
 *   UPK_E_LENGTH      416, or fewer than len bytes
 *   UPK_E_TOO_LARGE   more than len bytes (announced or sent)
 *   UPK_E_USAGE       len 0, or a file:// URL
 * On failure the sink may have received part of the range.
 */
UPK_WUR enum upk_err upkc_fetch_range(struct upkc_fetch *f, const char *url, uint64_t off,
				      size_t len, upkc_fetch_sink_fn sink, void *ctx,
				      struct upk_diag *reterr_diag);

/* Number of requests made by the caller so far (a reconnect's resend is not counted). */
unsigned long upkc_fetch_requests(const struct upkc_fetch *f);

/* Number of connections opened so far (keep-alive reuse keeps it low). */
unsigned long upkc_fetch_connections(const struct upkc_fetch *f);

UPK_DEFINE_CLEANUP(struct upkc_fetch, upkc_fetch_free)
