/**
 * @file sim.h
 * One running simulator: its options, world, credentials, limits,
 * counters and HTTP daemon.  main.c fills the options; server.c serves.
 */
#ifndef CAMPAIGNFS_SIM_SIM_H
#define CAMPAIGNFS_SIM_SIM_H

#include "creds.h"
#include "data.h"
#include "faults.h"
#include "ratelimit.h"
#include "stats.h"

#include <stdatomic.h>
#include <stdbool.h>

struct sim_options {
    char host[128]; /* listen address, without brackets */
    unsigned port;  /* 0: the kernel picks */
    const char *port_file;
    const char *config_out;
    struct data_opts data;
    long latency_ms;
    long slow_ms;
    double rate[SIM_NPROV];
    struct fault_spec faults;
    bool verbose;
};

struct sim {
    struct sim_options opt;
    struct world world;
    struct creds creds;
    struct limiter limiter;
    struct stats stats;
    atomic_ulong seq; /* API requests so far */
    struct MHD_Daemon *daemon;
    unsigned port; /* the port actually bound */
};

/* Builds the world and starts listening.  0, or -1 with a message on stderr. */
int sim_start(struct sim *s);
/* Stops the daemon (waits for connections) and frees everything. */
void sim_stop(struct sim *s);

#endif
