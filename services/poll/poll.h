/* poll: long-poll delivery of each user's event stream. */
#ifndef PARLEY_POLL_H
#define PARLEY_POLL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "db.h"
/* The handlers: routes_poll.h, generated from docs/openapi.json. */
#include "routes_poll.h"

struct http_req;
struct ustate;

/* What a finisher thread does with a waiter the hub let go (poll_hub.c). */
enum waiter_fate {
	WAITER_EMPTY, /* answer {"events":[],"next":since} */
	WAITER_GONE,  /* the client hung up: log 499, close */
};

/* A request waiting for events: a compact record (~300 bytes) instead of
 * the request (struct http_req and libfcgi's two 8 KiB stream buffers,
 * ~15 KiB), which is freed once the poll is about to wait
 * (server_detach). The reply goes out on `fd` as FastCGI records written
 * by poll_reply.c (shared/fcgi_out.c); nginx opens one connection per
 * /events request (no fastcgi_keep_conn there), so the reply ends with
 * END_REQUEST and close(). Owned by whoever holds it: the accepting
 * worker, then the hub while parked, then a responder after a wake-up or
 * a finisher after a timeout, hangup or displacement. */
struct waiter {
	int		    fd;		/* nginx's FastCGI connection */
	int		    request_id; /* FastCGI request id on it */
	int64_t		    user_id;
	int64_t		    session_id;
	int64_t		    since;
	int		    limit;
	int		    tries;    /* parks refused since the wake-up */
	int64_t		    deadline; /* CLOCK_MONOTONIC ms */
	struct timespec	    t0;	      /* request start: access log, age */
	int		    heap_idx;
	int		    fate;	 /* enum waiter_fate, for a finisher */
	struct waiter	   *next, *prev; /* the same user's waiters; queues */
	struct ustate	   *u;
	char		    jsonp[80]; /* JSONP callback (r->jsonp), "" */
	char		    addr[48];  /* REMOTE_ADDR, for the access log */
	const struct route *route;     /* r->route: the metrics' label */
};

/* Settings read once at start (poll_events.c). */
struct poll_config {
	long max_timeout;     /* PARLEY_POLL_MAX_TIMEOUT, s (<= 60: nginx
				 * holds an upstream for 70 s) */
	long online_window;   /* PARLEY_ONLINE_WINDOW, s */
	long retention;	      /* PARLEY_EVENT_RETENTION, s */
	long max_per_session; /* PARLEY_POLL_MAX_PER_SESSION: parked polls
				 * of one session (a browser's tabs share it) */
	long max_per_user;    /* PARLEY_POLL_MAX_PER_USER: of one user */
};
extern struct poll_config poll_config;
void			  poll_config_load(void);

/* poll_reply.c: every answer to a waiter. Each one writes the reply on
 * w->fd (the same bytes http.c writes for a request still in libfcgi's
 * hands, JSONP included), logs the access line, closes the socket and
 * frees w. */
/* {"events":<events>,"next":next}: events is JSON text. */
void poll_reply_events(struct waiter *, const char *events, long long next);
/* {"events":[],"next":since}. */
void poll_finish_empty(struct waiter *);
/* 401 invalid_token: the session ended while the poll waited. */
void poll_reply_ended(struct waiter *);
/* The database failure of `db` (this thread's connection): 503 or 500. */
void poll_reply_db_error(struct waiter *, struct db *);
/* The client hung up: logs 499 and closes, no reply. */
void poll_finish_gone(struct waiter *);
/* Replies 401 invalid_token to a request: the session ended. */
void poll_session_ended(struct http_req *);
/* Replies {"events":<events>,"next":next} to a request. */
void poll_reply_json(struct http_req *, const char *events, long long next);

/* poll_deliver.c */
/* Looks for events after w->since. Replies and finishes the waiter when
 * there are some, when its session has ended (401 invalid_token), on a
 * database error, or when `final`, and returns false; returns true (w
 * kept, untouched) when there is nothing yet. */
bool poll_deliver(struct db *, struct waiter *, int final);
/* The same for n waiters in one query (stream_sql_events_batch): each
 * one is finished, or, with nothing for it yet, left in ws[] and counted
 * in the result (the kept ones are moved to the front of ws[]). A waiter
 * whose park was refused POLL_TRIES_MAX times is answered in any case. */
#define POLL_TRIES_MAX 3
size_t poll_deliver_batch(struct db *, struct waiter **ws, size_t n, int final);

/* poll_hub.c */
void hub_start(void);
void hub_stop(void);
/* The notification generation: read it before querying the events table,
 * and pass it to hub_park(). */
uint64_t hub_generation(void);
/* Parks w until an event hint for its user, its deadline, or a client
 * disconnect. Returns 0 when the hub took w (parked; or, if it cannot
 * wait, queued for an empty answer), or -1 when a hint for this user may
 * have arrived after generation `g0` (query again). A park past the
 * session's or user's cap displaces the oldest parked poll there, which
 * is answered empty at once. */
int	hub_park(struct waiter *, uint64_t g0);
int64_t hub_now_ms(void);
/* Sessions of the parked polls as "{1,2}" (caller frees), NULL if none. */
char *hub_parked_sessions(void);

/* poll_janitor.c: presence sweep and event retention, on a timer; it
 * starts and stops the receipts flusher too. */
void janitor_start(void);
void janitor_stop(void);

/* poll_receipts.c: the flusher of coalesced delivery receipts (sql/021).
 * receipts_kick(): an acknowledgement may have owed a receipt; the flush
 * follows within PARLEY_RECEIPT_FLUSH_MS. Never blocks; any thread. */
void receipts_start(void);
void receipts_stop(void);
void receipts_kick(void);

/* poll_sql.c */
extern const struct db_stmt sql_presence_sweep, sql_prune, sql_touch_parked,
    sql_prune_stream_tokens, sql_state_events;

#endif
