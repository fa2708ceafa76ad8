/*
 * Why a peer is not up, from what this node observed of it (agent/CONTROL.md, "Reasons").
 *
 * The core keeps, per peer, when it last saw each kind of evidence: an authentic datagram from
 * the peer, one that failed its MAC, a replayed or rate-limited keepalive, a kernel refusal of
 * the pair's SAs (with errno and extended-ack text), whether the shell found a foreign policy
 * on one of its selectors, and whether the last send to it failed (with errno).  A piece of evidence counts while nothing better has happened since
 * (no authentic message after a bad MAC, no established keys after a refusal) and while it is
 * recent: both ends retransmit at least every HS_RETX_MAX_MS, so evidence that stopped coming for
 * twice that (or dead_after_seconds, if longer) describes the past, not the present.  A refusal
 * has no age limit (the engine's retry backoff grows past any window, and the reason would flap
 * with it): keys established end it.
 *
 * Anyone can send datagrams with a peer's address, so one failed MAC proves nothing: it takes
 * two, with no authentic datagram between, and the message says forgery is the other cause.
 * no_answer and no_handshake are told apart by when the peer last spoke, with hysteresis: a peer
 * that answers each of our retries (every HS_RETX_MAX_MS at most, which equals the default
 * dead_after_seconds) would otherwise flip between the two, a warning each time.
 *
 * A change of reason is logged once at warn (the first tries at debug: every start has them),
 * and emitted as an event; status asks core_peer_why at any time.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core_internal.h"

static const char *const reason_codes[CORE_REASON_COUNT] = {
	"none", "handshaking", "no_answer", "auth_failed", "kernel_refused", "policy_conflict",
	"replay", "rate_limited", "no_handshake", "send_failed", "esp_blocked",
};

static const char *const event_names[CORE_EV_COUNT] = {
	"handshake", "rekey", "up", "down", "reason", "self_heal",
};

const char *core_reason_code(enum core_reason r)
{
	return r < CORE_REASON_COUNT ? reason_codes[r] : "?";
}

const char *core_event_name(enum core_event_type t)
{
	return t < CORE_EV_COUNT ? event_names[t] : "?";
}

void core_emit(struct core *c, enum core_event_type type, int id, const struct core_why *why, const char *detail)
{
	struct core_event ev = { .type = type, .peer = c->peers[id].name, .why = why, .detail = detail };
	struct hs_peer_info info;

	if (!c->ops->event)
		return;
	core_peer_info(c, id, &info);
	ev.handshakes = info.handshakes;
	c->ops->event(c->ctx, &ev);
}

void core_peer_conflict(struct core *c, int id, bool conflict)
{
	if (id >= 0 && (size_t)id < c->cap && c->peers[id].used)
		c->peers[id].conflict = conflict;
}

/* Seen after `after` and within the window that makes it current. */
static bool current(uint64_t t, uint64_t after, uint64_t now, uint64_t window)
{
	return t && t > after && now - t <= window;
}

static void say(struct core_why *w, enum core_reason code, const char *fix)
{
	w->code = code;
	snprintf(w->fix, sizeof(w->fix), "%s", fix);
}

