/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bundles on the release side: create (inputs -> chunks compressed on
 * worker threads -> tar written by libarchive) and reading back through
 * common/bundle.c. The format's rules all live there; this file does the
 * I/O, the threads and libarchive.
 */
#define _GNU_SOURCE /* O_TMPFILE, sched_getaffinity */
#include "bundle_io.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "fileio.h"
#include "hash.h"
#include "hex.h"
#include "json.h"
#include "tuftime.h"

/* Input is read and chunked this many bytes at a time (>= 2 * UPK_BUNDLE_MAX_CHUNK). */
#define BATCH_BYTES (16u * 1024 * 1024)
/* zlib level of every chunk: gzip's default, the baseline FORMAT.md measures against. */
#define ZLIB_LEVEL 6
/* Largest advisory file read. */
#define ADVISORY_MAX (64 * 1024)
/* Copy buffer for tar members. */
#define COPY_BYTES (1024 * 1024)

static enum upk_err nomem(struct upk_diag *d)
{
	return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, "out of memory");
}

static enum upk_err io_error(struct upk_diag *d, const char *path, const char *what)
{
	return upk_diag_set(d, UPK_E_IO, path, -1, "%s: %s", what, strerror(errno));
}

/* pread exactly len bytes; UPK_E_IO on error, UPK_E_LENGTH on a short file. */
static enum upk_err pread_all(int fd, void *buf, size_t len, uint64_t off, const char *path,
			      struct upk_diag *d)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = pread(fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_error(d, path, "read");
		if (n == 0)
			return upk_diag_set(d, UPK_E_LENGTH, path, (int64_t)off, "file ends early");
		p += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return UPK_OK;
}

static enum upk_err write_all(int fd, const void *buf, size_t len, const char *path,
			      struct upk_diag *d)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_error(d, path, "write");
		p += n;
		len -= (size_t)n;
	}
	return UPK_OK;
}

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* ---- the compression pool ---- */

/* One chunk: hashed and compressed by whichever thread takes it. */
struct job {
	const uint8_t *src;
	uint32_t size;
	uint8_t *dst;
	size_t dst_cap;
	uint32_t csize; /* 0: stored raw */
	uint8_t sha256[UPK_SHA256_LEN];
	enum upk_err err;
};

struct worker_arg {
	struct pool *p;
	unsigned id;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct job *jobs;
	size_t n_jobs, next, pending;
	bool quit;
	pthread_t *threads;
	unsigned n_threads; /* started, besides the caller's thread */
	z_stream *zs;	    /* one per thread; zs[0] is the caller's */
	struct worker_arg *args;
};

static void run_job(z_stream *z, struct job *j)
{
	uint8_t sha[UPK_HASH_MAX_LEN];
	int zr;

	j->err = upk_hash_oneshot(UPK_HASH_SHA256, j->src, j->size, sha);
	if (j->err)
		return;
	memcpy(j->sha256, sha, UPK_SHA256_LEN);
	if (deflateReset(z) != Z_OK) {
		j->err = UPK_E_INTERNAL;
		return;
	}
	z->next_in = (Bytef *)(uintptr_t)j->src; /* zlib never writes through next_in */
	z->avail_in = j->size;
	z->next_out = j->dst;
	z->avail_out = (uInt)j->dst_cap;
	zr = deflate(z, Z_FINISH);
	if (zr != Z_STREAM_END) {
		j->err = UPK_E_INTERNAL;
		return;
	}
	/* FORMAT.md: a chunk that does not shrink is stored raw. */
	j->csize = z->total_out < j->size ? (uint32_t)z->total_out : 0;
}

/* Take jobs until none is left; returns when the batch has no unclaimed job. */
static void take_jobs(struct pool *p, z_stream *z)
{
	for (;;) {
		struct job *j;

		pthread_mutex_lock(&p->mu);
		if (p->next >= p->n_jobs) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		j = &p->jobs[p->next++];
		pthread_mutex_unlock(&p->mu);
		run_job(z, j);
		pthread_mutex_lock(&p->mu);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

static void *worker(void *argp)
{
	struct worker_arg *a = argp;
	struct pool *p = a->p;
	z_stream *z = &p->zs[a->id];

	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->quit && p->next >= p->n_jobs)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->quit) {
			pthread_mutex_unlock(&p->mu);
			return NULL;
		}
		pthread_mutex_unlock(&p->mu);
		take_jobs(p, z);
	}
}

static void pool_done(struct pool *p)
{
	if (!p->zs)
		return;
	pthread_mutex_lock(&p->mu);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->n_threads; i++)
		pthread_join(p->threads[i], NULL);
	for (unsigned i = 0; i <= p->n_threads; i++)
		deflateEnd(&p->zs[i]);
	free(p->threads);
	free(p->zs);
	free(p->args);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	p->zs = NULL;
}

