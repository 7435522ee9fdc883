/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client's HTTP/1.1 transport on plain sockets, TLS through OpenSSL
 * libssl (see fetch.h). The bytes a server sends are parsed by http.c (the
 * pure half); this file does the I/O, the timeouts and the policy: which
 * statuses mean what, redirects, keep-alive, proxies. Socket, TLS and HTTP
 * failures are mapped to enum upk_err here, once (STYLE.md "Errors").
 *
 * The length bound is enforced twice: on the announced Content-Length before
 * the body, and on the bytes that arrive whatever the framing.
 */
#include "fetch.h"
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "util.h"

#define URL_MAX		   8192 /* a URL, after percent-encoding */
#define HOST_MAX	   256
#define BUF_SIZE	   UPKC_HTTP_HEAD_MAX /* the read buffer holds a whole head */
#define REQ_MAX		   (URL_MAX + 1024)
#define MAX_HOPS	   5	 /* redirects followed */
#define DRAIN_MAX	   16384 /* an error or redirect body up to this is read, not dropped */
#define INTERIM_MAX	   8	 /* 1xx heads before a response (RFC 9110 allows several) */
#define DEFAULT_PROXY_PORT 1080	 /* as curl */

struct url {
	bool https;
	bool ipv6;	 /* host is an IPv6 literal (without brackets) */
	bool port_given; /* the URL names the port */
	char host[HOST_MAX];
	unsigned port;
	char target[URL_MAX]; /* path and query, percent-encoded, starting with '/' */
};

struct upkc_fetch {
	long connect_timeout_s, low_bytes, low_window_s;
	bool allow_file;
	unsigned long requests, connections;

	/* The connection kept alive: fd, TLS over it, what it leads to. */
	int fd;
	SSL *ssl;
	bool keep; /* the last response was read whole and the server keeps it open */
	char key[2 * HOST_MAX + 64];

	/* Created at the first https URL only (libssl's tables cost RSS). */
	SSL_CTX *ctx;
	BIO_METHOD *bio_method;

	/*
	 * Slow-retrieval meter: bytes received since tick, below the rate since.
	 * While a body is read only its payload counts (meter_payload): chunk
	 * framing and extensions are not progress towards the file.
	 */
	int64_t tick_ms, below_since_ms;
	uint64_t tick_bytes;
	bool meter_payload;

	/* Received bytes not consumed yet: buf[boff..blen). */
	uint8_t *buf;
	size_t boff, blen;

	struct url u, proxy;
	char cur[URL_MAX];  /* the URL being fetched (after redirects) */
	char next[URL_MAX]; /* a redirect's target being built */
	char req[REQ_MAX];
};

