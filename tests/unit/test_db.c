/* test_db: the field readers (db_get_*) on results built in memory: a
 * row that is not there reads as 0 / false / NULL instead of crashing
 * the process (PQgetvalue returns NULL for it). */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

#include "db.h"
#include "unit.h"

static const char *t_get(void);
static const char *t_get_missing_row(void);
static const char *t_conn_params(void);

static const char *
t_get(void)
{
	PGresAttDesc a[3] = {
		{ "n", 0, 0, 0, 20, 8, -1 },
		{ "b", 0, 0, 0, 16, 1, -1 },
		{ "s", 0, 0, 0, 25, -1, -1 },
	};
	PGresult   *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	long long   n;
	int	    b, set;
	const char *s, *snull;

	set = PQsetResultAttrs(res, 3, a) && PQsetvalue(res, 0, 0, "42", 2) &&
	    PQsetvalue(res, 0, 1, "t", 1) && PQsetvalue(res, 0, 2, NULL, -1) &&
	    PQsetvalue(res, 1, 0, "-7", 2) && PQsetvalue(res, 1, 1, "f", 1) &&
	    PQsetvalue(res, 1, 2, "x", 1);
	n = db_get_i64(res, 0, 0) + db_get_i64(res, 1, 0);
	b = db_get_bool(res, 0, 1) && !db_get_bool(res, 1, 1);
	snull = db_get_str(res, 0, 2);
	s = db_get_str(res, 1, 2);
	CHECK(set);
	CHECK_EQ(n, 35);
	CHECK(b);
	CHECK(snull == NULL);
	CHECK_STR(s, "x");
	PQclear(res);
	return NULL;
}

static const char *
t_get_missing_row(void)
{
	PGresult   *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	long long   n;
	int	    b;
	const char *s;

	/* Zero rows: a statement whose row was deleted meanwhile. */
	n = db_get_i64(res, 0, 0);
	b = db_get_bool(res, 0, 3);
	s = db_get_str(res, 0, 1);
	PQclear(res);
	CHECK_EQ(n, 0);
	CHECK(!b);
	CHECK(s == NULL);
	return NULL;
}

/* The option PostgreSQL would use for `key` with these arrays. */
static const char *
effective(const char *url, const char *key, char *buf, size_t size)
{
	const char	 *keys[4], *vals[4];
	PGconn		 *c;
	PQconninfoOption *o, *opts;

	db_conn_params(url, "messages", keys, vals);
	/* Started, never polled: no connection is attempted. */
	c = PQconnectStartParams(keys, vals, 1);
	buf[0] = '\0';
	if (c != NULL && (opts = PQconninfo(c)) != NULL) {
		for (o = opts; o->keyword != NULL; o++)
			if (strcmp(o->keyword, key) == 0 && o->val != NULL)
				snprintf(buf, size, "%s", o->val);
		PQconninfoFree(opts);
	}
	PQfinish(c);
	return buf;
}

/* A DATABASE_URL may set its own connect timeout (a database across a
 * network: the cluster test found 3 s too short under load), never the
 * application name the admin health page and sql/019 go by. */
static const char *
t_conn_params(void)
{
	char a[64], b[64], c[64];

	CHECK_STR(effective("postgresql:///parley?host=/nonexistent",
		      "connect_timeout", a, sizeof(a)),
	    "3");
	CHECK_STR(effective("postgresql:///parley?host=/"
			    "nonexistent&connect_timeout=9",
		      "connect_timeout", b, sizeof(b)),
	    "9");
	CHECK_STR(effective("postgresql:///parley?host=/"
			    "nonexistent&application_name=x",
		      "application_name", c, sizeof(c)),
	    "messages");
	return NULL;
}

void
test_db(void)
{
	unit_run("db: field readers", t_get);
	unit_run("db: a missing row reads as 0 / false / NULL, no crash",
	    t_get_missing_row);
	unit_run("db: a URL sets connect_timeout, never application_name",
	    t_conn_params);
}
