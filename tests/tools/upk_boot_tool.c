/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upk_boot_tool: drives client/boot.c from shell tests (tests/cli/test_bootsim.sh), together
 * with the bootloader simulator tests/sim/upk-bootsim.
 *
 *   upk_boot_tool --backend file   --file PATH                         COMMAND
 *   upk_boot_tool --backend uboot  --fw-config CFG [--default-env F]   COMMAND
 *   upk_boot_tool --backend grub   --grubenv PATH                      COMMAND
 *   upk_boot_tool --backend script --script 'COMMAND LINE'             COMMAND
 *   (any backend: [--state-dir DIR], where the uboot backend puts its fw_setenv script)
 *
 * COMMAND: read (prints the four facts as the file backend's lines), arm SLOT TRIES,
 * good SLOT, booted CMDLINE-FILE (prints A or B). Errors: one line on stderr, the exit code
 * of the error (CLI.md); bad usage exits 2.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot.h"

static int usage(const char *why)
{
	fprintf(stderr,
		"upk_boot_tool: %s\n"
		"usage: upk_boot_tool --backend file|uboot|grub|script [--file P] [--fw-config P]\n"
		"       [--default-env P] [--grubenv P] [--script CMD] [--state-dir D]\n"
		"       read | arm SLOT TRIES | good SLOT | booted CMDLINE\n",
		why);
	return 2;
}

static int fail(enum upk_err r, const struct upk_diag *d)
{
	char line[600];

	upk_diag_format(d, line, sizeof(line));
	fprintf(stderr, "upk_boot_tool: %s\n", line);
	return upk_err_exit_code(r);
}

static bool parse_tries(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > 1000)
		return false;
	*ret = (unsigned)v;
	return true;
}

int main(int argc, char **argv)
{
	struct upkc_config cfg;
	_cleanup_(upkc_boot_freep) struct upkc_boot *b = NULL;
	struct upk_diag d;
	enum upk_err r;
	int i = 1, slot;

	memset(&cfg, 0, sizeof(cfg));
	upk_diag_clear(&d);
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		const char *o = argv[i], *v = argv[i + 1];

		if (strcmp(o, "--backend") == 0) {
			if (strcmp(v, "file") == 0)
				cfg.boot_backend = UPKC_BOOT_FILE;
			else if (strcmp(v, "uboot") == 0)
				cfg.boot_backend = UPKC_BOOT_UBOOT;
			else if (strcmp(v, "grub") == 0)
				cfg.boot_backend = UPKC_BOOT_GRUB;
			else if (strcmp(v, "script") == 0)
				cfg.boot_backend = UPKC_BOOT_SCRIPT;
			else
				return usage("unknown backend");
		} else if (strcmp(o, "--file") == 0) {
			cfg.boot_file = argv[i + 1];
		} else if (strcmp(o, "--fw-config") == 0) {
			cfg.uboot_config = argv[i + 1];
		} else if (strcmp(o, "--default-env") == 0) {
			cfg.uboot_default_env = argv[i + 1];
		} else if (strcmp(o, "--grubenv") == 0) {
			cfg.grubenv = argv[i + 1];
		} else if (strcmp(o, "--script") == 0) {
			cfg.boot_script = argv[i + 1];
		} else if (strcmp(o, "--state-dir") == 0) {
			cfg.state_dir = argv[i + 1];
		} else {
			return usage("unknown option");
		}
	}
	if (i >= argc)
		return usage("no command");

	if (strcmp(argv[i], "booted") == 0) {
		if (argc - i != 2)
			return usage("booted CMDLINE");
		r = upkc_boot_booted_slot(argv[i + 1], &slot, &d);
		if (r)
			return fail(r, &d);
		printf("%s\n", upkc_slot_name(slot));
		return 0;
	}

	r = upkc_boot_open(&cfg, &b, &d);
	if (r)
		return fail(r, &d);
	if (strcmp(argv[i], "read") == 0 && argc - i == 1) {
		struct upkc_boot_state st;

		r = upkc_boot_read(b, &st, &d);
		if (r)
			return fail(r, &d);
		printf("primary=%s\nfallback=%s\ntrial=%d\ntries_left=%u\n",
		       upkc_slot_name(st.primary), upkc_slot_name(st.fallback), st.trial ? 1 : 0,
		       st.tries_left);
	} else if (strcmp(argv[i], "arm") == 0 && argc - i == 3) {
		unsigned tries;

		if (!upkc_slot_parse(argv[i + 1], &slot) || !parse_tries(argv[i + 2], &tries))
			return usage("arm SLOT TRIES");
		r = upkc_boot_arm_trial(b, slot, tries, &d);
	} else if (strcmp(argv[i], "good") == 0 && argc - i == 2) {
		if (!upkc_slot_parse(argv[i + 1], &slot))
			return usage("good SLOT");
		r = upkc_boot_set_good(b, slot, &d);
	} else {
		return usage("unknown command or wrong arguments");
	}
	return r ? fail(r, &d) : 0;
}
