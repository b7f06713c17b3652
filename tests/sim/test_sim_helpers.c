/**
 * @file test_sim_helpers.c
 * Unit tests (cmocka) for campaignfs-sim's pure helpers: the PRNG, fault
 * spec parsing and drawing, timestamp formatting/parsing, value generators.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "faults.h"
#include "gen.h"
#include "prng.h"
#include "timefmt.h"

#include <ctype.h>
#include <string.h>

static void test_rng_deterministic(void **state)
{
    struct rng a, b, c;

    (void)state;
    rng_init(&a, 1, 2, 3);
    rng_init(&b, 1, 2, 3);
    rng_init(&c, 1, 2, 4);
    for (int i = 0; i < 100; i++) {
        uint64_t x = rng_next(&a);
        assert_int_equal(x, rng_next(&b));
        assert_int_not_equal(x, rng_next(&c));
    }
}

static void test_rng_ranges(void **state)
{
    struct rng r;
    int seen[6] = {0};

    (void)state;
    rng_init(&r, 7, 0, 0);
    for (int i = 0; i < 6000; i++) {
        long v = rng_range(&r, 10, 15);
        assert_true(v >= 10 && v <= 15);
        seen[v - 10]++;
        assert_true(rng_below(&r, 3) < 3);
        double u = rng_unit(&r);
        assert_true(u >= 0 && u < 1);
    }
    for (int i = 0; i < 6; i++)
        assert_true(seen[i] > 800 && seen[i] < 1200);
    assert_int_equal(rng_below(&r, 0), 0);
    assert_int_equal(rng_range(&r, 5, 5), 5);
}

static void test_fault_spec_valid(void **state)
{
    struct fault_spec s;
    char err[256];

    (void)state;
    assert_int_equal(fault_spec_parse("5xx=0.2,429=0.1,reset=0.05,truncate=0.05,malformed=0.02,"
                                      "slow=0.05",
                                      &s, err, sizeof(err)),
                     0);
    assert_true(s.p[FAULT_5XX] == 0.2 && s.p[FAULT_SLOW] == 0.05);
    assert_int_equal(fault_spec_parse("", &s, err, sizeof(err)), 0);
    assert_true(s.p[FAULT_5XX] == 0);
    assert_int_equal(fault_spec_parse("reset=1", &s, err, sizeof(err)), 0);
    assert_int_equal(fault_decide(&s, 1, 0), FAULT_RESET);
    assert_int_equal(fault_decide(&s, 99, 12345), FAULT_RESET);
}

static void test_fault_spec_invalid(void **state)
{
    static const char *const bad[] = {
        "5xx",      "5xx=",     "5xx=x",    "boom=0.1",        "5xx=1.5",
        "5xx=-0.1", "5xx=0.1,", ",5xx=0.1", "5xx=0.7,429=0.7", "5xx=nan"};
    struct fault_spec s;
    char err[256];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(fault_spec_parse(bad[i], &s, err, sizeof(err)), -1);
        assert_true(strlen(err) > 0);
    }
}

static void test_fault_draws(void **state)
{
    struct fault_spec s;
    char err[64];
    int counts[FAULT_COUNT] = {0};

    (void)state;
    assert_int_equal(fault_spec_parse("5xx=0.25,truncate=0.25", &s, err, sizeof(err)), 0);
    for (unsigned long seq = 0; seq < 10000; seq++) {
        enum fault f = fault_decide(&s, 3, seq);
        assert_int_equal(f, fault_decide(&s, 3, seq));
        counts[f]++;
    }
    assert_true(counts[FAULT_5XX] > 2200 && counts[FAULT_5XX] < 2800);
    assert_true(counts[FAULT_TRUNCATE] > 2200 && counts[FAULT_TRUNCATE] < 2800);
    assert_int_equal(counts[FAULT_RESET], 0);
    assert_string_equal(fault_name(FAULT_MALFORMED), "malformed");
}

static void test_time_formats(void **state)
{
    char buf[SIM_TIME_SIZE];
    long long t;

    (void)state;
    fmt_iso(buf, sizeof(buf), SIM_EPOCH);
    assert_string_equal(buf, "2025-10-01T00:00:00Z");
    fmt_naive(buf, sizeof(buf), SIM_EPOCH + 2 * 86400 + 68499);
    assert_string_equal(buf, "2025-10-03 19:01:39");
    fmt_iso_frac(buf, sizeof(buf), SIM_EPOCH, 6, 42);
    assert_string_equal(buf, "2025-10-01T00:00:00.000042Z");
    fmt_iso_frac(buf, sizeof(buf), SIM_EPOCH, 3, 7);
    assert_string_equal(buf, "2025-10-01T00:00:00.007Z");
    fmt_compact(buf, sizeof(buf), SIM_EPOCH);
    assert_string_equal(buf, "20251001T000000Z");
    assert_int_equal(parse_iso("2025-10-01", &t), 0);
    assert_int_equal(t, SIM_EPOCH);
    assert_int_equal(parse_iso("2025-10-01T02:00:00.123+02:00", &t), 0);
    assert_int_equal(t, SIM_EPOCH);
    assert_int_equal(parse_iso("2025-10-01 00:00", &t), 0);
    assert_int_equal(t, SIM_EPOCH);
    assert_int_equal(parse_iso("2025-13-01", &t), -1);
    assert_int_equal(parse_iso("yesterday", &t), -1);
    assert_int_equal(parse_iso("2025-10-01T00:00:00Q", &t), -1);
    t = sim_base_time(1);
    assert_true(t >= SIM_EPOCH && t < SIM_EPOCH + 3 * 86400 && t % 60 == 0);
}

static void test_generators(void **state)
{
    struct rng r;
    char buf[64];
    struct person p;

    (void)state;
    rng_init(&r, 5, 5, 5);
    for (int i = 0; i < 200; i++) {
        gen_phone(&r, buf, sizeof(buf), true);
        assert_int_equal(buf[0], '+');
        assert_true(strlen(buf) >= 11 && strlen(buf) <= 16);
        for (const char *c = buf + 1; *c; c++)
            assert_true(isdigit((unsigned char)*c));
        gen_phone(&r, buf, sizeof(buf), false);
        assert_true(isdigit((unsigned char)buf[0]));
        gen_person(&r, &p);
        assert_true(strlen(p.full) > 0);
    }
    gen_uuid(&r, buf);
    assert_int_equal(strlen(buf), 36);
    assert_true(buf[8] == '-' && buf[13] == '-' && buf[18] == '-' && buf[23] == '-');
    gen_hex(&r, buf, 24);
    assert_int_equal(strspn(buf, "0123456789abcdef"), 24);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng_deterministic), cmocka_unit_test(test_rng_ranges),
        cmocka_unit_test(test_fault_spec_valid),  cmocka_unit_test(test_fault_spec_invalid),
        cmocka_unit_test(test_fault_draws),       cmocka_unit_test(test_time_formats),
        cmocka_unit_test(test_generators),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
