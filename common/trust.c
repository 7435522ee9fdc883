/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The trusted metadata set: TUF 1.0 client workflow decisions (§5), each
 * check cited by its step. Every update validates completely before it
 * changes anything, so a rejected file leaves the set as it was.
 */
#include "trust.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tuftime.h"
#include "util.h"

struct targets_role {
	char *name;
	char *verified_by; /* the delegator whose keys last verified it */
	struct upk_meta *meta;
};

struct upk_trust {
	int64_t now;
	struct upk_meta *root;
	struct upk_meta *timestamp;
	struct upk_meta *snapshot;
	struct targets_role *targets; /* "targets" first, then delegated roles */
	size_t n_targets, cap_targets;
	size_t root_updates;
	bool rotated_online_keys;
};

static enum upk_err fail(struct upk_diag *diag, enum upk_err err, const char *role, const char *fmt,
			 ...) __attribute__((format(printf, 4, 5)));

static enum upk_err fail(struct upk_diag *diag, enum upk_err err, const char *role, const char *fmt,
			 ...)
{
	char reason[sizeof(diag->reason)];
	va_list ap;

	if (!diag)
		return err;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return upk_diag_set(diag, err, role, -1, "%s", reason);
}

/* Parse and name the role in diag on failure. */
static enum upk_err parse(const uint8_t *data, size_t len, enum upk_role type, const char *name,
			  struct upk_meta **ret, struct upk_diag *diag)
{
	/* A view: trust only reads metadata, and targets files are the large ones. */
	enum upk_err r = upk_meta_parse_view(data, len, type, 0, ret, diag);

	if (r)
		upk_diag_prefix_where(diag, name);
	return r;
}

static enum upk_err check_expiry(const struct upk_trust *t, const struct upk_meta *m,
				 const char *name, struct upk_diag *diag)
{
	char when[32];

	if (!upk_meta_is_expired(m, t->now))
		return UPK_OK;
	if (upk_time_format(m->expires, when) != UPK_OK)
		snprintf(when, sizeof(when), "%lld", (long long)m->expires);
	return fail(diag, UPK_E_EXPIRED, name, "version %lld expired at %s", (long long)m->version,
		    when);
}

/* Length and hashes of data as `mf` lists them, where it lists them. */
static enum upk_err check_metafile(const struct upk_metafile *mf, const uint8_t *data, size_t len,
				   const char *name, struct upk_diag *diag)
{
	enum upk_err r;

	if (mf->length >= 0 && (uint64_t)mf->length != len)
		return fail(diag, UPK_E_LENGTH, name, "%zu bytes, %lld listed", len,
			    (long long)mf->length);
	if (!mf->has_hashes)
		return UPK_OK;
	r = upk_meta_hashes_check(&mf->hashes, data, len, diag);
	if (r)
		upk_diag_prefix_where(diag, name);
	return r;
}

/*
 * §5.5.2 / §5.6.2 (length and hashes), then parse and verify the signatures
 * (§5.5.3 / §5.6.3): the hash check and the parse+verify are independent
 * reads of the same bytes, so for a large file the hash check is offered to
 * a second thread meanwhile (on a 10,000-target targets.json each side takes
 * about 3 ms). Whoever comes first takes it: if the thread has not started
 * by the time the parse and the signatures are done (a busy machine, or an
 * idle virtual CPU slow to wake), this thread hashes, so the worst case is
 * the sequential time. The outcome is the sequential one: a length or hash
 * failure wins over a parse failure, which wins over a signature failure.
 */
#define CHECK_THREAD_MIN (256 * 1024)

enum { BG_PENDING, BG_TAKEN };

struct bg_check {
	const struct upk_metafile *mf;
	const uint8_t *data;
	size_t len;
	const char *name;
	atomic_int state;
	bool threaded;
	pthread_t th;
	struct upk_diag diag;
	enum upk_err r;
};

/* Run the check here unless someone took it already. */
static void bg_take(struct bg_check *b)
{
	int expect = BG_PENDING;

	if (atomic_compare_exchange_strong(&b->state, &expect, BG_TAKEN))
		b->r = check_metafile(b->mf, b->data, b->len, b->name, &b->diag);
}

