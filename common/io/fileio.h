/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The file half of the core (library upkeep_io, include dir common/io):
 * bounded reads, atomic writes and locks, shared by keys/, server/ and
 * client/. The pure core in common/ never includes this.
 *
 * Atomic write: a temporary file in the target's directory (O_EXCL,
 * O_CLOEXEC, the requested mode), write all, fsync, rename over the target,
 * fsync the directory. A crash at any point leaves either the old file or
 * the new one, never a mix; on failure the temporary is removed and the
 * target is unchanged.
 *
 * Errors name the path in diag->where and the cause (strerror) in reason.
 * THREAD SAFETY: reentrant.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "err.h"

/*
 * Read a whole regular file of at most max_len bytes into out (appended).
 * UPK_E_TOO_LARGE before allocating if the file is larger; UPK_E_NOT_FOUND
 * if it does not exist; UPK_E_USAGE if it is not a regular file (a
 * directory given where a file belongs); UPK_E_IO otherwise. If ret_mode is not NULL it gets
 * st_mode of the opened file (for permission checks without a race).
 */
UPK_WUR enum upk_err upk_io_read_file(const char *path, size_t max_len, struct upk_buf *out,
				      mode_t *ret_mode, struct upk_diag *reterr_diag);

/* Atomically replace (or create) path with data. */
UPK_WUR enum upk_err upk_io_write_atomic(const char *path, const void *data, size_t len,
					 mode_t mode, struct upk_diag *reterr_diag);

/* One file of upk_io_write_atomic_many. */
struct upk_io_file {
	const char *path;
	const void *data;
	size_t len;
};

/*
 * upk_io_write_atomic for several files, durably, at about the cost of one:
 * every file is written to a temporary, then all are synced, renamed into
 * place in list order, and each directory is synced once. On failure the
 * files before the failing one may have been replaced, the others are
 * untouched; no file is ever partly written.
 */
UPK_WUR enum upk_err upk_io_write_atomic_many(const struct upk_io_file *files, size_t n,
					      mode_t mode, struct upk_diag *reterr_diag);

/* Like upk_io_write_atomic, but UPK_E_EXISTS (nothing written) if path exists. */
UPK_WUR enum upk_err upk_io_create_atomic(const char *path, const void *data, size_t len,
					  mode_t mode, struct upk_diag *reterr_diag);

/* fsync a directory so a rename or unlink in it is durable. */
UPK_WUR enum upk_err upk_io_fsync_dir(const char *dir, struct upk_diag *reterr_diag);

/* mkdir -p with mode for created components. */
UPK_WUR enum upk_err upk_io_mkdir_p(const char *path, mode_t mode, struct upk_diag *reterr_diag);

/*
 * Take an exclusive lock on lock_path (created 0600 if missing), waiting up
 * to timeout_ms (0: do not wait). UPK_E_LOCKED if still held by another
 * process. *ret_fd holds the lock until upk_io_unlock(fd).
 */
UPK_WUR enum upk_err upk_io_lock(const char *lock_path, int timeout_ms, int *ret_fd,
				 struct upk_diag *reterr_diag);
void upk_io_unlock(int fd);

/* True if path exists (any type, symlinks not followed). */
bool upk_io_exists(const char *path);
