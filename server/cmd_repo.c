/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The repository commands of upkeep-server: init, publish, delegate, rotate,
 * yank, refresh, verify (CLI.md; the manual is upkeep-server.1.md). This is
 * the shell around repo.c: options, key files and passphrases, the clock,
 * and output. Every decision about the repository is repo.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "bundle_io.h"
#include "args.h"
#include "cli.h"
#include "cmd.h"
#include "fileio.h"
#include "json.h"
#include "keyfile.h"
#include "passphrase.h"
#include "repo.h"
#include "tuftime.h"

#define PROG "upkeep-server"
/* Largest --custom-file and public key file read. */
#define SMALL_FILE_MAX (1024 * 1024)
/* Largest --targets-from list. */
#define LIST_FILE_MAX (256 * 1024 * 1024)

/* ---- options ---- */

enum opt_id {
	O_NONE,
	O_REPO,
	O_ONLINE,
	O_PASSFILE,
	O_LOCK_TIMEOUT,
	O_EXPIRES,
	O_JSON,
	O_HELP,
	O_VERSION,
	O_ROOT_KEY,
	O_ROOT_THRESHOLD,
	O_TARGETS_KEY,
	O_TARGETS_THRESHOLD,
	O_SNAPSHOT_KEY,
	O_SNAPSHOT_THRESHOLD,
	O_TIMESTAMP_KEY,
	O_TIMESTAMP_THRESHOLD,
	O_KEY,
	O_SIGNING_KEY,
	O_ROLE,
	O_NAME,
	O_TARGETS_FROM,
	O_CUSTOM,
	O_CUSTOM_FILE,
	O_PATHS,
	O_PREFIXES,
	O_THRESHOLD,
	O_TERMINATING,
	O_DELEGATOR,
	O_ROLE_KEY,
	O_REMOVE,
	O_ADD,
	O_AT,
	O_NO_RECOVER,
	O_MIXED_REASON,
	O_ADVISORY,
	O_HASHES,
	O_COUNT,
};

static const struct upks_optdef optdefs[] = {
	{ "repo", O_REPO, UPKS_OPT_VALUE },
	{ "online-keys", O_ONLINE, UPKS_OPT_VALUE },
	{ "passphrase-file", O_PASSFILE, UPKS_OPT_VALUE },
	{ "lock-timeout", O_LOCK_TIMEOUT, UPKS_OPT_VALUE },
	{ "expires", O_EXPIRES, UPKS_OPT_LIST },
	{ "json", O_JSON, UPKS_OPT_FLAG },
	{ "help", O_HELP, UPKS_OPT_FLAG },
	{ "version", O_VERSION, UPKS_OPT_FLAG },
	{ "root-key", O_ROOT_KEY, UPKS_OPT_LIST },
	{ "root-threshold", O_ROOT_THRESHOLD, UPKS_OPT_VALUE },
	{ "targets-key", O_TARGETS_KEY, UPKS_OPT_LIST },
	{ "targets-threshold", O_TARGETS_THRESHOLD, UPKS_OPT_VALUE },
	{ "snapshot-key", O_SNAPSHOT_KEY, UPKS_OPT_LIST },
	{ "snapshot-threshold", O_SNAPSHOT_THRESHOLD, UPKS_OPT_VALUE },
	{ "timestamp-key", O_TIMESTAMP_KEY, UPKS_OPT_LIST },
	{ "timestamp-threshold", O_TIMESTAMP_THRESHOLD, UPKS_OPT_VALUE },
	{ "key", O_KEY, UPKS_OPT_LIST },
	{ "signing-key", O_SIGNING_KEY, UPKS_OPT_LIST },
	{ "role", O_ROLE, UPKS_OPT_VALUE },
	{ "name", O_NAME, UPKS_OPT_PAIR },
	{ "targets-from", O_TARGETS_FROM, UPKS_OPT_VALUE },
	{ "custom", O_CUSTOM, UPKS_OPT_VALUE },
	{ "custom-file", O_CUSTOM_FILE, UPKS_OPT_VALUE },
	{ "paths", O_PATHS, UPKS_OPT_LIST },
	{ "path-hash-prefixes", O_PREFIXES, UPKS_OPT_LIST },
	{ "threshold", O_THRESHOLD, UPKS_OPT_VALUE },
	{ "terminating", O_TERMINATING, UPKS_OPT_FLAG },
	{ "delegator", O_DELEGATOR, UPKS_OPT_VALUE },
	{ "role-key", O_ROLE_KEY, UPKS_OPT_LIST },
	{ "remove", O_REMOVE, UPKS_OPT_LIST },
	{ "add", O_ADD, UPKS_OPT_LIST },
	{ "at", O_AT, UPKS_OPT_VALUE },
	{ "no-recover", O_NO_RECOVER, UPKS_OPT_FLAG },
	{ "mixed-reason", O_MIXED_REASON, UPKS_OPT_VALUE },
	{ "advisory", O_ADVISORY, UPKS_OPT_VALUE },
	{ "hashes", O_HASHES, UPKS_OPT_VALUE },
};

_Static_assert(O_COUNT <= UPKS_ARGS_MAX, "too many options for struct upks_args");

struct command {
	const char *name;
	int (*run)(struct upks_args *a);
	const char *usage;   /* after "upkeep-server NAME " */
	const char *summary; /* one sentence */
	const char *help;    /* option lines */
	const enum opt_id *opts;
	bool operands; /* takes operands; if not, list options are greedy */
};

static const char *opt_name(enum opt_id id)
{
	for (size_t i = 0; i < UPK_ARRAY_SIZE(optdefs); i++) {
		if (optdefs[i].id == (int)id)
			return optdefs[i].name;
	}
	return "?";
}

static bool accepts(const void *ctx, int id)
{
	const struct command *c = ctx;

	if (id == O_HELP || id == O_VERSION)
		return true;
	for (const enum opt_id *p = c->opts; *p; p++) {
		if ((int)*p == id)
			return true;
	}
	return false;
}

static void command_help(const void *ctx)
{
	const struct command *c = ctx;

	printf("Usage: %s %s %s\n\n%s\n\nOptions:\n%s"
	       "  --help                   show this help and exit\n"
	       "  --version                show the version and exit\n\n"
	       "Exit codes are CLI.md's: 0 ok, 1 I/O, 2 usage, keys or configuration, 3 lock\n"
	       "timeout, 10-13 verification (integrity, signature, rollback, expiry).\n"
	       "Manual: server/upkeep-server.1.md.\n",
	       PROG, c->name, c->usage, c->summary, c->help);
}

/*
 * Parse argv (argv[0] is the command name). Returns -1 to go on, else the
 * exit code (0 after --help or --version, 2 on a usage error).
 */
