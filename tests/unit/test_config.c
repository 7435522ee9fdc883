/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for client/config: upkeep-client.conf(5) parsing and its errors. */
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
	upkc_config_done(&cfg);
	assert_null(cfg.metadata_url);
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
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_load),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
