/**
 * @file pins.h
 * Read snapshots of files that are rendered from a listing (the one-file
 * views).  Without open() (no_open) the kernel reads a file in chunks that
 * carry no handle, so a refresh published between two chunks would give a
 * reader the head of one listing and the tail of the next.  A pin keeps,
 * per file and reading process, the listing its read began with: the rest
 * of that read (and the sizes that process is told meanwhile) come from it.
 * A read from the start after the pin already served the start begins a
 * new snapshot; a pin unused for PINS_IDLE seconds goes.  The table is
 * small and fixed: the least recently used pin gives way.
 */
#ifndef CAMPAIGNFS_PINS_H
#define CAMPAIGNFS_PINS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct listing;

#define PINS_MAX  64
#define PINS_IDLE 10.0 /* seconds */

struct pin {
    uint64_t ino; /* 0: a free slot */
    pid_t pid;
    struct listing *l; /* a reference */
    double used;       /* monotonic seconds */
    bool started;      /* it served offset 0 */
};

struct pins {
    pthread_mutex_t lock;
    struct pin v[PINS_MAX];
};

void pins_init(struct pins *p);
void pins_destroy(struct pins *p);

/* The listing a read of ino by pid at off goes on with (a reference the
 * caller drops), or NULL when that read begins a new snapshot. */
struct listing *pins_read(struct pins *p, uint64_t ino, pid_t pid, uint64_t off, double now);

/* The listing pid's read of ino is under way with (a reference), or NULL:
 * what its stat must tell. */
struct listing *pins_peek(struct pins *p, uint64_t ino, pid_t pid, double now);

/* Begins pid's snapshot of ino with l (referenced here) at off. */
void pins_set(struct pins *p, uint64_t ino, pid_t pid, struct listing *l, uint64_t off, double now);

/* How many pins are live (not idle) at now. */
size_t pins_count(struct pins *p, double now);

#endif
