/* SPDX-License-Identifier: Apache-2.0 */
/* Private key files: keys/FORMAT.md is the specification this code enforces. */
#include "keyfile.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "hex.h"
#include "json.h"
#include "sig.h"

_Static_assert(UPKK_KDF_OPSLIMIT_MIN == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	       "KDF floor is libsodium's INTERACTIVE opslimit");
_Static_assert(UPKK_KDF_OPSLIMIT_MAX == crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE,
	       "KDF ceiling is libsodium's SENSITIVE opslimit");
_Static_assert(UPKK_KDF_MEMLIMIT_MIN == crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE,
	       "KDF floor is libsodium's INTERACTIVE memlimit");
_Static_assert(UPKK_KDF_MEMLIMIT_MAX == crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE,
	       "KDF ceiling is libsodium's SENSITIVE memlimit");
_Static_assert(UPKK_SALT_LEN == crypto_pwhash_argon2id_SALTBYTES, "Argon2id salt size");
_Static_assert(UPKK_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(UPKK_TAG_LEN == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(UPKK_KEK_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "AEAD key size");
_Static_assert(UPKK_SECRET_MAX_LEN >= crypto_sign_SEEDBYTES, "ed25519 seed fits");
_Static_assert(UPKK_SECRET_MAX_LEN >= UPK_ECDSA_P256_SCALAR_LEN, "P-256 scalar fits");

/* Domain separation prefix of the AEAD additional data (FORMAT.md). */
#define AD_DOMAIN "upkeep-private-key"

/*
 * One row per key type: how its secret is stored, expanded, and used
 * (ed25519, ecdsa P-256). A new type adds a row and nothing else in this
 * file changes.
 */
struct keytype_ops {
	enum upk_keytype type;
	enum upk_scheme scheme;
	const char *name;	 /* "keytype" in the file and in TUF */
	const char *scheme_name; /* "scheme" in the file and in TUF */
	size_t file_secret_len;	 /* the secret as the file stores it */
	size_t key_secret_len;	 /* the secret as struct upkk_key holds it */
	/* The TUF public key object for keyval.public `value`; UPK_E_KEYFILE if malformed. */
	enum upk_err (*public_object)(const char *value, json_t **ret, struct upk_diag *diag);
	/* A new random file secret. */
	enum upk_err (*generate)(uint8_t *file_secret);
	/*
	 * file secret -> key secret and the keyval.public value it implies
	 * (malloc'd); UPK_E_KEYFILE if the bytes are not a private key of the type.
	 */
	enum upk_err (*expand)(const uint8_t *file_secret, uint8_t *key_secret, char **ret_public);
	/* key secret -> file secret. */
	void (*to_file_secret)(const uint8_t *key_secret, uint8_t *file_secret);
	/* Raw signature of msg, appended to sig. */
	enum upk_err (*sign)(const uint8_t *key_secret, const uint8_t *msg, size_t len,
			     struct upk_buf *sig);
};

static enum upk_err keyfile_err(struct upk_diag *diag, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum upk_err keyfile_err(struct upk_diag *diag, const char *where, const char *fmt, ...)
{
	char reason[sizeof(diag->reason)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return upk_diag_set(diag, UPK_E_KEYFILE, where ? where : "", -1, "%s", reason);
}

/* ---- ed25519 ---- */

static enum upk_err ed25519_public_object(const char *value, json_t **ret, struct upk_diag *diag)
{
	uint8_t pub[UPK_ED25519_PUBLIC_LEN];

	if (!upk_hex_is_valid(value, 2 * UPK_ED25519_PUBLIC_LEN) ||
	    upk_hex_decode(value, 2 * UPK_ED25519_PUBLIC_LEN, pub, sizeof(pub), NULL) != UPK_OK)
		return keyfile_err(diag, "public", "not %d lower-case hex digits",
				   2 * UPK_ED25519_PUBLIC_LEN);
	return upk_key_ed25519_object(pub, ret);
}

static enum upk_err ed25519_generate(uint8_t *file_secret)
{
	randombytes_buf(file_secret, crypto_sign_SEEDBYTES);
	return UPK_OK;
}

static enum upk_err ed25519_expand(const uint8_t *file_secret, uint8_t *key_secret,
				   char **ret_public)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	char *hex;

	if (crypto_sign_seed_keypair(pk, key_secret, file_secret) != 0)
		return UPK_E_INTERNAL;
	hex = malloc(2 * sizeof(pk) + 1);
	if (!hex)
		return UPK_E_NOMEM;
	upk_hex_encode(pk, sizeof(pk), hex);
	*ret_public = hex;
	return UPK_OK;
}

static void ed25519_to_file_secret(const uint8_t *key_secret, uint8_t *file_secret)
{
	crypto_sign_ed25519_sk_to_seed(file_secret, key_secret);
}

static enum upk_err ed25519_sign(const uint8_t *key_secret, const uint8_t *msg, size_t len,
				 struct upk_buf *sig)
{
	uint8_t s[UPK_ED25519_SIG_LEN];
	enum upk_err r = upk_sig_sign_ed25519(key_secret, msg, len, s);

	if (r)
		return r;
	return upk_buf_append(sig, s, sizeof(s));
}

/* ---- ecdsa (P-256, ecdsa-sha2-nistp256) ---- */

static enum upk_err ecdsa_object(const char *pem, json_t **ret)
{
	json_t *obj = json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ecdsa", "scheme",
				"ecdsa-sha2-nistp256", "keyval", "public", pem);

	if (!obj)
		return UPK_E_NOMEM;
	*ret = obj;
	return UPK_OK;
}

/*
 * keyval.public must be a P-256 key (common/key.c's checks: named curve,
 * valid point) in exactly the PEM layout upkeep-keys writes: the public key
 * derived after decryption is compared with it byte for byte, and the key
 * id covers the string as written, so any other spelling of the same key
 * is refused here with a clear reason rather than later as a mismatch.
 */
static enum upk_err ecdsa_public_object(const char *value, json_t **ret, struct upk_diag *diag)
{
	_cleanup_json_ json_t *obj = NULL;
	_cleanup_buf_ struct upk_buf pem = UPK_BUF_INIT;
	struct upk_key key;
	struct upk_diag kd;
	enum upk_err r;

	r = ecdsa_object(value, &obj);
	if (r)
		return r;
	upk_diag_clear(&kd);
	r = upk_key_parse(obj, &key, &kd);
	if (r == UPK_E_NOMEM)
		return r;
	if (r)
		return keyfile_err(diag, "public", "not an ECDSA P-256 public key: %s", kd.reason);
	r = upk_sig_public_pem(&key, &pem);
	upk_key_done(&key);
	if (r)
		return upk_diag_set(diag, r, "public", -1, "cannot encode the public key");
	if (strcmp((const char *)pem.data, value) != 0)
		return keyfile_err(
			diag, "public",
			"not in the PEM layout upkeep-keys writes (SubjectPublicKeyInfo, "
			"64-column base64, LF line ends, final LF)");
	*ret = obj;
	obj = NULL;
	return UPK_OK;
}

static enum upk_err ecdsa_generate(uint8_t *file_secret)
{
	return upk_sig_ecdsa_p256_generate(file_secret);
}

static enum upk_err ecdsa_expand(const uint8_t *file_secret, uint8_t *key_secret, char **ret_public)
{
	_cleanup_buf_ struct upk_buf pem = UPK_BUF_INIT;
	enum upk_err r = upk_sig_ecdsa_p256_public_pem(file_secret, &pem);

	if (r)
		return r;
	memcpy(key_secret, file_secret, UPK_ECDSA_P256_SCALAR_LEN);
	*ret_public = (char *)upk_buf_steal(&pem, NULL);
	return UPK_OK;
}

static void ecdsa_to_file_secret(const uint8_t *key_secret, uint8_t *file_secret)
{
	memcpy(file_secret, key_secret, UPK_ECDSA_P256_SCALAR_LEN);
}

static enum upk_err ecdsa_sign(const uint8_t *key_secret, const uint8_t *msg, size_t len,
			       struct upk_buf *sig)
{
	return upk_sig_sign_ecdsa_p256(key_secret, msg, len, sig);
}

static const struct keytype_ops keytypes[] = {
	{
		.type = UPK_KEYTYPE_ED25519,
		.scheme = UPK_SCHEME_ED25519,
		.name = "ed25519",
		.scheme_name = "ed25519",
		.file_secret_len = crypto_sign_SEEDBYTES,
		.key_secret_len = crypto_sign_SECRETKEYBYTES,
		.public_object = ed25519_public_object,
		.generate = ed25519_generate,
		.expand = ed25519_expand,
		.to_file_secret = ed25519_to_file_secret,
		.sign = ed25519_sign,
	},
	{
		.type = UPK_KEYTYPE_ECDSA_P256,
		.scheme = UPK_SCHEME_ECDSA_SHA2_NISTP256,
		.name = "ecdsa",
		.scheme_name = "ecdsa-sha2-nistp256",
		.file_secret_len = UPK_ECDSA_P256_SCALAR_LEN,
		.key_secret_len = UPK_ECDSA_P256_SCALAR_LEN,
		.public_object = ecdsa_public_object,
		.generate = ecdsa_generate,
		.expand = ecdsa_expand,
		.to_file_secret = ecdsa_to_file_secret,
		.sign = ecdsa_sign,
	},
};

/* For messages: the names of the supported key types. */
#define SUPPORTED_TYPES "ed25519, ecdsa"

static const struct keytype_ops *ops_by_type(enum upk_keytype type)
{
	for (size_t i = 0; i < UPK_ARRAY_SIZE(keytypes); i++) {
		if (keytypes[i].type == type)
			return &keytypes[i];
	}
	return NULL;
}

static const struct keytype_ops *ops_by_name(const char *name)
{
	for (size_t i = 0; i < UPK_ARRAY_SIZE(keytypes); i++) {
		if (!strcmp(keytypes[i].name, name))
			return &keytypes[i];
	}
	return NULL;
}

bool upkk_keytype_from_name(const char *name, enum upk_keytype *ret)
{
	const struct keytype_ops *ops = name ? ops_by_name(name) : NULL;

	if (!ops)
		return false;
	*ret = ops->type;
	return true;
}

/* ---- KDF parameters ---- */

static const struct {
	const char *name;
	struct upkk_kdf_params params;
} kdf_presets[] = {
	{ "interactive",
	  { crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
	    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE } },
	{ "moderate",
	  { crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE } },
	{ "sensitive",
	  { crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE,
	    crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE } },
};

bool upkk_kdf_params_from_name(const char *name, struct upkk_kdf_params *ret)
{
	for (size_t i = 0; name && i < UPK_ARRAY_SIZE(kdf_presets); i++) {
		if (!strcmp(kdf_presets[i].name, name)) {
			*ret = kdf_presets[i].params;
			return true;
		}
	}
	return false;
}

void upkk_kdf_params_default(struct upkk_kdf_params *ret)
{
	*ret = kdf_presets[0].params;
}

/*
 * The accepted range (keyfile.h): the floor refuses files an attacker or an
 * old tool weakened, the ceiling bounds what opening a hostile file costs.
 */
static enum upk_err kdf_check(const struct upkk_kdf_params *p, enum upk_err err,
			      struct upk_diag *diag)
{
	const char *w_ops = "encryption.opslimit", *w_mem = "encryption.memlimit";

	if (p->opslimit < UPKK_KDF_OPSLIMIT_MIN)
		return upk_diag_set(diag, err, w_ops, -1,
				    "%llu is below the minimum %llu (libsodium INTERACTIVE): "
				    "refusing weakened key protection",
				    (unsigned long long)p->opslimit, UPKK_KDF_OPSLIMIT_MIN);
	if (p->opslimit > UPKK_KDF_OPSLIMIT_MAX)
		return upk_diag_set(diag, err, w_ops, -1,
				    "%llu is above the maximum %llu (libsodium SENSITIVE)",
				    (unsigned long long)p->opslimit, UPKK_KDF_OPSLIMIT_MAX);
	if (p->memlimit < UPKK_KDF_MEMLIMIT_MIN)
		return upk_diag_set(diag, err, w_mem, -1,
				    "%llu bytes is below the minimum %llu (libsodium INTERACTIVE): "
				    "refusing weakened key protection",
				    (unsigned long long)p->memlimit, UPKK_KDF_MEMLIMIT_MIN);
	if (p->memlimit > UPKK_KDF_MEMLIMIT_MAX)
		return upk_diag_set(diag, err, w_mem, -1,
				    "%llu bytes is above the maximum %llu (libsodium SENSITIVE)",
				    (unsigned long long)p->memlimit, UPKK_KDF_MEMLIMIT_MAX);
	if (p->memlimit % 1024)
		return upk_diag_set(diag, err, w_mem, -1, "%llu is not a multiple of 1024",
				    (unsigned long long)p->memlimit);
	return UPK_OK;
}

/* ---- objects ---- */

/* sodium_malloc'd buffer of n bytes, or NULL; libsodium is initialised first. */
static uint8_t *secure_alloc(size_t n)
{
	if (sodium_init() < 0)
		return NULL;
	return sodium_malloc(n);
}

void upkk_file_free(struct upkk_file *f)
{
	if (!f)
		return;
	free(f->public_value);
	if (f->public_obj)
		json_decref(f->public_obj);
	sodium_free(f->secret);
	sodium_memzero(f, sizeof(*f));
	free(f);
}

void upkk_key_free(struct upkk_key *key)
{
	if (!key)
		return;
	if (key->public_obj)
		json_decref(key->public_obj);
	sodium_free(key->secret);
	sodium_memzero(key, sizeof(*key));
	free(key);
}

static void secret_freep(uint8_t **p)
{
	sodium_free(*p);
}
#define _cleanup_secret_ _cleanup_(secret_freep)

/*
 * Build a key from a file secret: expand it, and make the public key object
 * and key id. *ret_public gets the keyval.public value the secret implies.
 */
static enum upk_err key_from_secret(const struct keytype_ops *ops, const uint8_t *file_secret,
				    struct upkk_key **ret, char **ret_public, struct upk_diag *diag)
{
	_cleanup_(upkk_key_freep) struct upkk_key *key = calloc(1, sizeof(*key));
	_cleanup_free_ char *pub = NULL;
	enum upk_err r;

	if (!key)
		return UPK_E_NOMEM;
	key->type = ops->type;
	key->scheme = ops->scheme;
	key->secret = secure_alloc(ops->key_secret_len);
	if (!key->secret)
		return upk_diag_set(diag, UPK_E_NOMEM, NULL, -1, "cannot allocate secure memory");
	key->secret_len = ops->key_secret_len;
	r = ops->expand(file_secret, key->secret, &pub);
	if (r == UPK_E_KEYFILE)
		return keyfile_err(diag, "secret", "not a valid %s private key", ops->name);
	if (r)
		return upk_diag_set(diag, r, NULL, -1, "cannot expand the secret key");
	r = ops->public_object(pub, &key->public_obj, diag);
	if (r)
		return r;
	r = upk_key_id(key->public_obj, key->keyid, diag);
	if (r)
		return r;
	*ret = key;
	key = NULL;
	*ret_public = pub;
	pub = NULL;
	return UPK_OK;
}

enum upk_err upkk_key_generate(enum upk_keytype type, struct upkk_key **ret,
			       struct upk_diag *reterr_diag)
{
	const struct keytype_ops *ops = ops_by_type(type);
	_cleanup_secret_ uint8_t *seed = NULL;
	_cleanup_free_ char *pub = NULL;
	enum upk_err r;

	if (!ops)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "key type \"%s\" is not supported (supported: " SUPPORTED_TYPES
				    ")",
				    upk_keytype_name(type));
	seed = secure_alloc(ops->file_secret_len);
	if (!seed)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1,
				    "cannot allocate secure memory");
	r = ops->generate(seed);
	if (r)
		return upk_diag_set(reterr_diag, r, NULL, -1, "cannot generate a %s key",
				    ops->name);
	return key_from_secret(ops, seed, ret, &pub, reterr_diag);
}

