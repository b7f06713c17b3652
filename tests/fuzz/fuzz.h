/**
 * @file fuzz.h
 * What the libFuzzer targets in tests/fuzz/ share: FUZZ_CHECK(), which
 * turns a broken invariant into a crash that libFuzzer saves as an input,
 * and the checks of a directory entry name and of a rendered record that
 * more than one target makes.
 */
#ifndef CAMPAIGNFS_FUZZ_H
#define CAMPAIGNFS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "listing.h"

/* libFuzzer's entry points (no header of its own in C). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Prints what was expected and where, then aborts (a libFuzzer crash). */
_Noreturn void fuzz_fail(const char *file, int line, const char *what);

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__FILE__, __LINE__, #cond);                                                  \
    } while (0)

/* FUZZ_STRICT=1 in the environment: also fail on the open findings that
 * tests/fuzz/README.md lists.  Without it they are let through, so that a
 * fuzz run still finds everything else until they are fixed. */
bool fuzz_strict(void);

/* Open finding (FUZZ_STRICT): every integer in rec, as parsed from body
 * (NUL-terminated), has the value body wrote.  json-c saturates integers
 * outside int64/uint64 to their limits. */
void fuzz_check_numbers_kept(json_object *rec, const char *body);

/* Whether len bytes of text are valid UTF-8 (no overlongs, surrogates or
 * code points past U+10FFFF). */
bool fuzz_utf8_valid(const char *text, size_t len);

/* A name campaignfs shows in a directory: non-empty, at most
 * NAME_MAX_BYTES, ends with suffix, no '/', no control byte, valid UTF-8,
 * not "." or "..", no leading dot. */
void fuzz_check_name(const char *name, const char *suffix);

/* A record as render_record() made it: len bytes, no NUL or control byte
 * but the line ends, one trailing newline, two-space indents, no trailing
 * white space, and the same bytes again when parsed and rendered anew. */
void fuzz_check_rendered(const char *bytes, size_t len);

/* A published listing: sorted distinct names that pass fuzz_check_name(),
 * records with a non-empty id, file bytes that pass fuzz_check_rendered(),
 * total_bytes their sum. */
void fuzz_check_listing(const struct listing *l);

#endif
