/* SPDX-License-Identifier: Apache-2.0 */
/* The device's TUF metadata update with its time floor (client/session.h). */
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "fileio.h"
#include "trust.h"
#include "tuftime.h"
#include "util.h"

#define PROG "upkeep-client"

/* The attack or failure class a verification error stands for, said first in the error line. */
static const struct {
	enum upk_err err;
	const char *tag;
} attack_tags[] = {
	{ UPK_E_ROLLBACK, "rollback" },		  { UPK_E_EXPIRED, "freeze" },
	{ UPK_E_THRESHOLD, "threshold not met" }, { UPK_E_SIGNATURE, "bad signature" },
	{ UPK_E_UNKNOWN_KEY, "unknown key" },	  { UPK_E_HASH, "hash mismatch" },
	{ UPK_E_LENGTH, "length mismatch" },	  { UPK_E_TOO_LARGE, "endless data" },
	{ UPK_E_FORMAT, "malformed metadata" },	  { UPK_E_UNSUPPORTED, "unsupported" },
	{ UPK_E_SLOW, "slow retrieval" },
};

int upkc_report(struct upk_diag *d)
{
	for (size_t i = 0; i < UPK_ARRAY_SIZE(attack_tags); i++) {
		size_t n = strlen(attack_tags[i].tag);
		char reason[sizeof(d->reason)];

		if (attack_tags[i].err != d->err)
			continue;
		if (!strncmp(d->reason, attack_tags[i].tag, n))
			break;
		memcpy(reason, d->reason, sizeof(reason));
		upk_diag_set(d, d->err, NULL, d->offset, "%s: %s", attack_tags[i].tag,
			     reason[0] ? reason : upk_strerror(d->err));
		break;
	}
	return upk_cli_report(PROG, d);
}

void upkc_format_time(int64_t t, char out[24])
{
	char s[UPK_TIME_STR_LEN + 1];

	if (upk_time_format(t, s) == UPK_OK)
		snprintf(out, 24, "%s", s);
	else
		snprintf(out, 24, "@%" PRId64, t);
}

/*
 * The persisted floor: *ret_have false if there is none yet. A file that
 * exists but does not hold a time is an error: state that was damaged is
 * not silently reset to "no floor".
 */
static enum upk_err read_floor(const char *path, int64_t *ret_floor, bool *ret_have,
			       struct upk_diag *diag)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	char text[24], *end;
	long long v;
	enum upk_err r;

	r = upk_io_read_file(path, sizeof(text) - 1, &b, NULL, diag);
	if (r == UPK_E_NOT_FOUND) {
		upk_diag_clear(diag);
		*ret_have = false;
		return UPK_OK;
	}
	if (r == UPK_E_TOO_LARGE)
		return upk_diag_set(diag, UPK_E_IO, path, -1, "damaged time floor: too long");
	if (r)
		return r;
	memcpy(text, b.data ? (const char *)b.data : "", b.len);
	text[b.len] = 0;
	errno = 0;
	v = (text[0] >= '0' && text[0] <= '9') ? strtoll(text, &end, 10) : -1;
	if (v < 0 || errno || strcmp(end, "\n") != 0)
		return upk_diag_set(diag, UPK_E_IO, path, -1,
				    "damaged time floor: not \"<Unix seconds>\\n\"");
	*ret_floor = v;
	*ret_have = true;
	return UPK_OK;
}

static enum upk_err write_floor(const char *path, int64_t t, struct upk_diag *diag)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%" PRId64 "\n", t);

	return upk_io_write_atomic(path, text, (size_t)n, 0644, diag);
}

/* First run: the pinned root shipped in the image becomes the trusted root. */
static enum upk_err pin_root(const struct upkc_config *cfg, const char *md, int64_t now,
			     struct upk_diag *d)
{
	_cleanup_buf_ struct upk_buf root = UPK_BUF_INIT;
	enum upk_err r;

	r = upk_io_read_file(cfg->trusted_root, UPK_META_MAX_ROOT, &root, NULL, d);
	if (r)
		return r;
	r = upkc_updater_pin_root(md, root.data ? root.data : (const uint8_t *)"", root.len, now,
				  d);
	if (r)
		upk_diag_prefix_where(d, cfg->trusted_root);
	return r;
}

enum upk_err upkc_session_raise_floor(const struct upkc_config *cfg, int64_t t,
				      struct upk_diag *reterr_diag)
{
	_cleanup_buf_ struct upk_buf path = UPK_BUF_INIT;
	int64_t floor = 0;
	bool have = false;
	enum upk_err r;

