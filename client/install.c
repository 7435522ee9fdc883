/* SPDX-License-Identifier: Apache-2.0 */
/* The device-side bundle pipeline: see install.h. */
#include "install.h"
#include "failpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "hash.h"
#include "hex.h"
#include "util.h"

/* ==== the journal ====================================================== */

#define STATE_MAGIC "upkeep-install-state 1\n"

size_t upkc_install_state_serialize(const uint8_t header_sha256[UPK_SHA256_LEN],
				    const char *component, uint64_t done, char *buf, size_t size)
{
	char hex[2 * UPK_SHA256_LEN + 1];
	int n;

	upk_hex_encode(header_sha256, UPK_SHA256_LEN, hex);
	n = snprintf(buf, size, STATE_MAGIC "header %s\ncomponent %s\ndone %" PRIu64 "\n", hex,
		     component, done);
	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

enum upk_err upkc_install_state_parse(const char *data, size_t len,
				      const uint8_t header_sha256[UPK_SHA256_LEN],
				      const char *component, uint64_t chunks, uint64_t *ret_done,
				      struct upk_diag *reterr_diag)
{
	char want[UPKC_INSTALL_STATE_MAX];
	size_t n = upkc_install_state_serialize(header_sha256, component, 0, want, sizeof(want));
	size_t prefix, i;
	uint64_t v = 0;

	/* The expected text up to "done " is fixed by the bundle and component. */
	if (n < 3)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "state", -1,
				    "component name too long");
	prefix = n - 2; /* without "0\n" */
	if (len <= prefix + 1 || memcmp(data, want, prefix) != 0)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "state", -1,
				    "journal of another bundle or component");
	for (i = prefix; i < len - 1; i++) {
		if (data[i] < '0' || data[i] > '9' || (i > prefix && v == 0) ||
		    v > (UINT64_MAX - 9) / 10)
			return upk_diag_set(reterr_diag, UPK_E_FORMAT, "state", (int64_t)i,
					    "bad chunk count");
		v = v * 10 + (uint64_t)(data[i] - '0');
	}
	if (data[len - 1] != '\n' || v > chunks)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, "state", -1, "bad chunk count");
	*ret_done = v;
	return UPK_OK;
}

/* ==== the bundle source: a file or ranges of a URL ===================== */

struct source {
	int fd;			  /* -1 for a URL */
	struct upkc_fetch *fetch; /* for a URL: one kept-alive connection for all ranges */
	const char *url;
};

/* Receives a range's bytes as they arrive; non-OK aborts (it fills diag itself). */
typedef enum upk_err (*range_sink_fn)(void *ctx, const uint8_t *data, size_t len);

struct mem_sink {
	uint8_t *buf;
	size_t len;
};

static enum upk_err mem_sink_fn(void *ctx, const uint8_t *data, size_t len)
{
	struct mem_sink *m = ctx;

	memcpy(m->buf + m->len, data, len);
	m->len += len;
	return UPK_OK;
}

static void source_done(struct source *s)
{
	if (s->fd >= 0)
		close(s->fd);
	upkc_fetch_free(s->fetch);
	s->fd = -1;
	s->fetch = NULL;
}

static enum upk_err source_open(struct source *s, const struct upkc_install_opts *o,
				uint64_t *ret_length, struct upk_diag *d)
{
	struct stat st;
	enum upk_err r;

	if (o->bundle_file) {
		s->fd = open(o->bundle_file, O_RDONLY | O_CLOEXEC);
		if (s->fd < 0)
			return upk_diag_set(d, errno == ENOENT ? UPK_E_NOT_FOUND : UPK_E_IO,
					    o->bundle_file, -1, "%s", strerror(errno));
		if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode))
			return upk_diag_set(d, UPK_E_USAGE, o->bundle_file, -1,
					    "not a regular file");
		if (o->bundle_length && o->bundle_length != (uint64_t)st.st_size)
			return upk_diag_set(d, UPK_E_LENGTH, o->bundle_file, -1,
					    "file is %jd bytes, signed length %" PRIu64,
					    (intmax_t)st.st_size, o->bundle_length);
		*ret_length = (uint64_t)st.st_size;
		return UPK_OK;
	}
	/* Ranges are fetched over http and https only (upkc_fetch_range refuses file://). */
	r = upkc_fetch_new(o->fetch, &s->fetch, d);
	if (r)
		return r;
	s->url = o->bundle_url;
	if (!o->bundle_length)
		return upk_diag_set(d, UPK_E_USAGE, s->url, -1,
				    "the signed bundle length is required");
	*ret_length = o->bundle_length;
	return UPK_OK;
}

