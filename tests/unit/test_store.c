/**
 * @file test_store.c
 * The SQLite copy of the listings, in a temporary directory per test: a
 * listing written and read back field for field (also after a reopen), the
 * in-memory index, a save replacing the stored listing whole, a touch
 * updating only times and finality, LRU eviction under a byte bound (a load
 * counts as a use; a listing over the bound is not kept), accounts whose
 * identity changed losing their listings, first-seen times kept across
 * reopens, damaged, foreign and newer databases moved aside (also one
 * damaged in the middle while closed), file modes whatever the umask,
 * recorded inode numbers, the database's name, and what is still queued
 * written by store_close.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "listing.h"
#include "provider.h"
#include "store.h"

#define BIG       ((unsigned long long)1 << 30)
#define WAIT_MS   5000 /* the longest a test waits for a thread of the store */
#define STORE_APP 0x43465331

struct env {
    char tmp[64];        /* the test's own directory */
    char dir[PATH_MAX];  /* the cache directory (made by store_open) */
    char conf[PATH_MAX]; /* the config file */
    char *db;            /* store_db_path(dir, conf) */
};

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    FILE *f;

    if (!e)
        return -1;
    snprintf(e->tmp, sizeof(e->tmp), "/tmp/test-store-XXXXXX");
    if (!mkdtemp(e->tmp))
        return -1;
    snprintf(e->dir, sizeof(e->dir), "%s/cache", e->tmp);
    snprintf(e->conf, sizeof(e->conf), "%s/campaignfs.conf", e->tmp);
    f = fopen(e->conf, "w");
    if (!f)
        return -1;
    fputs("[alpha]\nprovider = altur\n", f);
    fclose(f);
    e->db = store_db_path(e->dir, e->conf);
    if (!e->db)
        return -1;
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;

    nftw(e->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(e->db);
    free(e);
    return 0;
}

/* ---- accounts ---- */

static struct account make_account(const char *name, const char *provider, const char *url)
{
    struct account a;

    memset(&a, 0, sizeof(a));
    a.name = (char *)name;
    a.provider = provider_find(provider);
    a.url = (char *)url;
    a.campaigns = NULL;
    assert_non_null(a.provider);
    return a;
}

/* alpha (Altur) and beta (Burki). */
static void two_accounts(struct account out[2])
{
    out[0] = make_account("alpha", "altur", "https://a.example");
    out[1] = make_account("beta", "burki", "https://b.example");
}

static struct store *open_with(const struct env *e, const struct account *a, size_t n,
                               unsigned long long max)
{
    char err[512] = "";
    struct store *s = store_open(e->dir, e->conf, a, n, max, err, sizeof(err));

    if (!s)
        fail_msg("store_open: %s", err);
    return s;
}

static struct store *open_store(const struct env *e, unsigned long long max)
{
    struct account a[2];

    two_accounts(a);
    return open_with(e, a, 2, max);
}

/* ---- listings ---- */

static struct listing_entry entry(const char *name, const char *id, const char *link,
                                  enum entry_type type, const char *bytes, int tag, time_t rec_time,
                                  time_t mtime)
{
    struct listing_entry x;

    memset(&x, 0, sizeof(x));
    x.name = (char *)name;
    x.id = (char *)id;
    x.link = (char *)link;
    x.type = (unsigned char)type;
    x.bytes = (char *)bytes;
    x.len = bytes ? (uint32_t)strlen(bytes) : 0;
    x.tag = (unsigned char)tag;
    x.rec_time = rec_time;
    x.mtime = mtime;
    return x;
}

static const char utf8_text[] =
    "{\n  \"name\": \"Zo\xc3\xab M\xc3\xbcller \xe2\x80\x94 "
    "\xe6\x9d\xb1\xe4\xba\xac\",\n  \"phone\": \"+33 1 23 45 67 89\"\n}\n";

/* Files (UTF-8 text, empty), a directory without bytes, a lazy file; ids,
 * links, tags and times set. */
static struct listing *sample(void)
{
    struct listing_builder b;
    struct listing_entry es[] = {
        entry("c1.json", "c-1", "https://x.example/c/1", ENTRY_FILE, utf8_text, 3, 1700000000,
              1700000100),
        entry("empty.json", NULL, NULL, ENTRY_FILE, "", 0, 0, 5),
        entry("camp", "camp-7", NULL, ENTRY_DIR, NULL, 1, 1600000000, 42),
        entry("lazy.json", "rec-9", "https://x.example/r/9", ENTRY_LAZY, NULL, 2, 0, 99),
        entry("\xc3\x9cnicode \xe2\x98\x8e.json", "u-1", NULL, ENTRY_FILE, "{}\n", 0, 7, 8),
    };

    listing_builder_init(&b, NULL, ENTRY_FILE);
    for (size_t i = 0; i < sizeof(es) / sizeof(es[0]); i++)
        assert_int_equal(listing_builder_add_entry(&b, &es[i]), 0);
    return listing_builder_finish(&b);
}

