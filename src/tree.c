/**
 * @file tree.c
 * Nodes, inode numbers, the table of node kinds and their loaders, and what
 * a refresh tells the kernel.  FUSE never sees a URL or JSON from here: it
 * gets nodes, attributes and bytes, or -EAGAIN and a node to wait for.
 */
#include "tree.h"

#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <openssl/evp.h>
#include <search.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "fetch.h"
#include "log.h"
#include "names.h"
#include "notify.h"
#include "status.h"
#include "store.h"

/* Where a node's size and mtime come from, and (files) its bytes: the
 * listing entry that describes it.  NULL in the table: a fixed directory
 * (the mount's time). */
typedef int (*entry_fn)(struct tree *t, struct node *n, struct listing **l,
                        const struct listing_entry **e, struct node **wait);

/* Starts loading n's listing; ends with tree_loaded(). */
typedef void (*load_fn)(struct tree *t, struct node *n);

struct node_type {
    const char *what; /* for messages */
    mode_t mode;
    bool fetched;         /* its listing expires (TTL) and is refetched */
    enum node_kind child; /* kind of the children of listed records/dirs */
    load_fn load;         /* NULL: nothing listed (a file in its parent's listing) */
    entry_fn attr;        /* where size and mtime come from */
    entry_fn content;     /* files: where the bytes are */
    /* hooks for what later kinds need; NULL: none */
    int (*readlink)(struct tree *t, struct node *n, char *buf, size_t len, struct node **wait);
    /* the node whose listing n's data came from (NULL: the default, the
     * nearest of n and its ancestors whose kind is fetched) */
    struct node *(*source)(struct tree *t, struct node *n);
    /* a one-file view of a sibling directory's listing (views.h) */
    bool view;
    /* a file whose bytes are made anew each time a path walk looks it up
     * (its mtime is that moment) */
    void (*generate)(struct tree *t);
    /* writes taken (NULL: EROFS) */
    int (*write)(struct tree *t, struct node *n, const char *buf, size_t size);
    /* a directory whose entries are another directory's nodes (the same
     * files, inode numbers and bytes): that directory */
    struct node *(*alias)(struct node *dir);
};

static void load_root(struct tree *t, struct node *n);
static void load_account(struct tree *t, struct node *n);
static void load_campaigns(struct tree *t, struct node *n);
static void load_campaign(struct tree *t, struct node *n);
static void load_contacts(struct tree *t, struct node *n);
static void load_calls(struct tree *t, struct node *n);
static void load_lazy(struct tree *t, struct node *n);
static int entry_in_parent(struct tree *t, struct node *n, struct listing **l,
                           const struct listing_entry **e, struct node **wait);
static int entry_of_campaign(struct tree *t, struct node *n, struct listing **l,
                             const struct listing_entry **e, struct node **wait);
static int entry_own(struct tree *t, struct node *n, struct listing **l,
                     const struct listing_entry **e, struct node **wait);
static void load_ctl(struct tree *t, struct node *n);
static void load_byname(struct tree *t, struct node *n);
static int entry_status(struct tree *t, struct node *n, struct listing **l,
                        const struct listing_entry **e, struct node **wait);
static int entry_empty(struct tree *t, struct node *n, struct listing **l,
                       const struct listing_entry **e, struct node **wait);
static void status_generate(struct tree *t);
static struct node *view_source_known(struct tree *t, struct node *n);
static int refresh_write(struct tree *t, struct node *n, const char *buf, size_t size);
static int link_target(struct tree *t, struct node *n, char *buf, size_t len, struct node **wait);
static void load_bystatus(struct tree *t, struct node *n);
static void fail_dependent(struct tree *t, struct node *n, int rc, const char *what);
static void load_statusdir(struct tree *t, struct node *n);
static struct node *contacts_of(struct node *dir);

#define DIR_MODE  (S_IFDIR | 0555)
#define FILE_MODE (S_IFREG | 0444)

static const struct node_type node_types[NODE_KIND_COUNT] = {
    [NODE_ROOT] = {"the accounts", DIR_MODE, false, NODE_ACCOUNT, load_root},
    [NODE_ACCOUNT] = {"the account", DIR_MODE, false, NODE_CAMPAIGNS, load_account},
    [NODE_CAMPAIGNS] = {"the campaign list", DIR_MODE, true, NODE_CAMPAIGN, load_campaigns},
    [NODE_CAMPAIGN] = {"the campaign", DIR_MODE, false, NODE_CONTACTS, load_campaign,
                       entry_in_parent},
    [NODE_CONTACTS] = {"the contacts", DIR_MODE, true, NODE_RECORD, load_contacts,
                       entry_of_campaign},
    [NODE_CALLS] = {"the calls", DIR_MODE, true, NODE_RECORD, load_calls, entry_of_campaign},
    [NODE_RECORD] = {"the record", FILE_MODE, false, NODE_RECORD, NULL, entry_in_parent,
                     entry_in_parent},
    [NODE_LAZY] = {"the record", FILE_MODE, true, NODE_RECORD, load_lazy, entry_own, entry_own},
    [NODE_CTL] = {"the control directory", DIR_MODE, false, NODE_RECORD, load_ctl},
    [NODE_STATUS] = {"the status", FILE_MODE, false, NODE_RECORD, NULL, entry_status, entry_status,
                     .generate = status_generate},
    [NODE_REFRESH] = {"the refresh control", S_IFREG | 0200, false, NODE_RECORD, NULL, NULL,
                      entry_empty, .write = refresh_write},
    [NODE_VIEW] = {"the view", FILE_MODE, false, NODE_RECORD, NULL, .source = view_source_known,
                   .view = true},
    [NODE_BYNAME] = {"the campaigns by name", DIR_MODE, true, NODE_LINK, load_byname},
    [NODE_LINK] = {"the link", S_IFLNK | 0777, false, NODE_LINK, NULL, entry_in_parent,
                   .readlink = link_target},
    [NODE_BYSTATUS] = {"the contacts by status", DIR_MODE, false, NODE_STATUSDIR, load_bystatus},
    [NODE_STATUSDIR] = {"the contacts of a status", DIR_MODE, true, NODE_RECORD, load_statusdir,
                        .alias = contacts_of},
};

/* The one-file views of a campaign: what they are named, whose listing
 * they show, and how. */
static const struct view_file {
    const char *name, *source;
    enum view_kind kind;
} view_files[] = {
    {"contacts.ndjson", "contacts", VIEW_NDJSON},
    {"contacts.csv", "contacts", VIEW_CSV},
    {"calls.ndjson", "calls", VIEW_NDJSON},
};

static const struct view_file *view_file_of(const struct node *n)
{
    for (size_t i = 0; i < sizeof(view_files) / sizeof(view_files[0]); i++)
        if (strcmp(view_files[i].name, n->name) == 0)
            return &view_files[i];
    return NULL;
}

/* ---- nodes and inodes ---- */

/* A directory's children, sorted by name (under tree.lock). */
struct kids {
    size_t n, cap;
    struct node *v[];
};

/* Where name is in k (*found), or where it would go. */
static size_t kid_pos(const struct kids *k, const char *name, bool *found)
{
    size_t lo = 0, hi = k ? k->n : 0;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(k->v[mid]->name, name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Inserts n at position at (readdir hands names out in order: at the end). */
static int kid_insert(struct node *dir, size_t at, struct node *n)
{
    struct kids *k = dir->children;

    if (!k || k->n == k->cap) {
        size_t cap = k ? k->cap * 2 : 4;
        struct kids *grown = realloc(k, sizeof(*grown) + cap * sizeof(grown->v[0]));
        if (!grown)
            return -1;
        if (!k)
            grown->n = 0;
        grown->cap = cap;
        dir->children = k = grown;
    }
    memmove(&k->v[at + 1], &k->v[at], (k->n - at) * sizeof(k->v[0]));
    k->v[at] = n;
    k->n++;
    return 0;
}

static void node_free(struct node *n)
{
    if (n->cache) {
        cache_destroy(n->cache);
        free(n->cache);
    }
    free(n->id);
    free(n);
}

static int ino_cmp(const void *a, const void *b)
{
    uint64_t x = ((const struct node *)a)->ino, y = ((const struct node *)b)->ino;

    return x < y ? -1 : x > y;
}

#define INO_BITS 53 /* exact in a double: JSON, JavaScript and the like */

/* The probe-th inode number for path: SHA-256 of the path (and, after a
 * collision, of the path and the probe), in [2, 2^53). */
static uint64_t path_ino(const char *path, unsigned probe)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    char buf[PATH_MAX + 16];
    size_t len = strlen(path);
    uint64_t v = 0;

    if (len > PATH_MAX)
        len = PATH_MAX;
    memcpy(buf, path, len);
    if (probe)
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%c%u", '\0', probe);
    if (!EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL) || md_len < 8)
        return 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | md[i];
    v &= ((uint64_t)1 << INO_BITS) - 1;
    return v < 2 ? v + 2 : v;
}

