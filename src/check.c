/**
 * @file check.c
 * campaignfs --check: the first page of each account's campaign list,
 * asked through the engine for every account at once and waited for no
 * longer than a bound; each answer becomes one line: "ok" with the number
 * of campaigns and the round-trip time, or the failure told apart
 * (credential, unreachable, TLS, wrong URL path, rate limited, no answer
 * in time) with the config key to fix and where.
 */
#include "check.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "config.h"
#include "engine.h"
#include "provider.h"
#include "rate.h"

#define CHECK_MAX_TIMEOUT 10 /* seconds: a check answers in seconds, not minutes */

/* What the waiting caller and the engine thread's callbacks share. */
struct run {
    pthread_mutex_t lock;
    pthread_cond_t over;
};

struct probe {
    struct run *run;
    struct account *acct;
    struct request_vars vars;
    char *url;          /* what was asked, for messages (malloc'd) */
    const char *method; /* "GET" or "POST" */
    double started, took;
    bool over;
    bool late;              /* not over when the check's time was up */
    struct fetch_error err; /* cls FETCH_OK: it answered */
    long total;             /* campaigns the first page tells, -1 if it does not */
    size_t items;           /* campaigns on the first page */
    bool more;              /* the page says more follow */
};

static enum body_verdict read_first_page(const char *body, size_t len, void *ctx, char *err,
                                         size_t errlen)
{
    struct probe *p = ctx;
    const struct collection *coll = &p->acct->provider->campaigns;
    struct page_info info = {0};
    json_object *root = NULL, *items = NULL;
    int rc =
        provider_page_read(p->acct->provider, coll, body, len, &root, &items, &info, err, errlen);

    if (rc < 0)
        return rc == PARSE_FAILURE   ? BODY_FAILURE
               : rc == PARSE_INVALID ? BODY_INVALID
                                     : BODY_MALFORMED;
    p->items = info.n_items;
    p->total = info.total;
    p->more = info.more == 1 || info.next_cursor || provider_page_count(coll, &info) > 1 ||
              (info.more < 0 && info.total > (long)info.n_items);
    page_info_free(&info);
    json_object_put(root);
    return BODY_OK;
}

static void probe_done(struct engine_req *r, const struct fetch_error *err)
{
    struct probe *p = r->ctx;

    pthread_mutex_lock(&p->run->lock);
    p->took = rate_now() - p->started;
    if (err)
        p->err = *err;
    p->over = true;
    pthread_cond_broadcast(&p->run->over);
    pthread_mutex_unlock(&p->run->lock);
    engine_req_free(r);
}

static int submit(struct engine *e, struct probe *p)
{
    const struct collection *coll = &p->acct->provider->campaigns;
    struct page_cursor cur = {.total = -1};
    struct page_request req = {0};
    struct engine_req *r;

    p->vars.account_id = p->acct->account_id_esc;
    p->vars.stream = p->acct->stream_esc;
    if (provider_page_request(coll, &p->vars, &cur, &req) < 0)
        return -1;
    r = engine_req_new(p->acct, req.path_query, req.body);
    page_request_free(&req);
    if (!r)
        return -1;
    p->url = strdup(r->url);
    p->method = r->post_body ? "POST" : "GET";
    r->validate = read_first_page;
    r->ctx = p;
    r->done = probe_done;
    p->started = rate_now();
    engine_submit(e, r);
    return 0;
}

/* Waits until every probe is over or the deadline (CLOCK_REALTIME) has
 * passed; marks the ones still going as late.  Called with the lock held. */
static void wait_probes(struct run *run, struct probe *probes, size_t n,
                        const struct timespec *deadline)
{
    bool timed_out = false;

    for (size_t i = 0; i < n; i++) {
        while (!probes[i].over && !timed_out)
            timed_out = pthread_cond_timedwait(&run->over, &run->lock, deadline) == ETIMEDOUT;
        probes[i].late = !probes[i].over;
    }
}

/* The longest a check waits: one attempt after the engine's retries of
 * 2 x timeout, and a little more; 429s are otherwise waited out 20 times. */
static struct timespec deadline_after(long timeout)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 3 * timeout + 2;
    return ts;
}

