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
 * key) and a reason that names "[section] key". So are, at the line of the
 * key refused, a [boot] key of another backend than [boot] backend (or with
 * no backend: "[boot] grubenv is only used with backend = grub") and
 * [slots] a and b on the same path (compared as strings).
 *
 * Only [repository] and [device] state_dir/trusted_root are required at
 * parse time, which is all `refresh` needs; the device agent's commands
 * call upkc_config_check_agent for the rest. A key not given gets its
 * default (below, and in the man page); a string default is a heap copy
 * like a given value, so every string field is NULL or owned.
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
/* Defaults and bounds of the device agent's keys (upkeep-client.conf(5)). */
#define UPKC_CONFIG_FACTORY_VERSION  "0.0.0"
#define UPKC_CONFIG_CMDLINE	     "/proc/cmdline"
#define UPKC_CONFIG_TRIAL_BOOTS	     3
#define UPKC_CONFIG_MAX_TRIAL_BOOTS  16 /* = UPKC_BOOT_MAX_TRIES */
#define UPKC_CONFIG_HEALTH_TIMEOUT   60
#define UPKC_CONFIG_SELFTEST_TIMEOUT 60
#define UPKC_CONFIG_POLL_INTERVAL    3600
#define UPKC_CONFIG_POSTPONE_MAX     (7 * 86400)
#define UPKC_CONFIG_MAX_POSTPONE     (30 * 86400)

enum upkc_boot_backend {
	UPKC_BOOT_NONE = 0,
	UPKC_BOOT_FILE,
	UPKC_BOOT_UBOOT,
	UPKC_BOOT_GRUB,
	UPKC_BOOT_SCRIPT,
};

struct upkc_config {
	/* [repository] */
	char *metadata_url; /* required; http:// or https:// */
	char *targets_url;  /* required; http:// or https:// */
	/* [device] */
	char *state_dir;	      /* required; absolute path */
	char *trusted_root;	      /* required; absolute path */
	int64_t clock_jump_warning_s; /* > 0 */
	char *product;		      /* the product this device is; required by the agent */
	char *hardware;		      /* this device's hardware id; required by the agent */
	char *factory_version;	      /* SemVer of the image in the slot at provisioning; "0.0.0" */
	/* [slots]: the A/B firmware slots (block devices or files), absolute paths */
	char *slot_a;
	char *slot_b;
	/* [boot] */
	enum upkc_boot_backend boot_backend; /* NONE when the key is absent */
	char *boot_file;		     /* file: the boot-state file */
	char *uboot_config;		     /* uboot: fw_env.config for fw_printenv/fw_setenv */
	char *uboot_default_env; /* uboot: optional default environment (fw_setenv -f) */
	char *grubenv;		 /* grub: the grubenv file */
	char *boot_script;	 /* script: the command (run with /bin/sh -c) */
	char *cmdline;		 /* where "upkeep.slot=A|B" is read; "/proc/cmdline" */
	long trial_boots;	 /* boots a trial may take before the fallback; 1..16, 3 */
	char *reboot_command; /* optional (run with /bin/sh -c): after arming a trial or a rollback
			       */
	/* [health] */
	char *health_command;	  /* optional: exit 0 = healthy */
	int64_t health_timeout_s; /* 60; at most a day */
	/* [models] */
	char *models_dir;	    /* optional: the model store */
	char *selftest_command;	    /* optional: exit 0 = the model works */
	int64_t selftest_timeout_s; /* 60; at most a day */
	/* [policy] */
	bool security_updates;	 /* automatic security updates; true (the CRA default) */
	bool feature_updates;	 /* automatic feature updates; false */
	int64_t poll_interval_s; /* `run`: time between checks; 3600 */
	int64_t postpone_max_s;	 /* longest a security update may be postponed; 7 d, <= 30 d */
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

/*
 * The device agent's commands (install, boot, commit, rollback, status,
 * check, run) need more than `refresh`: [device] product and hardware,
 * [slots] a and b, [boot] backend and the backend's own key (file: file,
 * uboot: fw_env_config, grub: grubenv, script: script). UPK_E_CONFIG with
 * diag->where the file (`name`) and a reason naming the first missing key
 * ("[device] product is required by the device agent"). Pure: no file
 * named in cfg is looked at. cfg comes from upkc_config_parse/_load.
 */
UPK_WUR enum upk_err upkc_config_check_agent(const struct upkc_config *cfg, const char *name,
					     struct upk_diag *reterr_diag);

/* Free the strings of a parsed config and zero it; a zeroed struct is accepted. */
void upkc_config_done(struct upkc_config *cfg);

static inline void upkc_config_donep(struct upkc_config *cfg)
{
	upkc_config_done(cfg);
}
