/* SPDX-License-Identifier: Apache-2.0 */
/*
 * STATE/device.json (client/state.h): a strict reader and a writer of the
 * agent's persistent state. The reader refuses anything the writer would
 * not produce, so a damaged file is reported instead of half-believed.
 */
#include "state.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "boot.h"
#include "bundle.h"
#include "fileio.h"
#include "json.h"
#include "tuftime.h"
#include "util.h"

static const char *const status_names[] = {
	[UPKC_SLOT_EMPTY] = "empty",
	[UPKC_SLOT_GOOD] = "good",
	[UPKC_SLOT_BAD] = "bad",
	[UPKC_SLOT_STAGED] = "staged",
};

static const char *const phase_names[] = {
	[UPKC_TRIAL_NONE] = "none",
	[UPKC_TRIAL_STAGED] = "staged",
	[UPKC_TRIAL_ARMED] = "armed",
	[UPKC_TRIAL_MODELS] = "models",
};

const char *upkc_slot_status_name(enum upkc_slot_status s)
{
	return (size_t)s < UPK_ARRAY_SIZE(status_names) ? status_names[s] : "?";
}

const char *upkc_trial_phase_name(enum upkc_trial_phase p)
{
	return (size_t)p < UPK_ARRAY_SIZE(phase_names) ? phase_names[p] : "?";
}

void upkc_state_init(struct upkc_state *st, int active, const char *factory_version)
{
	memset(st, 0, sizeof(*st));
	st->active = active ? 1 : 0;
	snprintf(st->fw_version, sizeof(st->fw_version), "%s", factory_version);
	st->slots[st->active].status = UPKC_SLOT_GOOD;
	snprintf(st->slots[st->active].version, sizeof(st->slots[0].version), "%s",
		 factory_version);
	st->trial.slot = -1;
}

struct upkc_state_model *upkc_state_model(struct upkc_state *st, const char *name)
{
	for (size_t i = 0; i < st->n_models; i++) {
		if (!strcmp(st->models[i].name, name))
			return &st->models[i];
	}
	return NULL;
}

void upkc_state_add_failed(struct upkc_state *st, const char *release)
{
	if (upkc_state_has_failed(st, release))
		return;
	if (st->n_failed == UPKC_STATE_MAX_FAILED) {
		memmove(st->failed[0], st->failed[1], sizeof(st->failed[0]) * (st->n_failed - 1));
		st->n_failed--;
	}
	snprintf(st->failed[st->n_failed++], sizeof(st->failed[0]), "%s", release);
}

bool upkc_state_has_failed(const struct upkc_state *st, const char *release)
{
	for (size_t i = 0; i < st->n_failed; i++) {
		if (!strcmp(st->failed[i], release))
			return true;
	}
	return false;
}

/* ---- reading ---- */

static enum upk_err bad(struct upk_diag *d, const char *where, const char *why)
{
	return upk_diag_set(d, UPK_E_FORMAT, where, -1, "%s", why);
}

/* Exactly the members listed (NULL-terminated), all of them required. */
static enum upk_err only_members(json_t *obj, const char *where, const char *const *names,
				 struct upk_diag *d)
{
	const char *key;
	json_t *v;
	size_t n = 0;

	if (!json_is_object(obj))
		return bad(d, where, "not an object");
	json_object_foreach (obj, key, v) {
		size_t i;

		(void)v;
		for (i = 0; names[i] && strcmp(names[i], key); i++)
			;
		if (!names[i])
			return upk_diag_set(d, UPK_E_FORMAT, where, -1, "unknown member \"%s\"",
					    key);
	}
	for (; names[n]; n++) {
		if (!json_object_get(obj, names[n]))
			return upk_diag_set(d, UPK_E_FORMAT, where, -1, "missing member \"%s\"",
					    names[n]);
	}
	return UPK_OK;
}

static enum upk_err get_version(const json_t *obj, const char *key, const char *where,
				char out[UPK_SEMVER_MAX_LEN], struct upk_diag *d)
{
	struct upk_semver sv;
	const char *s;

	if (upk_json_get_str(obj, key, &s, d))
		return upk_diag_prefix_where(d, where), UPK_E_FORMAT;
	if (upk_semver_parse(s, &sv))
		return upk_diag_set(d, UPK_E_FORMAT, where, -1, "%s: not a SemVer version", key);
	snprintf(out, UPK_SEMVER_MAX_LEN, "%s", s);
	return UPK_OK;
}

