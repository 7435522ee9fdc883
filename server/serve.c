/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upkeep-server serve: the pure request decisions (path, Range, ETag,
 * listen address, access-log line) and the libmicrohttpd server that
 * carries them out. Contract in serve.h.
 */
#define _GNU_SOURCE /* O_PATH */
#include "serve.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/openat2.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "hex.h"
#include "util.h"

/* ==== pure half ======================================================== */

static enum upk_err refuse(struct upk_diag *diag, const char *why)
{
	return upk_diag_set(diag, UPK_E_NOT_FOUND, "request path", -1, "%s", why);
}

/* Is [seg, seg+len) an acceptable file or directory name in the repository? */
static const char *segment_problem(const char *seg, size_t len)
{
	if (len == 0)
		return "empty path segment";
	if (len == 1 && seg[0] == '.')
		return "'.' path segment";
	if (len == 2 && seg[0] == '.' && seg[1] == '.')
		return "'..' path segment";
	if (len > UPKS_SERVE_SEGMENT_MAX)
		return "path segment too long";
	return NULL;
}

enum upk_err upks_serve_path_resolve(const char *url, char *ret_rel, size_t rel_size,
				     struct upk_diag *reterr_diag)
{
	char dec[UPKS_SERVE_PATH_MAX + 1];
	size_t n = 0;
	const char *seg;

	assert(url);
	assert(ret_rel);
	if (url[0] != '/')
		return refuse(reterr_diag, "not an absolute path");
	for (const char *p = url; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '%') {
			int hi = upk_hex_digit((unsigned char)p[1]);
			int lo = hi < 0 ? -1 : upk_hex_digit((unsigned char)p[2]);

			if (lo < 0)
				return refuse(reterr_diag, "bad percent escape");
			c = (unsigned char)(hi * 16 + lo);
			p += 2;
		}
		if (c < 0x20 || c == 0x7f)
			return refuse(reterr_diag, "control byte in path");
		if (c == '\\')
			return refuse(reterr_diag, "backslash in path");
		if (n == UPKS_SERVE_PATH_MAX)
			return refuse(reterr_diag, "path too long");
		dec[n++] = (char)c;
	}
	dec[n] = '\0';

	if (strncmp(dec, "/metadata/", 10) != 0 && strncmp(dec, "/targets/", 9) != 0)
		return refuse(reterr_diag, "outside /metadata/ and /targets/");
	seg = dec + 1;
	for (;;) {
		const char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
		const char *why = segment_problem(seg, len);

		if (why)
			return refuse(reterr_diag, why);
		if (!slash)
			break;
		seg = slash + 1;
	}
	/* n counts the leading '/', which is dropped: n bytes hold the rest and its NUL. */
	if (rel_size < n)
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, "request path", -1,
				    "output buffer too small");
	memcpy(ret_rel, dec + 1, n);
	return UPK_OK;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static const char *skip_ows(const char *p)
{
	while (is_ows(*p))
		p++;
	return p;
}

/* Decimal digits at p into *ret, saturating at UINT64_MAX; NULL if no digit. */
static const char *parse_decimal(const char *p, uint64_t *ret)
{
	uint64_t v = 0;

	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			v = UINT64_MAX;
	}
	*ret = v;
	return p;
}

struct range_spec {
	bool suffix;   /* "-n" */
	bool open;     /* "a-" */
	uint64_t a, b; /* a-b, a- (b unused) or -a */
};

/* One range-spec at p; returns the end, or NULL if it is not one. */
static const char *parse_range_spec(const char *p, struct range_spec *ret)
{
	struct range_spec r = { 0 };

	if (*p == '-') {
		r.suffix = true;
		p = parse_decimal(p + 1, &r.a);
		if (!p)
			return NULL;
		*ret = r;
		return p;
	}
	p = parse_decimal(p, &r.a);
	if (!p || *p != '-')
		return NULL;
	p++;
	if (*p >= '0' && *p <= '9') {
		p = parse_decimal(p, &r.b);
		if (r.b < r.a)
			return NULL;
	} else {
		r.open = true;
	}
	*ret = r;
	return p;
}

enum upks_range_kind upks_serve_range_parse(const char *header, uint64_t size,
					    struct upks_range *ret)
{
	struct range_spec first = { 0 };
	unsigned count = 0;
	const char *p;
	uint64_t len;

	if (!header || strncasecmp(header, "bytes=", 6) != 0)
		return UPKS_RANGE_FULL;
	p = header + 6;
	for (;;) {
		struct range_spec r;

		p = skip_ows(p);
		if (*p == ',') { /* empty list element (RFC 9110 §5.6.1.2) */
			p++;
			continue;
		}
		if (*p == '\0')
			break;
		p = parse_range_spec(p, &r);
		if (!p)
			return UPKS_RANGE_MALFORMED;
		if (count++ == 0)
			first = r;
		p = skip_ows(p);
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return UPKS_RANGE_MALFORMED;
	}
	if (count == 0)
		return UPKS_RANGE_MALFORMED;
	if (count > 1)
		return UPKS_RANGE_FULL;

