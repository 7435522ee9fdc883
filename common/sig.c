/* SPDX-License-Identifier: Apache-2.0 */
#include "sig.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "util.h"

UPK_DEFINE_CLEANUP(EVP_MD_CTX, EVP_MD_CTX_free)

/* Stands in for a NULL message of length 0, which the libraries need not accept. */
static const uint8_t empty_msg[1];

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;

static void sodium_init_once(void)
{
	sodium_status = sodium_init() < 0 ? -1 : 0;
}

/* libsodium picks its implementations in sodium_init(); nothing runs before it. */
static bool sodium_ready(void)
{
	return pthread_once(&sodium_once, sodium_init_once) == 0 && sodium_status == 0;
}

static enum upk_err verify_ed25519(const struct upk_key *key, const uint8_t *msg, size_t msg_len,
				   const uint8_t *sig, size_t sig_len)
{
	if (!sodium_ready())
		return UPK_E_INTERNAL;
	if (sig_len != UPK_ED25519_SIG_LEN)
		return UPK_E_SIGNATURE;
	if (crypto_sign_verify_detached(sig, msg_len ? msg : empty_msg, msg_len, key->ed25519) != 0)
		return UPK_E_SIGNATURE;
	return UPK_OK;
}

/* Set mctx up to verify with SHA-256 under the key's scheme. */
static bool verify_evp_init(EVP_MD_CTX *mctx, const struct upk_key *key)
{
	EVP_PKEY_CTX *pctx = NULL; /* owned by mctx */

	if (EVP_DigestVerifyInit_ex(mctx, &pctx, "SHA2-256", NULL, NULL, key->pkey, NULL) != 1)
		return false;
	if (key->type != UPK_KEYTYPE_RSA)
		return true;
	return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	       EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA2-256", NULL) == 1 &&
	       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) == 1;
}

/*
 * One EVP_DigestVerify with SHA-256 for both OpenSSL schemes. ECDSA takes
 * only a DER signature (OpenSSL re-encodes it and refuses anything not
 * byte-identical, so no trailing bytes or BER leniency). RSA-PSS uses
 * MGF1-SHA-256 and recovers the salt length from the signature (AUTO), so
 * securesystemslib's digest-length salt and maximum-salt signers both verify.
 */
static enum upk_err verify_evp(const struct upk_key *key, const uint8_t *msg, size_t msg_len,
			       const uint8_t *sig, size_t sig_len)
{
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *mctx = NULL;
	int ok;

	if (!key->pkey)
		return UPK_E_UNKNOWN_KEY;
	if (sig_len == 0)
		return UPK_E_SIGNATURE;
	mctx = EVP_MD_CTX_new();
	if (!mctx)
		return UPK_E_NOMEM;
	if (!verify_evp_init(mctx, key)) {
		ERR_clear_error();
		return UPK_E_INTERNAL;
	}
	ok = EVP_DigestVerify(mctx, sig, sig_len, msg_len ? msg : empty_msg, msg_len);
	ERR_clear_error();
	return ok == 1 ? UPK_OK : UPK_E_SIGNATURE;
}

enum upk_err upk_sig_verify(const struct upk_key *key, const uint8_t *msg, size_t msg_len,
			    const uint8_t *sig, size_t sig_len)
{
	if (!key->supported)
		return UPK_E_UNKNOWN_KEY;
	if (!sig && sig_len)
		return UPK_E_SIGNATURE;
	switch (key->type) {
	case UPK_KEYTYPE_ED25519:
		return verify_ed25519(key, msg, msg_len, sig, sig_len);
	case UPK_KEYTYPE_ECDSA_P256:
	case UPK_KEYTYPE_RSA:
		return verify_evp(key, msg, msg_len, sig, sig_len);
	case UPK_KEYTYPE_UNKNOWN:
		return UPK_E_UNKNOWN_KEY;
	}
	return UPK_E_UNKNOWN_KEY;
}

/*
 * The public half of sk is checked against its seed first: libsodium signs
 * with whatever public key it finds there, and signatures made with a
 * wrong one leak the secret scalar (the "double public key" misuse).
 */
enum upk_err upk_sig_sign_ed25519(const uint8_t sk[UPK_ED25519_SECRET_LEN], const uint8_t *msg,
				  size_t msg_len, uint8_t ret_sig[UPK_ED25519_SIG_LEN])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
	uint8_t sig[crypto_sign_BYTES];
	int mismatch;

	if (!sodium_ready())
		return UPK_E_INTERNAL;
	if (crypto_sign_seed_keypair(pk, sk2, sk) != 0) {
		sodium_memzero(sk2, sizeof(sk2));
		return UPK_E_INTERNAL;
	}
	sodium_memzero(sk2, sizeof(sk2));
	mismatch = sodium_memcmp(pk, sk + crypto_sign_SEEDBYTES, sizeof(pk));
	if (mismatch != 0)
		return UPK_E_KEYFILE;
	if (crypto_sign_detached(sig, NULL, msg_len ? msg : empty_msg, msg_len, sk) != 0)
		return UPK_E_INTERNAL;
	memcpy(ret_sig, sig, sizeof(sig));
	return UPK_OK;
}
