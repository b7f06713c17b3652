/**
 * @file engine.c
 * The event loop: one thread, one curl multi handle.  Each turn it takes
 * new submissions, moves retries whose time has come to the front of their
 * account's queue, starts what the accounts allow (concurrency window,
 * pause after a 429, a rate token), lets curl transfer, and finishes what
 * curl reports done: a success goes to the request's callback, a transient
 * failure becomes a timer, a 429 pauses the whole account.  It then polls
 * until the next transfer event, timer or submission.
 */
#include "engine.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "log.h"
#include "rate.h"

#define IDLE_HANDLES 16
#define MAX_POLL_MS  1000

/* The engine whose thread this is (NULL on other threads). */
static _Thread_local struct engine *this_engine;

struct engine {
    CURLM *multi;
    pthread_t thread;
    bool started;
    long timeout;
    size_t max_body;

    pthread_mutex_t lock; /* incoming, stopping, stopped */
    struct engine_req *incoming_head, *incoming_tail;
    bool stopping; /* asked to stop */
    bool stopped;  /* the loop is over: submissions end at once */

    /* the engine thread's */
    struct account *accounts;
    size_t n_accounts;
    struct engine_req *delayed; /* retries waiting for their time */
    CURL *idle[IDLE_HANDLES];
    int n_idle;
    unsigned int seed;
};

/* ---- requests ---- */

struct engine_req *engine_req_new(struct account *a, const char *path_query, const char *post_body)
{
    struct engine_req *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->acct = a;
    if (asprintf(&r->url, "%s%s", a->url, path_query) < 0)
        r->url = NULL;
    r->post_body = post_body ? strdup(post_body) : NULL;
    if (!r->url || (post_body && !r->post_body)) {
        engine_req_free(r);
        return NULL;
    }
    return r;
}

static void hops_free(struct engine_req *r)
{
    for (int i = 0; i < r->hops && i < HTTP_MAX_REDIRECTS; i++) {
        free(r->hop_urls[i]);
        r->hop_urls[i] = NULL;
    }
}

void engine_req_free(struct engine_req *r)
{
    if (!r)
        return;
    hops_free(r);
    auth_headers_unref(r->auth);
    http_transfer_free(&r->t);
    free(r->url);
    free(r->post_body);
    free(r);
}

static const char *method_of(const struct engine_req *r)
{
    return r->post_body ? "POST" : "GET";
}

static void count_failure(struct account *a, const struct fetch_error *err)
{
    atomic_fetch_add(&a->failures, 1);
    account_note_error(a, err);
}

/* Ends a request without an answer: a failure, or (cancelled) one that
 * campaignfs itself no longer wants (unmounting, a fetch that is over). */
static void end_early(struct engine_req *r, enum fetch_class cls, const char *what, bool cancelled)
{
    struct fetch_error err = {0};

    http_set_error(&err, r->acct, method_of(r), r->url, cls, 0, what);
    err.cancelled = cancelled;
    if (!cancelled)
        count_failure(r->acct, &err);
    r->done(r, &err);
}

static void end_request(struct engine_req *r, enum fetch_class cls, const char *what)
{
    end_early(r, cls, what, false);
}

static void end_cancelled(struct engine_req *r, const char *what)
{
    end_early(r, FETCH_INTERNAL, what, true);
}

/* ---- queues (engine thread) ---- */

static void queue_push_tail(struct account *a, struct engine_req *r)
{
    r->next = NULL;
    if (a->queue_tail)
        a->queue_tail->next = r;
    else
        a->queue_head = r;
    a->queue_tail = r;
}

static void queue_push_head(struct account *a, struct engine_req *r)
{
    r->next = a->queue_head;
    a->queue_head = r;
    if (!a->queue_tail)
        a->queue_tail = r;
}

static void queue_unlink(struct account *a, struct engine_req *prev, struct engine_req *r)
{
    if (prev)
        prev->next = r->next;
    else
        a->queue_head = r->next;
    if (a->queue_tail == r)
        a->queue_tail = prev;
    r->next = NULL;
}

static int flow_in_flight(const struct account *a, const void *flow)
{
    int n = 0;

    for (const struct engine_req *r = a->active; r; r = r->next)
        n += r->flow == flow;
    return n;
}

/* The queued request to start next: the first one of the flow with the
 * fewest requests in flight, so a small listing is not stuck behind the
 * hundreds of pages of another.  *prev is its predecessor in the queue. */
static struct engine_req *pick(const struct account *a, struct engine_req **prev)
{
    struct engine_req *best = NULL, *before = NULL;
    int best_n = 0;

