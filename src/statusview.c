/**
 * @file statusview.c
 * `campaignfs --status [--watch] MOUNT`: MOUNT/.campaignfs/status rendered
 * for a person.  This module owns the text a person reads (layout, units,
 * progress bars, ETAs, fitting lines to the terminal, escaping what servers
 * wrote), reading the status file and the watch loop (redraw, signals).
 * It reads only the JSON document, never the daemon's structures: a field
 * it does not know is ignored, a field that is missing shows as "?".
 */
#include "statusview.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "names.h"

#define LINE_BYTES 4096
#define WIDTH_MAX  1000               /* columns; a line's bytes stay below LINE_BYTES */
#define TEXT_BYTES 1024               /* an escaped string from the document */
#define FILE_MAX   (64 * 1024 * 1024) /* a status file larger than this is not one */

/* Where a frame goes and how much of it fits. */
struct view {
    FILE *out;
    int width;     /* columns */
    int max_lines; /* 0: no limit (not a terminal) */
    int lines;
    int dropped;
};

/* ---- text that is safe on a terminal ---- */

/* Copies in to out as log_escape() does (control characters as \xNN), and
 * also escapes what a terminal could take as a control: bytes that are not
 * UTF-8 (\xNN) and the C1 controls U+0080..U+009F (\u00NN).  in NULL: "?". */
static const char *safe_text(char *out, size_t outlen, const char *in)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)(in ? in : "?");
    const unsigned char *end = p + strlen((const char *)p);
    size_t o = 0;

    while (*p && o + 7 < outlen) {
        size_t n = *p >= 0x80 ? utf8_sequence_length(p, (size_t)(end - p)) : 1;
        bool c1 = n == 2 && p[0] == 0xc2 && p[1] < 0xa0;

        if (c1) {
            o += (size_t)snprintf(out + o, outlen - o, "\\u00%c%c", hex[p[1] >> 4], hex[p[1] & 15]);
            p += 2;
        } else if (!n || *p < 0x20 || *p == 0x7f) {
            o += (size_t)snprintf(out + o, outlen - o, "\\x%c%c", hex[*p >> 4], hex[*p & 15]);
            p++;
        } else {
            memcpy(out + o, p, n);
            o += n;
            p += n;
        }
    }
    out[o] = '\0';
    return out;
}

/* Writes one line, cut to v->width columns ('>' marks a cut).  The line's
 * text is already safe: valid UTF-8, one column a code point. */
static void put_line(struct view *v, const char *text)
{
    size_t cols = 0, i, cut = 0;

    for (i = 0; text[i]; i++) {
        if (((unsigned char)text[i] & 0xc0) == 0x80)
            continue;
        if (cols == (size_t)v->width - 1)
            cut = i;
        cols++;
    }
    if (cols <= (size_t)v->width)
        fprintf(v->out, "%s\n", text);
    else
        fprintf(v->out, "%.*s>\n", (int)cut, text);
}

