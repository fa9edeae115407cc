/* loadgen: the load generator behind `make bench` (a test tool, not product
 * code). One thread, epoll, non-blocking sockets, HTTP/1.1 keep-alive
 * written by hand, CLOCK_MONOTONIC in microseconds (lg_common.h: the
 * shared parts). This file picks the mode; each has its lg_<mode>.c:
 *
 *   tokens            usernames on stdin -> "username\ttoken\thexhash" lines
 *                     (the session token and its BLAKE2b-256, as
 *                     shared/auth.c stores it)
 *   send              closed-loop POST /api/v1/messages on --conns
 *                     connections for --warm + --secs seconds
 *   latency           --n long pollers (--kind parley or nchan) or
 *                     WebSocket clients (ws: Parley's gateway, nchanws:
 *                     Nchan's), messages at --rate per second round-robin
 *                     to them; per message: send issued -> the poller's
 *                     response (the socket's frame) fully read
 *   hold              --n long polls held open; waits until the server
 *                     processes (--fdpids) hold --n more descriptors, then
 *                     writes --ready and waits for --done
 *   fanout            --file members (first = group owner, the sender);
 *                     rounds of one group message, then one direct message
 *                     owner -> second member as the reference
 *   calls             --pairs caller/callee pairs among --n more waiting
 *                     pollers: call setup (invite -> call.invite in the
 *                     callee's poll -> accept -> call.accepted in the
 *                     caller's poll), each followed by the same round
 *                     trip made of two messages as the reference
 *   wshold            --n idle WebSockets held (lg_ws.c), in stages as hold
 *
 * Results go to stdout as "key=value" lines for bench/run.sh; with
 * --samples PREFIX each distribution also goes to PREFIX_<name>.txt for
 * the plots of bench/report.js.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include <sodium.h>

#include "lg_common.h"

static const struct {
	const char *name;
	int (*run)(void);
} modes[] = {
	{ "send", mode_send },
	{ "latency", mode_latency },
	{ "hold", mode_hold },
	{ "fanout", mode_fanout },
	{ "calls", mode_calls },
	{ "wshold", mode_wshold },
};

/* Usernames on stdin -> "username\ttoken\thexhash" lines: a session token
 * and its BLAKE2b-256, as shared/auth.c stores it. */
int
mode_tokens(void)
{
	char	      name[256], tok[64], hex[65];
	unsigned char raw[32], h[32];

	while (fgets(name, sizeof(name), stdin) != NULL) {
		name[strcspn(name, "\r\n")] = '\0';
		if (name[0] == '\0')
			continue;
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2base64(tok, sizeof(tok), raw, sizeof(raw),
		    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		crypto_generichash(h, sizeof(h), (unsigned char *)tok,
		    strlen(tok), NULL, 0);
		sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
		printf("%s\t%s\t%s\n", name, tok, hex);
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *mode;
	size_t	    i;

	if (argc < 2)
		die("usage: loadgen tokens|send|latency|hold|fanout|calls|"
		    "wshold [--key value]...");
	mode = argv[1];
	opt_parse(argc, argv);
	if (sodium_init() < 0)
		die("sodium_init failed");
	if (strcmp(mode, "tokens") == 0)
		return mode_tokens();
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(run_id, sizeof(run_id), "b%08x", randombytes_random());
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)optn("port", 18200));
	inet_pton(AF_INET, opt("host", "127.0.0.1"), &addr.sin_addr);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(mode, modes[i].name) == 0)
			return modes[i].run();
	die("unknown mode %s", mode);
}
