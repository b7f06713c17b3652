/**
 * @file fetch.c
 * The paginator on the engine: page slots indexed by page number, each one
 * request; a slot is parsed and rendered when its answer arrives and taken
 * into the listing when every page before it has been.  A fetch lives until
 * its result was delivered and every request it made has ended.
 */
#include "fetch.h"

#include <curl/curl.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "engine.h"
#include "rate.h"

struct page_slot {
    struct fetch *f;
    long index;
    char *key; /* path_query, newline, body: the request it was asked with */
    bool ready;
    bool abandoned; /* replaced or no longer wanted: freed when its request ends */
    struct listing_builder page;
    struct page_info info;
    char *bytes; /* a record's rendered bytes */
    size_t len;
    time_t rec_time;
};

struct fetch {
    struct engine *engine;
    struct account *acct;
    const struct collection *coll;    /* NULL for a record */
    const struct record_endpoint *ep; /* for a record */
    char *name;                       /* a record's entry name */
    char *id;                         /* a record's raw id */
    struct request_vars vars;
    char *campaign_esc, *id_esc;
    fetch_done_fn done;
    void *arg;
    struct fetch_progress progress;

    /* requests not ended, plus one until the result is delivered; atomic:
     * fetch_start() runs on the asker's thread while its first request
     * may already have ended on the engine thread */
    atomic_int refs;

    /* engine thread only (and the asker's, before the first request) */
    bool over;
    struct page_cursor cur;
    long next;    /* index of the next page to take */
    long planned; /* pages the first page announced (0: unknown) */
    long asked;   /* pages asked so far: 0 .. asked-1 */
    struct page_slot **slots;
    size_t n_slots;
    struct listing_builder b;
    void *cursors; /* tsearch set of the cursors pages gave (cursor style) */
    char *url;     /* the URL of the first request (for xattrs and status) */
};

/* ---- slots ---- */

static void slot_free(struct page_slot *s)
{
    if (!s)
        return;
    listing_builder_discard(&s->page);
    page_info_free(&s->info);
    free(s->key);
    free(s->bytes);
    free(s);
}

/* Drops a slot: at once if its answer is in, else when its request ends. */
static void slot_abandon(struct page_slot *s)
{
    if (s->ready)
        slot_free(s);
    else
        s->abandoned = true;
}

static int slots_reserve(struct fetch *f, long index)
{
    size_t n = f->n_slots ? f->n_slots : 8;
    struct page_slot **slots;

    if ((size_t)index < f->n_slots)
        return 0;
    while (n <= (size_t)index)
        n *= 2;
    slots = realloc(f->slots, n * sizeof(*slots));
    if (!slots)
        return -1;
    memset(slots + f->n_slots, 0, (n - f->n_slots) * sizeof(*slots));
    f->slots = slots;
    f->n_slots = n;
    return 0;
}

/* ---- the fetch's life ---- */

static void fetch_free(struct fetch *f)
{
    for (size_t i = 0; i < f->n_slots; i++)
        slot_free(f->slots[i]);
    free(f->slots);
    listing_builder_discard(&f->b);
    free(f->cur.cursor);
    tdestroy(f->cursors, free);
    free(f->url);
    curl_free(f->campaign_esc);
    curl_free(f->id_esc);
    free(f->name);
    free(f->id);
    free(f);
}

static void fetch_ref(struct fetch *f)
{
    atomic_fetch_add(&f->refs, 1);
}

static void fetch_unref(struct fetch *f)
{
    if (atomic_fetch_sub(&f->refs, 1) == 1)
        fetch_free(f);
}

