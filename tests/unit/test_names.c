/**
 * @file test_names.c
 * name_from_id(): escaping, UTF-8 validation, the 255-byte limit with a
 * hash tag, injectivity over random ids (checked by decoding names back);
 * names_make_unique(): repeats, the "a~2" trap, long names, determinism.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

/* ---- helpers ---- */

/* Strict UTF-8 check written differently from names.c: decode the code
 * point, then reject overlongs, surrogates and values past U+10FFFF. */
static bool utf8_valid(const char *text, size_t len)
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
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
            return false;
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        i += n;
    }
    return true;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Every '%' in text[0..len) starts a complete upper-case %XX escape. */
static bool escapes_complete(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (text[i] != '%')
            continue;
        if (i + 2 >= len || hex_value(text[i + 1]) < 0 || hex_value(text[i + 2]) < 0)
            return false;
        i += 2;
    }
    return true;
}

/* Decodes an uncut name (without suffix) back to the raw id.  Returns the
 * length, or (size_t)-1 if the name is not a valid encoding. */
static size_t name_decode(const char *name, unsigned char *out)
{
    size_t o = 0;

    if (strcmp(name, "%empty") == 0)
        return 0;
    for (size_t i = 0; name[i]; i++) {
        if (name[i] != '%') {
            out[o++] = (unsigned char)name[i];
            continue;
        }
        if (hex_value(name[i + 1]) < 0 || hex_value(name[i + 2]) < 0)
            return (size_t)-1;
        out[o++] = (unsigned char)(hex_value(name[i + 1]) * 16 + hex_value(name[i + 2]));
        i += 2;
    }
    return o;
}

/* Checks the properties every name must have. */
static void assert_name_safe(const char *name, const char *suffix)
{
    size_t len = strlen(name), sl = strlen(suffix);

    assert_true(len > 0);
    assert_true(len <= NAME_MAX_BYTES);
    assert_null(strchr(name, '/'));
    assert_true(name[0] != '.');
    assert_true(utf8_valid(name, len));
    assert_true(len >= sl);
    assert_string_equal(name + len - sl, suffix);
    for (size_t i = 0; i < len; i++)
        assert_true((unsigned char)name[i] >= 0x20 && name[i] != 0x7f);
}

static void assert_name(const char *raw, size_t raw_len, const char *suffix, const char *expected)
{
    char *name = name_from_id(raw, raw_len, suffix);

    assert_non_null(name);
    assert_string_equal(name, expected);
    assert_name_safe(name, suffix);
    free(name);
}

#define NAME_OF(lit, suffix, expected) assert_name(lit, sizeof(lit) - 1, suffix, expected)

/* ---- name_from_id ---- */

static void test_plain_ids(void **state)
{
    (void)state;
    NAME_OF("12345", ".json", "12345.json");
    NAME_OF("call_abc-DEF", ".json", "call_abc-DEF.json");
    NAME_OF("abc", "", "abc");
    NAME_OF("a.b", ".json", "a.b.json");
    NAME_OF("with space", "", "with space");
    NAME_OF("+1 (555) 010-0000", ".json", "+1 (555) 010-0000.json");
}

static void test_escaped_bytes(void **state)
{
    (void)state;
    NAME_OF("a/b", ".json", "a%2Fb.json");
    NAME_OF("/", "", "%2F");
    NAME_OF("50%", ".json", "50%25.json");
    NAME_OF("%2F", "", "%252F");
    NAME_OF("a\nb", "", "a%0Ab");
    NAME_OF("\t\r\x01\x1f", "", "%09%0D%01%1F");
    NAME_OF("del\x7f", "", "del%7F");
    NAME_OF(" ", "", " ");
}

static void test_dots_and_empty(void **state)
{
    (void)state;
    NAME_OF(".", "", "%2E");
    NAME_OF("..", "", "%2E.");
    NAME_OF(".hidden", ".json", "%2Ehidden.json");
    NAME_OF(".campaignfs", "", "%2Ecampaignfs");
    NAME_OF("a.", "", "a.");
    NAME_OF("", ".json", "%empty.json");
    NAME_OF("", "", "%empty");
    /* the id "%empty" cannot collide with the empty id */
    NAME_OF("%empty", "", "%25empty");
}

