/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upkeep-keys: make and manage private key files (CLI.md; the manual is
 * keys/upkeep-keys.1.md, the file format keys/FORMAT.md). This is the shell:
 * options, passphrases, output. The key file logic is keys/keyfile.c.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fileio.h"
#include "json.h"
#include "keyfile.h"
#include "passphrase.h"

#define PROG "upkeep-keys"
/* Where a passphrase comes from, in CLI.md's order: file option, environment, terminal. */
struct pass_source {
	const char *file;     /* value of the file option, or NULL */
	const char *file_opt; /* its name, for messages */
	const char *env;      /* environment variable */
	const char *what;     /* "passphrase", "new passphrase" */
	bool is_new;	      /* ask twice on a terminal; refuse an empty one */
	const char *none_opt; /* the option for "no passphrase", when is_new */
};

static enum upk_err get_passphrase(const struct pass_source *src, const char *keyfile,
				   struct upkk_passphrase *ret, struct upk_diag *d)
{
	_cleanup_passphrase_ struct upkk_passphrase again = { 0 };
	char prompt[512];
	enum upk_err r;

	if (src->file)
		r = upkk_passphrase_from_file(src->file, ret, d);
	else
		r = upkk_passphrase_from_env(src->env, ret, d);
	if (!r && !ret->have) {
		if (!isatty(STDIN_FILENO))
			return upk_diag_set(d, UPK_E_USAGE, keyfile, -1,
					    "a %s is needed: give %s F or set %s (stdin is not a "
					    "terminal, so there is no prompt)",
					    src->what, src->file_opt, src->env);
		snprintf(prompt, sizeof(prompt),
			 "%c%s for %s: ", toupper((unsigned char)src->what[0]), src->what + 1,
			 keyfile);
		r = upkk_passphrase_prompt(prompt, ret, d);
		if (!r && src->is_new) {
			snprintf(prompt, sizeof(prompt), "Repeat the %s: ", src->what);
			r = upkk_passphrase_prompt(prompt, &again, d);
			if (!r && !upkk_passphrase_equal(ret, &again))
				r = upk_diag_set(d, UPK_E_USAGE, keyfile, -1,
						 "the passphrases do not match");
		}
	}
	if (r)
		return r;
	if (src->is_new && ret->len == 0)
		return upk_diag_set(d, UPK_E_USAGE, keyfile, -1,
				    "the %s is empty (%s writes the key unencrypted)", src->what,
				    src->none_opt);
	return UPK_OK;
}

/* ---- options ---- */

enum {
	OPT_HELP = 0x100,
	OPT_VERSION,
	OPT_OUT,
	OPT_TYPE,
	OPT_PASSFILE,
	OPT_NO_PASS,
	OPT_NEW_PASSFILE,
	OPT_NO_NEW_PASS,
	OPT_KDF,
	OPT_FORCE,
	OPT_JSON,
	OPT_VERIFY,
};

struct opts {
	const char *out, *type, *pass_file, *new_pass_file, *kdf;
	bool no_pass, no_new_pass, force, json, verify;
	const char *file; /* the FILE operand */
};

struct command {
	const char *name;
	int (*run)(const struct opts *o);
	const char *summary;
	const char *usage;  /* after "upkeep-keys NAME " */
	const char *help;   /* option descriptions */
	const int *options; /* accepted OPT_* values, 0-terminated */
	bool takes_file;    /* exactly one FILE operand */
};

static const struct option all_options[] = {
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "out", required_argument, NULL, OPT_OUT },
	{ "type", required_argument, NULL, OPT_TYPE },
	{ "passphrase-file", required_argument, NULL, OPT_PASSFILE },
	{ "no-passphrase", no_argument, NULL, OPT_NO_PASS },
	{ "new-passphrase-file", required_argument, NULL, OPT_NEW_PASSFILE },
	{ "no-new-passphrase", no_argument, NULL, OPT_NO_NEW_PASS },
	{ "kdf", required_argument, NULL, OPT_KDF },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ NULL, 0, NULL, 0 },
};

static const char *option_name(int id)
{
	for (const struct option *o = all_options; o->name; o++) {
		if (o->val == id)
			return o->name;
	}
	return "?";
}

