/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addclosefrom_np, environ */
#include "proc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

/* Longest sleep between two looks at the child when there is no output to wait on. */
#define PROC_MAX_NAP_MS 50

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void close_fdp(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

/*
 * environ with `extra` on top: an extra NAME=value replaces environ's NAME,
 * since a duplicate would leave the child's getenv() to pick either one.
 * Built before the spawn, because nothing may allocate in the child.
 */
static char **merge_env(const char *const *extra)
{
	size_t n_env = 0, n_extra = 0, total, k = 0;
	char **out;

	while (environ && environ[n_env])
		n_env++;
	while (extra && extra[n_extra])
		n_extra++;
	if (!upk_size_add(n_env, n_extra, &total) || !upk_size_add(total, 1, &total))
		return NULL;
	out = calloc(total, sizeof(*out));
	if (!out)
		return NULL;
	for (size_t i = 0; i < n_env; i++) {
		const char *eq = strchr(environ[i], '=');
		size_t nlen = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);
		bool replaced = false;

		for (size_t j = 0; j < n_extra && !replaced; j++)
			replaced =
				strncmp(extra[j], environ[i], nlen) == 0 && extra[j][nlen] == '=';
		if (!replaced)
			out[k++] = environ[i];
	}
	for (size_t j = 0; j < n_extra; j++) {
		assert(strchr(extra[j], '=') != NULL);
		out[k++] = (char *)(uintptr_t)extra[j];
	}
	out[k] = NULL;
	return out;
}

/* The child has ended (not reaped yet, so its pid and process group id stay ours). */
static bool child_ended(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	for (;;) {
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
			return si.si_pid == pid;
		if (errno != EINTR)
			return true; /* ECHILD: nothing left to wait for */
	}
}

static int reap(pid_t pid)
{
	int st = 0;

	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return 255;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 255;
}

/*
 * Read what is available on fd into out. Returns 1 on data, 0 on EOF, -1
 * when out_max would be passed (nothing of that read is kept), -2 on a
 * read error or allocation failure.
 */
static int pump(int fd, struct upk_buf *out, size_t start, size_t out_max)
{
	uint8_t chunk[4096];
	ssize_t n;

	do
		n = read(fd, chunk, sizeof(chunk));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? 1 : -2;
	if (n == 0)
		return 0;
	if ((size_t)n > out_max - (out->len - start))
		return -1;
	return upk_buf_append(out, chunk, (size_t)n) == UPK_OK ? 1 : -2;
}

/* Drop what this run appended (outputs untouched on failure). */
static void unappend(struct upk_buf *out, size_t start)
{
	if (!out)
		return;
	out->len = start;
	if (out->data)
		out->data[start] = 0;
}

/* Wait up to ms for fd to be readable (fd < 0: just sleep). */
static void nap(int fd, int64_t ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (ms < 0)
		ms = 0;
	(void)poll(&p, fd >= 0 ? 1 : 0, (int)ms);
}

static enum upk_err spawn(const char *const *argv, const struct upkc_proc_opts *o, int out_fd,
			  pid_t *ret_pid, struct upk_diag *diag)
{
	const char *what = o->what ? o->what : argv[0];
	_cleanup_free_ char **envp = merge_env(o->env);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid;
	int r;

	if (!envp)
		return upk_diag_set(diag, UPK_E_NOMEM, what, -1, "out of memory");
	if (posix_spawn_file_actions_init(&fa) != 0)
		return upk_diag_set(diag, UPK_E_NOMEM, what, -1, "out of memory");
	if (posix_spawnattr_init(&attr) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return upk_diag_set(diag, UPK_E_NOMEM, what, -1, "out of memory");
	}
	sigemptyset(&none);
	sigfillset(&all);
	/*
	 * Own process group (so a timeout kills the command's children too),
	 * no blocked and no ignored signals inherited from the agent, stdin
	 * /dev/null, stdout the capture pipe, nothing else open.
	 */
	r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						    POSIX_SPAWN_SETSIGDEF);
	if (!r)
		r = posix_spawnattr_setpgroup(&attr, 0);
	if (!r)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(&attr, &all);
	if (!r)
		r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (!r && out_fd >= 0)
		r = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (!r)
		r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (!r)
		r = posix_spawnp(&pid, argv[0], &fa, &attr, (char *const *)(uintptr_t)argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r)
		return upk_diag_set(diag, r == ENOMEM ? UPK_E_NOMEM : UPK_E_IO, what, -1,
				    "cannot run %s: %s", argv[0], strerror(r));
	*ret_pid = pid;
	return UPK_OK;
}

