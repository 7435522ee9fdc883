/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The imperative shell of the TUF client workflow: downloads (fetch.h),
 * decisions (trust.h, delegation.h), and storage (fileio.h). Each step of
 * the specification's §5 is cited where this file carries it out; the
 * checks themselves are cited in common/trust.c.
 */
#define _GNU_SOURCE /* mkostemp */
#include "updater.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "delegation.h"
#include "fileio.h"
#include "hash.h"
#include "hex.h"
#include "trust.h"

/* How long to wait for another updater's lock on the metadata directory. */
#define LOCK_WAIT_MS 10000

/* Accepted metadata waiting to be stored (persist()). */
struct pending {
	char *role;
	struct upk_buf data;
};

struct upkc_updater {
	const struct upkc_updater_config *cfg;
	struct upk_trust *trust;
	struct upkc_fetch *fetch;
	struct upk_buf meta_base;   /* metadata URL ending in '/' */
	struct upk_buf target_base; /* target URL ending in '/', empty if none */
	int dir_fd;		    /* the metadata directory, flock'ed */
	bool refreshed;
	enum upk_err refresh_result;
	struct upk_diag refresh_diag;
	/*
	 * One operation stores root, timestamp, snapshot, targets, or the
	 * delegated roles one target search visits (UPK_DELEG_MAX_ROLES).
	 */
	struct pending pending[UPK_DELEG_MAX_ROLES + 4];
	size_t n_pending;
};

