/**
 * @file output.h
 * What the simulator writes once it listens: the port file and a
 * campaignfs configuration for itself (both written atomically: a
 * temporary file renamed into place, so a reader never sees half).
 */
#ifndef CAMPAIGNFS_SIM_OUTPUT_H
#define CAMPAIGNFS_SIM_OUTPUT_H

#include "sim.h"

#include <stddef.h>

/* The host:port clients should use ("127.0.0.1:8080", "[::1]:8080");
 * wildcard addresses become loopback. */
void output_authority(const struct sim *s, char *buf, size_t len);
/* The campaignfs INI text for this simulator (malloc'd). */
char *output_config(const struct sim *s);
/* Writes text to path atomically.  0, or -1 with errno. */
int output_write_atomic(const char *path, const char *text);

#endif
