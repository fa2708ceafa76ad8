/*
 * Each peer's state, derived from the handshake engine and liveness, tracked with the time it
 * changed; and the view of the mesh that status and metrics render (mesh_view.h), with byte
 * and packet counters read from the kernel's SAs in one dump.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mesh.h"
#include "mesh_internal.h"
#include "mesh_view.h"

#define DOWN_AFTER_TRIES 3	/* unanswered retransmissions before a new pair counts as down */

const char *peer_state_name(enum peer_state s)
{
	static const char *const n[] = { "connecting", "up", "down" };

	return n[s];
}

static enum peer_state derive(const struct apeer *p, const struct hs_peer_info *i)
{
	if (p->dead)
		return PEER_DOWN;
	if (i->established)
		return PEER_UP;
	if ((i->state == HS_INIT_SENT || i->state == HS_RESP_SENT) && i->tries < DOWN_AFTER_TRIES)
		return PEER_CONNECTING;
	return PEER_DOWN;
}

void mesh_update_states(struct mesh *m, uint64_t now)
{
	for (size_t i = 0; i < m->cap_peers; i++) {
		struct apeer *p = &m->peers[i];
		struct hs_peer_info info;
		enum peer_state s;

		if (!p->used)
			continue;
		hs_peer_info(m->hs, (int)i, &info);
		s = derive(p, &info);
		if (s == p->state)
			continue;
		if (s == PEER_DOWN && !p->dead)
			log_warnx("peer %s: down (no answer for %llu ms); retrying with backoff", p->name,
				  (unsigned long long)(now - p->since_ms));
		else if (s == PEER_UP && p->state == PEER_DOWN)
			log_info("peer %s: up again", p->name);
		p->state = s;
		p->since_ms = now;
	}
}

static int by_spi(const void *a, const void *b)
{
	uint32_t x = ((const struct xnl_sa *)a)->spi, y = ((const struct xnl_sa *)b)->spi;

	return x < y ? -1 : x > y;
}

int mesh_dump_sas(struct mesh *m, struct xnl_sa **sas, size_t *n, struct ms_error *err)
{
	int rc = xnl_dump_sa(m->xnl, sas, n, err);

	if (rc == 0 && *n > 1)
		qsort(*sas, *n, sizeof(**sas), by_spi);
	return rc;
}

const struct xnl_sa *mesh_sa_by_spi(const struct xnl_sa *sas, size_t n, uint32_t spi)
{
	struct xnl_sa key = { .spi = spi };

	return spi && n ? bsearch(&key, sas, n, sizeof(*sas), by_spi) : NULL;
}

/* Adds the counters of the SA with this SPI. */
static void add_counters(const struct xnl_sa *sas, size_t n, uint32_t spi, uint64_t *bytes, uint64_t *packets)
{
	const struct xnl_sa *sa = mesh_sa_by_spi(sas, n, spi);

	if (sa) {
		*bytes += sa->bytes;
		*packets += sa->packets;
	}
}

static double age(uint64_t now, uint64_t then)
{
	return then ? (double)(now - then) / 1000.0 : -1;
}

static void fill_peer(struct mesh *m, size_t id, const struct xnl_sa *sas, size_t n_sas, uint64_t now, struct peer_view *v)
{
	const struct apeer *p = &m->peers[id];
	struct hs_peer_info info;

	hs_peer_info(m->hs, (int)id, &info);
	memset(v, 0, sizeof(*v));
	v->name = p->name;
	v->v4 = &p->v4;
	v->v6 = &p->v6;
	v->state = p->state;
	v->since_s = age(now, p->since_ms);
	v->handshake_age_s = age(now, info.established_ms);
	v->seen_age_s = age(now, info.last_seen_ms);
	v->rtt_ms = info.rtt_us ? (double)info.rtt_us / 1000.0 : -1;
	v->handshakes = info.handshakes;
	for (int f = 0; f < 2; f++) {
		add_counters(sas, n_sas, info.in_spi[f], &v->in_bytes, &v->in_packets);
		add_counters(sas, n_sas, info.out_spi[f], &v->out_bytes, &v->out_packets);
	}
	memcpy(v->in_spi, info.in_spi, sizeof(v->in_spi));
	memcpy(v->out_spi, info.out_spi, sizeof(v->out_spi));
	v->have_digest = info.have_digest;
	memcpy(v->digest, info.peer_digest, MS_DIGEST_LEN);
	v->drift = info.have_digest && memcmp(info.peer_digest, m->digest, MS_DIGEST_LEN) != 0;
	v->bad_mac = info.drops[HS_DROP_BAD_MAC];
	v->replay = info.drops[HS_DROP_REPLAY];
	v->failed = info.drops[HS_DROP_FAILED];
}

int mesh_view_collect(struct mesh *m, const char *only, struct mesh_view *v)
{
	struct xnl_sa *sas = NULL;
	size_t n_sas = 0;
	struct ms_error err;
	uint64_t now = mesh_now_ms();

	memset(v, 0, sizeof(*v));
	v->uptime_s = age(now, m->started_ms);
	v->peers = calloc(m->cap_peers + 1, sizeof(*v->peers));
	if (!v->peers)
		return -1;
	if (mesh_dump_sas(m, &sas, &n_sas, &err) < 0)
		log_warnx("status: cannot read SA counters: %s", err.msg);	/* counters read 0 */
	for (size_t i = 0; i < m->cap_peers; i++) {
		struct peer_view pv;

		if (!m->peers[i].used)
			continue;
		fill_peer(m, i, sas, n_sas, now, &pv);
		v->count[pv.state]++;
		v->total++;
		v->drifted += pv.drift;
		if (!only || strcmp(only, pv.name) == 0)
			v->peers[v->n++] = pv;
	}
	free(sas);
	return 0;
}

void mesh_view_free(struct mesh_view *v)
{
	free(v->peers);
	memset(v, 0, sizeof(*v));
}
