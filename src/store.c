/**
 * @file store.c
 * The SQLite copy of the listings.  Schema 1:
 *
 *   meta(key, value)                       created_at: the first mount
 *   accounts(name, fingerprint, first_seen) provider, URL, filter
 *   listings(id, path, account, fetched_at, used, url, total, n, bytes, final,
 *            changed_at)
 *   entries(key = id << 32 | position, name, id, link, type, tag,
 *           rec_time, mtime, bytes)
 *   inodes(path, ino)                      inode numbers given after a collision
 *
 * Two connections: the writer thread's (every write, in batches, each
 * listing whole within one transaction) and the reader thread's (loads).
 * WAL lets the reader read while the writer writes.  `used` is a sequence
 * number bumped when a listing is written or read: eviction takes the
 * smallest first.  A database that reports corruption at any time is
 * moved aside by the writer thread, which swaps both connections under
 * swap_lock, and the mount goes on with an empty one.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <search.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "account.h"
#include "log.h"
#include "provider.h"

#define STORE_APP_ID   0x43465331 /* "CFS1" */
#define STORE_SCHEMA   1
#define BUSY_MS        2000
#define KEY_SHIFT      32
#define ENTRY_OVERHEAD 16 /* bytes counted per stored entry besides its texts */

static const char schema_sql[] =
    "PRAGMA auto_vacuum = INCREMENTAL;"
    "BEGIN;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
    "CREATE TABLE accounts(name TEXT PRIMARY KEY, fingerprint TEXT NOT NULL,"
    " first_seen INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE listings(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, account TEXT,"
    " fetched_at INTEGER NOT NULL, used INTEGER NOT NULL, url TEXT, total INTEGER NOT NULL,"
    " n INTEGER NOT NULL, bytes INTEGER NOT NULL, final INTEGER NOT NULL,"
    " changed_at INTEGER NOT NULL);"
    "CREATE INDEX listings_used ON listings(used);"
    "CREATE TABLE entries(key INTEGER PRIMARY KEY, name TEXT NOT NULL, id TEXT, link TEXT,"
    " type INTEGER NOT NULL, tag INTEGER NOT NULL, rec_time INTEGER NOT NULL,"
    " mtime INTEGER NOT NULL, bytes BLOB);"
    "CREATE TABLE inodes(path TEXT PRIMARY KEY, ino INTEGER NOT NULL UNIQUE) WITHOUT ROWID;"
    "PRAGMA application_id = 1128682289;" /* STORE_APP_ID */
    "PRAGMA user_version = 1;"            /* STORE_SCHEMA */
    "COMMIT;";

enum job_kind { JOB_SAVE, JOB_TOUCH, JOB_INODE };

struct job {
    struct job *next;
    enum job_kind kind;
    char *path;
    struct listing *l; /* JOB_SAVE */
    time_t fetched_at;
    time_t changed_at;
    char *url;
    long total;
    bool final;
    bool stored;  /* JOB_SAVE: written (not too big for cache_max) */
    uint64_t ino; /* JOB_INODE */
};

struct load {
    struct load *next;
    char *path;
    store_loaded_fn done;
    void *arg;
};

struct inode_rec {
    char *path;
    uint64_t ino;
};

struct store {
    char *db_path;
    unsigned long long max_bytes;
    sqlite3 *wdb, *rdb;        /* the writer's and the reader's connections */
    pthread_mutex_t swap_lock; /* held by a reader's load and by a swap */
    pthread_mutex_t lock;      /* the queues, the index, the inode records */
    pthread_cond_t work, idle; /* writer: jobs came; flushers: queue drained */
    pthread_cond_t rwork;      /* reader: loads came */
    struct job *jobs;          /* newest first */
    size_t n_jobs;
    bool writing; /* the writer holds a batch */
    struct load *loads_head, *loads_tail;
    bool stop;
    pthread_t writer, reader;
    bool threads;
    void *index;  /* tsearch set of stored paths (char *) */
    void *inodes; /* tsearch set of struct inode_rec, by path */
    time_t created_at;
    struct {
        char name[256];
        char fingerprint[2048]; /* provider, URL, campaign filter */
        time_t first_seen;
    } * accounts;
    size_t n_accounts;
    long long used_seq;
    atomic_bool corrupt; /* seen by either thread: the writer moves it aside */
    /* totals (under lock) and counters */
    unsigned long listings;
    unsigned long long bytes;
    atomic_ulong saved, loaded, evicted, errors;
    bool warned_error;
};

/* ---- paths ---- */

char *store_default_dir(void)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *out = NULL;

    if (xdg && *xdg == '/') {
        if (asprintf(&out, "%s/campaignfs", xdg) < 0)
            out = NULL;
    } else if (home && *home) {
        if (asprintf(&out, "%s/.cache/campaignfs", home) < 0)
            out = NULL;
    }
    return out;
}

char *store_db_path(const char *dir, const char *config_path)
{
    char *abs = realpath(config_path, NULL), *out = NULL;
    const char *full = abs ? abs : config_path, *base = strrchr(full, '/');
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char hex[17];

    base = base ? base + 1 : full;
    if (EVP_Digest(full, strlen(full), md, &md_len, EVP_sha256(), NULL) && md_len >= 8) {
        for (int i = 0; i < 8; i++)
            snprintf(hex + 2 * i, 3, "%02x", md[i]);
        if (asprintf(&out, "%s/%s-%s.db", dir, *base ? base : "config", hex) < 0)
            out = NULL;
    }
    free(abs);
    return out;
}

