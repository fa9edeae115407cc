/* friends: friend requests, friendships and blocks. */
#ifndef PARLEY_FRIENDS_H
#define PARLEY_FRIENDS_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"
/* The handlers: routes_friends.h, generated from docs/openapi.json. */
#include "routes_friends.h"

struct http_req;

/* friends_list.c */
json_t *friends_removed_json(int64_t by, int64_t other);

/* friends_pair.c: helpers shared by the handlers. */
/* Emits a friend request event (type) about request `id` to users[0..n)
 * inside the transaction; sets *woken for notify_users(). 0 or -1. */
int pair_request_event(struct db *, const int64_t *users, size_t n,
    const char *type, int64_t id, char **woken);
/* Locks the pair {a, b} for this transaction so concurrent requests,
 * accepts and blocks on the same two users run one after the other: 0, or
 * -1 on a database error (db_error() tells which). */
int pair_lock(struct db *, int64_t a, int64_t b);
/* Looks up the user named by "user_id" or "username" in body: 0 with
 * *target and *user (caller decrefs) set, or -1 after replying 400, 404 or
 * the database error. */
int
pair_target(struct http_req *, json_t *body, int64_t *target, json_t **user);

/* friends_sql.c */
extern const struct db_stmt sql_pair_lock, sql_user_by_id, sql_user_by_name,
    sql_relation, sql_request_insert, sql_request_get, sql_request_decide,
    sql_request_cancel, sql_friendship_add, sql_friendship_del, sql_requests_in,
    sql_requests_out, sql_friends_list, sql_block_add, sql_block_del,
    sql_block_list, sql_requests_end_pair, sql_requests_end_silent,
    sql_request_event;

#endif
