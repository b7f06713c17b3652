/**
 * @file notify.c
 * A queue and one thread that drains it into the kernel.
 */
#include "notify.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

/* A page-cache fill is worth it only when the kernel keeps up: past this
 * many notifications waiting, readdirplus hands out no more bytes. */
#define STORE_QUEUE_LIMIT 256
/* Past this many, invalidations are dropped too: the kernel's caches then
 * expire on their own (their timeouts never outlast a listing's TTL). */
#define INVAL_QUEUE_LIMIT 65536

struct inval {
    struct inval *next;
    void (*then)(void *arg); /* a call, instead of an invalidation */
    void *arg;
    struct listing *store; /* bytes to store, instead of an invalidation */
    const struct listing_entry *entry;
    fuse_ino_t ino; /* the inode, or the parent of name */
    char name[];    /* "" for an inode */
};

struct notifier {
    struct fuse_session *se;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct inval *head, *tail;
    atomic_ulong queued;  /* in the queue now */
    atomic_ulong dropped; /* not queued: the queue was full */
    atomic_bool stopping; /* nothing more goes to the kernel */
    bool busy;            /* a call into the kernel is in progress */
    bool done;            /* the thread may end once the queue is empty */
    pthread_cond_t idle;
};

static void send_one(struct notifier *nt, const struct inval *iv)
{
    int rc;

    if (nt->stopping && !iv->then) {
        listing_unref(iv->store); /* unmounted: nothing left to tell */
        return;
    }

    if (iv->then) {
        iv->then(iv->arg);
        return;
    }
    if (iv->store) {
        struct fuse_bufvec buf = FUSE_BUFVEC_INIT(iv->entry->len);
        buf.buf[0].mem = iv->entry->bytes;
        /* an error (the kernel forgot the inode) only costs a read later */
        fuse_lowlevel_notify_store(nt->se, iv->ino, 0, &buf, 0);
        listing_unref(iv->store);
        return;
    }
    if (iv->name[0])
        rc = fuse_lowlevel_notify_inval_entry(nt->se, iv->ino, iv->name, strlen(iv->name));
    else
        rc = fuse_lowlevel_notify_inval_inode(nt->se, iv->ino, 0, 0);
    /* -ENOENT: the kernel did not know it, which is as good */
    if (rc != 0 && rc != -ENOENT)
        log_debug("invalidating inode %lu%s%s: %s", (unsigned long)iv->ino,
                  iv->name[0] ? " entry " : "", iv->name, strerror(-rc));
}

static void *notifier_main(void *arg)
{
    struct notifier *nt = arg;

    pthread_mutex_lock(&nt->lock);
    for (;;) {
        struct inval *iv = nt->head;
        if (!iv) {
            if (nt->done)
                break;
            pthread_cond_wait(&nt->cond, &nt->lock);
            continue;
        }
        nt->head = iv->next;
        atomic_fetch_sub(&nt->queued, 1);
        if (!nt->head)
            nt->tail = NULL;
        nt->busy = true;
        pthread_mutex_unlock(&nt->lock);
        send_one(nt, iv);
        free(iv);
        pthread_mutex_lock(&nt->lock);
        nt->busy = false;
        pthread_cond_broadcast(&nt->idle);
    }
    pthread_mutex_unlock(&nt->lock);
    return NULL;
}

struct notifier *notifier_new(struct fuse_session *se)
{
    struct notifier *nt = calloc(1, sizeof(*nt));

    if (!nt)
        return NULL;
    nt->se = se;
    pthread_mutex_init(&nt->lock, NULL);
    pthread_cond_init(&nt->cond, NULL);
    pthread_cond_init(&nt->idle, NULL);
    if (pthread_create(&nt->thread, NULL, notifier_main, nt) != 0) {
        pthread_mutex_destroy(&nt->lock);
        pthread_cond_destroy(&nt->cond);
        free(nt);
        return NULL;
    }
    return nt;
}

void notifier_quiesce(struct notifier *nt, double timeout)
{
    struct timespec until;

    if (!nt)
        return;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)timeout;
    pthread_mutex_lock(&nt->lock);
    atomic_store(&nt->stopping, true);
    while (nt->busy && pthread_cond_timedwait(&nt->idle, &nt->lock, &until) == 0)
        ;
    pthread_mutex_unlock(&nt->lock);
}

void notifier_free(struct notifier *nt)
{
    if (!nt)
        return;
    pthread_mutex_lock(&nt->lock);
    atomic_store(&nt->stopping, true);
    nt->done = true;
    pthread_cond_signal(&nt->cond);
    pthread_mutex_unlock(&nt->lock);
    pthread_join(nt->thread, NULL);
    pthread_mutex_destroy(&nt->lock);
    pthread_cond_destroy(&nt->cond);
    pthread_cond_destroy(&nt->idle);
    free(nt);
}

static void push(struct notifier *nt, struct inval *iv)
{
    pthread_mutex_lock(&nt->lock);
    atomic_fetch_add(&nt->queued, 1);
    if (nt->tail)
        nt->tail->next = iv;
    else
        nt->head = iv;
    nt->tail = iv;
    pthread_cond_signal(&nt->cond);
    pthread_mutex_unlock(&nt->lock);
}

static void enqueue(struct notifier *nt, fuse_ino_t ino, const char *name)
{
    size_t len = strlen(name);
    struct inval *iv = NULL;

    if (atomic_load(&nt->queued) < INVAL_QUEUE_LIMIT)
        iv = calloc(1, sizeof(*iv) + len + 1);
    if (!iv) {
        atomic_fetch_add(&nt->dropped, 1);
        return; /* the kernel's caches expire on their own, within the TTL */
    }
    iv->ino = ino;
    memcpy(iv->name, name, len + 1);
    push(nt, iv);
}

void notify_then(struct notifier *nt, void (*fn)(void *arg), void *arg)
{
    struct inval *iv = nt ? calloc(1, sizeof(*iv) + 1) : NULL;

    if (!iv) {
        fn(arg);
        return;
    }
    iv->then = fn;
    iv->arg = arg;
    push(nt, iv);
}

void notify_store(struct notifier *nt, fuse_ino_t ino, struct listing *l,
                  const struct listing_entry *e)
{
    struct inval *iv = NULL;

    if (nt && e->len && atomic_load(&nt->queued) < STORE_QUEUE_LIMIT)
        iv = calloc(1, sizeof(*iv) + 1);
    if (!iv) {
        if (nt && e->len)
            atomic_fetch_add(&nt->dropped, 1);
        listing_unref(l);
        return;
    }
    iv->ino = ino;
    iv->store = l;
    iv->entry = e;
    push(nt, iv);
}

void notify_inode(struct notifier *nt, fuse_ino_t ino)
{
    if (nt)
        enqueue(nt, ino, "");
}

void notify_entry(struct notifier *nt, fuse_ino_t parent, const char *name)
{
    if (nt && *name)
        enqueue(nt, parent, name);
}

unsigned long notify_queued(struct notifier *nt)
{
    return nt ? atomic_load(&nt->queued) : 0;
}

unsigned long notify_dropped(struct notifier *nt)
{
    return nt ? atomic_load(&nt->dropped) : 0;
}