/* mkdir -p, each directory made 0700. */
static int make_dirs(const char *dir)
{
    char *copy = strdup(dir);
    int rc = 0;

    if (!copy)
        return -ENOMEM;
    for (char *p = copy + 1; rc == 0; p++) {
        bool end = *p == '\0';
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(copy, 0700) < 0 && errno != EEXIST)
            rc = -errno;
        if (end)
            break;
        *p = '/';
    }
    free(copy);
    return rc;
}

/* ---- the in-memory index of stored paths ---- */

static int str_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void index_add(struct store *s, const char *path)
{
    char *copy;

    if (tfind(path, &s->index, str_cmp))
        return;
    copy = strdup(path);
    if (copy && !tsearch(copy, &s->index, str_cmp))
        free(copy);
}

static void index_remove(struct store *s, const char *path)
{
    char **found = tfind(path, &s->index, str_cmp);
    char *key;

    if (!found)
        return;
    key = *found;
    tdelete(path, &s->index, str_cmp);
    free(key);
}

static int inode_cmp(const void *a, const void *b)
{
    return strcmp(((const struct inode_rec *)a)->path, ((const struct inode_rec *)b)->path);
}

static void inode_add(struct store *s, const char *path, uint64_t ino)
{
    struct inode_rec key = {(char *)path, 0}, *r;
    void *found = tfind(&key, &s->inodes, inode_cmp);

    if (found) {
        (*(struct inode_rec **)found)->ino = ino;
        return;
    }
    r = malloc(sizeof(*r));
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return;
    }
    r->ino = ino;
    if (!tsearch(r, &s->inodes, inode_cmp)) {
        free(r->path);
        free(r);
    }
}

static void inode_free(void *p)
{
    struct inode_rec *r = p;

    free(r->path);
    free(r);
}

/* ---- connections ---- */

