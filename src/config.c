/**
 * @file config.c
 * Loading the configuration file with libinih: one [section] per account,
 * validated key by key as libinih hands them over and section by section
 * once a section is complete (provider may come last).  Errors are one
 * line, "FILE:LINE: [SECTION] key 'KEY': what is wrong; what to do", and
 * never quote a credential.
 *
 * The file is read through one descriptor: who owns it and who may read
 * or change it is checked with fstat() on that descriptor (see
 * config_load() in config.h), never by a second lookup of the path.
 *
 * libinih's handler sees neither the line number nor the section headers
 * themselves (so it cannot tell an empty or repeated [section]).  We feed
 * ini_parse_stream() through our own line reader: it counts lines and
 * notices "[name]" header lines as they go by, while libinih does all the
 * parsing of key = value lines.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provider.h"
#include "rate.h"

#define CONFIG_LINE_MAX  8192 /* bytes per line, without its line end */
#define CONCURRENCY_MAX  64
#define SECTION_NAME_MAX 255 /* it becomes a directory name */
#define MESSAGE_MAX      1024
#define QUOTE_MAX        512 /* longest config text quoted back in a message */

enum key_scope {
    SCOPE_ANY,     /* every provider */
    SCOPE_API_KEY, /* providers with an API key (Altur, Burki, Truedy) */
    SCOPE_KOREAI,  /* Kore.ai */
};

enum cred_group { GROUP_NONE, GROUP_API_KEY, GROUP_CLIENT_SECRET, GROUP_JWT };

struct parser;
struct key_spec;

typedef int (*key_store_fn)(struct parser *ps, const struct key_spec *spec, const char *value);

struct key_spec {
    const char *name;
    enum key_scope scope;
    key_store_fn store;
    enum cred_group group;     /* credential keys: which secret_ref */
    enum secret_source source; /* credential keys: how to read it */
    size_t field;              /* plain string keys: offsetof in account_config */
};

/* State of one config_load(). */
struct parser {
    FILE *fp;
    const char *path; /* as given: messages */
    char *abs_path;   /* absolute: paths relative to the file; becomes cfg->path */
    struct stat st;   /* of the opened file */
    int line;         /* number of the line being parsed */
    char *buf;        /* getline() buffer */
    size_t buf_size;
    struct config *cfg;
    size_t cap;      /* allocated accounts */
    bool in_section; /* the last account is still being read */
    int *key_lines;  /* per key_specs[] entry: line in this section, 0 = not given */
    bool failed;
    char *err;
    size_t errlen;
};

static int store_provider(struct parser *ps, const struct key_spec *spec, const char *value);
static int store_url(struct parser *ps, const struct key_spec *spec, const char *value);
static int store_string(struct parser *ps, const struct key_spec *spec, const char *value);
static int store_secret(struct parser *ps, const struct key_spec *spec, const char *value);
static int store_ttl(struct parser *ps, const struct key_spec *spec, const char *value);
static int store_campaigns(struct parser *ps, const struct key_spec *spec, const char *value);
static int store_rate_limit(struct parser *ps, const struct key_spec *spec, const char *value);
static int store_concurrency(struct parser *ps, const struct key_spec *spec, const char *value);
static int store_cacert(struct parser *ps, const struct key_spec *spec, const char *value);

#define ACCOUNT_FIELD(f) offsetof(struct account_config, f)

static const struct key_spec key_specs[] = {
    {"provider", SCOPE_ANY, store_provider, GROUP_NONE, SECRET_NONE, 0},
    {"url", SCOPE_ANY, store_url, GROUP_NONE, SECRET_NONE, 0},
    {"api_key", SCOPE_API_KEY, store_secret, GROUP_API_KEY, SECRET_VALUE, 0},
    {"api_key_file", SCOPE_API_KEY, store_secret, GROUP_API_KEY, SECRET_FILE, 0},
    {"api_key_env", SCOPE_API_KEY, store_secret, GROUP_API_KEY, SECRET_ENV, 0},
    {"api_key_command", SCOPE_API_KEY, store_secret, GROUP_API_KEY, SECRET_COMMAND, 0},
    {"stream_id", SCOPE_KOREAI, store_string, GROUP_NONE, SECRET_NONE, ACCOUNT_FIELD(stream_id)},
    {"account_id", SCOPE_KOREAI, store_string, GROUP_NONE, SECRET_NONE, ACCOUNT_FIELD(account_id)},
    {"client_id", SCOPE_KOREAI, store_string, GROUP_NONE, SECRET_NONE, ACCOUNT_FIELD(client_id)},
    {"client_secret", SCOPE_KOREAI, store_secret, GROUP_CLIENT_SECRET, SECRET_VALUE, 0},
    {"client_secret_file", SCOPE_KOREAI, store_secret, GROUP_CLIENT_SECRET, SECRET_FILE, 0},
    {"client_secret_env", SCOPE_KOREAI, store_secret, GROUP_CLIENT_SECRET, SECRET_ENV, 0},
    {"client_secret_command", SCOPE_KOREAI, store_secret, GROUP_CLIENT_SECRET, SECRET_COMMAND, 0},
    {"jwt", SCOPE_KOREAI, store_secret, GROUP_JWT, SECRET_VALUE, 0},
    {"jwt_file", SCOPE_KOREAI, store_secret, GROUP_JWT, SECRET_FILE, 0},
    {"ttl", SCOPE_ANY, store_ttl, GROUP_NONE, SECRET_NONE, 0},
    {"campaigns", SCOPE_ANY, store_campaigns, GROUP_NONE, SECRET_NONE, 0},
    {"rate_limit", SCOPE_ANY, store_rate_limit, GROUP_NONE, SECRET_NONE, 0},
    {"concurrency", SCOPE_ANY, store_concurrency, GROUP_NONE, SECRET_NONE, 0},
    {"cacert", SCOPE_ANY, store_cacert, GROUP_NONE, SECRET_NONE, 0},
};

