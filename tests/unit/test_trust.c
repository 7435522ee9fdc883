/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for common/trust: every step of the TUF 1.0 client workflow
 * (§5.2-5.6) on metadata made here, signed with Ed25519 keys from fixed
 * seeds through upk_meta_sign. Each rejection is checked to leave the
 * trusted set exactly as it was (same objects, same versions).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "json.h"
#include "meta.h"
#include "sig.h"
#include "trust.h"
#include "tuftime.h"

#define NOW    INT64_C(1700000000)	   /* 2023-11-14 */
#define FUTURE (NOW + 30 * INT64_C(86400)) /* valid */
#define PAST   (NOW - INT64_C(86400))	   /* expired */
#define SPEC   "1.0.31"

/*
 * 0, 1 root; 2 timestamp; 3 snapshot; 4 targets; 5, 6 delegated roles;
 * 7 a stranger; 8 new timestamp; 9 new snapshot; 10 second targets key.
 */
#define NKEYS 11
struct tkey {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
	char keyid[UPK_KEYID_HEX_LEN + 1];
	json_t *obj;
};
static struct tkey K[NKEYS];

#define L(...) ((const int[]){ __VA_ARGS__, -1 })
/* Key lists kept in struct rootcfg, so they must outlive any block. */
static const int KL_0[] = { 0, -1 };
static const int KL_0_1[] = { 0, 1, -1 };
static const int KL_1[] = { 1, -1 };
static const int KL_10[] = { 10, -1 };
static const int KL_2[] = { 2, -1 };
static const int KL_2_8[] = { 2, 8, -1 };
static const int KL_3[] = { 3, -1 };
static const int KL_3_9[] = { 3, 9, -1 };
static const int KL_4[] = { 4, -1 };
static const int KL_4_10[] = { 4, 10, -1 };
static const int KL_8[] = { 8, -1 };
static const int KL_9[] = { 9, -1 };

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	for (int i = 0; i < NKEYS; i++) {
		uint8_t seed[crypto_sign_SEEDBYTES];

		memset(seed, 0x40 + i, sizeof(seed));
		crypto_sign_seed_keypair(K[i].pk, K[i].sk, seed);
		if (upk_key_ed25519_object(K[i].pk, &K[i].obj) != UPK_OK ||
		    upk_key_id(K[i].obj, K[i].keyid, NULL) != UPK_OK)
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
/* Metadata builders: JSON trees, then signed bytes. */

static json_t *expires_str(int64_t t)
{
	char s[UPK_TIME_STR_LEN + 1];

	assert_int_equal(upk_time_format(t, s), UPK_OK);
	return json_string(s);
}

static json_t *keyids(const int *idx)
{
	json_t *a = json_array();

	for (; *idx >= 0; idx++)
		assert_int_equal(json_array_append_new(a, json_string(K[*idx].keyid)), 0);
	return a;
}

static void add_keys(json_t *map, const int *idx)
{
	for (; *idx >= 0; idx++)
		assert_int_equal(json_object_set(map, K[*idx].keyid, K[*idx].obj), 0);
}

struct rootcfg {
	int64_t version, expires;
	const int *keys[UPK_ROLE_COUNT]; /* by enum upk_role */
	int threshold[UPK_ROLE_COUNT];
};

static struct rootcfg root_cfg(int64_t version)
{
	struct rootcfg c = { version, FUTURE, { KL_0, KL_2, KL_3, KL_4 }, { 1, 1, 1, 1 } };

	return c;
}

static json_t *root_json(const struct rootcfg *c)
{
	json_t *keys = json_object(), *roles = json_object();
	json_t *s;

	for (int r = 0; r < UPK_ROLE_COUNT; r++) {
		add_keys(keys, c->keys[r]);
		assert_int_equal(
			json_object_set_new(roles, upk_role_name((enum upk_role)r),
					    json_pack("{s:o, s:i}", "keyids", keyids(c->keys[r]),
						      "threshold", c->threshold[r])),
			0);
	}
	s = json_pack("{s:s, s:s, s:I, s:o, s:b, s:o, s:o}", "_type", "root", "spec_version", SPEC,
		      "version", (json_int_t)c->version, "expires", expires_str(c->expires),
		      "consistent_snapshot", 1, "keys", keys, "roles", roles);
	assert_non_null(s);
	return s;
}

static json_t *timestamp_json(int64_t version, int64_t snap_version, int64_t expires)
{
	json_t *s =
		json_pack("{s:s, s:s, s:I, s:o, s:{s:{s:I}}}", "_type", "timestamp", "spec_version",
			  SPEC, "version", (json_int_t)version, "expires", expires_str(expires),
			  "meta", "snapshot.json", "version", (json_int_t)snap_version);

	assert_non_null(s);
	return s;
}

static json_t *snapshot_json(int64_t version, int64_t targets_version, int64_t expires)
{
	json_t *s =
		json_pack("{s:s, s:s, s:I, s:o, s:{s:{s:I}}}", "_type", "snapshot", "spec_version",
			  SPEC, "version", (json_int_t)version, "expires", expires_str(expires),
			  "meta", "targets.json", "version", (json_int_t)targets_version);

	assert_non_null(s);
	return s;
}

static json_t *targets_json(int64_t version, int64_t expires)
{
	json_t *s = json_pack("{s:s, s:s, s:I, s:o, s:{}}", "_type", "targets", "spec_version",
			      SPEC, "version", (json_int_t)version, "expires", expires_str(expires),
			      "targets");

	assert_non_null(s);
	return s;
}

/* The META entry `name` of timestamp or snapshot JSON (created if missing). */
static json_t *meta_entry(json_t *s, const char *name)
{
	json_t *meta = json_object_get(s, "meta"), *e = json_object_get(meta, name);

	if (!e) {
		e = json_object();
		assert_int_equal(json_object_set_new(meta, name, e), 0);
	}
	return e;
}

static void set_meta_version(json_t *s, const char *name, int64_t version)
{
	assert_int_equal(json_object_set_new(meta_entry(s, name), "version",
					     json_integer((json_int_t)version)),
			 0);
}

/* List length and hashes of data in a META entry. */
static void set_meta_hashes(json_t *s, const char *name, const struct upk_buf *data)
{
	json_t *h = NULL;

	assert_int_equal(upk_meta_hashes_json(data->data, data->len, &h), UPK_OK);
	assert_int_equal(json_object_set_new(meta_entry(s, name), "hashes", h), 0);
	assert_int_equal(json_object_set_new(meta_entry(s, name), "length",
					     json_integer((json_int_t)data->len)),
			 0);
}

static void add_delegation(json_t *targets, const char *name, const int *keys, int threshold,
			   const char *pattern)
{
	json_t *d = json_object_get(targets, "delegations");

	if (!d) {
		d = json_pack("{s:{}, s:[]}", "keys", "roles");
		assert_int_equal(json_object_set_new(targets, "delegations", d), 0);
	}
	add_keys(json_object_get(d, "keys"), keys);
	assert_int_equal(
		json_array_append_new(json_object_get(d, "roles"),
				      json_pack("{s:s, s:o, s:i, s:b, s:[s]}", "name", name,
						"keyids", keyids(keys), "threshold", threshold,
						"terminating", 0, "paths", pattern)),
		0);
}

/* Sign signed_obj (consumed) as `type` with the listed keys; bytes into out. */
static void sign_into(enum upk_role type, json_t *signed_obj, const int *signers,
		      struct upk_buf *out)
{
	struct upk_meta *m = NULL;
	struct upk_diag d;

	upk_diag_clear(&d);
	out->len = 0;
	assert_int_equal(
		upk_meta_from_json(json_pack("{s:o, s:[]}", "signed", signed_obj, "signatures"),
				   type, &m, &d),
		UPK_OK);
	for (; *signers >= 0; signers++)
		assert_int_equal(upk_meta_sign(m, K[*signers].keyid, ed_signer, &K[*signers], &d),
				 UPK_OK);
	assert_int_equal(upk_meta_serialize(m, out), UPK_OK);
	upk_meta_free(m);
}

/* ------------------------------------------------------------------------ */
/* Trusted sets at a given stage of the workflow. */

static void expect(enum upk_err got, enum upk_err want, const struct upk_diag *d)
{
	if (got != want)
		print_message("got %s (%s: %s), expected %s\n", upk_err_name(got), d->where,
			      d->reason, upk_err_name(want));
	assert_int_equal(got, want);
}

static struct upk_trust *trust_v1(void)
{
	struct rootcfg c = root_cfg(1);
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_trust *t = NULL;
	struct upk_diag d;

	upk_diag_clear(&d);
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(0), &b);
	expect(upk_trust_new(b.data, b.len, NOW, &t, &d), UPK_OK, &d);
	upk_buf_done(&b);
	return t;
}

