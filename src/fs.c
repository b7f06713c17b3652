/**
 * @file fs.c
 * FUSE callbacks only: inode -> node, node -> attributes or bytes, and
 * -errno.  Nothing here builds a URL or reads JSON: that is tree.c and
 * below.  The mount is read-only: every operation that would change
 * something answers EROFS.
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

struct open_file {
    struct listing *listing; /* keeps the bytes alive while the file is open */
    const struct listing_entry *entry;
};

static struct tree *tree_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

static void reply_entry(fuse_req_t req, struct tree *t, struct node *n, const struct stat *st)
{
    struct fuse_entry_param e;

    memset(&e, 0, sizeof(e));
    e.ino = n->ino;
    e.attr = *st;
    e.attr_timeout = node_valid_for(t, n);
    e.entry_timeout = e.attr_timeout;
    fuse_reply_entry(req, &e);
}

static void cfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    struct tree *t = tree_of(req);
    struct node *dir = tree_node(t, parent);
    struct node *child = NULL;
    struct stat st;
    int rc;

    if (!dir) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    rc = tree_lookup(t, dir, name, &child, &st);
    if (rc == -ENOENT) {
        /* a negative entry the kernel may cache as long as the listing */
        struct fuse_entry_param e = {.ino = 0, .entry_timeout = dir_valid_for(t, dir)};
        fuse_reply_entry(req, &e);
        return;
    }
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    reply_entry(req, t, child, &st);
}

static void cfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    /* nodes live as long as the mount: their inode numbers stay fixed */
    (void)ino;
    (void)nlookup;
    fuse_reply_none(req);
}

static void cfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct tree *t = tree_of(req);
    struct node *n = tree_node(t, ino);
    struct stat st;
    int rc;

    (void)fi;
    if (!n) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    rc = tree_stat(t, n, &st);
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_attr(req, &st, node_valid_for(t, n));
}

static void cfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct tree *t = tree_of(req);
    struct node *n = tree_node(t, ino);
    struct listing *l = NULL;
    int rc;

    if (!n) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if (!node_is_dir(n)) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    rc = tree_listing(t, n, &l);
    if (rc < 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    fi->fh = (uintptr_t)l; /* one snapshot for the whole readdir sequence */
    fuse_reply_open(req, fi);
}

static mode_t entry_mode(const struct listing_entry *e)
{
    return e->type == ENTRY_DIR ? S_IFDIR : S_IFREG;
}

static void cfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
    struct tree *t = tree_of(req);
    struct node *dir = tree_node(t, ino);
    struct listing *l = (struct listing *)(uintptr_t)fi->fh;
    char *buf = malloc(size);
    size_t used = 0;

    if (!buf || !dir) {
        free(buf);
        fuse_reply_err(req, buf ? ENOENT : ENOMEM);
        return;
    }
    /* offsets: 1 after ".", 2 after "..", 3 + i after entry i */
    for (off_t i = off; i < (off_t)l->n + 2; i++) {
        struct stat st = {0};
        const char *name;
        size_t need;

        if (i < 2) {
            name = i == 0 ? "." : "..";
            st.st_ino = i == 0 || !dir->parent ? dir->ino : dir->parent->ino;
            st.st_mode = S_IFDIR;
        } else {
            const struct listing_entry *e = &l->entries[i - 2];
            struct node *child = tree_child(t, dir, e);
            name = e->name;
            st.st_ino = child ? child->ino : 0;
            st.st_mode = entry_mode(e);
        }
        need = fuse_add_direntry(req, buf + used, size - used, name, &st, i + 1);
        if (need > size - used)
            break;
        used += need;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
}

static void cfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    listing_unref((struct listing *)(uintptr_t)fi->fh);
    fuse_reply_err(req, 0);
}

