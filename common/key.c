/* SPDX-License-Identifier: Apache-2.0 */
#include "key.h"

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <string.h>

#include "buf.h"
#include "hash.h"
#include "hex.h"
#include "json.h"
#include "util.h"

UPK_DEFINE_CLEANUP(EVP_PKEY, EVP_PKEY_free)
UPK_DEFINE_CLEANUP(EVP_PKEY_CTX, EVP_PKEY_CTX_free)
UPK_DEFINE_CLEANUP(BIO, BIO_free)

/* True if the JSON string v is exactly `name` (an embedded NUL never matches). */
static bool str_is(const json_t *v, const char *name)
{
	size_t n = strlen(name);

	return json_string_length(v) == n && memcmp(json_string_value(v), name, n) == 0;
}

static enum upk_keytype keytype_from_json(const json_t *v)
{
	if (str_is(v, "ed25519"))
		return UPK_KEYTYPE_ED25519;
	/* "ecdsa-sha2-nistp256" is the keytype older securesystemslib wrote. */
	if (str_is(v, "ecdsa") || str_is(v, "ecdsa-sha2-nistp256"))
		return UPK_KEYTYPE_ECDSA_P256;
	if (str_is(v, "rsa"))
		return UPK_KEYTYPE_RSA;
	return UPK_KEYTYPE_UNKNOWN;
}

static enum upk_scheme scheme_from_json(const json_t *v)
{
	if (str_is(v, "ed25519"))
		return UPK_SCHEME_ED25519;
	if (str_is(v, "ecdsa-sha2-nistp256"))
		return UPK_SCHEME_ECDSA_SHA2_NISTP256;
	if (str_is(v, "rsassa-pss-sha256"))
		return UPK_SCHEME_RSASSA_PSS_SHA256;
	return UPK_SCHEME_UNKNOWN;
}

static bool combination_supported(enum upk_keytype t, enum upk_scheme s)
{
	switch (t) {
	case UPK_KEYTYPE_ED25519:
		return s == UPK_SCHEME_ED25519;
	case UPK_KEYTYPE_ECDSA_P256:
		return s == UPK_SCHEME_ECDSA_SHA2_NISTP256;
	case UPK_KEYTYPE_RSA:
		return s == UPK_SCHEME_RSASSA_PSS_SHA256;
	case UPK_KEYTYPE_UNKNOWN:
		return false;
	}
	return false;
}

/*
 * Either case of hex digits is accepted: securesystemslib 0.26 decodes the
 * public key with binascii.unhexlify, which does, so a root it verifies
 * must not be refused here. The key id still covers the string as written.
 */
static enum upk_err parse_ed25519(const json_t *pub, uint8_t ret[UPK_ED25519_PUBLIC_LEN],
				  struct upk_diag *reterr_diag)
{
	size_t n = json_string_length(pub), got = 0;
	uint8_t raw[UPK_ED25519_PUBLIC_LEN];

	if (n != 2 * UPK_ED25519_PUBLIC_LEN)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
				    "ed25519 public key must be %d hex digits, not %zu",
				    2 * UPK_ED25519_PUBLIC_LEN, n);
	if (upk_hex_decode(json_string_value(pub), n, raw, sizeof(raw), &got) != UPK_OK ||
	    got != sizeof(raw))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
				    "ed25519 public key is not hexadecimal");
	memcpy(ret, raw, sizeof(raw));
	return UPK_OK;
}

/* A PEM that claims to be encrypted is refused instead of prompting on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/*
 * Decode the first public key PEM block of the string: SubjectPublicKeyInfo
 * ("PUBLIC KEY"), or PKCS#1 ("RSA PUBLIC KEY"), which OpenSSL 3 and
 * securesystemslib's load_pem_public_key both take. Text around the block
 * is ignored, as there.
 */
static enum upk_err parse_pem(const json_t *pub, EVP_PKEY **ret, struct upk_diag *reterr_diag)
{
	_cleanup_(BIO_freep) BIO *bio = NULL;
	const char *s = json_string_value(pub);
	size_t n = json_string_length(pub);
	EVP_PKEY *pk;

