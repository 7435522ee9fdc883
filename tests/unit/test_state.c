/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for client/state: STATE/device.json.
 *
 * A fresh state and a full one (two slots, models, a failed list, a trial
 * of each phase with models, support dates, the largest values and
 * strings) serialize, parse back field for field, and re-serialize to the
 * same bytes. Every member of the document is then broken one at a time
 * (a single substitution in a known-good document, BASE below): each form
 * is UPK_E_FORMAT naming the member, and the output state is untouched.
 * The failed list keeps the newest UPKC_STATE_MAX_FAILED releases without
 * duplicates. On files (a temporary directory): a missing file is "no
 * state", a damaged one is UPK_E_IO naming it, and save replaces the file
 * by rename, leaving no temporary behind, on success or failure.
 *
 * JSON literals are written with ' for " to stay readable (q_append); a
 * test that needs a real apostrophe writes \u0027.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "state.h"
#include "tuftime.h"

#define SET(field, s) snprintf((field), sizeof(field), "%s", (s))

/* ---- the known-good document and its state ---- */

#define FW     "{'version':'1.1.0','release':'cam-1.1.0.upk','security_version':2,'floor':3}"
#define SLOT_A "{'status':'staged','version':'1.2.0'}"
#define SLOT_B "{'status':'good','version':'1.1.0'}"
#define SLOTS  "{'A':" SLOT_A ",'B':" SLOT_B "}"
#define MODELS                                       \
	"{'detector':{'version':'1.1.0','floor':3}," \
	"'tracker':{'version':'2.0.0-rc.1+b.7','floor':0}}"
#define FAILED "['cam-1.0.9.upk','cam-1.0.10.upk']"
#define TM0    "{'name':'detector','version':'1.2.0','previous':'1.1.0'}"
#define TM1    "{'name':'counter','version':'0.1.0','previous':null}"
#define TRIAL                                                                                    \
	"{'phase':'armed','slot':'A','release':'cam-1.2.0.upk','version':'1.2.0',"               \
	"'security_version':4,'support_end':'2031-06-30','firmware':true,'models':[" TM0 "," TM1 \
	"],'started':'2026-11-26T10:00:00Z'}"
#define DOC(trial)                                                               \
	"{'format':1,'active':'B','firmware':" FW ",'support_end':'2030-12-31'," \
	"'slots':" SLOTS ",'models':" MODELS ",'failed':" FAILED ",'trial':" trial "}"
#define BASE DOC(TRIAL)
/* The same release without firmware: a trial of models only. */
#define MTRIAL                                                                                    \
	"{'phase':'models','slot':null,'release':'cam-1.2.0.upk','version':'1.2.0',"              \
	"'security_version':4,'support_end':'2031-06-30','firmware':false,'models':[" TM0 "," TM1 \
	"],'started':'2026-11-26T10:00:00Z'}"
#define MBASE DOC(MTRIAL)

#define STARTED "2026-11-26T10:00:00Z"

/*
 * The reason expected for an error in a trial member (firmware, slot,
 * release, version, security_version, support_end, started), not checked:
 * client/state.c parse_trial formats diag->reason into itself (a "%s" of
 * the same buffer) and leaves it empty. Make this (r) once that is fixed.
 */
#define TRIAL_REASON(r) (r)

static struct upkc_state *state_new(void)
{
	struct upkc_state *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	return st;
}

/*
 * The state of BASE for phase ARMED; STAGED differs in the phase only, and
 * MODELS is the same release without firmware (slot A then holds a
 * release that failed before).
 */
static void full_state(struct upkc_state *st, enum upkc_trial_phase phase)
{
	struct upkc_state_trial *tr = &st->trial;

	memset(st, 0, sizeof(*st));
	st->active = 1;
	SET(st->fw_version, "1.1.0");
	SET(st->fw_release, "cam-1.1.0.upk");
	st->fw_security_version = 2;
	st->fw_floor = 3;
	SET(st->support_end, "2030-12-31");
	st->slots[0].status = phase == UPKC_TRIAL_MODELS ? UPKC_SLOT_BAD : UPKC_SLOT_STAGED;
	SET(st->slots[0].version, "1.2.0");
	st->slots[1].status = UPKC_SLOT_GOOD;
	SET(st->slots[1].version, "1.1.0");
	st->n_models = 2;
	SET(st->models[0].name, "detector");
	SET(st->models[0].version, "1.1.0");
	st->models[0].floor = 3;
	SET(st->models[1].name, "tracker");
	SET(st->models[1].version, "2.0.0-rc.1+b.7");
	st->models[1].floor = 0;
	st->n_failed = 2;
	SET(st->failed[0], "cam-1.0.9.upk");
	SET(st->failed[1], "cam-1.0.10.upk");
	tr->phase = phase;
	tr->firmware = phase != UPKC_TRIAL_MODELS;
	tr->slot = tr->firmware ? 0 : -1;
	SET(tr->release, "cam-1.2.0.upk");
	SET(tr->version, "1.2.0");
	tr->security_version = 4;
	SET(tr->support_end, "2031-06-30");
	tr->n_models = 2;
	SET(tr->models[0].name, "detector");
	SET(tr->models[0].version, "1.2.0");
	SET(tr->models[0].previous, "1.1.0");
	SET(tr->models[1].name, "counter");
	SET(tr->models[1].version, "0.1.0");
	tr->models[1].previous[0] = 0;
	assert_int_equal(upk_time_parse(STARTED, &tr->started), UPK_OK);
}

/* Every field, strings up to their NUL (what follows it is not state). */
static void assert_state_equal(const struct upkc_state *a, const struct upkc_state *b)
{
	const struct upkc_state_trial *ta = &a->trial, *tb = &b->trial;

	assert_int_equal(a->active, b->active);
	assert_string_equal(a->fw_version, b->fw_version);
	assert_string_equal(a->fw_release, b->fw_release);
	assert_int_equal(a->fw_security_version, b->fw_security_version);
	assert_int_equal(a->fw_floor, b->fw_floor);
	assert_string_equal(a->support_end, b->support_end);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(a->slots[i].status, b->slots[i].status);
		assert_string_equal(a->slots[i].version, b->slots[i].version);
	}
	assert_int_equal(a->n_models, b->n_models);
	for (size_t i = 0; i < a->n_models; i++) {
		assert_string_equal(a->models[i].name, b->models[i].name);
		assert_string_equal(a->models[i].version, b->models[i].version);
		assert_int_equal(a->models[i].floor, b->models[i].floor);
	}
	assert_int_equal(a->n_failed, b->n_failed);
	for (size_t i = 0; i < a->n_failed; i++)
		assert_string_equal(a->failed[i], b->failed[i]);
	assert_int_equal(ta->phase, tb->phase);
	assert_int_equal(ta->firmware, tb->firmware);
	assert_int_equal(ta->slot, tb->slot);
	assert_string_equal(ta->release, tb->release);
	assert_string_equal(ta->version, tb->version);
	assert_int_equal(ta->security_version, tb->security_version);
	assert_string_equal(ta->support_end, tb->support_end);
	assert_int_equal(ta->n_models, tb->n_models);
	for (size_t i = 0; i < ta->n_models; i++) {
		assert_string_equal(ta->models[i].name, tb->models[i].name);
		assert_string_equal(ta->models[i].version, tb->models[i].version);
		assert_string_equal(ta->models[i].previous, tb->models[i].previous);
	}
	assert_int_equal(ta->started, tb->started);
}

static void parse_ok(const uint8_t *data, size_t len, struct upkc_state *ret)
{
	struct upk_diag d;
	enum upk_err r;

	upk_diag_clear(&d);
	r = upkc_state_parse(data, len, ret, &d);
	if (r != UPK_OK)
		fail_msg("parse: %s: %s: %s in %.*s", upk_err_name(r), d.where, d.reason, (int)len,
			 (const char *)data);
}

/*
 * st serializes, parses back to the same fields, and the state parsed
 * serializes to the same bytes. The first serialization goes to *out if
 * out is not NULL.
 */
static void assert_round_trip(const struct upkc_state *st, struct upk_buf *out)
{
	_cleanup_buf_ struct upk_buf a = UPK_BUF_INIT, b = UPK_BUF_INIT;
	_cleanup_free_ struct upkc_state *p = state_new();
	_cleanup_free_ struct upkc_state *p2 = state_new();

	assert_int_equal(upkc_state_serialize(st, &a), UPK_OK);
	assert_true(a.len <= UPKC_STATE_MAX_SIZE);
	parse_ok(a.data, a.len, p);
	assert_state_equal(st, p);
	assert_int_equal(upkc_state_serialize(p, &b), UPK_OK);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	/* Without a diag too. */
	assert_int_equal(upkc_state_parse(a.data, a.len, p2, NULL), UPK_OK);
	assert_state_equal(st, p2);
	if (out) {
		upk_buf_done(out);
		*out = a;
		a = (struct upk_buf)UPK_BUF_INIT;
	}
}

/* ---- building documents ---- */

static void q_appendn(struct upk_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(upk_buf_append_byte(b, s[i] == '\'' ? '"' : (uint8_t)s[i]),
				 UPK_OK);
}

static void q_append(struct upk_buf *b, const char *s)
{
	q_appendn(b, s, strlen(s));
}

