/**
 * @file server.c
 * The HTTP side: one libmicrohttpd daemon (HTTPS with --tls-cert), a
 * thread per connection (so a slow answer never stalls the others).  Each
 * API request is routed to its provider by path prefix and to an endpoint
 * by pattern, is entered in the request log (from then on it counts as in
 * flight), may be held by a /_sim/hold rule, gets a sequence number, may
 * be answered or hung by a /_sim/override rule, else may be given a fault,
 * is authenticated and rate limited, is answered by its handler under the
 * world's read lock, waits the configured latency, and is counted (with
 * the fault, override or redirect it was actually served) and logged just
 * before its answer is queued.  /_sim/ goes to control.c untouched.
 */
#include "sim.h"

#include "control.h"
#include "log.h"

#include <arpa/inet.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BODY (1 << 20)

const struct api *const sim_apis[SIM_NPROV] = {&altur_api, &burki_api, &truedy_api, &koreai_api};

struct conn_ctx {
    char *uri; /* the request target as sent */
    char *body;
    size_t len, cap;
    bool too_big;
    bool started; /* the access handler has seen the request */
    double t_ms;  /* when it arrived (CLOCK_MONOTONIC ms) */
};

/* What the dispatcher learned about a request, for counting, faults and
 * the request log. */
struct routing {
    int prov;     /* -1: under no provider's prefix */
    int endpoint; /* -1: no endpoint matched */
    bool wrong_method;
    enum fault fault;          /* the fault drawn for it */
    int retry_after;           /* of a 429 fault */
    enum fault served;         /* the fault it was actually served */
    bool held;                 /* by a /_sim/hold rule */
    bool override;             /* answered or hung by a /_sim/override rule */
    struct override *hang;     /* the rule that hangs it */
    unsigned long long logged; /* its number in the request log */
};

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- routing ---- */

static bool has_prefix(const char *url, const char *prefix)
{
    size_t n = strlen(prefix);

    return strncmp(url, prefix, n) == 0 && (url[n] == '/' || url[n] == '\0');
}

static int find_provider(const char *url)
{
    for (int p = 0; p < SIM_NPROV; p++) {
        if (has_prefix(url, sim_apis[p]->prefix))
            return p;
    }
    return -1;
}

/* Matches path against pattern ('*' = one non-empty segment, captured). */
static bool match(const char *pattern, const char *path, struct request *rq)
{
    size_t ncap = 0;

    while (*pattern) {
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= REQ_CAP_SIZE || ncap >= REQ_MAX_CAPS)
                return false;
            memcpy(rq->cap[ncap], path, n);
            rq->cap[ncap++][n] = '\0';
            path += n;
            pattern++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *path == '\0';
}

static int find_endpoint(const struct api *api, struct request *rq, bool *wrong_method)
{
    for (size_t e = 0; e < api->nendpoints; e++) {
        if (!match(api->endpoints[e].pattern, rq->rel, rq))
            continue;
        if (strcmp(api->endpoints[e].method, rq->method) == 0)
            return (int)e;
        *wrong_method = true;
    }
    return -1;
}

/* ---- answering ---- */

static void answer_fault(struct sim *s, const struct api *api, struct request *rq, struct reply *rp,
                         const struct routing *rt)
{
    if (rt->fault == FAULT_5XX) {
        bool unavailable = fault_detail(s->opt.data.seed, rq->seq) & 1;
        api->error(rq, rp, unavailable ? 503 : 500,
                   unavailable ? "Service temporarily unavailable" : "Internal server error");
        return;
    }
    api->throttled(rq, rp, rt->retry_after, wall_now() + rt->retry_after,
                   s->limiter.truedy.limit ? s->limiter.truedy.limit : 100);
}

static void answer_api(struct sim *s, const struct api *api, struct request *rq, struct reply *rp,
                       struct routing *rt)
{
    const struct endpoint *ep;
    double wait = 0, reset_at = 0;
    long limit = 0;

