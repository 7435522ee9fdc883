/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The release side's repository: a TUF 1.0 repository directory written by
 * init, publish, delegate, rotate, yank and refresh, checked by verify, and
 * kept fresh by serve (upks_repo_refresh_if_due). The user-facing reference
 * is upkeep-server.1.md beside this file; the layout is CLI.md's.
 *
 * On disk (everything a client fetches is under metadata/ and targets/):
 *   metadata/N.root.json        every root version ever signed
 *   metadata/N.targets.json     top-level targets, consistent snapshots
 *   metadata/N.ROLE.json        delegated roles (ROLE url-quoted)
 *   metadata/N.snapshot.json
 *   metadata/timestamp.json     the one file that changes in place
 *   targets/DIR/SHA256.NAME     each target under the name of every hash its
 *   targets/DIR/SHA512.NAME     entry lists (publish --hashes), hard links of one file
 *   .upkeep/config.json         private: expiry durations per role
 *   .upkeep/lock                private: flock of every command
 *   .upkeep/commit.json         private: the journal of a commit in flight
 *   .upkeep/tmp/                private: files being written
 * The state is derived from the files alone: the highest N.root.json is the
 * current root; timestamp.json names the snapshot version, which names the
 * version of every targets role. Nothing else is trusted or cached.
 *
 * Crash safety. Every command that changes the repository holds
 * .upkeep/lock, rolls forward a journal left by a killed command, loads and
 * checks the state, computes every new metadata file in memory and signs it
 * (so any refusal happens before the first write), and then:
 *   1. writes the new target files and the new versioned metadata files
 *      (names no current metadata references, so nothing a client can reach
 *      changes), then syncfs() so they are durable;
 *   2. writes .upkeep/commit.json atomically: the bytes of the new
 *      N.root.json (if any), of config.json and of timestamp.json;
 *   3. applies it: root, config, then timestamp.json by atomic rename (the
 *      commit point for clients), and deletes the journal.
 * A kill at any instant leaves either the old state (the journal was not
 * written; the unreferenced new files are harmless and overwritten later)
 * or a journal that the next command, verify or serve's refresh rolls
 * forward. Between steps 3's root and timestamp writes a client that
 * fetches both may see the new root with the old timestamp; when the
 * command rotated timestamp or snapshot keys that pair does not verify and
 * the client retries, as after any network error.
 *
 * Keys. Offline keys (root, targets, delegated roles) are private keys the
 * caller loaded (keys/keyfile.h) and hands over as signers; every command
 * signs each role it changes with every given key of that role and refuses
 * (UPK_E_USAGE, nothing written) fewer than the threshold or a key that
 * belongs to no role the command signs. Online keys (snapshot, timestamp)
 * are private key files in a directory outside the repository, found there
 * by key id (UPK_E_CONFIG when the directory is inside the repository).
 *
 * Time: every function takes `now` (Unix seconds); nothing here reads the
 * clock. A new version of a role expires at now + its configured duration.
 *
 * Failures: one struct upk_diag naming the file and cause; exit codes per
 * CLI.md through upk_err_exit_code(). On failure the repository's served
 * state is unchanged.
 *
 * THREAD SAFETY: functions are reentrant; two processes (or threads) are
 * serialized by the repository lock. Fault injection (debug builds only,
 * never compiled with NDEBUG): upks_repo_failpoint_arm().
 */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "hash.h"
#include "tuftime.h"
#include "keyfile.h"
#include "meta.h"

/* ---- pure helpers ------------------------------------------------------ */

/* Defaults for `--expires` (seconds): root 365 d, targets 90 d, snapshot 7 d, timestamp 1 d. */
#define UPKS_REPO_EXPIRES_ROOT	    (365 * 86400LL)
#define UPKS_REPO_EXPIRES_TARGETS   (90 * 86400LL)
#define UPKS_REPO_EXPIRES_SNAPSHOT  (7 * 86400LL)
#define UPKS_REPO_EXPIRES_TIMESTAMP (1 * 86400LL)
/* Longest target path accepted, and longest last segment (it becomes "<sha512>.<name>"). */
#define UPKS_REPO_TARGET_PATH_MAX 768
#define UPKS_REPO_TARGET_NAME_MAX 126

