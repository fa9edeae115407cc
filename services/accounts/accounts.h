/* accounts: registration, login, sessions and user search. */
#ifndef PARLEY_ACCOUNTS_H
#define PARLEY_ACCOUNTS_H

#include <jansson.h>
#include <libpq-fe.h>

#include "db.h"

struct http_req;

/* accounts_auth.c */
void	accounts_register(struct http_req *);
void	accounts_login(struct http_req *);
void	accounts_logout(struct http_req *);
void	accounts_me(struct http_req *);
void	accounts_health(struct http_req *);

/* accounts_tickets.c */
void	accounts_ticket(struct http_req *);

/* accounts_sessions.c */
void	accounts_sessions_list(struct http_req *);
void	accounts_sessions_revoke(struct http_req *);

/* accounts_stream.c */
void	accounts_stream_token(struct http_req *);

/* accounts_users.c */
void	accounts_users_search(struct http_req *);

/* accounts_throttle.c: failed-login counting. */
/* Seconds until `user`/`addr` may try again, 0 if allowed, -1 on error. */
long	 throttle_check(struct db *, const char *user, const char *addr);
void	 throttle_fail(struct db *, const char *user, const char *addr);
void	 throttle_clear(struct db *, const char *user);

/* accounts_sql.c */
extern const struct db_stmt sql_user_insert, sql_user_by_name, sql_user_by_id,
	    sql_user_search, sql_session_revoke, sql_session_list,
	    sql_session_revoke_own, sql_throttle_check, sql_throttle_fail,
	    sql_throttle_clear, sql_ticket_redeem, sql_stream_token_insert;

#endif
