/*
 * XFRM netlink dumps: the kernel's policies and SAs, read back into the model's types.  Only
 * objects carrying meshsec's reqid tag are kept, except for the socket-policy count.
 */
#include "config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "meshsec/plan.h"
#include "meshsec/xnl.h"
#include "xnl_internal.h"

static void read_addr(struct ms_addr *a, int family, const xfrm_address_t *xa)
{
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->u.raw, xa, family == AF_INET ? 4 : 16);
}

/* Runs a dump request and hands each reply message to fn. */
static int dump(struct xnl *x, int type, int (*fn)(void *ctx, const struct nlmsghdr *h), void *ctx,
		struct ms_error *err)
{
	struct nlmsghdr req = { .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = (uint16_t)type,
				.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = ++x->seq };

	if (send(nl_socket_get_fd(x->sk), &req, req.nlmsg_len, 0) < 0)
		return ms_error_set(err, errno, "netlink: dump request: %s", strerror(errno));
	for (;;) {
		struct nlmsghdr *h;
		int len = xnl_recv(x, "a dump", err);

		if (len < 0)
			return len;
		for (h = (struct nlmsghdr *)x->rbuf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != req.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				return ms_error_set(err, -e->error, "netlink: dump failed: %s", strerror(-e->error));
			}
			if (fn(ctx, h) < 0)
				return ms_error_set(err, ENOMEM, "netlink: out of memory reading a dump");
		}
	}
}

struct vec {
	void *v;
	size_t n, cap, size;
};

static void *vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *p = realloc(v->v, cap * v->size);

		if (!p)
			return NULL;
		v->v = p;
		v->cap = cap;
	}
	return memset((uint8_t *)v->v + v->n++ * v->size, 0, v->size);
}

/* Runs a dump whose callback appends elem_size records to a vector; *out is malloc'd. */
static int dump_vec(struct xnl *x, int type, int (*fn)(void *ctx, const struct nlmsghdr *h), size_t elem_size,
		    void **out, size_t *n, struct ms_error *err)
{
	struct vec v = { .size = elem_size };
	int rc = dump(x, type, fn, &v, err);

	if (rc < 0) {
		free(v.v);
		return rc;
	}
	*out = v.v;
	*n = v.n;
	return 0;
}

static int on_sp(void *ctx, const struct nlmsghdr *h)
{
	struct xfrm_userpolicy_info p, *pol = &p;
	struct nlattr *tb[XFRMA_MAX + 1];
	const struct xfrm_user_tmpl *t;
	struct ms_sp *sp;

	if (h->nlmsg_type != XFRM_MSG_NEWPOLICY || !xnl_msg_copy(h, &p, sizeof(p)) ||
	    nlmsg_parse((struct nlmsghdr *)h, sizeof(p), tb, XFRMA_MAX, NULL) < 0)
		return 0;
	if (pol->dir != XFRM_POLICY_IN && pol->dir != XFRM_POLICY_OUT)
		return 0;
	if (!tb[XFRMA_TMPL]) {
		if (pol->lft.soft_byte_limit != MS_SP_TAG || pol->action != XFRM_POLICY_ALLOW)
			return 0;	/* not ours: ours without a template carry the tag */
		t = NULL;
	} else if (nla_len(tb[XFRMA_TMPL]) != sizeof(*t)) {
		return 0;	/* not ours: ours have one template or none */
	} else if (!ms_is_our_reqid((t = nla_data(tb[XFRMA_TMPL]))->reqid)) {
		return 0;
	}
	if (!(sp = vec_push(ctx)))
		return -1;
	sp->dir = pol->dir == XFRM_POLICY_OUT ? MS_DIR_OUT : MS_DIR_IN;
	read_addr(&sp->src, pol->sel.family, &pol->sel.saddr);
	read_addr(&sp->dst, pol->sel.family, &pol->sel.daddr);
	sp->src_len = pol->sel.prefixlen_s;
	sp->dst_len = pol->sel.prefixlen_d;
	if (pol->sel.proto == IPPROTO_ICMPV6 && pol->sel.prefixlen_d == 0) {
		sp->icmp6_type = (uint8_t)ntohs(pol->sel.sport);
	} else if (pol->sel.proto) {
		sp->proto = pol->sel.proto;
		sp->sport = ntohs(pol->sel.sport), sp->sport_mask = ntohs(pol->sel.sport_mask);
		sp->dport = ntohs(pol->sel.dport), sp->dport_mask = ntohs(pol->sel.dport_mask);
	}
	sp->shape = !t ? MS_SP_CLEAR : t->optional ? MS_SP_OPTIONAL : MS_SP_REQUIRED;
	sp->reqid = t ? t->reqid : 0;
	sp->priority = pol->priority;
	return 0;
}

