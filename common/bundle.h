/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The bundle format (common/FORMAT.md): a release `<product>-<version>.upk`
 * is a ustar archive whose members are stored uncompressed at the tar level,
 *
 *   manifest.json      canonical JSON: the release and its components
 *   index/<NAME>       one chunk index per component (binary)
 *   data/<NAME>        one per component: its independently compressed chunks
 *   sbom               optional, the SBOM file the manifest names by hash
 *
 * followed by the two zero records that end a tar archive and nothing else.
 * The header is every byte before the first byte of data/<first component>;
 * its length and SHA-256 are in the signed target entry (`custom.upkeep`),
 * so a reader fetches the header alone (HTTP Range or a file read), checks
 * it, and from then on knows the offset, length, size and SHA-256 of every
 * chunk without trusting anything else in the file. The layout is fully
 * determined by the header: every offset is computed and checked here, none
 * is taken on trust.
 *
 * Everything here is pure (bytes in memory): no files, clock or threads.
 * The release side writes bundles with libarchive (server/bundle.c); a
 * device reads them through these functions only, without libarchive.
 *
 * Parsed objects keep the JSON tree they came from; their `const char *`
 * fields borrow from it, and a header's components borrow the header bytes
 * the caller passed (which must outlive the header object).
 *
 * Errors: UPK_E_FORMAT (malformed: field, layout, tar header, index),
 * UPK_E_TOO_LARGE (a limit below, or a chunk that inflates beyond its
 * declared size), UPK_E_LENGTH (a length that does not match), UPK_E_HASH
 * (a SHA-256 that does not match), UPK_E_UNSUPPORTED (another format
 * version, codec or chunking algorithm), UPK_E_NOMEM. All are exit code 10
 * (or 1 for NOMEM) under CLI.md; diag->where names the field or member.
 *
 * THREAD SAFETY: reentrant; an object belongs to one thread at a time
 * (parsed objects are read-only and may be shared once built).
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "hash.h"
#include "util.h"
#include "version.h"

#define UPK_BUNDLE_FORMAT	  "upkeep-bundle"
#define UPK_BUNDLE_FORMAT_VERSION 1

/* ---- limits (FORMAT.md "Limits") ---- */
#define UPK_BUNDLE_TAR_BLOCK	    512
#define UPK_BUNDLE_MAX_MANIFEST	    (1024 * 1024)
#define UPK_BUNDLE_MAX_HEADER	    (64u * 1024 * 1024)
#define UPK_BUNDLE_MAX_COMPONENTS   64
#define UPK_BUNDLE_MAX_HARDWARE	    64
#define UPK_BUNDLE_MAX_REQUIREMENTS 32
#define UPK_BUNDLE_MAX_CVES	    256
#define UPK_BUNDLE_NAME_MAX	    64 /* component, product and hardware names */
#define UPK_BUNDLE_SUMMARY_MAX	    4096
#define UPK_BUNDLE_TEXT_MAX	    1024 /* advisory action, mixed_reason */
#define UPK_BUNDLE_MAX_CHUNK	    (4u * 1024 * 1024)
#define UPK_BUNDLE_MAX_CHUNKS	    (1u << 20) /* per component: an index of 40 MiB */
#define UPK_BUNDLE_MAX_COMPONENT    (64ULL << 30)
#define UPK_BUNDLE_MAX_MEMBER	    077777777777ULL /* ustar size field: 8 GiB - 1 */
#define UPK_BUNDLE_MAX_SBOM	    (64u * 1024 * 1024)
#define UPK_BUNDLE_INDEX_MAGIC	    "UPKIDX1\n" /* 8 bytes, no NUL */
#define UPK_BUNDLE_INDEX_HEAD	    16
#define UPK_BUNDLE_INDEX_ENTRY	    40
#define UPK_BUNDLE_MIN_HEADER	    (3 * UPK_BUNDLE_TAR_BLOCK)
#define UPK_BUNDLE_SUPPORT_END_LEN  10 /* "YYYY-MM-DD" */
#define UPK_BUNDLE_MANIFEST_MEMBER  "manifest.json"
#define UPK_BUNDLE_SBOM_MEMBER	    "sbom"
#define UPK_BUNDLE_TAR_NAME_MAX	    100

