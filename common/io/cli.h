/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Shared command-line conventions of the three programs (CLI.md): one-line
 * errors "<program>: <file or URL>: <cause> (<ERROR_NAME>)" on stderr and the
 * exit code that goes with the error.
 */
#include <stddef.h>

#include "err.h"

/* Print diag as the CLI.md error line for `prog`; return its exit code. */
int upk_cli_report(const char *prog, const struct upk_diag *diag);

/* Report a usage error ("<prog>: <message> (USAGE)", hint to --help); returns 2. */
int upk_cli_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One subcommand of a program: its name, entry point (argv[0] = name) and help line. */
struct upk_cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* What a program's main hands to upk_cli_dispatch. */
struct upk_cli_program {
	const char *name;    /* "upkeep-server" */
	const char *version; /* printed by --version */
	const char *purpose; /* one line under the usage line */
	const char *epilog;  /* text after the command list (exit codes...) */
	const struct upk_cli_command *commands;
	size_t n_commands;
};

/*
 * The common main of the three programs: `--help`/`-h`/`help` print the
 * usage with the command list (exit 0), `--version` the version, a known
 * command runs with argv shifted, anything else is a usage error (exit 2).
 */
int upk_cli_dispatch(const struct upk_cli_program *prog, int argc, char **argv);
