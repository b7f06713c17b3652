/**
 * @file http.h
 * Every request campaignfs makes goes through here: libcurl with connection
 * reuse per account, the account's rate limit and concurrency, retries with
 * backoff and jitter (429 honours Retry-After, else the provider's reset_at),
 * a body size limit, and errors that carry a class, not just a string.
 */
#ifndef CAMPAIGNFS_HTTP_H
#define CAMPAIGNFS_HTTP_H

#include <stddef.h>
#include <time.h>

struct account;

enum fetch_class {
    FETCH_OK = 0,
    FETCH_AUTH,      /* 401, 403 */
    FETCH_NOT_FOUND, /* 404 */
    FETCH_RATE,      /* 429 after the retries */
    FETCH_CLIENT,    /* other 4xx, or a body that says "failure" */
    FETCH_SERVER,    /* 5xx after the retries */
    FETCH_NETWORK,   /* connection, TLS, time-out, truncated transfer */
    FETCH_PROTOCOL,  /* 2xx with a body that does not parse as expected */
    FETCH_INTERNAL,  /* out of memory and the like */
};

struct fetch_error {
    enum fetch_class cls;
    long status;       /* HTTP status, 0 if none */
    char message[768]; /* "[account] METHOD URL: what happened; what to do" */
};

/* What a body validator says. */
enum body_verdict {
    BODY_OK = 0,
    BODY_MALFORMED, /* retry: the transfer may have been damaged */
    BODY_FAILURE,   /* do not retry: the server said no */
};

/* Checks (and usually parses and keeps) a 2xx body; writes a reason into err
 * for anything but BODY_OK. */
typedef enum body_verdict (*http_body_fn)(const char *body, size_t len, void *ctx, char *err,
                                          size_t errlen);

/* Requests account URL + path_query (GET, or POST with post_body when it is
 * not NULL), retrying transient failures; each 2xx body goes through
 * validate.  Returns 0, or -1 with err filled. */
int http_fetch(struct account *a, const char *path_query, const char *post_body,
               http_body_fn validate, void *ctx, struct fetch_error *err);

/* The errno a FUSE operation returns for a failure class. */
int fetch_errno(enum fetch_class cls);

/* Parses a Retry-After value (delta seconds or an HTTP date) into seconds
 * from now; -1 if absent or unparseable.  Exposed for the unit tests. */
double http_retry_after(const char *value, time_t now);

/* The retry delay for attempt n (1-based) of a transient failure, with
 * jitter drawn from *seed: base 0.25 s doubling up to 8 s, +-25 %. */
double http_backoff(int attempt, unsigned int *seed);

#define HTTP_MAX_ATTEMPTS  5
#define HTTP_MAX_BODY      (256L * 1024 * 1024)
#define HTTP_MAX_WAIT_SECS 120.0

#endif
