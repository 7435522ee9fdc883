/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Response framing that is not body data is bounded too, or a hostile server
 * could make a download last as long as it likes (the endless-data bound
 * counts body bytes only):
 *   - a chunk-size line of leading zeros is bounded by
 *     UPKC_HTTP_CHUNK_LINE_MAX, as http.h promises for the size line;
 *   - interim 1xx responses are bounded in number.
 * The server here is a forked child on loopback that sends one scripted
 * response, so every test ends whatever the client does.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "fetch.h"
#include "http.h"

/* A chunk-size line of 5000 zeros, then "1": longer than UPKC_HTTP_CHUNK_LINE_MAX. */
static void test_chunk_size_line_bounded(void **state)
{
	struct upkc_http_head h = { .status = 200, .chunked = true };
	struct upkc_http_body b;
	const char tail[] = "1\r\nX\r\n0\r\n\r\n";
	size_t zeros = UPKC_HTTP_CHUNK_LINE_MAX + 1000, len = zeros + sizeof(tail) - 1, pos = 0;
	uint8_t *in = malloc(len);
	enum upk_err r = UPK_OK;

	(void)state;
	assert_non_null(in);
	memset(in, '0', zeros);
	memcpy(in + zeros, tail, sizeof(tail) - 1);
	upkc_http_body_init(&b, &h);
	while (pos < len && !b.done) {
		size_t used = 0;
		bool data = false;

		r = upkc_http_body_feed(&b, in + pos, len - pos, &used, &data, NULL);
		if (r)
			break;
		pos += used;
	}
	free(in);
	/* http.h: "A chunk-size line (size and extensions) longer than this is refused." */
	assert_int_equal(r, UPK_E_SERVER);
}

/* A loopback server that answers one request with `resp` (len bytes, sent in full). */
static pid_t serve_once(const uint8_t *resp, size_t len, int *ret_port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 1), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &al), 0);
	*ret_port = ntohs(a.sin_port);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int c = accept(s, NULL, NULL);
		char req[4096];
		size_t got = 0;

		if (c < 0)
			_exit(1);
		/* The request head, then the scripted bytes. */
		while (got < sizeof(req) - 1) {
			ssize_t n = recv(c, req + got, sizeof(req) - 1 - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
			req[got] = 0;
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		for (size_t off = 0; off < len;) {
			ssize_t n = send(c, resp + off, len - off, MSG_NOSIGNAL);
			if (n <= 0)
				break;
			off += (size_t)n;
		}
		shutdown(c, SHUT_WR);
		close(c);
		_exit(0);
	}
	close(s);
	return pid;
}

/*
 * 8 MiB of "100 Continue" heads before a 1-byte 200: the client reads them
 * all at full speed (no slow-retrieval failure) and the 1-byte bound never
 * applies. A server that never stops sending them holds the client forever.
 */
static void test_interim_responses_bounded(void **state)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	static const char fin[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nX";
	size_t reps = (8u << 20) / (sizeof(cont) - 1),
	       len = reps * (sizeof(cont) - 1) + sizeof(fin) - 1;
	uint8_t *resp = malloc(len);
	struct upkc_fetch_opts o = { .connect_timeout_s = 2 };
	struct upkc_fetch *f = NULL;
	struct upk_buf out = UPK_BUF_INIT;
	struct upk_diag d = { 0 };
	char url[64];
	int port;
	pid_t pid;
	enum upk_err r;

	(void)state;
	assert_non_null(resp);
	for (size_t i = 0; i < reps; i++)
		memcpy(resp + i * (sizeof(cont) - 1), cont, sizeof(cont) - 1);
	memcpy(resp + reps * (sizeof(cont) - 1), fin, sizeof(fin) - 1);
	pid = serve_once(resp, len, &port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
	assert_int_equal(upkc_fetch_new(&o, &f, NULL), UPK_OK);
	r = upkc_fetch_bytes(f, url, 1, &out, &d);
	upkc_fetch_free(f);
	upk_buf_done(&out);
	waitpid(pid, NULL, 0);
	free(resp);
	/* Any bounded behaviour refuses this (UPK_E_SERVER would fit fetch.h best). */
	if (r == UPK_OK)
		fail_msg("8 MiB of interim responses were read for a 1-byte download");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_size_line_bounded),
		cmocka_unit_test(test_interim_responses_bounded),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
