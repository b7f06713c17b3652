/**
 * @file test_secret.c
 * secret_resolve(): literal, file (permissions, type, size, relative
 * paths), environment and command sources; white space stripping; error
 * messages that name config, line, account and key but never the secret;
 * an environment variable scrubbed from /proc/self/environ (in a re-executed
 * copy of this program, whose original environment block holds it); a
 * command's time limit, its process group, and its turn at the terminal (on
 * a pseudo-terminal).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "secret.h"

#define SECRET        "Zq9-distinctive-SECRET-4711"
#define CONFIG        "/etc/campaignfs/test.conf"
#define ENV_CHILD_ARG "--environ-child"
#define ENV_CHILD_VAR "CAMPAIGNFS_TEST_ENVIRON_KEY"

extern char **environ;

struct fixture {
    char dir[64];
};

static int setup_dir(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));

    if (!fx)
        return -1;
    strcpy(fx->dir, "/tmp/campaignfs-secret-XXXXXX");
    if (!mkdtemp(fx->dir)) {
        free(fx);
        return -1;
    }
    *state = fx;
    return 0;
}

static int teardown_dir(void **state)
{
    struct fixture *fx = *state;
    char *cmd = NULL;

    if (asprintf(&cmd, "rm -rf '%s'", fx->dir) > 0 && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", fx->dir);
    free(cmd);
    free(fx);
    return 0;
}

/* Writes data to dir/name with the given mode; returns the malloc'd path. */
static char *write_file(const struct fixture *fx, const char *name, const char *data, mode_t mode)
{
    char *path = NULL;
    FILE *f;

    assert_true(asprintf(&path, "%s/%s", fx->dir, name) > 0);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, strlen(data), f), strlen(data));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static struct secret_ref ref_of(enum secret_source source, const char *value, const char *key)
{
    struct secret_ref ref = {source, (char *)value, key, 7};

    return ref;
}

/* Resolves and expects success with the given secret. */
static void assert_resolves(struct secret_ref ref, const char *expected)
{
    char err[512] = "untouched";
    char *s = secret_resolve(&ref, "acct", CONFIG, err, sizeof(err));

    if (!s)
        fail_msg("unexpected error: %s", err);
    assert_string_equal(s, expected);
    secret_free(s);
}

/* Resolves and expects an error with the standard prefix, containing
 * `what`, and not containing SECRET. */
static void assert_fails(struct secret_ref ref, const char *what)
{
    char err[1024] = "";
    char prefix[256];
    char *s = secret_resolve(&ref, "acct", CONFIG, err, sizeof(err));

    assert_null(s);
    snprintf(prefix, sizeof(prefix), CONFIG ":7: [acct] key '%s': ", ref.key);
    if (strncmp(err, prefix, strlen(prefix)) != 0)
        fail_msg("'%s' does not start with '%s'", err, prefix);
    if (!strstr(err, what))
        fail_msg("'%s' does not mention '%s'", err, what);
    assert_null(strstr(err, SECRET));
    assert_null(strchr(err, '\n'));
}

static void test_literal(void **state)
{
    (void)state;
    assert_resolves(ref_of(SECRET_VALUE, SECRET, "api_key"), SECRET);
    assert_resolves(ref_of(SECRET_VALUE, "  \t" SECRET " \r\n", "api_key"), SECRET);
    assert_resolves(ref_of(SECRET_VALUE, "a b", "api_key"), "a b");
    assert_fails(ref_of(SECRET_VALUE, " \n ", "api_key"), "empty");
    assert_fails(ref_of(SECRET_NONE, NULL, "api_key"), "no credential");
}

static void test_file(void **state)
{
    struct fixture *fx = *state;
    char *ok = write_file(fx, "ok", SECRET "\n", 0600);
    char *owner_only = write_file(fx, "ro", "  " SECRET "  \n\n", 0400);
    char *empty = write_file(fx, "empty", "\n \n", 0600);
    char *two = write_file(fx, "two", "key\nmore\n", 0600);

    assert_resolves(ref_of(SECRET_FILE, ok, "api_key_file"), SECRET);
    assert_resolves(ref_of(SECRET_FILE, owner_only, "api_key_file"), SECRET);
    assert_fails(ref_of(SECRET_FILE, empty, "api_key_file"), "is empty");
    assert_fails(ref_of(SECRET_FILE, two, "api_key_file"), "line break or control character");
    /* the credential written instead of a path is not quoted back */
    assert_fails(ref_of(SECRET_FILE, SECRET, "api_key_file"),
                 "cannot open the file it names: No such file or directory; check the path (not "
                 "shown");
    assert_fails(ref_of(SECRET_FILE, "/nonexistent/altur-key", "api_key_file"),
                 "cannot open '/nonexistent/altur-key': No such file or directory");
    free(ok);
    free(owner_only);
    free(empty);
    free(two);
}

