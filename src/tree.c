/**
 * @file tree.c
 * Nodes, inode numbers, per-node caches and the table of node kinds with
 * their loaders.  FUSE never sees a URL or JSON from here: it gets nodes,
 * attributes and bytes.
 */
#include "tree.h"

#include <errno.h>
#include <math.h>
#include <search.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "log.h"

#define FAILURE_RETRY_SECS 5.0

typedef int (*load_fn)(struct tree *t, struct node *n, struct listing **out,
                       struct fetch_error *err);

struct node_type {
    const char *what; /* for messages */
    bool dir;
    bool expires;         /* false: built once, never refetched */
    enum node_kind child; /* kind of the children of listed records/dirs */
    load_fn load;
};

static int load_root(struct tree *t, struct node *n, struct listing **out, struct fetch_error *err);
static int load_account(struct tree *t, struct node *n, struct listing **out,
                        struct fetch_error *err);
static int load_campaigns(struct tree *t, struct node *n, struct listing **out,
                          struct fetch_error *err);
static int load_campaign(struct tree *t, struct node *n, struct listing **out,
                         struct fetch_error *err);
static int load_contacts(struct tree *t, struct node *n, struct listing **out,
                         struct fetch_error *err);
static int load_calls(struct tree *t, struct node *n, struct listing **out,
                      struct fetch_error *err);
static int load_lazy(struct tree *t, struct node *n, struct listing **out, struct fetch_error *err);

static const struct node_type node_types[NODE_KIND_COUNT] = {
    [NODE_ROOT] = {"the accounts", true, false, NODE_ACCOUNT, load_root},
    [NODE_ACCOUNT] = {"the account", true, false, NODE_CAMPAIGNS, load_account},
    [NODE_CAMPAIGNS] = {"the campaign list", true, true, NODE_CAMPAIGN, load_campaigns},
    [NODE_CAMPAIGN] = {"the campaign", true, false, NODE_CONTACTS, load_campaign},
    [NODE_CONTACTS] = {"the contacts", true, true, NODE_RECORD, load_contacts},
    [NODE_CALLS] = {"the calls", true, true, NODE_RECORD, load_calls},
    [NODE_RECORD] = {"the record", false, false, NODE_RECORD, NULL},
    [NODE_LAZY] = {"the record", false, true, NODE_RECORD, load_lazy},
};

/* ---- nodes and inodes ---- */

static int node_name_cmp(const void *a, const void *b)
{
    return strcmp(((const struct node *)a)->name, ((const struct node *)b)->name);
}

static struct node *node_new(struct tree *t, enum node_kind kind, struct node *parent,
                             const char *name, struct account *acct, const char *id)
{
    struct node *n = calloc(1, sizeof(*n));

    if (!n)
        return NULL;
    n->name = strdup(name);
    n->id = id ? strdup(id) : NULL;
    if (!n->name || (id && !n->id))
        goto fail;
    if (t->n_nodes == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        struct node **nodes = realloc(t->nodes, cap * sizeof(*nodes));
        if (!nodes)
            goto fail;
        t->nodes = nodes;
        t->cap = cap;
    }
    n->kind = kind;
    n->parent = parent;
    n->acct = acct;
    pthread_mutex_init(&n->cache.lock, NULL);
    pthread_cond_init(&n->cache.cond, NULL);
    t->nodes[t->n_nodes++] = n;
    n->ino = t->n_nodes; /* FUSE_ROOT_ID is 1 */
    return n;
fail:
    free(n->name);
    free(n->id);
    free(n);
    return NULL;
}

static void node_free(void *p)
{
    struct node *n = p;

    listing_unref(n->cache.value);
    pthread_mutex_destroy(&n->cache.lock);
    pthread_cond_destroy(&n->cache.cond);
    free(n->name);
    free(n->id);
    free(n);
}

static void no_free(void *p)
{
    (void)p;
}

int tree_init(struct tree *t, struct account *accounts, size_t n_accounts, long ttl)
{
    memset(t, 0, sizeof(*t));
    pthread_mutex_init(&t->lock, NULL);
    t->accounts = accounts;
    t->n_accounts = n_accounts;
    t->ttl = ttl;
    t->mounted = time(NULL);
    return node_new(t, NODE_ROOT, NULL, "", NULL, NULL) ? 0 : -1;
}

void tree_destroy(struct tree *t)
{
    for (size_t i = 0; i < t->n_nodes; i++) {
        tdestroy(t->nodes[i]->children, no_free);
        node_free(t->nodes[i]);
    }
    free(t->nodes);
    pthread_mutex_destroy(&t->lock);
    memset(t, 0, sizeof(*t));
}

