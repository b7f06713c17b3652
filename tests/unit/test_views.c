/**
 * @file test_views.c
 * The NDJSON and CSV views of a listing: exact sizes, whole and chunked
 * and random reads, lines equal to json-c's compact output of each record
 * in listing order, CSV headers, cells and quoting against hand-written
 * text (Python csv module semantics) and against an independent rendering
 * through json-c, entries that are not records, malformed records, empty
 * listings, reads past the end, index memory and concurrent readers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"
#include "views.h"

#define PLAIN (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* A growable byte string. */
struct text {
    char *p;
    size_t n, cap;
};

/* Appends n bytes to t. */
static void text_add(struct text *t, const char *p, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->p = realloc(t->p, t->cap);
        assert_non_null(t->p);
    }
    memcpy(t->p + t->n, p, n);
    t->n += n;
    t->p[t->n] = '\0';
}

/* Appends a NUL-terminated string to t. */
static void text_adds(struct text *t, const char *s)
{
    text_add(t, s, strlen(s));
}

/* Adds a record given as JSON source text: parsed by json-c and rendered
 * by render_record(), as the listing code stores an API record. */
static void add_json(struct listing_builder *b, const char *name, const char *src)
{
    json_object *o = json_tokener_parse(src);
    size_t len = 0;
    char *bytes;

    assert_non_null(o);
    bytes = render_record(o, &len);
    assert_non_null(bytes);
    assert_int_equal(listing_builder_add(b, name, name, ENTRY_FILE, bytes, len, 0), 0);
    free(bytes);
    json_object_put(o);
}

/* Adds an entry with these exact bytes. */
static void add_raw(struct listing_builder *b, const char *name, enum entry_type type,
                    const char *bytes)
{
    assert_int_equal(listing_builder_add(b, name, name, type, bytes, bytes ? strlen(bytes) : 0, 0),
                     0);
}

/* A listing of n records given as JSON source texts, named r00000.json...
 * so the listing's order is the array's. */
static struct listing *listing_of(const char *const *srcs, size_t n)
{
    struct listing_builder b;
    struct listing *l;

    listing_builder_init(&b, NULL, ENTRY_FILE);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "r%05zu.json", i);
        add_json(&b, name, srcs[i]);
    }
    l = listing_builder_finish(&b);
    assert_non_null(l);
    return l;
}

/* Reads the whole view in one call (asserting the size) and checks that
 * a further read returns 0. */
static char *read_whole(const struct view *v, const struct listing *l)
{
    uint64_t size = view_size(v);
    char *buf = malloc(size + 1);
    char extra[16];

    assert_non_null(buf);
    assert_int_equal(view_read(v, l, 0, buf, size + 16), (ssize_t)size);
    buf[size] = '\0';
    assert_int_equal(view_read(v, l, size, extra, sizeof(extra)), 0);
    return buf;
}

/* Reads the whole view sequentially in chunks of `chunk` bytes and checks
 * it equals whole. */
static void check_chunks(const struct view *v, const struct listing *l, const char *whole,
                         size_t chunk)
{
    uint64_t size = view_size(v), off = 0;
    char *buf = malloc(chunk);

    assert_non_null(buf);
    for (;;) {
        ssize_t got = view_read(v, l, off, buf, chunk);
        size_t want = size - off < chunk ? (size_t)(size - off) : chunk;

        assert_int_equal(got, (ssize_t)want);
        if (got == 0)
            break;
        assert_memory_equal(buf, whole + off, (size_t)got);
        off += (uint64_t)got;
    }
    assert_int_equal(off, size);
    free(buf);
}

