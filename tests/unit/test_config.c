/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for client/config: upkeep-client.conf(5) parsing and its errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

#define GOOD                                                 \
	"# a device\n"                                       \
	"[repository]\n"                                     \
	"metadata_url = https://updates.example/metadata/\n" \
	"targets_url = https://updates.example/targets/\n"   \
	"\n"                                                 \
	"[device]\n"                                         \
	"state_dir = /var/lib/upkeep\n"                      \
	"trusted_root = /usr/share/upkeep/root.json  ; pinned\n"

/*
 * Fault injection: config.c copies values with strdup, which this
 * definition replaces in the test binary; the Nth call (counted from
 * arming) fails when strdup_fail_at is N.
 */
static int strdup_fail_at, strdup_calls;

char *strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p;

	if (strdup_fail_at && ++strdup_calls == strdup_fail_at) {
		errno = ENOMEM;
		return NULL;
	}
	p = malloc(n);
	if (p)
		memcpy(p, s, n);
	return p;
}

static enum upk_err parse(const char *text, struct upkc_config *cfg, struct upk_diag *d)
{
	upk_diag_clear(d);
	return upkc_config_parse(text, strlen(text), "client.conf", cfg, d);
}

/* text must be refused with UPK_E_CONFIG at `where`, with a reason containing `reason`. */
static void refused(const char *text, const char *where, const char *reason)
{
	char untouched[] = "untouched";
	struct upkc_config cfg = { .metadata_url = untouched };
	struct upk_diag d;

	assert_int_equal(parse(text, &cfg, &d), UPK_E_CONFIG);
	assert_int_equal(d.err, UPK_E_CONFIG);
	assert_string_equal(d.where, where);
	if (!strstr(d.reason, reason))
		fail_msg("reason '%s' lacks '%s'", d.reason, reason);
	assert_string_equal(cfg.metadata_url, "untouched");
	/* The same without a diag. */
	assert_int_equal(upkc_config_parse(text, strlen(text), "client.conf", &cfg, NULL),
			 UPK_E_CONFIG);
}

static void test_good(void **state)
{
	struct upkc_config cfg;
	struct upk_diag d;

	(void)state;
	assert_int_equal(parse(GOOD, &cfg, &d), UPK_OK);
	assert_string_equal(cfg.metadata_url, "https://updates.example/metadata/");
	assert_string_equal(cfg.targets_url, "https://updates.example/targets/");
	assert_string_equal(cfg.state_dir, "/var/lib/upkeep");
	assert_string_equal(cfg.trusted_root, "/usr/share/upkeep/root.json");
	assert_int_equal(cfg.clock_jump_warning_s, UPKC_CONFIG_CLOCK_JUMP_WARNING);
	assert_int_equal(cfg.connect_timeout_s, 0);
	assert_int_equal(cfg.low_speed_limit, 0);
	assert_int_equal(cfg.low_speed_time_s, 0);
	/* The device agent's keys are optional at parse time: their defaults. */
	assert_null(cfg.product);
	assert_null(cfg.hardware);
	assert_string_equal(cfg.factory_version, "0.0.0");
	assert_null(cfg.slot_a);
	assert_null(cfg.slot_b);
	assert_int_equal(cfg.boot_backend, UPKC_BOOT_NONE);
	assert_null(cfg.boot_file);
	assert_null(cfg.uboot_config);
	assert_null(cfg.uboot_default_env);
	assert_null(cfg.grubenv);
	assert_null(cfg.boot_script);
	assert_string_equal(cfg.cmdline, "/proc/cmdline");
	assert_int_equal(cfg.trial_boots, 3);
	assert_null(cfg.reboot_command);
	assert_null(cfg.health_command);
	assert_int_equal(cfg.health_timeout_s, 60);
	assert_null(cfg.models_dir);
	assert_null(cfg.selftest_command);
	assert_int_equal(cfg.selftest_timeout_s, 60);
	assert_true(cfg.security_updates);
	assert_false(cfg.feature_updates);
	assert_int_equal(cfg.poll_interval_s, 3600);
	assert_int_equal(cfg.postpone_max_s, 7 * 86400);
	upkc_config_done(&cfg);
	assert_null(cfg.metadata_url);
	assert_null(cfg.cmdline);
	upkc_config_done(&cfg); /* twice is harmless */
	upkc_config_done(NULL);
}

