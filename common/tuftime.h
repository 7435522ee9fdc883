/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The TUF `expires` format, "YYYY-MM-DDTHH:MM:SSZ" (UTC), to and from Unix
 * seconds, without libc's time zone machinery (pure: no clock, no TZ).
 */
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define UPK_TIME_STR_LEN 20 /* "2030-01-01T00:00:00Z" */

/*
 * Strict parse: exactly 20 characters, fields in range (leap years and days
 * per month checked, seconds 00-59), years 1970-9999. UPK_E_FORMAT otherwise.
 */
UPK_WUR enum upk_err upk_time_parse(const char *s, int64_t *ret);
/* Format t (1970..9999) into out; UPK_E_FORMAT if out of range. */
UPK_WUR enum upk_err upk_time_format(int64_t t, char out[UPK_TIME_STR_LEN + 1]);

/* Longest duration accepted: 100 years. */
#define UPK_DURATION_MAX (36500 * 86400LL)

/*
 * A duration "<digits><unit>", unit one of s, m, h, d, w ("365d", "12h",
 * "30m", "3600s"), 1 s to UPK_DURATION_MAX. With bare_is_seconds a number
 * without unit counts as seconds (configuration files); otherwise it is an
 * error (command lines, where "365" is more likely a forgotten "d"). Signs,
 * spaces and other units are UPK_E_USAGE with the reason in diag.
 * *ret untouched on failure.
 */
UPK_WUR enum upk_err upk_duration_parse(const char *s, bool bare_is_seconds, int64_t *ret,
					struct upk_diag *reterr_diag);