    if (rt->fault == FAULT_5XX || rt->fault == FAULT_429) {
        answer_fault(s, api, rq, rp, rt);
        rt->served = rt->fault;
        return;
    }
    if (rt->endpoint < 0) {
        api->error(rq, rp, rt->wrong_method ? 405 : 404,
                   rt->wrong_method ? "Method Not Allowed" : "Not Found");
        return;
    }
    if (rq->body_too_large) {
        api->error(rq, rp, 413, "Request body too large");
        return;
    }
    ep = &api->endpoints[rt->endpoint];
    if (!ep->public_ && api->authenticate(rq, rp) < 0)
        return;
    if (!ep->public_ && limiter_take(&s->limiter, api->id, &wait, &reset_at, &limit) < 0) {
        api->throttled(rq, rp, wait, reset_at, limit);
        return;
    }
    pthread_rwlock_rdlock(&s->world.lock);
    ep->fn(rq, rp);
    pthread_rwlock_unlock(&s->world.lock);
    if (rq->overlap_served)
        rt->served = FAULT_OVERLAP;
}

static void answer_unrouted(struct reply *rp)
{
    json_object *o = json_object_new_object();

    jadd_str(o, "detail", "Not Found");
    reply_json(rp, 404, o);
}

static void route(struct request *rq, struct routing *rt)
{
    rt->prov = find_provider(rq->url);
    rt->endpoint = -1;
    rt->wrong_method = false;
    rt->fault = FAULT_NONE;
    if (rt->prov < 0)
        return;
    rq->rel = rq->url + strlen(sim_apis[rt->prov]->prefix);
    rt->endpoint = find_endpoint(sim_apis[rt->prov], rq, &rt->wrong_method);
}

/* Numbers a routed request, lets an override answer it or decides its
 * fault, and answers it. */
static void dispatch(struct sim *s, struct request *rq, struct reply *rp, struct routing *rt)
{
    rq->seq = atomic_fetch_add(&s->seq, 1);
    if (override_take(&s->overrides, rq->target, atomic_load(&s->port), rp, &rt->hang) !=
        OVERRIDE_NONE) {
        rt->override = true;
        return;
    }
    if (rt->prov < 0) {
        answer_unrouted(rp);
        return;
    }
    rt->fault = sim_fault(s, rq->seq, &rt->retry_after);
    rq->overlap = rt->fault == FAULT_OVERLAP;
    answer_api(s, sim_apis[rt->prov], rq, rp, rt);
}

/* Waits while a /_sim/hold rule holds "METHOD target[ body]". */
static bool hold_request(struct sim *s, const struct request *rq)
{
    char *text = NULL;
    bool held;

    if (!hold_active(&s->holds))
        return false;
    if (asprintf(&text, "%s %s%s%s", rq->method, rq->target, rq->body_len ? " " : "", rq->body) < 0)
        return false;
    held = hold_wait(&s->holds, text);
    free(text);
    return held;
}

static void serve_api(struct sim *s, struct request *rq, struct reply *rp, struct routing *rt)
{
    rt->held = hold_request(s, rq);
    dispatch(s, rq, rp, rt);
    if (rt->hang)
        return;
    hold_sleep_ms(&s->holds, s->opt.latency_ms + (rt->fault == FAULT_SLOW ? s->opt.slow_ms : 0));
    if (rt->fault == FAULT_SLOW)
        rt->served = FAULT_SLOW;
}

/* ---- the request log and the counters ---- */

/* The log's name of the credential rq presents, "" if none. */
static void credential_key(const struct request *rq, int prov, char out[9])
{
    const struct api *api = prov >= 0 ? sim_apis[prov] : NULL;
    const char *v = api && api->key_header ? rq_header(rq, api->key_header) : NULL;
    size_t n = api && api->key_scheme ? strlen(api->key_scheme) : 0;

    if (v && n && strncasecmp(v, api->key_scheme, n) == 0)
        v += n;
    if (!v && api && api->key_query)
        v = rq_query(rq, api->key_query);
    out[0] = '\0';
    if (v && *v)
        reqlog_key(v, out);
}

