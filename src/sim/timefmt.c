/**
 * @file timefmt.c
 * Timestamp formatting and parsing (UTC only, via gmtime_r/timegm).
 */
#include "timefmt.h"

#include "prng.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

long long sim_base_time(uint64_t seed)
{
    /* Whole minutes, so that the clock reads well. */
    return SIM_EPOCH + (long long)(mix64(seed ^ 0x7157ULL) % (3 * 24 * 60)) * 60;
}

static struct tm utc(long long t)
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    return tm;
}

void fmt_iso(char *buf, size_t len, long long t)
{
    struct tm tm = utc(t);

    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void fmt_iso_frac(char *buf, size_t len, long long t, int digits, long frac)
{
    struct tm tm = utc(t);
    char base[SIM_TIME_SIZE];

    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%0*ldZ", base, digits, frac);
}

void fmt_naive(char *buf, size_t len, long long t)
{
    struct tm tm = utc(t);

    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void fmt_compact(char *buf, size_t len, long long t)
{
    struct tm tm = utc(t);

    strftime(buf, len, "%Y%m%dT%H%M%SZ", &tm);
}

static const char *skip_fraction(const char *p)
{
    if (*p != '.')
        return p;
    p++;
    while (*p >= '0' && *p <= '9')
        p++;
    return p;
}

static int parse_zone(const char *p, long long *offset)
{
    int zh, zm, n = 0;

    *offset = 0;
    if (*p == '\0' || strcmp(p, "Z") == 0)
        return 0;
    if ((*p != '+' && *p != '-') || sscanf(p + 1, "%2d:%2d%n", &zh, &zm, &n) != 2 || p[1 + n])
        return -1;
    *offset = (zh * 3600LL + zm * 60LL) * (*p == '-' ? -1 : 1);
    return 0;
}

int parse_iso(const char *text, long long *t)
{
    struct tm tm = {0};
    int n = 0, y, mo, d, h = 0, mi = 0, s = 0;
    long long offset;
    const char *p;

    if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        return -1;
    p = text + n;
    if (*p == 'T' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &h, &mi, &m) != 2 || m != 5)
            return -1;
        p += 1 + m;
        if (*p == ':' && (sscanf(p + 1, "%2d%n", &s, &m) != 1 || m != 2))
            return -1;
        if (*p == ':')
            p += 3;
        p = skip_fraction(p);
    }
    if (parse_zone(p, &offset) < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        s > 60)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    *t = (long long)timegm(&tm) - offset;
    return 0;
}