static int parse_args(const struct command *c, int argc, char **argv, struct upks_args *a)
{
	const struct upks_args_spec spec = {
		.prog = PROG,
		.cmd = c->name,
		.defs = optdefs,
		.n_defs = UPK_ARRAY_SIZE(optdefs),
		.operands = c->operands,
		.help_id = O_HELP,
		.version_id = O_VERSION,
		.version = UPKEEP_VERSION,
		.help = command_help,
		.accepts = accepts,
		.ctx = c,
	};

	return upks_args_parse(&spec, argc, argv, a);
}

/* ---- passphrases ---- */

/* --passphrase-file or UPKEEP_PASSPHRASE, read up front (for online keys too). */
static enum upk_err passphrase_given(const char *file, struct upkk_passphrase *p,
				     struct upk_diag *d)
{
	if (file)
		return upkk_passphrase_from_file(file, p, d);
	return upkk_passphrase_from_env("UPKEEP_PASSPHRASE", p, d);
}

/* The passphrase for an encrypted key file: given, else asked once on a terminal. */
static enum upk_err passphrase_for(const char *keyfile, struct upkk_passphrase *p,
				   struct upk_diag *d)
{
	char prompt[600];

	if (p->have)
		return UPK_OK;
	if (!isatty(STDIN_FILENO))
		return upk_diag_set(d, UPK_E_USAGE, keyfile, -1,
				    "the key is encrypted: give --passphrase-file F or set "
				    "UPKEEP_PASSPHRASE (stdin is not a terminal, so there is no "
				    "prompt)");
	snprintf(prompt, sizeof(prompt), "Passphrase for %.500s: ", keyfile);
	return upkk_passphrase_prompt(prompt, p, d);
}

/* ---- keys ---- */

struct keys {
	struct upks_repo_signer *signers;
	size_t n_signers;
	struct upkk_key **owned;
	size_t n_owned;
	json_t **pubs; /* owned references */
	size_t n_pubs;
	struct upkk_passphrase pass;
};

static void keys_done(struct keys *k)
{
	for (size_t i = 0; i < k->n_owned; i++)
		upkk_key_free(k->owned[i]);
	free(k->owned);
	free(k->signers);
	for (size_t i = 0; i < k->n_pubs; i++)
		json_decref(k->pubs[i]);
	free(k->pubs);
	upkk_passphrase_done(&k->pass);
}

/* Whether a key file holds a private key (our format), from its JSON. */
static enum upk_err key_file_kind(const char *path, json_t **ret_obj, bool *ret_private,
				  struct upk_diag *d)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	json_t *obj = NULL;
	enum upk_err r = upk_io_read_file(path, SMALL_FILE_MAX, &b, NULL, d);

	if (r == UPK_E_NOT_FOUND)
		return upk_diag_set(d, UPK_E_USAGE, path, -1, "no such key file");
	if (r)
		return r;
	r = upk_json_parse(b.data, b.len, SMALL_FILE_MAX, &obj, d);
	sodium_memzero(b.data, b.len);
	if (r) {
		upk_diag_prefix_where(d, path);
		d->err = UPK_E_KEYFILE;
		return r == UPK_E_NOMEM ? r : UPK_E_KEYFILE;
	}
	if (!json_is_object(obj)) {
		json_decref(obj);
		return upk_diag_set(d, UPK_E_KEYFILE, path, -1,
				    "neither a private key file nor a TUF public key");
	}
	*ret_private = json_object_get(obj, "upkeep_private_key") != NULL;
	if (*ret_private) {
		json_decref(obj); /* holds the secret of an unencrypted key: not kept */
		obj = NULL;
	}
	*ret_obj = obj;
	return UPK_OK;
}

/* Load a private key file for signing (once per key id); its public key object in *ret_pub. */
static enum upk_err load_private(struct keys *k, const char *path, json_t **ret_pub,
				 struct upk_diag *d)
{
	_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;
	struct upkk_key *key = NULL;
	void *n;
	enum upk_err r = upkk_file_read(path, &f, d);

	if (r == UPK_E_NOT_FOUND)
		return upk_diag_set(d, UPK_E_USAGE, path, -1, "no such key file");
	if (r)
		return r;
	for (size_t i = 0; i < k->n_signers; i++) {
		if (strcmp(k->signers[i].key->keyid, f->keyid) == 0) {
			if (ret_pub)
				*ret_pub = k->signers[i].key->public_obj;
			return UPK_OK;
		}
	}
	if (f->encrypted) {
		r = passphrase_for(path, &k->pass, d);
		if (r)
			return r;
	}
	r = upkk_file_open(f, k->pass.data, k->pass.len, &key, d);
	if (r) {
		upk_diag_prefix_where(d, path);
		return r;
	}
	n = reallocarray(k->owned, k->n_owned + 1, sizeof(*k->owned));
	if (!n) {
		upkk_key_free(key);
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, "out of memory");
	}
	k->owned = n;
	k->owned[k->n_owned++] = key;
	n = reallocarray(k->signers, k->n_signers + 1, sizeof(*k->signers));
	if (!n)
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, "out of memory");
	k->signers = n;
	k->signers[k->n_signers].key = key;
	k->signers[k->n_signers].origin = path;
	k->n_signers++;
	if (ret_pub)
		*ret_pub = key->public_obj;
	return UPK_OK;
}

static enum upk_err keep_pub(struct keys *k, json_t *obj, struct upk_diag *d)
{
	void *n = reallocarray(k->pubs, k->n_pubs + 1, sizeof(*k->pubs));

	if (!n) {
		json_decref(obj);
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, "out of memory");
	}
	k->pubs = n;
	k->pubs[k->n_pubs++] = obj;
	return UPK_OK;
}

/*
 * A public key from a file: a TUF public key JSON, or the public half of a
 * private key file (not decrypted). With `sign`, a private key file is also
 * loaded for signing. The object is appended to k->pubs.
 */
static enum upk_err load_public(struct keys *k, const char *path, bool sign, struct upk_diag *d)
{
	json_t *obj = NULL, *pub = NULL;
	bool priv = false;
	enum upk_err r = key_file_kind(path, &obj, &priv, d);

	if (r)
		return r;
	if (!priv)
		return keep_pub(k, obj, d);
	if (sign) {
		r = load_private(k, path, &pub, d);
		if (r)
			return r;
		return keep_pub(k, json_incref(pub), d);
	} else {
		_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;

		r = upkk_file_read(path, &f, d);
		if (r)
			return r;
		return keep_pub(k, json_incref(f->public_obj), d);
	}
}

/* ---- common option handling ---- */

static int report(struct upk_diag *d)
{
	return upk_cli_report(PROG, d);
}

static int out_of_memory(void)
{
	struct upk_diag d;

	upk_diag_clear(&d);
	upk_diag_set(&d, UPK_E_NOMEM, NULL, -1, "out of memory");
	return report(&d);
}