static void test_all_keys(void **state)
{
	struct upkc_config cfg;
	struct upk_diag d;

	(void)state;
	assert_int_equal(parse(GOOD "clock_jump_warning = 2d\n"
				    "[network]\n"
				    "connect_timeout = 1m\n"
				    "low_speed_limit = 100\n"
				    "low_speed_time = 20\n",
			       &cfg, &d),
			 UPK_OK);
	assert_int_equal(cfg.clock_jump_warning_s, 2 * 86400);
	assert_int_equal(cfg.connect_timeout_s, 60);
	assert_int_equal(cfg.low_speed_limit, 100);
	assert_int_equal(cfg.low_speed_time_s, 20);
	upkc_config_done(&cfg);
	/* Sections in any order, CRLF lines, a BOM, no final newline. */
	assert_int_equal(parse("\xef\xbb\xbf[device]\r\nstate_dir=/s\r\ntrusted_root=/r\r\n"
			       "[repository]\r\nmetadata_url=http://h/m\r\ntargets_url=http://h/t",
			       &cfg, &d),
			 UPK_OK);
	assert_string_equal(cfg.state_dir, "/s");
	assert_string_equal(cfg.targets_url, "http://h/t");
	upkc_config_done(&cfg);
}

/* A device with every key of the agent (the man page's SYNOPSIS, and more). */
#define AGENT                                                          \
	GOOD "product = cam-2000\n"                                    \
	     "hardware = imx8mp:rev-b+wifi\n"                          \
	     "factory_version = 1.2.3-rc.1+build.5\n"                  \
	     "[slots]\n"                                               \
	     "a = /dev/mmcblk0p2\n"                                    \
	     "b = /dev/mmcblk0p3\n"                                    \
	     "[boot]\n"                                                \
	     "backend = file\n"                                        \
	     "file = /boot/upkeep-state\n"                             \
	     "cmdline = /run/cmdline\n"                                \
	     "trial_boots = 16\n"                                      \
	     "reboot_command = systemctl reboot\n"                     \
	     "[health]\n"                                              \
	     "command = /usr/libexec/health --slot \"$UPKEEP_SLOT\"\n" \
	     "timeout = 1d\n"                                          \
	     "[models]\n"                                              \
	     "dir = /var/lib/models\n"                                 \
	     "selftest_command = test -s \"$UPKEEP_MODEL_PATH\"\n"     \
	     "selftest_timeout = 2m\n"                                 \
	     "[policy]\n"                                              \
	     "security_updates = off\n"                                \
	     "feature_updates = auto\n"                                \
	     "poll_interval = 15m\n"                                   \
	     "postpone_max = 30d\n"

