/*
 * The running mesh: start-up reconciliation, the UDP receive path, the engine's actions carried
 * out against the kernel, and the periodic tick.  Reload lives in mesh_reload.c.
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "meshsec/plan.h"
#include "log.h"
#include "mesh.h"
#include "mesh_internal.h"
#include "udp.h"

#define TICK_MS 100

uint64_t mesh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t mesh_wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static const struct ms_node *self_node(const struct mesh *m)
{
	return &m->conf.inv->nodes[m->conf.self];
}

const struct ms_addr *mesh_self_addr(const struct mesh *m, int family)
{
	return ms_node_addr(self_node(m), family);
}

unsigned mesh_shared_families(const struct mesh *m, const struct ms_node *peer)
{
	const struct ms_node *me = self_node(m);

	return (me->v4.family && peer->v4.family ? HS_FAM_V4 : 0) | (me->v6.family && peer->v6.family ? HS_FAM_V6 : 0);
}

static const struct ms_addr *peer_addr(const struct apeer *p, int family)
{
	const struct ms_addr *a = family == AF_INET ? &p->v4 : &p->v6;

	return a->family ? a : NULL;
}

static int alloc_spi(void *ctx, int id, int family, uint32_t *spi)
{
	struct mesh *m = ctx;
	struct apeer *p = &m->peers[id];
	struct ms_error err;
	int rc = xnl_alloc_spi(m->xnl, peer_addr(p, family), mesh_self_addr(m, family), p->reqid, spi, &err);

	if (rc < 0) {
		m->st.kernel_errors++;
		log_warnx("peer %s: %s", p->name, err.msg);
	}
	return rc;
}

bool mesh_commit(struct mesh *m)
{
	struct ms_error err;
	int rc = xnl_commit(m->xnl, &err);

	if (rc != 0) {
		m->st.kernel_errors += rc > 0 ? (uint64_t)rc : 1;
		log_warnx("%s%s", err.msg, rc > 1 ? " (and more failures in the same batch)" : "");
	}
	return rc == 0;
}

static void send_to(struct mesh *m, int id, const uint8_t *buf, size_t len)
{
	struct apeer *p = &m->peers[id];
	/* Always to the inventory's address, never to a packet's source: no reflection. */
	int f = p->v4.family && m->fd[0] >= 0 ? 0 : 1;
	const struct ms_addr *to = f == 0 ? &p->v4 : &p->v6;

	if (m->fd[f] < 0 || !to->family)
		return;
	if (udp_send(m->fd[f], to, m->conf.inv->port, buf, len) < 0) {
		m->st.tx_errors++;
		log_debug("peer %s: send failed: %s", p->name, strerror(errno));
		return;
	}
	m->st.tx++;
	p->tx++;
}

/* Retires stale SAs of a peer that now has fresh keys, each direction after its grace. */
static void retire_stale(struct mesh *m, const struct apeer *p, uint64_t now)
{
	for (size_t i = 0; i < m->n_stale; i++) {
		struct stale_sa *s = &m->stale[i];

		if (s->reqid != p->reqid || s->deadline_ms)
			continue;
		s->deadline_ms = now + (s->inbound ? HS_OLD_INBOUND_GRACE_MS : HS_OLD_OUTBOUND_GRACE_MS);
	}
}

/* A new outbound SA whose SPI equals a stale one's must replace it, or the kernel says EEXIST. */
static void clear_stale_spi(struct mesh *m, const struct ms_addr *dst, uint32_t spi)
{
	for (size_t i = 0; i < m->n_stale; i++)
		if (m->stale[i].spi == spi && ms_addr_equal(&m->stale[i].dst, dst)) {
			xnl_sa_del(m->xnl, dst, spi);
			m->stale[i] = m->stale[--m->n_stale];
			return;
		}
}

static bool in_set(const int *set, size_t n, int id)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == id)
			return true;
	return false;
}

/* v +- 10 %, so the SAs of a fleet do not all reach their limits at once. */
static uint64_t jitter(uint64_t v)
{
	uint64_t spread = v / 5;

	return v - v / 10 + (spread ? (uint64_t)randombytes_uniform((uint32_t)(spread > UINT32_MAX ? UINT32_MAX : spread)) : 0);
}

static void sa_add(struct mesh *m, const struct hs_action *a, const struct ms_addr *me, const struct ms_addr *them)
{
	struct xnl_sa sa;

	memset(&sa, 0, sizeof(sa));
	sa.src = a->dir == MS_DIR_IN ? *them : *me;
	sa.dst = a->dir == MS_DIR_IN ? *me : *them;
	sa.spi = a->spi;
	sa.reqid = m->peers[a->peer].reqid;
	sa.cipher = m->conf.inv->cipher;
	sa.key = a->key;
	sa.larval = a->dir == MS_DIR_IN;
	sa.soft_seconds = jitter(m->conf.inv->rekey_s);
	sa.soft_bytes = jitter(m->conf.inv->rekey_bytes);
	sa.soft_packets = jitter(m->conf.inv->rekey_packets);
	if (a->dir == MS_DIR_OUT)
		clear_stale_spi(m, &sa.dst, sa.spi);
	xnl_sa_add(m->xnl, &sa);
}

