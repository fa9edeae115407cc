/* lg_common.h: what the load generator's files share (a test tool, not
 * product code). One thread, one epoll set, one clock: lg_util.c (options,
 * errors, files), lg_dist.c (distributions and their samples), lg_http.c
 * (HTTP/1.1 client connections and the event loop), lg_poll.c (long
 * pollers), lg_ws.c (the WebSocket client), lg_stages.c (the hold modes'
 * stages); one lg_<mode>.c per mode, loadgen.c picks it. */
#ifndef LG_COMMON_H
#define LG_COMMON_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------- lg_util.c */

extern int		  epfd;
extern struct sockaddr_in addr;	      /* --host, --port */
extern char		  run_id[32]; /* unique per run */

void	die(const char *, ...) __attribute__((noreturn, format(printf, 1, 2)));
int64_t now_us(void); /* CLOCK_MONOTONIC */
/* "--key value" pairs from argv[2...]; dies on a malformed list. */
void	    opt_parse(int, char **);
const char *opt(const char *, const char *);
double	    optn(const char *, double);
void	   *xcalloc(size_t, size_t); /* dies when out of memory */
int	    read_lines(const char *, char ***);
const char *field(const char *, int, char *, size_t);
long	    count_fds(const char *); /* "pid,pid,..." */

/* ------------------------------------------------------- lg_dist.c */

/* Prints name_n, _p50_ms, _p90_ms, _p99_ms, _max_ms of n values in us
 * (sorts them). With --samples PREFIX, also writes the distribution to
 * PREFIX_<name>.txt for bench/report.js: at most LG_SAMPLES_MAX values
 * in us, sorted, evenly spaced in rank when there are more. */
#define LG_SAMPLES_MAX 2000
void print_dist(const char *, int64_t *, size_t);

/* A growable array of samples (us). */
struct samples {
	int64_t *v;
	size_t	 n, cap;
};
void samples_add(struct samples *, int64_t);

/* ------------------------------------------------------- lg_http.c */

enum { ST_IDLE, ST_CONNECTING, ST_WRITING, ST_READING };

struct conn;
/* A response (status, body NUL-terminated) or a failure (status -1). */
typedef void (*done_fn)(struct conn *, int, char *, size_t);

/* An HTTP/1.1 keep-alive client connection, one request at a time. */
struct conn {
	int	fd, st, events;
	char	out[4096];
	size_t	outlen, outoff;
	char   *in;
	size_t	inlen, incap;
	int64_t t_issue;
	done_fn done;
	int	idx;	  /* owner's index */
	int64_t a;	  /* owner's data (message number) */
	int64_t retry_at; /* > 0: re-issue then */
	char	etag[128], lastmod[64];
};

/* n idle connections, idx 0..n-1, all answering to `done`. */
struct conn *conns_new(int, done_fn);
/* Sends the request in c->out (outlen set); opens a connection if none. */
void conn_send(struct conn *);
void conn_close(struct conn *);
void req_get(struct conn *, const char *path, const char *token);
void req_post(struct conn *, const char *path, const char *token,
    const char *ctype, const char *body);
/* A text message; client_id is unique per run and text. */
void req_message(struct conn *, const char *token, const char *to_field,
    long long to, const char *text);
/* Calls fn(kind, number, arg) for each marker text "<kind><digits>" in a
 * poll answer or a bare Nchan body; returns the count. */
int	  markers(const char *, size_t, void (*)(int, long, void *), void *);
long long next_cursor(const char *); /* a poll answer's, or -1 */
void	  loop_once(int);	     /* one epoll_wait and dispatch */

/* ------------------------------------------------------- lg_poll.c */

/* A long poller, Parley or Nchan. */
struct poller {
	char	  token[64];
	long long user;
	char	  sender[64]; /* a friend who sends to it */
	long long since;      /* -1: ask for the head first */
	int	  armed;      /* a waiting poll is out */
	int64_t	  armed_at;
	long	  polls, errors;
};

