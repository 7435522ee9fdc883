/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for keys/keyfile: the pure parse/serialize/open/seal half and
 * the file half (read, atomic write, load), with every rejection path.
 * Argon2id runs with the INTERACTIVE limits (about 0.1 s each), so the
 * number of decryptions here is kept to what the cases need.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "hex.h"
#include "json.h"
#include "keyfile.h"
#include "meta.h"
#include "sig.h"

#define PASS	 "correct horse battery staple"
#define PASS_LEN (sizeof(PASS) - 1)

/* RFC 8032 section 7.1, test 1: seed, public key, signature of the empty message. */
#define RFC_SEED   "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC_PUBLIC "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define RFC_SIG                                                                                    \
	"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970" \
	"1cf9b"                                                                                    \
	"46bd25bf5f0595bbe24655141438e7a100b"
/* sha256 of the canonical key object, computed with securesystemslib encode_canonical. */
#define RFC_KEYID "74c181c7ad8a0855d4b55e44d2ba87aabdddb196832571f15f92fece332e4916"
/* keys/FORMAT.md "Test vector": passphrase, salt 00..0f, nonce 40..57 -> ciphertext. */
#define FORMAT_MD_PASS "upkeep-fuzz-passphrase"
#define FORMAT_MD_CIPHERTEXT                                                                       \
	"6c5e84c89e5830d9eea88bd1ae59274c04394cddc757e153e2a399b2ef80b41eb82ada384cde94c2aeef3e02" \
	"f1"                                                                                       \
	"7ca486"

/*
 * keys/FORMAT.md "Test vector", ecdsa: the RFC 6979 A.2.5 P-256 key, its PEM
 * (python-cryptography), key id (securesystemslib) and ciphertext (PyNaCl).
 */
#define P256_SCALAR "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721"
#define P256_PEM                                                             \
	"-----BEGIN PUBLIC KEY-----\n"                                       \
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7\n" \
	"Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\n"     \
	"-----END PUBLIC KEY-----\n"
#define P256_KEYID "716d622ec609eff48475645919645bb30ef604f59a69c764608fb64272dd5fe5"
#define P256_FORMAT_MD_CIPHERTEXT                                                                  \
	"38909c8d341f1faf3f70e0725b04dd1b0e204a6f8a8d1358e912579ae121ac5f1a1acc16466dd4af3c0ba4f0" \
	"376d777e"
#define P256_ORDER "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"

/* The fixtures: an encrypted and an unencrypted key file per key type, made once. */
struct fx {
	struct upkk_key *key;
	struct upk_buf enc;    /* encrypted file bytes */
	struct upk_buf clear;  /* unencrypted file bytes */
	struct upkk_key *ekey; /* the same for an ecdsa key */
	struct upk_buf eenc;
	struct upk_buf eclear;
	char dir[256];
};

static struct fx *G;

static void serialize_file(const struct upkk_file *f, struct upk_buf *out)
{
	out->len = 0;
	assert_int_equal(upkk_file_serialize(f, out), UPK_OK);
}

static int group_setup(void **state)
{
	struct upkk_file *f = NULL;
	const char *tmp = getenv("TMPDIR");

	(void)state;
	G = calloc(1, sizeof(*G));
	assert_non_null(G);
	assert_int_equal(upkk_key_generate(UPK_KEYTYPE_ED25519, &G->key, NULL), UPK_OK);
	assert_int_equal(upkk_file_seal(G->key, PASS, PASS_LEN, NULL, &f, NULL), UPK_OK);
	serialize_file(f, &G->enc);
	upkk_file_free(f);
	f = NULL;
	assert_int_equal(upkk_file_seal(G->key, NULL, 0, NULL, &f, NULL), UPK_OK);
	serialize_file(f, &G->clear);
	upkk_file_free(f);
	f = NULL;
	assert_int_equal(upkk_key_generate(UPK_KEYTYPE_ECDSA_P256, &G->ekey, NULL), UPK_OK);
	assert_int_equal(upkk_file_seal(G->ekey, PASS, PASS_LEN, NULL, &f, NULL), UPK_OK);
	serialize_file(f, &G->eenc);
	upkk_file_free(f);
	f = NULL;
	assert_int_equal(upkk_file_seal(G->ekey, NULL, 0, NULL, &f, NULL), UPK_OK);
	serialize_file(f, &G->eclear);
	upkk_file_free(f);
	snprintf(G->dir, sizeof(G->dir), "%s/upk-keyfile-XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(G->dir));
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", G->dir);
	assert_int_equal(WEXITSTATUS(system(cmd)), 0);
	upkk_key_free(G->key);
	upk_buf_done(&G->enc);
	upk_buf_done(&G->clear);
	upkk_key_free(G->ekey);
	upk_buf_done(&G->eenc);
	upk_buf_done(&G->eclear);
	free(G);
	return 0;
}

/* ---- helpers ---- */

static enum upk_err parse(const void *data, size_t len, struct upkk_file **ret, struct upk_diag *d)
{
	upk_diag_clear(d);
	return upkk_file_parse(data, len, ret, d);
}

/* Parsing must fail with UPK_E_KEYFILE about `where`, the reason containing `needle`. */
static void expect_keyfile_error(const char *text, const char *where, const char *needle)
{
	struct upkk_file *f = NULL;
	struct upk_diag d;
	enum upk_err r = parse(text, strlen(text), &f, &d);

	if (r != UPK_E_KEYFILE || (where && strcmp(d.where, where) != 0) ||
	    (needle && !strstr(d.reason, needle)))
		fail_msg("expected KEYFILE at '%s' with '%s', got %s at '%s': %s\n%s",
			 where ? where : "*", needle ? needle : "*", upk_err_name(r), d.where,
			 d.reason, text);
	assert_null(f);
}

/*
 * A copy of the file bytes with the member at `path` ("encryption.salt")
 * replaced by `val` (stolen), or removed when val is NULL.
 */
static char *mutate(const struct upk_buf *file, const char *path, json_t *val)
{
	json_t *doc = json_loadb((const char *)file->data, file->len, 0, NULL);
	json_t *obj = doc;
	char buf[128], *dot, *key = buf;
	char *text;

	assert_non_null(doc);
	snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(key, '.'))) {
		*dot = 0;
		obj = json_object_get(obj, key);
		assert_non_null(obj);
		key = dot + 1;
	}
	if (val)
		assert_int_equal(json_object_set_new(obj, key, val), 0);
	else
		assert_int_equal(json_object_del(obj, key), 0);
	text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	assert_non_null(text);
	json_decref(doc);
	return text;
}

static const char *member_str(const struct upk_buf *file, const char *path)
{
	static char out[256];
	json_t *doc = json_loadb((const char *)file->data, file->len, 0, NULL);
	json_t *v = doc;
	char buf[128], *dot, *key = buf;

	snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(key, '.'))) {
		*dot = 0;
		v = json_object_get(v, key);
		key = dot + 1;
	}
	v = json_object_get(v, key);
	assert_true(json_is_string(v));
	snprintf(out, sizeof(out), "%s", json_string_value(v));
	json_decref(doc);
	return out;
}

/* The string member at path with its first hex digit changed. */
static json_t *flipped(const struct upk_buf *file, const char *path)
{
	char s[256];

	snprintf(s, sizeof(s), "%s", member_str(file, path));
	s[0] = s[0] == '0' ? '1' : '0';
	return json_string(s);
}

static void open_expect(const char *text, const char *pass, enum upk_err want, const char *needle)
{
	struct upkk_file *f = NULL;
	struct upkk_key *key = NULL;
	struct upk_diag d;

	assert_int_equal(parse(text, strlen(text), &f, &d), UPK_OK);
	upk_diag_clear(&d);
	assert_int_equal(upkk_file_open(f, pass, pass ? strlen(pass) : 0, &key, &d), want);
	if (want)
		assert_null(key);
	if (needle && !strstr(d.reason, needle))
		fail_msg("reason '%s' lacks '%s'", d.reason, needle);
	upkk_key_free(key);
	upkk_file_free(f);
}

static void assert_same_key(const struct upkk_key *a, const struct upkk_key *b)
{
	assert_string_equal(a->keyid, b->keyid);
	assert_int_equal(a->secret_len, b->secret_len);
	assert_memory_equal(a->secret, b->secret, a->secret_len);
	assert_true(json_equal(a->public_obj, b->public_obj));
}

