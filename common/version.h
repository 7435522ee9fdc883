/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Release versions: Semantic Versioning 2.0.0 parse and precedence compare.
 * Security versions (the anti-rollback floors) are plain non-negative
 * integers and compare as such.
 */
#include <stdint.h>

#include "err.h"

#define UPK_SEMVER_MAX_LEN 128

struct upk_semver {
	uint64_t major, minor, patch;
	char pre[UPK_SEMVER_MAX_LEN];	/* pre-release identifiers without '-', "" if none */
	char build[UPK_SEMVER_MAX_LEN]; /* build metadata without '+', ignored by compare */
};

/*
 * Strict SemVer 2.0.0: no leading zeros in numeric fields or numeric
 * pre-release identifiers, no empty identifiers, [0-9A-Za-z-] only, numbers
 * (major, minor, patch and numeric pre-release identifiers) fit in 64 bits,
 * whole string at most UPK_SEMVER_MAX_LEN - 1 characters.
 * UPK_E_FORMAT otherwise; *ret untouched on failure.
 */
UPK_WUR enum upk_err upk_semver_parse(const char *s, struct upk_semver *ret);

/* Precedence compare (SemVer §11): <0, 0, >0. Build metadata is ignored. */
int upk_semver_cmp(const struct upk_semver *a, const struct upk_semver *b);

/* Decimal security version, 0..2^63-1, no sign, no leading zeros. */
UPK_WUR enum upk_err upk_secver_parse(const char *s, uint64_t *ret);
