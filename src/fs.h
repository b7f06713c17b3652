/**
 * @file fs.h
 * The FUSE low-level operations of campaignfs.  The session's userdata is
 * a struct fs.
 */
#ifndef CAMPAIGNFS_FS_H
#define CAMPAIGNFS_FS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "tree.h"

struct handle;

struct fs {
    struct tree *tree;
    bool no_open;             /* the kernel opens files itself (set in init) */
    atomic_ulong interrupted; /* requests answered EINTR */
    atomic_ulong parked;      /* requests that waited for a load */
    pthread_mutex_t handles_lock;
    struct handle *handles; /* open directories and files, freed at unmount if still open */
};

void fs_init(struct fs *fs, struct tree *t);
/* Frees what is still open; after the session is over. */
void fs_fini(struct fs *fs);

extern const struct fuse_lowlevel_ops campaignfs_ops;

#endif
