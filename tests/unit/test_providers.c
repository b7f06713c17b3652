/**
 * @file test_providers.c
 * The generic paginator and parsers on the seed documents' example bodies
 * (tests/unit/seeds/), the page requests of every style, error messages,
 * timestamps, and listings (names, repeats, rendering, mtimes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"
#include "provider.h"

static char *slurp(const char *name, size_t *len)
{
    const char *dir = getenv("SEEDS_DIR");
    char path[1024];
    char *buf;
    FILE *f;
    long n;

    snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/unit/seeds", name);
    f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Parses a seed page of p's collection; returns the listing built from it. */
static struct listing *parse_seed(const struct provider *p, const struct collection *c,
                                  const char *file, struct page_cursor *cur)
{
    size_t len;
    char *body = slurp(file, &len);
    json_object *root = NULL, *items = NULL;
    struct listing_builder b;
    char err[256];
    struct listing *l;

    assert_int_equal(provider_page_parse(p, c, body, len, cur, &root, &items, err, sizeof(err)), 0);
    listing_builder_init(&b, c, ENTRY_FILE);
    for (size_t i = 0; i < json_object_array_length(items); i++)
        assert_int_equal(listing_builder_add_record(&b, json_object_array_get_idx(items, i)), 0);
    l = listing_builder_finish(&b);
    assert_non_null(l);
    json_object_put(root);
    free(body);
    return l;
}

static void test_burki_seed(void **state)
{
    const struct provider *p = provider_find("burki");
    struct page_cursor cur = {.total = -1};
    struct listing *l;
    const struct listing_entry *e;

    (void)state;
    l = parse_seed(p, &p->contacts, "burki_contacts.json", &cur);
    assert_int_equal(l->n, 2);
    assert_int_equal(cur.total, 250);
    assert_false(cur.done); /* has_next: true */
    assert_int_equal(cur.index, 1);
    e = listing_find(l, "101.json");
    assert_non_null(e);
    assert_int_equal(e->rec_time, 1706786100); /* last_attempt_at 2024-02-01T11:15:00Z */
    e = listing_find(l, "102.json");
    assert_non_null(e);
    assert_int_equal(e->rec_time, 1706783400); /* created_at: last_attempt_at is null */
    /* rendered as the API returned it: keys in order, two spaces, newline */
    assert_non_null(strstr(e->bytes, "{\n  \"id\": 102,\n  \"phone_number\": \"+15559876543\",\n"));
    assert_non_null(strstr(e->bytes, "  \"last_attempt_at\": null\n}\n"));
    assert_int_equal(e->len, strlen(e->bytes));
    listing_unref(l);
}

static void test_truedy_seed_both_shapes(void **state)
{
    const struct provider *p = provider_find("truedy");
    struct page_cursor cur = {.total = -1};
    struct listing *l;
    const struct listing_entry *e;

    (void)state;
    l = parse_seed(p, &p->contacts, "truedy_contacts.json", &cur);
    assert_int_equal(cur.total, 500);
    assert_false(cur.done);
    assert_int_equal(cur.offset, 1);
    e = listing_find(l, "ctc_aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee.json");
    assert_non_null(e);
    assert_string_equal(e->link, "call_a1b2c3d4");
    assert_int_equal(e->rec_time, 1772702100); /* 2026-03-05T09:15:00.000000Z */
    listing_unref(l);

    memset(&cur, 0, sizeof(cur));
    l = parse_seed(p, &p->contacts, "truedy_contacts_old.json", &cur);
    assert_true(cur.done); /* has_more: false */
    assert_int_equal(l->n, 2);
    assert_non_null(listing_find(l, "cnt_d4e5f6a7.json"));
    e = listing_find(l, "cnt_e5f6g7h8.json");
    assert_non_null(e);
    assert_null(e->link); /* call_id null: no call yet */
    assert_int_equal(e->rec_time, 0);
    listing_unref(l);
}

static void test_koreai_seed(void **state)
{
    const struct provider *p = provider_find("koreai");
    struct page_cursor cur = {.total = -1};
    struct listing *l;

    (void)state;
    l = parse_seed(p, &p->contacts, "koreai_contacts.json", &cur);
    assert_int_equal(l->n, 3);
    assert_true(cur.done); /* totalPages 1 */
    assert_int_equal(cur.total, 4);
    assert_non_null(listing_find(l, "919876543210.json"));
    assert_non_null(listing_find(l, "125xxxx0200.json"));
    assert_non_null(listing_find(l, "911234567890.json"));
    assert_int_equal(l->entries[0].rec_time, 0); /* Kore.ai contacts have no time */
    listing_unref(l);
}

