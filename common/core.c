/*
 * The node core (meshsec/core.h): peers, the receive filter, the engine's actions carried out
 * through the shell's operations, SAs adopted at start, reload, expiry and forced rekeys.
 * Liveness lives in core_liveness.c.
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core_internal.h"
#include "meshsec/index.h"
#include "meshsec/plan.h"

void core_logf(struct core *c, enum core_log level, const char *fmt, ...)
{
	va_list ap;

	if (!c->ops->log)
		return;
	va_start(ap, fmt);
	c->ops->log(c->ctx, level, fmt, ap);
	va_end(ap);
}

const struct ms_addr *core_self_addr(const struct core *c, int family)
{
	const struct ms_addr *a = family == AF_INET ? &c->self4 : &c->self6;

	return a->family ? a : NULL;
}

static const struct ms_addr *peer_addr(const struct core_peer *p, int family)
{
	const struct ms_addr *a = family == AF_INET ? &p->v4 : &p->v6;

	return a->family ? a : NULL;
}

static unsigned shared_families(const struct core *c, const struct ms_node *n)
{
	return (c->self4.family && n->v4.family ? HS_FAM_V4 : 0) | (c->self6.family && n->v6.family ? HS_FAM_V6 : 0);
}

static int engine_alloc_spi(void *ctx, int id, int family, uint32_t *spi)
{
	struct core *c = ctx;
	const struct core_peer *p = &c->peers[id];
	int rc = c->ops->alloc_spi(c->ctx, peer_addr(p, family), core_self_addr(c, family), p->reqid, spi);

	if (rc < 0)
		c->st.kernel_errors++;
	return rc;
}

static void settings(struct core *c, const struct ms_inventory *inv)
{
	c->keepalive_s = inv->keepalive_s;
	c->dead_after_s = inv->dead_after_s;
	c->rekey_s = inv->rekey_s;
	c->rekey_bytes = inv->rekey_bytes;
	c->rekey_packets = inv->rekey_packets;
}

/* Maps (or unmaps, with id < 0) the peer's addresses in the address index. */
static int index_addrs(struct core *c, const struct core_peer *p, int id)
{
	const struct ms_addr *a[2] = { &p->v4, &p->v6 };
	unsigned char key[MS_ADDR_KEY_MAX];

	for (int f = 0; f < 2; f++) {
		if (!a[f]->family)
			continue;
		if (id < 0)
			ms_index_del(c->by_addr, key, ms_addr_key(a[f], key));
		else if (ms_index_put(c->by_addr, key, ms_addr_key(a[f], key), id) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int peer_add(struct core *c, const struct ms_node *n, uint64_t now_ms)
{
	int id = hs_peer_add(c->hs, n->name, shared_families(c, n));
	struct core_peer *p;

	if (id < 0)
		return id;
	if ((size_t)id >= c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;

		while (cap <= (size_t)id)
			cap *= 2;
		p = realloc(c->peers, cap * sizeof(*p));
		if (!p) {
			hs_peer_remove(c->hs, id, c->out);	/* nothing was installed: no actions */
			return -ENOMEM;
		}
		memset(p + c->cap, 0, (cap - c->cap) * sizeof(*p));
		c->peers = p;
		c->cap = cap;
	}
	p = &c->peers[id];
	memset(p, 0, sizeof(*p));
	p->used = true;
	p->state = PEER_CONNECTING;
	p->since_ms = now_ms;
	snprintf(p->name, sizeof(p->name), "%s", n->name);
	p->v4 = n->v4;
	p->v6 = n->v6;
	p->reqid = ms_pair_reqid(c->self, n->name);
	if (index_addrs(c, p, id) < 0) {
		index_addrs(c, p, -1);
		hs_peer_remove(c->hs, id, c->out);
		p->used = false;
		return -ENOMEM;
	}
	return id;
}

struct core *core_new(const struct ms_inventory *inv, size_t self, const uint8_t secret[32],
		      const struct core_ops *ops, void *ctx)
{
	const struct ms_node *me = &inv->nodes[self];
	struct core *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->ops = ops;
	c->ctx = ctx;
	c->cipher = inv->cipher;
	c->port = inv->port;
	c->self4 = me->v4;
	c->self6 = me->v6;
	snprintf(c->self, sizeof(c->self), "%s", me->name);
	settings(c, inv);
	c->out = sodium_malloc(sizeof(*c->out));
	c->hs = hs_engine_new(inv->mesh_name, me->name, inv->cipher, secret, engine_alloc_spi, c);
	c->by_addr = ms_index_new(inv->n_nodes * 2);
	if (!c->out || !c->hs || !c->by_addr) {
		core_free(c);
		return NULL;
	}
	sodium_memzero(c->out, sizeof(*c->out));
	for (size_t i = 0; i < inv->n_nodes; i++)
		if (i != self && shared_families(c, &inv->nodes[i]) && peer_add(c, &inv->nodes[i], 0) < 0) {
			core_free(c);
			return NULL;
		}
	return c;
}

void core_free(struct core *c)
{
	if (!c)
		return;
	hs_engine_free(c->hs);
	sodium_free(c->out);
	ms_index_free(c->by_addr);
	free(c->peers);
	free(c->stale);
	free(c);
}

void core_set_digest(struct core *c, const uint8_t digest[MS_DIGEST_LEN])
{
	memcpy(c->digest, digest, MS_DIGEST_LEN);
	hs_set_digest(c->hs, digest);
}

/* v +- 10 %, so the SAs of a fleet do not all reach their limits at once. */
static uint64_t jitter(uint64_t v)
{
	uint64_t spread = v / 5;

	return v - v / 10 + (spread ? (uint64_t)randombytes_uniform((uint32_t)(spread > UINT32_MAX ? UINT32_MAX : spread)) : 0);
}

/* The stale SAs of a peer that now has fresh keys go after their grace. */
static void retire_stale(struct core *c, int id, uint64_t now_ms)
{
	c->peers[id].adopted_out = false;
	for (size_t i = 0; i < c->n_stale; i++) {
		struct core_stale *s = &c->stale[i];

		if (s->peer == id && !s->deadline_ms)
			s->deadline_ms = now_ms + (s->inbound ? HS_OLD_INBOUND_GRACE_MS : HS_OLD_OUTBOUND_GRACE_MS);
	}
}

/* Deletes stale SAs matching peer (or any, if -1) and, if dst is given, that (dst, spi) only. */
static void drop_stale(struct core *c, int peer, const struct ms_addr *dst, uint32_t spi, uint64_t due_by)
{
	for (size_t i = 0; i < c->n_stale;) {
		struct core_stale *s = &c->stale[i];
		bool match = dst ? s->spi == spi && ms_addr_equal(&s->dst, dst)
				 : (peer < 0 || s->peer == peer) && (!due_by || (s->deadline_ms && s->deadline_ms <= due_by));

		if (match) {
			c->ops->sa_del(c->ctx, &s->dst, s->spi);
			*s = c->stale[--c->n_stale];
		} else {
			i++;
		}
	}
}

static void sa_add(struct core *c, const struct hs_action *a)
{
	const struct core_peer *p = &c->peers[a->peer];
	const struct ms_addr *me = core_self_addr(c, a->family), *them = peer_addr(p, a->family);
	struct ms_sa sa;

	if (!me || !them)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.src = a->dir == MS_DIR_IN ? *them : *me;
	sa.dst = a->dir == MS_DIR_IN ? *me : *them;
	sa.spi = a->spi;
	sa.reqid = p->reqid;
	sa.cipher = c->cipher;
	sa.key = a->key;
	sa.larval = a->dir == MS_DIR_IN;
	sa.soft_seconds = jitter(c->rekey_s);
	sa.soft_bytes = jitter(c->rekey_bytes);
	sa.soft_packets = jitter(c->rekey_packets);
	/* A rebuilt peer may hand out an SPI that an adopted outbound SA still uses: it goes first. */
	if (a->dir == MS_DIR_OUT)
		drop_stale(c, -1, &sa.dst, sa.spi, 0);
	c->ops->sa_add(c->ctx, &sa);
}

static bool in_set(const int *set, size_t n, int id)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == id)
			return true;
	return false;
}

/* Where the SA of an SA_ADD / SA_DEL action lives (its destination), or NULL. */
static const struct ms_addr *action_dst(const struct core *c, const struct hs_action *a)
{
	const struct ms_addr *me = core_self_addr(c, a->family), *them = peer_addr(&c->peers[a->peer], a->family);

	return !me || !them ? NULL : a->dir == MS_DIR_IN ? me : them;
}

void core_sa_refused(struct core *c, const struct ms_addr *dst, uint32_t spi, bool larval, int error,
		     const char *ext)
{
	c->refused_errno = error;
	snprintf(c->refused_ext, sizeof(c->refused_ext), "%s", ext ? ext : "");
	if (c->n_refused < HS_MAX_ACTIONS)
		c->refused[c->n_refused++] = (struct core_refused){ .dst = *dst, .spi = spi, .larval = larval };
}

/* An outbound add of (dst, spi) failed in this run: whatever holds that SPI is not ours. */
static bool not_ours(const struct core *c, const struct ms_addr *dst, uint32_t spi)
{
	for (size_t i = 0; i < c->n_refused; i++)
		if (!c->refused[i].larval && c->refused[i].spi == spi && ms_addr_equal(&c->refused[i].dst, dst))
			return true;
	return false;
}

static void sa_del(struct core *c, const struct hs_action *a)
{
	const struct ms_addr *dst = action_dst(c, a);
	char b[MS_ADDR_STRLEN];

	if (dst && not_ours(c, dst, a->spi))
		core_logf(c, CORE_LOG_WARN, "peer %s: the kernel already has an SA to %s with SPI %#x, which meshsec did not install: left alone",
			  c->peers[a->peer].name, ms_addr_format(dst, b, sizeof(b)), a->spi);
	else if (dst)
		c->ops->sa_del(c->ctx, dst, a->spi);
}

static bool commit(struct core *c)
{
	int failed = c->ops->commit(c->ctx);

	c->st.kernel_errors += failed > 0 ? (uint64_t)failed : 0;
	return failed == 0;
}

/* The peers whose SA adds since refused_from were refused (else the one being committed for). */
static void blame(struct core *c, size_t refused_from, int fallback, int *failed, size_t *n_failed)
{
	const struct hs_out *out = c->out;
	size_t before = *n_failed;

	for (size_t r = refused_from; r < c->n_refused; r++)
		for (size_t i = 0; i < out->n; i++) {
			const struct hs_action *a = &out->act[i];
			const struct ms_addr *dst = a->type == HS_ACT_SA_ADD ? action_dst(c, a) : NULL;

			if (dst && a->spi == c->refused[r].spi && ms_addr_equal(dst, &c->refused[r].dst) &&
			    !in_set(failed, *n_failed, a->peer))
				failed[(*n_failed)++] = a->peer;
		}
	if (*n_failed == before && !in_set(failed, *n_failed, fallback))
		failed[(*n_failed)++] = fallback;
}

static void send_to(struct core *c, int id, const uint8_t *buf, size_t len)
{
	struct core_peer *p = &c->peers[id];
	/* Always to the inventory's address, never to a packet's source: no reflection. */
	const struct ms_addr *to = c->self4.family && p->v4.family ? &p->v4 : &p->v6;
	int rc = c->ops->send(c->ctx, to, buf, len);

	char addr[MS_ADDR_STRLEN];

	if (rc < 0 || p->send_errno)
		ms_addr_format(to, addr, sizeof(addr));
	if (rc < 0) {
		/* Once per change: a full neighbour table or a missing route fails every retry. */
		c->st.tx_errors++;
		if (p->send_errno != -rc)
			core_logf(c, CORE_LOG_WARN, "peer %s: cannot send to %s port %u: %s", p->name, addr, c->port,
				  strerror(-rc));
		p->send_errno = -rc;
		return;
	}
	if (p->send_errno)
		core_logf(c, CORE_LOG_INFO, "peer %s: sending to %s port %u works again", p->name, addr, c->port);
	p->send_errno = 0;
	c->st.tx++;
	p->tx++;
}

/*
 * Kernel requests are committed before every send and before a pair is declared up.  If that
 * commit fails, the peer's message is not sent (it would announce an SA that does not exist), the
 * rest of its actions are skipped, and the engine is told, which deletes its SAs and backs off.
 */
void core_run(struct core *c, uint64_t now_ms)
{
	struct hs_out *out = c->out;
	int failed[HS_MAX_ACTIONS + 1];
	size_t n_failed = 0, refused_from;

	c->n_refused = 0;
	for (size_t i = 0; i < out->n; i++) {
		struct hs_action *a = &out->act[i];

		refused_from = c->n_refused;
		if (a->type != HS_ACT_SA_DEL && in_set(failed, n_failed, a->peer))
			continue;
		if ((a->type == HS_ACT_SEND || a->type == HS_ACT_UP) && !commit(c)) {
			blame(c, refused_from, a->peer, failed, &n_failed);
			if (in_set(failed, n_failed, a->peer))
				continue;
		}
		switch (a->type) {
		case HS_ACT_SEND:
			send_to(c, a->peer, a->buf, a->len);
			break;
		case HS_ACT_SA_ADD:
			sa_add(c, a);
			break;
		case HS_ACT_SA_DEL:
			sa_del(c, a);
			break;
		case HS_ACT_UP: {
			struct hs_peer_info info;

			hs_peer_info(c->hs, a->peer, &info);
			core_logf(c, CORE_LOG_INFO, "peer %s: up with fresh keys (in %#x/%#x, out %#x/%#x; handshake %llu)",
				  c->peers[a->peer].name, info.in_spi[0], info.in_spi[1], info.out_spi[0], info.out_spi[1],
				  (unsigned long long)info.handshakes);
			retire_stale(c, a->peer, now_ms);
			core_emit(c, c->peers[a->peer].state == PEER_UP ? CORE_EV_REKEY : CORE_EV_HANDSHAKE, a->peer, NULL, NULL);
			break;
		}
		}
	}
	refused_from = c->n_refused;
	if (!commit(c))
		blame(c, refused_from, -1, failed, &n_failed);
	sodium_memzero(out, sizeof(*out));
	for (size_t i = 0; i < n_failed; i++) {
		struct core_peer *p;

		if (failed[i] < 0)
			continue;
		p = &c->peers[failed[i]];
		p->refused_ms = now_ms;
		p->refused_errno = c->refused_errno;
		snprintf(p->refused_ext, sizeof(p->refused_ext), "%s", c->refused_ext);
		core_logf(c, CORE_LOG_WARN, "peer %s: the kernel refused its SAs; they are removed and the handshake retried with backoff",
			  c->peers[failed[i]].name);
		hs_peer_fail(c->hs, failed[i], now_ms, out);
		for (size_t k = 0; k < out->n; k++)
			if (out->act[k].type == HS_ACT_SA_DEL)
				sa_del(c, &out->act[k]);
		commit(c);
		sodium_memzero(out, sizeof(*out));
	}
}

static bool own_addr(const struct core *c, const struct ms_addr *a)
{
	return (c->self4.family && ms_addr_equal(a, &c->self4)) || (c->self6.family && ms_addr_equal(a, &c->self6));
}

/* The peer at the other end of an address pair (one of them ours), or -1. */
static int peer_of(const struct core *c, const struct ms_addr *src, const struct ms_addr *dst)
{
	const struct ms_addr *them = own_addr(c, dst) ? src : own_addr(c, src) ? dst : NULL;
	unsigned char key[MS_ADDR_KEY_MAX];

	if (!them || (them->family != AF_INET && them->family != AF_INET6))
		return -1;
	return ms_index_get(c->by_addr, key, ms_addr_key(them, key));
}

void core_adopt(struct core *c, const struct ms_sa *sas, size_t n)
{
	struct core_stale *s = realloc(c->stale, (c->n_stale + n + 1) * sizeof(*s));
	size_t kept = 0;

	if (s)
		c->stale = s;
	for (size_t i = 0; i < n; i++) {
		int id = peer_of(c, &sas[i].src, &sas[i].dst);

		if (id < 0 || !s) {
			c->ops->sa_del(c->ctx, &sas[i].dst, sas[i].spi);	/* no current pair: not ours to keep */
			continue;
		}
		c->stale[c->n_stale++] = (struct core_stale){ .dst = sas[i].dst, .spi = sas[i].spi, .peer = id,
							      .inbound = own_addr(c, &sas[i].dst) };
		c->peers[id].adopted_out |= !c->stale[c->n_stale - 1].inbound;
		kept++;
	}
	commit(c);
	if (n)
		core_logf(c, CORE_LOG_INFO, "found %zu tagged SAs from before: %zu kept until fresh keys replace them", n, kept);
}

void core_start(struct core *c, uint64_t now_ms)
{
	for (size_t i = 0; i < c->cap; i++)
		if (c->peers[i].used) {
			c->peers[i].since_ms = now_ms;
			hs_initiate(c->hs, (int)i, now_ms, false, c->out);
			core_run(c, now_ms);
		}
}

/* What a datagram from the peer says about why it may not be up (core_reason.c). */
static void note_evidence(struct core_peer *p, enum hs_verdict v, uint64_t now_ms)
{
	/*
	 * Only a verified MAC proves the peer speaks: anyone can send a datagram with its address,
	 * and a forgery must not make a silent peer look alive (or its secret look wrong, alone).
	 */
	if (v == HS_DROP_BAD_MAC) {
		p->bad_mac_ms = now_ms;
		p->bad_macs++;
		return;
	}
	p->heard_ms = now_ms;
	p->bad_macs = 0;
	if (v == HS_DROP_REPLAY)
		p->replay_ms = now_ms;
	else if (v == HS_DROP_RATE_LIMITED)
		p->rate_ms = now_ms;
}

enum hs_verdict core_input(struct core *c, const struct ms_addr *src, const uint8_t *buf, size_t len,
			   uint64_t now_ms)
{
	enum hs_verdict v;
	int id;

	c->st.rx++;
	/* Framing, names and the claimed sender's address first: no MAC for what fails them. */
	v = hs_classify(c->hs, buf, len, &id);
	if (v == HS_ACCEPTED && !ms_addr_equal(src, &c->peers[id].v4) && !ms_addr_equal(src, &c->peers[id].v6)) {
		v = HS_DROP_SPOOFED;
		hs_count_drop(c->hs, id, v);
	}
	if (v == HS_ACCEPTED) {
		c->peers[id].rx++;
		v = hs_input(c->hs, id, buf, len, now_ms, c->out);
		core_run(c, now_ms);
		note_evidence(&c->peers[id], v, now_ms);
	}
	c->st.drops[v]++;
	return v;
}

uint64_t core_tick(struct core *c, uint64_t now_ms)
{
	uint64_t next, live;

	/* hs_tick returns now when its action list filled up before every peer was seen to */
	while ((next = hs_tick(c->hs, now_ms, c->out)) <= now_ms && c->out->n)
		core_run(c, now_ms);
	core_run(c, now_ms);
	drop_stale(c, -1, NULL, 0, now_ms);
	for (size_t i = 0; i < c->n_stale; i++)
		if (c->stale[i].deadline_ms && c->stale[i].deadline_ms < next)
			next = c->stale[i].deadline_ms;
	commit(c);
	live = core_liveness(c, now_ms);
	next = live < next ? live : next;
	return next > now_ms ? next : now_ms + 1;	/* never a deadline that is already past */
}

static void peer_remove(struct core *c, int id, uint64_t now_ms)
{
	hs_peer_remove(c->hs, id, c->out);
	core_run(c, now_ms);
	drop_stale(c, id, NULL, 0, 0);
	commit(c);
	index_addrs(c, &c->peers[id], -1);
	memset(&c->peers[id], 0, sizeof(c->peers[id]));
}

static bool same_addrs(const struct core_peer *p, const struct ms_node *n)
{
	return ms_addr_same_slot(&p->v4, &n->v4) && ms_addr_same_slot(&p->v6, &n->v6);
}

int core_reload(struct core *c, const struct ms_inventory *inv, size_t self, uint64_t now_ms,
		size_t *added, size_t *removed)
{
	int rc = 0;

	*added = *removed = 0;
	settings(c, inv);
	for (size_t id = 0; id < c->cap; id++) {
		int i;

		if (!c->peers[id].used)
			continue;
		i = ms_inventory_find(inv, c->peers[id].name);
		if (i < 0 || !same_addrs(&c->peers[id], &inv->nodes[i]) || !shared_families(c, &inv->nodes[i])) {
			core_logf(c, CORE_LOG_INFO, "peer %s: %s", c->peers[id].name,
				  i < 0 ? "removed from the inventory" : "addresses changed");
			peer_remove(c, (int)id, now_ms);
			(*removed)++;
		}
	}
	for (size_t i = 0; i < inv->n_nodes; i++) {
		int id;

		if (i == self || hs_peer_find(c->hs, inv->nodes[i].name) >= 0 || !shared_families(c, &inv->nodes[i]))
			continue;
		if ((id = peer_add(c, &inv->nodes[i], now_ms)) < 0) {
			core_logf(c, CORE_LOG_WARN, "peer %s: cannot add: %s", inv->nodes[i].name, strerror(-id));
			rc = id;
			continue;
		}
		core_logf(c, CORE_LOG_INFO, "peer %s: added", inv->nodes[i].name);
		hs_initiate(c->hs, id, now_ms, false, c->out);
		core_run(c, now_ms);
		(*added)++;
	}
	return rc;
}

void core_expire(struct core *c, const struct ms_addr *src, const struct ms_addr *dst, uint32_t spi,
		 uint64_t now_ms)
{
	int id = peer_of(c, src, dst);
	struct hs_peer_info info;

	if (id < 0)
		return;
	hs_peer_info(c->hs, id, &info);
	for (int f = 0; f < 2; f++)
		if (info.state == HS_ESTABLISHED && spi && (spi == info.in_spi[f] || spi == info.out_spi[f])) {
			core_logf(c, CORE_LOG_INFO, "peer %s: SA %#x reached its soft limit; rekeying", c->peers[id].name, spi);
			hs_initiate(c->hs, id, now_ms, false, c->out);
			core_run(c, now_ms);
			return;
		}
	/* already rekeying, or an SA on its way out */
}

int core_rekey(struct core *c, int id, uint64_t now_ms)
{
	int rc;

	if (id < 0 || (size_t)id >= c->cap || !c->peers[id].used)
		return -ENOENT;
	rc = hs_initiate(c->hs, id, now_ms, true, c->out);
	core_run(c, now_ms);
	return rc;
}

size_t core_peer_slots(const struct core *c)
{
	return c->cap;
}

const struct core_peer *core_peer(const struct core *c, int id)
{
	return &c->peers[id];
}

int core_peer_find(const struct core *c, const char *name)
{
	return hs_peer_find(c->hs, name);
}

void core_peer_info(const struct core *c, int id, struct hs_peer_info *info)
{
	hs_peer_info(c->hs, id, info);
}

const struct core_stats *core_stats(const struct core *c)
{
	return &c->st;
}

const uint8_t *core_digest(const struct core *c)
{
	return c->digest;
}

size_t core_stale_count(const struct core *c)
{
	return c->n_stale;
}

static int by_spi_dst(const void *a, const void *b)
{
	const struct ms_sa *x = a, *y = b;

	if (x->spi != y->spi)
		return x->spi < y->spi ? -1 : 1;
	if (x->dst.family != y->dst.family)
		return x->dst.family < y->dst.family ? -1 : 1;
	return memcmp(x->dst.u.raw, y->dst.u.raw, ms_addr_len(&x->dst));
}

void core_sort_sas(struct ms_sa *sas, size_t n)
{
	if (n > 1)
		qsort(sas, n, sizeof(*sas), by_spi_dst);
}

const struct ms_sa *core_sa_find(const struct ms_sa *sas, size_t n, const struct ms_addr *dst, uint32_t spi)
{
	struct ms_sa key;

	if (!spi || !n || !dst)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.spi = spi;
	key.dst = *dst;
	return bsearch(&key, sas, n, sizeof(*sas), by_spi_dst);
}
