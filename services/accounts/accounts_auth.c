/* accounts_auth: register, login, logout, who-am-I, health. Login and
 * register do their cheap checks here and finish on a password pool thread
 * (shared/pwhash.c), so no worker thread waits for argon2id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "accounts.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "pwhash.h"
#include "server.h"
#include "user.h"
#include "valid.h"

/* A refused hash is worth retrying soon: one runs in well under that. */
#define HASH_RETRY_S 1

/* A login or registration handed to the pool: the worker did the cheap
 * checks, a pool thread hashes and finishes the request, so no worker
 * thread ever waits for argon2id. */
struct pw_req {
	struct pwhash_job job; /* first: the pool's view of it */
	struct http_req	 *r;
	struct throttle	  t;	/* what the attempt counted on */
	json_t		 *body; /* holds the password and display */
	PGresult	 *user; /* login: the user's row, if any */
	char		  name[40];
	const char	 *display;
	struct timespec	  t0;
};

static int   read_username(struct http_req *, json_t *, char *, size_t);
static void  hash_refused(struct http_req *, enum pwhash_result);
static void *pool_db_new(void);
static void  pool_db_free(void *);
static struct pw_req *pw_req_new(struct http_req *, json_t *,
    const struct throttle *, const struct timespec *, pwhash_done_fn);
static void	      pw_req_free(struct pw_req *);
static int	      hand_over(struct pw_req *);
static void	      pw_req_finish(struct pw_req *);
static void register_done(struct pwhash_job *, enum pwhash_result, void *);
static void login_done(struct pwhash_job *, enum pwhash_result, void *);

/* Reads and case-folds "username"; replies 400 on a bad one. */
static int
read_username(struct http_req *r, json_t *body, char *out, size_t outlen)
{
	const char *name;
	size_t	    len;

	if (valid_string(r, body, "username", VALID_REQUIRED, 1, 64, &name) ==
	    -1)
		return -1;
	len = strlen(name);
	if (len >= outlen)
		len = outlen - 1; /* too long: rejected by the fold below */
	memcpy(out, name, len);
	out[len] = '\0';
	if (user_name_fold(out, strlen(name)) == -1) {
		http_error(r, 400, "invalid_field",
		    "The field 'username' must "
		    "be 3 to 32 characters of a-z, 0-9, '_', '.' and '-'.");
		return -1;
	}
	return 0;
}

/* The pool could not hash: 503 busy (retry) or 500. */
static void
hash_refused(struct http_req *r, enum pwhash_result res)
{
	if (res == PWHASH_BUSY) {
		http_header(r, "Retry-After: %d", HASH_RETRY_S);
		http_error(r, 503, "busy",
		    "The server is busy checking "
		    "passwords; try again shortly.");
	} else
		http_error(r, 500, "internal_error",
		    "Could not hash the "
		    "password.");
}

static void *
pool_db_new(void)
{
	return db_new();
}

static void
pool_db_free(void *db)
{
	db_free(db);
}

void
accounts_start(void)
{
	/* Each pool thread finishes the requests it hashes for: its own
	 * database connection. */
	pwhash_start(config.pwhash_slots, config.pwhash_queue,
	    config.pwhash_wait_ms, pool_db_new, pool_db_free);
}

void
accounts_stop(void)
{
	pwhash_stop();
}

static struct pw_req *
pw_req_new(struct http_req *r, json_t *body, const struct throttle *t,
    const struct timespec *t0, pwhash_done_fn done)
{
	struct pw_req *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		log_fatal("calloc: out of memory");
	p->r = r;
	p->body = body;
	p->t = *t;
	p->t0 = *t0;
	p->job.done = done;
	return p;
}

static void
pw_req_free(struct pw_req *p)
{
	if (p == NULL)
		return;
	sodium_memzero(p->job.out, sizeof(p->job.out));
	json_decref(p->body);
	PQclear(p->user);
	free(p);
}

/* Gives the request to the pool; 0 when it took it (from then on neither
 * r nor p is the caller's), -1 when it is full (the caller replies). */
static int
hand_over(struct pw_req *p)
{
	if (pwhash_submit(&p->job) == -1)
		return -1;
	server_handover();
	return 0;
}

/* On the pool thread, once `done` replied: what the worker loop does after
 * a handler (server.c), then the request and the job are freed. */
