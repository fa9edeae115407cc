/* accounts: registration, login, sessions and user search. */
#ifndef PARLEY_ACCOUNTS_H
#define PARLEY_ACCOUNTS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "db.h"
/* The handlers: routes_accounts.h, generated from docs/openapi.json. */
#include "routes_accounts.h"

struct http_req;

/* accounts_auth.c: process hooks (the password hashing pool). */
void accounts_start(void);
void accounts_stop(void);

/* accounts_throttle.c: attempts counted per key before the work is done. */
#define THROTTLE_KEYS	 3
#define THROTTLE_KEY_MAX 64

/* The keys one attempt counted on (n == 0: none, nothing to give back). */
struct throttle {
	char keys[THROTTLE_KEYS][THROTTLE_KEY_MAX];
	int  n;
	long window;
};

/* Counts a login attempt on `user` (folded, "" for an impossible name)
 * from `addr`. Returns 0 (counted), the seconds to wait when a limit is
 * reached (nothing counted), or -1 on a database error. */
long throttle_login_take(struct db *, struct throttle *, const char *user,
    const char *addr);
/* The same for a registration from `addr` (0 when there is no limit). */
long throttle_register_take(struct db *, struct throttle *, const char *addr);
/* The password was right: forgets the username's count at this address
 * and gives the attempt back to the others. */
void throttle_login_ok(struct db *, struct throttle *);
/* The attempt was never judged (pool busy, an error): gives it back. */
void throttle_give_back(struct db *, struct throttle *);

/* accounts_sql.c */
extern const struct db_stmt sql_user_insert, sql_user_by_name, sql_user_by_id,
    sql_user_exists, sql_user_search, sql_session_revoke, sql_session_list,
    sql_session_revoke_own, sql_throttle_take, sql_throttle_return,
    sql_ticket_redeem, sql_stream_token_insert;

#endif
