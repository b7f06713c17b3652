/**
 * @file test_config.c
 * config_load(): valid files for every provider (including the exact file
 * campaignfs-sim --config-out writes), defaults, list and number parsing,
 * every kind of error with its FILE:LINE: [SECTION] key 'KEY' prefix, and
 * that no error ever quotes a credential; who may own, change and read the
 * file; cacert; config_text_quotable(), config_expand_path(),
 * config_default_path().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "provider.h"

#define SECRET "Zq9-distinctive-SECRET-4711"

struct fixture {
    char dir[64];
    char path[96];
};

static int setup_dir(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/campaignfs-config-XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    snprintf(fx->path, sizeof(fx->path), "%s/config", fx->dir);
    *state = fx;
    return 0;
}

static int teardown_dir(void **state)
{
    struct fixture *fx = *state;
    char *cmd = NULL;

    if (asprintf(&cmd, "rm -rf '%s'", fx->dir) > 0 && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", fx->dir);
    free(cmd);
    free(fx);
    return 0;
}

/* Writes len bytes of text to path with the given mode. */
static void write_file_mode(const char *path, const char *text, size_t len, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

/* Sets name to value; returns its old value (malloc'd or NULL) for
 * env_restore(). */
static char *env_swap(const char *name, const char *value)
{
    char *old = getenv(name) ? strdup(getenv(name)) : NULL;

    setenv(name, value, 1);
    return old;
}

static void env_restore(const char *name, char *old)
{
    if (old)
        setenv(name, old, 1);
    else
        unsetenv(name);
    free(old);
}

/* The config, owner-only: most test files hold an inline credential. */
static void write_config(const struct fixture *fx, const char *text, size_t len)
{
    write_file_mode(fx->path, text, len, 0600);
}

/* Loads text; fails the test with the message if it does not load. */
static void load_ok(const struct fixture *fx, const char *text, struct config *cfg)
{
    char err[1024] = "";

    write_config(fx, text, strlen(text));
    if (config_load(fx->path, cfg, err, sizeof(err)) != 0)
        fail_msg("config did not load: %s", err);
    assert_string_equal(err, "");
    assert_string_equal(cfg->path, fx->path);
}

/* Loads len bytes of text and expects the error
 * "PATH:LINE: [SECTION] key 'KEY': ..." containing what.  line 0 means
 * no ":LINE", a NULL section or key means no such part. */
static void load_fails_len(const struct fixture *fx, const char *text, size_t len, int line,
                           const char *section, const char *key, const char *what)
{
    struct config cfg;
    char err[2048] = "";
    char prefix[512];
    int n;

    write_config(fx, text, len);
    assert_int_equal(config_load(fx->path, &cfg, err, sizeof(err)), -1);
    assert_null(cfg.accounts);
    assert_int_equal(cfg.n_accounts, 0);
    n = snprintf(prefix, sizeof(prefix), "%s", fx->path);
    if (line > 0)
        n += snprintf(prefix + n, sizeof(prefix) - (size_t)n, ":%d", line);
    if (section || key)
        n += snprintf(prefix + n, sizeof(prefix) - (size_t)n, ":");
    if (section)
        n += snprintf(prefix + n, sizeof(prefix) - (size_t)n, " [%s]", section);
    if (key)
        n += snprintf(prefix + n, sizeof(prefix) - (size_t)n, " key '%s'", key);
    snprintf(prefix + n, sizeof(prefix) - (size_t)n, ": ");
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("'%s' does not start with '%s'", err, prefix);
    if (!strstr(err, what))
        fail_msg("'%s' does not mention '%s'", err, what);
    if (strstr(err, SECRET))
        fail_msg("'%s' quotes the secret", err);
    assert_null(strchr(err, '\n'));
}

static void load_fails(const struct fixture *fx, const char *text, int line, const char *section,
                       const char *key, const char *what)
{
    load_fails_len(fx, text, strlen(text), line, section, key, what);
}

/* ---- valid files ---- */

static const char sim_config[] =
    "# campaignfs configuration for campaignfs-sim on 127.0.0.1:40000 (seed 1)\n"
    "[altur]\n"
    "provider = altur\n"
    "url = http://127.0.0.1:40000/api/v1.0\n"
    "api_key = sim-altur-key\n"
    "rate_limit = 12/s\n"
    "\n"
    "[burki]\n"
    "provider = burki\n"
    "url = http://127.0.0.1:40000\n"
    "api_key = sim-burki-key\n"
    "rate_limit = 20/s\n"
    "\n"
    "[truedy]\n"
    "provider = truedy\n"
    "url = http://127.0.0.1:40000/api/public/v1\n"
    "api_key = truedy_simkey\n"
    "rate_limit = 100/min\n"
    "\n"
    "[koreai]\n"
    "provider = koreai\n"
    "url = http://127.0.0.1:40000\n"
    "stream_id = st-1234\n"
    "account_id = acc123\n"
    "client_id = cs-5678\n"
    "client_secret = shh\n"
    "rate_limit = 0\n";

static void assert_secret_ref(const struct secret_ref *ref, enum secret_source source,
                              const char *value, const char *key, int line)
{
    assert_int_equal(ref->source, source);
    if (value)
        assert_string_equal(ref->value, value);
    else
        assert_null(ref->value);
    if (key)
        assert_string_equal(ref->key, key);
    assert_int_equal(ref->line, line);
}

static void test_sim_config(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;
    const struct account_config *a;

    load_ok(fx, sim_config, &cfg);
    assert_int_equal(cfg.n_accounts, 4);

    a = &cfg.accounts[0];
    assert_string_equal(a->name, "altur");
    assert_int_equal(a->line, 2);
    assert_ptr_equal(a->provider, provider_find("altur"));
    assert_string_equal(a->url, "http://127.0.0.1:40000/api/v1.0");
    assert_secret_ref(&a->api_key, SECRET_VALUE, "sim-altur-key", "api_key", 5);
    assert_true(a->rate_limit == 12);
    assert_int_equal(a->ttl, -1);
    assert_int_equal(a->concurrency, 0);
    assert_null(a->campaigns);

    a = &cfg.accounts[1];
    assert_string_equal(a->name, "burki");
    assert_ptr_equal(a->provider, provider_find("burki"));
    assert_string_equal(a->url, "http://127.0.0.1:40000");
    assert_secret_ref(&a->api_key, SECRET_VALUE, "sim-burki-key", "api_key", 11);
    assert_true(a->rate_limit == 20);

    a = &cfg.accounts[2];
    assert_string_equal(a->name, "truedy");
    assert_ptr_equal(a->provider, provider_find("truedy"));
    assert_string_equal(a->url, "http://127.0.0.1:40000/api/public/v1");
    assert_secret_ref(&a->api_key, SECRET_VALUE, "truedy_simkey", "api_key", 17);
    assert_true(a->rate_limit > 1.6666 && a->rate_limit < 1.6667);

    a = &cfg.accounts[3];
    assert_string_equal(a->name, "koreai");
    assert_int_equal(a->line, 20);
    assert_ptr_equal(a->provider, provider_find("koreai"));
    assert_string_equal(a->url, "http://127.0.0.1:40000");
    assert_string_equal(a->stream_id, "st-1234");
    assert_string_equal(a->account_id, "acc123");
    assert_string_equal(a->client_id, "cs-5678");
    assert_secret_ref(&a->client_secret, SECRET_VALUE, "shh", "client_secret", 26);
    assert_secret_ref(&a->jwt, SECRET_NONE, NULL, NULL, 0);
    assert_secret_ref(&a->api_key, SECRET_NONE, NULL, NULL, 0);
    assert_true(a->rate_limit == 0);
    config_free(&cfg);
    assert_null(cfg.accounts);
    config_free(&cfg); /* harmless twice */
}

static void test_credential_sources(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;

    load_ok(fx,
            "[a1]\nprovider = altur\napi_key_file = ~/.secrets/altur\n"
            "[b1]\napi_key_env = BURKI_KEY\nprovider = burki\n"
            "[t1]\nprovider = truedy\napi_key_command = pass show truedy ; echo done\n"
            "[k1]\nprovider = koreai\nstream_id = st-1\naccount_id = a-1\nclient_id = cs-1\n"
            "client_secret_file = /run/secrets/kore\n"
            "[k2]\nprovider = koreai\nstream_id = st-2\naccount_id = a-2\nclient_id = cs-2\n"
            "client_secret_env = KORE_SECRET\n"
            "[k3]\nprovider = koreai\nstream_id = st-3\naccount_id = a-3\nclient_id = cs-3\n"
            "client_secret_command = vault read -field=secret kore\n"
            "[k4]\nprovider = koreai\nstream_id = st-4\naccount_id = a-4\njwt = eyJ.x.y\n"
            "[k5]\njwt_file = token.jwt\nstream_id = st-5\naccount_id = a-5\nprovider = koreai\n",
            &cfg);
    assert_int_equal(cfg.n_accounts, 8);
    assert_secret_ref(&cfg.accounts[0].api_key, SECRET_FILE, "~/.secrets/altur", "api_key_file", 3);
    assert_secret_ref(&cfg.accounts[1].api_key, SECRET_ENV, "BURKI_KEY", "api_key_env", 5);
    /* ';' is data, not an inline comment */
    assert_secret_ref(&cfg.accounts[2].api_key, SECRET_COMMAND, "pass show truedy ; echo done",
                      "api_key_command", 9);
    assert_secret_ref(&cfg.accounts[3].client_secret, SECRET_FILE, "/run/secrets/kore",
                      "client_secret_file", 15);
    assert_secret_ref(&cfg.accounts[4].client_secret, SECRET_ENV, "KORE_SECRET",
                      "client_secret_env", 21);
    assert_secret_ref(&cfg.accounts[5].client_secret, SECRET_COMMAND,
                      "vault read -field=secret kore", "client_secret_command", 27);
    assert_secret_ref(&cfg.accounts[6].jwt, SECRET_VALUE, "eyJ.x.y", "jwt", 32);
    assert_null(cfg.accounts[6].client_id);
    assert_secret_ref(&cfg.accounts[6].client_secret, SECRET_NONE, NULL, NULL, 0);
    assert_secret_ref(&cfg.accounts[7].jwt, SECRET_FILE, "token.jwt", "jwt_file", 34);
    assert_string_equal(cfg.accounts[7].stream_id, "st-5");
    for (size_t i = 0; i < cfg.n_accounts; i++)
        assert_string_equal(cfg.accounts[i].url, cfg.accounts[i].provider->default_url);
    config_free(&cfg);
}

static void test_defaults_and_values(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;
    const struct account_config *a;

    load_ok(fx,
            "; comment\n"
            "[prod-altur]\n"
            "provider = altur\n"
            "api_key = k\n"
            "[tuned]\n"
            "  provider=burki\n"
            "\tapi_key = k\n"
            "url = https://burki.example.com/base///\n"
            "ttl = 0\n"
            "rate_limit = 5/h\n"
            "concurrency = 64\n"
            "# comment\n"
            "[caps]\n"
            "provider = truedy\n"
            "api_key = k\n"
            "url = HTTPS://api.example.com\n"
            "ttl = 86400\n"
            "concurrency = 1\n",
            &cfg);
    assert_int_equal(cfg.n_accounts, 3);
    a = &cfg.accounts[0];
    assert_string_equal(a->url, "https://api.altur.io/api/v1.0");
    assert_int_equal(a->ttl, -1);
    assert_true(a->rate_limit == -1);
    assert_int_equal(a->concurrency, 0);
    assert_null(a->campaigns);
    a = &cfg.accounts[1];
    assert_string_equal(a->url, "https://burki.example.com/base");
    assert_int_equal(a->ttl, 0);
    assert_true(a->rate_limit > 0.001388 && a->rate_limit < 0.001389);
    assert_int_equal(a->concurrency, 64);
    a = &cfg.accounts[2];
    assert_string_equal(a->url, "HTTPS://api.example.com");
    assert_int_equal(a->ttl, 86400);
    assert_int_equal(a->concurrency, 1);
    config_free(&cfg);
}

static void assert_list(char **list, const char *const *expected, size_t n)
{
    assert_non_null(list);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(list[i], expected[i]);
    assert_null(list[n]);
}

static void test_campaigns_list(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;
    const char *one[] = {"42"};
    const char *three[] = {"12", "camp a", "c-3"};

    load_ok(fx,
            "[a]\nprovider = altur\napi_key = k\ncampaigns = 42\n"
            "[b]\nprovider = burki\napi_key = k\ncampaigns =  12 ,camp a,\t c-3  \n",
            &cfg);
    assert_list(cfg.accounts[0].campaigns, one, 1);
    assert_list(cfg.accounts[1].campaigns, three, 3);
    config_free(&cfg);

    load_fails(fx, "[a]\nprovider = altur\napi_key = k\ncampaigns = 1,,2\n", 4, "a", "campaigns",
               "item 2 of the list is empty");
    load_fails(fx, "[a]\nprovider = altur\napi_key = k\ncampaigns = 1, 2,\n", 4, "a", "campaigns",
               "item 3 of the list is empty");
    load_fails(fx, "[a]\nprovider = altur\napi_key = k\ncampaigns = , 2\n", 4, "a", "campaigns",
               "item 1 of the list is empty");
    load_fails(fx, "[a]\ncampaigns = ,\n", 2, "a", "campaigns", "item 1 of the list is empty");
}

/* CRLF line ends and a UTF-8 byte order mark are accepted. */
static void test_crlf_and_bom(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;

    load_ok(fx, "\xEF\xBB\xBF[altur]\r\nprovider = altur\r\napi_key = k1\r\nttl = 5\r\n", &cfg);
    assert_int_equal(cfg.n_accounts, 1);
    assert_string_equal(cfg.accounts[0].name, "altur");
    assert_string_equal(cfg.accounts[0].api_key.value, "k1");
    assert_int_equal(cfg.accounts[0].ttl, 5);
    config_free(&cfg);
}

/* Long values (a JWT, a long command) are fine up to the line limit:
 * 8192 bytes, not counting the line end. */
static void test_long_lines(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;
    static char text[20000], jwt[9000];
    size_t n;

    memset(jwt, 'j', 8186);
    jwt[8186] = '\0'; /* "jwt = " + 8186 = 8192 bytes */
    snprintf(text, sizeof(text),
             "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\njwt = %s\r\nttl = 1\n", jwt);
    load_ok(fx, text, &cfg);
    assert_string_equal(cfg.accounts[0].jwt.value, jwt);
    assert_int_equal(cfg.accounts[0].ttl, 1);
    config_free(&cfg);

    memset(jwt, 'j', 8187);
    jwt[8187] = '\0';
    n = (size_t)snprintf(text, sizeof(text),
                         "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\njwt = %s\n", jwt);
    load_fails_len(fx, text, n, 5, NULL, NULL, "the line is longer than 8192 bytes");
}

/* ---- errors ---- */

static void test_error_exact_text(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;
    char err[512], expected[512];

    const char *text = "[altur]\nprovider = altur\napi_key = k\n\n\n\nttl = abc\n";

    write_config(fx, text, strlen(text));
    assert_int_equal(config_load(fx->path, &cfg, err, sizeof(err)), -1);
    snprintf(expected, sizeof(expected),
             "%s:7: [altur] key 'ttl': 'abc' is not a whole number of seconds; write e.g. ttl = "
             "300",
             fx->path);
    assert_string_equal(err, expected);
}

static void test_error_keys(void **state)
{
    struct fixture *fx = *state;

    load_fails(fx, "[a]\nprovider = altur\napi_key = k\ncolour = blue\n", 4, "a", "colour",
               "unknown key");
    load_fails(fx, "[a]\nProvider = altur\n", 2, "a", "Provider", "unknown key");
    load_fails(fx, "[a]\nprovider = altura\napi_key = k\n", 2, "a", "provider",
               "'altura' is not a known provider; use altur, burki, truedy or koreai");
    load_fails(fx, "[a]\nprovider = altur\nttl = 5\napi_key = k\nttl = 6\n", 5, "a", "ttl",
               "given twice (first on line 3)");
    load_fails(fx, "provider = altur\n[a]\n", 1, NULL, "provider", "outside any section");
    load_fails(fx, "[a]\nprovider = altur\napi_key =\n", 3, "a", "api_key", "the value is empty");
    load_fails(fx, "[a]\nprovider = altur\napi_key = k\nurl = ftp://host\n", 4, "a", "url",
               "'ftp://host' must start with http:// or https://");
    load_fails(fx, "[a]\nprovider = altur\napi_key = k\nurl = http://\n", 4, "a", "url",
               "must start with http:// or https://");
    load_fails(fx, "[a]\nprovider = altur\napi_key = k\nurl = htp://u:pw@host\n", 4, "a", "url",
               "the URL must start with");
}

static void test_error_numbers(void **state)
{
    struct fixture *fx = *state;
    const char *head = "[n]\nprovider = burki\napi_key = k\n";
    const struct {
        const char *line, *key, *what;
    } cases[] = {
        {"ttl = abc", "ttl", "'abc' is not a whole number of seconds"},
        {"ttl = 1.5", "ttl", "'1.5' is not a whole number of seconds"},
        {"ttl = 10s", "ttl", "'10s' is not a whole number of seconds"},
        {"ttl = -1", "ttl", "'-1' is negative"},
        {"ttl = 99999999999999999999999", "ttl", "is too large"},
        {"concurrency = 0", "concurrency", "'0' is out of range; use 1 to 64"},
        {"concurrency = 65", "concurrency", "'65' is out of range; use 1 to 64"},
        {"concurrency = -3", "concurrency", "'-3' is out of range"},
        {"concurrency = many", "concurrency", "'many' is not a whole number"},
        {"rate_limit = fast", "rate_limit", "'fast' is not a rate"},
        {"rate_limit = 5/fortnight", "rate_limit", "'5/fortnight' is not a rate"},
        {"rate_limit = -2/s", "rate_limit", "is not a rate"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[256];

        snprintf(text, sizeof(text), "%s%s\n", head, cases[i].line);
        load_fails(fx, text, 4, "n", cases[i].key, cases[i].what);
    }
}

static void test_error_provider_scope(void **state)
{
    struct fixture *fx = *state;

    /* provider comes last: the mismatch is found when the section ends */
    load_fails(fx, "[a]\napi_key = k\nstream_id = st-1\nprovider = altur\n[b]\n", 3, "a",
               "stream_id", "only koreai accounts use it, not provider altur");
    load_fails(fx, "[a]\nprovider = truedy\napi_key = k\njwt = x\nclient_id = c\n", 4, "a", "jwt",
               "only koreai accounts use it");
    load_fails(fx,
               "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\nclient_id = c\n"
               "client_secret = x\napi_key = " SECRET "\n",
               7, "k", "api_key", "not used by provider koreai");
    load_fails(fx,
               "[k]\napi_key_env = X\nstream_id = s\naccount_id = a\njwt = x\nprovider = "
               "koreai\n",
               2, "k", "api_key_env", "not used by provider koreai");
}

static void test_error_credentials(void **state)
{
    struct fixture *fx = *state;

    load_fails(fx, "# c\n[altur]\nprovider = altur\nttl = 5\n", 2, "altur", "api_key",
               "missing: the account has no credential; give one of api_key, api_key_file, "
               "api_key_env or api_key_command");
    load_fails(fx, "[b]\nprovider = burki\napi_key = " SECRET "\napi_key_file = /k\n", 4, "b",
               "api_key_file", "api_key is already given on line 3; give only one of");
    load_fails(fx, "[b]\nprovider = burki\napi_key_env = K\napi_key = " SECRET "\n", 4, "b",
               "api_key", "api_key_env is already given on line 3");
    load_fails(fx, "[b]\nprovider = burki\napi_key = " SECRET "\napi_key = " SECRET "\n", 4, "b",
               "api_key", "given twice (first on line 3)");
    load_fails(fx, "[a]\napi_key = k\n", 1, "a", "provider", "missing; add provider =");
    load_fails(fx, "[a]\n[b]\nprovider = altur\napi_key = k\n", 1, "a", "provider", "missing");
}

static void test_error_koreai(void **state)
{
    struct fixture *fx = *state;

    load_fails(fx, "[k]\nprovider = koreai\naccount_id = a\nclient_id = c\nclient_secret = x\n", 1,
               "k", "stream_id", "missing");
    load_fails(fx, "\n[k]\nprovider = koreai\nstream_id = s\nclient_id = c\nclient_secret = x\n", 2,
               "k", "account_id", "missing");
    load_fails(fx, "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\n", 1, "k", "client_id",
               "missing: the account has no credential");
    load_fails(fx, "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\nclient_id = c\n", 1, "k",
               "client_secret", "missing; client_id needs one of client_secret");
    load_fails(
        fx, "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\nclient_secret = " SECRET "\n",
        1, "k", "client_id", "missing; the client secret needs client_id");
    load_fails(fx,
               "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\nclient_id = c\n"
               "client_secret = " SECRET "\njwt = " SECRET "\n",
               7, "k", "jwt", "use either client_id with a client secret, or a ready jwt");
    load_fails(fx,
               "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\njwt_file = /t\n"
               "jwt = " SECRET "\n",
               6, "k", "jwt",
               "jwt_file is already given on line 5; give only one of jwt or "
               "jwt_file");
    load_fails(fx,
               "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\nclient_id = c\n"
               "client_secret = " SECRET "\nclient_secret_command = cat /k\n",
               7, "k", "client_secret_command", "client_secret is already given on line 6");
}

static void test_error_sections(void **state)
{
    struct fixture *fx = *state;
    const char *ok = "provider = altur\napi_key = k\n";
    char text[512];

    snprintf(text, sizeof(text), "[a]\n%s\n[a]\n%s", ok, ok);
    load_fails(fx, text, 5, "a", NULL, "the section appears twice (first on line 1)");
    /* a repeat right away, or an empty repeat, is still a repeat */
    snprintf(text, sizeof(text), "[a]\n%s[ a ]\n", ok);
    load_fails(fx, text, 4, "a", NULL, "appears twice");
    load_fails(fx, "[]\nprovider = altur\n", 1, "", NULL, "the section name is empty");
    load_fails(fx, "[ \t ]\n", 1, "", NULL, "the section name is empty");
    load_fails(fx, "[.]\n", 1, ".", NULL, "starts with '.'");
    load_fails(fx, "[..]\n", 1, "..", NULL, "starts with '.'");
    load_fails(fx, "[.hidden]\n", 1, ".hidden", NULL, "starts with '.'");
    load_fails(fx, "[a/b]\n", 1, "a/b", NULL, "contains '/'");
    snprintf(text, sizeof(text), "[a]\n%s[../etc]\n", ok);
    load_fails(fx, text, 4, "../etc", NULL, "");
}

static void test_error_syntax_and_files(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;
    char err[512];
    char missing[128];

    load_fails(fx, "[a]\nprovider = altur\njust some words\napi_key = k\n", 3, "a", NULL,
               "not a 'key = value' line nor a [section] header");
    /* a secret pasted without its key is not quoted back */
    load_fails(fx, "[a]\nprovider = altur\n" SECRET "\n", 3, "a", NULL, "not a 'key = value'");
    load_fails(fx, "[a\nprovider = altur\n", 1, NULL, NULL, "not a 'key = value' line");
    load_fails(fx, "[a]\nprovider = altur\napi_key = k\n[b\n", 4, "a", NULL, "[section] header");
    load_fails(fx, "[a]\nprovider = altur\n   continued\n", 3, "a", NULL, "not a 'key = value'");
    load_fails_len(fx, "[a]\nprovider = al\0tur\n", 22, 2, NULL, NULL, "NUL byte");
    load_fails(fx, "", 0, NULL, NULL, "no accounts; add a section per account");
    load_fails(fx, "# only comments\n; here\n\n", 0, NULL, NULL, "no accounts");

    snprintf(missing, sizeof(missing), "%s/nope", fx->dir);
    assert_int_equal(config_load(missing, &cfg, err, sizeof(err)), -1);
    strcat(missing, ": cannot open: No such file or directory;");
    assert_true(strncmp(err, missing, strlen(missing)) == 0);
}

/* Whatever goes wrong, a credential value never shows up in the message. */
static void test_error_never_quotes_secrets(void **state)
{
    struct fixture *fx = *state;
    const char *texts[] = {
        "[a]\nprovider = nope\napi_key = " SECRET "\n",
        "[a]\napi_key = " SECRET "\nprovider = koreai\nstream_id = s\naccount_id = a\n",
        "[a]\nprovider = altur\napi_key = " SECRET "\napi_key = " SECRET "\n",
        "[a]\nprovider = altur\napi_key = " SECRET "\napi_key_command = echo " SECRET "\n",
        "[a]\nprovider = altur\napi_key_command = echo " SECRET "\napi_key = " SECRET "\n",
        "[a]\nprovider = altur\napi_key_command = echo " SECRET "\nttl = x\n",
        "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\njwt = " SECRET
        "\njwt_file = " SECRET "\n",
        "[k]\nprovider = koreai\nclient_secret = " SECRET "\n",
        "[k]\nprovider = altur\nclient_secret = " SECRET "\napi_key = " SECRET "\n",
        "[k]\nprovider = burki\njwt = " SECRET "\napi_key = k\n",
        "[a]\nprovider = altur\napi_key = " SECRET "\n" SECRET "\n",
        "[a]\nprovider = altur\napi_key = " SECRET "\nurl = htp://u:" SECRET "@host\n",
        "[a]\nprovider = altur\napi_key = " SECRET "\nclient_secret_env = " SECRET "\n",
        /* a credential on a line of its own, "key=" (base64 ends in '=') */
        "[a]\nprovider = altur\napi_key = k\n" SECRET "==\n",
        "[a]\nprovider = altur\napi_key = k\n" SECRET " = x\n",
        SECRET "=\n[a]\nprovider = altur\napi_key = k\n",
        /* a credential under the wrong key */
        "[a]\nprovider = altur\napi_key = k\nttl = " SECRET "\n",
        "[a]\nprovider = altur\napi_key = k\nconcurrency = " SECRET "\n",
        "[a]\nprovider = altur\napi_key = k\nrate_limit = " SECRET "\n",
        "[a]\nprovider = " SECRET "\napi_key = k\n",
        "[a]\nprovider = altur\napi_key = k\nurl = " SECRET "\n",
        "[a]\nprovider = altur\napi_key = k\nurl = https://host/v1?key=" SECRET "\n",
        "[a]\nprovider = altur\napi_key = k\nurl = https://host/v1#" SECRET "\n",
        "[a]\nprovider = altur\napi_key = k\nurl = https://user:" SECRET "@host/v1\n",
        "[a]\nprovider = altur\napi_key = k\nurl = " SECRET "@host/v1\n",
        "[a]\nprovider = altur\napi_key_env = " SECRET "\n",
        "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\nclient_id = c\n"
        "client_secret_env = " SECRET "\n",
        "[a]\nprovider = altur\napi_key = k\ncacert = " SECRET "\n",
        "[a]\nprovider = altur\napi_key = k\ncacert = /nonexistent/" SECRET ".pem\n",
    };

    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct config cfg;
        char err[1024] = "";

        write_config(fx, texts[i], strlen(texts[i]));
        if (config_load(fx->path, &cfg, err, sizeof(err)) != -1)
            fail_msg("case %zu loaded", i);
        assert_true(strlen(err) > strlen(fx->path));
        if (strstr(err, SECRET))
            fail_msg("case %zu quotes the secret: %s", i, err);
    }
}

/* The messages for text with the shape of a credential. */
static void test_error_shaped_like_secret(void **state)
{
    struct fixture *fx = *state;
    const char *head = "[a]\nprovider = altur\napi_key = k\n";
    char text[512];

    snprintf(text, sizeof(text), "%s%s==\n", head, SECRET);
    load_fails(fx, text, 4, "a", NULL,
               "unknown key (its name is not shown: it has the shape of a credential; a "
               "credential needs its key, e.g. api_key_file = PATH); the keys are provider, url");
    load_fails(fx, SECRET " = x\n[a]\n", 1, NULL, NULL,
               "a key outside any section (its name is not shown: it has the shape of a "
               "credential)");
    snprintf(text, sizeof(text), "%sttl = %s\n", head, SECRET);
    load_fails(fx, text, 4, "a", "ttl", ": the value is not a whole number of seconds");
    snprintf(text, sizeof(text), "%sconcurrency = %s\n", head, SECRET);
    load_fails(fx, text, 4, "a", "concurrency", ": the value is not a whole number");
    snprintf(text, sizeof(text), "%srate_limit = %s\n", head, SECRET);
    load_fails(fx, text, 4, "a", "rate_limit", ": the value is not a rate");
    load_fails(fx, "[a]\nprovider = " SECRET "\n", 2, "a", "provider",
               ": the value is not a known provider; use altur, burki, truedy or koreai");
    snprintf(text, sizeof(text), "%surl = %s\n", head, SECRET);
    load_fails(fx, text, 4, "a", "url", ": the URL must start with http:// or https://");
}

static void test_error_url_credentials(void **state)
{
    struct fixture *fx = *state;
    const char *head = "[a]\nprovider = altur\napi_key = k\n";
    const char *cases[] = {"https://user:pw@host/v1", "http://pw@host", "https://h/v1?key=k",
                           "https://h/v1#k", "https://h?x"};
    char text[512];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "%surl = %s\n", head, cases[i]);
        load_fails(fx, text, 4, "a", "url",
                   i < 2 ? "the URL holds a user name or password"
                         : "the URL has a query or fragment");
    }
    /* an '@' in the path is not user info */
    {
        struct config cfg;

        snprintf(text, sizeof(text), "%surl = https://h/users/a@b\n", head);
        load_ok(fx, text, &cfg);
        assert_string_equal(cfg.accounts[0].url, "https://h/users/a@b");
        config_free(&cfg);
    }
}

