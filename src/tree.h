/**
 * @file tree.h
 * The directory model.  A node is one path of the mount; its inode number
 * comes from the path (a hash; the same in every mount, collisions resolved
 * and recorded on disk).  Node kinds are a table: each kind
 * says its mode, where its attributes come from, how its content is read,
 * how its listing is loaded, its xattrs and its symlink target.  Listed
 * nodes own a cache (cache.h); loads run on the engine (engine.h) and
 * nothing here blocks: an answer that needs a load in flight is -EAGAIN
 * with the node to wait for (tree_wait()).
 */
#ifndef CAMPAIGNFS_TREE_H
#define CAMPAIGNFS_TREE_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "account.h"
#include "cache.h"
#include "listing.h"
#include "pins.h"

struct engine;
struct kids;
struct notifier;

enum node_kind {
    NODE_ROOT,
    NODE_ACCOUNT,   /* <account>/ */
    NODE_CAMPAIGNS, /* <account>/campaigns/ */
    NODE_CAMPAIGN,  /* <account>/campaigns/<id>/ */
    NODE_CONTACTS,  /* .../<id>/contacts/ */
    NODE_CALLS,     /* .../<id>/calls/ */
    NODE_RECORD,    /* a file whose bytes are in its directory's listing */
    NODE_LAZY,      /* a file fetched on its own: campaign.json, a Truedy call */
    NODE_CTL,       /* .campaignfs/: status and control, hidden from the root's listing */
    NODE_STATUS,    /* .campaignfs/status: JSON rendered when it is looked up */
    NODE_REFRESH,   /* .campaignfs/refresh: paths written to it expire */
    NODE_VIEW,      /* .../<id>/contacts.ndjson, calls.ndjson, contacts.csv: one-file views */
    NODE_BYNAME,    /* <account>/by-name/: a link per campaign, named by its name */
    NODE_LINK,      /* <account>/by-name/<name> -> ../campaigns/<id> */
    NODE_BYSTATUS,  /* .../contacts/by-status/: reached by name, not in contacts/'s listing */
    NODE_STATUSDIR, /* .../contacts/by-status/<status>/: its files are contacts/'s */
    NODE_KIND_COUNT
};

struct node {
    struct node *parent;
    struct account *acct;  /* NULL for the root */
    char *id;              /* campaign id (NODE_CAMPAIGN), record id (NODE_LAZY) */
    struct cache *cache;   /* kinds that load a listing; NULL for NODE_RECORD */
    struct kids *children; /* sorted by name, under tree.lock (tree.c) */
    /* a contact reached through by-status/<status>/: that directory, whose
     * listing has its bytes while contacts/ has none at hand */
    struct node *_Atomic via;
    /* directories: serial of the listing the kernel's readdir cache holds;
     * files: serial of the listing the kernel's size came from */
    atomic_ulong serial;
    uint64_t ino;
    unsigned char kind; /* enum node_kind */
    bool disk_tried;    /* its listing was looked for on disk (or there is no disk copy) */
    char name[];
};

#define TREE_CTL_NAME      ".campaignfs"
#define TREE_BYSTATUS_NAME "by-status"

struct tree {
    pthread_mutex_t lock; /* the inode table and the children indexes */
    void *by_ino;         /* tsearch tree of every node, by inode number */
    size_t n_nodes;
    struct account *accounts;
    size_t n_accounts;
    time_t mounted;     /* wall clock at start (the fixed directories' mtime without a disk copy) */
    double started;     /* monotonic at start */
    long ttl;           /* the mount's -o ttl */
    long max_stale;     /* -o max_stale: seconds past the TTL a listing is shown */
    atomic_ulong bytes; /* bytes of all files currently listed (for statfs) */
    struct engine *engine;
    struct notifier *notifier; /* NULL: nothing to tell the kernel */
    struct store *disk;        /* the on-disk copy (store.h), or NULL */
    bool offline;              /* -o offline: nothing is requested, only the disk copy shown */
    struct node *ctl;          /* .campaignfs/ */
    /* who owns every node, and the permission bits taken away (-o uid, gid, umask) */
    uid_t uid;
    gid_t gid;
    mode_t umask;
    pthread_mutex_t status_lock; /* status, status_at */
    struct listing *status;      /* the last rendering of .campaignfs/status */
    struct timespec status_at;   /* when it was rendered: its mtime */
    struct pins pins;            /* the views' read snapshots, per reading process */
};

int tree_init(struct tree *t, struct account *accounts, size_t n_accounts, long ttl, long max_stale,
              struct engine *engine);
void tree_destroy(struct tree *t);

/* The node with that inode number, or NULL. */
struct node *tree_node(struct tree *t, fuse_ino_t ino);

bool node_is_dir(const struct node *n);

/* Seconds the kernel may keep n's name and attributes: no longer than the
 * listings they came from stay fresh (refreshes that change them also
 * invalidate them explicitly). */
