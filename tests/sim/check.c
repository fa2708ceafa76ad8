/*
 * The invariants.  Safety ones are checked as things happen: every SA add (design invariants
 * 1 and 8), every message announcing SPIs (an inbound SA exists before its SPI is announced).
 * Liveness (invariant 10) is checked once the faults stop: every pair of running members is
 * established on one session with matching SPIs and keys in both kernels, and (strict) each
 * kernel holds exactly those SAs plus the previous generation while its grace lasts.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "meshsec/wire.h"
#include "sim.h"

#define GRACE_SLACK_MS 1500	/* retirement runs at the next tick after the grace */

/* Every key ever installed, by its first 16 bytes, with how often per direction. */
struct keyrec {
	uint8_t fp[16];
	uint8_t used, in, out;
	uint32_t in_spi;	/* where the inbound SA with this key was installed */
	struct ms_addr in_dst;
};
static struct keyrec *keys;
static size_t n_keys, cap_keys;

void check_reset(void)
{
	free(keys);
	keys = NULL;
	n_keys = cap_keys = 0;
}

static struct keyrec *key_slot(const uint8_t *fp)
{
	uint64_t h;
	size_t i;

	if ((n_keys + 1) * 2 > cap_keys) {
		struct keyrec *old = keys;
		size_t old_cap = cap_keys;

		cap_keys = cap_keys ? cap_keys * 2 : 1024;
		keys = calloc(cap_keys, sizeof(*keys));
		if (!keys)
			abort();
		n_keys = 0;
		for (size_t k = 0; k < old_cap; k++)
			if (old[k].used)
				*key_slot(old[k].fp) = old[k];
		free(old);
	}
	memcpy(&h, fp, sizeof(h));
	for (i = h & (cap_keys - 1); keys[i].used && memcmp(keys[i].fp, fp, 16); i = (i + 1) & (cap_keys - 1))
		;
	if (!keys[i].used) {
		memcpy(keys[i].fp, fp, 16);
		keys[i].used = 1;
		n_keys++;
	}
	return &keys[i];
}

static const char *sa_str(const struct ms_addr *dst, uint32_t spi, char *buf, size_t len)
{
	char a[MS_ADDR_STRLEN];

	snprintf(buf, len, "%s/%#x", ms_addr_format(dst, a, sizeof(a)), spi);
	return buf;
}

void check_sa_added(struct world *w, struct node *nd, const struct ksa *sa)
{
	struct keyrec *r = key_slot(sa->key);
	const struct node *peer;
	const struct ksa *in;
	char b[80];

	if (sa->out ? ++r->out > 1 : ++r->in > 1) {
		world_fail(w, "invariant 1: %s installed an %s SA %s with a key already installed in that direction",
			   nd->name, sa->out ? "outbound" : "inbound", sa_str(&sa->dst, sa->spi, b, sizeof(b)));
		return;
	}
	if (!sa->out) {
		r->in_spi = sa->spi;
		r->in_dst = sa->dst;
		return;
	}
	if (sa->dst.family == AF_INET) {	/* one per handshake on every node of a --scale run */
		uint64_t sec = w->now / 1000;

		if (nd->hs_sec != sec)
			nd->hs_sec = sec, nd->hs_count = 0;
		if (++nd->hs_count > w->peak_hs_node)
			w->peak_hs_node = nd->hs_count;
		if (w->fleet_sec != sec)
			w->fleet_sec = sec, w->fleet_hs = 0;
		if (++w->fleet_hs > w->peak_hs_fleet)
			w->peak_hs_fleet = w->fleet_hs;
	}
	peer = node_by_addr(w, &sa->dst);
	in = peer ? kernel_find(&peer->k, &sa->dst, sa->spi) : NULL;
	if (in && !in->larval && !in->out && in->key_len == sa->key_len && !memcmp(in->key, sa->key, sa->key_len))
		return;
	/*
	 * The peer must have installed that inbound SA (same key, same SPI) before: the RESP or
	 * CONFIRM announcing it left after it was in.  It may be gone by now, for reasons of the peer's
	 * own while the message was on the wire (it was rebooted, dropped us from its inventory, or
	 * abandoned that handshake): counted and traced, since traffic on this SA is lost until the
	 * next handshake, but not a breach of "only after the peer confirmed".
	 */
	if (!in && r->in == 1 && r->in_spi == sa->spi && ms_addr_equal(&r->in_dst, &sa->dst)) {
		w->late_outbound++;
		trace_add(w->now, nd->name, "sim: outbound SA %s added after %s deleted its inbound",
			  sa_str(&sa->dst, sa->spi, b, sizeof(b)), peer ? peer->name : "?");
		return;
	}
	world_fail(w, "invariant 8: %s added outbound SA %s while %s's kernel has %s", nd->name,
		   sa_str(&sa->dst, sa->spi, b, sizeof(b)), peer ? peer->name : "?",
		   !in ? "no such SA and never had one with that key" : in->larval ? "only a larval state"
		   : "an SA with another key");
}

