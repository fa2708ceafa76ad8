/*
 * Keepalives (common/PROTOCOL.md, "Keepalives"): a PING bound to the pair's session, a PONG
 * chained to it, the RTT and the peer's inventory digest; PONGs are the one reply a member can
 * ask for at will, so they have a budget per peer.
 */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "handshake_internal.h"

static const uint8_t zero[MS_WIRE_MAC_LEN];

/* One PONG of the peer's budget (a token bucket): false when it is spent. */
static bool budget(struct hs_peer *p, uint64_t now_ms)
{
	uint64_t t = p->tokens_milli + (now_ms - p->tokens_ms) * HS_PONG_PER_S;	/* ms x 1/s = milli */

	p->tokens_ms = now_ms;
	p->tokens_milli = t > HS_PONG_BURST * 1000 ? HS_PONG_BURST * 1000 : (uint32_t)t;
	if (p->tokens_milli < 1000)
		return false;
	p->tokens_milli -= 1000;
	return true;
}

void hs_set_digest(struct hs_engine *e, const uint8_t digest[MS_DIGEST_LEN])
{
	memcpy(e->digest, digest, MS_DIGEST_LEN);
}

bool hs_ping(struct hs_engine *e, int id, uint64_t now_ms, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];
	struct ms_msg m;
	uint8_t buf[MS_WIRE_MAX];
	size_t len;

	if (!p->up)
		return false;
	hs_refresh_chal(p, now_ms);
	hs_msg_init(e, p, &m, MS_MSG_PING);
	m.hs_id = p->up_hs_id;
	m.seq = p->ping_seq = ++p->ping_tx_seq;
	memcpy(m.digest, e->digest, MS_DIGEST_LEN);
	len = ms_wire_encode(&m, e->sec[id].mac_key, zero, buf);
	memcpy(p->ping_mac, ms_wire_mac(buf, len), MS_WIRE_MAC_LEN);
	p->ping_sent_ms = now_ms;
	hs_emit_send(out, id, buf, len);
	return true;
}

void hs_peer_seen(struct hs_engine *e, int id, uint64_t now_ms)
{
	e->peers[id].last_seen_ms = now_ms;
}

/* A PING of our current session, newer than the last one: answered with a chained PONG. */
enum hs_verdict hs_on_ping(struct hs_engine *e, int id, const struct ms_msg *m, const uint8_t *buf, size_t len,
			       uint64_t now_ms, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];
	struct ms_msg r;
	uint8_t pong[MS_WIRE_MAX];

	if (!p->up || m->hs_id != p->up_hs_id)
		return HS_DROP_UNEXPECTED;	/* another session: the handshake under way settles it */
	if (m->seq <= p->ping_rx_seq)
		return HS_DROP_REPLAY;
	if (!budget(p, now_ms))
		return HS_DROP_RATE_LIMITED;
	p->ping_rx_seq = m->seq;
	memcpy(p->peer_chal, m->chal, MS_CHAL_LEN);
	memcpy(p->peer_digest, m->digest, MS_DIGEST_LEN);
	p->have_digest = true;
	hs_msg_init(e, p, &r, MS_MSG_PONG);
	r.hs_id = m->hs_id;
	r.seq = m->seq;
	memcpy(r.digest, e->digest, MS_DIGEST_LEN);
	hs_emit_send(out, id, pong, ms_wire_encode(&r, e->sec[id].mac_key, ms_wire_mac(buf, len), pong));
	return HS_ACCEPTED;
}

enum hs_verdict hs_on_pong(struct hs_engine *e, int id, const struct ms_msg *m, uint64_t now_ms)
{
	struct hs_peer *p = &e->peers[id];

	p->rtt_us = (now_ms - p->ping_sent_ms) * 1000;
	p->ping_seq = 0;
	memcpy(p->peer_chal, m->chal, MS_CHAL_LEN);
	memcpy(p->peer_digest, m->digest, MS_DIGEST_LEN);
	p->have_digest = true;
	return HS_ACCEPTED;
}

