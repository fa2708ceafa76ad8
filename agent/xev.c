/* XFRM notifications: see xev.h.  Parses the messages from <linux/xfrm.h> itself. */
#include "config.h"

#include <errno.h>
#include <linux/xfrm.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "xev.h"

#define EVENT_BUF (256 * 1024)

struct xev {
	struct nl_sock *sk;
	struct event *ev;
	xev_expire_fn fn;
	void *ctx;
	uint8_t *buf;
};

static void handle(struct xev *x, const struct nlmsghdr *h)
{
	struct xfrm_user_expire copy, *e = &copy;	/* a copy: 64-bit fields, 4-byte aligned messages */
	struct ms_addr src, dst;
	size_t len;

	if (h->nlmsg_type != XFRM_MSG_EXPIRE || h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return;
	memcpy(e, NLMSG_DATA(h), sizeof(*e));
	if (e->hard || !ms_is_our_reqid(e->state.reqid) || e->state.id.proto != IPPROTO_ESP)
		return;
	len = e->state.family == AF_INET ? 4 : 16;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.family = dst.family = e->state.family;
	memcpy(src.u.raw, &e->state.saddr, len);
	memcpy(dst.u.raw, &e->state.id.daddr, len);
	x->fn(x->ctx, &src, &dst, ntohl(e->state.id.spi));
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct xev *x = arg;
	ssize_t n;

	(void)what;
	while ((n = recv(fd, x->buf, EVENT_BUF, MSG_DONTWAIT)) != 0) {
		int len = (int)n;

		if (n < 0) {
			if (errno == ENOBUFS)
				log_warnx("xfrm events: notifications lost (receive buffer full); the rekey timer covers it");
			else if (errno != EAGAIN && errno != EINTR)
				log_warn("xfrm events");
			if (errno != ENOBUFS && errno != EINTR)
				return;
			continue;
		}
		for (struct nlmsghdr *h = (struct nlmsghdr *)x->buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len))
			handle(x, h);
	}
}

int xev_open(struct event_base *base, xev_expire_fn fn, void *ctx, struct xev **out, struct ms_error *err)
{
	struct xev *x = calloc(1, sizeof(*x));
	int rc;

	if (!x || !(x->buf = malloc(EVENT_BUF)) || !(x->sk = nl_socket_alloc())) {
		xev_close(x);
		return ms_error_set(err, ENOMEM, "out of memory");
	}
	nl_socket_disable_seq_check(x->sk);
	if ((rc = nl_connect(x->sk, NETLINK_XFRM)) < 0 || (rc = nl_socket_add_membership(x->sk, XFRMNLGRP_EXPIRE)) < 0) {
		xev_close(x);
		return ms_error_set(err, EPROTONOSUPPORT, "xfrm events: cannot subscribe to SA expiry: %s", nl_geterror(rc));
	}
	nl_socket_set_buffer_size(x->sk, 1 << 20, 0);
	setsockopt(nl_socket_get_fd(x->sk), SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 1 << 20 }, sizeof(int));
	x->fn = fn;
	x->ctx = ctx;
	x->ev = event_new(base, nl_socket_get_fd(x->sk), EV_READ | EV_PERSIST, on_read, x);
	if (!x->ev || event_add(x->ev, NULL) < 0) {
		xev_close(x);
		return ms_error_set(err, ENOMEM, "out of memory");
	}
	*out = x;
	return 0;
}

void xev_close(struct xev *x)
{
	if (!x)
		return;
	if (x->ev)
		event_free(x->ev);
	if (x->sk)
		nl_socket_free(x->sk);
	free(x->buf);
	free(x);
}
