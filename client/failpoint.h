/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Kill points for the crash-test harness (tests/crash/): in builds without
 * NDEBUG (every build but Release), each call of upkc_failpoint() is one
 * step boundary of an install or a boot. With UPKEEP_FAILPOINT=N in the
 * environment, the N-th call kills the process with SIGKILL (what a power
 * cut does to a process: no cleanup, no atexit, no buffered output);
 * with UPKEEP_FAILPOINT_TRACE=FILE, each call appends "N NAME\n" to FILE
 * (so the harness knows how many kill points a run has, and their names).
 * Release builds compile the calls away.
 */
#ifdef NDEBUG
static inline void upkc_failpoint(const char *name)
{
	(void)name;
}
#else
void upkc_failpoint(const char *name);
#endif