enum upk_err upkk_key_sign(void *ctx, const uint8_t *msg, size_t msg_len, struct upk_buf *sig)
{
	const struct upkk_key *key = ctx;
	const struct keytype_ops *ops = ops_by_type(key->type);
	enum upk_err r;

	sig->len = 0;
	if (!ops) /* keys are only made by this module: a type it does not know is a bug */
		return UPK_E_INTERNAL;
	r = ops->sign(key->secret, msg, msg_len, sig);
	if (r)
		sig->len = 0;
	return r;
}

/* ---- AEAD additional data (FORMAT.md, "What the AEAD covers") ---- */

static enum upk_err ad_u32(struct upk_buf *ad, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	return upk_buf_append(ad, b, sizeof(b));
}

static enum upk_err ad_u64(struct upk_buf *ad, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (56 - 8 * i));
	return upk_buf_append(ad, b, sizeof(b));
}

/* A length-prefixed field: u32 big-endian length, then the bytes. */
static enum upk_err ad_field(struct upk_buf *ad, const void *data, size_t len)
{
	enum upk_err r;

	assert(len <= UINT32_MAX);
	r = ad_u32(ad, (uint32_t)len);
	return r ? r : upk_buf_append(ad, data, len);
}

static enum upk_err ad_str(struct upk_buf *ad, const char *s)
{
	return ad_field(ad, s, strlen(s));
}