struct node *tree_node(struct tree *t, fuse_ino_t ino)
{
    struct node *n = NULL;

    pthread_mutex_lock(&t->lock);
    if (ino >= 1 && ino <= t->n_nodes)
        n = t->nodes[ino - 1];
    pthread_mutex_unlock(&t->lock);
    return n;
}

bool node_is_dir(const struct node *n)
{
    return node_types[n->kind].dir;
}

double node_timeout(const struct tree *t, const struct node *n)
{
    return (double)(n->acct ? n->acct->ttl : t->ttl);
}

/* Seconds until n's cached listing expires (the TTL for fixed ones). */
static double cache_remaining(const struct tree *t, struct node *n)
{
    double left;

    pthread_mutex_lock(&n->cache.lock);
    left = n->cache.value ? n->cache.expires - rate_now() : 0;
    pthread_mutex_unlock(&n->cache.lock);
    if (isinf(left))
        return node_timeout(t, n);
    return left > 0 ? left : 0;
}

/* The listing whose entry gives n its attributes (see tree_stat()). */
static struct node *attr_source(struct node *n)
{
    switch (n->kind) {
    case NODE_CAMPAIGN:
    case NODE_RECORD:
    case NODE_LAZY:
        return n->parent;
    case NODE_CONTACTS:
    case NODE_CALLS:
        return n->parent->parent;
    case NODE_ROOT:
    case NODE_ACCOUNT:
    case NODE_CAMPAIGNS:
    case NODE_KIND_COUNT:
        break;
    }
    return NULL;
}

double node_valid_for(struct tree *t, struct node *n)
{
    struct node *src = attr_source(n);
    double left = src ? cache_remaining(t, src) : node_timeout(t, n);

    if (n->kind == NODE_LAZY)
        left = fmin(left, cache_remaining(t, n));
    return left;
}

double dir_valid_for(struct tree *t, struct node *dir)
{
    return cache_remaining(t, dir);
}

static enum node_kind child_kind(const struct node *dir, const struct listing_entry *e)
{
    if (e->type == ENTRY_LAZY)
        return NODE_LAZY;
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

struct node *tree_child(struct tree *t, struct node *dir, const struct listing_entry *e)
{
    struct node key = {.name = e->name};
    struct node *n = NULL;
    void *found;

    pthread_mutex_lock(&t->lock);
    found = tfind(&key, &dir->children, node_name_cmp);
    if (found) {
        n = *(struct node **)found;
    } else {
        n = node_new(t, child_kind(dir, e), dir, e->name, child_account(t, dir, e), e->id);
        if (n && !tsearch(n, &dir->children, node_name_cmp))
            n = NULL; /* out of memory: the node stays in the table, unreachable */
    }
    pthread_mutex_unlock(&t->lock);
    return n;
}

/* ---- loaders ---- */

static const char *campaign_of(const struct node *n)
{
    while (n && n->kind != NODE_CAMPAIGN)
        n = n->parent;
    return n ? n->id : NULL;
}

static int finish_static(struct listing_builder *b, struct listing **out, struct fetch_error *err)
{
    *out = listing_builder_finish(b);
    if (*out)
        return 0;
    err->cls = FETCH_INTERNAL;
    snprintf(err->message, sizeof(err->message), "out of memory");
    return -1;
}

static int load_root(struct tree *t, struct node *n, struct listing **out, struct fetch_error *err)
{
    struct listing_builder b;

    (void)n;
    listing_builder_init(&b, NULL, ENTRY_DIR);
    for (size_t i = 0; i < t->n_accounts; i++)
        listing_builder_add(&b, t->accounts[i].name, NULL, ENTRY_DIR, NULL, 0, 0);
    return finish_static(&b, out, err);
}

static int load_account(struct tree *t, struct node *n, struct listing **out,
                        struct fetch_error *err)
{
    struct listing_builder b;

    (void)t;
    (void)n;
    listing_builder_init(&b, NULL, ENTRY_DIR);
    listing_builder_add(&b, "campaigns", NULL, ENTRY_DIR, NULL, 0, 0);
    return finish_static(&b, out, err);
}

static int load_campaigns(struct tree *t, struct node *n, struct listing **out,
                          struct fetch_error *err)
{
    struct account *a = n->acct;

    (void)t;
    if (fetch_collection(a, &a->provider->campaigns, NULL, ENTRY_DIR, out, err) < 0)
        return -1;
    if (a->campaigns)
        listing_keep_ids(*out, a->campaigns);
    return 0;
}

static int load_campaign(struct tree *t, struct node *n, struct listing **out,
                         struct fetch_error *err)
{
    const struct provider *p = n->acct->provider;
    struct listing_builder b;

