/* SPDX-License-Identifier: Apache-2.0 */
/*
 * upkeep-server serve: options, the process around the server (file limit,
 * signals, the "listening on" line), and the wait for SIGTERM or SIGINT.
 * The options are documented in upkeep-server-serve.1.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"
#include "repo.h"
#include "serve.h"

#define PROG			     "upkeep-server"
#define SERVE_RESIGN_CHECK_DEFAULT_S 60

struct resign_ctx {
	const char *repo;
	const char *online_keys;
};

/*
 * The serve tick: re-sign what has reached half its lifetime. Failures are
 * reported on stderr and retried at the next tick (a held lock is normal
 * while a release command runs); serving never stops because of them.
 */
static void resign_tick(void *p)
{
	const struct resign_ctx *ctx = p;
	struct upk_diag diag = { 0 };
	bool changed = false;

	if (upks_repo_refresh_if_due(ctx->repo, ctx->online_keys, (int64_t)time(NULL), &changed,
				     &diag) != UPK_OK) {
		if (diag.err != UPK_E_LOCKED)
			(void)upk_cli_report(PROG, &diag);
		return;
	}
	if (changed)
		fprintf(stderr, "%s: serve: re-signed metadata with the online keys\n", PROG);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: upkeep-server serve --repo DIR [OPTIONS]\n"
		"\n"
		"Serve the repository's /metadata/ and /targets/ over HTTP: GET and HEAD, single\n"
		"byte ranges, strong ETags, If-None-Match. Nothing outside DIR is ever served.\n"
		"\n"
		"Options:\n"
		"  --repo DIR             the repository directory (required)\n"
		"  --listen HOST:PORT     IP address and port (default 127.0.0.1:8080; IPv6 as\n"
		"                         [::1]:8080; port 0 picks a free port)\n"
		"  --access-log FILE      append one line per request to FILE (default stderr)\n"
		"  --max-connections N    concurrent connections, 1-100000 (default %u)\n"
		"  --timeout SECONDS      close a connection idle this long, 1-86400 (default %u)\n"
		"  --threads N            worker threads, 1-256 (default one per CPU)\n"
		"  --online-keys DIR      re-sign timestamp (and snapshot) with the online keys "
		"in\n"
		"                         DIR by itself once half their lifetime has passed\n"
		"                         (default $UPKEEP_ONLINE_KEYS; without it, only serve)\n"
		"  --resign-check SECONDS how often to check whether re-signing is due, 1-3600\n"
		"                         (default %u)\n"
		"  --help                 this text\n"
		"  --version              the version\n"
		"\n"
		"Prints \"listening on http://HOST:PORT\" on stdout once it accepts connections.\n"
		"SIGTERM or SIGINT stops it with exit code 0.\n",
		UPKS_SERVE_DEFAULT_MAX_CONNECTIONS, UPKS_SERVE_DEFAULT_TIMEOUT_S,
		SERVE_RESIGN_CHECK_DEFAULT_S);
}

/* A decimal number in [min, max], digits only. */
static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret)
{
	unsigned long long v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max)
			return false;
	}
	if (v < min)
		return false;
	*ret = (unsigned)v;
	return true;
}

/*
 * Each connection holds its socket and, while a file goes out, the file:
 * raise the soft limit on descriptors towards what the connection limit
 * needs (never past the hard limit, which stays the operator's).
 */
static void raise_fd_limit(unsigned max_connections)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)max_connections * 2 + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