/* One GET as the caller asked for it. */
struct get {
	const char *where; /* the caller's URL: diag->where */
	uint64_t max_len;
	bool range;
	uint64_t off;
	size_t len;
	upkc_fetch_sink_fn sink;
	void *ctx;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* diag->where for errors of the pure layers, which leave it empty. */
static enum upk_err set_where(struct upk_diag *d, enum upk_err r, const char *where)
{
	if (d)
		snprintf(d->where, sizeof(d->where), "%s", where);
	return r;
}

/*
 * Say d's reason again as "<prefix>: <reason>" with err (copied first:
 * upk_diag_set formats into the reason).
 */
static enum upk_err rephrase(struct upk_diag *d, enum upk_err err, const char *where, int64_t off,
			     const char *prefix)
{
	char reason[sizeof(d->reason)];

	if (!d)
		return err;
	snprintf(reason, sizeof(reason), "%s", d->reason);
	return upk_diag_set(d, err, where, off, "%s: %s", prefix, reason);
}

/* ==== URLs ============================================================== */

static bool starts_ci(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Parse an http(s) URL into u. The path and query are kept verbatim (TUF
 * conformance quotes names like %5B, which must reach the server as sent)
 * except that bytes a request line cannot carry are percent-encoded.
 */
static enum upk_err url_parse(const char *s, struct url *u, const char *where, struct upk_diag *d)
{
	const char *a, *ae, *h, *he, *p;
	size_t n = 0;

	memset(u, 0, sizeof(*u));
	if (starts_ci(s, "https://")) {
		u->https = true;
		a = s + 8;
	} else if (starts_ci(s, "http://")) {
		a = s + 7;
	} else {
		return upk_diag_set(d, UPK_E_USAGE, where, -1, "not an http or https URL");
	}
	ae = a + strcspn(a, "/?#");
	if (memchr(a, '@', (size_t)(ae - a)))
		return upk_diag_set(d, UPK_E_USAGE, where, -1,
				    "user name or password in a URL refused");
	if (*a == '[') {
		char tmp[INET6_ADDRSTRLEN + 1];
		struct in6_addr in6;

		h = a + 1;
		he = memchr(h, ']', (size_t)(ae - h));
		if (!he || (size_t)(he - h) >= sizeof(tmp))
			return upk_diag_set(d, UPK_E_USAGE, where, -1, "malformed IPv6 address");
		memcpy(tmp, h, (size_t)(he - h));
		tmp[he - h] = 0;
		if (inet_pton(AF_INET6, tmp, &in6) != 1)
			return upk_diag_set(d, UPK_E_USAGE, where, -1, "malformed IPv6 address");
		u->ipv6 = true;
		p = he + 1;
	} else {
		h = a;
		he = a;
		while (he < ae && *he != ':')
			he++;
		for (const char *c = h; c < he; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' || *c == '_'))
				return upk_diag_set(d, UPK_E_USAGE, where, -1,
						    "malformed host name");
		p = he;
	}
	if (he == h)
		return upk_diag_set(d, UPK_E_USAGE, where, -1, "no host in URL");
	if ((size_t)(he - h) >= sizeof(u->host))
		return upk_diag_set(d, UPK_E_USAGE, where, -1, "host name too long");
	memcpy(u->host, h, (size_t)(he - h));
	u->host[he - h] = 0;
	u->port = u->https ? 443 : 80;
	if (p < ae) {
		unsigned v = 0;
		if (*p != ':')
			return upk_diag_set(d, UPK_E_USAGE, where, -1, "malformed URL authority");
		for (p++; p < ae; p++) {
			if (*p < '0' || *p > '9' || v > 6553)
				return upk_diag_set(d, UPK_E_USAGE, where, -1, "malformed port");
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (v > 65535 || (v == 0 && p[-1] != ':'))
			return upk_diag_set(d, UPK_E_USAGE, where, -1, "malformed port");
		if (p[-1] != ':') {
			u->port = v;
			u->port_given = true;
		}
	}
	/* The fragment is the client's own. */
	if (*ae != '/')
		u->target[n++] = '/';
	for (p = ae; *p && *p != '#'; p++) {
		unsigned char c = (unsigned char)*p;
		if (n + 4 > sizeof(u->target))
			return upk_diag_set(d, UPK_E_USAGE, where, -1, "URL too long");
		if (c <= 0x20 || c >= 0x7f) {
			u->target[n++] = '%';
			u->target[n++] = "0123456789ABCDEF"[c >> 4];
			u->target[n++] = "0123456789ABCDEF"[c & 15];
		} else {
			u->target[n++] = (char)c;
		}
	}
	u->target[n] = 0;
	return UPK_OK;
}

/* Does s start with a scheme and ':' (an absolute reference)? */
static bool has_scheme(const char *s)
{
	const char *p = s;

	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return false;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	return *p == ':';
}

/*
 * Resolve a Location against the current URL (RFC 3986 5.2, without dot
 * segment removal: the server sees the path it asked for) into f->next.
 */
static enum upk_err resolve_location(struct upkc_fetch *f, const char *loc, const char *where,
				     struct upk_diag *d)
{
	const char *cur = f->cur, *auth = strstr(cur, "://"), *path_end;
	size_t keep;
	int n;

	if (has_scheme(loc)) {
		keep = 0;
	} else {
		/* cur was parsed as an http(s) URL: it has "://". */
		const char *pe = auth + 3 + strcspn(auth + 3, "/?#");
		if (loc[0] == '/' && loc[1] == '/') {
			keep = (size_t)(auth + 1 - cur);
		} else if (loc[0] == '/') {
			keep = (size_t)(pe - cur);
		} else {
			path_end = pe + strcspn(pe, "?#");
			if (loc[0] == '?' || !loc[0]) {
				keep = (size_t)(path_end - cur);
			} else {
				const char *slash = path_end;
				while (slash > pe && slash[-1] != '/')
					slash--;
				keep = (size_t)(slash - cur);
				if (slash == pe) {
					/* No path: the reference is relative to "/". */
					n = snprintf(f->next, sizeof(f->next), "%.*s/%s", (int)keep,
						     cur, loc);
					goto check;
				}
			}
		}
	}
	n = snprintf(f->next, sizeof(f->next), "%.*s%s", (int)keep, cur, loc);
check:
	if (n < 0 || (size_t)n >= sizeof(f->next))
		return upk_diag_set(d, UPK_E_SERVER, where, -1, "redirect URL too long");
	return UPK_OK;
}

/* ==== proxies =========================================================== */

static const char *env_first(const char *const *names)
{
	for (; *names; names++) {
		const char *v = getenv(*names);
		if (v && *v)
			return v;
	}
	return NULL;
}

/* no_proxy: comma-separated host names or suffixes; "*" means every host. */
static bool no_proxy_match(const char *host)
{
	static const char *const names[] = { "no_proxy", "NO_PROXY", NULL };
	const char *v = env_first(names), *p;
	size_t hl = strlen(host);

	if (!v)
		return false;
	for (p = v; *p;) {
		const char *e = p + strcspn(p, ",");
		const char *s = p, *t = e;

		p = *e ? e + 1 : e;
		while (s < t && (*s == ' ' || *s == '\t'))
			s++;
		while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if (t - s == 1 && *s == '*')
			return true;
		if (s < t && *s == '.')
			s++;
		if (t - s >= 2 && *s == '[' && t[-1] == ']') {
			s++;
			t--;
		}
		size_t n = (size_t)(t - s);
		if (!n || n > hl || strncasecmp(host + hl - n, s, n) != 0)
			continue;
		if (n == hl || host[hl - n - 1] == '.')
			return true;
	}
	return false;
}

/*
 * The proxy for u from the environment, as libcurl reads it: http_proxy in
 * lower case only (HTTP_PROXY can be set by a CGI request), https_proxy or
 * HTTPS_PROXY, then all_proxy or ALL_PROXY; no_proxy or NO_PROXY exempts.
 */
static enum upk_err proxy_for(const struct url *u, struct url *ret, bool *ret_use,
			      const char *where, struct upk_diag *d)
{
	static const char *const http_names[] = { "http_proxy", "all_proxy", "ALL_PROXY", NULL };
	static const char *const https_names[] = { "https_proxy", "HTTPS_PROXY", "all_proxy",
						   "ALL_PROXY", NULL };
	const char *v = env_first(u->https ? https_names : http_names);
	char tmp[URL_MAX];
	enum upk_err r;
	int n;

	*ret_use = false;
	if (!v || no_proxy_match(u->host))
		return UPK_OK;
	if (strstr(v, "://"))
		n = snprintf(tmp, sizeof(tmp), "%s", v);
	else
		n = snprintf(tmp, sizeof(tmp), "http://%s", v);
	if (n < 0 || (size_t)n >= sizeof(tmp) || !starts_ci(tmp, "http://"))
		return upk_diag_set(d, UPK_E_USAGE, where, -1,
				    "proxy %s: only http:// proxies are supported", v);
	r = url_parse(tmp, ret, where, d);
	if (r)
		return rephrase(d, r, where, -1, "proxy");
	/* A proxy URL without a port means curl's default. */
	if (!ret->port_given)
		ret->port = DEFAULT_PROXY_PORT;
	*ret_use = true;
	return UPK_OK;
}

/* ==== the slow-retrieval meter ========================================== */

/*
 * libcurl's LOW_SPEED semantics: the rate is measured each second; once it
 * has stayed below low_bytes for low_window_s seconds the transfer fails.
 * The window restarts whenever a second is fast enough.
 */
static void meter_reset(struct upkc_fetch *f)
{
	f->tick_ms = now_ms();
	f->tick_bytes = 0;
	f->below_since_ms = -1;
}

static enum upk_err meter_check(struct upkc_fetch *f, const char *where, struct upk_diag *d)
{
	int64_t now = now_ms(), el = now - f->tick_ms;

	if (el < 1000)
		return UPK_OK;
	if (f->tick_bytes * 1000 / (uint64_t)el < (uint64_t)f->low_bytes) {
		if (f->below_since_ms < 0)
			f->below_since_ms = f->tick_ms;
		if (now - f->below_since_ms >= f->low_window_s * 1000)
			return upk_diag_set(d, UPK_E_SLOW, where, -1,
					    "Operation too slow: below %ld bytes/s for %ld s",
					    f->low_bytes, f->low_window_s);
	} else {
		f->below_since_ms = -1;
	}
	f->tick_ms = now;
	f->tick_bytes = 0;
	return UPK_OK;
}

/* Wait until the connection is ready for events, checking the rate every second. */
static enum upk_err wait_fd(struct upkc_fetch *f, short events, const char *where,
			    struct upk_diag *d)
{
	for (;;) {
		struct pollfd pfd = { .fd = f->fd, .events = events };
		int64_t left = 1000 - (now_ms() - f->tick_ms);
		int n = poll(&pfd, 1, left < 1 ? 1 : left > 1000 ? 1000 : (int)left);
		enum upk_err r;

		if (n > 0)
			return UPK_OK;
		if (n < 0 && errno != EINTR)
			return upk_diag_set(d, UPK_E_NETWORK, where, -1, "poll: %s",
					    strerror(errno));
		r = meter_check(f, where, d);
		if (r)
			return r;
	}
}

/* ==== connections ======================================================= */

static void conn_close(struct upkc_fetch *f)
{
	if (f->ssl)
		SSL_free(f->ssl); /* and its BIO; no close_notify: the socket goes too */
	if (f->fd >= 0)
		close(f->fd);
	f->ssl = NULL;
	f->fd = -1;
	f->keep = false;
	f->key[0] = 0;
	f->boff = f->blen = 0;
}

/*
 * The TLS record layer's socket: send() with MSG_NOSIGNAL, so that a peer
 * that went away cannot raise SIGPIPE (the process's signal disposition is
 * the application's). Received bytes feed the slow-retrieval meter.
 */
static int bio_write(BIO *b, const char *data, int len)
{
	struct upkc_fetch *f = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(f->fd, data, (size_t)len, MSG_NOSIGNAL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			BIO_set_retry_write(b);
		return -1;
	}
	return (int)n;
}

static int bio_read(BIO *b, char *data, int len)
{
	struct upkc_fetch *f = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = recv(f->fd, data, (size_t)len, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			BIO_set_retry_read(b);
		return -1;
	}
	if (!f->meter_payload)
		f->tick_bytes += (uint64_t)n;
	return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

/* "TLS: <reason>" from the verify result or OpenSSL's error queue. */
static enum upk_err tls_error(struct upkc_fetch *f, int ret, const char *where, struct upk_diag *d)
{
	int e = SSL_get_error(f->ssl, ret);
	unsigned long q = ERR_peek_last_error();
	long vr = SSL_get_verify_result(f->ssl);

	if (vr != X509_V_OK)
		return upk_diag_set(d, UPK_E_NETWORK, where, -1,
				    "TLS: certificate verify failed (%s)",
				    X509_verify_cert_error_string(vr));
	if (e == SSL_ERROR_SYSCALL && !q)
		return upk_diag_set(d, UPK_E_NETWORK, where, -1, "TLS: %s",
				    errno ? strerror(errno) : "connection closed");
	if (e == SSL_ERROR_ZERO_RETURN)
		return upk_diag_set(d, UPK_E_NETWORK, where, -1, "TLS: connection closed");
	return upk_diag_set(d, UPK_E_NETWORK, where, -1, "TLS: %s",
			    q && ERR_reason_error_string(q) ? ERR_reason_error_string(q)
							    : "handshake failed");
}

static enum upk_err tls_ctx(struct upkc_fetch *f, const char *where, struct upk_diag *d)
{
	if (f->ctx)
		return UPK_OK;
	ERR_clear_error();
	f->bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "upkeep socket");
	if (!f->bio_method || !BIO_meth_set_write(f->bio_method, bio_write) ||
	    !BIO_meth_set_read(f->bio_method, bio_read) ||
	    !BIO_meth_set_ctrl(f->bio_method, bio_ctrl))
		return upk_diag_set(d, UPK_E_NOMEM, where, -1, "TLS setup failed");
	f->ctx = SSL_CTX_new(TLS_client_method());
	if (!f->ctx)
		return upk_diag_set(d, UPK_E_NOMEM, where, -1, "TLS setup failed");
	/* The system trust store; OpenSSL honours SSL_CERT_FILE and SSL_CERT_DIR. */
	if (!SSL_CTX_set_min_proto_version(f->ctx, TLS1_2_VERSION) ||
	    !SSL_CTX_set_default_verify_paths(f->ctx)) {
		SSL_CTX_free(f->ctx);
		f->ctx = NULL;
		return upk_diag_set(d, UPK_E_INTERNAL, where, -1, "TLS setup failed");
	}
	SSL_CTX_set_verify(f->ctx, SSL_VERIFY_PEER, NULL);
	/* Only the kept-alive connection is reused: no session cache. */
	SSL_CTX_set_session_cache_mode(f->ctx, SSL_SESS_CACHE_OFF);
	/* A close-delimited body ends with the connection (lengths are verified anyway). */
	SSL_CTX_set_options(f->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
	return UPK_OK;
}

static enum upk_err tls_start(struct upkc_fetch *f, struct url *u, const char *where,
			      struct upk_diag *d)
{
	struct in_addr in4;
	BIO *bio;
	int ret;
	enum upk_err r = tls_ctx(f, where, d);

	if (r)
		return r;
	ERR_clear_error();
	f->ssl = SSL_new(f->ctx);
	bio = BIO_new(f->bio_method);
	if (!f->ssl || !bio) {
		BIO_free(bio);
		return upk_diag_set(d, UPK_E_NOMEM, where, -1, "TLS setup failed");
	}
	BIO_set_data(bio, f);
	BIO_set_init(bio, 1);
	SSL_set_bio(f->ssl, bio, bio);
	if (u->ipv6 || inet_pton(AF_INET, u->host, &in4) == 1) {
		/* No SNI for an address (RFC 6066); the certificate must name it. */
		if (!X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(f->ssl), u->host))
			return upk_diag_set(d, UPK_E_INTERNAL, where, -1, "TLS setup failed");
	} else if (!SSL_set_tlsext_host_name(f->ssl, u->host) || !SSL_set1_host(f->ssl, u->host)) {
		return upk_diag_set(d, UPK_E_INTERNAL, where, -1, "TLS setup failed");
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		ret = SSL_connect(f->ssl);
		if (ret == 1)
			return UPK_OK;
		switch (SSL_get_error(f->ssl, ret)) {
		case SSL_ERROR_WANT_READ:
			r = wait_fd(f, POLLIN, where, d);
			break;
		case SSL_ERROR_WANT_WRITE:
			r = wait_fd(f, POLLOUT, where, d);
			break;
		default:
			return tls_error(f, ret, where, d);
		}
		if (r)
			return r;
	}
}

/*
 * Receive up to cap bytes; *ret_n == 0 at the end of the stream. *ret_closed
 * tells a connection the peer closed or reset (against a real failure).
 */
static enum upk_err conn_recv(struct upkc_fetch *f, uint8_t *p, size_t cap, size_t *ret_n,
			      bool *ret_closed, const char *where, struct upk_diag *d)
{
	enum upk_err r;

	*ret_closed = false;
	for (;;) {
		if (f->ssl) {
			size_t n = 0;
			int ret, e;

			ERR_clear_error();
			errno = 0;
			ret = SSL_read_ex(f->ssl, p, cap, &n);
			if (ret == 1) {
				*ret_n = n;
				return meter_check(f, where, d);
			}
			e = SSL_get_error(f->ssl, ret);
			if (e == SSL_ERROR_WANT_READ) {
				r = wait_fd(f, POLLIN, where, d);
			} else if (e == SSL_ERROR_WANT_WRITE) {
				r = wait_fd(f, POLLOUT, where, d);
			} else if (e == SSL_ERROR_ZERO_RETURN ||
				   (e == SSL_ERROR_SYSCALL && !ERR_peek_last_error() &&
				    (errno == 0 || errno == ECONNRESET))) {
				*ret_n = 0;
				*ret_closed = true;
				if (errno == ECONNRESET)
					return upk_diag_set(d, UPK_E_NETWORK, where, -1, "%s",
							    strerror(errno));
				return UPK_OK;
			} else {
				return tls_error(f, ret, where, d);
			}
		} else {
			ssize_t n = recv(f->fd, p, cap, 0);
			if (n >= 0) {
				if (!f->meter_payload)
					f->tick_bytes += (uint64_t)n;
				*ret_n = (size_t)n;
				*ret_closed = n == 0;
				return meter_check(f, where, d);
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				*ret_closed = errno == ECONNRESET;
				return upk_diag_set(d, UPK_E_NETWORK, where, -1, "%s",
						    strerror(errno));
			}
			r = wait_fd(f, POLLIN, where, d);
		}
		if (r)
			return r;
	}
}

/* Send all of p; *ret_closed as for conn_recv. */
static enum upk_err conn_send(struct upkc_fetch *f, const char *p, size_t len, bool *ret_closed,
			      const char *where, struct upk_diag *d)
{
	enum upk_err r = UPK_OK;

	*ret_closed = false;
	while (len) {
		if (f->ssl) {
			size_t n = 0;
			int ret, e;

			ERR_clear_error();
			errno = 0;
			ret = SSL_write_ex(f->ssl, p, len, &n);
			if (ret == 1) {
				p += n;
				len -= n;
				continue;
			}
			e = SSL_get_error(f->ssl, ret);
			if (e == SSL_ERROR_WANT_READ) {
				r = wait_fd(f, POLLIN, where, d);
			} else if (e == SSL_ERROR_WANT_WRITE) {
				r = wait_fd(f, POLLOUT, where, d);
			} else {
				*ret_closed = e == SSL_ERROR_ZERO_RETURN ||
					      (e == SSL_ERROR_SYSCALL &&
					       (errno == EPIPE || errno == ECONNRESET));
				return tls_error(f, ret, where, d);
			}
		} else {
			ssize_t n = send(f->fd, p, len, MSG_NOSIGNAL);
			if (n >= 0) {
				p += n;
				len -= (size_t)n;
				continue;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN) {
				*ret_closed = errno == EPIPE || errno == ECONNRESET;
				return upk_diag_set(d, UPK_E_NETWORK, where, -1, "%s",
						    strerror(errno));
			}
			r = wait_fd(f, POLLOUT, where, d);
		}
		if (r)
			return r;
	}
	return UPK_OK;
}

/* Non-blocking connect to every address of host in turn, within the connect timeout. */
static enum upk_err tcp_connect(struct upkc_fetch *f, const char *host, unsigned port,
				const char *where, struct upk_diag *d)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	int64_t deadline = now_ms() + f->connect_timeout_s * 1000;
	char portstr[8];
	int err = 0, g, one = 1;

	snprintf(portstr, sizeof(portstr), "%u", port);
	g = getaddrinfo(host, portstr, &hints, &res);
	if (g)
		return upk_diag_set(d, UPK_E_NETWORK, where, -1, "cannot resolve %s: %s", host,
				    g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
	f->connections++;
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
				ai->ai_protocol);
		socklen_t sl = sizeof(err);

		if (fd < 0) {
			err = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			err = errno;
			close(fd);
			continue;
		}
		for (;;) {
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };
			int64_t left = deadline - now_ms();
			int n = left > 0 ? poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left)
					 : 0;
			if (n < 0 && errno == EINTR)
				continue;
			if (n == 0) {
				close(fd);
				freeaddrinfo(res);
				return upk_diag_set(
					d, UPK_E_TIMEOUT, where, -1,
					"connecting to %s port %u: timed out after %ld s", host,
					port, f->connect_timeout_s);
			}
			break;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) != 0)
			err = errno;
		if (err) {
			close(fd);
			continue;
		}
		/* Dead peers are noticed on an idle kept-alive connection. */
		setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		freeaddrinfo(res);
		f->fd = fd;
		return UPK_OK;
	}
	freeaddrinfo(res);
	return upk_diag_set(d, UPK_E_NETWORK, where, -1, "connecting to %s port %u: %s", host, port,
			    strerror(err ? err : ECONNREFUSED));
}

