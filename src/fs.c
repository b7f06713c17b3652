/**
 * @file fs.c
 * FUSE callbacks only: inode -> node, node -> attributes or bytes, and
 * -errno.  Nothing here builds a URL or reads JSON: that is tree.c and
 * below.  No callback blocks: one that needs a listing being loaded parks
 * its request on that listing's cache and returns; the request is answered
 * when the load ends (on the engine thread), or with EINTR as soon as the
 * kernel interrupts it (Ctrl-C, a kill of the reader), while the load goes
 * on and its result is kept.  The mount is read-only: every operation that
 * would change something answers EROFS.
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "log.h"
#include "views.h"

/* An open directory or file: a listing reference (the readdir snapshot, or
 * what keeps a file's bytes alive) on the fs's list of handles, so that
 * what the kernel never released is freed at unmount. */
struct handle {
    struct handle *prev, *next;
    struct content content; /* a directory's listing (content.l), or a file's content */
};

enum op_kind { OP_LOOKUP, OP_GETATTR, OP_OPENDIR, OP_OPEN, OP_READ, OP_READLINK };

/* A request being answered: tried at once, parked while a load it needs
 * is in flight, tried again when the load ends. */
struct op {
    struct cache_waiter w; /* first: the cache links parked ops */
    fuse_req_t req;
    struct fs *fs;
    enum op_kind kind;
    fuse_ino_t ino;
    size_t size;
    off_t off;
    struct fuse_file_info fi;
    char *name;  /* lookup: borrowed on the first try, owned once parked */
    bool parked; /* on the heap */
};

static struct fs *fs_of(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* The node of a control file that takes writes, or NULL. */
static struct node *writable(fuse_req_t req, fuse_ino_t ino)
{
    struct node *n = tree_node(fs_of(req)->tree, ino);

    return n && tree_writable(n) ? n : NULL;
}

/* ---- answering ---- */

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

/* Each op answers its request and returns 0, or returns -EAGAIN with
 * *wait set to the node whose load it needs. */

static int do_lookup(struct op *op, struct node **wait)
{
    struct tree *t = op->fs->tree;
    struct node *dir = tree_node(t, op->ino);
    struct node *child = NULL;
    struct stat st;
    int rc;

    if (!dir) {
        fuse_reply_err(op->req, ENOENT);
        return 0;
    }
    rc = tree_lookup(t, dir, op->name, &child, &st, wait);
    if (rc == -EAGAIN)
        return rc;
    if (rc == -ENOENT) {
        /* a negative entry the kernel may cache as long as the listing */
        struct fuse_entry_param e = {.ino = 0, .entry_timeout = dir_valid_for(t, dir)};
        fuse_reply_entry(op->req, &e);
    } else if (rc < 0) {
        fuse_reply_err(op->req, -rc);
    } else {
        reply_entry(op->req, t, child, &st);
    }
    return 0;
}

static int do_getattr(struct op *op, struct node **wait)
{
    struct tree *t = op->fs->tree;
    struct node *n = tree_node(t, op->ino);
    struct stat st;
    bool snapshot;
    int rc;

    if (!n) {
        fuse_reply_err(op->req, ENOENT);
        return 0;
    }
    rc = tree_stat_as(t, n, fuse_req_ctx(op->req)->pid, &st, &snapshot, wait);
    if (rc == -EAGAIN)
        return rc;
    if (rc < 0)
        fuse_reply_err(op->req, -rc);
    else /* a reader's snapshot is that reader's: not kept for the others */
        fuse_reply_attr(op->req, &st, snapshot ? 0 : node_valid_for(t, n));
    return 0;
}

/* A handle holding c (consumed); NULL (c dropped) on out of memory. */
static struct handle *handle_new(struct fs *fs, struct content *c)
{
    struct handle *h = calloc(1, sizeof(*h));

    if (!h) {
        content_drop(c);
        return NULL;
    }
    h->content = *c;
    pthread_mutex_lock(&fs->handles_lock);
    h->next = fs->handles;
    if (fs->handles)
        fs->handles->prev = h;
    fs->handles = h;
    pthread_mutex_unlock(&fs->handles_lock);
    return h;
}

static void handle_free(struct fs *fs, struct handle *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&fs->handles_lock);
    if (h->prev)
        h->prev->next = h->next;
    else
        fs->handles = h->next;
    if (h->next)
        h->next->prev = h->prev;
    pthread_mutex_unlock(&fs->handles_lock);
    content_drop(&h->content);
    free(h);
}

static struct handle *handle_of(const struct fuse_file_info *fi)
{
    return (struct handle *)(uintptr_t)fi->fh;
}