static void test_agent_keys(void **state)
{
	struct upkc_config cfg;
	struct upk_diag d;

	(void)state;
	assert_int_equal(parse(AGENT, &cfg, &d), UPK_OK);
	assert_string_equal(cfg.product, "cam-2000");
	assert_string_equal(cfg.hardware, "imx8mp:rev-b+wifi");
	assert_string_equal(cfg.factory_version, "1.2.3-rc.1+build.5");
	assert_string_equal(cfg.slot_a, "/dev/mmcblk0p2");
	assert_string_equal(cfg.slot_b, "/dev/mmcblk0p3");
	assert_int_equal(cfg.boot_backend, UPKC_BOOT_FILE);
	assert_string_equal(cfg.boot_file, "/boot/upkeep-state");
	assert_string_equal(cfg.cmdline, "/run/cmdline");
	assert_int_equal(cfg.trial_boots, 16);
	assert_string_equal(cfg.reboot_command, "systemctl reboot");
	assert_string_equal(cfg.health_command, "/usr/libexec/health --slot \"$UPKEEP_SLOT\"");
	assert_int_equal(cfg.health_timeout_s, 86400);
	assert_string_equal(cfg.models_dir, "/var/lib/models");
	assert_string_equal(cfg.selftest_command, "test -s \"$UPKEEP_MODEL_PATH\"");
	assert_int_equal(cfg.selftest_timeout_s, 120);
	assert_false(cfg.security_updates);
	assert_true(cfg.feature_updates);
	assert_int_equal(cfg.poll_interval_s, 900);
	assert_int_equal(cfg.postpone_max_s, 30 * 86400);
	assert_int_equal(upkc_config_check_agent(&cfg, "client.conf", &d), UPK_OK);
	assert_int_equal(upkc_config_check_agent(&cfg, "client.conf", NULL), UPK_OK);
	upkc_config_done(&cfg);
	assert_null(cfg.product);
	assert_null(cfg.selftest_command);

	/* Each backend with its own keys. */
	assert_int_equal(parse(GOOD "product=p\nhardware=h\n[slots]\na=/a\nb=/b\n"
				    "[boot]\nbackend=uboot\nfw_env_config=/etc/fw_env.config\n"
				    "default_env=/etc/u-boot-initial-env\n",
			       &cfg, &d),
			 UPK_OK);
	assert_int_equal(cfg.boot_backend, UPKC_BOOT_UBOOT);
	assert_string_equal(cfg.uboot_config, "/etc/fw_env.config");
	assert_string_equal(cfg.uboot_default_env, "/etc/u-boot-initial-env");
	assert_int_equal(upkc_config_check_agent(&cfg, "client.conf", &d), UPK_OK);
	upkc_config_done(&cfg);
	assert_int_equal(parse(GOOD "product=p\nhardware=h\n[slots]\na=/a\nb=/b\n"
				    "[boot]\nbackend=grub\ngrubenv=/boot/grub/grubenv\n",
			       &cfg, &d),
			 UPK_OK);
	assert_int_equal(cfg.boot_backend, UPKC_BOOT_GRUB);
	assert_string_equal(cfg.grubenv, "/boot/grub/grubenv");
	assert_int_equal(upkc_config_check_agent(&cfg, "client.conf", &d), UPK_OK);
	upkc_config_done(&cfg);
	assert_int_equal(parse(GOOD "product=p\nhardware=h\n[slots]\na=/a\nb=/b\n"
				    "[boot]\nbackend=script\nscript=/usr/sbin/my-boot --verbose\n",
			       &cfg, &d),
			 UPK_OK);
	assert_int_equal(cfg.boot_backend, UPKC_BOOT_SCRIPT);
	assert_string_equal(cfg.boot_script, "/usr/sbin/my-boot --verbose");
	assert_int_equal(upkc_config_check_agent(&cfg, "client.conf", &d), UPK_OK);
	upkc_config_done(&cfg);
	/* " ;" starts a comment, even in a command; ";" alone does not. */
	assert_int_equal(parse(GOOD "[health]\ncommand = a;b ; c\n", &cfg, &d), UPK_OK);
	assert_string_equal(cfg.health_command, "a;b");
	upkc_config_done(&cfg);
	/* Smallest values; a hardware id of 64 bytes. */
	assert_int_equal(parse(GOOD "hardware="
				    "0123456789012345678901234567890123456789"
				    "012345678901234567890123\n"
				    "[boot]\ntrial_boots=1\n[health]\ntimeout=1\n"
				    "[policy]\npostpone_max=1s\npoll_interval=1\n",
			       &cfg, &d),
			 UPK_OK);
	assert_int_equal(strlen(cfg.hardware), 64);
	assert_int_equal(cfg.trial_boots, 1);
	assert_int_equal(cfg.health_timeout_s, 1);
	assert_int_equal(cfg.postpone_max_s, 1);
	assert_int_equal(cfg.poll_interval_s, 1);
	upkc_config_done(&cfg);
}