static bool accepts(const struct command *cmd, int id)
{
	if (id == OPT_HELP || id == OPT_VERSION)
		return true;
	for (const int *p = cmd->options; *p; p++) {
		if (*p == id)
			return true;
	}
	return false;
}

static void command_help(const struct command *cmd)
{
	printf("Usage: %s %s %s\n\n%s.\n\nOptions:\n%s"
	       "  --help                    show this help and exit\n"
	       "  --version                 show the version and exit\n\n"
	       "Passphrases come from the file option (its first line), else the environment\n"
	       "variable, else a prompt on the terminal when stdin is one.\n"
	       "Exit codes: 0 ok, 1 I/O error, 2 usage error, wrong passphrase or unusable key\n"
	       "file (CLI.md). Manual: keys/upkeep-keys.1.md.\n",
	       PROG, cmd->name, cmd->usage, cmd->summary, cmd->help);
}

/*
 * Parse argv (argv[0] is the command name) into o. Returns -1 to go on, or
 * the exit code to end with (0 after --help/--version, 2 on a usage error).
 */
static int parse_options(const struct command *cmd, int argc, char **argv, struct opts *o)
{
	int c, nfile = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", all_options, NULL)) != -1) {
		if (c == '?' || c == ':') {
			const char *arg = argv[optind - 1];
			return upk_cli_usage_error(
				PROG, "%s: %s '%s'", cmd->name,
				c == '?' ? "unknown option" : "missing value for", arg);
		}
		if (!accepts(cmd, c))
			return upk_cli_usage_error(PROG, "%s: option --%s does not apply here",
						   cmd->name, option_name(c));
		switch (c) {
		case OPT_HELP:
			command_help(cmd);
			return 0;
		case OPT_VERSION:
			printf("%s %s\n", PROG, UPKEEP_VERSION);
			return 0;
		case OPT_OUT:
			o->out = optarg;
			break;
		case OPT_TYPE:
			o->type = optarg;
			break;
		case OPT_PASSFILE:
			o->pass_file = optarg;
			break;
		case OPT_NO_PASS:
			o->no_pass = true;
			break;
		case OPT_NEW_PASSFILE:
			o->new_pass_file = optarg;
			break;
		case OPT_NO_NEW_PASS:
			o->no_new_pass = true;
			break;
		case OPT_KDF:
			o->kdf = optarg;
			break;
		case OPT_FORCE:
			o->force = true;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_VERIFY:
			o->verify = true;
			break;
		default:
			return upk_cli_usage_error(PROG, "%s: unexpected option", cmd->name);
		}
	}
	for (int i = optind; i < argc; i++, nfile++)
		o->file = argv[i];
	if (cmd->takes_file && nfile != 1)
		return upk_cli_usage_error(PROG, "%s: expected one FILE, got %d", cmd->name, nfile);
	if (!cmd->takes_file && nfile)
		return upk_cli_usage_error(PROG, "%s: unexpected argument '%s'", cmd->name,
					   argv[optind]);
	return -1;
}

static int report(const struct upk_diag *d)
{
	return upk_cli_report(PROG, d);
}

/* Report d with `path` in front of whatever field it names. */
static int report_at(struct upk_diag *d, const char *path)
{
	upk_diag_prefix_where(d, path);
	return report(d);
}

/* ---- output ---- */

static enum upk_err print_json(const json_t *v, struct upk_diag *d)
{
	_cleanup_buf_ struct upk_buf out = UPK_BUF_INIT;
	enum upk_err r = upk_json_serialize(v, &out);

	if (r)
		return upk_diag_set(d, r, "stdout", -1, "cannot serialize the output");
	fwrite(out.data, 1, out.len, stdout);
	return UPK_OK;
}

/*
 * show's report: key id, public key object, and how the secret is protected.
 * The key object is one line of compact JSON with sorted keys: the canonical
 * JSON the key id is computed over, except that control characters (the
 * newlines of an ECDSA key's PEM) are escaped, so the report stays one line
 * per item.
 */
