/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for client/boot: each backend against real files in a
 * temporary directory with the real tools (fw_printenv/fw_setenv of
 * libubootenv-tool, grub-editenv): the default state, arm_trial and
 * set_good read back, malformed state refused (and left as it was), missing
 * settings, failing tools, and the kernel command line. A missing tool
 * fails these tests: the tools are part of the build dependencies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "boot.h"

struct fx {
	char dir[256];
	char path[512];
	struct upkc_config cfg;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	upk_test_tmpdir(fx->dir, sizeof(fx->dir), "upk-boot");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	upk_test_rmdir(fx->dir);
	free(fx);
	return 0;
}

/* fx->dir/name (malloc'd). */
static char *in_dir(struct fx *fx, const char *name)
{
	char *p = malloc(600);

	assert_non_null(p);
	snprintf(p, 600, "%s/%s", fx->dir, name);
	return p;
}

static void write_text(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_str(const char *path, const char *text)
{
	write_text(path, text, strlen(text));
}

/* The whole file, NUL-terminated (malloc'd), or NULL if it does not exist. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = calloc(1, 65536);
	assert_non_null(buf);
	n = fread(buf, 1, 65535, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* stdout of a shell command (malloc'd); asserts exit status 0. */
static char *run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *run(const char *fmt, ...)
{
	char cmd[2048];
	char *buf = calloc(1, 65536);
	size_t n;
	va_list ap;
	FILE *p;

	assert_non_null(buf);
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, 65535, p);
	buf[n] = 0;
	assert_int_equal(pclose(p), 0);
	return buf;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void expect_state(struct upkc_boot *b, int primary, int fallback, bool trial, unsigned tries)
{
	struct upkc_boot_state st;
	struct upk_diag d;

	memset(&st, 0x5a, sizeof(st));
	upk_diag_clear(&d);
	if (upkc_boot_read(b, &st, &d) != UPK_OK)
		fail_msg("read failed: %s: %s", d.where, d.reason);
	assert_int_equal(st.primary, primary);
	assert_int_equal(st.fallback, fallback);
	assert_int_equal(st.trial, trial);
	assert_int_equal(st.tries_left, tries);
}

/* A read refused with UPK_E_IO, the state output untouched, diag matching. */
static void expect_refused(struct upkc_boot *b, const char *where_has, const char *reason_has)
{
	struct upkc_boot_state st;
	struct upk_diag d;

	memset(&st, 0x5a, sizeof(st));
	upk_diag_clear(&d);
	assert_int_equal(upkc_boot_read(b, &st, &d), UPK_E_IO);
	assert_int_equal(st.primary, 0x5a5a5a5a);
	if (where_has && !strstr(d.where, where_has))
		fail_msg("where '%s' lacks '%s'", d.where, where_has);
	if (reason_has && !strstr(d.reason, reason_has))
		fail_msg("reason '%s' lacks '%s'", d.reason, reason_has);
}

static void test_slot_names(void **state)
{
	int s = 7;

	assert_string_equal(upkc_slot_name(UPKC_SLOT_A), "A");
	assert_string_equal(upkc_slot_name(UPKC_SLOT_B), "B");
	assert_string_equal(upkc_slot_name(2), "?");
	assert_string_equal(upkc_slot_name(-1), "?");
	assert_true(upkc_slot_parse("A", &s) && s == UPKC_SLOT_A);
	assert_true(upkc_slot_parse("b", &s) && s == UPKC_SLOT_B);
	assert_true(upkc_slot_parse("a", &s) && s == UPKC_SLOT_A);
	s = 7;
	assert_false(upkc_slot_parse("", &s));
	assert_false(upkc_slot_parse("C", &s));
	assert_false(upkc_slot_parse("AB", &s));
	assert_false(upkc_slot_parse("A ", &s));
	assert_false(upkc_slot_parse(NULL, &s));
	assert_int_equal(s, 7);
}

static void expect_open_config(struct upkc_config *cfg, const char *reason_has)
{
	struct upkc_boot *b = (struct upkc_boot *)0x1;
	struct upk_diag d;

	assert_int_equal(upkc_boot_open(cfg, &b, &d), UPK_E_CONFIG);
	assert_ptr_equal(b, (struct upkc_boot *)0x1);
	if (!strstr(d.reason, reason_has))
		fail_msg("reason '%s' lacks '%s'", d.reason, reason_has);
}

static void test_open_needs_settings(void **state)
{
	struct upkc_config cfg;
	char empty[] = "", path[] = "/x";
	struct upkc_boot *b = NULL;

	memset(&cfg, 0, sizeof(cfg));
	expect_open_config(&cfg, "[boot] backend");
	cfg.boot_backend = (enum upkc_boot_backend)99;
	expect_open_config(&cfg, "[boot] backend");
	cfg.boot_backend = UPKC_BOOT_FILE;
	expect_open_config(&cfg, "[boot] file");
	cfg.boot_file = empty;
	expect_open_config(&cfg, "[boot] file");
	cfg.boot_backend = UPKC_BOOT_UBOOT;
	cfg.uboot_default_env = path; /* without fw_env_config it is not enough */
	expect_open_config(&cfg, "[boot] fw_env_config");
	cfg.boot_backend = UPKC_BOOT_GRUB;
	expect_open_config(&cfg, "[boot] grubenv");
	cfg.boot_backend = UPKC_BOOT_SCRIPT;
	expect_open_config(&cfg, "[boot] script");

	cfg.boot_script = path;
	assert_int_equal(upkc_boot_open(&cfg, &b, NULL), UPK_OK);
	assert_string_equal(upkc_boot_name(b), "script");
	upkc_boot_free(b);
	upkc_boot_free(NULL);
	cfg.boot_backend = UPKC_BOOT_GRUB;
	cfg.grubenv = path;
	assert_int_equal(upkc_boot_open(&cfg, &b, NULL), UPK_OK);
	assert_string_equal(upkc_boot_name(b), "grub");
	upkc_boot_free(b);
	cfg.boot_backend = UPKC_BOOT_UBOOT;
	cfg.uboot_config = path;
	assert_int_equal(upkc_boot_open(&cfg, &b, NULL), UPK_OK);
	assert_string_equal(upkc_boot_name(b), "uboot");
	upkc_boot_free(b);
	cfg.boot_backend = UPKC_BOOT_FILE;
	cfg.boot_file = path;
	assert_int_equal(upkc_boot_open(&cfg, &b, NULL), UPK_OK);
	assert_string_equal(upkc_boot_name(b), "file");
	upkc_boot_free(b);
}

/* ---- file ---- */

static void test_file_backend(void **state)
{
	struct fx *fx = *state;
	_cleanup_free_ char *path = in_dir(fx, "boot.state");
	_cleanup_(upkc_boot_freep) struct upkc_boot *b = NULL;
	char *text;
	struct upk_diag d;

	fx->cfg.boot_backend = UPKC_BOOT_FILE;
	fx->cfg.boot_file = path;
	assert_int_equal(upkc_boot_open(&fx->cfg, &b, NULL), UPK_OK);
	/* No file: the default state, and the read creates nothing. */
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, false, 0);
	assert_int_equal(count_entries(fx->dir), 0);

	assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, 3, NULL), UPK_OK);
	text = slurp(path);
	assert_string_equal(text, "primary=B\nfallback=A\ntrial=1\ntries_left=3\n");
	free(text);
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 3);

	assert_int_equal(upkc_boot_set_good(b, UPKC_SLOT_B, NULL), UPK_OK);
	text = slurp(path);
	assert_string_equal(text, "primary=B\nfallback=A\ntrial=0\ntries_left=0\n");
	free(text);
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, false, 0);

	assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_A, UPKC_BOOT_MAX_TRIES, NULL), UPK_OK);
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, true, UPKC_BOOT_MAX_TRIES);
	assert_int_equal(count_entries(fx->dir), 1); /* no temporary left behind */

	/* Out-of-range tries: refused, nothing written. */
	assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, 0, &d), UPK_E_CONFIG);
	assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, UPKC_BOOT_MAX_TRIES + 1, &d),
			 UPK_E_CONFIG);
	assert_non_null(strstr(d.reason, "trial_boots"));
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, true, UPKC_BOOT_MAX_TRIES);

	/* A file the bootloader rewrote after a fallback: primary equals fallback. */
	write_str(path, "primary=A\nfallback=A\ntrial=0\ntries_left=0\n");
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_A, false, 0);
	/* Any order, lower-case slots, no final newline; tries_left reads 0 without a trial. */
	write_str(path, "tries_left=2\ntrial=0\nfallback=b\nprimary=a");
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, false, 0);
	/* An empty file holds no state yet. */
	write_str(path, "");
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, false, 0);
}

