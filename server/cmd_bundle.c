/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upkeep-server bundle create | info (CLI.md): the shell around
 * server/bundle.c. Options, the build time (option, SOURCE_DATE_EPOCH or
 * the clock), and output; every decision about the format is common/'s.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle.h"
#include "bundle_io.h"
#include "args.h"
#include "cli.h"
#include "cmd.h"
#include "hex.h"
#include "json.h"
#include "tuftime.h"
#include "version.h"

#define PROG "upkeep-server"

enum opt_id {
	O_NONE,
	O_OUT,
	O_PRODUCT,
	O_HARDWARE,
	O_VERSION,
	O_SECVER,
	O_KIND,
	O_FIRMWARE,
	O_MODEL,
	O_REQUIRES,
	O_SUPPORT_END,
	O_SBOM,
	O_ADVISORY,
	O_MIXED_REASON,
	O_BUILD_TIME,
	O_JOBS,
	O_CHUNKING,
	O_JSON,
	O_VERIFY,
	O_CHUNKS,
	O_HELP,
	O_COUNT,
};

static const struct upks_optdef create_opts[] = {
	{ "out", O_OUT, UPKS_OPT_VALUE },
	{ "product", O_PRODUCT, UPKS_OPT_VALUE },
	{ "hardware", O_HARDWARE, UPKS_OPT_LIST },
	{ "version", O_VERSION, UPKS_OPT_VALUE },
	{ "security-version", O_SECVER, UPKS_OPT_VALUE },
	{ "kind", O_KIND, UPKS_OPT_VALUE },
	{ "firmware", O_FIRMWARE, UPKS_OPT_VALUE },
	{ "model", O_MODEL, UPKS_OPT_LIST },
	{ "requires", O_REQUIRES, UPKS_OPT_LIST },
	{ "support-end", O_SUPPORT_END, UPKS_OPT_VALUE },
	{ "sbom", O_SBOM, UPKS_OPT_VALUE },
	{ "advisory", O_ADVISORY, UPKS_OPT_VALUE },
	{ "mixed-reason", O_MIXED_REASON, UPKS_OPT_VALUE },
	{ "build-time", O_BUILD_TIME, UPKS_OPT_VALUE },
	{ "jobs", O_JOBS, UPKS_OPT_VALUE },
	{ "chunking", O_CHUNKING, UPKS_OPT_VALUE },
	{ "json", O_JSON, UPKS_OPT_FLAG },
	{ "help", O_HELP, UPKS_OPT_FLAG },
};

static const struct upks_optdef info_opts[] = {
	{ "json", O_JSON, UPKS_OPT_FLAG },	 { "verify", O_VERIFY, UPKS_OPT_FLAG },
	{ "chunks", O_CHUNKS, UPKS_OPT_FLAG },	 { "help", O_HELP, UPKS_OPT_FLAG },
	{ "version", O_VERSION, UPKS_OPT_FLAG },
};

_Static_assert(O_COUNT <= UPKS_ARGS_MAX, "too many options for struct upks_args");