static void vlog(const struct upkc_updater *u, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void vlog(const struct upkc_updater *u, const char *fmt, ...)
{
	va_list ap;

	if (!u->cfg->verbose)
		return;
	fputs("upkeep-client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void log_diag(const struct upkc_updater *u, const char *what, const struct upk_diag *d)
{
	char line[700];

	if (!u->cfg->verbose)
		return;
	upk_diag_format(d, line, sizeof(line));
	vlog(u, "%s: %s", what, line);
}

/* Bytes of a buffer for the parsers, which want a pointer even when empty. */
static const uint8_t *bytes(const struct upk_buf *b)
{
	return b->data ? b->data : (const uint8_t *)"";
}

static const char *str(const struct upk_buf *b)
{
	return b->data ? (const char *)b->data : "";
}

enum upk_err upkc_url_quote(const char *s, const char *safe, struct upk_buf *out)
{
	static const char hexd[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		enum upk_err r;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-._~", c) || strchr(safe, c)) {
			r = upk_buf_append_byte(out, c);
		} else {
			char enc[3] = { '%', hexd[c >> 4], hexd[c & 15] };

			r = upk_buf_append(out, enc, sizeof(enc));
		}
		if (r)
			return r;
	}
	/* An empty result still has to be a C string. */
	return upk_buf_reserve(out, 0);
}

/* "<dir>/<quoted role>.json" or the URL "<base>[<version>.]<quoted role>.json". */
static enum upk_err role_location(const char *prefix, const char *role, int64_t version,
				  struct upk_buf *out)
{
	enum upk_err r = upk_buf_append_str(out, prefix);

	if (!r && version > 0)
		r = upk_buf_printf(out, "%lld.", (long long)version);
	if (!r)
		r = upkc_url_quote(role, "", out);
	if (!r)
		r = upk_buf_append_str(out, ".json");
	return r;
}

static enum upk_err nomem(struct upk_diag *diag)
{
	return upk_diag_set(diag, UPK_E_NOMEM, NULL, -1, NULL);
}

/* Stored metadata file of `role` (NULL-safe diag; errors are not fatal to callers). */
static enum upk_err read_stored(const struct upkc_updater *u, const char *role, size_t max,
				struct upk_buf *out, struct upk_diag *diag)
{
	_cleanup_buf_ struct upk_buf path = UPK_BUF_INIT;
	char dir[4096];
	int n = snprintf(dir, sizeof(dir), "%s/", u->cfg->metadata_dir);

	if (n < 0 || (size_t)n >= sizeof(dir))
		return upk_diag_set(diag, UPK_E_USAGE, u->cfg->metadata_dir, -1, "path too long");
	if (role_location(dir, role, 0, &path))
		return nomem(diag);
	return upk_io_read_file(str(&path), max, out, NULL, diag);
}

/*
 * Persist accepted metadata exactly as served (§5.3.8, 5.4.5, 5.5.7, 5.6.6).
 * The bytes are queued (data is taken over) and stored by flush_pending()
 * when the public operation ends, successful or not: every file is written,
 * synced, renamed into place, and the directory synced once. That is one
 * journal commit instead of two per file (about 2 ms each here: most of a
 * cold refresh's own time). What is stored is the same; a crash before the
 * flush leaves what a crash a moment earlier would: each file is replaced
 * atomically either way, and what is stored is verified again when read.
 */
static enum upk_err persist(struct upkc_updater *u, const char *role, struct upk_buf *data,
			    struct upk_diag *diag)
{
	struct pending *p = NULL;

	for (size_t i = 0; i < u->n_pending && !p; i++)
		if (strcmp(u->pending[i].role, role) == 0)
			p = &u->pending[i]; /* a newer root replaces the one queued */
	if (!p) {
		if (u->n_pending == UPK_ARRAY_SIZE(u->pending))
			return upk_diag_set(diag, UPK_E_INTERNAL, role, -1,
					    "too many files waiting to be stored");
		p = &u->pending[u->n_pending];
		p->role = strdup(role);
		if (!p->role)
			return nomem(diag);
		p->data = (struct upk_buf)UPK_BUF_INIT;
		u->n_pending++;
	}
	upk_buf_done(&p->data);
	p->data = *data;
	*data = (struct upk_buf)UPK_BUF_INIT;
	return UPK_OK;
}

static void pending_clear(struct upkc_updater *u)
{
	for (size_t i = 0; i < u->n_pending; i++) {
		free(u->pending[i].role);
		upk_buf_done(&u->pending[i].data);
	}
	u->n_pending = 0;
}

/* Store what persist() queued, in order. */
static enum upk_err flush_pending(struct upkc_updater *u, struct upk_diag *diag)
{
	struct upk_buf paths[UPK_ARRAY_SIZE(u->pending)];
	struct upk_io_file files[UPK_ARRAY_SIZE(u->pending)];
	size_t n = u->n_pending;
	char dir[4096];
	int len = snprintf(dir, sizeof(dir), "%s/", u->cfg->metadata_dir);
	enum upk_err r = UPK_OK;

	if (n == 0)
		return UPK_OK;
	for (size_t i = 0; i < n; i++)
		paths[i] = (struct upk_buf)UPK_BUF_INIT;
	if (len < 0 || (size_t)len >= sizeof(dir))
		r = upk_diag_set(diag, UPK_E_USAGE, u->cfg->metadata_dir, -1, "path too long");
	for (size_t i = 0; i < n && !r; i++) {
		const struct pending *p = &u->pending[i];

		if (role_location(dir, p->role, 0, &paths[i]))
			r = nomem(diag);
		files[i] = (struct upk_io_file){ str(&paths[i]), bytes(&p->data), p->data.len };
		vlog(u, "trusting %s (%zu bytes)", str(&paths[i]), p->data.len);
	}
	if (!r)
		r = upk_io_write_atomic_many(files, n, 0644, diag);
	for (size_t i = 0; i < n; i++)
		upk_buf_done(&paths[i]);
	pending_clear(u);
	return r;
}

/* Download metadata of `role` (version 0: unversioned) into out. */
static enum upk_err fetch_meta(struct upkc_updater *u, const char *role, int64_t version,
			       size_t max, struct upk_buf *url, struct upk_buf *out,
			       struct upk_diag *diag)
{
	enum upk_err r;

	if (role_location(str(&u->meta_base), role, version, url))
		return nomem(diag);
	vlog(u, "GET %s (at most %zu bytes)", str(url), max);
	r = upkc_fetch_bytes(u->fetch, str(url), max, out, diag);
	if (r)
		log_diag(u, "download failed", diag);
	return r;
}

/* The download bound: the listed length when smaller than the role's limit. */
static size_t bound(const struct upk_metafile *mf, size_t limit)
{
	if (mf && mf->length >= 0 && (uint64_t)mf->length < limit)
		return (size_t)mf->length;
	return limit;
}

/* A rejected download: name the URL in the error. */
static enum upk_err rejected(const struct upkc_updater *u, const struct upk_buf *url,
			     enum upk_err r, struct upk_diag *diag)
{
	upk_diag_prefix_where(diag, str(url));
	log_diag(u, "rejected", diag);
	return r;
}

static bool consistent(const struct upkc_updater *u)
{
	return upk_trust_root(u->trust)->consistent_snapshot;
}

/* ------------------------------------------------------------------------ */
/* Setup. */

static enum upk_err lock_dir(const char *dir, int *ret_fd, struct upk_diag *diag)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return upk_diag_set(diag, errno == ENOENT ? UPK_E_NOT_FOUND : UPK_E_IO, dir, -1,
				    "cannot open directory: %s", strerror(errno));
	for (int waited = 0;; waited += 50) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if ((errno != EWOULDBLOCK && errno != EINTR) || waited >= LOCK_WAIT_MS) {
			enum upk_err r = errno == EWOULDBLOCK ? UPK_E_LOCKED : UPK_E_IO;

			upk_diag_set(diag, r, dir, -1, "cannot lock: %s", strerror(errno));
			close(fd);
			return r;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
	}
	*ret_fd = fd;
	return UPK_OK;
}

enum upk_err upkc_updater_pin_root(const char *metadata_dir, const uint8_t *root, size_t len,
				   int64_t now, struct upk_diag *reterr_diag)
{
	_cleanup_(upk_trust_freep) struct upk_trust *t = NULL;
	char path[4096];
	int fd = -1, n;
	enum upk_err r;

	n = snprintf(path, sizeof(path), "%s/root.json", metadata_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return upk_diag_set(reterr_diag, UPK_E_USAGE, metadata_dir, -1, "path too long");
	/* §5.2: only a root that vouches for itself is worth pinning. */
	r = upk_trust_new(root, len, now, &t, reterr_diag);
	if (r)
		return r;
	r = upk_io_mkdir_p(metadata_dir, 0755, reterr_diag);
	if (r)
		return r;
	r = lock_dir(metadata_dir, &fd, reterr_diag);
	if (r)
		return r;
	r = upk_io_write_atomic(path, root, len, 0644, reterr_diag);
	close(fd);
	return r;
}

static enum upk_err base_url(const char *url, struct upk_buf *out)
{
	enum upk_err r = upk_buf_append_str(out, url);
	size_t n = strlen(url);

	if (!r && (n == 0 || url[n - 1] != '/'))
		r = upk_buf_append_byte(out, '/');
	return r;
}

enum upk_err upkc_updater_new(const struct upkc_updater_config *cfg, int64_t now,
			      struct upkc_updater **ret, struct upk_diag *reterr_diag)
{
	_cleanup_(upkc_updater_freep) struct upkc_updater *u = NULL;
	_cleanup_buf_ struct upk_buf root = UPK_BUF_INIT;
	char path[4096];
	int n;
	enum upk_err r;

	u = calloc(1, sizeof(*u));
	if (!u)
		return nomem(reterr_diag);
	u->cfg = cfg;
	u->dir_fd = -1;
	if ((cfg->metadata_url && base_url(cfg->metadata_url, &u->meta_base)) ||
	    (cfg->target_base_url && base_url(cfg->target_base_url, &u->target_base)))
		return nomem(reterr_diag);
	r = lock_dir(cfg->metadata_dir, &u->dir_fd, reterr_diag);
	if (r)
		return r;
	/* §5.2: the trusted root. */
	n = snprintf(path, sizeof(path), "%s/root.json", cfg->metadata_dir);
	if (n < 0 || (size_t)n >= sizeof(path))
		return upk_diag_set(reterr_diag, UPK_E_USAGE, cfg->metadata_dir, -1,
				    "path too long");
	r = upk_io_read_file(path, UPK_META_MAX_ROOT, &root, NULL, reterr_diag);
	if (r)
		return r;
	r = upk_trust_new(bytes(&root), root.len, now, &u->trust, reterr_diag);
	if (r) {
		upk_diag_prefix_where(reterr_diag, path);
		return r;
	}
	r = upkc_fetch_new(&cfg->fetch, &u->fetch, reterr_diag);
	if (r)
		return r;
	*ret = u;
	u = NULL;
	return UPK_OK;
}

void upkc_updater_free(struct upkc_updater *u)
{
	if (!u)
		return;
	pending_clear(u); /* every public operation flushed; nothing is left to store */
	upk_trust_free(u->trust);
	upkc_fetch_free(u->fetch);
	upk_buf_done(&u->meta_base);
	upk_buf_done(&u->target_base);
	if (u->dir_fd >= 0)
		close(u->dir_fd); /* releases the lock */
	free(u);
}

const struct upk_trust *upkc_updater_trust(const struct upkc_updater *u)
{
	return u->trust;
}

unsigned long upkc_updater_requests(const struct upkc_updater *u)
{
	return upkc_fetch_requests(u->fetch);
}

/* ------------------------------------------------------------------------ */
/* §5.3-5.6: the top-level roles. */

static enum upk_err update_root(struct upkc_updater *u, struct upk_diag *diag)
{
	/* §5.3.9: repeat, as long as the core allows (§5.3.3's bound). */
	while (upk_trust_wants_root(u->trust)) {
		_cleanup_buf_ struct upk_buf url = UPK_BUF_INIT, data = UPK_BUF_INIT;
		int64_t n = upk_trust_root(u->trust)->version; /* §5.3.2 */
		enum upk_err r;

		/* §5.3.3: version N+1; "not available" ends the chain. */
		r = fetch_meta(u, "root", n + 1, UPK_META_MAX_ROOT, &url, &data, diag);
		if (r == UPK_E_NOT_FOUND) {
			upk_diag_clear(diag);
			break;
		}
		if (r)
			return r;
		/* §5.3.4-5.3.7 */
		r = upk_trust_update_root(u->trust, bytes(&data), data.len, diag);
		if (r)
			return rejected(u, &url, r, diag);
		/* §5.3.8 */
		r = persist(u, "root", &data, diag);
		if (r)
			return r;
	}
	return UPK_OK;
}

/* §5.3.11: forget timestamp and snapshot signed by keys the root replaced. */
static enum upk_err forget_online_roles(struct upkc_updater *u, struct upk_diag *diag)
{
	static const char *const files[] = { "timestamp.json", "snapshot.json" };
	/* The new root is stored before what it made obsolete is deleted. */
	enum upk_err r = flush_pending(u, diag);

	if (r)
		return r;
	for (size_t i = 0; i < UPK_ARRAY_SIZE(files); i++) {
		if (unlinkat(u->dir_fd, files[i], 0) < 0 && errno != ENOENT)
			return upk_diag_set(diag, UPK_E_IO, files[i], -1, "cannot delete: %s",
					    strerror(errno));
		vlog(u, "timestamp or snapshot keys rotated: %s forgotten", files[i]);
	}
	return upk_io_fsync_dir(u->cfg->metadata_dir, diag);
}

static enum upk_err update_timestamp(struct upkc_updater *u, struct upk_diag *diag)
{
	_cleanup_buf_ struct upk_buf stored = UPK_BUF_INIT, url = UPK_BUF_INIT, data = UPK_BUF_INIT;
	struct upk_diag ignored;
	bool updated = false;
	enum upk_err r;

	/* The stored timestamp is the rollback reference of §5.4.3, if it still verifies. */
	upk_diag_clear(&ignored);
	if (read_stored(u, "timestamp", UPK_META_MAX_TIMESTAMP, &stored, &ignored) == UPK_OK &&
	    upk_trust_load_timestamp(u->trust, bytes(&stored), stored.len, &ignored) != UPK_OK)
		log_diag(u, "stored timestamp not used", &ignored);
	/* §5.4.1 */
	r = fetch_meta(u, "timestamp", 0, UPK_META_MAX_TIMESTAMP, &url, &data, diag);
	if (r)
		return r;
	/* §5.4.2-5.4.4 */
	r = upk_trust_update_timestamp(u->trust, bytes(&data), data.len, &updated, diag);
	if (r)
		return rejected(u, &url, r, diag);
	if (!updated) {
		vlog(u, "timestamp unchanged (version %lld)",
		     (long long)upk_trust_timestamp(u->trust)->version);
		return UPK_OK;
	}
	/* §5.4.5 */
	return persist(u, "timestamp", &data, diag);
}

static enum upk_err update_snapshot(struct upkc_updater *u, struct upk_diag *diag)
{
	_cleanup_buf_ struct upk_buf stored = UPK_BUF_INIT, url = UPK_BUF_INIT, data = UPK_BUF_INIT;
	const struct upk_metafile *listed;
	struct upk_diag ignored;
	bool final = false;
	enum upk_err r;

	/* The stored snapshot: rollback reference of §5.5.5, and no download if current. */
	upk_diag_clear(&ignored);
	if (read_stored(u, "snapshot", UPK_META_MAX_SNAPSHOT, &stored, &ignored) == UPK_OK &&
	    upk_trust_load_snapshot(u->trust, bytes(&stored), stored.len, &final, &ignored) !=
		    UPK_OK)
		log_diag(u, "stored snapshot not used", &ignored);
	if (final) {
		vlog(u, "stored snapshot is current");
		return UPK_OK;
	}
	/* §5.4.4: an unchanged timestamp that expired ends the update here. */
	r = upk_trust_check_timestamp(u->trust, diag);
	if (r)
		return r;
	listed = upk_trust_snapshot_meta(u->trust);
	/* §5.5.1: up to the listed length; versioned name with consistent snapshots. */
	r = fetch_meta(u, "snapshot", consistent(u) ? listed->version : 0,
		       bound(listed, UPK_META_MAX_SNAPSHOT), &url, &data, diag);
	if (r)
		return r;
	/* §5.5.2-5.5.6 */
	r = upk_trust_update_snapshot(u->trust, bytes(&data), data.len, diag);
	if (r)
		return rejected(u, &url, r, diag);
	/* §5.5.7 */
	return persist(u, "snapshot", &data, diag);
}

/*
 * A targets role reached through `delegator`: already trusted (verified
 * again if reached through another delegator), or the stored copy if it is
 * still the one the snapshot lists, or a download.
 */
static enum upk_err load_targets(struct upkc_updater *u, const char *role, const char *delegator,
				 const struct upk_meta **ret, struct upk_diag *diag)
{
	_cleanup_buf_ struct upk_buf stored = UPK_BUF_INIT, url = UPK_BUF_INIT, data = UPK_BUF_INIT;
	const struct upk_metafile *listed;
	struct upk_diag ignored;
	enum upk_err r;

	*ret = NULL;
	r = upk_trust_get_targets(u->trust, role, delegator, ret, diag);
	if (r || *ret)
		return r;
	upk_diag_clear(&ignored);
	if (read_stored(u, role, UPK_META_MAX_TARGETS, &stored, &ignored) == UPK_OK) {
		if (upk_trust_update_targets(u->trust, role, delegator, bytes(&stored), stored.len,
					     ret, &ignored) == UPK_OK) {
			vlog(u, "stored %s is current", role);
			return UPK_OK;
		}
		log_diag(u, "stored metadata not used", &ignored);
	}
	listed = upk_trust_targets_meta(u->trust, role);
	if (!listed)
		return upk_diag_set(diag, UPK_E_NOT_FOUND, role, -1,
				    "delegated role is not listed in snapshot");
	/* §5.6.1: up to the listed length; versioned name with consistent snapshots. */
	r = fetch_meta(u, role, consistent(u) ? listed->version : 0,
		       bound(listed, UPK_META_MAX_TARGETS), &url, &data, diag);
	if (r)
		return r;
	/* §5.6.2-5.6.5 */
	r = upk_trust_update_targets(u->trust, role, delegator, bytes(&data), data.len, ret, diag);
	if (r)
		return rejected(u, &url, r, diag);
	/* §5.6.6 */
	return persist(u, role, &data, diag);
}

static enum upk_err refresh(struct upkc_updater *u, struct upk_diag *diag)
{
	const struct upk_meta *targets;
	enum upk_err r;

	if (!u->meta_base.len)
		return upk_diag_set(diag, UPK_E_USAGE, NULL, -1, "no metadata URL");
	/* §5.3 */
	r = update_root(u, diag);
	if (r)
		return r;
	/* §5.3.11, before §5.3.10 so that a rotation is acted on even when the root has expired. */
	if (upk_trust_has_rotated_online_keys(u->trust)) {
		r = forget_online_roles(u, diag);
		if (r)
			return r;
	}
	/* §5.3.10 */
	r = upk_trust_check_root(u->trust, diag);
	if (r)
		return r;
	/* §5.4 */
	r = update_timestamp(u, diag);
	if (r)
		return r;
	/* §5.5 */
	r = update_snapshot(u, diag);
	if (r)
		return r;
	/* §5.6.1-5.6.6 for the top-level targets role. */
	return load_targets(u, "targets", "root", &targets, diag);
}

/*
 * The refresh, once per updater. With store, what it accepted is stored
 * before returning; a target search passes false and stores it together with
 * the delegated roles it loads (one batch, flush_pending()).
 */
static enum upk_err refresh_once(struct upkc_updater *u, bool store, struct upk_diag *reterr_diag)
{
	if (!u->refreshed) {
		upk_diag_clear(&u->refresh_diag);
		u->refresh_result = refresh(u, &u->refresh_diag);
		u->refreshed = true;
	}
	if (store) {
		struct upk_diag d;
		/* What was accepted before a failure is stored too (§5.3.8: a new root stays). */
		enum upk_err r = flush_pending(u, &d);

		if (r && !u->refresh_result) {
			u->refresh_result = r;
			u->refresh_diag = d;
		}
	}
	if (u->refresh_result && reterr_diag)
		*reterr_diag = u->refresh_diag;
	return u->refresh_result;
}

enum upk_err upkc_updater_refresh(struct upkc_updater *u, struct upk_diag *reterr_diag)
{
	return refresh_once(u, true, reterr_diag);
}

/* ------------------------------------------------------------------------ */
/* §5.6.7: target search. */

static enum upk_err find_target(struct upkc_updater *u, const char *path,
				const struct upk_target **ret_target, struct upk_diag *reterr_diag)
{
	_cleanup_walk_ struct upk_walk w = { 0 };
	const char *role, *delegator;
	enum upk_err r;

	r = refresh_once(u, false, reterr_diag);
	if (r)
		return r;
	r = upk_walk_init(&w, path, UPK_DELEG_MAX_ROLES);
	if (r)
		return upk_diag_set(reterr_diag, r, path, -1, NULL);
	while (upk_walk_next(&w, &role, &delegator)) {
		const struct upk_target *t = NULL;
		const struct upk_meta *m;

		vlog(u, "searching %s for %s", role, path);
		/* §5.6.7: metadata that cannot be loaded ends the search. */
		r = load_targets(u, role, delegator, &m, reterr_diag);
		if (r)
			return r;
		r = upk_walk_visit(&w, m, &t);
		if (r)
			return upk_diag_set(reterr_diag, r, path, -1, NULL);
		if (t) {
			*ret_target = t;
			return UPK_OK;
		}
	}
	/* §5.7.2 */
	return upk_diag_set(reterr_diag, UPK_E_NOT_FOUND, path, -1,
			    "no such target (searched %zu role(s))", upk_walk_visited(&w));
}

enum upk_err upkc_updater_find_target(struct upkc_updater *u, const char *path,
				      const struct upk_target **ret_target,
				      struct upk_diag *reterr_diag)
{
	struct upk_diag d;
	enum upk_err r = find_target(u, path, ret_target, reterr_diag), r2;

	/* What the refresh and the search accepted is stored, found or not. */
	upk_diag_clear(&d);
	r2 = flush_pending(u, &d);
	if (r2 && !r) {
		*ret_target = NULL;
		if (reterr_diag)
			*reterr_diag = d;
		return r2;
	}
	return r;
}

/* ------------------------------------------------------------------------ */
/* §5.7: fetching targets. */

enum upk_err upkc_updater_target_file(const struct upkc_updater *u, const struct upk_target *target,
				      struct upk_buf *out, struct upk_diag *reterr_diag)
{
	const char *p = target->path;

	if (!u->cfg->target_dir)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1, "no target directory");
	if (!*p || !strcmp(p, ".") || !strcmp(p, ".."))
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, p, -1,
				    "target path does not name a file");
	if (upk_buf_append_str(out, u->cfg->target_dir) || upk_buf_append_byte(out, '/') ||
	    upkc_url_quote(p, "", out))
		return nomem(reterr_diag);
	return UPK_OK;
}