/* Delivers the result once: l, or NULL with err. */
static void deliver(struct fetch *f, struct listing *l, const struct fetch_error *err)
{
    if (f->over) {
        listing_unref(l);
        return;
    }
    f->over = true;
    for (size_t i = 0; i < f->n_slots; i++) {
        if (f->slots[i])
            slot_abandon(f->slots[i]);
        f->slots[i] = NULL;
    }
    fetch_ref(f); /* cancelled requests end inside engine_cancel_flow() */
    engine_cancel_flow(f->engine, f);
    f->done(f, l, err, f->arg);
    fetch_unref(f);
    fetch_unref(f); /* the reference held until the result was delivered */
}

static void fail(struct fetch *f, enum fetch_class cls, const char *what)
{
    struct fetch_error err = {.cls = cls};

    snprintf(err.message, sizeof(err.message), "[%s] %s", f->acct->name, what);
    deliver(f, NULL, &err);
}

/* ---- requests ---- */

static enum body_verdict verdict(int rc)
{
    /* a well-formed body that says "failure", or is not what the provider
     * documents, is an answer, not damage: not asked again */
    if (rc == PARSE_FAILURE)
        return BODY_FAILURE;
    return rc == PARSE_INVALID ? BODY_INVALID : BODY_MALFORMED;
}

/* Why a record of a page was refused, in err. */
static enum body_verdict refused_record(const struct collection *coll, int rc, size_t i, char *err,
                                        size_t errlen)
{
    char ids[160] = "";

    if (rc == LISTING_NOT_OBJECT) {
        snprintf(err, errlen, "item %zu of the '%s' array is not an object", i, coll->items);
        return BODY_INVALID;
    }
    if (rc != LISTING_NO_ID) {
        snprintf(err, errlen, "out of memory while reading the answer");
        return BODY_NOMEM;
    }
    for (size_t k = 0; k < PROVIDER_MAX_FIELDS && coll->ids[k]; k++) {
        size_t used = strlen(ids);
        snprintf(ids + used, sizeof(ids) - used, "%s'%s'", k ? " or " : "", coll->ids[k]);
    }
    snprintf(err, errlen, "item %zu of the '%s' array has no id (no non-empty %s)", i, coll->items,
             ids);
    return BODY_INVALID;
}

static enum body_verdict read_page(const char *body, size_t len, void *ctx, char *err,
                                   size_t errlen)
{
    struct page_slot *s = ctx;
    struct fetch *f = s->f;
    json_object *root, *items;
    int rc;

    atomic_fetch_add(&f->progress.bytes, (long)len);
    listing_builder_discard(&s->page);
    page_info_free(&s->info);
    rc = provider_page_read(f->acct->provider, f->coll, body, len, &root, &items, &s->info, err,
                            errlen);
    if (rc < 0)
        return verdict(rc);
    listing_builder_init(&s->page, f->coll, f->b.type);
    for (size_t i = 0; i < json_object_array_length(items); i++) {
        rc = listing_builder_add_record(&s->page, json_object_array_get_idx(items, i));
        if (rc < 0) {
            json_object_put(root);
            listing_builder_discard(&s->page);
            return refused_record(f->coll, rc, i, err, errlen);
        }
    }
    json_object_put(root);
    return BODY_OK;
}

static enum body_verdict read_record(const char *body, size_t len, void *ctx, char *err,
                                     size_t errlen)
{
    struct page_slot *s = ctx;
    struct fetch *f = s->f;
    json_object *root, *rec;
    int rc = provider_record_parse(f->acct->provider, f->ep, body, len, &root, &rec, err, errlen);

    atomic_fetch_add(&f->progress.bytes, (long)len);
    if (rc < 0)
        return verdict(rc);
    free(s->bytes);
    s->bytes = render_record(rec, &s->len);
    s->rec_time = record_time(rec, f->ep->times);
    json_object_put(root);
    if (!s->bytes) {
        snprintf(err, errlen, "out of memory while reading the answer");
        return BODY_NOMEM;
    }
    return BODY_OK;
}

static void advance(struct fetch *f);
static void finish_record(struct fetch *f, struct page_slot *s);