/* base with its one occurrence of `old` replaced by `repl` (all in ' form). */
static void sub(struct upk_buf *out, const char *base, const char *old, const char *repl)
{
	const char *at = strstr(base, old);

	if (!at || strstr(at + 1, old))
		fail_msg("'%s' is not in the document exactly once", old);
	upk_buf_done(out);
	q_appendn(out, base, (size_t)(at - base));
	q_append(out, repl);
	q_append(out, at + strlen(old));
}

/* A string of n copies of c (heap, for long values). */
static char *rep(char c, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, c, n);
	s[n] = 0;
	return s;
}

/* printf into a heap string. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, f);
	n = vasprintf(&s, f, ap);
	va_end(ap);
	assert_true(n >= 0);
	return s;
}

/* ---- refusals ---- */

/*
 * data must be refused with UPK_E_FORMAT, diag->where equal to `where` and
 * diag->reason containing `reason` (either NULL: not checked), *ret
 * untouched; the same without a diag.
 */
static void refused_bytes(const uint8_t *data, size_t len, const char *where, const char *reason)
{
	_cleanup_free_ struct upkc_state *ret = state_new();
	_cleanup_free_ struct upkc_state *copy = state_new();
	struct upk_diag d;
	enum upk_err r;

	full_state(ret, UPKC_TRIAL_ARMED);
	memcpy(copy, ret, sizeof(*ret));
	upk_diag_clear(&d);
	r = upkc_state_parse(data, len, ret, &d);
	if (r != UPK_E_FORMAT)
		fail_msg("got %s, expected FORMAT, for %.*s", upk_err_name(r), (int)len,
			 (const char *)data);
	assert_int_equal(d.err, UPK_E_FORMAT);
	if (where && strcmp(d.where, where))
		fail_msg("where '%s' (reason '%s'), expected '%s', for %.*s", d.where, d.reason,
			 where, (int)len, (const char *)data);
	if (reason && !strstr(d.reason, reason))
		fail_msg("reason '%s' (where '%s') lacks '%s', for %.*s", d.reason, d.where, reason,
			 (int)len, (const char *)data);
	assert_memory_equal(ret, copy, sizeof(*ret));
	assert_int_equal(upkc_state_parse(data, len, ret, NULL), UPK_E_FORMAT);
	assert_memory_equal(ret, copy, sizeof(*ret));
}

/* A whole document in ' form. */
static void refused_doc(const char *doc, const char *where, const char *reason)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;

	q_append(&b, doc);
	refused_bytes(b.data, b.len, where, reason);
}

/* base with one substitution. */
static void refused_in(const char *base, const char *old, const char *repl, const char *where,
		       const char *reason)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;

	sub(&b, base, old, repl);
	refused_bytes(b.data, b.len, where, reason);
}

static void refused(const char *old, const char *repl, const char *where, const char *reason)
{
	refused_in(BASE, old, repl, where, reason);
}

/* A whole document in ' form parses; into *ret if not NULL. */
static void accepted_doc(const char *doc, struct upkc_state *ret)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_free_ struct upkc_state *st = state_new();

	q_append(&b, doc);
	parse_ok(b.data, b.len, st);
	if (ret)
		*ret = *st;
}

/* base with one substitution parses (the control of a refusal); into *ret if not NULL. */
static void accepted_in(const char *base, const char *old, const char *repl, struct upkc_state *ret)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_free_ struct upkc_state *st = state_new();

	sub(&b, base, old, repl);
	parse_ok(b.data, b.len, st);
	if (ret)
		*ret = *st;
}

static void accepted(const char *old, const char *repl, struct upkc_state *ret)
{
	accepted_in(BASE, old, repl, ret);
}

/* ---- tests ---- */

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(upkc_slot_status_name(UPKC_SLOT_EMPTY), "empty");
	assert_string_equal(upkc_slot_status_name(UPKC_SLOT_GOOD), "good");
	assert_string_equal(upkc_slot_status_name(UPKC_SLOT_BAD), "bad");
	assert_string_equal(upkc_slot_status_name(UPKC_SLOT_STAGED), "staged");
	assert_string_equal(upkc_slot_status_name((enum upkc_slot_status)4), "?");
	assert_string_equal(upkc_slot_status_name((enum upkc_slot_status) - 1), "?");
	assert_string_equal(upkc_trial_phase_name(UPKC_TRIAL_NONE), "none");
	assert_string_equal(upkc_trial_phase_name(UPKC_TRIAL_STAGED), "staged");
	assert_string_equal(upkc_trial_phase_name(UPKC_TRIAL_ARMED), "armed");
	assert_string_equal(upkc_trial_phase_name(UPKC_TRIAL_MODELS), "models");
	assert_string_equal(upkc_trial_phase_name((enum upkc_trial_phase)4), "?");
}

/* The format of a fresh state, byte for byte (client/state.h). */
static const char init_json[] = "{\n"
				" \"active\": \"A\",\n"
				" \"failed\": [],\n"
				" \"firmware\": {\n"
				"  \"floor\": 0,\n"
				"  \"release\": null,\n"
				"  \"security_version\": 0,\n"
				"  \"version\": \"1.0.0\"\n"
				" },\n"
				" \"format\": 1,\n"
				" \"models\": {},\n"
				" \"slots\": {\n"
				"  \"A\": {\n"
				"   \"status\": \"good\",\n"
				"   \"version\": \"1.0.0\"\n"
				"  },\n"
				"  \"B\": {\n"
				"   \"status\": \"empty\",\n"
				"   \"version\": null\n"
				"  }\n"
				" },\n"
				" \"support_end\": null,\n"
				" \"trial\": null\n"
				"}\n";

static void test_init(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;

	(void)state;
	memset(st, 0xa5, sizeof(*st)); /* init sets everything */
	upkc_state_init(st, 0, "1.0.0");
	assert_int_equal(st->active, 0);
	assert_string_equal(st->fw_version, "1.0.0");
	assert_string_equal(st->fw_release, "");
	assert_int_equal(st->fw_security_version, 0);
	assert_int_equal(st->fw_floor, 0);
	assert_string_equal(st->support_end, "");
	assert_int_equal(st->slots[0].status, UPKC_SLOT_GOOD);
	assert_string_equal(st->slots[0].version, "1.0.0");
	assert_int_equal(st->slots[1].status, UPKC_SLOT_EMPTY);
	assert_string_equal(st->slots[1].version, "");
	assert_int_equal(st->n_models, 0);
	assert_int_equal(st->n_failed, 0);
	assert_int_equal(st->trial.phase, UPKC_TRIAL_NONE);
	assert_int_equal(st->trial.slot, -1);
	assert_false(st->trial.firmware);
	assert_int_equal(st->trial.n_models, 0);
	assert_round_trip(st, &b);
	assert_int_equal(b.len, strlen(init_json));
	assert_memory_equal(b.data, init_json, b.len);

	/* Slot B, a pre-release factory version; any non-zero active is B. */
	upkc_state_init(st, 1, "0.9.0-rc.1+factory");
	assert_int_equal(st->active, 1);
	assert_int_equal(st->slots[0].status, UPKC_SLOT_EMPTY);
	assert_int_equal(st->slots[1].status, UPKC_SLOT_GOOD);
	assert_string_equal(st->slots[1].version, "0.9.0-rc.1+factory");
	assert_round_trip(st, NULL);
	upkc_state_init(st, 7, "2.0.0");
	assert_int_equal(st->active, 1);
	assert_round_trip(st, NULL);
}

/* BASE is the state full_state describes. */
static void test_parse_base(void **state)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_free_ struct upkc_state *want = state_new();
	_cleanup_free_ struct upkc_state *got = state_new();

	(void)state;
	q_append(&b, BASE);
	full_state(want, UPKC_TRIAL_ARMED);
	memset(got, 0x5a, sizeof(*got)); /* parse sets everything */
	parse_ok(b.data, b.len, got);
	assert_state_equal(want, got);
	/* Whitespace and member order do not matter. */
	upk_buf_done(&b);
	q_append(&b, "\n {\t'trial' : " TRIAL ",'failed':" FAILED ",'models':" MODELS
		     ",\r\n'slots':" SLOTS ",'support_end':'2030-12-31','firmware':" FW
		     ",'active':'B','format':1 } \n\t");
	memset(got, 0, sizeof(*got));
	parse_ok(b.data, b.len, got);
	assert_state_equal(want, got);
}

static void test_round_trip_phases(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();

	(void)state;
	full_state(st, UPKC_TRIAL_ARMED);
	assert_round_trip(st, NULL);
	full_state(st, UPKC_TRIAL_STAGED);
	assert_round_trip(st, NULL);
	full_state(st, UPKC_TRIAL_MODELS);
	assert_round_trip(st, NULL);
	/* Active A, trial on B; no dates; the factory release; an empty slot. */
	full_state(st, UPKC_TRIAL_ARMED);
	st->active = 0;
	st->slots[0] = st->slots[1];
	st->slots[1].status = UPKC_SLOT_STAGED;
	st->trial.slot = 1;
	st->support_end[0] = 0;
	st->trial.support_end[0] = 0;
	st->fw_release[0] = 0;
	assert_round_trip(st, NULL);
	/* A firmware-only trial (no models); no models, no failed list. */
	st->trial.n_models = 0;
	st->n_models = 0;
	st->n_failed = 0;
	assert_round_trip(st, NULL);
	/* No trial; the other slot empty, bad, good. */
	memset(&st->trial, 0, sizeof(st->trial));
	st->trial.slot = -1;
	st->slots[1].status = UPKC_SLOT_EMPTY;
	st->slots[1].version[0] = 0;
	assert_round_trip(st, NULL);
	st->slots[1].status = UPKC_SLOT_BAD;
	SET(st->slots[1].version, "1.3.0");
	assert_round_trip(st, NULL);
	st->slots[1].status = UPKC_SLOT_GOOD;
	assert_round_trip(st, NULL);
}

