/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta_time FILE [ROUNDS]: time parsing FILE as targets metadata, as a tree
 * (upk_meta_parse) and as a view (upk_meta_parse_view, what the client uses),
 * best of ROUNDS (default 20) each, plus a look-up of every target through
 * the view. Prints milliseconds; a figure for the lead engineer's profiling
 * (STYLE.md: timings are printed, never asserted). Exit 1 on any error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "fileio.h"
#include "meta.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct upk_buf in = UPK_BUF_INIT;
	double tree = 1e300, view = 1e300, look = 1e300;
	int rounds = argc > 2 ? atoi(argv[2]) : 20;
	struct upk_diag d;

	if (argc < 2 || rounds < 1) {
		fprintf(stderr, "usage: meta_time FILE [ROUNDS]\n");
		return 1;
	}
	upk_diag_clear(&d);
	if (upk_io_read_file(argv[1], UPK_META_MAX_TARGETS, &in, NULL, &d)) {
		fprintf(stderr, "meta_time: %s: %s\n", argv[1], d.reason);
		return 1;
	}
	for (int i = 0; i < rounds; i++) {
		struct upk_meta *m = NULL;
		double t0 = now_ms(), t1;

		if (upk_meta_parse(in.data, in.len, UPK_ROLE_TARGETS, 0, &m, &d))
			goto fail;
		t1 = now_ms();
		tree = t1 - t0 < tree ? t1 - t0 : tree;
		upk_meta_free(m);
		m = NULL;
		t0 = now_ms();
		if (upk_meta_parse_view(in.data, in.len, UPK_ROLE_TARGETS, 0, &m, &d))
			goto fail;
		t1 = now_ms();
		view = t1 - t0 < view ? t1 - t0 : view;
		for (size_t j = 0; j < m->n_targets; j++) {
			const struct upk_target *t = upk_meta_target(m, j);

			if (!t || upk_meta_find_target(m, t->path) != t) {
				upk_meta_free(m);
				fprintf(stderr, "meta_time: look-up failed\n");
				return 1;
			}
		}
		look = now_ms() - t1 < look ? now_ms() - t1 : look;
		upk_meta_free(m);
	}
	printf("%s: %zu bytes; tree %.3f ms, view %.3f ms, every target decoded and looked up "
	       "%.3f ms\n",
	       argv[1], in.len, tree, view, look);
	upk_buf_done(&in);
	return 0;
fail:
	fprintf(stderr, "meta_time: %s: %s: %s\n", argv[1], d.where, d.reason);
	upk_buf_done(&in);
	return 1;
}
