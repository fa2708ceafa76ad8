/*
 * The running mesh: the model, the handshake engine, the kernel and the UDP sockets, glued
 * together on the event loop.  Start reconciles the kernel with the plan; reload swaps in a
 * new inventory and applies only the difference; stop leaves kernel state in place.
 */
#ifndef MESHSEC_MESH_H
#define MESHSEC_MESH_H

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>

#include "meshsec/error.h"
#include "meshsec/ctl.h"
#include "meshsec/handshake.h"
#include "meshsec/ratelimit.h"
#include "conf.h"
#include "xfrm_events.h"
#include "xfrm_nl.h"

/* What status says of a peer (agent/CONTROL.md). */
enum peer_state {
	PEER_CONNECTING,	/* no SAs yet, handshake under way */
	PEER_UP,		/* SAs in both directions */
	PEER_DOWN,		/* no SAs and no answer to several tries; retrying with backoff */
};

struct apeer {
	bool used;
	char name[MS_NAME_MAX + 1];
	struct ms_addr v4, v6;		/* as in the inventory */
	uint32_t reqid;
	uint64_t rx, tx;		/* handshake datagrams */
	enum peer_state state;
	uint64_t since_ms;		/* in this state since */
	/* Liveness (mesh_liveness.c). */
	bool dead;			/* silent for dead_after_seconds: down until a sign of life */
	uint64_t dead_since_ms, last_ping_ms, in_packets;
	uint64_t in_errors, healed_ms;	/* inbound integrity + replay errors; last self-heal */
};

/* An SA found at start-up: kept until its peer has fresh keys, then retired. */
struct stale_sa {
	struct ms_addr dst;
	uint32_t spi, reqid;
	bool inbound;
	uint64_t deadline_ms;	/* 0: waiting for the peer's handshake */
};

struct mesh_stats {
	uint64_t rx, tx, tx_errors, rate_limited, spoofed, kernel_errors;
	uint64_t drops[HS_VERDICT_COUNT];
};

struct mesh {
	struct event_base *base;
	struct conf_paths paths;
	struct conf conf;
	struct xnl *xnl;
	struct xfrm_events *xev;	/* soft expiry of our SAs: rekey */
	struct hs_engine *hs;
	struct hs_out *out;		/* sodium_malloc: actions carry keys */
	int fd[2];			/* IPv4, IPv6; -1 when this node has no such address */
	struct event *ev[2], *tick;
	struct apeer *peers;		/* indexed by engine peer id */
	size_t cap_peers;
	struct ms_sp *sps;		/* the SPs installed for the current model */
	size_t n_sps;
	struct stale_sa *stale;
	size_t n_stale;
	struct ratelimit *rl;
	struct mesh_stats st;
	uint64_t started_ms, counters_ms;	/* start; last look at the SA counters */
	bool stopping;			/* `down` asked: no more handshakes or kernel requests */
	uint8_t digest[MS_DIGEST_LEN];	/* of the running inventory */
};

/* Takes ownership of conf.  On failure nothing is left running (kernel SPs may remain: fail closed). */
int mesh_start(struct mesh *m, struct event_base *base, struct conf *conf, const struct conf_paths *paths,
	       struct ms_error *err);
/* Re-reads the inventory (and checks the secret); on error the running mesh is unchanged. */
int mesh_reload(struct mesh *m, struct ms_error *err);
void mesh_stop(struct mesh *m);

uint64_t mesh_now_ms(void);
uint64_t mesh_wall_ns(void);
const struct apeer *mesh_find_peer(const struct mesh *m, const char *name);
/* Logs the counters and every peer's state (SIGUSR1). */
void mesh_log_stats(const struct mesh *m);

const char *peer_state_name(enum peer_state s);
/* Keepalives and dead-peer detection, from the tick (agent/CONTROL.md, "Liveness"). */
void mesh_liveness(struct mesh *m, uint64_t now_ms);
/* Re-derives every peer's state from the engine; logs and timestamps changes. */
void mesh_update_states(struct mesh *m, uint64_t now_ms);
/* Prometheus text exposition of the status numbers, plus the kernel's xfrm_stat (malloc'd). */
char *mesh_metrics_text(struct mesh *m);
/* The control socket's handler (ctl_server.h); ctx is the mesh. */
enum ms_ctl_result mesh_ctl_handle(void *ctx, const struct ms_ctl_req *req, json_t *resp, char **body);

#endif
