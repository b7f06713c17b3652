/**
 * @file data.c
 * The world's lifecycle (generation through the models, freeing), lookups,
 * page selection, and /_sim/advance's choice of records.
 */
#include "data.h"

#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const sim_prov_names[SIM_NPROV] = {"altur", "burki", "truedy", "koreai"};

static const struct model *const models[SIM_NPROV] = {&altur_model, &burki_model, &truedy_model,
                                                      &koreai_model};

int sim_prov_find(const char *name)
{
    for (int p = 0; p < SIM_NPROV; p++) {
        if (strcmp(name, sim_prov_names[p]) == 0)
            return p;
    }
    return -1;
}

size_t data_contacts_for(const struct data_opts *o, size_t camp, size_t big)
{
    if (camp == 0)
        return 0;
    if (camp == 1)
        return o->big ? o->big : big;
    return o->contacts;
}

long long data_contact_id(const struct data_opts *o, long long first, size_t camp, size_t i,
                          size_t big)
{
    size_t before; /* ids taken before this one */

    if (camp == 1 && i >= big) /* after every campaign's ids at the default sizes */
        before = big + (o->campaigns - 2) * o->contacts + (i - big);
    else
        before = (camp <= 1 ? 0 : big + (camp - 2) * o->contacts) + i;
    return first + (long long)before;
}

size_t data_calls_for(const struct data_opts *o, size_t camp, size_t ncontacts)
{
    if (ncontacts == 0)
        return 0;
    return camp == 1 ? BIG_CALLS : o->calls;
}

int dataset_alloc(struct dataset *ds, size_t n)
{
    ds->camps = calloc(n ? n : 1, sizeof(*ds->camps));
    ds->ncamps = n;
    ds->campaign_ids = json_object_new_object();
    ds->record_ids = json_object_new_object();
    return ds->camps && ds->campaign_ids && ds->record_ids ? 0 : -1;
}

int dataset_set_campaign_id(struct dataset *ds, size_t camp, const char *id)
{
    ds->camps[camp].id = strdup(id);
    if (!ds->camps[camp].id)
        return -1;
    jadd_int(ds->campaign_ids, id, (long long)camp);
    return 0;
}

long campaign_add_call(struct campaign *c, json_object *obj)
{
    if (c->ncalls == c->calls_cap) {
        size_t cap = c->calls_cap ? c->calls_cap * 2 : 16;
        struct record *calls = realloc(c->calls, cap * sizeof(*calls));
        if (!calls) {
            json_object_put(obj);
            return -1;
        }
        c->calls = calls;
        c->calls_cap = cap;
    }
    if (record_set(&c->calls[c->ncalls], obj) < 0) {
        json_object_put(obj);
        return -1;
    }
    return (long)c->ncalls++;
}

void dataset_index(struct dataset *ds, const char *key, size_t camp, size_t idx)
{
    jadd_int(ds->record_ids, key, (long long)((uint64_t)camp << 32 | idx));
}

long dataset_campaign(const struct dataset *ds, const char *id)
{
    json_object *v;

    if (!json_object_object_get_ex(ds->campaign_ids, id, &v))
        return -1;
    return (long)json_object_get_int64(v);
}

int dataset_lookup(const struct dataset *ds, const char *key, size_t *camp, size_t *idx)
{
    json_object *v;
    uint64_t packed;

    if (!json_object_object_get_ex(ds->record_ids, key, &v))
        return -1;
    packed = (uint64_t)json_object_get_int64(v);
    *camp = (size_t)(packed >> 32);
    *idx = (size_t)(packed & 0xffffffffU);
    return 0;
}

static void campaign_free(struct campaign *c)
{
    for (size_t i = 0; i < c->ncontacts; i++)
        record_clear(&c->contacts[i]);
    for (size_t i = 0; i < c->ncalls; i++)
        record_clear(&c->calls[i]);
    record_clear(&c->item);
    record_clear(&c->detail);
    free(c->contacts);
    free(c->calls);
    free(c->id);
}