static bool ino_taken(struct tree *t, uint64_t ino)
{
    struct node key = {.ino = ino};

    return tfind(&key, &t->by_ino, ino_cmp) != NULL;
}

/* Gives n the inode number of its path (under tree.lock): the one recorded
 * for it after an earlier collision, else the path's hash, else the first
 * free probe (recorded, so the next mount gives it the same). */
static int assign_ino(struct tree *t, struct node *n)
{
    char path[PATH_MAX];
    uint64_t ino;
    unsigned probe = 0;

    if (!n->parent) {
        n->ino = FUSE_ROOT_ID;
        return tsearch(n, &t->by_ino, ino_cmp) ? 0 : -1;
    }
    tree_path(n, path, sizeof(path));
    ino = store_inode(t->disk, path);
    if (!ino || ino_taken(t, ino)) {
        do
            ino = path_ino(path, probe++);
        while (ino && ino_taken(t, ino) && probe < 64);
        if (!ino || ino_taken(t, ino))
            return -1;
        if (probe > 1) {
            log_debug("inode number of /%s: probe %u after a collision (recorded)", path,
                      probe - 1);
            store_record_inode(t->disk, path, ino);
        }
    }
    n->ino = ino;
    return tsearch(n, &t->by_ino, ino_cmp) ? 0 : -1;
}

static struct node *node_new(struct tree *t, enum node_kind kind, struct node *parent,
                             const char *name, struct account *acct, const char *id)
{
    size_t len = strlen(name);
    struct node *n = calloc(1, sizeof(*n) + len + 1);

    if (!n)
        return NULL;
    n->kind = (unsigned char)kind;
    memcpy(n->name, name, len + 1);
    /* records find their id in their directory's listing */
    n->id = id && kind != NODE_RECORD ? strdup(id) : NULL;
    n->cache = node_types[kind].load ? malloc(sizeof(*n->cache)) : NULL;
    if ((id && kind != NODE_RECORD && !n->id) || (node_types[kind].load && !n->cache))
        goto fail;
    if (n->cache)
        cache_init(n->cache);
    n->parent = parent;
    n->acct = acct;
    if (assign_ino(t, n) < 0)
        goto fail;
    t->n_nodes++;
    return n;
fail:
    node_free(n);
    return NULL;
}

int tree_init(struct tree *t, struct account *accounts, size_t n_accounts, long ttl, long max_stale,
              struct engine *engine)
{
    struct node *root;

    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    t->accounts = accounts;
    t->n_accounts = n_accounts;
    t->ttl = ttl;
    t->max_stale = max_stale;
    t->engine = engine;
    t->mounted = time(NULL);
    t->started = rate_now();
    t->uid = getuid();
    t->gid = getgid();
    pthread_mutex_init(&t->status_lock, NULL);
    pins_init(&t->pins);
    root = node_new(t, NODE_ROOT, NULL, "", NULL, NULL);
    /* not among the root's children: reachable by name only */
    t->ctl = root ? node_new(t, NODE_CTL, root, TREE_CTL_NAME, NULL, NULL) : NULL;
    return t->ctl ? 0 : -1;
}

static void node_destroy(void *p)
{
    struct node *n = p;

    free(n->children);
    node_free(n);
}

void tree_destroy(struct tree *t)
{
    tdestroy(t->by_ino, node_destroy);
    listing_unref(t->status);
    pins_destroy(&t->pins);
    pthread_mutex_destroy(&t->status_lock);
    pthread_mutex_destroy(&t->lock);
    memset(t, 0, sizeof(*t));
}

struct node *tree_node(struct tree *t, fuse_ino_t ino)
{
    struct node key = {.ino = ino}, **found;
    struct node *n = NULL;

    pthread_mutex_lock(&t->lock);
    found = tfind(&key, &t->by_ino, ino_cmp);
    if (found)
        n = *found;
    pthread_mutex_unlock(&t->lock);
    return n;
}

bool node_is_dir(const struct node *n)
{
    return S_ISDIR(node_types[n->kind].mode);
}

static double account_ttl(const struct tree *t, const struct node *n)
{
    return (double)(n->acct ? n->acct->ttl : t->ttl);
}

static struct cache_policy policy(const struct tree *t, const struct node *n)
{
    /* a listing made from others (by-name/, by-status/) that they expired
     * is made anew before it is shown: that costs no request of its own */
    struct cache_policy p = {.ttl = -1, .max_stale = 0};

    if (node_types[n->kind].fetched) {
        p.ttl = account_ttl(t, n);
        p.max_stale = (double)t->max_stale;
    }
    return p;
}

/* Seconds the kernel may keep what n's listing told it (the TTL for fixed
 * listings). */
static double shown_for(const struct tree *t, struct node *n)
{
    struct cache_policy pol = policy(t, n);
    double left = n->cache ? cache_shown_for(n->cache, &pol, rate_now()) : 0;

    if (isinf(left))
        return account_ttl(t, n);
    return left;
}

/* The node whose listing holds the entry describing n, or NULL. */
static struct node *attr_holder(struct node *n)
{
    if (node_types[n->kind].attr == entry_in_parent)
        return n->parent;
    if (node_types[n->kind].attr == entry_of_campaign)
        return n->parent->parent;
    return NULL;
}

double node_valid_for(struct tree *t, struct node *n)
{
    struct node *src = attr_holder(n);
    double left = src ? shown_for(t, src) : account_ttl(t, n);

    if (node_types[n->kind].attr == entry_own)
        left = fmin(shown_for(t, n->parent), shown_for(t, n));
    if (node_types[n->kind].generate)
        left = 0; /* every path walk looks it up, and so makes it anew */
    if (node_types[n->kind].view) {
        struct node *shown = view_source_known(t, n);
        left = shown ? shown_for(t, shown) : 0;
    }
    return left;
}

double dir_valid_for(struct tree *t, struct node *dir)
{
    return shown_for(t, dir);
}

static enum node_kind child_kind(const struct node *dir, const struct listing_entry *e)
{
    if ((dir->kind == NODE_CTL || dir->kind == NODE_CAMPAIGN || dir->kind == NODE_ACCOUNT) &&
        e->tag)
        return (enum node_kind)e->tag;
    if (e->type == ENTRY_LAZY)
        return NODE_LAZY;
    if (e->type == ENTRY_LINK)
        return NODE_LINK;
    if (e->type == ENTRY_FILE)
        return NODE_RECORD;
    if (dir->kind == NODE_CAMPAIGN)
        return (enum node_kind)e->tag;
    return node_types[dir->kind].child;
}

static struct account *child_account(struct tree *t, const struct node *dir,
                                     const struct listing_entry *e)
{
    if (dir->kind != NODE_ROOT)
        return dir->acct;
    for (size_t i = 0; i < t->n_accounts; i++)
        if (strcmp(t->accounts[i].name, e->name) == 0)
            return &t->accounts[i];
    return NULL;
}

/* The existing child named name, or NULL. */
static struct node *find_child(struct tree *t, struct node *dir, const char *name)
{
    struct node *n = NULL;
    size_t at;
    bool found;

    pthread_mutex_lock(&t->lock);
    at = kid_pos(dir->children, name, &found);
    if (found)
        n = dir->children->v[at];
    pthread_mutex_unlock(&t->lock);
    return n;
}

struct node *tree_child(struct tree *t, struct node *dir, const struct listing_entry *e)
{
    struct node *n = NULL;
    size_t at;
    bool found;