static void test_file_malformed(void **state)
{
	static const struct {
		const char *text;
		const char *where; /* suffix of diag.where after the path */
		const char *reason;
	} bad[] = {
		{ "primary=C\nfallback=A\ntrial=1\ntries_left=3\n", ":1", "bad primary" },
		{ "primary=B\nfallback=\ntrial=1\ntries_left=3\n", ":2", "bad fallback" },
		{ "primary=B\nfallback=A\ntrial=2\ntries_left=3\n", ":3", "bad trial" },
		{ "primary=B\nfallback=A\ntrial=yes\ntries_left=3\n", ":3", "bad trial" },
		{ "primary=B\nfallback=A\ntrial=1\ntries_left=17\n", ":4", "bad tries_left" },
		{ "primary=B\nfallback=A\ntrial=1\ntries_left=-1\n", ":4", "bad tries_left" },
		{ "primary=B\nfallback=A\ntrial=1\ntries_left=\n", ":4", "bad tries_left" },
		{ "primary=B\nfallback=A\ntrial=1\ntries_left= 3\n", ":4", "bad tries_left" },
		{ "primary=B\nfallback=A\ntrial=1\ntries_left=99999999999999999999\n", ":4",
		  "bad tries_left" },
		{ "primary=B\nfallback=A\ntrial=1\n", "", "tries_left is missing" },
		{ "primary=B\nprimary=B\nfallback=A\ntrial=1\ntries_left=3\n", ":2", "twice" },
		{ "primary=B\nfallback=A\ntrial=1\ntries_left=3\nextra=1\n", ":5", "unknown key" },
		{ "primary=B\nfallback=A\n\ntrial=1\ntries_left=3\n", ":3", "not a key=value" },
		{ "primary=B\r\nfallback=A\r\ntrial=1\r\ntries_left=3\r\n", ":1", "bad primary" },
		{ "primary B\nfallback=A\ntrial=1\ntries_left=3\n", ":1", "not a key=value" },
		{ " primary=B\nfallback=A\ntrial=1\ntries_left=3\n", ":1", "unknown key" },
		{ "\n", ":1", "not a key=value" },
	};
	struct fx *fx = *state;
	_cleanup_free_ char *path = in_dir(fx, "boot.state");
	_cleanup_(upkc_boot_freep) struct upkc_boot *b = NULL;
	char where[600], big[5000];

	fx->cfg.boot_backend = UPKC_BOOT_FILE;
	fx->cfg.boot_file = path;
	assert_int_equal(upkc_boot_open(&fx->cfg, &b, NULL), UPK_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(path, bad[i].text, strlen(bad[i].text));
		snprintf(where, sizeof(where), "%s%s", path, bad[i].where);
		expect_refused(b, where, bad[i].reason);
	}
	/* A NUL byte, a file over 4096 bytes, a directory. */
	write_text(path, "primary=B\0\nfallback=A\ntrial=1\ntries_left=3\n", 43);
	expect_refused(b, path, "NUL");
	memset(big, 'x', sizeof(big));
	write_text(path, big, sizeof(big));
	expect_refused(b, path, "cannot read the boot state");
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	expect_refused(b, path, "cannot read the boot state");
	/* And writing over a directory fails cleanly. */
	assert_int_not_equal(upkc_boot_set_good(b, UPKC_SLOT_A, NULL), UPK_OK);
}