	if (upk_buf_printf(&path, "%s/time-floor", cfg->state_dir))
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	r = read_floor((const char *)path.data, &floor, &have, reterr_diag);
	if (r || (have && floor >= t))
		return r;
	return write_floor((const char *)path.data, t, reterr_diag);
}

void upkc_session_close(struct upkc_session *s)
{
	upkc_updater_free(s->u);
	upk_buf_done(&s->md);
	upk_buf_done(&s->floor_path);
	upk_buf_done(&s->meta_url);
	memset(s, 0, sizeof(*s));
}

static enum upk_err open_refresh(const struct upkc_config *cfg, const char *offline, bool verbose,
				 struct upkc_session *s, struct upk_diag *d)
{
	char now_s[24], floor_s[24];
	_cleanup_buf_ struct upk_buf root_path = UPK_BUF_INIT;
	time_t clock;
	int64_t use;
	enum upk_err r;

	if (upk_buf_printf(&s->md, "%s/metadata", cfg->state_dir) ||
	    upk_buf_printf(&s->floor_path, "%s/time-floor", cfg->state_dir) ||
	    upk_buf_printf(&root_path, "%s/metadata/root.json", cfg->state_dir))
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
	if (offline) {
		/* file:// + an absolute path; the updater adds the final '/'. */
		if (offline[0] != '/' || strpbrk(offline, "?#%"))
			return upk_diag_set(d, UPK_E_USAGE, offline, -1,
					    "the metadata directory must be an absolute path "
					    "without '?', '#' or '%%'");
		if (upk_buf_printf(&s->meta_url, "file://%s", offline))
			return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
	} else if (upk_buf_append_str(&s->meta_url, cfg->metadata_url)) {
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
	}

	/* §5.1: the update's start time, read once; never earlier than the floor. */
	clock = time(NULL);
	if (clock == (time_t)-1)
		return upk_diag_set(d, UPK_E_INTERNAL, NULL, -1, "cannot read the clock");
	s->now = (int64_t)clock;
	r = read_floor((const char *)s->floor_path.data, &s->floor, &s->have_floor, d);
	if (r)
		return r;
	use = s->now;
	upkc_format_time(s->now, now_s);
	upkc_format_time(s->floor, floor_s);
	if (s->have_floor && s->now < s->floor) {
		fprintf(stderr,
			PROG ": warning: the clock reads %s, before the time floor %s (the last "
			     "successful refresh); using the floor\n",
			now_s, floor_s);
		use = s->floor;
	} else if (s->have_floor && s->now - s->floor > cfg->clock_jump_warning_s) {
		fprintf(stderr,
			PROG ": warning: the clock reads %s, %" PRId64 " days after the time "
			     "floor %s (the last successful refresh); if metadata is reported "
			     "expired, check the clock\n",
			now_s, (s->now - s->floor) / 86400, floor_s);
	}

	if (!upk_io_exists((const char *)root_path.data)) {
		r = pin_root(cfg, (const char *)s->md.data, use, d);
		if (r)
			return r;
	}
	s->ucfg.metadata_dir = (const char *)s->md.data;
	s->ucfg.metadata_url = (const char *)s->meta_url.data;
	s->ucfg.target_base_url = cfg->targets_url;
	s->ucfg.fetch.connect_timeout_s = cfg->connect_timeout_s;
	s->ucfg.fetch.low_speed_bytes = cfg->low_speed_limit;
	s->ucfg.fetch.low_speed_window_s = cfg->low_speed_time_s;
	s->ucfg.fetch.allow_file = offline != NULL;
	s->ucfg.verbose = verbose;
	r = upkc_updater_new(&s->ucfg, use, &s->u, d);
	if (!r)
		r = upkc_updater_refresh(s->u, d);
	if (r)
		return r;
	/* Still under the updater's lock on the metadata directory. */
	if (!s->have_floor || s->now > s->floor)
		r = write_floor((const char *)s->floor_path.data, s->now, d);
	return r;
}

enum upk_err upkc_session_open(const struct upkc_config *cfg, const char *offline_metadata_dir,
			       bool verbose, struct upkc_session *s, struct upk_diag *reterr_diag)
{
	enum upk_err r;

	memset(s, 0, sizeof(*s));
	upk_buf_init(&s->md);
	upk_buf_init(&s->floor_path);
	upk_buf_init(&s->meta_url);
	r = open_refresh(cfg, offline_metadata_dir, verbose, s, reterr_diag);
	if (r)
		upkc_session_close(s);
	return r;
}