/* A decimal number in [min, max], digits only. */
static bool parse_num(const char *s, long long min, long long max, long long *ret)
{
	long long v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > max)
			return false;
	}
	if (v < min)
		return false;
	*ret = v;
	return true;
}

struct common {
	struct upks_repo_ctx ctx;
	struct upks_repo_expiry *expiries;
	char **expiry_roles;
	size_t n_expiries;
	struct keys keys;
};

static void common_done(struct common *c)
{
	for (size_t i = 0; c->expiry_roles && i < c->n_expiries; i++)
		free(c->expiry_roles[i]);
	free(c->expiry_roles);
	free(c->expiries);
	keys_done(&c->keys);
}

static void arm_failpoint(void)
{
#ifndef NDEBUG
	const char *fp = getenv("UPKEEP_FAILPOINT");
	long long n;

	/* Test builds only: kill this process at the n-th write step
	 * (tests/cli/test_repo_crash.sh). */
	if (fp && parse_num(fp, 1, 1000000000, &n))
		(void)upks_repo_failpoint_arm((long)n);
#endif
}

/*
 * --repo, --lock-timeout, --expires, --passphrase-file and the online keys
 * directory (--online-keys or UPKEEP_ONLINE_KEYS; required when need_online).
 * Returns -1 to go on, else the exit code.
 */
static int common_setup(const char *cmd, struct upks_args *a, struct common *c, bool need_online)
{
	const char *online = a->val[O_ONLINE] ? a->val[O_ONLINE] : getenv("UPKEEP_ONLINE_KEYS");
	struct upks_strlist *ex = &a->list[O_EXPIRES];
	struct upk_diag d;
	long long secs = UPKS_REPO_LOCK_TIMEOUT_MS / 1000;

	upk_diag_clear(&d);
	memset(c, 0, sizeof(*c));
	if (!a->val[O_REPO])
		return upk_cli_usage_error(PROG, "%s: --repo DIR is required", cmd);
	if (a->val[O_LOCK_TIMEOUT] && !parse_num(a->val[O_LOCK_TIMEOUT], 0, 86400, &secs))
		return upk_cli_usage_error(PROG,
					   "%s: --lock-timeout: '%s' is not 0 to 86400 seconds",
					   cmd, a->val[O_LOCK_TIMEOUT]);
	if (online && !online[0])
		online = NULL;
	if (need_online && !online)
		return upk_cli_usage_error(
			PROG,
			"%s: --online-keys DIR (or UPKEEP_ONLINE_KEYS) is required: "
			"every change ends by re-signing snapshot and timestamp",
			cmd);
	c->expiries = calloc(ex->n ? ex->n : 1, sizeof(*c->expiries));
	c->expiry_roles = calloc(ex->n ? ex->n : 1, sizeof(*c->expiry_roles));
	if (!c->expiries || !c->expiry_roles)
		return out_of_memory();
	c->n_expiries = ex->n;
	for (size_t i = 0; i < ex->n; i++) {
		const char *eq = strchr(ex->v[i], '=');

		if (!eq || eq == ex->v[i] || eq - ex->v[i] > 128)
			return upk_cli_usage_error(PROG, "%s: --expires '%s' is not ROLE=DURATION",
						   cmd, ex->v[i]);
		if (upk_duration_parse(eq + 1, false, &c->expiries[i].seconds, &d))
			return upk_cli_usage_error(PROG, "%s: --expires: %s", cmd, d.reason);
		c->expiry_roles[i] = strndup(ex->v[i], (size_t)(eq - ex->v[i]));
		if (!c->expiry_roles[i])
			return out_of_memory();
		c->expiries[i].role = c->expiry_roles[i];
	}
	if (passphrase_given(a->val[O_PASSFILE], &c->keys.pass, &d))
		return report(&d);
	c->ctx.repo = a->val[O_REPO];
	c->ctx.now = (int64_t)time(NULL);
	c->ctx.lock_timeout_ms = (int)(secs * 1000);
	c->ctx.online_dir = online;
	c->ctx.passphrase = c->keys.pass.have ? c->keys.pass.data : NULL;
	c->ctx.passphrase_len = c->keys.pass.len;
	c->ctx.expiries = c->expiries;
	c->ctx.n_expiries = ex->n;
	arm_failpoint();
	return -1;
}

/* Signers into the context once all keys are loaded (the arrays may have moved). */
static void common_signers(struct common *c)
{
	c->ctx.signers = c->keys.signers;
	c->ctx.n_signers = c->keys.n_signers;
	c->ctx.passphrase = c->keys.pass.have ? c->keys.pass.data : NULL;
	c->ctx.passphrase_len = c->keys.pass.len;
}

static int load_signers(struct common *c, const struct upks_strlist *l, struct upk_diag *d)
{
	for (size_t i = 0; i < l->n; i++) {
		if (load_private(&c->keys, l->v[i], NULL, d))
			return report(d);
	}
	return -1;
}

static int threshold_arg(const char *cmd, const char *s, enum opt_id id, long long dflt,
			 int64_t *ret)
{
	long long v = dflt;

	if (s && !parse_num(s, 1, 10000, &v))
		return upk_cli_usage_error(PROG, "%s: --%s: '%s' is not a number from 1 to 10000",
					   cmd, opt_name(id), s);
	*ret = v;
	return -1;
}

/* ---- output ---- */

static void print_json(json_t *v)
{
	_cleanup_buf_ struct upk_buf out = UPK_BUF_INIT;

	if (v && upk_json_serialize(v, &out) == UPK_OK)
		fwrite(out.data, 1, out.len, stdout);
}

static int print_result(struct upks_args *a, const char *what, const struct upks_repo_result *res)
{
	if (a->flag[O_JSON]) {
		_cleanup_json_ json_t *o =
			json_pack("{s:I, s:I, s:I, s:I}", "root", (json_int_t)res->root, "targets",
				  (json_int_t)res->targets, "snapshot", (json_int_t)res->snapshot,
				  "timestamp", (json_int_t)res->timestamp);

		if (o && res->role[0] &&
		    json_object_set_new(o, "role",
					json_pack("{s:s, s:I, s:I}", "name", res->role, "version",
						  (json_int_t)res->role_version, "targets",
						  (json_int_t)res->role_targets)))
			return out_of_memory();
		if (!o)
			return out_of_memory();
		print_json(o);
	} else {
		printf("%s", what);
		if (res->role[0])
			printf(": %s version %lld (%zu targets)", res->role,
			       (long long)res->role_version, res->role_targets);
		printf("; root %lld, targets %lld, snapshot %lld, timestamp %lld\n",
		       (long long)res->root, (long long)res->targets, (long long)res->snapshot,
		       (long long)res->timestamp);
	}
	return 0;
}

