/*
 * Handshake engine: per-peer state machine, key agreement and the kernel actions it implies.
 * See handshake.h for the contract and common/PROTOCOL.md for the protocol.
 *
 * Secrets (pair keys, MAC keys, ephemeral private keys, pending traffic keys) live in one
 * sodium_malloc'd array indexed like the peers; stack copies are wiped before returning.
 * Keepalives are in handshake_keepalive.c.
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "handshake_internal.h"
#include "meshsec/index.h"

static const int fam_af[2] = { AF_INET, AF_INET6 };
static const uint8_t zero_mac[MS_WIRE_MAC_LEN];

const char *hs_verdict_name(enum hs_verdict v)
{
	static const char *const n[HS_VERDICT_COUNT] = { "accepted", "malformed", "not for us", "unknown peer", "bad MAC",
							   "replay", "unexpected", "simultaneous", "failed", "challenged",
							   "rate limited", "spoofed source" };

	return v < HS_VERDICT_COUNT ? n[v] : "?";
}

const char *hs_state_name(enum hs_state s)
{
	static const char *const n[] = { "idle", "init-sent", "resp-sent", "established" };

	return n[s];
}

struct hs_engine *hs_engine_new(const char *mesh, const char *self, enum ms_cipher cipher,
				const uint8_t secret[32], hs_alloc_spi_fn alloc_spi, void *ctx)
{
	struct hs_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->secret = sodium_malloc(32);
	if (!e->secret) {
		free(e);
		return NULL;
	}
	memcpy(e->secret, secret, 32);
	if (!(e->by_name = ms_index_new(16))) {
		hs_engine_free(e);
		return NULL;
	}
	snprintf(e->mesh, sizeof(e->mesh), "%s", mesh);
	snprintf(e->self, sizeof(e->self), "%s", self);
	e->cipher = cipher;
	e->key_len = ms_cipher_key_len(cipher);
	e->alloc_spi = alloc_spi;
	e->ctx = ctx;
	return e;
}

void hs_engine_free(struct hs_engine *e)
{
	if (!e)
		return;
	sodium_free(e->sec);
	sodium_free(e->secret);
	ms_index_free(e->by_name);
	free(e->peers);
	free(e);
}

int hs_peer_find(const struct hs_engine *e, const char *name)
{
	return ms_index_get(e->by_name, name, strlen(name));
}

/* Grows both arrays; secure memory has no realloc, so copy and let sodium_free wipe the old. */
static int grow(struct hs_engine *e)
{
	size_t cap = e->cap ? e->cap * 2 : 16;
	struct hs_peer *p = realloc(e->peers, cap * sizeof(*p));
	struct hs_secret *s;

	if (!p)
		return -ENOMEM;
	e->peers = p;
	s = sodium_allocarray(cap, sizeof(*s));
	if (!s)
		return -ENOMEM;
	if (e->sec)
		memcpy(s, e->sec, e->cap * sizeof(*s));
	sodium_free(e->sec);
	e->sec = s;
	e->cap = cap;
	return 0;
}

int hs_peer_add(struct hs_engine *e, const char *name, unsigned families)
{
	size_t i;

	if (hs_peer_find(e, name) >= 0)
		return -EEXIST;
	for (i = 0; i < e->n && e->peers[i].used; i++)
		;
	if (i == e->n) {
		if (e->n == e->cap && grow(e) < 0)
			return -ENOMEM;
		e->n++;
	}
	memset(&e->peers[i], 0, sizeof(e->peers[i]));	/* unused until the index knows it */
	if (ms_index_put(e->by_name, name, strlen(name), (int)i) < 0)
		return -ENOMEM;
	sodium_memzero(&e->sec[i], sizeof(e->sec[i]));
	e->peers[i].used = true;
	e->peers[i].fams = families;
	e->peers[i].tokens_milli = HS_PONG_BURST * 1000;
	randombytes_buf(e->peers[i].my_chal, MS_CHAL_LEN);
	randombytes_buf(e->peers[i].chal_prev, MS_CHAL_LEN);
	snprintf(e->peers[i].name, sizeof(e->peers[i].name), "%s", name);
	ms_kdf_pair_key(e->sec[i].pair_key, e->secret, e->mesh, e->self, name);
	ms_kdf_mac_key(e->sec[i].mac_key, e->sec[i].pair_key);
	return (int)i;
}

