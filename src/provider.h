/**
 * @file provider.h
 * Providers are data.  Each file in src/providers/ fills one struct provider
 * that says what to ask (paths, method, pagination, page size, auth) and how
 * to read the answer (where the items, ids, times, totals and error messages
 * are).  provider.c holds the generic code that drives every style: it
 * builds page requests and parses pages, as pure functions of bytes.
 */
#ifndef CAMPAIGNFS_PROVIDER_H
#define CAMPAIGNFS_PROVIDER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

enum auth_style {
    AUTH_API_KEY, /* Authorization: api-key KEY        (Altur) */
    AUTH_BEARER,  /* Authorization: Bearer KEY         (Burki, Truedy) */
    AUTH_KOREAI,  /* auth: JWT, iid: stream, accountId (Kore.ai) */
};

enum page_style {
    PAGE_NONE,         /* one request answers everything */
    PAGE_INDEX0,       /* query page_param=0,1,2..., size_param=N */
    PAGE_NUMBER1,      /* query page_param=1,2,3..., size_param=N */
    PAGE_OFFSET,       /* query page_param=0,N,2N..., size_param=N */
    PAGE_CURSOR,       /* query size_param=N[&page_param=<next cursor>] */
    PAGE_BODY_NUMBER1, /* POST {"page":1..,"limit":N} */
    PAGE_BODY_SKIP,    /* POST {"skip":0,N,..,"limit":N} */
};

enum name_rule {
    NAME_BY_ID,          /* <first present id field>.json */
    NAME_BY_PHONE_UNIQUE /* Kore.ai: phoneNumber[-uniqueId].json */
};

#define PROVIDER_MAX_FIELDS 8

/* One paginated list endpoint. */
#define PROVIDER_MAX_FINAL 12

/* When a record (a call, a campaign) never changes again. */
struct final_rule {
    const char *status;                       /* dotted path of its status; NULL: never final */
    const char *statuses[PROVIDER_MAX_FINAL]; /* the statuses after which nothing changes */
    const char *awaits;        /* ...unless this field is still missing or null (a transcript */
    const char *awaits_status; /*    to come), in records of this status (NULL: any) */
};

#define PROVIDER_MAX_STATUSES 16

/* Records by status (contacts/by-status/): the field that holds a
 * record's status, the statuses the provider documents, and the query
 * parameter that filters by one on the server (NULL: filtered here, from
 * the whole listing). */
struct status_filter {
    const char *field; /* NULL: no by-status/ */
    const char *param;
    const char *values[PROVIDER_MAX_STATUSES];
    bool open; /* the docs give examples, not every value: the statuses a held listing
                  shows are listed too */
};

struct collection {
    const char *path;       /* appended to the account URL; "{campaign}" is replaced; NULL = none */
    bool post;              /* POST a JSON body instead of GET */
    const char *body_extra; /* extra members for the POST body, e.g. "\"type\": \"voice\"" */
    const char *query_extra; /* extra query parameters, "{account_id}" is replaced */
    enum page_style style;
    const char *page_param; /* pageIndex, page, offset, cursor, skip */
    const char *size_param; /* pageSize, per_page, limit */
    int max_page_size;
    long max_pages;    /* the most pages the provider documents (0: PROVIDER_MAX_PAGES) */
    const char *items; /* dotted path of the array of records */
    const char *has_more[PROVIDER_MAX_FIELDS]; /* dotted paths of "more pages" booleans, first
                                                  present wins */
    const char *next_cursor;                   /* PAGE_CURSOR: dotted path of the next cursor */
    const char *total;                         /* dotted path of the total number of records */
    const char *total_pages;                   /* dotted path of the number of pages */
    const char *ids[PROVIDER_MAX_FIELDS];      /* id fields, first present and non-empty wins */
    const char *times[PROVIDER_MAX_FIELDS];    /* timestamp fields: the newest gives st_mtime */
    enum name_rule naming;
    const char *link;  /* field naming a record fetched on its own (Truedy contacts: "call_id") */
    const char *title; /* field naming a record for people (campaigns: "name"), or NULL */
    struct final_rule final; /* when one of its records is finished */
    struct status_filter by_status;
};

/* One single-record endpoint (campaign.json, a Truedy call). */
struct record_endpoint {
    const char *path;        /* "{campaign}" or "{id}" is replaced; NULL = none */
    const char *query_extra; /* "{account_id}" is replaced */
    const char *unwrap;      /* dotted path of the record inside the body; "" = the body itself */
    const char *times[PROVIDER_MAX_FIELDS];
    struct final_rule final; /* when the record is finished */
};

struct provider {
    const char *name;        /* config value: "altur" */
    const char *title;       /* for messages: "Altur" */
    const char *default_url; /* the public base URL, without trailing '/' */
    enum auth_style auth;
    double default_rate; /* requests per second, the documented limit; 0 = none documented */
    struct collection campaigns;
    struct collection contacts;
    struct collection calls; /* .path NULL: no calls list */
    struct record_endpoint campaign;
    struct record_endpoint call;             /* records named by contacts' .link (Truedy) */
    const char *errors[PROVIDER_MAX_FIELDS]; /* dotted paths of an error body's message */
    const char
        *failure_status;  /* a body whose "status" equals this is an error (Kore.ai "failure") */
    const char *reset_at; /* dotted path of a 429 body's ISO "retry at" time (Truedy) */
};

