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