static struct hs_action *push(struct hs_out *out, int peer, enum hs_act_type t)
{
	struct hs_action *a;

	if (out->n >= HS_MAX_ACTIONS)
		abort();	/* a bug: no transition emits more than HS_MAX_ACTIONS */
	a = &out->act[out->n++];
	memset(a, 0, offsetof(struct hs_action, key));
	a->peer = peer;
	a->type = t;
	return a;
}

void hs_emit_send(struct hs_out *out, int peer, const uint8_t *buf, size_t len)
{
	struct hs_action *a = push(out, peer, HS_ACT_SEND);

	memcpy(a->buf, buf, len);
	a->len = len;
}

static void emit_sa(struct hs_out *out, int peer, enum hs_act_type t, enum ms_dir dir, int f,
		    uint32_t spi, const uint8_t *key, size_t key_len)
{
	struct hs_action *a = push(out, peer, t);

	a->dir = dir;
	a->family = fam_af[f];
	a->spi = spi;
	if (key) {
		memcpy(a->key, key, key_len);
		a->key_len = key_len;
	}
}

/*
 * A new outbound SA.  A peer whose state was wiped may hand out the SPI of our current (or just
 * replaced) outbound SA again; the kernel refuses a second SA with the same SPI, so the old one
 * goes first (its keys are dead at the peer anyway, and the policy drops rather than leaks).
 */
static void emit_out_add(struct hs_engine *e, int id, int f, uint32_t spi, const uint8_t *key, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];

	if (p->out_spi[f] == spi) {
		emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_OUT, f, spi, NULL, 0);
		p->out_spi[f] = 0;
	}
	if (p->old_out[f] == spi) {
		emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_OUT, f, spi, NULL, 0);
		p->old_out[f] = 0;
	}
	emit_sa(out, id, HS_ACT_SA_ADD, MS_DIR_OUT, f, spi, key, e->key_len);
}

static uint64_t backoff(unsigned tries)
{
	uint64_t d = HS_RETX_FIRST_MS;

	while (tries-- > 0 && d < HS_RETX_MAX_MS)
		d *= 2;
	if (d > HS_RETX_MAX_MS)
		d = HS_RETX_MAX_MS;
	/* +-25 % jitter, so a fleet restarted together does not retransmit in step */
	return d * 3 / 4 + randombytes_uniform((uint32_t)(d / 2) + 1);
}

/* Drops the handshake under way: its inbound SAs (responder) and its ephemeral key. */
static void abort_pending(struct hs_engine *e, int id, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];

	if (p->st == HS_RESP_SENT)
		for (int f = 0; f < 2; f++)
			if (p->pend_in[f])
				emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_IN, f, p->pend_in[f], NULL, 0);
	memset(p->pend_in, 0, sizeof(p->pend_in));
	sodium_memzero(e->sec[id].eph_sk, sizeof(e->sec[id].eph_sk));
	sodium_memzero(e->sec[id].pend_out, sizeof(e->sec[id].pend_out));
	p->st = p->up ? HS_ESTABLISHED : HS_IDLE;
}

/* Deletes every SA the engine holds for a peer and forgets them. */
static void drop_all_sas(struct hs_engine *e, int id, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];

	abort_pending(e, id, out);
	for (int f = 0; f < 2; f++) {
		if (p->out_spi[f])
			emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_OUT, f, p->out_spi[f], NULL, 0);
		if (p->in_spi[f])
			emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_IN, f, p->in_spi[f], NULL, 0);
		if (p->old_in[f])
			emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_IN, f, p->old_in[f], NULL, 0);
		if (p->old_out[f])
			emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_OUT, f, p->old_out[f], NULL, 0);
	}
	memset(p->out_spi, 0, sizeof(p->out_spi));
	memset(p->in_spi, 0, sizeof(p->in_spi));
	memset(p->old_in, 0, sizeof(p->old_in));
	memset(p->old_out, 0, sizeof(p->old_out));
	p->up = false;
	p->st = HS_IDLE;
}

void hs_peer_remove(struct hs_engine *e, int id, struct hs_out *out)
{
	drop_all_sas(e, id, out);
	ms_index_del(e->by_name, e->peers[id].name, strlen(e->peers[id].name));
	sodium_memzero(&e->sec[id], sizeof(e->sec[id]));
	memset(&e->peers[id], 0, sizeof(e->peers[id]));
}