/*
 * Check a target path before it enters metadata or names a file: not empty,
 * at most UPKS_REPO_TARGET_PATH_MAX bytes, no leading or trailing '/', no
 * empty, "." or ".." segment, a last segment of at most
 * UPKS_REPO_TARGET_NAME_MAX bytes and other segments of at most 255, and
 * only printable ASCII (0x21-0x7e) without '\\', '%', '?' and '#' (which TUF
 * clients would put into a URL unescaped). UPK_E_USAGE with the reason.
 */
UPK_WUR enum upk_err upks_repo_target_path_check(const char *path, struct upk_diag *reterr_diag);

/*
 * Check a delegated role name for a new delegation: 1 to 128 bytes of
 * [A-Za-z0-9._~-] (so its file name needs no escaping and every client
 * quotes it the same way), not starting with '.', not a top-level role name.
 * UPK_E_USAGE otherwise.
 */
UPK_WUR enum upk_err upks_repo_role_name_check(const char *name, struct upk_diag *reterr_diag);

/*
 * Metadata file name of `role` at `version`: "N.root.json", or for any
 * other name "N.<quoted>.json" with every byte outside [A-Za-z0-9._~-]
 * written %XX (Python's urllib.parse.quote(name, "") as python-tuf does).
 * Writes at most size bytes (NUL included); returns the full length, as
 * snprintf does.
 */
size_t upks_repo_meta_file_name(const char *role, int64_t version, char *buf, size_t size);

/*
 * A TUF delegation path pattern (python-tuf's rule): pattern and path have
 * the same number of '/'-separated segments and each path segment matches
 * its pattern segment, where '*' matches any run of bytes, '?' one byte,
 * and everything else itself. ('[' sets are not supported: see
 * upks_repo_glob_check.)
 */
bool upks_repo_glob_match(const char *pattern, const char *path);

/*
 * Check a pattern for a new delegation: 1 to UPKS_REPO_TARGET_PATH_MAX
 * bytes, printable ASCII, and none of "[]{}()!+@\\" (which fnmatch and
 * minimatch, the python-tuf and tuf-js matchers, read differently), no
 * leading '/', no empty segment. UPK_E_USAGE otherwise.
 */
UPK_WUR enum upk_err upks_repo_glob_check(const char *pattern, struct upk_diag *reterr_diag);

/*
 * Whether a delegation entry covers a target path: one of its `paths`
 * patterns matches (upks_repo_glob_match), or the lower-case hex SHA-256 of
 * the path starts with one of its `path_hash_prefixes`.
 */
bool upks_repo_delegation_allows(const struct upk_delegated_role *dr, const char *path);

/*
 * Serve's rule for re-signing an online role: due when now has reached the
 * middle of its lifetime, i.e. now >= expires - lifetime / 2 (also when it
 * has expired). lifetime <= 0 counts as due.
 */
bool upks_repo_is_due(int64_t now, int64_t expires, int64_t lifetime);

/* ---- commands ---------------------------------------------------------- */

/* A private key the caller loaded, with the file it came from (for messages). */
struct upks_repo_signer {
	struct upkk_key *key; /* only read: upkk_key_sign takes a non-const context */
	const char *origin;
};

/* One `--expires ROLE=DURATION`: kept in .upkeep/config.json by a successful command. */
struct upks_repo_expiry {
	const char *role;
	int64_t seconds;
};

/* Default wait for the repository lock. */
#define UPKS_REPO_LOCK_TIMEOUT_MS 30000

/* What every command gets. Nothing is kept after the call. */
struct upks_repo_ctx {
	const char *repo; /* repository directory */
	int64_t now;	  /* Unix seconds */
	int lock_timeout_ms;
	/* Offline keys given to this command (init: any key, online ones too). */
	const struct upks_repo_signer *signers;
	size_t n_signers;
	/*
	 * Directory of online private key files (snapshot, timestamp), or
	 * NULL. Encrypted files there open with passphrase (NULL: refused).
	 */
	const char *online_dir;
	const char *passphrase;
	size_t passphrase_len;
	const struct upks_repo_expiry *expiries;
	size_t n_expiries;
};

