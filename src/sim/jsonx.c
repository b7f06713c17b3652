/**
 * @file jsonx.c
 * json-c helpers and records with their rendering cached.
 */
#include "jsonx.h"

#include <json-c/printbuf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jadd(json_object *o, const char *key, json_object *value)
{
    json_object_object_add(o, key, value);
}

void jadd_str(json_object *o, const char *key, const char *value)
{
    jadd(o, key, value ? json_object_new_string(value) : NULL);
}

void jadd_int(json_object *o, const char *key, long long value)
{
    jadd(o, key, json_object_new_int64(value));
}

void jadd_bool(json_object *o, const char *key, bool value)
{
    jadd(o, key, json_object_new_boolean(value));
}

void jadd_null(json_object *o, const char *key)
{
    jadd(o, key, NULL);
}

void jadd_num(json_object *o, const char *key, double value, const char *text)
{
    jadd(o, key, json_object_new_double_s(value, text));
}

json_object *jstr_array(const char *const *items, size_t n)
{
    json_object *a = json_object_new_array();

    for (size_t i = 0; i < n; i++)
        json_object_array_add(a, json_object_new_string(items[i]));
    return a;
}

const char *jget_str(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

long long jget_int(json_object *o, const char *key)
{
    json_object *v;

    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return 0;
    return (long long)json_object_get_int64(v);
}

bool jmember_equals(json_object *o, const char *key, const char *text)
{
    json_object *v;
    char num[32];

    if (!json_object_object_get_ex(o, key, &v) || !v)
        return false;
    switch (json_object_get_type(v)) {
    case json_type_string:
        return strcmp(json_object_get_string(v), text) == 0;
    case json_type_boolean:
        return strcmp(json_object_get_boolean(v) ? "true" : "false", text) == 0;
    case json_type_int:
        snprintf(num, sizeof(num), "%lld", (long long)json_object_get_int64(v));
        return strcmp(num, text) == 0;
    default:
        return false;
    }
}

char *jrender(json_object *obj, size_t *len)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(obj, JSONX_FLAGS, &n);
    char *copy = s ? malloc(n + 1) : NULL;

    if (!copy)
        return NULL;
    memcpy(copy, s, n + 1);
    *len = n;
    return copy;
}

int record_set(struct record *rec, json_object *obj)
{
    rec->obj = obj;
    rec->text = NULL;
    rec->len = 0;
    return record_render(rec);
}

int record_render(struct record *rec)
{
    size_t len = 0;
    char *text = jrender(rec->obj, &len);

    if (!text)
        return -1;
    free(rec->text);
    rec->text = text;
    rec->len = len;
    return 0;
}

void record_clear(struct record *rec)
{
    json_object_put(rec->obj);
    free(rec->text);
    rec->obj = NULL;
    rec->text = NULL;
    rec->len = 0;
}

struct raw_items {
    const struct record **recs;
    size_t n;
};

static int raw_serialize(json_object *jso, struct printbuf *pb, int level, int flags)
{
    const struct raw_items *items = json_object_get_userdata(jso);

    (void)level;
    (void)flags;
    printbuf_memappend(pb, "[", 1);
    for (size_t i = 0; i < items->n; i++) {
        if (i)
            printbuf_memappend(pb, ",", 1);
        printbuf_memappend(pb, items->recs[i]->text, (int)items->recs[i]->len);
    }
    printbuf_memappend(pb, "]", 1);
    return 0;
}

static void raw_delete(json_object *jso, void *userdata)
{
    struct raw_items *items = userdata;

    (void)jso;
    free(items->recs);
    free(items);
}

json_object *jraw_array(const struct record **recs, size_t n)
{
    json_object *a = json_object_new_array();
    struct raw_items *items = malloc(sizeof(*items));

    if (!a || !items) {
        json_object_put(a);
        free(items);
        free(recs);
        return NULL;
    }
    items->recs = recs;
    items->n = n;
    json_object_set_serializer(a, raw_serialize, items, raw_delete);
    return a;
}

static int record_serialize(json_object *jso, struct printbuf *pb, int level, int flags)
{
    const struct record *rec = json_object_get_userdata(jso);

    (void)level;
    (void)flags;
    printbuf_memappend(pb, rec->text, (int)rec->len);
    return 0;
}

json_object *jraw_record(const struct record *rec)
{
    json_object *o = json_object_new_object();

    if (o)
        json_object_set_serializer(o, record_serialize, (void *)rec, NULL);
    return o;
}
