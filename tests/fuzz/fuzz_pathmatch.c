/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz PATHPATTERN matching (common/delegation.c), which reads patterns from
 * delegating metadata. Input: PATTERN NUL PATH. Properties, abort() on
 * violation:
 *  - a pattern without wildcards matches exactly the path equal to it
 *    (when that path is valid UTF-8);
 *  - any path matches itself with "*" put in front of each segment;
 *  - "*" matches a valid UTF-8 path of one segment, never one with a '/'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "delegation.h"

#define FUZZ_MAX_INPUT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_wildcard(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *pattern, *path, *starred;
	size_t plen, n = 0;
	bool self;

	if (size > FUZZ_MAX_INPUT)
		return 0;
	buf = calloc(1, size + 2);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	pattern = buf;
	plen = strlen(pattern);
	path = plen < size ? buf + plen + 1 : buf + size + 1;

	(void)upk_deleg_path_match(pattern, path);
	self = upk_deleg_path_match(path, path);
	if (!has_wildcard(path) && upk_deleg_path_match(pattern, path) && !has_wildcard(pattern) &&
	    strcmp(pattern, path) != 0)
		abort();
	/* "*" before every segment: matches whatever the path matches itself. */
	starred = calloc(1, 2 * strlen(path) + 2);
	if (!starred) {
		free(buf);
		return 0;
	}
	starred[n++] = '*';
	for (const char *p = path; *p; p++) {
		starred[n++] = *p;
		if (*p == '/')
			starred[n++] = '*';
	}
	if (self && !has_wildcard(path) && !upk_deleg_path_match(starred, path))
		abort();
	if (self && !has_wildcard(path) &&
	    upk_deleg_path_match("*", path) != (strchr(path, '/') == NULL))
		abort();
	free(starred);
	free(buf);
	return 0;
}
