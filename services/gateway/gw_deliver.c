/* gw_deliver: events out, acks in, closes, and the hints this worker sends.
 *
 * Flow control: a socket's events stay in PostgreSQL until its queue has
 * room. Catching up (the tick) reads another batch only while fewer than
 * LOW_WATER bytes wait to be written; a hint reads one batch at once, so
 * live events are never late behind the tick. A client that reads nothing
 * while events keep coming therefore fills its queue past
 * PARLEY_GATEWAY_MAX_UNSENT and is dropped; it resumes from its cursor. */
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <kore/kore.h>
#include <kore/http.h>

#include "db.h"
#include "gateway.h"
#include "log.h"
#include "stream.h"

#define BATCH	      100
#define LOW_WATER     (64 * 1024)
#define NOTIFY_MAX    7000 /* pg_notify payload limit is 7999 bytes */
#define CLOSE_WAIT_MS 3000 /* for the client's close frame */
#define LINGER_MS     2000
#define LINGER_BYTES  (1024 * 1024)
#define LINGER_MAX    256
#define ACK_RETRY_MS  1000

/* A descriptor kept open after Kore let go of its connection (gw_linger). */
struct lingerer {
	struct kore_event evt; /* first: epoll hands us this */
	int		  fd;
	size_t		  read;
	uint64_t	  until;
	LIST_ENTRY(lingerer) link;
};

static const struct db_stmt sql_notify = { "gw_notify",
	"SELECT pg_notify($1, $2)" };
#define EVENTS_CHANNEL	 "parley_events"   /* shared/notify.h */
#define RECEIPTS_CHANNEL "parley_receipts" /* poll_receipts.c */
static const struct db_stmt sql_session = { "gw_session",
	"SELECT 1 FROM sessions WHERE id = $1 AND revoked_at IS NULL"
	" AND expires_at > now()" };

static TAILQ_HEAD(, gw_sock) scheduled = TAILQ_HEAD_INITIALIZER(scheduled);
static LIST_HEAD(, lingerer) lingering = LIST_HEAD_INITIALIZER(lingering);
static int	nlinger;
static uint64_t ack_retry_at; /* acks failed: the next try, else 0 */
static char	hints[NOTIFY_MAX + 32];
static size_t	hints_len;
static int	receipts_owed; /* gw_receipts_kick() since the last tick */

static void linger_event(void *, int);
static void linger_end(struct lingerer *);

size_t
gw_unsent(const struct gw_sock *s)
{
	const struct netbuf *nb;
	size_t		     n = 0;

	TAILQ_FOREACH(nb, &s->c->send_queue, list)
	n += nb->b_len - nb->s_off;
	return n;
}

void
gw_send_text(struct gw_sock *s, const char *text, size_t len)
{
	kore_websocket_send(s->c, WEBSOCKET_OP_TEXT, text, len);
	gw_metrics_count(GW_M_FRAME, 0);
}

void
gw_close(struct gw_sock *s, int status, const char *code, const char *message)
{
	struct connection *c = s->c;
	unsigned char	   frame[125];
	size_t		   n = 0;

	if (s->state == GW_CLOSING)
		return;
	/* Acks of a session that ended are not written at the disconnect:
	 * poll_ack() would make its user online again. */
	if (status == GW_CLOSE_AUTH)
		s->ack_want = s->acked;
	if (code != NULL && message != NULL) {
		json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code,
		    "message", message);
		char   *txt = json_dumps(o, JSON_COMPACT);

		gw_send_text(s, txt, strlen(txt));
		free(txt);
		json_decref(o);
	}
	frame[0] = (unsigned char)(status >> 8);
	frame[1] = (unsigned char)(status & 0xff);
	if (code != NULL) {
		n = strlen(code);
		if (n > sizeof(frame) - 2)
			n = sizeof(frame) - 2;
		memcpy(frame + 2, code, n);
	}
	s->state = GW_CLOSING;
	gw_metrics_count(GW_M_CLOSED, status);
	s->close_at = kore_time_ms() + CLOSE_WAIT_MS;
	gw_schedule(s); /* gw_tick() enforces close_at */
	/* The closing handshake (RFC 6455 7.1.1): Kore sends no second close
	 * frame and drops the connection when the client's close frame
	 * arrives. Hanging up at once instead would make nginx, still
	 * forwarding what the client sent after the bad frame, fail to write
	 * to us and drop our close frame unsent: the client would see 1006. */
	c->flags |= CONN_WS_CLOSE_SENT;
	kore_websocket_send(c, WEBSOCKET_OP_CLOSE, frame, n + 2);
}

