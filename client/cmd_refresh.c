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
#include "session.h"
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

static void print_versions(const struct upk_trust *t, int64_t floor, bool json)
{
	const struct upk_metafile *tm = upk_trust_targets_meta(t, "targets");
	long long root = upk_trust_root(t)->version;
	long long ts = upk_trust_timestamp(t) ? upk_trust_timestamp(t)->version : 0;
	long long snap = upk_trust_snapshot(t) ? upk_trust_snapshot(t)->version : 0;
	long long targets = tm ? tm->version : 0;
	char when[24];

	upkc_format_time(floor, when);
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
	struct refresh_args a = { .config = UPKC_CONFIG_DEFAULT_PATH };
	_cleanup_(upkc_config_donep) struct upkc_config cfg = { 0 };
	struct upkc_session s;
	struct upk_diag d;
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
	if (upkc_config_load(a.config, &cfg, &d) ||
	    upkc_session_open(&cfg, NULL, a.verbose, &s, &d))
		return upkc_report(&d);
	print_versions(upkc_updater_trust(s.u), s.have_floor && s.floor > s.now ? s.floor : s.now,
		       a.json);
	upkc_session_close(&s);
	return 0;
}