static void test_utf8(void **state)
{
    (void)state;
    NAME_OF("caf\xc3\xa9", ".json", "caf\xc3\xa9.json");                 /* é */
    NAME_OF("\xe6\x97\xa5\xe6\x9c\xac", "", "\xe6\x97\xa5\xe6\x9c\xac"); /* 日本 */
    NAME_OF("\xf0\x9f\x98\x80", "", "\xf0\x9f\x98\x80");                 /* U+1F600 */
    NAME_OF("\xf4\x8f\xbf\xbf", "", "\xf4\x8f\xbf\xbf");                 /* U+10FFFF */
    NAME_OF("\xc2\x80", "", "\xc2\x80");                                 /* U+0080 */
    NAME_OF("\xef\xbf\xbf", "", "\xef\xbf\xbf");                         /* U+FFFF */
    NAME_OF("\xff", "", "%FF");
    NAME_OF("\x80", "", "%80");                         /* stray continuation */
    NAME_OF("\xc0\xaf", "", "%C0%AF");                  /* overlong '/' */
    NAME_OF("\xc1\xbf", "", "%C1%BF");                  /* overlong */
    NAME_OF("\xe0\x80\xaf", "", "%E0%80%AF");           /* overlong 3 bytes */
    NAME_OF("\xf0\x80\x80\xaf", "", "%F0%80%80%AF");    /* overlong 4 bytes */
    NAME_OF("\xed\xa0\x80", "", "%ED%A0%80");           /* surrogate U+D800 */
    NAME_OF("\xed\xbf\xbf", "", "%ED%BF%BF");           /* surrogate U+DFFF */
    NAME_OF("\xf4\x90\x80\x80", "", "%F4%90%80%80");    /* U+110000 */
    NAME_OF("\xf5\x80\x80\x80", "", "%F5%80%80%80");    /* beyond */
    NAME_OF("\xe2\x82", ".json", "%E2%82.json");        /* truncated */
    NAME_OF("\xe2\x82\xac\xe2", "", "\xe2\x82\xac%E2"); /* € then truncated */
    NAME_OF("a\xc3\xa9\xc3", "", "a\xc3\xa9%C3");       /* é then truncated */
    NAME_OF("\xc3(", "", "%C3(");                       /* bad continuation */
    NAME_OF(".\xc3\xa9", "", "%2E\xc3\xa9");
}

static void test_nul_bytes(void **state)
{
    (void)state;
    NAME_OF("a\0b", ".json", "a%00b.json");
    NAME_OF("\0", "", "%00");
    NAME_OF("\0\0", "", "%00%00");
    /* raw_len, not strlen, decides: the id "a" and "a\0" differ */
    assert_name("a\0", 1, "", "a");
    assert_name("a\0", 2, "", "a%00");
}

/* "~" + 16 hex digits of SHA-256(raw), computed here with libcrypto. */
static void hash_tag(const char *raw, size_t len, char *tag)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    assert_true(EVP_Digest(raw, len, md, &md_len, EVP_sha256(), NULL));
    tag[0] = '~';
    for (int i = 0; i < 8; i++)
        sprintf(tag + 1 + 2 * i, "%02x", md[i]);
}

static void test_length_limit(void **state)
{
    (void)state;
    char raw[600];
    char tag[18];
    char *name;

    /* 250 + ".json" = 255: fits, not cut */
    memset(raw, 'x', sizeof(raw));
    name = name_from_id(raw, 250, ".json");
    assert_int_equal(strlen(name), 255);
    assert_null(strchr(name, '~'));
    free(name);

    /* 251: cut to 233 + "~" + 16 hex + ".json" = 255 */
    name = name_from_id(raw, 251, ".json");
    hash_tag(raw, 251, tag);
    assert_int_equal(strlen(name), 255);
    assert_memory_equal(name + 233, tag, 17);
    assert_string_equal(name + 250, ".json");
    assert_name_safe(name, ".json");
    free(name);

    /* escapes push an id of 100 bytes over the limit */
    memset(raw, '/', 100);
    name = name_from_id(raw, 100, "");
    assert_true(strlen(name) <= 255);
    assert_non_null(strchr(name, '~'));
    free(name);
}

