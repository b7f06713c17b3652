/**
 * @file listing.c
 * Building, sharing and comparing listings.
 */
#include "listing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

#define JSON_SUFFIX ".json"

static atomic_ulong next_serial = 1;

/* json-c writes an empty object or array as "{\n<indent>}": make it "{}".
 * Safe without tracking strings: a string never holds a raw newline. */
static size_t collapse_empty(char *text, size_t n)
{
    size_t out = 0;

    for (size_t i = 0; i < n; i++) {
        text[out++] = text[i];
        if ((text[i] == '{' || text[i] == '[') && i + 1 < n && text[i + 1] == '\n') {
            size_t j = i + 2;
            char close = text[i] == '{' ? '}' : ']';
            while (j < n && text[j] == ' ')
                j++;
            if (j < n && text[j] == close) {
                text[out++] = close;
                i = j;
            }
        }
    }
    return out;
}

char *render_record(json_object *rec, size_t *len)
{
    size_t n = 0;
    const char *text = json_object_to_json_string_length(
        rec, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE,
        &n);
    char *out = text ? malloc(n + 2) : NULL;

    if (!out)
        return NULL;
    memcpy(out, text, n);
    n = collapse_empty(out, n);
    out[n] = '\n';
    out[n + 1] = '\0';
    *len = n + 1;
    return out;
}

void listing_builder_init(struct listing_builder *b, const struct collection *coll,
                          enum entry_type type)
{
    memset(b, 0, sizeof(*b));
    b->coll = coll;
    b->type = type;
}

/* Makes room for `more` entries. */
static int builder_grow(struct listing_builder *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 16;
    struct listing_entry *items;

    while (cap < b->n + more)
        cap *= 2;
    items = realloc(b->items, cap * sizeof(*items));
    if (!items) {
        b->failed = true;
        return -1;
    }
    b->items = items;
    b->cap = cap;
    return 0;
}

static struct listing_entry *builder_slot(struct listing_builder *b)
{
    if (b->n == b->cap && builder_grow(b, 1) < 0)
        return NULL;
    memset(&b->items[b->n], 0, sizeof(b->items[0]));
    return &b->items[b->n++];
}

static void entry_free(struct listing_entry *e)
{
    if (e->packed)
        return; /* its texts live in the listing's arena */
    free(e->name);
    free(e->id);
    free(e->link);
    free(e->bytes);
}

static size_t text_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static size_t entry_size(const struct listing_entry *e)
{
    return e->len + 1 + text_size(e->name) + text_size(e->id) + text_size(e->link);
}

static char *pack_text(char **dst, char *at, char *text)
{
    size_t n = text_size(text);

    if (!text)
        return at;
    memcpy(at, text, n);
    free(text);
    *dst = at;
    return at + n;
}

/* Moves an entry's bytes and texts to `at`; returns the end. */
static char *entry_pack(struct listing_entry *e, char *at)
{
    if (e->bytes)
        memcpy(at, e->bytes, e->len);
    at[e->len] = '\0';
    free(e->bytes);
    e->bytes = at;
    at += e->len + 1;
    at = pack_text(&e->name, at, e->name);
    at = pack_text(&e->id, at, e->id);
    at = pack_text(&e->link, at, e->link);
    e->packed = true;
    return at;
}

/* Moves every entry's bytes and texts into one arena: a listing of tens of
 * thousands of records is then one allocation, and the many small ones it
 * was built from are freed together (whole pages go back to the system). */
static char *pack_all(struct listing_entry *items, size_t n)
{
    size_t size = 1;
    char *arena, *at;

    for (size_t i = 0; i < n; i++)
        size += entry_size(&items[i]);
    arena = malloc(size);
    if (!arena)
        return NULL;
    at = arena;
    for (size_t i = 0; i < n; i++)
        at = entry_pack(&items[i], at);
    return arena;
}

int listing_builder_add(struct listing_builder *b, const char *name, const char *id,
                        enum entry_type type, const char *bytes, size_t len, time_t rec_time)
{
    struct listing_entry *e = builder_slot(b);

