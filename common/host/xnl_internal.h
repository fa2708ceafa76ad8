/* Shared by xnl.c (requests, batches, ACKs) and xnl_dump.c (dumps); not for other modules. */
#ifndef MESHSEC_XNL_INTERNAL_H
#define MESHSEC_XNL_INTERNAL_H

#include <netlink/socket.h>
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
};

/* One receive into x->rbuf; returns the byte count or -errno (EINTR retried). */
int xnl_recv(struct xnl *x, const char *what, struct ms_error *err);

#endif
