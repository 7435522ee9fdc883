/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The commands of upkeep-server (CLI.md). Each parses its own options
 * (argv[0] is the command name), handles --help, and returns the process
 * exit code of CLI.md.
 */
int upks_cmd_serve(int argc, char **argv);
/* bundle create | info (cmd_bundle.c, common/FORMAT.md). */
int upks_cmd_bundle(int argc, char **argv);
/* Repository commands (cmd_repo.c, upkeep-server.1.md). */
int upks_cmd_init(int argc, char **argv);
int upks_cmd_publish(int argc, char **argv);
int upks_cmd_delegate(int argc, char **argv);
int upks_cmd_rotate(int argc, char **argv);
int upks_cmd_yank(int argc, char **argv);
int upks_cmd_refresh(int argc, char **argv);
int upks_cmd_verify(int argc, char **argv);
