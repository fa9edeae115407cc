/* gateway: the WebSocket side of the event stream (GET /api/v1/stream), a
 * Kore module. Each Kore worker is one process with one event loop: it
 * holds its sockets, one LISTEN connection for the wake-up hints and one
 * connection for queries. Events are always read from PostgreSQL with the
 * socket's cursor, never taken from a hint, exactly as the poll service
 * does; so a client may move between the two transports at any moment.
 * The protocol is in docs/EVENTS.md ("WebSocket"). */
#ifndef PARLEY_GATEWAY_H
#define PARLEY_GATEWAY_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "db.h"

struct connection;
struct http_request;

/* Close codes (docs/EVENTS.md). 1000-range ones are RFC 6455's. */
#define GW_CLOSE_GOING_AWAY   1001 /* the gateway is shutting down */
#define GW_CLOSE_TOO_BIG      1009 /* frame over PARLEY_GATEWAY_MAX_FRAME */
#define GW_CLOSE_INTERNAL     1011
#define GW_CLOSE_BAD_FRAME    4400 /* not JSON, unknown field, bad ack */
#define GW_CLOSE_AUTH	      4401 /* no, bad, revoked or expired token */
#define GW_CLOSE_AUTH_TIMEOUT 4408 /* no token frame in time */
#define GW_CLOSE_EXPIRED      4410 /* cursor_expired */
#define GW_CLOSE_TOO_MANY     4429 /* sockets per session or user */
#define GW_CLOSE_SLOW	      4508 /* unsent bytes over the limit */
#define GW_CLOSE_UNAVAILABLE  4503 /* database unreachable: retry */

enum gw_state {
	GW_AUTH,    /* upgraded without a credential: wants {"token"} */
	GW_HELLO,   /* authenticated: wants {"since"} */
	GW_LIVE,    /* subscribed: events flow */
	GW_CLOSING, /* close frame queued */
};

struct gw_sock {
	struct connection *c;
	enum gw_state	   state;
	int64_t		   user_id;
	int64_t		   session_id;
	int64_t		   sent;     /* last seq sent: the cursor */
	int64_t		   acked;    /* acknowledged to the database */
	int64_t		   ack_want; /* highest ack received */
	uint64_t	   opened_ms;
	uint64_t	   heard_ms;	 /* bytes last came from the peer */
	uint64_t	   close_at;	 /* GW_CLOSING: hang up then */
	int		   counted;	 /* holds a place in gw_limits */
	int		   more;	 /* a full batch went out */
	int		   scheduled;	 /* on the tick's list */
	int		   ack_busy;	 /* an ack of it is in gw_async */
	TAILQ_ENTRY(gw_sock) user_link;	 /* this user's sockets */
	TAILQ_ENTRY(gw_sock) all_link;	 /* this worker's sockets */
	TAILQ_ENTRY(gw_sock) sched_link; /* the tick's list */
	struct gw_user *user;
};
TAILQ_HEAD(gw_sock_list, gw_sock);

struct gw_user {
	int64_t		    id;
	struct gw_sock_list socks;
	struct gw_user	   *next; /* hash chain */
};

struct gw_config {
	long ping_ms;	 /* PARLEY_GATEWAY_PING: server ping interval */
	long max_frame;	 /* PARLEY_GATEWAY_MAX_FRAME: bytes per client frame */
	long max_unsent; /* PARLEY_GATEWAY_MAX_UNSENT: bytes queued */
	long max_per_session; /* PARLEY_GATEWAY_MAX_PER_SESSION */
	long max_per_user;    /* PARLEY_GATEWAY_MAX_PER_USER */
	long auth_ms;	      /* PARLEY_GATEWAY_AUTH_TIMEOUT: for {"token"} */
	long online_window;   /* PARLEY_ONLINE_WINDOW, s (presence) */
	char origins[2048];   /* PARLEY_ORIGINS: extra origins for cookies */
};
extern struct gw_config	   gw_config;
extern struct gw_sock_list gw_all; /* every socket of this worker */
extern struct db	  *gw_db;  /* this worker's query connection */

