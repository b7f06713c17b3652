/**
 * @file faults.h
 * Injected faults (--faults): which answer a request gets is a pure
 * function of the seed and the request's sequence number, so the same
 * seed and the same request order give the same faults.
 */
#ifndef CAMPAIGNFS_SIM_FAULTS_H
#define CAMPAIGNFS_SIM_FAULTS_H

#include <stddef.h>
#include <stdint.h>

enum fault {
    FAULT_NONE = 0,
    FAULT_5XX,       /* 500 or 503 in the provider's error format */
    FAULT_429,       /* the provider's own 429 answer */
    FAULT_RESET,     /* part of the body, then the connection is dropped */
    FAULT_TRUNCATE,  /* a valid response whose body is a prefix of the JSON */
    FAULT_MALFORMED, /* a body that is not JSON */
    FAULT_SLOW,      /* the real answer, --slow-ms late */
    FAULT_OVERLAP,   /* a list page starts one record early, repeating the previous page's
                        last record (as when a record is inserted in front while a client
                        pages); use overlap=1 with an "after" so every later page shifts */
    FAULT_COUNT
};

struct fault_spec {
    double p[FAULT_COUNT]; /* probabilities, p[FAULT_NONE] unused; sum <= 1 */
};

/* The spec's name of a fault kind ("5xx", "429", "reset", ...). */
const char *fault_name(enum fault f);

/* Parses "5xx=0.2,429=0.1,reset=0.05": known kinds, each a number in
 * [0, 1], together at most 1.  "" is no faults.  0, or -1 with a message
 * in err. */
int fault_spec_parse(const char *text, struct fault_spec *spec, char *err, size_t errlen);

/* The fault for request number seq. */
enum fault fault_decide(const struct fault_spec *spec, uint64_t seed, unsigned long seq);

/* A second hash for the same request (500 vs 503, where to cut). */
uint64_t fault_detail(uint64_t seed, unsigned long seq);

#endif
