/**
 * @file jwt.c
 * HS256 JWT signing and verification on top of libcrypto's HMAC and base64.
 */
#include "jwt.h"

#include <json-c/json.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

char *b64url_encode(const void *data, size_t len)
{
    size_t cap = 4 * ((len + 2) / 3) + 1;
    char *out = malloc(cap);
    int n;

    if (!out)
        return NULL;
    n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (int i = 0; i < n; i++) {
        if (out[i] == '+')
            out[i] = '-';
        else if (out[i] == '/')
            out[i] = '_';
    }
    return out;
}

unsigned char *b64url_decode(const char *text, size_t textlen, size_t *outlen)
{
    size_t padded = (textlen + 3) / 4 * 4;
    char *tmp;
    unsigned char *out;
    int n;

    if (textlen % 4 == 1)
        return NULL;
    tmp = malloc(padded + 1);
    out = malloc(padded / 4 * 3 + 1);
    if (!tmp || !out)
        goto fail;
    for (size_t i = 0; i < textlen; i++) {
        char c = text[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (c == '+' || c == '/')
            goto fail;
        tmp[i] = c;
    }
    for (size_t i = textlen; i < padded; i++)
        tmp[i] = '=';
    tmp[padded] = '\0';
    n = EVP_DecodeBlock(out, (unsigned char *)tmp, (int)padded);
    if (n < 0)
        goto fail;
    /* EVP_DecodeBlock counts the padding bytes as zeros: drop them. */
    n -= (int)(padded - textlen);
    out[n] = '\0';
    *outlen = (size_t)n;
    free(tmp);
    return out;
fail:
    free(tmp);
    free(out);
    return NULL;
}

static char *signing_input(const char *payload_json)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *h = b64url_encode(header, sizeof(header) - 1);
    char *p = b64url_encode(payload_json, strlen(payload_json));
    char *out = NULL;

    if (h && p && asprintf(&out, "%s.%s", h, p) < 0)
        out = NULL;
    free(h);
    free(p);
    return out;
}

static int hs256(const void *key, size_t keylen, const char *msg, size_t msglen,
                 unsigned char mac[32])
{
    unsigned int maclen = 0;

    if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, msglen, mac, &maclen))
        return -1;
    return maclen == 32 ? 0 : -1;
}

char *jwt_hs256_sign(const char *payload_json, const void *key, size_t keylen)
{
    unsigned char mac[32];
    char *input = signing_input(payload_json);
    char *sig, *out = NULL;

    if (!input)
        return NULL;
    if (hs256(key, keylen, input, strlen(input), mac) < 0) {
        free(input);
        return NULL;
    }
    sig = b64url_encode(mac, sizeof(mac));
    if (sig && asprintf(&out, "%s.%s", input, sig) < 0)
        out = NULL;
    free(sig);
    free(input);
    return out;
}

static int header_is_hs256(const char *token, size_t len)
{
    size_t n;
    unsigned char *text = b64url_decode(token, len, &n);
    json_object *hdr, *alg;
    int ok;

    if (!text)
        return 0;
    hdr = json_tokener_parse((char *)text);
    free(text);
    ok = hdr && json_object_object_get_ex(hdr, "alg", &alg) &&
         json_object_is_type(alg, json_type_string) &&
         strcmp(json_object_get_string(alg), "HS256") == 0;
    json_object_put(hdr);
    return ok;
}

int jwt_hs256_verify(const char *token, const void *key, size_t keylen, char **payload_json)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    unsigned char mac[32];
    unsigned char *sig = NULL;
    size_t siglen = 0;
    int rc = -1;

    if (!dot1 || !dot2 || strchr(dot2 + 1, '.'))
        return -1;
    if (!header_is_hs256(token, (size_t)(dot1 - token)))
        return -1;
    if (hs256(key, keylen, token, (size_t)(dot2 - token), mac) < 0)
        return -1;
    sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &siglen);
    if (!sig || siglen != sizeof(mac) || CRYPTO_memcmp(sig, mac, sizeof(mac)) != 0)
        goto out;
    if (payload_json) {
        size_t n;
        *payload_json = (char *)b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &n);
        if (!*payload_json)
            goto out;
    }
    rc = 0;
out:
    free(sig);
    return rc;
}
