/* webhooks_deliver: one delivery: its copy of the claimed row, the signed
 * request libcurl sends (webhooks_loop.c runs many at once), and the
 * record of how the attempt went. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <sodium.h>

#include "log.h"
#include "sign.h"
#include "webhooks.h"

static int    target_check(struct webhooks_delivery *);
static size_t discard(char *, size_t, size_t, void *);

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

struct webhooks_delivery *
webhooks_delivery_new(const PGresult *res, int row)
{
	struct webhooks_delivery *d;
	char			 *p;
	size_t			  len[5], total = 0;
	int			  i;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		log_fatal("calloc: out of memory");
	d->id = db_get_i64(res, row, 0);
	d->attempts = (int)db_get_i64(res, row, 1);
	d->age = strtod(PQgetvalue(res, row, 2), NULL);
	/* type, site, secret, url (may be NULL), body: one block. */
	for (i = 0; i < 5; i++)
		total += (len[i] = (size_t)PQgetlength(res, row, 3 + i)) + 1;
	if ((d->strings = p = malloc(total)) == NULL)
		log_fatal("malloc: out of memory");
	for (i = 0; i < 5; i++) {
		char **f[] = { &d->type, &d->site, &d->secret, &d->url,
			&d->body };

		if (PQgetisnull(res, row, 3 + i))
			*f[i] = NULL;
		else
			*f[i] = memcpy(p, PQgetvalue(res, row, 3 + i), len[i]);
		p[len[i]] = '\0';
		p += len[i] + 1;
	}
	return d;
}

void
webhooks_delivery_free(struct webhooks_delivery *d)
{
	if (d == NULL)
		return;
	if (d->easy != NULL)
		curl_easy_cleanup(d->easy);
	curl_url_cleanup(d->curlu);
	curl_slist_free_all(d->headers);
	free(d->strings);
	free(d);
}

long
webhooks_backoff_ms(int attempts)
{
	double ms = (double)webhooks_config.backoff_ms;
	int    i;

	for (i = 1; i < attempts && ms < 3600e3; i++)
		ms *= 2;
	if (ms > 3600e3)
		ms = 3600e3;
	/* +-20%, so receivers that failed together do not retry together. */
	ms *= 0.8 + 0.4 * (double)randombytes_uniform(1001) / 1000.0;
	return (long)ms;
}

/* Through a proxy the open-socket check sees the proxy's address, so with
 * internal addresses refused the target host is resolved and checked
 * here. The proxy resolves it again: a DNS answer that changes in between
 * is for the proxy's own rules to stop (README, PARLEY_WEBHOOK_PROXY). */
