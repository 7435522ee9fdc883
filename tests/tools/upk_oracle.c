/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upk_oracle: the common core's canonical JSON, key ids, signatures and
 * metadata verification as a command-line tool, so that
 * tests/oracle/test_securesystemslib.py can hold them against an independent
 * implementation (securesystemslib). It calls exactly the functions the
 * product calls, with the product's limits, and adds no logic of its own.
 *
 * Single operations (FILE may be "-" for stdin, once):
 *   upk_oracle canonical FILE                 canonical bytes of the JSON in FILE
 *   upk_oracle keyid KEYFILE                  key id of the key object in KEYFILE
 *   upk_oracle verify KEYFILE SIGHEX MSGFILE  succeed if SIGHEX is KEYFILE's signature of MSGFILE
 *   upk_oracle sign-ed25519 SEEDHEX MSGFILE   Ed25519 signature (hex) by the key of a 32-byte seed
 *   upk_oracle ed25519-key SEEDHEX            canonical key object of the seed's public key
 *   upk_oracle verify-meta ROLE METAFILE ROOTFILE
 *                                             parse METAFILE as top-level ROLE and verify it with
 *                                             ROOTFILE's keys and threshold for ROLE
 * Exit status: 0 success, 1 the core refused (one line on stderr with the
 * error name), 2 usage or I/O error of the tool itself.
 *
 * Batch mode (`upk_oracle batch`), so that a test can run hundreds of cases
 * without paying a process start (slow under sanitizers) for each: stdin is a
 * sequence of records, each a header line "OP LEN1 ... LENn\n" followed by the
 * n arguments' bytes back to back (an argument is what the single operation
 * takes: file contents for FILE, the text for SIGHEX, SEEDHEX, ROLE). For each
 * record one line is written to stdout:
 *   "ok HEX"                  HEX encodes the output bytes (empty for verify)
 *   "reject NAME DETAIL"      NAME is the upk_err name, DETAIL the diagnostic
 * A malformed batch ends the tool with status 2.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "err.h"
#include "hex.h"
#include "json.h"
#include "key.h"
#include "meta.h"
#include "sig.h"
#include "util.h"

/* Bound on any input (a file, stdin, one batch): the oracle's inputs are small. */
#define ORACLE_MAX_INPUT (64u << 20)
/* Parse limit for documents and key objects (metadata uses its role's limit). */
#define ORACLE_MAX_JSON (16u << 20)
/* Largest signature accepted (RSA-8192 is 1024 bytes). */
#define ORACLE_MAX_SIG 1024
/* Longest batch header line, newline excluded. */
#define ORACLE_MAX_HEADER 255
#define ORACLE_MAX_ARGS	  3

struct blob {
	const uint8_t *data;
	size_t len;
};

typedef enum upk_err (*op_fn)(const struct blob *args, struct upk_buf *out,
			      struct upk_diag *reterr_diag);

struct op {
	const char *name;
	const char *kinds; /* one letter per argument: 'f' file contents, 's' string */
	const char *usage;
	bool text; /* the output is a line of text: single mode ends it with a newline */
	op_fn fn;
};

static void sodium_freep(void *p)
{
	sodium_free(*(void **)p);
}

static void key_donep(struct upk_key *k)
{
	upk_key_done(k);
}

static void meta_freep(struct upk_meta **m)
{
	upk_meta_free(*m);
}

static void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

/* Decode hex text of exactly `want` bytes (want 0: any length up to cap). */
static enum upk_err decode_hex(const struct blob *hex, const char *what, uint8_t *out, size_t cap,
			       size_t want, size_t *ret_len, struct upk_diag *reterr_diag)
{
	size_t n = 0;

	if (upk_hex_decode((const char *)hex->data, hex->len, out, cap, &n) != UPK_OK)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, what, -1,
				    "not hex of at most %zu bytes", cap);
	if (want && n != want)
		return upk_diag_set(reterr_diag, UPK_E_FORMAT, what, -1, "%zu bytes, expected %zu",
				    n, want);
	*ret_len = n;
	return UPK_OK;
}

static enum upk_err op_canonical(const struct blob *a, struct upk_buf *out,
				 struct upk_diag *reterr_diag)
{
	_cleanup_json_ json_t *doc = NULL;
	enum upk_err r;

	r = upk_json_parse(a[0].data, a[0].len, ORACLE_MAX_JSON, &doc, reterr_diag);
	if (r)
		return r;
	return upk_json_canonical(doc, out, reterr_diag);
}

static enum upk_err op_keyid(const struct blob *a, struct upk_buf *out,
			     struct upk_diag *reterr_diag)
{
	_cleanup_json_ json_t *obj = NULL;
	char keyid[UPK_KEYID_HEX_LEN + 1];
	enum upk_err r;

