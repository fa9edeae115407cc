/* server: the FastCGI loop every service runs: threads accepting on one
 * socket, dispatch through the route table, access log, clean shutdown. */
#ifndef PARLEY_SERVER_H
#define PARLEY_SERVER_H

#include <stddef.h>

#include "router.h"

struct http_req;

struct service {
	const char		*name;
	const struct route	*routes;
	size_t			 nroutes;
	/* Optional per-thread state: made before the first request. */
	void			*(*thread_init)(void);
	void			 (*thread_free)(void *);
};

/* Loads config, opens the socket and serves until SIGTERM/SIGINT. Returns
 * the process exit status. */
int	server_run(const struct service *);

/* Dispatches one accepted request (also used by tests and fuzzers). */
void	server_dispatch(const struct service *, struct http_req *);

#endif
