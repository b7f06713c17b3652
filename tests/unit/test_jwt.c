/**
 * @file test_jwt.c
 * HS256 JWT: a known RFC 7515-style vector, round trips, tampering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt.h"

static void test_b64url_roundtrip(void **state)
{
    (void)state;
    const unsigned char data[] = {0xfb, 0xff, 0x00, 0x3e, 0x3f, 'a'};
    for (size_t n = 0; n <= sizeof(data); n++) {
        char *enc = b64url_encode(data, n);
        size_t len = 0;
        unsigned char *dec;

        assert_non_null(enc);
        assert_null(strchr(enc, '='));
        assert_null(strchr(enc, '+'));
        assert_null(strchr(enc, '/'));
        dec = b64url_decode(enc, strlen(enc), &len);
        assert_non_null(dec);
        assert_int_equal(len, n);
        assert_memory_equal(dec, data, n);
        free(enc);
        free(dec);
    }
    assert_null(b64url_decode("a", 1, &(size_t){0}));
    assert_null(b64url_decode("ab+c", 4, &(size_t){0}));
}

/* Expected value computed independently with Python's hmac/hashlib. */
static void test_sign_known_vector(void **state)
{
    (void)state;
    char *tok = jwt_hs256_sign("{\"sub\":\"campaignfs\",\"appId\":\"cs-1\"}", "secret", 6);

    assert_non_null(tok);
    assert_string_equal(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
                             "eyJzdWIiOiJjYW1wYWlnbmZzIiwiYXBwSWQiOiJjcy0xIn0."
                             "ZH-DY-Q0EZIRAvBTx9tBqdTAm0QWOUiPmMtTlNUE5BQ");
    free(tok);
}

static void test_verify(void **state)
{
    (void)state;
    char *tok = jwt_hs256_sign("{\"appId\":\"x\"}", "k1", 2);
    char *payload = NULL;

    assert_int_equal(jwt_hs256_verify(tok, "k1", 2, &payload), 0);
    assert_string_equal(payload, "{\"appId\":\"x\"}");
    free(payload);
    assert_int_equal(jwt_hs256_verify(tok, "k2", 2, NULL), -1);
    tok[strlen(tok) - 2] ^= 1; /* tamper with the signature */
    assert_int_equal(jwt_hs256_verify(tok, "k1", 2, NULL), -1);
    assert_int_equal(jwt_hs256_verify("a.b", "k1", 2, NULL), -1);
    assert_int_equal(jwt_hs256_verify("a.b.c.d", "k1", 2, NULL), -1);
    free(tok);
}

static void test_verify_rejects_alg_none(void **state)
{
    (void)state;
    /* {"alg":"none"} . {"appId":"x"} . (signature of k1 over another header) */
    char *good = jwt_hs256_sign("{\"appId\":\"x\"}", "k1", 2);
    char *sig = strrchr(good, '.');
    char *bad = NULL;

    assert_true(asprintf(&bad, "eyJhbGciOiJub25lIn0.eyJhcHBJZCI6IngifQ%s", sig) > 0);
    assert_int_equal(jwt_hs256_verify(bad, "k1", 2, NULL), -1);
    free(bad);
    free(good);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64url_roundtrip),
        cmocka_unit_test(test_sign_known_vector),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_verify_rejects_alg_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
