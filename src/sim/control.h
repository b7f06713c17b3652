/**
 * @file control.h
 * The /_sim/ control endpoints (never faulted, never counted, no auth):
 * POST /_sim/advance?n=K, GET /_sim/stats, POST /_sim/reset-stats,
 * GET /_sim/dump?provider=P, POST /_sim/faults?spec=SPEC&after=N,
 * POST /_sim/hold?match=S&count=K, POST /_sim/release?match=S.
 */
#ifndef CAMPAIGNFS_SIM_CONTROL_H
#define CAMPAIGNFS_SIM_CONTROL_H

#include "api.h"

#define CONTROL_PREFIX "/_sim/"

void control_handle(struct request *rq, struct reply *rp);

#endif
