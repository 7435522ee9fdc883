/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* mkostemp */
#include "boot.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fileio.h"
#include "proc.h"
#include "util.h"

/* Bootloader tools and boot scripts get this long (fw_setenv on slow NAND erases). */
#define BOOT_TOOL_TIMEOUT_MS (30 * 1000)
/* Largest boot-state file, boot script output, or kernel command line read. */
#define BOOT_TEXT_MAX 4096
/* Largest `fw_printenv` or `grub-editenv list` output read (U-Boot environments are KiBs). */
#define BOOT_ENV_MAX (1024 * 1024)
/* Largest boot counter value accepted from a U-Boot environment. */
#define BOOT_COUNT_MAX 1000000u

/* The U-Boot command that falls back once bootcount passes bootlimit (tests/sim/README.md). */
#define UBOOT_ALTBOOTCMD                                            \
	"setenv upkeep_slot ${upkeep_fallback}; "                   \
	"setenv upgrade_available 0; setenv bootcount 0; saveenv; " \
	"run bootcmd"

struct boot_ops {
	const char *name;
	/* The backend's setting ("[boot] file") and its value in cfg. */
	const char *key;
	const char *(*setting)(const struct upkc_config *cfg);
	enum upk_err (*read)(struct upkc_boot *b, struct upkc_boot_state *ret,
			     struct upk_diag *diag);
	enum upk_err (*arm_trial)(struct upkc_boot *b, int slot, unsigned tries,
				  struct upk_diag *diag);
	enum upk_err (*set_good)(struct upkc_boot *b, int slot, struct upk_diag *diag);
};

struct upkc_boot {
	const struct upkc_config *cfg;
	const struct boot_ops *ops;
};

const char *upkc_slot_name(int slot)
{
	return slot == UPKC_SLOT_B ? "B" : slot == UPKC_SLOT_A ? "A" : "?";
}

bool upkc_slot_parse(const char *s, int *ret)
{
	if (!s || !s[0] || s[1])
		return false;
	if (s[0] == 'A' || s[0] == 'a')
		*ret = UPKC_SLOT_A;
	else if (s[0] == 'B' || s[0] == 'b')
		*ret = UPKC_SLOT_B;
	else
		return false;
	return true;
}

static int other_slot(int slot)
{
	return slot == UPKC_SLOT_A ? UPKC_SLOT_B : UPKC_SLOT_A;
}

static void default_state(struct upkc_boot_state *st)
{
	*st = (struct upkc_boot_state){ .primary = UPKC_SLOT_A, .fallback = UPKC_SLOT_B };
}

/* "0" or "1" exactly. */
static bool parse_bit(const char *s, bool *ret)
{
	if (strcmp(s, "0") == 0)
		*ret = false;
	else if (strcmp(s, "1") == 0)
		*ret = true;
	else
		return false;
	return true;
}

/* Decimal digits only (no sign, space or base prefix), at most max. */
static bool parse_count(const char *s, unsigned max, unsigned *ret)
{
	unsigned long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > max)
			return false;
	}
	*ret = (unsigned)v;
	return true;
}

/*
 * Run a bootloader tool or the boot script with the tool time limit. A
 * failure to run it, or a non-zero exit status, is UPK_E_IO naming `file`
 * (the storage it works on) and the tool.
 */
static enum upk_err run_tool(const char *const *argv, const char *tool, const char *file,
			     struct upk_buf *out, size_t out_max, struct upk_diag *diag)
{
	struct upkc_proc_opts o = {
		.timeout_ms = BOOT_TOOL_TIMEOUT_MS, .out = out, .out_max = out_max, .what = tool
	};
	struct upk_diag pd;
	int status = 0;
	enum upk_err r;

	upk_diag_clear(&pd);
	r = upkc_proc_run(argv, &o, &status, &pd);
	if (r == UPK_E_NOMEM)
		return upk_diag_set(diag, r, file, -1, "%s: out of memory", tool);
	if (r)
		return upk_diag_set(diag, UPK_E_IO, file, -1, "%s: %s", tool, pd.reason);
	if (status != 0)
		return upk_diag_set(diag, UPK_E_IO, file, -1, "%s exited with status %d", tool,
				    status);
	return UPK_OK;
}