static void *bg_main(void *arg)
{
	bg_take(arg);
	return NULL;
}

/* After bg_finish(): b->r and b->diag hold the check's outcome. */
static void bg_finish(struct bg_check *b)
{
	bg_take(b);
	if (b->threaded)
		pthread_join(b->th, NULL);
}

typedef enum upk_err (*verify_fn)(const struct upk_trust *t, const char *role,
				  const char *delegator, const struct upk_meta *m,
				  struct upk_diag *diag);

static enum upk_err check_parse_verify(const struct upk_trust *t, const struct upk_metafile *listed,
				       const uint8_t *data, size_t len, enum upk_role type,
				       const char *role, const char *delegator, verify_fn verify,
				       struct upk_meta **ret, struct upk_diag *diag)
{
	struct bg_check b = { .mf = listed, .data = data, .len = len, .name = role };
	struct upk_meta *m = NULL;
	enum upk_err r;

	atomic_init(&b.state, BG_PENDING);
	upk_diag_clear(&b.diag);
	b.threaded = len >= CHECK_THREAD_MIN && pthread_create(&b.th, NULL, bg_main, &b) == 0;
	/* Without a thread the check comes first, as the specification orders it. */
	if (!b.threaded)
		bg_finish(&b);
	r = b.r ? b.r : parse(data, len, type, role, &m, diag);
	if (!r)
		r = verify(t, role, delegator, m, diag);
	bg_finish(&b); /* a no-op the second time */
	if (b.r) {
		upk_meta_free(m);
		if (diag)
			*diag = b.diag;
		return b.r;
	}
	if (r) {
		upk_meta_free(m);
		return r;
	}
	*ret = m;
	return UPK_OK;
}

int64_t upk_trust_now(const struct upk_trust *t)
{
	return t->now;
}

const struct upk_meta *upk_trust_root(const struct upk_trust *t)
{
	return t->root;
}

const struct upk_meta *upk_trust_timestamp(const struct upk_trust *t)
{
	return t->timestamp;
}

const struct upk_meta *upk_trust_snapshot(const struct upk_trust *t)
{
	return t->snapshot;
}

void upk_trust_free(struct upk_trust *t)
{
	if (!t)
		return;
	upk_meta_free(t->root);
	upk_meta_free(t->timestamp);
	upk_meta_free(t->snapshot);
	for (size_t i = 0; i < t->n_targets; i++) {
		free(t->targets[i].name);
		free(t->targets[i].verified_by);
		upk_meta_free(t->targets[i].meta);
	}
	free(t->targets);
	free(t);
}

/* ------------------------------------------------------------------------ */
/* Root (§5.2, §5.3). */

enum upk_err upk_trust_new(const uint8_t *root, size_t len, int64_t now, struct upk_trust **ret,
			   struct upk_diag *reterr_diag)
{
	_cleanup_(upk_trust_freep) struct upk_trust *t = NULL;
	enum upk_err r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	t->now = now;
	r = parse(root, len, UPK_ROLE_ROOT, "root", &t->root, reterr_diag);
	if (r)
		return r;
	/* §5.2: the trusted root vouches for itself; its expiry does not matter yet. */
	r = upk_meta_verify_by_root(t->root, UPK_ROLE_ROOT, t->root, reterr_diag);
	if (r)
		return r;
	*ret = t;
	t = NULL;
	return UPK_OK;
}

/* Same keys (ids and material) and threshold for `role` in both roots. */
static bool same_role_keys(const struct upk_meta *a, const struct upk_meta *b, enum upk_role role)
{
	const struct upk_role_keys *ra = &a->roles[role], *rb = &b->roles[role];

	if (ra->threshold != rb->threshold || ra->n_keyids != rb->n_keyids)
		return false;
	/* Key ids are unique within a role (meta.h), so equal counts and inclusion suffice. */
	for (size_t i = 0; i < ra->n_keyids; i++) {
		const struct upk_key *ka = upk_meta_find_key(a->keys, a->n_keys, ra->keyids[i]);
		const struct upk_key *kb;
		bool listed = false;

		for (size_t j = 0; j < rb->n_keyids && !listed; j++)
			listed = strcmp(ra->keyids[i], rb->keyids[j]) == 0;
		if (!listed)
			return false;
		kb = upk_meta_find_key(b->keys, b->n_keys, ra->keyids[i]);
		if (!ka != !kb || (ka && !json_equal(ka->obj, kb->obj)))
			return false;
	}
	return true;
}

