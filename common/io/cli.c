/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

int upk_cli_report(const char *prog, const struct upk_diag *diag)
{
	char line[700];

	upk_diag_format(diag, line, sizeof(line));
	fprintf(stderr, "%s: %s\n", prog, line);
	return upk_err_exit_code(diag->err);
}

int upk_cli_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (USAGE); try '%s --help'\n", prog);
	return upk_err_exit_code(UPK_E_USAGE);
}