/*
 * The four facts as "key=value" lines (the file backend's format and the
 * boot script's `read` output): primary, fallback, trial, tries_left, each
 * exactly once, in any order; the last newline may be missing. No text at
 * all reads as the default state. `name` is used in messages ("name:line").
 */
static enum upk_err parse_state_text(char *text, size_t len, const char *name,
				     struct upkc_boot_state *ret, struct upk_diag *diag)
{
	static const char *const keys[] = { "primary", "fallback", "trial", "tries_left" };
	struct upkc_boot_state st;
	bool seen[UPK_ARRAY_SIZE(keys)] = { false };
	char where[256];
	unsigned line = 0;
	size_t pos = 0;

	default_state(&st);
	if (len == 0) {
		*ret = st;
		return UPK_OK;
	}
	if (memchr(text, 0, len))
		return upk_diag_set(diag, UPK_E_IO, name, -1, "holds a NUL byte");
	while (pos < len) {
		char *l = text + pos, *nl = memchr(l, '\n', len - pos), *eq;
		size_t k;

		line++;
		snprintf(where, sizeof(where), "%s:%u", name, line);
		if (nl) {
			*nl = 0;
			pos = (size_t)(nl - text) + 1;
		} else {
			pos = len; /* text[len] is the buffer's NUL */
		}
		eq = strchr(l, '=');
		if (!eq)
			return upk_diag_set(diag, UPK_E_IO, where, -1,
					    "not a key=value line of the boot state");
		*eq = 0;
		for (k = 0; k < UPK_ARRAY_SIZE(keys); k++)
			if (strcmp(l, keys[k]) == 0)
				break;
		if (k == UPK_ARRAY_SIZE(keys))
			return upk_diag_set(diag, UPK_E_IO, where, -1,
					    "unknown key '%.64s' in the boot state", l);
		if (seen[k])
			return upk_diag_set(diag, UPK_E_IO, where, -1, "%s given twice", keys[k]);
		seen[k] = true;
		if ((k == 0 && !upkc_slot_parse(eq + 1, &st.primary)) ||
		    (k == 1 && !upkc_slot_parse(eq + 1, &st.fallback)) ||
		    (k == 2 && !parse_bit(eq + 1, &st.trial)) ||
		    (k == 3 && !parse_count(eq + 1, UPKC_BOOT_MAX_TRIES, &st.tries_left)))
			return upk_diag_set(diag, UPK_E_IO, where, -1, "bad %s value '%.64s'",
					    keys[k], eq + 1);
	}
	for (size_t k = 0; k < UPK_ARRAY_SIZE(keys); k++)
		if (!seen[k])
			return upk_diag_set(diag, UPK_E_IO, name, -1, "%s is missing", keys[k]);
	*ret = st;
	return UPK_OK;
}

/* The file backend's text of a state. */
static enum upk_err format_state_text(const struct upkc_boot_state *st, struct upk_buf *out)
{
	return upk_buf_printf(out, "primary=%s\nfallback=%s\ntrial=%d\ntries_left=%u\n",
			      upkc_slot_name(st->primary), upkc_slot_name(st->fallback),
			      st->trial ? 1 : 0, st->tries_left);
}

/*
 * NAME=value lines of `fw_printenv` or `grub-editenv list`, split in
 * place: the values of `names` (NULL when absent). Other variables are
 * skipped, as are lines without '=' (the continuation of a multi-line
 * value); one of ours given twice is UPK_E_IO.
 */
static enum upk_err parse_env_list(char *text, size_t len, const char *const *names, size_t n,
				   const char **values, const char *where, struct upk_diag *diag)
{
	size_t pos = 0;

	for (size_t k = 0; k < n; k++)
		values[k] = NULL;
	while (pos < len) {
		char *l = text + pos, *nl = memchr(l, '\n', len - pos), *eq;

		if (nl) {
			*nl = 0;
			pos = (size_t)(nl - text) + 1;
		} else {
			pos = len;
		}
		eq = strchr(l, '=');
		if (!eq)
			continue;
		*eq = 0;
		for (size_t k = 0; k < n; k++) {
			if (strcmp(l, names[k]) != 0)
				continue;
			if (values[k])
				return upk_diag_set(diag, UPK_E_IO, where, -1,
						    "variable %s is listed twice", names[k]);
			values[k] = eq + 1;
		}
	}
	return UPK_OK;
}