/*
 * Every field of the file except the ciphertext, in a fixed binary layout
 * rather than canonical JSON: it is trivial to reproduce from FORMAT.md and
 * does not depend on any JSON encoder being byte-exact.
 */
static enum upk_err build_ad(const struct upkk_file *f, const struct keytype_ops *ops,
			     struct upk_buf *ad)
{
	enum upk_err r;

	r = upk_buf_append(ad, AD_DOMAIN, sizeof(AD_DOMAIN)); /* with its NUL */
	if (!r)
		r = ad_u32(ad, UPKK_FORMAT_VERSION);
	if (!r)
		r = ad_str(ad, ops->name);
	if (!r)
		r = ad_str(ad, ops->scheme_name);
	if (!r)
		r = ad_str(ad, f->keyid);
	if (!r)
		r = ad_str(ad, f->public_value);
	if (!r)
		r = ad_str(ad, UPKK_KDF_NAME);
	if (!r)
		r = ad_u64(ad, f->kdf.opslimit);
	if (!r)
		r = ad_u64(ad, f->kdf.memlimit);
	if (!r)
		r = ad_field(ad, f->salt, sizeof(f->salt));
	if (!r)
		r = ad_str(ad, UPKK_CIPHER_NAME);
	if (!r)
		r = ad_field(ad, f->nonce, sizeof(f->nonce));
	return r;
}