	if (first.suffix) {
		if (first.a == 0 || size == 0)
			return UPKS_RANGE_UNSATISFIABLE;
		len = first.a < size ? first.a : size;
		ret->first = size - len;
		ret->length = len;
		return UPKS_RANGE_PARTIAL;
	}
	if (first.a >= size)
		return UPKS_RANGE_UNSATISFIABLE;
	if (first.open || first.b >= size - 1)
		len = size - first.a;
	else
		len = first.b - first.a + 1;
	ret->first = first.a;
	ret->length = len;
	return UPKS_RANGE_PARTIAL;
}

void upks_serve_etag_format(uint64_t ino, uint64_t size, uint64_t mtime_ns,
			    char ret[UPKS_SERVE_ETAG_SIZE])
{
	snprintf(ret, UPKS_SERVE_ETAG_SIZE, "\"%" PRIx64 "-%" PRIx64 "-%" PRIx64 "\"", ino, size,
		 mtime_ns);
}

/* etagc of RFC 9110 §8.8.3: %x21 / %x23-7E / obs-text. */
static bool is_etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

bool upks_serve_etag_list_has(const char *if_none_match, const char *etag)
{
	size_t etag_len = strlen(etag);
	const char *p;

	if (!if_none_match)
		return false;
	p = skip_ows(if_none_match);
	if (*p == '*')
		return *skip_ows(p + 1) == '\0';
	for (;;) {
		const char *q;

		while (is_ows(*p) || *p == ',')
			p++;
		if (*p == '\0')
			return false;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p != '"')
			return false;
		for (q = p + 1; *q != '"'; q++) {
			if (!is_etagc((unsigned char)*q))
				return false; /* NUL included: unterminated tag */
		}
		if ((size_t)(q + 1 - p) == etag_len && memcmp(p, etag, etag_len) == 0)
			return true;
		p = skip_ows(q + 1);
		if (*p != '\0' && *p != ',')
			return false;
	}
}

bool upks_serve_if_range_is_fresh(const char *if_range, const char *etag)
{
	size_t etag_len = strlen(etag);
	const char *p;

	if (!if_range)
		return true;
	p = skip_ows(if_range);
	return strncmp(p, etag, etag_len) == 0 && *skip_ows(p + etag_len) == '\0';
}

const char *upks_serve_content_type(const char *rel_path)
{
	size_t n = strlen(rel_path);

	if (n >= 5 && memcmp(rel_path + n - 5, ".json", 5) == 0)
		return "application/json";
	return "application/octet-stream";
}

enum upk_err upks_serve_listen_parse(const char *spec, struct sockaddr_storage *ret_addr,
				     socklen_t *ret_len, struct upk_diag *reterr_diag)
{
	char host[64];
	const char *host_start, *host_end, *port_str;
	uint64_t port = 0;
	const char *end;
	bool v6;

	assert(spec);
	if (spec[0] == '[') {
		host_start = spec + 1;
		host_end = strchr(host_start, ']');
		if (!host_end || host_end[1] != ':')
			return upk_diag_set(reterr_diag, UPK_E_USAGE, "--listen", -1,
					    "'%s' is not HOST:PORT with HOST an IP address", spec);
		port_str = host_end + 2;
		v6 = true;
	} else {
		host_start = spec;
		host_end = strrchr(spec, ':');
		if (!host_end || memchr(spec, ':', (size_t)(host_end - spec)))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, "--listen", -1,
					    "'%s' is not HOST:PORT with HOST an IP address "
					    "(IPv6 in brackets)",
					    spec);
		port_str = host_end + 1;
		v6 = false;
	}
	end = parse_decimal(port_str, &port);
	if (!end || *end != '\0' || end - port_str > 5 || port > 65535)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, "--listen", -1,
				    "'%s': the port must be a number from 0 to 65535", spec);
	if ((size_t)(host_end - host_start) >= sizeof(host) || host_end == host_start)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, "--listen", -1,
				    "'%s': HOST must be an IP address", spec);
	memcpy(host, host_start, (size_t)(host_end - host_start));
	host[host_end - host_start] = '\0';

	if (v6) {
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };

		if (inet_pton(AF_INET6, host, &a6.sin6_addr) != 1)
			return upk_diag_set(reterr_diag, UPK_E_USAGE, "--listen", -1,
					    "'%s' is not an IPv6 address", host);
		a6.sin6_port = htons((uint16_t)port);
		memset(ret_addr, 0, sizeof(*ret_addr));
		memcpy(ret_addr, &a6, sizeof(a6));
		*ret_len = sizeof(a6);
	} else {
		struct sockaddr_in a4 = { .sin_family = AF_INET };

		if (inet_pton(AF_INET, host, &a4.sin_addr) != 1)
			return upk_diag_set(reterr_diag, UPK_E_USAGE, "--listen", -1,
					    "'%s' is not an IP address (host names are not "
					    "resolved)",
					    host);
		a4.sin_port = htons((uint16_t)port);
		memset(ret_addr, 0, sizeof(*ret_addr));
		memcpy(ret_addr, &a4, sizeof(a4));
		*ret_len = sizeof(a4);
	}
	return UPK_OK;
}

