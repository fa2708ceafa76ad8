/* Shared by probe.c (answerer) and probe_run.c (requester) only. */
#ifndef MESHSEC_PROBE_INTERNAL_H
#define MESHSEC_PROBE_INTERNAL_H

#include "meshsec/kdf.h"
#include "meshsec/probe.h"

struct probe_seen {
	uint64_t id, seen;	/* a run, and which of its probes arrived */
};

/* Per peer, in guarded memory (it holds the MAC key). */
struct probe_slot {
	bool used;
	char name[MS_NAME_MAX + 1];
	uint8_t mac_key[MS_KEY_LEN];
	/* answerer: probes must echo my_chal (or chal_prev); requester: ours echo peer_chal */
	uint8_t my_chal[MS_CHAL_LEN], chal_prev[MS_CHAL_LEN], peer_chal[MS_CHAL_LEN];
	uint64_t fresh_ms;		/* when my_chal was drawn */
	struct probe_seen runs[MS_PROBE_RUNS];
	unsigned n_runs;
	uint32_t tokens_milli;
	uint64_t tokens_ms, stale_ms;
	bool stale_answered;
	uint64_t counts[MS_PROBE_VERDICT_COUNT];
};

struct ms_probe_node {
	char mesh[MS_NAME_MAX + 1], self[MS_NAME_MAX + 1];
	uint8_t secret[32];
	struct probe_slot *slots;	/* by the shell's peer id */
	size_t cap;
};

struct probe_slot *probe_slot(struct ms_probe_node *n, int peer, const char *name);

/* A PROBE's MAC chains to no earlier message: prev is this (32 zero bytes). */
extern const uint8_t probe_zero_mac[MS_WIRE_MAC_LEN];

#endif
