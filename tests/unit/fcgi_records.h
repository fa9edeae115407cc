/* fcgi_records: a FastCGI record reader for the tests of replies written
 * without libfcgi (shared/fcgi_out.c, services/poll/poll_reply.c). */
#ifndef PARLEY_FCGI_RECORDS_H
#define PARLEY_FCGI_RECORDS_H

#include <stddef.h>

/* What a web server reads from one reply. */
struct fcgi_reply {
	char	     *out; /* the FCGI_STDOUT stream, joined */
	size_t	      outlen;
	int	      id;      /* request id of every record */
	int	      nstdout; /* FCGI_STDOUT records with content */
	size_t	      maxrec;  /* largest content length */
	unsigned char end[8];  /* FCGI_END_REQUEST's body */
};

/* Parses buf[0..len) as one reply: STDOUT records, one empty STDOUT,
 * END_REQUEST last, one request id, nothing after. NULL when it is one
 * (r filled; free r->out), else what is wrong. */
const char *
fcgi_records_parse(const unsigned char *buf, size_t len, struct fcgi_reply *r);
/* Reads fd to EOF into a buffer the caller frees. */
unsigned char *fcgi_records_slurp(int fd, size_t *len);

#endif
