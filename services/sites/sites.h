/* sites: the server-to-server API a site's backend calls with signed
 * requests (README "PHP sites"): linked users, login tickets, friendships,
 * messages, push and the site's webhook. Every handler acts only on the
 * calling site's own users (r->site_id). */
#ifndef PARLEY_SITES_H
#define PARLEY_SITES_H

#include <stdint.h>

#include <jansson.h>

#include "db.h"

struct http_req;

#define SITES_EXT_MAX		128	/* bytes of an external id */
#define SITES_PUSH_USERS	1000	/* external ids per push */
#define SITES_PUSH_BYTES	16384	/* serialized "event" */

extern long sites_ticket_ttl;		/* PARLEY_TICKET_TTL, s */

/* sites_users.c */
void	sites_user_put(struct http_req *);
void	sites_user_get(struct http_req *);
void	sites_ticket_new(struct http_req *);
/* 1 when `s` is an external id: 1..128 of [A-Za-z0-9._@:+=-]. */
int	sites_ext_ok(const char *s);
/* The Parley user linked to the site's external id `ext` (found in
 * `field`, for the error message): 0 with *uid set, or -1 after replying
 * 400 (not an external id), 404 unknown_user or 503. */
int	sites_lookup(struct http_req *, const char *ext, const char *field,
	    int64_t *uid);
/* Reads body field `field` as an external id and looks it up. */
int	sites_lookup_field(struct http_req *, json_t *body, const char *field,
	    int64_t *uid);

/* 1 when body field `field` is there and not null (null = absent, as
 * everywhere in the API). */
int	sites_has(json_t *body, const char *field);

/* sites_friends.c */
void	sites_friend_add(struct http_req *);
void	sites_friend_remove(struct http_req *);

/* sites_messages.c */
void	sites_message(struct http_req *);
void	sites_push(struct http_req *);

/* sites_webhook.c */
void	sites_webhook_get(struct http_req *);
void	sites_webhook_put(struct http_req *);
void	sites_webhook_delete(struct http_req *);
void	sites_deliveries(struct http_req *);

/* sites_sql.c */
extern const struct db_stmt sql_user_put, sql_user_get, sql_user_lookup,
	sql_ticket_insert, sql_friend_add, sql_friend_remove,
	sql_system_message, sql_push, sql_webhook_get, sql_webhook_put,
	sql_webhook_delete, sql_deliveries;

#endif