/* ---- file ---- */

static const char *file_setting(const struct upkc_config *cfg)
{
	return cfg->boot_file;
}

static enum upk_err file_read(struct upkc_boot *b, struct upkc_boot_state *ret,
			      struct upk_diag *diag)
{
	const char *path = b->cfg->boot_file;
	_cleanup_buf_ struct upk_buf text = UPK_BUF_INIT;
	struct upk_diag rd;
	enum upk_err r;

	upk_diag_clear(&rd);
	r = upk_io_read_file(path, BOOT_TEXT_MAX, &text, NULL, &rd);
	if (r == UPK_E_NOT_FOUND) {
		default_state(ret);
		return UPK_OK;
	}
	if (r)
		return upk_diag_set(diag, r == UPK_E_NOMEM ? r : UPK_E_IO, path, -1,
				    "cannot read the boot state: %s", rd.reason);
	return parse_state_text((char *)text.data, text.len, path, ret, diag);
}

static enum upk_err file_write(struct upkc_boot *b, const struct upkc_boot_state *st,
			       struct upk_diag *diag)
{
	_cleanup_buf_ struct upk_buf text = UPK_BUF_INIT;

	if (format_state_text(st, &text))
		return upk_diag_set(diag, UPK_E_NOMEM, b->cfg->boot_file, -1, "out of memory");
	return upk_io_write_atomic(b->cfg->boot_file, text.data, text.len, 0644, diag);
}

static enum upk_err file_arm_trial(struct upkc_boot *b, int slot, unsigned tries,
				   struct upk_diag *diag)
{
	struct upkc_boot_state st = {
		.primary = slot, .fallback = other_slot(slot), .trial = true, .tries_left = tries
	};

	return file_write(b, &st, diag);
}

static enum upk_err file_set_good(struct upkc_boot *b, int slot, struct upk_diag *diag)
{
	struct upkc_boot_state st = { .primary = slot, .fallback = other_slot(slot) };

	return file_write(b, &st, diag);
}

/* ---- uboot ---- */

static const char *uboot_setting(const struct upkc_config *cfg)
{
	return cfg->uboot_config;
}

/* argv of fw_printenv/fw_setenv: TOOL -c CFG [-f DEFAULTENV] (then the caller's arguments). */
static size_t uboot_argv(const struct upkc_boot *b, const char *tool, const char **argv)
{
	size_t n = 0;

	argv[n++] = tool;
	argv[n++] = "-c";
	argv[n++] = b->cfg->uboot_config;
	if (b->cfg->uboot_default_env) {
		argv[n++] = "-f";
		argv[n++] = b->cfg->uboot_default_env;
	}
	return n;
}

static enum upk_err uboot_read(struct upkc_boot *b, struct upkc_boot_state *ret,
			       struct upk_diag *diag)
{
	enum { SLOT, FALLBACK, UPGRADE, COUNT, LIMIT, N_VARS };
	static const char *const names[N_VARS] = { "upkeep_slot", "upkeep_fallback",
						   "upgrade_available", "bootcount", "bootlimit" };
	const char *where = b->cfg->uboot_config;
	_cleanup_buf_ struct upk_buf out = UPK_BUF_INIT;
	const char *argv[8], *v[N_VARS];
	struct upkc_boot_state st;
	unsigned count = 0, limit = 0;
	size_t n = uboot_argv(b, "fw_printenv", argv);
	enum upk_err r;