static unsigned cpu_count(void)
{
	cpu_set_t set;
	int n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && (n = CPU_COUNT(&set)) > 0)
		return (unsigned)n;
	n = (int)sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* Start jobs - 1 workers (the caller's thread is the last one). */
static enum upk_err pool_init(struct pool *p, unsigned jobs, struct upk_diag *d)
{
	memset(p, 0, sizeof(*p));
	if (pthread_mutex_init(&p->mu, NULL) || pthread_cond_init(&p->work, NULL) ||
	    pthread_cond_init(&p->done, NULL))
		return upk_diag_set(d, UPK_E_INTERNAL, NULL, -1, "pthread init failed");
	p->zs = calloc(jobs, sizeof(*p->zs));
	p->threads = calloc(jobs, sizeof(*p->threads));
	p->args = calloc(jobs, sizeof(*p->args));
	if (!p->zs || !p->threads || !p->args) {
		free(p->zs);
		free(p->threads);
		free(p->args);
		p->zs = NULL;
		return nomem(d);
	}
	for (unsigned i = 0; i < jobs; i++) {
		if (deflateInit(&p->zs[i], ZLIB_LEVEL) != Z_OK) {
			for (unsigned k = 0; k < i; k++)
				deflateEnd(&p->zs[k]);
			free(p->zs);
			free(p->threads);
			free(p->args);
			p->zs = NULL;
			return nomem(d);
		}
	}
	for (unsigned i = 1; i < jobs; i++) {
		p->args[i - 1] = (struct worker_arg){ p, i };
		if (pthread_create(&p->threads[p->n_threads], NULL, worker, &p->args[i - 1]))
			break; /* fewer threads only costs time */
		p->n_threads++;
	}
	return UPK_OK;
}

/* Hand n jobs to the workers and return at once (the caller may read the next batch). */
static void pool_start(struct pool *p, struct job *jobs, size_t n)
{
	pthread_mutex_lock(&p->mu);
	p->jobs = jobs;
	p->n_jobs = n;
	p->next = 0;
	p->pending = n;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
}

/* Join the workers on what is left, wait for all jobs; returns the first job error. */
static enum upk_err pool_finish(struct pool *p)
{
	struct job *jobs = p->jobs;
	size_t n = p->n_jobs;

	take_jobs(p, &p->zs[0]);
	pthread_mutex_lock(&p->mu);
	while (p->pending)
		pthread_cond_wait(&p->done, &p->mu);
	p->n_jobs = 0;
	p->next = 0;
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < n; i++) {
		if (jobs[i].err)
			return jobs[i].err;
	}
	return UPK_OK;
}

/* ---- create ---- */

/* What compressing one component produced. */
struct packed {
	uint64_t size;
	uint8_t sha256[UPK_SHA256_LEN];
	uint64_t chunks;
	uint64_t data_offset; /* in the temporary data file */
	uint64_t data_length;
	struct upk_buf index; /* head + entries */
};

struct create {
	const struct upks_bundle_spec *spec;
	struct upk_diag *d;
	int *in_fd;
	uint64_t *in_size;
	struct packed *packed;
	int data_fd; /* temporary file of all compressed chunks */
	uint64_t data_len;
	uint8_t *sbom;
	size_t sbom_len;
	json_t *advisory;
	json_t *manifest;
	struct upk_buf manifest_bytes;
	struct upk_bundle_layout layout;
	struct pool pool;
	uint8_t *batch[2]; /* BATCH_BYTES of input each: one compressed, one being read */
	uint8_t *arena;	   /* compressed output of one batch */
	size_t arena_cap;
	struct job *jobs; /* one batch */
	size_t jobs_cap;
	char *tmp_path; /* the output being written, or NULL */
};

static void create_done(struct create *c)
{
	for (size_t i = 0; c->in_fd && i < c->spec->n_inputs; i++) {
		if (c->in_fd[i] >= 0)
			close(c->in_fd[i]);
	}
	for (size_t i = 0; c->packed && i < c->spec->n_inputs; i++)
		upk_buf_done(&c->packed[i].index);
	free(c->in_fd);
	free(c->in_size);
	free(c->packed);
	if (c->data_fd >= 0)
		close(c->data_fd);
	free(c->sbom);
	if (c->advisory)
		json_decref(c->advisory);
	if (c->manifest)
		json_decref(c->manifest);
	upk_buf_done(&c->manifest_bytes);
	pool_done(&c->pool);
	free(c->batch[0]);
	free(c->batch[1]);
	free(c->arena);
	free(c->jobs);
	if (c->tmp_path) {
		unlink(c->tmp_path);
		free(c->tmp_path);
	}
}

/* A usage error about an input file, from the I/O layer's diag. */
static enum upk_err input_error(struct upk_diag *d, const char *path, const char *what)
{
	if (errno == ENOENT)
		return upk_diag_set(d, UPK_E_USAGE, path, -1, "%s: no such file", what);
	return upk_diag_set(d, UPK_E_USAGE, path, -1, "%s: %s", what, strerror(errno));
}

static enum upk_err open_inputs(struct create *c)
{
	const struct upks_bundle_spec *s = c->spec;

	for (size_t i = 0; i < s->n_inputs; i++) {
		struct stat st;
		int fd = open(s->inputs[i].path, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			return input_error(c->d, s->inputs[i].path, s->inputs[i].name);
		c->in_fd[i] = fd;
		if (fstat(fd, &st) < 0)
			return io_error(c->d, s->inputs[i].path, "fstat");
		if (!S_ISREG(st.st_mode))
			return upk_diag_set(c->d, UPK_E_USAGE, s->inputs[i].path, -1,
					    "%s: not a regular file", s->inputs[i].name);
		if (st.st_size == 0 || (uint64_t)st.st_size > UPK_BUNDLE_MAX_COMPONENT)
			return upk_diag_set(c->d, UPK_E_USAGE, s->inputs[i].path, -1,
					    "%s: %lld bytes; a component holds 1 byte to 64 GiB",
					    s->inputs[i].name, (long long)st.st_size);
		c->in_size[i] = (uint64_t)st.st_size;
	}
	return UPK_OK;
}

static enum upk_err read_small(const char *path, size_t max, struct upk_buf *out, const char *what,
			       struct upk_diag *d)
{
	struct upk_diag io;