    (void)t;
    listing_builder_init(&b, NULL, ENTRY_DIR);
    if (p->campaign.path)
        listing_builder_add(&b, "campaign.json", n->id, ENTRY_LAZY, NULL, 0, 0);
    listing_builder_add(&b, "contacts", NULL, ENTRY_DIR, NULL, 0, 0);
    listing_builder_tag(&b, NODE_CONTACTS);
    if (provider_has_calls(p)) {
        listing_builder_add(&b, "calls", NULL, ENTRY_DIR, NULL, 0, 0);
        listing_builder_tag(&b, NODE_CALLS);
    }
    return finish_static(&b, out, err);
}

static int load_contacts(struct tree *t, struct node *n, struct listing **out,
                         struct fetch_error *err)
{
    (void)t;
    return fetch_collection(n->acct, &n->acct->provider->contacts, campaign_of(n), ENTRY_FILE, out,
                            err);
}

/* Calls named by the campaign's contacts (Truedy): each fetched on lookup. */
static int calls_from_contacts(struct tree *t, struct node *n, struct listing **out,
                               struct fetch_error *err)
{
    static const struct collection by_link = {.naming = NAME_BY_ID};
    struct listing *parent = NULL, *contacts = NULL;
    const struct listing_entry *e;
    struct listing_builder b;
    int rc;

    rc = tree_listing(t, n->parent, &parent);
    e = rc == 0 ? listing_find(parent, "contacts") : NULL;
    if (e)
        rc = tree_listing(t, tree_child(t, n->parent, e), &contacts);
    listing_unref(parent);
    if (rc < 0 || !e) {
        err->cls = rc == -EACCES         ? FETCH_AUTH
                   : rc == -ENOENT || !e ? FETCH_NOT_FOUND
                                         : FETCH_SERVER;
        snprintf(err->message, sizeof(err->message),
                 "[%s] the calls of campaign %s are named by its contacts, which could not be "
                 "listed (see above)",
                 n->acct->name, campaign_of(n));
        return -1;
    }
    listing_builder_init(&b, &by_link, ENTRY_LAZY);
    for (size_t i = 0; i < contacts->n; i++)
        if (contacts->entries[i].link)
            listing_builder_add(&b, NULL, contacts->entries[i].link, ENTRY_LAZY, NULL, 0, 0);
    listing_unref(contacts);
    return finish_static(&b, out, err);
}

static int load_calls(struct tree *t, struct node *n, struct listing **out, struct fetch_error *err)
{
    const struct provider *p = n->acct->provider;

    if (!p->calls.path)
        return calls_from_contacts(t, n, out, err);
    return fetch_collection(n->acct, &p->calls, campaign_of(n), ENTRY_FILE, out, err);
}

static int load_lazy(struct tree *t, struct node *n, struct listing **out, struct fetch_error *err)
{
    const struct provider *p = n->acct->provider;
    const struct record_endpoint *ep = n->parent->kind == NODE_CAMPAIGN ? &p->campaign : &p->call;

    (void)t;
    return fetch_record(n->acct, ep, campaign_of(n), n->id, n->name, out, err);
}

/* ---- the cache ---- */

static void log_failure(const struct node *n, const struct fetch_error *err, bool stale)
{
    if (stale)
        log_warn("%s (still showing the previous listing of %s)", err->message,
                 node_types[n->kind].what);
    else
        log_error("%s", err->message);
}

static void publish(struct tree *t, struct node *n, struct listing *fresh, double now)
{
    struct cache *c = &n->cache;
    struct listing *old = c->value;

    listing_carry_times(fresh, old, node_types[n->kind].expires ? time(NULL) : t->mounted);
    if (old)
        atomic_fetch_sub(&t->bytes, old->total_bytes);
    atomic_fetch_add(&t->bytes, fresh->total_bytes);
    c->value = fresh;
    c->expires = node_types[n->kind].expires ? now + (double)node_timeout(t, n) : INFINITY;
    c->last_errno = 0;
    listing_unref(old);
}

/* Called with c->lock held and c->fetching set; drops the lock to load. */
static void refresh(struct tree *t, struct node *n, double now)
{
    struct cache *c = &n->cache;
    struct fetch_error err = {0};
    struct listing *fresh = NULL;
    int rc;

    pthread_mutex_unlock(&c->lock);
    rc = node_types[n->kind].load(t, n, &fresh, &err);
    pthread_mutex_lock(&c->lock);
    if (rc == 0) {
        publish(t, n, fresh, now);
        return;
    }
    log_failure(n, &err, c->value != NULL);
    c->retry_at = rate_now() + fmin(FAILURE_RETRY_SECS, fmax(1.0, node_timeout(t, n)));
    if (c->value)
        c->expires = c->retry_at; /* keep the whole previous listing meanwhile */
    else
        c->last_errno = fetch_errno(err.cls);
}

int tree_listing(struct tree *t, struct node *n, struct listing **out)
{
    struct cache *c = &n->cache;
    int rc = 0;

    *out = NULL;
    if (!node_types[n->kind].load)
        return -ENOTDIR;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        double now = rate_now();

        if (c->value && now < c->expires)
            break;
        if (c->fetching) {
            pthread_cond_wait(&c->cond, &c->lock);
            continue;
        }
        if (!c->value && c->last_errno && now < c->retry_at)
            break;
        c->fetching = true;
        refresh(t, n, now);
        c->fetching = false;
        pthread_cond_broadcast(&c->cond);
        break;
    }
    if (c->value)
        *out = listing_ref(c->value);
    else
        rc = -(c->last_errno ? c->last_errno : EIO);
    pthread_mutex_unlock(&c->lock);
    return rc;
}

