/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl transport. CURLcode and HTTP statuses are mapped to enum upk_err
 * here, once (STYLE.md "Errors"). The length bound is enforced twice: by
 * CURLOPT_MAXFILESIZE_LARGE before the body when the server announces a
 * Content-Length, and by the write callback on the bytes that arrive.
 */
#include "fetch.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct upkc_fetch {
	CURL *curl;
	unsigned long requests;
	char errbuf[CURL_ERROR_SIZE];
};

struct xfer {
	uint64_t max_len, got;
	upkc_fetch_sink_fn sink;
	void *ctx;
	enum upk_err err; /* why the write callback stopped the transfer */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb; /* size is 1 for body data */
	enum upk_err r;

	/* Endless data: not one byte past the bound. */
	if (n > x->max_len - x->got) {
		x->err = UPK_E_TOO_LARGE;
		return n ? 0 : 1;
	}
	r = x->sink(x->ctx, (const uint8_t *)ptr, n);
	if (r) {
		x->err = r;
		return n ? 0 : 1;
	}
	x->got += n;
	return n;
}

#define SETOPT(h, opt, val)                                          \
	do {                                                         \
		if (curl_easy_setopt((h), (opt), (val)) != CURLE_OK) \
			goto fail;                                   \
	} while (0)

enum upk_err upkc_fetch_new(const struct upkc_fetch_opts *opts, struct upkc_fetch **ret,
			    struct upk_diag *reterr_diag)
{
	struct upkc_fetch *f;
	long connect = UPKC_FETCH_CONNECT_TIMEOUT, low_bytes = UPKC_FETCH_LOW_SPEED_BYTES,
	     low_window = UPKC_FETCH_LOW_SPEED_WINDOW;