/*
 * The largest state the agent can hold: every table full, every string at
 * its longest, releases made of the characters JSON escapes, integers at
 * 2^63-1, the last representable start time. It must fit the reader's
 * size limit, or the agent could write a state it cannot read back.
 */
static void test_round_trip_extremes(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	char version[UPK_SEMVER_MAX_LEN], release[UPKC_STATE_RELEASE_MAX];
	char name[UPKC_STATE_NAME_MAX];
	struct upkc_state_trial *tr = &st->trial;

	(void)state;
	/* "1.2.3-aaa…" of 127 bytes; a release of 255 bytes, quotes and backslashes. */
	memset(version, 'a', sizeof(version) - 1);
	memcpy(version, "1.2.3-", 6);
	version[sizeof(version) - 1] = 0;
	for (size_t i = 0; i < sizeof(release) - 1; i++)
		release[i] = i % 2 ? '"' : '\\';
	release[sizeof(release) - 1] = 0;
	memset(name, 'z', sizeof(name) - 1);
	name[sizeof(name) - 1] = 0;

	full_state(st, UPKC_TRIAL_ARMED);
	SET(st->fw_version, version);
	SET(st->slots[1].version, version);
	SET(st->slots[0].version, version);
	SET(st->fw_release, release);
	st->fw_security_version = INT64_MAX;
	st->fw_floor = INT64_MAX;
	SET(st->support_end, "9999-12-31");
	/* Models sorted by name, as the writer orders them; the last name 64 bytes. */
	st->n_models = UPKC_STATE_MAX_MODELS;
	for (size_t i = 0; i < st->n_models; i++) {
		snprintf(st->models[i].name, sizeof(st->models[i].name), "m%02zu", i);
		SET(st->models[i].version, version);
		st->models[i].floor = i % 2 ? INT64_MAX : i;
	}
	memcpy(st->models[UPKC_STATE_MAX_MODELS - 1].name, name, sizeof(name));
	st->n_failed = UPKC_STATE_MAX_FAILED;
	for (size_t i = 0; i < st->n_failed; i++) {
		SET(st->failed[i], release);
		st->failed[i][i] = 'x'; /* distinct */
	}
	SET(tr->release, release);
	SET(tr->version, version);
	tr->security_version = INT64_MAX;
	tr->n_models = UPKC_STATE_MAX_MODELS;
	for (size_t i = 0; i < tr->n_models; i++) {
		SET(tr->models[i].name, name);
		tr->models[i].name[i] = 'a'; /* distinct, in no particular order */
		SET(tr->models[i].version, version);
		SET(tr->models[i].previous, i % 3 ? version : "");
	}
	assert_int_equal(upk_time_parse("9999-12-31T23:59:59Z", &tr->started), UPK_OK);
	assert_round_trip(st, &b);
	/* Well below the reader's limit. */
	assert_true(b.len < UPKC_STATE_MAX_SIZE / 2);

	/* Other corners: the epoch, UTF-8 and an apostrophe in a release, a release of one byte. */
	tr->started = 0;
	SET(tr->release, "c\xc3\xa4m/1.2.0 'beta'.upk");
	SET(st->failed[0], "x");
	st->fw_security_version = 0;
	assert_round_trip(st, NULL);
}

/* Syntax, the top level, format and active. */
static void test_refused_top(void **state)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;

	(void)state;
	/* Not JSON, not an object, trailing data, duplicate keys. */
	refused_bytes((const uint8_t *)"", 0, "", NULL);
	refused_bytes(NULL, 0, "", NULL);
	refused_doc("{", "", NULL);
	refused_doc("[]", "(top level)", "not an object");
	refused_doc("[" BASE "]", "(top level)", "not an object");
	refused_doc("'x'", "", NULL);
	refused_doc("null", "", NULL);
	refused_doc(BASE "x", "", NULL);
	refused_doc(BASE "{}", "", NULL);
	refused_doc(BASE BASE, "", NULL);
	refused_doc(BASE ",", "", NULL);
	q_append(&b, BASE);
	refused_bytes(b.data, b.len + 1, "", NULL); /* the NUL after it */
	refused_bytes(b.data, b.len - 1, "", NULL); /* the closing brace cut */
	refused("'format':1,", "'format':1,'format':1,", "", "duplicate");
	refused("'active':'B'", "'active':'B','active':'A'", "", "duplicate");
	refused("'security_version':2,", "'security_version':2,'security_version':2,", "",
		"duplicate");
	refused("'A':" SLOT_A, "'A':" SLOT_A ",'A':" SLOT_A, "", "duplicate");
	refused("'tracker'", "'detector'", "", "duplicate");
	refused("'release':'cam-1.2.0.upk',", "'release':'cam-1.2.0.upk','release':'x',", "",
		"duplicate");
	refused(TM1, "{'name':'counter','name':'counter','version':'0.1.0','previous':null}", "",
		"duplicate");
	/* Bytes JSON strings may not hold: NUL, invalid UTF-8. */
	refused("cam-1.0.9.upk", "cam-\\u0000.upk", "", NULL);
	refused("cam-1.0.9.upk", "cam-\xff.upk", "", NULL);
	refused("cam-1.0.9.upk", "cam-\xc0\xae.upk", "", NULL);
	refused("'active':'B'", "'active':'\\ud800'", "", NULL);

	/* Unknown and missing members. */
	refused("'format':1,", "'format':1,'extra':0,", "(top level)", "unknown member \"extra\"");
	refused("'format':1,", "'Format':1,", "(top level)", "unknown member \"Format\"");
	refused("'format':1,", "'format':1,'':0,", "(top level)", "unknown member \"\"");
	refused("'format':1,", "", "(top level)", "missing member \"format\"");
	refused("'active':'B',", "", "(top level)", "missing member \"active\"");
	refused("'firmware':" FW ",", "", "(top level)", "missing member \"firmware\"");
	refused("'support_end':'2030-12-31',", "", "(top level)", "missing member \"support_end\"");
	refused("'slots':" SLOTS ",", "", "(top level)", "missing member \"slots\"");
	refused("'models':" MODELS ",", "", "(top level)", "missing member \"models\"");
	refused("'failed':" FAILED ",", "", "(top level)", "missing member \"failed\"");
	refused(",'trial':" TRIAL, "", "(top level)", "missing member \"trial\"");
	refused_doc("{}", "(top level)", "missing member");

	/* format: the integer 1 only. */
	refused("'format':1,", "'format':0,", "format", "not 1");
	refused("'format':1,", "'format':2,", "format", "not 1");
	refused("'format':1,", "'format':-1,", "format", "not 1");
	refused("'format':1,", "'format':'1',", "format", "not 1");
	refused("'format':1,", "'format':null,", "format", "not 1");
	refused("'format':1,", "'format':true,", "format", "not 1");
	refused("'format':1,", "'format':[1],", "format", "not 1");
	refused("'format':1,", "'format':1.0,", NULL, "real numbers");
	refused("'format':1,", "'format':1e0,", NULL, "real numbers");
	refused("'format':1,", "'format':18446744073709551617,", "", NULL);

	/* active: "A" or "B". */
	refused("'active':'B'", "'active':'C'", "active", "not a slot");
	refused("'active':'B'", "'active':'b'", "active", "not a slot");
	refused("'active':'B'", "'active':''", "active", "not a slot");
	refused("'active':'B'", "'active':'BB'", "active", "not a slot");
	refused("'active':'B'", "'active':'B '", "active", "not a slot");
	refused("'active':'B'", "'active':null", "active", "not a slot");
	refused("'active':'B'", "'active':1", "active", "not a slot");
	refused("'active':'B'", "'active':0", "active", "not a slot");
	refused("'active':'B'", "'active':['B']", "active", "not a slot");
	refused("'active':'B'", "'active':{'B':1}", "active", "not a slot");
	refused("'active':'B'", "'active':true", "active", "not a slot");
}