	upk_diag_clear(&io);
	if (upk_io_read_file(path, max, out, NULL, &io) == UPK_OK)
		return UPK_OK;
	if (io.err == UPK_E_IO || io.err == UPK_E_NOMEM)
		return upk_diag_set(d, io.err, path, -1, "%s: %s", what, io.reason);
	return upk_diag_set(d, UPK_E_USAGE, path, -1, "%s: %s", what, io.reason);
}

static json_t *component_json(const struct upks_bundle_input *in, const struct packed *p,
			      const struct upk_bundle_chunking *ch, uint64_t data_offset)
{
	char hex[2 * UPK_SHA256_LEN + 1];
	json_t *chunking;

	upk_hex_encode(p->sha256, UPK_SHA256_LEN, hex);
	if (ch->alg == UPK_BUNDLE_CHUNK_FIXED)
		chunking =
			json_pack("{s:s, s:I}", "algorithm", "fixed", "size", (json_int_t)ch->min);
	else
		chunking = json_pack("{s:s, s:I, s:I, s:I, s:I}", "algorithm", "block-cdc", "block",
				     (json_int_t)ch->block, "min", (json_int_t)ch->min, "max",
				     (json_int_t)ch->max, "mask_bits", (json_int_t)ch->mask_bits);
	if (!chunking)
		return NULL;
	return json_pack("{s:s, s:s, s:I, s:s, s:I, s:s, s:o, s:I, s:I}", "name", in->name, "type",
			 upk_bundle_ctype_name(in->type), "size", (json_int_t)p->size, "sha256",
			 hex, "chunks", (json_int_t)p->chunks, "codec",
			 upk_bundle_codec_name(UPK_BUNDLE_CODEC_ZLIB), "chunking", chunking,
			 "data_offset", (json_int_t)data_offset, "data_length",
			 (json_int_t)p->data_length);
}

/*
 * The manifest for the current packed state (data offsets from c->layout).
 * Before compression, `packed` holds placeholders so that every option is
 * checked by the format's own parser before anything is written.
 */
static enum upk_err build_manifest(struct create *c, json_t **ret)
{
	const struct upks_bundle_spec *s = c->spec;
	_cleanup_json_ json_t *m = NULL;
	json_t *hw = json_array(), *req = json_array(), *comps = json_array();
	char t[UPK_TIME_STR_LEN + 1];
	enum upk_err r;

	r = upk_time_format(s->build_time, t);
	if (r) {
		json_decref(hw);
		json_decref(req);
		json_decref(comps);
		return upk_diag_set(c->d, UPK_E_USAGE, "--build-time", -1,
				    "not between 1970 and 9999");
	}
	m = json_pack("{s:s, s:i, s:s, s:o*, s:s, s:s, s:I, s:s, s:o*, s:o*}", "format",
		      UPK_BUNDLE_FORMAT, "format_version", UPK_BUNDLE_FORMAT_VERSION, "product",
		      s->product, "hardware", hw, "version", s->version, "build_time", t,
		      "security_version", (json_int_t)s->security_version, "kind",
		      upk_bundle_kind_name(s->kind), "requirements", req, "components", comps);
	if (!m || !hw || !req || !comps)
		return nomem(c->d);
	for (size_t i = 0; i < s->n_hardware; i++) {
		if (json_array_append_new(hw, json_string(s->hardware[i])))
			return nomem(c->d);
	}
	for (size_t i = 0; i < s->n_requires; i++) {
		json_t *q = NULL;

		r = upk_bundle_requirement_parse(s->requires[i], &q, c -> d);
		if (r)
			return r;
		if (json_array_append_new(req, q))
			return nomem(c->d);
	}
	for (size_t i = 0; i < s->n_inputs; i++) {
		if (json_array_append_new(comps,
					  component_json(&s->inputs[i], &c->packed[i], &s->chunking,
							 c->layout.data_offset[i])))
			return nomem(c->d);
	}
	if (s->mixed_reason && json_object_set_new(m, "mixed_reason", json_string(s->mixed_reason)))
		return nomem(c->d);
	if (s->support_end && json_object_set_new(m, "support_end", json_string(s->support_end)))
		return nomem(c->d);
	if (c->advisory && json_object_set(m, "advisory", c->advisory))
		return nomem(c->d);
	if (s->sbom) {
		uint8_t sha[UPK_HASH_MAX_LEN];
		char hex[2 * UPK_SHA256_LEN + 1];

		r = upk_hash_oneshot(UPK_HASH_SHA256, c->sbom, c->sbom_len, sha);
		if (r)
			return upk_diag_set(c->d, r, s->sbom, -1, "hashing failed");
		upk_hex_encode(sha, UPK_SHA256_LEN, hex);
		if (json_object_set_new(m, "sbom",
					json_pack("{s:s, s:I, s:I}", "sha256", hex, "size",
						  (json_int_t)c->sbom_len, "offset",
						  (json_int_t)c->layout.sbom_offset)))
			return nomem(c->d);
	}
	*ret = m;
	m = NULL;
	return UPK_OK;
}

/* Check every option and input through the format's parser before any write. */
static enum upk_err precheck(struct create *c)
{
	const struct upks_bundle_spec *s = c->spec;
	_cleanup_(upk_bundle_manifest_freep) struct upk_bundle_manifest *m = NULL;
	json_t *doc = NULL;
	struct upk_diag d;
	size_t firmware = 0;
	enum upk_err r;