	r = upk_json_parse(a[0].data, a[0].len, ORACLE_MAX_JSON, &obj, reterr_diag);
	if (r)
		return r;
	r = upk_key_id(obj, keyid, reterr_diag);
	if (r)
		return r;
	return upk_buf_append_str(out, keyid);
}

static enum upk_err op_verify(const struct blob *a, struct upk_buf *out,
			      struct upk_diag *reterr_diag)
{
	_cleanup_json_ json_t *obj = NULL;
	_cleanup_(key_donep) struct upk_key key = { 0 };
	uint8_t sig[ORACLE_MAX_SIG];
	size_t sig_len = 0;
	enum upk_err r;

	r = upk_json_parse(a[0].data, a[0].len, ORACLE_MAX_JSON, &obj, reterr_diag);
	if (r)
		return r;
	r = upk_key_parse(obj, &key, reterr_diag);
	if (r)
		return r;
	r = decode_hex(&a[1], "signature", sig, sizeof(sig), 0, &sig_len, reterr_diag);
	if (r)
		return r;
	r = upk_sig_verify(&key, a[2].data, a[2].len, sig, sig_len);
	if (r)
		return upk_diag_set(reterr_diag, r, "signature", -1, "%s", upk_strerror(r));
	return UPK_OK;
}

/* Secret key material for one seed, in guarded memory that sodium_free wipes. */
struct seed_keys {
	uint8_t seed[crypto_sign_SEEDBYTES];
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

static enum upk_err seed_keys_new(const struct blob *seed_hex, struct seed_keys **ret,
				  struct upk_diag *reterr_diag)
{
	struct seed_keys *k;
	size_t n = 0;
	enum upk_err r;

	k = sodium_malloc(sizeof(*k));
	if (!k)
		return upk_diag_set(reterr_diag, UPK_E_NOMEM, NULL, -1, NULL);
	r = decode_hex(seed_hex, "seed", k->seed, sizeof(k->seed), sizeof(k->seed), &n,
		       reterr_diag);
	if (r) {
		sodium_free(k);
		return r;
	}
	if (crypto_sign_seed_keypair(k->pk, k->sk, k->seed) != 0) {
		sodium_free(k);
		return upk_diag_set(reterr_diag, UPK_E_INTERNAL, "seed", -1,
				    "crypto_sign_seed_keypair failed");
	}
	*ret = k;
	return UPK_OK;
}

static enum upk_err op_sign_ed25519(const struct blob *a, struct upk_buf *out,
				    struct upk_diag *reterr_diag)
{
	_cleanup_(sodium_freep) struct seed_keys *k = NULL;
	uint8_t sig[UPK_ED25519_SIG_LEN];
	char hex[2 * UPK_ED25519_SIG_LEN + 1];
	enum upk_err r;

	static_assert(UPK_ED25519_SECRET_LEN == crypto_sign_SECRETKEYBYTES, "libsodium key size");
	r = seed_keys_new(&a[0], &k, reterr_diag);
	if (r)
		return r;
	r = upk_sig_sign_ed25519(k->sk, a[1].data, a[1].len, sig);
	if (r)
		return upk_diag_set(reterr_diag, r, "signature", -1, NULL);
	upk_hex_encode(sig, sizeof(sig), hex);
	return upk_buf_append_str(out, hex);
}

static enum upk_err op_ed25519_key(const struct blob *a, struct upk_buf *out,
				   struct upk_diag *reterr_diag)
{
	_cleanup_(sodium_freep) struct seed_keys *k = NULL;
	_cleanup_json_ json_t *obj = NULL;
	enum upk_err r;

	static_assert(UPK_ED25519_PUBLIC_LEN == crypto_sign_PUBLICKEYBYTES, "libsodium key size");
	r = seed_keys_new(&a[0], &k, reterr_diag);
	if (r)
		return r;
	r = upk_key_ed25519_object(k->pk, &obj);
	if (r)
		return upk_diag_set(reterr_diag, r, "key", -1, NULL);
	return upk_json_canonical(obj, out, reterr_diag);
}

static enum upk_err op_verify_meta(const struct blob *a, struct upk_buf *out,
				   struct upk_diag *reterr_diag)
{
	_cleanup_(meta_freep) struct upk_meta *root = NULL;
	_cleanup_(meta_freep) struct upk_meta *m = NULL;
	enum upk_role role = UPK_ROLE_ROOT;
	bool found = false;
	enum upk_err r;

