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

/* Default time limit of a *_command, in milliseconds. */
#define SECRET_COMMAND_TIMEOUT_MS 30000

/* Resolves ref.  Surrounding white space (spaces, tabs, CR, LF) is
 * stripped; an empty result, or one with a line break or other control
 * character inside, is an error.  A *_file must not be readable by group
 * or others (mode & 077 == 0) or the call fails with a message saying to
 * chmod 600; "~/" and relative paths as config_expand_path().
 * A *_env variable is read once: its value is then overwritten in place in
 * the environment (so /proc/self/environ no longer shows it) and the
 * variable unset; the value is remembered for the next account that names
 * it, until secret_forget().  Resolve before starting threads that read the
 * environment, and never point *_env at a string given to putenv() that is
 * not writable.
 * A *_command runs with /bin/sh -c in a process group of its own, stdin
 * from /dev/null, stderr passed through; its stdout is the secret and is
 * never part of a message.  A non-zero exit, death by a signal, more than
 * 64 KiB of output, or not finishing within the time limit (the group is
 * then sent SIGTERM, then SIGKILL) is an error.
 * Returns a malloc'd secret (caller frees with secret_free) or NULL with a
 * one-line message in err: "CONFIG:LINE: [ACCOUNT] key 'KEY': ...". */
char *secret_resolve(const struct secret_ref *ref, const char *account, const char *config_path,
                     char *err, size_t errlen);

/* Overwrites the secret with zeros, then frees it. */
void secret_free(char *secret);

/* Wipes the credentials remembered from environment variables.  Optional
 * (e.g. at exit); a later *_env of the same variable then fails as unset. */
void secret_forget(void);

/* Sets the *_command time limit in milliseconds (<= 0: the default).  Call
 * before resolving from more than one thread; tests use a short limit. */
void secret_set_command_timeout(long ms);

#endif
