/**
 * @file burki_data.c
 * Burki's records (seed doc 002 and providers.md): campaigns (int ids, no
 * envelope), contacts with contact_data{company, source, variable_values,
 * custom_fields}, executions with both an int id and an "exec_<hex>"
 * execution_id; ISO 8601 times with Z.  And their lifecycles.
 */
#include "data.h"
#include "gen.h"
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

#define BURKI_BIG 10007
#define DAY       86400LL

static const char *const campaign_names[] = {
    "Q4 Renewal Outreach", "Appointment Reminders", "Win-back Spring",   "NPS Survey",
    "Payment Follow-up",   "Onboarding Calls",      "Event Invitations", "Lead Qualification",
};
static const char *const companies[] = {
    "Acme Corp",        "Tech Inc", "Núñez & Hijos S.A.", "Björk Design",
    "北京科技有限公司", "Globex",   "Société Générale",   "Initech"};
static const char *const sources[] = {"csv_import", "csv_import", "api", "crm_sync"};
static const char *const finished[] = {"completed", "completed", "completed", "failed",
                                       "no_answer", "busy",      "voicemail"};

static void iso(char *buf, long long t)
{
    fmt_iso(buf, SIM_TIME_SIZE, t);
}

static void set_time(json_object *o, const char *key, long long t)
{
    char buf[SIM_TIME_SIZE];

    iso(buf, t);
    jadd_str(o, key, t ? buf : NULL);
}

static const char *campaign_status(size_t i, struct rng *r)
{
    static const char *const others[] = {"completed", "paused",    "scheduled",
                                         "running",   "cancelled", "failed"};

    if (i == 0)
        return "draft";
    return i == 1 ? "running" : GEN_PICK(r, others);
}

struct tally {
    long completed, failed, executed, duration;
};

static json_object *metrics(const struct tally *t, size_t ncontacts)
{
    json_object *m = json_object_new_object();
    double rate = ncontacts ? (double)t->completed / (double)ncontacts : 0;
    char text[16];

    snprintf(text, sizeof(text), "%.2f", rate);
    jadd_int(m, "total_calls", t->executed);
    jadd_num(m, "success_rate", rate, text);
    jadd_int(m, "average_call_duration", t->executed ? t->duration / t->executed : 0);
    return m;
}

static json_object *campaign_obj(struct rng *r, long long id, size_t i, long long created,
                                 size_t ncontacts, const struct tally *t)
{
    json_object *o = json_object_new_object();
    const char *status = campaign_status(i, r);
    bool started = strcmp(status, "draft") && strcmp(status, "scheduled");
    size_t n = sizeof(campaign_names) / sizeof(campaign_names[0]);
    char name[96];

    snprintf(name, sizeof(name), "%s%s", campaign_names[i % n], i >= n ? " II" : "");
    jadd_int(o, "id", id);
    jadd_str(o, "name", name);
    jadd_str(o, "description", "Outbound voice campaign (campaignfs-sim)");
    jadd_str(o, "status", status);
    jadd_str(o, "campaign_type", "call");
    jadd_int(o, "total_contacts", (long long)ncontacts);
    jadd_int(o, "completed_contacts", t->completed);
    jadd_int(o, "failed_contacts", t->failed);
    set_time(o, "created_at", created);
    set_time(o, "started_at", started ? created + 3600 : 0);
    set_time(o, "completed_at", !strcmp(status, "completed") ? created + 20 * DAY : 0);
    jadd(o, "metrics", metrics(t, ncontacts));
    return o;
}

static const char *contact_status(struct rng *r)
{
    double u = rng_unit(r);

    if (u < 0.35)
        return "pending";
    if (u < 0.40)
        return "in_progress";
    return u < 0.97 ? GEN_PICK(r, finished) : "skipped";
}

static json_object *contact_data(struct rng *r, const struct person *p, long long id)
{
    json_object *d = json_object_new_object(), *vars = json_object_new_object();
    char date[16], cust[24];

    snprintf(date, sizeof(date), "2025-10-%02ld", rng_range(r, 2, 28));
    jadd_str(d, "company", GEN_PICK(r, companies));
    jadd_str(d, "source", GEN_PICK(r, sources));
    jadd_str(vars, "name", p->full);
    jadd_str(vars, "appointment_date", date);
    jadd(d, "variable_values", vars);
    if (rng_chance(r, 0.7)) {
        json_object *custom = json_object_new_object();
        snprintf(cust, sizeof(cust), "CUST%06lld", id % 1000000);
        jadd_str(custom, "customer_id", cust);
        if (rng_chance(r, 0.3))
            jadd_str(custom, "segment", rng_chance(r, 0.5) ? "premium" : "básico");
        jadd(d, "custom_fields", custom);
    }
    return d;
}

