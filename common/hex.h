/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/* Lower-case hexadecimal encoding, as TUF writes hashes, key ids and signatures. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Writes 2*len hex digits and a NUL into out (size >= 2*len+1). */
void upk_hex_encode(const uint8_t *data, size_t len, char *out);

/*
 * Decode `hexlen` digits (either case) into out. Fails with UPK_E_FORMAT on
 * an odd length or a non-hex digit, UPK_E_TOO_LARGE if it would not fit in
 * outcap. out is untouched on failure.
 */
UPK_WUR enum upk_err upk_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outcap,
				    size_t *ret_len);

/* Value of one hex digit (either case), -1 for any other byte. */
int upk_hex_digit(int c);

/* True if s has exactly `digits` lower-case hex digits (digits 0 = any even count > 0). */
bool upk_hex_is_valid(const char *s, size_t digits);
