/* webhooks_deliver: one round of deliveries with libcurl's multi
 * interface: every claimed row is in flight at once, so one slow receiver
 * costs one timeout per round, not one per row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "log.h"
#include "sign.h"
#include "webhooks.h"

struct delivery {
	int64_t			 id;
	int			 attempts;
	double			 age;		/* s since the event */
	const char		*type, *site, *secret, *url, *body;
	CURL			*easy;
	CURLU			*curlu;
	struct curl_slist	*headers;
	char			 error[CURL_ERROR_SIZE];
	CURLcode		 rc;
	int			 ready;		/* set up and added */
	int			 refused;	/* internal address refused */
};

static int	prepare(struct delivery *);
static void	finish(struct db *, struct delivery *);
static size_t	discard(char *, size_t, size_t, void *);

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

long
webhooks_backoff_ms(int attempts)
{
	double	ms = (double)webhooks_config.backoff_ms;
	int	i;

	for (i = 1; i < attempts && ms < 3600e3; i++)
		ms *= 2;
	if (ms > 3600e3)
		ms = 3600e3;
	/* +-20%, so receivers that failed together do not retry together. */
	ms *= 0.8 + 0.4 * (double)randombytes_uniform(1001) / 1000.0;
	return (long)ms;
}

/* The signed path is the path and query libcurl will send: both come from
 * the same parsed URL handle (CURLOPT_CURLU). */