static void path_in(const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", G->dir, name);
}

static void write_raw(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* The file's bytes (NUL-terminated, malloc'd) and length. */
static char *slurp(const char *path, size_t *ret_len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = calloc(1, UPKK_FILE_MAX_SIZE * 2);
	size_t n;

	assert_non_null(fp);
	assert_non_null(buf);
	n = fread(buf, 1, UPKK_FILE_MAX_SIZE * 2 - 1, fp);
	fclose(fp);
	if (ret_len)
		*ret_len = n;
	return buf;
}

static int count_entries(void)
{
	char cmd[512];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", G->dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

/* ---- pure half: round trips ---- */

static void test_roundtrip_encrypted(void **state)
{
	struct upkk_file *f = NULL;
	struct upkk_key *key = NULL;
	struct upk_buf again = UPK_BUF_INIT;
	struct upk_diag d;

	(void)state;
	assert_int_equal(parse(G->enc.data, G->enc.len, &f, &d), UPK_OK);
	assert_true(f->encrypted);
	assert_int_equal(f->type, UPK_KEYTYPE_ED25519);
	assert_int_equal(f->scheme, UPK_SCHEME_ED25519);
	assert_int_equal(f->kdf.opslimit, UPKK_KDF_OPSLIMIT_MIN);
	assert_int_equal(f->kdf.memlimit, UPKK_KDF_MEMLIMIT_MIN);
	assert_null(f->secret);
	assert_string_equal(f->keyid, G->key->keyid);
	assert_true(json_equal(f->public_obj, G->key->public_obj));
	/* serialize(parse(bytes)) == bytes: the layout is deterministic. */
	serialize_file(f, &again);
	assert_int_equal(again.len, G->enc.len);
	assert_memory_equal(again.data, G->enc.data, again.len);
	assert_int_equal(upkk_file_open(f, PASS, PASS_LEN, &key, &d), UPK_OK);
	assert_same_key(key, G->key);
	upkk_key_free(key);
	upkk_file_free(f);
	upk_buf_done(&again);
}

static void test_roundtrip_unencrypted(void **state)
{
	struct upkk_file *f = NULL;
	struct upkk_key *key = NULL;
	struct upk_buf again = UPK_BUF_INIT;
	struct upk_diag d;

	(void)state;
	assert_int_equal(parse(G->clear.data, G->clear.len, &f, &d), UPK_OK);
	assert_false(f->encrypted);
	assert_non_null(f->secret);
	assert_int_equal(f->secret_len, 32);
	assert_non_null(strstr((const char *)G->clear.data, "\"encryption\": null"));
	serialize_file(f, &again);
	assert_int_equal(again.len, G->clear.len);
	assert_memory_equal(again.data, G->clear.data, again.len);
	/* No passphrase needed; one given is ignored. */
	assert_int_equal(upkk_file_open(f, NULL, 0, &key, &d), UPK_OK);
	assert_same_key(key, G->key);
	upkk_key_free(key);
	key = NULL;
	assert_int_equal(upkk_file_open(f, "x", 1, &key, &d), UPK_OK);
	assert_same_key(key, G->key);
	upkk_key_free(key);
	upkk_file_free(f);
	upk_buf_done(&again);
}

/* Re-sealing the same key gives a new salt and nonce each time. */
static void test_seal_is_randomized(void **state)
{
	struct upkk_file *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(upkk_file_seal(G->key, PASS, PASS_LEN, NULL, &a, NULL), UPK_OK);
	assert_int_equal(upkk_file_seal(G->key, PASS, PASS_LEN, NULL, &b, NULL), UPK_OK);
	assert_memory_not_equal(a->salt, b->salt, UPKK_SALT_LEN);
	assert_memory_not_equal(a->nonce, b->nonce, UPKK_NONCE_LEN);
	assert_memory_not_equal(a->ciphertext, b->ciphertext, a->ciphertext_len);
	upkk_file_free(a);
	upkk_file_free(b);
}

static void test_stronger_kdf_roundtrip(void **state)
{
	struct upkk_kdf_params kdf;
	struct upkk_file *f = NULL, *g = NULL;
	struct upkk_key *key = NULL;
	struct upk_buf bytes = UPK_BUF_INIT;

	(void)state;
	assert_true(upkk_kdf_params_from_name("moderate", &kdf));
	assert_int_equal(upkk_file_seal(G->key, PASS, PASS_LEN, &kdf, &f, NULL), UPK_OK);
	serialize_file(f, &bytes);
	assert_non_null(strstr((const char *)bytes.data, "\"memlimit\": 268435456,"));
	assert_non_null(strstr((const char *)bytes.data, "\"opslimit\": 3,"));
	assert_int_equal(upkk_file_parse(bytes.data, bytes.len, &g, NULL), UPK_OK);
	assert_int_equal(upkk_file_open(g, PASS, PASS_LEN, &key, NULL), UPK_OK);
	assert_same_key(key, G->key);
	upkk_key_free(key);
	upkk_file_free(f);
	upkk_file_free(g);
	upk_buf_done(&bytes);
}

/* ---- known answers and the specification ---- */

static void test_known_answer_rfc8032(void **state)
{
	char text[1024];
	struct upkk_file *f = NULL;
	struct upkk_key *key = NULL;
	struct upk_buf sig = UPK_BUF_INIT;
	char hex[2 * UPK_ED25519_SIG_LEN + 1];

	(void)state;
	snprintf(text, sizeof(text),
		 "{\"upkeep_private_key\":1,\"keytype\":\"ed25519\",\"scheme\":\"ed25519\","
		 "\"keyid\":\"%s\",\"public\":\"%s\",\"encryption\":null,\"secret\":\"%s\"}",
		 RFC_KEYID, RFC_PUBLIC, RFC_SEED);
	assert_int_equal(upkk_file_parse((const uint8_t *)text, strlen(text), &f, NULL), UPK_OK);
	assert_int_equal(upkk_file_open(f, NULL, 0, &key, NULL), UPK_OK);
	assert_string_equal(key->keyid, RFC_KEYID);
	assert_int_equal(upkk_key_sign(key, (const uint8_t *)"", 0, &sig), UPK_OK);
	assert_int_equal(sig.len, UPK_ED25519_SIG_LEN);
	upk_hex_encode(sig.data, sig.len, hex);
	assert_string_equal(hex, RFC_SIG);
	upk_buf_done(&sig);
	upkk_key_free(key);
	upkk_file_free(f);
}

static void put_u32(struct upk_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	assert_int_equal(upk_buf_append(b, x, 4), UPK_OK);
}

static void put_field(struct upk_buf *b, const void *data, size_t len)
{
	put_u32(b, (uint32_t)len);
	assert_int_equal(upk_buf_append(b, data, len), UPK_OK);
}

static void put_u64(struct upk_buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)(v >> 32));
	put_u32(b, (uint32_t)v);
}

/*
 * Seal `seed` for the RFC 8032 public key exactly as keys/FORMAT.md says,
 * without the library: proves the document and the code agree.
 */
static void spec_file(const char *seed_hex, char *out, size_t size)
{
	uint8_t seed[32], salt[16], nonce[24], kek[32], ct[48];
	char salt_hex[33], nonce_hex[49], ct_hex[97];
	unsigned long long clen;
	struct upk_buf ad = UPK_BUF_INIT;

	assert_int_equal(upk_hex_decode(seed_hex, 64, seed, sizeof(seed), NULL), UPK_OK);
	for (int i = 0; i < 16; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0x40 + i);
	assert_int_equal(crypto_pwhash(kek, sizeof(kek), FORMAT_MD_PASS, strlen(FORMAT_MD_PASS),
				       salt, 2, 67108864, crypto_pwhash_ALG_ARGON2ID13),
			 0);
	assert_int_equal(upk_buf_append(&ad, "upkeep-private-key", 19), UPK_OK); /* with NUL */
	put_u32(&ad, 1);
	put_field(&ad, "ed25519", 7);
	put_field(&ad, "ed25519", 7);
	put_field(&ad, RFC_KEYID, 64);
	put_field(&ad, RFC_PUBLIC, 64);
	put_field(&ad, "argon2id13", 10);
	put_u64(&ad, 2);
	put_u64(&ad, 67108864);
	put_field(&ad, salt, 16);
	put_field(&ad, "xchacha20poly1305-ietf", 22);
	put_field(&ad, nonce, 24);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, seed, 32, ad.data, ad.len, NULL,
						   nonce, kek);
	assert_int_equal(clen, 48);
	upk_hex_encode(salt, 16, salt_hex);
	upk_hex_encode(nonce, 24, nonce_hex);
	upk_hex_encode(ct, 48, ct_hex);
	snprintf(out, size,
		 "{\"upkeep_private_key\": 1, \"keytype\": \"ed25519\", \"scheme\": \"ed25519\", "
		 "\"keyid\": \"%s\", \"public\": \"%s\", \"encryption\": {\"kdf\": \"argon2id13\", "
		 "\"opslimit\": 2, \"memlimit\": 67108864, \"salt\": \"%s\", \"cipher\": "
		 "\"xchacha20poly1305-ietf\", \"nonce\": \"%s\", \"ciphertext\": \"%s\"}}",
		 RFC_KEYID, RFC_PUBLIC, salt_hex, nonce_hex, ct_hex);
	upk_buf_done(&ad);
}