	argv[n] = NULL;
	r = run_tool(argv, "fw_printenv", where, &out, BOOT_ENV_MAX, diag);
	if (r)
		return r;
	r = parse_env_list((char *)out.data, out.len, names, N_VARS, v, where, diag);
	if (r)
		return r;
	default_state(&st);
	if (v[SLOT] && !upkc_slot_parse(v[SLOT], &st.primary))
		return upk_diag_set(diag, UPK_E_IO, where, -1, "bad upkeep_slot value '%.64s'",
				    v[SLOT]);
	st.fallback = other_slot(st.primary);
	if (v[FALLBACK] && !upkc_slot_parse(v[FALLBACK], &st.fallback))
		return upk_diag_set(diag, UPK_E_IO, where, -1, "bad upkeep_fallback value '%.64s'",
				    v[FALLBACK]);
	if (v[UPGRADE] && !parse_bit(v[UPGRADE], &st.trial))
		return upk_diag_set(diag, UPK_E_IO, where, -1,
				    "bad upgrade_available value '%.64s'", v[UPGRADE]);
	if (v[COUNT] && !parse_count(v[COUNT], BOOT_COUNT_MAX, &count))
		return upk_diag_set(diag, UPK_E_IO, where, -1, "bad bootcount value '%.64s'",
				    v[COUNT]);
	if (v[LIMIT] && !parse_count(v[LIMIT], BOOT_COUNT_MAX, &limit))
		return upk_diag_set(diag, UPK_E_IO, where, -1, "bad bootlimit value '%.64s'",
				    v[LIMIT]);
	st.tries_left = limit > count ? limit - count : 0;
	*ret = st;
	return UPK_OK;
}

static void unlink_tmpp(char **path)
{
	if (*path) {
		(void)unlink(*path);
		free(*path);
	}
}

/*
 * All variables of one change in one `fw_setenv -s`, which writes the
 * environment once. The script is a private temporary file in the agent's
 * state directory (or $TMPDIR, /tmp): /etc, where fw_env.config lives, is
 * often read-only. Lines are NAME=value: the separator libubootenv reads
 * (it ignores U-Boot's older "NAME value" lines), also read by U-Boot's own
 * fw_setenv since 2018.
 */
static enum upk_err uboot_write(struct upkc_boot *b, const char *script, struct upk_diag *diag)
{
	const char *dir = b->cfg->state_dir, *tmp = getenv("TMPDIR");
	_cleanup_(unlink_tmpp) char *path = NULL;
	_cleanup_buf_ struct upk_buf name = UPK_BUF_INIT;
	const char *argv[10];
	size_t n, len = strlen(script), off = 0;
	int fd;

	if (!dir)
		dir = tmp && tmp[0] == '/' ? tmp : "/tmp";
	if (upk_buf_printf(&name, "%s/.upkeep-fw_setenv.XXXXXX", dir))
		return upk_diag_set(diag, UPK_E_NOMEM, dir, -1, "out of memory");
	fd = mkostemp((char *)name.data, O_CLOEXEC);
	if (fd < 0)
		return upk_diag_set(diag, UPK_E_IO, dir, -1,
				    "cannot create the fw_setenv script: %s", strerror(errno));
	path = (char *)upk_buf_steal(&name, NULL);
	while (off < len) {
		ssize_t w = write(fd, script + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			int e = errno;

			close(fd);
			return upk_diag_set(diag, UPK_E_IO, path, -1, "write failed: %s",
					    strerror(e));
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		return upk_diag_set(diag, UPK_E_IO, path, -1, "write failed: %s", strerror(errno));
	n = uboot_argv(b, "fw_setenv", argv);
	argv[n++] = "-s";
	argv[n++] = path;
	argv[n] = NULL;
	return run_tool(argv, "fw_setenv", b->cfg->uboot_config, NULL, 0, diag);
}

static enum upk_err uboot_arm_trial(struct upkc_boot *b, int slot, unsigned tries,
				    struct upk_diag *diag)
{
	_cleanup_buf_ struct upk_buf s = UPK_BUF_INIT;

	if (upk_buf_printf(&s,
			   "upkeep_slot=%s\nupkeep_fallback=%s\nupgrade_available=1\n"
			   "bootcount=0\nbootlimit=%u\naltbootcmd=" UBOOT_ALTBOOTCMD "\n",
			   upkc_slot_name(slot), upkc_slot_name(other_slot(slot)), tries))
		return upk_diag_set(diag, UPK_E_NOMEM, NULL, -1, "out of memory");
	return uboot_write(b, (const char *)s.data, diag);
}

static enum upk_err uboot_set_good(struct upkc_boot *b, int slot, struct upk_diag *diag)
{
	_cleanup_buf_ struct upk_buf s = UPK_BUF_INIT;

	if (upk_buf_printf(&s,
			   "upkeep_slot=%s\nupkeep_fallback=%s\nupgrade_available=0\n"
			   "bootcount=0\n",
			   upkc_slot_name(slot), upkc_slot_name(other_slot(slot))))
		return upk_diag_set(diag, UPK_E_NOMEM, NULL, -1, "out of memory");
	return uboot_write(b, (const char *)s.data, diag);
}

/* ---- grub ---- */

static const char *grub_setting(const struct upkc_config *cfg)
{
	return cfg->grubenv;
}

/* 1: the file is missing; 0: it exists; -1: cannot tell (diag set). */
static int grub_missing(const char *path, struct upk_diag *diag)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 0;
	if (errno == ENOENT)
		return 1;
	upk_diag_set(diag, UPK_E_IO, path, -1, "cannot stat: %s", strerror(errno));
	return -1;
}

static enum upk_err grub_read(struct upkc_boot *b, struct upkc_boot_state *ret,
			      struct upk_diag *diag)
{
	enum { SLOT, FALLBACK, TRIAL, TRIES, N_VARS };
	static const char *const names[N_VARS] = { "upkeep_slot", "upkeep_fallback", "upkeep_trial",
						   "upkeep_tries" };
	const char *path = b->cfg->grubenv;
	const char *argv[] = { "grub-editenv", path, "list", NULL };
	_cleanup_buf_ struct upk_buf out = UPK_BUF_INIT;
	struct upkc_boot_state st;
	const char *v[N_VARS];
	enum upk_err r;
	int missing;