static int
prepare(struct delivery *d)
{
	char	*path = NULL, *query = NULL, uri[4096], ts[24], line[160];
	char	 nonce[SIGN_NONCE_MAX + 1], bodyhash[SIGN_HEX], sig[SIGN_HEX];

	if ((d->easy = curl_easy_init()) == NULL ||
	    (d->curlu = curl_url()) == NULL)
		return -1;
	if (curl_url_set(d->curlu, CURLUPART_URL, d->url, 0) != CURLUE_OK) {
		snprintf(d->error, sizeof(d->error), "the URL cannot be parsed");
		return -1;
	}
	if (curl_url_get(d->curlu, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		path = NULL;
	if (curl_url_get(d->curlu, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
		query = NULL;
	snprintf(uri, sizeof(uri), "%s%s%s", path != NULL && *path != '\0' ?
	    path : "/", query != NULL ? "?" : "", query != NULL ? query : "");
	curl_free(path);
	curl_free(query);

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	sign_nonce_new(nonce);
	sign_body_hash(d->body, strlen(d->body), bodyhash);
	sign_compute(d->secret, ts, nonce, "POST", uri, bodyhash, sig);

	d->headers = curl_slist_append(d->headers,
	    "Content-Type: application/json");
	d->headers = curl_slist_append(d->headers, "Expect:");
	snprintf(line, sizeof(line), "X-Parley-Site: %s", d->site);
	d->headers = curl_slist_append(d->headers, line);
	snprintf(line, sizeof(line), "X-Parley-Timestamp: %s", ts);
	d->headers = curl_slist_append(d->headers, line);
	snprintf(line, sizeof(line), "X-Parley-Nonce: %s", nonce);
	d->headers = curl_slist_append(d->headers, line);
	snprintf(line, sizeof(line), "X-Parley-Signature: v1=%s", sig);
	d->headers = curl_slist_append(d->headers, line);
	snprintf(line, sizeof(line), "X-Parley-Event-Id: %lld",
	    (long long)d->id);
	d->headers = curl_slist_append(d->headers, line);
	snprintf(line, sizeof(line), "X-Parley-Event: %s", d->type);
	d->headers = curl_slist_append(d->headers, line);
	if (d->headers == NULL)
		return -1;

	curl_easy_setopt(d->easy, CURLOPT_CURLU, d->curlu);
	curl_easy_setopt(d->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(d->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(d->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(d->easy, CURLOPT_TIMEOUT, webhooks_config.timeout);
	curl_easy_setopt(d->easy, CURLOPT_CONNECTTIMEOUT,
	    webhooks_config.timeout);
	curl_easy_setopt(d->easy, CURLOPT_USERAGENT, "Parley-Webhooks/1");
	curl_easy_setopt(d->easy, CURLOPT_HTTPHEADER, d->headers);
	curl_easy_setopt(d->easy, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(d->easy, CURLOPT_POSTFIELDSIZE,
	    (long)strlen(d->body));
	curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(d->easy, CURLOPT_ERRORBUFFER, d->error);
	curl_easy_setopt(d->easy, CURLOPT_PRIVATE, d);
	curl_easy_setopt(d->easy, CURLOPT_OPENSOCKETFUNCTION,
	    webhooks_open_socket);
	curl_easy_setopt(d->easy, CURLOPT_OPENSOCKETDATA, &d->refused);
	return 0;
}

/* Records the attempt: delivered on 2xx; otherwise retried later, or
 * failed once the event is older than PARLEY_WEBHOOK_GIVE_UP. */
static void
finish(struct db *db, struct delivery *d)
{
	char		 id[24], status_s[24], wait_s[24], err[CURL_ERROR_SIZE + 32];
	const char	*state, *status = NULL;
	long		 code = 0, wait = 0;
	PGresult	*res;

	if (d->ready && d->rc == CURLE_OK)
		curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code <= 299) {
		state = "delivered";
		err[0] = '\0';
	} else {
		if (code != 0)
			snprintf(err, sizeof(err), "HTTP %ld", code);
		else if (d->refused)
			snprintf(err, sizeof(err), "refused: the webhook URL "
			    "leads to an internal address "
			    "(PARLEY_WEBHOOK_PRIVATE=deny)");
		else
			snprintf(err, sizeof(err), "%s", d->error[0] != '\0' ?
			    d->error : d->ready ? curl_easy_strerror(d->rc) :
			    "could not prepare the request");
		if (d->url == NULL) {
			snprintf(err, sizeof(err), "the site has no webhook URL");
			state = "failed";
		} else if (d->age >= (double)webhooks_config.give_up)
			state = "failed";
		else {
			state = "pending";
			wait = webhooks_backoff_ms(d->attempts);
		}
		log_info("delivery %lld (%s to site %s) attempt %d: %s%s",
		    (long long)d->id, d->type, d->site, d->attempts, err,
		    strcmp(state, "failed") == 0 ? "; giving up" : "");
	}
	if (code != 0)
		status = db_i64(status_s, code);
	res = DB_EXEC(db, &sql_finish, db_i64(id, d->id), state, status,
	    err[0] != '\0' ? err : NULL, db_i64(wait_s, wait));
	if (res == NULL)
		log_warn("delivery %lld: recording the attempt failed; it will "
		    "be retried when its lease ends", (long long)d->id);
	PQclear(res);
}

int
webhooks_round(struct db *db)
{
	char		 lim[24], lease[24];
	struct delivery	*ds;
	CURLM		*multi;
	CURLMsg		*msg;
	PGresult	*res;
	int		 i, n, running, left;

	/* Made before anything is claimed: it needs descriptors of its own,
	 * and running out of them must only delay this round. */
	if ((multi = curl_multi_init()) == NULL) {
		log_warn("curl_multi_init failed (out of descriptors or "
		    "memory?)");
		return -1;
	}
	res = DB_EXEC(db, &sql_claim, db_i64(lim, webhooks_config.batch),
	    db_i64(lease, webhooks_config.timeout * 2 + 30));
	if (res == NULL || (n = PQntuples(res)) == 0) {
		curl_multi_cleanup(multi);
		if (res == NULL)
			return -1;
		PQclear(res);
		return 0;
	}
	if ((ds = calloc((size_t)n, sizeof(*ds))) == NULL)
		log_fatal("calloc: out of memory");
	for (i = 0; i < n; i++) {
		ds[i].id = db_get_i64(res, i, 0);
		ds[i].attempts = (int)db_get_i64(res, i, 1);
		ds[i].age = strtod(PQgetvalue(res, i, 2), NULL);
		ds[i].type = db_get_str(res, i, 3);
		ds[i].site = db_get_str(res, i, 4);
		ds[i].secret = db_get_str(res, i, 5);
		ds[i].url = db_get_str(res, i, 6);
		ds[i].body = db_get_str(res, i, 7);
		if (ds[i].url != NULL && prepare(&ds[i]) == 0 &&
		    curl_multi_add_handle(multi, ds[i].easy) == CURLM_OK)
			ds[i].ready = 1;
	}
	do {
		if (curl_multi_perform(multi, &running) != CURLM_OK)
			break;
		if (running > 0 && curl_multi_poll(multi, NULL, 0, 1000,
		    NULL) != CURLM_OK)
			break;
	} while (running > 0);
	while ((msg = curl_multi_info_read(multi, &left)) != NULL) {
		struct delivery	*d;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&d);
		d->rc = msg->data.result;
	}
	for (i = 0; i < n; i++) {
		finish(db, &ds[i]);
		if (ds[i].ready)
			curl_multi_remove_handle(multi, ds[i].easy);
		if (ds[i].easy != NULL)
			curl_easy_cleanup(ds[i].easy);
		curl_url_cleanup(ds[i].curlu);
		curl_slist_free_all(ds[i].headers);
	}
	curl_multi_cleanup(multi);
	free(ds);
	PQclear(res);
	return n;
}

void
webhooks_purge(struct db *db)
{
	PGresult	*res;

	if ((res = db_exec(db, &sql_purge, 0, NULL)) == NULL)
		return;
	if (strcmp(PQgetvalue(res, 0, 0), "0") != 0 ||
	    strcmp(PQgetvalue(res, 0, 2), "0") != 0)
		log_info("purged %s old deliveries, %s nonces, %s tickets",
		    PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
		    PQgetvalue(res, 0, 2));
	PQclear(res);
}
