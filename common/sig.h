/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Signatures over TUF canonical bytes.
 *
 * Verify: ed25519 (libsodium, 64-byte signature), ecdsa-sha2-nistp256 (DER
 * ECDSA signature over SHA-256 of the message, OpenSSL), rsassa-pss-sha256
 * (RSA-PSS, SHA-256, MGF1-SHA-256, salt length = digest length as
 * securesystemslib signs, auto-detected on verify, OpenSSL).
 * Sign: ed25519 with a libsodium 64-byte secret key; ecdsa-sha2-nistp256 with
 * a 32-byte P-256 private scalar (OpenSSL, DER signature over SHA-256, the
 * form securesystemslib and the verifier above use).
 *
 * THREAD SAFETY: reentrant.
 */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "key.h"

/* A P-256 private key: its scalar d, 1 <= d < n, big-endian (SEC 1 / RFC 5915). */
#define UPK_ECDSA_P256_SCALAR_LEN 32

/*
 * UPK_OK only if sig is a valid signature of msg by key. UPK_E_UNKNOWN_KEY
 * if the key is unsupported (never a valid signature), UPK_E_SIGNATURE for
 * anything else (wrong length, malformed DER, mismatch). Never UPK_OK for
 * an ECDSA signature that is not strict DER (no raw r||s, no trailing bytes).
 * UPK_E_NOMEM / UPK_E_INTERNAL only if the crypto libraries fail. msg may be
 * NULL when msg_len is 0.
 */
UPK_WUR enum upk_err upk_sig_verify(const struct upk_key *key, const uint8_t *msg, size_t msg_len,
				    const uint8_t *sig, size_t sig_len);

/*
 * Ed25519 detached signature with a libsodium secret key (seed || public).
 * UPK_E_KEYFILE if the public half does not belong to the seed (signing
 * with a wrong public half would leak the key); ret_sig untouched then.
 * The check costs one extra key derivation per signature.
 */
UPK_WUR enum upk_err upk_sig_sign_ed25519(const uint8_t sk[UPK_ED25519_SECRET_LEN],
					  const uint8_t *msg, size_t msg_len,
					  uint8_t ret_sig[UPK_ED25519_SIG_LEN]);

/*
 * A new P-256 private scalar from OpenSSL's key generator (EVP_PKEY_Q_keygen),
 * written to ret_scalar, which should be sodium_malloc'd: OpenSSL's own
 * copies are wiped before returning. UPK_E_NOMEM / UPK_E_INTERNAL if OpenSSL
 * fails; ret_scalar untouched then.
 */
UPK_WUR enum upk_err upk_sig_ecdsa_p256_generate(uint8_t ret_scalar[UPK_ECDSA_P256_SCALAR_LEN]);

/*
 * The public key of a P-256 scalar as the TUF keyval.public string: PEM
 * SubjectPublicKeyInfo with the named curve and the uncompressed point, in
 * the exact layout OpenSSL and python-cryptography (so securesystemslib)
 * write: 64-column base64, LF line ends, a final LF (178 bytes). Appended to
 * ret_pem and NUL-terminated. UPK_E_KEYFILE if the scalar is 0 or not below
 * the group order (not a private key); UPK_E_NOMEM / UPK_E_INTERNAL if
 * OpenSSL fails. ret_pem keeps its length on entry on failure.
 */
UPK_WUR enum upk_err upk_sig_ecdsa_p256_public_pem(const uint8_t scalar[UPK_ECDSA_P256_SCALAR_LEN],
						   struct upk_buf *ret_pem);

/*
 * ecdsa-sha2-nistp256 signature of msg with the private scalar: ECDSA over
 * SHA-256 of msg, DER-encoded (at most 72 bytes), as upk_sig_verify and
 * securesystemslib take it. The nonce is OpenSSL's (random, mixed with the
 * key), so two signatures of one message differ. Appended to der_sig.
 * UPK_E_KEYFILE for a scalar out of range; UPK_E_NOMEM / UPK_E_INTERNAL if
 * OpenSSL fails. der_sig keeps its length on entry on failure. The OpenSSL
 * key made for the signature is freed, which wipes its private scalar.
 * msg may be NULL when msg_len is 0.
 */
UPK_WUR enum upk_err upk_sig_sign_ecdsa_p256(const uint8_t scalar[UPK_ECDSA_P256_SCALAR_LEN],
					     const uint8_t *msg, size_t msg_len,
					     struct upk_buf *der_sig);

/*
 * The PEM SubjectPublicKeyInfo of a parsed key that has OpenSSL key material
 * (ECDSA, RSA), in the layout of upk_sig_ecdsa_p256_public_pem (an EC
 * point read compressed is written uncompressed): so a caller
 * can tell whether a keyval.public string is in that canonical form.
 * Appended to ret_pem and NUL-terminated. UPK_E_UNKNOWN_KEY if the key has
 * no such material (ed25519, unsupported); UPK_E_NOMEM / UPK_E_INTERNAL.
 * ret_pem keeps its length on entry on failure.
 */
UPK_WUR enum upk_err upk_sig_public_pem(const struct upk_key *key, struct upk_buf *ret_pem);