/* The test vector of keys/FORMAT.md (made there with PyNaCl): same bytes, and it opens. */
static void test_file_made_from_the_spec_opens(void **state)
{
	char text[2048];

	(void)state;
	spec_file(RFC_SEED, text, sizeof(text));
	assert_non_null(strstr(text, "\"ciphertext\": \"" FORMAT_MD_CIPHERTEXT "\""));
	open_expect(text, FORMAT_MD_PASS, UPK_OK, NULL);
}

/* AEAD fine, but the sealed secret belongs to another key: the final check catches it. */
static void test_secret_not_matching_public_is_refused(void **state)
{
	char text[2048], other[65];
	uint8_t seed[32];

	(void)state;
	randombytes_buf(seed, sizeof(seed));
	upk_hex_encode(seed, sizeof(seed), other);
	spec_file(other, text, sizeof(text));
	open_expect(text, FORMAT_MD_PASS, UPK_E_KEYFILE, "does not belong");
}

/* ---- pure half: decryption failures ---- */

static void test_wrong_or_missing_passphrase(void **state)
{
	const char *text = (const char *)G->enc.data;
	struct upkk_file *f = NULL;
	struct upkk_key *key = NULL;
	struct upk_diag d;

	(void)state;
	open_expect(text, "Correct horse battery staple", UPK_E_PASSPHRASE, "wrong passphrase");
	open_expect(text, "", UPK_E_PASSPHRASE, NULL);
	assert_int_equal(parse(G->enc.data, G->enc.len, &f, &d), UPK_OK);
	assert_int_equal(upkk_file_open(f, NULL, 0, &key, &d), UPK_E_PASSPHRASE);
	assert_non_null(strstr(d.reason, "a passphrase is needed"));
	assert_null(key);
	upkk_file_free(f);
}

/* Each header field and each AEAD input, altered validly, makes decryption fail. */
static void test_altered_fields_fail_to_decrypt(void **state)
{
	static const char *const hex_fields[] = { "encryption.salt", "encryption.nonce",
						  "encryption.ciphertext" };
	struct upkk_key *other = NULL;
	char *text;

	(void)state;
	for (size_t i = 0; i < sizeof(hex_fields) / sizeof(hex_fields[0]); i++) {
		text = mutate(&G->enc, hex_fields[i], flipped(&G->enc, hex_fields[i]));
		open_expect(text, PASS, UPK_E_PASSPHRASE, NULL);
		free(text);
	}
	text = mutate(&G->enc, "encryption.opslimit", json_integer(3));
	open_expect(text, PASS, UPK_E_PASSPHRASE, NULL);
	free(text);
	text = mutate(&G->enc, "encryption.memlimit", json_integer(67108864 + 1024));
	open_expect(text, PASS, UPK_E_PASSPHRASE, NULL);
	free(text);

	/* Another key's public value and key id: consistent header, so only the AEAD objects. */
	assert_int_equal(upkk_key_generate(UPK_KEYTYPE_ED25519, &other, NULL), UPK_OK);
	{
		const char *pub = json_string_value(
			json_object_get(json_object_get(other->public_obj, "keyval"), "public"));
		struct upk_buf step = UPK_BUF_INIT;
		char *t1 = mutate(&G->enc, "public", json_string(pub));

		assert_int_equal(upk_buf_append_str(&step, t1), UPK_OK);
		text = mutate(&step, "keyid", json_string(other->keyid));
		open_expect(text, PASS, UPK_E_PASSPHRASE, NULL);
		free(text);
		free(t1);
		upk_buf_done(&step);
	}
	upkk_key_free(other);
}

static void test_unencrypted_secret_altered(void **state)
{
	char *text = mutate(&G->clear, "secret", flipped(&G->clear, "secret"));

	(void)state;
	open_expect(text, NULL, UPK_E_KEYFILE, "does not belong");
	free(text);
}

/* ---- pure half: parse rejections ---- */

static void test_header_fields_altered(void **state)
{
	char *t;

	(void)state;
	t = mutate(&G->enc, "public", flipped(&G->enc, "public"));
	expect_keyfile_error(t, "keyid", "not the key id of the public key");
	free(t);
	t = mutate(&G->enc, "keyid", flipped(&G->enc, "keyid"));
	expect_keyfile_error(t, "keyid", "not the key id");
	free(t);
	t = mutate(&G->enc, "keytype", json_string("rsa"));
	expect_keyfile_error(t, "keytype", "not supported (supported: ed25519, ecdsa)");
	free(t);
	t = mutate(&G->enc, "keytype", json_string("ecdsa"));
	expect_keyfile_error(t, "scheme", "does not go with");
	free(t);
	t = mutate(&G->enc, "scheme", json_string("ecdsa-sha2-nistp256"));
	expect_keyfile_error(t, "scheme", "does not go with");
	free(t);
	t = mutate(&G->enc, "encryption.kdf", json_string("scrypt"));
	expect_keyfile_error(t, "encryption.kdf", "not supported");
	free(t);
	t = mutate(&G->enc, "encryption.cipher", json_string("aes256gcm"));
	expect_keyfile_error(t, "encryption.cipher", "not supported");
	free(t);
	t = mutate(&G->enc, "public", json_string("00"));
	expect_keyfile_error(t, "public", "hex digits");
	free(t);
}

static void test_unknown_version(void **state)
{
	char *t;

	(void)state;
	t = mutate(&G->enc, "upkeep_private_key", json_integer(2));
	expect_keyfile_error(t, "upkeep_private_key", "format version 2 is not supported");
	free(t);
	t = mutate(&G->enc, "upkeep_private_key", json_integer(0));
	expect_keyfile_error(t, "upkeep_private_key", "version 0");
	free(t);
	t = mutate(&G->enc, "upkeep_private_key", json_string("1"));
	expect_keyfile_error(t, "upkeep_private_key", "not an integer");
	free(t);
}

static void test_kdf_params_out_of_range(void **state)
{
	static const struct {
		const char *field;
		long long value;
		const char *needle;
	} cases[] = {
		{ "encryption.opslimit", 1, "below the minimum" },
		{ "encryption.opslimit", 0, "below the minimum" },
		{ "encryption.opslimit", 5, "above the maximum" },
		{ "encryption.opslimit", 4294967295LL, "above the maximum" },
		{ "encryption.opslimit", -1, NULL },
		{ "encryption.memlimit", 67108864 - 1024, "below the minimum" },
		{ "encryption.memlimit", 8192, "below the minimum" },
		{ "encryption.memlimit", 1073741824LL + 1024, "above the maximum" },
		{ "encryption.memlimit", 67108864 + 1, "multiple of 1024" },
		{ "encryption.memlimit", -67108864, NULL },
	};
	char *t;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = mutate(&G->enc, cases[i].field, json_integer(cases[i].value));
		expect_keyfile_error(t, cases[i].field, cases[i].needle);
		free(t);
	}
	/* The limits themselves are accepted (parse only: no Argon2id run). */
	t = mutate(&G->enc, "encryption.opslimit", json_integer(4));
	{
		struct upk_buf b = UPK_BUF_INIT;
		char *t2;
		struct upkk_file *f = NULL;
		struct upk_diag d;

		assert_int_equal(upk_buf_append_str(&b, t), UPK_OK);
		t2 = mutate(&b, "encryption.memlimit", json_integer(1073741824LL));
		assert_int_equal(parse(t2, strlen(t2), &f, &d), UPK_OK);
		assert_int_equal(f->kdf.opslimit, 4);
		assert_int_equal(f->kdf.memlimit, 1073741824LL);
		upkk_file_free(f);
		free(t2);
		upk_buf_done(&b);
	}
	free(t);
}

