/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Hashing behind one small interface: SHA-256 and SHA-512 through OpenSSL
 * libcrypto (its SHA-NI path is ~7x faster than libsodium's portable
 * code on the reference machine; see shared/reference/anchors-measured.md).
 *
 * Streaming: upk_hash_init, any number of upk_hash_update, upk_hash_final,
 * then upk_hash_done (always; it accepts a context whose init failed).
 * A context may be re-used with another upk_hash_init after final.
 * init does not read the old contents of the context (it need not start as
 * UPK_HASH_CTX_INIT); final, successful or not, releases the OpenSSL state,
 * so done after final is a no-op. update or final on a context that is not
 * initialized (init failed, or after final) returns UPK_E_INTERNAL.
 * Errors: UPK_E_NOMEM, UPK_E_INTERNAL (invalid algorithm, provider failure).
 *
 * The low-level SHA functions are used, not EVP (see hash.c for why).
 *
 * THREAD SAFETY: a context belongs to one thread; the functions are reentrant.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum upk_hash_alg {
	UPK_HASH_SHA256,
	UPK_HASH_SHA512,
};

#define UPK_HASH_MAX_LEN 64
#define UPK_SHA256_LEN	 32
#define UPK_SHA512_LEN	 64

/* Digest length in bytes. */
size_t upk_hash_len(enum upk_hash_alg alg);
/* TUF name: "sha256", "sha512"; "unknown" for a value outside the enum. */
const char *upk_hash_name(enum upk_hash_alg alg);
/*
 * Parse a TUF hash algorithm name (exact, lower case); false if unsupported
 * or NULL, *ret untouched then.
 */
bool upk_hash_from_name(const char *name, enum upk_hash_alg *ret);

struct upk_hash_ctx {
	void *md_ctx; /* the SHA state, NULL before init and after done */
	enum upk_hash_alg alg;
};

#define UPK_HASH_CTX_INIT             \
	{                             \
		NULL, UPK_HASH_SHA256 \
	}

UPK_WUR enum upk_err upk_hash_init(struct upk_hash_ctx *ctx, enum upk_hash_alg alg);
UPK_WUR enum upk_err upk_hash_update(struct upk_hash_ctx *ctx, const void *data, size_t len);
/* Writes upk_hash_len(alg) bytes to out. */
UPK_WUR enum upk_err upk_hash_final(struct upk_hash_ctx *ctx, uint8_t out[UPK_HASH_MAX_LEN]);
void upk_hash_done(struct upk_hash_ctx *ctx);

UPK_WUR enum upk_err upk_hash_oneshot(enum upk_hash_alg alg, const void *data, size_t len,
				      uint8_t out[UPK_HASH_MAX_LEN]);

/* Comparison of n bytes in time independent of their contents (CRYPTO_memcmp); true for n = 0. */
bool upk_hash_equal(const uint8_t *a, const uint8_t *b, size_t n);
