/* SPDX-License-Identifier: Apache-2.0 */
/*
 * jcanon_time FILE [ROUNDS [both|tree|onepass]]: time the two ways of getting
 * canonical JSON from FILE's bytes, upk_json_parse + upk_json_canonical (the
 * tree) and upk_json_canonicalize (one pass), best of ROUNDS (default 20)
 * each, and check that both give the same bytes. Prints milliseconds and the
 * ratio. With `tree` or `onepass` only that path runs, so that an outer
 * `/usr/bin/time -v` shows its peak RSS alone.
 *
 * jcanon_time --make-targets N FILE: write a targets-like signed document
 * with N entries {"path/nnnnn": {"hashes": {"sha256", "sha512"}, "length"}}
 * pretty-printed with indent 1, as the server writes metadata (N = 10000
 * gives about 1.6 MB).
 *
 * Exit status 0 on success, 1 on any error or disagreement.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "jcanon.h"
#include "json.h"

#define MAX_INPUT (256u * 1024 * 1024)

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A deterministic stand-in for hash bytes. */
static uint64_t rng = 0x243f6a8885a308d3u;

static void hex(char *dst, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		dst[i] = "0123456789abcdef"[rng & 15];
	}
	dst[n] = 0;
}

static int make_targets(long n, const char *path)
{
	_cleanup_json_ json_t *doc = NULL;
	_cleanup_buf_ struct upk_buf text = UPK_BUF_INIT;
	json_t *targets = json_object();
	char h256[65], h512[129], name[32], sig[129];
	FILE *f;

	if (!targets)
		return -1;
	for (long i = 0; i < n; i++) {
		hex(h256, 64);
		hex(h512, 128);
		snprintf(name, sizeof(name), "path/%05ld", i);
		if (json_object_set_new(targets, name,
					json_pack("{s:{s:s,s:s},s:I}", "hashes", "sha256", h256,
						  "sha512", h512, "length",
						  (json_int_t)(1000 + i * 37))) != 0)
			return -1;
	}
	hex(sig, 128);
	doc = json_pack("{s:[{s:s,s:s}],s:{s:s,s:s,s:o,s:s,s:i}}", "signatures", "keyid",
			"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "sig",
			sig, "signed", "_type", "targets", "expires", "2030-01-01T00:00:00Z",
			"targets", targets, "spec_version", "1.0.31", "version", 7);
	if (!doc || upk_json_serialize(doc, &text) != UPK_OK)
		return -1;
	f = fopen(path, "we");
	if (!f)
		return -1;
	if (fwrite(text.data, 1, text.len, f) != text.len) {
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	printf("%s: %zu bytes, %ld targets\n", path, text.len, n);
	return 0;
}

/* One round of the tree path into out (emptied first); keeps the best time in *best. */
static int time_tree(const struct upk_buf *in, struct upk_buf *out, double *best)
{
	_cleanup_json_ json_t *v = NULL;
	struct upk_diag d;
	double t0 = now_ms(), t;

	out->len = 0;
	if (upk_json_parse(in->data, in->len, SIZE_MAX, &v, &d) != UPK_OK ||
	    upk_json_canonical(v, out, &d) != UPK_OK) {
		fprintf(stderr, "jcanon_time: parse+canonical: %s at %lld\n", d.reason,
			(long long)d.offset);
		return -1;
	}
	json_decref(v);
	v = NULL;
	t = now_ms() - t0;
	if (t < *best)
		*best = t;
	return 0;
}

/* One round of the one-pass path into out (emptied first). */
static int time_onepass(const struct upk_buf *in, struct upk_buf *out, double *best)
{
	struct upk_diag d;
	double t0 = now_ms(), t;

	out->len = 0;
	if (upk_json_canonicalize(in->data, in->len, SIZE_MAX, out, &d) != UPK_OK) {
		fprintf(stderr, "jcanon_time: canonicalize: %s at %lld\n", d.reason,
			(long long)d.offset);
		return -1;
	}
	t = now_ms() - t0;
	if (t < *best)
		*best = t;
	return 0;
}

int main(int argc, char **argv)
{
	_cleanup_buf_ struct upk_buf in = UPK_BUF_INIT;
	_cleanup_buf_ struct upk_buf a = UPK_BUF_INIT;
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	double tree = 1e300, onepass = 1e300;
	long rounds = 20;
	bool run_tree = true, run_onepass = true;
	struct upk_diag d;

	if (argc == 4 && strcmp(argv[1], "--make-targets") == 0) {
		char *end;
		long n;

		errno = 0;
		n = strtol(argv[2], &end, 10);
		if (errno || end == argv[2] || *end || n < 0 || n > 10000000) {
			fprintf(stderr, "jcanon_time: bad count %s\n", argv[2]);
			return 1;
		}
		return make_targets(n, argv[3]) ? 1 : 0;
	}
	if (argc == 4 && strcmp(argv[3], "tree") == 0)
		run_onepass = false;
	else if (argc == 4 && strcmp(argv[3], "onepass") == 0)
		run_tree = false;
	else if (argc == 4 && strcmp(argv[3], "both") != 0)
		argc = 0; /* usage */
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: jcanon_time FILE [ROUNDS [both|tree|onepass]]\n"
				"       jcanon_time --make-targets N FILE\n");
		return 1;
	}
	if (argc >= 3) {
		char *end;

		errno = 0;
		rounds = strtol(argv[2], &end, 10);
		if (errno || end == argv[2] || *end || rounds < 1 || rounds > 100000) {
			fprintf(stderr, "jcanon_time: bad round count %s\n", argv[2]);
			return 1;
		}
	}
	if (upk_io_read_file(argv[1], MAX_INPUT, &in, NULL, &d)) {
		fprintf(stderr, "jcanon_time: %s: %s\n", argv[1], d.reason);
		return 1;
	}
	for (long i = 0; i < rounds; i++) {
		if (run_tree && time_tree(&in, &a, &tree))
			return 1;
		if (run_onepass && time_onepass(&in, &b, &onepass))
			return 1;
	}
	if (!run_tree || !run_onepass) {
		printf("%s: %zu bytes in, best of %ld: %s %.3f ms\n", argv[1], in.len, rounds,
		       run_tree ? "parse+canonical" : "canonicalize", run_tree ? tree : onepass);
		return 0;
	}
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0) {
		fprintf(stderr, "jcanon_time: the two paths disagree\n");
		return 1;
	}
	printf("%s: %zu bytes in, %zu canonical, best of %ld\n", argv[1], in.len, b.len, rounds);
	printf("parse+canonical %.3f ms\ncanonicalize    %.3f ms\nratio           %.1fx\n", tree,
	       onepass, tree / onepass);
	return 0;
}
