/* SPDX-License-Identifier: Apache-2.0 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static enum upk_err io_fail(struct upk_diag *diag, const char *path, const char *what, int errnum)
{
	enum upk_err e = UPK_E_IO;

	if (errnum == ENOENT)
		e = UPK_E_NOT_FOUND;
	else if (errnum == EEXIST)
		e = UPK_E_EXISTS;
	else if (errnum == ENOSPC || errnum == EDQUOT)
		e = UPK_E_NOSPACE;
	else if (errnum == ENOMEM)
		e = UPK_E_NOMEM;
	return upk_diag_set(diag, e, path, -1, "%s: %s", what, strerror(errnum));
}

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

enum upk_err upk_io_read_file(const char *path, size_t max_len, struct upk_buf *out,
			      mode_t *ret_mode, struct upk_diag *reterr_diag)
{
	_cleanup_(closep) int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	size_t start = out->len, want;
	enum upk_err r;

	if (fd < 0)
		return io_fail(reterr_diag, path, "cannot open", errno);
	if (fstat(fd, &st) < 0)
		return io_fail(reterr_diag, path, "cannot stat", errno);
	if (!S_ISREG(st.st_mode))
		return upk_diag_set(reterr_diag, UPK_E_USAGE, path, -1, "not a regular file");
	if ((uint64_t)st.st_size > max_len)
		return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, path, -1,
				    "file is %lld bytes, limit %zu", (long long)st.st_size,
				    max_len);
	want = (size_t)st.st_size;
	/* One byte more than the limit tells a file that grew since fstat. */
	r = upk_buf_reserve(out, want + 1);
	if (r)
		return upk_diag_set(reterr_diag, r, path, -1, "cannot allocate %zu bytes", want);
	for (;;) {
		size_t room = out->cap - 1 - out->len;
		ssize_t n;

		if (out->len - start > max_len) {
			out->len = start;
			return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, path, -1,
					    "file grew beyond the limit of %zu bytes", max_len);
		}
		if (room == 0) {
			r = upk_buf_reserve(out, 4096);
			if (r) {
				out->len = start;
				return upk_diag_set(reterr_diag, r, path, -1, "out of memory");
			}
			room = out->cap - 1 - out->len;
		}
		n = read(fd, out->data + out->len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			out->len = start;
			return io_fail(reterr_diag, path, "read failed", errno);
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
	}
	if (out->len - start > max_len) {
		out->len = start;
		return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, path, -1,
				    "file grew beyond the limit of %zu bytes", max_len);
	}
	out->data[out->len] = 0;
	if (ret_mode)
		*ret_mode = st.st_mode;
	return UPK_OK;
}

static enum upk_err write_all(int fd, const void *data, size_t len, const char *path,
			      struct upk_diag *diag)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return io_fail(diag, path, "write failed", errno);
		}
		p += n;
		len -= (size_t)n;
	}
	return UPK_OK;
}

/* Directory part of path ("." when none), in buf. */
static void dir_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		snprintf(buf, size, ".");
	} else if (slash == path) {
		snprintf(buf, size, "/");
	} else {
		size_t n = (size_t)(slash - path);
		if (n >= size)
			n = size - 1;
		memcpy(buf, path, n);
		buf[n] = 0;
	}
}

enum upk_err upk_io_fsync_dir(const char *dir, struct upk_diag *reterr_diag)
{
	_cleanup_(closep) int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return io_fail(reterr_diag, dir, "cannot open directory", errno);
	if (fsync(fd) < 0 && errno != EINVAL)
		return io_fail(reterr_diag, dir, "fsync failed", errno);
	return UPK_OK;
}

static enum upk_err write_atomic(const char *path, const void *data, size_t len, mode_t mode,
				 bool replace, struct upk_diag *diag)
{
	char tmp[4096], dir[4096];
	struct timespec ts;
	int fd, n;
	enum upk_err r;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	n = snprintf(tmp, sizeof(tmp), "%s.tmp-%ld-%ld", path, (long)getpid(), (long)ts.tv_nsec);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return upk_diag_set(diag, UPK_E_USAGE, path, -1, "path too long");
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return io_fail(diag, tmp, "cannot create", errno);
	if (fchmod(fd, mode) < 0) { /* umask must not widen or narrow what was asked */
		r = io_fail(diag, tmp, "cannot chmod", errno);
		goto fail;
	}
	r = write_all(fd, data, len, tmp, diag);
	if (r)
		goto fail;
	if (fsync(fd) < 0) {
		r = io_fail(diag, tmp, "fsync failed", errno);
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = io_fail(diag, tmp, "close failed", errno);
		goto fail;
	}
	fd = -1;
	if (replace) {
		if (rename(tmp, path) < 0) {
			r = io_fail(diag, path, "cannot rename into place", errno);
			goto fail;
		}
	} else {
		/* link() fails with EEXIST instead of replacing: no window for a race. */
		if (link(tmp, path) < 0) {
			r = errno == EEXIST ? upk_diag_set(diag, UPK_E_EXISTS, path, -1,
							   "already exists; not overwritten")
					    : io_fail(diag, path, "cannot link into place", errno);
			goto fail;
		}
		unlink(tmp);
	}
	dir_of(path, dir, sizeof(dir));
	return upk_io_fsync_dir(dir, diag);
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

enum upk_err upk_io_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
				 struct upk_diag *reterr_diag)
{
	return write_atomic(path, data, len, mode, true, reterr_diag);
}

