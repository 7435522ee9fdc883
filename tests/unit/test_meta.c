/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for common/meta: the TUF metadata model. Metadata is built
 * here with jansson and signed with Ed25519 keys from fixed seeds, through
 * upk_meta_sign and (once) directly with libsodium, then parsed back from
 * bytes as a device would receive it. Every parse rule has a rejection
 * test; verification covers thresholds, duplicate keys, foreign and
 * unknown signers, delegations (explicit and TAP 15 succinct bins) and the
 * expiry boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "../fuzz/meta_compare.h"
#include "hex.h"
#include "json.h"
#include "meta.h"
#include "sig.h"
#include "tuftime.h"

#define EXPIRES	  "2030-01-01T00:00:00Z"
#define EXPIRES_T INT64_C(1893456000)
#define SPEC	  "1.0.31"
/* SHA-256 of "abc" and SHA-512 of "" (FIPS 180-2 test vectors). */
#define SHA256_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA512_EMPTY                                                                               \
	"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2" \
	"877eec2f63b931bd47417a81a538327af927da3e"

/* 0 root, 1 timestamp, 2 snapshot, 3 targets, 4 delegated roles, 5 second
 * targets key, 6 succinct bins, 7 a stranger. */
#define NKEYS 8
struct tkey {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char keyid[UPK_KEYID_HEX_LEN + 1];
	json_t *obj;
};
static struct tkey K[NKEYS];
/* A well-formed key id no key has. */
static const char *const NOKEY = "00000000000000000000000000000000000000000000000000000000000000aa";

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	for (int i = 0; i < NKEYS; i++) {
		uint8_t seed[crypto_sign_SEEDBYTES];

		memset(seed, i + 1, sizeof(seed));
		crypto_sign_seed_keypair(K[i].pk, K[i].sk, seed);
		if (upk_key_ed25519_object(K[i].pk, &K[i].obj) != UPK_OK)
			return -1;
		if (upk_key_id(K[i].obj, K[i].keyid, NULL) != UPK_OK)
			return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NKEYS; i++)
		json_decref(K[i].obj);
	return 0;
}

static enum upk_err ed_signer(void *ctx, const uint8_t *msg, size_t len, struct upk_buf *sig)
{
	const struct tkey *k = ctx;
	uint8_t s[UPK_ED25519_SIG_LEN];
	enum upk_err r = upk_sig_sign_ed25519(k->sk, msg, len, s);

	if (r)
		return r;
	return upk_buf_append(sig, s, sizeof(s));
}

/* ------------------------------------------------------------------------ */
/* Builders. */

static json_t *keyids(const int *idx)
{
	json_t *a = json_array();

	for (; *idx >= 0; idx++)
		assert_int_equal(json_array_append_new(a, json_string(K[*idx].keyid)), 0);
	return a;
}

static json_t *keymap(const int *idx)
{
	json_t *o = json_object();

	for (; *idx >= 0; idx++)
		assert_int_equal(json_object_set(o, K[*idx].keyid, K[*idx].obj), 0);
	return o;
}

static json_t *role(const int *idx, int threshold)
{
	return json_pack("{s:o, s:i}", "keyids", keyids(idx), "threshold", threshold);
}

#define L(...) ((const int[]){ __VA_ARGS__, -1 })
static const int NONE[] = { -1 };

static json_t *root_signed(void)
{
	json_t *s = json_pack("{s:s, s:s, s:i, s:s, s:b, s:o, s:{s:o, s:o, s:o, s:o}}", "_type",
			      "root", "spec_version", SPEC, "version", 1, "expires", EXPIRES,
			      "consistent_snapshot", 1, "keys", keymap(L(0, 1, 2, 3)), "roles",
			      "root", role(L(0), 1), "timestamp", role(L(1), 1), "snapshot",
			      role(L(2), 1), "targets", role(L(3), 1));
	assert_non_null(s);
	return s;
}

static json_t *timestamp_signed(void)
{
	json_t *s = json_pack("{s:s, s:s, s:i, s:s, s:{s:{s:i, s:i, s:{s:s}}}}", "_type",
			      "timestamp", "spec_version", SPEC, "version", 7, "expires", EXPIRES,
			      "meta", "snapshot.json", "version", 3, "length", 515, "hashes",
			      "sha256", SHA256_ABC);
	assert_non_null(s);
	return s;
}

static json_t *snapshot_signed(void)
{
	json_t *s = json_pack("{s:s, s:s, s:i, s:s, s:{s:{s:i}, s:{s:i, s:i, s:{s:s}}}}", "_type",
			      "snapshot", "spec_version", SPEC, "version", 3, "expires", EXPIRES,
			      "meta", "targets.json", "version", 2, "role1.json", "version", 1,
			      "length", 100, "hashes", "sha512", SHA512_EMPTY);
	assert_non_null(s);
	return s;
}

static json_t *delegations_explicit(void)
{
	json_t *d = json_pack(
		"{s:o, s:[{s:s, s:o, s:i, s:b, s:[s]}, {s:s, s:o, s:i, s:b, s:[s, s]}]}", "keys",
		keymap(L(4)), "roles", "name", "role1", "keyids", keyids(L(4)), "threshold", 1,
		"terminating", 1, "paths", "fw/*", "name", "role2", "keyids", keyids(L(4)),
		"threshold", 1, "terminating", 0, "path_hash_prefixes", "ab", "c");
	assert_non_null(d);
	return d;
}

static json_t *delegations_succinct(int bits)
{
	json_t *d = json_pack("{s:o, s:{s:o, s:i, s:i, s:s}}", "keys", keymap(L(6)),
			      "succinct_roles", "keyids", keyids(L(6)), "threshold", 1,
			      "bit_length", bits, "name_prefix", "bins");
	assert_non_null(d);
	return d;
}

static json_t *targets_signed(void)
{
	json_t *s =
		json_pack("{s:s, s:s, s:i, s:s, s:{s:{s:i, s:{s:s}, s:{s:{s:s}}}, "
			  "s:{s:i, s:{s:s}}}, s:o}",
			  "_type", "targets", "spec_version", SPEC, "version", 2, "expires",
			  EXPIRES, "targets", "fw/a.bin", "length", 3, "hashes", "sha256",
			  SHA256_ABC, "custom", "upkeep", "product", "p1", "b.txt", "length", 0,
			  "hashes", "sha512", SHA512_EMPTY, "delegations", delegations_explicit());
	assert_non_null(s);
	return s;
}

/* A delegated role's metadata: targets type, no delegations. */
static json_t *role_signed(void)
{
	json_t *s = json_pack("{s:s, s:s, s:i, s:s, s:{s:{s:i, s:{s:s}}}}", "_type", "targets",
			      "spec_version", SPEC, "version", 1, "expires", EXPIRES, "targets",
			      "fw/c.bin", "length", 3, "hashes", "sha256", SHA256_ABC);
	assert_non_null(s);
	return s;
}

static json_t *base(enum upk_role r)
{
	switch (r) {
	case UPK_ROLE_ROOT:
		return root_signed();
	case UPK_ROLE_TIMESTAMP:
		return timestamp_signed();
	case UPK_ROLE_SNAPSHOT:
		return snapshot_signed();
	case UPK_ROLE_TARGETS:
		return targets_signed();
	}
	fail();
	return NULL;
}

/* Signer of each top-level role in root_signed(). */
static int signer_of(enum upk_role r)
{
	switch (r) {
	case UPK_ROLE_ROOT:
		return 0;
	case UPK_ROLE_TIMESTAMP:
		return 1;
	case UPK_ROLE_SNAPSHOT:
		return 2;
	case UPK_ROLE_TARGETS:
		return 3;
	}
	fail();
	return -1;
}

static json_t *wrap(json_t *signed_obj)
{
	json_t *d = json_pack("{s:o, s:[]}", "signed", signed_obj, "signatures");

	assert_non_null(d);
	return d;
}

/* Set (value non-NULL) or delete a member; returns obj. */
static json_t *with(json_t *obj, const char *key, json_t *value)
{
	if (value)
		assert_int_equal(json_object_set_new(obj, key, value), 0);
	else
		assert_int_equal(json_object_del(obj, key), 0);
	return obj;
}

static json_t *at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	assert_non_null(v);
	return v;
}

static json_t *target_a(json_t *s)
{
	return at(at(s, "targets"), "fw/a.bin");
}

/*
 * For targets: upk_meta_parse_view must decide as upk_meta_parse did (tree:
 * its result e, m, d), with the same diag, or the same views when both accept.
 */
static void check_view(const uint8_t *data, size_t len, enum upk_role r, enum upk_err e,
		       const struct upk_meta *m, const struct upk_diag *d)
{
	struct upk_meta *v = NULL;
	struct upk_diag dv;
	enum upk_err ev;
	const char *why;

	if (r != UPK_ROLE_TARGETS)
		return;
	/* JSON-level errors are worded by each JSON reader: the codes must agree, not the text. */
	if (e) {
		json_t *j = NULL;
		struct upk_diag dj;

		if (upk_json_parse(data, len, SIZE_MAX, &j, &dj) != UPK_OK) {
			assert_int_equal(upk_meta_parse_view(data, len, r, 0, &v, &dv), e);
			assert_null(v);
			return;
		}
		json_decref(j);
	}
	upk_diag_clear(&dv);
	ev = upk_meta_parse_view(data, len, r, 0, &v, &dv);
	if (ev != e || (e && (strcmp(dv.where, d->where) || strcmp(dv.reason, d->reason))))
		print_message("tree: %s at \"%s\": %s; view: %s at \"%s\": %s\n", upk_err_name(e),
			      d->where, d->reason, upk_err_name(ev), dv.where, dv.reason);
	assert_int_equal(ev, e);
	if (e) {
		assert_null(v);
		assert_string_equal(dv.where, d->where);
		assert_string_equal(dv.reason, d->reason);
		return;
	}
	why = meta_compare(m, v);
	if (why)
		print_message("view differs from tree: %s\n", why);
	assert_null(why);
	upk_meta_free(v);
}

/* Sign signed_obj with the listed keys through upk_meta_sign, serialize, and parse back. */
static struct upk_meta *make(enum upk_role r, json_t *signed_obj, const int *signers)
{
	struct upk_meta *m = NULL, *m2 = NULL;
	struct upk_buf out = UPK_BUF_INIT;
	struct upk_diag d;

	upk_diag_clear(&d);
	assert_int_equal(upk_meta_from_json(wrap(signed_obj), r, &m, &d), UPK_OK);
	for (; *signers >= 0; signers++)
		assert_int_equal(upk_meta_sign(m, K[*signers].keyid, ed_signer, &K[*signers], &d),
				 UPK_OK);
	assert_int_equal(upk_meta_serialize(m, &out), UPK_OK);
	assert_int_equal(upk_meta_parse(out.data, out.len, r, 0, &m2, &d), UPK_OK);
	check_view(out.data, out.len, r, UPK_OK, m2, &d);
	upk_buf_done(&out);
	upk_meta_free(m);
	return m2;
}

static struct upk_meta *make_root(void)
{
	return make(UPK_ROLE_ROOT, root_signed(), L(0));
}

static enum upk_err parse_json(json_t *doc, enum upk_role r, struct upk_meta **ret,
			       struct upk_diag *d)
{
	char *s = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
	enum upk_err e;

	assert_non_null(s);
	e = upk_meta_parse((const uint8_t *)s, strlen(s), r, 0, ret, d);
	check_view((const uint8_t *)s, strlen(s), r, e, *ret, d);
	free(s);
	return e;
}

/* Parse doc (consumed) as role r from bytes: must fail with want, at `where` if given. */
static void reject_doc(json_t *doc, enum upk_role r, enum upk_err want, const char *where)
{
	struct upk_meta *m = NULL;
	struct upk_diag d;
	enum upk_err e;

	upk_diag_clear(&d);
	e = parse_json(doc, r, &m, &d);
	if (e != want || (where && !strstr(d.where, where)))
		print_message("%s: got %s, where \"%s\", reason \"%s\"\n", upk_role_name(r),
			      upk_err_name(e), d.where, d.reason);
	assert_int_equal(e, want);
	assert_null(m);
	if (where)
		assert_non_null(strstr(d.where, where));
	json_decref(doc);
}

static void reject(json_t *signed_obj, enum upk_role r, enum upk_err want, const char *where)
{
	reject_doc(wrap(signed_obj), r, want, where);
}

