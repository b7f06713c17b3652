/**
 * @file reqlog.c
 * The request ring and its JSON.
 */
#include "reqlog.h"

#include "data.h"
#include "jsonx.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Longer targets are cut (and end in "...") in the log. */
#define PATH_MAX_LOGGED 4096

struct reqlog_entry {
    unsigned long long seq;
    double t_ms, done_ms; /* done_ms < 0: not answered yet */
    int prov;
    char method[16];
    char key[9]; /* "" if none */
    char *path;
    struct reqlog_end end;
};

double reqlog_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void reqlog_key(const char *secret, char out[9])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    out[0] = '\0';
    if (!EVP_Digest(secret, strlen(secret), md, &n, EVP_sha256(), NULL) || n < 4)
        return;
    snprintf(out, 9, "%02x%02x%02x%02x", md[0], md[1], md[2], md[3]);
}

int reqlog_init(struct reqlog *l, size_t size)
{
    l->size = size;
    l->next = 0;
    l->ring = size ? calloc(size, sizeof(*l->ring)) : NULL;
    if (size && !l->ring)
        return -1;
    if (pthread_mutex_init(&l->lock, NULL) != 0) {
        free(l->ring);
        return -1;
    }
    return 0;
}

void reqlog_destroy(struct reqlog *l)
{
    for (size_t i = 0; i < l->size; i++)
        free(l->ring[i].path);
    free(l->ring);
    l->ring = NULL;
    pthread_mutex_destroy(&l->lock);
}

/* The target as JSON-safe text: bytes outside printable ASCII as %XX. */
static char *loggable(const char *target)
{
    size_t n = strlen(target), kept = n < PATH_MAX_LOGGED ? n : PATH_MAX_LOGGED, o = 0;
    char *out = malloc(kept * 3 + 4);

    if (!out)
        return NULL;
    for (size_t i = 0; i < kept; i++) {
        unsigned char c = (unsigned char)target[i];
        if (c < 0x20 || c >= 0x7f)
            o += (size_t)snprintf(out + o, 4, "%%%02X", c);
        else
            out[o++] = (char)c;
    }
    strcpy(out + o, kept < n ? "..." : "");
    return out;
}

unsigned long long reqlog_begin(struct reqlog *l, const struct reqlog_start *st)
{
    char *path = l->size ? loggable(st->target) : NULL;
    unsigned long long seq;

    pthread_mutex_lock(&l->lock);
    seq = l->next++;
    if (l->size) {
        struct reqlog_entry *e = &l->ring[seq % l->size];
        free(e->path);
        memset(e, 0, sizeof(*e));
        e->seq = seq;
        e->t_ms = st->t_ms;
        e->done_ms = -1;
        e->prov = st->prov;
        snprintf(e->method, sizeof(e->method), "%s", st->method);
        snprintf(e->key, sizeof(e->key), "%s", st->key ? st->key : "");
        e->path = path;
        path = NULL;
    }
    pthread_mutex_unlock(&l->lock);
    free(path);
    return seq;
}

void reqlog_finish(struct reqlog *l, unsigned long long seq, double done_ms,
                   const struct reqlog_end *end)
{
    pthread_mutex_lock(&l->lock);
    if (l->size && l->ring[seq % l->size].seq == seq) {
        l->ring[seq % l->size].done_ms = done_ms;
        l->ring[seq % l->size].end = *end;
    }
    pthread_mutex_unlock(&l->lock);
}

static void add_ms(json_object *o, const char *key, double ms)
{
    char text[40];

    if (ms < 0) {
        jadd_null(o, key);
        return;
    }
    snprintf(text, sizeof(text), "%.3f", ms);
    jadd_num(o, key, ms, text);
}

static json_object *entry_json(const struct reqlog_entry *e)
{
    json_object *o = json_object_new_object();
    bool done = e->done_ms >= 0;

    jadd_int(o, "seq", (long long)e->seq);
    add_ms(o, "t_ms", e->t_ms);
    add_ms(o, "done_ms", e->done_ms);
    jadd_str(o, "provider", e->prov >= 0 ? sim_prov_names[e->prov] : NULL);
    jadd_str(o, "method", e->method);
    jadd_str(o, "path", e->path);
    if (done && e->end.status)
        jadd_int(o, "status", e->end.status);
    else
        jadd_null(o, "status");
    jadd_str(o, "fault", done && e->end.fault ? fault_name(e->end.fault) : NULL);
    jadd_bool(o, "override", done && e->end.override);
    jadd_str(o, "key", e->key[0] ? e->key : NULL);
    if (done && e->end.retry_after >= 0)
        jadd_int(o, "retry_after", e->end.retry_after);
    else
        jadd_null(o, "retry_after");
    if (done && e->end.reset_at > 0)
        jadd_int(o, "reset_at", (long long)e->end.reset_at);
    else
        jadd_null(o, "reset_at");
    add_ms(o, "not_before_ms", done && e->end.not_before_ms > 0 ? e->end.not_before_ms : -1);
    return o;
}

json_object *reqlog_json(struct reqlog *l, unsigned long long since, size_t limit)
{
    json_object *o = json_object_new_object(), *list = json_object_new_array();
    unsigned long long oldest, seq;

    pthread_mutex_lock(&l->lock);
    oldest = l->next > l->size ? l->next - l->size : 0;
    seq = since > oldest ? since : oldest;
    if (seq > l->next)
        seq = l->next;
    for (; seq < l->next && limit > 0; seq++, limit--)
        json_object_array_add(list, entry_json(&l->ring[seq % l->size]));
    pthread_mutex_unlock(&l->lock);
    jadd(o, "requests", list);
    jadd_int(o, "next", (long long)seq);
    jadd_int(o, "oldest", (long long)oldest);
    return o;
}