static const char create_help[] =
	"Usage: upkeep-server bundle create --out FILE.upk --product P --hardware H...\n"
	"         --version V --security-version N --kind security|feature|mixed\n"
	"         [--firmware IMAGE] [--model NAME=FILE]... [--requires EXPR]...\n"
	"         [--support-end DATE] [--sbom FILE] [--advisory FILE] [--mixed-reason TEXT]\n"
	"         [--build-time T] [--jobs N] [--chunking block-cdc|fixed:SIZE] [--json]\n\n"
	"Build a release bundle (common/FORMAT.md): a tar of the manifest, one chunk index\n"
	"per component and the components' chunks, each compressed with zlib on its own,\n"
	"on all cores. The same inputs and options give the same bytes.\n\n"
	"Options:\n"
	"  --out FILE.upk           the bundle to write (replaced atomically)\n"
	"  --product P              product name ([A-Za-z0-9][A-Za-z0-9._-]*)\n"
	"  --hardware H...          hardware ids the release runs on (one or more)\n"
	"  --version V              release version (SemVer 2.0.0)\n"
	"  --security-version N     anti-rollback floor the release sets on devices\n"
	"  --kind K                 security, feature or mixed\n"
	"  --firmware IMAGE         the firmware image (component \"firmware\")\n"
	"  --model NAME=FILE        a model file (repeat)\n"
	"  --requires EXPR          firmware>=V, model:NAME>=V or abi:NAME>=V (also >, <=,\n"
	"                           <, =); checked by devices against their state after\n"
	"                           the install\n"
	"  --support-end DATE       end of the support period, YYYY-MM-DD\n"
	"  --sbom FILE              the SBOM, carried in the bundle (its hash in the entry)\n"
	"  --advisory FILE          JSON {\"summary\", \"cves\": [...], \"severity\", \"action\"}\n"
	"                           (a security release needs one to be published)\n"
	"  --mixed-reason TEXT      why a mixed release ships security and feature changes\n"
	"                           together (needed to publish it)\n"
	"  --build-time T           YYYY-MM-DDTHH:MM:SSZ or @SECONDS (default\n"
	"                           $SOURCE_DATE_EPOCH, else now; recorded in the manifest)\n"
	"  --jobs N                 compression threads (default: every CPU)\n"
	"  --chunking C             block-cdc (default: content-defined at 4 KiB blocks,\n"
	"                           32-128 KiB chunks) or fixed:SIZE (bytes, K or M suffix)\n"
	"  --json                   print the result as JSON\n"
	"  --help                   show this help and exit\n\n"
	"Exit codes: 0 ok, 1 I/O, 2 usage (bad option, missing or unusable input).\n";

static const char info_help[] =
	"Usage: upkeep-server bundle info FILE.upk [--json] [--verify] [--chunks]\n\n"
	"Print a bundle's manifest, components and chunk statistics, after checking its\n"
	"header as a device would.\n\n"
	"Options:\n"
	"  --json                   machine-readable output (manifest, custom.upkeep, stats)\n"
	"  --verify                 also read every chunk, inflate it with its size bound,\n"
	"                           and check every hash and every byte of the file\n"
	"  --chunks                 list every chunk (offset, size, stored size, SHA-256)\n"
	"  --help                   show this help and exit\n"
	"  --version                show the version and exit\n\n"
	"Exit codes: 0 ok, 1 I/O, 2 usage, 10 the bundle is malformed or corrupt.\n";

/* Returns -1 to go on, else an exit code. */
static void print_help(const void *ctx)
{
	fputs(ctx, stdout);
}

static int parse_args(const char *cmd, const struct upks_optdef *defs, size_t n_defs, bool operands,
		      const char *help, int argc, char **argv, struct upks_args *a)
{
	const struct upks_args_spec spec = {
		.prog = PROG,
		.cmd = cmd,
		.defs = defs,
		.n_defs = n_defs,
		.operands = operands,
		.help_id = O_HELP,
		.version_id = O_VERSION,
		.version = UPKEEP_VERSION,
		.help = print_help,
		.ctx = help,
	};

	return upks_args_parse(&spec, argc, argv, a);
}

static int report(struct upk_diag *d)
{
	return upk_cli_report(PROG, d);
}

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

static int print_json(json_t *o)
{
	_cleanup_buf_ struct upk_buf b = UPK_BUF_INIT;
	struct upk_diag d;

	upk_diag_clear(&d);
	if (upk_json_serialize(o, &b) != UPK_OK) {
		upk_diag_set(&d, UPK_E_NOMEM, NULL, -1, "out of memory");
		return report(&d);
	}
	fwrite(b.data, 1, b.len, stdout);
	return 0;
}

/* A decimal number in [min, max], digits only. */
static bool parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (max - (uint64_t)(*s - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v < min)
		return false;
	*ret = v;
	return true;
}

/* --build-time, else SOURCE_DATE_EPOCH (reproducible-builds.org), else the clock. */
static int build_time(const char *opt, int64_t *ret)
{
	const char *env = getenv("SOURCE_DATE_EPOCH");
	uint64_t v = 0;

	if (opt) {
		if (opt[0] == '@') {
			if (!parse_u64(opt + 1, 0, 253402300799ULL, &v))
				return upk_cli_usage_error(PROG,
							   "bundle create: --build-time @%s "
							   "is not a time",
							   opt + 1);
			*ret = (int64_t)v;
		} else if (upk_time_parse(opt, ret) != UPK_OK) {
			return upk_cli_usage_error(PROG,
						   "bundle create: --build-time '%s' is "
						   "not YYYY-MM-DDTHH:MM:SSZ or @SECONDS",
						   opt);
		}
		return -1;
	}
	if (env && *env) {
		if (!parse_u64(env, 0, 253402300799ULL, &v))
			return upk_cli_usage_error(PROG,
						   "SOURCE_DATE_EPOCH '%s' is not a number "
						   "of seconds",
						   env);
		*ret = (int64_t)v;
		return -1;
	}
	*ret = (int64_t)time(NULL);
	return -1;
}

