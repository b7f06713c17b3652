/**
 * @file altur_data.c
 * Altur's records (seed docs 000 and 001): campaigns with int ids, contacts
 * (f_id, id, name, contact, status, ..., last_call_at without a zone) and
 * calls (id "call_<hex>", ISO 8601 times, contact summary, policy
 * evaluation), and how contacts and calls move on.
 */
#include "data.h"
#include "gen.h"
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

#define ALTUR_BIG 1003
#define DAY       86400LL

static const char *const campaign_names[] = {
    "Cobranza octubre",       "Renovación de pólizas",    "Encuesta NPS Q3",
    "Recordatorio de citas",  "Reactivación clientes",    "Bienvenida nuevos usuarios",
    "Confirmación de envíos", "Seguimiento cotizaciones",
};
static const char *const agent_names[] = {"Sofía", "Mateo", "Valentina", "Lucía", "Diego"};
static const char *const timezones[] = {"America/Mexico_City", "America/Bogota", "Europe/Madrid",
                                        "America/New_York"};
static const char *const days[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
static const char *const contact_tags[] = {"interesado", "promesa_pago", "callback",
                                           "vip",        "no_contesta",  "buzón"};
static const char *const call_tags[] = {"interested", "callback", "not_interested", "wrong_number"};
static const char *const contexts[] = {
    "Saldo pendiente de $1,200 MXN desde agosto.",
    "Cliente pidió llamada después de las 5 pm.",
    "Renovación de póliza de auto; vence el 15/10.",
    "Primera compra en septiembre; ofrecer plan anual.",
    "",
};

static const struct {
    const char *id, *name;
} policies[] = {
    {"pol_saludo", "Saludo y presentación"},
    {"pol_identidad", "Verificación de identidad"},
    {"pol_privacidad", "Aviso de privacidad"},
    {"pol_cierre", "Cierre cordial"},
};

static void iso6(char *buf, long long t, struct rng *r)
{
    fmt_iso_frac(buf, SIM_TIME_SIZE, t, 6, r ? (long)rng_below(r, 1000000) : 0);
}

static json_object *scheduling(struct rng *r)
{
    json_object *s = json_object_new_object();
    long start = rng_range(r, 8, 10);

    for (size_t d = 0; d < 7; d++) {
        json_object *day = json_object_new_object();
        char from[24], to[24];
        snprintf(from, sizeof(from), "%02ld:00", start);
        snprintf(to, sizeof(to), "%02ld:00", start + 9);
        jadd_str(day, "startTime", from);
        jadd_str(day, "stopTime", to);
        jadd_bool(day, "active", d < 5);
        jadd(s, days[d], day);
    }
    return s;
}

static const char *campaign_status(size_t i, struct rng *r)
{
    static const char *const others[] = {"active", "inactive", "cooldown", "finished", "ready"};

    if (i == 0)
        return "pending";
    return i == 1 ? "active" : GEN_PICK(r, others);
}

static json_object *campaign_obj(struct rng *r, long long id, size_t i, long long created)
{
    json_object *o = json_object_new_object(), *agent = json_object_new_object();
    json_object *cycle = json_object_new_object();
    char name[96], when[SIM_TIME_SIZE];
    size_t n = sizeof(campaign_names) / sizeof(campaign_names[0]);

    snprintf(name, sizeof(name), "%s%s", campaign_names[i % n], i >= n ? " (bis)" : "");
    iso6(when, created, r);
    jadd_int(o, "id", id);
    jadd_str(o, "name", name);
    jadd_str(o, "description", "Campaña de voz generada por campaignfs-sim.");
    jadd_str(o, "status", campaign_status(i, r));
    jadd_str(o, "integration", "phone_call");
    jadd_str(o, "created_at", when);
    jadd_int(agent, "id", 300 + rng_range(r, 0, 99));
    jadd_str(agent, "name", GEN_PICK(r, agent_names));
    jadd(o, "agent", agent);
    jadd(o, "scheduling", scheduling(r));
    jadd_str(o, "timezone", GEN_PICK(r, timezones));
    jadd_int(o, "retries", rng_range(r, 0, 3));
    jadd_bool(o, "archived", i >= 2 && rng_chance(r, 0.2));
    jadd_int(o, "concurrency", rng_range(r, 1, 10));
    jadd_bool(cycle, "enabled", rng_chance(r, 0.5));
    jadd_int(cycle, "interval_hours", 24);
    jadd_int(cycle, "max_cycles", rng_range(r, 1, 5));
    jadd(o, "cycle_settings", cycle);
    return o;
}

static json_object *extracted(struct rng *r, bool filled)
{
    json_object *e = json_object_new_object();
    char amount[16], date[16];

    if (!filled)
        return e;
    snprintf(amount, sizeof(amount), "%ld", rng_range(r, 1, 40) * 250);
    snprintf(date, sizeof(date), "%02ld-10-2025", rng_range(r, 10, 28));
    jadd_str(e, "monto_prometido", amount);
    jadd_str(e, "fecha_limite", date);
    return e;
}

static const char *contact_status(struct rng *r)
{
    double u = rng_unit(r);

    if (u < 0.30)
        return "queue";
    if (u < 0.35)
        return "sending";
    if (u < 0.45)
        return "retrying";
    if (u < 0.70)
        return "answered";
    if (u < 0.80)
        return "converted";
    return u < 0.90 ? "voicemail" : "failed";
}

static json_object *contact_obj(struct rng *r, long long id, long long created, long long now)
{
    json_object *o = json_object_new_object(), *tags = json_object_new_array();
    const char *status = contact_status(r);
    bool called = strcmp(status, "queue") != 0;
    bool talked = !strcmp(status, "answered") || !strcmp(status, "converted");
    struct person p;
    char phone[24], fid[24], when[SIM_TIME_SIZE];
    long calls = called ? rng_range(r, 1, 4) : 0;

    gen_person(r, &p);
    gen_phone(r, phone, sizeof(phone), true);
    snprintf(fid, sizeof(fid), "crm-%06lld", id % 1000000);
    fmt_naive(when, sizeof(when), rng_range(r, created + 3600, now - 600));
    jadd_str(o, "f_id", fid);
    jadd_int(o, "id", id);
    jadd_str(o, "name", p.full);
    jadd_str(o, "contact", phone);
    jadd_str(o, "status", status);
    jadd_str(o, "context", GEN_PICK(r, contexts));
    jadd_int(o, "retries", !strcmp(status, "voicemail") ? rng_range(r, 1, 2) : 0);
    jadd_bool(o, "has_follow_up", talked && rng_chance(r, 0.3));
    jadd_int(o, "call_count", calls);
    jadd_int(o, "billed_duration", talked ? rng_range(r, 30, 600) : calls * rng_range(r, 0, 20));
    jadd_str(o, "last_call_at", called ? when : NULL);
    jadd(o, "extracted_data", extracted(r, talked));
    if (called && rng_chance(r, 0.6))
        json_object_array_add(tags, json_object_new_string(GEN_PICK(r, contact_tags)));
    jadd(o, "tags", tags);
    return o;
}

static json_object *call_contact(json_object *contact)
{
    json_object *o = json_object_new_object();

    jadd_int(o, "id", jget_int(contact, "id"));
    jadd_str(o, "f_id", jget_str(contact, "f_id"));
    jadd_str(o, "name", jget_str(contact, "name"));
    jadd_str(o, "phone_number", jget_str(contact, "contact"));
    jadd_str(o, "status", jget_str(contact, "status"));
    return o;
}

static json_object *policy_items(struct rng *r, long long when, int *met, int *na)
{
    static const char *const results[] = {"met", "met", "met", "not_met", "not_applicable"};
    json_object *a = json_object_new_array();
    char at[SIM_TIME_SIZE];

    iso6(at, when, r);
    *met = *na = 0;
    for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
        json_object *p = json_object_new_object();
        const char *res = GEN_PICK(r, results);
        *met += !strcmp(res, "met");
        *na += !strcmp(res, "not_applicable");
        jadd_str(p, "policy_id", policies[i].id);
        jadd_str(p, "policy_name", policies[i].name);
        jadd_str(p, "result", res);
        jadd_str(p, "explanation",
                 !strcmp(res, "met") ? "El agente cumplió la política."
                                     : "No se observó en la conversación.");
        jadd_str(p, "evaluated_at", at);
        json_object_array_add(a, p);
    }
    return a;
}

