/**
 * @file test_account.c
 * Credentials at run time: the Kore.ai token's lifetime and its renewal
 * before expiry, a key file read again when renewed, headers for other
 * origins without any credential, and server text redacted of every
 * credential.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "account.h"
#include "jwt.h"

static const char kore_secret[] = "kore-client-secret-0123456789";

static struct account_config kore_config(void)
{
    struct account_config c = {
        .name = "kore",
        .provider = provider_find("koreai"),
        .stream_id = "st-1",
        .account_id = "acc-1",
        .client_id = "cs-1",
        .client_secret = {.source = SECRET_VALUE,
                          .value = (char *)kore_secret,
                          .key = "client_secret",
                          .line = 3},
        .ttl = -1,
        .rate_limit = -1,
    };
    return c;
}

static const char *header(const struct curl_slist *h, const char *name)
{
    size_t n = strlen(name);

    for (; h; h = h->next)
        if (strncmp(h->data, name, n) == 0 && h->data[n] == ':')
            return h->data + n + 2;
    return NULL;
}

static json_object *claims_of(const char *token)
{
    const char *dot = strchr(token, '.'), *end = dot ? strchr(dot + 1, '.') : NULL;
    size_t len;
    unsigned char *payload;
    json_object *o;

    assert_non_null(end);
    payload = b64url_decode(dot + 1, (size_t)(end - dot - 1), &len);
    assert_non_null(payload);
    o = json_tokener_parse((char *)payload);
    free(payload);
    assert_non_null(o);
    return o;
}

static int64_t claim(json_object *claims, const char *name)
{
    json_object *v;

    assert_true(json_object_object_get_ex(claims, name, &v));
    return json_object_get_int64(v);
}

static void test_kore_token_lifetime_and_renewal(void **state)
{
    struct account_config cfg = kore_config();
    struct account a;
    char err[512];
    char *first;
    json_object *c;
    time_t now = time(NULL);

    (void)state;
    assert_int_equal(account_open(&a, &cfg, "/etc/test.conf", 60, err, sizeof(err)), 0);
    first = strdup(header(a.auth->get, "auth"));
    assert_non_null(header(a.auth->get, "iid"));
    c = claims_of(first);
    assert_true(claim(c, "exp") - claim(c, "iat") == KOREAI_TOKEN_LIFETIME);
    assert_true(claim(c, "iat") >= now - 1 && claim(c, "iat") <= now + 1);
    json_object_put(c);
    assert_int_equal(jwt_hs256_verify(first, kore_secret, strlen(kore_secret), NULL), 0);

    /* not due now, due within KOREAI_TOKEN_RENEW_BEFORE of its expiry */
    assert_false(account_auth_due(&a, now));
    assert_false(account_auth_due(&a, a.auth->expires - KOREAI_TOKEN_RENEW_BEFORE - 1));
    assert_true(account_auth_due(&a, a.auth->expires - KOREAI_TOKEN_RENEW_BEFORE));

    /* a renewal makes a new token, even within the same second (jti) */
    struct auth_headers *old = auth_headers_ref(a.auth);
    unsigned gen = a.auth_gen;
    assert_int_equal(account_renew_auth(&a, err, sizeof(err)), 1);
    assert_int_equal(a.auth_gen, gen + 1);
    assert_string_not_equal(header(a.auth->get, "auth"), first);
    assert_string_equal(header(old->get, "auth"), first); /* in-flight users keep theirs */
    auth_headers_unref(old);

    /* other origins get no credential at all */
    assert_null(header(a.plain_get, "auth"));
    assert_null(header(a.plain_get, "iid"));
    assert_null(header(a.plain_get, "accountId"));
    assert_null(header(a.plain_post, "auth"));
    assert_non_null(header(a.plain_post, "Content-Type"));
    free(first);
    account_close(&a);
}

static void test_key_file_read_again_and_redaction(void **state)
{
    char path[] = "/tmp/cfs-test-key-XXXXXX";
    int fd = mkstemp(path);
    struct account_config cfg = {
        .name = "b",
        .provider = provider_find("burki"),
        .api_key = {.source = SECRET_FILE, .value = path, .key = "api_key_file", .line = 2},
        .ttl = -1,
        .rate_limit = -1,
    };
    struct account a;
    char err[512], *out;

    (void)state;
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "first-key-123456\n", 17), 17);
    close(fd);
    chmod(path, 0600);
    assert_int_equal(account_open(&a, &cfg, "/etc/test.conf", 60, err, sizeof(err)), 0);
    assert_string_equal(header(a.auth->get, "Authorization"), "Bearer first-key-123456");
    assert_false(account_auth_due(&a, time(NULL) + 100000)); /* keys do not expire */

    /* unchanged file: nothing new */
    assert_int_equal(account_renew_auth(&a, err, sizeof(err)), 0);
    /* rotated file: the new key */
    FILE *f = fopen(path, "w");
    fputs("second-key-654321\n", f);
    fclose(f);
    assert_int_equal(account_renew_auth(&a, err, sizeof(err)), 1);
    assert_string_equal(header(a.auth->get, "Authorization"), "Bearer second-key-654321");

    out = account_redact(&a, "bad key second-key-654321, header Bearer second-key-654321!");
    assert_string_equal(out, "bad key [redacted], header Bearer [redacted]!");
    free(out);
    out = account_redact(&a, "nothing secret here");
    assert_string_equal(out, "nothing secret here");
    free(out);
    unlink(path);
    account_close(&a);
}

static void test_inline_key_is_not_renewed(void **state)
{
    struct account_config cfg = {
        .name = "b",
        .provider = provider_find("burki"),
        .api_key = {.source = SECRET_VALUE, .value = "[redacted]-key", .key = "api_key"},
        .ttl = -1,
        .rate_limit = -1,
    };
    struct account a;
    char err[512], *out;

    (void)state;
    assert_int_equal(account_open(&a, &cfg, "/etc/test.conf", 60, err, sizeof(err)), 0);
    assert_int_equal(account_renew_auth(&a, err, sizeof(err)), 0);
    /* a key that contains the mark itself cannot make redaction loop */
    out = account_redact(&a, "[redacted]-key and [redacted]-key");
    assert_string_equal(out, "[redacted] and [redacted]");
    free(out);
    account_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kore_token_lifetime_and_renewal),
        cmocka_unit_test(test_key_file_read_again_and_redaction),
        cmocka_unit_test(test_inline_key_is_not_renewed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
