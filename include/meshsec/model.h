/*
 * The mesh model: what the inventory says, in memory.
 *
 * Built by the inventory parser, read by self-identification, the planner and the agent.
 * A model is immutable once built; a reload builds a new one and swaps it in whole.
 */
#ifndef MESHSEC_MODEL_H
#define MESHSEC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "meshsec/addr.h"

struct ms_index;
struct ms_exclude;	/* meshsec/exclude.h */

/* Names: 1 to 63 characters of [A-Za-z0-9._-], starting with a letter or digit. */
#define MS_NAME_MAX 63
#define MS_NODES_MAX 16384
#define MS_DEFAULT_PORT 4801
#define MS_DEFAULT_KEEPALIVE_S 10
#define MS_DEFAULT_DEAD_AFTER_S 30
#define MS_DEFAULT_REKEY_S 3600
#define MS_DEFAULT_REKEY_BYTES (1ull << 40)	/* 1 TiB */
#define MS_DEFAULT_REKEY_PACKETS (1ull << 30)	/* far below 2^32, and ESN is on anyway */

enum ms_cipher {
	MS_CIPHER_AES_GCM_128,
	MS_CIPHER_AES_GCM_256,
	MS_CIPHER_CHACHA20_POLY1305,
};
#define MS_DEFAULT_CIPHER MS_CIPHER_AES_GCM_256

/*
 * How a pair's traffic is protected (README, "Modes").  A pair is in prefer mode when either of
 * its nodes is, so both ends of a pair always agree from the same inventory.
 * - require: ESP or nothing; a pair that is not up drops its traffic (the default).
 * - prefer: ESP while the pair is up; before its first handshake and once the peer has been
 *   silent for dead_after_seconds, traffic passes in clear both ways.  Inbound, clear and ESP
 *   are both accepted.  An on-path attacker who blocks the handshake gets clear traffic.
 */
enum ms_mode { MS_MODE_REQUIRE = 0, MS_MODE_PREFER };

struct ms_node {
	char name[MS_NAME_MAX + 1];
	enum ms_mode mode;	/* nodes[].mode, else mesh.mode */
	/* At most one address per family: a transport-mode SA binds one address pair. */
	struct ms_addr v4, v6;	/* family == 0 when absent */
	struct ms_exclude *exclude;	/* nodes[].exclude: this node's server ports left in clear */
	size_t n_exclude;
};

struct ms_inventory {
	int version;
	char mesh_name[MS_NAME_MAX + 1];
	uint16_t port;
	enum ms_cipher cipher;
	enum ms_mode mode;		/* mesh.mode: the nodes' default */
	unsigned keepalive_s;		/* a PING when a pair has been silent this long */
	unsigned dead_after_s;		/* silence after which a peer is down (>= 2 x keepalive_s) */
	uint64_t rekey_s, rekey_bytes, rekey_packets;	/* a pair's SAs are replaced after any of these */
	struct ms_node *nodes;
	size_t n_nodes;
	/*
	 * Node indexes by name and by address (ms_addr_key), built by the parser so lookups cost
	 * the same in a mesh of 10 or 10,000 nodes.  NULL in a model built by hand: lookups then scan.
	 */
	struct ms_index *by_name, *by_addr;
	struct ms_exclude *exclude;	/* mesh.exclude: server ports left in clear on every member */
	size_t n_exclude;
};

/*
 * Kernel objects, as the planner wants them and as the kernel reports them.
 *
 * Ownership tag: every SA meshsec installs, and the template of every SP, carries a reqid in
 * [MS_REQID_MIN, MS_REQID_MAX] ("ms" in the high half).  Objects outside that range belong to
 * someone else and are never changed.  The reqid of a pair is derived from both names, so both
 * ends and every restart agree on it.
 */
#define MS_REQID_MIN 0x6d730001u
#define MS_REQID_MAX 0x6d73ffffu
#define MS_REQID_NODE 0x6d730000u	/* node-wide SPs (the neighbour-discovery bypass); part of the tag */
/* SP priority (lower wins): above the usual IKE daemon defaults so member selectors win. */
#define MS_SP_PRIORITY 1000u
/*
 * Node-wide SPs (reqid MS_REQID_NODE), ahead of the pair SPs, each with an optional template:
 * ESP if an SA is there, clear otherwise.
 * - IPv6 neighbour discovery must work before any SA exists, or a pair that only has IPv6 can
 *   never resolve the neighbour to send its first handshake: one SP per message type (ICMPv6 135
 *   solicitation, 136 advertisement) and direction.  strongSwan and Libreswan exempt them too.
 * - The in SP of a pair is `peer -> any` (so member traffic to any local address is covered),
 *   which would also catch a member's multicast and limited broadcast (VRRP, mDNS, routing
 *   protocols): no pairwise SA can carry those, so inbound multicast (224.0.0.0/4, ff00::/8)
 *   and 255.255.255.255 pass as they did before meshsec.
 */
#define MS_SP_PRIORITY_NODE (MS_SP_PRIORITY - 1)
#define MS_ICMP6_NS 135
#define MS_ICMP6_NA 136

enum ms_dir { MS_DIR_IN = 0, MS_DIR_OUT = 1 };

