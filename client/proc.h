/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Running the device maker's commands (health check, model self-test, boot
 * script, reboot) and the bootloader tools (fw_printenv/fw_setenv,
 * grub-editenv), with a time limit.
 *
 * A command string is run as `/bin/sh -c COMMAND` (the configuration holds
 * shell commands, as RAUC's handlers and Mender's state scripts do); an
 * argument vector is exec'd directly (execvp, PATH search) with no shell.
 * Either way the child gets its own process group, stdin from /dev/null,
 * stderr inherited, the given extra environment variables, and every other
 * descriptor closed (O_CLOEXEC everywhere). When the time limit passes, the
 * whole process group gets SIGKILL and the result is UPK_E_TIMEOUT. When the
 * command ends, what it left running in its process group is killed as well:
 * a command leaves no background process behind.
 *
 * THREAD SAFETY: reentrant, but children are reaped with waitpid on their
 * pid only; SIGCHLD must not be ignored by the caller.
 */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"

struct upkc_proc_opts {
	int64_t timeout_ms;	/* > 0 */
	const char *const *env; /* NULL or NULL-terminated "NAME=value" added to environ */
	struct upk_buf *out;	/* NULL: stdout inherited; else captured here */
	size_t out_max;		/* with out: more output is UPK_E_TOO_LARGE */
	const char *what;	/* for messages: "health check", "fw_setenv" */
};

/*
 * Run argv (argv[0] searched in PATH). *ret_status is the exit status
 * (0..255), or 128+N if the child died of signal N. Errors: UPK_E_TIMEOUT
 * (killed at the limit), UPK_E_IO (cannot start: the diag names argv[0] and
 * errno), UPK_E_TOO_LARGE (output over out_max; the child is killed).
 * A non-zero exit status is not an error here: the caller decides.
 */
UPK_WUR enum upk_err upkc_proc_run(const char *const *argv, const struct upkc_proc_opts *o,
				   int *ret_status, struct upk_diag *reterr_diag);

/* Run `/bin/sh -c command` the same way. */
UPK_WUR enum upk_err upkc_proc_shell(const char *command, const struct upkc_proc_opts *o,
				     int *ret_status, struct upk_diag *reterr_diag);
