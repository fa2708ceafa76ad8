/*
 * Planner, exclusions: the template-less ALLOW policies that let excluded traffic pass in clear
 * (meshsec/exclude.h).  Priority MS_SP_PRIORITY_EXCLUDE, ahead of the pair and node-wide
 * policies, so they win over the pair's `any -> peer` for their ports only.
 *
 * Per (port, mask) block of an entry and per family:
 * - mesh.exclude, on every node (wildcards: traffic to non-members is clear anyway):
 *   out any->any dport, in any->any sport (we are the client), in any->any dport,
 *   out any->any sport (we are the server);
 * - nodes[K].exclude, on K: in (peer or any)->any dport, out any->(peer or any) sport;
 *   on every other node J (only the peer, if named): out any->K dport, in K->any sport.
 * Member addresses are host prefixes, so these hash with the pair's policies.  Both ends of a
 * pair plan mirror images from the same inventory.
 */
#include "config.h"

#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "meshsec/exclude.h"
#include "meshsec/plan.h"

static const int families[] = { AF_INET, AF_INET6 };

enum side { SPORT, DPORT };

struct out {
	struct ms_sp *sps;	/* NULL: count only */
	size_t n;
};

/* One policy; src or dst NULL is `any` of the family. */
static void put(struct out *o, enum ms_dir dir, int family, const struct ms_addr *src, const struct ms_addr *dst,
		uint8_t proto, enum side side, const struct ms_port_block *b, size_t peer)
{
	struct ms_sp *sp;

	if (!o->sps) {
		o->n++;
		return;
	}
	sp = &o->sps[o->n++];
	*sp = (struct ms_sp){ .dir = dir, .proto = proto, .shape = MS_SP_CLEAR, .reqid = 0,
			      .priority = MS_SP_PRIORITY_EXCLUDE, .peer = peer };
	sp->src.family = sp->dst.family = family;
	if (src)
		sp->src = *src, sp->src_len = (uint8_t)(ms_addr_len(src) * 8);
	if (dst)
		sp->dst = *dst, sp->dst_len = (uint8_t)(ms_addr_len(dst) * 8);
	if (side == SPORT)
		sp->sport = b->port, sp->sport_mask = b->mask;
	else
		sp->dport = b->port, sp->dport_mask = b->mask;
}

/* The families self has a pair in (as the pair policies: both ends have an address). */
static void used_families(const struct ms_inventory *inv, size_t self, bool used[2])
{
	const struct ms_node *me = &inv->nodes[self];

	used[0] = used[1] = false;
	for (size_t p = 0; p < inv->n_nodes && !(used[0] && used[1]); p++)
		for (size_t f = 0; f < 2 && p != self; f++)
			used[f] |= ms_node_addr(me, families[f]) && ms_node_addr(&inv->nodes[p], families[f]);
}

static void mesh_wide(struct out *o, const struct ms_exclude *x, const bool used[2], size_t self)
{
	struct ms_port_block b[MS_PORT_BLOCKS_MAX];
	size_t n = ms_port_blocks(x->lo, x->hi, b);

	for (size_t f = 0; f < 2; f++)
		for (size_t i = 0; used[f] && i < n; i++) {
			put(o, MS_DIR_OUT, families[f], NULL, NULL, x->proto, DPORT, &b[i], self);
			put(o, MS_DIR_IN, families[f], NULL, NULL, x->proto, SPORT, &b[i], self);
			put(o, MS_DIR_IN, families[f], NULL, NULL, x->proto, DPORT, &b[i], self);
			put(o, MS_DIR_OUT, families[f], NULL, NULL, x->proto, SPORT, &b[i], self);
		}
}

/* An entry of self's own list: self is the server, the client is the peer or any member. */
static void as_server(struct out *o, const struct ms_inventory *inv, size_t self, const struct ms_exclude *x,
		      const bool used[2])
{
	const struct ms_node *me = &inv->nodes[self], *client = x->peer >= 0 ? &inv->nodes[x->peer] : NULL;
	struct ms_port_block b[MS_PORT_BLOCKS_MAX];
	size_t n = ms_port_blocks(x->lo, x->hi, b), peer = x->peer >= 0 ? (size_t)x->peer : self;

	for (size_t f = 0; f < 2; f++) {
		const struct ms_addr *them = client ? ms_node_addr(client, families[f]) : NULL;

		if (client ? !(them && ms_node_addr(me, families[f])) : !used[f])
			continue;
		for (size_t i = 0; i < n; i++) {
			put(o, MS_DIR_IN, families[f], them, NULL, x->proto, DPORT, &b[i], peer);
			put(o, MS_DIR_OUT, families[f], NULL, them, x->proto, SPORT, &b[i], peer);
		}
	}
}

/* An entry of server k's list that lets self in: self is the client. */
static void as_client(struct out *o, const struct ms_inventory *inv, size_t self, size_t k, const struct ms_exclude *x)
{
	const struct ms_node *me = &inv->nodes[self], *server = &inv->nodes[k];
	struct ms_port_block b[MS_PORT_BLOCKS_MAX];
	size_t n = ms_port_blocks(x->lo, x->hi, b);

	for (size_t f = 0; f < 2; f++) {
		const struct ms_addr *them = ms_node_addr(server, families[f]);

		if (!them || !ms_node_addr(me, families[f]))
			continue;
		for (size_t i = 0; i < n; i++) {
			put(o, MS_DIR_OUT, families[f], NULL, them, x->proto, DPORT, &b[i], k);
			put(o, MS_DIR_IN, families[f], them, NULL, x->proto, SPORT, &b[i], k);
		}
	}
}

size_t ms_plan_exclude(const struct ms_inventory *inv, size_t self, struct ms_sp *sps)
{
	struct out o = { sps, 0 };
	bool used[2];

	used_families(inv, self, used);
	for (size_t i = 0; i < inv->n_exclude; i++)
		mesh_wide(&o, &inv->exclude[i], used, self);
	for (size_t k = 0; k < inv->n_nodes; k++)
		for (size_t i = 0; i < inv->nodes[k].n_exclude; i++) {
			const struct ms_exclude *x = &inv->nodes[k].exclude[i];

			if (k == self)
				as_server(&o, inv, self, x, used);
			else if (x->peer < 0 || (size_t)x->peer == self)
				as_client(&o, inv, self, k, x);
		}
	return o.n;
}