/*
 * Read a response head into *h (interim 1xx responses skipped); the body's
 * first bytes stay in buf[boff..blen). *ret_closed: the connection ended
 * before one byte of the response.
 */
static enum upk_err read_head(struct upkc_fetch *f, struct upkc_http_head *h, bool *ret_closed,
			      const char *where, struct upk_diag *d)
{
	size_t scan = 0, end, n;
	bool any = f->blen > f->boff, closed;
	int interim = 0;
	enum upk_err r;

	*ret_closed = false;
	for (;;) {
		end = upkc_http_head_end(f->buf + f->boff, f->blen - f->boff, &scan);
		if (end) {
			r = upkc_http_head_parse(f->buf + f->boff, end, h, d);
			if (r)
				return set_where(d, r, where);
			f->boff += end;
			scan = 0;
			if (h->status >= 200)
				return UPK_OK;
			if (h->status == 101)
				return upk_diag_set(d, UPK_E_SERVER, where, -1,
						    "HTTP status 101 not asked for");
			/* Endless data as interim heads: they end or the request does. */
			if (++interim > INTERIM_MAX)
				return upk_diag_set(d, UPK_E_SERVER, where, -1,
						    "more than %d interim (1xx) responses",
						    INTERIM_MAX);
			continue;
		}
		if (f->boff) {
			memmove(f->buf, f->buf + f->boff, f->blen - f->boff);
			f->blen -= f->boff;
			f->boff = 0;
		}
		if (f->blen == BUF_SIZE)
			return upk_diag_set(d, UPK_E_SERVER, where, -1,
					    "response headers too large");
		r = conn_recv(f, f->buf + f->blen, BUF_SIZE - f->blen, &n, &closed, where, d);
		if (r) {
			*ret_closed = closed && !any;
			return r;
		}
		if (!n) {
			*ret_closed = !any;
			return upk_diag_set(d, UPK_E_NETWORK, where, -1,
					    any ? "connection closed in the response headers"
						: "connection closed without a response");
		}
		any = true;
		f->blen += n;
	}
}