/* Hashing of a target as it streams: every listed (and known) algorithm. */
struct target_hash {
	struct upk_hash_ctx ctx[2];
	bool on[2];
};

static const enum upk_hash_alg hash_algs[2] = { UPK_HASH_SHA256, UPK_HASH_SHA512 };

static enum upk_err target_hash_init(struct target_hash *h, const struct upk_hashes *want)
{
	memset(h, 0, sizeof(*h));
	h->on[0] = want->has_sha256;
	h->on[1] = want->has_sha512;
	for (int i = 0; i < 2; i++) {
		if (h->on[i]) {
			enum upk_err r = upk_hash_init(&h->ctx[i], hash_algs[i]);

			if (r)
				return r;
		}
	}
	return UPK_OK;
}

static enum upk_err target_hash_update(struct target_hash *h, const void *data, size_t len)
{
	for (int i = 0; i < 2; i++) {
		if (h->on[i]) {
			enum upk_err r = upk_hash_update(&h->ctx[i], data, len);

			if (r)
				return r;
		}
	}
	return UPK_OK;
}

/* Compare with the listed digests; UPK_E_HASH naming the first mismatch. */
static enum upk_err target_hash_check(struct target_hash *h, const struct upk_hashes *want,
				      const char **ret_alg)
{
	const uint8_t *digests[2] = { want->sha256, want->sha512 };

	for (int i = 0; i < 2; i++) {
		uint8_t got[UPK_HASH_MAX_LEN];
		enum upk_err r;

		if (!h->on[i])
			continue;
		r = upk_hash_final(&h->ctx[i], got);
		if (r)
			return r;
		if (!upk_hash_equal(got, digests[i], upk_hash_len(hash_algs[i]))) {
			*ret_alg = upk_hash_name(hash_algs[i]);
			return UPK_E_HASH;
		}
	}
	return UPK_OK;
}