static void test_file_permissions(void **state)
{
    struct fixture *fx = *state;
    const mode_t modes[] = {0644, 0640, 0604, 0660, 0606, 0610, 0601};

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char name[16], expected[512];
        char *path;

        snprintf(name, sizeof(name), "m%o", (unsigned)modes[i]);
        path = write_file(fx, name, SECRET "\n", modes[i]);
        snprintf(expected, sizeof(expected), "run chmod 600 %s", path);
        assert_fails(ref_of(SECRET_FILE, path, "client_secret_file"), expected);
        assert_fails(ref_of(SECRET_FILE, path, "client_secret_file"), "group or others");
        free(path);
    }
}

static void test_file_type_and_size(void **state)
{
    struct fixture *fx = *state;
    char *missing = NULL, *fifo = NULL, *big;
    char *data = malloc(70000);

    assert_non_null(data);
    memset(data, 'k', 69999);
    data[69999] = '\0';
    big = write_file(fx, "big", data, 0600);
    assert_fails(ref_of(SECRET_FILE, big, "jwt_file"), "larger than 64 KiB");
    assert_fails(ref_of(SECRET_FILE, fx->dir, "jwt_file"), "not a regular file");
    assert_true(asprintf(&fifo, "%s/fifo", fx->dir) > 0);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_fails(ref_of(SECRET_FILE, fifo, "jwt_file"), "not a regular file");
    assert_true(asprintf(&missing, "%s/nope", fx->dir) > 0);
    assert_fails(ref_of(SECRET_FILE, missing, "jwt_file"), "cannot open");
    free(data);
    free(big);
    free(fifo);
    free(missing);
}

/* A relative path is taken from the config file's directory. */
static void test_file_relative(void **state)
{
    struct fixture *fx = *state;
    char *path = write_file(fx, "rel", SECRET, 0600);
    char *config = NULL;
    char err[512];
    struct secret_ref ref = ref_of(SECRET_FILE, "rel", "api_key_file");
    char *s;

    assert_true(asprintf(&config, "%s/config", fx->dir) > 0);
    s = secret_resolve(&ref, "acct", config, err, sizeof(err));
    assert_non_null(s);
    assert_string_equal(s, SECRET);
    secret_free(s);
    free(config);
    free(path);
}

static void test_env(void **state)
{
    (void)state;
    setenv("CAMPAIGNFS_TEST_KEY", "\t" SECRET "\n", 1);
    assert_resolves(ref_of(SECRET_ENV, "CAMPAIGNFS_TEST_KEY", "api_key_env"), SECRET);
    /* read once: gone from the environment, remembered for a second account */
    assert_null(getenv("CAMPAIGNFS_TEST_KEY"));
    assert_resolves(ref_of(SECRET_ENV, "CAMPAIGNFS_TEST_KEY", "api_key_env"), SECRET);
    secret_forget();
    assert_fails(ref_of(SECRET_ENV, "CAMPAIGNFS_TEST_KEY", "api_key_env"),
                 "environment variable CAMPAIGNFS_TEST_KEY is not set");
    setenv("CAMPAIGNFS_TEST_KEY", "", 1);
    assert_fails(ref_of(SECRET_ENV, "CAMPAIGNFS_TEST_KEY", "api_key_env"),
                 "environment variable CAMPAIGNFS_TEST_KEY is empty");
    setenv("CAMPAIGNFS_TEST_KEY", "  \n", 1);
    assert_fails(ref_of(SECRET_ENV, "CAMPAIGNFS_TEST_KEY", "api_key_env"), "is empty");
    setenv("CAMPAIGNFS_TEST_KEY", "two\nlines", 1);
    assert_fails(ref_of(SECRET_ENV, "CAMPAIGNFS_TEST_KEY", "api_key_env"),
                 "line break or control character");
    assert_null(getenv("CAMPAIGNFS_TEST_KEY"));
    /* a name with the shape of a credential (the credential written instead
     * of the name) is not quoted back */
    assert_fails(ref_of(SECRET_ENV, SECRET, "api_key_env"),
                 "the environment variable it names (not shown");
    assert_fails(ref_of(SECRET_ENV, "A=B", "api_key_env"), "not the name of an environment");
    secret_forget();
}

/* In the re-executed child: resolves ENV_CHILD_VAR, which its original
 * environment block holds twice, and checks that /proc/self/environ no
 * longer shows the value.  The exit status says what failed. */
