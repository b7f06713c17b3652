/**
 * @file sighup.h
 * SIGHUP, rclone's convention: every listing expires (the next access
 * refetches it, showing the old one meanwhile) and the log file is opened
 * again (after logrotate moved it); the mount stays.  The handler only
 * writes a byte to a pipe; a thread of its own does the work and logs one
 * line.
 */
#ifndef CAMPAIGNFS_SIGHUP_H
#define CAMPAIGNFS_SIGHUP_H

struct tree;

/* Installs the handler (replacing libfuse's, which would unmount) and
 * starts the thread.  0, or -1. */
int sighup_start(struct tree *t);
/* Stops the thread; SIGHUP is ignored from then on. */
void sighup_stop(void);

#endif