    if (!e)
        return -1;
    if (len > UINT32_MAX) {
        b->failed = true;
        return -1;
    }
    e->type = (unsigned char)type;
    e->rec_time = rec_time;
    e->name = name ? strdup(name) : NULL;
    e->id = id ? strdup(id) : NULL;
    if (bytes) {
        e->bytes = malloc(len + 1);
        if (e->bytes) {
            memcpy(e->bytes, bytes, len);
            e->bytes[len] = '\0';
        }
        e->len = (uint32_t)len;
    }
    if ((name && !e->name) || (id && !e->id) || (bytes && !e->bytes)) {
        b->failed = true;
        return -1;
    }
    return 0;
}

int listing_builder_add_entry(struct listing_builder *b, const struct listing_entry *e)
{
    struct listing_entry *n;

    if (listing_builder_add(b, e->name, e->id, (enum entry_type)e->type, e->bytes, e->len,
                            e->rec_time) < 0)
        return -1;
    n = &b->items[b->n - 1];
    n->tag = e->tag;
    n->mtime = e->mtime;
    if (e->link && !(n->link = strdup(e->link))) {
        b->failed = true;
        return -1;
    }
    return 0;
}

void listing_builder_tag(struct listing_builder *b, int tag)
{
    if (b->n > 0)
        b->items[b->n - 1].tag = tag;
}

/* The name stem of a Kore.ai-style record: phoneNumber[-uniqueId]. */
static char *phone_stem(json_object *rec)
{
    json_object *phone = json_path(rec, "phoneNumber");
    json_object *uniq = json_path(rec, "uniqueId");
    const char *p = phone ? json_object_get_string(phone) : NULL;
    const char *u =
        uniq && json_object_is_type(uniq, json_type_string) ? json_object_get_string(uniq) : "";
    char *out = NULL;

    if (!p || !*p)
        p = "unknown";
    if (!*u)
        return strdup(p);
    if (asprintf(&out, "%s-%s", p, u) < 0)
        return NULL;
    return out;
}

int listing_builder_add_record(struct listing_builder *b, json_object *rec)
{
    const struct collection *c = b->coll;
    char *id = !json_object_is_type(rec, json_type_object) ? NULL
               : c->naming == NAME_BY_PHONE_UNIQUE         ? phone_stem(rec)
                                                           : record_id(rec, c->ids);
    struct listing_entry *e;
    size_t len = 0;

    if (!json_object_is_type(rec, json_type_object))
        return LISTING_NOT_OBJECT;
    if (!id && c->naming == NAME_BY_ID)
        return LISTING_NO_ID; /* a record without an id cannot be named: never invented */
    if (!id) {
        b->failed = true;
        return -1;
    }
    e = builder_slot(b);
    if (!e) {
        free(id);
        return -1;
    }
    e->type = b->type;
    e->id = id;
    e->rec_time = record_time(rec, c->times);
    if (c->link) {
        json_object *v = json_path(rec, c->link);
        if (v && json_object_is_type(v, json_type_string) && *json_object_get_string(v))
            e->link = strdup(json_object_get_string(v));
    }
    e->bytes = render_record(rec, &len);
    if (!e->bytes || len > UINT32_MAX) {
        b->failed = true;
        return -1;
    }
    e->len = (uint32_t)len;
    return 0;
}

static bool same_bytes(const struct listing_entry *a, const struct listing_entry *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->bytes, b->bytes, a->len) == 0);
}

/* Length of the longest run at the start of the page [start, n) that
 * repeats the end of the previous page [prev, start). */
static size_t repeated_run(const struct listing_builder *b, size_t prev, size_t start)
{
    size_t most = start - prev < b->n - start ? start - prev : b->n - start;

    for (size_t j = most; j > 0; j--) {
        size_t k = 0;
        while (k < j && same_bytes(&b->items[start - j + k], &b->items[start + k]))
            k++;
        if (k == j)
            return j;
    }
    return 0;
}

/* Whether the page [start, n) is the previous page [prev, start) again,
 * record for record: a server that ignores the page asked for. */
static bool page_repeats(const struct listing_builder *b, size_t prev, size_t start)
{
    if (start == 0 || b->n - start != start - prev)
        return false;
    for (size_t i = 0; i < start - prev; i++) {
        const struct listing_entry *x = &b->items[prev + i], *y = &b->items[start + i];
        if (!same_bytes(x, y) || !x->id != !y->id || (x->id && strcmp(x->id, y->id) != 0))
            return false;
    }
    return true;
}