static enum upk_err print_key_info(const struct upkk_file *f, bool as_json, struct upk_diag *d)
{
	_cleanup_json_ json_t *info = NULL;
	_cleanup_free_ char *line = NULL;

	if (as_json) {
		json_t *enc = f->encrypted ? json_pack("{s:s, s:I, s:I, s:s}", "kdf", UPKK_KDF_NAME,
						       "opslimit", (json_int_t)f->kdf.opslimit,
						       "memlimit", (json_int_t)f->kdf.memlimit,
						       "cipher", UPKK_CIPHER_NAME)
					   : json_null();

		if (!enc)
			return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, "out of memory");
		/* "o" hands enc over to info, also when packing fails. */
		info = json_pack("{s:s, s:O, s:o}", "keyid", f->keyid, "key", f->public_obj,
				 "encryption", enc);
		if (!info)
			return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, "out of memory");
		return print_json(info, d);
	}
	line = json_dumps(f->public_obj, JSON_COMPACT | JSON_SORT_KEYS);
	if (!line)
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, "out of memory");
	printf("keyid: %s\nkey: %s\n", f->keyid, line);
	if (f->encrypted)
		printf("encryption: %s (opslimit %llu, memlimit %llu bytes), %s\n", UPKK_KDF_NAME,
		       (unsigned long long)f->kdf.opslimit, (unsigned long long)f->kdf.memlimit,
		       UPKK_CIPHER_NAME);
	else
		printf("encryption: none\n");
	return UPK_OK;
}

/* ---- commands ---- */

static struct pass_source old_source(const struct opts *o)
{
	return (struct pass_source){
		o->pass_file, "--passphrase-file", "UPKEEP_PASSPHRASE", "passphrase", false, NULL
	};
}

/* Read FILE, and with --verify also open it (passphrase needed if encrypted). */
static enum upk_err read_keyfile(const struct opts *o, struct upkk_file **ret, struct upk_diag *d)
{
	_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;
	_cleanup_(upkk_key_freep) struct upkk_key *key = NULL;
	_cleanup_passphrase_ struct upkk_passphrase pass = { 0 };
	const struct pass_source src = old_source(o);
	enum upk_err r = upkk_file_read(o->file, &f, d);

	if (r)
		return r;
	if (o->verify) {
		if (f->encrypted) {
			r = get_passphrase(&src, o->file, &pass, d);
			if (r)
				return r;
		}
		r = upkk_file_open(f, pass.data, pass.len, &key, d);
		if (r) {
			upk_diag_prefix_where(d, o->file);
			return r;
		}
	}
	*ret = f;
	f = NULL;
	return UPK_OK;
}

static int cmd_generate(const struct opts *o)
{
	_cleanup_(upkk_key_freep) struct upkk_key *key = NULL;
	_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;
	_cleanup_passphrase_ struct upkk_passphrase pass = { 0 };
	const struct pass_source src = {
		o->pass_file, "--passphrase-file", "UPKEEP_PASSPHRASE", "new passphrase",
		true,	      "--no-passphrase"
	};
	struct upkk_kdf_params kdf;
	enum upk_keytype type = UPK_KEYTYPE_ED25519;
	struct upk_diag d;
	enum upk_err r;

	upk_diag_clear(&d);
	upkk_kdf_params_default(&kdf);
	if (!o->out)
		return upk_cli_usage_error(PROG, "generate: --out FILE is required");
	if (o->pass_file && o->no_pass)
		return upk_cli_usage_error(PROG, "generate: --passphrase-file and --no-passphrase "
						 "exclude each other");
	if (o->type && !upkk_keytype_from_name(o->type, &type))
		return upk_cli_usage_error(PROG,
					   "generate: key type '%s' is not supported (supported: "
					   "ed25519, ecdsa)",
					   o->type);
	if (o->kdf && o->no_pass)
		return upk_cli_usage_error(PROG, "generate: --kdf needs a passphrase");
	if (o->kdf && !upkk_kdf_params_from_name(o->kdf, &kdf))
		return upk_cli_usage_error(PROG,
					   "generate: --kdf '%s': expected interactive, moderate "
					   "or sensitive",
					   o->kdf);
	/* Checked again, without a race, when the file is linked into place. */
	if (!o->force && upk_io_exists(o->out)) {
		upk_diag_set(&d, UPK_E_EXISTS, o->out, -1,
			     "already exists; not overwritten (--force replaces it)");
		return report(&d);
	}
	if (!o->no_pass) {
		r = get_passphrase(&src, o->out, &pass, &d);
		if (r)
			return report(&d);
	}
	r = upkk_key_generate(type, &key, &d);
	if (!r)
		r = upkk_file_seal(key, pass.data, pass.len, &kdf, &f, &d);
	if (r)
		return report_at(&d, o->out);
	r = upkk_file_write(o->out, f, o->force, &d);
	if (r)
		return report(&d);
	if (o->json)
		r = print_key_info(f, true, &d);
	else
		printf("%s\n", f->keyid);
	return r ? report(&d) : 0;
}

