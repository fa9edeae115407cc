/* notify: a queue of comma-separated user ids guarded by a mutex; the
 * thread swaps it out and sends it in chunks under the 8000-byte NOTIFY
 * payload limit. Under load many sends share one NOTIFY. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"

#define CHUNK	  7000
#define QUEUE_MAX (4 * 1024 * 1024) /* drop hints past this */

static const struct db_stmt st_notify = { "notify_send",
	"SELECT pg_notify('" NOTIFY_CHANNEL "', $1)" };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t  cond = PTHREAD_COND_INITIALIZER;
static char	      *queue;
static size_t	       qlen, qcap;
static int	       running, stopping;
static pthread_t       thread;

static void *notifier(void *);
static void  send_chunks(struct db *, char *, size_t);

void
notify_users(const char *arr)
{
	size_t len;

	if (arr == NULL || arr[0] != '{')
		return;
	arr++;
	len = strlen(arr);
	if (len > 0 && arr[len - 1] == '}')
		len--;
	if (len == 0)
		return;
	pthread_mutex_lock(&lock);
	if (qlen + len + 1 > QUEUE_MAX) {
		pthread_mutex_unlock(&lock);
		log_warn("notify queue full: hint dropped (pollers time out)");
		return;
	}
	if (qlen + len + 2 > qcap) {
		qcap = (qlen + len + 2) * 2;
		if ((queue = realloc(queue, qcap)) == NULL)
			log_fatal("realloc: out of memory");
	}
	if (qlen > 0)
		queue[qlen++] = ',';
	memcpy(queue + qlen, arr, len);
	qlen += len;
	queue[qlen] = '\0';
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
}

static struct metric m_hints = METRIC_COUNTER("parley_notify_hints_total", NULL,
    "NOTIFY statements sent (each names the users "
    "whose streams changed).");

/* Splits at commas so no payload exceeds CHUNK bytes. */
static void
send_chunks(struct db *db, char *buf, size_t len)
{
	size_t start = 0, end;

	while (start < len) {
		end = start + CHUNK < len ? start + CHUNK : len;
		if (end < len)
			while (end > start && buf[end] != ',')
				end--;
		if (end == start)
			end = len; /* cannot happen with numeric ids */
		buf[end] = '\0';
		PQclear(DB_EXEC(db, &st_notify, buf + start));
		metric_add(&m_hints, 1);
		start = end + 1;
	}
}

static void *
notifier(void *arg)
{
	struct db *db = db_new();
	char	  *batch = NULL;
	size_t	   len;

	(void)arg;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (qlen == 0 && !stopping)
			pthread_cond_wait(&cond, &lock);
		if (qlen == 0 && stopping)
			break;
		batch = queue;
		len = qlen;
		queue = NULL;
		qlen = qcap = 0;
		pthread_mutex_unlock(&lock);
		send_chunks(db, batch, len);
		free(batch);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	db_free(db);
	return NULL;
}

void
notify_start(void)
{
	if (running)
		return;
	if (pthread_create(&thread, NULL, notifier, NULL) != 0)
		log_fatal("pthread_create failed");
	running = 1;
}

void
notify_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	running = 0;
	free(queue);
	queue = NULL;
	qlen = qcap = 0;
}