int listing_builder_take_page(struct listing_builder *b, struct listing_builder *page)
{
    size_t prev = b->page_start, start = b->n, run;

    if (page->failed || (page->n && b->n + page->n > b->cap && builder_grow(b, page->n) < 0)) {
        b->failed = true;
        listing_builder_discard(page);
        return -1;
    }
    if (page->n)
        memcpy(&b->items[b->n], page->items, page->n * sizeof(*page->items));
    b->n += page->n;
    free(page->items);
    memset(page, 0, sizeof(*page));
    b->page_start = start;
    if (b->n > start && page_repeats(b, prev, start))
        return LISTING_PAGE_REPEATS;
    if (b->coll->naming == NAME_BY_ID || start == 0)
        return 0; /* records with ids: repeats go by id (drop_repeated_ids) */
    run = repeated_run(b, prev, start);
    for (size_t i = start; i < start + run; i++)
        entry_free(&b->items[i]);
    memmove(&b->items[start], &b->items[start + run], (b->n - start - run) * sizeof(b->items[0]));
    b->n -= run;
    return 0;
}

int listing_builder_add_page(struct listing_builder *b, json_object *items)
{
    struct listing_builder page;
    size_t n = json_object_array_length(items);

    listing_builder_init(&page, b->coll, b->type);
    for (size_t i = 0; i < n; i++) {
        int rc = listing_builder_add_record(&page, json_object_array_get_idx(items, i));
        if (rc < 0) {
            listing_builder_discard(&page);
            return rc;
        }
    }
    return listing_builder_take_page(b, &page);
}

void listing_builder_discard(struct listing_builder *b)
{
    for (size_t i = 0; i < b->n; i++)
        entry_free(&b->items[i]);
    free(b->items);
    memset(b, 0, sizeof(*b));
}

struct order {
    const char *key;
    size_t pos;
};

static int order_cmp(const void *x, const void *y)
{
    const struct order *a = x, *b = y;
    int c = strcmp(a->key, b->key);

    if (c)
        return c;
    return a->pos < b->pos ? -1 : a->pos > b->pos;
}

/* Keeps the last copy of every id (APIs warn that pages can overlap).
 * Records named by phone are never merged: repeats are real there. */
static int drop_repeated_ids(struct listing_builder *b)
{
    struct order *ord;
    bool *drop;
    size_t kept = 0;

    if (!b->coll || b->coll->naming != NAME_BY_ID || b->n < 2)
        return 0;
    ord = malloc(b->n * sizeof(*ord));
    drop = calloc(b->n, sizeof(*drop));
    if (!ord || !drop) {
        free(ord);
        free(drop);
        return -1;
    }
    for (size_t i = 0; i < b->n; i++)
        ord[i] = (struct order){b->items[i].id, i};
    qsort(ord, b->n, sizeof(*ord), order_cmp);
    for (size_t i = 0; i + 1 < b->n; i++)
        if (strcmp(ord[i].key, ord[i + 1].key) == 0)
            drop[ord[i].pos] = true;
    for (size_t i = 0; i < b->n; i++) {
        if (drop[i])
            entry_free(&b->items[i]);
        else
            b->items[kept++] = b->items[i];
    }
    b->n = kept;
    free(ord);
    free(drop);
    return 0;
}

/* Names records built from API ids: safe, unique, in API order. */
static int name_records(struct listing_builder *b)
{
    const char *suffix = b->type == ENTRY_DIR ? "" : JSON_SUFFIX;
    char **names = calloc(b->n ? b->n : 1, sizeof(*names));

    if (!names)
        return -1;
    for (size_t i = 0; i < b->n; i++) {
        names[i] = name_from_id(b->items[i].id, strlen(b->items[i].id), suffix);
        if (!names[i])
            goto fail;
    }
    if (names_make_unique(names, b->n, suffix) < 0)
        goto fail;
    for (size_t i = 0; i < b->n; i++)
        b->items[i].name = names[i];
    free(names);
    return 0;
fail:
    for (size_t i = 0; i < b->n; i++)
        free(names[i]);
    free(names);
    return -1;
}

static int entry_cmp(const void *x, const void *y)
{
    return strcmp(((const struct listing_entry *)x)->name, ((const struct listing_entry *)y)->name);
}

struct listing *listing_builder_finish(struct listing_builder *b)
{
    struct listing *l;