static int do_opendir(struct op *op, struct node **wait)
{
    struct tree *t = op->fs->tree;
    struct node *n = tree_node(t, op->ino);
    struct listing *l = NULL;
    struct handle *h;
    int rc;

    if (!n || !node_is_dir(n)) {
        fuse_reply_err(op->req, n ? ENOTDIR : ENOENT);
        return 0;
    }
    rc = tree_listing(t, n, &l, wait);
    if (rc == -EAGAIN)
        return rc;
    if (rc < 0) {
        fuse_reply_err(op->req, -rc);
        return 0;
    }
    op->fi.cache_readdir = 1;
    op->fi.keep_cache = tree_dir_opened(n, l);
    h = handle_new(op->fs, &(struct content){.l = l}); /* one snapshot for the whole readdir */
    if (!h) {
        fuse_reply_err(op->req, ENOMEM);
        return 0;
    }
    op->fi.fh = (uintptr_t)h;
    if (fuse_reply_open(op->req, &op->fi) != 0)
        handle_free(op->fs, h); /* the opener is gone: no releasedir will come */
    return 0;
}

/* The content of file ino. */
static int file_content(struct op *op, struct content *c, struct node **wait)
{
    struct node *n = tree_node(op->fs->tree, op->ino);

    if (!n)
        return -ENOENT;
    return tree_content(op->fs->tree, n, c, wait);
}

static int do_open(struct op *op, struct node **wait)
{
    struct content c;
    struct handle *h;
    int rc = file_content(op, &c, wait);

    if (rc < 0) {
        if (rc != -EAGAIN)
            fuse_reply_err(op->req, -rc);
        return rc == -EAGAIN ? rc : 0;
    }
    h = handle_new(op->fs, &c);
    if (!h) {
        fuse_reply_err(op->req, ENOMEM);
        return 0;
    }
    op->fi.keep_cache = 1; /* a refresh that changes the bytes invalidates them */
    op->fi.fh = (uintptr_t)h;
    if (fuse_reply_open(op->req, &op->fi) != 0)
        handle_free(op->fs, h);
    return 0;
}

/* Renders the part of a view that was asked for. */
static void reply_view(fuse_req_t req, const struct content *c, size_t size, off_t off)
{
    uint64_t total = content_size(c);
    char *buf;
    ssize_t got;

    if (off < 0 || (uint64_t)off >= total) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    if (size > total - (uint64_t)off)
        size = (size_t)(total - (uint64_t)off);
    buf = malloc(size ? size : 1);
    got = buf ? view_read(c->view, c->l, (uint64_t)off, buf, size) : -1;
    if (got < 0)
        fuse_reply_err(req, buf ? errno : ENOMEM);
    else
        fuse_reply_buf(req, buf, (size_t)got);
    free(buf);
}

static void reply_slice(fuse_req_t req, const struct content *c, size_t size, off_t off)
{
    const struct listing_entry *e = c->e;

    if (c->view) {
        reply_view(req, c, size, off);
        return;
    }
    if (off < 0 || (size_t)off >= e->len) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    if (size > e->len - (size_t)off)
        size = e->len - (size_t)off;
    fuse_reply_buf(req, e->bytes + off, size);
}

/* A read without an open (no_open): by inode, from the current listing
 * (a view: from the one this reader's read began with). */
static int do_read(struct op *op, struct node **wait)
{
    struct tree *t = op->fs->tree;
    struct node *n = tree_node(t, op->ino);
    struct content c;
    int rc = n ? tree_read_content(t, n, fuse_req_ctx(op->req)->pid, (uint64_t)op->off, &c, wait)
               : -ENOENT;

    if (rc == -EAGAIN)
        return rc;
    if (rc < 0) {
        fuse_reply_err(op->req, -rc);
        return 0;
    }
    reply_slice(op->req, &c, op->size, op->off);
    content_drop(&c);
    return 0;
}

static int do_readlink(struct op *op, struct node **wait)
{
    struct tree *t = op->fs->tree;
    struct node *n = tree_node(t, op->ino);
    char target[PATH_MAX];
    int rc = n ? tree_readlink(t, n, target, sizeof(target), wait) : -ENOENT;

    if (rc == -EAGAIN)
        return rc;
    if (rc < 0)
        fuse_reply_err(op->req, -rc);
    else
        fuse_reply_readlink(op->req, target);
    return 0;
}

typedef int (*op_fn)(struct op *op, struct node **wait);

static const op_fn op_fns[] = {
    [OP_LOOKUP] = do_lookup, [OP_GETATTR] = do_getattr, [OP_OPENDIR] = do_opendir,
    [OP_OPEN] = do_open,     [OP_READ] = do_read,       [OP_READLINK] = do_readlink,
};

