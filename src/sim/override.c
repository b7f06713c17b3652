/**
 * @file override.c
 * Override rules: parsing a rule from its parameters, matching, the
 * answer a rule gives, hanging and clearing.
 */
#include "override.h"

#include "hold.h"
#include "jsonx.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* How often a hung request looks whether its client is still there. */
#define HANG_POLL_MS 100

struct override {
    struct override *next;
    unsigned long id;
    char *match;
    long left; /* requests it may still answer; -1: no limit */
    int status;
    char *body;
    size_t len;
    char *content_type; /* NULL: application/json if the body is not empty */
    struct reply_header *headers;
    size_t nheaders;
    char *redirect; /* Location template ({port}, {path}), or NULL */
    bool hang;
    unsigned waiters; /* requests hung by it now */
    bool cleared;     /* removed from the list; the last waiter frees it */
};

int overrides_init(struct overrides *o)
{
    o->rules = NULL;
    o->next_id = 1;
    o->hanging = 0;
    o->stopping = false;
    atomic_store(&o->nrules, 0);
    if (pthread_mutex_init(&o->lock, NULL) != 0)
        return -1;
    if (hold_cond_init(&o->cond) < 0) {
        pthread_mutex_destroy(&o->lock);
        return -1;
    }
    return 0;
}

static void rule_free(struct override *r)
{
    if (!r)
        return;
    reply_headers_free(r->headers, r->nheaders);
    free(r->match);
    free(r->body);
    free(r->content_type);
    free(r->redirect);
    free(r);
}

void overrides_destroy(struct overrides *o)
{
    while (o->rules) {
        struct override *r = o->rules;
        o->rules = r->next;
        rule_free(r);
    }
    pthread_cond_destroy(&o->cond);
    pthread_mutex_destroy(&o->lock);
}

/* ---- building a rule ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static bool has_crlf(const char *s)
{
    return strpbrk(s, "\r\n") != NULL;
}

static bool is_token(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
            return false;
    }
    return true;
}

/* Headers libmicrohttpd writes itself (it refuses or duplicates them). */
static bool reserved_header(const char *name)
{
    static const char *const names[] = {"Content-Length", "Transfer-Encoding", "Connection"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcasecmp(name, names[i]) == 0)
            return true;
    }
    return false;
}

static int add_header(struct override *r, const char *name, size_t nlen, const char *value,
                      char *err, size_t errlen)
{
    struct reply_header *h;

    if (!is_token(name, nlen))
        return fail(err, errlen, "header: '%.80s' is not Name:Value with a valid name", name);
    if (has_crlf(value))
        return fail(err, errlen, "header: the value of '%.80s' has a line break", name);
    h = realloc(r->headers, (r->nheaders + 1) * sizeof(*h));
    if (!h)
        return fail(err, errlen, "%s", "out of memory");
    r->headers = h;
    h = &h[r->nheaders];
    h->name = strndup(name, nlen);
    h->value = strdup(value);
    if (!h->name || !h->value) {
        free(h->name);
        free(h->value);
        return fail(err, errlen, "%s", "out of memory");
    }
    r->nheaders++;
    if (reserved_header(h->name))
        return fail(err, errlen, "header: %s is set by the simulator itself", h->name);
    return 0;
}

/* "Name:Value" or "Name: Value". */
static int parse_header(struct override *r, const char *text, char *err, size_t errlen)
{
    const char *colon = strchr(text, ':');

    if (!colon)
        return fail(err, errlen, "header: '%.80s' is not Name:Value", text);
    return add_header(r, text, (size_t)(colon - text), colon + 1 + strspn(colon + 1, " \t"), err,
                      errlen);
}

static int read_body_file(struct override *r, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char buf[65536];
    size_t n;

    if (!f) {
        snprintf(err, errlen, "body_file: cannot open %.200s: %s", path, strerror(errno));
        return -1;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        char *grown = r->len + n > (size_t)OVERRIDE_MAX_BODY ? NULL : realloc(r->body, r->len + n);
        if (!grown) {
            fclose(f);
            return fail(err, errlen, "body_file: %.200s is larger than 64 MiB", path);
        }
        r->body = grown;
        memcpy(r->body + r->len, buf, n);
        r->len += n;
    }
    if (ferror(f)) {
        fclose(f);
        return fail(err, errlen, "body_file: cannot read %.200s", path);
    }
    fclose(f);
    if (!r->body)
        r->body = malloc(1); /* an empty file: an empty body, not none */
    return r->body ? 0 : fail(err, errlen, "%s", "out of memory");
}

static int parse_int(const char *name, const char *value, long min, long max, long *out, char *err,
                     size_t errlen)
{
    char *end;

    errno = 0;
    *out = strtol(value, &end, 10);
    if (!*value || *end || errno || *out < min || *out > max) {
        snprintf(err, errlen, "%s must be an integer from %ld to %ld", name, min, max);
        return -1;
    }
    return 0;
}