	if (s->n_inputs == 0)
		return upk_diag_set(c->d, UPK_E_USAGE, NULL, -1,
				    "nothing to bundle: give --firmware and/or --model");
	if (s->n_inputs > UPK_BUNDLE_MAX_COMPONENTS)
		return upk_diag_set(c->d, UPK_E_USAGE, NULL, -1, "more than %d components",
				    UPK_BUNDLE_MAX_COMPONENTS);
	for (size_t i = 0; i < s->n_inputs; i++) {
		if (!upk_bundle_name_is_valid(s->inputs[i].name))
			return upk_diag_set(c->d, UPK_E_USAGE, s->inputs[i].name, -1,
					    "not a component name ([A-Za-z0-9][A-Za-z0-9._-]*, "
					    "at most 64 bytes)");
		for (size_t k = 0; k < i; k++) {
			if (strcmp(s->inputs[k].name, s->inputs[i].name) == 0)
				return upk_diag_set(c->d, UPK_E_USAGE, s->inputs[i].name, -1,
						    "component name given twice");
		}
		if (s->inputs[i].type == UPK_BUNDLE_FIRMWARE && ++firmware > 1)
			return upk_diag_set(c->d, UPK_E_USAGE, NULL, -1,
					    "more than one firmware image");
	}
	if (s->mixed_reason && s->kind != UPK_BUNDLE_KIND_MIXED)
		return upk_diag_set(c->d, UPK_E_USAGE, "--mixed-reason", -1,
				    "only a mixed release has a reason for mixing");
	if (s->advisory) {
		_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;

		r = read_small(s->advisory, ADVISORY_MAX, &b, "advisory", c->d);
		if (!r)
			r = upk_bundle_advisory_parse(b.data, b.len, &c->advisory, c->d);
		if (r)
			return r;
	}
	if (s->sbom) {
		struct upk_buf b = UPK_BUF_INIT;

		r = read_small(s->sbom, UPK_BUNDLE_MAX_SBOM, &b, "sbom", c->d);
		if (r)
			return r;
		if (b.len == 0) {
			upk_buf_done(&b);
			return upk_diag_set(c->d, UPK_E_USAGE, s->sbom, -1, "sbom: empty file");
		}
		c->sbom = upk_buf_steal(&b, &c->sbom_len);
	}
	r = open_inputs(c);
	if (r)
		return r;
	/* Placeholders: the real sizes fit the same rules (1 chunk, 1 byte each). */
	for (size_t i = 0; i < s->n_inputs; i++) {
		c->packed[i].size = 1;
		c->packed[i].chunks = 1;
		c->packed[i].data_length = 1;
		c->layout.data_offset[i] = UPK_BUNDLE_MIN_HEADER;
	}
	c->layout.sbom_offset = UPK_BUNDLE_MIN_HEADER;
	r = build_manifest(c, &doc);
	if (r)
		return r;
	upk_diag_clear(&d);
	r = upk_bundle_manifest_from_json(doc, &m, &d);
	if (r) {
		upk_diag_prefix_where(&d, "manifest");
		return upk_diag_set(c->d, UPK_E_USAGE, d.where, -1, "%s", d.reason);
	}
	return UPK_OK;
}

/* A temporary file in the output's directory: O_TMPFILE, else a named one unlinked at once. */
static enum upk_err open_tmp_data(struct create *c, const char *dir)
{
	char *path;
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	if (fd >= 0) {
		c->data_fd = fd;
		return UPK_OK;
	}
	if (asprintf(&path, "%s/.upkeep-chunks.XXXXXX", dir) < 0)
		return nomem(c->d);
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0) {
		enum upk_err r = io_error(c->d, dir, "temporary file");

		free(path);
		return r;
	}
	unlink(path);
	free(path);
	c->data_fd = fd;
	return UPK_OK;
}

static enum upk_err batch_jobs_reserve(struct create *c, size_t n)
{
	if (n > c->jobs_cap) {
		size_t cap = c->jobs_cap ? 2 * c->jobs_cap : 1024;
		struct job *j;

		while (cap < n)
			cap *= 2;
		j = reallocarray(c->jobs, cap, sizeof(*j));
		if (!j)
			return nomem(c->d);
		c->jobs = j;
		c->jobs_cap = cap;
	}
	return UPK_OK;
}

/* Give the n jobs of a batch their output space and start them on the pool. */
static enum upk_err start_batch(struct create *c, size_t n)
{
	size_t need = 0;
	uint8_t *dst;

	for (size_t i = 0; i < n; i++)
		need += deflateBound(&c->pool.zs[0], c->jobs[i].size);
	if (need > c->arena_cap) {
		free(c->arena);
		c->arena = malloc(need);
		c->arena_cap = c->arena ? need : 0;
		if (!c->arena)
			return nomem(c->d);
	}
	dst = c->arena;
	for (size_t i = 0; i < n; i++) {
		c->jobs[i].dst = dst;
		c->jobs[i].dst_cap = deflateBound(&c->pool.zs[0], c->jobs[i].size);
		c->jobs[i].err = UPK_OK;
		dst += c->jobs[i].dst_cap;
	}
	pool_start(&c->pool, c->jobs, n);
	return UPK_OK;
}

/* Wait for the batch and append its chunks and index entries, in order. */
static enum upk_err finish_batch(struct create *c, struct packed *p, size_t n)
{
	enum upk_err r = pool_finish(&c->pool);

	if (r)
		return upk_diag_set(c->d, r, NULL, -1, "compressing a chunk failed");
	for (size_t i = 0; i < n; i++) {
		struct job *j = &c->jobs[i];
		uint8_t entry[UPK_BUNDLE_INDEX_ENTRY];
		const uint8_t *out = j->csize ? j->dst : j->src;
		size_t len = j->csize ? j->csize : j->size;

		if (p->chunks >= UPK_BUNDLE_MAX_CHUNKS)
			return upk_diag_set(c->d, UPK_E_USAGE, NULL, -1,
					    "more than %u chunks in one component",
					    UPK_BUNDLE_MAX_CHUNKS);
		upk_bundle_index_put_entry(entry, j->size, j->csize, j->sha256);
		r = upk_buf_append(&p->index, entry, sizeof(entry));
		if (r)
			return nomem(c->d);
		r = write_all(c->data_fd, out, len, "temporary chunk file", c->d);
		if (r)
			return r;
		p->chunks++;
		p->data_length += len;
		c->data_len += len;
	}
	return UPK_OK;
}

/* Append the next bytes of input `idx` to buf (which holds *have), hashing them in order. */
static enum upk_err read_more(struct create *c, size_t idx, struct upk_hash_ctx *hctx, uint8_t *buf,
			      size_t *have, uint64_t *off, bool *eof)
{
	const char *path = c->spec->inputs[idx].path;
	uint64_t left = c->in_size[idx] - *off;
	size_t want = BATCH_BYTES - *have;
	enum upk_err r;

	if (*eof)
		return UPK_OK;
	if (want > left)
		want = (size_t)left;
	r = pread_all(c->in_fd[idx], buf + *have, want, *off, path, c->d);
	if (r == UPK_E_LENGTH)
		return upk_diag_set(c->d, UPK_E_IO, path, -1, "file shrank while being read");
	if (r)
		return r;
	r = upk_hash_update(hctx, buf + *have, want);
	if (r)
		return upk_diag_set(c->d, r, path, -1, "hashing failed");
	*off += want;
	*have += want;
	*eof = *off == c->in_size[idx];
	return UPK_OK;
}