enum upk_err upk_trust_update_root(struct upk_trust *t, const uint8_t *data, size_t len,
				   struct upk_diag *reterr_diag)
{
	_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;
	enum upk_err r;

	if (!upk_trust_wants_root(t))
		return fail(reterr_diag, UPK_E_INTERNAL, "root",
			    "no root update after timestamp or after %d rotations",
			    UPK_TRUST_MAX_ROOT_ROTATIONS);
	r = parse(data, len, UPK_ROLE_ROOT, "root", &m, reterr_diag);
	if (r)
		return r;
	/* §5.3.4: a threshold of the trusted root's root keys, and of its own. */
	r = upk_meta_verify_by_root(t->root, UPK_ROLE_ROOT, m, reterr_diag);
	if (r) {
		upk_diag_prefix_where(reterr_diag, "new root, by the trusted root's keys");
		return r;
	}
	r = upk_meta_verify_by_root(m, UPK_ROLE_ROOT, m, reterr_diag);
	if (r) {
		upk_diag_prefix_where(reterr_diag, "new root, by its own keys");
		return r;
	}
	/* §5.3.5: exactly one version up. */
	if (m->version != t->root->version + 1)
		return fail(reterr_diag, UPK_E_ROLLBACK, "root", "version %lld, expected %lld",
			    (long long)m->version, (long long)t->root->version + 1);
	/* §5.3.6: the expiry of an intermediate root does not matter. */
	/* §5.3.11 (recorded here, acted on by the caller). */
	if (!same_role_keys(t->root, m, UPK_ROLE_TIMESTAMP) ||
	    !same_role_keys(t->root, m, UPK_ROLE_SNAPSHOT))
		t->rotated_online_keys = true;
	/* §5.3.7: the new root is trusted. */
	upk_meta_free(t->root);
	t->root = m;
	m = NULL;
	t->root_updates++;
	return UPK_OK;
}

bool upk_trust_wants_root(const struct upk_trust *t)
{
	/* §5.3.3: "more than Y root metadata files" ends the chain; Y = 256. */
	return !t->timestamp && t->root_updates < UPK_TRUST_MAX_ROOT_ROTATIONS &&
	       t->root->version < INT64_MAX;
}

enum upk_err upk_trust_check_root(const struct upk_trust *t, struct upk_diag *reterr_diag)
{
	/* §5.3.10: the final root must not have expired (freeze attack). */
	return check_expiry(t, t->root, "root", reterr_diag);
}

bool upk_trust_has_rotated_online_keys(const struct upk_trust *t)
{
	return t->rotated_online_keys;
}

/* ------------------------------------------------------------------------ */
/* Timestamp (§5.4). */

const struct upk_metafile *upk_trust_snapshot_meta(const struct upk_trust *t)
{
	if (!t->timestamp)
		return NULL;
	return upk_meta_find_meta(t->timestamp, "snapshot.json");
}

/* Parse a timestamp and verify it with the trusted root (§5.4.2). */
static enum upk_err timestamp_verified(const struct upk_trust *t, const uint8_t *data, size_t len,
				       struct upk_meta **ret, struct upk_diag *diag)
{
	_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;
	enum upk_err r;

	r = parse(data, len, UPK_ROLE_TIMESTAMP, "timestamp", &m, diag);
	if (r)
		return r;
	/* meta.c guarantees the one entry, "snapshot.json". */
	if (!upk_meta_find_meta(m, "snapshot.json"))
		return fail(diag, UPK_E_FORMAT, "timestamp", "no snapshot.json entry");
	r = upk_meta_verify_by_root(t->root, UPK_ROLE_TIMESTAMP, m, diag);
	if (r)
		return r;
	*ret = m;
	m = NULL;
	return UPK_OK;
}

