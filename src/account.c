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

#include <openssl/rand.h>

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

/* A Kore.ai token for client_id signed with key, valid from now for
 * KOREAI_TOKEN_LIFETIME seconds; a random "jti" makes every token new, so
 * one signed again after a 401 differs even within the same second. */
static char *koreai_sign(const char *client_id, const char *key, time_t now, time_t *expires)
{
    json_object *claims = json_object_new_object();
    unsigned char nonce[12];
    char *payload, *token, *jti;

    if (!claims)
        return NULL;
    *expires = now + KOREAI_TOKEN_LIFETIME;
    jti = RAND_bytes(nonce, sizeof(nonce)) == 1 ? b64url_encode(nonce, sizeof(nonce)) : NULL;
    if (jti)
        json_object_object_add(claims, "jti", json_object_new_string(jti));
    free(jti);
    json_object_object_add(claims, "sub", json_object_new_string("campaignfs"));
    json_object_object_add(claims, "appId", json_object_new_string(client_id));
    json_object_object_add(claims, "iat", json_object_new_int64((int64_t)now));
    json_object_object_add(claims, "exp", json_object_new_int64((int64_t)*expires));
    payload = strdup(json_object_to_json_string_ext(claims, JSON_C_TO_STRING_PLAIN));
    json_object_put(claims);
    token = payload ? jwt_hs256_sign(payload, key, strlen(key)) : NULL;
    free(payload);
    return token;
}

/* The credential reference of the account (its key, or Kore.ai's ready token). */
static const struct secret_ref *credential_ref(const struct account_config *cfg)
{
    return cfg->provider->auth == AUTH_KOREAI ? &cfg->jwt : &cfg->api_key;
}

/* The value of the credential header (Kore.ai's token, "api-key KEY",
 * "Bearer KEY"), resolved from the config or signed with the kept key. */
static char *credential(const struct account *a, time_t *expires, char *err, size_t errlen)
{
    const struct account_config *cfg = a->cfg;
    char *secret, *value = NULL;

    *expires = 0;
    if (cfg->provider->auth == AUTH_KOREAI && a->sign_key) {
        value = koreai_sign(cfg->client_id, a->sign_key, time(NULL), expires);
        if (!value)
            snprintf(err, errlen, "%s: [%s] could not sign the Kore.ai token (out of memory)",
                     a->config_path, cfg->name);
        return value;
    }
    secret = secret_resolve(credential_ref(cfg), cfg->name, a->config_path, err, errlen);
    if (!secret || cfg->provider->auth == AUTH_KOREAI)
        return secret;
    if (asprintf(&value, "%s %s", cfg->provider->auth == AUTH_API_KEY ? "api-key" : "Bearer",
                 secret) < 0)
        value = NULL;
    secret_free(secret);
    if (!value)
        snprintf(err, errlen, "out of memory");
    return value;
}

/* A copy of list with "Content-Type: application/json" added, for POSTs. */
static struct curl_slist *with_content_type(const struct curl_slist *list)
{
    struct curl_slist *out = NULL;

    for (const struct curl_slist *h = list; h; h = h->next) {
        struct curl_slist *n = curl_slist_append(out, h->data);
        if (!n) {
            headers_free(out);
            return NULL;
        }
        out = n;
    }
    return curl_slist_append(out, "Content-Type: application/json");
}

static struct auth_headers *auth_new(const struct account *a, const char *value, time_t expires)
{
    const struct account_config *cfg = a->cfg;
    struct auth_headers *set = calloc(1, sizeof(*set));
    struct curl_slist *h = set ? curl_slist_append(NULL, "Accept: application/json") : NULL;

    if (h && cfg->provider->auth == AUTH_KOREAI) {
        h = header_add(h, "auth", value);
        h = h ? header_add(h, "iid", cfg->stream_id) : NULL;
        h = h ? header_add(h, "accountId", cfg->account_id) : NULL;
    } else if (h) {
        h = header_add(h, "Authorization", value);
    }
    if (h)
        set->post = with_content_type(h);
    if (!h || !set->post) {
        headers_free(h);
        free(set);
        return NULL;
    }
    set->get = h;
    set->refs = 1;
    set->expires = expires;
    return set;
}

struct auth_headers *auth_headers_ref(struct auth_headers *h)
{
    h->refs++;
    return h;
}

void auth_headers_unref(struct auth_headers *h)
{
    if (!h || --h->refs > 0)
        return;
    headers_free(h->get);
    headers_free(h->post);
    free(h);
}

/* Whether two header sets carry the same credential. */
static bool auth_same(const struct auth_headers *x, const struct auth_headers *y)
{
    const struct curl_slist *p = x->get, *q = y->get;

    for (; p && q; p = p->next, q = q->next)
        if (strcmp(p->data, q->data) != 0)
            return false;
    return !p && !q;
}

bool account_auth_due(const struct account *a, time_t now)
{
    return a->sign_key && a->auth && a->auth->expires > 0 &&
           now >= a->auth->expires - KOREAI_TOKEN_RENEW_BEFORE;
}

