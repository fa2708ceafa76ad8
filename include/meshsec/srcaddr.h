/*
 * Which of this host's addresses the kernel may use as the source of traffic to members.
 *
 * The mesh's policies cover every local source (out: any -> peer, in: peer -> any), but SAs
 * exist only for this node's inventory address: a packet to a member from any other local
 * address is dropped, not sent in clear.  How the kernel picks a source when a program does not
 * bind one: the route's `src` if it has one; otherwise, for IPv4, the first primary address of
 * the outgoing interface (one in the next hop's subnet first) -- secondary addresses never, and
 * the preferred lifetime is ignored; for IPv6, RFC 6724's rules: deprecated addresses last, then
 * temporary addresses first when use_tempaddr is 2, then the longest match with the
 * destination, up to the address's prefix length.
 */
#ifndef MESHSEC_SRCADDR_H
#define MESHSEC_SRCADDR_H

#include <stddef.h>

#include "meshsec/model.h"

/* Flags of a host address, as the kernel has them (IFA_F_SECONDARY and _TEMPORARY share a bit). */
#define MS_HOST_GLOBAL		0x01	/* scope global: not loopback (host) or link-local (link) */
#define MS_HOST_SECONDARY	0x02	/* IPv4: another address of the same subnet came first */
#define MS_HOST_TEMPORARY	0x04	/* IPv6: a privacy address (RFC 8981) */
#define MS_HOST_DEPRECATED	0x08	/* its preferred lifetime is over (preferred_lft 0) */
#define MS_HOST_DADFAILED	0x10	/* IPv6: duplicate address detection failed; never used */

/* One address of this host. */
struct ms_host_addr {
	struct ms_addr addr;
	char ifname[16];
	unsigned prefixlen;
	unsigned flags;		/* MS_HOST_* */
	int use_tempaddr;	/* IPv6: net.ipv6.conf.IFNAME.use_tempaddr; -1 when unknown */
};

enum ms_src_kind {
	MS_SRC_NONE,		/* no concern: the member address, not global, a family the node lacks */
	MS_SRC_MAY_PICK,	/* the kernel may pick it for traffic to members */
	MS_SRC_TEMPORARY,	/* an IPv6 temporary address the kernel prefers (use_tempaddr >= 2) */
	MS_SRC_BOUND_ONLY,	/* the kernel does not pick it itself; programs bound to it, routes naming it */
	MS_SRC_KINDS
};

enum ms_src_kind ms_src_classify(const struct ms_node *self, const struct ms_host_addr *a);

/*
 * The entry of self's IPv6 address when its interface has use_tempaddr >= 2 but no temporary
 * address yet: one made from the next router advertisement would be preferred.  NULL otherwise.
 */
const struct ms_host_addr *ms_src_tempaddr_armed(const struct ms_node *self, const struct ms_host_addr *a, size_t n);

#endif
