/**
 * @file log.c
 * Leveled logging: one line per message, prefixed with the program name and
 * level, to stderr or syslog.  Thread safe (one fprintf/syslog per line).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static const char *log_ident = "campaignfs";
static enum log_level log_level_cur = LOG_LVL_INFO;
static bool log_syslog;

void log_init(const char *ident, enum log_level level, bool use_syslog)
{
    log_ident = ident;
    log_level_cur = level;
    log_syslog = use_syslog;
    if (use_syslog)
        openlog(ident, LOG_PID, LOG_DAEMON);
}

void log_set_level(enum log_level level)
{
    log_level_cur = level;
}

enum log_level log_get_level(void)
{
    return log_level_cur;
}

void lprintf(enum log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char msg[2048];
    va_list ap;

    if (level > log_level_cur)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (log_syslog)
        syslog(prio[level], "%s", msg);
    else
        fprintf(stderr, "%s: %s: %s\n", log_ident, names[level], msg);
}
