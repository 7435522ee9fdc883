/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fuzz target for the agent's device state, STATE/device.json
 * (client/state.h).
 *
 * It calls upkc_state_parse, the function upkc_state_load runs on the
 * file's bytes, with the product's limit (UPKC_STATE_MAX_SIZE is checked
 * inside it). For every input that parses it checks (abort() otherwise):
 *   - the state keeps the promises of the strict reader: the active slot
 *     is good, the security version is not above the floor, the trial's
 *     phase, firmware and slot agree and its slot is not the active one,
 *     tables within their limits, every string terminated in its array;
 *   - what the writer makes of it is read back, field for field (models
 *     looked up by name: the writer sorts them), and writing that again
 *     gives the same bytes: serialize is a fixed point;
 *   - remembering a failed release (upkc_state_add_failed) puts it last,
 *     dropping the oldest when UPKC_STATE_MAX_FAILED are listed, or
 *     changes nothing if it is listed (a second call never does), and the
 *     result still round-trips.
 *
 * Seed corpus (tests/fuzz/corpus/state/): states written by
 * upkc_state_serialize (fresh, with a trial of each phase, the largest
 * tables and strings) and compact hand-written variants.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TERMINATED(a) (memchr((a), 0, sizeof(a)) != NULL)

static void check_invariants(const struct upkc_state *st)
{
	const struct upkc_state_trial *tr = &st->trial;

	if (st->active != 0 && st->active != 1)
		abort();
	if (st->slots[st->active].status != UPKC_SLOT_GOOD)
		abort();
	if (st->fw_security_version > st->fw_floor || st->fw_floor > INT64_MAX)
		abort();
	if (!TERMINATED(st->fw_version) || !TERMINATED(st->fw_release) ||
	    !TERMINATED(st->support_end))
		abort();
	for (int i = 0; i < 2; i++) {
		if (st->slots[i].status > UPKC_SLOT_STAGED || !TERMINATED(st->slots[i].version) ||
		    (st->slots[i].status == UPKC_SLOT_EMPTY) != !st->slots[i].version[0])
			abort();
	}
	if (st->n_models > UPKC_STATE_MAX_MODELS || st->n_failed > UPKC_STATE_MAX_FAILED)
		abort();
	for (size_t i = 0; i < st->n_models; i++) {
		if (!TERMINATED(st->models[i].name) || !st->models[i].name[0] ||
		    !TERMINATED(st->models[i].version) || st->models[i].floor > INT64_MAX)
			abort();
	}
	for (size_t i = 0; i < st->n_failed; i++) {
		if (!TERMINATED(st->failed[i]))
			abort();
	}
	if (tr->phase == UPKC_TRIAL_NONE) {
		if (tr->slot != -1)
			abort();
		return;
	}
	if (tr->phase > UPKC_TRIAL_MODELS || tr->firmware != (tr->slot >= 0) ||
	    tr->firmware == (tr->phase == UPKC_TRIAL_MODELS) || tr->slot > 1 ||
	    (tr->firmware && tr->slot == st->active))
		abort();
	if (tr->n_models > UPKC_STATE_MAX_MODELS || (!tr->firmware && tr->n_models == 0))
		abort();
	if (!TERMINATED(tr->release) || !TERMINATED(tr->version) || !TERMINATED(tr->support_end) ||
	    tr->security_version > INT64_MAX)
		abort();
	for (size_t i = 0; i < tr->n_models; i++) {
		if (!TERMINATED(tr->models[i].name) || !TERMINATED(tr->models[i].version) ||
		    !TERMINATED(tr->models[i].previous))
			abort();
	}
}