static void test_agent_value_errors(void **state)
{
	(void)state;
	/* [device] */
	refused(GOOD "product = -cam\n", "client.conf:9", "[device] product: '-cam' is not a name");
	refused(GOOD "product = .cam\n", "client.conf:9", "[device] product: '.cam' is not a name");
	refused(GOOD "product = cam/2000\n", "client.conf:9", "[device] product: 'cam/2000'");
	refused(GOOD "product = cam:2000\n", "client.conf:9", "[device] product: 'cam:2000'");
	refused(GOOD "product = "
		     "01234567890123456789012345678901234567890123456789012345678901234\n",
		"client.conf:9", "[device] product: '0123");
	refused(GOOD "hardware = imx 8\n", "client.conf:9",
		"[device] hardware: 'imx 8' is not a hardware id");
	refused(GOOD "hardware = -imx\n", "client.conf:9", "[device] hardware: '-imx'");
	refused(GOOD "hardware = .imx\n", "client.conf:9", "[device] hardware: '.imx'");
	refused(GOOD "hardware = imx/8\n", "client.conf:9", "[device] hardware: 'imx/8'");
	refused(GOOD "hardware = "
		     "01234567890123456789012345678901234567890123456789012345678901234\n",
		"client.conf:9", "[device] hardware: '0123");
	refused(GOOD "factory_version = 1.0\n", "client.conf:9",
		"[device] factory_version: '1.0' is not a SemVer 2.0.0 version");
	refused(GOOD "factory_version = 01.0.0\n", "client.conf:9",
		"[device] factory_version: '01.0.0'");
	refused(GOOD "factory_version = v1.0.0\n", "client.conf:9",
		"[device] factory_version: 'v1.0.0'");
	refused(GOOD "product =\n", "client.conf:9", "[device] product: empty value");
	refused(GOOD "product = a\nproduct = b\n", "client.conf:10",
		"[device] product: given twice");
	/* [slots] */
	refused(GOOD "[slots]\na = dev/sda2\n", "client.conf:10",
		"[slots] a: 'dev/sda2' is not an absolute path");
	refused(GOOD "[slots]\nb = /dev/\x1b[2J\n", "client.conf:10",
		"[slots] b: control character in a path");
	refused(GOOD "[slots]\nc = /dev/sda4\n", "client.conf:10", "[slots] c: unknown key");
	refused(GOOD "[slots]\nb = /dev/sda2\n\na = /dev/sda2\n", "client.conf:12",
		"[slots] a and b are the same path '/dev/sda2'");
	refused(GOOD "[slots]\na = /dev/sda2\nb = /dev/sda2\n", "client.conf:11",
		"[slots] a and b are the same path");
	/* [boot] */
	refused(GOOD "[boot]\nbackend = efi\n", "client.conf:10",
		"[boot] backend: 'efi' is not file, uboot, grub or script");
	refused(GOOD "[boot]\nbackend = File\n", "client.conf:10", "[boot] backend: 'File'");
	refused(GOOD "[boot]\nbackend = file\nfile = state\n", "client.conf:11",
		"[boot] file: 'state' is not an absolute path");
	refused(GOOD "[boot]\nbackend = uboot\nfw_env_config = fw_env.config\n", "client.conf:11",
		"[boot] fw_env_config: 'fw_env.config' is not an absolute path");
	refused(GOOD "[boot]\nbackend = uboot\ndefault_env = env\n", "client.conf:11",
		"[boot] default_env: 'env' is not an absolute path");
	refused(GOOD "[boot]\nbackend = grub\ngrubenv = grubenv\n", "client.conf:11",
		"[boot] grubenv: 'grubenv' is not an absolute path");
	refused(GOOD "[boot]\nbackend = script\nscript = boot\tctl\n", "client.conf:11",
		"[boot] script: control character in a command");
	refused(GOOD "[boot]\nbackend = script\nscript =\n", "client.conf:11",
		"[boot] script: empty value");
	refused(GOOD "[boot]\ncmdline = proc/cmdline\n", "client.conf:10",
		"[boot] cmdline: 'proc/cmdline' is not an absolute path");
	refused(GOOD "[boot]\ntrial_boots = 0\n", "client.conf:10",
		"[boot] trial_boots: '0' is not a number from 1 to 16");
	refused(GOOD "[boot]\ntrial_boots = 17\n", "client.conf:10", "[boot] trial_boots: '17'");
	refused(GOOD "[boot]\ntrial_boots = -1\n", "client.conf:10", "[boot] trial_boots: '-1'");
	refused(GOOD "[boot]\ntrial_boots = 3x\n", "client.conf:10", "[boot] trial_boots: '3x'");
	refused(GOOD "[boot]\ntrial_boots = +3\n", "client.conf:10", "[boot] trial_boots: '+3'");
	refused(GOOD "[boot]\ntrial_boots = 99999999999999999999\n", "client.conf:10",
		"[boot] trial_boots: '9999");
	refused(GOOD "[boot]\nreboot_command = reboot\x7f\n", "client.conf:10",
		"[boot] reboot_command: control character in a command");
	refused(GOOD "[boot]\nslot = A\n", "client.conf:10", "[boot] slot: unknown key");
	/* [health] */
	refused(GOOD "[health]\ncommand = check\x01\n", "client.conf:10",
		"[health] command: control character in a command");
	refused(GOOD "[health]\ntimeout = 0\n", "client.conf:10",
		"[health] timeout: '0' is not a duration");
	refused(GOOD "[health]\ntimeout = 1y\n", "client.conf:10", "[health] timeout: '1y'");
	refused(GOOD "[health]\ntimeout = 86401\n", "client.conf:10",
		"[health] timeout: '86401' is longer than a day");
	refused(GOOD "[health]\ntimeout = 2d\n", "client.conf:10", "longer than a day");
	refused(GOOD "[health]\ncommand = a\ncommand = b\n", "client.conf:11",
		"[health] command: given twice");
	/* [models] */
	refused(GOOD "[models]\ndir = models\n", "client.conf:10",
		"[models] dir: 'models' is not an absolute path");
	refused(GOOD "[models]\nselftest_command = a\x1f\n", "client.conf:10",
		"[models] selftest_command: control character in a command");
	refused(GOOD "[models]\nselftest_timeout = 1.5m\n", "client.conf:10",
		"[models] selftest_timeout: '1.5m' is not a duration");
	refused(GOOD "[models]\nselftest_timeout = 25h\n", "client.conf:10",
		"[models] selftest_timeout: '25h' is longer than a day");
	/* [policy] */
	refused(GOOD "[policy]\nsecurity_updates = on\n", "client.conf:10",
		"[policy] security_updates: 'on' is not auto or off");
	refused(GOOD "[policy]\nsecurity_updates = Off\n", "client.conf:10",
		"[policy] security_updates: 'Off'");
	refused(GOOD "[policy]\nfeature_updates = true\n", "client.conf:10",
		"[policy] feature_updates: 'true' is not auto or off");
	refused(GOOD "[policy]\npoll_interval = never\n", "client.conf:10",
		"[policy] poll_interval: 'never' is not a duration");
	refused(GOOD "[policy]\npostpone_max = 0\n", "client.conf:10",
		"[policy] postpone_max: '0' is not a duration");
	refused(GOOD "[policy]\npostpone_max = 31d\n", "client.conf:10",
		"[policy] postpone_max: '31d' is longer than 30 days");
	refused(GOOD "[policy]\npostpone_max = 5w\n", "client.conf:10", "longer than 30 days");
	refused(GOOD "[policy]\nsecurity = auto\n", "client.conf:10",
		"[policy] security: unknown key");
}

