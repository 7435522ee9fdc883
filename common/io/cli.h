/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Shared command-line conventions of the three programs (CLI.md): one-line
 * errors "<program>: <file or URL>: <cause> (<ERROR_NAME>)" on stderr and the
 * exit code that goes with the error.
 */
#include "err.h"

/* Print diag as the CLI.md error line for `prog`; return its exit code. */
int upk_cli_report(const char *prog, const struct upk_diag *diag);

/* Report a usage error ("<prog>: <message> (USAGE)", hint to --help); returns 2. */
int upk_cli_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