/* Kore has refused a frame by itself and is about to close the socket
 * with the frame's rest unread, which is the hang-up gw_close() avoids.
 * So the socket's descriptor stays open a little longer, read and
 * discarded, while our close frame (already written) travels on. */
void
gw_linger(struct connection *c)
{
	struct lingerer *l;
	int		 fd;

	if (nlinger >= LINGER_MAX)
		return;
	/* An epoll entry lasts while any descriptor of the socket is open:
	 * Kore's, naming the connection it frees, must go first. */
	kore_platform_disable_read(c->fd);
	if ((fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0)) == -1)
		return;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		log_fatal("calloc: out of memory");
	l->fd = fd;
	l->until = kore_time_ms() + LINGER_MS;
	l->evt.type = KORE_TYPE_CONNECTION;
	l->evt.handle = linger_event;
	LIST_INSERT_HEAD(&lingering, l, link);
	nlinger++;
	kore_platform_event_level_read(fd, l);
}

static void
linger_end(struct lingerer *l)
{
	LIST_REMOVE(l, link);
	nlinger--;
	close(l->fd); /* and with it its epoll entry */
	free(l);
}

static void
linger_event(void *arg, int error)
{
	struct lingerer *l = arg;
	char		 buf[8192];
	ssize_t		 n;

	while ((n = recv(l->fd, buf, sizeof(buf), 0)) > 0 ||
	    (n == -1 && errno == EINTR))
		if (n > 0 && (l->read += (size_t)n) > LINGER_BYTES)
			break;
	if (error || n >= 0 || errno != EAGAIN)
		linger_end(l);
}

void
gw_schedule(struct gw_sock *s)
{
	if (!s->scheduled) {
		s->scheduled = 1;
		TAILQ_INSERT_TAIL(&scheduled, s, sched_link);
	}
}

void
gw_unschedule(struct gw_sock *s)
{
	if (s->scheduled) {
		s->scheduled = 0;
		TAILQ_REMOVE(&scheduled, s, sched_link);
	}
}

void
gw_deliver(struct gw_sock *s, enum gw_deliver_mode mode)
{
	char	    u[24], cur[24], lim[24], sid[24], *frame;
	const char *events;
	long long   next;
	size_t	    len;
	PGresult   *res;
	int	    sent_one = 0;

	/* Authenticated, not subscribed: nothing to read, but a hint may be
	 * its session's revocation, which closes it at once too. */
	if (s->state == GW_HELLO && mode == GW_DELIVER_HINT) {
		res = DB_EXEC(gw_db, &sql_session, db_i64(sid, s->session_id));
		if (res != NULL && PQntuples(res) == 0)
			gw_close(s, GW_CLOSE_AUTH, "invalid_token",
			    "The session has ended.");
		PQclear(res); /* unavailable: subscribing checks again */
		return;
	}
	if (s->state != GW_LIVE)
		return;
	do {
		res = DB_EXEC(gw_db, &stream_sql_events, db_i64(u, s->user_id),
		    db_i64(cur, s->sent), db_i64(lim, BATCH),
		    db_i64(sid, s->session_id));
		if (res == NULL) {
			gw_close(s, GW_CLOSE_UNAVAILABLE, "unavailable",
			    "The database is unavailable; resume shortly.");
			return;
		}
		/* Logged out or revoked: the revocation's own hint (sql/014)
		 * brought us here, and nothing after it is read. */
		if (!db_get_bool(res, 0, 2)) {
			PQclear(res);
			gw_close(s, GW_CLOSE_AUTH, "invalid_token",
			    "The session has ended.");
			return;
		}
		events = PQgetvalue(res, 0, 0);
		next = db_get_i64(res, 0, 1);
		if (next > s->sent || (mode == GW_DELIVER_FIRST && !sent_one)) {
			len = strlen(events) + 48;
			if ((frame = malloc(len)) == NULL)
				log_fatal("malloc: out of memory");
			len = (size_t)snprintf(frame, len,
			    "{\"events\":%s,\"next\":%lld}", events, next);
			gw_send_text(s, frame, len);
			free(frame);
			sent_one = 1;
		}
		/* seqs have no gaps: a full batch means more may wait. */
		s->more = next - s->sent >= BATCH;
		s->sent = next;
		PQclear(res);
		if (gw_unsent(s) > (size_t)gw_config.max_unsent) {
			log_warn("user %lld session %lld: %zu bytes unsent, "
				 "dropping the socket",
			    (long long)s->user_id, (long long)s->session_id,
			    gw_unsent(s));
			/* A queue this full cannot take a close frame. */
			s->state = GW_CLOSING;
			gw_metrics_count(GW_M_SLOW, 0);
			gw_unschedule(s);
			kore_connection_disconnect(s->c);
			return;
		}
	} while (
	    mode != GW_DELIVER_HINT && s->more && gw_unsent(s) < LOW_WATER);
	if (s->more)
		gw_schedule(s);
}

