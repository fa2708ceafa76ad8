/* --metrics-listen's value: "PORT" (on 127.0.0.1), "ADDR:PORT" or "[V6ADDR]:PORT", numeric only. */
#ifndef MESHSEC_LISTEN_H
#define MESHSEC_LISTEN_H

#include <stddef.h>

#include "meshsec/error.h"

#define MS_LISTEN_ADDR_MAX 46	/* INET6_ADDRSTRLEN */

/*
 * Splits and checks spec: the address must be a numeric IPv4 or IPv6 address (no name to
 * resolve at start-up), the port 1 to 65535.  Returns 0, or -EINVAL with err naming the option,
 * the bad part and the forms accepted.
 */
int ms_listen_parse(const char *spec, char addr[MS_LISTEN_ADDR_MAX], unsigned *port, struct ms_error *err);

#endif