static void test_altur_seed(void **state)
{
    const struct provider *p = provider_find("altur");
    struct page_cursor cur = {.total = -1};
    struct listing *l;
    const struct listing_entry *e;

    (void)state;
    l = parse_seed(p, &p->contacts, "altur_contacts.json", &cur);
    assert_true(cur.done);
    assert_int_equal(cur.total, 2);
    e = listing_find(l, "7.json");
    assert_non_null(e);
    assert_int_equal(e->rec_time, 1759518699); /* 2025-10-03 19:11:39, no zone: UTC */
    assert_non_null(strstr(e->bytes, "\"name\": \"José Núñez\""));
    e = listing_find(l, "8.json");
    assert_non_null(e);
    assert_non_null(strstr(e->bytes, "\"billed_duration\": \"00:46\""));
    assert_non_null(strstr(e->bytes, "\"tags\": []\n}\n"));
    assert_non_null(strstr(e->bytes, "\"extracted_data\": {},\n"));
    listing_unref(l);

    memset(&cur, 0, sizeof(cur));
    l = parse_seed(p, &p->calls, "altur_calls.json", &cur);
    assert_false(cur.done);
    e = listing_find(l, "call_abc123def456.json");
    assert_non_null(e);
    assert_non_null(
        strstr(e->bytes, "\"recording_url\": \"/api/v1.0/call/call_abc123def456/recording\""));
    assert_non_null(strstr(e->bytes, "\"score\": 7.5,"));
    assert_int_equal(e->rec_time, 1705745075); /* ended_at 2024-01-20T10:04:35Z */
    listing_unref(l);
}

static void check_request(const struct collection *c, const struct page_cursor *cur,
                          const char *path, const char *body)
{
    struct request_vars v = {.campaign = "42", .account_id = "acc1", .stream = "st-9"};
    struct page_request req;

    assert_int_equal(provider_page_request(c, &v, cur, &req), 0);
    assert_string_equal(req.path_query, path);
    if (body)
        assert_string_equal(req.body, body);
    else
        assert_null(req.body);
    page_request_free(&req);
}

static void test_page_requests(void **state)
{
    const struct provider *altur = provider_find("altur"), *burki = provider_find("burki");
    const struct provider *truedy = provider_find("truedy"), *kore = provider_find("koreai");
    struct page_cursor first = {0}, third = {.index = 2, .offset = 200};
    struct page_cursor cursor = {.index = 1, .cursor = "a b/c"};

    (void)state;
    check_request(&altur->contacts, &first, "/campaigns/42/contacts?pageIndex=0&pageSize=100",
                  NULL);
    check_request(&altur->contacts, &third, "/campaigns/42/contacts?pageIndex=2&pageSize=100",
                  NULL);
    check_request(&altur->campaigns, &first, "/campaigns?pageSize=100", NULL);
    check_request(&altur->campaigns, &cursor, "/campaigns?pageSize=100&cursor=a%20b%2Fc", NULL);
    check_request(&burki->campaigns, &first, "/api/v1/campaigns/?page=1&per_page=1000", NULL);
    check_request(&burki->calls, &third, "/api/v1/campaigns/42/executions?page=3&per_page=1000",
                  NULL);
    check_request(&truedy->contacts, &third, "/batch-calls/42/contacts?offset=200&limit=100", NULL);
    check_request(&kore->campaigns, &third,
                  "/campaign/api/v2/public/st-9/campaign/getAllCampaignDetails?accountId=acc1",
                  "{\"type\": \"voice\", \"skip\": 200, \"limit\": 100}");
    check_request(&kore->contacts, &third,
                  "/campaign/api/v2/public/st-9/campaign/42/status?view=contacts&accountId=acc1",
                  "{\"page\": 3, \"limit\": 100}");
}

