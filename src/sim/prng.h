/**
 * @file prng.h
 * Deterministic randomness for campaignfs-sim: a splitmix64 generator and
 * hash mixing, so that every record, fault and advance is a pure function
 * of the seed and a few counters (same seed, same bytes).
 */
#ifndef CAMPAIGNFS_SIM_PRNG_H
#define CAMPAIGNFS_SIM_PRNG_H

#include <stdbool.h>
#include <stdint.h>

struct rng {
    uint64_t state;
};

/* The splitmix64 finalizer: a good 64-bit mixing function. */
uint64_t mix64(uint64_t x);
/* Mixes three values into one hash. */
uint64_t hash3(uint64_t a, uint64_t b, uint64_t c);
/* A hash mapped to [0, 1). */
double hash_unit(uint64_t h);

/* A stream of numbers for (seed, stream, index): independent streams for
 * independent records. */
void rng_init(struct rng *r, uint64_t seed, uint64_t stream, uint64_t index);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, n); n == 0 gives 0. */
uint32_t rng_below(struct rng *r, uint32_t n);
/* Uniform in [lo, hi] (inclusive). */
long rng_range(struct rng *r, long lo, long hi);
/* Uniform in [0, 1). */
double rng_unit(struct rng *r);
/* True with probability p. */
bool rng_chance(struct rng *r, double p);

#endif