/* gw_stream.c: the HTTP route and the WebSocket callbacks. */
int  gw_stream(struct http_request *);
void gw_ws_connect(struct connection *);
void gw_ws_message(struct connection *, uint8_t, const void *, size_t);
void gw_ws_disconnect(struct connection *);
/* The peer answered no ping (nor sent anything) for this long: gone. */
#define GW_DEAD_MS() ((uint64_t)gw_config.ping_ms * 2 + 5000)

/* gw_deliver.c: sending events, acks, closing. */
enum gw_deliver_mode {
	GW_DELIVER_HINT,     /* one batch, now: a hint arrived */
	GW_DELIVER_CATCH_UP, /* batches while the queue is short */
	GW_DELIVER_FIRST,    /* as CATCH_UP, and a frame even if empty */
};
/* Reads and sends what follows s->sent; closes the socket when its
 * session has ended or its queue passed PARLEY_GATEWAY_MAX_UNSENT. */
void gw_deliver(struct gw_sock *, enum gw_deliver_mode);
/* The tick's list: sockets with an ack to write, a backlog to send or an
 * auth deadline. gw_tick() works through it every 20 ms. */
void gw_schedule(struct gw_sock *);
void gw_unschedule(struct gw_sock *);
void gw_tick(uint64_t now);
/* Writes the socket's newest ack (poll_ack) and wakes whom it concerns. */
void gw_ack_now(struct gw_sock *);
/* Sends {"error":{code,message}} (when both are given), then a close frame
 * with `code` as its reason, and waits for the client's close frame (at
 * most 3 s: gw_tick). Frames that arrive meanwhile are ignored. */
void
gw_close(struct gw_sock *, int status, const char *code, const char *message);
/* Keeps reading (and discarding) a socket Kore is about to close. */
void gw_linger(struct connection *);
/* Sends a text frame. */
void gw_send_text(struct gw_sock *, const char *, size_t);
/* Bytes queued on the socket and not yet written to the kernel. */
size_t gw_unsent(const struct gw_sock *);
/* Queues the user ids of a bigint[] text ("{1,2}") as a wake-up hint. */
void gw_notify(const char *pg_array);
/* An ack was written that may owe delivery receipts: the tick tells the
 * poll service's flusher (sql/021) with one `parley_receipts` hint. */
void gw_receipts_kick(void);
/* Sends the queued hints (and the receipts hint); the tick calls it. */
void gw_notify_flush(void);

/* gw_async.c: acks and hints written on a connection of their own,
 * without waiting, so the event loop never stalls on their commits. */
void gw_async_start(void);
void gw_async_check(void); /* reconnects; the tick calls it */
void gw_async_stop(void);  /* writes what is queued, then inline */
/* Queue the socket's ack (poll_ack of ack_want) or a hint; -1 when the
 * connection is down or the queue full: the caller writes it inline. */
int  gw_async_ack(struct gw_sock *);
int  gw_async_ack_at(struct gw_sock *, int64_t seq); /* even if acked */
int  gw_async_notify(const char *channel, const char *payload);
void gw_async_forget(struct gw_sock *); /* before freeing it */

/* gw_listen.c: hints and this worker's users. */
void gw_listen_start(void);
/* Ensures the LISTEN connection is up (a timer calls this). */
void		gw_listen_check(void);
struct gw_user *gw_user_get(int64_t id, int create);
void		gw_user_put(struct gw_user *);

/* gw_limits.c: sockets per session and per user, across all workers. */
void gw_limits_init(int workers);  /* in the parent, before fork */
void gw_limits_worker(int worker); /* forgets a dead predecessor's */
/* Takes a place for the socket, or returns -1 when either is full. */
int  gw_limits_take(int64_t session_id, int64_t user_id);
void gw_limits_give(int64_t session_id, int64_t user_id);

/* gw_metrics.c: per-worker counters in a table shared by the workers,
 * summed by GET /metrics. */
enum gw_metric {
	GW_M_OPENED,
	GW_M_GONE,
	GW_M_FRAME,
	GW_M_HINT,
	GW_M_SLOW,
	GW_M_CLOSED
};
void gw_metrics_init(int workers);
void gw_metrics_worker(int worker);
void gw_metrics_count(enum gw_metric, int code);
int  gw_metrics(struct http_request *);

#endif
