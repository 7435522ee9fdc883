/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * A scratch directory for the unit tests that need real files: made under
 * $TMPDIR (default /tmp) as "<prefix>-XXXXXX" by upk_test_tmpdir, removed
 * with everything in it by upk_test_rmdir. Both fail the test on error.
 * Include after <cmocka.h>.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

static inline void upk_test_tmpdir(char *dir, size_t size, const char *prefix)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, size, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", prefix);
	assert_non_null(mkdtemp(dir));
}

static inline void upk_test_rmdir(const char *dir)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(WEXITSTATUS(system(cmd)), 0);
}