/* Reads random ranges (some past the end) and compares them with whole. */
static void check_random(const struct view *v, const struct listing *l, const char *whole,
                         unsigned seed)
{
    uint64_t size = view_size(v);
    char buf[600];

    srand(seed);
    for (int i = 0; i < 2000; i++) {
        uint64_t off = (uint64_t)rand() % (size + 20);
        size_t len = (size_t)rand() % sizeof(buf);
        ssize_t got = view_read(v, l, off, buf, len);
        size_t want = off >= size ? 0 : (size - off < len ? (size_t)(size - off) : len);

        assert_int_equal(got, (ssize_t)want);
        if (want)
            assert_memory_equal(buf, whole + off, want);
    }
}

/* All the read checks of one view against its expected text. */
static void check_reads(const struct view *v, const struct listing *l, const char *expected)
{
    char *whole;

    assert_int_equal(view_size(v), strlen(expected));
    whole = read_whole(v, l);
    assert_string_equal(whole, expected);
    check_chunks(v, l, whole, 1);
    check_chunks(v, l, whole, 7);
    check_chunks(v, l, whole, 4096);
    check_chunks(v, l, whole, 128 * 1024);
    check_random(v, l, whole, 16);
    free(whole);
}

/* json-c's compact output of a record's bytes, with '\n': what its NDJSON
 * line should be. */
static void add_plain_line(struct text *t, const char *bytes)
{
    json_object *o = json_tokener_parse(bytes);

    assert_non_null(o);
    text_adds(t, json_object_to_json_string_ext(o, PLAIN));
    text_adds(t, "\n");
    json_object_put(o);
}

static const char *const varied[] = {
    "{\"id\": 1, \"name\": \"Ann Smith\", \"note\": \"two  spaces , and a comma\"}",
    "{\"id\": 2, \"q\": \"say \\\"hi\\\"\", \"bs\": \"back\\\\slash\", \"nl\": "
    "\"a\\nb\\r\\nc\\td\"}",
    "{\"id\": 3, \"u\": \"caf\\u00e9 \\ud83d\\ude00 \xe4\xbd\xa0\xe5\xa5\xbd\", \"ctl\": "
    "\"\\u0001\\u001f\"}",
    "{\"id\": 4, \"nested\": {\"a\": {\"b\": [1, {\"c\": \"d e\"}, [], {}]}, \"z\": null}}",
    "{\"id\": 5, \"empty_obj\": {}, \"empty_arr\": [], \"arr\": [[], [{}], [1, 2, 3]]}",
    "{\"id\": 6, \"n1\": 1.50, \"n2\": -0, \"n3\": 1e10, \"n4\": 12345678901234567890123, \"n5\": "
    "-0.0, \"n6\": 1E+2, \"n7\": 9007199254740993, \"n8\": -9223372036854775808}",
    "{\"id\": 7, \"t\": true, \"f\": false, \"n\": null, \"url\": \"https://x.example/a/b?c=d\"}",
    "{}",
    "{\"id\": 9, \"key with spaces\": \" lead and trail \", \"\": \"empty key\"}",
};

/* The NDJSON view of varied records: each line is json-c's compact output
 * of the record, in listing order, and reads agree whatever the chunks. */
static void test_ndjson_lines(void **state)
{
    struct listing *l = listing_of(varied, sizeof(varied) / sizeof(varied[0]));
    struct view *v = view_build(l, VIEW_NDJSON);
    struct text want = {0}, from_src = {0};
    uint64_t sum = 0;

    assert_non_null(v);
    assert_int_equal(view_kind_of(v), VIEW_NDJSON);
    for (size_t i = 0; i < l->n; i++) {
        size_t before = want.n;
        add_plain_line(&want, l->entries[i].bytes);
        sum += want.n - before;
        add_plain_line(&from_src, varied[i]); /* the same record, in the listing's order */
    }
    assert_int_equal(view_size(v), sum);
    assert_string_equal(want.p, from_src.p);
    check_reads(v, l, want.p);
    view_free(v);
    listing_unref(l);
    free(want.p);
    free(from_src.p);
}

