/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The TUF 1.0 metadata model: root, targets (with delegations), snapshot and
 * timestamp, parsed from bytes into structs, serialized back, signed, and
 * verified against a role's keys and threshold.
 *
 * A parsed document keeps its whole JSON tree (`doc`), so unknown fields
 * survive and signatures over them still verify; the typed fields below are
 * views checked on parse:
 *   - `_type` is the expected one; `spec_version` is "1.x" or "1.x.y";
 *   - `version` >= 1; `expires` is "YYYY-MM-DDTHH:MM:SSZ";
 *   - hashes are maps of algorithm name -> hex digest, lengths >= 0;
 *   - key ids are 64 lower-case hex digits; thresholds >= 1;
 *   - the `signatures` list holds no key id twice (spec: duplicate signature
 *     key ids are an error, since a repository must not sign twice).
 * Size limits (UPK_META_MAX_*) are enforced before any allocation; lists of
 * keys, key ids, delegated roles and signatures hold at most
 * UPK_META_MAX_LIST entries (UPK_E_FORMAT beyond), which bounds the work a
 * hostile file can cause during verification.
 *
 * Parse rules follow python-tuf (tuf/api/_payload.py), the reference
 * implementation: root lists exactly the four top-level roles; role key ids
 * are unique and may name keys absent from the key map (such ids count as
 * nothing); META entries need `version`, `length` and `hashes` are optional
 * (hashes non-empty when present); targets need `length` and `hashes`;
 * delegations carry exactly one of `roles` / `succinct_roles`; a delegated
 * role needs `name` (unique, not empty, not a top-level role name), `keyids`,
 * `threshold`, `terminating` and exactly one of `paths` /
 * `path_hash_prefixes`; succinct roles need `keyids`, `threshold`,
 * `bit_length` (1..32) and `name_prefix`; timestamp's META holds exactly
 * "snapshot.json" (the spec's MUST). An optional member set to null reads as
 * absent, as python-tuf's dict.pop(key, None) does (but "delegations": null
 * is an error there and here). Upkeep is stricter than python-tuf in
 * that key ids, signatures and digests must be hex (lower-case for key ids
 * and digests, as TUF writes them), sha256/sha512 digests have their exact
 * length, and `expires` is exactly "YYYY-MM-DDTHH:MM:SSZ".
 *
 * Array order of the typed views: `targets` by path, `meta` by file name,
 * `keys` and `sigs` by key id (byte order, for binary search); delegated
 * `roles` keep file order, which is their priority.
 *
 * Signature verification (upk_meta_verify_role) is the spec's rule: the
 * canonical JSON of `signed` must carry valid signatures from at least
 * `threshold` distinct keys of the role; each key counts once (by key id and
 * by key material), signatures by unknown keys or unsupported schemes count
 * as nothing.
 *
 * Ownership: upk_meta_free() releases everything; pointers in the structs
 * borrow from the meta object and live as long as it does.
 * THREAD SAFETY: a meta object belongs to one thread.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "hash.h"
#include "key.h"
#include "util.h"

/* Maximum sizes of metadata files (python-tuf's defaults). */
#define UPK_META_MAX_ROOT      512000
#define UPK_META_MAX_TIMESTAMP 16384
#define UPK_META_MAX_SNAPSHOT  2000000
#define UPK_META_MAX_TARGETS   5000000

/* Most entries in one list of keys, key ids, delegated roles or signatures. */
#define UPK_META_MAX_LIST 10000
/* Longest signature accepted, in bytes (RSA-8192 needs 1024). */
#define UPK_META_MAX_SIG_LEN 2048

enum upk_role {
	UPK_ROLE_ROOT,
	UPK_ROLE_TIMESTAMP,
	UPK_ROLE_SNAPSHOT,
	UPK_ROLE_TARGETS, /* top-level targets and every delegated role */
};
#define UPK_ROLE_COUNT 4

/* "root", "timestamp", "snapshot", "targets". */
const char *upk_role_name(enum upk_role role);
/* Size limit for a role's file. */
size_t upk_role_max_size(enum upk_role role);

/* Hashes as listed in metadata. Unknown algorithms are counted, not dropped. */
struct upk_hashes {
	bool has_sha256, has_sha512;
	uint8_t sha256[UPK_SHA256_LEN];
	uint8_t sha512[UPK_SHA512_LEN];
	size_t n_unknown; /* algorithms Upkeep does not implement */
	size_t count;	  /* all listed algorithms */
};

/* One META entry of timestamp ("snapshot.json") or snapshot ("targets.json", ...). */
struct upk_metafile {
	const char *name; /* "snapshot.json", "targets.json", "role.json" */
	int64_t version;  /* >= 1 */
	int64_t length;	  /* -1 if absent */
	bool has_hashes;
	struct upk_hashes hashes;
};

