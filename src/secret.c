/**
 * @file secret.c
 * Resolving a credential reference from the config (secret_ref) to the
 * credential itself: a literal, a file that only its owner can read, an
 * environment variable, or the standard output of a command run with
 * /bin/sh -c.  Every buffer that held a secret is zeroed before it is
 * freed, and no error message ever contains the secret, the command (which
 * may embed one) or the command's output; a path or variable name is quoted
 * only when it does not have the shape of a credential
 * (config_text_quotable()).
 *
 * An environment variable is scrubbed once read: its value is overwritten
 * in place, in the process's original environment block that
 * /proc/PID/environ shows, and the variable is unset, so that neither
 * /proc nor a later child process sees it.  The value is remembered here
 * for another account naming the same variable.
 *
 * A command runs in a process group of its own (given the terminal while it
 * runs, when campaignfs has it, so that a password prompt on /dev/tty still
 * works) and has a time limit, after which the whole group is stopped.
 */
#include "secret.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define SECRET_MAX_BYTES (64 * 1024)
#define COMMAND_GRACE_MS 1000 /* between SIGTERM and SIGKILL of a command's group */

extern char **environ;

static long command_timeout_ms = SECRET_COMMAND_TIMEOUT_MS;

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

/* Milliseconds until deadline (CLOCK_MONOTONIC), at most a day, 0 if past. */
static long ms_left(const struct timespec *deadline)
{
    struct timespec now;
    long long ms;

    clock_gettime(CLOCK_MONOTONIC, &now);
    ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
         (deadline->tv_nsec - now.tv_nsec) / 1000000;
    if (ms <= 0)
        return 0;
    return ms > 86400000 ? 86400000 : (long)ms;
}

static struct timespec deadline_in(long ms)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    t.tv_sec += ms / 1000;
    t.tv_nsec += (ms % 1000) * 1000000;
    if (t.tv_nsec >= 1000000000) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000;
    }
    return t;
}

/* Waits until fd is readable or the deadline (NULL: no wait needed, fd
 * blocks).  Returns 0, 1 at the deadline, -1 with errno set. */
static int fd_wait_readable(int fd, const struct timespec *deadline)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int n;

    if (!deadline)
        return 0;
    do {
        long left = ms_left(deadline);

        if (left == 0)
            return 1;
        n = poll(&p, 1, (int)left);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -1;
    return n == 0 ? 1 : 0;
}

/* Reads fd into b until EOF or SECRET_MAX_BYTES + 1 bytes, or until the
 * deadline (NULL: none).  Returns 0, 1 at the deadline, or -1 with errno
 * set. */
