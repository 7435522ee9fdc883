/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for server/repo: the pure helpers (durations, target paths, role
 * names and file names, delegation patterns against python-tuf's fnmatch
 * rule, hash prefixes, the half-lifetime rule) and, on a repository in a
 * temporary directory, what no command-line test reaches: serve's
 * upks_repo_refresh_if_due at chosen clock values, its lock and key
 * refusals, and the roll-forward of a commit killed at a failpoint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tmpdir.h"

#include "buf.h"
#include "fileio.h"
#include "json.h"
#include "keyfile.h"
#include "meta.h"
#include "repo.h"

/* ---- target paths ---- */

static void path_bad(const char *p)
{
	struct upk_diag d;

	upk_diag_clear(&d);
	print_message("rejecting target path \"%s\"\n", p);
	assert_int_equal(upks_repo_target_path_check(p, &d), UPK_E_USAGE);
	assert_true(d.reason[0] != 0);
}

static void test_target_path(void **state)
{
	char longname[200], longpath[UPKS_REPO_TARGET_PATH_MAX + 2], seg[300];

	(void)state;
	assert_int_equal(upks_repo_target_path_check("a", NULL), UPK_OK);
	assert_int_equal(upks_repo_target_path_check("fw/device-1.2.3.upk", NULL), UPK_OK);
	assert_int_equal(upks_repo_target_path_check("a/b/c/d.bin", NULL), UPK_OK);
	assert_int_equal(upks_repo_target_path_check(".hidden", NULL), UPK_OK);
	assert_int_equal(upks_repo_target_path_check("a/...", NULL), UPK_OK);
	assert_int_equal(upks_repo_target_path_check("a/..b", NULL), UPK_OK);
	assert_int_equal(upks_repo_target_path_check("x+y=z~_-", NULL), UPK_OK);
	path_bad("");
	path_bad("/a");
	path_bad("a/");
	path_bad("a//b");
	path_bad("..");
	path_bad("../a");
	path_bad("a/../b");
	path_bad("a/..");
	path_bad(".");
	path_bad("./a");
	path_bad("a/./b");
	path_bad("a\\b");
	path_bad("a b");
	path_bad("a\tb");
	path_bad("a\nb");
	path_bad("a%2fb");
	path_bad("a?b");
	path_bad("a#b");
	path_bad("a\x7f");
	path_bad("caf\xc3\xa9");
	/* Last segment: at most UPKS_REPO_TARGET_NAME_MAX bytes (it gets a 129-byte prefix). */
	memset(longname, 'n', sizeof(longname));
	longname[UPKS_REPO_TARGET_NAME_MAX] = 0;
	assert_int_equal(upks_repo_target_path_check(longname, NULL), UPK_OK);
	longname[UPKS_REPO_TARGET_NAME_MAX] = 'n';
	longname[UPKS_REPO_TARGET_NAME_MAX + 1] = 0;
	path_bad(longname);
	/* Directory segments: at most 255. */
	memset(seg, 'd', sizeof(seg));
	seg[255] = '/';
	seg[256] = 'x';
	seg[257] = 0;
	assert_int_equal(upks_repo_target_path_check(seg, NULL), UPK_OK);
	memset(seg, 'd', sizeof(seg));
	seg[256] = '/';
	seg[257] = 'x';
	seg[258] = 0;
	path_bad(seg);
	/* Whole path: at most UPKS_REPO_TARGET_PATH_MAX. */
	for (size_t i = 0; i < sizeof(longpath) - 1; i++)
		longpath[i] = (i % 100 == 99) ? '/' : 'p';
	longpath[UPKS_REPO_TARGET_PATH_MAX] = 0;
	assert_int_equal(upks_repo_target_path_check(longpath, NULL), UPK_OK);
	longpath[UPKS_REPO_TARGET_PATH_MAX] = 'p';
	longpath[UPKS_REPO_TARGET_PATH_MAX + 1] = 0;
	path_bad(longpath);
}

/* ---- role names and file names ---- */

