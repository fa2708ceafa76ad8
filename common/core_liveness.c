/*
 * Liveness: is each established peer still there, and do the kernel's SAs still match the keys?
 *
 * Evidence of life is any authentic, fresh message from the peer (the engine records it) or its
 * inbound SAs' packet counters moving (looked at every keepalive/2, at least every second), so a
 * pair carrying traffic sends no keepalives at all.  A pair silent for keepalive_seconds gets a
 * PING every keepalive_seconds; its PONG gives the RTT.  A pair silent for dead_after_seconds is
 * down: a new handshake starts (retransmitted with backoff) and pings go on; any sign of life
 * makes it up again.  The SAs stay in place meanwhile: traffic that still flows is never cut by a
 * false alarm, and nothing is sent in the clear either way.
 *
 * Self-healing, at most once per HEAL_EVERY_MS per pair (so forged ESP cannot make a pair rekey
 * in a loop): a new handshake when the integrity or replay errors of a pair's current inbound SAs
 * rise by HEAL_ERRORS between two looks (the keys at the two ends may disagree), or when one of
 * its current SAs is missing from the kernel (deleted by hand, or lost with the kernel's state).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core_internal.h"

#define HEAL_ERRORS 10
#define HEAL_EVERY_MS 30000
#define DOWN_AFTER_TRIES 3	/* unanswered retransmissions before a new pair counts as down */

const char *peer_state_name(enum peer_state s)
{
	static const char *const n[] = { "connecting", "up", "down" };

	return n[s];
}

static bool may_heal(struct core_peer *p, uint64_t now)
{
	if (p->healed_ms && now - p->healed_ms < HEAL_EVERY_MS)
		return false;
	p->healed_ms = now;
	return true;
}

static void heal(struct core *c, int id, const char *why, uint64_t now)
{
	core_logf(c, CORE_LOG_WARN, "peer %s: %s; re-handshaking", c->peers[id].name, why);
	core_emit(c, CORE_EV_SELF_HEAL, id, NULL, why);
	hs_initiate(c->hs, id, now, true, c->out);
	core_run(c, now);
}

/* One peer's SAs against the kernel's: counters moving, errors rising, SAs missing. */
static void look_at(struct core *c, int id, const struct ms_sa *sas, size_t n, uint64_t now)
{
	struct core_peer *p = &c->peers[id];
	static const int fam[2] = { AF_INET, AF_INET6 };
	struct hs_peer_info info;
	uint64_t packets = 0, errors = 0, integrity = 0, replay = 0, rise;
	bool missing = false;
	char why[160];

	core_peer_info(c, id, &info);
	for (int f = 0; f < 2; f++) {
		const struct ms_addr *me = core_self_addr(c, fam[f]);
		const struct ms_addr *them = fam[f] == AF_INET ? &p->v4 : &p->v6;
		const struct ms_sa *in = core_sa_find(sas, n, me, info.in_spi[f]);

		if (in) {
			packets += in->packets;
			integrity += in->integrity_failed;
			replay += in->replay_errors;
		}
		missing |= (info.in_spi[f] && !in) || (info.out_spi[f] && !core_sa_find(sas, n, them, info.out_spi[f]));
	}
	if (info.in_spi[0] != p->counted_spi[0] || info.in_spi[1] != p->counted_spi[1]) {
		p->in_packets = 0;	/* new SAs count from zero */
		memcpy(p->counted_spi, info.in_spi, sizeof(p->counted_spi));
	}
	if (packets > p->in_packets)
		hs_peer_seen(c->hs, id, now);
	p->in_packets = packets;
	errors = integrity + replay;
	rise = errors > p->in_errors ? errors - p->in_errors : 0;
	p->in_errors = errors;
	if (info.state != HS_ESTABLISHED)
		return;
	if (missing && may_heal(p, now)) {
		heal(c, id, "one of its current SAs is missing from the kernel", now);
	} else if (rise >= HEAL_ERRORS && may_heal(p, now)) {
		snprintf(why, sizeof(why), "errors on its inbound SAs rose by %llu (integrity failures now %llu, replay errors %llu)",
			 (unsigned long long)rise, (unsigned long long)integrity, (unsigned long long)replay);
		heal(c, id, why, now);
	}
}

