/**
 * @file views.c
 * The NDJSON and CSV views of a listing: an index of line offsets built in
 * one measuring pass, and reads that render only the records overlapping
 * the range asked for, straight from the listing's rendered bytes.  The
 * same emitting code measures (into a counting sink) and renders (into a
 * sink that keeps only the window being read), so the sizes are exact.
 */
#include "views.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "listing.h"

#define NO_KEY SIZE_MAX

struct header_key {
    char *text; /* decoded key (UTF-8 as is), NUL-terminated */
    size_t len;
};

struct view {
    enum view_kind kind;
    unsigned long serial; /* of the listing it indexes */
    size_t n;             /* the listing's entries */
    uint64_t *offs;       /* n + 1: where entry i's line starts; offs[n] is the size */
    /* CSV only */
    struct header_key *keys; /* in first-seen order */
    size_t nkeys, keys_cap;
    size_t key_bytes;  /* the keys' texts */
    uint32_t *table;   /* open addressing: key index + 1, 0 for an empty slot */
    size_t table_size; /* a power of two, or 0 */
    char *header;      /* the header line with its CRLF */
    size_t header_len;
};

/* Where emitted bytes go: every byte has a position in the view; only
 * those in [from, to) are copied, to buf + (pos - from).  With buf NULL
 * the sink only counts. */
struct sink {
    char *buf;
    uint64_t pos;
    uint64_t from, to;
};

enum jkind { J_STRING, J_NUMBER, J_TRUE, J_FALSE, J_NULL, J_OBJECT, J_ARRAY };

/* One top-level member of a record, pointing into its bytes. */
struct member {
    const char *key; /* between the quotes, still escaped */
    size_t key_n;
    const char *val; /* the value's text (a string with its quotes) */
    size_t val_n;
    enum jkind kind;
    size_t h; /* its header key, or NO_KEY */
};

/* Scratch space for parsing and rendering CSV rows (one per build or read
 * call, so reads share nothing). */
struct row {
    struct member *m;
    size_t nm, m_cap;
    size_t *slot; /* per header key: index + 1 of the member holding it, or 0 */
    size_t slot_cap;
    char *scratch; /* a decoded string or a minified value */
    size_t scratch_cap;
};

/* Emits n bytes at the sink's position. */
static void put(struct sink *s, const char *p, size_t n)
{
    if (s->buf && n > 0 && s->pos < s->to && s->pos + n > s->from) {
        uint64_t a = s->pos > s->from ? s->pos : s->from;
        uint64_t b = s->pos + n < s->to ? s->pos + n : s->to;
        memcpy(s->buf + (a - s->from), p + (a - s->pos), (size_t)(b - a));
    }
    s->pos += n;
}

/* Whether a copying sink has everything it wants. */
static bool sink_done(const struct sink *s)
{
    return s->buf && s->pos >= s->to;
}

/* Whether c is JSON whitespace. */
static bool json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Emits JSON text without the whitespace outside its strings (and without
 * raw CR or LF anywhere, which valid JSON never holds in a string), so the
 * result is one line. */
static void minify(struct sink *s, const char *p, size_t n)
{
    bool in_str = false, esc = false;
    size_t run = 0;

    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        bool drop;

        if (in_str) {
            drop = c == '\n' || c == '\r';
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                in_str = false;
        } else {
            drop = json_space(c);
            if (c == '"')
                in_str = true;
        }
        if (drop) {
            put(s, p + run, i - run);
            run = i + 1;
            if (sink_done(s))
                return;
        }
    }
    put(s, p + run, n - run);
}

/* The value of four hex digits, or -1. */
static long hex4(const char *p)
{
    long v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int d;

        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Skips JSON whitespace. */
static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && json_space(*p))
        p++;
    return p;
}

/* Scans a string starting at its opening quote; returns the end of its
 * closing quote, or NULL if it is not a valid JSON string. */