/* Check signed_obj (consumed) as a tree, without the byte limits. */
static void reject_tree(json_t *signed_obj, enum upk_role r, enum upk_err want, const char *where)
{
	struct upk_meta *m = NULL;
	struct upk_diag d;
	enum upk_err e;

	upk_diag_clear(&d);
	e = upk_meta_from_json(wrap(signed_obj), r, &m, &d);
	if (e != want || !strstr(d.where, where))
		print_message("%s: got %s, where \"%s\", reason \"%s\"\n", upk_role_name(r),
			      upk_err_name(e), d.where, d.reason);
	assert_int_equal(e, want);
	assert_null(m);
	assert_non_null(strstr(d.where, where));
}

/* n distinct well-formed key ids. */
static json_t *many_keyids(int n)
{
	json_t *a = json_array();

	for (int i = 0; i < n; i++) {
		char id[UPK_KEYID_HEX_LEN + 1];

		snprintf(id, sizeof(id), "%064x", i);
		assert_int_equal(json_array_append_new(a, json_string(id)), 0);
	}
	return a;
}

/* Parse doc (consumed) as role r: must succeed. */
static struct upk_meta *accept_doc(json_t *doc, enum upk_role r)
{
	struct upk_meta *m = NULL;
	struct upk_diag d;
	enum upk_err e;

	upk_diag_clear(&d);
	e = parse_json(doc, r, &m, &d);
	if (e)
		print_message("%s: got %s, where \"%s\", reason \"%s\"\n", upk_role_name(r),
			      upk_err_name(e), d.where, d.reason);
	assert_int_equal(e, UPK_OK);
	json_decref(doc);
	return m;
}

static struct upk_meta *accept(json_t *signed_obj, enum upk_role r)
{
	return accept_doc(wrap(signed_obj), r);
}

static void expect_verify(enum upk_err want, enum upk_err got, const struct upk_diag *d)
{
	if (want != got)
		print_message("verify: got %s: %s: %s\n", upk_err_name(got), d->where, d->reason);
	assert_int_equal(got, want);
}

/* ------------------------------------------------------------------------ */
/* Valid metadata of each role. */

static void test_role_names(void **state)
{
	(void)state;
	assert_string_equal(upk_role_name(UPK_ROLE_ROOT), "root");
	assert_string_equal(upk_role_name(UPK_ROLE_TIMESTAMP), "timestamp");
	assert_string_equal(upk_role_name(UPK_ROLE_SNAPSHOT), "snapshot");
	assert_string_equal(upk_role_name(UPK_ROLE_TARGETS), "targets");
	assert_int_equal(upk_role_max_size(UPK_ROLE_ROOT), UPK_META_MAX_ROOT);
	assert_int_equal(upk_role_max_size(UPK_ROLE_TIMESTAMP), UPK_META_MAX_TIMESTAMP);
	assert_int_equal(upk_role_max_size(UPK_ROLE_SNAPSHOT), UPK_META_MAX_SNAPSHOT);
	assert_int_equal(upk_role_max_size(UPK_ROLE_TARGETS), UPK_META_MAX_TARGETS);
}

static void test_root_valid(void **state)
{
	struct upk_meta *root = make_root();
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	assert_int_equal(root->type, UPK_ROLE_ROOT);
	assert_string_equal(root->spec_version, SPEC);
	assert_int_equal(root->version, 1);
	assert_int_equal(root->expires, EXPIRES_T);
	assert_true(root->consistent_snapshot);
	assert_int_equal(root->n_keys, 4);
	for (size_t i = 1; i < root->n_keys; i++)
		assert_true(strcmp(root->keys[i - 1].keyid, root->keys[i].keyid) < 0);
	for (int i = 0; i < 4; i++) {
		const struct upk_key *k = upk_meta_find_key(root->keys, root->n_keys, K[i].keyid);

		assert_non_null(k);
		assert_true(k->supported);
		assert_memory_equal(k->ed25519, K[i].pk, 32);
		/* Role i is signed by key i (signer_of). */
		assert_int_equal(signer_of((enum upk_role)i), i);
		assert_int_equal(root->roles[i].n_keyids, 1);
		assert_string_equal(root->roles[i].keyids[0], K[i].keyid);
		assert_int_equal(root->roles[i].threshold, 1);
	}
	assert_null(upk_meta_find_key(root->keys, root->n_keys, NOKEY));
	assert_int_equal(root->n_sigs, 1);
	assert_string_equal(root->sigs[0].keyid, K[0].keyid);
	assert_int_equal(root->sigs[0].sig_len, 64);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_ROOT, root, &d), &d);
	upk_meta_free(root);

	/* consistent_snapshot is optional (python-tuf: None) and then false. */
	root = make(UPK_ROLE_ROOT, with(root_signed(), "consistent_snapshot", NULL), L(0));
	assert_false(root->consistent_snapshot);
	upk_meta_free(root);
}

static void test_timestamp_valid(void **state)
{
	struct upk_meta *root = make_root();
	struct upk_meta *ts = make(UPK_ROLE_TIMESTAMP, timestamp_signed(), L(1));
	const struct upk_metafile *mf;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	assert_int_equal(ts->version, 7);
	assert_int_equal(ts->n_meta, 1);
	mf = upk_meta_find_meta(ts, "snapshot.json");
	assert_non_null(mf);
	assert_int_equal(mf->version, 3);
	assert_int_equal(mf->length, 515);
	assert_true(mf->has_hashes);
	assert_true(mf->hashes.has_sha256);
	assert_false(mf->hashes.has_sha512);
	assert_int_equal(mf->hashes.count, 1);
	assert_null(upk_meta_find_meta(ts, "targets.json"));
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TIMESTAMP, ts, &d), &d);
	upk_meta_free(ts);
	upk_meta_free(root);
}

static void test_snapshot_valid(void **state)
{
	struct upk_meta *root = make_root();
	struct upk_meta *sn = make(UPK_ROLE_SNAPSHOT, snapshot_signed(), L(2));
	const struct upk_metafile *mf;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	assert_int_equal(sn->n_meta, 2);
	assert_string_equal(sn->meta[0].name, "role1.json"); /* sorted by name */
	mf = upk_meta_find_meta(sn, "targets.json");
	assert_non_null(mf);
	assert_int_equal(mf->version, 2);
	assert_int_equal(mf->length, -1); /* optional in META entries */
	assert_false(mf->has_hashes);
	mf = upk_meta_find_meta(sn, "role1.json");
	assert_non_null(mf);
	assert_int_equal(mf->length, 100);
	assert_true(mf->has_hashes && mf->hashes.has_sha512);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_SNAPSHOT, sn, &d), &d);
	upk_meta_free(sn);
	upk_meta_free(root);
}

static void test_targets_valid(void **state)
{
	struct upk_meta *root = make_root();
	struct upk_meta *t = make(UPK_ROLE_TARGETS, targets_signed(), L(3));
	const struct upk_target *tg;
	const struct upk_delegated_role *dr;
	uint8_t want[32];
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	assert_int_equal(t->n_targets, 2);
	assert_string_equal(t->targets[0].path, "b.txt"); /* sorted by path */
	tg = upk_meta_find_target(t, "fw/a.bin");
	assert_non_null(tg);
	assert_int_equal(tg->length, 3);
	assert_true(tg->hashes.has_sha256);
	assert_int_equal(upk_hex_decode(SHA256_ABC, 64, want, sizeof(want), NULL), UPK_OK);
	assert_memory_equal(tg->hashes.sha256, want, 32);
	assert_non_null(tg->custom);
	assert_string_equal(json_string_value(json_object_get(json_object_get(tg->custom, "upkeep"),
							      "product")),
			    "p1");
	tg = upk_meta_find_target(t, "b.txt");
	assert_non_null(tg);
	assert_int_equal(tg->length, 0);
	assert_null(tg->custom);
	assert_null(upk_meta_find_target(t, "nope"));
	upk_meta_free(t);

	/* "custom": null reads as no custom data (python-tuf's TargetFile.custom). */
	{
		json_t *s = targets_signed();

		with(target_a(s), "custom", json_null());
		t = accept(s, UPK_ROLE_TARGETS);
		assert_null(upk_meta_find_target(t, "fw/a.bin")->custom);
		upk_meta_free(t);
	}
	t = make(UPK_ROLE_TARGETS, targets_signed(), L(3));

	assert_true(t->has_delegations);
	assert_int_equal(t->delegations.n_keys, 1);
	assert_string_equal(t->delegations.keys[0].keyid, K[4].keyid);
	assert_false(t->delegations.has_succinct);
	assert_int_equal(t->delegations.n_roles, 2);
	dr = &t->delegations.roles[0]; /* file order kept */
	assert_string_equal(dr->name, "role1");
	assert_true(dr->terminating);
	assert_true(dr->has_paths);
	assert_int_equal(dr->n_paths, 1);
	assert_string_equal(dr->paths[0], "fw/*");
	assert_int_equal(dr->keys.threshold, 1);
	dr = &t->delegations.roles[1];
	assert_string_equal(dr->name, "role2");
	assert_false(dr->terminating);
	assert_false(dr->has_paths);
	assert_int_equal(dr->n_prefixes, 2);
	assert_string_equal(dr->prefixes[1], "c");
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	upk_meta_free(t);

	/* Without delegations, and with no targets at all. */
	t = accept(with(with(targets_signed(), "delegations", NULL), "targets", json_object()),
		   UPK_ROLE_TARGETS);
	assert_false(t->has_delegations);
	assert_int_equal(t->n_targets, 0);
	assert_null(upk_meta_find_target(t, "fw/a.bin"));
	upk_meta_free(t);
	upk_meta_free(root);
}

