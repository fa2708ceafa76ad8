/*
 * The network between the agents: per-datagram loss, duplication, reordering and delay drawn
 * from the seed, cuts between nodes (partitions, one-way loss), and the hostile side: datagrams
 * recorded as they are delivered, to be replayed or spoofed later.  A hostile datagram must
 * never move its target's kernel (no SPI, no SA) nor be accepted: checked at delivery.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/wire.h"
#include "sim.h"

static const char *const kind_names[] = { "", "forged ", "replayed ", "spoofed " };

/* "INIT#1a2b": the type and the low bits of its hs_id, enough to follow one handshake in a trace. */
static const char *type_name(const uint8_t *buf, size_t len)
{
	static const char *const n[] = { "?", "INIT", "RESP", "CONFIRM", "PING", "PONG", "CHALLENGE" };
	static char out[32];
	struct ms_msg m;

	if (ms_wire_peek(buf, len, &m) != MS_WIRE_OK)
		return "garbage";
	ms_wire_decode_body(buf, len, &m);	/* parsing only, for the trace */
	snprintf(out, sizeof(out), "%s#%04x", m.type <= MS_MSG_MAX ? n[m.type] : "?", (unsigned)(m.hs_id & 0xffff));
	return out;
}

static uint64_t draw_delay(struct world *w)
{
	const struct netcond *c = &w->cond;
	double x = -log(1.0 - rng_unit(&w->r_net)) * c->delay_mean_ms;
	uint64_t d = c->delay_min_ms + (uint64_t)(x > 600000 ? 600000 : x);

	if (rng_chance(&w->r_net, c->reorder))
		d += rng_range(&w->r_net, 0, 300);	/* overtaken by later datagrams */
	return d;
}

struct dgram *net_inject(struct world *w, int kind, const struct ms_addr *src, int to, const uint8_t *buf, size_t len,
		uint64_t delay_ms)
{
	struct dgram *d = malloc(sizeof(*d));

	if (!d)
		abort();
	d->src = *src;
	d->to = to;
	d->kind = (uint8_t)kind;
	d->len = len;
	memcpy(d->buf, buf, len);
	d->first = 0;
	world_push(w, w->now + delay_ms, EV_DGRAM, -1, d);
	return d;
}

int net_send(struct world *w, struct node *from, const struct ms_addr *to, const uint8_t *buf, size_t len)
{
	const struct ms_addr *src = to->family == AF_INET ? &from->v4 : &from->v6;
	struct node *dst = node_by_addr(w, to);

	if (!src->family)
		return -EAFNOSUPPORT;
	w->sent++;
	if (!dst) {
		trace_add(w->now, from->name, "net: %s to an unknown address: lost", type_name(buf, len));
		return 0;
	}
	if (!w->quiet && (w->cut[(size_t)from->idx * w->n_nodes + (size_t)dst->idx] || rng_chance(&w->r_net, w->cond.loss))) {
		w->dropped++;
		trace_add(w->now, from->name, "net: %s -> %s lost", type_name(buf, len), dst->name);
		return 0;
	}
	net_inject(w, DG_NORMAL, src, dst->idx, buf, len, draw_delay(w));
	if (!w->quiet && rng_chance(&w->r_net, w->cond.dup)) {
		w->duplicated++;
		net_inject(w, DG_NORMAL, src, dst->idx, buf, len, draw_delay(w));
	}
	return 0;
}

void net_record(struct world *w, const struct dgram *d)
{
	w->record[w->n_record++ % RECORD_MAX] = *d;
}

static const char *replay_note(const struct dgram *d)
{
	static char note[80];

	snprintf(note, sizeof(note), "; its first copy was %s there", hs_verdict_name((enum hs_verdict)d->first));
	return note;
}

void net_deliver(struct world *w, struct dgram *d)
{
	struct node *nd = &w->nodes[d->to];
	uint64_t before = nd->k.mutations;
	enum hs_verdict v;

	if (!nd->agent_up || nd->paused) {
		trace_add(w->now, nd->name, "net: %s%s: nobody listening", kind_names[d->kind], type_name(d->buf, d->len));
		return;
	}
	v = core_input(nd->core, &d->src, d->buf, d->len, node_now(w, nd));
	d->verdict = (uint8_t)v;
	if (d->kind == DG_NORMAL) {
		w->delivered++;
		net_record(w, d);
	} else {
		w->hostile++;
	}
	if (trace_enabled()) {
		struct node *from = node_by_addr(w, &d->src);

		trace_add(w->now, nd->name, "net: %s%s from %s: %s", kind_names[d->kind], type_name(d->buf, d->len),
			  from ? from->name : "?", hs_verdict_name(v));
	}
	/*
	 * Hostile input never moves the kernel (no SPI, no SA: invariants 2 and 11).  Forged and
	 * spoofed datagrams are never accepted; a replay is not accepted a second time (its first
	 * delivery may have been dropped for its state then, which makes a later copy a late one).
	 */
	if (d->kind != DG_NORMAL && nd->k.mutations != before)
		world_fail(w, "hostile input: a %s%s to %s (%s) changed its kernel%s", kind_names[d->kind],
			   type_name(d->buf, d->len), nd->name, hs_verdict_name(v),
			   d->kind == DG_REPLAY ? replay_note(d) : "");
	else if ((d->kind == DG_FORGED || d->kind == DG_SPOOFED || (d->kind == DG_REPLAY && d->first == HS_ACCEPTED)) &&
		 v == HS_ACCEPTED)
		world_fail(w, "hostile input: a %s%s to %s was accepted", kind_names[d->kind], type_name(d->buf, d->len),
			   nd->name);
	node_kick(w, nd, 100);
}