enum upk_bundle_kind {
	UPK_BUNDLE_KIND_SECURITY,
	UPK_BUNDLE_KIND_FEATURE,
	UPK_BUNDLE_KIND_MIXED,
};

enum upk_bundle_ctype {
	UPK_BUNDLE_FIRMWARE, /* written to the inactive slot; at most one per bundle */
	UPK_BUNDLE_MODEL,    /* a file of the model store */
};

enum upk_bundle_codec {
	UPK_BUNDLE_CODEC_ZLIB, /* RFC 1950 streams, one per chunk */
};

enum upk_bundle_chunker {
	UPK_BUNDLE_CHUNK_FIXED,	    /* every chunk `min` (= `max`) bytes but the last */
	UPK_BUNDLE_CHUNK_BLOCK_CDC, /* content-defined cuts at block boundaries */
};

/* Default chunking: block-aligned content-defined, 32-128 KiB, 64 KiB expected. */
#define UPK_BUNDLE_CDC_BLOCK	 4096
#define UPK_BUNDLE_CDC_MIN	 (32 * 1024)
#define UPK_BUNDLE_CDC_MAX	 (128 * 1024)
#define UPK_BUNDLE_CDC_MASK_BITS 3

struct upk_bundle_chunking {
	enum upk_bundle_chunker alg;
	uint32_t block;	    /* block-cdc: cut candidates every `block` bytes; fixed: = min */
	uint32_t min, max;  /* chunk size bounds (fixed: both the chunk size) */
	uint32_t mask_bits; /* block-cdc: cut where the top mask_bits of the block hash are 0 */
};

enum upk_bundle_op {
	UPK_BUNDLE_OP_GE,
	UPK_BUNDLE_OP_GT,
	UPK_BUNDLE_OP_LE,
	UPK_BUNDLE_OP_LT,
	UPK_BUNDLE_OP_EQ,
};

/* "firmware OP V", "model:NAME OP V" or "abi:NAME OP V" (FORMAT.md "Requirements"). */
struct upk_bundle_requirement {
	const char *subject;
	enum upk_bundle_op op;
	const char *version; /* SemVer 2.0.0 */
	struct upk_semver semver;
};

enum upk_bundle_severity {
	UPK_BUNDLE_SEVERITY_NONE,
	UPK_BUNDLE_SEVERITY_LOW,
	UPK_BUNDLE_SEVERITY_MEDIUM,
	UPK_BUNDLE_SEVERITY_HIGH,
	UPK_BUNDLE_SEVERITY_CRITICAL,
};

struct upk_bundle_advisory {
	const char *summary;
	const char **cves; /* "CVE-YYYY-NNNN...", unique */
	size_t n_cves;
	enum upk_bundle_severity severity;
	const char *action;
};

struct upk_bundle_component {
	const char *name; /* [A-Za-z0-9][A-Za-z0-9._-]*, unique in the bundle */
	enum upk_bundle_ctype type;
	uint64_t size; /* uncompressed bytes, >= 1 */
	uint8_t sha256[UPK_SHA256_LEN];
	uint64_t chunks;
	enum upk_bundle_codec codec;
	/* Manifest only (zero in a custom.upkeep view). */
	struct upk_bundle_chunking chunking;
	uint64_t index_offset; /* file offset of the index member's contents */
	uint64_t data_offset;  /* file offset of the first chunk */
	uint64_t data_length;  /* stored bytes of all chunks */
	/* Header only: the index entries, chunks * 40 bytes, borrowed. */
	const uint8_t *index;
};

/*
 * A release as the manifest states it, or as a target's `custom.upkeep`
 * states it (`is_custom`: header_length/header_sha256 set, the data layout
 * fields of components zero, sbom_offset 0).
 */
struct upk_bundle_manifest {
	json_t *doc; /* one reference owned; strings below borrow from it */
	bool is_custom;
	const char *product;
	const char **hardware;
	size_t n_hardware;
	const char *version;
	struct upk_semver semver;
	const char *build_time_str;
	int64_t build_time; /* Unix seconds */
	uint64_t security_version;
	enum upk_bundle_kind kind;
	const char *mixed_reason; /* NULL when absent (only kind mixed may carry one) */
	struct upk_bundle_requirement *requirements;
	size_t n_requirements;
	const char *support_end_str; /* "YYYY-MM-DD" or NULL */
	int64_t support_end;	     /* Unix seconds of its 00:00:00Z, or 0 */
	bool has_sbom;
	uint64_t sbom_size, sbom_offset;
	uint8_t sbom_sha256[UPK_SHA256_LEN];
	bool has_advisory;
	struct upk_bundle_advisory advisory;
	struct upk_bundle_component *components;
	size_t n_components;
	/* custom.upkeep only */
	uint64_t header_length;
	uint8_t header_sha256[UPK_SHA256_LEN];
};