static void cfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct tree *t = tree_of(req);
    struct node *n = tree_node(t, ino);
    struct open_file *of;
    int rc;

    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_CREAT))) {
        fuse_reply_err(req, EROFS);
        return;
    }
    if (!n) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    of = calloc(1, sizeof(*of));
    if (!of) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    rc = tree_content(t, n, &of->listing, &of->entry);
    if (rc < 0) {
        free(of);
        fuse_reply_err(req, -rc);
        return;
    }
    fi->keep_cache = node_opened(n, of->entry->mtime, of->entry->len);
    fi->fh = (uintptr_t)of;
    fuse_reply_open(req, fi);
}

static void cfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;
    size_t len = of->entry->len;

    (void)ino;
    if (off < 0 || (size_t)off >= len) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    if (size > len - (size_t)off)
        size = len - (size_t)off;
    fuse_reply_buf(req, of->entry->bytes + off, size);
}

static void cfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    struct open_file *of = (struct open_file *)(uintptr_t)fi->fh;

    (void)ino;
    listing_unref(of->listing);
    free(of);
    fuse_reply_err(req, 0);
}

static void cfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct tree *t = tree_of(req);
    struct statvfs sv;

    (void)ino;
    memset(&sv, 0, sizeof(sv));
    sv.f_bsize = 4096;
    sv.f_frsize = 4096;
    sv.f_blocks = (atomic_load(&t->bytes) + 4095) / 4096;
    pthread_mutex_lock(&t->lock);
    sv.f_files = t->n_nodes;
    pthread_mutex_unlock(&t->lock);
    sv.f_namemax = 255;
    sv.f_flag = ST_RDONLY | ST_NOSUID | ST_NODEV;
    fuse_reply_statfs(req, &sv);
}

/* ---- everything that would change the tree ---- */

static void cfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                        struct fuse_file_info *fi)
{
    (void)ino, (void)attr, (void)to_set, (void)fi;
    fuse_reply_err(req, EROFS);
}

static void cfs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
    (void)parent, (void)name, (void)mode, (void)rdev;
    fuse_reply_err(req, EROFS);
}

static void cfs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    (void)parent, (void)name, (void)mode;
    fuse_reply_err(req, EROFS);
}

static void cfs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    (void)parent, (void)name;
    fuse_reply_err(req, EROFS);
}

static void cfs_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    (void)link, (void)parent, (void)name;
    fuse_reply_err(req, EROFS);
}

static void cfs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                       const char *newname, unsigned int flags)
{
    (void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
    fuse_reply_err(req, EROFS);
}

static void cfs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
    (void)ino, (void)newparent, (void)newname;
    fuse_reply_err(req, EROFS);
}

static void cfs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                      struct fuse_file_info *fi)
{
    (void)ino, (void)buf, (void)size, (void)off, (void)fi;
    fuse_reply_err(req, EROFS);
}

static void cfs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                       struct fuse_file_info *fi)
{
    (void)parent, (void)name, (void)mode, (void)fi;
    fuse_reply_err(req, EROFS);
}

static void cfs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                         size_t size, int flags)
{
    (void)ino, (void)name, (void)value, (void)size, (void)flags;
    fuse_reply_err(req, EROFS);
}

static void cfs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    (void)ino, (void)name;
    fuse_reply_err(req, EROFS);
}

static void cfs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                          struct fuse_file_info *fi)
{
    (void)ino, (void)mode, (void)offset, (void)length, (void)fi;
    fuse_reply_err(req, EROFS);
}

const struct fuse_lowlevel_ops campaignfs_ops = {
    .lookup = cfs_lookup,
    .forget = cfs_forget,
    .getattr = cfs_getattr,
    .setattr = cfs_setattr,
    .mknod = cfs_mknod,
    .mkdir = cfs_mkdir,
    .unlink = cfs_unlink,
    .rmdir = cfs_unlink,
    .symlink = cfs_symlink,
    .rename = cfs_rename,
    .link = cfs_link,
    .open = cfs_open,
    .read = cfs_read,
    .write = cfs_write,
    .release = cfs_release,
    .opendir = cfs_opendir,
    .readdir = cfs_readdir,
    .releasedir = cfs_releasedir,
    .statfs = cfs_statfs,
    .setxattr = cfs_setxattr,
    .removexattr = cfs_removexattr,
    .create = cfs_create,
    .fallocate = cfs_fallocate,
};