static int cmd_show(const struct opts *o)
{
	_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;
	struct upk_diag d;
	enum upk_err r;

	upk_diag_clear(&d);
	r = read_keyfile(o, &f, &d);
	if (!r)
		r = print_key_info(f, o->json, &d);
	return r ? report(&d) : 0;
}

static int cmd_export_public(const struct opts *o)
{
	_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;
	struct upk_diag d;
	enum upk_err r;

	upk_diag_clear(&d);
	r = read_keyfile(o, &f, &d);
	if (!r)
		r = print_json(f->public_obj, &d);
	return r ? report(&d) : 0;
}

static int cmd_change_passphrase(const struct opts *o)
{
	_cleanup_(upkk_file_freep) struct upkk_file *f = NULL;
	_cleanup_(upkk_file_freep) struct upkk_file *sealed = NULL;
	_cleanup_(upkk_key_freep) struct upkk_key *key = NULL;
	_cleanup_passphrase_ struct upkk_passphrase old = { 0 };
	_cleanup_passphrase_ struct upkk_passphrase new = { 0 };
	const struct pass_source old_src = old_source(o);
	const struct pass_source new_src = { o->new_pass_file,
					     "--new-passphrase-file",
					     "UPKEEP_NEW_PASSPHRASE",
					     "new passphrase",
					     true,
					     "--no-new-passphrase" };
	struct upkk_kdf_params kdf;
	struct upk_diag d;
	enum upk_err r;

	upk_diag_clear(&d);
	upkk_kdf_params_default(&kdf);
	if (o->new_pass_file && o->no_new_pass)
		return upk_cli_usage_error(PROG, "change-passphrase: --new-passphrase-file and "
						 "--no-new-passphrase exclude each other");
	if (o->kdf && o->no_new_pass)
		return upk_cli_usage_error(PROG, "change-passphrase: --kdf needs a passphrase");
	if (o->kdf && !upkk_kdf_params_from_name(o->kdf, &kdf))
		return upk_cli_usage_error(PROG,
					   "change-passphrase: --kdf '%s': expected interactive, "
					   "moderate or sensitive",
					   o->kdf);
	r = upkk_file_read(o->file, &f, &d);
	if (r)
		return report(&d);
	if (f->encrypted) {
		r = get_passphrase(&old_src, o->file, &old, &d);
		if (r)
			return report(&d);
		/* Keep the file's KDF cost unless asked otherwise: never weaken it silently. */
		if (!o->kdf)
			kdf = f->kdf;
	}
	r = upkk_file_open(f, old.data, old.len, &key, &d);
	if (r)
		return report_at(&d, o->file);
	if (!o->no_new_pass) {
		r = get_passphrase(&new_src, o->file, &new, &d);
		if (r)
			return report(&d);
	}
	r = upkk_file_seal(key, new.data, new.len, &kdf, &sealed, &d);
	if (r)
		return report_at(&d, o->file);
	r = upkk_file_write(o->file, sealed, true, &d);
	return r ? report(&d) : 0;
}

static const int generate_opts[] = { OPT_OUT, OPT_TYPE,	 OPT_PASSFILE, OPT_NO_PASS,
				     OPT_KDF, OPT_FORCE, OPT_JSON,     0 };