/*
 * Chunk, hash and compress one input. Double-buffered: while the workers
 * compress the chunks of one batch, this thread reads and hashes the next
 * (carrying over the unchunked tail), then joins them.
 */
static enum upk_err pack_component(struct create *c, size_t idx)
{
	const struct upk_bundle_chunking *ch = &c->spec->chunking;
	struct packed *p = &c->packed[idx];
	struct upk_hash_ctx hctx = UPK_HASH_CTX_INIT;
	uint8_t sha[UPK_HASH_MAX_LEN], head[UPK_BUNDLE_INDEX_HEAD] = { 0 };
	uint64_t off = 0;
	size_t have = 0;
	int cur = 0;
	bool eof = false;
	enum upk_err r;

	/* precheck() left placeholders here. */
	p->chunks = 0;
	p->data_length = 0;
	p->data_offset = c->data_len;
	r = upk_buf_append(&p->index, head, sizeof(head)); /* filled in at the end */
	if (r)
		return nomem(c->d);
	r = upk_hash_init(&hctx, UPK_HASH_SHA256);
	if (r) {
		upk_hash_done(&hctx);
		return upk_diag_set(c->d, r, c->spec->inputs[idx].path, -1, "hashing: %s",
				    upk_strerror(r));
	}
	r = read_more(c, idx, &hctx, c->batch[cur], &have, &off, &eof);
	while (!r && have) {
		uint8_t *buf = c->batch[cur], *next = c->batch[!cur];
		size_t pos = 0, n = 0, next_have;

		for (;;) {
			size_t len = upk_bundle_chunk_cut(ch, buf + pos, have - pos, eof);

			if (!len)
				break;
			r = batch_jobs_reserve(c, n + 1);
			if (r)
				break;
			c->jobs[n++] = (struct job){ .src = buf + pos, .size = (uint32_t)len };
			pos += len;
		}
		if (!r)
			r = start_batch(c, n);
		if (r)
			break;
		/* The jobs only read buf: copy its tail and read on while they run. */
		next_have = have - pos;
		memcpy(next, buf + pos, next_have);
		r = read_more(c, idx, &hctx, next, &next_have, &off, &eof);
		if (r) {
			(void)pool_finish(&c->pool);
			break;
		}
		r = finish_batch(c, p, n);
		cur = !cur;
		have = next_have;
	}
	if (!r && (r = upk_hash_final(&hctx, sha)))
		upk_diag_set(c->d, r, c->spec->inputs[idx].path, -1, "hashing failed");
	upk_hash_done(&hctx);
	if (r)
		return r;
	memcpy(p->sha256, sha, UPK_SHA256_LEN);
	p->size = c->in_size[idx];
	upk_bundle_index_put_head(p->index.data, (uint32_t)p->chunks);
	return UPK_OK;
}

/*
 * The manifest names the data offsets, which depend on its own length:
 * serialize, lay out, repeat until the layout no longer moves (padding to
 * 512-byte records makes that the second or third round).
 */
static enum upk_err settle_manifest(struct create *c)
{
	const struct upks_bundle_spec *s = c->spec;
	uint64_t ilen[UPK_BUNDLE_MAX_COMPONENTS], dlen[UPK_BUNDLE_MAX_COMPONENTS];
	enum upk_err r;

	memset(&c->layout, 0, sizeof(c->layout));
	for (size_t i = 0; i < s->n_inputs; i++) {
		ilen[i] = c->packed[i].index.len;
		dlen[i] = c->packed[i].data_length;
	}
	for (int round = 0; round < 8; round++) {
		struct upk_bundle_layout l;
		json_t *doc = NULL;

		r = build_manifest(c, &doc);
		if (r)
			return r;
		if (c->manifest)
			json_decref(c->manifest);
		c->manifest = doc;
		c->manifest_bytes.len = 0;
		r = upk_json_canonical(doc, &c->manifest_bytes, c->d);
		if (!r)
			r = upk_bundle_layout_compute(c->manifest_bytes.len, s->n_inputs, ilen,
						      dlen, c->sbom_len, &l, c->d);
		if (r)
			return r;
		if (memcmp(&l, &c->layout, sizeof(l)) == 0)
			return UPK_OK;
		c->layout = l;
	}
	return upk_diag_set(c->d, UPK_E_INTERNAL, NULL, -1, "manifest layout does not settle");
}

static enum upk_err archive_fail(struct upk_diag *d, struct archive *a, const char *path)
{
	return upk_diag_set(d, UPK_E_IO, path, -1, "writing the tar: %s",
			    archive_error_string(a) ? archive_error_string(a) : "unknown error");
}

/* One regular-file member with the fixed metadata FORMAT.md requires. */
static enum upk_err add_member(struct create *c, struct archive *a, struct archive_entry *e,
			       const char *name, uint64_t size)
{
	archive_entry_clear(e);
	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, c->spec->build_time, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		return archive_fail(c->d, a, c->tmp_path);
	return UPK_OK;
}

static enum upk_err add_bytes(struct create *c, struct archive *a, const void *data, size_t len)
{
	if (archive_write_data(a, data, len) != (la_ssize_t)len)
		return archive_fail(c->d, a, c->tmp_path);
	return UPK_OK;
}

static enum upk_err write_tar(struct create *c, int fd)
{
	const struct upks_bundle_spec *s = c->spec;
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	_cleanup_free_ uint8_t *buf = malloc(COPY_BYTES);
	char name[UPK_BUNDLE_TAR_NAME_MAX];
	enum upk_err r = UPK_OK;

