/**
 * @file provider.c
 * The generic side of "providers are data": the registry, page requests
 * for every pagination style, page and record parsing, error messages and
 * record ids/times.  Pure functions of their inputs: no I/O, no globals
 * but the constant registry.
 */
#include "provider.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

extern const struct provider provider_altur, provider_burki, provider_truedy, provider_koreai;

static const struct provider *const registry[] = {
    &provider_altur, &provider_burki, &provider_truedy, &provider_koreai, NULL,
};

const struct provider *provider_find(const char *name)
{
    for (size_t i = 0; registry[i]; i++)
        if (strcmp(registry[i]->name, name) == 0)
            return registry[i];
    return NULL;
}

const struct provider *const *provider_all(void)
{
    return registry;
}

bool provider_has_calls(const struct provider *p)
{
    return p->calls.path || (p->contacts.link && p->call.path);
}

/* ---- JSON helpers ---- */

json_object *json_path(json_object *root, const char *dotted)
{
    json_object *cur = root;
    const char *p = dotted;

    if (!dotted || !*dotted)
        return root;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        char key[128];

        if (n >= sizeof(key))
            return NULL;
        memcpy(key, p, n);
        key[n] = '\0';
        if (json_object_is_type(cur, json_type_array)) {
            char *end;
            long idx = strtol(key, &end, 10);
            if (*end || idx < 0 || (size_t)idx >= json_object_array_length(cur))
                return NULL;
            cur = json_object_array_get_idx(cur, (size_t)idx);
        } else if (!json_object_is_type(cur, json_type_object) ||
                   !json_object_object_get_ex(cur, key, &cur)) {
            return NULL;
        }
        p = dot ? dot + 1 : p + n;
    }
    return cur;
}

bool provider_is_final(const struct final_rule *r, json_object *rec)
{
    json_object *status = r->status ? json_path(rec, r->status) : NULL;
    const char *text;
    bool listed = false;

    if (!status || !json_object_is_type(status, json_type_string))
        return false;
    text = json_object_get_string(status);
    for (size_t i = 0; i < PROVIDER_MAX_FINAL && r->statuses[i] && !listed; i++)
        listed = strcmp(r->statuses[i], text) == 0;
    if (!listed)
        return false;
    if (r->awaits && (!r->awaits_status || strcmp(r->awaits_status, text) == 0))
        return json_path(rec, r->awaits) != NULL; /* json-c's NULL is JSON null too */
    return true;
}

char *record_id(json_object *rec, const char *const *ids)
{
    for (size_t i = 0; i < PROVIDER_MAX_FIELDS && ids[i]; i++) {
        json_object *v = json_path(rec, ids[i]);
        const char *s;

        if (!v || json_object_is_type(v, json_type_null) ||
            json_object_is_type(v, json_type_object) || json_object_is_type(v, json_type_array))
            continue;
        s = json_object_get_string(v);
        if (s && *s)
            return strdup(s);
    }
    return NULL;
}

static int two_digits(const char *s)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

time_t parse_timestamp(const char *text)
{
    struct tm tm = {0};
    const char *p;
    long offset = 0;

    if (!text)
        return 0;
    p = strptime(text, "%Y-%m-%d", &tm);
    if (!p || (*p != 'T' && *p != ' '))
        return 0;
    p = strptime(p + 1, "%H:%M:%S", &tm);
    if (!p)
        return 0;
    if (*p == '.' || *p == ',')
        for (p++; isdigit((unsigned char)*p); p++)
            ;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1;
        int hh = two_digits(p + 1), mm;

        if (hh < 0)
            return 0;
        p += 3;
        if (*p == ':')
            p++;
        mm = two_digits(p);
        if (mm < 0)
            return 0;
        p += 2;
        offset = sign * (hh * 3600L + mm * 60L);
    }
    if (*p)
        return 0;
    return timegm(&tm) - offset;
}

time_t record_time(json_object *rec, const char *const *fields)
{
    time_t best = 0;

    for (size_t i = 0; i < PROVIDER_MAX_FIELDS && fields[i]; i++) {
        json_object *v = json_path(rec, fields[i]);
        time_t t;

        if (!v || !json_object_is_type(v, json_type_string))
            continue;
        t = parse_timestamp(json_object_get_string(v));
        if (t > best)
            best = t;
    }
    return best;
}

/* ---- requests ---- */

/* Appends template to buf, replacing {campaign}, {id}, {account_id},
 * {stream} with vars (already URL-escaped). */
