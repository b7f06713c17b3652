/**
 * @file log.h
 * Leveled logging for campaignfs: to stderr in the foreground, to syslog
 * when daemonized.  Never pass a credential to these functions.
 */
#ifndef CAMPAIGNFS_LOG_H
#define CAMPAIGNFS_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Copies in to out with control characters escaped as \xNN, truncated to
 * outlen; returns the length written.  Every log line goes
 * through it: messages carry text from servers. */
size_t log_escape(char *out, size_t outlen, const char *in);

void log_init(const char *ident, enum log_level level, bool use_syslog);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void lprintf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) lprintf(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  lprintf(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  lprintf(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) lprintf(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
