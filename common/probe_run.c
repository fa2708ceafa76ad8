/*
 * The requester's side of netcheck (meshsec/probe.h): which probes go when, what the replies
 * prove, and the findings an operator reads.
 *
 * Every round sends one small probe on each channel.  Once the peer answers with our echo
 * fresh, large probes go on the ESP channel: first a coarse ladder down from the kernel's MTU
 * figure in 64-byte steps, then 8-byte steps above the largest that arrived.  A batch is
 * settled when a small ESP probe sent after it is reported seen (same path, in order).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sodium.h>

#include "probe_internal.h"

#define COARSE_STEP 64u
#define COARSE_N 7u
#define FINE_STEP 8u
#define SMALL 0u		/* size 0: the smallest probe (ms_wire_probe_min) */

void ms_probe_run_init(struct ms_probe_run *r, int peer, const char *name, uint64_t id, int family,
		       uint16_t esp_port, unsigned kernel_mtu, uint64_t now_ms, uint64_t timeout_ms)
{
	memset(r, 0, sizeof(*r));
	r->peer = peer;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->id = id;
	r->ip_hdr = family == AF_INET6 ? 40 : 20;
	r->esp_port = esp_port;
	r->kernel_mtu = kernel_mtu;
	r->next_ms = now_ms;
	r->deadline_ms = now_ms + timeout_ms;
}

void ms_probe_run_no_sa(struct ms_probe_run *r, const char *why)
{
	r->no_sa = true;
	r->kernel_mtu = 0;	/* not the figure after ESP: nothing to probe below, nothing to report */
	if (why && why[0])
		snprintf(r->no_sa_why, sizeof(r->no_sa_why), "%s", why);
}

static bool bit(uint64_t set, unsigned i)
{
	return i < 64 && (set >> i & 1);
}

/* A small ESP probe from seq `from` on was reported seen: everything before it is settled. */
static bool settled(const struct ms_probe_run *r, uint16_t from)
{
	for (unsigned i = from; i < r->n; i++)
		if (r->p[i].channel == MS_PROBE_ESP && (r->p[i].flags & MS_PROBE_F_REPLY) && bit(r->seen, i))
			return true;
	return false;
}

/* The largest MTU probe that arrived (0: none) and the smallest sent that did not (0: none). */
static void mtu_bounds(const struct ms_probe_run *r, unsigned *arrived, unsigned *lost)
{
	*arrived = *lost = 0;
	for (unsigned i = 0; i < r->n; i++) {
		const struct ms_probe_sent *p = &r->p[i];

		if (p->channel != MS_PROBE_ESP || p->err)
			continue;
		if (bit(r->seen, i))
			*arrived = p->size > *arrived ? p->size : *arrived;
		else if (!(p->flags & MS_PROBE_F_REPLY) && (!*lost || p->size < *lost))
			*lost = p->size;
	}
	if (!*arrived || *lost <= *arrived)
		*lost = 0;	/* nothing got through (ESP blocked), or lost for another reason than size */
}

static void queue(struct ms_probe_run *r, enum ms_probe_channel ch, unsigned size, uint8_t flags)
{
	if (r->qn < sizeof(r->q) / sizeof(r->q[0]) && r->n + r->qn < MS_PROBE_SEQS)
		r->q[r->qn++] = (struct ms_probe_q){ .channel = (uint8_t)ch, .size = (uint16_t)size, .flags = flags };
}

/* A round: the MTU batch the state calls for, then one small probe per channel. */
static void plan_round(struct ms_probe_run *r)
{
	unsigned floor = r->ip_hdr == 40 ? 1280 : 576, arrived, lost;
	bool batch = false;

	r->qn = r->qi = 0;
	if (r->phase == 0 && r->fresh && r->kernel_mtu < floor) {
		r->phase = 3;	/* no kernel figure to probe below */
	} else if (r->phase == 0 && r->fresh) {
		for (unsigned k = 0; k < COARSE_N && r->kernel_mtu - k * COARSE_STEP >= floor; k++)
			queue(r, MS_PROBE_ESP, r->kernel_mtu - k * COARSE_STEP, 0);
		r->phase = 1, batch = true;
	} else if ((r->phase == 1 || r->phase == 2) && settled(r, r->mark)) {
		mtu_bounds(r, &arrived, &lost);
		if (r->phase == 1 && arrived && lost) {
			for (unsigned s = arrived + FINE_STEP; s < lost; s += FINE_STEP)
				queue(r, MS_PROBE_ESP, s, 0);
			r->phase = 2, batch = true;
		} else {
			r->phase = 3;
		}
	}
	if (batch)
		r->mark = (uint16_t)(r->n + r->qn + 1);	/* the small ESP probe below */
	queue(r, MS_PROBE_CLEAR, SMALL, MS_PROBE_F_REPLY);
	queue(r, MS_PROBE_ESP, SMALL, MS_PROBE_F_REPLY);
}