/* A failed write to stdout must not look like success. */
static int finish(int code)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		struct upk_diag d;

		upk_diag_clear(&d);
		upk_diag_set(&d, UPK_E_IO, "stdout", -1, "write failed: %s", strerror(errno));
		return code ? code : report(&d);
	}
	return code;
}

/* ---- init ---- */

static int run_init(struct upks_args *a)
{
	static const enum opt_id key_opt[UPK_ROLE_COUNT] = {
		[UPK_ROLE_ROOT] = O_ROOT_KEY,
		[UPK_ROLE_TIMESTAMP] = O_TIMESTAMP_KEY,
		[UPK_ROLE_SNAPSHOT] = O_SNAPSHOT_KEY,
		[UPK_ROLE_TARGETS] = O_TARGETS_KEY,
	};
	static const enum opt_id thr_opt[UPK_ROLE_COUNT] = {
		[UPK_ROLE_ROOT] = O_ROOT_THRESHOLD,
		[UPK_ROLE_TIMESTAMP] = O_TIMESTAMP_THRESHOLD,
		[UPK_ROLE_SNAPSHOT] = O_SNAPSHOT_THRESHOLD,
		[UPK_ROLE_TARGETS] = O_TARGETS_THRESHOLD,
	};
	struct upks_repo_role_spec roles[UPK_ROLE_COUNT];
	size_t start[UPK_ROLE_COUNT];
	struct upks_repo_result res;
	struct common c;
	struct upk_diag d;
	int code;

	upk_diag_clear(&d);
	code = common_setup("init", a, &c, false);
	if (code >= 0) {
		common_done(&c);
		return code;
	}
	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		const struct upks_strlist *l = &a->list[key_opt[i]];

		if (!l->n) {
			common_done(&c);
			return upk_cli_usage_error(PROG, "init: --%s K is required",
						   opt_name(key_opt[i]));
		}
		code = threshold_arg("init", a->val[thr_opt[i]], thr_opt[i], 1,
				     &roles[i].threshold);
		if (code >= 0) {
			common_done(&c);
			return code;
		}
		start[i] = c.keys.n_pubs;
		for (size_t k = 0; k < l->n; k++) {
			if (load_public(&c.keys, l->v[k], true, &d)) {
				common_done(&c);
				return report(&d);
			}
		}
	}
	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		roles[i].keys = c.keys.pubs + start[i];
		roles[i].n_keys = a->list[key_opt[i]].n;
	}
	common_signers(&c);
	if (upks_repo_init(&c.ctx, roles, &res, &d)) {
		common_done(&c);
		return report(&d);
	}
	common_done(&c);
	return print_result(a, "initialized", &res);
}

/* ---- publish ---- */

/* Lines "PATH<TAB>FILE" of a list file; buf keeps the strings the entries point to. */
static int read_target_list(const char *path, struct upk_buf *buf, struct upks_strlist *pairs)
{
	struct upk_diag d;
	size_t line = 0;
	char *p, *end;

	upk_diag_clear(&d);
	if (upk_io_read_file(path, LIST_FILE_MAX, buf, NULL, &d)) {
		if (d.err == UPK_E_NOT_FOUND)
			d.err = UPK_E_USAGE;
		return report(&d);
	}
	if (memchr(buf->data, 0, buf->len)) {
		upk_diag_set(&d, UPK_E_USAGE, path, -1, "holds a NUL byte");
		return report(&d);
	}
	p = (char *)buf->data;
	end = p + buf->len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *tab;

		line++;
		if (!nl)
			nl = end;
		*nl = 0;
		if (nl > p && nl[-1] == '\r')
			nl[-1] = 0;
		if (*p) {
			tab = strchr(p, '\t');
			if (!tab || strchr(tab + 1, '\t') || !tab[1] || tab == p) {
				upk_diag_set(&d, UPK_E_USAGE, path, -1,
					     "line %zu is not PATH<TAB>FILE", line);
				return report(&d);
			}
			*tab = 0;
			if (upks_strlist_add(pairs, p) || upks_strlist_add(pairs, tab + 1))
				return out_of_memory();
		}
		p = nl + 1;
	}
	return -1;
}

/* --custom JSON or --custom-file F: a JSON object. */
static int read_custom(struct upks_args *a, json_t **ret)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	const char *src = a->val[O_CUSTOM];
	struct upk_diag d;
	json_t *v = NULL;

	upk_diag_clear(&d);
	if (a->val[O_CUSTOM] && a->val[O_CUSTOM_FILE])
		return upk_cli_usage_error(PROG, "publish: --custom and --custom-file exclude "
						 "each other");
	if (a->val[O_CUSTOM_FILE]) {
		if (upk_io_read_file(a->val[O_CUSTOM_FILE], SMALL_FILE_MAX, &b, NULL, &d)) {
			if (d.err == UPK_E_NOT_FOUND)
				d.err = UPK_E_USAGE;
			return report(&d);
		}
		src = (const char *)b.data;
	}
	if (!src)
		return -1;
	if (upk_json_parse((const uint8_t *)src, strlen(src), SMALL_FILE_MAX, &v, &d)) {
		upk_diag_set(&d, UPK_E_USAGE,
			     a->val[O_CUSTOM_FILE] ? a->val[O_CUSTOM_FILE] : "--custom", -1,
			     "custom metadata is not JSON");
		return report(&d);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		return upk_cli_usage_error(PROG, "publish: custom metadata must be a JSON object");
	}
	*ret = v;
	return -1;
}

static bool is_bundle_file(const char *file)
{
	size_t n = strlen(file);

	return n > 4 && strcmp(file + n - 4, ".upk") == 0;
}

/*
 * Targets whose FILE is a bundle (*.upk) are checked in full, as a device
 * would check them (header, every chunk, every byte), and get
 * custom.upkeep from the bundle, with --mixed-reason and --advisory
 * applied, under the publishing rules of upks_bundle_custom. Each such
 * target's custom object goes into customs[i] (the caller releases them).
 * Returns -1 to go on, else the exit code; nothing is written either way.
 */