/* Append s, escaped, cut at `limit` output bytes with "..."; "-" if empty. */
static void log_field(char *buf, size_t size, size_t *pos, const char *s, size_t limit)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t start = *pos;

	if (!s || !*s)
		s = "-";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		size_t need = (c > 0x20 && c < 0x7f) ? 1 : 3;

		if (*pos - start + need > limit) {
			memcpy(buf + *pos, "...", 3);
			*pos += 3;
			break;
		}
		assert(*pos + need < size);
		if (need == 1) {
			buf[(*pos)++] = (char)c;
		} else {
			buf[(*pos)++] = '%';
			buf[(*pos)++] = hex[c >> 4];
			buf[(*pos)++] = hex[c & 15];
		}
	}
}

size_t upks_serve_log_format(char *buf, size_t size, const char *method, const char *path,
			     const char *range, unsigned status, uint64_t bytes,
			     const char *incomplete)
{
	size_t pos = 0;
	char num[48];

	assert(size >= UPKS_SERVE_LOG_LINE_MAX);
	log_field(buf, size, &pos, method, 16);
	buf[pos++] = ' ';
	log_field(buf, size, &pos, path, 1024);
	buf[pos++] = ' ';
	log_field(buf, size, &pos, range, 128);
	if (status)
		snprintf(num, sizeof(num), " %u ", status);
	else
		snprintf(num, sizeof(num), " - ");
	memcpy(buf + pos, num, strlen(num));
	pos += strlen(num);
	if (bytes == UINT64_MAX)
		snprintf(num, sizeof(num), "-");
	else
		snprintf(num, sizeof(num), "%" PRIu64, bytes);
	memcpy(buf + pos, num, strlen(num));
	pos += strlen(num);
	if (incomplete) {
		memcpy(buf + pos, " incomplete=", 12);
		pos += 12;
		log_field(buf, size, &pos, incomplete, 32);
	}
	buf[pos++] = '\n';
	buf[pos] = '\0';
	return pos;
}

/* ==== the server ======================================================= */

/* Copies kept for the access log; longer than the log limits so the cut shows. */
#define CTX_METHOD_COPY 24
#define CTX_PATH_COPY	1100
#define CTX_RANGE_COPY	140

/*
 * Bodies up to this size are read into the connection's buffer and go out
 * with the response header in one send: a header send followed by a
 * sendfile would wake the client twice, which halves the request rate of
 * small metadata files on loopback. Larger bodies use sendfile.
 */
#define INLINE_BODY_MAX (16 * 1024)

/*
 * Per connection, allocated once when the connection opens and reused by
 * every request on it (requests on one connection are sequential), so a
 * request costs no allocation of ours beyond the response libmicrohttpd
 * builds.
 */
enum req_stage {
	REQ_NEW,      /* request line read */
	REQ_HEADERS,  /* headers seen by on_request; the answer comes at the end of the request */
	REQ_ANSWERED, /* a response is queued */
};

struct conn_ctx {
	char method[CTX_METHOD_COPY];
	char path[CTX_PATH_COPY];
	char range[CTX_RANGE_COPY];
	unsigned status; /* 0 until a response is queued */
	uint64_t bytes;
	enum req_stage stage;
	/*
	 * INLINE_BODY_MAX bytes, allocated on first use. A response made from
	 * it lives until its request completes, before the next request on
	 * the connection can start.
	 */
	char *inline_body;
};

struct upks_server {
	struct MHD_Daemon *daemon;
	int repo_fd;
	int log_fd;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	struct MHD_Response *resp_404;
	struct MHD_Response *resp_405;
	struct MHD_Response *resp_500;
	struct MHD_Response *resp_503;
	char mhd_error[200]; /* last libmicrohttpd message, for a start failure */
	pthread_t starter;   /* the thread in upks_serve_start, while `starting` */
	bool starting;

