/* gw_stream: GET /api/v1/stream. Authenticates the upgrade (a token in
 * Sec-WebSocket-Protocol, or the session cookie from an allowed Origin),
 * upgrades, and then reads the client's frames: {"token"} when the upgrade
 * carried no credential, {"since"} to subscribe, {"ack"} afterwards. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <kore/kore.h>
#include <kore/http.h>

#include "auth.h"
#include "db.h"
#include "gateway.h"
#include "gw_frame.h"
#include "log.h"
#include "stream.h"

#define PROTOCOL "parley"

/* A session token or a stream token (st_…), both stored hashed. */
static const struct db_stmt sql_auth = { "gw_auth",
	"SELECT s.id, s.user_id FROM sessions s WHERE s.token_hash = $1::bytea"
	" AND s.revoked_at IS NULL AND s.expires_at > now()"
	" UNION ALL SELECT s.id, s.user_id FROM stream_tokens t"
	" JOIN sessions s ON s.id = t.session_id WHERE t.token_hash = $1::bytea"
	" AND t.expires_at > now() AND s.revoked_at IS NULL"
	" AND s.expires_at > now()" };

/* The credential checked by gw_stream() for the socket gw_ws_connect()
 * makes next: Kore calls one from inside the other, in this process. */
static struct {
	int64_t user_id, session_id;
} handshake;

static void
http_json_error(struct http_request *, int, const char *, const char *);
static bool origin_allowed(struct http_request *, const char *);
static int  lookup(const char *, int64_t *, int64_t *);
static int  authenticated(struct gw_sock *, int64_t, int64_t);
static bool refused_too_big(struct connection *);
static int  heard(struct connection *, size_t *);
static void subscribe(struct gw_sock *, int64_t);
static void on_ack(struct gw_sock *, int64_t);

static void
http_json_error(struct http_request *req, int status, const char *code,
    const char *message)
{
	json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
	    message);
	char   *s = json_dumps(o, JSON_COMPACT);

	http_response_header(req, "content-type",
	    "application/json; charset=utf-8");
	http_response_header(req, "cache-control", "no-store");
	http_response(req, status, s, strlen(s));
	free(s);
	json_decref(o);
}

/* A WebSocket has no CORS: any page may open one to us, and a browser
 * sends our cookie along when the page is same-site (another port of the
 * same host is). So the cookie counts only from our own origin (the Host
 * the client asked for) or one listed in PARLEY_ORIGINS. */
static bool
origin_allowed(struct http_request *req, const char *origin)
{
	const char *host;
	char	    own[300];

	/* A Host too long for `own` matches nothing (not its prefix). */
	if (http_request_header(req, "host", &host) &&
	    strlen(host) < sizeof(own) - sizeof("https://")) {
		snprintf(own, sizeof(own), "http://%s", host);
		if (strcasecmp(origin, own) == 0)
			return 1;
		snprintf(own, sizeof(own), "https://%s", host);
		if (strcasecmp(origin, own) == 0)
			return 1;
	}
	return gw_origin_listed(gw_config.origins, origin);
}

/* 1 found, 0 unknown, -1 database unavailable. */
static int
lookup(const char *token, int64_t *session_id, int64_t *user_id)
{
	char	  hash[AUTH_HASH_HEX];
	PGresult *res;
	int	  found;

	if (token[0] == '\0' || strlen(token) > GW_TOKEN_MAX)
		return 0;
	auth_token_hash(token, hash);
	if ((res = DB_EXEC(gw_db, &sql_auth, hash)) == NULL)
		return -1;
	if ((found = PQntuples(res) > 0)) {
		*session_id = db_get_i64(res, 0, 0);
		*user_id = db_get_i64(res, 0, 1);
	}
	PQclear(res);
	return found;
}

