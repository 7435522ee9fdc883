/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The repository commands (repo.h): pure helpers, the transaction that every
 * writing command runs (lock, roll forward, load and check the state, edit
 * in memory, sign, write crash-safely), and the independent verifier.
 *
 * The transaction keeps the "compute everything, then write" order of
 * repo.h: nothing under metadata/ or targets/ is touched before every
 * signature has been made and every size limit checked, so a refusal never
 * leaves a trace, and the journal makes the switch to the new state a
 * single atomic rename that the next command completes if this one dies.
 */
#define _GNU_SOURCE 1 /* vasprintf, syncfs, reallocarray */

#include "repo.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "bundle_io.h"
#include "fileio.h"
#include "hash.h"
#include "hex.h"
#include "json.h"
#include "tuftime.h"
#include "util.h"

/* The TUF specification version written into new metadata (python-tuf's). */
#define SPEC_VERSION "1.0.31"
/* Largest config or journal file read back (a journal holds a root and a timestamp). */
#define PRIVATE_FILE_MAX (UPK_META_MAX_ROOT * 2 + UPK_META_MAX_TIMESTAMP * 2 + 65536)
/* Most files looked at in an online key directory. */
#define ONLINE_DIR_MAX_FILES 4096
/* Deepest delegation chain followed (python-tuf's max_delegations is 32). */
#define MAX_DELEGATION_DEPTH 32
/* Copy and hash buffer. */
#define COPY_BUF_SIZE (256 * 1024)

/* ------------------------------------------------------------------------ */
/* Fault injection: a SIGKILL at the n-th step boundary (debug builds only). */

#ifndef NDEBUG
/* Process-wide: the tests arm it once per process through the environment. */
static long failpoint_target;
static long failpoint_count;

bool upks_repo_failpoint_arm(long n)
{
	failpoint_target = n;
	failpoint_count = 0;
	return true;
}

static void step(void)
{
	if (failpoint_target > 0 && ++failpoint_count == failpoint_target)
		raise(SIGKILL);
}
#else
bool upks_repo_failpoint_arm(long n)
{
	(void)n;
	return false;
}

static void step(void)
{
}
#endif

/* ------------------------------------------------------------------------ */
/* Small helpers. */

static char *strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *strf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

static enum upk_err nomem(struct upk_diag *d)
{
	return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, "out of memory");
}

/* Change d's error to err and put `before` in front of its reason. */
static enum upk_err diag_rewrap(struct upk_diag *d, enum upk_err err, const char *before)
{
	char reason[sizeof(d->reason)];

	memcpy(reason, d->reason, sizeof(reason));
	return upk_diag_set(d, err, NULL, -1, "%s%.200s", before, reason);
}

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

static enum upk_err errno_err(int e)
{
	switch (e) {
	case ENOENT:
		return UPK_E_NOT_FOUND;
	case EEXIST:
		return UPK_E_EXISTS;
	case ENOSPC:
	case EDQUOT:
		return UPK_E_NOSPACE;
	case ENOMEM:
		return UPK_E_NOMEM;
	default:
		return UPK_E_IO;
	}
}

static enum upk_err sys_fail(struct upk_diag *d, const char *path, const char *what)
{
	int e = errno;

	return upk_diag_set(d, errno_err(e), path, -1, "%s: %s", what, strerror(e));
}

static bool is_top_level_name(const char *name)
{
	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		if (strcmp(name, upk_role_name((enum upk_role)i)) == 0)
			return true;
	}
	return false;
}

/* ------------------------------------------------------------------------ */
/* Pure helpers. */

enum upk_err upks_repo_target_path_check(const char *path, struct upk_diag *reterr_diag)
{
	size_t len = strlen(path), seg = 0;
	const char *last;

	if (len == 0)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, "", -1, "empty target path");
	if (len > UPKS_REPO_TARGET_PATH_MAX)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "target path of %zu bytes is longer than %d", len,
				    UPKS_REPO_TARGET_PATH_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)path[i];

		if (c < 0x21 || c > 0x7e || c == '\\' || c == '%' || c == '?' || c == '#')
			return upk_diag_set(
				reterr_diag, UPK_E_USAGE, path, -1,
				"target path has a byte 0x%02x that is not allowed (only "
				"printable ASCII without \\ %% ? #)",
				c);
	}
	if (path[0] == '/')
		return upk_diag_set(reterr_diag, UPK_E_USAGE, path, -1,
				    "target path starts with '/'");
	for (size_t i = 0; i <= len; i++) {
		if (path[i] != '/' && path[i] != 0) {
			seg++;
			continue;
		}
		if (seg == 0)
			return upk_diag_set(reterr_diag, UPK_E_USAGE, path, -1,
					    "target path has an empty segment");
		if ((seg == 1 && path[i - 1] == '.') ||
		    (seg == 2 && path[i - 1] == '.' && path[i - 2] == '.'))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, path, -1,
					    "target path has a '.' or '..' segment");
		if (seg > 255)
			return upk_diag_set(reterr_diag, UPK_E_USAGE, path, -1,
					    "target path has a segment longer than 255 bytes");
		seg = 0;
	}
	last = strrchr(path, '/');
	last = last ? last + 1 : path;
	if (strlen(last) > UPKS_REPO_TARGET_NAME_MAX)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, path, -1,
				    "target name '%.40s...' is longer than %d bytes", last,
				    UPKS_REPO_TARGET_NAME_MAX);
	return UPK_OK;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '~' || c == '-';
}

enum upk_err upks_repo_role_name_check(const char *name, struct upk_diag *reterr_diag)
{
	size_t len = strlen(name);

	if (len == 0 || len > 128)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "role name must have 1 to 128 bytes");
	for (size_t i = 0; i < len; i++) {
		if (!unreserved((unsigned char)name[i]))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "role name '%.128s' may only hold A-Z a-z 0-9 . _ ~ -",
					    name);
	}
	if (name[0] == '.')
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "role name '%.128s' starts with '.'", name);
	if (is_top_level_name(name))
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "'%s' is a top-level role, not a delegated one", name);
	return UPK_OK;
}

size_t upks_repo_meta_file_name(const char *role, int64_t version, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	struct upk_buf b = UPK_BUF_INIT;
	size_t n;
	bool ok = upk_buf_printf(&b, "%lld.", (long long)version) == UPK_OK;

	for (const unsigned char *p = (const unsigned char *)role; ok && *p; p++) {
		if (unreserved(*p)) {
			ok = upk_buf_append_byte(&b, *p) == UPK_OK;
		} else {
			char esc[3] = { '%', hex[*p >> 4], hex[*p & 15] };

			ok = upk_buf_append(&b, esc, 3) == UPK_OK;
		}
	}
	ok = ok && upk_buf_append_str(&b, ".json") == UPK_OK;
	if (!ok) {
		upk_buf_done(&b);
		if (size)
			buf[0] = 0;
		return 0;
	}
	n = b.len;
	if (size) {
		size_t c = n < size - 1 ? n : size - 1;

		memcpy(buf, b.data, c);
		buf[c] = 0;
	}
	upk_buf_done(&b);
	return n;
}

/* fnmatch of one segment with '*' and '?' only (no sets): greedy star with backtracking. */
static bool seg_match(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;

	while (si < sn) {
		if (pi < pn && (p[pi] == '?' || p[pi] == s[si])) {
			pi++;
			si++;
		} else if (pi < pn && p[pi] == '*') {
			star_p = pi++;
			star_s = si;
		} else if (star_p != SIZE_MAX) {
			pi = star_p + 1;
			si = ++star_s;
		} else {
			return false;
		}
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

bool upks_repo_glob_match(const char *pattern, const char *path)
{
	const char *p = pattern, *s = path;

	for (;;) {
		const char *pe = strchr(p, '/'), *se = strchr(s, '/');
		size_t pn = pe ? (size_t)(pe - p) : strlen(p);
		size_t sn = se ? (size_t)(se - s) : strlen(s);

		if (!pe != !se)
			return false;
		if (!seg_match(p, pn, s, sn))
			return false;
		if (!pe)
			return true;
		p = pe + 1;
		s = se + 1;
	}
}

enum upk_err upks_repo_glob_check(const char *pattern, struct upk_diag *reterr_diag)
{
	size_t len = strlen(pattern);

	if (len == 0 || len > UPKS_REPO_TARGET_PATH_MAX)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "path pattern must have 1 to %d bytes",
				    UPKS_REPO_TARGET_PATH_MAX);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pattern[i];

		if (c < 0x21 || c > 0x7e || strchr("[]{}()!+@\\", c))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "path pattern '%.100s': byte '%c' (0x%02x) is not "
					    "allowed (python-tuf and tuf-js read it differently)",
					    pattern, c >= 0x21 && c <= 0x7e ? c : '?', c);
		if (c == '/' && (i == 0 || pattern[i - 1] == '/' || i + 1 == len))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "path pattern '%.100s' has an empty segment", pattern);
	}
	return UPK_OK;
}

bool upks_repo_delegation_allows(const struct upk_delegated_role *dr, const char *path)
{
	uint8_t digest[UPK_HASH_MAX_LEN];
	char hex[2 * UPK_SHA256_LEN + 1];

	if (dr->has_paths) {
		for (size_t i = 0; i < dr->n_paths; i++) {
			if (upks_repo_glob_match(dr->paths[i], path))
				return true;
		}
		return false;
	}
	if (upk_hash_oneshot(UPK_HASH_SHA256, path, strlen(path), digest) != UPK_OK)
		return false;
	upk_hex_encode(digest, UPK_SHA256_LEN, hex);
	for (size_t i = 0; i < dr->n_prefixes; i++) {
		if (strncmp(hex, dr->prefixes[i], strlen(dr->prefixes[i])) == 0)
			return true;
	}
	return false;
}

bool upks_repo_is_due(int64_t now, int64_t expires, int64_t lifetime)
{
	if (lifetime <= 0)
		return true;
	return now >= expires - lifetime / 2;
}

/* ------------------------------------------------------------------------ */
/* The transaction: state of one writing command. */

/* A target file copied into .upkeep/tmp, waiting to be linked into targets/. */
struct staged {
	char *tmp;
	char *dir; /* targets/DIR */
	/* targets/DIR/SHA256.NAME, targets/DIR/SHA512.NAME; NULL for a hash not listed */
	char *dest[2];
	int64_t length;
};

/* A targets role: "targets" (index 0) or a delegated role reached from it. */
struct trole {
	char *name;
	char *delegator; /* NULL for "targets" */
	int depth;
	struct upk_meta *cur;	   /* current metadata; NULL if it has none yet */
	json_t *next;		   /* the new `signed` object while edited, else NULL */
	struct upk_meta *new_meta; /* the new version (signed at commit) */
	struct upk_buf bytes;	   /* its file bytes */
};

/* A key file in the online key directory (read, not yet opened). */
struct online_file {
	char *path;
	char keyid[UPK_KEYID_HEX_LEN + 1];
	bool encrypted;
	struct upkk_key *key; /* opened on first use */
};

struct txn {
	const struct upks_repo_ctx *ctx;
	struct upk_diag *d;
	char *repo, *meta_dir, *targets_dir, *priv_dir, *tmp_dir;
	int lock_fd;
	unsigned long seq;
	bool rolled_forward;

	json_t *cfg; /* .upkeep/config.json */
	bool cfg_dirty;

	struct upk_meta *root, *timestamp, *snapshot; /* current */
	struct trole *roles;
	size_t n_roles, cap_roles;

	json_t *root_next; /* new root `signed` while edited */
	struct upk_meta *root_new;
	struct upk_buf root_bytes;
	bool keep_snapshot; /* timestamp-only refresh */
	struct upk_meta *snap_new, *ts_new;
	struct upk_buf snap_bytes, ts_bytes;

	struct staged *staged;
	size_t n_staged, cap_staged;
	bool *used; /* per ctx->signers: signed something */

	bool online_scanned;
	struct online_file *online;
	size_t n_online;
	char online_skipped[200];

	uint8_t *copybuf;
};

static void trole_done(struct trole *r)
{
	free(r->name);
	free(r->delegator);
	upk_meta_free(r->cur);
	if (r->next)
		json_decref(r->next);
	upk_meta_free(r->new_meta);
	upk_buf_done(&r->bytes);
}

static void txn_done(struct txn *t)
{
	for (size_t i = 0; i < t->n_staged; i++) {
		if (t->staged[i].tmp)
			unlink(t->staged[i].tmp);
		free(t->staged[i].tmp);
		free(t->staged[i].dir);
		free(t->staged[i].dest[0]);
		free(t->staged[i].dest[1]);
	}
	free(t->staged);
	for (size_t i = 0; i < t->n_roles; i++)
		trole_done(&t->roles[i]);
	free(t->roles);
	for (size_t i = 0; i < t->n_online; i++) {
		free(t->online[i].path);
		upkk_key_free(t->online[i].key);
	}
	free(t->online);
	upk_meta_free(t->root);
	upk_meta_free(t->timestamp);
	upk_meta_free(t->snapshot);
	if (t->root_next)
		json_decref(t->root_next);
	upk_meta_free(t->root_new);
	upk_meta_free(t->snap_new);
	upk_meta_free(t->ts_new);
	upk_buf_done(&t->root_bytes);
	upk_buf_done(&t->snap_bytes);
	upk_buf_done(&t->ts_bytes);
	if (t->cfg)
		json_decref(t->cfg);
	free(t->used);
	free(t->copybuf);
	if (t->lock_fd >= 0)
		upk_io_unlock(t->lock_fd);
	free(t->repo);
	free(t->meta_dir);
	free(t->targets_dir);
	free(t->priv_dir);
	free(t->tmp_dir);
	memset(t, 0, sizeof(*t));
	t->lock_fd = -1;
}

/* ---- file writing, one step per system call that changes the disk ---- */

static enum upk_err write_all(int fd, const uint8_t *p, size_t len, const char *path,
			      struct upk_diag *d)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return sys_fail(d, path, "write failed");
		p += n;
		len -= (size_t)n;
	}
	return UPK_OK;
}

static char *tmp_name(struct txn *t)
{
	return strf("%s/%ld.%lu", t->tmp_dir, (long)getpid(), t->seq++);
}

/* Open a new temporary file with exactly `mode`. */
static enum upk_err tmp_open(struct txn *t, mode_t mode, char **ret_path, int *ret_fd)
{
	char *path = tmp_name(t);
	int fd;

	if (!path)
		return nomem(t->d);
	step();
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		enum upk_err r = sys_fail(t->d, path, "cannot create");

		free(path);
		return r;
	}
	if (fchmod(fd, mode) < 0) {
		enum upk_err r = sys_fail(t->d, path, "cannot chmod");

		close(fd);
		unlink(path);
		free(path);
		return r;
	}
	*ret_path = path;
	*ret_fd = fd;
	return UPK_OK;
}

/*
 * Replace (or create) dest with data: a temporary file in .upkeep/tmp
 * (fsync'd when sync), renamed over dest. The caller fsyncs dest's
 * directory or the file system when the order of durability matters.
 */
static enum upk_err put_file(struct txn *t, const char *dest, const void *data, size_t len,
			     mode_t mode, bool sync)
{
	_cleanup_free_ char *tmp = NULL;
	int fd = -1;
	enum upk_err r = tmp_open(t, mode, &tmp, &fd);

	if (r)
		return r;
	step();
	r = write_all(fd, data, len, tmp, t->d);
	if (!r && sync) {
		step();
		if (fsync(fd) < 0)
			r = sys_fail(t->d, tmp, "fsync failed");
	}
	if (close(fd) < 0 && !r)
		r = sys_fail(t->d, tmp, "close failed");
	if (!r) {
		step();
		if (rename(tmp, dest) < 0)
			r = sys_fail(t->d, dest, "cannot rename into place");
	}
	if (r)
		unlink(tmp);
	return r;
}

