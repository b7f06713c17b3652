/**
 * @file rate.h
 * Request rates: parsing "12/s" / "100/min", and a thread-safe token bucket
 * used on both sides: campaignfs's engine starts a request to an account
 * only with a token (never sleeping for one), campaignfs-sim refuses a
 * request when its key has none.
 */
#ifndef CAMPAIGNFS_RATE_H
#define CAMPAIGNFS_RATE_H

#include <pthread.h>
#include <stdbool.h>

/* "12/s", "12/sec", "100/min", "5/h", "7" (per second) or "0" (off) ->
 * requests per second (0 = unlimited).  Returns 0, or -1 if not a rate. */
int rate_parse(const char *text, double *per_second);

/* Writes a rate as the shortest exact text rate_parse() reads back
 * ("12/s", "100/min", "0"). */
void rate_format(double per_second, char *buf, size_t len);

struct rate_bucket {
    pthread_mutex_t lock;
    double rate;     /* tokens per second, 0 = unlimited */
    double capacity; /* burst size */
    double tokens;
    double last; /* monotonic seconds of the last refill */
};

/* capacity 0 picks the default burst: one second's worth (at least 1),
 * or the whole minute for per-minute limits (rate < 1/s: 1 token). */
void rate_bucket_init(struct rate_bucket *b, double per_second, double capacity);
void rate_bucket_destroy(struct rate_bucket *b);

/* Takes one token if there is one: returns 0.  Otherwise returns the
 * seconds until one will be there (> 0) and takes nothing.  _at takes the
 * current monotonic time from the caller (a fake clock in tests). */
double rate_bucket_try(struct rate_bucket *b);
double rate_bucket_try_at(struct rate_bucket *b, double now);

/* Fills the bucket as of `now` (a test's fake clock starts here). */
void rate_bucket_reset(struct rate_bucket *b, double now);

/* Monotonic clock in seconds. */
double rate_now(void);

#endif
