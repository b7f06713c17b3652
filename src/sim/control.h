/**
 * @file control.h
 * The /_sim/ control endpoints (never faulted, never counted, no auth):
 * POST /_sim/advance?n=K, GET /_sim/stats, POST /_sim/reset-stats,
 * GET /_sim/dump?provider=P, POST /_sim/faults?spec=SPEC&after=N,
 * POST /_sim/hold?match=S&count=K, POST /_sim/release?match=S,
 * GET /_sim/requests?since=SEQ&limit=N, POST /_sim/override?match=S&...,
 * POST /_sim/override/clear?match=S.
 */
#ifndef CAMPAIGNFS_SIM_CONTROL_H
#define CAMPAIGNFS_SIM_CONTROL_H

#include "api.h"

#define CONTROL_PREFIX "/_sim/"

/* The largest Retry-After of a 429 fault, in seconds (a day). */
#define SIM_RETRY_AFTER_MAX 86400

void control_handle(struct request *rq, struct reply *rp);

#endif
