/* uploads_janitor: a ticker thread that collects what nobody needs:
 * uploads never sent, PARLEY_UPLOAD_GRACE seconds after they were made,
 * with their files; and, at start and then once an hour, uploads whose
 * messages were all deleted or recalled (that long ago) and files that
 * no row names (left by a process killed between linking a file and
 * committing its row). A file is unlinked only under
 * its blob lock, after the database said no upload uses it, so a new
 * upload of the same bytes never loses its file. */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "ticker.h"
#include "uploads.h"

#define BATCH	    100
#define BATCHES	    20	 /* per tick: at most 2,000 uploads */
#define ORPHANS_MAX 1000 /* names per orphan query */

static void janitor_job(struct db *, unsigned long);
static void collect(struct db *, int);
static void orphans(struct db *);
static void orphans_batch(struct db *, char *, size_t);
static bool is_hex64(const char *, size_t);

static bool
is_hex64(const char *s, size_t n)
{
	size_t i;

	if (n != 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
			(s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* Unlinks each blob of a text[] ("{a,b,...}"; hex needs no quoting). */
static void
unlink_array(const char *arr)
{
	const char *s = arr, *e;

	if (*s++ != '{')
		return;
	while (*s != '\0' && *s != '}') {
		for (e = s; *e != ',' && *e != '}' && *e != '\0'; e++)
			;
		if (is_hex64(s, (size_t)(e - s))) {
			char hex[65];

			memcpy(hex, s, 64);
			hex[64] = '\0';
			upload_blob_unlink(hex);
		}
		s = *e == ',' ? e + 1 : e;
	}
}

/* `sent`: uploads whose messages went (hourly), else never-sent ones. */
static void
collect(struct db *db, int sent)
{
	char	  grace[24], batch[24];
	PGresult *res;
	long long n;
	int	  i;

	for (i = 0; i < BATCHES; i++) {
		if (db_begin(db) == -1)
			return;
		if ((res = DB_EXEC(db, &sql_collect,
			 db_i64(grace, uploads_config.grace),
			 db_i64(batch, BATCH), sent ? "true" : "false")) ==
		    NULL) {
			db_rollback(db);
			return;
		}
		n = db_get_i64(res, 0, 0);
		/* Inside the transaction: the blob locks are still held. */
		unlink_array(PQgetvalue(res, 0, 1));
		PQclear(res);
		if (db_commit(db) == -1)
			return;
		if (n > 0)
			log_info("collected %lld %s uploads", n,
			    sent ? "unreferenced" : "unsent");
		if (n < BATCH)
			return;
	}
}

/* names: NUL-separated hex names of files found on disk. */
static void
orphans_batch(struct db *db, char *arr, size_t len)
{
	PGresult   *res, *again;
	const char *hex;
	char	    one[70];
	int	    row;

	arr[len] = '}';
	arr[len + 1] = '\0';
	if ((res = DB_EXEC(db, &sql_orphans, arr)) == NULL)
		return;
	for (row = 0; row < PQntuples(res); row++) {
		hex = PQgetvalue(res, row, 0);
		if (!is_hex64(hex, strlen(hex)) || db_begin(db) == -1)
			continue;
		/* Under the lock, ask again: an upload may just have made
		 * a row for these bytes. */
		snprintf(one, sizeof(one), "{%s}", hex);
		PQclear(DB_EXEC(db, &sql_blob_lock, hex));
		if ((again = DB_EXEC(db, &sql_orphans, one)) != NULL &&
		    PQntuples(again) == 1 && upload_blob_unlink(hex) == 0)
			log_info("removed orphan file %s", hex);
		PQclear(again);
		db_commit(db);
	}
	PQclear(res);
}

static void
orphans(struct db *db)
{
	char	       path[PATH_MAX], sub[PATH_MAX + 8], *arr;
	DIR	      *top, *d;
	struct dirent *te, *e;
	struct stat    st;
	size_t	       len = 1, n = 0, cap = 2 + ORPHANS_MAX * 65 + 2;
	time_t	       old = time(NULL) - uploads_config.grace;

	snprintf(path, sizeof(path), "%s/blobs", uploads_config.dir);
	if ((top = opendir(path)) == NULL)
		return;
	if ((arr = malloc(cap)) == NULL)
		log_fatal("malloc: out of memory");
	arr[0] = '{';
	while ((te = readdir(top)) != NULL) {
		if (strlen(te->d_name) != 2 || te->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%.2s", path, te->d_name);
		if ((d = opendir(sub)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			if (!is_hex64(e->d_name, strlen(e->d_name)) ||
			    fstatat(dirfd(d), e->d_name, &st, 0) == -1 ||
			    !S_ISREG(st.st_mode) || st.st_ctime > old)
				continue;
			if (n > 0)
				arr[len++] = ',';
			memcpy(arr + len, e->d_name, 64);
			len += 64;
			if (++n == ORPHANS_MAX) {
				orphans_batch(db, arr, len);
				len = 1;
				n = 0;
			}
		}
		closedir(d);
	}
	closedir(top);
	if (n > 0)
		orphans_batch(db, arr, len);
	free(arr);
}

static void
janitor_job(struct db *db, unsigned long tick)
{
	unsigned long every =
	    (unsigned long)(3600 / uploads_config.gc_interval);

	collect(db, 0);
	if (tick % (every > 0 ? every : 1) == 0) {
		collect(db, 1);
		orphans(db);
	}
}

static struct ticker janitor = {
	.name = "upload janitor",
	.job = janitor_job,
};

void
uploads_janitor_start(void)
{
	janitor.interval_ms = uploads_config.gc_interval * 1000;
	ticker_start(&janitor);
}

void
uploads_janitor_stop(void)
{
	ticker_stop(&janitor);
}