void upk_bundle_manifest_free(struct upk_bundle_manifest *m);
UPK_DEFINE_CLEANUP(struct upk_bundle_manifest, upk_bundle_manifest_free)

/*
 * Parse manifest.json bytes: at most UPK_BUNDLE_MAX_MANIFEST (else
 * UPK_E_TOO_LARGE before any allocation), strict JSON that must be the
 * canonical encoding of itself (so one release has one manifest), exactly
 * the members FORMAT.md lists, every field within its limits; component
 * names unique, at most one firmware component, chunk counts consistent with
 * sizes and chunking. The data offsets are checked by upk_bundle_header_parse
 * (they depend on the whole layout), not here. *ret untouched on failure.
 */
UPK_WUR enum upk_err upk_bundle_manifest_parse(const uint8_t *data, size_t len,
					       struct upk_bundle_manifest **ret,
					       struct upk_diag *reterr_diag);

/* The same checks on a tree (no canonical-form check); takes over doc's reference always. */
UPK_WUR enum upk_err upk_bundle_manifest_from_json(json_t *doc, struct upk_bundle_manifest **ret,
						   struct upk_diag *reterr_diag);

/*
 * Parse a target's `custom.upkeep` object (borrowed; the result holds its
 * own reference): the manifest's release fields, components without layout
 * (name, type, size, sha256, chunks, codec), `header` {length, sha256} and
 * `format_version`. Same rules as the manifest; unknown members refused.
 */
UPK_WUR enum upk_err upk_bundle_custom_parse(const json_t *upkeep, struct upk_bundle_manifest **ret,
					     struct upk_diag *reterr_diag);

/*
 * Check that a custom.upkeep view and a header's manifest describe the same
 * release: product, hardware, version, build time, security version, kind,
 * requirements, support end, SBOM and every component's name, type, size,
 * SHA-256, chunk count and codec. (mixed_reason and advisory may have been
 * added or replaced at publish time and are not compared.) UPK_E_FORMAT
 * naming the first difference.
 */
UPK_WUR enum upk_err upk_bundle_custom_matches(const struct upk_bundle_manifest *custom,
					       const struct upk_bundle_manifest *manifest,
					       struct upk_diag *reterr_diag);

/* ---- the header ---- */

struct upk_bundle_header {
	struct upk_bundle_manifest *manifest; /* owned; its components borrow `data` */
	const uint8_t *data;		      /* the header bytes, borrowed */
	size_t len;			      /* header length */
	uint64_t file_length;		      /* the whole bundle, as the layout requires */
	uint8_t sha256[UPK_SHA256_LEN];	      /* of the header bytes */
	size_t manifest_length;
};

void upk_bundle_header_free(struct upk_bundle_header *h);
UPK_DEFINE_CLEANUP(struct upk_bundle_header, upk_bundle_header_free)

/*
 * How many leading bytes of a bundle the caller must read. Given the first
 * `len` bytes (any number, 0 included), *ret_need is either more than len
 * (read that many and call again) or, once the prefix holds the manifest,
 * the header length (>= len possible; read exactly that many and call
 * upk_bundle_header_parse). Errors when the bytes already read cannot start
 * a bundle (first tar header, manifest size or manifest invalid).
 */
UPK_WUR enum upk_err upk_bundle_header_probe(const uint8_t *prefix, size_t len, uint64_t *ret_need,
					     struct upk_diag *reterr_diag);

/*
 * Parse and check the header bytes of a bundle whose file is file_length
 * bytes long (from the signed target entry, or fstat for a local file):
 * the ustar header of every member the header holds (name, size, checksum,
 * type, magic), the manifest, every index (magic, count, chunk sizes
 * against the chunking rules, sums against sizes and data lengths), and
 * the layout: every member exactly where FORMAT.md puts it, len equal to
 * the header length, file_length equal to the layout's total. Computes the
 * header's SHA-256. data must stay valid while *ret lives.
 */