    if (b->failed)
        goto fail;
    if (b->coll && (drop_repeated_ids(b) < 0 || name_records(b) < 0))
        goto fail;
    l = calloc(1, sizeof(*l));
    if (!l)
        goto fail;
    if (b->n > 1)
        qsort(b->items, b->n, sizeof(*b->items), entry_cmp);
    l->arena = pack_all(b->items, b->n);
    if (!l->arena)
        goto fail_l;
    if (b->n && b->n < b->cap) {
        struct listing_entry *fit = realloc(b->items, b->n * sizeof(*fit));
        if (fit)
            b->items = fit;
    }
    atomic_init(&l->refs, 1);
    l->serial = atomic_fetch_add(&next_serial, 1);
    l->n = b->n;
    l->entries = b->items;
    for (size_t i = 0; i < l->n; i++)
        if (l->entries[i].type == ENTRY_FILE)
            l->total_bytes += l->entries[i].len;
    memset(b, 0, sizeof(*b));
    return l;
fail_l:
    free(l);
fail:
    listing_builder_discard(b);
    return NULL;
}

static bool id_listed(const char *id, char *const *ids)
{
    for (size_t i = 0; id && ids[i]; i++)
        if (strcmp(ids[i], id) == 0)
            return true;
    return false;
}

struct listing *listing_keep_ids(struct listing *l, char *const *ids)
{
    size_t kept = 0;

    for (size_t i = 0; i < l->n; i++) {
        if (id_listed(l->entries[i].id, ids)) {
            l->entries[kept++] = l->entries[i];
            continue;
        }
        if (l->entries[i].type == ENTRY_FILE)
            l->total_bytes -= l->entries[i].len;
        entry_free(&l->entries[i]);
    }
    l->n = kept;
    return l;
}

struct listing *listing_ref(struct listing *l)
{
    if (l)
        atomic_fetch_add(&l->refs, 1);
    return l;
}

const struct view *listing_view(struct listing *l, enum view_kind k)
{
    struct view *v = atomic_load(&l->views[k]), *none = NULL;

    if (v)
        return v;
    v = view_build(l, k);
    if (v && !atomic_compare_exchange_strong(&l->views[k], &none, v)) {
        view_free(v); /* another reader made it first */
        v = none;
    }
    return v;
}

void listing_unref(struct listing *l)
{
    if (!l || atomic_fetch_sub(&l->refs, 1) != 1)
        return;
    for (size_t k = 0; k < 2; k++)
        view_free(atomic_load(&l->views[k]));
    for (size_t i = 0; i < l->n; i++)
        entry_free(&l->entries[i]);
    free(l->entries);
    free(l->arena);
    free(l);
}

const struct listing_entry *listing_find(const struct listing *l, const char *name)
{
    struct listing_entry key = {.name = (char *)name};

    if (!l || l->n == 0)
        return NULL;
    return bsearch(&key, l->entries, l->n, sizeof(key), entry_cmp);
}

void listing_carry_times(struct listing *fresh, const struct listing *old, time_t now)
{
    for (size_t i = 0; i < fresh->n; i++) {
        struct listing_entry *e = &fresh->entries[i];
        const struct listing_entry *prev = listing_find(old, e->name);

        if (prev && same_bytes(prev, e))
            e->mtime = prev->mtime;
        else if (!prev)
            e->mtime = e->rec_time > 0 ? e->rec_time : now;
        else if (e->rec_time > prev->mtime)
            e->mtime = e->rec_time;
        else
            e->mtime = now > prev->mtime ? now : prev->mtime + 1;
    }
}

bool listing_entry_same(const struct listing_entry *a, const struct listing_entry *b)
{
    return a->type == b->type && a->mtime == b->mtime && same_bytes(a, b);
}

bool listing_same(const struct listing *a, const struct listing *b)
{
    if (!a || !b || a->n != b->n)
        return false;
    for (size_t i = 0; i < a->n; i++) {
        const struct listing_entry *x = &a->entries[i], *y = &b->entries[i];
        if (strcmp(x->name, y->name) != 0 || !listing_entry_same(x, y))
            return false;
    }
    return true;
}

time_t listing_newest(const struct listing *l, time_t dflt)
{
    time_t best = 0;

    for (size_t i = 0; l && i < l->n; i++)
        if (l->entries[i].mtime > best)
            best = l->entries[i].mtime;
    return best ? best : dflt;
}