/* "host:port" of the account's url, into buf (the url itself if it does not parse). */
static const char *host_port(const struct account *a, char *buf, size_t len)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;

    snprintf(buf, len, "%s", a->url);
    if (u && curl_url_set(u, CURLUPART_URL, a->url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        snprintf(buf, len, "%s:%s", host, port);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    return buf;
}

/* The config key the account's credential came from ("api_key_file"...). */
static const char *credential_key(const struct account *a)
{
    const struct account_config *c = a->cfg;

    if (!c)
        return "the credential";
    if (c->api_key.key)
        return c->api_key.key;
    if (c->client_secret.key)
        return c->client_secret.key;
    if (c->jwt.key)
        return c->jwt.key;
    return "the credential";
}

/* What a probe still going at the deadline gets: rate limited if the
 * account met a 429, else no answer in time. */
static void expire(struct probe *p, long timeout)
{
    char what[128];
    bool rate = atomic_load(&p->acct->rate_limited) > 0;

    if (rate)
        snprintf(what, sizeof(what), "still HTTP 429 after %ld s of waiting and asking again",
                 3 * timeout + 2);
    else
        snprintf(what, sizeof(what), "no answer within %ld s", 3 * timeout + 2);
    http_set_error(&p->err, p->acct, p->method, p->url ? p->url : p->acct->url,
                   rate ? FETCH_RATE : FETCH_TIMEOUT, rate ? 429 : 0, what);
}

/* What failed, in a few words a person acts on, into buf; the full
 * message (URL, what the server said, section and file) follows it. */
static const char *headline(const struct probe *p, char *buf, size_t len)
{
    const struct fetch_error *e = &p->err;
    char where[300];

    if (e->tls)
        return "the server's TLS certificate is not trusted: if a private CA signs it, set "
               "cacert = FILE (that CA's certificate) in the account's section";
    if (e->unreachable || e->cls == FETCH_TIMEOUT || e->cls == FETCH_NETWORK) {
        snprintf(buf, len, "%s %s: check url = and the network",
                 e->unreachable            ? "nothing answers at"
                 : e->cls == FETCH_TIMEOUT ? "no answer in time from"
                                           : "the connection failed to",
                 host_port(p->acct, where, sizeof(where)));
        return buf;
    }
    switch (e->cls) {
    case FETCH_AUTH:
        snprintf(buf, len, "the credential was refused: check %s in section [%s] of %s",
                 credential_key(p->acct), p->acct->name, p->acct->config_path);
        return buf;
    case FETCH_NOT_FOUND:
        return "there is no campaign list at that address (HTTP 404): the path of url = is "
               "probably wrong";
    case FETCH_RATE:
        return "rate limited: try again later, or lower rate_limit = in the account's section";
    default:
        return "the provider's answer is not usable";
    }
}

static void report(const struct probe *p, FILE *out)
{
    const char *name = p->acct->name;
    double ms = p->took * 1000;
    char buf[1024];

    if (p->err.cls != FETCH_OK) {
        fprintf(out, "%s: FAILED: %s: %s\n", name, headline(p, buf, sizeof(buf)), p->err.message);
        return;
    }
    if (p->total >= 0)
        fprintf(out, "%s: ok: %ld campaigns in %.0f ms (%s)\n", name, p->total, ms, p->acct->url);
    else if (!p->more)
        fprintf(out, "%s: ok: %zu campaigns in %.0f ms (%s)\n", name, p->items, ms, p->acct->url);
    else
        fprintf(out, "%s: ok: at least %zu campaigns in %.0f ms (%s)\n", name, p->items, ms,
                p->acct->url);
}

static void submit_all(struct engine *e, struct run *run, struct probe *probes,
                       struct account *accounts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        probes[i].run = run;
        probes[i].acct = &accounts[i];
        probes[i].total = -1;
        if (submit(e, &probes[i]) < 0) {
            probes[i].over = true;
            probes[i].err.cls = FETCH_INTERNAL;
            snprintf(probes[i].err.message, sizeof(probes[i].err.message), "[%s] out of memory",
                     accounts[i].name);
        }
    }
}

int check_accounts(struct account *accounts, size_t n, long timeout, size_t max_body, FILE *out)
{
    struct run run = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
    struct probe *probes = calloc(n ? n : 1, sizeof(*probes));
    struct engine *e = NULL;
    struct timespec deadline;
    int rc = 0;

    if (timeout > CHECK_MAX_TIMEOUT)
        timeout = CHECK_MAX_TIMEOUT;
    if (probes)
        e = engine_new(accounts, n, timeout, max_body);
    if (!e || engine_start(e) != 0) {
        fprintf(stderr, "campaignfs: out of memory, or no thread for the checks\n");
        engine_free(e);
        free(probes);
        return 1;
    }
    deadline = deadline_after(timeout);
    submit_all(e, &run, probes, accounts, n);
    pthread_mutex_lock(&run.lock);
    wait_probes(&run, probes, n, &deadline);
    pthread_mutex_unlock(&run.lock);
    engine_stop(e); /* ends the late ones */
    engine_free(e);
    for (size_t i = 0; i < n; i++) {
        if (probes[i].late)
            expire(&probes[i], timeout);
        report(&probes[i], out);
        rc |= probes[i].err.cls != FETCH_OK;
        free(probes[i].url);
    }
    free(probes);
    pthread_cond_destroy(&run.over);
    pthread_mutex_destroy(&run.lock);
    return rc ? 1 : 0;
}
