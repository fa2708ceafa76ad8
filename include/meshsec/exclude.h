/*
 * Exclusions: traffic between members that stays in clear, by protocol and server port.
 *
 *   "mesh":  { ..., "exclude": [ { "proto": "tcp", "port": 443 } ] }
 *   "nodes": [ { ..., "exclude": [ { "proto": "udp", "port": "8000-8100", "peer": "c" } ] } ]
 *
 * An entry names a SERVER port.  In mesh.exclude: connections to that port on any member, and
 * their replies.  In nodes[K].exclude: connections to that port on K only, from every other
 * member or only from "peer", and their replies.  Ranges may not touch the Linux default
 * ephemeral range (32768-60999): a policy matching a source port there would also pass the
 * client connections that happen to use it.
 *
 * Parsed by common/exclude.c (called from the inventory parser), planned by plan_exclude.c.
 */
#ifndef MESHSEC_EXCLUDE_H
#define MESHSEC_EXCLUDE_H

#include <jansson.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "meshsec/error.h"
#include "meshsec/model.h"

#define MS_EXCLUDE_MAX 64		/* entries per list (mesh.exclude, each nodes[].exclude) */
#define MS_EPHEMERAL_MIN 32768		/* Linux's default net.ipv4.ip_local_port_range */
#define MS_EPHEMERAL_MAX 60999
#define MS_PORT_BLOCKS_MAX 30		/* (port, mask) blocks of the worst 16-bit range */

struct ms_exclude {
	uint8_t proto;			/* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_SCTP */
	uint16_t lo, hi;		/* the server port range, host order, 1 <= lo <= hi <= 65535 */
	char peer_name[MS_NAME_MAX + 1];	/* nodes[].exclude only: the one client node, or "" */
	int peer;			/* index of peer_name in the inventory, -1 when "" */
};

/* One (port, mask) selector block; mask 0xffff is one port. */
struct ms_port_block {
	uint16_t port, mask;
};

/*
 * The "exclude" list of the mesh (node_path NULL) or of the node at node_path ("nodes[3]",
 * named self_name).  list may be NULL (no key): *out NULL, *n 0.  Each entry is checked alone
 * and against the earlier ones of the same list; errors name src and the JSON path.  *out is
 * malloc'd and set only on success.
 */
int ms_exclude_parse(const char *src, const char *node_path, const char *self_name, const json_t *list,
		     struct ms_exclude **out, size_t *n, struct ms_error *err);

/* After every node is read: resolves each peer name, and checks node lists against mesh.exclude. */
int ms_exclude_resolve(const char *src, struct ms_inventory *inv, struct ms_error *err);

/* Exact cover of [lo, hi] by aligned power-of-two blocks, lowest first; returns their count. */
size_t ms_port_blocks(uint16_t lo, uint16_t hi, struct ms_port_block out[MS_PORT_BLOCKS_MAX]);

/* "tcp", "udp", "sctp" */
const char *ms_exclude_proto_name(uint8_t proto);
/* "tcp/443", "udp/8000-8100" */
const char *ms_exclude_ports(const struct ms_exclude *x, char *buf, size_t len);

/* An exclusion that applies to one node, with where it comes from. */
struct ms_exclude_ref {
	const struct ms_exclude *x;
	int owner;			/* the node whose list has it, or -1 for mesh.exclude */
	size_t blocks;			/* its (port, mask) blocks */
};
/*
 * The exclusions that apply to node self: mesh.exclude, its own list, and the entries of other
 * nodes that name no peer or name self.  *out is malloc'd (NULL when *n is 0).
 */
int ms_exclude_for_node(const struct ms_inventory *inv, size_t self, struct ms_exclude_ref **out, size_t *n);
/* "tcp/443 (mesh)", "udp/8000-8100 on b from c", "tcp/8080 on b" */
#define MS_EXCLUDE_STRLEN (MS_NAME_MAX * 2 + 48)
const char *ms_exclude_describe(const struct ms_inventory *inv, const struct ms_exclude_ref *r, char *buf, size_t len);

/* Feeds a list to the inventory digest (nothing when it is empty, so digests without any stay as they were). */
void ms_exclude_digest(crypto_generichash_state *st, const struct ms_exclude *x, size_t n);

/*
 * The policies the exclusions need on node self (plan_exclude.c): with sps NULL, only counts
 * them; else writes them at sps.  Returns the count.
 */
size_t ms_plan_exclude(const struct ms_inventory *inv, size_t self, struct ms_sp *sps);

#endif