/* One Range request for exactly len bytes at off; no retry (fetch.h maps the statuses). */
static enum upk_err range_once(struct source *s, uint64_t off, size_t len, range_sink_fn sink,
			       void *ctx, struct upk_diag *d)
{
	return upkc_fetch_range(s->fetch, s->url, off, len, sink, ctx, d);
}

static bool is_transient(enum upk_err r)
{
	return r == UPK_E_NETWORK || r == UPK_E_SERVER || r == UPK_E_TIMEOUT;
}

/* Exactly len bytes at off of the bundle (len >= 1); retries transient errors. */
static enum upk_err source_read(struct source *s, uint64_t off, size_t len, uint8_t *buf,
				struct upk_diag *d)
{
	enum upk_err r = UPK_OK;
	unsigned i;

	if (s->fd >= 0) {
		size_t got = 0;
		while (got < len) {
			ssize_t n = pread(s->fd, buf + got, len - got, (off_t)(off + got));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return upk_diag_set(d, UPK_E_IO, "bundle", (int64_t)(off + got),
						    "%s", strerror(errno));
			if (n == 0)
				return upk_diag_set(d, UPK_E_LENGTH, "bundle", (int64_t)(off + got),
						    "truncated");
			got += (size_t)n;
		}
		return UPK_OK;
	}
	for (i = 0; i < UPKC_INSTALL_TRIES; i++) {
		if (i) {
			/* Back-off 200 ms, 400 ms, ... */
			struct timespec ts = { 0, 200000000L << (i - 1) };
			nanosleep(&ts, NULL);
		}
		struct mem_sink m = { buf, 0 };
		r = range_once(s, off, len, mem_sink_fn, &m, d);
		if (!is_transient(r))
			return r;
	}
	return r;
}

/* ==== local chunk sources ============================================== */

struct seed_entry {
	uint64_t prefix; /* first 8 bytes of the SHA-256 */
	uint64_t offset : 56, seed : 8;
};

struct seeds {
	int fd[UPKC_INSTALL_MAX_SEEDS];
	size_t n_fd;
	struct seed_entry *e;
	size_t n, cap;
	uint64_t *want; /* sorted prefixes of the component's chunks */
	size_t n_want;
};