static int environ_child(void)
{
    struct secret_ref ref = {SECRET_ENV, ENV_CHILD_VAR, "api_key_env", 3};
    char err[512], *environ_text = malloc(1 << 20);
    char *s = secret_resolve(&ref, "acct", CONFIG, err, sizeof(err));
    int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
    size_t len = 0;
    ssize_t n;

    if (!s || strcmp(s, SECRET) != 0)
        return 2;
    secret_free(s);
    if (getenv(ENV_CHILD_VAR))
        return 3;
    if (fd < 0 || !environ_text)
        return 4;
    while ((n = read(fd, environ_text + len, (1 << 20) - len)) > 0)
        len += (size_t)n;
    close(fd);
    if (len == 0 || !memmem(environ_text, len, "PATH=", 5))
        return 5; /* the file is read at all */
    if (memmem(environ_text, len, SECRET, strlen(SECRET)))
        return 6;
    for (char **e = environ; *e; e++)
        if (strstr(*e, SECRET))
            return 7;
    free(environ_text);
    return 0;
}

/* The variable comes in the environment at exec, in the block that
 * /proc/PID/environ shows (setenv() would put it on the heap instead). */
static void test_env_scrubbed_from_proc(void **state)
{
    (void)state;
    size_t n = 0;
    char **envp;
    pid_t pid;
    int status;

    while (environ[n])
        n++;
    envp = calloc(n + 3, sizeof(*envp));
    assert_non_null(envp);
    envp[0] = ENV_CHILD_VAR "=  " SECRET "\n";
    memcpy(envp + 1, environ, n * sizeof(*envp));
    envp[n + 1] = ENV_CHILD_VAR "=" SECRET; /* a second entry of the same name */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *argv[] = {"test_secret", ENV_CHILD_ARG, NULL};

        execve("/proc/self/exe", argv, envp);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    free(envp);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_command(void **state)
{
    (void)state;
    assert_resolves(ref_of(SECRET_COMMAND, "printf '  %s\\n\\n' " SECRET, "api_key_command"),
                    SECRET);
    assert_resolves(ref_of(SECRET_COMMAND, "echo one; echo two >&2", "api_key_command"), "one");
    assert_fails(ref_of(SECRET_COMMAND, "cat", "api_key_command"), "output is empty");
    assert_fails(ref_of(SECRET_COMMAND, "true", "api_key_command"), "output is empty");
    assert_fails(ref_of(SECRET_COMMAND, "echo " SECRET "; exit 3", "api_key_command"),
                 "exited with status 3");
    assert_fails(
        ref_of(SECRET_COMMAND, "/nonexistent/campaignfs-helper 2>/dev/null", "api_key_command"),
        "exited with status 127");
    assert_fails(ref_of(SECRET_COMMAND, "echo " SECRET "; kill -9 $$", "client_secret_command"),
                 "killed by signal 9");
    assert_fails(ref_of(SECRET_COMMAND, "head -c 70000 /dev/zero | tr '\\0' k", "api_key_command"),
                 "more than 64 KiB");
    /* an endless writer is cut off, not waited for forever */
    assert_fails(ref_of(SECRET_COMMAND, "yes " SECRET, "api_key_command"), "more than 64 KiB");
    /* CR, LF, tabs and spaces around the output go; one line inside stays */
    assert_resolves(
        ref_of(SECRET_COMMAND, "printf '\\r\\n\\t " SECRET " \\r\\n'", "api_key_command"), SECRET);
    assert_fails(ref_of(SECRET_COMMAND, "printf 'one\\ntwo\\n'", "api_key_command"),
                 "the command's output has a line break or control character inside");
    assert_fails(ref_of(SECRET_COMMAND, "printf 'a\\033[2Jb'", "api_key_command"),
                 "control character");
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Whether pid is gone (or a zombie nobody reaps, as under a PID 1 that does
 * not wait). */
static bool process_gone(pid_t pid)
{
    char path[64], stat[512] = "";
    FILE *f;
    const char *state;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (!f)
        return true;
    if (!fgets(stat, sizeof(stat), f))
        stat[0] = '\0';
    fclose(f);
    state = strrchr(stat, ')');
    return state && (state[2] == 'Z' || state[2] == 'X');
}

/* A command that hangs is stopped with its whole process group after the
 * time limit, and what it printed before is not in the message. */
static void test_command_timeout(void **state)
{
    struct fixture *fx = *state;
    struct timespec start;
    char *command = NULL, *pidfile = NULL, text[32] = "";
    FILE *f;
    long bg;

    secret_set_command_timeout(300);
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_fails(ref_of(SECRET_COMMAND, "sleep 30", "api_key_command"),
                 "the command did not finish within 0.3 seconds and was stopped with its process "
                 "group; make it print the credential without waiting for input");
    assert_true(seconds_since(&start) < 5);

    /* the output came, but the command (a child holding stdout) goes on */
    assert_fails(ref_of(SECRET_COMMAND, "echo " SECRET "; sleep 30", "api_key_command"),
                 "did not finish within");
    /* stdout closed, but the command does not exit */
    assert_fails(ref_of(SECRET_COMMAND, "echo " SECRET "; exec >&-; sleep 30", "api_key_command"),
                 "did not finish within");
    /* SIGTERM ignored: SIGKILL after the grace period */
    clock_gettime(CLOCK_MONOTONIC, &start);
    assert_fails(ref_of(SECRET_COMMAND, "trap '' TERM; sleep 30", "api_key_command"),
                 "did not finish within");
    assert_true(seconds_since(&start) < 5);

    /* a background child in the group is stopped too */
    assert_true(asprintf(&pidfile, "%s/bg.pid", fx->dir) > 0);
    assert_true(asprintf(&command, "sleep 30 >/dev/null & echo $! > %s; wait", pidfile) > 0);
    assert_fails(ref_of(SECRET_COMMAND, command, "api_key_command"), "did not finish within");
    f = fopen(pidfile, "r");
    assert_non_null(f);
    assert_non_null(fgets(text, sizeof(text), f));
    fclose(f);
    bg = strtol(text, NULL, 10);
    assert_true(bg > 1);
    for (int i = 0; i < 100 && !process_gone((pid_t)bg); i++)
        usleep(10000);
    assert_true(process_gone((pid_t)bg));

    secret_set_command_timeout(0);
    assert_resolves(ref_of(SECRET_COMMAND, "sleep 0.5; echo " SECRET, "api_key_command"), SECRET);
    free(command);
    free(pidfile);
}

/* In a child on a pseudo-terminal (a session of its own, in the terminal's
 * foreground): a command that reads /dev/tty gets the terminal while it
 * runs (else SIGTTIN would stop it in its own process group), and the
 * terminal comes back.  Returns the exit status for the parent. */
static int terminal_child(void)
{
    struct secret_ref ref = {SECRET_COMMAND, "read k < /dev/tty && echo \"$k\"", "api_key_command",
                             7};
    char err[512];
    char *s;
    int tty;

    secret_set_command_timeout(5000);
    s = secret_resolve(&ref, "acct", CONFIG, err, sizeof(err));
    if (!s || strcmp(s, "typed-at-the-terminal") != 0)
        return 2;
    secret_free(s);
    tty = open("/dev/tty", O_RDWR | O_NOCTTY);
    if (tty < 0 || tcgetpgrp(tty) != getpgrp())
        return 3;
    close(tty);
    return 0;
}

static void test_command_terminal(void **state)
{
    (void)state;
    int master, status;
    char drain[256];
    pid_t pid = forkpty(&master, NULL, NULL, NULL);

    if (pid < 0)
        skip(); /* no pseudo-terminals here */
    if (pid == 0)
        _exit(terminal_child());
    assert_int_equal(write(master, "typed-at-the-terminal\n", 22), 22);
    while (waitpid(pid, &status, WNOHANG) == 0) {
        struct timespec pause = {0, 10 * 1000000};

        fcntl(master, F_SETFL, O_NONBLOCK);
        while (read(master, drain, sizeof(drain)) > 0)
            ;
        nanosleep(&pause, NULL);
    }
    close(master);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The command reads /dev/null, not campaignfs's own stdin. */
static void test_command_stdin(void **state)
{
    (void)state;
    FILE *input = tmpfile();
    int saved = dup(STDIN_FILENO);

    assert_non_null(input);
    assert_true(saved >= 0);
    assert_int_equal(fputs("from-our-stdin\n", input) >= 0, 1);
    assert_int_equal(fflush(input), 0);
    rewind(input);
    assert_true(dup2(fileno(input), STDIN_FILENO) >= 0);
    assert_fails(ref_of(SECRET_COMMAND, "cat", "api_key_command"), "output is empty");
    assert_resolves(ref_of(SECRET_COMMAND, "readlink /proc/self/fd/0", "api_key_command"),
                    "/dev/null");
    assert_true(dup2(saved, STDIN_FILENO) >= 0);
    close(saved);
    fclose(input);
}

static void test_secret_free(void **state)
{
    (void)state;
    secret_free(NULL);
    secret_free(strdup(SECRET));
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], ENV_CHILD_ARG) == 0)
        return environ_child();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test_setup_teardown(test_file, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_permissions, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_type_and_size, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_relative, setup_dir, teardown_dir),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_env_scrubbed_from_proc),
        cmocka_unit_test(test_command),
        cmocka_unit_test_setup_teardown(test_command_timeout, setup_dir, teardown_dir),
        cmocka_unit_test(test_command_terminal),
        cmocka_unit_test(test_command_stdin),
        cmocka_unit_test(test_secret_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
