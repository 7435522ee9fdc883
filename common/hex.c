/* SPDX-License-Identifier: Apache-2.0 */
#include "hex.h"

#include <string.h>

static const char hex_digits[] = "0123456789abcdef";

void upk_hex_encode(const uint8_t *data, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex_digits[data[i] >> 4];
		out[2 * i + 1] = hex_digits[data[i] & 0xf];
	}
	out[2 * len] = 0;
}

int upk_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum upk_err upk_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t outcap,
			    size_t *ret_len)
{
	if (hexlen % 2)
		return UPK_E_FORMAT;
	for (size_t i = 0; i < hexlen; i++) {
		if (upk_hex_digit(hex[i]) < 0)
			return UPK_E_FORMAT;
	}
	if (hexlen / 2 > outcap)
		return UPK_E_TOO_LARGE;
	for (size_t i = 0; i < hexlen / 2; i++)
		out[i] = (uint8_t)(upk_hex_digit(hex[2 * i]) << 4 | upk_hex_digit(hex[2 * i + 1]));
	if (ret_len)
		*ret_len = hexlen / 2;
	return UPK_OK;
}

bool upk_hex_is_valid(const char *s, size_t digits)
{
	size_t n = strlen(s);

	if (digits ? n != digits : (n == 0 || n % 2))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}