/* Versions after a successful command (0: role absent). */
struct upks_repo_result {
	int64_t root, targets, snapshot, timestamp;
	char role[160];	      /* the role the command changed ("targets", a delegated name) */
	int64_t role_version; /* its new version */
	size_t role_targets;  /* its number of targets */
};

/* Keys and threshold of one role for init. Key objects are TUF public keys. */
struct upks_repo_role_spec {
	json_t *const *keys;
	size_t n_keys;
	int64_t threshold; /* 1..n_keys */
};

/*
 * Create a repository in ctx->repo (created if missing; refused with
 * UPK_E_EXISTS if it holds metadata already): root version 1 with the four
 * roles (consistent_snapshot true), an empty targets version 1, snapshot
 * and timestamp version 1, and .upkeep/config.json with the default
 * durations overridden by ctx->expiries. Each role is signed by the
 * threshold of its keys found among ctx->signers and, for snapshot and
 * timestamp, in ctx->online_dir.
 */
UPK_WUR enum upk_err upks_repo_init(const struct upks_repo_ctx *ctx,
				    const struct upks_repo_role_spec roles[UPK_ROLE_COUNT],
				    struct upks_repo_result *ret, struct upk_diag *reterr_diag);

/* One target to publish: its TUF path and the local file with its content. */
struct upks_repo_target_in {
	const char *path;
	const char *file;
};

/*
 * Add or replace targets in `role` ("targets" or a delegated role; NULL is
 * "targets"): each file is hashed (SHA-256, SHA-512) and stored as
 * targets/DIR/SHA256.NAME plus the hard link SHA512.NAME (to list one hash
 * only: upks_repo_publish_with); the entry gets `custom` (a JSON object or
 * NULL; one for every target of the call). Paths
 * are checked (upks_repo_target_path_check), must be unique in the call and
 * allowed by every delegation on the way from targets to the role
 * (UPK_E_USAGE otherwise). A targets file above UPK_META_MAX_TARGETS bytes
 * is refused (UPK_E_USAGE): clients would refuse it. A source file that is
 * an Upkeep private key file is refused (UPK_E_USAGE), whatever its name.
 * Time and memory are O(n log n) in the targets of the role.
 */
UPK_WUR enum upk_err upks_repo_publish(const struct upks_repo_ctx *ctx, const char *role,
				       const struct upks_repo_target_in *targets, size_t n_targets,
				       const json_t *custom, struct upks_repo_result *ret,
				       struct upk_diag *reterr_diag);

/*
 * upks_repo_publish where target i gets customs[i] (a JSON object) instead
 * of `custom` when customs[i] is not NULL; customs may be NULL. Publishing
 * bundles uses it: each release's entry carries its own custom.upkeep.
 */
UPK_WUR enum upk_err upks_repo_publish_each(const struct upks_repo_ctx *ctx, const char *role,
					    const struct upks_repo_target_in *targets,
					    const json_t *const *customs, size_t n_targets,
					    const json_t *custom, struct upks_repo_result *ret,
					    struct upk_diag *reterr_diag);

/*
 * Which hashes publish computes, lists in each target's "hashes" and stores
 * the target under (HASH.NAME): a set of UPKS_REPO_HASH(alg) bits, never
 * empty. python-tuf repositories list sha256 only; listing both (the
 * default) costs a fleet about 75 % more targets metadata.
 */
#define UPKS_REPO_HASH(alg)  (1u << (unsigned)(alg))
#define UPKS_REPO_HASHES_ALL (UPKS_REPO_HASH(UPK_HASH_SHA256) | UPKS_REPO_HASH(UPK_HASH_SHA512))

/*
 * Parse a `--hashes` list: comma-separated TUF names, each "sha256" or
 * "sha512" (exact, lower case), none twice, at least one. UPK_E_USAGE naming
 * the bad value otherwise; *ret_hashes is set only on success.
 */