static void test_refused_firmware(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();
	char *s, *t;

	(void)state;
	refused("'firmware':" FW, "'firmware':[]", "firmware", "not an object");
	refused("'firmware':" FW, "'firmware':null", "firmware", "not an object");
	refused("'firmware':" FW, "'firmware':'1.1.0'", "firmware", "not an object");
	refused("'firmware':" FW, "'firmware':{}", "firmware", "missing member \"version\"");
	refused("'security_version':2,'floor':3}", "'security_version':2,'floor':3,'x':1}",
		"firmware", "unknown member \"x\"");
	refused("'security_version':2,'floor':3}",
		"'security_version':2,'floor':3,'support_end':null}", "firmware",
		"unknown member \"support_end\"");
	refused("{'version':'1.1.0','release'", "{'release'", "firmware",
		"missing member \"version\"");
	refused("'release':'cam-1.1.0.upk',", "", "firmware", "missing member \"release\"");
	refused("'security_version':2,", "", "firmware", "missing member \"security_version\"");
	refused("'security_version':2,'floor':3}", "'security_version':2}", "firmware",
		"missing member \"floor\"");

	/* version: a SemVer string. */
	static const char *const bad_versions[] = {
		"1.1",		 "1",	     "v1.1.0",
		"01.1.0",	 "1.01.0",   "1.1.00",
		"1.1.0-",	 "1.1.0+",   "1.1.0-01",
		"1.1.0-a..b",	 "",	     " 1.1.0",
		"1.1.0 ",	 "1.1.0\\n", "-1.1.0",
		"1.1.0-\\u00e4", "1.1.x",    "18446744073709551616.0.0",
	};
	for (size_t i = 0; i < sizeof(bad_versions) / sizeof(bad_versions[0]); i++) {
		s = fmt("{'version':'%s','release'", bad_versions[i]);
		refused("{'version':'1.1.0','release'", s, "firmware",
			"version: not a SemVer version");
		free(s);
	}
	refused("{'version':'1.1.0','release'", "{'version':110,'release'", "firmware: version",
		"not a string");
	refused("{'version':'1.1.0','release'", "{'version':null,'release'", "firmware: version",
		"not a string");
	refused("{'version':'1.1.0','release'", "{'version':['1.1.0'],'release'",
		"firmware: version", "not a string");
	/* 127 bytes is the longest version, 128 too long. */
	t = rep('a', UPK_SEMVER_MAX_LEN - 1 - 6);
	s = fmt("{'version':'1.2.3-%s','release'", t);
	accepted("{'version':'1.1.0','release'", s, st);
	assert_int_equal(strlen(st->fw_version), UPK_SEMVER_MAX_LEN - 1);
	free(s);
	s = fmt("{'version':'1.2.3-%sa','release'", t);
	refused("{'version':'1.1.0','release'", s, "firmware", "version: not a SemVer version");
	free(s);
	free(t);

	/* release: a target path or null. */
	accepted("'release':'cam-1.1.0.upk'", "'release':null", st);
	assert_string_equal(st->fw_release, "");
	accepted("'release':'cam-1.1.0.upk'", "'release':'c\\u00e4m/1.1.0 \\u0027x\\u0027.upk'",
		 st);
	assert_string_equal(st->fw_release, "c\xc3\xa4m/1.1.0 'x'.upk");
	refused("'release':'cam-1.1.0.upk'", "'release':1", "firmware.release",
		"not a target path");
	refused("'release':'cam-1.1.0.upk'", "'release':true", "firmware.release",
		"not a target path");
	refused("'release':'cam-1.1.0.upk'", "'release':['cam-1.1.0.upk']", "firmware.release",
		"not a target path");
	static const char *const ctl[] = {
		"\\u0001", "\\n", "\\r", "\\t", "\\u001f", "\\u007f", "\\u001b[2J",
	};
	for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
		s = fmt("'release':'cam-%s1.1.0.upk'", ctl[i]);
		refused("'release':'cam-1.1.0.upk'", s, "firmware.release",
			"control character in a target path");
		free(s);
		s = fmt("'release':'%s'", ctl[i]);
		refused("'release':'cam-1.1.0.upk'", s, "firmware.release",
			"control character in a target path");
		free(s);
	}
	/* 255 bytes is the longest release, 256 too long (in bytes, not characters). */
	t = rep('r', UPKC_STATE_RELEASE_MAX - 1);
	s = fmt("'release':'%s'", t);
	accepted("'release':'cam-1.1.0.upk'", s, st);
	assert_string_equal(st->fw_release, t);
	free(s);
	s = fmt("'release':'%sr'", t);
	refused("'release':'cam-1.1.0.upk'", s, "firmware.release", "not a target path");
	free(s);
	t[UPKC_STATE_RELEASE_MAX - 3] = 0;
	s = fmt("'release':'%s\\u00e4'", t); /* 253 + 2 bytes: fits */
	accepted("'release':'cam-1.1.0.upk'", s, NULL);
	free(s);
	s = fmt("'release':'%sr\\u00e4'", t); /* 256 bytes */
	refused("'release':'cam-1.1.0.upk'", s, "firmware.release", "not a target path");
	free(s);
	free(t);

	/* security_version and floor: integers 0..2^63-1, security_version <= floor. */
	static const char *const bad_ints[] = { "-1", "'2'", "null", "true", "[2]", "{}" };
	for (size_t i = 0; i < sizeof(bad_ints) / sizeof(bad_ints[0]); i++) {
		s = fmt("'security_version':%s,", bad_ints[i]);
		refused("'security_version':2,", s, "firmware: security_version", NULL);
		free(s);
		s = fmt("'security_version':2,'floor':%s}", bad_ints[i]);
		refused("'security_version':2,'floor':3}", s, "firmware: floor", NULL);
		free(s);
	}
	refused("'security_version':2,", "'security_version':-9223372036854775808,",
		"firmware: security_version", "out of range");
	refused("'security_version':2,", "'security_version':9223372036854775808,", "", NULL);
	refused("'security_version':2,", "'security_version':99999999999999999999999,", "", NULL);
	refused("'security_version':2,", "'security_version':2.0,", NULL, "real numbers");
	refused("'security_version':2,", "'security_version':02,", "", NULL);
	refused("'security_version':2,'floor':3}",
		"'security_version':2,'floor':9223372036854775808}", "", NULL);
	refused("'security_version':2,", "'security_version':4,", "firmware",
		"security_version above the floor");
	refused("'security_version':2,'floor':3}", "'security_version':0,'floor':-1}",
		"firmware: floor", "out of range");
	refused("'security_version':2,'floor':3}",
		"'security_version':9223372036854775807,'floor':9223372036854775806}", "firmware",
		"security_version above the floor");
	accepted("'security_version':2,", "'security_version':3,", st);
	assert_int_equal(st->fw_security_version, 3);
	accepted("'security_version':2,'floor':3}", "'security_version':0,'floor':0}", st);
	assert_int_equal(st->fw_floor, 0);
	accepted("'security_version':2,'floor':3}",
		 "'security_version':9223372036854775807,'floor':9223372036854775807}", st);
	assert_int_equal(st->fw_security_version, INT64_MAX);
	assert_int_equal(st->fw_floor, INT64_MAX);
}

/* Dates: support_end, trial.support_end ("YYYY-MM-DD" or null) and trial.started. */
static void test_refused_dates(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();
	char *s;
	static const char *const bad_dates[] = {
		"'2030-02-29'",
		"'2100-02-29'",
		"'2030-13-01'",
		"'2030-00-10'",
		"'2030-12-32'",
		"'2030-04-31'",
		"'2030-12-00'",
		"'2030-1-01'",
		"'2030-12-310'",
		"'1969-12-31'",
		"'0000-01-01'",
		"'10000-01-01'",
		"'2030/12/31'",
		"'20301231'",
		"'2030-12-31T00:00:00Z'",
		"'2030-12-31 '",
		"' 2030-12-31'",
		"'2030-12-3 '",
		"'2030-12-+1'",
		"'2030-12-3a'",
		"'+030-12-31'",
		"''",
		"20301231",
		"true",
		"[]",
		"{}",
		"'2030-12-31\\u0000'",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
		s = fmt("'support_end':%s,'slots'", bad_dates[i]);
		if (strstr(bad_dates[i], "\\u0000"))
			refused("'support_end':'2030-12-31','slots'", s, "", NULL);
		else
			refused("'support_end':'2030-12-31','slots'", s, "support_end",
				"not a date (YYYY-MM-DD) or null");
		free(s);
		s = fmt("'support_end':%s,'firmware'", bad_dates[i]);
		refused("'support_end':'2031-06-30','firmware'", s,
			strstr(s, "\\u0000") ? "" : "trial", NULL);
		free(s);
	}
	accepted("'support_end':'2030-12-31'", "'support_end':null", st);
	assert_string_equal(st->support_end, "");
	accepted("'support_end':'2030-12-31'", "'support_end':'2032-02-29'", st);
	assert_string_equal(st->support_end, "2032-02-29");
	accepted("'support_end':'2030-12-31'", "'support_end':'2000-02-29'", NULL);
	accepted("'support_end':'2030-12-31'", "'support_end':'1970-01-01'", NULL);
	accepted("'support_end':'2030-12-31'", "'support_end':'9999-12-31'", NULL);
	accepted("'support_end':'2031-06-30'", "'support_end':null", st);
	assert_string_equal(st->trial.support_end, "");
	accepted("'support_end':'2031-06-30'", "'support_end':'2032-02-29'", st);
	assert_string_equal(st->trial.support_end, "2032-02-29");

	static const char *const bad_times[] = {
		"'2026-11-26T10:00:00'",
		"'2026-11-26 10:00:00Z'",
		"'2026-11-26T10:00:00z'",
		"'2026-02-30T10:00:00Z'",
		"'2026-11-26T24:00:00Z'",
		"'2026-11-26T10:60:00Z'",
		"'2026-11-26T10:00:60Z'",
		"'1969-12-31T23:59:59Z'",
		"'2026-11-26T10:00:00.5Z'",
		"'2026-11-26T10:00:00+00:00'",
		"'2026-11-26'",
		"''",
		"1795687200",
		"null",
		"true",
	};
	for (size_t i = 0; i < sizeof(bad_times) / sizeof(bad_times[0]); i++) {
		s = fmt("'started':%s", bad_times[i]);
		refused("'started':'" STARTED "'", s, "trial", NULL);
		free(s);
	}
	accepted("'started':'" STARTED "'", "'started':'1970-01-01T00:00:00Z'", st);
	assert_int_equal(st->trial.started, 0);
	accepted("'started':'" STARTED "'", "'started':'2028-02-29T23:59:59Z'", st);
	assert_int_equal(st->trial.started, 1835481599);
}