/* Signatures made without upk_meta_sign: libsodium over upk_json_canonical(signed). */
static void test_independent_signature(void **state)
{
	struct upk_meta *root = make_root(), *t;
	struct upk_buf canon = UPK_BUF_INIT;
	uint8_t sig[crypto_sign_BYTES];
	char hex[2 * crypto_sign_BYTES + 1];
	json_t *s = targets_signed(), *doc;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	assert_int_equal(upk_json_canonical(s, &canon, NULL), UPK_OK);
	crypto_sign_detached(sig, NULL, canon.data, canon.len, K[3].sk);
	upk_hex_encode(sig, sizeof(sig), hex);
	doc = json_pack("{s:o, s:[{s:s, s:s}]}", "signed", s, "signatures", "keyid", K[3].keyid,
			"sig", hex);
	t = accept_doc(doc, UPK_ROLE_TARGETS);
	assert_int_equal(t->canonical.len, canon.len);
	assert_memory_equal(t->canonical.data, canon.data, canon.len);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	upk_meta_free(t);

	/* Upper-case signature hex decodes to the same bytes (python-tuf bytes.fromhex). */
	for (char *p = hex; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	doc = json_pack("{s:o, s:[{s:s, s:s}]}", "signed", targets_signed(), "signatures", "keyid",
			K[3].keyid, "sig", hex);
	t = accept_doc(doc, UPK_ROLE_TARGETS);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	upk_meta_free(t);
	upk_buf_done(&canon);
	upk_meta_free(root);
}

/* ------------------------------------------------------------------------ */
/* Rejections shared by all roles. */

static void common_rejections(enum upk_role r)
{
	struct upk_meta *m;
	const char *other = r == UPK_ROLE_ROOT ? "targets" : "root";

	reject(with(base(r), "_type", json_string(other)), r, UPK_E_FORMAT, "signed._type");
	reject(with(base(r), "_type", NULL), r, UPK_E_FORMAT, "signed._type");
	reject(with(base(r), "_type", json_integer(1)), r, UPK_E_FORMAT, "signed._type");
	reject(with(base(r), "_type", json_string("Root")), r, UPK_E_FORMAT, "signed._type");

	reject(with(base(r), "spec_version", NULL), r, UPK_E_FORMAT, "signed.spec_version");
	reject(with(base(r), "spec_version", json_integer(1)), r, UPK_E_FORMAT,
	       "signed.spec_version");
	reject(with(base(r), "spec_version", json_string("2.0")), r, UPK_E_UNSUPPORTED,
	       "signed.spec_version");
	reject(with(base(r), "spec_version", json_string("2.0.0")), r, UPK_E_UNSUPPORTED, NULL);
	reject(with(base(r), "spec_version", json_string("01.0")), r, UPK_E_UNSUPPORTED, NULL);
	reject(with(base(r), "spec_version", json_string("0.9")), r, UPK_E_UNSUPPORTED, NULL);
	const char *bad_spec[] = { "x",	  "1",	     "1.",   ".1",   "1..0", "1.0.", "1.0.0.0",
				   "1.x", "1.0-rc1", "v1.0", " 1.0", "1.0 ", "" };
	for (size_t i = 0; i < sizeof(bad_spec) / sizeof(bad_spec[0]); i++)
		reject(with(base(r), "spec_version", json_string(bad_spec[i])), r, UPK_E_FORMAT,
		       "signed.spec_version");
	const char *good_spec[] = { "1.0", "1.0.0", "1.99", "1.0.31", "1.20.3" };
	for (size_t i = 0; i < sizeof(good_spec) / sizeof(good_spec[0]); i++) {
		m = accept(with(base(r), "spec_version", json_string(good_spec[i])), r);
		assert_string_equal(m->spec_version, good_spec[i]);
		upk_meta_free(m);
	}

	reject(with(base(r), "version", NULL), r, UPK_E_FORMAT, "signed.version");
	reject(with(base(r), "version", json_integer(0)), r, UPK_E_FORMAT, "signed.version");
	reject(with(base(r), "version", json_integer(-1)), r, UPK_E_FORMAT, "signed.version");
	reject(with(base(r), "version", json_integer(INT64_MIN)), r, UPK_E_FORMAT,
	       "signed.version");
	reject(with(base(r), "version", json_string("1")), r, UPK_E_FORMAT, "signed.version");
	reject(with(base(r), "version", json_true()), r, UPK_E_FORMAT, "signed.version");
	reject(with(base(r), "version", json_null()), r, UPK_E_FORMAT, "signed.version");
	/* A real never gets past the JSON parser (TUF signs canonical JSON, which has none)... */
	reject(with(base(r), "version", json_real(1.0)), r, UPK_E_FORMAT, NULL);
	/* ...and a tree handed over directly is checked too. */
	{
		struct upk_diag d;

		upk_diag_clear(&d);
		m = NULL;
		assert_int_equal(upk_meta_from_json(wrap(with(base(r), "version", json_real(1.0))),
						    r, &m, &d),
				 UPK_E_FORMAT);
		assert_null(m);
		assert_string_equal(d.where, "signed.version");
	}
	m = accept(with(base(r), "version", json_integer(INT64_MAX)), r);
	assert_int_equal(m->version, INT64_MAX);
	upk_meta_free(m);

	reject(with(base(r), "expires", NULL), r, UPK_E_FORMAT, "signed.expires");
	reject(with(base(r), "expires", json_integer(EXPIRES_T)), r, UPK_E_FORMAT,
	       "signed.expires");
	const char *bad_expires[] = { "2030-01-01",
				      "2030-01-01T00:00:00",
				      "2030-01-01T00:00:00+00:00",
				      "2030-01-01 00:00:00Z",
				      "2030-13-01T00:00:00Z",
				      "2030-02-29T00:00:00Z",
				      "2030-01-01T24:00:00Z",
				      "2030-1-1T0:0:0Z",
				      "2030-01-01T00:00:00.5Z",
				      "" };
	for (size_t i = 0; i < sizeof(bad_expires) / sizeof(bad_expires[0]); i++)
		reject(with(base(r), "expires", json_string(bad_expires[i])), r, UPK_E_FORMAT,
		       "signed.expires");

	/* Document shape. */
	reject_doc(json_pack("{s:[]}", "signatures"), r, UPK_E_FORMAT, "signed");
	reject_doc(json_pack("{s:[], s:[]}", "signed", "signatures"), r, UPK_E_FORMAT, "signed");
	reject_doc(json_pack("{s:o}", "signed", base(r)), r, UPK_E_FORMAT, "signatures");
	reject_doc(json_pack("{s:o, s:{}}", "signed", base(r), "signatures"), r, UPK_E_FORMAT,
		   "signatures");
	reject_doc(json_pack("[o]", base(r)), r, UPK_E_FORMAT, NULL);

	/* Unknown fields anywhere are fine. */
	m = accept(with(base(r), "x-vendor", json_pack("{s:[i, s, n]}", "a", 1, "b")), r);
	upk_meta_free(m);
}

static void test_common_root(void **state)
{
	(void)state;
	common_rejections(UPK_ROLE_ROOT);
}

static void test_common_timestamp(void **state)
{
	(void)state;
	common_rejections(UPK_ROLE_TIMESTAMP);
}

static void test_common_snapshot(void **state)
{
	(void)state;
	common_rejections(UPK_ROLE_SNAPSHOT);
}

static void test_common_targets(void **state)
{
	(void)state;
	common_rejections(UPK_ROLE_TARGETS);
}

/* Each role's own bytes parsed as another role: wrong _type. */
static void test_wrong_role(void **state)
{
	(void)state;
	for (int a = 0; a < UPK_ROLE_COUNT; a++) {
		for (int b = 0; b < UPK_ROLE_COUNT; b++) {
			if (a != b)
				reject(base((enum upk_role)a), (enum upk_role)b, UPK_E_FORMAT,
				       "signed._type");
		}
	}
}

/* ------------------------------------------------------------------------ */
/* Signatures list. */

static json_t *doc_with_sigs(enum upk_role r, json_t *sigs)
{
	return json_pack("{s:o, s:o}", "signed", base(r), "signatures", sigs);
}

static void test_signature_list_rejections(void **state)
{
	char longhex[2 * UPK_META_MAX_SIG_LEN + 3];
	json_t *big;
	struct upk_meta *m;

	(void)state;
	memset(longhex, 'a', sizeof(longhex) - 1);
	longhex[sizeof(longhex) - 1] = 0;
	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		enum upk_role r = (enum upk_role)i;
		const char *id = K[signer_of(r)].keyid;

		/* python-tuf: "Multiple signatures found for keyid". */
		reject_doc(doc_with_sigs(r, json_pack("[{s:s, s:s}, {s:s, s:s}]", "keyid", id,
						      "sig", "00", "keyid", id, "sig", "11")),
			   r, UPK_E_FORMAT, "signatures");
		reject_doc(doc_with_sigs(r, json_pack("[{s:s, s:s}]", "keyid", "abc", "sig", "00")),
			   r, UPK_E_FORMAT, "signatures[0].keyid");
		reject_doc(doc_with_sigs(r, json_pack("[{s:i, s:s}]", "keyid", 1, "sig", "00")), r,
			   UPK_E_FORMAT, "signatures[0].keyid");
		reject_doc(doc_with_sigs(r, json_pack("[{s:s}]", "sig", "00")), r, UPK_E_FORMAT,
			   "signatures[0].keyid");
		reject_doc(doc_with_sigs(r, json_pack("[{s:s}]", "keyid", id)), r, UPK_E_FORMAT,
			   "signatures[0].sig");
		reject_doc(doc_with_sigs(r, json_pack("[{s:s, s:s}]", "keyid", id, "sig", "zz")), r,
			   UPK_E_FORMAT, "signatures[0].sig");
		reject_doc(doc_with_sigs(r, json_pack("[{s:s, s:s}]", "keyid", id, "sig", "abc")),
			   r, UPK_E_FORMAT, "signatures[0].sig");
		reject_doc(doc_with_sigs(r, json_pack("[{s:s, s:i}]", "keyid", id, "sig", 0)), r,
			   UPK_E_FORMAT, "signatures[0].sig");
		reject_doc(doc_with_sigs(r, json_pack("[{s:s, s:s}]", "keyid", id, "sig", longhex)),
			   r, UPK_E_FORMAT, "signatures[0].sig");
		reject_doc(doc_with_sigs(
				   r, json_pack("[{s:s, s:s}, s]", "keyid", id, "sig", "00", "x")),
			   r, UPK_E_FORMAT, "signatures[1]");
	}
	/* An empty signature parses and counts for nothing (python-tuf keeps it too). */
	m = accept_doc(doc_with_sigs(UPK_ROLE_TIMESTAMP,
				     json_pack("[{s:s, s:s, s:s}]", "keyid", K[1].keyid, "sig", "",
					       "x-extra", "kept")),
		       UPK_ROLE_TIMESTAMP);
	assert_int_equal(m->n_sigs, 1);
	assert_int_equal(m->sigs[0].sig_len, 0);
	{
		struct upk_meta *root = make_root();
		struct upk_diag d;

		upk_diag_clear(&d);
		expect_verify(UPK_E_THRESHOLD,
			      upk_meta_verify_by_root(root, UPK_ROLE_TIMESTAMP, m, &d), &d);
		upk_meta_free(root);
	}
	upk_meta_free(m);

	/* More than UPK_META_MAX_LIST signatures. */
	big = json_array();
	for (int i = 0; i <= UPK_META_MAX_LIST; i++) {
		char id[UPK_KEYID_HEX_LEN + 1];

		snprintf(id, sizeof(id), "%064x", i);
		assert_int_equal(json_array_append_new(
					 big, json_pack("{s:s, s:s}", "keyid", id, "sig", "00")),
				 0);
	}
	reject_doc(doc_with_sigs(UPK_ROLE_SNAPSHOT, big), UPK_ROLE_SNAPSHOT, UPK_E_FORMAT,
		   "signatures");
}

/* ------------------------------------------------------------------------ */
/* Size limits. */

static void test_size_limits(void **state)
{
	struct upk_buf out = UPK_BUF_INIT;
	struct upk_meta *m = NULL;
	struct upk_diag d;

	(void)state;
	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		enum upk_role r = (enum upk_role)i;
		size_t lim = upk_role_max_size(r);
		uint8_t *big = malloc(lim + 1);

		assert_non_null(big);
		/* Not even JSON: the size is refused before anything is looked at. */
		memset(big, 'x', lim + 1);
		upk_diag_clear(&d);
		assert_int_equal(upk_meta_parse(big, lim + 1, r, 0, &m, &d), UPK_E_TOO_LARGE);
		assert_int_equal(upk_meta_parse(big, lim + 1, r, SIZE_MAX, &m, &d),
				 UPK_E_TOO_LARGE);
		assert_null(m);
		free(big);
	}
	/* A caller's smaller limit (e.g. the length snapshot lists) applies too. */
	m = make(UPK_ROLE_TIMESTAMP, timestamp_signed(), L(1));
	assert_int_equal(upk_meta_serialize(m, &out), UPK_OK);
	upk_meta_free(m);
	m = NULL;
	assert_int_equal(upk_meta_parse(out.data, out.len, UPK_ROLE_TIMESTAMP, out.len - 1, &m, &d),
			 UPK_E_TOO_LARGE);
	assert_null(m);
	assert_int_equal(upk_meta_parse(out.data, out.len, UPK_ROLE_TIMESTAMP, out.len, &m, &d),
			 UPK_OK);
	upk_meta_free(m);
	m = NULL;
	/* Truncated and garbled bytes are format errors. */
	assert_int_equal(upk_meta_parse(out.data, out.len / 2, UPK_ROLE_TIMESTAMP, 0, &m, &d),
			 UPK_E_FORMAT);
	assert_int_equal(upk_meta_parse(out.data, 0, UPK_ROLE_TIMESTAMP, 0, &m, &d), UPK_E_FORMAT);
	assert_null(m);
	upk_buf_done(&out);
}

/* ------------------------------------------------------------------------ */
/* Hashes and lengths (targets and META entries). */

static void reject_target_hashes(json_t *hashes, const char *where)
{
	json_t *s = targets_signed();

	with(target_a(s), "hashes", hashes);
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, where);
}

