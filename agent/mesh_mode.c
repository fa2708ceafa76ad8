/*
 * Prefer mode's moving part (README, "Modes"): the outbound SPs of a prefer pair pass traffic in
 * clear while the pair is not up and use its SA (optional template) once it is.  require pairs
 * never change shape here.
 *
 * The core's up, down and handshake events only mark the shapes stale; the change is made after
 * the core's own requests have been sent (mesh_mode_flush from the loop), so a pair's SAs are in
 * the kernel before its outbound SPs point at them.  Every second the shapes are also checked
 * against the pairs' states whatever the events said, so a missed transition costs at most 1 s.  Replacing an SP (UPDPOLICY) also makes the kernel drop
 * its cached routes, so connected sockets that started in clear move to ESP at once.
 */
#include "config.h"

#include <stdlib.h>

#include "meshsec/plan.h"
#include "log.h"
#include "mesh_espcheck.h"
#include "mesh_internal.h"

/*
 * Up, or still carrying an outbound SA from before the agent's start while its first handshake
 * runs: a restart in the middle of a rollout must not send clear to a peer that already
 * requires ESP.  (If that SA's peer lost its keys, the pair goes down after a few tries: clear.)
 * And ESP passed its check (mesh_espcheck.c): a network that drops ESP must not blackhole it.
 */
static bool peer_up(struct mesh *m, const char *name)
{
	int id = core_peer_find(m->core, name);
	const struct core_peer *p = id >= 0 ? core_peer(m->core, id) : NULL;

	return p && (p->state == PEER_UP || (p->state == PEER_CONNECTING && p->adopted_out)) && mesh_espcheck_passed(m, id);
}

/* The kernel's policy with sp's selector (have sorted) already sends through an SA: it was verified then. */
static bool was_esp(const struct ms_sp *have, size_t n_have, const struct ms_sp *sp)
{
	const struct ms_sp *k = n_have ? bsearch(sp, have, n_have, sizeof(*have), ms_sp_cmp) : NULL;

	return k && k->shape == MS_SP_OPTIONAL;
}

void mesh_mode_adopted(struct mesh *m, const struct ms_sa *sas, size_t n, struct ms_sp *have, size_t n_have)
{
	const struct ms_inventory *inv = m->conf.inv;
	const char *self = inv->nodes[m->conf.self].name;

	if (n_have > 1)
		qsort(have, n_have, sizeof(*have), ms_sp_cmp);
	for (size_t i = 0; i < n; i++) {
		int peer = ms_inventory_find_addr(inv, &sas[i].dst);
		struct ms_sp key = { .dir = MS_DIR_OUT, .src = { .family = sas[i].dst.family }, .dst = sas[i].dst,
				     .dst_len = (uint8_t)(ms_addr_len(&sas[i].dst) * 8) }, *sp;

		if (peer < 0 || (size_t)peer == m->conf.self || sas[i].reqid != ms_pair_reqid(self, inv->nodes[peer].name) ||
		    ms_pair_mode(inv, m->conf.self, (size_t)peer) != MS_MODE_PREFER || !(sp = mesh_planned(m, &key)))
			continue;
		/* an out policy still in clear was not verified (ESP may be blocked): it stays clear until it is */
		if (!was_esp(have, n_have, sp) && !m->opts.no_esp_verify)
			continue;
		mesh_espcheck_adopt(m, core_peer_find(m->core, inv->nodes[peer].name));
		ms_plan_set_up(inv, m->conf.self, sp, true);
	}
}

size_t mesh_mode_apply(struct mesh *m, const struct ms_inventory *inv, size_t self, struct ms_sp *sps, size_t n)
{
	size_t changed = 0;

	for (size_t i = 0; i < n; i++)
		if (ms_sp_is_pair(&sps[i]) && ms_pair_mode(inv, self, sps[i].peer) == MS_MODE_PREFER)
			changed += ms_plan_set_up(inv, self, &sps[i], peer_up(m, inv->nodes[sps[i].peer].name));
	return changed;
}

void mesh_mode_stale(struct mesh *m, const char *peer)
{
	int idx = ms_inventory_find(m->conf.inv, peer);

	if (idx >= 0 && ms_pair_mode(m->conf.inv, m->conf.self, (size_t)idx) == MS_MODE_PREFER)
		m->mode_stale = true;
}

#define CHECK_EVERY_MS 1000

void mesh_mode_planned(struct mesh *m)
{
	m->mode_any_prefer = false;
	for (size_t i = 0; i < m->n_sps && !m->mode_any_prefer; i++)
		m->mode_any_prefer = ms_sp_is_pair(&m->sps[i]) &&
				     ms_pair_mode(m->conf.inv, m->conf.self, m->sps[i].peer) == MS_MODE_PREFER;
}

/*
 * From the loop's tick, after the core's: a pair's state changes there, so a prefer pair's
 * outbound SP follows within the same tick (status never says encrypted while it passes clear).
 * With no prefer pair, only SPs whose replace the kernel refused are looked at, once a second.
 */
void mesh_mode_flush(struct mesh *m, uint64_t now_ms)
{
	const struct ms_inventory *inv = m->conf.inv;
	size_t changed = 0;

	if (m->stopping || (!m->mode_stale && !m->mode_any_prefer && now_ms < m->mode_check_ms))
		return;
	m->mode_stale = false;
	m->mode_check_ms = now_ms + CHECK_EVERY_MS;
	for (size_t i = 0; i < m->n_sps; i++) {
		struct ms_sp *sp = &m->sps[i], want = *sp;
		bool prefer;
		char sel[MS_SP_STRLEN];

		if (!ms_sp_is_pair(sp) || mesh_policy_conflicted(m, sp))
			continue;	/* a conflict: another owner's policy decides; ours goes in when it is gone */
		prefer = ms_pair_mode(inv, m->conf.self, sp->peer) == MS_MODE_PREFER;
		if ((!prefer && sp->shape != MS_SP_UNKNOWN) ||
		    !ms_plan_set_up(inv, m->conf.self, &want, prefer && peer_up(m, inv->nodes[sp->peer].name)))
			continue;
		log_debug("policy %s: %s", ms_sp_format(&want, sel, sizeof(sel)), !prefer ? "put right after a refusal" :
			  want.shape == MS_SP_CLEAR ? "the pair is not up: clear (prefer mode)" : "the pair is up: ESP");
		mesh_policy_update(m, &want);
		*sp = want;
		changed++;
	}
	if (changed)
		mesh_commit(m);
}
