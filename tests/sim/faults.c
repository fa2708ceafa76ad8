/*
 * The fault schedule: every fault of a run drawn from the seed before it starts, as timed events
 * within the fault phase (each one over by its end), and what each does when its time comes.
 * A fault aimed at a node that is already down or paused is skipped, deterministically.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "meshsec/wire.h"
#include "sim.h"

const char *const fault_names[FAULT_KINDS] = { "loss", "dup", "reorder", "delay", "partition", "oneway", "kernel",
					       "restart", "reboot", "pause", "clock", "inventory", "forge", "replay",
					       "spoof", "rekey", "foreign" };

unsigned faults_parse(const char *list, bool *ok)
{
	unsigned set = 0;
	char buf[256], *save = NULL;

	*ok = true;
	if (!strcmp(list, "all"))
		return FAULT_ALL;
	if (!strcmp(list, "none"))
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int k;

		for (k = 0; k < FAULT_KINDS && strcmp(t, fault_names[k]); k++)
			;
		if (k == FAULT_KINDS) {
			fprintf(stderr, "meshsim: --faults: unknown fault '%s' (known: all, none", t);
			for (k = 0; k < FAULT_KINDS; k++)
				fprintf(stderr, ", %s", fault_names[k]);
			fprintf(stderr, ")\n");
			*ok = false;
			return 0;
		}
		set |= 1u << k;
	}
	return set;
}

static int kind_of(unsigned bit)
{
	return __builtin_ctz(bit);
}

void fault_at(struct world *w, uint64_t at, unsigned bit, int a, int b, uint64_t dur, uint32_t arg)
{
	struct fault *f = calloc(1, sizeof(*f)), **all = realloc(w->faults, (w->n_faults + 1) * sizeof(*all));

	if (!f || !all)
		abort();
	*f = (struct fault){ .kind = kind_of(bit), .a = a, .b = b, .dur_ms = dur, .arg = arg };
	w->faults = all;
	w->faults[w->n_faults++] = f;
	world_push(w, at, EV_FAULT, -1, f);
}

/* A member (at schedule time: the first o.nodes), or any node of the universe. */
static int pick(struct world *w, bool member)
{
	return (int)rng_below(&w->r_fault, member ? w->o.nodes : (uint32_t)w->n_nodes);
}

/*
 * Counts per kind scale with the fault phase; each fault starts and ends inside it (durations
 * are cut at its end), so the quiet phase really is quiet.
 */
void faults_schedule(struct world *w)
{
	struct rng *r = &w->r_fault;
	uint64_t T = (uint64_t)w->o.fault_s * 1000, per = T / 100000 + 1;
	unsigned on = w->o.faults;

	if (!T)
		return;
	/* Background conditions for the whole fault phase. */
	if (on & FAULT_LOSS)
		w->cond.loss = rng_unit(r) * 0.2;
	if (on & FAULT_DUP)
		w->cond.dup = rng_unit(r) * 0.1;
	if (on & FAULT_REORDER)
		w->cond.reorder = rng_unit(r) * 0.3;
	if (on & FAULT_DELAY) {
		w->cond.delay_min_ms = (uint32_t)rng_range(r, 1, 30);
		w->cond.delay_mean_ms = (uint32_t)rng_range(r, 1, 100);
	}
	w->base_cond = w->cond;
	for (int k = 0; k < 4; k++)	/* background conditions count once per run */
		if (on & (1u << k))
			w->fault_count[k]++;
	for (int k = 0; k < FAULT_KINDS; k++) {
		unsigned bit = 1u << k;
		uint64_t n = (on & bit) ? rng_range(r, 0, 3 * per) : 0;

		if (bit == FAULT_DUP || bit == FAULT_REORDER)
			continue;	/* background only */
		for (uint64_t i = 0; i < n; i++) {
			uint64_t at = rng_range(r, 0, T - 1), left = T - at, dur;
			int a = pick(w, bit != FAULT_INVENTORY), b = -1;
			uint32_t arg = 0;

			switch (bit) {
			case FAULT_LOSS: dur = rng_range(r, 2000, 60000); break;
			case FAULT_DELAY: dur = rng_range(r, 2000, 30000); break;
			case FAULT_PARTITION: dur = rng_range(r, 5000, 180000); arg = (uint32_t)rng_next(r); break;
			case FAULT_ONEWAY:
				dur = rng_range(r, 5000, 120000);
				b = (a + 1 + (int)rng_below(r, w->o.nodes - 1)) % (int)w->o.nodes;
				break;
			case FAULT_KERNEL: dur = rng_range(r, 1000, 30000); arg = 1 + rng_below(r, 3); break;
			case FAULT_RESTART: dur = rng_range(r, 0, 20000); break;
			case FAULT_REBOOT: dur = rng_range(r, 5000, 120000); break;
			case FAULT_PAUSE: dur = rng_range(r, 10000, 300000); break;
			case FAULT_CLOCK: dur = rng_range(r, 10000, 600000); break;
			case FAULT_INVENTORY:
				dur = 0;
				arg = (uint32_t)rng_range(r, 0, 5000);	/* rollout */
				if (left < 6000)
					continue;
				break;
			case FAULT_FORGE: dur = 0; arg = (uint32_t)rng_range(r, 1, 50); break;
			case FAULT_FOREIGN:
				dur = 0;
				b = (a + 1 + (int)rng_below(r, w->o.nodes - 1)) % (int)w->o.nodes;
				break;
			case FAULT_REPLAY:
			case FAULT_SPOOF: dur = 0; arg = (uint32_t)rng_range(r, 1, 30); break;
			case FAULT_REKEY: {
				/* A storm: rekeys on both ends of one pair, 100 ms to 2 s apart. */
				uint64_t t = at;
				unsigned storm = (unsigned)rng_range(r, 1, 20);

				b = (a + 1 + (int)rng_below(r, w->o.nodes - 1)) % (int)w->o.nodes;
				for (unsigned s = 0; s < storm && t < T; s++, t += rng_range(r, 100, 2000)) {
					int x = rng_chance(r, 0.5) ? a : b;

					fault_at(w, t, bit, x, x == a ? b : a, 0, 0);
				}
				continue;
			}
			default: continue;
			}
			if (bit != FAULT_CLOCK && dur > left)
				dur = left;	/* over before the quiet phase */
			fault_at(w, at, bit, a, b, dur, arg);
		}
	}
}