static enum upk_err sync_dir(struct txn *t, const char *dir)
{
	step();
	return upk_io_fsync_dir(dir, t->d);
}

/* Make every file written so far durable: one syncfs instead of an fsync per target. */
static enum upk_err sync_fs(struct txn *t)
{
	_cleanup_(closep) int fd = open(t->repo, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return sys_fail(t->d, t->repo, "cannot open");
	step();
	if (syncfs(fd) < 0)
		return sys_fail(t->d, t->repo, "syncfs failed");
	return UPK_OK;
}

/* ---- config (.upkeep/config.json) ---- */

static int64_t default_duration(const char *role)
{
	if (strcmp(role, "root") == 0)
		return UPKS_REPO_EXPIRES_ROOT;
	if (strcmp(role, "snapshot") == 0)
		return UPKS_REPO_EXPIRES_SNAPSHOT;
	if (strcmp(role, "timestamp") == 0)
		return UPKS_REPO_EXPIRES_TIMESTAMP;
	return UPKS_REPO_EXPIRES_TARGETS;
}

/* A role's lifetime: its own setting, else (delegated roles) that of targets, else the default. */
static int64_t cfg_duration(json_t *cfg, const char *role)
{
	json_t *exp = json_object_get(cfg, "expires");
	json_t *v = json_object_get(exp, role);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (!is_top_level_name(role)) {
		v = json_object_get(exp, "targets");
		if (json_is_integer(v))
			return json_integer_value(v);
	}
	return default_duration(role);
}

static enum upk_err cfg_new(json_t **ret)
{
	json_t *cfg = json_pack("{s:i, s:{}}", "upkeep_repository", 1, "expires");

	if (!cfg)
		return UPK_E_NOMEM;
	*ret = cfg;
	return UPK_OK;
}

/* Read .upkeep/config.json (absent: defaults). Every duration must be in range. */
static enum upk_err cfg_load(struct txn *t)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_free_ char *path = strf("%s/config.json", t->priv_dir);
	_cleanup_json_ json_t *cfg = NULL;
	json_t *exp, *v;
	const char *key;
	enum upk_err r;

	if (!path)
		return nomem(t->d);
	r = upk_io_read_file(path, PRIVATE_FILE_MAX, &b, NULL, t->d);
	if (r == UPK_E_NOT_FOUND) {
		upk_diag_clear(t->d);
		if (cfg_new(&t->cfg))
			return nomem(t->d);
		return UPK_OK;
	}
	if (r)
		return r;
	r = upk_json_parse(b.data, b.len, PRIVATE_FILE_MAX, &cfg, t->d);
	if (r) {
		upk_diag_prefix_where(t->d, path);
		return diag_rewrap(t->d, UPK_E_CONFIG, "not valid JSON: ");
	}
	exp = json_object_get(cfg, "expires");
	if (!json_is_integer(json_object_get(cfg, "upkeep_repository")) ||
	    json_integer_value(json_object_get(cfg, "upkeep_repository")) != 1 ||
	    !json_is_object(exp))
		return upk_diag_set(t->d, UPK_E_CONFIG, path, -1,
				    "not an Upkeep repository configuration (version 1)");
	json_object_foreach (exp, key, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > UPK_DURATION_MAX)
			return upk_diag_set(t->d, UPK_E_CONFIG, path, -1,
					    "expires.%.100s is not a duration in seconds", key);
	}
	t->cfg = cfg;
	cfg = NULL;
	return UPK_OK;
}

/* ---- online keys ---- */

/* List the key files of the online directory (opened lazily, by key id). */
static enum upk_err online_scan(struct txn *t)
{
	_cleanup_(closedirp) DIR *dir = NULL;
	const char *dpath = t->ctx->online_dir;
	struct dirent *e;

	if (t->online_scanned || !dpath)
		return UPK_OK;
	dir = opendir(dpath);
	if (!dir)
		return upk_diag_set(t->d, UPK_E_CONFIG, dpath, -1,
				    "cannot open the online keys directory: %s", strerror(errno));
	t->online = calloc(ONLINE_DIR_MAX_FILES, sizeof(*t->online));
	if (!t->online)
		return nomem(t->d);
	while ((e = readdir(dir)) && t->n_online < ONLINE_DIR_MAX_FILES) {
		_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;
		struct upk_diag fd;
		char *path;

		if (e->d_name[0] == '.')
			continue;
		path = strf("%s/%s", dpath, e->d_name);
		if (!path)
			return nomem(t->d);
		upk_diag_clear(&fd);
		if (upkk_file_read(path, &f, &fd) != UPK_OK) {
			/* Other files may live there; say why a key file was skipped if one is
			 * missing. */
			if (!t->online_skipped[0] && fd.err != UPK_E_KEYFILE)
				snprintf(t->online_skipped, sizeof(t->online_skipped),
					 "; skipped %.80s: %.90s", e->d_name, fd.reason);
			free(path);
			continue;
		}
		t->online[t->n_online].path = path;
		memcpy(t->online[t->n_online].keyid, f->keyid, sizeof(f->keyid));
		t->online[t->n_online].encrypted = f->encrypted;
		t->n_online++;
	}
	t->online_scanned = true;
	return UPK_OK;
}

/* The online private key with this key id, or *ret = NULL if the directory has none. */
static enum upk_err online_find(struct txn *t, const char *keyid, struct upkk_key **ret)
{
	enum upk_err r = online_scan(t);

	*ret = NULL;
	if (r)
		return r;
	for (size_t i = 0; i < t->n_online; i++) {
		struct online_file *of = &t->online[i];

		if (strcmp(of->keyid, keyid) != 0)
			continue;
		if (!of->key) {
			if (of->encrypted && !t->ctx->passphrase)
				return upk_diag_set(
					t->d, UPK_E_PASSPHRASE, of->path, -1,
					"the online key is encrypted: a passphrase is "
					"needed (--passphrase-file or UPKEEP_PASSPHRASE)");
			r = upkk_key_load(of->path, t->ctx->passphrase, t->ctx->passphrase_len,
					  &of->key, t->d);
			if (r)
				return r;
		}
		*ret = of->key;
		return UPK_OK;
	}
	return UPK_OK;
}

/* ---- signing ---- */

static bool meta_has_sig(const struct upk_meta *m, const char *keyid)
{
	for (size_t i = 0; i < m->n_sigs; i++) {
		if (strcmp(m->sigs[i].keyid, keyid) == 0)
			return true;
	}
	return false;
}

static struct upkk_key *signer_find(struct txn *t, const char *keyid, bool mark)
{
	for (size_t i = 0; i < t->ctx->n_signers; i++) {
		if (strcmp(t->ctx->signers[i].key->keyid, keyid) == 0) {
			if (mark)
				t->used[i] = true;
			return t->ctx->signers[i].key;
		}
	}
	return NULL;
}

static bool role_keys_has(const struct upk_role_keys *rk, const char *keyid)
{
	for (size_t i = 0; i < rk->n_keyids; i++) {
		if (strcmp(rk->keyids[i], keyid) == 0)
			return true;
	}
	return false;
}

/*
 * Sign m with every available key of rk: given signers first, then (when
 * online_ok) the online directory. Returns how many keys signed.
 */
static enum upk_err sign_with(struct txn *t, struct upk_meta *m, const struct upk_role_keys *rk,
			      bool online_ok, size_t *ret_count)
{
	size_t count = 0;

	for (size_t i = 0; i < rk->n_keyids; i++) {
		const char *keyid = rk->keyids[i];
		struct upkk_key *key = signer_find(t, keyid, true);
		enum upk_err r;

		if (!key && online_ok) {
			r = online_find(t, keyid, &key);
			if (r)
				return r;
		}
		if (!key)
			continue;
		count++;
		if (meta_has_sig(m, keyid))
			continue;
		r = upk_meta_sign(m, keyid, upkk_key_sign, key, t->d);
		if (r)
			return r;
	}
	*ret_count = count;
	return UPK_OK;
}

/*
 * Sign m as `label` and check the result verifies with the role's keys and
 * threshold; otherwise say which keys were missing. Online roles are
 * configuration errors (the directory lacks keys), offline ones usage
 * errors (the command was given too few).
 */
static enum upk_err sign_role(struct txn *t, struct upk_meta *m, const char *label,
			      const struct upk_key *keys, size_t n_keys,
			      const struct upk_role_keys *rk, bool online_ok, bool online_role)
{
	struct upk_diag vd;
	size_t count = 0;
	enum upk_err r = sign_with(t, m, rk, online_ok, &count);

	if (r)
		return r;
	upk_diag_clear(&vd);
	r = upk_meta_verify_role(keys, n_keys, rk, m, &vd);
	if (r == UPK_OK)
		return UPK_OK;
	if (r == UPK_E_NOMEM)
		return nomem(t->d);
	if (online_role)
		return upk_diag_set(t->d, UPK_E_CONFIG,
				    t->ctx->online_dir ? t->ctx->online_dir : "--online-keys", -1,
				    "%s needs %lld of its %zu keys; the online keys directory "
				    "holds %zu of them%s",
				    label, (long long)rk->threshold, rk->n_keyids, count,
				    t->online_skipped);
	return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
			    "%s needs signatures of %lld of its %zu keys; the keys given hold %zu "
			    "(%s)",
			    label, (long long)rk->threshold, rk->n_keyids, count, vd.reason);
}

/* ---- metadata documents ---- */

static enum upk_err set_int(json_t *obj, const char *key, int64_t v)
{
	return json_object_set_new(obj, key, json_integer((json_int_t)v)) ? UPK_E_NOMEM : UPK_OK;
}

static enum upk_err set_str(json_t *obj, const char *key, const char *v)
{
	return json_object_set_new(obj, key, json_string(v)) ? UPK_E_NOMEM : UPK_OK;
}

/* Set version and expires (now + the role's lifetime) in a `signed` object. */
static enum upk_err stamp(struct txn *t, json_t *sig, const char *role, int64_t version)
{
	char when[UPK_TIME_STR_LEN + 1];
	int64_t dur = cfg_duration(t->cfg, role);

	if (upk_time_format(t->ctx->now + dur, when) != UPK_OK)
		return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
				    "%s would expire after the year 9999", role);
	if (set_int(sig, "version", version) || set_str(sig, "expires", when))
		return nomem(t->d);
	return UPK_OK;
}

/* Unsigned metadata around `sig` (one reference taken). */
static enum upk_err build(struct txn *t, json_t *sig, enum upk_role type, const char *label,
			  struct upk_meta **ret)
{
	json_t *doc = json_pack("{s:O, s:[]}", "signed", sig, "signatures");
	enum upk_err r;

	if (!doc)
		return nomem(t->d);
	r = upk_meta_from_json(doc, type, ret, t->d);
	if (r && r != UPK_E_NOMEM) {
		upk_diag_prefix_where(t->d, label);
		return diag_rewrap(t->d, UPK_E_INTERNAL, "new metadata does not parse: ");
	}
	return r;
}

static json_t *new_targets_signed(void)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:{}}", "_type", "targets", "spec_version",
			 SPEC_VERSION, "version", 1, "expires", "1970-01-01T00:00:00Z", "targets");
}

static enum upk_err serialize(struct txn *t, const struct upk_meta *m, const char *label,
			      size_t limit, struct upk_buf *out)
{
	enum upk_err r = upk_meta_serialize(m, out);

	if (r)
		return upk_diag_set(t->d, r, label, -1, "cannot serialize");
	/* A usage error, not TOO_LARGE (exit 10 means an attack): nothing is wrong yet. */
	if (out->len > limit)
		return upk_diag_set(t->d, UPK_E_USAGE, label, -1,
				    "the new metadata has %zu bytes, more than the %zu clients "
				    "accept; spread the targets over delegated roles",
				    out->len, limit);
	return UPK_OK;
}

/*
 * The next version of an online role (snapshot or timestamp) from its
 * `signed` object sig: version and expiry stamped, checked, signed with the
 * online keys root lists for the role, serialized.
 */
static enum upk_err sign_online(struct txn *t, const struct upk_meta *root, json_t *sig,
				enum upk_role role, const struct upk_meta *current,
				struct upk_meta **ret_new, struct upk_buf *ret_bytes)
{
	const char *label = upk_role_name(role);
	enum upk_err r;

	r = stamp(t, sig, label, (current ? current->version : 0) + 1);
	if (!r)
		r = build(t, sig, role, label, ret_new);
	if (!r)
		r = sign_role(t, *ret_new, label, root->keys, root->n_keys, &root->roles[role],
			      true, true);
	if (!r)
		r = serialize(t, *ret_new, label, upk_role_max_size(role), ret_bytes);
	return r;
}

/* META entry {"version", "length", "hashes"} for file bytes. */
static enum upk_err metafile_entry(const struct upk_buf *bytes, int64_t version, json_t **ret)
{
	json_t *hashes = NULL, *e;

	if (upk_meta_hashes_json(bytes->data, bytes->len, &hashes))
		return UPK_E_NOMEM;
	e = json_pack("{s:I, s:I, s:o}", "version", (json_int_t)version, "length",
		      (json_int_t)bytes->len, "hashes", hashes);
	if (!e)
		return UPK_E_NOMEM;
	*ret = e;
	return UPK_OK;
}

/* ---- roles ---- */

static struct trole *role_find(struct txn *t, const char *name)
{
	for (size_t i = 0; i < t->n_roles; i++) {
		if (strcmp(t->roles[i].name, name) == 0)
			return &t->roles[i];
	}
	return NULL;
}

static enum upk_err role_add(struct txn *t, const char *name, const char *delegator, int depth,
			     struct trole **ret)
{
	struct trole *r;

	if (t->n_roles == t->cap_roles) {
		size_t cap = t->cap_roles ? 2 * t->cap_roles : 8;
		struct trole *n = reallocarray(t->roles, cap, sizeof(*n));

		if (!n)
			return nomem(t->d);
		t->roles = n;
		t->cap_roles = cap;
	}
	r = &t->roles[t->n_roles];
	memset(r, 0, sizeof(*r));
	r->name = strdup(name);
	r->delegator = delegator ? strdup(delegator) : NULL;
	if (!r->name || (delegator && !r->delegator)) {
		free(r->name);
		free(r->delegator);
		return nomem(t->d);
	}
	r->depth = depth;
	t->n_roles++;
	*ret = r;
	return UPK_OK;
}

/* The role's metadata as it will be: the new version if edited, else the current one. */
static const struct upk_meta *role_meta(const struct trole *r)
{
	return r->new_meta ? r->new_meta : r->cur;
}

static const struct upk_delegated_role *deleg_find(const struct upk_meta *m, const char *name)
{
	if (!m || !m->has_delegations || m->delegations.has_succinct)
		return NULL;
	for (size_t i = 0; i < m->delegations.n_roles; i++) {
		if (strcmp(m->delegations.roles[i].name, name) == 0)
			return &m->delegations.roles[i];
	}
	return NULL;
}

/* The `signed` object to edit for a role: a copy of the current one, or a new empty one. */
static enum upk_err role_edit(struct txn *t, struct trole *r, json_t **ret)
{
	if (!r->next) {
		r->next = r->cur ? json_deep_copy(r->cur->signed_obj) : new_targets_signed();
		if (!r->next)
			return nomem(t->d);
	}
	*ret = r->next;
	return UPK_OK;
}