/* ---- open and seal ---- */

/*
 * The last check of every open: the secret must make the public key the
 * file records (for an encrypted file the AEAD already bound that header to
 * the ciphertext; this also catches a file sealed from an inconsistent key).
 */
static enum upk_err open_secret(const struct upkk_file *f, const struct keytype_ops *ops,
				const uint8_t *file_secret, struct upkk_key **ret,
				struct upk_diag *diag)
{
	_cleanup_(upkk_key_freep) struct upkk_key *key = NULL;
	_cleanup_free_ char *pub = NULL;
	enum upk_err r = key_from_secret(ops, file_secret, &key, &pub, diag);

	if (r)
		return r;
	if (strcmp(pub, f->public_value) != 0)
		return keyfile_err(diag, "public",
				   "the secret key does not belong to this public key");
	*ret = key;
	key = NULL;
	return UPK_OK;
}

enum upk_err upkk_file_derive_kek(const struct upkk_file *f, const char *passphrase,
				  size_t passphrase_len, uint8_t ret_kek[UPKK_KEK_LEN],
				  struct upk_diag *reterr_diag)
{
	assert(f->encrypted);
	if (sodium_init() < 0)
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, NULL, -1,
				    "libsodium cannot initialise");
	if (crypto_pwhash(ret_kek, UPKK_KEK_LEN, passphrase ? passphrase : "", passphrase_len,
			  f->salt, f->kdf.opslimit, (size_t)f->kdf.memlimit,
			  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1,
				    "Argon2id cannot get %llu bytes of memory",
				    (unsigned long long)f->kdf.memlimit);
	return UPK_OK;
}

enum upk_err upkk_file_open_kek(const struct upkk_file *f, const uint8_t kek[UPKK_KEK_LEN],
				struct upkk_key **ret, struct upk_diag *reterr_diag)
{
	const struct keytype_ops *ops = ops_by_type(f->type);
	_cleanup_buf_ struct upk_buf ad = UPK_BUF_INIT;
	_cleanup_secret_ uint8_t *secret = NULL;
	unsigned long long secret_len = 0;
	enum upk_err r;

	assert(f->encrypted);
	if (!ops) /* file objects are only made by this module */
		return UPK_E_INTERNAL;
	assert(f->ciphertext_len == ops->file_secret_len + UPKK_TAG_LEN);
	r = build_ad(f, ops, &ad);
	if (r)
		return upk_diag_set(reterr_diag, r, NULL, -1, "out of memory");
	secret = secure_alloc(ops->file_secret_len);
	if (!secret)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1,
				    "cannot allocate secure memory");
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, &secret_len, NULL, f->ciphertext,
						       f->ciphertext_len, ad.data, ad.len, f->nonce,
						       kek) != 0)
		return upk_diag_set(reterr_diag, UPK_E_PASSPHRASE, "", -1,
				    "wrong passphrase, or the key file was altered");
	assert(secret_len == ops->file_secret_len);
	return open_secret(f, ops, secret, ret, reterr_diag);
}

