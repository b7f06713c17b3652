/**
 * @file account.c
 * Account set-up: credentials to headers (the secret lives only in the
 * header list, in memory), the rate bucket and the concurrency limit.
 */
#include "account.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jwt.h"
#include "secret.h"

/* Frees a header list after overwriting every line: they hold the credential. */
static void headers_free(struct curl_slist *list)
{
    for (struct curl_slist *h = list; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(list);
}

static struct curl_slist *header_add(struct curl_slist *list, const char *name, const char *value)
{
    char *line = NULL;
    struct curl_slist *out;

    if (asprintf(&line, "%s: %s", name, value) < 0)
        return NULL;
    out = curl_slist_append(list, line);
    explicit_bzero(line, strlen(line));
    free(line);
    if (!out)
        headers_free(list);
    return out;
}

static char *koreai_token(const struct account_config *cfg, const char *config_path, char *err,
                          size_t errlen)
{
    char *secret, *payload = NULL, *token;
    json_object *claims;

    if (cfg->jwt.source != SECRET_NONE)
        return secret_resolve(&cfg->jwt, cfg->name, config_path, err, errlen);
    secret = secret_resolve(&cfg->client_secret, cfg->name, config_path, err, errlen);
    if (!secret)
        return NULL;
    claims = json_object_new_object();
    json_object_object_add(claims, "sub", json_object_new_string("campaignfs"));
    json_object_object_add(claims, "appId", json_object_new_string(cfg->client_id));
    json_object_object_add(claims, "iat", json_object_new_int64((int64_t)time(NULL)));
    payload = strdup(json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN));
    json_object_put(claims);
    token = payload ? jwt_hs256_sign(payload, secret, strlen(secret)) : NULL;
    free(payload);
    secret_free(secret);
    if (!token)
        snprintf(err, errlen, "%s: [%s] could not sign the Kore.ai token (out of memory)",
                 config_path, cfg->name);
    return token;
}

static struct curl_slist *auth_headers(const struct account_config *cfg, const char *config_path,
                                       char *err, size_t errlen)
{
    const struct provider *p = cfg->provider;
    struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
    char *secret, *value = NULL;

    if (p->auth == AUTH_KOREAI) {
        secret = koreai_token(cfg, config_path, err, errlen);
        if (!secret)
            goto fail;
        h = header_add(h, "auth", secret);
        h = h ? header_add(h, "iid", cfg->stream_id) : NULL;
        h = h ? header_add(h, "accountId", cfg->account_id) : NULL;
        secret_free(secret);
        return h;
    }
    secret = secret_resolve(&cfg->api_key, cfg->name, config_path, err, errlen);
    if (!secret)
        goto fail;
    if (asprintf(&value, "%s %s", p->auth == AUTH_API_KEY ? "api-key" : "Bearer", secret) < 0)
        value = NULL;
    secret_free(secret);
    if (!value)
        goto fail;
    h = header_add(h, "Authorization", value);
    secret_free(value);
    return h;
fail:
    headers_free(h);
    return NULL;
}

/* The same headers plus Content-Type, for POST requests. */
static struct curl_slist *post_headers(const struct curl_slist *headers)
{
    struct curl_slist *out = NULL;

    for (const struct curl_slist *h = headers; h; h = h->next) {
        struct curl_slist *n = curl_slist_append(out, h->data);
        if (!n) {
            headers_free(out);
            return NULL;
        }
        out = n;
    }
    return curl_slist_append(out, "Content-Type: application/json");
}

/* The bucket bursts at most three quarters of a second's worth, so that
 * up to a quarter of a second of network jitter between campaignfs and the
 * provider never lets a burst arrive faster than a provider's bucket of one
 * second refills.  A limit that leaves no burst at all (below 2/s, such as
 * Truedy's 100/min, which it counts in fixed windows) is kept 2 % under,
 * for the same reason. */
static void bucket_init(struct rate_bucket *b, double rate)
{
    if (rate > 0 && rate < 2)
        rate *= 0.98;
    rate_bucket_init(b, rate, rate >= 2 ? floor(rate * 0.75) : 1);
}

int account_open(struct account *a, const struct account_config *cfg, const char *config_path,
                 long default_ttl, char *err, size_t errlen)
{
    const struct provider *p = cfg->provider;
    double rate = cfg->rate_limit >= 0 ? cfg->rate_limit : p->default_rate;

    memset(a, 0, sizeof(*a));
    a->name = strdup(cfg->name);
    a->provider = p;
    a->url = strdup(cfg->url ? cfg->url : p->default_url);
    a->config_path = strdup(config_path);
    a->ttl = cfg->ttl >= 0 ? cfg->ttl : default_ttl;
    a->campaigns = cfg->campaigns;
    if (!a->name || !a->url || !a->config_path) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    a->headers = auth_headers(cfg, config_path, err, errlen);
    if (!a->headers)
        return -1;
    a->post_headers = post_headers(a->headers);
    if (!a->post_headers) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (p->auth == AUTH_KOREAI) {
        a->stream_esc = curl_easy_escape(NULL, cfg->stream_id, 0);
        a->account_id_esc = curl_easy_escape(NULL, cfg->account_id, 0);
    }
    bucket_init(&a->bucket, rate);
    a->concurrency = cfg->concurrency > 0 ? cfg->concurrency : ACCOUNT_DEFAULT_CONCURRENCY;
    a->window = a->concurrency;
    return 0;
}

void account_close(struct account *a)
{
    rate_bucket_destroy(&a->bucket);
    headers_free(a->headers);
    headers_free(a->post_headers);
    curl_free(a->stream_esc);
    curl_free(a->account_id_esc);
    free(a->name);
    free(a->url);
    free(a->config_path);
    memset(a, 0, sizeof(*a));
}