extern struct poller *pollers;
extern struct conn   *pconns;
extern int	      npollers, nchan; /* nchan: Nchan's subscribers */
extern long	      poll_errors;
extern void (*on_marker)(int, long, void *); /* arg: conn */
extern void (*on_body)(struct conn *, const char *, size_t);
extern int64_t repoll_delay; /* us before polling again */

/* n pollers from `path` ("token user_id sender_token" lines; Nchan: none). */
void pollers_load(const char *, int);
/* Starts every poller at `rate` per second and returns once all are armed
 * and the last for `settle_us`; calls tick (if any) meanwhile. */
void pollers_start(double, int64_t, void (*)(void));
void pollers_retry(void); /* re-issues the polls whose retry is due */

/* --------------------------------------------------------- lg_ws.c */

enum { WS_IDLE, WS_CONNECTING, WS_HANDSHAKE, WS_OPEN };

/* A WebSocket client connection (RFC 6455): handshake, masked frames out,
 * server frames in; pings are answered inside lg_ws.c. */
struct ws {
	int	  fd, st, events;
	int	  idx; /* owner's index */
	char	 *in, *out;
	size_t	  inlen, incap, outlen, outoff, outcap;
	char	  key[32];  /* Sec-WebSocket-Key sent */
	int64_t	  t_open;   /* connect() called */
	int64_t	  t_up;	    /* 101 read */
	int64_t	  retry_at; /* > 0: owner reconnects then */
	long long next;	    /* Parley: the last "next" read */
	long	  texts, pings;
	int	  proto; /* "parley" must be the protocol chosen */
	int	  live;	 /* owner's: subscribed */
};

/* Called for every socket of the run; set by the mode. on_close gets the
 * peer's close code, 1006 for a connection lost without one, or minus
 * the HTTP status when the upgrade was refused. The socket is closed
 * (fd -1) when on_close runs; the owner may ws_connect() it again. */
extern void (*ws_on_open)(struct ws *);
extern void (*ws_on_text)(struct ws *, char *, size_t);
extern void (*ws_on_close)(struct ws *, int);
extern long ws_pings, ws_pongs; /* all sockets, ever */

/* n idle sockets, fd -1, idx 0..n-1. */
struct ws *ws_new(int);
/* Connects to `addr` from source address `src` (0: any) and upgrades
 * at `path`; `token`, when not NULL, goes in Sec-WebSocket-Protocol as
 * "parley, token.<token>". */
void
ws_connect(struct ws *, in_addr_t src, const char *path, const char *token);
/* epoll events for a socket (loop_once strips the tag bit). */
void ws_event(struct ws *, uint32_t);
/* Queues one masked text frame and writes what the kernel takes. */
void ws_send_text(struct ws *, const char *, size_t);
void ws_close(struct ws *);

/* ----------------------------------------------------- lg_stages.c */

/* The hold modes' stages (--stages "1000,10000", then --n): open up to
 * each count at --openrate per second, and once held create
 * "<--ready>.<i>" and wait for "<--done>.<i>" (or --maxhold s). */
struct stages {
	int	    n[16], count;
	const char *ready, *done;
	double	    rate, maxhold;
};

void stages_init(struct stages *, int total, double rate, double maxhold);
/* How many of stage i's connections may be open by now (t), the stage's
 * opening having started at ts. */
int  stages_due(const struct stages *, int i, int64_t ts, int64_t t);
void stages_ready(const struct stages *, int i);
/* 1 when stage i is over: "<done>.<i>" exists or maxhold passed. */
int stages_over(const struct stages *, int i, int64_t t_ready, int64_t t);
/* Tokens (the first field of each line) of the first n lines of --file. */
char **stages_tokens(const char *path, int n);

/* --------------------------------------------------------- modes */

int mode_tokens(void);
int mode_send(void);
int mode_latency(void);
int mode_hold(void);
int mode_wshold(void);
int mode_fanout(void);
int mode_calls(void);

#endif