int upks_cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "listen", required_argument, NULL, 'l' },
		{ "access-log", required_argument, NULL, 'a' },
		{ "max-connections", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "threads", required_argument, NULL, 'T' },
		{ "online-keys", required_argument, NULL, 'k' },
		{ "resign-check", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *repo = NULL, *listen_spec = "127.0.0.1:8080", *access_log = NULL;
	struct upks_serve_opts opts = { .access_log_fd = STDERR_FILENO };
	struct sockaddr_storage addr;
	struct upks_server *server = NULL;
	struct upk_diag diag = { 0 };
	char where[128];
	sigset_t stop_signals;
	int opt, sig, log_fd = -1;
	struct resign_ctx resign = { 0 };
	unsigned resign_check_s = SERVE_RESIGN_CHECK_DEFAULT_S;

	optind = 0; /* full reset: main may have used getopt, and tests call us twice */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			repo = optarg;
			break;
		case 'l':
			listen_spec = optarg;
			break;
		case 'a':
			access_log = optarg;
			break;
		case 'm':
			if (!parse_uint(optarg, 1, 100000, &opts.max_connections))
				return upk_cli_usage_error(
					PROG,
					"--max-connections: '%s' is not a number from 1 to 100000",
					optarg);
			break;
		case 't':
			if (!parse_uint(optarg, 1, 86400, &opts.timeout_s))
				return upk_cli_usage_error(PROG,
							   "--timeout: '%s' is not a number of "
							   "seconds from 1 to 86400",
							   optarg);
			break;
		case 'T':
			if (!parse_uint(optarg, 1, 256, &opts.threads))
				return upk_cli_usage_error(
					PROG, "--threads: '%s' is not a number from 1 to 256",
					optarg);
			break;
		case 'k':
			resign.online_keys = optarg;
			break;
		case 'R':
			if (!parse_uint(optarg, 1, 3600, &resign_check_s))
				return upk_cli_usage_error(
					PROG,
					"--resign-check: '%s' is not a number of "
					"seconds from 1 to 3600",
					optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("upkeep-server %s\n", UPKEEP_VERSION);
			return 0;
		case ':':
			return upk_cli_usage_error(PROG, "serve: option '%s' needs a value",
						   argv[optind - 1]);
		default:
			return upk_cli_usage_error(PROG, "serve: unknown option '%s'",
						   argv[optind - 1]);
		}
	}
	if (optind < argc)
		return upk_cli_usage_error(PROG, "serve: unexpected argument '%s'", argv[optind]);
	if (!repo)
		return upk_cli_usage_error(PROG, "serve: --repo DIR is required");
	if (upks_serve_listen_parse(listen_spec, &addr, &opts.listen_addr_len, &diag) != UPK_OK)
		return upk_cli_usage_error(PROG, "serve: %s", diag.reason);
	opts.listen_addr = (const struct sockaddr *)&addr;
	opts.repo = repo;
	if (!resign.online_keys)
		resign.online_keys = getenv("UPKEEP_ONLINE_KEYS");
	if (resign.online_keys && *resign.online_keys) {
		bool changed = false;
		/* Check the keys once before serving: a bad directory is a usage error now,
		 * not a stream of log lines later. */
		struct stat st;

		if (stat(resign.online_keys, &st) != 0 || !S_ISDIR(st.st_mode)) {
			upk_diag_set(&diag, UPK_E_USAGE, resign.online_keys, -1,
				     "the online keys directory does not exist");
			return upk_cli_report(PROG, &diag);
		}
		resign.repo = repo;
		if (upks_repo_refresh_if_due(repo, resign.online_keys, (int64_t)time(NULL),
					     &changed, &diag) != UPK_OK &&
		    diag.err != UPK_E_LOCKED)
			return upk_cli_report(PROG, &diag);
		opts.tick = resign_tick;
		opts.tick_ctx = &resign;
		opts.tick_interval_ms = resign_check_s * 1000;
	}

	if (access_log) {
		log_fd = open(access_log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
			      0640);
		if (log_fd < 0) {
			upk_diag_set(&diag, UPK_E_CONFIG, access_log, -1,
				     "cannot open the access log: %s", strerror(errno));
			return upk_cli_report(PROG, &diag);
		}
		opts.access_log_fd = log_fd;
	}
	raise_fd_limit(opts.max_connections ? opts.max_connections
					    : UPKS_SERVE_DEFAULT_MAX_CONNECTIONS);

	/* Taken by sigwait below, never by a handler: nothing runs in signal context. */
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
	/* A closed stdout or log pipe is an error return from write, not a kill. */
	signal(SIGPIPE, SIG_IGN);

	if (upks_serve_start(&opts, &server, &diag) != UPK_OK) {
		if (log_fd >= 0)
			close(log_fd);
		return upk_cli_report(PROG, &diag);
	}
	upks_serve_address(server, where, sizeof(where));
	printf("listening on http://%s\n", where);
	fflush(stdout);

	do {
		if (sigwait(&stop_signals, &sig) != 0)
			sig = 0;
	} while (sig != SIGTERM && sig != SIGINT);

	upks_serve_stop(server);
	if (log_fd >= 0)
		close(log_fd);
	return 0;
}
