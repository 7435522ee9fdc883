/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for client/models, on real files in a temporary directory:
 * stage, activate (first, second, third), current/previous, revert to a
 * version and to nothing, prune; bad names and versions refused with
 * nothing created; junk and dangling links, symlinked directories and
 * non-regular files refused with the store unchanged; leftover temporary
 * links cleaned; and a reader racing the link swap never sees ENOENT.
 */
#define _GNU_SOURCE /* nftw, pipe2 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "models.h"

struct fx {
	char root[64];	     /* the mkdtemp directory */
	char dir[128];	     /* root/models: the store, not created up front */
	char path[PATH_MAX]; /* scratch */
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "/tmp/upk-models-XXXXXX");
	if (!mkdtemp(f->root)) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/models", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* DIR/rel in f's scratch buffer: one at a time per call. */
static const char *P(struct fx *f, const char *rel)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, rel);
	return f->path;
}

static bool exists(const char *p)
{
	struct stat st;

	return lstat(p, &st) == 0;
}

static void write_file(const char *p, const char *content)
{
	FILE *fp = fopen(p, "we");

	assert_non_null(fp);
	assert_int_equal(fputs(content, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Stage name@version and write its model file with content. */
static void put(struct fx *f, const char *name, const char *version, const char *content)
{
	struct upk_buf b = UPK_BUF_INIT;

	assert_int_equal(upkc_models_stage(f->dir, name, version, &b, NULL), UPK_OK);
	write_file((const char *)b.data, content);
	upk_buf_done(&b);
}

/* The text of the link DIR/rel, or "" if there is none. */
static const char *link_of(struct fx *f, const char *rel)
{
	static char buf[256];
	ssize_t n = readlink(P(f, rel), buf, sizeof(buf) - 1);

	buf[n < 0 ? 0 : n] = 0;
	return buf;
}

static void expect_link(const char *dir, const char *name, bool current, const char *want)
{
	struct upk_buf b = UPK_BUF_INIT;
	bool have = !want;
	enum upk_err r = current ? upkc_models_current(dir, name, &b, &have, NULL)
				 : upkc_models_previous(dir, name, &b, &have, NULL);

	assert_int_equal(r, UPK_OK);
	if (want) {
		assert_true(have);
		assert_int_equal(b.len, strlen(want));
		assert_string_equal((const char *)b.data, want);
	} else {
		assert_false(have);
		assert_int_equal(b.len, 0);
	}
	upk_buf_done(&b);
}

/* Entries of directory p, without "." and ".." (0 if p does not exist). */
static size_t count_entries(const char *p)
{
	DIR *d = opendir(p);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void test_stage(void **state)
{
	struct fx *f = *state;
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	char want[PATH_MAX];
	struct stat st;
	mode_t mask;

	/* DIR itself does not exist yet: created with its parents. */
	assert_int_equal(upk_buf_append_str(&b, "x"), UPK_OK);
	assert_int_equal(upkc_models_stage(f->dir, "det", "1.0.0", &b, &d), UPK_OK);
	snprintf(want, sizeof(want), "x%s/det/1.0.0/det", f->dir);
	assert_string_equal((const char *)b.data, want);
	assert_int_equal(lstat(P(f, "det/1.0.0"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	mask = umask(022);
	umask(mask);
	assert_int_equal(st.st_mode & 07777, 0755 & ~mask);
	assert_false(exists(P(f, "det/1.0.0/det"))); /* the pipeline writes the file */
	assert_false(exists(P(f, "det/current")));

	/* Staging again is fine; a trailing slash on DIR gives the same path. */
	upk_buf_done(&b);
	snprintf(want, sizeof(want), "%s/", f->dir);
	assert_int_equal(upkc_models_stage(want, "det", "1.0.0", &b, NULL), UPK_OK);
	snprintf(want, sizeof(want), "%s/det/1.0.0/det", f->dir);
	assert_string_equal((const char *)b.data, want);
	upk_buf_done(&b);

	/* A prerelease with build metadata is one path segment too. */
	assert_int_equal(upkc_models_stage(f->dir, "det", "2.0.0-rc.1+b.7", &b, NULL), UPK_OK);
	assert_true(exists(P(f, "det/2.0.0-rc.1+b.7")));
	upk_buf_done(&b);

	/* A version directory that is a symlink is refused, out untouched. */
	assert_int_equal(mkdir(P(f, "elsewhere"), 0755), 0);
	assert_int_equal(symlink("../elsewhere", P(f, "det/3.0.0")), 0);
	assert_int_equal(upkc_models_stage(f->dir, "det", "3.0.0", &b, &d), UPK_E_IO);
	assert_int_equal(b.len, 0);
	assert_non_null(strstr(d.where, "det/3.0.0"));
	/* A file in place of a version directory, too. */
	write_file(P(f, "det/4.0.0"), "x");
	assert_int_equal(upkc_models_stage(f->dir, "det", "4.0.0", &b, NULL), UPK_E_IO);
	/* DIR is a file: an I/O error, not a crash. */
	write_file(P(f, "file"), "x");
	assert_int_equal(upkc_models_stage(P(f, "file"), "det", "1.0.0", &b, NULL), UPK_E_IO);
	assert_int_equal(b.len, 0);
}

static void test_activate_sequence(void **state)
{
	struct fx *f = *state;
	struct upk_diag d;
	char buf[16];
	int fd;
	ssize_t n;

	/* Nothing there yet: no current, no previous, not even DIR. */
	expect_link(f->dir, "det", true, NULL);
	expect_link(f->dir, "det", false, NULL);

	put(f, "det", "1.0.0", "one");
	put(f, "det", "1.1.0", "two");
	put(f, "det", "2.0.0", "three");
	expect_link(f->dir, "det", true, NULL);

	assert_int_equal(upkc_models_activate(f->dir, "det", "1.0.0", &d), UPK_OK);
	expect_link(f->dir, "det", true, "1.0.0");
	expect_link(f->dir, "det", false, NULL);
	assert_string_equal(link_of(f, "det/current"), "1.0.0"); /* relative */

	/* Activating the current version again changes nothing. */
	assert_int_equal(upkc_models_activate(f->dir, "det", "1.0.0", NULL), UPK_OK);
	expect_link(f->dir, "det", false, NULL);

	assert_int_equal(upkc_models_activate(f->dir, "det", "1.1.0", NULL), UPK_OK);
	expect_link(f->dir, "det", true, "1.1.0");
	expect_link(f->dir, "det", false, "1.0.0");

	assert_int_equal(upkc_models_activate(f->dir, "det", "2.0.0", NULL), UPK_OK);
	expect_link(f->dir, "det", true, "2.0.0");
	expect_link(f->dir, "det", false, "1.1.0");

	/* What applications open. */
	fd = open(P(f, "det/current/det"), O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_int_equal(n, 5);
	buf[n] = 0;
	assert_string_equal(buf, "three");

	/* No temporary link is left behind. */
	assert_int_equal(count_entries(P(f, "det")), 5);
}

static void test_activate_refused(void **state)
{
	struct fx *f = *state;
	struct upk_diag d;

	/* No such model, no such version, a version without its file. */
	assert_int_equal(upkc_models_activate(f->dir, "det", "1.0.0", &d), UPK_E_NOT_FOUND);
	put(f, "det", "1.0.0", "one");
	assert_int_equal(upkc_models_activate(f->dir, "det", "1.0.0", NULL), UPK_OK);
	assert_int_equal(upkc_models_activate(f->dir, "det", "9.0.0", &d), UPK_E_NOT_FOUND);
	assert_non_null(strstr(d.where, "det/9.0.0"));
	{
		struct upk_buf b = UPK_BUF_INIT;

		assert_int_equal(upkc_models_stage(f->dir, "det", "2.0.0", &b, NULL), UPK_OK);
		upk_buf_done(&b);
	}
	assert_int_equal(upkc_models_activate(f->dir, "det", "2.0.0", &d), UPK_E_NOT_FOUND);
	assert_non_null(strstr(d.where, "det/2.0.0/det"));
	/* The model file is a directory or a symlink: refused. */
	assert_int_equal(mkdir(P(f, "det/2.0.0/det"), 0755), 0);
	assert_int_equal(upkc_models_activate(f->dir, "det", "2.0.0", &d), UPK_E_IO);
	assert_int_equal(rmdir(P(f, "det/2.0.0/det")), 0);
	assert_int_equal(symlink("../1.0.0/det", P(f, "det/2.0.0/det")), 0);
	assert_int_equal(upkc_models_activate(f->dir, "det", "2.0.0", &d), UPK_E_IO);
	/* The version directory is a symlink to a good one: refused. */
	assert_int_equal(symlink("1.0.0", P(f, "det/3.0.0")), 0);
	assert_int_equal(upkc_models_activate(f->dir, "det", "3.0.0", &d), UPK_E_IO);
	assert_non_null(strstr(d.where, "det/3.0.0"));

	/* Every refusal left the links as they were. */
	expect_link(f->dir, "det", true, "1.0.0");
	expect_link(f->dir, "det", false, NULL);
}

static void test_revert(void **state)
{
	struct fx *f = *state;
	struct upk_diag d;

	/* Revert to nothing when there is nothing: fine, and nothing created. */
	assert_int_equal(upkc_models_revert(f->dir, "det", NULL, &d), UPK_OK);
	assert_false(exists(f->dir));
	assert_int_equal(upkc_models_revert(f->dir, "det", "1.0.0", &d), UPK_E_NOT_FOUND);
	assert_false(exists(f->dir));

	put(f, "det", "1.0.0", "one");
	put(f, "det", "2.0.0", "two");
	assert_int_equal(upkc_models_revert(f->dir, "det", NULL, NULL), UPK_OK);
	assert_int_equal(upkc_models_activate(f->dir, "det", "1.0.0", NULL), UPK_OK);
	assert_int_equal(upkc_models_activate(f->dir, "det", "2.0.0", NULL), UPK_OK);

	/* The trial failed: back to 1.0.0; previous is left alone. */
	assert_int_equal(upkc_models_revert(f->dir, "det", "1.0.0", &d), UPK_OK);
	expect_link(f->dir, "det", true, "1.0.0");
	expect_link(f->dir, "det", false, "1.0.0");
	/* Reverting to a version that is not staged changes nothing. */
	assert_int_equal(upkc_models_revert(f->dir, "det", "3.0.0", &d), UPK_E_NOT_FOUND);
	expect_link(f->dir, "det", true, "1.0.0");

	/* A new model's trial failed: current goes away. */
	assert_int_equal(upkc_models_revert(f->dir, "det", NULL, &d), UPK_OK);
	expect_link(f->dir, "det", true, NULL);
	expect_link(f->dir, "det", false, "1.0.0");
	assert_true(exists(P(f, "det/1.0.0/det")));
	assert_true(exists(P(f, "det/2.0.0/det")));
	assert_int_equal(upkc_models_revert(f->dir, "det", NULL, &d), UPK_OK);

	/* A `current` that is not a symlink is not ours to remove. */
	assert_int_equal(mkdir(P(f, "det/current"), 0755), 0);
	assert_int_equal(upkc_models_revert(f->dir, "det", NULL, &d), UPK_E_IO);
	assert_non_null(strstr(d.where, "det/current"));
	assert_true(exists(P(f, "det/current")));
	/* ...nor to replace: rename(2) will not put a link over a directory. */
	assert_int_equal(upkc_models_revert(f->dir, "det", "2.0.0", &d), UPK_E_IO);
	assert_true(exists(P(f, "det/current")));
	assert_int_equal(count_entries(P(f, "det")), 4);
}

static void test_prune(void **state)
{
	struct fx *f = *state;
	const char *versions[] = { "1.0.0", "1.1.0", "2.0.0", "3.0.0-rc.1", "3.0.0", "4.0.0" };
	struct upk_diag d;

	/* No store yet: nothing to do, nothing created. */
	assert_int_equal(upkc_models_prune(f->dir, "det", NULL, &d), UPK_OK);
	assert_false(exists(f->dir));

	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		put(f, "det", versions[i], versions[i]);
	assert_int_equal(upkc_models_activate(f->dir, "det", "1.1.0", NULL), UPK_OK);
	assert_int_equal(upkc_models_activate(f->dir, "det", "2.0.0", NULL), UPK_OK);
	/* Extra files in a version directory go with it. */
	write_file(P(f, "det/1.0.0/upkeep-install-state"), "x");
	/* Entries that are not versions are not the store's to delete. */
	write_file(P(f, "det/notes.txt"), "x");
	assert_int_equal(mkdir(P(f, "det/lost+found"), 0755), 0);
	/* Another model is untouched. */
	put(f, "cls", "1.0.0", "c");

	assert_int_equal(upkc_models_prune(f->dir, "det", "3.0.0-rc.1", &d), UPK_OK);
	assert_false(exists(P(f, "det/1.0.0")));
	assert_true(exists(P(f, "det/1.1.0/det")));	 /* previous */
	assert_true(exists(P(f, "det/2.0.0/det")));	 /* current */
	assert_true(exists(P(f, "det/3.0.0-rc.1/det"))); /* keep */
	assert_false(exists(P(f, "det/3.0.0")));
	assert_false(exists(P(f, "det/4.0.0")));
	assert_true(exists(P(f, "det/notes.txt")));
	assert_true(exists(P(f, "det/lost+found")));
	assert_true(exists(P(f, "cls/1.0.0/cls")));
	expect_link(f->dir, "det", true, "2.0.0");
	expect_link(f->dir, "det", false, "1.1.0");

	/* Without keep the staged version goes too. */
	assert_int_equal(upkc_models_prune(f->dir, "det", NULL, &d), UPK_OK);
	assert_false(exists(P(f, "det/3.0.0-rc.1")));
	assert_int_equal(count_entries(P(f, "det")), 6);

	/* After revert to nothing, only previous is protected. */
	assert_int_equal(upkc_models_revert(f->dir, "det", NULL, NULL), UPK_OK);
	assert_int_equal(upkc_models_prune(f->dir, "det", NULL, &d), UPK_OK);
	assert_false(exists(P(f, "det/2.0.0")));
	assert_true(exists(P(f, "det/1.1.0/det")));
}

static void test_prune_refuses_non_regular(void **state)
{
	struct fx *f = *state;
	struct upk_diag d;

	put(f, "det", "1.0.0", "one");
	put(f, "det", "2.0.0", "two");
	put(f, "det", "3.0.0", "three");
	assert_int_equal(upkc_models_activate(f->dir, "det", "3.0.0", NULL), UPK_OK);
	assert_int_equal(mkdir(P(f, "outside"), 0755), 0);
	write_file(P(f, "outside/precious"), "keep me");

	/* A symlink inside a version: never followed, the version is kept whole. */
	assert_int_equal(symlink("../../outside", P(f, "det/1.0.0/link")), 0);
	assert_int_equal(upkc_models_prune(f->dir, "det", NULL, &d), UPK_E_IO);
	assert_non_null(strstr(d.where, "det/1.0.0/link"));
	assert_true(exists(P(f, "det/1.0.0/det")));
	assert_true(exists(P(f, "outside/precious")));
	assert_int_equal(unlink(P(f, "det/1.0.0/link")), 0);

	/* A subdirectory inside a version: refused the same way. */
	assert_int_equal(mkdir(P(f, "det/1.0.0/sub"), 0755), 0);
	assert_int_equal(upkc_models_prune(f->dir, "det", NULL, &d), UPK_E_IO);
	assert_non_null(strstr(d.where, "det/1.0.0/sub"));
	assert_true(exists(P(f, "det/1.0.0/det")));
	assert_int_equal(rmdir(P(f, "det/1.0.0/sub")), 0);

	/* A version-named symlink to a directory elsewhere: left alone, target too. */
	assert_int_equal(symlink("../outside", P(f, "det/5.0.0")), 0);
	assert_int_equal(upkc_models_prune(f->dir, "det", NULL, &d), UPK_OK);
	assert_false(exists(P(f, "det/1.0.0")));
	assert_false(exists(P(f, "det/2.0.0")));
	assert_true(exists(P(f, "det/3.0.0/det")));
	assert_true(exists(P(f, "det/5.0.0")));
	assert_true(exists(P(f, "outside/precious")));
}

static void test_invalid_args(void **state)
{
	struct fx *f = *state;
	const char *names[] = {
		"../x", "",
		"a/b",	".hidden",
		"-opt", "..",
		".",	"a b",
		NULL,	"01234567890123456789012345678901234567890123456789012345678901234"
	};
	const char *versions[] = { "1.0",     "../1.0.0", "",	    "1.0.0/..", "01.0.0",
				   "1.0.0/x", "current",  "v1.0.0", NULL };
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	bool have = true;

	assert_int_equal(upk_buf_append_str(&b, "keep"), UPK_OK);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *n = names[i];

		assert_int_equal(upkc_models_stage(f->dir, n, "1.0.0", &b, &d), UPK_E_USAGE);
		assert_int_equal(upkc_models_current(f->dir, n, &b, &have, &d), UPK_E_USAGE);
		assert_int_equal(upkc_models_previous(f->dir, n, &b, &have, &d), UPK_E_USAGE);
		assert_int_equal(upkc_models_activate(f->dir, n, "1.0.0", &d), UPK_E_USAGE);
		assert_int_equal(upkc_models_revert(f->dir, n, "1.0.0", &d), UPK_E_USAGE);
		assert_int_equal(upkc_models_revert(f->dir, n, NULL, &d), UPK_E_USAGE);
		assert_int_equal(upkc_models_prune(f->dir, n, NULL, &d), UPK_E_USAGE);
	}
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		const char *v = versions[i];

		assert_int_equal(upkc_models_stage(f->dir, "det", v, &b, &d), UPK_E_USAGE);
		assert_int_equal(upkc_models_activate(f->dir, "det", v, &d), UPK_E_USAGE);
		if (v) { /* NULL is meaningful for these two */
			assert_int_equal(upkc_models_revert(f->dir, "det", v, &d), UPK_E_USAGE);
			assert_int_equal(upkc_models_prune(f->dir, "det", v, &d), UPK_E_USAGE);
		}
	}
	/* No directory. */
	assert_int_equal(upkc_models_stage("", "det", "1.0.0", &b, &d), UPK_E_USAGE);
	assert_int_equal(upkc_models_stage(NULL, "det", "1.0.0", &b, &d), UPK_E_USAGE);
	assert_int_equal(upkc_models_current("", "det", &b, &have, &d), UPK_E_USAGE);

	/* Outputs untouched, nothing created: not DIR, nothing beside it. */
	assert_int_equal(b.len, 4);
	assert_true(have);
	assert_false(exists(f->dir));
	assert_int_equal(count_entries(f->root), 0);

	/* The same with a store in place: still nothing changes. */
	put(f, "det", "1.0.0", "one");
	assert_int_equal(upkc_models_activate(f->dir, "det", "1.0.0", NULL), UPK_OK);
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		assert_int_equal(upkc_models_activate(f->dir, "det", versions[i], &d), UPK_E_USAGE);
		assert_int_equal(upkc_models_stage(f->dir, "det", versions[i], &b, &d),
				 UPK_E_USAGE);
	}
	assert_int_equal(count_entries(f->dir), 1);
	assert_int_equal(count_entries(P(f, "det")), 2);
	assert_int_equal(count_entries(f->root), 1);
	upk_buf_done(&b);
}

/* current/previous (and activate and prune through them) on a bad link: UPK_E_IO. */
static void expect_bad_link(struct fx *f, const char *link)
{
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	bool have = false;
	bool current = strcmp(link, "current") == 0;
	enum upk_err r;

	assert_int_equal(upk_buf_append_str(&b, "keep"), UPK_OK);
	r = current ? upkc_models_current(f->dir, "det", &b, &have, &d)
		    : upkc_models_previous(f->dir, "det", &b, &have, &d);
	assert_int_equal(r, UPK_E_IO);
	assert_non_null(strstr(d.where, link));
	assert_int_equal(b.len, 4);
	assert_false(have);
	/* Nothing is deleted while a link cannot be read. */
	assert_int_equal(upkc_models_prune(f->dir, "det", NULL, &d), UPK_E_IO);
	assert_true(exists(P(f, "det/1.0.0/det")));
	assert_true(exists(P(f, "det/2.0.0/det")));
	if (current) { /* activate must know what becomes previous */
		assert_int_equal(upkc_models_activate(f->dir, "det", "1.0.0", &d), UPK_E_IO);
		assert_non_null(strstr(d.where, "current"));
	}
	upk_buf_done(&b);
}

static void test_bad_links(void **state)
{
	struct fx *f = *state;
	const char *junk[] = { "9.9.9",	 "../1.0.0",  "/tmp", "not-a-version",
			       "1.0.0/", "1.0.0/det", "notes" };
	const char *links[] = { "current", "previous" };

	put(f, "det", "1.0.0", "one");
	put(f, "det", "2.0.0", "two");
	write_file(P(f, "det/notes"), "x");
	for (size_t l = 0; l < 2; l++) {
		char lp[64];

		snprintf(lp, sizeof(lp), "det/%s", links[l]);
		for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
			assert_int_equal(symlink(junk[i], P(f, lp)), 0);
			expect_bad_link(f, links[l]);
			assert_int_equal(unlink(P(f, lp)), 0);
		}
		/* A link longer than any version. */
		{
			char longv[300];

			memset(longv, '1', sizeof(longv) - 1);
			longv[sizeof(longv) - 1] = 0;
			assert_int_equal(symlink(longv, P(f, lp)), 0);
			expect_bad_link(f, links[l]);
			assert_int_equal(unlink(P(f, lp)), 0);
		}
		/* A regular file in place of the link. */
		write_file(P(f, lp), "1.0.0");
		expect_bad_link(f, links[l]);
		assert_int_equal(unlink(P(f, lp)), 0);
		/* A link naming a version-named file. */
		write_file(P(f, "det/7.0.0"), "x");
		assert_int_equal(symlink("7.0.0", P(f, lp)), 0);
		expect_bad_link(f, links[l]);
		assert_int_equal(unlink(P(f, lp)), 0);
		assert_int_equal(unlink(P(f, "det/7.0.0")), 0);
		/* A link naming a version-named symlink to a real version. */
		assert_int_equal(symlink("1.0.0", P(f, "det/3.0.0")), 0);
		assert_int_equal(symlink("3.0.0", P(f, lp)), 0);
		expect_bad_link(f, links[l]);
		assert_int_equal(unlink(P(f, lp)), 0);
		assert_int_equal(unlink(P(f, "det/3.0.0")), 0);
	}
}

static void test_model_dir_symlink(void **state)
{
	struct fx *f = *state;
	struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	bool have = false;

	/* DIR/det is a symlink to a directory laid out like a store. */
	put(f, "real", "1.0.0", "one");
	put(f, "real", "2.0.0", "two");
	assert_int_equal(upkc_models_activate(f->dir, "real", "1.0.0", NULL), UPK_OK);
	for (int i = 1; i <= 2; i++) {
		char from[PATH_MAX], to[PATH_MAX];

		snprintf(from, sizeof(from), "%s/real/%d.0.0/real", f->dir, i);
		snprintf(to, sizeof(to), "%s/real/%d.0.0/det", f->dir, i);
		assert_int_equal(rename(from, to), 0);
	}
	assert_int_equal(symlink("real", P(f, "det")), 0);

	assert_int_equal(upkc_models_stage(f->dir, "det", "3.0.0", &b, &d), UPK_E_IO);
	assert_non_null(strstr(d.where, "/det"));
	assert_int_equal(b.len, 0);
	assert_int_equal(upkc_models_current(f->dir, "det", &b, &have, &d), UPK_E_IO);
	assert_int_equal(upkc_models_previous(f->dir, "det", &b, &have, &d), UPK_E_IO);
	assert_false(have);
	assert_int_equal(upkc_models_activate(f->dir, "det", "2.0.0", &d), UPK_E_IO);
	assert_int_equal(upkc_models_revert(f->dir, "det", "2.0.0", &d), UPK_E_IO);
	assert_int_equal(upkc_models_revert(f->dir, "det", NULL, &d), UPK_E_IO);
	assert_int_equal(upkc_models_prune(f->dir, "det", NULL, &d), UPK_E_IO);

	/* The target is unchanged. */
	assert_false(exists(P(f, "real/3.0.0")));
	assert_true(exists(P(f, "real/2.0.0/det")));
	assert_string_equal(link_of(f, "real/current"), "1.0.0");
	assert_false(exists(P(f, "real/previous")));

	/* A file in place of DIR/det is refused too. */
	assert_int_equal(unlink(P(f, "det")), 0);
	write_file(P(f, "det"), "x");
	assert_int_equal(upkc_models_stage(f->dir, "det", "3.0.0", &b, &d), UPK_E_IO);
	assert_int_equal(upkc_models_current(f->dir, "det", &b, &have, &d), UPK_E_IO);
	assert_int_equal(upkc_models_activate(f->dir, "det", "2.0.0", &d), UPK_E_IO);
	assert_int_equal(upkc_models_prune(f->dir, "det", NULL, &d), UPK_E_IO);
	upk_buf_done(&b);
}

/* Plant the temporary links a crash between symlink() and rename() leaves. */
static void plant_tmp_links(struct fx *f)
{
	assert_int_equal(symlink("1.0.0", P(f, "det/.current.tmp-123-456-0")), 0);
	assert_int_equal(symlink("junk", P(f, "det/.previous.tmp-7")), 0);
	assert_int_equal(symlink("2.0.0", P(f, "det/.current.tmp-")), 0);
}

static void expect_tmp_links_gone(struct fx *f)
{
	assert_false(exists(P(f, "det/.current.tmp-123-456-0")));
	assert_false(exists(P(f, "det/.previous.tmp-7")));
	assert_false(exists(P(f, "det/.current.tmp-")));
	/* Not a symlink: not ours, kept. */
	assert_true(exists(P(f, "det/.current.tmp-file")));
	assert_true(exists(P(f, "det/.current.other")));
}

static void test_tmp_links_cleaned(void **state)
{
	struct fx *f = *state;

	put(f, "det", "1.0.0", "one");
	put(f, "det", "2.0.0", "two");
	write_file(P(f, "det/.current.tmp-file"), "x");
	assert_int_equal(symlink("1.0.0", P(f, "det/.current.other")), 0);

	plant_tmp_links(f);
	assert_int_equal(upkc_models_activate(f->dir, "det", "1.0.0", NULL), UPK_OK);
	expect_tmp_links_gone(f);

	plant_tmp_links(f);
	assert_int_equal(upkc_models_revert(f->dir, "det", "2.0.0", NULL), UPK_OK);
	expect_tmp_links_gone(f);

	plant_tmp_links(f);
	assert_int_equal(upkc_models_revert(f->dir, "det", NULL, NULL), UPK_OK);
	expect_tmp_links_gone(f);

	plant_tmp_links(f);
	assert_int_equal(upkc_models_prune(f->dir, "det", NULL, NULL), UPK_OK);
	expect_tmp_links_gone(f);
	/* With `current` gone, .current.other protected nothing. */
	assert_false(exists(P(f, "det/1.0.0")));
	assert_false(exists(P(f, "det/2.0.0")));
}

/*
 * A reader opening DIR/det/current/det while the link is swapped back and
 * forth must always find a file: rename(2) replaces the link atomically.
 * Bounded loops on both sides; the child reports by its exit status.
 */
static void test_reader_race(void **state)
{
	struct fx *f = *state;
	char target[PATH_MAX];
	int status = -1, go[2];
	pid_t pid;

	put(f, "det", "1.0.0", "one");
	put(f, "det", "2.0.0", "two");
	assert_int_equal(upkc_models_activate(f->dir, "det", "1.0.0", NULL), UPK_OK);
	snprintf(target, sizeof(target), "%s/det/current/det", f->dir);

	/* The child starts reading when the parent starts swapping (a pipe as the barrier). */
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(5);
		for (int i = 0; i < 2000; i++) {
			char buf[8];
			int fd = open(target, O_RDONLY | O_CLOEXEC);
			ssize_t n;

			if (fd < 0)
				_exit(errno == ENOENT ? 2 : 3);
			n = read(fd, buf, sizeof(buf));
			close(fd);
			if (n != 3)
				_exit(4);
			/*
			 * 2000 bare opens take a millisecond, 200 fsync'ed
			 * swaps far longer: pausing spreads the reads over
			 * the swaps. Nothing depends on how long it takes.
			 */
			usleep(20);
		}
		_exit(0);
	}
	close(go[0]);
	assert_int_equal(write(go[1], "g", 1), 1);
	close(go[1]);
	for (int i = 0; i < 200; i++)
		assert_int_equal(
			upkc_models_activate(f->dir, "det", i % 2 ? "1.0.0" : "2.0.0", NULL),
			UPK_OK);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	expect_link(f->dir, "det", true, "1.0.0");
	expect_link(f->dir, "det", false, "2.0.0");
	assert_int_equal(count_entries(P(f, "det")), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activate_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activate_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revert, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_refuses_non_regular, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_links, setup, teardown),
		cmocka_unit_test_setup_teardown(test_model_dir_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tmp_links_cleaned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reader_race, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