static int secret_buf_read_fd(struct secret_buf *b, int fd, const struct timespec *deadline)
{
    while (b->len <= SECRET_MAX_BYTES) {
        int ready = fd_wait_readable(fd, deadline);
        ssize_t n;

        if (ready != 0)
            return ready;
        n = read(fd, b->data + b->len, SECRET_MAX_BYTES + 1 - b->len);
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

/* Whether text[0..len) holds a control character (a line break inside a
 * credential would end up as a header line of its own). */
static bool has_control(const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
            return true;
    return false;
}

/* Copies b without its surrounding white space into a new exact-size
 * string; wipes b.  NULL (and an error) when nothing is left or the rest is
 * not one line of text. */
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
    } else if (has_control(b->data + start, end - start)) {
        secret_fail(ctx,
                    "%s has a line break or control character inside the credential; it must "
                    "hold only the credential, on one line",
                    origin);
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
    if (secret_buf_read_fd(b, fd, NULL) < 0) {
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

/* The file cannot be opened: its path is shown unless it has the shape of
 * a credential (then the credential was likely written instead of a path). */
static void secret_open_fail(const struct secret_ctx *ctx, const char *path, int error)
{
    if (config_text_quotable(path))
        secret_fail(ctx, "cannot open '%s': %s; check the path", path, strerror(error));
    else
        secret_fail(ctx,
                    "cannot open the file it names: %s; check the path (not shown: it has the "
                    "shape of a credential; the key takes the path of a file holding it)",
                    strerror(error));
}

static char *secret_read_file(const struct secret_ctx *ctx, const char *path)
{
    struct secret_buf b = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    int rc;
    char *origin;
    char *secret;

    if (fd < 0) {
        secret_open_fail(ctx, path, errno);
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
    char *path = config_expand_path(ctx->ref->value, ctx->config_path);
    char *secret;

    if (!path) {
        secret_fail(ctx, "out of memory");
        return NULL;
    }
    secret = secret_read_file(ctx, path);
    free(path);
    return secret;
}

/* ---- environment ---- */

/* Credentials taken from the environment, by variable name, until
 * secret_forget(); env_lock guards them and the scrubbing. */
struct env_memo {
    char *name;
    char *value;
};

static pthread_mutex_t env_lock = PTHREAD_MUTEX_INITIALIZER;
static struct env_memo *env_memos;
static size_t env_memo_count;

static const char *env_memo_find(const char *name)
{
    for (size_t i = 0; i < env_memo_count; i++)
        if (strcmp(env_memos[i].name, name) == 0)
            return env_memos[i].value;
    return NULL;
}

static int env_memo_add(const char *name, const char *value)
{
    struct env_memo *grown = realloc(env_memos, (env_memo_count + 1) * sizeof(*grown));
    struct env_memo m = {strdup(name), strdup(value)};

    if (grown)
        env_memos = grown;
    if (!grown || !m.name || !m.value) {
        free(m.name);
        secret_free(m.value);
        return -1;
    }
    env_memos[env_memo_count++] = m;
    return 0;
}

void secret_forget(void)
{
    pthread_mutex_lock(&env_lock);
    for (size_t i = 0; i < env_memo_count; i++) {
        free(env_memos[i].name);
        secret_free(env_memos[i].value);
    }
    free(env_memos);
    env_memos = NULL;
    env_memo_count = 0;
    pthread_mutex_unlock(&env_lock);
}

/* Overwrites the value of every "name=value" entry of the environment in
 * place (the strings of the original block are the ones /proc/PID/environ
 * shows), then unsets name. */
static void env_scrub(const char *name)
{
    size_t n = strlen(name);

    for (char **e = environ; e && *e; e++)
        if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
            explicit_bzero(*e + n + 1, strlen(*e + n + 1));
    unsetenv(name);
}

/* Reads the variable into a new secret, scrubs it and remembers the value. */
static char *env_take(const struct secret_ctx *ctx, const char *name, const char *origin)
{
    const char *value = getenv(name);
    char *secret;

    if (!value) {
        secret_fail(ctx, "%s is not set; export it before mounting", origin);
        return NULL;
    }
    secret = secret_from_text(ctx, value, origin);
    env_scrub(name);
    if (secret && env_memo_add(name, secret) < 0) {
        secret_fail(ctx, "out of memory");
        secret_free(secret);
        secret = NULL;
    }
    return secret;
}

static char *secret_from_env(const struct secret_ctx *ctx)
{
    const char *name = ctx->ref->value;
    const char *known;
    char origin[300];
    char *secret;

    if (!*name || strchr(name, '=')) {
        secret_fail(ctx, "the value is not the name of an environment variable");
        return NULL;
    }
    if (config_text_quotable(name))
        snprintf(origin, sizeof(origin), "environment variable %s", name);
    else
        snprintf(origin, sizeof(origin),
                 "the environment variable it names (not shown: the "
                 "name has the shape of a credential)");
    pthread_mutex_lock(&env_lock);
    known = env_memo_find(name);
    if (known) {
        secret = strdup(known);
        if (!secret)
            secret_fail(ctx, "out of memory");
    } else {
        secret = env_take(ctx, name, origin);
    }
    pthread_mutex_unlock(&env_lock);
    return secret;
}

/* ---- command ---- */

void secret_set_command_timeout(long ms)
{
    command_timeout_ms = ms > 0 ? ms : SECRET_COMMAND_TIMEOUT_MS;
}

/* Starts "/bin/sh -c command" in a process group of its own, with stdin
 * from /dev/null and stdout into out_fd (the write end of a pipe), default
 * signal dispositions and an empty signal mask.  Returns 0 or an errno
 * value. */
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
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETPGROUP);
    rc = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

/* The controlling terminal, open, when campaignfs's process group is in
 * its foreground; else -1. */
static int terminal_open_foreground(void)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

    if (fd >= 0 && tcgetpgrp(fd) != getpgrp()) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Puts process group pgrp in the terminal's foreground (SIGTTOU blocked:
 * taking it back happens from the background). */
static void terminal_set_foreground(int tty, pid_t pgrp)
{
    sigset_t ttou, old;

    if (tty < 0)
        return;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    pthread_sigmask(SIG_BLOCK, &ttou, &old);
    (void)tcsetpgrp(tty, pgrp);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Waits, without reaping it, until pid has ended or the deadline has
 * passed.  Returns 0 when it has ended (or cannot be waited for), 1 at the
 * deadline. */
static int command_wait_end(pid_t pid, const struct timespec *deadline)
{
    for (;;) {
        siginfo_t info = {0};
        int rc = waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT | WNOHANG);

        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0 || info.si_pid == pid)
            return 0;
        if (ms_left(deadline) == 0)
            return 1;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000}, NULL);
    }
}