struct upk_target {
	const char *path;
	int64_t length;
	struct upk_hashes hashes;
	json_t *custom; /* borrowed, NULL if absent or null */
};

struct upk_role_keys {
	const char **keyids; /* borrowed strings */
	size_t n_keyids;
	int64_t threshold; /* >= 1 */
};

struct upk_delegated_role {
	const char *name;
	struct upk_role_keys keys;
	bool terminating;
	bool has_paths;	    /* exactly one of has_paths / has_prefixes */
	const char **paths; /* glob patterns */
	size_t n_paths;
	const char **prefixes; /* path_hash_prefixes, hex */
	size_t n_prefixes;
};

/* TAP 15 succinct hashed bin delegation. */
struct upk_succinct_roles {
	struct upk_role_keys keys;
	int bit_length;		 /* 1..32 */
	const char *name_prefix; /* bins are "<prefix>-<hex>" */
};

struct upk_delegations {
	struct upk_key *keys; /* with keyid set */
	size_t n_keys;
	struct upk_delegated_role *roles;
	size_t n_roles;
	bool has_succinct;
	struct upk_succinct_roles succinct;
};

struct upk_signature {
	const char *keyid;
	uint8_t *sig; /* decoded bytes, owned */
	size_t sig_len;
};

struct upk_meta {
	enum upk_role type;
	json_t *doc;		  /* whole document, one reference owned */
	json_t *signed_obj;	  /* borrowed from doc */
	struct upk_buf canonical; /* canonical JSON of `signed`: what signatures cover */
	struct upk_signature *sigs;
	size_t n_sigs;

	const char *spec_version;
	int64_t version;
	int64_t expires; /* Unix seconds */

	/* root */
	bool consistent_snapshot;
	struct upk_key *keys; /* with keyid set */
	size_t n_keys;
	struct upk_role_keys roles[UPK_ROLE_COUNT]; /* indexed by enum upk_role */

	/* timestamp (exactly one entry, "snapshot.json") and snapshot */
	struct upk_metafile *meta;
	size_t n_meta;

	/* targets */
	struct upk_target *targets;
	size_t n_targets;
	bool has_delegations;
	struct upk_delegations delegations;

	/*
	 * Set by upk_meta_parse_view: `doc` lacks the targets map, and
	 * `targets` is NULL (n_targets is right): use upk_meta_target() and
	 * upk_meta_lookup_target(), which work for both kinds.
	 */
	bool view;
	uint32_t *view_index;		/* entry i's offset in canonical */
	struct upk_target **view_cache; /* entry i once decoded, else NULL */
	json_t *view_custom;		/* array owning the decoded custom values */
};

/*
 * Parse bytes as metadata of type `expected`. len above the role's size
 * limit (or above max_len, when max_len is smaller and not 0) is
 * UPK_E_TOO_LARGE before any allocation. Format errors are UPK_E_FORMAT with
 * the field in diag->where. Signatures are decoded but NOT verified.
 */
UPK_WUR enum upk_err upk_meta_parse(const uint8_t *data, size_t len, enum upk_role expected,
				    size_t max_len, struct upk_meta **ret,
				    struct upk_diag *reterr_diag);

/*
 * Same as upk_meta_parse, for a reader that only looks: a read-only view.
 * For targets metadata (top-level or delegated) the document is validated
 * and canonicalized in one pass with no JSON tree (upk_json_canonicalize),
 * and the targets map is read from the canonical bytes; the rest of `signed`
 * goes through the same parsers. Same accept/reject decisions and the same
 * views as upk_meta_parse; a 10,000-target file takes a fraction of the time
 * and memory. Differences: m->doc's `signed.targets` is an empty object;
 * m->targets is NULL: every entry is checked on parse but decoded only when
 * upk_meta_target() or a look-up first asks for it; and
 * upk_meta_serialize / upk_meta_sign / upk_meta_resign_begin refuse the view
 * (UPK_E_INTERNAL). Other roles are parsed by upk_meta_parse.
 */
UPK_WUR enum upk_err upk_meta_parse_view(const uint8_t *data, size_t len, enum upk_role expected,
					 size_t max_len, struct upk_meta **ret,
					 struct upk_diag *reterr_diag);

/* Same checks from a JSON tree; takes over the reference to doc in all cases. */
UPK_WUR enum upk_err upk_meta_from_json(json_t *doc, enum upk_role expected, struct upk_meta **ret,
					struct upk_diag *reterr_diag);

void upk_meta_free(struct upk_meta *m);
/* upk_meta_freep(), for `_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;`. */
UPK_DEFINE_CLEANUP(struct upk_meta, upk_meta_free)

