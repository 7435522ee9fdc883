/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The commands of upkeep-server (CLI.md). Each parses its own options
 * (argv[0] is the command name), handles --help, and returns the process
 * exit code of CLI.md.
 */
int upks_cmd_serve(int argc, char **argv);