#define KEY_COUNT (sizeof(key_specs) / sizeof(key_specs[0]))

static const char *const group_choices[] = {
    [GROUP_NONE] = "",
    [GROUP_API_KEY] = "api_key, api_key_file, api_key_env or api_key_command",
    [GROUP_CLIENT_SECRET] =
        "client_secret, client_secret_file, client_secret_env or client_secret_command",
    [GROUP_JWT] = "jwt or jwt_file",
};

#define KEY_NAMES                                                                                  \
    "provider, url, api_key[_file|_env|_command], stream_id, account_id, client_id, "              \
    "client_secret[_file|_env|_command], jwt[_file], ttl, campaigns, rate_limit, concurrency, "    \
    "cacert (see campaignfs.conf(5))"

/* ---- errors ---- */

/* Writes the first error: "PATH:LINE: [SECTION] key 'KEY': message".  line
 * 0 leaves out ":LINE", a NULL section or key leaves out that part. */
__attribute__((format(printf, 5, 6))) static void
parser_fail(struct parser *ps, int line, const char *section, const char *key, const char *fmt, ...)
{
    char where[64] = "", sect[SECTION_NAME_MAX + 8] = "", what[MESSAGE_MAX];
    char keypart[128] = "";
    va_list ap;

    if (ps->failed)
        return;
    ps->failed = true;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(where, sizeof(where), ":%d", line);
    if (section)
        snprintf(sect, sizeof(sect), " [%s]", section);
    if (key)
        snprintf(keypart, sizeof(keypart), " key '%s'", key);
    snprintf(ps->err, ps->errlen, "%s%s%s%s%s: %s", ps->path, where, section || key ? ":" : "",
             sect, keypart, what);
}

static struct account_config *parser_account(struct parser *ps)
{
    return ps->in_section ? &ps->cfg->accounts[ps->cfg->n_accounts - 1] : NULL;
}

/* parser_fail() for the key being parsed in the current section. */
#define key_fail(ps, spec, ...)                                                                    \
    parser_fail((ps), (ps)->line, parser_account(ps)->name, (spec)->name, __VA_ARGS__)

/* ---- quoting config text in messages ---- */

static bool token_char(unsigned char c)
{
    return isalnum(c) || c == '+' || c == '=' || c == '-';
}

/* Whether text[0..len), a run of token_char()s, has the shape of a key or a
 * token rather than of a word. */
static bool token_looks_secret(const char *text, size_t len)
{
    bool digit = false, alpha = false, lower = false, inner_upper = false;

    if (len >= 32)
        return true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];

        digit = digit || isdigit(c);
        alpha = alpha || isalpha(c);
        lower = lower || islower(c);
        inner_upper = inner_upper || (i > 0 && isupper(c));
    }
    return len >= 8 && ((digit && alpha) || (lower && inner_upper));
}

bool config_text_quotable(const char *text)
{
    size_t len, start = 0;

    for (len = 0; text[len]; len++)
        if (len >= QUOTE_MAX || text[len] < 0x20 || text[len] > 0x7e)
            return false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && token_char((unsigned char)text[i]))
            continue;
        if (token_looks_secret(text + start, i - start))
            return false;
        start = i + 1;
    }
    return true;
}

/* "'text'" for a message when the text may be quoted, else instead. */
static const char *quoted(const char *text, const char *instead, char *buf, size_t size)
{
    if (!config_text_quotable(text))
        return instead;
    snprintf(buf, size, "'%s'", text);
    return buf;
}

/* ---- values ---- */

/* Parses a whole decimal number (optional '-').  Returns 0, -1 when it is
 * not one, -2 when it does not fit in a long. */
static int whole_number_parse(const char *text, long *out)
{
    const char *p = text;
    char *end;

    if (*p == '-')
        p++;
    if (!isdigit((unsigned char)*p))
        return -1;
    errno = 0;
    *out = strtol(text, &end, 10);
    if (*end != '\0')
        return -1;
    return errno == ERANGE ? -2 : 0;
}

