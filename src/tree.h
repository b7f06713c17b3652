/**
 * @file tree.h
 * The directory model.  A node is one path of the mount (its inode number
 * is fixed for the life of the mount); node kinds are a table saying how a
 * node's listing is loaded and what its children are.  Directories and
 * lazily fetched files own a cache: a listing with an expiry, fetched on
 * miss, one fetch at a time (others wait for it), swapped in whole.
 */
#ifndef CAMPAIGNFS_TREE_H
#define CAMPAIGNFS_TREE_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>

#include "account.h"
#include "listing.h"

enum node_kind {
    NODE_ROOT,
    NODE_ACCOUNT,   /* <account>/ */
    NODE_CAMPAIGNS, /* <account>/campaigns/ */
    NODE_CAMPAIGN,  /* <account>/campaigns/<id>/ */
    NODE_CONTACTS,  /* .../<id>/contacts/ */
    NODE_CALLS,     /* .../<id>/calls/ */
    NODE_RECORD,    /* a file whose bytes are in its directory's listing */
    NODE_LAZY,      /* a file fetched on its own: campaign.json, a Truedy call */
    NODE_KIND_COUNT
};

struct cache {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct listing *value; /* NULL until the first successful load */
    double expires;        /* monotonic seconds */
    double retry_at;       /* after a failure: no new attempt before this */
    int last_errno;        /* of the last failure while value is NULL */
    bool fetching;
};

struct node {
    fuse_ino_t ino;
    enum node_kind kind;
    struct node *parent;
    char *name;
    struct account *acct; /* NULL for the root */
    char *id;             /* campaign id (NODE_CAMPAIGN), record id (NODE_LAZY) */
    struct cache cache;   /* directories and lazy files */
    void *children;       /* tsearch index name -> node, under tree.lock */
    time_t open_mtime;    /* what the last open() served, for keep_cache (cache.lock) */
    size_t open_size;
};

struct tree {
    pthread_mutex_t lock; /* the inode table and the children indexes */
    struct node **nodes;  /* nodes[ino - 1] */
    size_t n_nodes, cap;
    struct account *accounts;
    size_t n_accounts;
    time_t mounted;     /* wall clock at start: mtime of the fixed directories */
    long ttl;           /* the mount's -o ttl */
    atomic_ulong bytes; /* bytes of all files currently listed (for statfs) */
};

int tree_init(struct tree *t, struct account *accounts, size_t n_accounts, long ttl);
void tree_destroy(struct tree *t);

/* The node with that inode number, or NULL. */
struct node *tree_node(struct tree *t, fuse_ino_t ino);

bool node_is_dir(const struct node *n);

/* The TTL that applies to a node (its account's, else the mount's). */
double node_timeout(const struct tree *t, const struct node *n);

/* Seconds the kernel may keep n's name and attributes: no longer than the
 * listings they came from stay current, so that after a refresh the kernel
 * asks again (a changed file is never read with its old size). */
double node_valid_for(struct tree *t, struct node *n);

/* Seconds the kernel may remember that a name is not in dir. */
double dir_valid_for(struct tree *t, struct node *dir);

/* The current listing of a directory node (fetching it if missing or
 * expired).  The caller listing_unref()s it.  Returns 0 or -errno. */
int tree_listing(struct tree *t, struct node *dir, struct listing **out);

/* The child node for an entry of dir's listing (created on first use). */
struct node *tree_child(struct tree *t, struct node *dir, const struct listing_entry *e);

/* Looks name up in dir: 0 with the child and its attributes, or -errno
 * (-ENOENT for an unknown name). */
int tree_lookup(struct tree *t, struct node *dir, const char *name, struct node **child,
                struct stat *st);

/* Attributes of a node.  0 or -errno. */
int tree_stat(struct tree *t, struct node *n, struct stat *st);

/* Records that a file was opened with these bytes; returns whether the
 * kernel's cached pages from the previous open are still valid (a change
 * always moves mtime, see listing_carry_times()). */
bool node_opened(struct node *n, time_t mtime, size_t size);

/* The bytes of a file node: the listing holding them (a reference the
 * caller drops) and the entry.  0 or -errno. */
int tree_content(struct tree *t, struct node *n, struct listing **l,
                 const struct listing_entry **e);

#endif