/* Some lines written out by hand: spaces kept inside strings, escapes and
 * '/' kept as rendered, numbers as json-c rendered them (it reads -0 as the
 * integer 0 and clamps 12345678901234567890123 to UINT64_MAX), empty
 * containers compact. */
static void test_ndjson_by_hand(void **state)
{
    static const char *const srcs[] = {
        "{\"name\": \"Ann  Smith\", \"q\": \"say \\\"hi\\\" \\\\ \\n\", \"url\": \"a/b\"}",
        ("{\"a\": 1.50, \"b\": -0, \"c\": 1e10, \"d\": 12345678901234567890123, \"e\": -0.0, "
         "\"f\": 9007199254740993}"),
        "{\"o\": {}, \"a\": [], \"n\": {\"x\": [1, {\"y\": null}], \"t\": true, \"f\": false}}",
        "{\"u\": \"\xc3\xa9 \xf0\x9f\x98\x80\"}",
    };
    static const char want[] =
        "{\"name\":\"Ann  Smith\",\"q\":\"say \\\"hi\\\" \\\\ \\n\",\"url\":\"a/b\"}\n"
        "{\"a\":1.50,\"b\":0,\"c\":1e10,\"d\":18446744073709551615,\"e\":-0.0,"
        "\"f\":9007199254740993}\n"
        "{\"o\":{},\"a\":[],\"n\":{\"x\":[1,{\"y\":null}],\"t\":true,\"f\":false}}\n"
        "{\"u\":\"\xc3\xa9 \xf0\x9f\x98\x80\"}\n";
    struct listing *l = listing_of(srcs, sizeof(srcs) / sizeof(srcs[0]));
    struct view *v = view_build(l, VIEW_NDJSON);

    assert_non_null(v);
    check_reads(v, l, want);
    view_free(v);
    listing_unref(l);
}

/* Rendered bytes that json-c would not produce itself keep their text
 * exactly: -0, an integer beyond 64 bits, a tab and CRLF between tokens. */
static void test_ndjson_exact_text(void **state)
{
    struct listing_builder b;
    struct listing *l;
    struct view *v;

    listing_builder_init(&b, NULL, ENTRY_FILE);
    add_raw(&b, "a.json", ENTRY_FILE,
            "{\r\n\t\"n\" :\t-0 ,\n  \"big\": 12345678901234567890123,\n  \"s\": \" x\\t\"\n}\n");
    add_raw(&b, "b.json", ENTRY_FILE, "{\n  \"x\": [\n    1.50e-3\n  ]\n}\n");
    l = listing_builder_finish(&b);
    assert_non_null(l);
    v = view_build(l, VIEW_NDJSON);
    assert_non_null(v);
    check_reads(v, l,
                "{\"n\":-0,\"big\":12345678901234567890123,\"s\":\" x\\t\"}\n"
                "{\"x\":[1.50e-3]}\n");
    view_free(v);
    listing_unref(l);
}

/* Directories and lazily fetched files are not records: both views skip
 * them, and the records stay in the listing's (name) order. */
static void test_skips_other_entries(void **state)
{
    struct listing_builder b;
    struct listing *l;
    struct view *nd, *csv;

    listing_builder_init(&b, NULL, ENTRY_FILE);
    add_raw(&b, "d.json", ENTRY_FILE, "{\n  \"id\": \"d\"\n}\n");
    add_raw(&b, "a", ENTRY_DIR, "{\"id\": \"dir\"}");
    add_raw(&b, "b.json", ENTRY_FILE, "{\n  \"id\": \"b\",\n  \"x\": 1\n}\n");
    add_raw(&b, "c.json", ENTRY_LAZY, NULL);
    add_raw(&b, "e", ENTRY_DIR, "{\"id\": \"dir2\"}");
    l = listing_builder_finish(&b);
    assert_non_null(l);
    assert_int_equal(l->n, 5);
    nd = view_build(l, VIEW_NDJSON);
    csv = view_build(l, VIEW_CSV);
    assert_non_null(nd);
    assert_non_null(csv);
    check_reads(nd, l, "{\"id\":\"b\",\"x\":1}\n{\"id\":\"d\"}\n");
    check_reads(csv, l, "id,x\r\nb,1\r\nd,\r\n");
    view_free(nd);
    view_free(csv);
    listing_unref(l);
}