	if (n == 0 || n > UPK_KEY_PEM_MAX || memchr(s, 0, n))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
				    "PEM public key is empty, over %d bytes or holds a NUL",
				    UPK_KEY_PEM_MAX);
	bio = BIO_new_mem_buf(s, (int)n);
	if (!bio)
		return UPK_E_NOMEM;
	pk = PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	ERR_clear_error();
	if (!pk)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
				    "not a PEM public key");
	*ret = pk;
	return UPK_OK;
}

static enum upk_err parse_ecdsa_p256(const json_t *pub, EVP_PKEY **ret,
				     struct upk_diag *reterr_diag)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
	_cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = NULL;
	char group[64] = "", enc[32] = "";
	size_t glen = 0, elen = 0;
	enum upk_err r;
	int ok;

	r = parse_pem(pub, &pk, reterr_diag);
	if (r)
		return r;
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
				    "ecdsa key is not an EC key");
	if (EVP_PKEY_get_group_name(pk, group, sizeof(group), &glen) != 1 ||
	    strcmp(group, SN_X9_62_prime256v1) != 0) {
		ERR_clear_error();
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
				    "ecdsa key is not on curve P-256");
	}
	/*
	 * OpenSSL names explicit parameters that happen to equal P-256 as P-256;
	 * they are refused anyway (as python-cryptography does): parsers of
	 * explicit curves have a history of accepting look-alike groups.
	 */
	if (EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_EC_ENCODING, enc, sizeof(enc),
					   &elen) != 1 ||
	    strcmp(enc, OSSL_PKEY_EC_ENCODING_GROUP) != 0) {
		ERR_clear_error();
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
				    "ecdsa key must name its curve, not spell out parameters");
	}
	/* Decoding checked the point is on the curve; this also refuses infinity. */
	ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL);
	if (!ctx)
		return UPK_E_NOMEM;
	ok = EVP_PKEY_public_check(ctx);
	ERR_clear_error();
	if (ok != 1)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
				    "ecdsa public key fails the point check");
	*ret = pk;
	pk = NULL;
	return UPK_OK;
}

static enum upk_err parse_rsa(const json_t *pub, EVP_PKEY **ret, struct upk_diag *reterr_diag)
{
	_cleanup_(EVP_PKEY_freep) EVP_PKEY *pk = NULL;
	enum upk_err r;
	int bits;

	r = parse_pem(pub, &pk, reterr_diag);
	if (r)
		return r;
	/* RSA-PSS-restricted keys (id RSASSA-PSS) are not what TUF signers publish. */
	if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
				    "rsa key is not an RSA key");
	bits = EVP_PKEY_get_bits(pk);
	if (bits < UPK_KEY_RSA_MIN_BITS || bits > UPK_KEY_RSA_MAX_BITS)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
				    "rsa key has %d bits, outside [%d, %d]", bits,
				    UPK_KEY_RSA_MIN_BITS, UPK_KEY_RSA_MAX_BITS);
	*ret = pk;
	pk = NULL;
	return UPK_OK;
}

enum upk_err upk_key_parse(json_t *obj, struct upk_key *ret, struct upk_diag *reterr_diag)
{
	struct upk_key k = { .keyid = "" };
	const json_t *keytype, *scheme, *keyval, *pub;
	EVP_PKEY *pk = NULL;
	enum upk_err r;

