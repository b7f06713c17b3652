/**
 * @file koreai.c
 * Kore.ai's campaign API under /campaign/api/v2/public/{streamId}: the
 * campaign list (POST, body {"type": "voice", "skip", "limit"}), one
 * campaign, and a campaign's contacts (POST .../status?view=contacts, body
 * {"page", "limit" <= 100}).  Every request carries `auth: <HS256 JWT>`
 * signed with the client secret (claim appId = the client id), `iid: <the
 * stream id>` and `accountId` (header or query).  Success bodies say
 * "status": "success"; errors {"status": "failure", "message", "errors":
 * [{"msg", "code"}]}.
 */
#include "api.h"
#include "creds.h"
#include "jwt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char *status_title(int status)
{
    switch (status) {
    case 400:
        return "Validation failed";
    case 401:
        return "Unauthorized";
    case 404:
        return "Not found";
    case 405:
        return "Method not allowed";
    case 413:
        return "Payload too large";
    case 429:
        return "Too many requests";
    case 503:
        return "Service unavailable";
    default:
        return "Internal server error";
    }
}

static void koreai_error(const struct request *rq, struct reply *rp, int status, const char *msg)
{
    json_object *o = json_object_new_object(), *errs = json_object_new_array();
    json_object *e = json_object_new_object();

    (void)rq;
    jadd_str(o, "status", "failure");
    jadd_str(o, "message", status_title(status));
    jadd_str(e, "msg", msg);
    jadd_int(e, "code", status);
    json_object_array_add(errs, e);
    jadd(o, "errors", errs);
    reply_json(rp, status, o);
}

/* The token's payload names our client id as appId. */
static bool token_valid(const char *token, const struct creds *c)
{
    char *payload = NULL;
    json_object *claims;
    const char *app;
    bool ok;

    if (!token || jwt_hs256_verify(token, c->koreai_secret, strlen(c->koreai_secret), &payload))
        return false;
    claims = json_tokener_parse(payload);
    free(payload);
    app = json_object_is_type(claims, json_type_object) ? jget_str(claims, "appId") : NULL;
    ok = app && strcmp(app, c->koreai_client_id) == 0;
    json_object_put(claims);
    return ok;
}

static int koreai_authenticate(const struct request *rq, struct reply *rp)
{
    const struct creds *c = rq_creds(rq);
    const char *iid = rq_header(rq, "iid");
    const char *account = rq_header(rq, "accountId");
    const char *why = NULL;

    if (!account)
        account = rq_query(rq, "accountId");
    if (!rq_header(rq, "auth"))
        why = "Missing auth token";
    else if (!token_valid(rq_header(rq, "auth"), c))
        why = "Invalid or expired auth token";
    else if (!iid || strcmp(iid, c->koreai_stream) || strcmp(rq->cap[0], c->koreai_stream))
        why = "Invalid iid: the stream id does not match";
    else if (!account || strcmp(account, c->koreai_account))
        why = "Invalid accountId";
    if (!why)
        return 0;
    koreai_error(rq, rp, 401, why);
    return -1;
}

static void koreai_throttled(const struct request *rq, struct reply *rp, double wait,
                             double reset_at, long limit)
{
    (void)wait;
    (void)reset_at;
    (void)limit;
    koreai_error(rq, rp, 429, "Rate limit exceeded");
}

/* ---- request bodies, validated like Joi ---- */

/* The body as an object ({} if empty); NULL after answering 400. */
static json_object *read_body(const struct request *rq, struct reply *rp)
{
    json_object *b;

    if (rq->body_len == 0)
        return json_object_new_object();
    b = json_tokener_parse(rq->body);
    if (json_object_is_type(b, json_type_object))
        return b;
    json_object_put(b);
    koreai_error(rq, rp, 400, "Request body must be a JSON object");
    return NULL;
}

static int body_int(const struct request *rq, struct reply *rp, json_object *body, const char *name,
                    long min, long max, long *out)
{
    json_object *v;
    char msg[96];
    long long n;

    if (!json_object_object_get_ex(body, name, &v))
        return 0;
    if (json_object_is_type(v, json_type_int)) {
        n = (long long)json_object_get_int64(v);
        if (n >= min && n <= max) {
            *out = (long)n;
            return 0;
        }
        if (n < min)
            snprintf(msg, sizeof(msg), "\"%s\" must be greater than or equal to %ld", name, min);
        else
            snprintf(msg, sizeof(msg), "\"%s\" must be less than or equal to %ld", name, max);
    } else {
        snprintf(msg, sizeof(msg), "\"%s\" must be %s", name,
                 json_object_is_type(v, json_type_double) ? "an integer" : "a number");
    }
    koreai_error(rq, rp, 400, msg);
    return -1;
}

static struct campaign *find_campaign(const struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_KOREAI];
    long i = dataset_campaign(ds, rq->cap[1]);

    if (i < 0) {
        koreai_error(rq, rp, 404, "Campaign not found");
        return NULL;
    }
    return &ds->camps[i];
}

static json_object *success(const char *message, json_object *data)
{
    json_object *o = json_object_new_object();

    jadd_str(o, "status", "success");
    if (message)
        jadd_str(o, "message", message);
    jadd(o, "data", data);
    return o;
}