/* The CSV of records with different keys, written by hand as Python's csv
 * module reads it: the header in first-seen order, quoting of commas,
 * quotes, CRLF and edge spaces, nested values as compact JSON, missing
 * keys and null empty, numbers as rendered. */
static void test_csv_by_hand(void **state)
{
    static const char *const srcs[] = {
        "{\"id\": \"1\", \"name\": \"Ann, Smith\", \"age\": 30, \"tags\": [\"a\", \"b\"], \"ok\": "
        "true}",
        "{\"id\": \"2\", \"note\": \"say \\\"hi\\\"\", \"name\": \" lead\", \"extra\": {\"k\": "
        "null}, \"ok\": false}",
        "{\"id\": \"3\", \"name\": \"line1\\r\\nline2\", \"age\": 1.50, \"note\": null, \"big\": "
        "12345678901234567890}",
        "{\"id\": \"4\", \"name\": \"trail \", \"age\": -7, \"note\": \"\xc3\xbc and "
        "\xf0\x9f\x98\x80\\t\", \"path\": \"a/b\"}",
        "{}",
        "{\"id\": \"6\", \"tags\": [], \"extra\": {}, \"age\": 1e10, \"name\": \"in\\nside\"}",
    };
    static const char want[] = "id,name,age,tags,ok,note,extra,big,path\r\n"
                               "1,\"Ann, Smith\",30,\"[\"\"a\"\",\"\"b\"\"]\",true,,,,\r\n"
                               "2,\" lead\",,,false,\"say \"\"hi\"\"\",\"{\"\"k\"\":null}\",,\r\n"
                               "3,\"line1\r\nline2\",1.50,,,,,12345678901234567890,\r\n"
                               "4,\"trail \",-7,,,\xc3\xbc and \xf0\x9f\x98\x80\t,,,a/b\r\n"
                               ",,,,,,,,\r\n"
                               "6,\"in\nside\",1e10,[],,,{},,\r\n";
    struct listing *l = listing_of(srcs, sizeof(srcs) / sizeof(srcs[0]));
    struct view *v = view_build(l, VIEW_CSV);

    assert_non_null(v);
    assert_int_equal(view_kind_of(v), VIEW_CSV);
    check_reads(v, l, want);
    view_free(v);
    listing_unref(l);
}

/* Escapes are decoded in cells and keys (a key spelled with an escape is
 * the same column), a repeated key's last value wins, and a record that is
 * not a JSON object gives a row of empty cells. */
static void test_csv_decoding_and_malformed(void **state)
{
    struct listing_builder b;
    struct listing *l;
    struct view *v, *nd;
    char *whole;
    size_t lines = 0;

    listing_builder_init(&b, NULL, ENTRY_FILE);
    add_raw(&b, "1.json", ENTRY_FILE,
            "{\"k\\u0065y\": \"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\", \"n\": 1}");
    add_raw(&b, "2.json", ENTRY_FILE, "{\"key\": \"lone \\ud800 x\", \"n\": 1, \"n\": 2}");
    add_raw(&b, "3.json", ENTRY_FILE, "[1, 2]\n");
    add_raw(&b, "4.json", ENTRY_FILE, "not json");
    add_raw(&b, "5.json", ENTRY_FILE, "{\"key\": \"x\", \"n\": 3} trailing");
    add_raw(&b, "6.json", ENTRY_FILE, "{\"key\": \"raw\nnewline\"}");
    add_raw(&b, "7.json", ENTRY_FILE, "{\"key\": 01}");
    add_raw(&b, "8.json", ENTRY_FILE, "{\"key\": NaN, \"n\": -Infinity}");
    l = listing_builder_finish(&b);
    assert_non_null(l);
    v = view_build(l, VIEW_CSV);
    assert_non_null(v);
    check_reads(v, l,
                "key,n\r\n"
                "\"caf\xc3\xa9 \xf0\x9f\x98\x80 \"\"q\"\" \\ / \b\f\",1\r\n"
                "lone \xef\xbf\xbd x,2\r\n"
                ",\r\n"
                ",\r\n"
                ",\r\n"
                ",\r\n"
                ",\r\n"
                "NaN,-Infinity\r\n");
    /* whatever the bytes, NDJSON has one line per record */
    nd = view_build(l, VIEW_NDJSON);
    assert_non_null(nd);
    whole = read_whole(nd, l);
    for (char *p = whole; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines, 8);
    assert_non_null(strstr(whole, "\n{\"key\":\"rawnewline\"}\n"));
    free(whole);
    view_free(nd);
    view_free(v);
    listing_unref(l);
}

