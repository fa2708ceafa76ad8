/*
 * The handshake engine, sans I/O (common/PROTOCOL.md, "State machine").
 *
 * Bytes and monotonic time go in; bytes to send and kernel actions come out.  The engine never
 * touches a socket, the kernel or the wall clock: the caller carries out the actions in order,
 * and unit tests and the simulator (tests/sim/) run engines against each other under faults.
 *
 * Per peer: INIT -> RESP -> CONFIRM.  The responder installs its inbound SAs before RESP
 * announces their SPIs; the initiator installs its inbound, then its outbound (the RESP proved
 * the responder's inbound exists), then sends CONFIRM; the responder installs its outbound on
 * CONFIRM.  An INIT is fresh only if it echoes the responder's current one-time challenge; one
 * that does not is answered with a CHALLENGE and nothing else.  Every retransmission of an INIT
 * is a new INIT (new ephemeral, nonce and hs_id), so a retry can never go stale.
 */
#ifndef MESHSEC_HANDSHAKE_H
#define MESHSEC_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshsec/kdf.h"
#include "meshsec/model.h"
#include "meshsec/wire.h"

#define HS_MAX_ACTIONS 16
#define HS_FAM_V4 1u
#define HS_FAM_V6 2u

/* Timing (ms).  The agent's defaults; tests use the same. */
#define HS_RETX_FIRST_MS 500u
#define HS_RETX_MAX_MS 30000u
#define HS_RESP_TRIES 6u		/* responder gives up an unconfirmed handshake after this */
#define HS_OLD_INBOUND_GRACE_MS 10000u	/* old inbound SAs outlive a new handshake this long */
#define HS_OLD_OUTBOUND_GRACE_MS 1000u	/* old outbound SAs too: packets already past the policy */
/* PONGs per peer: a burst, then a rate (a member that floods PINGs gets no more). */
#define HS_PONG_BURST 20u
#define HS_PONG_PER_S 10u
/* A message answering a duplicate (a RESP again, a CONFIRM again) at most this often per peer. */
#define HS_RESEND_GAP_MS 250u
/* A challenge serves this long, then the previous one as long again: an INIT withheld from its
 * responder is fresh two lifetimes at most. */
#define HS_CHAL_LIFETIME_MS 60000u

enum hs_act_type {
	HS_ACT_SEND,	/* send buf[0..len) to the peer's agent */
	HS_ACT_SA_ADD,	/* install an SA: dir, family, spi, key */
	HS_ACT_SA_DEL,	/* delete an SA we installed: dir, family, spi */
	HS_ACT_UP,	/* the pair is established with fresh keys (for logs and status) */
};

struct hs_action {
	enum hs_act_type type;
	int peer;
	enum ms_dir dir;
	int family;		/* AF_INET or AF_INET6 */
	uint32_t spi;
	size_t key_len;
	uint8_t key[MS_TRAFFIC_KEY_MAX];
	size_t len;
	uint8_t buf[MS_WIRE_MAX];
};

/* Filled by each call; contains keys: keep it in sodium_malloc memory and wipe it after use. */
struct hs_out {
	size_t n;
	struct hs_action act[HS_MAX_ACTIONS];
};

/* Why an input was dropped (counters for status and tests). */
enum hs_verdict {
	HS_ACCEPTED = 0,
	HS_DROP_MALFORMED,	/* framing: see the wire status */
	HS_DROP_NOT_FOR_US,	/* receiver is not this node */
	HS_DROP_UNKNOWN_PEER,
	HS_DROP_BAD_MAC,	/* wrong secret, wrong mesh, forged, or not matching our handshake */
	HS_DROP_REPLAY,		/* a keepalive not newer than the last accepted one */
	HS_DROP_UNEXPECTED,	/* valid but not for the current state (late or duplicate) */
	HS_DROP_SIMULTANEOUS,	/* peer's INIT while ours, which wins, is outstanding */
	HS_DROP_FAILED,		/* DH or SPI allocation failed */
	HS_DROP_CHALLENGED,	/* an INIT without our current challenge: answered with a CHALLENGE */
	HS_DROP_RATE_LIMITED,	/* an authentic PING over the peer's PONG budget */
	HS_DROP_SPOOFED,	/* the source address is not the claimed sender's (counted by the caller) */
	HS_VERDICT_COUNT
};
const char *hs_verdict_name(enum hs_verdict v);

/* Asks the shell for an unused inbound SPI (the kernel's ALLOCSPI); 0 on success. */
typedef int (*hs_alloc_spi_fn)(void *ctx, int peer, int family, uint32_t *spi);

struct hs_engine;

struct hs_engine *hs_engine_new(const char *mesh, const char *self, enum ms_cipher cipher,
				const uint8_t secret[32], hs_alloc_spi_fn alloc_spi, void *ctx);
