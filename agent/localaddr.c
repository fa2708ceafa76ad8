/* Local address discovery with getifaddrs(3). */
#include "config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "localaddr.h"

int localaddr_from_sockaddr(const struct sockaddr *sa, struct ms_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET)
		out->u.v4 = ((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		out->u.v6 = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	else
		return -1;
	out->family = sa->sa_family;
	return 0;
}

int localaddr_list(struct ms_addr **out, size_t *n)
{
	struct ifaddrs *ifa, *i;
	struct ms_addr *v;
	size_t cnt = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next)
		cnt += i->ifa_addr && (i->ifa_addr->sa_family == AF_INET || i->ifa_addr->sa_family == AF_INET6);
	v = calloc(cnt + 1, sizeof(*v));
	if (!v) {
		freeifaddrs(ifa);
		return -ENOMEM;
	}
	cnt = 0;
	for (i = ifa; i; i = i->ifa_next)
		if (i->ifa_addr && localaddr_from_sockaddr(i->ifa_addr, &v[cnt]) == 0)
			cnt++;
	freeifaddrs(ifa);
	*out = v;
	*n = cnt;
	return 0;
}