/* Every proper prefix fails; the file without its final newline is still whole JSON. */
static void test_truncated_at_every_length(void **state)
{
	const struct upk_buf *files[] = { &G->enc, &G->clear };

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		const struct upk_buf *b = files[k];
		struct upkk_file *f = NULL;
		struct upk_diag d;

		for (size_t n = 0; n + 1 < b->len; n++) {
			/* Exact-size copy, so ASan sees any read past the end. */
			uint8_t *copy = malloc(n ? n : 1);

			assert_non_null(copy);
			memcpy(copy, b->data, n);
			if (parse(copy, n, &f, &d) != UPK_E_KEYFILE)
				fail_msg("prefix of %zu bytes of %zu was accepted", n, b->len);
			assert_null(f);
			free(copy);
		}
		assert_int_equal(parse(b->data, b->len - 1, &f, &d), UPK_OK);
		upkk_file_free(f);
	}
}

static void test_not_json(void **state)
{
	(void)state;
	expect_keyfile_error("", "", "not valid JSON");
	expect_keyfile_error("hello", "", "not valid JSON");
	expect_keyfile_error("{\"upkeep_private_key\": 1,", "", "not valid JSON");
	expect_keyfile_error("\xff\xfe{}", "", "not valid JSON");
	expect_keyfile_error("{\"upkeep_private_key\": 1.0}", "", "not valid JSON");
	expect_keyfile_error("{\"upkeep_private_key\": 1, \"upkeep_private_key\": 1}", "",
			     "not valid JSON");
	expect_keyfile_error("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n", "", "PEM");
	expect_keyfile_error("[1, 2]", "", "JSON array");
	expect_keyfile_error("\"upkeep\"", "", "not valid JSON");
}

static void test_other_formats_are_named(void **state)
{
	char tuf_key[256];

	(void)state;
	snprintf(tuf_key, sizeof(tuf_key),
		 "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":\"%s\"}}",
		 RFC_PUBLIC);
	expect_keyfile_error(tuf_key, "", "this is a public key");
	expect_keyfile_error("{\"signed\":{\"_type\":\"root\"},\"signatures\":[]}", "",
			     "TUF metadata");
	expect_keyfile_error("{\"name\":\"x\"}", "", "no \"upkeep_private_key\" field");
	expect_keyfile_error("{}", "", "not an upkeep private key file");
}

static void test_field_shapes(void **state)
{
	static const char *const required[] = {
		"keytype",
		"scheme",
		"keyid",
		"public",
		"encryption",
		"encryption.kdf",
		"encryption.opslimit",
		"encryption.memlimit",
		"encryption.salt",
		"encryption.cipher",
		"encryption.nonce",
		"encryption.ciphertext",
	};
	char *t;

	(void)state;
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		t = mutate(&G->enc, required[i], NULL);
		expect_keyfile_error(t, required[i], "missing");
		free(t);
	}
	t = mutate(&G->clear, "secret", NULL);
	expect_keyfile_error(t, "secret", "missing");
	free(t);

	t = mutate(&G->enc, "comment", json_string("hello"));
	expect_keyfile_error(t, "comment", "unknown field");
	free(t);
	t = mutate(&G->enc, "encryption.extra", json_integer(1));
	expect_keyfile_error(t, "encryption.extra", "unknown field");
	free(t);
	t = mutate(&G->enc, "secret", json_string(RFC_SEED));
	expect_keyfile_error(t, "secret", "clear secret in an encrypted file");
	free(t);

	t = mutate(&G->enc, "public", json_integer(5));
	expect_keyfile_error(t, "public", "not a string");
	free(t);
	t = mutate(&G->enc, "keytype", json_null());
	expect_keyfile_error(t, "keytype", "not a string");
	free(t);
	t = mutate(&G->enc, "encryption", json_string("argon2id13"));
	expect_keyfile_error(t, "encryption", "neither an object nor null");
	free(t);
	t = mutate(&G->enc, "encryption", json_array());
	expect_keyfile_error(t, "encryption", "neither an object nor null");
	free(t);
	t = mutate(&G->enc, "encryption.opslimit", json_string("2"));
	expect_keyfile_error(t, "encryption.opslimit", "not an integer");
	free(t);
	t = mutate(&G->clear, "secret", json_integer(0));
	expect_keyfile_error(t, "secret", "not a string");
	free(t);

	/* Hex fields: upper case, wrong length, not hex. */
	{
		char up[65];

		snprintf(up, sizeof(up), "%s", member_str(&G->enc, "keyid"));
		for (char *p = up; *p; p++)
			*p = (char)(*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
		if (strcmp(up, member_str(&G->enc, "keyid")) != 0) {
			t = mutate(&G->enc, "keyid", json_string(up));
			expect_keyfile_error(t, "keyid", "lower-case hex");
			free(t);
		}
	}
	t = mutate(&G->enc, "encryption.salt", json_string("00112233445566778899aabbccddeeFF"));
	expect_keyfile_error(t, "encryption.salt", "32 lower-case hex digits");
	free(t);
	t = mutate(&G->enc, "encryption.salt", json_string("0011"));
	expect_keyfile_error(t, "encryption.salt", "32 lower-case hex digits");
	free(t);
	t = mutate(&G->enc, "encryption.nonce", json_string("zz"));
	expect_keyfile_error(t, "encryption.nonce", "48 lower-case hex digits");
	free(t);
	t = mutate(&G->enc, "encryption.ciphertext", json_string(RFC_SEED));
	expect_keyfile_error(t, "encryption.ciphertext", "96 lower-case hex digits");
	free(t);
	t = mutate(&G->clear, "secret", json_string(RFC_PUBLIC "00"));
	expect_keyfile_error(t, "secret", "64 lower-case hex digits");
	free(t);
}

/* The size limit is exact: a file padded to the limit parses, one more byte does not. */
static void test_size_limit(void **state)
{
	uint8_t *big = malloc(UPKK_FILE_MAX_SIZE + 1);
	struct upkk_file *f = NULL;
	struct upk_diag d;

	(void)state;
	assert_non_null(big);
	memset(big, ' ', UPKK_FILE_MAX_SIZE + 1);
	memcpy(big, G->enc.data, G->enc.len);
	assert_int_equal(parse(big, UPKK_FILE_MAX_SIZE, &f, &d), UPK_OK);
	upkk_file_free(f);
	f = NULL;
	assert_int_equal(parse(big, UPKK_FILE_MAX_SIZE + 1, &f, &d), UPK_E_KEYFILE);
	assert_non_null(strstr(d.reason, "more than a key file can be"));
	assert_null(f);
	free(big);
}

/* ---- pure half: what the library refuses to make ---- */

static void test_seal_and_generate_refusals(void **state)
{
	struct upkk_kdf_params weak = { 1, 67108864 }, huge = { 2, 2147483648ULL };
	struct upkk_file *f = NULL;
	struct upkk_key *key = NULL;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	assert_int_equal(upkk_file_seal(G->key, "", 0, NULL, &f, &d), UPK_E_USAGE);
	assert_non_null(strstr(d.reason, "empty passphrase"));
	assert_int_equal(upkk_file_seal(G->key, PASS, PASS_LEN, &weak, &f, &d), UPK_E_USAGE);
	assert_non_null(strstr(d.reason, "below the minimum"));
	assert_int_equal(upkk_file_seal(G->key, PASS, PASS_LEN, &huge, &f, &d), UPK_E_USAGE);
	assert_non_null(strstr(d.reason, "above the maximum"));
	assert_null(f);
	assert_int_equal(upkk_key_generate(UPK_KEYTYPE_RSA, &key, &d), UPK_E_USAGE);
	assert_non_null(strstr(d.reason, "\"rsa\" is not supported (supported: ed25519, ecdsa)"));
	assert_int_equal(upkk_key_generate(UPK_KEYTYPE_UNKNOWN, &key, &d), UPK_E_USAGE);
	assert_null(key);
	assert_int_equal(upkk_file_seal(G->ekey, "", 0, NULL, &f, &d), UPK_E_USAGE);
	assert_null(f);
}