	default_state(&st);
	/* `grub-editenv list` would create the file: a read must not write. */
	missing = grub_missing(path, diag);
	if (missing < 0)
		return UPK_E_IO;
	if (missing) {
		*ret = st;
		return UPK_OK;
	}
	r = run_tool(argv, "grub-editenv", path, &out, BOOT_ENV_MAX, diag);
	if (r)
		return r;
	r = parse_env_list((char *)out.data, out.len, names, N_VARS, v, path, diag);
	if (r)
		return r;
	if (v[SLOT] && !upkc_slot_parse(v[SLOT], &st.primary))
		return upk_diag_set(diag, UPK_E_IO, path, -1, "bad upkeep_slot value '%.64s'",
				    v[SLOT]);
	st.fallback = other_slot(st.primary);
	if (v[FALLBACK] && !upkc_slot_parse(v[FALLBACK], &st.fallback))
		return upk_diag_set(diag, UPK_E_IO, path, -1, "bad upkeep_fallback value '%.64s'",
				    v[FALLBACK]);
	if (v[TRIAL] && !parse_bit(v[TRIAL], &st.trial))
		return upk_diag_set(diag, UPK_E_IO, path, -1, "bad upkeep_trial value '%.64s'",
				    v[TRIAL]);
	if (v[TRIES]) {
		size_t len = strlen(v[TRIES]);

		if (len > UPKC_BOOT_MAX_TRIES || strspn(v[TRIES], "1") != len)
			return upk_diag_set(diag, UPK_E_IO, path, -1,
					    "bad upkeep_tries value '%.64s' (want up to %d '1's)",
					    v[TRIES], UPKC_BOOT_MAX_TRIES);
		st.tries_left = (unsigned)len;
	}
	*ret = st;
	return UPK_OK;
}

/* One `grub-editenv FILE set ...` (after `create` when the file is missing). */
static enum upk_err grub_set(struct upkc_boot *b, const char *const *assignments,
			     struct upk_diag *diag)
{
	const char *path = b->cfg->grubenv;
	const char *argv[10] = { "grub-editenv", path, "create", NULL };
	size_t n = 2;
	enum upk_err r;
	int missing = grub_missing(path, diag);

	if (missing < 0)
		return UPK_E_IO;
	if (missing) {
		r = run_tool(argv, "grub-editenv", path, NULL, 0, diag);
		if (r)
			return r;
	}
	argv[n++] = "set";
	for (size_t i = 0; assignments[i]; i++) {
		assert(n < UPK_ARRAY_SIZE(argv) - 1);
		argv[n++] = assignments[i];
	}
	argv[n] = NULL;
	return run_tool(argv, "grub-editenv", path, NULL, 0, diag);
}

static enum upk_err grub_arm_trial(struct upkc_boot *b, int slot, unsigned tries,
				   struct upk_diag *diag)
{
	char sl[16], fb[24], tr[32];
	const char *a[] = { sl, fb, "upkeep_trial=1", tr, NULL };

