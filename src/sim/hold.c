/**
 * @file hold.c
 * Hold rules and waiting.  One mutex and one condition variable (on the
 * monotonic clock) for all waiters: holds are rare, wake-ups are a release
 * or the stop, and a sleeper woken early just waits again until its time.
 */
#include "hold.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct hold_waiter {
    struct hold_waiter *next;
    bool released;
};

int hold_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attr;
    int rc;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    rc = pthread_cond_init(cond, &attr);
    pthread_condattr_destroy(&attr);
    return rc == 0 ? 0 : -1;
}

int holds_init(struct holds *h)
{
    h->rules = NULL;
    h->held = 0;
    h->stopping = false;
    atomic_store(&h->nrules, 0);
    if (pthread_mutex_init(&h->lock, NULL) != 0)
        return -1;
    if (hold_cond_init(&h->cond) < 0) {
        pthread_mutex_destroy(&h->lock);
        return -1;
    }
    return 0;
}

static void rule_free(struct hold_rule *r)
{
    free(r->match);
    free(r);
}

void holds_destroy(struct holds *h)
{
    while (h->rules) {
        struct hold_rule *r = h->rules;
        h->rules = r->next;
        rule_free(r);
    }
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
}

int hold_add(struct holds *h, const char *match, long count)
{
    struct hold_rule *r = calloc(1, sizeof(*r)), **end;

    if (!r)
        return -1;
    r->match = strdup(match);
    if (!r->match) {
        free(r);
        return -1;
    }
    r->left = count;
    pthread_mutex_lock(&h->lock);
    for (end = &h->rules; *end; end = &(*end)->next) {
    }
    *end = r;
    atomic_fetch_add(&h->nrules, 1);
    pthread_mutex_unlock(&h->lock);
    return 0;
}

bool hold_active(struct holds *h)
{
    return atomic_load(&h->nrules) > 0;
}

/* The first rule that matches text and may still hold a request. */
static struct hold_rule *rule_for(struct holds *h, const char *text)
{
    for (struct hold_rule *r = h->rules; r; r = r->next) {
        if (r->left != 0 && strstr(text, r->match))
            return r;
    }
    return NULL;
}

struct timespec hold_deadline(long ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000L;
    if (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

static void unlink_waiter(struct hold_rule *r, struct hold_waiter *w)
{
    for (struct hold_waiter **p = &r->waiters; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            return;
        }
    }
}

bool hold_wait(struct holds *h, const char *text)
{
    struct hold_waiter w = {NULL, false};
    struct hold_rule *r;
    struct timespec until = hold_deadline(HOLD_MAX_MS);

    pthread_mutex_lock(&h->lock);
    r = h->stopping ? NULL : rule_for(h, text);
    if (!r) {
        pthread_mutex_unlock(&h->lock);
        return false;
    }
    if (r->left > 0)
        r->left--;
    w.next = r->waiters;
    r->waiters = &w;
    h->held++;
    while (!w.released && !h->stopping) {
        if (pthread_cond_timedwait(&h->cond, &h->lock, &until) == ETIMEDOUT)
            break;
    }
    /* Not released: the rule is still there (release unlinks its waiters). */
    if (!w.released) {
        unlink_waiter(r, &w);
        h->held--;
    }
    pthread_mutex_unlock(&h->lock);
    return true;
}

unsigned long hold_release(struct holds *h, const char *match)
{
    unsigned long n = 0;

    pthread_mutex_lock(&h->lock);
    for (struct hold_rule **p = &h->rules; *p;) {
        struct hold_rule *r = *p;
        if (match && strcmp(r->match, match) != 0) {
            p = &r->next;
            continue;
        }
        for (struct hold_waiter *w = r->waiters; w; w = w->next) {
            w->released = true;
            n++;
        }
        *p = r->next;
        rule_free(r);
        atomic_fetch_sub(&h->nrules, 1);
    }
    h->held -= n;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
    return n;
}

unsigned long hold_count(struct holds *h)
{
    unsigned long n;

    pthread_mutex_lock(&h->lock);
    n = h->held;
    pthread_mutex_unlock(&h->lock);
    return n;
}

void hold_sleep_ms(struct holds *h, long ms)
{
    struct timespec until;

    if (ms <= 0)
        return;
    until = hold_deadline(ms);
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        if (pthread_cond_timedwait(&h->cond, &h->lock, &until) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&h->lock);
}

void hold_stop(struct holds *h)
{
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_broadcast(&h->cond);
    pthread_mutex_unlock(&h->lock);
}
