/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device agent's commands (client/agent.h): install, boot, commit,
 * rollback, status, check, run.
 */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "boot.h"
#include "bundle.h"
#include "cli.h"
#include "config.h"
#include "failpoint.h"
#include "fileio.h"
#include "hash.h"
#include "install.h"
#include "json.h"
#include "models.h"
#include "proc.h"
#include "session.h"
#include "state.h"
#include "trust.h"
#include "tuftime.h"
#include "util.h"
#include "version.h"

#define PROG	     "upkeep-client"
#define LOCK_WAIT_MS 10000
/* The health check and self-test get at most their configured timeout; tools 30 s. */
#define OUTPUT_MAX 4096

/* ---- options shared by the commands ---- */

struct args {
	const char *config;
	const char *target;   /* install/check: TARGET */
	const char *from;     /* install --from FILE.upk */
	const char *metadata; /* install --metadata DIR */
	bool json, verbose, no_reboot, once, help, version;
	bool skip_failed; /* run: releases rolled back before are not retried */
};

enum {
	OPT_JSON = 1 << 0,
	OPT_TARGET = 1 << 1,
	OPT_FROM = 1 << 2,
	OPT_REBOOT = 1 << 3,
	OPT_ONCE = 1 << 4,
};

/*
 * Parse a command's options. Returns -1 to go on, else the exit code: 0
 * after --help (usage on stdout) or --version, 2 for a usage error.
 */
static int parse_args(const char *cmd, unsigned allowed, int (*usage)(FILE *f), int argc,
		      char **argv, struct args *a)
{
	a->config = UPKC_CONFIG_DEFAULT_PATH;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const char **slot = NULL;

		if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			a->help = true;
		} else if (!strcmp(arg, "--version")) {
			a->version = true;
		} else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose")) {
			a->verbose = true;
		} else if ((allowed & OPT_JSON) && !strcmp(arg, "--json")) {
			a->json = true;
		} else if ((allowed & OPT_REBOOT) && !strcmp(arg, "--no-reboot")) {
			a->no_reboot = true;
		} else if ((allowed & OPT_ONCE) && !strcmp(arg, "--once")) {
			a->once = true;
		} else if (!strcmp(arg, "--config")) {
			slot = &a->config;
		} else if ((allowed & OPT_FROM) && !strcmp(arg, "--from")) {
			slot = &a->from;
		} else if ((allowed & OPT_FROM) && !strcmp(arg, "--metadata")) {
			slot = &a->metadata;
		} else if ((allowed & OPT_TARGET) && arg[0] != '-' && !a->target) {
			a->target = arg;
		} else {
			return upk_cli_usage_error(PROG, "%s: unexpected argument '%s'", cmd, arg);
		}
		if (slot) {
			if (i + 1 >= argc || !argv[i + 1][0])
				return upk_cli_usage_error(PROG, "%s: %s needs a value", cmd, arg);
			*slot = argv[++i];
		}
	}
	if (a->metadata && !a->from)
		return upk_cli_usage_error(PROG, "%s: --metadata goes with --from", cmd);
	if (a->help)
		return usage(stdout);
	if (a->version)
		return printf("upkeep-client %s\n", UPKEEP_VERSION) < 0;
	return -1;
}

/* ---- the agent: configuration, lock, boot backend, state ---- */

struct agent {
	struct upkc_config cfg;
	const char *config_path;
	struct upk_buf state_path, log_path, lock_path;
	int lock_fd;
	struct upkc_boot *boot;
	struct upkc_state st;
	bool verbose, json, no_reboot;
};

static void agent_free(struct agent *a)
{
	if (!a)
		return;
	if (a->lock_fd >= 0)
		upk_io_unlock(a->lock_fd);
	upkc_boot_free(a->boot);
	upk_buf_done(&a->state_path);
	upk_buf_done(&a->log_path);
	upk_buf_done(&a->lock_path);
	upkc_config_done(&a->cfg);
	free(a);
}
UPK_DEFINE_CLEANUP(struct agent, agent_free)

static const char *str(const struct upk_buf *b)
{
	return b->data ? (const char *)b->data : "";
}