int
gw_stream(struct http_request *req)
{
	const char *v, *origin;
	char	   *cookie = NULL, token[GW_TOKEN_MAX + 1];
	int	    offered = 0, have = 0, rc;

	handshake.user_id = handshake.session_id = 0;
	if (req->method != HTTP_METHOD_GET) {
		http_response_header(req, "allow", "GET");
		http_json_error(req, 405, "method_not_allowed",
		    "GET /api/v1/stream upgrades to a WebSocket.");
		return KORE_RESULT_OK;
	}
	if (!http_request_header(req, "upgrade", &v) ||
	    strcasecmp(v, "websocket") != 0) {
		http_response_header(req, "upgrade", "websocket");
		http_json_error(req, 426, "upgrade_required",
		    "This route is a WebSocket; long-polling is GET "
		    "/api/v1/events.");
		return KORE_RESULT_OK;
	}
	/* Kore answers a bad handshake with an empty 400: say why, in JSON
	 * like every other refusal. */
	if (!http_request_header(req, "sec-websocket-key", &v) ||
	    !http_request_header(req, "sec-websocket-version", &v) ||
	    strcmp(v, "13") != 0) {
		http_response_header(req, "sec-websocket-version", "13");
		http_json_error(req, 400, "bad_handshake",
		    "A WebSocket handshake needs Sec-WebSocket-Key and "
		    "Sec-WebSocket-Version: 13.");
		return KORE_RESULT_OK;
	}
	/* "parley, token.<token>": the one header a browser lets a page set
	 * on a WebSocket, and never logged (a URL would be). */
	if (http_request_header(req, "sec-websocket-protocol", &v)) {
		rc = gw_protocol_parse(v, token, sizeof(token));
		have = rc == 1;
		offered = rc != -1;
		if (!offered) {
			http_json_error(req, 400, "bad_protocol",
			    "Offer the subprotocol \"parley\".");
			return KORE_RESULT_OK;
		}
		http_response_header(req, "sec-websocket-protocol", PROTOCOL);
	}
	if (!have) {
		http_populate_cookies(req);
		if (http_request_cookie(req, "parley_session", &cookie) &&
		    cookie[0] != '\0') {
			if (!http_request_header(req, "origin", &origin) ||
			    !origin_allowed(req, origin)) {
				http_json_error(req, 403, "origin_not_allowed",
				    "The session cookie is accepted only from "
				    "this server's own pages; send a token.");
				return KORE_RESULT_OK;
			}
			snprintf(token, sizeof(token), "%s", cookie);
			have = 1;
		}
	}
	if (have) {
		rc = lookup(token, &handshake.session_id, &handshake.user_id);
		explicit_bzero(token, sizeof(token));
		if (rc == -1) {
			http_response_header(req, "retry-after", "2");
			http_json_error(req, 503, "unavailable",
			    "The database is unavailable; try again shortly.");
			return KORE_RESULT_OK;
		}
		if (rc == 0) {
			http_json_error(req, 401, "invalid_token",
			    "The access token is unknown, expired or revoked.");
			return KORE_RESULT_OK;
		}
	}
	kore_websocket_handshake(req, "gw_ws_connect", "gw_ws_message",
	    "gw_ws_disconnect");
	return KORE_RESULT_OK;
}

void
gw_ws_connect(struct connection *c)
{
	struct gw_sock *s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		log_fatal("calloc: out of memory");
	s->c = c;
	s->state = GW_AUTH;
	s->opened_ms = s->heard_ms = kore_time_ms();
	c->hdlr_extra = s;
	c->read = heard;
	TAILQ_INSERT_TAIL(&gw_all, s, all_link);
	if (handshake.user_id != 0)
		(void)authenticated(s, handshake.session_id, handshake.user_id);
	else
		gw_schedule(s); /* the tick enforces the auth timeout */
}

/* Kore answers pings and swallows pongs by itself, and restarts its idle
 * timer on every event of the socket, among them the socket becoming
 * writable again once nginx has read our own ping: a peer that answers
 * nothing would never time out. So every read notes the time, below
 * Kore's frames, and ping_all() hangs up on peers silent for too long. */
static int
heard(struct connection *c, size_t *bytes)
{
	struct gw_sock *s;
	int		rc;

	*bytes = 0; /* net_read leaves it alone on EAGAIN and EOF */
	rc = net_read(c, bytes);
	if (rc == KORE_RESULT_OK && *bytes > 0 && (s = c->hdlr_extra) != NULL)
		s->heard_ms = kore_time_ms();
	return rc;
}