enum upk_err upk_trust_load_timestamp(struct upk_trust *t, const uint8_t *data, size_t len,
				      struct upk_diag *reterr_diag)
{
	if (t->timestamp || t->snapshot)
		return fail(reterr_diag, UPK_E_INTERNAL, "timestamp", "timestamp already loaded");
	return timestamp_verified(t, data, len, &t->timestamp, reterr_diag);
}

enum upk_err upk_trust_update_timestamp(struct upk_trust *t, const uint8_t *data, size_t len,
					bool *ret_updated, struct upk_diag *reterr_diag)
{
	_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;
	enum upk_err r;

	if (t->snapshot)
		return fail(reterr_diag, UPK_E_INTERNAL, "timestamp", "timestamp after snapshot");
	/* §5.3.10: nothing is accepted under an expired root. */
	r = upk_trust_check_root(t, reterr_diag);
	if (r)
		return r;
	/* §5.4.2: signed by a threshold of the root's timestamp keys. */
	r = timestamp_verified(t, data, len, &m, reterr_diag);
	if (r)
		return r;
	if (t->timestamp) {
		const struct upk_metafile *old_snap = upk_trust_snapshot_meta(t);
		const struct upk_metafile *new_snap = upk_meta_find_meta(m, "snapshot.json");

		/* §5.4.3.1: never a lower version; an equal one changes nothing. */
		if (m->version < t->timestamp->version)
			return fail(reterr_diag, UPK_E_ROLLBACK, "timestamp",
				    "version %lld is lower than the trusted %lld",
				    (long long)m->version, (long long)t->timestamp->version);
		if (m->version == t->timestamp->version) {
			*ret_updated = false;
			return UPK_OK;
		}
		/* §5.4.3.2: the snapshot version it lists never goes down either. */
		if (new_snap->version < old_snap->version)
			return fail(reterr_diag, UPK_E_ROLLBACK, "timestamp",
				    "lists snapshot version %lld, lower than the trusted %lld",
				    (long long)new_snap->version, (long long)old_snap->version);
	}
	/* §5.4.4: not expired (freeze attack). */
	r = check_expiry(t, m, "timestamp", reterr_diag);
	if (r)
		return r;
	upk_meta_free(t->timestamp);
	t->timestamp = m;
	m = NULL;
	*ret_updated = true;
	return UPK_OK;
}

/* ------------------------------------------------------------------------ */
/* Snapshot (§5.5). */

/* The trusted timestamp, which must be usable as the final one (§5.4.4). */
enum upk_err upk_trust_check_timestamp(const struct upk_trust *t, struct upk_diag *reterr_diag)
{
	if (!t->timestamp)
		return fail(reterr_diag, UPK_E_INTERNAL, "snapshot", "snapshot before timestamp");
	return check_expiry(t, t->timestamp, "timestamp", reterr_diag);
}

static bool snapshot_is_final(const struct upk_trust *t, const struct upk_meta *snap)
{
	return !upk_meta_is_expired(snap, t->now) &&
	       snap->version == upk_trust_snapshot_meta(t)->version;
}

enum upk_err upk_trust_load_snapshot(struct upk_trust *t, const uint8_t *data, size_t len,
				     bool *ret_final, struct upk_diag *reterr_diag)
{
	_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;
	enum upk_err r;

	if (t->snapshot)
		return fail(reterr_diag, UPK_E_INTERNAL, "snapshot", "snapshot already loaded");
	r = upk_trust_check_timestamp(t, reterr_diag);
	if (r)
		return r;
	r = parse(data, len, UPK_ROLE_SNAPSHOT, "snapshot", &m, reterr_diag);
	if (r)
		return r;
	r = upk_meta_verify_by_root(t->root, UPK_ROLE_SNAPSHOT, m, reterr_diag);
	if (r)
		return r;
	*ret_final = snapshot_is_final(t, m);
	t->snapshot = m;
	m = NULL;
	return UPK_OK;
}

/* verify_fn for snapshot: the root's keys for the role. */
static enum upk_err verify_snapshot(const struct upk_trust *t, const char *role,
				    const char *delegator, const struct upk_meta *m,
				    struct upk_diag *diag)
{
	(void)role;
	(void)delegator;
	return upk_meta_verify_by_root(t->root, UPK_ROLE_SNAPSHOT, m, diag);
}