/* n files named f<i>.json of size bytes each (filled with c). */
static struct listing *files(size_t n, size_t size, char c)
{
    struct listing_builder b;
    char *bytes = malloc(size + 1), name[32];

    assert_non_null(bytes);
    memset(bytes, c, size);
    bytes[size] = '\0';
    listing_builder_init(&b, NULL, ENTRY_FILE);
    for (size_t i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "f%05zu.json", i);
        assert_int_equal(listing_builder_add(&b, name, name, ENTRY_FILE, bytes, size, 0), 0);
        b.items[b.n - 1].mtime = (time_t)(1000 + i);
    }
    free(bytes);
    return listing_builder_finish(&b);
}

static void assert_same_text(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void assert_same_listing(const struct listing *got, const struct listing *want)
{
    assert_non_null(got);
    assert_int_equal(got->n, want->n);
    assert_int_equal(got->total_bytes, want->total_bytes);
    for (size_t i = 0; i < want->n; i++) {
        const struct listing_entry *g = &got->entries[i], *w = &want->entries[i];
        assert_string_equal(g->name, w->name);
        assert_same_text(g->id, w->id);
        assert_same_text(g->link, w->link);
        assert_int_equal(g->type, w->type);
        assert_int_equal(g->tag, w->tag);
        assert_int_equal(g->rec_time, w->rec_time);
        assert_int_equal(g->mtime, w->mtime);
        assert_int_equal(g->len, w->len);
        if (g->len)
            assert_memory_equal(g->bytes, w->bytes, w->len);
    }
}

/* ---- loads, waited for ---- */

struct waiter {
    pthread_mutex_t m;
    pthread_cond_t c;
    int calls;
    struct listing *l;
    struct store_meta meta;
    char *url;
    bool meta_given;
    pthread_t thread;
};

static void waiter_init(struct waiter *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->m, NULL);
    pthread_cond_init(&w->c, NULL);
}

static void waiter_done(struct waiter *w)
{
    listing_unref(w->l);
    free(w->url);
    pthread_cond_destroy(&w->c);
    pthread_mutex_destroy(&w->m);
}

static void on_loaded(void *arg, struct listing *l, const struct store_meta *m)
{
    struct waiter *w = arg;

    pthread_mutex_lock(&w->m);
    w->calls++;
    listing_unref(w->l); /* a second call is counted, not leaked */
    w->l = l;
    w->thread = pthread_self();
    w->meta_given = m != NULL;
    if (m) {
        free(w->url);
        w->meta = *m;
        w->url = m->url ? strdup(m->url) : NULL;
        w->meta.url = w->url;
    }
    pthread_cond_broadcast(&w->c);
    pthread_mutex_unlock(&w->m);
}

/* Waits (bounded) for the first call of on_loaded. */
static void waiter_wait(struct waiter *w)
{
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&w->m);
    while (w->calls == 0)
        if (pthread_cond_timedwait(&w->c, &w->m, &until) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&w->m);
    if (w->calls == 0)
        fail_msg("store_load: no answer within %d ms", WAIT_MS);
}

/* store_load, waited for: w holds the answer (waiter_done it). */
static void load(struct store *s, const char *path, struct waiter *w)
{
    waiter_init(w);
    assert_int_equal(store_load(s, path, on_loaded, w), 0);
    waiter_wait(w);
    assert_int_equal(w->calls, 1);
    assert_true(w->meta_given);
}

/* Loads path and checks it against want and its meta. */
static void assert_loads(struct store *s, const char *path, const struct listing *want,
                         const struct store_meta *m)
{
    struct waiter w;

    load(s, path, &w);
    assert_false(pthread_equal(w.thread, pthread_self())); /* on the reader thread */
    assert_same_listing(w.l, want);
    assert_int_equal(w.meta.fetched_at, m->fetched_at);
    assert_same_text(w.meta.url, m->url);
    assert_int_equal(w.meta.total, m->total);
    assert_int_equal(w.meta.final, m->final);
    assert_int_equal(w.meta.changed_at, m->changed_at);
    assert_int_equal(w.l->changed_at, m->changed_at); /* the listing carries it too */
    waiter_done(&w);
}

static void assert_loads_nothing(struct store *s, const char *path)
{
    struct waiter w;

    load(s, path, &w);
    assert_null(w.l);
    waiter_done(&w);
}

static void save(struct store *s, const char *path, struct listing *l, const struct store_meta *m)
{
    store_save(s, path, l, m);
    listing_unref(l); /* the store took its own reference */
}

static struct store_stats stats(struct store *s)
{
    struct store_stats st;

    store_stats(s, &st);
    return st;
}

/* ---- the database, seen directly ---- */

static sqlite3 *db_open(const char *path)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                     SQLITE_OK);
    sqlite3_busy_timeout(db, WAIT_MS);
    return db;
}

