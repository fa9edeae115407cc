/* messages: sending, history, receipts, recall and groups. */
#ifndef PARLEY_MESSAGES_H
#define PARLEY_MESSAGES_H

#include "db.h"
/* The handlers: routes_messages.h, generated from docs/openapi.json. */
#include "routes_messages.h"

struct http_req;

#define GROUP_MAX_MEMBERS 500

/* messages_replica.c: a thread's replica connection (its ctx), and a
 * history page from it when it has the primary's head and recalls, else
 * from the primary (sql_history's result either way). */
void	 *replica_thread_init(void);
void	  replica_thread_free(void *);
PGresult *replica_history(struct http_req *, const char *const params[3],
    long long head, long long recalled);

/* messages_sql.c */
extern const struct db_stmt sql_recall, sql_conversations, sql_is_member,
    sql_history, sql_read, sql_group_create, sql_group_get, sql_group_add,
    sql_group_remove, sql_group_rename, sql_group_role;

#endif
