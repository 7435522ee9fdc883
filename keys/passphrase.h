/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Passphrases for encrypted key files, from the sources CLI.md names: a
 * passphrase file (its first line, without "\n" or "\r\n"), an environment
 * variable, or a prompt on the terminal with echo off. Shared by upkeep-keys
 * and the upkeep-server release commands.
 *
 * The passphrase lives in sodium_malloc'd memory (guard pages, wiped when
 * freed by upkk_passphrase_done). A file is read no further than its first
 * newline, so `--passphrase-file <(...)` pipes work. A prompt restores the
 * terminal's settings even when a signal ends the process mid-prompt.
 *
 * THREAD SAFETY: the prompt is not reentrant (one terminal, one saved state).
 */
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "util.h"

/* Longest passphrase accepted from any source. */
#define UPKK_PASSPHRASE_MAX 4096

struct upkk_passphrase {
	char *data; /* UPKK_PASSPHRASE_MAX + 1 bytes of secure memory, or NULL */
	size_t len;
	bool have; /* a passphrase was read */
};

/* Wipe and free; the struct is empty afterwards. Accepts an empty struct. */
void upkk_passphrase_done(struct upkk_passphrase *p);
#define _cleanup_passphrase_ _cleanup_(upkk_passphrase_done)

/* The first line of path. UPK_E_USAGE if it is missing or too long. */
UPK_WUR enum upk_err upkk_passphrase_from_file(const char *path, struct upkk_passphrase *p,
					       struct upk_diag *reterr_diag);

/* The value of environment variable var; UPK_OK with p->have false if unset. */
UPK_WUR enum upk_err upkk_passphrase_from_env(const char *var, struct upkk_passphrase *p,
					      struct upk_diag *reterr_diag);

/* Write prompt on /dev/tty and read one line with echo off. */
UPK_WUR enum upk_err upkk_passphrase_prompt(const char *prompt, struct upkk_passphrase *p,
					    struct upk_diag *reterr_diag);

/* True if both hold the same passphrase (constant time in the length). */
bool upkk_passphrase_equal(const struct upkk_passphrase *a, const struct upkk_passphrase *b);