/* ---- loading the current state ---- */

#define REFUSE "refusing to build on it (see upkeep-server verify)"

/* Read and parse metadata/<name>; diag names the file. */
static enum upk_err load_file(struct txn *t, const char *name, enum upk_role type,
			      struct upk_buf *bytes, struct upk_meta **ret)
{
	_cleanup_free_ char *path = strf("%s/%s", t->meta_dir, name);
	enum upk_err r;

	if (!path)
		return nomem(t->d);
	r = upk_io_read_file(path, upk_role_max_size(type), bytes, NULL, t->d);
	if (r)
		return r;
	r = upk_meta_parse(bytes->data, bytes->len, type, 0, ret, t->d);
	if (r)
		upk_diag_prefix_where(t->d, path);
	return r;
}

/* A file named by a META entry: length, hashes and version must be what the entry says. */
static enum upk_err load_listed(struct txn *t, const char *name, enum upk_role type,
				const struct upk_metafile *mf, struct upk_meta **ret)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;
	_cleanup_free_ char *path = strf("%s/%s", t->meta_dir, name);
	enum upk_err r;

	if (!path)
		return nomem(t->d);
	r = load_file(t, name, type, &b, &m);
	if (r)
		return r;
	if (mf->length >= 0 && (int64_t)b.len != mf->length)
		return upk_diag_set(t->d, UPK_E_LENGTH, path, -1,
				    "%zu bytes, but the referencing metadata says %lld; " REFUSE,
				    b.len, (long long)mf->length);
	if (mf->has_hashes) {
		r = upk_meta_hashes_check(&mf->hashes, b.data, b.len, t->d);
		if (r) {
			char reason[sizeof(t->d->reason)];

			upk_diag_prefix_where(t->d, path);
			memcpy(reason, t->d->reason, sizeof(reason));
			return upk_diag_set(t->d, r, NULL, -1, "%.200s; " REFUSE, reason);
		}
	}
	if (m->version != mf->version)
		return upk_diag_set(
			t->d, UPK_E_ROLLBACK, path, -1,
			"has version %lld, but the referencing metadata says %lld; " REFUSE,
			(long long)m->version, (long long)mf->version);
	*ret = m;
	m = NULL;
	return UPK_OK;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* N of "N.root.json" (N >= 1, no leading zero), or 0. */
static int64_t root_file_version(const char *name)
{
	int64_t v = 0;
	size_t i = 0;

	if (name[0] < '1' || name[0] > '9')
		return 0;
	for (; name[i] >= '0' && name[i] <= '9'; i++) {
		if (i >= 18)
			return 0;
		v = v * 10 + (name[i] - '0');
	}
	return strcmp(name + i, ".root.json") == 0 ? v : 0;
}

/* Sorted versions of the N.root.json files of a metadata directory. */
static enum upk_err list_roots(const char *meta_dir, int64_t **ret, size_t *ret_n,
			       struct upk_diag *d)
{
	_cleanup_(closedirp) DIR *dir = opendir(meta_dir);
	_cleanup_free_ int64_t *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	if (!dir)
		return sys_fail(d, meta_dir, "cannot open");
	while ((e = readdir(dir))) {
		int64_t ver = root_file_version(e->d_name);

		if (!ver)
			continue;
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 16;
			int64_t *nv = reallocarray(v, nc, sizeof(*nv));

			if (!nv)
				return nomem(d);
			v = nv;
			cap = nc;
		}
		v[n++] = ver;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_i64);
	*ret = v;
	v = NULL;
	*ret_n = n;
	return UPK_OK;
}

/* A current metadata file does not verify: refuse to build on it. */
static enum upk_err verify_fail(struct txn *t, const char *name)
{
	_cleanup_free_ char *path = strf("%s/%s", t->meta_dir, name);
	char reason[sizeof(t->d->reason)];

	if (t->d->err == UPK_E_NOMEM || !path)
		return nomem(t->d);
	upk_diag_prefix_where(t->d, path);
	memcpy(reason, t->d->reason, sizeof(reason));
	return upk_diag_set(t->d, t->d->err, NULL, -1, "%.200s; " REFUSE, reason);
}

/*
 * Load the state as a client would trust it: the root chain from 1.root.json
 * (each signed by the previous threshold and its own), then timestamp,
 * snapshot, targets and every delegated role, each checked against what
 * references it. A writing command builds only on metadata that verifies, so
 * it never signs over content someone changed on the server.
 */
static enum upk_err txn_load(struct txn *t)
{
	_cleanup_free_ int64_t *vers = NULL;
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	const struct upk_metafile *mf;
	char name[64];
	size_t n = 0;
	struct trole *top;
	enum upk_err r;

	r = list_roots(t->meta_dir, &vers, &n, t->d);
	if (r)
		return r;
	if (n == 0 || vers[0] != 1)
		return upk_diag_set(t->d, UPK_E_CONFIG, t->meta_dir, -1,
				    "no 1.root.json: not a repository (run upkeep-server init)");
	for (size_t i = 0; i < n; i++) {
		_cleanup_(upk_meta_freep) struct upk_meta *m = NULL;
		_cleanup_free_ char *path = NULL;

		if (vers[i] != (int64_t)i + 1)
			return upk_diag_set(t->d, UPK_E_CONFIG, t->meta_dir, -1,
					    "root versions jump from %zu to %lld", i,
					    (long long)vers[i]);
		snprintf(name, sizeof(name), "%zu.root.json", i + 1);
		path = strf("%s/%s", t->meta_dir, name);
		if (!path)
			return nomem(t->d);
		b.len = 0;
		r = load_file(t, name, UPK_ROLE_ROOT, &b, &m);
		if (r)
			return r;
		if (m->version != (int64_t)i + 1)
			return upk_diag_set(t->d, UPK_E_ROLLBACK, path, -1,
					    "holds root version %lld", (long long)m->version);
		if (t->root) {
			r = upk_meta_verify_role(t->root->keys, t->root->n_keys,
						 &t->root->roles[UPK_ROLE_ROOT], m, t->d);
			if (r)
				return verify_fail(t, name);
		}
		r = upk_meta_verify_by_root(m, UPK_ROLE_ROOT, m, t->d);
		if (r)
			return verify_fail(t, name);
		upk_meta_free(t->root);
		t->root = m;
		m = NULL;
	}

	b.len = 0;
	r = load_file(t, "timestamp.json", UPK_ROLE_TIMESTAMP, &b, &t->timestamp);
	if (r)
		return r;
	r = upk_meta_verify_by_root(t->root, UPK_ROLE_TIMESTAMP, t->timestamp, t->d);
	if (r)
		return verify_fail(t, "timestamp.json");
	mf = upk_meta_find_meta(t->timestamp, "snapshot.json");
	snprintf(name, sizeof(name), "%lld.snapshot.json", (long long)mf->version);
	r = load_listed(t, name, UPK_ROLE_SNAPSHOT, mf, &t->snapshot);
	if (r)
		return r;
	r = upk_meta_verify_by_root(t->root, UPK_ROLE_SNAPSHOT, t->snapshot, t->d);
	if (r)
		return verify_fail(t, name);

	r = role_add(t, "targets", NULL, 0, &top);
	if (r)
		return r;
	mf = upk_meta_find_meta(t->snapshot, "targets.json");
	if (!mf)
		return upk_diag_set(t->d, UPK_E_FORMAT, name, -1, "does not list targets.json");
	snprintf(name, sizeof(name), "%lld.targets.json", (long long)mf->version);
	r = load_listed(t, name, UPK_ROLE_TARGETS, mf, &top->cur);
	if (r)
		return r;
	r = upk_meta_verify_by_root(t->root, UPK_ROLE_TARGETS, top->cur, t->d);
	if (r)
		return verify_fail(t, name);

	/* Delegated roles, breadth first; a role delegated twice belongs to its first delegator. */
	for (size_t i = 0; i < t->n_roles; i++) {
		const struct upk_meta *dm = t->roles[i].cur;
		int depth = t->roles[i].depth;

		if (!dm || !dm->has_delegations || dm->delegations.has_succinct)
			continue;
		for (size_t j = 0; j < dm->delegations.n_roles; j++) {
			const char *rn = dm->delegations.roles[j].name;
			_cleanup_free_ char *entry = strf("%s.json", rn);
			char fname[512];
			struct trole *nr;

			if (!entry)
				return nomem(t->d);
			if (role_find(t, rn) || depth + 1 > MAX_DELEGATION_DEPTH)
				continue;
			r = role_add(t, rn, t->roles[i].name, depth + 1, &nr);
			if (r)
				return r;
			dm = t->roles[i].cur; /* role_add may have moved the array */
			mf = upk_meta_find_meta(t->snapshot, entry);
			if (!mf)
				continue;
			upks_repo_meta_file_name(rn, mf->version, fname, sizeof(fname));
			r = load_listed(t, fname, UPK_ROLE_TARGETS, mf, &nr->cur);
			if (r)
				return r;
			r = upk_meta_verify_delegated(dm, rn, nr->cur, t->d);
			if (r)
				return verify_fail(t, fname);
		}
	}
	return UPK_OK;
}

/* ---- journal ---- */

static enum upk_err journal_path(struct txn *t, char **ret)
{
	*ret = strf("%s/commit.json", t->priv_dir);
	return *ret ? UPK_OK : nomem(t->d);
}

/*
 * Apply a journal: root, config, then timestamp.json, the switch clients
 * see. Idempotent, so a kill during it is repaired by applying it again.
 */
static enum upk_err journal_apply(struct txn *t, const json_t *j)
{
	_cleanup_free_ char *jpath = NULL;
	json_t *root_file = json_object_get(j, "root_file"), *root = json_object_get(j, "root");
	json_t *config = json_object_get(j, "config"), *ts = json_object_get(j, "timestamp");
	enum upk_err r = journal_path(t, &jpath);

	if (r)
		return r;
	if (!json_is_integer(json_object_get(j, "upkeep_commit")) ||
	    json_integer_value(json_object_get(j, "upkeep_commit")) != 1 || !json_is_string(ts) ||
	    (config && !json_is_string(config)) || !root != !root_file ||
	    (root && (!json_is_string(root) || !json_is_string(root_file) ||
		      !root_file_version(json_string_value(root_file)))))
		return upk_diag_set(t->d, UPK_E_CONFIG, jpath, -1,
				    "not a commit journal of this version; move it away to go on");
	if (root) {
		_cleanup_free_ char *p = strf("%s/%s", t->meta_dir, json_string_value(root_file));

		if (!p)
			return nomem(t->d);
		r = put_file(t, p, json_string_value(root), json_string_length(root), 0644, true);
		if (!r)
			r = sync_dir(t, t->meta_dir);
		if (r)
			return r;
	}
	if (config) {
		_cleanup_free_ char *p = strf("%s/config.json", t->priv_dir);

		if (!p)
			return nomem(t->d);
		r = put_file(t, p, json_string_value(config), json_string_length(config), 0600,
			     true);
		if (r)
			return r;
	}
	{
		_cleanup_free_ char *p = strf("%s/timestamp.json", t->meta_dir);

		if (!p)
			return nomem(t->d);
		r = put_file(t, p, json_string_value(ts), json_string_length(ts), 0644, true);
		if (!r)
			r = sync_dir(t, t->meta_dir);
		if (r)
			return r;
	}
	step();
	if (unlink(jpath) < 0)
		return sys_fail(t->d, jpath, "cannot remove the applied journal");
	return sync_dir(t, t->priv_dir);
}

/* Remove what killed commands left in .upkeep/tmp (nothing references it). */
static void clean_tmp(struct txn *t)
{
	_cleanup_(closedirp) DIR *dir = opendir(t->tmp_dir);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)unlinkat(dirfd(dir), e->d_name, 0);
	}
}

/* Roll forward the journal of a command that was killed after writing it. */
static enum upk_err recover(struct txn *t)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_json_ json_t *j = NULL;
	_cleanup_free_ char *jpath = NULL;
	enum upk_err r;

	clean_tmp(t);
	r = journal_path(t, &jpath);
	if (r)
		return r;
	r = upk_io_read_file(jpath, PRIVATE_FILE_MAX, &b, NULL, t->d);
	if (r == UPK_E_NOT_FOUND) {
		upk_diag_clear(t->d);
		return UPK_OK;
	}
	if (r)
		return r;
	r = upk_json_parse(b.data, b.len, PRIVATE_FILE_MAX, &j, t->d);
	if (r) {
		upk_diag_prefix_where(t->d, jpath);
		return diag_rewrap(t->d, UPK_E_CONFIG, "unreadable commit journal: ");
	}
	r = journal_apply(t, j);
	if (r)
		return r;
	t->rolled_forward = true;
	return UPK_OK;
}

/* Write the journal of this commit durably, then apply it. */
static enum upk_err journal_commit(struct txn *t)
{
	_cleanup_json_ json_t *j = json_pack("{s:i}", "upkeep_commit", 1);
	_cleanup_buf_ struct upk_buf out = UPK_BUF_INIT;
	_cleanup_free_ char *jpath = NULL;
	enum upk_err r = journal_path(t, &jpath);

	if (r)
		return r;
	if (!j)
		return nomem(t->d);
	if (t->root_new) {
		char name[64];

		snprintf(name, sizeof(name), "%lld.root.json", (long long)t->root_new->version);
		if (set_str(j, "root_file", name) ||
		    json_object_set_new(
			    j, "root",
			    json_stringn((const char *)t->root_bytes.data, t->root_bytes.len)))
			return nomem(t->d);
	}
	if (t->cfg_dirty) {
		_cleanup_buf_ struct upk_buf cb = UPK_BUF_INIT;

		if (upk_json_serialize(t->cfg, &cb) ||
		    json_object_set_new(j, "config", json_stringn((const char *)cb.data, cb.len)))
			return nomem(t->d);
	}
	if (json_object_set_new(j, "timestamp",
				json_stringn((const char *)t->ts_bytes.data, t->ts_bytes.len)))
		return nomem(t->d);
	if (upk_json_serialize(j, &out))
		return nomem(t->d);
	r = put_file(t, jpath, out.data, out.len, 0600, true);
	if (!r)
		r = sync_dir(t, t->priv_dir);
	if (!r)
		r = journal_apply(t, j);
	return r;
}

/* ---- opening a repository ---- */

/* The online keys must not be served: refuse a directory inside the repository. */
static enum upk_err check_online_dir(const char *repo, const char *online, struct upk_diag *d)
{
	char rr[PATH_MAX], ro[PATH_MAX];
	size_t n;

	if (!realpath(online, ro))
		return upk_diag_set(d, UPK_E_CONFIG, online, -1,
				    "cannot open the online keys directory: %s", strerror(errno));
	if (!realpath(repo, rr)) {
		if (errno == ENOENT)
			return UPK_OK; /* not created yet, so it holds nothing */
		return sys_fail(d, repo, "cannot resolve");
	}
	n = strlen(rr);
	if (strcmp(rr, "/") == 0 || (strncmp(ro, rr, n) == 0 && (ro[n] == 0 || ro[n] == '/')))
		return upk_diag_set(d, UPK_E_CONFIG, online, -1,
				    "the online keys directory is inside the repository %s; keep "
				    "it outside (the repository is copied to mirrors as it is)",
				    repo);
	return UPK_OK;
}

