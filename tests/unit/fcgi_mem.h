/* fcgi_mem: an in-memory FastCGI request for unit tests and fuzz drivers,
 * so http.c and valid.c run unchanged without a socket or a web server. */
#ifndef PARLEY_FCGI_MEM_H
#define PARLEY_FCGI_MEM_H

#include <stddef.h>

#include "http.h"

#define FCGI_MEM_NENV 8

struct fcgi_mem {
	FCGX_Stream	 in;  /* reads the body given to _init */
	FCGX_Stream	 out; /* collects the response */
	unsigned char	*body;
	unsigned char	*buf;
	size_t		 cap;
	char		*env[FCGI_MEM_NENV + 1];
	int		 nenv;
	struct http_req *req; /* its body cache is freed at cleanup */
};

/* Points r->fcgi at `m`, with a copy of body[0..len) as the request body
 * and no parameters yet. Pair with fcgi_mem_cleanup. */
void fcgi_mem_init(struct fcgi_mem *m, struct http_req *r, const void *body,
    size_t len);
/* Adds the FastCGI parameter name=value (REQUEST_METHOD, ...). */
void fcgi_mem_setenv(struct fcgi_mem *m, const char *name, const char *value);
/* The response bytes written so far, NUL-terminated; *len excludes it. */
const char *fcgi_mem_output(struct fcgi_mem *m, size_t *len);
/* Forgets the response and clears r->status so another one can be sent. */
void fcgi_mem_rewind(struct fcgi_mem *m, struct http_req *r);
/* Frees what _init and _setenv made; a no-op on a zeroed struct. */
void fcgi_mem_cleanup(struct fcgi_mem *m);

/* NULL if the response is one well-formed reply with `status` (any status
 * for 0) and, for 4xx/5xx, the {"error":{"code","message"}} body the
 * convention promises; otherwise what is wrong (static string). */
const char *fcgi_mem_check(struct fcgi_mem *m, int status);

#endif