static void test_role_name(void **state)
{
	char name[140];

	(void)state;
	assert_int_equal(upks_repo_role_name_check("releases", NULL), UPK_OK);
	assert_int_equal(upks_repo_role_name_check("rollout", NULL), UPK_OK);
	assert_int_equal(upks_repo_role_name_check("bins-0a.x_y~z", NULL), UPK_OK);
	assert_int_equal(upks_repo_role_name_check("", NULL), UPK_E_USAGE);
	assert_int_equal(upks_repo_role_name_check("root", NULL), UPK_E_USAGE);
	assert_int_equal(upks_repo_role_name_check("targets", NULL), UPK_E_USAGE);
	assert_int_equal(upks_repo_role_name_check("snapshot", NULL), UPK_E_USAGE);
	assert_int_equal(upks_repo_role_name_check("timestamp", NULL), UPK_E_USAGE);
	assert_int_equal(upks_repo_role_name_check(".x", NULL), UPK_E_USAGE);
	assert_int_equal(upks_repo_role_name_check("..", NULL), UPK_E_USAGE);
	assert_int_equal(upks_repo_role_name_check("a/b", NULL), UPK_E_USAGE);
	assert_int_equal(upks_repo_role_name_check("a b", NULL), UPK_E_USAGE);
	assert_int_equal(upks_repo_role_name_check("a%b", NULL), UPK_E_USAGE);
	memset(name, 'r', sizeof(name));
	name[128] = 0;
	assert_int_equal(upks_repo_role_name_check(name, NULL), UPK_OK);
	name[128] = 'r';
	name[129] = 0;
	assert_int_equal(upks_repo_role_name_check(name, NULL), UPK_E_USAGE);
}

static void test_meta_file_name(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(upks_repo_meta_file_name("targets", 3, buf, sizeof(buf)), 14);
	assert_string_equal(buf, "3.targets.json");
	upks_repo_meta_file_name("releases", 12, buf, sizeof(buf));
	assert_string_equal(buf, "12.releases.json");
	/* urllib.parse.quote(name, "") (python-tuf): '/' and ' ' escaped, upper-case hex. */
	upks_repo_meta_file_name("a/b c", 1, buf, sizeof(buf));
	assert_string_equal(buf, "1.a%2Fb%20c.json");
	upks_repo_meta_file_name("x~y_z-1.0", 1, buf, sizeof(buf));
	assert_string_equal(buf, "1.x~y_z-1.0.json");
	upks_repo_meta_file_name("caf\xc3\xa9", 2, buf, sizeof(buf));
	assert_string_equal(buf, "2.caf%C3%A9.json");
	/* Truncation reports the full length, like snprintf. */
	assert_int_equal(upks_repo_meta_file_name("releases", 12, buf, 5), 16);
	assert_string_equal(buf, "12.r");
}

/* ---- delegation patterns ---- */