/* Something failed here (DH, SPI allocation, the kernel): hs_tick tries again after a backoff
 * that grows with each failure in a row, so a persistent error does not spin. */
static void local_failure(struct hs_peer *p, uint64_t now_ms)
{
	p->fail_tries++;
	p->retry_ms = now_ms + backoff(p->fail_tries);
}

void hs_peer_fail(struct hs_engine *e, int id, uint64_t now_ms, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];

	drop_all_sas(e, id, out);
	p->drops[HS_DROP_FAILED]++;
	local_failure(p, now_ms);
}

/* Ages the challenge: past its lifetime it becomes the previous one (still accepted), and one
 * older than two lifetimes is forgotten.  Lazy, so an idle pair costs no timer. */
void hs_refresh_chal(struct hs_peer *p, uint64_t now_ms)
{
	if (now_ms - p->chal_ms < HS_CHAL_LIFETIME_MS)
		return;
	if (now_ms - p->chal_ms < 2 * HS_CHAL_LIFETIME_MS)
		memcpy(p->chal_prev, p->my_chal, MS_CHAL_LEN);
	else
		randombytes_buf(p->chal_prev, MS_CHAL_LEN);
	randombytes_buf(p->my_chal, MS_CHAL_LEN);
	p->chal_ms = now_ms;
}

/* An INIT echoing a challenge used it up: neither value is accepted again. */
static void use_up_chal(struct hs_peer *p, uint64_t now_ms)
{
	randombytes_buf(p->my_chal, MS_CHAL_LEN);
	randombytes_buf(p->chal_prev, MS_CHAL_LEN);
	p->chal_ms = now_ms;
}

/* Whether an answer to a duplicate may go now (at most one per HS_RESEND_GAP_MS). */
static bool may_resend(struct hs_peer *p, uint64_t now_ms)
{
	if (p->resent_ms && now_ms - p->resent_ms < HS_RESEND_GAP_MS)
		return false;
	p->resent_ms = now_ms;
	return true;
}

void hs_msg_init(const struct hs_engine *e, const struct hs_peer *p, struct ms_msg *m, enum ms_msg_type t)
{
	memset(m, 0, sizeof(*m));
	m->type = t;
	snprintf(m->sender, sizeof(m->sender), "%s", e->self);
	snprintf(m->receiver, sizeof(m->receiver), "%s", p->name);
	memcpy(m->chal, p->my_chal, MS_CHAL_LEN);
}

/* A new INIT: new hs_id, ephemeral and nonce, echoing the newest challenge heard from the peer. */
static void send_init(struct hs_engine *e, int id, uint64_t now_ms, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];
	struct ms_msg m;

	hs_refresh_chal(p, now_ms);
	hs_msg_init(e, p, &m, MS_MSG_INIT);
	randombytes_buf(&p->hs_id, sizeof(p->hs_id));
	randombytes_buf(e->sec[id].eph_sk, 32);
	crypto_scalarmult_base(p->eph_i, e->sec[id].eph_sk);
	randombytes_buf(p->nonce_i, sizeof(p->nonce_i));
	m.hs_id = p->hs_id;
	memcpy(m.echo, p->peer_chal, MS_CHAL_LEN);
	memcpy(m.eph, p->eph_i, MS_EPH_LEN);
	memcpy(m.nonce, p->nonce_i, MS_NONCE_LEN);
	p->sent_len = ms_wire_encode(&m, e->sec[id].mac_key, zero_mac, p->sent);
	memcpy(p->init_mac, ms_wire_mac(p->sent, p->sent_len), MS_WIRE_MAC_LEN);
	p->st = HS_INIT_SENT;
	p->retry_ms = 0;	/* a handshake is under way: its own timer drives it */
	p->next_ms = now_ms + backoff(p->tries);
	hs_emit_send(out, id, p->sent, p->sent_len);
}

int hs_initiate(struct hs_engine *e, int id, uint64_t now_ms, bool force, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];

	if (!force && (p->st == HS_INIT_SENT || p->st == HS_RESP_SENT))
		return -EALREADY;
	if (!force && now_ms < p->retry_ms)
		return -EAGAIN;
	abort_pending(e, id, out);
	p->retry_ms = 0;
	p->tries = 0;
	send_init(e, id, now_ms, out);
	return 0;
}

