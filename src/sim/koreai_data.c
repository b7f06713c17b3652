/**
 * @file koreai_data.c
 * Kore.ai's records (seed doc 004 and providers.md): voice campaigns with
 * 24-hex `_id`s, and contacts without ids (phoneNumber without '+',
 * uniqueId mostly "" but sometimes user text, with non-ASCII letters or a
 * '/', and repeated phoneNumber+uniqueId pairs), dialerOutcome "" while in
 * progress.  Kore.ai lists no calls.
 */
#include "data.h"
#include "gen.h"
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

#define KOREAI_BIG 1003
#define DAY        86400LL

static const char *const campaign_names[] = {
    "Voice – Payment reminders", "Voice – Renovación anual",  "Voice – Customer survey",
    "Voice – Lead callback",     "Voice – Überweisung offen", "Voice – Delivery slots",
};
static const char *const unique_ids[] = {"cliente-ñandú-07", "Zoë-42",     "客户-0831",
                                         "ACC-10023",        "José Núñez", "ref/2025/88"};
static const char *const dialing_modes[] = {"progressive", "preview", "predictive", "agentless"};
static const char *const codes[] = {"System Generated", "Requires Supervisor Attention",
                                    "Callback Requested", "Promise to Pay"};

static void iso3(char *buf, long long t, struct rng *r)
{
    fmt_iso_frac(buf, SIM_TIME_SIZE, t, 3, (long)rng_below(r, 1000));
}

static void hex24(struct rng *r, char *buf)
{
    gen_hex(r, buf, 24);
}

static json_object *contact_lists(struct rng *r, size_t i)
{
    json_object *a = json_object_new_array();
    long n = rng_range(r, 1, 2);

    for (long k = 0; k < n; k++) {
        json_object *l = json_object_new_object();
        char id[25], name[64];
        hex24(r, id);
        snprintf(name, sizeof(name), "Lista %zu-%ld", i + 1, k + 1);
        jadd_str(l, "_id", id);
        jadd_str(l, "name", name);
        json_object_array_add(a, l);
    }
    return a;
}

struct kcampaign {
    const char *id, *name, *status, *priority, *mode, *created, *updated;
    json_object *lists;
};

static json_object *campaign_item(const struct kcampaign *k)
{
    json_object *o = json_object_new_object();

    jadd_str(o, "_id", k->id);
    jadd_str(o, "name", k->name);
    jadd_str(o, "status", k->status);
    jadd_str(o, "priority", k->priority);
    jadd_str(o, "dialingMode", k->mode);
    jadd_str(o, "createdAt", k->created);
    jadd_str(o, "updatedAt", k->updated);
    jadd(o, "contactLists", json_object_get(k->lists));
    return o;
}

static json_object *campaign_detail(const struct kcampaign *k, size_t ncontacts)
{
    json_object *o = json_object_new_object();

    jadd_str(o, "_id", k->id);
    jadd_str(o, "name", k->name);
    jadd_str(o, "description", "Outbound voice campaign (campaignfs-sim)");
    jadd_str(o, "type", "voice");
    jadd_str(o, "status", k->status);
    jadd_str(o, "priority", k->priority);
    jadd_str(o, "dialingMode", k->mode);
    jadd_str(o, "timezone", "America/New_York");
    jadd_int(o, "totalContacts", (long long)ncontacts);
    jadd(o, "contactLists", json_object_get(k->lists));
    jadd_str(o, "createdAt", k->created);
    jadd_str(o, "updatedAt", k->updated);
    return o;
}

static void set_finished(json_object *o, struct rng *r)
{
    bool agent = rng_chance(r, 0.4);
    json_object *dc = json_object_new_array();

    if (rng_chance(r, 0.8))
        json_object_array_add(dc, json_object_new_string(GEN_PICK(r, codes)));
    jadd_str(o, "dialerOutcome", "completed");
    jadd(o, "agentDispositionCodes", dc);
    jadd_str(o, "botOutboundStatus", agent ? "agentHangUp" : "userHangUp");
    jadd_str(o, "botOutboundStatusDetail", agent ? "agent_hangup" : "user_hangup");
}

static json_object *contact_obj(struct rng *r, const char *phone, const char *unique)
{
    json_object *o = json_object_new_object();
    double u = rng_unit(r);
    char session[25] = "";

    if (u >= 0.35)
        hex24(r, session);
    jadd_str(o, "phoneNumber", phone);
    jadd_str(o, "uniqueId", unique);
    jadd_str(o, "dialerOutcome", "");
    jadd_int(o, "numberOfAttemptsSoFar", u < 0.35 ? 0 : rng_range(r, 1, 3));
    jadd_str(o, "botSessionId", session);
    jadd(o, "agentDispositionCodes", json_object_new_array());
    jadd_str(o, "botOutboundStatus", u < 0.35 ? "" : "userHangUp");
    jadd_str(o, "botOutboundStatusDetail", u < 0.35 ? "" : "Client side");
    if (u >= 0.50 && u < 0.95)
        set_finished(o, r);
    if (u >= 0.95) {
        jadd_str(o, "dialerOutcome", "failed");
        jadd_str(o, "botOutboundStatus", "failed");
        jadd_str(o, "botOutboundStatusDetail", "network_error");
    }
    return o;
}

