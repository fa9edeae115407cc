/* gw_async: the writes that nobody waits for, off the event loop. An ack
 * (poll_ack) is a write transaction that row-locks the session and the
 * member's own rows (its receipts are queued for the poll service's
 * flusher, sql/021) and commits with a WAL flush; a hint (pg_notify)
 * commits as well. Done inline on the query connection each stalls
 * every socket of the worker for as long as it takes, and under load
 * that was most of the time: deliveries waited behind the tick's acks
 * (bench figure 8). So each worker has one more
 * connection on which these are sent without waiting, one at a time in
 * the order asked, and the answers are read when the socket is readable.
 * While that connection is down the callers do the work inline, as
 * before. */
#include <stdlib.h>
#include <string.h>

#include <kore/kore.h>

#include "config.h"
#include "db.h"
#include "gateway.h"
#include "log.h"
#include "stream.h"

#define RETRY_MS  1000
#define QUEUE_MAX 65536 /* jobs; past it callers work inline */

enum job_kind { JOB_ACK, JOB_NOTIFY };

struct job {
	enum job_kind	kind;
	struct gw_sock *s; /* JOB_ACK; NULL once it is gone */
	int64_t		session_id, user_id, seq;
	const char     *channel; /* JOB_NOTIFY */
	char	       *ids;	 /* JOB_NOTIFY: the payload ("1,2,3") */
};

static PGconn		*conn;
static struct kore_event evt;
static uint64_t		 retry_at;
static struct job	*q;
static size_t		 qhead, qlen, qcap;
static int		 busy; /* q[qhead] is on the wire */

static void async_event(void *, int);
static void async_lost(void);
static void next_job(void);
static void job_result(struct job *, PGresult *);
static void job_done(struct job *, PGresult *);
static void job_failed(struct job *);
static void pop(void);

void
gw_async_start(void)
{
	const char *keys[4], *vals[4];

	retry_at = kore_time_ms() + RETRY_MS;
	db_conn_params(config.database_url, "parley-gateway-async", keys, vals);
	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK || PQsetnonblocking(conn, 1) != 0) {
		log_warn("async connection failed: %s; acks are written "
			 "inline meanwhile",
		    PQerrorMessage(conn));
		PQfinish(conn);
		conn = NULL;
		return;
	}
	memset(&evt, 0, sizeof(evt));
	evt.type = KORE_TYPE_PGSQL_CONN;
	evt.handle = async_event;
	kore_platform_event_level_read(PQsocket(conn), &evt);
	next_job();
}

void
gw_async_check(void)
{
	if (conn == NULL && kore_time_ms() >= retry_at)
		gw_async_start();
	else if (conn != NULL && busy && PQflush(conn) == -1)
		async_lost();
}

static int
push(struct job *j)
{
	if (conn == NULL || qlen == QUEUE_MAX)
		return -1;
	if (qlen == qcap) {
		struct job *n;
		size_t	    i, cap = qcap ? qcap * 2 : 64;

		if ((n = malloc(cap * sizeof(*n))) == NULL)
			log_fatal("malloc: out of memory");
		for (i = 0; i < qlen; i++)
			n[i] = q[(qhead + i) % qcap];
		free(q);
		q = n;
		qcap = cap;
		qhead = 0;
	}
	q[(qhead + qlen++) % qcap] = *j;
	if (!busy)
		next_job();
	return 0;
}

int
gw_async_ack(struct gw_sock *s)
{
	return gw_async_ack_at(s, s->ack_want);
}

int
gw_async_ack_at(struct gw_sock *s, int64_t seq)
{
	struct job j;

	if (s->ack_busy)
		return 0; /* the tick asks again once it is written */
	memset(&j, 0, sizeof(j));
	j.kind = JOB_ACK;
	j.s = s;
	j.session_id = s->session_id;
	j.user_id = s->user_id;
	j.seq = seq;
	if (push(&j) == -1)
		return -1;
	s->ack_busy = 1;
	return 0;
}

int
gw_async_notify(const char *channel, const char *ids)
{
	struct job j;

	memset(&j, 0, sizeof(j));
	j.kind = JOB_NOTIFY;
	j.channel = channel;
	if ((j.ids = strdup(ids)) == NULL)
		log_fatal("strdup: out of memory");
	if (push(&j) == -1) {
		free(j.ids);
		return -1;
	}
	return 0;
}

