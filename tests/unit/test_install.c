/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for client/install: the journal's form and every way it is
 * refused, and installs from a bundle file (built with the server's writer
 * in a temporary directory): a full install, a journaled re-run, a partial
 * target re-verified in place, a seed, a wrong header hash or length (the
 * target is not even created), a tampered chunk (nothing of it written),
 * a foreign journal ignored, and bad options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundle_io.h"
#include "fileio.h"
#include "install.h"

/* ---- the journal ---- */

static const uint8_t H1[UPK_SHA256_LEN] = { 1, 2, 3 };
static const uint8_t H2[UPK_SHA256_LEN] = { 1, 2, 4 };

static enum upk_err parse(const char *s, uint64_t chunks, uint64_t *ret)
{
	return upkc_install_state_parse(s, strlen(s), H1, "firmware", chunks, ret, NULL);
}

static void test_state_roundtrip(void **state)
{
	char buf[UPKC_INSTALL_STATE_MAX];
	uint64_t done = 77;
	size_t n;

	(void)state;
	n = upkc_install_state_serialize(H1, "firmware", 12, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(upkc_install_state_parse(buf, n, H1, "firmware", 12, &done, NULL), UPK_OK);
	assert_int_equal(done, 12);
	n = upkc_install_state_serialize(H1, "firmware", 0, buf, sizeof(buf));
	assert_int_equal(upkc_install_state_parse(buf, n, H1, "firmware", 12, &done, NULL), UPK_OK);
	assert_int_equal(done, 0);
	assert_int_equal(upkc_install_state_serialize(H1, "firmware", 1, buf, 40), 0);
}

static void test_state_refused(void **state)
{
	char buf[UPKC_INSTALL_STATE_MAX], bad[UPKC_INSTALL_STATE_MAX + 8];
	uint64_t done = 77;
	size_t n;
	struct upk_diag d;

	(void)state;
	n = upkc_install_state_serialize(H1, "firmware", 5, buf, sizeof(buf));
	/* Another bundle, another component, more chunks than the component has. */
	assert_int_equal(upkc_install_state_parse(buf, n, H2, "firmware", 9, &done, &d),
			 UPK_E_FORMAT);
	assert_int_equal(upkc_install_state_parse(buf, n, H1, "det", 9, &done, NULL), UPK_E_FORMAT);
	assert_int_equal(upkc_install_state_parse(buf, n, H1, "firmware", 4, &done, NULL),
			 UPK_E_FORMAT);
	/* Truncated, empty, no newline, junk, leading zero, sign, overflow. */
	assert_int_equal(upkc_install_state_parse(buf, n - 1, H1, "firmware", 9, &done, NULL),
			 UPK_E_FORMAT);
	assert_int_equal(upkc_install_state_parse(buf, n - 3, H1, "firmware", 9, &done, NULL),
			 UPK_E_FORMAT);
	assert_int_equal(parse("", 9, &done), UPK_E_FORMAT);
	memcpy(bad, buf, n - 2);
	const char *tails[] = { "x\n", "05\n", "-5\n", "5 \n", "5\n\n", "99999999999999999999\n",
				"\n" };
	for (size_t i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		size_t t = strlen(tails[i]);
		memcpy(bad + n - 2, tails[i], t);
		assert_int_equal(upkc_install_state_parse(bad, n - 2 + t, H1, "firmware",
							  UINT64_MAX, &done, NULL),
				 UPK_E_FORMAT);
	}
	assert_int_equal(done, 77); /* untouched */
	/* A component name too long for the journal. */
	char longname[UPKC_INSTALL_STATE_MAX];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(upkc_install_state_parse(buf, n, H1, longname, 9, &done, NULL),
			 UPK_E_FORMAT);
}

/* ---- installs from a file ---- */

struct fx {
	char dir[64];
	char img[96], upk[96], slot[96], st[96], seed[96];
	struct upks_bundle_result res;
	uint8_t *image;
	size_t size;
};

static void fill_image(uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t x = 2463534242u ^ seed;
	for (size_t i = 0; i < n; i++) {
		if ((i / 100000) % 2) {
			p[i] = (uint8_t)("text line\n"[i % 10]);
			continue;
		}
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
	assert_int_equal(upk_io_write_atomic(path, p, n, 0600, NULL), UPK_OK);
}

static bool file_equals(const char *path, const uint8_t *p, size_t n)
{
	struct upk_buf b = UPK_BUF_INIT;
	bool eq;

	if (upk_io_read_file(path, 64 << 20, &b, NULL, NULL) != UPK_OK)
		return false;
	eq = b.len == n && memcmp(b.data, p, n) == 0;
	upk_buf_done(&b);
	return eq;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	static const char *hw[] = { "rev-a" };
	struct upks_bundle_input in = { "firmware", UPK_BUNDLE_FIRMWARE, NULL };
	struct upks_bundle_spec spec = { 0 };

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/upk-install-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->img, sizeof(f->img), "%s/img", f->dir);
	snprintf(f->upk, sizeof(f->upk), "%s/b.upk", f->dir);
	snprintf(f->slot, sizeof(f->slot), "%s/slot", f->dir);
	snprintf(f->st, sizeof(f->st), "%s/state", f->dir);
	snprintf(f->seed, sizeof(f->seed), "%s/seed", f->dir);
	f->size = 1000000;
	f->image = malloc(f->size);
	assert_non_null(f->image);
	fill_image(f->image, f->size, 5);
	write_file(f->img, f->image, f->size);
	in.path = f->img;
	spec.out = f->upk;
	spec.product = "cam";
	spec.hardware = hw;
	spec.n_hardware = 1;
	spec.version = "1.0.0";
	spec.security_version = 1;
	spec.kind = UPK_BUNDLE_KIND_FEATURE;
	spec.inputs = &in;
	spec.n_inputs = 1;
	spec.build_time = 1767225600;
	spec.jobs = 1;
	upk_bundle_chunking_default(&spec.chunking);
	assert_int_equal(upks_bundle_create(&spec, &f->res, NULL), UPK_OK);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	const char *names[] = { "img", "b.upk", "slot", "state", "seed", "bad.upk" };
	char p[128];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", f->dir, names[i]);
		unlink(p);
	}
	rmdir(f->dir);
	free(f->image);
	free(f);
	return 0;
}