static void dataset_free(struct dataset *ds)
{
    for (size_t i = 0; ds->camps && i < ds->ncamps; i++)
        campaign_free(&ds->camps[i]);
    free(ds->camps);
    json_object_put(ds->campaign_ids);
    json_object_put(ds->record_ids);
    memset(ds, 0, sizeof(*ds));
}

int world_init(struct world *w, const struct data_opts *opts)
{
    pthread_rwlockattr_t attr;

    memset(w->ds, 0, sizeof(w->ds));
    w->opts = *opts;
    w->advances = 0;
    atomic_store(&w->now, sim_base_time(opts->seed));
    pthread_rwlockattr_init(&attr);
    /* Writers (advance) must not starve under a benchmark's read load. */
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&w->lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    for (int p = 0; p < SIM_NPROV; p++) {
        if (models[p]->generate(w, &w->ds[p]) < 0) {
            world_free(w);
            return -1;
        }
    }
    return 0;
}

void world_free(struct world *w)
{
    for (int p = 0; p < SIM_NPROV; p++)
        dataset_free(&w->ds[p]);
    pthread_rwlock_destroy(&w->lock);
}

/* ---- pages ---- */

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay; hay++) {
        if (strncasecmp(hay, needle, n) == 0)
            return true;
    }
    return n == 0;
}

static bool filter_pass(json_object *obj, const struct filter *f)
{
    const char *s;

    if (!f->value)
        return true;
    if (f->op == FILTER_EQ)
        return jmember_equals(obj, f->field, f->value);
    s = jget_str(obj, f->field);
    if (!s)
        return false;
    if (f->op == FILTER_CONTAINS)
        return contains_ci(s, f->value);
    if (f->op == FILTER_GE)
        return strncmp(s, f->value, 19) >= 0;
    return strncmp(s, f->value, 19) <= 0;
}

static bool filters_pass(json_object *obj, const struct filter *f, size_t nf)
{
    for (size_t i = 0; i < nf; i++) {
        if (!filter_pass(obj, &f[i]))
            return false;
    }
    return true;
}

json_object *page_select(const void *base, size_t stride, size_t n, const struct filter *f,
                         size_t nf, size_t offset, size_t limit, size_t *total)
{
    const struct record **page = malloc((limit ? limit : 1) * sizeof(*page));
    size_t matched = 0, kept = 0;

    if (!page)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const struct record *rec = (const void *)((const char *)base + i * stride);
        if (!filters_pass(rec->obj, f, nf))
            continue;
        if (matched >= offset && kept < limit)
            page[kept++] = rec;
        matched++;
    }
    *total = matched;
    return jraw_array(page, kept);
}

/* ---- advance ---- */

struct candidate {
    uint32_t camp, idx;
    uint8_t prov, kind;
};

struct candidates {
    struct candidate *v;
    size_t n, cap;
};

static int cand_push(struct candidates *c, int p, size_t camp, enum rec_kind kind, size_t idx)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        struct candidate *v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return -1;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (struct candidate){(uint32_t)camp, (uint32_t)idx, (uint8_t)p, (uint8_t)kind};
    return 0;
}

static int collect_campaign(struct world *w, struct candidates *c, int p, size_t camp)
{
    const struct dataset *ds = &w->ds[p];
    const struct campaign *cp = &ds->camps[camp];

    for (size_t i = 0; i < cp->ncontacts; i++) {
        if (models[p]->open(ds, camp, KIND_CONTACT, i) && cand_push(c, p, camp, KIND_CONTACT, i))
            return -1;
    }
    for (size_t i = 0; i < cp->ncalls; i++) {
        if (models[p]->open(ds, camp, KIND_CALL, i) && cand_push(c, p, camp, KIND_CALL, i))
            return -1;
    }
    return 0;
}

static int collect(struct world *w, struct candidates *c)
{
    for (int p = 0; p < SIM_NPROV; p++) {
        for (size_t camp = 0; camp < w->ds[p].ncamps; camp++) {
            if (collect_campaign(w, c, p, camp) < 0)
                return -1;
        }
    }
    return 0;
}

