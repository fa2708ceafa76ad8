/* Which host addresses the kernel may pick as source for member traffic (meshsec/srcaddr.h). */
#include "config.h"

#include <string.h>
#include <sys/socket.h>

#include "meshsec/srcaddr.h"

enum ms_src_kind ms_src_classify(const struct ms_node *self, const struct ms_host_addr *a)
{
	const struct ms_addr *member = ms_node_addr(self, a->addr.family);

	if (!member || ms_addr_equal(member, &a->addr) || !(a->flags & MS_HOST_GLOBAL) || (a->flags & MS_HOST_DADFAILED))
		return MS_SRC_NONE;
	if (a->addr.family == AF_INET)	/* IPv4 source selection skips secondaries, ignores lifetimes */
		return a->flags & MS_HOST_SECONDARY ? MS_SRC_BOUND_ONLY : MS_SRC_MAY_PICK;
	if (a->flags & MS_HOST_DEPRECATED)
		return MS_SRC_BOUND_ONLY;
	if (a->flags & MS_HOST_TEMPORARY)	/* use_tempaddr 1: only for programs that ask for one */
		return a->use_tempaddr >= 2 ? MS_SRC_TEMPORARY : MS_SRC_BOUND_ONLY;
	return MS_SRC_MAY_PICK;
}

const struct ms_host_addr *ms_src_tempaddr_armed(const struct ms_node *self, const struct ms_host_addr *a, size_t n)
{
	const struct ms_host_addr *member = NULL;

	if (!self->v6.family)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (ms_addr_equal(&a[i].addr, &self->v6))
			member = &a[i];
	if (!member || member->use_tempaddr < 2)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((a[i].flags & MS_HOST_TEMPORARY) && a[i].addr.family == AF_INET6 && strcmp(a[i].ifname, member->ifname) == 0)
			return NULL;
	return member;
}