/*
 * Pass the body to sink (NULL: discard), at most max bytes of it: one more
 * is *ret_overflow. *ret_sink_err: the error is the sink's own.
 */
static enum upk_err read_body_payload(struct upkc_fetch *f, struct upkc_http_body *b, uint64_t max,
				      uint64_t *got, upkc_fetch_sink_fn sink, void *ctx,
				      bool *ret_overflow, bool *ret_sink_err, const char *where,
				      struct upk_diag *d)
{
	enum upk_err r;
	size_t n;
	bool closed;

	for (;;) {
		while (f->boff < f->blen && !b->done) {
			const uint8_t *p = f->buf + f->boff;
			size_t used;
			bool data;

			r = upkc_http_body_feed(b, p, f->blen - f->boff, &used, &data, d);
			if (r)
				return set_where(d, r, where);
			if (data && used > max - *got) {
				/* Endless data: not one byte past the bound. */
				if (sink && max > *got) {
					r = sink(ctx, p, (size_t)(max - *got));
					if (r) {
						*ret_sink_err = true;
						return r;
					}
				}
				*got = max;
				*ret_overflow = true;
				return UPK_E_TOO_LARGE;
			}
			if (data && sink) {
				r = sink(ctx, p, used);
				if (r) {
					*ret_sink_err = true;
					return r;
				}
			}
			if (data) {
				*got += used;
				f->tick_bytes += used;
			}
			f->boff += used;
		}
		if (b->done)
			return UPK_OK;
		f->boff = f->blen = 0;
		r = conn_recv(f, f->buf, BUF_SIZE, &n, &closed, where, d);
		if (r)
			return r;
		if (!n) {
			r = upkc_http_body_eof(b, d);
			f->keep = false;
			return r ? set_where(d, r, where) : UPK_OK;
		}
		f->blen = n;
	}
}

