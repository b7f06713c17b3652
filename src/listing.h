/**
 * @file listing.h
 * A listing is a value: the entries of one directory as they were when all
 * their pages arrived (names, rendered bytes, times).  It is immutable once
 * built and shared by reference count, so readers keep a consistent
 * snapshot while a refresh builds the next one; the cache swaps it in whole.
 */
#ifndef CAMPAIGNFS_LISTING_H
#define CAMPAIGNFS_LISTING_H

#include <json-c/json.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "provider.h"
#include "views.h"

enum entry_type {
    ENTRY_DIR,  /* a subdirectory (campaign, contacts/, calls/) */
    ENTRY_FILE, /* a file whose bytes are in the listing */
    ENTRY_LAZY, /* a file fetched on its own when looked up (its bytes are not here) */
    ENTRY_LINK, /* a symbolic link; bytes: its target */
};

struct listing_entry {
    char *name;         /* unique, safe directory entry name */
    char *id;           /* the record's raw id (used in URLs), or NULL */
    char *link;         /* raw value of the collection's link field, or NULL */
    char *bytes;        /* rendered record (ENTRY_FILE), or the list item (ENTRY_DIR) */
    time_t rec_time;    /* newest timestamp of the record itself, 0 if none */
    time_t mtime;       /* what stat shows */
    uint32_t len;       /* bytes' length (bodies are at most HTTP_MAX_BODY) */
    unsigned char type; /* enum entry_type */
    unsigned char tag;  /* for hand-made entries: what the entry is to its owner */
    bool packed;        /* bytes, name, id and link live in the listing's arena */
};

struct listing {
    atomic_int refs;
    size_t n;
    struct listing_entry *entries;   /* sorted by name */
    size_t total_bytes;              /* sum of ENTRY_FILE sizes */
    unsigned long serial;            /* unique per listing built in this process */
    bool final;                      /* it never changes again: not refetched after its TTL */
    time_t changed_at;               /* when what it shows last changed (its views' mtime) */
    _Atomic(struct view *) views[2]; /* its one-file views (views.h), made on first use */
    char *arena;                     /* every entry's bytes and texts */
};

/* Collects records page by page. */
struct listing_builder {
    const struct collection *coll; /* id, time, naming and link rules (NULL for static lists) */
    enum entry_type type;
    struct listing_entry *items;
    size_t n, cap;
    size_t page_start; /* index of the first record of the last page added */
    bool failed;       /* out of memory */
};

void listing_builder_init(struct listing_builder *b, const struct collection *coll,
                          enum entry_type type);
/* What a builder says of a page it refuses (besides -1, out of memory). */
#define LISTING_NOT_OBJECT   (-2) /* an item of the page is not a JSON object */
#define LISTING_NO_ID        (-3) /* a record has none of the collection's id fields */
#define LISTING_PAGE_REPEATS (-4) /* the page is the previous page again, record for record */

/* Adds one record from an API page (rendered now; rec is not kept).
 * 0, -1 (out of memory), LISTING_NOT_OBJECT or LISTING_NO_ID. */
int listing_builder_add_record(struct listing_builder *b, json_object *rec);
/* Adds the records of one page, in order.  For records without ids, a
 * leading run that repeats the end of the previous page byte for byte is
 * the same records seen again (the pages shifted while they were read) and
 * is dropped; within a page nothing is merged. */
int listing_builder_add_page(struct listing_builder *b, json_object *items);
/* Moves the records of page (a builder of the same collection, filled with
 * listing_builder_add_record()) onto b as its next page, with the same
 * repeat rule as listing_builder_add_page().  Pages fetched in parallel are
 * rendered as they arrive and taken in page order.  page is emptied.
 * 0, -1 (out of memory) or LISTING_PAGE_REPEATS. */
int listing_builder_take_page(struct listing_builder *b, struct listing_builder *page);
/* Adds an entry made by hand (static directories, lazily fetched files).
 * With a collection set on the builder, name is NULL and the entry is named
 * from its id (and de-duplicated) like a record. */
int listing_builder_add(struct listing_builder *b, const char *name, const char *id,
                        enum entry_type type, const char *bytes, size_t len, time_t rec_time);
/* Adds an entry as it was stored: named, with its link, tag and times. */
int listing_builder_add_entry(struct listing_builder *b, const struct listing_entry *e);
/* Sets the tag of the entry added last. */
void listing_builder_tag(struct listing_builder *b, int tag);
/* Drops repeated ids (the last copy wins: it is the newer answer), makes
 * names unique and sorts.  Consumes the builder.  NULL on out of memory. */
struct listing *listing_builder_finish(struct listing_builder *b);
void listing_builder_discard(struct listing_builder *b);

/* Keeps only the entries whose id is in ids (NULL-terminated), before the
 * listing is published.  Returns l. */
struct listing *listing_keep_ids(struct listing *l, char *const *ids);

/* The view of kind k of l (made on first use and kept with l; NULL on out
 * of memory). */
const struct view *listing_view(struct listing *l, enum view_kind k);

struct listing *listing_ref(struct listing *l);
void listing_unref(struct listing *l);

/* The entry with that name, or NULL (binary search). */
const struct listing_entry *listing_find(const struct listing *l, const char *name);

/* Sets every entry's mtime: an entry whose bytes are unchanged since old
 * keeps its mtime; a new or changed one takes its record's own time when
 * that is newer than what was shown before, else `now` (and never the old
 * value again, so a change is always visible to rsync).  old may be NULL. */
void listing_carry_times(struct listing *fresh, const struct listing *old, time_t now);

/* Whether two listings show exactly the same thing (names, types, bytes,
 * mtimes): a refresh that changed nothing keeps the old listing. */
bool listing_same(const struct listing *a, const struct listing *b);

/* Whether two entries show the same thing (type, bytes, mtime). */
bool listing_entry_same(const struct listing_entry *a, const struct listing_entry *b);

/* The newest entry mtime, or dflt for an empty listing. */
time_t listing_newest(const struct listing *l, time_t dflt);

/* Renders a record as campaignfs shows it: two-space indent, "key": value,
 * '/' unescaped, UTF-8 as is, one trailing newline.  malloc'd. */
char *render_record(json_object *rec, size_t *len);

#endif
