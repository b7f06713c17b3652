/**
 * @file account.h
 * One configured account at run time: its provider, base URL, credentials
 * turned into request headers, TTL, rate limit and concurrency (enforced by
 * the engine) and counters.
 */
#ifndef CAMPAIGNFS_ACCOUNT_H
#define CAMPAIGNFS_ACCOUNT_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "config.h"
#include "provider.h"
#include "rate.h"

#define ACCOUNT_DEFAULT_CONCURRENCY 8

struct engine_req;

struct account {
    char *name;
    const struct provider *provider;
    char *url;         /* base URL, no trailing '/' */
    char *config_path; /* for messages */
    long ttl;          /* seconds */
    char **campaigns;  /* NULL-terminated filter or NULL (borrowed from the config) */

    /* Request headers, including the credential: never logged. */
    struct curl_slist *headers;
    struct curl_slist *post_headers; /* the same plus Content-Type */
    char *stream_esc;                /* Kore.ai stream id, URL-escaped */
    char *account_id_esc;            /* Kore.ai account id, URL-escaped */

    /* Scheduling state, owned by the engine thread (engine.c). */
    struct rate_bucket bucket;
    int concurrency;     /* configured: most requests at once */
    int window;          /* allowed now: 1 after a 429, grows back by one per success */
    int in_flight;       /* requests being transferred */
    double paused_until; /* after a 429: nothing starts before this (monotonic) */
    struct engine_req *queue_head, *queue_tail; /* waiting to start */
    struct engine_req *active;                  /* being transferred */

    /* Counters, for status and the tests' logs. */
    atomic_ulong requests;
    atomic_ulong failures;
    atomic_ulong bytes;
    atomic_ulong retries;
    atomic_ulong rate_limited; /* 429 answers */
    atomic_int max_in_flight;
};

/* Sets up the account from its config: resolves the credential (runs
 * *_command, reads *_file), signs the Kore.ai JWT.  default_ttl applies when
 * the section has no ttl.  Returns 0, or -1 with a one-line message. */
int account_open(struct account *a, const struct account_config *cfg, const char *config_path,
                 long default_ttl, char *err, size_t errlen);
void account_close(struct account *a);

#endif