static void test_env_names(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;
    const char *bad[] = {"my-key", "1ABC", "A B", "A=B", "$HOME"};
    char text[256];

    load_ok(fx,
            "[a]\nprovider = altur\napi_key_env = _A1\n[b]\nprovider = burki\n"
            "api_key_env = lower_case9\n",
            &cfg);
    assert_string_equal(cfg.accounts[1].api_key.value, "lower_case9");
    config_free(&cfg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text), "[a]\nprovider = altur\napi_key_env = %s\n", bad[i]);
        load_fails(fx, text, 3, "a", "api_key_env",
                   "the value is not the name of an environment variable (letters, digits and "
                   "'_', not starting with a digit); write the variable's name, e.g. "
                   "ALTUR_API_KEY, not the credential");
    }
}

static void test_quotable(void **state)
{
    (void)state;
    const char *yes[] = {"",
                         "altura",
                         "Provider",
                         "api_kye",
                         "ftp://host",
                         "5/fortnight",
                         "-2/s",
                         "99999999999999999999999",
                         "ALTUR_API_KEY",
                         "KORE_SECRET_2",
                         "/home/alice/.secrets/altur-key",
                         "/etc/ssl/certs/ca-certificates.crt",
                         "~/.config/campaignfs/ca.pem"};
    const char *no[] = {SECRET,
                        "dGhpcyBpcyBhIHNlY3JldA==",
                        "0a1b2c3d",
                        "0123456789abcdef0123456789abcdef01234567",
                        "sk_live_51HxyzABCdef",
                        "bk_Ab3dE9xQ2",
                        "correcthorsebatterystaplecorrecthorse",
                        "/run/secrets/" SECRET,
                        "a\x1b[2Jb",
                        "caf\xc3\xa9",
                        "tab\there"};
    char long_text[600];

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        if (!config_text_quotable(yes[i]))
            fail_msg("'%s' is not quotable", yes[i]);
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        if (config_text_quotable(no[i]))
            fail_msg("'%s' is quotable", no[i]);
    memset(long_text, 'a', sizeof(long_text) - 1);
    for (size_t i = 0; i < sizeof(long_text) - 1; i += 8)
        long_text[i] = '/';
    long_text[sizeof(long_text) - 1] = '\0';
    assert_false(config_text_quotable(long_text)); /* over 512 bytes */
    long_text[500] = '\0';
    assert_true(config_text_quotable(long_text));
}