static int prepare_bundles(struct upks_args *a, const struct upks_repo_target_in *targets, size_t n,
			   const json_t *custom, json_t **customs)
{
	_cleanup_json_ json_t *advisory = NULL;
	size_t bundles = 0;
	struct upk_diag d;

	upk_diag_clear(&d);
	if (a->val[O_ADVISORY]) {
		_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;

		if (upk_io_read_file(a->val[O_ADVISORY], SMALL_FILE_MAX, &b, NULL, &d)) {
			if (d.err == UPK_E_NOT_FOUND)
				d.err = UPK_E_USAGE;
			return report(&d);
		}
		if (upk_bundle_advisory_parse(b.data, b.len, &advisory, &d)) {
			upk_diag_prefix_where(&d, a->val[O_ADVISORY]);
			return report(&d);
		}
	}
	for (size_t i = 0; i < n; i++) {
		_cleanup_(upks_bundle_closep) struct upks_bundle *b = NULL;
		json_t *up = NULL;
		const char *seg = strrchr(targets[i].path, '/');
		char name[2 * UPK_BUNDLE_NAME_MAX + UPK_SEMVER_MAX_LEN];

		if (!is_bundle_file(targets[i].file))
			continue;
		bundles++;
		if (custom && json_object_get(custom, "upkeep"))
			return upk_cli_usage_error(PROG,
						   "publish: --custom must not hold \"upkeep\" "
						   "for a bundle: it comes from the bundle");
		if (upks_bundle_open(targets[i].file, &b, &d) || upks_bundle_verify(b, NULL, &d) ||
		    upks_bundle_target_name(b, name, sizeof(name), &d)) {
			if (d.err == UPK_E_NOT_FOUND)
				d.err = UPK_E_USAGE;
			return report(&d);
		}
		/* DESIGN.md: a release is the target <product>-<version>.upk. */
		if (strcmp(seg ? seg + 1 : targets[i].path, name) != 0) {
			upk_diag_set(&d, UPK_E_USAGE, targets[i].path, -1,
				     "the bundle is %s; its target path must end with that name",
				     name);
			return report(&d);
		}
		if (upks_bundle_custom(b, a->val[O_MIXED_REASON], advisory, &up, &d))
			return report(&d);
		customs[i] = custom ? json_deep_copy(custom) : json_object();
		if (!customs[i] || json_object_set_new(customs[i], "upkeep", up))
			return out_of_memory();
	}
	if (!bundles && (a->val[O_MIXED_REASON] || a->val[O_ADVISORY]))
		return upk_cli_usage_error(PROG, "publish: --mixed-reason and --advisory apply to "
						 "bundles (FILE.upk) only");
	return -1;
}

static int run_publish(struct upks_args *a)
{
	_cleanup_buf_ struct upk_buf listbuf = UPK_BUF_INIT;
	_cleanup_json_ json_t *custom = NULL;
	_cleanup_free_ struct upks_repo_target_in *targets = NULL;
	_cleanup_free_ json_t **customs = NULL;
	struct upks_strlist pairs = { 0 };
	struct upks_repo_publish_req req = { 0 };
	struct upks_repo_result res;
	struct common c;
	struct upk_diag d;
	size_t n = 0, total;
	int code;

	upk_diag_clear(&d);
	/* Checked before any file (passphrase, list, keys, targets) is read. */
	req.hashes = UPKS_REPO_HASHES_ALL;
	if (a->val[O_HASHES] && upks_repo_hashes_parse(a->val[O_HASHES], &req.hashes, &d))
		return upk_cli_usage_error(PROG, "publish: %s", d.reason);
	code = common_setup("publish", a, &c, true);
	if (code < 0 && !a->list[O_KEY].n && !a->list[O_SIGNING_KEY].n)
		code = upk_cli_usage_error(PROG, "publish: --key K is required (the role's keys)");
	if (code < 0 && a->val[O_TARGETS_FROM])
		code = read_target_list(a->val[O_TARGETS_FROM], &listbuf, &pairs);
	if (code < 0)
		code = read_custom(a, &custom);
	if (code >= 0) {
		free(pairs.v);
		common_done(&c);
		return code;
	}
	total = a->list[O_NAME].n / 2 + pairs.n / 2 + a->operands.n;
	if (total == 0) {
		free(pairs.v);
		common_done(&c);
		return upk_cli_usage_error(PROG, "publish: nothing to publish (FILE..., --name "
						 "PATH FILE or --targets-from LIST)");
	}
	targets = calloc(total, sizeof(*targets));
	customs = calloc(total, sizeof(*customs));
	if (!targets || !customs) {
		free(pairs.v);
		common_done(&c);
		return out_of_memory();
	}
	for (size_t i = 0; i + 1 < a->list[O_NAME].n; i += 2)
		targets[n++] = (struct upks_repo_target_in){ a->list[O_NAME].v[i],
							     a->list[O_NAME].v[i + 1] };
	for (size_t i = 0; i + 1 < pairs.n; i += 2)
		targets[n++] = (struct upks_repo_target_in){ pairs.v[i], pairs.v[i + 1] };
	for (size_t i = 0; i < a->operands.n; i++) {
		const char *base = strrchr(a->operands.v[i], '/');

		targets[n++] = (struct upks_repo_target_in){ base ? base + 1 : a->operands.v[i],
							     a->operands.v[i] };
	}
	code = prepare_bundles(a, targets, n, custom, customs);
	if (code < 0)
		code = load_signers(&c, &a->list[O_KEY], &d);
	if (code < 0)
		code = load_signers(&c, &a->list[O_SIGNING_KEY], &d);
	if (code < 0) {
		common_signers(&c);
		req.role = a->val[O_ROLE];
		req.targets = targets;
		req.n_targets = n;
		req.custom = custom;
		req.customs = (const json_t *const *)customs;
		if (upks_repo_publish_with(&c.ctx, &req, &res, &d))
			code = report(&d);
	}
	for (size_t i = 0; i < n; i++) {
		if (customs[i])
			json_decref(customs[i]);
	}
	free(pairs.v);
	common_done(&c);
	if (code >= 0)
		return code;
	return print_result(a, "published", &res);
}

/* ---- yank ---- */

static int run_yank(struct upks_args *a)
{
	struct upks_repo_result res;
	struct common c;
	struct upk_diag d;
	int code;

	upk_diag_clear(&d);
	code = common_setup("yank", a, &c, true);
	if (code < 0 && !a->list[O_KEY].n && !a->list[O_SIGNING_KEY].n)
		code = upk_cli_usage_error(PROG, "yank: --key K is required (the role's keys)");
	if (code < 0 && !a->operands.n)
		code = upk_cli_usage_error(PROG, "yank: name the TARGET path(s) to remove");
	if (code < 0)
		code = load_signers(&c, &a->list[O_KEY], &d);
	if (code < 0)
		code = load_signers(&c, &a->list[O_SIGNING_KEY], &d);
	if (code < 0) {
		common_signers(&c);
		if (upks_repo_yank(&c.ctx, a->val[O_ROLE], a->operands.v, a->operands.n, &res, &d))
			code = report(&d);
	}
	common_done(&c);
	if (code >= 0)
		return code;
	return print_result(a, "yanked", &res);
}

/* ---- delegate ---- */

