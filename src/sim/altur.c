/**
 * @file altur.c
 * Altur's HTTP API under /api/v1.0: campaigns (cursor pages), contacts and
 * calls (0-based pageIndex, total_count on the first contacts page only),
 * single records.  `Authorization: api-key KEY`.  400s are DRF
 * field->messages objects; 401/404/429 are {"error": N, "message": ...}.
 */
#include "api.h"
#include "creds.h"
#include "jwt.h"
#include "timefmt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PAGE_INDEX 25000

static const char *const campaign_statuses[] = {"pending",  "ready",    "active",
                                                "inactive", "cooldown", "finished"};
static const char *const integrations[] = {"phone_call", "whatsapp"};
static const char *const contact_statuses[] = {"queue",     "sending",  "sent",     "delivered",
                                               "voicemail", "read",     "failed",   "retrying",
                                               "converted", "answered", "accepted", "rejected"};
static const char *const call_statuses[] = {"ended", "failed", "busy", "no-answer", "in-progress"};
static const char *const answered[] = {"human", "machine", "unknown"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void altur_error(const struct request *rq, struct reply *rp, int status, const char *msg)
{
    json_object *o = json_object_new_object();

    (void)rq;
    if (status == 400) {
        const char *one[] = {msg};
        jadd(o, "non_field_errors", jstr_array(one, 1));
    } else {
        jadd_int(o, "error", status);
        jadd_str(o, "message", msg);
    }
    reply_json(rp, status, o);
}

static int altur_authenticate(const struct request *rq, struct reply *rp)
{
    const char *h = rq_header(rq, "Authorization");

    if (!h || !*h) {
        altur_error(rq, rp, 401, "Authentication credentials were not provided.");
        return -1;
    }
    if (strncasecmp(h, "api-key ", 8) != 0 || strcmp(h + 8, rq_creds(rq)->altur_key) != 0) {
        altur_error(rq, rp, 401, "Invalid API key.");
        return -1;
    }
    return 0;
}

static void altur_throttled(const struct request *rq, struct reply *rp, double wait,
                            double reset_at, long limit)
{
    (void)reset_at;
    (void)limit;
    altur_error(rq, rp, 429, "Request was throttled.");
    rp->retry_after = (int)ceil(fmax(0, wait)); /* the limiter's waits are > 0 */
}

/* ---- validation, DRF style: every bad field gets its messages ---- */

static void drf_add(json_object *errs, const char *field, const char *msg)
{
    const char *one[] = {msg};

    jadd(errs, field, jstr_array(one, 1));
}

static long drf_int(const struct request *rq, json_object *errs, const char *name, long min,
                    long max, long def)
{
    char msg[96];
    long v;

    switch (rq_query_int(rq, name, min, max, def, &v)) {
    case QINT_NOT_INT:
        drf_add(errs, name, "A valid integer is required.");
        break;
    case QINT_RANGE:
        if (v > max)
            snprintf(msg, sizeof(msg), "Ensure this value is less than or equal to %ld.", max);
        else
            snprintf(msg, sizeof(msg), "Ensure this value is greater than or equal to %ld.", min);
        drf_add(errs, name, msg);
        break;
    default:
        break;
    }
    return v;
}

static const char *drf_choice(const struct request *rq, json_object *errs, const char *name,
                              const char *const *choices, size_t n)
{
    const char *v = rq_query(rq, name);
    char msg[160];

    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(v, choices[i]) == 0)
            return v;
    }
    snprintf(msg, sizeof(msg), "\"%.100s\" is not a valid choice.", v);
    drf_add(errs, name, msg);
    return NULL;
}

/* A date filter as "YYYY-MM-DDTHH:MM:SS" (UTC) in out, or an error. */
static const char *drf_date(const struct request *rq, json_object *errs, const char *name,
                            char *out)
{
    const char *v = rq_query(rq, name);
    long long t;

    if (!v)
        return NULL;
    if (parse_iso(v, &t) < 0) {
        drf_add(errs, name, "Enter a valid date/time.");
        return NULL;
    }
    fmt_iso(out, SIM_TIME_SIZE, t);
    return out;
}

/* Answers 400 with errs if it has any; consumes errs either way. */
static bool drf_failed(struct reply *rp, json_object *errs)
{
    if (json_object_object_length(errs) == 0) {
        json_object_put(errs);
        return false;
    }
    reply_json(rp, 400, errs);
    return true;
}

static struct campaign *find_campaign(const struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_ALTUR];
    long i = dataset_campaign(ds, rq->cap[0]);

    if (i < 0) {
        altur_error(rq, rp, 404, "Campaign not found.");
        return NULL;
    }
    return &ds->camps[i];
}