static void test_refused_slots(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();
	char *s;

	(void)state;
	refused("'slots':" SLOTS, "'slots':[]", "slots", "not an object");
	refused("'slots':" SLOTS, "'slots':null", "slots", "not an object");
	refused("'slots':" SLOTS, "'slots':[" SLOT_A "," SLOT_B "]", "slots", "not an object");
	refused("'slots':" SLOTS, "'slots':{}", "slots", "missing member \"A\"");
	refused("'A':" SLOT_A ",", "", "slots", "missing member \"A\"");
	refused(",'B':" SLOT_B, "", "slots", "missing member \"B\"");
	refused(",'B':" SLOT_B, ",'B':" SLOT_B ",'C':" SLOT_B, "slots", "unknown member \"C\"");
	refused("'A':" SLOT_A, "'a':" SLOT_A, "slots", "unknown member \"a\"");
	refused("'A':" SLOT_A, "'slot A':" SLOT_A, "slots", "unknown member \"slot A\"");

	/* Each slot: an object of exactly status and version. */
	refused("'A':" SLOT_A, "'A':null", "slots.A", "not an object");
	refused("'A':" SLOT_A, "'A':'staged'", "slots.A", "not an object");
	refused("'B':" SLOT_B, "'B':[]", "slots.B", "not an object");
	refused(SLOT_A, "{'status':'staged','version':'1.2.0','trial':true}", "slots.A",
		"unknown member \"trial\"");
	refused(SLOT_A, "{'version':'1.2.0'}", "slots.A", "missing member \"status\"");
	refused(SLOT_B, "{'status':'good'}", "slots.B", "missing member \"version\"");
	static const char *const bad_status[] = { "'Good'", "'ok'", "''",	"'none'",
						  "null",   "1",    "['good']", "'good '" };
	for (size_t i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++) {
		s = fmt("{'status':%s,'version':'1.2.0'}", bad_status[i]);
		refused(SLOT_A, s, "slots.A", "status is not empty, good, bad or staged");
		free(s);
		s = fmt("{'status':%s,'version':'1.1.0'}", bad_status[i]);
		refused(SLOT_B, s, "slots.B", "status is not empty, good, bad or staged");
		free(s);
	}
	/* An empty slot has version null; any other status a SemVer version. */
	accepted(SLOT_A, "{'status':'empty','version':null}", st);
	assert_int_equal(st->slots[0].status, UPKC_SLOT_EMPTY);
	assert_string_equal(st->slots[0].version, "");
	accepted(SLOT_A, "{'status':'bad','version':'1.2.0'}", st);
	assert_int_equal(st->slots[0].status, UPKC_SLOT_BAD);
	accepted(SLOT_A, "{'status':'good','version':'1.0.0'}", st);
	assert_int_equal(st->slots[0].status, UPKC_SLOT_GOOD);
	assert_string_equal(st->slots[0].version, "1.0.0");
	refused(SLOT_A, "{'status':'empty','version':'1.2.0'}", "slots.A",
		"an empty slot has version null");
	refused(SLOT_A, "{'status':'empty','version':''}", "slots.A",
		"an empty slot has version null");
	refused(SLOT_A, "{'status':'empty','version':0}", "slots.A",
		"an empty slot has version null");
	refused(SLOT_A, "{'status':'staged','version':null}", "slots.A: version", "not a string");
	refused(SLOT_A, "{'status':'bad','version':12}", "slots.A: version", "not a string");
	refused(SLOT_A, "{'status':'staged','version':'1.2'}", "slots.A",
		"version: not a SemVer version");
	refused(SLOT_A, "{'status':'staged','version':''}", "slots.A",
		"version: not a SemVer version");
	refused(SLOT_B, "{'status':'good','version':'v1.1.0'}", "slots.B",
		"version: not a SemVer version");

	/* The active slot is good. */
	refused(SLOT_B, "{'status':'bad','version':'1.1.0'}", "slots",
		"the active slot is not good");
	refused(SLOT_B, "{'status':'staged','version':'1.1.0'}", "slots",
		"the active slot is not good");
	refused(SLOT_B, "{'status':'empty','version':null}", "slots",
		"the active slot is not good");
	/* Active A, staged: refused; A good (and the trial moved to B): accepted. */
	refused("'active':'B'", "'active':'A'", "slots", "the active slot is not good");
	refused_doc("{'format':1,'active':'A','firmware':" FW ",'support_end':null,"
		    "'slots':{'A':{'status':'empty','version':null},'B':" SLOT_B
		    "},'models':{},'failed':[],'trial':null}",
		    "slots", "the active slot is not good");
	accepted_doc("{'format':1,'active':'A','firmware':" FW ",'support_end':null,"
		     "'slots':{'A':{'status':'good','version':'1.1.0'},'B':" SLOT_B
		     "},'models':{},'failed':[],'trial':null}",
		     st);
	assert_int_equal(st->active, 0);
}

static void test_refused_models(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();
	_cleanup_buf_ struct upk_buf m = UPK_BUF_INIT;
	char *s, *t;

	(void)state;
	refused("'models':" MODELS, "'models':[]", "models", "not an object");
	refused("'models':" MODELS, "'models':null", "models", "not an object");
	refused("'models':" MODELS, "'models':'detector'", "models", "not an object");
	accepted("'models':" MODELS, "'models':{}", st);
	assert_int_equal(st->n_models, 0);
	refused("{'version':'1.1.0','floor':3}", "[]", "models", "not an object");
	refused("{'version':'1.1.0','floor':3}", "null", "models", "not an object");
	refused("{'version':'1.1.0','floor':3}", "'1.1.0'", "models", "not an object");
	refused("{'version':'1.1.0','floor':3}", "{'version':'1.1.0','floor':3,'previous':null}",
		"models", "unknown member \"previous\"");
	refused("{'version':'1.1.0','floor':3}", "{'floor':3}", "models",
		"missing member \"version\"");
	refused("{'version':'1.1.0','floor':3}", "{'version':'1.1.0'}", "models",
		"missing member \"floor\"");
	refused("{'version':'1.1.0','floor':3}", "{'version':null,'floor':3}", "models: version",
		"not a string");
	refused("{'version':'1.1.0','floor':3}", "{'version':'1.1','floor':3}", "models",
		"version: not a SemVer version");
	refused("{'version':'1.1.0','floor':3}", "{'version':'1.1.0','floor':-1}", "models: floor",
		"out of range");
	refused("{'version':'1.1.0','floor':3}", "{'version':'1.1.0','floor':'3'}", "models: floor",
		"not an integer");
	refused("{'version':'1.1.0','floor':3}", "{'version':'1.1.0','floor':null}",
		"models: floor", "not an integer");
	refused("{'version':'1.1.0','floor':3}", "{'version':'1.1.0','floor':9223372036854775808}",
		"", NULL);
	accepted("{'version':'1.1.0','floor':3}", "{'version':'1.1.0','floor':9223372036854775807}",
		 st);
	assert_int_equal(st->models[0].floor, INT64_MAX);

	/* Names: component names of at most 64 bytes. */
	static const char *const bad_names[] = {
		"",	 ".detector",  "-detector",  "a/b",    "a b",
		"..",	 "d\\u00e4t",  "det\\n",     "a\\\\b", "det:1",
		"det@1", "det\\u007f", "det\\u0001",
	};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		s = fmt("'%s':{'version':'1.1.0'", bad_names[i]);
		refused("'detector':{'version':'1.1.0'", s, "models", "not a component name");
		free(s);
	}
	t = rep('n', UPKC_STATE_NAME_MAX - 1);
	s = fmt("'%s':{'version':'1.1.0'", t);
	accepted("'detector':{'version':'1.1.0'", s, st);
	assert_string_equal(st->models[0].name, t);
	free(s);
	s = fmt("'%sn':{'version':'1.1.0'", t);
	refused("'detector':{'version':'1.1.0'", s, "models", "not a component name");
	free(s);
	free(t);
	accepted("'detector':{'version':'1.1.0'", "'A-9._z':{'version':'1.1.0'", st);
	assert_string_equal(st->models[0].name, "A-9._z");

	/* At most 64 models. */
	for (int i = 0; i < UPKC_STATE_MAX_MODELS; i++)
		assert_int_equal(upk_buf_printf(&m, "%s'm%d':{'version':'1.0.%d','floor':%d}",
						i ? "," : "{", i, i, i),
				 UPK_OK);
	s = fmt("'models':%s}", (const char *)m.data);
	accepted("'models':" MODELS, s, st);
	assert_int_equal(st->n_models, UPKC_STATE_MAX_MODELS);
	assert_string_equal(st->models[63].name, "m63");
	assert_string_equal(st->models[63].version, "1.0.63");
	assert_int_equal(st->models[63].floor, 63);
	free(s);
	s = fmt("'models':%s,'one-more':{'version':'1.0.0','floor':0}}", (const char *)m.data);
	refused("'models':" MODELS, s, "models", "more than 64 models");
	free(s);
}