	void (*tick)(void *ctx);
	void *tick_ctx;
	unsigned tick_interval_ms;
	bool tick_started;
	bool tick_stop;
	pthread_t tick_thread;
	pthread_mutex_t tick_lock;
	pthread_cond_t tick_cond;
};

static const char body_404[] = "not found\n";
static const char body_405[] = "method not allowed\n";
static const char body_500[] = "internal error\n";
static const char body_503[] = "busy, retry later\n";

static void copy_trunc(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void copy_str(char *dst, size_t size, const char *src)
{
	copy_trunc(dst, size, src ? src : "", src ? strlen(src) : 0);
}

/* Keep the URL as sent: decoding is upks_serve_path_resolve's job (serve.h). */
static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

/*
 * Only a failing start reports libmicrohttpd's text, so only messages from
 * the thread inside MHD_start_daemon are kept. While serving, its notes
 * ("reached connection limit") would interleave with the access log on
 * stderr, and the access log already shows what each client got.
 */
__attribute__((format(printf, 2, 0))) static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
	struct upks_server *s = cls;
	size_t n;

	if (!pthread_equal(pthread_self(), s->starter) || !s->starting)
		return;
	vsnprintf(s->mhd_error, sizeof(s->mhd_error), fmt, ap);
	n = strlen(s->mhd_error);
	while (n && (s->mhd_error[n - 1] == '\n' || s->mhd_error[n - 1] == '.'))
		s->mhd_error[--n] = '\0';
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_context = calloc(1, sizeof(struct conn_ctx));
	} else if (*socket_context) {
		struct conn_ctx *ctx = *socket_context;

		free(ctx->inline_body);
		free(ctx);
		*socket_context = NULL;
	}
}

/* Start of every request: reset the connection's log record. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_ctx *ctx = info ? info->socket_context : NULL;
	const char *q;

	if (!ctx)
		return NULL;
	q = strchr(uri, '?');
	copy_trunc(ctx->path, sizeof(ctx->path), uri, q ? (size_t)(q - uri) : strlen(uri));
	copy_str(ctx->method, sizeof(ctx->method), "");
	copy_str(ctx->range, sizeof(ctx->range), "");
	ctx->status = 0;
	ctx->bytes = UINT64_MAX;
	ctx->stage = REQ_NEW;
	return ctx;
}

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a full or broken log must not stop serving */
		p += n;
		len -= (size_t)n;
	}
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct upks_server *s = cls;
	struct conn_ctx *ctx = *req_cls;
	char line[UPKS_SERVE_LOG_LINE_MAX];
	const char *incomplete = NULL;
	size_t n;

	if (!ctx || s->log_fd < 0)
		return;
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		break;
	case MHD_REQUEST_TERMINATED_WITH_ERROR:
		incomplete = "error";
		break;
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		incomplete = "timeout";
		break;
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		incomplete = "shutdown";
		break;
	case MHD_REQUEST_TERMINATED_READ_ERROR:
		incomplete = "read-error";
		break;
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		incomplete = "aborted";
		break;
	default:
		incomplete = "unknown";
		break;
	}
	if (!ctx->status) {
		/* Refused by libmicrohttpd itself (431, 400...): take its status. */
		const union MHD_ConnectionInfo *info =
			MHD_get_connection_info(c, MHD_CONNECTION_INFO_HTTP_STATUS);

		ctx->status = info ? info->http_status : 0;
	}
	n = upks_serve_log_format(line, sizeof(line), ctx->method, ctx->path, ctx->range,
				  ctx->status, ctx->bytes, incomplete);
	write_all(s->log_fd, line, n);
}

/* Request headers the decision needs, gathered in one pass. */
struct req_headers {
	const char *range;
	unsigned n_range;
	const char *if_range;
	unsigned n_if_range;
	unsigned n_if_none_match;
	const char *etag;  /* for the second pass over If-None-Match */
	bool none_matched; /* result of that pass */
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct req_headers *h = cls;

	if (!key || !value)
		return MHD_YES;
	if (!strcasecmp(key, MHD_HTTP_HEADER_RANGE)) {
		if (h->n_range++ == 0)
			h->range = value;
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_IF_RANGE)) {
		if (h->n_if_range++ == 0)
			h->if_range = value;
	} else if (!strcasecmp(key, MHD_HTTP_HEADER_IF_NONE_MATCH)) {
		h->n_if_none_match++;
	}
	return MHD_YES;
}

/* If-None-Match may come as several fields, which together form one list. */
static enum MHD_Result match_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct req_headers *h = cls;

	if (key && value && !strcasecmp(key, MHD_HTTP_HEADER_IF_NONE_MATCH) &&
	    upks_serve_etag_list_has(value, h->etag)) {
		h->none_matched = true;
		return MHD_NO; /* stop iterating */
	}
	return MHD_YES;
}

