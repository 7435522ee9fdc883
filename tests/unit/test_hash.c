/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for common/hash: the FIPS 180-2 example vectors for SHA-256 and
 * SHA-512 (one-shot and streaming), streaming split at every offset, names,
 * constant-time comparison and the context life cycle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hash.h"
#include "hex.h"

struct vector {
	enum upk_hash_alg alg;
	const char *msg; /* NULL: one million 'a' */
	const char *digest;
};

#define MSG448 "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
#define MSG896                                                                                     \
	"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqr" \
	"lmn"                                                                                      \
	"opqrsmnopqrstnopqrstu"

/* FIPS 180-2, appendices B and C (and the empty message). */
static const struct vector vectors[] = {
	{ UPK_HASH_SHA256, "abc",
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ UPK_HASH_SHA256, "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ UPK_HASH_SHA256, MSG448,
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ UPK_HASH_SHA256, NULL,
	  "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0" },
	{ UPK_HASH_SHA512, "abc",
	  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
	  "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
	{ UPK_HASH_SHA512, "",
	  "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
	  "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
	{ UPK_HASH_SHA512, MSG448,
	  "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c335"
	  "96fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445" },
	{ UPK_HASH_SHA512, MSG896,
	  "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
	  "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909" },
	{ UPK_HASH_SHA512, NULL,
	  "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
	  "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b" },
};

#define MILLION 1000000

static void hex_of(const uint8_t *d, size_t n, char *out)
{
	upk_hex_encode(d, n, out);
}

static void test_vectors_oneshot(void **state)
{
	uint8_t *million = malloc(MILLION);

	(void)state;
	assert_non_null(million);
	memset(million, 'a', MILLION);
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		const void *msg = v->msg ? (const void *)v->msg : million;
		size_t len = v->msg ? strlen(v->msg) : MILLION;
		uint8_t out[UPK_HASH_MAX_LEN];
		char hex[2 * UPK_HASH_MAX_LEN + 1];

		assert_int_equal(upk_hash_oneshot(v->alg, msg, len, out), UPK_OK);
		hex_of(out, upk_hash_len(v->alg), hex);
		assert_string_equal(hex, v->digest);
	}
	free(million);
}

/* The million 'a' fed as 1000 updates of 1000 bytes, the others byte by byte. */
static void test_vectors_streaming(void **state)
{
	uint8_t block[1000];

	(void)state;
	memset(block, 'a', sizeof(block));
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const struct vector *v = &vectors[i];
		struct upk_hash_ctx ctx = UPK_HASH_CTX_INIT;
		uint8_t out[UPK_HASH_MAX_LEN];
		char hex[2 * UPK_HASH_MAX_LEN + 1];

		assert_int_equal(upk_hash_init(&ctx, v->alg), UPK_OK);
		if (v->msg) {
			for (size_t j = 0; v->msg[j]; j++)
				assert_int_equal(upk_hash_update(&ctx, v->msg + j, 1), UPK_OK);
		} else {
			for (size_t j = 0; j < MILLION / sizeof(block); j++)
				assert_int_equal(upk_hash_update(&ctx, block, sizeof(block)),
						 UPK_OK);
		}
		assert_int_equal(upk_hash_final(&ctx, out), UPK_OK);
		upk_hash_done(&ctx);
		hex_of(out, upk_hash_len(v->alg), hex);
		assert_string_equal(hex, v->digest);
	}
}

/*
 * A 300-byte message (more than two SHA-512 blocks) cut into three parts at
 * every pair of offsets hashes like the one-shot, for both algorithms; empty
 * updates in between change nothing.
 */
static void test_split_at_every_offset(void **state)
{
	static const enum upk_hash_alg algs[] = { UPK_HASH_SHA256, UPK_HASH_SHA512 };
	uint8_t msg[300];

	(void)state;
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	for (size_t a = 0; a < 2; a++) {
		uint8_t want[UPK_HASH_MAX_LEN];

		assert_int_equal(upk_hash_oneshot(algs[a], msg, sizeof(msg), want), UPK_OK);
		for (size_t i = 0; i <= sizeof(msg); i++) {
			for (size_t j = i; j <= sizeof(msg); j += (i % 16 == 0) ? 1 : 37) {
				struct upk_hash_ctx ctx = UPK_HASH_CTX_INIT;
				uint8_t got[UPK_HASH_MAX_LEN];

				assert_int_equal(upk_hash_init(&ctx, algs[a]), UPK_OK);
				assert_int_equal(upk_hash_update(&ctx, msg, i), UPK_OK);
				assert_int_equal(upk_hash_update(&ctx, NULL, 0), UPK_OK);
				assert_int_equal(upk_hash_update(&ctx, msg + i, j - i), UPK_OK);
				assert_int_equal(upk_hash_update(&ctx, msg + j, sizeof(msg) - j),
						 UPK_OK);
				assert_int_equal(upk_hash_final(&ctx, got), UPK_OK);
				upk_hash_done(&ctx);
				assert_memory_equal(got, want, upk_hash_len(algs[a]));
			}
		}
	}
}

