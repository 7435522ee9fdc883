/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upk_io_write_atomic_many (common/io/fileio.c) when fsync() of a temporary
 * file fails: the error is reported, nothing is replaced, no temporary file
 * is left and no descriptor leaks (a long-running agent on a failing disk
 * would otherwise run out of them).
 *
 * fsync() is interposed here (this executable's definition wins over libc's
 * for the statically linked library) to fail on regular files on demand.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "fileio.h"

static bool fail_file_fsync;

int fsync(int fd)
{
	struct stat st;

	if (fail_file_fsync && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fsync, fd);
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Entries of dir besides . and .. */
static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void test_fsync_failure_closes(void **state)
{
	char dir[512], a[600], b[600];
	struct upk_io_file files[2];
	struct upk_diag d = { 0 };
	int before;

	(void)state;
	upk_test_tmpdir(dir, sizeof(dir), "upk-io-faults");
	snprintf(a, sizeof(a), "%s/a.json", dir);
	snprintf(b, sizeof(b), "%s/b.json", dir);
	files[0] = (struct upk_io_file){ a, "A", 1 };
	files[1] = (struct upk_io_file){ b, "B", 1 };
	before = open_fds();
	fail_file_fsync = true;
	assert_int_equal(upk_io_write_atomic_many(files, 2, 0644, &d), UPK_E_IO);
	fail_file_fsync = false;
	/* Named, nothing replaced, no temporary left, nothing left open. */
	assert_non_null(strstr(d.reason, "fsync failed"));
	assert_non_null(strstr(d.where, "a.json.tmp-"));
	assert_int_equal(access(a, F_OK), -1);
	assert_int_equal(entries(dir), 0);
	assert_int_equal(open_fds(), before);
	upk_test_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fsync_failure_closes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