/*
 * Verify m's signatures: at least role->threshold distinct keys among
 * role->keyids, looked up in keys[0..n_keys), signed m->canonical.
 * UPK_E_THRESHOLD if not met (diag: "N of M signatures valid, threshold T",
 * M being the number of signatures m carries) or if role->threshold < 1.
 * A signature that does not verify counts as nothing and is no error by
 * itself. keys may be in any order; sorted by key id (as parsed) is faster.
 */
UPK_WUR enum upk_err upk_meta_verify_role(const struct upk_key *keys, size_t n_keys,
					  const struct upk_role_keys *role,
					  const struct upk_meta *m, struct upk_diag *reterr_diag);

/* Verify m as top-level `role` with root's keys and threshold for that role. */
UPK_WUR enum upk_err upk_meta_verify_by_root(const struct upk_meta *root, enum upk_role role,
					     const struct upk_meta *m,
					     struct upk_diag *reterr_diag);

/*
 * Verify m as the delegated role `name` of delegator (explicit roles or a
 * succinct bin name). UPK_E_NOT_FOUND if delegator does not delegate `name`.
 */
UPK_WUR enum upk_err upk_meta_verify_delegated(const struct upk_meta *delegator, const char *name,
					       const struct upk_meta *m,
					       struct upk_diag *reterr_diag);

/*
 * expires <= now (the spec: expired when the expiry time is not in the
 * future; python-tuf's is_expired is `reference_time >= expires`).
 */
bool upk_meta_is_expired(const struct upk_meta *m, int64_t now);

/* Look up a META entry by file name ("snapshot.json"); NULL if absent. */
const struct upk_metafile *upk_meta_find_meta(const struct upk_meta *m, const char *name);
/*
 * Look up a target by path: UPK_E_NOT_FOUND if m does not list it;
 * UPK_E_NOMEM only for a view, whose targets are decoded on first use.
 * *ret untouched on failure.
 */
UPK_WUR enum upk_err upk_meta_lookup_target(const struct upk_meta *m, const char *path,
					    const struct upk_target **ret);
/* Same, NULL for any failure. */
const struct upk_target *upk_meta_find_target(const struct upk_meta *m, const char *path);
/* Target i of m->n_targets, in path order; NULL if i is out of range or memory runs out (views). */
const struct upk_target *upk_meta_target(const struct upk_meta *m, size_t i);
/*
 * Look up a key of root (or delegations, for targets) by key id; NULL if
 * absent (linear search: one look-up costs no more than checking order).
 */
const struct upk_key *upk_meta_find_key(const struct upk_key *keys, size_t n_keys,
					const char *keyid);

/*
 * A signer produces a signature of msg into sig (raw bytes). Lets release
 * tools sign with keys whose secret never leaves their own module.
 */
typedef enum upk_err (*upk_sign_fn)(void *ctx, const uint8_t *msg, size_t msg_len,
				    struct upk_buf *sig);

/*
 * Recompute m->canonical from m->doc's `signed` (after the caller changed
 * it), re-check it with the parse rules, and drop all signatures.
 * WARNING: once the caller changed m->doc, the typed views may point into
 * freed JSON values: call nothing but this (or upk_meta_free) until it
 * succeeds. On failure m->doc (signatures included) is as the caller left it.
 */
UPK_WUR enum upk_err upk_meta_resign_begin(struct upk_meta *m, struct upk_diag *reterr_diag);

/*
 * Add (or replace) the signature of `keyid` over m->canonical, in m->doc and
 * m->sigs. keyid must be 64 lower-case hex digits and the signature 1 to
 * UPK_META_MAX_SIG_LEN bytes (else UPK_E_FORMAT); the signer's error is
 * passed through. m is unchanged on failure.
 */
UPK_WUR enum upk_err upk_meta_sign(struct upk_meta *m, const char *keyid, upk_sign_fn fn, void *ctx,
				   struct upk_diag *reterr_diag);

/* File bytes for m->doc (readable JSON, sorted keys, trailing newline); UPK_E_INTERNAL for a view.
 */
UPK_WUR enum upk_err upk_meta_serialize(const struct upk_meta *m, struct upk_buf *out);

/* Hashes of bytes in the TUF form {"sha256": HEX, "sha512": HEX}. */
UPK_WUR enum upk_err upk_meta_hashes_json(const uint8_t *data, size_t len, json_t **ret);

/*
 * Check data against listed hashes: every listed algorithm must be known
 * (else UPK_E_UNSUPPORTED) and match (else UPK_E_HASH); at least one hash.
 */
UPK_WUR enum upk_err upk_meta_hashes_check(const struct upk_hashes *h, const uint8_t *data,
					   size_t len, struct upk_diag *reterr_diag);
