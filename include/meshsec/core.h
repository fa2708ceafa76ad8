/*
 * One node of the mesh, sans I/O: the handshake engine and every decision taken around it.
 *
 * Which peers exist (start, reload), which datagrams are worth a MAC, carrying the engine's
 * actions out in a safe order (kernel requests committed before the message announcing them),
 * retries, liveness and keepalives, self-healing, rekeys, and the SAs found from before a restart
 * (kept until fresh keys replace them).  The shell supplies the kernel and the network through
 * core_ops and decides nothing: agent/ does it with netlink and UDP sockets, tests/sim/ with a
 * simulated kernel and network, so the simulator runs exactly the agent's logic.
 *
 * Peers are identified by name, and their kernel objects by address pair and SPI: the reqid is
 * only the ownership tag and the template binding (two pairs may share one).
 */
#ifndef MESHSEC_CORE_H
#define MESHSEC_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "meshsec/handshake.h"
#include "meshsec/model.h"

enum core_log { CORE_LOG_ERROR, CORE_LOG_WARN, CORE_LOG_INFO, CORE_LOG_DEBUG };

/*
 * Why a peer is not up (core_reason.c; agent/CONTROL.md, "Reasons"), derived from what the core
 * observed of that peer: the last time each kind of evidence was seen.
 */
enum core_reason {
	CORE_REASON_NONE,		/* up */
	CORE_REASON_HANDSHAKING,	/* first tries under way, nothing wrong seen yet */
	CORE_REASON_NO_ANSWER,		/* nothing at all from it */
	CORE_REASON_AUTH_FAILED,	/* its datagrams fail the MAC: secret or mesh name differs */
	CORE_REASON_KERNEL_REFUSED,	/* the kernel refused the pair's SAs */
	CORE_REASON_POLICY_CONFLICT,	/* another owner's policy holds one of its selectors */
	CORE_REASON_REPLAY,		/* its messages are not newer than ones already accepted */
	CORE_REASON_RATE_LIMITED,	/* its keepalives come over the budget */
	CORE_REASON_NO_HANDSHAKE,	/* it answers, authentically, but no handshake completes */
	CORE_REASON_SEND_FAILED,	/* this node's kernel refuses to send to it (route, neighbour table) */
	CORE_REASON_ESP_BLOCKED,	/* up, but ESP failed its check (the shell's, meshsec/espcheck.h) */
	CORE_REASON_COUNT
};
const char *core_reason_code(enum core_reason r);

struct core_why {
	enum core_reason code;
	char message[256];	/* the cause, one sentence */
	char fix[256];		/* what to do, naming commands that exist */
};

/* What happened, for `meshsec events` (the shell stamps the time). */
enum core_event_type {
	CORE_EV_HANDSHAKE,	/* fresh keys where the pair had none (first, or after down) */
	CORE_EV_REKEY,		/* fresh keys replacing current ones */
	CORE_EV_UP,		/* up again after being down */
	CORE_EV_DOWN,		/* why: the reason */
	CORE_EV_REASON,		/* not up, and the reason changed */
	CORE_EV_SELF_HEAL,	/* detail: what made the pair re-handshake */
	CORE_EV_COUNT
};
const char *core_event_name(enum core_event_type t);

struct core_event {
	enum core_event_type type;
	const char *peer;
	const struct core_why *why;	/* DOWN, REASON */
	const char *detail;		/* SELF_HEAL; NULL otherwise */
	uint64_t handshakes;		/* HANDSHAKE, REKEY: completed with the peer so far */
};

struct core_ops {
	/* The kernel picks and reserves an unused inbound SPI for src -> dst; 0 or -errno. */
	int (*alloc_spi)(void *ctx, const struct ms_addr *src, const struct ms_addr *dst, uint32_t reqid,
			 uint32_t *spi);
	/* Queued until commit. */
	void (*sa_add)(void *ctx, const struct ms_sa *sa);
	void (*sa_del)(void *ctx, const struct ms_addr *dst, uint32_t spi);
	/*
	 * Carries out what was queued; returns how many requests failed (0: all done).  For each SA
	 * add the kernel refused, the shell calls core_sa_refused before returning.
	 */
	int (*commit)(void *ctx);
	/* One datagram to a peer's agent; 0 or -errno. */
	int (*send)(void *ctx, const struct ms_addr *to, const uint8_t *buf, size_t len);
	/* The kernel's tagged SAs with their counters (malloc'd array); 0 or -errno. */
	int (*dump_sas)(void *ctx, struct ms_sa **sas, size_t *n);
	void (*log)(void *ctx, enum core_log level, const char *fmt, va_list ap);
	/* Optional (NULL: none): one event, during the call that caused it. */
	void (*event)(void *ctx, const struct core_event *ev);
};

/* What status says of a peer (agent/CONTROL.md). */
enum peer_state {
	PEER_CONNECTING,	/* no SAs yet, handshake under way */
	PEER_UP,		/* SAs in both directions */
	PEER_DOWN,		/* no answer to several tries, or silent for dead_after_seconds */
};
const char *peer_state_name(enum peer_state s);

