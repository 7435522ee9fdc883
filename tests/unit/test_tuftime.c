/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for common/tuftime: the strict TUF `expires` format, leap years,
 * field ranges, and round trips against values computed independently
 * (GNU date -u -d ... +%s).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tuftime.h"

static int64_t parse_ok(const char *s)
{
	int64_t t = -1;

	assert_int_equal(upk_time_parse(s, &t), UPK_OK);
	return t;
}

static void parse_bad(const char *s)
{
	int64_t t = 12345;

	print_message("rejecting \"%s\"\n", s);
	assert_int_equal(upk_time_parse(s, &t), UPK_E_FORMAT);
	assert_int_equal(t, 12345);
}

static void test_known_values(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
	assert_int_equal(parse_ok("1970-01-01T00:00:01Z"), 1);
	assert_int_equal(parse_ok("1970-01-02T00:00:00Z"), 86400);
	assert_int_equal(parse_ok("2000-01-01T00:00:00Z"), 946684800);
	assert_int_equal(parse_ok("2000-02-29T12:34:56Z"), 951827696);
	assert_int_equal(parse_ok("2000-03-01T00:00:00Z"), 951868800);
	assert_int_equal(parse_ok("2024-02-29T23:59:59Z"), 1709251199);
	assert_int_equal(parse_ok("2030-01-01T00:00:00Z"), 1893456000);
	assert_int_equal(parse_ok("2038-01-19T03:14:08Z"), 2147483648); /* past 32 bits */
	assert_int_equal(parse_ok("2100-02-28T00:00:00Z"), 4107456000);
	assert_int_equal(parse_ok("2100-03-01T00:00:00Z"), 4107542400);
	assert_int_equal(parse_ok("9999-12-31T23:59:59Z"), 253402300799);
}

static void test_leap_years(void **state)
{
	(void)state;
	/* 2000: divisible by 400, leap. 2024: leap. 2100, 1900-style: not leap. 2023: not leap. */
	parse_ok("2000-02-29T00:00:00Z");
	parse_ok("2024-02-29T00:00:00Z");
	parse_ok("2400-02-29T00:00:00Z");
	parse_bad("2100-02-29T00:00:00Z");
	parse_bad("2023-02-29T00:00:00Z");
	parse_bad("2200-02-29T00:00:00Z");
	parse_bad("2024-02-30T00:00:00Z");
	/* 2100-02-28 and 2100-03-01 are one day apart. */
	assert_int_equal(parse_ok("2100-03-01T00:00:00Z") - parse_ok("2100-02-28T00:00:00Z"),
			 86400);
	assert_int_equal(parse_ok("2000-03-01T00:00:00Z") - parse_ok("2000-02-28T00:00:00Z"),
			 2 * 86400);
}

static void test_field_ranges(void **state)
{
	(void)state;
	parse_bad("2024-00-10T00:00:00Z");
	parse_bad("2024-13-10T00:00:00Z");
	parse_bad("2024-01-00T00:00:00Z");
	parse_bad("2024-01-32T00:00:00Z");
	parse_bad("2024-04-31T00:00:00Z");
	parse_bad("2024-06-31T00:00:00Z");
	parse_bad("2024-09-31T00:00:00Z");
	parse_bad("2024-11-31T00:00:00Z");
	parse_ok("2024-12-31T00:00:00Z");
	parse_ok("2024-04-30T00:00:00Z");
	parse_bad("2024-01-01T24:00:00Z");
	parse_bad("2024-01-01T00:60:00Z");
	parse_bad("2024-01-01T00:00:60Z"); /* no leap seconds */
	parse_bad("2024-01-01T99:99:99Z");
	parse_bad("1969-12-31T23:59:59Z");
	parse_bad("0000-01-01T00:00:00Z");
	parse_ok("2024-01-01T23:59:59Z");
}

static void test_syntax(void **state)
{
	(void)state;
	parse_bad("");
	parse_bad("2024-01-01");
	parse_bad("2024-01-01T00:00:00");
	parse_bad("2024-01-01T00:00:00z");
	parse_bad("2024-01-01t00:00:00Z");
	parse_bad("2024-01-01 00:00:00Z");
	parse_bad("2024-01-01T00:00:00ZZ");
	parse_bad("2024-01-01T00:00:00Z ");
	parse_bad(" 2024-01-01T00:00:00Z");
	parse_bad("2024-01-01T00:00:00+00:00");
	parse_bad("2024-01-01T00:00:00+0000");
	parse_bad("2024-01-01T01:00:00+01");
	parse_bad("2024-01-01T00:00:00.0Z");
	parse_bad("2024-01-01T00:00:00.000Z");
	parse_bad("2024-1-01T00:00:00Z0");
	parse_bad("2024/01/01T00:00:00Z");
	parse_bad("2024-01-01T00-00-00Z");
	parse_bad("+024-01-01T00:00:00Z");
	parse_bad("2024-+1-01T00:00:00Z");
	parse_bad("2024-01- 1T00:00:00Z");
	parse_bad("20240-1-01T00:00:00Z");
	parse_bad("2024-01-01T0a:00:00Z");
	parse_bad("\xef\xbc\x92\x30\x32\x34-01-01T00:00:00Z"); /* fullwidth digit */
	parse_bad("12024-01-01T00:00:00Z");
}

