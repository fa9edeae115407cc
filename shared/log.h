/* log: one line per event on stderr, prefixed with time and service. */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

/* Sets the service name printed on every line. */
void	log_init(const char *service);
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Logs and exits(1): only for start-up errors and broken invariants. */
void	log_fatal(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