/* A [boot] key of another backend (or of none) is refused at its line. */
static void test_backend_keys(void **state)
{
	(void)state;
	refused(GOOD "[boot]\nbackend = file\nfile = /s\ngrubenv = /boot/grubenv\n",
		"client.conf:12", "[boot] grubenv is only used with backend = grub");
	refused(GOOD "[boot]\ngrubenv = /boot/grubenv\nbackend = file\nfile = /s\n",
		"client.conf:10", "[boot] grubenv is only used with backend = grub");
	refused(GOOD "[boot]\nbackend = grub\ngrubenv = /g\nfile = /s\n", "client.conf:12",
		"[boot] file is only used with backend = file");
	refused(GOOD "[boot]\nbackend = file\nfw_env_config = /etc/fw_env.config\n",
		"client.conf:11", "[boot] fw_env_config is only used with backend = uboot");
	refused(GOOD "[boot]\nbackend = grub\ndefault_env = /etc/env\n", "client.conf:11",
		"[boot] default_env is only used with backend = uboot");
	refused(GOOD "[boot]\nbackend = uboot\nscript = /bin/true\n", "client.conf:11",
		"[boot] script is only used with backend = script");
	/* No backend at all: the key is still someone else's. */
	refused(GOOD "[boot]\nfile = /s\n", "client.conf:10",
		"[boot] file is only used with backend = file");
	/* A missing required key is reported before. */
	refused("[boot]\nbackend = file\ngrubenv = /g\n", "client.conf",
		"[repository] metadata_url is required");
}

