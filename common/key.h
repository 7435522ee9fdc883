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
 * Key ids are what the TUF specification says: the hex SHA-256 of the
 * canonical JSON of the key object exactly as it appears (securesystemslib
 * computes the same over the same object).
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

#define UPK_KEYID_HEX_LEN 64
#define UPK_ED25519_PUBLIC_LEN 32
#define UPK_ED25519_SECRET_LEN 64 /* libsodium form: seed || public */
#define UPK_ED25519_SIG_LEN 64

struct upk_key {
	char keyid[UPK_KEYID_HEX_LEN + 1]; /* filled by the caller that knows it ("" otherwise) */
	enum upk_keytype type;
	enum upk_scheme scheme;
	bool supported;                          /* type and scheme known and consistent */
	uint8_t ed25519[UPK_ED25519_PUBLIC_LEN]; /* for UPK_KEYTYPE_ED25519 */
	void *pkey;                              /* EVP_PKEY * for ECDSA and RSA, else NULL */
	json_t *obj;                             /* the key object, one reference owned */
};

/*
 * Parse a key object. On success *ret owns a reference to obj and maybe an
 * EVP_PKEY; release with upk_key_done(). keyid is left empty. On failure
 * *ret is zeroed.
 */
UPK_WUR enum upk_err upk_key_parse(json_t *obj, struct upk_key *ret, struct upk_diag *reterr_diag);
/* Release what upk_key_parse took; safe on a zeroed or already-done key. */
void upk_key_done(struct upk_key *key);

/* Key id of a key object: hex SHA-256 of its canonical JSON. */
UPK_WUR enum upk_err upk_key_id(const json_t *obj, char ret[UPK_KEYID_HEX_LEN + 1],
				struct upk_diag *reterr_diag);

/* New key object {"keytype":"ed25519","scheme":"ed25519","keyval":{"public":HEX}}. */
UPK_WUR enum upk_err upk_key_ed25519_object(const uint8_t pub[UPK_ED25519_PUBLIC_LEN],
					    json_t **ret);

/*
 * True if both keys hold the same public key material (same type and bytes),
 * whatever their key ids: so one key listed under two ids counts once
 * toward a threshold.
 */
bool upk_key_same_material(const struct upk_key *a, const struct upk_key *b);

const char *upk_keytype_name(enum upk_keytype t);
const char *upk_scheme_name(enum upk_scheme s);
