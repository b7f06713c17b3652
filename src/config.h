/**
 * @file config.h
 * The campaignfs configuration file: INI (parsed with libinih), one section
 * per account.  config_load() validates everything it can without touching
 * the network or the secrets themselves; errors name file, line and key.
 */
#ifndef CAMPAIGNFS_CONFIG_H
#define CAMPAIGNFS_CONFIG_H

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
};

struct config {
    char *path;
    struct account_config *accounts;
    size_t n_accounts;
};

/* Loads and validates path.  On error returns -1 and writes a one-line
 * message "FILE:LINE: key 'KEY': what is wrong" (or "FILE: ..." when there is
 * no line, e.g. the file cannot be opened) into err.  0 on success. */
int config_load(const char *path, struct config *out, char *err, size_t errlen);
void config_free(struct config *cfg);

/* Default config path: $XDG_CONFIG_HOME/campaignfs/config, else
 * $HOME/.config/campaignfs/config.  Returns a malloc'd string. */
char *config_default_path(void);

#endif
