/**
 * @file api.h
 * What a provider's HTTP module gives the server (struct api: its path
 * prefix, its endpoints, and its error, auth and 429 forms) and what the
 * server gives a handler (struct request in, struct reply out).
 */
#ifndef CAMPAIGNFS_SIM_API_H
#define CAMPAIGNFS_SIM_API_H

#include "data.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

struct sim;
struct MHD_Connection;

#define REQ_MAX_CAPS 3
#define REQ_CAP_SIZE 256

struct request {
    struct sim *sim;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;                      /* the whole path */
    const char *target;                   /* path and query as sent (not decoded) */
    const char *rel;                      /* the path after the provider's prefix */
    char cap[REQ_MAX_CAPS][REQ_CAP_SIZE]; /* the '*' segments of the endpoint pattern */
    const char *body;                     /* request body (NUL terminated), "" if none */
    size_t body_len;
    bool body_too_large; /* over the 1 MiB the server accepts: answered 413 */
    unsigned long seq;   /* the request's sequence number (faults, request ids) */
    bool overlap;        /* FAULT_OVERLAP: list pages start one record early */
    bool overlap_served; /* and this page did (rq_page_start moved it) */
};

struct reply_header {
    char *name, *value; /* malloc'd */
};

struct reply {
    int status;
    char *body; /* malloc'd */
    size_t len;
    char *location;     /* malloc'd Location header, or NULL */
    int retry_after;    /* Retry-After seconds, or -1 for none */
    double reset_at;    /* Unix time a 429 body names as its end (Truedy), or 0 */
    char *content_type; /* malloc'd; NULL: application/json for a non-empty body; "": none */
    struct reply_header *headers; /* malloc'd extra headers (overrides) */
    size_t nheaders;
};

/* Whether s is one or more ASCII digits and nothing else. */
bool is_digits(const char *s);

/* Where a list page starts: offset, or one record earlier under FAULT_OVERLAP
 * (then noted in rq->overlap_served). */
size_t rq_page_start(struct request *rq, size_t offset);

/* Query parameter / header value, or NULL. */
const char *rq_query(const struct request *rq, const char *name);
const char *rq_header(const struct request *rq, const char *name);

enum qint { QINT_ABSENT, QINT_OK, QINT_NOT_INT, QINT_RANGE };
/* Reads an integer query parameter: *out = def if absent; QINT_RANGE if
 * outside [min, max] (*out still set when it parsed). */
enum qint rq_query_int(const struct request *rq, const char *name, long min, long max, long def,
                       long *out);

/* Serializes obj (consumed) as the reply body. */
void reply_json(struct reply *rp, int status, json_object *obj);
void reply_free(struct reply *rp);
/* Frees n headers and the array. */
void reply_headers_free(struct reply_header *headers, size_t n);

typedef void endpoint_fn(struct request *rq, struct reply *rp);

struct endpoint {
    const char *method;
    const char *pattern; /* relative to the prefix; '*' matches one non-empty segment */
    const char *name;    /* stats key: "GET /campaigns/{id}/contacts" */
    endpoint_fn *fn;
    bool public_; /* answered without authentication (redirects) */
};

struct api {
    enum sim_prov id;
    const char *prefix; /* "/api/v1.0" */
    const struct endpoint *endpoints;
    size_t nendpoints;
    /* An error answer in the provider's own format. */
    void (*error)(const struct request *rq, struct reply *rp, int status, const char *message);
    /* 0 if the request carries valid credentials; else fills the 401. */
    int (*authenticate)(const struct request *rq, struct reply *rp);
    /* The provider's 429: wait = seconds until a request is accepted again,
     * reset_at = that moment as Unix time, limit = requests per window. */
    void (*throttled)(const struct request *rq, struct reply *rp, double wait, double reset_at,
                      long limit);
    /* Where a request carries the credential the request log names (by a
     * hash): this header, without this scheme prefix if it has one, else
     * this query parameter (NULL: none). */
    const char *key_header, *key_scheme, *key_query;
};

extern const struct api altur_api, burki_api, truedy_api, koreai_api;
extern const struct api *const sim_apis[SIM_NPROV];

#define STATS_MAX_ENDPOINTS 8

/* ---- shared handler helpers ---- */

/* The world of the simulator a request belongs to. */
struct world *rq_world(const struct request *rq);
const struct creds *rq_creds(const struct request *rq);

#endif