static void test_hashes(void **state)
{
	char up[65], zz[65];
	json_t *s;
	struct upk_meta *m;
	const struct upk_target *t;

	(void)state;
	snprintf(zz, sizeof(zz), "zz%s", &SHA256_ABC[2]);
	reject_target_hashes(json_pack("{s:s}", "sha256", zz),
			     "signed.targets.fw/a.bin.hashes.sha256");
	reject_target_hashes(json_pack("{s:s}", "sha256", &SHA256_ABC[1]), "hashes.sha256");
	reject_target_hashes(json_pack("{s:s}", "sha256", SHA256_ABC "00"), "hashes.sha256");
	reject_target_hashes(json_pack("{s:s}", "sha256", ""), "hashes.sha256");
	reject_target_hashes(json_pack("{s:s}", "sha512", SHA256_ABC), "hashes.sha512");
	snprintf(up, sizeof(up), "%s", SHA256_ABC);
	for (char *p = up; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	reject_target_hashes(json_pack("{s:s}", "sha256", up), "hashes.sha256");
	reject_target_hashes(json_pack("{s:i}", "sha256", 5), "hashes.sha256");
	reject_target_hashes(json_pack("{s:s}", "blake2b", "abc"), "hashes.blake2b");
	reject_target_hashes(json_pack("{s:s}", "blake2b", "xy"), "hashes.blake2b");
	reject_target_hashes(json_pack("{s:s}", "blake2b", ""), "hashes.blake2b");
	reject_target_hashes(json_object(), "signed.targets.fw/a.bin.hashes");
	reject_target_hashes(json_string(SHA256_ABC), "signed.targets.fw/a.bin.hashes");
	reject_target_hashes(json_null(), "signed.targets.fw/a.bin.hashes");
	reject_target_hashes(NULL, "signed.targets.fw/a.bin.hashes");

	/* Lengths: required for targets, >= 0, integers. */
	s = targets_signed();
	with(target_a(s), "length", json_integer(-1));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.targets.fw/a.bin.length");
	s = targets_signed();
	with(target_a(s), "length", json_string("3"));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.targets.fw/a.bin.length");
	s = targets_signed();
	with(target_a(s), "length", NULL);
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.targets.fw/a.bin.length");
	s = targets_signed();
	with(target_a(s), "length", json_null());
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.targets.fw/a.bin.length");
	s = targets_signed();
	with(at(s, "targets"), "bad", json_array());
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.targets.bad");
	reject(with(targets_signed(), "targets", NULL), UPK_ROLE_TARGETS, UPK_E_FORMAT,
	       "signed.targets");
	reject(with(targets_signed(), "targets", json_array()), UPK_ROLE_TARGETS, UPK_E_FORMAT,
	       "signed.targets");

	/* Unknown algorithms are counted, digests still hex; both known ones decoded. */
	s = targets_signed();
	with(target_a(s), "hashes",
	     json_pack("{s:s, s:s, s:s}", "sha256", SHA256_ABC, "sha512", SHA512_EMPTY,
		       "blake2b-256", "00ff"));
	m = accept(s, UPK_ROLE_TARGETS);
	t = upk_meta_find_target(m, "fw/a.bin");
	assert_true(t->hashes.has_sha256 && t->hashes.has_sha512);
	assert_int_equal(t->hashes.n_unknown, 1);
	assert_int_equal(t->hashes.count, 3);
	upk_meta_free(m);

	/* Control characters in a path do not reach diag->where raw. */
	{
		struct upk_meta *bad = NULL;
		struct upk_diag d;
		json_t *doc;

		s = targets_signed();
		with(at(s, "targets"), "a\x01\x1b[31mb", json_pack("{s:i}", "length", 1));
		doc = wrap(s);
		upk_diag_clear(&d);
		assert_int_equal(parse_json(doc, UPK_ROLE_TARGETS, &bad, &d), UPK_E_FORMAT);
		assert_null(bad);
		assert_non_null(strstr(d.where, "signed.targets.a??[31mb.hashes"));
		json_decref(doc);
	}
}

static json_t *meta_entry(json_t *s, const char *name)
{
	return at(at(s, "meta"), name);
}

static void test_metafile_rules(void **state)
{
	json_t *s;
	struct upk_meta *m;

	(void)state;
	for (int i = 0; i < 2; i++) {
		enum upk_role r = i ? UPK_ROLE_SNAPSHOT : UPK_ROLE_TIMESTAMP;
		const char *name = i ? "role1.json" : "snapshot.json";
		const char *w = i ? "signed.meta.role1.json" : "signed.meta.snapshot.json";
		char where[128];

		s = base(r);
		with(meta_entry(s, name), "version", json_integer(0));
		snprintf(where, sizeof(where), "%s.version", w);
		reject(s, r, UPK_E_FORMAT, where);
		s = base(r);
		with(meta_entry(s, name), "version", NULL);
		reject(s, r, UPK_E_FORMAT, where);
		s = base(r);
		with(meta_entry(s, name), "version", json_string("3"));
		reject(s, r, UPK_E_FORMAT, where);

		snprintf(where, sizeof(where), "%s.length", w);
		s = base(r);
		with(meta_entry(s, name), "length", json_integer(-1));
		reject(s, r, UPK_E_FORMAT, where);
		s = base(r);
		with(meta_entry(s, name), "length", json_string("1"));
		reject(s, r, UPK_E_FORMAT, where);

		snprintf(where, sizeof(where), "%s.hashes", w);
		s = base(r);
		with(meta_entry(s, name), "hashes", json_object());
		reject(s, r, UPK_E_FORMAT, where);
		s = base(r);
		with(meta_entry(s, name), "hashes", json_pack("{s:s}", "sha256", "0"));
		reject(s, r, UPK_E_FORMAT, where);
		s = base(r);
		with(meta_entry(s, name), "hashes", json_array());
		reject(s, r, UPK_E_FORMAT, where);

		s = base(r);
		with(at(s, "meta"), name, json_integer(1));
		reject(s, r, UPK_E_FORMAT, w);
		reject(with(base(r), "meta", NULL), r, UPK_E_FORMAT, "signed.meta");
		reject(with(base(r), "meta", json_array()), r, UPK_E_FORMAT, "signed.meta");

		/* length and hashes are optional; null reads as absent (python-tuf). */
		s = base(r);
		with(meta_entry(s, name), "length", json_null());
		with(meta_entry(s, name), "hashes", json_null());
		m = accept(s, r);
		assert_int_equal(upk_meta_find_meta(m, name)->length, -1);
		assert_false(upk_meta_find_meta(m, name)->has_hashes);
		upk_meta_free(m);
	}

	/* Timestamp lists snapshot.json and nothing else (spec: MUST only include). */
	s = timestamp_signed();
	with(at(s, "meta"), "targets.json", json_pack("{s:i}", "version", 1));
	reject(s, UPK_ROLE_TIMESTAMP, UPK_E_FORMAT, "signed.meta");
	s = timestamp_signed();
	with(at(s, "meta"), "snapshot.json", NULL);
	with(at(s, "meta"), "other.json", json_pack("{s:i}", "version", 1));
	reject(s, UPK_ROLE_TIMESTAMP, UPK_E_FORMAT, "signed.meta");
	reject(with(timestamp_signed(), "meta", json_object()), UPK_ROLE_TIMESTAMP, UPK_E_FORMAT,
	       "signed.meta");

	/* Snapshot may list any files, or none (the client checks what it needs). */
	m = accept(with(snapshot_signed(), "meta", json_object()), UPK_ROLE_SNAPSHOT);
	assert_int_equal(m->n_meta, 0);
	assert_null(upk_meta_find_meta(m, "targets.json"));
	upk_meta_free(m);
}

/* ------------------------------------------------------------------------ */
/* Root rules. */

static json_t *root_role(json_t *s, const char *name)
{
	return at(at(s, "roles"), name);
}

static void test_root_rules(void **state)
{
	json_t *s, *keys;
	struct upk_meta *m;

	(void)state;
	reject(with(root_signed(), "keys", NULL), UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.keys");
	reject(with(root_signed(), "keys", json_array()), UPK_ROLE_ROOT, UPK_E_FORMAT,
	       "signed.keys");
	reject(with(root_signed(), "roles", NULL), UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles");
	reject(with(root_signed(), "consistent_snapshot", json_string("yes")), UPK_ROLE_ROOT,
	       UPK_E_FORMAT, "signed.consistent_snapshot");
	reject(with(root_signed(), "consistent_snapshot", json_integer(1)), UPK_ROLE_ROOT,
	       UPK_E_FORMAT, "signed.consistent_snapshot");

	/* Exactly the four top-level roles (python-tuf Root). */
	s = root_signed();
	with(at(s, "roles"), "timestamp", NULL);
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles");
	s = root_signed();
	with(at(s, "roles"), "mirrors", role(L(0), 1));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles");
	s = root_signed();
	with(at(s, "roles"), "timestamp", NULL);
	with(at(s, "roles"), "timestanp", role(L(1), 1));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.timestamp");
	s = root_signed();
	with(at(s, "roles"), "snapshot", json_array());
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.snapshot");

	/* Role keys: thresholds >= 1, key ids unique and well-formed. */
	const int64_t bad_thresholds[] = { 0, -1, INT64_MIN };
	for (size_t i = 0; i < sizeof(bad_thresholds) / sizeof(bad_thresholds[0]); i++) {
		s = root_signed();
		with(root_role(s, "snapshot"), "threshold", json_integer(bad_thresholds[i]));
		reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.snapshot.threshold");
	}
	s = root_signed();
	with(root_role(s, "snapshot"), "threshold", json_string("1"));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.snapshot.threshold");
	s = root_signed();
	with(root_role(s, "snapshot"), "threshold", NULL);
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.snapshot.threshold");
	s = root_signed();
	with(root_role(s, "targets"), "keyids", keyids(L(3, 5, 3)));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.targets.keyids");
	s = root_signed();
	with(root_role(s, "targets"), "keyids", json_pack("[s]", "ABCDEF"));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.targets.keyids[0]");
	s = root_signed();
	with(root_role(s, "targets"), "keyids", json_pack("[s, i]", K[3].keyid, 3));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.targets.keyids[1]");
	s = root_signed();
	with(root_role(s, "targets"), "keyids", json_string(K[3].keyid));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.targets.keyids");
	s = root_signed();
	with(root_role(s, "targets"), "keyids", NULL);
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.targets.keyids");
	{
		/* Upper-case key ids: TUF writes them lower-case (hex SHA-256). */
		char up[UPK_KEYID_HEX_LEN + 1];

		snprintf(up, sizeof(up), "%s", K[3].keyid);
		for (char *p = up; *p; p++)
			if (*p >= 'a' && *p <= 'f')
				*p = (char)(*p - 'a' + 'A');
		s = root_signed();
		with(root_role(s, "targets"), "keyids", json_pack("[s]", up));
		reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.targets.keyids[0]");
		s = root_signed();
		with(at(s, "keys"), up, json_incref(K[3].obj));
		reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.keys");
	}

	/* Key map: well-formed ids, key objects key.c accepts. */
	s = root_signed();
	with(at(s, "keys"), "abc", json_incref(K[3].obj));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.keys.abc");
	s = root_signed();
	with(at(s, "keys"), NOKEY, json_string("key"));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.keys");
	s = root_signed();
	with(at(s, "keys"), NOKEY,
	     json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed25519", "scheme", "ed25519", "keyval",
		       "public", "not-hex"));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.keys");
	s = root_signed();
	with(at(s, "keys"), NOKEY,
	     json_pack("{s:s, s:s}", "keytype", "ed25519", "scheme", "ed25519"));
	reject(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.keys");

	/*
	 * Role key ids naming keys absent from the map parse (python-tuf logs
	 * "No key for keyid" at verification) and count as nothing.
	 */
	s = root_signed();
	with(root_role(s, "targets"), "keyids", json_pack("[s, s]", NOKEY, K[3].keyid));
	m = accept(s, UPK_ROLE_ROOT);
	assert_int_equal(m->roles[UPK_ROLE_TARGETS].n_keyids, 2);
	upk_meta_free(m);

	/* Keys of unsupported types parse (the spec lets roots list them). */
	s = root_signed();
	with(at(s, "keys"), NOKEY,
	     json_pack("{s:s, s:s, s:{s:s}}", "keytype", "sphincs", "scheme", "sphincs-shake",
		       "keyval", "public", "whatever"));
	m = accept(s, UPK_ROLE_ROOT);
	assert_int_equal(m->n_keys, 5);
	assert_false(upk_meta_find_key(m->keys, m->n_keys, NOKEY)->supported);
	upk_meta_free(m);

	/*
	 * Over UPK_META_MAX_LIST keys in the map, or key ids in a role: more
	 * than a root file's size allows, so handed over as a tree.
	 */
	s = root_signed();
	keys = at(s, "keys");
	for (int i = 0; i <= UPK_META_MAX_LIST; i++) {
		char id[UPK_KEYID_HEX_LEN + 1];

		snprintf(id, sizeof(id), "%064x", i + 1000);
		assert_int_equal(json_object_set(keys, id, K[5].obj), 0);
	}
	reject_tree(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.keys");
	s = root_signed();
	with(root_role(s, "root"), "keyids", many_keyids(UPK_META_MAX_LIST + 1));
	reject_tree(s, UPK_ROLE_ROOT, UPK_E_FORMAT, "signed.roles.root.keyids");
	/* Exactly UPK_META_MAX_LIST is fine. */
	s = root_signed();
	with(root_role(s, "root"), "keyids", many_keyids(UPK_META_MAX_LIST));
	assert_int_equal(upk_meta_from_json(wrap(s), UPK_ROLE_ROOT, &m, NULL), UPK_OK);
	assert_int_equal(m->roles[UPK_ROLE_ROOT].n_keyids, UPK_META_MAX_LIST);
	upk_meta_free(m);
}

/* ------------------------------------------------------------------------ */
/* Delegations. */

static json_t *deleg(json_t *s)
{
	return at(s, "delegations");
}

static json_t *deleg_role(json_t *s, size_t i)
{
	json_t *v = json_array_get(at(deleg(s), "roles"), i);

	assert_non_null(v);
	return v;
}

static void test_delegation_rules(void **state)
{
	json_t *s, *roles;
	struct upk_meta *m;

	(void)state;
	reject(with(targets_signed(), "delegations", json_null()), UPK_ROLE_TARGETS, UPK_E_FORMAT,
	       "signed.delegations");
	reject(with(targets_signed(), "delegations", json_array()), UPK_ROLE_TARGETS, UPK_E_FORMAT,
	       "signed.delegations");
	s = targets_signed();
	with(deleg(s), "keys", NULL);
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.keys");
	s = targets_signed();
	with(deleg(s), "keys", json_pack("{s:o}", "nothex", json_incref(K[4].obj)));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.keys.nothex");

	/* Exactly one of roles / succinct_roles. */
	s = targets_signed();
	with(deleg(s), "roles", NULL);
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations");
	{
		json_t *sd = delegations_succinct(4);

		s = targets_signed();
		with(deleg(s), "succinct_roles", json_incref(at(sd, "succinct_roles")));
		json_decref(sd);
		reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations");
	}
	s = targets_signed();
	with(deleg(s), "roles", json_object());
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles");

	/* Delegated role fields. */
	s = targets_signed();
	with(deleg_role(s, 1), "paths", json_pack("[s]", "x"));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[1]");
	s = targets_signed();
	with(deleg_role(s, 0), "paths", NULL);
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[0]");
	s = targets_signed();
	with(deleg_role(s, 0), "paths", json_pack("[s, i]", "a", 1));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[0].paths[1]");
	s = targets_signed();
	with(deleg_role(s, 0), "paths", json_string("fw/*"));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[0].paths");
	const char *bad_prefixes[] = {
		"AB", "xy", "0g",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"
	};
	for (size_t i = 0; i < sizeof(bad_prefixes) / sizeof(bad_prefixes[0]); i++) {
		s = targets_signed();
		with(deleg_role(s, 1), "path_hash_prefixes", json_pack("[s]", bad_prefixes[i]));
		reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT,
		       "signed.delegations.roles[1].path_hash_prefixes[0]");
	}
	s = targets_signed();
	with(deleg_role(s, 0), "terminating", NULL);
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[0].terminating");
	s = targets_signed();
	with(deleg_role(s, 0), "terminating", json_integer(1));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[0].terminating");
	s = targets_signed();
	with(deleg_role(s, 0), "threshold", json_integer(0));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[0].threshold");
	s = targets_signed();
	with(deleg_role(s, 0), "keyids", keyids(L(4, 4)));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[0].keyids");
	s = targets_signed();
	with(deleg_role(s, 0), "name", NULL);
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[0].name");
	const char *bad_names[] = { "", "root", "timestamp", "snapshot", "targets" };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		s = targets_signed();
		with(deleg_role(s, 0), "name", json_string(bad_names[i]));
		reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[0].name");
	}
	s = targets_signed();
	with(deleg_role(s, 1), "name", json_string("role1"));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles");
	s = targets_signed();
	assert_int_equal(json_array_append_new(at(deleg(s), "roles"), json_string("role3")), 0);
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[2]");

	/* python-tuf reads absent optional members as None: "paths": null means no paths. */
	s = targets_signed();
	with(deleg_role(s, 1), "paths", json_null());
	m = accept(s, UPK_ROLE_TARGETS);
	assert_false(m->delegations.roles[1].has_paths);
	upk_meta_free(m);
	/* Empty lists are lists; an empty prefix matches every path. */
	s = targets_signed();
	with(deleg_role(s, 0), "paths", json_array());
	with(deleg_role(s, 1), "path_hash_prefixes", json_pack("[s]", ""));
	with(deleg_role(s, 1), "x-extra", json_true());
	m = accept(s, UPK_ROLE_TARGETS);
	assert_true(m->delegations.roles[0].has_paths);
	assert_int_equal(m->delegations.roles[0].n_paths, 0);
	upk_meta_free(m);
	s = targets_signed();
	with(deleg(s), "roles", json_array());
	m = accept(s, UPK_ROLE_TARGETS);
	assert_true(m->has_delegations);
	assert_int_equal(m->delegations.n_roles, 0);
	upk_meta_free(m);

	/* Succinct roles (TAP 15). */
	m = accept(with(targets_signed(), "delegations", delegations_succinct(8)),
		   UPK_ROLE_TARGETS);
	assert_true(m->delegations.has_succinct);
	assert_int_equal(m->delegations.succinct.bit_length, 8);
	assert_string_equal(m->delegations.succinct.name_prefix, "bins");
	assert_int_equal(m->delegations.succinct.keys.n_keyids, 1);
	upk_meta_free(m);
	const int bad_bits[] = { 0, -1, 33, 64 };
	for (size_t i = 0; i < sizeof(bad_bits) / sizeof(bad_bits[0]); i++)
		reject(with(targets_signed(), "delegations", delegations_succinct(bad_bits[i])),
		       UPK_ROLE_TARGETS, UPK_E_FORMAT,
		       "signed.delegations.succinct_roles.bit_length");
	const char *fields[] = { "keyids", "threshold", "bit_length", "name_prefix" };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char where[96];

		s = with(targets_signed(), "delegations", delegations_succinct(4));
		with(at(deleg(s), "succinct_roles"), fields[i], NULL);
		snprintf(where, sizeof(where), "signed.delegations.succinct_roles.%s", fields[i]);
		reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, where);
	}
	s = with(targets_signed(), "delegations", delegations_succinct(4));
	with(at(deleg(s), "succinct_roles"), "name_prefix", json_integer(1));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.succinct_roles.name_prefix");
	s = with(targets_signed(), "delegations", delegations_succinct(4));
	with(deleg(s), "succinct_roles", json_array());
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.succinct_roles");

	/* Over UPK_META_MAX_LIST delegation keys, or key ids in a delegated role. */
	s = targets_signed();
	for (int i = 0; i <= UPK_META_MAX_LIST; i++) {
		char id[UPK_KEYID_HEX_LEN + 1];

		snprintf(id, sizeof(id), "%064x", i + 1000);
		assert_int_equal(json_object_set(at(deleg(s), "keys"), id, K[5].obj), 0);
	}
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.keys");
	s = targets_signed();
	with(deleg_role(s, 0), "keyids", many_keyids(UPK_META_MAX_LIST + 1));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles[0].keyids");
	s = with(targets_signed(), "delegations", delegations_succinct(4));
	with(at(deleg(s), "succinct_roles"), "keyids", many_keyids(UPK_META_MAX_LIST + 1));
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.succinct_roles.keyids");

	/* Over UPK_META_MAX_LIST delegated roles. */
	s = targets_signed();
	roles = json_array();
	for (int i = 0; i <= UPK_META_MAX_LIST; i++) {
		char name[32];

		snprintf(name, sizeof(name), "r%d", i);
		assert_int_equal(
			json_array_append_new(roles, json_pack("{s:s, s:[], s:i, s:b, s:[]}",
							       "name", name, "keyids", "threshold",
							       1, "terminating", 0, "paths")),
			0);
	}
	with(deleg(s), "roles", roles);
	reject(s, UPK_ROLE_TARGETS, UPK_E_FORMAT, "signed.delegations.roles");
}