static int store_provider(struct parser *ps, const struct key_spec *spec, const char *value)
{
    const struct provider *p = provider_find(value);
    const struct provider *const *all = provider_all();
    char names[256] = "", shown[QUOTE_MAX + 3];
    size_t used = 0;

    if (p) {
        parser_account(ps)->provider = p;
        return 0;
    }
    for (size_t i = 0; all[i] && used < sizeof(names); i++)
        used += (size_t)snprintf(names + used, sizeof(names) - used, "%s%s",
                                 i == 0 ? "" : (all[i + 1] ? ", " : " or "), all[i]->name);
    key_fail(ps, spec, "%s is not a known provider; use %s",
             quoted(value, "the value", shown, sizeof(shown)), names);
    return -1;
}

/* The length of url's "http://" or "https://" (any case), 0 if neither. */
static size_t url_scheme_length(const char *url)
{
    if (strncasecmp(url, "https://", 8) == 0)
        return 8;
    return strncasecmp(url, "http://", 7) == 0 ? 7 : 0;
}

/* Writes why url cannot be a base URL, quoting it only when it has no
 * user info, query or fragment (where credentials hide).  0 or -1. */
static int url_check(struct parser *ps, const struct key_spec *spec, const char *url)
{
    size_t scheme = url_scheme_length(url);
    size_t authority = scheme ? strcspn(url + scheme, "/?#") : 0;
    char shown[QUOTE_MAX + 3];

    if (!scheme || authority == 0) {
        key_fail(ps, spec, "%s must start with http:// or https:// and a host name",
                 strpbrk(url, "@?#") ? "the URL" : quoted(url, "the URL", shown, sizeof(shown)));
        return -1;
    }
    if (memchr(url + scheme, '@', authority)) {
        key_fail(ps, spec,
                 "the URL holds a user name or password (before '@'); remove it, a credential "
                 "goes in the account's credential key (see campaignfs.conf(5))");
        return -1;
    }
    if (strpbrk(url, "?#")) {
        key_fail(ps, spec,
                 "the URL has a query or fragment ('?' or '#'); give only the base URL that the "
                 "API paths are appended to, and a credential in the account's credential key");
        return -1;
    }
    return 0;
}

static int store_url(struct parser *ps, const struct key_spec *spec, const char *value)
{
    struct account_config *acc = parser_account(ps);
    size_t len = strlen(value);

    if (url_check(ps, spec, value) < 0)
        return -1;
    while (len > 0 && value[len - 1] == '/')
        len--;
    acc->url = strndup(value, len);
    return acc->url ? 0 : -1;
}

static int store_string(struct parser *ps, const struct key_spec *spec, const char *value)
{
    char **field = (char **)((char *)parser_account(ps) + spec->field);

    *field = strdup(value);
    return *field ? 0 : -1;
}

static struct secret_ref *account_secret(struct account_config *acc, enum cred_group group)
{
    switch (group) {
    case GROUP_API_KEY:
        return &acc->api_key;
    case GROUP_CLIENT_SECRET:
        return &acc->client_secret;
    case GROUP_JWT:
        return &acc->jwt;
    case GROUP_NONE:
        break;
    }
    return NULL;
}

/* Whether name can be an environment variable's name: letters, digits
 * and '_', not starting with a digit. */
static bool env_name_valid(const char *name)
{
    if (!isalpha((unsigned char)*name) && *name != '_')
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_')
            return false;
    return true;
}

static int store_secret(struct parser *ps, const struct key_spec *spec, const char *value)
{
    struct secret_ref *ref = account_secret(parser_account(ps), spec->group);

    if (spec->source == SECRET_ENV && !env_name_valid(value)) {
        key_fail(ps, spec,
                 "the value is not the name of an environment variable (letters, digits and "
                 "'_', not starting with a digit); write the variable's name, e.g. "
                 "ALTUR_API_KEY, not the credential");
        return -1;
    }
    ref->value = strdup(value);
    if (!ref->value)
        return -1;
    ref->source = spec->source;
    ref->key = spec->name;
    ref->line = ps->line;
    return 0;
}

static int store_ttl(struct parser *ps, const struct key_spec *spec, const char *value)
{
    long ttl = 0;
    int rc = whole_number_parse(value, &ttl);
    char shown[QUOTE_MAX + 3];
    const char *what = quoted(value, "the value", shown, sizeof(shown));

    if (rc == -1) {
        key_fail(ps, spec, "%s is not a whole number of seconds; write e.g. ttl = 300", what);
        return -1;
    }
    if (rc == -2) {
        key_fail(ps, spec, "%s is too large; write a number of seconds such as 86400", what);
        return -1;
    }
    if (ttl < 0) {
        key_fail(ps, spec, "%s is negative; use 0 or more seconds", what);
        return -1;
    }
    parser_account(ps)->ttl = ttl;
    return 0;
}

static int store_concurrency(struct parser *ps, const struct key_spec *spec, const char *value)
{
    long n;
    int rc = whole_number_parse(value, &n);
    char shown[QUOTE_MAX + 3];
    const char *what = quoted(value, "the value", shown, sizeof(shown));

    if (rc == -1) {
        key_fail(ps, spec, "%s is not a whole number; use 1 to %d parallel requests", what,
                 CONCURRENCY_MAX);
        return -1;
    }
    if (rc == -2 || n < 1 || n > CONCURRENCY_MAX) {
        key_fail(ps, spec, "%s is out of range; use 1 to %d parallel requests", what,
                 CONCURRENCY_MAX);
        return -1;
    }
    parser_account(ps)->concurrency = (int)n;
    return 0;
}

