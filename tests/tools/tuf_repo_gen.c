/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tuf_repo_gen: makes small TUF repositories for the client's CLI tests,
 * in the manner of the conformance suite's RepositorySimulator: the signed
 * part of every role is kept as JSON in REPO/work/, changed by commands,
 * and `publish` signs it (Ed25519 keys from fixed seeds) into the files a
 * static HTTP server serves from REPO/metadata and REPO/targets.
 *
 *   tuf_repo_gen init REPO [--no-consistent] [--hashes]
 *       root, timestamp, snapshot and targets v1 published; the pinned
 *       root is REPO/metadata/1.root.json
 *   tuf_repo_gen add-target REPO ROLE PATH FILE     (not published)
 *   tuf_repo_gen delegate REPO DELEGATOR NAME PATTERN [--terminating]
 *       a delegation with a new key, and NAME's metadata (not published)
 *   tuf_repo_gen set-expires REPO ROLE DAYS|SECONDSs (negative: expired)
 *   tuf_repo_gen set-version REPO ROLE N             (the next publish makes N+1)
 *   tuf_repo_gen rotate-key REPO ROLE SEED           (root lists SEED's key for ROLE)
 *   tuf_repo_gen publish REPO [--sign-seeds S,S...] ROLE...
 *       version+1, signed, written as N.ROLE.json (and ROLE.json, except
 *       root; timestamp only as timestamp.json); a targets role goes into
 *       snapshot's META, snapshot into timestamp's
 *
 * Served metadata files carry the role name as it is (a static server
 * decodes the URL-quoted request); names must not contain '/'.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sodium.h>

#include "buf.h"
#include "fileio.h"
#include "hash.h"
#include "hex.h"
#include "json.h"
#include "key.h"
#include "meta.h"
#include "sig.h"
#include "tuftime.h"

static const char *repo;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("tuf_repo_gen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static char *path_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *path_of(const char *fmt, ...)
{
	struct upk_buf b = UPK_BUF_INIT;
	va_list ap;
	char tmp[4096];

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (upk_buf_printf(&b, "%s/%s", repo, tmp))
		die("out of memory");
	return (char *)upk_buf_steal(&b, NULL);
}

static json_t *load_json(const char *path)
{
	struct upk_buf b = UPK_BUF_INIT;
	json_t *v = NULL;
	struct upk_diag d;

	upk_diag_clear(&d);
	if (upk_io_read_file(path, 64 << 20, &b, NULL, &d) ||
	    upk_json_parse(b.data, b.len, 64 << 20, &v, &d))
		die("%s: %s", path, d.reason);
	upk_buf_done(&b);
	return v;
}

static void save_bytes(const char *path, const void *data, size_t len)
{
	struct upk_diag d;

	upk_diag_clear(&d);
	if (upk_io_write_atomic(path, data, len, 0644, &d))
		die("%s: %s", path, d.reason);
}

static void save_json(const char *path, const json_t *v)
{
	struct upk_buf b = UPK_BUF_INIT;

	if (upk_json_serialize(v, &b))
		die("cannot serialize %s", path);
	save_bytes(path, b.data, b.len);
	upk_buf_done(&b);
}

static json_t *work(const char *role)
{
	char *p = path_of("work/%s.json", role);
	json_t *v = load_json(p);

	free(p);
	return v;
}

static void save_work(const char *role, const json_t *v)
{
	char *p = path_of("work/%s.json", role);

	save_json(p, v);
	free(p);
}

/* Key of a seed: 32 bytes of the seed's value. */
struct key {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	char keyid[UPK_KEYID_HEX_LEN + 1];
	json_t *obj;
};

static void key_of(int seed, struct key *k)
{
	uint8_t s[crypto_sign_SEEDBYTES];

	memset(s, seed, sizeof(s));
	crypto_sign_seed_keypair(k->pk, k->sk, s);
	if (upk_key_ed25519_object(k->pk, &k->obj) || upk_key_id(k->obj, k->keyid, NULL))
		die("key %d", seed);
}

static enum upk_err signer(void *ctx, const uint8_t *msg, size_t len, struct upk_buf *sig)
{
	const struct key *k = ctx;
	uint8_t s[UPK_ED25519_SIG_LEN];
	enum upk_err r = upk_sig_sign_ed25519(k->sk, msg, len, s);

	return r ? r : upk_buf_append(sig, s, sizeof(s));
}

static json_t *expires_in_seconds(long seconds)
{
	char s[UPK_TIME_STR_LEN + 1];

	if (upk_time_format((int64_t)time(NULL) + seconds, s))
		die("bad expiry");
	return json_string(s);
}

static json_t *expires_in(long days)
{
	return expires_in_seconds(days * 86400);
}

static bool is_top(const char *role)
{
	return !strcmp(role, "root") || !strcmp(role, "timestamp") || !strcmp(role, "snapshot") ||
	       !strcmp(role, "targets");
}

static enum upk_role type_of(const char *role)
{
	if (!strcmp(role, "root"))
		return UPK_ROLE_ROOT;
	if (!strcmp(role, "timestamp"))
		return UPK_ROLE_TIMESTAMP;
	if (!strcmp(role, "snapshot"))
		return UPK_ROLE_SNAPSHOT;
	return UPK_ROLE_TARGETS;
}

static long parse_long(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		die("not a number: %s", s);
	return v;
}

/* ------------------------------------------------------------------------ */

static json_t *new_role(const char *type, long version)
{
	json_t *s = json_pack("{s:s, s:s, s:i, s:o}", "_type", type, "spec_version", "1.0.31",
			      "version", (json_int_t)version, "expires", expires_in(30));

	if (!s)
		die("out of memory");
	return s;
}

static void cmd_init(bool consistent, bool hashes)
{
	static const char *const roles[] = { "root", "timestamp", "snapshot", "targets" };
	json_t *keys = json_object(), *rkeys = json_object(), *rroles = json_object(), *root;
	json_t *opts = json_pack("{s:b}", "hashes", hashes);
	char *p;

	for (int i = 0; i < 4; i++) {
		struct key k;

		key_of(i + 1, &k);
		json_object_set(rkeys, k.keyid, k.obj);
		json_object_set_new(rroles, roles[i],
				    json_pack("{s:[s], s:i}", "keyids", k.keyid, "threshold", 1));
		json_object_set_new(keys, roles[i], json_pack("[i]", i + 1));
		json_decref(k.obj);
	}
	p = path_of("work");
	mkdir(repo, 0755);
	mkdir(p, 0755);
	free(p);
	p = path_of("metadata");
	mkdir(p, 0755);
	free(p);
	p = path_of("targets");
	mkdir(p, 0755);
	free(p);
	save_work("keys", keys);
	save_work("options", opts);
	root = new_role("root", 0);
	json_object_set_new(root, "consistent_snapshot", json_boolean(consistent));
	json_object_set_new(root, "keys", rkeys);
	json_object_set_new(root, "roles", rroles);
	save_work("root", root);
	json_decref(root);
	root = new_role("timestamp", 0);
	json_object_set_new(root, "meta", json_pack("{s:{s:i}}", "snapshot.json", "version", 1));
	save_work("timestamp", root);
	json_decref(root);
	root = new_role("snapshot", 0);
	json_object_set_new(root, "meta", json_pack("{s:{s:i}}", "targets.json", "version", 1));
	save_work("snapshot", root);
	json_decref(root);
	root = new_role("targets", 0);
	json_object_set_new(root, "targets", json_object());
	save_work("targets", root);
	json_decref(root);
	json_decref(keys);
	json_decref(opts);
}

static void cmd_add_target(const char *role, const char *tpath, const char *file)
{
	json_t *w = work(role), *root = work("root"), *h = NULL, *entry;
	struct upk_buf data = UPK_BUF_INIT;
	struct upk_diag d;
	uint8_t digest[UPK_HASH_MAX_LEN];
	char hex[2 * UPK_SHA256_LEN + 1];
	const char *slash = strrchr(tpath, '/');
	char *served;

	upk_diag_clear(&d);
	if (upk_io_read_file(file, 64 << 20, &data, NULL, &d))
		die("%s: %s", file, d.reason);
	if (upk_hash_oneshot(UPK_HASH_SHA256, data.data, data.len, digest))
		die("hash");
	upk_hex_encode(digest, UPK_SHA256_LEN, hex);
	h = json_pack("{s:s}", "sha256", hex);
	entry = json_pack("{s:i, s:o}", "length", (json_int_t)data.len, "hashes", h);
	json_object_set_new(json_object_get(w, "targets"), tpath, entry);
	save_work(role, w);
	/* The served copy: HASH.basename with consistent snapshots, else the path. */
	if (json_is_true(json_object_get(root, "consistent_snapshot")))
		served = path_of("targets/%.*s%s.%s", slash ? (int)(slash - tpath + 1) : 0, tpath,
				 hex, slash ? slash + 1 : tpath);
	else
		served = path_of("targets/%s", tpath);
	{
		struct upk_diag dd;
		char *dir = strdup(served);

		upk_diag_clear(&dd);
		*strrchr(dir, '/') = 0;
		if (upk_io_mkdir_p(dir, 0755, &dd))
			die("%s: %s", dir, dd.reason);
		free(dir);
	}
	save_bytes(served, data.data ? data.data : (const uint8_t *)"", data.len);
	free(served);
	upk_buf_done(&data);
	json_decref(w);
	json_decref(root);
}

static void cmd_delegate(const char *delegator, const char *name, const char *pattern,
			 bool terminating)
{
	json_t *w = work(delegator), *keys = work("keys"), *dl, *role;
	int seed = 100 + (int)json_object_size(keys);
	struct key k;

	if (strchr(name, '/'))
		die("role names with '/' cannot be served from files");
	key_of(seed, &k);
	dl = json_object_get(w, "delegations");
	if (!dl) {
		dl = json_pack("{s:{}, s:[]}", "keys", "roles");
		json_object_set_new(w, "delegations", dl);
	}
	json_object_set(json_object_get(dl, "keys"), k.keyid, k.obj);
	json_array_append_new(json_object_get(dl, "roles"),
			      json_pack("{s:s, s:[s], s:i, s:b, s:[s]}", "name", name, "keyids",
					k.keyid, "threshold", 1, "terminating", terminating,
					"paths", pattern));
	save_work(delegator, w);
	json_object_set_new(keys, name, json_pack("[i]", seed));
	save_work("keys", keys);
	role = new_role("targets", 0);
	json_object_set_new(role, "targets", json_object());
	save_work(name, role);
	json_decref(role);
	json_decref(k.obj);
	json_decref(w);
	json_decref(keys);
}

/* "N" days or "Ns" seconds from now. */
static void cmd_set_expires(const char *role, const char *when)
{
	json_t *w = work(role);
	size_t n = strlen(when);

	if (n > 1 && when[n - 1] == 's') {
		char *num = strndup(when, n - 1);

		json_object_set_new(w, "expires", expires_in_seconds(parse_long(num)));
		free(num);
	} else {
		json_object_set_new(w, "expires", expires_in(parse_long(when)));
	}
	save_work(role, w);
	json_decref(w);
}

static void cmd_set_version(const char *role, long version)
{
	json_t *w = work(role);

	json_object_set_new(w, "version", json_integer(version));
	save_work(role, w);
	json_decref(w);
}

static void cmd_rotate_key(const char *role, int seed)
{
	json_t *root = work("root"), *keys = work("keys");
	struct key k;

	if (!is_top(role))
		die("rotate-key is for top-level roles");
	key_of(seed, &k);
	json_object_set(json_object_get(root, "keys"), k.keyid, k.obj);
	json_object_set_new(json_object_get(json_object_get(root, "roles"), role), "keyids",
			    json_pack("[s]", k.keyid));
	json_object_set_new(keys, role, json_pack("[i]", seed));
	save_work("root", root);
	save_work("keys", keys);
	json_decref(k.obj);
	json_decref(root);
	json_decref(keys);
}

static void publish(const char *role, const char *sign_seeds)
{
	json_t *w = work(role), *keys = work("keys"), *opts = work("options"), *seeds, *v;
	struct upk_meta *m = NULL;
	struct upk_buf out = UPK_BUF_INIT;
	struct upk_diag d;
	json_int_t version = json_integer_value(json_object_get(w, "version")) + 1;
	char *p;
	size_t i;

	upk_diag_clear(&d);
	json_object_set_new(w, "version", json_integer(version));
	save_work(role, w);
	if (upk_meta_from_json(json_pack("{s:O, s:[]}", "signed", w, "signatures"), type_of(role),
			       &m, &d))
		die("%s: %s: %s", role, d.where, d.reason);
	if (sign_seeds) {
		char *copy = strdup(sign_seeds), *save = NULL;

		seeds = json_array();
		for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
			json_array_append_new(seeds, json_integer(parse_long(s)));
		free(copy);
	} else {
		seeds = json_incref(json_object_get(keys, role));
	}
	json_array_foreach (seeds, i, v) {
		struct key k;

		key_of((int)json_integer_value(v), &k);
		if (upk_meta_sign(m, k.keyid, signer, &k, &d))
			die("sign %s: %s", role, d.reason);
		json_decref(k.obj);
	}
	if (upk_meta_serialize(m, &out))
		die("serialize");
	if (!strcmp(role, "timestamp")) {
		p = path_of("metadata/timestamp.json");
		save_bytes(p, out.data, out.len);
		free(p);
	} else {
		p = path_of("metadata/%lld.%s.json", (long long)version, role);
		save_bytes(p, out.data, out.len);
		free(p);
		if (strcmp(role, "root") != 0) {
			p = path_of("metadata/%s.json", role);
			save_bytes(p, out.data, out.len);
			free(p);
		}
	}
	/* The referring metadata lists the new version (and maybe length and hashes). */
	if (strcmp(role, "root") != 0 && strcmp(role, "timestamp") != 0) {
		const char *parent = strcmp(role, "snapshot") ? "snapshot" : "timestamp";
		json_t *pw = work(parent), *entry = json_pack("{s:I}", "version", version);
		struct upk_buf name = UPK_BUF_INIT;

		if (json_is_true(json_object_get(opts, "hashes"))) {
			json_t *h = NULL;

			if (upk_meta_hashes_json(out.data, out.len, &h))
				die("hashes");
			json_object_set_new(entry, "hashes", h);
			json_object_set_new(entry, "length", json_integer((json_int_t)out.len));
		}
		if (upk_buf_printf(&name, "%s.json", role))
			die("out of memory");
		json_object_set_new(json_object_get(pw, "meta"), (const char *)name.data, entry);
		save_work(parent, pw);
		upk_buf_done(&name);
		json_decref(pw);
	}
	upk_buf_done(&out);
	upk_meta_free(m);
	json_decref(seeds);
	json_decref(w);
	json_decref(keys);
	json_decref(opts);
}

static void usage(void)
{
	fputs("usage: tuf_repo_gen init REPO [--no-consistent] [--hashes]\n"
	      "       tuf_repo_gen add-target REPO ROLE PATH FILE\n"
	      "       tuf_repo_gen delegate REPO DELEGATOR NAME PATTERN [--terminating]\n"
	      "       tuf_repo_gen set-expires REPO ROLE DAYS|SECONDSs\n"
	      "       tuf_repo_gen set-version REPO ROLE N\n"
	      "       tuf_repo_gen rotate-key REPO ROLE SEED\n"
	      "       tuf_repo_gen publish REPO [--sign-seeds S,S...] ROLE...\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 3 || sodium_init() < 0)
		usage();
	cmd = argv[1];
	repo = argv[2];
	if (!strcmp(cmd, "init")) {
		bool consistent = true, hashes = false;

		for (int i = 3; i < argc; i++) {
			if (!strcmp(argv[i], "--no-consistent"))
				consistent = false;
			else if (!strcmp(argv[i], "--hashes"))
				hashes = true;
			else
				usage();
		}
		cmd_init(consistent, hashes);
		publish("root", NULL);
		publish("targets", NULL);
		publish("snapshot", NULL);
		publish("timestamp", NULL);
	} else if (!strcmp(cmd, "add-target") && argc == 6) {
		cmd_add_target(argv[3], argv[4], argv[5]);
	} else if (!strcmp(cmd, "delegate") && (argc == 6 || argc == 7)) {
		if (argc == 7 && strcmp(argv[6], "--terminating") != 0)
			usage();
		cmd_delegate(argv[3], argv[4], argv[5], argc == 7);
	} else if (!strcmp(cmd, "set-expires") && argc == 5) {
		cmd_set_expires(argv[3], argv[4]);
	} else if (!strcmp(cmd, "set-version") && argc == 5) {
		cmd_set_version(argv[3], parse_long(argv[4]));
	} else if (!strcmp(cmd, "rotate-key") && argc == 5) {
		cmd_rotate_key(argv[3], (int)parse_long(argv[4]));
	} else if (!strcmp(cmd, "publish") && argc >= 4) {
		const char *seeds = NULL;
		int i = 3;

		if (!strcmp(argv[i], "--sign-seeds")) {
			if (argc < 6)
				usage();
			seeds = argv[i + 1];
			i += 2;
		}
		for (; i < argc; i++)
			publish(argv[i], seeds);
	} else {
		usage();
	}
	return 0;
}
