/*
 * XFRM netlink: request building, batching, ACK and error reading (dumps: xnl_dump.c).
 *
 * Kernel semantics spelled out here rather than left to defaults: lifetimes are XFRM_INF
 * explicitly (zero means "expire now" to some code paths), template algorithm masks are ~0,
 * ESN is on with a 1024-packet replay window (the kernel wants usersa_info.replay_window = 0
 * when XFRMA_REPLAY_ESN_VAL carries the window).
 */
#include "config.h"

#include <errno.h>
#include <linux/netlink.h>
#include <linux/xfrm.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "meshsec/plan.h"
#include "meshsec/xnl.h"
#include "xnl_internal.h"

#define REPLAY_WINDOW 1024
#define SEND_CHUNK (48 * 1024)
/*
 * Requests in flight per send.  Each ACK is its own skb (about 1 KiB of receive buffer), and the
 * kernel drops ACKs (ENOBUFS) once the buffer is full: measured in the bed, 2,000 deletes in one
 * send overflowed the default 208 KiB.
 */
#define MAX_INFLIGHT 128

const char *xnl_refusal_text(const struct xnl *x)
{
	return x->refusal_ext ? x->refusal_ext : "";
}

void xnl_on_refusal(struct xnl *x, xnl_refused_fn fn, void *ctx)
{
	x->refused = fn;
	x->refused_ctx = ctx;
}

