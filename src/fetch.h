/**
 * @file fetch.h
 * A fetch is an object: one listing (all pages of a provider collection, or
 * one record) being fetched through the engine.  It knows its account,
 * pages done and total, records and bytes so far, when it started and, at
 * the end, its error; the cache keeps it while it runs, so status, progress
 * and coalesced readers all look at the same object.
 *
 * Pages: the first page is asked alone; once it tells the total, every
 * other page is asked at once (the engine keeps the account's concurrency
 * and rate), each page is parsed and rendered as it arrives, and pages are
 * taken into the listing strictly in order, through the same cursor rules
 * as a sequential walk: a speculative page whose request differs from the
 * one the cursor asks for (a short page moved the offsets) is dropped and
 * asked again, and the walk goes on page by page past the planned end while
 * the provider says there is more.  So the listing never depends on the
 * order pages arrive in.  Nothing is published unless every page arrived.
 */
#ifndef CAMPAIGNFS_FETCH_H
#define CAMPAIGNFS_FETCH_H

#include <stdatomic.h>
#include <time.h>

#include "http.h"
#include "listing.h"

struct account;
struct engine;
struct fetch;

/* Called once, on the engine thread (or the caller's, if the engine has
 * stopped): the complete listing (the callee's) or NULL and err. */
typedef void (*fetch_done_fn)(struct fetch *f, struct listing *l, const struct fetch_error *err,
                              void *arg);

struct fetch_progress {
    atomic_long pages_done;
    atomic_long pages_total; /* -1 until the first page tells */
    atomic_long records;
    atomic_long bytes; /* received */
    double started;    /* monotonic seconds */
    time_t started_wall;
};

/* A fetch of every record of coll (campaign: its id, or NULL for the
 * campaign list) as entries of the given type; with status, only the
 * records the server's status filter gives (coll->by_status.param).  NULL
 * on out of memory; nothing is asked before fetch_start(). */
struct fetch *fetch_collection(struct engine *e, struct account *a, const struct collection *coll,
                               const char *campaign, const char *status, enum entry_type type,
                               fetch_done_fn done, void *arg);

/* A fetch of one record: a listing with one ENTRY_FILE named name. */
struct fetch *fetch_record(struct engine *e, struct account *a, const struct record_endpoint *ep,
                           const char *campaign, const char *id, const char *name,
                           fetch_done_fn done, void *arg);

/* Starts it (any thread).  done is called exactly once, possibly before
 * this returns; the fetch frees itself afterwards. */
void fetch_start(struct fetch *f);

/* Where the fetch is; valid from fetch_start() until its done callback returns. */
const struct fetch_progress *fetch_progress(const struct fetch *f);

/* The URL of the fetch's first request (NULL before fetch_start(), or out
 * of memory), and the total of records its first page gave (-1: none). */
const char *fetch_url(const struct fetch *f);
long fetch_total(const struct fetch *f);

#endif