/* With one column an empty cell is written "" (as Python's csv writer
 * does), so no row is a blank line (the header's one key too, when it is
 * ""); with no keys at all each row is. */
static void test_csv_single_column(void **state)
{
    static const char *const one[] = {"{\"a\": \"\"}", "{\"a\": \"x\"}", "{}", "{\"a\": null}"};
    static const char *const none[] = {"{}", "{}"};
    static const char *const empty_key[] = {"{\"\": \"v\"}", "{\"\": \"\"}"};
    struct listing *l = listing_of(one, 4);
    struct view *v = view_build(l, VIEW_CSV);

    assert_non_null(v);
    check_reads(v, l, "a\r\n\"\"\r\nx\r\n\"\"\r\n\"\"\r\n");
    view_free(v);
    listing_unref(l);

    l = listing_of(empty_key, 2);
    v = view_build(l, VIEW_CSV);
    assert_non_null(v);
    check_reads(v, l, "\"\"\r\nv\r\n\"\"\r\n");
    view_free(v);
    listing_unref(l);

    l = listing_of(none, 2);
    v = view_build(l, VIEW_CSV);
    assert_non_null(v);
    check_reads(v, l, "\r\n\r\n\r\n");
    view_free(v);
    listing_unref(l);
}

/* Appends one CSV cell quoted by the rule (the test's own copy). */
static void add_cell(struct text *t, const char *s, size_t n)
{
    bool quote = n && (s[0] == ' ' || s[n - 1] == ' ');

    for (size_t i = 0; i < n; i++)
        quote = quote || s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
    if (!quote) {
        text_add(t, s, n);
        return;
    }
    text_adds(t, "\"");
    for (size_t i = 0; i < n; i++) {
        text_add(t, s + i, 1);
        if (s[i] == '"')
            text_adds(t, "\"");
    }
    text_adds(t, "\"");
}

/* A random string from awkward pieces. */
static void random_string(struct text *t)
{
    static const char *const pieces[] = {"a",
                                         "Z",
                                         " ",
                                         ",",
                                         "\"",
                                         "\\",
                                         "/",
                                         "\n",
                                         "\r\n",
                                         "\t",
                                         "\x01",
                                         "\xc3\xa9",
                                         "\xf0\x9f\x98\x80",
                                         "0",
                                         "x y",
                                         "''"};
    int n = rand() % 8;

    for (int i = 0; i < n; i++)
        text_adds(t, pieces[rand() % (int)(sizeof(pieces) / sizeof(pieces[0]))]);
}

