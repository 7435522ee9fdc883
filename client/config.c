/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upkeep-client.conf(5): a table of known keys drives libinih's callbacks.
 * libinih reads lines through our reader, which counts them (the library
 * as Debian builds it does not pass line numbers to the handler) and
 * refuses lines that would not fit its buffer: libinih would otherwise
 * split a long line in two and parse the tail as a line of its own.
 */
#include "config.h"
#include "tuftime.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fileio.h"
#include "util.h"

enum kind {
	KIND_URL,      /* http:// or https:// URL */
	KIND_ABSPATH,  /* absolute path */
	KIND_DURATION, /* seconds, or with a unit */
	KIND_BYTES,    /* positive integer */
};

struct key_def {
	const char *section, *name;
	enum kind kind;
	bool required;
	size_t offset; /* into struct upkc_config */
};

#define FIELD(f) offsetof(struct upkc_config, f)

static const struct key_def keys[] = {
	{ "repository", "metadata_url", KIND_URL, true, FIELD(metadata_url) },
	{ "repository", "targets_url", KIND_URL, true, FIELD(targets_url) },
	{ "device", "state_dir", KIND_ABSPATH, true, FIELD(state_dir) },
	{ "device", "trusted_root", KIND_ABSPATH, true, FIELD(trusted_root) },
	{ "device", "clock_jump_warning", KIND_DURATION, false, FIELD(clock_jump_warning_s) },
	{ "network", "connect_timeout", KIND_DURATION, false, FIELD(connect_timeout_s) },
	{ "network", "low_speed_limit", KIND_BYTES, false, FIELD(low_speed_limit) },
	{ "network", "low_speed_time", KIND_DURATION, false, FIELD(low_speed_time_s) },
};
#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* Bounds of the [network] values: libcurl takes them as long, and a day is plenty. */
#define MAX_NETWORK_SECONDS  86400
#define MAX_BYTES_PER_SECOND 1000000000L

struct parse_state {
	struct upkc_config cfg;
	const char *name;
	const char *text;
	size_t len, pos;
	unsigned line; /* of the line libinih works on */
	bool seen[N_KEYS];
	bool failed;
	enum upk_err err; /* of the first failure */
	struct upk_diag *diag;
};

static bool fail(struct parse_state *st, bool with_line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Record the first error only; false, so handlers can `return fail(...)`. */
static bool fail(struct parse_state *st, bool with_line, const char *fmt, ...)
{
	char where[sizeof(st->diag->where)], reason[sizeof(st->diag->reason)];
	va_list ap;

	if (st->failed)
		return false;
	st->failed = true;
	st->err = UPK_E_CONFIG;
	if (!st->diag)
		return false;
	if (with_line)
		snprintf(where, sizeof(where), "%s:%u", st->name, st->line);
	else
		snprintf(where, sizeof(where), "%s", st->name);
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	upk_diag_set(st->diag, UPK_E_CONFIG, where, -1, "%s", reason);
	return false;
}

static bool has_control(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	}
	return false;
}

static bool set_value(struct parse_state *st, const struct key_def *k, const char *value)
{
	char *base = (char *)&st->cfg + k->offset;
	int64_t secs;
	char *copy, *end;
	long long n;

	switch (k->kind) {
	case KIND_URL:
		if ((strncmp(value, "http://", 7) != 0 || !value[7]) &&
		    (strncmp(value, "https://", 8) != 0 || !value[8]))
			return fail(st, true, "[%s] %s: '%s' is not an http:// or https:// URL",
				    k->section, k->name, value);
		if (strpbrk(value, " \t") || has_control(value))
			return fail(st, true,
				    "[%s] %s: a URL contains no spaces or control "
				    "characters",
				    k->section, k->name);
		break;
	case KIND_ABSPATH:
		if (value[0] != '/')
			return fail(st, true, "[%s] %s: '%s' is not an absolute path", k->section,
				    k->name, value);
		if (has_control(value))
			return fail(st, true, "[%s] %s: control character in a path", k->section,
				    k->name);
		break;
	case KIND_DURATION:
		if (upk_duration_parse(value, true, &secs, NULL) != UPK_OK)
			return fail(st, true,
				    "[%s] %s: '%s' is not a duration (a positive number, "
				    "optionally followed by s, m, h or d)",
				    k->section, k->name, value);
		if (!strcmp(k->section, "network")) {
			if (secs > MAX_NETWORK_SECONDS)
				return fail(st, true, "[%s] %s: '%s' is longer than a day",
					    k->section, k->name, value);
			*(long *)(void *)base = (long)secs;
		} else {
			*(int64_t *)(void *)base = secs;
		}
		return true;
	case KIND_BYTES:
		errno = 0;
		n = (value[0] >= '0' && value[0] <= '9') ? strtoll(value, &end, 10) : 0;
		if (n <= 0 || errno || *end || n > MAX_BYTES_PER_SECOND)
			return fail(st, true,
				    "[%s] %s: '%s' is not a number of bytes from 1 to %ld",
				    k->section, k->name, value, MAX_BYTES_PER_SECOND);
		*(long *)(void *)base = (long)n;
		return true;
	}
	copy = strdup(value);
	if (!copy) {
		if (st->diag)
			upk_diag_set(st->diag, UPK_E_NOMEM, NULL, -1, NULL);
		st->failed = true;
		st->err = UPK_E_NOMEM;
		return false;
	}
	*(char **)(void *)base = copy;
	return true;
}