static void give_timestamp(struct upk_trust *t, int64_t v, int64_t snap_v)
{
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	bool updated = false;

	upk_diag_clear(&d);
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(v, snap_v, FUTURE), L(2), &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_OK, &d);
	assert_true(updated);
	upk_buf_done(&b);
}

static void give_snapshot(struct upk_trust *t, json_t *s)
{
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;

	upk_diag_clear(&d);
	sign_into(UPK_ROLE_SNAPSHOT, s, L(3), &b);
	expect(upk_trust_update_snapshot(t, b.data, b.len, &d), UPK_OK, &d);
	upk_buf_done(&b);
}

/* root v1, timestamp v1 -> snapshot v1 -> targets v1 (targets not loaded). */
static struct upk_trust *trust_at_targets(void)
{
	struct upk_trust *t = trust_v1();

	give_timestamp(t, 1, 1);
	give_snapshot(t, snapshot_json(1, 1, FUTURE));
	return t;
}

/* What a rejection must not change. */
struct state {
	const struct upk_meta *root, *timestamp, *snapshot;
	int64_t rv, tv, sv;
};

static struct state state_of(const struct upk_trust *t)
{
	struct state s = {
		upk_trust_root(t), upk_trust_timestamp(t), upk_trust_snapshot(t), 0, 0, 0
	};

	s.rv = s.root->version;
	s.tv = s.timestamp ? s.timestamp->version : 0;
	s.sv = s.snapshot ? s.snapshot->version : 0;
	return s;
}

static void assert_unchanged(const struct upk_trust *t, const struct state *before)
{
	struct state now = state_of(t);

	assert_ptr_equal(now.root, before->root);
	assert_ptr_equal(now.timestamp, before->timestamp);
	assert_ptr_equal(now.snapshot, before->snapshot);
	assert_int_equal(now.rv, before->rv);
	assert_int_equal(now.tv, before->tv);
	assert_int_equal(now.sv, before->sv);
}

/* ------------------------------------------------------------------------ */
/* §5.2: the trusted root. */

static void test_new_trust(void **state)
{
	struct rootcfg c = root_cfg(1);
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_trust *t = NULL;
	struct upk_diag d;
	uint8_t *big;

	(void)state;
	upk_diag_clear(&d);
	/* An expired trusted root is still the starting point (§5.2). */
	c.expires = PAST;
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(0), &b);
	expect(upk_trust_new(b.data, b.len, NOW, &t, &d), UPK_OK, &d);
	assert_int_equal(upk_trust_now(t), NOW);
	assert_int_equal(upk_trust_root(t)->version, 1);
	assert_null(upk_trust_timestamp(t));
	assert_null(upk_trust_snapshot(t));
	assert_null(upk_trust_snapshot_meta(t));
	assert_null(upk_trust_targets_meta(t, "targets"));
	assert_true(upk_trust_wants_root(t));
	assert_false(upk_trust_has_rotated_online_keys(t));
	expect(upk_trust_check_root(t, &d), UPK_E_EXPIRED, &d);
	upk_trust_free(t);
	t = NULL;

	/* Not signed by its own root keys. */
	c.expires = FUTURE;
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(7), &b);
	expect(upk_trust_new(b.data, b.len, NOW, &t, &d), UPK_E_THRESHOLD, &d);
	assert_null(t);
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(-1), &b);
	expect(upk_trust_new(b.data, b.len, NOW, &t, &d), UPK_E_THRESHOLD, &d);
	/* Not root metadata, or not metadata. */
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(1, 1, FUTURE), L(0), &b);
	expect(upk_trust_new(b.data, b.len, NOW, &t, &d), UPK_E_FORMAT, &d);
	expect(upk_trust_new((const uint8_t *)"{", 1, NOW, &t, &d), UPK_E_FORMAT, &d);
	big = calloc(1, UPK_META_MAX_ROOT + 1);
	assert_non_null(big);
	expect(upk_trust_new(big, UPK_META_MAX_ROOT + 1, NOW, &t, &d), UPK_E_TOO_LARGE, &d);
	free(big);
	assert_null(t);
	upk_trust_free(NULL);
	upk_buf_done(&b);
}

/* ------------------------------------------------------------------------ */
/* §5.3: root rotation. */

