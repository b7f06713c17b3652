/**
 * @file gen.h
 * Realistic values for the simulated records: people's names (with
 * non-ASCII letters and CJK names), E.164 phone numbers in several
 * countries, hex ids, UUIDs, words.  All drawn from a struct rng.
 */
#ifndef CAMPAIGNFS_SIM_GEN_H
#define CAMPAIGNFS_SIM_GEN_H

#include "prng.h"

#include <stdbool.h>
#include <stddef.h>

struct person {
    const char *first;
    const char *last;
    char full[96]; /* "José Núñez", or "王芳" (family name first, no space) */
};

void gen_person(struct rng *r, struct person *p);
/* E.164 phone: mostly +1555XXXXXXX, some +52, +44, +34, +49, +91, +86,
 * +33.  plus=false drops the '+' (Kore.ai). */
void gen_phone(struct rng *r, char *buf, size_t len, bool plus);
/* n lowercase hex digits and a NUL into buf (at least n+1 bytes). */
void gen_hex(struct rng *r, char *buf, size_t n);
/* n letters and digits and a NUL into buf. */
void gen_alnum(struct rng *r, char *buf, size_t n);
/* 8-4-4-4-12 lowercase hex and a NUL (37 bytes). */
void gen_uuid(struct rng *r, char *buf);
/* One of n strings. */
const char *gen_pick(struct rng *r, const char *const *list, size_t n);

#define GEN_PICK(r, arr) gen_pick((r), (arr), sizeof(arr) / sizeof((arr)[0]))
#define GEN_UUID_SIZE    37

#endif
