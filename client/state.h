/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The device state of the agent (DESIGN.md "Device model"): STATE/device.json,
 * one JSON object replaced atomically (upk_io_write_atomic: temp, fsync,
 * rename, fsync dir) at every change, so a power cut leaves the old state or
 * the new one.
 *
 *   {"format": 1,
 *    "active": "A",                      the committed slot
 *    "firmware": {"version": "1.1.0", "release": "cam-1.1.0.upk",
 *                 "security_version": 3, "floor": 3},
 *    "support_end": "2030-12-31" | null,
 *    "slots": {"A": {"status": "good", "version": "1.1.0"},
 *              "B": {"status": "bad", "version": "1.2.0"}},
 *    "models": {"detector": {"version": "1.1.0", "floor": 3}},
 *    "failed": ["cam-1.2.0.upk"],        releases rolled back (newest last, at
 *                                        most UPKC_STATE_MAX_FAILED): `run` does
 *                                        not retry them by itself
 *    "trial": null | {"phase": "staged" | "armed" | "models",
 *                     "slot": "B" | null, "release": "...", "version": "1.2.0",
 *                     "security_version": 4, "support_end": ... | null,
 *                     "firmware": true|false,
 *                     "models": [{"name", "version", "previous": V | null}],
 *                     "started": "2026-11-26T10:00:00Z"}}
 *
 * Floors (anti-rollback): `firmware.floor` and each model's `floor` are the
 * highest security version committed for that component; they are raised
 * only on commit and never lowered. A release is refused (exit 12) if its
 * security version is below the floor of any component it carries.
 *
 * Trial phases: "staged" (components written and verified, boot not yet
 * armed), "armed" (the bootloader boots the new slot in trial), "models"
 * (a release without firmware: models switched, self-test not passed yet).
 *
 * upkc_state_parse/serialize are pure; load/save do the file.
 * THREAD SAFETY: reentrant; the caller holds STATE/lock.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "version.h"

#define UPKC_STATE_MAX_MODELS  64
#define UPKC_STATE_MAX_SIZE    (256 * 1024)
#define UPKC_STATE_NAME_MAX    65  /* 64 bytes and NUL */
#define UPKC_STATE_RELEASE_MAX 256 /* a target path */
#define UPKC_STATE_MAX_FAILED  16

enum upkc_slot_status {
	UPKC_SLOT_EMPTY, /* nothing verified in it */
	UPKC_SLOT_GOOD,	 /* booted and committed at `version` */
	UPKC_SLOT_BAD,	 /* `version` failed its trial */
	UPKC_SLOT_STAGED /* `version` written and verified, trial not committed */
};

enum upkc_trial_phase {
	UPKC_TRIAL_NONE,
	UPKC_TRIAL_STAGED,
	UPKC_TRIAL_ARMED,
	UPKC_TRIAL_MODELS,
};

struct upkc_state_slot {
	enum upkc_slot_status status;
	char version[UPK_SEMVER_MAX_LEN]; /* "" when empty */
};

struct upkc_state_model {
	char name[UPKC_STATE_NAME_MAX];
	char version[UPK_SEMVER_MAX_LEN];
	uint64_t floor;
};

struct upkc_trial_model {
	char name[UPKC_STATE_NAME_MAX];
	char version[UPK_SEMVER_MAX_LEN];
	char previous[UPK_SEMVER_MAX_LEN]; /* "" when the model is new */
};

struct upkc_state_trial {
	enum upkc_trial_phase phase;
	bool firmware; /* the release carries firmware (then slot is set) */
	int slot;      /* the slot on trial; -1 without firmware */
	char release[UPKC_STATE_RELEASE_MAX];
	char version[UPK_SEMVER_MAX_LEN];
	uint64_t security_version;
	char support_end[11]; /* "" if none */
	size_t n_models;
	struct upkc_trial_model models[UPKC_STATE_MAX_MODELS];
	int64_t started;
};

struct upkc_state {
	int active;				 /* 0 (A) or 1 (B) */
	char fw_version[UPK_SEMVER_MAX_LEN];	 /* of the active slot */
	char fw_release[UPKC_STATE_RELEASE_MAX]; /* "" for the factory image */
	uint64_t fw_security_version;		 /* of the active release */
	uint64_t fw_floor;			 /* anti-rollback floor */
	char support_end[11];			 /* "" if none */
	struct upkc_state_slot slots[2];
	size_t n_models;
	struct upkc_state_model models[UPKC_STATE_MAX_MODELS];
	size_t n_failed;
	char failed[UPKC_STATE_MAX_FAILED][UPKC_STATE_RELEASE_MAX];
	struct upkc_state_trial trial;
};

/* A fresh state: `active` good at `factory_version`, floors 0, no trial. */
void upkc_state_init(struct upkc_state *st, int active, const char *factory_version);

/*
 * Parse device.json bytes strictly (unknown members, bad slots, versions
 * that are not SemVer, a trial inconsistent with its phase: UPK_E_FORMAT
 * naming the member). *ret untouched on failure.
 */
UPK_WUR enum upk_err upkc_state_parse(const uint8_t *data, size_t len, struct upkc_state *ret,
				      struct upk_diag *reterr_diag);
UPK_WUR enum upk_err upkc_state_serialize(const struct upkc_state *st, struct upk_buf *out);

/*
 * Load `path`; *ret_have false (ret untouched) if it does not exist. A file
 * that exists but does not parse is UPK_E_IO naming it ("damaged device
 * state"): the agent never guesses.
 */
UPK_WUR enum upk_err upkc_state_load(const char *path, struct upkc_state *ret, bool *ret_have,
				     struct upk_diag *reterr_diag);
UPK_WUR enum upk_err upkc_state_save(const char *path, const struct upkc_state *st,
				     struct upk_diag *reterr_diag);

/* Remember a release that was rolled back (the oldest entry goes when full). */
void upkc_state_add_failed(struct upkc_state *st, const char *release);
bool upkc_state_has_failed(const struct upkc_state *st, const char *release);

/* The model entry named `name`, or NULL. */
struct upkc_state_model *upkc_state_model(struct upkc_state *st, const char *name);

const char *upkc_slot_status_name(enum upkc_slot_status s);
const char *upkc_trial_phase_name(enum upkc_trial_phase p);