void core_peer_why(const struct core *c, int id, uint64_t now, struct core_why *w)
{
	const struct core_peer *p = &c->peers[id];
	const struct ms_addr *to = c->self4.family && p->v4.family ? &p->v4 : &p->v6;
	uint64_t dead = (uint64_t)c->dead_after_s * 1000;
	uint64_t window = 2 * (dead > HS_RETX_MAX_MS ? dead : HS_RETX_MAX_MS);
	struct hs_peer_info info;
	char addr[MS_ADDR_STRLEN];

	memset(w, 0, sizeof(*w));
	if (p->state == PEER_UP)
		return;
	core_peer_info(c, id, &info);
	ms_addr_format(to, addr, sizeof(addr));
	if (current(p->refused_ms, info.established ? info.established_ms : 0, now, UINT64_MAX) && p->refused_errno == EEXIST) {
		snprintf(w->message, sizeof(w->message), "the kernel refused an SA for %s: another owner's SA already has the "
			 "SPI the peer announced (File exists); meshsec leaves it alone and agrees new SPIs", p->name);
		say(w, CORE_REASON_KERNEL_REFUSED, "none if the pair comes up; if this stays, `ip xfrm state` shows the other "
		    "owner's SA, and a peer that keeps announcing taken SPIs is misbehaving");
	} else if (current(p->refused_ms, info.established ? info.established_ms : 0, now, UINT64_MAX)) {
		snprintf(w->message, sizeof(w->message), "the kernel refused the SAs for %s%s%s%s%s", p->name,
			 p->refused_errno ? ": " : "", p->refused_errno ? strerror(p->refused_errno) : "",
			 p->refused_ext[0] ? ": " : "", p->refused_ext);
		say(w, CORE_REASON_KERNEL_REFUSED, "run `meshsec doctor` as root: it checks that the kernel has ESP and "
		    "the cipher (modprobe esp4 esp6); the agent retries with backoff");
	} else if (p->conflict) {
		snprintf(w->message, sizeof(w->message), "another owner's IPsec policy holds a selector meshsec needs for %s",
			 p->name);
		say(w, CORE_REASON_POLICY_CONFLICT, "`meshsec status --json` lists it under policy_conflicts; if it is stale, "
		    "delete it with `ip xfrm policy delete ...` and meshsec installs its own within 30 s");
	} else if (p->bad_macs >= 2 && current(p->bad_mac_ms, p->heard_ms, now, window)) {
		snprintf(w->message, sizeof(w->message), "datagrams from %s fail authentication: the mesh secret or the "
			 "mesh name differs from this node's (or someone forges that address)", p->name);
		say(w, CORE_REASON_AUTH_FAILED, "compare the secret fingerprint and mesh name that `meshsec check` prints on "
		    "both nodes; ship the same mesh.key and inventory, then restart meshsecd");
	} else if (current(p->replay_ms, info.last_seen_ms, now, window)) {
		snprintf(w->message, sizeof(w->message), "messages from %s are rejected as replays (not newer than ones "
			 "already accepted)", p->name);
		say(w, CORE_REASON_REPLAY, "if nothing replays old datagrams on the path, run `meshsec rekey` on both nodes "
		    "to start a fresh session");
	} else if (current(p->rate_ms, info.last_seen_ms, now, window)) {
		snprintf(w->message, sizeof(w->message), "keepalives from %s come faster than %u per second and are dropped",
			 p->name, HS_PONG_PER_S);
		say(w, CORE_REASON_RATE_LIMITED, "check that only one meshsecd runs for that node (`meshsec status` there) "
		    "and that its keepalive_seconds matches the inventory");
	} else if (p->send_errno) {
		snprintf(w->message, sizeof(w->message), "this node cannot send to %s at %s port %u: %s", p->name, addr,
			 c->port, strerror(p->send_errno));
		say(w, CORE_REASON_SEND_FAILED, "the error is local, not the peer's: check this node's route to the peer "
		    "(`ip route get ADDRESS`) and its neighbour table (`ip neigh`; raise net.ipv4.neigh.default.gc_thresh3 "
		    "and the IPv6 one on large flat networks)");
	} else if (p->state == PEER_CONNECTING) {
		snprintf(w->message, sizeof(w->message), "handshake with %s under way (%u retransmissions so far)", p->name,
			 info.tries);
		say(w, CORE_REASON_HANDSHAKING, "none needed yet; if it stays, `meshsec show` says why");
	} else if (!p->heard_ms || now - p->heard_ms >= (p->reason == CORE_REASON_NO_HANDSHAKE ? window : dead) ||
		   (p->reason == CORE_REASON_NO_ANSWER && p->heard_ms <= p->reason_ms)) {
		if (p->heard_ms)
			snprintf(w->message, sizeof(w->message), "no answer from %s at %s port %u for %llu s", p->name, addr,
				 c->port, (unsigned long long)((now - p->heard_ms) / 1000));
		else
			snprintf(w->message, sizeof(w->message), "no answer from %s at %s port %u: nothing was ever received",
				 p->name, addr, c->port);
		say(w, CORE_REASON_NO_ANSWER, "check that meshsecd runs on the peer (`meshsec status` there) and that "
		    "firewalls and security groups pass UDP on the mesh port both ways (`meshsec doctor`)");
	} else if (now - p->since_ms < HS_RETX_MAX_MS) {	/* a peer coming back answers a few rounds first */
		snprintf(w->message, sizeof(w->message), "%s answers; a handshake with it is under way", p->name);
		say(w, CORE_REASON_HANDSHAKING, "none needed yet; if it stays, `meshsec show` says why");
	} else {
		snprintf(w->message, sizeof(w->message), "%s answers, but no handshake with it completes", p->name);
		say(w, CORE_REASON_NO_HANDSHAKE, "run `meshsec show` for this node on the peer: its reason names what it "
		    "refuses (a kernel without ESP, a clock or version mismatch); else set `meshsec log-level debug` on "
		    "both nodes and read the agents' logs");
	}
}

void core_reason_update(struct core *c, int id, enum peer_state before, uint64_t now)
{
	struct core_peer *p = &c->peers[id];
	struct core_why w;

	core_peer_why(c, id, now, &w);
	if (p->state == PEER_UP) {
		if (before != PEER_UP && before != PEER_CONNECTING)
			core_emit(c, CORE_EV_UP, id, NULL, NULL);
	} else if (p->state == PEER_DOWN && before != PEER_DOWN) {
		if (w.code == p->reason)	/* said already, while connecting */
			core_logf(c, CORE_LOG_INFO, "peer %s: down: %s", p->name, w.message);
		else
			core_logf(c, CORE_LOG_WARN, "peer %s: down: %s; fix: %s", p->name, w.message, w.fix);
		core_emit(c, CORE_EV_DOWN, id, &w, NULL);
	} else if (w.code != p->reason) {
		core_logf(c, w.code == CORE_REASON_HANDSHAKING ? CORE_LOG_DEBUG : CORE_LOG_WARN, "peer %s: %s; fix: %s",
			  p->name, w.message, w.fix);
		if (w.code != CORE_REASON_HANDSHAKING)	/* every start has it: not news */
			core_emit(c, CORE_EV_REASON, id, &w, NULL);
	}
	if (w.code != p->reason)
		p->reason_ms = now;
	p->reason = w.code;
}