static int expand(FILE *out, const char *template, const struct request_vars *vars)
{
    static const char *const names[] = {"{campaign}", "{id}", "{account_id}", "{stream}"};

    for (const char *p = template; p && *p;) {
        bool matched = false;

        for (size_t i = 0; i < 4 && *p == '{'; i++) {
            const char *vals[] = {vars->campaign, vars->id, vars->account_id, vars->stream};
            size_t n = strlen(names[i]);

            if (strncmp(p, names[i], n) != 0)
                continue;
            if (!vals[i])
                return -1;
            fputs(vals[i], out);
            p += n;
            matched = true;
            break;
        }
        if (!matched)
            fputc(*p++, out);
    }
    return 0;
}

struct qparam {
    const char *name;
    char value[64];
};

/* path?query_extra&name=value... with the template variables expanded. */
static char *build_path(const char *path, const char *query_extra, const struct qparam *params,
                        size_t n_params, const char *cursor_param, const char *cursor,
                        const struct request_vars *vars)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    char sep = '?';
    int rc;

    if (!out)
        return NULL;
    rc = expand(out, path, vars);
    if (query_extra && *query_extra) {
        fputc(sep, out);
        sep = '&';
        rc |= expand(out, query_extra, vars);
    }
    for (size_t i = 0; i < n_params; i++) {
        fprintf(out, "%c%s=%s", sep, params[i].name, params[i].value);
        sep = '&';
    }
    if (cursor) {
        char *esc = curl_easy_escape(NULL, cursor, 0);
        if (esc)
            fprintf(out, "%c%s=%s", sep, cursor_param, esc);
        else
            rc = -1;
        curl_free(esc);
    }
    fclose(out);
    if (rc != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int body_request(const struct collection *coll, long first, long size,
                        struct page_request *req)
{
    const char *extra = coll->body_extra ? coll->body_extra : "";

    if (asprintf(&req->body, "{%s%s\"%s\": %ld, \"%s\": %ld}", extra, *extra ? ", " : "",
                 coll->page_param, first, coll->size_param, size) < 0) {
        req->body = NULL;
        return -1;
    }
    return 0;
}

int provider_page_request(const struct collection *coll, const struct request_vars *vars,
                          const struct page_cursor *cur, struct page_request *req)
{
    long size = coll->max_page_size > 0 ? coll->max_page_size : 100;
    struct qparam params[3];
    size_t n = 0;
    long first = -1;

    memset(req, 0, sizeof(*req));
    switch (coll->style) {
    case PAGE_NONE:
        break;
    case PAGE_INDEX0:
        first = cur->index;
        break;
    case PAGE_NUMBER1:
        first = cur->index + 1;
        break;
    case PAGE_OFFSET:
        first = cur->offset;
        break;
    case PAGE_CURSOR:
        params[n].name = coll->size_param;
        snprintf(params[n++].value, sizeof(params[0].value), "%ld", size);
        break;
    case PAGE_BODY_NUMBER1:
        if (body_request(coll, cur->index + 1, size, req) < 0)
            return -1;
        break;
    case PAGE_BODY_SKIP:
        if (body_request(coll, cur->offset, size, req) < 0)
            return -1;
        break;
    }
    if (first >= 0) {
        params[n].name = coll->page_param;
        snprintf(params[n++].value, sizeof(params[0].value), "%ld", first);
        params[n].name = coll->size_param;
        snprintf(params[n++].value, sizeof(params[0].value), "%ld", size);
    }
    if (vars->status && coll->by_status.param) {
        params[n].name = coll->by_status.param;
        if (snprintf(params[n++].value, sizeof(params[0].value), "%s", vars->status) >=
            (int)sizeof(params[0].value)) {
            free(req->body);
            req->body = NULL;
            return -1;
        }
    }
    if (coll->post && !req->body) {
        req->body = strdup("{}");
        if (!req->body)
            return -1;
    }
    req->path_query = build_path(coll->path, coll->query_extra, params, n, coll->page_param,
                                 coll->style == PAGE_CURSOR ? cur->cursor : NULL, vars);
    if (!req->path_query) {
        free(req->body);
        req->body = NULL;
        return -1;
    }
    return 0;
}

int provider_record_request(const struct record_endpoint *ep, const struct request_vars *vars,
                            struct page_request *req)
{
    memset(req, 0, sizeof(*req));
    req->path_query = build_path(ep->path, ep->query_extra, NULL, 0, NULL, NULL, vars);
    return req->path_query ? 0 : -1;
}

void page_request_free(struct page_request *req)
{
    free(req->path_query);
    free(req->body);
    req->path_query = req->body = NULL;
}

/* ---- parsing ---- */

/* Compares the decimal digits d[0..n) with the limit (same length). */
static bool digits_over(const char *d, size_t n, const char *limit)
{
    size_t k = strlen(limit);

    return n > k || (n == k && memcmp(d, limit, k) > 0);
}

/* Checks the number at p (of at most n bytes) against RFC 8259's grammar and
 * json-c's range; 0 and its length in *used, or -1 with why. */
static int number_ok(const char *p, size_t n, size_t *used, const char **why)
{
    size_t j = p[0] == '-' ? 1 : 0, first = j;

    if (j < n && p[j] == '0') {
        j++;
    } else if (j < n && isdigit((unsigned char)p[j])) {
        while (j < n && isdigit((unsigned char)p[j]))
            j++;
    } else if (j < n && (p[j] == 'I' || p[j] == 'i' || p[j] == 'N' || p[j] == 'n')) {
        *why = "a number that is not JSON (NaN or Infinity)";
        return -1;
    } else {
        *used = j; /* json-c says what is wrong, or that the body was cut */
        return 0;
    }
    if (j < n && isdigit((unsigned char)p[j])) {
        *why = "a number with a leading zero";
        return -1;
    }
    if (digits_over(p + first, j - first,
                    p[0] == '-' ? "9223372036854775808" : "18446744073709551615") &&
        !(j < n && (p[j] == '.' || p[j] == 'e' || p[j] == 'E'))) {
        *why = "an integer beyond 64 bits (it cannot be shown exactly)";
        return -1;
    }
    if (j < n && p[j] == '.') {
        if (++j < n && !isdigit((unsigned char)p[j])) {
            *why = "a number ending in '.'";
            return -1;
        }
        while (j < n && isdigit((unsigned char)p[j]))
            j++;
    }
    if (j < n && (p[j] == 'e' || p[j] == 'E')) {
        j++;
        if (j < n && (p[j] == '+' || p[j] == '-'))
            j++;
        if (j < n && !isdigit((unsigned char)p[j])) {
            *why = "a number with an empty exponent";
            return -1;
        }
        while (j < n && isdigit((unsigned char)p[j]))
            j++;
    }
    *used = j;
    return 0;
}

/* json-c reads some numbers that are not JSON (1., 007, NaN) and saturates
 * integers beyond 64 bits: either would show bytes the server did not send,
 * or merge two records whose ids differ.  Such a body is refused before it
 * is parsed.  0, or -1 with a message in err. */
static int numbers_check(const char *body, size_t len, char *err, size_t errlen)
{
    const char *why = NULL;
    bool in_string = false;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)body[i];
        size_t used = 0;

        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = false;
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '-' || isdigit(c)) {
            if (number_ok(body + i, len - i, &used, &why) < 0)
                break;
            i += used - 1;
        } else if (isalpha(c)) {
            size_t n = 0;
            while (i + n < len && isalpha((unsigned char)body[i + n]))
                n++;
            if ((n == 3 && strncasecmp(body + i, "nan", 3) == 0) ||
                (n == 8 && strncasecmp(body + i, "infinity", 8) == 0)) {
                why = "a number that is not JSON (NaN or Infinity)";
                break;
            }
            i += n - 1; /* other words: json-c accepts true, false and null only */
        }
    }
    if (!why)
        return 0;
    snprintf(err, errlen, "the answer holds %s", why);
    return -1;
}