static void target_hash_done(struct target_hash *h)
{
	for (int i = 0; i < 2; i++)
		upk_hash_done(&h->ctx[i]);
}

/* Every listed algorithm must be one Upkeep can check, and one at least. */
static enum upk_err check_hash_algs(const struct upk_target *target, struct upk_diag *diag)
{
	if (target->hashes.count == 0)
		return upk_diag_set(diag, UPK_E_FORMAT, target->path, -1, "no hashes listed");
	if (target->hashes.n_unknown)
		return upk_diag_set(diag, UPK_E_UNSUPPORTED, target->path, -1,
				    "%zu listed hash algorithm(s) not supported",
				    target->hashes.n_unknown);
	return UPK_OK;
}

bool upkc_updater_is_cached(const struct upkc_updater *u, const struct upk_target *target)
{
	_cleanup_buf_ struct upk_buf path = UPK_BUF_INIT;
	struct target_hash h;
	const char *alg = NULL;
	uint8_t buf[65536];
	struct stat st;
	uint64_t total = 0;
	bool ok = false;
	int fd;

	if (check_hash_algs(target, NULL) || upkc_updater_target_file(u, target, &path, NULL))
		return false;
	fd = open(str(&path), O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size != target->length ||
	    target_hash_init(&h, &target->hashes)) {
		close(fd);
		return false;
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ok = n == 0;
			break;
		}
		total += (uint64_t)n;
		if (total > (uint64_t)target->length || target_hash_update(&h, buf, (size_t)n)) {
			ok = false;
			break;
		}
	}
	ok = ok && total == (uint64_t)target->length &&
	     target_hash_check(&h, &target->hashes, &alg) == UPK_OK;
	target_hash_done(&h);
	close(fd);
	return ok;
}

