/*
 * netcheck probes (meshsec/probe.h, common/PROTOCOL.md "Reachability probes"): the answerer's
 * checks and replies here, the requester's run in probe_run.c.
 *
 * Freshness without clocks, as for INITs: a PROBE must echo the answerer's probe challenge
 * (current or previous, each serving MS_PROBE_CHAL_LIFETIME_MS), and each probe of a run counts
 * once.  So a recorded probe replayed later gets at most a small "stale" reply every
 * MS_PROBE_STALE_GAP_MS, and never spends the budget that answers genuine probes.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "probe_internal.h"

const uint8_t probe_zero_mac[MS_WIRE_MAC_LEN];

const char *ms_probe_verdict_name(enum ms_probe_verdict v)
{
	static const char *const n[MS_PROBE_VERDICT_COUNT] = { "answered", "recorded", "stale", "replay", "rate_limited",
							       "bad_mac", "malformed", "unexpected", "reply" };

	return v < MS_PROBE_VERDICT_COUNT ? n[v] : "?";
}

struct ms_probe_node *ms_probe_node_new(const char *mesh, const char *self, const uint8_t secret[32])
{
	struct ms_probe_node *n = sodium_malloc(sizeof(*n));

	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	snprintf(n->mesh, sizeof(n->mesh), "%s", mesh);
	snprintf(n->self, sizeof(n->self), "%s", self);
	memcpy(n->secret, secret, sizeof(n->secret));
	return n;
}

void ms_probe_node_free(struct ms_probe_node *n)
{
	if (!n)
		return;
	if (n->slots) {
		sodium_memzero(n->slots, n->cap * sizeof(*n->slots));
		sodium_free(n->slots);
	}
	sodium_free(n);	/* wipes the copy of the secret */
}

/* The peer's slot, made (key derived, challenges drawn) on first use or when the id changed hands. */
struct probe_slot *probe_slot(struct ms_probe_node *n, int peer, const char *name)
{
	struct probe_slot *s;
	uint8_t pair[MS_KEY_LEN];

	if (peer < 0)
		return NULL;
	if ((size_t)peer >= n->cap) {
		size_t cap = n->cap ? n->cap : 8;

		while (cap <= (size_t)peer)
			cap *= 2;
		/* keys live in guarded memory, so grow by copy rather than realloc */
		if (!(s = sodium_malloc(cap * sizeof(*s))))
			return NULL;
		memset(s, 0, cap * sizeof(*s));
		if (n->slots) {
			memcpy(s, n->slots, n->cap * sizeof(*s));
			sodium_memzero(n->slots, n->cap * sizeof(*s));
			sodium_free(n->slots);
		}
		n->slots = s;
		n->cap = cap;
	}
	s = &n->slots[peer];
	if (!s->used || strcmp(s->name, name) != 0) {
		memset(s, 0, sizeof(*s));
		s->used = true;
		snprintf(s->name, sizeof(s->name), "%s", name);
		ms_kdf_pair_key(pair, n->secret, n->mesh, n->self, name);
		ms_kdf_mac_key(s->mac_key, pair);
		sodium_memzero(pair, sizeof(pair));
		randombytes_buf(s->my_chal, MS_CHAL_LEN);
		randombytes_buf(s->chal_prev, MS_CHAL_LEN);
		s->tokens_milli = MS_PROBE_BURST * 1000;
		s->fresh_ms = UINT64_MAX;	/* the clock starts at the first probe */
	}
	return s;
}

const uint64_t *ms_probe_counts(const struct ms_probe_node *n, int peer, const char *name)
{
	static const uint64_t none[MS_PROBE_VERDICT_COUNT];

	if (peer < 0 || (size_t)peer >= n->cap || !n->slots[peer].used || strcmp(n->slots[peer].name, name) != 0)
		return none;
	return n->slots[peer].counts;
}

/* Ages the challenge: past its lifetime the current one becomes the previous one. */
static void refresh_chal(struct probe_slot *s, uint64_t now_ms)
{
	if (s->fresh_ms == UINT64_MAX)
		s->fresh_ms = now_ms;
	if (now_ms - s->fresh_ms < MS_PROBE_CHAL_LIFETIME_MS)
		return;
	if (now_ms - s->fresh_ms < 2 * MS_PROBE_CHAL_LIFETIME_MS)
		memcpy(s->chal_prev, s->my_chal, MS_CHAL_LEN);
	else
		randombytes_buf(s->chal_prev, MS_CHAL_LEN);
	randombytes_buf(s->my_chal, MS_CHAL_LEN);
	s->fresh_ms = now_ms;
}

static bool take_token(struct probe_slot *s, uint64_t now_ms)
{
	uint64_t add = (now_ms - s->tokens_ms) * MS_PROBE_PER_S, t = s->tokens_milli + add;

	s->tokens_ms = now_ms;
	s->tokens_milli = (uint32_t)(t > MS_PROBE_BURST * 1000 ? MS_PROBE_BURST * 1000 : t);
	if (s->tokens_milli < 1000)
		return false;
	s->tokens_milli -= 1000;
	return true;
}

