/*
 * The only file that talks to the kernel: XFRM over netlink (libnl-3 core, messages built from
 * <linux/xfrm.h>).  Requests are batched into as few sendmsg calls as fit, every request asks for
 * an ACK, and every ACK is read; a failure carries errno, the kernel's extended-ack text, and what
 * the request was.  Only objects carrying meshsec's reqid tag are ever listed, changed or deleted.
 */
#ifndef MESHSEC_XFRM_NL_H
#define MESHSEC_XFRM_NL_H

#include <stddef.h>
#include <stdint.h>

#include "meshsec/error.h"
#include "meshsec/model.h"

struct xnl;

int xnl_open(struct xnl **out, struct ms_error *err);
void xnl_close(struct xnl *x);

/* Batches: queue requests, then commit sends them and reads every ACK. */
int xnl_sp_put(struct xnl *x, const struct ms_sp *sp);		/* create or replace */
int xnl_sp_del(struct xnl *x, const struct ms_sp *sp);
int xnl_sa_add(struct xnl *x, const struct ms_sa *sa);
int xnl_sa_del(struct xnl *x, const struct ms_addr *dst, uint32_t spi);
/*
 * Returns the number of failed requests (0: all done), or -errno if the socket failed.  err gets
 * the first failure.  A delete of something already gone counts as done.
 */
int xnl_commit(struct xnl *x, struct ms_error *err);

/* The kernel picks an unused inbound SPI and reserves it (a larval SA, filled by xnl_sa_add). */
int xnl_alloc_spi(struct xnl *x, const struct ms_addr *src, const struct ms_addr *dst, uint32_t reqid,
		  uint32_t *spi, struct ms_error *err);

/* Tagged objects only; *out is malloc'd. */
int xnl_dump_sp(struct xnl *x, struct ms_sp **out, size_t *n, struct ms_error *err);
int xnl_dump_sa(struct xnl *x, struct ms_sa **out, size_t *n, struct ms_error *err);

/* How many per-socket policies exist (any owner's; each bypassing socket has one per direction). */
int xnl_count_socket_policies(struct xnl *x, size_t *n, struct ms_error *err);

/* Deletes every tagged SP and SA (meshsec down); counts what went. */
int xnl_remove_all_tagged(struct xnl *x, size_t *n_sps, size_t *n_sas, struct ms_error *err);

/* Lets a socket's own traffic bypass IPsec policies in both directions (IKE daemons do the same). */
int xnl_socket_bypass(int fd, int family, struct ms_error *err);

#endif
