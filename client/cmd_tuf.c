/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `upkeep-client tuf`: the TUF conformance suite's client protocol
 * (theupdateframework/tuf-conformance CLIENT-CLI.md) over client/updater.h.
 * Options come in any order, before or after the verb. The clock is read
 * here, once, and passed down (§5.1).
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cmd.h"
#include "fileio.h"
#include "updater.h"

#define PROG "upkeep-client"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: upkeep-client tuf --metadata-dir DIR init TRUSTED_ROOT_FILE\n"
		"       upkeep-client tuf --metadata-dir DIR --metadata-url URL refresh\n"
		"       upkeep-client tuf --metadata-dir DIR --metadata-url URL\n"
		"                         --target-name PATH [--target-name PATH]...\n"
		"                         --target-base-url URL --target-dir DIR download\n\n"
		"The TUF 1.0 client workflow, as the TUF conformance suite drives clients.\n"
		"  init      pin TRUSTED_ROOT_FILE as DIR/root.json (no network)\n"
		"  refresh   update root, timestamp, snapshot and targets metadata\n"
		"  download  refresh, then fetch each target (in order) into the target dir,\n"
		"            skipping targets already there with the signed hashes\n\n"
		"Options:\n"
		"  --metadata-dir DIR        trusted metadata (one <role>.json per role)\n"
		"  --metadata-url URL        repository metadata base URL\n"
		"  --target-name PATH        target path to download (repeatable)\n"
		"  --target-base-url URL     repository targets base URL\n"
		"  --target-dir DIR          where downloaded targets are stored\n"
		"  --connect-timeout SEC     connection timeout (default %d)\n"
		"  --low-speed-limit BYTES   slow retrieval: minimum average rate (default %d)\n"
		"  --low-speed-time SEC      ... measured over this window (default %d)\n"
		"  -v, --verbose             log requests and decisions on stderr\n"
		"  -h, --help                this help\n\n"
		"Exit status: 0 on success, 1 on any failure.\n",
		UPKC_FETCH_CONNECT_TIMEOUT, UPKC_FETCH_LOW_SPEED_BYTES,
		UPKC_FETCH_LOW_SPEED_WINDOW);
}

struct tuf_args {
	const char *metadata_dir, *metadata_url, *target_base_url, *target_dir;
	const char **targets;
	size_t n_targets;
	const char *verb, *root_file;
	struct upkc_fetch_opts fetch;
	bool verbose, help;
};

/* Failure of any kind: one CLI.md error line, and the protocol's exit code 1. */
static int fail(const struct upk_diag *diag)
{
	upk_cli_report(PROG, diag);
	return 1;
}

static int usage_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_fail(const char *fmt, ...)
{
	char reason[200];
	struct upk_diag d;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	upk_diag_clear(&d);
	upk_diag_set(&d, UPK_E_USAGE, "tuf", -1, "%s", reason);
	return fail(&d);
}

static bool parse_seconds(const char *s, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return false;
	*ret = v;
	return true;
}

/* Value of an option given as "--opt VALUE" or "--opt=VALUE"; NULL if not this option. */
static const char *opt_value(const char *name, int argc, char **argv, int *i, bool *missing)
{
	size_t n = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != 0)
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int parse_args(int argc, char **argv, struct tuf_args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;
		bool missing = false;
		long num;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			a->help = true;
		} else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			a->verbose = true;
		} else if ((v = opt_value("--metadata-dir", argc, argv, &i, &missing))) {
			a->metadata_dir = v;
		} else if ((v = opt_value("--metadata-url", argc, argv, &i, &missing))) {
			a->metadata_url = v;
		} else if ((v = opt_value("--target-base-url", argc, argv, &i, &missing))) {
			a->target_base_url = v;
		} else if ((v = opt_value("--target-dir", argc, argv, &i, &missing))) {
			a->target_dir = v;
		} else if ((v = opt_value("--target-name", argc, argv, &i, &missing))) {
			/* argc bounds the count, so the array was sized for it. */
			a->targets[a->n_targets++] = v;
		} else if ((v = opt_value("--connect-timeout", argc, argv, &i, &missing))) {
			if (!parse_seconds(v, &num))
				return usage_fail(
					"--connect-timeout: '%s' is not a positive number", v);
			a->fetch.connect_timeout_s = num;
		} else if ((v = opt_value("--low-speed-limit", argc, argv, &i, &missing))) {
			if (!parse_seconds(v, &num))
				return usage_fail(
					"--low-speed-limit: '%s' is not a positive number", v);
			a->fetch.low_speed_bytes = num;
		} else if ((v = opt_value("--low-speed-time", argc, argv, &i, &missing))) {
			if (!parse_seconds(v, &num))
				return usage_fail("--low-speed-time: '%s' is not a positive number",
						  v);
			a->fetch.low_speed_window_s = num;
		} else if (missing) {
			return usage_fail("option %s needs a value", arg);
		} else if (arg[0] == '-' && arg[1] != 0) {
			return usage_fail("unknown option '%s'", arg);
		} else if (!a->verb) {
			a->verb = arg;
		} else if (!strcmp(a->verb, "init") && !a->root_file) {
			a->root_file = arg;
		} else {
			return usage_fail("unexpected argument '%s'", arg);
		}
	}
	return 0;
}

