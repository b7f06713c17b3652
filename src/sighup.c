/**
 * @file sighup.c
 * The SIGHUP handler and the thread that expires every listing for it.
 */
#include "sighup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tree.h"

static int hup_pipe[2] = {-1, -1};
static pthread_t hup_thread;
static bool hup_running;

static void on_sighup(int sig)
{
    int saved = errno;
    ssize_t rc;

    (void)sig;
    rc = write(hup_pipe[1], "h", 1); /* a full pipe already holds a wake-up */
    (void)rc;
    errno = saved;
}

static void *hup_main(void *arg)
{
    struct tree *t = arg;
    char c;
    int rc;

    for (;;) {
        ssize_t got = read(hup_pipe[0], &c, 1);
        int n;
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0 || c == 'q')
            return NULL;
        rc = log_reopen();
        if (rc < 0)
            log_warn("SIGHUP: could not open the log file again: %s", strerror(-rc));
        n = tree_refresh(t, "/");
        log_info("SIGHUP: %d listings expired; the next access fetches them again", n);
    }
}

int sighup_start(struct tree *t)
{
    struct sigaction sa;

    if (pipe2(hup_pipe, O_CLOEXEC) != 0)
        return -1;
    fcntl(hup_pipe[1], F_SETFL, O_NONBLOCK);
    if (pthread_create(&hup_thread, NULL, hup_main, t) != 0) {
        close(hup_pipe[0]);
        close(hup_pipe[1]);
        hup_pipe[0] = hup_pipe[1] = -1;
        return -1;
    }
    hup_running = true;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_sighup;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    return 0;
}

void sighup_stop(void)
{
    struct sigaction sa;
    ssize_t rc;

    if (!hup_running)
        return;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGHUP, &sa, NULL);
    fcntl(hup_pipe[1], F_SETFL, 0);
    rc = write(hup_pipe[1], "q", 1);
    (void)rc;
    pthread_join(hup_thread, NULL);
    close(hup_pipe[0]);
    close(hup_pipe[1]);
    hup_pipe[0] = hup_pipe[1] = -1;
    hup_running = false;
}