enum upk_err upk_trust_update_snapshot(struct upk_trust *t, const uint8_t *data, size_t len,
				       struct upk_diag *reterr_diag)
{
	_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;
	const struct upk_metafile *listed;
	enum upk_err r;

	if (t->n_targets)
		return fail(reterr_diag, UPK_E_INTERNAL, "snapshot", "snapshot after targets");
	/* §5.4.4: the timestamp that lists this snapshot must still be valid. */
	r = upk_trust_check_timestamp(t, reterr_diag);
	if (r)
		return r;
	listed = upk_trust_snapshot_meta(t);
	/*
	 * §5.5.2: length and hashes as the timestamp lists them, if it does;
	 * §5.5.3: signed by a threshold of the root's snapshot keys.
	 */
	r = check_parse_verify(t, listed, data, len, UPK_ROLE_SNAPSHOT, "snapshot", NULL,
			       verify_snapshot, &m, reterr_diag);
	if (r)
		return r;
	/* §5.5.4: the version the timestamp lists. */
	if (m->version != listed->version)
		return fail(reterr_diag, UPK_E_ROLLBACK, "snapshot",
			    "version %lld, timestamp lists %lld", (long long)m->version,
			    (long long)listed->version);
	/* §5.5.5: no targets role of the trusted snapshot removed or lowered. */
	if (t->snapshot) {
		for (size_t i = 0; i < t->snapshot->n_meta; i++) {
			const struct upk_metafile *old = &t->snapshot->meta[i];
			const struct upk_metafile *now = upk_meta_find_meta(m, old->name);

			if (!now)
				return fail(reterr_diag, UPK_E_ROLLBACK, "snapshot",
					    "%s is no longer listed", old->name);
			if (now->version < old->version)
				return fail(reterr_diag, UPK_E_ROLLBACK, "snapshot",
					    "lists %s version %lld, lower than the trusted %lld",
					    old->name, (long long)now->version,
					    (long long)old->version);
		}
	}
	/* §5.5.6: not expired (freeze attack). */
	r = check_expiry(t, m, "snapshot", reterr_diag);
	if (r)
		return r;
	upk_meta_free(t->snapshot);
	t->snapshot = m;
	m = NULL;
	return UPK_OK;
}

/* ------------------------------------------------------------------------ */
/* Targets and delegated targets (§5.6). */

const struct upk_metafile *upk_trust_targets_meta(const struct upk_trust *t, const char *role)
{
	char name[512];
	int n;

	if (!t->snapshot)
		return NULL;
	n = snprintf(name, sizeof(name), "%s.json", role);
	if (n < 0 || (size_t)n >= sizeof(name)) {
		/* Rare: a long role name needs a heap copy. */
		_cleanup_free_ char *big = NULL;
		size_t sz;

		if (!upk_size_add(strlen(role), sizeof(".json"), &sz))
			return NULL;
		big = malloc(sz);
		if (!big)
			return NULL;
		snprintf(big, sz, "%s.json", role);
		return upk_meta_find_meta(t->snapshot, big);
	}
	return upk_meta_find_meta(t->snapshot, name);
}

static struct targets_role *find_role(const struct upk_trust *t, const char *role)
{
	for (size_t i = 0; i < t->n_targets; i++) {
		if (strcmp(t->targets[i].name, role) == 0)
			return &t->targets[i];
	}
	return NULL;
}

/*
 * Verify m as `role` signed by `delegator`'s keys (§5.6.3): the root's
 * targets keys for "targets", else the delegation in a loaded targets role.
 */
static enum upk_err verify_by_delegator(const struct upk_trust *t, const char *role,
					const char *delegator, const struct upk_meta *m,
					struct upk_diag *diag)
{
	const struct targets_role *d;

	if (strcmp(role, "targets") == 0 || strcmp(delegator, "root") == 0) {
		if (strcmp(role, "targets") != 0 || strcmp(delegator, "root") != 0)
			return fail(diag, UPK_E_NOT_FOUND, role, "not delegated by %s", delegator);
		return upk_meta_verify_by_root(t->root, UPK_ROLE_TARGETS, m, diag);
	}
	d = find_role(t, delegator);
	if (!d)
		return fail(diag, UPK_E_INTERNAL, role, "delegator %s is not loaded", delegator);
	return upk_meta_verify_delegated(d->meta, role, m, diag);
}