enum upk_err upkk_file_open(const struct upkk_file *f, const char *passphrase,
			    size_t passphrase_len, struct upkk_key **ret,
			    struct upk_diag *reterr_diag)
{
	const struct keytype_ops *ops = ops_by_type(f->type);
	_cleanup_secret_ uint8_t *kek = NULL;
	enum upk_err r;

	if (!ops) /* objects are only made by this module */
		return UPK_E_INTERNAL;
	if (!f->encrypted)
		return open_secret(f, ops, f->secret, ret, reterr_diag);
	if (!passphrase)
		return upk_diag_set(reterr_diag, UPK_E_PASSPHRASE, "", -1,
				    "the key file is encrypted: a passphrase is needed");
	kek = secure_alloc(UPKK_KEK_LEN);
	if (!kek)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1,
				    "cannot allocate secure memory");
	r = upkk_file_derive_kek(f, passphrase, passphrase_len, kek, reterr_diag);
	if (r)
		return r;
	return upkk_file_open_kek(f, kek, ret, reterr_diag);
}

/* The clear part of a file object for key (public value, key id). */
static enum upk_err file_header(const struct upkk_key *key, struct upkk_file **ret)
{
	_cleanup_(upkk_file_freep) struct upkk_file *f = calloc(1, sizeof(*f));
	const char *pub = json_string_value(
		json_object_get(json_object_get(key->public_obj, "keyval"), "public"));

	if (!f)
		return UPK_E_NOMEM;
	assert(pub);
	f->type = key->type;
	f->scheme = key->scheme;
	memcpy(f->keyid, key->keyid, sizeof(f->keyid));
	f->public_value = strdup(pub);
	f->public_obj = json_deep_copy(key->public_obj);
	if (!f->public_value || !f->public_obj)
		return UPK_E_NOMEM;
	*ret = f;
	f = NULL;
	return UPK_OK;
}

enum upk_err upkk_file_seal(const struct upkk_key *key, const char *passphrase,
			    size_t passphrase_len, const struct upkk_kdf_params *kdf,
			    struct upkk_file **ret, struct upk_diag *reterr_diag)
{
	const struct keytype_ops *ops = ops_by_type(key->type);
	_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;
	_cleanup_buf_ struct upk_buf ad = UPK_BUF_INIT;
	_cleanup_secret_ uint8_t *secret = NULL;
	_cleanup_secret_ uint8_t *kek = NULL;
	unsigned long long clen = 0;
	enum upk_err r;

	if (!ops) /* objects are only made by this module */
		return UPK_E_INTERNAL;
	if (passphrase && passphrase_len == 0)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "an empty passphrase protects nothing; write the key "
				    "unencrypted instead");
	r = file_header(key, &f);
	if (r)
		return upk_diag_set(reterr_diag, r, NULL, -1, "out of memory");
	secret = secure_alloc(ops->file_secret_len);
	if (!secret)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1,
				    "cannot allocate secure memory");
	ops->to_file_secret(key->secret, secret);
	if (!passphrase) {
		f->secret = secret;
		f->secret_len = ops->file_secret_len;
		secret = NULL;
		*ret = f;
		f = NULL;
		return UPK_OK;
	}

	f->encrypted = true;
	if (kdf)
		f->kdf = *kdf;
	else
		upkk_kdf_params_default(&f->kdf);
	r = kdf_check(&f->kdf, UPK_E_USAGE, reterr_diag);
	if (r)
		return r;
	randombytes_buf(f->salt, sizeof(f->salt));
	randombytes_buf(f->nonce, sizeof(f->nonce));
	kek = secure_alloc(UPKK_KEK_LEN);
	if (!kek)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1,
				    "cannot allocate secure memory");
	r = upkk_file_derive_kek(f, passphrase, passphrase_len, kek, reterr_diag);
	if (r)
		return r;
	r = build_ad(f, ops, &ad);
	if (r)
		return upk_diag_set(reterr_diag, r, NULL, -1, "out of memory");
	crypto_aead_xchacha20poly1305_ietf_encrypt(f->ciphertext, &clen, secret,
						   ops->file_secret_len, ad.data, ad.len, NULL,
						   f->nonce, kek);
	f->ciphertext_len = (size_t)clen;
	assert(f->ciphertext_len == ops->file_secret_len + UPKK_TAG_LEN);
	*ret = f;
	f = NULL;
	return UPK_OK;
}

/* ---- parse ---- */

/* Turn a JSON helper's error into a key file error about `where`. */
static enum upk_err as_keyfile(enum upk_err r, struct upk_diag *diag, const char *where,
			       const char *prefix)
{
	char reason[sizeof(diag->reason) + 64]; /* upk_diag_set truncates */

	if (r == UPK_E_NOMEM)
		return r;
	if (!diag)
		return UPK_E_KEYFILE;
	snprintf(reason, sizeof(reason), "%s%s", prefix, diag->reason);
	return upk_diag_set(diag, UPK_E_KEYFILE, where, diag->offset, "%s", reason);
}

static enum upk_err get_str(const json_t *obj, const char *key, const char *where, const char **ret,
			    struct upk_diag *diag)
{
	enum upk_err r = upk_json_get_str(obj, key, ret, diag);

	return r ? as_keyfile(r, diag, where, "") : UPK_OK;
}

