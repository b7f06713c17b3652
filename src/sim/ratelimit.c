/**
 * @file ratelimit.c
 * Token buckets and Truedy's fixed window.
 */
#include "ratelimit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void limiter_defaults(double rate[SIM_NPROV])
{
    rate[SIM_ALTUR] = 12;
    rate[SIM_BURKI] = 20;
    rate[SIM_TRUEDY] = 100.0 / 60.0;
    rate[SIM_KOREAI] = 0;
}

int limiter_parse_override(const char *arg, double rate[SIM_NPROV], char *err, size_t errlen)
{
    const char *eq = strchr(arg, '=');
    char name[32];
    double r;
    int p;

    if (!eq || (size_t)(eq - arg) >= sizeof(name)) {
        snprintf(err, errlen, "'%s' is not PROVIDER=RATE", arg);
        return -1;
    }
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    p = sim_prov_find(name);
    if (p < 0) {
        snprintf(err, errlen, "unknown provider '%s' (altur, burki, truedy, koreai)", name);
        return -1;
    }
    if (rate_parse(eq + 1, &r) < 0) {
        snprintf(err, errlen, "'%s' is not a rate like 12/s, 100/min or 0", eq + 1);
        return -1;
    }
    rate[p] = r;
    return 0;
}

void limiter_init(struct limiter *l, const double rate[SIM_NPROV])
{
    for (int p = 0; p < SIM_NPROV; p++) {
        l->rate[p] = rate[p];
        rate_bucket_init(&l->bucket[p], rate[p], 0);
    }
    pthread_mutex_init(&l->truedy.lock, NULL);
    l->truedy.length = 60;
    l->truedy.limit = rate[SIM_TRUEDY] > 0 ? lround(fmax(1, rate[SIM_TRUEDY] * 60)) : 0;
    l->truedy.start = rate_now();
    l->truedy.used = 0;
}

void limiter_destroy(struct limiter *l)
{
    for (int p = 0; p < SIM_NPROV; p++)
        rate_bucket_destroy(&l->bucket[p]);
    pthread_mutex_destroy(&l->truedy.lock);
}

static double wall_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int window_take(struct window *w, double *wait)
{
    double now = rate_now();
    int rc = 0;

    pthread_mutex_lock(&w->lock);
    if (now - w->start >= w->length) {
        w->start = now;
        w->used = 0;
    }
    if (w->used < w->limit) {
        w->used++;
    } else {
        *wait = w->start + w->length - now;
        rc = -1;
    }
    pthread_mutex_unlock(&w->lock);
    return rc;
}

int limiter_take(struct limiter *l, enum sim_prov p, double *wait, double *reset_at, long *limit)
{
    if (l->rate[p] <= 0)
        return 0;
    if (p == SIM_TRUEDY) {
        *limit = l->truedy.limit;
        if (window_take(&l->truedy, wait) == 0)
            return 0;
    } else {
        *limit = lround(fmax(1, l->rate[p]));
        *wait = rate_bucket_try(&l->bucket[p]);
        if (*wait <= 0)
            return 0;
    }
    *reset_at = wall_now() + *wait;
    return -1;
}