/* ---- attributes and contents ---- */

static void fill_stat(const struct tree *t, const struct node *n, struct stat *st, size_t size,
                      time_t mtime)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = n->ino;
    st->st_uid = getuid();
    st->st_gid = getgid();
    if (node_is_dir(n)) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        st->st_size = 4096;
    } else {
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = (off_t)size;
    }
    st->st_blksize = 4096;
    st->st_blocks = (blkcnt_t)((st->st_size + 511) / 512);
    st->st_mtime = st->st_ctime = st->st_atime = mtime;
    (void)t;
}

/* The entry that names n in its parent's current listing. */
static int parent_entry(struct tree *t, struct node *n, struct listing **l,
                        const struct listing_entry **e)
{
    int rc = tree_listing(t, n->parent, l);

    if (rc < 0)
        return rc;
    *e = listing_find(*l, n->name);
    if (*e)
        return 0;
    listing_unref(*l);
    *l = NULL;
    return -ENOENT;
}

int tree_content(struct tree *t, struct node *n, struct listing **l, const struct listing_entry **e)
{
    int rc;

    *l = NULL;
    *e = NULL;
    if (n->kind == NODE_RECORD)
        return parent_entry(t, n, l, e);
    if (n->kind != NODE_LAZY)
        return -EISDIR;
    rc = parent_entry(t, n, l, e); /* still listed? */
    listing_unref(*l);
    *l = NULL;
    if (rc < 0)
        return rc;
    rc = tree_listing(t, n, l);
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

bool node_opened(struct node *n, time_t mtime, size_t size)
{
    bool same;

    pthread_mutex_lock(&n->cache.lock);
    same = n->open_mtime == mtime && n->open_size == size;
    n->open_mtime = mtime;
    n->open_size = size;
    pthread_mutex_unlock(&n->cache.lock);
    return same;
}

int tree_stat(struct tree *t, struct node *n, struct stat *st)
{
    struct listing *l = NULL;
    const struct listing_entry *e = NULL;
    int rc = 0;

    switch (n->kind) {
    case NODE_ROOT:
    case NODE_ACCOUNT:
    case NODE_CAMPAIGNS:
        fill_stat(t, n, st, 0, t->mounted);
        return 0;
    case NODE_CAMPAIGN:
        rc = parent_entry(t, n, &l, &e);
        break;
    case NODE_CONTACTS:
    case NODE_CALLS:
        rc = parent_entry(t, n->parent, &l, &e);
        break;
    case NODE_RECORD:
    case NODE_LAZY:
        rc = tree_content(t, n, &l, &e);
        break;
    case NODE_KIND_COUNT:
        return -EIO;
    }
    if (rc == 0)
        fill_stat(t, n, st, e->len, e->mtime);
    listing_unref(l);
    return rc;
}

int tree_lookup(struct tree *t, struct node *dir, const char *name, struct node **child,
                struct stat *st)
{
    struct listing *l = NULL;
    const struct listing_entry *e;
    int rc;

    *child = NULL;
    if (!node_is_dir(dir))
        return -ENOTDIR;
    rc = tree_listing(t, dir, &l);
    if (rc < 0)
        return rc;
    e = listing_find(l, name);
    *child = e ? tree_child(t, dir, e) : NULL;
    listing_unref(l);
    if (!e)
        return -ENOENT;
    if (!*child)
        return -ENOMEM;
    return tree_stat(t, *child, st);
}