static void request_done(struct engine_req *r, const struct fetch_error *err)
{
    struct page_slot *s = r->ctx;
    struct fetch *f = s->f;

    engine_req_free(r);
    if (s->abandoned || f->over) {
        slot_free(s);
    } else if (err) {
        f->slots[s->index] = NULL;
        slot_free(s);
        deliver(f, NULL, err);
    } else {
        s->ready = true;
        if (f->coll)
            advance(f);
        else
            finish_record(f, s);
    }
    fetch_unref(f);
}

/* What identifies a page request: path and query, newline, body. */
static char *request_key(const struct page_request *req)
{
    char *key = NULL;

    if (asprintf(&key, "%s\n%s", req->path_query, req->body ? req->body : "") < 0)
        return NULL;
    return key;
}

/* Asks page `index` with req (consumed); the slot takes the place of any
 * slot of that index. */
static int ask(struct fetch *f, long index, struct page_request *req)
{
    struct page_slot *s = calloc(1, sizeof(*s));
    struct engine_req *r = NULL;

    if (s)
        s->key = request_key(req);
    if (s && s->key)
        r = engine_req_new(f->acct, req->path_query, req->body);
    page_request_free(req);
    if (!r || slots_reserve(f, index) < 0) {
        engine_req_free(r);
        slot_free(s);
        return -1;
    }
    s->f = f;
    s->index = index;
    if (index >= f->asked)
        f->asked = index + 1;
    if (f->slots[index])
        slot_abandon(f->slots[index]);
    f->slots[index] = s;
    r->validate = f->coll ? read_page : read_record;
    r->ctx = s;
    r->flow = f;
    r->done = request_done;
    fetch_ref(f);
    engine_submit(f->engine, r);
    return 0;
}

/* Makes sure the request the cursor asks for next is the one asked for
 * page f->next (a speculative one with another request is replaced). */
static int ensure_next(struct fetch *f)
{
    struct page_request req;
    struct page_slot *s;
    char *key = NULL;
    bool same;

    if (provider_page_request(f->coll, &f->vars, &f->cur, &req) < 0)
        return -1;
    s = (size_t)f->next < f->n_slots ? f->slots[f->next] : NULL;
    if (!s)
        return ask(f, f->next, &req);
    key = request_key(&req);
    if (!key) {
        page_request_free(&req);
        return -1;
    }
    same = strcmp(key, s->key) == 0;
    free(key);
    if (same) {
        page_request_free(&req);
        return 0;
    }
    return ask(f, f->next, &req);
}

/* Pages asked ahead of the one to take next: enough to keep the account's
 * concurrency busy, few enough that a first page announcing more pages than
 * there are costs little. */
static long ahead(const struct fetch *f)
{
    return 4L * (f->acct->concurrency > 0 ? f->acct->concurrency : 1);
}

/* Asks the pages the first page announced, as the cursor would ask for
 * them if every page is full, up to ahead() past the next one to take. */
static int top_up(struct fetch *f)
{
    long size = f->coll->max_page_size > 0 ? f->coll->max_page_size : 100;

    while (f->asked < f->planned && f->asked < f->next + ahead(f)) {
        struct page_cursor c = {
            .index = f->asked, .offset = f->asked * size, .total = f->cur.total};
        struct page_request req;
        if (provider_page_request(f->coll, &f->vars, &c, &req) < 0 || ask(f, f->asked, &req) < 0)
            return -1;
    }
    return 0;
}

/* Ends the fetch with an answer of page s that cannot be believed. */
static void fail_page(struct fetch *f, struct page_slot *s, const char *what)
{
    struct fetch_error err;
    char *url = NULL;
    size_t n = strcspn(s->key, "\n");

    if (asprintf(&url, "%s%.*s", f->acct->url, (int)n, s->key) < 0)
        url = NULL;
    http_set_error(&err, f->acct, f->coll->post ? "POST" : "GET", url ? url : f->acct->url,
                   FETCH_INVALID, 0, what);
    free(url);
    slot_free(s);
    atomic_fetch_add(&f->acct->failures, 1);
    deliver(f, NULL, &err);
}