static void test_names(void **state)
{
	struct upkk_kdf_params p = { 99, 99 };
	enum upk_keytype t = UPK_KEYTYPE_UNKNOWN;

	(void)state;
	assert_true(upkk_kdf_params_from_name("interactive", &p));
	assert_int_equal(p.opslimit, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
	assert_int_equal(p.memlimit, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
	assert_true(upkk_kdf_params_from_name("moderate", &p));
	assert_int_equal(p.opslimit, crypto_pwhash_argon2id_OPSLIMIT_MODERATE);
	assert_true(upkk_kdf_params_from_name("sensitive", &p));
	assert_int_equal(p.memlimit, crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE);
	assert_false(upkk_kdf_params_from_name("weak", &p));
	assert_false(upkk_kdf_params_from_name(NULL, &p));
	assert_int_equal(p.memlimit, crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE); /* untouched */
	upkk_kdf_params_default(&p);
	assert_int_equal(p.opslimit, UPKK_KDF_OPSLIMIT_MIN);
	assert_int_equal(p.memlimit, UPKK_KDF_MEMLIMIT_MIN);

	assert_true(upkk_keytype_from_name("ed25519", &t));
	assert_int_equal(t, UPK_KEYTYPE_ED25519);
	assert_true(upkk_keytype_from_name("ecdsa", &t));
	assert_int_equal(t, UPK_KEYTYPE_ECDSA_P256);
	assert_false(upkk_keytype_from_name("ecdsa-sha2-nistp256", &t));
	assert_false(upkk_keytype_from_name("ECDSA", &t));
	assert_false(upkk_keytype_from_name("rsa", &t));
	assert_false(upkk_keytype_from_name("", &t));
	assert_false(upkk_keytype_from_name(NULL, &t));
	assert_int_equal(t, UPK_KEYTYPE_ECDSA_P256);
}

/* ---- signing ---- */

static void verify_with(const struct upkk_key *key, const char *msg, const struct upk_buf *sig,
			enum upk_err want)
{
	struct upk_key pub;

	assert_int_equal(upk_key_parse(key->public_obj, &pub, NULL), UPK_OK);
	assert_int_equal(
		upk_sig_verify(&pub, (const uint8_t *)msg, strlen(msg), sig->data, sig->len), want);
	upk_key_done(&pub);
}

static void test_signatures_verify(void **state)
{
	static const char msg[] = "{\"_type\":\"timestamp\",\"version\":1}";
	upk_sign_fn fn = upkk_key_sign; /* usable where common/meta.h wants a signer */
	struct upkk_key *loaded = NULL;
	struct upk_buf sig = UPK_BUF_INIT;
	char path[512];

	(void)state;
	assert_int_equal(upk_buf_append_str(&sig, "old content"), UPK_OK);
	assert_int_equal(fn(G->key, (const uint8_t *)msg, strlen(msg), &sig), UPK_OK);
	assert_int_equal(sig.len, UPK_ED25519_SIG_LEN);
	verify_with(G->key, msg, &sig, UPK_OK);
	verify_with(G->key, "{\"_type\":\"timestamp\",\"version\":2}", &sig, UPK_E_SIGNATURE);

	/* A key loaded from a file signs the same way. */
	path_in("sign.key", path, sizeof(path));
	write_raw(path, G->enc.data, G->enc.len, 0600);
	assert_int_equal(upkk_key_load(path, PASS, PASS_LEN, &loaded, NULL), UPK_OK);
	assert_int_equal(upkk_key_sign(loaded, (const uint8_t *)msg, strlen(msg), &sig), UPK_OK);
	verify_with(G->key, msg, &sig, UPK_OK);
	sig.data[0] ^= 1;
	verify_with(loaded, msg, &sig, UPK_E_SIGNATURE);
	upkk_key_free(loaded);
	upk_buf_done(&sig);
	unlink(path);
}

/* ---- ecdsa (P-256) ---- */

static const char *ecdsa_pem_of(const struct upkk_key *key)
{
	return json_string_value(
		json_object_get(json_object_get(key->public_obj, "keyval"), "public"));
}

static void test_ecdsa_roundtrip(void **state)
{
	const struct upk_buf *files[] = { &G->eenc, &G->eclear };
	char id[UPK_KEYID_HEX_LEN + 1];

	(void)state;
	assert_int_equal(G->ekey->type, UPK_KEYTYPE_ECDSA_P256);
	assert_int_equal(G->ekey->scheme, UPK_SCHEME_ECDSA_SHA2_NISTP256);
	assert_int_equal(G->ekey->secret_len, 32);
	assert_string_equal(json_string_value(json_object_get(G->ekey->public_obj, "keytype")),
			    "ecdsa");
	assert_string_equal(json_string_value(json_object_get(G->ekey->public_obj, "scheme")),
			    "ecdsa-sha2-nistp256");
	assert_int_equal(strlen(ecdsa_pem_of(G->ekey)), 178);
	assert_int_equal(strncmp(ecdsa_pem_of(G->ekey), "-----BEGIN PUBLIC KEY-----\n", 27), 0);
	assert_int_equal(upk_key_id(G->ekey->public_obj, id, NULL), UPK_OK);
	assert_string_equal(id, G->ekey->keyid);
	assert_string_equal(member_str(&G->eenc, "keytype"), "ecdsa");
	assert_string_equal(member_str(&G->eenc, "scheme"), "ecdsa-sha2-nistp256");
	assert_int_equal(strlen(member_str(&G->eenc, "encryption.ciphertext")), 96);
	for (size_t i = 0; i < 2; i++) {
		struct upkk_file *f = NULL;
		struct upkk_key *key = NULL;
		struct upk_buf again = UPK_BUF_INIT;
		struct upk_diag d;

		assert_int_equal(parse(files[i]->data, files[i]->len, &f, &d), UPK_OK);
		assert_int_equal(f->type, UPK_KEYTYPE_ECDSA_P256);
		assert_int_equal(f->encrypted, i == 0);
		assert_string_equal(f->public_value, ecdsa_pem_of(G->ekey));
		serialize_file(f, &again);
		assert_int_equal(again.len, files[i]->len);
		assert_memory_equal(again.data, files[i]->data, again.len);
		assert_int_equal(upkk_file_open(f, PASS, PASS_LEN, &key, &d), UPK_OK);
		assert_same_key(key, G->ekey);
		upkk_key_free(key);
		upkk_file_free(f);
		upk_buf_done(&again);
	}
}

/* The RFC 6979 key in the clear: key id and PEM as securesystemslib has them; it signs. */
static void test_ecdsa_known_answer(void **state)
{
	static const char msg[] = "{\"_type\":\"targets\",\"version\":1}";
	char text[2048];
	struct upkk_file *f = NULL;
	struct upkk_key *key = NULL;
	struct upk_buf sig = UPK_BUF_INIT, out = UPK_BUF_INIT;
	upk_sign_fn fn = upkk_key_sign;
	json_t *pem;

	(void)state;
	pem = json_string(P256_PEM);
	assert_non_null(pem);
	snprintf(text, sizeof(text),
		 "{\"upkeep_private_key\":1,\"keytype\":\"ecdsa\",\"scheme\":\"ecdsa-sha2-"
		 "nistp256\","
		 "\"keyid\":\"%s\",\"public\":\"-----BEGIN PUBLIC KEY-----\\n"
		 "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7\\n"
		 "Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\\n"
		 "-----END PUBLIC KEY-----\\n\",\"encryption\":null,\"secret\":\"%s\"}",
		 P256_KEYID, P256_SCALAR);
	json_decref(pem);
	assert_int_equal(upkk_file_parse((const uint8_t *)text, strlen(text), &f, NULL), UPK_OK);
	assert_string_equal(f->keyid, P256_KEYID);
	assert_string_equal(f->public_value, P256_PEM);
	assert_int_equal(upkk_file_open(f, NULL, 0, &key, NULL), UPK_OK);
	assert_string_equal(key->keyid, P256_KEYID);
	assert_int_equal(upk_buf_append_str(&sig, "old content"), UPK_OK);
	assert_int_equal(fn(key, (const uint8_t *)msg, strlen(msg), &sig), UPK_OK);
	assert_true(sig.len <= 72 && sig.data[0] == 0x30);
	verify_with(key, msg, &sig, UPK_OK);
	verify_with(key, "{\"_type\":\"targets\",\"version\":2}", &sig, UPK_E_SIGNATURE);
	/* What upkeep-keys writes for it: the FORMAT.md layout, PEM LFs as \n. */
	assert_int_equal(upkk_file_serialize(f, &out), UPK_OK);
	assert_non_null(strstr((const char *)out.data,
			       "  \"public\": \"-----BEGIN PUBLIC KEY-----\\nMFkw"));
	assert_non_null(strstr((const char *)out.data, "-----END PUBLIC KEY-----\\n\",\n"));
	upk_buf_done(&out);
	upk_buf_done(&sig);
	upkk_key_free(key);
	upkk_file_free(f);
}

/*
 * Seal a P-256 scalar for the RFC 6979 public key exactly as keys/FORMAT.md
 * says, without the library.
 */
static void spec_file_ecdsa(const char *scalar_hex, char *out, size_t size)
{
	uint8_t d[32], salt[16], nonce[24], kek[32], ct[48];
	char salt_hex[33], nonce_hex[49], ct_hex[97];
	unsigned long long clen;
	struct upk_buf ad = UPK_BUF_INIT;
	json_t *pem = json_string(P256_PEM);
	char *pem_json;

	assert_non_null(pem);
	pem_json = json_dumps(pem, JSON_ENCODE_ANY);
	assert_non_null(pem_json);
	assert_int_equal(upk_hex_decode(scalar_hex, 64, d, sizeof(d), NULL), UPK_OK);
	for (int i = 0; i < 16; i++)
		salt[i] = (uint8_t)i;
	for (int i = 0; i < 24; i++)
		nonce[i] = (uint8_t)(0x40 + i);
	assert_int_equal(crypto_pwhash(kek, sizeof(kek), FORMAT_MD_PASS, strlen(FORMAT_MD_PASS),
				       salt, 2, 67108864, crypto_pwhash_ALG_ARGON2ID13),
			 0);
	assert_int_equal(upk_buf_append(&ad, "upkeep-private-key", 19), UPK_OK); /* with NUL */
	put_u32(&ad, 1);
	put_field(&ad, "ecdsa", 5);
	put_field(&ad, "ecdsa-sha2-nistp256", 19);
	put_field(&ad, P256_KEYID, 64);
	put_field(&ad, P256_PEM, strlen(P256_PEM));
	put_field(&ad, "argon2id13", 10);
	put_u64(&ad, 2);
	put_u64(&ad, 67108864);
	put_field(&ad, salt, 16);
	put_field(&ad, "xchacha20poly1305-ietf", 22);
	put_field(&ad, nonce, 24);
	assert_int_equal(ad.len, 409);
	crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, d, 32, ad.data, ad.len, NULL, nonce,
						   kek);
	assert_int_equal(clen, 48);
	upk_hex_encode(salt, 16, salt_hex);
	upk_hex_encode(nonce, 24, nonce_hex);
	upk_hex_encode(ct, 48, ct_hex);
	snprintf(out, size,
		 "{\"upkeep_private_key\": 1, \"keytype\": \"ecdsa\", \"scheme\": "
		 "\"ecdsa-sha2-nistp256\", \"keyid\": \"%s\", \"public\": %s, \"encryption\": "
		 "{\"kdf\": \"argon2id13\", \"opslimit\": 2, \"memlimit\": 67108864, \"salt\": "
		 "\"%s\", \"cipher\": \"xchacha20poly1305-ietf\", \"nonce\": \"%s\", "
		 "\"ciphertext\": \"%s\"}}",
		 P256_KEYID, pem_json, salt_hex, nonce_hex, ct_hex);
	free(pem_json);
	json_decref(pem);
	upk_buf_done(&ad);
}

/*
 * The ecdsa test vector of keys/FORMAT.md opens; the AEAD can be valid and
 * the scalar still wrong: another key's, or not a P-256 private key at all.
 */
static void test_ecdsa_file_made_from_the_spec(void **state)
{
	char text[4096], hex[65];
	uint8_t d[32];

	(void)state;
	spec_file_ecdsa(P256_SCALAR, text, sizeof(text));
	assert_non_null(strstr(text, "\"ciphertext\": \"" P256_FORMAT_MD_CIPHERTEXT "\""));
	open_expect(text, FORMAT_MD_PASS, UPK_OK, NULL);
	open_expect(text, "upkeep-fuzz-passphrasE", UPK_E_PASSPHRASE, "wrong passphrase");

	randombytes_buf(d, sizeof(d));
	d[0] &= 0x7f; /* below the order */
	upk_hex_encode(d, sizeof(d), hex);
	spec_file_ecdsa(hex, text, sizeof(text));
	open_expect(text, FORMAT_MD_PASS, UPK_E_KEYFILE, "does not belong");
	spec_file_ecdsa("0000000000000000000000000000000000000000000000000000000000000000", text,
			sizeof(text));
	open_expect(text, FORMAT_MD_PASS, UPK_E_KEYFILE, "not a valid ecdsa private key");
	spec_file_ecdsa(P256_ORDER, text, sizeof(text));
	open_expect(text, FORMAT_MD_PASS, UPK_E_KEYFILE, "not a valid ecdsa private key");
}

/* A clear ecdsa file whose secret is replaced by `scalar_hex`. */
static void ecdsa_clear_secret_expect(const char *scalar_hex, const char *needle)
{
	char *t = mutate(&G->eclear, "secret", json_string(scalar_hex));

	open_expect(t, NULL, UPK_E_KEYFILE, needle);
	free(t);
}

static void test_ecdsa_secret_rejections(void **state)
{
	char *t;

	(void)state;
	t = mutate(&G->eclear, "secret", flipped(&G->eclear, "secret"));
	open_expect(t, NULL, UPK_E_KEYFILE, "does not belong");
	free(t);
	ecdsa_clear_secret_expect(P256_SCALAR, "does not belong");
	ecdsa_clear_secret_expect(
		"0000000000000000000000000000000000000000000000000000000000000000",
		"not a valid ecdsa private key");
	ecdsa_clear_secret_expect(P256_ORDER, "not a valid ecdsa private key");
	ecdsa_clear_secret_expect(
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"not a valid ecdsa private key");
	/* wrong lengths and shapes: refused when parsed */
	t = mutate(&G->eclear, "secret", json_string(P256_SCALAR "00"));
	expect_keyfile_error(t, "secret", "64 lower-case hex digits");
	free(t);
	t = mutate(&G->eclear, "secret", json_string("c9afa9d845ba"));
	expect_keyfile_error(t, "secret", "64 lower-case hex digits");
	free(t);
	t = mutate(&G->eenc, "encryption.ciphertext", json_string(P256_SCALAR));
	expect_keyfile_error(t, "encryption.ciphertext", "96 lower-case hex digits");
	free(t);
	/* altered ciphertext, salt, nonce: the AEAD refuses */
	t = mutate(&G->eenc, "encryption.ciphertext", flipped(&G->eenc, "encryption.ciphertext"));
	open_expect(t, PASS, UPK_E_PASSPHRASE, "wrong passphrase");
	free(t);
}

/* A PEM for keyval.public: the public key object and key id made for it. */
static char *ecdsa_with_public(const struct upk_buf *file, const char *pem)
{
	json_t *obj = json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ecdsa", "scheme",
				"ecdsa-sha2-nistp256", "keyval", "public", pem);
	char id[UPK_KEYID_HEX_LEN + 1];
	struct upk_buf step = UPK_BUF_INIT;
	char *t1, *t2;

	assert_non_null(obj);
	assert_int_equal(upk_key_id(obj, id, NULL), UPK_OK);
	json_decref(obj);
	t1 = mutate(file, "public", json_string(pem));
	assert_int_equal(upk_buf_append_str(&step, t1), UPK_OK);
	t2 = mutate(&step, "keyid", json_string(id));
	free(t1);
	upk_buf_done(&step);
	return t2;
}

