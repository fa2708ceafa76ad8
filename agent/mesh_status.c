/*
 * What the agent says about the mesh: each peer's state (derived from the handshake engine and
 * tracked with the time it changed) and the status document of agent/CONTROL.md, with byte and
 * packet counters read from the kernel's SAs.
 */
#include "config.h"

#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mesh.h"

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

static json_t *addrs_json(const struct ms_addr *v4, const struct ms_addr *v6)
{
	char b[MS_ADDR_STRLEN];
	json_t *a = json_array();

	if (v4->family)
		json_array_append_new(a, json_string(ms_addr_format(v4, b, sizeof(b))));
	if (v6->family)
		json_array_append_new(a, json_string(ms_addr_format(v6, b, sizeof(b))));
	return a;
}

static json_t *hex_json(const uint8_t *v, size_t len)
{
	char hex[2 * 64 + 1];

	sodium_bin2hex(hex, sizeof(hex), v, len);
	return json_string(hex);
}

/* Sums the kernel's counters of the SAs with these SPIs (both families). */
static void counters(const struct xnl_sa *sas, size_t n, const uint32_t spi[2], uint64_t *bytes, uint64_t *packets)
{
	*bytes = *packets = 0;
	for (size_t i = 0; i < n; i++)
		if (sas[i].spi && (sas[i].spi == spi[0] || sas[i].spi == spi[1])) {
			*bytes += sas[i].bytes;
			*packets += sas[i].packets;
		}
}

static json_t *age_json(uint64_t now, uint64_t then)
{
	return then ? json_real((double)(now - then) / 1000.0) : json_null();
}

static json_t *peer_json(struct mesh *m, size_t id, const struct xnl_sa *sas, size_t n_sas, uint64_t now, bool *drift)
{
	const struct apeer *p = &m->peers[id];
	struct hs_peer_info info;
	uint64_t ib, ip, ob, op;
	json_t *e = json_object(), *j;

	hs_peer_info(m->hs, (int)id, &info);
	counters(sas, n_sas, info.in_spi, &ib, &ip);
	counters(sas, n_sas, info.out_spi, &ob, &op);
	json_object_set_new(e, "bad_mac", json_integer((json_int_t)info.drops[HS_DROP_BAD_MAC]));
	json_object_set_new(e, "replay", json_integer((json_int_t)info.drops[HS_DROP_REPLAY]));
	json_object_set_new(e, "failed", json_integer((json_int_t)info.drops[HS_DROP_FAILED]));
	*drift = info.have_digest && memcmp(info.peer_digest, m->digest, MS_DIGEST_LEN) != 0;
	j = json_pack("{s:s, s:o, s:s, s:o, s:o, s:I, s:n, s:{s:I, s:I}, s:{s:I, s:I}, s:{s:[I,I], s:[I,I]}, s:s, s:o}",
			 "name", p->name, "addresses", addrs_json(&p->v4, &p->v6), "state", peer_state_name(p->state),
			 "since_s", age_json(now, p->since_ms), "last_handshake_age_s", age_json(now, info.established_ms),
			 "handshakes", (json_int_t)info.handshakes, "rtt_ms",
			 "in", "bytes", (json_int_t)ib, "packets", (json_int_t)ip,
			 "out", "bytes", (json_int_t)ob, "packets", (json_int_t)op,
			 "spi", "in", (json_int_t)info.in_spi[0], (json_int_t)info.in_spi[1],
			 "out", (json_int_t)info.out_spi[0], (json_int_t)info.out_spi[1],
			 "cipher", ms_cipher_name(m->conf.inv->cipher), "errors", e);
	json_object_set_new(j, "rtt_ms", info.rtt_us ? json_real((double)info.rtt_us / 1000.0) : json_null());
	json_object_set_new(j, "last_seen_age_s", age_json(now, info.last_seen_ms));
	json_object_set_new(j, "inventory_digest", info.have_digest ? hex_json(info.peer_digest, MS_DIGEST_LEN) : json_null());
	json_object_set_new(j, "drift", json_boolean(*drift));
	return j;
}

json_t *mesh_status_json(struct mesh *m, const char *only)
{
	const struct ms_node *self = &m->conf.inv->nodes[m->conf.self];
	uint64_t now = mesh_now_ms();
	size_t n_sas = 0, count[3] = { 0, 0, 0 }, total = 0, drifted = 0;
	struct xnl_sa *sas = NULL;
	struct ms_error err;
	json_t *peers = json_array(), *doc;

	if (xnl_dump_sa(m->xnl, &sas, &n_sas, &err) < 0)
		log_warnx("status: cannot read SA counters: %s", err.msg);	/* counters read 0 */
	for (size_t i = 0; i < m->cap_peers; i++) {
		if (!m->peers[i].used)
			continue;
		json_t *pj;
		bool drift;

		count[m->peers[i].state]++;
		total++;
		pj = peer_json(m, i, sas, n_sas, now, &drift);
		drifted += drift;
		if (!only || strcmp(only, m->peers[i].name) == 0)
			json_array_append_new(peers, pj);
		else
			json_decref(pj);
	}
	free(sas);
	doc = json_pack("{s:{s:s, s:s, s:i}, s:{s:s, s:o}, s:{s:s, s:o, s:I}, s:{s:I, s:f, s:s}, s:{s:I, s:I, s:I, s:I, s:I}}",
			"mesh", "name", m->conf.inv->mesh_name, "cipher", ms_cipher_name(m->conf.inv->cipher),
			"port", (int)m->conf.inv->port,
			"self", "name", self->name, "addresses", addrs_json(&self->v4, &self->v6),
			"inventory", "path", m->paths.inventory, "digest", hex_json(m->digest, MS_DIGEST_LEN),
			"nodes", (json_int_t)m->conf.inv->n_nodes,
			"agent", "pid", (json_int_t)getpid(), "uptime_s", (double)(now - m->started_ms) / 1000.0,
			"log_level", log_level_name(log_get_level()),
			"counts", "peers", (json_int_t)total, "up", (json_int_t)count[PEER_UP],
			"connecting", (json_int_t)count[PEER_CONNECTING], "down", (json_int_t)count[PEER_DOWN],
			"drift", (json_int_t)drifted);
	json_object_set_new(doc, "peers", peers);
	return doc;
}
