/**
 * @file gen.c
 * Value tables and generators for realistic test data.
 */
#include "gen.h"

#include <stdio.h>
#include <string.h>

static const char *const first_names[] = {
    "José",   "María",  "Zoë",     "Björk", "François", "Søren", "Łukasz", "Chloé",
    "Ana",    "Jürgen", "Siobhán", "Ömer",  "Ayşe",     "Renée", "Mårten", "Inés",
    "John",   "Jane",   "Michael", "Emily", "David",    "Sarah", "Carlos", "Lucía",
    "Andrés", "Noémie", "Đorđe",   "Håkon", "Olga",     "Priya", "Raúl",   "Mónica",
};

static const char *const last_names[] = {
    "Núñez",   "García",    "Guðmundsdóttir", "Lefèvre",  "Kierkegaard", "Żółć",     "Dubois",
    "Peña",    "Müller",    "Ó Briain",       "Çelik",    "Yılmaz",      "Dvořák",   "Smith",
    "Doe",     "Johnson",   "Hernández",      "Martínez", "Šimůnek",     "Ångström", "Brown",
    "O'Neill", "Fernández", "Nguyễn",         "Kowalski", "Rossi",       "Jiménez",  "Petrović",
};

/* Family name and given name, written together. */
static const char *const cjk_names[][2] = {
    {"王", "芳"}, {"李", "娜"}, {"张", "伟"}, {"山田", "太郎"}, {"佐藤", "花子"}, {"陈", "静"},
};

void gen_person(struct rng *r, struct person *p)
{
    if (rng_chance(r, 0.08)) {
        const char *const *n = cjk_names[rng_below(r, sizeof(cjk_names) / sizeof(cjk_names[0]))];
        p->last = n[0];
        p->first = n[1];
        snprintf(p->full, sizeof(p->full), "%s%s", p->last, p->first);
        return;
    }
    p->first = GEN_PICK(r, first_names);
    p->last = GEN_PICK(r, last_names);
    snprintf(p->full, sizeof(p->full), "%s %s", p->first, p->last);
}

struct phone_plan {
    const char *cc;     /* country code */
    const char *prefix; /* national prefix */
    int digits;         /* random digits after it */
};

static const struct phone_plan plans[] = {
    {"1", "555", 7},  {"1", "555", 7},   {"1", "555", 7},  {"1", "555", 7},  {"1", "555", 7},
    {"52", "55", 8},  {"44", "7700", 6}, {"34", "6", 8},   {"49", "151", 8}, {"91", "98", 8},
    {"86", "138", 8}, {"33", "6", 8},    {"57", "300", 7},
};

void gen_phone(struct rng *r, char *buf, size_t len, bool plus)
{
    const struct phone_plan *p = &plans[rng_below(r, sizeof(plans) / sizeof(plans[0]))];
    char digits[16];

    for (int i = 0; i < p->digits; i++)
        digits[i] = (char)('0' + rng_below(r, 10));
    digits[p->digits] = '\0';
    snprintf(buf, len, "%s%s%s%s", plus ? "+" : "", p->cc, p->prefix, digits);
}

void gen_hex(struct rng *r, char *buf, size_t n)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++)
        buf[i] = hex[rng_below(r, 16)];
    buf[n] = '\0';
}

void gen_alnum(struct rng *r, char *buf, size_t n)
{
    static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    for (size_t i = 0; i < n; i++)
        buf[i] = set[rng_below(r, sizeof(set) - 1)];
    buf[n] = '\0';
}

void gen_uuid(struct rng *r, char *buf)
{
    static const int groups[] = {8, 4, 4, 4, 12};
    char *p = buf;

    for (size_t g = 0; g < 5; g++) {
        if (g)
            *p++ = '-';
        gen_hex(r, p, (size_t)groups[g]);
        p += groups[g];
    }
}

const char *gen_pick(struct rng *r, const char *const *list, size_t n)
{
    return list[rng_below(r, (uint32_t)n)];
}
