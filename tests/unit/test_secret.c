/**
 * @file test_secret.c
 * secret_resolve(): literal, file (permissions, type, size, relative
 * paths), environment and command sources; white space stripping; error
 * messages that name config, line, account and key but never the secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"

#define SECRET "Zq9-distinctive-SECRET-4711"
#define CONFIG "/etc/campaignfs/test.conf"

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

    assert_resolves(ref_of(SECRET_FILE, ok, "api_key_file"), SECRET);
    assert_resolves(ref_of(SECRET_FILE, owner_only, "api_key_file"), SECRET);
    assert_fails(ref_of(SECRET_FILE, empty, "api_key_file"), "is empty");
    free(ok);
    free(owner_only);
    free(empty);
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
    unsetenv("CAMPAIGNFS_TEST_KEY");
    assert_fails(ref_of(SECRET_ENV, "CAMPAIGNFS_TEST_KEY", "api_key_env"),
                 "environment variable CAMPAIGNFS_TEST_KEY is not set");
    setenv("CAMPAIGNFS_TEST_KEY", "", 1);
    assert_fails(ref_of(SECRET_ENV, "CAMPAIGNFS_TEST_KEY", "api_key_env"),
                 "environment variable CAMPAIGNFS_TEST_KEY is empty");
    setenv("CAMPAIGNFS_TEST_KEY", "  \n", 1);
    assert_fails(ref_of(SECRET_ENV, "CAMPAIGNFS_TEST_KEY", "api_key_env"), "is empty");
    unsetenv("CAMPAIGNFS_TEST_KEY");
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
    /* an endless writer is cut off (SIGPIPE), not waited for forever */
    assert_fails(ref_of(SECRET_COMMAND, "yes " SECRET, "api_key_command"), "more than 64 KiB");
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal),
        cmocka_unit_test_setup_teardown(test_file, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_permissions, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_type_and_size, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_file_relative, setup_dir, teardown_dir),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_command),
        cmocka_unit_test(test_command_stdin),
        cmocka_unit_test(test_secret_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