static void line(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(struct view *v, const char *fmt, ...)
{
    char buf[LINE_BYTES];
    va_list ap;

    if (v->max_lines && v->lines >= v->max_lines - 1) {
        v->dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    put_line(v, buf);
    v->lines++;
}

/* Bytes of text's first cols code points (all of it when shorter). */
static size_t prefix_bytes(const char *text, size_t cols)
{
    size_t i = 0;

    for (size_t c = 0; text[i] && c < cols; c++) {
        i++;
        while (((unsigned char)text[i] & 0xc0) == 0x80)
            i++;
    }
    return i;
}

/* The end of the next piece of text that fits in cols: after the last
 * space in it when there is one past its middle, else at cols. */
static size_t wrap_point(const char *text, size_t cols)
{
    size_t end = prefix_bytes(text, cols), half = prefix_bytes(text, cols / 2);

    if (!text[end])
        return end;
    for (size_t i = end; i > half; i--)
        if (text[i - 1] == ' ')
            return i;
    return end;
}

/* Safe text on up to max_lines lines, each starting with indent; the last
 * one cut with '>' when the text is longer still. */
static void line_wrapped(struct view *v, const char *indent, const char *text, int max_lines)
{
    int cols = v->width - (int)strlen(indent);

    if (cols < 10) {
        line(v, "%s%s", indent, text);
        return;
    }
    for (int n = 1; *text; n++) {
        size_t end = n == max_lines ? strlen(text) : wrap_point(text, (size_t)cols);

        line(v, "%s%.*s", indent, (int)end, text);
        text += end;
    }
}

/* ---- units ---- */

static const char *fmt_bytes(char *buf, size_t len, double v)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    int u = 0;

    if (!isfinite(v) || v < 0) {
        snprintf(buf, len, "?");
        return buf;
    }
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    if (u == 0)
        snprintf(buf, len, "%.0f B", v);
    else
        snprintf(buf, len, "%.1f %s", v, units[u]);
    return buf;
}

/* 12s, 3m12s, 2h03m, 4d01h. */
static void fmt_duration(char *buf, size_t len, double s)
{
    long long t;

    if (!isfinite(s) || s < 0) {
        snprintf(buf, len, "?");
        return;
    }
    if (s >= 1e9) {
        snprintf(buf, len, ">30y");
        return;
    }
    t = (long long)s;
    if (t < 60)
        snprintf(buf, len, "%llds", t);
    else if (t < 3600)
        snprintf(buf, len, "%lldm%02llds", t / 60, t % 60);
    else if (t < 86400)
        snprintf(buf, len, "%lldh%02lldm", t / 3600, t / 60 % 60);
    else
        snprintf(buf, len, "%lldd%02lldh", t / 86400, t / 3600 % 24);
}

/* As fmt_duration(), with a tenth of a second under a minute: 0.5s, 12.3s. */
static const char *fmt_elapsed(char *buf, size_t len, double s)
{
    if (s >= 0 && s < 60)
        snprintf(buf, len, "%.1fs", s);
    else
        fmt_duration(buf, len, s);
    return buf;
}

static bool near_whole(double x)
{
    return x >= 1 && fabs(x - round(x)) < 1e-3 * round(x);
}

/* "limit 12/s", "limit 100/min", "limit 30/h", "limit 0.3/s"; 0: "no rate limit". */
static const char *fmt_rate(char *buf, size_t len, double r)
{
    if (!isfinite(r) || r < 0)
        snprintf(buf, len, "limit ?");
    else if (r == 0)
        snprintf(buf, len, "no rate limit");
    else if (near_whole(r))
        snprintf(buf, len, "limit %.0f/s", round(r));
    else if (near_whole(r * 60))
        snprintf(buf, len, "limit %.0f/min", round(r * 60));
    else if (near_whole(r * 3600))
        snprintf(buf, len, "limit %.0f/h", round(r * 3600));
    else
        snprintf(buf, len, "limit %.3g/s", r);
    return buf;
}

/* ---- the document ---- */

static bool get_num(json_object *o, const char *key, double *v)
{
    json_object *x;
    double d;

    if (!json_object_object_get_ex(o, key, &x))
        return false;
    if (!json_object_is_type(x, json_type_int) && !json_object_is_type(x, json_type_double))
        return false;
    d = json_object_get_double(x);
    if (!isfinite(d))
        return false;
    *v = d;
    return true;
}

/* The number, or dflt when missing or not a number. */
static double num_or(json_object *o, const char *key, double dflt)
{
    double v;

    return get_num(o, key, &v) ? v : dflt;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *x;

    if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_string))
        return NULL;
    return json_object_get_string(x);
}

static json_object *get_type(json_object *o, const char *key, enum json_type type)
{
    json_object *x;

    if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, type))
        return NULL;
    return x;
}

/* A whole count as text, "?" when missing. */
static const char *fmt_count(char *buf, size_t len, json_object *o, const char *key)
{
    double v;

    if (!get_num(o, key, &v))
        snprintf(buf, len, "?");
    else
        snprintf(buf, len, "%.0f", v);
    return buf;
}

static const char *fmt_bytes_of(char *buf, size_t len, json_object *o, const char *key)
{
    return fmt_bytes(buf, len, num_or(o, key, -1));
}

static const char *fmt_duration_of(char *buf, size_t len, json_object *o, const char *key)
{
    fmt_duration(buf, len, num_or(o, key, -1));
    return buf;
}

