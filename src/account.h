/**
 * @file account.h
 * One configured account at run time: its provider, base URL, credentials
 * turned into request headers, TTL, rate limit, concurrency (a pool of curl
 * handles) and counters.  Every request to the account goes through it.
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

#define ACCOUNT_DEFAULT_CONCURRENCY 4

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

    struct rate_bucket bucket;

    /* Pool of easy handles: its size is the concurrency limit. */
    pthread_mutex_t pool_lock;
    pthread_cond_t pool_cond;
    CURL **pool;     /* idle handles, pool[0..pool_idle) */
    int pool_idle;   /* handles waiting in the pool */
    int pool_unborn; /* handles that may still be created */
    CURLSH *share;
    pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

    atomic_ulong requests;
    atomic_ulong failures;
    atomic_ulong bytes;
};

/* Sets up the account from its config: resolves the credential (runs
 * *_command, reads *_file), signs the Kore.ai JWT.  default_ttl applies when
 * the section has no ttl.  Returns 0, or -1 with a one-line message. */
int account_open(struct account *a, const struct account_config *cfg, const char *config_path,
                 long default_ttl, char *err, size_t errlen);
void account_close(struct account *a);

/* Borrow a curl handle (blocks while `concurrency` are in use). */
CURL *account_handle_get(struct account *a);
void account_handle_put(struct account *a, CURL *h);

#endif