	if (!a || !e || !buf) {
		r = nomem(c->d);
		goto out;
	}
	/* ustar, no compression filter, no padding after the end-of-archive records. */
	if (archive_write_set_format_ustar(a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, COPY_BYTES) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
	    archive_write_open_fd(a, fd) != ARCHIVE_OK) {
		r = archive_fail(c->d, a, c->tmp_path);
		goto out;
	}
	r = add_member(c, a, e, UPK_BUNDLE_MANIFEST_MEMBER, c->manifest_bytes.len);
	if (!r)
		r = add_bytes(c, a, c->manifest_bytes.data, c->manifest_bytes.len);
	for (size_t i = 0; !r && i < s->n_inputs; i++) {
		snprintf(name, sizeof(name), "index/%s", s->inputs[i].name);
		r = add_member(c, a, e, name, c->packed[i].index.len);
		if (!r)
			r = add_bytes(c, a, c->packed[i].index.data, c->packed[i].index.len);
	}
	for (size_t i = 0; !r && i < s->n_inputs; i++) {
		uint64_t off = c->packed[i].data_offset, left = c->packed[i].data_length;

		snprintf(name, sizeof(name), "data/%s", s->inputs[i].name);
		r = add_member(c, a, e, name, left);
		while (!r && left) {
			size_t n = left < COPY_BYTES ? (size_t)left : COPY_BYTES;

			r = pread_all(c->data_fd, buf, n, off, "temporary chunk file", c->d);
			if (!r)
				r = add_bytes(c, a, buf, n);
			off += n;
			left -= n;
		}
	}
	if (!r && c->sbom) {
		r = add_member(c, a, e, UPK_BUNDLE_SBOM_MEMBER, c->sbom_len);
		if (!r)
			r = add_bytes(c, a, c->sbom, c->sbom_len);
	}
	if (!r && archive_write_close(a) != ARCHIVE_OK)
		r = archive_fail(c->d, a, c->tmp_path);
out:
	if (e)
		archive_entry_free(e);
	if (a)
		archive_write_free(a);
	return r;
}

/* Read back what was written and parse it as a device would: the writer's self-check. */
static enum upk_err check_written(struct create *c, int fd, struct upks_bundle_result *ret)
{
	_cleanup_free_ uint8_t *hdr = NULL;
	_cleanup_(upk_bundle_header_freep) struct upk_bundle_header *h = NULL;
	size_t len = c->layout.header_length;
	struct stat st;
	enum upk_err r;

	if (fstat(fd, &st) < 0)
		return io_error(c->d, c->tmp_path, "fstat");
	hdr = malloc(len);
	if (!hdr)
		return nomem(c->d);
	r = pread_all(fd, hdr, len, 0, c->tmp_path, c->d);
	if (!r)
		r = upk_bundle_header_parse(hdr, len, (uint64_t)st.st_size, &h, c->d);
	if (r) {
		/* A bundle this writer made that its reader refuses is a bug here. */
		upk_diag_prefix_where(c->d, "self-check of the written bundle");
		if (c->d)
			c->d->err = UPK_E_INTERNAL;
		return UPK_E_INTERNAL;
	}
	ret->file_length = (uint64_t)st.st_size;
	ret->header_length = len;
	memcpy(ret->header_sha256, h->sha256, UPK_SHA256_LEN);
	return UPK_OK;
}

static enum upk_err create_run(struct create *c, struct upks_bundle_result *ret)
{
	const struct upks_bundle_spec *s = c->spec;
	_cleanup_free_ char *dir_copy = strdup(s->out), *base_copy = strdup(s->out);
	_cleanup_close_ int fd = -1;
	unsigned jobs = s->jobs ? s->jobs : cpu_count();
	const char *dir;
	enum upk_err r;

	if (!dir_copy || !base_copy)
		return nomem(c->d);
	dir = dirname(dir_copy);
	r = precheck(c);
	if (r)
		return r;
	if (jobs > 256)
		jobs = 256;
	r = open_tmp_data(c, dir);
	if (!r)
		r = pool_init(&c->pool, jobs, c->d);
	if (r)
		return r;
	c->batch[0] = malloc(BATCH_BYTES);
	c->batch[1] = malloc(BATCH_BYTES);
	if (!c->batch[0] || !c->batch[1])
		return nomem(c->d);
	for (size_t i = 0; i < s->n_inputs; i++) {
		r = pack_component(c, i);
		if (r)
			return r;
	}
	r = settle_manifest(c);
	if (!r) {
		/* The manifest as built must be one the format's parser accepts. */
		_cleanup_(upk_bundle_manifest_freep) struct upk_bundle_manifest *m = NULL;

		r = upk_bundle_manifest_parse(c->manifest_bytes.data, c->manifest_bytes.len, &m,
					      c->d);
	}
	if (r)
		return r;
	if (asprintf(&c->tmp_path, "%s/.%s.XXXXXX", dir, basename(base_copy)) < 0) {
		c->tmp_path = NULL;
		return nomem(c->d);
	}
	fd = mkostemp(c->tmp_path, O_CLOEXEC);
	if (fd < 0) {
		r = io_error(c->d, c->tmp_path, "create");
		free(c->tmp_path);
		c->tmp_path = NULL;
		return r;
	}
	if (fchmod(fd, 0644) < 0)
		return io_error(c->d, c->tmp_path, "chmod");
	r = write_tar(c, fd);
	if (!r && fsync(fd) < 0)
		r = io_error(c->d, c->tmp_path, "fsync");
	if (!r)
		r = check_written(c, fd, ret);
	if (r)
		return r;
	if (rename(c->tmp_path, s->out) < 0)
		return io_error(c->d, s->out, "rename");
	free(c->tmp_path);
	c->tmp_path = NULL;
	ret->jobs = c->pool.n_threads + 1;
	return upk_io_fsync_dir(dir, c->d);
}

enum upk_err upks_bundle_create(const struct upks_bundle_spec *spec, struct upks_bundle_result *ret,
				struct upk_diag *reterr_diag)
{
	struct create c;
	struct upks_bundle_result res;
	enum upk_err r;

