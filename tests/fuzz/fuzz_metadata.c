/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for common/meta: the input is parsed as each of the four
 * roles with the product's size limits (upk_meta_parse, as the client calls
 * it). Whatever parses is then verified against a fixed root and fixed
 * delegators (explicit roles and TAP 15 bins), so the threshold code and
 * the signature schemes run on hostile input too, and two invariants are
 * checked (abort on violation):
 *   - serialize + parse again gives the same canonical bytes;
 *   - resign_begin succeeds on unchanged metadata, and a fresh signature
 *     then verifies;
 *   - for targets, upk_meta_parse_view (no tree) accepts exactly what
 *     upk_meta_parse accepts, with the same error code, and the same views
 *     and canonical bytes (meta_compare.h).
 * The keys are the seed keys of tests/fuzz/corpus/metadata (seed i is 32
 * bytes of value i+1), so the valid seeds verify and reach the deep paths.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "json.h"
#include "key.h"
#include "meta.h"
#include "meta_compare.h"
#include "sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NKEYS 7
static uint8_t sk[NKEYS][crypto_sign_SECRETKEYBYTES];
static char keyid[NKEYS][UPK_KEYID_HEX_LEN + 1];
static json_t *keyobj[NKEYS];
static struct upk_meta *root, *deleg, *bins;
static struct upk_key signer_key; /* key 3, for the re-sign invariant */

/* Verdicts on random input are expected to vary; only crashes and invariants matter. */
static void verdict(enum upk_err r)
{
	(void)r;
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_metadata: %s\n", what);
	abort();
}

static json_t *role(int k)
{
	return json_pack("{s:[s], s:i}", "keyids", keyid[k], "threshold", 1);
}

static json_t *keymap(int from, int to)
{
	json_t *o = json_object();

	for (int i = from; o && i <= to; i++) {
		if (json_object_set(o, keyid[i], keyobj[i]) != 0)
			die("json");
	}
	return o;
}

static struct upk_meta *fixed(enum upk_role r, json_t *signed_obj)
{
	struct upk_meta *m = NULL;
	json_t *doc = json_pack("{s:o, s:[]}", "signed", signed_obj, "signatures");

	if (!doc || upk_meta_from_json(doc, r, &m, NULL) != UPK_OK)
		die("fixed metadata");
	return m;
}

static void init(void)
{
	if (sodium_init() < 0)
		die("sodium_init");
	for (int i = 0; i < NKEYS; i++) {
		uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];

		memset(seed, i + 1, sizeof(seed));
		crypto_sign_seed_keypair(pk, sk[i], seed);
		if (upk_key_ed25519_object(pk, &keyobj[i]) != UPK_OK ||
		    upk_key_id(keyobj[i], keyid[i], NULL) != UPK_OK)
			die("keys");
	}
	if (upk_key_parse(keyobj[3], &signer_key, NULL) != UPK_OK)
		die("signer key");
	memcpy(signer_key.keyid, keyid[3], sizeof(keyid[3]));
	root = fixed(UPK_ROLE_ROOT,
		     json_pack("{s:s, s:s, s:i, s:s, s:b, s:o, s:{s:o, s:o, s:o, s:o}}", "_type",
			       "root", "spec_version", "1.0.31", "version", 1, "expires",
			       "2030-01-01T00:00:00Z", "consistent_snapshot", 1, "keys",
			       keymap(0, 3), "roles", "root", role(0), "timestamp", role(1),
			       "snapshot", role(2), "targets", role(3)));
	deleg = fixed(UPK_ROLE_TARGETS,
		      json_pack("{s:s, s:s, s:i, s:s, s:{}, s:{s:o, s:[{s:s, s:[s], s:i, s:b, "
				"s:[s]}, {s:s, s:[s], s:i, s:b, s:[s, s]}]}}",
				"_type", "targets", "spec_version", "1.0.31", "version", 1,
				"expires", "2030-01-01T00:00:00Z", "targets", "delegations", "keys",
				keymap(4, 4), "roles", "name", "role1", "keyids", keyid[4],
				"threshold", 1, "terminating", 1, "paths", "fw/*", "name", "role2",
				"keyids", keyid[4], "threshold", 1, "terminating", 0,
				"path_hash_prefixes", "ab", "c"));
	bins = fixed(UPK_ROLE_TARGETS,
		     json_pack("{s:s, s:s, s:i, s:s, s:{}, s:{s:o, s:{s:[s], s:i, s:i, s:s}}}",
			       "_type", "targets", "spec_version", "1.0.31", "version", 1,
			       "expires", "2030-01-01T00:00:00Z", "targets", "delegations", "keys",
			       keymap(6, 6), "succinct_roles", "keyids", keyid[6], "threshold", 1,
			       "bit_length", 8, "name_prefix", "bins"));
}

static enum upk_err sign3(void *ctx, const uint8_t *msg, size_t len, struct upk_buf *sig)
{
	uint8_t s[UPK_ED25519_SIG_LEN];
	enum upk_err r;

	(void)ctx;
	r = upk_sig_sign_ed25519(sk[3], msg, len, s);
	if (r)
		return r;
	return upk_buf_append(sig, s, sizeof(s));
}