static enum upk_err read_body(struct upkc_fetch *f, struct upkc_http_body *b, uint64_t max,
			      uint64_t *got, upkc_fetch_sink_fn sink, void *ctx, bool *ret_overflow,
			      bool *ret_sink_err, const char *where, struct upk_diag *d)
{
	enum upk_err r;

	f->meter_payload = true;
	r = read_body_payload(f, b, max, got, sink, ctx, ret_overflow, ret_sink_err, where, d);
	f->meter_payload = false;
	return r;
}

static void conn_key(const struct url *u, const struct url *proxy, char *key, size_t size)
{
	int n = snprintf(key, size, "%s://%s:%u", u->https ? "https" : "http", u->host, u->port);

	if (proxy && n > 0 && (size_t)n < size)
		snprintf(key + n, size - (size_t)n, " via %s:%u", proxy->host, proxy->port);
	for (char *c = key; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c - 'A' + 'a');
}

/* A kept-alive connection the server closed (or wrote to) while idle is not reused. */
static bool idle_ok(struct upkc_fetch *f)
{
	struct pollfd pfd = { .fd = f->fd, .events = POLLIN };
	uint8_t scratch[1];
	size_t n = 0;
	int ret;

	if (poll(&pfd, 1, 0) == 0)
		return true;
	if (!f->ssl)
		return false;
	/* TLS may have sent records that are no application data (session tickets). */
	ERR_clear_error();
	ret = SSL_read_ex(f->ssl, scratch, sizeof(scratch), &n);
	return ret != 1 && SSL_get_error(f->ssl, ret) == SSL_ERROR_WANT_READ;
}