/* ------------------------------------------------------------------------ */
/* Verification. */

static void test_threshold(void **state)
{
	struct upk_meta *root, *t;
	json_t *s;
	struct upk_diag d;

	(void)state;
	/* targets: keys 3 and 5, threshold 2. */
	s = root_signed();
	with(at(s, "keys"), K[5].keyid, json_incref(K[5].obj));
	with(at(s, "roles"), "targets", role(L(3, 5), 2));
	root = make(UPK_ROLE_ROOT, s, L(0));

	t = make(UPK_ROLE_TARGETS, targets_signed(), L(3, 5));
	upk_diag_clear(&d);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	upk_meta_free(t);

	t = make(UPK_ROLE_TARGETS, targets_signed(), L(3));
	upk_diag_clear(&d);
	expect_verify(UPK_E_THRESHOLD, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	assert_string_equal(d.reason, "1 of 1 signatures valid, threshold 2");
	assert_string_equal(d.where, "targets");
	upk_meta_free(t);

	/* A signature by a key of another role (timestamp's) does not count. */
	t = make(UPK_ROLE_TARGETS, targets_signed(), L(3, 1));
	upk_diag_clear(&d);
	expect_verify(UPK_E_THRESHOLD, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	assert_string_equal(d.reason, "1 of 2 signatures valid, threshold 2");
	upk_meta_free(t);

	/* Nor does a stranger's; it is ignored, not an error. */
	t = make(UPK_ROLE_TARGETS, targets_signed(), L(7, 3, 5));
	upk_diag_clear(&d);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	upk_meta_free(t);

	/* No signatures at all. */
	t = make(UPK_ROLE_TARGETS, targets_signed(), NONE);
	upk_diag_clear(&d);
	expect_verify(UPK_E_THRESHOLD, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	assert_string_equal(d.reason, "0 of 0 signatures valid, threshold 2");
	upk_meta_free(t);

	/* Verified against the wrong role's keys. */
	t = make(UPK_ROLE_TARGETS, targets_signed(), L(3, 5));
	upk_diag_clear(&d);
	expect_verify(UPK_E_THRESHOLD,
		      upk_meta_verify_role(root->keys, root->n_keys,
					   &root->roles[UPK_ROLE_SNAPSHOT], t, &d),
		      &d);
	/* A role with threshold 0 (never parsed, but callers build them) is never met. */
	{
		struct upk_role_keys zero = { root->roles[UPK_ROLE_TARGETS].keyids, 2, 0 };

		expect_verify(UPK_E_THRESHOLD,
			      upk_meta_verify_role(root->keys, root->n_keys, &zero, t, &d), &d);
	}
	/* Keys in any order are found (the sorted fast path is an optimisation). */
	{
		struct upk_key rev[5];
		struct upk_role_keys tr = root->roles[UPK_ROLE_TARGETS];

		assert_int_equal(root->n_keys, 5);
		for (size_t i = 0; i < root->n_keys; i++)
			rev[i] = root->keys[root->n_keys - 1 - i];
		expect_verify(UPK_OK, upk_meta_verify_role(rev, root->n_keys, &tr, t, &d), &d);
		/* The same key id listed twice by a caller-built role counts once. */
		const char *twice[] = { K[3].keyid, K[3].keyid };
		struct upk_role_keys dup = { twice, 2, 2 };

		expect_verify(UPK_E_THRESHOLD, upk_meta_verify_role(rev, root->n_keys, &dup, t, &d),
			      &d);
	}
	/* Wrong pairings are internal errors, not verdicts. */
	expect_verify(UPK_E_INTERNAL, upk_meta_verify_by_root(t, UPK_ROLE_TARGETS, t, &d), &d);
	expect_verify(UPK_E_INTERNAL, upk_meta_verify_by_root(root, UPK_ROLE_SNAPSHOT, t, &d), &d);
	upk_meta_free(t);
	upk_meta_free(root);
}

/* One key listed under two key ids must not satisfy a threshold of 2. */
static void test_same_key_twice(void **state)
{
	struct upk_meta *root, *t = NULL;
	json_t *s;
	struct upk_diag d;

	(void)state;
	s = root_signed();
	with(at(s, "keys"), NOKEY, json_incref(K[3].obj));
	with(at(s, "roles"), "targets",
	     json_pack("{s:[s, s], s:i}", "keyids", K[3].keyid, NOKEY, "threshold", 2));
	root = make(UPK_ROLE_ROOT, s, L(0));

	upk_diag_clear(&d);
	assert_int_equal(upk_meta_from_json(wrap(targets_signed()), UPK_ROLE_TARGETS, &t, &d),
			 UPK_OK);
	assert_int_equal(upk_meta_sign(t, K[3].keyid, ed_signer, &K[3], &d), UPK_OK);
	assert_int_equal(upk_meta_sign(t, NOKEY, ed_signer, &K[3], &d), UPK_OK);
	assert_int_equal(t->n_sigs, 2);
	expect_verify(UPK_E_THRESHOLD, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	assert_string_equal(d.reason, "1 of 2 signatures valid, threshold 2");
	upk_meta_free(t);
	upk_meta_free(root);
}

/* Key ids without a key, unsupported keys, and bad signatures count as nothing. */
static void test_uncountable_signatures(void **state)
{
	struct upk_meta *root, *t;
	json_t *s, *doc, *sig;
	struct upk_diag d;
	char *hex;

	(void)state;
	/* targets: keyids [NOKEY (absent from keys), 3], threshold 1. */
	s = root_signed();
	with(at(s, "roles"), "targets",
	     json_pack("{s:[s, s], s:i}", "keyids", NOKEY, K[3].keyid, "threshold", 1));
	root = make(UPK_ROLE_ROOT, s, L(0));
	t = make(UPK_ROLE_TARGETS, targets_signed(), L(3));
	upk_diag_clear(&d);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	upk_meta_free(t);
	{
		struct upk_meta *tt = NULL;

		assert_int_equal(
			upk_meta_from_json(wrap(targets_signed()), UPK_ROLE_TARGETS, &tt, &d),
			UPK_OK);
		assert_int_equal(upk_meta_sign(tt, NOKEY, ed_signer, &K[3], &d), UPK_OK);
		expect_verify(UPK_E_THRESHOLD,
			      upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, tt, &d), &d);
		upk_meta_free(tt);
	}
	upk_meta_free(root);

	/* An unsupported key type listed for targets never verifies. */
	s = root_signed();
	with(at(s, "keys"), NOKEY,
	     json_pack("{s:s, s:s, s:{s:s}}", "keytype", "ed448", "scheme", "ed448", "keyval",
		       "public", "00"));
	with(at(s, "roles"), "targets", json_pack("{s:[s], s:i}", "keyids", NOKEY, "threshold", 1));
	root = make(UPK_ROLE_ROOT, s, L(0));
	{
		struct upk_meta *tt = NULL;

		assert_int_equal(
			upk_meta_from_json(wrap(targets_signed()), UPK_ROLE_TARGETS, &tt, &d),
			UPK_OK);
		assert_int_equal(upk_meta_sign(tt, NOKEY, ed_signer, &K[3], &d), UPK_OK);
		expect_verify(UPK_E_THRESHOLD,
			      upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, tt, &d), &d);
		upk_meta_free(tt);
	}
	upk_meta_free(root);

	/* A corrupted signature fails quietly; a second, good one still meets threshold 1. */
	root = make_root();
	t = make(UPK_ROLE_TARGETS, targets_signed(), L(3));
	doc = json_deep_copy(t->doc);
	upk_meta_free(t);
	sig = json_array_get(at(doc, "signatures"), 0);
	hex = strdup(json_string_value(at(sig, "sig")));
	hex[10] = hex[10] == '0' ? '1' : '0';
	with(sig, "sig", json_string(hex));
	free(hex);
	t = accept_doc(json_deep_copy(doc), UPK_ROLE_TARGETS);
	expect_verify(UPK_E_THRESHOLD, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	assert_string_equal(d.reason, "0 of 1 signatures valid, threshold 1");
	upk_meta_free(t);
	/* A signature of the wrong length, too. */
	with(sig, "sig", json_string("00ff"));
	t = accept_doc(json_deep_copy(doc), UPK_ROLE_TARGETS);
	expect_verify(UPK_E_THRESHOLD, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	upk_meta_free(t);
	/* Changing one byte of `signed` breaks the signature. */
	json_decref(doc);
	t = make(UPK_ROLE_TARGETS, targets_signed(), L(3));
	doc = json_deep_copy(t->doc);
	upk_meta_free(t);
	with(at(doc, "signed"), "version", json_integer(3));
	t = accept_doc(doc, UPK_ROLE_TARGETS);
	expect_verify(UPK_E_THRESHOLD, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	upk_meta_free(t);
	upk_meta_free(root);
}

static void test_delegated_verify(void **state)
{
	struct upk_meta *top, *r1, *stranger, *bins;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	top = make(UPK_ROLE_TARGETS, targets_signed(), L(3));
	r1 = make(UPK_ROLE_TARGETS, role_signed(), L(4));
	stranger = make(UPK_ROLE_TARGETS, role_signed(), L(7));

	expect_verify(UPK_OK, upk_meta_verify_delegated(top, "role1", r1, &d), &d);
	expect_verify(UPK_OK, upk_meta_verify_delegated(top, "role2", r1, &d), &d);
	expect_verify(UPK_E_THRESHOLD, upk_meta_verify_delegated(top, "role1", stranger, &d), &d);
	assert_string_equal(d.where, "role1");
	expect_verify(UPK_E_NOT_FOUND, upk_meta_verify_delegated(top, "role3", r1, &d), &d);
	expect_verify(UPK_E_NOT_FOUND, upk_meta_verify_delegated(top, "role", r1, &d), &d);
	expect_verify(UPK_E_NOT_FOUND, upk_meta_verify_delegated(top, "", r1, &d), &d);
	/* A role without delegations delegates nothing. */
	expect_verify(UPK_E_NOT_FOUND, upk_meta_verify_delegated(r1, "role1", r1, &d), &d);
	/* Delegators are targets metadata. */
	{
		struct upk_meta *root = make_root();

		expect_verify(UPK_E_INTERNAL, upk_meta_verify_delegated(root, "role1", r1, &d), &d);
		expect_verify(UPK_E_INTERNAL, upk_meta_verify_delegated(top, "role1", root, &d),
			      &d);
		upk_meta_free(root);
	}
	upk_meta_free(top);
	upk_meta_free(r1);
	upk_meta_free(stranger);

	/* Succinct bins: "<prefix>-<ceil(bits/4) hex digits>", below 2^bits. */
	bins = make(UPK_ROLE_TARGETS, role_signed(), L(6));
	stranger = make(UPK_ROLE_TARGETS, role_signed(), L(4));
	struct {
		int bits;
		const char *name;
		enum upk_err want;
	} cases[] = {
		{ 1, "bins-0", UPK_OK },
		{ 1, "bins-1", UPK_OK },
		{ 1, "bins-2", UPK_E_NOT_FOUND },
		{ 1, "bins-00", UPK_E_NOT_FOUND },
		{ 4, "bins-f", UPK_OK },
		{ 5, "bins-00", UPK_OK },
		{ 5, "bins-1f", UPK_OK },
		{ 5, "bins-20", UPK_E_NOT_FOUND },
		{ 5, "bins-0", UPK_E_NOT_FOUND },
		{ 5, "bins-000", UPK_E_NOT_FOUND },
		{ 5, "bins-1F", UPK_E_NOT_FOUND },
		{ 5, "bins-0x", UPK_E_NOT_FOUND },
		{ 5, "bins-+1", UPK_E_NOT_FOUND },
		{ 5, "bins_00", UPK_E_NOT_FOUND },
		{ 5, "bin-00", UPK_E_NOT_FOUND },
		{ 5, "binsx-00", UPK_E_NOT_FOUND },
		{ 5, "bins", UPK_E_NOT_FOUND },
		{ 5, "bins-", UPK_E_NOT_FOUND },
		{ 8, "bins-ff", UPK_OK },
		{ 10, "bins-3ff", UPK_OK },
		{ 10, "bins-400", UPK_E_NOT_FOUND },
		{ 32, "bins-00000000", UPK_OK },
		{ 32, "bins-ffffffff", UPK_OK },
		{ 32, "bins-fffffffff", UPK_E_NOT_FOUND },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct upk_meta *del = make(
			UPK_ROLE_TARGETS,
			with(targets_signed(), "delegations", delegations_succinct(cases[i].bits)),
			L(3));
		enum upk_err e = upk_meta_verify_delegated(del, cases[i].name, bins, &d);

		if (e != cases[i].want)
			print_message("bits %d name %s: %s\n", cases[i].bits, cases[i].name,
				      upk_err_name(e));
		assert_int_equal(e, cases[i].want);
		if (cases[i].want == UPK_OK)
			expect_verify(UPK_E_THRESHOLD,
				      upk_meta_verify_delegated(del, cases[i].name, stranger, &d),
				      &d);
		upk_meta_free(del);
	}
	upk_meta_free(bins);
	upk_meta_free(stranger);
}

static void test_expiry_boundary(void **state)
{
	struct upk_meta *m = accept(timestamp_signed(), UPK_ROLE_TIMESTAMP);
	int64_t t;

	(void)state;
	assert_int_equal(upk_time_parse(EXPIRES, &t), UPK_OK);
	assert_int_equal(m->expires, t);
	assert_false(upk_meta_is_expired(m, t - 1));
	assert_true(upk_meta_is_expired(m, t));
	assert_true(upk_meta_is_expired(m, t + 1));
	assert_false(upk_meta_is_expired(m, 0));
	assert_false(upk_meta_is_expired(m, INT64_MIN));
	assert_true(upk_meta_is_expired(m, INT64_MAX));
	upk_meta_free(m);
}

/* ------------------------------------------------------------------------ */
/* Unknown fields, re-signing, serialization. */

static void test_unknown_fields_survive(void **state)
{
	struct upk_meta *root = make_root(), *t, *t2 = NULL;
	struct upk_buf out = UPK_BUF_INIT;
	json_t *s = targets_signed(), *doc;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	with(s, "x-vendor",
	     json_pack("{s:[i, s, n, b], s:s}", "a", 1, "\xc3\xa9t\xc3\xa9", 0, "q",
		       "quote\" and \\ backslash"));
	with(target_a(s), "x-target", json_integer(-5));
	with(deleg_role(s, 0), "x-role", json_string("r"));
	with(deleg(s), "x-deleg", json_object());
	t = make(UPK_ROLE_TARGETS, s, L(3));
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	assert_non_null(strstr((const char *)t->canonical.data, "\"x-vendor\""));

	/* Top-level unknown fields too; serialize, reparse, still verifies. */
	doc = json_deep_copy(t->doc);
	with(doc, "x-top", json_string("kept"));
	upk_meta_free(t);
	t = accept_doc(doc, UPK_ROLE_TARGETS);
	assert_int_equal(upk_meta_serialize(t, &out), UPK_OK);
	assert_int_equal(out.data[out.len - 1], '\n');
	assert_int_equal(upk_meta_parse(out.data, out.len, UPK_ROLE_TARGETS, 0, &t2, &d), UPK_OK);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t2, &d), &d);
	assert_string_equal(json_string_value(json_object_get(t2->doc, "x-top")), "kept");
	assert_int_equal(
		json_integer_value(json_object_get(
			json_object_get(json_object_get(t2->signed_obj, "targets"), "fw/a.bin"),
			"x-target")),
		-5);
	assert_int_equal(t->canonical.len, t2->canonical.len);
	assert_memory_equal(t->canonical.data, t2->canonical.data, t->canonical.len);
	upk_buf_done(&out);
	upk_meta_free(t);
	upk_meta_free(t2);
	upk_meta_free(root);
}

static enum upk_err failing_signer(void *ctx, const uint8_t *msg, size_t len, struct upk_buf *sig)
{
	(void)ctx;
	(void)msg;
	(void)len;
	(void)sig;
	return UPK_E_PASSPHRASE;
}

static enum upk_err empty_signer(void *ctx, const uint8_t *msg, size_t len, struct upk_buf *sig)
{
	(void)ctx;
	(void)msg;
	(void)len;
	(void)sig;
	return UPK_OK;
}

static enum upk_err huge_signer(void *ctx, const uint8_t *msg, size_t len, struct upk_buf *sig)
{
	static const uint8_t zeros[UPK_META_MAX_SIG_LEN + 1];

	(void)ctx;
	(void)msg;
	(void)len;
	return upk_buf_append(sig, zeros, sizeof(zeros));
}

static void test_resign(void **state)
{
	struct upk_meta *root = make_root(), *m;
	struct upk_buf before = UPK_BUF_INIT;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	m = make(UPK_ROLE_TIMESTAMP, timestamp_signed(), L(1));
	assert_int_equal(m->n_sigs, 1);
	assert_int_equal(upk_buf_append(&before, m->canonical.data, m->canonical.len), UPK_OK);

	/* Signing again with the same key replaces, another key adds; both sorted. */
	assert_int_equal(upk_meta_sign(m, K[1].keyid, ed_signer, &K[1], &d), UPK_OK);
	assert_int_equal(m->n_sigs, 1);
	assert_int_equal(json_array_size(json_object_get(m->doc, "signatures")), 1);
	assert_int_equal(upk_meta_sign(m, K[7].keyid, ed_signer, &K[7], &d), UPK_OK);
	assert_int_equal(m->n_sigs, 2);
	assert_true(strcmp(m->sigs[0].keyid, m->sigs[1].keyid) < 0);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TIMESTAMP, m, &d), &d);

	/* Failing signers leave m as it was. */
	assert_int_equal(upk_meta_sign(m, K[2].keyid, failing_signer, NULL, &d), UPK_E_PASSPHRASE);
	assert_int_equal(upk_meta_sign(m, K[2].keyid, empty_signer, NULL, &d), UPK_E_FORMAT);
	assert_int_equal(upk_meta_sign(m, K[2].keyid, huge_signer, NULL, &d), UPK_E_FORMAT);
	assert_int_equal(upk_meta_sign(m, "ABC", ed_signer, &K[2], &d), UPK_E_FORMAT);
	assert_int_equal(m->n_sigs, 2);
	assert_int_equal(json_array_size(json_object_get(m->doc, "signatures")), 2);

	/* Change `signed`, re-sign: new canonical bytes, signatures dropped. */
	with(m->signed_obj, "version", json_integer(8));
	assert_int_equal(upk_meta_resign_begin(m, &d), UPK_OK);
	assert_int_equal(m->version, 8);
	assert_int_equal(m->n_sigs, 0);
	assert_int_equal(json_array_size(json_object_get(m->doc, "signatures")), 0);
	assert_false(m->canonical.len == before.len &&
		     memcmp(m->canonical.data, before.data, before.len) == 0);
	assert_non_null(upk_meta_find_meta(m, "snapshot.json"));
	expect_verify(UPK_E_THRESHOLD, upk_meta_verify_by_root(root, UPK_ROLE_TIMESTAMP, m, &d),
		      &d);
	assert_int_equal(upk_meta_sign(m, K[1].keyid, ed_signer, &K[1], &d), UPK_OK);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TIMESTAMP, m, &d), &d);

	/* A change that breaks the parse rules is refused; the signatures stay. */
	with(m->signed_obj, "version", json_integer(0));
	assert_int_equal(upk_meta_resign_begin(m, &d), UPK_E_FORMAT);
	assert_string_equal(d.where, "signed.version");
	assert_int_equal(json_array_size(json_object_get(m->doc, "signatures")), 1);
	with(m->signed_obj, "version", json_integer(9));
	assert_int_equal(upk_meta_resign_begin(m, &d), UPK_OK);
	assert_int_equal(m->version, 9);
	upk_meta_free(m);

	/* Re-signing targets rebuilds every view (targets, delegations). */
	m = make(UPK_ROLE_TARGETS, targets_signed(), L(3));
	with(at(m->signed_obj, "targets"), "new.bin",
	     json_pack("{s:i, s:{s:s}}", "length", 3, "hashes", "sha256", SHA256_ABC));
	with(m->signed_obj, "delegations", NULL);
	assert_int_equal(upk_meta_resign_begin(m, &d), UPK_OK);
	assert_int_equal(m->n_targets, 3);
	assert_non_null(upk_meta_find_target(m, "new.bin"));
	assert_false(m->has_delegations);
	assert_int_equal(upk_meta_sign(m, K[3].keyid, ed_signer, &K[3], &d), UPK_OK);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, m, &d), &d);
	upk_meta_free(m);

	upk_buf_done(&before);
	upk_meta_free(root);
}

