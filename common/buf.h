/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * A growable byte buffer. The buffer owns `data` (malloc'd); it is always
 * NUL-terminated past `len` when non-empty, so text can be used as a C
 * string. A failed append leaves the buffer as it was.
 *
 * Stack objects: struct upk_buf b = UPK_BUF_INIT; ... upk_buf_done(&b);
 */
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "util.h"

struct upk_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

#define UPK_BUF_INIT       \
	{                  \
		NULL, 0, 0 \
	}

void upk_buf_init(struct upk_buf *b);
/* Frees the data; the buffer is empty and reusable afterwards. */
void upk_buf_done(struct upk_buf *b);
/* Ensure room for `extra` more bytes (plus the NUL). */
UPK_WUR enum upk_err upk_buf_reserve(struct upk_buf *b, size_t extra);
UPK_WUR enum upk_err upk_buf_append(struct upk_buf *b, const void *data, size_t len);
UPK_WUR enum upk_err upk_buf_append_str(struct upk_buf *b, const char *s);
UPK_WUR enum upk_err upk_buf_append_byte(struct upk_buf *b, uint8_t c);
UPK_WUR enum upk_err upk_buf_printf(struct upk_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hand the data over to the caller (who frees it) and reset the buffer. */
uint8_t *upk_buf_steal(struct upk_buf *b, size_t *ret_len);

static inline void upk_buf_donep(struct upk_buf *b)
{
	upk_buf_done(b);
}
#define _cleanup_buf_ _cleanup_(upk_buf_donep)