/* The run a fresh probe belongs to; a new one when there is room, else every run is forgotten
 * and the challenges used up, so nothing from a forgotten run is fresh again.  NULL then. */
static struct probe_seen *run_slot(struct probe_slot *s, uint64_t run, uint64_t now_ms)
{
	for (unsigned i = 0; i < s->n_runs; i++)
		if (s->runs[i].id == run)
			return &s->runs[i];
	if (s->n_runs == MS_PROBE_RUNS) {
		s->n_runs = 0;
		randombytes_buf(s->my_chal, MS_CHAL_LEN);
		randombytes_buf(s->chal_prev, MS_CHAL_LEN);
		s->fresh_ms = now_ms;
		return NULL;
	}
	s->runs[s->n_runs] = (struct probe_seen){ .id = run };
	return &s->runs[s->n_runs++];
}

static void add_reply(struct ms_probe_node *n, const struct probe_slot *s, const struct ms_msg *probe, const uint8_t *probe_mac,
		      enum ms_probe_channel ch, uint8_t flags, uint64_t seen, struct ms_probe_out *out)
{
	struct ms_probe_dgram *d = &out->d[out->n];
	struct ms_msg m;

	if (ch == MS_PROBE_ESP && !probe->reply_port)
		return;	/* the requester has no ESP socket */
	memset(&m, 0, sizeof(m));
	m.type = MS_MSG_PROBE_REPLY;
	snprintf(m.sender, sizeof(m.sender), "%s", n->self);
	snprintf(m.receiver, sizeof(m.receiver), "%s", s->name);
	memcpy(m.chal, s->my_chal, MS_CHAL_LEN);
	m.hs_id = probe->hs_id;
	m.pseq = probe->pseq;
	m.channel = (uint8_t)ch;
	m.pflags = flags;
	m.seen = seen;
	d->channel = ch;
	d->port = ch == MS_PROBE_ESP ? probe->reply_port : 0;
	d->len = ms_wire_encode(&m, s->mac_key, probe_mac, d->buf);
	out->n++;
}

static enum ms_probe_verdict answer(struct ms_probe_node *n, struct probe_slot *s, const uint8_t *buf, size_t len,
				    uint64_t now_ms, struct ms_probe_out *out)
{
	struct probe_seen *run;
	struct ms_msg m;
	bool fresh;

	if (ms_wire_peek_probe(buf, len, &m) != MS_WIRE_OK || m.type != MS_MSG_PROBE)
		return MS_PROBE_MALFORMED;
	if (ms_wire_verify(buf, len, s->mac_key, probe_zero_mac) != MS_WIRE_OK)
		return MS_PROBE_BAD_MAC;
	ms_wire_decode_body(buf, len, &m);
	if (m.pseq >= MS_PROBE_SEQS || (m.channel != MS_PROBE_CLEAR && m.channel != MS_PROBE_ESP))
		return MS_PROBE_MALFORMED;
	refresh_chal(s, now_ms);
	fresh = sodium_memcmp(m.echo, s->my_chal, MS_CHAL_LEN) == 0 || sodium_memcmp(m.echo, s->chal_prev, MS_CHAL_LEN) == 0;
	if (fresh && !(run = run_slot(s, m.hs_id, now_ms)))
		fresh = false;	/* run table full: challenges drawn anew, the requester learns them below */
	if (!fresh) {
		if (s->stale_answered && now_ms - s->stale_ms < MS_PROBE_STALE_GAP_MS)
			return MS_PROBE_RATE_LIMITED;
		s->stale_answered = true;
		s->stale_ms = now_ms;
		add_reply(n, s, &m, ms_wire_mac(buf, len), MS_PROBE_CLEAR, MS_PROBE_F_STALE, 0, out);
		add_reply(n, s, &m, ms_wire_mac(buf, len), MS_PROBE_ESP, MS_PROBE_F_STALE, 0, out);
		return MS_PROBE_STALE;
	}
	if (run->seen & (1ull << m.pseq))
		return MS_PROBE_REPLAY;
	run->seen |= 1ull << m.pseq;
	if (!(m.pflags & MS_PROBE_F_REPLY))
		return MS_PROBE_RECORDED;
	if (!take_token(s, now_ms))
		return MS_PROBE_RATE_LIMITED;
	add_reply(n, s, &m, ms_wire_mac(buf, len), MS_PROBE_CLEAR, 0, run->seen, out);
	add_reply(n, s, &m, ms_wire_mac(buf, len), MS_PROBE_ESP, 0, run->seen, out);
	return MS_PROBE_ANSWERED;
}

enum ms_probe_verdict ms_probe_answer(struct ms_probe_node *n, int peer, const char *name, const uint8_t *buf,
				      size_t len, uint64_t now_ms, struct ms_probe_out *out)
{
	struct probe_slot *s = probe_slot(n, peer, name);
	enum ms_probe_verdict v;

	out->n = 0;
	if (!s)
		return MS_PROBE_MALFORMED;	/* out of memory: dropped like anything we cannot read */
	v = answer(n, s, buf, len, now_ms, out);
	s->counts[v]++;
	return v;
}