static void test_refused_failed(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();
	_cleanup_buf_ struct upk_buf f = UPK_BUF_INIT;
	char *s, *t;

	(void)state;
	refused("'failed':" FAILED, "'failed':{}", "failed", "not an array of at most 16");
	refused("'failed':" FAILED, "'failed':null", "failed", "not an array of at most 16");
	refused("'failed':" FAILED, "'failed':'cam-1.0.9.upk'", "failed",
		"not an array of at most 16");
	accepted("'failed':" FAILED, "'failed':[]", st);
	assert_int_equal(st->n_failed, 0);
	refused("'cam-1.0.10.upk'", "1", "failed", "not a target path");
	refused("'cam-1.0.10.upk'", "null", "failed", "not a target path");
	refused("'cam-1.0.10.upk'", "['cam-1.0.10.upk']", "failed", "not a target path");
	refused("'cam-1.0.10.upk'", "'cam\\t1.0.10.upk'", "failed",
		"control character in a target path");
	refused("'cam-1.0.10.upk'", "'\\u007f'", "failed", "control character in a target path");
	t = rep('f', UPKC_STATE_RELEASE_MAX - 1);
	s = fmt("'%s'", t);
	accepted("'cam-1.0.10.upk'", s, st);
	assert_string_equal(st->failed[1], t);
	free(s);
	s = fmt("'%sf'", t);
	refused("'cam-1.0.10.upk'", s, "failed", "not a target path");
	free(s);
	free(t);

	/* At most 16, in order. */
	for (int i = 0; i < UPKC_STATE_MAX_FAILED; i++)
		assert_int_equal(upk_buf_printf(&f, "%s'r-%d.upk'", i ? "," : "[", i), UPK_OK);
	s = fmt("'failed':%s]", (const char *)f.data);
	accepted("'failed':" FAILED, s, st);
	assert_int_equal(st->n_failed, UPKC_STATE_MAX_FAILED);
	assert_string_equal(st->failed[0], "r-0.upk");
	assert_string_equal(st->failed[15], "r-15.upk");
	free(s);
	s = fmt("'failed':%s,'r-16.upk']", (const char *)f.data);
	refused("'failed':" FAILED, s, "failed", "not an array of at most 16 releases");
	free(s);
}

static void test_refused_trial(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();
	_cleanup_buf_ struct upk_buf m = UPK_BUF_INIT;
	char *s;
	/* Each member removed: {what to replace, by what, its name}. */
	static const char *const missing[][3] = {
		{ "'phase':'armed',", "", "phase" },
		{ "'slot':'A',", "", "slot" },
		{ "'release':'cam-1.2.0.upk',", "", "release" },
		{ "'version':'1.2.0','security_version'", "'security_version'", "version" },
		{ "'security_version':4,", "", "security_version" },
		{ "'support_end':'2031-06-30',", "", "support_end" },
		{ "'firmware':true,", "", "firmware" },
		{ "'models':[" TM0 "," TM1 "],", "", "models" },
		{ ",'started':'" STARTED "'", "", "started" },
	};

	(void)state;
	accepted("'trial':" TRIAL, "'trial':null", st);
	assert_int_equal(st->trial.phase, UPKC_TRIAL_NONE);
	assert_int_equal(st->trial.slot, -1);
	refused("'trial':" TRIAL, "'trial':[]", "trial", "not an object");
	refused("'trial':" TRIAL, "'trial':'armed'", "trial", "not an object");
	refused("'trial':" TRIAL, "'trial':false", "trial", "not an object");
	refused("'trial':" TRIAL, "'trial':0", "trial", "not an object");
	refused("'trial':" TRIAL, "'trial':{}", "trial", "missing member \"phase\"");
	refused("'phase':'armed',", "'phase':'armed','boots':1,", "trial",
		"unknown member \"boots\"");
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		char *want = fmt("missing member \"%s\"", missing[i][2]);

		refused(missing[i][0], missing[i][1], "trial", want);
		free(want);
	}

	/* phase */
	static const char *const bad_phases[] = { "'none'", "'Armed'", "''",	   "'trial'",
						  "null",   "1",       "['armed']" };
	for (size_t i = 0; i < sizeof(bad_phases) / sizeof(bad_phases[0]); i++) {
		s = fmt("'phase':%s,", bad_phases[i]);
		refused("'phase':'armed',", s, "trial.phase", "not staged, armed or models");
		free(s);
	}
	/* firmware, slot, release, version, security_version */
	refused("'firmware':true", "'firmware':'true'", "trial", TRIAL_REASON("not a boolean"));
	refused("'firmware':true", "'firmware':1", "trial", TRIAL_REASON("not a boolean"));
	refused("'firmware':true", "'firmware':null", "trial", TRIAL_REASON("not a boolean"));
	static const char *const bad_slots[] = { "'C'", "'a'", "''", "0", "1", "['A']", "true" };
	for (size_t i = 0; i < sizeof(bad_slots) / sizeof(bad_slots[0]); i++) {
		s = fmt("'slot':%s,", bad_slots[i]);
		refused("'slot':'A',", s, "trial", TRIAL_REASON("not a slot"));
		free(s);
	}
	refused("'release':'cam-1.2.0.upk'", "'release':null", "trial",
		TRIAL_REASON("not a target path"));
	refused("'release':'cam-1.2.0.upk'", "'release':12", "trial",
		TRIAL_REASON("not a target path"));
	refused("'release':'cam-1.2.0.upk'", "'release':'cam\\u00011.2.0.upk'", "trial",
		TRIAL_REASON("control character in a target path"));
	s = fmt("'release':'%0256d'", 0);
	refused("'release':'cam-1.2.0.upk'", s, "trial", TRIAL_REASON("not a target path"));
	free(s);
	refused("'version':'1.2.0','security_version'", "'version':'1.2','security_version'",
		"trial", TRIAL_REASON("version: not a SemVer version"));
	refused("'version':'1.2.0','security_version'", "'version':null,'security_version'",
		"trial", NULL);
	refused("'version':'1.2.0','security_version'", "'version':120,'security_version'", "trial",
		NULL);
	refused("'security_version':4", "'security_version':-1", "trial", NULL);
	refused("'security_version':4", "'security_version':'4'", "trial", NULL);
	refused("'security_version':4", "'security_version':null", "trial", NULL);
	refused("'security_version':4", "'security_version':9223372036854775808", "", NULL);
	accepted("'security_version':4", "'security_version':9223372036854775807", st);
	assert_int_equal(st->trial.security_version, INT64_MAX);
	/* A trial release's security version may be anything; the floor rises on commit. */
	accepted("'security_version':4", "'security_version':0", st);
	assert_int_equal(st->trial.security_version, 0);

	/* Phase, firmware and slot agree: staged/armed carry firmware in a slot, models not. */
	accepted("'phase':'armed'", "'phase':'staged'", st);
	assert_int_equal(st->trial.phase, UPKC_TRIAL_STAGED);
	assert_true(st->trial.firmware);
	assert_int_equal(st->trial.slot, 0);
	refused("'firmware':true", "'firmware':false", "trial",
		"phase, firmware and slot disagree");
	refused("'slot':'A'", "'slot':null", "trial", "phase, firmware and slot disagree");
	refused("'phase':'armed','slot':'A'", "'phase':'staged','slot':null", "trial",
		"phase, firmware and slot disagree");
	s = fmt("{'phase':'armed','slot':null,'release':'r','version':'1.2.0',"
		"'security_version':4,'support_end':null,'firmware':false,'models':[" TM0 "],"
		"'started':'" STARTED "'}");
	refused(TRIAL, s, "trial", "phase, firmware and slot disagree");
	free(s);
	/* A models trial: no firmware, no slot, at least one model. */
	accepted_in(MBASE, "'phase':'models'", "'phase':'models'", st);
	assert_int_equal(st->trial.phase, UPKC_TRIAL_MODELS);
	assert_false(st->trial.firmware);
	assert_int_equal(st->trial.slot, -1);
	refused_in(MBASE, "'firmware':false", "'firmware':true", "trial",
		   "phase, firmware and slot disagree");
	refused_in(MBASE, "'slot':null", "'slot':'A'", "trial",
		   "phase, firmware and slot disagree");
	refused_in(MBASE,
		   "'slot':null,'release':'cam-1.2.0.upk','version':'1.2.0',"
		   "'security_version':4,'support_end':'2031-06-30','firmware':false",
		   "'slot':'A','release':'cam-1.2.0.upk','version':'1.2.0',"
		   "'security_version':4,'support_end':'2031-06-30','firmware':true",
		   "trial", "phase, firmware and slot disagree");
	refused_in(MBASE, "'phase':'models'", "'phase':'armed'", "trial",
		   "phase, firmware and slot disagree");
	refused_in(MBASE, "'phase':'models'", "'phase':'staged'", "trial",
		   "phase, firmware and slot disagree");
	refused_in(MBASE, "'models':[" TM0 "," TM1 "]", "'models':[]", "trial",
		   "a trial without firmware carries models");
	accepted("'models':[" TM0 "," TM1 "]", "'models':[]", st); /* firmware only */
	assert_int_equal(st->trial.n_models, 0);

	/* The trial slot is not the active one. */
	refused("'slot':'A'", "'slot':'B'", "trial.slot", "the trial slot is the active one");
	refused_doc("{'format':1,'active':'A','firmware':" FW ",'support_end':null,"
		    "'slots':{'A':" SLOT_B ",'B':" SLOT_A "},'models':{},'failed':[],"
		    "'trial':" TRIAL "}",
		    "trial.slot", "the trial slot is the active one");

	/* trial.models: an array of at most 64 {name, version, previous}. */
	refused("'models':[" TM0 "," TM1 "]", "'models':{}", "trial.models",
		"not an array of at most 64 models");
	refused("'models':[" TM0 "," TM1 "]", "'models':null", "trial.models",
		"not an array of at most 64 models");
	refused("'models':[" TM0 "," TM1 "]", "'models':" TM0, "trial.models",
		"not an array of at most 64 models");
	refused(TM1, "[]", "trial.models", "not an object");
	refused(TM1, "'counter'", "trial.models", "not an object");
	refused(TM1, "null", "trial.models", "not an object");
	refused(TM1, "{'name':'counter','version':'0.1.0','previous':null,'floor':0}",
		"trial.models", "unknown member \"floor\"");
	refused(TM1, "{'version':'0.1.0','previous':null}", "trial.models",
		"missing member \"name\"");
	refused(TM1, "{'name':'counter','previous':null}", "trial.models",
		"missing member \"version\"");
	refused(TM1, "{'name':'counter','version':'0.1.0'}", "trial.models",
		"missing member \"previous\"");
	refused(TM1, "{'name':'','version':'0.1.0','previous':null}", "trial.models",
		"not a component name");
	refused(TM1, "{'name':'a/b','version':'0.1.0','previous':null}", "trial.models",
		"not a component name");
	refused(TM1, "{'name':'.counter','version':'0.1.0','previous':null}", "trial.models",
		"not a component name");
	refused(TM1, "{'name':null,'version':'0.1.0','previous':null}", "trial.models",
		"not a component name");
	refused(TM1, "{'name':7,'version':'0.1.0','previous':null}", "trial.models",
		"not a component name");
	s = fmt("{'name':'%065d','version':'0.1.0','previous':null}", 0);
	refused(TM1, s, "trial.models", "not a component name");
	free(s);
	s = fmt("{'name':'%064d','version':'0.1.0','previous':null}", 0);
	accepted(TM1, s, st);
	assert_int_equal(strlen(st->trial.models[1].name), 64);
	free(s);
	refused(TM1, "{'name':'counter','version':'0.1','previous':null}", "trial.models",
		"version: not a SemVer version");
	refused(TM1, "{'name':'counter','version':null,'previous':null}", "trial.models: version",
		"not a string");
	refused(TM1, "{'name':'counter','version':'0.1.0','previous':'0.1'}", "trial.models",
		"previous: not a SemVer version");
	refused(TM1, "{'name':'counter','version':'0.1.0','previous':''}", "trial.models",
		"previous: not a SemVer version");
	refused(TM1, "{'name':'counter','version':'0.1.0','previous':1}", "trial.models: previous",
		"not a string");
	refused(TM1, "{'name':'counter','version':'0.1.0','previous':false}",
		"trial.models: previous", "not a string");
	accepted(TM1, "{'name':'counter','version':'0.1.0','previous':'0.0.1-rc.1'}", st);
	assert_string_equal(st->trial.models[1].previous, "0.0.1-rc.1");
	for (int i = 0; i < UPKC_STATE_MAX_MODELS; i++)
		assert_int_equal(upk_buf_printf(&m,
						"%s{'name':'m%d','version':'1.0.%d',"
						"'previous':null}",
						i ? "," : "[", i, i),
				 UPK_OK);
	s = fmt("'models':%s]", (const char *)m.data);
	accepted("'models':[" TM0 "," TM1 "]", s, st);
	assert_int_equal(st->trial.n_models, UPKC_STATE_MAX_MODELS);
	assert_string_equal(st->trial.models[63].name, "m63");
	free(s);
	s = fmt("'models':%s," TM0 "]", (const char *)m.data);
	refused("'models':[" TM0 "," TM1 "]", s, "trial.models",
		"not an array of at most 64 models");
	free(s);
}