/* What a policy does with the traffic it matches: its template, or none. */
enum ms_sp_shape {
	MS_SP_REQUIRED = 0,	/* ESP template, required: no SA means drop, never clear (require mode) */
	MS_SP_OPTIONAL,		/* ESP template, optional: ESP when the SA is there, else clear */
	MS_SP_CLEAR,		/* no template: clear (exclusions; a prefer-mode pair that is not up) */
	MS_SP_UNKNOWN,		/* the agent's copy only: the kernel refused a change; put it right again */
};
/*
 * A policy with no template has no reqid to carry the ownership tag: meshsec's carry this value
 * in their lifetime's soft byte limit instead ("meshsec1"; the kernel enforces no byte limit on
 * a policy, and dumps report it).  A template-less policy without it is another owner's.
 */
#define MS_SP_TAG 0x6d65736873656331ull
/* Exclusions (traffic that stays clear between members) win over the pair and node-wide SPs. */
#define MS_SP_PRIORITY_EXCLUDE (MS_SP_PRIORITY - 10)

/*
 * A pair's SPs: out `any -> peer`, in `peer -> any` (the local side is a wildcard, so traffic
 * from every local source address is either ESP or dropped, never clear).
 */
struct ms_sp {
	enum ms_dir dir;
	struct ms_addr src, dst;	/* family always set; the address is zero where its length is 0 */
	uint8_t src_len, dst_len;	/* prefix lengths: 0 any, 32/128 one host */
	uint8_t icmp6_type;		/* non-zero: this ICMPv6 type only (the ND bypass) */
	uint8_t proto;			/* non-zero (with icmp6_type 0): this IP protocol only */
	uint16_t sport, sport_mask, dport, dport_mask;	/* host order; mask 0: any port */
	enum ms_sp_shape shape;
	uint32_t reqid;			/* 0 when shape is MS_SP_CLEAR (no template) */
	uint32_t priority;
	size_t peer;			/* index in the inventory (desired side only): the pair's peer, the
					 * remote end of an exclusion, else self */
};

/* A node-wide SP (optional template: lets traffic through in clear when no SA is there). */
static inline int ms_sp_is_bypass(const struct ms_sp *sp)
{
	return sp->reqid == MS_REQID_NODE;
}

/* A pair's SP (out `any -> peer`, in `peer -> any`), whatever its shape. */
static inline int ms_sp_is_pair(const struct ms_sp *sp)
{
	return sp->priority == MS_SP_PRIORITY;
}

/* An exclusion's SP (template-less, meshsec/exclude.h): neither a pair's nor a node-wide bypass. */
static inline int ms_sp_is_exclusion(const struct ms_sp *sp)
{
	return sp->priority == MS_SP_PRIORITY_EXCLUDE;
}

static inline int ms_is_our_reqid(uint32_t reqid)
{
	return reqid >= MS_REQID_NODE && reqid <= MS_REQID_MAX;
}

/* An SA as meshsec installs it (transport mode, AEAD, ESN, replay window 1024), or as a dump of
 * the kernel's tagged SAs reports it. */
struct ms_sa {
	struct ms_addr src, dst;
	uint32_t spi, reqid;
	enum ms_cipher cipher;
	const uint8_t *key;	/* ms_cipher_key_len(cipher) bytes; not copied */
	int larval;		/* the SPI came from an ALLOCSPI: fill that state (UPDSA) */
	uint64_t soft_bytes, soft_packets, soft_seconds;	/* 0: none; the kernel sends EXPIRE (soft) */
	/* Filled by dumps. */
	uint64_t bytes, packets, add_time;
	uint32_t integrity_failed, replay_errors;	/* the kernel's per-SA error counters */
};

#define MS_CIPHER_KEY_MAX 36

/* Inventory spelling of a cipher ("aes-gcm-256"). */
const char *ms_cipher_name(enum ms_cipher c);
/* Kernel AEAD algorithm name ("rfc4106(gcm(aes))"). */
const char *ms_cipher_kernel_name(enum ms_cipher c);
/* Key bytes the kernel takes, including the 4-byte salt (AES-256-GCM: 36). */
size_t ms_cipher_key_len(enum ms_cipher c);

/* "require", "prefer" */
const char *ms_mode_name(enum ms_mode m);
/* The mode of the pair of nodes a and b: prefer when either of them prefers. */
static inline enum ms_mode ms_pair_mode(const struct ms_inventory *inv, size_t a, size_t b)
{
	return inv->nodes[a].mode == MS_MODE_PREFER || inv->nodes[b].mode == MS_MODE_PREFER ? MS_MODE_PREFER : MS_MODE_REQUIRE;
}

/* Returns the node's address of that family, or NULL. */
const struct ms_addr *ms_node_addr(const struct ms_node *n, int family);

/*
 * What the inventory means, hashed: mesh settings and the nodes sorted by name, so formatting
 * and node order do not count.  Agents compare digests to spot a node with another inventory.
 */
#define MS_DIGEST_LEN 16
int ms_inventory_digest(const struct ms_inventory *inv, uint8_t out[MS_DIGEST_LEN]);

/* Index of the node named name, or -1. */
int ms_inventory_find(const struct ms_inventory *inv, const char *name);
/* Index of the node that has the address a, or -1. */
int ms_inventory_find_addr(const struct ms_inventory *inv, const struct ms_addr *a);

void ms_inventory_free(struct ms_inventory *inv);

#endif
