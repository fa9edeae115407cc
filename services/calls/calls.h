/* calls: one-to-one calls, mesh rooms, signaling relay, TURN credentials
 * and the sweeper that owns the call timers. */
#ifndef PARLEY_CALLS_H
#define PARLEY_CALLS_H

#include <jansson.h>

#include "db.h"
/* The handlers: routes_calls.h, generated from docs/openapi.json. */
#include "routes_calls.h"

struct http_req;

#define SDP_MAX_BYTES	    65536 /* an offer or answer's "sdp" */
#define CANDIDATE_MAX_BYTES 2048  /* one candidate, as JSON */
#define SIGNALS_PER_CALL    1000  /* per party and call (or room member) */
#define ROOM_MAX_INVITES    32
/* A call's TURN credential is good for the ring time and this much more
 * (s): long enough to allocate relays once the call is answered. */
#define TURN_CALL_MARGIN 60

struct calls_config {
	long	    ring_timeout;  /* PARLEY_CALL_RING_TIMEOUT, s */
	long	    online_window; /* PARLEY_ONLINE_WINDOW, s */
	const char *turn_secret;   /* PARLEY_TURN_SECRET */
	const char *turn_uris;	   /* PARLEY_TURN_URIS, comma-separated */
	const char *stun_uris;	   /* PARLEY_STUN_URIS, comma-separated */
	long	    turn_ttl;	   /* PARLEY_TURN_TTL, s (GET /ice-servers) */
	long	    call_ttl;	   /* a call's or room join's credential, s:
					 * ring_timeout + TURN_CALL_MARGIN */
};
extern struct calls_config calls_config;

void calls_config_load(void);

struct http_outcome;

/* calls_calls.c */
/* Answers a database function's (status, json, woken) row: wakes the
 * users, then replies with the outcome ({key: json}, 202 or 204). Frees res;
 * NULL res is a database error. */
void calls_reply(struct http_req *, PGresult *, const struct http_outcome *,
    const char *key);
/* calls_reply(), and on success the reply also holds "ice": ice (taken
 * over; freed on a refusal too). */
void calls_reply_ice(struct http_req *, PGresult *, const struct http_outcome *,
    const char *key, json_t *ice);
/* GET of one call or room by path id: `st` takes (id, user) and returns
 * its JSON only to those allowed to see it; anyone else gets 404 `code`. */
void calls_get_visible(struct http_req *, const struct db_stmt *st,
    const char *key, const char *code, const char *message);
/* Optional "media" field: audio or video (default def); -1 after a 400. */
int calls_media(struct http_req *, json_t *, const char *def, const char **out);
/* "kind" and "data" of a signal body, checked; the clean data as JSON
 * text (caller frees), or NULL after a 400. */
char *calls_signal_body(struct http_req *, json_t *, const char **kind);

/* calls_ice.c */
/* {"ice_servers": [...], "ttl": ttl}: the STUN servers and, when TURN is
 * configured, a TURN credential for `user` valid ttl s from now, bound to
 * call `id` (scope 'c') or room `id` ('r'), or to no call (scope 0).
 * Caller decrefs. */
json_t *ice_json(int64_t user, char scope, int64_t id, long ttl);
/* The same as compact JSON text; caller frees. */
char *ice_text(int64_t user, char scope, int64_t id, long ttl);

/* calls_signal.c: a WebRTC signal from a client, checked and reduced to
 * the fields WebRTC defines. Returns the clean data (caller decrefs) or
 * NULL with a message for a 400 in err. Pure, also used by the fuzzer. */
json_t *signal_clean(const char *kind, json_t *data, char *err, size_t errlen);

/* calls_sweeper.c */
void sweeper_start(void);
void sweeper_stop(void);

/* calls_sql.c */
extern const struct db_stmt sql_call_next_id, sql_call_invite, sql_call_get,
    sql_call_list, sql_call_caller, sql_call_accept, sql_call_end,
    sql_call_signal, sql_room_create, sql_room_get, sql_room_invited,
    sql_room_join, sql_room_leave, sql_room_signal, sql_calls_sweep;

#endif
