/* sites_users: the site's users (create or update, look up) and their
 * one-time login tickets. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth.h"
#include "http.h"
#include "sites.h"
#include "user.h"
#include "valid.h"

long sites_ticket_ttl = 60;

static int ext_check(struct http_req *, const char *, const char *);

static const struct http_outcome put_outcomes[] = {
	{ "created", 201, NULL, NULL },
	{ "updated", 200, NULL, NULL },
	{ "username_taken", 409, "username_taken",
	    "That username belongs to another user." },
	{ "username_required", 400, "missing_field",
	    "The field 'username' is required to create a user." },
	{ NULL, 0, NULL, NULL },
};

bool
sites_ext_ok(const char *s)
{
	size_t n = strspn(s,
	    "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@:+=-");

	return s[n] == '\0' && n >= 1 && n <= SITES_EXT_MAX;
}

/* 0 when `ext` is an external id; else replies 400 (invalid_path for the
 * path's id, invalid_field for a body field) and returns -1. */
static int
ext_check(struct http_req *r, const char *ext, const char *field)
{
	if (sites_ext_ok(ext))
		return 0;
	http_error(r, 400,
	    strcmp(field, "path") == 0 ? "invalid_path" : "invalid_field",
	    "The external id in '%s' must be 1 to 128 "
	    "characters of A-Z, a-z, 0-9 and . _ @ : + = -.",
	    field);
	return -1;
}

bool
sites_has(json_t *body, const char *field)
{
	json_t *v = json_object_get(body, field);

	return v != NULL && !json_is_null(v);
}

int
sites_lookup(struct http_req *r, const char *ext, const char *field,
    int64_t *uid)
{
	char	  site[24];
	PGresult *res;
	int	  rc = -1;

	if (ext_check(r, ext, field) == -1)
		return -1;
	if ((res = DB_EXEC(r->db, &sql_user_lookup, db_i64(site, r->site_id),
		 ext)) == NULL)
		http_db_error(r);
	else if (PQntuples(res) == 0)
		http_error(r, 404, "unknown_user",
		    "The site has no user with "
		    "the external id in '%s'; create it with PUT "
		    "/api/v1/server/users/{external_id}.",
		    field);
	else {
		*uid = db_get_i64(res, 0, 0);
		rc = 0;
	}
	PQclear(res);
	return rc;
}

int
sites_lookup_field(struct http_req *r, json_t *body, const char *field,
    int64_t *uid)
{
	const char *ext;

	if (valid_string(r, body, field, VALID_REQUIRED, 1, SITES_EXT_MAX,
		&ext) == -1)
		return -1;
	return sites_lookup(r, ext, field, uid);
}

void
sites_user_put(struct http_req *r)
{
	char	    site[24], name[40];
	const char *ext = r->params[0], *uname = NULL, *display = NULL;
	json_t	   *body;
	PGresult   *res = NULL;
	size_t	    len;
	int	    status;

	if (ext_check(r, ext, "path") == -1)
		return;
	if ((body = http_body_json(r)) == NULL)
		return;
	if (valid_string(r, body, "username", 0, 1, 64, &uname) == -1 ||
	    valid_string(r, body, "display_name", VALID_NAME, 1, 64,
		&display) == -1)
		goto out;
	if (uname != NULL) {
		len = strlen(uname);
		snprintf(name, sizeof(name), "%s", uname);
		if (len >= sizeof(name) || user_name_fold(name, len) == -1) {
			http_error(r, 400, "invalid_field",
			    "The field "
			    "'username' must be 3 to 32 characters of a-z, "
			    "0-9, '_', '.' and '-'.");
			goto out;
		}
		uname = name;
	}
	res = DB_EXEC(r->db, &sql_user_put, db_i64(site, r->site_id), ext,
	    uname, display);
	if (res == NULL) {
		http_db_error(r);
		goto out;
	}
	if ((status = http_outcome(r, put_outcomes, PQgetvalue(res, 0, 0))) > 0)
		http_reply_wrap(r, status, "user", PQgetvalue(res, 0, 1));
out:
	PQclear(res);
	json_decref(body);
}

void
sites_user_get(struct http_req *r)
{
	char	  site[24];
	PGresult *res;

	if (ext_check(r, r->params[0], "path") == -1)
		return;
	if ((res = DB_EXEC(r->db, &sql_user_get, db_i64(site, r->site_id),
		 r->params[0])) == NULL) {
		http_db_error(r);
		return;
	}
	if (PQntuples(res) == 0)
		http_error(r, 404, "unknown_user",
		    "The site has no user with "
		    "this external id.");
	else
		http_reply_wrap(r, 200, "user", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* The ticket is a session-strength random token, stored hashed: a
 * database reader cannot use a pending one. */
void
sites_ticket_new(struct http_req *r)
{
	char	  site[24], uid_s[24], ttl[24];
	char	  ticket[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_HEX];
	json_t	 *reply, *user;
	PGresult *res;
	int64_t	  uid;

	if (sites_lookup(r, r->params[0], "path", &uid) == -1)
		return;
	auth_token_new(ticket, hash);
	res = DB_EXEC(r->db, &sql_ticket_insert, db_i64(site, r->site_id), hash,
	    db_i64(uid_s, uid), db_i64(ttl, sites_ticket_ttl));
	if (res == NULL) {
		http_db_error(r);
		goto out;
	}
	if ((user = json_loads(PQgetvalue(res, 0, 0), 0, NULL)) == NULL) {
		http_error(r, 500, "internal_error", "Bad user JSON.");
		goto out;
	}
	reply = json_pack("{s:s,s:I,s:o}", "ticket", ticket, "expires_in",
	    (json_int_t)sites_ticket_ttl, "user", user);
	http_reply(r, 201, reply);
out:
	sodium_memzero(ticket, sizeof(ticket));
	PQclear(res);
}