/* a and b hold the same state; models may come in another order. */
static void check_same(const struct upkc_state *a, struct upkc_state *b)
{
	const struct upkc_state_trial *ta = &a->trial, *tb = &b->trial;

	if (a->active != b->active || strcmp(a->fw_version, b->fw_version) ||
	    strcmp(a->fw_release, b->fw_release) ||
	    a->fw_security_version != b->fw_security_version || a->fw_floor != b->fw_floor ||
	    strcmp(a->support_end, b->support_end))
		abort();
	for (int i = 0; i < 2; i++) {
		if (a->slots[i].status != b->slots[i].status ||
		    strcmp(a->slots[i].version, b->slots[i].version))
			abort();
	}
	if (a->n_models != b->n_models || a->n_failed != b->n_failed)
		abort();
	for (size_t i = 0; i < a->n_models; i++) {
		const struct upkc_state_model *m = upkc_state_model(b, a->models[i].name);

		if (!m || strcmp(m->version, a->models[i].version) ||
		    m->floor != a->models[i].floor)
			abort();
	}
	for (size_t i = 0; i < a->n_failed; i++) {
		if (strcmp(a->failed[i], b->failed[i]))
			abort();
	}
	if (ta->phase != tb->phase)
		abort();
	if (ta->phase == UPKC_TRIAL_NONE)
		return;
	if (ta->firmware != tb->firmware || ta->slot != tb->slot ||
	    strcmp(ta->release, tb->release) || strcmp(ta->version, tb->version) ||
	    ta->security_version != tb->security_version ||
	    strcmp(ta->support_end, tb->support_end) || ta->n_models != tb->n_models ||
	    ta->started != tb->started)
		abort();
	for (size_t i = 0; i < ta->n_models; i++) {
		if (strcmp(ta->models[i].name, tb->models[i].name) ||
		    strcmp(ta->models[i].version, tb->models[i].version) ||
		    strcmp(ta->models[i].previous, tb->models[i].previous))
			abort();
	}
}

/* serialize(st) parses back to st, and serializing that gives the same bytes. */
static void check_round_trip(const struct upkc_state *st, struct upkc_state *scratch)
{
	struct upk_buf a = UPK_BUF_INIT, b = UPK_BUF_INIT;

	if (upkc_state_serialize(st, &a) != UPK_OK)
		abort();
	if (upkc_state_parse(a.data, a.len, scratch, NULL) != UPK_OK)
		abort();
	check_invariants(scratch);
	check_same(st, scratch);
	if (upkc_state_serialize(scratch, &b) != UPK_OK)
		abort();
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	upk_buf_done(&a);
	upk_buf_done(&b);
}

/*
 * A release not listed goes last, pushing out the oldest when the list is
 * full; one listed changes nothing.
 */
static void check_add_failed(struct upkc_state *st, struct upkc_state *scratch)
{
	/* The trial's release when there is one: maybe listed already. */
	const char *rel = st->trial.phase != UPKC_TRIAL_NONE ? st->trial.release : "fuzz-1.0.0.upk";
	char name[UPKC_STATE_RELEASE_MAX];
	struct upkc_state *before = malloc(sizeof(*before));
	bool listed;
	size_t keep;

	if (!before)
		abort();
	memcpy(name, rel, strlen(rel) + 1);
	memcpy(before, st, sizeof(*st));
	listed = upkc_state_has_failed(st, name);
	upkc_state_add_failed(st, name);
	if (listed) {
		if (st->n_failed != before->n_failed ||
		    memcmp(st->failed, before->failed, sizeof(st->failed)))
			abort();
	} else {
		keep = before->n_failed < UPKC_STATE_MAX_FAILED ? before->n_failed
								: UPKC_STATE_MAX_FAILED - 1;
		if (st->n_failed != keep + 1 || strcmp(st->failed[keep], name))
			abort();
		for (size_t i = 0; i < keep; i++) {
			if (strcmp(st->failed[i], before->failed[before->n_failed - keep + i]))
				abort();
		}
	}
	if (!upkc_state_has_failed(st, name))
		abort();
	memcpy(before, st, sizeof(*st));
	upkc_state_add_failed(st, name);
	if (st->n_failed != before->n_failed ||
	    memcmp(st->failed, before->failed, sizeof(st->failed)))
		abort();
	free(before);
	check_round_trip(st, scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upkc_state *st = malloc(sizeof(*st));
	struct upkc_state *scratch = malloc(sizeof(*scratch));
	struct upk_diag d;

	if (!st || !scratch)
		abort();
	upk_diag_clear(&d);
	if (upkc_state_parse(data, size, st, &d) == UPK_OK) {
		check_invariants(st);
		check_round_trip(st, scratch);
		check_add_failed(st, scratch);
	} else if (d.err != UPK_E_FORMAT && d.err != UPK_E_TOO_LARGE && d.err != UPK_E_NOMEM) {
		abort();
	}
	free(st);
	free(scratch);
	return 0;
}