/* cfg must be refused by check_agent with `reason`, naming the file. */
static void agent_refused(const char *text, const char *reason)
{
	struct upkc_config cfg;
	struct upk_diag d;

	assert_int_equal(parse(text, &cfg, &d), UPK_OK);
	upk_diag_clear(&d);
	assert_int_equal(upkc_config_check_agent(&cfg, "client.conf", &d), UPK_E_CONFIG);
	assert_int_equal(d.err, UPK_E_CONFIG);
	assert_string_equal(d.where, "client.conf");
	if (!strstr(d.reason, reason))
		fail_msg("reason '%s' lacks '%s'", d.reason, reason);
	assert_int_equal(upkc_config_check_agent(&cfg, "client.conf", NULL), UPK_E_CONFIG);
	upkc_config_done(&cfg);
}

#define DEV   GOOD "product=p\nhardware=h\n"
#define SLOTS "[slots]\na=/a\nb=/b\n"

static void test_check_agent(void **state)
{
	struct upkc_config cfg = { 0 };
	struct upk_diag d;

	(void)state;
	/* The minimal `refresh` config parses, but the agent needs more. */
	agent_refused(GOOD, "[device] product is required by the device agent");
	agent_refused(GOOD "product=p\n", "[device] hardware is required by the device agent");
	agent_refused(DEV, "[slots] a is required by the device agent");
	agent_refused(DEV "[slots]\nb=/b\n", "[slots] a is required by the device agent");
	agent_refused(DEV "[slots]\na=/a\n", "[slots] b is required by the device agent");
	agent_refused(DEV SLOTS, "[boot] backend is required by the device agent");
	agent_refused(DEV SLOTS "[boot]\ncmdline=/c\n",
		      "[boot] backend is required by the device agent");
	agent_refused(DEV SLOTS "[boot]\nbackend=file\n",
		      "[boot] file is required by the device agent with backend = file");
	agent_refused(DEV SLOTS "[boot]\nbackend=uboot\n",
		      "[boot] fw_env_config is required by the device agent with backend = uboot");
	agent_refused(DEV SLOTS "[boot]\nbackend=uboot\ndefault_env=/e\n",
		      "[boot] fw_env_config is required by the device agent with backend = uboot");
	agent_refused(DEV SLOTS "[boot]\nbackend=grub\n",
		      "[boot] grubenv is required by the device agent with backend = grub");
	agent_refused(DEV SLOTS "[boot]\nbackend=script\n",
		      "[boot] script is required by the device agent with backend = script");
	/* A zeroed config, and no name. */
	upk_diag_clear(&d);
	assert_int_equal(upkc_config_check_agent(&cfg, NULL, &d), UPK_E_CONFIG);
	assert_string_equal(d.where, "config");
	assert_non_null(strstr(d.reason, "[device] product"));
}