static void test_from_json_edges(void **state)
{
	struct upk_meta *m = NULL;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	assert_int_equal(upk_meta_from_json(NULL, UPK_ROLE_ROOT, &m, &d), UPK_E_FORMAT);
	assert_int_equal(upk_meta_from_json(json_string("x"), UPK_ROLE_ROOT, &m, &d), UPK_E_FORMAT);
	assert_int_equal(upk_meta_from_json(wrap(root_signed()), (enum upk_role)9, &m, &d),
			 UPK_E_INTERNAL);
	assert_int_equal(upk_meta_parse((const uint8_t *)"{}", 2, (enum upk_role)9, 0, &m, &d),
			 UPK_E_INTERNAL);
	assert_null(m);
	/* A tree may hold what canonical JSON cannot encode (a real in an unknown field). */
	assert_int_equal(
		upk_meta_from_json(wrap(with(timestamp_signed(), "x-real", json_real(1.5))),
				   UPK_ROLE_TIMESTAMP, &m, &d),
		UPK_E_FORMAT);
	assert_null(m);
	assert_non_null(strstr(d.where, "signed"));
	assert_non_null(strstr(d.where, "x-real"));
	upk_meta_free(NULL);
}

/* ------------------------------------------------------------------------ */
/* Hashes of data. */

