/* SPDX-License-Identifier: Apache-2.0 */
#include "hash.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#include "util.h"

/*
 * The digests are fetched from the default provider once per process: an
 * implicit fetch (EVP_sha256() handed to EVP_DigestInit) would look the
 * method up again on every init, which shows when a bundle is hashed as
 * thousands of 64 KiB chunks. The references are kept until exit on purpose
 * (reachable from these statics, so leak checkers stay quiet).
 */
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static EVP_MD *md_sha256;
static EVP_MD *md_sha512;

static void md_fetch_once(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	md_sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
	ERR_clear_error();
}

/* NULL for an invalid algorithm or when the provider lacks it. */
static const EVP_MD *md_for(enum upk_hash_alg alg)
{
	if (pthread_once(&md_once, md_fetch_once) != 0)
		return NULL;
	switch (alg) {
	case UPK_HASH_SHA256:
		return md_sha256;
	case UPK_HASH_SHA512:
		return md_sha512;
	}
	return NULL;
}

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
	const EVP_MD *md = md_for(alg);
	EVP_MD_CTX *c;

	ctx->md_ctx = NULL;
	ctx->alg = alg;
	if (!md)
		return UPK_E_INTERNAL;
	c = EVP_MD_CTX_new();
	if (!c)
		return UPK_E_NOMEM;
	if (EVP_DigestInit_ex2(c, md, NULL) != 1) {
		EVP_MD_CTX_free(c);
		ERR_clear_error();
		return UPK_E_INTERNAL;
	}
	ctx->md_ctx = c;
	return UPK_OK;
}

enum upk_err upk_hash_update(struct upk_hash_ctx *ctx, const void *data, size_t len)
{
	if (!ctx->md_ctx)
		return UPK_E_INTERNAL;
	if (len == 0)
		return UPK_OK;
	if (EVP_DigestUpdate(ctx->md_ctx, data, len) != 1) {
		ERR_clear_error();
		return UPK_E_INTERNAL;
	}
	return UPK_OK;
}

enum upk_err upk_hash_final(struct upk_hash_ctx *ctx, uint8_t out[UPK_HASH_MAX_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	int ok;

	if (!ctx->md_ctx)
		return UPK_E_INTERNAL;
	ok = EVP_DigestFinal_ex(ctx->md_ctx, md, &n);
	upk_hash_done(ctx);
	if (ok != 1 || n != upk_hash_len(ctx->alg)) {
		ERR_clear_error();
		return UPK_E_INTERNAL;
	}
	memcpy(out, md, n);
	return UPK_OK;
}

void upk_hash_done(struct upk_hash_ctx *ctx)
{
	if (!ctx)
		return;
	EVP_MD_CTX_free(ctx->md_ctx);
	ctx->md_ctx = NULL;
}

enum upk_err upk_hash_oneshot(enum upk_hash_alg alg, const void *data, size_t len,
			      uint8_t out[UPK_HASH_MAX_LEN])
{
	static const uint8_t empty[1];
	const EVP_MD *md = md_for(alg);
	uint8_t d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!md)
		return UPK_E_INTERNAL;
	if (EVP_Digest(len ? data : empty, len, d, &n, md, NULL) != 1 || n != upk_hash_len(alg)) {
		ERR_clear_error();
		return UPK_E_INTERNAL;
	}
	memcpy(out, d, n);
	return UPK_OK;
}

bool upk_hash_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (n == 0)
		return true;
	return CRYPTO_memcmp(a, b, n) == 0;
}