static int store_rate_limit(struct parser *ps, const struct key_spec *spec, const char *value)
{
    double rate;
    char shown[QUOTE_MAX + 3];

    if (rate_parse(value, &rate) < 0) {
        key_fail(ps, spec, "%s is not a rate; write e.g. 12/s, 100/min, 5/h, or 0 for no limit",
                 quoted(value, "the value", shown, sizeof(shown)));
        return -1;
    }
    parser_account(ps)->rate_limit = rate;
    return 0;
}

/* Copies text[0..len) without surrounding white space. */
static char *trimmed_copy(const char *text, size_t len)
{
    while (len > 0 && isspace((unsigned char)*text)) {
        text++;
        len--;
    }
    while (len > 0 && isspace((unsigned char)text[len - 1]))
        len--;
    return strndup(text, len);
}

static void string_list_free(char **list)
{
    if (!list)
        return;
    for (size_t i = 0; list[i]; i++)
        free(list[i]);
    free(list);
}

static int store_campaigns(struct parser *ps, const struct key_spec *spec, const char *value)
{
    size_t n = 1, i = 0;
    const char *item = value;
    char **list;

    for (const char *p = value; *p; p++)
        n += *p == ',';
    list = calloc(n + 1, sizeof(*list));
    if (!list)
        return -1;
    for (i = 0; i < n; i++) {
        const char *comma = strchr(item, ',');
        size_t len = comma ? (size_t)(comma - item) : strlen(item);

        list[i] = trimmed_copy(item, len);
        if (!list[i])
            break;
        if (!*list[i]) {
            key_fail(ps, spec,
                     "item %zu of the list is empty; separate campaign ids with single "
                     "commas, e.g. campaigns = 12, 40",
                     i + 1);
            break;
        }
        item = comma ? comma + 1 : item + len;
    }
    if (i < n) {
        string_list_free(list);
        return -1;
    }
    parser_account(ps)->campaigns = list;
    return 0;
}

char *config_expand_path(const char *value, const char *config_path)
{
    const char *home = getenv("HOME");
    const char *slash;
    char *out = NULL;

    if (value[0] == '/' || !config_path)
        return strdup(value);
    if (strncmp(value, "~/", 2) == 0 && home && *home) {
        if (asprintf(&out, "%s/%s", home, value + 2) < 0)
            return NULL;
        return out;
    }
    slash = strrchr(config_path, '/');
    if (!slash)
        return strdup(value);
    if (asprintf(&out, "%.*s/%s", (int)(slash - config_path), config_path, value) < 0)
        return NULL;
    return out;
}

/* Whether the open file fp has a PEM certificate line among its first
 * 65536 lines (pieces of at most 255 bytes): a large file of anything else
 * is not read to its end. */
static bool file_has_pem_certificate(FILE *fp)
{
    char line[256];

    for (int i = 0; i < 65536 && fgets(line, sizeof(line), fp); i++)
        if (strstr(line, "-----BEGIN CERTIFICATE-----"))
            return true;
    return false;
}

/* cacert: an existing, readable regular file with a PEM certificate. */
static int cacert_check(struct parser *ps, const struct key_spec *spec, const char *path)
{
    char shown[QUOTE_MAX + 3];
    const char *name = quoted(path, "the file it names", shown, sizeof(shown));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat st;
    FILE *fp;
    bool pem;

    if (fd < 0) {
        key_fail(
            ps, spec,
            "cannot open %s: %s; give the path of a readable PEM file with the CA "
            "certificate(s) of the provider's server, e.g. cacert = ~/.config/campaignfs/ca.pem",
            name, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        key_fail(ps, spec,
                 "%s is not a regular file; give the path of a PEM file with the CA "
                 "certificate(s)",
                 name);
        return -1;
    }
    fp = fdopen(fd, "r");
    pem = fp && file_has_pem_certificate(fp);
    if (fp)
        fclose(fp);
    else
        close(fd);
    if (!pem)
        key_fail(ps, spec,
                 "%s holds no PEM certificate (no '-----BEGIN CERTIFICATE-----' line); convert a "
                 "DER file with: openssl x509 -inform der -in FILE -out FILE.pem",
                 name);
    return pem ? 0 : -1;
}

static int store_cacert(struct parser *ps, const struct key_spec *spec, const char *value)
{
    char *path = config_expand_path(value, ps->abs_path);

    if (!path)
        return -1;
    if (cacert_check(ps, spec, path) < 0) {
        free(path);
        return -1;
    }
    parser_account(ps)->cacert = path;
    return 0;
}

/* ---- key = value lines ---- */

static const struct key_spec *key_spec_find(const char *name, size_t *index)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        if (strcmp(key_specs[i].name, name) == 0) {
            *index = i;
            return &key_specs[i];
        }
    }
    return NULL;
}

