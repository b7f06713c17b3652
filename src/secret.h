/**
 * @file secret.h
 * Resolving a credential reference (literal, file, environment variable or
 * command output) to its value.  Errors name the account, config file, line
 * and key, never the secret itself.
 */
#ifndef CAMPAIGNFS_SECRET_H
#define CAMPAIGNFS_SECRET_H

#include <stddef.h>

#include "config.h"

/* Resolves ref.  Surrounding white space and a trailing newline are
 * stripped; an empty result is an error.  A *_file must not be readable by
 * group or others (mode & 077 == 0) or the call fails with a message saying
 * to chmod 600.  A *_command runs with /bin/sh -c, stdin from /dev/null, its
 * stdout is the secret; a non-zero exit is an error.
 * Returns a malloc'd secret (caller frees with secret_free) or NULL with a
 * one-line message in err: "CONFIG:LINE: [ACCOUNT] key 'KEY': ...". */
char *secret_resolve(const struct secret_ref *ref, const char *account, const char *config_path,
                     char *err, size_t errlen);

/* Overwrites the secret with zeros, then frees it. */
void secret_free(char *secret);

#endif
