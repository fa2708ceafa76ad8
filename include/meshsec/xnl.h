/*
 * XFRM requests over netlink, for the agent and the CLI (libnl-3 core, messages built from
 * <linux/xfrm.h>; the agent's notification socket is agent/xev.c).  Requests are batched into as few sendmsg calls as fit, every request asks for
 * an ACK, and every ACK is read; a failure carries errno, the kernel's extended-ack text, and what
 * the request was.  Only objects carrying meshsec's reqid tag are ever listed, changed or deleted.
 */
#ifndef MESHSEC_XNL_H
#define MESHSEC_XNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshsec/error.h"
#include "meshsec/model.h"

struct xnl;

int xnl_open(struct xnl **out, struct ms_error *err);
void xnl_close(struct xnl *x);

/*
 * Batches: queue requests, then commit sends them and reads every ACK.
 * xnl_sp_add creates (XFRM_MSG_NEWPOLICY): a policy with the same selector, whoever owns it,
 * makes it fail with EEXIST and stays as it is.  xnl_sp_update replaces (UPDPOLICY) and is only
 * for a policy a dump showed to be ours.
 */
int xnl_sp_add(struct xnl *x, const struct ms_sp *sp);
int xnl_sp_update(struct xnl *x, const struct ms_sp *sp);
int xnl_sp_del(struct xnl *x, const struct ms_sp *sp);
int xnl_sa_add(struct xnl *x, const struct ms_sa *sa);
int xnl_sa_del(struct xnl *x, const struct ms_addr *dst, uint32_t spi);
/* A queued request, as the refusal handler sees it. */
enum xnl_op { XNL_SP_ADD, XNL_SP_UPDATE, XNL_SP_DEL, XNL_SA_ADD, XNL_SA_DEL };
struct xnl_request {
	enum xnl_op op;
	struct ms_sp sp;		/* SP requests */
	struct ms_addr dst;		/* SA requests */
	uint32_t spi;
	bool larval;			/* an SA add filling a state of our ALLOCSPI */
};
/*
 * Called during xnl_commit for every request the kernel refused (error: a positive errno), so the
 * caller can tell what it owns: an add that failed made nothing of ours.
 */
typedef void (*xnl_refused_fn)(void *ctx, const struct xnl_request *r, int error);
void xnl_on_refusal(struct xnl *x, xnl_refused_fn fn, void *ctx);
/* Inside the refusal handler: the kernel's extended-ack text of that refusal ("" if none). */
const char *xnl_refusal_text(const struct xnl *x);

/*
 * Returns the number of failed requests (0: all done), or -errno if the socket failed.  err gets
 * the first failure.  A delete of something already gone counts as done.
 */
int xnl_commit(struct xnl *x, struct ms_error *err);

/* The kernel picks an unused inbound SPI and reserves it (a larval SA, filled by xnl_sa_add). */
int xnl_alloc_spi(struct xnl *x, const struct ms_addr *src, const struct ms_addr *dst, uint32_t reqid,
		  uint32_t *spi, struct ms_error *err);

/* Whoever's policy holds a selector (direction and selector of sp), as the kernel has it. */
struct xnl_policy {
	bool found, block, optional;
	bool tagged;			/* no template, and meshsec's tag (MS_SP_TAG) */
	uint32_t priority, reqid;	/* reqid, proto, mode: of the first template */
	uint8_t proto, mode;
	size_t n_tmpl;
};
/* 0 (out->found false when there is none) or -errno. */
int xnl_get_sp(struct xnl *x, const struct ms_sp *sp, struct xnl_policy *out, struct ms_error *err);
/* "allow, priority 0, required template esp mode transport reqid 42": into buf, returned. */
#define XNL_POLICY_STRLEN 128
const char *xnl_policy_format(const struct xnl_policy *p, char *buf, size_t len);

/*
 * The namespace's policy hash thresholds (`ip xfrm policy set hthresh4 LOCAL REMOTE`): a policy
 * whose prefixes are at least these long is hashed; the others go to the slower inexact lookup.
 * Shared by every owner of policies in the namespace.
 */
struct xnl_hthresh {
	uint8_t v4_local, v4_remote, v6_local, v6_remote;
};
int xnl_hthresh_get(struct xnl *x, struct xnl_hthresh *t, struct ms_error *err);
int xnl_hthresh_set(struct xnl *x, const struct xnl_hthresh *t, struct ms_error *err);

/* Tagged objects only; *out is malloc'd. */
int xnl_dump_sp(struct xnl *x, struct ms_sp **out, size_t *n, struct ms_error *err);
int xnl_dump_sa(struct xnl *x, struct ms_sa **out, size_t *n, struct ms_error *err);

/* How many per-socket policies exist (any owner's; each bypassing socket has one per direction). */
int xnl_count_socket_policies(struct xnl *x, size_t *n, struct ms_error *err);

/* Deletes every tagged SP and SA (meshsec down); counts what went. */
int xnl_remove_all_tagged(struct xnl *x, size_t *n_sps, size_t *n_sas, struct ms_error *err);

/* Lets a socket's own traffic bypass IPsec policies in both directions (IKE daemons do the same). */
int xnl_socket_bypass(int fd, int family, struct ms_error *err);
/*
 * A per-socket policy for one direction with a required ESP transport template (it takes
 * precedence over the SPD for that socket): out, what the socket sends leaves only as ESP through
 * an SA with this reqid (the pair's: the kernel matches outbound states by reqid), or is dropped;
 * in (reqid 0: any of the node's SAs), only what arrived through an ESP transport SA reaches it.
 * So a probe and its answer prove ESP passes whatever the pair's policies in the SPD say.
 */
int xnl_socket_esp(int fd, int family, bool out, uint32_t reqid, struct ms_error *err);

#endif