/* The JSON value of body, or NULL with *rc PARSE_MALFORMED (maybe damaged
 * in transit) or PARSE_INVALID (nested deeper than json-c's limit: never
 * a provider's answer). */
static json_object *parse_body(const char *body, size_t len, int *rc, char *err, size_t errlen)
{
    json_tokener *tok = json_tokener_new();
    json_object *root;
    enum json_tokener_error jerr;

    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (numbers_check(body, len, err, errlen) < 0) {
        json_tokener_free(tok);
        *rc = PARSE_INVALID;
        return NULL;
    }
    root = json_tokener_parse_ex(tok, body, (int)len);
    jerr = json_tokener_get_error(tok);
    if (jerr == json_tokener_success && tok->char_offset < (int)len) {
        /* trailing bytes after the value: allow white space only */
        for (size_t i = (size_t)tok->char_offset; i < len; i++) {
            if (!isspace((unsigned char)body[i])) {
                jerr = json_tokener_error_parse_unexpected;
                break;
            }
        }
    }
    if (jerr != json_tokener_success || !root) {
        *rc = jerr == json_tokener_error_depth ? PARSE_INVALID : PARSE_MALFORMED;
        snprintf(err, errlen, "malformed JSON in the answer (%zu bytes): %s", len,
                 jerr == json_tokener_continue ? "truncated" : json_tokener_error_desc(jerr));
        json_object_put(root);
        root = NULL;
    }
    json_tokener_free(tok);
    return root;
}

