/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The device-side bundle pipeline (issue 6, "Device side"): put one
 * component of a bundle (common/FORMAT.md) onto storage, chunk by chunk,
 * writing nothing that was not verified.
 *
 *   1. The header (bytes 0 .. header_length-1) is read by one HTTP Range
 *      request or from the file, never more than the signed header length;
 *      its SHA-256 is compared with the signed value before any parsing,
 *      then upk_bundle_header_parse checks the whole layout. The target is
 *      not opened before that, so a bad header leaves it untouched.
 *   2. Each chunk comes from, in this order: the journal (verified and
 *      synced before a previous run was interrupted), the target itself at
 *      the chunk's offset (a partial download whose journal lagged, or a
 *      slot holding an older release), a seed file re-chunked with the
 *      component's cut rule (the active slot, a model store file), else its
 *      byte range in the bundle. Neighbouring chunks to fetch (at most
 *      UPKC_INSTALL_RUN_MAX, never across a journal point) share one Range
 *      request on a kept-alive connection; each is decoded and verified as
 *      soon as its last byte arrives, so memory is one chunk and a cut
 *      transfer is retried from the first chunk not yet written. Every
 *      chunk's SHA-256 is checked before it is written with pwrite at its
 *      offset; a bad one stops the install with nothing of it written. The whole component's
 * SHA-256 is checked at the end by reading the target back.
 *   3. Every `journal_every` chunks the target is fdatasync'd and the state
 *      file replaced atomically (upk_io_write_atomic), so a kill or power
 *      cut loses at most the chunks since the last journal, and those are
 *      found again in the target by step 2 without a download.
 *
 * The client reads bundles only through offsets in the verified header (no
 * libarchive). The target is opened O_RDWR|O_CREAT (0600): a slot file or
 * block device, or a model file in a staging directory; it is not truncated
 * (a slot may be larger than the image).
 *
 * Errors: those of common/bundle.h (exit 10: FORMAT, TOO_LARGE, LENGTH,
 * HASH, UNSUPPORTED), of the transport (exit 3: NETWORK, TIMEOUT, SLOW,
 * SERVER), UPK_E_NOT_FOUND (no such component), UPK_E_USAGE (bad options),
 * UPK_E_IO, UPK_E_NOMEM. Transient network errors are retried with back-off
 * (UPKC_INSTALL_TRIES attempts per request).
 *
 * THREAD SAFETY: reentrant; one install per target at a time (the caller
 * holds the device lock).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "err.h"
#include "fetch.h"
#include "meta.h"

/*
 * A journal point (fdatasync of the target, then the state file) every 256
 * chunks (16 MiB at the 64 KiB average): a resume finds the chunks written
 * since in the target by their hashes, so a rarer journal costs a restart
 * some hashing, not downloads, and saves an install most of its syncs
 * (scripts/bench-install). Progress is reported every 16 chunks.
 */
#define UPKC_INSTALL_JOURNAL_EVERY  256
#define UPKC_INSTALL_PROGRESS_EVERY 16
#define UPKC_INSTALL_TRIES	    3
#define UPKC_INSTALL_RUN_MAX	    64 /* neighbouring chunks fetched by one Range request */
#define UPKC_INSTALL_MAX_SEEDS	    16
#define UPKC_INSTALL_STATE_MAX	    512

struct upkc_install_stats {
	uint64_t chunks;	/* in the component */
	uint64_t done;		/* chunks in place so far */
	uint64_t journaled;	/* chunks the last journal written covers */
	uint64_t from_journal;	/* skipped: journaled by an earlier run */
	uint64_t from_target;	/* already in the target at their offset */
	uint64_t from_seed;	/* copied from a seed file */
	uint64_t from_net;	/* fetched from the bundle */
	uint64_t bytes_fetched; /* bundle bytes read for chunks (header excluded) */
	uint64_t bytes_written;
	uint64_t size; /* component size */
};

typedef void (*upkc_install_progress_fn)(void *ctx, const struct upkc_install_stats *s);

struct upkc_install_opts {
	const char *bundle_url;	 /* exactly one of url and file */
	const char *bundle_file; /* a local .upk (offline install) */
	uint64_t bundle_length;	 /* the signed target length; 0 with a file: its size */
	uint64_t header_length;	 /* signed (custom.upkeep header.length) */
	uint8_t header_sha256[UPK_SHA256_LEN];
	const char *component;
	const char *target;
	const char *state; /* the journal file */
	const char *const *seeds;
	size_t n_seeds;		/* at most UPKC_INSTALL_MAX_SEEDS */
	unsigned journal_every; /* chunks; 0: UPKC_INSTALL_JOURNAL_EVERY */
	/* Neighbouring chunks per Range request, 1..UPKC_INSTALL_RUN_MAX; 0: the
	 * maximum. A kill wastes at most one run of bytes already sent. */
	unsigned max_run;
	/* A regular-file target is cut to the component's size once verified
	 * (a model file); false for a slot, which keeps its size. */
	bool truncate;
	/* With bundle_file: check the whole file's signed length (bundle_length)
	 * and every hash listed here before the target is touched, on a second
	 * thread while the seeds are indexed (UPK_E_LENGTH, UPK_E_HASH). */
	const struct upk_hashes *check_file;
	/* Called once everything is verified, just before the target is opened
	 * (the agent records there that the slot's old contents are gone); an
	 * error stops the install with the target untouched. May be NULL. */
	enum upk_err (*before_write)(void *ctx, struct upk_diag *d);
	void *before_write_ctx;
	/* NULL, or a buffer the caller keeps across the components of one bundle:
	 * the header is read into it once and re-hashed at every use. */
	struct upk_buf *header_cache;
	const struct upkc_fetch_opts *fetch; /* NULL: defaults */
	/* Called every UPKC_INSTALL_PROGRESS_EVERY chunks, at each journal point and at the end. */
	upkc_install_progress_fn progress;
	void *progress_ctx;
};

/*
 * Install o->component into o->target. *ret_stats (may be NULL) is filled
 * on success and on failure (what was done before it).
 */
UPK_WUR enum upk_err upkc_install_component(const struct upkc_install_opts *o,
					    struct upkc_install_stats *ret_stats,
					    struct upk_diag *reterr_diag);

/*
 * The journal: "upkeep-install-state 1\nheader HEX\ncomponent NAME\ndone N\n".
 * serialize writes it into buf (size >= UPKC_INSTALL_STATE_MAX), returning its
 * length (0 if it does not fit). parse accepts exactly that form for the given
 * header hash and component with N <= chunks, else UPK_E_FORMAT (*ret_done
 * untouched): a journal of another bundle or component is not trusted.
 */
size_t upkc_install_state_serialize(const uint8_t header_sha256[UPK_SHA256_LEN],
				    const char *component, uint64_t done, char *buf, size_t size);
UPK_WUR enum upk_err upkc_install_state_parse(const char *data, size_t len,
					      const uint8_t header_sha256[UPK_SHA256_LEN],
					      const char *component, uint64_t chunks,
					      uint64_t *ret_done, struct upk_diag *reterr_diag);
