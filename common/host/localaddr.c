/*
 * The host's addresses, from the kernel's address table (rtnetlink RTM_GETADDR, the dump
 * getifaddrs(3) makes, read here with the flags it drops), and the source address the kernel
 * picks for a destination (RTM_GETROUTE, as `ip route get`).
 */
#include "config.h"

#include <errno.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "meshsec/localaddr.h"

/* A dump interrupted by a change of the table is retried this often before giving up. */
#define DUMP_TRIES 3

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

static int nl_errno(int nlerr)
{
	return nlerr == -NLE_NOMEM ? -ENOMEM : nlerr == -NLE_PERM ? -EPERM : -EIO;
}

static int rtnl_open(struct nl_sock **out)
{
	struct nl_sock *sk = nl_socket_alloc();
	int rc;

	if (!sk)
		return -ENOMEM;
	if ((rc = nl_connect(sk, NETLINK_ROUTE)) < 0) {
		nl_socket_free(sk);
		return nl_errno(rc);
	}
	*out = sk;
	return 0;
}

/* Copies an address attribute of the family's length into a; -1 if it has another length. */
static int attr_addr(const struct nlattr *attr, int family, struct ms_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (!attr || nla_len(attr) != (family == AF_INET ? 4 : 16))
		return -1;
	a->family = family;
	memcpy(a->u.raw, nla_data(attr), (size_t)nla_len(attr));
	return 0;
}

struct dump {
	struct ms_host_addr *v;
	size_t n, cap;
	int err;
};

static unsigned host_flags(const struct ifaddrmsg *ifa, uint32_t f)
{
	unsigned out = ifa->ifa_scope < RT_SCOPE_LINK ? MS_HOST_GLOBAL : 0;

	/* One bit, two meanings: the family says which. */
	if (f & IFA_F_SECONDARY)
		out |= ifa->ifa_family == AF_INET ? MS_HOST_SECONDARY : MS_HOST_TEMPORARY;
	if (f & IFA_F_DEPRECATED)
		out |= MS_HOST_DEPRECATED;
	if (f & IFA_F_DADFAILED)
		out |= MS_HOST_DADFAILED;
	return out;
}

static int on_addr(struct nl_msg *msg, void *arg)
{
	struct dump *d = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[IFA_MAX + 1];
	struct ifaddrmsg *ifa;
	struct ms_host_addr *e;

	if (h->nlmsg_type != RTM_NEWADDR || nlmsg_parse(h, sizeof(*ifa), tb, IFA_MAX, NULL) < 0)
		return NL_SKIP;
	ifa = nlmsg_data(h);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return NL_SKIP;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;

		if (!(e = realloc(d->v, cap * sizeof(*e)))) {
			d->err = -ENOMEM;
			return NL_STOP;
		}
		d->v = e;
		d->cap = cap;
	}
	e = &d->v[d->n];
	memset(e, 0, sizeof(*e));
	/* On a point-to-point link IFA_ADDRESS is the far end's; IFA_LOCAL is ours. */
	if (attr_addr(tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS], ifa->ifa_family, &e->addr) < 0)
		return NL_SKIP;
	e->prefixlen = ifa->ifa_prefixlen;
	e->flags = host_flags(ifa, tb[IFA_FLAGS] ? nla_get_u32(tb[IFA_FLAGS]) : ifa->ifa_flags);
	e->use_tempaddr = -1;
	if (!if_indextoname(ifa->ifa_index, e->ifname))
		snprintf(e->ifname, sizeof(e->ifname), "#%u", ifa->ifa_index);
	d->n++;
	return NL_OK;
}

/* Sends one request (its fixed header, and RTA_DST when dst) and reads the answer through cb. */
static int request(struct nl_sock *sk, int type, int flags, void *hdr, size_t len, const struct ms_addr *dst,
		   nl_recvmsg_msg_cb_t cb, void *arg)
{
	struct nl_msg *msg = nlmsg_alloc_simple(type, flags);
	int rc;

	if (!msg)
		return -NLE_NOMEM;
	rc = nlmsg_append(msg, hdr, len, NLMSG_ALIGNTO);
	if (rc == 0 && dst)
		rc = nla_put(msg, RTA_DST, (int)ms_addr_len(dst), dst->u.raw);
	if (rc == 0)
		rc = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (rc < 0)
		return rc;
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, arg);
	return nl_recvmsgs_default(sk);
}

int localaddr_dump(struct ms_host_addr **out, size_t *n)
{
	struct dump d = { NULL, 0, 0, 0 };
	struct nl_sock *sk;
	int rc, tries = 0;

	if ((rc = rtnl_open(&sk)) < 0)
		return rc;
	do {
		struct ifaddrmsg req = { .ifa_family = AF_UNSPEC };

		d.n = 0;
		rc = request(sk, RTM_GETADDR, NLM_F_DUMP, &req, sizeof(req), NULL, on_addr, &d);
	} while (rc == -NLE_DUMP_INTR && ++tries < DUMP_TRIES);
	nl_socket_free(sk);
	if (rc < 0 || d.err < 0) {
		free(d.v);
		return d.err < 0 ? d.err : nl_errno(rc);
	}
	*out = d.v ? d.v : calloc(1, sizeof(**out));
	*n = d.n;
	return *out ? 0 : -ENOMEM;
}

int localaddr_list(struct ms_addr **out, size_t *n)
{
	struct ms_host_addr *h;
	struct ms_addr *v;
	size_t cnt;
	int rc;

	if ((rc = localaddr_dump(&h, &cnt)) < 0)
		return rc;
	if (!(v = calloc(cnt + 1, sizeof(*v)))) {
		free(h);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cnt; i++)
		v[i] = h[i].addr;
	free(h);
	*out = v;
	*n = cnt;
	return 0;
}

static int on_route(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nlattr *tb[RTA_MAX + 1];
	struct ms_addr *src = arg;

	if (h->nlmsg_type == RTM_NEWROUTE && nlmsg_parse(h, sizeof(struct rtmsg), tb, RTA_MAX, NULL) == 0)
		attr_addr(tb[RTA_PREFSRC], ((struct rtmsg *)nlmsg_data(h))->rtm_family, src);
	return NL_OK;
}

int localaddr_sources(const struct ms_addr *dst, size_t n, struct ms_addr *src)
{
	struct nl_sock *sk;
	int rc;

	if ((rc = rtnl_open(&sk)) < 0)
		return rc;
	/* The answer is the reply itself; an error (no route) comes instead of it. */
	nl_socket_disable_auto_ack(sk);
	for (size_t i = 0; i < n; i++) {
		struct rtmsg req = { .rtm_family = (unsigned char)dst[i].family, .rtm_dst_len = (unsigned char)(ms_addr_len(&dst[i]) * 8) };

		memset(&src[i], 0, sizeof(src[i]));
		if ((rc = request(sk, RTM_GETROUTE, 0, &req, sizeof(req), &dst[i], on_route, &src[i])) == -NLE_NOMEM)
			break;
	}
	nl_socket_free(sk);
	return rc == -NLE_NOMEM ? -ENOMEM : 0;
}
