/**
 * @file truedy_data.c
 * Truedy's records (seed doc 003 and providers.md): batch calls ("bc_"
 * ids), their contacts in the current item shape (contact_id, phone_number,
 * first_name, ...) or, for one batch, the older documented shape (id, name,
 * phone, ...), and the calls named by the contacts' call_id (GET
 * /calls/{id}), with signed MP3 recording URLs and transcripts.  A pending
 * contact has call_id and called_at null; advancing it calls it, which
 * creates its call (transcript null until the call itself is advanced).
 */
#include "data.h"
#include "gen.h"
#include "timefmt.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define TRUEDY_BIG 1003
#define DAY        86400LL

static const char *const batch_names[] = {
    "October renewals",  "Clinic reminders", "Churn rescue",    "Webinar follow-up",
    "Delivery confirms", "Donor thank-yous", "Survey: pricing", "Reactivation Q4",
};
static const char *const finished[] = {"completed", "completed", "completed", "failed",
                                       "no_answer", "busy",      "voicemail"};
static const char *const agent_lines[] = {
    "Hi, this is Ava from Truedy calling about your account.",
    "I'm calling to confirm your appointment next week.",
    "Thanks for your time. Is now a good moment to talk?",
    "Perfect, I have noted that. Anything else I can help with?",
};
static const char *const user_lines[] = {
    "Sí, claro, dígame.",
    "Yes, that works for me.",
    "Can you call me back tomorrow?",
    "Ja, das passt.",
    "No, gracias.",
    "Sure — what do you need?",
};

/* Batch #3 (or #2 with fewer batches) serves its contacts in the older shape. */
static bool batch_old_shape(size_t camp, size_t ncamps)
{
    return ncamps >= 3 ? camp == 2 : camp == 1;
}

/* The batch's caller id (its "from" number). */
static void batch_caller(char *buf, size_t len, uint64_t seed, size_t camp)
{
    snprintf(buf, len, "+1555%07llu", (unsigned long long)(hash3(seed, 0xca11, camp) % 10000000));
}

static void iso6(char *buf, long long t, struct rng *r)
{
    fmt_iso_frac(buf, SIM_TIME_SIZE, t, 6, r ? (long)rng_below(r, 1000000) : 0);
}

static void set_time(json_object *o, const char *key, long long t, struct rng *r)
{
    char buf[SIM_TIME_SIZE];

    iso6(buf, t, r);
    jadd_str(o, key, t ? buf : NULL);
}

/* An S3-style presigned URL; the signature is an HMAC of the path. */
static void recording_url(char *buf, size_t len, const char *batch, const char *call,
                          long long when, uint64_t seed)
{
    unsigned char mac[32];
    unsigned int maclen = 0;
    char path[128], sig[65], date[24], key[24];

    snprintf(key, sizeof(key), "%016llx", (unsigned long long)mix64(seed));
    snprintf(path, sizeof(path), "/recordings/%s/%s.mp3", batch, call);
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)path, strlen(path), mac,
         &maclen);
    for (unsigned int i = 0; i < maclen && i < 32; i++)
        snprintf(sig + 2 * i, 3, "%02x", mac[i]);
    fmt_compact(date, sizeof(date), when);
    snprintf(buf, len,
             "https://storage.truedy.ai%s?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=%s"
             "&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Signature=%s",
             path, date, sig);
}

static json_object *transcript(struct rng *r, long long start)
{
    json_object *a = json_object_new_array();
    long turns = rng_range(r, 2, 6);

    for (long i = 0; i < turns; i++) {
        json_object *t = json_object_new_object();
        char when[SIM_TIME_SIZE];
        fmt_iso(when, sizeof(when), start + i * 9);
        jadd_str(t, "speaker", i % 2 ? "user" : "agent");
        jadd_str(t, "text", i % 2 ? GEN_PICK(r, user_lines) : GEN_PICK(r, agent_lines));
        jadd_str(t, "timestamp", when);
        json_object_array_add(a, t);
    }
    return a;
}

struct call_spec {
    const char *status;
    const char *batch, *agent, *caller, *to, *contact_id;
    long long ended;
    bool with_transcript;
};

static json_object *call_obj(struct rng *r, const struct call_spec *s, uint64_t seed, char *id)
{
    json_object *o = json_object_new_object(), *meta = json_object_new_object();
    bool done = !strcmp(s->status, "completed");
    long duration = done ? rng_range(r, 25, 380) : 0;
    long long started = s->ended - duration - (done ? 0 : rng_range(r, 15, 40));
    char url[512];

    memcpy(id, "call_", 5);
    gen_hex(r, id + 5, 16);
    recording_url(url, sizeof(url), s->batch, id, s->ended, seed);
    jadd_str(o, "id", id);
    jadd_str(o, "status", s->status);
    jadd_str(o, "direction", "outbound");
    jadd_str(o, "agent_id", s->agent);
    jadd_str(o, "to", s->to);
    jadd_str(o, "from", s->caller);
    jadd_int(o, "duration_seconds", duration);
    jadd_str(o, "recording_url", done ? url : NULL);
    jadd(o, "transcript", done && s->with_transcript ? transcript(r, started) : NULL);
    jadd_str(o, "summary",
             done && s->with_transcript ? "The contact confirmed and asked for an email follow-up."
                                        : NULL);
    jadd_str(meta, "campaign_id", s->batch);
    jadd_str(meta, "contact_id", s->contact_id);
    jadd(o, "metadata", meta);
    set_time(o, "started_at", started, NULL);
    set_time(o, "ended_at", s->ended, NULL);
    set_time(o, "created_at", started - 2, NULL);
    return o;
}