static json_object *contact_obj(struct rng *r, long long id, long long created, long long now,
                                struct tally *t)
{
    json_object *o = json_object_new_object();
    const char *status = contact_status(r);
    bool pending = !strcmp(status, "pending"), skipped = !strcmp(status, "skipped");
    struct person p;
    char phone[24];

    gen_person(r, &p);
    gen_phone(r, phone, sizeof(phone), true);
    t->completed += !strcmp(status, "completed");
    t->failed += !strcmp(status, "failed");
    jadd_int(o, "id", id);
    jadd_str(o, "phone_number", phone);
    jadd(o, "contact_data", contact_data(r, &p, id));
    jadd_str(o, "status", status);
    jadd_int(o, "attempts", pending || skipped ? 0 : rng_range(r, 1, 3));
    set_time(o, "created_at", created);
    set_time(o, "last_attempt_at",
             pending || skipped ? 0 : rng_range(r, created + 3600, now - 600));
    return o;
}

static const char *execution_status(struct rng *r, bool last)
{
    if (last)
        return rng_chance(r, 0.5) ? "in_progress" : "pending";
    return rng_chance(r, 0.05) ? "skipped" : GEN_PICK(r, finished);
}

static json_object *execution_data(const char *status, long duration, long attempt)
{
    json_object *d = json_object_new_object();
    bool done = strcmp(status, "pending") && strcmp(status, "in_progress");

    jadd_int(d, "duration_seconds", duration);
    jadd_int(d, "attempt_number", attempt);
    jadd_str(d, "end_reason", done ? (!strcmp(status, "completed") ? "hangup" : status) : NULL);
    jadd_bool(d, "recording_available", !strcmp(status, "completed"));
    return d;
}

static json_object *execution_obj(struct rng *r, long long id, json_object *contact,
                                  const char *status, long long when, struct tally *t)
{
    json_object *o = json_object_new_object();
    bool pending = !strcmp(status, "pending"), skipped = !strcmp(status, "skipped");
    long duration = !strcmp(status, "completed") ? rng_range(r, 20, 400) : 0;
    char exec[24], sid[40];

    memcpy(exec, "exec_", 5);
    gen_hex(r, exec + 5, 16);
    sid[0] = 'C';
    sid[1] = 'A';
    gen_hex(r, sid + 2, 32);
    t->executed += !pending && !skipped;
    t->duration += duration;
    jadd_int(o, "id", id);
    jadd_str(o, "execution_id", exec);
    jadd_int(o, "contact_id", jget_int(contact, "id"));
    jadd_str(o, "contact_name",
             json_object_get_string(json_object_object_get(
                 json_object_object_get(json_object_object_get(contact, "contact_data"),
                                        "variable_values"),
                 "name")));
    jadd_str(o, "contact_phone", jget_str(contact, "phone_number"));
    jadd_str(o, "status", status);
    jadd_str(o, "call_id", pending || skipped ? NULL : sid);
    set_time(o, "executed_at", pending || skipped ? 0 : when);
    jadd(o, "execution_data", execution_data(status, duration, rng_range(r, 1, 2)));
    return o;
}

struct gen_state {
    long long first_contact, next_execution;
};

static int gen_contacts(struct world *w, struct dataset *ds, size_t camp, long long created,
                        struct gen_state *g, struct tally *t)
{
    struct campaign *c = &ds->camps[camp];
    size_t n = data_contacts_for(&w->opts, camp, BURKI_BIG);

    c->contacts = calloc(n ? n : 1, sizeof(*c->contacts));
    if (!c->contacts)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct rng r;
        rng_init(&r, w->opts.seed, STREAM_CONTACT + SIM_BURKI, (uint64_t)camp << 24 | i);
        long long id = data_contact_id(&w->opts, g->first_contact, camp, i, BURKI_BIG);
        if (record_set(&c->contacts[i], contact_obj(&r, id, created, w->now, t)) < 0)
            return -1;
        c->ncontacts++;
    }
    return 0;
}

static int gen_executions(struct world *w, struct dataset *ds, size_t camp, long long created,
                          struct gen_state *g, struct tally *t)
{
    struct campaign *c = &ds->camps[camp];
    size_t n = data_calls_for(&w->opts, camp, c->ncontacts);
    long long span = w->now - 7200 - (created + DAY);

    for (size_t i = 0; i < n; i++) {
        struct rng r;
        rng_init(&r, w->opts.seed, STREAM_CALL + SIM_BURKI, (uint64_t)camp << 24 | i);
        bool last = i + (n / 10 ? n / 10 : 1) >= n;
        const char *status = execution_status(&r, last);
        long long when = last ? w->now - rng_range(&r, 60, 600)
                              : created + DAY + (long long)((double)span * (double)i / (double)n);
        json_object *o = execution_obj(&r, g->next_execution++,
                                       c->contacts[(i * 13) % c->ncontacts].obj, status, when, t);
        if (campaign_add_call(c, o) < 0)
            return -1;
    }
    return 0;
}

