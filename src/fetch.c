/**
 * @file fetch.c
 * The generic paginator: page request -> http_fetch (which validates the
 * body by parsing it) -> records into a listing builder -> next page.
 */
#include "fetch.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"

struct page_ctx {
    const struct provider *p;
    const struct collection *coll;
    const struct record_endpoint *ep;
    struct page_cursor cur; /* the cursor as it will be after this page */
    json_object *root;
    json_object *items; /* or the record, for a record endpoint */
};

static enum body_verdict parse_page(const char *body, size_t len, void *ctx, char *err,
                                    size_t errlen)
{
    struct page_ctx *pc = ctx;
    struct page_cursor next = pc->cur;
    int rc;

    json_object_put(pc->root);
    pc->root = pc->items = NULL;
    if (next.cursor)
        next.cursor = strdup(next.cursor);
    if (pc->coll)
        rc = provider_page_parse(pc->p, pc->coll, body, len, &next, &pc->root, &pc->items, err,
                                 errlen);
    else
        rc = provider_record_parse(pc->p, pc->ep, body, len, &pc->root, &pc->items, err, errlen);
    if (rc < 0) {
        free(next.cursor);
        /* a well-formed body that says "failure" is an answer, not damage */
        return rc == PARSE_FAILURE ? BODY_FAILURE : BODY_MALFORMED;
    }
    free(pc->cur.cursor);
    pc->cur = next;
    return BODY_OK;
}

struct escaped_vars {
    struct request_vars vars;
    char *campaign, *id;
};

static int vars_init(struct escaped_vars *ev, const struct account *a, const char *campaign,
                     const char *id)
{
    memset(ev, 0, sizeof(*ev));
    ev->campaign = campaign ? curl_easy_escape(NULL, campaign, 0) : NULL;
    ev->id = id ? curl_easy_escape(NULL, id, 0) : NULL;
    ev->vars.campaign = ev->campaign;
    ev->vars.id = ev->id;
    ev->vars.account_id = a->account_id_esc;
    ev->vars.stream = a->stream_esc;
    return (campaign && !ev->campaign) || (id && !ev->id) ? -1 : 0;
}

static void vars_free(struct escaped_vars *ev)
{
    curl_free(ev->campaign);
    curl_free(ev->id);
}

static void internal_error(struct fetch_error *err, const struct account *a, const char *what)
{
    err->cls = FETCH_INTERNAL;
    err->status = 0;
    snprintf(err->message, sizeof(err->message), "[%s] %s", a->name, what);
}

static int fetch_pages(struct account *a, const struct collection *coll,
                       const struct request_vars *vars, struct listing_builder *b,
                       struct fetch_error *err)
{
    struct page_ctx pc = {.p = a->provider, .coll = coll, .cur = {.total = -1}};
    int rc = 0;

    while (!pc.cur.done && rc == 0) {
        struct page_request req;

        if (provider_page_request(coll, vars, &pc.cur, &req) < 0) {
            internal_error(err, a, "out of memory");
            rc = -1;
            break;
        }
        rc = http_fetch(a, req.path_query, req.body, parse_page, &pc, err);
        page_request_free(&req);
        if (rc < 0)
            break;
        rc = listing_builder_add_page(b, pc.items);
        if (rc < 0)
            internal_error(err, a, "out of memory");
    }
    json_object_put(pc.root);
    free(pc.cur.cursor);
    return rc;
}

int fetch_collection(struct account *a, const struct collection *coll, const char *campaign,
                     enum entry_type type, struct listing **out, struct fetch_error *err)
{
    struct listing_builder b;
    struct escaped_vars ev;

    *out = NULL;
    if (vars_init(&ev, a, campaign, NULL) < 0) {
        vars_free(&ev);
        internal_error(err, a, "out of memory");
        return -1;
    }
    listing_builder_init(&b, coll, type);
    if (fetch_pages(a, coll, &ev.vars, &b, err) < 0) {
        listing_builder_discard(&b);
        vars_free(&ev);
        return -1;
    }
    vars_free(&ev);
    *out = listing_builder_finish(&b);
    if (!*out) {
        internal_error(err, a, "out of memory");
        return -1;
    }
    return 0;
}

int fetch_record(struct account *a, const struct record_endpoint *ep, const char *campaign,
                 const char *id, const char *name, struct listing **out, struct fetch_error *err)
{
    struct page_ctx pc = {.p = a->provider, .ep = ep};
    struct listing_builder b;
    struct page_request req;
    struct escaped_vars ev;
    char *bytes = NULL;
    size_t len = 0;
    int rc = -1;

    *out = NULL;
    if (vars_init(&ev, a, campaign, id) < 0 || provider_record_request(ep, &ev.vars, &req) < 0) {
        vars_free(&ev);
        internal_error(err, a, "out of memory");
        return -1;
    }
    vars_free(&ev);
    if (http_fetch(a, req.path_query, NULL, parse_page, &pc, err) == 0) {
        bytes = render_record(pc.items, &len);
        listing_builder_init(&b, NULL, ENTRY_FILE);
        if (bytes && listing_builder_add(&b, name, id, ENTRY_FILE, bytes, len,
                                         record_time(pc.items, ep->times)) == 0)
            *out = listing_builder_finish(&b);
        else
            listing_builder_discard(&b);
        rc = *out ? 0 : -1;
        if (rc < 0)
            internal_error(err, a, "out of memory");
    }
    page_request_free(&req);
    json_object_put(pc.root);
    free(bytes);
    return rc;
}
