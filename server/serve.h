/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * upkeep-server serve: the HTTP server for the repository files
 * (DESIGN.md "Server", CLI.md "upkeep-server"; the user-facing description
 * is upkeep-server-serve.1.md beside this file).
 *
 * It serves GET and HEAD for /metadata/... and /targets/... from the
 * repository directory, with single byte ranges, strong ETags and
 * If-None-Match, and nothing else: a TUF repository is static files, and
 * every decision the client makes rests on signatures, not on this server.
 * What this server must get right is the boundary: no request reaches a
 * byte outside the repository directory.
 *
 * Two halves (STYLE.md "functional core, imperative shell"):
 *  - pure functions on strings (request path, Range, ETag lists, listen
 *    address, access-log line): no I/O, reentrant, unit-tested and safe on
 *    any input;
 *  - the server (upks_serve_start/_stop) on libmicrohttpd, which calls them.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "err.h"

/* ---- request path ---------------------------------------------------- */

/* Longest decoded request path accepted, in bytes, leading "/" included. */
#define UPKS_SERVE_PATH_MAX 1024
/* Longest path segment accepted (NAME_MAX of Linux file systems). */
#define UPKS_SERVE_SEGMENT_MAX 255

/*
 * Map the path of a request target to a path relative to the repository
 * directory ("metadata/1.root.json"), or refuse it.
 *
 * `url` is the path exactly as it came on the request line, before any
 * percent-decoding and without the query: the server installs an identity
 * unescape callback in libmicrohttpd, because MHD 0.9.75's default decoder
 * turns "%00" into a NUL that silently truncates the path it hands over
 * ("/targets/a%00b" would become "/targets/a"). Decoding happens here,
 * once, and every check is made on the decoded bytes:
 *  - %HH escapes are decoded (either case); a '%' not followed by two hex
 *    digits is refused; an encoded '/' acts as a separator like a plain one;
 *  - the decoded path must start with "/metadata/" or "/targets/";
 *  - refused: any empty segment ("//", a trailing '/'), "." or "..",
 *    a NUL, backslash or control byte (0x00-0x1f, 0x7f), a segment longer
 *    than UPKS_SERVE_SEGMENT_MAX, a decoded path longer than
 *    UPKS_SERVE_PATH_MAX, anything not starting with '/' (absolute-form
 *    "http://host/..." and "*" included).
 * This is a lexical check only; symbolic links are the kernel's part
 * (openat2 with RESOLVE_BENEATH in the server).
 *
 * On success writes the relative path (NUL-terminated) to ret_rel, which
 * must have room for UPKS_SERVE_PATH_MAX bytes, and returns UPK_OK. On
 * refusal returns UPK_E_NOT_FOUND (the server answers 404) with the reason
 * in reterr_diag, and leaves ret_rel untouched.
 */
UPK_WUR enum upk_err upks_serve_path_resolve(const char *url, char *ret_rel, size_t rel_size,
					     struct upk_diag *reterr_diag);

/* ---- Range ----------------------------------------------------------- */

/*
 * What a Range header asks of a file of a given size (RFC 9110 §14):
 *  FULL            no Range header, a range unit other than "bytes" (which
 *                  RFC 9110 says to ignore), or several ranges: 200 with the
 *                  whole file. Multipart answers are not produced; RFC 9110
 *                  §14.2 lets a server ignore Range, and TUF clients fetch
 *                  single ranges.
 *  PARTIAL         one satisfiable range: 206 with *ret filled.
 *  UNSATISFIABLE   one well-formed range that selects nothing (first byte at
 *                  or past the end, "-0", any range of an empty file):
 *                  416, with a Content-Range of "bytes", "*", "/" and the
 *                  size (RFC 9110 §14.4).
 *  MALFORMED       "bytes=" followed by something that is not a range-set
 *                  (no digits, last < first, junk, no range at all): 416 as
 *                  well, which RFC 9110 §14.2 allows ("MAY ... reject"), so
 *                  a buggy client hears about it instead of silently
 *                  downloading the whole file.
 */
enum upks_range_kind {
	UPKS_RANGE_FULL,
	UPKS_RANGE_PARTIAL,
	UPKS_RANGE_UNSATISFIABLE,
	UPKS_RANGE_MALFORMED,
};

struct upks_range {
	uint64_t first;	 /* offset of the first byte */
	uint64_t length; /* >= 1, first + length <= size */
};

/*
 * Classify `header` (the Range field value, NULL when absent) for a file of
 * `size` bytes. The unit "bytes" is matched case-insensitively; optional
 * white space (SP, HTAB) around list elements and empty list elements are
 * accepted (RFC 9110 §5.6.1). "a-b" with b past the end is clamped to the
 * end; "-n" with n larger than the file is the whole file; numbers too
 * large for uint64_t saturate. *ret is written only for PARTIAL.
 */
enum upks_range_kind upks_serve_range_parse(const char *header, uint64_t size,
					    struct upks_range *ret);

/* ---- ETag and conditional requests ----------------------------------- */

/* Room for a formatted ETag, quotes and NUL included. */
#define UPKS_SERVE_ETAG_SIZE 64

/*
 * A strong ETag for a file: "<inode>-<size>-<mtime ns>" in lower-case hex,
 * in double quotes. The repository replaces files by rename, which gives a
 * new inode; an in-place rewrite changes size or mtime. Two different
 * contents with the same triple need an in-place rewrite of the same
 * length within one mtime tick, which the release commands never do.
 */
