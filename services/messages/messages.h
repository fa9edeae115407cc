/* messages: sending, history, receipts, recall and groups. */
#ifndef PARLEY_MESSAGES_H
#define PARLEY_MESSAGES_H

#include "db.h"

struct http_req;

#define GROUP_MAX_MEMBERS	500

/* messages_send.c */
void	messages_send(struct http_req *);
void	messages_recall(struct http_req *);

/* messages_conversations.c */
void	conversations_list(struct http_req *);
void	conversations_history(struct http_req *);
void	conversations_read(struct http_req *);

/* messages_groups.c */
void	groups_create(struct http_req *);
void	groups_get(struct http_req *);
void	groups_rename(struct http_req *);
void	groups_add_members(struct http_req *);
void	groups_remove_member(struct http_req *);
void	groups_leave(struct http_req *);
void	groups_set_role(struct http_req *);

/* messages_replica.c: a thread's replica connection (its ctx), and a
 * history page from it when it has the primary's head and recalls, else
 * from the primary (sql_history's result either way). */
void	*replica_thread_init(void);
void	 replica_thread_free(void *);
PGresult *replica_history(struct http_req *, const char *const params[3],
	    long long head, long long recalled);

/* messages_sql.c */
extern const struct db_stmt sql_recall, sql_conversations,
	    sql_is_member, sql_history, sql_read, sql_group_create,
	    sql_group_get, sql_group_add, sql_group_remove, sql_group_rename,
	    sql_group_role;

#endif