static void log_begin(struct sim *s, const struct request *rq, struct routing *rt, double t_ms)
{
    char key[9] = "";
    struct reqlog_start st = {
        .t_ms = t_ms, .prov = rt->prov, .method = rq->method, .target = rq->target, .key = key};

    if (s->log.size)
        credential_key(rq, rt->prov, key);
    rt->logged = reqlog_begin(&s->log, &st);
}

/* Retry-After as sent: the simulator's own, or an override's header. */
static int retry_after_sent(const struct reply *rp)
{
    for (size_t i = 0; rp->retry_after < 0 && i < rp->nheaders; i++) {
        if (!strcasecmp(rp->headers[i].name, "Retry-After") && is_digits(rp->headers[i].value))
            return atoi(rp->headers[i].value);
    }
    return rp->retry_after;
}

/* Counts and logs an API request's answer (status 0: none) just before it
 * is queued, so that whoever sees the answer sees the counts. */
static void finish_api(struct sim *s, const struct reply *rp, const struct routing *rt, int status)
{
    double done = reqlog_now_ms();
    struct reqlog_end end = {.status = status,
                             .fault = rt->served,
                             .override = rt->override,
                             .retry_after = status ? retry_after_sent(rp) : -1,
                             .reset_at = status ? rp->reset_at : 0};

    if (end.retry_after >= 0)
        end.not_before_ms = done + end.retry_after * 1e3;
    else if (end.reset_at > 0)
        end.not_before_ms = done + fmax(0, end.reset_at - wall_now()) * 1e3;
    stats_count(&s->stats, rt->prov, rt->endpoint);
    stats_served(&s->stats, rt->prov, rt->served);
    if (rt->override)
        stats_served(&s->stats, rt->prov, SERVED_OVERRIDE);
    if (status >= 300 && status < 400)
        stats_served(&s->stats, rt->prov, SERVED_REDIRECT);
    reqlog_finish(&s->log, rt->logged, done, &end);
}

/* ---- responses, with the body-level faults ---- */

struct partial {
    char *body;
    size_t cut;
};

static ssize_t partial_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct partial *p = cls;
    size_t n;

    if (pos >= p->cut)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = p->cut - (size_t)pos < max ? p->cut - (size_t)pos : max;
    memcpy(buf, p->body + pos, n);
    return (ssize_t)n;
}

static void partial_free(void *cls)
{
    struct partial *p = cls;

    free(p->body);
    free(p);
}

/* Sends the first half of the body, then drops the connection. */
static struct MHD_Response *reset_response(struct reply *rp)
{
    struct partial *p = malloc(sizeof(*p));
    struct MHD_Response *r;

    if (!p)
        return NULL;
    p->body = rp->body;
    p->cut = rp->len / 2;
    rp->body = NULL;
    r = MHD_create_response_from_callback(rp->len, 4096, partial_read, p, partial_free);
    if (!r)
        partial_free(p);
    return r;
}

static void make_malformed(struct reply *rp)
{
    char *bad = NULL;
    int n = asprintf(&bad, "{\"campaignfs-sim\": malformed, %.*s", (int)rp->len,
                     rp->body[0] == '{' ? rp->body + 1 : rp->body);

    if (n < 0)
        return;
    free(rp->body);
    rp->body = bad;
    rp->len = (size_t)n;
}

/* The response with fault f applied to the body (noted in rt->served). */
static struct MHD_Response *build_body(struct sim *s, struct request *rq, struct reply *rp,
                                       enum fault f, struct routing *rt)
{
    struct MHD_Response *r;

    if (!rp->body) {
        rp->status = 500;
        rp->body = strdup("{}");
        rp->len = 2;
    }
    if (f == FAULT_RESET && rp->len > 0) { /* an empty body would arrive whole */
        rt->served = FAULT_RESET;
        return reset_response(rp);
    }
    if (f == FAULT_TRUNCATE && rp->len > 1) {
        rp->len = 1 + (size_t)(fault_detail(s->opt.data.seed, rq->seq) % (rp->len - 1));
        rt->served = FAULT_TRUNCATE;
    }
    if (f == FAULT_MALFORMED && rp->len > 0) {
        make_malformed(rp);
        rt->served = FAULT_MALFORMED;
    }
    r = MHD_create_response_from_buffer_with_free_callback(rp->len, rp->body, free);
    if (r)
        rp->body = NULL;
    return r;
}

