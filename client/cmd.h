/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The commands of upkeep-client (CLI.md). Each parses its own options
 * (argv[0] is the command name), handles --help, and returns the process
 * exit code.
 */

/*
 * `upkeep-client tuf`: the bare TUF 1.0 client workflow in the command-line
 * form of the TUF conformance suite (init, refresh, download). Exit code 0
 * on full success and exactly 1 on any failure, usage errors included, as
 * that protocol requires.
 */
int upkc_cmd_tuf(int argc, char **argv);

/*
 * `upkeep-client refresh`: update the trusted TUF metadata with the
 * device's configuration (upkeep-client.conf(5)) and time floor; CLI.md
 * exit codes (2 configuration, 3 network, 10-13 verification).
 */
int upkc_cmd_refresh(int argc, char **argv);