UPK_WUR enum upk_err upk_bundle_header_parse(const uint8_t *data, size_t len, uint64_t file_length,
					     struct upk_bundle_header **ret,
					     struct upk_diag *reterr_diag);

/*
 * The device's entry point: the header bytes against the signed
 * custom.upkeep view (length: UPK_E_LENGTH; SHA-256: UPK_E_HASH, checked
 * before any parsing), then upk_bundle_header_parse and
 * upk_bundle_custom_matches.
 */
UPK_WUR enum upk_err upk_bundle_header_verify(const uint8_t *data, size_t len, uint64_t file_length,
					      const struct upk_bundle_manifest *custom,
					      struct upk_bundle_header **ret,
					      struct upk_diag *reterr_diag);

/* Build the `custom.upkeep` object for a parsed header (format_version 1). */
UPK_WUR enum upk_err upk_bundle_custom_build(const struct upk_bundle_header *h, json_t **ret,
					     struct upk_diag *reterr_diag);

/* ---- chunks ---- */

struct upk_bundle_chunk {
	uint64_t index;	      /* 0-based */
	uint64_t offset;      /* in the component's uncompressed bytes */
	uint32_t size;	      /* uncompressed */
	uint64_t file_offset; /* of its stored bytes in the bundle */
	uint32_t stored_size; /* bytes in the bundle */
	bool raw;	      /* stored uncompressed (stored_size == size) */
	uint8_t sha256[UPK_SHA256_LEN];
};

/* Walks a parsed header's component in order; O(1) per step. */
struct upk_bundle_chunk_iter {
	const struct upk_bundle_component *c;
	uint64_t next, offset, file_offset;
};

void upk_bundle_chunk_iter_init(struct upk_bundle_chunk_iter *it,
				const struct upk_bundle_component *c);
/* Next chunk into *ret; false (and *ret untouched) after the last. */
bool upk_bundle_chunk_iter_next(struct upk_bundle_chunk_iter *it, struct upk_bundle_chunk *ret);

/* Reusable decompression state (one zlib inflate stream, about 40 KiB). */
struct upk_bundle_decoder {
	void *z; /* struct libdeflate_decompressor *, NULL before init */
};
#define UPK_BUNDLE_DECODER_INIT \
	{                       \
		NULL            \
	}
UPK_WUR enum upk_err upk_bundle_decoder_init(struct upk_bundle_decoder *d);
/* Accepts a decoder whose init failed or never ran. */
void upk_bundle_decoder_done(struct upk_bundle_decoder *d);

/*
 * Decode one chunk and verify it: in_len must be ch->stored_size
 * (UPK_E_LENGTH); a raw chunk is copied; a zlib chunk is inflated into
 * exactly ch->size bytes of out: a stream that would produce more is a
 * decompression bomb (UPK_E_TOO_LARGE, found after at most one byte more),
 * fewer is UPK_E_LENGTH, a corrupt stream, a preset dictionary or bytes
 * after its end UPK_E_FORMAT. Then SHA-256 of the output against ch->sha256
 * (UPK_E_HASH). out_cap must be >= ch->size. On failure the first ch->size
 * bytes of out are zeroed, so nothing unverified is left for a caller to
 * write by mistake.
 */
UPK_WUR enum upk_err upk_bundle_chunk_decode(struct upk_bundle_decoder *d,
					     enum upk_bundle_codec codec,
					     const struct upk_bundle_chunk *ch, const uint8_t *in,
					     size_t in_len, uint8_t *out, size_t out_cap,
					     struct upk_diag *reterr_diag);

/* ---- the release side's building blocks ---- */

/* Default chunking (block-cdc, UPK_BUNDLE_CDC_*). */
void upk_bundle_chunking_default(struct upk_bundle_chunking *ret);
/*
 * Fixed-size chunking of `size` bytes (a multiple of 4096 in [4096,
 * UPK_BUNDLE_MAX_CHUNK], else UPK_E_USAGE).
 */
UPK_WUR enum upk_err upk_bundle_chunking_fixed(uint32_t size, struct upk_bundle_chunking *ret,
					       struct upk_diag *reterr_diag);