/* The earlier key of the same credential group already in this section. */
static const struct key_spec *key_group_conflict(const struct parser *ps,
                                                 const struct key_spec *spec)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (key_specs[i].group == spec->group && ps->key_lines[i])
            return &key_specs[i];
    return NULL;
}

/* Checks a key before its value is stored.  Returns 0 or -1. */
static int key_check(struct parser *ps, const struct key_spec *spec, size_t index,
                     const char *value)
{
    const struct key_spec *other;

    if (ps->key_lines[index]) {
        key_fail(ps, spec, "given twice (first on line %d); keep only one", ps->key_lines[index]);
        return -1;
    }
    other = spec->group != GROUP_NONE ? key_group_conflict(ps, spec) : NULL;
    if (other) {
        key_fail(ps, spec, "%s is already given on line %d; give only one of %s", other->name,
                 ps->key_lines[other - key_specs], group_choices[spec->group]);
        return -1;
    }
    if (!*value) {
        key_fail(ps, spec, "the value is empty; give a value or remove the line");
        return -1;
    }
    return 0;
}

/* An unknown key: its name is not quoted when it has the shape of a
 * credential (a secret pasted on a line of its own, "key=" in base64). */
static void key_unknown_fail(struct parser *ps, const char *name)
{
    const char *section = parser_account(ps)->name;

    if (config_text_quotable(name))
        parser_fail(ps, ps->line, section, name, "unknown key; the keys are " KEY_NAMES);
    else
        parser_fail(ps, ps->line, section, NULL,
                    "unknown key (its name is not shown: it has the shape of a credential; a "
                    "credential needs its key, e.g. api_key_file = PATH); the keys are " KEY_NAMES);
}

/* libinih handler: one key = value line.  Returns 1 to go on, 0 to stop. */
static int config_handle_key(void *user, const char *section, const char *name, const char *value)
{
    struct parser *ps = user;
    const struct key_spec *spec;
    size_t index = 0;

    (void)section; /* the reader tracks sections: libinih truncates long names */
    if (ps->failed)
        return 0;
    if (!ps->in_section) {
        if (config_text_quotable(name))
            parser_fail(ps, ps->line, NULL, name,
                        "outside any section; put it under an [account] header");
        else
            parser_fail(ps, ps->line, NULL, NULL,
                        "a key outside any section (its name is not shown: it has the shape of a "
                        "credential); put it under an [account] header");
        return 0;
    }
    spec = key_spec_find(name, &index);
    if (!spec) {
        key_unknown_fail(ps, name);
        return 0;
    }
    if (key_check(ps, spec, index, value) < 0)
        return 0;
    ps->key_lines[index] = ps->line;
    if (spec->store(ps, spec, value) < 0) {
        parser_fail(ps, ps->line, parser_account(ps)->name, name, "out of memory");
        return 0;
    }
    return 1;
}

/* ---- completing a section ---- */

/* Rejects the first key (by line) that the account's provider does not use. */
static int section_check_scope(struct parser *ps, struct account_config *acc)
{
    bool koreai = acc->provider->auth == AUTH_KOREAI;
    enum key_scope foreign = koreai ? SCOPE_API_KEY : SCOPE_KOREAI;
    const struct key_spec *worst = NULL;
    int worst_line = 0;

    for (size_t i = 0; i < KEY_COUNT; i++) {
        int line = ps->key_lines[i];

        if (key_specs[i].scope == foreign && line && (!worst || line < worst_line)) {
            worst = &key_specs[i];
            worst_line = line;
        }
    }
    if (!worst)
        return 0;
    if (koreai)
        parser_fail(ps, worst_line, acc->name, worst->name,
                    "not used by provider koreai, which signs in with client_id and "
                    "client_secret (or a ready jwt); remove it");
    else
        parser_fail(ps, worst_line, acc->name, worst->name,
                    "only koreai accounts use it, not provider %s; remove it", acc->provider->name);
    return -1;
}

static int section_check_api_key(struct parser *ps, struct account_config *acc)
{
    if (acc->api_key.source != SECRET_NONE)
        return 0;
    parser_fail(ps, acc->line, acc->name, "api_key",
                "missing: the account has no credential; give one of %s",
                group_choices[GROUP_API_KEY]);
    return -1;
}

static int section_check_koreai_ids(struct parser *ps, struct account_config *acc)
{
    if (!acc->stream_id) {
        parser_fail(ps, acc->line, acc->name, "stream_id",
                    "missing; set stream_id to the bot's stream id (st-...)");
        return -1;
    }
    if (!acc->account_id) {
        parser_fail(ps, acc->line, acc->name, "account_id",
                    "missing; set account_id to the Kore.ai account id");
        return -1;
    }
    return 0;
}

