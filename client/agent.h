/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The device agent (CLI.md "upkeep-client", DESIGN.md "Device model"):
 * install into the inactive slot, trial boot, health check, commit or
 * rollback, the model store, and the device state, on top of the TUF
 * session (client/session.h), the bundle pipeline (client/install.h), the
 * boot backends (client/boot.h), the model store (client/models.h) and the
 * state file (client/state.h).
 *
 * Files in [device] state_dir:
 *   device.json      the device state (client/state.h), replaced atomically
 *   lock             flock'ed by every agent command for its whole run
 *   log              the event log: one JSON object per line, appended and
 *                    fdatasync'ed (installs, commits, rollbacks, refusals)
 *   install-*.journal  resume journals of the install in progress
 *   postpone         "since S\nuntil U\n": automatic installs put off by the
 *                    user, bounded by [policy] postpone_max
 *   metadata/, time-floor   the TUF session's
 *
 * Order of writes (each one atomic, so a power cut between any two leaves a
 * device that boots a verified image and can update again; tests/crash/
 * kills the agent at every step):
 *   install: components written and read back -> state "staged" -> boot
 *            state armed (next boot: new slot, in trial) -> state "armed"
 *   commit:  boot state "new slot good" -> state committed (floors raised)
 *   rollback: models reverted -> boot state "old slot good" -> state "bad"
 * and `boot` reconciles whatever it finds: a trial slot that did not boot
 * (the bootloader fell back, or the trial was never armed) is rolled back
 * in the state, a trial slot that booted gets its health check again.
 *
 * Every command returns a CLI.md exit code.
 */

int upkc_agent_install(int argc, char **argv);
int upkc_agent_boot(int argc, char **argv);
int upkc_agent_commit(int argc, char **argv);
int upkc_agent_rollback(int argc, char **argv);
int upkc_agent_status(int argc, char **argv);
int upkc_agent_check(int argc, char **argv);
int upkc_agent_run(int argc, char **argv);
int upkc_agent_postpone(int argc, char **argv);