static json_object *policy_evaluation(struct rng *r, bool evaluated, long long when)
{
    json_object *o = json_object_new_object();
    int met, na, total = (int)(sizeof(policies) / sizeof(policies[0]));
    char score[16], at[SIM_TIME_SIZE];

    if (!evaluated) {
        jadd_null(o, "score");
        jadd_null(o, "policies_evaluated_count");
        jadd_null(o, "policies_met_count");
        jadd_null(o, "policies_not_applicable_count");
        jadd_bool(o, "completed", false);
        jadd_null(o, "completed_at");
        jadd(o, "policies", json_object_new_array());
        return o;
    }
    json_object *items = policy_items(r, when, &met, &na);
    double value = total - na ? (double)met * 10.0 / (total - na) : 10.0;
    snprintf(score, sizeof(score), "%.1f", value);
    iso6(at, when, r);
    jadd_num(o, "score", value, score);
    jadd_int(o, "policies_evaluated_count", total);
    jadd_int(o, "policies_met_count", met);
    jadd_int(o, "policies_not_applicable_count", na);
    jadd_bool(o, "completed", true);
    jadd_str(o, "completed_at", at);
    jadd(o, "policies", items);
    return o;
}

static const char *call_status(struct rng *r)
{
    double u = rng_unit(r);

    if (u < 0.65)
        return "ended";
    if (u < 0.82)
        return "no-answer";
    return u < 0.92 ? "busy" : "failed";
}