static int cursor_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* What makes page f->next (read into info) contradict itself or the pages
 * before it, in what; false if nothing does. */
static bool contradicts(struct fetch *f, const struct page_info *info, char *what, size_t len)
{
    const char *next = info->next_cursor;
    bool cursor = f->coll->style == PAGE_CURSOR;
    char *copy, **seen;

    if (info->n_items == 0 && (info->more == 1 || (cursor && next && *next && info->more != 0))) {
        snprintf(what, len, "page %ld is empty but says that more pages follow", f->next + 1);
        return true;
    }
    if (!cursor || !next || !*next || info->more == 0)
        return false;
    copy = strdup(next);
    seen = copy ? tsearch(copy, &f->cursors, cursor_cmp) : NULL;
    if (seen && *seen != copy) {
        free(copy);
        snprintf(what, len,
                 "page %ld gives a next cursor that an earlier page gave: the listing would never "
                 "end",
                 f->next + 1);
        return true;
    }
    if (!seen)
        free(copy); /* out of memory: the check is skipped, the page limit still holds */
    return false;
}

/* Whether the complete listing holds far fewer records than its first page
 * promised (under 90 % of the total, less one page for records deleted
 * meanwhile), in what. */
static bool too_few(const struct fetch *f, char *what, size_t len)
{
    long size = f->coll->max_page_size > 0 ? f->coll->max_page_size : 100;
    long total = f->cur.total, n = (long)f->b.n;

    if (total < 0 || n + size >= total - total / 10)
        return false;
    snprintf(what, len, "the listing ended after %ld records, but its first page promised %ld", n,
             total);
    return true;
}

/* Takes every page that is in, in order; asks what comes next. */
static void advance(struct fetch *f)
{
    while (!f->over && (size_t)f->next < f->n_slots && f->slots[f->next] &&
           f->slots[f->next]->ready) {
        struct page_slot *s = f->slots[f->next];
        char what[256];
        int rc;

        f->slots[f->next] = NULL;
        if (contradicts(f, &s->info, what, sizeof(what))) {
            fail_page(f, s, what);
            return;
        }
        provider_page_advance(f->coll, &s->info, &f->cur);
        rc = listing_builder_take_page(&f->b, &s->page);
        if (rc == LISTING_PAGE_REPEATS || f->cur.over_limit) {
            if (f->cur.over_limit)
                snprintf(what, sizeof(what),
                         "the listing goes on past %ld pages, the most the provider documents",
                         provider_max_pages(f->coll));
            else
                snprintf(what, sizeof(what),
                         "page %ld repeats page %ld record for record: the server seems to "
                         "ignore the page asked for",
                         f->next + 1, f->next);
            fail_page(f, s, what);
            return;
        }
        if (rc == 0 && f->cur.done && too_few(f, what, sizeof(what))) {
            fail_page(f, s, what);
            return;
        }
        if (f->next == 0 && !f->cur.done) {
            f->planned = provider_page_count(f->coll, &s->info);
            atomic_store(&f->progress.pages_total, f->planned);
        }
        slot_free(s);
        f->next++;
        atomic_store(&f->progress.pages_done, f->next);
        atomic_store(&f->progress.records, (long)f->b.n);
        if (f->cur.done)
            atomic_store(&f->progress.pages_total, f->next);
        else if (f->next >= atomic_load(&f->progress.pages_total))
            atomic_store(&f->progress.pages_total, -1); /* past the plan: unknown */
        if (rc == 0 && f->cur.done) {
            struct listing *l = listing_builder_finish(&f->b);
            if (l)
                deliver(f, l, NULL);
            else
                fail(f, FETCH_INTERNAL, "out of memory");
            return;
        }
        if (rc < 0 || ensure_next(f) < 0 || top_up(f) < 0) {
            fail(f, FETCH_INTERNAL, "out of memory");
            return;
        }
    }
}

