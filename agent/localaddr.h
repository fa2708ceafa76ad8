/* The host's own addresses, for finding this node in the inventory. */
#ifndef MESHSEC_LOCALADDR_H
#define MESHSEC_LOCALADDR_H

#include <stddef.h>

#include "meshsec/addr.h"

struct sockaddr;

/* An AF_INET/AF_INET6 socket address as an ms_addr; -1 for other families. */
int localaddr_from_sockaddr(const struct sockaddr *sa, struct ms_addr *out);

/* Fills a malloc'd array with the host's IPv4/IPv6 addresses; returns 0 or -errno. */
int localaddr_list(struct ms_addr **out, size_t *n);

#endif
