/**
 * @file status.c
 * Renders .campaignfs/status from the tree: one pass over the nodes adds
 * each listing's bytes, staleness and fetch in flight to its account.
 */
#include "status.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "http.h"
#include "notify.h"
#include "rate.h"
#include "store.h"
#include "tree.h"

static void add(json_object *o, const char *key, json_object *v)
{
    json_object_object_add(o, key, v);
}

static json_object *iso_time(time_t when)
{
    struct tm tm;
    char text[32];

    if (when <= 0 || !gmtime_r(&when, &tm))
        return NULL;
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_object_new_string(text);
}

/* A number written as text (json-c would write every digit of the double). */
static json_object *number(double v, const char *text)
{
    return json_object_new_double_s(v, text);
}

/* Seconds, to the millisecond. */
static json_object *seconds(double s)
{
    char text[32];

    snprintf(text, sizeof(text), "%.3f", s);
    return number(s, text);
}

static json_object *errors_of(struct account *a)
{
    struct account_errors errs[FETCH_CLASS_COUNT];
    json_object *o = json_object_new_object();

    account_errors_get(a, errs);
    for (int c = 0; c < FETCH_CLASS_COUNT; c++) {
        json_object *e;
        if (!errs[c].count)
            continue;
        e = json_object_new_object();
        add(e, "count", json_object_new_int64((int64_t)errs[c].count));
        add(e, "last_message", json_object_new_string(errs[c].last_message));
        add(e, "last_at", iso_time(errs[c].last_at));
        add(o, fetch_class_name((enum fetch_class)c), e);
    }
    return o;
}

/* What the pass over the nodes gathers for one account. */
struct gathered {
    long listings, stale;
    size_t bytes;
    json_object *fetches;
};

static json_object *fetch_of(const struct node *n, const struct cache_info *ci, double now)
{
    json_object *f = json_object_new_object();
    char path[1024];

    tree_path(n, path, sizeof(path));
    add(f, "path", json_object_new_string(path));
    add(f, "pages_done", json_object_new_int64(ci->fetch.pages_done));
    add(f, "pages_total", json_object_new_int64(ci->fetch.pages_total));
    add(f, "records", json_object_new_int64(ci->fetch.records));
    add(f, "records_total", json_object_new_int64(ci->fetch.records_total));
    add(f, "bytes", json_object_new_int64(ci->fetch.bytes));
    add(f, "started_at", iso_time(ci->fetch.started_wall));
    add(f, "seconds", seconds(ci->fetch.started > 0 ? now - ci->fetch.started : 0));
    return f;
}

static void gather(struct tree *t, struct gathered *g, double now)
{
    size_t count = 0;
    struct node **nodes = tree_nodes(t, &count);
    struct cache_info *ci = malloc(sizeof(*ci));

    if (!ci || !nodes) {
        free(ci);
        free(nodes);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        struct node *n = nodes[i];
        struct gathered *ga;
        if (!n || !n->cache || !n->acct)
            continue;
        ga = &g[n->acct - t->accounts];
        cache_info(n->cache, now, ci);
        if (ci->have) {
            ga->listings++;
            ga->bytes += ci->bytes;
            ga->stale += ci->stale;
        }
        if (ci->fetch.active)
            json_object_array_add(ga->fetches, fetch_of(n, ci, now));
    }
    free(ci);
    free(nodes);
}

/* Requests per second the account is limited to (0: none), as configured. */
static double rate_limit(const struct account *a)
{
    if (a->cfg && a->cfg->rate_limit >= 0)
        return a->cfg->rate_limit;
    return a->provider->default_rate;
}