	for (int i = 0; i < UPK_ROLE_COUNT; i++) {
		const char *name = upk_role_name((enum upk_role)i);

		if (strlen(name) == a[0].len && memcmp(name, a[0].data, a[0].len) == 0) {
			role = (enum upk_role)i;
			found = true;
		}
	}
	if (!found)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, "role", -1,
				    "not root, timestamp, snapshot or targets");
	r = upk_meta_parse(a[2].data, a[2].len, UPK_ROLE_ROOT, 0, &root, reterr_diag);
	if (r) {
		upk_diag_prefix_where(reterr_diag, "root");
		return r;
	}
	r = upk_meta_parse(a[1].data, a[1].len, role, 0, &m, reterr_diag);
	if (r) {
		upk_diag_prefix_where(reterr_diag, upk_role_name(role));
		return r;
	}
	return upk_meta_verify_by_root(root, role, m, reterr_diag);
}

static const struct op ops[] = {
	{ "canonical", "f", "FILE", false, op_canonical },
	{ "keyid", "f", "KEYFILE", true, op_keyid },
	{ "verify", "fsf", "KEYFILE SIGHEX MSGFILE", false, op_verify },
	{ "sign-ed25519", "sf", "SEEDHEX MSGFILE", true, op_sign_ed25519 },
	{ "ed25519-key", "s", "SEEDHEX", false, op_ed25519_key },
	{ "verify-meta", "sff", "ROLE METAFILE ROOTFILE", false, op_verify_meta },
};

static const struct op *find_op(const char *name, size_t len)
{
	for (size_t i = 0; i < UPK_ARRAY_SIZE(ops); i++) {
		if (strlen(ops[i].name) == len && memcmp(ops[i].name, name, len) == 0)
			return &ops[i];
	}
	return NULL;
}

/* Run op on args; on failure make sure diag names the error op returned. */
static enum upk_err run_op(const struct op *op, const struct blob *args, struct upk_buf *out,
			   struct upk_diag *diag)
{
	enum upk_err r;

	upk_diag_clear(diag);
	r = op->fn(args, out, diag);
	if (r && diag->err != r)
		diag->err = r;
	return r;
}

static enum upk_err read_fd(int fd, struct upk_buf *out)
{
	enum upk_err r;
	ssize_t n;

	for (;;) {
		if (out->len >= ORACLE_MAX_INPUT)
			return UPK_E_TOO_LARGE;
		r = upk_buf_reserve(out, 65536);
		if (r)
			return r;
		n = read(fd, out->data + out->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return UPK_E_IO;
		if (n == 0)
			return UPK_OK;
		out->len += (size_t)n;
	}
}

static enum upk_err read_file(const char *path, struct upk_buf *out)
{
	_cleanup_(closep) int fd = -1;

	if (strcmp(path, "-") == 0)
		return read_fd(STDIN_FILENO, out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return UPK_E_IO;
	return read_fd(fd, out);
}

static bool write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static enum upk_err append_hex(struct upk_buf *b, const uint8_t *data, size_t len)
{
	char chunk[2 * 256 + 1];
	enum upk_err r;

	while (len) {
		size_t n = len < 256 ? len : 256;

		upk_hex_encode(data, n, chunk);
		r = upk_buf_append(b, chunk, 2 * n);
		if (r)
			return r;
		data += n;
		len -= n;
	}
	return UPK_OK;
}

/* Append the one-line diagnostic, with line breaks from parser messages flattened. */
static enum upk_err append_diag(struct upk_buf *b, const struct upk_diag *diag)
{
	char line[sizeof(diag->where) + sizeof(diag->reason) + 64];