/* Every other spelling of a key, or not a P-256 key: refused when parsed, at "public". */
static void test_ecdsa_public_rejections(void **state)
{
	static const struct {
		const char *pem, *needle;
	} cases[] = {
		/* the RFC 6979 key: CRLF, no final LF, joined lines, text before, spaces */
		{ "-----BEGIN PUBLIC KEY-----\r\n"
		  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7\r\n"
		  "Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\r\n"
		  "-----END PUBLIC KEY-----\r\n",
		  "PEM layout" },
		{ "-----BEGIN PUBLIC KEY-----\n"
		  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7\n"
		  "Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\n"
		  "-----END PUBLIC KEY-----",
		  "PEM layout" },
		{ "-----BEGIN PUBLIC KEY-----\n"
		  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI7"
		  "Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\n"
		  "-----END PUBLIC KEY-----\n",
		  "PEM layout" },
		{ "my key\n" P256_PEM, "PEM layout" },
		{ P256_PEM "\n", "PEM layout" },
		/* compressed point of the same key */
		{ "-----BEGIN PUBLIC KEY-----\n"
		  "MDkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDIgADYP7UuiVanTHJYet0xjVtaMBJuJI7\n"
		  "Yfps5mliLmDyn7Y=\n"
		  "-----END PUBLIC KEY-----\n",
		  "PEM layout" },
		/* one base64 digit of the point changed: off the curve */
		{ "-----BEGIN PUBLIC KEY-----\n"
		  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYP7UuiVanTHJYet0xjVtaMBJuJI8\n"
		  "Yfps5mliLmDyn7Z5A/4QCLi8maQa6elWKLxk8vGyDC1+n1F3o8KU1EYimQ==\n"
		  "-----END PUBLIC KEY-----\n",
		  "not an ECDSA P-256 public key" },
		/* a P-384 key (python-cryptography) */
		{ "-----BEGIN PUBLIC KEY-----\n"
		  "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEWvK5kQFHKPGSzdoWdHaV8BBhlTpKmzY2\n"
		  "fvEQtVmMdpBMEoeN3Sl9uPVQKNzP7GGDhyKqfDIZbdVw8l/YQeZ5nJrJ6uXZ9pMB\n"
		  "RKdI4sk2Pz/BCXSwq7ANFPBMXaN7VbvT\n"
		  "-----END PUBLIC KEY-----\n",
		  "not an ECDSA P-256 public key" },
		/* an ed25519 key: hex, and as PEM */
		{ RFC_PUBLIC, "not an ECDSA P-256 public key" },
		{ "-----BEGIN PUBLIC KEY-----\n"
		  "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"
		  "-----END PUBLIC KEY-----\n",
		  "not an ECDSA P-256 public key" },
		{ "", "not an ECDSA P-256 public key" },
	};
	char *t;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = ecdsa_with_public(&G->eclear, cases[i].pem);
		expect_keyfile_error(t, "public", cases[i].needle);
		free(t);
	}
	/* the canonical PEM of the fixture itself passes this way (the helper is right) */
	t = ecdsa_with_public(&G->eclear, ecdsa_pem_of(G->ekey));
	open_expect(t, NULL, UPK_OK, NULL);
	free(t);
	/* another valid key's PEM with the old key id: the key id check */
	t = mutate(&G->eclear, "public", json_string(P256_PEM));
	expect_keyfile_error(t, "keyid", "not the key id of the public key");
	free(t);
	/* another valid key's PEM and key id: consistent header, the secret check refuses */
	t = ecdsa_with_public(&G->eclear, P256_PEM);
	open_expect(t, NULL, UPK_E_KEYFILE, "does not belong");
	free(t);
	/* ... and in an encrypted file the AEAD does */
	t = ecdsa_with_public(&G->eenc, P256_PEM);
	open_expect(t, PASS, UPK_E_PASSPHRASE, "wrong passphrase");
	free(t);
	/* key type and scheme must go together */
	t = mutate(&G->eenc, "scheme", json_string("ecdsa-sha2-nistp384"));
	expect_keyfile_error(t, "scheme", "does not go with key type \"ecdsa\"");
	free(t);
	t = mutate(&G->eenc, "scheme", json_string("ed25519"));
	expect_keyfile_error(t, "scheme", "does not go with");
	free(t);
	t = mutate(&G->eenc, "keytype", json_string("ecdsa-sha2-nistp256"));
	expect_keyfile_error(t, "keytype", "not supported");
	free(t);
	t = mutate(&G->eenc, "keytype", json_string("ed25519"));
	expect_keyfile_error(t, "scheme", "does not go with");
	free(t);
}