    for (struct engine_req *p = NULL, *r = a->queue_head; r; p = r, r = r->next) {
        int n = flow_in_flight(a, r->flow);
        if (!best || n < best_n) {
            best = r;
            before = p;
            best_n = n;
            if (n == 0)
                break;
        }
    }
    *prev = before;
    return best;
}

static void active_remove(struct account *a, struct engine_req *r)
{
    for (struct engine_req **p = &a->active; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            r->next = NULL;
            return;
        }
    }
}

/* ---- handles ---- */

static CURL *handle_get(struct engine *e)
{
    return e->n_idle > 0 ? e->idle[--e->n_idle] : curl_easy_init();
}

static void handle_put(struct engine *e, CURL *h)
{
    if (e->n_idle < IDLE_HANDLES) {
        curl_easy_reset(h);
        e->idle[e->n_idle++] = h;
    } else {
        curl_easy_cleanup(h);
    }
}

/* ---- starting ---- */

/* A signed token close to its expiry is signed again before it is sent. */
static void renew_if_due(struct account *a)
{
    char err[512];

    if (account_auth_due(a, time(NULL)) && account_renew_auth(a, err, sizeof(err)) < 0)
        log_warn("[%s] could not renew the credential: %s", a->name, err);
}

/* The headers of r's next attempt: the account's credential at its own
 * origin, none anywhere else. */
static const struct curl_slist *headers_for(struct engine_req *r)
{
    struct account *a = r->acct;

    auth_headers_unref(r->auth);
    r->auth = NULL;
    if (r->other_origin)
        return r->post_body ? a->plain_post : a->plain_get;
    renew_if_due(a);
    r->auth = auth_headers_ref(a->auth);
    r->auth_gen = a->auth_gen;
    return r->post_body ? r->auth->post : r->auth->get;
}

static void start(struct engine *e, struct engine_req *r)
{
    struct account *a = r->acct;
    CURL *h = handle_get(e);
    int n;

    if (!h) {
        end_request(r, FETCH_INTERNAL, "out of memory (curl handle)");
        return;
    }
    http_transfer_free(&r->t);
    r->t.max_body = e->max_body;
    if (r->first_start == 0)
        r->first_start = rate_now();
    http_setup(h, a, headers_for(r), r->url, r->post_body, &r->t, e->timeout);
    curl_easy_setopt(h, CURLOPT_PRIVATE, r);
    if (curl_multi_add_handle(e->multi, h) != CURLM_OK) {
        handle_put(e, h);
        end_request(r, FETCH_INTERNAL, "curl refused the transfer");
        return;
    }
    r->h = h;
    r->next = a->active;
    a->active = r;
    n = ++a->in_flight;
    if (n > atomic_load(&a->max_in_flight))
        atomic_store(&a->max_in_flight, n);
    r->tries++;
    r->started = rate_now();
}

/* Fails every queued request of an account paused for longer than the
 * timeout: waiting would hang the operations that asked. */
static void fail_paused(struct engine *e, struct account *a, double now)
{
    char what[256];

    snprintf(what, sizeof(what),
             "the provider asked campaignfs to wait %.0f s more after a 429, longer than "
             "-o timeout=%ld s; try again later",
             a->paused_until - now, e->timeout);
    while (a->queue_head) {
        struct engine_req *r = a->queue_head;
        queue_unlink(a, NULL, r);
        end_request(r, FETCH_RATE, what);
    }
}

/* The time an account's queue waits for a rate token or the end of a 429
 * pause, for status. */
static void rate_blocked(struct account *a, double now)
{
    if (a->queue_head && a->rate_blocked_since == 0)
        a->rate_blocked_since = now;
}

static void rate_unblocked(struct account *a, double now)
{
    if (a->rate_blocked_since == 0)
        return;
    atomic_fetch_add(&a->rate_wait_ms, (unsigned long)((now - a->rate_blocked_since) * 1000));
    a->rate_blocked_since = 0;
}

/* Starts what the account allows now; lowers *next to when it may start more. */
static void dispatch(struct engine *e, struct account *a, double now, double *next)
{
    if (!a->queue_head)
        rate_unblocked(a, now);
    while (a->queue_head && a->in_flight < a->window) {
        struct engine_req *r, *prev;
        double wait;

        if (now < a->paused_until) {
            if (a->paused_until - now > (double)e->timeout)
                fail_paused(e, a, now);
            else
                *next = fmin(*next, a->paused_until);
            rate_blocked(a, now);
            return;
        }
        wait = rate_bucket_try_at(&a->bucket, now);
        if (wait > 0) {
            *next = fmin(*next, now + wait);
            rate_blocked(a, now);
            return;
        }
        rate_unblocked(a, now);
        r = pick(a, &prev);
        queue_unlink(a, prev, r);
        start(e, r);
    }
}

