/**
 * @file control.c
 * /_sim/ endpoints: advancing the world, request counters, the ground
 * truth dump (every record exactly as the API serves it), runtime faults,
 * holding requests back, the request log and overrides.
 */
#include "control.h"

#include "sim.h"

#include <microhttpd.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void control_error(struct reply *rp, int status, const char *msg)
{
    json_object *o = json_object_new_object();

    jadd_str(o, "error", msg);
    reply_json(rp, status, o);
}

static void advance(struct request *rq, struct reply *rp)
{
    long n;

    if (rq_query_int(rq, "n", 0, 1000000, 1, &n) > QINT_OK) {
        control_error(rp, 400, "n must be an integer between 0 and 1000000");
        return;
    }
    reply_json(rp, 200, world_advance(&rq->sim->world, n));
}

/* Truedy: the calls its contacts name, in contact order. */
static json_object *named_calls(const struct dataset *ds, const struct campaign *c)
{
    const struct record **recs = malloc((c->ncontacts ? c->ncontacts : 1) * sizeof(*recs));
    size_t n = 0, camp, idx;
    char key[96];

    if (!recs)
        return NULL;
    for (size_t i = 0; i < c->ncontacts; i++) {
        const char *id = jget_str(c->contacts[i].obj, "call_id");
        snprintf(key, sizeof(key), "call:%s", id ? id : "");
        if (id && dataset_lookup(ds, key, &camp, &idx) == 0)
            recs[n++] = &ds->camps[camp].calls[idx];
    }
    return jraw_array(recs, n);
}

static json_object *all_records(const struct record *recs, size_t n)
{
    const struct record **ptrs = malloc((n ? n : 1) * sizeof(*ptrs));

    if (!ptrs)
        return NULL;
    for (size_t i = 0; i < n; i++)
        ptrs[i] = &recs[i];
    return jraw_array(ptrs, n);
}

static json_object *dump_campaign(const struct dataset *ds, const struct campaign *c, int p)
{
    json_object *o = json_object_new_object();

    jadd_str(o, "id", c->id);
    jadd(o, "list_item", jraw_record(&c->item));
    jadd(o, "detail", jraw_record(&c->detail));
    jadd(o, "contacts", all_records(c->contacts, c->ncontacts));
    if (p == SIM_TRUEDY)
        jadd(o, "calls", named_calls(ds, c));
    else
        jadd(o, "calls", all_records(c->calls, c->ncalls));
    return o;
}

static void dump(struct request *rq, struct reply *rp)
{
    const char *name = rq_query(rq, "provider");
    int p = name ? sim_prov_find(name) : -1;
    struct world *w = &rq->sim->world;
    json_object *o, *list;

    if (p < 0) {
        control_error(rp, 400, "provider must be one of altur, burki, truedy, koreai");
        return;
    }
    pthread_rwlock_rdlock(&w->lock);
    o = json_object_new_object();
    list = json_object_new_array();
    for (size_t i = 0; i < w->ds[p].ncamps; i++)
        json_object_array_add(list, dump_campaign(&w->ds[p], &w->ds[p].camps[i], p));
    jadd(o, "campaigns", list);
    reply_json(rp, 200, o); /* serialized under the lock: records stay put */
    pthread_rwlock_unlock(&w->lock);
}

static void stats(struct request *rq, struct reply *rp)
{
    json_object *o = stats_json(&rq->sim->stats);

    jadd_int(o, "held", (long long)hold_count(&rq->sim->holds));
    jadd_int(o, "hanging", (long long)override_hanging(&rq->sim->overrides));
    reply_json(rp, 200, o);
}

static void reset_stats(struct request *rq, struct reply *rp)
{
    json_object *o = json_object_new_object();

    stats_reset(&rq->sim->stats);
    jadd_bool(o, "reset", true);
    reply_json(rp, 200, o);
}

/* POST /_sim/faults?spec=5xx=1&after=3&retry_after=2: from the API request
 * after the next `after` ones, faults follow spec ("" = none), and a 429
 * fault asks to wait retry_after seconds (default --retry-after). */