static bool has_extra_header(const struct reply *rp, const char *name)
{
    for (size_t i = 0; i < rp->nheaders; i++) {
        if (!strcasecmp(rp->headers[i].name, name))
            return true;
    }
    return false;
}

static void add_headers(struct MHD_Response *r, const struct reply *rp, size_t len)
{
    char num[24];

    if (rp->content_type && *rp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rp->content_type);
    else if (!rp->content_type && len > 0 && !has_extra_header(rp, "Content-Type"))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    if (rp->location)
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rp->location);
    if (rp->retry_after >= 0) {
        snprintf(num, sizeof(num), "%d", rp->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, num);
    }
    for (size_t i = 0; i < rp->nheaders; i++)
        MHD_add_response_header(r, rp->headers[i].name, rp->headers[i].value);
}

static struct MHD_Response *build_response(struct sim *s, struct request *rq, struct reply *rp,
                                           struct routing *rt)
{
    size_t len = rp->len;
    struct MHD_Response *r = build_body(s, rq, rp, rt->fault, rt);

    if (r)
        add_headers(r, rp, len);
    return r;
}

/* ---- the MHD callbacks ---- */

static int collect_body(struct conn_ctx *ctx, const char *data, size_t size)
{
    if (ctx->too_big || ctx->len + size > MAX_BODY) {
        ctx->too_big = true;
        return 0;
    }
    if (ctx->len + size + 1 > ctx->cap) {
        size_t cap = (ctx->len + size + 1) * 2;
        char *b = realloc(ctx->body, cap);
        if (!b)
            return -1;
        ctx->body = b;
        ctx->cap = cap;
    }
    memcpy(ctx->body + ctx->len, data, size);
    ctx->len += size;
    ctx->body[ctx->len] = '\0';
    return 0;
}

static enum MHD_Result queue(struct request *rq, struct reply *rp, struct MHD_Response *r)
{
    enum MHD_Result ret = r ? MHD_queue_response(rq->conn, (unsigned)rp->status, r) : MHD_NO;

    if (r)
        MHD_destroy_response(r);
    reply_free(rp);
    return ret;
}

static void log_verbose(const struct request *rq, const struct reply *rp, const struct routing *rt)
{
    log_info("%s %s -> %d%s%s%s%s%s", rq->method, rq->url, rt->hang ? 0 : rp->status,
             rt->served ? " fault=" : "", rt->served ? fault_name(rt->served) : "",
             rt->override ? " (override)" : "", rt->hang ? " (hung, no answer)" : "",
             rt->held ? " (was held)" : "");
}

/* An API request from its routing to its queued answer (or, when hung, to
 * the end of the hang and no answer). */
static enum MHD_Result serve_routed(struct sim *s, struct request *rq, struct conn_ctx *ctx)
{
    struct reply rp = {.status = 500, .retry_after = -1};
    struct routing rt = {.prov = -1, .endpoint = -1};
    struct MHD_Response *r = NULL;
    enum MHD_Result ret;

    route(rq, &rt);
    log_begin(s, rq, &rt, ctx->t_ms);
    if (rt.prov >= 0)
        stats_enter(&s->stats, rt.prov);
    serve_api(s, rq, &rp, &rt);
    if (rt.hang) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        override_hang(&s->overrides, rt.hang, ci ? ci->connect_fd : -1);
        finish_api(s, &rp, &rt, 0);
    } else {
        r = build_response(s, rq, &rp, &rt);
        finish_api(s, &rp, &rt, r ? rp.status : 0);
    }
    if (s->opt.verbose)
        log_verbose(rq, &rp, &rt);
    ret = queue(rq, &rp, r);
    if (rt.prov >= 0)
        stats_leave(&s->stats, rt.prov);
    return ret;
}

