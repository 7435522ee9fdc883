/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The option parser of the upkeep-server commands (table-driven, long
 * options only): `--name VALUE` or `--name=VALUE`, flags, repeatable lists
 * (greedy — `--hardware a b c` — in commands without operands), pairs
 * (`--name PATH FILE`), `--` to end options, `-h` as `--help`. Each command
 * defines its own option ids (small integers below UPKS_ARGS_MAX).
 *
 * Ownership: the parsed values borrow from argv; upks_args_done frees the
 * lists. THREAD SAFETY: reentrant.
 */
#include <stdbool.h>
#include <stddef.h>

#define UPKS_ARGS_MAX 64

enum upks_opt_kind {
	UPKS_OPT_FLAG,
	UPKS_OPT_VALUE, /* once */
	UPKS_OPT_LIST,	/* repeatable; greedy in commands without operands */
	UPKS_OPT_PAIR,	/* --x A B, repeatable; values in pairs */
};

struct upks_optdef {
	const char *name;
	int id; /* 1 .. UPKS_ARGS_MAX - 1 */
	enum upks_opt_kind kind;
};

struct upks_strlist {
	const char **v;
	size_t n, cap;
};

struct upks_args {
	const char *val[UPKS_ARGS_MAX];
	bool flag[UPKS_ARGS_MAX];
	struct upks_strlist list[UPKS_ARGS_MAX];
	struct upks_strlist operands;
};

struct upks_args_spec {
	const char *prog; /* "upkeep-server", starts every error line */
	const char *cmd;  /* "publish", "bundle create": names the command in errors */
	const struct upks_optdef *defs;
	size_t n_defs;
	bool operands;	/* the command takes operands */
	int help_id;	/* prints help (help(ctx)) and ends with 0 */
	int version_id; /* prints "<prog> <version>" and ends with 0; a VALUE option
			 * with this id prints only when no value follows */
	const char *version;
	void (*help)(const void *ctx);
	/* Which options the command takes (NULL: every one in defs). */
	bool (*accepts)(const void *ctx, int id);
	const void *ctx;
};

/*
 * Parse argv (argv[0] is the command name) into a (zeroed by the caller).
 * Returns -1 to go on, or the exit code to end with: 0 after help or
 * version, 2 after printing a usage error line.
 */
int upks_args_parse(const struct upks_args_spec *spec, int argc, char **argv, struct upks_args *a);

void upks_args_done(struct upks_args *a);

/* Append s (borrowed) to l; -1 when out of memory, l unchanged then. */
int upks_strlist_add(struct upks_strlist *l, const char *s);