/* ---- parking ---- */

static void op_free(struct op *op)
{
    if (op->parked) {
        free(op->name);
        free(op);
    }
}

static bool op_is_req(struct cache_waiter *w, void *req)
{
    return ((struct op *)w)->req == req;
}

/* The kernel interrupts a parked request: answer EINTR now; the load goes on. */
static void op_interrupted(fuse_req_t req, void *data)
{
    struct node *n = data;
    struct cache_waiter *w = cache_unwait(n->cache, op_is_req, req);

    if (!w)
        return; /* not parked there (any more): it is being answered */
    atomic_fetch_add(&((struct op *)w)->fs->interrupted, 1);
    fuse_reply_err(req, EINTR);
    op_free((struct op *)w);
}

static bool op_cancelled(struct cache_waiter *w)
{
    return fuse_req_interrupted(((struct op *)w)->req);
}

static void op_run(struct op *op);

static void op_woken(struct cache_waiter *w)
{
    op_run((struct op *)w);
}

/* A copy of a first try, on the heap, to park. */
static struct op *op_keep(struct op *op)
{
    struct op *kept;

    if (op->parked)
        return op;
    kept = malloc(sizeof(*kept));
    if (!kept)
        return NULL;
    *kept = *op;
    kept->parked = true;
    kept->name = op->name ? strdup(op->name) : NULL;
    if (op->name && !kept->name) {
        free(kept);
        return NULL;
    }
    kept->w = (struct cache_waiter){.wake = op_woken, .cancelled = op_cancelled};
    atomic_fetch_add(&op->fs->parked, 1);
    return kept;
}

/* Tries op until it is answered or parked. */
static void op_run(struct op *op)
{
    for (;;) {
        struct node *wait = NULL;
        struct op *kept;

        if (op_fns[op->kind](op, &wait) != -EAGAIN) {
            op_free(op);
            return;
        }
        kept = op_keep(op);
        if (!kept) {
            fuse_reply_err(op->req, ENOMEM);
            return;
        }
        op = kept;
        fuse_req_interrupt_func(op->req, op_interrupted, wait);
        switch (tree_wait(op->fs->tree, wait, &op->w)) {
        case CACHE_WAITING:
            return; /* op may be answered and freed by now */
        case CACHE_CANCELLED:
            atomic_fetch_add(&op->fs->interrupted, 1);
            fuse_reply_err(op->req, EINTR);
            op_free(op);
            return;
        case CACHE_OVER:
            break; /* the load ended meanwhile: try again */
        }
    }
}

static void op_start(fuse_req_t req, enum op_kind kind, fuse_ino_t ino, const char *name,
                     size_t size, off_t off, const struct fuse_file_info *fi)
{
    struct op op = {.req = req,
                    .fs = fs_of(req),
                    .kind = kind,
                    .ino = ino,
                    .size = size,
                    .off = off,
                    .name = (char *)name};

    if (fi)
        op.fi = *fi;
    op_run(&op);
}

/* ---- the callbacks ---- */

static void cfs_init(void *userdata, struct fuse_conn_info *conn)
{
    struct fs *fs = userdata;

    /* the kernel opens files itself and reads them by inode */
    fs->no_open = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
    /* every entry's attributes are at hand: always readdirplus */
    if (conn->capable & FUSE_CAP_READDIRPLUS)
        conn->want |= FUSE_CAP_READDIRPLUS;
    conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
    if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
        conn->want |= FUSE_CAP_PARALLEL_DIROPS;
    if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
        conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
    /* there are never ACLs, and so the kernel keeps that answer: `ls -l`
     * asks each file for system.posix_acl_access once, not every time */
    if (conn->capable & FUSE_CAP_POSIX_ACL)
        conn->want |= FUSE_CAP_POSIX_ACL;
    /* O_TRUNC as a setattr of its own, so that opening any file but the
     * refresh control with it fails (EROFS) even when the kernel opens
     * files itself */
    conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
}

static void cfs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    op_start(req, OP_LOOKUP, parent, name, 0, 0, NULL);
}

static void cfs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    /* nodes live as long as the mount: their inode numbers stay fixed */
    (void)ino;
    (void)nlookup;
    fuse_reply_none(req);
}

static void cfs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    (void)count;
    (void)forgets;
    fuse_reply_none(req);
}

static void cfs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    op_start(req, OP_GETATTR, ino, NULL, 0, 0, NULL);
}

static void cfs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    op_start(req, OP_OPENDIR, ino, NULL, 0, 0, fi);
}

