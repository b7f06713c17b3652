/**
 * @file fuzz_names.c
 * libFuzzer target: the name encoder (names.h).  The first byte of the
 * input chooses the suffix (odd: ".json", even: none); the rest is a list
 * of raw ids separated by 0xFF bytes, and also one id as a whole.
 *
 * Checks: every name passes fuzz_check_name() (no '/', NUL or control
 * byte, not "." or "..", at most NAME_MAX_BYTES, valid UTF-8); the same id
 * gives the same name; a name decodes back to its id, unless it was cut,
 * and then it is near the limit, ends in "~" and 16 hex digits, and decodes
 * to a prefix of the id; different ids give different names (injective);
 * names_make_unique() leaves distinct good names and keeps the first
 * occurrence of each name as it was.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "names.h"

#define MAX_IDS      64
#define SEPARATOR    0xFF
#define HASH_TAG_LEN 17 /* "~" + 16 hex digits */
#define UNIT_MAX     4  /* longest unit a cut may not split: a 4-byte UTF-8 sequence */

struct id {
    const char *raw;
    size_t len;
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the first n bytes of an encoded name into out (room for n
 * bytes); returns the decoded length, or -1 when they are not an
 * encoding. */
static long decode(const char *name, size_t n, char *out)
{
    size_t o = 0;

    if (n == 6 && memcmp(name, "%empty", 6) == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (name[i] != '%') {
            out[o++] = name[i];
            continue;
        }
        if (i + 2 >= n || hex_value(name[i + 1]) < 0 || hex_value(name[i + 2]) < 0)
            return -1;
        out[o++] = (char)(hex_value(name[i + 1]) * 16 + hex_value(name[i + 2]));
        i += 2;
    }
    return (long)o;
}

static bool is_hash_tag(const char *s)
{
    if (s[0] != '~')
        return false;
    for (size_t i = 1; i < HASH_TAG_LEN; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* name decodes back to id, or was cut near the limit with a hash tag. */
static void check_round_trip(const struct id *id, const char *name, const char *suffix)
{
    size_t stem = strlen(name) - strlen(suffix);
    char *out = malloc(stem + 1);
    long n;

    FUZZ_CHECK(out != NULL);
    n = decode(name, stem, out);
    if (n == (long)id->len && memcmp(out, id->raw, id->len) == 0) {
        free(out);
        return;
    }
    /* cut: "<encoded prefix>~<hash><suffix>", as long as a cut allows */
    FUZZ_CHECK(stem >= HASH_TAG_LEN && is_hash_tag(name + stem - HASH_TAG_LEN));
    FUZZ_CHECK(strlen(name) + UNIT_MAX > NAME_MAX_BYTES);
    n = decode(name, stem - HASH_TAG_LEN, out);
    FUZZ_CHECK(n >= 0 && (size_t)n < id->len && memcmp(out, id->raw, (size_t)n) == 0);
    free(out);
}

static char *encode_checked(const struct id *id, const char *suffix)
{
    char *name = name_from_id(id->raw, id->len, suffix);
    char *again = name_from_id(id->raw, id->len, suffix);

    fuzz_check_name(name, suffix);
    FUZZ_CHECK(again && strcmp(name, again) == 0);
    free(again);
    check_round_trip(id, name, suffix);
    return name;
}

static size_t split_ids(const uint8_t *data, size_t size, struct id *ids)
{
    size_t n = 0, start = 0;

    for (size_t i = 0; i <= size && n < MAX_IDS; i++) {
        if (i == size || data[i] == SEPARATOR) {
            ids[n++] = (struct id){(const char *)data + start, i - start};
            start = i + 1;
        }
    }
    return n;
}

static void check_unique(char **names, size_t n, const char *suffix)
{
    char **copy = calloc(n ? n : 1, sizeof(*copy));

    FUZZ_CHECK(copy != NULL);
    for (size_t i = 0; i < n; i++) {
        copy[i] = strdup(names[i]);
        FUZZ_CHECK(copy[i] != NULL);
    }
    FUZZ_CHECK(names_make_unique(copy, n, suffix) == 0);
    for (size_t i = 0; i < n; i++) {
        bool first = true;

        fuzz_check_name(copy[i], suffix);
        for (size_t j = 0; j < i; j++) {
            FUZZ_CHECK(strcmp(copy[i], copy[j]) != 0);
            if (strcmp(names[i], names[j]) == 0)
                first = false;
        }
        FUZZ_CHECK(!first || strcmp(copy[i], names[i]) == 0);
    }
    for (size_t i = 0; i < n; i++)
        free(copy[i]);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct id ids[MAX_IDS], whole;
    char *names[MAX_IDS];
    const char *suffix;
    size_t n;

    if (size == 0)
        return 0;
    suffix = data[0] & 1 ? ".json" : "";
    whole = (struct id){(const char *)data + 1, size - 1};
    free(encode_checked(&whole, suffix));

    n = split_ids(data + 1, size - 1, ids);
    for (size_t i = 0; i < n; i++) {
        names[i] = encode_checked(&ids[i], suffix);
        for (size_t j = 0; j < i; j++) {
            bool same_id =
                ids[i].len == ids[j].len && memcmp(ids[i].raw, ids[j].raw, ids[i].len) == 0;
            FUZZ_CHECK(same_id == (strcmp(names[i], names[j]) == 0)); /* injective */
        }
    }
    check_unique(names, n, suffix);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    return 0;
}