static void sa_del(struct mesh *m, const struct hs_action *a)
{
	const struct ms_addr *me = mesh_self_addr(m, a->family), *them = peer_addr(&m->peers[a->peer], a->family);

	if (a->type == HS_ACT_SA_DEL && me && them)
		xnl_sa_del(m->xnl, a->dir == MS_DIR_IN ? me : them, a->spi);
}

/*
 * Kernel requests are committed before every send and before a pair is declared up.  If that
 * commit fails, the peer's message is not sent (it would announce an SA that does not exist), the
 * rest of its actions are skipped, and the engine is told, which deletes its SAs and backs off.
 */
void mesh_run_actions(struct mesh *m)
{
	struct hs_out *out = m->out;
	uint64_t now = mesh_now_ms();
	int failed[HS_MAX_ACTIONS];
	size_t n_failed = 0;

	for (size_t i = 0; i < out->n; i++) {
		struct hs_action *a = &out->act[i];
		struct apeer *p = &m->peers[a->peer];
		const struct ms_addr *me = mesh_self_addr(m, a->family), *them = peer_addr(p, a->family);

		if (a->type != HS_ACT_SA_DEL && in_set(failed, n_failed, a->peer))
			continue;
		if ((a->type == HS_ACT_SEND || a->type == HS_ACT_UP) && !mesh_commit(m)) {
			failed[n_failed++] = a->peer;
			continue;
		}
		switch (a->type) {
		case HS_ACT_SEND:
			send_to(m, a->peer, a->buf, a->len);
			break;
		case HS_ACT_SA_ADD:
			if (me && them)
				sa_add(m, a, me, them);
			break;
		case HS_ACT_SA_DEL:
			sa_del(m, a);
			break;
		case HS_ACT_UP: {
			struct hs_peer_info info;

			hs_peer_info(m->hs, a->peer, &info);
			log_info("peer %s: up with fresh keys (in %#x/%#x, out %#x/%#x; handshake %llu)", p->name,
				 info.in_spi[0], info.in_spi[1], info.out_spi[0], info.out_spi[1],
				 (unsigned long long)info.handshakes);
			retire_stale(m, p, now);
			break;
		}
		}
	}
	mesh_commit(m);
	sodium_memzero(out, sizeof(*out));
	for (size_t i = 0; i < n_failed; i++) {
		log_warnx("peer %s: the kernel refused its SAs; they are removed and the handshake retried with backoff",
			  m->peers[failed[i]].name);
		hs_peer_fail(m->hs, failed[i], now, out);
		for (size_t k = 0; k < out->n; k++)
			sa_del(m, &out->act[k]);
		mesh_commit(m);
		sodium_memzero(out, sizeof(*out));
	}
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct mesh *m = arg;
	uint8_t buf[MS_WIRE_MAX + 1];
	struct ms_addr from;
	struct ms_msg hdr;
	ssize_t n;

	(void)what;
	while (!m->stopping && (n = udp_recv(fd, buf, sizeof(buf), &from)) >= 0) {
		uint64_t now = mesh_now_ms();
		enum hs_verdict v;
		int id;

		m->st.rx++;
		if (!rl_allow(m->rl, &from, now)) {
			m->st.rate_limited++;
			continue;
		}
		/* A datagram must come from an address the inventory gives its claimed sender. */
		if ((size_t)n <= MS_WIRE_MAX && ms_wire_peek(buf, (size_t)n, &hdr) == MS_WIRE_OK &&
		    (id = hs_peer_find(m->hs, hdr.sender)) >= 0 &&
		    !ms_addr_equal(&from, &m->peers[id].v4) && !ms_addr_equal(&from, &m->peers[id].v6)) {
			m->st.spoofed++;
			continue;
		}
		v = hs_input(m->hs, buf, (size_t)n > MS_WIRE_MAX ? MS_WIRE_MAX + 1 : (size_t)n, now, mesh_wall_ns(), m->out, &id);
		m->st.drops[v]++;
		if (id >= 0)
			m->peers[id].rx++;
		if (v != HS_ACCEPTED && v != HS_DROP_UNEXPECTED && v != HS_DROP_SIMULTANEOUS) {
			char a[MS_ADDR_STRLEN];

			log_debug("dropped a handshake datagram from %s: %s", ms_addr_format(&from, a, sizeof(a)), hs_verdict_name(v));
		}
		mesh_run_actions(m);
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct mesh *m = arg;
	uint64_t now = mesh_now_ms();

	(void)fd, (void)what;
	if (m->stopping)
		return;
	while (hs_tick(m->hs, now, m->out) == now)
		mesh_run_actions(m);
	mesh_run_actions(m);
	for (size_t i = 0; i < m->n_stale;) {
		if (m->stale[i].deadline_ms && now >= m->stale[i].deadline_ms) {
			xnl_sa_del(m->xnl, &m->stale[i].dst, m->stale[i].spi);
			m->stale[i] = m->stale[--m->n_stale];
		} else {
			i++;
		}
	}
	mesh_commit(m);
	mesh_liveness(m, now);	/* also retries pairs whose handshake failed locally */
	mesh_update_states(m, now);
}

int mesh_peer_add(struct mesh *m, const struct ms_node *n)
{
	int id = hs_peer_add(m->hs, n->name, mesh_shared_families(m, n));

	if (id < 0)
		return id;
	if ((size_t)id >= m->cap_peers) {
		size_t cap = m->cap_peers ? m->cap_peers * 2 : 16;
		struct apeer *p;

		while (cap <= (size_t)id)
			cap *= 2;
		p = realloc(m->peers, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		memset(p + m->cap_peers, 0, (cap - m->cap_peers) * sizeof(*p));
		m->peers = p;
		m->cap_peers = cap;
	}
	memset(&m->peers[id], 0, sizeof(m->peers[id]));
	m->peers[id].used = true;
	m->peers[id].state = PEER_CONNECTING;
	m->peers[id].since_ms = mesh_now_ms();
	snprintf(m->peers[id].name, sizeof(m->peers[id].name), "%s", n->name);
	m->peers[id].v4 = n->v4;
	m->peers[id].v6 = n->v6;
	m->peers[id].reqid = ms_pair_reqid(self_node(m)->name, n->name);
	hs_initiate(m->hs, id, mesh_now_ms(), mesh_wall_ns(), m->out);
	mesh_run_actions(m);
	return id;
}

const struct apeer *mesh_find_peer(const struct mesh *m, const char *name)
{
	for (size_t i = 0; i < m->cap_peers; i++)
		if (m->peers[i].used && strcmp(m->peers[i].name, name) == 0)
			return &m->peers[i];
	return NULL;
}

void mesh_peer_remove(struct mesh *m, int id)
{
	struct apeer *p = &m->peers[id];

	hs_peer_remove(m->hs, id, m->out);
	mesh_run_actions(m);
	for (size_t i = 0; i < m->n_stale;) {
		if (m->stale[i].reqid == p->reqid) {
			xnl_sa_del(m->xnl, &m->stale[i].dst, m->stale[i].spi);
			m->stale[i] = m->stale[--m->n_stale];
		} else {
			i++;
		}
	}
	mesh_commit(m);
	memset(p, 0, sizeof(*p));
}

/*
 * Start-up reconciliation: tagged SPs are made to match the plan (installed before any handshake,
 * so member traffic is never sent in the clear); tagged SAs of current peers are kept until fresh
 * keys replace them, and SAs of no current peer are deleted.
 */
static int reconcile(struct mesh *m, struct ms_error *err)
{
	struct ms_sp *have = NULL;
	struct xnl_sa *sas = NULL;
	size_t n_have = 0, n_sas = 0, removed = 0;
	int rc;

	if ((rc = ms_plan_policies(m->conf.inv, m->conf.self, &m->sps, &m->n_sps, err)) < 0)
		return rc;
	if ((rc = xnl_dump_sp(m->xnl, &have, &n_have, err)) < 0 || (rc = xnl_dump_sa(m->xnl, &sas, &n_sas, err)) < 0) {
		free(have);
		return rc;
	}
	removed = mesh_sync_policies(m, have, n_have, m->sps, m->n_sps);
	rc = xnl_commit(m->xnl, err);
	free(have);
	if (rc != 0) {
		free(sas);
		return rc < 0 ? rc : ms_error_prefix(err, -EIO, "installing the mesh policies");
	}
	log_info("policies: %zu in place for %zu peers (%zu stale removed)", m->n_sps, m->conf.inv->n_nodes - 1, removed);
	m->stale = calloc(n_sas + 1, sizeof(*m->stale));
	if (!m->stale) {
		free(sas);
		return ms_error_set(err, ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n_sas; i++) {
		bool current = false;

		for (size_t j = 0; j < m->n_sps && !current; j++)
			current = m->sps[j].reqid == sas[i].reqid && ms_addr_equal(&m->sps[j].src, &sas[i].src) &&
				  ms_addr_equal(&m->sps[j].dst, &sas[i].dst);
		if (!current) {
			xnl_sa_del(m->xnl, &sas[i].dst, sas[i].spi);
			continue;
		}
		m->stale[m->n_stale++] = (struct stale_sa){ .dst = sas[i].dst, .spi = sas[i].spi, .reqid = sas[i].reqid,
							    .inbound = mesh_self_addr(m, sas[i].dst.family) &&
								       ms_addr_equal(&sas[i].dst, mesh_self_addr(m, sas[i].dst.family)) };
	}
	if (n_sas)
		log_info("found %zu tagged SAs from before: %zu kept until fresh keys replace them", n_sas, m->n_stale);
	free(sas);
	mesh_commit(m);
	return 0;
}

/* The kernel says one of our SAs reached a soft limit: a current SA starts a rekey. */
static void on_expire(void *ctx, uint32_t reqid, uint32_t spi, const struct ms_addr *dst)
{
	struct mesh *m = ctx;

	(void)dst;
	if (m->stopping)
		return;
	for (size_t i = 0; i < m->cap_peers; i++) {
		struct hs_peer_info info;

		if (!m->peers[i].used || m->peers[i].reqid != reqid)
			continue;
		hs_peer_info(m->hs, (int)i, &info);
		if (info.state != HS_ESTABLISHED || (spi != info.in_spi[0] && spi != info.in_spi[1] &&
						    spi != info.out_spi[0] && spi != info.out_spi[1]))
			return;	/* already rekeying, or an SA on its way out */
		log_info("peer %s: SA %#x reached its soft limit; rekeying", m->peers[i].name, spi);
		hs_initiate(m->hs, (int)i, mesh_now_ms(), mesh_wall_ns(), m->out);
		mesh_run_actions(m);
		return;
	}
}

int mesh_start(struct mesh *m, struct event_base *base, struct conf *conf, const struct conf_paths *paths,
	       struct ms_error *err)
{
	static const int fam[2] = { AF_INET, AF_INET6 };
	struct timeval tv = { 0, TICK_MS * 1000 };
	int rc;

	memset(m, 0, sizeof(*m));
	m->started_ms = mesh_now_ms();
	m->base = base;
	m->paths = *paths;
	m->conf = *conf;
	memset(conf, 0, sizeof(*conf));
	m->fd[0] = m->fd[1] = -1;
	m->out = sodium_malloc(sizeof(*m->out));
	m->rl = calloc(1, sizeof(*m->rl));
	if (!m->out || !m->rl)
		return ms_error_set(err, ENOMEM, "out of memory");
	sodium_memzero(m->out, sizeof(*m->out));
	if (ms_inventory_digest(m->conf.inv, m->digest) < 0)
		return ms_error_set(err, ENOMEM, "out of memory");
	if ((rc = xnl_open(&m->xnl, err)) < 0 || (rc = reconcile(m, err)) < 0)
		return rc;
	if (xev_open(base, on_expire, m, &m->xev, err) < 0)
		log_warnx("%s; rekeys follow the agent's timer only", err->msg);
	for (int f = 0; f < 2; f++) {
		if (!mesh_self_addr(m, fam[f]))
			continue;
		if ((m->fd[f] = udp_open(fam[f], m->conf.inv->port, err)) < 0)
			return m->fd[f];
		m->ev[f] = event_new(base, m->fd[f], EV_READ | EV_PERSIST, on_udp, m);
		event_add(m->ev[f], NULL);
	}
	m->hs = hs_engine_new(m->conf.inv->mesh_name, self_node(m)->name, m->conf.inv->cipher,
			      m->conf.secret->key, alloc_spi, m);
	if (!m->hs)
		return ms_error_set(err, ENOMEM, "out of memory");
	hs_set_digest(m->hs, m->digest);
	for (size_t i = 0; i < m->conf.inv->n_nodes; i++)
		if (i != m->conf.self && mesh_shared_families(m, &m->conf.inv->nodes[i]) &&
		    (rc = mesh_peer_add(m, &m->conf.inv->nodes[i])) < 0)
			return ms_error_set(err, -rc, "adding peer %s: %s", m->conf.inv->nodes[i].name, strerror(-rc));
	m->tick = event_new(base, -1, EV_PERSIST, on_tick, m);
	event_add(m->tick, &tv);
	return 0;
}

void mesh_stop(struct mesh *m)
{
	for (int f = 0; f < 2; f++) {
		if (m->ev[f])
			event_free(m->ev[f]);
		if (m->fd[f] >= 0)
			close(m->fd[f]);
	}
	if (m->tick)
		event_free(m->tick);
	hs_engine_free(m->hs);
	xev_close(m->xev);
	xnl_close(m->xnl);
	sodium_free(m->out);
	free(m->rl);
	free(m->peers);
	free(m->sps);
	free(m->stale);
	conf_free(&m->conf);
	memset(m, 0, sizeof(*m));
}
