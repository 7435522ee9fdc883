/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Private key files (the format is specified byte for byte in keys/FORMAT.md).
 *
 * Two halves, as everywhere in Upkeep:
 *   - the PURE half works on bytes in memory: upkk_file_parse (bytes ->
 *     struct upkk_file, nothing decrypted), upkk_file_serialize (struct ->
 *     bytes), upkk_file_open / upkk_file_open_kek (decrypt and check ->
 *     struct upkk_key), upkk_file_seal (key -> struct upkk_file, encrypting),
 *     upkk_key_generate and upkk_key_sign. No files, environment or clock;
 *     only libsodium's randomness (generation, salts, nonces).
 *   - the FILE half: upkk_file_read (bounded read, refuses a file group or
 *     others may access), upkk_file_write (atomic, mode 0600) and
 *     upkk_key_load (read + open).
 *
 * A key file holds one private key in JSON: the key type and scheme, the
 * TUF public key value and key id in the clear, and the secret either sealed
 * with Argon2id + XChaCha20-Poly1305 under a passphrase, or (for keys that
 * must be usable unattended) in the clear. The clear header is authenticated
 * only when the secret is opened: the AEAD's additional data covers every
 * field but the ciphertext, and the public key derived from the decrypted
 * secret must equal the recorded one.
 *
 * Key types are dispatched through a table: ed25519 (secret: the 32-byte
 * RFC 8032 seed; public: 64 hex digits) and ecdsa with scheme
 * ecdsa-sha2-nistp256 (secret: the 32-byte P-256 private scalar; public: PEM
 * SubjectPublicKeyInfo in the exact layout OpenSSL and securesystemslib
 * write). Any other keytype is refused as "not supported".
 *
 * Errors: UPK_E_KEYFILE for anything wrong with a file's content (not JSON,
 * another format, unknown version, bad field, KDF parameters outside the
 * accepted range, a secret that does not match the public key);
 * UPK_E_PASSPHRASE when decryption fails (wrong passphrase, or an altered
 * header, salt, nonce or ciphertext: the AEAD cannot tell these apart);
 * UPK_E_PERMISSION for a file group or others may access; UPK_E_NOT_FOUND /
 * UPK_E_IO / UPK_E_EXISTS from the file system; UPK_E_USAGE for a request the
 * library refuses (unsupported key type, empty passphrase, KDF parameters
 * out of range); UPK_E_NOMEM. diag->where names the field ("encryption.salt"),
 * prefixed by the path in the file half.
 *
 * Secrets (passphrase-derived keys, seeds, secret keys) live only in
 * sodium_malloc'd memory and are wiped when freed. Outputs are untouched on
 * failure.
 *
 * THREAD SAFETY: reentrant; an object belongs to one thread at a time.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "key.h"
#include "util.h"

/* Value of the "upkeep_private_key" field this code reads and writes. */
#define UPKK_FORMAT_VERSION 1
/* Largest key file accepted, checked before anything is allocated for it. */
#define UPKK_FILE_MAX_SIZE 65536

/* The only KDF and cipher of format version 1, by their names in the file. */
#define UPKK_KDF_NAME	 "argon2id13"
#define UPKK_CIPHER_NAME "xchacha20poly1305-ietf"

#define UPKK_SALT_LEN  16 /* Argon2id salt */
#define UPKK_NONCE_LEN 24 /* XChaCha20-Poly1305 nonce */
#define UPKK_TAG_LEN   16 /* Poly1305 tag */
#define UPKK_KEK_LEN   32 /* key-encryption key derived from the passphrase */
/* Largest secret a key type stores in the file (ed25519 seed, P-256 scalar: 32 bytes). */
#define UPKK_SECRET_MAX_LEN 32

/*
 * Accepted Argon2id parameters: libsodium's INTERACTIVE limits are the floor
 * (anything weaker is refused as a downgrade), its SENSITIVE limits the
 * ceiling (anything costlier is refused so a hostile file cannot make the
 * loader spend minutes or gigabytes). memlimit must be a multiple of 1024.
 */
#define UPKK_KDF_OPSLIMIT_MIN 2ULL	    /* crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE */
#define UPKK_KDF_OPSLIMIT_MAX 4ULL	    /* crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE */
#define UPKK_KDF_MEMLIMIT_MIN 67108864ULL   /* 64 MiB, ..._MEMLIMIT_INTERACTIVE */
#define UPKK_KDF_MEMLIMIT_MAX 1073741824ULL /* 1 GiB, ..._MEMLIMIT_SENSITIVE */

