/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * One-pass canonical JSON straight from the input bytes, with no tree.
 *
 * upk_json_canonicalize() is upk_json_parse() followed by upk_json_canonical()
 * (json.h) fused into one pass over the input: it accepts exactly the inputs
 * upk_json_parse accepts and appends exactly the bytes upk_json_canonical
 * produces for the parsed value. It exists because building jansson's tree
 * for a large targets.json only to re-encode it for a signature check costs
 * most of a client refresh's time and memory.
 *
 * The rules it enforces are jansson 2.14's as upk_json_parse configures it
 * (JSON_REJECT_DUPLICATES, no JSON_DECODE_ANY, no JSON_ALLOW_NUL) plus
 * json.c's own (depth, no reals), i.e. RFC 8259 with these restrictions:
 *  - the top level is an object or an array; nothing but whitespace
 *    (space, tab, LF, CR) may follow it; empty input and a UTF-8 BOM are
 *    rejected;
 *  - nesting deeper than UPK_JSON_MAX_DEPTH containers is rejected;
 *  - numbers must be integers in int64 range: any fraction or exponent, and
 *    any integer outside [INT64_MIN, INT64_MAX], is rejected;
 *  - strings are strict UTF-8 (no overlong forms, no encoded surrogates,
 *    nothing above U+10FFFF), hold no raw byte below 0x20, use only the
 *    escapes \" \\ \/ \b \f \n \r \t \uXXXX, pair \uD800-\uDBFF with a
 *    following \uDC00-\uDFFF escape (lone or mis-paired surrogate escapes
 *    are rejected), and never decode to NUL (\u0000 is rejected);
 *  - an object may not hold two keys that are equal after decoding escapes.
 *
 * Raw NUL bytes outside strings are refused (jansson 2.14 alone would skip
 * one right after a number or literal, `[1\0]`; upk_json_parse refuses it
 * too, by its pre-scan), so the two agree on every input.
 *
 * The canonical form (json.h): object keys sorted by their decoded UTF-8
 * bytes, no whitespace, strings with only `"` and `\` escaped (every other
 * byte raw, escapes decoded), integers in plain decimal ("-0" becomes "0"),
 * true/false/null.
 *
 * Finding a member in the output: canonical JSON is unambiguous to scan
 * (inside a string a `\` is always followed by `"` or `\`), so a caller can
 * locate the value of a top-level member itself, or use
 * upk_json_canonical_member() below.
 *
 * THREAD SAFETY: reentrant; no global state.
 */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "json.h"

/*
 * Validate data[0..len) exactly as upk_json_parse(data, len, max_len) does (but
 * for the NUL quirk above) and
 * append to out the bytes upk_json_canonical() would produce for the parsed
 * value, in one pass over data, with no tree.
 *
 * Errors, checked in this order:
 *  - UPK_E_TOO_LARGE if len > max_len, before anything is allocated;
 *  - UPK_E_NOMEM if out cannot grow by len bytes (reserved once, up front:
 *    the canonical form is never longer than its input) or the temporary
 *    copy needed to sort an unsorted object cannot be allocated;
 *  - UPK_E_FORMAT for every input upk_json_parse rejects (see the list at the
 *    top of this file); diag gets a reason and the byte offset in data of the
 *    problem (for a duplicate key in an object whose keys arrived unsorted:
 *    the offset of that object's `{`). Reasons and offsets need not match
 *    jansson's. diag->where is "".
 * data may be NULL when len is 0 (rejected as empty). On failure out keeps
 * its length on entry (its capacity may have grown); on success out->len
 * grew by at most len and out stays NUL-terminated.
 *
 * Cost: one pass over data, O(len) time when every object's keys arrive in
 * sorted order (what every TUF writer produces), with no memory beyond out
 * and the stack: the sort order and duplicate keys are checked against the
 * previous key as they arrive. An object whose keys arrive out of order is
 * sorted when it closes, in a temporary copy of its own encoded region plus
 * an array of its members (O(members) memory, O(m log m) comparisons), so
 * transient memory is that of one object at a time. Recursion is bounded by
 * UPK_JSON_MAX_DEPTH.
 */
UPK_WUR enum upk_err upk_json_canonicalize(const uint8_t *data, size_t len, size_t max_len,
					   struct upk_buf *out, struct upk_diag *reterr_diag);

/*
 * Locate the value of the top-level member `key` (decoded UTF-8, NUL-
 * terminated; NUL cannot occur in canonical keys) in canon[0..len), the
 * canonical encoding of an object as produced by upk_json_canonicalize() or
 * upk_json_canonical(). On success *ret_off and *ret_len delimit the value's
 * bytes (for "signed" in a TUF document: the bytes its signatures cover).
 * UPK_E_FORMAT if canon does not hold a canonical object, UPK_E_NOT_FOUND if
 * it has no such member; outputs untouched on failure. Reads never go past
 * canon[len - 1], whatever the bytes; it does not re-validate them.
 */
UPK_WUR enum upk_err upk_json_canonical_member(const uint8_t *canon, size_t len, const char *key,
					       size_t *ret_off, size_t *ret_len);