/* Both directions' keys for every shared family, from the DH result. */
static void derive(struct hs_engine *e, int id, struct hs_temp *t)
{
	struct hs_peer *p = &e->peers[id];
	const char *c = ms_cipher_name(e->cipher);

	for (int f = 0; f < 2; f++) {
		if (!(p->fams & (1u << f)))
			continue;
		ms_kdf_traffic_key(t->i2r[f], c, e->key_len, e->sec[id].pair_key, t->dh, p->eph_i, p->eph_r,
				   p->nonce_i, p->nonce_r, MS_KDIR_I2R, f == 0 ? 4 : 6);
		ms_kdf_traffic_key(t->r2i[f], c, e->key_len, e->sec[id].pair_key, t->dh, p->eph_i, p->eph_r,
				   p->nonce_i, p->nonce_r, MS_KDIR_R2I, f == 0 ? 4 : 6);
	}
}

/* New SAs are in place in both directions: retire the previous ones. */
static void established(struct hs_engine *e, int id, const uint32_t in[2], const uint32_t out_spi[2],
			bool initiator, uint64_t now_ms, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];

	for (int f = 0; f < 2; f++) {
		/* New packets take the newest outbound SA at once, but a packet that chose the old one
		 * just before is dropped if the SA goes before it is encrypted: keep it a moment.  One
		 * generation back is enough; an older one still here goes now. */
		if (p->old_out[f])
			emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_OUT, f, p->old_out[f], NULL, 0);
		p->old_out[f] = p->out_spi[f] != out_spi[f] ? p->out_spi[f] : 0;
		/* Packets the peer sent with the old keys may still be in flight: keep them a while. */
		if (p->old_in[f])
			emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_IN, f, p->old_in[f], NULL, 0);
		p->old_in[f] = p->in_spi[f];
	}
	p->retired_ms = now_ms;
	memcpy(p->in_spi, in, sizeof(p->in_spi));
	memcpy(p->out_spi, out_spi, sizeof(p->out_spi));
	memset(p->pend_in, 0, sizeof(p->pend_in));
	p->up = true;
	p->up_initiator = initiator;
	p->up_hs_id = p->hs_id;
	p->up_ms = now_ms;
	p->ping_seq = p->ping_tx_seq = p->ping_rx_seq = 0;	/* keepalives are numbered per session */
	p->fail_tries = 0;
	p->retry_ms = 0;
	p->tries = 0;
	p->handshakes++;
	p->st = HS_ESTABLISHED;
	push(out, id, HS_ACT_UP);
}

/* "Echo this first": answers an INIT that lacks our current challenge, chained to it. */
static enum hs_verdict challenge(struct hs_engine *e, int id, const struct ms_msg *m, const uint8_t *buf,
				 size_t len, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];
	struct ms_msg c;
	uint8_t msg[MS_WIRE_MAX];

	hs_msg_init(e, p, &c, MS_MSG_CHALLENGE);
	c.hs_id = m->hs_id;
	hs_emit_send(out, id, msg, ms_wire_encode(&c, e->sec[id].mac_key, ms_wire_mac(buf, len), msg));
	return HS_DROP_CHALLENGED;
}