static bool known_section(const char *s)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (!strcmp(keys[i].section, s))
			return true;
	}
	return false;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *st = user;

	if (st->failed)
		return 0;
	if (!*section)
		return fail(st, true, "key '%s' outside a section", name);
	if (!known_section(section))
		return fail(st, true, "unknown section [%s]", section);
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strcmp(keys[i].section, section) != 0 || strcmp(keys[i].name, name) != 0)
			continue;
		/* A continuation line (leading whitespace) arrives as a repeat, too. */
		if (st->seen[i])
			return fail(st, true,
				    "[%s] %s: given twice (or continued on an indented line)",
				    section, name);
		st->seen[i] = true;
		if (!*value)
			return fail(st, true, "[%s] %s: empty value", section, name);
		return set_value(st, &keys[i], value);
	}
	return fail(st, true, "[%s] %s: unknown key", section, name);
}

/*
 * A section header names a known section even when no key follows it
 * (libinih reports only keys).
 */
static void check_header(struct parse_state *st, const char *line, size_t len)
{
	char name[UPKC_CONFIG_MAX_LINE + 1];
	size_t i = 0, j, n;

	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i >= len || line[i] != '[')
		return;
	for (j = i + 1; j < len && line[j] != ']'; j++)
		;
	if (j >= len)
		return; /* libinih reports the syntax error */
	n = j - i - 1;
	memcpy(name, line + i + 1, n);
	name[n] = 0;
	if (!known_section(name))
		fail(st, true, "unknown section [%s]", name);
}

/* fgets(3) over the text, one whole line at a time. */
static char *reader(char *str, int num, void *stream)
{
	struct parse_state *st = stream;
	const char *p, *nl;
	size_t n, max;

	if (st->failed || st->pos >= st->len || num < 2)
		return NULL;
	p = st->text + st->pos;
	nl = memchr(p, '\n', st->len - st->pos);
	n = nl ? (size_t)(nl - p) + 1 : st->len - st->pos;
	st->line++;
	max = (size_t)num - 1;
	if (max > UPKC_CONFIG_MAX_LINE)
		max = UPKC_CONFIG_MAX_LINE;
	if (n > max) {
		fail(st, true, "line longer than %zu bytes", max);
		return NULL;
	}
	memcpy(str, p, n);
	str[n] = 0;
	st->pos += n;
	check_header(st, str, n);
	return str;
}

void upkc_config_done(struct upkc_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->metadata_url);
	free(cfg->targets_url);
	free(cfg->state_dir);
	free(cfg->trusted_root);
	memset(cfg, 0, sizeof(*cfg));
}

enum upk_err upkc_config_parse(const char *text, size_t len, const char *name,
			       struct upkc_config *ret, struct upk_diag *reterr_diag)
{
	struct parse_state st = {
		.name = name ? name : "config", .text = text, .len = len, .diag = reterr_diag
	};
	const char *nul = len ? memchr(text, 0, len) : NULL;
	int rc;

	if (nul) {
		st.line = 1;
		for (const char *p = text; p < nul; p++)
			st.line += *p == '\n';
		fail(&st, true, "NUL byte");
		return UPK_E_CONFIG;
	}
	rc = ini_parse_stream(reader, &st, handler, &st);
	if (!st.failed && rc < 0) {
		upkc_config_done(&st.cfg);
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, st.name, -1, NULL);
	}
	if (!st.failed && rc > 0) {
		st.line = (unsigned)rc;
		fail(&st, true, "syntax error: expected [section], key = value or a comment");
	}
	for (size_t i = 0; i < N_KEYS && !st.failed; i++) {
		if (keys[i].required && !st.seen[i])
			fail(&st, false, "[%s] %s is required", keys[i].section, keys[i].name);
	}
	if (st.failed) {
		upkc_config_done(&st.cfg);
		return st.err;
	}
	if (!st.cfg.clock_jump_warning_s)
		st.cfg.clock_jump_warning_s = UPKC_CONFIG_CLOCK_JUMP_WARNING;
	*ret = st.cfg;
	return UPK_OK;
}

enum upk_err upkc_config_load(const char *path, struct upkc_config *ret,
			      struct upk_diag *reterr_diag)
{
	_cleanup_buf_ struct upk_buf text = UPK_BUF_INIT;
	enum upk_err r;

	r = upk_io_read_file(path, UPKC_CONFIG_MAX_SIZE, &text, NULL, reterr_diag);
	if (r == UPK_E_NOMEM)
		return r;
	if (r) {
		/* Whatever the cause, the device is not configured: fix the call or the image. */
		if (reterr_diag)
			reterr_diag->err = UPK_E_CONFIG;
		return UPK_E_CONFIG;
	}
	return upkc_config_parse(text.data ? (const char *)text.data : "", text.len, path, ret,
				 reterr_diag);
}