static void test_hashes_json_and_check(void **state)
{
	json_t *h = NULL;
	struct upk_hashes hs;
	struct upk_diag d;
	json_t *s;
	struct upk_meta *m;

	(void)state;
	upk_diag_clear(&d);
	assert_int_equal(upk_meta_hashes_json((const uint8_t *)"abc", 3, &h), UPK_OK);
	assert_int_equal(json_object_size(h), 2);
	assert_string_equal(json_string_value(json_object_get(h, "sha256")), SHA256_ABC);
	json_decref(h);
	assert_int_equal(upk_meta_hashes_json((const uint8_t *)"", 0, &h), UPK_OK);
	assert_string_equal(json_string_value(json_object_get(h, "sha512")), SHA512_EMPTY);

	/* Hashes made here, parsed from a target entry, check out. */
	s = targets_signed();
	with(target_a(s), "hashes", h);
	m = accept(s, UPK_ROLE_TARGETS);
	hs = upk_meta_find_target(m, "fw/a.bin")->hashes;
	upk_meta_free(m);
	assert_int_equal(hs.count, 2);
	assert_int_equal(upk_meta_hashes_check(&hs, (const uint8_t *)"", 0, &d), UPK_OK);
	assert_int_equal(upk_meta_hashes_check(&hs, (const uint8_t *)"a", 1, &d), UPK_E_HASH);

	/* Each algorithm is checked: a wrong sha512 alone fails. */
	hs.sha512[63] ^= 1;
	assert_int_equal(upk_meta_hashes_check(&hs, (const uint8_t *)"", 0, &d), UPK_E_HASH);
	assert_non_null(strstr(d.reason, "sha512"));
	hs.has_sha512 = false;
	hs.count = 1;
	assert_int_equal(upk_meta_hashes_check(&hs, (const uint8_t *)"", 0, &d), UPK_OK);
	hs.sha256[0] ^= 1;
	assert_int_equal(upk_meta_hashes_check(&hs, (const uint8_t *)"", 0, &d), UPK_E_HASH);

	/* An algorithm Upkeep lacks is refused even next to a matching one. */
	s = targets_signed();
	with(target_a(s), "hashes",
	     json_pack("{s:s, s:s}", "sha256", SHA256_ABC, "blake2b", "00ff"));
	m = accept(s, UPK_ROLE_TARGETS);
	hs = upk_meta_find_target(m, "fw/a.bin")->hashes;
	upk_meta_free(m);
	assert_int_equal(upk_meta_hashes_check(&hs, (const uint8_t *)"abc", 3, &d),
			 UPK_E_UNSUPPORTED);

	/* At least one hash. */
	memset(&hs, 0, sizeof(hs));
	assert_int_equal(upk_meta_hashes_check(&hs, (const uint8_t *)"abc", 3, &d), UPK_E_FORMAT);
}

/* ------------------------------------------------------------------------ */
/* Scale: 10,000 targets (about 1 MB) parse, canonicalize and verify. */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_many_targets(void **state)
{
	struct upk_meta *root = make_root(), *t, *t2 = NULL;
	struct upk_buf out = UPK_BUF_INIT;
	json_t *s = targets_signed(), *tg = at(s, "targets");
	struct upk_diag d;
	double t0;

	(void)state;
	upk_diag_clear(&d);
	for (int i = 0; i < 10000; i++) {
		char path[64];

		snprintf(path, sizeof(path), "releases/product-%05d/bundle-1.2.%d.upk", i, i);
		assert_int_equal(
			json_object_set_new(tg, path,
					    json_pack("{s:i, s:{s:s, s:s}, s:{s:{s:i}}}", "length",
						      i * 1000, "hashes", "sha256", SHA256_ABC,
						      "sha512", SHA512_EMPTY, "custom", "upkeep",
						      "n", i)),
			0);
	}
	t = make(UPK_ROLE_TARGETS, s, L(3));
	assert_int_equal(upk_meta_serialize(t, &out), UPK_OK);
	assert_true(out.len > 1000000);
	t0 = now_ms();
	assert_int_equal(upk_meta_parse(out.data, out.len, UPK_ROLE_TARGETS, 0, &t2, &d), UPK_OK);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t2, &d), &d);
	for (int i = 0; i < 10000; i += 7) {
		char path[64];

		snprintf(path, sizeof(path), "releases/product-%05d/bundle-1.2.%d.upk", i, i);
		assert_int_equal(upk_meta_find_target(t2, path)->length, i * 1000);
	}
	/* Reported, never asserted (STYLE.md: no timed assertions in the suite). */
	print_message("10002 targets, %zu bytes: parse+verify+lookups %.1f ms\n", out.len,
		      now_ms() - t0);
	assert_int_equal(t2->n_targets, 10002);
	upk_meta_free(t2);
	t2 = NULL;
	t0 = now_ms();
	assert_int_equal(upk_meta_parse_view(out.data, out.len, UPK_ROLE_TARGETS, 0, &t2, &d),
			 UPK_OK);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t2, &d), &d);
	for (int i = 0; i < 10000; i += 7) {
		char path[64];

		snprintf(path, sizeof(path), "releases/product-%05d/bundle-1.2.%d.upk", i, i);
		assert_int_equal(upk_meta_find_target(t2, path)->length, i * 1000);
		assert_int_equal(
			json_integer_value(json_object_get(
				json_object_get(upk_meta_find_target(t2, path)->custom, "upkeep"),
				"n")),
			i);
	}
	print_message("the same as a view (upk_meta_parse_view): %.1f ms\n", now_ms() - t0);
	assert_int_equal(t2->n_targets, 10002);
	upk_buf_done(&out);
	upk_meta_free(t);
	upk_meta_free(t2);
	upk_meta_free(root);
}

/*
 * Views of hand-written targets files: escaped and non-ASCII paths, keys out
 * of order, whitespace, custom values of every type, unknown members and
 * algorithms; the view agrees with the tree, and refuses to be changed.
 */
