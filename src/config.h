/**
 * @file config.h
 * The campaignfs configuration file: INI (parsed with libinih), one section
 * per account.  config_load() validates everything it can without touching
 * the network or the secrets themselves; errors name file, line and key and
 * never quote a credential.  It also checks who may read and change the
 * file itself (see config_load()).
 */
#ifndef CAMPAIGNFS_CONFIG_H
#define CAMPAIGNFS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct provider;

/* Where a credential comes from.  The config never holds a resolved secret
 * from a file, env or command: secret_resolve() (secret.h) reads it. */
enum secret_source { SECRET_NONE = 0, SECRET_VALUE, SECRET_FILE, SECRET_ENV, SECRET_COMMAND };

struct secret_ref {
    enum secret_source source;
    char *value;     /* the literal, the file path, the variable name or the command */
    const char *key; /* config key it came from ("api_key_file"), static string */
    int line;        /* line of that key in the config file */
};

struct account_config {
    char *name; /* section name = directory name */
    int line;   /* line of the [section] header */
    const struct provider *provider;
    char *url; /* base URL without trailing '/'; provider default if unset */

    struct secret_ref api_key; /* altur, burki, truedy */

    char *stream_id;  /* koreai */
    char *account_id; /* koreai */
    char *client_id;  /* koreai, with client_secret */
    struct secret_ref client_secret;
    struct secret_ref jwt; /* koreai ready token: SECRET_VALUE (jwt) or SECRET_FILE (jwt_file) */

    long ttl;         /* seconds; -1 = the mount's -o ttl */
    char **campaigns; /* NULL-terminated list of campaign ids to show, NULL = all */
    double
        rate_limit;  /* requests per second (rate_parse()); -1 = provider default, 0 = unlimited */
    int concurrency; /* parallel requests; 0 = default */
    char *cacert;    /* CA bundle (PEM) for TLS, absolute path, checked at load; NULL = system */
};

struct config {
    char *path;
    struct account_config *accounts;
    size_t n_accounts;
};

/* Loads and validates path.  On error returns -1 and writes a one-line
 * message "FILE:LINE: [SECTION] key 'KEY': what is wrong; what to do" (or
 * "FILE: ..." when there is no line, e.g. the file cannot be opened) into
 * err.  0 on success; out->path is then absolute (the working directory
 * when path is relative), so that paths relative to the file still work
 * after the daemon's chdir("/").
 *
 * Like ssh with its config, the opened file (fstat, no second lookup) must
 * be owned by the running user or root and not writable by group or
 * others; a file that holds a credential itself (api_key, client_secret,
 * jwt) must also not be readable by them (mode & 077 == 0). */
int config_load(const char *path, struct config *out, char *err, size_t errlen);
void config_free(struct config *cfg);

/* Default config path: $XDG_CONFIG_HOME/campaignfs/config, else
 * $HOME/.config/campaignfs/config.  Returns a malloc'd string. */
char *config_default_path(void);

/* A path from the config as campaignfs opens it: "~/..." under $HOME,
 * relative to config_path's directory, absolute as given.  Malloc'd, NULL
 * when out of memory. */
char *config_expand_path(const char *value, const char *config_path);

/* Whether text taken from the config (a key name, a value, a path) may be
 * quoted back in a message: printable ASCII of at most 512 bytes with no run
 * of letters, digits, '+', '=' and '-' that has the shape of a credential
 * (32 bytes or more, or 8 or more that mix letters with digits or lower with
 * upper case after its first letter).  Otherwise a message describes the
 * text instead: a secret written under the wrong key is never echoed. */
bool config_text_quotable(const char *text);

#endif
