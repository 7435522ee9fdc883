/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `upkeep-client refresh`: the TUF metadata update of the device (CLI.md),
 * the same workflow as `tuf refresh` (client/updater.h) with the device's
 * configuration (client/config.h), CLI.md exit codes, and the time floor
 * of DESIGN.md "Trust":
 *
 *   STATE/metadata/    the trusted metadata (updater.h's directory)
 *   STATE/time-floor   "<Unix seconds>\n": the clock reading at the last
 *                      successful refresh, written atomically
 *
 * The refresh never uses a time earlier than the floor, so a clock reset
 * to 1970 does not revive expired metadata. A clock more than
 * [device] clock_jump_warning past the floor is used (the clock is the
 * only source of time the device has, and refusing would freeze the
 * device as surely as an attacker could), but reported on a warning line,
 * so that a "freeze" error that follows points at the clock. The floor only
 * moves forward, and only after a refresh that succeeded: every trusted
 * expiry lies past such a reading, so a clock that ran ahead cannot push
 * the floor beyond metadata the repository will still sign.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd.h"
#include "config.h"
#include "fileio.h"
#include "trust.h"
#include "tuftime.h"
#include "updater.h"
#include "util.h"

#define PROG "upkeep-client"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: upkeep-client refresh [--config FILE] [--json] [-v]\n\n"
		"Update the trusted TUF metadata (root, timestamp, snapshot, targets) from the\n"
		"repository the configuration names. No target is downloaded.\n\n"
		"Options:\n"
		"  --config FILE   device configuration (default %s),\n"
		"                  see upkeep-client.conf(5)\n"
		"  --json          print the trusted versions as JSON\n"
		"  -v, --verbose   log requests and decisions on stderr\n"
		"  -h, --help      this help\n"
		"  --version       print the version\n\n"
		"Exit status: 0 ok, 1 I/O, 2 usage or configuration, 3 network (retry later),\n"
		"10 integrity, 11 signature, 12 rollback, 13 freeze (expired; check the clock).\n",
		UPKC_CONFIG_DEFAULT_PATH);
}

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

static int report(struct upk_diag *d)
{
	for (size_t i = 0; i < sizeof(attack_tags) / sizeof(attack_tags[0]); i++) {
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

static void format_time(int64_t t, char out[UPK_TIME_STR_LEN + 1])
{
	if (upk_time_format(t, out) != UPK_OK)
		snprintf(out, UPK_TIME_STR_LEN + 1, "@%" PRId64, t);
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

static void print_versions(const struct upk_trust *t, int64_t floor, bool json)
{
	const struct upk_metafile *tm = upk_trust_targets_meta(t, "targets");
	long long root = upk_trust_root(t)->version;
	long long ts = upk_trust_timestamp(t) ? upk_trust_timestamp(t)->version : 0;
	long long snap = upk_trust_snapshot(t) ? upk_trust_snapshot(t)->version : 0;
	long long targets = tm ? tm->version : 0;
	char when[UPK_TIME_STR_LEN + 1];

	format_time(floor, when);
	if (json)
		printf("{\"root\": %lld, \"timestamp\": %lld, \"snapshot\": %lld, \"targets\": "
		       "%lld, \"time_floor\": \"%s\"}\n",
		       root, ts, snap, targets, when);
	else
		printf("trusted: root %lld, timestamp %lld, snapshot %lld, targets %lld\n", root,
		       ts, snap, targets);
}

struct refresh_args {
	const char *config;
	bool json, verbose, help, version;
};

static int parse_args(int argc, char **argv, struct refresh_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			a->help = true;
		} else if (!strcmp(arg, "--version")) {
			a->version = true;
		} else if (!strcmp(arg, "--json")) {
			a->json = true;
		} else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			a->verbose = true;
		} else if (!strncmp(arg, "--config=", 9)) {
			a->config = arg + 9;
		} else if (!strcmp(arg, "--config")) {
			if (i + 1 >= argc)
				return upk_cli_usage_error(PROG, "refresh: --config needs a FILE");
			a->config = argv[++i];
		} else {
			return upk_cli_usage_error(PROG, "refresh: unexpected argument '%s'", arg);
		}
	}
	if (a->config && !*a->config)
		return upk_cli_usage_error(PROG, "refresh: --config needs a FILE");
	return 0;
}

