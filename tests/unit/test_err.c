/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/err: the error table, exit codes (CLI.md) and diagnostics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"

static void test_exit_codes_match_cli_md(void **state)
{
	(void)state;
	assert_int_equal(upk_err_exit_code(UPK_OK), 0);
	assert_int_equal(upk_err_exit_code(UPK_E_IO), 1);
	assert_int_equal(upk_err_exit_code(UPK_E_USAGE), 2);
	assert_int_equal(upk_err_exit_code(UPK_E_PASSPHRASE), 2);
	assert_int_equal(upk_err_exit_code(UPK_E_NETWORK), 3);
	assert_int_equal(upk_err_exit_code(UPK_E_SLOW), 3);
	assert_int_equal(upk_err_exit_code(UPK_E_HASH), 10);
	assert_int_equal(upk_err_exit_code(UPK_E_LENGTH), 10);
	assert_int_equal(upk_err_exit_code(UPK_E_TOO_LARGE), 10);
	assert_int_equal(upk_err_exit_code(UPK_E_SIGNATURE), 11);
	assert_int_equal(upk_err_exit_code(UPK_E_THRESHOLD), 11);
	assert_int_equal(upk_err_exit_code(UPK_E_ROLLBACK), 12);
	assert_int_equal(upk_err_exit_code(UPK_E_EXPIRED), 13);
	assert_int_equal(upk_err_exit_code(UPK_E_INCOMPATIBLE), 14);
	assert_int_equal(upk_err_exit_code(UPK_E_HEALTH), 15);
	assert_int_equal(upk_err_exit_code(UPK_E_POLICY), 16);
}

static void test_names_and_messages(void **state)
{
	(void)state;
	assert_string_equal(upk_err_name(UPK_E_HASH), "HASH");
	assert_string_equal(upk_strerror(UPK_E_HASH), "hash mismatch");
	assert_string_equal(upk_err_name((enum upk_err)9999), "UNKNOWN");
	assert_string_equal(upk_strerror((enum upk_err) - 1), "unknown error");
	assert_int_equal(upk_err_exit_code((enum upk_err)9999), 1);
}

/* Every row has a distinct, non-empty name: the table stays consistent. */
static void test_table_is_consistent(void **state)
{
	static const int nums[] = {
#define NUM_(name, num, exitc, msg) num,
		UPK_ERR_MAP(NUM_)
#undef NUM_
	};
	(void)state;
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		assert_int_equal(nums[i], (int)i); /* dense, in order, never reused */
		assert_true(strlen(upk_err_name((enum upk_err)nums[i])) > 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(upk_err_name((enum upk_err)nums[i]),
						upk_err_name((enum upk_err)nums[j]));
	}
}

static void test_diag_format(void **state)
{
	struct upk_diag d;
	char line[600];
	(void)state;

	upk_diag_clear(&d);
	assert_int_equal(upk_diag_set(&d, UPK_E_HASH, "targets/a.bin", -1, "sha256 differs"),
			 UPK_E_HASH);
	upk_diag_format(&d, line, sizeof(line));
	assert_string_equal(line, "targets/a.bin: sha256 differs (HASH)");

	upk_diag_set(&d, UPK_E_FORMAT, "signed.version", 17, "not an integer");
	upk_diag_prefix_where(&d, "root.json");
	upk_diag_format(&d, line, sizeof(line));
	assert_string_equal(line, "root.json: signed.version: not an integer at byte 17 (FORMAT)");

	upk_diag_clear(&d);
	upk_diag_set(&d, UPK_E_EXPIRED, NULL, -1, NULL);
	upk_diag_format(&d, line, sizeof(line));
	assert_string_equal(line, "freeze: metadata expired (EXPIRED)");

	/* NULL diag is accepted everywhere. */
	assert_int_equal(upk_diag_set(NULL, UPK_E_IO, "x", 0, "y"), UPK_E_IO);
	upk_diag_clear(NULL);
	upk_diag_prefix_where(NULL, "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes_match_cli_md),
		cmocka_unit_test(test_names_and_messages),
		cmocka_unit_test(test_table_is_consistent),
		cmocka_unit_test(test_diag_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
