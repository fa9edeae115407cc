/* accounts_throttle: logins and registrations are counted per key in the
 * database (sql/015_throttle_attempts.sql), so every accounts process
 * shares the counts. An attempt is counted, or refused, in one statement
 * before the password is looked at, so concurrent guesses cannot overtake
 * the count. Login keys: the username from anywhere ("u:", a high ceiling),
 * the username from this address ("p:", the low limit: an attacker's
 * failures do not lock the owner out elsewhere) and the address ("a:");
 * registrations: the address ("r:"). An address is its addr_bucket (an
 * IPv6 one counts as its /64). */
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "addr.h"
#include "config.h"
#include "log.h"

static int  array(char *, size_t, const char *const *, int);
static long take(struct db *, struct throttle *, const int *);
static void settle(struct db *, struct throttle *, int);

/* A PostgreSQL array literal of `n` strings. Keys hold only [a-z0-9_.-],
 * the address characters [0-9a-f.:/?] and the ':' and '@' added here, so
 * double quotes need no escaping inside. Returns 0, or -1 if it does not
 * fit. */
static int
array(char *out, size_t len, const char *const *items, int n)
{
	size_t off;
	int    i, w;

	off = 0;
	out[off++] = '{';
	for (i = 0; i < n; i++) {
		w = snprintf(out + off, len - off, "%s\"%s\"", i > 0 ? "," : "",
		    items[i]);
		if (w < 0 || (size_t)w >= len - off)
			return -1;
		off += (size_t)w;
	}
	if (off + 2 > len)
		return -1;
	out[off++] = '}';
	out[off] = '\0';
	return 0;
}

static long
take(struct db *db, struct throttle *t, const int *limits)
{
	const char *keys[THROTTLE_KEYS];
	char	    ka[THROTTLE_KEYS * (THROTTLE_KEY_MAX + 3) + 3];
	char	    la[THROTTLE_KEYS * 12 + 3], win[24];
	PGresult   *res;
	long	    wait = 0;
	int	    i, off = 0;

	for (i = 0; i < t->n; i++)
		keys[i] = t->keys[i];
	if (array(ka, sizeof(ka), keys, t->n) == -1)
		log_fatal("throttle: keys do not fit"); /* sized above */
	la[off++] = '{';
	for (i = 0; i < t->n; i++)
		off += snprintf(la + off, sizeof(la) - (size_t)off, "%s%d",
		    i > 0 ? "," : "", limits[i]);
	snprintf(la + off, sizeof(la) - (size_t)off, "}");
	if ((res = DB_EXEC(db, &sql_throttle_take, ka, la,
		 db_i64(win, t->window))) == NULL)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		wait = (long)db_get_i64(res, 0, 0);
	PQclear(res);
	if (wait > 0)
		t->n = 0; /* nothing was counted: nothing to give back */
	return wait > 0 ? wait : 0;
}

long
throttle_login_take(struct db *db, struct throttle *t, const char *user,
    const char *addr)
{
	char	  bucket[ADDR_BUCKET_MAX];
	const int limits[3] = { config.login_fails_user,
		config.login_fails_user_ip, config.login_fails_ip };

	(void)addr_bucket(addr, bucket);
	/* A username is at most 32 characters: every key fits. The pair
	 * is key 1: throttle_login_ok forgets it. */
	snprintf(t->keys[0], THROTTLE_KEY_MAX, "u:%s", user);
	snprintf(t->keys[1], THROTTLE_KEY_MAX, "p:%s@%s", user, bucket);
	snprintf(t->keys[2], THROTTLE_KEY_MAX, "a:%s", bucket);
	t->n = 3;
	t->window = config.login_window;
	return take(db, t, limits);
}

long
throttle_register_take(struct db *db, struct throttle *t, const char *addr)
{
	char	  bucket[ADDR_BUCKET_MAX];
	const int limits[1] = { config.register_per_ip };

	t->n = 0;
	if (config.register_per_ip == 0)
		return 0;
	(void)addr_bucket(addr, bucket);
	snprintf(t->keys[0], THROTTLE_KEY_MAX, "r:%s", bucket);
	t->n = 1;
	t->window = config.register_window;
	return take(db, t, limits);
}

/* Gives back every counted key but `clear` (-1: none), which is forgotten. */
static void
settle(struct db *db, struct throttle *t, int clear)
{
	const char *keys[THROTTLE_KEYS], *gone[1];
	char	    ka[THROTTLE_KEYS * (THROTTLE_KEY_MAX + 3) + 3];
	char	    ga[THROTTLE_KEY_MAX + 8];
	int	    i, n = 0, ngone = 0;

	if (t->n == 0)
		return;
	for (i = 0; i < t->n; i++) {
		if (i == clear)
			gone[ngone++] = t->keys[i];
		else
			keys[n++] = t->keys[i];
	}
	t->n = 0;
	if (array(ka, sizeof(ka), keys, n) == -1 ||
	    array(ga, sizeof(ga), gone, ngone) == -1)
		log_fatal("throttle: keys do not fit"); /* sized above */
	/* Best effort: a lost give-back only leaves a count one too high. */
	PQclear(DB_EXEC(db, &sql_throttle_return, ka, ga));
}

void
throttle_login_ok(struct db *db, struct throttle *t)
{
	settle(db, t, 1);
}

void
throttle_give_back(struct db *db, struct throttle *t)
{
	settle(db, t, -1);
}