/* The responder's work for a fresh INIT: keys, inbound SAs, then RESP announcing them. */
static enum hs_verdict respond(struct hs_engine *e, int id, const struct ms_msg *m, const uint8_t *buf,
			       size_t len, uint64_t now_ms, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];
	struct hs_secret *s = &e->sec[id];
	struct hs_temp t;
	struct ms_msg r;
	enum hs_verdict v = HS_ACCEPTED;

	abort_pending(e, id, out);
	p->retry_ms = 0;	/* a handshake is under way: its own timer drives it */
	p->hs_id = m->hs_id;
	memcpy(p->eph_i, m->eph, MS_EPH_LEN);
	memcpy(p->nonce_i, m->nonce, MS_NONCE_LEN);
	randombytes_buf(s->eph_sk, 32);
	crypto_scalarmult_base(p->eph_r, s->eph_sk);
	randombytes_buf(p->nonce_r, MS_NONCE_LEN);
	if (crypto_scalarmult(t.dh, s->eph_sk, p->eph_i) != 0) {
		v = HS_DROP_FAILED;	/* low-order point: the peer's bug or a forgery with the key */
		goto wipe;
	}
	derive(e, id, &t);
	for (int f = 0; f < 2; f++) {
		if (!(p->fams & (1u << f)))
			continue;
		if (e->alloc_spi(e->ctx, id, fam_af[f], &p->pend_in[f]) != 0) {
			p->st = HS_RESP_SENT;	/* so abort_pending deletes what was installed */
			abort_pending(e, id, out);
			local_failure(p, now_ms);	/* the SAs in use stay */
			v = HS_DROP_FAILED;
			goto wipe;
		}
		emit_sa(out, id, HS_ACT_SA_ADD, MS_DIR_IN, f, p->pend_in[f], t.i2r[f], e->key_len);
		memcpy(s->pend_out[f], t.r2i[f], e->key_len);
	}
	hs_msg_init(e, p, &r, MS_MSG_RESP);
	r.hs_id = p->hs_id;
	memcpy(r.eph, p->eph_r, MS_EPH_LEN);
	memcpy(r.nonce, p->nonce_r, MS_NONCE_LEN);
	memcpy(r.spi, p->pend_in, sizeof(r.spi));
	memcpy(p->init_mac, ms_wire_mac(buf, len), MS_WIRE_MAC_LEN);
	p->sent_len = ms_wire_encode(&r, s->mac_key, p->init_mac, p->sent);
	memcpy(p->resp_mac, ms_wire_mac(p->sent, p->sent_len), MS_WIRE_MAC_LEN);
	p->st = HS_RESP_SENT;
	p->tries = 0;
	p->next_ms = now_ms + backoff(0);
	hs_emit_send(out, id, p->sent, p->sent_len);
wipe:
	sodium_memzero(s->eph_sk, sizeof(s->eph_sk));	/* forward secrecy: gone as soon as used */
	sodium_memzero(&t, sizeof(t));
	return v;
}

static enum hs_verdict on_init(struct hs_engine *e, int id, const struct ms_msg *m, const uint8_t *buf,
			       size_t len, uint64_t now_ms, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];
	bool fresh = sodium_memcmp(m->echo, p->my_chal, MS_CHAL_LEN) == 0 ||
		     sodium_memcmp(m->echo, p->chal_prev, MS_CHAL_LEN) == 0;

	if (p->st == HS_RESP_SENT && m->hs_id == p->hs_id) {
		if (may_resend(p, now_ms))
			hs_emit_send(out, id, p->sent, p->sent_len);	/* our RESP was lost */
		return HS_DROP_UNEXPECTED;
	}
	if (!fresh)
		/* Perhaps a replay (recorded any time, or from before our restart): it costs a MAC and
		 * a reply smaller than itself, and changes nothing here. */
		return challenge(e, id, m, buf, len, out);
	use_up_chal(p, now_ms);		/* a replay of this INIT is challenged from now on */
	memcpy(p->peer_chal, m->chal, MS_CHAL_LEN);
	if (p->st == HS_INIT_SENT && strcmp(e->self, p->name) < 0) {
		/* Ours wins and the peer will answer it.  It is evidently up now, so it may have missed
		 * our INIT (sent before it started), or challenged it: send ours again now, made anew
		 * if its challenge (just heard) is not the one ours echoes. */
		p->last_seen_ms = now_ms;
		sodium_memzero(e->sec[id].eph_sk, sizeof(e->sec[id].eph_sk));
		send_init(e, id, now_ms, out);
		return HS_DROP_SIMULTANEOUS;
	}
	return respond(e, id, m, buf, len, now_ms, out);
}

/* Our INIT lacked the responder's current challenge: make it anew with the one it sent. */
static enum hs_verdict on_challenge(struct hs_engine *e, int id, const struct ms_msg *m, uint64_t now_ms,
				    struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];

	if (sodium_memcmp(m->chal, p->peer_chal, MS_CHAL_LEN) == 0)
		return HS_DROP_UNEXPECTED;	/* ours already echoes it: a late duplicate */
	memcpy(p->peer_chal, m->chal, MS_CHAL_LEN);
	sodium_memzero(e->sec[id].eph_sk, sizeof(e->sec[id].eph_sk));
	send_init(e, id, now_ms, out);
	return HS_ACCEPTED;
}

