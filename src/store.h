/**
 * @file store.h
 * The on-disk copy of the listings (SQLite, WAL): what the cache's storage
 * hook saves when a listing is published and what a remount, an outage or
 * -o offline serves.  One database per config file.  Listings are keyed by
 * their path in the mount and written whole, one transaction each, on a
 * writer thread; they are read on a reader thread of their own, so neither
 * a FUSE thread nor the fetch engine ever waits for the disk.  A database
 * that is damaged, foreign or of a newer schema is moved aside, never
 * trusted.
 */
#ifndef CAMPAIGNFS_STORE_H
#define CAMPAIGNFS_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "listing.h"

struct account;
struct store;

#define STORE_DEFAULT_MAX ((unsigned long long)1 << 30) /* -o cache_max default: 1 GiB */

/* Where a stored listing came from. */
struct store_meta {
    time_t fetched_at; /* wall clock of the fetch that gave it */
    const char *url;   /* its first request, or NULL */
    long total;        /* the provider's total, -1 if none */
    bool final;        /* it never changes again (finished calls) */
    time_t changed_at; /* when what it shows last changed */
};

/* The database for config_path in dir (created 0700 if missing; the
 * database 0600).  accts: the accounts of the config; an account whose
 * provider, URL or campaign filter changed since the database saw it
 * loses its listings.  NULL with a message in err when the database cannot
 * be used at all. */
struct store *store_open(const char *dir, const char *config_path, const struct account *accts,
                         size_t n_accts, unsigned long long max_bytes, char *err, size_t errlen);

/* Writes what is still queued, then closes.  NULL is fine. */
void store_close(struct store *s);

/* The default directory: $XDG_CACHE_HOME/campaignfs, else ~/.cache/campaignfs
 * (malloc'd; NULL when neither is set). */
char *store_default_dir(void);

/* The database file for config_path in dir (malloc'd). */
char *store_db_path(const char *dir, const char *config_path);

/* Whether a listing is stored for path (an in-memory index: no disk work). */
bool store_has(struct store *s, const char *path);

/* Called once, on the store's reader thread: the stored listing (the
 * callee's reference) and where it came from, or l NULL (none, or it could
 * not be read). */
typedef void (*store_loaded_fn)(void *arg, struct listing *l, const struct store_meta *m);

/* Reads the listing of path on the reader thread.  0, or -1 (done is not
 * called). */
int store_load(struct store *s, const char *path, store_loaded_fn done, void *arg);

/* Queues l (a reference is taken) to be written as path's listing; a
 * write of the same path still queued is replaced by it. */
void store_save(struct store *s, const char *path, struct listing *l, const struct store_meta *m);

/* The listing stored for path was fetched again and found unchanged: its
 * times and finality are updated, its entries not rewritten.  With
 * m->fetched_at 0 it was only read (it moves to the end of the eviction
 * order). */
void store_touch(struct store *s, const char *path, const struct store_meta *m);

/* When the database first saw the mount (account NULL) or that account:
 * the mtime of the fixed directories. */
time_t store_first_seen(struct store *s, const char *account);

/* The inode number recorded for path after a collision, or 0. */
uint64_t store_inode(struct store *s, const char *path);

/* Records the inode number given to path after a collision. */
void store_record_inode(struct store *s, const char *path, uint64_t ino);

/* What status shows. */
struct store_stats {
    char path[PATH_MAX];
    unsigned long listings; /* stored */
    unsigned long long bytes, max_bytes;
    unsigned long saved, loaded, evicted, errors, queued;
};
void store_stats(struct store *s, struct store_stats *out);

/* Waits until every write queued so far is done (tests, shutdown). */
void store_flush(struct store *s);

#endif