static json_object *contact_obj(struct rng *r, bool old, const char *status, const char *call_id,
                                long long called, char *id)
{
    json_object *o = json_object_new_object();
    struct person p;
    char phone[24], when[SIM_TIME_SIZE];

    gen_person(r, &p);
    gen_phone(r, phone, sizeof(phone), true);
    if (old) {
        memcpy(id, "cnt_", 4);
        gen_hex(r, id + 4, 8);
        fmt_iso(when, sizeof(when), called);
        jadd_str(o, "id", id);
        jadd_str(o, "name", p.full);
        jadd_str(o, "phone", phone);
    } else {
        memcpy(id, "ctc_", 4);
        gen_uuid(r, id + 4);
        iso6(when, called, r);
        jadd_str(o, "contact_id", id);
        jadd_str(o, "phone_number", phone);
        jadd_str(o, "first_name", rng_chance(r, 0.06) ? NULL : p.first);
    }
    jadd_str(o, "call_status", status);
    jadd_str(o, "call_id", call_id);
    jadd_str(o, "called_at", called ? when : NULL);
    return o;
}

static const char *contact_phone(json_object *o)
{
    const char *p = jget_str(o, "phone_number");

    return p ? p : jget_str(o, "phone");
}

static const char *contact_id(json_object *o)
{
    const char *p = jget_str(o, "contact_id");

    return p ? p : jget_str(o, "id");
}

struct batch_ctx {
    struct campaign *c;
    const char *agent, *caller;
    long long created;
    long counts[4]; /* called, completed, failed, pending */
};

static int add_call(struct dataset *ds, size_t camp, json_object *call)
{
    long idx = campaign_add_call(&ds->camps[camp], call);
    char key[64];

    if (idx < 0)
        return -1;
    snprintf(key, sizeof(key), "call:%s", jget_str(call, "id"));
    dataset_index(ds, key, camp, (size_t)idx);
    return 0;
}

static int gen_contact(struct world *w, struct dataset *ds, size_t camp, size_t i,
                       struct batch_ctx *b)
{
    struct rng r;
    const char *status;
    char cid[64], call_id[32];
    long long called = 0;
    json_object *o;

    rng_init(&r, w->opts.seed, STREAM_CONTACT + SIM_TRUEDY, (uint64_t)camp << 24 | i);
    status = rng_chance(&r, 0.35) ? "pending" : GEN_PICK(&r, finished);
    if (strcmp(status, "pending"))
        called = rng_range(&r, b->created + DAY, w->now - 900);
    o = contact_obj(&r, b->c->old_shape, status, NULL, called, cid);
    b->counts[0] += called != 0;
    b->counts[1] += !strcmp(status, "completed");
    b->counts[2] += called && strcmp(status, "completed");
    b->counts[3] += !called;
    if (called) {
        struct call_spec s = {status,           b->c->id, b->agent, b->caller,
                              contact_phone(o), cid,      called,   rng_chance(&r, 0.85)};
        if (add_call(ds, camp, call_obj(&r, &s, w->opts.seed, call_id)) < 0) {
            json_object_put(o);
            return -1;
        }
        jadd_str(o, "call_id", call_id);
    }
    return record_set(&b->c->contacts[i], o);
}

static json_object *batch_obj(const struct batch_ctx *b, struct rng *r, size_t i, long long now)
{
    static const char *const others[] = {"completed", "active",    "paused",
                                         "scheduled", "cancelled", "failed"};
    json_object *o = json_object_new_object();
    size_t n = sizeof(batch_names) / sizeof(batch_names[0]);
    char name[96];

    snprintf(name, sizeof(name), "%s%s", batch_names[i % n], i >= n ? " (2)" : "");
    jadd_str(o, "id", b->c->id);
    jadd_str(o, "name", name);
    jadd_str(o, "status", i == 0 ? "draft" : i == 1 ? "active" : GEN_PICK(r, others));
    jadd_str(o, "agent_id", b->agent);
    jadd_int(o, "total_contacts", (long long)b->c->ncontacts);
    jadd_int(o, "called", b->counts[0]);
    jadd_int(o, "completed", b->counts[1]);
    jadd_int(o, "failed", b->counts[2]);
    jadd_int(o, "pending", b->counts[3]);
    set_time(o, "created_at", b->created, r);
    set_time(o, "updated_at", now - rng_range(r, 600, 3 * DAY), r);
    return o;
}

