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
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "http.h"
#include "provider.h"
#include "rate.h"

#define ACCOUNT_DEFAULT_CONCURRENCY 8
#define KOREAI_TOKEN_LIFETIME       3600 /* seconds a signed Kore.ai token is valid ("exp") */
#define KOREAI_TOKEN_RENEW_BEFORE   300  /* re-signed this long before it expires */

struct engine_req;

/* The requests of an account that ended with one failure class (after
 * their retries), for status. */
struct account_errors {
    unsigned long count;
    time_t last_at;         /* wall clock of the last one */
    char last_message[768]; /* its message (already free of credentials) */
};

/* The request headers of one credential generation, shared by the
 * transfers that use them (engine thread: plain counts).  A renewed
 * credential makes a new set; the old one lives until its last transfer. */
struct auth_headers {
    int refs;
    struct curl_slist *get;  /* Accept + the credential: never logged */
    struct curl_slist *post; /* the same plus Content-Type */
    time_t expires;          /* a signed Kore.ai token's "exp"; 0: none */
};

struct account {
    char *name;
    const struct provider *provider;
    char *url;         /* base URL, no trailing '/' */
    char *config_path; /* for messages */
    long ttl;          /* seconds */
    char **campaigns;  /* NULL-terminated filter or NULL (borrowed from the config) */

    /* Request headers, including the credential: never logged. */
    struct auth_headers *auth;        /* the current generation */
    unsigned auth_gen;                /* bumped by every renewal */
    struct curl_slist *plain_get;     /* without credentials: other origins */
    struct curl_slist *plain_post;    /* the same plus Content-Type */
    const struct account_config *cfg; /* to renew the credential (borrowed) */
    char *sign_key;                   /* Kore.ai client secret, to re-sign: never logged */
    char *cacert;                     /* CA bundle for TLS, or NULL for the system's */
    char *stream_esc;                 /* Kore.ai stream id, URL-escaped */
    char *account_id_esc;             /* Kore.ai account id, URL-escaped */

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
    atomic_ulong rate_wait_ms; /* time requests were held back by the rate limit or a 429 */
    double
        rate_blocked_since; /* engine thread: when the queue began to wait for a token (0: not) */
    pthread_mutex_t errors_lock;
    struct account_errors errors[FETCH_CLASS_COUNT];
};

/* Takes / drops a reference to a header set. */
struct auth_headers *auth_headers_ref(struct auth_headers *h);
void auth_headers_unref(struct auth_headers *h);

/* Whether the credential should be renewed before the next request: a
 * signed Kore.ai token within KOREAI_TOKEN_RENEW_BEFORE of its expiry. */
bool account_auth_due(const struct account *a, time_t now);

/* Renews the credential: re-signs the Kore.ai token, or reads a *_file
 * credential again (it may have been rotated).  Credentials from a
 * command, the environment or the config itself are not renewed.  Returns
 * 1 if the headers changed (auth_gen is bumped), 0 if there is nothing new,
 * -1 with a message in err.  Engine thread. */
int account_renew_auth(struct account *a, char *err, size_t errlen);

/* A malloc'd copy of text (from a server) with every credential of the
 * account replaced by "[redacted]"; NULL on out of memory. */
char *account_redact(const struct account *a, const char *text);

/* Counts a request that failed (not one campaignfs cancelled itself). */
void account_note_error(struct account *a, const struct fetch_error *err);

/* A copy of the failure counters, read at once. */
void account_errors_get(struct account *a, struct account_errors out[FETCH_CLASS_COUNT]);

/* Sets up the account from its config: resolves the credential (runs
 * *_command, reads *_file), signs the Kore.ai JWT.  default_ttl applies when
 * the section has no ttl.  Returns 0, or -1 with a one-line message. */
int account_open(struct account *a, const struct account_config *cfg, const char *config_path,
                 long default_ttl, char *err, size_t errlen);
void account_close(struct account *a);

#endif