void
gw_ack_now(struct gw_sock *s)
{
	char	  sid[24], uid[24], cur[24];
	PGresult *res;

	res = DB_EXEC(gw_db, &stream_sql_ack, db_i64(sid, s->session_id),
	    db_i64(uid, s->user_id), db_i64(cur, s->ack_want));
	if (res == NULL) {
		/* Kept on the tick's list; the tick tries again in a second,
		 * not every 20 ms (nor a warning each time) while the
		 * database is away. */
		if (ack_retry_at == 0)
			log_warn("ack of session %lld failed; acks are kept "
				 "and retried every %d ms",
			    (long long)s->session_id, ACK_RETRY_MS);
		ack_retry_at = kore_time_ms() + ACK_RETRY_MS;
		return;
	}
	if (ack_retry_at != 0)
		log_info("acks are written again");
	ack_retry_at = 0;
	s->acked = s->ack_want;
	gw_notify(db_get_str(res, 0, 0));
	gw_receipts_kick();
	PQclear(res);
}

void
gw_tick(uint64_t now)
{
	struct gw_sock	*s, *next;
	struct lingerer *l, *lnext;

	for (l = LIST_FIRST(&lingering); l != NULL; l = lnext) {
		lnext = LIST_NEXT(l, link);
		if (now >= l->until)
			linger_end(l);
	}
	for (s = TAILQ_FIRST(&scheduled); s != NULL; s = next) {
		next = TAILQ_NEXT(s, sched_link);
		if (s->state == GW_CLOSING) {
			/* No close frame came back: hang up (frees s). */
			if (now >= s->close_at)
				kore_connection_disconnect(s->c);
			continue;
		}
		if (s->state == GW_AUTH) {
			if (now > s->opened_ms &&
			    now - s->opened_ms > (uint64_t)gw_config.auth_ms)
				gw_close(s, GW_CLOSE_AUTH_TIMEOUT,
				    "auth_timeout",
				    "Send {\"token\": …} first.");
			continue;
		}
		if (s->state != GW_LIVE) {
			gw_unschedule(s);
			continue;
		}
		if (s->ack_want > s->acked && now >= ack_retry_at &&
		    gw_async_ack(s) == -1)
			gw_ack_now(s);
		if (s->more && gw_unsent(s) < LOW_WATER) {
			gw_unschedule(s);
			gw_deliver(s, GW_DELIVER_CATCH_UP); /* may free s */
		} else if (!s->more && s->ack_want <= s->acked)
			gw_unschedule(s);
	}
}

/* Hints for other users' streams (a delivery receipt, presence), sent as
 * one pg_notify per tick outside any writing transaction, as
 * shared/notify.c does for the FastCGI services. */
void
gw_notify(const char *pg_array)
{
	const char *p;
	size_t	    n;

	if (pg_array == NULL || pg_array[0] != '{' || pg_array[1] == '}')
		return;
	p = pg_array + 1;
	n = strcspn(p, "}");
	if (hints_len + n + 1 > NOTIFY_MAX)
		gw_notify_flush();
	if (n + 1 > NOTIFY_MAX)
		return; /* cannot happen: ids are few */
	if (hints_len > 0)
		hints[hints_len++] = ',';
	memcpy(hints + hints_len, p, n);
	hints_len += n;
	hints[hints_len] = '\0';
}

void
gw_receipts_kick(void)
{
	receipts_owed = 1;
}

static void
notify_send(const char *channel, const char *payload)
{
	PGresult *res;

	if (gw_async_notify(channel, payload) == 0)
		return;
	if ((res = DB_EXEC(gw_db, &sql_notify, channel, payload)) == NULL)
		log_warn("pg_notify failed: a hint is lost (the receivers "
			 "still see the events at their next read)");
	PQclear(res);
}

void
gw_notify_flush(void)
{
	if (hints_len > 0) {
		notify_send(EVENTS_CHANNEL, hints);
		hints_len = 0;
	}
	/* A lost one delays the receipts to the flusher's next sweep. */
	if (receipts_owed) {
		notify_send(RECEIPTS_CHANNEL, "");
		receipts_owed = 0;
	}
}