/* Set up t in memory: paths and checks of the arguments, no disk access but reads. */
static enum upk_err txn_setup(struct txn *t, const struct upks_repo_ctx *ctx, struct upk_diag *d)
{
	memset(t, 0, sizeof(*t));
	t->lock_fd = -1;
	t->ctx = ctx;
	t->d = d;
	if (!ctx->repo || !ctx->repo[0])
		return upk_diag_set(d, UPK_E_USAGE, NULL, -1, "no repository directory given");
	t->repo = strdup(ctx->repo);
	t->meta_dir = strf("%s/metadata", ctx->repo);
	t->targets_dir = strf("%s/targets", ctx->repo);
	t->priv_dir = strf("%s/.upkeep", ctx->repo);
	t->tmp_dir = strf("%s/.upkeep/tmp", ctx->repo);
	t->used = calloc(ctx->n_signers ? ctx->n_signers : 1, sizeof(*t->used));
	if (!t->repo || !t->meta_dir || !t->targets_dir || !t->priv_dir || !t->tmp_dir || !t->used)
		return nomem(d);
	if (ctx->online_dir)
		return check_online_dir(ctx->repo, ctx->online_dir, d);
	return UPK_OK;
}

/*
 * Take the repository: create the private directory (and with `create` the
 * repository's), lock, roll forward, and read the configuration.
 */
static enum upk_err txn_open(struct txn *t, bool create)
{
	_cleanup_free_ char *lock = strf("%s/lock", t->priv_dir);
	struct stat st;
	enum upk_err r;

	if (!lock)
		return nomem(t->d);
	if (create) {
		r = upk_io_mkdir_p(t->meta_dir, 0755, t->d);
		if (!r)
			r = upk_io_mkdir_p(t->targets_dir, 0755, t->d);
		if (r)
			return r;
	} else if (stat(t->meta_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		return upk_diag_set(t->d, UPK_E_CONFIG, t->repo, -1,
				    "not a repository: no metadata/ directory (run upkeep-server "
				    "init)");
	}
	if (mkdir(t->priv_dir, 0700) < 0 && errno != EEXIST)
		return sys_fail(t->d, t->priv_dir, "cannot create directory");
	if (mkdir(t->tmp_dir, 0700) < 0 && errno != EEXIST)
		return sys_fail(t->d, t->tmp_dir, "cannot create directory");
	r = upk_io_lock(lock, t->ctx->lock_timeout_ms, &t->lock_fd, t->d);
	if (r == UPK_E_LOCKED)
		return upk_diag_set(t->d, UPK_E_LOCKED, lock, -1,
				    "another upkeep-server command holds the repository lock; "
				    "gave up after %d.%03d s (--lock-timeout)",
				    t->ctx->lock_timeout_ms / 1000, t->ctx->lock_timeout_ms % 1000);
	if (r)
		return r;
	r = recover(t);
	if (r)
		return r;
	if (!t->cfg)
		return cfg_load(t);
	return UPK_OK;
}

/* `--expires ROLE=DURATION` of this command, kept in the configuration. */
static enum upk_err apply_expiries(struct txn *t, const char *new_role)
{
	json_t *exp = json_object_get(t->cfg, "expires");

	for (size_t i = 0; i < t->ctx->n_expiries; i++) {
		const struct upks_repo_expiry *e = &t->ctx->expiries[i];

		if (!is_top_level_name(e->role) && !role_find(t, e->role) &&
		    !(new_role && strcmp(new_role, e->role) == 0))
			return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
					    "--expires %.128s: no such role in this repository",
					    e->role);
		if (e->seconds < 1 || e->seconds > UPK_DURATION_MAX)
			return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
					    "--expires %.128s: duration out of range", e->role);
		if (set_int(exp, e->role, e->seconds))
			return nomem(t->d);
		t->cfg_dirty = true;
	}
	return UPK_OK;
}

/* ---- target files ---- */

static enum upk_err staged_add(struct txn *t, struct staged **ret)
{
	if (t->n_staged == t->cap_staged) {
		size_t cap = t->cap_staged ? 2 * t->cap_staged : 16;
		struct staged *n = reallocarray(t->staged, cap, sizeof(*n));

		if (!n)
			return nomem(t->d);
		t->staged = n;
		t->cap_staged = cap;
	}
	*ret = &t->staged[t->n_staged++];
	memset(*ret, 0, sizeof(**ret));
	return UPK_OK;
}

/*
 * Copy src into .upkeep/tmp while computing the hashes chosen (a set of
 * UPKS_REPO_HASH bits) in the same read, and return the target entry
 * {"length", "hashes"} listing exactly those. The copy is linked into
 * targets/ only at commit, under one name per hash, so a refused command
 * leaves targets/ as it was.
 */
static enum upk_err stage_target(struct txn *t, const char *path, const char *src, unsigned hashes,
				 json_t **ret_entry)
{
	static const enum upk_hash_alg algs[2] = { UPK_HASH_SHA256, UPK_HASH_SHA512 };
	const bool on[2] = { hashes & UPKS_REPO_HASH(algs[0]), hashes & UPKS_REPO_HASH(algs[1]) };
	struct upk_hash_ctx h[2] = { UPK_HASH_CTX_INIT, UPK_HASH_CTX_INIT };
	_cleanup_(closep) int in = -1;
	_cleanup_(closep) int out = -1;
	_cleanup_json_ json_t *entry = NULL;
	char hex[2][2 * UPK_HASH_MAX_LEN + 1];
	const char *slash = strrchr(path, '/');
	struct staged *s = NULL;
	struct stat st;
	int64_t total = 0;
	enum upk_err r = UPK_OK;

	assert(on[0] || on[1]);

	if (!t->copybuf && !(t->copybuf = malloc(COPY_BUF_SIZE)))
		return nomem(t->d);
	in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (in < 0)
		return upk_diag_set(t->d, errno == ENOENT ? UPK_E_USAGE : errno_err(errno), src, -1,
				    "cannot open the file for target %.200s: %s", path,
				    strerror(errno));
	if (fstat(in, &st) < 0)
		return sys_fail(t->d, src, "cannot stat");
	if (!S_ISREG(st.st_mode))
		return upk_diag_set(t->d, UPK_E_USAGE, src, -1, "not a regular file");
	r = staged_add(t, &s);
	if (r)
		return r;
	r = tmp_open(t, 0644, &s->tmp, &out);
	if (r)
		return r;
	for (int i = 0; i < 2 && !r; i++) {
		if (on[i])
			r = upk_hash_init(&h[i], algs[i]);
	}
	while (!r) {
		ssize_t n = read(in, t->copybuf, COPY_BUF_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = sys_fail(t->d, src, "read failed");
			break;
		}
		if (n == 0)
			break;
		/* A key file given by mistake must never be published (keys/FORMAT.md field). */
		if (total == 0 && st.st_size <= UPKK_FILE_MAX_SIZE &&
		    memmem(t->copybuf, (size_t)n, "\"upkeep_private_key\"", 20)) {
			r = upk_diag_set(t->d, UPK_E_USAGE, src, -1,
					 "is a private key file; refusing to publish it as target "
					 "%.200s (give each key with its own --key)",
					 path);
			break;
		}
		for (int i = 0; i < 2 && !r; i++) {
			if (on[i])
				r = upk_hash_update(&h[i], t->copybuf, (size_t)n);
		}
		if (r)
			break;
		step();
		r = write_all(out, t->copybuf, (size_t)n, s->tmp, t->d);
		total += n;
	}
	for (int i = 0; i < 2 && !r; i++) {
		uint8_t digest[UPK_HASH_MAX_LEN];

		if (!on[i])
			continue;
		r = upk_hash_final(&h[i], digest);
		if (!r)
			upk_hex_encode(digest, upk_hash_len(algs[i]), hex[i]);
	}
	upk_hash_done(&h[0]);
	upk_hash_done(&h[1]);
	if (r)
		return r == UPK_E_NOMEM || r == UPK_E_INTERNAL
			       ? upk_diag_set(t->d, r, src, -1, "hashing failed")
			       : r;
	if (close(out) < 0) {
		out = -1;
		return sys_fail(t->d, s->tmp, "close failed");
	}
	out = -1;
	s->length = total;
	if (slash)
		s->dir = strf("%s/%.*s", t->targets_dir, (int)(slash - path), path);
	else
		s->dir = strdup(t->targets_dir);
	if (!s->dir)
		return nomem(t->d);
	entry = json_pack("{s:I, s:{}}", "length", (json_int_t)total, "hashes");
	if (!entry)
		return nomem(t->d);
	for (int i = 0; i < 2; i++) {
		if (!on[i])
			continue;
		s->dest[i] = strf("%s/%s.%s", s->dir, hex[i], slash ? slash + 1 : path);
		if (!s->dest[i] || json_object_set_new(json_object_get(entry, "hashes"),
						       upk_hash_name(algs[i]), json_string(hex[i])))
			return nomem(t->d);
	}
	*ret_entry = entry;
	entry = NULL;
	return UPK_OK;
}

/*
 * A bundle's custom.upkeep was built from the file as the caller read it; the
 * TUF hashes come from the staged copy. Verify the staged copy in full and
 * check it has the header the entry signs, so that a file changed in between
 * is refused here rather than published as a release no device accepts.
 */
static enum upk_err check_staged_bundle(struct txn *t, const char *staged, const char *src,
					const json_t *upkeep)
{
	_cleanup_(upks_bundle_closep) struct upks_bundle *b = NULL;
	const char *want =
		json_string_value(json_object_get(json_object_get(upkeep, "header"), "sha256"));
	char hex[2 * UPK_SHA256_LEN + 1];
	enum upk_err r;

	struct upk_diag d;

	upk_diag_clear(&d);
	r = upks_bundle_open(staged, &b, &d);
	if (!r)
		r = upks_bundle_verify(b, NULL, &d);
	if (r)
		return upk_diag_set(t->d, UPK_E_USAGE, src, -1,
				    "the bundle changed while it was being published: %s",
				    d.reason);
	upk_hex_encode(b->header->sha256, UPK_SHA256_LEN, hex);
	if (!want || strcmp(want, hex) != 0)
		return upk_diag_set(t->d, UPK_E_USAGE, src, -1,
				    "the bundle changed while it was being published (its header "
				    "is not the one checked)");
	return UPK_OK;
}

/*
 * Link every staged copy to its content-addressed names (one per hash its
 * entry lists). A name that exists with the right size is the same content
 * (its name is its hash); one with another size is debris of an interrupted
 * command and replaced.
 */
static enum upk_err place_targets(struct txn *t)
{
	const char *made = NULL;

	for (size_t i = 0; i < t->n_staged; i++) {
		struct staged *s = &t->staged[i];
		enum upk_err r;

		if (!made || strcmp(made, s->dir) != 0) {
			step();
			r = upk_io_mkdir_p(s->dir, 0755, t->d);
			if (r)
				return r;
			made = s->dir;
		}
		for (int k = 0; k < 2; k++) {
			struct stat st;

			if (!s->dest[k])
				continue;
			if (lstat(s->dest[k], &st) == 0) {
				if (S_ISREG(st.st_mode) && st.st_size == s->length)
					continue;
				step();
				if (unlink(s->dest[k]) < 0)
					return sys_fail(t->d, s->dest[k], "cannot replace");
			}
			step();
			if (link(s->tmp, s->dest[k]) < 0)
				return sys_fail(t->d, s->dest[k], "cannot link into place");
		}
		step();
		unlink(s->tmp);
		free(s->tmp);
		s->tmp = NULL;
	}
	return UPK_OK;
}

/* ---- commit ---- */

/* Keys and threshold a targets role is signed with: root's, or its delegator's entry. */
static enum upk_err role_keys_of(struct txn *t, const struct upk_meta *root, const struct trole *r,
				 const struct upk_key **ret_keys, size_t *ret_n,
				 const struct upk_role_keys **ret_rk)
{
	const struct trole *del;
	const struct upk_meta *dm;
	const struct upk_delegated_role *dr;

	if (!r->delegator) {
		*ret_keys = root->keys;
		*ret_n = root->n_keys;
		*ret_rk = &root->roles[UPK_ROLE_TARGETS];
		return UPK_OK;
	}
	del = role_find(t, r->delegator);
	dm = del ? role_meta(del) : NULL;
	dr = deleg_find(dm, r->name);
	if (!dr)
		return upk_diag_set(t->d, UPK_E_INTERNAL, r->name, -1,
				    "role is no longer delegated by %s", r->delegator);
	*ret_keys = dm->delegations.keys;
	*ret_n = dm->delegations.n_keys;
	*ret_rk = &dr->keys;
	return UPK_OK;
}

static enum upk_err role_build(struct txn *t, struct trole *r)
{
	enum upk_err r2 = stamp(t, r->next, r->name, (r->cur ? r->cur->version : 0) + 1);

	if (r2)
		return r2;
	return build(t, r->next, UPK_ROLE_TARGETS, r->name, &r->new_meta);
}

/* Whether a signer's key belongs to a role this commit signs. */
static bool signer_is_needed(struct txn *t, const struct upk_meta *root, const char *keyid)
{
	if (t->root_new && ((t->root && role_keys_has(&t->root->roles[UPK_ROLE_ROOT], keyid)) ||
			    role_keys_has(&t->root_new->roles[UPK_ROLE_ROOT], keyid)))
		return true;
	if (role_keys_has(&root->roles[UPK_ROLE_SNAPSHOT], keyid) ||
	    role_keys_has(&root->roles[UPK_ROLE_TIMESTAMP], keyid))
		return true;
	for (size_t i = 0; i < t->n_roles; i++) {
		const struct upk_key *keys;
		const struct upk_role_keys *rk;
		size_t n;

		if (!t->roles[i].new_meta)
			continue;
		if (role_keys_of(t, root, &t->roles[i], &keys, &n, &rk) == UPK_OK &&
		    role_keys_has(rk, keyid))
			return true;
	}
	return false;
}

/* "root, targets, snapshot, timestamp": what this commit signs, for messages. */
static void signed_roles_text(struct txn *t, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = 0;
	if (t->root_new)
		len += (size_t)snprintf(buf + len, size - len, "root, ");
	for (size_t i = 0; i < t->n_roles && len < size; i++) {
		if (t->roles[i].new_meta)
			len += (size_t)snprintf(buf + len, size - len, "%.40s, ", t->roles[i].name);
	}
	if (len < size)
		snprintf(buf + len, size - len, "snapshot, timestamp");
}

/*
 * Compute and sign every new file in memory. Nothing is written; any
 * refusal (keys, thresholds, sizes) happens here.
 */
static enum upk_err txn_prepare(struct txn *t)
{
	const struct upk_meta *root;
	enum upk_err r;

	if (t->root_next) {
		r = stamp(t, t->root_next, "root", (t->root ? t->root->version : 0) + 1);
		if (!r)
			r = build(t, t->root_next, UPK_ROLE_ROOT, "root", &t->root_new);
		if (r)
			return r;
	}
	root = t->root_new ? t->root_new : t->root;

	/* Edited roles, in delegation order (delegators come first in the array). */
	for (size_t i = 0; i < t->n_roles; i++) {
		if (t->roles[i].next) {
			r = role_build(t, &t->roles[i]);
			if (r)
				return r;
		}
	}
	/* Roles whose current version the new keys no longer accept get a new version. */
	for (size_t i = 0; i < t->n_roles; i++) {
		struct trole *tr = &t->roles[i];
		const struct upk_key *keys;
		const struct upk_role_keys *rk;
		struct upk_diag vd;
		size_t n;
		json_t *sig;

		if (tr->next || !tr->cur)
			continue;
		r = role_keys_of(t, root, tr, &keys, &n, &rk);
		if (r)
			return r;
		upk_diag_clear(&vd);
		r = upk_meta_verify_role(keys, n, rk, tr->cur, &vd);
		if (r == UPK_E_NOMEM)
			return nomem(t->d);
		if (r == UPK_OK)
			continue;
		r = role_edit(t, tr, &sig);
		if (!r)
			r = role_build(t, tr);
		if (r)
			return r;
	}

