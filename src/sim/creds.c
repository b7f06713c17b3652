/**
 * @file creds.c
 * Deterministic credentials.
 */
#include "creds.h"

#include "data.h"
#include "gen.h"

#include <string.h>

void creds_generate(struct creds *c, uint64_t seed)
{
    struct rng r;

    rng_init(&r, seed, STREAM_CREDS, 0);
    gen_hex(&r, c->altur_key, 40);
    memcpy(c->burki_key, "bk_", 3);
    gen_alnum(&r, c->burki_key + 3, 40);
    memcpy(c->truedy_key, "truedy_", 7);
    gen_alnum(&r, c->truedy_key + 7, 32);
    memcpy(c->koreai_stream, "st-", 3);
    gen_uuid(&r, c->koreai_stream + 3);
    gen_hex(&r, c->koreai_account, 24);
    memcpy(c->koreai_client_id, "cs-", 3);
    gen_uuid(&r, c->koreai_client_id + 3);
    gen_alnum(&r, c->koreai_secret, 40);
}