static enum upk_err target_url(const struct upkc_updater *u, const struct upk_target *target,
			       struct upk_buf *out);

enum upk_err upkc_updater_target_url(const struct upkc_updater *u, const struct upk_target *target,
				     struct upk_buf *out)
{
	if (!u->target_base.len)
		return UPK_E_USAGE;
	return target_url(u, target, out);
}

enum upk_err upkc_updater_top_targets(struct upkc_updater *u, const struct upk_meta **ret_meta,
				      struct upk_diag *reterr_diag)
{
	enum upk_err r = upkc_updater_refresh(u, reterr_diag);

	if (r)
		return r;
	return upk_trust_get_targets(u->trust, "targets", "root", ret_meta, reterr_diag);
}

/* The URL of a target: consistent snapshots put a digest before the basename. */
static enum upk_err target_url(const struct upkc_updater *u, const struct upk_target *target,
			       struct upk_buf *out)
{
	/* Keep the path's structure; quote what a URL path cannot carry. */
	static const char path_safe[] = "/!$&'()*+,;=:@";
	const char *path = target->path, *slash = strrchr(path, '/');
	char hex[2 * UPK_HASH_MAX_LEN + 1];
	_cleanup_free_ char *dir = NULL;
	enum upk_err r = upk_buf_append_str(out, str(&u->target_base));