static enum upk_err get_u63(const json_t *obj, const char *key, const char *where, uint64_t *out,
			    struct upk_diag *d)
{
	int64_t v;

	if (upk_json_get_int(obj, key, 0, INT64_MAX, &v, d))
		return upk_diag_prefix_where(d, where), UPK_E_FORMAT;
	*out = (uint64_t)v;
	return UPK_OK;
}

static enum upk_err get_slot(const json_t *v, const char *where, bool null_ok, int *out,
			     struct upk_diag *d)
{
	const char *s = json_string_value(v);

	if (null_ok && json_is_null(v)) {
		*out = -1;
		return UPK_OK;
	}
	if (!s || (strcmp(s, "A") && strcmp(s, "B")))
		return bad(d, where, "not a slot (\"A\" or \"B\")");
	*out = s[0] == 'B';
	return UPK_OK;
}

/* A "YYYY-MM-DD" date or null into out[11] ("" for null). */
static enum upk_err get_date(const json_t *v, const char *where, char out[11], struct upk_diag *d)
{
	const char *s = json_string_value(v);
	char t[UPK_TIME_STR_LEN + 1];
	int64_t when;

	if (json_is_null(v)) {
		out[0] = 0;
		return UPK_OK;
	}
	if (!s || strlen(s) != 10)
		return bad(d, where, "not a date (YYYY-MM-DD) or null");
	snprintf(t, sizeof(t), "%sT00:00:00Z", s);
	if (upk_time_parse(t, &when))
		return bad(d, where, "not a date (YYYY-MM-DD) or null");
	memcpy(out, s, 11);
	return UPK_OK;
}

static enum upk_err get_name(const json_t *v, const char *where, char out[UPKC_STATE_NAME_MAX],
			     struct upk_diag *d)
{
	const char *s = json_string_value(v);

	if (!s || !upk_bundle_name_is_valid(s) || strlen(s) >= UPKC_STATE_NAME_MAX)
		return bad(d, where, "not a component name");
	memcpy(out, s, strlen(s) + 1);
	return UPK_OK;
}

static enum upk_err get_release(const json_t *v, const char *where,
				char out[UPKC_STATE_RELEASE_MAX], struct upk_diag *d)
{
	const char *s = json_string_value(v);

	if (!s || !s[0] || strlen(s) >= UPKC_STATE_RELEASE_MAX)
		return bad(d, where, "not a target path");
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return bad(d, where, "control character in a target path");
	}
	memcpy(out, s, strlen(s) + 1);
	return UPK_OK;
}

static enum upk_err parse_slots(json_t *slots, struct upkc_state *st, struct upk_diag *d)
{
	static const char *const names[] = { "A", "B", NULL };
	static const char *const members[] = { "status", "version", NULL };
	enum upk_err r = only_members(slots, "slots", names, d);

	for (int i = 0; i < 2 && !r; i++) {
		json_t *s = json_object_get(slots, names[i]);
		const char *status;
		char where[16];
		size_t k;

		snprintf(where, sizeof(where), "slots.%s", names[i]);
		r = only_members(s, where, members, d);
		if (r)
			return r;
		status = json_string_value(json_object_get(s, "status"));
		for (k = 0; k < UPK_ARRAY_SIZE(status_names); k++) {
			if (status && !strcmp(status, status_names[k]))
				break;
		}
		if (k == UPK_ARRAY_SIZE(status_names))
			return bad(d, where, "status is not empty, good, bad or staged");
		st->slots[i].status = (enum upkc_slot_status)k;
		if (k == UPKC_SLOT_EMPTY) {
			if (!json_is_null(json_object_get(s, "version")))
				return bad(d, where, "an empty slot has version null");
			st->slots[i].version[0] = 0;
			continue;
		}
		r = get_version(s, "version", where, st->slots[i].version, d);
	}
	return r;
}

