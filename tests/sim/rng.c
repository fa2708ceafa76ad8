/*
 * Seeded random streams (xoshiro256**, seeded by splitmix64), and libsodium's randombytes
 * replaced by one of them so the engines' ephemerals, nonces, hs_ids, challenges and jitter are
 * a function of the seed.  Not for keys that protect anything: this is a simulator.
 */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "sim.h"

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint32_t rng_below(struct rng *r, uint32_t n)
{
	/* Rejection sampling: no modulo bias, so distributions are what they say. */
	uint32_t lim;
	uint32_t x;

	if (n == 0)
		return 0;
	lim = (uint32_t)(-n) % n;
	do
		x = (uint32_t)(rng_next(r) >> 32);
	while (x < lim);
	return x % n;
}

uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi)
{
	if (hi <= lo)
		return lo;
	return lo + rng_next(r) % (hi - lo + 1);
}

double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

bool rng_chance(struct rng *r, double p)
{
	return p > 0 && rng_unit(r) < p;
}

/* libsodium's stream: one per process, reseeded per run. */
static struct rng sodium_rng;

static const char *impl_name(void)
{
	return "meshsim-seeded";
}

static uint32_t impl_random(void)
{
	return (uint32_t)(rng_next(&sodium_rng) >> 32);
}

static uint32_t impl_uniform(const uint32_t upper)
{
	return upper < 2 ? 0 : rng_below(&sodium_rng, upper);
}

static void impl_buf(void *const buf, const size_t size)
{
	uint8_t *p = buf;

	for (size_t i = 0; i < size; i += 8) {
		uint64_t x = rng_next(&sodium_rng);

		memcpy(p + i, &x, size - i < 8 ? size - i : 8);
	}
}

static randombytes_implementation impl = {
	.implementation_name = impl_name, .random = impl_random, .uniform = impl_uniform, .buf = impl_buf,
};

void sim_sodium_install(void)
{
	rng_seed(&sodium_rng, 0, 0);
	randombytes_set_implementation(&impl);
}

void sim_sodium_seed(uint64_t seed)
{
	rng_seed(&sodium_rng, seed, 0x50d1u);
}
