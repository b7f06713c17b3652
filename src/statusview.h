/**
 * @file statusview.h
 * `campaignfs --status [--watch] MOUNT`: reads MOUNT/.campaignfs/status (a
 * JSON document) and renders it for a person: a header, a block per
 * account (requests, bytes, retries, 429s, rate-limit wait, cache, errors
 * by class and the last error), and a progress line per fetch in flight
 * with a bar, a percentage, a rate and an ETA.  It only reads the file: it
 * knows nothing of the daemon's internals, so it works on any copy of the
 * document.
 */
#ifndef CAMPAIGNFS_STATUSVIEW_H
#define CAMPAIGNFS_STATUSVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Renders a status document (text of the JSON, len bytes, no NUL needed)
 * for a person onto out; width = terminal columns (<= 0: 80).  No line is
 * longer than width columns and no control character from the document
 * reaches out.  Returns 0, or -1 with a one-line reason in err (not JSON,
 * not a campaignfs status document). */
int statusview_render(const char *json, size_t len, int width, FILE *out, char *err, size_t errlen);

/* campaignfs --status MOUNT (watch false) / --status --watch MOUNT (watch
 * true) on stdout and stderr: see statusview_run().  Returns the process
 * exit status. */
int statusview_main(const char *mountpoint, bool watch);

/* statusview_main() onto any streams: reads MOUNT/.campaignfs/status and
 * renders it onto out.  With watch, redraws every second until SIGINT or
 * SIGTERM (in place when out is a terminal, else each frame followed by a
 * blank line), or until frames frames are drawn when frames > 0.  Returns
 * 0, or 1 with a message on errout naming the path and what to do when the
 * first read fails (later failures in watch mode are shown in the frame). */
int statusview_run(const char *mountpoint, bool watch, int frames, FILE *out, FILE *errout);

#endif