	if (r)
		return r;
	if (!consistent(u))
		return upkc_url_quote(path, path_safe, out);
	if (target->hashes.has_sha256)
		upk_hex_encode(target->hashes.sha256, UPK_SHA256_LEN, hex);
	else
		upk_hex_encode(target->hashes.sha512, UPK_SHA512_LEN, hex);
	if (slash) {
		size_t n = (size_t)(slash - path) + 1;

		dir = malloc(n + 1);
		if (!dir)
			return UPK_E_NOMEM;
		memcpy(dir, path, n);
		dir[n] = 0;
		r = upkc_url_quote(dir, path_safe, out);
		if (r)
			return r;
	}
	r = upk_buf_append_str(out, hex);
	if (!r)
		r = upk_buf_append_byte(out, '.');
	if (!r)
		r = upkc_url_quote(slash ? slash + 1 : path, path_safe, out);
	return r;
}

struct target_sink {
	int fd;
	const char *tmp;
	struct target_hash hash;
	uint64_t got;
	struct upk_diag *diag;
};

/* Every byte goes through the hashes and into the temporary file. */
static enum upk_err target_sink(void *ctx, const uint8_t *data, size_t len)
{
	struct target_sink *s = ctx;
	enum upk_err r = target_hash_update(&s->hash, data, len);