struct upkk_kdf_params {
	uint64_t opslimit;
	uint64_t memlimit; /* bytes */
};

/*
 * libsodium's presets by name: "interactive" (the default for new files:
 * 2 passes, 64 MiB), "moderate" (3, 256 MiB), "sensitive" (4, 1 GiB).
 * false (and *ret untouched) for any other name.
 */
bool upkk_kdf_params_from_name(const char *name, struct upkk_kdf_params *ret);
/* The default for new files: the "interactive" preset. */
void upkk_kdf_params_default(struct upkk_kdf_params *ret);

/*
 * Key types this build can generate and load: true and *ret set for
 * "ed25519" and "ecdsa" (P-256); false for anything else (including names
 * TUF knows that upkeep-keys does not make, such as "rsa" or the old keytype
 * spelling "ecdsa-sha2-nistp256").
 */
bool upkk_keytype_from_name(const char *name, enum upk_keytype *ret);

/*
 * A parsed key file. Nothing in it has been authenticated yet (see the top
 * comment); fields are read-only for callers.
 */
struct upkk_file {
	enum upk_keytype type;
	enum upk_scheme scheme;
	char keyid[UPK_KEYID_HEX_LEN + 1]; /* checked: the key id of public_obj */
	char *public_value;		   /* "public": the TUF keyval.public string */
	json_t *public_obj;		   /* the TUF public key object it makes */
	bool encrypted;
	/* encrypted only */
	struct upkk_kdf_params kdf;
	uint8_t salt[UPKK_SALT_LEN];
	uint8_t nonce[UPKK_NONCE_LEN];
	uint8_t ciphertext[UPKK_SECRET_MAX_LEN + UPKK_TAG_LEN];
	size_t ciphertext_len;
	/* unencrypted only: the secret, sodium_malloc'd */
	uint8_t *secret;
	size_t secret_len;
};

/*
 * A private key ready to sign. secret is sodium_malloc'd (for ed25519 the
 * libsodium 64-byte secret key, seed || public; for ecdsa the 32-byte
 * big-endian P-256 scalar); public_obj is the TUF public
 * key object (one reference owned, not shared with any file object) and keyid
 * its TUF key id. Fields are read-only for callers.
 */
struct upkk_key {
	enum upk_keytype type;
	enum upk_scheme scheme;
	char keyid[UPK_KEYID_HEX_LEN + 1];
	json_t *public_obj;
	uint8_t *secret;
	size_t secret_len;
};

/* ---- pure half ---- */

/*
 * Parse the bytes of a key file. Checks everything that can be checked
 * without the passphrase: size (len > UPKK_FILE_MAX_SIZE is refused before
 * parsing), JSON syntax, that it is this format (public key objects, TUF
 * metadata and PEM files are named as such), the version, no unknown or
 * missing field, key type and scheme, hex lengths, that keyid is the key id
 * of the public key, and the KDF parameter range. UPK_E_KEYFILE (or
 * UPK_E_NOMEM) on failure, with the field in diag->where.
 * On success *ret is a new object for upkk_file_free.
 */
UPK_WUR enum upk_err upkk_file_parse(const uint8_t *data, size_t len, struct upkk_file **ret,
				     struct upk_diag *reterr_diag);

/*
 * Append the file's bytes (keys/FORMAT.md layout; upkk_file_parse of them
 * gives back an equal object) to out. For an unencrypted file they hold the
 * secret: the caller wipes them (sodium_memzero) when done. Space is reserved
 * up front, so out is never reallocated while the secret is written.
 * On failure out keeps its length on entry.
 */
UPK_WUR enum upk_err upkk_file_serialize(const struct upkk_file *f, struct upk_buf *out);

/* Wipes and frees; NULL is accepted. */
void upkk_file_free(struct upkk_file *f);
UPK_DEFINE_CLEANUP(struct upkk_file, upkk_file_free)

/*
 * Open the key a file holds. For an encrypted file, derive the key-encryption
 * key from the passphrase (Argon2id with the file's parameters: this takes
 * about as long and as much memory as they say), decrypt, and check that the
 * secret makes the recorded public key. passphrase may contain any bytes;
 * NULL for an encrypted file is UPK_E_PASSPHRASE ("a passphrase is needed").
 * For an unencrypted file the passphrase is ignored and only the check runs.
 * UPK_E_PASSPHRASE if decryption fails, UPK_E_KEYFILE if the secret does not
 * match the public key (or is not a private key of its type at all: a P-256
 * scalar of 0 or not below the group order). *ret is a new key for
 * upkk_key_free.
 */