size_t ms_probe_run_next(struct ms_probe_run *r, struct ms_probe_node *n, uint64_t now_ms, uint8_t *buf,
			 enum ms_probe_channel *channel, uint16_t *seq)
{
	struct probe_slot *s = probe_slot(n, r->peer, r->name);
	struct ms_probe_sent *p;
	const struct ms_probe_q *q;
	struct ms_msg m;
	size_t fixed, len;

	if (!s || ms_probe_run_done(r, now_ms))
		return 0;
	if (r->qi == r->qn) {
		if (now_ms < r->next_ms)
			return 0;
		plan_round(r);
		r->next_ms = now_ms + MS_PROBE_ROUND_MS;
	}
	if (r->qi == r->qn)
		return 0;	/* out of probe numbers: wait for the answers */
	q = &r->q[r->qi++];
	memset(&m, 0, sizeof(m));
	m.type = MS_MSG_PROBE;
	snprintf(m.sender, sizeof(m.sender), "%s", n->self);
	snprintf(m.receiver, sizeof(m.receiver), "%s", r->name);
	memcpy(m.chal, s->my_chal, MS_CHAL_LEN);
	memcpy(m.echo, s->peer_chal, MS_CHAL_LEN);
	m.hs_id = r->id;
	m.pseq = r->n;
	m.channel = q->channel;
	m.pflags = q->flags;
	m.reply_port = r->esp_port;
	/* a sized probe is an inner IP packet of that size; the smallest outweighs its two replies on the wire */
	fixed = ms_wire_len(&m);
	len = q->size > r->ip_hdr + 8 ? q->size - r->ip_hdr - 8 : 0;
	len = len < ms_wire_probe_min(&m) ? ms_wire_probe_min(&m) : len > MS_PROBE_WIRE_MAX ? MS_PROBE_WIRE_MAX : len;
	m.pad_len = (uint16_t)(len - fixed);
	p = &r->p[r->n];
	memset(p, 0, sizeof(*p));
	p->channel = q->channel;
	p->flags = q->flags;
	p->size = (uint16_t)(ms_wire_len(&m) + 8 + r->ip_hdr);
	p->sent_ms = now_ms;
	len = ms_wire_encode(&m, s->mac_key, probe_zero_mac, buf);
	memcpy(p->mac, ms_wire_mac(buf, len), MS_WIRE_MAC_LEN);
	*channel = q->channel;
	*seq = r->n++;
	return len;
}

void ms_probe_run_sent(struct ms_probe_run *r, uint16_t seq, int rc)
{
	if (seq >= r->n)
		return;
	r->p[seq].err = rc;
	if (rc < 0 && r->p[seq].channel == MS_PROBE_ESP && (r->p[seq].flags & MS_PROBE_F_REPLY))
		r->esp_errno = -rc;
}

uint64_t ms_probe_reply_run(const uint8_t *buf, size_t len, char sender[MS_NAME_MAX + 1])
{
	struct ms_msg m;

	if (ms_wire_peek_probe(buf, len, &m) != MS_WIRE_OK || m.type != MS_MSG_PROBE_REPLY)
		return 0;
	memcpy(sender, m.sender, sizeof(m.sender));
	ms_wire_decode_body(buf, len, &m);	/* only to route it: acted on after its MAC */
	return m.hs_id;
}