/* ---- campaigns: cursor pages ---- */

static char *cursor_encode(long offset)
{
    char text[32];

    snprintf(text, sizeof(text), "o=%ld", offset);
    return b64url_encode(text, strlen(text));
}

static int cursor_decode(const char *cursor, long *offset)
{
    size_t n;
    char *text = (char *)b64url_decode(cursor, strlen(cursor), &n);
    int used = 0, ok;

    if (!text)
        return -1;
    ok = sscanf(text, "o=%ld%n", offset, &used) == 1 && (size_t)used == n && *offset >= 0;
    free(text);
    return ok ? 0 : -1;
}

static json_object *cursor_pagination(long offset, long size, size_t total)
{
    json_object *p = json_object_new_object();
    bool next = (size_t)(offset + size)<total, prev = offset> 0;
    char *nc = next ? cursor_encode(offset + size) : NULL;
    char *pc = prev ? cursor_encode(offset > size ? offset - size : 0) : NULL;

    jadd_bool(p, "has_next", next);
    jadd_bool(p, "has_previous", prev);
    jadd_str(p, "next_cursor", nc);
    jadd_str(p, "previous_cursor", pc);
    free(nc);
    free(pc);
    return p;
}

static void list_campaigns(struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_ALTUR];
    json_object *errs = json_object_new_object(), *o, *items;
    long size = drf_int(rq, errs, "pageSize", 1, 100, 50), offset = 0;
    const char *cursor = rq_query(rq, "cursor");
    char from[SIM_TIME_SIZE], to[SIM_TIME_SIZE];
    struct filter f[5] = {{"status", NULL, FILTER_EQ},
                          {"integration", NULL, FILTER_EQ},
                          {"archived", rq_query(rq, "archived"), FILTER_EQ},
                          {"created_at", NULL, FILTER_GE},
                          {"created_at", NULL, FILTER_LE}};
    size_t total;

    f[0].value = drf_choice(rq, errs, "status", campaign_statuses, COUNT(campaign_statuses));
    f[1].value = drf_choice(rq, errs, "integration", integrations, COUNT(integrations));
    f[3].value = drf_date(rq, errs, "startDate", from);
    f[4].value = drf_date(rq, errs, "endDate", to);
    if (!rq_query(rq, "startDate") != !rq_query(rq, "endDate"))
        drf_add(errs, "non_field_errors", "startDate and endDate must be sent together.");
    if (cursor && cursor_decode(cursor, &offset) < 0)
        drf_add(errs, "cursor", "Invalid cursor.");
    if (drf_failed(rp, errs))
        return;
    items = page_select(&ds->camps[0].item, sizeof(struct campaign), ds->ncamps, f, COUNT(f),
                        rq_page_start(rq, (size_t)offset), (size_t)size, &total);
    o = json_object_new_object();
    jadd_int(o, "total_count", (long long)total);
    jadd(o, "campaigns", items);
    jadd(o, "pagination", cursor_pagination(offset, size, total));
    reply_json(rp, 200, o);
}

static void get_campaign(struct request *rq, struct reply *rp)
{
    struct campaign *c = find_campaign(rq, rp);
    json_object *o;

    if (!c)
        return;
    o = json_object_new_object();
    jadd_bool(o, "success", true);
    jadd(o, "campaign", jraw_record(&c->detail));
    reply_json(rp, 200, o);
}

/* ---- contacts and calls: 0-based page index ---- */

static void page_links(json_object *p, long index, long size, size_t total)
{
    bool next = (size_t)((index + 1) * size) < total;

    jadd_bool(p, "has_next", next);
    jadd_bool(p, "has_previous", index > 0);
    if (next)
        jadd_int(p, "next_page", index + 1);
    else
        jadd_null(p, "next_page");
    if (index > 0)
        jadd_int(p, "previous_page", index - 1);
    else
        jadd_null(p, "previous_page");
}

static void list_contacts(struct request *rq, struct reply *rp)
{
    struct campaign *c = find_campaign(rq, rp);
    json_object *errs, *o, *items, *p;
    long index, size;
    size_t total;

    if (!c)
        return;
    errs = json_object_new_object();
    index = drf_int(rq, errs, "pageIndex", 0, MAX_PAGE_INDEX, 0);
    size = drf_int(rq, errs, "pageSize", 1, 100, 50);
    struct filter f = {"status", NULL, FILTER_EQ};
    f.value = drf_choice(rq, errs, "status", contact_statuses, COUNT(contact_statuses));
    if (drf_failed(rp, errs))
        return;
    items = page_select(c->contacts, sizeof(struct record), c->ncontacts, &f, 1,
                        rq_page_start(rq, (size_t)(index * size)), (size_t)size, &total);
    o = json_object_new_object();
    p = json_object_new_object();
    /* Altur computes the total on the first page only. */
    if (index == 0)
        jadd_int(o, "total_count", (long long)total);
    jadd(o, "contacts", items);
    page_links(p, index, size, total);
    jadd(o, "pagination", p);
    reply_json(rp, 200, o);
}

