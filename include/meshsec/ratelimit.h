/*
 * Per-source token buckets for incoming handshake datagrams: a flood from one address costs
 * a hash lookup, not a MAC check each.  Fixed memory; an evicted source simply starts full.
 */
#ifndef MESHSEC_RATELIMIT_H
#define MESHSEC_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "meshsec/addr.h"

#define RL_SLOTS 1024
#define RL_RATE_PER_S 20	/* sustained datagrams per second per source */
#define RL_BURST 40

struct rl_slot {
	struct ms_addr src;
	uint32_t tokens_milli;	/* tokens x 1000 */
	uint64_t last_ms;
};

struct ratelimit {
	struct rl_slot slot[RL_SLOTS];
};

/* True if a datagram from src at now_ms may be processed. */
bool rl_allow(struct ratelimit *rl, const struct ms_addr *src, uint64_t now_ms);

#endif