static long pages_of(size_t total, long limit)
{
    return (long)((total + (size_t)limit - 1) / (size_t)limit);
}

static int read_type(const struct request *rq, struct reply *rp, json_object *body)
{
    const char *type = jget_str(body, "type");

    if (type && strcmp(type, "voice") == 0)
        return 0;
    koreai_error(rq, rp, 400, type ? "\"type\" must be [voice]" : "\"type\" is required");
    return -1;
}

static void list_campaigns(struct request *rq, struct reply *rp)
{
    struct dataset *ds = &rq_world(rq)->ds[SIM_KOREAI];
    json_object *body = read_body(rq, rp), *d, *items;
    long skip = 0, limit = 10;
    size_t total;

    if (!body)
        return;
    if (read_type(rq, rp, body) < 0 || body_int(rq, rp, body, "skip", 0, 1000000000L, &skip) < 0 ||
        body_int(rq, rp, body, "limit", 1, 100, &limit) < 0) {
        json_object_put(body);
        return;
    }
    json_object_put(body);
    items = page_select(&ds->camps[0].item, sizeof(struct campaign), ds->ncamps, NULL, 0,
                        rq_page_start(rq, (size_t)skip), (size_t)limit, &total);
    d = json_object_new_object();
    jadd(d, "results", items);
    jadd_int(d, "skip", skip);
    jadd_int(d, "limit", limit);
    jadd_bool(d, "hasMore", (size_t)(skip + limit) < total);
    jadd_int(d, "totalPages", pages_of(total, limit));
    jadd_int(d, "totalResults", (long long)total);
    reply_json(rp, 200, success("Campaigns fetched successfully", d));
}

static void get_campaign(struct request *rq, struct reply *rp)
{
    struct campaign *c = find_campaign(rq, rp);

    if (c)
        reply_json(rp, 200, success("Campaign fetched successfully", jraw_record(&c->detail)));
}

static void contacts_page(struct request *rq, struct reply *rp, struct campaign *c,
                          json_object *body)
{
    long page = 1, limit = 10;
    json_object *d, *items;
    size_t total;

    if (body_int(rq, rp, body, "page", 1, 1000000000L, &page) < 0 ||
        body_int(rq, rp, body, "limit", 1, 100, &limit) < 0)
        return;
    items = page_select(c->contacts, sizeof(struct record), c->ncontacts, NULL, 0,
                        rq_page_start(rq, (size_t)((page - 1) * limit)), (size_t)limit, &total);
    d = json_object_new_object();
    jadd(d, "results", items);
    jadd_int(d, "page", page);
    jadd_int(d, "limit", limit);
    jadd_int(d, "totalPages", pages_of(total, limit));
    jadd_int(d, "totalResults", (long long)total);
    reply_json(rp, 200, success(NULL, d));
}

/* Without view=contacts: the campaign's progress summary. */
static void status_summary(struct reply *rp, struct campaign *c)
{
    json_object *d = json_object_new_object();
    long done = 0, attempted = 0;

    for (size_t i = 0; i < c->ncontacts; i++) {
        const char *outcome = jget_str(c->contacts[i].obj, "dialerOutcome");
        done += outcome[0] != '\0';
        attempted += jget_int(c->contacts[i].obj, "numberOfAttemptsSoFar") > 0;
    }
    jadd_str(d, "_id", c->id);
    jadd_str(d, "name", jget_str(c->detail.obj, "name"));
    jadd_str(d, "status", jget_str(c->detail.obj, "status"));
    jadd_int(d, "totalContacts", (long long)c->ncontacts);
    jadd_int(d, "completed", done);
    jadd_int(d, "inProgress", attempted - done > 0 ? attempted - done : 0);
    jadd_int(d, "pending", (long long)c->ncontacts - (attempted > done ? attempted : done));
    reply_json(rp, 200, success("Campaign status fetched successfully", d));
}

static void campaign_status(struct request *rq, struct reply *rp)
{
    struct campaign *c = find_campaign(rq, rp);
    const char *view = rq_query(rq, "view");
    json_object *body;

    if (!c)
        return;
    if (view && strcmp(view, "contacts") != 0) {
        koreai_error(rq, rp, 400, "\"view\" must be [contacts]");
        return;
    }
    body = read_body(rq, rp);
    if (!body)
        return;
    if (view)
        contacts_page(rq, rp, c, body);
    else
        status_summary(rp, c);
    json_object_put(body);
}

static const struct endpoint endpoints[] = {
    {"POST", "/*/campaign/getAllCampaignDetails", "POST /campaign/getAllCampaignDetails",
     list_campaigns, false},
    {"GET", "/*/campaign/*", "GET /campaign/{campaignId}", get_campaign, false},
    {"POST", "/*/campaign/*/status", "POST /campaign/{campaignId}/status", campaign_status, false},
};

const struct api koreai_api = {
    .id = SIM_KOREAI,
    .prefix = "/campaign/api/v2/public",
    .endpoints = endpoints,
    .nendpoints = COUNT(endpoints),
    .error = koreai_error,
    .authenticate = koreai_authenticate,
    .throttled = koreai_throttled,
    .key_header = "accountId",
    .key_scheme = NULL,
    .key_query = "accountId",
};
