/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * (Named bundle_io.h, not bundle.h: common/bundle.h is the format itself,
 * and one include name must not mean two headers; tests/layering checks
 * that common/ cannot reach any server header by name.)
 *
 * The release side of bundles (common/FORMAT.md): `bundle create` builds a
 * `.upk` from a firmware image and model files, `bundle info` and `publish`
 * read one back. This is the file half around the pure format code in
 * common/bundle.h: it reads inputs, runs the chunk compression on worker
 * threads, writes the tar with libarchive, and reads bundles through the
 * same parser a device uses (never trusting libarchive's reading of them).
 *
 * Create is reproducible: the bytes depend only on the inputs and the spec
 * (tar headers carry fixed modes, owners and the build time as mtime; each
 * chunk is compressed on its own, so the thread count changes nothing).
 * It writes nothing before every input and option has been checked, and
 * the output appears by rename only when complete (a temporary file in the
 * output's directory otherwise, removed on failure).
 *
 * THREAD SAFETY: functions are reentrant; create starts and joins its own
 * threads.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "err.h"

/* One component to pack: a firmware image or a model file. */
struct upks_bundle_input {
	const char *name; /* "firmware" for the image; the model name otherwise */
	enum upk_bundle_ctype type;
	const char *path;
};

struct upks_bundle_spec {
	const char *out; /* FILE.upk */
	const char *product;
	const char *const *hardware;
	size_t n_hardware;
	const char *version; /* SemVer */
	uint64_t security_version;
	enum upk_bundle_kind kind;
	const struct upks_bundle_input *inputs; /* firmware first, then models */
	size_t n_inputs;
	const char *const *requires; /* "firmware>=2.0.0" ... */
	size_t n_requires;
	const char *support_end;  /* "YYYY-MM-DD" or NULL */
	const char *sbom;	  /* SBOM file or NULL */
	const char *advisory;	  /* advisory JSON file or NULL */
	const char *mixed_reason; /* or NULL; only with kind mixed */
	int64_t build_time; /* Unix seconds (the caller decides: option, SOURCE_DATE_EPOCH, now) */
	struct upk_bundle_chunking chunking;
	unsigned jobs; /* compression threads; 0 = every CPU this process may use */
};

struct upks_bundle_result {
	uint64_t file_length;
	uint64_t header_length;
	uint8_t header_sha256[UPK_SHA256_LEN];
	unsigned jobs; /* threads used */
};

/*
 * Build spec->out. Inputs must be regular files of 1 byte to
 * UPK_BUNDLE_MAX_COMPONENT; names unique and valid (upk_bundle_name_is_valid),
 * at most one firmware. Usage problems (bad option, missing file, duplicate
 * or unsafe name, invalid advisory) are UPK_E_USAGE with nothing written;
 * I/O errors UPK_E_IO. An existing spec->out is replaced atomically.
 */
UPK_WUR enum upk_err upks_bundle_create(const struct upks_bundle_spec *spec,
					struct upks_bundle_result *ret,
					struct upk_diag *reterr_diag);

/* A bundle file opened for reading: its header checked by common/bundle.c. */
struct upks_bundle {
	int fd;
	char *path;
	uint64_t file_length;
	uint8_t *header_bytes; /* the header, owned */
	struct upk_bundle_header *header;
};

/*
 * Open a regular file and read and parse its header (upk_bundle_header_probe,
 * upk_bundle_header_parse with the file's size). Errors: UPK_E_NOT_FOUND,
 * UPK_E_USAGE (not a regular file), UPK_E_IO, and the format's (exit 10).
 */
UPK_WUR enum upk_err upks_bundle_open(const char *path, struct upks_bundle **ret,
				      struct upk_diag *reterr_diag);
void upks_bundle_close(struct upks_bundle *b);
UPK_DEFINE_CLEANUP(struct upks_bundle, upks_bundle_close)

struct upks_bundle_verify_stats {
	uint64_t chunks;
	uint64_t bytes; /* uncompressed bytes checked */
};

/*
 * Read every byte after the header and check it: each chunk decoded with
 * its bound and hashed (upk_bundle_chunk_decode), each component's
 * SHA-256, the tar header and zero padding of every later member, the
 * SBOM's SHA-256 and the end-of-archive records. The first mismatch is
 * returned (exit 10 codes); stats may be NULL.
 */
UPK_WUR enum upk_err upks_bundle_verify(const struct upks_bundle *b,
					struct upks_bundle_verify_stats *stats,
					struct upk_diag *reterr_diag);

/*
 * The `custom.upkeep` object for publishing b: the bundle's own
 * (upk_bundle_custom_build) with, if given, mixed_reason and advisory (an
 * object as upk_bundle_advisory_parse returns) replacing the bundle's.
 * Then the publishing rules: a mixed release needs a mixed_reason, a
 * security release an advisory (UPK_E_USAGE otherwise). mixed_reason on a
 * release that is not mixed is UPK_E_USAGE too.
 */
UPK_WUR enum upk_err upks_bundle_custom(const struct upks_bundle *b, const char *mixed_reason,
					const json_t *advisory, json_t **ret,
					struct upk_diag *reterr_diag);

/* "<product>-<version>.upk": the name a release's target path must end with. */
UPK_WUR enum upk_err upks_bundle_target_name(const struct upks_bundle *b, char *buf, size_t size,
					     struct upk_diag *reterr_diag);
