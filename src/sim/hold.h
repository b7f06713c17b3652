/**
 * @file hold.h
 * Requests that wait: the ones held back by a POST /_sim/hold rule until
 * POST /_sim/release (or HOLD_MAX_MS, or shutdown), and the --latency-ms
 * and slow-fault sleeps.  Waiting blocks the connection's own thread on a
 * condition variable; hold_stop() at shutdown wakes every waiter and makes
 * later waits return at once, so the daemon's threads can be joined.
 */
#ifndef CAMPAIGNFS_SIM_HOLD_H
#define CAMPAIGNFS_SIM_HOLD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

/* The longest a request is held: then it is answered anyway. */
#define HOLD_MAX_MS (120 * 1000L)

struct hold_waiter;

struct hold_rule {
    struct hold_rule *next;
    char *match;                 /* substring of "METHOD /path?query[ body]" */
    long left;                   /* requests it may still hold; -1: no limit */
    struct hold_waiter *waiters; /* the requests it holds now */
};

struct holds {
    pthread_mutex_t lock;
    pthread_cond_t cond;     /* broadcast on release and stop */
    struct hold_rule *rules; /* in the order they were added */
    unsigned long held;      /* requests held now */
    atomic_int nrules;       /* read without the lock: no rules, no text to build */
    bool stopping;
};

int holds_init(struct holds *h);
/* Frees the rules; no request may be waiting any more. */
void holds_destroy(struct holds *h);

/* Adds a rule holding up to count matching requests (-1: all).  0 or -1. */
int hold_add(struct holds *h, const char *match, long count);
/* Whether any rule is in force (a hint, read without the lock). */
bool hold_active(struct holds *h);
/* Holds the calling request if text matches a rule that may still hold
 * one: returns once it is released, after HOLD_MAX_MS, or at shutdown.
 * Returns whether it was held. */
bool hold_wait(struct holds *h, const char *text);
/* Releases the requests held by the rules whose match is match (NULL: by
 * every rule) and removes those rules.  Returns how many were released. */
unsigned long hold_release(struct holds *h, const char *match);
/* Requests held now. */
unsigned long hold_count(struct holds *h);

/* A condition variable on CLOCK_MONOTONIC (for hold_deadline()).  0 or -1. */
int hold_cond_init(pthread_cond_t *cond);
/* The CLOCK_MONOTONIC time ms milliseconds from now, for a timed wait. */
struct timespec hold_deadline(long ms);

/* Sleeps ms milliseconds, or less if the simulator stops meanwhile. */
void hold_sleep_ms(struct holds *h, long ms);
/* Wakes every waiter for good: held requests go on, sleeps end. */
void hold_stop(struct holds *h);

#endif
