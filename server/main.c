/* SPDX-License-Identifier: Apache-2.0 */
/* upkeep-server: the release commands and the repository server (CLI.md). */
#include "cli.h"
#include "cmd.h"
#include "util.h"

static const struct upk_cli_command commands[] = {
	{ "init", upks_cmd_init, "create a repository (root, targets, snapshot, timestamp)" },
	{ "bundle", upks_cmd_bundle, "create or inspect a release bundle (FILE.upk)" },
	{ "publish", upks_cmd_publish, "add or replace targets and sign a new version" },
	{ "delegate", upks_cmd_delegate, "add or change a delegated targets role" },
	{ "rotate", upks_cmd_rotate, "change the keys or threshold of a role" },
	{ "yank", upks_cmd_yank, "remove targets from the metadata" },
	{ "refresh", upks_cmd_refresh, "re-sign snapshot and timestamp (online keys)" },
	{ "verify", upks_cmd_verify, "check the whole repository offline, as a client would" },
	{ "serve", upks_cmd_serve, "serve the repository over HTTP (Range, ETag, HEAD)" },
};

int main(int argc, char **argv)
{
	static const struct upk_cli_program prog = {
		.name = "upkeep-server",
		.version = UPKEEP_VERSION,
		.purpose = "Sign, publish and serve a TUF 1.0 update repository.",
		.epilog =
			"Exit codes are those of CLI.md (0 ok, 1 I/O, 2 usage, 3 transient, 10-16 "
			"verification).\n",
		.commands = commands,
		.n_commands = UPK_ARRAY_SIZE(commands),
	};

	return upk_cli_dispatch(&prog, argc, argv);
}
