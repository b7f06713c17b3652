/**
 * @file faults.c
 * Fault spec parsing and the per-request draw.
 */
#include "faults.h"

#include "prng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[FAULT_COUNT] = {"none",     "5xx",       "429",  "reset",
                                               "truncate", "malformed", "slow", "overlap"};

const char *fault_name(enum fault f)
{
    return f < FAULT_COUNT ? names[f] : "?";
}

static int parse_item(const char *item, size_t len, struct fault_spec *spec, char *err,
                      size_t errlen)
{
    const char *eq = memchr(item, '=', len);
    char value[64], *end;
    double p;

    if (!eq || (size_t)(item + len - eq - 1) >= sizeof(value)) {
        snprintf(err, errlen, "'%.*s' is not KIND=PROBABILITY", (int)len, item);
        return -1;
    }
    memcpy(value, eq + 1, (size_t)(item + len - eq - 1));
    value[item + len - eq - 1] = '\0';
    errno = 0;
    p = strtod(value, &end);
    if (end == value || *end || errno || !isfinite(p) || p < 0 || p > 1) {
        snprintf(err, errlen, "'%s' is not a probability between 0 and 1", value);
        return -1;
    }
    for (int f = 1; f < FAULT_COUNT; f++) {
        if (strlen(names[f]) == (size_t)(eq - item) &&
            !strncmp(item, names[f], (size_t)(eq - item))) {
            spec->p[f] = p;
            return 0;
        }
    }
    snprintf(err, errlen,
             "unknown fault '%.*s' (known: 5xx, 429, reset, truncate, malformed, slow, "
             "overlap)",
             (int)(eq - item), item);
    return -1;
}

int fault_spec_parse(const char *text, struct fault_spec *spec, char *err, size_t errlen)
{
    double sum = 0;

    memset(spec, 0, sizeof(*spec));
    while (*text) {
        size_t len = strcspn(text, ",");
        if (len == 0 || parse_item(text, len, spec, err, errlen) < 0) {
            if (len == 0)
                snprintf(err, errlen, "empty item");
            return -1;
        }
        text += len;
        if (*text == ',' && !*++text) {
            snprintf(err, errlen, "trailing ','");
            return -1;
        }
    }
    for (int f = 1; f < FAULT_COUNT; f++)
        sum += spec->p[f];
    if (sum > 1 + 1e-9) {
        snprintf(err, errlen, "the probabilities add up to %g, more than 1", sum);
        return -1;
    }
    return 0;
}

enum fault fault_decide(const struct fault_spec *spec, uint64_t seed, unsigned long seq)
{
    double u = hash_unit(hash3(seed, 0xfa17, seq)), acc = 0;

    for (int f = 1; f < FAULT_COUNT; f++) {
        acc += spec->p[f];
        if (spec->p[f] > 0 && u < acc)
            return (enum fault)f;
    }
    return FAULT_NONE;
}

uint64_t fault_detail(uint64_t seed, unsigned long seq)
{
    return hash3(seed, 0xde7a, seq);
}
