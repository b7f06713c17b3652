/**
 * @file fuzz_config.c
 * libFuzzer target: config_load() (config.h) on the input as a config
 * file.  config_load() takes a path, so each input is written to a file
 * (mode 0600, ours) in a temporary directory that also holds "ca.pem", a
 * file with a PEM certificate line, for relative cacert paths.
 *
 * Checks.  Refused: a one-line message that starts with the file's path.
 * Accepted: at least one account; distinct section names that can be
 * directory names; a provider, an http(s) base URL without trailing '/';
 * ttl, rate_limit and concurrency in their documented ranges; the
 * credentials that the provider needs; a campaigns list of non-empty ids.
 *
 * The loader opens the files that a config names (cacert).  Inputs are
 * random, so this target is linked with --wrap=open,--wrap=open64: the
 * library's open() reaches only files in the temporary directory (or fails
 * with ENOENT), never a device.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "provider.h"

#define CONCURRENCY_MAX 64 /* campaignfs.conf(5) */

static char dir[PATH_MAX];
static char conf_path[PATH_MAX];
static char pem_path[PATH_MAX];
static bool verbose; /* FUZZ_VERBOSE=1: print why each input was refused */

int __real_open(const char *path, int flags, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);

/* open() for the library: only below dir, no "..".  (open64 is open on
 * 64-bit systems.) */
static int sandboxed_open(const char *path, int flags, va_list ap)
{
    size_t n = strlen(dir);
    mode_t mode = flags & O_CREAT ? (mode_t)va_arg(ap, int) : 0;

    if (strncmp(path, dir, n) != 0 || path[n] != '/' || strstr(path, "..")) {
        errno = ENOENT;
        return -1;
    }
    return __real_open(path, flags, mode);
}

#define SANDBOXED(name)                                                                            \
    int name(const char *path, int flags, ...)                                                     \
    {                                                                                              \
        va_list ap;                                                                                \
        int fd;                                                                                    \
        va_start(ap, flags);                                                                       \
        fd = sandboxed_open(path, flags, ap);                                                      \
        va_end(ap);                                                                                \
        return fd;                                                                                 \
    }

SANDBOXED(__wrap_open)
SANDBOXED(__wrap_open64)

static void write_file(const char *path, const void *data, size_t size)
{
    int fd = __real_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const char *p = data;

    FUZZ_CHECK(fd >= 0);
    while (size > 0) {
        ssize_t n = write(fd, p, size);
        FUZZ_CHECK(n > 0);
        p += n;
        size -= (size_t)n;
    }
    FUZZ_CHECK(close(fd) == 0);
}

static void remove_files(void)
{
    unlink(conf_path);
    unlink(pem_path);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char pem[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const char *tmp = getenv("TMPDIR");

    (void)argc;
    (void)argv;
    snprintf(dir, sizeof(dir), "%s/campaignfs-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    FUZZ_CHECK(mkdtemp(dir) != NULL);
    snprintf(conf_path, sizeof(conf_path), "%s/config", dir);
    snprintf(pem_path, sizeof(pem_path), "%s/ca.pem", dir);
    write_file(pem_path, pem, sizeof(pem) - 1);
    atexit(remove_files);
    verbose = getenv("FUZZ_VERBOSE") != NULL;
    return 0;
}

static void check_refused(const char *err)
{
    FUZZ_CHECK(err[0] != '\0');
    FUZZ_CHECK(strncmp(err, conf_path, strlen(conf_path)) == 0);
    FUZZ_CHECK(!strchr(err, '\n'));
}

static void check_secret(const struct secret_ref *ref, bool needed)
{
    FUZZ_CHECK(!needed || ref->source != SECRET_NONE);
    FUZZ_CHECK(ref->source == SECRET_NONE || (ref->value && ref->key));
}

static void check_account(const struct account_config *acc)
{
    size_t name_len = strlen(acc->name);

    FUZZ_CHECK(name_len > 0 && name_len <= 255 && acc->name[0] != '.' && !strchr(acc->name, '/'));
    FUZZ_CHECK(acc->provider != NULL && acc->url != NULL);
    FUZZ_CHECK(strncasecmp(acc->url, "http://", 7) == 0 ||
               strncasecmp(acc->url, "https://", 8) == 0);
    FUZZ_CHECK(acc->url[strlen(acc->url) - 1] != '/');
    FUZZ_CHECK(acc->ttl >= -1);
    FUZZ_CHECK(acc->rate_limit >= 0 || acc->rate_limit == -1);
    FUZZ_CHECK(acc->concurrency >= 0 && acc->concurrency <= CONCURRENCY_MAX);
    if (acc->provider->auth == AUTH_KOREAI) {
        FUZZ_CHECK(acc->stream_id && acc->account_id);
        check_secret(&acc->client_secret, acc->client_id != NULL);
        check_secret(&acc->jwt, acc->client_id == NULL);
    } else {
        check_secret(&acc->api_key, true);
    }
    for (char **c = acc->campaigns; c && *c; c++)
        FUZZ_CHECK(**c != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config cfg;
    char err[2048];

    write_file(conf_path, data, size);
    if (config_load(conf_path, &cfg, err, sizeof(err)) < 0) {
        if (verbose)
            fprintf(stderr, "refused: %s\n", err);
        check_refused(err);
        return 0;
    }
    FUZZ_CHECK(cfg.n_accounts >= 1 && cfg.accounts && cfg.path && cfg.path[0] == '/');
    for (size_t i = 0; i < cfg.n_accounts; i++) {
        check_account(&cfg.accounts[i]);
        for (size_t j = 0; j < i; j++)
            FUZZ_CHECK(strcmp(cfg.accounts[i].name, cfg.accounts[j].name) != 0);
    }
    if (verbose)
        fprintf(stderr, "accepted: %zu accounts\n", cfg.n_accounts);
    config_free(&cfg);
    return 0;
}