	/* Keys given that belong to no role signed here are refused, not ignored. */
	for (size_t i = 0; i < t->ctx->n_signers; i++) {
		char roles[200];

		if (signer_is_needed(t, root, t->ctx->signers[i].key->keyid))
			continue;
		signed_roles_text(t, roles, sizeof(roles));
		return upk_diag_set(t->d, UPK_E_USAGE, t->ctx->signers[i].origin, -1,
				    "key %.16s... is not a key of the roles this command signs "
				    "(%s)",
				    t->ctx->signers[i].key->keyid, roles);
	}

	if (t->root_new) {
		char label[96];

		if (t->root) {
			snprintf(label, sizeof(label), "root version %lld (for root version %lld)",
				 (long long)t->root_new->version, (long long)t->root->version);
			r = sign_role(t, t->root_new, label, t->root->keys, t->root->n_keys,
				      &t->root->roles[UPK_ROLE_ROOT], false, false);
			if (r)
				return r;
		}
		snprintf(label, sizeof(label), "root version %lld",
			 (long long)t->root_new->version);
		r = sign_role(t, t->root_new, label, t->root_new->keys, t->root_new->n_keys,
			      &t->root_new->roles[UPK_ROLE_ROOT], false, false);
		if (!r)
			r = serialize(t, t->root_new, "root", UPK_META_MAX_ROOT, &t->root_bytes);
		if (r)
			return r;
	}
	for (size_t i = 0; i < t->n_roles; i++) {
		struct trole *tr = &t->roles[i];
		const struct upk_key *keys;
		const struct upk_role_keys *rk;
		char label[200];
		size_t n;

		if (!tr->new_meta)
			continue;
		r = role_keys_of(t, root, tr, &keys, &n, &rk);
		if (r)
			return r;
		snprintf(label, sizeof(label), "%s%.128s", tr->delegator ? "delegated role " : "",
			 tr->name);
		r = sign_role(t, tr->new_meta, label, keys, n, rk, tr->delegator != NULL, false);
		if (!r)
			r = serialize(t, tr->new_meta, label, UPK_META_MAX_TARGETS, &tr->bytes);
		if (r)
			return r;
	}

	if (!t->keep_snapshot) {
		_cleanup_json_ json_t *sig =
			t->snapshot ? json_deep_copy(t->snapshot->signed_obj)
				    : json_pack("{s:s, s:s, s:{}}", "_type", "snapshot",
						"spec_version", SPEC_VERSION, "meta");
		json_t *meta = json_object_get(sig, "meta");

		if (!sig || !meta)
			return nomem(t->d);
		for (size_t i = 0; i < t->n_roles; i++) {
			struct trole *tr = &t->roles[i];
			_cleanup_free_ char *entry = strf("%s.json", tr->name);
			json_t *e = NULL;

			if (!tr->new_meta)
				continue;
			if (!entry || metafile_entry(&tr->bytes, tr->new_meta->version, &e) ||
			    json_object_set_new(meta, entry, e))
				return nomem(t->d);
		}
		r = sign_online(t, root, sig, UPK_ROLE_SNAPSHOT, t->snapshot, &t->snap_new,
				&t->snap_bytes);
		if (r)
			return r;
	}
	{
		_cleanup_json_ json_t *sig = json_pack("{s:s, s:s, s:{}}", "_type", "timestamp",
						       "spec_version", SPEC_VERSION, "meta");
		json_t *e = NULL;

		if (!sig)
			return nomem(t->d);
		if (t->snap_new)
			r = metafile_entry(&t->snap_bytes, t->snap_new->version, &e);
		else
			e = json_deep_copy(
				json_object_get(json_object_get(t->timestamp->signed_obj, "meta"),
						"snapshot.json"));
		if (r || !e ||
		    json_object_set_new(json_object_get(sig, "meta"), "snapshot.json", e))
			return nomem(t->d);
		r = sign_online(t, root, sig, UPK_ROLE_TIMESTAMP, t->timestamp, &t->ts_new,
				&t->ts_bytes);
		if (r)
			return r;
	}
	return UPK_OK;
}

/*
 * Write what txn_prepare made: targets and versioned metadata (unreferenced
 * until the timestamp switches), one syncfs, then the journal.
 */
static enum upk_err txn_write(struct txn *t)
{
	enum upk_err r = place_targets(t);

	for (size_t i = 0; !r && i < t->n_roles; i++) {
		struct trole *tr = &t->roles[i];
		char name[512];
		_cleanup_free_ char *p = NULL;

		if (!tr->new_meta)
			continue;
		upks_repo_meta_file_name(tr->name, tr->new_meta->version, name, sizeof(name));
		p = strf("%s/%s", t->meta_dir, name);
		r = p ? put_file(t, p, tr->bytes.data, tr->bytes.len, 0644, false) : nomem(t->d);
	}
	if (!r && t->snap_new) {
		_cleanup_free_ char *p =
			strf("%s/%lld.snapshot.json", t->meta_dir, (long long)t->snap_new->version);

		r = p ? put_file(t, p, t->snap_bytes.data, t->snap_bytes.len, 0644, false)
		      : nomem(t->d);
	}
	if (!r)
		r = sync_fs(t);
	if (!r)
		r = journal_commit(t);
	return r;
}

static void result_fill(struct txn *t, const struct trole *changed, struct upks_repo_result *ret)
{
	const struct upk_meta *root = t->root_new ? t->root_new : t->root;
	const struct trole *top = role_find(t, "targets");

	if (!ret)
		return;
	memset(ret, 0, sizeof(*ret));
	ret->root = root ? root->version : 0;
	ret->targets = top && role_meta(top) ? role_meta(top)->version : 0;
	ret->snapshot =
		t->snap_new ? t->snap_new->version : (t->snapshot ? t->snapshot->version : 0);
	ret->timestamp = t->ts_new ? t->ts_new->version : 0;
	if (changed && role_meta(changed)) {
		snprintf(ret->role, sizeof(ret->role), "%s", changed->name);
		ret->role_version = role_meta(changed)->version;
		ret->role_targets = role_meta(changed)->n_targets;
	}
}

/* ------------------------------------------------------------------------ */
/* Commands. */

/* Check a TUF public key object a command was given and compute its key id. */
static enum upk_err key_obj_check(json_t *obj, char keyid[UPK_KEYID_HEX_LEN + 1],
				  struct upk_diag *d)
{
	struct upk_key k;
	bool supported;
	enum upk_err r = upk_key_parse(obj, &k, d);

	if (r == UPK_E_NOMEM)
		return nomem(d);
	if (r)
		return diag_rewrap(d, UPK_E_USAGE, "not a TUF public key: ");
	supported = k.supported;
	upk_key_done(&k);
	if (!supported)
		return upk_diag_set(d, UPK_E_USAGE, NULL, -1,
				    "public key of an unsupported type or scheme");
	r = upk_key_id(obj, keyid, d);
	return r ? diag_rewrap(d, UPK_E_USAGE, "cannot compute the key id: ") : UPK_OK;
}

static bool keyid_arr_index(const json_t *arr, const char *keyid, size_t *ret)
{
	size_t i;
	json_t *v;

	json_array_foreach (arr, i, v) {
		if (json_is_string(v) && strcmp(json_string_value(v), keyid) == 0) {
			if (ret)
				*ret = i;
			return true;
		}
	}
	return false;
}

/* Drop keys no role entry (root's roles object, or a delegations roles array) refers to. */
static void gc_keys(json_t *keys, json_t *roles)
{
	const char *keyid;
	json_t *v;
	void *tmp;

	json_object_foreach_safe (keys, tmp, keyid, v) {
		bool used = false;

		if (json_is_object(roles)) {
			const char *name;
			json_t *entry;

			json_object_foreach (roles, name, entry) {
				used = used || keyid_arr_index(json_object_get(entry, "keyids"),
							       keyid, NULL);
			}
		} else {
			size_t i;
			json_t *entry;

			json_array_foreach (roles, i, entry) {
				used = used || keyid_arr_index(json_object_get(entry, "keyids"),
							       keyid, NULL);
			}
		}
		if (!used)
			json_object_del(keys, keyid);
	}
}

typedef enum upk_err (*edit_fn)(struct txn *t, const void *arg, const char **ret_changed);

/* The steps every command on an existing repository shares around its edit. */
static enum upk_err run_command(const struct upks_repo_ctx *ctx, edit_fn edit, const void *arg,
				struct upks_repo_result *ret, struct upk_diag *d)
{
	struct upk_diag local;
	const char *changed = NULL;
	struct txn t;
	enum upk_err r;

	if (!d) {
		upk_diag_clear(&local);
		d = &local;
	}
	r = txn_setup(&t, ctx, d);
	if (!r)
		r = txn_open(&t, false);
	if (!r)
		r = txn_load(&t);
	if (!r)
		r = edit(&t, arg, &changed);
	if (!r)
		r = txn_prepare(&t);
	if (!r)
		r = txn_write(&t);
	if (!r)
		result_fill(&t, changed ? role_find(&t, changed) : NULL, ret);
	txn_done(&t);
	return r;
}

/* ---- init ---- */

static enum upk_err init_root(struct txn *t, const struct upks_repo_role_spec roles[UPK_ROLE_COUNT])
{
	_cleanup_json_ json_t *keys = json_object();
	_cleanup_json_ json_t *robj = json_object();

	if (!keys || !robj)
		return nomem(t->d);
	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		const struct upks_repo_role_spec *s = &roles[i];
		const char *name = upk_role_name((enum upk_role)i);
		json_t *keyids = json_array(), *entry;

		if (!keyids)
			return nomem(t->d);
		if (s->n_keys == 0 || s->threshold < 1 || (size_t)s->threshold > s->n_keys) {
			json_decref(keyids);
			return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
					    "%s needs at least one key and a threshold from 1 to "
					    "its number of keys (%zu keys, threshold %lld)",
					    name, s->n_keys, (long long)s->threshold);
		}
		for (size_t k = 0; k < s->n_keys; k++) {
			char keyid[UPK_KEYID_HEX_LEN + 1];
			enum upk_err r = key_obj_check(s->keys[k], keyid, t->d);

			if (!r && keyid_arr_index(keyids, keyid, NULL))
				r = upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
						 "key %.16s... is given twice for %s", keyid, name);
			if (!r && (json_array_append_new(keyids, json_string(keyid)) ||
				   json_object_set_new(keys, keyid, json_deep_copy(s->keys[k]))))
				r = nomem(t->d);
			if (r) {
				json_decref(keyids);
				return r;
			}
		}
		entry = json_pack("{s:o, s:I}", "keyids", keyids, "threshold",
				  (json_int_t)s->threshold);
		if (!entry || json_object_set_new(robj, name, entry))
			return nomem(t->d);
	}
	t->root_next =
		json_pack("{s:s, s:s, s:b, s:O, s:O}", "_type", "root", "spec_version",
			  SPEC_VERSION, "consistent_snapshot", 1, "keys", keys, "roles", robj);
	return t->root_next ? UPK_OK : nomem(t->d);
}

/* A repository is there if any root, timestamp or journal is. */
static bool repo_has_metadata(struct txn *t)
{
	_cleanup_free_ int64_t *vers = NULL;
	_cleanup_free_ char *ts = strf("%s/timestamp.json", t->meta_dir);
	_cleanup_free_ char *j = strf("%s/commit.json", t->priv_dir);
	struct upk_diag ld;
	size_t n = 0;

	upk_diag_clear(&ld);
	if (list_roots(t->meta_dir, &vers, &n, &ld) == UPK_OK && n > 0)
		return true;
	return (ts && upk_io_exists(ts)) || (j && upk_io_exists(j));
}

enum upk_err upks_repo_init(const struct upks_repo_ctx *ctx,
			    const struct upks_repo_role_spec roles[UPK_ROLE_COUNT],
			    struct upks_repo_result *ret, struct upk_diag *reterr_diag)
{
	struct upk_diag local, *d = reterr_diag ? reterr_diag : &local;
	struct trole *top;
	struct txn t;
	json_t *sig;
	enum upk_err r;

	upk_diag_clear(&local);
	r = txn_setup(&t, ctx, d);
	if (!r && repo_has_metadata(&t))
		r = upk_diag_set(d, UPK_E_EXISTS, ctx->repo, -1,
				 "already holds a repository; not overwritten");
	if (!r)
		r = cfg_new(&t.cfg) ? nomem(d) : UPK_OK;
	if (!r)
		r = apply_expiries(&t, NULL);
	t.cfg_dirty = true;
	if (!r)
		r = init_root(&t, roles);
	if (!r)
		r = role_add(&t, "targets", NULL, 0, &top);
	if (!r)
		r = role_edit(&t, top, &sig);
	/* Everything is signed before the directory is created: a refusal leaves no trace. */
	if (!r)
		r = txn_prepare(&t);
	if (!r)
		r = txn_open(&t, true);
	if (!r && repo_has_metadata(&t))
		r = upk_diag_set(d, UPK_E_EXISTS, ctx->repo, -1,
				 "already holds a repository; not overwritten");
	if (!r)
		r = txn_write(&t);
	if (!r)
		result_fill(&t, NULL, ret);
	txn_done(&t);
	return r;
}

/* ---- publish, yank ---- */

struct publish_arg {
	const char *role;
	const struct upks_repo_target_in *targets;
	size_t n;
	const json_t *custom;
	const json_t *const *customs; /* per target, or NULL */
	unsigned hashes;	      /* UPKS_REPO_HASH bits, not empty */
};

static enum upk_err find_targets_role(struct txn *t, const char *name, struct trole **ret)
{
	struct trole *r = role_find(t, name);

	if (!r)
		return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
				    "no role '%.128s' is delegated in this repository", name);
	*ret = r;
	return UPK_OK;
}

/* A client only asks a delegated role for paths every delegation above it allows. */
static enum upk_err check_allowed(struct txn *t, const struct trole *r, const char *path)
{
	for (const struct trole *c = r; c && c->delegator; c = role_find(t, c->delegator)) {
		const struct trole *dg = role_find(t, c->delegator);
		const struct upk_delegated_role *dr =
			deleg_find(dg ? role_meta(dg) : NULL, c->name);

		if (!dr || !upks_repo_delegation_allows(dr, path))
			return upk_diag_set(t->d, UPK_E_USAGE, path, -1,
					    "outside the paths %.64s delegates to %.64s",
					    c->delegator, c->name);
	}
	return UPK_OK;
}

static enum upk_err publish_edit(struct txn *t, const void *argp, const char **ret_changed)
{
	const struct publish_arg *a = argp;
	struct trole *role = NULL;
	json_t *sig, *targets;
	enum upk_err r = find_targets_role(t, a->role, &role);