static const char *scan_string(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '"')
            return p + 1;
        if (c < 0x20)
            return NULL;
        if (c != '\\')
            continue;
        if (++p >= e)
            return NULL;
        if (*p == 'u') {
            if (e - p < 5 || hex4(p + 1) < 0)
                return NULL;
            p += 4;
        } else if (*p == '\0' || !strchr("\"\\/bfnrt", *p)) {
            return NULL;
        }
    }
    return NULL;
}

/* Whether p (before e) is at an ASCII digit. */
static bool digit(const char *p, const char *e)
{
    return p < e && *p >= '0' && *p <= '9';
}

/* Scans a number (RFC 8259, or the NaN and [-]Infinity json-c writes for
 * such doubles); returns its end or NULL. */
static const char *scan_number(const char *p, const char *e)
{
    static const char *const special[] = {"NaN", "Infinity", "-Infinity"};

    for (size_t i = 0; i < sizeof(special) / sizeof(special[0]); i++) {
        size_t n = strlen(special[i]);
        if ((size_t)(e - p) >= n && memcmp(p, special[i], n) == 0)
            return p + n;
    }
    if (p < e && *p == '-')
        p++;
    if (!digit(p, e))
        return NULL;
    if (*p++ != '0')
        while (digit(p, e))
            p++;
    if (p < e && *p == '.') {
        if (!digit(++p, e))
            return NULL;
        while (digit(p, e))
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (!digit(p, e))
            return NULL;
        while (digit(p, e))
            p++;
    }
    return p;
}

static const char *scan_value(const char *p, const char *e, int depth, enum jkind *kind);

/* Scans an object or array starting at its bracket, its contents at the
 * given depth; returns its end or NULL. */
static const char *scan_container(const char *p, const char *e, int depth)
{
    bool obj = *p == '{';
    char close = obj ? '}' : ']';
    enum jkind k;

    p = skip_ws(p + 1, e);
    if (p < e && *p == close)
        return p + 1;
    for (;;) {
        if (obj) {
            if (p >= e || *p != '"' || !(p = scan_string(p, e)))
                return NULL;
            p = skip_ws(p, e);
            if (p >= e || *p != ':')
                return NULL;
            p = skip_ws(p + 1, e);
        }
        if (!(p = scan_value(p, e, depth, &k)))
            return NULL;
        p = skip_ws(p, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        return p < e && *p == close ? p + 1 : NULL;
    }
}

/* Scans one JSON value starting at p (no whitespace before it), inside
 * `depth` containers; sets its kind and returns its end, or NULL. */
static const char *scan_value(const char *p, const char *e, int depth, enum jkind *kind)
{
    static const struct {
        const char *text;
        enum jkind kind;
    } literals[] = {{"true", J_TRUE}, {"false", J_FALSE}, {"null", J_NULL}};

    if (p >= e)
        return NULL;
    if (*p == '"') {
        *kind = J_STRING;
        return scan_string(p, e);
    }
    if (*p == '{' || *p == '[') {
        if (depth >= VIEW_MAX_DEPTH)
            return NULL;
        *kind = *p == '{' ? J_OBJECT : J_ARRAY;
        return scan_container(p, e, depth + 1);
    }
    for (size_t i = 0; i < sizeof(literals) / sizeof(literals[0]); i++) {
        size_t n = strlen(literals[i].text);
        if ((size_t)(e - p) >= n && memcmp(p, literals[i].text, n) == 0) {
            *kind = literals[i].kind;
            return p + n;
        }
    }
    *kind = J_NUMBER;
    return scan_number(p, e);
}

/* Appends one UTF-8 encoded code point; returns its length. */
static size_t put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes the contents of a valid JSON string (between its quotes) into
 * out, which holds at least n bytes (the text never grows); a lone
 * surrogate becomes U+FFFD, as json-c decodes it.  Returns the length. */
static size_t decode_string(const char *p, size_t n, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned long cp;

        if (p[i] != '\\') {
            out[o++] = p[i];
            continue;
        }
        switch (p[++i]) {
        case 'b':
            out[o++] = '\b';
            continue;
        case 'f':
            out[o++] = '\f';
            continue;
        case 'n':
            out[o++] = '\n';
            continue;
        case 'r':
            out[o++] = '\r';
            continue;
        case 't':
            out[o++] = '\t';
            continue;
        case 'u':
            break;
        default: /* '"', '\\', '/' */
            out[o++] = p[i];
            continue;
        }
        cp = (unsigned long)hex4(p + i + 1);
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 < n && p[i + 1] == '\\' && p[i + 2] == 'u') {
            long lo = hex4(p + i + 3);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned long)lo - 0xDC00);
                i += 6;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp = 0xFFFD;
        o += put_utf8(out + o, cp);
    }
    return o;
}