    if (node_types[dir->kind].alias) {
        n = tree_child(t, node_types[dir->kind].alias(dir), e);
        if (n)
            atomic_store(&n->via, dir);
        return n;
    }
    pthread_mutex_lock(&t->lock);
    at = kid_pos(dir->children, e->name, &found);
    if (found) {
        n = dir->children->v[at];
    } else {
        n = node_new(t, child_kind(dir, e), dir, e->name, child_account(t, dir, e), e->id);
        if (n && kid_insert(dir, at, n) < 0)
            n = NULL; /* out of memory: the node stays in the table, unreachable */
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* dir's child name of that kind, not in dir's listing (reached by name
 * only), made on first use; NULL on out of memory. */
static struct node *hidden_child(struct tree *t, struct node *dir, const char *name,
                                 enum node_kind kind)
{
    struct node *n;
    size_t at;
    bool found;

    pthread_mutex_lock(&t->lock);
    at = kid_pos(dir->children, name, &found);
    if (found) {
        n = dir->children->v[at];
    } else {
        n = node_new(t, kind, dir, name, dir->acct, NULL);
        if (n && kid_insert(dir, at, n) < 0)
            n = NULL;
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* by-status/<status>/: its entries are contacts/'s nodes. */
static struct node *contacts_of(struct node *dir)
{
    return dir->parent->parent;
}

/* The directory whose nodes are dir's children (itself, or the one it aliases). */
static struct node *kids_dir(struct node *dir)
{
    return node_types[dir->kind].alias ? node_types[dir->kind].alias(dir) : dir;
}

/* ---- the end of a load ---- */

/* Tells the kernel to forget what it knows of the views of dir's listing
 * (their size, mtime and bytes come from it). */
static void notify_views(struct tree *t, struct node *dir)
{
    for (size_t i = 0; dir->parent && i < sizeof(view_files) / sizeof(view_files[0]); i++) {
        struct node *v = strcmp(view_files[i].source, dir->name) == 0
                             ? find_child(t, dir->parent, view_files[i].name)
                             : NULL;
        if (v)
            notify_inode(t->notifier, v->ino);
    }
}

/* Tells the kernel what changed between old and fresh listings of dir:
 * changed entries lose their cached attributes and bytes, names that came
 * or went their cached entries (or absence). */
static void invalidate(struct tree *t, struct node *dir, const struct listing *old,
                       const struct listing *fresh)
{
    bool names_changed = !old || old->n != fresh->n;

    if (!t->notifier || !old)
        return;
    if (!node_is_dir(dir)) {
        notify_inode(t->notifier, dir->ino); /* a file fetched on its own */
        return;
    }
    notify_views(t, dir);
    for (size_t i = 0; i < old->n; i++) {
        const struct listing_entry *o = &old->entries[i];
        const struct listing_entry *f = listing_find(fresh, o->name);
        struct node *child;

        if (f && listing_entry_same(f, o))
            continue;
        child = find_child(t, kids_dir(dir), o->name);
        if (!f) {
            names_changed = true;
            notify_entry(t->notifier, dir->ino, o->name);
        }
        if (child) {
            notify_inode(t->notifier, child->ino);
            /* contacts/ and calls/ take their attributes from this entry */
            for (size_t k = 0; child->kind == NODE_CAMPAIGN && k < 2; k++) {
                struct node *sub = find_child(t, child, k ? "calls" : "contacts");
                if (sub)
                    notify_inode(t->notifier, sub->ino);
            }
        }
    }
    for (size_t i = 0; i < fresh->n; i++) {
        if (!listing_find(old, fresh->entries[i].name)) {
            names_changed = true;
            notify_entry(t->notifier, dir->ino, fresh->entries[i].name);
        }
    }
    if (names_changed)
        notify_inode(t->notifier, dir->ino); /* its cached entries */
}

static void log_failure(const struct node *n, const struct fetch_error *err, bool stale, bool first)
{
    if (err->cancelled)
        log_debug("%s", err->message);
    else if (!first)
        log_debug("%s (failed again)", err->message);
    else if (stale)
        log_warn("%s (still showing the previous listing of %s)", err->message,
                 node_types[n->kind].what);
    else if (err->cls == FETCH_OFFLINE)
        log_warn("%s", err->message); /* what the user asked for */
    else
        log_error("%s", err->message);
}

#define TRIM_BYTES (1024 * 1024)

struct drop_prev {
    struct cache *cache;
    unsigned long serial;
};

static void drop_prev(void *arg)
{
    struct drop_prev *d = arg;

    cache_drop_prev(d->cache, d->serial);
    free(d);
}

/* Queues n's listing l for the disk (fetched kinds only: the fixed ones
 * are built anew), or with l NULL, the news that the one on disk was
 * fetched again unchanged. */
static void save_to_disk(struct tree *t, struct node *n, struct listing *l, bool final)
{
    struct cache_info ci;
    struct store_meta m;
    char path[PATH_MAX];

    if (!t->disk || !node_types[n->kind].fetched)
        return;
    tree_path(n, path, sizeof(path));
    cache_info(n->cache, rate_now(), &ci);
    m = (struct store_meta){ci.fetched_at, *ci.url ? ci.url : NULL, ci.total, final,
                            l ? l->changed_at : 0};
    if (l)
        store_save(t->disk, path, l, &m);
    else
        store_touch(t->disk, path, &m);
}

/* A listing made from n's (by-name/ from campaigns/) is made anew on its
 * next access. */
static int expire_below(struct tree *t, struct node *n);

/* Expires a listing made from another one that changed (and what was
 * fetched below it), so that it is made anew. */
static void expire_made(struct tree *t, struct node *n)
{
    if (!n || !n->cache)
        return;
    cache_expire(n->cache, rate_now());
    if (t->notifier)
        notify_inode(t->notifier, n->ino);
    expire_below(t, n);
}

static void expire_sibling(struct tree *t, struct node *n, const char *name)
{
    expire_made(t, n->parent ? find_child(t, n->parent, name) : NULL);
}

/* Ends n's load with a listing (fresh) or a failure (err). */
static void tree_loaded(struct tree *t, struct node *n, struct listing *fresh,
                        const struct fetch_error *err)
{
    struct cache_policy pol = policy(t, n);
    double now = rate_now();
    struct listing *prev, *old = NULL;
    bool final;

    if (!fresh) {
        struct listing *have = cache_current(n->cache);
        log_failure(n, err, have != NULL, cache_failures(n->cache) == 0);
        listing_unref(have);
        cache_fail(n->cache, &pol, now, err);
        return;
    }
    prev = cache_current(n->cache);
    listing_carry_times(fresh, prev, node_types[n->kind].fetched ? time(NULL) : t->mounted);
    /* if it differs from prev, it changed now (and never back to an older
     * time: a view's mtime moves whenever its bytes do) */
    fresh->changed_at = prev ? (time(NULL) > prev->changed_at ? time(NULL) : prev->changed_at + 1)
                             : listing_newest(fresh, time(NULL));
    listing_unref(prev);
    final = fresh->final;
    if (!cache_publish(n->cache, &pol, now, fresh, &old)) {
        save_to_disk(t, n, NULL, final); /* the same as before: only its time is new */
        return;
    }
    if (old)
        atomic_fetch_sub(&t->bytes, old->total_bytes);
    atomic_fetch_add(&t->bytes, fresh->total_bytes);
    save_to_disk(t, n, fresh, final);
    invalidate(t, n, old, fresh);
    if (n->kind == NODE_CAMPAIGNS)
        expire_sibling(t, n, "by-name"); /* made from this listing: made anew */
    if (n->kind == NODE_CONTACTS)        /* its statuses, and the lists of each */
        expire_made(t, find_child(t, n, TREE_BYSTATUS_NAME));
    if (fresh->total_bytes >= TRIM_BYTES || (old && old->total_bytes >= TRIM_BYTES))
        malloc_trim(0); /* what the listing was built from goes back */
    if (old) {
        /* reads the kernel sized from old are answered from it until the
         * kernel has dropped those sizes */
        struct drop_prev *d = malloc(sizeof(*d));
        if (d) {
            *d = (struct drop_prev){n->cache, old->serial};
            notify_then(t->notifier, drop_prev, d);
        } else {
            cache_drop_prev(n->cache, old->serial);
        }
    }
    listing_unref(old);
}

static void fail_internal(struct tree *t, struct node *n, const char *what)
{
    struct fetch_error err = {.cls = FETCH_INTERNAL};

    snprintf(err.message, sizeof(err.message), "[%s] %s: %s",
             n->acct ? n->acct->name : "campaignfs", node_types[n->kind].what, what);
    tree_loaded(t, n, NULL, &err);
}

/* ---- loaders ---- */

struct load_ctx {
    struct tree *t;
    struct node *n;
};

/* Whether the record of entry e is finished by rule r. */
static bool entry_final(const struct final_rule *r, const struct listing_entry *e)
{
    json_object *rec;
    bool final;

    if (!r->status || !e->bytes)
        return false;
    rec = json_tokener_parse(e->bytes);
    final = rec && provider_is_final(r, rec);
    json_object_put(rec);
    return final;
}

/* Whether the campaign n is under is finished (by its campaign list entry). */
static bool campaign_final(struct node *n)
{
    struct node *camp = n->parent, *list = camp ? camp->parent : NULL;
    struct listing *l;
    const struct listing_entry *e;
    bool final;

    if (!camp || camp->kind != NODE_CAMPAIGN || !list || !list->cache)
        return false;
    l = cache_current(list->cache);
    e = listing_find(l, camp->name);
    final = e && entry_final(&n->acct->provider->campaigns.final, e);
    listing_unref(l);
    return final;
}

/* Marks a listing that never changes again: a finished call fetched on
 * its own, or every call of a finished campaign, all finished. */
static void mark_final(struct node *n, struct listing *l)
{
    const struct provider *p = n->acct->provider;

    if (n->kind == NODE_LAZY && n->parent->kind == NODE_CALLS) {
        l->final = l->n == 1 && entry_final(&p->call.final, &l->entries[0]);
    } else if (n->kind == NODE_CALLS && p->calls.final.status && campaign_final(n)) {
        l->final = true;
        for (size_t i = 0; i < l->n && l->final; i++)
            l->final = entry_final(&p->calls.final, &l->entries[i]);
    }
}

static void fetched(struct fetch *f, struct listing *l, const struct fetch_error *err, void *arg)
{
    struct load_ctx *lc = arg;
    struct node *n = lc->n;

    if (l && n->kind == NODE_CAMPAIGNS && n->acct->campaigns)
        listing_keep_ids(l, n->acct->campaigns);
    if (l)
        mark_final(n, l);
    if (l)
        cache_set_source(n->cache, fetch_url(f), fetch_total(f));
    tree_loaded(lc->t, n, l, err);
    free(lc);
}

/* Runs f for n: the cache knows the fetch while it is in flight. */
static void run_fetch(struct tree *t, struct node *n, struct fetch *f, struct load_ctx *lc)
{
    if (!f) {
        free(lc);
        fail_internal(t, n, "out of memory");
        return;
    }
    pthread_mutex_lock(&n->cache->lock);
    n->cache->fetch = f;
    pthread_mutex_unlock(&n->cache->lock);
    fetch_start(f);
}

static const char *campaign_of(const struct node *n)
{
    while (n && n->kind != NODE_CAMPAIGN)
        n = n->parent;
    return n ? n->id : NULL;
}

/* -o offline, and nothing on disk for n. */
static void fail_offline(struct tree *t, struct node *n)
{
    struct fetch_error err = {.cls = FETCH_OFFLINE};
    char path[512];

    tree_path(n, path, sizeof(path));
    snprintf(err.message, sizeof(err.message),
             "[%s] offline (-o offline): %s at /%s was never fetched, so there is no copy on disk "
             "to show; %s",
             n->acct ? n->acct->name : "campaignfs", node_types[n->kind].what, path,
             fetch_hint(FETCH_OFFLINE));
    tree_loaded(t, n, NULL, &err);
}

static void fetch_list(struct tree *t, struct node *n, const struct collection *coll,
                       const char *status, enum entry_type type)
{
    struct load_ctx *lc;
    struct fetch *f = NULL;

    if (t->offline) {
        fail_offline(t, n);
        return;
    }
    lc = malloc(sizeof(*lc));
    if (lc) {
        *lc = (struct load_ctx){t, n};
        f = fetch_collection(t->engine, n->acct, coll, campaign_of(n), status, type, fetched, lc);
    }
    run_fetch(t, n, f, lc);
}

static void finish_static(struct tree *t, struct node *n, struct listing_builder *b)
{
    struct listing *l = listing_builder_finish(b);

    if (l)
        tree_loaded(t, n, l, NULL);
    else
        fail_internal(t, n, "out of memory");
}

static void load_root(struct tree *t, struct node *n)
{
    struct listing_builder b;

    listing_builder_init(&b, NULL, ENTRY_DIR);
    for (size_t i = 0; i < t->n_accounts; i++)
        listing_builder_add(&b, t->accounts[i].name, NULL, ENTRY_DIR, NULL, 0, 0);
    finish_static(t, n, &b);
}

static void load_account(struct tree *t, struct node *n)
{
    struct listing_builder b;

    listing_builder_init(&b, NULL, ENTRY_DIR);
    listing_builder_add(&b, "by-name", NULL, ENTRY_DIR, NULL, 0, 0);
    listing_builder_tag(&b, NODE_BYNAME);
    listing_builder_add(&b, "campaigns", NULL, ENTRY_DIR, NULL, 0, 0);
    finish_static(t, n, &b);
}

static void load_ctl(struct tree *t, struct node *n)
{
    struct listing_builder b;

    listing_builder_init(&b, NULL, ENTRY_DIR);
    listing_builder_add(&b, "refresh", NULL, ENTRY_FILE, NULL, 0, 0);
    listing_builder_tag(&b, NODE_REFRESH);
    listing_builder_add(&b, "status", NULL, ENTRY_FILE, NULL, 0, 0);
    listing_builder_tag(&b, NODE_STATUS);
    finish_static(t, n, &b);
}

static void load_campaigns(struct tree *t, struct node *n)
{
    fetch_list(t, n, &n->acct->provider->campaigns, NULL, ENTRY_DIR);
}

/* Starts fetching a file of dir that is fetched on its own, so that it is
 * there when asked for: campaign.json when its campaign is entered. */
static void prefetch_record(struct tree *t, struct node *dir, const char *name)
{
    struct listing *l = NULL, *own = NULL;
    const struct listing_entry *e;
    struct node *child, *wait = NULL;

    if (tree_listing(t, dir, &l, NULL) < 0)
        return;
    e = listing_find(l, name);
    child = e && e->type == ENTRY_LAZY ? tree_child(t, dir, e) : NULL;
    listing_unref(l);
    if (child && tree_listing(t, child, &own, &wait) == 0)
        listing_unref(own);
}

static void load_campaign(struct tree *t, struct node *n)
{
    const struct provider *p = n->acct->provider;
    struct listing_builder b;

    listing_builder_init(&b, NULL, ENTRY_DIR);
    if (p->campaign.path)
        listing_builder_add(&b, "campaign.json", n->id, ENTRY_LAZY, NULL, 0, 0);
    listing_builder_add(&b, "contacts", NULL, ENTRY_DIR, NULL, 0, 0);
    listing_builder_tag(&b, NODE_CONTACTS);
    if (provider_has_calls(p)) {
        listing_builder_add(&b, "calls", NULL, ENTRY_DIR, NULL, 0, 0);
        listing_builder_tag(&b, NODE_CALLS);
    }
    for (size_t i = 0; i < sizeof(view_files) / sizeof(view_files[0]); i++) {
        /* not of calls fetched one by one (Truedy): a view would cost a
         * request per call */
        if (strcmp(view_files[i].source, "calls") == 0 && !p->calls.path)
            continue;
        listing_builder_add(&b, view_files[i].name, NULL, ENTRY_FILE, NULL, 0, 0);
        listing_builder_tag(&b, NODE_VIEW);
    }
    finish_static(t, n, &b);
    prefetch_record(t, n, "campaign.json");
}

static void load_contacts(struct tree *t, struct node *n)
{
    fetch_list(t, n, &n->acct->provider->contacts, NULL, ENTRY_FILE);
}

/* A load that waits for another node's listing first: again() is called
 * once that load ends. */
struct dep_wait {
    struct cache_waiter w;
    struct tree *t;
    struct node *n;
    load_fn again;
};

static void dep_woken(struct cache_waiter *w)
{
    struct dep_wait *d = (struct dep_wait *)w;
    struct tree *t = d->t;
    struct node *n = d->n;
    load_fn again = d->again;

    free(d);
    again(t, n);
}

/* Ends a lookup of what n's load needs: rc as it is, or for -EAGAIN 1
 * once again(t, n) is registered for the end of wait's load. */
static int dep_pending(struct tree *t, struct node *n, int rc, struct node *wait, load_fn again)
{
    struct dep_wait *d;

    if (rc != -EAGAIN)
        return rc;
    d = malloc(sizeof(*d));
    if (!d)
        return -ENOMEM;
    *d = (struct dep_wait){.w.wake = dep_woken, .t = t, .n = n, .again = again};
    if (tree_wait(t, wait, &d->w) != CACHE_WAITING)
        dep_woken(&d->w); /* over already: look again */
    return 1;
}

/* The listing of n's sibling called name (*out, a reference): 0; 1 when it
 * is still to come (again(t, n) is called once it is there); or -errno (a
 * failure of its own was logged already). */
static int sibling_listing(struct tree *t, struct node *n, const char *name, load_fn again,
                           struct listing **out)
{
    struct node *sib = NULL, *wait = NULL;
    struct listing *parent = NULL;
    const struct listing_entry *e;
    int rc;

    *out = NULL;
    rc = tree_listing(t, n->parent, &parent, &wait);
    e = rc == 0 ? listing_find(parent, name) : NULL;
    sib = e ? tree_child(t, n->parent, e) : NULL;
    listing_unref(parent);
    if (rc == 0 && !sib)
        return -ENOENT;
    if (sib)
        rc = tree_listing(t, sib, out, &wait);
    return dep_pending(t, n, rc, wait, again);
}

/* The value of the status field of a listed record, malloc'd, or NULL
 * (none, not a string, or empty: no status yet). */
static char *record_status(const struct status_filter *sf, const struct listing_entry *e)
{
    json_object *rec = e->bytes ? json_tokener_parse(e->bytes) : NULL;
    json_object *v = rec ? json_path(rec, sf->field) : NULL;
    const char *text =
        v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    char *out = text && *text ? strdup(text) : NULL;

    json_object_put(rec);
    return out;
}

/* Adds status s to b as a directory (named safely; its raw value as id)
 * unless it is there already. */
static void add_status(struct listing_builder *b, const char *s)
{
    char *name;

    for (size_t i = 0; i < b->n; i++)
        if (strcmp(b->items[i].id, s) == 0)
            return;
    name = name_from_id(s, strlen(s), "");
    if (!name) {
        b->failed = true;
        return;
    }
    listing_builder_add(b, name, s, ENTRY_DIR, NULL, 0, 0);
    free(name);
}

/* contacts/by-status/: a directory per documented status; where the docs
 * only give examples, also every status of the contacts listing (held
 * already, or for a provider without a server filter, waited for). */
static void load_bystatus(struct tree *t, struct node *n)
{
    const struct status_filter *sf = &n->acct->provider->contacts.by_status;
    struct listing *cl = NULL;
    struct listing_builder b;
    struct node *wait = NULL;

    if (sf->open) {
        int rc = tree_listing(t, n->parent, &cl, sf->param ? NULL : &wait);
        if (!sf->param && (rc = dep_pending(t, n, rc, wait, load_bystatus)) != 0) {
            if (rc < 0)
                fail_dependent(t, n, rc, "the contacts, whose statuses they are,");
            return;
        }
    }
    listing_builder_init(&b, NULL, ENTRY_DIR);
    for (size_t i = 0; i < PROVIDER_MAX_STATUSES && sf->values[i]; i++)
        add_status(&b, sf->values[i]);
    for (size_t i = 0; cl && i < cl->n; i++) {
        char *s = record_status(sf, &cl->entries[i]);
        if (s)
            add_status(&b, s);
        free(s);
    }
    listing_unref(cl);
    finish_static(t, n, &b);
}

/* by-status/<status>/: the contacts the server's status filter gives, or
 * where there is none, those of the contacts listing with that status. */
static void load_statusdir(struct tree *t, struct node *n)
{
    const struct collection *coll = &n->acct->provider->contacts;
    struct node *contacts = contacts_of(n), *wait = NULL;
    struct listing *cl = NULL;
    struct listing_builder b;
    int rc;

    if (coll->by_status.param) {
        fetch_list(t, n, coll, n->id, ENTRY_FILE);
        return;
    }
    rc = dep_pending(t, n, tree_listing(t, contacts, &cl, &wait), wait, load_statusdir);
    if (rc != 0) {
        if (rc < 0)
            fail_dependent(t, n, rc, "the contacts, which are filtered here,");
        return;
    }
    listing_builder_init(&b, NULL, ENTRY_FILE);
    for (size_t i = 0; i < cl->n; i++) {
        char *s = record_status(&coll->by_status, &cl->entries[i]);
        if (s && strcmp(s, n->id) == 0 && listing_builder_add_entry(&b, &cl->entries[i]) < 0)
            b.failed = true;
        free(s);
    }
    listing_unref(cl);
    finish_static(t, n, &b);
}

/* Ends n's load after the listing it is made from failed (rc). */
static void fail_dependent(struct tree *t, struct node *n, int rc, const char *what)
{
    struct fetch_error err = {.cls = rc == -EACCES   ? FETCH_AUTH
                                     : rc == -ENOENT ? FETCH_NOT_FOUND
                                     : rc == -ENOMEM ? FETCH_INTERNAL
                                                     : FETCH_SERVER};

    snprintf(err.message, sizeof(err.message), "[%s] %s could not be listed (see above)",
             n->acct->name, what);
    tree_loaded(t, n, NULL, &err);
}

/* Calls named by the campaign's contacts (Truedy): each fetched on lookup.
 * Waits (without blocking) for the contacts listing. */
static void calls_from_contacts(struct tree *t, struct node *n)
{
    static const struct collection by_link = {.naming = NAME_BY_ID};
    struct listing *cl;
    struct listing_builder b;
    char what[256];
    int rc = sibling_listing(t, n, "contacts", calls_from_contacts, &cl);

    if (rc == 1)
        return;
    if (rc < 0) {
        snprintf(what, sizeof(what), "the calls of campaign %s are named by its contacts, which",
                 campaign_of(n));
        fail_dependent(t, n, rc, what);
        return;
    }
    listing_builder_init(&b, &by_link, ENTRY_LAZY);
    for (size_t i = 0; i < cl->n; i++)
        if (cl->entries[i].link)
            listing_builder_add(&b, NULL, cl->entries[i].link, ENTRY_LAZY, NULL, 0, 0);
    listing_unref(cl);
    finish_static(t, n, &b);
}

/* What people call a campaign: its name field, else its directory name. */
static char *campaign_title(const struct provider *p, const struct listing_entry *e)
{
    json_object *rec = e->bytes ? json_tokener_parse(e->bytes) : NULL;
    json_object *v = rec && p->campaigns.title ? json_path(rec, p->campaigns.title) : NULL;
    const char *text =
        v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
    char *name = text && *text ? name_from_id(text, strlen(text), "") : strdup(e->name);

    json_object_put(rec);
    return name;
}

/* <account>/by-name/: a link per campaign to ../campaigns/<id>, named by
 * its name (made safe, repeats made unique in campaign-list order). */
static void load_byname(struct tree *t, struct node *n)
{
    const struct provider *p = n->acct->provider;
    struct listing *cl;
    struct listing_builder b;
    char **names, target[NAME_MAX_BYTES + 16];
    int rc = sibling_listing(t, n, "campaigns", load_byname, &cl);

    if (rc == 1)
        return;
    if (rc < 0) {
        fail_dependent(t, n, rc, "the campaigns, which the names come from,");
        return;
    }
    names = calloc(cl->n ? cl->n : 1, sizeof(*names));
    for (size_t i = 0; names && i < cl->n; i++)
        if (!(names[i] = campaign_title(p, &cl->entries[i])))
            rc = -1;
    if (!names || rc < 0 || names_make_unique(names, cl->n, "") < 0) {
        for (size_t i = 0; names && i < cl->n; i++)
            free(names[i]);
        free(names);
        listing_unref(cl);
        fail_internal(t, n, "out of memory");
        return;
    }
    listing_builder_init(&b, NULL, ENTRY_LINK);
    for (size_t i = 0; i < cl->n; i++) {
        int k = snprintf(target, sizeof(target), "../campaigns/%s", cl->entries[i].name);
        listing_builder_add(&b, names[i], NULL, ENTRY_LINK, target, (size_t)k,
                            cl->entries[i].mtime);
        free(names[i]);
    }
    free(names);
    listing_unref(cl);
    finish_static(t, n, &b);
}

/* A link's target: its entry's bytes. */
static int link_target(struct tree *t, struct node *n, char *buf, size_t len, struct node **wait)
{
    struct listing *l = NULL;
    const struct listing_entry *e = NULL;
    int rc = entry_in_parent(t, n, &l, &e, wait);

    if (rc == 0 && (!e->bytes || e->len >= len))
        rc = -EIO;
    if (rc == 0)
        memcpy(buf, e->bytes, (size_t)e->len + 1);
    listing_unref(l);
    return rc;
}

int tree_readlink(struct tree *t, struct node *n, char *buf, size_t len, struct node **wait)
{
    if (!node_types[n->kind].readlink)
        return -EINVAL;
    return node_types[n->kind].readlink(t, n, buf, len, wait);
}

static void load_calls(struct tree *t, struct node *n)
{
    const struct provider *p = n->acct->provider;

    if (!p->calls.path)
        calls_from_contacts(t, n);
    else
        fetch_list(t, n, &p->calls, NULL, ENTRY_FILE);
}

static void load_lazy(struct tree *t, struct node *n)
{
    const struct provider *p = n->acct->provider;
    const struct record_endpoint *ep = n->parent->kind == NODE_CAMPAIGN ? &p->campaign : &p->call;
    struct load_ctx *lc;
    struct fetch *f = NULL;

    if (t->offline) {
        fail_offline(t, n);
        return;
    }
    lc = malloc(sizeof(*lc));
    if (lc) {
        *lc = (struct load_ctx){t, n};
        f = fetch_record(t->engine, n->acct, ep, campaign_of(n), n->id, n->name, fetched, lc);
    }
    run_fetch(t, n, f, lc);
}

/* ---- listings ---- */

/* A listing read from disk (on the store's reader thread). */
static void restored(void *arg, struct listing *l, const struct store_meta *m)
{
    struct load_ctx *lc = arg;
    struct tree *t = lc->t;
    struct node *n = lc->n;
    struct cache_policy pol = policy(t, n);
    size_t bytes;

    free(lc);
    if (!l) { /* gone meanwhile, or unreadable: from the network then */
        node_types[n->kind].load(t, n);
        return;
    }
    bytes = l->total_bytes;
    l->final = m->final;
    l->changed_at = m->changed_at;
    cache_set_source(n->cache, m->url, m->total);
    if (cache_restore(n->cache, &pol, rate_now(), l, m->fetched_at, t->offline))
        atomic_fetch_add(&t->bytes, bytes);
}

/* Starts loading n: its first load looks for a copy on disk first. */
static void start_load(struct tree *t, struct node *n)
{
    if (t->disk && !n->disk_tried && node_types[n->kind].fetched) {
        char path[PATH_MAX];
        struct load_ctx *lc;

        n->disk_tried = true; /* only the one thread that starts the load is here */
        tree_path(n, path, sizeof(path));
        if (store_has(t->disk, path) && (lc = malloc(sizeof(*lc)))) {
            *lc = (struct load_ctx){t, n};
            if (store_load(t->disk, path, restored, lc) == 0)
                return;
            free(lc);
        }
    }
    node_types[n->kind].load(t, n);
}

int tree_listing(struct tree *t, struct node *n, struct listing **out, struct node **wait)
{
    struct cache_policy pol = policy(t, n);
    enum cache_answer a;
    bool start;
    int err;

    *out = NULL;
    if (!n->cache)
        return -ENOTDIR;
    a = cache_get(n->cache, &pol, rate_now(), wait != NULL, out, &start, &err);
    if (start) {
        start_load(t, n);
        if (a == CACHE_WAIT) { /* a listing built on the spot is there now */
            a = cache_get(n->cache, &pol, rate_now(), wait != NULL, out, &start, &err);
            /* or one from disk, read meanwhile, past its TTL: its refresh
             * starts now (this access is the one that found it stale) */
            if (start)
                start_load(t, n);
        }
    }
    if (a == CACHE_HIT)
        return 0;
    if (a == CACHE_ERROR)
        return -err;
    if (wait)
        *wait = n;
    return -EAGAIN;
}

enum cache_wait_answer tree_wait(struct tree *t, struct node *node, struct cache_waiter *w)
{
    (void)t;
    return cache_wait(node->cache, w);
}

/* ---- extended attributes ---- */

#define XATTR_PREFIX "user.campaignfs."
#define XATTR_MAX    6

struct xattrs {
    int n;
    const char *name[XATTR_MAX];
    char value[XATTR_MAX][1024];
};

static struct node *source_of(struct tree *t, struct node *n)
{
    if (node_types[n->kind].source)
        return node_types[n->kind].source(t, n);
    while (n && !node_types[n->kind].fetched)
        n = n->parent;
    return n;
}

static void xattr_add(struct xattrs *x, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void xattr_add(struct xattrs *x, const char *name, const char *fmt, ...)
{
    va_list ap;

    if (x->n >= XATTR_MAX)
        return;
    x->name[x->n] = name;
    va_start(ap, fmt);
    vsnprintf(x->value[x->n], sizeof(x->value[0]), fmt, ap);
    va_end(ap);
    x->n++;
}

static void xattr_time(struct xattrs *x, const char *name, time_t when)
{
    struct tm tm;
    char text[32];

    if (when <= 0 || !gmtime_r(&when, &tm))
        return;
    strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
    xattr_add(x, name, "%s", text);
}

static void collect_xattrs(struct tree *t, struct node *n, struct xattrs *x)
{
    struct node *src = source_of(t, n);
    struct cache_info ci;

    x->n = 0;
    if (!src || !src->cache) {
        xattr_add(x, XATTR_PREFIX "stale", "0");
        return;
    }
    cache_info(src->cache, rate_now(), &ci);
    if (*ci.url)
        xattr_add(x, XATTR_PREFIX "url", "%s", ci.url);
    xattr_time(x, XATTR_PREFIX "fetched_at", ci.fetched_at);
    xattr_time(x, XATTR_PREFIX "expires_at", ci.expires_at);
    xattr_add(x, XATTR_PREFIX "stale", "%d", ci.stale || t->offline ? 1 : 0);
    if (node_is_dir(n) && src == n && ci.total >= 0)
        xattr_add(x, XATTR_PREFIX "total", "%ld", ci.total);
    if (node_is_dir(n) && src == n && *ci.error)
        xattr_add(x, XATTR_PREFIX "error", "%s", ci.error);
}

/* Copies len bytes into buf (size 0: the length only). */
static int xattr_copy(char *buf, size_t size, const char *data, size_t len)
{
    if (size == 0)
        return (int)len;
    if (size < len)
        return -ERANGE;
    memcpy(buf, data, len);
    return (int)len;
}

int tree_getxattr(struct tree *t, struct node *n, const char *name, char *buf, size_t size)
{
    struct xattrs x;

    collect_xattrs(t, n, &x);
    for (int i = 0; i < x.n; i++)
        if (strcmp(x.name[i], name) == 0)
            return xattr_copy(buf, size, x.value[i], strlen(x.value[i]));
    return -ENODATA;
}

int tree_listxattr(struct tree *t, struct node *n, char *buf, size_t size)
{
    struct xattrs x;
    char names[XATTR_MAX * 32];
    size_t len = 0;

    collect_xattrs(t, n, &x);
    for (int i = 0; i < x.n; i++) {
        size_t k = strlen(x.name[i]) + 1;
        memcpy(names + len, x.name[i], k);
        len += k;
    }
    return xattr_copy(buf, size, names, len);
}

bool tree_dir_opened(struct node *dir, const struct listing *l)
{
    bool same = atomic_exchange(&dir->serial, l->serial) == l->serial;

    /* past its TTL the kernel reads the listing again (readdirplus brings
     * every entry's attributes in bulk), not entry by entry */
    return same && cache_fresh_for(dir->cache, rate_now()) > 0;
}

/* ---- attributes and contents ---- */

static void fill_stat(const struct tree *t, const struct node *n, struct stat *st, size_t size,
                      time_t mtime)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = n->ino;
    st->st_uid = t->uid;
    st->st_gid = t->gid;
    st->st_mode = node_types[n->kind].mode & ~(t->umask & 07777);
    if (node_is_dir(n)) {
        st->st_nlink = 2;
        st->st_size = 4096;
    } else {
        st->st_nlink = 1;
        st->st_size = (off_t)size;
    }
    st->st_blksize = 4096;
    st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
    st->st_mtime = st->st_ctime = st->st_atime = mtime;
}

/* The entry that names n in its parent's current listing. */
static int entry_in_parent(struct tree *t, struct node *n, struct listing **l,
                           const struct listing_entry **e, struct node **wait)
{
    struct node *via = atomic_load(&n->via);
    int rc;

    /* a contact reached through by-status/: from contacts/ if its listing
     * is at hand, else from the filtered one it was found in */
    rc = tree_listing(t, n->parent, l, via ? NULL : wait);
    if (rc == -EAGAIN && via)
        rc = tree_listing(t, via, l, wait);

    if (rc < 0)
        return rc;
    *e = listing_find(*l, n->name);
    if (*e)
        return 0;
    listing_unref(*l);
    *l = NULL;
    return -ENOENT;
}

/* contacts/ and calls/: the campaign's entry in the campaign list. */
static int entry_of_campaign(struct tree *t, struct node *n, struct listing **l,
                             const struct listing_entry **e, struct node **wait)
{
    return entry_in_parent(t, n->parent, l, e, wait);
}

/* A file fetched on its own: the one entry of its own listing, while its
 * parent still lists it. */
static int entry_own(struct tree *t, struct node *n, struct listing **l,
                     const struct listing_entry **e, struct node **wait)
{
    int rc = entry_in_parent(t, n, l, e, wait);

    listing_unref(*l);
    *l = NULL;
    *e = NULL;
    if (rc < 0)
        return rc;
    rc = tree_listing(t, n, l, wait);
    if (rc < 0)
        return rc;
    if ((*l)->n != 1) {
        listing_unref(*l);
        *l = NULL;
        return -EIO;
    }
    *e = &(*l)->entries[0];
    return 0;
}

/* The kernel sized n from the listing with serial `told`.  When that is
 * the listing the current one l replaced, the bytes come from it: a read
 * that the kernel sized before a refresh is never cut at the old size. */
static void bytes_as_told(struct node *n, struct node *holder, struct listing **l,
                          const struct listing_entry **e)
{
    unsigned long told = atomic_load(&n->serial);
    struct listing *prev;
    const struct listing_entry *pe;

    if (!told || told == (*l)->serial)
        return;
    prev = cache_prev(holder->cache);
    pe = prev && prev->serial == told ? listing_find(prev, (*e)->name) : NULL;
    if (!pe) {
        listing_unref(prev);
        return;
    }
    listing_unref(*l);
    *l = prev;
    *e = pe;
}

/* The directory whose listing view n shows, if its node exists. */
static struct node *view_source_known(struct tree *t, struct node *n)
{
    const struct view_file *vf = view_file_of(n);

    return vf ? find_child(t, n->parent, vf->source) : NULL;
}

/* View n: the listing it shows and the view of it.  When the kernel sized
 * n from the listing that the current one replaced, that one: a read never
 * sees a size the kernel was not told. */
static int view_of(struct content *c, const struct view_file *vf);

static int view_content(struct tree *t, struct node *n, struct content *c, struct node **wait,
                        bool as_told)
{
    const struct view_file *vf = view_file_of(n);
    struct listing *cl = NULL;
    const struct listing_entry *e;
    struct node *src;
    unsigned long told;
    int rc;

    if (!vf)
        return -ENOENT;
    rc = tree_listing(t, n->parent, &cl, wait); /* the campaign's: built, not fetched */
    if (rc < 0)
        return rc;
    e = listing_find(cl, vf->source);
    src = e ? tree_child(t, n->parent, e) : NULL;
    listing_unref(cl);
    if (!src)
        return -ENOENT;
    rc = tree_listing(t, src, &c->l, wait);
    if (rc < 0)
        return rc;
    told = atomic_load(&n->serial);
    if (as_told && told && told != c->l->serial) {
        struct listing *prev = cache_prev(src->cache);
        if (prev && prev->serial == told) {
            listing_unref(c->l);
            c->l = prev;
        } else {
            listing_unref(prev);
        }
    }
    return view_of(c, vf);
}

/* c->l's view for vf (c->l consumed on failure). */
static int view_of(struct content *c, const struct view_file *vf)
{
    c->view = listing_view(c->l, vf->kind);
    if (!c->view) {
        content_drop(c);
        return -ENOMEM;
    }
    return 0;
}

int tree_read_content(struct tree *t, struct node *n, pid_t pid, uint64_t off, struct content *c,
                      struct node **wait)
{
    const struct view_file *vf = view_file_of(n);
    double now = rate_now();
    int rc;

    if (!node_types[n->kind].view || !pid || !vf)
        return tree_content(t, n, c, wait);
    memset(c, 0, sizeof(*c));
    c->l = pins_read(&t->pins, n->ino, pid, off, now);
    if (c->l) {
        struct content cur;
        /* an old listing's pages must not stay in the page cache for the
         * next reader: the kernel drops them again after this read */
        if (t->notifier && view_content(t, n, &cur, NULL, false) == 0) {
            if (cur.l->serial != c->l->serial)
                notify_inode(t->notifier, n->ino);
            content_drop(&cur);
        }
        return view_of(c, vf);
    }
    rc = view_content(t, n, c, wait, true);
    if (rc == 0)
        pins_set(&t->pins, n->ino, pid, c->l, off, now);
    return rc;
}

int tree_content(struct tree *t, struct node *n, struct content *c, struct node **wait)
{
    int rc;

    memset(c, 0, sizeof(*c));
    if (node_types[n->kind].view)
        return view_content(t, n, c, wait, true);
    if (!node_types[n->kind].content)
        return -EISDIR;
    rc = node_types[n->kind].content(t, n, &c->l, &c->e, wait);
    if (rc == 0 && c->l)
        bytes_as_told(n, node_types[n->kind].content == entry_own ? n : n->parent, &c->l, &c->e);
    return rc;
}

void content_drop(struct content *c)
{
    listing_unref(c->l);
    memset(c, 0, sizeof(*c));
}

uint64_t content_size(const struct content *c)
{
    if (c->view)
        return view_size(c->view);
    return c->e ? c->e->len : 0;
}

void tree_revalidate(struct tree *t, struct node *n)
{
    struct listing *l = NULL;
    struct node *wait = NULL;

    if (node_types[n->kind].attr != entry_own || !cache_expired(n->cache, rate_now()))
        return;
    if (tree_listing(t, n, &l, &wait) == 0) /* starts the refresh; shows the old one */
        listing_unref(l);
}

void tree_prefill(struct tree *t, struct node *n)
{
    struct content c;

    if (!t->notifier || node_is_dir(n) || tree_content(t, n, &c, NULL) < 0)
        return;
    if (!c.l || !c.e || node_types[n->kind].generate) {
        content_drop(&c); /* nothing worth keeping (made anew when looked up), or a view */
        return;
    }
    notify_store(t->notifier, n->ino, c.l, c.e);
}

/* The mtime of a directory that is not a record: when the disk copy first
 * saw the mount (the root, .campaignfs) or the account (its directory and
 * campaigns/), never the mount time, which would make every remount look
 * like a change.  (Not the newest of campaigns/'s entries: a stat before
 * its listing arrived would tell another time than one after.) */
static time_t fixed_mtime(struct tree *t, struct node *n)
{
    return t->disk ? store_first_seen(t->disk, n->acct ? n->acct->name : NULL) : t->mounted;
}

/* A view's attributes from content c: its size, and when its listing last
 * changed (so rsync sees every change, a removed record too), or its
 * campaign's time for none. */
static void view_stat(struct tree *t, struct node *n, const struct content *c, struct stat *st)
{
    struct stat campaign;
    time_t mtime = c->l->changed_at;

    if (!mtime && tree_stat(t, n->parent, &campaign, NULL) == 0)
        mtime = campaign.st_mtime;
    fill_stat(t, n, st, (size_t)view_size(c->view), mtime);
}

int tree_stat_as(struct tree *t, struct node *n, pid_t pid, struct stat *st, bool *snapshot,
                 struct node **wait)
{
    struct content c, pinned = {0};
    int rc;

    *snapshot = false;
    if (!node_types[n->kind].view || !pid)
        return tree_stat(t, n, st, wait);
    rc = view_content(t, n, &c, wait, false);
    if (rc < 0)
        return rc;
    pinned.l = pins_peek(&t->pins, n->ino, pid, rate_now());
    if (pinned.l && pinned.l->serial != c.l->serial && view_of(&pinned, view_file_of(n)) == 0) {
        view_stat(t, n, &pinned, st); /* its read goes on with that listing */
        *snapshot = true;
        content_drop(&pinned);
    } else {
        content_drop(&pinned);
        view_stat(t, n, &c, st);
        atomic_store(&n->serial, c.l->serial);
    }
    content_drop(&c);
    return 0;
}

int tree_stat(struct tree *t, struct node *n, struct stat *st, struct node **wait)
{
    struct listing *l = NULL;
    const struct listing_entry *e = NULL;
    int rc;

    if (node_types[n->kind].view) {
        struct content c;
        rc = view_content(t, n, &c, wait, false);
        if (rc == 0) {
            view_stat(t, n, &c, st);
            atomic_store(&n->serial, c.l->serial);
            content_drop(&c);
        }
        return rc;
    }
    if (!node_types[n->kind].attr) {
        fill_stat(t, n, st, 0, fixed_mtime(t, n));
        return 0;
    }
    rc = node_types[n->kind].attr(t, n, &l, &e, wait);
    if (rc == 0) {
        fill_stat(t, n, st, e->len, e->mtime);
        if (!node_is_dir(n))
            atomic_store(&n->serial, l->serial);
        if (node_types[n->kind].generate) {
            pthread_mutex_lock(&t->status_lock);
            st->st_mtim = st->st_ctim = st->st_atim = t->status_at;
            pthread_mutex_unlock(&t->status_lock);
        }
    }
    listing_unref(l);
    return rc;
}

int tree_lookup(struct tree *t, struct node *dir, const char *name, struct node **child,
                struct stat *st, struct node **wait)
{
    struct listing *l = NULL;
    const struct listing_entry *e;
    int rc;

    *child = NULL;
    if (!node_is_dir(dir))
        return -ENOTDIR;
    if (dir->kind == NODE_ROOT && strcmp(name, TREE_CTL_NAME) == 0) {
        *child = t->ctl;
        return tree_stat(t, t->ctl, st, wait);
    }
    if (dir->kind == NODE_CONTACTS && dir->acct->provider->contacts.by_status.field &&
        strcmp(name, TREE_BYSTATUS_NAME) == 0) {
        *child = hidden_child(t, dir, name, NODE_BYSTATUS);
        return *child ? tree_stat(t, *child, st, wait) : -ENOMEM;
    }
    rc = tree_listing(t, dir, &l, wait);
    if (rc < 0)
        return rc;
    e = listing_find(l, name);
    *child = e ? tree_child(t, dir, e) : NULL;
    listing_unref(l);
    if (!e)
        return -ENOENT;
    if (!*child)
        return -ENOMEM;
    if (node_types[(*child)->kind].generate)
        node_types[(*child)->kind].generate(t);
    return tree_stat(t, *child, st, wait);
}

/* ---- .campaignfs: status and refresh ---- */

/* Renders the status anew (status.c) as a one-file listing. */
static void status_generate(struct tree *t)
{
    struct listing_builder b;
    struct listing *l;
    struct timespec now;
    size_t len = 0;
    char *text = status_render(t, &len);

    if (!text)
        return; /* out of memory: the last rendering stays */
    clock_gettime(CLOCK_REALTIME, &now);
    listing_builder_init(&b, NULL, ENTRY_FILE);
    listing_builder_add(&b, "status", NULL, ENTRY_FILE, text, len, now.tv_sec);
    free(text);
    l = listing_builder_finish(&b);
    if (!l)
        return;
    l->entries[0].mtime = now.tv_sec;
    pthread_mutex_lock(&t->status_lock);
    listing_unref(t->status);
    t->status = l;
    t->status_at = now;
    pthread_mutex_unlock(&t->status_lock);
}

static int entry_status(struct tree *t, struct node *n, struct listing **l,
                        const struct listing_entry **e, struct node **wait)
{
    (void)n, (void)wait;
    pthread_mutex_lock(&t->status_lock);
    *l = t->status ? listing_ref(t->status) : NULL;
    pthread_mutex_unlock(&t->status_lock);
    if (!*l) {
        status_generate(t);
        pthread_mutex_lock(&t->status_lock);
        *l = t->status ? listing_ref(t->status) : NULL;
        pthread_mutex_unlock(&t->status_lock);
    }
    if (!*l)
        return -ENOMEM;
    *e = &(*l)->entries[0];
    return 0;
}

/* A file with nothing to read. */
static int entry_empty(struct tree *t, struct node *n, struct listing **l,
                       const struct listing_entry **e, struct node **wait)
{
    static const struct listing_entry empty = {.name = "", .bytes = ""};

    (void)t, (void)n, (void)wait;
    *l = NULL;
    *e = &empty;
    return 0;
}

size_t tree_count(struct tree *t)
{
    size_t n;

    pthread_mutex_lock(&t->lock);
    n = t->n_nodes;
    pthread_mutex_unlock(&t->lock);
    return n;
}

struct node_walk {
    struct node **v;
    size_t n, cap;
};

static void walk_collect(const void *p, VISIT v, void *arg)
{
    struct node_walk *w = arg;

    if ((v == postorder || v == leaf) && w->n < w->cap)
        w->v[w->n++] = *(struct node *const *)p;
}

struct node **tree_nodes(struct tree *t, size_t *n)
{
    struct node_walk w = {0};

    pthread_mutex_lock(&t->lock);
    w.cap = t->n_nodes;
    w.v = malloc((w.cap ? w.cap : 1) * sizeof(*w.v));
    if (w.v)
        twalk_r(t->by_ino, walk_collect, &w);
    pthread_mutex_unlock(&t->lock);
    *n = w.n;
    return w.v;
}

void tree_path(const struct node *n, char *buf, size_t len)
{
    const struct node *chain[16];
    size_t depth = 0, at = 0;

    if (!len)
        return;
    buf[0] = '\0';
    for (; n && n->parent && depth < 16; n = n->parent)
        chain[depth++] = n;
    while (depth-- > 0) {
        int k = snprintf(buf + at, len - at, "%s%s", at ? "/" : "", chain[depth]->name);
        if (k < 0 || (size_t)k >= len - at)
            break;
        at += (size_t)k;
    }
}

/* The node below dir named name, if one was made: *known tells whether
 * dir's listing (when it has one) holds the name. */
static struct node *walk_one(struct tree *t, struct node *dir, const char *name, bool *known)
{
    struct node *n = find_child(t, dir, name);
    struct listing *l;

    *known = true;
    if (n || !dir->cache)
        return n;
    l = cache_current(dir->cache);
    *known = !l || listing_find(l, name); /* no listing yet: nothing is cached below */
    listing_unref(l);
    return NULL;
}

/* Appends n and every node below it to *v (under tree.lock). */
static int collect(struct node *n, struct node ***v, size_t *len, size_t *cap)
{
    if (*len == *cap) {
        size_t grown = *cap ? *cap * 2 : 64;
        struct node **nv = realloc(*v, grown * sizeof(*nv));
        if (!nv)
            return -1;
        *v = nv;
        *cap = grown;
    }
    (*v)[(*len)++] = n;
    for (size_t i = 0; n->children && i < n->children->n; i++)
        if (collect(n->children->v[i], v, len, cap) < 0)
            return -1;
    return 0;
}

/* Expires the fetched listings of n's subtree; returns how many. */
static int expire_below(struct tree *t, struct node *n)
{
    struct node **v = NULL;
    size_t len = 0, cap = 0;
    int count = 0, rc;
    double now = rate_now();

    if (!node_is_dir(n))
        n = source_of(t, n);
    if (!n)
        return 0;
    pthread_mutex_lock(&t->lock);
    rc = collect(n, &v, &len, &cap);
    pthread_mutex_unlock(&t->lock);
    if (rc < 0) {
        free(v);
        return -ENOMEM;
    }
    for (size_t i = 0; i < len && !t->offline; i++) { /* offline: nothing would come */
        if (!v[i]->cache || !node_types[v[i]->kind].fetched)
            continue;
        cache_expire(v[i]->cache, now);
        if (t->notifier) {
            notify_inode(t->notifier, v[i]->ino);
            notify_views(t, v[i]); /* the kernel's sizes of its views would outlive it */
        }
        count++;
    }
    free(v);
    return count;
}

int tree_refresh(struct tree *t, const char *path)
{
    char *copy = strdup(path), *save = NULL;
    struct node *n = tree_node(t, FUSE_ROOT_ID); /* t->nodes moves as it grows */
    int rc = 0;

    if (!copy)
        return -ENOMEM;
    for (char *c = strtok_r(copy, "/", &save); c && n; c = strtok_r(NULL, "/", &save)) {
        bool known;
        if (strcmp(c, ".") == 0)
            continue;
        if (strcmp(c, "..") == 0 || (n->kind == NODE_ROOT && strcmp(c, TREE_CTL_NAME) == 0)) {
            rc = -EINVAL;
            break;
        }
        if (!node_is_dir(n)) {
            rc = -ENOTDIR;
            break;
        }
        n = walk_one(t, n, c, &known);
        if (!known)
            rc = -ENOENT;
    }
    if (rc == 0 && n)
        rc = expire_below(t, n);
    free(copy);
    return rc;
}

/* Each line written is a path to refresh. */
static int refresh_write(struct tree *t, struct node *n, const char *buf, size_t size)
{
    char *text = strndup(buf, size), *save = NULL;
    int first_error = 0;

    (void)n;
    if (!text)
        return -ENOMEM;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t k = strlen(line);
        int rc;
        while (k && (line[k - 1] == '\r' || line[k - 1] == ' ' || line[k - 1] == '\t'))
            line[--k] = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line)
            continue;
        rc = tree_refresh(t, line);
        if (rc >= 0)
            log_info("refresh of /%s: %d listing%s expired; the next access fetches %s again",
                     *line == '/' ? line + 1 : line, rc, rc == 1 ? "" : "s",
                     rc == 1 ? "it" : "them");
        if (rc < 0 && !first_error)
            first_error = rc;
    }
    free(text);
    return first_error ? first_error : (int)size;
}

bool tree_writable(const struct node *n)
{
    return node_types[n->kind].write != NULL;
}

int tree_write(struct tree *t, struct node *n, const char *buf, size_t size)
{
    if (!node_types[n->kind].write)
        return -EROFS;
    return node_types[n->kind].write(t, n, buf, size);
}