	if (r)
		return r;
	for (size_t i = 0; i < a->n; i++) {
		r = check_allowed(t, role, a->targets[i].path);
		if (r)
			return r;
	}
	r = role_edit(t, role, &sig);
	if (r)
		return r;
	targets = json_object_get(sig, "targets");
	if (!json_is_object(targets))
		return upk_diag_set(t->d, UPK_E_INTERNAL, role->name, -1, "no targets object");
	for (size_t i = 0; i < a->n; i++) {
		const json_t *custom = a->customs && a->customs[i] ? a->customs[i] : a->custom;
		json_t *entry = NULL;

		r = stage_target(t, a->targets[i].path, a->targets[i].file, a->hashes, &entry);
		/* customs[i] is set for the targets the caller read as bundles. */
		if (!r && a->customs && a->customs[i] && json_object_get(custom, "upkeep"))
			r = check_staged_bundle(t, t->staged[t->n_staged - 1].tmp,
						a->targets[i].file,
						json_object_get(custom, "upkeep"));
		if (r) {
			json_decref(entry);
			return r;
		}
		if (custom && json_object_set_new(entry, "custom", json_deep_copy(custom))) {
			json_decref(entry);
			return nomem(t->d);
		}
		if (json_object_set_new(targets, a->targets[i].path, entry))
			return nomem(t->d);
	}
	*ret_changed = role->name;
	return apply_expiries(t, NULL);
}

enum upk_err upks_repo_hashes_parse(const char *list, unsigned *ret_hashes,
				    struct upk_diag *reterr_diag)
{
	unsigned hashes = 0;
	const char *p = list;

	if (!*list)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "--hashes: the list '' is empty; give sha256, sha512 or "
				    "sha256,sha512");
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char name[16];
		enum upk_hash_alg alg;

		/* A name longer than any algorithm's cannot be one: shown, not copied. */
		if (n >= sizeof(name))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "--hashes: '%.*s' is not sha256 or sha512",
					    n > 64 ? 64 : (int)n, p);
		memcpy(name, p, n);
		name[n] = 0;
		if (n == 0)
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "--hashes: '%.64s' has an empty name", list);
		if (!upk_hash_from_name(name, &alg))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "--hashes: '%s' is not sha256 or sha512", name);
		if (hashes & UPKS_REPO_HASH(alg))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "--hashes: '%s' is given twice", name);
		hashes |= UPKS_REPO_HASH(alg);
		if (!comma)
			break;
		p = comma + 1;
	}
	*ret_hashes = hashes;
	return UPK_OK;
}

enum upk_err upks_repo_publish(const struct upks_repo_ctx *ctx, const char *role,
			       const struct upks_repo_target_in *targets, size_t n_targets,
			       const json_t *custom, struct upks_repo_result *ret,
			       struct upk_diag *reterr_diag)
{
	return upks_repo_publish_each(ctx, role, targets, NULL, n_targets, custom, ret,
				      reterr_diag);
}

enum upk_err upks_repo_publish_each(const struct upks_repo_ctx *ctx, const char *role,
				    const struct upks_repo_target_in *targets,
				    const json_t *const *customs, size_t n_targets,
				    const json_t *custom, struct upks_repo_result *ret,
				    struct upk_diag *reterr_diag)
{
	const struct upks_repo_publish_req req = {
		.role = role,
		.targets = targets,
		.n_targets = n_targets,
		.custom = custom,
		.customs = customs,
	};

	return upks_repo_publish_with(ctx, &req, ret, reterr_diag);
}

enum upk_err upks_repo_publish_with(const struct upks_repo_ctx *ctx,
				    const struct upks_repo_publish_req *req,
				    struct upks_repo_result *ret, struct upk_diag *reterr_diag)
{
	const struct upks_repo_target_in *targets = req->targets;
	const json_t *const *customs = req->customs;
	const json_t *custom = req->custom;
	size_t n_targets = req->n_targets;
	struct publish_arg a = {
		.role = req->role ? req->role : "targets",
		.targets = targets,
		.n = n_targets,
		.custom = custom,
		.customs = customs,
		.hashes = req->hashes ? req->hashes : UPKS_REPO_HASHES_ALL,
	};
	_cleanup_json_ json_t *seen = json_object();
	enum upk_err r;

	assert(!(req->hashes & ~UPKS_REPO_HASHES_ALL));

	if (!seen)
		return nomem(reterr_diag);
	if (n_targets == 0)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1, "no targets to publish");
	if (custom && !json_is_object(custom))
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "custom metadata must be a JSON object");
	for (size_t i = 0; i < n_targets; i++) {
		if (customs && customs[i] && !json_is_object(customs[i]))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, targets[i].path, -1,
					    "custom metadata must be a JSON object");
		r = upks_repo_target_path_check(targets[i].path, reterr_diag);
		if (r)
			return r;
		if (json_object_get(seen, targets[i].path))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, targets[i].path, -1,
					    "target path given twice");
		if (json_object_set_new(seen, targets[i].path, json_true()))
			return nomem(reterr_diag);
	}
	return run_command(ctx, publish_edit, &a, ret, reterr_diag);
}

struct yank_arg {
	const char *role;
	const char *const *paths;
	size_t n;
};

static enum upk_err yank_edit(struct txn *t, const void *argp, const char **ret_changed)
{
	const struct yank_arg *a = argp;
	struct trole *role = NULL;
	json_t *sig, *targets;
	enum upk_err r = find_targets_role(t, a->role, &role);

	if (r)
		return r;
	r = role_edit(t, role, &sig);
	if (r)
		return r;
	targets = json_object_get(sig, "targets");
	for (size_t i = 0; i < a->n; i++) {
		if (!json_object_get(targets, a->paths[i]))
			return upk_diag_set(t->d, UPK_E_USAGE, a->paths[i], -1,
					    "not a target of %.128s", role->name);
		json_object_del(targets, a->paths[i]);
	}
	*ret_changed = role->name;
	return apply_expiries(t, NULL);
}

enum upk_err upks_repo_yank(const struct upks_repo_ctx *ctx, const char *role,
			    const char *const *paths, size_t n_paths, struct upks_repo_result *ret,
			    struct upk_diag *reterr_diag)
{
	struct yank_arg a = { role ? role : "targets", paths, n_paths };

	if (n_paths == 0)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1, "no targets to yank");
	return run_command(ctx, yank_edit, &a, ret, reterr_diag);
}

/* ---- delegate ---- */

static bool prefix_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 2 * UPK_SHA256_LEN)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

static enum upk_err str_array(const char *const *v, size_t n, json_t **ret)
{
	json_t *arr = json_array();

	if (!arr)
		return UPK_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		if (json_array_append_new(arr, json_string(v[i]))) {
			json_decref(arr);
			return UPK_E_NOMEM;
		}
	}
	*ret = arr;
	return UPK_OK;
}

/* The delegations object of a targets `signed` object, created if absent. */
static enum upk_err delegations_of(struct txn *t, json_t *sig, const char *owner, json_t **ret)
{
	json_t *dele = json_object_get(sig, "delegations");

	if (!dele) {
		dele = json_pack("{s:{}, s:[]}", "keys", "roles");
		if (!dele || json_object_set_new(sig, "delegations", dele))
			return nomem(t->d);
	}
	if (json_object_get(dele, "succinct_roles") ||
	    !json_is_array(json_object_get(dele, "roles")))
		return upk_diag_set(t->d, UPK_E_USAGE, owner, -1,
				    "delegates to succinct hash bins; Upkeep cannot change them");
	*ret = dele;
	return UPK_OK;
}

static enum upk_err delegate_edit(struct txn *t, const void *argp, const char **ret_changed)
{
	const struct upks_repo_delegate_req *q = argp;
	const char *delegator = q->delegator ? q->delegator : "targets";
	_cleanup_json_ json_t *keyids = json_array();
	json_t *sig, *dele, *entry, *paths = NULL, *roles, *v;
	struct trole *dg = NULL, *ex = role_find(t, q->role), *nr = NULL;
	size_t idx = 0;
	bool found;
	enum upk_err r;

	if (!keyids)
		return nomem(t->d);
	r = find_targets_role(t, delegator, &dg);
	if (r)
		return r;
	if (ex && (!ex->delegator || strcmp(ex->delegator, delegator) != 0))
		return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
				    "role '%.100s' is already delegated by '%.100s'", q->role,
				    ex->delegator ? ex->delegator : "nobody");
	r = role_edit(t, dg, &sig);
	if (!r)
		r = delegations_of(t, sig, delegator, &dele);
	if (r)
		return r;
	for (size_t i = 0; i < q->n_keys; i++) {
		char keyid[UPK_KEYID_HEX_LEN + 1];

		r = key_obj_check(q->keys[i], keyid, t->d);
		if (r)
			return r;
		if (keyid_arr_index(keyids, keyid, NULL))
			return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
					    "key %.16s... is given twice", keyid);
		if (json_array_append_new(keyids, json_string(keyid)) ||
		    json_object_set_new(json_object_get(dele, "keys"), keyid,
					json_deep_copy(q->keys[i])))
			return nomem(t->d);
	}
	if (q->n_paths ? str_array(q->paths, q->n_paths, &paths)
		       : str_array(q->prefixes, q->n_prefixes, &paths))
		return nomem(t->d);
	entry = json_pack("{s:s, s:O, s:I, s:b, s:o}", "name", q->role, "keyids", keyids,
			  "threshold", (json_int_t)q->threshold, "terminating", q->terminating,
			  q->n_paths ? "paths" : "path_hash_prefixes", paths);
	if (!entry)
		return nomem(t->d);
	roles = json_object_get(dele, "roles");
	found = false;
	json_array_foreach (roles, idx, v) {
		if (json_is_string(json_object_get(v, "name")) &&
		    strcmp(json_string_value(json_object_get(v, "name")), q->role) == 0) {
			found = true;
			break;
		}
	}
	if (found ? json_array_set_new(roles, idx, entry) : json_array_append_new(roles, entry))
		return nomem(t->d);
	gc_keys(json_object_get(dele, "keys"), roles);
	if (!ex) {
		int depth = dg->depth + 1;

		if (depth > MAX_DELEGATION_DEPTH)
			return upk_diag_set(
				t->d, UPK_E_USAGE, NULL, -1,
				"delegations deeper than %d are not followed by clients",
				MAX_DELEGATION_DEPTH);
		r = role_add(t, q->role, delegator, depth, &nr);
		if (!r)
			r = role_edit(t, nr, &sig);
		if (r)
			return r;
		*ret_changed = nr->name;
	} else {
		*ret_changed = ex->name;
	}
	return apply_expiries(t, q->role);
}

enum upk_err upks_repo_delegate(const struct upks_repo_ctx *ctx,
				const struct upks_repo_delegate_req *req,
				struct upks_repo_result *ret, struct upk_diag *reterr_diag)
{
	enum upk_err r = upks_repo_role_name_check(req->role, reterr_diag);

	if (r)
		return r;
	if (req->delegator && strcmp(req->delegator, req->role) == 0)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "a role cannot delegate to itself");
	if (req->n_keys == 0 || req->threshold < 1 || (size_t)req->threshold > req->n_keys)
		return upk_diag_set(
			reterr_diag, UPK_E_USAGE, NULL, -1,
			"a delegation needs keys and a threshold from 1 to their number "
			"(%zu keys, threshold %lld)",
			req->n_keys, (long long)req->threshold);
	if (!req->n_paths == !req->n_prefixes)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "a delegation needs either path patterns or path hash "
				    "prefixes");
	for (size_t i = 0; i < req->n_paths; i++) {
		r = upks_repo_glob_check(req->paths[i], reterr_diag);
		if (r)
			return r;
	}
	for (size_t i = 0; i < req->n_prefixes; i++) {
		if (!prefix_valid(req->prefixes[i]))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "path hash prefix '%.80s' is not 1 to 64 lower-case "
					    "hex digits",
					    req->prefixes[i]);
	}
	return run_command(ctx, delegate_edit, req, ret, reterr_diag);
}

/* ---- rotate ---- */

static bool is_keyid(const char *s)
{
	return upk_hex_is_valid(s, UPK_KEYID_HEX_LEN);
}

/* Apply a rotation to a role entry {"keyids", "threshold"} and its key map. */
static enum upk_err rotate_entry(struct txn *t, const struct upks_repo_rotate_req *q, json_t *entry,
				 json_t *keys)
{
	json_t *keyids = json_object_get(entry, "keyids");
	int64_t threshold;

	if (!json_is_array(keyids))
		return upk_diag_set(t->d, UPK_E_INTERNAL, q->role, -1, "no keyids");
	for (size_t i = 0; i < q->n_remove; i++) {
		size_t idx;

		if (!keyid_arr_index(keyids, q->remove[i], &idx))
			return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
					    "key %.16s... is not a key of %.128s", q->remove[i],
					    q->role);
		json_array_remove(keyids, idx);
	}
	for (size_t i = 0; i < q->n_add; i++) {
		char keyid[UPK_KEYID_HEX_LEN + 1];
		enum upk_err r = key_obj_check(q->add[i], keyid, t->d);

		if (r)
			return r;
		if (keyid_arr_index(keyids, keyid, NULL))
			return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
					    "key %.16s... is already a key of %.128s", keyid,
					    q->role);
		if (json_array_append_new(keyids, json_string(keyid)) ||
		    json_object_set_new(keys, keyid, json_deep_copy(q->add[i])))
			return nomem(t->d);
	}
	if (q->threshold && set_int(entry, "threshold", q->threshold))
		return nomem(t->d);
	threshold = json_integer_value(json_object_get(entry, "threshold"));
	if (json_array_size(keyids) == 0 || (int64_t)json_array_size(keyids) < threshold)
		return upk_diag_set(t->d, UPK_E_USAGE, NULL, -1,
				    "%.128s would have %zu keys for a threshold of %lld", q->role,
				    json_array_size(keyids), (long long)threshold);
	return UPK_OK;
}

static enum upk_err rotate_edit(struct txn *t, const void *argp, const char **ret_changed)
{
	const struct upks_repo_rotate_req *q = argp;
	bool renew = !q->n_remove && !q->n_add && !q->threshold;
	json_t *sig, *dele, *v, *entry = NULL;
	struct trole *role = NULL, *dg = NULL;
	size_t idx;
	enum upk_err r;

	if (is_top_level_name(q->role)) {
		if (renew && strcmp(q->role, "targets") == 0) {
			r = find_targets_role(t, "targets", &role);
			if (!r)
				r = role_edit(t, role, &sig);
			if (r)
				return r;
			*ret_changed = role->name;
			return apply_expiries(t, NULL);
		}
		if (renew && strcmp(q->role, "root") != 0)
			return apply_expiries(t, NULL); /* snapshot, timestamp: re-signed anyway */
		t->root_next = json_deep_copy(t->root->signed_obj);
		if (!t->root_next)
			return nomem(t->d);
		if (!renew) {
			entry = json_object_get(json_object_get(t->root_next, "roles"), q->role);
			r = rotate_entry(t, q, entry, json_object_get(t->root_next, "keys"));
			if (r)
				return r;
			gc_keys(json_object_get(t->root_next, "keys"),
				json_object_get(t->root_next, "roles"));
		}
		if (strcmp(q->role, "targets") == 0) {
			/* Re-signed with the new keys only: a removed key's signature goes. */
			r = find_targets_role(t, "targets", &role);
			if (!r)
				r = role_edit(t, role, &sig);
			if (r)
				return r;
			*ret_changed = role->name;
		}
		return apply_expiries(t, NULL);
	}
	r = find_targets_role(t, q->role, &role);
	if (r)
		return r;
	*ret_changed = role->name;
	if (renew) {
		r = role_edit(t, role, &sig);
		return r ? r : apply_expiries(t, NULL);
	}
	r = find_targets_role(t, role->delegator, &dg);
	if (!r)
		r = role_edit(t, dg, &sig);
	if (!r)
		r = delegations_of(t, sig, dg->name, &dele);
	if (r)
		return r;
	json_array_foreach (json_object_get(dele, "roles"), idx, v) {
		if (json_is_string(json_object_get(v, "name")) &&
		    strcmp(json_string_value(json_object_get(v, "name")), q->role) == 0) {
			entry = v;
			break;
		}
	}
	if (!entry)
		return upk_diag_set(t->d, UPK_E_INTERNAL, q->role, -1, "delegation entry lost");
	r = rotate_entry(t, q, entry, json_object_get(dele, "keys"));
	if (r)
		return r;
	gc_keys(json_object_get(dele, "keys"), json_object_get(dele, "roles"));
	r = role_edit(t, role, &sig);
	return r ? r : apply_expiries(t, NULL);
}