static void close_fdp(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static enum MHD_Result queue_static(struct MHD_Connection *c, struct conn_ctx *ctx, bool head,
				    unsigned status, struct MHD_Response *r, size_t body_len)
{
	ctx->status = status;
	ctx->bytes = head ? 0 : body_len;
	return MHD_queue_response(c, status, r);
}

/*
 * Open rel beneath the repository: the kernel refuses any resolution that
 * leaves it (symbolic links pointing out, however chained) and magic links.
 * O_NONBLOCK so that a FIFO planted in the repository cannot hang a worker;
 * it is refused afterwards as not a regular file. Returns fd or -errno.
 */
static int open_beneath(int repo_fd, const char *rel)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};

	/* EAGAIN: a concurrent rename raced the lookup; the next try sees one state. */
	for (int attempt = 0; attempt < 4; attempt++) {
		long fd = syscall(SYS_openat2, repo_fd, rel, &how, sizeof(how));

		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}

/* pread exactly len bytes at offset; false on error or a file that shrank. */
static bool read_exact(int fd, char *buf, size_t len, uint64_t offset)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, (off_t)offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
		offset += (uint64_t)n;
	}
	return true;
}

/*
 * The body [offset, offset+len) of the open file *fd: copied into the
 * connection's buffer when small (see INLINE_BODY_MAX), else sent with
 * sendfile, in which case the response owns the descriptor and *fd becomes
 * -1. NULL on failure.
 */
static struct MHD_Response *body_response(struct conn_ctx *ctx, int *fd, bool head, uint64_t offset,
					  uint64_t len)
{
	struct MHD_Response *r;

	if (!head && len <= INLINE_BODY_MAX) {
		if (!ctx->inline_body)
			ctx->inline_body = malloc(INLINE_BODY_MAX);
		if (ctx->inline_body) {
			if (!read_exact(*fd, ctx->inline_body, (size_t)len, offset))
				return NULL;
			return MHD_create_response_from_buffer((size_t)len, ctx->inline_body,
							       MHD_RESPMEM_PERSISTENT);
		}
	}
	/* HEAD and 304 never read the descriptor: libmicrohttpd sends no body. */
	r = MHD_create_response_from_fd_at_offset64(len, *fd, offset);
	if (r)
		*fd = -1;
	return r;
}

