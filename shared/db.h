/* db: one PostgreSQL connection per thread, named prepared statements
 * prepared lazily on each connection, reconnection after an outage, and
 * SQLSTATE classes for the one place that maps them to HTTP. */
#ifndef PARLEY_DB_H
#define PARLEY_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

/* A statement lives in a static table of its service or module. */
struct db_stmt {
	const char *name;
	const char *sql;
};

enum db_err {
	DB_OK,
	DB_UNAVAILABLE, /* cannot connect or the connection died */
	DB_UNIQUE,	/* 23505 */
	DB_FOREIGN_KEY, /* 23503 */
	DB_CHECK,	/* 23514, 23502 */
	DB_RETRY,	/* 40001, 40P01: serialization or deadlock */
	DB_OTHER,
};

struct db;

/* Sets the conninfo (or URI) every connection uses; `app` names it. */
void db_configure(const char *conninfo, const char *app);
/* A handle that connects on first use. Pair with db_free. */
struct db *db_new(void);
/* The same, to another server (a read replica): its own conninfo and
 * application_name, both kept by pointer. */
struct db *db_new_at(const char *conninfo, const char *app);
void	   db_free(struct db *);

/* Runs a statement with text parameters (NULL is SQL NULL). Returns the
 * result (caller PQclear()s) or NULL; then db_error() tells why. */
PGresult *db_exec(struct db *, const struct db_stmt *, int nparams,
    const char *const *params);
#define DB_EXEC(db, st, ...)                                                   \
	db_exec((db), (st),                                                    \
	    (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *)),   \
	    (const char *[]){ __VA_ARGS__ })

/* The PQconnectdbParams() arrays of every connection Parley makes:
 * `conninfo` (a URL or conninfo) may set connect_timeout (default 3 s)
 * but not the application name, which is always `app`. */
void db_conn_params(const char *conninfo, const char *app, const char *keys[4],
    const char *vals[4]);

/* Plain SQL without parameters (BEGIN, health checks): 0 or -1. */
int db_simple(struct db *, const char *sql);
int db_begin(struct db *);
int db_commit(struct db *);
/* Rolls back an open transaction; a no-op when none is open. */
void db_rollback(struct db *);
bool db_in_tx(const struct db *);

enum db_err db_error(const struct db *);

/* Formats an int64 for a parameter into buf (at least 24 bytes). */
const char *db_i64(char *buf, long long v);
/* "{1,2,3}" for a bigint[] parameter; caller frees. */
char *db_i64_array(const int64_t *ids, size_t n);
/* Field as int64 / bool / string: SQL NULL (or a row or column that is
 * not there, logged) reads as 0 / false / NULL. */
long long   db_get_i64(const PGresult *, int row, int col);
bool	    db_get_bool(const PGresult *, int row, int col);
const char *db_get_str(const PGresult *, int row, int col);

#endif