static void opts_of(const struct fx *f, struct upkc_install_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bundle_file = f->upk;
	o->header_length = f->res.header_length;
	memcpy(o->header_sha256, f->res.header_sha256, UPK_SHA256_LEN);
	o->component = "firmware";
	o->target = f->slot;
	o->state = f->st;
	o->journal_every = 2;
}

static void test_full_and_rerun(void **state)
{
	struct fx *f = *state;
	struct upkc_install_opts o;
	struct upkc_install_stats st;

	opts_of(f, &o);
	assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_OK);
	assert_true(file_equals(f->slot, f->image, f->size));
	assert_true(st.chunks > 4);
	assert_int_equal(st.from_net, st.chunks);
	assert_int_equal(st.bytes_written, f->size);
	/* Again: every chunk journaled. */
	assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_OK);
	assert_int_equal(st.from_journal, st.chunks);
	assert_int_equal(st.bytes_fetched, 0);
	/* Journal gone: every chunk found in place, nothing written. */
	unlink(f->st);
	assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_OK);
	assert_int_equal(st.from_target, st.chunks);
	assert_int_equal(st.bytes_written, 0);
	/* A journaled chunk altered behind the journal's back: the whole hash
	 * refuses it, the journal is reset, and the next run repairs the chunk. */
	{
		FILE *fp = fopen(f->slot, "r+b");
		assert_non_null(fp);
		assert_int_equal(fseek(fp, 12345, SEEK_SET), 0);
		assert_int_equal(fputc(f->image[12345] ^ 1, fp), f->image[12345] ^ 1);
		assert_int_equal(fclose(fp), 0);
	}
	assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_E_HASH);
	assert_int_equal(st.from_journal, st.chunks);
	assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_OK);
	assert_int_equal(st.from_journal, 0);
	assert_int_equal(st.from_net, 1);
	assert_int_equal(st.from_target, st.chunks - 1);
	assert_true(file_equals(f->slot, f->image, f->size));
	/* A longer stale file: kept as a slot, cut to size as a model file. */
	{
		uint8_t *big = calloc(1, f->size + 5000);
		struct stat sb;
		assert_non_null(big);
		memcpy(big, f->image, f->size);
		write_file(f->slot, big, f->size + 5000);
		free(big);
		assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_OK);
		assert_int_equal(stat(f->slot, &sb), 0);
		assert_int_equal(sb.st_size, f->size + 5000);
		o.truncate = true;
		assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_OK);
		assert_true(file_equals(f->slot, f->image, f->size));
		o.truncate = false;
	}
	/* A journal of another bundle is ignored, not trusted. */
	write_file(f->st, (const uint8_t *)"upkeep-install-state 1\nheader 00\n", 33);
	assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_OK);
	assert_int_equal(st.from_journal, 0);
}

