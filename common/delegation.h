/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Target search through delegations (TUF 1.0 §5.6.7), as pure decisions:
 * which delegated roles a target path belongs to, and in which order the
 * roles are visited. The caller loads and verifies each role's metadata
 * (trust.h) between the steps, so this module never sees bytes from the
 * network.
 *
 * Path patterns (`paths`) follow the specification's PATHPATTERN rule as
 * python-tuf implements it: pattern and target path are split at '/', must
 * have the same number of segments, and each segment must match with
 * Python's fnmatch rules (case-sensitive):
 *   `*`      any run of characters (never a '/', since segments hold none),
 *   `?`      exactly one character,
 *   `[...]`  one character of the set, `[!...]` one character outside it;
 *            `a-z` ranges by code point, a `]` first in the set is literal,
 *            a range whose ends are reversed is empty, `[]` or `[!]` without
 *            a closing `]` is a literal `[`, and nothing is escaped (`\`
 *            is an ordinary character).
 * Characters are Unicode code points (UTF-8); an input that is not valid
 * UTF-8 matches nothing (nor does anything when memory runs out: matching
 * allocates for long patterns and paths, and a failure is "no match").
 *
 * `path_hash_prefixes` match when the lower-case hex SHA-256 of the target
 * path starts with one of them. TAP 15 succinct hashed bins map the path to
 * exactly one bin, taken from the first bit_length bits of the same hash;
 * python-tuf treats every bin as terminating, and so does this module.
 *
 * The walk is a pre-order depth-first search: the top-level "targets" role
 * first, then each matching delegation in order of appearance, each one's
 * own delegations before its later siblings; a role already visited is
 * skipped (cycles are harmless); a terminating delegation drops every role
 * still waiting outside its own subtree (its earlier matching siblings
 * stay); at most `max_roles` roles are visited.
 *
 * THREAD SAFETY: reentrant; a walk belongs to one thread.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hash.h"
#include "meta.h"

/* Roles a search visits at most, the top-level targets role included. */
#define UPK_DELEG_MAX_ROLES 32

/*
 * True if `pattern` matches the target path `path` (both NUL-terminated),
 * segment by segment as described above.
 */
bool upk_deleg_path_match(const char *pattern, const char *path);

/*
 * True if the delegated role is responsible for the target: one of its
 * `paths` patterns matches, or one of its `path_hash_prefixes` is a prefix
 * of the hex digest of path_sha256 (the SHA-256 of the target path).
 */
bool upk_deleg_role_matches(const struct upk_delegated_role *role, const char *path,
			    const uint8_t path_sha256[UPK_SHA256_LEN]);

/*
 * Name of the succinct bin holding the target whose path hashes to
 * path_sha256: "<name_prefix>-<bin in hex>", zero-padded to as many digits
 * as the last bin needs. Returns a malloc'd string (NULL when out of memory
 * or if bit_length is outside 1..32).
 */
char *upk_deleg_succinct_bin(const struct upk_succinct_roles *succinct,
			     const uint8_t path_sha256[UPK_SHA256_LEN]);

struct upk_walk_item {
	const char *role;      /* role to visit (points into `owned` or a meta) */
	const char *delegator; /* the role whose delegation leads here */
	char *owned;	       /* a succinct bin name this item owns, or NULL */
};

/*
 * One target search. Role and delegator names point into the metadata
 * passed to upk_walk_visit (which must outlive the walk) or into strings
 * the walk owns until upk_walk_done.
 */
struct upk_walk {
	const char *path;
	uint8_t path_sha256[UPK_SHA256_LEN];
	size_t max_roles;
	struct upk_walk_item *stack; /* roles waiting, next on top */
	size_t n_stack, cap_stack;
	struct upk_walk_item *visited;
	size_t n_visited, cap_visited;
	struct upk_walk_item cur; /* returned by next, not visited yet */
	bool has_cur;
};

/*
 * Start a search for `path` (borrowed; must outlive the walk) visiting at
 * most max_roles roles (UPK_DELEG_MAX_ROLES is the product's bound). The
 * first role is "targets", delegated by "root". UPK_E_NOMEM or
 * UPK_E_INTERNAL (hashing failed); the walk needs upk_walk_done either way.
 */
UPK_WUR enum upk_err upk_walk_init(struct upk_walk *w, const char *path, size_t max_roles);

/*
 * Next role to load: false when the search is over (nothing left to visit,
 * or max_roles visited). Roles already visited are skipped here. The
 * caller loads the returned role, verified against `ret_delegator`, and
 * passes its metadata to upk_walk_visit.
 */
bool upk_walk_next(struct upk_walk *w, const char **ret_role, const char **ret_delegator);

/*
 * Look for the target in `role_meta`, the metadata of the role that
 * upk_walk_next returned last. If listed there, *ret_target points to its
 * entry (in role_meta) and the search is over; otherwise *ret_target is
 * NULL and the role's matching delegations are queued. UPK_E_NOMEM;
 * UPK_E_INTERNAL if no role is waiting to be visited.
 */
UPK_WUR enum upk_err upk_walk_visit(struct upk_walk *w, const struct upk_meta *role_meta,
				    const struct upk_target **ret_target);

/* Number of roles visited so far. */
size_t upk_walk_visited(const struct upk_walk *w);

void upk_walk_done(struct upk_walk *w);

static inline void upk_walk_donep(struct upk_walk *w)
{
	upk_walk_done(w);
}
#define _cleanup_walk_ _cleanup_(upk_walk_donep)
