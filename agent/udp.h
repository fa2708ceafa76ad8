/* The agents' UDP sockets: one per family, bound to the mesh port, bypassing IPsec. */
#ifndef MESHSEC_UDP_H
#define MESHSEC_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "meshsec/addr.h"
#include "meshsec/error.h"

/* Opens a non-blocking UDP socket of the family bound to port, with the per-socket bypass. */
int udp_open(int family, uint16_t port, struct ms_error *err);
ssize_t udp_send(int fd, const struct ms_addr *to, uint16_t port, const uint8_t *buf, size_t len);
/* Receives one datagram; from gets the source address. */
ssize_t udp_recv(int fd, uint8_t *buf, size_t cap, struct ms_addr *from);

#endif