static void render_header(struct view *v, json_object *root)
{
    char ver[TEXT_BYTES], at[TEXT_BYTES], pid[32], up[32], ttl[32], stale[32];

    line(v, "campaignfs %s  pid %s  up %s  ttl %s  max-stale %s  mounted %s",
         safe_text(ver, sizeof(ver), get_str(root, "version")),
         fmt_count(pid, sizeof(pid), root, "pid"),
         fmt_duration_of(up, sizeof(up), root, "uptime_seconds"),
         fmt_duration_of(ttl, sizeof(ttl), root, "ttl"),
         fmt_duration_of(stale, sizeof(stale), root, "max_stale"),
         safe_text(at, sizeof(at), get_str(root, "mounted_at")));
}

static void render_account_head(struct view *v, json_object *a)
{
    char name[TEXT_BYTES], prov[TEXT_BYTES], url[TEXT_BYTES], rate[32], conc[32], peak[32];

    line(v, "%s  [%s]  %s, %s at once (peak %s)  %s",
         safe_text(name, sizeof(name), get_str(a, "name")),
         safe_text(prov, sizeof(prov), get_str(a, "provider")),
         fmt_rate(rate, sizeof(rate), num_or(a, "rate_limit_per_second", -1)),
         fmt_count(conc, sizeof(conc), a, "concurrency"),
         fmt_count(peak, sizeof(peak), a, "max_in_flight"),
         safe_text(url, sizeof(url), get_str(a, "url")));
}

static void render_account_traffic(struct view *v, json_object *a)
{
    char req[32], bytes[32], retries[32], r429[32], wait[32];

    fmt_elapsed(wait, sizeof(wait), num_or(a, "rate_wait_seconds", -1));
    line(v, "  requests %s  received %s  retries %s  429s %s  rate-limit wait %s",
         fmt_count(req, sizeof(req), a, "requests"), fmt_bytes_of(bytes, sizeof(bytes), a, "bytes"),
         fmt_count(retries, sizeof(retries), a, "retries"),
         fmt_count(r429, sizeof(r429), a, "rate_limited"), wait);
}

/* "server 2, network 1" or "none" into buf. */
static void fmt_error_counts(char *buf, size_t len, json_object *errors)
{
    size_t o = 0;

    snprintf(buf, len, "none");
    if (!errors)
        return;
    json_object_object_foreach(errors, key, val)
    {
        char k[TEXT_BYTES], n[32];

        if (o + 1 >= len)
            break;
        o += (size_t)snprintf(buf + o, len - o, "%s%s %s", o ? ", " : "",
                              safe_text(k, sizeof(k), key), fmt_count(n, sizeof(n), val, "count"));
    }
}

static void render_account_cache(struct view *v, json_object *a)
{
    json_object *cached = get_type(a, "cached", json_type_object);
    char listings[32], bytes[32], stale[32], errs[LINE_BYTES / 2];

    fmt_error_counts(errs, sizeof(errs), get_type(a, "errors", json_type_object));
    line(v, "  cached %s listings, %s, %s stale  errors: %s",
         fmt_count(listings, sizeof(listings), cached, "listings"),
         fmt_bytes_of(bytes, sizeof(bytes), cached, "bytes"),
         fmt_count(stale, sizeof(stale), cached, "stale"), errs);
}

/* The class whose last_at is the newest (ISO 8601 UTC compares as text). */
static void render_last_error(struct view *v, json_object *errors)
{
    const char *best_key = NULL, *best_at = NULL;
    json_object *best = NULL;
    char k[TEXT_BYTES], at[TEXT_BYTES], msg[TEXT_BYTES];

    if (!errors)
        return;
    json_object_object_foreach(errors, key, val)
    {
        const char *when = get_str(val, "last_at");

        if (!get_str(val, "last_message"))
            continue;
        if (!best || (when && (!best_at || strcmp(when, best_at) > 0))) {
            best = val;
            best_key = key;
            best_at = when;
        }
    }
    if (!best)
        return;
    line(v, "  last error (%s, %s):", safe_text(k, sizeof(k), best_key),
         safe_text(at, sizeof(at), best_at));
    line_wrapped(v, "    ", safe_text(msg, sizeof(msg), get_str(best, "last_message")), 3);
}

/* ---- fetches in flight ---- */

struct progress {
    double pages, pages_total, records, records_total, seconds;
};

static void progress_of(json_object *f, struct progress *p)
{
    p->pages = num_or(f, "pages_done", -1);
    p->pages_total = num_or(f, "pages_total", -1);
    p->records = num_or(f, "records", -1);
    p->records_total = num_or(f, "records_total", -1);
    p->seconds = num_or(f, "seconds", -1);
}