void check_send(struct world *w, struct node *nd, const uint8_t *buf, size_t len)
{
	static const char *const what[] = { [MS_MSG_RESP] = "RESP", [MS_MSG_CONFIRM] = "CONFIRM" };
	struct ms_msg m;
	char b[80];

	if (ms_wire_peek(buf, len, &m) != MS_WIRE_OK || (m.type != MS_MSG_RESP && m.type != MS_MSG_CONFIRM))
		return;
	ms_wire_decode_body(buf, len, &m);	/* our own message: its MAC is ours */
	for (int f = 0; f < 2; f++) {
		const struct ms_addr *me = f == 0 ? &nd->v4 : &nd->v6;
		const struct ksa *in = m.spi[f] && me->family ? kernel_find(&nd->k, me, m.spi[f]) : NULL;

		if (m.spi[f] && (!in || in->larval || in->out))
			world_fail(w, "announce: %s sent %s to %s announcing %s, which its kernel %s", nd->name, what[m.type],
				   m.receiver, sa_str(me, m.spi[f], b, sizeof(b)),
				   !in ? "does not hold" : "holds only as a larval state");
	}
}

static bool fail_why(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return false;
}

static bool running(const struct world *w, const struct node *nd)
{
	return nd->member && nd->agent_up && !nd->paused && nd->inv == w->inv;
}

static bool same_key(const struct ksa *a, const struct ksa *b)
{
	return a && b && !a->larval && !b->larval && a->key_len == b->key_len && !memcmp(a->key, b->key, a->key_len);
}

/* One pair, both ways. */
static bool pair_ok(struct node *a, struct node *b, int level, char *why, size_t len)
{
	int ia = core_peer_find(a->core, b->name), ib = core_peer_find(b->core, a->name);
	struct hs_peer_info x, y;
	char s1[80], s2[80];

	if ((ia < 0) != (ib < 0))
		return fail_why(why, len, "%s and %s disagree on being peers", a->name, b->name);
	if (ia < 0)
		return true;	/* no shared family */
	core_peer_info(a->core, ia, &x);
	core_peer_info(b->core, ib, &y);
	/* Established on one session; settled: no handshake left hanging either (a rekey stuck in
	 * init-sent while the old SAs still work is a wedge too, only a slower one). */
	if (!x.established || !y.established || x.session != y.session ||
	    (level >= CONV_SETTLED && (x.state != HS_ESTABLISHED || y.state != HS_ESTABLISHED)))
		return fail_why(why, len, "pair %s-%s: %s %s/%s session %016llx, %s %s/%s session %016llx", a->name, b->name,
				a->name, x.established ? "up" : "not up", hs_state_name(x.state), (unsigned long long)x.session,
				b->name, y.established ? "up" : "not up", hs_state_name(y.state), (unsigned long long)y.session);
	for (int f = 0; f < 2; f++) {
		const struct ms_addr *aa = f ? &a->v6 : &a->v4, *ba = f ? &b->v6 : &b->v4;
		bool shared = aa->family && ba->family;

		if (!shared) {
			if (x.in_spi[f] || x.out_spi[f] || y.in_spi[f] || y.out_spi[f])
				return fail_why(why, len, "pair %s-%s has SPIs for a family they do not share", a->name, b->name);
			continue;
		}
		if (!x.out_spi[f] || x.out_spi[f] != y.in_spi[f] || !y.out_spi[f] || y.out_spi[f] != x.in_spi[f])
			return fail_why(why, len, "pair %s-%s IPv%d: %s out %#x in %#x, %s out %#x in %#x", a->name, b->name,
					f ? 6 : 4, a->name, x.out_spi[f], x.in_spi[f], b->name, y.out_spi[f], y.in_spi[f]);
		if (!same_key(kernel_find(&a->k, ba, x.out_spi[f]), kernel_find(&b->k, ba, x.out_spi[f])))
			return fail_why(why, len, "pair %s-%s: %s's outbound %s has no matching inbound SA", a->name, b->name,
					a->name, sa_str(ba, x.out_spi[f], s1, sizeof(s1)));
		if (!same_key(kernel_find(&b->k, aa, y.out_spi[f]), kernel_find(&a->k, aa, y.out_spi[f])))
			return fail_why(why, len, "pair %s-%s: %s's outbound %s has no matching inbound SA", a->name, b->name,
					b->name, sa_str(aa, y.out_spi[f], s2, sizeof(s2)));
	}
	if (level >= CONV_STRICT && (core_peer(a->core, ia)->state != PEER_UP || core_peer(b->core, ib)->state != PEER_UP))
		return fail_why(why, len, "pair %s-%s: status says %s / %s", a->name, b->name,
				peer_state_name(core_peer(a->core, ia)->state), peer_state_name(core_peer(b->core, ib)->state));
	return true;
}