/* Each failed copy, of a value or of a default, is a clean UPK_E_NOMEM (ASan checks leaks). */
static void test_nomem(void **state)
{
	char untouched[] = "untouched";
	struct upkc_config cfg = { .metadata_url = untouched };
	struct upk_diag d;
	enum upk_err r;
	int n;

	(void)state;
	for (n = 1;; n++) {
		strdup_calls = 0;
		strdup_fail_at = n;
		upk_diag_clear(&d);
		r = upkc_config_parse(AGENT, strlen(AGENT), "client.conf", &cfg, &d);
		strdup_fail_at = 0;
		if (r == UPK_OK)
			break;
		assert_int_equal(r, UPK_E_NOMEM);
		assert_int_equal(d.err, UPK_E_NOMEM);
		assert_ptr_equal(cfg.metadata_url, untouched);
	}
	/* AGENT's 15 strings, and no default needed a copy. */
	assert_int_equal(n, 16);
	assert_string_equal(cfg.product, "cam-2000");
	upkc_config_done(&cfg);
	cfg.metadata_url = untouched;
	/* The defaults' copies: GOOD's 4 strings, then factory_version and cmdline. */
	for (n = 5; n <= 6; n++) {
		strdup_calls = 0;
		strdup_fail_at = n;
		r = upkc_config_parse(GOOD, strlen(GOOD), "client.conf", &cfg, NULL);
		strdup_fail_at = 0;
		assert_int_equal(r, UPK_E_NOMEM);
		assert_ptr_equal(cfg.metadata_url, untouched);
	}
}

/*
 * The man page's SYNOPSIS examples parse: the first is enough for
 * `refresh` only, the second for the device agent.
 */
static void test_man_page(void **state)
{
	const char *src = getenv("UPKEEP_SOURCE_DIR");
	const char *p, *end;
	char path[4096];
	struct upkc_config cfg;
	struct upk_diag d;
	size_t len, n = 0;
	char *text;
	FILE *f;

	(void)state;
	if (!src)
		skip(); /* ctest always sets it */
	snprintf(path, sizeof(path), "%s/client/upkeep-client.conf.5.md", src);
	f = fopen(path, "r");
	assert_non_null(f);
	text = calloc(1, 1 << 20);
	assert_non_null(text);
	len = fread(text, 1, (1 << 20) - 1, f);
	fclose(f);
	assert_true(len > 0 && len < (1 << 20) - 1);
	for (p = text; (p = strstr(p, "```\n[repository]\n")); p = end) {
		p += 4;
		end = strstr(p, "\n```");
		assert_non_null(end);
		end++;
		upk_diag_clear(&d);
		if (upkc_config_parse(p, (size_t)(end - p), "example", &cfg, &d))
			fail_msg("example %zu: %s: %s", n, d.where, d.reason);
		upk_diag_clear(&d);
		assert_int_equal(upkc_config_check_agent(&cfg, "example", &d),
				 n == 0 ? UPK_E_CONFIG : UPK_OK);
		upkc_config_done(&cfg);
		n++;
	}
	assert_int_equal(n, 2);
	free(text);
}

static void test_structure_errors(void **state)
{
	(void)state;
	refused(GOOD "[nosuch]\nkey = 1\n", "client.conf:9", "unknown section [nosuch]");
	refused(GOOD "[empty]\n", "client.conf:9", "unknown section [empty]");
	refused(GOOD "state_dri = /x\n", "client.conf:9", "[device] state_dri: unknown key");
	refused("x = 1\n" GOOD, "client.conf:1", "key 'x' outside a section");
	refused(GOOD "state_dir = /other\n", "client.conf:9", "[device] state_dir: given twice");
	refused(GOOD "  continued\n", "client.conf:9", "[device] trusted_root: given twice");
	refused(GOOD "just words\n", "client.conf:9", "syntax error");
	refused(GOOD "[device\n", "client.conf:9", "syntax error");
	refused(GOOD "[network]\nconnect_timeout =\n", "client.conf:10",
		"[network] connect_timeout: empty value");
	refused("[repository]\nmetadata_url = http://x/\n", "client.conf",
		"[repository] targets_url is required");
	refused("", "client.conf", "[repository] metadata_url is required");
}