enum ms_probe_verdict ms_probe_run_input(struct ms_probe_run *r, struct ms_probe_node *n, enum ms_probe_channel channel,
					 const uint8_t *buf, size_t len, uint64_t now_ms)
{
	struct probe_slot *s = probe_slot(n, r->peer, r->name);
	struct ms_msg m, body;

	if (!s || ms_wire_peek_probe(buf, len, &m) != MS_WIRE_OK || m.type != MS_MSG_PROBE_REPLY ||
	    strcmp(m.sender, r->name) != 0 || strcmp(m.receiver, n->self) != 0)
		return MS_PROBE_MALFORMED;
	body = m;
	ms_wire_decode_body(buf, len, &body);
	if (body.hs_id != r->id || body.pseq >= r->n)
		return MS_PROBE_UNEXPECTED;
	/* chained to the probe it answers: it proves that probe arrived */
	if (ms_wire_verify(buf, len, s->mac_key, r->p[body.pseq].mac) != MS_WIRE_OK)
		return MS_PROBE_BAD_MAC;
	if (body.channel != channel)
		return MS_PROBE_UNEXPECTED;	/* a clear reply cannot reach our ESP socket, nor the reverse */
	memcpy(s->peer_chal, body.chal, MS_CHAL_LEN);
	r->seen |= 1ull << body.pseq;
	if (!(body.pflags & MS_PROBE_F_STALE)) {
		r->seen |= body.seen;
		r->fresh = true;
	}
	if (!r->got[channel] || (now_ms - r->p[body.pseq].sent_ms) * 1000 < r->rtt_us[channel])
		r->rtt_us[channel] = (now_ms - r->p[body.pseq].sent_ms) * 1000;
	r->got[channel] = true;
	r->replies++;
	return MS_PROBE_REPLY_OK;
}

static bool any_seen(const struct ms_probe_run *r, enum ms_probe_channel ch)
{
	for (unsigned i = 0; i < r->n; i++)
		if (r->p[i].channel == ch && bit(r->seen, i))
			return true;
	return false;
}

/* Every ESP probe we made was refused by our own kernel (no SA to the peer). */
static bool esp_refused(const struct ms_probe_run *r)
{
	unsigned tried = 0;

	for (unsigned i = 0; i < r->n; i++)
		if (r->p[i].channel == MS_PROBE_ESP && (r->p[i].flags & MS_PROBE_F_REPLY)) {
			if (!r->p[i].err)
				return false;
			tried++;
		}
	return tried > 0;
}

bool ms_probe_run_done(const struct ms_probe_run *r, uint64_t now_ms)
{
	bool all = r->got[MS_PROBE_CLEAR] && r->got[MS_PROBE_ESP] && any_seen(r, MS_PROBE_CLEAR) && any_seen(r, MS_PROBE_ESP);

	return now_ms >= r->deadline_ms || (all && (r->phase == 3 || r->kernel_mtu == 0));
}

uint64_t ms_probe_run_deadline(const struct ms_probe_run *r)
{
	return r->qi < r->qn ? 0 : r->next_ms < r->deadline_ms ? r->next_ms : r->deadline_ms;
}

static enum ms_probe_dir_state outward(const struct ms_probe_run *r, enum ms_probe_channel ch)
{
	if (any_seen(r, ch))
		return MS_DIR_OK;
	if (ch == MS_PROBE_ESP && (r->no_sa || esp_refused(r)))
		return MS_DIR_NO_SA;
	return r->replies ? MS_DIR_BLOCKED : MS_DIR_UNKNOWN;
}

void ms_probe_run_result(const struct ms_probe_run *r, struct ms_probe_result *res)
{
	memset(res, 0, sizeof(*res));
	res->answered = r->replies > 0;
	res->clear_out = outward(r, MS_PROBE_CLEAR);
	res->esp_out = outward(r, MS_PROBE_ESP);
	/* the peer answers every probe it gets on both channels, so one reply missing is telling */
	res->clear_in = r->got[MS_PROBE_CLEAR] ? MS_DIR_OK : r->replies ? MS_DIR_BLOCKED : MS_DIR_UNKNOWN;
	res->esp_in = r->got[MS_PROBE_ESP] ? MS_DIR_OK : r->no_sa ? MS_DIR_NO_SA : r->replies ? MS_DIR_BLOCKED : MS_DIR_UNKNOWN;
	res->rtt_clear_us = r->got[MS_PROBE_CLEAR] ? r->rtt_us[MS_PROBE_CLEAR] : 0;
	res->rtt_esp_us = r->got[MS_PROBE_ESP] ? r->rtt_us[MS_PROBE_ESP] : 0;
	res->kernel_mtu = r->kernel_mtu;
	mtu_bounds(r, &res->mtu_arrived, &res->mtu_lost);
	res->probes_sent = 0;
	for (unsigned i = 0; i < r->n; i++)
		res->probes_sent += r->p[i].err == 0;
	res->replies = r->replies;
	res->esp_errno = r->esp_errno;
	res->no_sa = r->no_sa;
	memcpy(res->no_sa_why, r->no_sa_why, sizeof(res->no_sa_why));
}

