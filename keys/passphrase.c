/* SPDX-License-Identifier: Apache-2.0 */
#include "passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

void upkk_passphrase_done(struct upkk_passphrase *p)
{
	if (p->data)
		sodium_free(p->data);
	p->data = NULL;
	p->len = 0;
	p->have = false;
}

static enum upk_err passphrase_alloc(struct upkk_passphrase *p, struct upk_diag *d)
{
	if (p->data)
		return UPK_OK;
	if (sodium_init() < 0)
		return upk_diag_set(d, UPK_E_INTERNAL, NULL, -1, "libsodium cannot initialise");
	p->data = sodium_malloc(UPKK_PASSPHRASE_MAX + 1);
	if (!p->data)
		return upk_diag_set(d, UPK_E_NOMEM, NULL, -1, "cannot allocate secure memory");
	p->len = 0;
	return UPK_OK;
}

static enum upk_err too_long(const char *where, struct upk_diag *d)
{
	return upk_diag_set(d, UPK_E_USAGE, where, -1, "the passphrase is longer than %d bytes",
			    UPKK_PASSPHRASE_MAX);
}

/* The first line of fd without its line end; reads no further than the newline. */
static enum upk_err read_first_line(int fd, const char *where, struct upkk_passphrase *p,
				    struct upk_diag *d)
{
	size_t len = 0;
	enum upk_err r = passphrase_alloc(p, d);

	if (r)
		return r;
	for (;;) {
		ssize_t n;
		char *nl;

		if (len > UPKK_PASSPHRASE_MAX)
			return too_long(where, d);
		n = read(fd, p->data + len, UPKK_PASSPHRASE_MAX + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return upk_diag_set(d, UPK_E_IO, where, -1, "cannot read: %s",
					    strerror(errno));
		if (n == 0)
			break;
		nl = memchr(p->data + len, '\n', (size_t)n);
		if (nl) {
			len = (size_t)(nl - p->data);
			break;
		}
		len += (size_t)n;
	}
	if (len > UPKK_PASSPHRASE_MAX)
		return too_long(where, d);
	if (len && p->data[len - 1] == '\r')
		len--;
	p->len = len;
	p->have = true;
	return UPK_OK;
}

enum upk_err upkk_passphrase_from_file(const char *path, struct upkk_passphrase *p,
				       struct upk_diag *reterr_diag)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	enum upk_err r;

	if (fd < 0)
		return upk_diag_set(reterr_diag, errno == ENOENT ? UPK_E_USAGE : UPK_E_IO, path, -1,
				    "cannot open the passphrase file: %s", strerror(errno));
	r = read_first_line(fd, path, p, reterr_diag);
	close(fd);
	return r;
}

enum upk_err upkk_passphrase_from_env(const char *var, struct upkk_passphrase *p,
				      struct upk_diag *reterr_diag)
{
	const char *v = getenv(var);
	size_t n;
	enum upk_err r;

	if (!v)
		return UPK_OK;
	n = strlen(v);
	if (n > UPKK_PASSPHRASE_MAX)
		return too_long(var, reterr_diag);
	r = passphrase_alloc(p, reterr_diag);
	if (r)
		return r;
	memcpy(p->data, v, n);
	p->len = n;
	p->have = true;
	return UPK_OK;
}

/* The terminal settings to put back if a signal ends the process mid-prompt. */
static volatile sig_atomic_t tty_fd = -1;
static struct termios tty_saved;

static void tty_restore_and_reraise(int sig)
{
	if (tty_fd >= 0)
		tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
	signal(sig, SIG_DFL);
	raise(sig);
}

static const int tty_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

enum upk_err upkk_passphrase_prompt(const char *prompt, struct upkk_passphrase *p,
				    struct upk_diag *reterr_diag)
{
	struct sigaction sa = { .sa_handler = tty_restore_and_reraise }, old[4];
	struct termios noecho;
	enum upk_err r;
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return upk_diag_set(reterr_diag, UPK_E_USAGE, "/dev/tty", -1, "cannot open: %s",
				    strerror(errno));
	if (tcgetattr(fd, &tty_saved) < 0) {
		r = upk_diag_set(reterr_diag, UPK_E_USAGE, "/dev/tty", -1, "not a terminal: %s",
				 strerror(errno));
		close(fd);
		return r;
	}
	noecho = tty_saved;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	noecho.c_lflag |= ECHONL;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < UPK_ARRAY_SIZE(tty_signals); i++)
		sigaction(tty_signals[i], &sa, &old[i]);
	tty_fd = fd;
	tcsetattr(fd, TCSAFLUSH, &noecho);
	if (write(fd, prompt, strlen(prompt)) < 0)
		r = upk_diag_set(reterr_diag, UPK_E_IO, "/dev/tty", -1, "cannot write: %s",
				 strerror(errno));
	else
		r = read_first_line(fd, "/dev/tty", p, reterr_diag);
	tcsetattr(fd, TCSAFLUSH, &tty_saved);
	tty_fd = -1;
	for (size_t i = 0; i < UPK_ARRAY_SIZE(tty_signals); i++)
		sigaction(tty_signals[i], &old[i], NULL);
	close(fd);
	return r;
}

bool upkk_passphrase_equal(const struct upkk_passphrase *a, const struct upkk_passphrase *b)
{
	return a->len == b->len && (a->len == 0 || sodium_memcmp(a->data, b->data, a->len) == 0);
}