/* Makes room for n bytes of scratch. */
static int row_scratch(struct row *r, size_t n)
{
    char *s;

    if (n <= r->scratch_cap)
        return 0;
    if (!(s = realloc(r->scratch, n)))
        return -1;
    r->scratch = s;
    r->scratch_cap = n;
    return 0;
}

/* Makes room for n header slots (new ones empty). */
static int row_slots(struct row *r, size_t n)
{
    size_t cap = r->slot_cap ? r->slot_cap : 16;
    size_t *s;

    if (n <= r->slot_cap)
        return 0;
    while (cap < n)
        cap *= 2;
    if (!(s = realloc(r->slot, cap * sizeof(*s))))
        return -1;
    memset(s + r->slot_cap, 0, (cap - r->slot_cap) * sizeof(*s));
    r->slot = s;
    r->slot_cap = cap;
    return 0;
}

/* Frees a row's scratch space. */
static void row_free(struct row *r)
{
    free(r->m);
    free(r->slot);
    free(r->scratch);
}

/* Appends a member. */
static int row_push(struct row *r, const struct member *mb)
{
    if (r->nm == r->m_cap) {
        size_t cap = r->m_cap ? r->m_cap * 2 : 16;
        struct member *m = realloc(r->m, cap * sizeof(*m));
        if (!m)
            return -1;
        r->m = m;
        r->m_cap = cap;
    }
    r->m[r->nm++] = *mb;
    return 0;
}

/* Splits a record into its top-level members.  1 if it is one valid JSON
 * object (with only whitespace around it), 0 if not (no members), -1 on
 * out of memory. */
static int parse_record(struct row *r, const char *p, size_t n)
{
    const char *e = p + n;

    r->nm = 0;
    p = skip_ws(p, e);
    if (p >= e || *p != '{')
        return 0;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
    } else {
        for (;;) {
            struct member mb = {.key = p + 1, .h = NO_KEY};

            if (p >= e || *p != '"' || !(p = scan_string(p, e)))
                goto bad;
            mb.key_n = (size_t)(p - mb.key - 1);
            p = skip_ws(p, e);
            if (p >= e || *p != ':')
                goto bad;
            mb.val = p = skip_ws(p + 1, e);
            if (!(p = scan_value(p, e, 1, &mb.kind)))
                goto bad;
            mb.val_n = (size_t)(p - mb.val);
            if (row_push(r, &mb) < 0)
                return -1;
            p = skip_ws(p, e);
            if (p < e && *p == ',') {
                p = skip_ws(p + 1, e);
                continue;
            }
            if (p < e && *p == '}') {
                p++;
                break;
            }
            goto bad;
        }
    }
    if (skip_ws(p, e) == e)
        return 1;
bad:
    r->nm = 0;
    return 0;
}

/* A member's decoded key (in the row's scratch if it had escapes). */
static void key_text(struct row *r, const struct member *mb, const char **t, size_t *n)
{
    if (!memchr(mb->key, '\\', mb->key_n)) {
        *t = mb->key;
        *n = mb->key_n;
        return;
    }
    *n = decode_string(mb->key, mb->key_n, r->scratch);
    *t = r->scratch;
}

/* A member's CSV cell text before quoting (in the row's scratch when it is
 * decoded or minified). */