static const char *answered_by(struct rng *r)
{
    double u = rng_unit(r);

    return u < 0.75 ? "human" : u < 0.95 ? "machine" : "unknown";
}

struct call_times {
    long long created, started, ended; /* started/ended 0: null */
};

static void set_time(json_object *o, const char *key, long long t, struct rng *r)
{
    char buf[SIM_TIME_SIZE];

    iso6(buf, t, r);
    jadd_str(o, key, t ? buf : NULL);
}

static json_object *call_obj(struct rng *r, const char *status, const struct call_times *t,
                             json_object *contact)
{
    json_object *o = json_object_new_object(), *tags = json_object_new_array();
    bool ended = !strcmp(status, "ended");
    const char *by = ended ? answered_by(r) : NULL;
    long long duration = t->ended && t->started ? t->ended - t->started : 0;
    char id[40], url[96];

    memcpy(id, "call_", 5);
    gen_hex(r, id + 5, 24);
    snprintf(url, sizeof(url), "/api/v1.0/call/%s/recording", id);
    jadd_str(o, "id", id);
    jadd_str(o, "type", "outbound");
    jadd_str(o, "status", status);
    jadd_str(o, "answered_by", by);
    set_time(o, "created_at", t->created, r);
    set_time(o, "started_at", t->started, r);
    set_time(o, "ended_at", t->ended, r);
    jadd_int(o, "duration", duration);
    jadd_int(o, "billed_duration", (duration + 59) / 60 * 60);
    jadd(o, "contact", call_contact(contact));
    jadd(o, "extracted_data", extracted(r, ended && by && !strcmp(by, "human")));
    if (ended && rng_chance(r, 0.5))
        json_object_array_add(tags, json_object_new_string(GEN_PICK(r, call_tags)));
    jadd(o, "tags", tags);
    jadd_str(o, "recording_url", url);
    jadd(o, "policy_evaluation",
         policy_evaluation(r, ended && by && !strcmp(by, "human") && rng_chance(r, 0.6),
                           t->ended ? t->ended : t->created));
    return o;
}

