/**
 * @file fuzz_page.c
 * libFuzzer target: one provider's answers, read the way the fetch engine
 * reads them.  tests/fuzz/meson.build builds it once per provider, naming
 * it with FUZZ_PROVIDER ("altur", ...).  Each input is one HTTP body, read
 * as a page of each of the provider's collections, as each single-record
 * answer and as an error body.
 *
 * Beyond "no crash, no leak, no undefined behaviour": a refused page says
 * why; an accepted page's listing passes fuzz_check_listing() (non-empty
 * ids, safe distinct sorted names, well-rendered bytes); the same page
 * taken twice in a row lists the same entries as once (pages that overlap);
 * the request for the next page is a clean path and query; a single record
 * renders well.  With FUZZ_STRICT=1, also that records keep the numbers
 * the body wrote (an open finding, tests/fuzz/README.md).
 */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "listing.h"
#include "provider.h"

#ifndef FUZZ_PROVIDER
#error "FUZZ_PROVIDER names the provider, e.g. -DFUZZ_PROVIDER=\"altur\""
#endif

static const struct provider *provider;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    provider = provider_find(FUZZ_PROVIDER);
    FUZZ_CHECK(provider != NULL);
    return 0;
}

/* The listing of the page taken `times` times in a row, or NULL when the
 * builder refuses it. */
static struct listing *build(const struct collection *c, enum entry_type type, json_object *items,
                             int times)
{
    struct listing_builder b;

    listing_builder_init(&b, c, type);
    for (int k = 0; k < times; k++) {
        if (listing_builder_add_page(&b, items) < 0) {
            listing_builder_discard(&b);
            return NULL;
        }
    }
    return listing_builder_finish(&b);
}

static void check_same(const struct listing *a, const struct listing *b)
{
    FUZZ_CHECK(a->n == b->n);
    for (size_t i = 0; i < a->n; i++) {
        FUZZ_CHECK(strcmp(a->entries[i].name, b->entries[i].name) == 0);
        FUZZ_CHECK(strcmp(a->entries[i].id, b->entries[i].id) == 0);
        FUZZ_CHECK(a->entries[i].len == b->entries[i].len);
        FUZZ_CHECK(memcmp(a->entries[i].bytes, b->entries[i].bytes, a->entries[i].len) == 0);
    }
}

/* The next page's request: a path and query with nothing left unescaped,
 * and for POST a JSON object. */
static void check_next_request(const struct collection *c, const struct page_cursor *cur)
{
    const struct request_vars vars = {"c1", "i1", "a1", "s1"};
    struct page_request req;

    FUZZ_CHECK(provider_page_request(c, &vars, cur, &req) == 0);
    FUZZ_CHECK(req.path_query != NULL && req.path_query[0] == '/');
    for (const char *p = req.path_query; *p; p++)
        FUZZ_CHECK(*p > 0x20 && *p < 0x7f && *p != '#');
    if (c->post) {
        json_object *body = req.body ? json_tokener_parse(req.body) : NULL;
        FUZZ_CHECK(body && json_object_is_type(body, json_type_object));
        json_object_put(body);
    }
    page_request_free(&req);
}

static void fuzz_collection(const struct collection *c, enum entry_type type, const char *body,
                            size_t len)
{
    json_object *root = NULL, *items = NULL;
    struct page_info info;
    struct page_cursor cur = {.total = -1};
    struct listing *once, *twice;
    char err[512] = "";

    if (!c->path)
        return;
    if (provider_page_read(provider, c, body, len, &root, &items, &info, err, sizeof(err)) < 0) {
        FUZZ_CHECK(err[0] != '\0' && root == NULL && items == NULL);
        return;
    }
    FUZZ_CHECK(items != NULL && json_object_is_type(items, json_type_array));
    FUZZ_CHECK(info.n_items == json_object_array_length(items));
    FUZZ_CHECK(provider_page_count(c, &info) >= -1);
    provider_page_advance(c, &info, &cur);
    page_info_free(&info);
    FUZZ_CHECK(cur.index == 1);
    if (!cur.done)
        check_next_request(c, &cur);
    free(cur.cursor);

    for (size_t i = 0; i < json_object_array_length(items); i++)
        fuzz_check_numbers_kept(json_object_array_get_idx(items, i), body);
    once = build(c, type, items, 1);
    twice = build(c, type, items, 2);
    FUZZ_CHECK(once || !twice);
    if (once)
        fuzz_check_listing(once);
    if (once && twice)
        check_same(once, twice);
    if (once)
        listing_unref(once);
    if (twice)
        listing_unref(twice);
    json_object_put(root);
}

static void fuzz_record(const struct record_endpoint *ep, const char *body, size_t len)
{
    json_object *root = NULL, *rec = NULL;
    char err[512] = "";
    char *bytes;
    size_t n = 0;

    if (!ep->path)
        return;
    if (provider_record_parse(provider, ep, body, len, &root, &rec, err, sizeof(err)) < 0) {
        FUZZ_CHECK(err[0] != '\0' && root == NULL && rec == NULL);
        return;
    }
    FUZZ_CHECK(rec && json_object_is_type(rec, json_type_object));
    fuzz_check_numbers_kept(rec, body);
    bytes = render_record(rec, &n);
    fuzz_check_rendered(bytes, n);
    free(bytes);
    (void)record_time(rec, ep->times);
    json_object_put(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* as the transport hands bodies over: len bytes and a NUL after them */
    char *body = malloc(size + 1);
    char *msg;

    FUZZ_CHECK(body != NULL);
    memcpy(body, data, size);
    body[size] = '\0';
    fuzz_collection(&provider->campaigns, ENTRY_DIR, body, size);
    fuzz_collection(&provider->contacts, ENTRY_FILE, body, size);
    fuzz_collection(&provider->calls, ENTRY_FILE, body, size);
    fuzz_record(&provider->campaign, body, size);
    fuzz_record(&provider->call, body, size);
    msg = provider_error_message(provider, body, size);
    FUZZ_CHECK(!msg || msg[0] != '\0');
    free(msg);
    free(body);
    return 0;
}