int account_renew_auth(struct account *a, char *err, size_t errlen)
{
    struct auth_headers *set;
    time_t expires;
    char *value;

    if (!a->sign_key && credential_ref(a->cfg)->source != SECRET_FILE)
        return 0;
    value = credential(a, &expires, err, errlen);
    if (!value)
        return -1;
    set = auth_new(a, value, expires);
    secret_free(value);
    if (!set) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (a->auth && auth_same(set, a->auth)) {
        auth_headers_unref(set);
        return 0;
    }
    auth_headers_unref(a->auth);
    a->auth = set;
    a->auth_gen++;
    return 1;
}

/* text (consumed) with every occurrence of needle replaced by a mark; the
 * search goes on after each mark, so a needle inside the mark cannot loop. */
static char *replace_all(char *text, const char *needle)
{
    static const char mark[] = "[redacted]";
    size_t n = strlen(needle), from = 0;
    char *hit, *out;

    while ((hit = strstr(text + from, needle))) {
        size_t at = (size_t)(hit - text);
        if (asprintf(&out, "%.*s%s%s", (int)at, text, mark, hit + n) < 0) {
            secret_free(text);
            return NULL;
        }
        secret_free(text);
        text = out;
        from = at + sizeof(mark) - 1;
    }
    return text;
}

char *account_redact(const struct account *a, const char *text)
{
    char *out = strdup(text);

    for (const struct curl_slist *h = a->auth ? a->auth->get : NULL; out && h; h = h->next) {
        const char *value = strstr(h->data, ": ");
        const char *word;
        if (!value || strncmp(h->data, "Accept:", 7) == 0)
            continue;
        value += 2;
        word = strrchr(value, ' ');
        word = word ? word + 1 : value;
        if (strlen(word) >= 6) /* the key without "Bearer ", then the whole value */
            out = replace_all(out, word);
        if (out && strlen(value) >= 6)
            out = replace_all(out, value);
    }
    if (out && a->sign_key && strlen(a->sign_key) >= 6)
        out = replace_all(out, a->sign_key);
    return out;
}

/* The headers sent to another origin than the account's: no credential. */
static int plain_headers(struct account *a)
{
    a->plain_get = curl_slist_append(NULL, "Accept: application/json");
    a->plain_post = a->plain_get ? with_content_type(a->plain_get) : NULL;
    return a->plain_post ? 0 : -1;
}

/* The credential headers, at mount: the Kore.ai client secret is kept to
 * re-sign the token before it expires. */
static int open_auth(struct account *a, const struct account_config *cfg, char *err, size_t errlen)
{
    time_t expires;
    char *value;

    if (cfg->provider->auth == AUTH_KOREAI && cfg->jwt.source == SECRET_NONE) {
        a->sign_key = secret_resolve(&cfg->client_secret, cfg->name, a->config_path, err, errlen);
        if (!a->sign_key)
            return -1;
    }
    value = credential(a, &expires, err, errlen);
    if (!value)
        return -1;
    a->auth = auth_new(a, value, expires);
    secret_free(value);
    if (!a->auth || plain_headers(a) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
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
    pthread_mutex_init(&a->errors_lock, NULL);
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
    a->cfg = cfg;
    a->cacert = cfg->cacert ? strdup(cfg->cacert) : NULL;
    if (cfg->cacert && !a->cacert) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (open_auth(a, cfg, err, errlen) < 0)
        return -1;
    if (p->auth == AUTH_KOREAI) {
        a->stream_esc = curl_easy_escape(NULL, cfg->stream_id, 0);
        a->account_id_esc = curl_easy_escape(NULL, cfg->account_id, 0);
    }
    bucket_init(&a->bucket, rate);
    a->concurrency = cfg->concurrency > 0 ? cfg->concurrency : ACCOUNT_DEFAULT_CONCURRENCY;
    a->window = a->concurrency;
    return 0;
}

void account_note_error(struct account *a, const struct fetch_error *err)
{
    struct account_errors *e;

    if (err->cancelled || err->cls <= FETCH_OK || err->cls >= FETCH_CLASS_COUNT)
        return;
    pthread_mutex_lock(&a->errors_lock);
    e = &a->errors[err->cls];
    e->count++;
    e->last_at = time(NULL);
    snprintf(e->last_message, sizeof(e->last_message), "%s", err->message);
    pthread_mutex_unlock(&a->errors_lock);
}

void account_errors_get(struct account *a, struct account_errors out[FETCH_CLASS_COUNT])
{
    pthread_mutex_lock(&a->errors_lock);
    memcpy(out, a->errors, sizeof(a->errors));
    pthread_mutex_unlock(&a->errors_lock);
}

void account_close(struct account *a)
{
    pthread_mutex_destroy(&a->errors_lock);
    rate_bucket_destroy(&a->bucket);
    auth_headers_unref(a->auth);
    headers_free(a->plain_get);
    headers_free(a->plain_post);
    if (a->sign_key)
        secret_free(a->sign_key);
    free(a->cacert);
    curl_free(a->stream_esc);
    curl_free(a->account_id_esc);
    free(a->name);
    free(a->url);
    free(a->config_path);
    memset(a, 0, sizeof(*a));
}
