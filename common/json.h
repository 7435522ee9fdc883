/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * JSON for TUF metadata: strict parsing and canonical encoding.
 *
 * Parsing goes through jansson with duplicate object keys rejected, a size
 * limit checked before anything is allocated, a nesting-depth limit checked
 * by a pre-scan (before jansson recurses), and no floating-point numbers
 * anywhere (TUF metadata is signed over canonical JSON, which has none).
 *
 * Canonical JSON is the OLPC form securesystemslib's encode_canonical()
 * produces and TUF signs: object keys sorted by their UTF-8 bytes, no
 * whitespace, strings with only `"` and `\` escaped (every other byte,
 * control characters included, raw), integers in decimal, true/false/null.
 * Reals cannot be encoded (UPK_E_FORMAT).
 *
 * THREAD SAFETY: reentrant; jansson objects are not shared across threads.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "util.h"

/* Deepest nesting of arrays/objects accepted (TUF metadata needs about 6). */
#define UPK_JSON_MAX_DEPTH 64

/*
 * Length of the valid UTF-8 sequence at s[0] (a byte >= 0x80, avail bytes
 * readable), 0 if it is not one: overlong forms, surrogates and code points
 * above U+10FFFF are invalid (RFC 3629), as in jansson and Python.
 */
size_t upk_utf8_seq_len(const uint8_t *s, size_t avail);

/*
 * Parse `len` bytes as one JSON object or array. Fails before allocating with
 * UPK_E_TOO_LARGE if len > max_len. UPK_E_FORMAT for syntax errors, duplicate
 * keys, depth over UPK_JSON_MAX_DEPTH, reals, NUL in strings, invalid UTF-8,
 * trailing data; diag gets the reason and the byte offset (jansson's, which
 * points just past the offending token; -1 for reals, whose diag->where is
 * their path instead). UPK_E_NOMEM when jansson runs out of memory (it
 * reports a few allocation failures as syntax errors: those stay FORMAT).
 * On success *ret holds a new reference the caller owns; on failure *ret is
 * untouched.
 */
UPK_WUR enum upk_err upk_json_parse(const uint8_t *data, size_t len, size_t max_len, json_t **ret,
				    struct upk_diag *reterr_diag);

/*
 * Append the canonical encoding of v to out. UPK_E_FORMAT (with the path of
 * the offending value in diag->where, e.g. "signed.meta.x" or "a[1].b",
 * "(top level)" for v itself) if v holds a real, nests deeper than
 * UPK_JSON_MAX_DEPTH (trees built in memory are not pre-scanned), or holds a
 * string or key that is not valid UTF-8 (json_stringn_nocheck). Strings and
 * keys with NUL bytes (json_stringn, json_object_setn) are encoded raw, as
 * securesystemslib does. UPK_E_NOMEM if out cannot grow. On any failure out
 * is restored to its length on entry. Recursion is bounded by the depth
 * limit; time is O(n log n) in the number of keys per object.
 */
UPK_WUR enum upk_err upk_json_canonical(const json_t *v, struct upk_buf *out,
					struct upk_diag *reterr_diag);

/*
 * Append a readable serialization (sorted keys, indent 1, UTF-8 kept) with a
 * trailing newline. Used for files on disk; signatures never cover it.
 * UPK_E_FORMAT if v nests deeper than UPK_JSON_MAX_DEPTH or jansson cannot
 * encode it; UPK_E_NOMEM if out cannot grow; out keeps its length then.
 */
UPK_WUR enum upk_err upk_json_serialize(const json_t *v, struct upk_buf *out);

/*
 * Typed member access for parsers. Each fails with UPK_E_FORMAT and
 * diag->where = key when the member is missing or has the wrong type (or
 * obj is not an object); *ret untouched on failure. Returned pointers borrow
 * from obj. null is never accepted as a value of any type.
 */
UPK_WUR enum upk_err upk_json_get_str(const json_t *obj, const char *key, const char **ret,
				      struct upk_diag *reterr_diag);
/* Integer member in [min, max]. */
UPK_WUR enum upk_err upk_json_get_int(const json_t *obj, const char *key, int64_t min, int64_t max,
				      int64_t *ret, struct upk_diag *reterr_diag);
UPK_WUR enum upk_err upk_json_get_bool(const json_t *obj, const char *key, bool *ret,
				       struct upk_diag *reterr_diag);
UPK_WUR enum upk_err upk_json_get_obj(const json_t *obj, const char *key, json_t **ret,
				      struct upk_diag *reterr_diag);
UPK_WUR enum upk_err upk_json_get_arr(const json_t *obj, const char *key, json_t **ret,
				      struct upk_diag *reterr_diag);

static inline void upk_json_decrefp(json_t **p)
{
	if (*p)
		json_decref(*p);
}
#define _cleanup_json_ _cleanup_(upk_json_decrefp)