static int cand_order(const void *a, const void *b)
{
    const struct candidate *x = a, *y = b;
    uint64_t kx =
        (uint64_t)x->prov << 56 | (uint64_t)x->camp << 33 | (uint64_t)x->kind << 32 | x->idx;
    uint64_t ky =
        (uint64_t)y->prov << 56 | (uint64_t)y->camp << 33 | (uint64_t)y->kind << 32 | y->idx;

    return kx < ky ? -1 : kx > ky;
}

/* Picks k candidates: each pick first draws a provider (among those with
 * candidates left), then one of its records, so that small providers get
 * their share.  The picks are sorted so the report reads in dataset order. */
static struct candidate *choose(struct world *w, struct candidates *c, size_t k)
{
    struct candidate *picked = malloc((k ? k : 1) * sizeof(*picked));
    size_t start[SIM_NPROV] = {0}, left[SIM_NPROV] = {0};
    struct rng r;

    if (!picked)
        return NULL;
    for (size_t i = 0; i < c->n; i++)
        left[c->v[i].prov]++;
    for (int p = 1; p < SIM_NPROV; p++)
        start[p] = start[p - 1] + left[p - 1];
    rng_init(&r, w->opts.seed, STREAM_ADVANCE, w->advances);
    for (size_t i = 0; i < k; i++) {
        int avail[SIM_NPROV], navail = 0, p;
        for (int q = 0; q < SIM_NPROV; q++) {
            if (left[q])
                avail[navail++] = q;
        }
        p = avail[rng_below(&r, (uint32_t)navail)];
        size_t j = start[p] + rng_below(&r, (uint32_t)left[p]);
        picked[i] = c->v[j];
        c->v[j] = c->v[start[p] + --left[p]];
    }
    qsort(picked, k, sizeof(*picked), cand_order);
    return picked;
}

static size_t apply(struct world *w, const struct candidate *picked, size_t k, json_object *out)
{
    size_t done = 0;

    for (size_t i = 0; i < k; i++) {
        const struct candidate *cd = &picked[i];
        struct rng r;

        rng_init(&r, w->opts.seed, STREAM_ADVANCE_RECORD, hash3(w->advances, i, cd->idx));
        if (models[cd->prov]->advance(w, &w->ds[cd->prov], cd->camp, cd->kind, cd->idx, &r, out) ==
            0)
            done++;
    }
    return done;
}

json_object *world_advance(struct world *w, long n)
{
    struct candidates c = {0};
    struct candidate *picked = NULL;
    json_object *report = json_object_new_object(), *changed = json_object_new_array();
    char now[SIM_TIME_SIZE];
    size_t k = 0, done = 0;

    pthread_rwlock_wrlock(&w->lock);
    w->advances++;
    atomic_fetch_add(&w->now, 7 * 60);
    if (collect(w, &c) == 0) {
        k = (size_t)n < c.n ? (size_t)n : c.n;
        picked = choose(w, &c, k);
        done = picked ? apply(w, picked, k, changed) : 0;
    }
    fmt_iso(now, sizeof(now), atomic_load(&w->now));
    pthread_rwlock_unlock(&w->lock);
    free(c.v);
    free(picked);
    jadd_int(report, "advanced", (long long)done);
    jadd_str(report, "now", now);
    jadd(report, "changed", changed);
    return report;
}

json_object *change_entry(enum sim_prov p, enum rec_kind kind, const char *campaign, const char *id)
{
    json_object *e = json_object_new_object();

    jadd_str(e, "provider", sim_prov_names[p]);
    jadd_str(e, "kind", kind == KIND_CONTACT ? "contact" : "call");
    jadd_str(e, "campaign", campaign);
    if (id)
        jadd_str(e, "id", id);
    return e;
}

void change_report(json_object *out, json_object *entry, const char *action, const char *status)
{
    jadd_str(entry, "action", action);
    jadd_str(entry, "status", status);
    json_object_array_add(out, entry);
}