/* Partition sides are drawn from a per-fault seed, so any fleet size works. */
static bool side(const struct fault *f, size_t i)
{
	uint64_t x = (f->arg + 1) * 0x9e3779b97f4a7c15ull ^ (i * 0xbf58476d1ce4e5b9ull);

	x ^= x >> 31;
	x *= 0x94d049bb133111ebull;
	return (x >> 40) & 1;
}

static void cut(struct world *w, size_t i, size_t j, int d)
{
	w->cut[i * w->n_nodes + j] = (uint8_t)(w->cut[i * w->n_nodes + j] + d);
}

static bool node_normal(const struct world *w, int i)
{
	const struct node *nd = &w->nodes[i];

	return nd->member && nd->agent_up && nd->host_up && !nd->paused;
}

/* Another node than a that shares a family with it, or -1. */
static int other_node(struct world *w, int a)
{
	for (int tries = 0; tries < 16; tries++) {
		int b = (int)rng_below(&w->r_fault, (uint32_t)w->n_nodes);

		if (b != a && ((w->nodes[a].v4.family && w->nodes[b].v4.family) || (w->nodes[a].v6.family && w->nodes[b].v6.family)))
			return b;
	}
	return -1;
}

static const struct ms_addr *shared_src(const struct node *from, const struct node *to)
{
	return from->v4.family && to->v4.family ? &from->v4 : &from->v6;
}

static void forge(struct world *w, int a, int b)
{
	struct node *na = &w->nodes[a], *nb = &w->nodes[b];
	uint8_t key[MS_KEY_LEN], buf[MS_WIRE_MAX];
	struct ms_msg m;
	size_t len;

	memset(&m, 0, sizeof(m));
	m.type = (enum ms_msg_type)(1 + rng_below(&w->r_fault, MS_MSG_MAX));
	snprintf(m.sender, sizeof(m.sender), "%s", na->name);
	snprintf(m.receiver, sizeof(m.receiver), "%s", nb->name);
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)rng_next(&w->r_fault);
	m.hs_id = rng_next(&w->r_fault);
	m.seq = rng_next(&w->r_fault) >> 1;
	m.spi[0] = (uint32_t)rng_next(&w->r_fault);
	len = ms_wire_encode(&m, key, key, buf);	/* a MAC under a key the mesh does not have */
	if (rng_chance(&w->r_fault, 0.2))
		len = 8 + rng_below(&w->r_fault, (uint32_t)len);	/* truncated: malformed */
	net_inject(w, DG_FORGED, shared_src(na, nb), b, buf, len, rng_range(&w->r_fault, 0, 2000));
}