/* "block-cdc" or "fixed:SIZE" with SIZE in bytes, or with a K or M (KiB, MiB) suffix. */
static int parse_chunking(const char *s, struct upk_bundle_chunking *ret)
{
	struct upk_diag d;
	char num[32];
	uint64_t v = 0, mult = 1;
	size_t n;

	upk_bundle_chunking_default(ret);
	if (!s || strcmp(s, "block-cdc") == 0)
		return -1;
	if (strncmp(s, "fixed:", 6) != 0 || (n = strlen(s + 6)) == 0 || n >= sizeof(num))
		return upk_cli_usage_error(PROG, "bundle create: --chunking is block-cdc or "
						 "fixed:SIZE");
	memcpy(num, s + 6, n + 1);
	if (num[n - 1] == 'K' || num[n - 1] == 'M') {
		mult = num[n - 1] == 'K' ? 1024 : 1024 * 1024;
		num[n - 1] = 0;
	}
	upk_diag_clear(&d);
	if (!parse_u64(num, 1, UPK_BUNDLE_MAX_CHUNK, &v) || v * mult > UPK_BUNDLE_MAX_CHUNK ||
	    upk_bundle_chunking_fixed((uint32_t)(v * mult), ret, &d) != UPK_OK)
		return upk_cli_usage_error(PROG,
					   "bundle create: --chunking %s: a fixed size is "
					   "a multiple of 4096 up to 4M",
					   s);
	return -1;
}

static void sha_hex(const uint8_t sha[UPK_SHA256_LEN], char out[2 * UPK_SHA256_LEN + 1])
{
	upk_hex_encode(sha, UPK_SHA256_LEN, out);
}

/* ---- create ---- */

