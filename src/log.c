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

size_t log_escape(char *out, size_t outlen, const char *in)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    if (!outlen)
        return 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 5 < outlen; p++) {
        if (*p < 0x20 || *p == 0x7f) {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else {
            out[o++] = (char)*p;
        }
    }
    out[o] = '\0';
    return o;
}

void lprintf(enum log_level level, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
    char raw[2048], msg[4 * sizeof(raw) + 1];
    va_list ap;

    if (level > log_level_cur)
        return;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    log_escape(msg, sizeof(msg),
               raw); /* text from servers: no control characters reach a terminal */
    if (log_syslog)
        syslog(prio[level], "%s", msg);
    else
        fprintf(stderr, "%s: %s: %s\n", log_ident, names[level], msg);
}
