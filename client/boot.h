/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Boot control of the A/B slots (DESIGN.md "Device model"): one small ops
 * table, four backends. Every backend keeps the same four facts, in the
 * bootloader's own storage, so that the bootloader alone can fall back:
 *
 *   primary     the slot the bootloader boots (A or B)
 *   trial       a trial of `primary` is armed: the bootloader counts boots
 *   tries_left  trial boots left; a power-on with trial armed and none left
 *               boots `fallback` instead, and clears the trial
 *   fallback    the slot booted when the trial runs out (the previous one)
 *
 * Backends (upkeep-client.conf(5) [boot], tests/sim/README.md for the
 * bootloader side that tests/sim/upk-bootsim simulates faithfully):
 *
 *   file    a text file "primary=A\nfallback=B\ntrial=1\ntries_left=3\n",
 *           replaced atomically (upk_io_write_atomic)
 *   uboot   the U-Boot environment, through fw_printenv/fw_setenv of
 *           libubootenv with `-c fw_env.config` (and `-f default-env` while
 *           the environment is not valid yet), using U-Boot's bootcount
 *           scheme: upkeep_slot, upkeep_fallback, upgrade_available,
 *           bootcount, bootlimit, altbootcmd; all variables of one change
 *           written by one `fw_setenv -s` (one environment write)
 *   grub    a grubenv file, through `grub-editenv FILE set ...` (one call
 *           per change): upkeep_slot, upkeep_fallback, upkeep_trial and
 *           upkeep_tries, a string of '1's that grub.cfg shortens by one per
 *           boot (GRUB has no arithmetic)
 *   script  the configured command, run as `COMMAND read`,
 *           `COMMAND arm-trial SLOT TRIES`, `COMMAND set-good SLOT`;
 *           `read` prints the four facts as the file backend's lines
 *
 * arm_trial and set_good are each one atomic write of the boot state (as
 * far as the bootloader's storage allows: fw_setenv writes the redundant
 * environment copy, grub-editenv rewrites its 1 KiB block).
 *
 * Slots are 0 (A) and 1 (B).
 *
 * THREAD SAFETY: one boot handle per thread; the caller holds the device lock.
 */
#include <stdbool.h>

#include "config.h"
#include "err.h"
#include "util.h"

#define UPKC_SLOT_A	    0
#define UPKC_SLOT_B	    1
#define UPKC_BOOT_MAX_TRIES 16

struct upkc_boot_state {
	int primary;
	int fallback;
	bool trial;
	unsigned tries_left;
};

struct upkc_boot;

/*
 * A handle for cfg's backend (cfg must outlive it). UPK_E_CONFIG if the
 * backend's settings are missing. Nothing is read or written yet.
 */
UPK_WUR enum upk_err upkc_boot_open(const struct upkc_config *cfg, struct upkc_boot **ret,
				    struct upk_diag *reterr_diag);
void upkc_boot_free(struct upkc_boot *b);
UPK_DEFINE_CLEANUP(struct upkc_boot, upkc_boot_free)

/* The backend's name: "file", "uboot", "grub", "script". */
const char *upkc_boot_name(const struct upkc_boot *b);

/*
 * Read the boot state. A storage that holds no state yet (no file, an empty
 * environment) reads as primary A, fallback B, no trial. A state that
 * exists but is malformed (unknown slot, bad number) is UPK_E_IO naming the
 * file and the variable: the agent never guesses which slot boots.
 */
UPK_WUR enum upk_err upkc_boot_read(struct upkc_boot *b, struct upkc_boot_state *ret,
				    struct upk_diag *reterr_diag);

/* Next boot: `slot` in trial with `tries` boots (1..UPKC_BOOT_MAX_TRIES), fallback the other. */
UPK_WUR enum upk_err upkc_boot_arm_trial(struct upkc_boot *b, int slot, unsigned tries,
					 struct upk_diag *reterr_diag);

/* `slot` boots from now on, no trial (commit of a trial, or a rollback to the good slot). */
UPK_WUR enum upk_err upkc_boot_set_good(struct upkc_boot *b, int slot,
					struct upk_diag *reterr_diag);

/*
 * The slot the running system was booted from: the token `upkeep.slot=A`
 * or `upkeep.slot=B` (also `rauc.slot=A|B`) in the kernel command line
 * file `path` (/proc/cmdline on a device; the simulator writes one).
 * UPK_E_IO if the file cannot be read or holds no such token.
 */
UPK_WUR enum upk_err upkc_boot_booted_slot(const char *path, int *ret_slot,
					   struct upk_diag *reterr_diag);

/* "A" or "B". */
const char *upkc_slot_name(int slot);
/* 'A'/'a' -> 0, 'B'/'b' -> 1; false otherwise. */
bool upkc_slot_parse(const char *s, int *ret);