static void test_glob_match(void **state)
{
	/* Expected values computed with python-tuf's rule (fnmatch per segment). */
	static const struct {
		const char *pattern, *path;
		bool match;
	} cases[] = {
		{ "*", "a", true },
		{ "*", "a/b", false },
		{ "*/*", "a/b", true },
		{ "a/*.bin", "a/x.bin", true },
		{ "a/*.bin", "a/x.binx", false },
		{ "a/*.bin", "b/x.bin", false },
		{ "a?c", "abc", true },
		{ "a?c", "ac", false },
		{ "*.*", ".hidden", true },
		{ "**", "a", true },
		{ "a*b*c", "aXbYc", true },
		{ "a*b*c", "aXbY", false },
		{ "*", "", true },
		{ "rel/*", "rel/r.bin", true },
		{ "rel/*", "rel/sub/r.bin", false },
		{ "rel/*/*", "rel/sub/r.bin", true },
		{ "fw/device-*.upk", "fw/device-1.2.upk", true },
		{ "fw/device-*.upk", "fw/other-1.2.upk", false },
		{ "exact", "exact", true },
		{ "exact", "exactly", false },
		{ "*x", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxy", false },
		{ "*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		print_message("%s ~ %s\n", cases[i].pattern, cases[i].path);
		assert_int_equal(upks_repo_glob_match(cases[i].pattern, cases[i].path),
				 cases[i].match);
	}
}

static void test_glob_check(void **state)
{
	static const char *const bad[] = { "",	 "/a",	 "a/",	 "a//b", "[ab]", "a{b,c}",
					   "!a", "+(a)", "@(a)", "a\\b", "a b",	 "a\x01" };

	(void)state;
	assert_int_equal(upks_repo_glob_check("rel/*", NULL), UPK_OK);
	assert_int_equal(upks_repo_glob_check("*", NULL), UPK_OK);
	assert_int_equal(upks_repo_glob_check("fw/device-?.upk", NULL), UPK_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		print_message("rejecting pattern \"%s\"\n", bad[i]);
		assert_int_equal(upks_repo_glob_check(bad[i], NULL), UPK_E_USAGE);
	}
}

static void test_delegation_allows(void **state)
{
	const char *paths[] = { "rel/*", "fw/*.upk" };
	/* sha256("fw/a.bin") = 17b7094c..., sha256("rel/r.bin") = 79721803... */
	const char *prefixes[] = { "17b7", "0" };
	struct upk_delegated_role dr;

	(void)state;
	memset(&dr, 0, sizeof(dr));
	dr.has_paths = true;
	dr.paths = paths;
	dr.n_paths = 2;
	assert_true(upks_repo_delegation_allows(&dr, "rel/x"));
	assert_true(upks_repo_delegation_allows(&dr, "fw/a.upk"));
	assert_false(upks_repo_delegation_allows(&dr, "fw/a.bin"));
	assert_false(upks_repo_delegation_allows(&dr, "rel/a/b"));
	dr.n_paths = 0;
	assert_false(upks_repo_delegation_allows(&dr, "rel/x"));

	memset(&dr, 0, sizeof(dr));
	dr.prefixes = prefixes;
	dr.n_prefixes = 2;
	assert_true(upks_repo_delegation_allows(&dr, "fw/a.bin"));
	assert_false(upks_repo_delegation_allows(&dr, "rel/r.bin"));
	prefixes[1] = "7972180";
	assert_true(upks_repo_delegation_allows(&dr, "rel/r.bin"));
	prefixes[1] = "7972181";
	assert_false(upks_repo_delegation_allows(&dr, "rel/r.bin"));
}

static void test_is_due(void **state)
{
	(void)state;
	/* Lifetime 1 day, expiring at 100000: due from 100000 - 43200 = 56800 on. */
	assert_false(upks_repo_is_due(0, 100000, 86400));
	assert_false(upks_repo_is_due(56799, 100000, 86400));
	assert_true(upks_repo_is_due(56800, 100000, 86400));
	assert_true(upks_repo_is_due(100000, 100000, 86400));
	assert_true(upks_repo_is_due(200000, 100000, 86400));
	assert_true(upks_repo_is_due(0, 100000, 0));
}

static void test_report_exit_code(void **state)
{
	struct upks_repo_problem p[2];
	struct upks_repo_report r;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(p, 0, sizeof(p));
	assert_int_equal(upks_repo_report_exit_code(&r), 0);
	r.problems = p;
	r.n_problems = 2;
	p[1].err = UPK_E_HASH;
	p[0].err = UPK_E_EXPIRED;
	assert_int_equal(upks_repo_report_exit_code(&r), 13);
	p[0].err = UPK_E_THRESHOLD;
	assert_int_equal(upks_repo_report_exit_code(&r), 11);
	p[0].err = UPK_E_ROLLBACK;
	assert_int_equal(upks_repo_report_exit_code(&r), 12);
	p[0].err = UPK_E_NOT_FOUND;
	assert_int_equal(upks_repo_report_exit_code(&r), 10);
	p[0].err = UPK_E_FORMAT;
	assert_int_equal(upks_repo_report_exit_code(&r), 10);
	p[0].err = UPK_E_LENGTH;
	assert_int_equal(upks_repo_report_exit_code(&r), 10);
}

/* ---- a repository on disk ---- */

#define T0 1893456000LL /* 2030-01-01T00:00:00Z */

struct repo_fx {
	char dir[256], repo[300], online[300], file[300];
	struct upkk_key *root, *targets, *snapshot, *timestamp;
	json_t *pub[4];
};

static void write_key_file(const char *path, const struct upkk_key *key, const char *pass)
{
	struct upkk_file *f = NULL;

	assert_int_equal(upkk_file_seal(key, pass, pass ? strlen(pass) : 0, NULL, &f, NULL),
			 UPK_OK);
	assert_int_equal(upkk_file_write(path, f, false, NULL), UPK_OK);
	upkk_file_free(f);
}

static int repo_setup(void **state)
{
	struct repo_fx *fx = calloc(1, sizeof(*fx));
	struct upkk_key **keys[4];
	char path[400];

	assert_non_null(fx);
	snprintf(fx->dir, sizeof(fx->dir), "%s/upk-repo-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->repo, sizeof(fx->repo), "%s/repo", fx->dir);
	snprintf(fx->online, sizeof(fx->online), "%s/online", fx->dir);
	snprintf(fx->file, sizeof(fx->file), "%s/payload.bin", fx->dir);
	assert_int_equal(mkdir(fx->online, 0700), 0);
	keys[0] = &fx->root;
	keys[1] = &fx->timestamp;
	keys[2] = &fx->snapshot;
	keys[3] = &fx->targets;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(upkk_key_generate(UPK_KEYTYPE_ED25519, keys[i], NULL), UPK_OK);
		fx->pub[i] = (*keys[i])->public_obj; /* index = enum upk_role */
	}
	snprintf(path, sizeof(path), "%s/snapshot.key", fx->online);
	write_key_file(path, fx->snapshot, NULL);
	snprintf(path, sizeof(path), "%s/timestamp.key", fx->online);
	write_key_file(path, fx->timestamp, NULL);
	assert_int_equal(upk_io_write_atomic(fx->file, "payload\n", 8, 0644, NULL), UPK_OK);
	*state = fx;
	return 0;
}

static int repo_teardown(void **state)
{
	struct repo_fx *fx = *state;
	upk_test_rmdir(fx->dir);
	upkk_key_free(fx->root);
	upkk_key_free(fx->targets);
	upkk_key_free(fx->snapshot);
	upkk_key_free(fx->timestamp);
	free(fx);
	return 0;
}

static void ctx_for(struct repo_fx *fx, struct upks_repo_signer *signers, size_t n, int64_t now,
		    struct upks_repo_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->repo = fx->repo;
	ctx->now = now;
	ctx->lock_timeout_ms = 5000;
	ctx->signers = signers;
	ctx->n_signers = n;
	ctx->online_dir = fx->online;
}

static void init_repo(struct repo_fx *fx)
{
	struct upks_repo_signer signers[2] = { { fx->root, "root" }, { fx->targets, "targets" } };
	struct upks_repo_role_spec roles[UPK_ROLE_COUNT];
	struct upks_repo_result res;
	struct upks_repo_ctx ctx;
	struct upk_diag d;

	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		roles[i].keys = &fx->pub[i];
		roles[i].n_keys = 1;
		roles[i].threshold = 1;
	}
	ctx_for(fx, signers, 2, T0, &ctx);
	upk_diag_clear(&d);
	assert_int_equal(upks_repo_init(&ctx, roles, &res, &d), UPK_OK);
	assert_int_equal(res.root, 1);
	assert_int_equal(res.timestamp, 1);
}

/* The current timestamp and snapshot versions, read as a client would (through verify). */
static void versions_at(struct repo_fx *fx, int64_t now, int64_t *ts, int64_t *snap,
			size_t *problems)
{
	struct upks_repo_report rep;

	assert_int_equal(upks_repo_verify(fx->repo, now, true, 1000, &rep, NULL), UPK_OK);
	*ts = rep.timestamp_version;
	*snap = rep.snapshot_version;
	*problems = rep.n_problems;
	for (size_t i = 0; i < rep.n_problems; i++)
		print_message("problem: %s: %s\n", rep.problems[i].file, rep.problems[i].reason);
	upks_repo_report_done(&rep);
}

static void test_refresh_if_due(void **state)
{
	struct repo_fx *fx = *state;
	int64_t ts, snap;
	size_t problems;
	bool changed = true;

	init_repo(fx);
	/* Nothing is due an hour in: nothing is written. */
	assert_int_equal(upks_repo_refresh_if_due(fx->repo, fx->online, T0 + 3600, &changed, NULL),
			 UPK_OK);
	assert_false(changed);
	versions_at(fx, T0 + 3600, &ts, &snap, &problems);
	assert_int_equal(ts, 1);
	assert_int_equal(snap, 1);
	/* One second before half of timestamp's day: still nothing. */
	assert_int_equal(upks_repo_refresh_if_due(fx->repo, fx->online, T0 + 43199, &changed, NULL),
			 UPK_OK);
	assert_false(changed);
	/* At half its lifetime the timestamp alone is re-signed. */
	assert_int_equal(upks_repo_refresh_if_due(fx->repo, fx->online, T0 + 43200, &changed, NULL),
			 UPK_OK);
	assert_true(changed);
	versions_at(fx, T0 + 43200, &ts, &snap, &problems);
	assert_int_equal(ts, 2);
	assert_int_equal(snap, 1);
	assert_int_equal(problems, 0);
	/* 3.5 days in: half of snapshot's week, so snapshot and timestamp. */
	assert_int_equal(
		upks_repo_refresh_if_due(fx->repo, fx->online, T0 + 302400, &changed, NULL),
		UPK_OK);
	assert_true(changed);
	versions_at(fx, T0 + 302400, &ts, &snap, &problems);
	assert_int_equal(ts, 3);
	assert_int_equal(snap, 2);
	assert_int_equal(problems, 0);
	/* Long after expiry it still repairs what it can: both re-signed, valid again. */
	assert_int_equal(
		upks_repo_refresh_if_due(fx->repo, fx->online, T0 + 20 * 86400, &changed, NULL),
		UPK_OK);
	assert_true(changed);
	versions_at(fx, T0 + 20 * 86400, &ts, &snap, &problems);
	assert_int_equal(ts, 4);
	assert_int_equal(snap, 3);
	assert_int_equal(problems, 0);
}

static void test_refresh_if_due_refusals(void **state)
{
	struct repo_fx *fx = *state;
	char path[400], lock[400];
	struct upk_diag d;
	bool changed = false;
	int fd = -1;

	init_repo(fx);
	/* No repository there. */
	upk_diag_clear(&d);
	snprintf(path, sizeof(path), "%s/none", fx->dir);
	assert_int_equal(upks_repo_refresh_if_due(path, fx->online, T0, &changed, &d),
			 UPK_E_CONFIG);
	/* The online directory inside the repository is refused. */
	snprintf(path, sizeof(path), "%s/metadata", fx->repo);
	assert_int_equal(upks_repo_refresh_if_due(fx->repo, path, T0 + 86400, &changed, &d),
			 UPK_E_CONFIG);
	assert_non_null(strstr(d.reason, "inside the repository"));
	/* An online directory without the keys. */
	snprintf(path, sizeof(path), "%s", fx->dir);
	assert_int_equal(upks_repo_refresh_if_due(fx->repo, path, T0 + 86400, &changed, &d),
			 UPK_E_CONFIG);
	/* Another command holds the lock: LOCKED after the short wait. */
	snprintf(lock, sizeof(lock), "%s/.upkeep/lock", fx->repo);
	assert_int_equal(upk_io_lock(lock, 0, &fd, NULL), UPK_OK);
	assert_int_equal(upks_repo_refresh_if_due(fx->repo, fx->online, T0 + 86400, &changed, &d),
			 UPK_E_LOCKED);
	assert_non_null(strstr(d.reason, "another upkeep-server command"));
	upk_io_unlock(fd);
	/* An encrypted online key cannot be opened without a passphrase. */
	snprintf(path, sizeof(path), "%s/timestamp.key", fx->online);
	assert_int_equal(unlink(path), 0);
	write_key_file(path, fx->timestamp, "online passphrase");
	assert_int_equal(upks_repo_refresh_if_due(fx->repo, fx->online, T0 + 86400, &changed, &d),
			 UPK_E_PASSPHRASE);
	/* Nothing changed through all of it. */
	{
		int64_t ts, snap;
		size_t problems;

		versions_at(fx, T0, &ts, &snap, &problems);
		assert_int_equal(ts, 1);
		assert_int_equal(snap, 1);
		assert_int_equal(problems, 0);
	}
}

/*
 * A publish killed right after its journal is durable (found by counting
 * failpoints up from 1 until the journal exists) is rolled forward by
 * serve's refresh_if_due, which reports a change even when nothing is due.
 */
static void test_refresh_if_due_rolls_forward(void **state)
{
	struct repo_fx *fx = *state;
	struct upks_repo_signer signers[1] = { { fx->targets, "targets" } };
	struct upks_repo_target_in tg = { "fw/payload.bin", fx->file };
	char journal[400];
	bool changed = false, journal_seen = false;
	int64_t ts, snap;
	size_t problems;

	if (!upks_repo_failpoint_arm(0)) {
		print_message("no failpoints in this build (NDEBUG)\n");
		skip();
	}
	init_repo(fx);
	snprintf(journal, sizeof(journal), "%s/.upkeep/commit.json", fx->repo);
	for (long n = 1; n < 200 && !journal_seen; n++) {
		pid_t pid = fork();
		int status = 0;

		assert_true(pid >= 0);
		if (pid == 0) {
			struct upks_repo_ctx ctx;

			ctx_for(fx, signers, 1, T0 + 60, &ctx);
			upks_repo_failpoint_arm(n);
			_exit(upks_repo_publish(&ctx, NULL, &tg, 1, NULL, NULL, NULL) == UPK_OK
				      ? 0
				      : 1);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status) || WEXITSTATUS(status) == 0);
		if (!WIFSIGNALED(status))
			fail_msg("publish completed before its journal was seen (n = %ld)", n);
		journal_seen = upk_io_exists(journal);
	}
	assert_true(journal_seen);
	assert_int_equal(upks_repo_refresh_if_due(fx->repo, fx->online, T0 + 120, &changed, NULL),
			 UPK_OK);
	assert_true(changed);
	assert_false(upk_io_exists(journal));
	versions_at(fx, T0 + 120, &ts, &snap, &problems);
	assert_int_equal(ts, 2);
	assert_int_equal(snap, 2);
	assert_int_equal(problems, 0);
}