static void say(const struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The narrative on stdout (not with --json, whose output is the document). */
static void say(const struct agent *a, const char *fmt, ...)
{
	va_list ap;

	if (a->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * The event log: one JSON object per line, appended and synced. It is
 * evidence (which release each device installed, committed or refused), so a
 * failure to write it is reported, but does not undo a state change that
 * already happened.
 */
static void log_event(const struct agent *a, const char *event, const char *release,
		      const char *version, const char *detail)
{
	_cleanup_json_ json_t *o = NULL;
	char now[24];
	char *line;
	size_t n;
	int fd;

	upkc_format_time((int64_t)time(NULL), now);
	o = json_pack("{s:s, s:s}", "time", now, "event", event);
	if (!o)
		return;
	if (release)
		json_object_set_new(o, "release", json_string(release));
	if (version)
		json_object_set_new(o, "version", json_string(version));
	if (detail)
		json_object_set_new(o, "detail", json_string(detail));
	n = json_dumpb(o, NULL, 0, JSON_COMPACT | JSON_SORT_KEYS);
	line = n ? malloc(n + 1) : NULL;
	if (!line || json_dumpb(o, line, n, JSON_COMPACT | JSON_SORT_KEYS) != n) {
		free(line);
		return;
	}
	line[n] = '\n'; /* one write: the line arrives whole or not at all (O_APPEND) */
	fd = open(str(&a->log_path), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, line, n + 1) != (ssize_t)(n + 1) || fdatasync(fd) != 0)
		fprintf(stderr, PROG ": warning: %s: cannot append to the event log: %s\n",
			str(&a->log_path), strerror(errno));
	if (fd >= 0)
		close(fd);
	free(line);
}

static enum upk_err save_state(struct agent *a, const char *step, struct upk_diag *d)
{
	enum upk_err r = upkc_state_save(str(&a->state_path), &a->st, d);

	upkc_failpoint(step);
	return r;
}

/* The slot the running system booted from; the boot state's primary if the cmdline says none. */
static enum upk_err booted_slot(struct agent *a, int *ret, struct upk_diag *d)
{
	return upkc_boot_booted_slot(a->cfg.cmdline, ret, d);
}

static enum upk_err agent_open(const struct args *args, struct agent **ret, struct upk_diag *d)
{
	_cleanup_(agent_freep) struct agent *a = calloc(1, sizeof(*a));
	bool have = false;
	enum upk_err r;

	if (!a)
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
	a->lock_fd = -1;
	a->config_path = args->config;
	a->verbose = args->verbose;
	a->json = args->json;
	a->no_reboot = args->no_reboot;
	r = upkc_config_load(args->config, &a->cfg, d);
	if (!r)
		r = upkc_config_check_agent(&a->cfg, args->config, d);
	if (r)
		return r;
	if (upk_buf_printf(&a->state_path, "%s/device.json", a->cfg.state_dir) ||
	    upk_buf_printf(&a->log_path, "%s/log", a->cfg.state_dir) ||
	    upk_buf_printf(&a->lock_path, "%s/lock", a->cfg.state_dir))
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
	r = upk_io_mkdir_p(a->cfg.state_dir, 0755, d);
	if (!r)
		r = upk_io_lock(str(&a->lock_path), LOCK_WAIT_MS, &a->lock_fd, d);
	if (!r)
		r = upkc_boot_open(&a->cfg, &a->boot, d);
	if (!r)
		r = upkc_state_load(str(&a->state_path), &a->st, &have, d);
	if (r)
		return r;
	if (!have) {
		/* Provisioning: the image running now is the factory image, committed. */
		int slot;
		struct upkc_boot_state bs;

		if (booted_slot(a, &slot, NULL) != UPK_OK) {
			r = upkc_boot_read(a->boot, &bs, d);
			if (r)
				return r;
			slot = bs.primary;
		}
		upkc_state_init(&a->st, slot, a->cfg.factory_version);
		r = save_state(a, "provision: state saved", d);
		if (r)
			return r;
		log_event(a, "provisioned", NULL, a->cfg.factory_version, upkc_slot_name(slot));
	}
	*ret = a;
	a = NULL;
	return UPK_OK;
}

static const char *slot_path(const struct agent *a, int slot)
{
	return slot ? a->cfg.slot_b : a->cfg.slot_a;
}

static void postpone_clear(const struct agent *a);

/* ---- choosing and judging a release ---- */

struct release {
	const struct upk_target *target;
	struct upk_bundle_manifest *custom;
	const struct upk_bundle_component *firmware; /* NULL if none */
	size_t n_models;
};

static void release_done(struct release *rel)
{
	upk_bundle_manifest_free(rel->custom);
	memset(rel, 0, sizeof(*rel));
}

static enum upk_err release_from_target(const struct upk_target *t, struct release *rel,
					struct upk_diag *d)
{
	const json_t *upkeep = t->custom ? json_object_get(t->custom, "upkeep") : NULL;
	enum upk_err r;

	if (!upkeep)
		return upk_diag_set(d, UPK_E_INCOMPATIBLE, t->path, -1,
				    "not an Upkeep release (no custom.upkeep in its target entry)");
	r = upk_bundle_custom_parse(upkeep, &rel->custom, d);
	if (r) {
		upk_diag_prefix_where(d, t->path);
		return r;
	}
	rel->target = t;
	for (size_t i = 0; i < rel->custom->n_components; i++) {
		if (rel->custom->components[i].type == UPK_BUNDLE_FIRMWARE)
			rel->firmware = &rel->custom->components[i];
		else
			rel->n_models++;
	}
	return UPK_OK;
}

static bool hardware_matches(const struct agent *a, const struct upk_bundle_manifest *m)
{
	for (size_t i = 0; i < m->n_hardware; i++) {
		if (!strcmp(m->hardware[i], a->cfg.hardware))
			return true;
	}
	return false;
}

static enum upk_err judge(struct agent *a, const struct release *rel, bool *ret_current,
			  struct upk_diag *d);

/*
 * The release for this product and hardware in the top-level targets that
 * the device should take: the newest one that applies (or is installed
 * already) and, when `skip_failed`, was not rolled back on this device
 * before; if none applies, the newest one (so that `check` can say why it
 * does not). *ret_found false if there is none at all. Entries that are
 * not Upkeep releases or do not parse are skipped here (an explicit TARGET
 * reports why).
 */
static enum upk_err newest_release(struct agent *a, struct upkc_session *s, bool skip_failed,
				   struct release *ret, bool *ret_found, struct upk_diag *d)
{
	const struct upk_meta *m;
	struct release best_any = { 0 }, best_ok = { 0 };
	enum upk_err r = upkc_updater_top_targets(s->u, &m, d);

	*ret_found = false;
	if (r)
		return r;
	for (size_t i = 0; i < m->n_targets; i++) {
		const struct upk_target *t = upk_meta_target(m, i);
		struct release c = { 0 };
		bool current, ok;

		if (!t)
			return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
		if (release_from_target(t, &c, NULL) || strcmp(c.custom->product, a->cfg.product) ||
		    !hardware_matches(a, c.custom)) {
			release_done(&c);
			continue;
		}
		ok = judge(a, &c, &current, NULL) == UPK_OK &&
		     !(skip_failed && upkc_state_has_failed(&a->st, c.target->path));
		if (ok && (!best_ok.custom ||
			   upk_semver_cmp(&c.custom->semver, &best_ok.custom->semver) > 0)) {
			release_done(&best_ok);
			best_ok = c;
		} else if (!ok &&
			   (!best_any.custom ||
			    upk_semver_cmp(&c.custom->semver, &best_any.custom->semver) > 0)) {
			release_done(&best_any);
			best_any = c;
		} else {
			release_done(&c);
		}
	}
	if (best_ok.custom) {
		*ret = best_ok;
		release_done(&best_any);
	} else {
		*ret = best_any;
	}
	*ret_found = ret->custom != NULL;
	return UPK_OK;
}

static bool op_holds(enum upk_bundle_op op, int cmp)
{
	switch (op) {
	case UPK_BUNDLE_OP_GE:
		return cmp >= 0;
	case UPK_BUNDLE_OP_GT:
		return cmp > 0;
	case UPK_BUNDLE_OP_LE:
		return cmp <= 0;
	case UPK_BUNDLE_OP_LT:
		return cmp < 0;
	case UPK_BUNDLE_OP_EQ:
		return cmp == 0;
	}
	return false;
}

/* The version `subject` would have after installing rel, or NULL. */
static const char *version_after(struct agent *a, const struct release *rel, const char *subject)
{
	const struct upk_bundle_manifest *m = rel->custom;

	if (!strcmp(subject, "firmware"))
		return rel->firmware ? m->version : a->st.fw_version;
	if (!strncmp(subject, "model:", 6)) {
		const struct upkc_state_model *sm;

		for (size_t i = 0; i < m->n_components; i++) {
			if (m->components[i].type == UPK_BUNDLE_MODEL &&
			    !strcmp(m->components[i].name, subject + 6))
				return m->version;
		}
		sm = upkc_state_model(&a->st, subject + 6);
		return sm ? sm->version : NULL;
	}
	return NULL; /* abi:NAME: this agent knows no ABI list */
}

/*
 * Everything decided from the signed entry before any payload byte (exit
 * 14 incompatible, 12 rollback). *ret_current: the release is what the
 * device runs already (nothing to do).
 */
static enum upk_err judge(struct agent *a, const struct release *rel, bool *ret_current,
			  struct upk_diag *d)
{
	const struct upk_bundle_manifest *m = rel->custom;
	const char *path = rel->target->path;
	struct upk_semver cur;

	*ret_current = false;
	if (strcmp(m->product, a->cfg.product))
		return upk_diag_set(d, UPK_E_INCOMPATIBLE, path, -1,
				    "release for product '%s', this device is '%s'", m->product,
				    a->cfg.product);
	if (!hardware_matches(a, m))
		return upk_diag_set(d, UPK_E_INCOMPATIBLE, path, -1,
				    "release does not list this device's hardware '%s'",
				    a->cfg.hardware);
	if (rel->n_models && !a->cfg.models_dir)
		return upk_diag_set(d, UPK_E_INCOMPATIBLE, path, -1,
				    "release carries models and [models] dir is not configured");
	if (rel->firmware && m->security_version < a->st.fw_floor)
		return upk_diag_set(d, UPK_E_ROLLBACK, path, -1,
				    "security version %" PRIu64
				    " is below the firmware floor %" PRIu64,
				    m->security_version, a->st.fw_floor);
	for (size_t i = 0; i < m->n_components; i++) {
		const struct upkc_state_model *sm;

		if (m->components[i].type != UPK_BUNDLE_MODEL)
			continue;
		sm = upkc_state_model(&a->st, m->components[i].name);
		if (sm && m->security_version < sm->floor)
			return upk_diag_set(d, UPK_E_ROLLBACK, path, -1,
					    "security version %" PRIu64
					    " is below the floor %" PRIu64 " of model %s",
					    m->security_version, sm->floor, sm->name);
	}
	if (rel->firmware) {
		int c;

		if (upk_semver_parse(a->st.fw_version, &cur))
			return upk_diag_set(d, UPK_E_INTERNAL, str(&a->state_path), -1,
					    "firmware version");
		c = upk_semver_cmp(&m->semver, &cur);
		if (c < 0)
			return upk_diag_set(d, UPK_E_ROLLBACK, path, -1,
					    "version %s is older than the installed %s", m->version,
					    a->st.fw_version);
		if (c == 0)
			*ret_current = true;
	} else {
		bool all = true;

		for (size_t i = 0; i < m->n_components; i++) {
			const struct upkc_state_model *sm =
				upkc_state_model(&a->st, m->components[i].name);
			struct upk_semver mv;

			if (!sm || upk_semver_parse(sm->version, &mv)) {
				all = false;
				continue;
			}
			if (upk_semver_cmp(&m->semver, &mv) < 0)
				return upk_diag_set(d, UPK_E_ROLLBACK, path, -1,
						    "version %s is older than the installed %s "
						    "of model %s",
						    m->version, sm->version, sm->name);
			if (upk_semver_cmp(&m->semver, &mv) != 0)
				all = false;
		}
		*ret_current = all;
	}
	for (size_t i = 0; i < m->n_requirements; i++) {
		const struct upk_bundle_requirement *q = &m->requirements[i];
		const char *have = version_after(a, rel, q->subject);
		struct upk_semver hv;

		if (!have || upk_semver_parse(have, &hv) ||
		    !op_holds(q->op, upk_semver_cmp(&hv, &q->semver)))
			return upk_diag_set(d, UPK_E_INCOMPATIBLE, path, -1,
					    "requirement %s %s %s is not met (%s %s)", q->subject,
					    upk_bundle_op_name(q->op), q->version, q->subject,
					    have ? have : "absent");
	}
	return UPK_OK;
}

/* ---- installing the components ---- */

struct progress {
	const char *what;
	bool tty;  /* a progress line on a terminal */
	bool json; /* one JSON event per journal point on stdout (install --json) */
	struct timespec start;
};

static double seconds_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Bytes, rate and ETA on one rewritten terminal line; JSON events for agents. */
static void on_progress(void *ctx, const struct upkc_install_stats *s)
{
	struct progress *p = ctx;
	double secs = seconds_since(&p->start), rate, eta;
	uint64_t done_bytes;

	if (!s->chunks)
		return;
	done_bytes = s->done == s->chunks ? s->size : s->size / s->chunks * s->done;
	rate = secs > 0 ? (double)done_bytes / secs : 0;
	eta = rate > 0 ? (double)(s->size - done_bytes) / rate : 0;
	if (p->json) {
		printf("{\"event\": \"progress\", \"component\": \"%s\", \"chunks\": %" PRIu64
		       ", \"done\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"size\": %" PRIu64
		       ", \"fetched\": %" PRIu64 ", \"local\": %" PRIu64 ", \"seconds\": %.3f}\n",
		       p->what, s->chunks, s->done, done_bytes, s->size, s->bytes_fetched,
		       s->from_seed + s->from_target + s->from_journal, secs);
		fflush(stdout);
	}
	if (!p->tty)
		return;
	fprintf(stderr,
		"\r\033[K  %s: %3" PRIu64 "%%  %.1f/%.1f MiB  %.1f MiB/s  ETA %.0f s  (%" PRIu64
		" chunks fetched, %" PRIu64 " local)%s",
		p->what, s->done * 100 / s->chunks, (double)done_bytes / 1048576.0,
		(double)s->size / 1048576.0, rate / 1048576.0, eta, s->from_net,
		s->from_seed + s->from_target + s->from_journal, s->done == s->chunks ? "\n" : "");
}

static enum upk_err journal_path(const struct agent *a, const char *component, struct upk_buf *out)
{
	return upk_buf_printf(out, "%s/install-%s.journal", a->cfg.state_dir, component);
}

struct empty_slot {
	struct agent *a;
	int slot;
};

/* Just before the slot is written: its old contents go, the state must not name them. */
static enum upk_err empty_slot(void *ctx, struct upk_diag *d)
{
	struct empty_slot *e = ctx;
	struct upkc_state_slot *s = &e->a->st.slots[e->slot];

	if (s->status == UPKC_SLOT_EMPTY)
		return UPK_OK;
	s->status = UPKC_SLOT_EMPTY;
	s->version[0] = 0;
	return save_state(e->a, "install: slot emptied", d);
}

static enum upk_err install_one(struct agent *a, const struct release *rel,
				const struct upk_bundle_component *c, const char *bundle_url,
				const char *bundle_file, bool check_file, int slot,
				struct upk_buf *header, struct upk_diag *d)
{
	_cleanup_buf_ struct upk_buf target = UPK_BUF_INIT, journal = UPK_BUF_INIT,
				     seed = UPK_BUF_INIT, cur = UPK_BUF_INIT;
	struct upkc_fetch_opts fo = { .connect_timeout_s = a->cfg.connect_timeout_s,
				      .low_speed_bytes = a->cfg.low_speed_limit,
				      .low_speed_window_s = a->cfg.low_speed_time_s };
	struct progress p = { .what = c->name,
			      .tty = isatty(STDERR_FILENO) && !a->json,
			      .json = a->json };
	struct upkc_install_opts o = { 0 };
	struct upkc_install_stats stats = { 0 };
	struct empty_slot es = { .a = a, .slot = slot };
	const char *seeds[1];
	bool have = false;
	enum upk_err r;

	clock_gettime(CLOCK_MONOTONIC, &p.start);

	if (journal_path(a, c->name, &journal))
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
	if (c->type == UPK_BUNDLE_FIRMWARE) {
		if (upk_buf_append_str(&target, slot_path(a, slot)))
			return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
		seeds[0] = slot_path(a, a->st.active);
		o.n_seeds = upk_io_exists(seeds[0]) ? 1 : 0;
	} else {
		r = upkc_models_stage(a->cfg.models_dir, c->name, rel->custom->version, &target, d);
		if (!r)
			r = upkc_models_current(a->cfg.models_dir, c->name, &cur, &have, d);
		if (r)
			return r;
		if (have && upk_buf_printf(&seed, "%s/%s/%s/%s", a->cfg.models_dir, c->name,
					   str(&cur), c->name))
			return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
		seeds[0] = str(&seed);
		o.n_seeds = have && upk_io_exists(seeds[0]) ? 1 : 0;
		o.truncate = true;
	}
	o.bundle_url = bundle_url;
	o.bundle_file = bundle_file;
	o.check_file = bundle_file && check_file ? &rel->target->hashes : NULL;
	o.header_cache = header;
	if (c->type == UPK_BUNDLE_FIRMWARE) {
		o.before_write = empty_slot;
		o.before_write_ctx = &es;
	}
	o.bundle_length = (uint64_t)rel->target->length;
	o.header_length = rel->custom->header_length;
	memcpy(o.header_sha256, rel->custom->header_sha256, UPK_SHA256_LEN);
	o.component = c->name;
	o.target = str(&target);
	o.state = str(&journal);
	o.seeds = seeds;
	o.fetch = &fo;
	o.progress = on_progress;
	o.progress_ctx = &p;
	r = upkc_install_component(&o, &stats, d);
	if (r)
		return r;
	say(a,
	    "  %s: %" PRIu64 " bytes verified in %s (%" PRIu64 " chunks: %" PRIu64
	    " fetched, %" PRIu64 " reused locally)",
	    c->name, c->size, str(&target), stats.chunks, stats.from_net,
	    stats.from_seed + stats.from_target + stats.from_journal);
	return UPK_OK;
}

static void remove_journals(const struct agent *a, const struct release *rel)
{
	for (size_t i = 0; i < rel->custom->n_components; i++) {
		_cleanup_buf_ struct upk_buf j = UPK_BUF_INIT;

		if (!journal_path(a, rel->custom->components[i].name, &j))
			(void)unlink(str(&j));
	}
}

static void remove_trial_journals(const struct agent *a, const struct upkc_state_trial *tr)
{
	_cleanup_buf_ struct upk_buf j = UPK_BUF_INIT;

	if (tr->firmware && !journal_path(a, "firmware", &j))
		(void)unlink(str(&j));
	for (size_t i = 0; i < tr->n_models; i++) {
		upk_buf_done(&j);
		if (!journal_path(a, tr->models[i].name, &j))
			(void)unlink(str(&j));
	}
}

/* ---- running the device maker's commands ---- */

/* Run a configured check; true if it passed. `what` names it in messages. */
static bool run_check(const struct agent *a, const char *what, const char *command,
		      int64_t timeout_s, const char *const *env, char *why, size_t why_len)
{
	struct upkc_proc_opts o = { .timeout_ms = timeout_s * 1000, .env = env, .what = what };
	struct upk_diag d;
	int status = 0;
	enum upk_err r;

	upk_diag_clear(&d);
	if (!command)
		return true;
	r = upkc_proc_shell(command, &o, &status, &d);
	if (r == UPK_E_TIMEOUT)
		snprintf(why, why_len, "%s timed out after %" PRId64 " s", what, timeout_s);
	else if (r)
		snprintf(why, why_len, "%s could not run: %s", what, d.reason);
	else if (status)
		snprintf(why, why_len, "%s exited with status %d", what, status);
	if (r || status)
		say(a, "  %s: FAILED (%s)", what, why);
	else
		say(a, "  %s: passed", what);
	return !r && !status;
}

static void reboot(const struct agent *a)
{
	struct upkc_proc_opts o = { .timeout_ms = 60000, .what = "reboot command" };
	struct upk_diag d;
	int status;

	if (a->no_reboot || !a->cfg.reboot_command) {
		say(a, "  reboot the device to continue");
		return;
	}
	say(a, "  rebooting: %s", a->cfg.reboot_command);
	if (upkc_proc_shell(a->cfg.reboot_command, &o, &status, &d) || status)
		fprintf(stderr, PROG ": warning: the reboot command failed\n");
}

/* Models of the trial switched to their new versions (idempotent). */
static enum upk_err activate_models(struct agent *a, struct upk_diag *d)
{
	for (size_t i = 0; i < a->st.trial.n_models; i++) {
		const struct upkc_trial_model *m = &a->st.trial.models[i];
		enum upk_err r = upkc_models_activate(a->cfg.models_dir, m->name, m->version, d);

		upkc_failpoint("models: activated");
		if (r)
			return r;
	}
	return UPK_OK;
}

static enum upk_err revert_models(struct agent *a, struct upk_diag *d)
{
	for (size_t i = 0; i < a->st.trial.n_models; i++) {
		const struct upkc_trial_model *m = &a->st.trial.models[i];
		enum upk_err r = upkc_models_revert(a->cfg.models_dir, m->name,
						    m->previous[0] ? m->previous : NULL, d);

		upkc_failpoint("models: reverted");
		if (r)
			return r;
	}
	return UPK_OK;
}

static void prune_models(struct agent *a, const struct upkc_state_trial *tr)
{
	for (size_t i = 0; i < tr->n_models; i++) {
		struct upk_diag d;

		if (upkc_models_prune(a->cfg.models_dir, tr->models[i].name, NULL, &d))
			fprintf(stderr, PROG ": warning: %s: %s\n", d.where, d.reason);
	}
}

/* The health check and every model's self-test of the trial; true if all passed. */
static bool trial_checks(struct agent *a, char *why, size_t why_len)
{
	const struct upkc_state_trial *tr = &a->st.trial;
	char slot_env[32], ver_env[160];

	snprintf(slot_env, sizeof(slot_env), "UPKEEP_SLOT=%s",
		 tr->firmware ? upkc_slot_name(tr->slot) : upkc_slot_name(a->st.active));
	snprintf(ver_env, sizeof(ver_env), "UPKEEP_VERSION=%s", tr->version);
	if (tr->firmware) {
		const char *env[] = { slot_env, ver_env, NULL };

		upkc_failpoint("boot: before health check");
		if (!run_check(a, "health check", a->cfg.health_command, a->cfg.health_timeout_s,
			       env, why, why_len))
			return false;
		upkc_failpoint("boot: health check passed");
	}
	for (size_t i = 0; i < tr->n_models; i++) {
		const struct upkc_trial_model *m = &tr->models[i];
		char name_env[96], mver_env[160], path_env[4200], what[256];
		const char *env[] = { slot_env, ver_env, name_env, mver_env, path_env, NULL };

		snprintf(name_env, sizeof(name_env), "UPKEEP_MODEL_NAME=%s", m->name);
		snprintf(mver_env, sizeof(mver_env), "UPKEEP_MODEL_VERSION=%s", m->version);
		snprintf(path_env, sizeof(path_env), "UPKEEP_MODEL_PATH=%s/%s/current/%s",
			 a->cfg.models_dir, m->name, m->name);
		snprintf(what, sizeof(what), "self-test of model %s %s", m->name, m->version);
		if (!run_check(a, what, a->cfg.selftest_command, a->cfg.selftest_timeout_s, env,
			       why, why_len))
			return false;
		upkc_failpoint("models: self-test passed");
	}
	return true;
}

/* ---- commit and rollback ---- */

static uint64_t max_u64(uint64_t x, uint64_t y)
{
	return x > y ? x : y;
}

static enum upk_err commit_trial(struct agent *a, struct upk_diag *d)
{
	struct upkc_state_trial tr = a->st.trial;
	struct upkc_state *st = &a->st;
	enum upk_err r;

	if (tr.firmware) {
		r = upkc_boot_set_good(a->boot, tr.slot, d);
		upkc_failpoint("commit: boot state written");
		if (r)
			return r;
		st->active = tr.slot;
		st->slots[tr.slot].status = UPKC_SLOT_GOOD;
		snprintf(st->slots[tr.slot].version, sizeof(st->slots[0].version), "%s",
			 tr.version);
		snprintf(st->fw_version, sizeof(st->fw_version), "%s", tr.version);
		snprintf(st->fw_release, sizeof(st->fw_release), "%s", tr.release);
		st->fw_security_version = tr.security_version;
		st->fw_floor = max_u64(st->fw_floor, tr.security_version);
	}
	for (size_t i = 0; i < tr.n_models; i++) {
		struct upkc_state_model *m = upkc_state_model(st, tr.models[i].name);

		if (!m) {
			if (st->n_models >= UPKC_STATE_MAX_MODELS)
				return upk_diag_set(d, UPK_E_INTERNAL, NULL, -1, "too many models");
			m = &st->models[st->n_models++];
			memset(m, 0, sizeof(*m));
			snprintf(m->name, sizeof(m->name), "%s", tr.models[i].name);
		}
		snprintf(m->version, sizeof(m->version), "%s", tr.models[i].version);
		m->floor = max_u64(m->floor, tr.security_version);
	}
	if (tr.support_end[0])
		memcpy(st->support_end, tr.support_end, sizeof(st->support_end));
	memset(&st->trial, 0, sizeof(st->trial));
	st->trial.slot = -1;
	r = save_state(a, "commit: state saved", d);
	if (r)
		return r;
	postpone_clear(a);
	prune_models(a, &tr);
	log_event(a, "commit", tr.release, tr.version, NULL);
	say(a, "upkeep-client: committed %s %s%s%s; security floor now %" PRIu64, tr.release,
	    tr.version, tr.firmware ? " in slot " : "", tr.firmware ? upkc_slot_name(tr.slot) : "",
	    st->fw_floor);
	return UPK_OK;
}

/*
 * Roll the trial back: models reverted, the old slot made the boot slot,
 * the trial slot marked bad. `booted_new`: the system runs the trial slot
 * and must reboot into the old one.
 */
static enum upk_err rollback_trial(struct agent *a, const char *why, bool booted_new,
				   struct upk_diag *d)
{
	struct upkc_state_trial tr = a->st.trial;
	struct upkc_state *st = &a->st;
	enum upk_err r;

	r = revert_models(a, d);
	if (r)
		return r;
	if (tr.firmware) {
		r = upkc_boot_set_good(a->boot, st->active, d);
		upkc_failpoint("rollback: boot state written");
		if (r)
			return r;
		st->slots[tr.slot].status = UPKC_SLOT_BAD;
		snprintf(st->slots[tr.slot].version, sizeof(st->slots[0].version), "%s",
			 tr.version);
	}
	upkc_state_add_failed(st, tr.release);
	/*
	 * The journals of this release describe files that are gone or marked
	 * bad now; a later install of it starts over instead of trusting them.
	 */
	remove_trial_journals(a, &tr);
	memset(&st->trial, 0, sizeof(st->trial));
	st->trial.slot = -1;
	r = save_state(a, "rollback: state saved", d);
	if (r)
		return r;
	prune_models(a, &tr);
	log_event(a, "rollback", tr.release, tr.version, why);
	say(a, "upkeep-client: rolled back %s %s: %s", tr.release, tr.version, why);
	if (tr.firmware && booted_new)
		reboot(a);
	return UPK_OK;
}

/* ---- install ---- */

static int usage_install(FILE *f)
{
	fprintf(f,
		"Usage: upkeep-client install [TARGET] [--config FILE] [--no-reboot] [--json] "
		"[-v]\n"
		"       upkeep-client install --from FILE.upk [--metadata DIR] [TARGET] ...\n\n"
		"Refresh the TUF metadata, check the release (TARGET, or the newest one for\n"
		"this product and hardware) against the device before downloading any payload\n"
		"byte, write its firmware into the inactive slot and its models into the model\n"
		"store chunk by chunk, read them back, and arm a trial boot of the new slot\n"
		"(a release of models only is switched and self-tested at once).\n\n"
		"Options:\n"
		"  --config FILE    device configuration (default %s)\n"
		"  --from FILE.upk  offline install from a bundle file; its metadata is read\n"
		"                   from --metadata DIR (default: DIR of FILE/metadata) and\n"
		"                   verified against the trusted root like a download\n"
		"  TARGET           the target path (default: the newest release; with --from,\n"
		"                   the file's name)\n"
		"  --no-reboot      do not run [boot] reboot_command after arming the trial\n"
		"  --json           JSON events on stdout instead of the narrative: one\n"
		"                   \"progress\" object per journal point, then the outcome\n"
		"  -v, --verbose    log requests and decisions on stderr\n\n"
		"Exit status: 0 installed (or nothing to do), 1 I/O, 2 usage, 3 network or a\n"
		"trial in progress, 10 integrity, 11 signature, 12 rollback (older version or\n"
		"security version below the floor), 13 freeze, 14 incompatible (product,\n"
		"hardware, requirements, space), 15 a model self-test failed (rolled back).\n",
		UPKC_CONFIG_DEFAULT_PATH);
	return 0;
}

static enum upk_err trial_in_progress(const struct agent *a, struct upk_diag *d)
{
	return upk_diag_set(d, UPK_E_LOCKED, str(&a->state_path), -1,
			    "a trial of %s %s is in progress (%s): reboot, or run "
			    "`upkeep-client boot`, commit or rollback first",
			    a->st.trial.release, a->st.trial.version,
			    upkc_trial_phase_name(a->st.trial.phase));
}

/* Install a judged release; 0 or an error (with diag). */
static enum upk_err do_install(struct agent *a, struct upkc_session *s, const struct release *rel,
			       const char *from, struct upk_diag *d)
{
	const struct upk_bundle_manifest *m = rel->custom;
	struct upkc_state_trial *tr = &a->st.trial;
	_cleanup_buf_ struct upk_buf url = UPK_BUF_INIT, header = UPK_BUF_INIT;
	int slot = 1 - a->st.active;
	enum upk_err r;
	char why[512] = "";

	if (!from) {
		r = upkc_updater_target_url(s->u, rel->target, &url);
		if (r)
			return upk_diag_set(d, r, rel->target->path, -1, "target URL");
	}
	say(a, "upkeep-client: installing %s (version %s, %s, security version %" PRIu64 ")%s%s",
	    rel->target->path, m->version, upk_bundle_kind_name(m->kind), m->security_version,
	    rel->firmware ? " into slot " : "", rel->firmware ? upkc_slot_name(slot) : "");
	if (m->has_advisory)
		say(a, "  advisory (%s): %s", upk_bundle_severity_name(m->advisory.severity),
		    m->advisory.summary);
	for (size_t i = 0; i < m->n_components; i++) {
		/* Offline: the first component's run checks the whole file first. */
		r = install_one(a, rel, &m->components[i], from ? NULL : str(&url), from, i == 0,
				slot, &header, d);
		if (r)
			return r;
	}

	/* Record the trial before the bootloader learns of it. */
	memset(tr, 0, sizeof(*tr));
	tr->phase = rel->firmware ? UPKC_TRIAL_STAGED : UPKC_TRIAL_MODELS;
	tr->firmware = rel->firmware != NULL;
	tr->slot = rel->firmware ? slot : -1;
	snprintf(tr->release, sizeof(tr->release), "%s", rel->target->path);
	snprintf(tr->version, sizeof(tr->version), "%s", m->version);
	tr->security_version = m->security_version;
	if (m->support_end_str)
		snprintf(tr->support_end, sizeof(tr->support_end), "%s", m->support_end_str);
	tr->started = (int64_t)time(NULL);
	for (size_t i = 0; i < m->n_components; i++) {
		struct upkc_trial_model *tm = &tr->models[tr->n_models];
		_cleanup_buf_ struct upk_buf cur = UPK_BUF_INIT;
		bool have = false;

		if (m->components[i].type != UPK_BUNDLE_MODEL)
			continue;
		r = upkc_models_current(a->cfg.models_dir, m->components[i].name, &cur, &have, d);
		if (r)
			return r;
		snprintf(tm->name, sizeof(tm->name), "%s", m->components[i].name);
		snprintf(tm->version, sizeof(tm->version), "%s", m->version);
		/* Re-installing the version in use keeps the real fallback. */
		if (have && strcmp(str(&cur), m->version))
			snprintf(tm->previous, sizeof(tm->previous), "%s", str(&cur));
		else if (have) {
			_cleanup_buf_ struct upk_buf prev = UPK_BUF_INIT;
			bool hp = false;

			r = upkc_models_previous(a->cfg.models_dir, tm->name, &prev, &hp, d);
			if (r)
				return r;
			if (hp)
				snprintf(tm->previous, sizeof(tm->previous), "%s", str(&prev));
		}
		tr->n_models++;
	}
	if (rel->firmware) {
		a->st.slots[slot].status = UPKC_SLOT_STAGED;
		snprintf(a->st.slots[slot].version, sizeof(a->st.slots[0].version), "%s",
			 m->version);
	}
	r = save_state(a, "install: state staged", d);
	if (r)
		return r;
	{
		/*
		 * The release's signed build time lies in the past: the clock never
		 * goes behind it again (DESIGN.md "Trust"). Capped at the trusted
		 * timestamp's expiry, which the repository signed after the build:
		 * a build time beyond it is a mistake that must not freeze the device.
		 */
		const struct upk_meta *ts = upk_trust_timestamp(upkc_updater_trust(s->u));
		int64_t t = m->build_time;

		if (ts && ts->expires - 1 < t)
			t = ts->expires - 1;
		r = upkc_session_raise_floor(&a->cfg, t, d);
		if (r)
			return r;
	}
	remove_journals(a, rel);
	log_event(a, "installed", tr->release, tr->version,
		  rel->firmware ? upkc_slot_name(slot) : "models");

	if (!rel->firmware) {
		/* Models only: switch, self-test, commit or roll back, no reboot. */
		r = activate_models(a, d);
		if (r)
			return r;
		if (!trial_checks(a, why, sizeof(why))) {
			r = rollback_trial(a, why, false, d);
			if (r)
				return r;
			return upk_diag_set(d, UPK_E_HEALTH, rel->target->path, -1, "%s", why);
		}
		return commit_trial(a, d);
	}
	r = upkc_boot_arm_trial(a->boot, slot, (unsigned)a->cfg.trial_boots, d);
	upkc_failpoint("install: trial armed");
	if (r)
		return r;
	tr->phase = UPKC_TRIAL_ARMED;
	r = save_state(a, "install: state armed", d);
	if (r)
		return r;
	say(a,
	    "upkeep-client: slot %s armed for a trial boot (%ld tries); the health check "
	    "decides at the next boot",
	    upkc_slot_name(slot), a->cfg.trial_boots);
	reboot(a);
	return UPK_OK;
}

/* No trial pending, and a boot state that is readable and agrees: a slot may be written. */
static enum upk_err may_install(struct agent *a, struct upk_diag *d)
{
	struct upkc_boot_state bs;
	enum upk_err r;

	if (a->st.trial.phase != UPKC_TRIAL_NONE)
		return trial_in_progress(a, d);
	r = upkc_boot_read(a->boot, &bs, d);
	if (r)
		return r;
	if (bs.trial || bs.primary != a->st.active)
		return upk_diag_set(d, UPK_E_LOCKED, upkc_boot_name(a->boot), -1,
				    "the bootloader is set to boot slot %s%s, the committed "
				    "slot is %s: run `upkeep-client boot` first",
				    upkc_slot_name(bs.primary), bs.trial ? " in trial" : "",
				    upkc_slot_name(a->st.active));
	return UPK_OK;
}

/* Judge the chosen release and install it, logging a refusal or a failure. */
static enum upk_err install_release(struct agent *a, struct upkc_session *s,
				    const struct release *rel, const char *from, bool *ret_nothing,
				    struct upk_diag *d)
{
	bool current = false;
	enum upk_err r = judge(a, rel, &current, d);

	if (r) {
		log_event(a, "refused", rel->target->path, rel->custom->version, d->reason);
		return r;
	}
	if (current) {
		say(a, "upkeep-client: %s (%s) is already installed", rel->target->path,
		    rel->custom->version);
		*ret_nothing = true;
		return UPK_OK;
	}
	r = do_install(a, s, rel, from, d);
	if (r)
		log_event(a, "install failed", rel->target->path, rel->custom->version, d->reason);
	return r;
}

/* Find, judge and install; *ret_nothing when there is nothing to do. */
static enum upk_err install_flow(struct agent *a, const struct args *args, bool *ret_nothing,
				 struct upk_diag *d)
{
	_cleanup_buf_ struct upk_buf mdir = UPK_BUF_INIT;
	struct upkc_session s;
	struct release rel = { 0 };
	const struct upk_target *t;
	const char *target = args->target, *metadata = args->metadata;
	bool found = true;
	enum upk_err r;

	*ret_nothing = false;
	r = may_install(a, d);
	if (r)
		return r;
	if (args->from) {
		const char *slash = strrchr(args->from, '/');
		char *real;

		if (!upk_io_exists(args->from))
			return upk_diag_set(d, UPK_E_USAGE, args->from, -1, "no such file");
		real = realpath(args->from, NULL);
		if (!real)
			return upk_diag_set(d, UPK_E_IO, args->from, -1, "%s", strerror(errno));
		if (!metadata) {
			char *dir_end = strrchr(real, '/');

			r = upk_buf_printf(&mdir, "%.*s/metadata", (int)(dir_end - real), real);
			metadata = str(&mdir);
		} else if (metadata[0] != '/') {
			char *mreal = realpath(metadata, NULL);

			r = mreal ? upk_buf_append_str(&mdir, mreal) : UPK_E_NOT_FOUND;
			free(mreal);
			metadata = str(&mdir);
		} else {
			r = UPK_OK;
		}
		free(real);
		if (r == UPK_E_NOT_FOUND)
			return upk_diag_set(d, UPK_E_USAGE, args->metadata, -1,
					    "no such directory");
		if (r)
			return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
		if (!target)
			target = slash ? slash + 1 : args->from;
		{
			struct stat sb;

			if (stat(metadata, &sb) != 0 || !S_ISDIR(sb.st_mode))
				return upk_diag_set(d, UPK_E_USAGE, metadata, -1,
						    "no metadata directory for the offline "
						    "install (copy the repository's metadata "
						    "there, or give --metadata DIR)");
		}
	}
	r = upkc_session_open(&a->cfg, args->from ? metadata : NULL, a->verbose, &s, d);
	if (r)
		return r;
	if (target) {
		r = upkc_updater_find_target(s.u, target, &t, d);
		if (!r)
			r = release_from_target(t, &rel, d);
	} else {
		r = newest_release(a, &s, args->skip_failed, &rel, &found, d);
	}
	if (!r && !found) {
		say(a, "upkeep-client: no release for %s on %s is published", a->cfg.product,
		    a->cfg.hardware);
		*ret_nothing = true;
	} else if (!r) {
		r = install_release(a, &s, &rel, args->from, ret_nothing, d);
	}
	release_done(&rel);
	upkc_session_close(&s);
	return r;
}

int upkc_agent_install(int argc, char **argv)
{
	_cleanup_(agent_freep) struct agent *a = NULL;
	struct args args = { 0 };
	struct upk_diag d;
	bool nothing;
	int rc = parse_args("install", OPT_TARGET | OPT_FROM | OPT_REBOOT | OPT_JSON, usage_install,
			    argc, argv, &args);

	upk_diag_clear(&d);
	if (rc >= 0)
		return rc;
	if (agent_open(&args, &a, &d) || install_flow(a, &args, &nothing, &d))
		return upkc_report(&d);
	if (args.json) {
		const struct upkc_state_trial *tr = &a->st.trial;

		/* The outcome: a trial armed, models committed, or nothing to do. */
		if (tr->phase == UPKC_TRIAL_ARMED)
			printf("{\"event\": \"armed\", \"release\": \"%s\", \"version\": \"%s\", "
			       "\"slot\": \"%s\"}\n",
			       tr->release, tr->version, upkc_slot_name(tr->slot));
		else
			printf("{\"event\": \"%s\", \"firmware\": \"%s\"}\n",
			       nothing ? "nothing to do" : "committed", a->st.fw_version);
	}
	return 0;
}

/* ---- boot ---- */

static int usage_boot(FILE *f)
{
	fprintf(f, "Usage: upkeep-client boot [--config FILE] [--no-reboot] [-v]\n\n"
		   "Run at every boot (from an init system unit, after the system is up). On a\n"
		   "trial boot of a new slot: switch the release's models, run the health check\n"
		   "and the models' self-tests, then commit (mark the slot good, raise the\n"
		   "anti-rollback floors, end the trial) or roll back (restore the models, make\n"
		   "the old slot the boot slot, mark the new one bad, reboot). A trial the\n"
		   "bootloader already gave up (its boot counter ran out) is recorded as rolled\n"
		   "back. Outside a trial it checks that the bootloader will boot the committed "
		   "slot.\n\n"
		   "Exit status: 0 nothing to do or committed, 1 I/O, 2 usage or configuration,\n"
		   "15 the trial failed and was rolled back.\n");
	return 0;
}

static enum upk_err boot_flow(struct agent *a, struct upk_diag *d)
{
	struct upkc_state_trial *tr = &a->st.trial;
	struct upkc_boot_state bs;
	char why[512] = "";
	int booted;
	enum upk_err r;

	r = booted_slot(a, &booted, d);
	if (!r)
		r = upkc_boot_read(a->boot, &bs, d);
	if (r)
		return r;
	switch (tr->phase) {
	case UPKC_TRIAL_NONE:
		if (booted != a->st.active)
			fprintf(stderr,
				PROG ": warning: running slot %s, but the committed slot is %s\n",
				upkc_slot_name(booted), upkc_slot_name(a->st.active));
		if (bs.trial || bs.primary != a->st.active) {
			/* Only a hand-edited boot state gets here: boot what was committed. */
			r = upkc_boot_set_good(a->boot, a->st.active, d);
			if (r)
				return r;
			log_event(a, "boot state repaired", NULL, a->st.fw_version,
				  upkc_slot_name(a->st.active));
		}
		say(a, "upkeep-client: slot %s runs %s (committed)", upkc_slot_name(booted),
		    a->st.fw_version);
		return UPK_OK;
	case UPKC_TRIAL_MODELS:
		/* A models-only switch that was cut before its self-test passed. */
		r = rollback_trial(a, "interrupted before the model self-test passed", false, d);
		return r ? r
			 : upk_diag_set(d, UPK_E_HEALTH, tr->release, -1,
					"models rolled back: the self-test did not complete");
	case UPKC_TRIAL_STAGED:
	case UPKC_TRIAL_ARMED:
		break;
	}
	if (booted != tr->slot) {
		bool armed = tr->phase == UPKC_TRIAL_ARMED;
		char rel[UPKC_STATE_RELEASE_MAX], ver[UPK_SEMVER_MAX_LEN];

		snprintf(rel, sizeof(rel), "%s", tr->release);
		snprintf(ver, sizeof(ver), "%s", tr->version);
		if (!armed && bs.trial && bs.primary == tr->slot) {
			/* Armed, but the device restarted before the reboot into it: go on. */
			tr->phase = UPKC_TRIAL_ARMED;
			r = save_state(a, "boot: state armed", d);
			if (r)
				return r;
			say(a,
			    "upkeep-client: slot %s is armed for a trial of %s; reboot to "
			    "continue",
			    upkc_slot_name(tr->slot), tr->version);
			return UPK_OK;
		}
		r = rollback_trial(a,
				   armed ? "the trial slot did not boot: the bootloader fell back"
					 : "the install was cut before the trial was armed",
				   false, d);
		if (r)
			return r;
		if (!armed)
			return UPK_OK;
		return upk_diag_set(d, UPK_E_HEALTH, rel, -1,
				    "version %s did not boot (the boot counter ran out); "
				    "rolled back",
				    ver);
	}
	/* A trial boot of the new slot. */
	if (tr->phase == UPKC_TRIAL_STAGED) {
		tr->phase = UPKC_TRIAL_ARMED;
		r = save_state(a, "boot: state armed", d);
		if (r)
			return r;
	}
	say(a, "upkeep-client: trial boot of %s %s in slot %s", tr->release, tr->version,
	    upkc_slot_name(tr->slot));
	r = activate_models(a, d);
	if (r)
		return r;
	if (trial_checks(a, why, sizeof(why)))
		return commit_trial(a, d);
	{
		char rel[UPKC_STATE_RELEASE_MAX];

		snprintf(rel, sizeof(rel), "%s", tr->release);
		r = rollback_trial(a, why, true, d);
		return r ? r : upk_diag_set(d, UPK_E_HEALTH, rel, -1, "%s; rolled back", why);
	}
}

int upkc_agent_boot(int argc, char **argv)
{
	_cleanup_(agent_freep) struct agent *a = NULL;
	struct args args = { 0 };
	struct upk_diag d;
	int rc = parse_args("boot", OPT_REBOOT, usage_boot, argc, argv, &args);

	upk_diag_clear(&d);
	if (rc >= 0)
		return rc;
	if (agent_open(&args, &a, &d) || boot_flow(a, &d))
		return upkc_report(&d);
	return 0;
}

/* ---- commit / rollback by hand ---- */

static int usage_decide(FILE *f, const char *cmd)
{
	fprintf(f,
		"Usage: upkeep-client %s [--config FILE] [--no-reboot] [-v]\n\n"
		"%s the trial in progress by hand, without the health check: on a trial\n"
		"boot of the new slot (firmware), or after a models-only switch.\n\n"
		"Exit status: 0 done, 1 I/O, 2 usage, or no trial to decide.\n",
		cmd, !strcmp(cmd, "commit") ? "Commit" : "Roll back");
	return 0;
}

static int usage_commit(FILE *f)
{
	return usage_decide(f, "commit");
}

static int usage_rollback(FILE *f)
{
	return usage_decide(f, "rollback");
}

static int decide(int argc, char **argv, bool commit)
{
	const char *cmd = commit ? "commit" : "rollback";
	_cleanup_(agent_freep) struct agent *a = NULL;
	struct args args = { 0 };
	struct upk_diag d;
	int booted = -1, rc = parse_args(cmd, OPT_REBOOT, commit ? usage_commit : usage_rollback,
					 argc, argv, &args);
	enum upk_err r;

	upk_diag_clear(&d);
	if (rc >= 0)
		return rc;
	if (agent_open(&args, &a, &d))
		return upkc_report(&d);
	if (a->st.trial.phase == UPKC_TRIAL_NONE) {
		upk_diag_set(&d, UPK_E_USAGE, str(&a->state_path), -1, "no trial in progress");
		return upkc_report(&d);
	}
	if (a->st.trial.firmware) {
		r = booted_slot(a, &booted, &d);
		if (r)
			return upkc_report(&d);
		if (commit && booted != a->st.trial.slot) {
			upk_diag_set(&d, UPK_E_USAGE, str(&a->state_path), -1,
				     "slot %s is on trial but slot %s is running: boot the trial "
				     "slot first",
				     upkc_slot_name(a->st.trial.slot), upkc_slot_name(booted));
			return upkc_report(&d);
		}
	}
	if (commit) {
		r = activate_models(a, &d);
		if (!r)
			r = commit_trial(a, &d);
	} else {
		r = rollback_trial(a, "rolled back by hand", booted == a->st.trial.slot, &d);
	}
	return r ? upkc_report(&d) : 0;
}

int upkc_agent_commit(int argc, char **argv)
{
	return decide(argc, argv, true);
}

int upkc_agent_rollback(int argc, char **argv)
{
	return decide(argc, argv, false);
}

/* ---- status ---- */

static int usage_status(FILE *f)
{
	fprintf(f, "Usage: upkeep-client status [--config FILE] [--json]\n\n"
		   "Show the slots, the running and committed versions, the anti-rollback\n"
		   "floors, the trial in progress, the models and the end of support.\n"
		   "Reads only (the state is created at the first command if missing).\n");
	return 0;
}

static void print_status(struct agent *a, const struct upkc_boot_state *bs, int booted)
{
	const struct upkc_state *st = &a->st;
	char now_day[24];

	upkc_format_time((int64_t)time(NULL), now_day);
	printf("product     %s (hardware %s)\n", a->cfg.product, a->cfg.hardware);
	printf("firmware    %s%s%s, slot %s (committed), security version %" PRIu64 "\n",
	       st->fw_version, st->fw_release[0] ? " from " : " (factory image)", st->fw_release,
	       upkc_slot_name(st->active), st->fw_security_version);
	printf("floor       firmware security version >= %" PRIu64 "\n", st->fw_floor);
	for (int i = 0; i < 2; i++)
		printf("slot %s      %-6s %s%s%s\n", upkc_slot_name(i),
		       upkc_slot_status_name(st->slots[i].status), st->slots[i].version,
		       booted == i ? "  [booted]" : "", bs->primary == i ? "  [next boot]" : "");
	printf("boot        %s backend: primary %s, fallback %s, trial %s", upkc_boot_name(a->boot),
	       upkc_slot_name(bs->primary), upkc_slot_name(bs->fallback), bs->trial ? "yes" : "no");
	if (bs->trial)
		printf(" (%u tries left)", bs->tries_left);
	putchar('\n');
	for (size_t i = 0; i < st->n_models; i++)
		printf("model       %s %s, floor %" PRIu64 "\n", st->models[i].name,
		       st->models[i].version, st->models[i].floor);
	if (st->trial.phase != UPKC_TRIAL_NONE)
		printf("trial       %s %s (%s)%s%s\n", st->trial.release, st->trial.version,
		       upkc_trial_phase_name(st->trial.phase),
		       st->trial.firmware ? " in slot " : "",
		       st->trial.firmware ? upkc_slot_name(st->trial.slot) : "");
	else
		printf("trial       none\n");
	if (st->support_end[0])
		printf("support end %s%s\n", st->support_end,
		       strncmp(now_day, st->support_end, 10) > 0 ? " (ENDED: no more security "
								   "updates)"
								 : "");
	else
		printf("support end not announced\n");
}

static int status_json(struct agent *a, const struct upkc_boot_state *bs, int booted)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT, out = UPK_BUF_INIT;
	_cleanup_json_ json_t *doc = NULL;

	if (upkc_state_serialize(&a->st, &b) ||
	    upk_json_parse(b.data, b.len, UPKC_STATE_MAX_SIZE, &doc, NULL))
		return 1;
	json_object_set_new(doc, "product", json_string(a->cfg.product));
	json_object_set_new(doc, "hardware", json_string(a->cfg.hardware));
	json_object_set_new(doc, "booted",
			    booted >= 0 ? json_string(upkc_slot_name(booted)) : json_null());
	json_object_set_new(doc, "boot",
			    json_pack("{s:s, s:s, s:s, s:b, s:i}", "backend",
				      upkc_boot_name(a->boot), "primary",
				      upkc_slot_name(bs->primary), "fallback",
				      upkc_slot_name(bs->fallback), "trial", bs->trial,
				      "tries_left", (int)bs->tries_left));
	if (upk_json_serialize(doc, &out))
		return 1;
	fwrite(out.data, 1, out.len, stdout);
	return 0;
}

int upkc_agent_status(int argc, char **argv)
{
	_cleanup_(agent_freep) struct agent *a = NULL;
	struct args args = { 0 };
	struct upkc_boot_state bs;
	struct upk_diag d;
	int booted = -1, rc = parse_args("status", OPT_JSON, usage_status, argc, argv, &args);

	upk_diag_clear(&d);
	if (rc >= 0)
		return rc;
	if (agent_open(&args, &a, &d) || upkc_boot_read(a->boot, &bs, &d))
		return upkc_report(&d);
	if (booted_slot(a, &booted, NULL))
		booted = -1;
	if (args.json)
		return status_json(a, &bs, booted);
	print_status(a, &bs, booted);
	return 0;
}

/* ---- check ---- */

static int usage_check(FILE *f)
{
	fprintf(f, "Usage: upkeep-client check [TARGET] [--config FILE] [--json] [-v]\n\n"
		   "Refresh the TUF metadata and say which release is available for this device\n"
		   "(TARGET, or the newest for its product and hardware), whether it applies,\n"
		   "and why not. Nothing is downloaded or installed.\n\n"
		   "Exit status: 0 (whether or not a release applies), 1 I/O, 2 usage, 3 network,\n"
		   "10-13 metadata verification.\n");
	return 0;
}

/* Whether policy lets `run` install rel by itself; why not in *why. */
static bool policy_allows(const struct agent *a, const struct release *rel, const char **why)
{
	switch (rel->custom->kind) {
	case UPK_BUNDLE_KIND_SECURITY:
	case UPK_BUNDLE_KIND_MIXED:
		*why = "[policy] security_updates = off";
		return a->cfg.security_updates;
	case UPK_BUNDLE_KIND_FEATURE:
		*why = "[policy] feature_updates = off";
		return a->cfg.feature_updates;
	}
	*why = "unknown kind";
	return false;
}

static enum upk_err check_flow(struct agent *a, const struct args *args, struct release *rel,
			       bool *ret_found, bool *ret_current, struct upk_diag *verdict,
			       struct upkc_session *s, struct upk_diag *d)
{
	const struct upk_target *t;
	enum upk_err r;

	*ret_found = true;
	if (args->target) {
		r = upkc_updater_find_target(s->u, args->target, &t, d);
		if (!r)
			r = release_from_target(t, rel, d);
	} else {
		r = newest_release(a, s, args->skip_failed, rel, ret_found, d);
	}
	if (r || !*ret_found)
		return r;
	upk_diag_clear(verdict);
	(void)judge(a, rel, ret_current, verdict);
	return UPK_OK;
}

int upkc_agent_check(int argc, char **argv)
{
	_cleanup_(agent_freep) struct agent *a = NULL;
	struct args args = { 0 };
	struct release rel = { 0 };
	struct upk_diag d, verdict;
	struct upkc_session s;
	bool found = false, current = false, allowed;
	const char *why = "";
	int rc = parse_args("check", OPT_JSON | OPT_TARGET, usage_check, argc, argv, &args);

	upk_diag_clear(&d);
	if (rc >= 0)
		return rc;
	if (agent_open(&args, &a, &d) || upkc_session_open(&a->cfg, NULL, a->verbose, &s, &d))
		return upkc_report(&d);
	if (check_flow(a, &args, &rel, &found, &current, &verdict, &s, &d)) {
		upkc_session_close(&s);
		return upkc_report(&d);
	}
	if (!found) {
		if (args.json)
			printf("{\"available\": false}\n");
		else
			printf("no release for %s on %s is published\n", a->cfg.product,
			       a->cfg.hardware);
		upkc_session_close(&s);
		return 0;
	}
	allowed = policy_allows(a, &rel, &why);
	if (args.json) {
		_cleanup_json_ json_t *o = json_pack(
			"{s:b, s:s, s:s, s:s, s:I, s:b, s:b, s:s?, s:b, s:s?, s:s?}", "available",
			true, "release", rel.target->path, "version", rel.custom->version, "kind",
			upk_bundle_kind_name(rel.custom->kind), "security_version",
			(json_int_t)rel.custom->security_version, "installed", current, "applies",
			!verdict.err && !current, "reason", verdict.err ? verdict.reason : NULL,
			"automatic", allowed, "policy", allowed ? NULL : why, "support_end",
			rel.custom->support_end_str);
		_cleanup_buf_ struct upk_buf out = UPK_BUF_INIT;

		if (o && !upk_json_serialize(o, &out))
			fwrite(out.data, 1, out.len, stdout);
	} else {
		printf("available   %s (version %s, %s, security version %" PRIu64 ")\n",
		       rel.target->path, rel.custom->version,
		       upk_bundle_kind_name(rel.custom->kind), rel.custom->security_version);
		if (rel.custom->has_advisory)
			printf("advisory    %s: %s\n",
			       upk_bundle_severity_name(rel.custom->advisory.severity),
			       rel.custom->advisory.summary);
		if (current)
			printf("verdict     installed already\n");
		else if (verdict.err)
			printf("verdict     does not apply: %s (%s)\n", verdict.reason,
			       upk_err_name(verdict.err));
		else
			printf("verdict     applies; %s%s%s\n",
			       allowed ? "`run` installs it automatically"
				       : "`run` leaves it to `install` (",
			       allowed ? "" : why, allowed ? "" : ")");
	}
	release_done(&rel);
	upkc_session_close(&s);
	return 0;
}

/* ---- postponement (bounded, [policy] postpone_max) ---- */

/*
 * STATE/postpone: "since S\nuntil U\n" (Unix seconds). The user may put
 * automatic installs off until U; all postponements together end at
 * since + postpone_max, where `since` is the first postponement after the
 * last commit (a commit removes the file). So a device owner can choose
 * when, within a bound, but cannot opt out of security updates by
 * postponing forever (that takes security_updates = off, a configuration
 * change, as the CRA's opt-out).
 */
struct postpone {
	bool have;
	int64_t since, until;
};

static enum upk_err postpone_path(const struct agent *a, struct upk_buf *out)
{
	return upk_buf_printf(out, "%s/postpone", a->cfg.state_dir);
}

static enum upk_err postpone_read(const struct agent *a, struct postpone *p, struct upk_diag *d)
{
	_cleanup_buf_ struct upk_buf path = UPK_BUF_INIT, b = UPK_BUF_INIT;
	long long since, until;
	char tail;
	enum upk_err r;

	memset(p, 0, sizeof(*p));
	if (postpone_path(a, &path))
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, NULL);
	r = upk_io_read_file(str(&path), 128, &b, NULL, d);
	if (r == UPK_E_NOT_FOUND) {
		upk_diag_clear(d);
		return UPK_OK;
	}
	if (r)
		return r == UPK_E_TOO_LARGE ? upk_diag_set(d, UPK_E_IO, str(&path), -1,
							   "damaged postponement file")
					    : r;
	if (sscanf(str(&b), "since %lld\nuntil %lld\n%c", &since, &until, &tail) != 2 ||
	    since < 0 || until < since)
		return upk_diag_set(d, UPK_E_IO, str(&path), -1,
				    "damaged postponement file: not \"since S\\nuntil U\\n\"");
	p->have = true;
	p->since = since;
	p->until = until;
	return UPK_OK;
}