	if (opts && opts->connect_timeout_s > 0)
		connect = opts->connect_timeout_s;
	if (opts && opts->low_speed_bytes > 0)
		low_bytes = opts->low_speed_bytes;
	if (opts && opts->low_speed_window_s > 0)
		low_window = opts->low_speed_window_s;
	if (pthread_once(&curl_once, curl_init_once) != 0 || curl_init_result != CURLE_OK)
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, NULL, -1,
				    "libcurl initialization failed");
	f = calloc(1, sizeof(*f));
	if (!f)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	f->curl = curl_easy_init();
	if (!f->curl)
		goto fail;
	/* Signals are the application's; timeouts must not use SIGALRM. */
	SETOPT(f->curl, CURLOPT_NOSIGNAL, 1L);
	SETOPT(f->curl, CURLOPT_PROTOCOLS_STR,
	       opts && opts->allow_file ? "http,https,file" : "http,https");
	SETOPT(f->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* Mirrors and CDNs redirect; what arrives is verified anyway. */
	SETOPT(f->curl, CURLOPT_FOLLOWLOCATION, 1L);
	SETOPT(f->curl, CURLOPT_MAXREDIRS, 5L);
	SETOPT(f->curl, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SETOPT(f->curl, CURLOPT_CONNECTTIMEOUT, connect);
	/* Slow retrieval: a minimum average rate over a window, not a total timeout. */
	SETOPT(f->curl, CURLOPT_LOW_SPEED_LIMIT, low_bytes);
	SETOPT(f->curl, CURLOPT_LOW_SPEED_TIME, low_window);
	/* Statuses >= 400 end the transfer before their body is passed on. */
	SETOPT(f->curl, CURLOPT_FAILONERROR, 1L);
	SETOPT(f->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	SETOPT(f->curl, CURLOPT_USERAGENT, "upkeep-client");
	SETOPT(f->curl, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(f->curl, CURLOPT_ERRORBUFFER, f->errbuf);
	*ret = f;
	return UPK_OK;
fail:
	upkc_fetch_free(f);
	return upk_diag_set(reterr_diag, UPK_E_INTERNAL, NULL, -1, "libcurl setup failed");
}

void upkc_fetch_free(struct upkc_fetch *f)
{
	if (!f)
		return;
	if (f->curl)
		curl_easy_cleanup(f->curl);
	free(f);
}

unsigned long upkc_fetch_requests(const struct upkc_fetch *f)
{
	return f->requests;
}

/* Map a finished transfer to enum upk_err (the one place CURLcode is seen). */
static enum upk_err map_result(struct upkc_fetch *f, CURLcode cc, const struct xfer *x,
			       const char *url, struct upk_diag *diag)
{
	long status = 0;

	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
	/* if/else, not switch: CURLcode has ~100 values and grows (-Wswitch-enum). */
	if (cc == CURLE_OK) {
		/* file:// (offline metadata) has no HTTP status. */
		if ((status >= 200 && status < 300) || (status == 0 && !strncmp(url, "file:", 5)))
			return UPK_OK;
		return upk_diag_set(diag, UPK_E_SERVER, url, -1, "HTTP status %ld", status);
	}
	/*
	 * An error status wins over what its body would cause: a 404 page
	 * longer than a small target is still "not found".
	 */
	if (cc == CURLE_HTTP_RETURNED_ERROR || status >= 400) {
		if (status == 404 || status == 403)
			return upk_diag_set(diag, UPK_E_NOT_FOUND, url, -1, "HTTP status %ld",
					    status);
		return upk_diag_set(diag, UPK_E_SERVER, url, -1, "HTTP status %ld", status);
	}
	if (cc == CURLE_FILE_COULDNT_READ_FILE)
		return upk_diag_set(diag, UPK_E_NOT_FOUND, url, -1, "no such file");
	if (cc == CURLE_WRITE_ERROR && x->err == UPK_E_TOO_LARGE)
		return upk_diag_set(diag, UPK_E_TOO_LARGE, url, -1, "more than %llu bytes",
				    (unsigned long long)x->max_len);
	if (cc == CURLE_WRITE_ERROR && x->err)
		return x->err; /* the sink's own error and diag */
	if (cc == CURLE_FILESIZE_EXCEEDED)
		return upk_diag_set(diag, UPK_E_TOO_LARGE, url, -1,
				    "server announces more than %llu bytes",
				    (unsigned long long)x->max_len);
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		/* libcurl reports the low-speed limit with this code and this text. */
		if (strncmp(f->errbuf, "Operation too slow", 18) == 0)
			return upk_diag_set(diag, UPK_E_SLOW, url, -1, "%s", f->errbuf);
		return upk_diag_set(diag, UPK_E_TIMEOUT, url, -1, "%s",
				    f->errbuf[0] ? f->errbuf : curl_easy_strerror(cc));
	}
	if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT)
		return upk_diag_set(diag, UPK_E_USAGE, url, -1, "%s",
				    f->errbuf[0] ? f->errbuf : curl_easy_strerror(cc));
	if (cc == CURLE_OUT_OF_MEMORY)
		return upk_diag_set(diag, UPK_E_NOMEM, url, -1, NULL);
	return upk_diag_set(diag, UPK_E_NETWORK, url, -1, "%s",
			    f->errbuf[0] ? f->errbuf : curl_easy_strerror(cc));
}

enum upk_err upkc_fetch_stream(struct upkc_fetch *f, const char *url, uint64_t max_len,
			       upkc_fetch_sink_fn sink, void *ctx, struct upk_diag *reterr_diag)
{
	struct xfer x = { .max_len = max_len, .sink = sink, .ctx = ctx };
	curl_off_t announce_max = max_len > (uint64_t)INT64_MAX ? 0 : (curl_off_t)max_len;
	CURLcode cc;

	f->errbuf[0] = 0;
	/* 0 would mean "no limit" to libcurl; an empty body is checked by the callback. */
	if (curl_easy_setopt(f->curl, CURLOPT_URL, url) != CURLE_OK)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, url, -1, "URL refused");
	if (curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, &x) != CURLE_OK ||
	    curl_easy_setopt(f->curl, CURLOPT_MAXFILESIZE_LARGE, announce_max) != CURLE_OK)
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, url, -1, "libcurl setup failed");
	f->requests++;
	cc = curl_easy_perform(f->curl);
	/* The callback data lives on this stack frame only. */
	curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, NULL);
	return map_result(f, cc, &x, url, reterr_diag);
}

static enum upk_err buf_sink(void *ctx, const uint8_t *data, size_t len)
{
	return upk_buf_append(ctx, data, len);
}

enum upk_err upkc_fetch_bytes(struct upkc_fetch *f, const char *url, size_t max_len,
			      struct upk_buf *out, struct upk_diag *reterr_diag)
{
	size_t start = out->len;
	enum upk_err r = upkc_fetch_stream(f, url, max_len, buf_sink, out, reterr_diag);

	if (r == UPK_E_NOMEM)
		upk_diag_set(reterr_diag, r, url, -1, NULL);
	if (r) {
		out->len = start;
		if (out->data)
			out->data[start] = 0;
	}
	return r;
}
