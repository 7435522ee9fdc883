/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Differential fuzzing of the one-pass canonicalizer (jcanon.h) against the
 * two-step path it replaces, upk_json_parse + upk_json_canonical, with the
 * product's limit (1 MB). abort() when they disagree on the decision or, on
 * success, on a single byte; out-of-memory on either side is not a verdict.
 * Also: the output goes after bytes already in the buffer and leaves them
 * alone; a failure restores the buffer's length; the output is never longer
 * than the input.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jcanon.h"
#include "json.h"

#define FUZZ_MAX_JSON (1024u * 1024u)
#define PREFIX	      "pre"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_json_ json_t *v = NULL;
	_cleanup_buf_ struct upk_buf want = UPK_BUF_INIT;
	_cleanup_buf_ struct upk_buf got = UPK_BUF_INIT;
	struct upk_diag d;
	enum upk_err r1, r2;

	if (upk_buf_append_str(&got, PREFIX) != UPK_OK)
		return 0;
	upk_diag_clear(&d);
	r1 = upk_json_parse(data, size, FUZZ_MAX_JSON, &v, NULL);
	if (r1 == UPK_OK)
		r1 = upk_json_canonical(v, &want, NULL);
	r2 = upk_json_canonicalize(data, size, FUZZ_MAX_JSON, &got, &d);
	if (r1 == UPK_E_NOMEM || r2 == UPK_E_NOMEM)
		return 0;
	if (r1 != r2 || d.err != r2 || memcmp(got.data, PREFIX, strlen(PREFIX)) != 0)
		abort();
	if (r2 != UPK_OK) {
		if (got.len != strlen(PREFIX) || got.data[got.len] != 0 || !d.reason[0])
			abort();
		if (r2 == UPK_E_FORMAT && (d.offset < 0 || (size_t)d.offset > size))
			abort();
		return 0;
	}
	if (got.len - strlen(PREFIX) != want.len || want.len > size ||
	    memcmp(got.data + strlen(PREFIX), want.data, want.len) != 0 || got.data[got.len] != 0)
		abort();
	return 0;
}