static enum upk_err parse_models(json_t *models, struct upkc_state *st, struct upk_diag *d)
{
	static const char *const members[] = { "version", "floor", NULL };
	const char *key;
	json_t *m;

	if (!json_is_object(models))
		return bad(d, "models", "not an object");
	if (json_object_size(models) > UPKC_STATE_MAX_MODELS)
		return bad(d, "models", "more than 64 models");
	json_object_foreach (models, key, m) {
		struct upkc_state_model *sm = &st->models[st->n_models];
		_cleanup_json_ json_t *name = json_string(key);

		if (!name)
			return UPK_E_NOMEM;
		if (get_name(name, "models", sm->name, d) ||
		    only_members(m, "models", members, d) ||
		    get_version(m, "version", "models", sm->version, d) ||
		    get_u63(m, "floor", "models", &sm->floor, d))
			return UPK_E_FORMAT;
		st->n_models++;
	}
	return UPK_OK;
}

static enum upk_err parse_trial(json_t *t, struct upkc_state *st, struct upk_diag *d)
{
	static const char *const members[] = {
		"phase",       "slot",	   "release", "version", "security_version",
		"support_end", "firmware", "models",  "started", NULL
	};
	static const char *const mmembers[] = { "name", "version", "previous", NULL };
	struct upkc_state_trial *tr = &st->trial;
	const char *phase, *started;
	json_t *models;
	size_t k;

	tr->slot = -1;
	if (json_is_null(t)) {
		tr->phase = UPKC_TRIAL_NONE;
		return UPK_OK;
	}
	if (only_members(t, "trial", members, d))
		return UPK_E_FORMAT;
	phase = json_string_value(json_object_get(t, "phase"));
	for (k = 1; k < UPK_ARRAY_SIZE(phase_names); k++) {
		if (phase && !strcmp(phase, phase_names[k]))
			break;
	}
	if (k == UPK_ARRAY_SIZE(phase_names))
		return bad(d, "trial.phase", "not staged, armed or models");
	tr->phase = (enum upkc_trial_phase)k;
	if (upk_json_get_bool(t, "firmware", &tr->firmware, d) ||
	    get_slot(json_object_get(t, "slot"), "trial.slot", true, &tr->slot, d) ||
	    get_release(json_object_get(t, "release"), "trial.release", tr->release, d) ||
	    get_version(t, "version", "trial", tr->version, d) ||
	    get_u63(t, "security_version", "trial", &tr->security_version, d) ||
	    get_date(json_object_get(t, "support_end"), "trial.support_end", tr->support_end, d) ||
	    upk_json_get_str(t, "started", &started, d)) {
		char reason[sizeof(d->reason)];

		/* The member's own reason, under "trial" (it may not be formatted into itself). */
		if (!d)
			return UPK_E_FORMAT;
		memcpy(reason, d->reason, sizeof(reason));
		return upk_diag_set(d, UPK_E_FORMAT, "trial", -1, "%s",
				    reason[0] ? reason : "bad member");
	}
	if (upk_time_parse(started, &tr->started))
		return bad(d, "trial", "started: not a time (YYYY-MM-DDTHH:MM:SSZ)");
	if (tr->firmware != (tr->slot >= 0) || tr->firmware == (tr->phase == UPKC_TRIAL_MODELS))
		return bad(d, "trial", "phase, firmware and slot disagree");
	models = json_object_get(t, "models");
	if (!json_is_array(models) || json_array_size(models) > UPKC_STATE_MAX_MODELS)
		return bad(d, "trial.models", "not an array of at most 64 models");
	for (size_t i = 0; i < json_array_size(models); i++) {
		json_t *m = json_array_get(models, i);
		struct upkc_trial_model *tm = &tr->models[i];
		const json_t *prev;

		if (only_members(m, "trial.models", mmembers, d) ||
		    get_name(json_object_get(m, "name"), "trial.models", tm->name, d) ||
		    get_version(m, "version", "trial.models", tm->version, d))
			return UPK_E_FORMAT;
		prev = json_object_get(m, "previous");
		if (json_is_null(prev))
			tm->previous[0] = 0;
		else if (get_version(m, "previous", "trial.models", tm->previous, d))
			return UPK_E_FORMAT;
		tr->n_models = i + 1;
	}
	if (!tr->firmware && tr->n_models == 0)
		return bad(d, "trial", "a trial without firmware carries models");
	return UPK_OK;
}