/* Cutting keeps whole escapes and whole UTF-8 sequences, at every offset. */
static void test_cut_boundaries(void **state)
{
    (void)state;
    const char *fillers[] = {"/", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80", "\xff", "a/"};

    for (size_t f = 0; f < sizeof(fillers) / sizeof(fillers[0]); f++) {
        for (size_t lead = 0; lead < 8; lead++) {
            char raw[1200];
            size_t len = lead, fl = strlen(fillers[f]);
            char *name;
            const char *tilde;

            memset(raw, 'b', lead);
            while (len + fl < 1000) {
                memcpy(raw + len, fillers[f], fl);
                len += fl;
            }
            name = name_from_id(raw, len, ".json");
            assert_non_null(name);
            assert_name_safe(name, ".json");
            tilde = strrchr(name, '~');
            assert_non_null(tilde);
            assert_int_equal(strlen(tilde), 17 + 5);
            assert_true(escapes_complete(name, (size_t)(tilde - name)));
            /* the cut uses the room: at most one unit (3 bytes escaped, 4 UTF-8) short */
            assert_true(tilde - name >= 233 - 3);
            free(name);
        }
    }
}

static void test_long_ids_sharing_prefix(void **state)
{
    (void)state;
    char a[400], b[400];
    char *na, *nb;

    memset(a, 'p', 300);
    memset(b, 'p', 300);
    memcpy(a + 300, "-one", 4);
    memcpy(b + 300, "-two", 4);
    na = name_from_id(a, 304, ".json");
    nb = name_from_id(b, 304, ".json");
    assert_true(strlen(na) <= 255 && strlen(nb) <= 255);
    assert_string_not_equal(na, nb);
    /* same id, same name */
    free(nb);
    nb = name_from_id(a, 304, ".json");
    assert_string_equal(na, nb);
    free(na);
    free(nb);
}

/* ---- injectivity ---- */

struct id_sample {
    unsigned char raw[64];
    size_t len;
    char *name;
};

static int sample_cmp_raw(const void *pa, const void *pb)
{
    const struct id_sample *a = pa, *b = pb;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->raw, b->raw, n);

    if (c)
        return c;
    return (a->len > b->len) - (a->len < b->len);
}

static int sample_cmp_name(const void *pa, const void *pb)
{
    const struct id_sample *a = pa, *b = pb;

    return strcmp(a->name, b->name);
}

/* A small alphabet full of troublemakers, so random ids collide in raw
 * space often and touch every encoding rule. */
static void sample_fill(struct id_sample *s, unsigned *seed)
{
    static const unsigned char alphabet[] = {
        'a',  'B',  '2',  'F',  '%',  '/',  '.',  '~',  ' ',  0x00, 0x01, 0x1f, 0x7f, 0x80,
        0xbf, 0xc0, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0xf4, 0x90, 0xff};

    s->len = (size_t)rand_r(seed) % 12;
    for (size_t i = 0; i < s->len; i++)
        s->raw[i] = alphabet[(size_t)rand_r(seed) % sizeof(alphabet)];
}

