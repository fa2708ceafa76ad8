/* The node core's state, shared by core.c and core_liveness.c only (see meshsec/core.h). */
#ifndef MESHSEC_CORE_INTERNAL_H
#define MESHSEC_CORE_INTERNAL_H

#include "meshsec/core.h"

/* An SA found at start: kept until its pair has fresh keys, then retired after the grace. */
struct core_stale {
	struct ms_addr dst;
	uint32_t spi;
	int peer;
	bool inbound;
	uint64_t deadline_ms;	/* 0: waiting for the pair's handshake */
};

struct core {
	const struct core_ops *ops;
	void *ctx;
	struct hs_engine *hs;
	struct hs_out *out;		/* sodium_malloc: actions carry keys */
	char self[MS_NAME_MAX + 1];
	struct ms_addr self4, self6;
	enum ms_cipher cipher;
	unsigned keepalive_s, dead_after_s;
	uint64_t rekey_s, rekey_bytes, rekey_packets;
	struct core_peer *peers;	/* indexed by engine peer id */
	size_t cap;
	struct ms_index *by_addr;	/* a peer's inventory addresses -> its id */
	struct core_stale *stale;
	size_t n_stale;
	uint64_t counters_ms;		/* last look at the SA counters */
	/* SA adds the kernel refused in the current core_run (core_sa_refused): not ours to delete. */
	struct core_refused {
		struct ms_addr dst;
		uint32_t spi;
		bool larval;
	} refused[HS_MAX_ACTIONS];
	size_t n_refused;
	int refused_errno;		/* the last refusal's, for the reason of the peers it fails */
	char refused_ext[128];
	unsigned port;			/* the handshake port, named in reasons */
	uint8_t digest[MS_DIGEST_LEN];
	struct core_stats st;
};

void core_logf(struct core *c, enum core_log level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
const struct ms_addr *core_self_addr(const struct core *c, int family);
/* Carries c->out out in order (see core.c); then wipes it. */
void core_run(struct core *c, uint64_t now_ms);
/* Hands one event to the shell, if it wants events. */
void core_emit(struct core *c, enum core_event_type type, int id, const struct core_why *why, const char *detail);
/* After a peer's state was updated: logs and emits a change of its reason, once. */
void core_reason_update(struct core *c, int id, enum peer_state before, uint64_t now_ms);
/* Liveness: counters, keepalives, dead peers, self-healing, rekey by age; then peer states. */
uint64_t core_liveness(struct core *c, uint64_t now_ms);

#endif
