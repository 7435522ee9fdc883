/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * TUF public key objects: {"keytype", "scheme", "keyval": {"public"}}.
 *
 * Supported (keytype/scheme):
 *   ed25519 / ed25519                          keyval.public = 64 hex digits
 *   ecdsa (or ecdsa-sha2-nistp256) / ecdsa-sha2-nistp256   keyval.public = PEM SubjectPublicKeyInfo
 *   rsa / rsassa-pss-sha256                    keyval.public = PEM SubjectPublicKeyInfo
 * Any other keytype or scheme still parses (the spec lets roots list keys a
 * client cannot use) with `supported = false`; such a key never verifies.
 * A supported keytype whose key material does not parse is UPK_E_FORMAT.
 *
 * Details of what parses (securesystemslib 0.26 is the reference):
 *   - the object needs string "keytype" and "scheme" and an object "keyval";
 *     other members are kept (and covered by the key id). For a supported
 *     combination keyval.public must be a string; for others keyval is not
 *     looked into, so material of a scheme Upkeep lacks never fails a root.
 *   - `type` and `scheme` are set from the names even when the combination
 *     is not supported (e.g. rsa / rsa-pkcs1v15-sha256, ecdsa /
 *     ecdsa-sha2-nistp384); only `supported` says the key can verify.
 *   - ed25519: exactly 64 hex digits; upper-case digits are accepted because
 *     securesystemslib decodes them with binascii.unhexlify (the key id is
 *     over the string as written, so it differs from the lower-case form).
 *   - PEM: the first public key block of the string, SubjectPublicKeyInfo
 *     or PKCS#1 "RSA PUBLIC KEY" (both load in securesystemslib); text
 *     around it is ignored; at most UPK_KEY_PEM_MAX bytes; a block claiming
 *     to be encrypted is refused. ECDSA keys must be on P-256, named as
 *     prime256v1 (explicit curve parameters are refused) and pass OpenSSL's
 *     public key check; securesystemslib would take any curve, Upkeep does not.
 *     RSA keys must be plain rsaEncryption keys of UPK_KEY_RSA_MIN_BITS to
 *     UPK_KEY_RSA_MAX_BITS bits (securesystemslib sets no minimum; 1024 is
 *     kept for interoperability with old repositories, not as a
 *     recommendation).
 *
 * Key ids are what the TUF specification says: the hex SHA-256 of the
 * canonical JSON of the key object exactly as it appears (securesystemslib
 * computes the same over the same object).
 *
 * THREAD SAFETY: reentrant; a parsed key is only read by verification.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

enum upk_keytype {
	UPK_KEYTYPE_UNKNOWN,
	UPK_KEYTYPE_ED25519,
	UPK_KEYTYPE_ECDSA_P256,
	UPK_KEYTYPE_RSA,
};

enum upk_scheme {
	UPK_SCHEME_UNKNOWN,
	UPK_SCHEME_ED25519,
	UPK_SCHEME_ECDSA_SHA2_NISTP256,
	UPK_SCHEME_RSASSA_PSS_SHA256,
};

#define UPK_KEYID_HEX_LEN      64
#define UPK_ED25519_PUBLIC_LEN 32
#define UPK_ED25519_SECRET_LEN 64 /* libsodium form: seed || public */
#define UPK_ED25519_SIG_LEN    64
/* Longest keyval.public PEM string accepted (a 16384-bit RSA key is ~2.8 KB). */
#define UPK_KEY_PEM_MAX	     16384
#define UPK_KEY_RSA_MIN_BITS 1024
#define UPK_KEY_RSA_MAX_BITS 16384 /* OpenSSL's own verification limit */

struct upk_key {
	char keyid[UPK_KEYID_HEX_LEN + 1]; /* filled by the caller that knows it ("" otherwise) */
	enum upk_keytype type;
	enum upk_scheme scheme;
	bool supported;				 /* type and scheme known and consistent */
	uint8_t ed25519[UPK_ED25519_PUBLIC_LEN]; /* for UPK_KEYTYPE_ED25519 */
	void *pkey;				 /* EVP_PKEY * for ECDSA and RSA, else NULL */
	json_t *obj;				 /* the key object, one reference owned */
};

/*
 * Parse a key object. On success *ret owns a reference to obj and maybe an
 * EVP_PKEY; release with upk_key_done(). keyid is left empty. On failure
 * *ret is zeroed: UPK_E_FORMAT (diag->where names the member: "keytype",
 * "scheme", "keyval", "keyval.public"; empty if obj is not an object) or
 * UPK_E_NOMEM.
 */
UPK_WUR enum upk_err upk_key_parse(json_t *obj, struct upk_key *ret, struct upk_diag *reterr_diag);
/* Release what upk_key_parse took; safe on a zeroed or already-done key. */
void upk_key_done(struct upk_key *key);

/*
 * Key id of a key object: hex SHA-256 of its canonical JSON (64 lower-case
 * digits and a NUL). UPK_E_FORMAT if obj is not an object or holds a real.
 */
UPK_WUR enum upk_err upk_key_id(const json_t *obj, char ret[UPK_KEYID_HEX_LEN + 1],
				struct upk_diag *reterr_diag);

/*
 * New key object {"keytype":"ed25519","scheme":"ed25519","keyval":{"public":HEX}}
 * (lower-case hex), a reference the caller owns. UPK_E_NOMEM; *ret untouched then.
 */
UPK_WUR enum upk_err upk_key_ed25519_object(const uint8_t pub[UPK_ED25519_PUBLIC_LEN],
					    json_t **ret);

/*
 * True if both keys hold the same public key material (same type and bytes),
 * whatever their key ids: so one key listed under two ids counts once
 * toward a threshold. Keytype spellings "ecdsa" and "ecdsa-sha2-nistp256"
 * are the same type. False if either key is unsupported (it never verifies,
 * so it never counts).
 */
bool upk_key_same_material(const struct upk_key *a, const struct upk_key *b);

/* TUF names ("ed25519", "ecdsa", "rsa"; the schemes' own names); "unknown" otherwise. */
const char *upk_keytype_name(enum upk_keytype t);
const char *upk_scheme_name(enum upk_scheme s);