/* ---- finishing ---- */

/* A 429: the whole account waits, then starts again one request at a time. */
static bool rate_limited(struct engine *e, struct engine_req *r, double wait, double now,
                         const struct fetch_error *err)
{
    struct account *a = r->acct;

    atomic_fetch_add(&a->rate_limited, 1);
    if (++r->rate_retries > HTTP_MAX_RATE_RETRIES)
        return false;
    if (wait < 0)
        wait = http_backoff(r->rate_retries, &e->seed);
    /* a provider asking for more than ten timeouts is believed for that
     * long: then it is asked again (the requests meanwhile fail at once) */
    wait = fmin(wait, 10.0 * (double)e->timeout);
    a->paused_until = fmax(a->paused_until, now + wait);
    a->window = 1;
    atomic_fetch_add(&a->retries, 1);
    log_debug("%s (waiting %.2f s before asking again)", err->message, wait);
    queue_push_head(a, r);
    return true;
}

static bool retry_later(struct engine *e, struct engine_req *r, double now,
                        const struct fetch_error *err)
{
    double wait;

    if (++r->attempts >= (err->unreachable ? HTTP_MAX_UNREACHABLE : HTTP_MAX_ATTEMPTS))
        return false;
    wait = http_backoff(r->attempts, &e->seed);
    if (now + wait - r->first_start > 2.0 * (double)e->timeout)
        return false; /* asked long enough: the operation waiting gets its answer */
    atomic_fetch_add(&r->acct->retries, 1);
    log_debug("%s (attempt %d, retrying in %.2f s)", err->message, r->attempts, wait);
    r->not_before = now + wait;
    r->next = e->delayed;
    e->delayed = r;
    return true;
}

/* Follows a redirect: the credential goes along only to the account's own
 * origin; https to http, other schemes, loops and too many hops end the
 * request.  False with what filled when it ends. */
static bool redirect(struct engine_req *r, long status, char *what, size_t whatlen)
{
    struct account *a = r->acct;
    const char *to = r->t.location;
    bool same;

    if (!to) {
        snprintf(what, whatlen, "HTTP %ld without a Location to go to", status);
        return false;
    }
    if (r->hops >= HTTP_MAX_REDIRECTS) {
        snprintf(what, whatlen, "more than %d redirects, the last one to %.200s",
                 HTTP_MAX_REDIRECTS, to);
        return false;
    }
    for (int i = 0; i <= r->hops; i++) {
        if (strcmp(i < r->hops ? r->hop_urls[i] : r->url, to) == 0) {
            snprintf(what, whatlen, "a redirect loop (back to %.200s)", to);
            return false;
        }
    }
    if (http_redirect_check(a->url, r->url, to, &same, what, whatlen) < 0)
        return false;
    if (!same && !r->other_origin)
        log_debug("[%s] %s redirects to another origin: followed without the credential", a->name,
                  r->url);
    r->other_origin = r->other_origin || !same;
    r->hop_urls[r->hops++] = r->url;
    r->url = r->t.location;
    r->t.location = NULL;
    if (r->post_body && status != 307 && status != 308) {
        free(r->post_body); /* 301, 302 and 303 after a POST: GET, as browsers and curl do */
        r->post_body = NULL;
    }
    return true;
}

/* After a 401 the credential is renewed (or, renewed meanwhile, used) and
 * the request asked once more. */
static bool auth_retry(struct engine_req *r)
{
    struct account *a = r->acct;
    char err[512];
    int rc = 0;

    if (r->auth_retried || r->other_origin)
        return false;
    r->auth_retried = true;
    if (r->auth_gen == a->auth_gen) {
        rc = account_renew_auth(a, err, sizeof(err));
        if (rc < 0)
            log_warn("[%s] could not renew the credential: %s", a->name, err);
    }
    if (r->auth_gen == a->auth_gen)
        return false; /* nothing new to try */
    log_info("[%s] the provider refused the credential (401): asking again with a renewed one",
             a->name);
    return true;
}