/* ---- uboot ---- */

struct uboot_fx {
	char *cfgfile, *envfile, *defenv, *statedir;
};

static void uboot_setup(struct fx *fx, struct uboot_fx *u)
{
	char line[700];

	u->cfgfile = in_dir(fx, "fw_env.config");
	u->envfile = in_dir(fx, "uboot.env");
	u->defenv = in_dir(fx, "default.env");
	u->statedir = in_dir(fx, "state");
	snprintf(line, sizeof(line), "%s 0x0 0x4000\n", u->envfile);
	write_text(u->cfgfile, line, strlen(line));
	write_str(u->envfile, ""); /* a fresh, not yet valid environment */
	write_str(u->defenv, "bootcmd=run upkeep_boot\nbootdelay=0\n");
	assert_int_equal(mkdir(u->statedir, 0700), 0);
	fx->cfg.boot_backend = UPKC_BOOT_UBOOT;
	fx->cfg.uboot_config = u->cfgfile;
	fx->cfg.state_dir = u->statedir;
}

static void uboot_done(struct uboot_fx *u)
{
	free(u->cfgfile);
	free(u->envfile);
	free(u->defenv);
	free(u->statedir);
}

/* The value of one variable as fw_printenv lists it ("" when absent). */
static char *env_var(const struct uboot_fx *u, const char *name)
{
	char *all = run("fw_printenv -c '%s' 2>/dev/null", u->cfgfile), *line, *save = NULL;
	char *val = strdup("");
	size_t nl = strlen(name);

	assert_non_null(val);
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, name, nl) == 0 && line[nl] == '=') {
			free(val);
			val = strdup(line + nl + 1);
			assert_non_null(val);
		}
	}
	free(all);
	return val;
}