static void test_root_rotation_chain(void **state)
{
	struct upk_trust *t = trust_v1();
	struct upk_buf b = UPK_BUF_INIT;
	struct rootcfg c;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	/* v2 moves the root role from key 0 to key 1: signed by both. */
	c = root_cfg(2);
	c.keys[UPK_ROLE_ROOT] = KL_1;
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(0, 1), &b);
	expect(upk_trust_update_root(t, b.data, b.len, &d), UPK_OK, &d);
	/* v3 is signed by key 1 alone, which v2 trusts. */
	c = root_cfg(3);
	c.keys[UPK_ROLE_ROOT] = KL_1;
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(1), &b);
	expect(upk_trust_update_root(t, b.data, b.len, &d), UPK_OK, &d);
	assert_int_equal(upk_trust_root(t)->version, 3);
	/* An intermediate root may have expired; only the final one counts. */
	c = root_cfg(4);
	c.keys[UPK_ROLE_ROOT] = KL_1;
	c.expires = PAST;
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(1), &b);
	expect(upk_trust_update_root(t, b.data, b.len, &d), UPK_OK, &d);
	expect(upk_trust_check_root(t, &d), UPK_E_EXPIRED, &d);
	c = root_cfg(5);
	c.keys[UPK_ROLE_ROOT] = KL_1;
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(1), &b);
	expect(upk_trust_update_root(t, b.data, b.len, &d), UPK_OK, &d);
	expect(upk_trust_check_root(t, &d), UPK_OK, &d);
	assert_false(upk_trust_has_rotated_online_keys(t));
	upk_buf_done(&b);
	upk_trust_free(t);
}

/* Offer `root` bytes: must fail with want and change nothing. */
static void reject_root(struct upk_trust *t, const struct rootcfg *c, const int *signers,
			enum upk_err want)
{
	struct upk_buf b = UPK_BUF_INIT;
	struct state before = state_of(t);
	struct upk_diag d;

	upk_diag_clear(&d);
	sign_into(UPK_ROLE_ROOT, root_json(c), signers, &b);
	expect(upk_trust_update_root(t, b.data, b.len, &d), want, &d);
	assert_unchanged(t, &before);
	upk_buf_done(&b);
}

static void test_root_rejections(void **state)
{
	struct upk_trust *t = trust_v1();
	struct rootcfg c;

	(void)state;
	/* §5.3.5: not exactly N+1. */
	c = root_cfg(3);
	reject_root(t, &c, L(0), UPK_E_ROLLBACK);
	c = root_cfg(1);
	reject_root(t, &c, L(0), UPK_E_ROLLBACK);
	/* §5.3.4: new keys, not signed by the old one. */
	c = root_cfg(2);
	c.keys[UPK_ROLE_ROOT] = KL_1;
	reject_root(t, &c, L(1), UPK_E_THRESHOLD);
	/* §5.3.4: new keys, not signed by the new one. */
	reject_root(t, &c, L(0), UPK_E_THRESHOLD);
	/* §5.3.4: the new threshold (2 of 0, 1) is not met by key 0 alone. */
	c.keys[UPK_ROLE_ROOT] = KL_0_1;
	c.threshold[UPK_ROLE_ROOT] = 2;
	reject_root(t, &c, L(0), UPK_E_THRESHOLD);
	/* Signed by a stranger as well as by nobody. */
	c = root_cfg(2);
	reject_root(t, &c, L(7), UPK_E_THRESHOLD);
	reject_root(t, &c, L(-1), UPK_E_THRESHOLD);
	/* Not a root at all. */
	{
		struct upk_buf b = UPK_BUF_INIT;
		struct state before = state_of(t);
		struct upk_diag d;

		upk_diag_clear(&d);
		sign_into(UPK_ROLE_TARGETS, targets_json(2, FUTURE), L(0), &b);
		expect(upk_trust_update_root(t, b.data, b.len, &d), UPK_E_FORMAT, &d);
		expect(upk_trust_update_root(t, (const uint8_t *)"[]", 2, &d), UPK_E_FORMAT, &d);
		assert_unchanged(t, &before);
		upk_buf_done(&b);
	}
	/* And the proper v2 still goes in afterwards. */
	c = root_cfg(2);
	c.keys[UPK_ROLE_ROOT] = KL_0_1;
	c.threshold[UPK_ROLE_ROOT] = 2;
	{
		struct upk_buf b = UPK_BUF_INIT;
		struct upk_diag d;

		upk_diag_clear(&d);
		sign_into(UPK_ROLE_ROOT, root_json(&c), L(0, 1), &b);
		expect(upk_trust_update_root(t, b.data, b.len, &d), UPK_OK, &d);
		upk_buf_done(&b);
	}
	assert_int_equal(upk_trust_root(t)->version, 2);
	upk_trust_free(t);
}

static void test_root_cap(void **state)
{
	struct upk_trust *t = trust_v1();
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	struct rootcfg c;
	int64_t v;

	(void)state;
	upk_diag_clear(&d);
	for (v = 2; v <= UPK_TRUST_MAX_ROOT_ROTATIONS + 1; v++) {
		assert_true(upk_trust_wants_root(t));
		c = root_cfg(v);
		sign_into(UPK_ROLE_ROOT, root_json(&c), L(0), &b);
		expect(upk_trust_update_root(t, b.data, b.len, &d), UPK_OK, &d);
	}
	/* 256 rotations: the 257th root is not even asked for, and refused if offered. */
	assert_int_equal(upk_trust_root(t)->version, UPK_TRUST_MAX_ROOT_ROTATIONS + 1);
	assert_false(upk_trust_wants_root(t));
	c = root_cfg(v);
	reject_root(t, &c, L(0), UPK_E_INTERNAL);
	upk_buf_done(&b);
	upk_trust_free(t);
}

static void test_root_after_timestamp(void **state)
{
	struct upk_trust *t = trust_v1();
	struct rootcfg c = root_cfg(2);

	(void)state;
	give_timestamp(t, 1, 1);
	assert_false(upk_trust_wants_root(t));
	reject_root(t, &c, L(0), UPK_E_INTERNAL);
	upk_trust_free(t);
}

/* Which root changes require forgetting timestamp and snapshot (§5.3.11). */
static bool rotates(void (*change)(struct rootcfg *c))
{
	struct upk_trust *t = trust_v1();
	struct upk_buf b = UPK_BUF_INIT;
	struct rootcfg c = root_cfg(2);
	struct upk_diag d;
	bool r;

	upk_diag_clear(&d);
	change(&c);
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(0), &b);
	expect(upk_trust_update_root(t, b.data, b.len, &d), UPK_OK, &d);
	r = upk_trust_has_rotated_online_keys(t);
	upk_buf_done(&b);
	upk_trust_free(t);
	return r;
}

static void no_change(struct rootcfg *c)
{
	c->expires = FUTURE + 1;
}

static void new_timestamp_key(struct rootcfg *c)
{
	c->keys[UPK_ROLE_TIMESTAMP] = KL_8;
}

static void new_snapshot_key(struct rootcfg *c)
{
	c->keys[UPK_ROLE_SNAPSHOT] = KL_9;
}

static void added_snapshot_key(struct rootcfg *c)
{
	c->keys[UPK_ROLE_SNAPSHOT] = KL_3_9;
}

static void timestamp_threshold(struct rootcfg *c)
{
	c->keys[UPK_ROLE_TIMESTAMP] = KL_2_8;
	c->threshold[UPK_ROLE_TIMESTAMP] = 2;
}

