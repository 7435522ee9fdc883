/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upkeep-client.conf(5): a table of known keys drives libinih's callbacks,
 * the defaults and upkc_config_done. libinih reads lines through our
 * reader, which counts them (the library as Debian builds it does not pass
 * line numbers to the handler) and refuses lines that would not fit its
 * buffer: libinih would otherwise split a long line in two and parse the
 * tail as a line of its own. Checks between keys (the slots differ, a
 * backend's key goes with its backend) run after the whole file is read,
 * at the line of the key they refuse.
 */
#include "config.h"
#include "tuftime.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <ini.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "buf.h"
#include "fileio.h"
#include "util.h"
#include "version.h"

enum kind {
	/* strings (char *), freed by upkc_config_done */
	KIND_URL,      /* http:// or https:// URL */
	KIND_ABSPATH,  /* absolute path */
	KIND_COMMAND,  /* a shell command: no control characters */
	KIND_NAME,     /* a product name (upk_bundle_name_is_valid) */
	KIND_HARDWARE, /* a hardware id (FORMAT.md) */
	KIND_SEMVER,   /* SemVer 2.0.0 */
	/* numbers */
	KIND_DURATION,	    /* int64_t seconds, at most max */
	KIND_DURATION_LONG, /* long seconds, at most max (struct upkc_fetch_opts's type) */
	KIND_BYTES,	    /* long, 1..max */
	KIND_COUNT,	    /* long, 1..max */
	KIND_SWITCH,	    /* bool: auto = true, off = false */
	KIND_BACKEND,	    /* enum upkc_boot_backend */
};

struct key_def {
	const char *section, *name;
	enum kind kind;
	bool required;			/* by every command (parse time) */
	size_t offset;			/* into struct upkc_config */
	int64_t max;			/* numbers: the largest value; 0 = the kind's own bound */
	const char *max_text;		/* the largest value in words, for messages */
	const char *def;		/* strings: the default, NULL for none */
	int64_t def_num;		/* numbers: the default (0 for none) */
	enum upkc_boot_backend backend; /* only used with this backend; NONE: any */
};

/* Designated initializers: a row names only what differs from zero. */
#define KEY(sec, key, k, field, ...)                                       \
	{                                                                  \
		.section = (sec), .name = (key), .kind = (k),              \
		.offset = offsetof(struct upkc_config, field), __VA_ARGS__ \
	}

/* Bounds of the [network] values: the transport takes them as long, and a day is plenty. */
#define MAX_NETWORK_SECONDS  86400
#define MAX_BYTES_PER_SECOND 1000000000L
/* A time limit for the device maker's commands: longer is a hang, not a check. */
#define MAX_COMMAND_SECONDS 86400

static const struct key_def keys[] = {
	KEY("repository", "metadata_url", KIND_URL, metadata_url, .required = true),
	KEY("repository", "targets_url", KIND_URL, targets_url, .required = true),
	KEY("device", "state_dir", KIND_ABSPATH, state_dir, .required = true),
	KEY("device", "trusted_root", KIND_ABSPATH, trusted_root, .required = true),
	KEY("device", "clock_jump_warning", KIND_DURATION, clock_jump_warning_s,
	    .def_num = UPKC_CONFIG_CLOCK_JUMP_WARNING),
	KEY("device", "product", KIND_NAME, product),
	KEY("device", "hardware", KIND_HARDWARE, hardware),
	KEY("device", "factory_version", KIND_SEMVER, factory_version,
	    .def = UPKC_CONFIG_FACTORY_VERSION),
	KEY("slots", "a", KIND_ABSPATH, slot_a),
	KEY("slots", "b", KIND_ABSPATH, slot_b),
	KEY("boot", "backend", KIND_BACKEND, boot_backend),
	KEY("boot", "file", KIND_ABSPATH, boot_file, .backend = UPKC_BOOT_FILE),
	KEY("boot", "fw_env_config", KIND_ABSPATH, uboot_config, .backend = UPKC_BOOT_UBOOT),
	KEY("boot", "default_env", KIND_ABSPATH, uboot_default_env, .backend = UPKC_BOOT_UBOOT),
	KEY("boot", "grubenv", KIND_ABSPATH, grubenv, .backend = UPKC_BOOT_GRUB),
	KEY("boot", "script", KIND_COMMAND, boot_script, .backend = UPKC_BOOT_SCRIPT),
	KEY("boot", "cmdline", KIND_ABSPATH, cmdline, .def = UPKC_CONFIG_CMDLINE),
	KEY("boot", "trial_boots", KIND_COUNT, trial_boots, .max = UPKC_CONFIG_MAX_TRIAL_BOOTS,
	    .def_num = UPKC_CONFIG_TRIAL_BOOTS),
	KEY("boot", "reboot_command", KIND_COMMAND, reboot_command),
	KEY("health", "command", KIND_COMMAND, health_command),
	KEY("health", "timeout", KIND_DURATION, health_timeout_s, .max = MAX_COMMAND_SECONDS,
	    .max_text = "a day", .def_num = UPKC_CONFIG_HEALTH_TIMEOUT),
	KEY("models", "dir", KIND_ABSPATH, models_dir),
	KEY("models", "selftest_command", KIND_COMMAND, selftest_command),
	KEY("models", "selftest_timeout", KIND_DURATION, selftest_timeout_s,
	    .max = MAX_COMMAND_SECONDS, .max_text = "a day",
	    .def_num = UPKC_CONFIG_SELFTEST_TIMEOUT),
	KEY("policy", "security_updates", KIND_SWITCH, security_updates, .def_num = true),
	KEY("policy", "feature_updates", KIND_SWITCH, feature_updates, .def_num = false),
	KEY("policy", "poll_interval", KIND_DURATION, poll_interval_s,
	    .def_num = UPKC_CONFIG_POLL_INTERVAL),
	KEY("policy", "postpone_max", KIND_DURATION, postpone_max_s,
	    .max = UPKC_CONFIG_MAX_POSTPONE, .max_text = "30 days",
	    .def_num = UPKC_CONFIG_POSTPONE_MAX),
	KEY("network", "connect_timeout", KIND_DURATION_LONG, connect_timeout_s,
	    .max = MAX_NETWORK_SECONDS, .max_text = "a day"),
	KEY("network", "low_speed_limit", KIND_BYTES, low_speed_limit, .max = MAX_BYTES_PER_SECOND),
	KEY("network", "low_speed_time", KIND_DURATION_LONG, low_speed_time_s,
	    .max = MAX_NETWORK_SECONDS, .max_text = "a day"),
};
#define N_KEYS UPK_ARRAY_SIZE(keys)

/* The values of [boot] backend, indexed by enum upkc_boot_backend. */
static const char *const backend_names[] = {
	[UPKC_BOOT_NONE] = NULL,   [UPKC_BOOT_FILE] = "file",	  [UPKC_BOOT_UBOOT] = "uboot",
	[UPKC_BOOT_GRUB] = "grub", [UPKC_BOOT_SCRIPT] = "script",
};

struct parse_state {
	struct upkc_config cfg;
	const char *name;
	const char *text;
	size_t len, pos;
	unsigned line;		  /* of the line libinih works on */
	unsigned line_of[N_KEYS]; /* where each key was given; 0: not given */
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

static bool fail_nomem(struct parse_state *st)
{
	if (st->failed)
		return false;
	if (st->diag)
		upk_diag_set(st->diag, UPK_E_NOMEM, st->name, -1, NULL);
	st->failed = true;
	st->err = UPK_E_NOMEM;
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

/* A decimal 1..max without sign, spaces or unit; false otherwise. */
static bool parse_count(const char *value, long max, long *ret)
{
	char *end;
	long long n;

	if (value[0] < '0' || value[0] > '9')
		return false;
	errno = 0;
	n = strtoll(value, &end, 10);
	if (errno || *end || n < 1 || n > max)
		return false;
	*ret = (long)n;
	return true;
}

static void store_num(struct parse_state *st, const struct key_def *k, int64_t v)
{
	void *field = (char *)&st->cfg + k->offset;

	switch (k->kind) {
	case KIND_DURATION:
		*(int64_t *)field = v;
		break;
	case KIND_DURATION_LONG:
	case KIND_BYTES:
	case KIND_COUNT:
		*(long *)field = (long)v;
		break;
	case KIND_SWITCH:
		*(bool *)field = v != 0;
		break;
	case KIND_BACKEND:
		*(enum upkc_boot_backend *)field = (enum upkc_boot_backend)v;
		break;
	case KIND_URL:
	case KIND_ABSPATH:
	case KIND_COMMAND:
	case KIND_NAME:
	case KIND_HARDWARE:
	case KIND_SEMVER:
		assert(!"not a number");
		break;
	}
}

static bool store_str(struct parse_state *st, const struct key_def *k, const char *value)
{
	char **field = (char **)(void *)((char *)&st->cfg + k->offset);
	char *copy = strdup(value);

	if (!copy)
		return fail_nomem(st);
	assert(!*field); /* a key is set once: duplicates are refused before */
	*field = copy;
	return true;
}

static bool is_string(enum kind kind)
{
	switch (kind) {
	case KIND_URL:
	case KIND_ABSPATH:
	case KIND_COMMAND:
	case KIND_NAME:
	case KIND_HARDWARE:
	case KIND_SEMVER:
		return true;
	case KIND_DURATION:
	case KIND_DURATION_LONG:
	case KIND_BYTES:
	case KIND_COUNT:
	case KIND_SWITCH:
	case KIND_BACKEND:
		break;
	}
	return false;
}

static bool set_value(struct parse_state *st, const struct key_def *k, const char *value)
{
	struct upk_semver semver;
	int64_t secs;
	long n;

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
	case KIND_COMMAND:
		if (has_control(value))
			return fail(st, true, "[%s] %s: control character in a command", k->section,
				    k->name);
		break;
	case KIND_NAME:
		if (!upk_bundle_name_is_valid(value))
			return fail(st, true,
				    "[%s] %s: '%s' is not a name (1 to 64 of A-Z a-z 0-9 . _ -, "
				    "not starting with . or -)",
				    k->section, k->name, value);
		break;
	case KIND_HARDWARE:
		if (!upk_bundle_hardware_is_valid(value))
			return fail(st, true,
				    "[%s] %s: '%s' is not a hardware id (1 to 64 of A-Z a-z 0-9 "
				    ". _ : + -, not starting with . or -)",
				    k->section, k->name, value);
		break;
	case KIND_SEMVER:
		if (upk_semver_parse(value, &semver) != UPK_OK)
			return fail(st, true,
				    "[%s] %s: '%s' is not a SemVer 2.0.0 version (like 1.4.0)",
				    k->section, k->name, value);
		break;
	case KIND_DURATION:
	case KIND_DURATION_LONG:
		if (upk_duration_parse(value, true, &secs, NULL) != UPK_OK)
			return fail(st, true,
				    "[%s] %s: '%s' is not a duration (a positive number, "
				    "optionally followed by s, m, h or d)",
				    k->section, k->name, value);
		if (k->max && secs > k->max)
			return fail(st, true, "[%s] %s: '%s' is longer than %s", k->section,
				    k->name, value, k->max_text);
		store_num(st, k, secs);
		return true;
	case KIND_BYTES:
		if (!parse_count(value, (long)k->max, &n))
			return fail(st, true,
				    "[%s] %s: '%s' is not a number of bytes from 1 to %" PRId64,
				    k->section, k->name, value, k->max);
		store_num(st, k, n);
		return true;
	case KIND_COUNT:
		if (!parse_count(value, (long)k->max, &n))
			return fail(st, true, "[%s] %s: '%s' is not a number from 1 to %" PRId64,
				    k->section, k->name, value, k->max);
		store_num(st, k, n);
		return true;
	case KIND_SWITCH:
		if (strcmp(value, "auto") != 0 && strcmp(value, "off") != 0)
			return fail(st, true, "[%s] %s: '%s' is not auto or off", k->section,
				    k->name, value);
		store_num(st, k, !strcmp(value, "auto"));
		return true;
	case KIND_BACKEND:
		for (size_t i = 0; i < UPK_ARRAY_SIZE(backend_names); i++) {
			if (backend_names[i] && !strcmp(value, backend_names[i])) {
				store_num(st, k, (int64_t)i);
				return true;
			}
		}
		return fail(st, true, "[%s] %s: '%s' is not file, uboot, grub or script",
			    k->section, k->name, value);
	}
	return store_str(st, k, value);
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
		if (st->line_of[i])
			return fail(st, true,
				    "[%s] %s: given twice (or continued on an indented line)",
				    section, name);
		st->line_of[i] = st->line;
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

static size_t key_index(const char *section, const char *name)
{
	for (size_t i = 0; i < N_KEYS; i++) {
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].name, name))
			return i;
	}
	assert(!"no such key");
	return 0;
}