static void faults(struct request *rq, struct reply *rp)
{
    const char *text = rq_query(rq, "spec");
    struct fault_spec spec;
    char err[256], msg[300];
    json_object *o;
    long after, retry_after;

    if (rq_query_int(rq, "after", 0, 1000000000, 0, &after) > QINT_OK) {
        control_error(rp, 400, "after must be an integer >= 0");
        return;
    }
    if (rq_query_int(rq, "retry_after", 0, SIM_RETRY_AFTER_MAX, rq->sim->opt.retry_after,
                     &retry_after) > QINT_OK) {
        control_error(rp, 400, "retry_after must be an integer from 0 to 86400 (seconds)");
        return;
    }
    if (fault_spec_parse(text ? text : "", &spec, err, sizeof(err)) < 0) {
        snprintf(msg, sizeof(msg), "spec: %s", err);
        control_error(rp, 400, msg);
        return;
    }
    sim_set_faults(rq->sim, &spec, (unsigned long)after, (int)retry_after);
    o = json_object_new_object();
    jadd_str(o, "spec", text ? text : "");
    json_object_object_add(o, "after", json_object_new_int64(after));
    jadd_int(o, "retry_after", retry_after);
    reply_json(rp, 200, o);
}

/* POST /_sim/hold?match=S&count=K: hold the next K (default: all) API
 * requests whose "METHOD target[ body]" contains S. */
static void hold(struct request *rq, struct reply *rp)
{
    const char *match = rq_query(rq, "match");
    json_object *o;
    long count;

    if (!match || !*match) {
        control_error(rp, 400, "match must be a non-empty substring of \"METHOD /path?query\"");
        return;
    }
    if (rq_query_int(rq, "count", 1, 1000000000, -1, &count) > QINT_OK) {
        control_error(rp, 400, "count must be an integer between 1 and 1000000000");
        return;
    }
    if (hold_add(&rq->sim->holds, match, count) < 0) {
        control_error(rp, 500, "out of memory");
        return;
    }
    o = json_object_new_object();
    jadd_str(o, "hold", match);
    if (count < 0)
        jadd_null(o, "count");
    else
        jadd_int(o, "count", count);
    reply_json(rp, 200, o);
}

/* POST /_sim/release[?match=S]: the held requests go on; the rules go. */
static void release(struct request *rq, struct reply *rp)
{
    json_object *o = json_object_new_object();

    jadd_int(o, "released", (long long)hold_release(&rq->sim->holds, rq_query(rq, "match")));
    reply_json(rp, 200, o);
}

/* GET /_sim/requests?since=SEQ&limit=N: the request log from entry SEQ on. */
static void requests(struct request *rq, struct reply *rp)
{
    long since, limit;

    if (rq_query_int(rq, "since", 0, LONG_MAX, 0, &since) > QINT_OK) {
        control_error(rp, 400, "since must be an integer >= 0 (a \"next\" of an earlier answer)");
        return;
    }
    if (rq_query_int(rq, "limit", 1, LONG_MAX, LONG_MAX, &limit) > QINT_OK) {
        control_error(rp, 400, "limit must be an integer >= 1");
        return;
    }
    reply_json(rp, 200, reqlog_json(&rq->sim->log, (unsigned long long)since, (size_t)limit));
}

/* ---- overrides: parameters from the query, a form body or a JSON body ---- */

struct params {
    struct param *v;
    size_t n, cap;
    char *form;        /* the decoded copy of a form body */
    json_object *json; /* a JSON body */
    bool nomem;
};

static void params_add(struct params *ps, const char *name, const char *value)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 16;
        struct param *v = realloc(ps->v, cap * sizeof(*v));
        if (!v) {
            ps->nomem = true;
            return;
        }
        ps->v = v;
        ps->cap = cap;
    }
    ps->v[ps->n].name = name;
    ps->v[ps->n++].value = value ? value : "";
}

static enum MHD_Result query_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    (void)kind;
    params_add(cls, key, value);
    return MHD_YES;
}

