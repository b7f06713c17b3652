/**
 * @file truedy.c
 * Truedy's HTTP API under /api/public/v1: batch calls (its campaigns),
 * their contacts, and calls by id, offset/limit (<= 100).  `Authorization:
 * Bearer truedy_...`.  Every body is {data, meta{request_id, ts},
 * pagination?}; errors are {"error": {code, message, details}, "meta"};
 * 429 names details.reset_at and sends no Retry-After.  meta.ts is the sim
 * clock and request_id is derived from the seed and the request number.
 */
#include "api.h"
#include "creds.h"
#include "sim.h"
#include "timefmt.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const batch_statuses[] = {"draft",     "scheduled", "active",   "paused",
                                             "completed", "failed",    "cancelled"};
static const char *const contact_statuses[] = {"pending",   "in_progress", "completed", "failed",
                                               "no_answer", "busy",        "voicemail"};

static json_object *meta(const struct request *rq)
{
    json_object *m = json_object_new_object();
    char id[48], ts[SIM_TIME_SIZE];

    snprintf(id, sizeof(id), "req_%08x-%lu",
             (unsigned)(hash3(rq->sim->opt.data.seed, 0x7e9, rq->seq) & 0xffffffffU), rq->seq);
    fmt_iso_frac(ts, sizeof(ts), atomic_load(&rq_world(rq)->now), 6, 0);
    jadd_str(m, "request_id", id);
    jadd_str(m, "ts", ts);
    return m;
}

static const char *error_code(int status)
{
    switch (status) {
    case 400:
        return "validation_error";
    case 401:
        return "unauthorized";
    case 404:
        return "not_found";
    case 405:
        return "method_not_allowed";
    case 413:
        return "payload_too_large";
    case 429:
        return "rate_limit_exceeded";
    case 503:
        return "service_unavailable";
    default:
        return "internal_error";
    }
}

static void error_reply(const struct request *rq, struct reply *rp, int status, const char *msg,
                        json_object *details)
{
    json_object *o = json_object_new_object(), *e = json_object_new_object();

    jadd_str(e, "code", error_code(status));
    jadd_str(e, "message", msg);
    jadd(e, "details", details);
    jadd(o, "error", e);
    jadd(o, "meta", meta(rq));
    reply_json(rp, status, o);
}

static void truedy_error(const struct request *rq, struct reply *rp, int status, const char *msg)
{
    error_reply(rq, rp, status, msg, NULL);
}

static int truedy_authenticate(const struct request *rq, struct reply *rp)
{
    const char *h = rq_header(rq, "Authorization");

    if (!h || strncasecmp(h, "Bearer ", 7) != 0 || strcmp(h + 7, rq_creds(rq)->truedy_key) != 0) {
        truedy_error(rq, rp, 401, "Missing or invalid API key");
        return -1;
    }
    return 0;
}

static void truedy_throttled(const struct request *rq, struct reply *rp, double wait,
                             double reset_at, long limit)
{
    json_object *d = json_object_new_object();
    char when[SIM_TIME_SIZE], msg[96];

    (void)wait;
    /* Whole seconds, rounded up: at reset_at a request is accepted again. */
    rp->reset_at = ceil(reset_at);
    fmt_iso(when, sizeof(when), (long long)rp->reset_at);
    snprintf(msg, sizeof(msg), "Rate limit exceeded: %ld requests per minute", limit);
    jadd_int(d, "limit", limit);
    jadd_str(d, "reset_at", when);
    error_reply(rq, rp, 429, msg, d);
}

static void param_error(const struct request *rq, struct reply *rp, const char *param,
                        const char *msg)
{
    json_object *d = json_object_new_object();

    jadd_str(d, "param", param);
    jadd_str(d, "value", rq_query(rq, param));
    error_reply(rq, rp, 400, msg, d);
}

struct span {
    long offset, limit;
};

static int read_window(const struct request *rq, struct reply *rp, struct span *w)
{
    if (rq_query_int(rq, "limit", 1, 100, 50, &w->limit) > QINT_OK) {
        param_error(rq, rp, "limit", "limit must be an integer between 1 and 100");
        return -1;
    }
    if (rq_query_int(rq, "offset", 0, 1000000000L, 0, &w->offset) > QINT_OK) {
        param_error(rq, rp, "offset", "offset must be an integer >= 0");
        return -1;
    }
    return 0;
}