	memset(&c, 0, sizeof(c));
	memset(&res, 0, sizeof(res));
	c.spec = spec;
	c.d = reterr_diag;
	c.data_fd = -1;
	c.in_fd = malloc(spec->n_inputs ? spec->n_inputs * sizeof(int) : 1);
	c.in_size = calloc(spec->n_inputs ? spec->n_inputs : 1, sizeof(uint64_t));
	c.packed = calloc(spec->n_inputs ? spec->n_inputs : 1, sizeof(*c.packed));
	if (!c.in_fd || !c.in_size || !c.packed) {
		r = nomem(reterr_diag);
	} else {
		for (size_t i = 0; i < spec->n_inputs; i++)
			c.in_fd[i] = -1;
		r = create_run(&c, &res);
	}
	create_done(&c);
	if (!r)
		*ret = res;
	return r;
}

/* ---- reading ---- */

void upks_bundle_close(struct upks_bundle *b)
{
	if (!b)
		return;
	upk_bundle_header_free(b->header);
	free(b->header_bytes);
	free(b->path);
	if (b->fd >= 0)
		close(b->fd);
	free(b);
}

enum upk_err upks_bundle_open(const char *path, struct upks_bundle **ret,
			      struct upk_diag *reterr_diag)
{
	_cleanup_(upks_bundle_closep) struct upks_bundle *b = calloc(1, sizeof(*b));
	uint64_t have = 0, need = 0;
	struct stat st;
	enum upk_err r;

	if (!b)
		return nomem(reterr_diag);
	b->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (b->fd < 0) {
		if (errno == ENOENT)
			return upk_diag_set(reterr_diag, UPK_E_NOT_FOUND, path, -1, "no such file");
		return io_error(reterr_diag, path, "open");
	}
	b->path = strdup(path);
	if (!b->path)
		return nomem(reterr_diag);
	if (fstat(b->fd, &st) < 0)
		return io_error(reterr_diag, path, "fstat");
	if (!S_ISREG(st.st_mode))
		return upk_diag_set(reterr_diag, UPK_E_USAGE, path, -1, "not a regular file");
	b->file_length = (uint64_t)st.st_size;
	for (;;) {
		uint8_t *n;

		r = upk_bundle_header_probe(b->header_bytes, (size_t)have, &need, reterr_diag);
		if (r || need <= have)
			break;
		if (need > b->file_length) {
			r = upk_diag_set(reterr_diag, UPK_E_LENGTH, NULL, -1,
					 "file of %llu bytes ends inside the bundle header",
					 (unsigned long long)b->file_length);
			break;
		}
		n = realloc(b->header_bytes, (size_t)need);
		if (!n)
			return nomem(reterr_diag);
		b->header_bytes = n;
		r = pread_all(b->fd, n + have, (size_t)(need - have), have, path, reterr_diag);
		if (r)
			break;
		have = need;
	}
	if (!r)
		r = upk_bundle_header_parse(b->header_bytes, (size_t)have, b->file_length,
					    &b->header, reterr_diag);
	if (r) {
		upk_diag_prefix_where(reterr_diag, path);
		return r;
	}
	*ret = b;
	b = NULL;
	return UPK_OK;
}

/* A member after the header: its tar header, given that its contents start at off. */
static enum upk_err check_later_member(const struct upks_bundle *b, uint64_t off, const char *name,
				       uint64_t size, struct upk_diag *d)
{
	uint8_t block[UPK_BUNDLE_TAR_BLOCK];
	uint64_t got = 0;
	enum upk_err r =
		pread_all(b->fd, block, sizeof(block), off - UPK_BUNDLE_TAR_BLOCK, b->path, d);

	if (!r)
		r = upk_bundle_tar_check(block, name, &got, d);
	if (!r && got != size)
		r = upk_diag_set(d, UPK_E_FORMAT, name, -1,
				 "tar member of %llu bytes, the manifest needs %llu",
				 (unsigned long long)got, (unsigned long long)size);
	return r;
}

/* Zero bytes from `from` to `to` (padding and the end-of-archive records). */
static enum upk_err check_zeros(const struct upks_bundle *b, uint64_t from, uint64_t to,
				struct upk_diag *d)
{
	uint8_t buf[2 * UPK_BUNDLE_TAR_BLOCK];

	while (from < to) {
		size_t n = to - from < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
		enum upk_err r = pread_all(b->fd, buf, n, from, b->path, d);

		if (r)
			return r;
		for (size_t i = 0; i < n; i++) {
			if (buf[i])
				return upk_diag_set(d, UPK_E_FORMAT, b->path, (int64_t)(from + i),
						    "padding or end of archive is not zero");
		}
		from += n;
	}
	return UPK_OK;
}

static enum upk_err verify_component(const struct upks_bundle *b,
				     const struct upk_bundle_component *c,
				     struct upk_bundle_decoder *dec, uint8_t *in, uint8_t *out,
				     struct upks_bundle_verify_stats *st, struct upk_diag *d)
{
	struct upk_bundle_chunk_iter it;
	struct upk_bundle_chunk ch;
	struct upk_hash_ctx hctx = UPK_HASH_CTX_INIT;
	uint8_t sha[UPK_HASH_MAX_LEN];
	enum upk_err r = upk_hash_init(&hctx, UPK_HASH_SHA256);