static void look_at_counters(struct core *c, uint64_t now)
{
	struct ms_sa *sas = NULL;
	size_t n = 0;
	int rc = c->ops->dump_sas(c->ctx, &sas, &n);

	if (rc < 0) {
		core_logf(c, CORE_LOG_DEBUG, "liveness: cannot read SA counters (errno %d)", -rc);
		return;
	}
	core_sort_sas(sas, n);
	for (size_t i = 0; i < c->cap; i++)
		if (c->peers[i].used)
			look_at(c, (int)i, sas, n, now);
	free(sas);
}

static enum peer_state derive(const struct core_peer *p, const struct hs_peer_info *i)
{
	if (p->dead)
		return PEER_DOWN;
	if (i->established)
		return PEER_UP;
	if ((i->state == HS_INIT_SENT || i->state == HS_RESP_SENT) && i->tries < DOWN_AFTER_TRIES)
		return PEER_CONNECTING;
	return PEER_DOWN;
}

/* A change to down is logged with its reason by core_reason_update. */
static void update_state(struct core *c, struct core_peer *p, const struct hs_peer_info *info, uint64_t now)
{
	enum peer_state s = derive(p, info);

	if (s == p->state)
		return;
	if (s == PEER_UP && p->state == PEER_DOWN)
		core_logf(c, CORE_LOG_INFO, "peer %s: up again", p->name);
	p->state = s;
	p->since_ms = now;
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Keepalives, dead-peer detection and rekeying by age for one peer; returns its next deadline. */
static uint64_t watch(struct core *c, int id, uint64_t now, uint64_t ka, uint64_t dead)
{
	struct core_peer *p = &c->peers[id];
	struct hs_peer_info info;
	uint64_t seen, next = UINT64_MAX;

	core_peer_info(c, id, &info);
	if (!info.established && !p->dead)
		return next;	/* the handshake's own retransmissions are at work */
	seen = info.last_seen_ms > info.established_ms ? info.last_seen_ms : info.established_ms;
	/* The kernel's soft expiry normally starts rekeys; this catches a lost notification. */
	if (info.state == HS_ESTABLISHED && now - info.established_ms > c->rekey_s * 1200) {
		core_logf(c, CORE_LOG_INFO, "peer %s: keys older than rekey_seconds + 20 %%; rekeying", p->name);
		hs_initiate(c->hs, id, now, false, c->out);
		core_run(c, now);
	}
	if (info.state == HS_ESTABLISHED && info.established_ms + c->rekey_s * 1200 + 1 > now)
		next = min64(next, info.established_ms + c->rekey_s * 1200 + 1);	/* (past: in backoff) */
	if (p->dead && seen > p->dead_since_ms) {
		p->dead = false;
		core_logf(c, CORE_LOG_INFO, "peer %s: alive again after %llu ms", p->name,
			  (unsigned long long)(now - p->dead_since_ms));
	} else if (!p->dead && now - seen >= dead) {
		p->dead = true;
		p->dead_since_ms = now;
		core_logf(c, CORE_LOG_INFO, "peer %s: nothing heard for %llu s (dead_after_seconds %u); new handshake under way",
			  p->name, (unsigned long long)((now - seen) / 1000), c->dead_after_s);
		hs_initiate(c->hs, id, now, false, c->out);
		core_run(c, now);
	}
	if (!p->dead)
		next = min64(next, seen + dead);
	if (now - seen >= ka && now - p->last_ping_ms >= ka) {
		hs_ping(c->hs, id, now, c->out);
		core_run(c, now);
		p->last_ping_ms = now;
	}
	return min64(next, (seen > p->last_ping_ms ? seen : p->last_ping_ms) + ka);	/* the next PING */
}

uint64_t core_liveness(struct core *c, uint64_t now)
{
	uint64_t ka = (uint64_t)c->keepalive_s * 1000, dead = (uint64_t)c->dead_after_s * 1000;
	uint64_t period = ka / 2 > 1000 ? ka / 2 : 1000, next;

	if (now - c->counters_ms >= period || !c->counters_ms) {
		look_at_counters(c, now);
		c->counters_ms = now;
	}
	next = c->counters_ms + period;
	for (size_t i = 0; i < c->cap; i++) {
		struct hs_peer_info info;
		enum peer_state before = c->peers[i].state;

		if (!c->peers[i].used)
			continue;
		next = min64(next, watch(c, (int)i, now, ka, dead));
		core_peer_info(c, (int)i, &info);
		update_state(c, &c->peers[i], &info, now);
		core_reason_update(c, (int)i, before, now);
	}
	return next;
}