static json_object *account_of(struct account *a, struct gathered *g)
{
    json_object *o = json_object_new_object();
    json_object *cached = json_object_new_object();
    char rate[32];

    add(o, "name", json_object_new_string(a->name));
    add(o, "provider", json_object_new_string(a->provider->name));
    add(o, "url", json_object_new_string(a->url));
    snprintf(rate, sizeof(rate), "%.6g", rate_limit(a));
    add(o, "rate_limit_per_second", number(rate_limit(a), rate));
    add(o, "concurrency", json_object_new_int(a->concurrency));
    add(o, "requests", json_object_new_int64((int64_t)atomic_load(&a->requests)));
    add(o, "bytes", json_object_new_int64((int64_t)atomic_load(&a->bytes)));
    add(o, "retries", json_object_new_int64((int64_t)atomic_load(&a->retries)));
    add(o, "rate_limited", json_object_new_int64((int64_t)atomic_load(&a->rate_limited)));
    add(o, "rate_wait_seconds", seconds((double)atomic_load(&a->rate_wait_ms) / 1000));
    add(o, "max_in_flight", json_object_new_int(atomic_load(&a->max_in_flight)));
    add(o, "errors", errors_of(a));
    add(cached, "listings", json_object_new_int64(g->listings));
    add(cached, "bytes", json_object_new_int64((int64_t)g->bytes));
    add(cached, "stale", json_object_new_int64(g->stale));
    add(o, "cached", cached);
    add(o, "fetches", json_object_get(g->fetches));
    return o;
}

/* The disk copy, or JSON null. */
static json_object *disk_of(struct tree *t)
{
    struct store_stats *st;
    json_object *o;

    if (!t->disk || !(st = malloc(sizeof(*st))))
        return NULL;
    store_stats(t->disk, st);
    o = json_object_new_object();
    add(o, "path", json_object_new_string(st->path));
    add(o, "listings", json_object_new_int64((int64_t)st->listings));
    add(o, "bytes", json_object_new_int64((int64_t)st->bytes));
    add(o, "max_bytes", json_object_new_int64((int64_t)st->max_bytes));
    add(o, "saved", json_object_new_int64((int64_t)st->saved));
    add(o, "loaded", json_object_new_int64((int64_t)st->loaded));
    add(o, "evicted", json_object_new_int64((int64_t)st->evicted));
    add(o, "errors", json_object_new_int64((int64_t)st->errors));
    add(o, "queued", json_object_new_int64((int64_t)st->queued));
    free(st);
    return o;
}

char *status_render(struct tree *t, size_t *len)
{
    json_object *root = json_object_new_object();
    json_object *accounts = json_object_new_array();
    struct gathered *g = calloc(t->n_accounts ? t->n_accounts : 1, sizeof(*g));
    double now = rate_now();
    const char *text;
    char *out = NULL;

    if (!root || !accounts || !g)
        goto done;
    add(root, "version", json_object_new_string(CAMPAIGNFS_VERSION));
    add(root, "pid", json_object_new_int((int)getpid()));
    add(root, "mounted_at", iso_time(t->mounted));
    add(root, "uptime_seconds", seconds(now - t->started));
    add(root, "ttl", json_object_new_int64(t->ttl));
    add(root, "max_stale", json_object_new_int64(t->max_stale));
    add(root, "kernel_notifications_queued",
        json_object_new_int64((int64_t)notify_queued(t->notifier)));
    add(root, "kernel_notifications_dropped",
        json_object_new_int64((int64_t)notify_dropped(t->notifier)));
    add(root, "offline", json_object_new_boolean(t->offline));
    add(root, "disk", disk_of(t));
    for (size_t i = 0; i < t->n_accounts; i++)
        g[i].fetches = json_object_new_array();
    gather(t, g, now);
    for (size_t i = 0; i < t->n_accounts; i++)
        json_object_array_add(accounts, account_of(&t->accounts[i], &g[i]));
    add(root, "accounts", json_object_get(accounts));
    text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                    JSON_C_TO_STRING_NOSLASHESCAPE);
    if (text && asprintf(&out, "%s\n", text) < 0)
        out = NULL;
    if (out)
        *len = strlen(out);
done:
    for (size_t i = 0; g && i < t->n_accounts; i++)
        json_object_put(g[i].fetches);
    free(g);
    json_object_put(accounts);
    json_object_put(root);
    return out;
}