static int run_create(struct upks_args *a)
{
	struct upks_bundle_spec spec;
	struct upks_bundle_result res;
	_cleanup_free_ struct upks_bundle_input *inputs = NULL;
	_cleanup_free_ char *names = NULL;
	struct upk_diag d;
	uint64_t secver = 0;
	size_t n = 0, names_len = 0;
	int code;

	static const struct {
		enum opt_id id;
		const char *name;
	} required[] = { { O_OUT, "out" },
			 { O_PRODUCT, "product" },
			 { O_VERSION, "version" },
			 { O_SECVER, "security-version" },
			 { O_KIND, "kind" } };

	memset(&spec, 0, sizeof(spec));
	upk_diag_clear(&d);
	for (size_t i = 0; i < UPK_ARRAY_SIZE(required); i++) {
		if (!a->val[required[i].id])
			return upk_cli_usage_error(PROG, "bundle create: --%s is required",
						   required[i].name);
	}
	if (!a->list[O_HARDWARE].n)
		return upk_cli_usage_error(PROG, "bundle create: --hardware is required");
	if (!upk_bundle_kind_from_name(a->val[O_KIND], &spec.kind))
		return upk_cli_usage_error(PROG,
					   "bundle create: --kind is security, feature or "
					   "mixed, not '%s'",
					   a->val[O_KIND]);
	if (upk_secver_parse(a->val[O_SECVER], &secver) != UPK_OK)
		return upk_cli_usage_error(PROG,
					   "bundle create: --security-version '%s' is not "
					   "a non-negative integer",
					   a->val[O_SECVER]);
	code = build_time(a->val[O_BUILD_TIME], &spec.build_time);
	if (code < 0)
		code = parse_chunking(a->val[O_CHUNKING], &spec.chunking);
	if (code >= 0)
		return code;
	if (a->val[O_JOBS]) {
		uint64_t j = 0;

		if (!parse_u64(a->val[O_JOBS], 1, 256, &j))
			return upk_cli_usage_error(PROG, "bundle create: --jobs is 1 to 256");
		spec.jobs = (unsigned)j;
	}
	inputs = calloc(a->list[O_MODEL].n + 1, sizeof(*inputs));
	for (size_t i = 0; i < a->list[O_MODEL].n; i++)
		names_len += strlen(a->list[O_MODEL].v[i]) + 1;
	names = malloc(names_len + 1);
	if (!inputs || !names) {
		upk_diag_set(&d, UPK_E_NOMEM, NULL, -1, "out of memory");
		return report(&d);
	}
	if (a->val[O_FIRMWARE])
		inputs[n++] = (struct upks_bundle_input){ "firmware", UPK_BUNDLE_FIRMWARE,
							  a->val[O_FIRMWARE] };
	names_len = 0;
	for (size_t i = 0; i < a->list[O_MODEL].n; i++) {
		const char *m = a->list[O_MODEL].v[i], *eq = strchr(m, '=');
		char *name = names + names_len;

		if (!eq || eq == m || !eq[1])
			return upk_cli_usage_error(PROG,
						   "bundle create: --model '%s' is not "
						   "NAME=FILE",
						   m);
		memcpy(name, m, (size_t)(eq - m));
		name[eq - m] = 0;
		names_len += (size_t)(eq - m) + 1;
		inputs[n++] = (struct upks_bundle_input){ name, UPK_BUNDLE_MODEL, eq + 1 };
	}
	spec.out = a->val[O_OUT];
	spec.product = a->val[O_PRODUCT];
	spec.hardware = a->list[O_HARDWARE].v;
	spec.n_hardware = a->list[O_HARDWARE].n;
	spec.version = a->val[O_VERSION];
	spec.security_version = secver;
	spec.inputs = inputs;
	spec.n_inputs = n;
	spec.requires = a->list[O_REQUIRES].v;
	spec.n_requires = a->list[O_REQUIRES].n;
	spec.support_end = a->val[O_SUPPORT_END];
	spec.sbom = a->val[O_SBOM];
	spec.advisory = a->val[O_ADVISORY];
	spec.mixed_reason = a->val[O_MIXED_REASON];
	if (upks_bundle_create(&spec, &res, &d) != UPK_OK)
		return report(&d);
	{
		char hex[2 * UPK_SHA256_LEN + 1], t[UPK_TIME_STR_LEN + 1] = "";

		sha_hex(res.header_sha256, hex);
		if (upk_time_format(spec.build_time, t) != UPK_OK)
			t[0] = 0;
		if (a->flag[O_JSON]) {
			_cleanup_json_ json_t *o =
				json_pack("{s:s, s:I, s:{s:I, s:s}, s:s, s:I}", "file", spec.out,
					  "file_length", (json_int_t)res.file_length, "header",
					  "length", (json_int_t)res.header_length, "sha256", hex,
					  "build_time", t, "jobs", (json_int_t)res.jobs);

			if (!o) {
				upk_diag_set(&d, UPK_E_NOMEM, NULL, -1, "out of memory");
				return report(&d);
			}
			return print_json(o);
		}
		printf("created %s: %llu bytes, header %llu bytes (sha256 %s), built %s, %u "
		       "threads\n",
		       spec.out, (unsigned long long)res.file_length,
		       (unsigned long long)res.header_length, hex, t, res.jobs);
	}
	return 0;
}

/* ---- info ---- */

struct comp_stats {
	uint64_t chunks, raw, stored, min, max;
};

static void stats_of(const struct upk_bundle_component *c, struct comp_stats *st)
{
	struct upk_bundle_chunk_iter it;
	struct upk_bundle_chunk ch;

	memset(st, 0, sizeof(*st));
	st->min = UINT64_MAX;
	upk_bundle_chunk_iter_init(&it, c);
	while (upk_bundle_chunk_iter_next(&it, &ch)) {
		st->chunks++;
		st->raw += ch.raw;
		st->stored += ch.stored_size;
		if (ch.size < st->min)
			st->min = ch.size;
		if (ch.size > st->max)
			st->max = ch.size;
	}
}