enum upk_err upkc_state_parse(const uint8_t *data, size_t len, struct upkc_state *ret,
			      struct upk_diag *reterr_diag)
{
	static const char *const members[] = { "format",      "active", "firmware",
					       "support_end", "slots",	"models",
					       "failed",      "trial",	NULL };
	static const char *const fw_members[] = { "version", "release", "security_version", "floor",
						  NULL };
	_cleanup_json_ json_t *doc = NULL;
	struct upkc_state *st;
	json_t *fw;
	const json_t *rel;
	int64_t format;
	enum upk_err r;

	r = upk_json_parse(data, len, UPKC_STATE_MAX_SIZE, &doc, reterr_diag);
	if (r)
		return r;
	st = calloc(1, sizeof(*st));
	if (!st)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	r = only_members(doc, "(top level)", members, reterr_diag);
	if (!r && upk_json_get_int(doc, "format", 1, 1, &format, reterr_diag))
		r = bad(reterr_diag, "format", "not 1");
	if (!r)
		r = get_slot(json_object_get(doc, "active"), "active", false, &st->active,
			     reterr_diag);
	fw = json_object_get(doc, "firmware");
	if (!r)
		r = only_members(fw, "firmware", fw_members, reterr_diag);
	if (!r)
		r = get_version(fw, "version", "firmware", st->fw_version, reterr_diag);
	rel = json_object_get(fw, "release");
	if (!r && json_is_null(rel))
		st->fw_release[0] = 0;
	else if (!r)
		r = get_release(rel, "firmware.release", st->fw_release, reterr_diag);
	if (!r)
		r = get_u63(fw, "security_version", "firmware", &st->fw_security_version,
			    reterr_diag);
	if (!r)
		r = get_u63(fw, "floor", "firmware", &st->fw_floor, reterr_diag);
	if (!r && st->fw_security_version > st->fw_floor)
		r = bad(reterr_diag, "firmware", "security_version above the floor");
	if (!r)
		r = get_date(json_object_get(doc, "support_end"), "support_end", st->support_end,
			     reterr_diag);
	if (!r)
		r = parse_slots(json_object_get(doc, "slots"), st, reterr_diag);
	if (!r && st->slots[st->active].status != UPKC_SLOT_GOOD)
		r = bad(reterr_diag, "slots", "the active slot is not good");
	if (!r)
		r = parse_models(json_object_get(doc, "models"), st, reterr_diag);
	if (!r) {
		json_t *failed = json_object_get(doc, "failed");

		if (!json_is_array(failed) || json_array_size(failed) > UPKC_STATE_MAX_FAILED)
			r = bad(reterr_diag, "failed", "not an array of at most 16 releases");
		for (size_t i = 0; !r && i < json_array_size(failed); i++) {
			r = get_release(json_array_get(failed, i), "failed", st->failed[i],
					reterr_diag);
			st->n_failed = i + 1;
		}
	}
	if (!r)
		r = parse_trial(json_object_get(doc, "trial"), st, reterr_diag);
	if (!r && st->trial.firmware && st->trial.slot == st->active)
		r = bad(reterr_diag, "trial.slot", "the trial slot is the active one");
	if (!r)
		*ret = *st;
	free(st);
	return r ? UPK_E_FORMAT : UPK_OK;
}

/* ---- writing ---- */

static json_t *date_or_null(const char *s)
{
	return s[0] ? json_string(s) : json_null();
}