static void test_partial_and_seed(void **state)
{
	struct fx *f = *state;
	struct upkc_install_opts o;
	struct upkc_install_stats st;
	const char *seeds[1] = { f->seed };
	uint8_t *half = calloc(1, f->size);

	assert_non_null(half);
	/* Half the image in place (a lost journal), the rest zero. */
	memcpy(half, f->image, f->size / 2);
	write_file(f->slot, half, f->size);
	unlink(f->st);
	opts_of(f, &o);
	assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_OK);
	assert_true(file_equals(f->slot, f->image, f->size));
	assert_true(st.from_target >= 2);
	assert_true(st.from_net >= 1);
	/* A seed holding the image shifted by 4 KiB: every chunk from the seed. */
	memset(half, 0x5a, 4096);
	memcpy(half + 4096, f->image, f->size - 4096);
	write_file(f->seed, half, f->size);
	unlink(f->slot);
	unlink(f->st);
	o.seeds = seeds;
	o.n_seeds = 1;
	assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_OK);
	assert_true(file_equals(f->slot, f->image, f->size));
	assert_true(st.from_seed >= st.chunks - 2);
	/* A missing seed: refused before the target is opened. */
	unlink(f->seed);
	unlink(f->slot);
	assert_int_equal(upkc_install_component(&o, &st, NULL), UPK_E_NOT_FOUND);
	assert_false(upk_io_exists(f->slot));
	free(half);
}

static void test_header_refused(void **state)
{
	struct fx *f = *state;
	struct upkc_install_opts o;
	struct upk_diag d;

	unlink(f->slot);
	unlink(f->st);
	opts_of(f, &o);
	o.header_sha256[0] ^= 1;
	assert_int_equal(upkc_install_component(&o, NULL, &d), UPK_E_HASH);
	assert_false(upk_io_exists(f->slot));
	opts_of(f, &o);
	o.header_length += 512;
	assert_int_equal(upkc_install_component(&o, NULL, NULL), UPK_E_HASH);
	o.header_length = 100;
	assert_int_equal(upkc_install_component(&o, NULL, NULL), UPK_E_LENGTH);
	o.header_length = (uint64_t)UPK_BUNDLE_MAX_HEADER + 1;
	assert_int_equal(upkc_install_component(&o, NULL, NULL), UPK_E_LENGTH);
	opts_of(f, &o);
	o.bundle_length = 12345;
	assert_int_equal(upkc_install_component(&o, NULL, NULL), UPK_E_LENGTH);
	opts_of(f, &o);
	o.component = "det";
	assert_int_equal(upkc_install_component(&o, NULL, NULL), UPK_E_NOT_FOUND);
	assert_false(upk_io_exists(f->slot));
	/* Options: no source, two sources, a URL without length, no target. */
	opts_of(f, &o);
	o.bundle_file = NULL;
	assert_int_equal(upkc_install_component(&o, NULL, NULL), UPK_E_USAGE);
	o.bundle_file = f->upk;
	o.bundle_url = "http://127.0.0.1:1/x";
	assert_int_equal(upkc_install_component(&o, NULL, NULL), UPK_E_USAGE);
	o.bundle_file = NULL;
	assert_int_equal(upkc_install_component(&o, NULL, NULL), UPK_E_USAGE);
	opts_of(f, &o);
	o.max_run = UPKC_INSTALL_RUN_MAX + 1;
	assert_int_equal(upkc_install_component(&o, NULL, NULL), UPK_E_USAGE);
	opts_of(f, &o);
	o.target = NULL;
	assert_int_equal(upkc_install_component(&o, NULL, NULL), UPK_E_USAGE);
	assert_false(upk_io_exists(f->slot));
	assert_false(upk_io_exists(f->st));
}

static void test_tampered_chunk(void **state)
{
	struct fx *f = *state;
	struct upkc_install_opts o;
	struct upkc_install_stats st;
	struct upk_buf b = UPK_BUF_INIT;
	char bad[128];
	uint64_t at;

	unlink(f->slot);
	unlink(f->st);
	assert_int_equal(upk_io_read_file(f->upk, 64 << 20, &b, NULL, NULL), UPK_OK);
	/* A byte in the third chunk or so: the data starts right after the header. */
	at = f->res.header_length + 150000;
	b.data[at] ^= 0x10;
	snprintf(bad, sizeof(bad), "%s/bad.upk", f->dir);
	write_file(bad, b.data, b.len);
	upk_buf_done(&b);
	opts_of(f, &o);
	o.bundle_file = bad;
	assert_int_not_equal(upkc_install_component(&o, &st, NULL), UPK_OK);
	/* Chunks before it written, the tampered one not. */
	struct stat sb;
	assert_int_equal(stat(f->slot, &sb), 0);
	assert_true((uint64_t)sb.st_size < f->size);
	assert_true(st.from_net >= 1 && st.done < st.chunks);
	assert_true(file_equals(f->slot, f->image, (size_t)sb.st_size) || sb.st_size == 0);
	unlink(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_roundtrip),
		cmocka_unit_test(test_state_refused),
		cmocka_unit_test_setup_teardown(test_full_and_rerun, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_partial_and_seed, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_header_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tampered_chunk, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
