/* sites_webhook: the site's webhook (one URL, a set of event types) and a
 * view of recent deliveries for debugging a receiver. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "site.h"
#include "sites.h"
#include "valid.h"

#define URL_MAX 2048

static const char *const event_types[] = { "message.offline", "call.missed",
	"friend.request", NULL };

static bool  hook_url_ok(const char *);
static char *events_array(struct http_req *, json_t *);

/* http(s)://host... with no spaces or control characters: what libcurl
 * will be given, and nothing it could read as another protocol. */
static bool
hook_url_ok(const char *u)
{
	const char *host;
	size_t	    i;

	if (strncmp(u, "https://", 8) == 0)
		host = u + 8;
	else if (strncmp(u, "http://", 7) == 0)
		host = u + 7;
	else
		return 0;
	if (*host == '\0' || *host == '/' || *host == '?' || *host == '#')
		return 0;
	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= ' ' || u[i] == 0x7f || u[i] == '"' ||
		    u[i] == '<' || u[i] == '>' || u[i] == '\\')
			return 0;
	return 1;
}

/* "events": a non-empty array of known types -> the array as JSON text
 * for the statement (caller frees), or NULL after a 400. */
static char *
events_array(struct http_req *r, json_t *events)
{
	const char *s;
	json_t	   *v;
	size_t	    i;
	int	    k;

	if (!json_is_array(events) || json_array_size(events) == 0 ||
	    json_array_size(events) > 3)
		goto bad;
	json_array_foreach(events, i, v)
	{
		s = json_is_string(v) ? json_string_value(v) : "";
		for (k = 0;
		     event_types[k] != NULL && strcmp(event_types[k], s) != 0;
		     k++)
			;
		if (event_types[k] == NULL)
			goto bad;
	}
	return json_dumps(events, JSON_COMPACT);
bad:
	http_error(r, 400, "invalid_field",
	    "The field 'events' must be a "
	    "non-empty array of message.offline, call.missed and "
	    "friend.request.");
	return NULL;
}

void
sites_webhook_get(struct http_req *r)
{
	char	  site[24];
	PGresult *res;

	if ((res = DB_EXEC(r->db, &sql_webhook_get,
		 db_i64(site, r->site_id))) == NULL) {
		http_db_error(r);
		return;
	}
	if (PQntuples(res) != 1)
		site_refuse_unknown(r); /* removed since site_auth */
	else
		http_reply_wrap(r, 200, "webhook",
		    !PQgetisnull(res, 0, 0) ? PQgetvalue(res, 0, 0) : "null");
	PQclear(res);
}

void
sites_webhook_put(struct http_req *r)
{
	char	    site[24];
	const char *url;
	char	   *events = NULL;
	json_t	   *body;
	PGresult   *res = NULL;

	if ((body = http_body_json(r)) == NULL)
		return;
	if (valid_string(r, body, "url", VALID_REQUIRED, 8, URL_MAX, &url) ==
	    -1)
		goto out;
	if (strlen(url) > URL_MAX || !hook_url_ok(url)) {
		http_error(r, 400, "invalid_field",
		    "The field 'url' must be an "
		    "http or https URL of at most %d bytes.",
		    URL_MAX);
		goto out;
	}
	if (sites_has(body, "events") &&
	    (events = events_array(r, json_object_get(body, "events"))) == NULL)
		goto out;
	if ((res = DB_EXEC(r->db, &sql_webhook_put, db_i64(site, r->site_id),
		 url, events)) == NULL) {
		http_db_error(r);
		goto out;
	}
	if (PQntuples(res) != 1) {
		site_refuse_unknown(r); /* removed since site_auth */
		goto out;
	}
	http_reply_wrap(r, 200, "webhook", PQgetvalue(res, 0, 0));
out:
	PQclear(res);
	free(events);
	json_decref(body);
}

void
sites_webhook_delete(struct http_req *r)
{
	char	  site[24];
	PGresult *res;

	if ((res = DB_EXEC(r->db, &sql_webhook_delete,
		 db_i64(site, r->site_id))) == NULL) {
		http_db_error(r);
		return;
	}
	PQclear(res);
	http_reply_wrap(r, 200, "webhook", "null");
}

/* GET /server/webhook/deliveries?state=pending|delivered|failed&limit=N */
void
sites_deliveries(struct http_req *r)
{
	char	  site[24], state[16], lim[24];
	long long limit = 50;
	PGresult *res;
	int	  has;

	if ((has = http_query_find(r->query, "state", state, sizeof(state))) ==
		-1 ||
	    (has == 1 && strcmp(state, "pending") != 0 &&
		strcmp(state, "delivered") != 0 &&
		strcmp(state, "failed") != 0)) {
		http_error(r, 400, "invalid_parameter",
		    "The parameter 'state' must "
		    "be pending, delivered or failed.");
		return;
	}
	if (http_query_long(r, "limit", 1, 500, &limit) == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_deliveries, db_i64(site, r->site_id),
		 has == 1 ? state : NULL, db_i64(lim, limit))) == NULL) {
		http_db_error(r);
		return;
	}
	http_reply_wrap(r, 200, "deliveries", PQgetvalue(res, 0, 0));
	PQclear(res);
}
