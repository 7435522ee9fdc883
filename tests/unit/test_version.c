/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for common/version: strict SemVer 2.0.0 parsing, precedence
 * (SemVer §11, including the specification's own ordering example), and
 * security version parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "version.h"

static struct upk_semver sv(const char *s)
{
	struct upk_semver v;

	print_message("parsing \"%s\"\n", s);
	assert_int_equal(upk_semver_parse(s, &v), UPK_OK);
	return v;
}

static void sv_bad(const char *s)
{
	struct upk_semver v;

	memset(&v, 0x5a, sizeof(v));
	print_message("rejecting \"%s\"\n", s);
	assert_int_equal(upk_semver_parse(s, &v), UPK_E_FORMAT);
	assert_true(v.major == 0x5a5a5a5a5a5a5a5aULL && v.pre[0] == 0x5a && v.build[0] == 0x5a);
}

static int cmp(const char *a, const char *b)
{
	struct upk_semver x = sv(a), y = sv(b);

	return upk_semver_cmp(&x, &y);
}

static void test_parse_fields(void **state)
{
	struct upk_semver v;

	(void)state;
	v = sv("1.2.3");
	assert_true(v.major == 1 && v.minor == 2 && v.patch == 3);
	assert_string_equal(v.pre, "");
	assert_string_equal(v.build, "");
	v = sv("0.0.0");
	assert_true(v.major == 0 && v.minor == 0 && v.patch == 0);
	v = sv("10.20.30-rc.1+build.007");
	assert_true(v.major == 10 && v.minor == 20 && v.patch == 30);
	assert_string_equal(v.pre, "rc.1");
	assert_string_equal(v.build, "build.007");
	v = sv("1.0.0+20130313144700");
	assert_string_equal(v.pre, "");
	assert_string_equal(v.build, "20130313144700");
	v = sv("1.0.0-x-y-z.--");
	assert_string_equal(v.pre, "x-y-z.--");
	v = sv("1.0.0-0A.is.legal");
	assert_string_equal(v.pre, "0A.is.legal");
	v = sv("1.0.0--1");
	assert_string_equal(v.pre, "-1");
	v = sv("1.0.0-0");
	assert_string_equal(v.pre, "0");
	v = sv("18446744073709551615.18446744073709551615.18446744073709551615");
	assert_true(v.major == UINT64_MAX && v.minor == UINT64_MAX && v.patch == UINT64_MAX);
	v = sv("1.0.0-18446744073709551615");
	assert_string_equal(v.pre, "18446744073709551615");
}

static void test_parse_rejects(void **state)
{
	char longs[UPK_SEMVER_MAX_LEN + 8];

	(void)state;
	/* Shape. */
	sv_bad("");
	sv_bad("1");
	sv_bad("1.2");
	sv_bad("1.2.3.4");
	sv_bad("1.2.");
	sv_bad(".1.2");
	sv_bad("1..2");
	sv_bad("v1.2.3");
	sv_bad(" 1.2.3");
	sv_bad("1.2.3 ");
	sv_bad("1.2.3\n");
	sv_bad("-1.2.3");
	sv_bad("+1.2.3");
	sv_bad("1.-2.3");
	sv_bad("1.2.+3");
	sv_bad("a.b.c");
	sv_bad("1.2.3x");
	/* Leading zeros in numeric fields and numeric pre-release identifiers. */
	sv_bad("01.2.3");
	sv_bad("1.02.3");
	sv_bad("1.2.03");
	sv_bad("00.0.0");
	sv_bad("1.2.3-01");
	sv_bad("1.2.3-alpha.01");
	sv_bad("1.2.3-00");
	/* Overflow. */
	sv_bad("18446744073709551616.0.0");
	sv_bad("0.18446744073709551616.0");
	sv_bad("0.0.18446744073709551616");
	sv_bad("99999999999999999999999.0.0");
	sv_bad("1.0.0-18446744073709551616");
	/* Empty identifiers. */
	sv_bad("1.2.3-");
	sv_bad("1.2.3+");
	sv_bad("1.2.3-+b");
	sv_bad("1.2.3-a..b");
	sv_bad("1.2.3-a.");
	sv_bad("1.2.3-.a");
	sv_bad("1.2.3+a..b");
	sv_bad("1.2.3+.a");
	sv_bad("1.2.3+a.");
	/* Characters outside [0-9A-Za-z-]. */
	sv_bad("1.2.3-a_b");
	sv_bad("1.2.3-a b");
	sv_bad("1.2.3-\xc3\xa9");
	sv_bad("1.2.3+a/b");
	sv_bad("1.2.3+a+b");
	sv_bad("1.2.3-a+b+c");
	/* Length: at most UPK_SEMVER_MAX_LEN - 1 characters. */
	memset(longs, 0, sizeof(longs));
	memcpy(longs, "1.0.0-", 6);
	memset(longs + 6, 'a', UPK_SEMVER_MAX_LEN - 1 - 6);
	sv(longs);
	longs[UPK_SEMVER_MAX_LEN - 1] = 'a';
	sv_bad(longs);
	memset(longs, 0, sizeof(longs));
	memcpy(longs, "1.0.0+", 6);
	memset(longs + 6, 'b', UPK_SEMVER_MAX_LEN + 1 - 6);
	sv_bad(longs);
}

/* The ordering example of SemVer 2.0.0 §11, every pair checked both ways. */
static void test_spec_ordering(void **state)
{
	static const char *const order[] = {
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta",
		"1.0.0-beta",  "1.0.0-beta.2",	"1.0.0-beta.11",
		"1.0.0-rc.1",  "1.0.0",		"1.0.1-0",
		"1.0.1",       "1.1.0",		"1.9.0",
		"1.10.0",      "1.11.0",	"2.0.0",
		"2.1.0",       "2.1.1",		"10.0.0",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		for (size_t j = 0; j < sizeof(order) / sizeof(order[0]); j++) {
			int c = cmp(order[i], order[j]);

			if (i < j)
				assert_true(c < 0);
			else if (i > j)
				assert_true(c > 0);
			else
				assert_int_equal(c, 0);
		}
	}
}

static void test_precedence_rules(void **state)
{
	(void)state;
	/* §11.4.1: numeric identifiers compare as numbers, not text. */
	assert_true(cmp("1.0.0-2", "1.0.0-10") < 0);
	assert_true(cmp("1.0.0-99", "1.0.0-100") < 0);
	assert_true(cmp("1.0.0-18446744073709551614", "1.0.0-18446744073709551615") < 0);
	/* §11.4.2: alphanumeric in ASCII order ("B" < "a", "-" < "0" < "A"). */
	assert_true(cmp("1.0.0-B", "1.0.0-a") < 0);
	assert_true(cmp("1.0.0-alpha", "1.0.0-alphb") < 0);
	assert_true(cmp("1.0.0-a-", "1.0.0-a0") < 0);
	assert_true(cmp("1.0.0-10a", "1.0.0-9a") < 0); /* alphanumeric: text order */
	/* §11.4.3: numeric lower than alphanumeric. */
	assert_true(cmp("1.0.0-999", "1.0.0-a") < 0);
	assert_true(cmp("1.0.0-1", "1.0.0--") < 0);
	assert_true(cmp("1.0.0-0", "1.0.0-0a") < 0);
	/* §11.4.4: a prefix set of identifiers is lower. */
	assert_true(cmp("1.0.0-a.b", "1.0.0-a.b.c") < 0);
	assert_true(cmp("1.0.0-alpha", "1.0.0-alpha.0") < 0);
	assert_true(cmp("1.0.0-alpha", "1.0.0-alpha0") < 0);
	/* §11.3: release above its pre-releases, below the next patch's. */
	assert_true(cmp("1.0.0-zzz", "1.0.0") < 0);
	assert_true(cmp("1.0.0", "1.0.1-0") < 0);
	/* §11.2: numeric major/minor/patch, including 64-bit values. */
	assert_true(cmp("2.0.0", "10.0.0") < 0);
	assert_true(cmp("18446744073709551614.0.0", "18446744073709551615.0.0") < 0);
	assert_true(cmp("1.18446744073709551615.0", "2.0.0") < 0);
	/* §10: build metadata is ignored. */
	assert_int_equal(cmp("1.0.0+a", "1.0.0+b"), 0);
	assert_int_equal(cmp("1.0.0", "1.0.0+zzz"), 0);
	assert_int_equal(cmp("1.0.0-rc.1+x", "1.0.0-rc.1+y.2"), 0);
	assert_true(cmp("1.0.0-rc.1+zzz", "1.0.0-rc.2+aaa") < 0);
}

static void test_secver(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(upk_secver_parse("0", &v), UPK_OK);
	assert_true(v == 0);
	assert_int_equal(upk_secver_parse("7", &v), UPK_OK);
	assert_true(v == 7);
	assert_int_equal(upk_secver_parse("1234567890", &v), UPK_OK);
	assert_true(v == 1234567890);
	assert_int_equal(upk_secver_parse("9223372036854775807", &v), UPK_OK);
	assert_true(v == (uint64_t)INT64_MAX);

	v = 42;
	assert_int_equal(upk_secver_parse("9223372036854775808", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("18446744073709551616", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("99999999999999999999999999", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("01", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("00", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("-1", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("+1", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse(" 1", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("1 ", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("1x", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("0x10", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("1.0", &v), UPK_E_FORMAT);
	assert_int_equal(upk_secver_parse("1e3", &v), UPK_E_FORMAT);
	assert_true(v == 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_fields),  cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_spec_ordering), cmocka_unit_test(test_precedence_rules),
		cmocka_unit_test(test_secver),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
