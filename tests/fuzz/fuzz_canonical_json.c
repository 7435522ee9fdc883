/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz the strict JSON parser and the canonical encoder with the product's
 * limit (1 MB, the largest metadata a client accepts without a length from
 * signed metadata). Properties, abort() on violation:
 *  - whatever upk_json_parse accepts, upk_json_canonical encodes (no reals,
 *    depth bounded);
 *  - canonical output is not always JSON (control characters stay raw), but
 *    when it parses it is the same value and canonicalizes to the same bytes;
 *  - the readable serialization always parses back to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define FUZZ_MAX_JSON (1024u * 1024u)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	_cleanup_json_ json_t *v = NULL;
	_cleanup_json_ json_t *again = NULL;
	_cleanup_json_ json_t *readable = NULL;
	_cleanup_buf_ struct upk_buf canon = UPK_BUF_INIT;
	_cleanup_buf_ struct upk_buf canon2 = UPK_BUF_INIT;
	_cleanup_buf_ struct upk_buf text = UPK_BUF_INIT;
	struct upk_diag d;
	enum upk_err r;

	upk_diag_clear(&d);
	r = upk_json_parse(data, size, FUZZ_MAX_JSON, &v, &d);
	if (r != UPK_OK) {
		if (v || d.err != r || (r != UPK_E_FORMAT && r != UPK_E_TOO_LARGE))
			abort();
		return 0;
	}
	if (!json_is_object(v) && !json_is_array(v))
		abort();
	if (upk_json_canonical(v, &canon, &d) != UPK_OK)
		abort();

	/* Canonical output is never longer than the input it came from. */
	if (canon.len > size)
		abort();
	if (upk_json_parse(canon.data, canon.len, SIZE_MAX, &again, NULL) == UPK_OK) {
		if (!json_equal(v, again))
			abort();
		if (upk_json_canonical(again, &canon2, NULL) != UPK_OK)
			abort();
		if (canon2.len != canon.len || memcmp(canon2.data, canon.data, canon.len) != 0)
			abort();
	}

	if (upk_json_serialize(v, &text) != UPK_OK)
		abort();
	if (text.len == 0 || text.data[text.len - 1] != '\n')
		abort();
	if (upk_json_parse(text.data, text.len, SIZE_MAX, &readable, NULL) != UPK_OK)
		abort();
	if (!json_equal(v, readable))
		abort();
	return 0;
}