static enum MHD_Result add_headers(struct MHD_Response *r, const char *etag, const char *type,
				   const char *content_range)
{
	if (etag && MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag) != MHD_YES)
		return MHD_NO;
	if (type && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES)
		return MHD_NO;
	if (type && MHD_add_response_header(r, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes") != MHD_YES)
		return MHD_NO;
	if (content_range &&
	    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_RANGE, content_range) != MHD_YES)
		return MHD_NO;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct upks_server *s = cls;
	struct conn_ctx *ctx = *req_cls;
	struct req_headers h = { 0 };
	char rel[UPKS_SERVE_PATH_MAX];
	char etag[UPKS_SERVE_ETAG_SIZE];
	char content_range[96];
	struct upks_range range = { 0 };
	enum upks_range_kind kind;
	struct MHD_Response *r;
	struct stat st;
	enum MHD_Result ret;
	unsigned status;
	bool head;
	int fd = -1;
	_cleanup_(close_fdp) int owned_fd = -1;

	if (!ctx)
		return MHD_NO; /* no memory for the connection: drop it */
	head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
	if (ctx->stage == REQ_NEW) {
		/*
		 * libmicrohttpd 0.9.75 closes the connection after a response
		 * queued in this first call (it will not read past it), so GET
		 * and HEAD are answered in the next call, at the end of the
		 * request, which keeps the connection alive. Other methods are
		 * refused now, and their body is never read.
		 */
		copy_str(ctx->method, sizeof(ctx->method), method);
		ctx->stage = REQ_HEADERS;
		if (head || !strcmp(method, MHD_HTTP_METHOD_GET))
			return MHD_YES;
		ctx->stage = REQ_ANSWERED;
		MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &h);
		copy_str(ctx->range, sizeof(ctx->range), h.range);
		return queue_static(c, ctx, false, MHD_HTTP_METHOD_NOT_ALLOWED, s->resp_405,
				    sizeof(body_405) - 1);
	}
	if (ctx->stage == REQ_ANSWERED || *upload_data_size != 0) {
		/* A body on GET means nothing (RFC 9110 §9.3.1): dropped. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	ctx->stage = REQ_ANSWERED;
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, &h);
	copy_str(ctx->range, sizeof(ctx->range), h.range);
	if (upks_serve_path_resolve(url, rel, sizeof(rel), NULL) != UPK_OK)
		return queue_static(c, ctx, head, MHD_HTTP_NOT_FOUND, s->resp_404,
				    sizeof(body_404) - 1);
	fd = open_beneath(s->repo_fd, rel);
	if (fd < 0) {
		switch (-fd) {
		case EMFILE:
		case ENFILE:
		case ENOMEM:
		case EAGAIN:
			return queue_static(c, ctx, head, MHD_HTTP_SERVICE_UNAVAILABLE, s->resp_503,
					    sizeof(body_503) - 1);
		case EIO:
			return queue_static(c, ctx, head, MHD_HTTP_INTERNAL_SERVER_ERROR,
					    s->resp_500, sizeof(body_500) - 1);
		default:
			/* ENOENT, ENOTDIR, EXDEV and ELOOP (leaves the repository), EACCES... */
			return queue_static(c, ctx, head, MHD_HTTP_NOT_FOUND, s->resp_404,
					    sizeof(body_404) - 1);
		}
	}
	owned_fd = fd;
	if (fstat(fd, &st) != 0)
		return queue_static(c, ctx, head, MHD_HTTP_INTERNAL_SERVER_ERROR, s->resp_500,
				    sizeof(body_500) - 1);
	if (!S_ISREG(st.st_mode))
		return queue_static(c, ctx, head, MHD_HTTP_NOT_FOUND, s->resp_404,
				    sizeof(body_404) - 1);

	upks_serve_etag_format(
		(uint64_t)st.st_ino, (uint64_t)st.st_size,
		(uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec, etag);
	if (h.n_if_none_match) {
		h.etag = etag;
		MHD_get_connection_values(c, MHD_HEADER_KIND, match_header, &h);
	}

	if (h.none_matched) {
		/* 304: the body is never sent, but Content-Length must be the 200's. */
		status = MHD_HTTP_NOT_MODIFIED;
		r = body_response(ctx, &owned_fd, true, 0, (uint64_t)st.st_size);
		ret = r ? add_headers(r, etag, NULL, NULL) : MHD_NO;
		ctx->bytes = 0;
	} else {
		kind = h.n_range > 1
			       ? UPKS_RANGE_MALFORMED
			       : upks_serve_range_parse(h.range, (uint64_t)st.st_size, &range);
		if (kind != UPKS_RANGE_FULL &&
		    (h.n_if_range > 1 || !upks_serve_if_range_is_fresh(h.if_range, etag)))
			kind = UPKS_RANGE_FULL; /* If-Range: the file changed, send it whole */
		switch (kind) {
		case UPKS_RANGE_PARTIAL:
			status = MHD_HTTP_PARTIAL_CONTENT;
			snprintf(content_range, sizeof(content_range),
				 "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64, range.first,
				 range.first + range.length - 1, (uint64_t)st.st_size);
			r = body_response(ctx, &owned_fd, head, range.first, range.length);
			ret = r ? add_headers(r, etag, upks_serve_content_type(rel), content_range)
				: MHD_NO;
			ctx->bytes = head ? 0 : range.length;
			break;
		case UPKS_RANGE_UNSATISFIABLE:
		case UPKS_RANGE_MALFORMED:
			status = MHD_HTTP_RANGE_NOT_SATISFIABLE;
			snprintf(content_range, sizeof(content_range), "bytes */%" PRIu64,
				 (uint64_t)st.st_size);
			r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
			ret = r ? add_headers(r, NULL, NULL, content_range) : MHD_NO;
			ctx->bytes = 0;
			break;
		case UPKS_RANGE_FULL:
		default:
			status = MHD_HTTP_OK;
			r = body_response(ctx, &owned_fd, head, 0, (uint64_t)st.st_size);
			ret = r ? add_headers(r, etag, upks_serve_content_type(rel), NULL) : MHD_NO;
			ctx->bytes = head ? 0 : (uint64_t)st.st_size;
			break;
		}
	}
	if (!r)
		return queue_static(c, ctx, head, MHD_HTTP_SERVICE_UNAVAILABLE, s->resp_503,
				    sizeof(body_503) - 1);
	if (ret == MHD_YES)
		ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	if (ret != MHD_YES)
		return queue_static(c, ctx, head, MHD_HTTP_SERVICE_UNAVAILABLE, s->resp_503,
				    sizeof(body_503) - 1);
	ctx->status = status;
	return MHD_YES;
}

static struct MHD_Response *static_response(const char *body, size_t len, const char *allow,
					    const char *retry_after)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
								 MHD_RESPMEM_PERSISTENT);

	if (!r)
		return NULL;
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8") !=
		    MHD_YES ||
	    (allow && MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow) != MHD_YES) ||
	    (retry_after &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, retry_after) != MHD_YES)) {
		MHD_destroy_response(r);
		return NULL;
	}
	return r;
}