static enum hs_verdict on_resp(struct hs_engine *e, int id, const struct ms_msg *m, const uint8_t *buf,
			       size_t len, uint64_t now_ms, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];
	struct hs_secret *s = &e->sec[id];
	struct hs_temp t;
	struct ms_msg c;
	uint32_t in[2] = { 0, 0 }, out_spi[2] = { 0, 0 };
	enum hs_verdict v = HS_ACCEPTED;

	memcpy(p->peer_chal, m->chal, MS_CHAL_LEN);
	memcpy(p->eph_r, m->eph, MS_EPH_LEN);
	memcpy(p->nonce_r, m->nonce, MS_NONCE_LEN);
	if (crypto_scalarmult(t.dh, s->eph_sk, p->eph_r) != 0) {
		v = HS_DROP_FAILED;
		goto wipe;
	}
	sodium_memzero(s->eph_sk, sizeof(s->eph_sk));
	derive(e, id, &t);
	for (int f = 0; f < 2; f++) {
		if (!(p->fams & (1u << f)) || !m->spi[f])
			continue;
		if (e->alloc_spi(e->ctx, id, fam_af[f], &in[f]) != 0) {
			for (int g = 0; g < f; g++)
				if (in[g]) {
					emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_OUT, g, out_spi[g], NULL, 0);
					emit_sa(out, id, HS_ACT_SA_DEL, MS_DIR_IN, g, in[g], NULL, 0);
				}
			p->st = p->up ? HS_ESTABLISHED : HS_IDLE;
			local_failure(p, now_ms);	/* the SAs in use stay */
			v = HS_DROP_FAILED;
			goto wipe;
		}
		emit_sa(out, id, HS_ACT_SA_ADD, MS_DIR_IN, f, in[f], t.r2i[f], e->key_len);
		emit_out_add(e, id, f, m->spi[f], t.i2r[f], out);
		out_spi[f] = m->spi[f];
	}
	/* An INIT the peer sent before it answered ours may still be on the wire: it must not start
	 * a handshake the peer has abandoned, so it finds the challenge used up. */
	use_up_chal(p, now_ms);
	hs_msg_init(e, p, &c, MS_MSG_CONFIRM);
	c.hs_id = p->hs_id;
	memcpy(c.spi, in, sizeof(c.spi));
	memcpy(p->resp_mac, ms_wire_mac(buf, len), MS_WIRE_MAC_LEN);
	p->sent_len = ms_wire_encode(&c, s->mac_key, p->resp_mac, p->sent);
	established(e, id, in, out_spi, true, now_ms, out);
	hs_emit_send(out, id, p->sent, p->sent_len);
wipe:
	sodium_memzero(s->eph_sk, sizeof(s->eph_sk));	/* forward secrecy: gone as soon as used */
	sodium_memzero(&t, sizeof(t));
	return v;
}

static enum hs_verdict on_confirm(struct hs_engine *e, int id, const struct ms_msg *m, uint64_t now_ms,
				  struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];
	uint32_t out_spi[2] = { 0, 0 }, in[2];

	memcpy(p->peer_chal, m->chal, MS_CHAL_LEN);
	for (int f = 0; f < 2; f++) {
		if (!p->pend_in[f] || !m->spi[f])
			continue;
		emit_out_add(e, id, f, m->spi[f], e->sec[id].pend_out[f], out);
		out_spi[f] = m->spi[f];
	}
	sodium_memzero(e->sec[id].pend_out, sizeof(e->sec[id].pend_out));
	memcpy(in, p->pend_in, sizeof(in));
	established(e, id, in, out_spi, false, now_ms, out);
	return HS_ACCEPTED;
}

bool hs_peer_holds_secrets(const struct hs_engine *e, int id)
{
	return !sodium_is_zero(e->sec[id].eph_sk, sizeof(e->sec[id].eph_sk)) ||
	       !sodium_is_zero((const uint8_t *)e->sec[id].pend_out, sizeof(e->sec[id].pend_out));
}

