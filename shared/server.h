/* server: the FastCGI loop every service runs: threads accepting on one
 * socket, dispatch through the route table, access log, clean shutdown. */
#ifndef PARLEY_SERVER_H
#define PARLEY_SERVER_H

#include <stddef.h>
#include <time.h>

#include "router.h"

struct http_req;

struct service {
	const char	   *name;
	const struct route *routes;
	size_t		    nroutes;
	/* Optional per-thread state: made before the first request. */
	void *(*thread_init)(void);
	void (*thread_free)(void *);
	/* Optional process hooks: after signals are masked and before the
	 * socket is opened and the workers start (read settings here: a bad
	 * one stops the process before it looks started); after the workers
	 * stopped. Threads they create inherit the mask. */
	void (*on_start)(void);
	void (*on_stop)(void);
	/* Every request must come from an admin (auth_admin), checked
	 * before routing: anyone else gets http_reply_missing() whatever
	 * the path, method or ids, so they cannot even tell which routes
	 * exist. Every route of such a service is ROUTE_ADMIN, and no
	 * other service has one (server_run refuses to start otherwise). */
	int admin_only;
	/* nginx keeps its connections to this service open between
	 * requests (fastcgi_keep_conn, upstream keepalive): a kept
	 * connection pins a worker thread, so the default thread count
	 * covers them (config_kept_threads) and shutdown wakes threads
	 * waiting on one. Never for a service that hands requests over
	 * (server_handover): see server_finish_handed. */
	int kept_connections;
};

/* Loads config, opens the socket and serves until SIGTERM/SIGINT. Returns
 * the process exit status. */
int server_run(const struct service *);

/* Tells the worker that the handler gave the request to another owner
 * (a parked long poll), which will reply, log and free it. Call it after
 * the hand-over: from then on the worker never touches the request. */
void server_handover(void);

/* Hands the connection itself over (a parked long poll: services/poll
 * keeps only the socket and answers with fcgi_out_send): frees libfcgi's
 * request state and r without writing to or closing the socket, and tells
 * the worker as server_handover() does. The caller must have copied what
 * it needs from r (the parameters are freed too) and read the request's
 * stdin to its end. */
void server_detach(struct http_req *);

/* What the worker does after a handler, for an owner of a handed-over
 * request too: rolls back a transaction left open and answers 500 when
 * nothing was sent (`what` names the route in the warning). */
void server_after_handler(struct http_req *, const char *what);

/* Ends a handed-over request once its owner replied: the access line
 * (duration from t0, CLOCK_MONOTONIC), FCGX_Finish_r, and frees r. */
void server_finish_handed(struct http_req *, const struct timespec *t0);

/* Writes the access-log line of a finished request (`ms` = duration). */
void server_access_log(const struct http_req *, double ms);

/* Dispatches one accepted request (also used by tests and fuzzers). */
void server_dispatch(const struct service *, struct http_req *);

#endif