static void test_injective_random(void **state)
{
    (void)state;
    enum { N = 4000 };
    struct id_sample *samples = calloc(N, sizeof(*samples));
    unsigned seed = 12345;
    size_t distinct = 0;

    assert_non_null(samples);
    for (size_t i = 0; i < N; i++)
        sample_fill(&samples[i], &seed);
    qsort(samples, N, sizeof(*samples), sample_cmp_raw);
    for (size_t i = 0; i < N; i++)
        if (i == 0 || sample_cmp_raw(&samples[i - 1], &samples[i]) != 0)
            samples[distinct++] = samples[i];
    assert_true(distinct > 1000);
    for (size_t i = 0; i < distinct; i++) {
        unsigned char back[64];
        size_t back_len;

        samples[i].name = name_from_id((char *)samples[i].raw, samples[i].len, "");
        assert_non_null(samples[i].name);
        assert_name_safe(samples[i].name, "");
        back_len = name_decode(samples[i].name, back);
        assert_int_equal(back_len, samples[i].len);
        assert_memory_equal(back, samples[i].raw, back_len);
    }
    qsort(samples, distinct, sizeof(*samples), sample_cmp_name);
    for (size_t i = 1; i < distinct; i++)
        assert_string_not_equal(samples[i - 1].name, samples[i].name);
    for (size_t i = 0; i < distinct; i++)
        free(samples[i].name);
    free(samples);
}

/* ---- names_make_unique ---- */

static char **names_new(const char *const *src, size_t n)
{
    char **names = calloc(n, sizeof(*names));

    assert_non_null(names);
    for (size_t i = 0; i < n; i++)
        names[i] = strdup(src[i]);
    return names;
}

static void names_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

static void assert_unique_as(const char *const *in, const char *const *out, size_t n,
                             const char *suffix)
{
    char **names = names_new(in, n);

    assert_int_equal(names_make_unique(names, n, suffix), 0);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(names[i], out[i]);
    names_free(names, n);
}

static void test_unique_simple(void **state)
{
    (void)state;
    const char *distinct[] = {"a.json", "b.json", "c.json"};
    const char *three[] = {"a.json", "a.json", "a.json"};
    const char *three_out[] = {"a.json", "a~2.json", "a~3.json"};
    const char *mixed[] = {"x.json", "y.json", "x.json", "y.json", "x.json"};
    const char *mixed_out[] = {"x.json", "y.json", "x~2.json", "y~2.json", "x~3.json"};
    const char *nosuffix[] = {"d", "d"};
    const char *nosuffix_out[] = {"d", "d~2"};

    assert_unique_as(distinct, distinct, 3, ".json");
    assert_unique_as(three, three_out, 3, ".json");
    assert_unique_as(mixed, mixed_out, 5, ".json");
    assert_unique_as(nosuffix, nosuffix_out, 2, "");
    assert_int_equal(names_make_unique(NULL, 0, ".json"), 0);
}

