/**
 * @file log.c
 * Leveled logging: one line per message, prefixed with the program name and
 * level (and, in a log file, the time and pid), to stderr, syslog or a file.
 * Thread safe (one write per line; the file is swapped under a lock).
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "campaignfs";
static _Atomic enum log_level log_level_cur = LOG_LVL_INFO;
static bool log_syslog;
static pthread_mutex_t log_file_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_file;
static char *log_file_path;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void log_init(const char *ident, enum log_level level, bool use_syslog)
{
    log_ident = ident;
    log_level_cur = level;
    log_syslog = use_syslog;
    if (use_syslog)
        openlog(ident, LOG_PID, LOG_DAEMON);
}

void log_use_syslog(bool use_syslog)
{
    if (use_syslog && !log_syslog)
        openlog(log_ident, LOG_PID, LOG_DAEMON);
    log_syslog = use_syslog;
}

int log_level_parse(const char *text)
{
    static const char *const accepted[] = {"error", "warn", "info", "debug"};

    for (int i = 0; i <= LOG_LVL_DEBUG; i++)
        if (strcasecmp(text, accepted[i]) == 0 || strcasecmp(text, level_names[i]) == 0)
            return i;
    return -1;
}

const char *log_level_name(enum log_level level)
{
    return level_names[level];
}

static FILE *open_append(const char *path)
{
    FILE *f = fopen(path, "ae");

    if (f)
        setvbuf(f, NULL, _IOLBF, 0);
    return f;
}

int log_open_file(const char *path)
{
    FILE *f = open_append(path);
    char *copy = strdup(path);

    if (!f || !copy) {
        int err = f ? ENOMEM : errno;
        if (f)
            fclose(f);
        free(copy);
        return -err;
    }
    pthread_mutex_lock(&log_file_lock);
    if (log_file)
        fclose(log_file);
    free(log_file_path);
    log_file = f;
    log_file_path = copy;
    pthread_mutex_unlock(&log_file_lock);
    return 0;
}

int log_reopen(void)
{
    FILE *f;
    int rc = 0;

    pthread_mutex_lock(&log_file_lock);
    if (log_file_path) {
        f = open_append(log_file_path);
        if (f) {
            fclose(log_file);
            log_file = f;
        } else {
            rc = -errno;
        }
    }
    pthread_mutex_unlock(&log_file_lock);
    return rc;
}

/* One line into the log file, with its time: true if there is a log file. */
static bool to_file(enum log_level level, const char *msg)
{
    struct timespec now;
    struct tm tm;
    char when[40];
    bool done = false;

    pthread_mutex_lock(&log_file_lock);
    if (log_file) {
        clock_gettime(CLOCK_REALTIME, &now);
        localtime_r(&now.tv_sec, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        fprintf(log_file, "%s.%03ld %s[%ld]: %s: %s\n", when, now.tv_nsec / 1000000, log_ident,
                (long)getpid(), level_names[level], msg);
        done = true;
    }
    pthread_mutex_unlock(&log_file_lock);
    return done;
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
    if (to_file(level, msg))
        return;
    if (log_syslog)
        syslog(prio[level], "%s", msg);
    else
        fprintf(stderr, "%s: %s: %s\n", log_ident, level_names[level], msg);
}
