/* poll_listen: the hub's LISTEN connection, which brings wake-up hints
 * (NOTIFY payloads of user ids, shared/notify.c) into the hub thread's
 * epoll. Apart from poll_hub.c because it is the hub's one link to
 * PostgreSQL: connecting, re-checking every parked poll after a
 * reconnect (hints may have been lost), and draining payloads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <libpq-fe.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"
#include "poll.h"
#include "poll_hub.h"

PGconn	     *hub_listen_conn;
struct metric hub_m_hints = METRIC_COUNTER("parley_poll_hints_total", NULL,
    "Wake-up hints received (NOTIFY payloads).");

void
hub_listen_connect(void)
{
	const char	  *keys[4], *vals[4];
	struct epoll_event ev;
	PGresult	  *res;

	db_conn_params(config.database_url, "poll-listen", keys, vals);
	hub_listen_conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(hub_listen_conn) != CONNECTION_OK)
		goto fail;
	res = PQexec(hub_listen_conn, "LISTEN " NOTIFY_CHANNEL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = PQsocket(hub_listen_conn);
	if (epoll_ctl(hub_epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) == -1) {
		log_warn("epoll_ctl listen: %s; trying again", strerror(errno));
		goto fail;
	}
	log_info("listening for event hints");
	pthread_mutex_lock(&hub_lock);
	hub_wake_all();
	pthread_mutex_unlock(&hub_lock);
	return;
fail:
	PQfinish(hub_listen_conn);
	hub_listen_conn = NULL;
}

void
hub_listen_drain(void)
{
	PGnotify *n;
	char	 *p, *end;
	long long id;

	if (!PQconsumeInput(hub_listen_conn) ||
	    PQstatus(hub_listen_conn) != CONNECTION_OK) {
		log_warn("LISTEN connection lost: %s",
		    PQerrorMessage(hub_listen_conn));
		(void)epoll_ctl(hub_epfd, EPOLL_CTL_DEL,
		    PQsocket(hub_listen_conn), NULL);
		PQfinish(hub_listen_conn);
		hub_listen_conn = NULL;
		return;
	}
	pthread_mutex_lock(&hub_lock);
	while ((n = PQnotifies(hub_listen_conn)) != NULL) {
		metric_add(&hub_m_hints, 1);
		for (p = n->extra; *p != '\0'; p = *end ? end + 1 : end) {
			id = strtoll(p, &end, 10);
			if (end == p)
				break;
			if (id > 0)
				hub_wake_user(id);
		}
		PQfreemem(n);
	}
	pthread_mutex_unlock(&hub_lock);
}