static bool body_is_failure(const struct provider *p, json_object *root)
{
    json_object *st;

    if (!p->failure_status)
        return false;
    st = json_path(root, "status");
    return st && json_object_is_type(st, json_type_string) &&
           strcmp(json_object_get_string(st), p->failure_status) == 0;
}

static void failure_message(const struct provider *p, json_object *root, char *err, size_t errlen)
{
    const char *body = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN);
    char *msg = provider_error_message(p, body, strlen(body));

    snprintf(err, errlen, "the answer says failure: %s", msg ? msg : "(no message)");
    free(msg);
}

/* A boolean "more pages" flag: 1 true, 0 false, -1 absent. */
static int has_more(const struct collection *coll, json_object *root)
{
    for (size_t i = 0; i < PROVIDER_MAX_FIELDS && coll->has_more[i]; i++) {
        json_object *v = json_path(root, coll->has_more[i]);
        if (v && json_object_is_type(v, json_type_boolean))
            return json_object_get_boolean(v) ? 1 : 0;
    }
    return -1;
}

static long int_at(json_object *root, const char *path)
{
    json_object *v = path ? json_path(root, path) : NULL;

    if (!v || !json_object_is_type(v, json_type_int))
        return -1;
    return (long)json_object_get_int64(v);
}

/* Upper bound on pages in one listing: more means a server that never says
 * "last page" (Altur's documented maximum pageIndex is 25000). */
#define MAX_PAGES PROVIDER_MAX_PAGES

void provider_page_advance(const struct collection *coll, struct page_info *info,
                           struct page_cursor *cur)
{
    long size = coll->max_page_size > 0 ? coll->max_page_size : 100;

    if (cur->index == 0)
        cur->total = info->total;
    cur->index++;
    cur->offset += (long)info->n_items;

    if (coll->style == PAGE_NONE || info->n_items == 0) {
        cur->done = true;
    } else if (coll->style == PAGE_CURSOR) {
        free(cur->cursor);
        cur->cursor = info->next_cursor;
        info->next_cursor = NULL;
        cur->done = info->more == 0 || !cur->cursor;
    } else if (info->more >= 0) {
        cur->done = info->more == 0;
    } else if (info->pages >= 0) {
        cur->done = cur->index >= info->pages;
    } else if (cur->total >= 0) {
        cur->done = cur->offset >= cur->total;
    } else {
        cur->done = (long)info->n_items < size;
    }
    if (!cur->done && cur->index >= provider_max_pages(coll)) {
        cur->done = true; /* a walk never goes on for ever */
        cur->over_limit = true;
    }
}

long provider_max_pages(const struct collection *coll)
{
    return coll->max_pages > 0 ? coll->max_pages : MAX_PAGES;
}

long provider_page_count(const struct collection *coll, const struct page_info *first)
{
    long size = coll->max_page_size > 0 ? coll->max_page_size : 100;
    long pages = -1;

    switch (coll->style) {
    case PAGE_INDEX0:
    case PAGE_NUMBER1:
    case PAGE_OFFSET:
    case PAGE_BODY_NUMBER1:
    case PAGE_BODY_SKIP:
        break;
    case PAGE_NONE:
    case PAGE_CURSOR:
        return -1; /* each page names the next one */
    }
    if (first->pages >= 0)
        pages = first->pages;
    else if (first->total >= 0)
        pages = first->total / size + (first->total % size != 0);
    if (pages > provider_max_pages(coll))
        pages = provider_max_pages(coll);
    return pages;
}

void page_info_free(struct page_info *info)
{
    free(info->next_cursor);
    info->next_cursor = NULL;
}

static void read_page_info(const struct collection *coll, json_object *root, size_t n_items,
                           struct page_info *info)
{
    json_object *next = coll->next_cursor ? json_path(root, coll->next_cursor) : NULL;