/* Every proper prefix of an ecdsa file fails to parse. */
static void test_ecdsa_truncated(void **state)
{
	const struct upk_buf *b = &G->eclear;

	(void)state;
	for (size_t n = 0; n + 1 < b->len; n += 3) {
		uint8_t *copy = malloc(n ? n : 1);
		struct upkk_file *f = NULL;
		struct upk_diag d;

		assert_non_null(copy);
		memcpy(copy, b->data, n);
		if (parse(copy, n, &f, &d) != UPK_E_KEYFILE)
			fail_msg("prefix of %zu bytes of %zu was accepted", n, b->len);
		free(copy);
	}
}

/* upkkey_sign dispatches on the key type; a loaded ecdsa key signs verifiably. */
static void test_ecdsa_signatures_verify(void **state)
{
	static const char msg[] = "{\"_type\":\"timestamp\",\"version\":1}";
	upk_sign_fn fn = upkk_key_sign;
	struct upkk_key *loaded = NULL;
	struct upk_buf sig = UPK_BUF_INIT, sig2 = UPK_BUF_INIT;
	char path[512];

	(void)state;
	assert_int_equal(fn(G->ekey, (const uint8_t *)msg, strlen(msg), &sig), UPK_OK);
	assert_true(sig.len > 8 && sig.len <= 72 && sig.data[0] == 0x30);
	verify_with(G->ekey, msg, &sig, UPK_OK);
	verify_with(G->ekey, "{\"_type\":\"timestamp\",\"version\":2}", &sig, UPK_E_SIGNATURE);
	verify_with(G->key, msg, &sig, UPK_E_SIGNATURE); /* not the ed25519 key's */
	path_in("ecdsa.key", path, sizeof(path));
	write_raw(path, G->eenc.data, G->eenc.len, 0600);
	assert_int_equal(upkk_key_load(path, PASS, PASS_LEN, &loaded, NULL), UPK_OK);
	assert_same_key(loaded, G->ekey);
	assert_int_equal(upkk_key_sign(loaded, (const uint8_t *)msg, strlen(msg), &sig2), UPK_OK);
	verify_with(G->ekey, msg, &sig2, UPK_OK);
	assert_false(sig.len == sig2.len && !memcmp(sig.data, sig2.data, sig.len)); /* randomized */
	sig2.data[sig2.len - 1] ^= 1;
	verify_with(loaded, msg, &sig2, UPK_E_SIGNATURE);
	upkk_key_free(loaded);
	upk_buf_done(&sig);
	upk_buf_done(&sig2);
	unlink(path);
}

static void test_free_accepts_null(void **state)
{
	(void)state;
	upkk_file_free(NULL);
	upkk_key_free(NULL);
}

/* ---- file half ---- */

static void test_write_read_load(void **state)
{
	struct upkk_file *f = NULL, *g = NULL;
	struct upkk_key *key = NULL;
	struct upk_diag d;
	struct stat st;
	char path[512], *bytes;
	size_t len;
	mode_t old_mask = umask(0); /* a permissive umask must not widen the mode */

	(void)state;
	path_in("rw.key", path, sizeof(path));
	assert_int_equal(parse(G->enc.data, G->enc.len, &f, &d), UPK_OK);
	assert_int_equal(upkk_file_write(path, f, false, &d), UPK_OK);
	umask(old_mask);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	bytes = slurp(path, &len);
	assert_int_equal(len, G->enc.len);
	assert_memory_equal(bytes, G->enc.data, len);
	free(bytes);
	assert_int_equal(upkk_file_read(path, &g, &d), UPK_OK);
	assert_string_equal(g->keyid, G->key->keyid);
	assert_int_equal(upkk_key_load(path, PASS, PASS_LEN, &key, &d), UPK_OK);
	assert_same_key(key, G->key);
	upkk_key_free(key);
	key = NULL;
	upk_diag_clear(&d);
	assert_int_equal(upkk_key_load(path, "nope", 4, &key, &d), UPK_E_PASSPHRASE);
	assert_string_equal(d.where, path);
	assert_null(key);
	/* A mode without group/other bits but read-only is fine. */
	assert_int_equal(chmod(path, 0400), 0);
	upkk_file_free(g);
	g = NULL;
	assert_int_equal(upkk_file_read(path, &g, &d), UPK_OK);
	upkk_file_free(g);
	upkk_file_free(f);
	unlink(path);
}