	if (r)
		upk_diag_set(d, r, c->name, -1, "hashing: %s", upk_strerror(r));
	upk_bundle_chunk_iter_init(&it, c);
	while (!r && upk_bundle_chunk_iter_next(&it, &ch)) {
		r = pread_all(b->fd, in, ch.stored_size, ch.file_offset, b->path, d);
		if (!r)
			r = upk_bundle_chunk_decode(dec, c->codec, &ch, in, ch.stored_size, out,
						    UPK_BUNDLE_MAX_CHUNK, d);
		if (!r)
			r = upk_hash_update(&hctx, out, ch.size);
		if (r) {
			char where[UPK_BUNDLE_TAR_NAME_MAX + 16];

			snprintf(where, sizeof(where), "data/%s", c->name);
			upk_diag_prefix_where(d, where);
			if (d && d->offset < 0)
				d->offset = (int64_t)ch.file_offset;
			break;
		}
		st->chunks++;
		st->bytes += ch.size;
	}
	if (!r)
		r = upk_hash_final(&hctx, sha);
	upk_hash_done(&hctx);
	if (!r && !upk_hash_equal(sha, c->sha256, UPK_SHA256_LEN))
		r = upk_diag_set(d, UPK_E_HASH, c->name, -1,
				 "component SHA-256 does not match the manifest");
	return r;
}

enum upk_err upks_bundle_verify(const struct upks_bundle *b, struct upks_bundle_verify_stats *stats,
				struct upk_diag *reterr_diag)
{
	const struct upk_bundle_manifest *m = b->header->manifest;
	struct upk_bundle_decoder dec = UPK_BUNDLE_DECODER_INIT;
	struct upks_bundle_verify_stats st = { 0, 0 };
	_cleanup_free_ uint8_t *in = malloc(UPK_BUNDLE_MAX_CHUNK);
	_cleanup_free_ uint8_t *out = malloc(UPK_BUNDLE_MAX_CHUNK);
	uint64_t end = 0;
	enum upk_err r;

	if (!in || !out)
		return nomem(reterr_diag);
	r = upk_bundle_decoder_init(&dec);
	if (r)
		return nomem(reterr_diag);
	for (size_t i = 0; !r && i < m->n_components; i++) {
		const struct upk_bundle_component *c = &m->components[i];
		char name[UPK_BUNDLE_TAR_NAME_MAX];

		snprintf(name, sizeof(name), "data/%s", c->name);
		/* The first data member's tar header is part of the checked header. */
		if (i > 0)
			r = check_later_member(b, c->data_offset, name, c->data_length,
					       reterr_diag);
		if (i > 0 && !r)
			r = check_zeros(b, end, c->data_offset - UPK_BUNDLE_TAR_BLOCK, reterr_diag);
		if (!r)
			r = verify_component(b, c, &dec, in, out, &st, reterr_diag);
		end = c->data_offset + c->data_length;
	}
	upk_bundle_decoder_done(&dec);
	if (!r && m->has_sbom) {
		_cleanup_free_ uint8_t *sb = malloc(m->sbom_size);
		uint8_t sha[UPK_HASH_MAX_LEN];

		r = sb ? check_zeros(b, end, m->sbom_offset - UPK_BUNDLE_TAR_BLOCK, reterr_diag)
		       : nomem(reterr_diag);
		if (!r)
			r = check_later_member(b, m->sbom_offset, UPK_BUNDLE_SBOM_MEMBER,
					       m->sbom_size, reterr_diag);
		if (!r)
			r = pread_all(b->fd, sb, m->sbom_size, m->sbom_offset, b->path,
				      reterr_diag);
		if (!r)
			r = upk_hash_oneshot(UPK_HASH_SHA256, sb, m->sbom_size, sha);
		if (!r && !upk_hash_equal(sha, m->sbom_sha256, UPK_SHA256_LEN))
			r = upk_diag_set(reterr_diag, UPK_E_HASH, UPK_BUNDLE_SBOM_MEMBER, -1,
					 "SBOM SHA-256 does not match the manifest");
		end = m->sbom_offset + m->sbom_size;
	}
	/* Padding and the two end-of-archive records up to the file's end. */
	if (!r)
		r = check_zeros(b, end, b->file_length, reterr_diag);
	if (!r && stats)
		*stats = st;
	return r;
}

enum upk_err upks_bundle_custom(const struct upks_bundle *b, const char *mixed_reason,
				const json_t *advisory, json_t **ret, struct upk_diag *reterr_diag)
{
	_cleanup_json_ json_t *o = NULL;
	_cleanup_(upk_bundle_manifest_freep) struct upk_bundle_manifest *m = NULL;
	const struct upk_bundle_manifest *bm = b->header->manifest;
	enum upk_err r;

	if (mixed_reason && bm->kind != UPK_BUNDLE_KIND_MIXED)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, "--mixed-reason", -1,
				    "%s is a %s release, not a mixed one", b->path,
				    upk_bundle_kind_name(bm->kind));
	r = upk_bundle_custom_build(b->header, &o, reterr_diag);
	if (r)
		return r;
	if ((mixed_reason && json_object_set_new(o, "mixed_reason", json_string(mixed_reason))) ||
	    (advisory && json_object_set_new(o, "advisory", json_deep_copy(advisory))))
		return nomem(reterr_diag);
	r = upk_bundle_custom_parse(o, &m, reterr_diag);
	if (r) {
		upk_diag_prefix_where(reterr_diag, "custom.upkeep");
		if (reterr_diag)
			reterr_diag->err = UPK_E_USAGE;
		return UPK_E_USAGE;
	}
	/* CRA: security fixes ship separately where feasible; say why when they do not. */
	if (m->kind == UPK_BUNDLE_KIND_MIXED && !m->mixed_reason)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, b->path, -1,
				    "a mixed release needs a reason: --mixed-reason TEXT");
	if (m->kind == UPK_BUNDLE_KIND_SECURITY && !m->has_advisory)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, b->path, -1,
				    "a security release needs an advisory: --advisory FILE");
	*ret = o;
	o = NULL;
	return UPK_OK;
}

enum upk_err upks_bundle_target_name(const struct upks_bundle *b, char *buf, size_t size,
				     struct upk_diag *reterr_diag)
{
	const struct upk_bundle_manifest *m = b->header->manifest;
	int n = snprintf(buf, size, "%s-%s.upk", m->product, m->version);

	if (n < 0 || (size_t)n >= size)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, b->path, -1,
				    "product and version make too long a name");
	return UPK_OK;
}