/* Picks the MAC context a message must chain to, or says it answers nothing we have. */
static const uint8_t *context(const struct hs_peer *p, const struct ms_msg *m, bool *duplicate)
{
	*duplicate = false;
	switch (m->type) {
	case MS_MSG_INIT:
	case MS_MSG_PING:
		return zero_mac;
	case MS_MSG_RESP:
		if (p->st == HS_INIT_SENT && m->hs_id == p->hs_id)
			return p->init_mac;
		*duplicate = p->st == HS_ESTABLISHED && p->up_initiator && m->hs_id == p->up_hs_id;
		return *duplicate ? p->init_mac : NULL;
	case MS_MSG_CHALLENGE:
		return p->st == HS_INIT_SENT && m->hs_id == p->hs_id ? p->init_mac : NULL;
	case MS_MSG_CONFIRM:
		return p->st == HS_RESP_SENT && m->hs_id == p->hs_id ? p->resp_mac : NULL;
	case MS_MSG_PONG:
		return p->ping_seq && m->seq == p->ping_seq && m->hs_id == p->up_hs_id ? p->ping_mac : NULL;
	case MS_MSG_PROBE:
	case MS_MSG_PROBE_REPLY:
		break;	/* ms_wire_peek never lets them in: they are common/probe.c's */
	}
	return NULL;
}

enum hs_verdict hs_classify(struct hs_engine *e, const uint8_t *buf, size_t len, int *peer_out)
{
	struct ms_msg m;
	enum hs_verdict v = HS_ACCEPTED;

	*peer_out = -1;
	if (ms_wire_peek(buf, len, &m) != MS_WIRE_OK)
		v = HS_DROP_MALFORMED;
	else if (strcmp(m.receiver, e->self) != 0)
		v = HS_DROP_NOT_FOR_US;
	else if ((*peer_out = hs_peer_find(e, m.sender)) < 0)
		v = HS_DROP_UNKNOWN_PEER;
	if (v != HS_ACCEPTED)
		e->drops[v]++;
	return v;
}

void hs_count_drop(struct hs_engine *e, int peer, enum hs_verdict v)
{
	if (peer >= 0)
		e->peers[peer].drops[v]++;
	else
		e->drops[v]++;
}

enum hs_verdict hs_input(struct hs_engine *e, int id, const uint8_t *buf, size_t len, uint64_t now_ms,
			 struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];
	struct ms_msg m;
	const uint8_t *prev;
	enum hs_verdict v;
	bool dup;

	hs_refresh_chal(p, now_ms);
	ms_wire_peek(buf, len, &m);
	ms_wire_decode_body(buf, len, &m);	/* parsed to pick the MAC context, acted on only after it */
	prev = context(p, &m, &dup);
	if (!prev)
		v = HS_DROP_UNEXPECTED;
	else if (ms_wire_verify(buf, len, e->sec[id].mac_key, prev) != MS_WIRE_OK)
		v = HS_DROP_BAD_MAC;
	else if (dup) {
		v = HS_DROP_UNEXPECTED;
		if (may_resend(p, now_ms))
			hs_emit_send(out, id, p->sent, p->sent_len);	/* our CONFIRM was lost */
	} else if (m.type == MS_MSG_INIT)
		v = on_init(e, id, &m, buf, len, now_ms, out);
	else if (m.type == MS_MSG_CHALLENGE)
		v = on_challenge(e, id, &m, now_ms, out);
	else if (m.type == MS_MSG_RESP)
		v = on_resp(e, id, &m, buf, len, now_ms, out);
	else if (m.type == MS_MSG_CONFIRM)
		v = on_confirm(e, id, &m, now_ms, out);
	else if (m.type == MS_MSG_PING)
		v = hs_on_ping(e, id, &m, buf, len, now_ms, out);
	else
		v = hs_on_pong(e, id, &m, now_ms);
	if (v != HS_ACCEPTED)
		p->drops[v]++;
	if (v == HS_ACCEPTED)
		p->last_seen_ms = now_ms;	/* an authentic, fresh message: the peer is alive */
	return v;
}

enum hs_verdict hs_receive(struct hs_engine *e, const uint8_t *buf, size_t len, uint64_t now_ms,
			   struct hs_out *out, int *peer_out)
{
	enum hs_verdict v = hs_classify(e, buf, len, peer_out);

	return v != HS_ACCEPTED ? v : hs_input(e, *peer_out, buf, len, now_ms, out);
}

/* Deletes the previous generation's SAs of one direction once their grace is over.  Returns
 * when that is due, or UINT64_MAX when none are left. */
