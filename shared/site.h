/* site: authentication of server-to-server requests from a site's backend
 * (README "Request signing"): the X-Parley-* headers, the HMAC over the
 * request, the timestamp window and the nonce that may not come twice. */
#ifndef PARLEY_SITE_H
#define PARLEY_SITE_H

struct http_req;

/* Verifies the request's signature. Sets r->site_id and r->site and
 * returns 0, or replies 401 (signature_required, unknown_site,
 * request_expired, bad_signature, replayed), 400/413 (body) or 503 and
 * returns -1. Reads the body (http_body_json reuses it). */
int site_auth_request(struct http_req *);

/* Replies 401 unknown_site, as site_auth_request() does for a site that
 * does not exist: for a handler that finds the site removed meanwhile. */
void site_refuse_unknown(struct http_req *);

#endif