static int parse_bool(const char *name, const char *value, bool *out, char *err, size_t errlen)
{
    if (!strcmp(value, "1") || !strcasecmp(value, "true") || !strcasecmp(value, "yes")) {
        *out = true;
        return 0;
    }
    if (!strcmp(value, "0") || !strcasecmp(value, "false") || !strcasecmp(value, "no")) {
        *out = false;
        return 0;
    }
    return fail(err, errlen, "%s must be 1 or 0", name);
}

static int set_text(char **field, const char *name, const char *value, char *err, size_t errlen)
{
    if (*field)
        return fail(err, errlen, "%s is given twice", name);
    if (has_crlf(value))
        return fail(err, errlen, "%s has a line break", name);
    *field = strdup(value);
    return *field ? 0 : fail(err, errlen, "%s", "out of memory");
}

static int set_body(struct override *r, const struct param *p, char *err, size_t errlen)
{
    if (r->body)
        return fail(err, errlen, "%s", "give one body or body_file");
    if (!strcmp(p->name, "body_file"))
        return read_body_file(r, p->value, err, errlen);
    r->len = strlen(p->value);
    r->body = strdup(p->value);
    return r->body ? 0 : fail(err, errlen, "%s", "out of memory");
}

static int apply_param(struct override *r, const struct param *p, char *err, size_t errlen)
{
    const char *v = p->value ? p->value : "";
    long n;

    if (!strcmp(p->name, "match"))
        return set_text(&r->match, "match", v, err, errlen);
    if (!strcmp(p->name, "count")) {
        if (parse_int("count", v, 1, 1000000000, &n, err, errlen) < 0)
            return -1;
        r->left = n;
        return 0;
    }
    if (!strcmp(p->name, "status")) {
        if (parse_int("status", v, 200, 599, &n, err, errlen) < 0)
            return -1;
        r->status = (int)n;
        return 0;
    }
    if (!strcmp(p->name, "body") || !strcmp(p->name, "body_file"))
        return set_body(r, p, err, errlen);
    if (!strcmp(p->name, "content_type"))
        return set_text(&r->content_type, "content_type", v, err, errlen);
    if (!strcmp(p->name, "encoding")) {
        if (!is_token(v, strlen(v)))
            return fail(err, errlen, "encoding: '%.80s' is not a content coding", v);
        return add_header(r, "Content-Encoding", strlen("Content-Encoding"), v, err, errlen);
    }
    if (!strcmp(p->name, "header"))
        return parse_header(r, v, err, errlen);
    if (!strcmp(p->name, "hang"))
        return parse_bool("hang", v, &r->hang, err, errlen);
    if (!strcmp(p->name, "redirect"))
        return set_text(&r->redirect, "redirect", v, err, errlen);
    return fail(err, errlen,
                "unknown parameter '%.80s' (known: match, count, status, body, body_file, "
                "content_type, encoding, header, hang, redirect)",
                p->name);
}

static struct override *rule_parse(const struct param *params, size_t n, char *err, size_t errlen)
{
    struct override *r = calloc(1, sizeof(*r));

    if (!r) {
        fail(err, errlen, "%s", "out of memory");
        return NULL;
    }
    r->left = -1;
    for (size_t i = 0; i < n; i++) {
        if (apply_param(r, &params[i], err, errlen) < 0) {
            rule_free(r);
            return NULL;
        }
    }
    if (!r->match || !*r->match) {
        fail(err, errlen, "%s", "match must be a non-empty substring of \"/path?query\"");
        rule_free(r);
        return NULL;
    }
    if (r->redirect && !*r->redirect) {
        fail(err, errlen, "%s", "redirect must be a URL");
        rule_free(r);
        return NULL;
    }
    if (!r->status)
        r->status = r->redirect ? 302 : 200;
    return r;
}

static json_object *rule_json(const struct override *r)
{
    json_object *o = json_object_new_object(), *hs = json_object_new_array();
    char line[512];

    jadd_int(o, "id", (long long)r->id);
    jadd_str(o, "match", r->match);
    if (r->left < 0)
        jadd_null(o, "count");
    else
        jadd_int(o, "count", r->left);
    jadd_int(o, "status", r->status);
    jadd_bool(o, "hang", r->hang);
    jadd_str(o, "redirect", r->redirect);
    jadd_int(o, "body_bytes", (long long)r->len);
    jadd_str(o, "content_type", r->content_type);
    for (size_t i = 0; i < r->nheaders; i++) {
        snprintf(line, sizeof(line), "%s: %s", r->headers[i].name, r->headers[i].value);
        json_object_array_add(hs, json_object_new_string(line));
    }
    jadd(o, "headers", hs);
    return o;
}

json_object *override_add(struct overrides *o, const struct param *params, size_t n, char *err,
                          size_t errlen)
{
    struct override *r = rule_parse(params, n, err, errlen), **end;
    json_object *j;

    if (!r)
        return NULL;
    pthread_mutex_lock(&o->lock);
    r->id = o->next_id++;
    for (end = &o->rules; *end; end = &(*end)->next) {
    }
    *end = r;
    atomic_fetch_add(&o->nrules, 1);
    j = rule_json(r); /* before the lock goes: a clear may free r */
    pthread_mutex_unlock(&o->lock);
    return j;
}