static void timestamp_threshold_only(struct rootcfg *c)
{
	c->threshold[UPK_ROLE_TIMESTAMP] = 2;
}

static void new_targets_key(struct rootcfg *c)
{
	c->keys[UPK_ROLE_TARGETS] = KL_10;
}

static void new_root_key_too(struct rootcfg *c)
{
	c->keys[UPK_ROLE_ROOT] = KL_0_1;
}

static void test_fast_forward_flags(void **state)
{
	(void)state;
	assert_false(rotates(no_change));
	assert_false(rotates(new_targets_key));
	assert_false(rotates(new_root_key_too));
	assert_true(rotates(new_timestamp_key));
	assert_true(rotates(new_snapshot_key));
	assert_true(rotates(added_snapshot_key));
	assert_true(rotates(timestamp_threshold));
	assert_true(rotates(timestamp_threshold_only));
}

static void test_fast_forward_recovery(void **state)
{
	struct upk_trust *t = trust_v1();
	struct upk_buf old_snap = UPK_BUF_INIT, b = UPK_BUF_INIT;
	struct rootcfg c = root_cfg(2);
	struct upk_diag d;
	json_t *s;
	bool final = true, updated = false;

	(void)state;
	upk_diag_clear(&d);
	/* The client trusted a fast-forwarded snapshot: targets version 100. */
	sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(50, 100, FUTURE), L(3), &old_snap);
	/* Root v2 rotates the snapshot key. */
	c.keys[UPK_ROLE_SNAPSHOT] = KL_9;
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(0), &b);
	expect(upk_trust_update_root(t, b.data, b.len, &d), UPK_OK, &d);
	assert_true(upk_trust_has_rotated_online_keys(t));
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(2, 1, FUTURE), L(2), &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_OK, &d);
	/* The old snapshot no longer verifies: it is no rollback reference. */
	expect(upk_trust_load_snapshot(t, old_snap.data, old_snap.len, &final, &d), UPK_E_THRESHOLD,
	       &d);
	assert_null(upk_trust_snapshot(t));
	/* So snapshot v1 with targets v1 is accepted. */
	s = snapshot_json(1, 1, FUTURE);
	sign_into(UPK_ROLE_SNAPSHOT, s, L(9), &b);
	expect(upk_trust_update_snapshot(t, b.data, b.len, &d), UPK_OK, &d);
	assert_int_equal(upk_trust_targets_meta(t, "targets")->version, 1);
	upk_buf_done(&b);
	upk_buf_done(&old_snap);
	upk_trust_free(t);
}

/* ------------------------------------------------------------------------ */
/* §5.4: timestamp. */

static void load_ts(struct upk_trust *t, int64_t v, int64_t snap_v, int64_t expires)
{
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;

	upk_diag_clear(&d);
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(v, snap_v, expires), L(2), &b);
	expect(upk_trust_load_timestamp(t, b.data, b.len, &d), UPK_OK, &d);
	upk_buf_done(&b);
}

static void reject_timestamp(struct upk_trust *t, json_t *s, const int *signers, enum upk_err want)
{
	struct upk_buf b = UPK_BUF_INIT;
	struct state before = state_of(t);
	struct upk_diag d;
	bool updated = true;

	upk_diag_clear(&d);
	sign_into(UPK_ROLE_TIMESTAMP, s, signers, &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), want, &d);
	assert_unchanged(t, &before);
	assert_true(updated); /* untouched on failure */
	upk_buf_done(&b);
}

static void test_timestamp_update(void **state)
{
	struct upk_trust *t = trust_v1();
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	bool updated = false;

	(void)state;
	upk_diag_clear(&d);
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(3, 7, FUTURE), L(2), &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_OK, &d);
	assert_true(updated);
	assert_int_equal(upk_trust_timestamp(t)->version, 3);
	assert_int_equal(upk_trust_snapshot_meta(t)->version, 7);
	/* A newer one replaces it. */
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(4, 7, FUTURE), L(2), &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_OK, &d);
	assert_true(updated);
	assert_int_equal(upk_trust_timestamp(t)->version, 4);
	upk_buf_done(&b);
	upk_trust_free(t);
}

static void test_timestamp_rejections(void **state)
{
	struct upk_trust *t = trust_v1();

	(void)state;
	load_ts(t, 5, 3, FUTURE);
	/* §5.4.3.1: lower version. */
	reject_timestamp(t, timestamp_json(4, 3, FUTURE), L(2), UPK_E_ROLLBACK);
	/* §5.4.3.2: lower snapshot version. */
	reject_timestamp(t, timestamp_json(6, 2, FUTURE), L(2), UPK_E_ROLLBACK);
	/* §5.4.4: expired. */
	reject_timestamp(t, timestamp_json(6, 3, PAST), L(2), UPK_E_EXPIRED);
	reject_timestamp(t, timestamp_json(6, 3, NOW), L(2), UPK_E_EXPIRED);
	/* §5.4.2: not signed by the timestamp key (root's key is not enough). */
	reject_timestamp(t, timestamp_json(6, 3, FUTURE), L(7), UPK_E_THRESHOLD);
	reject_timestamp(t, timestamp_json(6, 3, FUTURE), L(0, 3), UPK_E_THRESHOLD);
	reject_timestamp(t, timestamp_json(6, 3, FUTURE), L(-1), UPK_E_THRESHOLD);
	/* Other metadata signed by the timestamp key. */
	{
		struct upk_buf b = UPK_BUF_INIT;
		struct state before = state_of(t);
		struct upk_diag d;
		bool updated = true;

		upk_diag_clear(&d);
		sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(6, 1, FUTURE), L(2), &b);
		expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_E_FORMAT,
		       &d);
		assert_unchanged(t, &before);
		upk_buf_done(&b);
	}
	assert_int_equal(upk_trust_timestamp(t)->version, 5);
	upk_trust_free(t);
}

static void test_timestamp_equal_keeps_trusted(void **state)
{
	struct upk_trust *t = trust_v1();
	struct upk_buf b = UPK_BUF_INIT;
	struct state before;
	struct upk_diag d;
	bool updated = true;

	(void)state;
	upk_diag_clear(&d);
	load_ts(t, 5, 3, FUTURE);
	before = state_of(t);
	/* Same version, other content: the trusted copy stays, nothing to persist. */
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(5, 9, FUTURE), L(2), &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_OK, &d);
	assert_false(updated);
	assert_unchanged(t, &before);
	assert_int_equal(upk_trust_snapshot_meta(t)->version, 3);
	upk_buf_done(&b);
	upk_trust_free(t);
}

