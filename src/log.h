/**
 * @file log.h
 * Leveled logging for campaignfs: to stderr in the foreground, to syslog
 * when daemonized, or to a file (-o logfile=) in either case.  Never pass a
 * credential to these functions.
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

/* "error", "warn" (or "warning"), "info", "debug" -> level; -1 if none. */
int log_level_parse(const char *text);
const char *log_level_name(enum log_level level);

/* From now on lines go to path (appended, each with its time), instead of
 * stderr or syslog.  0, or -errno. */
int log_open_file(const char *path);
/* Opens the log file again (after logrotate moved it); 0, or -errno (the
 * old one is kept). */
int log_reopen(void);
/* Lines go to syslog (true) or stderr (false), unless a log file is open. */
void log_use_syslog(bool use_syslog);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void lprintf(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) lprintf(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...)  lprintf(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  lprintf(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) lprintf(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