static json_t *chunks_json(const struct upk_bundle_component *c)
{
	struct upk_bundle_chunk_iter it;
	struct upk_bundle_chunk ch;
	json_t *arr = json_array();

	upk_bundle_chunk_iter_init(&it, c);
	while (arr && upk_bundle_chunk_iter_next(&it, &ch)) {
		char hex[2 * UPK_SHA256_LEN + 1];

		sha_hex(ch.sha256, hex);
		if (json_array_append_new(arr, json_pack("{s:I, s:I, s:I, s:I, s:b, s:s}", "offset",
							 (json_int_t)ch.offset, "size",
							 (json_int_t)ch.size, "file_offset",
							 (json_int_t)ch.file_offset, "stored_size",
							 (json_int_t)ch.stored_size, "raw", ch.raw,
							 "sha256", hex))) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

static int info_json(struct upks_args *a, const struct upks_bundle *b, bool verified)
{
	const struct upk_bundle_header *h = b->header;
	const struct upk_bundle_manifest *m = h->manifest;
	_cleanup_json_ json_t *o = NULL;
	json_t *custom = NULL, *stats = json_array();
	char hex[2 * UPK_SHA256_LEN + 1];
	struct upk_diag d;

	upk_diag_clear(&d);
	if (upk_bundle_custom_build(h, &custom, &d) != UPK_OK) {
		json_decref(stats);
		return report(&d);
	}
	sha_hex(h->sha256, hex);
	o = json_pack("{s:s, s:I, s:{s:I, s:s}, s:O, s:o, s:o, s:b}", "file", b->path,
		      "file_length", (json_int_t)b->file_length, "header", "length",
		      (json_int_t)h->len, "sha256", hex, "manifest", m->doc, "custom", custom,
		      "components", stats, "verified", verified);
	if (!o)
		goto nomem;
	for (size_t i = 0; i < m->n_components; i++) {
		const struct upk_bundle_component *c = &m->components[i];
		struct comp_stats st;
		json_t *s;

		stats_of(c, &st);
		s = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "name", c->name,
			      "size", (json_int_t)c->size, "chunks", (json_int_t)st.chunks,
			      "raw_chunks", (json_int_t)st.raw, "stored_bytes",
			      (json_int_t)st.stored, "min_chunk", (json_int_t)st.min, "max_chunk",
			      (json_int_t)st.max, "index_offset", (json_int_t)c->index_offset,
			      "data_offset", (json_int_t)c->data_offset);
		if (!s || json_array_append_new(stats, s))
			goto nomem;
		if (a->flag[O_CHUNKS] && json_object_set_new(s, "chunk_list", chunks_json(c)))
			goto nomem;
	}
	return print_json(o);
nomem:
	upk_diag_set(&d, UPK_E_NOMEM, NULL, -1, "out of memory");
	return report(&d);
}

static void info_text(struct upks_args *a, const struct upks_bundle *b, bool verified)
{
	const struct upk_bundle_header *h = b->header;
	const struct upk_bundle_manifest *m = h->manifest;
	char hex[2 * UPK_SHA256_LEN + 1];

	sha_hex(h->sha256, hex);
	printf("bundle            %s (%llu bytes)%s\n", b->path, (unsigned long long)b->file_length,
	       verified ? ", every byte verified" : "");
	printf("format            %s %d\n", UPK_BUNDLE_FORMAT, UPK_BUNDLE_FORMAT_VERSION);
	printf("header            %zu bytes, sha256 %s\n", h->len, hex);
	printf("product           %s\n", m->product);
	printf("hardware         ");
	for (size_t i = 0; i < m->n_hardware; i++)
		printf(" %s", m->hardware[i]);
	printf("\nversion           %s\n", m->version);
	printf("build time        %s\n", m->build_time_str);
	printf("security version  %llu\n", (unsigned long long)m->security_version);
	printf("kind              %s\n", upk_bundle_kind_name(m->kind));
	if (m->mixed_reason)
		printf("mixed reason      %s\n", m->mixed_reason);
	for (size_t i = 0; i < m->n_requirements; i++)
		printf("requires          %s%s%s\n", m->requirements[i].subject,
		       upk_bundle_op_name(m->requirements[i].op), m->requirements[i].version);
	if (m->support_end_str)
		printf("support end       %s\n", m->support_end_str);
	if (m->has_sbom) {
		sha_hex(m->sbom_sha256, hex);
		printf("sbom              %llu bytes, sha256 %s\n",
		       (unsigned long long)m->sbom_size, hex);
	}
	if (m->has_advisory) {
		printf("advisory          %s: %s\n", upk_bundle_severity_name(m->advisory.severity),
		       m->advisory.summary);
		for (size_t i = 0; i < m->advisory.n_cves; i++)
			printf("  cve             %s\n", m->advisory.cves[i]);
		printf("  action          %s\n", m->advisory.action);
	}
	for (size_t i = 0; i < m->n_components; i++) {
		const struct upk_bundle_component *c = &m->components[i];
		struct comp_stats st;

		stats_of(c, &st);
		sha_hex(c->sha256, hex);
		printf("component         %s (%s)\n", c->name, upk_bundle_ctype_name(c->type));
		printf("  size            %llu bytes, sha256 %s\n", (unsigned long long)c->size,
		       hex);
		printf("  stored          %llu bytes at offset %llu (%.3f of size), %s\n",
		       (unsigned long long)c->data_length, (unsigned long long)c->data_offset,
		       (double)c->data_length / (double)c->size, upk_bundle_codec_name(c->codec));
		printf("  chunks          %llu (%s", (unsigned long long)st.chunks,
		       upk_bundle_chunker_name(c->chunking.alg));
		if (c->chunking.alg == UPK_BUNDLE_CHUNK_BLOCK_CDC)
			printf(" %u..%u, block %u, mask %u bits", c->chunking.min, c->chunking.max,
			       c->chunking.block, c->chunking.mask_bits);
		else
			printf(" %u", c->chunking.min);
		printf("), sizes %llu..%llu, average %llu, %llu stored raw\n",
		       (unsigned long long)st.min, (unsigned long long)st.max,
		       (unsigned long long)(c->size / st.chunks), (unsigned long long)st.raw);
		if (a->flag[O_CHUNKS]) {
			struct upk_bundle_chunk_iter it;
			struct upk_bundle_chunk ch;

			upk_bundle_chunk_iter_init(&it, c);
			while (upk_bundle_chunk_iter_next(&it, &ch)) {
				sha_hex(ch.sha256, hex);
				printf("    %llu %u %llu %u%s %s\n", (unsigned long long)ch.offset,
				       ch.size, (unsigned long long)ch.file_offset, ch.stored_size,
				       ch.raw ? " raw" : "", hex);
			}
		}
	}
}

static int run_info(struct upks_args *a)
{
	_cleanup_(upks_bundle_closep) struct upks_bundle *b = NULL;
	struct upk_diag d;
	bool verified = false;

	upk_diag_clear(&d);
	if (a->operands.n != 1)
		return upk_cli_usage_error(PROG, "bundle info: give exactly one FILE.upk");
	if (upks_bundle_open(a->operands.v[0], &b, &d) != UPK_OK) {
		if (d.err == UPK_E_NOT_FOUND)
			d.err = UPK_E_USAGE;
		return report(&d);
	}
	if (a->flag[O_VERIFY]) {
		if (upks_bundle_verify(b, NULL, &d) != UPK_OK)
			return report(&d);
		verified = true;
	}
	if (a->flag[O_JSON])
		return info_json(a, b, verified);
	info_text(a, b, verified);
	return 0;
}

static void bundle_usage(FILE *f)
{
	fprintf(f, "Usage: upkeep-server bundle create|info [OPTIONS]\n\n"
		   "  create   build a release bundle (FILE.upk) from a firmware image and models\n"
		   "  info     print (and with --verify check) a bundle\n\n"
		   "Run 'upkeep-server bundle COMMAND --help' for its options.\n");
}

int upks_cmd_bundle(int argc, char **argv)
{
	struct upks_args a;
	int code;

	if (argc < 2) {
		bundle_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		bundle_usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", PROG, UPKEEP_VERSION);
		return 0;
	}
	memset(&a, 0, sizeof(a));
	if (!strcmp(argv[1], "create")) {
		code = parse_args("bundle create", create_opts, UPK_ARRAY_SIZE(create_opts), false,
				  create_help, argc - 1, argv + 1, &a);
		if (code < 0)
			code = run_create(&a);
	} else if (!strcmp(argv[1], "info")) {
		code = parse_args("bundle info", info_opts, UPK_ARRAY_SIZE(info_opts), true,
				  info_help, argc - 1, argv + 1, &a);
		if (code < 0)
			code = run_info(&a);
	} else {
		code = upk_cli_usage_error(PROG, "bundle: unknown command '%s'", argv[1]);
	}
	upks_args_done(&a);
	return finish(code);
}