double node_valid_for(struct tree *t, struct node *n);

/* Seconds the kernel may remember that a name is not in dir. */
double dir_valid_for(struct tree *t, struct node *dir);

/* Every tree_* function below that may need a load takes `wait`: with it,
 * a needed load is started and the answer is -EAGAIN with *wait set to the
 * node whose load to wait for; with wait NULL nothing is started (a peek)
 * and what is not at hand is -EAGAIN. */

/* The listing of a directory node (the caller listing_unref()s it).
 * 0 or -errno. */
int tree_listing(struct tree *t, struct node *dir, struct listing **out, struct node **wait);

/* Registers w for the end of the load of node (see cache_wait()). */
enum cache_wait_answer tree_wait(struct tree *t, struct node *node, struct cache_waiter *w);

/* The child node for an entry of dir's listing (created on first use). */
struct node *tree_child(struct tree *t, struct node *dir, const struct listing_entry *e);

/* Looks name up in dir: 0 with the child and its attributes, or -errno
 * (-ENOENT for an unknown name). */
int tree_lookup(struct tree *t, struct node *dir, const char *name, struct node **child,
                struct stat *st, struct node **wait);

/* Attributes of a node.  0 or -errno. */
int tree_stat(struct tree *t, struct node *n, struct stat *st, struct node **wait);

/* What a file holds: the bytes of a listing entry, or a view of a listing. */
struct content {
    struct listing *l;             /* a reference (content_drop()); NULL for fixed bytes */
    const struct listing_entry *e; /* the bytes; NULL for a view */
    const struct view *view;       /* a view of l; NULL for bytes */
};

/* The content of a file node.  0 or -errno. */
int tree_content(struct tree *t, struct node *n, struct content *c, struct node **wait);
void content_drop(struct content *c);

/* The content a read by process pid at off is answered from: for a view,
 * the listing that pid's read began with (pins.h), so a read that a
 * refresh overtakes is still one listing's, whole.  pid 0: no snapshot. */
int tree_read_content(struct tree *t, struct node *n, pid_t pid, uint64_t off, struct content *c,
                      struct node **wait);

/* tree_stat() as process pid is told it: the size of the snapshot its read
 * goes on with, if any (*snapshot then says whether that is not the current
 * listing's, an answer the kernel must not keep). */
int tree_stat_as(struct tree *t, struct node *n, pid_t pid, struct stat *st, bool *snapshot,
                 struct node **wait);

/* Its size in bytes. */
uint64_t content_size(const struct content *c);

/* A file fetched on its own that a directory listing just showed (with
 * attributes the kernel may keep a while): past its TTL, its refresh
 * starts now, since the kernel may not ask for it again before a TTL more. */
void tree_revalidate(struct tree *t, struct node *n);

/* After the kernel was told a file's attributes (readdirplus): hands it
 * the file's bytes too, when they are at hand, so its first read is
 * answered from the page cache. */
void tree_prefill(struct tree *t, struct node *n);

/* Extended attributes (user.campaignfs.*: url, fetched_at, expires_at,
 * stale; directories also total and, after a failed load, error): the value
 * of name copied into buf, or with size 0 only its length; the list of
 * names, NUL-separated.  The length, or -ENODATA (no such attribute) or
 * -ERANGE (buf too small).  Nothing is loaded. */
int tree_getxattr(struct tree *t, struct node *n, const char *name, char *buf, size_t size);
int tree_listxattr(struct tree *t, struct node *n, char *buf, size_t size);

/* Expires the listing of the node at path (relative to the mount, "" or
 * "/" for every listing) and of everything below it, so that the next
 * access refetches them (showing the old ones meanwhile, within
 * max_stale), and tells the kernel.  Nothing is fetched here.  The number
 * of listings expired, or -ENOENT (a name the listings do not hold) or
 * -EINVAL. */
int tree_refresh(struct tree *t, const char *path);

/* Whether writes to n are taken (the refresh control), and a write to it:
 * the bytes taken, or -errno (-EROFS for every other node). */
bool tree_writable(const struct node *n);
int tree_write(struct tree *t, struct node *n, const char *buf, size_t size);

/* How many nodes there are. */
size_t tree_count(struct tree *t);

/* Every node there is now (malloc'd; nodes are never freed while mounted). */
struct node **tree_nodes(struct tree *t, size_t *n);

/* n's path relative to the mount ("" for the root), truncated to len. */
void tree_path(const struct node *n, char *buf, size_t len);

/* The target of a symbolic link, copied into buf (len bytes with the
 * NUL).  0 or -errno. */
int tree_readlink(struct tree *t, struct node *n, char *buf, size_t len, struct node **wait);

/* Records that the kernel was handed listing l of dir for its readdir
 * cache; returns whether it held that very listing already. */
bool tree_dir_opened(struct node *dir, const struct listing *l);

#endif