static void get_contact(struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_ALTUR];
    struct campaign *c = find_campaign(rq, rp);
    char key[REQ_CAP_SIZE * 2 + 16];
    size_t camp, idx;
    json_object *o;

    if (!c)
        return;
    snprintf(key, sizeof(key), "contact:%s:%s", rq->cap[0], rq->cap[1]);
    if (dataset_lookup(ds, key, &camp, &idx) < 0) {
        altur_error(rq, rp, 404, "Contact not found.");
        return;
    }
    o = json_object_new_object();
    jadd_bool(o, "success", true);
    jadd(o, "contact", jraw_record(&ds->camps[camp].contacts[idx]));
    reply_json(rp, 200, o);
}

static void list_calls(struct request *rq, struct reply *rp)
{
    struct campaign *c = find_campaign(rq, rp);
    json_object *errs, *o, *items, *p;
    char from[SIM_TIME_SIZE], to[SIM_TIME_SIZE];
    long index, size;
    size_t total;

    if (!c)
        return;
    errs = json_object_new_object();
    index = drf_int(rq, errs, "pageIndex", 0, MAX_PAGE_INDEX, 0);
    size = drf_int(rq, errs, "pageSize", 1, 100, 50);
    struct filter f[4] = {{"status", NULL, FILTER_EQ},
                          {"answered_by", NULL, FILTER_EQ},
                          {"created_at", NULL, FILTER_GE},
                          {"created_at", NULL, FILTER_LE}};
    f[0].value = drf_choice(rq, errs, "status", call_statuses, COUNT(call_statuses));
    f[1].value = drf_choice(rq, errs, "answeredBy", answered, COUNT(answered));
    f[2].value = drf_date(rq, errs, "startDate", from);
    f[3].value = drf_date(rq, errs, "endDate", to);
    if (drf_failed(rp, errs))
        return;
    items = page_select(c->calls, sizeof(struct record), c->ncalls, f, COUNT(f),
                        rq_page_start(rq, (size_t)(index * size)), (size_t)size, &total);
    o = json_object_new_object();
    p = json_object_new_object();
    jadd_int(o, "total_count", (long long)total);
    jadd(o, "calls", items);
    jadd_int(p, "page_index", index);
    jadd_int(p, "page_size", size);
    page_links(p, index, size, total);
    jadd(o, "pagination", p);
    reply_json(rp, 200, o);
}

/* The call detail: the listed call plus its conversation thread. */
static void get_call(struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_ALTUR];
    char key[REQ_CAP_SIZE + 8];
    const struct record *rec;
    size_t camp, idx;
    int n;

    snprintf(key, sizeof(key), "call:%s", rq->cap[0]);
    if (dataset_lookup(ds, key, &camp, &idx) < 0) {
        altur_error(rq, rp, 404, "Call not found.");
        return;
    }
    rec = &ds->camps[camp].calls[idx];
    n = asprintf(&rp->body, "%.*s,\"thread\":{\"id\":\"thr_%.16s\",\"channel\":\"phone_call\"}}",
                 (int)rec->len - 1, rec->text, rq->cap[0] + 5);
    rp->status = 200;
    rp->len = n > 0 ? (size_t)n : 0;
    if (n < 0)
        rp->body = NULL;
}

static const struct endpoint endpoints[] = {
    {"GET", "/campaigns", "GET /campaigns", list_campaigns, false},
    {"GET", "/campaigns/*", "GET /campaigns/{id}", get_campaign, false},
    {"GET", "/campaigns/*/contacts", "GET /campaigns/{id}/contacts", list_contacts, false},
    {"GET", "/campaigns/*/contacts/*", "GET /campaigns/{id}/contacts/{contact_id}", get_contact,
     false},
    {"GET", "/campaigns/*/calls", "GET /campaigns/{id}/calls", list_calls, false},
    {"GET", "/call/*", "GET /call/{id}", get_call, false},
};

const struct api altur_api = {
    .id = SIM_ALTUR,
    .prefix = "/api/v1.0",
    .endpoints = endpoints,
    .nendpoints = COUNT(endpoints),
    .error = altur_error,
    .authenticate = altur_authenticate,
    .throttled = altur_throttled,
    .key_header = "Authorization",
    .key_scheme = "api-key ",
    .key_query = NULL,
};
