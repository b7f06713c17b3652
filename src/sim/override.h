/**
 * @file override.h
 * Hostile answers (POST /_sim/override): rules that answer the API
 * requests whose path and query contain a text with a status, raw bytes
 * and headers of the test's choosing, a redirect, or no answer at all (a
 * hang), before authentication, rate limits and faults.  One mutex for
 * the rules; a hung request waits on a condition variable until its rule
 * is cleared, its client goes away or the simulator stops.
 */
#ifndef CAMPAIGNFS_SIM_OVERRIDE_H
#define CAMPAIGNFS_SIM_OVERRIDE_H

#include "api.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* The most bytes a body_file may have. */
#define OVERRIDE_MAX_BODY (64L << 20)

/* One name=value pair of a /_sim/override request (query, form or JSON). */
struct param {
    const char *name, *value;
};

struct override; /* one rule */

struct overrides {
    pthread_mutex_t lock;
    pthread_cond_t cond;    /* broadcast on clear and stop */
    struct override *rules; /* in the order they were added */
    atomic_int nrules;      /* read without the lock: no rules, nothing to look at */
    unsigned long next_id;  /* ids from 1 */
    unsigned long hanging;  /* requests hung now */
    bool stopping;
};

int overrides_init(struct overrides *o);
/* Frees the rules; no request may be hanging any more. */
void overrides_destroy(struct overrides *o);

/* Builds a rule from the parameters (see campaignfs-sim(1)) and adds it
 * after the others.  Returns it as JSON, or NULL with a message in err. */
json_object *override_add(struct overrides *o, const struct param *params, size_t n, char *err,
                          size_t errlen);

enum override_action {
    OVERRIDE_NONE,   /* no rule matched: answer as usual */
    OVERRIDE_ANSWER, /* *rp is the rule's answer */
    OVERRIDE_HANG,   /* call override_hang(*hang, ...) and send nothing */
};

/* Uses up one request of the first rule whose match text target
 * contains.  port and target fill a redirect's {port} and {path}. */
enum override_action override_take(struct overrides *o, const char *target, unsigned port,
                                   struct reply *rp, struct override **hang);
/* Waits until rule is cleared, the peer of socket fd (if >= 0) closes,
 * or the simulator stops; then the rule is let go of. */
void override_hang(struct overrides *o, struct override *rule, int fd);

/* Removes the rules whose match is match (NULL: all); their hung requests
 * end without an answer.  Returns how many rules went. */
unsigned long override_clear(struct overrides *o, const char *match);
/* Requests hung now. */
unsigned long override_hanging(struct overrides *o);
/* Ends every hang for good (at shutdown). */
void override_stop(struct overrides *o);

#endif
