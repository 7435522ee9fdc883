/* SPDX-License-Identifier: Apache-2.0 */
/* The AI model store: see models.h. */
#include "models.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "fileio.h"
#include "util.h"
#include "version.h"

#define LINK_CURRENT  "current"
#define LINK_PREVIOUS "previous"
#define DIR_MODE      0755

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* One model's directory, DIR/<name>, opened without following a symlink. */
struct store {
	const char *dir;
	const char *name;
	int fd; /* -1 while it does not exist */
};

static void store_done(struct store *s)
{
	closep(&s->fd);
	s->fd = -1;
}

/* "DIR/<name>[/<leaf>]" for diagnostics (truncated if it must be). */
static const char *where(const struct store *s, const char *leaf, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s%s%s", s->dir, s->name, leaf ? "/" : "", leaf ? leaf : "");
	return buf;
}

static enum upk_err sys_fail(struct upk_diag *diag, const char *path, const char *what, int errnum)
{
	enum upk_err e = UPK_E_IO;

	if (errnum == ENOSPC || errnum == EDQUOT)
		e = UPK_E_NOSPACE;
	else if (errnum == ENOMEM)
		e = UPK_E_NOMEM;
	return upk_diag_set(diag, e, path, -1, "%s: %s", what, strerror(errnum));
}

/*
 * Everything the store is given is checked before any file operation: a
 * name or version that is not a single harmless path segment would let a
 * caller reach outside DIR.
 */
static enum upk_err check_args(const char *dir, const char *name, const char *version,
			       bool version_optional, struct upk_diag *diag)
{
	struct upk_semver sv;

	if (!dir || !*dir)
		return upk_diag_set(diag, UPK_E_USAGE, "models", -1, "no model directory");
	if (!upk_bundle_name_is_valid(name))
		return upk_diag_set(diag, UPK_E_USAGE, "model", -1,
				    "not a model name ([A-Za-z0-9][A-Za-z0-9._-]*, at most 64 "
				    "bytes)");
	if (!version && version_optional)
		return UPK_OK;
	if (!version || upk_semver_parse(version, &sv) != UPK_OK)
		return upk_diag_set(diag, UPK_E_USAGE, name, -1,
				    "model version is not a SemVer 2.0.0 version");
	return UPK_OK;
}

/*
 * Open DIR/<name> (creating DIR/<name>, not DIR, if create). A missing
 * directory leaves s->fd at -1 and is not an error; a symlink or a file in
 * its place is, so that links and deletions stay inside DIR.
 */
static enum upk_err store_open(struct store *s, const char *dir, const char *name, bool create,
			       struct upk_diag *diag)
{
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char path[PATH_MAX];
	bool created = false;
	int fd;

	s->dir = dir;
	s->name = name;
	s->fd = -1;
	if (dfd < 0) {
		if (errno == ENOENT && !create)
			return UPK_OK;
		return sys_fail(diag, dir, "cannot open directory", errno);
	}
	if (create) {
		if (mkdirat(dfd, name, DIR_MODE) == 0)
			created = true;
		else if (errno != EEXIST)
			return sys_fail(diag, where(s, NULL, path, sizeof(path)),
					"cannot create directory", errno);
	}
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && !create)
			return UPK_OK;
		if (errno == ELOOP || errno == ENOTDIR)
			return upk_diag_set(diag, UPK_E_IO, where(s, NULL, path, sizeof(path)), -1,
					    "not a directory (a symbolic link is refused)");
		return sys_fail(diag, where(s, NULL, path, sizeof(path)), "cannot open directory",
				errno);
	}
	s->fd = fd;
	if (created && fsync(dfd) < 0 && errno != EINVAL) {
		store_done(s);
		return sys_fail(diag, dir, "fsync failed", errno);
	}
	return UPK_OK;
}

static enum upk_err store_sync(const struct store *s, struct upk_diag *diag)
{
	char path[PATH_MAX];

	if (fsync(s->fd) < 0 && errno != EINVAL)
		return sys_fail(diag, where(s, NULL, path, sizeof(path)), "fsync failed", errno);
	return UPK_OK;
}

/* ---- directory listings ---- */

struct names {
	char **v;
	size_t n, cap;
};