static void test_timestamp_load(void **state)
{
	struct upk_trust *t = trust_v1();
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	bool updated = false;

	(void)state;
	upk_diag_clear(&d);
	/* A stored copy that fails to verify is not loaded. */
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(5, 3, FUTURE), L(8), &b);
	expect(upk_trust_load_timestamp(t, b.data, b.len, &d), UPK_E_THRESHOLD, &d);
	assert_null(upk_trust_timestamp(t));
	/* An expired one is: it still says which versions not to go below. */
	load_ts(t, 5, 3, PAST);
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(5, 3, FUTURE), L(2), &b);
	expect(upk_trust_load_timestamp(t, b.data, b.len, &d), UPK_E_INTERNAL, &d);
	reject_timestamp(t, timestamp_json(4, 3, FUTURE), L(2), UPK_E_ROLLBACK);
	/* A newer valid one replaces it. */
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(6, 3, FUTURE), L(2), &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_OK, &d);
	assert_true(updated);
	upk_buf_done(&b);
	upk_trust_free(t);
}

static void test_timestamp_under_expired_root(void **state)
{
	struct rootcfg c = root_cfg(1);
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_trust *t = NULL;
	struct upk_diag d;
	bool updated = false;

	(void)state;
	upk_diag_clear(&d);
	c.expires = PAST;
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(0), &b);
	expect(upk_trust_new(b.data, b.len, NOW, &t, &d), UPK_OK, &d);
	/* §5.3.10: a final root that expired accepts no timestamp. */
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(1, 1, FUTURE), L(2), &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_E_EXPIRED, &d);
	assert_null(upk_trust_timestamp(t));
	upk_buf_done(&b);
	upk_trust_free(t);
}

/* ------------------------------------------------------------------------ */
/* §5.5: snapshot. */

static void reject_snapshot_bytes(struct upk_trust *t, const struct upk_buf *b, enum upk_err want)
{
	struct state before = state_of(t);
	struct upk_diag d;

	upk_diag_clear(&d);
	expect(upk_trust_update_snapshot(t, b->data, b->len, &d), want, &d);
	assert_unchanged(t, &before);
}

static void reject_snapshot(struct upk_trust *t, json_t *s, const int *signers, enum upk_err want)
{
	struct upk_buf b = UPK_BUF_INIT;

	sign_into(UPK_ROLE_SNAPSHOT, s, signers, &b);
	reject_snapshot_bytes(t, &b, want);
	upk_buf_done(&b);
}

static void test_snapshot_hashes_from_timestamp(void **state)
{
	struct upk_buf snap = UPK_BUF_INIT, other = UPK_BUF_INIT, b = UPK_BUF_INIT;
	struct upk_trust *t = trust_v1();
	struct upk_diag d;
	json_t *ts;
	bool updated;

	(void)state;
	upk_diag_clear(&d);
	sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(1, 1, FUTURE), L(3), &snap);
	sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(1, 2, FUTURE), L(3), &other);
	ts = timestamp_json(1, 1, FUTURE);
	set_meta_hashes(ts, "snapshot.json", &snap);
	sign_into(UPK_ROLE_TIMESTAMP, ts, L(2), &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_OK, &d);
	/* §5.5.2: other bytes (same length), a byte more, a byte less. */
	assert_int_equal(other.len, snap.len);
	reject_snapshot_bytes(t, &other, UPK_E_HASH);
	assert_int_equal(upk_buf_append_byte(&other, '\n'), UPK_OK);
	reject_snapshot_bytes(t, &other, UPK_E_LENGTH);
	other.len = snap.len - 1;
	reject_snapshot_bytes(t, &other, UPK_E_LENGTH);
	assert_null(upk_trust_snapshot(t));
	expect(upk_trust_update_snapshot(t, snap.data, snap.len, &d), UPK_OK, &d);
	upk_buf_done(&snap);
	upk_buf_done(&other);
	upk_buf_done(&b);
	upk_trust_free(t);
}

static void test_snapshot_unknown_hash(void **state)
{
	struct upk_buf snap = UPK_BUF_INIT, b = UPK_BUF_INIT;
	struct upk_trust *t = trust_v1();
	struct upk_diag d;
	json_t *ts, *e;
	bool updated;

	(void)state;
	upk_diag_clear(&d);
	sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(1, 1, FUTURE), L(3), &snap);
	ts = timestamp_json(1, 1, FUTURE);
	set_meta_hashes(ts, "snapshot.json", &snap);
	/* A hash Upkeep cannot compute next to one it can: refused, not skipped. */
	e = json_object_get(meta_entry(ts, "snapshot.json"), "hashes");
	json_object_set_new(e, "md5", json_string("00112233445566778899aabbccddeeff"));
	sign_into(UPK_ROLE_TIMESTAMP, ts, L(2), &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_OK, &d);
	reject_snapshot_bytes(t, &snap, UPK_E_UNSUPPORTED);
	upk_buf_done(&snap);
	upk_buf_done(&b);
	upk_trust_free(t);
}

static void test_snapshot_rejections(void **state)
{
	struct upk_trust *t = trust_v1();

	(void)state;
	give_timestamp(t, 1, 2);
	/* §5.5.4: not the version timestamp lists. */
	reject_snapshot(t, snapshot_json(1, 1, FUTURE), L(3), UPK_E_ROLLBACK);
	reject_snapshot(t, snapshot_json(3, 1, FUTURE), L(3), UPK_E_ROLLBACK);
	/* §5.5.3: signatures. */
	reject_snapshot(t, snapshot_json(2, 1, FUTURE), L(2), UPK_E_THRESHOLD);
	reject_snapshot(t, snapshot_json(2, 1, FUTURE), L(-1), UPK_E_THRESHOLD);
	/* §5.5.6: expired. */
	reject_snapshot(t, snapshot_json(2, 1, PAST), L(3), UPK_E_EXPIRED);
	/* Not a snapshot. */
	{
		struct upk_buf b = UPK_BUF_INIT;

		sign_into(UPK_ROLE_TARGETS, targets_json(2, FUTURE), L(3), &b);
		reject_snapshot_bytes(t, &b, UPK_E_FORMAT);
		upk_buf_done(&b);
	}
	assert_null(upk_trust_snapshot(t));
	give_snapshot(t, snapshot_json(2, 1, FUTURE));
	upk_trust_free(t);
}

/* A stored snapshot v1 listing targets v3 and role.json v2; timestamp lists v2. */
static struct upk_trust *trust_with_stored_snapshot(void)
{
	struct upk_trust *t = trust_v1();
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	json_t *s = snapshot_json(1, 3, FUTURE);
	bool final = true;

	upk_diag_clear(&d);
	give_timestamp(t, 2, 2);
	set_meta_version(s, "role.json", 2);
	sign_into(UPK_ROLE_SNAPSHOT, s, L(3), &b);
	expect(upk_trust_load_snapshot(t, b.data, b.len, &final, &d), UPK_OK, &d);
	assert_false(final); /* timestamp lists v2 */
	upk_buf_done(&b);
	return t;
}

