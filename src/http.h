/**
 * @file http.h
 * The transport, without waiting: how a curl easy handle is set up for one
 * attempt (timeouts, gzip/deflate, HTTP/2 where offered, body size limit),
 * and how an attempt's outcome is classified (a class, a message naming the
 * account and the URL, and for a 429 how long the provider asks to wait).
 * The engine (engine.c) drives the handles and decides on retries.
 */
#ifndef CAMPAIGNFS_HTTP_H
#define CAMPAIGNFS_HTTP_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct account;

enum fetch_class {
    FETCH_OK = 0,
    FETCH_AUTH,      /* 401, 403 */
    FETCH_NOT_FOUND, /* 404 */
    FETCH_RATE,      /* 429 after the retries, or a wait longer than the timeout */
    FETCH_CLIENT,    /* other 4xx, or a body that says "failure" */
    FETCH_SERVER,    /* 5xx after the retries */
    FETCH_NETWORK,   /* connection refused or reset, truncated transfer */
    FETCH_TIMEOUT,   /* no answer in time (connecting, or -o timeout) */
    FETCH_PROTOCOL,  /* 2xx with a body that does not parse (maybe damaged: retried) */
    FETCH_INVALID,   /* an answer that contradicts the documented shape or itself, is too
                        large, or redirects where credentials must not go: not retried */
    FETCH_INTERNAL,  /* out of memory, shutting down and the like */
    FETCH_OFFLINE,   /* -o offline, and no copy on disk */
    FETCH_CLASS_COUNT
};

struct fetch_error {
    enum fetch_class cls;
    bool cancelled;    /* ended by campaignfs itself (unmounting, no longer wanted) */
    bool unreachable;  /* nothing listens there (connection refused, no such host) */
    bool tls;          /* the server's certificate does not verify */
    long status;       /* HTTP status, 0 if none */
    char message[768]; /* "[account] METHOD URL: what happened; what to do" */
};

/* What a body validator says. */
enum body_verdict {
    BODY_OK = 0,
    BODY_MALFORMED, /* retry: the transfer may have been damaged */
    BODY_INVALID,   /* do not retry: well-formed, but not what the provider documents */
    BODY_FAILURE,   /* do not retry: the server said no */
    BODY_NOMEM,     /* do not retry: out of memory while reading it */
};

/* Checks (and usually parses and keeps) a 2xx body; writes a reason into err
 * for anything but BODY_OK.  Called on the engine thread. */
typedef enum body_verdict (*http_body_fn)(const char *body, size_t len, void *ctx, char *err,
                                          size_t errlen);

/* What one attempt received. */
struct http_transfer {
    char *body;
    size_t len, cap;
    double retry_after; /* seconds Retry-After asks for (CURLINFO_RETRY_AFTER); 0: none */
    size_t max_body;    /* most bytes accepted, counted after decompression */
    bool too_big;       /* over max_body */
    bool no_mem;        /* out of memory while receiving */
    char *location;     /* a 3xx's absolute redirect target, or NULL */
    char curl_err[CURL_ERROR_SIZE];
};

/* Sets h up for one attempt at url (GET, or POST of post_body) with these
 * headers; timeout bounds the whole attempt (seconds).  Redirects are not
 * followed here: a 3xx ends the attempt with t->location set, and the
 * engine decides where credentials may go (http_redirect_check()). */
void http_setup(CURL *h, const struct account *a, const struct curl_slist *headers, const char *url,
                const char *post_body, struct http_transfer *t, long timeout);

/* Whether a status is a redirect campaignfs follows (301, 302, 303, 307, 308). */
bool http_is_redirect(long status);

/* Checks a redirect from `from` to `to` for an account configured at
 * origin_url: 0 and *same_origin (scheme, host and port of origin_url), or
 * -1 with the reason in what (https to http, a scheme other than http(s),
 * an unparsable URL). */
int http_redirect_check(const char *origin_url, const char *from, const char *to, bool *same_origin,
                        char *what, size_t whatlen);

/* Classifies a finished attempt (curl's code and the HTTP status); a 2xx
 * body goes through validate.  On anything but FETCH_OK, err is filled and,
 * for FETCH_RATE, *rate_wait is what the provider asks for (Retry-After,
 * else its reset_at; -1 when it says nothing). */
enum fetch_class http_classify(const struct account *a, CURLcode rc, long status,
                               const struct http_transfer *t, const char *method, const char *url,
                               http_body_fn validate, void *ctx, struct fetch_error *err,
                               double *rate_wait);

void http_transfer_free(struct http_transfer *t);

/* Fills err with "[account] METHOD URL: what; hint (section [account] of FILE)". */
void http_set_error(struct fetch_error *err, const struct account *a, const char *method,
                    const char *url, enum fetch_class cls, long status, const char *what);

/* Whether a class is worth another attempt. */
bool http_transient(enum fetch_class cls);

/* A class's short name (status, logs): "auth", "not_found", "server"... */
/* What the user can do about a failure of that class ("" if nothing). */
const char *fetch_hint(enum fetch_class cls);
const char *fetch_class_name(enum fetch_class cls);

/* The errno a FUSE operation returns for a failure class. */
int fetch_errno(enum fetch_class cls);

/* The retry delay for attempt n (1-based) of a transient failure, with
 * jitter drawn from *seed: base 0.25 s doubling up to HTTP_MAX_BACKOFF, +-25 %. */
double http_backoff(int attempt, unsigned int *seed);

#define HTTP_MAX_ATTEMPTS     10  /* per request, for transient failures */
#define HTTP_MAX_UNREACHABLE  4   /* per request, when nothing listens: the host is down */
#define HTTP_MAX_BACKOFF      2.0 /* seconds between attempts, at most */
#define HTTP_MAX_RATE_RETRIES 20  /* per request, for 429s (each waited out) */
#define HTTP_DEFAULT_MAX_BODY (64L * 1024 * 1024)   /* -o max_body= */
#define HTTP_MAX_BODY         (1024L * 1024 * 1024) /* the most -o max_body= may be */
#define HTTP_MAX_REDIRECTS    5
#define HTTP_CONNECT_TIMEOUT  10L /* seconds */
#define HTTP_LOW_SPEED_TIME   30L /* seconds below 1 byte/s ends an attempt */

#endif