/* Fraction done in [0, 1], or -1 when no total is known. */
static double progress_fraction(const struct progress *p)
{
    double f;

    if (p->pages_total > 0 && p->pages >= 0)
        f = p->pages / p->pages_total;
    else if (p->records_total > 0 && p->records >= 0)
        f = p->records / p->records_total;
    else
        return -1;
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

/* Pages still to fetch, or -1 when unknown (from records when only their
 * total is known: records per page so far). */
static double pages_remaining(const struct progress *p)
{
    double left;

    if (p->pages_total > 0 && p->pages >= 0)
        left = p->pages_total - p->pages;
    else if (p->records_total > 0 && p->records > 0 && p->pages > 0)
        left = (p->records_total - p->records) * p->pages / p->records;
    else
        return -1;
    return left < 0 ? 0 : left;
}

/* Seconds left: remaining pages / min(rate limit, observed pages a
 * second); -1 when unknown. */
static double eta_seconds(const struct progress *p, double rate_limit)
{
    double left = pages_remaining(p), speed;

    if (left == 0)
        return 0;
    if (left < 0 || p->seconds <= 0 || p->pages <= 0)
        return -1;
    speed = p->pages / p->seconds;
    if (rate_limit > 0 && rate_limit < speed)
        speed = rate_limit;
    return ceil(left / speed);
}

/* "[######--------------]  30%" or "(total unknown)". */
static void fmt_bar(char *buf, size_t len, double frac, int width)
{
    char cells[64];
    int n = width / 5 < 10 ? 10 : width / 5 > 20 ? 20 : width / 5; /* cells */
    int filled = (int)(frac * n);

    if (frac < 0) {
        snprintf(buf, len, "(total unknown)");
        return;
    }
    memset(cells, '#', (size_t)filled);
    memset(cells + filled, '-', (size_t)(n - filled));
    cells[n] = '\0';
    snprintf(buf, len, "[%s] %3d%%", cells, (int)floor(frac * 100));
}

/* "3/10" or "3/?"; "?" when even the count is missing. */
static void fmt_of(char *buf, size_t len, double done, double total)
{
    if (done < 0)
        snprintf(buf, len, "?");
    else if (total < 0)
        snprintf(buf, len, "%.0f/?", done);
    else
        snprintf(buf, len, "%.0f/%.0f", done, total);
}

static void fmt_record_rate(char *buf, size_t len, const struct progress *p)
{
    double r;

    if (p->records < 0 || p->seconds <= 0) {
        snprintf(buf, len, "? rec/s");
        return;
    }
    r = p->records / p->seconds;
    snprintf(buf, len, r < 10 ? "%.1f rec/s" : "%.0f rec/s", r);
}

static void render_fetch(struct view *v, json_object *f, double rate_limit)
{
    struct progress p;
    char path[TEXT_BYTES], bar[96], pages[64], recs[64], rate[32], eta[32], bytes[32], took[32];
    double e;

    progress_of(f, &p);
    e = eta_seconds(&p, rate_limit);
    fmt_bar(bar, sizeof(bar), progress_fraction(&p), v->width);
    fmt_of(pages, sizeof(pages), p.pages, p.pages_total);
    fmt_of(recs, sizeof(recs), p.records, p.records_total);
    fmt_record_rate(rate, sizeof(rate), &p);
    fmt_duration(eta, sizeof(eta), e);
    line(v, "  fetching %s", safe_text(path, sizeof(path), get_str(f, "path")));
    line(v, "    %s  ETA %s  %s  %s pages  %s records  %s in %s", bar, eta, rate, pages, recs,
         fmt_bytes_of(bytes, sizeof(bytes), f, "bytes"),
         fmt_elapsed(took, sizeof(took), num_or(f, "seconds", -1)));
}

static void render_account(struct view *v, json_object *a)
{
    json_object *errors = get_type(a, "errors", json_type_object);
    json_object *fetches = get_type(a, "fetches", json_type_array);
    double rate_limit = num_or(a, "rate_limit_per_second", 0);

    render_account_head(v, a);
    render_account_traffic(v, a);
    render_account_cache(v, a);
    render_last_error(v, errors);
    for (size_t i = 0; fetches && i < json_object_array_length(fetches); i++)
        render_fetch(v, json_object_array_get_idx(fetches, i), rate_limit);
}

static void render_doc(struct view *v, json_object *root)
{
    json_object *accounts = get_type(root, "accounts", json_type_array);
    size_t n = accounts ? json_object_array_length(accounts) : 0;

    render_header(v, root);
    if (!n)
        line(v, "no accounts");
    for (size_t i = 0; i < n; i++) {
        line(v, "%s", "");
        render_account(v, json_object_array_get_idx(accounts, i));
    }
    if (v->dropped) {
        v->max_lines = 0;
        line(v, "(%d more lines: enlarge the terminal)", v->dropped);
    }
}

/* ---- parsing ---- */

static json_object *parse_json(const char *json, size_t len, char *err, size_t errlen)
{
    json_tokener *tok;
    json_object *root;
    size_t end;

    if (len > INT_MAX) {
        snprintf(err, errlen, "not a campaignfs status document: %zu bytes is too large", len);
        return NULL;
    }
    tok = json_tokener_new();
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    root = json_tokener_parse_ex(tok, json, (int)len);
    end = json_tokener_get_parse_end(tok);
    if (!root && json_tokener_get_error(tok) == json_tokener_continue)
        snprintf(err, errlen, "not JSON: the text ends too early (%zu bytes)", len);
    else if (!root)
        snprintf(err, errlen, "not JSON: %s at byte %zu",
                 json_tokener_error_desc(json_tokener_get_error(tok)), end);
    json_tokener_free(tok);
    while (root && end < len && isspace((unsigned char)json[end]))
        end++;
    if (root && end < len) {
        snprintf(err, errlen, "not JSON: unexpected text after the document at byte %zu", end);
        json_object_put(root);
        return NULL;
    }
    return root;
}

static bool is_status(json_object *root, char *err, size_t errlen)
{
    if (!json_object_is_type(root, json_type_object)) {
        snprintf(err, errlen, "not a campaignfs status document: the JSON is not an object");
        return false;
    }
    if (!json_object_object_get_ex(root, "version", NULL) &&
        !json_object_object_get_ex(root, "pid", NULL) &&
        !json_object_object_get_ex(root, "accounts", NULL)) {
        snprintf(err, errlen, "not a campaignfs status document: no version, pid or accounts");
        return false;
    }
    return true;
}

static int render_view(struct view *v, const char *json, size_t len, char *err, size_t errlen)
{
    json_object *root = parse_json(json, len, err, errlen);

    if (!root)
        return -1;
    if (!is_status(root, err, errlen)) {
        json_object_put(root);
        return -1;
    }
    render_doc(v, root);
    json_object_put(root);
    return 0;
}

static int clamp_width(int width)
{
    return width <= 0 ? 80 : width > WIDTH_MAX ? WIDTH_MAX : width;
}

int statusview_render(const char *json, size_t len, int width, FILE *out, char *err, size_t errlen)
{
    struct view v = {.out = out, .width = clamp_width(width)};

    return render_view(&v, json ? json : "", json ? len : 0, err, errlen);
}

/* ---- reading the file ---- */

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static char *status_path(const char *mountpoint)
{
    size_t n = strlen(mountpoint);
    const char *sep = n && mountpoint[n - 1] == '/' ? "" : "/";
    char *path = malloc(n + sizeof("/.campaignfs/status"));

    if (path)
        snprintf(path, n + sizeof("/.campaignfs/status"), "%s%s.campaignfs/status", mountpoint,
                 sep);
    return path;
}

/* Doubles *buf up to FILE_MAX: 0 or an errno. */
static int grow(char **buf, size_t *cap)
{
    char *bigger;

    if (*cap >= FILE_MAX)
        return EFBIG;
    bigger = realloc(*buf, *cap * 2);
    if (!bigger)
        return ENOMEM;
    *buf = bigger;
    *cap *= 2;
    return 0;
}

/* Reads fd to EOF into *buf (NUL-terminated): 0 or an errno.  A signal
 * that asks to stop ends the read. */
static int read_fd(int fd, char **buf, size_t *cap, size_t *len)
{
    for (;;) {
        ssize_t r;
        int e = *len + 1 >= *cap ? grow(buf, cap) : 0;

        if (e)
            return e;
        r = read(fd, *buf + *len, *cap - *len - 1);
        if (r == 0)
            break;
        if (r < 0 && (errno != EINTR || stop_requested))
            return errno;
        if (r > 0)
            *len += (size_t)r;
    }
    (*buf)[*len] = '\0';
    return 0;
}

/* Reads the whole file to EOF (its size may change between reads; st_size
 * is not trusted).  Returns 0 with *buf (NUL-terminated) and *len, or an
 * errno. */
static int read_whole(const char *path, char **buf, size_t *len)
{
    size_t cap = 8192, n = 0;
    char *b = malloc(cap);
    int fd, e;

    if (!b)
        return ENOMEM;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    e = fd < 0 ? errno : read_fd(fd, &b, &cap, &n);
    if (fd >= 0)
        close(fd);
    if (e) {
        free(b);
        return e;
    }
    *buf = b;
    *len = n;
    return 0;
}

/* What to do about a status file that cannot be read, on one line. */
static void explain_read_error(FILE *errout, const char *mountpoint, const char *path, int e)
{
    char mp[TEXT_BYTES], p[TEXT_BYTES];
    struct stat st;

    safe_text(mp, sizeof(mp), mountpoint);
    safe_text(p, sizeof(p), path);
    if (stat(mountpoint, &st) != 0 && (errno == ENOENT || errno == ENOTDIR))
        fprintf(errout,
                "campaignfs: %s: no such directory: name the directory campaignfs is mounted on\n",
                mp);
    else if (e == ENOENT || e == ENOTDIR)
        fprintf(errout,
                "campaignfs: cannot read %s: %s: is campaignfs mounted there? (mount it with: "
                "campaignfs %s)\n",
                p, strerror(e), mp);
    else if (e == ENOTCONN)
        fprintf(errout,
                "campaignfs: cannot read %s: %s: the campaignfs of %s is gone; unmount it with: "
                "fusermount3 -u %s, and mount it again\n",
                p, strerror(e), mp, mp);
    else if (e == EACCES || e == EPERM)
        fprintf(errout,
                "campaignfs: cannot read %s: %s: the mount is another user's (mount with -o "
                "allow_other to share it)\n",
                p, strerror(e));
    else
        fprintf(errout, "campaignfs: cannot read %s: %s: is campaignfs mounted on %s?\n", p,
                strerror(e), mp);
}

/* Reads and renders one frame onto v; -1 with a reason in err. */
static int load_and_render(struct view *v, const char *path, char *err, size_t errlen, int *errnum)
{
    char *buf;
    size_t len;
    int e = read_whole(path, &buf, &len), rc;

    *errnum = e;
    if (e) {
        snprintf(err, errlen, "%s", strerror(e));
        return -1;
    }
    rc = render_view(v, buf, len, err, errlen);
    free(buf);
    return rc;
}

/* ---- the watch loop ---- */

struct saved_signals {
    struct sigaction intr, term;
};

/* SIGINT and SIGTERM set a flag; no SA_RESTART, so a sleep or a read
 * ends at once with EINTR. */
static void signals_install(struct saved_signals *saved)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    stop_requested = 0;
    sigaction(SIGINT, &sa, &saved->intr);
    sigaction(SIGTERM, &sa, &saved->term);
    if (saved->intr.sa_handler == SIG_IGN) /* a background job: keep ignoring ^C */
        sigaction(SIGINT, &saved->intr, NULL);
}