static void finish_record(struct fetch *f, struct page_slot *s)
{
    struct listing_builder b;
    struct listing *l = NULL;

    listing_builder_init(&b, NULL, ENTRY_FILE);
    if (listing_builder_add(&b, f->name, f->id, ENTRY_FILE, s->bytes, s->len, s->rec_time) == 0)
        l = listing_builder_finish(&b);
    else
        listing_builder_discard(&b);
    atomic_store(&f->progress.pages_done, 1);
    atomic_store(&f->progress.records, 1);
    if (l)
        deliver(f, l, NULL);
    else
        fail(f, FETCH_INTERNAL, "out of memory");
}

/* ---- starting ---- */

static struct fetch *fetch_new(struct engine *e, struct account *a, const char *campaign,
                               const char *id, fetch_done_fn done, void *arg)
{
    struct fetch *f = calloc(1, sizeof(*f));

    if (!f)
        return NULL;
    f->engine = e;
    f->acct = a;
    f->done = done;
    f->arg = arg;
    atomic_init(&f->refs, 1);
    f->cur.total = -1;
    f->campaign_esc = campaign ? curl_easy_escape(NULL, campaign, 0) : NULL;
    f->id_esc = id ? curl_easy_escape(NULL, id, 0) : NULL;
    f->vars.campaign = f->campaign_esc;
    f->vars.id = f->id_esc;
    f->vars.account_id = a->account_id_esc;
    f->vars.stream = a->stream_esc;
    f->progress.started = rate_now();
    f->progress.started_wall = time(NULL);
    atomic_init(&f->progress.pages_total, -1);
    if ((campaign && !f->campaign_esc) || (id && !f->id_esc)) {
        fetch_free(f);
        return NULL;
    }
    return f;
}

struct fetch *fetch_collection(struct engine *e, struct account *a, const struct collection *coll,
                               const char *campaign, const char *status, enum entry_type type,
                               fetch_done_fn done, void *arg)
{
    /* the record id's slot carries the status: a list has no id */
    struct fetch *f = fetch_new(e, a, campaign, status, done, arg);

    if (!f)
        return NULL;
    f->vars.status = f->vars.id;
    f->vars.id = NULL;
    f->coll = coll;
    listing_builder_init(&f->b, coll, type);
    return f;
}

struct fetch *fetch_record(struct engine *e, struct account *a, const struct record_endpoint *ep,
                           const char *campaign, const char *id, const char *name,
                           fetch_done_fn done, void *arg)
{
    struct fetch *f = fetch_new(e, a, campaign, id, done, arg);

    if (!f)
        return NULL;
    f->ep = ep;
    f->name = strdup(name);
    f->id = id ? strdup(id) : NULL;
    atomic_store(&f->progress.pages_total, 1);
    if (!f->name || (id && !f->id)) {
        fetch_free(f);
        return NULL;
    }
    return f;
}

void fetch_start(struct fetch *f)
{
    struct page_request req;
    int rc;

    fetch_ref(f); /* the first request may end before ask() returns */
    if (f->coll)
        rc = provider_page_request(f->coll, &f->vars, &f->cur, &req);
    else
        rc = provider_record_request(f->ep, &f->vars, &req);
    if (rc == 0 && asprintf(&f->url, "%s%s", f->acct->url, req.path_query) < 0)
        f->url = NULL;
    if (rc < 0 || ask(f, 0, &req) < 0)
        fail(f, FETCH_INTERNAL, "out of memory");
    fetch_unref(f);
}

const char *fetch_url(const struct fetch *f)
{
    return f->url;
}

long fetch_total(const struct fetch *f)
{
    return f->coll ? f->cur.total : -1;
}

const struct fetch_progress *fetch_progress(const struct fetch *f)
{
    return &f->progress;
}
