/**
 * @file rate.c
 * Rate parsing and a token bucket (refilled continuously at `rate` tokens
 * per second, holding at most `capacity`).
 */
#include "rate.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

int rate_parse(const char *text, double *per_second)
{
    static const struct {
        const char *unit;
        double seconds;
    } units[] = {{"s", 1},       {"sec", 1},  {"second", 1}, {"min", 60},
                 {"minute", 60}, {"h", 3600}, {"hour", 3600}};
    char *end;
    double n;

    if (!text)
        return -1;
    while (*text == ' ' || *text == '\t')
        text++;
    errno = 0;
    n = strtod(text, &end);
    if (end == text || errno || !isfinite(n) || n < 0)
        return -1;
    while (*end == ' ')
        end++;
    if (*end == '\0') {
        *per_second = n;
        return 0;
    }
    if (*end != '/')
        return -1;
    end++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(end, units[i].unit) == 0) {
            *per_second = n / units[i].seconds;
            return 0;
        }
    }
    return -1;
}

void rate_format(double per_second, char *buf, size_t len)
{
    double per_min = per_second * 60;

    if (per_second <= 0)
        snprintf(buf, len, "0");
    else if (per_second == floor(per_second))
        snprintf(buf, len, "%.0f/s", per_second);
    else if (fabs(per_min - round(per_min)) < 1e-9)
        snprintf(buf, len, "%.0f/min", round(per_min));
    else
        snprintf(buf, len, "%.6g", per_second);
}

double rate_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void rate_bucket_init(struct rate_bucket *b, double per_second, double capacity)
{
    pthread_mutex_init(&b->lock, NULL);
    b->rate = per_second > 0 ? per_second : 0;
    if (capacity <= 0)
        capacity = b->rate >= 1 ? floor(b->rate) : 1;
    b->capacity = capacity;
    b->tokens = capacity;
    b->last = rate_now();
}

void rate_bucket_destroy(struct rate_bucket *b)
{
    pthread_mutex_destroy(&b->lock);
}

double rate_bucket_try_at(struct rate_bucket *b, double now)
{
    double wait = 0;

    if (b->rate <= 0)
        return 0;
    pthread_mutex_lock(&b->lock);
    if (now > b->last) {
        b->tokens = fmin(b->capacity, b->tokens + (now - b->last) * b->rate);
        b->last = now;
    }
    if (b->tokens >= 1)
        b->tokens -= 1;
    else
        wait = (1 - b->tokens) / b->rate;
    pthread_mutex_unlock(&b->lock);
    return wait;
}

double rate_bucket_try(struct rate_bucket *b)
{
    return rate_bucket_try_at(b, rate_now());
}

void rate_bucket_reset(struct rate_bucket *b, double now)
{
    pthread_mutex_lock(&b->lock);
    b->tokens = b->capacity;
    b->last = now;
    pthread_mutex_unlock(&b->lock);
}