static void test_end_of_list_rules(void **state)
{
    const struct provider *burki = provider_find("burki"), *altur = provider_find("altur");
    struct page_cursor cur = {.total = -1, .index = 4};
    json_object *root, *items;
    char err[128];
    const char *last = "{\"contacts\": [{\"id\": 1}], \"pagination\": {\"page\": 5, "
                       "\"total_pages\": 5}}";
    const char *cursor_end = "{\"campaigns\": [{\"id\": 1}], \"pagination\": {\"has_more\": "
                             "false, \"next_cursor\": \"x\"}}";

    (void)state;
    /* no has_next: page == total_pages ends it */
    assert_int_equal(provider_page_parse(burki, &burki->contacts, last, strlen(last), &cur, &root,
                                         &items, err, sizeof(err)),
                     0);
    assert_true(cur.done);
    json_object_put(root);
    /* the older has_more spelling ends an Altur cursor walk */
    memset(&cur, 0, sizeof(cur));
    assert_int_equal(provider_page_parse(altur, &altur->campaigns, cursor_end, strlen(cursor_end),
                                         &cur, &root, &items, err, sizeof(err)),
                     0);
    assert_true(cur.done);
    free(cur.cursor);
    json_object_put(root);
}

static void test_malformed_and_failure(void **state)
{
    const struct provider *kore = provider_find("koreai"), *burki = provider_find("burki");
    struct page_cursor cur = {0};
    json_object *root, *items;
    char err[256];
    const char *fail = "{\"status\": \"failure\", \"message\": \"Invalid campaign\"}";
    const char *trunc = "{\"contacts\": [{\"id\": 1}, {\"id\"";

    (void)state;
    assert_int_equal(provider_page_parse(kore, &kore->contacts, fail, strlen(fail), &cur, &root,
                                         &items, err, sizeof(err)),
                     PARSE_FAILURE);
    assert_non_null(strstr(err, "Invalid campaign"));
    assert_int_equal(provider_page_parse(burki, &burki->contacts, trunc, strlen(trunc), &cur, &root,
                                         &items, err, sizeof(err)),
                     PARSE_MALFORMED);
    assert_non_null(strstr(err, "truncated"));
    assert_int_equal(provider_page_parse(burki, &burki->contacts, "{\"x\": 1}", 8, &cur, &root,
                                         &items, err, sizeof(err)),
                     PARSE_INVALID); /* well-formed, not the documented shape: not retried */
    assert_int_equal(provider_page_parse(burki, &burki->contacts, "{} trailing", 11, &cur, &root,
                                         &items, err, sizeof(err)),
                     PARSE_MALFORMED);
    assert_false(cur.done);
    assert_int_equal(cur.index, 0); /* a failed parse does not advance */
}