static mode_t entry_mode(const struct listing_entry *e)
{
    return e->type == ENTRY_DIR ? S_IFDIR : e->type == ENTRY_LINK ? S_IFLNK : S_IFREG;
}

/* Adds one entry; returns its size, or more than `room` when it does not
 * fit.  *told: a file whose attributes went with it (readdirplus). */
static size_t add_entry(fuse_req_t req, struct tree *t, struct node *dir, char *buf, size_t room,
                        const struct listing_entry *e, off_t next, bool plus, struct node **told)
{
    struct node *child = tree_child(t, dir, e);
    struct fuse_entry_param ep = {0};
    size_t need;

    *told = NULL;
    ep.attr.st_ino = child ? child->ino : 0;
    ep.attr.st_mode = entry_mode(e);
    if (!plus)
        return fuse_add_direntry(req, buf, room, e->name, &ep.attr, next);
    /* full attributes where they are at hand; otherwise a plain entry that
     * the kernel looks up when it needs it (a lazily fetched file) */
    if (child && tree_stat(t, child, &ep.attr, NULL) == 0) {
        ep.ino = child->ino;
        ep.attr_timeout = node_valid_for(t, child);
        ep.entry_timeout = ep.attr_timeout;
    }
    need = fuse_add_direntry_plus(req, buf, room, e->name, &ep, next);
    *told = need <= room && ep.ino && !S_ISDIR(ep.attr.st_mode) ? child : NULL;
    return need;
}

/* Offsets: 1 after ".", 2 after "..", 3 + i after entry i.  Files whose
 * attributes went out get their bytes into the page cache once the kernel
 * has the reply (and so knows their inodes). */
static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi, bool plus)
{
    struct tree *t = fs_of(req)->tree;
    struct node *dir = tree_node(t, ino);
    struct listing *l = handle_of(fi)->content.l;
    char *buf = malloc(size);
    struct node **told = plus ? calloc(size / 24 + 1, sizeof(*told)) : NULL;
    size_t used = 0, n_told = 0;

    if (!buf || !dir || (plus && !told)) {
        free(buf);
        free(told);
        fuse_reply_err(req, !dir ? ENOENT : ENOMEM);
        return;
    }
    for (off_t i = off; i < (off_t)l->n + 2; i++) {
        struct node *file = NULL;
        size_t need;

        if (i < 2) {
            struct fuse_entry_param ep = {0};
            ep.attr.st_ino = i == 0 || !dir->parent ? dir->ino : dir->parent->ino;
            ep.attr.st_mode = S_IFDIR;
            need = plus ? fuse_add_direntry_plus(req, buf + used, size - used, i ? ".." : ".", &ep,
                                                 i + 1)
                        : fuse_add_direntry(req, buf + used, size - used, i ? ".." : ".", &ep.attr,
                                            i + 1);
        } else {
            need = add_entry(req, t, dir, buf + used, size - used, &l->entries[i - 2], i + 1, plus,
                             &file);
        }
        if (need > size - used)
            break;
        used += need;
        if (file)
            told[n_told++] = file;
    }
    fuse_reply_buf(req, buf, used);
    for (size_t i = 0; i < n_told; i++) {
        tree_revalidate(t, told[i]);
        tree_prefill(t, told[i]);
    }
    free(buf);
    free(told);
}

static void cfs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
    do_readdir(req, ino, size, off, fi, false);
}

static void cfs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                            struct fuse_file_info *fi)
{
    do_readdir(req, ino, size, off, fi, true);
}

static void cfs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    handle_free(fs_of(req), handle_of(fi));
    fuse_reply_err(req, 0);
}

static void cfs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    bool writes = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & (O_TRUNC | O_CREAT));

    if (writes && !writable(req, ino)) {
        fuse_reply_err(req, EROFS);
        return;
    }
    if (fs_of(req)->no_open) {
        fuse_reply_err(req, ENOSYS); /* from now on the kernel opens files itself */
        return;
    }
    if (writes) {
        fi->direct_io = 1; /* a control file: nothing to keep */
        fi->fh = 0;
        fuse_reply_open(req, fi);
        return;
    }
    op_start(req, OP_OPEN, ino, NULL, 0, 0, fi);
}

static void cfs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    struct handle *h = handle_of(fi);

    if (!h) {
        op_start(req, OP_READ, ino, NULL, size, off, NULL);
        return;
    }
    reply_slice(req, &h->content, size, off);
}

static void cfs_readlink(fuse_req_t req, fuse_ino_t ino)
{
    op_start(req, OP_READLINK, ino, NULL, 0, 0, NULL);
}

