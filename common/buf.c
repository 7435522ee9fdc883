/* SPDX-License-Identifier: Apache-2.0 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void upk_buf_init(struct upk_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void upk_buf_done(struct upk_buf *b)
{
	free(b->data);
	upk_buf_init(b);
}

enum upk_err upk_buf_reserve(struct upk_buf *b, size_t extra)
{
	size_t need, cap;
	uint8_t *p;

	if (!upk_size_add(b->len, extra, &need) || !upk_size_add(need, 1, &need))
		return UPK_E_NOMEM;
	if (need <= b->cap)
		return UPK_OK;
	cap = b->cap ? b->cap : 64;
	while (cap < need) {
		if (!upk_size_mul(cap, 2, &cap))
			return UPK_E_NOMEM;
	}
	p = realloc(b->data, cap);
	if (!p)
		return UPK_E_NOMEM;
	b->data = p;
	b->cap = cap;
	return UPK_OK;
}

enum upk_err upk_buf_append(struct upk_buf *b, const void *data, size_t len)
{
	enum upk_err r = upk_buf_reserve(b, len);

	if (r)
		return r;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = 0;
	return UPK_OK;
}

enum upk_err upk_buf_append_str(struct upk_buf *b, const char *s)
{
	return upk_buf_append(b, s, strlen(s));
}

enum upk_err upk_buf_append_byte(struct upk_buf *b, uint8_t c)
{
	return upk_buf_append(b, &c, 1);
}

enum upk_err upk_buf_printf(struct upk_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;
	enum upk_err r;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return UPK_E_INTERNAL;
	r = upk_buf_reserve(b, (size_t)n);
	if (r)
		return r;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return UPK_OK;
}

uint8_t *upk_buf_steal(struct upk_buf *b, size_t *ret_len)
{
	uint8_t *p = b->data;

	if (ret_len)
		*ret_len = b->len;
	upk_buf_init(b);
	return p;
}