enum upk_err upk_trust_update_targets(struct upk_trust *t, const char *role, const char *delegator,
				      const uint8_t *data, size_t len,
				      const struct upk_meta **ret_meta,
				      struct upk_diag *reterr_diag)
{
	_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;
	_cleanup_free_ char *name = NULL, *by = NULL;
	const struct upk_metafile *listed;
	struct targets_role *slot;
	enum upk_err r;

	if (!t->snapshot)
		return fail(reterr_diag, UPK_E_INTERNAL, role, "targets before snapshot");
	if (find_role(t, role))
		return fail(reterr_diag, UPK_E_INTERNAL, role, "role already loaded");
	/* The snapshot that lists this role must be the final one (§5.5.4, §5.5.6). */
	r = check_expiry(t, t->snapshot, "snapshot", reterr_diag);
	if (r)
		return r;
	if (t->snapshot->version != upk_trust_snapshot_meta(t)->version)
		return fail(reterr_diag, UPK_E_ROLLBACK, "snapshot",
			    "version %lld, timestamp lists %lld", (long long)t->snapshot->version,
			    (long long)upk_trust_snapshot_meta(t)->version);
	listed = upk_trust_targets_meta(t, role);
	if (!listed)
		return fail(reterr_diag, UPK_E_NOT_FOUND, role, "not listed in snapshot");
	/*
	 * §5.6.2: length and hashes as the snapshot lists them, if it does;
	 * §5.6.3: signed by a threshold of the delegator's keys for this role.
	 */
	r = check_parse_verify(t, listed, data, len, UPK_ROLE_TARGETS, role, delegator,
			       verify_by_delegator, &m, reterr_diag);
	if (r)
		return r;
	/* §5.6.4: the version the snapshot lists. */
	if (m->version != listed->version)
		return fail(reterr_diag, UPK_E_ROLLBACK, role, "version %lld, snapshot lists %lld",
			    (long long)m->version, (long long)listed->version);
	/* §5.6.5: not expired (freeze attack). */
	r = check_expiry(t, m, role, reterr_diag);
	if (r)
		return r;

	name = strdup(role);
	by = strdup(delegator);
	if (!name || !by)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, role, -1, NULL);
	if (t->n_targets == t->cap_targets) {
		size_t cap = t->cap_targets ? t->cap_targets * 2 : 8, bytes;
		struct targets_role *n;

		if (!upk_size_mul(cap, sizeof(*n), &bytes))
			return upk_diag_set(reterr_diag, UPK_E_NOMEM, role, -1, NULL);
		n = realloc(t->targets, bytes);
		if (!n)
			return upk_diag_set(reterr_diag, UPK_E_NOMEM, role, -1, NULL);
		t->targets = n;
		t->cap_targets = cap;
	}
	slot = &t->targets[t->n_targets++];
	slot->name = name;
	slot->verified_by = by;
	slot->meta = m;
	name = by = NULL;
	m = NULL;
	if (ret_meta)
		*ret_meta = slot->meta;
	return UPK_OK;
}

enum upk_err upk_trust_get_targets(struct upk_trust *t, const char *role, const char *delegator,
				   const struct upk_meta **ret_meta, struct upk_diag *reterr_diag)
{
	struct targets_role *slot = find_role(t, role);
	enum upk_err r;

	if (!slot) {
		*ret_meta = NULL;
		return UPK_OK;
	}
	if (strcmp(slot->verified_by, delegator) != 0) {
		/*
		 * §5.6.3 for this path through the delegation graph: trust
		 * comes from the delegator, not from the role's name.
		 */
		char *by;

		r = verify_by_delegator(t, role, delegator, slot->meta, reterr_diag);
		if (r)
			return r;
		by = strdup(delegator);
		if (!by)
			return upk_diag_set(reterr_diag, UPK_E_NOMEM, role, -1, NULL);
		free(slot->verified_by);
		slot->verified_by = by;
	}
	*ret_meta = slot->meta;
	return UPK_OK;
}