/* Larger than UPKC_STATE_MAX_SIZE: refused before parsing; the limit itself is accepted. */
static void test_size_limit(void **state)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_free_ struct upkc_state *ret = state_new();
	_cleanup_free_ struct upkc_state *copy = state_new();
	struct upk_diag d;

	(void)state;
	q_append(&b, BASE);
	while (b.len < UPKC_STATE_MAX_SIZE)
		assert_int_equal(upk_buf_append_byte(&b, ' '), UPK_OK);
	parse_ok(b.data, b.len, ret);
	assert_int_equal(upk_buf_append_byte(&b, ' '), UPK_OK);
	full_state(ret, UPKC_TRIAL_STAGED);
	memcpy(copy, ret, sizeof(*ret));
	upk_diag_clear(&d);
	assert_int_equal(upkc_state_parse(b.data, b.len, ret, &d), UPK_E_TOO_LARGE);
	assert_int_equal(d.err, UPK_E_TOO_LARGE);
	assert_memory_equal(ret, copy, sizeof(*ret));
}

static void test_add_failed(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();
	char failed[UPKC_STATE_MAX_FAILED][UPKC_STATE_RELEASE_MAX];
	char name[32];

	(void)state;
	upkc_state_init(st, 0, "1.0.0");
	assert_false(upkc_state_has_failed(st, "a.upk"));
	assert_false(upkc_state_has_failed(st, ""));
	upkc_state_add_failed(st, "a.upk");
	upkc_state_add_failed(st, "a.upk");
	assert_int_equal(st->n_failed, 1);
	upkc_state_add_failed(st, "b.upk");
	upkc_state_add_failed(st, "a.upk");
	assert_int_equal(st->n_failed, 2);
	assert_string_equal(st->failed[0], "a.upk");
	assert_string_equal(st->failed[1], "b.upk");
	assert_true(upkc_state_has_failed(st, "a.upk"));
	assert_true(upkc_state_has_failed(st, "b.upk"));
	assert_false(upkc_state_has_failed(st, "a.up"));
	assert_false(upkc_state_has_failed(st, "a.upkx"));
	assert_round_trip(st, NULL);

	/* 20 releases: the newest 16 stay, oldest first. */
	st->n_failed = 0;
	for (int i = 1; i <= 20; i++) {
		snprintf(name, sizeof(name), "r-%d.upk", i);
		upkc_state_add_failed(st, name);
		assert_int_equal(st->n_failed,
				 i < UPKC_STATE_MAX_FAILED ? i : UPKC_STATE_MAX_FAILED);
		assert_string_equal(st->failed[st->n_failed - 1], name);
		assert_true(upkc_state_has_failed(st, name));
	}
	for (int i = 0; i < UPKC_STATE_MAX_FAILED; i++) {
		snprintf(name, sizeof(name), "r-%d.upk", i + 5);
		assert_string_equal(st->failed[i], name);
	}
	assert_false(upkc_state_has_failed(st, "r-4.upk"));
	assert_false(upkc_state_has_failed(st, "r-1.upk"));
	/* Full: one already listed (oldest, middle, newest) changes nothing. */
	memcpy(failed, st->failed, sizeof(failed));
	upkc_state_add_failed(st, "r-5.upk");
	upkc_state_add_failed(st, "r-12.upk");
	upkc_state_add_failed(st, "r-20.upk");
	assert_int_equal(st->n_failed, UPKC_STATE_MAX_FAILED);
	assert_memory_equal(st->failed, failed, sizeof(failed));
	assert_round_trip(st, NULL);
	/* A dropped one comes back as the newest. */
	upkc_state_add_failed(st, "r-1.upk");
	assert_int_equal(st->n_failed, UPKC_STATE_MAX_FAILED);
	assert_string_equal(st->failed[0], "r-6.upk");
	assert_string_equal(st->failed[UPKC_STATE_MAX_FAILED - 1], "r-1.upk");
	assert_round_trip(st, NULL);
}

static void test_model_lookup(void **state)
{
	_cleanup_free_ struct upkc_state *st = state_new();
	struct upkc_state_model *m;

	(void)state;
	full_state(st, UPKC_TRIAL_ARMED);
	m = upkc_state_model(st, "tracker");
	assert_ptr_equal(m, &st->models[1]);
	m = upkc_state_model(st, "detector");
	assert_ptr_equal(m, &st->models[0]);
	m->floor = 9;
	assert_int_equal(st->models[0].floor, 9);
	assert_null(upkc_state_model(st, "counter")); /* only in the trial */
	assert_null(upkc_state_model(st, "detecto"));
	assert_null(upkc_state_model(st, ""));
	st->n_models = 0;
	assert_null(upkc_state_model(st, "detector"));
}

/* ---- files ---- */

