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
#include "hold.h"
#include "override.h"
#include "ratelimit.h"
#include "reqlog.h"
#include "stats.h"

#include <pthread.h>
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
    int retry_after;                  /* Retry-After seconds of a 429 fault (--retry-after) */
    size_t request_log;               /* requests the log keeps (--request-log), 0: none */
    const char *tls_cert, *tls_key;   /* --tls-cert, --tls-key paths, or NULL */
    char *tls_cert_pem, *tls_key_pem; /* their contents (malloc'd); HTTPS if set */
    bool verbose;
};

struct sim {
    struct sim_options opt;
    struct world world;
    struct creds creds;
    struct limiter limiter;
    struct stats stats;
    atomic_ulong seq; /* API requests so far */
    /* The faults in force: --faults at start, POST /_sim/faults later. */
    pthread_mutex_t faults_lock;
    struct fault_spec faults;
    unsigned long faults_from;  /* requests numbered below this get none */
    int faults_retry_after;     /* the Retry-After of their 429s */
    struct holds holds;         /* POST /_sim/hold rules, held requests, sleeps */
    struct overrides overrides; /* POST /_sim/override rules, hung requests */
    struct reqlog log;          /* GET /_sim/requests */
    struct MHD_Daemon *daemon;
    unsigned port;        /* the port actually bound */
    atomic_bool starting; /* the daemon is being started (mhd_error is kept) */
    char mhd_error[256];  /* libmicrohttpd's last message while starting (faults_lock) */
};

/* Builds the world and starts listening.  0, or -1 with a message on stderr. */
int sim_start(struct sim *s);
/* The fault for API request number seq under the faults in force, and the
 * Retry-After (seconds) a 429 fault gives. */
enum fault sim_fault(struct sim *s, unsigned long seq, int *retry_after);
/* Puts spec in force, with 429 faults asking to wait retry_after seconds,
 * for the API requests after the next `after` ones. */
void sim_set_faults(struct sim *s, const struct fault_spec *spec, unsigned long after,
                    int retry_after);

/* Stops the daemon (waits for connections) and frees everything. */
void sim_stop(struct sim *s);

#endif
