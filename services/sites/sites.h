/* sites: the server-to-server API a site's backend calls with signed
 * requests (README "PHP sites"): linked users, login tickets, friendships,
 * messages, push and the site's webhook. Every handler acts only on the
 * calling site's own users (r->site_id). */
#ifndef PARLEY_SITES_H
#define PARLEY_SITES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "db.h"
/* The handlers: routes_sites.h, generated from docs/openapi.json. */
#include "routes_sites.h"

struct http_req;

#define SITES_EXT_MAX	 128   /* bytes of an external id */
#define SITES_PUSH_USERS 1000  /* external ids per push */
#define SITES_PUSH_BYTES 16384 /* serialized "event" */

extern long sites_ticket_ttl; /* PARLEY_TICKET_TTL, s */

/* sites_users.c */
/* True when `s` is an external id: 1..128 of [A-Za-z0-9._@:+=-]. */
bool sites_ext_ok(const char *s);
/* The Parley user linked to the site's external id `ext` (found in
 * `field`, for the error message): 0 with *uid set, or -1 after replying
 * 400 (not an external id), 404 unknown_user or 503. */
int sites_lookup(struct http_req *, const char *ext, const char *field,
    int64_t *uid);
/* Reads body field `field` as an external id and looks it up. */
int sites_lookup_field(struct http_req *, json_t *body, const char *field,
    int64_t *uid);

/* True when body field `field` is there and not null (null = absent, as
 * everywhere in the API). */
bool sites_has(json_t *body, const char *field);

/* sites_sql.c */
extern const struct db_stmt sql_user_put, sql_user_get, sql_user_lookup,
    sql_ticket_insert, sql_friend_add, sql_friend_remove, sql_system_message,
    sql_push, sql_webhook_get, sql_webhook_put, sql_webhook_delete,
    sql_deliveries;

#endif