static void test_error_messages(void **state)
{
    struct {
        const char *provider, *body, *want;
    } cases[] = {
        {"altur", "{\"error\": 401, \"message\": \"Invalid API key\"}", "Invalid API key"},
        {"altur", "{\"pageSize\": [\"Ensure this value is less than or equal to 100.\"]}",
         "pageSize: Ensure this value is less than or equal to 100."},
        {"burki", "{\"detail\": \"Campaign not found\"}", "Campaign not found"},
        {"burki", "{\"detail\": [{\"loc\": [\"query\"], \"msg\": \"bad page\", \"type\": \"x\"}]}",
         "bad page"},
        {"truedy", "{\"error\": {\"code\": \"not_found\", \"message\": \"No batch\"}}", "No batch"},
        {"koreai", "{\"status\": \"failure\", \"errors\": [{\"msg\": \"limit too big\"}]}",
         "limit too big"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *m = provider_error_message(provider_find(cases[i].provider), cases[i].body,
                                         strlen(cases[i].body));
        assert_non_null(m);
        assert_string_equal(m, cases[i].want);
        free(m);
    }
    assert_null(provider_error_message(provider_find("altur"), "<html>", 6));
}

static void test_timestamps(void **state)
{
    (void)state;
    assert_int_equal(parse_timestamp("2025-10-03 19:11:39"), 1759518699);
    assert_int_equal(parse_timestamp("2025-10-03T19:11:39Z"), 1759518699);
    assert_int_equal(parse_timestamp("2025-10-03T19:11:39.123456Z"), 1759518699);
    assert_int_equal(parse_timestamp("2025-10-03T21:11:39+02:00"), 1759518699);
    assert_int_equal(parse_timestamp("2025-10-03T14:11:39-0500"), 1759518699);
    assert_int_equal(parse_timestamp("2025-10-03"), 0);
    assert_int_equal(parse_timestamp("yesterday"), 0);
    assert_int_equal(parse_timestamp("2025-10-03T19:11:39Zjunk"), 0);
}

static struct listing *listing_of(const char *const *ids, const char *const *payloads, size_t n)
{
    static const struct collection c = {.ids = {"id"}, .times = {"t"}};
    struct listing_builder b;

    listing_builder_init(&b, &c, ENTRY_FILE);
    for (size_t i = 0; i < n; i++) {
        char text[256];
        json_object *rec;
        snprintf(text, sizeof(text), "{\"id\": \"%s\", \"v\": \"%s\"}", ids[i], payloads[i]);
        rec = json_tokener_parse(text);
        assert_int_equal(listing_builder_add_record(&b, rec), 0);
        json_object_put(rec);
    }
    return listing_builder_finish(&b);
}

static void test_render_exact(void **state)
{
    json_object *rec = json_tokener_parse(
        "{\"a\": {}, \"b\": [], \"c\": [{}, [[]]], \"d\": \"{\\n}[\\n ]\", \"url\": \"/x/y\", "
        "\"n\": 1.50, \"u\": \"Zo\u00eb \u738b\", \"z\": null}");
    size_t len;
    char *text = render_record(rec, &len);

    (void)state;
    assert_string_equal(text, "{\n"
                              "  \"a\": {},\n"
                              "  \"b\": [],\n"
                              "  \"c\": [\n"
                              "    {},\n"
                              "    [\n"
                              "      []\n"
                              "    ]\n"
                              "  ],\n"
                              "  \"d\": \"{\\n}[\\n ]\",\n"
                              "  \"url\": \"/x/y\",\n"
                              "  \"n\": 1.50,\n"
                              "  \"u\": \"Zo\u00eb \u738b\",\n"
                              "  \"z\": null\n"
                              "}\n");
    assert_int_equal(len, strlen(text));
    free(text);
    json_object_put(rec);
}

static void test_listing_repeats_and_names(void **state)
{
    const char *ids[] = {"b", "a/x", "b", ".hidden"};
    const char *vals[] = {"old", "1", "new", "2"};
    struct listing *l = listing_of(ids, vals, 4);

    (void)state;
    assert_int_equal(l->n, 3); /* the repeated "b" appears once */
    assert_non_null(strstr(listing_find(l, "b.json")->bytes, "\"new\"")); /* last copy wins */
    assert_non_null(listing_find(l, "a%2Fx.json"));
    assert_non_null(listing_find(l, "%2Ehidden.json"));
    for (size_t i = 1; i < l->n; i++) /* sorted for binary search */
        assert_true(strcmp(l->entries[i - 1].name, l->entries[i].name) < 0);
    listing_unref(l);
}

static json_object *phone_page(const char *const *phones, size_t n)
{
    json_object *arr = json_object_new_array();

    for (size_t i = 0; i < n; i++) {
        json_object *rec = json_object_new_object();
        json_object_object_add(rec, "phoneNumber", json_object_new_string(phones[i]));
        json_object_object_add(rec, "uniqueId", json_object_new_string(""));
        json_object_array_add(arr, rec);
    }
    return arr;
}

static void test_shifted_pages_without_ids(void **state)
{
    const struct provider *kore = provider_find("koreai");
    const char *p1[] = {"1", "2", "2", "3"}; /* a real repeat inside a page stays */
    const char *p2[] = {"2", "3", "4"};      /* the page shifted by two: "2", "3" again */
    const char *p3[] = {"5", "4"};           /* "4" again, but not at the start: kept */
    struct listing_builder b;
    json_object *pages[3] = {phone_page(p1, 4), phone_page(p2, 3), phone_page(p3, 2)};
    struct listing *l;

    (void)state;
    listing_builder_init(&b, &kore->contacts, ENTRY_FILE);
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(listing_builder_add_page(&b, pages[i]), 0);
    l = listing_builder_finish(&b);
    assert_non_null(l);
    assert_int_equal(l->n, 7); /* 1 2 2~2 3 | 4 | 5 4~2 */
    assert_non_null(listing_find(l, "2~2.json"));
    assert_non_null(listing_find(l, "4~2.json"));
    assert_null(listing_find(l, "3~2.json"));
    assert_null(listing_find(l, "2~3.json"));
    listing_unref(l);
    for (size_t i = 0; i < 3; i++)
        json_object_put(pages[i]);
}

static void test_listing_times(void **state)
{
    const char *ids[] = {"a", "b", "c"};
    const char *v1[] = {"1", "1", "1"};
    const char *v2[] = {"1", "2", "2"};
    struct listing *old = listing_of(ids, v1, 3), *fresh;

    (void)state;
    listing_carry_times(old, NULL, 1000); /* no record times: first seen = now */
    assert_int_equal(old->entries[0].mtime, 1000);
    fresh = listing_of(ids, v2, 3);
    fresh->entries[2].rec_time = 5000;               /* c changed and says so */
    listing_carry_times(fresh, old, 1000);           /* same second as before */
    assert_int_equal(fresh->entries[0].mtime, 1000); /* unchanged: keeps its mtime */
    assert_int_equal(fresh->entries[1].mtime, 1001); /* changed, no newer time: never the old */
    assert_int_equal(fresh->entries[2].mtime, 5000); /* changed with a newer own time */
    listing_unref(old);
    listing_unref(fresh);
}

/* Hostile pages: nesting past json-c's depth limit, items that are not
 * objects, records without ids, a page that is the previous one again, a
 * walk past the documented number of pages. */
static void test_hostile_pages(void **state)
{
    const struct provider *altur = provider_find("altur");
    const struct collection *c = &altur->contacts;
    struct page_cursor cur = {.total = -1};
    json_object *root = NULL, *items = NULL;
    struct listing_builder b, page;
    char err[256], deep[4096];
    size_t n = 0;

    (void)state;
    n += (size_t)snprintf(deep, sizeof(deep), "{\"contacts\": [");
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    n += (size_t)snprintf(deep + n, sizeof(deep) - n, "]}");
    assert_int_equal(provider_page_parse(altur, c, deep, n, &cur, &root, &items, err, sizeof(err)),
                     PARSE_INVALID);
    assert_non_null(strstr(err, "nesting too deep"));

    /* numbers json-c would change or that are not JSON: refused, not retried */
    const char *bad[] = {"88888888888888888888",
                         "-9223372036854775809",
                         "007",
                         "1.",
                         "1.e5",
                         "NaN",
                         "-Infinity",
                         "1e+"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char body[128];
        int len = snprintf(body, sizeof(body), "{\"contacts\": [{\"id\": %s}]} ", bad[i]);
        assert_int_equal(
            provider_page_parse(altur, c, body, (size_t)len, &cur, &root, &items, err, sizeof(err)),
            PARSE_INVALID);
    }
    const char *good[] = {"18446744073709551615",
                          "-9223372036854775808",
                          "0",
                          "-0.5",
                          "1.5e3",
                          "\"007 NaN 1.\"",
                          "true"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        char body[128];
        int len = snprintf(body, sizeof(body), "{\"contacts\": [{\"id\": 1, \"x\": %s}]}", good[i]);
        assert_int_equal(
            provider_page_parse(altur, c, body, (size_t)len, &cur, &root, &items, err, sizeof(err)),
            0);
        json_object_put(root);
    }
    /* a body cut inside a number is damage (asked again), not a refusal */
    assert_int_equal(provider_page_parse(altur, c, "{\"contacts\": [{\"id\": 1.", 23, &cur, &root,
                                         &items, err, sizeof(err)),
                     PARSE_MALFORMED);

    listing_builder_init(&b, c, ENTRY_FILE);
    json_object *num = json_object_new_int(5), *noid = json_tokener_parse("{\"name\": \"x\"}");
    json_object *empty = json_tokener_parse("{\"id\": \"\", \"f_id\": null}");
    json_object *nested = json_tokener_parse("{\"id\": {\"a\": 1}}");
    assert_int_equal(listing_builder_add_record(&b, num), LISTING_NOT_OBJECT);
    assert_int_equal(listing_builder_add_record(&b, noid), LISTING_NO_ID);
    assert_int_equal(listing_builder_add_record(&b, empty), LISTING_NO_ID);
    assert_int_equal(listing_builder_add_record(&b, nested), LISTING_NO_ID);
    assert_int_equal(b.n, 0);
    json_object_put(num);
    json_object_put(noid);
    json_object_put(empty);
    json_object_put(nested);

    /* the same page twice: refused; a page that only overlaps: kept */
    for (int round = 0; round < 2; round++) {
        listing_builder_init(&page, c, ENTRY_FILE);
        for (int i = 0; i < 3; i++) {
            char rec[64];
            snprintf(rec, sizeof(rec), "{\"id\": %d}", i + 1);
            json_object *o = json_tokener_parse(rec);
            assert_int_equal(listing_builder_add_record(&page, o), 0);
            json_object_put(o);
        }
        assert_int_equal(listing_builder_take_page(&b, &page),
                         round == 0 ? 0 : LISTING_PAGE_REPEATS);
    }
    listing_builder_discard(&b);

    /* Altur documents pageIndex 0..25000: page 25001 more is a contradiction */
    struct page_info info = {.n_items = 100, .more = 1, .pages = -1, .total = -1};
    cur = (struct page_cursor){.index = 25000, .total = -1};
    provider_page_advance(c, &info, &cur);
    assert_true(cur.done);
    assert_true(cur.over_limit);
    cur = (struct page_cursor){.index = 24999, .total = -1};
    provider_page_advance(c, &info, &cur);
    assert_false(cur.done);
    assert_false(cur.over_limit);
}

/* Finished records: a status in the rule's list, and (for a completed
 * Truedy call) the transcript there. */
static bool final_of(const struct final_rule *r, const char *json)
{
    json_object *rec = json_tokener_parse(json);
    bool final;

    assert_non_null(rec);
    final = provider_is_final(r, rec);
    json_object_put(rec);
    return final;
}

static void test_final_records(void **state)
{
    const struct provider *truedy = provider_find("truedy"), *altur = provider_find("altur");
    const struct provider *burki = provider_find("burki"), *koreai = provider_find("koreai");
    const struct final_rule *call = &truedy->call.final;

    (void)state;
    assert_true(final_of(call, "{\"status\": \"completed\", \"transcript\": []}"));
    assert_false(final_of(call, "{\"status\": \"completed\", \"transcript\": null}"));
    assert_false(final_of(call, "{\"status\": \"completed\"}"));
    assert_true(final_of(call, "{\"status\": \"failed\", \"transcript\": null}"));
    assert_true(final_of(call, "{\"status\": \"no_answer\"}"));
    assert_false(final_of(call, "{\"status\": \"in_progress\"}"));
    assert_false(final_of(call, "{\"status\": \"queued\"}"));
    assert_false(final_of(call, "{\"status\": 3}"));
    assert_false(final_of(call, "{}"));
    assert_true(final_of(&altur->calls.final, "{\"status\": \"ended\"}"));
    assert_false(final_of(&altur->calls.final, "{\"status\": \"in-progress\"}"));
    assert_true(final_of(&altur->campaigns.final, "{\"status\": \"finished\"}"));
    assert_false(final_of(&altur->campaigns.final, "{\"status\": \"cooldown\"}"));
    assert_true(final_of(&burki->calls.final, "{\"status\": \"skipped\"}"));
    assert_false(final_of(&burki->calls.final, "{\"status\": \"pending\"}"));
    assert_true(final_of(&burki->campaigns.final, "{\"status\": \"cancelled\"}"));
    assert_false(final_of(&burki->campaigns.final, "{\"status\": \"running\"}"));
    /* no rule: never final */
    assert_false(final_of(&koreai->contacts.final, "{\"status\": \"completed\"}"));
    assert_false(final_of(&truedy->contacts.final, "{\"call_status\": \"completed\"}"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burki_seed),
        cmocka_unit_test(test_truedy_seed_both_shapes),
        cmocka_unit_test(test_koreai_seed),
        cmocka_unit_test(test_altur_seed),
        cmocka_unit_test(test_page_requests),
        cmocka_unit_test(test_end_of_list_rules),
        cmocka_unit_test(test_malformed_and_failure),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_render_exact),
        cmocka_unit_test(test_listing_repeats_and_names),
        cmocka_unit_test(test_shifted_pages_without_ids),
        cmocka_unit_test(test_listing_times),
        cmocka_unit_test(test_hostile_pages),
        cmocka_unit_test(test_final_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
