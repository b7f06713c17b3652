/**
 * @file jsonx.h
 * json-c conveniences for the simulator: adding members in order (NULL
 * strings become JSON null), reading members without mutating shared
 * objects, and records: a JSON object together with its pre-rendered text,
 * so that answering a page copies bytes instead of re-serializing.
 */
#ifndef CAMPAIGNFS_SIM_JSONX_H
#define CAMPAIGNFS_SIM_JSONX_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Compact output, '/' not escaped, UTF-8 as is. */
#define JSONX_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

void jadd(json_object *o, const char *key, json_object *value);
void jadd_str(json_object *o, const char *key, const char *value);
void jadd_int(json_object *o, const char *key, long long value);
void jadd_bool(json_object *o, const char *key, bool value);
void jadd_null(json_object *o, const char *key);
/* A number that serializes exactly as text ("7.5", "0.62"). */
void jadd_num(json_object *o, const char *key, double value, const char *text);
json_object *jstr_array(const char *const *items, size_t n);

/* Member readers.  They never serialize, so they are safe on objects other
 * threads read at the same time.  jget_str: NULL if absent or not a string. */
const char *jget_str(json_object *o, const char *key);
long long jget_int(json_object *o, const char *key);
/* Whether member key of o (a string, bool or int) reads as text. */
bool jmember_equals(json_object *o, const char *key, const char *text);

/* A JSON value and its rendering (JSONX_FLAGS).  The object is changed
 * only under the dataset's write lock, followed by record_render(). */
struct record {
    json_object *obj;
    char *text;
    size_t len;
};

/* Takes ownership of obj and renders it.  Returns 0 or -1 (no memory). */
int record_set(struct record *rec, json_object *obj);
/* Re-renders rec->text after rec->obj changed. */
int record_render(struct record *rec);
void record_clear(struct record *rec);

/* A JSON array that serializes as the given records' texts.  Takes
 * ownership of the malloc'd pointer array.  The records must stay
 * unchanged until the array is serialized (hold the read lock). */
json_object *jraw_array(const struct record **recs, size_t n);

/* A JSON value that serializes as rec's text (same rules as jraw_array). */
json_object *jraw_record(const struct record *rec);

/* Serializes obj (JSONX_FLAGS) into a malloc'd copy.  Returns NULL on
 * allocation failure. */
char *jrender(json_object *obj, size_t *len);

#endif