static void test_format(void **state)
{
	char out[UPK_TIME_STR_LEN + 1];

	(void)state;
	assert_int_equal(upk_time_format(0, out), UPK_OK);
	assert_string_equal(out, "1970-01-01T00:00:00Z");
	assert_int_equal(upk_time_format(951827696, out), UPK_OK);
	assert_string_equal(out, "2000-02-29T12:34:56Z");
	assert_int_equal(upk_time_format(4107456000, out), UPK_OK);
	assert_string_equal(out, "2100-02-28T00:00:00Z");
	assert_int_equal(upk_time_format(4107542399, out), UPK_OK);
	assert_string_equal(out, "2100-02-28T23:59:59Z");
	assert_int_equal(upk_time_format(1709251199, out), UPK_OK);
	assert_string_equal(out, "2024-02-29T23:59:59Z");
	assert_int_equal(upk_time_format(253402300799, out), UPK_OK);
	assert_string_equal(out, "9999-12-31T23:59:59Z");

	memcpy(out, "untouched-untouched", 20);
	assert_int_equal(upk_time_format(-1, out), UPK_E_FORMAT);
	assert_int_equal(upk_time_format(253402300800, out), UPK_E_FORMAT);
	assert_int_equal(upk_time_format(INT64_MAX, out), UPK_E_FORMAT);
	assert_int_equal(upk_time_format(INT64_MIN, out), UPK_E_FORMAT);
	assert_string_equal(out, "untouched-untouched");
}

/* parse(format(t)) == t over a spread of instants, and format(parse(s)) == s. */
static void test_round_trip(void **state)
{
	char out[UPK_TIME_STR_LEN + 1];

	(void)state;
	/* Step by a prime number of seconds so every field value gets exercised. */
	for (int64_t t = 0; t <= 253402300799; t += 86400LL * 97 + 3607) {
		int64_t back = -1;

		assert_int_equal(upk_time_format(t, out), UPK_OK);
		assert_int_equal(upk_time_parse(out, &back), UPK_OK);
		assert_int_equal(back, t);
	}
	/* Every day of four years around a century leap boundary, day by day. */
	for (int64_t t = parse_ok("1999-01-01T00:00:00Z"); t < parse_ok("2003-01-01T00:00:00Z");
	     t += 86400) {
		int64_t back = -1;

		assert_int_equal(upk_time_format(t + 86399, out), UPK_OK);
		assert_int_equal(upk_time_parse(out, &back), UPK_OK);
		assert_int_equal(back, t + 86399);
	}
	assert_int_equal(upk_time_format(parse_ok("2038-01-19T03:14:08Z"), out), UPK_OK);
	assert_string_equal(out, "2038-01-19T03:14:08Z");
}

/* ---- durations: command lines need a unit ---- */

static void duration_ok(const char *s, int64_t want)
{
	int64_t v = -1;

	assert_int_equal(upk_duration_parse(s, false, &v, NULL), UPK_OK);
	assert_int_equal(v, want);
}

static void duration_bad(const char *s)
{
	struct upk_diag d;
	int64_t v = 777;

	upk_diag_clear(&d);
	print_message("rejecting duration \"%s\"\n", s);
	assert_int_equal(upk_duration_parse(s, false, &v, &d), UPK_E_USAGE);
	assert_int_equal(v, 777);
	assert_true(d.reason[0] != 0);
}

static void test_duration(void **state)
{
	(void)state;
	duration_ok("3600s", 3600);
	duration_ok("30m", 1800);
	duration_ok("12h", 43200);
	duration_ok("1d", 86400);
	duration_ok("365d", 365 * 86400LL);
	duration_ok("2w", 14 * 86400LL);
	duration_ok("1s", 1);
	duration_ok("36500d", 36500 * 86400LL);
	duration_ok("0001d", 86400);
	duration_bad("");
	duration_bad("d");
	duration_bad("10");
	duration_bad("0s");
	duration_bad("0d");
	duration_bad("-1d");
	duration_bad("+1d");
	duration_bad("1.5d");
	duration_bad("1 d");
	duration_bad(" 1d");
	duration_bad("1d ");
	duration_bad("1dd");
	duration_bad("1y");
	duration_bad("1D");
	duration_bad("36501d");
	duration_bad("5215w");
	duration_bad("999999999999d");
	duration_bad("9999999999999s");
}

/* Configuration files: a bare number is seconds. */
static void test_duration_bare_seconds(void **state)
{
	int64_t v = 7;

	(void)state;
	assert_true(upk_duration_parse("15", true, &v, NULL) == UPK_OK);
	assert_int_equal(v, 15);
	assert_true(upk_duration_parse("15s", true, &v, NULL) == UPK_OK);
	assert_int_equal(v, 15);
	assert_true(upk_duration_parse("2m", true, &v, NULL) == UPK_OK);
	assert_int_equal(v, 120);
	assert_true(upk_duration_parse("3h", true, &v, NULL) == UPK_OK);
	assert_int_equal(v, 10800);
	assert_true(upk_duration_parse("36500d", true, &v, NULL) == UPK_OK);
	assert_int_equal(v, 36500LL * 86400);
	v = 7;
	const char *bad[] = { "",
			      "0",
			      "-1",
			      " 1",
			      "1 ",
			      "1x",
			      "1dd",
			      "36501d",
			      "d",
			      "1.5h",
			      "99999999999999999999",
			      NULL };
	for (size_t i = 0; bad[i]; i++) {
		if (upk_duration_parse(bad[i], true, &v, NULL) == UPK_OK)
			fail_msg("'%s' accepted", bad[i]);
	}
	assert_false(upk_duration_parse(NULL, true, &v, NULL) == UPK_OK);
	assert_int_equal(v, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_values), cmocka_unit_test(test_leap_years),
		cmocka_unit_test(test_field_ranges), cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_format),	     cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_duration),     cmocka_unit_test(test_duration_bare_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
