/* webhooks_error: what a site is told about a failed attempt (last_error
 * in GET /server/webhook/deliveries). Only what it needs to fix its
 * receiver: libcurl's own text would tell a closed port from a filtered
 * one or an HTTP service, and name hosts, which turns the deliveries API
 * into a port scanner. The log keeps libcurl's text for the operator. */
#include "webhooks.h"

const char *
webhooks_error_text(CURLcode rc, int refused)
{
	/* Refused before connecting, whatever libcurl made of it. */
	if (refused)
		return "refused: internal address";
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_USE_SSL_FAILED:
		return "TLS failed";
	default:
		return "connection failed";
	}
}
