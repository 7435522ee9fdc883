/* SPDX-License-Identifier: Apache-2.0 */
/* upkeep-client: the device agent (CLI.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "refresh", upkc_cmd_refresh, "update the trusted TUF metadata" },
	{ "tuf", upkc_cmd_tuf, "bare TUF 1.0 client workflow (conformance protocol)" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: upkeep-client COMMAND [OPTIONS]\n\n"
		   "Verify and install updates from a TUF 1.0 repository.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'upkeep-client COMMAND --help' for a command's options.\n"
		   "Exit codes are those of CLI.md (0 ok, 1 I/O, 2 usage, 3 transient, 10-16 "
		   "verification); 'tuf' exits 0 or 1 only.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("upkeep-client %s\n", UPKEEP_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	return upk_cli_usage_error("upkeep-client", "unknown command '%s'", argv[1]);
}
