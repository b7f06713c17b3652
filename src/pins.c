/**
 * @file pins.c
 * Read snapshots of rendered files (pins.h).
 */
#include "pins.h"

#include <string.h>

#include "listing.h"

void pins_init(struct pins *p)
{
    memset(p, 0, sizeof(*p));
    pthread_mutex_init(&p->lock, NULL);
}

void pins_destroy(struct pins *p)
{
    for (size_t i = 0; i < PINS_MAX; i++)
        listing_unref(p->v[i].l);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof(*p));
}

static bool live(const struct pin *s, double now)
{
    return s->ino && now - s->used < PINS_IDLE;
}

/* pid's live pin of ino (under lock), or NULL. */
static struct pin *find(struct pins *p, uint64_t ino, pid_t pid, double now)
{
    for (size_t i = 0; i < PINS_MAX; i++) {
        struct pin *s = &p->v[i];
        if (s->ino == ino && s->pid == pid)
            return live(s, now) ? s : NULL;
    }
    return NULL;
}

struct listing *pins_read(struct pins *p, uint64_t ino, pid_t pid, uint64_t off, double now)
{
    struct listing *l = NULL;
    struct pin *s;

    pthread_mutex_lock(&p->lock);
    s = find(p, ino, pid, now);
    /* offset 0 again after the start was served: a new read (readahead
     * may ask for later chunks before the first one, so not before) */
    if (s && !(off == 0 && s->started)) {
        l = listing_ref(s->l);
        s->used = now;
        s->started |= off == 0;
    }
    pthread_mutex_unlock(&p->lock);
    return l;
}

struct listing *pins_peek(struct pins *p, uint64_t ino, pid_t pid, double now)
{
    struct listing *l = NULL;
    struct pin *s;

    pthread_mutex_lock(&p->lock);
    s = find(p, ino, pid, now);
    if (s)
        l = listing_ref(s->l);
    pthread_mutex_unlock(&p->lock);
    return l;
}

void pins_set(struct pins *p, uint64_t ino, pid_t pid, struct listing *l, uint64_t off, double now)
{
    struct listing *gone[PINS_MAX];
    struct pin *slot = NULL;
    size_t n = 0;

    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < PINS_MAX; i++) {
        struct pin *s = &p->v[i];
        if (s->ino && !live(s, now)) { /* idle: its listing goes now, not when replaced */
            gone[n++] = s->l;
            memset(s, 0, sizeof(*s));
        }
        if (s->ino == ino && s->pid == pid) {
            slot = s;
            break;
        }
        if (!slot || !s->ino || (slot->ino && s->used < slot->used))
            slot = s; /* a free slot, else the least recently used */
    }
    if (slot->l)
        gone[n++] = slot->l;
    *slot =
        (struct pin){.ino = ino, .pid = pid, .l = listing_ref(l), .used = now, .started = off == 0};
    pthread_mutex_unlock(&p->lock);
    while (n)
        listing_unref(gone[--n]);
}

size_t pins_count(struct pins *p, double now)
{
    size_t n = 0;

    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < PINS_MAX; i++)
        n += live(&p->v[i], now);
    pthread_mutex_unlock(&p->lock);
    return n;
}