/*
 * What no single line shows: a missing required key (at the file), a key
 * of another boot backend, the two slots on one path (at the line of the
 * later key). Missing keys first, then in table order; the first failure
 * is the one reported.
 */
static void check_keys(struct parse_state *st)
{
	size_t a = key_index("slots", "a"), b = key_index("slots", "b");

	for (size_t i = 0; i < N_KEYS && !st->failed; i++) {
		if (keys[i].required && !st->line_of[i])
			fail(st, false, "[%s] %s is required", keys[i].section, keys[i].name);
	}
	for (size_t i = 0; i < N_KEYS && !st->failed; i++) {
		if (st->line_of[i] && keys[i].backend != UPKC_BOOT_NONE &&
		    keys[i].backend != st->cfg.boot_backend) {
			st->line = st->line_of[i];
			fail(st, true, "[%s] %s is only used with backend = %s", keys[i].section,
			     keys[i].name, backend_names[keys[i].backend]);
		}
	}
	if (!st->failed && st->cfg.slot_a && st->cfg.slot_b &&
	    !strcmp(st->cfg.slot_a, st->cfg.slot_b)) {
		st->line = st->line_of[a] > st->line_of[b] ? st->line_of[a] : st->line_of[b];
		fail(st, true, "[slots] a and b are the same path '%s'", st->cfg.slot_a);
	}
}