/* name=value&... with + for space and %XX, decoded in a copy. */
static void form_params(struct params *ps, const char *body)
{
    char *save = NULL;

    ps->form = strdup(body);
    if (!ps->form) {
        ps->nomem = true;
        return;
    }
    for (char *pair = strtok_r(ps->form, "&", &save); pair; pair = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(pair, '=');
        if (eq)
            *eq++ = '\0';
        for (char *c = pair; *c; c++)
            *c = *c == '+' ? ' ' : *c;
        for (char *c = eq; c && *c; c++)
            *c = *c == '+' ? ' ' : *c;
        MHD_http_unescape(pair);
        if (eq)
            MHD_http_unescape(eq);
        params_add(ps, pair, eq);
    }
}

/* {"name": value or [values]}; 0, or -1 if it is no such object. */
static int json_params(struct params *ps, const char *body)
{
    ps->json = json_tokener_parse(body);
    if (!json_object_is_type(ps->json, json_type_object))
        return -1;
    json_object_object_foreach(ps->json, key, val)
    {
        if (!json_object_is_type(val, json_type_array)) {
            params_add(ps, key, json_object_get_string(val));
            continue;
        }
        for (size_t i = 0; i < json_object_array_length(val); i++)
            params_add(ps, key, json_object_get_string(json_object_array_get_idx(val, i)));
    }
    return 0;
}

static void params_free(struct params *ps)
{
    free(ps->v);
    free(ps->form);
    json_object_put(ps->json);
}

static bool is_json_body(const struct request *rq)
{
    const char *type = rq_header(rq, "Content-Type");

    return type ? strncmp(type, "application/json", 16) == 0 : rq->body[0] == '{';
}

/* POST /_sim/override?match=TEXT&...: a rule answering matching requests. */
static void override(struct request *rq, struct reply *rp)
{
    struct params ps = {0};
    char err[300];
    json_object *rule = NULL;

    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, query_param, &ps);
    if (rq->body_len && is_json_body(rq)) {
        if (json_params(&ps, rq->body) < 0) {
            control_error(rp, 400, "a JSON body must be an object of parameters");
            params_free(&ps);
            return;
        }
    } else if (rq->body_len) {
        form_params(&ps, rq->body);
    }
    if (ps.nomem)
        snprintf(err, sizeof(err), "out of memory");
    else
        rule = override_add(&rq->sim->overrides, ps.v, ps.n, err, sizeof(err));
    params_free(&ps);
    if (!rule) {
        control_error(rp, 400, err);
        return;
    }
    reply_json(rp, 200, rule);
}

/* POST /_sim/override/clear[?match=TEXT]: the rules go; hung requests end. */
static void override_clear_all(struct request *rq, struct reply *rp)
{
    json_object *o = json_object_new_object();

    jadd_int(o, "cleared", (long long)override_clear(&rq->sim->overrides, rq_query(rq, "match")));
    reply_json(rp, 200, o);
}

static const struct {
    const char *method, *path;
    void (*fn)(struct request *, struct reply *);
} routes[] = {
    {"POST", "/_sim/advance", advance},
    {"GET", "/_sim/stats", stats},
    {"POST", "/_sim/reset-stats", reset_stats},
    {"GET", "/_sim/dump", dump},
    {"POST", "/_sim/faults", faults},
    {"POST", "/_sim/hold", hold},
    {"POST", "/_sim/release", release},
    {"GET", "/_sim/requests", requests},
    {"POST", "/_sim/override", override},
    {"POST", "/_sim/override/clear", override_clear_all},
};

void control_handle(struct request *rq, struct reply *rp)
{
    bool path_known = false;

    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        if (strcmp(rq->url, routes[i].path) != 0)
            continue;
        path_known = true;
        if (strcmp(rq->method, routes[i].method) == 0) {
            routes[i].fn(rq, rp);
            return;
        }
    }
    if (path_known)
        control_error(rp, 405, "method not allowed");
    else
        control_error(rp, 404, "unknown control endpoint");
}
