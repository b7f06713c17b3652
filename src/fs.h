/**
 * @file fs.h
 * The FUSE low-level operations of campaignfs.  The session's userdata is
 * a struct fs.
 */
#ifndef CAMPAIGNFS_FS_H
#define CAMPAIGNFS_FS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "tree.h"

struct fs {
    struct tree *tree;
    bool no_open;             /* the kernel opens files itself (set in init) */
    atomic_ulong interrupted; /* requests answered EINTR */
    atomic_ulong parked;      /* requests that waited for a load */
};

extern const struct fuse_lowlevel_ops campaignfs_ops;

#endif