UPK_WUR enum upk_err upks_repo_hashes_parse(const char *list, unsigned *ret_hashes,
					    struct upk_diag *reterr_diag);

/* Everything a publish call takes. Zero-initialize, then set what applies. */
struct upks_repo_publish_req {
	const char *role; /* NULL: "targets" */
	const struct upks_repo_target_in *targets;
	size_t n_targets;
	const json_t *custom;	      /* for every target, or NULL */
	const json_t *const *customs; /* per target (upks_repo_publish_each), or NULL */
	unsigned hashes;	      /* UPKS_REPO_HASH bits; 0 is UPKS_REPO_HASHES_ALL */
};

/*
 * upks_repo_publish_each with a choice of hashes: only the algorithms in
 * req->hashes are computed, listed and stored as HASH.NAME, for every
 * target of the call. Re-publishing a path replaces its entry whatever it
 * listed before; the files of the old entry stay (old snapshots name them).
 * Bits outside UPKS_REPO_HASHES_ALL are a programming error (assert).
 */
UPK_WUR enum upk_err upks_repo_publish_with(const struct upks_repo_ctx *ctx,
					    const struct upks_repo_publish_req *req,
					    struct upks_repo_result *ret,
					    struct upk_diag *reterr_diag);

/* Remove targets (paths) from `role` (NULL: "targets"); the files stay. */
UPK_WUR enum upk_err upks_repo_yank(const struct upks_repo_ctx *ctx, const char *role,
				    const char *const *paths, size_t n_paths,
				    struct upks_repo_result *ret, struct upk_diag *reterr_diag);

struct upks_repo_delegate_req {
	const char *role;      /* delegated role name (upks_repo_role_name_check) */
	const char *delegator; /* NULL: "targets" */
	json_t *const *keys;   /* TUF public key objects of the role */
	size_t n_keys;
	int64_t threshold;	  /* 1..n_keys */
	const char *const *paths; /* exactly one of paths / prefixes non-empty */
	size_t n_paths;
	const char *const *prefixes;
	size_t n_prefixes;
	bool terminating;
};

/*
 * Add a delegation to `delegator` (appended: lowest priority) or change an
 * existing one in place (keeping its priority). A new role gets an empty
 * version 1 signed by its keys among ctx->signers; an existing role keeps
 * its metadata, and is re-signed as a new version when its keys changed
 * (its new keys must then be among the signers). The delegator is signed by
 * its keys among ctx->signers.
 */
UPK_WUR enum upk_err upks_repo_delegate(const struct upks_repo_ctx *ctx,
					const struct upks_repo_delegate_req *req,
					struct upks_repo_result *ret, struct upk_diag *reterr_diag);

struct upks_repo_rotate_req {
	const char *role;	   /* "root", "targets", "snapshot", "timestamp" or delegated */
	const char *const *remove; /* key ids to drop */
	size_t n_remove;
	json_t *const *add; /* TUF public key objects to add */
	size_t n_add;
	int64_t threshold; /* new threshold, 0: keep */
};

/*
 * Change a role's keys or threshold (or, with no change, re-sign it to
 * renew its expiry). For a top-level role this is a new root version N+1,
 * signed by keys that meet the thresholds of both root N and root N+1 (TUF
 * 5.3.4), written as metadata/N+1.root.json. The role itself is then
 * re-signed with its new keys: targets from ctx->signers, snapshot and
 * timestamp from ctx->online_dir (so clients that rotate out a compromised
 * online key, the fast-forward recovery of TUF 5.3.11, get metadata signed
 * by the new one). For a delegated role the delegator's entry changes and
 * both delegator and role are re-signed. UPK_E_USAGE if a removed key id is
 * not the role's, an added key is already the role's, or fewer keys than
 * the threshold remain.
 */
UPK_WUR enum upk_err upks_repo_rotate(const struct upks_repo_ctx *ctx,
				      const struct upks_repo_rotate_req *req,
				      struct upks_repo_result *ret, struct upk_diag *reterr_diag);

