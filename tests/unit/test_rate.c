/**
 * @file test_rate.c
 * Rate parsing/formatting and token bucket accounting (counts, not times).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rate.h"

static void test_parse(void **state)
{
    (void)state;
    double r = -1;

    assert_int_equal(rate_parse("12/s", &r), 0);
    assert_true(r == 12);
    assert_int_equal(rate_parse("100/min", &r), 0);
    assert_true(r > 1.6666 && r < 1.6667);
    assert_int_equal(rate_parse("7", &r), 0);
    assert_true(r == 7);
    assert_int_equal(rate_parse("0", &r), 0);
    assert_true(r == 0);
    assert_int_equal(rate_parse("3600/h", &r), 0);
    assert_true(r == 1);
    assert_int_equal(rate_parse("", &r), -1);
    assert_int_equal(rate_parse("abc", &r), -1);
    assert_int_equal(rate_parse("-1/s", &r), -1);
    assert_int_equal(rate_parse("5/fortnight", &r), -1);
    assert_int_equal(rate_parse("5/", &r), -1);
    assert_int_equal(rate_parse("nan", &r), -1);
}

static void test_format_roundtrip(void **state)
{
    (void)state;
    const char *texts[] = {"12/s", "100/min", "0", "20/s"};
    char buf[32];

    for (size_t i = 0; i < 4; i++) {
        double r;
        assert_int_equal(rate_parse(texts[i], &r), 0);
        rate_format(r, buf, sizeof(buf));
        assert_string_equal(buf, texts[i]);
    }
}

static void test_bucket_burst(void **state)
{
    (void)state;
    struct rate_bucket b;
    int granted = 0;

    /* 12/s: a burst of 12 is granted at once, the 13th must wait. */
    rate_bucket_init(&b, 12, 0);
    for (int i = 0; i < 13; i++)
        if (rate_bucket_try(&b) == 0)
            granted++;
    assert_int_equal(granted, 12);
    assert_true(rate_bucket_try(&b) > 0);
    rate_bucket_destroy(&b);

    /* unlimited never refuses */
    rate_bucket_init(&b, 0, 0);
    for (int i = 0; i < 1000; i++)
        assert_true(rate_bucket_try(&b) == 0);
    rate_bucket_destroy(&b);
}

/* Tokens granted when asking every `step` seconds of fake time for `secs`. */
static int granted_over(struct rate_bucket *b, double start, double secs, double step)
{
    int n = 0;

    for (long i = 0; (double)i * step < secs; i++)
        if (rate_bucket_try_at(b, start + (double)i * step) == 0)
            n++;
    return n;
}

static void test_bucket_fake_clock(void **state)
{
    struct rate_bucket b;
    double w;

    (void)state;
    rate_bucket_init(&b, 12, 6);
    rate_bucket_reset(&b, 1000.0);
    /* the burst, then exactly one token per 1/12 s */
    for (int i = 0; i < 6; i++)
        assert_true(rate_bucket_try_at(&b, 1000.0) == 0);
    w = rate_bucket_try_at(&b, 1000.0);
    assert_true(w > 1.0 / 12 - 1e-9 && w < 1.0 / 12 + 1e-9);
    assert_true(rate_bucket_try_at(&b, 1000.0 + w / 2) > 0);
    assert_true(rate_bucket_try_at(&b, 1000.0 + w) == 0);
    /* asked every millisecond for 10 s more: 12 a second, never more */
    assert_int_equal(granted_over(&b, 1000.0 + w + 0.0005, 10.001, 0.001), 120);
    /* a clock that goes back grants nothing it did not earn */
    assert_true(rate_bucket_try_at(&b, 900.0) > 0);
    /* idle for a minute: the burst again, not a minute's worth */
    assert_int_equal(granted_over(&b, 1100.0, 0.001, 0.0001), 6);
    rate_bucket_destroy(&b);

    /* 100 a minute with no burst: any 60 s window holds at most 100 */
    rate_bucket_init(&b, 100.0 / 60, 1);
    rate_bucket_reset(&b, 0);
    for (int window = 0; window < 3; window++) {
        int n = granted_over(&b, 60.0 * window, 60.0, 0.01);
        assert_true(n <= 100 && n >= 99);
    }
    rate_bucket_destroy(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_format_roundtrip),
        cmocka_unit_test(test_bucket_burst),
        cmocka_unit_test(test_bucket_fake_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