/* Kore.ai: client_id with exactly one client secret, or a ready jwt. */
static int section_check_koreai_auth(struct parser *ps, struct account_config *acc)
{
    bool has_client = acc->client_id || acc->client_secret.source != SECRET_NONE;

    if (has_client && acc->jwt.source != SECRET_NONE) {
        parser_fail(ps, acc->jwt.line, acc->name, acc->jwt.key,
                    "client_id/client_secret are given too; use either client_id with a client "
                    "secret, or a ready jwt/jwt_file, not both");
        return -1;
    }
    if (!has_client && acc->jwt.source == SECRET_NONE) {
        parser_fail(ps, acc->line, acc->name, "client_id",
                    "missing: the account has no credential; give client_id with one of %s, or "
                    "a ready jwt or jwt_file",
                    group_choices[GROUP_CLIENT_SECRET]);
        return -1;
    }
    if (has_client && !acc->client_id) {
        parser_fail(ps, acc->line, acc->name, "client_id",
                    "missing; the client secret needs client_id, the app's client id (cs-...)");
        return -1;
    }
    if (has_client && acc->client_secret.source == SECRET_NONE) {
        parser_fail(ps, acc->line, acc->name, "client_secret", "missing; client_id needs one of %s",
                    group_choices[GROUP_CLIENT_SECRET]);
        return -1;
    }
    return 0;
}

static int section_fill_defaults(struct parser *ps, struct account_config *acc)
{
    if (acc->url)
        return 0;
    acc->url = strdup(acc->provider->default_url);
    if (!acc->url)
        parser_fail(ps, acc->line, acc->name, NULL, "out of memory");
    return acc->url ? 0 : -1;
}

/* Validates the section just read, now that all its keys are known. */
static int section_finish(struct parser *ps)
{
    struct account_config *acc = parser_account(ps);

    if (!acc)
        return 0;
    ps->in_section = false;
    if (!acc->provider) {
        parser_fail(ps, acc->line, acc->name, "provider",
                    "missing; add provider = altur, burki, truedy or koreai");
        return -1;
    }
    if (section_check_scope(ps, acc) < 0)
        return -1;
    if (acc->provider->auth == AUTH_KOREAI) {
        if (section_check_koreai_ids(ps, acc) < 0 || section_check_koreai_auth(ps, acc) < 0)
            return -1;
    } else if (section_check_api_key(ps, acc) < 0) {
        return -1;
    }
    return section_fill_defaults(ps, acc);
}

/* ---- starting a section ---- */

/* Whether name can be a directory name: writes the error if not. */
static int section_name_check(struct parser *ps, const char *name)
{
    const char *why = NULL;

    if (!*name)
        why = "the section name is empty; name the account, e.g. [altur]";
    else if (strlen(name) > SECTION_NAME_MAX)
        why = "the section name is longer than 255 bytes; it must fit a directory name";
    else if (strchr(name, '/'))
        why = "the section name contains '/'; it becomes a directory name, use e.g. [altur-prod]";
    else if (name[0] == '.')
        why = "the section name starts with '.' (., .., hidden names and .campaignfs are "
              "reserved); it becomes a directory name, use e.g. [altur]";
    if (!why)
        return 0;
    parser_fail(ps, ps->line, name, NULL, "%s", why);
    return -1;
}

static int section_duplicate_check(struct parser *ps, const char *name)
{
    for (size_t i = 0; i < ps->cfg->n_accounts; i++) {
        if (strcmp(ps->cfg->accounts[i].name, name) == 0) {
            parser_fail(ps, ps->line, name, NULL,
                        "the section appears twice (first on line %d); each account needs its "
                        "own name",
                        ps->cfg->accounts[i].line);
            return -1;
        }
    }
    return 0;
}

static struct account_config *accounts_append(struct parser *ps)
{
    struct config *cfg = ps->cfg;
    struct account_config *acc;

    if (cfg->n_accounts == ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 4;
        struct account_config *grown = realloc(cfg->accounts, cap * sizeof(*grown));

        if (!grown)
            return NULL;
        cfg->accounts = grown;
        ps->cap = cap;
    }
    acc = &cfg->accounts[cfg->n_accounts++];
    memset(acc, 0, sizeof(*acc));
    acc->ttl = -1;
    acc->rate_limit = -1;
    return acc;
}

/* A "[name]" line: completes the previous section, starts the next. */
static int section_start(struct parser *ps, const char *name)
{
    struct account_config *acc;

    if (section_finish(ps) < 0 || section_name_check(ps, name) < 0 ||
        section_duplicate_check(ps, name) < 0)
        return -1;
    acc = accounts_append(ps);
    if (acc)
        acc->name = strdup(name);
    if (!acc || !acc->name) {
        parser_fail(ps, ps->line, name, NULL, "out of memory");
        return -1;
    }
    acc->line = ps->line;
    ps->in_section = true;
    memset(ps->key_lines, 0, KEY_COUNT * sizeof(*ps->key_lines));
    return 0;
}

/* If line is a section header as libinih reads it ('[' after optional
 * white space, up to the first ']'), starts that section.  The name is
 * taken without surrounding white space.  Returns 0 or -1. */