static void db_exec(const char *path, const char *sql)
{
    sqlite3 *db = db_open(path);
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

static long long db_int(const char *path, const char *sql)
{
    sqlite3 *db = db_open(path);
    sqlite3_stmt *st;
    long long v = -1;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* How many `<db>.<reason>-*` files there are; the first in *first (malloc'd). */
static size_t asides(const struct env *e, const char *reason, char **first)
{
    char pattern[PATH_MAX + 64];
    glob_t g;
    size_t n;

    snprintf(pattern, sizeof(pattern), "%s.%s-*", e->db, reason);
    if (glob(pattern, 0, NULL, &g) != 0) {
        if (first)
            *first = NULL;
        return 0;
    }
    n = g.gl_pathc;
    if (first)
        *first = n ? strdup(g.gl_pathv[0]) : NULL;
    globfree(&g);
    return n;
}

static mode_t mode_of(const char *path)
{
    struct stat st;

    if (stat(path, &st) < 0)
        fail_msg("stat %s: %s", path, strerror(errno));
    return st.st_mode & 07777;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* A new store works: a save comes back. */
static void assert_store_works(struct store *s)
{
    struct store_meta m = {.fetched_at = 1234, .url = "https://w.example/", .total = 1};
    struct listing *l = files(2, 10, 'w'), *want = listing_ref(l);

    save(s, "alpha/works", l, &m);
    store_flush(s);
    assert_true(store_has(s, "alpha/works"));
    assert_loads(s, "alpha/works", want, &m);
    listing_unref(want);
}

/* ---- the tests ---- */

static void test_round_trip(void **state)
{
    struct env *e = *state;
    struct store_meta m1 = {.fetched_at = 1700000200,
                            .url = "https://api.example/v1/calls?page=1&size=100",
                            .total = 1234,
                            .final = true,
                            .changed_at = 1700000150};
    struct store_meta m2 = {.fetched_at = 1700000300, .url = NULL, .total = -1, .final = false};
    struct listing *l1 = sample(), *l2 = files(3, 50, 'b');
    struct store *s = open_store(e, BIG);

    assert_non_null(l1);
    assert_int_equal(l1->n, 5);
    store_save(s, "alpha/campaigns/camp-7/calls", l1, &m1);
    store_save(s, "beta/campaigns", l2, &m2);
    store_flush(s);
    assert_int_equal(stats(s).saved, 2);
    assert_int_equal(stats(s).listings, 2);
    assert_int_equal(stats(s).queued, 0);
    assert_int_equal(stats(s).errors, 0);
    assert_loads(s, "alpha/campaigns/camp-7/calls", l1, &m1);
    assert_loads(s, "beta/campaigns", l2, &m2);
    assert_int_equal(stats(s).loaded, 2);
    store_close(s);

    s = open_store(e, BIG);
    assert_int_equal(stats(s).listings, 2);
    assert_loads(s, "alpha/campaigns/camp-7/calls", l1, &m1);
    assert_loads(s, "beta/campaigns", l2, &m2);
    assert_int_equal(stats(s).errors, 0);
    store_close(s);
    listing_unref(l1);
    listing_unref(l2);
}

/* The listing handed to the callback is the one that was stored, finality
 * included: a finished call restored from disk must not expire (cache.c's
 * cache_restore() reads l->final, tree.c passes the loaded listing as is). */
static void test_loaded_listing_keeps_final(void **state)
{
    struct env *e = *state;
    struct store_meta m = {.fetched_at = 1700000000, .url = NULL, .total = 1, .final = true};
    struct listing *l = files(1, 20, 'f');
    struct store *s = open_store(e, BIG);
    bool got, got_final, meta_final;
    struct waiter w;

    l->final = true;
    store_save(s, "alpha/campaigns/c/calls/k.json", l, &m);
    store_flush(s);
    load(s, "alpha/campaigns/c/calls/k.json", &w);
    got = w.l != NULL;
    got_final = w.l && w.l->final;
    meta_final = w.meta.final;
    waiter_done(&w);
    store_close(s);
    listing_unref(l);
    /* asserted after the clean-up: a failure leaks nothing */
    assert_true(got);
    assert_true(meta_final);
    assert_true(got_final);
}

static void test_has_and_missing(void **state)
{
    struct env *e = *state;
    struct store_meta m = {.fetched_at = 10, .total = -1};
    struct store *s = open_store(e, BIG);
    struct waiter w;

    assert_false(store_has(s, "alpha/campaigns"));
    save(s, "alpha/campaigns", files(1, 5, 'a'), &m);
    store_flush(s);
    assert_true(store_has(s, "alpha/campaigns"));
    assert_false(store_has(s, "alpha/campaign"));
    assert_false(store_has(s, "alpha"));
    assert_false(store_has(s, "beta/campaigns"));
    /* never saved: called back, with nothing */
    load(s, "beta/campaigns", &w);
    assert_null(w.l);
    assert_false(pthread_equal(w.thread, pthread_self()));
    waiter_done(&w);
    assert_int_equal(stats(s).loaded, 0);
    store_close(s);

    s = open_store(e, BIG);
    assert_true(store_has(s, "alpha/campaigns"));
    assert_false(store_has(s, "beta/campaigns"));
    assert_loads_nothing(s, "beta/campaigns");
    store_close(s);
}

static void test_second_save_replaces_whole(void **state)
{
    struct env *e = *state;
    struct store_meta m1 = {.fetched_at = 100, .url = "https://a.example/1", .total = 4},
                      m2 = {.fetched_at = 200, .url = "https://a.example/2", .total = 1};
    struct listing *first = files(4, 30, '1'), *second;
    struct listing_builder b;
    struct listing_entry x = entry("zz.json", "zz", NULL, ENTRY_FILE, "second\n", 0, 0, 77);
    unsigned long long bytes_second;
    struct store *s;

    listing_builder_init(&b, NULL, ENTRY_FILE);
    assert_int_equal(listing_builder_add_entry(&b, &x), 0);
    second = listing_builder_finish(&b);

    /* what the second listing alone counts, in a store of its own */
    {
        struct env other = *e;
        snprintf(other.dir, sizeof(other.dir), "%s/other", e->tmp);
        s = open_store(&other, BIG);
        store_save(s, "alpha/campaigns", second, &m2);
        store_flush(s);
        bytes_second = stats(s).bytes;
        store_close(s);
    }

    s = open_store(e, BIG);
    store_save(s, "alpha/campaigns", first, &m1);
    store_flush(s);
    assert_true(stats(s).bytes > bytes_second);
    store_save(s, "alpha/campaigns", second, &m2);
    store_flush(s);
    assert_loads(s, "alpha/campaigns", second, &m2);
    assert_int_equal(stats(s).listings, 1);
    assert_int_equal(stats(s).bytes, bytes_second);
    /* nothing of the first is left in the database */
    assert_int_equal(db_int(e->db, "SELECT count(*) FROM entries"), 1);
    assert_int_equal(db_int(e->db, "SELECT count(*) FROM listings"), 1);
    store_close(s);

    s = open_store(e, BIG);
    assert_int_equal(stats(s).listings, 1);
    assert_int_equal(stats(s).bytes, bytes_second);
    assert_loads(s, "alpha/campaigns", second, &m2);
    store_close(s);
    listing_unref(first);
    listing_unref(second);
}

static void test_touch_updates_times_only(void **state)
{
    struct env *e = *state;
    struct store_meta m = {.fetched_at = 1000, .url = "https://a.example/c", .total = 7},
                      t = {.fetched_at = 5000,
                           .url = "https://a.example/c",
                           .total = 7,
                           .final = true},
                      want = t;
    struct listing *l = sample();
    unsigned long saved;
    struct store *s = open_store(e, BIG);

    store_save(s, "alpha/campaigns/c/calls", l, &m);
    store_flush(s);
    saved = stats(s).saved;
    store_touch(s, "alpha/campaigns/c/calls", &t);
    store_touch(s, "alpha/never", &t); /* nothing stored there: nothing made */
    store_flush(s);
    assert_int_equal(stats(s).saved, saved);
    assert_false(store_has(s, "alpha/never"));
    assert_int_equal(db_int(e->db, "SELECT count(*) FROM listings"), 1);
    assert_loads(s, "alpha/campaigns/c/calls", l, &want);
    store_close(s);

    s = open_store(e, BIG);
    assert_loads(s, "alpha/campaigns/c/calls", l, &want);
    store_close(s);
    listing_unref(l);
}

static void test_eviction_lru(void **state)
{
    struct env *e = *state;
    struct store_meta m = {.fetched_at = 1, .total = -1};
    unsigned long long one, max;
    struct store_stats st;
    char path[32];
    struct store *s;

    /* what one listing counts */
    s = open_store(e, BIG);
    save(s, "alpha/probe", files(1, 1000, 'p'), &m);
    store_flush(s);
    one = stats(s).bytes;
    assert_true(one >= 1000);
    store_close(s);
    max = 3 * one + one / 2; /* three fit, not four */

    s = open_store(e, max);
    assert_int_equal(stats(s).max_bytes, max);
    /* the probe (oldest) and p0 go */
    for (int i = 0; i < 5; i++) {
        snprintf(path, sizeof(path), "alpha/p%d", i);
        save(s, path, files(1, 1000, (char)('0' + i)), &m);
    }
    store_flush(s);
    st = stats(s);
    assert_int_equal(st.evicted, 3);
    assert_true(st.bytes <= max);
    assert_int_equal(st.listings, 3);
    assert_false(store_has(s, "alpha/probe"));
    assert_false(store_has(s, "alpha/p0"));
    assert_false(store_has(s, "alpha/p1"));
    assert_true(store_has(s, "alpha/p2"));
    assert_true(store_has(s, "alpha/p3"));
    assert_true(store_has(s, "alpha/p4"));
    assert_int_equal(db_int(e->db, "SELECT count(*) FROM listings"), 3);

    /* reading p2 (the oldest) makes p3 the least recently used */
    {
        struct waiter w;
        load(s, "alpha/p2", &w);
        assert_non_null(w.l);
        waiter_done(&w);
    }
    store_flush(s); /* the touch the load queued */
    save(s, "alpha/p5", files(1, 1000, '5'), &m);
    store_flush(s);
    assert_true(store_has(s, "alpha/p2"));
    assert_false(store_has(s, "alpha/p3"));
    assert_true(store_has(s, "alpha/p4"));
    assert_true(store_has(s, "alpha/p5"));
    assert_loads_nothing(s, "alpha/p3");

    /* a listing bigger than the bound: not kept, and nothing evicted for it */
    st = stats(s);
    save(s, "alpha/huge", files(1, (size_t)max + 1, 'h'), &m);
    store_flush(s);
    assert_false(store_has(s, "alpha/huge"));
    assert_int_equal(stats(s).evicted, st.evicted);
    assert_int_equal(stats(s).listings, 3);
    assert_int_equal(stats(s).bytes, st.bytes);
    assert_int_equal(db_int(e->db, "SELECT count(*) FROM listings WHERE path = 'alpha/huge'"), 0);
    store_close(s);

    /* the order of use outlives a reopen: p4 is now the oldest */
    s = open_store(e, max);
    assert_int_equal(stats(s).listings, 3);
    assert_int_equal(stats(s).bytes, st.bytes);
    save(s, "alpha/p6", files(1, 1000, '6'), &m);
    store_flush(s);
    assert_false(store_has(s, "alpha/p4"));
    assert_true(store_has(s, "alpha/p2"));
    assert_true(store_has(s, "alpha/p5"));
    assert_true(store_has(s, "alpha/p6"));
    assert_true(stats(s).bytes <= max);
    store_close(s);
}

static void test_fingerprint(void **state)
{
    struct env *e = *state;
    struct store_meta m = {.fetched_at = 1, .total = -1};
    struct account a[2];
    time_t created, before = time(NULL);
    char *filter[] = {(char *)"camp-1", NULL};
    struct store *s;

    two_accounts(a);
    s = open_with(e, a, 2, BIG);
    save(s, "alpha/campaigns", files(1, 10, 'a'), &m);
    save(s, "alpha/campaigns/c1/calls", files(2, 10, 'a'), &m);
    save(s, "beta/campaigns", files(1, 10, 'b'), &m);
    store_flush(s);
    created = store_first_seen(s, NULL);
    assert_true(created >= before && created <= time(NULL));
    store_close(s);
    s = open_with(e, a, 2, BIG);
    assert_int_equal(store_first_seen(s, NULL), created);
    assert_true(store_has(s, "alpha/campaigns"));
    assert_true(store_has(s, "beta/campaigns"));
    store_close(s);

    /* as if the database had been made long ago */
    db_exec(e->db, "UPDATE accounts SET first_seen = 1000;"
                   "UPDATE meta SET value = 2000 WHERE key = 'created_at';");
    s = open_with(e, a, 2, BIG);
    assert_int_equal(store_first_seen(s, NULL), 2000);
    assert_int_equal(store_first_seen(s, "alpha"), 1000);
    assert_int_equal(store_first_seen(s, "beta"), 1000);
    store_close(s);

    /* alpha's URL changed: its listings go, beta's stay */
    a[0].url = (char *)"https://a2.example";
    s = open_with(e, a, 2, BIG);
    assert_false(store_has(s, "alpha/campaigns"));
    assert_false(store_has(s, "alpha/campaigns/c1/calls"));
    assert_true(store_has(s, "beta/campaigns"));
    assert_int_equal(stats(s).listings, 1);
    assert_int_equal(store_first_seen(s, "beta"), 1000);
    assert_true(store_first_seen(s, "alpha") >= before);
    assert_int_equal(store_first_seen(s, NULL), 2000);
    assert_int_equal(db_int(e->db, "SELECT count(*) FROM entries"), 1);
    save(s, "alpha/campaigns", files(1, 10, 'a'), &m);
    store_flush(s);
    store_close(s);

    /* the same again: kept */
    db_exec(e->db, "UPDATE accounts SET first_seen = 3000 WHERE name = 'alpha';");
    s = open_with(e, a, 2, BIG);
    assert_true(store_has(s, "alpha/campaigns"));
    assert_true(store_has(s, "beta/campaigns"));
    assert_int_equal(store_first_seen(s, "alpha"), 3000);
    store_close(s);

    /* beta's provider changed */
    a[1].provider = provider_find("truedy");
    s = open_with(e, a, 2, BIG);
    assert_true(store_has(s, "alpha/campaigns"));
    assert_false(store_has(s, "beta/campaigns"));
    assert_int_equal(store_first_seen(s, "alpha"), 3000);
    assert_true(store_first_seen(s, "beta") >= before);
    store_close(s);

    /* alpha's campaign filter changed */
    a[0].campaigns = filter;
    s = open_with(e, a, 2, BIG);
    assert_false(store_has(s, "alpha/campaigns"));
    assert_int_equal(store_first_seen(s, NULL), 2000);
    store_close(s);

    /* an account left out of the config keeps its first-seen time */
    db_exec(e->db, "UPDATE accounts SET first_seen = 4000 WHERE name = 'beta';");
    s = open_with(e, a, 1, BIG);
    store_close(s);
    s = open_with(e, a, 2, BIG);
    assert_int_equal(store_first_seen(s, "beta"), 4000);
    store_close(s);
}

static void test_garbage_file_moved_aside(void **state)
{
    struct env *e = *state;
    char garbage[8192], back[sizeof(garbage)], *aside;
    struct store *s;
    int fd;

    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (char)(i * 131 + 7);
    assert_int_equal(mkdir(e->dir, 0700), 0);
    fd = open(e->db, O_WRONLY | O_CREAT | O_EXCL, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, garbage, sizeof(garbage)), (ssize_t)sizeof(garbage));
    close(fd);

    s = open_store(e, BIG);
    assert_int_equal(asides(e, "corrupt", &aside), 1);
    fd = open(aside, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(read(fd, back, sizeof(back)), (ssize_t)sizeof(back));
    close(fd);
    assert_memory_equal(back, garbage, sizeof(garbage)); /* moved, not rewritten */
    free(aside);
    assert_store_works(s);
    store_close(s);
    assert_int_equal(db_int(e->db, "PRAGMA application_id"), STORE_APP);
}

static void test_foreign_database_moved_aside(void **state)
{
    struct env *e = *state;
    char *aside;
    struct store *s;

    assert_int_equal(mkdir(e->dir, 0700), 0);
    db_exec(e->db, "CREATE TABLE theirs(x); INSERT INTO theirs VALUES(42);"
                   "PRAGMA application_id = 42;");
    s = open_store(e, BIG);
    assert_int_equal(asides(e, "foreign", &aside), 1);
    assert_int_equal(db_int(aside, "SELECT x FROM theirs"), 42);
    free(aside);
    assert_int_equal(asides(e, "corrupt", NULL), 0);
    assert_store_works(s);
    store_close(s);
    assert_int_equal(db_int(e->db, "PRAGMA application_id"), STORE_APP);
}

/* Another program's database that never set an application_id. */
static void test_foreign_database_without_app_id(void **state)
{
    struct env *e = *state;
    struct store *s;

    assert_int_equal(mkdir(e->dir, 0700), 0);
    db_exec(e->db, "CREATE TABLE listings(x); INSERT INTO listings VALUES(1);");
    s = open_store(e, BIG);
    assert_int_equal(asides(e, "foreign", NULL), 1);
    assert_store_works(s);
    store_close(s);
}

static void test_newer_database_moved_aside(void **state)
{
    struct env *e = *state;
    struct store_meta m = {.fetched_at = 1, .total = -1};
    struct store *s = open_store(e, BIG);

    save(s, "alpha/campaigns", files(1, 10, 'n'), &m);
    store_flush(s);
    store_close(s);
    db_exec(e->db, "PRAGMA user_version = 99;");

    s = open_store(e, BIG);
    assert_int_equal(asides(e, "newer", NULL), 1);
    assert_int_equal(asides(e, "corrupt", NULL), 0);
    assert_false(store_has(s, "alpha/campaigns"));
    assert_int_equal(stats(s).listings, 0);
    assert_store_works(s);
    store_close(s);
    assert_int_equal(db_int(e->db, "PRAGMA user_version"), 1);
}

static void test_damaged_in_the_middle(void **state)
{
    struct env *e = *state;
    struct store_meta m = {.fetched_at = 1, .total = -1};
    struct stat st;
    char page[4096];
    off_t from, to;
    struct store *s = open_store(e, BIG);
    int fd, waited;

    save(s, "alpha/campaigns/c/calls", files(2000, 500, 'x'), &m);
    store_flush(s);
    store_close(s);
    assert_int_equal(stat(e->db, &st), 0);
    assert_true(st.st_size > 1000000);

    /* pages in the middle, not the header nor the schema's first pages */
    memset(page, 0x5a, sizeof(page));
    from = st.st_size * 2 / 5 / 4096 * 4096;
    to = st.st_size * 3 / 5 / 4096 * 4096;
    fd = open(e->db, O_WRONLY);
    assert_true(fd >= 0);
    for (off_t at = from; at < to; at += (off_t)sizeof(page))
        assert_int_equal(pwrite(fd, page, sizeof(page), at), (ssize_t)sizeof(page));
    close(fd);

    s = open_store(e, BIG);
    assert_non_null(s);
    /* found on the writer thread (quick_check) or at the first load */
    {
        struct waiter w;
        load(s, "alpha/campaigns/c/calls", &w);
        assert_null(w.l); /* never a damaged listing */
        waiter_done(&w);
    }
    for (waited = 0; waited < WAIT_MS; waited += 10) {
        if (asides(e, "corrupt", NULL) == 1 && stats(s).listings == 0 &&
            !store_has(s, "alpha/campaigns/c/calls"))
            break;
        sleep_ms(10);
    }
    assert_int_equal(asides(e, "corrupt", NULL), 1);
    assert_int_equal(stats(s).listings, 0);
    assert_false(store_has(s, "alpha/campaigns/c/calls"));
    assert_store_works(s);
    store_close(s);

    /* and the new one is whole */
    s = open_store(e, BIG);
    assert_true(store_has(s, "alpha/works"));
    assert_int_equal(asides(e, "corrupt", NULL), 1);
    store_close(s);
}

static void test_modes(void **state)
{
    struct env *e = *state;
    struct store_meta m = {.fetched_at = 1, .total = -1};
    char parent[PATH_MAX], side[PATH_MAX + 8];
    mode_t old = umask(0);
    struct store *s;

    /* two levels to make */
    snprintf(parent, sizeof(parent), "%s", e->dir);
    snprintf(e->dir + strlen(e->dir), sizeof(e->dir) - strlen(e->dir), "/inner");
    free(e->db);
    e->db = store_db_path(e->dir, e->conf);
    s = open_store(e, BIG);
    save(s, "alpha/campaigns", files(3, 100, 'm'), &m);
    store_flush(s);
    umask(old);
    assert_int_equal(mode_of(parent), 0700);
    assert_int_equal(mode_of(e->dir), 0700);
    assert_int_equal(mode_of(e->db), 0600);
    snprintf(side, sizeof(side), "%s-wal", e->db);
    assert_int_equal(mode_of(side), 0600);
    snprintf(side, sizeof(side), "%s-shm", e->db);
    assert_int_equal(mode_of(side), 0600);
    store_close(s);
}

/* A database file someone left readable by others is made 0600. */
static void test_existing_file_made_private(void **state)
{
    struct env *e = *state;
    mode_t old = umask(0);
    struct store *s;
    int fd;

    assert_int_equal(mkdir(e->dir, 0700), 0);
    fd = open(e->db, O_WRONLY | O_CREAT | O_EXCL, 0644);
    umask(old);
    assert_true(fd >= 0);
    close(fd);
    s = open_store(e, BIG);
    assert_int_equal(mode_of(e->db), 0600);
    assert_store_works(s);
    store_close(s);
}

static void test_inodes(void **state)
{
    struct env *e = *state;
    uint64_t big = ((uint64_t)1 << 63) | 7;
    struct store *s = open_store(e, BIG);

    assert_int_equal(store_inode(s, "alpha/campaigns/x"), 0);
    store_record_inode(s, "alpha/campaigns/x", 12345);
    store_record_inode(s, "beta/y.json", big);
    store_record_inode(s, "alpha/z", 99);
    store_record_inode(s, "alpha/z", 100); /* the last one counts */
    assert_int_equal(store_inode(s, "alpha/campaigns/x"), 12345);
    assert_true(store_inode(s, "beta/y.json") == big);
    assert_int_equal(store_inode(s, "alpha/z"), 100);
    assert_int_equal(store_inode(s, "alpha/campaigns"), 0);
    store_close(s);

    s = open_store(e, BIG);
    assert_int_equal(store_inode(s, "alpha/campaigns/x"), 12345);
    assert_true(store_inode(s, "beta/y.json") == big);
    assert_int_equal(store_inode(s, "alpha/z"), 100);
    assert_int_equal(store_inode(s, "alpha/campaigns"), 0);
    assert_int_equal(store_inode(s, "beta"), 0);
    store_close(s);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);

    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static void test_db_path(void **state)
{
    struct env *e = *state;
    char other_dir[PATH_MAX], other[PATH_MAX], twin[PATH_MAX], link_path[PATH_MAX],
        prefix[PATH_MAX + 32];
    char *a, *b, *c, *d, *t, *ln, *missing;
    FILE *f;

    snprintf(other, sizeof(other), "%s/work.conf", e->tmp);
    snprintf(other_dir, sizeof(other_dir), "%s/sub", e->tmp);
    snprintf(twin, sizeof(twin), "%s/sub/campaignfs.conf", e->tmp);
    snprintf(link_path, sizeof(link_path), "%s/link.conf", e->tmp);
    f = fopen(other, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(mkdir(other_dir, 0700), 0);
    f = fopen(twin, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(symlink(e->conf, link_path), 0);

    a = store_db_path("/var/cache/x", e->conf);
    b = store_db_path("/var/cache/x", e->conf);
    c = store_db_path("/var/cache/x", other);
    d = store_db_path("/var/cache/x", twin); /* the same basename elsewhere */
    t = store_db_path("/var/cache/y", e->conf);
    ln = store_db_path("/var/cache/x", link_path); /* the file it names */
    missing = store_db_path("/var/cache/x", "/nonexistent/dir/gone.conf");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    assert_non_null(d);
    assert_non_null(t);
    assert_non_null(ln);
    assert_non_null(missing);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_string_not_equal(a, d);
    assert_string_equal(a, ln);
    assert_string_equal(strrchr(a, '/'), strrchr(t, '/')); /* the name is the config's alone */
    assert_true(starts_with(a, "/var/cache/x/campaignfs.conf"));
    assert_true(starts_with(c, "/var/cache/x/work.conf"));
    assert_true(starts_with(d, "/var/cache/x/campaignfs.conf"));
    assert_true(starts_with(missing, "/var/cache/x/gone.conf"));
    assert_true(starts_with(t, "/var/cache/y/"));
    assert_true(ends_with(a, ".db"));
    assert_true(ends_with(c, ".db"));
    assert_true(ends_with(missing, ".db"));
    /* and it is the file store_open uses */
    snprintf(prefix, sizeof(prefix), "%s/", e->dir);
    assert_true(starts_with(e->db, prefix));
    {
        struct store *s = open_store(e, BIG);
        assert_string_equal(stats(s).path, e->db);
        store_close(s);
        assert_int_equal(access(e->db, F_OK), 0);
    }
    free(a);
    free(b);
    free(c);
    free(d);
    free(t);
    free(ln);
    free(missing);
}

static void test_close_writes_queue(void **state)
{
    struct env *e = *state;
    struct store_meta m = {.fetched_at = 77, .url = "https://q.example/", .total = 3};
    struct listing *ls[20];
    char path[32];
    struct store *s = open_store(e, BIG);
    struct waiter w;

    for (int i = 0; i < 20; i++) {
        ls[i] = files((size_t)(1 + i % 4), 200, (char)('a' + i));
        snprintf(path, sizeof(path), "alpha/q%02d", i);
        store_save(s, path, ls[i], &m);
    }
    /* a load still queued is answered, once */
    waiter_init(&w);
    assert_int_equal(store_load(s, "alpha/q00", on_loaded, &w), 0);
    store_close(s);
    assert_int_equal(w.calls, 1);
    waiter_done(&w);

    s = open_store(e, BIG);
    assert_int_equal(stats(s).listings, 20);
    for (int i = 0; i < 20; i++) {
        snprintf(path, sizeof(path), "alpha/q%02d", i);
        assert_true(store_has(s, path));
        assert_loads(s, path, ls[i], &m);
        listing_unref(ls[i]);
    }
    store_close(s);
}

/* A save, a touch and another save of one path, queued together: what
 * the database ends with is the last save, with its own meta. */
static void test_save_touch_save_keeps_last_meta(void **state)
{
    struct env *e = *state;
    struct store_meta m1 = {.fetched_at = 1000, .url = "https://a.example/", .total = 1},
                      t2 = {.fetched_at = 2000,
                            .url = "https://a.example/",
                            .total = 1,
                            .final = true},
                      m3 = {.fetched_at = 3000, .url = "https://a.example/", .total = 2};
    struct listing *last = files(2, 10, '3');
    struct store *s = open_store(e, BIG);
    struct store_meta got_meta;
    struct waiter w;
    bool got;

    /* the writer busy: two writes queued, then one of them taken (queued
     * counts the batch being written as one), so the three below are
     * queued together behind it */
    save(s, "beta/busy1", files(10000, 200, 'b'), &m1);
    save(s, "beta/busy2", files(10000, 200, 'c'), &m1);
    for (int waited = 0; stats(s).queued > 1 && waited < WAIT_MS; waited++)
        sleep_ms(1);
    save(s, "alpha/calls", files(1, 10, '1'), &m1);
    store_touch(s, "alpha/calls", &t2);
    store_save(s, "alpha/calls", last, &m3);
    store_flush(s);
    load(s, "alpha/calls", &w);
    got = w.l && w.l->n == last->n && strcmp(w.l->entries[0].name, last->entries[0].name) == 0 &&
          memcmp(w.l->entries[0].bytes, last->entries[0].bytes, last->entries[0].len) == 0;
    got_meta = w.meta;
    waiter_done(&w);
    store_close(s);
    listing_unref(last);
    /* asserted after the clean-up: a failure leaks nothing */
    assert_true(got);
    assert_int_equal(got_meta.fetched_at, m3.fetched_at);
    assert_int_equal(got_meta.total, m3.total);
    assert_int_equal(got_meta.final, m3.final);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_round_trip),
        T(test_loaded_listing_keeps_final),
        T(test_has_and_missing),
        T(test_second_save_replaces_whole),
        T(test_touch_updates_times_only),
        T(test_eviction_lru),
        T(test_fingerprint),
        T(test_garbage_file_moved_aside),
        T(test_foreign_database_moved_aside),
        T(test_foreign_database_without_app_id),
        T(test_newer_database_moved_aside),
        T(test_damaged_in_the_middle),
        T(test_modes),
        T(test_existing_file_made_private),
        T(test_inodes),
        T(test_db_path),
        T(test_close_writes_queue),
        T(test_save_touch_save_keeps_last_meta),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