/* host, [host] for IPv6, with ":port" when asked (out has room: HOST_MAX + 16). */
static void fmt_host(const struct url *u, char *out, size_t size, bool with_port)
{
	if (with_port)
		snprintf(out, size, "%s%s%s:%u", u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "",
			 u->port);
	else
		snprintf(out, size, "%s%s%s", u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "");
}

/* A new connection to u, through the proxy if any (CONNECT for https). */
static enum upk_err conn_open(struct upkc_fetch *f, struct url *u, const struct url *proxy,
			      const char *where, struct upk_diag *d)
{
	const struct url *to = proxy ? proxy : u;
	struct upkc_http_head h;
	enum upk_err r;
	bool closed;
	char hp[HOST_MAX + 16];
	int n;

	conn_close(f);
	r = tcp_connect(f, to->host, to->port, where, d);
	if (r)
		return r;
	meter_reset(f);
	if (!u->https)
		return UPK_OK;
	if (proxy) {
		fmt_host(u, hp, sizeof(hp), true);
		n = snprintf(f->req, sizeof(f->req),
			     "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: upkeep-client\r\n\r\n",
			     hp, hp);
		if (n < 0 || (size_t)n >= sizeof(f->req))
			return upk_diag_set(d, UPK_E_USAGE, where, -1, "URL too long");
		r = conn_send(f, f->req, (size_t)n, &closed, where, d);
		if (!r)
			r = read_head(f, &h, &closed, where, d);
		if (r)
			return rephrase(d, r, where, -1, "proxy CONNECT");
		if (h.status < 200 || h.status > 299)
			return upk_diag_set(d, UPK_E_NETWORK, where, -1,
					    "proxy refused CONNECT: HTTP %d", h.status);
		if (f->boff != f->blen)
			return upk_diag_set(d, UPK_E_NETWORK, where, -1,
					    "proxy sent data before the TLS handshake");
		f->boff = f->blen = 0;
	}
	return tls_start(f, u, where, d);
}

/* Send the request for g to u on the current connection. */
static enum upk_err send_request(struct upkc_fetch *f, const struct url *u, bool via_proxy,
				 const struct get *g, bool *ret_closed, struct upk_diag *d)
{
	char host[HOST_MAX + 16], range[64] = "";
	bool default_port = u->port == (u->https ? 443u : 80u);
	int n;

	fmt_host(u, host, sizeof(host), !default_port);
	if (g->range)
		snprintf(range, sizeof(range), "Range: bytes=%" PRIu64 "-%" PRIu64 "\r\n", g->off,
			 g->off + g->len - 1);
	/* A proxy gets the absolute form (plain http only: https is tunnelled). */
	n = snprintf(f->req, sizeof(f->req),
		     "GET %s%s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: upkeep-client\r\n"
		     "Accept: */*\r\n%s\r\n",
		     via_proxy ? "http://" : "", via_proxy ? host : "", u->target, host, range);
	if (n < 0 || (size_t)n >= sizeof(f->req))
		return upk_diag_set(d, UPK_E_USAGE, g->where, -1, "URL too long");
	return conn_send(f, f->req, (size_t)n, ret_closed, g->where, d);
}

/*
 * Send the request and read the response head, on the kept-alive connection
 * when it leads to the same place. A reused connection that fails before
 * one byte of the response (the server closed it while idle) is replaced
 * once by a new one.
 */
