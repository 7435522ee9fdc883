/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for client/proc: exit status, death by signal, the time limit
 * killing the whole process group, output capture and its limit, the extra
 * environment, a missing program, and what the child inherits (only fds
 * 0-2, stdin /dev/null, its own process group, no blocked or ignored signal).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run `sh -c cmd` with a capture of at most max bytes; returns the error, fills status/out. */
static enum upk_err sh(const char *cmd, int64_t timeout_ms, struct upk_buf *out, size_t max,
		       int *status, struct upk_diag *d)
{
	struct upkc_proc_opts o = { .timeout_ms = timeout_ms, .out = out, .out_max = max };

	return upkc_proc_shell(cmd, &o, status, d);
}

/* Whether pid is gone or a zombie (killed, not reaped yet by init). */
static bool process_gone(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;
	char *p;
	bool gone;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p)
		return true;
	p = strrchr(buf, ')');
	gone = p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
	return gone;
}

static bool wait_gone(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		if (process_gone(pid))
			return true;
		usleep(5000);
	}
	return false;
}

static void test_exit_status(void **state)
{
	const char *t[] = { "true", NULL }, *f[] = { "false", NULL };
	struct upkc_proc_opts o = { .timeout_ms = 5000 };
	int st = -1;

	assert_int_equal(upkc_proc_run(t, &o, &st, NULL), UPK_OK);
	assert_int_equal(st, 0);
	assert_int_equal(upkc_proc_run(f, &o, &st, NULL), UPK_OK);
	assert_int_equal(st, 1);
	assert_int_equal(sh("exit 7", 5000, NULL, 0, &st, NULL), UPK_OK);
	assert_int_equal(st, 7);
	assert_int_equal(sh("exit 255", 5000, NULL, 0, &st, NULL), UPK_OK);
	assert_int_equal(st, 255);
}

static void test_signal_death(void **state)
{
	int st = -1;

	assert_int_equal(sh("kill -TERM $$", 5000, NULL, 0, &st, NULL), UPK_OK);
	assert_int_equal(st, 128 + SIGTERM);
	assert_int_equal(sh("kill -KILL $$", 5000, NULL, 0, &st, NULL), UPK_OK);
	assert_int_equal(st, 128 + SIGKILL);
}

/* The limit kills the shell and its background child: the call ends at the limit. */
static void test_timeout_kills_group(void **state)
{
	char dir[] = "/tmp/upk-proc-XXXXXX", pidfile[64], cmd[256];
	struct upk_diag d;
	int64_t t0;
	int st = 12345, gpid = 0;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(pidfile, sizeof(pidfile), "%s/pid", dir);
	snprintf(cmd, sizeof(cmd), "sleep 100 & echo $! > %s; sleep 100", pidfile);
	t0 = now_ms();
	assert_int_equal(sh(cmd, 300, NULL, 0, &st, &d), UPK_E_TIMEOUT);
	assert_true(now_ms() - t0 >= 300);
	assert_true(now_ms() - t0 < 1300);
	assert_int_equal(st, 12345); /* untouched on failure */
	assert_non_null(strstr(d.reason, "300 ms"));
	assert_string_equal(d.where, cmd);
	f = fopen(pidfile, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &gpid), 1);
	fclose(f);
	assert_true(gpid > 1);
	assert_true(wait_gone(gpid));
	unlink(pidfile);
	rmdir(dir);
}

/* With a capture, a grandchild holding the pipe open does not hold the call past the limit. */
static void test_timeout_with_capture(void **state)
{
	struct upk_buf out = UPK_BUF_INIT;
	int64_t t0 = now_ms();
	int st = -1;

	assert_int_equal(upk_buf_append_str(&out, "keep"), UPK_OK);
	assert_int_equal(sh("echo partial; sleep 100 & sleep 100", 300, &out, 1000, &st, NULL),
			 UPK_E_TIMEOUT);
	assert_true(now_ms() - t0 < 1300);
	assert_int_equal(out.len, 4); /* what the run appended is dropped */
	assert_string_equal((char *)out.data, "keep");
	upk_buf_done(&out);
}

