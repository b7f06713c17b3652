/**
 * @file cache.c
 * The cache policy.  A listing is fresh until `expires`; past that it is
 * still shown for max_stale seconds while one refresh runs; a failed load
 * keeps what was there and waits a backoff (doubling from one TTL-scaled
 * step, up to five minutes) before the next attempt.
 */
#include "cache.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fetch.h"

#define BACKOFF_MAX_SECS 300.0

void cache_init(struct cache *c)
{
    memset(c, 0, sizeof(*c));
    c->total = -1;
    pthread_mutex_init(&c->lock, NULL);
}

void cache_destroy(struct cache *c)
{
    listing_unref(c->value);
    listing_unref(c->prev);
    free(c->error_message);
    free(c->url);
    pthread_mutex_destroy(&c->lock);
    memset(c, 0, sizeof(*c));
}

/* The pause after the n-th failure in a row: min(5 s, TTL) at least 1 s,
 * doubling, at most five minutes (or the first step, when that is more). */
static double backoff(const struct cache_policy *pol, int n)
{
    double step = fmin(5.0, fmax(1.0, pol->ttl));

    return fmax(step, fmin(BACKOFF_MAX_SECS, step * pow(2, n - 1)));
}

enum cache_answer cache_get(struct cache *c, const struct cache_policy *pol, double now,
                            bool may_start, struct listing **out, bool *start, int *err)
{
    enum cache_answer a;
    bool servable;

    *out = NULL;
    *start = false;
    *err = 0;
    pthread_mutex_lock(&c->lock);
    if (c->value && now < c->expires) {
        a = CACHE_HIT; /* fresh */
        goto out;
    }
    /* stale (or missing): may it be shown meanwhile? */
    servable = c->value && (now < c->expires + pol->max_stale || now < c->retry_at);
    if (!c->loading && now >= c->retry_at && may_start) {
        c->loading = true;
        *start = true;
    }
    if (servable) {
        a = CACHE_HIT;
    } else if (c->loading || *start || (!c->error && !c->value) || !may_start) {
        a = CACHE_WAIT;
    } else if (c->value) {
        a = CACHE_HIT; /* the refresh failed: the whole old listing */
    } else {
        a = CACHE_ERROR;
        *err = fetch_errno(c->error);
    }
out:
    if (a == CACHE_HIT)
        *out = listing_ref(c->value);
    pthread_mutex_unlock(&c->lock);
    return a;
}

enum cache_wait_answer cache_wait(struct cache *c, struct cache_waiter *w)
{
    enum cache_wait_answer a = CACHE_OVER;

    pthread_mutex_lock(&c->lock);
    if (w->cancelled && w->cancelled(w)) {
        a = CACHE_CANCELLED;
    } else if (c->loading) {
        w->next = c->waiters;
        c->waiters = w;
        a = CACHE_WAITING;
    }
    pthread_mutex_unlock(&c->lock);
    return a;
}

