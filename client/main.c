/* SPDX-License-Identifier: Apache-2.0 */
/* upkeep-client: the device agent (CLI.md). */
#include "agent.h"
#include "cli.h"
#include "cmd.h"
#include "util.h"

static const struct upk_cli_command commands[] = {
	{ "refresh", upkc_cmd_refresh, "update the trusted TUF metadata" },
	{ "check", upkc_agent_check, "say which release is available and whether it applies" },
	{ "install", upkc_agent_install, "verify a release, write the inactive slot, arm a trial" },
	{ "boot", upkc_agent_boot, "at every boot: health check, then commit or roll back" },
	{ "commit", upkc_agent_commit, "commit the trial in progress by hand" },
	{ "rollback", upkc_agent_rollback, "roll the trial in progress back by hand" },
	{ "status", upkc_agent_status, "slots, versions, floors, trial, models, support end" },
	{ "run", upkc_agent_run, "the agent: poll, apply the policy, install" },
	{ "postpone", upkc_agent_postpone,
	  "put automatic installs off, within [policy] postpone_max" },
	{ "tuf", upkc_cmd_tuf, "bare TUF 1.0 client workflow (conformance protocol)" },
};

int main(int argc, char **argv)
{
	static const struct upk_cli_program prog = {
		.name = "upkeep-client",
		.version = UPKEEP_VERSION,
		.purpose = "Verify and install updates from a TUF 1.0 repository.",
		.epilog =
			"Exit codes are those of CLI.md (0 ok, 1 I/O, 2 usage, 3 transient, 10-16 "
			"verification); 'tuf' exits 0 or 1 only.\n",
		.commands = commands,
		.n_commands = UPK_ARRAY_SIZE(commands),
	};

	return upk_cli_dispatch(&prog, argc, argv);
}
