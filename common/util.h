/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Small helpers shared by every part: cleanup attributes (systemd/casync
 * habit), array sizes, and overflow-checked size arithmetic.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define _cleanup_(f)	  __attribute__((cleanup(f)))
#define UPK_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline void upk_freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(upk_freep)

/* Defines `static inline void name##p(type **p)` calling func(*p) if non-NULL. */
#define UPK_DEFINE_CLEANUP(type, func)       \
	static inline void func##p(type **p) \
	{                                    \
		if (*p)                      \
			func(*p);            \
	}

/* Returns false on overflow; *ret untouched then. */
static inline bool upk_size_add(size_t a, size_t b, size_t *ret)
{
	size_t r;

	if (__builtin_add_overflow(a, b, &r))
		return false;
	*ret = r;
	return true;
}

static inline bool upk_size_mul(size_t a, size_t b, size_t *ret)
{
	size_t r;

	if (__builtin_mul_overflow(a, b, &r))
		return false;
	*ret = r;
	return true;
}
