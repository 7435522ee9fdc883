/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/io/fileio: bounded reads, atomic writes, locks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "fileio.h"

struct fx {
	char dir[256];
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	upk_test_tmpdir(fx->dir, sizeof(fx->dir), "upk-fileio");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	upk_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

static void path_in(const struct fx *fx, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", fx->dir, name);
}

/* Number of entries in the directory: proves no temporary file was left behind. */
static int count_entries(const char *dir)
{
	char cmd[512];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

static void test_write_then_read(void **state)
{
	struct fx *fx = *state;
	char p[512];
	struct upk_buf b = UPK_BUF_INIT;
	mode_t mode = 0;
	struct stat st;

	path_in(fx, "a.json", p, sizeof(p));
	assert_int_equal(upk_io_write_atomic(p, "hello", 5, 0600, NULL), UPK_OK);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(upk_io_read_file(p, 100, &b, &mode, NULL), UPK_OK);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "hello", 5);
	assert_int_equal(mode & 0777, 0600);
	/* Replace keeps one file and leaves no temporary. */
	assert_int_equal(upk_io_write_atomic(p, "bye", 3, 0644, NULL), UPK_OK);
	b.len = 0;
	assert_int_equal(upk_io_read_file(p, 100, &b, NULL, NULL), UPK_OK);
	assert_int_equal(b.len, 3);
	assert_int_equal(count_entries(fx->dir), 1);
	upk_buf_done(&b);
}

static void test_read_limits_and_errors(void **state)
{
	struct fx *fx = *state;
	char p[512];
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;

	path_in(fx, "big", p, sizeof(p));
	assert_int_equal(upk_io_write_atomic(p, "0123456789", 10, 0600, NULL), UPK_OK);
	upk_diag_clear(&d);
	assert_int_equal(upk_io_read_file(p, 9, &b, NULL, &d), UPK_E_TOO_LARGE);
	assert_string_equal(d.where, p);
	assert_int_equal(b.len, 0);
	assert_null(b.data); /* refused before allocating */
	assert_int_equal(upk_io_read_file(p, 10, &b, NULL, NULL), UPK_OK);

	path_in(fx, "missing", p, sizeof(p));
	assert_int_equal(upk_io_read_file(p, 10, &b, NULL, &d), UPK_E_NOT_FOUND);
	assert_non_null(strstr(d.reason, "No such file"));
	assert_int_equal(upk_io_read_file(fx->dir, 10, &b, NULL, &d), UPK_E_USAGE);
	assert_string_equal(d.reason, "not a regular file");
	upk_buf_done(&b);
}

static void test_create_refuses_existing(void **state)
{
	struct fx *fx = *state;
	char p[512];
	struct upk_buf b = UPK_BUF_INIT;

	path_in(fx, "k", p, sizeof(p));
	assert_int_equal(upk_io_create_atomic(p, "one", 3, 0600, NULL), UPK_OK);
	assert_int_equal(upk_io_create_atomic(p, "two", 3, 0600, NULL), UPK_E_EXISTS);
	assert_int_equal(upk_io_read_file(p, 10, &b, NULL, NULL), UPK_OK);
	assert_memory_equal(b.data, "one", 3);
	assert_int_equal(count_entries(fx->dir), 1);
	upk_buf_done(&b);
}

static void test_write_into_missing_dir_fails_cleanly(void **state)
{
	struct fx *fx = *state;
	char p[512];
	struct upk_diag d;

	path_in(fx, "no/such/dir/f", p, sizeof(p));
	upk_diag_clear(&d);
	assert_int_equal(upk_io_write_atomic(p, "x", 1, 0600, &d), UPK_E_NOT_FOUND);
	assert_int_equal(count_entries(fx->dir), 0);
}

/* Contents of a file, for the assertions below. */
static void expect_file(const char *path, const char *want)
{
	struct upk_buf b = UPK_BUF_INIT;

	assert_int_equal(upk_io_read_file(path, 1000, &b, NULL, NULL), UPK_OK);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	upk_buf_done(&b);
}

static void test_write_many(void **state)
{
	struct fx *fx = *state;
	char a[512], b[512], c[512], sub[512], d2[512];
	struct upk_diag d;
	struct stat st;

	path_in(fx, "a.json", a, sizeof(a));
	path_in(fx, "b.json", b, sizeof(b));
	path_in(fx, "sub", sub, sizeof(sub));
	path_in(fx, "sub/c.json", c, sizeof(c));
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(upk_io_write_atomic(a, "old a", 5, 0600, NULL), UPK_OK);
	{
		const struct upk_io_file files[] = { { a, "new a", 5 },
						     { b, "", 0 },
						     { c, "c in sub", 8 } };

		assert_int_equal(upk_io_write_atomic_many(files, 3, 0640, NULL), UPK_OK);
	}
	expect_file(a, "new a");
	expect_file(b, "");
	expect_file(c, "c in sub");
	assert_int_equal(stat(b, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	assert_int_equal(count_entries(fx->dir), 3); /* a, b, sub: no temporaries */
	assert_int_equal(count_entries(sub), 1);
	assert_int_equal(upk_io_write_atomic_many(NULL, 0, 0600, NULL), UPK_OK);

	/* A file that cannot be created: nothing is replaced, nothing is left behind. */
	path_in(fx, "no/such/dir/x.json", d2, sizeof(d2));
	{
		const struct upk_io_file files[] = { { a, "newer a", 7 }, { d2, "x", 1 } };

		upk_diag_clear(&d);
		assert_int_equal(upk_io_write_atomic_many(files, 2, 0600, &d), UPK_E_NOT_FOUND);
		assert_non_null(strstr(d.where, "no/such/dir/x.json"));
	}
	expect_file(a, "new a");
	assert_int_equal(count_entries(fx->dir), 3);

	/* A rename that fails (a non-empty directory is in the way): the files before it are
	 * replaced, the ones after it untouched, no temporary left. */
	{
		const struct upk_io_file files[] = { { a, "third a", 7 },
						     { sub, "not a dir", 9 },
						     { b, "new b", 5 } };

		upk_diag_clear(&d);
		assert_int_not_equal(upk_io_write_atomic_many(files, 3, 0600, &d), UPK_OK);
		assert_non_null(strstr(d.where, "sub"));
	}
	expect_file(a, "third a");
	expect_file(b, "");
	expect_file(c, "c in sub");
	assert_int_equal(count_entries(fx->dir), 3);
}

static void test_mkdir_p(void **state)
{
	struct fx *fx = *state;
	char p[512];
	struct stat st;

	path_in(fx, "a/b/c", p, sizeof(p));
	assert_int_equal(upk_io_mkdir_p(p, 0755, NULL), UPK_OK);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(upk_io_mkdir_p(p, 0755, NULL), UPK_OK); /* idempotent */
	assert_true(upk_io_exists(p));
}

static void test_lock_excludes_other_process(void **state)
{
	struct fx *fx = *state;
	char p[512];
	int fd = -1, fd2 = -1;
	pid_t pid;
	int status;

	path_in(fx, ".lock", p, sizeof(p));
	assert_int_equal(upk_io_lock(p, 0, &fd, NULL), UPK_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* flock locks belong to the open file description: a child opening anew conflicts.
		 */
		int cfd = -1;
		_exit(upk_io_lock(p, 120, &cfd, NULL) == UPK_E_LOCKED ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	upk_io_unlock(fd);
	assert_int_equal(upk_io_lock(p, 0, &fd2, NULL), UPK_OK);
	upk_io_unlock(fd2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_then_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_limits_and_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_refuses_existing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_into_missing_dir_fails_cleanly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_many, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_excludes_other_process, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