static json_t *build(const struct upkc_state *st)
{
	const struct upkc_state_trial *tr = &st->trial;
	json_t *doc, *slots, *models, *failed, *trial = NULL;
	char started[UPK_TIME_STR_LEN + 1];

	slots = json_object();
	for (int i = 0; slots && i < 2; i++) {
		const struct upkc_state_slot *s = &st->slots[i];

		json_object_set_new(slots, upkc_slot_name(i),
				    json_pack("{s:s, s:o}", "status",
					      upkc_slot_status_name(s->status), "version",
					      s->status == UPKC_SLOT_EMPTY
						      ? json_null()
						      : json_string(s->version)));
	}
	models = json_object();
	for (size_t i = 0; models && i < st->n_models; i++)
		json_object_set_new(models, st->models[i].name,
				    json_pack("{s:s, s:I}", "version", st->models[i].version,
					      "floor", (json_int_t)st->models[i].floor));
	failed = json_array();
	for (size_t i = 0; failed && i < st->n_failed; i++)
		json_array_append_new(failed, json_string(st->failed[i]));
	if (tr->phase != UPKC_TRIAL_NONE) {
		json_t *tm = json_array();

		for (size_t i = 0; tm && i < tr->n_models; i++)
			json_array_append_new(
				tm, json_pack("{s:s, s:s, s:o}", "name", tr->models[i].name,
					      "version", tr->models[i].version, "previous",
					      tr->models[i].previous[0]
						      ? json_string(tr->models[i].previous)
						      : json_null()));
		if (upk_time_format(tr->started, started))
			snprintf(started, sizeof(started), "1970-01-01T00:00:00Z");
		trial = json_pack(
			"{s:s, s:o, s:s, s:s, s:I, s:o, s:b, s:o, s:s}", "phase",
			upkc_trial_phase_name(tr->phase), "slot",
			tr->slot >= 0 ? json_string(upkc_slot_name(tr->slot)) : json_null(),
			"release", tr->release, "version", tr->version, "security_version",
			(json_int_t)tr->security_version, "support_end",
			date_or_null(tr->support_end), "firmware", tr->firmware, "models",
			tm ? tm : json_array(), "started", started);
	} else {
		trial = json_null();
	}
	doc = json_pack("{s:i, s:s, s:{s:s, s:o, s:I, s:I}, s:o, s:o, s:o, s:o, s:o}", "format", 1,
			"active", upkc_slot_name(st->active), "firmware", "version", st->fw_version,
			"release", st->fw_release[0] ? json_string(st->fw_release) : json_null(),
			"security_version", (json_int_t)st->fw_security_version, "floor",
			(json_int_t)st->fw_floor, "support_end", date_or_null(st->support_end),
			"slots", slots ? slots : json_null(), "models",
			models ? models : json_null(), "failed", failed ? failed : json_null(),
			"trial", trial ? trial : json_null());
	return doc;
}

enum upk_err upkc_state_serialize(const struct upkc_state *st, struct upk_buf *out)
{
	_cleanup_json_ json_t *doc = build(st);

	if (!doc)
		return UPK_E_NOMEM;
	return upk_json_serialize(doc, out);
}

enum upk_err upkc_state_load(const char *path, struct upkc_state *ret, bool *ret_have,
			     struct upk_diag *reterr_diag)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;
	enum upk_err r;

	upk_diag_clear(&d);
	r = upk_io_read_file(path, UPKC_STATE_MAX_SIZE, &b, NULL, reterr_diag);
	if (r == UPK_E_NOT_FOUND) {
		upk_diag_clear(reterr_diag);
		*ret_have = false;
		return UPK_OK;
	}
	if (r == UPK_E_TOO_LARGE)
		return upk_diag_set(reterr_diag, UPK_E_IO, path, -1,
				    "damaged device state: larger than %d bytes",
				    UPKC_STATE_MAX_SIZE);
	if (r)
		return r;
	r = upkc_state_parse(b.data ? b.data : (const uint8_t *)"", b.len, ret, &d);
	if (r == UPK_E_NOMEM)
		return upk_diag_set(reterr_diag, r, path, -1, NULL);
	if (r)
		return upk_diag_set(reterr_diag, UPK_E_IO, path, -1, "damaged device state: %s%s%s",
				    d.where, d.where[0] ? ": " : "", d.reason);
	*ret_have = true;
	return UPK_OK;
}

enum upk_err upkc_state_save(const char *path, const struct upkc_state *st,
			     struct upk_diag *reterr_diag)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;

	if (upkc_state_serialize(st, &b))
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, path, -1, NULL);
	return upk_io_write_atomic(path, b.data, b.len, 0644, reterr_diag);
}
