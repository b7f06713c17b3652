/**
 * @file check.c
 * The first page of each account's campaign list, asked through the engine
 * for every account at once; each answer becomes one line: "ok" with the
 * number of campaigns and the round-trip time, or the failure told apart
 * (credential, unreachable, TLS, wrong URL path, rate limited) with what
 * to do.
 */
#include "check.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "engine.h"
#include "provider.h"
#include "rate.h"

#define CHECK_MAX_TIMEOUT 10 /* seconds: a check answers in seconds, not minutes */

struct probe {
    struct account *acct;
    struct request_vars vars;
    double started, took;
    bool over;
    struct fetch_error err; /* cls FETCH_OK: it answered */
    long total;             /* campaigns the first page tells, -1 if it does not */
    size_t items;           /* campaigns on the first page */
    bool more;              /* the page says more follow */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t over = PTHREAD_COND_INITIALIZER;

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

    pthread_mutex_lock(&lock);
    p->took = rate_now() - p->started;
    if (err)
        p->err = *err;
    p->over = true;
    pthread_cond_broadcast(&over);
    pthread_mutex_unlock(&lock);
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
    r->validate = read_first_page;
    r->ctx = p;
    r->done = probe_done;
    p->started = rate_now();
    engine_submit(e, r);
    return 0;
}

/* What failed, in a few words a person acts on, before the full message. */
static const char *headline(const struct probe *p)
{
    const struct fetch_error *e = &p->err;

    if (e->tls)
        return "the server's TLS certificate is not trusted: set cacert = in the account's section";
    if (e->unreachable)
        return "nothing answers at the account's url: check url = and the network";
    switch (e->cls) {
    case FETCH_AUTH:
        return "the credential was refused";
    case FETCH_NOT_FOUND:
        return "there is no campaign list at that address: the path of url = is probably wrong";
    case FETCH_RATE:
        return "rate limited: try again later, or lower rate_limit = in the account's section";
    case FETCH_TIMEOUT:
        return "no answer in time: check the network and url =";
    case FETCH_NETWORK:
        return "the connection failed: check the network and url =";
    default:
        return "the provider's answer is not usable";
    }
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

static void report(const struct probe *p, FILE *out)
{
    const char *name = p->acct->name;
    double ms = p->took * 1000;

    if (p->err.cls == FETCH_AUTH) {
        fprintf(out, "%s: FAILED: %s: check %s in section [%s] of %s: %s\n", name, headline(p),
                credential_key(p->acct), name, p->acct->config_path, p->err.message);
        return;
    }
    if (p->err.cls != FETCH_OK) {
        fprintf(out, "%s: FAILED: %s: %s\n", name, headline(p), p->err.message);
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

int check_accounts(struct account *accounts, size_t n, long timeout, size_t max_body, FILE *out)
{
    struct probe *probes = calloc(n ? n : 1, sizeof(*probes));
    struct engine *e = NULL;
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
    for (size_t i = 0; i < n; i++) {
        probes[i].acct = &accounts[i];
        probes[i].total = -1;
        if (submit(e, &probes[i]) < 0) {
            probes[i].over = true;
            probes[i].err.cls = FETCH_INTERNAL;
            snprintf(probes[i].err.message, sizeof(probes[i].err.message), "[%s] out of memory",
                     accounts[i].name);
        }
    }
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < n; i++)
        while (!probes[i].over)
            pthread_cond_wait(&over, &lock);
    pthread_mutex_unlock(&lock);
    engine_stop(e);
    engine_free(e);
    for (size_t i = 0; i < n; i++) {
        report(&probes[i], out);
        rc |= probes[i].err.cls != FETCH_OK;
    }
    free(probes);
    return rc ? 1 : 0;
}