/* After a normal end the background processes of the command are killed, not waited for. */
static void test_leftovers_killed_at_exit(void **state)
{
	struct upk_buf out = UPK_BUF_INIT;
	int64_t t0 = now_ms();
	int st = -1, bg = 0;

	assert_int_equal(sh("sleep 100 & echo $!; exit 3", 5000, &out, 100, &st, NULL), UPK_OK);
	assert_true(now_ms() - t0 < 2000);
	assert_int_equal(st, 3);
	assert_int_equal(sscanf((char *)out.data, "%d", &bg), 1);
	assert_true(wait_gone(bg));
	upk_buf_done(&out);
}

static void test_capture(void **state)
{
	struct upk_buf out = UPK_BUF_INIT;
	int st = -1;

	assert_int_equal(upk_buf_append_str(&out, ">"), UPK_OK);
	assert_int_equal(sh("printf 'hello\\n'; printf 'world' >&1; echo err >&2", 5000, &out, 100,
			    &st, NULL),
			 UPK_OK);
	assert_int_equal(st, 0);
	assert_string_equal((char *)out.data, ">hello\nworld");
	/* Large output passes through the pipe whole. */
	upk_buf_done(&out);
	assert_int_equal(sh("head -c 300000 /dev/zero | tr '\\0' x", 5000, &out, 300000, &st, NULL),
			 UPK_OK);
	assert_int_equal(out.len, 300000);
	assert_int_equal(out.data[0], 'x');
	assert_int_equal(out.data[299999], 'x');
	/* No output at all. */
	upk_buf_done(&out);
	assert_int_equal(sh("exit 0", 5000, &out, 10, &st, NULL), UPK_OK);
	assert_int_equal(out.len, 0);
	upk_buf_done(&out);
}

static void test_capture_overflow(void **state)
{
	struct upk_buf out = UPK_BUF_INIT;
	struct upk_diag d;
	int64_t t0;
	int st = 99;

	/* Exactly the limit is fine, one byte more is not. */
	assert_int_equal(sh("printf 0123456789", 5000, &out, 10, &st, NULL), UPK_OK);
	assert_int_equal(out.len, 10);
	upk_buf_done(&out);
	assert_int_equal(upk_buf_append_str(&out, "old"), UPK_OK);
	st = 99;
	assert_int_equal(sh("printf 0123456789A", 5000, &out, 10, &st, &d), UPK_E_TOO_LARGE);
	assert_int_equal(st, 99);
	assert_string_equal((char *)out.data, "old");
	assert_non_null(strstr(d.reason, "more than 10 bytes"));
	/* A command that never stops printing is killed at the limit, not at the timeout. */
	t0 = now_ms();
	assert_int_equal(sh("yes", 20000, &out, 65536, &st, NULL), UPK_E_TOO_LARGE);
	assert_true(now_ms() - t0 < 5000);
	assert_int_equal(out.len, 3);
	upk_buf_done(&out);
}

static void test_env(void **state)
{
	const char *env[] = { "UPK_PROC_TEST=a b=c", "HOME=/upk-nowhere", NULL };
	struct upkc_proc_opts o = { .timeout_ms = 5000, .env = env, .out_max = 1000 };
	struct upk_buf out = UPK_BUF_INIT;
	int st = -1;

	assert_int_equal(setenv("UPK_PROC_KEPT", "kept", 1), 0);
	assert_int_equal(setenv("HOME", "/root-of-test", 1), 0);
	o.out = &out;
	/* Replaced, not duplicated: env | grep -c counts the HOME entries. */
	assert_int_equal(upkc_proc_shell("printf '%s|%s|%s|' \"$UPK_PROC_TEST\" \"$HOME\" "
					 "\"$UPK_PROC_KEPT\"; env | grep -c '^HOME='",
					 &o, &st, NULL),
			 UPK_OK);
	assert_int_equal(st, 0);
	assert_string_equal((char *)out.data, "a b=c|/upk-nowhere|kept|1\n");
	/* Without extra env the child sees environ as it is. */
	upk_buf_done(&out);
	o.env = NULL;
	assert_int_equal(upkc_proc_shell("printf %s \"$HOME\"", &o, &st, NULL), UPK_OK);
	assert_string_equal((char *)out.data, "/root-of-test");
	upk_buf_done(&out);
	unsetenv("UPK_PROC_KEPT");
}

