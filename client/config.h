/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The device configuration of upkeep-client: an INI file (libinih),
 * documented key by key in upkeep-client.conf(5)
 * (client/upkeep-client.conf.5.md), default /etc/upkeep/client.conf.
 *
 * The parse is strict, because a typo in a device image must not turn into
 * a silently ignored setting: an unknown section or key, a key given twice,
 * a missing required key, a bad value, a line longer than
 * UPKC_CONFIG_MAX_LINE, a NUL byte or a syntax error is UPK_E_CONFIG (exit
 * code 2), with diag->where "<file>:<line>" (just "<file>" for a missing
 * key) and a reason that names "[section] key".
 *
 * upkc_config_parse is pure (bytes in memory, no file, clock or
 * environment); upkc_config_load reads the file and parses it.
 *
 * Adding a setting: a field here, a row in config.c's key table, a
 * paragraph in the man page, a unit test.
 *
 * THREAD SAFETY: reentrant.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define UPKC_CONFIG_DEFAULT_PATH "/etc/upkeep/client.conf"
/* Longest accepted line, newline included (libinih's line buffer). */
#define UPKC_CONFIG_MAX_LINE 199
/* Largest accepted file. */
#define UPKC_CONFIG_MAX_SIZE 65536
/* Default of [device] clock_jump_warning: 30 days. */
#define UPKC_CONFIG_CLOCK_JUMP_WARNING (30 * 86400)

struct upkc_config {
	/* [repository] */
	char *metadata_url; /* required; http:// or https:// */
	char *targets_url;  /* required; http:// or https:// */
	/* [device] */
	char *state_dir;	      /* required; absolute path */
	char *trusted_root;	      /* required; absolute path */
	int64_t clock_jump_warning_s; /* > 0 */
	/* [network]: 0 means the transport's default (client/fetch.h) */
	long connect_timeout_s;
	long low_speed_limit;  /* bytes per second */
	long low_speed_time_s; /* window of the low-speed limit */
};

/*
 * Parse `len` bytes of INI text; `name` (the file name) is used in
 * messages only. On success *ret is filled (release it with
 * upkc_config_done); on failure *ret is untouched.
 */
UPK_WUR enum upk_err upkc_config_parse(const char *text, size_t len, const char *name,
				       struct upkc_config *ret, struct upk_diag *reterr_diag);

/*
 * Read and parse the file at `path` (at most UPKC_CONFIG_MAX_SIZE bytes).
 * A file that cannot be read is UPK_E_CONFIG as well, naming the path and
 * the cause.
 */
UPK_WUR enum upk_err upkc_config_load(const char *path, struct upkc_config *ret,
				      struct upk_diag *reterr_diag);

/* Free the strings of a parsed config and zero it; a zeroed struct is accepted. */
void upkc_config_done(struct upkc_config *cfg);

static inline void upkc_config_donep(struct upkc_config *cfg)
{
	upkc_config_done(cfg);
}