/* Hashing 64 KiB chunks in a loop re-uses one context: init after final, no done in between. */
static void test_reuse_after_final(void **state)
{
	struct upk_hash_ctx ctx = UPK_HASH_CTX_INIT;
	uint8_t *chunk = malloc(65536);
	uint8_t a[UPK_HASH_MAX_LEN], b[UPK_HASH_MAX_LEN];

	(void)state;
	assert_non_null(chunk);
	for (size_t i = 0; i < 65536; i++)
		chunk[i] = (uint8_t)(i >> 8 ^ i);
	for (int k = 0; k < 16; k++) {
		chunk[0] = (uint8_t)k;
		assert_int_equal(upk_hash_init(&ctx, k % 2 ? UPK_HASH_SHA512 : UPK_HASH_SHA256),
				 UPK_OK);
		assert_int_equal(upk_hash_update(&ctx, chunk, 65536), UPK_OK);
		assert_int_equal(upk_hash_final(&ctx, a), UPK_OK);
		assert_int_equal(upk_hash_oneshot(k % 2 ? UPK_HASH_SHA512 : UPK_HASH_SHA256, chunk,
						  65536, b),
				 UPK_OK);
		assert_memory_equal(a, b, k % 2 ? UPK_SHA512_LEN : UPK_SHA256_LEN);
	}
	upk_hash_done(&ctx);
	upk_hash_done(&ctx); /* twice is harmless */
	free(chunk);
}

/* init does not read what was in the context: a context never set to UPK_HASH_CTX_INIT works. */
static void test_init_on_dirty_context(void **state)
{
	struct upk_hash_ctx ctx;
	uint8_t out[UPK_HASH_MAX_LEN];
	char hex[2 * UPK_HASH_MAX_LEN + 1];

	(void)state;
	memset(&ctx, 0xa5, sizeof(ctx));
	assert_int_equal(upk_hash_init(&ctx, UPK_HASH_SHA256), UPK_OK);
	assert_int_equal(upk_hash_update(&ctx, "abc", 3), UPK_OK);
	assert_int_equal(upk_hash_final(&ctx, out), UPK_OK);
	upk_hash_done(&ctx);
	hex_of(out, UPK_SHA256_LEN, hex);
	assert_string_equal(hex, vectors[0].digest);
}

/* Misuse and bad algorithms fail cleanly: no crash, no leak, outputs untouched. */
static void test_lifecycle_errors(void **state)
{
	struct upk_hash_ctx ctx = UPK_HASH_CTX_INIT;
	uint8_t out[UPK_HASH_MAX_LEN], zero[UPK_HASH_MAX_LEN];

	(void)state;
	memset(out, 0x5a, sizeof(out));
	memset(zero, 0x5a, sizeof(zero));
	upk_hash_done(&ctx); /* done on a fresh context */
	upk_hash_done(NULL);

	/* update/final before init */
	assert_int_equal(upk_hash_update(&ctx, "x", 1), UPK_E_INTERNAL);
	assert_int_equal(upk_hash_final(&ctx, out), UPK_E_INTERNAL);

	/* init with an algorithm outside the enum, then done */
	assert_int_equal(upk_hash_init(&ctx, (enum upk_hash_alg)7), UPK_E_INTERNAL);
	assert_null(ctx.md_ctx);
	assert_int_equal(upk_hash_update(&ctx, "x", 1), UPK_E_INTERNAL);
	upk_hash_done(&ctx);

	/* update and final after final */
	assert_int_equal(upk_hash_init(&ctx, UPK_HASH_SHA256), UPK_OK);
	assert_int_equal(upk_hash_final(&ctx, out), UPK_OK);
	assert_null(ctx.md_ctx);
	memcpy(zero, out, sizeof(out));
	assert_int_equal(upk_hash_update(&ctx, "x", 1), UPK_E_INTERNAL);
	assert_int_equal(upk_hash_final(&ctx, out), UPK_E_INTERNAL);
	assert_memory_equal(out, zero, sizeof(out));
	upk_hash_done(&ctx);

	/* abandoned after update: done frees */
	assert_int_equal(upk_hash_init(&ctx, UPK_HASH_SHA512), UPK_OK);
	assert_int_equal(upk_hash_update(&ctx, "abc", 3), UPK_OK);
	upk_hash_done(&ctx);
	assert_null(ctx.md_ctx);

	/* one-shot with a bad algorithm leaves out alone */
	assert_int_equal(upk_hash_oneshot((enum upk_hash_alg) - 1, "abc", 3, out), UPK_E_INTERNAL);
	assert_memory_equal(out, zero, sizeof(out));
}