static int cmd_init(const struct tuf_args *a, int64_t now)
{
	_cleanup_buf_ struct upk_buf root = UPK_BUF_INIT;
	struct upk_diag d;

	upk_diag_clear(&d);
	if (!a->root_file)
		return usage_fail("init needs TRUSTED_ROOT_FILE");
	if (upk_io_read_file(a->root_file, UPK_META_MAX_ROOT, &root, NULL, &d))
		return fail(&d);
	if (upkc_updater_pin_root(a->metadata_dir, root.data ? root.data : (const uint8_t *)"",
				  root.len, now, &d)) {
		upk_diag_prefix_where(&d, a->root_file);
		return fail(&d);
	}
	return 0;
}

static int cmd_download(const struct tuf_args *a, struct upkc_updater *u)
{
	struct upk_diag d;

	upk_diag_clear(&d);
	if (upk_io_mkdir_p(a->target_dir, 0755, &d))
		return fail(&d);
	/* One updater for all names, in order; the first failure ends the command. */
	for (size_t i = 0; i < a->n_targets; i++) {
		const struct upk_target *t;

		if (upkc_updater_find_target(u, a->targets[i], &t, &d))
			return fail(&d);
		if (upkc_updater_is_cached(u, t))
			continue;
		if (upkc_updater_download_target(u, t, &d))
			return fail(&d);
	}
	return 0;
}

int upkc_cmd_tuf(int argc, char **argv)
{
	_cleanup_free_ const char **targets = calloc((size_t)argc + 1, sizeof(*targets));
	_cleanup_(upkc_updater_freep) struct upkc_updater *u = NULL;
	struct tuf_args a = { .targets = targets };
	struct upkc_updater_config cfg = { 0 };
	struct upk_diag d;
	time_t now;
	int rc;

	upk_diag_clear(&d);
	if (!targets) {
		upk_diag_set(&d, UPK_E_NOMEM, NULL, -1, NULL);
		return fail(&d);
	}
	rc = parse_args(argc, argv, &a);
	if (rc)
		return rc;
	if (a.help) {
		usage(stdout);
		return 0;
	}
	if (!a.verb)
		return usage_fail("missing command (init, refresh or download)");
	if (!a.metadata_dir)
		return usage_fail("%s: --metadata-dir is required", a.verb);
	/* §5.1: the update's start time, from the system clock, once. */
	now = time(NULL);
	if (now == (time_t)-1) {
		upk_diag_set(&d, UPK_E_INTERNAL, NULL, -1, "cannot read the clock");
		return fail(&d);
	}
	if (!strcmp(a.verb, "init"))
		return cmd_init(&a, (int64_t)now);
	if (strcmp(a.verb, "refresh") != 0 && strcmp(a.verb, "download") != 0)
		return usage_fail("unknown command '%s' (init, refresh or download)", a.verb);
	if (!a.metadata_url)
		return usage_fail("%s: --metadata-url is required", a.verb);
	if (!strcmp(a.verb, "download") && (!a.n_targets || !a.target_base_url || !a.target_dir))
		return usage_fail("%s: --target-name, --target-base-url and --target-dir are "
				  "required",
				  a.verb);

	cfg.metadata_dir = a.metadata_dir;
	cfg.metadata_url = a.metadata_url;
	cfg.target_base_url = a.target_base_url;
	cfg.target_dir = a.target_dir;
	cfg.fetch = a.fetch;
	cfg.verbose = a.verbose;
	if (upkc_updater_new(&cfg, (int64_t)now, &u, &d))
		return fail(&d);
	if (!strcmp(a.verb, "refresh"))
		return upkc_updater_refresh(u, &d) ? fail(&d) : 0;
	return cmd_download(&a, u);
}