static int gen_batch(struct world *w, struct dataset *ds, size_t i)
{
    struct campaign *c = &ds->camps[i];
    struct batch_ctx b = {.c = c};
    size_t n = data_contacts_for(&w->opts, i, TRUEDY_BIG);
    char id[32], agent[24], caller[24];
    struct rng r;

    rng_init(&r, w->opts.seed, STREAM_CAMPAIGN + SIM_TRUEDY, i);
    memcpy(id, "bc_", 3);
    gen_hex(&r, id + 3, 12);
    memcpy(agent, "agt_", 4);
    gen_hex(&r, agent + 4, 8);
    batch_caller(caller, sizeof(caller), w->opts.seed, i);
    b.agent = agent;
    b.caller = caller;
    b.created = w->now - rng_range(&r, 20, 60) * DAY - rng_range(&r, 0, DAY - 1);
    c->old_shape = n > 0 && batch_old_shape(i, ds->ncamps);
    c->contacts = calloc(n ? n : 1, sizeof(*c->contacts));
    if (dataset_set_campaign_id(ds, i, id) < 0 || !c->contacts)
        return -1;
    for (size_t k = 0; k < n; k++, c->ncontacts++) {
        if (gen_contact(w, ds, i, k, &b) < 0)
            return -1;
    }
    json_object *o = batch_obj(&b, &r, i, w->now);
    if (record_set(&c->item, json_object_get(o)) < 0 || record_set(&c->detail, o) < 0)
        return -1;
    return 0;
}

static int truedy_generate(struct world *w, struct dataset *ds)
{
    if (dataset_alloc(ds, w->opts.campaigns) < 0)
        return -1;
    for (size_t i = 0; i < ds->ncamps; i++) {
        if (gen_batch(w, ds, i) < 0)
            return -1;
    }
    return 0;
}

static bool truedy_open(const struct dataset *ds, size_t camp, enum rec_kind kind, size_t i)
{
    const struct campaign *c = &ds->camps[camp];
    json_object *t;

    if (kind == KIND_CONTACT)
        return !strcmp(jget_str(c->contacts[i].obj, "call_status"), "pending");
    json_object_object_get_ex(c->calls[i].obj, "transcript", &t);
    return !strcmp(jget_str(c->calls[i].obj, "status"), "completed") && !t;
}

/* A pending contact gets called: its call appears (transcript pending). */
static int advance_contact(struct world *w, struct dataset *ds, size_t camp, size_t i,
                           struct rng *r, json_object *out)
{
    struct campaign *c = &ds->camps[camp];
    json_object *o = c->contacts[i].obj, *detail = c->detail.obj;
    const char *status = GEN_PICK(r, finished);
    char call_id[32], when[SIM_TIME_SIZE], caller[24];
    struct call_spec s = {
        status, c->id, jget_str(detail, "agent_id"), caller, contact_phone(o), contact_id(o),
        w->now, false};

    batch_caller(caller, sizeof(caller), w->opts.seed, camp);
    if (add_call(ds, camp, call_obj(r, &s, w->opts.seed, call_id)) < 0)
        return -1;
    if (c->old_shape)
        fmt_iso(when, sizeof(when), w->now);
    else
        iso6(when, w->now, NULL);
    jadd_str(o, "call_status", status);
    jadd_str(o, "call_id", call_id);
    jadd_str(o, "called_at", when);
    if (record_render(&c->contacts[i]) < 0)
        return -1;
    change_report(out, change_entry(SIM_TRUEDY, KIND_CONTACT, c->id, contact_id(o)), "changed",
                  status);
    change_report(out, change_entry(SIM_TRUEDY, KIND_CALL, c->id, call_id), "created", status);
    return 0;
}

/* A finished call's transcript and summary arrive. */
static int advance_call(struct campaign *c, size_t i, struct rng *r, json_object *out)
{
    json_object *o = c->calls[i].obj;
    long long started = 0;

    parse_iso(jget_str(o, "started_at"), &started);
    jadd(o, "transcript", transcript(r, started));
    jadd_str(o, "summary", "The contact answered; the agent logged the outcome.");
    if (record_render(&c->calls[i]) < 0)
        return -1;
    change_report(out, change_entry(SIM_TRUEDY, KIND_CALL, c->id, jget_str(o, "id")), "changed",
                  jget_str(o, "status"));
    return 0;
}

static int truedy_advance(struct world *w, struct dataset *ds, size_t camp, enum rec_kind kind,
                          size_t i, struct rng *r, json_object *out)
{
    if (kind == KIND_CALL)
        return advance_call(&ds->camps[camp], i, r, out);
    return advance_contact(w, ds, camp, i, r, out);
}

const struct model truedy_model = {
    .big_contacts = TRUEDY_BIG,
    .generate = truedy_generate,
    .open = truedy_open,
    .advance = truedy_advance,
};
