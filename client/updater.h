/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The TUF 1.0 client workflow (§5) with its I/O: the imperative shell
 * around the trusted metadata set of common/trust.h. It reads the trusted
 * metadata from a directory, downloads newer metadata through
 * client/fetch.h, lets trust.h decide, persists what was accepted, and
 * finds and downloads targets.
 *
 * Metadata directory: only the trusted metadata, one file per role, named
 * "<url-quoted role name>.json" (root.json, timestamp.json, snapshot.json,
 * targets.json, "%2Fdelegated.json"), each holding exactly the bytes the
 * server sent, written atomically (temporary files end in ".tmp-...", never
 * in ".json"). A rejected file never replaces a trusted one. While an
 * updater exists it holds an exclusive flock(2) on the directory itself, so
 * two updaters never interleave their writes there.
 *
 * Requests: root versions N+1... until 404/403 (at most
 * UPK_TRUST_MAX_ROOT_ROTATIONS), then timestamp.json; snapshot and targets
 * only when the stored copies are not current; delegated roles only when a
 * target search reaches them and no current stored copy exists. With
 * consistent snapshots, metadata is fetched as "<version>.<role>.json" and
 * targets as "<dir>/<sha256 or sha512 hex>.<basename>". Role names are
 * URL-quoted into one path segment; the metadata base URL is used verbatim
 * (a '/' is added if it does not end with one).
 *
 * Size bounds: root 512,000 B, timestamp 16,384 B, snapshot 2,000,000 B,
 * targets roles 5,000,000 B, or the length the referring metadata lists
 * when it is smaller; targets exactly their signed length.
 *
 * Time: the caller passes the update's start time (§5.1), read from the
 * system clock; every expiry check of this updater uses it.
 *
 * THREAD SAFETY: an updater belongs to one thread.
 */
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "fetch.h"
#include "meta.h"
#include "trust.h"

struct upkc_updater_config {
	const char *metadata_dir;    /* required */
	const char *metadata_url;    /* required for refresh and targets */
	const char *target_base_url; /* required for downloads */
	const char *target_dir;	     /* required for downloads and the cache */
	struct upkc_fetch_opts fetch;
	bool verbose; /* one line per request and decision on stderr */
};

struct upkc_updater;

/*
 * Pin a trusted root (the conformance protocol's `init`): the bytes must be
 * root metadata signed by a threshold of its own root keys (its expiry does
 * not matter); they are written as metadata_dir/root.json, byte for byte.
 * metadata_dir is created if missing. Other files there are left alone.
 */
UPK_WUR enum upk_err upkc_updater_pin_root(const char *metadata_dir, const uint8_t *root,
					   size_t len, int64_t now, struct upk_diag *reterr_diag);

/*
 * Load metadata_dir/root.json as the trusted root (§5.2) and lock the
 * directory. cfg and its strings must outlive the updater. No request is
 * made. *ret untouched on failure.
 */
UPK_WUR enum upk_err upkc_updater_new(const struct upkc_updater_config *cfg, int64_t now,
				      struct upkc_updater **ret, struct upk_diag *reterr_diag);
void upkc_updater_free(struct upkc_updater *u);

/*
 * §5.3-5.6: update root, timestamp, snapshot and top-level targets. Done
 * once per updater; later calls return the first result. Metadata accepted
 * before a failure stays trusted and persisted.
 */
UPK_WUR enum upk_err upkc_updater_refresh(struct upkc_updater *u, struct upk_diag *reterr_diag);

/*
 * §5.6.7: the target entry for `path`, refreshing first if needed, loading
 * delegated roles as the search reaches them. UPK_E_NOT_FOUND if no role
 * on the search path lists it. *ret_target points into metadata the
 * updater owns (valid until upkc_updater_free).
 */
UPK_WUR enum upk_err upkc_updater_find_target(struct upkc_updater *u, const char *path,
					      const struct upk_target **ret_target,
					      struct upk_diag *reterr_diag);

/*
 * Where a target is stored in target_dir: the whole target path URL-quoted
 * into one file name (python-tuf's default), appended to out.
 * UPK_E_FORMAT for a path that would name "", "." or "..".
 */
UPK_WUR enum upk_err upkc_updater_target_file(const struct upkc_updater *u,
					      const struct upk_target *target, struct upk_buf *out,
					      struct upk_diag *reterr_diag);

/*
 * True if the target's file in target_dir has the signed length and every
 * listed hash (so it need not be downloaded again). Never an error: a file
 * that cannot be read is simply not cached.
 */
bool upkc_updater_is_cached(const struct upkc_updater *u, const struct upk_target *target);

/*
 * §5.7: download the target to its file in target_dir: never more than its
 * signed length, every listed hash checked (an unknown hash algorithm is
 * UPK_E_UNSUPPORTED before any request), streamed through the hashes into
 * a temporary file that replaces the target file only when all checks
 * pass. On failure nothing is left behind and an older file stays as it was.
 */
UPK_WUR enum upk_err upkc_updater_download_target(struct upkc_updater *u,
						  const struct upk_target *target,
						  struct upk_diag *reterr_diag);

/*
 * Append the URL target is downloaded from (target_base_url, with the
 * digest prefix of consistent snapshots) to out. UPK_E_USAGE without a
 * target base URL.
 */
UPK_WUR enum upk_err upkc_updater_target_url(const struct upkc_updater *u,
					     const struct upk_target *target, struct upk_buf *out);

/*
 * The top-level targets metadata, refreshing first if needed (the device
 * agent looks for its newest release there).
 */
UPK_WUR enum upk_err upkc_updater_top_targets(struct upkc_updater *u,
					      const struct upk_meta **ret_meta,
					      struct upk_diag *reterr_diag);

/*
 * The trusted metadata set (common/trust.h), for reporting what is trusted
 * (versions, expiry) after a refresh. Owned by the updater.
 */
const struct upk_trust *upkc_updater_trust(const struct upkc_updater *u);

/* Requests made so far. */
unsigned long upkc_updater_requests(const struct upkc_updater *u);

/*
 * URL quoting: bytes outside A-Z a-z 0-9 "-._~" and outside `safe` become
 * "%XX" (upper-case hex), as Python's urllib.parse.quote(s, safe) does.
 */
UPK_WUR enum upk_err upkc_url_quote(const char *s, const char *safe, struct upk_buf *out);

UPK_DEFINE_CLEANUP(struct upkc_updater, upkc_updater_free)
