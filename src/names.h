/**
 * @file names.h
 * Turning identifiers that come from an API into safe, unique file names.
 */
#ifndef CAMPAIGNFS_NAMES_H
#define CAMPAIGNFS_NAMES_H

#include <stddef.h>

#define NAME_MAX_BYTES 255

/* Makes one directory entry name from an API string plus a suffix (".json"
 * or ""):
 *  - '%' , '/', NUL (impossible in C strings, but see raw_len), bytes < 0x20,
 *    0x7f are percent-encoded as %XX (upper-case hex);
 *  - invalid UTF-8 bytes are percent-encoded too; valid UTF-8 is kept as is;
 *  - a leading '.' is encoded as %2E (so ".", ".." and hidden names cannot
 *    appear); an empty id becomes "%empty" (unambiguous: '%' is otherwise
 *    always followed by two hex digits);
 *  - the result including the suffix is at most NAME_MAX_BYTES bytes: a
 *    longer one is cut at a UTF-8 boundary and gets "~" plus 16 hex digits
 *    of the SHA-256 of the full raw id before the suffix.
 * The mapping is injective for all ids whose encoded form fits in 255 bytes
 * (because '%' itself is encoded), and collision-resistant beyond that.
 * raw may contain NUL bytes: raw_len gives its length.
 * Returns a malloc'd name. */
char *name_from_id(const char *raw, size_t raw_len, const char *suffix);

/* Resolves collisions among names already made by name_from_id(): the
 * first occurrence (in the given order) keeps its name, the k-th repeat
 * (k = 2, 3, ...) becomes "<stem>~k<suffix>" where <stem> is the name minus
 * the suffix (still at most 255 bytes, still unique against every other
 * name in the set).  names is an array of n malloc'd strings, updated in
 * place (old strings freed).  Deterministic for the same input order.
 * Returns 0, or -1 on allocation failure. */
int names_make_unique(char **names, size_t n, const char *suffix);

/* Length of the valid UTF-8 sequence starting at s (2..4 bytes, within
 * avail), or 0 when the bytes there are not one (overlong forms,
 * surrogates, > U+10FFFF, truncated sequences, stray continuation bytes). */
size_t utf8_sequence_length(const unsigned char *s, size_t avail);

#endif
