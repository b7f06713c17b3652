/**
 * @file stats.h
 * Request counters for /_sim/stats: every API request answered (faults,
 * 401s, 404s and 429s included), per provider and endpoint template;
 * /_sim/ requests are never counted; per provider how many of its
 * requests are being answered now and the most at once; and the faults,
 * overrides and redirects actually served, in total and per provider.
 * Lock-free (atomics).
 */
#ifndef CAMPAIGNFS_SIM_STATS_H
#define CAMPAIGNFS_SIM_STATS_H

#include "api.h"
#include "faults.h"

#include <stdatomic.h>
#include <stdint.h>

/* What /_sim/stats counts under "faults": the fault kinds (enum fault,
 * FAULT_NONE unused), then overrides and redirects. */
enum served_kind {
    SERVED_OVERRIDE = FAULT_COUNT, /* answered (or hung) by a /_sim/override rule */
    SERVED_REDIRECT,               /* a 3xx answer, the providers' own or an override's */
    SERVED_KINDS
};

struct stats {
    atomic_ulong total;
    atomic_ulong unrouted;                                   /* under no provider's prefix */
    atomic_ulong counts[SIM_NPROV][STATS_MAX_ENDPOINTS + 1]; /* last: no endpoint matched */
    /* In flight now (low 32 bits) and the most at once (high 32 bits), in
     * one word so that entering and resetting the maximum stay exact. */
    _Atomic uint64_t flight[SIM_NPROV];
    /* Served kinds per provider; the last row: requests under no prefix. */
    atomic_ulong served[SIM_NPROV + 1][SERVED_KINDS];
};

/* Zeroes the counters; the maxima in flight become the numbers in flight. */
void stats_reset(struct stats *s);
/* A request of provider prov starts / stops being answered. */
void stats_enter(struct stats *s, int prov);
void stats_leave(struct stats *s, int prov);
/* Counts one request; prov -1 = under no prefix, endpoint -1 = no
 * endpoint of that provider matched. */
void stats_count(struct stats *s, int prov, int endpoint);
/* Counts one answer of kind (an enum fault other than FAULT_NONE, or an
 * enum served_kind) served to a request of prov (-1: under no prefix). */
void stats_served(struct stats *s, int prov, int kind);
json_object *stats_json(struct stats *s);

#endif
