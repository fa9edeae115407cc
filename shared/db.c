/* db: libpq wrapper. Connections are never shared between threads (libpq
 * is not thread-safe per connection); each thread owns its struct db. */
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"

#define MAX_PREPARED 128

struct db {
	PGconn		     *conn;
	enum db_err	      err;
	int		      in_tx;
	int		      lost_tx;	     /* conn died inside a tx */
	int		      down_logged;   /* log an outage once */
	int		      drop_after_tx; /* a prepared plan went stale */
	int		      nprepared;
	const struct db_stmt *prepared[MAX_PREPARED];
	const char	     *info; /* NULL: db_configure()'s */
	const char	     *app;
};

static const char *conninfo = "postgresql:///parley";
static const char *appname = "parley";

#define DB_ERRORS(kind)                                                        \
	METRIC_COUNTER("parley_db_errors_total", "kind=\"" kind "\"",          \
	    "Failed statements, by what the service made of "                  \
	    "them (retry: serialization, deadlock, lock or statement "         \
	    "timeout).")
static struct metric m_errors[] = {
	[DB_UNAVAILABLE] = DB_ERRORS("unavailable"),
	[DB_UNIQUE] = DB_ERRORS("unique"),
	[DB_FOREIGN_KEY] = DB_ERRORS("foreign_key"),
	[DB_CHECK] = DB_ERRORS("check"),
	[DB_RETRY] = DB_ERRORS("retry"),
	[DB_OTHER] = DB_ERRORS("other"),
};
static struct metric m_deadlocks = METRIC_COUNTER("parley_db_deadlocks_total",
    NULL, "Statements PostgreSQL ended as a deadlock (40P01).");
static struct metric m_reconnects = METRIC_COUNTER("parley_db_reconnects_total",
    NULL, "Connections made again after the database was unreachable.");
static struct metric m_connect_fail =
    METRIC_COUNTER("parley_db_connect_failures_total", NULL,
	"Attempts to connect that failed.");

static int	   db_connect(struct db *);
static void	   db_drop(struct db *);
static enum db_err classify(struct db *, const PGresult *);
static enum db_err classify_state(struct db *, const PGresult *);
static int	   ensure_prepared(struct db *, const struct db_stmt *);
static void	   check_idle(struct db *);
static bool	   stale_plan(const PGresult *);
static void	   drop_if_stale(struct db *);
static const char *field(const PGresult *, int, int);

void
db_configure(const char *info, const char *app)
{
	conninfo = info;
	appname = app;
}

struct db *
db_new(void)
{
	struct db *db;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		log_fatal("calloc: out of memory");
	return db;
}

struct db *
db_new_at(const char *info, const char *app)
{
	struct db *db;

	db = db_new();
	db->info = info;
	db->app = app;
	return db;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	db_drop(db);
	free(db);
}

static void
db_drop(struct db *db)
{
	if (db->conn != NULL)
		PQfinish(db->conn);
	db->conn = NULL;
	/* Statements after this must not run outside the lost transaction:
	 * they fail until the handler rolls back. */
	if (db->in_tx)
		db->lost_tx = 1;
	db->in_tx = 0;
	db->nprepared = 0;
}

void
db_conn_params(const char *info, const char *app, const char *keys[4],
    const char *vals[4])
{
	/* With expand_dbname, what the URL (dbname) sets overrides earlier
	 * keys and later keys override the URL: the connect timeout is a
	 * default a DATABASE_URL may change (a database across a network),
	 * the application name is not (the admin service's health page and
	 * sql/019's transport trigger go by it). */
	keys[0] = "connect_timeout";
	vals[0] = "3";
	keys[1] = "dbname";
	vals[1] = info;
	keys[2] = "application_name";
	vals[2] = app;
	keys[3] = vals[3] = NULL;
}

static int
db_connect(struct db *db)
{
	const char *keys[4], *vals[4];
	char	    set[128];
	PGresult   *res;

	db_conn_params(db->info != NULL ? db->info : conninfo,
	    db->app != NULL ? db->app : appname, keys, vals);
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK) {
		if (!db->down_logged)
			log_warn("database connect failed: %s",
			    db->conn != NULL ? PQerrorMessage(db->conn) :
					       "out of memory");
		db->down_logged = 1;
		db_drop(db);
		db->err = DB_UNAVAILABLE;
		metric_add(&m_connect_fail, 1);
		return -1;
	}
	/* Database triggers that ask "is this user online?" (webhooks,
	 * sql/011) read the window from this session setting. */
	if (config.online_window > 0) {
		snprintf(set, sizeof(set),
		    "SELECT set_config("
		    "'parley.online_window', '%ld', false)",
		    config.online_window);
		res = PQexec(db->conn, set);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			log_warn("setting parley.online_window failed: %s",
			    PQerrorMessage(db->conn));
		PQclear(res);
	}
	if (db->down_logged) {
		log_info("database connection restored");
		metric_add(&m_reconnects, 1);
	}
	db->down_logged = 0;
	return 0;
}