static uint64_t retire_old(uint32_t spi[2], uint64_t due, enum ms_dir dir, int id, uint64_t now_ms,
			   struct hs_out *out)
{
	if (!spi[0] && !spi[1])
		return UINT64_MAX;
	if (now_ms < due)
		return due;
	for (int f = 0; f < 2; f++) {
		if (spi[f])
			emit_sa(out, id, HS_ACT_SA_DEL, dir, f, spi[f], NULL, 0);
		spi[f] = 0;
	}
	return UINT64_MAX;
}

/* The handshake under way, if its timer is due: an initiator sends a new INIT, a responder its
 * RESP again; a responder that was never confirmed gives up and starts a handshake of its own,
 * since the initiator may believe the pair is up with keys it no longer has. */
static void retransmit(struct hs_engine *e, int id, uint64_t now_ms, struct hs_out *out)
{
	struct hs_peer *p = &e->peers[id];

	if (p->st == HS_RESP_SENT && p->tries + 1 >= HS_RESP_TRIES) {
		abort_pending(e, id, out);
		p->tries = 0;
		send_init(e, id, now_ms, out);
		return;
	}
	p->tries++;
	if (p->st == HS_INIT_SENT) {
		sodium_memzero(e->sec[id].eph_sk, sizeof(e->sec[id].eph_sk));
		send_init(e, id, now_ms, out);
	} else {
		p->next_ms = now_ms + backoff(p->tries);
		hs_emit_send(out, id, p->sent, p->sent_len);
	}
}

uint64_t hs_tick(struct hs_engine *e, uint64_t now_ms, struct hs_out *out)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < e->n; i++) {
		struct hs_peer *p = &e->peers[i];
		bool pending;
		uint64_t due;

		if (!p->used)
			continue;
		if (out->n + 8 > HS_MAX_ACTIONS)
			return now_ms;	/* the caller runs the actions and ticks again at once */
		pending = p->st == HS_INIT_SENT || p->st == HS_RESP_SENT;
		if (pending && now_ms >= p->next_ms)
			retransmit(e, (int)i, now_ms, out);
		else if ((p->st == HS_IDLE || p->retry_ms) && now_ms >= p->retry_ms)
			hs_initiate(e, (int)i, now_ms, false, out);	/* first try, or again after a local failure */
		if (!pending && (p->st == HS_IDLE || p->retry_ms) && p->retry_ms < next)
			next = p->retry_ms;
		due = retire_old(p->old_out, p->retired_ms + HS_OLD_OUTBOUND_GRACE_MS, MS_DIR_OUT, (int)i,
				 now_ms, out);
		next = due < next ? due : next;
		due = retire_old(p->old_in, p->retired_ms + HS_OLD_INBOUND_GRACE_MS, MS_DIR_IN, (int)i,
				 now_ms, out);
		next = due < next ? due : next;
		if ((p->st == HS_INIT_SENT || p->st == HS_RESP_SENT) && p->next_ms < next)
			next = p->next_ms;
	}
	return next;
}

void hs_peer_info(const struct hs_engine *e, int id, struct hs_peer_info *info)
{
	const struct hs_peer *p = &e->peers[id];

	memset(info, 0, sizeof(*info));
	info->name = p->name;
	info->state = p->st;
	info->established = p->up;
	memcpy(info->in_spi, p->in_spi, sizeof(info->in_spi));
	memcpy(info->out_spi, p->out_spi, sizeof(info->out_spi));
	memcpy(info->old_in, p->old_in, sizeof(info->old_in));
	memcpy(info->old_out, p->old_out, sizeof(info->old_out));
	info->established_ms = p->up_ms;
	info->session = p->up ? p->up_hs_id : 0;
	info->handshakes = p->handshakes;
	info->tries = p->tries;
	info->retry_ms = p->retry_ms;
	info->last_seen_ms = p->last_seen_ms;
	info->rtt_us = p->rtt_us;
	info->ping_outstanding = p->ping_seq != 0;
	info->have_digest = p->have_digest;
	memcpy(info->peer_digest, p->peer_digest, MS_DIGEST_LEN);
	memcpy(info->drops, p->drops, sizeof(info->drops));
}

const uint64_t *hs_engine_drops(const struct hs_engine *e)
{
	return e->drops;
}