static int line_note_section(struct parser *ps, const char *line)
{
    const char *start = line, *end;
    char *name;
    int rc;

    while (isspace((unsigned char)*start))
        start++;
    if (*start != '[')
        return 0;
    end = strchr(start + 1, ']');
    if (!end)
        return 0; /* libinih reports the syntax error */
    name = trimmed_copy(start + 1, (size_t)(end - start - 1));
    if (!name) {
        parser_fail(ps, ps->line, NULL, NULL, "out of memory");
        return -1;
    }
    rc = section_start(ps, name);
    free(name);
    return rc;
}

/* Whether a line read from the file can go to libinih (buffer of num
 * bytes); writes the error if not. */
static int line_check(struct parser *ps, const char *line, size_t n, int num)
{
    size_t text = n;

    while (text > 0 && (line[text - 1] == '\n' || line[text - 1] == '\r'))
        text--;
    if (text > CONFIG_LINE_MAX || n + 1 > (size_t)num) {
        parser_fail(ps, ps->line, NULL, NULL, "the line is longer than %d bytes; shorten it",
                    CONFIG_LINE_MAX);
        return -1;
    }
    if (memchr(line, '\0', n)) {
        parser_fail(ps, ps->line, NULL, NULL,
                    "the line contains a NUL byte; the file must be text");
        return -1;
    }
    return 0;
}

/* libinih reader: hands over one whole line at a time, counting lines and
 * noticing section headers.  NULL ends the parse (EOF or an error). */
static char *config_read_line(char *str, int num, void *stream)
{
    struct parser *ps = stream;
    ssize_t n;
    const char *line;

    if (ps->failed)
        return NULL;
    n = getline(&ps->buf, &ps->buf_size, ps->fp);
    if (n < 0) {
        if (ferror(ps->fp))
            parser_fail(ps, 0, NULL, NULL, "cannot read: %s", strerror(errno));
        return NULL;
    }
    ps->line++;
    line = ps->buf;
    if (ps->line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0) {
        line += 3;
        n -= 3;
    }
    if (line_check(ps, line, (size_t)n, num) < 0)
        return NULL;
    memcpy(str, line, (size_t)n + 1);
    return line_note_section(ps, str) < 0 ? NULL : str;
}

/* ---- libinih settings ---- */

/* Debian's libinih turns its compile-time options into globals; these are
 * the ones config_load() sets for the parse and puts back afterwards. */
struct ini_settings {
    bool use_stack, allow_realloc, multiline, inline_comments, stop_on_first_error, no_value;
    int max_line, initial_alloc;
};

static pthread_mutex_t ini_lock = PTHREAD_MUTEX_INITIALIZER;

static struct ini_settings ini_settings_swap(struct ini_settings s)
{
    struct ini_settings old = {
        ini_use_stack,           ini_allow_realloc,  ini_allow_multiline, ini_allow_inline_comments,
        ini_stop_on_first_error, ini_allow_no_value, ini_max_line,        ini_initial_alloc};

    ini_use_stack = s.use_stack;
    ini_allow_realloc = s.allow_realloc;
    ini_allow_multiline = s.multiline;
    ini_allow_inline_comments = s.inline_comments;
    ini_stop_on_first_error = s.stop_on_first_error;
    ini_allow_no_value = s.no_value;
    ini_max_line = s.max_line;
    ini_initial_alloc = s.initial_alloc;
    return old;
}

/* Runs libinih over ps->fp with: one heap line buffer for CONFIG_LINE_MAX
 * bytes plus "\r\n\0", no continuation lines (an indented line is a line of its own), no
 * inline comments (a ';' in a command or secret is data), stop at the first
 * error. */
static int config_parse_stream(struct parser *ps)
{
    const struct ini_settings ours = {.use_stack = false,
                                      .allow_realloc = false,
                                      .multiline = false,
                                      .inline_comments = false,
                                      .stop_on_first_error = true,
                                      .no_value = false,
                                      .max_line = CONFIG_LINE_MAX + 3,
                                      .initial_alloc = CONFIG_LINE_MAX + 3};
    struct ini_settings saved;
    int rc;

    pthread_mutex_lock(&ini_lock);
    saved = ini_settings_swap(ours);
    rc = ini_parse_stream(config_read_line, ps, config_handle_key, ps);
    ini_settings_swap(saved);
    pthread_mutex_unlock(&ini_lock);
    return rc;
}

/* ---- public ---- */

static void account_free(struct account_config *acc)
{
    struct secret_ref *refs[] = {&acc->api_key, &acc->client_secret, &acc->jwt};

    free(acc->name);
    free(acc->url);
    free(acc->stream_id);
    free(acc->account_id);
    free(acc->client_id);
    free(acc->cacert);
    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
        if (refs[i]->value)
            explicit_bzero(refs[i]->value, strlen(refs[i]->value));
        free(refs[i]->value);
    }
    string_list_free(acc->campaigns);
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_accounts; i++)
        account_free(&cfg->accounts[i]);
    free(cfg->accounts);
    free(cfg->path);
    memset(cfg, 0, sizeof(*cfg));
}

