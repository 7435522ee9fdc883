/* SPDX-License-Identifier: Apache-2.0 */
#include "tuftime.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#define TIME_MIN_YEAR 1970
#define TIME_MAX_YEAR 9999
/* 9999-12-31T23:59:59Z */
#define TIME_MAX 253402300799LL

/*
 * Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil). Pure arithmetic, so neither TZ nor timegm() can change
 * what an `expires` string means.
 */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *ret_y, int64_t *ret_m, int64_t *ret_d)
{
	int64_t era, doe, yoe, doy, mp, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	m = mp < 10 ? mp + 3 : mp - 9;
	*ret_d = doy - (153 * mp + 2) / 5 + 1;
	*ret_m = m;
	*ret_y = yoe + era * 400 + (m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int64_t days_in_month(int64_t y, int64_t m)
{
	static const int8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* n ASCII digits at s (no sign, no space, unlike strtol); false otherwise. */
static bool digits(const char *s, size_t n, int64_t *ret)
{
	int64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

enum upk_err upk_time_parse(const char *s, int64_t *ret)
{
	int64_t y, mo, d, h, mi, sec;

	assert(s && ret);
	/* strnlen: never read past the 21st byte of an unterminated field. */
	if (strnlen(s, UPK_TIME_STR_LEN + 1) != UPK_TIME_STR_LEN)
		return UPK_E_FORMAT;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
	    s[19] != 'Z')
		return UPK_E_FORMAT;
	if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
	    !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
		return UPK_E_FORMAT;
	if (y < TIME_MIN_YEAR || y > TIME_MAX_YEAR || mo < 1 || mo > 12 || d < 1 ||
	    d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return UPK_E_FORMAT;
	*ret = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return UPK_OK;
}

static void put_digits(char *dst, int64_t v, size_t n)
{
	while (n--) {
		dst[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

enum upk_err upk_time_format(int64_t t, char out[UPK_TIME_STR_LEN + 1])
{
	int64_t days, secs, y, m, d;

	assert(out);
	if (t < 0 || t > TIME_MAX)
		return UPK_E_FORMAT;
	days = t / 86400;
	secs = t % 86400;
	civil_from_days(days, &y, &m, &d);
	memcpy(out, "0000-00-00T00:00:00Z", UPK_TIME_STR_LEN + 1);
	put_digits(out, y, 4);
	put_digits(out + 5, m, 2);
	put_digits(out + 8, d, 2);
	put_digits(out + 11, secs / 3600, 2);
	put_digits(out + 14, secs / 60 % 60, 2);
	put_digits(out + 17, secs % 60, 2);
	return UPK_OK;
}

enum upk_err upk_duration_parse(const char *s, bool bare_is_seconds, int64_t *ret,
				struct upk_diag *reterr_diag)
{
	int64_t v = 0, mult;
	size_t i = 0;

	if (!s)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1, "no duration given");
	while (s[i] >= '0' && s[i] <= '9') {
		if (i >= 12)
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "duration '%.40s' is too long", s);
		v = v * 10 + (s[i] - '0');
		i++;
	}
	if (i > 0 && !s[i] && bare_is_seconds) {
		if (v < 1 || v > UPK_DURATION_MAX)
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "duration '%.40s' is not between 1 s and 36500 d", s);
		*ret = v;
		return UPK_OK;
	}
	if (i == 0 || !s[i] || s[i + 1])
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "duration '%.40s' is not a number with a unit s, m, h, d or w "
				    "(like 365d, 12h, 30m, 3600s)",
				    s);
	switch (s[i]) {
	case 's':
		mult = 1;
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	case 'w':
		mult = 7 * 86400;
		break;
	default:
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "duration '%.40s': unknown unit '%c' (s, m, h, d or w)", s,
				    s[i]);
	}
	if (v < 1 || v > UPK_DURATION_MAX / mult)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "duration '%.40s' is not between 1 s and 36500 d", s);
	*ret = v * mult;
	return UPK_OK;
}