/* At debug level, one line per HTTP request (the URL never holds a credential). */
static void log_transfer(const struct engine_req *r, CURLcode rc, long status, double now)
{
    char outcome[96];

    if (log_get_level() < LOG_LVL_DEBUG)
        return;
    if (rc == CURLE_OK)
        snprintf(outcome, sizeof(outcome), "HTTP %ld", status);
    else
        snprintf(outcome, sizeof(outcome), "%s", curl_easy_strerror(rc));
    log_debug("[%s] %s %s: %s, %zu bytes, %.0f ms, attempt %d", r->acct->name, method_of(r), r->url,
              outcome, r->t.len, (now - r->started) * 1000, r->tries);
}

static void finished(struct engine *e, struct engine_req *r, CURLcode rc, long status)
{
    struct account *a = r->acct;
    struct fetch_error err = {0};
    double wait = -1, now = rate_now();
    enum fetch_class cls;

    active_remove(a, r);
    a->in_flight--;
    log_transfer(r, rc, status, now);
    atomic_fetch_add(&a->requests, 1);
    atomic_fetch_add(&a->bytes, r->t.len);
    auth_headers_unref(r->auth);
    r->auth = NULL;
    if (rc == CURLE_OK && http_is_redirect(status)) {
        char what[512];
        if (redirect(r, status, what, sizeof(what))) {
            queue_push_head(a, r);
            return;
        }
        http_set_error(&err, a, method_of(r), r->url, FETCH_INVALID, status, what);
        count_failure(a, &err);
        r->done(r, &err);
        return;
    }
    if (rc == CURLE_OK && status == 401 && auth_retry(r)) {
        queue_push_head(a, r);
        return;
    }
    cls =
        http_classify(a, rc, status, &r->t, method_of(r), r->url, r->validate, r->ctx, &err, &wait);
    http_transfer_free(&r->t);
    if (cls == FETCH_OK) {
        if (a->window < a->concurrency)
            a->window++;
        r->done(r, NULL);
        return;
    }
    if (cls == FETCH_RATE && rate_limited(e, r, wait, now, &err))
        return;
    if (cls != FETCH_RATE && http_transient(cls) && retry_later(e, r, now, &err))
        return;
    count_failure(a, &err);
    r->done(r, &err);
}

/* Handles what curl reports done; returns how many. */
static int drain(struct engine *e)
{
    CURLMsg *msg;
    int left, n = 0;

    while ((msg = curl_multi_info_read(e->multi, &left))) {
        CURL *h = msg->easy_handle;
        CURLcode rc = msg->data.result;
        struct engine_req *r = NULL;
        long status = 0;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_off_t retry_after = 0;

        curl_easy_getinfo(h, CURLINFO_PRIVATE, (char **)&r);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK)
            r->t.retry_after = (double)retry_after; /* delta seconds or HTTP date */
        if (rc == CURLE_OK && http_is_redirect(status)) {
            char *to = NULL;
            if (curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &to) == CURLE_OK && to)
                r->t.location = strdup(to); /* absolute, resolved against the request's URL */
        }
        curl_multi_remove_handle(e->multi, h);
        handle_put(e, h);
        r->h = NULL;
        finished(e, r, rc, status);
        n++;
    }
    return n;
}

/* ---- the loop ---- */

/* Moves submissions to their accounts' queues; false once asked to stop. */
static bool take_incoming(struct engine *e)
{
    struct engine_req *list;
    bool stopping;

    pthread_mutex_lock(&e->lock);
    list = e->incoming_head;
    e->incoming_head = e->incoming_tail = NULL;
    stopping = e->stopping;
    pthread_mutex_unlock(&e->lock);
    while (list) {
        struct engine_req *r = list;
        list = r->next;
        queue_push_tail(r->acct, r);
    }
    return !stopping;
}

/* Retries whose time has come go to the front of their queue. */
static void promote(struct engine *e, double now, double *next)
{
    struct engine_req **p = &e->delayed;

    while (*p) {
        struct engine_req *r = *p;
        if (r->not_before <= now) {
            *p = r->next;
            queue_push_head(r->acct, r);
        } else {
            *next = fmin(*next, r->not_before);
            p = &r->next;
        }
    }
}

static void end_list(struct engine_req *list, const char *what)
{
    while (list) {
        struct engine_req *r = list;
        list = r->next;
        r->next = NULL;
        end_cancelled(r, what);
    }
}