static void test_missing_program(void **state)
{
	const char *abs[] = { "/nonexistent/upk-prog", NULL };
	const char *rel[] = { "upk-no-such-program-here", "x", NULL };
	struct upkc_proc_opts o = { .timeout_ms = 5000, .what = "health check" };
	struct upk_diag d;
	int st = 42;

	assert_int_equal(upkc_proc_run(abs, &o, &st, &d), UPK_E_IO);
	assert_int_equal(st, 42);
	assert_string_equal(d.where, "health check");
	assert_non_null(strstr(d.reason, "/nonexistent/upk-prog"));
	assert_non_null(strstr(d.reason, strerror(ENOENT)));
	o.what = NULL;
	assert_int_equal(upkc_proc_run(rel, &o, &st, &d), UPK_E_IO);
	assert_string_equal(d.where, "upk-no-such-program-here");
	assert_int_equal(st, 42);
}

/*
 * The child holds 0, 1, 2 only, even when the parent has descriptors
 * without O_CLOEXEC; stdin is /dev/null; the shell leads its own process
 * group; no signal is blocked or ignored, even though the parent ignores
 * SIGPIPE and blocks SIGUSR1.
 */
static void test_child_inherits_nothing_else(void **state)
{
	struct upk_buf out = UPK_BUF_INIT;
	int leak = open("/dev/null", O_RDONLY), leak2 = dup(leak), st = -1;
	sigset_t block, old;
	struct sigaction ignore = { .sa_handler = SIG_IGN }, oldpipe;
	unsigned long long blk = 1, ign = 1;

	assert_true(leak >= 3 && leak2 >= 3);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	assert_int_equal(sigprocmask(SIG_BLOCK, &block, &old), 0);
	assert_int_equal(sigaction(SIGPIPE, &ignore, &oldpipe), 0);
	/* ls in a child of the shell (the `true` keeps sh from exec'ing it) lists the shell's fds.
	 */
	assert_int_equal(sh("ls /proc/$$/fd; true", 5000, &out, 1000, &st, NULL), UPK_OK);
	assert_string_equal((char *)out.data, "0\n1\n2\n");
	upk_buf_done(&out);
	assert_int_equal(sh("readlink /proc/$$/fd/0; read -r a b c d pg rest < /proc/$$/stat; "
			    "[ \"$pg\" = $$ ] && echo leader; "
			    /* builtins only: a shell that forks blocks its signals meanwhile */
			    "while read -r k v; do case $k in Sig[BI][lg][kn]:) echo $v;; esac; "
			    "done < /proc/$$/status",
			    5000, &out, 1000, &st, NULL),
			 UPK_OK);
	/*
	 * Standard signals only (1-31): glibc's posix_spawn leaves its two
	 * internal real-time signals ignored in the child.
	 */
	assert_int_equal(sscanf((char *)out.data, "/dev/null\nleader\n%llx\n%llx\n", &blk, &ign),
			 2);
	assert_int_equal(blk & 0x7fffffffULL, 0);
	assert_int_equal(ign & 0x7fffffffULL, 0);
	upk_buf_done(&out);
	assert_int_equal(sigaction(SIGPIPE, &oldpipe, NULL), 0);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	close(leak);
	close(leak2);
}

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

/* Signals arriving every few ms (no SA_RESTART) do not disturb the wait or the capture. */
static void test_eintr(void **state)
{
	struct sigaction sa = { .sa_handler = on_alarm }, old;
	struct itimerval it = { .it_interval = { 0, 3000 }, .it_value = { 0, 3000 } }, off = { 0 };
	struct upk_buf out = UPK_BUF_INIT;
	int st = -1;

	sigemptyset(&sa.sa_mask);
	alarms = 0;
	assert_int_equal(sigaction(SIGALRM, &sa, &old), 0);
	assert_int_equal(setitimer(ITIMER_REAL, &it, NULL), 0);
	assert_int_equal(sh("sleep 0.2; echo done; exit 4", 5000, &out, 100, &st, NULL), UPK_OK);
	assert_int_equal(setitimer(ITIMER_REAL, &off, NULL), 0);
	assert_int_equal(sigaction(SIGALRM, &old, NULL), 0);
	assert_true(alarms > 5);
	assert_int_equal(st, 4);
	assert_string_equal((char *)out.data, "done\n");
	upk_buf_done(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_status),
		cmocka_unit_test(test_signal_death),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_timeout_with_capture),
		cmocka_unit_test(test_leftovers_killed_at_exit),
		cmocka_unit_test(test_capture),
		cmocka_unit_test(test_capture_overflow),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_child_inherits_nothing_else),
		cmocka_unit_test(test_eintr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