/* A NULL pointer with length 0 is the empty message, one-shot and streaming. */
static void test_empty_null_message(void **state)
{
	struct upk_hash_ctx ctx = UPK_HASH_CTX_INIT;
	uint8_t out[UPK_HASH_MAX_LEN];
	char hex[2 * UPK_HASH_MAX_LEN + 1];

	(void)state;
	assert_int_equal(upk_hash_oneshot(UPK_HASH_SHA256, NULL, 0, out), UPK_OK);
	hex_of(out, UPK_SHA256_LEN, hex);
	assert_string_equal(hex, vectors[1].digest);
	assert_int_equal(upk_hash_oneshot(UPK_HASH_SHA512, NULL, 0, out), UPK_OK);
	hex_of(out, UPK_SHA512_LEN, hex);
	assert_string_equal(hex, vectors[5].digest);
	assert_int_equal(upk_hash_init(&ctx, UPK_HASH_SHA512), UPK_OK);
	assert_int_equal(upk_hash_update(&ctx, NULL, 0), UPK_OK);
	assert_int_equal(upk_hash_final(&ctx, out), UPK_OK);
	upk_hash_done(&ctx);
	hex_of(out, UPK_SHA512_LEN, hex);
	assert_string_equal(hex, vectors[5].digest);
}

static void test_names(void **state)
{
	enum upk_hash_alg alg = UPK_HASH_SHA512;

	(void)state;
	assert_int_equal(upk_hash_len(UPK_HASH_SHA256), 32);
	assert_int_equal(upk_hash_len(UPK_HASH_SHA512), 64);
	assert_int_equal(upk_hash_len((enum upk_hash_alg)9), 0);
	assert_string_equal(upk_hash_name(UPK_HASH_SHA256), "sha256");
	assert_string_equal(upk_hash_name(UPK_HASH_SHA512), "sha512");
	assert_string_equal(upk_hash_name((enum upk_hash_alg)9), "unknown");

	assert_true(upk_hash_from_name("sha256", &alg));
	assert_int_equal(alg, UPK_HASH_SHA256);
	assert_true(upk_hash_from_name("sha512", &alg));
	assert_int_equal(alg, UPK_HASH_SHA512);
	/* rejected names leave *ret alone */
	static const char *const bad[] = { "SHA256", "sha-256", "sha2-256", "md5",    "sha1",
					   "sha384", "sha256 ", "",	    "sha5120" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		alg = (enum upk_hash_alg)42;
		assert_false(upk_hash_from_name(bad[i], &alg));
		assert_int_equal(alg, 42);
	}
	assert_false(upk_hash_from_name(NULL, &alg));
	assert_int_equal(alg, 42);
}

static void test_equal(void **state)
{
	uint8_t a[64], b[64];

	(void)state;
	for (size_t i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (uint8_t)i;
	assert_true(upk_hash_equal(a, b, sizeof(a)));
	assert_true(upk_hash_equal(a, b, 0));
	for (size_t i = 0; i < sizeof(a); i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			assert_false(upk_hash_equal(a, b, sizeof(a)));
			assert_true(upk_hash_equal(a, b, i)); /* prefix before the change */
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_true(upk_hash_equal(a, b, sizeof(a)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors_oneshot),
		cmocka_unit_test(test_vectors_streaming),
		cmocka_unit_test(test_split_at_every_offset),
		cmocka_unit_test(test_reuse_after_final),
		cmocka_unit_test(test_init_on_dirty_context),
		cmocka_unit_test(test_lifecycle_errors),
		cmocka_unit_test(test_empty_null_message),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