/* A member that must be exactly `n` bytes as 2n lower-case hex digits. */
static enum upk_err get_hex(const json_t *obj, const char *key, const char *where, uint8_t *out,
			    size_t n, struct upk_diag *diag)
{
	const char *s;
	enum upk_err r = get_str(obj, key, where, &s, diag);

	if (r)
		return r;
	if (!upk_hex_is_valid(s, 2 * n) || upk_hex_decode(s, 2 * n, out, n, NULL) != UPK_OK)
		return keyfile_err(diag, where, "not %zu lower-case hex digits", 2 * n);
	return UPK_OK;
}

static enum upk_err get_u64(const json_t *obj, const char *key, const char *where, uint64_t *ret,
			    struct upk_diag *diag)
{
	int64_t v;
	enum upk_err r = upk_json_get_int(obj, key, 0, INT64_MAX, &v, diag);

	if (r)
		return as_keyfile(r, diag, where, "");
	*ret = (uint64_t)v;
	return UPK_OK;
}

/* Refuse members outside `allowed` (NULL-terminated): version 1 has exactly these. */
static enum upk_err only_members(json_t *obj, const char *const *allowed, const char *prefix,
				 struct upk_diag *diag)
{
	const char *key;
	json_t *v;

	json_object_foreach (obj, key, v) {
		bool ok = false;
		char where[128];

		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = !strcmp(allowed[i], key);
		if (ok)
			continue;
		snprintf(where, sizeof(where), "%s%s", prefix, key);
		return keyfile_err(diag, where,
				   "unknown field (format version %d has no such field)",
				   UPKK_FORMAT_VERSION);
	}
	return UPK_OK;
}

/* Say what a JSON object that is not a key file is, when it is a known kind. */
static enum upk_err not_a_keyfile(const json_t *doc, struct upk_diag *diag)
{
	if (json_object_get(doc, "keyval") && json_object_get(doc, "keytype"))
		return keyfile_err(diag, NULL,
				   "this is a public key (a TUF key object), not a private key "
				   "file");
	if (json_object_get(doc, "signed") && json_object_get(doc, "signatures"))
		return keyfile_err(diag, NULL, "this is TUF metadata, not a private key file");
	return keyfile_err(diag, NULL,
			   "not an upkeep private key file (no \"upkeep_private_key\" field)");
}

static bool starts_with(const uint8_t *data, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && !memcmp(data, prefix, n);
}

static enum upk_err parse_encryption(json_t *enc, const struct keytype_ops *ops,
				     struct upkk_file *f, struct upk_diag *diag)
{
	static const char *const members[] = { "kdf",	 "opslimit", "memlimit",   "salt",
					       "cipher", "nonce",    "ciphertext", NULL };
	const char *s;
	enum upk_err r;

	r = only_members(enc, members, "encryption.", diag);
	if (r)
		return r;
	r = get_str(enc, "kdf", "encryption.kdf", &s, diag);
	if (r)
		return r;
	if (strcmp(s, UPKK_KDF_NAME) != 0)
		return keyfile_err(diag, "encryption.kdf", "\"%s\" is not supported (expected %s)",
				   s, UPKK_KDF_NAME);
	r = get_u64(enc, "opslimit", "encryption.opslimit", &f->kdf.opslimit, diag);
	if (!r)
		r = get_u64(enc, "memlimit", "encryption.memlimit", &f->kdf.memlimit, diag);
	if (!r)
		r = kdf_check(&f->kdf, UPK_E_KEYFILE, diag);
	if (!r)
		r = get_hex(enc, "salt", "encryption.salt", f->salt, sizeof(f->salt), diag);
	if (!r)
		r = get_str(enc, "cipher", "encryption.cipher", &s, diag);
	if (r)
		return r;
	if (strcmp(s, UPKK_CIPHER_NAME) != 0)
		return keyfile_err(diag, "encryption.cipher",
				   "\"%s\" is not supported (expected %s)", s, UPKK_CIPHER_NAME);
	r = get_hex(enc, "nonce", "encryption.nonce", f->nonce, sizeof(f->nonce), diag);
	if (r)
		return r;
	f->ciphertext_len = ops->file_secret_len + UPKK_TAG_LEN;
	r = get_hex(enc, "ciphertext", "encryption.ciphertext", f->ciphertext, f->ciphertext_len,
		    diag);
	if (r)
		return r;
	f->encrypted = true;
	return UPK_OK;
}

/*
 * An unencrypted file's secret, decoded into secure memory. jansson's copy of
 * the hex string is wiped in place too: nothing else refers to it, and the
 * document is released right after parsing.
 */
static enum upk_err parse_secret(const json_t *doc, const struct keytype_ops *ops,
				 struct upkk_file *f, struct upk_diag *diag)
{
	json_t *v = json_object_get(doc, "secret");
	size_t n = ops->file_secret_len;
	enum upk_err r;

	if (!v)
		return keyfile_err(diag, "secret", "missing (\"encryption\" is null)");
	if (!json_is_string(v))
		return keyfile_err(diag, "secret", "not a string");
	f->secret = secure_alloc(n);
	if (!f->secret)
		return upk_diag_set(diag, UPK_E_NOMEM, NULL, -1, "cannot allocate secure memory");
	f->secret_len = n;
	r = get_hex(doc, "secret", "secret", f->secret, n, diag);
	sodium_memzero((void *)(uintptr_t)json_string_value(v), json_string_length(v));
	return r;
}