/* Whether an SA in nd's kernel is one its core accounts for right now. */
static bool sa_expected(struct world *w, struct node *nd, const struct ksa *s, char *why, size_t len)
{
	const struct ms_addr *other = s->out ? &s->dst : &s->src;
	struct node *peer = node_by_addr(w, other);
	int f = s->dst.family == AF_INET ? 0 : 1, id;
	struct hs_peer_info x;
	uint64_t age;
	char b[80];

	if (s->larval)
		return fail_why(why, len, "%s holds a larval state %s", nd->name, sa_str(&s->dst, s->spi, b, sizeof(b)));
	if (!peer || !running(w, peer) || (id = core_peer_find(nd->core, peer->name)) < 0)
		return fail_why(why, len, "%s holds %s SA %s of %s, which is not a running member", nd->name,
				s->out ? "outbound" : "inbound", sa_str(&s->dst, s->spi, b, sizeof(b)), peer ? peer->name : "?");
	core_peer_info(nd->core, id, &x);
	if (s->spi == (s->out ? x.out_spi[f] : x.in_spi[f]))
		return true;
	age = node_now(w, nd) - x.established_ms;
	if (s->spi == (s->out ? x.old_out[f] : x.old_in[f]) &&
	    age <= (s->out ? HS_OLD_OUTBOUND_GRACE_MS : HS_OLD_INBOUND_GRACE_MS) + GRACE_SLACK_MS)
		return true;
	return fail_why(why, len, "%s holds %s SA %s for %s that is neither current nor in its grace (added %llu ms ago, "
			"current in %#x out %#x, old in %#x out %#x, replaced %llu ms ago)", nd->name,
			s->out ? "outbound" : "inbound", sa_str(&s->dst, s->spi, b, sizeof(b)), peer->name,
			(unsigned long long)(w->now - s->add_ms), x.in_spi[f], x.out_spi[f], x.old_in[f], x.old_out[f],
			(unsigned long long)age);
}

/* Cheap first: every peer's status is up (no copies), so big fleets pay the full check rarely. */
static bool all_up(struct world *w, char *why, size_t len)
{
	for (size_t i = 0; i < w->n_nodes; i++) {
		struct node *a = &w->nodes[i];

		if (!running(w, a))
			continue;
		for (size_t id = 0; id < core_peer_slots(a->core); id++) {
			const struct core_peer *p = core_peer(a->core, (int)id);

			if (p->used && p->state != PEER_UP)
				return fail_why(why, len, "%s says peer %s is %s", a->name, p->name, peer_state_name(p->state));
		}
	}
	return true;
}

/*
 * Every completed handshake was an event (peers removed by a reload took theirs along), and no
 * peer that is up has a reason.  Under injected kernel refusals the engine also counts
 * handshakes whose SAs the kernel then refused (no event: the pair did not come up), so the
 * count is compared only without them.
 */
static bool events_ok(struct node *a, char *why, size_t len)
{
	uint64_t done = 0;

	for (size_t id = 0; id < core_peer_slots(a->core); id++) {
		struct hs_peer_info info;
		struct core_why y;

		if (!core_peer(a->core, (int)id)->used)
			continue;
		core_peer_info(a->core, (int)id, &info);
		done += info.handshakes;
		core_peer_why(a->core, (int)id, a->w->now, &y);
		if (y.code != CORE_REASON_NONE)
			return fail_why(why, len, "%s: peer %s is up with reason %s", a->name, info.name, core_reason_code(y.code));
	}
	if (!(a->w->o.faults & FAULT_KERNEL) && a->hs_events < done)
		return fail_why(why, len, "%s: %llu handshakes completed, %llu handshake events", a->name,
				(unsigned long long)done, (unsigned long long)a->hs_events);
	return true;
}

bool check_converged(struct world *w, int level, char *why, size_t len)
{
	if (!all_up(w, why, len))
		return false;
	for (size_t i = 0; i < w->n_nodes; i++) {
		struct node *a = &w->nodes[i];

		if (a->member && !running(w, a))
			return fail_why(why, len, "member %s is not running with the newest inventory", a->name);
		if (!running(w, a))
			continue;
		for (size_t j = i + 1; j < w->n_nodes; j++)
			if (running(w, &w->nodes[j]) && !pair_ok(a, &w->nodes[j], level, why, len))
				return false;
		if (level < CONV_STRICT)
			continue;
		if (core_stale_count(a->core))
			return fail_why(why, len, "%s still holds %zu adopted SAs", a->name, core_stale_count(a->core));
		if (!events_ok(a, why, len))
			return false;
		for (size_t k = 0; k < a->k.n; k++)
			if (!a->k.sa[k].foreign && !sa_expected(w, a, &a->k.sa[k], why, len))
				return false;
	}
	return true;
}