static void signals_restore(const struct saved_signals *saved)
{
    sigaction(SIGINT, &saved->intr, NULL);
    sigaction(SIGTERM, &saved->term, NULL);
}

static void sleep_until_next_frame(void)
{
    struct timespec left = {1, 0};

    while (!stop_requested) {
        if (nanosleep(&left, &left) == 0 || errno != EINTR)
            break;
    }
}

static void terminal_size(FILE *out, bool tty, int *cols, int *rows)
{
    struct winsize ws;
    const char *env = getenv("COLUMNS");

    *cols = env ? atoi(env) : 0;
    *rows = 0;
    if (tty && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) {
        *cols = ws.ws_col;
        *rows = ws.ws_row;
    }
    *cols = clamp_width(*cols);
}

/* A frame's text onto a terminal: from the top left, each line cleared to
 * its end, the rest of the screen cleared. */
static void draw_in_place(FILE *out, const char *frame, size_t len)
{
    fputs("\x1b[?25l\x1b[H", out); /* cursor hidden while redrawing, home */
    for (size_t i = 0; i < len; i++) {
        if (frame[i] == '\n')
            fputs("\x1b[K", out);
        fputc(frame[i], out);
    }
    fputs("\x1b[J", out);
}

/* Reads and renders one frame, and draws it unless it is the first and
 * failed.  Returns 0, or -1 (err, errnum) when the file could not be read
 * or rendered. */