/* -1 when the socket was refused: it is closing, nothing more to do. */
static int
authenticated(struct gw_sock *s, int64_t session_id, int64_t user_id)
{
	s->session_id = session_id;
	s->user_id = user_id;
	s->state = GW_HELLO;
	s->user = gw_user_get(user_id, 1);
	TAILQ_INSERT_TAIL(&s->user->socks, s, user_link);
	if (gw_limits_take(session_id, user_id) == -1) {
		gw_close(s, GW_CLOSE_TOO_MANY, "too_many_sockets",
		    "Too many sockets for this session or user; close one.");
		return -1;
	}
	s->counted = 1;
	gw_metrics_count(GW_M_OPENED, 0);
	return 0;
}

void
gw_ws_disconnect(struct connection *c)
{
	struct gw_sock *s = c->hdlr_extra;

	if (s == NULL)
		return;
	/* Before Kore's own close frame (it sends none after ours). */
	if (s->state != GW_CLOSING && refused_too_big(c)) {
		gw_close(s, GW_CLOSE_TOO_BIG, "frame_too_large",
		    "Frames are limited in size (PARLEY_GATEWAY_MAX_FRAME).");
		gw_linger(c);
	}
	c->hdlr_extra = NULL; /* Kore would kore_free() it */
	if (s->ack_want > s->acked)
		gw_ack_now(s);
	gw_async_forget(s);
	gw_unschedule(s);
	TAILQ_REMOVE(&gw_all, s, all_link);
	if (s->user != NULL) {
		TAILQ_REMOVE(&s->user->socks, s, user_link);
		gw_user_put(s->user);
	}
	if (s->counted) {
		gw_limits_give(s->session_id, s->user_id);
		gw_metrics_count(GW_M_GONE, 0);
	}
	free(s);
}

/* Kore refuses a frame longer than kore_websocket_maxframe as soon as its
 * header is in, and drops the connection with a close frame without a
 * code. That is the one way a socket ends with a complete header declaring
 * such a length as all there is in its receive buffer: the client gets
 * our 1009 instead. (RFC 6455's header: 126 or 127 in the second byte,
 * a 2 or 8 byte length, the 4 byte mask; Kore 4.1 reads that many bytes
 * more than the header before it looks at the length.) */
static bool
refused_too_big(struct connection *c)
{
	const struct netbuf *nb = c->rnb;
	uint64_t	     len = 0;
	size_t		     ext, hdr, i;

	if (nb == NULL || nb->buf == NULL || nb->b_len < 2 ||
	    nb->s_off != nb->b_len)
		return 0;
	switch (nb->buf[1] & 0x7f) {
	case 126:
		ext = 2;
		break;
	case 127:
		ext = 8;
		break;
	default:
		return 0;
	}
	hdr = 2 + ext + 4;
	if (nb->b_len != hdr && nb->b_len != hdr + (nb->buf[1] & 0x7f))
		return 0;
	for (i = 0; i < ext; i++)
		len = len << 8 | nb->buf[2 + i];
	return len > kore_websocket_maxframe;
}

void
gw_ws_message(struct connection *c, uint8_t op, const void *data, size_t len)
{
	static const enum gw_expect expect[] = { [GW_AUTH] = GW_EXPECT_TOKEN,
		[GW_HELLO] = GW_EXPECT_SINCE,
		[GW_LIVE] = GW_EXPECT_ACK,
		[GW_CLOSING] = GW_EXPECT_ACK };
	struct gw_sock		   *s = c->hdlr_extra;
	struct gw_frame		    f;
	const char		   *code, *message;
	int64_t			    sid, uid;
	int			    rc;

	if (s == NULL || s->state == GW_CLOSING)
		return;
	if (op != WEBSOCKET_OP_TEXT) {
		gw_close(s, GW_CLOSE_BAD_FRAME, "bad_frame",
		    "Frames are JSON text.");
		return;
	}
	if (gw_frame_parse(data, len, (size_t)gw_config.max_frame,
		expect[s->state], &f, &rc, &code, &message) == -1) {
		gw_close(s, rc, code, message);
		return;
	}
	switch (s->state) {
	case GW_AUTH:
		rc = lookup(f.token, &sid, &uid);
		explicit_bzero(f.token, sizeof(f.token));
		if (rc == -1) {
			gw_close(s, GW_CLOSE_UNAVAILABLE, "unavailable",
			    "The database is unavailable; try again shortly.");
			break;
		}
		if (rc == 0) {
			gw_close(s, GW_CLOSE_AUTH, "invalid_token",
			    "The access token is unknown, expired or revoked.");
			break;
		}
		gw_unschedule(s);
		/* authenticated() may have closed (and freed) the socket. */
		if (authenticated(s, sid, uid) == 0 && f.has_since)
			subscribe(s, f.since);
		break;
	case GW_HELLO:
		subscribe(s, f.since);
		break;
	case GW_LIVE:
		on_ack(s, f.ack);
		break;
	case GW_CLOSING:
		break;
	}
}