static void test_snapshot_rollback_against_trusted(void **state)
{
	struct upk_trust *t = trust_with_stored_snapshot();
	json_t *s;

	(void)state;
	/* §5.5.5: role.json removed. */
	reject_snapshot(t, snapshot_json(2, 3, FUTURE), L(3), UPK_E_ROLLBACK);
	/* §5.5.5: targets.json lowered. */
	s = snapshot_json(2, 2, FUTURE);
	set_meta_version(s, "role.json", 2);
	reject_snapshot(t, s, L(3), UPK_E_ROLLBACK);
	/* §5.5.5: role.json lowered. */
	s = snapshot_json(2, 3, FUTURE);
	set_meta_version(s, "role.json", 1);
	reject_snapshot(t, s, L(3), UPK_E_ROLLBACK);
	assert_int_equal(upk_trust_snapshot(t)->version, 1);
	/* Equal or higher, and new roles: fine. */
	s = snapshot_json(2, 3, FUTURE);
	set_meta_version(s, "role.json", 5);
	set_meta_version(s, "new.json", 1);
	give_snapshot(t, s);
	assert_int_equal(upk_trust_snapshot(t)->version, 2);
	assert_int_equal(upk_trust_targets_meta(t, "role")->version, 5);
	assert_null(upk_trust_targets_meta(t, "gone"));
	upk_trust_free(t);
}

static void test_snapshot_load(void **state)
{
	struct upk_trust *t = trust_v1();
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	bool final = false;

	(void)state;
	upk_diag_clear(&d);
	sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(2, 1, FUTURE), L(3), &b);
	/* Before any timestamp: a call out of order. */
	expect(upk_trust_check_timestamp(t, &d), UPK_E_INTERNAL, &d);
	expect(upk_trust_load_snapshot(t, b.data, b.len, &final, &d), UPK_E_INTERNAL, &d);
	expect(upk_trust_update_snapshot(t, b.data, b.len, &d), UPK_E_INTERNAL, &d);
	give_timestamp(t, 1, 2);
	/* Current and valid: no download needed. */
	expect(upk_trust_load_snapshot(t, b.data, b.len, &final, &d), UPK_OK, &d);
	assert_true(final);
	expect(upk_trust_load_snapshot(t, b.data, b.len, &final, &d), UPK_E_INTERNAL, &d);
	upk_trust_free(t);

	/* Expired: loaded as rollback reference, but not final. */
	t = trust_v1();
	give_timestamp(t, 1, 2);
	sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(2, 1, PAST), L(3), &b);
	expect(upk_trust_load_snapshot(t, b.data, b.len, &final, &d), UPK_OK, &d);
	assert_false(final);
	upk_trust_free(t);

	/* Signed by another key: not loaded. */
	t = trust_v1();
	give_timestamp(t, 1, 2);
	sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(2, 1, FUTURE), L(9), &b);
	expect(upk_trust_load_snapshot(t, b.data, b.len, &final, &d), UPK_E_THRESHOLD, &d);
	assert_null(upk_trust_snapshot(t));
	upk_buf_done(&b);
	upk_trust_free(t);
}

static void test_snapshot_under_expired_timestamp(void **state)
{
	struct upk_trust *t = trust_v1();
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	bool final = true, updated = true;

	(void)state;
	upk_diag_clear(&d);
	/* The stored timestamp expired and the repository still serves the same version. */
	load_ts(t, 3, 2, PAST);
	sign_into(UPK_ROLE_TIMESTAMP, timestamp_json(3, 2, FUTURE), L(2), &b);
	expect(upk_trust_update_timestamp(t, b.data, b.len, &updated, &d), UPK_OK, &d);
	assert_false(updated);
	/* §5.4.4: no snapshot is accepted under it. */
	expect(upk_trust_check_timestamp(t, &d), UPK_E_EXPIRED, &d);
	sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(2, 1, FUTURE), L(3), &b);
	reject_snapshot_bytes(t, &b, UPK_E_EXPIRED);
	expect(upk_trust_load_snapshot(t, b.data, b.len, &final, &d), UPK_E_EXPIRED, &d);
	assert_null(upk_trust_snapshot(t));
	upk_buf_done(&b);
	upk_trust_free(t);
}

/* ------------------------------------------------------------------------ */
/* §5.6: targets and delegated targets. */

static enum upk_err offer_targets(struct upk_trust *t, const char *role, const char *delegator,
				  json_t *s, const int *signers, struct upk_diag *d)
{
	struct upk_buf b = UPK_BUF_INIT;
	const struct upk_meta *m = NULL;
	enum upk_err r;

	upk_diag_clear(d);
	sign_into(UPK_ROLE_TARGETS, s, signers, &b);
	r = upk_trust_update_targets(t, role, delegator, b.data, b.len, &m, d);
	if (r == UPK_OK) {
		assert_non_null(m);
		assert_int_equal(m->type, UPK_ROLE_TARGETS);
	}
	upk_buf_done(&b);
	return r;
}

/* Must fail with want, leave the set as it was and the role unloaded. */
static void reject_targets(struct upk_trust *t, const char *role, const char *delegator, json_t *s,
			   const int *signers, enum upk_err want)
{
	struct state before = state_of(t);
	const struct upk_meta *m = (const void *)1;
	struct upk_diag d;

	expect(offer_targets(t, role, delegator, s, signers, &d), want, &d);
	assert_unchanged(t, &before);
	expect(upk_trust_get_targets(t, role, delegator, &m, &d), UPK_OK, &d);
	assert_null(m);
}

static void test_targets_top_level(void **state)
{
	struct upk_trust *t = trust_at_targets();
	const struct upk_meta *m = NULL;
	struct upk_diag d;

	(void)state;
	/* §5.6.4: not the version snapshot lists. */
	reject_targets(t, "targets", "root", targets_json(2, FUTURE), L(4), UPK_E_ROLLBACK);
	/* §5.6.3: signatures. */
	reject_targets(t, "targets", "root", targets_json(1, FUTURE), L(3), UPK_E_THRESHOLD);
	reject_targets(t, "targets", "root", targets_json(1, FUTURE), L(-1), UPK_E_THRESHOLD);
	/* §5.6.5: expired. */
	reject_targets(t, "targets", "root", targets_json(1, PAST), L(4), UPK_E_EXPIRED);
	/* The top-level role comes from root only. */
	reject_targets(t, "targets", "snapshot", targets_json(1, FUTURE), L(4), UPK_E_NOT_FOUND);
	/* Not listed in snapshot. */
	reject_targets(t, "unlisted", "targets", targets_json(1, FUTURE), L(4), UPK_E_NOT_FOUND);

	expect(offer_targets(t, "targets", "root", targets_json(1, FUTURE), L(4), &d), UPK_OK, &d);
	expect(upk_trust_get_targets(t, "targets", "root", &m, &d), UPK_OK, &d);
	assert_non_null(m);
	assert_int_equal(m->version, 1);
	/* Loaded once per set; and the snapshot cannot change under loaded targets. */
	expect(offer_targets(t, "targets", "root", targets_json(1, FUTURE), L(4), &d),
	       UPK_E_INTERNAL, &d);
	{
		struct upk_buf b = UPK_BUF_INIT;

		sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(1, 1, FUTURE), L(3), &b);
		reject_snapshot_bytes(t, &b, UPK_E_INTERNAL);
		upk_buf_done(&b);
	}
	upk_trust_free(t);
}

