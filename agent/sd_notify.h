/*
 * systemd's readiness protocol (Type=notify), without libsystemd: one datagram to the socket
 * named by $NOTIFY_SOCKET.  A no-op when the agent is not run by systemd.
 */
#ifndef MESHSEC_SD_NOTIFY_H
#define MESHSEC_SD_NOTIFY_H

/* Sends state ("READY=1\nSTATUS=..."); 0, or -errno (logged by the caller if it cares). */
int sd_notify_send(const char *state);

#endif