static void postpone_clear(const struct agent *a)
{
	_cleanup_buf_ struct upk_buf path = UPK_BUF_INIT;

	if (!postpone_path(a, &path) && unlink(str(&path)) == 0 &&
	    upk_io_fsync_dir(a->cfg.state_dir, NULL) != UPK_OK)
		fprintf(stderr, PROG ": warning: %s: cannot sync the directory\n",
			a->cfg.state_dir);
}

static int usage_postpone(FILE *f)
{
	fprintf(f, "Usage: upkeep-client postpone DURATION | --clear [--config FILE]\n\n"
		   "Put automatic installs by `run` off for DURATION (e.g. 12h, 3d), or end the\n"
		   "postponement. All postponements since the last commit end at most [policy]\n"
		   "postpone_max after the first of them; beyond that `postpone` is refused\n"
		   "(exit 16) and `run` installs security updates again. `install` by hand is\n"
		   "never held back.\n");
	return 0;
}

int upkc_agent_postpone(int argc, char **argv)
{
	_cleanup_(agent_freep) struct agent *a = NULL;
	_cleanup_buf_ struct upk_buf path = UPK_BUF_INIT;
	struct args args = { 0 };
	struct postpone p;
	struct upk_diag d;
	char text[64], until_s[24], limit_s[24];
	int64_t now = (int64_t)time(NULL), dur = 0, limit, until;
	bool clear = false;
	int n, rc;

	upk_diag_clear(&d);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--clear")) {
			clear = true;
			memmove(&argv[i], &argv[i + 1], sizeof(*argv) * (size_t)(argc - i));
			argc--;
			i--;
		}
	}
	rc = parse_args("postpone", OPT_TARGET, usage_postpone, argc, argv, &args);
	if (rc >= 0)
		return rc;
	if (clear == (args.target != NULL))
		return upk_cli_usage_error(PROG, "postpone: give a DURATION or --clear");
	if (!clear && upk_duration_parse(args.target, false, &dur, &d)) {
		upk_diag_prefix_where(&d, "postpone");
		return upkc_report(&d);
	}
	if (agent_open(&args, &a, &d) || postpone_path(a, &path) ||
	    (!clear && postpone_read(a, &p, &d)))
		return upkc_report(&d);
	if (clear) {
		postpone_clear(a);
		log_event(a, "postponement cleared", NULL, NULL, NULL);
		say(a, "upkeep-client: automatic installs are no longer postponed");
		return 0;
	}
	if (!p.have)
		p.since = now;
	limit = p.since + a->cfg.postpone_max_s;
	upkc_format_time(limit, limit_s);
	if (now >= limit) {
		upk_diag_set(&d, UPK_E_POLICY, str(&path), -1,
			     "postponed since %s already: the limit [policy] postpone_max was "
			     "reached",
			     limit_s);
		return upkc_report(&d);
	}
	until = now + dur < limit ? now + dur : limit;
	n = snprintf(text, sizeof(text), "since %lld\nuntil %lld\n", (long long)p.since,
		     (long long)until);
	if (upk_io_write_atomic(str(&path), text, (size_t)n, 0644, &d))
		return upkc_report(&d);
	upkc_format_time(until, until_s);
	log_event(a, "postponed", NULL, NULL, until_s);
	say(a, "upkeep-client: automatic installs postponed until %s%s", until_s,
	    until < now + dur ? " (the [policy] postpone_max limit)" : "");
	return 0;
}