/* New snapshot and timestamp versions signed with the online keys only. */
UPK_WUR enum upk_err upks_repo_refresh(const struct upks_repo_ctx *ctx,
				       struct upks_repo_result *ret, struct upk_diag *reterr_diag);

/* Lock wait of upks_repo_refresh_if_due: serve retries at its next tick. */
#define UPKS_REPO_REFRESH_LOCK_TIMEOUT_MS 2000

/*
 * For serve: take the repository lock (waiting up to
 * UPKS_REPO_REFRESH_LOCK_TIMEOUT_MS, else UPK_E_LOCKED), roll a journal
 * forward, and re-sign with the online keys in online_keys_dir (unencrypted
 * key files; an encrypted one is UPK_E_PASSPHRASE) what has reached half
 * its lifetime (upks_repo_is_due, lifetimes from .upkeep/config.json):
 * snapshot (and with it timestamp), or timestamp alone, writing crash-safely
 * as every command does. *ret_changed says whether anything was written
 * (a rolled-forward journal counts). Nothing is written when nothing is due.
 */
UPK_WUR enum upk_err upks_repo_refresh_if_due(const char *repo, const char *online_keys_dir,
					      int64_t now, bool *ret_changed,
					      struct upk_diag *reterr_diag);

/* ---- verify ------------------------------------------------------------ */

/* One problem verify found: its class (err), the file (relative), and why. */
struct upks_repo_problem {
	enum upk_err err;
	char file[256];
	char reason[512];
};

struct upks_repo_report {
	struct upks_repo_problem *problems; /* in the order a client meets them */
	size_t n_problems;
	char **notes; /* harmless findings (unreferenced files, rolled-forward journal) */
	size_t n_notes;
	/* What a client would end up trusting (0 / "" when not reached). */
	int64_t root_version, timestamp_version, snapshot_version, targets_version;
	size_t n_roles;	  /* delegated roles checked */
	size_t n_targets; /* targets over all roles */
	json_t *roles;	  /* {"ROLE": {"version": N, "expires": "...", "targets": N}} */
};

void upks_repo_report_done(struct upks_repo_report *r);

/*
 * Check the repository as a client would, from metadata/1.root.json on,
 * and list every problem instead of stopping at the first:
 *  - every N.root.json in order (a gap is a problem), each of version N,
 *    signed by the thresholds of root N-1 and its own (TUF 5.3.4-5.3.5);
 *    consistent_snapshot true;
 *  - timestamp.json, the snapshot it names (version, length, hashes), the
 *    targets version and every delegated role (walked through the
 *    delegations, as listed in snapshot), each signed by its threshold;
 *  - expiry of each against `now`;
 *  - every target of every role stored as targets/DIR/HASH.NAME under each
 *    hash it lists (sha256, sha512), with the listed length and hashes;
 *    delegated targets inside their delegation's paths.
 * Unreferenced files (versions above the current ones, left by an
 * interrupted command) are notes, not problems.
 * With `recover`, first take the lock (lock_timeout_ms) and roll forward a
 * journal (a note says so); without it nothing is written, and a pending
 * journal is a note. UPK_OK with *ret filled (problems or not); an error
 * only when verification could not run (lock, memory). The caller frees
 * *ret with upks_repo_report_done.
 */
UPK_WUR enum upk_err upks_repo_verify(const char *repo, int64_t now, bool recover,
				      int lock_timeout_ms, struct upks_repo_report *ret,
				      struct upk_diag *reterr_diag);

/*
 * Exit code for a report (CLI.md): 0 without problems, else that of its
 * first problem, where a missing file (UPK_E_NOT_FOUND) and a malformed one
 * count as integrity problems (10).
 */
int upks_repo_report_exit_code(const struct upks_repo_report *r);

/* ---- fault injection (test builds) -------------------------------------- */

/*
 * In builds without NDEBUG: make the process raise SIGKILL at the n-th step
 * boundary (file create, write, fsync, syncfs, rename, link, unlink) of the
 * writing commands; 0 disarms. Returns false in NDEBUG builds, which have no
 * failpoints.
 */
bool upks_repo_failpoint_arm(long n);