static void test_value_errors(void **state)
{
	(void)state;
	refused("[repository]\nmetadata_url = ftp://h/m\n", "client.conf:2",
		"[repository] metadata_url: 'ftp://h/m' is not an http:// or https:// URL");
	refused("[repository]\nmetadata_url = http://\n", "client.conf:2", "not an http");
	refused("[repository]\ntargets_url = http://a b/\n", "client.conf:2", "no spaces");
	refused("[repository]\ntargets_url = http://a\x01/\n", "client.conf:2", "no spaces");
	refused("[device]\nstate_dir = var/lib\n", "client.conf:2",
		"[device] state_dir: 'var/lib' is not an absolute path");
	refused("[device]\ntrusted_root = /a\x7f\n", "client.conf:2", "control character");
	refused("[device]\nclock_jump_warning = 0\n", "client.conf:2", "is not a duration");
	refused("[network]\nconnect_timeout = 5x\n", "client.conf:2", "is not a duration");
	refused("[network]\nconnect_timeout = 2d\n", "client.conf:2", "longer than a day");
	refused("[network]\nlow_speed_time = -1\n", "client.conf:2", "is not a duration");
	refused("[network]\nlow_speed_limit = 0\n", "client.conf:2", "not a number of bytes");
	refused("[network]\nlow_speed_limit = 12k\n", "client.conf:2", "not a number of bytes");
	refused("[network]\nlow_speed_limit = 99999999999999999999\n", "client.conf:2",
		"not a number of bytes");
	refused("[network]\nlow_speed_limit = +5\n", "client.conf:2", "not a number of bytes");
}

static void test_bytes(void **state)
{
	struct upkc_config cfg = { 0 };
	char text[600];
	struct upk_diag d;

	(void)state;
	/* A NUL byte, with its line. */
	upk_diag_clear(&d);
	assert_int_equal(upkc_config_parse("[device]\nstate_dir = /a\0b\n", 24, "c.conf", &cfg, &d),
			 UPK_E_CONFIG);
	assert_string_equal(d.where, "c.conf:2");
	assert_string_equal(d.reason, "NUL byte");
	/* A line too long for libinih's buffer is refused, not split. */
	snprintf(text, sizeof(text), "[device]\nstate_dir = /%0300d\n", 0);
	refused(text, "client.conf:2", "line longer than");
	/* The longest line that fits is accepted. */
	snprintf(text, sizeof(text),
		 "[repository]\nmetadata_url=http://x/m\ntargets_url=http://x/t\n"
		 "[device]\ntrusted_root=/r\nstate_dir=/%0*d\n",
		 UPKC_CONFIG_MAX_LINE - (int)strlen("state_dir=/\n"), 0);
	assert_int_equal(parse(text, &cfg, &d), UPK_OK);
	assert_int_equal(strlen(cfg.state_dir), UPKC_CONFIG_MAX_LINE - strlen("state_dir=\n"));
	upkc_config_done(&cfg);
}

static void test_load(void **state)
{
	char dir[] = "/tmp/upk-config-XXXXXX", path[64];
	struct upkc_config cfg;
	struct upk_diag d;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/client.conf", dir);
	upk_diag_clear(&d);
	assert_int_equal(upkc_config_load(path, &cfg, &d), UPK_E_CONFIG);
	assert_string_equal(d.where, path);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(GOOD "bogus = 1\n", f);
	fclose(f);
	assert_int_equal(upkc_config_load(path, &cfg, &d), UPK_E_CONFIG);
	assert_non_null(strstr(d.where, "client.conf:9"));
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(GOOD, f);
	fclose(f);
	assert_int_equal(upkc_config_load(path, &cfg, &d), UPK_OK);
	assert_string_equal(cfg.state_dir, "/var/lib/upkeep");
	upkc_config_done(&cfg);
	/* A directory is not a config file. */
	assert_int_equal(upkc_config_load(dir, &cfg, &d), UPK_E_CONFIG);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_all_keys),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_value_errors),
		cmocka_unit_test(test_agent_keys),
		cmocka_unit_test(test_agent_value_errors),
		cmocka_unit_test(test_backend_keys),
		cmocka_unit_test(test_check_agent),
		cmocka_unit_test(test_nomem),
		cmocka_unit_test(test_man_page),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
