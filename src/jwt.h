/**
 * @file jwt.h
 * HS256 JSON Web Tokens (RFC 7519) with OpenSSL's libcrypto: campaignfs signs
 * the Kore.ai token, campaignfs-sim verifies it.  Pure functions of bytes.
 */
#ifndef CAMPAIGNFS_JWT_H
#define CAMPAIGNFS_JWT_H

#include <stddef.h>

/* base64url without padding.  Returns a malloc'd NUL-terminated string. */
char *b64url_encode(const void *data, size_t len);
/* Decodes base64url (padding optional).  Returns malloc'd bytes (NUL
 * terminated for convenience) and their length in *outlen, NULL if invalid. */
unsigned char *b64url_decode(const char *text, size_t textlen, size_t *outlen);

/* Signs payload_json (a JSON object text) with HS256.  Returns a malloc'd
 * "header.payload.signature" or NULL on allocation failure. */
char *jwt_hs256_sign(const char *payload_json, const void *key, size_t keylen);

/* Verifies an HS256 token: header alg must be HS256 and the signature must
 * match (constant-time compare).  On success returns 0 and, if payload_json
 * is not NULL, a malloc'd copy of the decoded payload text.  -1 otherwise. */
int jwt_hs256_verify(const char *token, const void *key, size_t keylen, char **payload_json);

#endif
