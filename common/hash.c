/* SPDX-License-Identifier: Apache-2.0 */
#include "hash.h"

/*
 * The low-level SHA-256/SHA-512 functions, not EVP: OpenSSL 3 marks them
 * deprecated, but they run the same SHA-NI/AVX2 block code as the default
 * provider without loading the provider machinery and the configuration
 * file, which EVP's first digest does. That first EVP digest costs 1.7 MiB of
 * peak RSS (measured: 6.7 MiB against 5.0 MiB for a process hashing 1.6 MB),
 * a fifth of the client's whole memory goal (issue 5), and about 1 ms of
 * start-up. ECDSA and RSA verification (sig.c) still go through EVP, so the
 * providers are loaded only by a process that meets such a key.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

union sha_state {
	SHA256_CTX s256;
	SHA512_CTX s512;
};

size_t upk_hash_len(enum upk_hash_alg alg)
{
	switch (alg) {
	case UPK_HASH_SHA256:
		return UPK_SHA256_LEN;
	case UPK_HASH_SHA512:
		return UPK_SHA512_LEN;
	}
	return 0;
}

const char *upk_hash_name(enum upk_hash_alg alg)
{
	switch (alg) {
	case UPK_HASH_SHA256:
		return "sha256";
	case UPK_HASH_SHA512:
		return "sha512";
	}
	return "unknown";
}

bool upk_hash_from_name(const char *name, enum upk_hash_alg *ret)
{
	if (!name)
		return false;
	if (strcmp(name, "sha256") == 0) {
		*ret = UPK_HASH_SHA256;
		return true;
	}
	if (strcmp(name, "sha512") == 0) {
		*ret = UPK_HASH_SHA512;
		return true;
	}
	return false;
}

/*
 * init never reads the old md_ctx (so a context declared without
 * UPK_HASH_CTX_INIT still works) and final releases it, which is what lets
 * "init again after final" and "done after anything" both hold without a
 * leak or a double free.
 */
enum upk_err upk_hash_init(struct upk_hash_ctx *ctx, enum upk_hash_alg alg)
{
	union sha_state *st;
	int ok = 0;

	ctx->md_ctx = NULL;
	ctx->alg = alg;
	if (upk_hash_len(alg) == 0)
		return UPK_E_INTERNAL;
	st = malloc(sizeof(*st));
	if (!st)
		return UPK_E_NOMEM;
	switch (alg) {
	case UPK_HASH_SHA256:
		ok = SHA256_Init(&st->s256);
		break;
	case UPK_HASH_SHA512:
		ok = SHA512_Init(&st->s512);
		break;
	}
	if (ok != 1) {
		free(st);
		return UPK_E_INTERNAL;
	}
	ctx->md_ctx = st;
	return UPK_OK;
}

enum upk_err upk_hash_update(struct upk_hash_ctx *ctx, const void *data, size_t len)
{
	union sha_state *st = ctx->md_ctx;
	int ok = 0;

	if (!st)
		return UPK_E_INTERNAL;
	if (len == 0)
		return UPK_OK;
	switch (ctx->alg) {
	case UPK_HASH_SHA256:
		ok = SHA256_Update(&st->s256, data, len);
		break;
	case UPK_HASH_SHA512:
		ok = SHA512_Update(&st->s512, data, len);
		break;
	}
	return ok == 1 ? UPK_OK : UPK_E_INTERNAL;
}

enum upk_err upk_hash_final(struct upk_hash_ctx *ctx, uint8_t out[UPK_HASH_MAX_LEN])
{
	union sha_state *st = ctx->md_ctx;
	int ok = 0;

	if (!st)
		return UPK_E_INTERNAL;
	switch (ctx->alg) {
	case UPK_HASH_SHA256:
		ok = SHA256_Final(out, &st->s256);
		break;
	case UPK_HASH_SHA512:
		ok = SHA512_Final(out, &st->s512);
		break;
	}
	upk_hash_done(ctx);
	return ok == 1 ? UPK_OK : UPK_E_INTERNAL;
}

void upk_hash_done(struct upk_hash_ctx *ctx)
{
	if (!ctx || !ctx->md_ctx)
		return;
	/* The state is a function of the data hashed (a secret for a key file's KEK input). */
	OPENSSL_cleanse(ctx->md_ctx, sizeof(union sha_state));
	free(ctx->md_ctx);
	ctx->md_ctx = NULL;
}

/* Not SHA256()/SHA512(): in OpenSSL 3 those one-shots go through EVP (see above). */
enum upk_err upk_hash_oneshot(enum upk_hash_alg alg, const void *data, size_t len,
			      uint8_t out[UPK_HASH_MAX_LEN])
{
	union sha_state st;
	int ok = 0;

	switch (alg) {
	case UPK_HASH_SHA256:
		ok = SHA256_Init(&st.s256) == 1 &&
		     (len == 0 || SHA256_Update(&st.s256, data, len) == 1) &&
		     SHA256_Final(out, &st.s256) == 1;
		break;
	case UPK_HASH_SHA512:
		ok = SHA512_Init(&st.s512) == 1 &&
		     (len == 0 || SHA512_Update(&st.s512, data, len) == 1) &&
		     SHA512_Final(out, &st.s512) == 1;
		break;
	}
	OPENSSL_cleanse(&st, sizeof(st));
	return ok ? UPK_OK : UPK_E_INTERNAL;
}

bool upk_hash_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n == 0)
		return true;
	return CRYPTO_memcmp(a, b, n) == 0;
}