/*
 * The chunker: the length of the chunk that starts at data[0], given the
 * next `len` bytes of the component and whether they reach its end (eof).
 * Returns 0 when it needs more bytes: !eof and len < p->max. The cut for
 * block-cdc is FORMAT.md's rule (a hash of each `block`-byte block), so a
 * device can chunk its own storage the same way to find chunks it has.
 */
size_t upk_bundle_chunk_cut(const struct upk_bundle_chunking *p, const uint8_t *data, size_t len,
			    bool eof);

/* Index bytes: the 16-byte head and one 40-byte entry (csize 0 = stored raw). */
void upk_bundle_index_put_head(uint8_t out[UPK_BUNDLE_INDEX_HEAD], uint32_t count);
void upk_bundle_index_put_entry(uint8_t out[UPK_BUNDLE_INDEX_ENTRY], uint32_t size, uint32_t csize,
				const uint8_t sha256[UPK_SHA256_LEN]);

/* Where every member goes (FORMAT.md "Layout"). */
struct upk_bundle_layout {
	uint64_t manifest_offset; /* always 512 */
	uint64_t index_offset[UPK_BUNDLE_MAX_COMPONENTS];
	uint64_t data_offset[UPK_BUNDLE_MAX_COMPONENTS];
	uint64_t sbom_offset; /* 0 without SBOM */
	uint64_t header_length;
	uint64_t file_length;
};

/*
 * Compute the layout of n components (1..UPK_BUNDLE_MAX_COMPONENTS) from
 * the member sizes (sbom_len 0: no SBOM member). UPK_E_TOO_LARGE when a
 * member exceeds UPK_BUNDLE_MAX_MEMBER or an offset overflows.
 */
UPK_WUR enum upk_err upk_bundle_layout_compute(uint64_t manifest_len, size_t n,
					       const uint64_t *index_len, const uint64_t *data_len,
					       uint64_t sbom_len, struct upk_bundle_layout *ret,
					       struct upk_diag *reterr_diag);

/*
 * Check a ustar header block: magic "ustar\0" "00", the checksum, type
 * regular file, an empty prefix, the name equal to expect_name and the
 * size a valid octal number (returned in *ret_size).
 */
UPK_WUR enum upk_err upk_bundle_tar_check(const uint8_t block[UPK_BUNDLE_TAR_BLOCK],
					  const char *expect_name, uint64_t *ret_size,
					  struct upk_diag *reterr_diag);

/* Component, product and hardware names (FORMAT.md "Names"). */
bool upk_bundle_name_is_valid(const char *name);
/* FORMAT.md's hardware ids: a name's characters plus ':' and '+' ("imx8mp:rev-b"). */
bool upk_bundle_hardware_is_valid(const char *s);

/*
 * A requirement from its command-line form "SUBJECT OP VERSION" without
 * spaces ("firmware>=2.0.0", "abi:onnxruntime>=1.16.0", "model:det<3.0.0"),
 * as its JSON object {"subject", "op", "version"}. UPK_E_USAGE if malformed.
 */
UPK_WUR enum upk_err upk_bundle_requirement_parse(const char *expr, json_t **ret,
						  struct upk_diag *reterr_diag);

/*
 * An advisory file (JSON object {"summary", "cves", "severity", "action"}),
 * checked with the manifest's rules; *ret a new reference. UPK_E_USAGE when
 * invalid (it is the release engineer's input).
 */
UPK_WUR enum upk_err upk_bundle_advisory_parse(const uint8_t *data, size_t len, json_t **ret,
					       struct upk_diag *reterr_diag);

/* Names used in JSON and output. */
const char *upk_bundle_kind_name(enum upk_bundle_kind k);
const char *upk_bundle_ctype_name(enum upk_bundle_ctype t);
const char *upk_bundle_codec_name(enum upk_bundle_codec c);
const char *upk_bundle_chunker_name(enum upk_bundle_chunker c);
const char *upk_bundle_op_name(enum upk_bundle_op op);
const char *upk_bundle_severity_name(enum upk_bundle_severity s);
/* Parse a kind name; false if unknown. */
bool upk_bundle_kind_from_name(const char *s, enum upk_bundle_kind *ret);