static void *tick_main(void *arg)
{
	struct upks_server *s = arg;

	pthread_mutex_lock(&s->tick_lock);
	while (!s->tick_stop) {
		struct timespec deadline;

		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += s->tick_interval_ms / 1000;
		deadline.tv_nsec += (long)(s->tick_interval_ms % 1000) * 1000000L;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
		while (!s->tick_stop &&
		       pthread_cond_timedwait(&s->tick_cond, &s->tick_lock, &deadline) != ETIMEDOUT)
			;
		if (s->tick_stop)
			break;
		pthread_mutex_unlock(&s->tick_lock);
		s->tick(s->tick_ctx);
		pthread_mutex_lock(&s->tick_lock);
	}
	pthread_mutex_unlock(&s->tick_lock);
	return NULL;
}

static enum upk_err start_tick(struct upks_server *s, struct upk_diag *diag)
{
	pthread_condattr_t attr;
	int rc;

	if (pthread_condattr_init(&attr) != 0)
		return upk_diag_set(diag, UPK_E_NOMEM, NULL, -1, "cannot set up the timer");
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (rc == 0)
		rc = pthread_cond_init(&s->tick_cond, &attr);
	pthread_condattr_destroy(&attr);
	if (rc != 0)
		return upk_diag_set(diag, UPK_E_INTERNAL, NULL, -1, "cannot set up the timer: %s",
				    strerror(rc));
	rc = pthread_mutex_init(&s->tick_lock, NULL);
	if (rc == 0) {
		rc = pthread_create(&s->tick_thread, NULL, tick_main, s);
		if (rc != 0)
			pthread_mutex_destroy(&s->tick_lock);
	}
	if (rc != 0) {
		pthread_cond_destroy(&s->tick_cond);
		return upk_diag_set(diag, UPK_E_INTERNAL, NULL, -1,
				    "cannot start the timer thread: %s", strerror(rc));
	}
	s->tick_started = true;
	return UPK_OK;
}

static void stop_tick(struct upks_server *s)
{
	if (!s->tick_started)
		return;
	pthread_mutex_lock(&s->tick_lock);
	s->tick_stop = true;
	pthread_cond_signal(&s->tick_cond);
	pthread_mutex_unlock(&s->tick_lock);
	pthread_join(s->tick_thread, NULL);
	pthread_cond_destroy(&s->tick_cond);
	pthread_mutex_destroy(&s->tick_lock);
	s->tick_started = false;
}

static unsigned online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n >= 1 && n <= 1024 ? (unsigned)n : 1;
}

static enum upk_err listen_socket(struct upks_server *s, const struct upks_serve_opts *opts,
				  int *ret_fd, struct upk_diag *diag)
{
	const struct sockaddr *sa = opts->listen_addr;
	int one = 1;
	int fd, e;

	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return upk_diag_set(diag, UPK_E_NETWORK, "--listen", -1, "socket: %s",
				    strerror(errno));
	/* Restart right after a stop without waiting for TIME_WAIT to drain. */
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "[::]" means IPv6 only: an IPv4 listener is asked for by its own address. */
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, sa, opts->listen_addr_len) != 0 || listen(fd, SOMAXCONN) != 0) {
		e = errno;
		close(fd);
		return upk_diag_set(diag, e == EADDRINUSE ? UPK_E_NETWORK : UPK_E_CONFIG,
				    "--listen", -1, "cannot listen: %s", strerror(e));
	}
	s->addr_len = sizeof(s->addr);
	if (getsockname(fd, (struct sockaddr *)&s->addr, &s->addr_len) != 0) {
		e = errno;
		close(fd);
		return upk_diag_set(diag, UPK_E_NETWORK, "--listen", -1, "getsockname: %s",
				    strerror(e));
	}
	*ret_fd = fd;
	return UPK_OK;
}

static void free_server(struct upks_server *s)
{
	if (s->resp_404)
		MHD_destroy_response(s->resp_404);
	if (s->resp_405)
		MHD_destroy_response(s->resp_405);
	if (s->resp_500)
		MHD_destroy_response(s->resp_500);
	if (s->resp_503)
		MHD_destroy_response(s->resp_503);
	if (s->repo_fd >= 0)
		close(s->repo_fd);
	free(s);
}

UPK_DEFINE_CLEANUP(struct upks_server, free_server)

enum upk_err upks_serve_start(const struct upks_serve_opts *opts, struct upks_server **ret,
			      struct upk_diag *reterr_diag)
{
	_cleanup_(free_serverp) struct upks_server *s = NULL;
	unsigned max_conn, timeout, threads;
	sigset_t all, old;
	enum upk_err err;
	int listen_fd = -1;
	int probe;

