/**
 * @file views.h
 * One-file views of a listing: `contacts.ndjson` / `calls.ndjson` (one
 * compact JSON record per line) and `contacts.csv` (RFC 4180, a header of
 * the union of the records' top-level keys).  A view is only an index of
 * where each record's line starts in the file (plus, for CSV, the header):
 * the lines are rendered on read from the listing's own record bytes, so
 * the records are never held twice.
 *
 * The records of a view are the listing's ENTRY_FILE entries in the
 * listing's order (sorted by name, as `ls` shows them); other entries are
 * skipped.
 *
 * NDJSON: each record's rendered bytes with every JSON whitespace character
 * outside strings removed (and any raw CR or LF, which valid JSON never
 * holds), then '\n'.  Numbers, strings and keys are kept byte for byte, so
 * a line is json-c's JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE
 * output of the record.
 *
 * CSV: a header row of the records' top-level keys in first-seen order,
 * then one row per record; a string cell is its decoded text, a number its
 * JSON text as rendered, true/false as such, null and a missing key empty,
 * an object or array its compact JSON.  A cell is quoted (inner quotes
 * doubled) when it holds a comma, a quote, CR or LF, or begins or ends with
 * a space; with a single column an empty cell is written "" so the row is
 * not a blank line.  Rows end with CRLF.  A record that is not one strict
 * JSON object (RFC 8259, nesting at most VIEW_MAX_DEPTH) gives a row of
 * empty cells; if a key appears twice in a record its last value wins.
 *
 * A listing with no records gives an empty file for both kinds.
 */
#ifndef CAMPAIGNFS_VIEWS_H
#define CAMPAIGNFS_VIEWS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Records nested deeper than this are not parsed for CSV (json-c's own
 * parser stops at 32 levels by default). */
#define VIEW_MAX_DEPTH 512

struct listing;

/* An index of one view of one listing: immutable once built (so any number
 * of threads may read it at once), freed with view_free(). */
struct view;

enum view_kind {
    VIEW_NDJSON, /* one compact JSON record per line */
    VIEW_CSV,    /* RFC 4180 with a header row */
};

/* Measures the view of l: one pass over its records.  The view refers to
 * l by its serial number; it holds no pointer into it.  NULL on out of
 * memory. */
struct view *view_build(const struct listing *l, enum view_kind kind);

/* The view's exact size in bytes. */
uint64_t view_size(const struct view *v);

/* The kind it was built as. */
enum view_kind view_kind_of(const struct view *v);

/* Copies bytes [off, off + len) of the view of l (the listing it was built
 * from) into buf, rendering only the records that overlap them.  Returns
 * the number copied: less than len only at the end of the view, 0 at or
 * past it.  -1 with errno ENOMEM on out of memory (CSV only; an NDJSON read
 * never allocates), or EINVAL when l is not the listing the view was built
 * from. */
ssize_t view_read(const struct view *v, const struct listing *l, uint64_t off, char *buf,
                  size_t len);

/* Frees a view (NULL is allowed). */
void view_free(struct view *v);

/* How many bytes the view holds: the struct, the line offsets (8 bytes per
 * listing entry) and, for CSV, the header's keys, lookup table and line. */
size_t view_memory(const struct view *v);

#endif
