/**
 * @file sdnotify.h
 * Readiness and state messages to the service manager (sd_notify(3)'s
 * protocol, without libsystemd): one datagram of "KEY=VALUE" lines to the
 * AF_UNIX socket named by $NOTIFY_SOCKET. main.c says READY=1 once the mount
 * is up and its engine runs, STOPPING=1 when the session ends.
 */
#ifndef CAMPAIGNFS_SDNOTIFY_H
#define CAMPAIGNFS_SDNOTIFY_H

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET; nothing when it is unset.
 * Never blocks; a failure is ignored (a notification is a courtesy). */
void sdnotify(const char *state);

/* The same to the socket named by addr: a path ("/run/...") or an abstract
 * name ("@name"). Returns 0 when the datagram went out, 1 when addr is NULL
 * or empty (nothing to do), -1 when it cannot be sent (an address of another
 * kind or too long for sockaddr_un, no listener, a full queue). errno is kept. */
int sdnotify_send(const char *addr, const char *state);

#endif
