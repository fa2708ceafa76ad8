/*
 * Liveness: is each established peer still there?
 *
 * Evidence of life is any authentic, fresh message from the peer (the engine records it) or its
 * inbound SAs' packet counters moving (checked here every keepalive/2, at least every second),
 * so a pair carrying traffic sends no keepalives at all.  A pair silent for keepalive_seconds
 * gets a PING every keepalive_seconds; its PONG gives the RTT.  A pair silent for
 * dead_after_seconds is down: a new handshake starts (retransmitted with backoff) and pings go
 * on; any sign of life makes it up again.  The SAs stay in place meanwhile: traffic that still
 * flows is never cut by a false alarm, and nothing is sent in the clear either way.
 *
 * Self-healing: when the integrity or replay errors of a pair's current inbound SAs rise by
 * HEAL_ERRORS between two looks, the keys at the two ends may disagree: a new handshake is
 * started (at most once per HEAL_EVERY_MS per pair, so forged ESP cannot make a pair rekey in a
 * loop), and the log names the counters.
 */
#include "config.h"

#include <stdlib.h>

#include "log.h"
#include "mesh.h"
#include "mesh_internal.h"

#define HEAL_ERRORS 10
#define HEAL_EVERY_MS 30000

static void heal(struct mesh *m, size_t id, uint64_t integrity, uint64_t replay, uint64_t now)
{
	struct apeer *p = &m->peers[id];
	uint64_t errors = integrity + replay, rise = errors > p->in_errors ? errors - p->in_errors : 0;

	p->in_errors = errors;
	if (rise < HEAL_ERRORS || (p->healed_ms && now - p->healed_ms < HEAL_EVERY_MS))
		return;
	p->healed_ms = now;
	log_warnx("peer %s: errors on its inbound SAs rose by %llu (integrity failures now %llu, replay errors %llu); "
		  "re-handshaking", p->name, (unsigned long long)rise, (unsigned long long)integrity, (unsigned long long)replay);
	hs_initiate(m->hs, (int)id, now, mesh_wall_ns(), m->out);
	mesh_run_actions(m);
}

/* Inbound packets through each peer's current SAs moved: the peer is alive. */
static void check_counters(struct mesh *m, uint64_t now)
{
	struct xnl_sa *sas = NULL;
	size_t n = 0;
	struct ms_error err;

	if (mesh_dump_sas(m, &sas, &n, &err) < 0) {
		log_debug("liveness: cannot read SA counters: %s", err.msg);
		return;
	}
	for (size_t i = 0; i < m->cap_peers; i++) {
		struct apeer *p = &m->peers[i];
		struct hs_peer_info info;
		uint64_t packets = 0, integrity = 0, replay = 0;

		if (!p->used)
			continue;
		hs_peer_info(m->hs, (int)i, &info);
		for (int f = 0; f < 2; f++) {
			const struct xnl_sa *sa = mesh_sa_by_spi(sas, n, info.in_spi[f]);

			if (sa) {
				packets += sa->packets;
				integrity += sa->integrity_failed;
				replay += sa->replay_errors;
			}
		}
		if (packets > p->in_packets)
			hs_peer_seen(m->hs, (int)i, now);
		p->in_packets = packets;
		if (info.state == HS_ESTABLISHED)
			heal(m, i, integrity, replay, now);
	}
	free(sas);
}

void mesh_liveness(struct mesh *m, uint64_t now)
{
	uint64_t ka = (uint64_t)m->conf.inv->keepalive_s * 1000, dead = (uint64_t)m->conf.inv->dead_after_s * 1000;

	if (now - m->counters_ms >= (ka / 2 > 1000 ? ka / 2 : 1000)) {
		check_counters(m, now);
		m->counters_ms = now;
	}
	for (size_t i = 0; i < m->cap_peers; i++) {
		struct apeer *p = &m->peers[i];
		struct hs_peer_info info;
		uint64_t seen;

		if (!p->used)
			continue;
		hs_peer_info(m->hs, (int)i, &info);
		if (info.state == HS_IDLE && !info.established) {
			/* the last handshake failed locally (SPI allocation, DH, kernel): try again */
			hs_initiate(m->hs, (int)i, now, mesh_wall_ns(), m->out);
			mesh_run_actions(m);
			continue;
		}
		if (!info.established && !p->dead)
			continue;	/* the handshake's own retransmissions are at work */
		seen = info.last_seen_ms > info.established_ms ? info.last_seen_ms : info.established_ms;
		/* The kernel's soft expiry normally starts rekeys; this catches a lost notification. */
		if (info.state == HS_ESTABLISHED && now - info.established_ms > m->conf.inv->rekey_s * 1200) {
			log_info("peer %s: keys older than rekey_seconds + 20 %%; rekeying", p->name);
			hs_initiate(m->hs, (int)i, now, mesh_wall_ns(), m->out);
			mesh_run_actions(m);
		}
		if (p->dead && seen > p->dead_since_ms) {
			p->dead = false;
			log_info("peer %s: alive again after %llu ms", p->name, (unsigned long long)(now - p->dead_since_ms));
		} else if (!p->dead && now - seen >= dead) {
			p->dead = true;
			p->dead_since_ms = now;
			log_warnx("peer %s: down, nothing heard for %llu s (dead_after_seconds %u); new handshake under way",
				  p->name, (unsigned long long)((now - seen) / 1000), m->conf.inv->dead_after_s);
			hs_initiate(m->hs, (int)i, now, mesh_wall_ns(), m->out);
			mesh_run_actions(m);
		}
		if (now - seen >= ka && now - p->last_ping_ms >= ka) {
			hs_ping(m->hs, (int)i, now, mesh_wall_ns(), m->out);
			mesh_run_actions(m);
			p->last_ping_ms = now;
		}
	}
}