	snprintf(sl, sizeof(sl), "upkeep_slot=%s", upkc_slot_name(slot));
	snprintf(fb, sizeof(fb), "upkeep_fallback=%s", upkc_slot_name(other_slot(slot)));
	snprintf(tr, sizeof(tr), "upkeep_tries=%.*s", (int)tries, "1111111111111111");
	return grub_set(b, a, diag);
}

static enum upk_err grub_set_good(struct upkc_boot *b, int slot, struct upk_diag *diag)
{
	char sl[16], fb[24];
	const char *a[] = { sl, fb, "upkeep_trial=0", "upkeep_tries=", NULL };

	snprintf(sl, sizeof(sl), "upkeep_slot=%s", upkc_slot_name(slot));
	snprintf(fb, sizeof(fb), "upkeep_fallback=%s", upkc_slot_name(other_slot(slot)));
	return grub_set(b, a, diag);
}

/* ---- script ---- */

static const char *script_setting(const struct upkc_config *cfg)
{
	return cfg->boot_script;
}

/*
 * Run `/bin/sh -c 'COMMAND "$@"' sh ARGS...`: the configured command may
 * hold its own arguments, and ours are passed without being re-parsed.
 */
static enum upk_err script_run(struct upkc_boot *b, const char *a1, const char *a2, const char *a3,
			       struct upk_buf *out, struct upk_diag *diag)
{
	_cleanup_buf_ struct upk_buf cmd = UPK_BUF_INIT;
	const char *argv[] = { "/bin/sh", "-c", NULL, "sh", a1, a2, a3, NULL };

	if (upk_buf_printf(&cmd, "%s \"$@\"", b->cfg->boot_script))
		return upk_diag_set(diag, UPK_E_NOMEM, NULL, -1, "out of memory");
	argv[2] = (const char *)cmd.data;
	return run_tool(argv, "boot script", b->cfg->boot_script, out, BOOT_TEXT_MAX, diag);
}

static enum upk_err script_read(struct upkc_boot *b, struct upkc_boot_state *ret,
				struct upk_diag *diag)
{
	_cleanup_buf_ struct upk_buf out = UPK_BUF_INIT;
	enum upk_err r = script_run(b, "read", NULL, NULL, &out, diag);

	if (r)
		return r;
	return parse_state_text((char *)out.data, out.len, "boot script output", ret, diag);
}

static enum upk_err script_arm_trial(struct upkc_boot *b, int slot, unsigned tries,
				     struct upk_diag *diag)
{
	char n[16];

	snprintf(n, sizeof(n), "%u", tries);
	return script_run(b, "arm-trial", upkc_slot_name(slot), n, NULL, diag);
}

static enum upk_err script_set_good(struct upkc_boot *b, int slot, struct upk_diag *diag)
{
	return script_run(b, "set-good", upkc_slot_name(slot), NULL, NULL, diag);
}

/* ---- the table ---- */

static const struct boot_ops boot_backends[] = {
	[UPKC_BOOT_FILE] = { "file", "[boot] file", file_setting, file_read, file_arm_trial,
			     file_set_good },
	[UPKC_BOOT_UBOOT] = { "uboot", "[boot] fw_env_config", uboot_setting, uboot_read,
			      uboot_arm_trial, uboot_set_good },
	[UPKC_BOOT_GRUB] = { "grub", "[boot] grubenv", grub_setting, grub_read, grub_arm_trial,
			     grub_set_good },
	[UPKC_BOOT_SCRIPT] = { "script", "[boot] script", script_setting, script_read,
			       script_arm_trial, script_set_good },
};

enum upk_err upkc_boot_open(const struct upkc_config *cfg, struct upkc_boot **ret,
			    struct upk_diag *reterr_diag)
{
	const struct boot_ops *ops;
	const char *setting;
	struct upkc_boot *b;