struct cache_waiter *cache_unwait(struct cache *c, bool (*match)(struct cache_waiter *, void *),
                                  void *arg)
{
    struct cache_waiter *found = NULL;

    pthread_mutex_lock(&c->lock);
    for (struct cache_waiter **p = &c->waiters; *p; p = &(*p)->next) {
        if (match(*p, arg)) {
            found = *p;
            *p = found->next;
            found->next = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

static void wake_all(struct cache_waiter *list)
{
    while (list) {
        struct cache_waiter *w = list;
        list = w->next;
        w->next = NULL;
        w->wake(w);
    }
}

/* Ends the load in flight (called with c->lock held; releases it): the
 * error it leaves (FETCH_OK and NULL for none), and every waiter woken. */
static void end_load(struct cache *c, enum fetch_class error, const char *message)
{
    struct cache_waiter *waiters = c->waiters;

    c->error = error;
    free(c->error_message);
    c->error_message = message ? strdup(message) : NULL;
    c->loading = false;
    c->fetch = NULL;
    c->waiters = NULL;
    pthread_mutex_unlock(&c->lock);
    wake_all(waiters);
}

bool cache_publish(struct cache *c, const struct cache_policy *pol, double now,
                   struct listing *fresh, struct listing **old)
{
    bool changed;

    *old = NULL;
    pthread_mutex_lock(&c->lock);
    changed = !listing_same(c->value, fresh);
    if (changed) {
        listing_unref(c->prev);
        c->prev = c->value;
        *old = listing_ref(c->value);
        c->value = fresh;
        c->final = fresh->final;
    } else {
        c->final = fresh->final; /* the same bytes may have become final (a status) */
        listing_unref(fresh);    /* nothing changed: the kernel's caches stay valid */
    }
    c->expires = pol->ttl < 0 || c->final ? INFINITY : now + pol->ttl;
    c->restored = false;
    c->retry_at = 0;
    c->failures = 0;
    c->fetched_at = time(NULL);
    end_load(c, FETCH_OK, NULL);
    return changed;
}

bool cache_restore(struct cache *c, const struct cache_policy *pol, double now, struct listing *l,
                   time_t fetched_at, bool pin)
{
    double age = difftime(time(NULL), fetched_at);
    bool taken;

    pthread_mutex_lock(&c->lock);
    taken = c->value == NULL;
    if (taken) {
        c->value = l;
        c->final = l->final;
        c->restored = true;
        c->fetched_at = fetched_at;
        if (pol->ttl < 0 || l->final || pin)
            c->expires = INFINITY;
        else
            c->expires = now + pol->ttl - (age > 0 ? age : 0);
        c->retry_at = 0;
        c->failures = 0;
    }
    end_load(c, FETCH_OK, NULL);
    if (!taken)
        listing_unref(l);
    return taken;
}

void cache_set_source(struct cache *c, const char *url, long total)
{
    char *copy = url ? strdup(url) : NULL;

    pthread_mutex_lock(&c->lock);
    free(c->url);
    c->url = copy;
    c->total = total;
    pthread_mutex_unlock(&c->lock);
}

static void fetch_info(const struct fetch *f, struct cache_info *out)
{
    const struct fetch_progress *p = fetch_progress(f);

    out->fetch.active = true;
    out->fetch.pages_done = atomic_load(&p->pages_done);
    out->fetch.pages_total = atomic_load(&p->pages_total);
    out->fetch.records = atomic_load(&p->records);
    out->fetch.bytes = atomic_load(&p->bytes);
    out->fetch.records_total = fetch_total(f);
    out->fetch.started = p->started;
    out->fetch.started_wall = p->started_wall;
}

void cache_info(struct cache *c, double now, struct cache_info *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&c->lock);
    out->have = c->value != NULL;
    out->stale = out->have && (now >= c->expires || c->failures > 0 || c->restored);
    out->fetched_at = c->fetched_at;
    out->expires_at =
        isinf(c->expires) || !out->have ? 0 : time(NULL) + (time_t)ceil(c->expires - now);
    out->total = c->total;
    if (c->url)
        snprintf(out->url, sizeof(out->url), "%s", c->url);
    if (c->failures > 0 && c->error_message)
        snprintf(out->error, sizeof(out->error), "%s", c->error_message);
    out->bytes = c->value ? c->value->total_bytes : 0;
    if (c->fetch) /* it lives until its end is published, under this lock */
        fetch_info(c->fetch, out);
    pthread_mutex_unlock(&c->lock);
}

/* A reference to *slot, read under the cache's lock. */
static struct listing *ref_locked(struct cache *c, struct listing *const *slot)
{
    struct listing *l;

    pthread_mutex_lock(&c->lock);
    l = listing_ref(*slot);
    pthread_mutex_unlock(&c->lock);
    return l;
}

struct listing *cache_current(struct cache *c)
{
    return ref_locked(c, &c->value);
}

struct listing *cache_prev(struct cache *c)
{
    return ref_locked(c, &c->prev);
}

void cache_drop_prev(struct cache *c, unsigned long serial)
{
    struct listing *drop = NULL;

    pthread_mutex_lock(&c->lock);
    if (c->prev && c->prev->serial == serial) {
        drop = c->prev;
        c->prev = NULL;
    }
    pthread_mutex_unlock(&c->lock);
    listing_unref(drop);
}

int cache_failures(struct cache *c)
{
    int n;

    pthread_mutex_lock(&c->lock);
    n = c->failures;
    pthread_mutex_unlock(&c->lock);
    return n;
}

void cache_fail(struct cache *c, const struct cache_policy *pol, double now,
                const struct fetch_error *err)
{
    pthread_mutex_lock(&c->lock);
    c->failures++;
    c->retry_at = now + backoff(pol, c->failures);
    end_load(c, err->cls == FETCH_OK ? FETCH_INTERNAL : err->cls, err->message);
}

void cache_expire(struct cache *c, double now)
{
    pthread_mutex_lock(&c->lock);
    if (c->value) /* a listing without a TTL too: one made from another that changed */
        c->expires = fmin(c->expires, now);
    c->retry_at = 0;
    pthread_mutex_unlock(&c->lock);
}

bool cache_expired(struct cache *c, double now)
{
    bool expired;

    pthread_mutex_lock(&c->lock);
    expired = c->value && now >= c->expires && !c->loading;
    pthread_mutex_unlock(&c->lock);
    return expired;
}

double cache_fresh_for(struct cache *c, double now)
{
    double left;

    pthread_mutex_lock(&c->lock);
    left = c->value ? c->expires - now : 0;
    pthread_mutex_unlock(&c->lock);
    return left > 0 ? left : 0;
}

double cache_shown_for(struct cache *c, const struct cache_policy *pol, double now)
{
    double left = 0;

    pthread_mutex_lock(&c->lock);
    if (c->value && now < c->expires) {
        left = c->expires - now;
    } else if (c->value) {
        double until = fmax(c->expires + pol->max_stale, c->retry_at);
        left = fmin(until - now, fmax(pol->ttl, 0));
    }
    pthread_mutex_unlock(&c->lock);
    return left > 0 ? left : 0;
}
