/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for private key files (keys/keyfile.h, keys/FORMAT.md).
 *
 * It calls upkk_file_parse, the function upkeep-keys and the server call on
 * a key file's bytes, with the product's limit (UPKK_FILE_MAX_SIZE is checked
 * inside it). For every input that parses it then checks:
 *   - serialize is a fixed point: serialize(parse(serialize(f))) ==
 *     serialize(f), and the key id survives;
 *   - an unencrypted file is opened (the secret-matches-public check) and a
 *     key that opens makes signatures its own public key verifies;
 *   - an encrypted file is decrypted with FUZZ_PASSPHRASE, but only when its
 *     Argon2id parameters are the accepted minimum (2 passes, 64 MiB), and a
 *     key that opens signs as above.
 *
 * Why decryption is restricted and cached: one Argon2id run costs about
 * 0.1 s and 64 MiB at the minimum and up to seconds and 1 GiB at the
 * accepted maximum; run per input it would leave a fuzzer a few executions
 * per second. The key-encryption key only depends on (passphrase, salt,
 * parameters), so it is derived once per salt and cached (8 entries): every
 * mutation of the rest (header fields, nonce, ciphertext: what the AEAD's
 * additional data must bind and what the post-decryption check must catch)
 * runs at full speed through upkk_file_open_kek, the same code
 * upkk_file_open uses after its own derivation. Files with higher
 * parameters are parsed and round-tripped, not decrypted. A mutated salt
 * costs one derivation and can only fail to decrypt.
 *
 * Seed corpus (tests/fuzz/corpus/keyfile/): files made by upkeep-keys with
 * the passphrase below ("valid-encrypted-*": interactive parameters, so they
 * decrypt here; "valid-encrypted-moderate": parsed only), unencrypted files
 * (one is the RFC 8032 test-1 key), a file sealed with another passphrase, a
 * file whose AEAD is valid but whose sealed seed belongs to another key, and
 * mutations: each field altered, truncations, other formats (TUF public key,
 * TUF metadata, PEM), parameters outside the accepted range, unknown fields
 * and versions, malformed JSON. ECDSA P-256 ("valid-*-rfc6979*": the
 * keys/FORMAT.md test vector, encrypted and clear; "ecdsa-*": the PEM in
 * other layouts, compressed, off the curve, of P-384 or another key; scalars
 * 0, n, 2^256-1, of another key, short; scheme and keytype mismatches).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keyfile.h"
#include "sig.h"

#define FUZZ_PASSPHRASE "upkeep-fuzz-passphrase"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct kek_entry {
	bool used;
	uint8_t salt[UPKK_SALT_LEN];
	uint8_t kek[UPKK_KEK_LEN];
};

static struct kek_entry kek_cache[8];
static size_t kek_next;

/* The key-encryption key for f (minimum parameters only), from the cache or derived. */
static const uint8_t *kek_for(const struct upkk_file *f)
{
	struct kek_entry *e;

	for (size_t i = 0; i < sizeof(kek_cache) / sizeof(kek_cache[0]); i++) {
		if (kek_cache[i].used && !memcmp(kek_cache[i].salt, f->salt, UPKK_SALT_LEN))
			return kek_cache[i].kek;
	}
	e = &kek_cache[kek_next++ % (sizeof(kek_cache) / sizeof(kek_cache[0]))];
	if (upkk_file_derive_kek(f, FUZZ_PASSPHRASE, strlen(FUZZ_PASSPHRASE), e->kek, NULL) !=
	    UPK_OK) {
		e->used = false;
		return NULL;
	}
	memcpy(e->salt, f->salt, UPKK_SALT_LEN);
	e->used = true;
	return e->kek;
}

/* A key that opened must sign verifiably under its own public key object. */
static void check_key_signs(const struct upkk_key *key)
{
	static const uint8_t msg[] = "fuzz";
	struct upk_buf sig = UPK_BUF_INIT;
	struct upk_key pub;

	if (upkk_key_sign((void *)(uintptr_t)key, msg, sizeof(msg), &sig) != UPK_OK)
		abort();
	if (upk_key_parse(key->public_obj, &pub, NULL) != UPK_OK)
		abort();
	if (upk_sig_verify(&pub, msg, sizeof(msg), sig.data, sig.len) != UPK_OK)
		abort();
	upk_key_done(&pub);
	upk_buf_done(&sig);
}

static void check_round_trip(const struct upkk_file *f)
{
	struct upk_buf a = UPK_BUF_INIT, b = UPK_BUF_INIT;
	struct upkk_file *g = NULL;

	if (upkk_file_serialize(f, &a) != UPK_OK)
		abort();
	if (upkk_file_parse(a.data, a.len, &g, NULL) != UPK_OK)
		abort();
	if (strcmp(g->keyid, f->keyid) != 0 || g->encrypted != f->encrypted)
		abort();
	if (upkk_file_serialize(g, &b) != UPK_OK)
		abort();
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	upkk_file_free(g);
	upk_buf_done(&a);
	upk_buf_done(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upkk_file *f = NULL;
	struct upkk_key *key = NULL;
	enum upk_err r;

	if (upkk_file_parse(data, size, &f, NULL) != UPK_OK)
		return 0;
	check_round_trip(f);
	if (!f->encrypted) {
		r = upkk_file_open(f, NULL, 0, &key, NULL);
	} else if (f->kdf.opslimit == UPKK_KDF_OPSLIMIT_MIN &&
		   f->kdf.memlimit == UPKK_KDF_MEMLIMIT_MIN) {
		const uint8_t *kek = kek_for(f);

		r = kek ? upkk_file_open_kek(f, kek, &key, NULL) : UPK_E_NOMEM;
	} else {
		r = UPK_E_UNSUPPORTED; /* parameters too costly to try per input (see above) */
	}
	if (r == UPK_OK)
		check_key_signs(key);
	upkk_key_free(key);
	upkk_file_free(f);
	return 0;
}