enum upk_err upks_repo_rotate(const struct upks_repo_ctx *ctx,
			      const struct upks_repo_rotate_req *req, struct upks_repo_result *ret,
			      struct upk_diag *reterr_diag)
{
	if (!req->role || !req->role[0])
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1, "no role to rotate");
	if (req->threshold < 0)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
				    "the threshold must be at least 1");
	for (size_t i = 0; i < req->n_remove; i++) {
		if (!is_keyid(req->remove[i]))
			return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1,
					    "'%.80s' is not a key id (64 lower-case hex digits)",
					    req->remove[i]);
	}
	return run_command(ctx, rotate_edit, req, ret, reterr_diag);
}

/* ---- refresh ---- */

static enum upk_err refresh_edit(struct txn *t, const void *argp, const char **ret_changed)
{
	(void)argp;
	(void)ret_changed;
	return apply_expiries(t, NULL);
}

enum upk_err upks_repo_refresh(const struct upks_repo_ctx *ctx, struct upks_repo_result *ret,
			       struct upk_diag *reterr_diag)
{
	return run_command(ctx, refresh_edit, NULL, ret, reterr_diag);
}

enum upk_err upks_repo_refresh_if_due(const char *repo, const char *online_keys_dir, int64_t now,
				      bool *ret_changed, struct upk_diag *reterr_diag)
{
	struct upks_repo_ctx ctx = {
		.repo = repo,
		.now = now,
		.lock_timeout_ms = UPKS_REPO_REFRESH_LOCK_TIMEOUT_MS,
		.online_dir = online_keys_dir,
	};
	struct upk_diag local, *d = reterr_diag ? reterr_diag : &local;
	bool snap_due, ts_due;
	struct txn t;
	enum upk_err r;

	upk_diag_clear(&local);
	r = txn_setup(&t, &ctx, d);
	if (!r)
		r = txn_open(&t, false);
	if (!r)
		r = txn_load(&t);
	if (r) {
		txn_done(&t);
		return r;
	}
	snap_due = upks_repo_is_due(now, t.snapshot->expires, cfg_duration(t.cfg, "snapshot"));
	ts_due = upks_repo_is_due(now, t.timestamp->expires, cfg_duration(t.cfg, "timestamp"));
	if (snap_due || ts_due) {
		t.keep_snapshot = !snap_due;
		r = txn_prepare(&t);
		if (!r)
			r = txn_write(&t);
	}
	if (!r && ret_changed)
		*ret_changed = snap_due || ts_due || t.rolled_forward;
	txn_done(&t);
	return r;
}

/* ------------------------------------------------------------------------ */
/* verify: a client's walk over the whole repository, on its own code path. */

struct vrole {
	char *name;
	struct upk_meta *m;
	long delegator;				/* index into the vrole array, -1 for targets */
	const struct upk_delegated_role *entry; /* borrowed from the delegator's meta */
};

struct vctx {
	char *meta_dir, *targets_dir;
	int64_t now;
	struct upks_repo_report *rep;
	bool nomem;
	json_t *referenced; /* metadata file names a client reaches */
	json_t *current;    /* role -> current version, for the unreferenced-file notes */
	struct vrole *roles;
	size_t n_roles, cap_roles;
	uint8_t *buf;
};

static void problem(struct vctx *v, enum upk_err err, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void problem(struct vctx *v, enum upk_err err, const char *file, const char *fmt, ...)
{
	struct upks_repo_report *rep = v->rep;
	struct upks_repo_problem *p, *n;
	va_list ap;

	if (rep->n_problems % 64 == 0) {
		n = reallocarray(rep->problems, rep->n_problems + 64, sizeof(*n));
		if (!n) {
			v->nomem = true;
			return;
		}
		rep->problems = n;
	}
	p = &rep->problems[rep->n_problems++];
	p->err = err;
	snprintf(p->file, sizeof(p->file), "%s", file);
	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
}

/* A problem from a diag: its class and reason, with the field it names. */
static void problem_diag(struct vctx *v, const char *file, const struct upk_diag *d)
{
	if (d->where[0] && !strstr(d->where, file) && !strstr(file, d->where))
		problem(v, d->err, file, "%s: %s", d->where, d->reason);
	else
		problem(v, d->err, file, "%s", d->reason);
}

static void note(struct vctx *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(struct vctx *v, const char *fmt, ...)
{
	struct upks_repo_report *rep = v->rep;
	char **n;
	char *s;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (len < 0) {
		v->nomem = true;
		return;
	}
	n = reallocarray(rep->notes, rep->n_notes + 1, sizeof(*n));
	if (!n) {
		free(s);
		v->nomem = true;
		return;
	}
	rep->notes = n;
	rep->notes[rep->n_notes++] = s;
}

static void mark(struct vctx *v, json_t *set, const char *key, json_t *value)
{
	if (json_object_set_new(set, key, value ? value : json_true()))
		v->nomem = true;
}

static void role_summary(struct vctx *v, const char *role, const struct upk_meta *m)
{
	char when[UPK_TIME_STR_LEN + 1] = "";
	json_t *o;

	if (upk_time_format(m->expires, when) != UPK_OK)
		snprintf(when, sizeof(when), "?");
	o = json_pack("{s:I, s:s}", "version", (json_int_t)m->version, "expires", when);
	if (o && m->type == UPK_ROLE_TARGETS &&
	    json_object_set_new(o, "targets", json_integer((json_int_t)m->n_targets))) {
		json_decref(o);
		o = NULL;
	}
	if (!o) {
		v->nomem = true;
		return;
	}
	mark(v, v->rep->roles, role, o);
	mark(v, v->current, role, json_integer((json_int_t)m->version));
}

static void check_expiry(struct vctx *v, const char *file, const struct upk_meta *m)
{
	char when[UPK_TIME_STR_LEN + 1] = "?";

	if (!upk_meta_is_expired(m, v->now))
		return;
	if (upk_time_format(m->expires, when) != UPK_OK)
		snprintf(when, sizeof(when), "?");
	problem(v, UPK_E_EXPIRED, file, "expired at %s", when);
}

/*
 * Load metadata/<name> as a client would: the length and hashes and the
 * version the referencing entry lists (mf, may be NULL), then parse.
 * Problems are listed; NULL if the file cannot be used at all.
 */
static struct upk_meta *vload(struct vctx *v, const char *name, enum upk_role type,
			      const struct upk_metafile *mf)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_free_ char *path = strf("%s/%s", v->meta_dir, name);
	_cleanup_free_ char *file = strf("metadata/%s", name);
	struct upk_meta *m = NULL;
	struct upk_diag d;

	if (!path || !file) {
		v->nomem = true;
		return NULL;
	}
	upk_diag_clear(&d);
	mark(v, v->referenced, name, NULL);
	if (upk_io_read_file(path, upk_role_max_size(type), &b, NULL, &d) != UPK_OK) {
		if (d.err == UPK_E_NOT_FOUND)
			problem(v, UPK_E_NOT_FOUND, file, "missing");
		else
			problem(v, d.err, file, "%s", d.reason);
		return NULL;
	}
	if (mf && mf->length >= 0 && (int64_t)b.len != mf->length)
		problem(v, UPK_E_LENGTH, file, "%zu bytes, but %lld are listed", b.len,
			(long long)mf->length);
	if (mf && mf->has_hashes && upk_meta_hashes_check(&mf->hashes, b.data, b.len, &d))
		problem_diag(v, file, &d);
	upk_diag_clear(&d);
	if (upk_meta_parse(b.data, b.len, type, 0, &m, &d) != UPK_OK) {
		problem_diag(v, file, &d);
		return NULL;
	}
	if (mf && m->version != mf->version)
		problem(v, UPK_E_ROLLBACK, file, "has version %lld, but version %lld is listed",
			(long long)m->version, (long long)mf->version);
	return m;
}

static void verify_sig(struct vctx *v, const char *file, enum upk_err r, const struct upk_diag *d)
{
	if (r == UPK_E_NOMEM)
		v->nomem = true;
	else if (r)
		problem(v, r, file, "%s", d->reason);
}

/*
 * Load the top-level snapshot or targets version that mf lists (file gets
 * "metadata/N.ROLE.json"), and check it as a client would: signed by root's
 * keys for the role, not expired; record it in the summary. NULL if it
 * could not be loaded (the problem is recorded).
 */
static struct upk_meta *vload_top(struct vctx *v, const struct upk_meta *root, enum upk_role role,
				  const struct upk_metafile *mf, char *file, size_t file_size)
{
	struct upk_diag d;
	struct upk_meta *m;
	char name[64];

	snprintf(name, sizeof(name), "%lld.%s.json", (long long)mf->version, upk_role_name(role));
	snprintf(file, file_size, "metadata/%s", name);
	m = vload(v, name, role, mf);
	if (!m)
		return NULL;
	upk_diag_clear(&d);
	verify_sig(v, file, upk_meta_verify_by_root(root, role, m, &d), &d);
	check_expiry(v, file, m);
	role_summary(v, upk_role_name(role), m);
	return m;
}

/* TUF 5.3: every root from 1 on, each signed by its predecessor's threshold and its own. */
static struct upk_meta *verify_roots(struct vctx *v)
{
	_cleanup_free_ int64_t *vers = NULL;
	struct upk_meta *trusted = NULL;
	struct upk_diag d;
	size_t n = 0;

	upk_diag_clear(&d);
	if (list_roots(v->meta_dir, &vers, &n, &d) != UPK_OK) {
		problem(v, d.err, "metadata", "%s", d.reason);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		char name[64], file[80];
		struct upk_meta *m;
		enum upk_err r;

		snprintf(name, sizeof(name), "%zu.root.json", i + 1);
		snprintf(file, sizeof(file), "metadata/%s", name);
		if (vers[i] != (int64_t)i + 1) {
			problem(v, UPK_E_NOT_FOUND, file,
				"missing, so clients never reach %lld.root.json",
				(long long)vers[i]);
			break;
		}
		m = vload(v, name, UPK_ROLE_ROOT, NULL);
		if (!m)
			break;
		if (m->version != (int64_t)i + 1)
			problem(v, UPK_E_ROLLBACK, file, "holds root version %lld",
				(long long)m->version);
		if (trusted) {
			upk_diag_clear(&d);
			r = upk_meta_verify_role(trusted->keys, trusted->n_keys,
						 &trusted->roles[UPK_ROLE_ROOT], m, &d);
			if (r)
				problem(v, r == UPK_E_NOMEM ? r : UPK_E_THRESHOLD, file,
					"not signed by the threshold of root version %lld: %s",
					(long long)trusted->version, d.reason);
		}
		upk_diag_clear(&d);
		r = upk_meta_verify_by_root(m, UPK_ROLE_ROOT, m, &d);
		if (r)
			problem(v, r, file, "not signed by its own threshold: %s", d.reason);
		upk_meta_free(trusted);
		trusted = m;
	}
	if (n == 0)
		problem(v, UPK_E_NOT_FOUND, "metadata/1.root.json",
			"missing: clients start from it (not a repository?)");
	if (trusted) {
		char file[80];

		snprintf(file, sizeof(file), "metadata/%lld.root.json",
			 (long long)trusted->version);
		check_expiry(v, file, trusted);
		if (!trusted->consistent_snapshot)
			problem(v, UPK_E_FORMAT, file,
				"consistent_snapshot is false; this layout needs true");
		role_summary(v, "root", trusted);
		v->rep->root_version = trusted->version;
	}
	return trusted;
}

static enum upk_err vrole_add(struct vctx *v, const char *name, struct upk_meta *m, long delegator,
			      const struct upk_delegated_role *entry)
{
	struct vrole *r;

	if (v->n_roles == v->cap_roles) {
		size_t cap = v->cap_roles ? 2 * v->cap_roles : 8;
		struct vrole *n = reallocarray(v->roles, cap, sizeof(*n));

		if (!n)
			return UPK_E_NOMEM;
		v->roles = n;
		v->cap_roles = cap;
	}
	r = &v->roles[v->n_roles];
	r->name = strdup(name);
	if (!r->name)
		return UPK_E_NOMEM;
	r->m = m;
	r->delegator = delegator;
	r->entry = entry;
	v->n_roles++;
	return UPK_OK;
}

static int vrole_depth(const struct vctx *v, size_t i)
{
	int depth = 0;

	for (long j = v->roles[i].delegator; j >= 0; j = v->roles[j].delegator)
		depth++;
	return depth;
}

/* Delegated roles through the delegations, each listed in snapshot and signed by its delegator. */
static void verify_delegations(struct vctx *v, const struct upk_meta *snap, const char *snap_file)
{
	_cleanup_json_ json_t *seen = json_object();

	if (!seen) {
		v->nomem = true;
		return;
	}
	mark(v, seen, "targets", NULL);
	for (size_t i = 0; i < v->n_roles && !v->nomem; i++) {
		const struct upk_meta *dm = v->roles[i].m;

		if (!dm->has_delegations)
			continue;
		if (vrole_depth(v, i) >= MAX_DELEGATION_DEPTH) {
			note(v, "delegations below %s (depth %d) are not followed",
			     v->roles[i].name, MAX_DELEGATION_DEPTH);
			continue;
		}
		if (dm->delegations.has_succinct) {
			note(v,
			     "%s delegates to succinct hash bins; their metadata is checked as "
			     "listed in snapshot",
			     v->roles[i].name);
			for (size_t k = 0; k < snap->n_meta; k++) {
				const char *mn = snap->meta[k].name;
				size_t ml = strlen(mn);
				_cleanup_free_ char *rn = NULL;
				char fname[512], file[600];
				struct upk_meta *m;
				struct upk_diag d;

				if (ml <= 5 || strcmp(mn + ml - 5, ".json") != 0)
					continue;
				rn = strndup(mn, ml - 5);
				if (!rn) {
					v->nomem = true;
					return;
				}
				upk_diag_clear(&d);
				if (json_object_get(seen, rn) ||
				    strncmp(rn, dm->delegations.succinct.name_prefix,
					    strlen(dm->delegations.succinct.name_prefix)) != 0)
					continue;
				mark(v, seen, rn, NULL);
				upks_repo_meta_file_name(rn, snap->meta[k].version, fname,
							 sizeof(fname));
				snprintf(file, sizeof(file), "metadata/%s", fname);
				m = vload(v, fname, UPK_ROLE_TARGETS, &snap->meta[k]);
				if (!m)
					continue;
				verify_sig(v, file, upk_meta_verify_delegated(dm, rn, m, &d), &d);
				check_expiry(v, file, m);
				if (vrole_add(v, rn, m, (long)i, NULL)) {
					upk_meta_free(m);
					v->nomem = true;
					return;
				}
				dm = v->roles[i].m;
			}
			continue;
		}
		for (size_t k = 0; k < dm->delegations.n_roles; k++) {
			const struct upk_delegated_role *dr = &dm->delegations.roles[k];
			_cleanup_free_ char *entry = strf("%s.json", dr->name);
			const struct upk_metafile *mf;
			char fname[512], file[600];
			struct upk_meta *m;
			struct upk_diag d;

			if (!entry) {
				v->nomem = true;
				return;
			}
			if (json_object_get(seen, dr->name))
				continue;
			mark(v, seen, dr->name, NULL);
			mf = upk_meta_find_meta(snap, entry);
			if (!mf) {
				problem(v, UPK_E_NOT_FOUND, snap_file,
					"does not list %.200s, which %.200s delegates to", entry,
					v->roles[i].name);
				continue;
			}
			upks_repo_meta_file_name(dr->name, mf->version, fname, sizeof(fname));
			snprintf(file, sizeof(file), "metadata/%s", fname);
			m = vload(v, fname, UPK_ROLE_TARGETS, mf);
			if (!m)
				continue;
			upk_diag_clear(&d);
			verify_sig(v, file, upk_meta_verify_delegated(dm, dr->name, m, &d), &d);
			check_expiry(v, file, m);
			role_summary(v, dr->name, m);
			if (vrole_add(v, dr->name, m, (long)i, dr)) {
				upk_meta_free(m);
				v->nomem = true;
				return;
			}
			dm = v->roles[i].m;
		}
	}
}

/*
 * The content-addressed copy of a target under each hash its entry lists
 * (sha256, sha512, or both): present, right length, right hashes. Only the
 * listed hashes are computed.
 */
static void verify_target_file(struct vctx *v, const char *path, const struct upk_target *tg)
{
	static const enum upk_hash_alg algs[2] = { UPK_HASH_SHA256, UPK_HASH_SHA512 };
	const bool listed[2] = { tg->hashes.has_sha256, tg->hashes.has_sha512 };
	const uint8_t *want[2] = { tg->hashes.sha256, tg->hashes.sha512 };
	const char *slash = strrchr(path, '/');
	uint8_t got[2][UPK_HASH_MAX_LEN];
	dev_t dev = 0;
	ino_t ino = 0;
	bool have = false;

	if (!listed[0] && !listed[1]) {
		problem(v, UPK_E_UNSUPPORTED, path,
			"target lists neither a sha256 nor a sha512 hash, so no stored file name "
			"can be checked");
		return;
	}
	for (int k = 0; k < 2; k++) {
		char hex[2 * UPK_HASH_MAX_LEN + 1];
		_cleanup_free_ char *fpath = NULL;
		_cleanup_free_ char *file = NULL;
		_cleanup_(closep) int fd = -1;
		struct stat st;

		if (!listed[k])
			continue;
		upk_hex_encode(want[k], upk_hash_len(algs[k]), hex);
		if (slash)
			file = strf("targets/%.*s/%s.%s", (int)(slash - path), path, hex,
				    slash + 1);
		else
			file = strf("targets/%s.%s", hex, path);
		fpath = file ? strf("%s/%s", v->targets_dir, file + strlen("targets/")) : NULL;
		if (!fpath) {
			v->nomem = true;
			return;
		}
		fd = open(fpath, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0 || fstat(fd, &st) < 0) {
			if (errno == ENOENT)
				problem(v, UPK_E_NOT_FOUND, file, "missing (target %.200s)", path);
			else
				problem(v, UPK_E_IO, file, "cannot open: %s", strerror(errno));
			continue;
		}
		if (!S_ISREG(st.st_mode)) {
			problem(v, UPK_E_FORMAT, file, "not a regular file (target %.200s)", path);
			continue;
		}
		if (st.st_size != tg->length) {
			problem(v, UPK_E_LENGTH, file, "%lld bytes, but target %.200s lists %lld",
				(long long)st.st_size, path, (long long)tg->length);
			continue;
		}
		/* The two names are usually one inode: hash it once. */
		if (!have || st.st_dev != dev || st.st_ino != ino) {
			struct upk_hash_ctx h[2] = { UPK_HASH_CTX_INIT, UPK_HASH_CTX_INIT };
			enum upk_err r = UPK_OK;

			for (int a = 0; a < 2 && !r; a++) {
				if (listed[a])
					r = upk_hash_init(&h[a], algs[a]);
			}
			while (!r) {
				ssize_t n = read(fd, v->buf, COPY_BUF_SIZE);

				if (n < 0 && errno == EINTR)
					continue;
				if (n <= 0) {
					if (n < 0)
						r = UPK_E_IO;
					break;
				}
				for (int a = 0; a < 2 && !r; a++) {
					if (listed[a])
						r = upk_hash_update(&h[a], v->buf, (size_t)n);
				}
			}
			for (int a = 0; a < 2 && !r; a++) {
				if (listed[a])
					r = upk_hash_final(&h[a], got[a]);
			}
			upk_hash_done(&h[0]);
			upk_hash_done(&h[1]);
			if (r) {
				problem(v, r, file, "cannot read and hash it");
				have = false;
				continue;
			}
			have = true;
			dev = st.st_dev;
			ino = st.st_ino;
		}
		for (int a = 0; a < 2; a++) {
			if (listed[a] && !upk_hash_equal(got[a], want[a], upk_hash_len(algs[a])))
				problem(v, UPK_E_HASH, file, "%s mismatch (target %.200s)",
					upk_hash_name(algs[a]), path);
		}
	}
}

/* A path no client may turn into a file name outside targets/. */
static bool target_path_safe(const char *path)
{
	size_t seg = 0, len = strlen(path);

	if (len == 0 || path[0] == '/' || strchr(path, '\\'))
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (path[i] != '/' && path[i] != 0) {
			seg++;
			continue;
		}
		if (seg == 0 || (seg == 1 && path[i - 1] == '.') ||
		    (seg == 2 && path[i - 1] == '.' && path[i - 2] == '.'))
			return false;
		seg = 0;
	}
	return true;
}