static void test_too_open_permissions(void **state)
{
	static const mode_t modes[] = {
		0644, 0640, 0604, 0660, 0610, 0601, 0602, 0620, 0666, 0777
	};
	struct upkk_file *f = NULL;
	struct upkk_key *key = NULL;
	struct upk_diag d;
	char path[512], want[64];

	(void)state;
	path_in("open.key", path, sizeof(path));
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_raw(path, G->clear.data, G->clear.len, modes[i]);
		upk_diag_clear(&d);
		assert_int_equal(upkk_file_read(path, &f, &d), UPK_E_PERMISSION);
		assert_null(f);
		assert_string_equal(d.where, path);
		snprintf(want, sizeof(want), "permissions %04o are too open", (unsigned)modes[i]);
		if (!strstr(d.reason, want))
			fail_msg("'%s' lacks '%s'", d.reason, want);
		assert_int_equal(upkk_key_load(path, NULL, 0, &key, &d), UPK_E_PERMISSION);
		assert_null(key);
		unlink(path);
	}
}

static void test_read_errors(void **state)
{
	struct upkk_file *f = NULL;
	struct upk_diag d;
	char path[512], where[600];
	uint8_t *big;

	(void)state;
	path_in("missing.key", path, sizeof(path));
	upk_diag_clear(&d);
	assert_int_equal(upkk_file_read(path, &f, &d), UPK_E_NOT_FOUND);
	assert_string_equal(d.where, path);

	assert_int_equal(upkk_file_read(G->dir, &f, &d), UPK_E_USAGE); /* a directory: exit 2 */

	path_in("big.key", path, sizeof(path));
	big = malloc(UPKK_FILE_MAX_SIZE + 1);
	assert_non_null(big);
	memset(big, ' ', UPKK_FILE_MAX_SIZE + 1);
	memcpy(big, G->clear.data, G->clear.len);
	write_raw(path, big, UPKK_FILE_MAX_SIZE + 1, 0600);
	upk_diag_clear(&d);
	assert_int_equal(upkk_file_read(path, &f, &d), UPK_E_KEYFILE);
	assert_non_null(strstr(d.reason, "larger than 65536 bytes"));
	write_raw(path, big, UPKK_FILE_MAX_SIZE, 0600);
	assert_int_equal(upkk_file_read(path, &f, &d), UPK_OK);
	upkk_file_free(f);
	f = NULL;
	free(big);
	unlink(path);

	/* Content errors name the file first, then the field. */
	path_in("trunc.key", path, sizeof(path));
	write_raw(path, G->enc.data, G->enc.len / 2, 0600);
	upk_diag_clear(&d);
	assert_int_equal(upkk_file_read(path, &f, &d), UPK_E_KEYFILE);
	assert_string_equal(d.where, path);
	assert_non_null(strstr(d.reason, "not valid JSON"));
	{
		char *t = mutate(&G->enc, "encryption.opslimit", json_integer(1));

		write_raw(path, t, strlen(t), 0600);
		free(t);
	}
	upk_diag_clear(&d);
	assert_int_equal(upkk_file_read(path, &f, &d), UPK_E_KEYFILE);
	snprintf(where, sizeof(where), "%s: encryption.opslimit", path);
	assert_string_equal(d.where, where);
	assert_null(f);
	unlink(path);
}

static void test_write_refuses_existing(void **state)
{
	struct upkk_file *f = NULL;
	struct upk_diag d;
	char path[512], link_path[512], *bytes;
	int before;

	(void)state;
	assert_int_equal(parse(G->clear.data, G->clear.len, &f, &d), UPK_OK);
	path_in("exists.key", path, sizeof(path));
	write_raw(path, "old", 3, 0600);
	before = count_entries();
	upk_diag_clear(&d);
	assert_int_equal(upkk_file_write(path, f, false, &d), UPK_E_EXISTS);
	assert_string_equal(d.where, path);
	bytes = slurp(path, NULL);
	assert_string_equal(bytes, "old");
	free(bytes);
	assert_int_equal(count_entries(), before); /* no temporary file left */

	/* Even a dangling symlink counts as existing. */
	path_in("dangling.key", link_path, sizeof(link_path));
	assert_int_equal(symlink("nowhere", link_path), 0);
	assert_int_equal(upkk_file_write(link_path, f, false, &d), UPK_E_EXISTS);
	assert_int_equal(count_entries(), before + 1);
	unlink(link_path);

	/* A missing directory: an error, nothing written. */
	path_in("no/such/dir.key", link_path, sizeof(link_path));
	assert_int_not_equal(upkk_file_write(link_path, f, false, &d), UPK_OK);
	assert_int_not_equal(upkk_file_write(link_path, f, true, &d), UPK_OK);
	assert_int_equal(count_entries(), before);
	unlink(path);
	upkk_file_free(f);
}

static void test_write_replace_keeps_symlink(void **state)
{
	struct upkk_file *f = NULL;
	struct upk_diag d;
	struct stat st;
	char target[512], link_path[512], *bytes;
	size_t len;
	int before;

	(void)state;
	assert_int_equal(parse(G->enc.data, G->enc.len, &f, &d), UPK_OK);
	path_in("target.key", target, sizeof(target));
	path_in("link.key", link_path, sizeof(link_path));
	write_raw(target, "old", 3, 0600);
	assert_int_equal(symlink("target.key", link_path), 0);
	before = count_entries();
	assert_int_equal(upkk_file_write(link_path, f, true, &d), UPK_OK);
	assert_int_equal(lstat(link_path, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	bytes = slurp(target, &len);
	assert_int_equal(len, G->enc.len);
	assert_memory_equal(bytes, G->enc.data, len);
	free(bytes);
	assert_int_equal(count_entries(), before);

	/* Plain replace of a regular file. */
	write_raw(target, "old", 3, 0644);
	assert_int_equal(upkk_file_write(target, f, true, &d), UPK_OK);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	bytes = slurp(target, &len);
	assert_int_equal(len, G->enc.len);
	free(bytes);
	unlink(link_path);
	unlink(target);
	upkk_file_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_encrypted),
		cmocka_unit_test(test_roundtrip_unencrypted),
		cmocka_unit_test(test_seal_is_randomized),
		cmocka_unit_test(test_stronger_kdf_roundtrip),
		cmocka_unit_test(test_known_answer_rfc8032),
		cmocka_unit_test(test_file_made_from_the_spec_opens),
		cmocka_unit_test(test_secret_not_matching_public_is_refused),
		cmocka_unit_test(test_wrong_or_missing_passphrase),
		cmocka_unit_test(test_altered_fields_fail_to_decrypt),
		cmocka_unit_test(test_unencrypted_secret_altered),
		cmocka_unit_test(test_header_fields_altered),
		cmocka_unit_test(test_unknown_version),
		cmocka_unit_test(test_kdf_params_out_of_range),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_other_formats_are_named),
		cmocka_unit_test(test_field_shapes),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_seal_and_generate_refusals),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_signatures_verify),
		cmocka_unit_test(test_ecdsa_roundtrip),
		cmocka_unit_test(test_ecdsa_known_answer),
		cmocka_unit_test(test_ecdsa_file_made_from_the_spec),
		cmocka_unit_test(test_ecdsa_secret_rejections),
		cmocka_unit_test(test_ecdsa_public_rejections),
		cmocka_unit_test(test_ecdsa_truncated),
		cmocka_unit_test(test_ecdsa_signatures_verify),
		cmocka_unit_test(test_free_accepts_null),
		cmocka_unit_test(test_write_read_load),
		cmocka_unit_test(test_too_open_permissions),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_write_refuses_existing),
		cmocka_unit_test(test_write_replace_keeps_symlink),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