static void test_unique_tilde_trap(void **state)
{
    (void)state;
    /* ids "a", "a", "a~2": the repeat must not become the existing a~2 */
    const char *trap[] = {"a.json", "a.json", "a~2.json"};
    const char *trap_out[] = {"a.json", "a~3.json", "a~2.json"};
    const char *trap_first[] = {"a~2.json", "a.json", "a.json", "a.json"};
    const char *trap_first_out[] = {"a~2.json", "a.json", "a~3.json", "a~4.json"};
    /* a repeat of "a~2" itself, next to repeats of "a" */
    const char *nested[] = {"a.json", "a~2.json", "a.json", "a~2.json", "a~2~2.json"};
    const char *nested_out[] = {"a.json", "a~2.json", "a~3.json", "a~2~3.json", "a~2~2.json"};

    assert_unique_as(trap, trap_out, 3, ".json");
    assert_unique_as(trap_first, trap_first_out, 4, ".json");
    assert_unique_as(nested, nested_out, 5, ".json");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void assert_all_distinct(char **names, size_t n)
{
    char **sorted = malloc(n * sizeof(*sorted));

    assert_non_null(sorted);
    memcpy(sorted, names, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_str);
    for (size_t i = 1; i < n; i++)
        assert_string_not_equal(sorted[i - 1], sorted[i]);
    free(sorted);
}

/* Builds lead 'q's then filler repeated while the encoded id stays within
 * `encoded_max` bytes (or the raw id within raw_max). */
static size_t id_build(char *raw, size_t lead, const char *filler, size_t filler_encoded,
                       size_t encoded_max, size_t raw_max)
{
    size_t len = lead, enc = lead, fl = strlen(filler);

    memset(raw, 'q', lead);
    while (enc + filler_encoded <= encoded_max && len + fl <= raw_max) {
        memcpy(raw + len, filler, fl);
        len += fl;
        enc += filler_encoded;
    }
    return len;
}

static void test_unique_long_names(void **state)
{
    (void)state;
    const char *fillers[] = {"x", "/", "\xc3\xa9", "\xe6\x97\xa5", "\xf0\x9f\x98\x80"};
    const size_t encoded[] = {1, 3, 2, 3, 4};

    for (size_t f = 0; f < 5; f++) {
        for (size_t lead = 0; lead < 8; lead++) {
            /* uncut names of 245..250 bytes + ".json" (the "~k" counter must
             * cut into escapes / UTF-8 itself), then hash-tagged names */
            for (int tagged = 0; tagged < 2; tagged++) {
                char raw[800];
                size_t len = id_build(raw, lead, fillers[f], encoded[f], tagged ? 700 : 250,
                                      tagged ? 700 : 250);
                char *names[12];

                for (size_t i = 0; i < 12; i++)
                    names[i] = name_from_id(raw, len, ".json");
                assert_int_equal(tagged, strchr(names[0], '~') != NULL);
                assert_int_equal(names_make_unique(names, 12, ".json"), 0);
                for (size_t i = 0; i < 12; i++) {
                    const char *tilde = strrchr(names[i], '~');
                    size_t stem = tilde ? (size_t)(tilde - names[i]) : strlen(names[i]) - 5;

                    assert_name_safe(names[i], ".json");
                    assert_true(escapes_complete(names[i], stem));
                }
                assert_all_distinct(names, 12);
                for (size_t i = 0; i < 12; i++)
                    free(names[i]);
            }
        }
    }
}

/* Many repeats and many "~k" look-alikes: unique, first occurrences kept,
 * same output for the same input. */
static void test_unique_random_and_deterministic(void **state)
{
    (void)state;
    enum { N = 6000 };
    char **a = calloc(N, sizeof(*a)), **b = calloc(N, sizeof(*b)), **orig = calloc(N, sizeof(*a));
    unsigned seed = 7;

    assert_true(a && b && orig);
    for (size_t i = 0; i < N; i++) {
        int base = rand_r(&seed) % 50, k = rand_r(&seed) % 6;

        if (k < 2)
            assert_true(asprintf(&orig[i], "n%d.json", base) > 0);
        else
            assert_true(asprintf(&orig[i], "n%d~%d.json", base, k) > 0);
        a[i] = strdup(orig[i]);
        b[i] = strdup(orig[i]);
    }
    assert_int_equal(names_make_unique(a, N, ".json"), 0);
    assert_int_equal(names_make_unique(b, N, ".json"), 0);
    assert_all_distinct(a, N);
    for (size_t i = 0; i < N; i++) {
        bool first = true;

        assert_string_equal(a[i], b[i]);
        for (size_t j = 0; j < i && first; j++)
            first = strcmp(orig[j], orig[i]) != 0;
        if (first)
            assert_string_equal(a[i], orig[i]);
    }
    names_free(a, N);
    names_free(b, N);
    names_free(orig, N);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_ids),
        cmocka_unit_test(test_escaped_bytes),
        cmocka_unit_test(test_dots_and_empty),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_length_limit),
        cmocka_unit_test(test_cut_boundaries),
        cmocka_unit_test(test_long_ids_sharing_prefix),
        cmocka_unit_test(test_injective_random),
        cmocka_unit_test(test_unique_simple),
        cmocka_unit_test(test_unique_tilde_trap),
        cmocka_unit_test(test_unique_long_names),
        cmocka_unit_test(test_unique_random_and_deterministic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