static void expect_env(const struct uboot_fx *u, const char *name, const char *want)
{
	char *v = env_var(u, name);

	if (strcmp(v, want) != 0)
		fail_msg("%s is '%s', want '%s'", name, v, want);
	free(v);
}

static void fw_setenv(const struct uboot_fx *u, const char *name, const char *value)
{
	free(run("fw_setenv -c '%s' -- %s '%s' 2>/dev/null", u->cfgfile, name, value));
}

static void test_uboot_backend(void **state)
{
	struct fx *fx = *state;
	struct uboot_fx u;
	struct upkc_boot *b = NULL;
	struct upk_diag d;

	uboot_setup(fx, &u);
	assert_int_equal(upkc_boot_open(&fx->cfg, &b, NULL), UPK_OK);
	/* A fresh environment cannot be read without the default environment (DESIGN.md). */
	expect_refused(b, u.cfgfile, "fw_printenv exited with status");
	assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, 2, &d), UPK_E_IO);
	assert_string_equal(d.where, u.cfgfile);
	assert_non_null(strstr(d.reason, "fw_setenv exited with status"));
	assert_int_equal(count_entries(u.statedir), 0); /* the script file is gone */

	/* With it: the default state, then a trial. */
	fx->cfg.uboot_default_env = u.defenv;
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, false, 0);
	assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, 2, NULL), UPK_OK);
	assert_int_equal(count_entries(u.statedir), 0);
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 2);

	/* The environment is valid now: readable without the default, which it kept. */
	fx->cfg.uboot_default_env = NULL;
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 2);
	expect_env(&u, "upkeep_slot", "B");
	expect_env(&u, "upkeep_fallback", "A");
	expect_env(&u, "upgrade_available", "1");
	expect_env(&u, "bootcount", "0");
	expect_env(&u, "bootlimit", "2");
	expect_env(&u, "altbootcmd",
		   "setenv upkeep_slot ${upkeep_fallback}; setenv upgrade_available 0; "
		   "setenv bootcount 0; saveenv; run bootcmd");
	expect_env(&u, "bootcmd", "run upkeep_boot");

	/* U-Boot counts the boots: tries_left = bootlimit - bootcount, not below 0. */
	fw_setenv(&u, "bootcount", "1");
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 1);
	fw_setenv(&u, "bootcount", "3");
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 0);

	assert_int_equal(upkc_boot_set_good(b, UPKC_SLOT_B, NULL), UPK_OK);
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, false, 0);
	expect_env(&u, "upgrade_available", "0");
	expect_env(&u, "bootcount", "0");

	/* The rollback direction, and the fallback after altbootcmd ran. */
	assert_int_equal(upkc_boot_set_good(b, UPKC_SLOT_A, NULL), UPK_OK);
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, false, 0);
	fw_setenv(&u, "upkeep_fallback", "A");
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_A, false, 0);

	/* Without state_dir the script goes to $TMPDIR. */
	fx->cfg.state_dir = NULL;
	{
		const char *old = getenv("TMPDIR");
		char *saved = old ? strdup(old) : NULL;

		assert_int_equal(setenv("TMPDIR", u.statedir, 1), 0);
		assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, 5, NULL), UPK_OK);
		if (saved)
			assert_int_equal(setenv("TMPDIR", saved, 1), 0);
		else
			unsetenv("TMPDIR");
		free(saved);
	}
	assert_int_equal(count_entries(u.statedir), 0);
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 5);

	/* A state directory that does not exist: the write fails, the state stays. */
	fx->cfg.state_dir = fx->dir;
	{
		char *gone = in_dir(fx, "no/such/dir");

		fx->cfg.state_dir = gone;
		assert_int_equal(upkc_boot_set_good(b, UPKC_SLOT_A, &d), UPK_E_IO);
		assert_non_null(strstr(d.reason, "cannot create the fw_setenv script"));
		free(gone);
	}
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 5);
	upkc_boot_free(b);
	uboot_done(&u);
}