static int
target_check(struct webhooks_delivery *d)
{
	char *host = NULL;
	int   r;

	if (webhooks_config.proxy == NULL || !webhooks_config.deny_private)
		return 0;
	if (curl_url_get(d->curlu, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		d->why = "invalid URL";
		return -1;
	}
	r = webhooks_host_internal(host);
	if (r != 0)
		snprintf(d->error, sizeof(d->error), "%s %s", host,
		    r == 1 ? "resolves to an internal address" :
			     "does not resolve");
	curl_free(host);
	if (r == 1) {
		d->refused = 1;
		d->why = "refused: internal address";
	} else if (r == -1)
		d->why = "connection failed";
	return r == 0 ? 0 : -1;
}

/* The signed path is the path and query libcurl will send: both come from
 * the same parsed URL handle (CURLOPT_CURLU). */
int
webhooks_delivery_start(struct webhooks_delivery *d)
{
	char *path = NULL, *query = NULL, uri[4096], ts[24], line[160];
	char  nonce[SIGN_NONCE_MAX + 1], bodyhash[SIGN_HEX], sig[SIGN_HEX];

	if (d->url == NULL) {
		d->why = "no webhook URL";
		return -1;
	}
	d->why = "dispatcher error";
	if ((d->easy = curl_easy_init()) == NULL ||
	    (d->curlu = curl_url()) == NULL)
		return -1;
	if (curl_url_set(d->curlu, CURLUPART_URL, d->url, 0) != CURLUE_OK) {
		d->why = "invalid URL";
		return -1;
	}
	if (target_check(d) == -1)
		return -1;
	if (curl_url_get(d->curlu, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		path = NULL;
	if (curl_url_get(d->curlu, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
		query = NULL;
	snprintf(uri, sizeof(uri), "%s%s%s",
	    path != NULL && *path != '\0' ? path : "/",
	    query != NULL ? "?" : "", query != NULL ? query : "");
	curl_free(path);
	curl_free(query);

	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	sign_nonce_new(nonce);
	sign_body_hash(d->body, strlen(d->body), bodyhash);
	sign_compute(d->secret, ts, nonce, "POST", uri, bodyhash, sig);

	d->headers =
	    curl_slist_append(d->headers, "Content-Type: application/json");
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
	/* http_proxy, https_proxy, all_proxy and no_proxy in the environment
	 * are ignored: "" turns the proxy off, and PARLEY_WEBHOOK_PROXY takes
	 * every delivery, whatever no_proxy says. */
	curl_easy_setopt(d->easy, CURLOPT_PROXY,
	    webhooks_config.proxy != NULL ? webhooks_config.proxy : "");
	curl_easy_setopt(d->easy, CURLOPT_NOPROXY, "");
	curl_easy_setopt(d->easy, CURLOPT_TIMEOUT, webhooks_config.timeout);
	curl_easy_setopt(d->easy, CURLOPT_CONNECTTIMEOUT,
	    webhooks_config.timeout);
	curl_easy_setopt(d->easy, CURLOPT_USERAGENT, "Parley-Webhooks/1");
	curl_easy_setopt(d->easy, CURLOPT_HTTPHEADER, d->headers);
	curl_easy_setopt(d->easy, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(d->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(d->body));
	curl_easy_setopt(d->easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(d->easy, CURLOPT_ERRORBUFFER, d->error);
	curl_easy_setopt(d->easy, CURLOPT_PRIVATE, d);
	curl_easy_setopt(d->easy, CURLOPT_OPENSOCKETFUNCTION,
	    webhooks_open_socket);
	curl_easy_setopt(d->easy, CURLOPT_OPENSOCKETDATA, &d->refused);
	d->why = NULL;
	return 0;
}

void
webhooks_delivery_finish(struct db *db, struct webhooks_delivery *d,
    CURLcode rc)
{
	char	    id[24], status_s[24], wait_s[24], backoff_s[24], err[32];
	const char *state, *status = NULL, *detail = "";
	long	    code = 0, wait = 0;
	int	    strike = 1;
	PGresult   *res;

	if (d->why == NULL && rc == CURLE_OK)
		curl_easy_getinfo(d->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code >= 200 && code <= 299) {
		state = "delivered";
		err[0] = '\0';
	} else {
		/* The site is told only the coarse reason; the log has
		 * libcurl's own words. */
		if (code != 0)
			snprintf(err, sizeof(err), "HTTP %ld", code);
		else if (d->why != NULL) {
			snprintf(err, sizeof(err), "%s", d->why);
			/* Not the receiver's failure: no strike for its site. */
			strike = d->url != NULL &&
			    strcmp(d->why, "dispatcher error") != 0;
		} else
			snprintf(err, sizeof(err), "%s",
			    webhooks_error_text(rc, d->refused));
		if (code == 0)
			detail = d->error[0] != '\0' ? d->error :
			    d->why == NULL	     ? curl_easy_strerror(rc) :
						       "";
		if (d->url == NULL)
			state = "failed";
		else if (d->age >= (double)webhooks_config.give_up)
			state = "failed";
		else {
			state = "pending";
			wait = webhooks_backoff_ms(d->attempts);
		}
		log_info("delivery %lld (%s to site %s) attempt %d: %s%s%s%s%s",
		    (long long)d->id, d->type, d->site, d->attempts, err,
		    *detail != '\0' ? " (" : "", detail,
		    *detail != '\0' ? ")" : "",
		    strcmp(state, "failed") == 0 ? "; giving up" : "");
	}
	if (code != 0)
		status = db_i64(status_s, code);
	res = DB_EXEC(db, &sql_finish, db_i64(id, d->id), state, status,
	    err[0] != '\0' ? err : NULL, db_i64(wait_s, wait),
	    strike ? "true" : "false",
	    db_i64(backoff_s, webhooks_config.backoff_ms));
	if (res == NULL)
		log_warn("delivery %lld: recording the attempt failed; it will "
			 "be retried when its lease ends",
		    (long long)d->id);
	PQclear(res);
}