void upks_serve_etag_format(uint64_t ino, uint64_t size, uint64_t mtime_ns,
			    char ret[UPKS_SERVE_ETAG_SIZE]);

/*
 * True if an If-None-Match field value matches `etag` (a value from
 * upks_serve_etag_format): "*", or a list member equal to it under the weak
 * comparison of RFC 9110 §8.8.3.2 (a "W/" prefix is ignored). A malformed
 * list never matches, so the worst a bad header gets is a full 200.
 * NULL header: false.
 */
bool upks_serve_etag_list_has(const char *if_none_match, const char *etag);

/*
 * True if an If-Range field value lets a Range apply (RFC 9110 §13.1.5):
 * it must be exactly `etag` (strong comparison; a weak tag never matches).
 * A date never matches, since the server sends no Last-Modified. NULL
 * header (no If-Range): true.
 */
bool upks_serve_if_range_is_fresh(const char *if_range, const char *etag);

/* "application/json" for names ending in ".json", else "application/octet-stream". */
const char *upks_serve_content_type(const char *rel_path);

/* ---- listen address and access log ----------------------------------- */

/*
 * Parse "HOST:PORT" where HOST is an IPv4 literal ("127.0.0.1") or a
 * bracketed IPv6 literal ("[::1]") and PORT is 0-65535 in decimal (0: the
 * kernel picks a free port). Host names are refused: the server never does
 * name resolution. UPK_E_USAGE on anything else; outputs untouched then.
 */
UPK_WUR enum upk_err upks_serve_listen_parse(const char *spec, struct sockaddr_storage *ret_addr,
					     socklen_t *ret_len, struct upk_diag *reterr_diag);

/* Room for one access-log line, newline and NUL included. */
#define UPKS_SERVE_LOG_LINE_MAX 1400

/*
 * Format one access-log line:
 *     METHOD PATH RANGE STATUS BYTES[ incomplete=REASON]\n
 * e.g. "GET /targets/ab.x bytes=0-99 206 100". PATH is the request path as
 * sent (not decoded, without the query); RANGE is the Range field value or
 * "-"; STATUS is "-" when no response was queued (status 0); BYTES is the
 * body length of the response (0 for HEAD and 304). Fields come from the
 * network, so every byte outside 0x21-0x7e is written as %HH (a line never
 * splits or carries terminal escapes), an empty or NULL field is "-", and
 * over-long fields are cut with "..." (METHOD at 16 bytes, PATH at 1024,
 * RANGE at 128). `incomplete` is NULL for a response that went out whole.
 * Always NUL-terminates; returns the line length (without the NUL).
 * `size` must be at least UPKS_SERVE_LOG_LINE_MAX.
 */
size_t upks_serve_log_format(char *buf, size_t size, const char *method, const char *path,
			     const char *range, unsigned status, uint64_t bytes,
			     const char *incomplete);

/* ---- the server ------------------------------------------------------ */

#define UPKS_SERVE_DEFAULT_MAX_CONNECTIONS 1000
#define UPKS_SERVE_DEFAULT_TIMEOUT_S	   30
/*
 * Memory per connection for the request line and headers (and the response
 * header): a request whose line or headers do not fit gets 414 or 431 from
 * libmicrohttpd and the connection is closed.
 */
#define UPKS_SERVE_REQUEST_MEMORY (16 * 1024)

struct upks_serve_opts {
	const char *repo;		    /* repository directory */
	const struct sockaddr *listen_addr; /* from upks_serve_listen_parse */
	socklen_t listen_addr_len;
	unsigned max_connections; /* 0: UPKS_SERVE_DEFAULT_MAX_CONNECTIONS */
	unsigned timeout_s;	  /* idle timeout per connection; 0: the default */
	unsigned threads;	  /* worker threads; 0: one per online CPU */
	int access_log_fd;	  /* -1: none; not closed by the server */
	/*
	 * Periodic work (timestamp re-signing): if tick is not NULL it is
	 * called every tick_interval_ms (>= 1) from one thread of the server,
	 * never concurrently with itself and never after upks_serve_stop
	 * returns. A tick that runs long delays the next one; it does not
	 * block serving.
	 */
	void (*tick)(void *ctx);
	void *tick_ctx;
	unsigned tick_interval_ms;
};

struct upks_server;

/*
 * Open the repository (UPK_E_CONFIG naming it if it is not a directory we
 * can open), bind and listen on opts->listen_addr (UPK_E_NETWORK if the
 * address is in use, UPK_E_CONFIG if it cannot be bound), and start serving
 * on worker threads. The server's threads run with every signal blocked, so
 * the caller decides how signals are taken (cmd_serve waits for SIGTERM
 * and SIGINT). Nothing of opts is kept after return except the callback
 * pointers. *ret untouched on failure.
 */
UPK_WUR enum upk_err upks_serve_start(const struct upks_serve_opts *opts, struct upks_server **ret,
				      struct upk_diag *reterr_diag);

/* The bound address as "127.0.0.1:8080" or "[::1]:8080" (port 0 resolved). */
void upks_serve_address(const struct upks_server *server, char *buf, size_t size);

/*
 * Stop: close the listening socket, abort responses in flight (each is
 * logged with "incomplete=shutdown"), stop the tick thread after its current
 * tick, free everything. NULL is accepted.
 */
void upks_serve_stop(struct upks_server *server);
