/**
 * @file test_http.c
 * The request policy: errno per failure class, Retry-After parsing, and
 * the retry backoff's bounds and growth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"

static void test_errno_per_class(void **state)
{
    (void)state;
    assert_int_equal(fetch_errno(FETCH_OK), 0);
    assert_int_equal(fetch_errno(FETCH_AUTH), EACCES);
    assert_int_equal(fetch_errno(FETCH_NOT_FOUND), ENOENT);
    assert_int_equal(fetch_errno(FETCH_RATE), EIO);
    assert_int_equal(fetch_errno(FETCH_CLIENT), EIO);
    assert_int_equal(fetch_errno(FETCH_SERVER), EIO);
    assert_int_equal(fetch_errno(FETCH_NETWORK), EIO);
    assert_int_equal(fetch_errno(FETCH_PROTOCOL), EIO);
    assert_int_equal(fetch_errno(FETCH_INVALID), EIO);
    assert_int_equal(fetch_errno(FETCH_TIMEOUT), ETIMEDOUT);
    assert_true(http_transient(FETCH_TIMEOUT));
    assert_false(http_transient(FETCH_INVALID));
    assert_true(http_transient(FETCH_PROTOCOL));
    assert_int_equal(fetch_errno(FETCH_INTERNAL), ENOMEM);
}

static void test_backoff(void **state)
{
    unsigned int seed = 42;

    (void)state;
    for (int i = 0; i < 200; i++) {
        double first = http_backoff(1, &seed), late = http_backoff(10, &seed);
        assert_true(first >= 0.25 * 0.75 && first <= 0.25 * 1.25);
        assert_true(late >= HTTP_MAX_BACKOFF * 0.75 &&
                    late <= HTTP_MAX_BACKOFF * 1.25); /* capped */
    }
    assert_true(http_backoff(3, &seed) > http_backoff(1, &seed));
}

/* Where a redirect may go, and whether the credential goes with it. */
static void test_redirect_rules(void **state)
{
    const char *origin = "https://api.example.com/api/v1";
    char what[256];
    bool same;

    (void)state;
    assert_int_equal(http_redirect_check(origin, "https://api.example.com/api/v1/campaigns",
                                         "https://api.example.com/api/v1/campaigns/", &same, what,
                                         sizeof(what)),
                     0);
    assert_true(same);
    /* the default port is the same origin; another port, host or scheme is not */
    assert_int_equal(http_redirect_check(origin, origin, "https://API.example.com:443/x", &same,
                                         what, sizeof(what)),
                     0);
    assert_true(same);
    assert_int_equal(
        http_redirect_check(origin, origin, "https://api.example.com:8443/x", &same, what, 256), 0);
    assert_false(same);
    assert_int_equal(
        http_redirect_check(origin, origin, "https://cdn.example.net/x", &same, what, sizeof(what)),
        0);
    assert_false(same);
    /* refused: https to http, other schemes, garbage */
    assert_int_equal(http_redirect_check(origin, origin, "http://api.example.com/api/v1/x", &same,
                                         what, sizeof(what)),
                     -1);
    assert_non_null(strstr(what, "https to plain http"));
    assert_int_equal(
        http_redirect_check(origin, origin, "ftp://api.example.com/x", &same, what, sizeof(what)),
        -1);
    assert_non_null(strstr(what, "ftp"));
    assert_int_equal(
        http_redirect_check(origin, origin, "file:///etc/passwd", &same, what, sizeof(what)), -1);
    assert_int_equal(http_redirect_check(origin, origin, "", &same, what, sizeof(what)), -1);
    /* plain http to http on another port is allowed, without the credential */
    assert_int_equal(http_redirect_check("http://127.0.0.1:80/a", "http://127.0.0.1/a",
                                         "http://127.0.0.1:81/a", &same, what, sizeof(what)),
                     0);
    assert_false(same);
    assert_true(http_is_redirect(307) && http_is_redirect(308) && http_is_redirect(301));
    assert_false(http_is_redirect(304) || http_is_redirect(300) || http_is_redirect(200));
}

static void test_log_escape(void **state)
{
    char out[64];

    (void)state;
    size_t n = log_escape(out, sizeof(out), "a\x1b[31mb\nc\x7f");
    assert_int_equal(n, strlen(out));
    assert_string_equal(out, "a\\x1b[31mb\\x0ac\\x7f");
    log_escape(out, 8, "0123456789"); /* truncated, always terminated */
    assert_true(strlen(out) < 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errno_per_class),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_redirect_rules),
        cmocka_unit_test(test_log_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