/* {"since": N} or {"since": null}: as GET /api/v1/events?since=N, with
 * the same answers (cursor_expired; the ack of N; presence). */
static void
subscribe(struct gw_sock *s, int64_t since)
{
	char	  sid[24], uid[24], cur[24], fresh[24];
	long long head, floor, acked;
	int	  stale;
	PGresult *res;

	res = DB_EXEC(gw_db, &stream_sql_state, db_i64(sid, s->session_id),
	    db_i64(fresh, gw_config.online_window / 3));
	if (res == NULL) {
		gw_close(s, GW_CLOSE_UNAVAILABLE, "unavailable",
		    "The database is unavailable; try again shortly.");
		return;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		gw_close(s, GW_CLOSE_AUTH, "invalid_token",
		    "The session has ended.");
		return;
	}
	head = db_get_i64(res, 0, 0);
	floor = db_get_i64(res, 0, 1);
	acked = db_get_i64(res, 0, 2);
	stale = db_get_bool(res, 0, 3);
	PQclear(res);
	if (since != -1 && (since < floor || since > head)) {
		json_t *e = json_pack("{s:{s:s,s:s},s:I,s:I}", "error", "code",
		    "cursor_expired", "message",
		    since > head ?
			"The cursor is ahead of this stream; reload and use "
			"'next'." :
			"Events after this cursor were pruned; "
			"reload the history and continue from 'next'.",
		    "oldest", (json_int_t)floor, "next", (json_int_t)head);
		char   *txt = json_dumps(e, JSON_COMPACT);

		gw_send_text(s, txt, strlen(txt));
		free(txt);
		json_decref(e);
		/* The frame above is the error frame: the reason only. */
		gw_close(s, GW_CLOSE_EXPIRED, "cursor_expired", NULL);
		return;
	}
	/* Subscribing acknowledges `since` for this device and makes the
	 * user online, as a poll does. */
	if (((since != -1 && since > acked) || stale) &&
	    gw_async_ack_at(s, since == -1 ? 0 : since) == -1) {
		res = DB_EXEC(gw_db, &stream_sql_ack, sid,
		    db_i64(uid, s->user_id),
		    db_i64(cur, since == -1 ? 0 : since));
		if (res == NULL) {
			gw_close(s, GW_CLOSE_UNAVAILABLE, "unavailable",
			    "The database is unavailable; try again shortly.");
			return;
		}
		gw_notify(db_get_str(res, 0, 0));
		gw_receipts_kick();
		PQclear(res);
	}
	s->sent = since == -1 ? head : since;
	s->acked = s->ack_want = since > acked ? since : acked;
	s->state = GW_LIVE;
	gw_deliver(s, GW_DELIVER_FIRST);
}

/* {"ack": seq}: the client has processed everything up to seq. Written
 * on the next tick (gw_flush_acks), once per tick however many came. */
static void
on_ack(struct gw_sock *s, int64_t n)
{
	if (n > s->sent) {
		gw_close(s, GW_CLOSE_BAD_FRAME, "ack_ahead",
		    "ack is beyond the last event sent.");
		return;
	}
	if (n > s->ack_want) {
		s->ack_want = n;
		gw_schedule(s);
	}
}
