/**
 * @file prng.c
 * splitmix64 (Steele, Lea, Flood 2014): tiny, fast, and plenty for test data.
 */
#include "prng.h"

uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t hash3(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = mix64(a + 0x9e3779b97f4a7c15ULL);

    h = mix64(h ^ (b + 0x632be59bd9b4e019ULL));
    return mix64(h ^ (c + 0x85157af5ULL));
}

double hash_unit(uint64_t h)
{
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

void rng_init(struct rng *r, uint64_t seed, uint64_t stream, uint64_t index)
{
    r->state = hash3(seed, stream, index);
}

uint64_t rng_next(struct rng *r)
{
    r->state += 0x9e3779b97f4a7c15ULL;
    return mix64(r->state);
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
    if (n == 0)
        return 0;
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

long rng_range(struct rng *r, long lo, long hi)
{
    if (hi <= lo)
        return lo;
    return lo + (long)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

double rng_unit(struct rng *r)
{
    return hash_unit(rng_next(r));
}

bool rng_chance(struct rng *r, double p)
{
    return rng_unit(r) < p;
}
