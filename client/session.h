/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * One TUF metadata update of the device, shared by `refresh`, `check`,
 * `install` and `run`: the trusted metadata in STATE/metadata (pinned from
 * [device] trusted_root on the first run), the update's start time never
 * earlier than the time floor STATE/time-floor (DESIGN.md "Trust"), and
 * the floor moved forward after a refresh that succeeded.
 *
 *   STATE/time-floor   "<Unix seconds>\n": the clock reading at the last
 *                      successful refresh, written atomically
 *
 * A clock before the floor is replaced by the floor (a clock reset to 1970
 * does not revive expired metadata); a clock more than [device]
 * clock_jump_warning past the floor is used but reported on a warning line,
 * so that a "freeze" error that follows points at the clock.
 *
 * THREAD SAFETY: one session per thread.
 */
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "config.h"
#include "err.h"
#include "updater.h"

struct upkc_session {
	struct upkc_updater *u;
	struct upkc_updater_config ucfg;
	struct upk_buf md, floor_path, meta_url;
	int64_t now;   /* the clock at the start */
	int64_t floor; /* the floor before the refresh (0 if none) */
	bool have_floor;
};

/*
 * Open the trusted metadata and refresh it (§5.3-5.6). With
 * offline_metadata_dir, the metadata is read from that directory (a USB
 * stick holding the repository's metadata files) through file:// URLs,
 * with the same checks; targets then come from files too. On success the
 * floor has moved forward. On failure *s is released.
 */
UPK_WUR enum upk_err upkc_session_open(const struct upkc_config *cfg,
				       const char *offline_metadata_dir, bool verbose,
				       struct upkc_session *s, struct upk_diag *reterr_diag);
void upkc_session_close(struct upkc_session *s);

/*
 * Raise STATE/time-floor to `t` if it is later (DESIGN.md "Trust": the floor
 * is the later of the last successful refresh and the signed build time of
 * the installed release). Only a time that was signed, and so lies in the
 * past, is ever passed here.
 */
UPK_WUR enum upk_err upkc_session_raise_floor(const struct upkc_config *cfg, int64_t t,
					      struct upk_diag *reterr_diag);

/*
 * Print a failure of the client the CLI.md way, with the attack class first
 * ("rollback: ...", "freeze: ...") for verification errors; returns the
 * exit code.
 */
int upkc_report(struct upk_diag *d);

/* "2026-01-01T00:00:00Z", or "@<seconds>" for times out of range. */
void upkc_format_time(int64_t t, char out[24]);