/* The registry of providers compiled in. */
const struct provider *provider_find(const char *name);
const struct provider *const *provider_all(void); /* NULL-terminated */

/* Whether a provider lists calls: either a calls collection or calls named
 * by its contacts. */
bool provider_has_calls(const struct provider *p);

/* Whether rec is finished by rule r (never, for a rule without a status). */
bool provider_is_final(const struct final_rule *r, json_object *rec);

/* ---- generic pagination (pure: no I/O) ---- */

/* Where a paginated walk is.  Zero-initialise, then call
 * provider_page_request() / provider_page_parse() in turn until done. */
struct page_cursor {
    long index;   /* pages parsed so far */
    long offset;  /* records seen so far (offset/skip styles) */
    char *cursor; /* next cursor (cursor style) */
    long total;   /* total from the first page that had one, -1 unknown */
    bool done;
    bool over_limit; /* done only because more pages than provider_max_pages() were announced */
};

struct page_request {
    char *path_query; /* path and query, to append to the account URL */
    char *body;       /* JSON body for POST, NULL for GET */
};

struct request_vars {
    const char *campaign;   /* campaign id, URL-escaped by the caller */
    const char *id;         /* record id, URL-escaped by the caller */
    const char *account_id; /* Kore.ai account id, URL-escaped by the caller */
    const char *stream;     /* Kore.ai stream id, URL-escaped by the caller */
    const char *status;     /* a list filtered by status (by_status.param), URL-escaped */
};

/* Fills req for the next page of coll.  Returns 0 or -1 (out of memory). */
int provider_page_request(const struct collection *coll, const struct request_vars *vars,
                          const struct page_cursor *cur, struct page_request *req);
void page_request_free(struct page_request *req);

#define PARSE_MALFORMED (-1) /* not JSON, or not the documented shape */
#define PARSE_FAILURE   (-2) /* well-formed, but the body says the request failed */
#define PARSE_INVALID   (-3) /* well-formed, but not the documented shape (or nested too deep) */

/* What one page says about the listing, read before the cursor moves on. */
struct page_info {
    size_t n_items;
    int more;          /* "more pages" flag: 1, 0, or -1 when absent */
    long pages;        /* total pages, -1 unknown */
    long total;        /* total records, -1 unknown */
    char *next_cursor; /* PAGE_CURSOR: the next cursor (malloc'd), or NULL */
};

/* Parses one page body without moving a cursor: *items as for
 * provider_page_parse(), *info what the page says of the listing.  Pages
 * fetched in parallel are read as they arrive and applied in order with
 * provider_page_advance().  page_info_free() frees info's cursor. */
int provider_page_read(const struct provider *p, const struct collection *coll, const char *body,
                       size_t len, json_object **root, json_object **items, struct page_info *info,
                       char *err, size_t errlen);

/* Moves cur past the page that info describes (takes info's cursor). */
void provider_page_advance(const struct collection *coll, struct page_info *info,
                           struct page_cursor *cur);
void page_info_free(struct page_info *info);

#define PROVIDER_MAX_PAGES 100000 /* where nothing is documented */

/* The most pages a listing of coll may have; one more is a contradiction. */
long provider_max_pages(const struct collection *coll);

/* How many pages the listing has, from its first page (the page-index,
 * page-number, offset and body styles), or -1 when only each page can tell
 * the next (cursor style) or the first page gives no total. */
long provider_page_count(const struct collection *coll, const struct page_info *first);

/* Parses one page body.  On success returns 0, sets *items to the array
 * (owned by *root, which the caller json_object_put()s) and advances cur
 * (sets cur->done when there is no next page).  Otherwise returns
 * PARSE_MALFORMED or PARSE_FAILURE with a message in err. */
int provider_page_parse(const struct provider *p, const struct collection *coll, const char *body,
                        size_t len, struct page_cursor *cur, json_object **root,
                        json_object **items, char *err, size_t errlen);

/* Builds path+query for a single record endpoint. */
int provider_record_request(const struct record_endpoint *ep, const struct request_vars *vars,
                            struct page_request *req);

/* Parses a single-record body and returns the record (owned by *root);
 * errors as provider_page_parse(). */
int provider_record_parse(const struct provider *p, const struct record_endpoint *ep,
                          const char *body, size_t len, json_object **root, json_object **record,
                          char *err, size_t errlen);

/* Extracts a human-readable message from an error body, or NULL.  Returns
 * a malloc'd string. */
char *provider_error_message(const struct provider *p, const char *body, size_t len);

/* ---- record helpers ---- */

/* The value at a dotted path ("data.results"), or NULL. */
json_object *json_path(json_object *root, const char *dotted);

/* The record's id as text (first present, non-null, non-empty of ids), or
 * NULL.  Returns a malloc'd string. */
char *record_id(json_object *rec, const char *const *ids);

/* The newest of the record's timestamp fields, or 0 when it has none. */
time_t record_time(json_object *rec, const char *const *fields);

/* Parses "2025-10-03 19:11:39" (Altur, taken as UTC), ISO 8601 with 'T',
 * optional fraction and 'Z' or +hh:mm offset.  Returns 0 if unparseable. */
time_t parse_timestamp(const char *text);

#endif
