/* Shared by xnl.c (requests, batches, ACKs) and xnl_dump.c (dumps); not for other modules. */
#ifndef MESHSEC_XNL_INTERNAL_H
#define MESHSEC_XNL_INTERNAL_H

#include <linux/netlink.h>
#include <netlink/socket.h>
#include <stdbool.h>
#include <string.h>
#include <stdint.h>

#include "meshsec/error.h"
#include "meshsec/xnl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define RECV_BUF (256 * 1024)
#define DESC_LEN 160

struct xnl {
	struct nl_sock *sk;
	uint32_t seq;
	/* The batch: concatenated requests and, per request, what it was. */
	uint8_t *buf;
	size_t len, cap;
	struct req {
		uint32_t seq;
		size_t end;		/* offset in buf after this request */
		struct xnl_request what;
		char desc[DESC_LEN];
	} *reqs;
	size_t n_reqs, cap_reqs;
	uint8_t *rbuf;
	xnl_refused_fn refused;
	void *refused_ctx;
	const char *refusal_ext;	/* the refusal being reported's extended ack, "" outside */
};

/*
 * Copies a message's fixed header out: messages after the first of a batch are only 4-byte
 * aligned, and the XFRM structs hold 64-bit counters.  False if the message is too short.
 */
static inline bool xnl_msg_copy(const struct nlmsghdr *h, void *out, size_t len)
{
	if (h->nlmsg_len < NLMSG_LENGTH(len))
		return false;
	memcpy(out, NLMSG_DATA(h), len);
	return true;
}

/* One receive into x->rbuf; returns the byte count or -errno (EINTR retried). */
int xnl_recv(struct xnl *x, const char *what, struct ms_error *err);

#endif
