/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drives client/install.c for the integration tests and benchmarks until
 * `upkeep-client install` exists:
 *
 *   upk_install_tool (--bundle-url URL --bundle-length N | --bundle-file F)
 *       --header-len N --header-sha256 HEX --component NAME --out TARGET
 *       --state STATE [--seed FILE]... [--journal-every N] [--json-progress]
 *       [--low-speed BYTES_PER_S --low-speed-window SECONDS] [--truncate]
 *       [--max-run CHUNKS]
 *
 * Prints one summary line ("installed NAME: ...") or, with --json-progress,
 * one JSON object per journal point and a final one. Exit codes per CLI.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hex.h"
#include "install.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: upk_install_tool (--bundle-url URL --bundle-length N | --bundle-file F)\n"
		"       --header-len N --header-sha256 HEX --component NAME --out TARGET\n"
		"       --state STATE [--seed FILE]... [--journal-every N] [--json-progress]\n"
		"       [--low-speed BYTES_PER_S --low-speed-window SECONDS] [--truncate]\n"
		"       [--max-run CHUNKS]\n");
}

static bool parse_u64(const char *s, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (!s || s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return false;
	*ret = v;
	return true;
}

static void print_stats(const char *event, const struct upkc_install_stats *s)
{
	printf("{\"event\":\"%s\",\"chunks\":%" PRIu64 ",\"done\":%" PRIu64
	       ",\"journaled\":%" PRIu64 ",\"from_journal\":%" PRIu64 ",\"from_target\":%" PRIu64
	       ",\"from_seed\":%" PRIu64 ",\"from_net\":%" PRIu64 ",\"bytes_fetched\":%" PRIu64
	       ",\"bytes_written\":%" PRIu64 ",\"size\":%" PRIu64 "}\n",
	       event, s->chunks, s->done, s->journaled, s->from_journal, s->from_target,
	       s->from_seed, s->from_net, s->bytes_fetched, s->bytes_written, s->size);
	fflush(stdout);
}

static void on_progress(void *ctx, const struct upkc_install_stats *s)
{
	(void)ctx;
	print_stats("progress", s);
}

int main(int argc, char **argv)
{
	struct upkc_install_opts o = { 0 };
	struct upkc_fetch_opts fo = { 0 };
	struct upkc_install_stats st = { 0 };
	struct upk_diag diag = { 0 };
	const char *seeds[UPKC_INSTALL_MAX_SEEDS];
	const char *sha = NULL;
	bool json = false, have_len = false;
	uint64_t v;
	enum upk_err r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--json-progress") == 0) {
			json = true;
			continue;
		}
		if (strcmp(a, "--truncate") == 0) {
			o.truncate = true;
			continue;
		}
		if (!val) {
			usage();
			return 2;
		}
		i++;
		if (strcmp(a, "--bundle-url") == 0) {
			o.bundle_url = val;
		} else if (strcmp(a, "--bundle-file") == 0) {
			o.bundle_file = val;
		} else if (strcmp(a, "--bundle-length") == 0 && parse_u64(val, &v)) {
			o.bundle_length = v;
		} else if (strcmp(a, "--header-len") == 0 && parse_u64(val, &v)) {
			o.header_length = v;
			have_len = true;
		} else if (strcmp(a, "--header-sha256") == 0) {
			sha = val;
		} else if (strcmp(a, "--component") == 0) {
			o.component = val;
		} else if (strcmp(a, "--out") == 0) {
			o.target = val;
		} else if (strcmp(a, "--state") == 0) {
			o.state = val;
		} else if (strcmp(a, "--journal-every") == 0 && parse_u64(val, &v) && v >= 1 &&
			   v <= 1000000) {
			o.journal_every = (unsigned)v;
		} else if (strcmp(a, "--low-speed") == 0 && parse_u64(val, &v) && v >= 1 &&
			   v <= 1000000000) {
			fo.low_speed_bytes = (long)v;
		} else if (strcmp(a, "--low-speed-window") == 0 && parse_u64(val, &v) && v >= 1 &&
			   v <= 3600) {
			fo.low_speed_window_s = (long)v;
		} else if (strcmp(a, "--max-run") == 0 && parse_u64(val, &v) && v >= 1 &&
			   v <= UPKC_INSTALL_RUN_MAX) {
			o.max_run = (unsigned)v;
		} else if (strcmp(a, "--seed") == 0 && o.n_seeds < UPKC_INSTALL_MAX_SEEDS) {
			seeds[o.n_seeds++] = val;
		} else {
			usage();
			return 2;
		}
	}
	if (!have_len || !sha || strlen(sha) != 2 * UPK_SHA256_LEN ||
	    upk_hex_decode(sha, strlen(sha), o.header_sha256, UPK_SHA256_LEN, NULL) != UPK_OK) {
		usage();
		return 2;
	}
	o.seeds = seeds;
	o.fetch = &fo;
	if (json) {
		o.progress = on_progress;
	}
	r = upkc_install_component(&o, &st, &diag);
	if (r) {
		fprintf(stderr, "upk_install_tool: %s: %s%s%s\n", upk_strerror(r),
			diag.where[0] ? diag.where : "", diag.where[0] ? ": " : "", diag.reason);
		if (json)
			print_stats("failed", &st);
		return upk_err_exit_code(r);
	}
	if (json)
		print_stats("done", &st);
	else
		printf("installed %s: %" PRIu64 " chunks (%" PRIu64 " journaled, %" PRIu64
		       " in place, %" PRIu64 " from seeds, %" PRIu64 " fetched, %" PRIu64
		       " bytes)\n",
		       o.component, st.chunks, st.from_journal, st.from_target, st.from_seed,
		       st.from_net, st.bytes_fetched);
	return 0;
}
