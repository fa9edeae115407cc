/* test_fcgi_out: the FastCGI records shared/fcgi_out.c writes read back as
 * nginx reads them, and against libfcgi itself: the same reply written by
 * FCGX_PutStr + FCGX_Finish_r on a real accepted request carries the same
 * stdout bytes, request id and END_REQUEST body. Sizes around the record
 * limit (65535) and far over it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "fcgi_out.h"
#include "fcgi_records.h"
#include "unit.h"

static const size_t sizes[] = { 0, 1, 7, 8, 100, 65527, 65528, 65529, 65535,
	65536, 200003 };

static char	     *pattern(size_t);
static const char    *t_records(void);
static const char    *t_send(void);
static const char    *t_like_libfcgi(void);
static unsigned char *libfcgi_reply(int, const char *, size_t, size_t *);

static char *
pattern(size_t n)
{
	char  *s = malloc(n + 1);
	size_t i;

	if (s == NULL)
		abort();
	for (i = 0; i < n; i++)
		s[i] = (char)('a' + i * 7 % 26);
	s[n] = '\0';
	return s;
}

static const char *
t_records(void)
{
	struct fcgi_reply r;
	const char	 *why;
	char		 *data, *rec;
	size_t		  i, n;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		data = pattern(sizes[i]);
		rec = fcgi_out_records(0x1234, data, sizes[i], &n);
		why = fcgi_records_parse((unsigned char *)rec, n, &r);
		if (why != NULL) {
			free(data);
			free(rec);
			free(r.out);
			return unit_fail(__FILE__, __LINE__, "%zu bytes: %s",
			    sizes[i], why);
		}
		CHECK_EQ(r.outlen, sizes[i]);
		CHECK(memcmp(r.out, data, sizes[i]) == 0);
		CHECK_EQ(r.id, 0x1234);
		CHECK(r.maxrec <= 65535);
		CHECK_EQ(r.nstdout,
		    (sizes[i] + FCGI_OUT_CHUNK - 1) / FCGI_OUT_CHUNK);
		/* appStatus 0, FCGI_REQUEST_COMPLETE. */
		CHECK(memcmp(r.end, "\0\0\0\0\0\0\0\0", 8) == 0);
		/* Every record starts 8-byte aligned. */
		CHECK_EQ(n % 8, 0);
		free(data);
		free(rec);
		free(r.out);
	}
	return NULL;
}

/* Written on a socket, a reply larger than the socket buffer arrives
 * whole while the reader reads. */
static const char *
t_send(void)
{
	struct fcgi_reply r;
	unsigned char	 *got;
	char		 *data = pattern(300000);
	size_t		  n;
	pid_t		  pid;
	int		  sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	if ((pid = fork()) == 0) {
		close(sv[0]);
		_exit(fcgi_out_send(sv[1], 7, data, 300000) == 0 ? 0 : 1);
	}
	close(sv[1]);
	got = fcgi_records_slurp(sv[0], &n);
	close(sv[0]);
	rc = -1;
	if (waitpid(pid, &rc, 0) == -1)
		abort();
	CHECK_EQ(rc, 0);
	CHECK(fcgi_records_parse(got, n, &r) == NULL);
	CHECK_EQ(r.outlen, 300000);
	CHECK(memcmp(r.out, data, 300000) == 0);
	CHECK_EQ(r.id, 7);
	free(r.out);
	free(got);
	free(data);
	/* A peer that is gone: -1 and errno, never SIGPIPE. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		abort();
	close(sv[1]);
	errno = 0;
	rc = fcgi_out_send(sv[0], 7, "x", 1);
	close(sv[0]);
	CHECK_EQ(rc, -1);
	CHECK(errno == EPIPE || errno == ECONNRESET);
	return NULL;
}

/* The records libfcgi writes for request `id` whose stdout is data: a
 * real FastCGI exchange over a unix socket, as nginx would do it. */
static unsigned char *
libfcgi_reply(int id, const char *data, size_t len, size_t *outlen)
{
	/* BEGIN_REQUEST (responder, no keep_conn), empty PARAMS, empty
	 * STDIN: what nginx sends for a GET. */
	unsigned char msg[32] = { 1, 1, 0, 0, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0,
		0, 1, 4, 0, 0, 0, 0, 0, 0, 1, 5, 0, 0, 0, 0, 0, 0 };
	struct sockaddr_un sa;
	FCGX_Request	   req;
	char		   path[64];
	unsigned char	  *got;
	int		   lfd, cfd;

	msg[2] = msg[18] = msg[26] = (unsigned char)(id >> 8);
	msg[3] = msg[19] = msg[27] = (unsigned char)id;
	snprintf(path, sizeof(path), "/tmp/parley-unit-fcgi-%d.sock",
	    (int)getpid());
	(void)unlink(path);
	if (FCGX_Init() != 0 || (lfd = FCGX_OpenSocket(path, 4)) < 0)
		abort();
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if ((cfd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(cfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    write(cfd, msg, sizeof(msg)) != (ssize_t)sizeof(msg))
		abort();
	/* Nothing more from the "web server": libfcgi's lingering close in
	 * FCGX_Finish_r sees EOF at once. */
	shutdown(cfd, SHUT_WR);
	if (FCGX_InitRequest(&req, lfd, 0) != 0 || FCGX_Accept_r(&req) != 0)
		abort();
	if (fork() == 0) {
		/* The reply may not fit the socket buffer: write it from a
		 * child while this side reads. */
		if (len > 0)
			FCGX_PutStr(data, (int)len, req.out);
		FCGX_Finish_r(&req);
		_exit(0);
	}
	/* Not FCGX_Free(, 1): it would shut the socket down under the
	 * child. */
	close(req.ipcFd);
	FCGX_Free(&req, 0);
	got = fcgi_records_slurp(cfd, outlen);
	while (wait(NULL) > 0)
		;
	close(cfd);
	close(lfd);
	(void)unlink(path);
	return got;
}

static const char *
t_like_libfcgi(void)
{
	struct fcgi_reply mine, theirs;
	unsigned char	 *ref;
	char		 *data, *rec;
	size_t		  i, n, rn;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		data = pattern(sizes[i]);
		ref = libfcgi_reply(0x0102, data, sizes[i], &rn);
		rec = fcgi_out_records(0x0102, data, sizes[i], &n);
		CHECK(fcgi_records_parse(ref, rn, &theirs) == NULL);
		CHECK(
		    fcgi_records_parse((unsigned char *)rec, n, &mine) == NULL);
		CHECK_EQ(mine.outlen, theirs.outlen);
		CHECK(memcmp(mine.out, theirs.out, mine.outlen) == 0);
		CHECK_EQ(mine.id, theirs.id);
		CHECK(memcmp(mine.end, theirs.end, 8) == 0);
		free(mine.out);
		free(theirs.out);
		free(ref);
		free(rec);
		free(data);
	}
	return NULL;
}

void
test_fcgi_out(void)
{
	unit_run("fcgi_out: records read back as a web server reads them, "
		 "8-byte aligned, split under 64 KiB",
	    t_records);
	unit_run("fcgi_out: a 300 KB reply arrives whole over a socket; a "
		 "gone peer is -1, no SIGPIPE",
	    t_send);
	unit_run("fcgi_out: the same stdout, request id and END_REQUEST as "
		 "libfcgi's own reply",
	    t_like_libfcgi);
}
