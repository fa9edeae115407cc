/* accounts_auth: register, login, logout, who-am-I, health. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "accounts.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "user.h"
#include "valid.h"

static int	read_username(struct http_req *, json_t *, char *, size_t);

/* Reads and case-folds "username"; replies 400 on a bad one. */
static int
read_username(struct http_req *r, json_t *body, char *out, size_t outlen)
{
	const char	*name;
	size_t		 len;

	if (valid_string(r, body, "username", VALID_REQUIRED, 1, 64,
	    &name) == -1)
		return -1;
	len = strlen(name);
	if (len >= outlen)
		len = outlen - 1;	/* too long: rejected by the fold below */
	memcpy(out, name, len);
	out[len] = '\0';
	if (user_name_fold(out, strlen(name)) == -1) {
		http_error(r, 400, "invalid_field", "The field 'username' must "
		    "be 3 to 32 characters of a-z, 0-9, '_', '.' and '-'.");
		return -1;
	}
	return 0;
}

void
accounts_register(struct http_req *r)
{
	char		 name[40], hash[crypto_pwhash_STRBYTES];
	const char	*pw = NULL, *display = NULL;
	json_t		*body, *reply = NULL;
	PGresult	*res = NULL;

	if ((body = http_body_json(r)) == NULL)
		return;
	if (read_username(r, body, name, sizeof(name)) == -1 ||
	    valid_string(r, body, "password", VALID_REQUIRED | VALID_RAW, 8,
	    AUTH_PW_MAX, &pw) == -1 ||
	    valid_string(r, body, "display_name", VALID_NAME, 1, 64,
	    &display) == -1)
		goto out;
	if (strlen(pw) > AUTH_PW_MAX) {
		http_error(r, 400, "invalid_field", "The field 'password' must "
		    "be at most %d bytes.", AUTH_PW_MAX);
		goto out;
	}
	if (auth_password_hash(pw, hash, sizeof(hash)) == -1) {
		http_error(r, 500, "internal_error", "Could not hash the "
		    "password.");
		goto out;
	}
	/* The user and the first session appear together or not at all. */
	if (db_begin(r->db) == -1) {
		http_db_error(r);
		goto out;
	}
	res = DB_EXEC(r->db, &sql_user_insert, name,
	    display != NULL ? display : name, hash);
	if (res == NULL) {
		db_rollback(r->db);
		http_db_error(r);
		goto out;
	}
	if (PQntuples(res) == 0) {
		db_rollback(r->db);
		http_error(r, 409, "username_taken", "The username '%s' is "
		    "already taken.", name);
		goto out;
	}
	reply = json_pack("{s:o}", "user", user_json(res, 0, 0));
	if (auth_session_start(r, db_get_i64(res, 0, 0), reply) == -1) {
		db_rollback(r->db);
		goto out;
	}
	if (db_commit(r->db) == -1) {
		http_db_error(r);
		goto out;
	}
	(void)auth_session_cookies(r, reply);
	http_reply(r, 201, reply);
	reply = NULL;
out:
	sodium_memzero(hash, sizeof(hash));
	PQclear(res);
	json_decref(reply);
	json_decref(body);
}

void
accounts_login(struct http_req *r)
{
	char		 name[40];
	const char	*pw = NULL, *stored;
	json_t		*body, *reply;
	PGresult	*res = NULL;
	long		 wait;
	int		 ok;

	if ((body = http_body_json(r)) == NULL)
		return;
	if (valid_string(r, body, "password", VALID_REQUIRED | VALID_RAW, 1,
	    AUTH_PW_MAX, &pw) == -1)
		goto out;
	/* A name that cannot exist is just a wrong login, not a 400: the
	 * answer must not tell which part was wrong. */
	if (valid_string(r, body, "username", VALID_REQUIRED, 1, 64,
	    &stored) == -1)
		goto out;
	snprintf(name, sizeof(name), "%s", stored);
	if (user_name_fold(name, strlen(stored)) == -1)
		name[0] = '\0';
	if ((wait = throttle_check(r->db, name, r->remote_addr)) != 0) {
		if (wait < 0)
			http_db_error(r);
		else {
			http_header(r, "Retry-After: %ld", wait);
			http_error(r, 429, "too_many_attempts", "Too many failed "
			    "logins; try again in %ld seconds.", wait);
		}
		goto out;
	}
	if ((res = DB_EXEC(r->db, &sql_user_by_name, name)) == NULL) {
		http_db_error(r);
		goto out;
	}
	stored = PQntuples(res) == 1 ? db_get_str(res, 0, 3) : NULL;
	ok = auth_password_verify(stored, pw);
	if (!ok) {
		throttle_fail(r->db, name, r->remote_addr);
		http_error(r, 401, "invalid_credentials",
		    "The username or password is wrong.");
		goto out;
	}
	throttle_clear(r->db, name);
	reply = json_pack("{s:o}", "user", user_json(res, 0, 0));
	if (auth_session_start(r, db_get_i64(res, 0, 0), reply) == -1) {
		json_decref(reply);
		goto out;
	}
	(void)auth_session_cookies(r, reply);	/* committed: no transaction */
	http_reply(r, 200, reply);
out:
	PQclear(res);
	json_decref(body);
}

void
accounts_logout(struct http_req *r)
{
	char		 id[24];
	PGresult	*res;

	if ((res = DB_EXEC(r->db, &sql_session_revoke,
	    db_i64(id, r->session_id))) == NULL) {
		http_db_error(r);
		return;
	}
	PQclear(res);
	http_header(r, "Set-Cookie: parley_session=; Path=/api/; Max-Age=0;"
	    " HttpOnly; SameSite=Lax");
	http_header(r, "Set-Cookie: parley_csrf=; Path=/; Max-Age=0;"
	    " SameSite=Lax");
	http_reply(r, 204, NULL);
}

void
accounts_me(struct http_req *r)
{
	char		 id[24];
	PGresult	*res;

	if ((res = DB_EXEC(r->db, &sql_user_by_id,
	    db_i64(id, r->user_id))) == NULL) {
		http_db_error(r);
		return;
	}
	if (PQntuples(res) != 1)
		http_error(r, 401, "invalid_token", "The account is gone.");
	else
		http_reply(r, 200, json_pack("{s:o,s:I}", "user",
		    user_json(res, 0, 0), "session_id",
		    (json_int_t)r->session_id));
	PQclear(res);
}

void
accounts_health(struct http_req *r)
{
	if (db_simple(r->db, "SELECT 1") == -1) {
		http_db_error(r);
		return;
	}
	http_reply(r, 200, json_pack("{s:s,s:s}", "status", "ok",
	    "database", "ok"));
}
