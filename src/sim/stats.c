/**
 * @file stats.c
 * Counting and the /_sim/stats JSON.
 */
#include "stats.h"

#include "jsonx.h"

static uint64_t flight_now(uint64_t word)
{
    return word & 0xffffffffU;
}

static uint64_t flight_max(uint64_t word)
{
    return word >> 32;
}

static uint64_t flight_word(uint64_t now, uint64_t max)
{
    return max << 32 | now;
}

void stats_enter(struct stats *s, int prov)
{
    uint64_t word = atomic_load(&s->flight[prov]), next;

    do {
        uint64_t now = flight_now(word) + 1;
        next = flight_word(now, now > flight_max(word) ? now : flight_max(word));
    } while (!atomic_compare_exchange_weak(&s->flight[prov], &word, next));
}

void stats_leave(struct stats *s, int prov)
{
    atomic_fetch_sub(&s->flight[prov], 1); /* the low half, at least 1 */
}

static void flight_reset(struct stats *s, int prov)
{
    uint64_t word = atomic_load(&s->flight[prov]);

    while (!atomic_compare_exchange_weak(&s->flight[prov], &word,
                                         flight_word(flight_now(word), flight_now(word)))) {
    }
}

void stats_reset(struct stats *s)
{
    atomic_store(&s->total, 0);
    atomic_store(&s->unrouted, 0);
    for (int p = 0; p < SIM_NPROV; p++) {
        for (int e = 0; e <= STATS_MAX_ENDPOINTS; e++)
            atomic_store(&s->counts[p][e], 0);
        flight_reset(s, p);
    }
    for (int p = 0; p <= SIM_NPROV; p++) {
        for (int k = 0; k < SERVED_KINDS; k++)
            atomic_store(&s->served[p][k], 0);
    }
}

void stats_count(struct stats *s, int prov, int endpoint)
{
    atomic_fetch_add(&s->total, 1);
    if (prov < 0) {
        atomic_fetch_add(&s->unrouted, 1);
        return;
    }
    atomic_fetch_add(&s->counts[prov][endpoint < 0 ? STATS_MAX_ENDPOINTS : endpoint], 1);
}

void stats_served(struct stats *s, int prov, int kind)
{
    if (kind > FAULT_NONE && kind < SERVED_KINDS)
        atomic_fetch_add(&s->served[prov < 0 ? SIM_NPROV : prov][kind], 1);
}

static const char *served_name(int kind)
{
    if (kind == SERVED_OVERRIDE)
        return "override";
    if (kind == SERVED_REDIRECT)
        return "redirect";
    return fault_name((enum fault)kind);
}

/* Kind -> count of the rows whose mask bit is set, from one snapshot. */
static json_object *served_row(unsigned long n[SIM_NPROV + 1][SERVED_KINDS], unsigned mask)
{
    json_object *o = json_object_new_object();

    for (int k = FAULT_NONE + 1; k < SERVED_KINDS; k++) {
        unsigned long sum = 0;
        for (int p = 0; p <= SIM_NPROV; p++)
            sum += mask >> p & 1 ? n[p][k] : 0;
        jadd_int(o, served_name(k), (long long)sum);
    }
    return o;
}

/* {"total": {...}, "altur": {...}, ..., "unrouted": {...}}: every kind, 0s too. */
static json_object *served_json(struct stats *s)
{
    json_object *o = json_object_new_object();
    unsigned long n[SIM_NPROV + 1][SERVED_KINDS];

    for (int p = 0; p <= SIM_NPROV; p++) {
        for (int k = 0; k < SERVED_KINDS; k++)
            n[p][k] = atomic_load(&s->served[p][k]);
    }
    jadd(o, "total", served_row(n, ~0U));
    for (int p = 0; p < SIM_NPROV; p++)
        jadd(o, sim_prov_names[p], served_row(n, 1U << p));
    jadd(o, "unrouted", served_row(n, 1U << SIM_NPROV));
    return o;
}

static json_object *provider_json(struct stats *s, int p)
{
    const struct api *api = sim_apis[p];
    json_object *o = json_object_new_object(), *eps = json_object_new_object();
    unsigned long sum = 0, other = atomic_load(&s->counts[p][STATS_MAX_ENDPOINTS]);
    uint64_t flight = atomic_load(&s->flight[p]);

    for (size_t e = 0; e < api->nendpoints; e++) {
        unsigned long n = atomic_load(&s->counts[p][e]);
        sum += n;
        jadd_int(eps, api->endpoints[e].name, (long long)n);
    }
    if (other)
        jadd_int(eps, "(unmatched)", (long long)other);
    jadd_int(o, "requests", (long long)(sum + other));
    jadd_int(o, "in_flight", (long long)flight_now(flight));
    jadd_int(o, "max_in_flight", (long long)flight_max(flight));
    jadd(o, "endpoints", eps);
    return o;
}

json_object *stats_json(struct stats *s)
{
    json_object *o = json_object_new_object(), *provs = json_object_new_object();

    jadd_int(o, "total_requests", (long long)atomic_load(&s->total));
    for (int p = 0; p < SIM_NPROV; p++)
        jadd(provs, sim_prov_names[p], provider_json(s, p));
    jadd(o, "providers", provs);
    jadd_int(o, "unrouted", (long long)atomic_load(&s->unrouted));
    jadd(o, "faults", served_json(s));
    return o;
}
