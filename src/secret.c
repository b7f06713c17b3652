/**
 * @file secret.c
 * Resolving a credential reference from the config (secret_ref) to the
 * credential itself: a literal, a file that only its owner can read, an
 * environment variable, or the standard output of a command run with
 * /bin/sh -c.  Every buffer that held a secret is zeroed before it is
 * freed, and no error message ever contains the secret (nor the command,
 * which may embed one).
 */
#include "secret.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define SECRET_MAX_BYTES (64 * 1024)

extern char **environ;

/* Where the error message comes from and goes to. */
struct secret_ctx {
    const struct secret_ref *ref;
    const char *account;
    const char *config_path;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static void secret_fail(const struct secret_ctx *ctx,
                                                              const char *fmt, ...)
{
    char what[768];
    va_list ap;

    if (!ctx->err || ctx->errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    snprintf(ctx->err, ctx->errlen, "%s:%d: [%s] key '%s': %s",
             ctx->config_path ? ctx->config_path : "config", ctx->ref->line,
             ctx->account ? ctx->account : "?", ctx->ref->key ? ctx->ref->key : "?", what);
}

/* A buffer that may hold a secret: zeroed before it is freed. */
struct secret_buf {
    char *data;
    size_t len;
};

static int secret_buf_init(struct secret_buf *b)
{
    b->len = 0;
    b->data = malloc(SECRET_MAX_BYTES + 1);
    return b->data ? 0 : -1;
}

static void secret_buf_wipe(struct secret_buf *b)
{
    if (!b->data)
        return;
    explicit_bzero(b->data, SECRET_MAX_BYTES + 1);
    free(b->data);
    b->data = NULL;
    b->len = 0;
}

/* Reads fd into b until EOF or SECRET_MAX_BYTES + 1 bytes.  Returns 0, or
 * -1 with errno set. */
static int secret_buf_read_fd(struct secret_buf *b, int fd)
{
    while (b->len <= SECRET_MAX_BYTES) {
        ssize_t n = read(fd, b->data + b->len, SECRET_MAX_BYTES + 1 - b->len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        b->len += (size_t)n;
    }
    return 0;
}

/* Copies b without its surrounding white space into a new exact-size
 * string; wipes b.  NULL (and an error) when nothing is left. */
static char *secret_buf_finish(const struct secret_ctx *ctx, struct secret_buf *b,
                               const char *origin)
{
    size_t start = 0, end = b->len;
    char *out = NULL;

    while (start < end && isspace((unsigned char)b->data[start]))
        start++;
    while (end > start && isspace((unsigned char)b->data[end - 1]))
        end--;
    if (end == start) {
        secret_fail(ctx, "%s is empty; it must hold the credential", origin);
    } else if (memchr(b->data + start, '\0', end - start)) {
        secret_fail(ctx, "%s contains a NUL byte; a credential must be text", origin);
    } else {
        out = strndup(b->data + start, end - start);
        if (!out)
            secret_fail(ctx, "out of memory");
    }
    secret_buf_wipe(b);
    return out;
}

/* ---- sources ---- */

/* A secret given as text (the config value, an environment variable). */
static char *secret_from_text(const struct secret_ctx *ctx, const char *text, const char *origin)
{
    struct secret_buf b;
    size_t len = strlen(text);

    if (len > SECRET_MAX_BYTES) {
        secret_fail(ctx, "%s is larger than 64 KiB; it should hold only the credential", origin);
        return NULL;
    }
    if (secret_buf_init(&b) < 0) {
        secret_fail(ctx, "out of memory");
        return NULL;
    }
    memcpy(b.data, text, len);
    b.len = len;
    return secret_buf_finish(ctx, &b, origin);
}

/* The file path as given, "~/..." under $HOME, or relative to the config
 * file's directory (campaignfs runs from "/" once daemonized).  Malloc'd. */
static char *secret_file_path(const char *value, const char *config_path)
{
    const char *home = getenv("HOME");
    const char *slash;
    char *out = NULL;

    if (value[0] == '/' || !config_path)
        return strdup(value);
    if (strncmp(value, "~/", 2) == 0 && home && *home) {
        if (asprintf(&out, "%s/%s", home, value + 2) < 0)
            return NULL;
        return out;
    }
    slash = strrchr(config_path, '/');
    if (!slash)
        return strdup(value);
    if (asprintf(&out, "%.*s/%s", (int)(slash - config_path), config_path, value) < 0)
        return NULL;
    return out;
}

/* Checks the opened secret file: a regular file only its owner can read. */
static int secret_file_check(const struct secret_ctx *ctx, int fd, const char *path)
{
    struct stat st;

    if (fstat(fd, &st) < 0) {
        secret_fail(ctx, "cannot stat '%s': %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        secret_fail(ctx,
                    "'%s' is not a regular file; point the key at a file holding the credential",
                    path);
        return -1;
    }
    if (st.st_mode & 077) {
        secret_fail(ctx, "'%s' can be read by group or others (mode %04o); run chmod 600 %s", path,
                    (unsigned)(st.st_mode & 07777), path);
        return -1;
    }
    if (st.st_size > SECRET_MAX_BYTES) {
        secret_fail(ctx, "'%s' is larger than 64 KiB; it should hold only the credential", path);
        return -1;
    }
    return 0;
}

/* Reads the opened, checked file into b.  Returns 0 or -1 (error written,
 * b wiped). */
static int secret_file_slurp(const struct secret_ctx *ctx, int fd, const char *path,
                             struct secret_buf *b)
{
    if (secret_buf_init(b) < 0) {
        secret_fail(ctx, "out of memory");
        return -1;
    }
    if (secret_buf_read_fd(b, fd) < 0) {
        secret_fail(ctx, "cannot read '%s': %s", path, strerror(errno));
        secret_buf_wipe(b);
        return -1;
    }
    if (b->len > SECRET_MAX_BYTES) {
        secret_fail(ctx, "'%s' is larger than 64 KiB; it should hold only the credential", path);
        secret_buf_wipe(b);
        return -1;
    }
    return 0;
}

static char *secret_read_file(const struct secret_ctx *ctx, const char *path)
{
    struct secret_buf b = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int rc;
    char *origin;
    char *secret;

    if (fd < 0) {
        secret_fail(ctx, "cannot open '%s': %s; check the path", path, strerror(errno));
        return NULL;
    }
    rc = secret_file_check(ctx, fd, path);
    if (rc == 0)
        rc = secret_file_slurp(ctx, fd, path, &b);
    close(fd);
    if (rc < 0)
        return NULL;
    if (asprintf(&origin, "'%s'", path) < 0) {
        secret_fail(ctx, "out of memory");
        secret_buf_wipe(&b);
        return NULL;
    }
    secret = secret_buf_finish(ctx, &b, origin);
    free(origin);
    return secret;
}

static char *secret_from_file(const struct secret_ctx *ctx)
{
    char *path = secret_file_path(ctx->ref->value, ctx->config_path);
    char *secret;

    if (!path) {
        secret_fail(ctx, "out of memory");
        return NULL;
    }
    secret = secret_read_file(ctx, path);
    free(path);
    return secret;
}

static char *secret_from_env(const struct secret_ctx *ctx)
{
    const char *name = ctx->ref->value;
    const char *value = getenv(name);
    char origin[256];

    if (!value) {
        secret_fail(ctx, "environment variable %s is not set; export it before mounting", name);
        return NULL;
    }
    snprintf(origin, sizeof(origin), "environment variable %s", name);
    return secret_from_text(ctx, value, origin);
}

/* ---- command ---- */

/* Starts "/bin/sh -c command" with stdin from /dev/null and stdout into
 * out_fd (the write end of a pipe), default signal dispositions and an
 * empty signal mask.  Returns 0 or an errno value. */
static int command_spawn(const char *command, int out_fd, pid_t *pid)
{
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t all, none;
    int rc;

    sigfillset(&all);
    sigemptyset(&none);
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    rc = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

/* Waits for pid; returns its wait status or -1. */
static int command_wait(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

/* Explains a failed wait status. */
static void command_status_fail(const struct secret_ctx *ctx, int status)
{
    if (status < 0)
        secret_fail(ctx, "cannot wait for the command: %s", strerror(errno));
    else if (WIFSIGNALED(status))
        secret_fail(ctx, "the command was killed by signal %d (%s); run it by hand to see why",
                    WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        secret_fail(ctx, "the command exited with status %d; run it by hand to see why",
                    WEXITSTATUS(status));
}

/* Runs the command and collects its stdout into b.  Returns 0 or -1 (with
 * the error written); b is wiped on error. */
static int command_capture(const struct secret_ctx *ctx, struct secret_buf *b)
{
    int fds[2];
    pid_t pid;
    int rc, status, read_rc;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        secret_fail(ctx, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    rc = command_spawn(ctx->ref->value, fds[1], &pid);
    close(fds[1]);
    if (rc != 0) {
        close(fds[0]);
        secret_fail(ctx, "cannot run /bin/sh: %s", strerror(rc));
        return -1;
    }
    read_rc = secret_buf_read_fd(b, fds[0]);
    close(fds[0]); /* a command still writing past the limit gets SIGPIPE */
    status = command_wait(pid);
    if (read_rc < 0)
        secret_fail(ctx, "cannot read the command's output: %s", strerror(errno));
    else if (b->len > SECRET_MAX_BYTES)
        secret_fail(ctx, "the command wrote more than 64 KiB; it should print only the credential");
    else if (status != 0)
        command_status_fail(ctx, status);
    else
        return 0;
    secret_buf_wipe(b);
    return -1;
}

static char *secret_from_command(const struct secret_ctx *ctx)
{
    struct secret_buf b;

    if (secret_buf_init(&b) < 0) {
        secret_fail(ctx, "out of memory");
        return NULL;
    }
    if (command_capture(ctx, &b) < 0)
        return NULL;
    return secret_buf_finish(ctx, &b, "the command's output");
}

char *secret_resolve(const struct secret_ref *ref, const char *account, const char *config_path,
                     char *err, size_t errlen)
{
    struct secret_ctx ctx = {ref, account, config_path, err, errlen};

    if (err && errlen)
        err[0] = '\0';
    if (ref->source == SECRET_NONE || !ref->value) {
        secret_fail(&ctx, "no credential given; set it in the config file");
        return NULL;
    }
    switch (ref->source) {
    case SECRET_VALUE:
        return secret_from_text(&ctx, ref->value, "the value");
    case SECRET_FILE:
        return secret_from_file(&ctx);
    case SECRET_ENV:
        return secret_from_env(&ctx);
    case SECRET_COMMAND:
        return secret_from_command(&ctx);
    case SECRET_NONE:
        break;
    }
    secret_fail(&ctx, "unknown credential source; this is a bug");
    return NULL;
}

void secret_free(char *secret)
{
    if (!secret)
        return;
    explicit_bzero(secret, strlen(secret));
    free(secret);
}