	if ((size_t)cfg->boot_backend >= UPK_ARRAY_SIZE(boot_backends) ||
	    !boot_backends[cfg->boot_backend].name)
		return upk_diag_set(reterr_diag, UPK_E_CONFIG, NULL, -1,
				    "[boot] backend is not set");
	ops = &boot_backends[cfg->boot_backend];
	setting = ops->setting(cfg);
	if (!setting || !setting[0])
		return upk_diag_set(reterr_diag, UPK_E_CONFIG, NULL, -1,
				    "%s is required with backend = %s", ops->key, ops->name);
	b = calloc(1, sizeof(*b));
	if (!b)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, "out of memory");
	b->cfg = cfg;
	b->ops = ops;
	*ret = b;
	return UPK_OK;
}

void upkc_boot_free(struct upkc_boot *b)
{
	free(b);
}

const char *upkc_boot_name(const struct upkc_boot *b)
{
	return b->ops->name;
}

enum upk_err upkc_boot_read(struct upkc_boot *b, struct upkc_boot_state *ret,
			    struct upk_diag *reterr_diag)
{
	struct upkc_boot_state st;
	enum upk_err r = b->ops->read(b, &st, reterr_diag);

	if (r)
		return r;
	/* Boots left only mean something while a trial is armed. */
	if (!st.trial)
		st.tries_left = 0;
	*ret = st;
	return UPK_OK;
}

/* tries comes from [boot] trial_boots: checked by the config parse, and again here. */
static enum upk_err check_change(int slot, unsigned tries, struct upk_diag *diag)
{
	assert(slot == UPKC_SLOT_A || slot == UPKC_SLOT_B);
	if (tries < 1 || tries > UPKC_BOOT_MAX_TRIES)
		return upk_diag_set(diag, UPK_E_CONFIG, NULL, -1,
				    "[boot] trial_boots %u is outside 1..%d", tries,
				    UPKC_BOOT_MAX_TRIES);
	return UPK_OK;
}

enum upk_err upkc_boot_arm_trial(struct upkc_boot *b, int slot, unsigned tries,
				 struct upk_diag *reterr_diag)
{
	enum upk_err r = check_change(slot, tries, reterr_diag);

	if (r)
		return r;
	return b->ops->arm_trial(b, slot, tries, reterr_diag);
}

enum upk_err upkc_boot_set_good(struct upkc_boot *b, int slot, struct upk_diag *reterr_diag)
{
	enum upk_err r = check_change(slot, 1, reterr_diag);

	if (r)
		return r;
	return b->ops->set_good(b, slot, reterr_diag);
}

enum upk_err upkc_boot_booted_slot(const char *path, int *ret_slot, struct upk_diag *reterr_diag)
{
	static const char *const prefixes[] = { "upkeep.slot=", "rauc.slot=" };
	_cleanup_buf_ struct upk_buf text = UPK_BUF_INIT;
	struct upk_diag rd;
	char *p, *save = NULL;
	enum upk_err r;

	upk_diag_clear(&rd);
	r = upk_io_read_file(path, BOOT_TEXT_MAX, &text, NULL, &rd);
	if (r)
		return upk_diag_set(reterr_diag, r == UPK_E_NOMEM ? r : UPK_E_IO, path, -1,
				    "cannot read the kernel command line: %s", rd.reason);
	if (text.len == 0 || memchr(text.data, 0, text.len))
		return upk_diag_set(reterr_diag, UPK_E_IO, path, -1,
				    "no upkeep.slot=A|B in the kernel command line");
	for (p = strtok_r((char *)text.data, " \t\n\r\v\f", &save); p;
	     p = strtok_r(NULL, " \t\n\r\v\f", &save)) {
		for (size_t i = 0; i < UPK_ARRAY_SIZE(prefixes); i++) {
			size_t plen = strlen(prefixes[i]);
			int slot;

			if (strncmp(p, prefixes[i], plen) != 0)
				continue;
			if (!upkc_slot_parse(p + plen, &slot))
				return upk_diag_set(
					reterr_diag, UPK_E_IO, path, -1,
					"kernel command line: '%.64s' names no slot A or B", p);
			*ret_slot = slot;
			return UPK_OK;
		}
	}
	return upk_diag_set(reterr_diag, UPK_E_IO, path, -1,
			    "no upkeep.slot=A|B in the kernel command line");
}