static enum MHD_Result serve(struct sim *s, struct MHD_Connection *conn, const char *url,
                             const char *method, struct conn_ctx *ctx)
{
    struct request rq = {.sim = s,
                         .conn = conn,
                         .method = method,
                         .url = url,
                         .target = ctx->uri ? ctx->uri : url,
                         .rel = url,
                         .body = ctx->body ? ctx->body : "",
                         .body_len = ctx->len,
                         .body_too_large = ctx->too_big};
    struct reply rp = {.status = 500, .retry_after = -1};
    struct routing none = {.prov = -1, .endpoint = -1};

    if (strncmp(url, CONTROL_PREFIX, strlen(CONTROL_PREFIX)) != 0)
        return serve_routed(s, &rq, ctx);
    control_handle(&rq, &rp);
    if (s->opt.verbose)
        log_verbose(&rq, &rp, &none);
    return queue(&rq, &rp, build_response(s, &rq, &rp, &none));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    struct conn_ctx *ctx = *con_cls;

    (void)version;
    if (!ctx)
        return MHD_NO;
    if (!ctx->started) {
        ctx->started = true;
        return MHD_YES;
    }
    if (*upload_size) {
        if (collect_body(ctx, upload_data, *upload_size) < 0)
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    return serve(cls, conn, url, method, ctx);
}

/* Called once per request before its URI is parsed: the request's context,
 * with the target exactly as sent (for the hold and override rules) and
 * the time it arrived. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct conn_ctx *ctx = calloc(1, sizeof(*ctx));

    (void)cls;
    (void)conn;
    if (ctx) {
        ctx->uri = strdup(uri);
        ctx->t_ms = reqlog_now_ms();
    }
    return ctx;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct conn_ctx *ctx = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (ctx) {
        free(ctx->uri);
        free(ctx->body);
    }
    free(ctx);
    *con_cls = NULL;
}

/* libmicrohttpd's messages: logged with -v; while the daemon starts, the
 * last one is also kept for the error message if it fails. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct sim *s = cls;
    char msg[sizeof(s->mhd_error)];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    msg[strcspn(msg, "\n")] = '\0';
    if (atomic_load(&s->starting)) {
        pthread_mutex_lock(&s->faults_lock);
        memcpy(s->mhd_error, msg, sizeof(msg));
        pthread_mutex_unlock(&s->faults_lock);
    }
    if (s->opt.verbose)
        log_debug("libmicrohttpd: %s", msg);
}

/* ---- lifecycle ---- */

static int listen_addr(const struct sim_options *o, struct sockaddr_storage *ss, bool *v6)
{
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    *v6 = false;
    if (inet_pton(AF_INET, o->host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)o->port);
        return 0;
    }
    if (inet_pton(AF_INET6, o->host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)o->port);
        *v6 = true;
        return 0;
    }
    return -1;
}

/* Why the daemon did not start, for the error message. */
static void start_failed(struct sim *s)
{
    char why[sizeof(s->mhd_error)];

    pthread_mutex_lock(&s->faults_lock);
    memcpy(why, s->mhd_error, sizeof(why));
    pthread_mutex_unlock(&s->faults_lock);
    if (s->opt.tls_cert_pem && strstr(why, "TLS"))
        fprintf(stderr,
                "campaignfs-sim: cannot serve HTTPS: --tls-cert %s and --tls-key %s are not a PEM "
                "certificate and its private key (libmicrohttpd: %s)\n",
                s->opt.tls_cert, s->opt.tls_key, why);
    else
        fprintf(stderr, "campaignfs-sim: cannot listen on %s:%u (in use or not allowed)%s%s\n",
                s->opt.host, s->opt.port, why[0] ? ": " : "", why);
}

/* SO_REUSEADDR is libmicrohttpd's default on POSIX (it is not asked for
 * with MHD_OPTION_LISTENING_ADDRESS_REUSE, which would add SO_REUSEPORT
 * and let two simulators share a port): a simulator restarted on the port
 * of one that just stopped binds it although old connections linger in
 * TIME_WAIT. */
