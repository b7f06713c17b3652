/**
 * @file creds.h
 * The simulator's credentials, one set per provider, derived from the
 * seed (so a config written for one run works for the next with the same
 * seed).
 */
#ifndef CAMPAIGNFS_SIM_CREDS_H
#define CAMPAIGNFS_SIM_CREDS_H

#include <stdint.h>

struct creds {
    char altur_key[48];
    char burki_key[48];
    char truedy_key[48];       /* "truedy_..." */
    char koreai_stream[48];    /* "st-<uuid>" */
    char koreai_account[32];   /* 24 hex */
    char koreai_client_id[48]; /* "cs-<uuid>" */
    char koreai_secret[48];
};

void creds_generate(struct creds *c, uint64_t seed);

#endif
