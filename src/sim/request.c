/**
 * @file request.c
 * Request accessors (query parameters, headers, strict integers) and reply
 * building, shared by every provider module.
 */
#include "api.h"
#include "sim.h"

#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

const char *rq_query(const struct request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *rq_header(const struct request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

bool is_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
    }
    return true;
}

/* An optionally signed run of digits. */
static bool all_digits(const char *s)
{
    return is_digits(*s == '-' || *s == '+' ? s + 1 : s);
}

size_t rq_page_start(struct request *rq, size_t offset)
{
    if (!rq->overlap || offset == 0)
        return offset;
    rq->overlap_served = true;
    return offset - 1;
}

enum qint rq_query_int(const struct request *rq, const char *name, long min, long max, long def,
                       long *out)
{
    const char *v = rq_query(rq, name);
    long n;

    *out = def;
    if (!v)
        return QINT_ABSENT;
    if (!all_digits(v))
        return QINT_NOT_INT;
    errno = 0;
    n = strtol(v, NULL, 10);
    if (errno == ERANGE) {
        *out = v[0] == '-' ? min - 1 : max + 1;
        return QINT_RANGE;
    }
    *out = n;
    return n < min || n > max ? QINT_RANGE : QINT_OK;
}

void reply_json(struct reply *rp, int status, json_object *obj)
{
    rp->status = status;
    free(rp->body);
    rp->body = obj ? jrender(obj, &rp->len) : NULL;
    if (!rp->body) {
        rp->status = 500;
        rp->body = strdup("{\"error\":\"out of memory\"}");
        rp->len = rp->body ? strlen(rp->body) : 0;
    }
    json_object_put(obj);
}

void reply_headers_free(struct reply_header *headers, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(headers[i].name);
        free(headers[i].value);
    }
    free(headers);
}

void reply_free(struct reply *rp)
{
    reply_headers_free(rp->headers, rp->nheaders);
    free(rp->body);
    free(rp->location);
    free(rp->content_type);
    rp->headers = NULL;
    rp->nheaders = 0;
    rp->body = NULL;
    rp->location = NULL;
    rp->content_type = NULL;
}

struct world *rq_world(const struct request *rq)
{
    return &rq->sim->world;
}

const struct creds *rq_creds(const struct request *rq)
{
    return &rq->sim->creds;
}