enum upk_err upk_io_create_atomic(const char *path, const void *data, size_t len, mode_t mode,
				  struct upk_diag *reterr_diag)
{
	return write_atomic(path, data, len, mode, false, reterr_diag);
}

/*
 * All temporary files are written before the first fsync: on ext4 (data=
 * ordered) that fsync's journal commit carries the data of all of them, so
 * the later ones find little left to do, and one directory sync covers every
 * rename. Sequential write_atomic() calls cost two commits per file.
 */
enum upk_err upk_io_write_atomic_many(const struct upk_io_file *files, size_t n, mode_t mode,
				      struct upk_diag *reterr_diag)
{
	struct timespec ts;
	char(*tmp)[4096] = NULL;
	int *fds = NULL;
	size_t i, done = 0; /* files renamed into place */
	enum upk_err r = UPK_OK;

	if (n == 0)
		return UPK_OK;
	tmp = calloc(n, sizeof(*tmp));
	fds = malloc(n * sizeof(*fds));
	if (!tmp || !fds) {
		free(tmp);
		free(fds);
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	}
	for (i = 0; i < n; i++)
		fds[i] = -1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (i = 0; i < n && !r; i++) {
		int len = snprintf(tmp[i], sizeof(tmp[i]), "%s.tmp-%ld-%ld-%zu", files[i].path,
				   (long)getpid(), (long)ts.tv_nsec, i);

		if (len < 0 || (size_t)len >= sizeof(tmp[i])) {
			tmp[i][0] = 0;
			r = upk_diag_set(reterr_diag, UPK_E_USAGE, files[i].path, -1,
					 "path too long");
			break;
		}
		fds[i] = open(tmp[i], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
		if (fds[i] < 0) {
			r = io_fail(reterr_diag, tmp[i], "cannot create", errno);
			tmp[i][0] = 0; /* nothing to remove */
		} else if (fchmod(fds[i], mode) < 0) {
			r = io_fail(reterr_diag, tmp[i], "cannot chmod", errno);
		} else {
			r = write_all(fds[i], files[i].data, files[i].len, tmp[i], reterr_diag);
		}
	}
	for (i = 0; i < n && !r; i++) {
		if (fsync(fds[i]) < 0)
			r = io_fail(reterr_diag, tmp[i], "fsync failed", errno);
		if (close(fds[i]) < 0 && !r)
			r = io_fail(reterr_diag, tmp[i], "close failed", errno);
		fds[i] = -1;
	}
	/* In order: a failure leaves the earlier files replaced and the later ones untouched. */
	for (i = 0; i < n && !r; i++) {
		if (rename(tmp[i], files[i].path) < 0)
			r = io_fail(reterr_diag, files[i].path, "cannot rename into place", errno);
		else
			done++;
	}
	for (i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		if (i >= done && tmp[i][0])
			unlink(tmp[i]);
	}
	/* Each directory once (a list is normally all in one). */
	for (i = 0; i < done; i++) {
		char dir[4096], prev[4096];
		bool seen = false;
		enum upk_err r2;

		dir_of(files[i].path, dir, sizeof(dir));
		for (size_t j = 0; j < i && !seen; j++) {
			dir_of(files[j].path, prev, sizeof(prev));
			seen = strcmp(dir, prev) == 0;
		}
		if (seen)
			continue;
		r2 = upk_io_fsync_dir(dir, r ? NULL : reterr_diag);
		if (!r)
			r = r2;
	}
	free(tmp);
	free(fds);
	return r;
}

enum upk_err upk_io_mkdir_p(const char *path, mode_t mode, struct upk_diag *reterr_diag)
{
	char buf[4096];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return upk_diag_set(reterr_diag, UPK_E_USAGE, path, -1, "bad directory path");
	memcpy(buf, path, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != 0)
			continue;
		buf[i] = 0;
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return io_fail(reterr_diag, buf, "cannot create directory", errno);
		if (i < n)
			buf[i] = '/';
	}
	return UPK_OK;
}

enum upk_err upk_io_lock(const char *lock_path, int timeout_ms, int *ret_fd,
			 struct upk_diag *reterr_diag)
{
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int waited = 0;

	if (fd < 0)
		return io_fail(reterr_diag, lock_path, "cannot open lock file", errno);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			*ret_fd = fd;
			return UPK_OK;
		}
		if (errno != EWOULDBLOCK && errno != EINTR) {
			enum upk_err r = io_fail(reterr_diag, lock_path, "cannot lock", errno);
			close(fd);
			return r;
		}
		if (waited >= timeout_ms) {
			close(fd);
			return upk_diag_set(reterr_diag, UPK_E_LOCKED, lock_path, -1,
					    "held by another process; gave up after %d ms",
					    timeout_ms);
		}
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
		waited += 50;
	}
}

void upk_io_unlock(int fd)
{
	if (fd >= 0) {
		flock(fd, LOCK_UN);
		close(fd);
	}
}

bool upk_io_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}
