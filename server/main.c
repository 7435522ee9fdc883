/* SPDX-License-Identifier: Apache-2.0 */
/* upkeep-server: the release commands and the repository server (CLI.md). */
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
	{ "init", upks_cmd_init, "create a repository (root, targets, snapshot, timestamp)" },
	{ "publish", upks_cmd_publish, "add or replace targets and sign a new version" },
	{ "delegate", upks_cmd_delegate, "add or change a delegated targets role" },
	{ "rotate", upks_cmd_rotate, "change the keys or threshold of a role" },
	{ "yank", upks_cmd_yank, "remove targets from the metadata" },
	{ "refresh", upks_cmd_refresh, "re-sign snapshot and timestamp (online keys)" },
	{ "verify", upks_cmd_verify, "check the whole repository offline, as a client would" },
	{ "serve", upks_cmd_serve, "serve the repository over HTTP (Range, ETag, HEAD)" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: upkeep-server COMMAND [OPTIONS]\n\n"
		   "Sign, publish and serve a TUF 1.0 update repository.\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'upkeep-server COMMAND --help' for a command's options.\n"
		   "Exit codes are those of CLI.md (0 ok, 1 I/O, 2 usage, 3 transient, 10-16 "
		   "verification).\n");
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
		printf("upkeep-server %s\n", UPKEEP_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	return upk_cli_usage_error("upkeep-server", "unknown command '%s'", argv[1]);
}
