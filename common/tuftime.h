/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The TUF `expires` format, "YYYY-MM-DDTHH:MM:SSZ" (UTC), to and from Unix
 * seconds, without libc's time zone machinery (pure: no clock, no TZ).
 */
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