/* Defaults of the keys not given: strings are heap copies like given values. */
static void set_defaults(struct parse_state *st)
{
	for (size_t i = 0; i < N_KEYS && !st->failed; i++) {
		if (st->line_of[i])
			continue;
		if (!is_string(keys[i].kind))
			store_num(st, &keys[i], keys[i].def_num);
		else if (keys[i].def)
			store_str(st, &keys[i], keys[i].def);
	}
}

void upkc_config_done(struct upkc_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (is_string(keys[i].kind))
			free(*(char **)(void *)((char *)cfg + keys[i].offset));
	}
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
	if (!st.failed && rc < 0)
		fail_nomem(&st);
	if (!st.failed && rc > 0) {
		st.line = (unsigned)rc;
		fail(&st, true, "syntax error: expected [section], key = value or a comment");
	}
	check_keys(&st);
	set_defaults(&st);
	if (st.failed) {
		upkc_config_done(&st.cfg);
		return st.err;
	}
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

static enum upk_err missing(const char *name, struct upk_diag *reterr_diag, const char *what)
{
	return upk_diag_set(reterr_diag, UPK_E_CONFIG, name, -1,
			    "%s is required by the device agent", what);
}

enum upk_err upkc_config_check_agent(const struct upkc_config *cfg, const char *name,
				     struct upk_diag *reterr_diag)
{
	const char *key = NULL;