/* A random JSON value. */
static json_object *random_value(int depth)
{
    static const char *const numbers[] = {"1.50", "-0.0", "1e10", "3.14159", "-2.5E-3", "0.1"};
    struct text t = {0};
    json_object *o;
    int kind = rand() % (depth < 3 ? 9 : 6);

    switch (kind) {
    case 0:
        return json_object_new_int64((int64_t)rand() * (rand() % 2 ? -1 : 1) * 100003);
    case 1:
        return json_tokener_parse(numbers[rand() % 6]);
    case 2:
        return json_object_new_boolean(rand() % 2);
    case 3:
        return NULL; /* null */
    case 4:
    case 5:
        random_string(&t);
        o = json_object_new_string_len(t.p ? t.p : "", (int)t.n);
        free(t.p);
        return o;
    case 6:
    case 7:
        o = json_object_new_object();
        for (int i = rand() % 4; i > 0; i--) {
            char key[8];
            snprintf(key, sizeof(key), "k%d", rand() % 5);
            json_object_object_add(o, key, random_value(depth + 1));
        }
        return o;
    default:
        o = json_object_new_array();
        for (int i = rand() % 4; i > 0; i--)
            json_object_array_add(o, random_value(depth + 1));
        return o;
    }
}

/* A random record: a few of a dozen keys, in random order. */
static json_object *random_record(void)
{
    static const char *const keys[] = {"id",  "name",     "status", "phone", "a b", "x,y",
                                       "q\"", "\xc3\xa9", "nested", "n",     "t",   "z"};
    json_object *o = json_object_new_object();

    for (int i = rand() % 7; i > 0; i--)
        json_object_object_add(o, keys[rand() % 12], random_value(0));
    return o;
}

/* Random records: NDJSON lines equal json-c's compact output; CSV equals
 * a rendering through json-c (header from json-c's key iteration, cells
 * from json_object_get_string() and compact output). */
static void test_random_records(void **state)
{
    enum { N = 400 };
    struct listing_builder b;
    struct listing *l;
    struct view *nd, *csv;
    struct text nd_want = {0}, csv_want = {0};
    const char *header[16];
    size_t nkeys = 0;

    srand(4181);
    listing_builder_init(&b, NULL, ENTRY_FILE);
    for (int i = 0; i < N; i++) {
        json_object *o = random_record();
        char name[32];
        size_t len = 0;
        char *bytes = render_record(o, &len);

        assert_non_null(bytes);
        snprintf(name, sizeof(name), "%04d.json", i);
        assert_int_equal(listing_builder_add(&b, name, name, ENTRY_FILE, bytes, len, 0), 0);
        free(bytes);
        json_object_put(o);
    }
    l = listing_builder_finish(&b);
    assert_non_null(l);

    json_object *parsed[N];
    for (size_t i = 0; i < l->n; i++) {
        parsed[i] = json_tokener_parse(l->entries[i].bytes);
        assert_non_null(parsed[i]);
        add_plain_line(&nd_want, l->entries[i].bytes);
        json_object_object_foreach(parsed[i], key, val)
        {
            size_t k = 0;
            (void)val;
            while (k < nkeys && strcmp(header[k], key) != 0)
                k++;
            if (k == nkeys)
                header[nkeys++] = key;
        }
    }
    assert_true(nkeys > 5);
    for (size_t k = 0; k < nkeys; k++) {
        if (k)
            text_adds(&csv_want, ",");
        add_cell(&csv_want, header[k], strlen(header[k]));
    }
    text_adds(&csv_want, "\r\n");
    for (size_t i = 0; i < l->n; i++) {
        for (size_t k = 0; k < nkeys; k++) {
            json_object *val = NULL;
            if (k)
                text_adds(&csv_want, ",");
            if (!json_object_object_get_ex(parsed[i], header[k], &val) || !val)
                continue;
            if (json_object_is_type(val, json_type_string))
                add_cell(&csv_want, json_object_get_string(val),
                         (size_t)json_object_get_string_len(val));
            else {
                const char *s = json_object_to_json_string_ext(val, PLAIN);
                add_cell(&csv_want, s, strlen(s));
            }
        }
        text_adds(&csv_want, "\r\n");
    }

    nd = view_build(l, VIEW_NDJSON);
    csv = view_build(l, VIEW_CSV);
    assert_non_null(nd);
    assert_non_null(csv);
    check_reads(nd, l, nd_want.p);
    check_reads(csv, l, csv_want.p);
    for (size_t i = 0; i < l->n; i++)
        json_object_put(parsed[i]);
    view_free(nd);
    view_free(csv);
    listing_unref(l);
    free(nd_want.p);
    free(csv_want.p);
}