enum upk_err upkc_proc_run(const char *const *argv, const struct upkc_proc_opts *o, int *ret_status,
			   struct upk_diag *reterr_diag)
{
	const char *what;
	_cleanup_(close_fdp) int rfd = -1;
	int pipefd[2] = { -1, -1 };
	size_t start = 0;
	int64_t deadline, nap_ms = 1;
	enum { RUNNING, ENDED, TIMED_OUT, OVERFLOW, READ_FAILED } how = RUNNING;
	pid_t pid = -1;
	enum upk_err r;
	int status;

	assert(argv && argv[0] && o && o->timeout_ms > 0);
	what = o->what ? o->what : argv[0];
	if (o->out) {
		if (pipe2(pipefd, O_CLOEXEC) < 0)
			return upk_diag_set(reterr_diag, UPK_E_IO, what, -1,
					    "cannot make a pipe: %s", strerror(errno));
		rfd = pipefd[0];
		start = o->out->len;
	}
	deadline = now_ms() + o->timeout_ms;
	r = spawn(argv, o, pipefd[1], &pid, reterr_diag);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	if (r)
		return r;
	if (rfd >= 0)
		(void)fcntl(rfd, F_SETFL, O_NONBLOCK);

	/*
	 * Read the output until the child ends, the time runs out or the
	 * output passes its limit. Without a descriptor to wait on, look at
	 * the child after naps that grow to PROC_MAX_NAP_MS (no pidfd: device
	 * kernels older than 5.3 are common).
	 */
	while (how == RUNNING) {
		int64_t left;

		if (child_ended(pid)) {
			how = ENDED;
			break;
		}
		left = deadline - now_ms();
		if (left <= 0) {
			how = TIMED_OUT;
			break;
		}
		nap(rfd, left < nap_ms ? left : nap_ms);
		if (rfd >= 0) {
			int p = pump(rfd, o->out, start, o->out_max);

			if (p == 0) {
				close(rfd);
				rfd = -1;
				nap_ms = 1;
			} else if (p == -1) {
				how = OVERFLOW;
			} else if (p == -2) {
				how = READ_FAILED;
			}
		}
		if (nap_ms < PROC_MAX_NAP_MS)
			nap_ms *= 2;
	}

	/*
	 * Kill the whole group while the child is still unreaped (its pid
	 * cannot be reused yet): on a timeout, and also after a normal end,
	 * so that no background process of the command outlives it holding
	 * the capture pipe, the device or the agent's lock.
	 */
	(void)kill(-pid, SIGKILL);
	(void)kill(pid, SIGKILL); /* in case it left the group (setsid) */
	/* The group is dead: what is left in the pipe comes within the deadline or never. */
	while (how == ENDED && rfd >= 0) {
		int64_t left = deadline - now_ms();
		int p;

		if (left <= 0)
			break;
		nap(rfd, left);
		p = pump(rfd, o->out, start, o->out_max);
		if (p == 0)
			break;
		if (p == -1)
			how = OVERFLOW;
		else if (p == -2)
			how = READ_FAILED;
	}
	status = reap(pid);

	switch (how) {
	case RUNNING:
	case ENDED:
		break;
	case TIMED_OUT:
		unappend(o->out, start);
		return upk_diag_set(reterr_diag, UPK_E_TIMEOUT, what, -1,
				    "%s killed after the time limit of %lld ms", argv[0],
				    (long long)o->timeout_ms);
	case OVERFLOW:
		unappend(o->out, start);
		return upk_diag_set(reterr_diag, UPK_E_TOO_LARGE, what, -1,
				    "%s printed more than %zu bytes; killed", argv[0], o->out_max);
	case READ_FAILED:
		unappend(o->out, start);
		return upk_diag_set(reterr_diag, UPK_E_IO, what, -1, "cannot read the output of %s",
				    argv[0]);
	}
	if (o->out && o->out->data)
		o->out->data[o->out->len] = 0;
	*ret_status = status;
	return UPK_OK;
}

enum upk_err upkc_proc_shell(const char *command, const struct upkc_proc_opts *o, int *ret_status,
			     struct upk_diag *reterr_diag)
{
	const char *argv[] = { "/bin/sh", "-c", command, NULL };
	struct upkc_proc_opts so = *o;

	assert(command);
	if (!so.what)
		so.what = command;
	return upkc_proc_run(argv, &so, ret_status, reterr_diag);
}