UPK_WUR enum upk_err upkk_file_open(const struct upkk_file *f, const char *passphrase,
				    size_t passphrase_len, struct upkk_key **ret,
				    struct upk_diag *reterr_diag);

/*
 * The two steps of upkk_file_open for an encrypted file, apart so that a
 * caller can reuse a derived key (the fuzz target does; Argon2id per input
 * would make fuzzing useless). f must be encrypted (asserted).
 * derive_kek: Argon2id(passphrase, salt, opslimit, memlimit) -> ret_kek;
 * UPK_E_NOMEM if libsodium cannot get the memory.
 * open_kek: decrypt with kek and check, as upkk_file_open.
 */
UPK_WUR enum upk_err upkk_file_derive_kek(const struct upkk_file *f, const char *passphrase,
					  size_t passphrase_len, uint8_t ret_kek[UPKK_KEK_LEN],
					  struct upk_diag *reterr_diag);
UPK_WUR enum upk_err upkk_file_open_kek(const struct upkk_file *f, const uint8_t kek[UPKK_KEK_LEN],
					struct upkk_key **ret, struct upk_diag *reterr_diag);

/*
 * Make the file object for key: with a passphrase (non-empty; an empty one is
 * UPK_E_USAGE), a fresh random salt and nonce, Argon2id with kdf (NULL: the
 * default; outside the accepted range: UPK_E_USAGE) and XChaCha20-Poly1305;
 * with passphrase NULL, unencrypted (kdf ignored).
 */
UPK_WUR enum upk_err upkk_file_seal(const struct upkk_key *key, const char *passphrase,
				    size_t passphrase_len, const struct upkk_kdf_params *kdf,
				    struct upkk_file **ret, struct upk_diag *reterr_diag);

/*
 * A new random key of a supported type (ed25519: libsodium's randomness;
 * ecdsa: OpenSSL's P-256 key generator); UPK_E_USAGE ("not supported")
 * otherwise.
 */
UPK_WUR enum upk_err upkk_key_generate(enum upk_keytype type, struct upkk_key **ret,
				       struct upk_diag *reterr_diag);

/* Wipes and frees; NULL is accepted. */
void upkk_key_free(struct upkk_key *key);
UPK_DEFINE_CLEANUP(struct upkk_key, upkk_key_free)

/*
 * Sign msg with the key `ctx` (a struct upkk_key *): an upk_sign_fn
 * (common/meta.h), so metadata can be signed without the secret leaving this
 * module. Dispatches on the key type: the signature (ed25519: the raw 64
 * bytes; ecdsa: DER ECDSA over SHA-256 of msg, at most 72 bytes, randomized)
 * replaces sig's content; sig is empty on failure.
 */
UPK_WUR enum upk_err upkk_key_sign(void *ctx, const uint8_t *msg, size_t msg_len,
				   struct upk_buf *sig);

/* ---- file half ---- */

/*
 * Read and parse a key file. The file is opened once; on that descriptor it
 * must be a regular file (else UPK_E_IO) of at most UPKK_FILE_MAX_SIZE bytes
 * (else UPK_E_KEYFILE) whose mode gives group and others nothing
 * (mode & 077 == 0, else UPK_E_PERMISSION, like ssh: "permissions 0644 are
 * too open"), checked before the content is parsed.
 * The read buffer is wiped. diag->where starts with path.
 */
UPK_WUR enum upk_err upkk_file_read(const char *path, struct upkk_file **ret,
				    struct upk_diag *reterr_diag);

/*
 * Write f to path atomically with mode 0600 (temporary file in the same
 * directory, fsync, rename, fsync of the directory). replace=false: an
 * existing path (even a dangling symlink) is UPK_E_EXISTS and nothing is
 * written. replace=true: the file is replaced; if path is a symlink, the file
 * it points to is replaced and the link kept. On failure the old file, if
 * any, is unchanged and no temporary file remains.
 */
UPK_WUR enum upk_err upkk_file_write(const char *path, const struct upkk_file *f, bool replace,
				     struct upk_diag *reterr_diag);

/* upkk_file_read + upkk_file_open; diag->where starts with path. */
UPK_WUR enum upk_err upkk_key_load(const char *path, const char *passphrase, size_t passphrase_len,
				   struct upkk_key **ret, struct upk_diag *reterr_diag);
