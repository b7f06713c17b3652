/**
 * @file test_sdnotify.c
 * sdnotify(): the datagram reaches a socket named by a path and by an
 * abstract '@' name, byte for byte; nothing is sent (and nothing breaks)
 * when $NOTIFY_SOCKET is unset or empty, names a path too long for
 * sockaddr_un, names another kind of address, or names a socket nobody
 * listens on; a full queue does not block.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

/* ---- a receiving socket, as the service manager would bind it ---- */

/* Binds a datagram socket to name ("/path" or "@abstract"); returns its fd. */
static int bind_receiver(const char *name)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t len = strlen(name);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    socklen_t sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);

    assert_true(fd >= 0);
    assert_true(len < sizeof(sa.sun_path));
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sa_len), 0);
    return fd;
}

/* The next datagram waiting on fd, or "" when there is none. */
static const char *received(int fd)
{
    static char buf[256];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void temp_socket_path(char *out, size_t size)
{
    snprintf(out, size, "/tmp/cfs-sdnotify-%ld.sock", (long)getpid());
    unlink(out);
}

/* ---- tests ---- */

static void path_socket_receives_the_state(void **state)
{
    char path[108];
    int fd;

    (void)state;
    temp_socket_path(path, sizeof(path));
    fd = bind_receiver(path);
    setenv("NOTIFY_SOCKET", path, 1);
    sdnotify("READY=1");
    assert_string_equal(received(fd), "READY=1");
    sdnotify("STOPPING=1");
    assert_string_equal(received(fd), "STOPPING=1");
    assert_string_equal(received(fd), "");
    unsetenv("NOTIFY_SOCKET");
    close(fd);
    unlink(path);
}

static void abstract_socket_receives_the_state(void **state)
{
    char name[64];
    int fd;

    (void)state;
    snprintf(name, sizeof(name), "@cfs-sdnotify-%ld", (long)getpid());
    fd = bind_receiver(name);
    setenv("NOTIFY_SOCKET", name, 1);
    sdnotify("READY=1\nSTATUS=mounted");
    assert_string_equal(received(fd), "READY=1\nSTATUS=mounted");
    assert_int_equal(sdnotify_send(name, "STOPPING=1"), 0);
    assert_string_equal(received(fd), "STOPPING=1");
    unsetenv("NOTIFY_SOCKET");
    close(fd);
}

static void unset_or_empty_variable_is_a_no_op(void **state)
{
    (void)state;
    unsetenv("NOTIFY_SOCKET");
    sdnotify("READY=1");
    assert_int_equal(sdnotify_send(NULL, "READY=1"), 1);
    assert_int_equal(sdnotify_send("", "READY=1"), 1);
    setenv("NOTIFY_SOCKET", "", 1);
    sdnotify("READY=1");
    unsetenv("NOTIFY_SOCKET");
}

static void over_long_path_is_refused_without_harm(void **state)
{
    char path[300];
    struct sockaddr_un sa;

    (void)state;
    memset(path, 'x', sizeof(path) - 1);
    path[0] = '/';
    path[sizeof(path) - 1] = '\0';
    assert_int_equal(sdnotify_send(path, "READY=1"), -1);
    path[sizeof(sa.sun_path)] = '\0'; /* 108 bytes: no room for the NUL */
    assert_int_equal(sdnotify_send(path, "READY=1"), -1);
    path[0] = '@';
    path[sizeof(sa.sun_path) + 1] = 'x';
    assert_int_equal(sdnotify_send(path, "READY=1"), -1);
    setenv("NOTIFY_SOCKET", path, 1);
    sdnotify("READY=1");
    unsetenv("NOTIFY_SOCKET");
}

static void other_addresses_and_no_listener_fail_quietly(void **state)
{
    char path[108];

    (void)state;
    temp_socket_path(path, sizeof(path));
    errno = EBADF;
    assert_int_equal(sdnotify_send(path, "READY=1"), -1); /* nobody bound it */
    assert_int_equal(errno, EBADF);                       /* errno is kept */
    assert_int_equal(sdnotify_send("relative/path", "READY=1"), -1);
    assert_int_equal(sdnotify_send("vsock:2:1234", "READY=1"), -1);
    assert_int_equal(sdnotify_send("/", "READY=1"), -1);
    assert_int_equal(sdnotify_send("@", "READY=1"), -1);
}

static void a_full_queue_does_not_block(void **state)
{
    char path[108];
    int fd, sent = 0;

    (void)state;
    temp_socket_path(path, sizeof(path));
    fd = bind_receiver(path);
    /* nobody reads: the queue fills (max_dgram_qlen, 512 by default) and
     * the sends that follow fail at once instead of waiting */
    for (int i = 0; i < 5000; i++)
        sent += sdnotify_send(path, "WATCHDOG=1") == 0;
    assert_true(sent > 0);
    assert_true(sent < 5000);
    assert_string_equal(received(fd), "WATCHDOG=1");
    close(fd);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(path_socket_receives_the_state),
        cmocka_unit_test(abstract_socket_receives_the_state),
        cmocka_unit_test(unset_or_empty_variable_is_a_no_op),
        cmocka_unit_test(over_long_path_is_refused_without_harm),
        cmocka_unit_test(other_addresses_and_no_listener_fail_quietly),
        cmocka_unit_test(a_full_queue_does_not_block),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
