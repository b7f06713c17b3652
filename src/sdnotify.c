/**
 * @file sdnotify.c
 * sd_notify(3)'s protocol by hand: $NOTIFY_SOCKET names an AF_UNIX datagram
 * socket, either a file system path or, with a leading '@', an abstract name
 * (the '@' stands for the leading NUL byte); the state is sent as one
 * datagram. The socket is non-blocking and the send uses MSG_NOSIGNAL, so a
 * service manager that is gone or busy never stalls or kills the daemon.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sdnotify.h"

/* Fills sa from addr; returns the address length to pass, or 0 if addr is
 * neither a path nor an abstract name, or does not fit. */
static socklen_t notify_address(const char *addr, struct sockaddr_un *sa)
{
    size_t len = strlen(addr);

    if ((addr[0] != '/' && addr[0] != '@') || len < 2 || len >= sizeof(sa->sun_path))
        return 0;
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, addr, len);
    if (addr[0] == '@') {
        sa->sun_path[0] = '\0'; /* abstract: exactly len bytes, no terminator */
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
    }
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

static int send_datagram(const struct sockaddr_un *sa, socklen_t sa_len, const char *state)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ssize_t n;

    if (fd < 0)
        return -1;
    n = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (const struct sockaddr *)sa, sa_len);
    close(fd);
    return n == (ssize_t)strlen(state) ? 0 : -1;
}

int sdnotify_send(const char *addr, const char *state)
{
    struct sockaddr_un sa;
    socklen_t sa_len;
    int saved = errno;
    int rc;

    if (!addr || !addr[0])
        return 1;
    sa_len = notify_address(addr, &sa);
    rc = sa_len ? send_datagram(&sa, sa_len, state) : -1;
    errno = saved;
    return rc;
}

void sdnotify(const char *state)
{
    (void)sdnotify_send(getenv("NOTIFY_SOCKET"), state);
}