static void test_uboot_malformed(void **state)
{
	static const struct {
		const char *name, *value;
	} bad[] = {
		{ "upkeep_slot", "C" },		{ "upkeep_slot", "AB" },
		{ "upkeep_fallback", "x" },	{ "upgrade_available", "2" },
		{ "upgrade_available", "yes" }, { "bootcount", "abc" },
		{ "bootcount", "-1" },		{ "bootlimit", "0x3" },
		{ "bootlimit", "99999999" },
	};
	struct fx *fx = *state;
	struct uboot_fx u;
	struct upkc_boot *b = NULL;
	char *before, *after;
	struct upk_diag d;

	uboot_setup(fx, &u);
	fx->cfg.uboot_default_env = u.defenv;
	assert_int_equal(upkc_boot_open(&fx->cfg, &b, NULL), UPK_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char reason[64];

		assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, 3, NULL), UPK_OK);
		fw_setenv(&u, bad[i].name, bad[i].value);
		before = slurp(u.envfile);
		snprintf(reason, sizeof(reason), "bad %s value", bad[i].name);
		expect_refused(b, u.cfgfile, reason);
		expect_env(&u, bad[i].name, bad[i].value);
		after = slurp(u.envfile);
		assert_memory_equal(before, after, 0x4000); /* a read writes nothing */
		free(before);
		free(after);
	}

	/* A missing fw_env.config or environment file: the tool fails, named with its status. */
	assert_int_equal(unlink(u.envfile), 0);
	expect_refused(b, u.cfgfile, "fw_printenv exited with status");
	assert_int_equal(unlink(u.cfgfile), 0);
	assert_int_equal(upkc_boot_set_good(b, UPKC_SLOT_A, &d), UPK_E_IO);
	assert_string_equal(d.where, u.cfgfile);
	assert_non_null(strstr(d.reason, "fw_setenv exited with status"));
	assert_int_equal(count_entries(u.statedir), 0);
	upkc_boot_free(b);
	uboot_done(&u);
}

/* ---- grub ---- */

static void grub_set(const char *file, const char *assignment)
{
	free(run("grub-editenv '%s' set '%s'", file, assignment));
}

static void test_grub_backend(void **state)
{
	struct fx *fx = *state;
	_cleanup_free_ char *env = in_dir(fx, "grubenv");
	_cleanup_(upkc_boot_freep) struct upkc_boot *b = NULL;
	char *list;

	fx->cfg.boot_backend = UPKC_BOOT_GRUB;
	fx->cfg.grubenv = env;
	assert_int_equal(upkc_boot_open(&fx->cfg, &b, NULL), UPK_OK);
	/* No file: the default, and the read does not create it. */
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, false, 0);
	assert_int_equal(count_entries(fx->dir), 0);

	/* arm_trial creates the file. */
	assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, 3, NULL), UPK_OK);
	list = run("grub-editenv '%s' list", env);
	assert_string_equal(list, "upkeep_slot=B\nupkeep_fallback=A\nupkeep_trial=1\n"
				  "upkeep_tries=111\n");
	free(list);
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 3);

	/* grub.cfg shortens upkeep_tries by one per boot. */
	grub_set(env, "upkeep_tries=1");
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 1);
	grub_set(env, "upkeep_tries=");
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 0);

	/* Other variables of the device maker stay. */
	grub_set(env, "saved_entry=linux");
	assert_int_equal(upkc_boot_set_good(b, UPKC_SLOT_B, NULL), UPK_OK);
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, false, 0);
	list = run("grub-editenv '%s' list", env);
	assert_string_equal(list, "upkeep_slot=B\nupkeep_fallback=A\nupkeep_trial=0\n"
				  "upkeep_tries=\nsaved_entry=linux\n");
	free(list);
	assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_A, UPKC_BOOT_MAX_TRIES, NULL), UPK_OK);
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, true, UPKC_BOOT_MAX_TRIES);

	/* An existing environment without our variables reads as the default. */
	assert_int_equal(unlink(env), 0);
	free(run("grub-editenv '%s' create", env));
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, false, 0);
}