void fault_apply(struct world *w, struct fault *f)
{
	struct node *na = f->a >= 0 ? &w->nodes[f->a] : NULL;
	bool lasting = f->dur_ms > 0;

	if (w->quiet)
		return;
	switch (1u << f->kind) {
	case FAULT_LOSS:
		w->loss_eps++;
		w->cond.loss = 0.2 + rng_unit(&w->r_fault) * 0.7;
		trace_add(w->now, "fault", "loss burst %.0f %% for %llu ms", w->cond.loss * 100, (unsigned long long)f->dur_ms);
		break;
	case FAULT_DELAY:
		w->delay_eps++;
		w->cond.delay_mean_ms = (uint32_t)rng_range(&w->r_fault, 300, 3000);
		trace_add(w->now, "fault", "delay spike, mean %u ms, for %llu ms", w->cond.delay_mean_ms, (unsigned long long)f->dur_ms);
		break;
	case FAULT_PARTITION:
		for (size_t i = 0; i < w->n_nodes; i++)
			for (size_t j = 0; j < w->n_nodes; j++)
				if (side(f, i) != side(f, j))
					cut(w, i, j, 1);
		trace_add(w->now, "fault", "partition #%u for %llu ms", f->arg, (unsigned long long)f->dur_ms);
		break;
	case FAULT_ONEWAY:
		cut(w, (size_t)f->a, (size_t)f->b, 1);
		trace_add(w->now, "fault", "one-way loss %s -> %s for %llu ms", na->name, node_name(w, f->b), (unsigned long long)f->dur_ms);
		break;
	case FAULT_KERNEL:
		if (f->arg & 1)
			na->k.alloc_fail_until = w->now + f->dur_ms;
		if (f->arg & 2)
			na->k.add_fail_until = w->now + f->dur_ms;
		trace_add(w->now, "fault", "%s's kernel refuses%s%s for %llu ms", na->name, f->arg & 1 ? " ALLOCSPI" : "",
			  f->arg & 2 ? " NEWSA/UPDSA" : "", (unsigned long long)f->dur_ms);
		lasting = false;
		break;
	case FAULT_RESTART:
	case FAULT_REBOOT:
		if (!node_normal(w, f->a)) {
			trace_add(w->now, "fault", "%s %s skipped: not running", fault_names[f->kind], na->name);
			return;
		}
		node_stop(w, na);
		na->down = true;
		if (f->kind == kind_of(FAULT_REBOOT)) {
			kernel_wipe(&na->k);
			na->host_up = false;
		}
		trace_add(w->now, "fault", "%s %s for %llu ms", fault_names[f->kind], na->name, (unsigned long long)f->dur_ms);
		break;
	case FAULT_PAUSE:
		if (!node_normal(w, f->a)) {
			trace_add(w->now, "fault", "pause %s skipped: not running", na->name);
			return;
		}
		na->paused = true;
		trace_add(w->now, "fault", "pause %s (VM stopped) for %llu ms", na->name, (unsigned long long)f->dur_ms);
		break;
	case FAULT_CLOCK:
		na->clock_off += f->dur_ms;
		trace_add(w->now, "fault", "%s's monotonic clock jumps %llu ms forward", na->name, (unsigned long long)f->dur_ms);
		node_kick(w, na, 0);
		lasting = false;
		break;
	case FAULT_INVENTORY: {
		size_t members = w->inv->n_nodes;
		bool add = !na->member;

		if (!add && members <= 2) {
			trace_add(w->now, "fault", "removing %s skipped: too few members", na->name);
			return;
		}
		if (add && na->agent_up)
			return;	/* still being decommissioned */
		world_set_member(w, f->a, add, f->arg);
		lasting = false;
		break;
	}
	case FAULT_FORGE:
		for (uint32_t i = 0; i < f->arg; i++) {
			int a = (int)rng_below(&w->r_fault, (uint32_t)w->n_nodes), b = other_node(w, a);

			if (b >= 0)
				forge(w, a, b);
		}
		trace_add(w->now, "fault", "%u forged datagrams", f->arg);
		lasting = false;
		break;
	case FAULT_REPLAY:
	case FAULT_SPOOF: {
		size_t have = w->n_record < RECORD_MAX ? w->n_record : RECORD_MAX;

		if (f->kind == kind_of(FAULT_REPLAY) && f->b > 0) {
			/* Scenarios: every recorded message of type b to node a, in the order recorded. */
			uint32_t n = 0;

			for (size_t i = 0; i < have; i++) {
				const struct dgram *d = &w->record[(w->n_record - have + i) % RECORD_MAX];
				struct ms_msg m;

				if (d->to == f->a && ms_wire_peek(d->buf, d->len, &m) == MS_WIRE_OK && (int)m.type == f->b) {
					net_inject(w, DG_REPLAY, &d->src, d->to, d->buf, d->len, 10 * n++)->first = d->verdict;
				}
			}
			trace_add(w->now, "fault", "%u recorded messages of type %d replayed to %s", n, f->b, na->name);
			break;
		}

		for (uint32_t i = 0; have && i < f->arg; i++) {
			const struct dgram *d = &w->record[rng_below(&w->r_fault, (uint32_t)have)];
			struct ms_addr src = d->src;
	
			if (f->kind == kind_of(FAULT_SPOOF)) {
				/* Another member's address, the claimed sender's name. */
				int c = (int)rng_below(&w->r_fault, (uint32_t)w->n_nodes);

				src = d->src.family == AF_INET ? w->nodes[c].v4 : w->nodes[c].v6;
				if (!src.family || ms_addr_equal(&src, &d->src) || c == d->to)
					continue;
			}
			net_inject(w, f->kind == kind_of(FAULT_SPOOF) ? DG_SPOOFED : DG_REPLAY, &src, d->to, d->buf, d->len,
				   rng_range(&w->r_fault, 0, 3000))->first = d->verdict;
		}
		trace_add(w->now, "fault", "%u %s datagrams", f->arg, f->kind == kind_of(FAULT_SPOOF) ? "spoofed" : "replayed");
		lasting = false;
		break;
	}
	case FAULT_FOREIGN:
		/* The peer's next inbound SPI collides with a foreign SA here; its rekey hands it out. */
		if (node_normal(w, f->a) && node_normal(w, f->b)) {
			struct node *nb = &w->nodes[f->b];

			trace_add(w->now, "fault", "foreign SA on %s collides with %s's next SPI", na->name, nb->name);
			kernel_foreign_collision(w, na, nb);
			if (core_rekey(nb->core, core_peer_find(nb->core, na->name), node_now(w, nb)) == 0)
				node_kick(w, nb, 0);
		}
		lasting = false;
		break;
	case FAULT_REKEY:
		if (node_normal(w, f->a) && core_rekey(na->core, core_peer_find(na->core, node_name(w, f->b)), node_now(w, na)) == 0) {
			trace_add(w->now, "fault", "%s: forced rekey with %s", na->name, node_name(w, f->b));
			node_kick(w, na, 0);
		}
		lasting = false;
		break;
	default:
		lasting = false;
		break;
	}
	w->fault_count[f->kind]++;
	if (lasting) {
		f->ending = true;
		world_push(w, w->now + f->dur_ms, EV_FAULT, -1, f);
	}
}