void hs_engine_free(struct hs_engine *e);

/* Adds a peer (families: HS_FAM_* both ends have); returns its id (>= 0) or -errno. */
int hs_peer_add(struct hs_engine *e, const char *name, unsigned families);
/* Forgets a peer; emits SA_DEL for every SA the engine installed for it. */
void hs_peer_remove(struct hs_engine *e, int peer, struct hs_out *out);
/*
 * The shell could not install what the last actions for this peer asked (the kernel refused an
 * SA): every SA of the peer is deleted, the pair goes idle, and the engine starts a new
 * handshake itself once a backoff has passed, so a persistent kernel error does not spin.
 */
void hs_peer_fail(struct hs_engine *e, int peer, uint64_t now_ms, struct hs_out *out);
int hs_peer_find(const struct hs_engine *e, const char *name);

/*
 * Starts a handshake.  Without force, one already under way (ours or the peer's) is left to
 * finish and -EALREADY returned, and a pair in its backoff after a local failure returns
 * -EAGAIN.  With force, whatever is under way is abandoned (its pending SAs deleted) and a new
 * one starts at once.  0: a new INIT is in out.
 */
int hs_initiate(struct hs_engine *e, int peer, uint64_t now_ms, bool force, struct hs_out *out);

/*
 * Receiving is split so the caller can check the source address between the two steps:
 * hs_classify reads framing and names only (no MAC, no state) and says which peer the datagram
 * claims to come from; hs_input checks the MAC and runs the state machine.
 */
enum hs_verdict hs_classify(struct hs_engine *e, const uint8_t *buf, size_t len, int *peer_out);
enum hs_verdict hs_input(struct hs_engine *e, int peer, const uint8_t *buf, size_t len, uint64_t now_ms,
			 struct hs_out *out);
/* Both steps, for callers that have no source address to check (tests). */
enum hs_verdict hs_receive(struct hs_engine *e, const uint8_t *buf, size_t len, uint64_t now_ms,
			   struct hs_out *out, int *peer_out);
/* Counts a drop the caller decided (HS_DROP_SPOOFED) against the peer, or the engine if peer < 0. */
void hs_count_drop(struct hs_engine *e, int peer, enum hs_verdict v);

/*
 * Liveness (common/PROTOCOL.md, "Keepalives").  hs_ping sends a PING bound to the pair's current
 * session (false when the pair has none); its PONG gives the RTT.  Every authentic, fresh
 * message records the peer as seen; hs_peer_seen records other evidence (the shell saw the
 * peer's ESP counters move).  The digest goes out in every PING and PONG.
 */
void hs_set_digest(struct hs_engine *e, const uint8_t digest[MS_DIGEST_LEN]);
bool hs_ping(struct hs_engine *e, int peer, uint64_t now_ms, struct hs_out *out);
void hs_peer_seen(struct hs_engine *e, int peer, uint64_t now_ms);

/*
 * Retransmissions, retries after a local failure and grace expiries due at now; returns the
 * next deadline (UINT64_MAX: none).  When out fills up it returns now: run the actions and call
 * again.
 */
uint64_t hs_tick(struct hs_engine *e, uint64_t now_ms, struct hs_out *out);

/* Read-only view of a peer, for status. */
enum hs_state { HS_IDLE, HS_INIT_SENT, HS_RESP_SENT, HS_ESTABLISHED };
struct hs_peer_info {
	const char *name;
	enum hs_state state;		/* of the handshake machine */
	bool established;		/* SAs in both directions exist */
	uint32_t in_spi[2], out_spi[2];
	uint32_t old_in[2], old_out[2];	/* the previous generation, in its grace */
	uint64_t established_ms;	/* when the current SAs were made */
	uint64_t session;		/* hs_id of the handshake that made them */
	uint64_t handshakes;		/* completed */
	unsigned tries;			/* retransmissions of the handshake under way */
	uint64_t retry_ms;		/* after a local failure: no new handshake before this */
	uint64_t last_seen_ms;		/* last authentic, fresh message from the peer (or hs_peer_seen) */
	uint64_t rtt_us;		/* of the last answered keepalive; 0: none yet */
	bool ping_outstanding;
	bool have_digest;		/* the peer told us its inventory digest */
	uint8_t peer_digest[MS_DIGEST_LEN];
	uint64_t drops[HS_VERDICT_COUNT];
};
void hs_peer_info(const struct hs_engine *e, int peer, struct hs_peer_info *info);
const char *hs_state_name(enum hs_state s);
/* Whether an ephemeral private key or pending traffic keys remain (forward-secrecy tests). */
bool hs_peer_holds_secrets(const struct hs_engine *e, int peer);
/* Drops not attributable to a known peer (framing, unknown sender, wrong receiver). */
const uint64_t *hs_engine_drops(const struct hs_engine *e);

#endif
