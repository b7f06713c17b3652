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

#include "http.h"

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
    assert_int_equal(fetch_errno(FETCH_INTERNAL), ENOMEM);
}

static void test_backoff(void **state)
{
    unsigned int seed = 42;

    (void)state;
    for (int i = 0; i < 200; i++) {
        double first = http_backoff(1, &seed), late = http_backoff(10, &seed);
        assert_true(first >= 0.25 * 0.75 && first <= 0.25 * 1.25);
        assert_true(late >= 8 * 0.75 && late <= 8 * 1.25); /* capped */
    }
    assert_true(http_backoff(3, &seed) > http_backoff(1, &seed));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errno_per_class),
        cmocka_unit_test(test_backoff),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
