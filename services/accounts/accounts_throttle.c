/* accounts_throttle: failed logins are counted per username and per client
 * address in the database, so every accounts process shares the counts. */
#include <stdio.h>

#include "accounts.h"
#include "config.h"

#define KEY_MAX	80

long
throttle_check(struct db *db, const char *user, const char *addr)
{
	char		 uk[KEY_MAX], ak[KEY_MAX];
	PGresult	*res;
	long		 wait = 0;

	snprintf(uk, sizeof(uk), "u:%s", user);
	snprintf(ak, sizeof(ak), "a:%s", addr);
	if ((res = DB_EXEC(db, &sql_throttle_check, uk, ak)) == NULL)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		wait = (long)db_get_i64(res, 0, 0);
	PQclear(res);
	return wait > 0 ? wait : 0;
}

void
throttle_fail(struct db *db, const char *user, const char *addr)
{
	char		 key[KEY_MAX], lim[24], win[24];
	PGresult	*res;

	/* Best effort: a failed count must not turn a 401 into a 500. */
	snprintf(key, sizeof(key), "u:%s", user);
	res = DB_EXEC(db, &sql_throttle_fail, key,
	    db_i64(lim, config.login_fails_user),
	    db_i64(win, config.login_window));
	PQclear(res);
	snprintf(key, sizeof(key), "a:%s", addr);
	res = DB_EXEC(db, &sql_throttle_fail, key,
	    db_i64(lim, config.login_fails_ip),
	    db_i64(win, config.login_window));
	PQclear(res);
}

void
throttle_clear(struct db *db, const char *user)
{
	char		 key[KEY_MAX];

	snprintf(key, sizeof(key), "u:%s", user);
	PQclear(DB_EXEC(db, &sql_throttle_clear, key));
}