/* Campaign #2 always holds the special cases; campaign #3 a repeat too. */
static const char *special_unique(size_t camp, size_t i, const char *drawn)
{
    if (camp == 1 && i == 5)
        return "CRM/4411";
    if (camp == 1 && (i == 7 || i == 8))
        return "";
    if (camp == 1 && (i == 9 || i == 10))
        return "lote-ñ/12";
    if (camp == 2 && i <= 1)
        return "dup-ü-1";
    return drawn;
}

static bool repeats_previous(size_t camp, size_t i)
{
    return (camp == 1 && (i == 8 || i == 10)) || (camp == 2 && i == 1);
}

static int gen_contacts(struct world *w, struct dataset *ds, size_t camp)
{
    struct campaign *c = &ds->camps[camp];
    size_t n = data_contacts_for(&w->opts, camp, KOREAI_BIG);
    char phone[24] = "", prev[24] = "";

    c->contacts = calloc(n ? n : 1, sizeof(*c->contacts));
    if (!c->contacts)
        return -1;
    for (size_t i = 0; i < n; i++, c->ncontacts++) {
        struct rng r;
        const char *unique;
        rng_init(&r, w->opts.seed, STREAM_CONTACT + SIM_KOREAI, (uint64_t)camp << 24 | i);
        gen_phone(&r, phone, sizeof(phone), false);
        unique = rng_chance(&r, 0.25) ? GEN_PICK(&r, unique_ids) : "";
        if (repeats_previous(camp, i))
            memcpy(phone, prev, sizeof(phone));
        memcpy(prev, phone, sizeof(prev));
        if (record_set(&c->contacts[i], contact_obj(&r, phone, special_unique(camp, i, unique))) <
            0)
            return -1;
    }
    return 0;
}

static int gen_campaign(struct world *w, struct dataset *ds, size_t i)
{
    static const char *const others[] = {"completed", "paused", "active", "scheduled"};
    struct campaign *c = &ds->camps[i];
    size_t n = sizeof(campaign_names) / sizeof(campaign_names[0]);
    char id[25], name[96], priority[4], created[SIM_TIME_SIZE], updated[SIM_TIME_SIZE];
    struct kcampaign k = {id, name, NULL, priority, NULL, created, updated, NULL};
    long long when;
    struct rng r;

    rng_init(&r, w->opts.seed, STREAM_CAMPAIGN + SIM_KOREAI, i);
    hex24(&r, id);
    snprintf(name, sizeof(name), "%s%s", campaign_names[i % n], i >= n ? " #2" : "");
    snprintf(priority, sizeof(priority), "%ld", rng_range(&r, 1, 5));
    k.status = i == 0 ? "draft" : i == 1 ? "active" : GEN_PICK(&r, others);
    k.mode = GEN_PICK(&r, dialing_modes);
    when = w->now - rng_range(&r, 20, 60) * DAY - rng_range(&r, 0, DAY - 1);
    iso3(created, when, &r);
    iso3(updated, rng_range(&r, when + DAY, w->now - 600), &r);
    k.lists = contact_lists(&r, i);
    if (dataset_set_campaign_id(ds, i, id) < 0 || gen_contacts(w, ds, i) < 0 ||
        record_set(&c->item, campaign_item(&k)) < 0 ||
        record_set(&c->detail, campaign_detail(&k, c->ncontacts)) < 0) {
        json_object_put(k.lists);
        return -1;
    }
    json_object_put(k.lists);
    return 0;
}

static int koreai_generate(struct world *w, struct dataset *ds)
{
    if (dataset_alloc(ds, w->opts.campaigns) < 0)
        return -1;
    for (size_t i = 0; i < ds->ncamps; i++) {
        if (gen_campaign(w, ds, i) < 0)
            return -1;
    }
    return 0;
}

static bool koreai_open(const struct dataset *ds, size_t camp, enum rec_kind kind, size_t i)
{
    if (kind == KIND_CALL)
        return false;
    return jget_str(ds->camps[camp].contacts[i].obj, "dialerOutcome")[0] == '\0';
}

static int koreai_advance(struct world *w, struct dataset *ds, size_t camp, enum rec_kind kind,
                          size_t i, struct rng *r, json_object *out)
{
    struct campaign *c = &ds->camps[camp];
    json_object *o = c->contacts[i].obj, *e;
    char session[25];

    (void)w;
    (void)kind;
    hex24(r, session);
    jadd_int(o, "numberOfAttemptsSoFar", jget_int(o, "numberOfAttemptsSoFar") + 1);
    jadd_str(o, "botSessionId", session);
    if (rng_chance(r, 0.65)) {
        set_finished(o, r);
    } else {
        jadd_str(o, "botOutboundStatus", "noAnswer");
        jadd_str(o, "botOutboundStatusDetail", "no_answer");
    }
    if (record_render(&c->contacts[i]) < 0)
        return -1;
    e = change_entry(SIM_KOREAI, KIND_CONTACT, c->id, NULL);
    jadd_str(e, "phoneNumber", jget_str(o, "phoneNumber"));
    jadd_str(e, "uniqueId", jget_str(o, "uniqueId"));
    jadd_int(e, "index", (long long)i);
    change_report(out, e, "changed", jget_str(o, "dialerOutcome"));
    return 0;
}

const struct model koreai_model = {
    .big_contacts = KOREAI_BIG,
    .generate = koreai_generate,
    .open = koreai_open,
    .advance = koreai_advance,
};
