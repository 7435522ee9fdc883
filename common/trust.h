/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The trusted metadata set of a TUF 1.0 client: every decision of the
 * specification's client workflow (§5), on bytes in memory, with the time
 * of the update given by the caller (§5.1). No files, network or clock: the
 * caller (client/updater.c) downloads, hands the bytes over, and persists
 * exactly the bytes that were accepted. python-tuf's TrustedMetadataSet
 * (tuf/ngclient/_internal/trusted_metadata_set.py) is the reference for
 * behaviour the specification leaves open.
 *
 * Order of use, as the workflow goes:
 *   upk_trust_new (trusted root, §5.2)
 *   upk_trust_update_root, once per newer root (§5.3.3-5.3.8)
 *   upk_trust_check_root (§5.3.10), upk_trust_has_rotated_online_keys (§5.3.11)
 *   upk_trust_load_timestamp (the stored copy, if any), upk_trust_update_timestamp (§5.4)
 *   upk_trust_load_snapshot (the stored copy, if any), upk_trust_update_snapshot (§5.5)
 *   upk_trust_update_targets for "targets" and, during a target search,
 *   for delegated roles (§5.6); upk_trust_get_targets for roles already loaded.
 * Calls out of this order are programming errors: UPK_E_INTERNAL.
 *
 * Every update either accepts the new metadata completely or leaves the set
 * exactly as it was (the spec's "discard it"): a rejected file never
 * replaces a trusted one. Metadata objects returned by the getters belong
 * to the set; a top-level one stays valid until the next update of that
 * role, a targets role until upk_trust_free (roles are never replaced).
 *
 * Stored copies ("load"): the trusted timestamp and snapshot kept from the
 * previous run serve as the rollback reference of §5.4.3 and §5.5.5 even
 * when they are no longer current. They must verify with the current root
 * (after a key rotation they do not, and are ignored: python-tuf's
 * fast-forward recovery); expiry and version against timestamp do not
 * matter for that use, but an expired or outdated snapshot is not "final":
 * a newer one must be downloaded before targets can be loaded.
 *
 * Errors (diag->where names the role, diag->reason the check):
 *   UPK_E_FORMAT / UPK_E_TOO_LARGE   not parseable metadata of that type
 *   UPK_E_THRESHOLD                  not signed by a threshold of keys
 *   UPK_E_ROLLBACK                   version lower than trusted, or not the
 *                                    version the referring metadata lists
 *   UPK_E_EXPIRED                    expired at the update's start time
 *   UPK_E_LENGTH / UPK_E_HASH        not the length or hash listed
 *   UPK_E_UNSUPPORTED                a listed hash algorithm is unknown
 *   UPK_E_NOT_FOUND                  role missing from snapshot, or not
 *                                    delegated by the given delegator
 *   UPK_E_NOMEM, UPK_E_INTERNAL
 *
 * THREAD SAFETY: a set belongs to one thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "meta.h"

/* Root versions one update may advance through (python-tuf's max_root_rotations). */
#define UPK_TRUST_MAX_ROOT_ROTATIONS 256

struct upk_trust;

/*
 * §5.2: start from a trusted root: it must parse and carry a threshold of
 * signatures of its own root keys; its expiry does not matter yet. `now`
 * is the update's start time (Unix seconds) for every expiry check of this
 * set. *ret untouched on failure.
 */
UPK_WUR enum upk_err upk_trust_new(const uint8_t *root, size_t len, int64_t now,
				   struct upk_trust **ret, struct upk_diag *reterr_diag);
void upk_trust_free(struct upk_trust *t);

int64_t upk_trust_now(const struct upk_trust *t);

/* Trusted metadata; NULL when the role is not loaded. */
const struct upk_meta *upk_trust_root(const struct upk_trust *t);
const struct upk_meta *upk_trust_timestamp(const struct upk_trust *t);
const struct upk_meta *upk_trust_snapshot(const struct upk_trust *t);

/*
 * §5.3.3-5.3.8: accept root version N+1. It must be signed by a threshold
 * of the trusted root's root keys and by a threshold of its own, and carry
 * version exactly N+1; its expiry does not matter (checked on the final
 * root, §5.3.10). Only while upk_trust_wants_root is true.
 */
UPK_WUR enum upk_err upk_trust_update_root(struct upk_trust *t, const uint8_t *data, size_t len,
					   struct upk_diag *reterr_diag);

/*
 * §5.3.3: true while another root version may be fetched: no timestamp is
 * loaded yet and fewer than UPK_TRUST_MAX_ROOT_ROTATIONS roots were
 * accepted by this set (a bound on the work a repository can cause).
 * upk_trust_update_root refuses (UPK_E_INTERNAL) once this is false.
 */
bool upk_trust_wants_root(const struct upk_trust *t);

/* §5.3.10: UPK_E_EXPIRED if the trusted (final) root has expired. */
UPK_WUR enum upk_err upk_trust_check_root(const struct upk_trust *t, struct upk_diag *reterr_diag);

/*
 * §5.3.11: true if a root accepted by this set changed the keys (key ids,
 * key material) or threshold of the timestamp or snapshot role: the stored
 * timestamp and snapshot must then be deleted, not loaded (recovery from a
 * fast-forward attack).
 */
bool upk_trust_has_rotated_online_keys(const struct upk_trust *t);

/*
 * The stored timestamp, as rollback reference: it must parse and verify
 * with the trusted root; expiry does not matter. Only when no timestamp is
 * loaded.
 */
UPK_WUR enum upk_err upk_trust_load_timestamp(struct upk_trust *t, const uint8_t *data, size_t len,
					      struct upk_diag *reterr_diag);

/*
 * §5.4: a downloaded timestamp. Checks the final root's expiry (§5.3.10),
 * signatures (§5.4.2), versions against the trusted timestamp (§5.4.3) and
 * expiry (§5.4.4). A version equal to the trusted one is no error: the
 * trusted copy is kept and *ret_updated is false (nothing to persist, and
 * snapshot and targets need no download). Otherwise *ret_updated is true
 * and the new timestamp is trusted. Only before a snapshot is loaded.
 */
UPK_WUR enum upk_err upk_trust_update_timestamp(struct upk_trust *t, const uint8_t *data,
						size_t len, bool *ret_updated,
						struct upk_diag *reterr_diag);

/*
 * §5.4.4 for the trusted timestamp (which may be a stored copy kept because
 * the repository serves the same version): UPK_E_EXPIRED if it expired,
 * UPK_E_INTERNAL if none is loaded. Lets the caller stop before
 * downloading a snapshot that could not be accepted.
 */
UPK_WUR enum upk_err upk_trust_check_timestamp(const struct upk_trust *t,
					       struct upk_diag *reterr_diag);

/*
 * The timestamp's META entry for "snapshot.json" (version, and maybe length
 * and hashes); NULL when no timestamp is loaded.
 */
const struct upk_metafile *upk_trust_snapshot_meta(const struct upk_trust *t);

/*
 * The stored snapshot, as rollback reference: the trusted timestamp must
 * not be expired; the snapshot must parse and verify with the trusted root.
 * Its hashes are not checked (it was checked when first accepted). On
 * success *ret_final says whether it can serve as the final snapshot (not
 * expired, and the version the timestamp lists): if so no download is
 * needed. Only when no snapshot is loaded.
 */
UPK_WUR enum upk_err upk_trust_load_snapshot(struct upk_trust *t, const uint8_t *data, size_t len,
					     bool *ret_final, struct upk_diag *reterr_diag);

/*
 * §5.5: a downloaded snapshot: the trusted timestamp must not be expired
 * (§5.4.4); length and hashes as the timestamp lists them (§5.5.2),
 * signatures (§5.5.3), version as the timestamp lists it (§5.5.4), no
 * targets role of the trusted snapshot removed or lowered (§5.5.5), expiry
 * (§5.5.6). Only before any targets role is loaded.
 */
UPK_WUR enum upk_err upk_trust_update_snapshot(struct upk_trust *t, const uint8_t *data, size_t len,
					       struct upk_diag *reterr_diag);

/*
 * The snapshot's META entry for targets role `role` ("<role>.json"); NULL
 * if no snapshot is loaded or it does not list the role.
 */
const struct upk_metafile *upk_trust_targets_meta(const struct upk_trust *t, const char *role);

/*
 * §5.6: targets metadata for `role`, delegated by `delegator` ("root" for
 * the top-level "targets"; otherwise a targets role already loaded). The
 * snapshot must be final (not expired, the version the timestamp lists)
 * and list the role; then length and hashes as listed (§5.6.2), signatures
 * by the delegator's keys for the role (§5.6.3), version as listed
 * (§5.6.4), expiry (§5.6.5). Used for stored copies and downloads alike.
 * A role already loaded is UPK_E_INTERNAL (use upk_trust_get_targets).
 * On success *ret_meta (if not NULL) is the role's metadata.
 */
UPK_WUR enum upk_err upk_trust_update_targets(struct upk_trust *t, const char *role,
					      const char *delegator, const uint8_t *data,
					      size_t len, const struct upk_meta **ret_meta,
					      struct upk_diag *reterr_diag);

/*
 * A targets role already loaded, reached through `delegator`: *ret_meta is
 * its metadata, or NULL if the role is not loaded (then load it with
 * upk_trust_update_targets). A role is trusted through a delegation, not by
 * its name: if it was loaded through another delegator, its signatures are
 * verified again against this delegator's keys and threshold for it
 * (python-tuf skips this; the conformance suite's
 * test_cached_role_is_verified_against_current_delegator checks it).
 * Verification errors as for upk_trust_update_targets; *ret_meta untouched
 * on failure.
 */
UPK_WUR enum upk_err upk_trust_get_targets(struct upk_trust *t, const char *role,
					   const char *delegator, const struct upk_meta **ret_meta,
					   struct upk_diag *reterr_diag);

UPK_DEFINE_CLEANUP(struct upk_trust, upk_trust_free)
