/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The AI model store (DESIGN.md "Device model"):
 *
 *   DIR/<name>/<version>/<name>    the model file of one version
 *   DIR/<name>/current             symlink "<version>": the version in use
 *   DIR/<name>/previous            symlink "<version>": the fallback
 *
 * Applications open DIR/<name>/current/<name>. `current` is switched by
 * creating a new symlink under a temporary name and rename(2)ing it over
 * the old one, then fsyncing the directory: a reader sees the old or the
 * new version, never neither, and a power cut leaves one of the two.
 *
 * Names are bundle component names (upk_bundle_name_is_valid), versions
 * SemVer 2.0.0 strings; anything else is UPK_E_USAGE before any file
 * operation, so no name can climb out of DIR.
 *
 * DIR/<name> and the version directories must be real directories (a
 * symlink in their place is UPK_E_IO), so nothing is followed out of DIR.
 * Temporary links left by a crash mid-swap (".current.tmp-*",
 * ".previous.tmp-*") are removed by activate, revert and prune.
 *
 * Errors: UPK_E_USAGE for a bad name or version (nothing touched);
 * UPK_E_NOT_FOUND when the version to activate or revert to, or its model
 * file, is not there; UPK_E_IO (naming the path) for a store this module
 * did not leave so: a symlink in place of a directory, a link that is not
 * a symlink to an existing version directory, a version directory holding
 * anything but regular files (prune).
 *
 * THREAD SAFETY: reentrant; the caller holds the device lock.
 */
#include <stdbool.h>

#include "buf.h"
#include "err.h"

/*
 * Create DIR/<name>/<version>/ (and parents, 0755) and append the path of
 * the model file DIR/<name>/<version>/<name> to out. The file itself is
 * written by the install pipeline.
 */
UPK_WUR enum upk_err upkc_models_stage(const char *dir, const char *name, const char *version,
				       struct upk_buf *out, struct upk_diag *reterr_diag);

/*
 * Append the version `current` (or `previous`) points to, to out; *ret_have
 * false (out untouched) if there is no such link. A link that does not name
 * an existing version directory is UPK_E_IO.
 */
UPK_WUR enum upk_err upkc_models_current(const char *dir, const char *name, struct upk_buf *out,
					 bool *ret_have, struct upk_diag *reterr_diag);
UPK_WUR enum upk_err upkc_models_previous(const char *dir, const char *name, struct upk_buf *out,
					  bool *ret_have, struct upk_diag *reterr_diag);

/*
 * Make `version` current; the version current before (if any and if
 * different) becomes `previous`. The version's file must exist. Each link
 * is replaced atomically; `previous` is written first, so a cut between
 * the two leaves current as it was.
 */
UPK_WUR enum upk_err upkc_models_activate(const char *dir, const char *name, const char *version,
					  struct upk_diag *reterr_diag);

/*
 * Undo an activation: `current` := `version` (the one to restore), or,
 * with version NULL, remove `current` (the model was new). `previous` is
 * left alone.
 */
UPK_WUR enum upk_err upkc_models_revert(const char *dir, const char *name, const char *version,
					struct upk_diag *reterr_diag);

/*
 * Delete every version directory of `name` that neither `current` nor
 * `previous` names, nor `keep` (may be NULL: a version staged for a trial).
 * Entries that are not version directories are left alone. Nothing is
 * deleted if `current` or `previous` cannot be read; a version directory
 * holding anything but regular files is refused whole (UPK_E_IO), and the
 * versions after it are left for the next prune.
 */
UPK_WUR enum upk_err upkc_models_prune(const char *dir, const char *name, const char *keep,
				       struct upk_diag *reterr_diag);