static void verify_targets(struct vctx *v)
{
	for (size_t i = 0; i < v->n_roles && !v->nomem; i++) {
		const struct upk_meta *m = v->roles[i].m;

		for (size_t k = 0; k < m->n_targets && !v->nomem; k++) {
			const char *path = m->targets[k].path;

			v->rep->n_targets++;
			if (!target_path_safe(path)) {
				problem(v, UPK_E_FORMAT, path,
					"unsafe target path (in %.100s): refused by clients",
					v->roles[i].name);
				continue;
			}
			for (size_t j = i; v->roles[j].delegator >= 0;
			     j = (size_t)v->roles[j].delegator) {
				const struct upk_delegated_role *e = v->roles[j].entry;

				if (e && !upks_repo_delegation_allows(e, path)) {
					problem(v, UPK_E_FORMAT, path,
						"listed by %.100s but outside the paths delegated "
						"to %.100s: clients will not find it",
						v->roles[i].name, v->roles[j].name);
					break;
				}
			}
			verify_target_file(v, path, &m->targets[k]);
		}
	}
}

/* N.ROLE.json of a file name: version and the quoted role part; false otherwise. */
static bool versioned_name(const char *name, int64_t *ret_version, char *role, size_t size)
{
	int64_t ver = 0;
	size_t i = 0, len = strlen(name);

	if (name[0] < '1' || name[0] > '9')
		return false;
	for (; name[i] >= '0' && name[i] <= '9'; i++) {
		if (i >= 18)
			return false;
		ver = ver * 10 + (name[i] - '0');
	}
	if (name[i] != '.' || len < i + 7 || strcmp(name + len - 5, ".json") != 0)
		return false;
	snprintf(role, size, "%.*s", (int)(len - 5 - i - 1), name + i + 1);
	*ret_version = ver;
	return true;
}

/* Files a client never reaches: debris of interrupted commands, or stray files. */
static void note_unreferenced(struct vctx *v)
{
	_cleanup_(closedirp) DIR *dir = opendir(v->meta_dir);
	struct dirent *e;

	if (!dir)
		return;
	while ((e = readdir(dir))) {
		char role[300];
		int64_t ver, cur = 0;
		json_t *cv;

		if (e->d_name[0] == '.' || json_object_get(v->referenced, e->d_name))
			continue;
		if (!versioned_name(e->d_name, &ver, role, sizeof(role))) {
			note(v, "metadata/%s: not a metadata file name clients use", e->d_name);
			continue;
		}
		/* Quoted names of delegated roles: compare by file name, as a client asks. */
		cv = json_object_get(v->current, role);
		if (!cv) {
			const char *rn;
			json_t *x;

			json_object_foreach (v->current, rn, x) {
				char fname[512];

				upks_repo_meta_file_name(rn, ver, fname, sizeof(fname));
				if (strcmp(fname, e->d_name) == 0)
					cv = x;
			}
		}
		if (cv)
			cur = json_integer_value(cv);
		if (!cv)
			note(v, "metadata/%s: not referenced by any metadata", e->d_name);
		else if (ver > cur)
			note(v,
			     "metadata/%s: newer than the current version %lld and not referenced "
			     "(left by an interrupted command; the next command replaces it)",
			     e->d_name, (long long)cur);
	}
}

void upks_repo_report_done(struct upks_repo_report *r)
{
	if (!r)
		return;
	free(r->problems);
	for (size_t i = 0; i < r->n_notes; i++)
		free(r->notes[i]);
	free(r->notes);
	if (r->roles)
		json_decref(r->roles);
	memset(r, 0, sizeof(*r));
}

int upks_repo_report_exit_code(const struct upks_repo_report *r)
{
	enum upk_err e;

	if (!r->n_problems)
		return 0;
	e = r->problems[0].err;
	if (e == UPK_E_NOT_FOUND || e == UPK_E_FORMAT)
		return upk_err_exit_code(UPK_E_FORMAT);
	return upk_err_exit_code(e);
}

/* Take the lock and roll a journal forward, as every command does first. */
static enum upk_err verify_recover(struct vctx *v, const char *repo, int lock_timeout_ms,
				   int *ret_fd, struct upk_diag *d)
{
	struct upks_repo_ctx ctx = { .repo = repo, .lock_timeout_ms = lock_timeout_ms };
	_cleanup_free_ char *lock = NULL;
	struct stat st;
	struct txn t;
	enum upk_err r;

	r = txn_setup(&t, &ctx, d);
	if (r || stat(t.priv_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		txn_done(&t);
		return r; /* a copy without .upkeep/: nothing to roll forward */
	}
	lock = strf("%s/lock", t.priv_dir);
	if (!lock) {
		txn_done(&t);
		return nomem(d);
	}
	r = upk_io_lock(lock, lock_timeout_ms, &t.lock_fd, d);
	if (r == UPK_E_LOCKED) {
		txn_done(&t);
		return upk_diag_set(d, UPK_E_LOCKED, lock, -1,
				    "another upkeep-server command holds the repository lock; "
				    "gave up after %d.%03d s (--lock-timeout)",
				    lock_timeout_ms / 1000, lock_timeout_ms % 1000);
	}
	if (r) {
		note(v, "%s: %s; verified without the lock", lock, d->reason);
		upk_diag_clear(d);
		txn_done(&t);
		return UPK_OK;
	}
	r = recover(&t);
	if (!r && t.rolled_forward)
		note(v, "rolled forward the commit of an interrupted command");
	if (!r) {
		*ret_fd = t.lock_fd; /* held until verification ends */
		t.lock_fd = -1;
	}
	txn_done(&t);
	return r;
}

enum upk_err upks_repo_verify(const char *repo, int64_t now, bool recover_journal,
			      int lock_timeout_ms, struct upks_repo_report *ret,
			      struct upk_diag *reterr_diag)
{
	struct upks_repo_report rep = { 0 };
	struct vctx v = { .now = now, .rep = &rep };
	struct upk_diag local, *d = reterr_diag ? reterr_diag : &local;
	struct upk_meta *root = NULL, *ts = NULL, *snap = NULL, *top = NULL;
	int lock_fd = -1;
	enum upk_err r = UPK_OK;

	upk_diag_clear(&local);
	v.meta_dir = strf("%s/metadata", repo);
	v.targets_dir = strf("%s/targets", repo);
	v.referenced = json_object();
	v.current = json_object();
	rep.roles = json_object();
	v.buf = malloc(COPY_BUF_SIZE);
	if (!v.meta_dir || !v.targets_dir || !v.referenced || !v.current || !rep.roles || !v.buf) {
		r = nomem(d);
		goto out;
	}
	{
		struct stat st;

		if (stat(v.meta_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			r = upk_diag_set(d, UPK_E_CONFIG, repo, -1,
					 "not a repository: no metadata/ directory");
			goto out;
		}
	}
	if (recover_journal) {
		r = verify_recover(&v, repo, lock_timeout_ms, &lock_fd, d);
		if (r)
			goto out;
	} else {
		_cleanup_free_ char *j = strf("%s/.upkeep/commit.json", repo);

		if (j && upk_io_exists(j))
			note(&v, "a commit journal is pending (.upkeep/commit.json); the next "
				 "command rolls it forward");
	}

	root = verify_roots(&v);
	if (root) {
		const struct upk_metafile *mf;
		struct upk_diag vd;

		ts = vload(&v, "timestamp.json", UPK_ROLE_TIMESTAMP, NULL);
		if (ts) {
			upk_diag_clear(&vd);
			verify_sig(&v, "metadata/timestamp.json",
				   upk_meta_verify_by_root(root, UPK_ROLE_TIMESTAMP, ts, &vd), &vd);
			check_expiry(&v, "metadata/timestamp.json", ts);
			role_summary(&v, "timestamp", ts);
			rep.timestamp_version = ts->version;
		}
		mf = ts ? upk_meta_find_meta(ts, "snapshot.json") : NULL;
		if (mf) {
			char file[80];

			snap = vload_top(&v, root, UPK_ROLE_SNAPSHOT, mf, file, sizeof(file));
			if (snap) {
				rep.snapshot_version = snap->version;
				mf = upk_meta_find_meta(snap, "targets.json");
				if (!mf)
					problem(&v, UPK_E_FORMAT, file,
						"does not list targets.json");
			}
		}
		if (snap && mf) {
			char file[80];

			top = vload_top(&v, root, UPK_ROLE_TARGETS, mf, file, sizeof(file));
			if (top) {
				rep.targets_version = top->version;
				if (vrole_add(&v, "targets", top, -1, NULL)) {
					upk_meta_free(top);
					top = NULL;
					v.nomem = true;
				} else {
					verify_delegations(&v, snap, file);
				}
			}
		}
		rep.n_roles = v.n_roles ? v.n_roles - 1 : 0;
		verify_targets(&v);
		if (snap) {
			for (size_t k = 0; k < snap->n_meta; k++) {
				const char *mn = snap->meta[k].name;
				size_t ml = strlen(mn);
				bool reached = false;

				for (size_t i = 0; i < v.n_roles && !reached; i++)
					reached = strncmp(mn, v.roles[i].name,
							  ml > 5 ? ml - 5 : 0) == 0 &&
						  strlen(v.roles[i].name) + 5 == ml;
				if (!reached)
					note(&v, "snapshot lists %s, which no delegation reaches",
					     mn);
			}
		}
	}
	note_unreferenced(&v);
	if (v.nomem) {
		r = nomem(d);
		goto out;
	}
	*ret = rep;
	memset(&rep, 0, sizeof(rep));
out:
	if (lock_fd >= 0)
		upk_io_unlock(lock_fd);
	for (size_t i = 0; i < v.n_roles; i++) {
		free(v.roles[i].name);
		upk_meta_free(v.roles[i].m);
	}
	free(v.roles);
	upk_meta_free(root);
	upk_meta_free(ts);
	upk_meta_free(snap);
	if (!v.n_roles)
		upk_meta_free(top);
	json_decref(v.referenced);
	json_decref(v.current);
	free(v.meta_dir);
	free(v.targets_dir);
	free(v.buf);
	upks_repo_report_done(&rep);
	return r;
}