static void test_targets_hashes_from_snapshot(void **state)
{
	struct upk_buf good = UPK_BUF_INIT, other = UPK_BUF_INIT;
	struct upk_trust *t = trust_v1();
	const struct upk_meta *m = NULL;
	struct upk_diag d;
	json_t *s;

	(void)state;
	upk_diag_clear(&d);
	sign_into(UPK_ROLE_TARGETS, targets_json(1, FUTURE), L(4), &good);
	sign_into(UPK_ROLE_TARGETS, targets_json(1, FUTURE + 1), L(4), &other);
	give_timestamp(t, 1, 1);
	s = snapshot_json(1, 1, FUTURE);
	set_meta_hashes(s, "targets.json", &good);
	give_snapshot(t, s);
	/* §5.6.2 */
	assert_int_equal(good.len, other.len);
	expect(upk_trust_update_targets(t, "targets", "root", other.data, other.len, &m, &d),
	       UPK_E_HASH, &d);
	expect(upk_trust_update_targets(t, "targets", "root", good.data, good.len - 1, &m, &d),
	       UPK_E_LENGTH, &d);
	expect(upk_trust_get_targets(t, "targets", "root", &m, &d), UPK_OK, &d);
	assert_null(m);
	expect(upk_trust_update_targets(t, "targets", "root", good.data, good.len, &m, &d), UPK_OK,
	       &d);
	upk_buf_done(&good);
	upk_buf_done(&other);
	upk_trust_free(t);
}

/* targets v1 with n entries (large enough for the hash check to run on a second thread). */
static json_t *big_targets_json(int64_t expires, int n)
{
	json_t *s = targets_json(1, expires), *tg = json_object_get(s, "targets");

	for (int i = 0; i < n; i++) {
		char path[64];

		snprintf(path, sizeof(path), "releases/r%05d.bin", i);
		assert_int_equal(
			json_object_set_new(
				tg, path,
				json_pack("{s:i, s:{s:s}}", "length", i, "hashes", "sha256",
					  "ba7816bf8f01cfea414140de5dae2223b00361a396177a"
					  "9cb410ff61f20015ad")),
			0);
	}
	return s;
}

/*
 * A large file: the length and hash check runs beside the parse and the
 * signature check, and the outcome is still the sequential one: a hash
 * failure wins over a parse or signature failure; a file whose hashes match
 * is still parsed and verified.
 */
static void test_targets_large_checks(void **state)
{
	struct upk_buf good = UPK_BUF_INIT, other = UPK_BUF_INIT, unsigned_ = UPK_BUF_INIT,
		       garbage = UPK_BUF_INIT;
	const struct upk_meta *m = NULL;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	sign_into(UPK_ROLE_TARGETS, big_targets_json(FUTURE, 3000), L(4), &good);
	sign_into(UPK_ROLE_TARGETS, big_targets_json(FUTURE + 1, 3000), L(4), &other);
	sign_into(UPK_ROLE_TARGETS, big_targets_json(FUTURE, 3000), L(9), &unsigned_);
	assert_true(good.len > 300 * 1024);
	assert_int_equal(good.len, other.len);
	assert_int_equal(upk_buf_append(&garbage, good.data, good.len), UPK_OK);
	assert_int_equal(garbage.data[0], '{');
	garbage.data[0] = '['; /* no longer JSON */
	/* Three rounds: the thread may start before, during or after the parse. */
	for (int round = 0; round < 3; round++) {
		const struct {
			const struct upk_buf *listed, *offered;
			enum upk_err want;
		} cases[] = {
			{ &good, &other, UPK_E_HASH },	      /* valid JSON, signed: hash wins */
			{ &other, &garbage, UPK_E_HASH },     /* not JSON either: hash wins */
			{ &garbage, &garbage, UPK_E_FORMAT }, /* hashes match: the parse fails */
			{ &unsigned_, &unsigned_, UPK_E_THRESHOLD }, /* hashes match: not signed */
			{ &good, &good, UPK_OK },
		};
		struct upk_trust *t = trust_v1();
		json_t *snap;

		for (size_t i = 0; i < UPK_ARRAY_SIZE(cases); i++) {
			if (i) {
				upk_trust_free(t);
				t = trust_v1();
			}
			give_timestamp(t, 1, 1);
			snap = snapshot_json(1, 1, FUTURE);
			set_meta_hashes(snap, "targets.json", cases[i].listed);
			give_snapshot(t, snap);
			m = NULL;
			expect(upk_trust_update_targets(t, "targets", "root",
							cases[i].offered->data,
							cases[i].offered->len, &m, &d),
			       cases[i].want, &d);
			if (cases[i].want) {
				assert_null(m);
				expect(upk_trust_get_targets(t, "targets", "root", &m, &d), UPK_OK,
				       &d);
				assert_null(m);
			} else {
				assert_non_null(m);
				assert_int_equal(m->n_targets, 3000);
			}
		}
		/* A listed length that does not match is refused before anything else. */
		upk_trust_free(t);
		t = trust_v1();
		give_timestamp(t, 1, 1);
		snap = snapshot_json(1, 1, FUTURE);
		set_meta_hashes(snap, "targets.json", &good);
		give_snapshot(t, snap);
		expect(upk_trust_update_targets(t, "targets", "root", good.data, good.len - 1, &m,
						&d),
		       UPK_E_LENGTH, &d);
		upk_trust_free(t);
	}
	upk_buf_done(&good);
	upk_buf_done(&other);
	upk_buf_done(&unsigned_);
	upk_buf_done(&garbage);
}

static void test_targets_threshold(void **state)
{
	struct rootcfg c = root_cfg(2);
	struct upk_trust *t = trust_v1();
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;

	(void)state;
	upk_diag_clear(&d);
	c.keys[UPK_ROLE_TARGETS] = KL_4_10;
	c.threshold[UPK_ROLE_TARGETS] = 2;
	sign_into(UPK_ROLE_ROOT, root_json(&c), L(0), &b);
	expect(upk_trust_update_root(t, b.data, b.len, &d), UPK_OK, &d);
	give_timestamp(t, 1, 1);
	give_snapshot(t, snapshot_json(1, 1, FUTURE));
	reject_targets(t, "targets", "root", targets_json(1, FUTURE), L(4), UPK_E_THRESHOLD);
	/* One key signing twice (under another id) is still one key: see test_meta. */
	expect(offer_targets(t, "targets", "root", targets_json(1, FUTURE), L(4, 10), &d), UPK_OK,
	       &d);
	upk_buf_done(&b);
	upk_trust_free(t);
}