int xnl_open(struct xnl **out, struct ms_error *err)
{
	struct xnl *x = calloc(1, sizeof(*x));
	int one = 1, rc;

	if (!x || !(x->rbuf = malloc(RECV_BUF))) {
		free(x);
		return ms_error_set(err, ENOMEM, "netlink: out of memory");
	}
	x->sk = nl_socket_alloc();
	if (!x->sk) {
		free(x->rbuf);
		free(x);
		return ms_error_set(err, ENOMEM, "netlink: out of memory");
	}
	rc = nl_connect(x->sk, NETLINK_XFRM);
	if (rc < 0) {
		nl_socket_free(x->sk);
		free(x->rbuf);
		free(x);
		return ms_error_set(err, EPROTONOSUPPORT, "netlink: cannot open the XFRM socket (%s); is the xfrm_user module loaded (modprobe xfrm_user) and are we root or CAP_NET_ADMIN?",
				    nl_geterror(rc));
	}
	/* Extended ACKs carry the kernel's reason in words; capped ACKs don't echo the request. */
	setsockopt(nl_socket_get_fd(x->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(x->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	nl_socket_set_buffer_size(x->sk, 1 << 20, 1 << 20);
	/* Above net.core.rmem_max too when we may (CAP_NET_ADMIN); MAX_INFLIGHT keeps us safe if not. */
	setsockopt(nl_socket_get_fd(x->sk), SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 1 << 20 }, sizeof(int));
	x->seq = (uint32_t)time(NULL);
	*out = x;
	return 0;
}

void xnl_close(struct xnl *x)
{
	if (!x)
		return;
	nl_socket_free(x->sk);
	if (x->buf)
		explicit_bzero(x->buf, x->cap);	/* SA requests carried keys */
	free(x->buf);
	free(x->reqs);
	free(x->rbuf);
	free(x);
}

static void fill_addr(xfrm_address_t *xa, const struct ms_addr *a)
{
	memset(xa, 0, sizeof(*xa));
	memcpy(xa, a->u.raw, ms_addr_len(a));
}

static void fill_sel(struct xfrm_selector *sel, const struct ms_addr *src, const struct ms_addr *dst)
{
	memset(sel, 0, sizeof(*sel));
	fill_addr(&sel->saddr, src);
	fill_addr(&sel->daddr, dst);
	sel->family = (uint16_t)src->family;
	sel->prefixlen_s = sel->prefixlen_d = (uint8_t)(ms_addr_len(src) * 8);
}

/* An SP's selector: its two prefixes, and for the ND bypass one ICMPv6 type. */
static void fill_sp_sel(struct xfrm_selector *sel, const struct ms_sp *sp)
{
	fill_sel(sel, &sp->src, &sp->dst);
	sel->prefixlen_s = sp->src_len;
	sel->prefixlen_d = sp->dst_len;
	if (sp->icmp6_type) {
		sel->proto = IPPROTO_ICMPV6;
		sel->sport = htons(sp->icmp6_type);	/* the kernel puts an ICMP type in the source port */
		sel->sport_mask = htons(0xffff);
	} else if (sp->proto) {
		sel->proto = sp->proto;
		sel->sport = htons(sp->sport);
		sel->sport_mask = htons(sp->sport_mask);
		sel->dport = htons(sp->dport);
		sel->dport_mask = htons(sp->dport_mask);
	}
}

static void fill_lft(struct xfrm_lifetime_cfg *l)
{
	l->soft_byte_limit = l->hard_byte_limit = XFRM_INF;
	l->soft_packet_limit = l->hard_packet_limit = XFRM_INF;
	l->soft_add_expires_seconds = l->hard_add_expires_seconds = 0;	/* 0: no time limit */
	l->soft_use_expires_seconds = l->hard_use_expires_seconds = 0;
}

/* Appends a finished message to the batch with a fresh sequence number. */
static int queue(struct xnl *x, struct nl_msg *msg, const struct xnl_request *what, const char *desc)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	size_t need = NLMSG_ALIGN(h->nlmsg_len);

	h->nlmsg_seq = ++x->seq;
	h->nlmsg_pid = 0;
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (x->len + need > x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64 * 1024;
		uint8_t *b;

		while (cap < x->len + need)
			cap *= 2;
		b = malloc(cap);
		if (!b) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
		if (x->buf) {
			memcpy(b, x->buf, x->len);
			explicit_bzero(x->buf, x->cap);
			free(x->buf);
		}
		x->buf = b;
		x->cap = cap;
	}
	if (x->n_reqs == x->cap_reqs) {
		size_t cap = x->cap_reqs ? x->cap_reqs * 2 : 256;
		struct req *r = realloc(x->reqs, cap * sizeof(*r));

		if (!r) {
			nlmsg_free(msg);
			return -ENOMEM;
		}
		x->reqs = r;
		x->cap_reqs = cap;
	}
	memcpy(x->buf + x->len, h, h->nlmsg_len);
	memset(x->buf + x->len + h->nlmsg_len, 0, need - h->nlmsg_len);
	x->len += need;
	x->reqs[x->n_reqs].seq = h->nlmsg_seq;
	x->reqs[x->n_reqs].end = x->len;
	x->reqs[x->n_reqs].what = *what;
	snprintf(x->reqs[x->n_reqs].desc, DESC_LEN, "%s", desc);
	x->n_reqs++;
	explicit_bzero(nlmsg_hdr(msg), h->nlmsg_len);
	nlmsg_free(msg);
	return 0;
}

static void describe_sp(char *d, size_t len, const char *verb, const struct ms_sp *sp)
{
	char t[MS_SP_STRLEN];

	snprintf(d, len, "%s policy %s", verb, ms_sp_format(sp, t, sizeof(t)));
}

static int sp_put(struct xnl *x, const struct ms_sp *sp, enum xnl_op op)
{
	struct xfrm_userpolicy_info pol;
	struct xfrm_user_tmpl tmpl;
	struct nl_msg *msg = nlmsg_alloc_simple(op == XNL_SP_ADD ? XFRM_MSG_NEWPOLICY : XFRM_MSG_UPDPOLICY, 0);
	struct xnl_request what = { .op = op, .sp = *sp };
	char desc[DESC_LEN];

	if (!msg)
		return -ENOMEM;
	memset(&pol, 0, sizeof(pol));
	fill_sp_sel(&pol.sel, sp);
	fill_lft(&pol.lft);
	if (sp->shape == MS_SP_CLEAR)
		pol.lft.soft_byte_limit = MS_SP_TAG;	/* no template, no reqid: this says it is ours */
	pol.priority = sp->priority;
	pol.dir = sp->dir == MS_DIR_OUT ? XFRM_POLICY_OUT : XFRM_POLICY_IN;
	pol.action = XFRM_POLICY_ALLOW;
	pol.share = XFRM_SHARE_ANY;
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.id.proto = IPPROTO_ESP;	/* transport mode: addresses come from the packet */
	tmpl.family = (uint16_t)sp->src.family;
	tmpl.reqid = sp->reqid;
	tmpl.mode = XFRM_MODE_TRANSPORT;
	tmpl.share = XFRM_SHARE_ANY;
	tmpl.optional = sp->shape == MS_SP_OPTIONAL;	/* required: no SA means drop, never clear */
	tmpl.aalgos = tmpl.ealgos = tmpl.calgos = ~0u;
	if (nlmsg_append(msg, &pol, sizeof(pol), NLMSG_ALIGNTO) < 0 ||
	    (sp->shape != MS_SP_CLEAR && nla_put(msg, XFRMA_TMPL, sizeof(tmpl), &tmpl) < 0)) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	describe_sp(desc, sizeof(desc), op == XNL_SP_ADD ? "install" : "replace", sp);
	return queue(x, msg, &what, desc);
}

int xnl_sp_add(struct xnl *x, const struct ms_sp *sp)
{
	return sp_put(x, sp, XNL_SP_ADD);
}

int xnl_sp_update(struct xnl *x, const struct ms_sp *sp)
{
	return sp_put(x, sp, XNL_SP_UPDATE);
}

int xnl_sp_del(struct xnl *x, const struct ms_sp *sp)
{
	struct xfrm_userpolicy_id id;
	struct nl_msg *msg = nlmsg_alloc_simple(XFRM_MSG_DELPOLICY, 0);
	struct xnl_request what = { .op = XNL_SP_DEL, .sp = *sp };
	char desc[DESC_LEN];

	if (!msg)
		return -ENOMEM;
	memset(&id, 0, sizeof(id));
	fill_sp_sel(&id.sel, sp);
	id.dir = sp->dir == MS_DIR_OUT ? XFRM_POLICY_OUT : XFRM_POLICY_IN;
	if (nlmsg_append(msg, &id, sizeof(id), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	describe_sp(desc, sizeof(desc), "delete", sp);
	return queue(x, msg, &what, desc);
}

int xnl_sa_add(struct xnl *x, const struct ms_sa *sa)
{
	size_t key_len = ms_cipher_key_len(sa->cipher);
	struct nl_msg *msg = nlmsg_alloc_simple(sa->larval ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, 0);
	struct xfrm_usersa_info info;
	struct xnl_request what = { .op = XNL_SA_ADD, .dst = sa->dst, .spi = sa->spi, .larval = sa->larval != 0 };
	struct {
		struct xfrm_algo_aead a;
		uint8_t key[MS_CIPHER_KEY_MAX];
	} aead;
	struct {
		struct xfrm_replay_state_esn r;
		uint32_t bmp[REPLAY_WINDOW / 32];
	} esn;
	char desc[DESC_LEN], s[MS_ADDR_STRLEN], d[MS_ADDR_STRLEN];
	int rc = -ENOMEM;

	if (!msg)
		return -ENOMEM;
	memset(&info, 0, sizeof(info));
	fill_sel(&info.sel, &sa->src, &sa->dst);
	fill_addr(&info.id.daddr, &sa->dst);
	fill_addr(&info.saddr, &sa->src);
	info.id.spi = htonl(sa->spi);
	info.id.proto = IPPROTO_ESP;
	fill_lft(&info.lft);
	/* Soft limits only: the kernel tells us (EXPIRE, soft) and we rekey; no hard limit, so an
	 * agent that is down never has its pairs cut by the kernel. */
	if (sa->soft_bytes)
		info.lft.soft_byte_limit = sa->soft_bytes;
	if (sa->soft_packets)
		info.lft.soft_packet_limit = sa->soft_packets;
	info.lft.soft_add_expires_seconds = sa->soft_seconds;
	info.reqid = sa->reqid;
	info.family = (uint16_t)sa->dst.family;
	info.mode = XFRM_MODE_TRANSPORT;
	info.replay_window = 0;		/* the ESN attribute carries it */
	info.flags = XFRM_STATE_ESN;
	memset(&aead, 0, sizeof(aead));
	snprintf(aead.a.alg_name, sizeof(aead.a.alg_name), "%s", ms_cipher_kernel_name(sa->cipher));
	aead.a.alg_key_len = (unsigned)(key_len * 8);
	aead.a.alg_icv_len = 128;
	memcpy(aead.key, sa->key, key_len);
	memset(&esn, 0, sizeof(esn));
	esn.r.bmp_len = REPLAY_WINDOW / 32;
	esn.r.replay_window = REPLAY_WINDOW;
	if (nlmsg_append(msg, &info, sizeof(info), NLMSG_ALIGNTO) == 0 &&
	    nla_put(msg, XFRMA_ALG_AEAD, (int)(sizeof(aead.a) + key_len), &aead) == 0 &&
	    nla_put(msg, XFRMA_REPLAY_ESN_VAL, sizeof(esn), &esn) == 0) {
		snprintf(desc, sizeof(desc), "install SA %s -> %s spi %#x", ms_addr_format(&sa->src, s, sizeof(s)),
			 ms_addr_format(&sa->dst, d, sizeof(d)), sa->spi);
		rc = queue(x, msg, &what, desc);
		msg = NULL;
	}
	explicit_bzero(&aead, sizeof(aead));
	if (msg) {
		explicit_bzero(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len);
		nlmsg_free(msg);
	}
	return rc;
}

int xnl_sa_del(struct xnl *x, const struct ms_addr *dst, uint32_t spi)
{
	struct xfrm_usersa_id id;
	struct nl_msg *msg = nlmsg_alloc_simple(XFRM_MSG_DELSA, 0);
	struct xnl_request what = { .op = XNL_SA_DEL, .dst = *dst, .spi = spi };
	char desc[DESC_LEN], d[MS_ADDR_STRLEN];

	if (!msg)
		return -ENOMEM;
	memset(&id, 0, sizeof(id));
	fill_addr(&id.daddr, dst);
	id.spi = htonl(spi);
	id.family = (uint16_t)dst->family;
	id.proto = IPPROTO_ESP;
	if (nlmsg_append(msg, &id, sizeof(id), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	snprintf(desc, sizeof(desc), "delete SA to %s spi %#x", ms_addr_format(dst, d, sizeof(d)), spi);
	return queue(x, msg, &what, desc);
}

/* The kernel's extended-ack message of an NLMSG_ERROR, or "". */
static const char *extack_text(const struct nlmsghdr *h)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	size_t off = sizeof(*e);
	const struct nlattr *a;
	int rem;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return "";
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (NLMSG_HDRLEN + off >= h->nlmsg_len)
		return "";
	a = (const struct nlattr *)((const uint8_t *)e + NLMSG_ALIGN(off));
	rem = (int)(h->nlmsg_len - NLMSG_HDRLEN - NLMSG_ALIGN(off));
	for (; nla_ok(a, rem); a = nla_next(a, &rem))
		if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0)
			return nla_get_string((struct nlattr *)a);
	return "";
}

int xnl_recv(struct xnl *x, const char *what, struct ms_error *err)
{
	for (;;) {
		ssize_t n = recv(nl_socket_get_fd(x->sk), x->rbuf, RECV_BUF, 0);

		if (n >= 0)
			return (int)n;
		if (errno != EINTR)
			return ms_error_set(err, errno, "netlink: reading %s: %s", what, strerror(errno));
	}
}

static bool is_delete(const struct req *r)
{
	return r->what.op == XNL_SP_DEL || r->what.op == XNL_SA_DEL;
}

static struct req *find_req(struct xnl *x, uint32_t seq, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		if (x->reqs[i].seq == seq)
			return &x->reqs[i];
	return NULL;
}

/* Reads ACKs for requests [from, to). Returns failures or -errno. */
static int read_acks(struct xnl *x, size_t from, size_t to, int *failed, struct ms_error *err)
{
	size_t pending = to - from;

	while (pending > 0) {
		struct nlmsghdr *h;
		int len = xnl_recv(x, "ACKs", err);

		if (len < 0)
			return len;
		for (h = (struct nlmsghdr *)x->rbuf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			const struct nlmsgerr *e;
			struct req *r;

			if (h->nlmsg_type != NLMSG_ERROR || !(r = find_req(x, h->nlmsg_seq, from, to)))
				continue;
			pending--;
			e = NLMSG_DATA(h);
			if (e->error == 0 || (is_delete(r) && (e->error == -ENOENT || e->error == -ESRCH)))
				continue;
			x->refusal_ext = extack_text(h);
			if (x->refused)
				x->refused(x->refused_ctx, &r->what, -e->error);
			x->refusal_ext = "";
			if ((*failed)++ == 0) {
				const char *ext = extack_text(h);

				ms_error_set(err, -e->error, "kernel refused to %s: %s%s%s", r->desc, strerror(-e->error),
					     *ext ? ": " : "", ext);
			}
		}
	}
	return 0;
}

int xnl_commit(struct xnl *x, struct ms_error *err)
{
	size_t done = 0, sent_off = 0;
	int failed = 0, rc = 0;

	while (done < x->n_reqs) {
		size_t last = done, off;

		/* The largest run of whole requests that fits one sendmsg. */
		while (last < x->n_reqs && last - done < MAX_INFLIGHT &&
		       (last == done || x->reqs[last].end - sent_off <= SEND_CHUNK))
			last++;
		off = x->reqs[last - 1].end;
		if (send(nl_socket_get_fd(x->sk), x->buf + sent_off, off - sent_off, 0) < 0) {
			rc = ms_error_set(err, errno, "netlink: sending %zu requests: %s", last - done, strerror(errno));
			break;
		}
		rc = read_acks(x, done, last, &failed, err);
		if (rc < 0)
			break;
		done = last;
		sent_off = off;
	}
	if (x->buf)
		explicit_bzero(x->buf, x->len);
	x->len = 0;
	x->n_reqs = 0;
	return rc < 0 ? rc : failed;
}

/*
 * One request answered by one message (not batched): its reply goes to on_reply, an NLMSG_ERROR
 * to err as "kernel refused to WHAT: ...".  Returns 0, or -errno.
 */
static int request(struct xnl *x, struct nl_msg *msg, const char *what,
		   void (*on_reply)(void *ctx, const struct nlmsghdr *h), void *ctx, struct ms_error *err)
{
	uint32_t seq = ++x->seq;

	nlmsg_hdr(msg)->nlmsg_seq = seq;
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_REQUEST;
	if (send(nl_socket_get_fd(x->sk), nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len, 0) < 0) {
		nlmsg_free(msg);
		return ms_error_set(err, errno, "netlink: sending a request to %s: %s", what, strerror(errno));
	}
	nlmsg_free(msg);
	for (;;) {
		struct nlmsghdr *h;
		int len = xnl_recv(x, what, err);

		if (len < 0)
			return len;
		for (h = (struct nlmsghdr *)x->rbuf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				const char *ext = extack_text(h);

				if (e->error == 0)
					return 0;	/* the ACK of a request that has no other answer */
				return ms_error_set(err, -e->error, "kernel refused to %s: %s%s%s", what,
						    strerror(-e->error), *ext ? ": " : "", ext);
			}
			on_reply(ctx, h);
			return 0;
		}
	}
}

static void on_spi(void *ctx, const struct nlmsghdr *h)
{
	struct xfrm_usersa_info info;

	if (h->nlmsg_type == XFRM_MSG_NEWSA && xnl_msg_copy(h, &info, sizeof(info)))
		*(uint32_t *)ctx = ntohl(info.id.spi);
}

int xnl_alloc_spi(struct xnl *x, const struct ms_addr *src, const struct ms_addr *dst, uint32_t reqid,
		  uint32_t *spi, struct ms_error *err)
{
	struct xfrm_userspi_info req;
	struct nl_msg *msg = nlmsg_alloc_simple(XFRM_MSG_ALLOCSPI, NLM_F_REQUEST);

	if (!msg)
		return ms_error_set(err, ENOMEM, "netlink: out of memory");
	memset(&req, 0, sizeof(req));
	fill_sel(&req.info.sel, src, dst);
	fill_addr(&req.info.id.daddr, dst);
	fill_addr(&req.info.saddr, src);
	req.info.id.proto = IPPROTO_ESP;
	req.info.family = (uint16_t)dst->family;
	req.info.mode = XFRM_MODE_TRANSPORT;
	req.info.reqid = reqid;
	fill_lft(&req.info.lft);
	req.min = 0x100;	/* SPIs 1-255 are reserved (RFC 4303) */
	req.max = 0xffffffff;
	if (nlmsg_append(msg, &req, sizeof(req), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return ms_error_set(err, ENOMEM, "netlink: out of memory");
	}
	*spi = 0;
	return request(x, msg, "allocate an SPI", on_spi, spi, err);
}

static void on_policy(void *ctx, const struct nlmsghdr *h)
{
	struct xnl_policy *p = ctx;
	struct xfrm_userpolicy_info copy, *pol = &copy;
	struct nlattr *tb[XFRMA_MAX + 1];

	if (h->nlmsg_type != XFRM_MSG_NEWPOLICY || !xnl_msg_copy(h, &copy, sizeof(copy)) ||
	    nlmsg_parse((struct nlmsghdr *)h, sizeof(copy), tb, XFRMA_MAX, NULL) < 0)
		return;
	p->found = true;
	p->block = pol->action == XFRM_POLICY_BLOCK;
	p->priority = pol->priority;
	p->n_tmpl = tb[XFRMA_TMPL] ? (size_t)nla_len(tb[XFRMA_TMPL]) / sizeof(struct xfrm_user_tmpl) : 0;
	p->tagged = !p->n_tmpl && pol->lft.soft_byte_limit == MS_SP_TAG;
	if (p->n_tmpl) {
		const struct xfrm_user_tmpl *t = nla_data(tb[XFRMA_TMPL]);

		p->proto = t->id.proto;
		p->reqid = t->reqid;
		p->mode = t->mode;
		p->optional = t->optional;
	}
}

int xnl_get_sp(struct xnl *x, const struct ms_sp *sp, struct xnl_policy *out, struct ms_error *err)
{
	struct xfrm_userpolicy_id id;
	struct nl_msg *msg = nlmsg_alloc_simple(XFRM_MSG_GETPOLICY, NLM_F_REQUEST);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!msg)
		return ms_error_set(err, ENOMEM, "netlink: out of memory");
	memset(&id, 0, sizeof(id));
	fill_sp_sel(&id.sel, sp);
	id.dir = sp->dir == MS_DIR_OUT ? XFRM_POLICY_OUT : XFRM_POLICY_IN;
	if (nlmsg_append(msg, &id, sizeof(id), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return ms_error_set(err, ENOMEM, "netlink: out of memory");
	}
	rc = request(x, msg, "look up a policy", on_policy, out, err);
	return rc == -ENOENT ? 0 : rc;
}

static void on_spdinfo(void *ctx, const struct nlmsghdr *h)
{
	struct xnl_hthresh *t = ctx;
	struct nlattr *tb[XFRMA_SPD_MAX + 1];

	if (h->nlmsg_type != XFRM_MSG_NEWSPDINFO || nlmsg_parse((struct nlmsghdr *)h, sizeof(uint32_t), tb, XFRMA_SPD_MAX, NULL) < 0)
		return;
	if (tb[XFRMA_SPD_IPV4_HTHRESH] && nla_len(tb[XFRMA_SPD_IPV4_HTHRESH]) >= (int)sizeof(struct xfrmu_spdhthresh)) {
		const struct xfrmu_spdhthresh *v = nla_data(tb[XFRMA_SPD_IPV4_HTHRESH]);

		t->v4_local = v->lbits, t->v4_remote = v->rbits;
	}
	if (tb[XFRMA_SPD_IPV6_HTHRESH] && nla_len(tb[XFRMA_SPD_IPV6_HTHRESH]) >= (int)sizeof(struct xfrmu_spdhthresh)) {
		const struct xfrmu_spdhthresh *v = nla_data(tb[XFRMA_SPD_IPV6_HTHRESH]);

		t->v6_local = v->lbits, t->v6_remote = v->rbits;
	}
}

static void on_ack(void *ctx, const struct nlmsghdr *h)
{
	(void)ctx, (void)h;
}

int xnl_hthresh_get(struct xnl *x, struct xnl_hthresh *t, struct ms_error *err)
{
	struct nl_msg *msg = nlmsg_alloc_simple(XFRM_MSG_GETSPDINFO, NLM_F_REQUEST);
	uint32_t flags = 0xffffffff;

	memset(t, 0, sizeof(*t));
	if (!msg || nlmsg_append(msg, &flags, sizeof(flags), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return ms_error_set(err, ENOMEM, "netlink: out of memory");
	}
	return request(x, msg, "read the policy hash thresholds", on_spdinfo, t, err);
}

int xnl_hthresh_set(struct xnl *x, const struct xnl_hthresh *t, struct ms_error *err)
{
	struct nl_msg *msg = nlmsg_alloc_simple(XFRM_MSG_NEWSPDINFO, NLM_F_REQUEST | NLM_F_ACK);
	struct xfrmu_spdhthresh v4 = { t->v4_local, t->v4_remote }, v6 = { t->v6_local, t->v6_remote };
	uint32_t flags = 0;

	if (!msg || nlmsg_append(msg, &flags, sizeof(flags), NLMSG_ALIGNTO) < 0 ||
	    nla_put(msg, XFRMA_SPD_IPV4_HTHRESH, sizeof(v4), &v4) < 0 || nla_put(msg, XFRMA_SPD_IPV6_HTHRESH, sizeof(v6), &v6) < 0) {
		nlmsg_free(msg);
		return ms_error_set(err, ENOMEM, "netlink: out of memory");
	}
	return request(x, msg, "set the policy hash thresholds", on_ack, NULL, err);
}

const char *xnl_policy_format(const struct xnl_policy *p, char *buf, size_t len)
{
	static const char *const modes[] = { "transport", "tunnel", "ro", "in_trigger", "beet" };

	if (!p->found)
		snprintf(buf, len, "none");
	else if (p->block || !p->n_tmpl)
		snprintf(buf, len, "%s, priority %u, no template (traffic passes %s)", p->block ? "block" : "allow",
			 p->priority, p->block ? "nowhere: dropped" : "in clear");
	else
		snprintf(buf, len, "allow, priority %u, %s%s template %s mode %s reqid %u%s", p->priority,
			 p->n_tmpl > 1 ? "first of several, " : "", p->optional ? "optional" : "required",
			 p->proto == IPPROTO_ESP ? "esp" : p->proto == IPPROTO_AH ? "ah" : "other",
			 p->mode < 5 ? modes[p->mode] : "other", p->reqid,
			 ms_is_our_reqid(p->reqid) ? " (meshsec's tag)" : "");
	return buf;
}

int xnl_socket_bypass(int fd, int family, struct ms_error *err)
{
	struct xfrm_userpolicy_info pol;
	int level = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	int opt = family == AF_INET ? IP_XFRM_POLICY : IPV6_XFRM_POLICY;

	for (int dir = XFRM_POLICY_IN; dir <= XFRM_POLICY_OUT; dir++) {
		memset(&pol, 0, sizeof(pol));
		fill_lft(&pol.lft);
		pol.action = XFRM_POLICY_ALLOW;
		pol.sel.family = (uint16_t)family;
		pol.dir = (uint8_t)dir;
		if (setsockopt(fd, level, opt, &pol, sizeof(pol)) < 0)
			return ms_error_set(err, errno, "cannot set the IPsec bypass policy on the agent's %s socket: %s",
					    family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
	}
	return 0;
}

int xnl_socket_esp(int fd, int family, bool out, uint32_t reqid, struct ms_error *err)
{
	struct {
		struct xfrm_userpolicy_info pol;
		struct xfrm_user_tmpl tmpl;
	} req;
	int level = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	int opt = family == AF_INET ? IP_XFRM_POLICY : IPV6_XFRM_POLICY;

	memset(&req, 0, sizeof(req));
	fill_lft(&req.pol.lft);
	req.pol.action = XFRM_POLICY_ALLOW;
	req.pol.sel.family = (uint16_t)family;
	req.pol.dir = out ? XFRM_POLICY_OUT : XFRM_POLICY_IN;
	req.tmpl.id.proto = IPPROTO_ESP;	/* transport: the flow's own addresses, states matched by reqid */
	req.tmpl.family = (uint16_t)family;
	req.tmpl.reqid = reqid;
	req.tmpl.mode = XFRM_MODE_TRANSPORT;
	req.tmpl.share = XFRM_SHARE_ANY;
	req.tmpl.optional = 0;	/* required: no SA means the packet is dropped (out) or refused (in), never clear */
	req.tmpl.aalgos = req.tmpl.ealgos = req.tmpl.calgos = ~0u;
	if (setsockopt(fd, level, opt, &req, sizeof(req)) < 0)
		return ms_error_set(err, errno, "cannot set the %s ESP-only %s policy on a probe socket: %s",
				    family == AF_INET ? "IPv4" : "IPv6", out ? "outbound" : "inbound", strerror(errno));
	return 0;
}