static int read_status(const struct request *rq, struct reply *rp, const char *const *valid,
                       size_t n, const char **out)
{
    const char *v = rq_query(rq, "status");
    json_object *d;

    *out = v;
    if (!v)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v, valid[i]) == 0)
            return 0;
    }
    d = json_object_new_object();
    jadd_str(d, "param", "status");
    jadd_str(d, "value", v);
    jadd(d, "allowed", jstr_array(valid, n));
    error_reply(rq, rp, 400, "Invalid status filter", d);
    return -1;
}

static void answer_list(const struct request *rq, struct reply *rp, json_object *items,
                        size_t total, const struct span *w)
{
    json_object *o = json_object_new_object(), *p = json_object_new_object();

    jadd(o, "data", items);
    jadd(o, "meta", meta(rq));
    jadd_int(p, "total", (long long)total);
    jadd_int(p, "limit", w->limit);
    jadd_int(p, "offset", w->offset);
    jadd_bool(p, "has_more", (size_t)(w->offset + w->limit) < total);
    jadd(o, "pagination", p);
    reply_json(rp, 200, o);
}

static void answer_one(const struct request *rq, struct reply *rp, const struct record *rec)
{
    json_object *o = json_object_new_object();

    jadd(o, "data", jraw_record(rec));
    jadd(o, "meta", meta(rq));
    reply_json(rp, 200, o);
}

static struct campaign *find_batch(const struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_TRUEDY];
    long i = dataset_campaign(ds, rq->cap[0]);
    json_object *d;

    if (i >= 0)
        return &ds->camps[i];
    d = json_object_new_object();
    jadd_str(d, "resource", "batch_call");
    jadd_str(d, "id", rq->cap[0]);
    error_reply(rq, rp, 404, "Batch call not found", d);
    return NULL;
}

static void list_batches(struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_TRUEDY];
    struct filter f = {"status", NULL, FILTER_EQ};
    struct span w;
    json_object *items;
    size_t total;

    if (read_window(rq, rp, &w) < 0 ||
        read_status(rq, rp, batch_statuses, COUNT(batch_statuses), &f.value) < 0)
        return;
    items = page_select(&ds->camps[0].item, sizeof(struct campaign), ds->ncamps, &f, 1,
                        rq_page_start(rq, (size_t)w.offset), (size_t)w.limit, &total);
    answer_list(rq, rp, items, total, &w);
}

static void get_batch(struct request *rq, struct reply *rp)
{
    struct campaign *c = find_batch(rq, rp);

    if (c)
        answer_one(rq, rp, &c->detail);
}

static void list_contacts(struct request *rq, struct reply *rp)
{
    struct campaign *c = find_batch(rq, rp);
    struct filter f = {"call_status", NULL, FILTER_EQ};
    struct span w;
    json_object *items;
    size_t total;

    if (!c || read_window(rq, rp, &w) < 0 ||
        read_status(rq, rp, contact_statuses, COUNT(contact_statuses), &f.value) < 0)
        return;
    items = page_select(c->contacts, sizeof(struct record), c->ncontacts, &f, 1,
                        rq_page_start(rq, (size_t)w.offset), (size_t)w.limit, &total);
    answer_list(rq, rp, items, total, &w);
}

static void get_call(struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_TRUEDY];
    char key[REQ_CAP_SIZE + 8];
    size_t camp, idx;
    json_object *d;

    snprintf(key, sizeof(key), "call:%s", rq->cap[0]);
    if (dataset_lookup(ds, key, &camp, &idx) == 0) {
        answer_one(rq, rp, &ds->camps[camp].calls[idx]);
        return;
    }
    d = json_object_new_object();
    jadd_str(d, "resource", "call");
    jadd_str(d, "id", rq->cap[0]);
    error_reply(rq, rp, 404, "Call not found", d);
}

static const struct endpoint endpoints[] = {
    {"GET", "/batch-calls", "GET /batch-calls", list_batches, false},
    {"GET", "/batch-calls/*", "GET /batch-calls/{id}", get_batch, false},
    {"GET", "/batch-calls/*/contacts", "GET /batch-calls/{id}/contacts", list_contacts, false},
    {"GET", "/calls/*", "GET /calls/{id}", get_call, false},
};

const struct api truedy_api = {
    .id = SIM_TRUEDY,
    .prefix = "/api/public/v1",
    .endpoints = endpoints,
    .nendpoints = COUNT(endpoints),
    .error = truedy_error,
    .authenticate = truedy_authenticate,
    .throttled = truedy_throttled,
    .key_header = "Authorization",
    .key_scheme = "Bearer ",
    .key_query = NULL,
};
