/*
 * Host addresses of mesh members: parsing with reasons, formatting, comparison.
 */
#ifndef MESHSEC_ADDR_H
#define MESHSEC_ADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "meshsec/error.h"

#define MS_ADDR_STRLEN INET6_ADDRSTRLEN

struct ms_addr {
	int family;		/* AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
		unsigned char raw[16];
	} u;
};

/*
 * Parses a unicast host address that can be a mesh member's: refuses networks ("/24"),
 * unspecified, loopback, multicast, broadcast, IPv4-mapped and link-local addresses, each
 * with the reason.  The message does not name the location; the caller prefixes it.
 */
int ms_addr_parse(const char *text, struct ms_addr *out, struct ms_error *err);

/* Writes the address into buf (at least MS_ADDR_STRLEN bytes) and returns buf. */
const char *ms_addr_format(const struct ms_addr *a, char *buf, size_t len);

/* True if ms_addr_parse would take the address: not loopback, link-local, multicast... */
bool ms_addr_can_be_member(const struct ms_addr *a);

bool ms_addr_equal(const struct ms_addr *a, const struct ms_addr *b);
/* Two address slots of a node (family 0: none) hold the same: both none, or equal addresses. */
bool ms_addr_same_slot(const struct ms_addr *a, const struct ms_addr *b);

/* Byte length of the address for its family: 4 or 16. */
size_t ms_addr_len(const struct ms_addr *a);

/* A hash key for the address: the family, then its 4 or 16 bytes.  Returns the key's length. */
#define MS_ADDR_KEY_MAX 17
size_t ms_addr_key(const struct ms_addr *a, unsigned char key[MS_ADDR_KEY_MAX]);

#endif
