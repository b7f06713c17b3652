/**
 * @file ratelimit.h
 * Per-key request limits, as each provider enforces them: a token bucket
 * (rate.h) for Altur, Burki and Kore.ai; a fixed one-minute window for
 * Truedy, whose 429 names the moment the window resets (reset_at).
 */
#ifndef CAMPAIGNFS_SIM_RATELIMIT_H
#define CAMPAIGNFS_SIM_RATELIMIT_H

#include "data.h"
#include "rate.h"

#include <pthread.h>

struct window {
    pthread_mutex_t lock;
    long limit;    /* requests per window, 0 = off */
    double length; /* seconds */
    double start;  /* monotonic start of the current window */
    long used;
};

struct limiter {
    double rate[SIM_NPROV]; /* requests per second, 0 = off */
    struct rate_bucket bucket[SIM_NPROV];
    struct window truedy;
};

/* The defaults: Altur 12/s, Burki 20/s, Truedy 100/min, Kore.ai off. */
void limiter_defaults(double rate[SIM_NPROV]);
/* Applies "PROVIDER=RATE" ("altur=5/s", "truedy=0").  0 or -1 with err. */
int limiter_parse_override(const char *arg, double rate[SIM_NPROV], char *err, size_t errlen);

void limiter_init(struct limiter *l, const double rate[SIM_NPROV]);
void limiter_destroy(struct limiter *l);

/* Takes one request's allowance for provider p: 0 if allowed; otherwise
 * -1 with *wait (seconds), *reset_at (Unix time when it will be allowed)
 * and *limit (requests per window, for the error body). */
int limiter_take(struct limiter *l, enum sim_prov p, double *wait, double *reset_at, long *limit);

#endif