/* Reaps pid; returns its wait status or -1. */
static int command_reap(pid_t pid)
{
    int status;

    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

/* Ends the command's whole process group: SIGTERM, a grace period, SIGKILL
 * (sent while the unreaped leader still holds the group's id), then reaps
 * the leader. */
static void command_stop(pid_t pid)
{
    struct timespec grace = deadline_in(COMMAND_GRACE_MS);

    kill(-pid, SIGTERM);
    kill(-pid, SIGCONT); /* a group stopped by SIGTTIN */
    command_wait_end(pid, &grace);
    kill(-pid, SIGKILL);
    command_reap(pid);
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

/* How one run of the command went. */
struct command_run {
    int read_rc;    /* secret_buf_read_fd(): 0, 1 at the deadline, -1 */
    int read_errno; /* with read_rc -1 */
    bool timed_out; /* the read or the exit did not come in time */
    int status;     /* wait status, -1 if none */
};

/* Reads the command's output until EOF or the deadline, then waits for
 * its end; a command over time or over the size limit is stopped with its
 * process group. */
static void command_collect(pid_t pid, int out_fd, struct secret_buf *b, struct command_run *run)
{
    struct timespec deadline = deadline_in(command_timeout_ms);

    run->read_rc = secret_buf_read_fd(b, out_fd, &deadline);
    run->read_errno = errno;
    run->timed_out = run->read_rc == 1;
    if (run->read_rc == 0 && b->len <= SECRET_MAX_BYTES)
        run->timed_out = command_wait_end(pid, &deadline) == 1;
    if (run->read_rc != 0 || run->timed_out || b->len > SECRET_MAX_BYTES) {
        command_stop(pid);
        run->status = -1;
        return;
    }
    run->status = command_reap(pid);
}

/* Writes the error of a run that did not give a credential; 0 if it did. */
static int command_run_check(const struct secret_ctx *ctx, const struct command_run *run,
                             const struct secret_buf *b)
{
    if (run->timed_out)
        secret_fail(ctx,
                    "the command did not finish within %g seconds and was stopped with its "
                    "process group; make it print the credential without waiting for input (its "
                    "standard input is /dev/null), or run it by hand to see why",
                    (double)command_timeout_ms / 1000);
    else if (run->read_rc < 0)
        secret_fail(ctx, "cannot read the command's output: %s", strerror(run->read_errno));
    else if (b->len > SECRET_MAX_BYTES)
        secret_fail(ctx, "the command wrote more than 64 KiB; it should print only the credential");
    else if (run->status != 0)
        command_status_fail(ctx, run->status);
    else
        return 0;
    return -1;
}

/* Runs the command and collects its stdout into b.  Returns 0 or -1 (with
 * the error written); b is wiped on error. */
static int command_capture(const struct secret_ctx *ctx, struct secret_buf *b)
{
    struct command_run run;
    int fds[2], tty, rc;
    pid_t pid;

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
    tty = terminal_open_foreground();
    terminal_set_foreground(tty, pid);
    if (tty >= 0)
        kill(-pid, SIGCONT); /* if it read the terminal before it had it */
    command_collect(pid, fds[0], b, &run);
    close(fds[0]);
    terminal_set_foreground(tty, getpgrp());
    if (tty >= 0)
        close(tty);
    if (command_run_check(ctx, &run, b) == 0)
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
