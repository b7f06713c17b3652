/**
 * @file names.c
 * API identifiers -> directory entry names.  name_from_id() encodes one id
 * (percent-encoding what a file name cannot or should not hold, keeping
 * valid UTF-8, hashing over-long ids with SHA-256 from libcrypto);
 * names_make_unique() settles collisions within one directory listing
 * using a glibc hsearch_r() table.
 */
#include "names.h"

#include <errno.h>
#include <openssl/evp.h>
#include <search.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_TAG_HEX   16                 /* hex digits of SHA-256 kept in a cut name */
#define HASH_TAG_BYTES (1 + HASH_TAG_HEX) /* "~" + hex */
#define EMPTY_ID_NAME  "%empty"

static const char hex_upper[] = "0123456789ABCDEF";

/* Unicode Table 3-7 (names.h). */
size_t utf8_sequence_length(const unsigned char *s, size_t avail)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;

    if (s[0] >= 0xC2 && s[0] <= 0xDF)
        len = 2;
    else if (s[0] >= 0xE0 && s[0] <= 0xEF)
        len = 3;
    else if (s[0] >= 0xF0 && s[0] <= 0xF4)
        len = 4;
    else
        return 0;
    if (s[0] == 0xE0)
        lo = 0xA0;
    else if (s[0] == 0xED)
        hi = 0x9F;
    else if (s[0] == 0xF0)
        lo = 0x90;
    else if (s[0] == 0xF4)
        hi = 0x8F;
    if (avail < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Whether an ASCII byte must be written as %XX. */
static bool byte_needs_escape(unsigned char b, size_t pos)
{
    return b == '%' || b == '/' || b < 0x20 || b == 0x7f || (pos == 0 && b == '.');
}

/* Writes "~" and the first HASH_TAG_HEX hex digits of SHA-256(raw) to out
 * (HASH_TAG_BYTES + 1 bytes with the NUL).  Returns 0 or -1. */
static int hash_tag_write(const char *raw, size_t raw_len, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;

    if (!EVP_Digest(raw, raw_len, md, &md_len, EVP_sha256(), NULL) || md_len < HASH_TAG_HEX / 2)
        return -1;
    out[0] = '~';
    for (size_t i = 0; i < HASH_TAG_HEX / 2; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/* Encodes raw into out (room for 3 * raw_len bytes).  Returns the encoded
 * length; *cut receives the largest encoded length <= cut_limit that ends
 * between two units (never inside a %XX escape or a UTF-8 sequence). */
static size_t id_encode(const unsigned char *raw, size_t raw_len, char *out, size_t cut_limit,
                        size_t *cut)
{
    size_t o = 0;

    *cut = 0;
    for (size_t i = 0; i < raw_len;) {
        size_t seq = raw[i] >= 0x80 ? utf8_sequence_length(raw + i, raw_len - i) : 1;

        if (seq > 1) {
            memcpy(out + o, raw + i, seq);
            o += seq;
            i += seq;
        } else if (raw[i] >= 0x80 || byte_needs_escape(raw[i], i)) {
            out[o++] = '%';
            out[o++] = hex_upper[raw[i] >> 4];
            out[o++] = hex_upper[raw[i] & 0x0f];
            i++;
        } else {
            out[o++] = (char)raw[i++];
        }
        if (o <= cut_limit)
            *cut = o;
    }
    return o;
}

char *name_from_id(const char *raw, size_t raw_len, const char *suffix)
{
    size_t suffix_len = suffix ? strlen(suffix) : 0;
    size_t enc_len, cut, cap;
    char *out;

    if (!suffix)
        suffix = "";
    if (suffix_len + HASH_TAG_BYTES >= NAME_MAX_BYTES) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    cap = 3 * raw_len + sizeof(EMPTY_ID_NAME) + HASH_TAG_BYTES + suffix_len + 1;
    out = malloc(cap);
    if (!out)
        return NULL;
    if (raw_len == 0) {
        snprintf(out, cap, "%s%s", EMPTY_ID_NAME, suffix);
        return out;
    }
    enc_len = id_encode((const unsigned char *)raw, raw_len, out,
                        NAME_MAX_BYTES - suffix_len - HASH_TAG_BYTES, &cut);
    if (enc_len + suffix_len > NAME_MAX_BYTES) {
        if (hash_tag_write(raw, raw_len, out + cut) < 0) {
            free(out);
            return NULL;
        }
        enc_len = cut + HASH_TAG_BYTES;
    }
    memcpy(out + enc_len, suffix, suffix_len + 1);
    return out;
}

/* ---- collisions ---- */

/* Largest length <= max at which name can be cut: not inside a UTF-8
 * sequence, not inside a %XX escape. */
static size_t name_safe_cut(const char *name, size_t len, size_t max)
{
    size_t p = len < max ? len : max;

    while (p > 0 && p < len) {
        bool in_utf8 = ((unsigned char)name[p] & 0xC0) == 0x80;
        bool in_escape = name[p - 1] == '%' || (p >= 2 && name[p - 2] == '%');

        if (!in_utf8 && !in_escape)
            break;
        p--;
    }
    return p;
}

/* "<stem>~k<suffix>", the stem cut so that the whole fits NAME_MAX_BYTES. */
static char *name_with_counter(const char *name, const char *suffix, size_t k)
{
    size_t len = strlen(name), suffix_len = strlen(suffix);
    size_t stem_len = len;
    char tag[32];
    size_t tag_len, room;
    char *out;

    if (len >= suffix_len && strcmp(name + len - suffix_len, suffix) == 0)
        stem_len = len - suffix_len;
    tag_len = (size_t)snprintf(tag, sizeof(tag), "~%zu", k);
    room = NAME_MAX_BYTES > tag_len + suffix_len ? NAME_MAX_BYTES - tag_len - suffix_len : 0;
    stem_len = name_safe_cut(name, stem_len, room);
    out = malloc(stem_len + tag_len + suffix_len + 1);
    if (!out)
        return NULL;
    memcpy(out, name, stem_len);
    memcpy(out + stem_len, tag, tag_len);
    memcpy(out + stem_len + tag_len, suffix, suffix_len + 1);
    return out;
}

/* Adds every distinct name to the table; marks the repeats. */
static int names_index(char **names, size_t n, struct hsearch_data *taken, bool *repeat)
{
    for (size_t i = 0; i < n; i++) {
        ENTRY e = {.key = names[i], .data = (void *)(uintptr_t)2};
        ENTRY *found = NULL;

        if (!hsearch_r(e, ENTER, &found, taken))
            return -1;
        repeat[i] = found->key != names[i];
    }
    return 0;
}

/* Renames the repeat names[i] to the first free "<stem>~k<suffix>". */
static int name_rename_repeat(char **names, size_t i, const char *suffix,
                              struct hsearch_data *taken)
{
    ENTRY query = {.key = names[i]};
    ENTRY *base = NULL, *added = NULL;
    size_t k;
    char *candidate;

    if (!hsearch_r(query, FIND, &base, taken))
        return -1;
    for (k = (uintptr_t)base->data;; k++) {
        ENTRY probe;
        ENTRY *hit = NULL;

        candidate = name_with_counter(names[i], suffix, k);
        if (!candidate)
            return -1;
        probe.key = candidate;
        if (!hsearch_r(probe, FIND, &hit, taken))
            break;
        free(candidate);
    }
    base->data = (void *)(uintptr_t)(k + 1);
    query.key = candidate;
    query.data = (void *)(uintptr_t)2;
    if (!hsearch_r(query, ENTER, &added, taken)) {
        free(candidate);
        return -1;
    }
    free(names[i]);
    names[i] = candidate;
    return 0;
}

int names_make_unique(char **names, size_t n, const char *suffix)
{
    struct hsearch_data taken;
    bool *repeat;
    int rc = -1;

    if (n < 2)
        return 0;
    if (!suffix)
        suffix = "";
    memset(&taken, 0, sizeof(taken));
    repeat = calloc(n, sizeof(*repeat));
    if (!repeat || !hcreate_r(4 * n + 16, &taken)) {
        free(repeat);
        return -1;
    }
    if (names_index(names, n, &taken, repeat) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if (repeat[i] && name_rename_repeat(names, i, suffix, &taken) < 0)
            goto out;
    rc = 0;
out:
    hdestroy_r(&taken);
    free(repeat);
    return rc;
}
