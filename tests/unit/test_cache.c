/**
 * @file test_cache.c
 * The cache policy on a fake clock: single flight, stale-while-revalidate
 * within max_stale, waiting past it, a failed refresh keeping the whole
 * listing with a doubling backoff, the first failure without a listing as
 * an error, waiters woken once, cancellation under the lock, an unchanged
 * refresh keeping the listing (and its serial), the replaced listing kept
 * until dropped.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cache.h"

static const struct cache_policy pol = {.ttl = 10, .max_stale = 100};

static struct listing *make(const char *name, const char *bytes)
{
    struct listing_builder b;

    listing_builder_init(&b, NULL, ENTRY_FILE);
    assert_int_equal(listing_builder_add(&b, name, NULL, ENTRY_FILE, bytes, strlen(bytes), 0), 0);
    return listing_builder_finish(&b);
}

static enum cache_answer get(struct cache *c, double now, bool *start, struct listing **out)
{
    int err = 0;
    enum cache_answer a = cache_get(c, &pol, now, true, out, start, &err);

    if (a == CACHE_ERROR)
        assert_true(err > 0);
    return a;
}

/* A cache whose first load (started at time 0) brought "1\n": returns
 * a reference to that listing. */
static struct listing *loaded(struct cache *c)
{
    struct listing *l, *old;
    bool start;

    cache_init(c);
    assert_int_equal(get(c, 0, &start, &l), CACHE_WAIT);
    assert_true(start);
    assert_true(cache_publish(c, &pol, 0, make("a.json", "1\n"), &old));
    assert_null(old);
    return cache_current(c);
}

struct counting_waiter {
    struct cache_waiter w;
    int woken;
    bool cancel;
};

static void on_wake(struct cache_waiter *w)
{
    ((struct counting_waiter *)w)->woken++;
}

static bool is_cancelled(struct cache_waiter *w)
{
    return ((struct counting_waiter *)w)->cancel;
}

static bool match_cancelled(struct cache_waiter *w, void *arg)
{
    (void)arg;
    return is_cancelled(w);
}

/* Whether the cache's current (or kept previous) listing is x. */
static bool holds(struct cache *c, const struct listing *x, bool previous)
{
    struct listing *l = previous ? cache_prev(c) : cache_current(c);
    bool same = l == x;

    listing_unref(l);
    return same;
}

static void test_single_flight_and_waiters(void **state)
{
    struct cache c;
    struct listing *l, *old;
    struct counting_waiter w1 = {.w.wake = on_wake}, w2 = {.w.wake = on_wake};
    bool start;

    (void)state;
    cache_init(&c);
    assert_int_equal(get(&c, 0, &start, &l), CACHE_WAIT);
    assert_true(start); /* the first asker starts the load ... */
    assert_int_equal(get(&c, 0.1, &start, &l), CACHE_WAIT);
    assert_false(start); /* ... the others join it */
    assert_int_equal(cache_wait(&c, &w1.w), CACHE_WAITING);
    assert_int_equal(cache_wait(&c, &w2.w), CACHE_WAITING);
    assert_true(cache_publish(&c, &pol, 1, make("a.json", "1\n"), &old));
    assert_null(old);
    assert_int_equal(w1.woken, 1);
    assert_int_equal(w2.woken, 1);
    assert_int_equal(get(&c, 2, &start, &l), CACHE_HIT);
    assert_false(start);
    assert_int_equal(l->n, 1);
    listing_unref(l);
    /* no load in flight: a waiter is told to ask again */
    assert_int_equal(cache_wait(&c, &w1.w), CACHE_OVER);
    cache_destroy(&c);
}

static void test_stale_while_revalidate(void **state)
{
    struct cache c;
    struct listing *l, *first, *old;
    bool start;

    (void)state;
    first = loaded(&c);
    /* past the TTL: the listing at once, and one refresh starts */
    assert_int_equal(get(&c, 15, &start, &l), CACHE_HIT);
    assert_true(start);
    assert_ptr_equal(l, first);
    listing_unref(l);
    assert_int_equal(get(&c, 16, &start, &l), CACHE_HIT);
    assert_false(start); /* one refresh, not two */
    listing_unref(l);
    /* the kernel may keep it a while, not forever */
    assert_true(cache_shown_for(&c, &pol, 16) > 0 && cache_shown_for(&c, &pol, 16) <= pol.ttl);
    /* the same bytes again: the listing (and its serial) stays */
    assert_false(cache_publish(&c, &pol, 17, make("a.json", "1\n"), &old));
    assert_true(holds(&c, first, false));
    assert_int_equal(get(&c, 18, &start, &l), CACHE_HIT); /* fresh again */
    assert_false(start);
    listing_unref(l);
    /* past max_stale: wait for the refresh */
    assert_int_equal(get(&c, 17 + pol.ttl + pol.max_stale + 1, &start, &l), CACHE_WAIT);
    assert_true(start);
    listing_unref(first);
    cache_destroy(&c);
}

