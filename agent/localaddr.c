/* Local address discovery with getifaddrs(3). */
#include "config.h"

#include <errno.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "localaddr.h"

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
	for (i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			v[cnt].family = AF_INET;
			v[cnt++].u.v4 = ((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			v[cnt].family = AF_INET6;
			v[cnt++].u.v6 = ((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr;
		}
	}
	freeifaddrs(ifa);
	*out = v;
	*n = cnt;
	return 0;
}