/*
 * A bundle's custom.upkeep is built from the file as the caller read it; the
 * staged copy is verified again and must carry the same header. A file that
 * is no longer that bundle when it is staged is refused, nothing published.
 */
static void test_publish_changed_bundle(void **state)
{
	struct repo_fx *fx = *state;
	struct upks_repo_signer signers[1] = { { fx->targets, "targets" } };
	struct upks_repo_target_in tg = { "cam-1.0.0.upk", fx->file };
	struct upks_repo_ctx ctx;
	struct upk_diag d;
	json_t *custom =
		json_pack("{s:{s:{s:i, s:s}}}", "upkeep", "header", "length", 1024, "sha256",
			  "0000000000000000000000000000000000000000000000000000000000000000");
	const json_t *customs[1] = { custom };
	int64_t ts, snap;
	size_t problems;

	assert_non_null(custom);
	init_repo(fx);
	ctx_for(fx, signers, 1, T0 + 60, &ctx);
	upk_diag_clear(&d);
	assert_int_equal(upks_repo_publish_each(&ctx, NULL, &tg, customs, 1, NULL, NULL, &d),
			 UPK_E_USAGE);
	assert_non_null(strstr(d.reason, "changed while it was being published"));
	versions_at(fx, T0 + 60, &ts, &snap, &problems);
	assert_int_equal(ts, 1);
	assert_int_equal(snap, 1);
	assert_int_equal(problems, 0);
	json_decref(custom);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_path),
		cmocka_unit_test(test_role_name),
		cmocka_unit_test(test_meta_file_name),
		cmocka_unit_test(test_glob_match),
		cmocka_unit_test(test_glob_check),
		cmocka_unit_test(test_delegation_allows),
		cmocka_unit_test(test_is_due),
		cmocka_unit_test(test_report_exit_code),
		cmocka_unit_test_setup_teardown(test_refresh_if_due, repo_setup, repo_teardown),
		cmocka_unit_test_setup_teardown(test_refresh_if_due_refusals, repo_setup,
						repo_teardown),
		cmocka_unit_test_setup_teardown(test_publish_changed_bundle, repo_setup,
						repo_teardown),
		cmocka_unit_test_setup_teardown(test_refresh_if_due_rolls_forward, repo_setup,
						repo_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