static int run_delegate(struct upks_args *a)
{
	struct upks_repo_delegate_req q = { 0 };
	struct upks_repo_result res;
	struct common c;
	struct upk_diag d;
	int code;

	upk_diag_clear(&d);
	code = common_setup("delegate", a, &c, true);
	if (code < 0 && !a->val[O_ROLE])
		code = upk_cli_usage_error(PROG, "delegate: --role NAME is required");
	if (code < 0 && !a->list[O_KEY].n)
		code = upk_cli_usage_error(PROG, "delegate: --key PUB is required (the role's "
						 "public keys)");
	if (code < 0 && !a->list[O_SIGNING_KEY].n)
		code = upk_cli_usage_error(PROG, "delegate: --signing-key K is required (the "
						 "delegator's keys)");
	if (code < 0 && !a->list[O_PATHS].n == !a->list[O_PREFIXES].n)
		code = upk_cli_usage_error(PROG, "delegate: give either --paths GLOB... or "
						 "--path-hash-prefixes HEX...");
	if (code < 0)
		code = threshold_arg("delegate", a->val[O_THRESHOLD], O_THRESHOLD, 1, &q.threshold);
	for (size_t i = 0; code < 0 && i < a->list[O_KEY].n; i++) {
		if (load_public(&c.keys, a->list[O_KEY].v[i], false, &d))
			code = report(&d);
	}
	if (code < 0)
		code = load_signers(&c, &a->list[O_SIGNING_KEY], &d);
	if (code < 0)
		code = load_signers(&c, &a->list[O_ROLE_KEY], &d);
	if (code < 0) {
		q.role = a->val[O_ROLE];
		q.delegator = a->val[O_DELEGATOR];
		q.keys = c.keys.pubs;
		q.n_keys = c.keys.n_pubs;
		q.paths = a->list[O_PATHS].v;
		q.n_paths = a->list[O_PATHS].n;
		q.prefixes = a->list[O_PREFIXES].v;
		q.n_prefixes = a->list[O_PREFIXES].n;
		q.terminating = a->flag[O_TERMINATING];
		common_signers(&c);
		if (upks_repo_delegate(&c.ctx, &q, &res, &d))
			code = report(&d);
	}
	common_done(&c);
	if (code >= 0)
		return code;
	return print_result(a, "delegated", &res);
}

/* ---- rotate ---- */

static int run_rotate(struct upks_args *a)
{
	_cleanup_free_ char(*ids)[UPK_KEYID_HEX_LEN + 1] = NULL;
	_cleanup_free_ const char **remove = NULL;
	struct upks_repo_rotate_req q = { 0 };
	struct upks_repo_result res;
	struct common c;
	struct upk_diag d;
	size_t n_remove = a->list[O_REMOVE].n;
	long long thr = 0;
	int code;

	upk_diag_clear(&d);
	code = common_setup("rotate", a, &c, true);
	if (code < 0 && !a->val[O_ROLE])
		code = upk_cli_usage_error(PROG, "rotate: --role ROLE is required");
	if (code < 0 && !a->list[O_SIGNING_KEY].n)
		code = upk_cli_usage_error(PROG, "rotate: --signing-key K is required");
	if (code < 0 && a->val[O_THRESHOLD] && !parse_num(a->val[O_THRESHOLD], 1, 10000, &thr))
		code = upk_cli_usage_error(PROG,
					   "rotate: --threshold: '%s' is not a number from "
					   "1 to 10000",
					   a->val[O_THRESHOLD]);
	ids = calloc(n_remove ? n_remove : 1, sizeof(*ids));
	remove = calloc(n_remove ? n_remove : 1, sizeof(*remove));
	if (code < 0 && (!ids || !remove))
		code = out_of_memory();
	/* --remove takes a key id, or a key file whose key id is meant. */
	for (size_t i = 0; code < 0 && i < n_remove; i++) {
		const char *s = a->list[O_REMOVE].v[i];
		json_t *obj;

		if (strlen(s) == UPK_KEYID_HEX_LEN && !upk_io_exists(s)) {
			remove[i] = s;
			continue;
		}
		if (load_public(&c.keys, s, false, &d)) {
			code = report(&d);
			break;
		}
		obj = c.keys.pubs[--c.keys.n_pubs];
		if (upk_key_id(obj, ids[i], &d)) {
			json_decref(obj);
			upk_diag_prefix_where(&d, s);
			code = report(&d);
			break;
		}
		json_decref(obj);
		remove[i] = ids[i];
	}
	for (size_t i = 0; code < 0 && i < a->list[O_ADD].n; i++) {
		if (load_public(&c.keys, a->list[O_ADD].v[i], false, &d))
			code = report(&d);
	}
	if (code < 0)
		code = load_signers(&c, &a->list[O_SIGNING_KEY], &d);
	if (code < 0) {
		q.role = a->val[O_ROLE];
		q.remove = remove;
		q.n_remove = n_remove;
		q.add = c.keys.pubs;
		q.n_add = c.keys.n_pubs;
		q.threshold = thr;
		common_signers(&c);
		if (upks_repo_rotate(&c.ctx, &q, &res, &d))
			code = report(&d);
	}
	common_done(&c);
	if (code >= 0)
		return code;
	return print_result(a, "rotated", &res);
}

/* ---- refresh ---- */

static int run_refresh(struct upks_args *a)
{
	struct upks_repo_result res;
	struct common c;
	struct upk_diag d;
	int code;

	upk_diag_clear(&d);
	code = common_setup("refresh", a, &c, true);
	if (code < 0) {
		common_signers(&c);
		if (upks_repo_refresh(&c.ctx, &res, &d))
			code = report(&d);
	}
	common_done(&c);
	if (code >= 0)
		return code;
	return print_result(a, "refreshed", &res);
}

/* ---- verify ---- */

/* --at: "YYYY-MM-DDTHH:MM:SSZ" or "@SECONDS". */
static bool parse_time(const char *s, int64_t *ret)
{
	long long v;

	if (s[0] == '@') {
		if (!parse_num(s + 1, 0, 253402300799LL, &v))
			return false;
		*ret = v;
		return true;
	}
	return upk_time_parse(s, ret) == UPK_OK;
}

