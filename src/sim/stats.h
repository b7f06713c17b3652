/**
 * @file stats.h
 * Request counters for /_sim/stats: every API request answered (faults,
 * 401s, 404s and 429s included), per provider and endpoint template;
 * /_sim/ requests are never counted.  Lock-free (atomics).
 */
#ifndef CAMPAIGNFS_SIM_STATS_H
#define CAMPAIGNFS_SIM_STATS_H

#include "api.h"

#include <stdatomic.h>

struct stats {
    atomic_ulong total;
    atomic_ulong unrouted;                                   /* under no provider's prefix */
    atomic_ulong counts[SIM_NPROV][STATS_MAX_ENDPOINTS + 1]; /* last: no endpoint matched */
};

void stats_reset(struct stats *s);
/* Counts one request; prov -1 = under no prefix, endpoint -1 = no
 * endpoint of that provider matched. */
void stats_count(struct stats *s, int prov, int endpoint);
json_object *stats_json(struct stats *s);

#endif