int upkc_cmd_refresh(int argc, char **argv)
{
	_cleanup_(upkc_updater_freep) struct upkc_updater *u = NULL;
	_cleanup_buf_ struct upk_buf md = UPK_BUF_INIT, floor_path = UPK_BUF_INIT,
				     root_path = UPK_BUF_INIT;
	struct refresh_args a = { .config = UPKC_CONFIG_DEFAULT_PATH };
	struct upkc_updater_config ucfg = { 0 };
	_cleanup_(upkc_config_donep) struct upkc_config cfg = { 0 };
	char now_s[UPK_TIME_STR_LEN + 1], floor_s[UPK_TIME_STR_LEN + 1];
	int64_t now, floor = 0, use;
	bool have_floor = false;
	struct upk_diag d;
	time_t clock;
	int rc;

	upk_diag_clear(&d);
	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	if (a.help) {
		usage(stdout);
		return 0;
	}
	if (a.version) {
		printf("upkeep-client %s\n", UPKEEP_VERSION);
		return 0;
	}
	if (upkc_config_load(a.config, &cfg, &d))
		return report(&d);
	if (upk_buf_printf(&md, "%s/metadata", cfg.state_dir) ||
	    upk_buf_printf(&floor_path, "%s/time-floor", cfg.state_dir) ||
	    upk_buf_printf(&root_path, "%s/metadata/root.json", cfg.state_dir)) {
		upk_diag_set(&d, UPK_E_NOMEM, NULL, -1, NULL);
		return report(&d);
	}

	/* §5.1: the update's start time, read once; never earlier than the floor. */
	clock = time(NULL);
	if (clock == (time_t)-1) {
		upk_diag_set(&d, UPK_E_INTERNAL, NULL, -1, "cannot read the clock");
		return report(&d);
	}
	now = (int64_t)clock;
	if (read_floor((const char *)floor_path.data, &floor, &have_floor, &d)) {
		return report(&d);
	}
	use = now;
	format_time(now, now_s);
	format_time(floor, floor_s);
	if (have_floor && now < floor) {
		fprintf(stderr,
			PROG ": warning: the clock reads %s, before the time floor %s (the last "
			     "successful refresh); using the floor\n",
			now_s, floor_s);
		use = floor;
	} else if (have_floor && now - floor > cfg.clock_jump_warning_s) {
		fprintf(stderr,
			PROG ": warning: the clock reads %s, %" PRId64 " days after the time "
			     "floor %s (the last successful refresh); if metadata is reported "
			     "expired, check the clock\n",
			now_s, (now - floor) / 86400, floor_s);
	}

	if (!upk_io_exists((const char *)root_path.data) &&
	    pin_root(&cfg, (const char *)md.data, use, &d)) {
		return report(&d);
	}
	ucfg.metadata_dir = (const char *)md.data;
	ucfg.metadata_url = cfg.metadata_url;
	ucfg.target_base_url = cfg.targets_url;
	ucfg.fetch.connect_timeout_s = cfg.connect_timeout_s;
	ucfg.fetch.low_speed_bytes = cfg.low_speed_limit;
	ucfg.fetch.low_speed_window_s = cfg.low_speed_time_s;
	ucfg.verbose = a.verbose;
	if (upkc_updater_new(&ucfg, use, &u, &d) || upkc_updater_refresh(u, &d)) {
		return report(&d);
	}
	/* Still under the updater's lock on the metadata directory. */
	if ((!have_floor || now > floor) && write_floor((const char *)floor_path.data, now, &d)) {
		return report(&d);
	}
	print_versions(upkc_updater_trust(u), have_floor && floor > now ? floor : now, a.json);
	return 0;
}
