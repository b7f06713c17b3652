/**
 * @file http.c
 * The transport: easy-handle set-up for one attempt and the classification
 * of its outcome.  The credential is only ever in the header list; messages
 * carry the URL, which holds none.
 */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "account.h"
#include "log.h"
#include "provider.h"

static size_t on_body(char *data, size_t size, size_t nmemb, void *userp)
{
    struct http_transfer *t = userp;
    size_t n = size * nmemb;

    if (t->len + n > t->max_body) {
        t->too_big = true;
        return 0;
    }
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 16384;
        char *nb;
        while (cap < t->len + n + 1)
            cap *= 2;
        nb = realloc(t->body, cap);
        if (!nb) {
            t->no_mem = true;
            return 0;
        }
        t->body = nb;
        t->cap = cap;
    }
    memcpy(t->body + t->len, data, n);
    t->len += n;
    t->body[t->len] = '\0';
    return n;
}

double http_backoff(int attempt, unsigned int *seed)
{
    double base = fmin(HTTP_MAX_BACKOFF, 0.25 * pow(2, attempt - 1));
    double jitter = ((double)rand_r(seed) / RAND_MAX - 0.5) * 0.5; /* +-25 % */

    return base * (1 + jitter);
}

const char *fetch_class_name(enum fetch_class cls)
{
    static const char *const names[FETCH_CLASS_COUNT] = {
        [FETCH_OK] = "ok",           [FETCH_AUTH] = "auth",         [FETCH_NOT_FOUND] = "not_found",
        [FETCH_RATE] = "rate",       [FETCH_CLIENT] = "client",     [FETCH_SERVER] = "server",
        [FETCH_NETWORK] = "network", [FETCH_TIMEOUT] = "timeout",   [FETCH_PROTOCOL] = "protocol",
        [FETCH_INVALID] = "invalid", [FETCH_INTERNAL] = "internal", [FETCH_OFFLINE] = "offline",
    };

    return cls >= 0 && cls < FETCH_CLASS_COUNT ? names[cls] : "unknown";
}

int fetch_errno(enum fetch_class cls)
{
    switch (cls) {
    case FETCH_OK:
        return 0;
    case FETCH_AUTH:
        return EACCES;
    case FETCH_NOT_FOUND:
        return ENOENT;
    case FETCH_INTERNAL:
        return ENOMEM;
    case FETCH_TIMEOUT:
        return ETIMEDOUT;
    case FETCH_RATE:
    case FETCH_CLIENT:
    case FETCH_SERVER:
    case FETCH_NETWORK:
    case FETCH_PROTOCOL:
    case FETCH_INVALID:
    case FETCH_OFFLINE:
    case FETCH_CLASS_COUNT:
        break;
    }
    return EIO;
}

const char *fetch_hint(enum fetch_class cls)
{
    switch (cls) {
    case FETCH_AUTH:
        return "check the account's credentials";
    case FETCH_NOT_FOUND:
        return "the record is gone, or the account's url is wrong";
    case FETCH_RATE:
        return "the provider keeps refusing: lower the account's rate_limit";
    case FETCH_SERVER:
        return "the provider has a problem; campaignfs asks again on the next access";
    case FETCH_NETWORK:
        return "check the network and the account's url";
    case FETCH_TIMEOUT:
        return "the server did not answer in time; check the network, or raise -o timeout";
    case FETCH_PROTOCOL:
        return "the answer is not what the provider documents; campaignfs asks again on the next "
               "access";
    case FETCH_INVALID:
        return "campaignfs does not trust this answer and shows nothing from it; it asks again "
               "on the next access";
    case FETCH_CLIENT:
        return "see the provider's message";
    case FETCH_OFFLINE:
        return "mount without -o offline to fetch it";
    case FETCH_OK:
    case FETCH_INTERNAL:
    case FETCH_CLASS_COUNT:
        break;
    }
    return "";
}

static enum fetch_class status_class(long status)
{
    if (status == 401 || status == 403)
        return FETCH_AUTH;
    if (status == 404)
        return FETCH_NOT_FOUND;
    if (status == 429)
        return FETCH_RATE;
    if (status >= 500)
        return FETCH_SERVER;
    return FETCH_CLIENT;
}

bool http_transient(enum fetch_class cls)
{
    return cls == FETCH_RATE || cls == FETCH_SERVER || cls == FETCH_NETWORK ||
           cls == FETCH_TIMEOUT || cls == FETCH_PROTOCOL;
}

void http_set_error(struct fetch_error *err, const struct account *a, const char *method,
                    const char *url, enum fetch_class cls, long status, const char *what)
{
    const char *h = fetch_hint(cls);

    err->cls = cls;
    err->cancelled = false;
    err->unreachable = false;
    err->tls = false;
    err->status = status;
    snprintf(err->message, sizeof(err->message), "[%s] %s %s: %s%s%s (section [%s] of %s)", a->name,
             method, url, what, *h ? "; " : "", h, a->name, a->config_path);
}

/* Seconds a 429 asks to wait: Retry-After (as libcurl read it), else the
 * provider's reset_at in the body; -1 when it says nothing. */
static double rate_wait(const struct account *a, const struct http_transfer *t)
{
    double w = t->retry_after > 0 ? t->retry_after : -1;

    if (w < 0 && a->provider->reset_at && t->body) {
        json_object *root = json_tokener_parse(t->body);
        json_object *v = json_path(root, a->provider->reset_at);
        if (v && json_object_is_type(v, json_type_string)) {
            time_t at = parse_timestamp(json_object_get_string(v));
            if (at > 0)
                w = fmax(0.0, difftime(at, time(NULL))) + 0.05;
        }
        json_object_put(root);
    }
    return w;
}