	memset(ret, 0, sizeof(*ret));
	if (!json_is_object(obj))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "key is not an object");
	keytype = json_object_get(obj, "keytype");
	if (!json_is_string(keytype))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keytype", -1,
				    "missing or not a string");
	scheme = json_object_get(obj, "scheme");
	if (!json_is_string(scheme))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "scheme", -1,
				    "missing or not a string");
	keyval = json_object_get(obj, "keyval");
	if (!json_is_object(keyval))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval", -1,
				    "missing or not an object");

	k.type = keytype_from_json(keytype);
	k.scheme = scheme_from_json(scheme);
	k.supported = combination_supported(k.type, k.scheme);
	if (k.supported) {
		pub = json_object_get(keyval, "public");
		if (!json_is_string(pub))
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "keyval.public", -1,
					    "missing or not a string");
		switch (k.type) {
		case UPK_KEYTYPE_ED25519:
			r = parse_ed25519(pub, k.ed25519, reterr_diag);
			break;
		case UPK_KEYTYPE_ECDSA_P256:
			r = parse_ecdsa_p256(pub, &pk, reterr_diag);
			break;
		case UPK_KEYTYPE_RSA:
			r = parse_rsa(pub, &pk, reterr_diag);
			break;
		case UPK_KEYTYPE_UNKNOWN:
		default:
			r = UPK_E_INTERNAL;
			break;
		}
		if (r)
			return r;
	}
	k.pkey = pk;
	k.obj = json_incref(obj);
	*ret = k;
	return UPK_OK;
}

void upk_key_done(struct upk_key *key)
{
	if (!key)
		return;
	EVP_PKEY_free(key->pkey);
	if (key->obj)
		json_decref(key->obj);
	memset(key, 0, sizeof(*key));
}

enum upk_err upk_key_id(const json_t *obj, char ret[UPK_KEYID_HEX_LEN + 1],
			struct upk_diag *reterr_diag)
{
	_cleanup_buf_ struct upk_buf canon = UPK_BUF_INIT;
	uint8_t digest[UPK_HASH_MAX_LEN];
	enum upk_err r;

	if (!json_is_object(obj))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, NULL, -1, "key is not an object");
	r = upk_json_canonical(obj, &canon, reterr_diag);
	if (r)
		return r;
	r = upk_hash_oneshot(UPK_HASH_SHA256, canon.data, canon.len, digest);
	if (r)
		return upk_diag_set(reterr_diag, r, NULL, -1, "cannot hash the key object");
	upk_hex_encode(digest, UPK_SHA256_LEN, ret);
	return UPK_OK;
}

enum upk_err upk_key_ed25519_object(const uint8_t pub[UPK_ED25519_PUBLIC_LEN], json_t **ret)
{
	char hex[2 * UPK_ED25519_PUBLIC_LEN + 1];
	json_t *obj;

	upk_hex_encode(pub, UPK_ED25519_PUBLIC_LEN, hex);
	obj = json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval",
			"public", hex);
	if (!obj)
		return UPK_E_NOMEM;
	*ret = obj;
	return UPK_OK;
}

bool upk_key_same_material(const struct upk_key *a, const struct upk_key *b)
{
	if (!a->supported || !b->supported || a->type != b->type)
		return false;
	switch (a->type) {
	case UPK_KEYTYPE_ED25519:
		return memcmp(a->ed25519, b->ed25519, UPK_ED25519_PUBLIC_LEN) == 0;
	case UPK_KEYTYPE_ECDSA_P256:
	case UPK_KEYTYPE_RSA:
		return a->pkey && b->pkey && EVP_PKEY_eq(a->pkey, b->pkey) == 1;
	case UPK_KEYTYPE_UNKNOWN:
		return false;
	}
	return false;
}

const char *upk_keytype_name(enum upk_keytype t)
{
	switch (t) {
	case UPK_KEYTYPE_ED25519:
		return "ed25519";
	case UPK_KEYTYPE_ECDSA_P256:
		return "ecdsa";
	case UPK_KEYTYPE_RSA:
		return "rsa";
	case UPK_KEYTYPE_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}

const char *upk_scheme_name(enum upk_scheme s)
{
	switch (s) {
	case UPK_SCHEME_ED25519:
		return "ed25519";
	case UPK_SCHEME_ECDSA_SHA2_NISTP256:
		return "ecdsa-sha2-nistp256";
	case UPK_SCHEME_RSASSA_PSS_SHA256:
		return "rsassa-pss-sha256";
	case UPK_SCHEME_UNKNOWN:
		return "unknown";
	}
	return "unknown";
}