/* ---- answering ---- */

/* What a template's "{...}" at t stands for, or NULL. */
static const char *placeholder(const char *t, const char *port, const char *target)
{
    if (!strncmp(t, "{port}", 6))
        return port;
    if (!strncmp(t, "{path}", 6))
        return target;
    return NULL;
}

/* The redirect template with {port} and {path} filled in. */
static char *expand(const char *tmpl, unsigned port, const char *target)
{
    size_t len = 0, cap;
    char num[16], *out;

    snprintf(num, sizeof(num), "%u", port);
    cap = strlen(tmpl) + 1;
    for (const char *t = strchr(tmpl, '{'); t; t = strchr(t + 1, '{')) {
        const char *put = placeholder(t, num, target);
        cap += put ? strlen(put) : 0;
    }
    out = malloc(cap);
    while (out && *tmpl) {
        const char *put = placeholder(tmpl, num, target);
        size_t n = put ? strlen(put) : 1;
        memcpy(out + len, put ? put : tmpl, n);
        len += n;
        tmpl += put ? 6 : 1;
    }
    if (out)
        out[len] = '\0';
    return out;
}

static int copy_answer(const struct override *r, unsigned port, const char *target,
                       struct reply *rp)
{
    rp->status = r->status;
    free(rp->body);
    rp->body = malloc(r->len + 1);
    rp->len = r->len;
    if (rp->body)
        memcpy(rp->body, r->body ? r->body : "", r->len);
    rp->content_type = r->content_type ? strdup(r->content_type) : NULL;
    rp->location = r->redirect ? expand(r->redirect, port, target) : NULL;
    rp->headers = r->nheaders ? calloc(r->nheaders, sizeof(*rp->headers)) : NULL;
    if (!rp->body || (r->content_type && !rp->content_type) || (r->redirect && !rp->location) ||
        (r->nheaders && !rp->headers))
        return -1;
    for (; rp->nheaders < r->nheaders; rp->nheaders++) {
        struct reply_header *h = &rp->headers[rp->nheaders];
        h->name = strdup(r->headers[rp->nheaders].name);
        h->value = strdup(r->headers[rp->nheaders].value);
        if (!h->name || !h->value) {
            rp->nheaders++;
            return -1;
        }
    }
    return 0;
}

enum override_action override_take(struct overrides *o, const char *target, unsigned port,
                                   struct reply *rp, struct override **hang)
{
    enum override_action act = OVERRIDE_NONE;
    struct override *r;

    if (atomic_load(&o->nrules) == 0)
        return OVERRIDE_NONE;
    pthread_mutex_lock(&o->lock);
    for (r = o->rules; r; r = r->next) {
        if (r->left != 0 && strstr(target, r->match))
            break;
    }
    if (r && r->left > 0)
        r->left--;
    if (r && r->hang) {
        r->waiters++;
        o->hanging++;
        *hang = r;
        act = OVERRIDE_HANG;
    } else if (r) {
        act = OVERRIDE_ANSWER;
        if (copy_answer(r, port, target, rp) < 0) {
            free(rp->body);
            rp->body = NULL; /* the server answers 500 */
        }
    }
    pthread_mutex_unlock(&o->lock);
    return act;
}

static bool peer_gone(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};

    return fd >= 0 && poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

void override_hang(struct overrides *o, struct override *rule, int fd)
{
    pthread_mutex_lock(&o->lock);
    while (!rule->cleared && !o->stopping) {
        struct timespec until = hold_deadline(HANG_POLL_MS);
        if (pthread_cond_timedwait(&o->cond, &o->lock, &until) == ETIMEDOUT && peer_gone(fd))
            break;
    }
    o->hanging--;
    if (--rule->waiters == 0 && rule->cleared)
        rule_free(rule);
    pthread_mutex_unlock(&o->lock);
}

unsigned long override_clear(struct overrides *o, const char *match)
{
    unsigned long n = 0;

    pthread_mutex_lock(&o->lock);
    for (struct override **p = &o->rules; *p;) {
        struct override *r = *p;
        if (match && strcmp(r->match, match) != 0) {
            p = &r->next;
            continue;
        }
        *p = r->next;
        atomic_fetch_sub(&o->nrules, 1);
        n++;
        r->cleared = true;
        if (r->waiters == 0)
            rule_free(r);
    }
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
    return n;
}

unsigned long override_hanging(struct overrides *o)
{
    unsigned long n;

    pthread_mutex_lock(&o->lock);
    n = o->hanging;
    pthread_mutex_unlock(&o->lock);
    return n;
}

void override_stop(struct overrides *o)
{
    pthread_mutex_lock(&o->lock);
    o->stopping = true;
    pthread_cond_broadcast(&o->cond);
    pthread_mutex_unlock(&o->lock);
}
