/* loadgen.h: what the two halves of the load generator share (a test
 * tool, not product code): loadgen.c's utilities and event loop, and the
 * WebSocket client in ws.c. Both run in the one thread of loadgen. */
#ifndef LOADGEN_H
#define LOADGEN_H

#include <netinet/in.h>

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------ loadgen.c */

extern int			epfd;
extern struct sockaddr_in	addr;	/* --host, --port */

void		 die(const char *, ...)
		    __attribute__((noreturn, format(printf, 1, 2)));
int64_t		 now_us(void);		/* CLOCK_MONOTONIC */
const char	*opt(const char *, const char *);
double		 optn(const char *, double);
void		*xcalloc(size_t, size_t);	/* dies when out of memory */
int		 read_lines(const char *, char ***);
const char	*field(const char *, int, char *, size_t);
long		 count_fds(const char *);	/* "pid,pid,..." */
/* name_n, _p50_ms, _p90_ms, _p99_ms, _max_ms of n values in us (sorts). */
void		 print_dist(const char *, int64_t *, size_t);
void		 loop_once(int);		/* one epoll_wait and dispatch */

/* ------------------------------------------------------------ ws.c */

enum { WS_IDLE, WS_CONNECTING, WS_HANDSHAKE, WS_OPEN };

/* A WebSocket client connection (RFC 6455): handshake, masked frames out,
 * server frames in; pings are answered inside ws.c. */
struct ws {
	int		 fd, st, events;
	int		 idx;		/* owner's index */
	char		*in, *out;
	size_t		 inlen, incap, outlen, outoff, outcap;
	char		 key[32];	/* Sec-WebSocket-Key sent */
	int64_t		 t_open;	/* connect() called */
	int64_t		 t_up;		/* 101 read */
	int64_t		 retry_at;	/* > 0: owner reconnects then */
	long long	 next;		/* Parley: the last "next" read */
	long		 texts, pings;
	int		 proto;	/* "parley" must be the protocol chosen */
	int		 live;		/* owner's: subscribed */
};

/* Called for every socket of the run; set by the mode. on_close gets the
 * peer's close code, 1006 for a connection lost without one, or minus
 * the HTTP status when the upgrade was refused. The socket is closed
 * (fd -1) when on_close runs; the owner may ws_connect() it again. */
extern void	(*ws_on_open)(struct ws *);
extern void	(*ws_on_text)(struct ws *, char *, size_t);
extern void	(*ws_on_close)(struct ws *, int);
extern long	 ws_pings, ws_pongs;	/* all sockets, ever */

/* Connects to `addr` from source address `src` (0: any) and upgrades
 * at `path`; `token`, when not NULL, goes in Sec-WebSocket-Protocol as
 * "parley, token.<token>". */
void	ws_connect(struct ws *, in_addr_t src, const char *path,
	    const char *token);
/* epoll events for a socket (loop_once strips the tag bit). */
void	ws_event(struct ws *, uint32_t);
/* Queues one masked text frame and writes what the kernel takes. */
void	ws_send_text(struct ws *, const char *, size_t);
void	ws_close(struct ws *);

/* The "wshold" mode: --n idle WebSockets held, like "hold" for polls. */
int	mode_wshold(void);

#endif