	assert(opts && opts->repo && opts->listen_addr && ret);
	assert(!opts->tick || opts->tick_interval_ms >= 1);
	s = calloc(1, sizeof(*s));
	if (!s)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, "out of memory");
	s->repo_fd = -1;
	s->log_fd = opts->access_log_fd;
	s->tick = opts->tick;
	s->tick_ctx = opts->tick_ctx;
	s->tick_interval_ms = opts->tick_interval_ms;
	max_conn =
		opts->max_connections ? opts->max_connections : UPKS_SERVE_DEFAULT_MAX_CONNECTIONS;
	timeout = opts->timeout_s ? opts->timeout_s : UPKS_SERVE_DEFAULT_TIMEOUT_S;
	threads = opts->threads ? opts->threads : online_cpus();
	if (threads > max_conn)
		threads = max_conn; /* a worker gets max_conn / threads connections */

	s->repo_fd = open(opts->repo, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (s->repo_fd < 0)
		return upk_diag_set(reterr_diag, UPK_E_CONFIG, opts->repo, -1,
				    "cannot open the repository directory: %s", strerror(errno));
	/* Refuse to serve at all where the kernel cannot confine lookups. */
	probe = open_beneath(s->repo_fd, ".");
	if (probe == -ENOSYS)
		return upk_diag_set(reterr_diag, UPK_E_IO, opts->repo, -1,
				    "openat2 is not available (Linux 5.6 or later is needed)");
	if (probe < 0)
		return upk_diag_set(reterr_diag, UPK_E_CONFIG, opts->repo, -1,
				    "cannot open the repository directory: %s", strerror(-probe));
	close(probe);

	s->resp_404 = static_response(body_404, sizeof(body_404) - 1, NULL, NULL);
	s->resp_405 = static_response(body_405, sizeof(body_405) - 1, "GET, HEAD", NULL);
	s->resp_500 = static_response(body_500, sizeof(body_500) - 1, NULL, NULL);
	s->resp_503 = static_response(body_503, sizeof(body_503) - 1, NULL, "1");
	if (!s->resp_404 || !s->resp_405 || !s->resp_500 || !s->resp_503)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, "out of memory");

	err = listen_socket(s, opts, &listen_fd, reterr_diag);
	if (err != UPK_OK)
		return err;

	/* Threads inherit the mask: signals go to the caller's thread only. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	s->starter = pthread_self();
	s->starting = true;
	/*
	 * MHD_USE_ITC: without it a stop wakes the workers by shutting the
	 * listening socket down, which a worker at its connection limit has
	 * taken out of its epoll set, so the stop waited for the idle timeout.
	 */
	s->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC, 0, NULL, NULL,
		on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_logger, s, MHD_OPTION_LISTEN_SOCKET,
		listen_fd, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT,
		max_conn, MHD_OPTION_CONNECTION_TIMEOUT, timeout,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)UPKS_SERVE_REQUEST_MEMORY,
		MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, NULL, MHD_OPTION_URI_LOG_CALLBACK,
		on_uri, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_END);
	s->starting = false;
	err = UPK_OK;
	if (!s->daemon) {
		close(listen_fd);
		err = upk_diag_set(reterr_diag, UPK_E_INTERNAL, NULL, -1,
				   "cannot start the HTTP server%s%s", s->mhd_error[0] ? ": " : "",
				   s->mhd_error);
	} else if (s->tick) {
		err = start_tick(s, reterr_diag);
		if (err != UPK_OK) {
			MHD_stop_daemon(s->daemon);
			s->daemon = NULL;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != UPK_OK)
		return err;
	*ret = s;
	s = NULL;
	return UPK_OK;
}

void upks_serve_address(const struct upks_server *s, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	if (s->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)&s->addr;

		if (!inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host)))
			host[0] = '\0';
		snprintf(buf, size, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
	} else {
		const struct sockaddr_in *a = (const struct sockaddr_in *)&s->addr;

		if (!inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host)))
			host[0] = '\0';
		snprintf(buf, size, "%s:%u", host, (unsigned)ntohs(a->sin_port));
	}
}

void upks_serve_stop(struct upks_server *s)
{
	if (!s)
		return;
	/*
	 * MHD_stop_daemon closes the listening socket first, then every
	 * connection. A drain (MHD_quiesce_daemon) is not used: in 0.9.75 it
	 * races a worker that removes the listening socket from its epoll set
	 * at the connection limit, and the loser calls MHD_PANIC. Clients
	 * resume an aborted download with Range.
	 */
	MHD_stop_daemon(s->daemon);
	s->daemon = NULL;
	stop_tick(s);
	free_server(s);
}