	upk_diag_format(diag, line, sizeof(line));
	for (char *c = line; *c; c++) {
		if (*c == '\n' || *c == '\r')
			*c = ' ';
	}
	return upk_buf_append_str(b, line);
}

/* Parse a decimal length without sign or spaces; false if malformed or over max. */
static bool parse_len(const char *s, size_t max, size_t *ret)
{
	unsigned long long v;
	char *end = NULL;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*ret = (size_t)v;
	return true;
}

/* Parse the header line of one record into its op and argument lengths. */
static bool parse_header(char *line, const struct op **ret_op, size_t lens[ORACLE_MAX_ARGS],
			 size_t max)
{
	char *save = NULL, *tok;
	const struct op *op;
	size_t nargs;

	tok = strtok_r(line, " ", &save);
	if (!tok)
		return false;
	op = find_op(tok, strlen(tok));
	if (!op)
		return false;
	nargs = strlen(op->kinds);
	for (size_t i = 0; i < nargs; i++) {
		tok = strtok_r(NULL, " ", &save);
		if (!tok || !parse_len(tok, max, &lens[i]))
			return false;
	}
	if (strtok_r(NULL, " ", &save))
		return false;
	*ret_op = op;
	return true;
}

static int run_batch(void)
{
	_cleanup_buf_ struct upk_buf in = UPK_BUF_INIT;
	_cleanup_buf_ struct upk_buf res = UPK_BUF_INIT;
	size_t pos = 0, records = 0;

	if (read_file("-", &in) != UPK_OK) {
		fprintf(stderr, "upk_oracle: cannot read the batch from stdin\n");
		return 2;
	}
	while (pos < in.len) {
		_cleanup_buf_ struct upk_buf out = UPK_BUF_INIT;
		char line[ORACLE_MAX_HEADER + 1];
		struct blob args[ORACLE_MAX_ARGS];
		size_t lens[ORACLE_MAX_ARGS];
		const struct op *op = NULL;
		struct upk_diag diag;
		const uint8_t *nl;
		size_t hlen, nargs;
		enum upk_err r;

		hlen = in.len - pos < sizeof(line) ? in.len - pos : sizeof(line);
		nl = memchr(in.data + pos, '\n', hlen);
		if (!nl)
			goto malformed;
		hlen = (size_t)(nl - (in.data + pos));
		memcpy(line, in.data + pos, hlen);
		line[hlen] = 0;
		if (memchr(line, 0, hlen) || !parse_header(line, &op, lens, in.len))
			goto malformed;
		pos += hlen + 1;
		nargs = strlen(op->kinds);
		for (size_t i = 0; i < nargs; i++) {
			if (lens[i] > in.len - pos)
				goto malformed;
			args[i].data = in.data + pos;
			args[i].len = lens[i];
			pos += lens[i];
		}
		r = run_op(op, args, &out, &diag);
		if (r == UPK_OK) {
			if (upk_buf_append_str(&res, "ok ") || append_hex(&res, out.data, out.len))
				goto nomem;
		} else {
			if (upk_buf_printf(&res, "reject %s ", upk_err_name(r)) ||
			    append_diag(&res, &diag))
				goto nomem;
		}
		if (upk_buf_append_byte(&res, '\n'))
			goto nomem;
		records++;
	}
	if (!write_all(STDOUT_FILENO, res.data, res.len)) {
		fprintf(stderr, "upk_oracle: cannot write the results\n");
		return 2;
	}
	return 0;

malformed:
	fprintf(stderr, "upk_oracle: malformed batch record %zu at byte %zu\n", records + 1, pos);
	return 2;
nomem:
	fprintf(stderr, "upk_oracle: out of memory\n");
	return 2;
}

static int usage(void)
{
	fprintf(stderr, "usage: upk_oracle batch < RECORDS\n");
	for (size_t i = 0; i < UPK_ARRAY_SIZE(ops); i++)
		fprintf(stderr, "       upk_oracle %s %s\n", ops[i].name, ops[i].usage);
	return 2;
}

static int run_single(const struct op *op, int argc, char **argv)
{
	struct upk_buf files[ORACLE_MAX_ARGS] = { UPK_BUF_INIT, UPK_BUF_INIT, UPK_BUF_INIT };
	_cleanup_buf_ struct upk_buf out = UPK_BUF_INIT;
	struct blob args[ORACLE_MAX_ARGS];
	size_t nargs = strlen(op->kinds), stdin_args = 0;
	struct upk_diag diag;
	char line[sizeof(diag.where) + sizeof(diag.reason) + 64];
	int status = 2;
	enum upk_err r;

	if ((size_t)argc != nargs)
		return usage();
	for (size_t i = 0; i < nargs; i++) {
		if (op->kinds[i] == 's') {
			args[i].data = (const uint8_t *)argv[i];
			args[i].len = strlen(argv[i]);
			continue;
		}
		if (strcmp(argv[i], "-") == 0 && ++stdin_args > 1) {
			fprintf(stderr, "upk_oracle: stdin (-) given twice\n");
			goto out;
		}
		r = read_file(argv[i], &files[i]);
		if (r) {
			fprintf(stderr, "upk_oracle: %s: %s\n", argv[i], upk_strerror(r));
			goto out;
		}
		args[i].data = files[i].data;
		args[i].len = files[i].len;
	}
	r = run_op(op, args, &out, &diag);
	if (r) {
		upk_diag_format(&diag, line, sizeof(line));
		fprintf(stderr, "upk_oracle: %s\n", line);
		status = 1;
		goto out;
	}
	if ((out.len && !write_all(STDOUT_FILENO, out.data, out.len)) ||
	    (op->text && !write_all(STDOUT_FILENO, "\n", 1))) {
		fprintf(stderr, "upk_oracle: cannot write the result\n");
		goto out;
	}
	status = 0;
out:
	for (size_t i = 0; i < nargs; i++)
		upk_buf_done(&files[i]);
	return status;
}

int main(int argc, char **argv)
{
	const struct op *op;

	if (sodium_init() < 0) {
		fprintf(stderr, "upk_oracle: libsodium failed to initialise\n");
		return 2;
	}
	if (argc == 2 && strcmp(argv[1], "batch") == 0)
		return run_batch();
	if (argc < 2)
		return usage();
	op = find_op(argv[1], strlen(argv[1]));
	if (!op)
		return usage();
	return run_single(op, argc - 2, argv + 2);
}