static void test_targets_need_final_snapshot(void **state)
{
	struct upk_trust *t = trust_with_stored_snapshot();
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	bool final = true;

	(void)state;
	/* The stored snapshot v1 is not the v2 timestamp lists. */
	reject_targets(t, "targets", "root", targets_json(3, FUTURE), L(4), UPK_E_ROLLBACK);
	upk_trust_free(t);

	/* An expired snapshot lists nothing usable. */
	t = trust_v1();
	give_timestamp(t, 1, 1);
	upk_diag_clear(&d);
	sign_into(UPK_ROLE_SNAPSHOT, snapshot_json(1, 1, PAST), L(3), &b);
	expect(upk_trust_load_snapshot(t, b.data, b.len, &final, &d), UPK_OK, &d);
	assert_false(final);
	reject_targets(t, "targets", "root", targets_json(1, FUTURE), L(4), UPK_E_EXPIRED);
	upk_buf_done(&b);
	upk_trust_free(t);

	/* No snapshot at all. */
	t = trust_v1();
	give_timestamp(t, 1, 1);
	reject_targets(t, "targets", "root", targets_json(1, FUTURE), L(4), UPK_E_INTERNAL);
	upk_trust_free(t);
}

/*
 * targets delegates A (key 5) and B (key 6); both delegate C, A with key
 * 5 and B with key 6 (a diamond); the snapshot lists them all at v1.
 */
static struct upk_trust *trust_with_diamond(void)
{
	struct upk_trust *t = trust_v1();
	struct upk_diag d;
	json_t *s, *top, *a, *b;

	give_timestamp(t, 1, 1);
	s = snapshot_json(1, 1, FUTURE);
	set_meta_version(s, "A.json", 1);
	set_meta_version(s, "B.json", 1);
	set_meta_version(s, "C.json", 1);
	give_snapshot(t, s);
	top = targets_json(1, FUTURE);
	add_delegation(top, "A", L(5), 1, "a/*");
	add_delegation(top, "B", L(6), 1, "b/*");
	expect(offer_targets(t, "targets", "root", top, L(4), &d), UPK_OK, &d);
	a = targets_json(1, FUTURE);
	add_delegation(a, "C", L(5), 1, "a/*");
	expect(offer_targets(t, "A", "targets", a, L(5), &d), UPK_OK, &d);
	b = targets_json(1, FUTURE);
	add_delegation(b, "C", L(6), 1, "b/*");
	expect(offer_targets(t, "B", "targets", b, L(6), &d), UPK_OK, &d);
	return t;
}

static void test_delegated_roles(void **state)
{
	struct upk_trust *t = trust_with_diamond();
	const struct upk_meta *m = NULL;
	struct upk_diag d;

	(void)state;
	/* §5.6.3: the delegator's key for the role, not any key. */
	reject_targets(t, "C", "A", targets_json(1, FUTURE), L(4), UPK_E_THRESHOLD);
	reject_targets(t, "C", "A", targets_json(1, FUTURE), L(6), UPK_E_THRESHOLD);
	/* §5.6.4, §5.6.5 */
	reject_targets(t, "C", "A", targets_json(2, FUTURE), L(5), UPK_E_ROLLBACK);
	reject_targets(t, "C", "A", targets_json(1, PAST), L(5), UPK_E_EXPIRED);
	/* A delegator that does not delegate the role, or is not loaded. */
	reject_targets(t, "C", "targets", targets_json(1, FUTURE), L(5), UPK_E_NOT_FOUND);
	reject_targets(t, "C", "Z", targets_json(1, FUTURE), L(5), UPK_E_INTERNAL);
	/* C signed by A's key for it only. */
	expect(offer_targets(t, "C", "A", targets_json(1, FUTURE), L(5), &d), UPK_OK, &d);
	expect(upk_trust_get_targets(t, "C", "A", &m, &d), UPK_OK, &d);
	assert_non_null(m);
	/* Reached through B, the cached C must verify with B's key for it: it does not. */
	m = NULL;
	expect(upk_trust_get_targets(t, "C", "B", &m, &d), UPK_E_THRESHOLD, &d);
	assert_null(m);
	expect(upk_trust_get_targets(t, "C", "targets", &m, &d), UPK_E_NOT_FOUND, &d);
	assert_null(m);
	/* Through A it still is trusted. */
	expect(upk_trust_get_targets(t, "C", "A", &m, &d), UPK_OK, &d);
	assert_non_null(m);
	upk_trust_free(t);
}

static void test_delegated_role_signed_for_both(void **state)
{
	struct upk_trust *t = trust_with_diamond();
	const struct upk_meta *m = NULL, *m2 = NULL;
	struct upk_diag d;

	(void)state;
	/* Signed with both delegators' keys: trusted through either. */
	expect(offer_targets(t, "C", "B", targets_json(1, FUTURE), L(5, 6), &d), UPK_OK, &d);
	expect(upk_trust_get_targets(t, "C", "A", &m, &d), UPK_OK, &d);
	expect(upk_trust_get_targets(t, "C", "B", &m2, &d), UPK_OK, &d);
	assert_non_null(m);
	assert_ptr_equal(m, m2);
	upk_trust_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_trust),
		cmocka_unit_test(test_root_rotation_chain),
		cmocka_unit_test(test_root_rejections),
		cmocka_unit_test(test_root_cap),
		cmocka_unit_test(test_root_after_timestamp),
		cmocka_unit_test(test_fast_forward_flags),
		cmocka_unit_test(test_fast_forward_recovery),
		cmocka_unit_test(test_timestamp_update),
		cmocka_unit_test(test_timestamp_rejections),
		cmocka_unit_test(test_timestamp_equal_keeps_trusted),
		cmocka_unit_test(test_timestamp_load),
		cmocka_unit_test(test_timestamp_under_expired_root),
		cmocka_unit_test(test_snapshot_hashes_from_timestamp),
		cmocka_unit_test(test_snapshot_unknown_hash),
		cmocka_unit_test(test_snapshot_rejections),
		cmocka_unit_test(test_snapshot_rollback_against_trusted),
		cmocka_unit_test(test_snapshot_load),
		cmocka_unit_test(test_snapshot_under_expired_timestamp),
		cmocka_unit_test(test_targets_top_level),
		cmocka_unit_test(test_targets_hashes_from_snapshot),
		cmocka_unit_test(test_targets_large_checks),
		cmocka_unit_test(test_targets_threshold),
		cmocka_unit_test(test_targets_need_final_snapshot),
		cmocka_unit_test(test_delegated_roles),
		cmocka_unit_test(test_delegated_role_signed_for_both),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
