/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

static void cli_usage(const struct upk_cli_program *prog, FILE *f)
{
	fprintf(f, "Usage: %s COMMAND [OPTIONS]\n\n%s\n\nCommands:\n", prog->name, prog->purpose);
	for (size_t i = 0; i < prog->n_commands; i++)
		fprintf(f, "  %-10s %s\n", prog->commands[i].name, prog->commands[i].summary);
	fprintf(f, "\nRun '%s COMMAND --help' for a command's options.\n%s", prog->name,
		prog->epilog ? prog->epilog : "");
}

int upk_cli_dispatch(const struct upk_cli_program *prog, int argc, char **argv)
{
	if (argc < 2) {
		cli_usage(prog, stderr);
		return upk_err_exit_code(UPK_E_USAGE);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		cli_usage(prog, stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", prog->name, prog->version);
		return 0;
	}
	for (size_t i = 0; i < prog->n_commands; i++) {
		if (!strcmp(argv[1], prog->commands[i].name))
			return prog->commands[i].run(argc - 1, argv + 1);
	}
	return upk_cli_usage_error(prog->name, "unknown command '%s'", argv[1]);
}
