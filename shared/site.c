/* site: checks of signed site requests. The cheap checks (headers, clock)
 * run before the database is asked for the secret; the nonce is recorded
 * only for a request whose signature is good, so nobody can use up a
 * site's nonces. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "http.h"
#include "sign.h"
#include "site.h"

/* The previous secret counts until its grace period ends (rotation). */
static const struct db_stmt sql_site_secret = { "site_secret",
	"SELECT id, secret, CASE WHEN secret_prev_until > now()"
	" THEN secret_prev END FROM sites WHERE name = $1" };
static const struct db_stmt sql_site_nonce = { "site_nonce",
	"INSERT INTO site_nonces (site_id, nonce) VALUES ($1, $2)"
	" ON CONFLICT DO NOTHING RETURNING 1" };

static int refuse(struct http_req *, const char *, const char *);

static int
refuse(struct http_req *r, const char *code, const char *msg)
{
	http_header(r, "WWW-Authenticate: Parley-HMAC-SHA256");
	http_error(r, 401, code, "%s", msg);
	return -1;
}

void
site_refuse_unknown(struct http_req *r)
{
	refuse(r, "unknown_site", "No such site.");
}

int
site_auth_request(struct http_req *r)
{
	const char *site, *ts, *nonce, *sig, *uri, *body, *secret, *prev;
	char	    want[SIGN_HEX], got[SIGN_HEX], bodyhash[SIGN_HEX];
	char	    idbuf[24];
	size_t	    len;
	PGresult   *res = NULL;
	int	    ok, rc = -1;

	site = http_env(r, "HTTP_X_PARLEY_SITE");
	ts = http_env(r, "HTTP_X_PARLEY_TIMESTAMP");
	nonce = http_env(r, "HTTP_X_PARLEY_NONCE");
	sig = http_env(r, "HTTP_X_PARLEY_SIGNATURE");
	uri = http_env(r, "REQUEST_URI");
	if (site == NULL || ts == NULL || nonce == NULL || sig == NULL)
		return refuse(r, "signature_required",
		    "This endpoint needs a "
		    "signed request: X-Parley-Site, X-Parley-Timestamp, "
		    "X-Parley-Nonce and X-Parley-Signature.");
	if (!sign_site_ok(site))
		return refuse(r, "signature_required",
		    "X-Parley-Site is not a site name.");
	if (!sign_nonce_ok(nonce))
		return refuse(r, "signature_required",
		    "X-Parley-Nonce must be "
		    "16 to 64 characters of A-Z, a-z, 0-9, '_' and '-'.");
	if (sign_parse(sig, got) == -1)
		return refuse(r, "signature_required",
		    "X-Parley-Signature must "
		    "be 'v1=' and 64 hex digits.");
	ok = sign_timestamp_check(ts, (long long)time(NULL));
	if (ok == -1)
		return refuse(r, "signature_required",
		    "X-Parley-Timestamp must be Unix seconds.");
	if (ok == 0)
		return refuse(r, "request_expired",
		    "X-Parley-Timestamp is more "
		    "than 300 seconds away from the server's clock.");
	if (http_body_read(r, &body, &len) == -1)
		return -1;
	if ((res = DB_EXEC(r->db, &sql_site_secret, site)) == NULL) {
		http_db_error(r);
		goto out;
	}
	if (PQntuples(res) != 1) {
		site_refuse_unknown(r);
		goto out;
	}
	secret = db_get_str(res, 0, 1);
	prev = db_get_str(res, 0, 2);
	sign_body_hash(body, len, bodyhash);
	sign_compute(secret, ts, nonce, r->method, uri, bodyhash, want);
	ok = sign_equal(want, got);
	if (!ok && prev != NULL) {
		sign_compute(prev, ts, nonce, r->method, uri, bodyhash, want);
		ok = sign_equal(want, got);
	}
	if (!ok) {
		refuse(r, "bad_signature",
		    "The signature does not match this "
		    "request and the site's secret.");
		goto out;
	}
	r->site_id = db_get_i64(res, 0, 0);
	snprintf(r->site, sizeof(r->site), "%s", site);
	PQclear(res);
	res = DB_EXEC(r->db, &sql_site_nonce, db_i64(idbuf, r->site_id), nonce);
	if (res == NULL) {
		/* The site was removed since its secret was read. */
		if (db_error(r->db) == DB_FOREIGN_KEY)
			site_refuse_unknown(r);
		else
			http_db_error(r);
		goto out;
	}
	if (PQntuples(res) != 1) {
		refuse(r, "replayed",
		    "This nonce was already used: a request "
		    "is accepted once.");
		goto out;
	}
	rc = 0;
out:
	PQclear(res);
	return rc;
}