    memset(info, 0, sizeof(*info));
    info->n_items = n_items;
    info->more = has_more(coll, root);
    info->pages = int_at(root, coll->total_pages);
    info->total = int_at(root, coll->total);
    if (next && json_object_is_type(next, json_type_string) && *json_object_get_string(next))
        info->next_cursor = strdup(json_object_get_string(next));
}

/* Parses a body and refuses one that says "failure": the root, or NULL with
 * *rc set to PARSE_MALFORMED, PARSE_INVALID or PARSE_FAILURE. */
static json_object *parse_answer(const struct provider *p, const char *body, size_t len, int *rc,
                                 char *err, size_t errlen)
{
    json_object *r;

    *rc = PARSE_MALFORMED;
    r = parse_body(body, len, rc, err, errlen);
    if (!r)
        return NULL;
    if (body_is_failure(p, r)) {
        failure_message(p, r, err, errlen);
        json_object_put(r);
        *rc = PARSE_FAILURE;
        return NULL;
    }
    *rc = 0;
    return r;
}

int provider_page_read(const struct provider *p, const struct collection *coll, const char *body,
                       size_t len, json_object **root, json_object **items, struct page_info *info,
                       char *err, size_t errlen)
{
    int rc;
    json_object *r = parse_answer(p, body, len, &rc, err, errlen);
    json_object *arr = r ? json_path(r, coll->items) : NULL;

    *root = NULL;
    *items = NULL;
    memset(info, 0, sizeof(*info));
    if (!r)
        return rc;
    if (!arr || !json_object_is_type(arr, json_type_array)) {
        snprintf(err, errlen, "the answer has no '%s' array", coll->items);
        json_object_put(r);
        return PARSE_INVALID;
    }
    read_page_info(coll, r, json_object_array_length(arr), info);
    *root = r;
    *items = arr;
    return 0;
}

int provider_page_parse(const struct provider *p, const struct collection *coll, const char *body,
                        size_t len, struct page_cursor *cur, json_object **root,
                        json_object **items, char *err, size_t errlen)
{
    struct page_info info;
    int rc = provider_page_read(p, coll, body, len, root, items, &info, err, errlen);

    if (rc < 0)
        return rc;
    provider_page_advance(coll, &info, cur);
    page_info_free(&info);
    return 0;
}

int provider_record_parse(const struct provider *p, const struct record_endpoint *ep,
                          const char *body, size_t len, json_object **root, json_object **record,
                          char *err, size_t errlen)
{
    int rc;
    json_object *r = parse_answer(p, body, len, &rc, err, errlen);
    json_object *rec = r ? json_path(r, ep->unwrap) : NULL;

    *root = NULL;
    *record = NULL;
    if (!r)
        return rc;
    if (!rec || !json_object_is_type(rec, json_type_object)) {
        snprintf(err, errlen, "the answer has no '%s' object", *ep->unwrap ? ep->unwrap : "(top)");
        json_object_put(r);
        return PARSE_INVALID;
    }
    *root = r;
    *record = rec;
    return 0;
}

/* The first string found in a DRF-style {"field": ["msg"]} body. */
static char *drf_message(json_object *root)
{
    if (!json_object_is_type(root, json_type_object))
        return NULL;
    json_object_object_foreach(root, key, val)
    {
        json_object *first = val;
        char *out = NULL;

        if (json_object_is_type(val, json_type_array) && json_object_array_length(val) > 0)
            first = json_object_array_get_idx(val, 0);
        if (json_object_is_type(first, json_type_string) &&
            asprintf(&out, "%s: %s", key, json_object_get_string(first)) >= 0)
            return out;
    }
    return NULL;
}

char *provider_error_message(const struct provider *p, const char *body, size_t len)
{
    char err[64];
    json_object *root;
    char *out = NULL;
    int rc;

    if (!body || len == 0)
        return NULL;
    root = parse_body(body, len, &rc, err, sizeof(err));
    if (!root)
        return NULL;
    for (size_t i = 0; i < PROVIDER_MAX_FIELDS && p->errors[i] && !out; i++) {
        json_object *v = json_path(root, p->errors[i]);
        if (v && json_object_is_type(v, json_type_string) && *json_object_get_string(v))
            out = strdup(json_object_get_string(v));
    }
    if (!out)
        out = drf_message(root);
    json_object_put(root);
    return out;
}
