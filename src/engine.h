/**
 * @file engine.h
 * One thread per mount drives every request: a libcurl multi handle
 * (connection reuse, HTTP/2 multiplexing where offered), per-account queues
 * that start a request only with a rate token and under the account's
 * concurrency, shared fairly between the fetches that use the account, and
 * retries, backoffs and Retry-After waits as timers.  Nothing here waits on
 * a caller's thread: engine_submit() queues and returns, and every
 * completion runs on the engine thread.
 */
#ifndef CAMPAIGNFS_ENGINE_H
#define CAMPAIGNFS_ENGINE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "http.h"

struct account;
struct engine;
struct engine_req;

/* Called on the engine thread when a request is over: err is NULL on
 * success.  The request then belongs to the callback (engine_req_free()). */
typedef void (*engine_done_fn)(struct engine_req *r, const struct fetch_error *err);

struct engine_req {
    struct account *acct;
    char *url;       /* owned */
    char *post_body; /* owned; NULL for GET */
    http_body_fn validate;
    void *ctx;  /* for validate and done */
    void *flow; /* requests of one flow (a fetch) share the account with other flows fairly */
    engine_done_fn done;

    /* the engine's */
    struct engine_req *next;
    int attempts;     /* transient failures so far */
    int tries;        /* transfers started (every attempt, redirect and 429 included) */
    double started;   /* when the current transfer started (monotonic) */
    int rate_retries; /* 429s so far */
    double not_before;
    double first_start; /* when the first attempt started (monotonic) */
    CURL *h;
    struct http_transfer t;
    struct auth_headers *auth; /* the credential the transfer carries, or NULL */
    unsigned auth_gen;         /* the account's auth_gen when it started */
    bool auth_retried;         /* asked again once after a 401 with a renewed credential */
    bool other_origin;         /* redirected away from the account's origin: no credential */
    int hops;                  /* redirects followed */
    char *hop_urls[HTTP_MAX_REDIRECTS]; /* the URLs redirected from, to see a loop */
};

/* timeout: seconds an attempt may take, and the longest Retry-After that is
 * waited out (a longer one fails the request with a message saying so); a
 * request is not retried once 2 x timeout have passed since it started.
 * max_body: the most bytes of one answer, counted after decompression. */
struct engine *engine_new(struct account *accounts, size_t n_accounts, long timeout,
                          size_t max_body);
int engine_start(struct engine *e);
/* Ends every request left (done with FETCH_INTERNAL, on the engine thread)
 * and joins the thread.  Later submissions end at once on the caller's
 * thread. */
void engine_stop(struct engine *e);
void engine_free(struct engine *e);

/* A request for the account's URL + path_query; NULL on out of memory. */
struct engine_req *engine_req_new(struct account *a, const char *path_query, const char *post_body);
void engine_req_free(struct engine_req *r);

/* Queues r (any thread). */
void engine_submit(struct engine *e, struct engine_req *r);

/* Ends the flow's requests that have not started yet (done with
 * FETCH_INTERNAL "cancelled"); engine thread only. */
void engine_cancel_flow(struct engine *e, void *flow);

/* Whether the caller runs on the engine thread. */
bool engine_on_thread(const struct engine *e);

#endif