static uint64_t prefix_of(const uint8_t *h)
{
	uint64_t v;
	memcpy(&v, h, sizeof(v));
	return v;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void seeds_done(struct seeds *s)
{
	for (size_t i = 0; i < s->n_fd; i++)
		close(s->fd[i]);
	free(s->e);
	free(s->want);
	memset(s, 0, sizeof(*s));
}

static int seed_cmp(const void *a, const void *b)
{
	const struct seed_entry *x = a, *y = b;
	return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

static enum upk_err read_full(int fd, uint64_t off, uint8_t *buf, size_t len, size_t *ret_got,
			      const char *what, struct upk_diag *d)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return upk_diag_set(d, UPK_E_IO, what, (int64_t)(off + got), "%s",
					    strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*ret_got = got;
	return UPK_OK;
}

/*
 * Index a seed file by the component's own cut rule, so that unchanged
 * regions of an older image cut into the same chunks the bundle has.
 */
static enum upk_err seeds_add(struct seeds *s, const char *path,
			      const struct upk_bundle_chunking *ck, struct upk_diag *d)
{
	size_t bufsize = (size_t)ck->max * 2, have = 0, pos = 0;
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t file_off = 0; /* file offset of buf[0] */
	bool eof = false;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return upk_diag_set(d, errno == ENOENT ? UPK_E_NOT_FOUND : UPK_E_IO, path, -1, "%s",
				    strerror(errno));
	s->fd[s->n_fd++] = fd;
	buf = malloc(bufsize);
	if (!buf)
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
	for (;;) {
		size_t cut;
		uint8_t h[UPK_HASH_MAX_LEN];
		enum upk_err r;

		if (!eof && have - pos < ck->max) {
			size_t got;
			memmove(buf, buf + pos, have - pos);
			file_off += pos;
			have -= pos;
			pos = 0;
			r = read_full(fd, file_off + have, buf + have, bufsize - have, &got, path,
				      d);
			if (r)
				return r;
			have += got;
			eof = have < bufsize;
		}
		if (pos == have)
			break;
		cut = upk_bundle_chunk_cut(ck, buf + pos, have - pos, eof);
		if (cut == 0 || cut > have - pos)
			return upk_diag_set(d, UPK_E_INTERNAL, path, -1, "chunker stalled");
		r = upk_hash_oneshot(UPK_HASH_SHA256, buf + pos, cut, h);
		if (r)
			return upk_diag_set(d, r, NULL, -1, "sha256");
		{
			uint64_t pf = prefix_of(h);
			if (!bsearch(&pf, s->want, s->n_want, sizeof(pf), u64_cmp)) {
				pos += cut;
				continue;
			}
		}
		if (s->n == s->cap) {
			size_t ncap = s->cap ? s->cap * 2 : 256, bytes;
			struct seed_entry *ne = upk_size_mul(ncap, sizeof(*ne), &bytes)
							? realloc(s->e, bytes)
							: NULL;
			if (!ne)
				return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
			s->e = ne;
			s->cap = ncap;
		}
		s->e[s->n].prefix = prefix_of(h);
		s->e[s->n].offset = file_off + pos;
		s->e[s->n].seed = (uint8_t)(s->n_fd - 1);
		s->n++;
		pos += cut;
	}
	return UPK_OK;
}

static const struct seed_entry *seeds_find(const struct seeds *s, const uint8_t *sha256)
{
	if (!s->n)
		return NULL;
	struct seed_entry k = { .prefix = prefix_of(sha256) };
	return bsearch(&k, s->e, s->n, sizeof(*s->e), seed_cmp);
}

/* ==== the whole-file check of an offline bundle ========================= */

/* Read size of the whole-file check: small, it counts in the installer's peak RSS. */
#define FILE_CHECK_BUF (128 * 1024)

struct file_check {
	const char *path;
	uint64_t length;
	const struct upk_hashes *hashes;
	enum upk_err r;
	struct upk_diag d;
};

/* The signed length and every listed hash of the whole file (TUF §5.7 for a local file). */
static void *file_check_main(void *arg)
{
	struct file_check *fc = arg;
	struct upk_hash_ctx h256, h512;
	uint8_t out[UPK_HASH_MAX_LEN];
	uint8_t *buf = malloc(FILE_CHECK_BUF);
	uint64_t got = 0;
	enum upk_err r;
	int fd = -1;

	r = buf ? UPK_OK : upk_diag_set(&fc->d, UPK_E_NOMEM, NULL, -1, NULL);
	if (!r && (r = upk_hash_init(&h256, UPK_HASH_SHA256)) == UPK_OK &&
	    (r = upk_hash_init(&h512, UPK_HASH_SHA512)) != UPK_OK)
		upk_hash_done(&h256);
	if (r) {
		free(buf);
		fc->r = r;
		return NULL;
	}
	fd = open(fc->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		r = upk_diag_set(&fc->d, UPK_E_IO, fc->path, -1, "%s", strerror(errno));
	while (!r) {
		ssize_t n = read(fd, buf, FILE_CHECK_BUF);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			r = upk_diag_set(&fc->d, UPK_E_IO, fc->path, -1, "%s", strerror(errno));
		if (n <= 0)
			break;
		got += (uint64_t)n;
		if (got > fc->length)
			break;
		if (fc->hashes->has_sha256)
			r = upk_hash_update(&h256, buf, (size_t)n);
		if (!r && fc->hashes->has_sha512)
			r = upk_hash_update(&h512, buf, (size_t)n);
	}
	if (fd >= 0)
		close(fd);
	if (!r && got != fc->length)
		r = upk_diag_set(&fc->d, UPK_E_LENGTH, fc->path, -1,
				 "the file is not the signed length of %" PRIu64 " bytes",
				 fc->length);
	if (!r && fc->hashes->has_sha256 &&
	    (upk_hash_final(&h256, out) ||
	     !upk_hash_equal(out, fc->hashes->sha256, UPK_SHA256_LEN)))
		r = upk_diag_set(&fc->d, UPK_E_HASH, fc->path, -1,
				 "SHA-256 differs from the signed one");
	if (!r && fc->hashes->has_sha512 &&
	    (upk_hash_final(&h512, out) ||
	     !upk_hash_equal(out, fc->hashes->sha512, UPK_SHA512_LEN)))
		r = upk_diag_set(&fc->d, UPK_E_HASH, fc->path, -1,
				 "SHA-512 differs from the signed one");
	upk_hash_done(&h256);
	upk_hash_done(&h512);
	free(buf);
	fc->r = r;
	return NULL;
}

/* ==== the read-back, on a second thread ================================= */

/*
 * The component is read back from the target and hashed as the install
 * goes: the main thread publishes how far the target holds every chunk
 * (`ready`, advanced at each journal point, where all earlier chunks are
 * written and synced), this thread reads and hashes up to there, and the
 * last stretch is hashed once the last chunk is written. The bytes hashed
 * are the bytes read from the target, as a read-back at the end would, but
 * the work overlaps the decoding of later chunks.
 */
#define READBACK_BUF (128 * 1024)

struct readback {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool inited;	/* hash context, mutex and condition made */
	bool started;	/* the thread runs */
	uint64_t ready; /* bytes [0, ready) of the target are final */
	bool finish;	/* ready is the component's size: hash to the end */
	bool stop;	/* the install failed: leave */
	int fd;
	const char *target;
	uint64_t size;
	struct upk_hash_ctx hc;
	uint8_t sha256[UPK_SHA256_LEN];
	enum upk_err r;
	struct upk_diag d;
};

static void *readback_main(void *arg)
{
	struct readback *rb = arg;
	uint8_t *buf = malloc(READBACK_BUF);
	uint64_t off = 0;
	enum upk_err r = buf ? UPK_OK : upk_diag_set(&rb->d, UPK_E_NOMEM, NULL, -1, NULL);

	while (!r) {
		uint64_t until;
		bool finish;

		pthread_mutex_lock(&rb->mu);
		while (!rb->stop && !rb->finish && rb->ready == off)
			pthread_cond_wait(&rb->cv, &rb->mu);
		until = rb->ready;
		finish = rb->finish;
		if (rb->stop)
			r = UPK_E_INTERNAL; /* nobody reads the result */
		pthread_mutex_unlock(&rb->mu);
		while (!r && off < until) {
			size_t want = until - off < READBACK_BUF ? (size_t)(until - off)
								 : READBACK_BUF,
			       got;

			r = read_full(rb->fd, off, buf, want, &got, rb->target, &rb->d);
			if (!r && got != want)
				r = upk_diag_set(&rb->d, UPK_E_LENGTH, rb->target,
						 (int64_t)(off + got),
						 "target shorter than the component");
			if (!r)
				r = upk_hash_update(&rb->hc, buf, got);
			off += got;
		}
		if (!r && finish && off == until)
			break;
	}
	if (!r) {
		uint8_t h[UPK_HASH_MAX_LEN];

		r = upk_hash_final(&rb->hc, h);
		if (!r)
			memcpy(rb->sha256, h, UPK_SHA256_LEN);
	}
	free(buf);
	rb->r = r;
	return NULL;
}

static enum upk_err readback_start(struct readback *rb)
{
	enum upk_err r = upk_hash_init(&rb->hc, UPK_HASH_SHA256);

	if (r)
		return r;
	pthread_mutex_init(&rb->mu, NULL);
	pthread_cond_init(&rb->cv, NULL);
	rb->inited = true;
	/* Without a thread the whole read-back runs at the end (readback_result). */
	rb->started = pthread_create(&rb->thread, NULL, readback_main, rb) == 0;
	return UPK_OK;
}

static void readback_advance(struct readback *rb, uint64_t ready, bool finish)
{
	if (!rb->started)
		return;
	pthread_mutex_lock(&rb->mu);
	rb->ready = ready;
	rb->finish = finish;
	pthread_cond_signal(&rb->cv);
	pthread_mutex_unlock(&rb->mu);
}

/* Stop the thread (if it runs) and release everything; the result is in rb->r. */
static void readback_join(struct readback *rb, bool stop)
{
	if (!rb->inited)
		return;
	if (rb->started) {
		pthread_mutex_lock(&rb->mu);
		rb->stop = stop;
		pthread_cond_signal(&rb->cv);
		pthread_mutex_unlock(&rb->mu);
		pthread_join(rb->thread, NULL);
		rb->started = false;
	}
	upk_hash_done(&rb->hc);
	pthread_mutex_destroy(&rb->mu);
	pthread_cond_destroy(&rb->cv);
	rb->inited = false;
}

/* Hash to the end of the component and compare with the signed SHA-256. */
static enum upk_err readback_result(struct readback *rb, const char *component,
				    const uint8_t sha256[UPK_SHA256_LEN], struct upk_diag *d)
{
	if (rb->started) {
		readback_advance(rb, rb->size, true);
	} else {
		rb->ready = rb->size;
		rb->finish = true;
		readback_main(rb);
	}
	readback_join(rb, false);
	if (rb->r) {
		if (d)
			*d = rb->d;
		return rb->r;
	}
	if (!upk_hash_equal(rb->sha256, sha256, UPK_SHA256_LEN))
		return upk_diag_set(d, UPK_E_HASH, rb->target, -1,
				    "component %s: SHA-256 of the written bytes differs",
				    component);
	return UPK_OK;
}

/* ==== the install ====================================================== */

struct install {
	const struct upkc_install_opts *o;
	struct upkc_install_stats st;
	struct source src;
	struct seeds seeds;
	struct upk_buf header; /* used when the caller gives no header_cache */
	struct upk_buf *hdr;   /* &header or o->header_cache */
	struct upk_bundle_header *h;
	const struct upk_bundle_component *c;
	int fd; /* the target */
	uint8_t *in, *out;
	size_t in_cap, out_cap;
	/* Chunks queued for one Range request; run_cur/run_have: reception. */
	struct upk_bundle_chunk run[UPKC_INSTALL_RUN_MAX];
	size_t run_n, run_cur, run_have;
	struct upk_diag *run_diag;
	size_t max_run;
	struct upk_bundle_decoder dec;
	struct readback rb;
};

static void install_done(struct install *x)
{
	readback_join(&x->rb, true);
	source_done(&x->src);
	seeds_done(&x->seeds);
	upk_bundle_header_free(x->h);
	upk_buf_done(&x->header);
	if (x->fd >= 0)
		close(x->fd);
	free(x->in);
	free(x->out);
	upk_bundle_decoder_done(&x->dec);
}

static enum upk_err read_header(struct install *x, uint64_t file_length, struct upk_diag *d)
{
	const struct upkc_install_opts *o = x->o;
	uint8_t h[UPK_HASH_MAX_LEN];
	enum upk_err r;

	if (o->header_length < UPK_BUNDLE_MIN_HEADER || o->header_length > UPK_BUNDLE_MAX_HEADER ||
	    o->header_length > file_length)
		return upk_diag_set(d, UPK_E_LENGTH, "header", -1,
				    "signed header length %" PRIu64 " impossible",
				    o->header_length);
	x->hdr = o->header_cache ? o->header_cache : &x->header;
	if (x->hdr->len != o->header_length) {
		/* Not read yet for this bundle (a cache holds one bundle's header). */
		x->hdr->len = 0;
		r = upk_buf_reserve(x->hdr, (size_t)o->header_length);
		if (r)
			return upk_diag_set(d, r, NULL, -1, NULL);
		r = source_read(&x->src, 0, (size_t)o->header_length, x->hdr->data, d);
		if (r)
			return r;
		x->hdr->len = (size_t)o->header_length;
	}
	/* Checked at every use, cached or not. */
	r = upk_hash_oneshot(UPK_HASH_SHA256, x->hdr->data, x->hdr->len, h);
	if (r)
		return upk_diag_set(d, r, NULL, -1, "sha256");
	/* Verify, then parse: not one byte of an unsigned header is interpreted. */
	if (!upk_hash_equal(h, o->header_sha256, UPK_SHA256_LEN)) {
		x->hdr->len = 0;
		return upk_diag_set(d, UPK_E_HASH, "header", -1,
				    "SHA-256 differs from the signed value");
	}
	return upk_bundle_header_parse(x->hdr->data, x->hdr->len, file_length, &x->h, d);
}

static enum upk_err journal(struct install *x, uint64_t done, struct upk_diag *d)
{
	char buf[UPKC_INSTALL_STATE_MAX];
	enum upk_err r;
	size_t n;

	/* The data first: a journal must never name a chunk that is not on disk. */
	if (fdatasync(x->fd) != 0)
		return upk_diag_set(d, UPK_E_IO, x->o->target, -1, "fdatasync: %s",
				    strerror(errno));
	upkc_failpoint("install: data synced");
	n = upkc_install_state_serialize(x->h->sha256, x->c->name, done, buf, sizeof(buf));
	if (!n)
		return upk_diag_set(d, UPK_E_INTERNAL, x->o->state, -1, "state too long");
	r = upk_io_write_atomic(x->o->state, buf, n, 0600, d);
	upkc_failpoint("install: journal written");
	return r;
}

static enum upk_err load_journal(struct install *x, uint64_t *ret_done)
{
	struct upk_buf b = UPK_BUF_INIT;
	uint64_t done = 0;

	/* A missing, unreadable or foreign journal only means starting over. */
	if (upk_io_read_file(x->o->state, UPKC_INSTALL_STATE_MAX, &b, NULL, NULL) == UPK_OK &&
	    upkc_install_state_parse((const char *)b.data, b.len, x->h->sha256, x->c->name,
				     x->c->chunks, &done, NULL) == UPK_OK)
		*ret_done = done;
	upk_buf_done(&b);
	return UPK_OK;
}

static enum upk_err write_chunk(struct install *x, const struct upk_bundle_chunk *ch,
				const uint8_t *data, struct upk_diag *d)
{
	size_t put = 0;

	while (put < ch->size) {
		ssize_t n = pwrite(x->fd, data + put, ch->size - put, (off_t)(ch->offset + put));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return upk_diag_set(d, errno == ENOSPC ? UPK_E_NOSPACE : UPK_E_IO,
					    x->o->target, (int64_t)(ch->offset + put), "%s",
					    n < 0 ? strerror(errno) : "short write");
		put += (size_t)n;
	}
	x->st.bytes_written += ch->size;
	upkc_failpoint("install: chunk written");
	return UPK_OK;
}

/* True (out filled) if the local file fd holds the chunk's bytes at off. */
static enum upk_err local_match(int fd, uint64_t off, const struct upk_bundle_chunk *ch,
				uint8_t *out, const char *what, bool *ret, struct upk_diag *d)
{
	uint8_t h[UPK_HASH_MAX_LEN];
	size_t got;
	enum upk_err r;

	*ret = false;
	r = read_full(fd, off, out, ch->size, &got, what, d);
	if (r)
		return r;
	if (got != ch->size)
		return UPK_OK;
	r = upk_hash_oneshot(UPK_HASH_SHA256, out, ch->size, h);
	if (r)
		return upk_diag_set(d, r, NULL, -1, "sha256");
	*ret = upk_hash_equal(h, ch->sha256, UPK_SHA256_LEN);
	return UPK_OK;
}

/* A chunk's stored bytes are in x->in: decode, verify, write. */
static enum upk_err net_chunk_done(struct install *x, const struct upk_bundle_chunk *ch,
				   struct upk_diag *d)
{
	enum upk_err r;

	x->st.bytes_fetched += ch->stored_size;
	r = upk_bundle_chunk_decode(&x->dec, x->c->codec, ch, x->in, ch->stored_size, x->out,
				    x->out_cap, d);
	if (r) {
		upk_diag_prefix_where(d, x->c->name);
		return r;
	}
	x->st.from_net++;
	x->st.done++;
	return write_chunk(x, ch, x->out, d);
}

/*
 * Consecutive chunks to fetch are stored contiguously: one Range request
 * for the run, each chunk decoded, verified and written as soon as its
 * last byte arrives (so a kill loses at most the chunk in flight, and
 * memory stays one chunk whatever the run's length).
 */
static enum upk_err run_sink(void *ctx, const uint8_t *data, size_t len)
{
	struct install *x = ctx;

	while (len) {
		const struct upk_bundle_chunk *ch;
		size_t take;
		enum upk_err r;

		if (x->run_cur >= x->run_n)
			return upk_diag_set(x->run_diag, UPK_E_INTERNAL, NULL, -1, "run overrun");
		ch = &x->run[x->run_cur];
		take = ch->stored_size - x->run_have;
		if (take > len)
			take = len;
		memcpy(x->in + x->run_have, data, take);
		x->run_have += take;
		data += take;
		len -= take;
		if (x->run_have == ch->stored_size) {
			r = net_chunk_done(x, ch, x->run_diag);
			if (r)
				return r;
			x->run_cur++;
			x->run_have = 0;
		}
	}
	return UPK_OK;
}

static enum upk_err flush_run(struct install *x, struct upk_diag *d)
{
	enum upk_err r = UPK_OK;

	if (x->src.fd >= 0) {
		for (size_t i = 0; i < x->run_n && !r; i++) {
			r = source_read(&x->src, x->run[i].file_offset, x->run[i].stored_size,
					x->in, d);
			if (!r)
				r = net_chunk_done(x, &x->run[i], d);
		}
		x->run_n = 0;
		return r;
	}
	x->run_cur = 0;
	x->run_diag = d;
	for (unsigned i = 0; i < UPKC_INSTALL_TRIES && x->run_cur < x->run_n; i++) {
		const struct upk_bundle_chunk *first, *last = &x->run[x->run_n - 1];
		if (i) {
			/* Back-off 200 ms, 400 ms, ...; the chunks already written stay. */
			struct timespec ts = { 0, 200000000L << (i - 1) };
			nanosleep(&ts, NULL);
		}
		first = &x->run[x->run_cur];
		x->run_have = 0;
		r = range_once(&x->src, first->file_offset,
			       (size_t)(last->file_offset + last->stored_size - first->file_offset),
			       run_sink, x, d);
		if (!is_transient(r))
			break;
	}
	x->run_n = 0;
	return r;
}

/* From a local source (written if needed), or queued for the network. */
static enum upk_err put_chunk(struct install *x, const struct upk_bundle_chunk *ch,
			      struct upk_diag *d)
{
	const struct seed_entry *se;
	bool hit;
	enum upk_err r;

	r = local_match(x->fd, ch->offset, ch, x->out, x->o->target, &hit, d);
	if (r)
		return r;
	if (hit) {
		x->st.from_target++;
		x->st.done++;
		return UPK_OK;
	}
	se = seeds_find(&x->seeds, ch->sha256);
	if (se) {
		/* The index said so; the bytes are hashed again as read. */
		r = local_match(x->seeds.fd[se->seed], se->offset, ch, x->out, "seed", &hit, d);
		if (r)
			return r;
		if (hit) {
			x->st.from_seed++;
			x->st.done++;
			return write_chunk(x, ch, x->out, d);
		}
	}
	/* A run is only of neighbours: a local chunk in between ends it. */
	if (x->run_n && x->run[x->run_n - 1].index + 1 != ch->index) {
		r = flush_run(x, d);
		if (r)
			return r;
	}
	x->run[x->run_n++] = *ch;
	if (x->run_n >= x->max_run)
		return flush_run(x, d);
	return UPK_OK;
}

static enum upk_err install_run(struct install *x, struct upk_diag *d)
{
	const struct upkc_install_opts *o = x->o;
	unsigned every = o->journal_every ? o->journal_every : UPKC_INSTALL_JOURNAL_EVERY;
	struct upk_bundle_chunk_iter it;
	struct upk_bundle_chunk ch;
	uint64_t file_length = 0, done = 0, since = 0, since_progress = 0;
	struct file_check fc = { .r = UPK_OK };
	pthread_t fc_thread;
	bool fc_started = false;
	enum upk_err r;

	if (!o->component || !o->target || !o->state || (!o->bundle_url == !o->bundle_file) ||
	    o->n_seeds > UPKC_INSTALL_MAX_SEEDS || (o->n_seeds && !o->seeds) ||
	    o->max_run > UPKC_INSTALL_RUN_MAX)
		return upk_diag_set(d, UPK_E_USAGE, NULL, -1, "invalid install options");
	x->max_run = o->max_run ? o->max_run : UPKC_INSTALL_RUN_MAX;
	r = source_open(&x->src, o, &file_length, d);
	if (r)
		return r;
	r = read_header(x, file_length, d);
	if (r)
		return r;
	for (size_t i = 0; i < x->h->manifest->n_components; i++)
		if (strcmp(x->h->manifest->components[i].name, o->component) == 0)
			x->c = &x->h->manifest->components[i];
	if (!x->c)
		return upk_diag_set(d, UPK_E_NOT_FOUND, o->component, -1,
				    "no such component in the bundle");
	x->st.chunks = x->c->chunks;
	x->st.size = x->c->size;
	/* Buffers sized by this component's largest chunk, not the format's limit. */
	upk_bundle_chunk_iter_init(&it, x->c);
	while (upk_bundle_chunk_iter_next(&it, &ch)) {
		if (ch.size > x->out_cap)
			x->out_cap = ch.size;
		if (ch.stored_size > x->in_cap)
			x->in_cap = ch.stored_size;
	}
	x->in = malloc(x->in_cap ? x->in_cap : 1);
	x->out = malloc(x->out_cap ? x->out_cap : 1);
	if (!x->in || !x->out)
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
	r = upk_bundle_decoder_init(&x->dec);
	if (r)
		return upk_diag_set(d, r, NULL, -1, "decoder");
	if (o->n_seeds) {
		x->seeds.want = calloc(x->c->chunks ? x->c->chunks : 1, sizeof(uint64_t));
		if (!x->seeds.want)
			return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
		upk_bundle_chunk_iter_init(&it, x->c);
		while (upk_bundle_chunk_iter_next(&it, &ch))
			x->seeds.want[x->seeds.n_want++] = prefix_of(ch.sha256);
		qsort(x->seeds.want, x->seeds.n_want, sizeof(uint64_t), u64_cmp);
	}
	if (o->check_file && o->bundle_file) {
		/*
		 * The whole-file check reads the bundle while the seeds are
		 * indexed (two cores, two reads of the page cache); nothing is
		 * written before both are done.
		 */
		fc.path = o->bundle_file;
		fc.length = o->bundle_length;
		fc.hashes = o->check_file;
		upk_diag_clear(&fc.d);
		fc_started = pthread_create(&fc_thread, NULL, file_check_main, &fc) == 0;
		if (!fc_started)
			file_check_main(&fc);
	}
	for (size_t i = 0; i < o->n_seeds && !r; i++)
		r = seeds_add(&x->seeds, o->seeds[i], &x->c->chunking, d);
	if (fc_started)
		pthread_join(fc_thread, NULL);
	if (r)
		return r;
	if (fc.r) {
		if (d)
			*d = fc.d;
		return fc.r;
	}
	free(x->seeds.want);
	x->seeds.want = NULL;
	x->seeds.n_want = 0;
	if (x->seeds.n)
		qsort(x->seeds.e, x->seeds.n, sizeof(*x->seeds.e), seed_cmp);
	if (o->before_write) {
		r = o->before_write(o->before_write_ctx, d);
		if (r)
			return r;
	}
	/* Only now, with a verified header, is the target touched. */
	x->fd = open(o->target, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (x->fd < 0)
		return upk_diag_set(d, UPK_E_IO, o->target, -1, "%s", strerror(errno));
	r = load_journal(x, &done);
	if (r)
		return r;
	if (done) {
		/*
		 * A journal is only as good as the file it describes: one that
		 * names chunks past the end of a (replaced or truncated) file is
		 * not trusted.
		 */
		struct stat sb;
		uint64_t end = 0;

		upk_bundle_chunk_iter_init(&it, x->c);
		while (upk_bundle_chunk_iter_next(&it, &ch) && ch.index < done)
			end = ch.offset + ch.size;
		if (fstat(x->fd, &sb) != 0)
			return upk_diag_set(d, UPK_E_IO, o->target, -1, "%s", strerror(errno));
		if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size < end)
			done = 0;
	}
	x->st.journaled = done;
	x->rb.fd = x->fd;
	x->rb.target = o->target;
	x->rb.size = x->c->size;
	upk_diag_clear(&x->rb.d);
	r = readback_start(&x->rb);
	if (r)
		return upk_diag_set(d, r, NULL, -1, "sha256");
	upk_bundle_chunk_iter_init(&it, x->c);
	while (upk_bundle_chunk_iter_next(&it, &ch)) {
		if (ch.index < done) {
			x->st.from_journal++;
			x->st.done++;
			continue;
		}
		r = put_chunk(x, &ch, d);
		if (r)
			return r;
		if (++since >= every && ch.index + 1 < x->c->chunks) {
			r = flush_run(x, d);
			if (r)
				return r;
			r = journal(x, ch.index + 1, d);
			if (r)
				return r;
			x->st.journaled = ch.index + 1;
			readback_advance(&x->rb, ch.offset + ch.size, false);
			since = 0;
			since_progress = 0;
			if (o->progress)
				o->progress(o->progress_ctx, &x->st);
		} else if (o->progress && ++since_progress >= UPKC_INSTALL_PROGRESS_EVERY) {
			since_progress = 0;
			o->progress(o->progress_ctx, &x->st);
		}
	}
	r = flush_run(x, d);
	if (r)
		return r;
	r = readback_result(&x->rb, x->c->name, x->c->sha256, d);
	upkc_failpoint("install: read back");
	if (r == UPK_E_HASH || r == UPK_E_LENGTH) {
		/*
		 * The target changed under a journaled chunk: forget the journal so
		 * the next run re-verifies every chunk instead of failing forever.
		 */
		(void)journal(x, 0, NULL);
	}
	if (r)
		return r;
	if (o->truncate) {
		struct stat st;
		if (fstat(x->fd, &st) != 0)
			return upk_diag_set(d, UPK_E_IO, o->target, -1, "%s", strerror(errno));
		if (S_ISREG(st.st_mode) && (uint64_t)st.st_size > x->c->size &&
		    ftruncate(x->fd, (off_t)x->c->size) != 0)
			return upk_diag_set(d, UPK_E_IO, o->target, -1, "ftruncate: %s",
					    strerror(errno));
	}
	r = journal(x, x->c->chunks, d);
	if (r)
		return r;
	x->st.journaled = x->c->chunks;
	if (o->progress)
		o->progress(o->progress_ctx, &x->st);
	return UPK_OK;
}

enum upk_err upkc_install_component(const struct upkc_install_opts *o,
				    struct upkc_install_stats *ret_stats,
				    struct upk_diag *reterr_diag)
{
	struct install x = { .o = o, .src = { .fd = -1 }, .fd = -1 };
	enum upk_err r;

	upk_buf_init(&x.header);
	r = install_run(&x, reterr_diag);
	if (ret_stats)
		*ret_stats = x.st;
	install_done(&x);
	return r;
}
