/* The handshake engine's state, shared by handshake.c and handshake_keepalive.c only. */
#ifndef MESHSEC_HANDSHAKE_INTERNAL_H
#define MESHSEC_HANDSHAKE_INTERNAL_H

#include "meshsec/handshake.h"

struct hs_secret {
	uint8_t pair_key[MS_KEY_LEN], mac_key[MS_KEY_LEN], eph_sk[32];
	uint8_t pend_out[2][MS_TRAFFIC_KEY_MAX];	/* responder's outbound keys until CONFIRM */
};

struct hs_peer {
	bool used;
	char name[MS_NAME_MAX + 1];
	unsigned fams;
	enum hs_state st;
	/* Freshness without wall clocks: the peer's next INIT must echo my_chal (or, within its
	 * lifetime, chal_prev), each usable once; ours echo peer_chal, the newest challenge heard
	 * in an authentic, fresh message from it (zeros: none yet). */
	uint8_t my_chal[MS_CHAL_LEN], chal_prev[MS_CHAL_LEN], peer_chal[MS_CHAL_LEN];
	uint64_t chal_ms;			/* when my_chal was drawn */
	uint64_t resent_ms;			/* last answer to a duplicate */
	/* The handshake under way (or the last one, for answering duplicates). */
	uint64_t hs_id;
	uint8_t eph_i[MS_EPH_LEN], eph_r[MS_EPH_LEN], nonce_i[MS_NONCE_LEN], nonce_r[MS_NONCE_LEN];
	uint8_t init_mac[MS_WIRE_MAC_LEN], resp_mac[MS_WIRE_MAC_LEN];
	uint32_t pend_in[2];
	uint8_t sent[MS_WIRE_MAX];
	size_t sent_len;
	unsigned tries;
	uint64_t next_ms;
	/* The SAs in use. */
	bool up, up_initiator;
	uint64_t up_hs_id, up_ms;
	uint32_t in_spi[2], out_spi[2];
	uint32_t old_in[2], old_out[2];		/* the previous generation, in its grace */
	uint64_t retired_ms;			/* when it was replaced */
	/* Liveness (keepalives), numbered within the session (up_hs_id). */
	uint64_t ping_seq, ping_sent_ms;	/* the PING awaiting its PONG (ping_seq 0: none) */
	uint64_t ping_tx_seq, ping_rx_seq;	/* last sent; newest accepted from the peer */
	uint8_t ping_mac[MS_WIRE_MAC_LEN];
	uint64_t last_seen_ms, rtt_us;
	uint8_t peer_digest[MS_DIGEST_LEN];
	bool have_digest;
	unsigned fail_tries;		/* local failures in a row (kernel refused our SAs) */
	uint64_t retry_ms;		/* no new handshake of ours before this */
	uint32_t tokens_milli;		/* PONG budget (HS_PONG_*) */
	uint64_t tokens_ms;
	uint64_t handshakes, drops[HS_VERDICT_COUNT];
};

struct hs_engine {
	char mesh[MS_NAME_MAX + 1], self[MS_NAME_MAX + 1];
	enum ms_cipher cipher;
	size_t key_len;
	uint8_t *secret;
	hs_alloc_spi_fn alloc_spi;
	void *ctx;
	struct hs_peer *peers;
	struct hs_secret *sec;
	struct ms_index *by_name;	/* peer name -> id: a datagram's sender found in O(1) */
	size_t n, cap;
	uint8_t digest[MS_DIGEST_LEN];		/* our inventory's, sent in keepalives */
	uint64_t drops[HS_VERDICT_COUNT];
};

/* A handshake's intermediate secrets: on the stack only while one message is handled. */
struct hs_temp {
	uint8_t dh[32];
	uint8_t i2r[2][MS_TRAFFIC_KEY_MAX], r2i[2][MS_TRAFFIC_KEY_MAX];
};

/* An empty message of type t from this node to the peer, carrying our current challenge. */
void hs_msg_init(const struct hs_engine *e, const struct hs_peer *p, struct ms_msg *m, enum ms_msg_type t);
void hs_emit_send(struct hs_out *out, int peer, const uint8_t *buf, size_t len);
/* Ages the challenge lazily (see handshake.c). */
void hs_refresh_chal(struct hs_peer *p, uint64_t now_ms);
/* Keepalive messages whose MAC verified (handshake_keepalive.c). */
enum hs_verdict hs_on_ping(struct hs_engine *e, int id, const struct ms_msg *m, const uint8_t *buf, size_t len,
			   uint64_t now_ms, struct hs_out *out);
enum hs_verdict hs_on_pong(struct hs_engine *e, int id, const struct ms_msg *m, uint64_t now_ms);

#endif
