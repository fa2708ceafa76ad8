/*
 * One agent per network namespace, decided before anything touches the kernel: a second
 * meshsecd (or `meshsec install-policies` while an agent runs) would reapply and delete the
 * same tagged objects under the first one's feet.
 */
#ifndef MESHSEC_INSTANCE_H
#define MESHSEC_INSTANCE_H

#include "meshsec/error.h"

/*
 * Binds the namespace's lock (an abstract unix socket: per network namespace, released by the
 * kernel when the process dies, however it dies).  Returns its descriptor, -EADDRINUSE with
 * the holder's pid in err when another process holds it, or -errno.
 */
int instance_lock(const char *who, struct ms_error *err);

#endif