/* A listing with no records is an empty file for both kinds. */
static void test_empty(void **state)
{
    struct listing_builder b;
    struct listing *l;
    char buf[8];

    for (int round = 0; round < 2; round++) {
        listing_builder_init(&b, NULL, ENTRY_FILE);
        if (round)
            add_raw(&b, "dir", ENTRY_DIR, "{}");
        l = listing_builder_finish(&b);
        assert_non_null(l);
        for (int kind = VIEW_NDJSON; kind <= VIEW_CSV; kind++) {
            struct view *v = view_build(l, (enum view_kind)kind);
            assert_non_null(v);
            assert_int_equal(view_size(v), 0);
            assert_int_equal(view_read(v, l, 0, buf, sizeof(buf)), 0);
            assert_int_equal(view_read(v, l, 5, buf, sizeof(buf)), 0);
            view_free(v);
        }
        listing_unref(l);
    }
    view_free(NULL);
}

/* Reading at or past the end returns 0; a read that crosses the end stops
 * there; a zero-length read returns 0; a different listing is refused. */
static void test_past_end_and_wrong_listing(void **state)
{
    static const char *const srcs[] = {"{\"a\": 1}", "{\"a\": 2}"};
    static const char *const other_srcs[] = {"{\"a\": 1}", "{\"a\": 2}"};
    struct listing *l = listing_of(srcs, 2), *other = listing_of(other_srcs, 2);
    char buf[64];

    for (int kind = VIEW_NDJSON; kind <= VIEW_CSV; kind++) {
        struct view *v = view_build(l, (enum view_kind)kind);
        uint64_t size = view_size(v);

        assert_non_null(v);
        assert_int_equal(size, kind == VIEW_NDJSON ? 16 : 9);
        assert_int_equal(view_read(v, l, size, buf, sizeof(buf)), 0);
        assert_int_equal(view_read(v, l, size + 1, buf, sizeof(buf)), 0);
        assert_int_equal(view_read(v, l, UINT64_MAX, buf, sizeof(buf)), 0);
        assert_int_equal(view_read(v, l, size - 3, buf, sizeof(buf)), 3);
        assert_memory_equal(buf, kind == VIEW_NDJSON ? "2}\n" : "2\r\n", 3);
        assert_int_equal(view_read(v, l, 0, buf, 0), 0);
        errno = 0;
        assert_int_equal(view_read(v, other, 0, buf, sizeof(buf)), -1);
        assert_int_equal(errno, EINVAL);
        view_free(v);
    }
    listing_unref(l);
    listing_unref(other);
}

/* The index of 10,000 records holds under 16 bytes per record plus the
 * CSV header (its line, keys and lookup table), far less than the view,
 * and the view still reads back whole in 128 KiB chunks. */
