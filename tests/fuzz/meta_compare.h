/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * Test helper (fuzz_metadata and unit/test_meta): does a view from
 * upk_meta_parse_view say exactly what the tree from upk_meta_parse says?
 * Returns NULL when they agree, else what differs.
 */
#include <jansson.h>
#include <string.h>

#include "meta.h"

static const char *meta_compare_strs(const char **a, const char **b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return "string list";
	return NULL;
}

static const char *meta_compare_rolekeys(const struct upk_role_keys *a,
					 const struct upk_role_keys *b)
{
	if (a->n_keyids != b->n_keyids || a->threshold != b->threshold)
		return "role keys";
	return meta_compare_strs(a->keyids, b->keyids, a->n_keyids);
}

static const char *meta_compare(const struct upk_meta *t, const struct upk_meta *v)
{
	const struct upk_delegations *dt = &t->delegations, *dv = &v->delegations;
	const char *why;

	if (t->type != v->type || t->version != v->version || t->expires != v->expires ||
	    strcmp(t->spec_version, v->spec_version) != 0)
		return "common fields";
	if (t->canonical.len != v->canonical.len ||
	    memcmp(t->canonical.data, v->canonical.data, t->canonical.len) != 0)
		return "canonical bytes";
	if (t->n_sigs != v->n_sigs)
		return "signature count";
	for (size_t i = 0; i < t->n_sigs; i++)
		if (strcmp(t->sigs[i].keyid, v->sigs[i].keyid) != 0 ||
		    t->sigs[i].sig_len != v->sigs[i].sig_len ||
		    memcmp(t->sigs[i].sig, v->sigs[i].sig, t->sigs[i].sig_len) != 0)
			return "signatures";
	if (t->n_targets != v->n_targets)
		return "target count";
	for (size_t i = 0; i < t->n_targets; i++) {
		const struct upk_target *a = upk_meta_target(t, i), *b = upk_meta_target(v, i);

		if (!a || !b)
			return "target missing";
		if (upk_meta_find_target(v, a->path) != b)
			return "target look-up";
		if (strcmp(a->path, b->path) != 0 || a->length != b->length)
			return "target path or length";
		if (a->hashes.has_sha256 != b->hashes.has_sha256 ||
		    a->hashes.has_sha512 != b->hashes.has_sha512 ||
		    a->hashes.count != b->hashes.count ||
		    a->hashes.n_unknown != b->hashes.n_unknown ||
		    (a->hashes.has_sha256 &&
		     memcmp(a->hashes.sha256, b->hashes.sha256, sizeof(a->hashes.sha256)) != 0) ||
		    (a->hashes.has_sha512 &&
		     memcmp(a->hashes.sha512, b->hashes.sha512, sizeof(a->hashes.sha512)) != 0))
			return "target hashes";
		if (!a->custom != !b->custom || (a->custom && !json_equal(a->custom, b->custom)))
			return "target custom";
	}
	if (t->has_delegations != v->has_delegations || dt->n_keys != dv->n_keys ||
	    dt->n_roles != dv->n_roles || dt->has_succinct != dv->has_succinct)
		return "delegations";
	for (size_t i = 0; i < dt->n_keys; i++)
		if (strcmp(dt->keys[i].keyid, dv->keys[i].keyid) != 0)
			return "delegation keys";
	for (size_t i = 0; i < dt->n_roles; i++) {
		const struct upk_delegated_role *a = &dt->roles[i], *b = &dv->roles[i];

		if (strcmp(a->name, b->name) != 0 || a->terminating != b->terminating ||
		    a->has_paths != b->has_paths || a->n_paths != b->n_paths ||
		    a->n_prefixes != b->n_prefixes)
			return "delegated role";
		why = meta_compare_rolekeys(&a->keys, &b->keys);
		if (!why)
			why = meta_compare_strs(a->paths, b->paths, a->n_paths);
		if (!why)
			why = meta_compare_strs(a->prefixes, b->prefixes, a->n_prefixes);
		if (why)
			return why;
	}
	if (dt->has_succinct && (dt->succinct.bit_length != dv->succinct.bit_length ||
				 strcmp(dt->succinct.name_prefix, dv->succinct.name_prefix) != 0 ||
				 meta_compare_rolekeys(&dt->succinct.keys, &dv->succinct.keys)))
		return "succinct roles";
	return NULL;
}