static enum upk_err exchange(struct upkc_fetch *f, struct url *u, const struct url *proxy,
			     const struct get *g, struct upkc_http_head *h, struct upk_diag *d)
{
	char key[sizeof(f->key)];
	bool reused, closed;
	enum upk_err r;

	conn_key(u, proxy, key, sizeof(key));
	if (f->fd >= 0 &&
	    (!f->keep || strcmp(key, f->key) != 0 || f->boff != f->blen || !idle_ok(f)))
		conn_close(f);
	reused = f->fd >= 0;
	for (;;) {
		if (!reused) {
			r = conn_open(f, u, proxy, g->where, d);
			if (r) {
				conn_close(f);
				return r;
			}
			snprintf(f->key, sizeof(f->key), "%s", key);
		}
		f->keep = false; /* until this response is read whole */
		f->boff = f->blen = 0;
		meter_reset(f);
		r = send_request(f, u, proxy && !u->https, g, &closed, d);
		if (!r)
			r = read_head(f, h, &closed, g->where, d);
		if (!r)
			return UPK_OK;
		conn_close(f);
		if (!reused || !closed)
			return r;
		reused = false;
	}
}

/* file:// (offline metadata): the local file, bounded the same way. */
static enum upk_err file_get(struct upkc_fetch *f, const char *url, const struct get *g,
			     struct upk_diag *d)
{
	const char *p = url + 7;
	char path[URL_MAX];
	size_t n = 0;
	uint64_t got = 0;
	struct stat st;
	int fd;
	enum upk_err r = UPK_OK;

	if (starts_ci(p, "localhost/"))
		p += 9;
	if (*p != '/')
		return upk_diag_set(d, UPK_E_USAGE, g->where, -1, "file:// URL of another host");
	for (; *p && *p != '?' && *p != '#'; p++) {
		char c = *p;
		if (c == '%' && upk_hex_digit(p[1]) >= 0 && upk_hex_digit(p[2]) >= 0) {
			c = (char)(upk_hex_digit(p[1]) * 16 + upk_hex_digit(p[2]));
			p += 2;
		}
		if (!c || n + 1 >= sizeof(path))
			return upk_diag_set(d, UPK_E_USAGE, g->where, -1, "bad file:// URL");
		path[n++] = c;
	}
	path[n] = 0;
	/* O_NONBLOCK: a FIFO named by mistake must not hang the open; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return upk_diag_set(
			d, errno == ENOENT || errno == ENOTDIR ? UPK_E_NOT_FOUND : UPK_E_IO,
			g->where, -1, "%s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return upk_diag_set(d, UPK_E_IO, g->where, -1, "not a regular file");
	}
	if ((uint64_t)st.st_size > g->max_len) {
		close(fd);
		return upk_diag_set(d, UPK_E_TOO_LARGE, g->where, -1,
				    "file has %jd bytes, more than %" PRIu64, (intmax_t)st.st_size,
				    g->max_len);
	}
	for (;;) {
		ssize_t k = read(fd, f->buf, BUF_SIZE);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = upk_diag_set(d, UPK_E_IO, g->where, -1, "%s", strerror(errno));
			break;
		}
		if (k == 0)
			break;
		/* The file may grow while read. */
		if ((uint64_t)k > g->max_len - got) {
			r = upk_diag_set(d, UPK_E_TOO_LARGE, g->where, -1,
					 "more than %" PRIu64 " bytes", g->max_len);
			break;
		}
		r = g->sink(g->ctx, f->buf, (size_t)k);
		if (r)
			break;
		got += (uint64_t)k;
	}
	close(fd);
	return r;
}

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* Read and drop a small body to keep the connection; a large one drops the connection. */
static void drain(struct upkc_fetch *f, const struct upkc_http_head *h, const char *where)
{
	struct upkc_http_body b;
	uint64_t got = 0;
	bool overflow = false, sink_err = false;

	upkc_http_body_init(&b, h);
	if (h->close || (b.framing == UPKC_HTTP_LENGTH && h->length > DRAIN_MAX) ||
	    b.framing == UPKC_HTTP_CLOSE || (h->chunked && h->has_length) ||
	    read_body(f, &b, DRAIN_MAX, &got, NULL, NULL, &overflow, &sink_err, where, NULL) ||
	    f->boff != f->blen)
		conn_close(f);
	else
		f->keep = true;
}

/* The status of a final response that is not the body asked for, as an error. */
static enum upk_err status_error(const struct get *g, int status, struct upk_diag *d)
{
	int64_t off = g->range ? (int64_t)g->off : -1;

	if (status == 404 || status == 403)
		return upk_diag_set(d, UPK_E_NOT_FOUND, g->where, off, "HTTP status %d", status);
	if (g->range && status == 416)
		return upk_diag_set(d, UPK_E_LENGTH, g->where, off, "HTTP status %d", status);
	if (g->range && status == 200)
		return upk_diag_set(d, UPK_E_SERVER, g->where, off,
				    "HTTP 200 to a range request: ranges not supported");
	if (g->range && status >= 200 && status < 300)
		return upk_diag_set(d, UPK_E_SERVER, g->where, off,
				    "HTTP status %d to a range request", status);
	return upk_diag_set(d, UPK_E_SERVER, g->where, off, "HTTP status %d", status);
}

static enum upk_err get(struct upkc_fetch *f, const struct get *g, struct upk_diag *d)
{
	struct upkc_http_head h;
	struct upkc_http_body b;
	uint64_t got = 0;
	bool use_proxy, overflow = false, sink_err = false;
	int64_t off = g->range ? (int64_t)g->off : -1;
	enum upk_err r;
	int n;