static bool is_corruption(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* Notes a failed statement: corruption is left to the writer. */
static void db_failed(struct store *s, sqlite3 *db, int rc, const char *what)
{
    atomic_fetch_add(&s->errors, 1);
    if (is_corruption(rc)) {
        atomic_store(&s->corrupt, true);
        pthread_mutex_lock(&s->lock);
        pthread_cond_signal(&s->work); /* the writer swaps the database */
        pthread_mutex_unlock(&s->lock);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (!s->warned_error) {
        s->warned_error = true;
        pthread_mutex_unlock(&s->lock);
        log_warn("cache database %s: %s: %s (the listings stay in memory; later failures are "
                 "counted in .campaignfs/status)",
                 s->db_path, what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return;
    }
    pthread_mutex_unlock(&s->lock);
}

static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* One integer from a statement with no parameters; rc in *rc. */
static long long query_int(sqlite3 *db, const char *sql, int *rc)
{
    sqlite3_stmt *st;
    long long v = 0;

    *rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (*rc != SQLITE_OK)
        return 0;
    *rc = sqlite3_step(st);
    if (*rc == SQLITE_ROW) {
        v = sqlite3_column_int64(st, 0);
        *rc = SQLITE_OK;
    } else if (*rc == SQLITE_DONE) {
        *rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return v;
}

static sqlite3 *open_conn(const char *path, int *rc)
{
    sqlite3 *db = NULL;

    *rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (*rc != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, BUSY_MS);
    sqlite3_extended_result_codes(db, 1);
    return db;
}

/* Why an existing database cannot be trusted (NULL: it can), after
 * creating the schema in a new one. */
static const char *check_db(sqlite3 *db, int *rc)
{
    long long app, version, tables;

    app = query_int(db, "PRAGMA application_id", rc);
    if (*rc != SQLITE_OK)
        return is_corruption(*rc) ? "corrupt" : NULL;
    version = query_int(db, "PRAGMA user_version", rc);
    tables = *rc == SQLITE_OK ? query_int(db, "SELECT count(*) FROM sqlite_master", rc) : 0;
    if (*rc != SQLITE_OK)
        return is_corruption(*rc) ? "corrupt" : NULL;
    if (app == 0 && version == 0 && tables == 0) {
        *rc = exec(db, schema_sql);
        if (*rc != SQLITE_OK)
            return is_corruption(*rc) ? "corrupt" : NULL;
        return NULL;
    }
    if (app != STORE_APP_ID)
        return "foreign";
    if (version > STORE_SCHEMA)
        return "newer";
    if (version < STORE_SCHEMA)
        return "corrupt";
    return NULL;
}

static const char *reason_text(const char *reason)
{
    if (strcmp(reason, "foreign") == 0)
        return "not a campaignfs cache (another program's database)";
    if (strcmp(reason, "newer") == 0)
        return "written by a newer campaignfs (its schema is unknown to this one)";
    return "damaged (SQLite reports corruption)";
}

/* Renames the database (and drops its -wal and -shm) so that a new one
 * starts in its place. */
static void move_aside(const char *db_path, const char *reason)
{
    char aside[PATH_MAX + 64], side[PATH_MAX + 8], when[32];
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(aside, sizeof(aside), "%s.%s-%s", db_path, reason, when);
    for (int k = 2; access(aside, F_OK) == 0 && k < 100; k++) /* never over an earlier one */
        snprintf(aside, sizeof(aside), "%s.%s-%s-%d", db_path, reason, when, k);
    if (rename(db_path, aside) < 0) {
        log_error("cache database %s: %s, and it cannot be moved aside (%s): remove it by hand",
                  db_path, reason_text(reason), strerror(errno));
        return;
    }
    snprintf(side, sizeof(side), "%s-wal", db_path);
    unlink(side);
    snprintf(side, sizeof(side), "%s-shm", db_path);
    unlink(side);
    log_warn("cache database %s: %s; moved aside to %s, starting with an empty one", db_path,
             reason_text(reason), aside);
}

/* Makes the file exist with mode 0600 whatever the umask. */
static int secure_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    struct stat st;
    int rc = 0;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) == 0 && (st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

/* Opens both connections on a database that can be trusted (moving an
 * untrusted one aside first).  0, or -1 with err. */
static int connect_db(struct store *s, char *err, size_t errlen)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        const char *bad;
        int rc, frc = secure_file(s->db_path);

        if (frc < 0) {
            snprintf(err, errlen, "cannot create the cache database %s: %s", s->db_path,
                     strerror(-frc));
            return -1;
        }
        s->wdb = open_conn(s->db_path, &rc);
        bad = s->wdb ? check_db(s->wdb, &rc) : NULL;
        if (!bad && s->wdb && rc == SQLITE_OK) {
            rc = exec(s->wdb, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
            if (rc == SQLITE_OK)
                s->rdb = open_conn(s->db_path, &rc);
            if (s->rdb)
                return 0;
            bad = is_corruption(rc) ? "corrupt" : NULL;
        }
        if (!bad && is_corruption(rc))
            bad = "corrupt";
        sqlite3_close(s->rdb);
        sqlite3_close(s->wdb);
        s->rdb = s->wdb = NULL;
        if (!bad) {
            snprintf(err, errlen, "cannot open the cache database %s: %s", s->db_path,
                     sqlite3_errstr(rc));
            return -1;
        }
        move_aside(s->db_path, bad);
    }
    snprintf(err, errlen, "cannot start a new cache database at %s", s->db_path);
    return -1;
}

/* ---- what the database knows at open ---- */

static void fingerprint(const struct account *a, char *out, size_t len)
{
    size_t at = (size_t)snprintf(out, len, "%s %s", a->provider->name, a->url);

    for (char **c = a->campaigns; c && *c && at < len; c++)
        at += (size_t)snprintf(out + at, len - at, " %s", *c);
}

/* An entry's key: its listing's id and its position. */
static sqlite3_int64 entry_key(long long id, size_t pos)
{
    return (sqlite3_int64)(((unsigned long long)id << KEY_SHIFT) | pos);
}

/* Binds ?1 and ?2 to the first and last entry keys of listing id. */
static void bind_entry_range(sqlite3_stmt *st, long long id)
{
    sqlite3_bind_int64(st, 1, entry_key(id, 0));
    sqlite3_bind_int64(st, 2, entry_key(id, 0xffffffffu));
}

/* Deletes a listing and its entries (in the caller's transaction). */
static int delete_listing(sqlite3 *db, long long id)
{
    sqlite3_stmt *st;
    int rc =
        sqlite3_prepare_v2(db, "DELETE FROM entries WHERE key BETWEEN ?1 AND ?2", -1, &st, NULL);

    if (rc != SQLITE_OK)
        return rc;
    bind_entry_range(st, id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    rc = sqlite3_prepare_v2(db, "DELETE FROM listings WHERE id = ?1", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Drops the listings of an account whose identity changed. */
static int forget_account(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    long long ids[256];
    int rc, n;

    do {
        n = 0;
        rc = sqlite3_prepare_v2(db, "SELECT id FROM listings WHERE account = ?1 LIMIT 256", -1, &st,
                                NULL);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ids[n++] = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return rc;
        for (int i = 0; i < n; i++)
            if ((rc = delete_listing(db, ids[i])) != SQLITE_OK)
                return rc;
    } while (n == 256);
    return SQLITE_OK;
}

/* Learns (or records) each account's identity and first-seen time. */
static int load_accounts(struct store *s, const struct account *accts, size_t n)
{
    sqlite3 *db = s->wdb;
    time_t now = time(NULL);
    int rc = exec(db, "BEGIN IMMEDIATE");

    s->accounts = calloc(n ? n : 1, sizeof(*s->accounts));
    if (!s->accounts)
        return SQLITE_NOMEM;
    s->n_accounts = n;
    for (size_t i = 0; i < n && rc == SQLITE_OK; i++) {
        char fp[2048], *had = NULL;
        time_t first = now;
        sqlite3_stmt *st;

        fingerprint(&accts[i], fp, sizeof(fp));
        snprintf(s->accounts[i].name, sizeof(s->accounts[i].name), "%s", accts[i].name);
        snprintf(s->accounts[i].fingerprint, sizeof(s->accounts[i].fingerprint), "%s", fp);
        rc = sqlite3_prepare_v2(db, "SELECT fingerprint, first_seen FROM accounts WHERE name = ?1",
                                -1, &st, NULL);
        if (rc != SQLITE_OK)
            break;
        sqlite3_bind_text(st, 1, accts[i].name, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            had = strdup((const char *)sqlite3_column_text(st, 0));
            first = (time_t)sqlite3_column_int64(st, 1);
            rc = SQLITE_DONE;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) {
            free(had);
            break;
        }
        rc = SQLITE_OK;
        if (had && strcmp(had, fp) != 0) {
            log_info("[%s] its provider, URL or campaign filter changed: its listings on disk are "
                     "dropped",
                     accts[i].name);
            rc = forget_account(db, accts[i].name);
            first = now;
        }
        if (rc == SQLITE_OK && (!had || strcmp(had, fp) != 0)) {
            rc =
                sqlite3_prepare_v2(db,
                                   "INSERT OR REPLACE INTO accounts(name, fingerprint, first_seen) "
                                   "VALUES(?1, ?2, ?3)",
                                   -1, &st, NULL);
            if (rc == SQLITE_OK) {
                sqlite3_bind_text(st, 1, accts[i].name, -1, SQLITE_STATIC);
                sqlite3_bind_text(st, 2, fp, -1, SQLITE_STATIC);
                sqlite3_bind_int64(st, 3, first);
                rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
                sqlite3_finalize(st);
            }
        }
        free(had);
        s->accounts[i].first_seen = first;
    }
    if (rc == SQLITE_OK) {
        sqlite3_stmt *st;
        rc = sqlite3_prepare_v2(
            db, "INSERT OR IGNORE INTO meta(key, value) VALUES('created_at', ?1)", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_int64(st, 1, now);
            rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
            sqlite3_finalize(st);
        }
    }
    if (rc == SQLITE_OK)
        s->created_at =
            (time_t)query_int(db, "SELECT value FROM meta WHERE key = 'created_at'", &rc);
    if (rc == SQLITE_OK)
        rc = exec(db, "COMMIT");
    else
        exec(db, "ROLLBACK");
    return rc;
}

/* Fills the index, the totals and the recorded inode numbers. */
static int load_index(struct store *s)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->wdb, "SELECT path, bytes FROM listings", -1, &st, NULL);

    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        index_add(s, (const char *)sqlite3_column_text(st, 0));
        s->bytes += (unsigned long long)sqlite3_column_int64(st, 1);
        s->listings++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    rc = sqlite3_prepare_v2(s->wdb, "SELECT path, ino FROM inodes", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        inode_add(s, (const char *)sqlite3_column_text(st, 0),
                  (uint64_t)sqlite3_column_int64(st, 1));
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    s->used_seq = query_int(s->wdb, "SELECT coalesce(max(used), 0) FROM listings", &rc);
    return rc;
}

/* ---- writing ---- */

static size_t listing_disk_bytes(const struct listing *l)
{
    size_t sum = 0;

    for (size_t i = 0; i < l->n; i++) {
        const struct listing_entry *e = &l->entries[i];
        sum += e->len + strlen(e->name) + (e->id ? strlen(e->id) : 0) +
               (e->link ? strlen(e->link) : 0) + ENTRY_OVERHEAD;
    }
    return sum;
}

/* The id and bytes of path's stored listing (*id 0: none). */
static int find_listing(sqlite3 *db, const char *path, long long *id, long long *bytes)
{
    sqlite3_stmt *st;
    int rc =
        sqlite3_prepare_v2(db, "SELECT id, bytes FROM listings WHERE path = ?1", -1, &st, NULL);

    *id = *bytes = 0;
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        *bytes = sqlite3_column_int64(st, 1);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
    if (text)
        sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* The account of a path: its first component. */
static void path_account(const char *path, char *out, size_t len)
{
    size_t k = strcspn(path, "/");

    snprintf(out, len, "%.*s", (int)k, path);
}

struct batch_effect {
    long long bytes_delta;
    long listings_delta;
};

/* Writes one listing (within the caller's transaction); j->stored tells whether it fitted
 * cache_max. */
static int write_listing(struct store *s, struct job *j, struct batch_effect *fx)
{
    sqlite3 *db = s->wdb;
    long long id, old_bytes, bytes = (long long)listing_disk_bytes(j->l);
    char account[256];
    sqlite3_stmt *st;
    int rc = find_listing(db, j->path, &id, &old_bytes);

    if (rc != SQLITE_OK)
        return rc;
    if (id) {
        if ((rc = delete_listing(db, id)) != SQLITE_OK)
            return rc;
        fx->bytes_delta -= old_bytes;
        fx->listings_delta--;
    }
    j->stored = (unsigned long long)bytes <= s->max_bytes;
    if (!j->stored) {
        log_info("a listing of %lld bytes is more than -o cache_max allows: /%s is not kept on "
                 "disk",
                 bytes, j->path);
        return SQLITE_OK;
    }
    path_account(j->path, account, sizeof(account));
    rc = sqlite3_prepare_v2(
        db,
        "INSERT INTO listings(id, path, account, fetched_at, used, url, total, "
        "n, bytes, final, changed_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    if (id)
        sqlite3_bind_int64(st, 1, id);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_text(st, 2, j->path, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, account, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, j->fetched_at);
    sqlite3_bind_int64(st, 5, ++s->used_seq);
    bind_text_or_null(st, 6, j->url);
    sqlite3_bind_int64(st, 7, j->total);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)j->l->n);
    sqlite3_bind_int64(st, 9, bytes);
    sqlite3_bind_int(st, 10, j->final);
    sqlite3_bind_int64(st, 11, j->changed_at);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    id = sqlite3_last_insert_rowid(db);
    rc = sqlite3_prepare_v2(db,
                            "INSERT INTO entries(key, name, id, link, type, tag, rec_time, mtime, "
                            "bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    for (size_t i = 0; i < j->l->n && rc == SQLITE_OK; i++) {
        const struct listing_entry *e = &j->l->entries[i];
        sqlite3_bind_int64(st, 1, entry_key(id, i));
        sqlite3_bind_text(st, 2, e->name, -1, SQLITE_STATIC);
        bind_text_or_null(st, 3, e->id);
        bind_text_or_null(st, 4, e->link);
        sqlite3_bind_int(st, 5, e->type);
        sqlite3_bind_int(st, 6, e->tag);
        sqlite3_bind_int64(st, 7, e->rec_time);
        sqlite3_bind_int64(st, 8, e->mtime);
        if (e->bytes)
            sqlite3_bind_blob(st, 9, e->bytes, (int)e->len, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 9);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK) {
        fx->bytes_delta += bytes;
        fx->listings_delta++;
    }
    return rc;
}

/* A listing read (fetched_at 0) or fetched again unchanged. */
static int write_touch(struct store *s, const struct job *j)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->wdb,
                                j->fetched_at ? "UPDATE listings SET used = ?1, fetched_at = ?3, "
                                                "final = ?4 WHERE path = ?2"
                                              : "UPDATE listings SET used = ?1 WHERE path = ?2",
                                -1, &st, NULL);

    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, ++s->used_seq);
    sqlite3_bind_text(st, 2, j->path, -1, SQLITE_STATIC);
    if (j->fetched_at) {
        sqlite3_bind_int64(st, 3, j->fetched_at);
        sqlite3_bind_int(st, 4, j->final);
    }
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int write_inode(struct store *s, const struct job *j)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(s->wdb, "INSERT OR REPLACE INTO inodes(path, ino) VALUES(?1, ?2)",
                                -1, &st, NULL);

    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_text(st, 1, j->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)j->ino);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Evicts least recently used listings while the total is over the bound;
 * evicted paths are appended to *gone (under the caller's transaction). */
static int evict(struct store *s, unsigned long long total, char ***gone, size_t *n_gone,
                 struct batch_effect *fx)
{
    int rc = SQLITE_OK;

    while (total > s->max_bytes && rc == SQLITE_OK) {
        sqlite3_stmt *st;
        long long id = 0, bytes = 0;
        char *path = NULL, **grown;

        rc = sqlite3_prepare_v2(
            s->wdb, "SELECT id, bytes, path FROM listings ORDER BY used LIMIT 1", -1, &st, NULL);
        if (rc != SQLITE_OK)
            break;
        if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            id = sqlite3_column_int64(st, 0);
            bytes = sqlite3_column_int64(st, 1);
            path = strdup((const char *)sqlite3_column_text(st, 2));
            rc = SQLITE_DONE;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE || !id) {
            free(path);
            return rc == SQLITE_DONE ? SQLITE_OK : rc;
        }
        rc = delete_listing(s->wdb, id);
        grown = rc == SQLITE_OK ? realloc(*gone, (*n_gone + 1) * sizeof(*grown)) : NULL;
        if (!grown) {
            free(path);
            return rc == SQLITE_OK ? SQLITE_NOMEM : rc;
        }
        *gone = grown;
        (*gone)[(*n_gone)++] = path;
        total -= (unsigned long long)bytes < total ? (unsigned long long)bytes : total;
        fx->bytes_delta -= bytes;
        fx->listings_delta--;
        atomic_fetch_add(&s->evicted, 1);
    }
    if (rc == SQLITE_OK && *n_gone)
        rc = exec(s->wdb, "PRAGMA incremental_vacuum");
    return rc;
}

static void job_free(struct job *j)
{
    listing_unref(j->l);
    free(j->path);
    free(j->url);
    free(j);
}

/* Frees a list of jobs. */
static void jobs_free(struct job *list)
{
    while (list) {
        struct job *j = list;
        list = j->next;
        job_free(j);
    }
}

/* Writes a batch (oldest first) in one transaction. */
static void write_batch(struct store *s, struct job *batch)
{
    struct batch_effect fx = {0};
    char **gone = NULL;
    size_t n_gone = 0, saves = 0;
    int rc = exec(s->wdb, "BEGIN IMMEDIATE");

    for (struct job *j = batch; j && rc == SQLITE_OK; j = j->next) {
        if (j->kind == JOB_SAVE) {
            rc = write_listing(s, j, &fx);
            saves++;
        } else if (j->kind == JOB_TOUCH) {
            rc = write_touch(s, j);
        } else {
            rc = write_inode(s, j);
        }
    }
    if (rc == SQLITE_OK) {
        unsigned long long total = (unsigned long long)((long long)s->bytes + fx.bytes_delta);
        rc = evict(s, total, &gone, &n_gone, &fx);
    }
    if (rc == SQLITE_OK)
        rc = exec(s->wdb, "COMMIT");
    if (rc != SQLITE_OK) {
        int failed = rc;
        exec(s->wdb, "ROLLBACK");
        db_failed(s, s->wdb, failed, "writing listings");
    } else {
        pthread_mutex_lock(&s->lock);
        s->bytes = (unsigned long long)((long long)s->bytes + fx.bytes_delta);
        s->listings = (unsigned long)((long)s->listings + fx.listings_delta);
        for (struct job *j = batch; j; j = j->next)
            if (j->kind == JOB_SAVE && j->stored)
                index_add(s, j->path);
            else if (j->kind == JOB_SAVE)
                index_remove(s, j->path);
        for (size_t i = 0; i < n_gone; i++)
            index_remove(s, gone[i]);
        pthread_mutex_unlock(&s->lock);
        atomic_fetch_add(&s->saved, saves);
    }
    for (size_t i = 0; i < n_gone; i++)
        free(gone[i]);
    free(gone);
}

static void free_index(struct store *s)
{
    tdestroy(s->index, free);
    s->index = NULL;
    tdestroy(s->inodes, inode_free);
    s->inodes = NULL;
}

struct inode_write {
    sqlite3_stmt *st;
    int rc;
};

static void write_one_inode(const void *p, VISIT v, void *arg)
{
    const struct inode_rec *r = *(const struct inode_rec *const *)p;
    struct inode_write *w = arg;

    if ((v != postorder && v != leaf) || w->rc != SQLITE_OK)
        return;
    sqlite3_bind_text(w->st, 1, r->path, -1, SQLITE_STATIC);
    sqlite3_bind_int64(w->st, 2, (sqlite3_int64)r->ino);
    if (sqlite3_step(w->st) != SQLITE_DONE)
        w->rc = sqlite3_errcode(sqlite3_db_handle(w->st));
    sqlite3_reset(w->st);
}

/* Writes what the mount knows of itself into a new database that took the
 * place of a damaged one: its first-seen times and recorded inode numbers
 * stay what they were, so the fixed directories keep their mtimes. */
static int write_identity(struct store *s)
{
    struct inode_write w = {NULL, exec(s->wdb, "BEGIN IMMEDIATE")};
    sqlite3_stmt *st;

    if (w.rc == SQLITE_OK)
        w.rc = sqlite3_prepare_v2(s->wdb,
                                  "INSERT OR REPLACE INTO meta(key, value) "
                                  "VALUES('created_at', ?1)",
                                  -1, &st, NULL);
    if (w.rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, s->created_at);
        w.rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(s->wdb);
        sqlite3_finalize(st);
    }
    if (w.rc == SQLITE_OK)
        w.rc = sqlite3_prepare_v2(s->wdb,
                                  "INSERT OR REPLACE INTO accounts(name, fingerprint, "
                                  "first_seen) VALUES(?1, ?2, ?3)",
                                  -1, &st, NULL);
    if (w.rc == SQLITE_OK) {
        for (size_t i = 0; w.rc == SQLITE_OK && i < s->n_accounts; i++) {
            sqlite3_bind_text(st, 1, s->accounts[i].name, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, s->accounts[i].fingerprint, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 3, s->accounts[i].first_seen);
            w.rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(s->wdb);
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
    }
    if (w.rc == SQLITE_OK)
        w.rc = sqlite3_prepare_v2(s->wdb, "INSERT OR REPLACE INTO inodes(path, ino) VALUES(?1, ?2)",
                                  -1, &w.st, NULL);
    if (w.rc == SQLITE_OK) {
        pthread_mutex_lock(&s->lock);
        twalk_r(s->inodes, write_one_inode, &w);
        pthread_mutex_unlock(&s->lock);
        sqlite3_finalize(w.st);
    }
    if (w.rc == SQLITE_OK)
        w.rc = exec(s->wdb, "COMMIT");
    else
        exec(s->wdb, "ROLLBACK");
    return w.rc;
}

/* The database reported corruption: a new one takes its place. */
static void swap_database(struct store *s)
{
    char err[512];

    pthread_mutex_lock(&s->swap_lock);
    sqlite3_close(s->rdb);
    sqlite3_close(s->wdb);
    s->rdb = s->wdb = NULL;
    move_aside(s->db_path, "corrupt");
    pthread_mutex_lock(&s->lock);
    tdestroy(s->index, free);
    s->index = NULL;
    s->bytes = 0;
    s->listings = 0;
    s->used_seq = 0;
    pthread_mutex_unlock(&s->lock);
    if (connect_db(s, err, sizeof(err)) < 0)
        log_error("%s: nothing more is kept on disk in this mount", err);
    else if (write_identity(s) != SQLITE_OK)
        db_failed(s, s->wdb, sqlite3_errcode(s->wdb), "starting the new database");
    atomic_store(&s->corrupt, false);
    pthread_mutex_unlock(&s->swap_lock);
}

/* Whether PRAGMA quick_check finds the database whole. */
static bool quick_check_ok(sqlite3 *db)
{
    sqlite3_stmt *st;
    bool ok = true;
    int rc = sqlite3_prepare_v2(db, "PRAGMA quick_check(1)", -1, &st, NULL);

    if (rc != SQLITE_OK)
        return !is_corruption(rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        ok = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
    else if (is_corruption(rc))
        ok = false;
    sqlite3_finalize(st);
    return ok;
}

static void *writer_main(void *arg)
{
    struct store *s = arg;

    /* a damaged page anywhere shows here rather than at the first read of it */
    if (s->wdb && !quick_check_ok(s->wdb))
        atomic_store(&s->corrupt, true);
    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct job *batch = NULL;

        while (!s->jobs && !s->stop && !atomic_load(&s->corrupt)) {
            pthread_cond_broadcast(&s->idle);
            pthread_cond_wait(&s->work, &s->lock);
        }
        if (atomic_load(&s->corrupt)) {
            pthread_mutex_unlock(&s->lock);
            swap_database(s);
            pthread_mutex_lock(&s->lock);
            continue;
        }
        if (!s->jobs && s->stop)
            break;
        /* everything queued, oldest first (the queue is newest first) */
        while (s->jobs) {
            struct job *j = s->jobs;
            s->jobs = j->next;
            j->next = batch;
            batch = j;
        }
        s->n_jobs = 0;
        s->writing = true;
        pthread_mutex_unlock(&s->lock);
        if (s->wdb)
            write_batch(s, batch);
        jobs_free(batch);
        pthread_mutex_lock(&s->lock);
        s->writing = false;
    }
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void enqueue(struct store *s, struct job *j)
{
    struct job *stale = NULL;

    pthread_mutex_lock(&s->lock);
    if (j->kind == JOB_SAVE) {
        /* a newer listing of the same path makes what is still queued for
         * it (an older listing, or news of one) moot: the newest is written
         * last, with its own times */
        for (struct job **p = &s->jobs; *p;) {
            struct job *q = *p;
            if (q->kind != JOB_INODE && strcmp(q->path, j->path) == 0) {
                *p = q->next;
                q->next = stale;
                stale = q;
                s->n_jobs--;
            } else {
                p = &q->next;
            }
        }
    }
    j->next = s->jobs;
    s->jobs = j;
    s->n_jobs++;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->lock);
    jobs_free(stale);
}

/* A job for path, with m's times (m NULL: none); NULL (counted as an
 * error) on out of memory. */
static struct job *job_new(struct store *s, enum job_kind kind, const char *path,
                           const struct store_meta *m)
{
    struct job *j = calloc(1, sizeof(*j));

    if (!j || !(j->path = strdup(path)) ||
        (kind == JOB_SAVE && m->url && !(j->url = strdup(m->url)))) {
        if (j)
            job_free(j);
        atomic_fetch_add(&s->errors, 1);
        return NULL;
    }
    j->kind = kind;
    if (m) {
        j->fetched_at = m->fetched_at;
        j->changed_at = m->changed_at;
        j->total = m->total;
        j->final = m->final;
    }
    return j;
}

void store_save(struct store *s, const char *path, struct listing *l, const struct store_meta *m)
{
    struct job *j = s && l ? job_new(s, JOB_SAVE, path, m) : NULL;

    if (!j)
        return;
    j->l = listing_ref(l);
    enqueue(s, j);
}

void store_touch(struct store *s, const char *path, const struct store_meta *m)
{
    struct job *j = s ? job_new(s, JOB_TOUCH, path, m) : NULL;

    if (j)
        enqueue(s, j);
}

/* ---- reading ---- */

/* Reads path's listing on the reader's connection; NULL if none. */
static struct listing *read_listing(struct store *s, const char *path, struct store_meta *m,
                                    char **url)
{
    sqlite3 *db = s->rdb;
    struct listing_builder b;
    sqlite3_stmt *st;
    long long id = 0;
    int rc;

    *url = NULL;
    if (!db)
        return NULL;
    rc = sqlite3_prepare_v2(db,
                            "SELECT id, fetched_at, url, total, final, changed_at FROM listings "
                            "WHERE path = ?1",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        id = sqlite3_column_int64(st, 0);
        m->fetched_at = (time_t)sqlite3_column_int64(st, 1);
        if (sqlite3_column_type(st, 2) != SQLITE_NULL)
            *url = strdup((const char *)sqlite3_column_text(st, 2));
        m->total = (long)sqlite3_column_int64(st, 3);
        m->final = sqlite3_column_int(st, 4) != 0;
        m->changed_at = (time_t)sqlite3_column_int64(st, 5);
        rc = SQLITE_DONE;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        goto fail;
    if (!id)
        return NULL;
    rc = sqlite3_prepare_v2(db,
                            "SELECT name, id, link, type, tag, rec_time, mtime, bytes FROM entries "
                            "WHERE key BETWEEN ?1 AND ?2 ORDER BY key",
                            -1, &st, NULL);
    if (rc != SQLITE_OK)
        goto fail;
    bind_entry_range(st, id);
    listing_builder_init(&b, NULL, ENTRY_FILE);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct listing_entry e = {
            .name = (char *)sqlite3_column_text(st, 0),
            .id = (char *)sqlite3_column_text(st, 1),
            .link = (char *)sqlite3_column_text(st, 2),
            .type = (unsigned char)sqlite3_column_int(st, 3),
            .tag = (unsigned char)sqlite3_column_int(st, 4),
            .rec_time = (time_t)sqlite3_column_int64(st, 5),
            .mtime = (time_t)sqlite3_column_int64(st, 6),
            .bytes = (char *)sqlite3_column_blob(st, 7),
            .len = (uint32_t)sqlite3_column_bytes(st, 7),
        };
        if (!e.name || e.type > ENTRY_LINK) {
            rc = SQLITE_CORRUPT;
            break;
        }
        if (listing_builder_add_entry(&b, &e) < 0)
            break;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        listing_builder_discard(&b);
        goto fail;
    }
    {
        struct listing *l = listing_builder_finish(&b);
        if (l) {
            l->final = m->final;
            l->changed_at = m->changed_at;
        }
        return l;
    }
fail:
    free(*url);
    *url = NULL;
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        db_failed(s, db, rc, "reading a listing");
    return NULL;
}

static void *reader_main(void *arg)
{
    struct store *s = arg;

    pthread_mutex_lock(&s->lock);
    for (;;) {
        struct load *ld;
        struct listing *l = NULL;
        struct store_meta m = {.total = -1};
        char *url = NULL;
        bool stopping;

        while (!s->loads_head && !s->stop)
            pthread_cond_wait(&s->rwork, &s->lock);
        ld = s->loads_head;
        if (!ld)
            break;
        s->loads_head = ld->next;
        if (!s->loads_head)
            s->loads_tail = NULL;
        stopping = s->stop;
        pthread_mutex_unlock(&s->lock);
        if (!stopping) {
            pthread_mutex_lock(&s->swap_lock);
            l = read_listing(s, ld->path, &m, &url);
            pthread_mutex_unlock(&s->swap_lock);
        }
        if (l) {
            m.url = url;
            atomic_fetch_add(&s->loaded, 1);
            store_touch(s, ld->path, &(struct store_meta){.total = -1}); /* read: used */
        }
        ld->done(ld->arg, l, &m);
        free(url);
        free(ld->path);
        free(ld);
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int store_load(struct store *s, const char *path, store_loaded_fn done, void *arg)
{
    struct load *ld = calloc(1, sizeof(*ld));

    if (!ld || !(ld->path = strdup(path))) {
        free(ld);
        return -1;
    }
    ld->done = done;
    ld->arg = arg;
    pthread_mutex_lock(&s->lock);
    if (s->stop) {
        pthread_mutex_unlock(&s->lock);
        free(ld->path);
        free(ld);
        return -1;
    }
    if (s->loads_tail)
        s->loads_tail->next = ld;
    else
        s->loads_head = ld;
    s->loads_tail = ld;
    pthread_cond_signal(&s->rwork);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

bool store_has(struct store *s, const char *path)
{
    bool has;

    if (!s)
        return false;
    pthread_mutex_lock(&s->lock);
    has = tfind(path, &s->index, str_cmp) != NULL;
    pthread_mutex_unlock(&s->lock);
    return has;
}

time_t store_first_seen(struct store *s, const char *account)
{
    if (!account)
        return s->created_at;
    for (size_t i = 0; i < s->n_accounts; i++)
        if (strcmp(s->accounts[i].name, account) == 0)
            return s->accounts[i].first_seen;
    return s->created_at;
}

uint64_t store_inode(struct store *s, const char *path)
{
    struct inode_rec key = {(char *)path, 0};
    uint64_t ino = 0;
    void *found;

    if (!s)
        return 0;
    pthread_mutex_lock(&s->lock);
    found = tfind(&key, &s->inodes, inode_cmp);
    if (found)
        ino = (*(struct inode_rec **)found)->ino;
    pthread_mutex_unlock(&s->lock);
    return ino;
}

void store_record_inode(struct store *s, const char *path, uint64_t ino)
{
    struct job *j;

    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    inode_add(s, path, ino);
    pthread_mutex_unlock(&s->lock);
    j = job_new(s, JOB_INODE, path, NULL);
    if (j) {
        j->ino = ino;
        enqueue(s, j);
    }
}

void store_stats(struct store *s, struct store_stats *out)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->path, sizeof(out->path), "%s", s->db_path);
    pthread_mutex_lock(&s->lock);
    out->listings = s->listings;
    out->bytes = s->bytes;
    out->queued = (unsigned long)s->n_jobs + (s->writing ? 1 : 0);
    pthread_mutex_unlock(&s->lock);
    out->max_bytes = s->max_bytes;
    out->saved = atomic_load(&s->saved);
    out->loaded = atomic_load(&s->loaded);
    out->evicted = atomic_load(&s->evicted);
    out->errors = atomic_load(&s->errors);
}

void store_flush(struct store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    while ((s->jobs || s->writing) && s->threads)
        pthread_cond_wait(&s->idle, &s->lock);
    pthread_mutex_unlock(&s->lock);
}

/* ---- open and close ---- */

static void store_free(struct store *s)
{
    sqlite3_close(s->rdb);
    sqlite3_close(s->wdb);
    free_index(s);
    free(s->accounts);
    free(s->db_path);
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->idle);
    pthread_cond_destroy(&s->rwork);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->swap_lock);
    free(s);
}

struct store *store_open(const char *dir, const char *config_path, const struct account *accts,
                         size_t n_accts, unsigned long long max_bytes, char *err, size_t errlen)
{
    struct store *s = calloc(1, sizeof(*s));
    struct stat st;
    int rc;

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->swap_lock, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->idle, NULL);
    pthread_cond_init(&s->rwork, NULL);
    s->max_bytes = max_bytes;
    rc = make_dirs(dir);
    if (rc < 0) {
        snprintf(err, errlen, "cannot create the cache directory %s: %s", dir, strerror(-rc));
        goto fail;
    }
    if (stat(dir, &st) == 0 && (st.st_mode & 077))
        log_warn("the cache directory %s can be read by others (mode %03o): its records hold "
                 "names and phone numbers (chmod 700 it)",
                 dir, (unsigned)(st.st_mode & 0777));
    s->db_path = store_db_path(dir, config_path);
    if (!s->db_path) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (int attempt = 0;; attempt++) {
        if (connect_db(s, err, errlen) < 0)
            goto fail;
        rc = load_accounts(s, accts, n_accts);
        if (rc == SQLITE_OK)
            rc = load_index(s);
        if (rc == SQLITE_OK)
            break;
        snprintf(err, errlen, "cannot read the cache database %s: %s", s->db_path,
                 sqlite3_errstr(rc));
        if (!is_corruption(rc) || attempt > 0)
            goto fail;
        /* damaged past its first page: a new one takes its place */
        sqlite3_close(s->rdb);
        sqlite3_close(s->wdb);
        s->rdb = s->wdb = NULL;
        free_index(s);
        free(s->accounts);
        s->accounts = NULL;
        s->bytes = 0;
        s->listings = 0;
        move_aside(s->db_path, "corrupt");
    }
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
        snprintf(err, errlen, "cannot start the cache database's writer thread");
        goto fail;
    }
    if (pthread_create(&s->reader, NULL, reader_main, s) != 0) {
        pthread_mutex_lock(&s->lock);
        s->stop = true;
        pthread_cond_signal(&s->work);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->writer, NULL);
        snprintf(err, errlen, "cannot start the cache database's reader thread");
        goto fail;
    }
    s->threads = true;
    return s;
fail:
    store_free(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_broadcast(&s->work);
    pthread_cond_broadcast(&s->rwork);
    pthread_mutex_unlock(&s->lock);
    if (s->threads) {
        pthread_join(s->reader, NULL);
        pthread_join(s->writer, NULL);
    }
    jobs_free(s->jobs); /* only if the writer never ran */
    s->jobs = NULL;
    /* loads nobody read: their callers hear "none" */
    while (s->loads_head) {
        struct load *ld = s->loads_head;
        struct store_meta m = {.total = -1};
        s->loads_head = ld->next;
        ld->done(ld->arg, NULL, &m);
        free(ld->path);
        free(ld);
    }
    if (s->wdb)
        exec(s->wdb, "PRAGMA wal_checkpoint(TRUNCATE)");
    store_free(s);
}