/* ---- who may own, change and read the file ---- */

static const char inline_key[] = "[altur]\nprovider = altur\n\napi_key = " SECRET "\n";

static void test_mode_inline_secret(void **state)
{
    struct fixture *fx = *state;
    const mode_t refused[] = {0644, 0640, 0604, 0610, 0601, 0400 | 0044};
    const mode_t allowed[] = {0600, 0400, 0700};
    char err[1024], expected[1024], link[128];
    struct config cfg;

    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        char what[64];

        write_file_mode(fx->path, inline_key, strlen(inline_key), refused[i]);
        snprintf(what, sizeof(what), "(mode %04o); run chmod 600 ", (unsigned)refused[i]);
        assert_int_equal(config_load(fx->path, &cfg, err, sizeof(err)), -1);
        if (!strstr(err, what) || strstr(err, SECRET))
            fail_msg("mode %04o: %s", (unsigned)refused[i], err);
    }
    write_file_mode(fx->path, inline_key, strlen(inline_key), 0644);
    assert_int_equal(config_load(fx->path, &cfg, err, sizeof(err)), -1);
    snprintf(expected, sizeof(expected),
             "%s:4: [altur] key 'api_key': the file holds this credential itself and group or "
             "others can read it (mode 0644); run chmod 600 %s, or keep the credential in a file "
             "of its own named by api_key_file",
             fx->path, fx->path);
    assert_string_equal(err, expected);
    assert_null(cfg.accounts);

    /* the mode of the file opened, through a symbolic link too */
    snprintf(link, sizeof(link), "%s/link", fx->dir);
    assert_int_equal(symlink(fx->path, link), 0);
    assert_int_equal(config_load(link, &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "(mode 0644); run chmod 600"));

    for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
        write_file_mode(fx->path, inline_key, strlen(inline_key), allowed[i]);
        if (config_load(fx->path, &cfg, err, sizeof(err)) != 0)
            fail_msg("mode %04o: %s", (unsigned)allowed[i], err);
        config_free(&cfg);
    }
    unlink(link);
}