/* Parses the open file into ps->cfg; 0 or -1 with the error written. */
static int config_parse(struct parser *ps)
{
    int rc = config_parse_stream(ps);

    if (!ps->failed && rc == -2)
        parser_fail(ps, 0, NULL, NULL, "out of memory");
    if (!ps->failed && rc > 0) {
        struct account_config *acc = parser_account(ps);

        parser_fail(ps, ps->line, acc ? acc->name : NULL, NULL,
                    "not a 'key = value' line nor a [section] header; fix it or comment it "
                    "out with #");
    }
    if (!ps->failed)
        section_finish(ps);
    if (!ps->failed && ps->cfg->n_accounts == 0)
        parser_fail(ps, 0, NULL, NULL,
                    "no accounts; add a section per account, e.g. [altur] with provider = altur "
                    "and api_key_file = ... (see campaignfs.conf(5))");
    return ps->failed ? -1 : 0;
}

/* The opened file must be the user's or root's, and only its owner may
 * change it: whoever can change it could have campaignfs run commands
 * (api_key_command) or send the credentials to another host (url). */
static int config_owner_check(struct parser *ps)
{
    const struct stat *st = &ps->st;
    uid_t me = geteuid();

    if (st->st_uid != me && st->st_uid != 0) {
        parser_fail(ps, 0, NULL, NULL,
                    "the file belongs to uid %u, not to you (uid %u) or to root; whoever owns it "
                    "could make campaignfs run commands as you or send your credentials "
                    "elsewhere; use a file of your own",
                    (unsigned)st->st_uid, (unsigned)me);
        return -1;
    }
    if (st->st_mode & 022) {
        parser_fail(ps, 0, NULL, NULL,
                    "group or others can change the file (mode %04o), and so make campaignfs run "
                    "commands as you or send your credentials elsewhere; run chmod go-w %s",
                    (unsigned)(st->st_mode & 07777), ps->path);
        return -1;
    }
    return 0;
}

/* A credential written in the file itself (api_key, client_secret, jwt)
 * needs a file that neither group nor others can read. */
static int config_inline_secret_check(struct parser *ps)
{
    if (!(ps->st.st_mode & 077))
        return 0;
    for (size_t i = 0; i < ps->cfg->n_accounts; i++) {
        const struct account_config *acc = &ps->cfg->accounts[i];
        const struct secret_ref *refs[] = {&acc->api_key, &acc->client_secret, &acc->jwt};

        for (size_t r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
            if (refs[r]->source != SECRET_VALUE)
                continue;
            parser_fail(ps, refs[r]->line, acc->name, refs[r]->key,
                        "the file holds this credential itself and group or others can read it "
                        "(mode %04o); run chmod 600 %s, or keep the credential in a file of its "
                        "own named by %s_file",
                        (unsigned)(ps->st.st_mode & 07777), ps->path, refs[r]->key);
            return -1;
        }
    }
    return 0;
}

/* path as an absolute path (from the working directory), malloc'd. */
static char *absolute_path(const char *path)
{
    char *cwd, *out = NULL;

    if (path[0] == '/')
        return strdup(path);
    cwd = getcwd(NULL, 0);
    if (!cwd)
        return strdup(path);
    if (asprintf(&out, "%s/%s", cwd, path) < 0)
        out = NULL;
    free(cwd);
    return out;
}

/* Opens, checks and parses ps->path; 0 or -1 with the error written. */
static int config_read(struct parser *ps)
{
    int rc;

    ps->fp = fopen(ps->path, "re");
    if (!ps->fp) {
        parser_fail(ps, 0, NULL, NULL, "cannot open: %s; create it (see campaignfs.conf(5))",
                    strerror(errno));
        return -1;
    }
    if (fstat(fileno(ps->fp), &ps->st) < 0) {
        parser_fail(ps, 0, NULL, NULL, "cannot stat: %s", strerror(errno));
        rc = -1;
    } else {
        rc = config_owner_check(ps);
    }
    if (rc == 0)
        rc = config_parse(ps);
    if (rc == 0)
        rc = config_inline_secret_check(ps);
    fclose(ps->fp);
    free(ps->buf);
    return rc;
}

int config_load(const char *path, struct config *out, char *err, size_t errlen)
{
    int key_lines[KEY_COUNT];
    struct parser ps = {
        .path = path, .cfg = out, .key_lines = key_lines, .err = err, .errlen = errlen};
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = '\0';
    ps.abs_path = absolute_path(path);
    if (!ps.abs_path)
        parser_fail(&ps, 0, NULL, NULL, "out of memory");
    else
        rc = config_read(&ps);
    if (rc == 0) {
        out->path = ps.abs_path;
        ps.abs_path = NULL;
    }
    free(ps.abs_path);
    if (rc < 0)
        config_free(out);
    return rc;
}

char *config_default_path(void)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    char *path = NULL;

    if (xdg && xdg[0] == '/') {
        if (asprintf(&path, "%s/campaignfs/config", xdg) < 0)
            return NULL;
        return path;
    }
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());

        home = pw ? pw->pw_dir : NULL;
    }
    if (!home || !*home)
        return NULL;
    if (asprintf(&path, "%s/.config/campaignfs/config", home) < 0)
        return NULL;
    return path;
}