void fault_end(struct world *w, struct fault *f)
{
	struct node *na = f->a >= 0 ? &w->nodes[f->a] : NULL;

	f->ending = false;
	switch (1u << f->kind) {
	/* Episodes may overlap: the background comes back when the last is over, never in the quiet phase. */
	case FAULT_LOSS:
		if (!--w->loss_eps && !w->quiet)
			w->cond.loss = w->base_cond.loss;
		break;
	case FAULT_DELAY:
		if (!--w->delay_eps && !w->quiet)
			w->cond.delay_mean_ms = w->base_cond.delay_mean_ms;
		break;
	case FAULT_PARTITION:
		for (size_t i = 0; i < w->n_nodes; i++)
			for (size_t j = 0; j < w->n_nodes; j++)
				if (side(f, i) != side(f, j))
					cut(w, i, j, -1);
		break;
	case FAULT_ONEWAY:
		cut(w, (size_t)f->a, (size_t)f->b, -1);
		break;
	case FAULT_RESTART:
	case FAULT_REBOOT:
		na->down = false;
		na->host_up = true;
		if (na->member) {
			node_start(w, na, true);
		} else {	/* removed meanwhile: decommissioned */
			kernel_wipe(&na->k);
			na->host_up = false;
		}
		break;
	case FAULT_PAUSE:
		na->paused = false;
		node_kick(w, na, 0);
		break;
	}
	trace_add(w->now, "fault", "%s%s%s over", fault_names[f->kind], na ? " " : "", na ? na->name : "");
}
