/* fcgi_out: a FastCGI reply written without libfcgi's request state, for
 * a connection that outlives its FCGX_Request (a parked long poll keeps
 * only the socket and the request id: services/poll). http.c's writers
 * fill a memory stream; the records go out on the socket in one piece. */
#ifndef PARLEY_FCGI_OUT_H
#define PARLEY_FCGI_OUT_H

#include <stddef.h>

#include <fcgiapp.h>

struct http_req;

/* FastCGI record content is at most 65535 bytes; 65528 keeps every full
 * record 8-byte aligned without padding (as the spec recommends). */
#define FCGI_OUT_CHUNK 65528
/* A reply larger than this is refused (the events of one poll are at
 * most 500 events, far below it). */
#define FCGI_OUT_MAX (64UL * 1024 * 1024)

/* A memory FCGX_Stream: FCGX_PutStr into it appends to buf. */
struct fcgi_out {
	FCGX_Stream    stream;
	unsigned char *buf;
	size_t	       cap;
};

/* Empties o (allocating its buffer the first time) and makes it r's
 * output stream: r->fcgi is cleared, only r->fcgi.out is set. */
void fcgi_out_attach(struct fcgi_out *o, struct http_req *r);
/* The bytes written so far (the CGI-style head and body). */
const char *fcgi_out_bytes(const struct fcgi_out *o, size_t *len);
/* Frees the buffer; o may be attached again afterwards. */
void fcgi_out_free(struct fcgi_out *o);

/* The records of a whole reply to request `id`: FCGI_STDOUT records
 * carrying data[0..len) (none when len is 0), the empty FCGI_STDOUT that
 * ends the stream and FCGI_END_REQUEST (appStatus 0, REQUEST_COMPLETE).
 * Returns a buffer the caller frees, its length in *outlen. Pure. */
char *fcgi_out_records(int id, const char *data, size_t len, size_t *outlen);
/* Writes fcgi_out_records() on fd (blocking, whole or not at all as far
 * as the peer is concerned). Returns 0, or -1 with errno set. */
int fcgi_out_send(int fd, int id, const char *data, size_t len);

#endif