static int draw_frame(FILE *out, bool tty, bool first, const char *path, char *err, size_t errlen,
                      int *errnum)
{
    char *frame = NULL, p[TEXT_BYTES], e[TEXT_BYTES];
    size_t len = 0;
    FILE *mem = open_memstream(&frame, &len);
    struct view v = {.out = mem};
    int rc, rows;

    *errnum = ENOMEM;
    snprintf(err, errlen, "out of memory");
    if (!mem)
        return -1;
    terminal_size(out, tty, &v.width, &rows);
    v.max_lines = tty && rows > 1 ? rows - 1 : 0; /* a last newline must not scroll */
    rc = load_and_render(&v, path, err, errlen, errnum);
    if (rc != 0) {
        line(&v, "campaignfs: cannot show %s:", safe_text(p, sizeof(p), path));
        line(&v, "  %s (trying again every second)", safe_text(e, sizeof(e), err));
    }
    fclose(mem);
    if (rc == 0 || (!first && !stop_requested)) {
        if (tty)
            draw_in_place(out, frame, len);
        else
            fprintf(out, "%.*s\n", (int)len, frame);
        fflush(out);
    }
    free(frame);
    return rc;
}

/* A message on errout naming the path and what to do; returns 1. */
static int report_failure(FILE *errout, const char *mountpoint, const char *path, const char *err,
                          int errnum)
{
    char p[TEXT_BYTES], mp[TEXT_BYTES];

    if (errnum)
        explain_read_error(errout, mountpoint, path, errnum);
    else
        fprintf(errout, "campaignfs: %s: %s: is campaignfs mounted on %s?\n",
                safe_text(p, sizeof(p), path), err, safe_text(mp, sizeof(mp), mountpoint));
    return 1;
}

