/* The host's own addresses, for finding this node in the inventory. */
#ifndef MESHSEC_LOCALADDR_H
#define MESHSEC_LOCALADDR_H

#include <stddef.h>

#include "meshsec/addr.h"

/* Fills a malloc'd array with the host's IPv4/IPv6 addresses; returns 0 or -errno. */
int localaddr_list(struct ms_addr **out, size_t *n);

#endif
