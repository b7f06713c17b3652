/**
 * @file fs.h
 * The FUSE low-level operations of campaignfs.
 */
#ifndef CAMPAIGNFS_FS_H
#define CAMPAIGNFS_FS_H

#include "tree.h"

extern const struct fuse_lowlevel_ops campaignfs_ops;

#endif
