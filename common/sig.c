/* SPDX-License-Identifier: Apache-2.0 */
#include "sig.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <sodium.h>
#include <string.h>

#include "util.h"

UPK_DEFINE_CLEANUP(EVP_MD_CTX, EVP_MD_CTX_free)
UPK_DEFINE_CLEANUP(EVP_PKEY, EVP_PKEY_free)
UPK_DEFINE_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
UPK_DEFINE_CLEANUP(BIGNUM, BN_clear_free)
UPK_DEFINE_CLEANUP(BN_CTX, BN_CTX_free)
UPK_DEFINE_CLEANUP(EC_GROUP, EC_GROUP_free)
UPK_DEFINE_CLEANUP(EC_POINT, EC_POINT_free)
UPK_DEFINE_CLEANUP(BIO, BIO_free)

#define P256_POINT_LEN 65 /* 0x04 || x || y */

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

/* ---- ecdsa-sha2-nistp256 ---- */

/* OpenSSL's error queue is cleared at every exit: callers get upk_err only. */
static enum upk_err ossl_fail(enum upk_err r)
{
	ERR_clear_error();
	return r;
}

enum upk_err upk_sig_ecdsa_p256_generate(uint8_t ret_scalar[UPK_ECDSA_P256_SCALAR_LEN])
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
	_cleanup_(BN_clear_freep) BIGNUM *d = NULL;
	uint8_t tmp[UPK_ECDSA_P256_SCALAR_LEN];
	int n;

	pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", SN_X9_62_prime256v1);
	if (!pk)
		return ossl_fail(UPK_E_INTERNAL);
	if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) != 1)
		return ossl_fail(UPK_E_INTERNAL);
	n = BN_bn2binpad(d, tmp, sizeof(tmp));
	if (n != (int)sizeof(tmp)) {
		sodium_memzero(tmp, sizeof(tmp));
		return ossl_fail(UPK_E_INTERNAL);
	}
	memcpy(ret_scalar, tmp, sizeof(tmp));
	sodium_memzero(tmp, sizeof(tmp));
	return UPK_OK;
}

/*
 * The OpenSSL key pair of a scalar. The public point is computed here (a
 * key imported with only its private half has none in OpenSSL 3.0), so the
 * key is whole; the private half goes in through a native-endian copy on the
 * stack that is wiped, not through an OSSL_PARAM_BLD copy that would not be.
 * UPK_E_KEYFILE if the scalar is not in [1, n-1].
 */
static enum upk_err p256_pkey(const uint8_t scalar[UPK_ECDSA_P256_SCALAR_LEN], EVP_PKEY **ret)
{
	_cleanup_(EC_GROUP_freep) EC_GROUP *group = NULL;
	_cleanup_(EC_POINT_freep) EC_POINT *pub = NULL;
	_cleanup_(BN_CTX_freep) BN_CTX *bnctx = NULL;
	_cleanup_(BN_clear_freep) BIGNUM *d = NULL;
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
	uint8_t point[P256_POINT_LEN], native[UPK_ECDSA_P256_SCALAR_LEN];
	char group_name[] = SN_X9_62_prime256v1; /* OSSL_PARAM takes a non-const pointer */
	OSSL_PARAM params[4];
	EVP_PKEY *pk = NULL;
	int ok;

