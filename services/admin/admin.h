/* admin: the operator console (issue 17). Every action is one database
 * function of sql/functions/90_admin.sql that also writes the audit row; the
 * handlers read input, run it and reply. */
#ifndef PARLEY_ADMIN_H
#define PARLEY_ADMIN_H

#include "db.h"
/* The handlers: routes_admin.h, generated from docs/openapi.json. */
#include "routes_admin.h"

struct http_req;

#define ADMIN_REASON_MAX 500 /* characters of an optional "reason" */

/* admin_metrics.c: the database's figures in the metrics exposition. */
void admin_metrics_start(void);

/* admin_health.c */
/* Reads PARLEY_ADMIN_WATCH (a bad value stops the process) and finds the
 * run directory. */
void admin_health_config(void);

/* admin_users.c: process hooks (the notifier, the health settings). */
void admin_start(void);
void admin_stop(void);

/* admin_sql.c */
extern const struct db_stmt sql_online, sql_users, sql_user_get, sql_kick,
    sql_suspend, sql_groups, sql_group_get, sql_group_remove, sql_group_delete,
    sql_message_delete, sql_audit, sql_health_db, sql_health_queues;

#endif
