/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Project-wide error codes and diagnostics.
 *
 * One enum upk_err for the whole project, generated from the table below
 * (libuv's UV_ERRNO_MAP habit). Numbers are stable and never reused: when a
 * code is retired, its row stays with the name UPK_E_OBSOLETE<number>. A new
 * code exists only where a caller acts differently on it (retry, refuse,
 * report the kind of attack), which is what the exit code column encodes
 * (CLI.md, "Exit codes").
 *
 * Detail travels in an optional struct upk_diag out-parameter, never in a
 * global "last error". Every function taking `struct upk_diag *reterr_diag`
 * accepts NULL there.
 *
 * THREAD SAFETY: everything here is reentrant.
 */
#include <stddef.h>
#include <stdint.h>

/* X(name, number, exit code, message) */
#define UPK_ERR_MAP(X)                                                    \
	X(OK, 0, 0, "success")                                            \
	X(NOMEM, 1, 1, "out of memory")                                   \
	X(IO, 2, 1, "input/output error")                                 \
	X(INTERNAL, 3, 1, "internal error")                               \
	X(USAGE, 4, 2, "usage error")                                     \
	X(CONFIG, 5, 2, "configuration error")                            \
	X(KEYFILE, 6, 2, "unusable key file")                             \
	X(PASSPHRASE, 7, 2, "wrong passphrase or altered key file")       \
	X(PERMISSION, 8, 2, "unsafe file permissions")                    \
	X(NETWORK, 9, 3, "network error")                                 \
	X(TIMEOUT, 10, 3, "timed out")                                    \
	X(SLOW, 11, 3, "slow retrieval: transfer rate below the minimum") \
	X(SERVER, 12, 3, "server error")                                  \
	X(LOCKED, 13, 3, "resource is locked by another process")         \
	X(FORMAT, 14, 10, "malformed data")                               \
	X(TOO_LARGE, 15, 10, "data exceeds its size limit")               \
	X(HASH, 16, 10, "hash mismatch")                                  \
	X(LENGTH, 17, 10, "length mismatch")                              \
	X(UNSUPPORTED, 18, 10, "unsupported algorithm or format version") \
	X(SIGNATURE, 19, 11, "bad signature")                             \
	X(THRESHOLD, 20, 11, "signature threshold not met")               \
	X(UNKNOWN_KEY, 21, 11, "unknown or unsupported key")              \
	X(ROLLBACK, 22, 12, "rollback: version lower than trusted")       \
	X(EXPIRED, 23, 13, "freeze: metadata expired")                    \
	X(INCOMPATIBLE, 24, 14, "incompatible with this device")          \
	X(NOSPACE, 25, 14, "not enough space")                            \
	X(HEALTH, 26, 15, "health check failed; rolled back")             \
	X(POLICY, 27, 16, "refused by policy")                            \
	X(NOT_FOUND, 28, 1, "not found")                                  \
	X(EXISTS, 29, 2, "already exists")

enum upk_err {
#define UPK_ERR_ENUM_(name, num, exitc, msg) UPK_E_##name = num,
	UPK_ERR_MAP(UPK_ERR_ENUM_)
#undef UPK_ERR_ENUM_
};
#define UPK_OK UPK_E_OK

#define UPK_WUR __attribute__((warn_unused_result))

/* Human message ("hash mismatch"); never NULL, "unknown error" for bad input. */
const char *upk_strerror(enum upk_err err);
/* Symbolic name without prefix ("HASH"); never NULL, "UNKNOWN" for bad input. */
const char *upk_err_name(enum upk_err err);
/* Process exit code for err (CLI.md); 1 for values outside the table. */
int upk_err_exit_code(enum upk_err err);

/*
 * Diagnostic detail for one failure: a one-line reason, the file, URL or
 * field it concerns, and a byte offset into that input (-1 when unknown).
 * Fixed-size so that filling it never allocates; long text is truncated.
 */
struct upk_diag {
	enum upk_err err;
	char reason[256];
	char where[256];
	int64_t offset;
};

/*
 * Fill diag (if not NULL) and return err, so callers can write
 * `return upk_diag_set(d, UPK_E_FORMAT, "signed.version", -1, "not an integer");`.
 * `where` may be NULL. An already-filled `where` is kept when `where` is NULL.
 */
enum upk_err upk_diag_set(struct upk_diag *diag, enum upk_err err, const char *where,
			  int64_t offset, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Reset diag to "no error". NULL is accepted. */
void upk_diag_clear(struct upk_diag *diag);

/*
 * Prefix the `where` field with a context ("root.json: signed.keys"): used
 * by outer layers to say which file an inner field error belongs to.
 */
void upk_diag_prefix_where(struct upk_diag *diag, const char *prefix);

/*
 * Format the CLI.md one-line error: "<where>: <reason> (<ERROR_NAME>)", or
 * "<reason> (<ERROR_NAME>)" without a where. Always NUL-terminates buf.
 */
void upk_diag_format(const struct upk_diag *diag, char *buf, size_t size);