static const int show_opts[] = { OPT_JSON, OPT_VERIFY, OPT_PASSFILE, 0 };
static const int export_opts[] = { OPT_VERIFY, OPT_PASSFILE, 0 };
static const int change_opts[] = { OPT_PASSFILE, OPT_NEW_PASSFILE, OPT_NO_NEW_PASS, OPT_KDF, 0 };

static const struct command commands[] = {
	{ "generate", cmd_generate, "Make a new private key file and print its TUF key id",
	  "--out FILE [--type ed25519|ecdsa] [--passphrase-file F | --no-passphrase] "
	  "[OPTIONS]",
	  "  --out FILE                the key file to write (mode 0600, atomically)\n"
	  "  --type TYPE               ed25519 (the default) or ecdsa (P-256, scheme\n"
	  "                            ecdsa-sha2-nistp256)\n"
	  "  --passphrase-file F       read the passphrase from F's first line\n"
	  "                            (else $UPKEEP_PASSPHRASE, else asked twice)\n"
	  "  --no-passphrase           store the key unencrypted (for unattended use)\n"
	  "  --kdf LEVEL               Argon2id cost: interactive (default), moderate,\n"
	  "                            sensitive (libsodium presets)\n"
	  "  --force                   replace FILE if it exists\n"
	  "  --json                    print what show --json prints instead of the key id\n",
	  generate_opts, false },
	{ "show", cmd_show, "Print a key file's TUF key id, public key object and protection",
	  "FILE [--json] [--verify [--passphrase-file F]]",
	  "  --json                    machine-readable output\n"
	  "  --verify                  also decrypt the key and check it matches its public\n"
	  "                            key (needs the passphrase)\n"
	  "  --passphrase-file F       passphrase for --verify (else $UPKEEP_PASSPHRASE,\n"
	  "                            else asked)\n",
	  show_opts, true },
	{ "export-public", cmd_export_public,
	  "Print the TUF public key object of a key file as JSON",
	  "FILE [--verify [--passphrase-file F]]",
	  "  --verify                  also decrypt the key and check it matches its public\n"
	  "                            key (needs the passphrase)\n"
	  "  --passphrase-file F       passphrase for --verify (else $UPKEEP_PASSPHRASE,\n"
	  "                            else asked)\n",
	  export_opts, true },
	{ "change-passphrase", cmd_change_passphrase,
	  "Re-encrypt a key file under a new passphrase, atomically",
	  "FILE [--passphrase-file F] [--new-passphrase-file F | --no-new-passphrase]",
	  "  --passphrase-file F       the current passphrase (else $UPKEEP_PASSPHRASE,\n"
	  "                            else asked)\n"
	  "  --new-passphrase-file F   the new passphrase (else $UPKEEP_NEW_PASSPHRASE,\n"
	  "                            else asked twice)\n"
	  "  --no-new-passphrase       store the key unencrypted from now on\n"
	  "  --kdf LEVEL               Argon2id cost for the new encryption (default: the\n"
	  "                            file's current cost, or interactive)\n",
	  change_opts, true },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s COMMAND [OPTIONS]\n\n"
		"Make and manage the private key files that sign an Upkeep TUF repository.\n\n"
		"Commands:\n",
		PROG);
	for (size_t i = 0; i < UPK_ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\nRun '%s COMMAND --help' for a command's options. Manual: "
		"keys/upkeep-keys.1.md.\n",
		PROG);
}

/* A failed write to stdout (a full disk, a closed pipe) must not look like success. */
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

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return upk_err_exit_code(UPK_E_USAGE);
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return finish(0);
	}
	if (!strcmp(argv[1], "--version")) {
		printf("%s %s\n", PROG, UPKEEP_VERSION);
		return finish(0);
	}
	for (size_t i = 0; i < UPK_ARRAY_SIZE(commands); i++) {
		struct opts o = { 0 };
		int code;

		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		code = parse_options(&commands[i], argc - 1, argv + 1, &o);
		if (code < 0)
			code = commands[i].run(&o);
		return finish(code);
	}
	return upk_cli_usage_error(PROG, "unknown command '%s'", argv[1]);
}
