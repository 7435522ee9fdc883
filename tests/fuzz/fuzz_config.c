/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the device configuration, upkeep-client.conf(5)
 * (client/config.h).
 *
 * It calls upkc_config_parse, the function upkc_config_load runs on the
 * file's bytes (libinih underneath: line limits, sections, comments). A
 * refusal must be UPK_E_CONFIG (or NOMEM) with diag->where naming the file.
 * A config that parses must keep the header's promises (required keys
 * present, the numbers within their documented bounds, defaults filled),
 * then goes through upkc_config_check_agent (OK or UPK_E_CONFIG), and
 * upkc_config_done frees every string (the sanitizers see a leak or a
 * double free) and zeroes the struct.
 *
 * Seed corpus (tests/fuzz/corpus/config/): the smallest config `refresh`
 * needs, a full agent config for each boot backend (file, uboot, grub,
 * script), the man page's two examples, and CRLF/BOM/comment variants.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NAME "fuzz.conf"

static bool absolute(const char *s)
{
	return !s || s[0] == '/';
}

static bool http_url(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

static void check_config(const struct upkc_config *c)
{
	if (!c->metadata_url || !c->targets_url || !c->state_dir || !c->trusted_root ||
	    !c->factory_version || !c->cmdline)
		abort();
	if (!http_url(c->metadata_url) || !http_url(c->targets_url))
		abort();
	if (!absolute(c->state_dir) || !absolute(c->trusted_root) || !absolute(c->slot_a) ||
	    !absolute(c->slot_b) || !absolute(c->boot_file) || !absolute(c->uboot_config) ||
	    !absolute(c->uboot_default_env) || !absolute(c->grubenv) || !absolute(c->cmdline) ||
	    !absolute(c->models_dir))
		abort();
	if (c->slot_a && c->slot_b && !strcmp(c->slot_a, c->slot_b))
		abort();
	if (c->boot_backend > UPKC_BOOT_SCRIPT)
		abort();
	if (c->clock_jump_warning_s <= 0 || c->trial_boots < 1 ||
	    c->trial_boots > UPKC_CONFIG_MAX_TRIAL_BOOTS || c->health_timeout_s <= 0 ||
	    c->health_timeout_s > 86400 || c->selftest_timeout_s <= 0 ||
	    c->selftest_timeout_s > 86400 || c->poll_interval_s <= 0 || c->postpone_max_s <= 0 ||
	    c->postpone_max_s > UPKC_CONFIG_MAX_POSTPONE || c->connect_timeout_s < 0 ||
	    c->connect_timeout_s > 86400 || c->low_speed_limit < 0 ||
	    c->low_speed_limit > 1000000000L || c->low_speed_time_s < 0 ||
	    c->low_speed_time_s > 86400)
		abort();
	/* A key of another backend than the one chosen is refused at parse time. */
	if ((c->boot_file && c->boot_backend != UPKC_BOOT_FILE) ||
	    ((c->uboot_config || c->uboot_default_env) && c->boot_backend != UPKC_BOOT_UBOOT) ||
	    (c->grubenv && c->boot_backend != UPKC_BOOT_GRUB) ||
	    (c->boot_script && c->boot_backend != UPKC_BOOT_SCRIPT))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upkc_config cfg;
	struct upk_diag d;
	enum upk_err r;

	upk_diag_clear(&d);
	r = upkc_config_parse((const char *)data, size, NAME, &cfg, &d);
	if (r != UPK_OK) {
		if ((r != UPK_E_CONFIG && r != UPK_E_NOMEM) || d.err != r ||
		    strncmp(d.where, NAME, strlen(NAME)))
			abort();
		return 0;
	}
	check_config(&cfg);
	upk_diag_clear(&d);
	r = upkc_config_check_agent(&cfg, NAME, &d);
	if (r != UPK_OK && (r != UPK_E_CONFIG || strcmp(d.where, NAME)))
		abort();
	upkc_config_done(&cfg);
	if (cfg.metadata_url || cfg.state_dir || cfg.cmdline || cfg.factory_version)
		abort();
	return 0;
}