static void test_mode_inline_secret_koreai(void **state)
{
    struct fixture *fx = *state;
    const char *client = "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\nclient_id = c\n"
                         "client_secret = " SECRET "\n";
    const char *jwt = "[a]\nprovider = altur\napi_key_file = /k\n"
                      "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\njwt = " SECRET "\n";
    struct config cfg;
    char err[1024];

    write_file_mode(fx->path, client, strlen(client), 0640);
    assert_int_equal(config_load(fx->path, &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":6: [k] key 'client_secret': the file holds this credential"));
    assert_non_null(strstr(err, "named by client_secret_file"));
    write_file_mode(fx->path, jwt, strlen(jwt), 0604);
    assert_int_equal(config_load(fx->path, &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":8: [k] key 'jwt': the file holds this credential itself"));
    assert_non_null(strstr(err, "(mode 0604)"));
    assert_non_null(strstr(err, "named by jwt_file"));
    assert_null(strstr(err, SECRET));
}

/* Files without a credential in them may be read by others. */
static void test_mode_no_inline_secret(void **state)
{
    struct fixture *fx = *state;
    const char *text = "[a]\nprovider = altur\napi_key_file = ~/.secrets/altur\n"
                       "[b]\nprovider = burki\napi_key_env = BURKI_KEY\n"
                       "[t]\nprovider = truedy\napi_key_command = pass show truedy\n"
                       "[k]\nprovider = koreai\nstream_id = s\naccount_id = a\njwt_file = /t\n";
    struct config cfg;
    char err[1024];

    write_file_mode(fx->path, text, strlen(text), 0644);
    if (config_load(fx->path, &cfg, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(cfg.n_accounts, 4);
    config_free(&cfg);
    /* a file that does not parse says so first */
    text = "[a]\nprovider = altur\napi_key = k\nttl = soon\n";
    write_file_mode(fx->path, text, strlen(text), 0644);
    assert_int_equal(config_load(fx->path, &cfg, err, sizeof(err)), -1);
    assert_non_null(strstr(err, ":4: [a] key 'ttl': 'soon' is not a whole number"));
}

static void test_mode_writable_and_owner(void **state)
{
    struct fixture *fx = *state;
    const char *text = "[a]\nprovider = altur\napi_key_file = /k\n";
    const mode_t writable[] = {0664, 0646, 0622, 0660, 0606};
    char what[512];

    for (size_t i = 0; i < sizeof(writable) / sizeof(writable[0]); i++) {
        struct config cfg;
        char err[1024];

        write_file_mode(fx->path, text, strlen(text), writable[i]);
        snprintf(what, sizeof(what),
                 "%s: group or others can change the file (mode %04o), and so make campaignfs run "
                 "commands as you or send your credentials elsewhere; run chmod go-w %s",
                 fx->path, (unsigned)writable[i], fx->path);
        assert_int_equal(config_load(fx->path, &cfg, err, sizeof(err)), -1);
        assert_string_equal(err, what);
    }
    if (geteuid() != 0)
        return; /* only root can give a file away */
    write_file_mode(fx->path, text, strlen(text), 0600);
    assert_int_equal(chown(fx->path, 4242, 4242), 0);
    load_fails(fx, text, 0, NULL, NULL,
               "the file belongs to uid 4242, not to you (uid 0) or to root; whoever owns it could "
               "make campaignfs run commands as you or send your credentials elsewhere; use a "
               "file of your own");
}

/* ---- cacert ---- */

static const char pem[] = "# corporate CA\n-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n"
                          "-----END CERTIFICATE-----\n";

static void test_cacert(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;
    char ca[128], text[512], expected[256];
    char *old_home;

    snprintf(ca, sizeof(ca), "%s/ca.pem", fx->dir);
    write_file_mode(ca, pem, strlen(pem), 0644);
    snprintf(text, sizeof(text),
             "[rel]\nprovider = altur\napi_key = k\ncacert = ca.pem\n"
             "[abs]\nprovider = burki\napi_key = k\ncacert = %s\n"
             "[home]\ncacert = ~/ca.pem\nprovider = truedy\napi_key = k\n"
             "[none]\nprovider = truedy\napi_key = k\n",
             ca);
    old_home = env_swap("HOME", fx->dir);
    load_ok(fx, text, &cfg);
    assert_string_equal(cfg.accounts[0].cacert, ca);
    assert_string_equal(cfg.accounts[1].cacert, ca);
    assert_string_equal(cfg.accounts[2].cacert, ca);
    assert_null(cfg.accounts[3].cacert);
    config_free(&cfg);
    env_restore("HOME", old_home);

    load_fails(fx, "[a]\nprovider = altur\napi_key = k\ncacert = /nonexistent/ca.pem\n", 4, "a",
               "cacert",
               "cannot open '/nonexistent/ca.pem': No such file or directory; give the path of a "
               "readable PEM file with the CA certificate(s) of the provider's server");
    load_fails(fx, "[a]\nprovider = altur\napi_key = k\ncacert = missing.pem\n", 4, "a", "cacert",
               "cannot open ");
    load_fails(fx, "[a]\nprovider = altur\napi_key = k\ncacert = /\n", 4, "a", "cacert",
               "'/' is not a regular file; give the path of a PEM file");
    snprintf(expected, sizeof(expected), "%s/der.crt", fx->dir);
    write_file_mode(expected, "\x30\x82\x01\x0a binary", 12, 0644);
    load_fails(fx, "[a]\nprovider = altur\napi_key = k\ncacert = der.crt\n", 4, "a", "cacert",
               "holds no PEM certificate (no '-----BEGIN CERTIFICATE-----' line); convert a DER "
               "file with: openssl x509 -inform der -in FILE -out FILE.pem");
    load_fails(fx, "[a]\nprovider = altur\napi_key = k\ncacert = /dev/null\n", 4, "a", "cacert",
               "'/dev/null' is not a regular file");
    if (geteuid() != 0) { /* root reads any file */
        write_file_mode(ca, pem, strlen(pem), 0000);
        load_fails(fx, "[a]\nprovider = altur\napi_key = k\ncacert = ca.pem\n", 4, "a", "cacert",
                   "Permission denied");
    }
}

/* A relative config path is made absolute, for paths relative to the file
 * after the daemon's chdir("/"). */
static void test_relative_config_path(void **state)
{
    struct fixture *fx = *state;
    struct config cfg;
    char err[1024], ca[128];
    char *cwd = getcwd(NULL, 0);
    const char *text = "[a]\nprovider = altur\napi_key = k\ncacert = ca.pem\n";

    snprintf(ca, sizeof(ca), "%s/ca.pem", fx->dir);
    write_file_mode(ca, pem, strlen(pem), 0644);
    write_config(fx, text, strlen(text));
    assert_non_null(cwd);
    assert_int_equal(chdir(fx->dir), 0);
    if (config_load("config", &cfg, err, sizeof(err)) != 0)
        fail_msg("%s", err);
    assert_int_equal(chdir(cwd), 0);
    assert_string_equal(cfg.path, fx->path);
    assert_string_equal(cfg.accounts[0].cacert, ca);
    config_free(&cfg);
    free(cwd);
}

static void test_expand_path(void **state)
{
    (void)state;
    char *old_home = env_swap("HOME", "/home/u");
    const struct {
        const char *value, *config, *expected;
    } cases[] = {
        {"/abs/key", "/etc/c/config", "/abs/key"},
        {"~/k", "/etc/c/config", "/home/u/k"},
        {"k", "/etc/c/config", "/etc/c/k"},
        {"sub/k", "/etc/c/config", "/etc/c/sub/k"},
        {"k", "config", "k"},
        {"k", NULL, "k"},
        {"~user/k", "/etc/c/config", "/etc/c/~user/k"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = config_expand_path(cases[i].value, cases[i].config);

        assert_non_null(p);
        assert_string_equal(p, cases[i].expected);
        free(p);
    }
    env_restore("HOME", old_home);
}

/* ---- default path ---- */

static void assert_default_path(const char *expected)
{
    char *path = config_default_path();

    assert_non_null(path);
    assert_string_equal(path, expected);
    free(path);
}

static void test_default_path(void **state)
{
    (void)state;
    char *old_home = env_swap("HOME", "/home/u");
    char *old_xdg = env_swap("XDG_CONFIG_HOME", "/xdg/conf");

    assert_default_path("/xdg/conf/campaignfs/config");
    setenv("XDG_CONFIG_HOME", "", 1);
    assert_default_path("/home/u/.config/campaignfs/config");
    unsetenv("XDG_CONFIG_HOME");
    assert_default_path("/home/u/.config/campaignfs/config");
    /* the XDG spec: a relative path is ignored */
    setenv("XDG_CONFIG_HOME", "relative/conf", 1);
    assert_default_path("/home/u/.config/campaignfs/config");

    env_restore("HOME", old_home);
    env_restore("XDG_CONFIG_HOME", old_xdg);
}

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, setup_dir, teardown_dir)

int main(void)
{
    const struct CMUnitTest tests[] = {
        FX_TEST(test_sim_config),
        FX_TEST(test_credential_sources),
        FX_TEST(test_defaults_and_values),
        FX_TEST(test_campaigns_list),
        FX_TEST(test_crlf_and_bom),
        FX_TEST(test_long_lines),
        FX_TEST(test_error_exact_text),
        FX_TEST(test_error_keys),
        FX_TEST(test_error_numbers),
        FX_TEST(test_error_provider_scope),
        FX_TEST(test_error_credentials),
        FX_TEST(test_error_koreai),
        FX_TEST(test_error_sections),
        FX_TEST(test_error_syntax_and_files),
        FX_TEST(test_error_never_quotes_secrets),
        FX_TEST(test_error_shaped_like_secret),
        FX_TEST(test_error_url_credentials),
        FX_TEST(test_env_names),
        cmocka_unit_test(test_quotable),
        FX_TEST(test_mode_inline_secret),
        FX_TEST(test_mode_inline_secret_koreai),
        FX_TEST(test_mode_no_inline_secret),
        FX_TEST(test_mode_writable_and_owner),
        FX_TEST(test_cacert),
        FX_TEST(test_relative_config_path),
        cmocka_unit_test(test_expand_path),
        cmocka_unit_test(test_default_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
