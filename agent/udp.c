/* UDP sockets for the handshake protocol. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "udp.h"
#include "meshsec/xnl.h"

int udp_open(int family, uint16_t port, struct ms_error *err)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1, rc;
	struct sockaddr_storage ss;
	socklen_t sl;

	if (fd < 0)
		return ms_error_set(err, errno, "cannot create the %s UDP socket: %s", family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		sl = sizeof(*s6);
	}
	/* The bypass must be in place before the first packet, or the member SPs would eat them. */
	if ((rc = xnl_socket_bypass(fd, family, err)) < 0) {
		close(fd);
		return rc;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		rc = ms_error_set(err, errno, "cannot bind UDP port %u (%s): %s%s", port, family == AF_INET ? "IPv4" : "IPv6",
				  strerror(errno), errno == EADDRINUSE ? "; is another meshsecd running, or change mesh.port" : "");
		close(fd);
		return rc;
	}
	return fd;
}

ssize_t udp_send(int fd, const struct ms_addr *to, uint16_t port, const uint8_t *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	memset(&ss, 0, sizeof(ss));
	if (to->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		s4->sin_addr = to->u.v4;
		sl = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		s6->sin6_addr = to->u.v6;
		sl = sizeof(*s6);
	}
	return sendto(fd, buf, len, 0, (struct sockaddr *)&ss, sl);
}

ssize_t udp_recv(int fd, uint8_t *buf, size_t cap, struct ms_addr *from)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	ssize_t n = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&ss, &sl);

	if (n < 0)
		return n;
	memset(from, 0, sizeof(*from));
	from->family = ss.ss_family;
	if (ss.ss_family == AF_INET)
		from->u.v4 = ((struct sockaddr_in *)&ss)->sin_addr;
	else
		from->u.v6 = ((struct sockaddr_in6 *)&ss)->sin6_addr;
	return n;
}