/* A server that restarts or terminates the backend sends an error on the
 * idle socket; reading it here lets this request reconnect instead of
 * failing on a connection we could have known was dead. */
static void
check_idle(struct db *db)
{
	struct pollfd pfd;

	if (db->conn == NULL || db->in_tx)
		return;
	pfd.fd = PQsocket(db->conn);
	pfd.events = POLLIN | POLLRDHUP;
	if (pfd.fd < 0 || poll(&pfd, 1, 0) <= 0)
		return;
	/* PQconsumeInput reads the FATAL message but not the end of stream
	 * behind it, so the status stays OK: a peer that hung up is dead. */
	if ((pfd.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) ||
	    !PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK)
		db_drop(db);
}

static enum db_err
classify(struct db *db, const PGresult *res)
{
	enum db_err e = classify_state(db, res);
	const char *state;

	if (e != DB_OK)
		metric_add(&m_errors[e], 1);
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state != NULL && strcmp(state, "40P01") == 0)
		metric_add(&m_deadlocks, 1);
	return e;
}

static enum db_err
classify_state(struct db *db, const PGresult *res)
{
	const char *state;

	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return DB_UNAVAILABLE;
	state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	if (state == NULL)
		return DB_UNAVAILABLE;
	if (strcmp(state, "23505") == 0)
		return DB_UNIQUE;
	if (strcmp(state, "23503") == 0)
		return DB_FOREIGN_KEY;
	if (strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0)
		return DB_CHECK;
	/* Serialization, deadlock, lock_timeout, statement_timeout: the same
	 * request may well succeed in a moment (a migration holding a lock). */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
		return DB_RETRY;
	/* 08 connection, 57P0x shutdown, 53 resources: come back later. */
	if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0 ||
	    strncmp(state, "53", 2) == 0)
		return DB_UNAVAILABLE;
	return DB_OTHER;
}

/* A failed prepare is an ordinary failure of the statement: an aborted
 * transaction (25P02), a lock_timeout behind a migration (55P03) or a
 * table a migration has not made yet must cost this request, never the
 * process. The statement is prepared again on its next use. */
/* "cached plan must not change result type": a migration changed what a
 * prepared statement returns (a function's OUT columns, a column's type).
 * Matched by SQLSTATE and the reporting function, which are not
 * translated, unlike the message. */
static bool
stale_plan(const PGresult *res)
{
	const char *state, *fn;

	state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	fn = PQresultErrorField(res, PG_DIAG_SOURCE_FUNCTION);
	return state != NULL && strcmp(state, "0A000") == 0 && fn != NULL &&
	    strcmp(fn, "RevalidateCachedQuery") == 0;
}

static int
ensure_prepared(struct db *db, const struct db_stmt *st)
{
	PGresult *res;
	int	  i;

	for (i = 0; i < db->nprepared; i++)
		if (db->prepared[i] == st)
			return 0;
	if (db->nprepared == MAX_PREPARED)
		log_fatal("more than %d prepared statements", MAX_PREPARED);
	res = PQprepare(db->conn, st->name, st->sql, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		db->err = classify(db, res);
		if (db->err == DB_UNAVAILABLE) {
			log_warn("prepare %s: database unavailable: %s",
			    st->name, PQerrorMessage(db->conn));
			db_drop(db);
		} else
			log_warn("prepare %s: %s", st->name,
			    PQerrorMessage(db->conn));
		PQclear(res);
		return -1;
	}
	PQclear(res);
	db->prepared[db->nprepared++] = st;
	return 0;
}