static int run_verify(struct upks_args *a)
{
	struct upks_repo_report rep = { 0 };
	struct upk_diag d;
	int64_t now = (int64_t)time(NULL);
	long long secs = UPKS_REPO_LOCK_TIMEOUT_MS / 1000;
	int code;

	upk_diag_clear(&d);
	if (!a->val[O_REPO])
		return upk_cli_usage_error(PROG, "verify: --repo DIR is required");
	if (a->val[O_AT] && !parse_time(a->val[O_AT], &now))
		return upk_cli_usage_error(PROG,
					   "verify: --at: '%s' is neither "
					   "YYYY-MM-DDTHH:MM:SSZ nor @SECONDS",
					   a->val[O_AT]);
	if (a->val[O_LOCK_TIMEOUT] && !parse_num(a->val[O_LOCK_TIMEOUT], 0, 86400, &secs))
		return upk_cli_usage_error(PROG,
					   "verify: --lock-timeout: '%s' is not 0 to 86400 "
					   "seconds",
					   a->val[O_LOCK_TIMEOUT]);
	arm_failpoint();
	if (upks_repo_verify(a->val[O_REPO], now, !a->flag[O_NO_RECOVER], (int)(secs * 1000), &rep,
			     &d))
		return report(&d);
	code = upks_repo_report_exit_code(&rep);
	if (a->flag[O_JSON]) {
		_cleanup_json_ json_t *o =
			json_pack("{s:b, s:i, s:[], s:[], s:O, s:I, s:I}", "ok",
				  rep.n_problems == 0, "exit_code", code, "problems", "notes",
				  "roles", rep.roles, "delegated_roles", (json_int_t)rep.n_roles,
				  "targets", (json_int_t)rep.n_targets);
		bool ok = o != NULL;

		for (size_t i = 0; ok && i < rep.n_problems; i++) {
			const struct upks_repo_problem *p = &rep.problems[i];

			ok = !json_array_append_new(json_object_get(o, "problems"),
						    json_pack("{s:s, s:s, s:s}", "file", p->file,
							      "error", upk_err_name(p->err),
							      "reason", p->reason));
		}
		for (size_t i = 0; ok && i < rep.n_notes; i++)
			ok = !json_array_append_new(json_object_get(o, "notes"),
						    json_string(rep.notes[i]));
		if (!ok) {
			upks_repo_report_done(&rep);
			return out_of_memory();
		}
		print_json(o);
	} else {
		for (size_t i = 0; i < rep.n_problems; i++)
			fprintf(stderr, "%s: %s: %s (%s)\n", PROG, rep.problems[i].file,
				rep.problems[i].reason, upk_err_name(rep.problems[i].err));
		for (size_t i = 0; i < rep.n_notes; i++)
			printf("note: %s\n", rep.notes[i]);
		printf("%s: root %lld, timestamp %lld, snapshot %lld, targets %lld, %zu delegated "
		       "role%s, %zu target%s\n",
		       rep.n_problems ? "problems found" : "ok", (long long)rep.root_version,
		       (long long)rep.timestamp_version, (long long)rep.snapshot_version,
		       (long long)rep.targets_version, rep.n_roles, rep.n_roles == 1 ? "" : "s",
		       rep.n_targets, rep.n_targets == 1 ? "" : "s");
		if (rep.n_problems)
			printf("%zu problem%s\n", rep.n_problems, rep.n_problems == 1 ? "" : "s");
	}
	upks_repo_report_done(&rep);
	return code;
}

/* ---- the table ---- */

static const enum opt_id init_opts[] = { O_REPO,
					 O_ROOT_KEY,
					 O_ROOT_THRESHOLD,
					 O_TARGETS_KEY,
					 O_TARGETS_THRESHOLD,
					 O_SNAPSHOT_KEY,
					 O_SNAPSHOT_THRESHOLD,
					 O_TIMESTAMP_KEY,
					 O_TIMESTAMP_THRESHOLD,
					 O_ONLINE,
					 O_PASSFILE,
					 O_EXPIRES,
					 O_LOCK_TIMEOUT,
					 O_JSON,
					 0 };
static const enum opt_id publish_opts[] = { O_REPO,   O_KEY,	      O_SIGNING_KEY, O_ROLE,
					    O_NAME,   O_TARGETS_FROM, O_CUSTOM,	     O_CUSTOM_FILE,
					    O_ONLINE, O_PASSFILE,     O_EXPIRES,     O_LOCK_TIMEOUT,
					    O_JSON,   O_MIXED_REASON, O_ADVISORY,    O_HASHES,
					    0 };
static const enum opt_id yank_opts[] = { O_REPO,     O_KEY,	O_SIGNING_KEY,	O_ROLE, O_ONLINE,
					 O_PASSFILE, O_EXPIRES, O_LOCK_TIMEOUT, O_JSON, 0 };
static const enum opt_id delegate_opts[] = {
	O_REPO,	       O_ROLE,	       O_KEY,	      O_PATHS,	  O_PREFIXES, O_THRESHOLD,
	O_TERMINATING, O_DELEGATOR,    O_SIGNING_KEY, O_ROLE_KEY, O_ONLINE,   O_PASSFILE,
	O_EXPIRES,     O_LOCK_TIMEOUT, O_JSON,	      0
};
static const enum opt_id rotate_opts[] = { O_REPO,	O_ROLE,		O_REMOVE, O_ADD,
					   O_THRESHOLD, O_SIGNING_KEY,	O_ONLINE, O_PASSFILE,
					   O_EXPIRES,	O_LOCK_TIMEOUT, O_JSON,	  0 };
static const enum opt_id refresh_opts[] = { O_REPO,	    O_ONLINE, O_PASSFILE, O_EXPIRES,
					    O_LOCK_TIMEOUT, O_JSON,   0 };
static const enum opt_id verify_opts[] = { O_REPO, O_AT, O_JSON, O_NO_RECOVER, O_LOCK_TIMEOUT, 0 };

#define COMMON_HELP                                                                              \
	"  --repo DIR               the repository directory (required)\n"                       \
	"  --online-keys DIR        private snapshot/timestamp keys, found by key id; outside\n" \
	"                           the repository (default $UPKEEP_ONLINE_KEYS)\n"              \
	"  --passphrase-file F      passphrase of encrypted key files (first line; else\n"       \
	"                           $UPKEEP_PASSPHRASE, else asked when stdin is a terminal)\n"  \
	"  --expires ROLE=DURATION  lifetime of ROLE's new versions from now on (365d, 12h,\n"   \
	"                           30m, 3600s, 2w; defaults root 365d, targets 90d, snapshot\n" \
	"                           7d, timestamp 1d; delegated roles follow targets)\n"         \
	"  --lock-timeout SECONDS   wait this long for another command's lock (default 30)\n"    \
	"  --json                   print the new versions as JSON\n"