const char *ms_probe_dir_name(enum ms_probe_dir_state s)
{
	static const char *const n[] = { "unknown", "ok", "blocked", "no-sa" };

	return s <= MS_DIR_NO_SA ? n[s] : "?";
}

static unsigned say(char *buf, size_t cap, size_t *at, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static unsigned say(char *buf, size_t cap, size_t *at, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*at >= cap)
		return 1;
	va_start(ap, fmt);
	k = vsnprintf(buf + *at, cap - *at, fmt, ap);
	va_end(ap);
	*at += k > 0 ? (size_t)k : 0;
	if (*at < cap)
		buf[(*at)++] = '\n', buf[*at < cap ? *at : cap - 1] = '\0';
	return 1;
}

unsigned ms_probe_findings(const struct ms_probe_result *res, const char *self, const char *peer, unsigned port,
			   char *buf, size_t cap)
{
	static const char esp_fix[] = "allow IP protocol 50 (ESP) between members in the firewall or security group";
	unsigned problems = 0;
	size_t at = 0;

	if (cap)
		buf[0] = '\0';
	if (res->esp_out == MS_DIR_NO_SA || res->esp_in == MS_DIR_NO_SA) {
		char refused[128];

		snprintf(refused, sizeof(refused), "the kernel refused to send ESP: %s",
			 strerror(res->esp_errno ? res->esp_errno : EAGAIN));
		problems += say(buf, cap, &at, "%s has no SA to %s (%s): ESP between them cannot be checked until the pair is "
				"up: see `meshsec show %s`", self, peer, res->no_sa_why[0] ? res->no_sa_why : refused, peer);
	}
	if (!res->answered) {
		problems += say(buf, cap, &at, "no answer from %s's agent: it is not running or predates netcheck, or udp/%u and ESP "
				"are both blocked between %s and %s: check `meshsec status` on %s, then allow udp/%u and %s",
				peer, port, self, peer, peer, port, esp_fix);
		return problems;
	}
	if (res->clear_out == MS_DIR_BLOCKED)
		problems += say(buf, cap, &at, "handshake port udp/%u blocked from %s to %s: allow udp/%u from %s to %s in the "
				"firewall or security group", port, self, peer, port, self, peer);
	if (res->clear_in == MS_DIR_BLOCKED)
		problems += say(buf, cap, &at, "handshake port udp/%u blocked from %s to %s: allow udp/%u from %s to %s in the "
				"firewall or security group", port, peer, self, port, peer, self);
	if (res->esp_out == MS_DIR_BLOCKED)
		problems += say(buf, cap, &at, "ESP (IP protocol 50) from %s to %s is dropped on the way: %s", self, peer, esp_fix);
	if (res->esp_in == MS_DIR_BLOCKED)
		problems += say(buf, cap, &at, "ESP (IP protocol 50) from %s to %s is dropped on the way (or %s has no SA to %s): "
				"%s; if it is allowed, run `meshsec rekey %s`", peer, self, peer, self, esp_fix, peer);
	if (!res->no_sa && res->mtu_arrived && res->mtu_lost && res->kernel_mtu && res->mtu_lost <= res->kernel_mtu)
		problems += say(buf, cap, &at, "packets over %u bytes from %s to %s are lost after ESP although the kernel allows "
				"%u: a link on the way has a smaller MTU and no 'fragmentation needed' reaches %s; lower the "
				"interface MTU by %u bytes, or let ICMP 'fragmentation needed' / ICMPv6 'packet too big' through",
				res->mtu_arrived, self, peer, res->kernel_mtu, self, res->kernel_mtu - res->mtu_arrived);
	return problems;
}
