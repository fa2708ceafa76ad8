/* The host's own addresses: for finding this node in the inventory, and for doctor. */
#ifndef MESHSEC_LOCALADDR_H
#define MESHSEC_LOCALADDR_H

#include <stddef.h>

#include "meshsec/addr.h"
#include "meshsec/srcaddr.h"

struct sockaddr;

/* An AF_INET/AF_INET6 socket address as an ms_addr; -1 for other families. */
int localaddr_from_sockaddr(const struct sockaddr *sa, struct ms_addr *out);

/* Fills a malloc'd array with the host's IPv4/IPv6 addresses; returns 0 or -errno. */
int localaddr_list(struct ms_addr **out, size_t *n);

/* The same with interface, prefix length and flags (use_tempaddr left -1); 0 or -errno. */
int localaddr_dump(struct ms_host_addr **out, size_t *n);

/*
 * For each of the n destinations, the source address the kernel picks for a socket that binds
 * none (the route's answer, as `ip route get`); family 0 where there is no route.  0 or -errno.
 */
int localaddr_sources(const struct ms_addr *dst, size_t n, struct ms_addr *src);

#endif