	if (r)
		return upk_diag_set(s->diag, r, s->tmp, -1, "hashing failed");
	s->got += len;
	while (len) {
		ssize_t n = write(s->fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return upk_diag_set(s->diag, errno == ENOSPC ? UPK_E_NOSPACE : UPK_E_IO,
					    s->tmp, -1, "write failed: %s", strerror(errno));
		data += n;
		len -= (size_t)n;
	}
	return UPK_OK;
}

enum upk_err upkc_updater_download_target(struct upkc_updater *u, const struct upk_target *target,
					  struct upk_diag *reterr_diag)
{
	_cleanup_buf_ struct upk_buf file = UPK_BUF_INIT, url = UPK_BUF_INIT, tmp = UPK_BUF_INIT;
	struct target_sink s = { .fd = -1, .diag = reterr_diag };
	const char *alg = NULL;
	enum upk_err r;

	/* §5.7.3: every listed hash is checked, so each must be one Upkeep knows. */
	r = check_hash_algs(target, reterr_diag);
	if (r)
		return r;
	if (!u->target_base.len)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, NULL, -1, "no target base URL");
	r = upkc_updater_target_file(u, target, &file, reterr_diag);
	if (r)
		return r;
	if (target_url(u, target, &url) ||
	    upk_buf_printf(&tmp, "%s/.upkeep-download-XXXXXX", u->cfg->target_dir))
		return nomem(reterr_diag);
	s.tmp = str(&tmp);
	s.fd = mkostemp((char *)tmp.data, O_CLOEXEC);
	if (s.fd < 0)
		return upk_diag_set(reterr_diag, UPK_E_IO, u->cfg->target_dir, -1,
				    "cannot create a temporary file: %s", strerror(errno));
	r = target_hash_init(&s.hash, &target->hashes);
	if (r) {
		upk_diag_set(reterr_diag, r, target->path, -1, "hashing failed");
		goto fail;
	}
	vlog(u, "GET %s (%lld bytes)", str(&url), (long long)target->length);
	/* §5.7.3: never more than the signed length. */
	r = upkc_fetch_stream(u->fetch, str(&url), (uint64_t)target->length, target_sink, &s,
			      reterr_diag);
	if (r)
		goto fail;
	if (s.got != (uint64_t)target->length) {
		r = upk_diag_set(reterr_diag, UPK_E_LENGTH, str(&url), -1,
				 "%llu bytes, %lld signed", (unsigned long long)s.got,
				 (long long)target->length);
		goto fail;
	}
	r = target_hash_check(&s.hash, &target->hashes, &alg);
	if (r == UPK_E_HASH) {
		upk_diag_set(reterr_diag, r, str(&url), -1, "%s mismatch", alg);
		goto fail;
	}
	if (r) {
		upk_diag_set(reterr_diag, r, str(&url), -1, "hashing failed");
		goto fail;
	}
	if (fchmod(s.fd, 0644) < 0 || fsync(s.fd) < 0) {
		r = upk_diag_set(reterr_diag, UPK_E_IO, s.tmp, -1, "cannot sync: %s",
				 strerror(errno));
		goto fail;
	}
	if (close(s.fd) < 0) {
		s.fd = -1;
		r = upk_diag_set(reterr_diag, UPK_E_IO, s.tmp, -1, "close failed: %s",
				 strerror(errno));
		goto fail;
	}
	s.fd = -1;
	if (rename(s.tmp, str(&file)) < 0) {
		r = upk_diag_set(reterr_diag, UPK_E_IO, str(&file), -1,
				 "cannot rename into place: %s", strerror(errno));
		goto fail;
	}
	target_hash_done(&s.hash);
	vlog(u, "stored %s", str(&file));
	return upk_io_fsync_dir(u->cfg->target_dir, reterr_diag);
fail:
	target_hash_done(&s.hash);
	if (s.fd >= 0)
		close(s.fd);
	unlink(s.tmp);
	log_diag(u, "target rejected", reterr_diag);
	return r;
}