enum upk_err upkk_file_parse(const uint8_t *data, size_t len, struct upkk_file **ret,
			     struct upk_diag *reterr_diag)
{
	static const char *const members[] = {
		"upkeep_private_key", "keytype", "scheme", "keyid", "public",
		"encryption",	      "secret",	 NULL
	};
	_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;
	_cleanup_json_ json_t *doc = NULL;
	const struct keytype_ops *ops;
	json_t *version, *enc;
	const char *s;
	char keyid[UPK_KEYID_HEX_LEN + 1];
	enum upk_err r;

	if (len > UPKK_FILE_MAX_SIZE)
		return keyfile_err(reterr_diag, NULL,
				   "%zu bytes is more than a key file can be (%d bytes)", len,
				   UPKK_FILE_MAX_SIZE);
	if (starts_with(data, len, "-----BEGIN"))
		return keyfile_err(reterr_diag, NULL,
				   "a PEM file, not an upkeep private key file (keys/FORMAT.md)");
	r = upk_json_parse(data, len, UPKK_FILE_MAX_SIZE, &doc, reterr_diag);
	if (r)
		return as_keyfile(r, reterr_diag, "", "not valid JSON: ");
	if (!json_is_object(doc))
		return keyfile_err(reterr_diag, NULL,
				   "not an upkeep private key file (a JSON array)");
	version = json_object_get(doc, "upkeep_private_key");
	if (!version)
		return not_a_keyfile(doc, reterr_diag);
	if (!json_is_integer(version))
		return keyfile_err(reterr_diag, "upkeep_private_key", "not an integer");
	if (json_integer_value(version) != UPKK_FORMAT_VERSION)
		return keyfile_err(reterr_diag, "upkeep_private_key",
				   "format version %lld is not supported (this upkeep-keys reads "
				   "version %d)",
				   (long long)json_integer_value(version), UPKK_FORMAT_VERSION);
	r = only_members(doc, members, "", reterr_diag);
	if (r)
		return r;

	f = calloc(1, sizeof(*f));
	if (!f)
		return UPK_E_NOMEM;
	r = get_str(doc, "keytype", "keytype", &s, reterr_diag);
	if (r)
		return r;
	ops = ops_by_name(s);
	if (!ops)
		return keyfile_err(
			reterr_diag, "keytype",
			"key type \"%s\" is not supported (supported: " SUPPORTED_TYPES ")", s);
	f->type = ops->type;
	f->scheme = ops->scheme;
	r = get_str(doc, "scheme", "scheme", &s, reterr_diag);
	if (r)
		return r;
	if (strcmp(s, ops->scheme_name) != 0)
		return keyfile_err(reterr_diag, "scheme",
				   "\"%s\" does not go with key type \"%s\" (expected \"%s\")", s,
				   ops->name, ops->scheme_name);
	r = get_str(doc, "public", "public", &s, reterr_diag);
	if (r)
		return r;
	f->public_value = strdup(s);
	if (!f->public_value)
		return UPK_E_NOMEM;
	r = ops->public_object(s, &f->public_obj, reterr_diag);
	if (r)
		return r;
	r = upk_key_id(f->public_obj, keyid, reterr_diag);
	if (r)
		return r;
	r = get_str(doc, "keyid", "keyid", &s, reterr_diag);
	if (r)
		return r;
	if (!upk_hex_is_valid(s, UPK_KEYID_HEX_LEN))
		return keyfile_err(reterr_diag, "keyid", "not %d lower-case hex digits",
				   UPK_KEYID_HEX_LEN);
	if (strcmp(s, keyid) != 0)
		return keyfile_err(reterr_diag, "keyid",
				   "not the key id of the public key (which is %s)", keyid);
	memcpy(f->keyid, keyid, sizeof(keyid));

	enc = json_object_get(doc, "encryption");
	if (!enc)
		return keyfile_err(reterr_diag, "encryption", "missing");
	if (json_is_null(enc)) {
		r = parse_secret(doc, ops, f, reterr_diag);
	} else if (json_is_object(enc)) {
		if (json_object_get(doc, "secret"))
			return keyfile_err(reterr_diag, "secret",
					   "a clear secret in an encrypted file");
		r = parse_encryption(enc, ops, f, reterr_diag);
	} else {
		r = keyfile_err(reterr_diag, "encryption", "neither an object nor null");
	}
	if (r)
		return r;
	*ret = f;
	f = NULL;
	return UPK_OK;
}

/* ---- serialize ---- */

/* Append s as a JSON string; only `"`, `\` and control characters need escapes. */
static enum upk_err append_json_str(struct upk_buf *out, const char *s)
{
	enum upk_err r = upk_buf_append_byte(out, '"');

	for (; !r && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			r = upk_buf_printf(out, "\\%c", c);
		else if (c == '\n')
			r = upk_buf_append_str(out, "\\n");
		else if (c < 0x20)
			r = upk_buf_printf(out, "\\u%04x", c);
		else
			r = upk_buf_append_byte(out, c);
	}
	return r ? r : upk_buf_append_byte(out, '"');
}

static enum upk_err append_hex(struct upk_buf *out, const uint8_t *data, size_t n)
{
	enum upk_err r = upk_buf_reserve(out, 2 * n);

	if (r)
		return r;
	upk_hex_encode(data, n, (char *)out->data + out->len);
	out->len += 2 * n;
	return UPK_OK;
}

/* `  "name": "HEX",\n` (the secret goes straight into reserved space, no copy). */
static enum upk_err append_hex_member(struct upk_buf *out, const char *indent, const char *name,
				      const uint8_t *data, size_t n, bool last)
{
	enum upk_err r = upk_buf_printf(out, "%s\"%s\": \"", indent, name);

	if (!r)
		r = append_hex(out, data, n);
	return r ? r : upk_buf_append_str(out, last ? "\"\n" : "\",\n");
}