void
gw_async_forget(struct gw_sock *s)
{
	size_t i;

	for (i = 0; i < qlen; i++)
		if (q[(qhead + i) % qcap].s == s)
			q[(qhead + i) % qcap].s = NULL;
	s->ack_busy = 0;
}

/* Sends the job at the head of the queue, if any and none is out. */
static void
next_job(void)
{
	struct job *j;
	char	    sid[24], uid[24], cur[24];
	const char *v[3];
	int	    ok;

	while (conn != NULL && !busy && qlen > 0) {
		j = &q[qhead];
		if (j->kind == JOB_ACK && j->s == NULL) {
			/* Its socket went and wrote the ack itself. */
			qhead = (qhead + 1) % qcap;
			qlen--;
			continue;
		}
		if (j->kind == JOB_ACK) {
			v[0] = db_i64(sid, j->session_id);
			v[1] = db_i64(uid, j->user_id);
			v[2] = db_i64(cur, j->seq);
			ok = PQsendQueryParams(conn, stream_sql_ack.sql, 3,
			    NULL, v, NULL, NULL, 0);
		} else {
			v[0] = j->channel;
			v[1] = j->ids;
			ok = PQsendQueryParams(conn, "SELECT pg_notify($1, $2)",
			    2, NULL, v, NULL, NULL, 0);
		}
		if (!ok || PQflush(conn) == -1) {
			async_lost();
			return;
		}
		busy = 1;
	}
}

static void
job_done(struct job *j, PGresult *res)
{
	if (j->kind == JOB_ACK) {
		if (j->s != NULL) {
			j->s->ack_busy = 0;
			if (j->seq > j->s->acked)
				j->s->acked = j->seq;
		}
		gw_notify(db_get_str(res, 0, 0));
		gw_receipts_kick();
	}
	free(j->ids);
}

/* Not written: an ack stays wanted (the tick retries it), a hint is
 * lost as an inline one would be (the receivers read at their next
 * event or reconnect). */
static void
job_failed(struct job *j)
{
	if (j->kind == JOB_ACK && j->s != NULL)
		j->s->ack_busy = 0;
	free(j->ids);
}

static void
job_result(struct job *j, PGresult *res)
{
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		job_done(j, res);
	else {
		log_warn("async %s failed: %s",
		    j->kind == JOB_ACK ? "ack" : "hint",
		    PQresultErrorMessage(res));
		job_failed(j);
	}
	j->ids = NULL;
	j->s = NULL; /* a second result finds nothing to do */
	PQclear(res);
}

static void
pop(void)
{
	qhead = (qhead + 1) % qcap;
	qlen--;
	busy = 0;
}

static void
async_event(void *arg, int error)
{
	PGresult *res;

	(void)arg;
	evt.flags &= ~KORE_EVENT_READ;
	if (error || !PQconsumeInput(conn)) {
		async_lost();
		return;
	}
	while (busy && !PQisBusy(conn)) {
		/* One statement: one result, then NULL. */
		while ((res = PQgetResult(conn)) != NULL) {
			job_result(&q[qhead], res);
			if (PQisBusy(conn))
				return; /* the NULL is not in yet */
		}
		pop();
		next_job();
	}
}

/* Shutting down: writes what is queued now, waiting for each, and
 * closes the connection, so later callers work inline. */
void
gw_async_stop(void)
{
	PGresult *res;

	if (conn == NULL)
		return;
	(void)PQsetnonblocking(conn, 0);
	while (conn != NULL && (busy || qlen > 0)) {
		if (!busy && (next_job(), !busy))
			break;
		while ((res = PQgetResult(conn)) != NULL)
			job_result(&q[qhead], res);
		if (PQstatus(conn) != CONNECTION_OK) {
			async_lost();
			return;
		}
		pop();
	}
	if (conn != NULL) {
		kore_platform_disable_read(PQsocket(conn));
		PQfinish(conn);
		conn = NULL;
	}
	retry_at = UINT64_MAX;
}

/* The connection died: what was queued is done inline by the callers
 * (acks stay wanted) and it reconnects on a later tick. */
static void
async_lost(void)
{
	log_warn("async connection lost: %s", PQerrorMessage(conn));
	kore_platform_disable_read(PQsocket(conn));
	PQfinish(conn);
	conn = NULL;
	retry_at = kore_time_ms() + RETRY_MS;
	while (qlen > 0) {
		job_failed(&q[qhead]);
		pop();
	}
}