/* Calls are in creation order; the last tenth are still in progress. */
static json_object *make_call(struct rng *r, size_t i, size_t n, long long from, long long now,
                              json_object *contact)
{
    struct call_times t = {0};
    size_t live = n / 10 ? n / 10 : 1;
    const char *status;

    if (i + live >= n) {
        t.started = now - 900 + (long long)(i + live - n) * 60 + rng_range(r, 0, 50);
        t.created = t.started - rng_range(r, 2, 8);
        return call_obj(r, "in-progress", &t, contact);
    }
    status = call_status(r);
    t.created = from + (long long)((now - 7200 - from) * (double)i / (double)n);
    if (!strcmp(status, "ended")) {
        t.started = t.created + rng_range(r, 2, 15);
        t.ended = t.started + rng_range(r, 15, 420);
    } else {
        t.ended = t.created + rng_range(r, 20, 45);
    }
    return call_obj(r, status, &t, contact);
}

static int gen_contacts(struct world *w, struct dataset *ds, size_t camp, long long created,
                        long long first_id)
{
    struct campaign *c = &ds->camps[camp];
    size_t n = data_contacts_for(&w->opts, camp, ALTUR_BIG);
    char key[64];

    c->contacts = calloc(n ? n : 1, sizeof(*c->contacts));
    if (!c->contacts)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct rng r;
        long long id = data_contact_id(&w->opts, first_id, camp, i, ALTUR_BIG);
        rng_init(&r, w->opts.seed, STREAM_CONTACT + SIM_ALTUR, (uint64_t)camp << 24 | i);
        if (record_set(&c->contacts[i], contact_obj(&r, id, created, w->now)) < 0)
            return -1;
        c->ncontacts++;
        snprintf(key, sizeof(key), "contact:%s:%lld", c->id, id);
        dataset_index(ds, key, camp, i);
    }
    return 0;
}

static int gen_calls(struct world *w, struct dataset *ds, size_t camp, long long created)
{
    struct campaign *c = &ds->camps[camp];
    size_t n = data_calls_for(&w->opts, camp, c->ncontacts);
    char key[64];

    for (size_t i = 0; i < n; i++) {
        struct rng r;
        rng_init(&r, w->opts.seed, STREAM_CALL + SIM_ALTUR, (uint64_t)camp << 24 | i);
        json_object *o =
            make_call(&r, i, n, created + DAY, w->now, c->contacts[(i * 7) % c->ncontacts].obj);
        long idx = campaign_add_call(c, o);
        if (idx < 0)
            return -1;
        snprintf(key, sizeof(key), "call:%s", jget_str(o, "id"));
        dataset_index(ds, key, camp, (size_t)idx);
    }
    return 0;
}

static int altur_generate(struct world *w, struct dataset *ds)
{
    struct rng base;
    long long first_id, first_contact;

    rng_init(&base, w->opts.seed, STREAM_CAMPAIGN + SIM_ALTUR, 1u << 30);
    first_id = rng_range(&base, 1000, 8999);
    first_contact = rng_range(&base, 20000, 90000) * 10;
    if (dataset_alloc(ds, w->opts.campaigns) < 0)
        return -1;
    for (size_t i = 0; i < ds->ncamps; i++) {
        struct rng r;
        long long id = first_id + (long long)i * 3, created;
        char text[24];
        rng_init(&r, w->opts.seed, STREAM_CAMPAIGN + SIM_ALTUR, i);
        created = w->now - rng_range(&r, 20, 60) * DAY - rng_range(&r, 0, DAY - 1);
        snprintf(text, sizeof(text), "%lld", id);
        json_object *o = campaign_obj(&r, id, i, created);
        if (dataset_set_campaign_id(ds, i, text) < 0 ||
            record_set(&ds->camps[i].item, json_object_get(o)) < 0 ||
            record_set(&ds->camps[i].detail, o) < 0 ||
            gen_contacts(w, ds, i, created, first_contact) < 0 || gen_calls(w, ds, i, created) < 0)
            return -1;
    }
    return 0;
}