static enum upk_err serialize(const struct upkk_file *f, const struct keytype_ops *ops,
			      struct upk_buf *out)
{
	enum upk_err r;

	r = upk_buf_printf(out,
			   "{\n  \"upkeep_private_key\": %d,\n  \"keytype\": \"%s\",\n"
			   "  \"scheme\": \"%s\",\n  \"keyid\": \"%s\",\n  \"public\": ",
			   UPKK_FORMAT_VERSION, ops->name, ops->scheme_name, f->keyid);
	if (!r)
		r = append_json_str(out, f->public_value);
	if (r)
		return r;
	if (!f->encrypted) {
		r = upk_buf_append_str(out, ",\n  \"encryption\": null,\n");
		if (!r)
			r = append_hex_member(out, "  ", "secret", f->secret, f->secret_len, true);
		return r ? r : upk_buf_append_str(out, "}\n");
	}
	r = upk_buf_printf(out,
			   ",\n  \"encryption\": {\n    \"kdf\": \"%s\",\n"
			   "    \"opslimit\": %llu,\n    \"memlimit\": %llu,\n",
			   UPKK_KDF_NAME, (unsigned long long)f->kdf.opslimit,
			   (unsigned long long)f->kdf.memlimit);
	if (!r)
		r = append_hex_member(out, "    ", "salt", f->salt, sizeof(f->salt), false);
	if (!r)
		r = upk_buf_printf(out, "    \"cipher\": \"%s\",\n", UPKK_CIPHER_NAME);
	if (!r)
		r = append_hex_member(out, "    ", "nonce", f->nonce, sizeof(f->nonce), false);
	if (!r)
		r = append_hex_member(out, "    ", "ciphertext", f->ciphertext, f->ciphertext_len,
				      true);
	return r ? r : upk_buf_append_str(out, "  }\n}\n");
}

enum upk_err upkk_file_serialize(const struct upkk_file *f, struct upk_buf *out)
{
	const struct keytype_ops *ops = ops_by_type(f->type);
	size_t start = out->len, need;
	enum upk_err r;

	if (!ops) /* objects are only made by this module */
		return UPK_E_INTERNAL;
	/* Fixed text, every escape of the public value, and the hex fields. */
	if (!upk_size_mul(strlen(f->public_value), 6, &need) || !upk_size_add(need, 1024, &need))
		return UPK_E_NOMEM;
	r = upk_buf_reserve(out, need);
	if (!r)
		r = serialize(f, ops, out);
	if (r) {
		if (out->data)
			sodium_memzero(out->data + start, out->len - start);
		out->len = start;
		if (out->data)
			out->data[start] = 0;
	}
	return r;
}

/* ---- file half ---- */

static void wipe_bufp(struct upk_buf *b)
{
	if (b->data)
		sodium_memzero(b->data, b->cap);
	upk_buf_done(b);
}

enum upk_err upkk_file_read(const char *path, struct upkk_file **ret, struct upk_diag *reterr_diag)
{
	_cleanup_(wipe_bufp) struct upk_buf buf = UPK_BUF_INIT;
	mode_t mode = 0;
	enum upk_err r;

	r = upk_io_read_file(path, UPKK_FILE_MAX_SIZE, &buf, &mode, reterr_diag);
	if (r == UPK_E_TOO_LARGE)
		return upk_diag_set(reterr_diag, UPK_E_KEYFILE, path, -1,
				    "larger than %d bytes: not a key file", UPKK_FILE_MAX_SIZE);
	if (r)
		return r;
	if (mode & 077)
		return upk_diag_set(reterr_diag, UPK_E_PERMISSION, path, -1,
				    "permissions %04o are too open: a private key file must not be "
				    "accessible by group or others (chmod 600)",
				    (unsigned)(mode & 07777));
	r = upkk_file_parse(buf.data, buf.len, ret, reterr_diag);
	if (r)
		upk_diag_prefix_where(reterr_diag, path);
	return r;
}

enum upk_err upkk_file_write(const char *path, const struct upkk_file *f, bool replace,
			     struct upk_diag *reterr_diag)
{
	_cleanup_(wipe_bufp) struct upk_buf out = UPK_BUF_INIT;
	_cleanup_free_ char *target = NULL;
	struct stat st;
	enum upk_err r;

	r = upkk_file_serialize(f, &out);
	if (r)
		return upk_diag_set(reterr_diag, r, path, -1, "out of memory");
	if (!replace)
		return upk_io_create_atomic(path, out.data, out.len, 0600, reterr_diag);
	/* Replace what a symlink points to, not the link (the link may be managed elsewhere). */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
		target = realpath(path, NULL);
		if (!target)
			return upk_diag_set(reterr_diag,
					    errno == ENOENT ? UPK_E_NOT_FOUND : UPK_E_IO, path, -1,
					    "cannot resolve the symlink: %s", strerror(errno));
	}
	return upk_io_write_atomic(target ? target : path, out.data, out.len, 0600, reterr_diag);
}

enum upk_err upkk_key_load(const char *path, const char *passphrase, size_t passphrase_len,
			   struct upkk_key **ret, struct upk_diag *reterr_diag)
{
	_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;
	enum upk_err r = upkk_file_read(path, &f, reterr_diag);

	if (r)
		return r;
	r = upkk_file_open(f, passphrase, passphrase_len, ret, reterr_diag);
	if (r)
		upk_diag_prefix_where(reterr_diag, path);
	return r;
}