/* At stop: every request left ends, on this thread. */
static void end_everything(struct engine *e)
{
    static const char what[] = "the mount is shutting down";
    struct engine_req *incoming, *delayed;

    pthread_mutex_lock(&e->lock);
    e->stopped = true;
    incoming = e->incoming_head;
    e->incoming_head = e->incoming_tail = NULL;
    pthread_mutex_unlock(&e->lock);
    for (size_t i = 0; i < e->n_accounts; i++) {
        struct account *a = &e->accounts[i];
        struct engine_req *active = a->active, *queued = a->queue_head;

        a->active = a->queue_head = a->queue_tail = NULL;
        for (struct engine_req *r = active; r; r = r->next) {
            curl_multi_remove_handle(e->multi, r->h);
            curl_easy_cleanup(r->h);
            r->h = NULL;
            a->in_flight--;
        }
        end_list(active, what);
        end_list(queued, what);
    }
    delayed = e->delayed;
    e->delayed = NULL;
    end_list(delayed, what);
    end_list(incoming, what);
}

static void *engine_main(void *arg)
{
    struct engine *e = arg;

    this_engine = e;
    while (take_incoming(e)) {
        double now = rate_now(), next = now + MAX_POLL_MS / 1000.0;
        int running = 0;
        long curl_ms = -1, ms;

        promote(e, now, &next);
        for (size_t i = 0; i < e->n_accounts; i++)
            dispatch(e, &e->accounts[i], now, &next);
        curl_multi_perform(e->multi, &running);
        if (drain(e) > 0)
            continue; /* room for more: start it before waiting */
        curl_multi_timeout(e->multi, &curl_ms);
        ms = (long)ceil((next - rate_now()) * 1000);
        if (curl_ms >= 0 && curl_ms < ms)
            ms = curl_ms;
        if (ms > 0)
            curl_multi_poll(e->multi, NULL, 0, (int)fmin(ms, MAX_POLL_MS), NULL);
    }
    end_everything(e);
    return NULL;
}

/* ---- public ---- */

struct engine *engine_new(struct account *accounts, size_t n_accounts, long timeout,
                          size_t max_body)
{
    struct engine *e = calloc(1, sizeof(*e));

    if (!e)
        return NULL;
    e->multi = curl_multi_init();
    if (!e->multi) {
        free(e);
        return NULL;
    }
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    pthread_mutex_init(&e->lock, NULL);
    e->accounts = accounts;
    e->n_accounts = n_accounts;
    e->timeout = timeout;
    e->max_body = max_body;
    e->seed = (unsigned int)time(NULL) ^ (unsigned int)(uintptr_t)e;
    return e;
}

int engine_start(struct engine *e)
{
    if (pthread_create(&e->thread, NULL, engine_main, e) != 0)
        return -1;
    e->started = true;
    return 0;
}

void engine_stop(struct engine *e)
{
    if (!e->started) {
        pthread_mutex_lock(&e->lock);
        e->stopped = true;
        pthread_mutex_unlock(&e->lock);
        return;
    }
    pthread_mutex_lock(&e->lock);
    e->stopping = true;
    pthread_mutex_unlock(&e->lock);
    curl_multi_wakeup(e->multi);
    pthread_join(e->thread, NULL);
    e->started = false;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n_idle; i++)
        curl_easy_cleanup(e->idle[i]);
    curl_multi_cleanup(e->multi);
    pthread_mutex_destroy(&e->lock);
    free(e);
}

void engine_submit(struct engine *e, struct engine_req *r)
{
    bool stopped;

    r->next = NULL;
    pthread_mutex_lock(&e->lock);
    stopped = e->stopped;
    if (!stopped) {
        if (e->incoming_tail)
            e->incoming_tail->next = r;
        else
            e->incoming_head = r;
        e->incoming_tail = r;
    }
    pthread_mutex_unlock(&e->lock);
    if (stopped)
        end_cancelled(r, "the mount is shutting down");
    else
        curl_multi_wakeup(e->multi);
}

void engine_cancel_flow(struct engine *e, void *flow)
{
    struct engine_req **p = &e->delayed;

    /* off the engine thread (a fetch that could not even ask its first
     * page, or after the engine stopped) nothing of the flow is queued */
    if (!engine_on_thread(e))
        return;

    take_incoming(e); /* so that nothing of the flow hides there */
    for (size_t i = 0; i < e->n_accounts; i++) {
        struct account *a = &e->accounts[i];
        struct engine_req *prev = NULL, *r = a->queue_head;
        while (r) {
            struct engine_req *next = r->next;
            if (r->flow == flow) {
                queue_unlink(a, prev, r);
                end_cancelled(r, "cancelled");
            } else {
                prev = r;
            }
            r = next;
        }
    }
    while (*p) {
        struct engine_req *r = *p;
        if (r->flow == flow) {
            *p = r->next;
            r->next = NULL;
            end_cancelled(r, "cancelled");
        } else {
            p = &r->next;
        }
    }
}

bool engine_on_thread(const struct engine *e)
{
    return this_engine == e;
}