static const struct command commands[] = {
	{ "init", run_init,
	  "--repo DIR --root-key K... [--root-threshold N] --targets-key K... "
	  "[--targets-threshold N] --snapshot-key K... --timestamp-key K... [OPTIONS]",
	  "Create a repository: root, empty targets, snapshot and timestamp, version 1 each,\n"
	  "consistent snapshots on. A key file may be private (it signs) or public; each role\n"
	  "needs private keys for its threshold (snapshot and timestamp ones may come from\n"
	  "--online-keys).",
	  "  --root-key K             a root key file (repeat, or list several)\n"
	  "  --targets-key K          a targets key file\n"
	  "  --snapshot-key K         a snapshot key file\n"
	  "  --timestamp-key K        a timestamp key file\n"
	  "  --ROLE-threshold N       signatures ROLE needs (default 1)\n" COMMON_HELP,
	  init_opts, false },
	{ "publish", run_publish,
	  "--repo DIR --key K... [--role NAME] --online-keys DIR (FILE... | --name PATH FILE... "
	  "| --targets-from LIST) [OPTIONS]",
	  "Add or replace targets: store each file as targets/DIR/SHA256.NAME and\n"
	  "SHA512.NAME (one name per hash its entry lists: --hashes), sign a new version of\n"
	  "the role (targets unless --role) with its keys, then snapshot and timestamp with\n"
	  "the online keys. A FILE operand is published under its base name. A bundle\n"
	  "(FILE.upk) is checked in full and its target, named <product>-<version>.upk, gets\n"
	  "custom.upkeep from it; a mixed release needs a reason and a security release an\n"
	  "advisory.",
	  "  --key K                  a private key of the role (repeat for a threshold;\n"
	  "                           also --signing-key)\n"
	  "  --role NAME              a delegated role instead of targets\n"
	  "  --name PATH FILE         publish FILE as target PATH (repeat)\n"
	  "  --targets-from LIST      lines \"PATH<TAB>FILE\" (FILE relative to the current\n"
	  "                           directory)\n"
	  "  --custom JSON            custom metadata (an object) for every target of this call\n"
	  "  --custom-file F          the same, read from F\n"
	  "  --hashes LIST            the hashes every target of this call lists and is\n"
	  "                           stored under: sha256, sha512 or sha256,sha512 (the\n"
	  "                           default); sha256 alone is what python-tuf writes\n"
	  "  --mixed-reason TEXT      why a mixed bundle mixes security and feature changes\n"
	  "  --advisory FILE          the advisory of a security bundle (JSON; replaces the\n"
	  "                           bundle's own)\n" COMMON_HELP,
	  publish_opts, true },
	{ "delegate", run_delegate,
	  "--repo DIR --role NAME --key PUB... (--paths GLOB... | --path-hash-prefixes HEX...) "
	  "[--threshold N] [--terminating] [--delegator ROLE] --signing-key K... "
	  "[--role-key K...] --online-keys DIR [OPTIONS]",
	  "Add a delegated targets role, or change one in place: its keys, threshold, paths\n"
	  "and terminating flag, signed into the delegating role. A new role starts with an\n"
	  "empty version 1 signed by its own keys (--role-key).",
	  "  --role NAME              the delegated role (A-Z a-z 0-9 . _ ~ -)\n"
	  "  --key PUB                a public key of the role (public key JSON or key file)\n"
	  "  --paths GLOB             target paths it may sign ('*' and '?' per segment)\n"
	  "  --path-hash-prefixes HEX prefixes of the SHA-256 of the paths it may sign\n"
	  "  --threshold N            signatures the role needs (default 1)\n"
	  "  --terminating            clients stop searching after this role\n"
	  "  --delegator ROLE         the delegating role (default targets)\n"
	  "  --signing-key K          a private key of the delegator\n"
	  "  --role-key K             a private key of the role (new role, or new "
	  "keys)\n" COMMON_HELP,
	  delegate_opts, false },
	{ "rotate", run_rotate,
	  "--repo DIR --role ROLE [--remove KEYID...] [--add PUB...] [--threshold N] "
	  "--signing-key K... --online-keys DIR [OPTIONS]",
	  "Change the keys or threshold of any role (with no change: re-sign it to renew its\n"
	  "expiry). Top-level roles change in a new root version, signed by keys meeting the\n"
	  "thresholds of both the old and the new root; the role is then re-signed with its\n"
	  "new keys (snapshot and timestamp from --online-keys).",
	  "  --role ROLE              root, targets, snapshot, timestamp or a delegated role\n"
	  "  --remove KEYID           a key id (or a key file) to remove\n"
	  "  --add PUB                a public key (or key file) to add\n"
	  "  --threshold N            the new threshold\n"
	  "  --signing-key K          private keys: root keys (old and new) for a top-level\n"
	  "                           role, the delegator's for a delegated one, and the\n"
	  "                           role's new keys\n" COMMON_HELP,
	  rotate_opts, false },
	{ "yank", run_yank, "--repo DIR --key K... [--role NAME] --online-keys DIR TARGET...",
	  "Remove targets from the role's metadata (targets unless --role); the files stay.",
	  "  --key K                  a private key of the role (also --signing-key)\n"
	  "  --role NAME              a delegated role instead of targets\n" COMMON_HELP,
	  yank_opts, true },
	{ "refresh", run_refresh, "--repo DIR --online-keys DIR [OPTIONS]",
	  "Re-sign snapshot and timestamp with the online keys (new versions, new expiry).",
	  COMMON_HELP, refresh_opts, false },
	{ "verify", run_verify, "--repo DIR [--at TIME] [--json] [--no-recover]",
	  "Check the whole repository as a client would and list every problem: root chain,\n"
	  "signatures and thresholds, versions, lengths and hashes, expiry, delegations, and\n"
	  "every target file under the name of each hash its entry lists. Problems go to\n"
	  "stderr, one per line; the exit code is that of the first (a missing or malformed\n"
	  "file counts as integrity).",
	  "  --repo DIR               the repository directory (required)\n"
	  "  --at TIME                check expiry at TIME (YYYY-MM-DDTHH:MM:SSZ or @SECONDS)\n"
	  "  --json                   the report as JSON on stdout\n"
	  "  --no-recover             read only: do not take the lock or roll a journal forward\n"
	  "  --lock-timeout SECONDS   wait this long for another command's lock (default 30)\n",
	  verify_opts, false },
};

static int dispatch(const char *name, int argc, char **argv)
{
	for (size_t i = 0; i < UPK_ARRAY_SIZE(commands); i++) {
		struct upks_args a;
		int code;

		if (strcmp(commands[i].name, name) != 0)
			continue;
		memset(&a, 0, sizeof(a));
		code = parse_args(&commands[i], argc, argv, &a);
		if (code < 0)
			code = commands[i].run(&a);
		upks_args_done(&a);
		return finish(code);
	}
	return upk_cli_usage_error(PROG, "unknown command '%s'", name);
}

int upks_cmd_init(int argc, char **argv)
{
	return dispatch("init", argc, argv);
}

int upks_cmd_publish(int argc, char **argv)
{
	return dispatch("publish", argc, argv);
}

int upks_cmd_delegate(int argc, char **argv)
{
	return dispatch("delegate", argc, argv);
}

int upks_cmd_rotate(int argc, char **argv)
{
	return dispatch("rotate", argc, argv);
}

int upks_cmd_yank(int argc, char **argv)
{
	return dispatch("yank", argc, argv);
}

int upks_cmd_refresh(int argc, char **argv)
{
	return dispatch("refresh", argc, argv);
}

int upks_cmd_verify(int argc, char **argv)
{
	return dispatch("verify", argc, argv);
}