PGresult *
db_exec(struct db *db, const struct db_stmt *st, int nparams,
    const char *const *params)
{
	PGresult      *res;
	ExecStatusType rs;

	db->err = DB_OK;
	if (db->lost_tx) {
		db->err = DB_UNAVAILABLE;
		return NULL;
	}
	check_idle(db);
	if (db->conn == NULL && db_connect(db) == -1)
		return NULL;
	if (ensure_prepared(db, st) == -1)
		return NULL;
	res =
	    PQexecPrepared(db->conn, st->name, nparams, params, NULL, NULL, 0);
	rs = PQresultStatus(res);
	if (rs == PGRES_TUPLES_OK || rs == PGRES_COMMAND_OK)
		return res;
	db->err = classify(db, res);
	if (db->err == DB_UNAVAILABLE) {
		log_warn("%s: database unavailable: %s", st->name,
		    PQerrorMessage(db->conn));
		db_drop(db);
	} else if (stale_plan(res)) {
		/* The server keeps refusing this prepared statement on this
		 * connection: start over on a fresh one, where it is prepared
		 * against the new schema. */
		log_warn("%s: stale plan, renewing the connection: %s",
		    st->name, PQerrorMessage(db->conn));
		db->err = DB_RETRY;
		if (db->in_tx)
			db->drop_after_tx = 1;
		else
			db_drop(db);
	} else if (db->err == DB_OTHER)
		log_warn("%s: %s", st->name, PQerrorMessage(db->conn));
	PQclear(res);
	return NULL;
}

int
db_simple(struct db *db, const char *sql)
{
	PGresult      *res;
	ExecStatusType rs;

	db->err = DB_OK;
	if (db->lost_tx) {
		db->err = DB_UNAVAILABLE;
		return -1;
	}
	check_idle(db);
	if (db->conn == NULL && db_connect(db) == -1)
		return -1;
	res = PQexec(db->conn, sql);
	rs = PQresultStatus(res);
	if (rs == PGRES_COMMAND_OK || rs == PGRES_TUPLES_OK) {
		PQclear(res);
		return 0;
	}
	db->err = classify(db, res);
	log_warn("%s: %s", sql, PQerrorMessage(db->conn));
	PQclear(res);
	if (db->err == DB_UNAVAILABLE)
		db_drop(db);
	return -1;
}

int
db_begin(struct db *db)
{
	if (db_simple(db, "BEGIN") == -1)
		return -1;
	db->in_tx = 1;
	return 0;
}

/* After the transaction that met a stale plan (db_exec). */
static void
drop_if_stale(struct db *db)
{
	if (db->drop_after_tx && !db->in_tx) {
		db->drop_after_tx = 0;
		db_drop(db);
	}
}

int
db_commit(struct db *db)
{
	int rc;

	rc = db_simple(db, "COMMIT");
	db->in_tx = 0;
	drop_if_stale(db);
	return rc;
}

void
db_rollback(struct db *db)
{
	enum db_err saved = db->err;

	db->lost_tx = 0;
	if (!db->in_tx || db->conn == NULL) {
		db->in_tx = 0;
		return;
	}
	db->in_tx = 0;
	(void)db_simple(db, "ROLLBACK");
	db->err = saved; /* keep the error that made us roll back */
	drop_if_stale(db);
}

bool
db_in_tx(const struct db *db)
{
	return db->in_tx || db->lost_tx;
}

enum db_err
db_error(const struct db *db)
{
	return db->err;
}

const char *
db_i64(char *buf, long long v)
{
	snprintf(buf, 24, "%lld", v);
	return buf;
}

char *
db_i64_array(const int64_t *ids, size_t n)
{
	char  *s, *p;
	size_t i;

	if ((s = malloc(n * 21 + 3)) == NULL)
		log_fatal("malloc: out of memory");
	p = s;
	*p++ = '{';
	for (i = 0; i < n; i++)
		p += sprintf(p, i == 0 ? "%lld" : ",%lld", (long long)ids[i]);
	*p++ = '}';
	*p = '\0';
	return s;
}

/* A row or column that is not there is a bug of the caller (it did not
 * check PQntuples), but one request's bug: logged, read as 0 / false /
 * NULL, where PQgetvalue's NULL would crash the process. */
static const char *
field(const PGresult *res, int row, int col)
{
	if (row < 0 || row >= PQntuples(res) || col < 0 ||
	    col >= PQnfields(res)) {
		log_warn("result has no row %d, column %d (%d rows)", row, col,
		    PQntuples(res));
		return NULL;
	}
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

long long
db_get_i64(const PGresult *res, int row, int col)
{
	const char *s = field(res, row, col);

	return s != NULL ? strtoll(s, NULL, 10) : 0;
}

bool
db_get_bool(const PGresult *res, int row, int col)
{
	const char *s = field(res, row, col);

	return s != NULL && s[0] == 't';
}

const char *
db_get_str(const PGresult *res, int row, int col)
{
	return field(res, row, col);
}
