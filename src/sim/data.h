/**
 * @file data.h
 * The simulated world: per provider a list of campaigns, each with its
 * contacts and calls as records (JSON objects in the provider's own field
 * names and key order, with their rendering cached), generated at startup
 * from the seed.  Readers hold world.lock for reading while they copy
 * records into a response; /_sim/advance holds it for writing.
 *
 * The provider-specific parts (what a record looks like, how it moves
 * through its lifecycle) are `struct model`s in <provider>_data.c.
 */
#ifndef CAMPAIGNFS_SIM_DATA_H
#define CAMPAIGNFS_SIM_DATA_H

#include "jsonx.h"
#include "prng.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sim_prov { SIM_ALTUR, SIM_BURKI, SIM_TRUEDY, SIM_KOREAI, SIM_NPROV };

extern const char *const sim_prov_names[SIM_NPROV];
/* The provider called name, or -1. */
int sim_prov_find(const char *name);

enum rec_kind { KIND_CONTACT, KIND_CALL };

/* Campaign #2 (index 1) is the big one: more than ten pages at the
 * provider's largest page size. */
#define BIG_CALLS 150

struct campaign {
    char *id;             /* the campaign's id as text */
    struct record item;   /* as in the campaign list */
    struct record detail; /* the single-campaign endpoint's object, unwrapped */
    struct record *contacts;
    size_t ncontacts;
    struct record *calls; /* Altur calls, Burki executions, Truedy calls */
    size_t ncalls, calls_cap;
    bool old_shape; /* Truedy: this batch's contacts use the older item shape */
};

struct dataset {
    struct campaign *camps;
    size_t ncamps;
    json_object *campaign_ids; /* id text -> campaign index */
    json_object *record_ids;   /* "call:<id>" / "contact:<campaign>:<id>" -> packed position */
};

struct data_opts {
    uint64_t seed;
    size_t campaigns; /* per provider */
    size_t contacts;  /* per ordinary campaign */
    size_t calls;     /* per ordinary non-empty campaign */
    size_t big;       /* contacts of campaign #2; 0: the provider's default */
};

struct world {
    struct dataset ds[SIM_NPROV];
    struct data_opts opts;
    pthread_rwlock_t lock;
    _Atomic long long now; /* the sim clock, Unix seconds */
    unsigned long advances;
};

struct model {
    size_t big_contacts; /* contacts of campaign #2 */
    /* Fills ds (campaigns, records, indexes).  0 or -1. */
    int (*generate)(struct world *w, struct dataset *ds);
    /* Whether the record can still move on (not in a terminal state). */
    bool (*open)(const struct dataset *ds, size_t camp, enum rec_kind kind, size_t i);
    /* Moves the record on one step at the clock's time; appends a report
     * of it (and of any record it created) to the array out.  0 or -1. */
    int (*advance)(struct world *w, struct dataset *ds, size_t camp, enum rec_kind kind, size_t i,
                   struct rng *r, json_object *out);
};

extern const struct model altur_model, burki_model, truedy_model, koreai_model;

/* Streams for rng_init(): one per provider and purpose. */
enum rng_stream {
    STREAM_CREDS = 1,
    STREAM_CAMPAIGN = 0x100, /* + provider */
    STREAM_CONTACT = 0x200,  /* + provider, index = campaign << 24 | record */
    STREAM_CALL = 0x300,     /* + provider, index = campaign << 24 | record */
    STREAM_ADVANCE = 0x400,
    STREAM_ADVANCE_RECORD = 0x500,
};

/* ---- building ---- */

int world_init(struct world *w, const struct data_opts *opts);
void world_free(struct world *w);

/* How many contacts / calls campaign index camp gets; big is the
 * provider's default size of campaign #2. */
size_t data_contacts_for(const struct data_opts *o, size_t camp, size_t big);
size_t data_calls_for(const struct data_opts *o, size_t camp, size_t ncontacts);
/* The id of contact i of campaign camp where a provider numbers contacts
 * in sequence from first across campaigns (Altur, Burki), big being its
 * default size of campaign #2.  Contacts of campaign #2 beyond big are
 * numbered after every other campaign's, so that the size of campaign #2
 * changes no other campaign's ids. */
long long data_contact_id(const struct data_opts *o, long long first, size_t camp, size_t i,
                          size_t big);

/* Allocates ds->camps (n zeroed campaigns) and the indexes.  0 or -1. */
int dataset_alloc(struct dataset *ds, size_t n);
/* Records a campaign's id (strdup'd into camps[camp].id).  0 or -1. */
int dataset_set_campaign_id(struct dataset *ds, size_t camp, const char *id);
/* Appends a call record (takes obj) to a campaign.  Returns its index or -1. */
long campaign_add_call(struct campaign *c, json_object *obj);
/* Indexes a record under key kind:id (calls: campaign-wide by id). */
void dataset_index(struct dataset *ds, const char *key, size_t camp, size_t idx);

/* ---- lookups (read lock held) ---- */

long dataset_campaign(const struct dataset *ds, const char *id);
/* Position of a record indexed under key; 0 or -1. */
int dataset_lookup(const struct dataset *ds, const char *key, size_t *camp, size_t *idx);

/* ---- pages (read lock held) ---- */

enum filter_op {
    FILTER_EQ,       /* member equals value (string, bool or int member) */
    FILTER_CONTAINS, /* string member contains value, ASCII case-insensitive */
    FILTER_GE,       /* timestamp member >= value ("YYYY-MM-DDTHH:MM:SS") */
    FILTER_LE,       /* timestamp member <= value */
};

struct filter {
    const char *field;
    const char *value; /* NULL: filter not in use */
    enum filter_op op;
};

/* Records at base, base+stride, ... (n of them) that pass every filter:
 * skips offset of them and returns a raw JSON array of at most limit;
 * *total is how many passed.  NULL on allocation failure. */
json_object *page_select(const void *base, size_t stride, size_t n, const struct filter *f,
                         size_t nf, size_t offset, size_t limit, size_t *total);

/* ---- advance (takes the write lock) ---- */

/* Moves n open records on and returns the report object
 * {"advanced": k, "now": ..., "changed": [...]}. */
json_object *world_advance(struct world *w, long n);

/* A report entry {"provider", "kind", "campaign", "id"}; id may be NULL
 * (then omitted: Kore.ai adds phoneNumber, uniqueId and index instead). */
json_object *change_entry(enum sim_prov p, enum rec_kind kind, const char *campaign,
                          const char *id);
/* Finishes entry with "action" ("changed" or "created") and "status" and
 * appends it to out. */
void change_report(json_object *out, json_object *entry, const char *action, const char *status);

#endif