static void names_done(struct names *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static enum upk_err names_push(struct names *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap : 16, bytes;
		char **v;

		if (l->cap && !upk_size_mul(cap, 2, &cap))
			return UPK_E_NOMEM;
		if (!upk_size_mul(cap, sizeof(*v), &bytes))
			return UPK_E_NOMEM;
		v = realloc(l->v, bytes);
		if (!v)
			return UPK_E_NOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return UPK_E_NOMEM;
	l->n++;
	return UPK_OK;
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

/*
 * The entries of the directory fd (without "." and ".."), read in full
 * before the caller deletes any of them: readdir is not defined over a
 * directory that changes under it.
 */
static enum upk_err list_dir(int fd, const char *path, struct names *out, struct upk_diag *diag)
{
	/* A fresh open, not dup(): a dup shares the offset readdir moves. */
	int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *e;

	if (own < 0)
		return sys_fail(diag, path, "cannot open directory", errno);
	d = fdopendir(own);
	if (!d) {
		int err = errno;

		close(own);
		return sys_fail(diag, path, "cannot read directory", err);
	}
	for (;;) {
		errno = 0;
		e = readdir(d);
		if (!e)
			break;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (names_push(out, e->d_name) != UPK_OK)
			return upk_diag_set(diag, UPK_E_NOMEM, path, -1, "out of memory");
	}
	if (errno)
		return sys_fail(diag, path, "cannot read directory", errno);
	return UPK_OK;
}

/* ---- links ---- */

static bool is_tmp_link_name(const char *n)
{
	return strncmp(n, "." LINK_CURRENT ".tmp-", sizeof("." LINK_CURRENT ".tmp-") - 1) == 0 ||
	       strncmp(n, "." LINK_PREVIOUS ".tmp-", sizeof("." LINK_PREVIOUS ".tmp-") - 1) == 0;
}

/*
 * A crash between symlink() and rename() leaves a temporary link behind;
 * the caller holds the device lock, so no other swap is in flight. Only
 * symlinks are removed: anything else under such a name is not ours.
 */
static enum upk_err clean_tmp_links(const struct store *s, struct upk_diag *diag)
{
	_cleanup_(names_done) struct names l = { 0 };
	char path[PATH_MAX];
	bool removed = false;
	enum upk_err r;

	r = list_dir(s->fd, where(s, NULL, path, sizeof(path)), &l, diag);
	if (r)
		return r;
	for (size_t i = 0; i < l.n; i++) {
		struct stat st;

		if (!is_tmp_link_name(l.v[i]))
			continue;
		if (fstatat(s->fd, l.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
			continue;
		if (unlinkat(s->fd, l.v[i], 0) < 0 && errno != ENOENT)
			return sys_fail(diag, where(s, l.v[i], path, sizeof(path)),
					"cannot remove a leftover temporary link", errno);
		removed = true;
	}
	return removed ? store_sync(s, diag) : UPK_OK;
}

/*
 * Read DIR/<name>/<link> into ret (*ret_have false if absent). What it
 * holds must be a version string naming a real directory beside it;
 * anything else (an absolute path, "..", a dangling name, not a symlink at
 * all) means the store was tampered with or corrupted.
 */
static enum upk_err read_link(const struct store *s, const char *link, char ret[UPK_SEMVER_MAX_LEN],
			      bool *ret_have, struct upk_diag *diag)
{
	char buf[UPK_SEMVER_MAX_LEN], path[PATH_MAX];
	struct upk_semver sv;
	struct stat st;
	ssize_t n;

	if (s->fd < 0) {
		*ret_have = false;
		return UPK_OK;
	}
	n = readlinkat(s->fd, link, buf, sizeof(buf));
	if (n < 0) {
		if (errno == ENOENT) {
			*ret_have = false;
			return UPK_OK;
		}
		if (errno == EINVAL)
			return upk_diag_set(diag, UPK_E_IO, where(s, link, path, sizeof(path)), -1,
					    "not a symbolic link");
		return sys_fail(diag, where(s, link, path, sizeof(path)), "cannot read link",
				errno);
	}
	if ((size_t)n >= sizeof(buf))
		return upk_diag_set(diag, UPK_E_IO, where(s, link, path, sizeof(path)), -1,
				    "does not name a version");
	buf[n] = 0;
	if (upk_semver_parse(buf, &sv) != UPK_OK)
		return upk_diag_set(diag, UPK_E_IO, where(s, link, path, sizeof(path)), -1,
				    "does not name a version");
	if (fstatat(s->fd, buf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return upk_diag_set(diag, UPK_E_IO, where(s, link, path, sizeof(path)), -1,
					    "names version %s, which is not in the store", buf);
		return sys_fail(diag, where(s, link, path, sizeof(path)), "cannot stat its version",
				errno);
	}
	if (!S_ISDIR(st.st_mode))
		return upk_diag_set(diag, UPK_E_IO, where(s, link, path, sizeof(path)), -1,
				    "names %s, which is not a directory", buf);
	memcpy(ret, buf, (size_t)n + 1);
	*ret_have = true;
	return UPK_OK;
}

/*
 * Point DIR/<name>/<link> at version: a new symlink under a temporary name,
 * rename(2) over the old one (atomic for readers resolving the path), then
 * fsync the directory so a power cut keeps one of the two.
 */
static enum upk_err set_link(const struct store *s, const char *link, const char *version,
			     struct upk_diag *diag)
{
	char tmp[64], path[PATH_MAX];
	int err;

	for (int attempt = 0;; attempt++) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		snprintf(tmp, sizeof(tmp), ".%s.tmp-%ld-%ld-%d", link, (long)getpid(),
			 (long)ts.tv_nsec, attempt);
		if (symlinkat(version, s->fd, tmp) == 0)
			break;
		if (errno != EEXIST || attempt >= 8)
			return sys_fail(diag, where(s, tmp, path, sizeof(path)),
					"cannot create link", errno);
	}
	if (renameat(s->fd, tmp, s->fd, link) < 0) {
		err = errno;
		unlinkat(s->fd, tmp, 0);
		return sys_fail(diag, where(s, link, path, sizeof(path)), "cannot replace link",
				err);
	}
	return store_sync(s, diag);
}

/* The version's directory is real and holds the model file, a regular file. */
static enum upk_err check_staged(const struct store *s, const char *version, struct upk_diag *diag)
{
	_cleanup_close_ int vfd = -1;
	char path[PATH_MAX];
	struct stat st;

	if (s->fd < 0)
		return upk_diag_set(diag, UPK_E_NOT_FOUND, where(s, version, path, sizeof(path)),
				    -1, "version not staged");
	vfd = openat(s->fd, version, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (vfd < 0) {
		if (errno == ENOENT)
			return upk_diag_set(diag, UPK_E_NOT_FOUND,
					    where(s, version, path, sizeof(path)), -1,
					    "version not staged");
		if (errno == ELOOP || errno == ENOTDIR)
			return upk_diag_set(diag, UPK_E_IO, where(s, version, path, sizeof(path)),
					    -1, "not a directory (a symbolic link is refused)");
		return sys_fail(diag, where(s, version, path, sizeof(path)),
				"cannot open directory", errno);
	}
	if (fstatat(vfd, s->name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(path, sizeof(path), "%s/%s/%s/%s", s->dir, s->name, version, s->name);
		if (errno == ENOENT)
			return upk_diag_set(diag, UPK_E_NOT_FOUND, path, -1, "model file missing");
		return sys_fail(diag, path, "cannot stat", errno);
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(path, sizeof(path), "%s/%s/%s/%s", s->dir, s->name, version, s->name);
		return upk_diag_set(diag, UPK_E_IO, path, -1, "not a regular file");
	}
	return UPK_OK;
}

/* ---- the operations ---- */

enum upk_err upkc_models_stage(const char *dir, const char *name, const char *version,
			       struct upk_buf *out, struct upk_diag *reterr_diag)
{
	_cleanup_(store_done) struct store s = { .fd = -1 };
	_cleanup_close_ int vfd = -1;
	char path[PATH_MAX];
	bool created = false;
	size_t dlen;
	enum upk_err r;

	r = check_args(dir, name, version, false, reterr_diag);
	if (r)
		return r;
	r = upk_io_mkdir_p(dir, DIR_MODE, reterr_diag);
	if (r)
		return r;
	r = store_open(&s, dir, name, true, reterr_diag);
	if (r)
		return r;
	if (mkdirat(s.fd, version, DIR_MODE) == 0)
		created = true;
	else if (errno != EEXIST)
		return sys_fail(reterr_diag, where(&s, version, path, sizeof(path)),
				"cannot create directory", errno);
	vfd = openat(s.fd, version, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (vfd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			return upk_diag_set(reterr_diag, UPK_E_IO,
					    where(&s, version, path, sizeof(path)), -1,
					    "not a directory (a symbolic link is refused)");
		return sys_fail(reterr_diag, where(&s, version, path, sizeof(path)),
				"cannot open directory", errno);
	}
	if (created) {
		r = store_sync(&s, reterr_diag);
		if (r)
			return r;
	}
	dlen = strlen(dir);
	r = upk_buf_printf(out, "%s%s%s/%s/%s", dir, dir[dlen - 1] == '/' ? "" : "/", name, version,
			   name);
	if (r)
		return upk_diag_set(reterr_diag, r, NULL, -1, "out of memory");
	return UPK_OK;
}

static enum upk_err get_link(const char *dir, const char *name, const char *link,
			     struct upk_buf *out, bool *ret_have, struct upk_diag *diag)
{
	_cleanup_(store_done) struct store s = { .fd = -1 };
	char v[UPK_SEMVER_MAX_LEN];
	bool have = false;
	enum upk_err r;

	r = check_args(dir, name, NULL, true, diag);
	if (!r)
		r = store_open(&s, dir, name, false, diag);
	if (!r)
		r = read_link(&s, link, v, &have, diag);
	if (r)
		return r;
	if (have) {
		r = upk_buf_append_str(out, v);
		if (r)
			return upk_diag_set(diag, r, NULL, -1, "out of memory");
	}
	*ret_have = have;
	return UPK_OK;
}

enum upk_err upkc_models_current(const char *dir, const char *name, struct upk_buf *out,
				 bool *ret_have, struct upk_diag *reterr_diag)
{
	return get_link(dir, name, LINK_CURRENT, out, ret_have, reterr_diag);
}

enum upk_err upkc_models_previous(const char *dir, const char *name, struct upk_buf *out,
				  bool *ret_have, struct upk_diag *reterr_diag)
{
	return get_link(dir, name, LINK_PREVIOUS, out, ret_have, reterr_diag);
}

enum upk_err upkc_models_activate(const char *dir, const char *name, const char *version,
				  struct upk_diag *reterr_diag)
{
	_cleanup_(store_done) struct store s = { .fd = -1 };
	char cur[UPK_SEMVER_MAX_LEN];
	bool have = false;
	enum upk_err r;

	r = check_args(dir, name, version, false, reterr_diag);
	if (!r)
		r = store_open(&s, dir, name, false, reterr_diag);
	if (!r)
		r = check_staged(&s, version, reterr_diag);
	if (!r)
		r = clean_tmp_links(&s, reterr_diag);
	if (!r)
		r = read_link(&s, LINK_CURRENT, cur, &have, reterr_diag);
	if (r)
		return r;
	if (have && strcmp(cur, version) == 0)
		return UPK_OK;
	if (have) {
		r = set_link(&s, LINK_PREVIOUS, cur, reterr_diag);
		if (r)
			return r;
	}
	return set_link(&s, LINK_CURRENT, version, reterr_diag);
}

enum upk_err upkc_models_revert(const char *dir, const char *name, const char *version,
				struct upk_diag *reterr_diag)
{
	_cleanup_(store_done) struct store s = { .fd = -1 };
	char path[PATH_MAX];
	struct stat st;
	enum upk_err r;

	r = check_args(dir, name, version, true, reterr_diag);
	if (!r)
		r = store_open(&s, dir, name, false, reterr_diag);
	if (r)
		return r;
	if (version) {
		r = check_staged(&s, version, reterr_diag);
		if (!r)
			r = clean_tmp_links(&s, reterr_diag);
		if (!r)
			r = set_link(&s, LINK_CURRENT, version, reterr_diag);
		return r;
	}
	if (s.fd < 0)
		return UPK_OK;
	r = clean_tmp_links(&s, reterr_diag);
	if (r)
		return r;
	if (fstatat(s.fd, LINK_CURRENT, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return UPK_OK;
		return sys_fail(reterr_diag, where(&s, LINK_CURRENT, path, sizeof(path)),
				"cannot stat", errno);
	}
	if (!S_ISLNK(st.st_mode))
		return upk_diag_set(reterr_diag, UPK_E_IO,
				    where(&s, LINK_CURRENT, path, sizeof(path)), -1,
				    "not a symbolic link; not removed");
	if (unlinkat(s.fd, LINK_CURRENT, 0) < 0)
		return sys_fail(reterr_diag, where(&s, LINK_CURRENT, path, sizeof(path)),
				"cannot remove", errno);
	return store_sync(&s, reterr_diag);
}

/*
 * Remove one version's directory: its entries must all be regular files
 * (checked before the first unlink, so a refused version stays whole);
 * a symlink or a subdirectory is never followed into.
 */
static enum upk_err remove_version(const struct store *s, const char *version,
				   struct upk_diag *diag)
{
	_cleanup_(names_done) struct names l = { 0 };
	_cleanup_close_ int vfd = -1;
	char path[PATH_MAX];
	enum upk_err r;

	vfd = openat(s->fd, version, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (vfd < 0)
		return sys_fail(diag, where(s, version, path, sizeof(path)),
				"cannot open directory", errno);
	r = list_dir(vfd, where(s, version, path, sizeof(path)), &l, diag);
	if (r)
		return r;
	for (size_t i = 0; i < l.n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s/%s/%s", s->dir, s->name, version, l.v[i]);
		if (fstatat(vfd, l.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			return sys_fail(diag, path, "cannot stat", errno);
		if (!S_ISREG(st.st_mode))
			return upk_diag_set(diag, UPK_E_IO, path, -1,
					    "not a regular file; version not removed");
	}
	for (size_t i = 0; i < l.n; i++) {
		if (unlinkat(vfd, l.v[i], 0) < 0 && errno != ENOENT) {
			snprintf(path, sizeof(path), "%s/%s/%s/%s", s->dir, s->name, version,
				 l.v[i]);
			return sys_fail(diag, path, "cannot remove", errno);
		}
	}
	if (unlinkat(s->fd, version, AT_REMOVEDIR) < 0)
		return sys_fail(diag, where(s, version, path, sizeof(path)),
				"cannot remove directory", errno);
	return UPK_OK;
}

enum upk_err upkc_models_prune(const char *dir, const char *name, const char *keep,
			       struct upk_diag *reterr_diag)
{
	_cleanup_(store_done) struct store s = { .fd = -1 };
	_cleanup_(names_done) struct names l = { 0 };
	char cur[UPK_SEMVER_MAX_LEN], prev[UPK_SEMVER_MAX_LEN], path[PATH_MAX];
	bool have_cur = false, have_prev = false, removed = false;
	enum upk_err r;

	r = check_args(dir, name, keep, true, reterr_diag);
	if (!r)
		r = store_open(&s, dir, name, false, reterr_diag);
	if (r || s.fd < 0)
		return r;
	/* A link that cannot be read could name anything: delete nothing then. */
	r = clean_tmp_links(&s, reterr_diag);
	if (!r)
		r = read_link(&s, LINK_CURRENT, cur, &have_cur, reterr_diag);
	if (!r)
		r = read_link(&s, LINK_PREVIOUS, prev, &have_prev, reterr_diag);
	if (!r)
		r = list_dir(s.fd, where(&s, NULL, path, sizeof(path)), &l, reterr_diag);
	if (r)
		return r;
	for (size_t i = 0; i < l.n; i++) {
		const char *v = l.v[i];
		struct upk_semver sv;
		struct stat st;

		if (upk_semver_parse(v, &sv) != UPK_OK)
			continue; /* not a version directory: not ours to delete */
		if ((have_cur && strcmp(v, cur) == 0) || (have_prev && strcmp(v, prev) == 0) ||
		    (keep && strcmp(v, keep) == 0))
			continue;
		if (fstatat(s.fd, v, &st, AT_SYMLINK_NOFOLLOW) < 0)
			return sys_fail(reterr_diag, where(&s, v, path, sizeof(path)),
					"cannot stat", errno);
		if (!S_ISDIR(st.st_mode))
			continue;
		r = remove_version(&s, v, reterr_diag);
		if (r)
			break;
		removed = true;
	}
	if (removed) {
		enum upk_err r2 = store_sync(&s, r ? NULL : reterr_diag);

		if (!r)
			r = r2;
	}
	return r;
}
