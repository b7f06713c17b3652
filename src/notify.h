/**
 * @file notify.h
 * Tells the kernel what a refresh changed (fuse_lowlevel_notify_inval_inode
 * and _entry), from a thread of its own: an invalidation can wait for
 * kernel locks held by a request that the engine thread is about to
 * answer, so it must never run there, nor in a FUSE callback.
 */
#ifndef CAMPAIGNFS_NOTIFY_H
#define CAMPAIGNFS_NOTIFY_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <stdatomic.h>

#include "listing.h"

struct notifier;

struct notifier *notifier_new(struct fuse_session *se);
/* Before the session's device is closed: nothing more is sent to the
 * kernel, and a call in progress is given up to `timeout` seconds to end
 * (one blocked on a dead session ends when the mount goes). */
void notifier_quiesce(struct notifier *nt, double timeout);

/* Runs what is left (calls, no kernel work once quiesced), then stops the
 * thread and frees everything. */
void notifier_free(struct notifier *nt);

/* The kernel forgets ino's attributes and cached bytes (or, for a
 * directory, its cached entries). */
void notify_inode(struct notifier *nt, fuse_ino_t ino);
/* The kernel forgets what it knows of name in parent (entry or absence). */
void notify_entry(struct notifier *nt, fuse_ino_t parent, const char *name);

/* Puts e's bytes (of listing l, whose reference this takes) into the
 * kernel's page cache for ino, so that the first read of a file the kernel
 * was just told about needs no request to campaignfs. */
void notify_store(struct notifier *nt, fuse_ino_t ino, struct listing *l,
                  const struct listing_entry *e);

/* Calls fn(arg) on the notifier's thread once everything queued before it
 * was sent (the kernel has dropped those caches by then).  Without a
 * notifier, at once. */
/* How many notifications wait in the queue, and how many were not queued
 * because it was full (page-cache fills past a short queue, invalidations
 * past a long one), for status. */
unsigned long notify_queued(struct notifier *nt);
unsigned long notify_dropped(struct notifier *nt);

void notify_then(struct notifier *nt, void (*fn)(void *arg), void *arg);

#endif
