/* SPDX-License-Identifier: Apache-2.0 */
/* Kill points of the crash-test harness (client/failpoint.h). */
#include "failpoint.h"

#ifndef NDEBUG
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static long count;

void upkc_failpoint(const char *name)
{
	const char *target = getenv("UPKEEP_FAILPOINT");
	const char *trace = getenv("UPKEEP_FAILPOINT_TRACE");
	long n = ++count;

	if (trace && *trace) {
		char line[160];
		int len = snprintf(line, sizeof(line), "%ld %s\n", n, name);
		int fd = open(trace, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

		if (fd >= 0) {
			if (len > 0 && write(fd, line, (size_t)len) < 0)
				(void)errno;
			close(fd);
		}
	}
	if (target && *target) {
		char *end;
		long want;

		errno = 0;
		want = strtol(target, &end, 10);
		if (!errno && !*end && want == n)
			raise(SIGKILL);
	}
}
#endif
