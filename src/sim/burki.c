/**
 * @file burki.c
 * Burki's HTTP API under /api/v1: campaigns (the documented path ends in
 * '/'; the slashless form answers a 307 to it), one campaign (no
 * envelope), contacts and executions, 1-based page/per_page (<= 1000).
 * `Authorization: Bearer KEY`.  Errors are {"detail": "..."}; values that
 * are not integers get FastAPI's 422 {"detail": [{loc, msg, type}]}; 429
 * carries Retry-After (integer seconds).
 */
#include "api.h"
#include "creds.h"

#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *const campaign_statuses[] = {"draft",     "scheduled", "running", "paused",
                                                "completed", "cancelled", "failed"};
static const char *const contact_statuses[] = {"pending", "in_progress", "completed", "failed",
                                               "skipped", "no_answer",   "busy",      "voicemail"};

static void burki_error(const struct request *rq, struct reply *rp, int status, const char *msg)
{
    json_object *o = json_object_new_object();

    (void)rq;
    jadd_str(o, "detail", msg);
    reply_json(rp, status, o);
}

static int burki_authenticate(const struct request *rq, struct reply *rp)
{
    const char *h = rq_header(rq, "Authorization");

    if (!h || !*h) {
        burki_error(rq, rp, 401, "Not authenticated");
        return -1;
    }
    if (strncasecmp(h, "Bearer ", 7) != 0 || strcmp(h + 7, rq_creds(rq)->burki_key) != 0) {
        burki_error(rq, rp, 401, "Invalid API key");
        return -1;
    }
    return 0;
}

static void burki_throttled(const struct request *rq, struct reply *rp, double wait,
                            double reset_at, long limit)
{
    (void)reset_at;
    (void)limit;
    burki_error(rq, rp, 429, "Rate limit exceeded");
    rp->retry_after = (int)ceil(fmax(0, wait)); /* the limiter's waits are > 0 */
}

/* FastAPI's 422 for a value that does not parse. */
static void unprocessable(struct reply *rp, const char *where, const char *name)
{
    json_object *o = json_object_new_object(), *list = json_object_new_array();
    json_object *item = json_object_new_object();
    const char *loc[] = {where, name};

    jadd(item, "loc", jstr_array(loc, 2));
    jadd_str(item, "msg", "value is not a valid integer");
    jadd_str(item, "type", "type_error.integer");
    json_object_array_add(list, item);
    jadd(o, "detail", list);
    reply_json(rp, 422, o);
}

struct paging {
    long page, per_page;
};

/* Reads page/per_page; answers 422/400 and returns -1 when they are bad. */
static int read_paging(const struct request *rq, struct reply *rp, struct paging *pg)
{
    enum qint page = rq_query_int(rq, "page", 1, 1000000000L, 1, &pg->page);
    enum qint per = rq_query_int(rq, "per_page", 1, 1000, 50, &pg->per_page);

    if (page == QINT_NOT_INT || per == QINT_NOT_INT) {
        unprocessable(rp, "query", page == QINT_NOT_INT ? "page" : "per_page");
        return -1;
    }
    if (page == QINT_RANGE) {
        burki_error(rq, rp, 400, "page must be greater than or equal to 1");
        return -1;
    }
    if (per == QINT_RANGE) {
        burki_error(rq, rp, 400, "per_page must be between 1 and 1000");
        return -1;
    }
    return 0;
}

/* The status filter, or -1 after answering 400 for an unknown one. */
static int read_status(const struct request *rq, struct reply *rp, const char *const *valid,
                       size_t n, const char **out)
{
    const char *v = rq_query(rq, "status");
    char msg[256];
    size_t used;

    *out = v;
    if (!v)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v, valid[i]) == 0)
            return 0;
    }
    used = (size_t)snprintf(msg, sizeof(msg), "Invalid status '%.64s'. Valid statuses:", v);
    for (size_t i = 0; i < n && used < sizeof(msg); i++)
        used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s %s", i ? "," : "", valid[i]);
    burki_error(rq, rp, 400, msg);
    return -1;
}

static void answer_page(struct reply *rp, const char *key, json_object *items, size_t total,
                        const struct paging *pg)
{
    json_object *o = json_object_new_object(), *p = json_object_new_object();
    long pages = (long)((total + (size_t)pg->per_page - 1) / (size_t)pg->per_page);

    jadd(o, key, items);
    jadd_int(p, "page", pg->page);
    jadd_int(p, "per_page", pg->per_page);
    jadd_int(p, "total_items", (long long)total);
    jadd_int(p, "total_pages", pages);
    jadd_bool(p, "has_next", pg->page < pages);
    jadd_bool(p, "has_prev", pg->page > 1);
    jadd(o, "pagination", p);
    reply_json(rp, 200, o);
}

