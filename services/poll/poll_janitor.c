/* poll_janitor: the poll service owns two timed jobs: taking users offline
 * whose devices stopped polling (friends get presence events), and pruning
 * events past the retention time. */
#include <pthread.h>
#include <time.h>

#include "log.h"
#include "notify.h"
#include "poll.h"

static pthread_mutex_t	 lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 cond = PTHREAD_COND_INITIALIZER;
static int		 stopping;
static pthread_t	 thread;

static void *
janitor_main(void *arg)
{
	struct db	*db = db_new();
	struct timespec	 ts;
	PGresult	*res;
	char		 win[24], keep[24], batch[24];
	long		 online = poll_config.online_window;
	long		 retention = poll_config.retention;
	int		 tick = 0;

	(void)arg;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 2;
		pthread_cond_timedwait(&cond, &lock, &ts);
		if (stopping)
			break;
		pthread_mutex_unlock(&lock);
		res = DB_EXEC(db, &sql_presence_sweep, db_i64(win, online));
		if (res != NULL)
			notify_users(db_get_str(res, 0, 0));
		PQclear(res);
		if (tick++ % 30 == 0) {
			res = DB_EXEC(db, &sql_prune, db_i64(keep, retention),
			    db_i64(batch, 50000));
			if (res != NULL && db_get_i64(res, 0, 0) > 0)
				log_info("pruned %s events older than %ld s",
				    PQgetvalue(res, 0, 0), retention);
			PQclear(res);
		}
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	db_free(db);
	return NULL;
}

void
janitor_start(void)
{
	if (pthread_create(&thread, NULL, janitor_main, NULL) != 0)
		log_fatal("pthread_create failed");
}

void
janitor_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
}