static void test_failed_refresh_keeps_listing_with_backoff(void **state)
{
    struct fetch_error err = {.cls = FETCH_SERVER, .message = "HTTP 503"};
    struct cache c;
    struct listing *l, *old, *first;
    double t = 200;
    bool start;

    (void)state;
    first = loaded(&c);
    assert_int_equal(get(&c, t, &start, &l), CACHE_WAIT); /* past max_stale */
    assert_true(start);
    assert_int_equal(cache_failures(&c), 0);
    cache_fail(&c, &pol, t, &err);
    assert_int_equal(cache_failures(&c), 1);
    /* the whole old listing, and no new attempt within the backoff (5 s) */
    assert_int_equal(get(&c, t + 4.9, &start, &l), CACHE_HIT);
    assert_false(start);
    assert_ptr_equal(l, first);
    listing_unref(l);
    assert_int_equal(get(&c, t + 5.1, &start, &l), CACHE_WAIT);
    assert_true(start);
    cache_fail(&c, &pol, t + 5.1, &err);
    /* the second failure in a row doubles the pause */
    assert_int_equal(get(&c, t + 5.1 + 9.9, &start, &l), CACHE_HIT);
    assert_false(start);
    listing_unref(l);
    assert_int_equal(get(&c, t + 5.1 + 10.1, &start, &l), CACHE_WAIT);
    assert_true(start);
    cache_publish(&c, &pol, t + 16, make("a.json", "2\n"), &old);
    assert_int_equal(cache_failures(&c), 0);
    assert_ptr_equal(old, first);
    listing_unref(old);
    listing_unref(first);
    cache_destroy(&c);
}

static void test_first_failure_is_an_error(void **state)
{
    struct fetch_error err = {.cls = FETCH_AUTH, .message = "HTTP 401"};
    struct cache c;
    struct listing *l;
    bool start;
    int e = 0;

    (void)state;
    cache_init(&c);
    get(&c, 0, &start, &l);
    cache_fail(&c, &pol, 0, &err);
    assert_int_equal(cache_get(&c, &pol, 1, true, &l, &start, &e), CACHE_ERROR);
    assert_int_equal(e, EACCES);
    assert_false(start);
    assert_null(l);
    /* a peek starts nothing, even once the backoff is over */
    assert_int_equal(cache_get(&c, &pol, 100, false, &l, &start, &e), CACHE_WAIT);
    assert_false(start);
    cache_destroy(&c);
}

static void test_cancelled_waiter_is_not_registered(void **state)
{
    struct counting_waiter w = {.w.wake = on_wake, .w.cancelled = is_cancelled, .cancel = true};
    struct cache c;
    struct listing *l, *old;
    bool start;

    (void)state;
    cache_init(&c);
    get(&c, 0, &start, &l);
    assert_int_equal(cache_wait(&c, &w.w), CACHE_CANCELLED);
    w.cancel = false;
    assert_int_equal(cache_wait(&c, &w.w), CACHE_WAITING);
    /* an interrupted request takes its waiter back */
    assert_ptr_equal(cache_unwait(&c, match_cancelled, NULL), NULL);
    w.cancel = true;
    assert_ptr_equal(cache_unwait(&c, match_cancelled, NULL), &w.w);
    cache_publish(&c, &pol, 1, make("a.json", "1\n"), &old);
    assert_int_equal(w.woken, 0);
    cache_destroy(&c);
}

/* A refresh asked for long after the mount (.campaignfs/refresh, SIGHUP)
 * still shows the old listing while the new one is fetched. */
static void test_expired_on_request_is_shown_while_refreshed(void **state)
{
    struct cache c;
    struct listing *l, *old;
    bool start;

    (void)state;
    listing_unref(loaded(&c));
    assert_int_equal(get(&c, 5000, &start, &l), CACHE_WAIT); /* far past max_stale */
    assert_true(start);
    assert_true(cache_publish(&c, &pol, 5000, make("a.json", "2\n"), &old));
    listing_unref(old);
    cache_expire(&c, 5001);
    assert_true(cache_fresh_for(&c, 5001) == 0);
    assert_int_equal(get(&c, 5002, &start, &l), CACHE_HIT);
    assert_true(start);
    listing_unref(l);
    cache_destroy(&c);
}

static void test_replaced_listing_kept_until_dropped(void **state)
{
    struct cache c;
    struct listing *l, *old, *prev;
    bool start;

    (void)state;
    listing_unref(loaded(&c));
    cache_expire(&c, 1);
    assert_int_equal(get(&c, 1, &start, &l), CACHE_HIT);
    assert_true(start); /* expired at once: refreshed */
    listing_unref(l);
    assert_true(cache_publish(&c, &pol, 2, make("a.json", "22\n"), &old));
    prev = old; /* the caller's reference */
    assert_true(holds(&c, prev, true));
    cache_drop_prev(&c, prev->serial + 1000); /* another listing's serial: kept */
    assert_true(holds(&c, prev, true));
    cache_drop_prev(&c, prev->serial);
    assert_true(holds(&c, NULL, true));
    listing_unref(prev);
    cache_destroy(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_flight_and_waiters),
        cmocka_unit_test(test_stale_while_revalidate),
        cmocka_unit_test(test_failed_refresh_keeps_listing_with_backoff),
        cmocka_unit_test(test_first_failure_is_an_error),
        cmocka_unit_test(test_cancelled_waiter_is_not_registered),
        cmocka_unit_test(test_replaced_listing_kept_until_dropped),
        cmocka_unit_test(test_expired_on_request_is_shown_while_refreshed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