static struct campaign *find_campaign(const struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_BURKI];
    long i;

    if (!is_digits(rq->cap[0])) {
        unprocessable(rp, "path", "campaign_id");
        return NULL;
    }
    i = dataset_campaign(ds, rq->cap[0]);
    if (i < 0) {
        burki_error(rq, rp, 404, "Campaign not found");
        return NULL;
    }
    return &ds->camps[i];
}

static void list_campaigns(struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_BURKI];
    struct paging pg;
    struct filter f[3] = {{"status", NULL, FILTER_EQ},
                          {"campaign_type", rq_query(rq, "campaign_type"), FILTER_EQ},
                          {"name", rq_query(rq, "search"), FILTER_CONTAINS}};
    size_t total;
    json_object *items;

    if (read_paging(rq, rp, &pg) < 0 ||
        read_status(rq, rp, campaign_statuses, COUNT(campaign_statuses), &f[0].value) < 0)
        return;
    items = page_select(&ds->camps[0].item, sizeof(struct campaign), ds->ncamps, f, COUNT(f),
                        rq_page_start(rq, (size_t)((pg.page - 1) * pg.per_page)),
                        (size_t)pg.per_page, &total);
    answer_page(rp, "campaigns", items, total, &pg);
}

struct query_text {
    char *buf;
    size_t len, cap;
};

static void qt_append(struct query_text *q, const char *s, size_t n)
{
    if (q->len + n + 1 > q->cap) {
        size_t cap = (q->len + n + 1) * 2;
        char *buf = realloc(q->buf, cap);
        if (!buf)
            return;
        q->buf = buf;
        q->cap = cap;
    }
    memcpy(q->buf + q->len, s, n);
    q->len += n;
    q->buf[q->len] = '\0';
}

static void qt_escape(struct query_text *q, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            strchr("-._~", c))
            qt_append(q, s, 1);
        else
            qt_append(q, esc, 3);
    }
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    struct query_text *q = cls;

    (void)kind;
    qt_append(q, q->len ? "&" : "?", 1);
    qt_escape(q, key);
    if (value) {
        qt_append(q, "=", 1);
        qt_escape(q, value);
    }
    return MHD_YES;
}

/* FastAPI's redirect_slashes: 307 to the documented path, query kept. */
static void redirect_slash(struct request *rq, struct reply *rp)
{
    struct query_text q = {0};
    const char *host = rq_header(rq, "Host");

    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, add_arg, &q);
    if (asprintf(&rp->location, "%s%s/api/v1/campaigns/%s", host ? "http://" : "", host ? host : "",
                 q.buf ? q.buf : "") < 0)
        rp->location = NULL;
    free(q.buf);
    rp->status = 307;
    rp->body = strdup("");
    rp->len = 0;
}

static void get_campaign(struct request *rq, struct reply *rp)
{
    struct campaign *c = find_campaign(rq, rp);

    if (!c)
        return;
    reply_json(rp, 200, jraw_record(&c->detail));
}

static void list_records(struct request *rq, struct reply *rp, bool calls)
{
    struct campaign *c = find_campaign(rq, rp);
    struct filter f = {"status", NULL, FILTER_EQ};
    struct paging pg;
    json_object *items;
    size_t total;

    if (!c || read_paging(rq, rp, &pg) < 0 ||
        read_status(rq, rp, contact_statuses, COUNT(contact_statuses), &f.value) < 0)
        return;
    items = page_select(
        calls ? c->calls : c->contacts, sizeof(struct record), calls ? c->ncalls : c->ncontacts, &f,
        1, rq_page_start(rq, (size_t)((pg.page - 1) * pg.per_page)), (size_t)pg.per_page, &total);
    answer_page(rp, calls ? "executions" : "contacts", items, total, &pg);
}

static void list_contacts(struct request *rq, struct reply *rp)
{
    list_records(rq, rp, false);
}

static void list_executions(struct request *rq, struct reply *rp)
{
    list_records(rq, rp, true);
}

static const struct endpoint endpoints[] = {
    {"GET", "/campaigns/", "GET /campaigns/", list_campaigns, false},
    {"GET", "/campaigns", "GET /campaigns", redirect_slash, true},
    {"GET", "/campaigns/*", "GET /campaigns/{id}", get_campaign, false},
    {"GET", "/campaigns/*/contacts", "GET /campaigns/{id}/contacts", list_contacts, false},
    {"GET", "/campaigns/*/executions", "GET /campaigns/{id}/executions", list_executions, false},
};

const struct api burki_api = {
    .id = SIM_BURKI,
    .prefix = "/api/v1",
    .endpoints = endpoints,
    .nendpoints = COUNT(endpoints),
    .error = burki_error,
    .authenticate = burki_authenticate,
    .throttled = burki_throttled,
    .key_header = "Authorization",
    .key_scheme = "Bearer ",
    .key_query = NULL,
};