/* Per-socket policies show in dumps with dir XFRM_POLICY_MAX + their direction. */
static int on_socket_sp(void *ctx, const struct nlmsghdr *h)
{
	struct xfrm_userpolicy_info pol;
	int *slot;

	if (h->nlmsg_type != XFRM_MSG_NEWPOLICY || !xnl_msg_copy(h, &pol, sizeof(pol)) || pol.dir < XFRM_POLICY_MAX)
		return 0;
	if (!(slot = vec_push(ctx)))
		return -1;
	*slot = pol.dir;
	return 0;
}

int xnl_count_socket_policies(struct xnl *x, size_t *n, struct ms_error *err)
{
	int *dirs = NULL;
	int rc = dump_vec(x, XFRM_MSG_GETPOLICY, on_socket_sp, sizeof(*dirs), (void **)&dirs, n, err);

	free(dirs);
	return rc;
}

int xnl_dump_sp(struct xnl *x, struct ms_sp **out, size_t *n, struct ms_error *err)
{
	return dump_vec(x, XFRM_MSG_GETPOLICY, on_sp, sizeof(**out), (void **)out, n, err);
}

static int on_sa(void *ctx, const struct nlmsghdr *h)
{
	struct xfrm_usersa_info i, *info = &i;
	struct ms_sa *sa;

	if (h->nlmsg_type != XFRM_MSG_NEWSA || !xnl_msg_copy(h, &i, sizeof(i)) || !ms_is_our_reqid(info->reqid) || info->id.proto != IPPROTO_ESP)
		return 0;
	if (!(sa = vec_push(ctx)))
		return -1;
	read_addr(&sa->src, info->family, &info->saddr);
	read_addr(&sa->dst, info->family, &info->id.daddr);
	sa->spi = ntohl(info->id.spi);
	sa->reqid = info->reqid;
	sa->bytes = info->curlft.bytes;
	sa->packets = info->curlft.packets;
	sa->add_time = info->curlft.add_time;
	sa->integrity_failed = info->stats.integrity_failed;
	sa->replay_errors = info->stats.replay;
	return 0;
}

int xnl_dump_sa(struct xnl *x, struct ms_sa **out, size_t *n, struct ms_error *err)
{
	return dump_vec(x, XFRM_MSG_GETSA, on_sa, sizeof(**out), (void **)out, n, err);
}

int xnl_remove_all_tagged(struct xnl *x, size_t *n_sps, size_t *n_sas, struct ms_error *err)
{
	struct ms_sp *sps = NULL;
	struct ms_sa *sas = NULL;
	int rc;

	*n_sps = *n_sas = 0;
	if ((rc = xnl_dump_sp(x, &sps, n_sps, err)) < 0 || (rc = xnl_dump_sa(x, &sas, n_sas, err)) < 0) {
		free(sps);
		return rc;
	}
	for (size_t i = 0; i < *n_sps; i++)
		xnl_sp_del(x, &sps[i]);
	for (size_t i = 0; i < *n_sas; i++)
		xnl_sa_del(x, &sas[i].dst, sas[i].spi);
	free(sps);
	free(sas);
	rc = xnl_commit(x, err);
	return rc > 0 ? -EIO : rc;
}