static void test_grub_malformed(void **state)
{
	static const struct {
		const char *assignment, *reason;
	} bad[] = {
		{ "upkeep_tries=1x1", "bad upkeep_tries" },
		{ "upkeep_tries=11111111111111111", "bad upkeep_tries" },
		{ "upkeep_tries=0", "bad upkeep_tries" },
		{ "upkeep_slot=Z", "bad upkeep_slot" },
		{ "upkeep_slot=", "bad upkeep_slot" },
		{ "upkeep_fallback=AA", "bad upkeep_fallback" },
		{ "upkeep_trial=yes", "bad upkeep_trial" },
	};
	struct fx *fx = *state;
	_cleanup_free_ char *env = in_dir(fx, "grubenv");
	_cleanup_free_ char *nodir = in_dir(fx, "missing/grubenv");
	_cleanup_(upkc_boot_freep) struct upkc_boot *b = NULL;
	struct upk_diag d;

	fx->cfg.boot_backend = UPKC_BOOT_GRUB;
	fx->cfg.grubenv = env;
	assert_int_equal(upkc_boot_open(&fx->cfg, &b, NULL), UPK_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *before, *after;

		assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, 2, NULL), UPK_OK);
		grub_set(env, bad[i].assignment);
		before = slurp(env);
		expect_refused(b, env, bad[i].reason);
		after = slurp(env);
		assert_string_equal(before, after);
		free(before);
		free(after);
	}
	/* Not a GRUB environment block: grub-editenv fails, named with its status. */
	write_str(env, "garbage\n");
	expect_refused(b, env, "grub-editenv exited with status");
	assert_int_equal(upkc_boot_set_good(b, UPKC_SLOT_A, &d), UPK_E_IO);
	assert_string_equal(d.where, env);
	/* A file in a missing directory cannot be created. */
	fx->cfg.grubenv = nodir;
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, false, 0);
	assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, 2, &d), UPK_E_IO);
	assert_string_equal(d.where, nodir);
	assert_non_null(strstr(d.reason, "grub-editenv exited with status"));
}

/* ---- script ---- */

/* A boot script keeping the file backend's format in $1, logging its arguments to $2. */
static const char boot_script[] =
	"state=$1 log=$2; shift 2\n"
	"echo \"$*\" >> \"$log\"\n"
	"case $1 in\n"
	"read) [ ! -f \"$state\" ] || cat \"$state\" ;;\n"
	"arm-trial) if [ \"$2\" = A ]; then o=B; else o=A; fi\n"
	"  printf 'primary=%s\\nfallback=%s\\ntrial=1\\ntries_left=%s\\n' \"$2\" $o \"$3\" "
	"> \"$state\" ;;\n"
	"set-good) if [ \"$2\" = A ]; then o=B; else o=A; fi\n"
	"  printf 'primary=%s\\nfallback=%s\\ntrial=0\\ntries_left=0\\n' \"$2\" $o > \"$state\" "
	";;\n"
	"*) exit 64 ;;\n"
	"esac\n";

static void test_script_backend(void **state)
{
	struct fx *fx = *state;
	_cleanup_free_ char *script = in_dir(fx, "boot ctl.sh");
	_cleanup_free_ char *st = in_dir(fx, "state");
	_cleanup_free_ char *log = in_dir(fx, "log");
	_cleanup_(upkc_boot_freep) struct upkc_boot *b = NULL;
	char cmd[2048];
	char *text;
	struct upk_diag d;

	write_text(script, boot_script, strlen(boot_script));
	/* The configured command holds its own (quoted) arguments. */
	snprintf(cmd, sizeof(cmd), "/bin/sh '%s' '%s' '%s'", script, st, log);
	fx->cfg.boot_backend = UPKC_BOOT_SCRIPT;
	fx->cfg.boot_script = cmd;
	assert_int_equal(upkc_boot_open(&fx->cfg, &b, NULL), UPK_OK);
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, false, 0); /* no output: no state yet */
	assert_int_equal(upkc_boot_arm_trial(b, UPKC_SLOT_B, 4, NULL), UPK_OK);
	expect_state(b, UPKC_SLOT_B, UPKC_SLOT_A, true, 4);
	assert_int_equal(upkc_boot_set_good(b, UPKC_SLOT_A, NULL), UPK_OK);
	expect_state(b, UPKC_SLOT_A, UPKC_SLOT_B, false, 0);
	text = slurp(log);
	assert_string_equal(text, "read\narm-trial B 4\nread\nset-good A\nread\n");
	free(text);

	/* Malformed output. */
	write_str(st, "primary=Q\n");
	expect_refused(b, "boot script output:1", "bad primary");
	write_str(st, "primary=A\nfallback=B\ntrial=1\n");
	expect_refused(b, "boot script output", "tries_left is missing");

	/* Failing, unknown or too talkative scripts. */
	snprintf(cmd, sizeof(cmd), "exit 3;");
	expect_refused(b, "exit 3;", "boot script exited with status 3");
	assert_int_equal(upkc_boot_set_good(b, UPKC_SLOT_A, &d), UPK_E_IO);
	assert_non_null(strstr(d.reason, "status 3"));
	snprintf(cmd, sizeof(cmd), "/nonexistent/bootctl");
	expect_refused(b, "/nonexistent/bootctl", "status 127");
	snprintf(cmd, sizeof(cmd), "head -c 5000 /dev/zero | tr '\\0' x; :");
	expect_refused(b, NULL, "boot script");
}

