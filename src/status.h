/**
 * @file status.h
 * What MOUNT/.campaignfs/status says: a JSON document of the mount (version,
 * pid, uptime, options) and of each account (its counters, failures by
 * class with the last message, what is cached and stale, and every fetch
 * in flight with its pages and records so far).  Read off the tree, the
 * caches, the fetch objects and the account counters, without waiting on
 * any load.  campaignfs --status renders it for a person (statusview.h).
 */
#ifndef CAMPAIGNFS_STATUS_H
#define CAMPAIGNFS_STATUS_H

#include <stddef.h>

struct tree;

/* The document (pretty-printed JSON ending in a newline; the caller frees
 * it) and its length, or NULL on out of memory. */
char *status_render(struct tree *t, size_t *len);

#endif
