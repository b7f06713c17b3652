/**
 * @file timefmt.h
 * The simulator's clock and the timestamp spellings of the four providers.
 * The clock starts at a base time derived from the seed (around
 * 2025-10-01) and only moves when /_sim/advance says so; every generated
 * timestamp is at or before it.
 */
#ifndef CAMPAIGNFS_SIM_TIMEFMT_H
#define CAMPAIGNFS_SIM_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#define SIM_EPOCH     1759276800LL /* 2025-10-01T00:00:00Z */
#define SIM_TIME_SIZE 40

/* The clock's start for a seed: SIM_EPOCH plus up to three days. */
long long sim_base_time(uint64_t seed);

/* "2025-10-03T19:11:39Z" */
void fmt_iso(char *buf, size_t len, long long t);
/* "2025-10-03T19:11:39.123456Z" (digits 6) or ".123Z" (digits 3); frac is
 * the fractional part in units of 10^-digits. */
void fmt_iso_frac(char *buf, size_t len, long long t, int digits, long frac);
/* "2025-10-03 19:11:39" (no zone: Altur contacts) */
void fmt_naive(char *buf, size_t len, long long t);
/* "20251003T191139Z" (signed URL dates) */
void fmt_compact(char *buf, size_t len, long long t);

/* Parses an ISO 8601 date or date-time ("2025-10-01", "2025-10-01T12:00",
 * "2025-10-01T12:00:00.5Z", "...+02:00") to Unix seconds.  0 or -1. */
int parse_iso(const char *text, long long *t);

#endif
