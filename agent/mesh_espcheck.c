/*
 * ESP verification in the agent (meshsec/espcheck.h decides, mesh_netcheck.c probes): every pair
 * that is up gets a check that ESP passes both ways before a prefer pair's outbound policy
 * switches to ESP (mesh_mode.c asks mesh_espcheck_passed).  A require pair is checked the same
 * way; it has nothing to switch, but a failure there is an outage, reported as its reason.
 *
 * Bounded work: at most MESH_ESPCHECK_RUNS checks at once (netcheck's run slots), taken in turn
 * from a rotating start so every pair gets its chance at any mesh size, and a failed pair waits
 * a growing, jittered delay (up to a minute) before its next check.
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mesh_espcheck.h"
#include "mesh_internal.h"
#include "mesh_netcheck.h"
#include "meshsec/espcheck.h"

struct mesh_espcheck {
	struct slot {
		char name[MS_NAME_MAX + 1];	/* the core peer the slot was tracking ("" none) */
		struct ms_espcheck e;
	} *slots;
	size_t cap, cursor;
};

/* The pair carries ESP out now, or will once verified: up, or an adopted outbound SA (mesh_mode.c). */
static bool carries_esp(const struct core_peer *p)
{
	return p->state == PEER_UP || (p->state == PEER_CONNECTING && p->adopted_out);
}

/* The slot of core peer id, made or cleared for it when the id changed hands; NULL: none. */
static struct ms_espcheck *slot(struct mesh *m, int id)
{
	struct mesh_espcheck *ec = m->espcheck;
	const struct core_peer *p;

	if (!ec || id < 0 || (size_t)id >= core_peer_slots(m->core) || !(p = core_peer(m->core, id))->used)
		return NULL;
	if ((size_t)id >= ec->cap) {
		size_t cap = core_peer_slots(m->core);
		struct slot *s = realloc(ec->slots, cap * sizeof(*s));

		if (!s)
			return NULL;
		memset(s + ec->cap, 0, (cap - ec->cap) * sizeof(*s));
		ec->slots = s;
		ec->cap = cap;
	}
	if (strcmp(ec->slots[id].name, p->name) != 0) {
		memset(&ec->slots[id], 0, sizeof(ec->slots[id]));
		snprintf(ec->slots[id].name, sizeof(ec->slots[id].name), "%s", p->name);
	}
	return &ec->slots[id].e;
}

static bool prefer(struct mesh *m, const char *name)
{
	int idx = ms_inventory_find(m->conf.inv, name);

	return idx >= 0 && ms_pair_mode(m->conf.inv, m->conf.self, (size_t)idx) == MS_MODE_PREFER;
}

static double jitter(void)
{
	return (double)randombytes_uniform(1001) / 1000.0;
}

void mesh_espcheck_open(struct mesh *m)
{
	if (m->opts.no_esp_verify) {
		log_warnx("ESP verification is off (--no-esp-verify): a prefer pair switches to ESP as soon as it is up, "
			  "and a network that drops ESP blackholes it");
		return;
	}
	if (!(m->espcheck = calloc(1, sizeof(*m->espcheck))))
		log_warnx("ESP verification unavailable: out of memory; prefer pairs stay in clear");
}

void mesh_espcheck_close(struct mesh *m)
{
	if (!m->espcheck)
		return;
	free(m->espcheck->slots);
	free(m->espcheck);
	m->espcheck = NULL;
}

void mesh_espcheck_adopt(struct mesh *m, int id)
{
	struct ms_espcheck *e = slot(m, id);

	if (e)
		ms_espcheck_adopt(e, mesh_now_ms());
}

bool mesh_espcheck_passed(struct mesh *m, int id)
{
	struct ms_espcheck *e;

	if (m->opts.no_esp_verify)
		return true;
	e = slot(m, id);
	return e && ms_espcheck_passed(e);
}

void mesh_espcheck_why(struct mesh *m, int id, struct core_why *w)
{
	struct ms_espcheck *e = slot(m, id);
	const struct ms_inventory *inv = m->conf.inv;

	memset(w, 0, sizeof(*w));
	if (e)
		ms_espcheck_why(e, inv->nodes[m->conf.self].name, core_peer(m->core, id)->name, inv->port,
				prefer(m, core_peer(m->core, id)->name), w);
}

bool mesh_espcheck_failed(struct mesh *m, int id)
{
	struct core_why w;

	mesh_espcheck_why(m, id, &w);
	return w.code == CORE_REASON_ESP_BLOCKED;
}

static void say_failed(struct mesh *m, int id, const char *name)
{
	struct core_why w;
	struct core_event ev = { .type = CORE_EV_REASON, .peer = name, .why = &w };

	mesh_espcheck_why(m, id, &w);
	log_warnx("peer %s: %s; fix: %s", name, w.message, w.fix);
	mesh_event_core(m, &ev);
}

void mesh_espcheck_done(struct mesh *m, int id, const char *name, const struct ms_probe_result *res)
{
	struct ms_espcheck *e = slot(m, id);
	uint64_t now = mesh_now_ms();

	if (!e || strcmp(core_peer(m->core, id)->name, name) != 0 || e->state != MS_ESPCHECK_RUNNING)
		return;	/* the peer left with a reload, or went down, while its check ran: it says nothing now */
	if (!res) {
		ms_espcheck_skip(e, now);
		return;
	}
	if (!ms_espcheck_done(e, res, jitter(), now)) {
		log_debug("peer %s: ESP check failed again (%u in a row); next in %llu ms", name, e->failures,
			  (unsigned long long)(e->next_ms - now));
		return;
	}
	if (ms_espcheck_passed(e)) {
		log_info("peer %s: ESP passes both ways%s", name, prefer(m, name) ? ": its traffic moves to ESP" : "");
		mesh_event(m, "esp_verified", name, "ESP (IP protocol 50) passes both ways");
	} else {
		say_failed(m, id, name);
	}
	mesh_mode_stale(m, name);
}

void mesh_espcheck_tick(struct mesh *m, uint64_t now_ms)
{
	struct mesh_espcheck *ec = m->espcheck;
	size_t n = core_peer_slots(m->core), busy = 0;

	if (!ec || m->stopping || !n)
		return;
	for (size_t k = 0; k < n; k++) {
		size_t id = (ec->cursor + k) % n;
		const struct core_peer *p = core_peer(m->core, (int)id);
		struct ms_espcheck *e;
		bool was_failed;
		int rc;

		if (!p->used || !(e = slot(m, (int)id)))
			continue;
		was_failed = e->failures > 0;
		if (ms_espcheck_track(e, carries_esp(p), now_ms)) {
			log_info("peer %s: ESP must be checked again when the pair is back up%s", p->name,
				 was_failed ? " (it was failing)" : "");
			mesh_mode_stale(m, p->name);
		}
		/* only a pair with SAs both ways can carry the check; an adopted one keeps its verdict */
		if (busy || p->state != PEER_UP || !ms_espcheck_due(e, now_ms))
			continue;
		if ((rc = mesh_netcheck_verify(m, (int)id)) == -EBUSY) {
			busy = 1;	/* every slot taken: the pairs from here get their turn first next time */
			ec->cursor = id;
		} else if (rc < 0) {
			log_debug("peer %s: ESP check not started: %s", p->name, strerror(-rc));
			ms_espcheck_skip(e, now_ms);
		} else {
			ms_espcheck_started(e, now_ms);
		}
	}
}
