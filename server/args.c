/* SPDX-License-Identifier: Apache-2.0 */
#include "args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int upks_strlist_add(struct upks_strlist *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		const char **n = reallocarray(l->v, cap, sizeof(*n));

		if (!n)
			return -1;
		l->v = n;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

void upks_args_done(struct upks_args *a)
{
	for (int i = 0; i < UPKS_ARGS_MAX; i++)
		free(a->list[i].v);
	free(a->operands.v);
	memset(a, 0, sizeof(*a));
}

static const struct upks_optdef *find_def(const struct upks_args_spec *s, const char *name,
					  size_t nlen)
{
	for (size_t k = 0; k < s->n_defs; k++) {
		if (strlen(s->defs[k].name) == nlen && !strncmp(s->defs[k].name, name, nlen))
			return &s->defs[k];
	}
	return NULL;
}

static bool next_is_value(int i, int argc, char **argv)
{
	return i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0;
}

int upks_args_parse(const struct upks_args_spec *s, int argc, char **argv, struct upks_args *a)
{
	int greedy = 0;
	bool options_end = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *value;
		const struct upks_optdef *def;
		size_t nlen;

		if (!options_end && strcmp(arg, "--") == 0) {
			options_end = true;
			greedy = 0;
			continue;
		}
		if (!options_end && strcmp(arg, "-h") == 0)
			arg = "--help";
		if (options_end || strncmp(arg, "--", 2) != 0 || !arg[2]) {
			if (!options_end && arg[0] == '-' && arg[1])
				return upk_cli_usage_error(s->prog, "%s: unknown option '%s'",
							   s->cmd, arg);
			if (greedy) {
				if (upks_strlist_add(&a->list[greedy], arg))
					return upk_cli_usage_error(s->prog, "out of memory");
				continue;
			}
			if (!s->operands)
				return upk_cli_usage_error(s->prog, "%s: unexpected argument '%s'",
							   s->cmd, arg);
			if (upks_strlist_add(&a->operands, arg))
				return upk_cli_usage_error(s->prog, "out of memory");
			continue;
		}
		name = arg + 2;
		eq = strchr(name, '=');
		nlen = eq ? (size_t)(eq - name) : strlen(name);
		def = find_def(s, name, nlen);
		if (!def)
			return upk_cli_usage_error(s->prog, "%s: unknown option '%s'", s->cmd, arg);
		if (s->accepts && !s->accepts(s->ctx, def->id))
			return upk_cli_usage_error(s->prog, "%s: option --%s does not apply here",
						   s->cmd, def->name);
		greedy = 0;
		if (def->id == s->help_id) {
			s->help(s->ctx);
			return 0;
		}
		/* CLI.md: every command answers --version, even where --version V is a value. */
		if (def->id == s->version_id &&
		    (def->kind == UPKS_OPT_FLAG || (!eq && !next_is_value(i, argc, argv)))) {
			printf("%s %s\n", s->prog, s->version);
			return 0;
		}
		switch (def->kind) {
		case UPKS_OPT_FLAG:
			if (eq)
				return upk_cli_usage_error(s->prog, "%s: --%s takes no value",
							   s->cmd, def->name);
			a->flag[def->id] = true;
			break;
		case UPKS_OPT_VALUE:
		case UPKS_OPT_LIST:
			value = eq ? eq + 1 : NULL;
			if (!value) {
				if (!next_is_value(i, argc, argv))
					return upk_cli_usage_error(s->prog,
								   "%s: --%s needs a value", s->cmd,
								   def->name);
				value = argv[++i];
			}
			if (def->kind == UPKS_OPT_VALUE) {
				if (a->val[def->id])
					return upk_cli_usage_error(s->prog,
								   "%s: --%s is given twice",
								   s->cmd, def->name);
				a->val[def->id] = value;
			} else {
				if (upks_strlist_add(&a->list[def->id], value))
					return upk_cli_usage_error(s->prog, "out of memory");
				if (!s->operands)
					greedy = def->id;
			}
			break;
		case UPKS_OPT_PAIR:
			if (eq || i + 2 >= argc)
				return upk_cli_usage_error(s->prog, "%s: --%s takes two values",
							   s->cmd, def->name);
			if (upks_strlist_add(&a->list[def->id], argv[i + 1]) ||
			    upks_strlist_add(&a->list[def->id], argv[i + 2]))
				return upk_cli_usage_error(s->prog, "out of memory");
			i += 2;
			break;
		}
	}
	return -1;
}