static void cell_text(struct row *r, const struct member *mb, const char **t, size_t *n)
{
    struct sink s = {r->scratch, 0, 0, UINT64_MAX};

    switch (mb->kind) {
    case J_STRING:
        if (!memchr(mb->val + 1, '\\', mb->val_n - 2)) {
            *t = mb->val + 1;
            *n = mb->val_n - 2;
        } else {
            *n = decode_string(mb->val + 1, mb->val_n - 2, r->scratch);
            *t = r->scratch;
        }
        return;
    case J_NULL:
        *t = "";
        *n = 0;
        return;
    case J_OBJECT:
    case J_ARRAY:
        minify(&s, mb->val, mb->val_n);
        *t = r->scratch;
        *n = (size_t)s.pos;
        return;
    default: /* a number, true or false: its text as rendered */
        *t = mb->val;
        *n = mb->val_n;
        return;
    }
}

/* Emits one CSV cell, quoted when it holds a comma, a quote, CR or LF, or
 * begins or ends with a space. */
static void emit_cell(struct sink *s, const char *t, size_t n)
{
    bool quote = n > 0 && (t[0] == ' ' || t[n - 1] == ' ');
    size_t run = 0;

    for (size_t i = 0; i < n && !quote; i++)
        quote = t[i] == ',' || t[i] == '"' || t[i] == '\r' || t[i] == '\n';
    if (!quote) {
        put(s, t, n);
        return;
    }
    put(s, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '"') {
            put(s, t + run, i + 1 - run);
            run = i; /* the quote starts the next run too: doubled */
        }
    }
    put(s, t + run, n - run);
    put(s, "\"", 1);
}