static void test_memory(void **state)
{
    enum { N = 10000 };
    struct listing_builder b;
    struct listing *l;

    listing_builder_init(&b, NULL, ENTRY_FILE);
    for (int i = 0; i < N; i++) {
        char name[32], src[160];
        snprintf(name, sizeof(name), "c%05d.json", i);
        snprintf(src, sizeof(src),
                 "{\"id\": %d, \"name\": \"Contact %d\", \"phone\": \"+1555%07d\", \"status\": "
                 "\"%s\"}",
                 i, i, i, i % 3 ? "completed" : "failed, retry");
        add_json(&b, name, src);
    }
    l = listing_builder_finish(&b);
    assert_non_null(l);
    for (int kind = VIEW_NDJSON; kind <= VIEW_CSV; kind++) {
        struct view *v = view_build(l, (enum view_kind)kind);
        size_t header = kind == VIEW_CSV ? 4096 : 0;
        char *whole;
        size_t lines = 0;

        assert_non_null(v);
        assert_true(view_memory(v) < 16 * (size_t)N + header);
        assert_true(view_memory(v) >= 8 * (size_t)N);
        assert_true(view_memory(v) * 5 < view_size(v));
        whole = read_whole(v, l);
        for (char *p = whole; *p; p++)
            lines += *p == '\n';
        assert_int_equal(lines, kind == VIEW_CSV ? N + 1 : N);
        if (kind == VIEW_CSV) {
            assert_memory_equal(whole, "id,name,phone,status\r\n", 22);
            assert_non_null(strstr(whole, "\r\n3,Contact 3,+15550000003,\"failed, retry\"\r\n"));
        }
        check_chunks(v, l, whole, 128 * 1024);
        check_chunks(v, l, whole, 4096);
        free(whole);
        view_free(v);
    }
    listing_unref(l);
}

struct reader {
    const struct view *v;
    const struct listing *l;
    const char *whole;
    unsigned seed;
    int bad;
};

/* One of several threads reading random ranges of the same view. */
static void *reader_main(void *arg)
{
    struct reader *r = arg;
    uint64_t size = view_size(r->v);
    char buf[9000];

    for (int i = 0; i < 3000; i++) {
        uint64_t off = (uint64_t)rand_r(&r->seed) % size;
        size_t len = (size_t)rand_r(&r->seed) % sizeof(buf);
        size_t want = size - off < len ? (size_t)(size - off) : len;

        if (view_read(r->v, r->l, off, buf, len) != (ssize_t)want ||
            memcmp(buf, r->whole + off, want) != 0)
            r->bad++;
    }
    return NULL;
}

/* Concurrent readers of one view all read the right bytes. */
static void test_concurrent_readers(void **state)
{
    enum { N = 2000, THREADS = 6 };
    struct listing_builder b;
    struct listing *l;

    listing_builder_init(&b, NULL, ENTRY_FILE);
    for (int i = 0; i < N; i++) {
        char name[32], src[128];
        snprintf(name, sizeof(name), "c%05d.json", i);
        snprintf(src, sizeof(src), "{\"id\": %d, \"v%d\": \"a, \\\"b\\\"\", \"o\": {\"x\": [%d]}}",
                 i, i % 7, i);
        add_json(&b, name, src);
    }
    l = listing_builder_finish(&b);
    assert_non_null(l);
    for (int kind = VIEW_NDJSON; kind <= VIEW_CSV; kind++) {
        struct view *v = view_build(l, (enum view_kind)kind);
        struct reader readers[THREADS];
        pthread_t th[THREADS];
        char *whole;

        assert_non_null(v);
        whole = read_whole(v, l);
        for (int t = 0; t < THREADS; t++) {
            readers[t] = (struct reader){v, l, whole, (unsigned)t + 1, 0};
            assert_int_equal(pthread_create(&th[t], NULL, reader_main, &readers[t]), 0);
        }
        for (int t = 0; t < THREADS; t++) {
            assert_int_equal(pthread_join(th[t], NULL), 0);
            assert_int_equal(readers[t].bad, 0);
        }
        free(whole);
        view_free(v);
    }
    listing_unref(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ndjson_lines),
        cmocka_unit_test(test_ndjson_by_hand),
        cmocka_unit_test(test_ndjson_exact_text),
        cmocka_unit_test(test_skips_other_entries),
        cmocka_unit_test(test_csv_by_hand),
        cmocka_unit_test(test_csv_decoding_and_malformed),
        cmocka_unit_test(test_csv_single_column),
        cmocka_unit_test(test_random_records),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_past_end_and_wrong_listing),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_concurrent_readers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