static int watch(const char *mountpoint, const char *path, int frames, FILE *out, FILE *errout)
{
    struct saved_signals saved;
    bool tty = isatty(fileno(out));
    char err[TEXT_BYTES];
    int errnum, rc = 0;

    signals_install(&saved);
    for (int n = 0; !stop_requested && !ferror(out);) {
        if (draw_frame(out, tty, n == 0, path, err, sizeof(err), &errnum) != 0 && n == 0) {
            if (!stop_requested) /* ^C during the first read is no failure */
                rc = report_failure(errout, mountpoint, path, err, errnum);
            break;
        }
        n++;
        if (frames > 0 && n >= frames)
            break;
        sleep_until_next_frame();
    }
    if (tty && rc == 0)
        fputs("\x1b[?25h", out); /* the cursor back */
    fflush(out);
    signals_restore(&saved);
    return rc ? rc : ferror(out) ? 1 : 0;
}

static int show_once(const char *mountpoint, const char *path, FILE *out, FILE *errout)
{
    struct view v = {.out = out};
    char err[TEXT_BYTES];
    int errnum, rows;

    terminal_size(out, isatty(fileno(out)), &v.width, &rows);
    if (load_and_render(&v, path, err, sizeof(err), &errnum) != 0)
        return report_failure(errout, mountpoint, path, err, errnum);
    fflush(out);
    return ferror(out) ? 1 : 0;
}

int statusview_run(const char *mountpoint, bool watch_mode, int frames, FILE *out, FILE *errout)
{
    char *path = status_path(mountpoint);
    int rc;

    if (!path) {
        fprintf(errout, "campaignfs: out of memory\n");
        return 1;
    }
    if (watch_mode)
        rc = watch(mountpoint, path, frames, out, errout);
    else
        rc = show_once(mountpoint, path, out, errout);
    free(path);
    return rc;
}

int statusview_main(const char *mountpoint, bool watch_mode)
{
    return statusview_run(mountpoint, watch_mode, 0, stdout, stderr);
}
