/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Signatures over TUF canonical bytes.
 *
 * Verify: ed25519 (libsodium, 64-byte signature), ecdsa-sha2-nistp256 (DER
 * ECDSA signature over SHA-256 of the message, OpenSSL), rsassa-pss-sha256
 * (RSA-PSS, SHA-256, MGF1-SHA-256, salt length = digest length as
 * securesystemslib signs, auto-detected on verify, OpenSSL).
 * Sign: ed25519 with a libsodium 64-byte secret key.
 *
 * THREAD SAFETY: reentrant.
 */
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "key.h"

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