/* ---- the kernel command line ---- */

static void test_booted_slot(void **state)
{
	static const struct {
		const char *text;
		int slot; /* -1: refused */
	} cases[] = {
		{ "root=/dev/mmcblk0p3 upkeep.slot=B quiet\n", UPKC_SLOT_B },
		{ "upkeep.slot=A", UPKC_SLOT_A },
		{ "console=ttyS0\tupkeep.slot=b\n", UPKC_SLOT_B },
		{ "rauc.slot=A rootwait", UPKC_SLOT_A },
		{ "rauc.slot=B upkeep.slot=A", UPKC_SLOT_B },
		{ "upkeep.slot=A rauc.slot=B", UPKC_SLOT_A },
		{ "x\n\nupkeep.slot=B\n", UPKC_SLOT_B },
		{ "xupkeep.slot=A", -1 },
		{ "upkeep.slot=C", -1 },
		{ "upkeep.slot=", -1 },
		{ "upkeep.slot=AB upkeep.slot=A", -1 },
		{ "upkeep.slotA", -1 },
		{ "upkeep.slot = A", -1 },
		{ "root=/dev/sda2 quiet", -1 },
		{ "", -1 },
	};
	struct fx *fx = *state;
	_cleanup_free_ char *path = in_dir(fx, "cmdline");
	char big[5000];
	struct upk_diag d;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int slot = 42;

		write_text(path, cases[i].text, strlen(cases[i].text));
		if (cases[i].slot >= 0) {
			assert_int_equal(upkc_boot_booted_slot(path, &slot, NULL), UPK_OK);
			assert_int_equal(slot, cases[i].slot);
		} else {
			assert_int_equal(upkc_boot_booted_slot(path, &slot, &d), UPK_E_IO);
			assert_int_equal(slot, 42);
			assert_string_equal(d.where, path);
		}
	}
	/* A NUL byte, a file over 4096 bytes, no file. */
	write_text(path, "upkeep.slot=A\0", 14);
	assert_int_equal(upkc_boot_booted_slot(path, &(int){ 0 }, &d), UPK_E_IO);
	memset(big, ' ', sizeof(big));
	memcpy(big, "upkeep.slot=A", 13);
	write_text(path, big, sizeof(big));
	assert_int_equal(upkc_boot_booted_slot(path, &(int){ 0 }, &d), UPK_E_IO);
	assert_non_null(strstr(d.reason, "cannot read"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(upkc_boot_booted_slot(path, &(int){ 0 }, &d), UPK_E_IO);
	assert_string_equal(d.where, path);
	/* /proc/cmdline (size 0 in stat) is read whole. */
	{
		char *real = slurp("/proc/cmdline");
		int slot = 42;
		enum upk_err r = upkc_boot_booted_slot("/proc/cmdline", &slot, NULL);

		assert_non_null(real);
		if (strstr(real, "upkeep.slot=") || strstr(real, "rauc.slot="))
			assert_int_not_equal(slot, 42);
		else
			assert_int_equal(r, UPK_E_IO);
		free(real);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slot_names),
		cmocka_unit_test(test_open_needs_settings),
		cmocka_unit_test_setup_teardown(test_file_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uboot_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uboot_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grub_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_grub_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_script_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(test_booted_slot, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
