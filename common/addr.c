/* Member addresses: what a host address may be, and why the others are refused. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "meshsec/addr.h"

static int check_v4(const struct in_addr *a, const char *text, struct ms_error *err)
{
	uint32_t h = ntohl(a->s_addr);

	if (h == 0)
		return ms_error_set(err, EINVAL, "\"%s\" is the unspecified address; give the node's own address", text);
	if ((h >> 24) == 127)
		return ms_error_set(err, EINVAL, "\"%s\" is a loopback address; other nodes cannot reach it", text);
	if ((h >> 28) == 0xe)
		return ms_error_set(err, EINVAL, "\"%s\" is a multicast address; give a unicast host address", text);
	if (h == 0xffffffffu)
		return ms_error_set(err, EINVAL, "\"%s\" is the broadcast address; give a unicast host address", text);
	if ((h >> 28) == 0xf)
		return ms_error_set(err, EINVAL, "\"%s\" is in the reserved 240.0.0.0/4 range; give a unicast host address", text);
	return 0;
}

static int check_v6(const struct in6_addr *a, const char *text, struct ms_error *err)
{
	if (IN6_IS_ADDR_UNSPECIFIED(a))
		return ms_error_set(err, EINVAL, "\"%s\" is the unspecified address; give the node's own address", text);
	if (IN6_IS_ADDR_LOOPBACK(a))
		return ms_error_set(err, EINVAL, "\"%s\" is a loopback address; other nodes cannot reach it", text);
	if (IN6_IS_ADDR_MULTICAST(a))
		return ms_error_set(err, EINVAL, "\"%s\" is a multicast address; give a unicast host address", text);
	if (IN6_IS_ADDR_LINKLOCAL(a))
		return ms_error_set(err, EINVAL, "\"%s\" is link-local and needs an interface scope; give a global or ULA address", text);
	if (IN6_IS_ADDR_V4MAPPED(a))
		return ms_error_set(err, EINVAL, "\"%s\" is an IPv4-mapped address; write the IPv4 address itself", text);
	return 0;
}

int ms_addr_parse(const char *text, struct ms_addr *out, struct ms_error *err)
{
	memset(out, 0, sizeof(*out));
	if (strchr(text, '/'))
		return ms_error_set(err, EINVAL, "\"%s\" is a network; give a single host address without a prefix length", text);
	if (inet_pton(AF_INET, text, &out->u.v4) == 1) {
		out->family = AF_INET;
		return check_v4(&out->u.v4, text, err);
	}
	if (inet_pton(AF_INET6, text, &out->u.v6) == 1) {
		out->family = AF_INET6;
		return check_v6(&out->u.v6, text, err);
	}
	return ms_error_set(err, EINVAL, "\"%s\" is not an IPv4 or IPv6 address (examples: 10.0.1.5, fd00::5)", text);
}

const char *ms_addr_format(const struct ms_addr *a, char *buf, size_t len)
{
	if (!inet_ntop(a->family, a->u.raw, buf, len))
		snprintf(buf, len, "?");
	return buf;
}

size_t ms_addr_len(const struct ms_addr *a)
{
	return a->family == AF_INET ? 4 : 16;
}

size_t ms_addr_key(const struct ms_addr *a, unsigned char key[MS_ADDR_KEY_MAX])
{
	key[0] = (unsigned char)a->family;
	memcpy(key + 1, a->u.raw, ms_addr_len(a));
	return 1 + ms_addr_len(a);
}

bool ms_addr_can_be_member(const struct ms_addr *a)
{
	return (a->family == AF_INET ? check_v4(&a->u.v4, "", NULL) : check_v6(&a->u.v6, "", NULL)) == 0;
}

bool ms_addr_equal(const struct ms_addr *a, const struct ms_addr *b)
{
	return a->family == b->family && memcmp(a->u.raw, b->u.raw, ms_addr_len(a)) == 0;
}

bool ms_addr_same_slot(const struct ms_addr *a, const struct ms_addr *b)
{
	return a->family == b->family && (!a->family || ms_addr_equal(a, b));
}