static int start_daemon(struct sim *s)
{
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    unsigned flags = MHD_USE_AUTO | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem tls[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, s->opt.tls_key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, s->opt.tls_cert_pem},
        {MHD_OPTION_END, 0, NULL},
    };
    bool v6;

    if (listen_addr(&s->opt, &ss, &v6) < 0) {
        fprintf(stderr, "campaignfs-sim: --listen: '%s' is not an IP address\n", s->opt.host);
        return -1;
    }
    if (s->opt.tls_cert_pem)
        flags |= MHD_USE_TLS;
    atomic_store(&s->port, s->opt.port); /* until the kernel's pick is known */
    atomic_store(&s->starting, true);
    s->daemon = MHD_start_daemon(
        flags | (v6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&ss, MHD_OPTION_URI_LOG_CALLBACK, on_uri, s, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, s, MHD_OPTION_CONNECTION_LIMIT, (unsigned)4000, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)120, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_THREAD_STACK_SIZE,
        (size_t)(1 << 20), MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_ARRAY,
        s->opt.tls_cert_pem ? tls : &tls[2], MHD_OPTION_END);
    atomic_store(&s->starting, false);
    if (!s->daemon) {
        start_failed(s);
        return -1;
    }
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    atomic_store(&s->port, info ? info->port : s->opt.port);
    return 0;
}

enum fault sim_fault(struct sim *s, unsigned long seq, int *retry_after)
{
    struct fault_spec spec;
    unsigned long from;

    pthread_mutex_lock(&s->faults_lock);
    spec = s->faults;
    from = s->faults_from;
    *retry_after = s->faults_retry_after;
    pthread_mutex_unlock(&s->faults_lock);
    return seq < from ? FAULT_NONE : fault_decide(&spec, s->opt.data.seed, seq);
}

void sim_set_faults(struct sim *s, const struct fault_spec *spec, unsigned long after,
                    int retry_after)
{
    pthread_mutex_lock(&s->faults_lock);
    s->faults = *spec;
    s->faults_from = atomic_load(&s->seq) + after;
    s->faults_retry_after = retry_after;
    pthread_mutex_unlock(&s->faults_lock);
}

/* Frees what sim_start built, from the last step back (step: how far it got). */
static void unwind(struct sim *s, int step)
{
    if (step > 4)
        limiter_destroy(&s->limiter);
    if (step > 3)
        world_free(&s->world);
    if (step > 2)
        reqlog_destroy(&s->log);
    if (step > 1)
        overrides_destroy(&s->overrides);
    if (step > 0)
        holds_destroy(&s->holds);
    pthread_mutex_destroy(&s->faults_lock);
}

/* The locks, rules and log; *step counts the parts made (for unwind). */
static int init_parts(struct sim *s, int *step)
{
    *step = 0;
    if (holds_init(&s->holds) < 0)
        return -1;
    *step = 1;
    if (overrides_init(&s->overrides) < 0)
        return -1;
    *step = 2;
    if (reqlog_init(&s->log, s->opt.request_log) < 0)
        return -1;
    *step = 3;
    return 0;
}

int sim_start(struct sim *s)
{
    int step;

    atomic_store(&s->seq, 0);
    pthread_mutex_init(&s->faults_lock, NULL);
    s->faults = s->opt.faults;
    s->faults_from = 0;
    s->faults_retry_after = s->opt.retry_after;
    stats_reset(&s->stats);
    creds_generate(&s->creds, s->opt.data.seed);
    if (init_parts(s, &step) < 0) {
        fprintf(stderr, "campaignfs-sim: out of memory for the locks or the request log\n");
        unwind(s, step);
        return -1;
    }
    if (world_init(&s->world, &s->opt.data) < 0) {
        fprintf(stderr, "campaignfs-sim: out of memory building the dataset\n");
        unwind(s, step);
        return -1;
    }
    limiter_init(&s->limiter, s->opt.rate);
    if (start_daemon(s) < 0) {
        unwind(s, 5);
        return -1;
    }
    return 0;
}

void sim_stop(struct sim *s)
{
    /* Held, hung and sleeping requests go on now, so their threads can be joined. */
    hold_stop(&s->holds);
    override_stop(&s->overrides);
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
    unwind(s, 5);
}