static void
pw_req_finish(struct pw_req *p)
{
	server_after_handler(p->r, p->r->path);
	server_finish_handed(p->r, &p->t0);
	pw_req_free(p);
}

/* Pool thread: the password is hashed; create the user and its session. */
static void
register_done(struct pwhash_job *job, enum pwhash_result hr, void *db)
{
	struct pw_req	*p = (struct pw_req *)job;
	struct http_req *r = p->r;
	json_t		*reply = NULL;
	PGresult	*res = NULL;

	r->db = db;
	if (hr != PWHASH_OK) {
		hash_refused(r, hr);
		throttle_give_back(r->db, &p->t);
		goto out;
	}
	/* The user and the first session appear together or not at all. */
	if (db_begin(r->db) == -1) {
		http_db_error(r);
		goto out;
	}
	/* ON CONFLICT: a concurrent registration may have taken it since. */
	res = DB_EXEC(r->db, &sql_user_insert, p->name,
	    p->display != NULL ? p->display : p->name, p->job.out);
	if (res == NULL) {
		db_rollback(r->db);
		http_db_error(r);
		goto out;
	}
	if (PQntuples(res) == 0) {
		db_rollback(r->db);
		http_error(r, 409, "username_taken",
		    "The username '%s' is "
		    "already taken.",
		    p->name);
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
	PQclear(res);
	json_decref(reply);
	pw_req_finish(p);
}

void
accounts_register(struct http_req *r)
{
	char		name[40];
	const char     *pw = NULL, *display = NULL;
	json_t	       *body;
	PGresult       *res = NULL;
	struct throttle t = { .n = 0 };
	struct timespec t0;
	struct pw_req  *p;
	long		wait;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((body = http_body_json(r)) == NULL)
		return;
	if (read_username(r, body, name, sizeof(name)) == -1 ||
	    valid_string(r, body, "password", VALID_REQUIRED | VALID_RAW, 8,
		AUTH_PW_MAX, &pw) == -1 ||
	    valid_string(r, body, "display_name", VALID_NAME, 1, 64,
		&display) == -1)
		goto out;
	if (strlen(pw) > AUTH_PW_MAX) {
		http_error(r, 400, "invalid_field",
		    "The field 'password' must "
		    "be at most %d bytes.",
		    AUTH_PW_MAX);
		goto out;
	}
	/* A full pool refuses before any other work: a flood of these
	 * costs no more than a cheap route. */
	if (pwhash_full()) {
		hash_refused(r, PWHASH_BUSY);
		goto out;
	}
	if ((wait = throttle_register_take(r->db, &t, r->remote_addr)) != 0) {
		if (wait < 0)
			http_db_error(r);
		else {
			http_header(r, "Retry-After: %ld", wait);
			http_error(r, 429, "too_many_registrations",
			    "Too many "
			    "registrations from this address; try again in %ld "
			    "seconds.",
			    wait);
		}
		goto out;
	}
	/* A taken name costs one lookup, never a hash. */
	if ((res = DB_EXEC(r->db, &sql_user_exists, name)) == NULL) {
		http_db_error(r);
		throttle_give_back(r->db, &t);
		goto out;
	}
	if (PQntuples(res) > 0) {
		http_error(r, 409, "username_taken",
		    "The username '%s' is "
		    "already taken.",
		    name);
		goto out;
	}
	p = pw_req_new(r, body, &t, &t0, register_done);
	body = NULL;
	memcpy(p->name, name, sizeof(p->name));
	p->display = display;
	p->job.pw = pw;
	if (hand_over(p) == 0)
		goto out; /* a pool thread hashes and replies */
	hash_refused(r, PWHASH_BUSY);
	throttle_give_back(r->db, &p->t);
	pw_req_free(p);
out:
	PQclear(res);
	json_decref(body);
}

/* Pool thread: the password is checked; a session if it was right. */
static void
login_done(struct pwhash_job *job, enum pwhash_result hr, void *db)
{
	struct pw_req	*p = (struct pw_req *)job;
	struct http_req *r = p->r;
	json_t		*reply;

	r->db = db;
	if (hr == PWHASH_MISMATCH) {
		/* The attempt stays counted. */
		http_error(r, 401, "invalid_credentials",
		    "The username or password is wrong.");
		goto out;
	}
	if (hr != PWHASH_OK) {
		hash_refused(r, hr);
		throttle_give_back(r->db, &p->t);
		goto out;
	}
	throttle_login_ok(r->db, &p->t);
	reply = json_pack("{s:o}", "user", user_json(p->user, 0, 0));
	if (auth_session_start(r, db_get_i64(p->user, 0, 0), reply) == -1) {
		json_decref(reply);
		goto out;
	}
	(void)auth_session_cookies(r, reply); /* committed: no transaction */
	http_reply(r, 200, reply);
out:
	pw_req_finish(p);
}

void
accounts_login(struct http_req *r)
{
	char		name[40];
	const char     *pw = NULL, *given;
	json_t	       *body;
	PGresult       *res;
	struct throttle t = { .n = 0 };
	struct timespec t0;
	struct pw_req  *p;
	long		wait;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((body = http_body_json(r)) == NULL)
		return;
	if (valid_string(r, body, "password", VALID_REQUIRED | VALID_RAW, 1,
		AUTH_PW_MAX, &pw) == -1)
		goto out;
	/* A name that cannot exist is just a wrong login, not a 400: the
	 * answer must not tell which part was wrong. */
	if (valid_string(r, body, "username", VALID_REQUIRED, 1, 64, &given) ==
	    -1)
		goto out;
	snprintf(name, sizeof(name), "%s", given);
	if (user_name_fold(name, strlen(given)) == -1)
		name[0] = '\0';
	if (pwhash_full()) {
		hash_refused(r, PWHASH_BUSY);
		goto out;
	}
	/* Counted before the password is checked: concurrent guesses
	 * cannot all slip in under the limit. */
	if ((wait = throttle_login_take(r->db, &t, name, r->remote_addr)) !=
	    0) {
		if (wait < 0)
			http_db_error(r);
		else {
			http_header(r, "Retry-After: %ld", wait);
			http_error(r, 429, "too_many_attempts",
			    "Too many failed "
			    "logins; try again in %ld seconds.",
			    wait);
		}
		goto out;
	}
	if ((res = DB_EXEC(r->db, &sql_user_by_name, name)) == NULL) {
		http_db_error(r);
		throttle_give_back(r->db, &t);
		goto out;
	}
	p = pw_req_new(r, body, &t, &t0, login_done);
	body = NULL;
	p->user = res;
	p->job.verify = 1;
	p->job.pw = pw;
	p->job.stored = PQntuples(res) == 1 ? db_get_str(res, 0, 3) : NULL;
	if (hand_over(p) == 0)
		goto out; /* a pool thread checks and replies */
	hash_refused(r, PWHASH_BUSY);
	throttle_give_back(r->db, &p->t);
	pw_req_free(p);
out:
	json_decref(body);
}

void
accounts_logout(struct http_req *r)
{
	char	  id[24];
	PGresult *res;

	if ((res = DB_EXEC(r->db, &sql_session_revoke,
		 db_i64(id, r->session_id))) == NULL) {
		http_db_error(r);
		return;
	}
	PQclear(res);
	http_header(r,
	    "Set-Cookie: parley_session=; Path=/api/; Max-Age=0;"
	    " HttpOnly; SameSite=Lax");
	http_header(r,
	    "Set-Cookie: parley_csrf=; Path=/; Max-Age=0;"
	    " SameSite=Lax");
	http_reply(r, 204, NULL);
}

void
accounts_me(struct http_req *r)
{
	char	  id[24];
	PGresult *res;

	if ((res = DB_EXEC(r->db, &sql_user_by_id, db_i64(id, r->user_id))) ==
	    NULL) {
		http_db_error(r);
		return;
	}
	if (PQntuples(res) != 1)
		http_error(r, 401, "invalid_token", "The account is gone.");
	else
		http_reply(r, 200,
		    json_pack("{s:o,s:I}", "user", user_json(res, 0, 0),
			"session_id", (json_int_t)r->session_id));
	PQclear(res);
}

void
accounts_health(struct http_req *r)
{
	if (db_simple(r->db, "SELECT 1") == -1) {
		http_db_error(r);
		return;
	}
	http_reply(r, 200,
	    json_pack("{s:s,s:s}", "status", "ok", "database", "ok"));
}
