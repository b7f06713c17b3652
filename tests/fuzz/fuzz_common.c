/**
 * @file fuzz_common.c
 * The checks that several fuzz targets make (see fuzz.h).  They are written
 * from the documented rules (README "Layout", names.h, listing.h), not from
 * the code they check.
 */
#include "fuzz.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

/* Deep enough for anything the parsers under test accept. */
#define REPARSE_DEPTH 4096

_Noreturn void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
    abort();
}

bool fuzz_strict(void)
{
    static int strict = -1;

    if (strict < 0) {
        const char *v = getenv("FUZZ_STRICT");
        strict = v && *v && strcmp(v, "0") != 0;
    }
    return strict;
}

/* Whether v is an integer at the end of int64's range, where json-c puts
 * every integer (uint64 above INT64_MAX included) that it saturated. */
static bool at_int64_limit(json_object *v)
{
    int64_t n;

    if (!json_object_is_type(v, json_type_int))
        return false;
    n = json_object_get_int64(v);
    return n == INT64_MAX || n == INT64_MIN;
}

/* Calls visit on every value of the tree; true as soon as one returns true. */
static bool any_value(json_object *o, bool (*visit)(json_object *, const void *), const void *arg)
{
    if (visit(o, arg))
        return true;
    if (json_object_is_type(o, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(o); i++)
            if (any_value(json_object_array_get_idx(o, i), visit, arg))
                return true;
    } else if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val)
        {
            (void)key;
            if (val && any_value(val, visit, arg))
                return true;
        }
    }
    return false;
}

static bool saturated(json_object *v, const void *arg)
{
    (void)arg;
    return at_int64_limit(v);
}

/* An integer at a limit whose digits are nowhere in the body: altered. */
static bool altered(json_object *v, const void *body)
{
    return at_int64_limit(v) && !strstr(body, json_object_to_json_string(v));
}

void fuzz_check_numbers_kept(json_object *rec, const char *body)
{
    if (fuzz_strict())
        FUZZ_CHECK(!any_value(rec, altered, body));
}

bool fuzz_utf8_valid(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;

    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n;

        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if ((s[i] & 0xE0) == 0xC0) {
            n = 2;
            cp = s[i] & 0x1F;
        } else if ((s[i] & 0xF0) == 0xE0) {
            n = 3;
            cp = s[i] & 0x0F;
        } else if ((s[i] & 0xF8) == 0xF0) {
            n = 4;
            cp = s[i] & 0x07;
        } else {
            return false;
        }
        if (i + n > len)
            return false;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        i += n;
    }
    return true;
}

void fuzz_check_name(const char *name, const char *suffix)
{
    size_t len, suffix_len = strlen(suffix);

    FUZZ_CHECK(name != NULL);
    len = strlen(name);
    FUZZ_CHECK(len > 0 && len <= NAME_MAX_BYTES);
    FUZZ_CHECK(len >= suffix_len && strcmp(name + len - suffix_len, suffix) == 0);
    FUZZ_CHECK(strcmp(name, ".") != 0 && strcmp(name, "..") != 0 && name[0] != '.');
    FUZZ_CHECK(!strchr(name, '/'));
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK((unsigned char)name[i] >= 0x20 && (unsigned char)name[i] != 0x7f);
    FUZZ_CHECK(fuzz_utf8_valid(name, len));
}

/* Parses all of text as one JSON value, or NULL. */
static json_object *parse_whole(const char *text, size_t len)
{
    json_tokener *tok = json_tokener_new_ex(REPARSE_DEPTH);
    json_object *obj;

    FUZZ_CHECK(tok != NULL);
    obj = json_tokener_parse_ex(tok, text, (int)len);
    if (json_tokener_get_error(tok) != json_tokener_success) {
        json_object_put(obj);
        obj = NULL;
    }
    json_tokener_free(tok);
    return obj;
}

/* Whether s[0..n) is a JSON number (RFC 8259: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?)
 * or one of the literal names. */
