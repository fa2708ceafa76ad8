/* Token-bucket rate limiting per source address (see ratelimit.h). */
#include "config.h"

#include <string.h>

#include "meshsec/ratelimit.h"

static uint32_t slot_of(const struct ms_addr *a)
{
	uint32_t h = 2166136261u;	/* FNV-1a: sources are not secret, collisions only share a bucket */

	for (size_t i = 0; i < ms_addr_len(a); i++)
		h = (h ^ a->u.raw[i]) * 16777619u;
	return h % RL_SLOTS;
}

bool rl_allow(struct ratelimit *rl, const struct ms_addr *src, uint64_t now_ms)
{
	struct rl_slot *s = &rl->slot[slot_of(src)];
	uint64_t refill;

	if (!ms_addr_equal(&s->src, src)) {
		s->src = *src;
		s->tokens_milli = RL_BURST * 1000;
		s->last_ms = now_ms;
	}
	refill = (now_ms - s->last_ms) * RL_RATE_PER_S;	/* ms x tokens/s = milli-tokens */
	s->last_ms = now_ms;
	s->tokens_milli = refill + s->tokens_milli > RL_BURST * 1000 ? RL_BURST * 1000 : (uint32_t)(s->tokens_milli + refill);
	if (s->tokens_milli < 1000)
		return false;
	s->tokens_milli -= 1000;
	return true;
}