	assert(cfg && (size_t)cfg->boot_backend < UPK_ARRAY_SIZE(backend_names));
	if (!name)
		name = "config";
	if (!cfg->product)
		return missing(name, reterr_diag, "[device] product");
	if (!cfg->hardware)
		return missing(name, reterr_diag, "[device] hardware");
	if (!cfg->slot_a)
		return missing(name, reterr_diag, "[slots] a");
	if (!cfg->slot_b)
		return missing(name, reterr_diag, "[slots] b");
	switch (cfg->boot_backend) {
	case UPKC_BOOT_NONE:
		return missing(name, reterr_diag, "[boot] backend");
	case UPKC_BOOT_FILE:
		key = cfg->boot_file ? NULL : "file";
		break;
	case UPKC_BOOT_UBOOT:
		key = cfg->uboot_config ? NULL : "fw_env_config";
		break;
	case UPKC_BOOT_GRUB:
		key = cfg->grubenv ? NULL : "grubenv";
		break;
	case UPKC_BOOT_SCRIPT:
		key = cfg->boot_script ? NULL : "script";
		break;
	}
	if (key)
		return upk_diag_set(reterr_diag, UPK_E_CONFIG, name, -1,
				    "[boot] %s is required by the device agent with backend = %s",
				    key, backend_names[cfg->boot_backend]);
	return UPK_OK;
}