/* FNV-1a of a key. */
static uint64_t key_hash(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL;

    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

/* The index of a header key, or NO_KEY. */
static size_t find_key(const struct view *v, const char *p, size_t n)
{
    if (!v->table_size)
        return NO_KEY;
    for (size_t i = (size_t)key_hash(p, n) & (v->table_size - 1);;
         i = (i + 1) & (v->table_size - 1)) {
        uint32_t k = v->table[i];
        if (!k)
            return NO_KEY;
        if (v->keys[k - 1].len == n && memcmp(v->keys[k - 1].text, p, n) == 0)
            return k - 1;
    }
}

/* Puts key index k into the lookup table (which has room). */
static void table_insert(struct view *v, size_t k)
{
    size_t i = (size_t)key_hash(v->keys[k].text, v->keys[k].len) & (v->table_size - 1);

    while (v->table[i])
        i = (i + 1) & (v->table_size - 1);
    v->table[i] = (uint32_t)(k + 1);
}

/* The index of a header key, adding it at the end if it is new; NO_KEY
 * on out of memory. */
static size_t add_key(struct view *v, const char *p, size_t n)
{
    size_t k = find_key(v, p, n);
    char *text;

    if (k != NO_KEY)
        return k;
    if (v->nkeys >= UINT32_MAX - 1)
        return NO_KEY;
    if ((v->nkeys + 1) * 2 > v->table_size) {
        size_t size = v->table_size ? v->table_size * 2 : 64;
        uint32_t *table = calloc(size, sizeof(*table));
        if (!table)
            return NO_KEY;
        free(v->table);
        v->table = table;
        v->table_size = size;
        for (size_t i = 0; i < v->nkeys; i++)
            table_insert(v, i);
    }
    if (v->nkeys == v->keys_cap) {
        size_t cap = v->keys_cap ? v->keys_cap * 2 : 16;
        struct header_key *keys = realloc(v->keys, cap * sizeof(*keys));
        if (!keys)
            return NO_KEY;
        v->keys = keys;
        v->keys_cap = cap;
    }
    if (!(text = malloc(n + 1)))
        return NO_KEY;
    memcpy(text, p, n);
    text[n] = '\0';
    v->keys[v->nkeys].text = text;
    v->keys[v->nkeys].len = n;
    v->key_bytes += n + 1;
    table_insert(v, v->nkeys);
    return v->nkeys++;
}

/* Emits the header line. */
static void emit_header(const struct view *v, struct sink *s)
{
    for (size_t k = 0; k < v->nkeys; k++) {
        if (k)
            put(s, ",", 1);
        emit_cell(s, v->keys[k].text, v->keys[k].len);
    }
    if (v->nkeys == 1 && v->keys[0].len == 0)
        put(s, "\"\"", 2);
    put(s, "\r\n", 2);
}

/* Emits one record's CSV row with the view's header.  0, or -1 on out of
 * memory. */
static int emit_row(const struct view *v, struct row *r, const struct listing_entry *e,
                    struct sink *s)
{
    uint64_t start = s->pos;
    int rc;

    if (row_scratch(r, (size_t)e->len + 1) < 0 || row_slots(r, v->nkeys) < 0)
        return -1;
    if ((rc = parse_record(r, e->bytes ? e->bytes : "", e->len)) < 0)
        return -1;
    for (size_t j = 0; j < r->nm; j++) {
        const char *t;
        size_t n;

        key_text(r, &r->m[j], &t, &n);
        r->m[j].h = find_key(v, t, n);
        if (r->m[j].h != NO_KEY)
            r->slot[r->m[j].h] = j + 1; /* the last of a repeated key wins */
    }
    for (size_t k = 0; k < v->nkeys && !sink_done(s); k++) {
        if (k)
            put(s, ",", 1);
        if (r->slot[k]) {
            const char *t;
            size_t n;

            cell_text(r, &r->m[r->slot[k] - 1], &t, &n);
            emit_cell(s, t, n);
        }
    }
    if (v->nkeys == 1 && s->pos == start)
        put(s, "\"\"", 2);
    put(s, "\r\n", 2);
    for (size_t j = 0; j < r->nm; j++)
        if (r->m[j].h != NO_KEY)
            r->slot[r->m[j].h] = 0;
    return 0;
}

/* First pass of a CSV build: adds the record's keys to the header and
 * returns the bytes of its cells (without separators) in *cells.  0 or -1
 * on out of memory. */
static int measure_cells(struct view *v, struct row *r, const struct listing_entry *e,
                         uint64_t *cells)
{
    int rc;

    *cells = 0;
    if (row_scratch(r, (size_t)e->len + 1) < 0)
        return -1;
    if ((rc = parse_record(r, e->bytes ? e->bytes : "", e->len)) < 0)
        return -1;
    for (size_t j = 0; j < r->nm; j++) {
        const char *t;
        size_t n;

        key_text(r, &r->m[j], &t, &n);
        if ((r->m[j].h = add_key(v, t, n)) == NO_KEY || row_slots(r, v->nkeys) < 0)
            return -1;
        r->slot[r->m[j].h] = j + 1;
    }
    for (size_t j = 0; j < r->nm; j++) {
        if (r->slot[r->m[j].h] == j + 1) {
            struct sink count = {0};
            const char *t;
            size_t n;

            cell_text(r, &r->m[j], &t, &n);
            emit_cell(&count, t, n);
            *cells += count.pos;
        }
    }
    for (size_t j = 0; j < r->nm; j++)
        r->slot[r->m[j].h] = 0;
    return 0;
}

/* Builds the CSV index: the header from every record's keys, each row's
 * length from its cells and the header's width. */
static int build_csv(struct view *v, const struct listing *l)
{
    struct row r = {0};
    size_t records = 0;
    struct sink count = {0};
    int rc = -1;

    for (size_t i = 0; i < l->n; i++) {
        v->offs[i + 1] = 0;
        if (l->entries[i].type != ENTRY_FILE)
            continue;
        records++;
        if (measure_cells(v, &r, &l->entries[i], &v->offs[i + 1]) < 0)
            goto out;
    }
    rc = 0;
    if (!records)
        goto out; /* an empty file: not even a header */
    emit_header(v, &count);
    v->header_len = (size_t)count.pos;
    if (!(v->header = malloc(v->header_len))) {
        rc = -1;
        goto out;
    }
    count = (struct sink){v->header, 0, 0, v->header_len};
    emit_header(v, &count);
    v->offs[0] = v->header_len;
    for (size_t i = 0; i < l->n; i++) {
        uint64_t cells = v->offs[i + 1], len = 0;

        if (l->entries[i].type == ENTRY_FILE) {
            len = cells + (v->nkeys ? v->nkeys - 1 : 0) + 2;
            if (v->nkeys == 1 && cells == 0)
                len += 2;
        }
        v->offs[i + 1] = v->offs[i] + len;
    }
out:
    row_free(&r);
    return rc;
}

/* Builds the NDJSON index: each record's compact length plus its '\n'. */
static void build_ndjson(struct view *v, const struct listing *l)
{
    for (size_t i = 0; i < l->n; i++) {
        const struct listing_entry *e = &l->entries[i];
        struct sink count = {0};

        if (e->type == ENTRY_FILE) {
            minify(&count, e->bytes ? e->bytes : "", e->len);
            count.pos++;
        }
        v->offs[i + 1] = v->offs[i] + count.pos;
    }
}

struct view *view_build(const struct listing *l, enum view_kind kind)
{
    struct view *v = calloc(1, sizeof(*v));

    if (!v)
        return NULL;
    v->kind = kind;
    v->serial = l->serial;
    v->n = l->n;
    if (!(v->offs = calloc(l->n + 1, sizeof(*v->offs)))) {
        free(v);
        return NULL;
    }
    if (kind == VIEW_NDJSON) {
        build_ndjson(v, l);
    } else if (build_csv(v, l) < 0) {
        view_free(v);
        return NULL;
    }
    return v;
}

uint64_t view_size(const struct view *v)
{
    return v->offs[v->n];
}

enum view_kind view_kind_of(const struct view *v)
{
    return v->kind;
}

ssize_t view_read(const struct view *v, const struct listing *l, uint64_t off, char *buf,
                  size_t len)
{
    uint64_t size = v->offs[v->n], end;
    struct sink s;
    struct row r = {0};
    size_t lo = 0, hi = v->n + 1;
    int rc = 0;

    if (l->serial != v->serial || l->n != v->n) {
        errno = EINVAL;
        return -1;
    }
    if (off >= size || len == 0)
        return 0;
    if (len > SSIZE_MAX)
        len = SSIZE_MAX;
    end = size - off < len ? size : off + len;
    s = (struct sink){buf, 0, off, end};
    if (off < v->header_len)
        put(&s, v->header, v->header_len);
    /* the first entry whose line ends after off: offs[lo] > off >= offs[lo - 1] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v->offs[mid] > off)
            hi = mid;
        else
            lo = mid + 1;
    }
    for (size_t i = lo ? lo - 1 : 0; i < v->n && v->offs[i] < end && rc == 0; i++) {
        const struct listing_entry *e = &l->entries[i];

        if (v->offs[i + 1] == v->offs[i])
            continue; /* not a record */
        s.pos = v->offs[i];
        if (v->kind == VIEW_NDJSON) {
            minify(&s, e->bytes ? e->bytes : "", e->len);
            put(&s, "\n", 1);
        } else {
            rc = emit_row(v, &r, e, &s);
        }
    }
    row_free(&r);
    if (rc < 0) {
        errno = ENOMEM;
        return -1;
    }
    return (ssize_t)(end - off);
}

void view_free(struct view *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->nkeys; i++)
        free(v->keys[i].text);
    free(v->keys);
    free(v->table);
    free(v->header);
    free(v->offs);
    free(v);
}

size_t view_memory(const struct view *v)
{
    return sizeof(*v) + (v->n + 1) * sizeof(*v->offs) + v->keys_cap * sizeof(*v->keys) +
           v->key_bytes + v->table_size * sizeof(*v->table) + v->header_len;
}