struct fx {
	char dir[64];
	char path[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/upk-state-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/device.json", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	DIR *d = opendir(f->dir);
	struct dirent *de;
	char p[sizeof(f->dir) + 1 + sizeof(de->d_name)];

	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
		if (unlink(p) < 0)
			rmdir(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* The directory holds exactly the names given (NULL-terminated). */
static void assert_dir_holds(const char *dir, const char *const *names)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0, want = 0;

	assert_non_null(d);
	while (names[want])
		want++;
	while ((de = readdir(d))) {
		size_t i;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		for (i = 0; names[i] && strcmp(names[i], de->d_name); i++)
			;
		if (!names[i]) {
			closedir(d);
			fail_msg("unexpected '%s' in %s", de->d_name, dir);
		}
		n++;
	}
	closedir(d);
	assert_int_equal(n, want);
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void read_fd_all(int fd, struct upk_buf *out)
{
	uint8_t chunk[4096];
	ssize_t n;

	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(upk_buf_append(out, chunk, (size_t)n), UPK_OK);
	assert_int_equal(n, 0);
}

static void test_load_missing(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ struct upkc_state *ret = state_new();
	_cleanup_free_ struct upkc_state *copy = state_new();
	struct upk_diag d;
	bool have = true;

	full_state(ret, UPKC_TRIAL_ARMED);
	memcpy(copy, ret, sizeof(*ret));
	upk_diag_set(&d, UPK_E_IO, "stale", -1, "stale");
	assert_int_equal(upkc_state_load(f->path, ret, &have, &d), UPK_OK);
	assert_false(have);
	assert_int_equal(d.err, UPK_OK);
	assert_memory_equal(ret, copy, sizeof(*ret));
	have = true;
	assert_int_equal(upkc_state_load(f->path, ret, &have, NULL), UPK_OK);
	assert_false(have);
	assert_memory_equal(ret, copy, sizeof(*ret));
	/* Loading created nothing. */
	assert_dir_holds(f->dir, (const char *const[]){ NULL });
}

/* path must load as UPK_E_IO "damaged device state" naming it; *ret and have untouched. */
static void load_damaged(const char *path, const char *reason)
{
	_cleanup_free_ struct upkc_state *ret = state_new();
	_cleanup_free_ struct upkc_state *copy = state_new();
	struct upk_diag d;
	bool have = true;

	full_state(ret, UPKC_TRIAL_MODELS);
	memcpy(copy, ret, sizeof(*ret));
	upk_diag_clear(&d);
	assert_int_equal(upkc_state_load(path, ret, &have, &d), UPK_E_IO);
	assert_int_equal(d.err, UPK_E_IO);
	assert_string_equal(d.where, path);
	if (strncmp(d.reason, "damaged device state", 20) || !strstr(d.reason, reason))
		fail_msg("reason '%s' lacks 'damaged device state' or '%s'", d.reason, reason);
	assert_true(have);
	assert_memory_equal(ret, copy, sizeof(*ret));
	have = false;
	assert_int_equal(upkc_state_load(path, ret, &have, NULL), UPK_E_IO);
	assert_false(have);
	assert_memory_equal(ret, copy, sizeof(*ret));
}

static void test_load_damaged(void **state)
{
	struct fx *f = *state;
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	_cleanup_free_ struct upkc_state *st = state_new();
	_cleanup_free_ struct upkc_state *ret = state_new();
	_cleanup_free_ struct upkc_state *copy = state_new();
	struct upk_diag d;
	bool have = false;

	write_file(f->path, "garbage", 7);
	load_damaged(f->path, "damaged device state");
	write_file(f->path, "", 0);
	load_damaged(f->path, "damaged device state");
	/* A member error names the member. */
	sub(&b, BASE, "'active':'B'", "'active':'C'");
	write_file(f->path, b.data, b.len);
	load_damaged(f->path, "damaged device state: active: not a slot (\"A\" or \"B\")");
	sub(&b, BASE, "'format':1", "'format':2");
	write_file(f->path, b.data, b.len);
	load_damaged(f->path, "damaged device state: format: not 1");
	/* A state cut short (a torn write the atomic save rules out, or a bad disk). */
	full_state(st, UPKC_TRIAL_ARMED);
	upk_buf_done(&b);
	assert_int_equal(upkc_state_serialize(st, &b), UPK_OK);
	write_file(f->path, b.data, b.len / 2);
	load_damaged(f->path, "damaged device state");
	write_file(f->path, b.data, b.len - 3);
	load_damaged(f->path, "damaged device state");
	/* The whole one loads. */
	write_file(f->path, b.data, b.len);
	assert_int_equal(upkc_state_load(f->path, ret, &have, NULL), UPK_OK);
	assert_true(have);
	assert_state_equal(st, ret);

	/* Larger than the limit: refused without reading it, naming the file. */
	upk_buf_done(&b);
	for (size_t i = 0; i <= UPKC_STATE_MAX_SIZE; i++)
		assert_int_equal(upk_buf_append_byte(&b, ' '), UPK_OK);
	write_file(f->path, b.data, b.len);
	memcpy(copy, ret, sizeof(*ret));
	upk_diag_clear(&d);
	have = true;
	assert_int_not_equal(upkc_state_load(f->path, ret, &have, &d), UPK_OK);
	assert_non_null(strstr(d.where, f->path));
	assert_true(have);
	assert_memory_equal(ret, copy, sizeof(*ret));

	/* Not a regular file: an error, nothing believed. */
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkdir(f->path, 0755), 0);
	upk_diag_clear(&d);
	assert_int_not_equal(upkc_state_load(f->path, ret, &have, &d), UPK_OK);
	assert_non_null(strstr(d.where, f->path));
	assert_true(have);
	assert_memory_equal(ret, copy, sizeof(*ret));
}

static void test_save_atomic(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ struct upkc_state *st = state_new();
	_cleanup_free_ struct upkc_state *ret = state_new();
	_cleanup_buf_ struct upk_buf want = UPK_BUF_INIT, got = UPK_BUF_INIT, old = UPK_BUF_INIT;
	static const char *const only_state[] = { "device.json", NULL };
	struct upk_diag d;
	struct stat s1, s2;
	bool have = false;
	int fd;

	upkc_state_init(st, 0, "1.0.0");
	upk_diag_clear(&d);
	assert_int_equal(upkc_state_save(f->path, st, &d), UPK_OK);
	assert_dir_holds(f->dir, only_state);
	assert_int_equal(stat(f->path, &s1), 0);
	assert_true(S_ISREG(s1.st_mode));
	assert_int_equal(s1.st_mode & 07777, 0644);
	assert_int_equal(upkc_state_serialize(st, &want), UPK_OK);
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	read_fd_all(fd, &old);
	assert_int_equal(old.len, want.len);
	assert_memory_equal(old.data, want.data, want.len);
	assert_int_equal(upkc_state_load(f->path, ret, &have, &d), UPK_OK);
	assert_true(have);
	assert_state_equal(st, ret);

	/*
	 * Saving again replaces the file by rename: a new inode with the new
	 * bytes, while a reader holding the old file still sees the old
	 * state whole (an in-place rewrite would change it under the reader).
	 */
	full_state(st, UPKC_TRIAL_ARMED);
	assert_int_equal(upkc_state_save(f->path, st, NULL), UPK_OK);
	assert_dir_holds(f->dir, only_state);
	assert_int_equal(stat(f->path, &s2), 0);
	assert_int_not_equal(s1.st_ino, s2.st_ino);
	assert_int_equal(s2.st_mode & 07777, 0644);
	upk_buf_done(&got);
	read_fd_all(fd, &got);
	assert_int_equal(got.len, old.len);
	assert_memory_equal(got.data, old.data, old.len);
	assert_int_equal(close(fd), 0);
	upk_buf_done(&want);
	assert_int_equal(upkc_state_serialize(st, &want), UPK_OK);
	upk_buf_done(&got);
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	read_fd_all(fd, &got);
	assert_int_equal(close(fd), 0);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, want.len);
	have = false;
	assert_int_equal(upkc_state_load(f->path, ret, &have, NULL), UPK_OK);
	assert_true(have);
	assert_state_equal(st, ret);
	/* A saved models trial and a cleared trial load back too. */
	full_state(st, UPKC_TRIAL_MODELS);
	assert_int_equal(upkc_state_save(f->path, st, NULL), UPK_OK);
	assert_int_equal(upkc_state_load(f->path, ret, &have, NULL), UPK_OK);
	assert_state_equal(st, ret);
	memset(&st->trial, 0, sizeof(st->trial));
	st->trial.slot = -1;
	assert_int_equal(upkc_state_save(f->path, st, NULL), UPK_OK);
	assert_int_equal(upkc_state_load(f->path, ret, &have, NULL), UPK_OK);
	assert_state_equal(st, ret);
	assert_dir_holds(f->dir, only_state);
}

/* A save that cannot complete reports it and leaves no temporary file behind. */
static void test_save_fails_cleanly(void **state)
{
	struct fx *f = *state;
	_cleanup_free_ struct upkc_state *st = state_new();
	static const char *const only_state[] = { "device.json", NULL };
	struct upk_diag d;
	char path[256];
	struct stat s;
	enum upk_err r;

	upkc_state_init(st, 1, "1.0.0");
	/* In a directory that does not exist. */
	snprintf(path, sizeof(path), "%s/missing/device.json", f->dir);
	upk_diag_clear(&d);
	r = upkc_state_save(path, st, &d);
	assert_int_not_equal(r, UPK_OK);
	assert_int_equal(d.err, r);
	assert_non_null(strstr(d.where, path));
	assert_dir_holds(f->dir, (const char *const[]){ NULL });
	/* Over a directory: the rename fails, the temporary is removed, the directory stays. */
	assert_int_equal(mkdir(f->path, 0755), 0);
	upk_diag_clear(&d);
	assert_int_equal(upkc_state_save(f->path, st, &d), UPK_E_IO);
	assert_int_equal(d.err, UPK_E_IO);
	assert_non_null(strstr(d.where, f->path));
	assert_dir_holds(f->dir, only_state);
	assert_int_equal(stat(f->path, &s), 0);
	assert_true(S_ISDIR(s.st_mode));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_parse_base),
		cmocka_unit_test(test_round_trip_phases),
		cmocka_unit_test(test_round_trip_extremes),
		cmocka_unit_test(test_refused_top),
		cmocka_unit_test(test_refused_firmware),
		cmocka_unit_test(test_refused_dates),
		cmocka_unit_test(test_refused_slots),
		cmocka_unit_test(test_refused_models),
		cmocka_unit_test(test_refused_failed),
		cmocka_unit_test(test_refused_trial),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_add_failed),
		cmocka_unit_test(test_model_lookup),
		cmocka_unit_test_setup_teardown(test_load_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_damaged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_atomic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_fails_cleanly, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