struct core_peer {
	bool used;
	char name[MS_NAME_MAX + 1];
	struct ms_addr v4, v6;		/* as in the inventory; family 0 when absent */
	uint32_t reqid;
	uint64_t rx, tx;		/* handshake datagrams */
	enum peer_state state;
	uint64_t since_ms;		/* in this state since */
	/* Liveness (core_liveness.c). */
	bool dead;			/* silent for dead_after_seconds: down until a sign of life */
	uint64_t dead_since_ms, last_ping_ms, in_packets;
	uint32_t counted_spi[2];	/* the inbound SAs in_packets was read from */
	uint64_t in_errors, healed_ms;	/* inbound integrity + replay errors; last self-heal */
	/* Evidence for the reason (core_reason.c): when each was last seen, 0 for never. */
	uint64_t heard_ms;		/* an authentic datagram from it (its MAC verified) */
	uint64_t bad_mac_ms, replay_ms, rate_ms, refused_ms;
	unsigned bad_macs;		/* failed MACs since the last authentic datagram */
	int refused_errno;
	char refused_ext[128];		/* the kernel's extended-ack text, "" if none */
	int send_errno;			/* why the last send to it failed; 0 when it went out */
	bool conflict;			/* the shell says a foreign policy holds one of its selectors */
	bool adopted_out;		/* an outbound SA from before the start is kept until fresh keys */
	enum core_reason reason;	/* the last one logged */
	uint64_t reason_ms;		/* since when */
};

struct core_stats {
	uint64_t rx, tx, tx_errors, kernel_errors;
	uint64_t drops[HS_VERDICT_COUNT];
};

struct core;

/*
 * A node named inv->nodes[self], with a peer for every other node it shares an address family
 * with.  Nothing is sent or installed until core_start.  NULL: out of memory.
 */
struct core *core_new(const struct ms_inventory *inv, size_t self, const uint8_t secret[32],
		      const struct core_ops *ops, void *ctx);
void core_free(struct core *c);

/*
 * The kernel refused an SA add queued by this core (called by the shell from within commit).
 * An outbound add that failed made nothing of ours, and (dst, spi) may be another owner's SA (a
 * peer can announce any SPI): it is never deleted afterwards.  A refused fill of our own larval
 * state leaves that state ours, deleted as usual.  error is the positive errno, ext the kernel's
 * extended-ack text (NULL or "" if none): both go into the peer's reason.
 */
void core_sa_refused(struct core *c, const struct ms_addr *dst, uint32_t spi, bool larval, int error,
		     const char *ext);

/*
 * The tagged SAs found in the kernel at start: those of a current pair are kept until the pair
 * has fresh keys (then retired after the usual grace), the others deleted.  Call before core_start.
 */
void core_adopt(struct core *c, const struct ms_sa *sas, size_t n);
/* Starts a handshake with every peer. */
void core_start(struct core *c, uint64_t now_ms);

/* One datagram from src. */
enum hs_verdict core_input(struct core *c, const struct ms_addr *src, const uint8_t *buf, size_t len,
			   uint64_t now_ms);
/* Timers: retransmissions, retries, grace expiries, liveness.  Returns the next deadline. */
uint64_t core_tick(struct core *c, uint64_t now_ms);

/*
 * A new inventory (already validated, same mesh name, port, cipher and own entry): peers that
 * left or whose addresses changed are removed with their SAs, new ones added and started.
 * Pairs that did not change are not touched.  Counts go to *added and *removed.
 */
int core_reload(struct core *c, const struct ms_inventory *inv, size_t self, uint64_t now_ms,
		size_t *added, size_t *removed);
void core_set_digest(struct core *c, const uint8_t digest[MS_DIGEST_LEN]);

/* The kernel says an SA reached a soft limit: if it is a current one, its pair rekeys. */
void core_expire(struct core *c, const struct ms_addr *src, const struct ms_addr *dst, uint32_t spi,
		 uint64_t now_ms);
/* A new handshake with peer id now, whatever is under way (meshsec rekey); 0 or -errno. */
int core_rekey(struct core *c, int id, uint64_t now_ms);

/* Peers are ids 0 .. core_peer_slots() - 1; unused slots have used == false. */
size_t core_peer_slots(const struct core *c);
const struct core_peer *core_peer(const struct core *c, int id);
int core_peer_find(const struct core *c, const char *name);
void core_peer_info(const struct core *c, int id, struct hs_peer_info *info);
const struct core_stats *core_stats(const struct core *c);
/* Why peer id is not up (code CORE_REASON_NONE when it is). */
void core_peer_why(const struct core *c, int id, uint64_t now_ms, struct core_why *w);
/* The shell found (or no longer finds) a foreign policy holding one of the peer's selectors. */
void core_peer_conflict(struct core *c, int id, bool conflict);
const uint8_t *core_digest(const struct core *c);
/* Adopted SAs still waiting for their pair's fresh keys or their grace. */
size_t core_stale_count(const struct core *c);

/* The tagged SAs sorted for core_sa_find (by SPI, then destination). */
void core_sort_sas(struct ms_sa *sas, size_t n);
const struct ms_sa *core_sa_find(const struct ms_sa *sas, size_t n, const struct ms_addr *dst, uint32_t spi);

#endif