static void test_view(void **state)
{
	static const char doc[] =
		"{ \"signed\" : {\"version\":3, \"_type\":\"targets\", \"x-extra\": [1, "
		"{\"b\":1,\"a\":2}],\n"
		"  \"targets\": {\n"
		"   \"z/last\": {\"length\": 0, \"hashes\": {\"sha512\": \"" SHA512_EMPTY "\"}},\n"
		"   \"a\\\"quote\\\\back\": {\"hashes\": {\"sha256\": \"" SHA256_ABC
		"\", \"blake3\": \"00ff\"},\n"
		"        \"length\": 3, \"custom\": {\"upkeep\": {\"z\": 1, \"a\": "
		"\"\\u00e9\\n\"}}},\n"
		"   \"caf\\u00e9/\xc3\xa9t\xc3\xa9\": {\"length\": 9223372036854775807, "
		"\"custom\": null,\n"
		"        \"hashes\": {\"sha256\": \"" SHA256_ABC "\"}, \"unknown\": true},\n"
		"   \"m\": {\"length\": 1, \"hashes\": {\"sha256\": \"" SHA256_ABC
		"\"}, \"custom\": [1, \"two\", false]},\n"
		"   \"n\": {\"length\": 1, \"hashes\": {\"sha256\": \"" SHA256_ABC
		"\"}, \"custom\": \"text\"}\n"
		"  },\n"
		"  \"spec_version\": \"1.0.31\", \"expires\": \"2030-01-01T00:00:00Z\"},\n"
		" \"signatures\": [] }\n";
	struct upk_meta *t = NULL, *v = NULL;
	struct upk_buf out = UPK_BUF_INIT;
	struct upk_diag d;
	const struct upk_target *x;

	(void)state;
	upk_diag_clear(&d);
	if (upk_meta_parse((const uint8_t *)doc, strlen(doc), UPK_ROLE_TARGETS, 0, &t, &d))
		print_message("%s: %s\n", d.where, d.reason);
	assert_non_null(t);
	if (upk_meta_parse_view((const uint8_t *)doc, strlen(doc), UPK_ROLE_TARGETS, 0, &v, &d))
		print_message("%s: %s\n", d.where, d.reason);
	assert_non_null(v);
	assert_null(meta_compare(t, v));
	assert_true(v->view);
	assert_int_equal(v->n_targets, 5);
	assert_string_equal(upk_meta_target(v, 0)->path, "a\"quote\\back");
	assert_string_equal(upk_meta_target(v, 1)->path, "caf\xc3\xa9/\xc3\xa9t\xc3\xa9");
	x = upk_meta_find_target(v, "a\"quote\\back");
	assert_non_null(x);
	assert_int_equal(x->hashes.n_unknown, 1);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(x->custom, "upkeep"), "a")),
		"\xc3\xa9\n");
	assert_null(upk_meta_find_target(v, "caf\xc3\xa9/\xc3\xa9t\xc3\xa9")->custom);
	assert_int_equal(upk_meta_find_target(v, "caf\xc3\xa9/\xc3\xa9t\xc3\xa9")->length,
			 INT64_MAX);
	assert_true(json_is_array(upk_meta_find_target(v, "m")->custom));
	/* Look-ups between, before and after the listed paths; out-of-range entries. */
	assert_int_equal(upk_meta_lookup_target(v, "l", &x), UPK_E_NOT_FOUND);
	assert_int_equal(upk_meta_lookup_target(v, "", &x), UPK_E_NOT_FOUND);
	assert_int_equal(upk_meta_lookup_target(v, "zz", &x), UPK_E_NOT_FOUND);
	assert_int_equal(upk_meta_lookup_target(v, "a\"quote\\bac", &x), UPK_E_NOT_FOUND);
	assert_int_equal(upk_meta_lookup_target(v, "z/last", &x), UPK_OK);
	assert_string_equal(x->path, "z/last");
	assert_null(upk_meta_target(v, 5));
	assert_true(json_is_string(upk_meta_find_target(v, "n")->custom));
	/* Unknown members of `signed` stay in the view's tree; the targets map does not. */
	assert_non_null(json_object_get(v->signed_obj, "x-extra"));
	assert_int_equal(json_object_size(json_object_get(v->signed_obj, "targets")), 0);
	/* A view is read-only. */
	assert_int_equal(upk_meta_serialize(v, &out), UPK_E_INTERNAL);
	assert_int_equal(upk_meta_sign(v, K[0].keyid, ed_signer, &K[0], &d), UPK_E_INTERNAL);
	assert_int_equal(upk_meta_resign_begin(v, &d), UPK_E_INTERNAL);
	assert_int_equal(v->n_sigs, 0);
	/* Other roles are parsed as trees. */
	upk_meta_free(v);
	v = NULL;
	assert_int_equal(upk_meta_serialize(t, &out), UPK_OK);
	assert_int_equal(upk_meta_parse_view(out.data, out.len, UPK_ROLE_ROOT, 0, &v, &d),
			 UPK_E_FORMAT);
	upk_buf_done(&out);
	upk_meta_free(t);
}

/* Bad targets maps: the view rejects each with the tree's code, field and reason. */
static void test_view_rejects(void **state)
{
	static const char *const entries[] = {
		"[]",
		"{\"length\": 1}",
		"{\"hashes\": {\"sha256\": \"" SHA256_ABC "\"}}",
		"{\"length\": -1, \"hashes\": {\"sha256\": \"" SHA256_ABC "\"}}",
		"{\"length\": \"1\", \"hashes\": {\"sha256\": \"" SHA256_ABC "\"}}",
		"{\"length\": true, \"hashes\": {\"sha256\": \"" SHA256_ABC "\"}}",
		"{\"length\": null, \"hashes\": {\"sha256\": \"" SHA256_ABC "\"}}",
		"{\"length\": 1, \"hashes\": null}",
		"{\"length\": 1, \"hashes\": []}",
		"{\"length\": 1, \"hashes\": {}}",
		"{\"length\": 1, \"hashes\": {\"sha256\": 5}}",
		"{\"length\": 1, \"hashes\": {\"sha256\": \"ABCD\"}}",
		"{\"length\": 1, \"hashes\": {\"sha256\": \"" SHA512_EMPTY "\"}}",
		"{\"length\": 1, \"hashes\": {\"sha512\": \"" SHA256_ABC "\"}}",
		"{\"length\": 1, \"hashes\": {\"blake3\": \"abc\"}}",
		"{\"length\": 1, \"hashes\": {\"blake3\": \"\"}}",
		"{\"length\": 1, \"hashes\": {\"blake3\": \"a\\\"\"}}",
		"{\"length\": 1, \"hashes\": "
		"{\"this-algorithm-name-is-longer-than-sixty-four-bytes-which-is-what-shows\": "
		"\"zz\"}}",
	};
	static const char *const maps[] = { "[]", "null", "\"x\"", "7" };
	struct upk_meta *m = NULL;
	struct upk_diag d;
	char doc[1024];

	(void)state;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++) {
		snprintf(doc, sizeof(doc),
			 "{\"signatures\": [], \"signed\": {\"_type\": \"targets\", "
			 "\"spec_version\": \"1.0\", \"version\": 1, \"expires\": "
			 "\"2030-01-01T00:00:00Z\", \"targets\": {\"ok\": {\"length\": 1, "
			 "\"hashes\": {\"sha256\": \"" SHA256_ABC "\"}}, \"p\\\"q\": %s}}}",
			 entries[i]);
		upk_diag_clear(&d);
		assert_int_equal(upk_meta_parse((const uint8_t *)doc, strlen(doc), UPK_ROLE_TARGETS,
						0, &m, &d),
				 UPK_E_FORMAT);
		assert_non_null(strstr(d.where, "signed.targets.p\"q"));
		check_view((const uint8_t *)doc, strlen(doc), UPK_ROLE_TARGETS, UPK_E_FORMAT, NULL,
			   &d);
	}
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(doc, sizeof(doc),
			 "{\"signatures\": [], \"signed\": {\"_type\": \"targets\", "
			 "\"spec_version\": \"1.0\", \"version\": 1, \"expires\": "
			 "\"2030-01-01T00:00:00Z\", \"targets\": %s}}",
			 maps[i]);
		upk_diag_clear(&d);
		assert_int_equal(upk_meta_parse((const uint8_t *)doc, strlen(doc), UPK_ROLE_TARGETS,
						0, &m, &d),
				 UPK_E_FORMAT);
		check_view((const uint8_t *)doc, strlen(doc), UPK_ROLE_TARGETS, UPK_E_FORMAT, NULL,
			   &d);
	}
	/* Whole-document shapes. */
	static const char *const docs[] = {
		"[]",
		"{}",
		"{\"signed\": [], \"signatures\": []}",
		"{\"signed\": {}}",
		"{\"signed\": {}, \"signatures\": {}}",
		"{\"signed\": {\"_type\": \"root\"}, \"signatures\": []}",
		"{\"signed\": 1, \"signatures\": []",
		"",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		enum upk_err e;

		upk_diag_clear(&d);
		e = upk_meta_parse((const uint8_t *)docs[i], strlen(docs[i]), UPK_ROLE_TARGETS, 0,
				   &m, &d);
		assert_int_not_equal(e, UPK_OK);
		check_view((const uint8_t *)docs[i], strlen(docs[i]), UPK_ROLE_TARGETS, e, NULL,
			   &d);
	}
}

/* ------------------------------------------------------------------------ */
/* Files signed by securesystemslib (the fuzz seed corpus) verify here. */

static uint8_t *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rbe");
	uint8_t *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static struct upk_meta *load_seed(const char *name, enum upk_role r)
{
	const char *src = getenv("UPKEEP_SOURCE_DIR");
	char path[4096];
	struct upk_meta *m = NULL;
	struct upk_diag d;
	uint8_t *data;
	size_t len = 0;

	assert_non_null(src);
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/metadata/%s", src, name);
	data = read_all(path, &len);
	if (!data)
		print_message("cannot read %s\n", path);
	assert_non_null(data);
	upk_diag_clear(&d);
	expect_verify(UPK_OK, upk_meta_parse(data, len, r, 0, &m, &d), &d);
	free(data);
	return m;
}

static void test_securesystemslib_seeds(void **state)
{
	struct upk_meta *root, *ts, *sn, *t, *r1, *bins, *bin;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	root = load_seed("valid-root.json", UPK_ROLE_ROOT);
	ts = load_seed("valid-timestamp.json", UPK_ROLE_TIMESTAMP);
	sn = load_seed("valid-snapshot.json", UPK_ROLE_SNAPSHOT);
	t = load_seed("valid-targets.json", UPK_ROLE_TARGETS);
	r1 = load_seed("valid-role1.json", UPK_ROLE_TARGETS);
	bins = load_seed("valid-targets-succinct.json", UPK_ROLE_TARGETS);
	bin = load_seed("valid-bins-2a.json", UPK_ROLE_TARGETS);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_ROOT, root, &d), &d);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TIMESTAMP, ts, &d), &d);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_SNAPSHOT, sn, &d), &d);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, t, &d), &d);
	expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_TARGETS, bins, &d), &d);
	expect_verify(UPK_OK, upk_meta_verify_delegated(t, "role1", r1, &d), &d);
	expect_verify(UPK_OK, upk_meta_verify_delegated(bins, "bins-2a", bin, &d), &d);
	expect_verify(UPK_E_THRESHOLD, upk_meta_verify_delegated(t, "role1", bin, &d), &d);
	/* ECDSA P-256 and RSA-PSS signatures by python-cryptography count too. */
	{
		struct upk_meta *mixed = load_seed("valid-root-mixed.json", UPK_ROLE_ROOT);
		struct upk_role_keys two = mixed->roles[UPK_ROLE_ROOT];

		assert_int_equal(mixed->roles[UPK_ROLE_ROOT].threshold, 3);
		expect_verify(UPK_OK, upk_meta_verify_by_root(mixed, UPK_ROLE_ROOT, mixed, &d), &d);
		/* Each scheme is needed: drop any one key id and threshold 3 fails. */
		for (size_t skip = 0; skip < 3; skip++) {
			const char *ids[2];

			for (size_t i = 0, j = 0; i < 3; i++)
				if (i != skip)
					ids[j++] = mixed->roles[UPK_ROLE_ROOT].keyids[i];
			two.keyids = ids;
			two.n_keyids = 2;
			expect_verify(
				UPK_E_THRESHOLD,
				upk_meta_verify_role(mixed->keys, mixed->n_keys, &two, mixed, &d),
				&d);
			two.threshold = 2;
			expect_verify(
				UPK_OK,
				upk_meta_verify_role(mixed->keys, mixed->n_keys, &two, mixed, &d),
				&d);
			two.threshold = 3;
		}
		/* The old root's key (0) signed it too, as a root rotation needs. */
		expect_verify(UPK_OK, upk_meta_verify_by_root(root, UPK_ROLE_ROOT, mixed, &d), &d);
		upk_meta_free(mixed);
	}
	/* The seed keys are this file's keys 0..6 (same seeds). */
	assert_non_null(upk_meta_find_key(root->keys, root->n_keys, K[0].keyid));
	upk_meta_free(root);
	upk_meta_free(ts);
	upk_meta_free(sn);
	upk_meta_free(t);
	upk_meta_free(r1);
	upk_meta_free(bins);
	upk_meta_free(bin);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_names),
		cmocka_unit_test(test_root_valid),
		cmocka_unit_test(test_timestamp_valid),
		cmocka_unit_test(test_snapshot_valid),
		cmocka_unit_test(test_targets_valid),
		cmocka_unit_test(test_independent_signature),
		cmocka_unit_test(test_common_root),
		cmocka_unit_test(test_common_timestamp),
		cmocka_unit_test(test_common_snapshot),
		cmocka_unit_test(test_common_targets),
		cmocka_unit_test(test_wrong_role),
		cmocka_unit_test(test_signature_list_rejections),
		cmocka_unit_test(test_size_limits),
		cmocka_unit_test(test_hashes),
		cmocka_unit_test(test_metafile_rules),
		cmocka_unit_test(test_root_rules),
		cmocka_unit_test(test_delegation_rules),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_same_key_twice),
		cmocka_unit_test(test_uncountable_signatures),
		cmocka_unit_test(test_delegated_verify),
		cmocka_unit_test(test_expiry_boundary),
		cmocka_unit_test(test_unknown_fields_survive),
		cmocka_unit_test(test_resign),
		cmocka_unit_test(test_from_json_edges),
		cmocka_unit_test(test_hashes_json_and_check),
		cmocka_unit_test(test_many_targets),
		cmocka_unit_test(test_view),
		cmocka_unit_test(test_view_rejects),
		cmocka_unit_test(test_securesystemslib_seeds),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
