/**
 * @file reqlog.h
 * The request log behind GET /_sim/requests: the last N API requests
 * (/_sim/ ones are never logged), each entered when it is routed and
 * completed when its answer is queued, in a ring under one mutex.
 * Entries are numbered from 0 in the order they were entered; times are
 * CLOCK_MONOTONIC milliseconds (the clock of Python's time.monotonic()).
 */
#ifndef CAMPAIGNFS_SIM_REQLOG_H
#define CAMPAIGNFS_SIM_REQLOG_H

#include "faults.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* The default number of entries kept (--request-log). */
#define REQLOG_DEFAULT 100000

/* What is known of a request when it arrives. */
struct reqlog_start {
    double t_ms;        /* when its first bytes arrived */
    int prov;           /* -1: under no provider's prefix */
    const char *method; /* "GET" */
    const char *target; /* path and query as sent */
    const char *key;    /* reqlog_key() of its credential, or NULL */
};

/* How it was answered. */
struct reqlog_end {
    int status;           /* 0: no answer was sent (a hung request let go) */
    enum fault fault;     /* the fault actually served, FAULT_NONE if none */
    bool override;        /* answered by a /_sim/override rule */
    int retry_after;      /* Retry-After seconds sent, or -1 */
    double reset_at;      /* Unix time in a Truedy 429 body, or 0 */
    double not_before_ms; /* when the answer allows the next request, or 0 */
};

struct reqlog_entry;

struct reqlog {
    pthread_mutex_t lock;
    struct reqlog_entry *ring; /* size entries; NULL if size is 0 */
    size_t size;
    unsigned long long next; /* the number the next entry gets */
};

/* A log keeping the last size entries (0: the log is off).  0 or -1. */
int reqlog_init(struct reqlog *l, size_t size);
void reqlog_destroy(struct reqlog *l);

/* Enters a request; returns its number (for reqlog_finish). */
unsigned long long reqlog_begin(struct reqlog *l, const struct reqlog_start *st);
/* Records the answer of entry seq (if still kept), at done_ms. */
void reqlog_finish(struct reqlog *l, unsigned long long seq, double done_ms,
                   const struct reqlog_end *end);

/* {"requests": [entries numbered since.. in order, at most limit],
 *  "next": the number to ask for next, "oldest": the oldest kept}. */
json_object *reqlog_json(struct reqlog *l, unsigned long long since, size_t limit);

/* The log's short, non-secret name of a credential: 8 hex digits of
 * SHA-256(secret).  out has room for 9 bytes. */
void reqlog_key(const char *secret, char out[9]);

/* CLOCK_MONOTONIC in milliseconds. */
double reqlog_now_ms(void);

#endif