	f->requests++;
	n = snprintf(f->cur, sizeof(f->cur), "%s", g->where);
	if (n < 0 || (size_t)n >= sizeof(f->cur))
		return upk_diag_set(d, UPK_E_USAGE, g->where, -1, "URL too long");
	if (starts_ci(f->cur, "file:")) {
		if (!f->allow_file || g->range)
			return upk_diag_set(d, UPK_E_USAGE, g->where, -1,
					    "file:// URLs are not allowed here");
		if (!starts_ci(f->cur, "file://"))
			return upk_diag_set(d, UPK_E_USAGE, g->where, -1, "bad file:// URL");
		return file_get(f, f->cur, g, d);
	}
	for (unsigned hops = 0;; hops++) {
		r = url_parse(f->cur, &f->u, g->where, d);
		if (r && hops)
			return rephrase(d, UPK_E_SERVER, g->where, -1, "redirect refused");
		if (!r)
			r = proxy_for(&f->u, &f->proxy, &use_proxy, g->where, d);
		if (r)
			return r;
		r = exchange(f, &f->u, use_proxy ? &f->proxy : NULL, g, &h, d);
		if (r)
			return r;
		if (!is_redirect(h.status) || !h.has_location)
			break;
		drain(f, &h, g->where);
		if (hops == MAX_HOPS)
			return upk_diag_set(d, UPK_E_SERVER, g->where, -1, "more than %d redirects",
					    MAX_HOPS);
		r = resolve_location(f, h.location, g->where, d);
		if (r)
			return r;
		/* Redirects stay on http and https (never file://, whatever allow_file says). */
		memcpy(f->cur, f->next, sizeof(f->cur));
	}
	if (h.status < 200 || h.status > 299 || (g->range && h.status != 206)) {
		drain(f, &h, g->where);
		return status_error(g, h.status, d);
	}
	upkc_http_body_init(&b, &h);
	if (b.framing == UPKC_HTTP_LENGTH && h.length > g->max_len) {
		conn_close(f);
		if (g->range)
			return upk_diag_set(d, UPK_E_TOO_LARGE, g->where, off,
					    "server announces %" PRIu64
					    " bytes, more than the %zu bytes asked for",
					    h.length, g->len);
		return upk_diag_set(d, UPK_E_TOO_LARGE, g->where, -1,
				    "server announces more than %" PRIu64 " bytes", g->max_len);
	}
	if (g->range && h.has_range && h.range_first != g->off) {
		conn_close(f);
		return upk_diag_set(d, UPK_E_SERVER, g->where, off,
				    "Content-Range starts at %" PRIu64 ", not at %" PRIu64,
				    h.range_first, g->off);
	}
	r = read_body(f, &b, g->max_len, &got, g->sink, g->ctx, &overflow, &sink_err, g->where, d);
	if (r) {
		conn_close(f);
		if (sink_err)
			return r;
		if (overflow && g->range)
			return upk_diag_set(d, UPK_E_TOO_LARGE, g->where, off,
					    "more than the %zu bytes asked for", g->len);
		if (overflow)
			return upk_diag_set(d, UPK_E_TOO_LARGE, g->where, -1,
					    "more than %" PRIu64 " bytes", g->max_len);
		if (d && off >= 0)
			d->offset = off;
		return r;
	}
	/*
	 * Bytes after the body (nothing was asked for), or a head with both
	 * Content-Length and chunked (RFC 9112 6.3: the framing is in doubt):
	 * the connection is not trusted again.
	 */
	if (f->fd >= 0 && !h.close && b.framing != UPKC_HTTP_CLOSE && f->boff == f->blen &&
	    !(h.chunked && h.has_length))
		f->keep = true;
	else
		conn_close(f);
	if (g->range && got != g->len)
		return upk_diag_set(d, UPK_E_LENGTH, g->where, off,
				    "%" PRIu64 " bytes of a %zu-byte range", got, g->len);
	return UPK_OK;
}

/* ==== the API =========================================================== */

enum upk_err upkc_fetch_new(const struct upkc_fetch_opts *opts, struct upkc_fetch **ret,
			    struct upk_diag *reterr_diag)
{
	struct upkc_fetch *f = calloc(1, sizeof(*f));

	if (!f)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	f->buf = malloc(BUF_SIZE);
	if (!f->buf) {
		free(f);
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	}
	f->fd = -1;
	f->connect_timeout_s = UPKC_FETCH_CONNECT_TIMEOUT;
	f->low_bytes = UPKC_FETCH_LOW_SPEED_BYTES;
	f->low_window_s = UPKC_FETCH_LOW_SPEED_WINDOW;
	if (opts && opts->connect_timeout_s > 0)
		f->connect_timeout_s = opts->connect_timeout_s;
	if (opts && opts->low_speed_bytes > 0)
		f->low_bytes = opts->low_speed_bytes;
	if (opts && opts->low_speed_window_s > 0)
		f->low_window_s = opts->low_speed_window_s;
	f->allow_file = opts && opts->allow_file;
	*ret = f;
	return UPK_OK;
}

void upkc_fetch_free(struct upkc_fetch *f)
{
	if (!f)
		return;
	conn_close(f);
	SSL_CTX_free(f->ctx);
	BIO_meth_free(f->bio_method);
	free(f->buf);
	free(f);
}

unsigned long upkc_fetch_requests(const struct upkc_fetch *f)
{
	return f->requests;
}

unsigned long upkc_fetch_connections(const struct upkc_fetch *f)
{
	return f->connections;
}

enum upk_err upkc_fetch_stream(struct upkc_fetch *f, const char *url, uint64_t max_len,
			       upkc_fetch_sink_fn sink, void *ctx, struct upk_diag *reterr_diag)
{
	const struct get g = { .where = url, .max_len = max_len, .sink = sink, .ctx = ctx };

	return get(f, &g, reterr_diag);
}

enum upk_err upkc_fetch_range(struct upkc_fetch *f, const char *url, uint64_t off, size_t len,
			      upkc_fetch_sink_fn sink, void *ctx, struct upk_diag *reterr_diag)
{
	const struct get g = { .where = url,
			       .max_len = len,
			       .range = true,
			       .off = off,
			       .len = len,
			       .sink = sink,
			       .ctx = ctx };

	if (!len || off > UINT64_MAX - len)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, url, -1, "empty or impossible range");
	return get(f, &g, reterr_diag);
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