	group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	d = BN_secure_new();
	bnctx = BN_CTX_secure_new();
	if (!group || !d || !bnctx)
		return ossl_fail(UPK_E_NOMEM);
	BN_set_flags(d, BN_FLG_CONSTTIME);
	if (!BN_bin2bn(scalar, UPK_ECDSA_P256_SCALAR_LEN, d))
		return ossl_fail(UPK_E_NOMEM);
	if (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(group)) >= 0)
		return UPK_E_KEYFILE;
	pub = EC_POINT_new(group);
	if (!pub)
		return ossl_fail(UPK_E_NOMEM);
	if (EC_POINT_mul(group, pub, d, NULL, NULL, bnctx) != 1 ||
	    EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, point, sizeof(point),
			       bnctx) != sizeof(point))
		return ossl_fail(UPK_E_INTERNAL);
	if (BN_bn2nativepad(d, native, sizeof(native)) != (int)sizeof(native))
		return ossl_fail(UPK_E_INTERNAL);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group_name, 0);
	params[1] =
		OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point));
	params[2] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, native, sizeof(native));
	params[3] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	ok = ctx && EVP_PKEY_fromdata_init(ctx) == 1 &&
	     EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_KEYPAIR, params) == 1;
	sodium_memzero(native, sizeof(native));
	if (!ok)
		return ossl_fail(ctx ? UPK_E_INTERNAL : UPK_E_NOMEM);
	*ret = pk;
	return UPK_OK;
}

/* PEM_write_bio_PUBKEY's text, appended to out with its NUL. */
static enum upk_err append_pem(EVP_PKEY *pk, struct upk_buf *out)
{
	_cleanup_(BIO_freep) BIO *bio = BIO_new(BIO_s_mem());
	char *text = NULL;
	long n;

	if (!bio)
		return ossl_fail(UPK_E_NOMEM);
	if (PEM_write_bio_PUBKEY(bio, pk) != 1)
		return ossl_fail(UPK_E_INTERNAL);
	n = BIO_get_mem_data(bio, &text);
	if (n <= 0 || !text)
		return ossl_fail(UPK_E_INTERNAL);
	return upk_buf_append(out, text, (size_t)n);
}

enum upk_err upk_sig_ecdsa_p256_public_pem(const uint8_t scalar[UPK_ECDSA_P256_SCALAR_LEN],
					   struct upk_buf *ret_pem)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
	enum upk_err r = p256_pkey(scalar, &pk);

	return r ? r : append_pem(pk, ret_pem);
}

/*
 * An EC key is written from a copy set to the uncompressed point form:
 * OpenSSL keeps the form a key was read in, and a compressed point would
 * otherwise come back compressed, not in the one canonical layout.
 */
enum upk_err upk_sig_public_pem(const struct upk_key *key, struct upk_buf *ret_pem)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *dup = NULL;

	if (!key->pkey)
		return UPK_E_UNKNOWN_KEY;
	if (EVP_PKEY_get_base_id(key->pkey) != EVP_PKEY_EC)
		return append_pem(key->pkey, ret_pem);
	dup = EVP_PKEY_dup(key->pkey);
	if (!dup)
		return ossl_fail(UPK_E_NOMEM);
	if (EVP_PKEY_set_utf8_string_param(dup, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
					   OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) != 1)
		return ossl_fail(UPK_E_INTERNAL);
	return append_pem(dup, ret_pem);
}

enum upk_err upk_sig_sign_ecdsa_p256(const uint8_t scalar[UPK_ECDSA_P256_SCALAR_LEN],
				     const uint8_t *msg, size_t msg_len, struct upk_buf *der_sig)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
	_cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *mctx = NULL;
	const uint8_t *m = msg_len ? msg : empty_msg;
	size_t n = 0;
	enum upk_err r = p256_pkey(scalar, &pk);

	if (r)
		return r;
	mctx = EVP_MD_CTX_new();
	if (!mctx)
		return ossl_fail(UPK_E_NOMEM);
	if (EVP_DigestSignInit_ex(mctx, NULL, "SHA2-256", NULL, NULL, pk, NULL) != 1 ||
	    EVP_DigestSign(mctx, NULL, &n, m, msg_len) != 1 || n == 0)
		return ossl_fail(UPK_E_INTERNAL);
	r = upk_buf_reserve(der_sig, n);
	if (r)
		return r;
	if (EVP_DigestSign(mctx, der_sig->data + der_sig->len, &n, m, msg_len) != 1) {
		der_sig->data[der_sig->len] = 0;
		return ossl_fail(UPK_E_INTERNAL);
	}
	der_sig->len += n;
	der_sig->data[der_sig->len] = 0;
	return UPK_OK;
}