static void cfs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    handle_free(fs_of(req), handle_of(fi));
    fuse_reply_err(req, 0);
}

#define STATFS_FREE_BYTES (1ULL << 50) /* 1 PiB */
#define STATFS_FREE_FILES (1ULL << 30)

static void cfs_statfs(fuse_req_t req, fuse_ino_t ino)
{
    struct tree *t = fs_of(req)->tree;
    struct statvfs sv;

    (void)ino;
    memset(&sv, 0, sizeof(sv));
    sv.f_bsize = 4096;
    sv.f_frsize = 4096;
    /* the providers have no size: free space and files are reported as
     * plenty (as rclone does), so that df and disk-full monitors see a
     * mount that is not full */
    sv.f_bfree = sv.f_bavail = STATFS_FREE_BYTES / 4096;
    sv.f_blocks = (atomic_load(&t->bytes) + 4095) / 4096 + sv.f_bfree;
    sv.f_ffree = sv.f_favail = STATFS_FREE_FILES;
    sv.f_files = tree_count(t) + sv.f_ffree;
    sv.f_namemax = 255;
    sv.f_flag = ST_NOSUID | ST_NODEV;
    fuse_reply_statfs(req, &sv);
}

/* ---- everything that would change the tree ---- */

/* Only the truncation that comes with `echo path > refresh`. */
static void cfs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                        struct fuse_file_info *fi)
{
    const int harmless = FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
                         FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME;
    struct tree *t = fs_of(req)->tree;
    struct node *n = writable(req, ino);
    struct stat st;

    (void)fi;
    if (!n || (to_set & ~harmless) || ((to_set & FUSE_SET_ATTR_SIZE) && attr->st_size != 0) ||
        tree_stat(t, n, &st, NULL) != 0) {
        fuse_reply_err(req, EROFS);
        return;
    }
    fuse_reply_attr(req, &st, 0);
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
    struct node *n = writable(req, ino);
    int rc = n ? tree_write(fs_of(req)->tree, n, buf, size) : -EROFS;

    (void)off, (void)fi;
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_write(req, (size_t)rc);
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

/* Answers an xattr call: the bytes when asked with room, else the size. */
static void reply_xattr(fuse_req_t req, int rc, const char *buf, size_t size)
{
    if (rc < 0)
        fuse_reply_err(req, -rc);
    else if (size == 0)
        fuse_reply_xattr(req, (size_t)rc);
    else
        fuse_reply_buf(req, buf, (size_t)rc);
}

static void cfs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    struct tree *t = fs_of(req)->tree;
    struct node *n = tree_node(t, ino);
    char buf[1024];
    int rc;

    if (!n) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    rc = tree_getxattr(t, n, name, buf, size > sizeof(buf) ? sizeof(buf) : size);
    if (rc == -ERANGE && size > sizeof(buf))
        rc = -EIO; /* never: values are shorter than buf */
    reply_xattr(req, rc, buf, size);
}

static void cfs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    struct tree *t = fs_of(req)->tree;
    struct node *n = tree_node(t, ino);
    char buf[512];
    int rc;

    if (!n) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    rc = tree_listxattr(t, n, buf, size > sizeof(buf) ? sizeof(buf) : size);
    reply_xattr(req, rc, buf, size);
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

/* At unmount: the handles the kernel never released. */
static void cfs_destroy(void *userdata)
{
    struct fs *fs = userdata;
    unsigned long n = 0;

    while (fs->handles) {
        handle_free(fs, fs->handles);
        n++;
    }
    if (n)
        log_debug("freed %lu open handles the kernel did not release", n);
}

void fs_init(struct fs *fs, struct tree *t)
{
    memset(fs, 0, sizeof(*fs));
    fs->tree = t;
    pthread_mutex_init(&fs->handles_lock, NULL);
}

void fs_fini(struct fs *fs)
{
    cfs_destroy(fs); /* if the session never ran its destroy */
    pthread_mutex_destroy(&fs->handles_lock);
}

const struct fuse_lowlevel_ops campaignfs_ops = {
    .init = cfs_init,
    .destroy = cfs_destroy,
    .lookup = cfs_lookup,
    .forget = cfs_forget,
    .forget_multi = cfs_forget_multi,
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
    .readdirplus = cfs_readdirplus,
    .releasedir = cfs_releasedir,
    .statfs = cfs_statfs,
    .setxattr = cfs_setxattr,
    .readlink = cfs_readlink,
    .getxattr = cfs_getxattr,
    .listxattr = cfs_listxattr,
    .removexattr = cfs_removexattr,
    .create = cfs_create,
    .fallocate = cfs_fallocate,
};