static bool json_scalar_valid(const char *s, size_t n)
{
    size_t i = 0, digits;

    if ((n == 4 && (!memcmp(s, "true", 4) || !memcmp(s, "null", 4))) ||
        (n == 5 && !memcmp(s, "false", 5)))
        return true;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
    else
        return false;
    if (i < n && s[i] == '.') {
        for (digits = 0, i++; i < n && isdigit((unsigned char)s[i]); i++)
            digits++;
        if (!digits)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (digits = 0; i < n && isdigit((unsigned char)s[i]); i++)
            digits++;
        if (!digits)
            return false;
    }
    return i == n;
}

/* Whether every value outside strings in the text is JSON's: numbers as
 * the grammar writes them, true, false, null. */
static bool json_scalars_valid(const char *text, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t start = i;

        if (text[i] == '"') {
            for (i++; i < len && text[i] != '"'; i++)
                if (text[i] == '\\')
                    i++;
            i++;
        } else if (strchr("{}[]:, \n", text[i])) {
            i++;
        } else {
            while (i < len && !strchr("{}[]:, \n\"", text[i]))
                i++;
            /* "-0": JSON, but json-c reads it back as the integer 0 */
            if (!json_scalar_valid(text + start, i - start) ||
                (i - start == 2 && !memcmp(text + start, "-0", 2)))
                return false;
        }
    }
    return true;
}

void fuzz_check_rendered(const char *bytes, size_t len)
{
    json_object *again;
    char *bytes2;
    size_t len2 = 0;

    FUZZ_CHECK(bytes != NULL && len >= 2);
    FUZZ_CHECK(strlen(bytes) == len);
    FUZZ_CHECK(bytes[len - 1] == '\n');
    for (size_t i = 0; i < len; i++)
        FUZZ_CHECK((unsigned char)bytes[i] >= 0x20 || bytes[i] == '\n');
    for (const char *p = bytes; p < bytes + len;) {
        const char *end = memchr(p, '\n', (size_t)(bytes + len - p));
        size_t indent = 0;

        while (p + indent < end && p[indent] == ' ')
            indent++;
        FUZZ_CHECK(indent % 2 == 0);                    /* two spaces a level */
        FUZZ_CHECK(end > p + indent && end[-1] != ' '); /* no blank line, no trailing space */
        p = end + 1;
    }
    /* The file is JSON, and an unchanged record renders to the same bytes.
     * Open finding (FUZZ_STRICT): json-c reads numbers that JSON has not
     * ("1.", "1e", "007", NaN) and they are shown as they were written; the
     * bytes then read back as another number.  And json-c saturates
     * integers past int64/uint64 when it reads the file back. */
    if (!json_scalars_valid(bytes, len)) {
        FUZZ_CHECK(!fuzz_strict());
        return;
    }
    again = parse_whole(bytes, len);
    FUZZ_CHECK(again != NULL);
    if (any_value(again, saturated, NULL)) {
        json_object_put(again);
        return;
    }
    bytes2 = render_record(again, &len2);
    FUZZ_CHECK(bytes2 != NULL && len2 == len && memcmp(bytes, bytes2, len) == 0);
    free(bytes2);
    json_object_put(again);
}

void fuzz_check_listing(const struct listing *l)
{
    size_t total = 0;

    FUZZ_CHECK(l != NULL);
    for (size_t i = 0; i < l->n; i++) {
        const struct listing_entry *e = &l->entries[i];

        fuzz_check_name(e->name, e->type == ENTRY_FILE ? ".json" : "");
        FUZZ_CHECK(i == 0 || strcmp(l->entries[i - 1].name, e->name) < 0);
        FUZZ_CHECK(e->id != NULL && e->id[0] != '\0');
        FUZZ_CHECK(!e->link || e->link[0] != '\0');
        FUZZ_CHECK(listing_find(l, e->name) == e);
        if (e->bytes)
            fuzz_check_rendered(e->bytes, e->len);
        if (e->type == ENTRY_FILE)
            total += e->len;
    }
    FUZZ_CHECK(total == l->total_bytes);
}