static bool altur_open(const struct dataset *ds, size_t camp, enum rec_kind kind, size_t i)
{
    const struct campaign *c = &ds->camps[camp];
    const char *s;

    if (kind == KIND_CALL)
        return !strcmp(jget_str(c->calls[i].obj, "status"), "in-progress");
    s = jget_str(c->contacts[i].obj, "status");
    return !strcmp(s, "queue") || !strcmp(s, "sending") || !strcmp(s, "retrying");
}

static void contact_finish(json_object *o, struct rng *r)
{
    static const char *const outcomes[] = {"answered", "answered", "voicemail", "failed",
                                           "retrying"};
    const char *next = GEN_PICK(r, outcomes);

    jadd_str(o, "status", next);
    if (!strcmp(next, "answered")) {
        jadd_int(o, "billed_duration", jget_int(o, "billed_duration") + rng_range(r, 30, 300));
        jadd(o, "extracted_data", extracted(r, true));
    }
    if (!strcmp(next, "voicemail"))
        jadd_int(o, "retries", jget_int(o, "retries") + 1);
}

static int advance_contact(struct world *w, struct campaign *c, size_t i, struct rng *r,
                           json_object *out)
{
    json_object *o = c->contacts[i].obj;
    char when[SIM_TIME_SIZE], id[24];

    if (!strcmp(jget_str(o, "status"), "sending")) {
        contact_finish(o, r);
    } else {
        fmt_naive(when, sizeof(when), w->now);
        jadd_str(o, "status", "sending");
        jadd_int(o, "call_count", jget_int(o, "call_count") + 1);
        jadd_str(o, "last_call_at", when);
    }
    if (record_render(&c->contacts[i]) < 0)
        return -1;
    snprintf(id, sizeof(id), "%lld", jget_int(o, "id"));
    change_report(out, change_entry(SIM_ALTUR, KIND_CONTACT, c->id, id), "changed",
                  jget_str(o, "status"));
    return 0;
}

static int advance_call(struct world *w, struct campaign *c, size_t i, struct rng *r,
                        json_object *out)
{
    json_object *o = c->calls[i].obj;
    const char *by = rng_chance(r, 0.8) ? "human" : "machine";
    long long started = 0, duration;
    char when[SIM_TIME_SIZE];

    parse_iso(jget_str(o, "started_at"), &started);
    duration = w->now - started;
    iso6(when, w->now, NULL);
    jadd_str(o, "status", "ended");
    jadd_str(o, "answered_by", by);
    jadd_str(o, "ended_at", when);
    jadd_int(o, "duration", duration);
    jadd_int(o, "billed_duration", (duration + 59) / 60 * 60);
    if (record_render(&c->calls[i]) < 0)
        return -1;
    change_report(out, change_entry(SIM_ALTUR, KIND_CALL, c->id, jget_str(o, "id")), "changed",
                  "ended");
    return 0;
}

static int altur_advance(struct world *w, struct dataset *ds, size_t camp, enum rec_kind kind,
                         size_t i, struct rng *r, json_object *out)
{
    if (kind == KIND_CALL)
        return advance_call(w, &ds->camps[camp], i, r, out);
    return advance_contact(w, &ds->camps[camp], i, r, out);
}

const struct model altur_model = {
    .big_contacts = ALTUR_BIG,
    .generate = altur_generate,
    .open = altur_open,
    .advance = altur_advance,
};