static int gen_campaign(struct world *w, struct dataset *ds, size_t i, long long id,
                        struct gen_state *g)
{
    struct tally t = {0};
    struct rng r;
    long long created;
    char text[24];

    rng_init(&r, w->opts.seed, STREAM_CAMPAIGN + SIM_BURKI, i);
    created = w->now - rng_range(&r, 20, 60) * DAY - rng_range(&r, 0, DAY - 1);
    snprintf(text, sizeof(text), "%lld", id);
    if (dataset_set_campaign_id(ds, i, text) < 0 || gen_contacts(w, ds, i, created, g, &t) < 0 ||
        gen_executions(w, ds, i, created, g, &t) < 0)
        return -1;
    json_object *o = campaign_obj(&r, id, i, created, ds->camps[i].ncontacts, &t);
    if (record_set(&ds->camps[i].item, json_object_get(o)) < 0 ||
        record_set(&ds->camps[i].detail, o) < 0)
        return -1;
    return 0;
}

static int burki_generate(struct world *w, struct dataset *ds)
{
    struct rng base;
    struct gen_state g;
    long long first_id;

    rng_init(&base, w->opts.seed, STREAM_CAMPAIGN + SIM_BURKI, 1u << 30);
    first_id = rng_range(&base, 10, 499);
    g.first_contact = rng_range(&base, 100, 999) * 100;
    g.next_execution = rng_range(&base, 1000, 9999) * 10;
    if (dataset_alloc(ds, w->opts.campaigns) < 0)
        return -1;
    for (size_t i = 0; i < ds->ncamps; i++) {
        if (gen_campaign(w, ds, i, first_id + (long long)i, &g) < 0)
            return -1;
    }
    return 0;
}

static bool burki_open(const struct dataset *ds, size_t camp, enum rec_kind kind, size_t i)
{
    const struct campaign *c = &ds->camps[camp];
    const char *s = jget_str(kind == KIND_CALL ? c->calls[i].obj : c->contacts[i].obj, "status");

    return !strcmp(s, "pending") || !strcmp(s, "in_progress");
}

static int advance_contact(struct world *w, struct campaign *c, size_t i, struct rng *r,
                           json_object *out)
{
    json_object *o = c->contacts[i].obj;
    char id[24];

    if (!strcmp(jget_str(o, "status"), "pending")) {
        jadd_str(o, "status", "in_progress");
        jadd_int(o, "attempts", jget_int(o, "attempts") + 1);
    } else {
        jadd_str(o, "status", GEN_PICK(r, finished));
    }
    set_time(o, "last_attempt_at", w->now);
    if (record_render(&c->contacts[i]) < 0)
        return -1;
    snprintf(id, sizeof(id), "%lld", jget_int(o, "id"));
    change_report(out, change_entry(SIM_BURKI, KIND_CONTACT, c->id, id), "changed",
                  jget_str(o, "status"));
    return 0;
}

static int advance_execution(struct world *w, struct campaign *c, size_t i, struct rng *r,
                             json_object *out)
{
    json_object *o = c->calls[i].obj;
    json_object *d = json_object_object_get(o, "execution_data");
    long attempt = (long)jget_int(d, "attempt_number");
    char sid[40];

    if (!strcmp(jget_str(o, "status"), "pending")) {
        sid[0] = 'C';
        sid[1] = 'A';
        gen_hex(r, sid + 2, 32);
        jadd_str(o, "status", "in_progress");
        jadd_str(o, "call_id", sid);
        set_time(o, "executed_at", w->now);
        jadd(o, "execution_data", execution_data("in_progress", 0, attempt));
    } else {
        const char *next = GEN_PICK(r, finished);
        jadd_str(o, "status", next);
        jadd(o, "execution_data",
             execution_data(next, !strcmp(next, "completed") ? rng_range(r, 20, 400) : 0, attempt));
    }
    if (record_render(&c->calls[i]) < 0)
        return -1;
    change_report(out, change_entry(SIM_BURKI, KIND_CALL, c->id, jget_str(o, "execution_id")),
                  "changed", jget_str(o, "status"));
    return 0;
}

static int burki_advance(struct world *w, struct dataset *ds, size_t camp, enum rec_kind kind,
                         size_t i, struct rng *r, json_object *out)
{
    if (kind == KIND_CALL)
        return advance_execution(w, &ds->camps[camp], i, r, out);
    return advance_contact(w, &ds->camps[camp], i, r, out);
}

const struct model burki_model = {
    .big_contacts = BURKI_BIG,
    .generate = burki_generate,
    .open = burki_open,
    .advance = burki_advance,
};
