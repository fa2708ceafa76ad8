/*
 * The view of the mesh that status and metrics render (mesh_view.h): each peer as the node core
 * sees it, with byte and packet counters read from the kernel's SAs in one dump.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mesh.h"
#include "mesh_espcheck.h"
#include "mesh_internal.h"
#include "mesh_view.h"

/* Adds the counters of the SA with this SPI. */
static void add_counters(const struct ms_sa *sas, size_t n, const struct ms_addr *dst, uint32_t spi,
			 uint64_t *bytes, uint64_t *packets)
{
	const struct ms_sa *sa = core_sa_find(sas, n, dst, spi);

	if (sa) {
		*bytes += sa->bytes;
		*packets += sa->packets;
	}
}

static double age(uint64_t now, uint64_t then)
{
	return then ? (double)(now - then) / 1000.0 : -1;
}

static void fill_peer(struct mesh *m, size_t id, const struct ms_sa *sas, size_t n_sas, uint64_t now, struct peer_view *v)
{
	const struct core_peer *p = core_peer(m->core, (int)id);
	const struct ms_node *me = &m->conf.inv->nodes[m->conf.self];
	struct hs_peer_info info;
	int idx;

	core_peer_info(m->core, (int)id, &info);
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
		add_counters(sas, n_sas, f ? &me->v6 : &me->v4, info.in_spi[f], &v->in_bytes, &v->in_packets);
		add_counters(sas, n_sas, f ? &p->v6 : &p->v4, info.out_spi[f], &v->out_bytes, &v->out_packets);
	}
	memcpy(v->in_spi, info.in_spi, sizeof(v->in_spi));
	memcpy(v->out_spi, info.out_spi, sizeof(v->out_spi));
	v->have_digest = info.have_digest;
	memcpy(v->digest, info.peer_digest, MS_DIGEST_LEN);
	v->drift = info.have_digest && memcmp(info.peer_digest, core_digest(m->core), MS_DIGEST_LEN) != 0;
	v->bad_mac = info.drops[HS_DROP_BAD_MAC];
	v->replay = info.drops[HS_DROP_REPLAY];
	v->failed = info.drops[HS_DROP_FAILED];
	core_peer_why(m->core, (int)id, now, &v->why);
	if (v->why.code == CORE_REASON_NONE)
		mesh_espcheck_why(m, (int)id, &v->why);	/* up, but ESP does not pass */
	idx = ms_inventory_find(m->conf.inv, p->name);
	v->mode = idx < 0 ? MS_MODE_REQUIRE : ms_pair_mode(m->conf.inv, m->conf.self, (size_t)idx);
	/* prefer: ESP only once verified (mesh_mode.c); require: ESP that does not pass is dropped */
	if (p->conflict)
		v->traffic = MESH_FOREIGN;
	else if (v->mode == MS_MODE_PREFER)
		v->traffic = p->state == PEER_UP && mesh_espcheck_passed(m, (int)id) ? MESH_ENCRYPTED : MESH_CLEAR;
	else
		v->traffic = p->state == PEER_UP && v->why.code != CORE_REASON_ESP_BLOCKED ? MESH_ENCRYPTED : MESH_DROPPED;
}

const char *mesh_traffic_name(enum mesh_traffic t)
{
	static const char *const n[] = { "encrypted", "clear", "dropped", "foreign" };

	return n[t];
}

int mesh_view_collect(struct mesh *m, const char *only, struct mesh_view *v)
{
	struct ms_sa *sas = NULL;
	size_t n_sas = 0;
	struct ms_error err;
	uint64_t now = mesh_now_ms();

	memset(v, 0, sizeof(*v));
	v->uptime_s = age(now, m->started_ms);
	v->peers = calloc(core_peer_slots(m->core) + 1, sizeof(*v->peers));
	if (!v->peers)
		return -1;
	if (mesh_dump_sas(m, &sas, &n_sas, &err) < 0)
		log_warnx("status: cannot read SA counters: %s", err.msg);	/* counters read 0 */
	for (size_t i = 0; i < core_peer_slots(m->core); i++) {
		struct peer_view pv;

		if (!core_peer(m->core, (int)i)->used)
			continue;
		fill_peer(m, i, sas, n_sas, now, &pv);
		v->count[pv.state]++;
		v->total++;
		v->drifted += pv.drift;
		v->traffic[pv.traffic]++;
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
