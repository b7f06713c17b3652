/**
 * @file cache.h
 * One cache per listed node (a directory, or a file fetched on its own): the
 * last complete listing with its expiry, the load in flight (single
 * flight: any number of waiters join it), stale-while-revalidate, the last
 * error with its class, the backoff after failures, and the way in for the
 * on-disk copy (cache_restore(): a listing from an earlier mount, aged by
 * when it was fetched).  The cache decides; its owner (tree.c) starts loads
 * (from disk or the network) and reports their outcome with cache_publish()
 * / cache_restore() / cache_fail().  Nothing here
 * blocks: a caller that must wait registers a waiter and is woken.
 */
#ifndef CAMPAIGNFS_CACHE_H
#define CAMPAIGNFS_CACHE_H

#include <pthread.h>
#include <stdbool.h>

#include "http.h"
#include "listing.h"

struct fetch;

/* How long a listing is good for, and how long past that it may be shown
 * while it is refreshed.  ttl < 0: it never expires (built, not fetched). */
struct cache_policy {
    double ttl;
    double max_stale;
};

/* Someone waiting for a load: wake() is called once, without any cache
 * lock held, on the thread that ended the load.  cancelled(), if set, is
 * asked under the cache's lock when the waiter registers, so that a
 * cancellation racing the registration is never lost. */
struct cache_waiter {
    struct cache_waiter *next;
    void (*wake)(struct cache_waiter *w);
    bool (*cancelled)(struct cache_waiter *w);
};

struct cache {
    pthread_mutex_t lock;
    struct listing *value;  /* last complete listing, NULL until one arrived */
    struct listing *prev;   /* the one value replaced, while the kernel may hold its sizes */
    double expires;         /* monotonic; INFINITY: never */
    double retry_at;        /* after a failure: no new load before this */
    int failures;           /* failed loads in a row */
    enum fetch_class error; /* of the last failure (FETCH_OK: none) */
    char *error_message;    /* of the last failure, or NULL */
    bool loading;
    bool final;          /* the listing never changes again: it does not expire */
    bool restored;       /* it comes from the disk copy and was not fetched again yet */
    struct fetch *fetch; /* the fetch of the load in flight, if any (status reads it) */
    /* where the current listing came from, for xattrs and status */
    time_t fetched_at; /* wall clock of the last complete load (changed or not); 0: none */
    char *url;         /* the API URL of its first request, or NULL (built, not fetched) */
    long total;        /* the total the provider gave, -1 if none */
    struct cache_waiter *waiters;
};

void cache_init(struct cache *c);
void cache_destroy(struct cache *c);

/* What cache_get() says. */
enum cache_answer {
    CACHE_HIT,   /* *out is a listing to show (fresh, or stale while refreshed) */
    CACHE_WAIT,  /* nothing to show yet: wait (cache_wait()) */
    CACHE_ERROR, /* the last load failed and no listing exists: *err is its errno */
};

/* Looks the cache up at monotonic time now.  *out gets a reference the
 * caller drops.  *start is set when the caller must start a load now (the
 * cache counts it as in flight from here on; it ends with cache_publish()
 * or cache_fail()).  With may_start false nothing is started (a peek) and
 * an expired listing past max_stale is CACHE_WAIT. */
enum cache_answer cache_get(struct cache *c, const struct cache_policy *pol, double now,
                            bool may_start, struct listing **out, bool *start, int *err);

enum cache_wait_answer {
    CACHE_WAITING,   /* registered: wake() will be called */
    CACHE_OVER,      /* no load in flight any more: ask again */
    CACHE_CANCELLED, /* w->cancelled() said so: nothing registered */
};

/* Registers w for the end of the load in flight. */
enum cache_wait_answer cache_wait(struct cache *c, struct cache_waiter *w);

/* Removes and returns the first waiter for which match() is true, or NULL
 * (an interrupted operation takes its waiter back). */
struct cache_waiter *cache_unwait(struct cache *c, bool (*match)(struct cache_waiter *, void *),
                                  void *arg);

/* Ends the load: the fresh listing replaces the old one whole (the old one
 * is kept instead when the fresh one shows exactly the same), and the
 * waiters are woken.  Returns whether the listing changed; then *old gets
 * the listing it replaced (a reference, NULL for the first), which the
 * caller uses to invalidate what changed. */
bool cache_publish(struct cache *c, const struct cache_policy *pol, double now,
                   struct listing *fresh, struct listing **old);

/* Ends the load with a listing kept from an earlier mount, fetched at
 * wall-clock fetched_at: it is fresh for what is left of its TTL (for ever
 * if it is final, or with pin).  Returns false (and drops l) when another
 * listing was published meanwhile. */
bool cache_restore(struct cache *c, const struct cache_policy *pol, double now, struct listing *l,
                   time_t fetched_at, bool pin);

/* Records where the listing about to be published comes from (url
 * copied; total -1 if none). */
void cache_set_source(struct cache *c, const char *url, long total);

/* What getxattr and status tell of a cache, read at once under its lock. */
struct cache_info {
    bool have;         /* a listing exists */
    bool stale;        /* it is past its TTL, its last refresh failed, or it comes from
                          the disk copy and this mount has not fetched it again */
    time_t fetched_at; /* 0: never fetched */
    time_t expires_at; /* wall clock; 0: never expires */
    long total;        /* -1: none */
    char url[1024];    /* "" if none */
    char error[768];   /* the last failure's message if the last load failed, else "" */
    size_t bytes;      /* the listing's file bytes */
    struct {
        bool active; /* a fetch is in flight */
        long pages_done, pages_total, records, records_total, bytes;
        double started; /* monotonic */
        time_t started_wall;
    } fetch;
};
void cache_info(struct cache *c, double now, struct cache_info *out);

/* A reference to the current listing (NULL if none), whatever its age. */
struct listing *cache_current(struct cache *c);

/* The listing the last publish replaced is kept (cache_prev()) until
 * cache_drop_prev() with its serial: reads that the kernel sized from it
 * are answered from it, never cut. */
struct listing *cache_prev(struct cache *c);
void cache_drop_prev(struct cache *c, unsigned long serial);

/* Ends the load with a failure: the old listing (if any) stays, nothing
 * new is tried before a backoff, and the waiters are woken. */
void cache_fail(struct cache *c, const struct cache_policy *pol, double now,
                const struct fetch_error *err);

/* Loads that failed in a row so far (0: the last one succeeded).  Log a
 * failure before cache_fail() (the woken readers may look for it), and
 * only the first of a row. */
int cache_failures(struct cache *c);

/* Makes the listing expire at monotonic time now: the next look-up
 * refreshes it (showing the old one meanwhile, within max_stale of now). */
void cache_expire(struct cache *c, double now);

/* Seconds the current listing stays fresh (0 when expired or missing). */
double cache_fresh_for(struct cache *c, double now);

/* Seconds the kernel may keep what it learnt from the current listing: as
 * long as it is fresh; past its TTL, while it is still shown (within
 * max_stale, or during the backoff after a failed refresh), at most one
 * TTL more (a refresh that changes something invalidates it explicitly). */
double cache_shown_for(struct cache *c, const struct cache_policy *pol, double now);

#endif