void http_setup(CURL *h, const struct account *a, const struct curl_slist *headers, const char *url,
                const char *post_body, struct http_transfer *t, long timeout)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    if (a->cacert)
        curl_easy_setopt(h, CURLOPT_CAINFO, a->cacert);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t->curl_err);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION,
                     0L); /* the engine follows: see http_redirect_check */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, HTTP_CONNECT_TIMEOUT);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, HTTP_LOW_SPEED_TIME);
    if (timeout > 0)
        curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "campaignfs/" CAMPAIGNFS_VERSION);
    /* a Content-Length over the limit fails at once; a compressed or
     * chunked body is counted as it is decompressed, in on_body() */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)t->max_body);
    if (post_body) {
        curl_easy_setopt(h, CURLOPT_POST, 1L);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, post_body);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
}

bool http_is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

struct origin {
    char *scheme, *host, *port; /* the port made explicit */
};

static void origin_free(struct origin *o)
{
    curl_free(o->scheme);
    curl_free(o->host);
    curl_free(o->port);
}

/* The origin of url; 0, or -1 with as much as could be read (scheme first). */
static int origin_of(const char *url, struct origin *o)
{
    CURLU *u = curl_url();
    int rc = -1;

    memset(o, 0, sizeof(*o));
    if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &o->scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &o->host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        rc = 0;
    curl_url_cleanup(u);
    return rc;
}

static bool is_web(const char *scheme)
{
    return scheme && (strcasecmp(scheme, "http") == 0 || strcasecmp(scheme, "https") == 0);
}

int http_redirect_check(const char *origin_url, const char *from, const char *to, bool *same_origin,
                        char *what, size_t whatlen)
{
    struct origin o, f, t;
    int rc = -1, t_rc = origin_of(to, &t);

    origin_of(origin_url, &o);
    origin_of(from, &f);
    *same_origin = false;
    if (t.scheme && !is_web(t.scheme)) {
        snprintf(what, whatlen, "a redirect to a %s: address refused (only http and https)",
                 t.scheme);
    } else if (t_rc < 0) {
        snprintf(what, whatlen, "a redirect to an address campaignfs cannot read; not followed");
    } else if (f.scheme && strcasecmp(f.scheme, "https") == 0 &&
               strcasecmp(t.scheme, "http") == 0) {
        snprintf(what, whatlen, "a redirect from https to plain http refused");
    } else {
        *same_origin = o.port && strcasecmp(o.scheme, t.scheme) == 0 &&
                       strcasecmp(o.host, t.host) == 0 && strcmp(o.port, t.port) == 0;
        rc = 0;
    }
    origin_free(&o);
    origin_free(&f);
    origin_free(&t);
    return rc;
}

void http_transfer_free(struct http_transfer *t)
{
    size_t max_body = t->max_body;

    free(t->body);
    free(t->location);
    memset(t, 0, sizeof(*t));
    t->max_body = max_body;
}

static enum fetch_class body_class(enum body_verdict v)
{
    switch (v) {
    case BODY_OK:
        return FETCH_OK;
    case BODY_MALFORMED:
        return FETCH_PROTOCOL;
    case BODY_INVALID:
        return FETCH_INVALID;
    case BODY_FAILURE:
        return FETCH_CLIENT;
    case BODY_NOMEM:
        break;
    }
    return FETCH_INTERNAL;
}

enum fetch_class http_classify(const struct account *a, CURLcode rc, long status,
                               const struct http_transfer *t, const char *method, const char *url,
                               http_body_fn validate, void *ctx, struct fetch_error *err,
                               double *wait)
{
    enum fetch_class cls = FETCH_OK;
    bool unreachable = false, tls = false;
    char what[512] = "";

    *wait = -1;
    if (rc != CURLE_OK && t->no_mem) {
        cls = FETCH_INTERNAL;
        snprintf(what, sizeof(what), "out of memory while receiving the answer");
    } else if (t->too_big || rc == CURLE_FILESIZE_EXCEEDED) {
        cls = FETCH_INVALID;
        snprintf(what, sizeof(what),
                 "the answer is larger than -o max_body=%zu bytes (counted after "
                 "decompression); raise max_body if such answers are expected",
                 t->max_body);
    } else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE) {
        cls = FETCH_INVALID; /* asking again would meet the same certificate */
        tls = true;
        snprintf(what, sizeof(what),
                 "the server's TLS certificate does not verify (%s); if a private CA signs it, "
                 "name that CA's certificate with cacert = FILE",
                 *t->curl_err ? t->curl_err : curl_easy_strerror(rc));
    } else if (rc != CURLE_OK) {
        cls = rc == CURLE_OPERATION_TIMEDOUT ? FETCH_TIMEOUT : FETCH_NETWORK;
        unreachable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST;
        snprintf(what, sizeof(what), "%s", *t->curl_err ? t->curl_err : curl_easy_strerror(rc));
    } else if (status >= 200 && status < 300) {
        enum body_verdict v =
            validate ? validate(t->body ? t->body : "", t->len, ctx, what, sizeof(what)) : BODY_OK;
        cls = body_class(v);
    } else {
        char *msg = provider_error_message(a->provider, t->body, t->len);
        char *clean = msg ? account_redact(a, msg) : NULL;
        cls = status_class(status);
        snprintf(what, sizeof(what), "HTTP %ld: %s", status, clean ? clean : "(no message)");
        free(clean);
        free(msg);
        if (cls == FETCH_RATE)
            *wait = rate_wait(a, t);
    }
    if (cls != FETCH_OK) {
        http_set_error(err, a, method, url, cls, status, what);
        err->unreachable = unreachable;
        err->tls = tls;
    }
    return cls;
}