/* ---- run ---- */

static volatile sig_atomic_t stop_run;

static void on_stop(int sig)
{
	(void)sig;
	stop_run = 1;
}

static int usage_run(FILE *f)
{
	fprintf(f, "Usage: upkeep-client run [--config FILE] [--once] [--no-reboot] [-v]\n\n"
		   "The agent: every [policy] poll_interval (with up to 10%% random delay),\n"
		   "refresh the metadata and install the newest release the policy allows by\n"
		   "itself (security and mixed releases unless security_updates = off, feature\n"
		   "releases only with feature_updates = auto). A trial in progress is left to\n"
		   "`boot`. SIGTERM or SIGINT stops it between rounds.\n\n"
		   "  --once   one round; its exit status is install's (16: refused by policy)\n");
	return 0;
}

static enum upk_err run_round(struct agent *a, const struct args *args, struct upk_diag *d)
{
	struct upkc_session s;
	struct release rel = { 0 };
	struct upk_diag verdict;
	struct args opts = *args;
	bool found = false, current = false, nothing = false;
	const char *why = "";
	char held[64];
	enum upk_err r;

	r = may_install(a, d);
	if (r)
		return r;
	r = upkc_session_open(&a->cfg, NULL, a->verbose, &s, d);
	if (r)
		return r;
	opts.skip_failed = true;
	r = check_flow(a, &opts, &rel, &found, &current, &verdict, &s, d);
	if (!r && found && !current && !verdict.err) {
		if (a->st.support_end[0]) {
			char now[24];

			upkc_format_time((int64_t)time(NULL), now);
			if (strncmp(now, a->st.support_end, 10) > 0)
				fprintf(stderr,
					PROG ": warning: support for this device ended on %s\n",
					a->st.support_end);
		}
		if (policy_allows(a, &rel, &why)) {
			struct postpone p;

			r = postpone_read(a, &p, d);
			if (!r && p.have && (int64_t)time(NULL) < p.until) {
				char until_s[24];

				upkc_format_time(p.until, until_s);
				snprintf(held, sizeof(held), "postponed until %s", until_s);
				why = held;
			} else if (!r) {
				r = install_release(a, &s, &rel, NULL, &nothing, d);
				why = NULL;
			}
		}
		if (!r && why) {
			r = upk_diag_set(d, UPK_E_POLICY, rel.target->path, -1, "not installed: %s",
					 why);
			log_event(a, "postponed by policy", rel.target->path, rel.custom->version,
				  why);
		}
	} else if (!r && found && verdict.err) {
		say(a, "upkeep-client: up to date (%s); %s does not apply: %s", a->st.fw_version,
		    rel.target->path, verdict.reason);
	} else if (!r) {
		say(a, "upkeep-client: up to date (%s)", a->st.fw_version);
	}
	release_done(&rel);
	upkc_session_close(&s);
	return r;
}

int upkc_agent_run(int argc, char **argv)
{
	struct args args = { 0 };
	struct sigaction sa = { .sa_handler = on_stop };
	struct upk_diag d;
	int rc = parse_args("run", OPT_ONCE | OPT_REBOOT, usage_run, argc, argv, &args);

	upk_diag_clear(&d);
	if (rc >= 0)
		return rc;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop_run) {
		struct agent *a = NULL;
		int64_t wait;
		struct timespec ts;

		/* The device lock is held for a round only, so `boot` and `status` get in. */
		upk_diag_clear(&d);
		rc = 0;
		if (agent_open(&args, &a, &d) || run_round(a, &args, &d))
			rc = upkc_report(&d);
		wait = a ? a->cfg.poll_interval_s : 3600;
		agent_free(a);
		if (args.once || upk_err_exit_code(d.err) == 2)
			return rc;
		/* Up to 10% later, so a fleet does not poll in step. */
		wait += (int64_t)randombytes_uniform((uint32_t)(wait / 10 + 1));
		ts.tv_sec = (time_t)wait;
		ts.tv_nsec = 0;
		while (!stop_run && nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	return 0;
}