/* Serialize and parse again: same role, same canonical bytes. */
static void check_round_trip(const struct upk_meta *m)
{
	struct upk_buf out = UPK_BUF_INIT;
	struct upk_meta *m2 = NULL;
	enum upk_err r;

	if (upk_meta_serialize(m, &out) != UPK_OK)
		die("serialize failed on parsed metadata");
	r = upk_meta_parse(out.data, out.len, m->type, 0, &m2, NULL);
	/* The readable form may outgrow the limit a compact input fitted in. */
	if (r != UPK_OK && !(r == UPK_E_TOO_LARGE && out.len > upk_role_max_size(m->type)))
		die("serialized metadata does not parse again");
	if (m2 && (m2->canonical.len != m->canonical.len ||
		   memcmp(m2->canonical.data, m->canonical.data, m->canonical.len) != 0))
		die("canonical bytes changed in a round trip");
	upk_meta_free(m2);
	upk_buf_done(&out);
}

static void exercise_delegations(const struct upk_meta *m)
{
	const struct upk_delegations *d = &m->delegations;
	struct upk_diag diag;

	verdict(upk_meta_verify_delegated(deleg, "role1", m, &diag));
	verdict(upk_meta_verify_delegated(deleg, "role2", m, &diag));
	verdict(upk_meta_verify_delegated(bins, "bins-2a", m, &diag));
	if (!m->has_delegations)
		return;
	for (size_t i = 0; i < d->n_roles && i < 8; i++)
		verdict(upk_meta_verify_delegated(m, d->roles[i].name, m, &diag));
	if (d->has_succinct) {
		char name[256];
		int width = (d->succinct.bit_length + 3) / 4;

		snprintf(name, sizeof(name), "%.200s-%0*x", d->succinct.name_prefix, width, 0);
		verdict(upk_meta_verify_delegated(m, name, m, &diag));
	}
}

static void exercise(struct upk_meta *m, const uint8_t *data, size_t size)
{
	struct upk_diag diag;
	char line[600];

	if (upk_meta_verify_by_root(root, m->type, m, &diag) != UPK_OK)
		upk_diag_format(&diag, line, sizeof(line));
	(void)upk_meta_is_expired(m, 0);
	switch (m->type) {
	case UPK_ROLE_ROOT:
		verdict(upk_meta_verify_by_root(m, UPK_ROLE_ROOT, m, &diag));
		for (size_t i = 0; i < m->n_keys && i < 8; i++)
			(void)upk_meta_find_key(m->keys, m->n_keys, m->keys[i].keyid);
		break;
	case UPK_ROLE_TIMESTAMP:
	case UPK_ROLE_SNAPSHOT:
		for (size_t i = 0; i < m->n_meta && i < 8; i++) {
			if (upk_meta_find_meta(m, m->meta[i].name) != &m->meta[i])
				die("META look-up");
			if (m->meta[i].has_hashes)
				verdict(upk_meta_hashes_check(&m->meta[i].hashes, data, size,
							      &diag));
		}
		break;
	case UPK_ROLE_TARGETS:
		for (size_t i = 0; i < m->n_targets && i < 8; i++) {
			if (upk_meta_find_target(m, m->targets[i].path) != &m->targets[i])
				die("target look-up");
			verdict(upk_meta_hashes_check(&m->targets[i].hashes, data, size, &diag));
		}
		exercise_delegations(m);
		break;
	}
	check_round_trip(m);

	/* Unchanged metadata always re-signs, and the new signature verifies. */
	{
		const char *ids[] = { keyid[3] };
		struct upk_role_keys rk = { ids, 1, 1 };

		if (upk_meta_resign_begin(m, &diag) != UPK_OK || m->n_sigs != 0)
			die("resign_begin failed on parsed metadata");
		if (upk_meta_sign(m, keyid[3], sign3, NULL, &diag) != UPK_OK)
			die("sign failed");
		if (upk_meta_verify_role(&signer_key, 1, &rk, m, &diag) != UPK_OK)
			die("fresh signature does not verify");
	}
}

/* The view parser against the tree parser (m: the tree's result, or NULL with r). */
static void compare_view(const uint8_t *data, size_t size, enum upk_err r, const struct upk_meta *m)
{
	struct upk_meta *v = NULL;
	struct upk_diag diag;
	enum upk_err rv = upk_meta_parse_view(data, size, UPK_ROLE_TARGETS, 0, &v, &diag);
	const char *why;

	if (r == UPK_E_NOMEM || rv == UPK_E_NOMEM) {
		upk_meta_free(v);
		return;
	}
	if (r != rv) {
		fprintf(stderr, "tree: %s, view: %s (%s: %s)\n", upk_err_name(r), upk_err_name(rv),
			diag.where, diag.reason);
		die("view and tree parsers disagree");
	}
	if (r == UPK_OK) {
		why = meta_compare(m, v);
		if (why) {
			fprintf(stderr, "view differs: %s\n", why);
			die("view and tree parsers disagree");
		}
	}
	upk_meta_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		init();
		ready = true;
	}
	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		struct upk_meta *m = NULL;
		struct upk_diag diag;

		enum upk_err r = upk_meta_parse(data, size, (enum upk_role)i, 0, &m, &diag);

		if (i == UPK_ROLE_TARGETS)
			compare_view(data, size, r, m);
		if (r != UPK_OK)
			continue;
		exercise(m, data, size);
		upk_meta_free(m);
	}
	return 0;
}
