/*
 * netcheck, sans I/O (common/PROTOCOL.md, "Reachability probes"): what a firewall or security
 * group between two members blocks, found by probing through the peer's agent.
 *
 * The requester sends PROBEs on two channels: "clear" from the agent's socket that bypasses
 * IPsec, and "ESP" from a socket whose own policies let it send and receive only as ESP
 * (xnl_socket_esp), whatever mode the pair is in.  The answerer replies to every small probe on both channels, each reply
 * listing which probes of the run it has received, so each of the four directions is told
 * apart.  Large probes (DF set) measure the path MTU left after ESP; they are only recorded.
 *
 * The answerer's side (ms_probe_answer) and the requester's (struct ms_probe_run) share one
 * struct ms_probe_node, which holds the per-peer MAC keys, challenges and budgets.  Nothing
 * here touches a pair's handshake state.
 */
#ifndef MESHSEC_PROBE_H
#define MESHSEC_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshsec/wire.h"

enum ms_probe_channel { MS_PROBE_CLEAR = 1, MS_PROBE_ESP = 2 };
#define MS_PROBE_F_REPLY 1	/* PROBE: answer it (small probes); without: only recorded (MTU probes) */
#define MS_PROBE_F_STALE 1	/* PROBE_REPLY: the probe did not echo my probe challenge; echo chal */

#define MS_PROBE_SEQS 64		/* probes per run (the "seen" bitmap) */
#define MS_PROBE_RUNS 4			/* runs an answerer tracks per peer */
#define MS_PROBE_REPLY_MAX (8 + 2 * MS_NAME_MAX + 16 + 8 + 12 + MS_WIRE_MAC_LEN)
/* Answers per peer: a burst, then a rate; a probe with a stale echo at most every STALE_GAP. */
#define MS_PROBE_BURST 10u
#define MS_PROBE_PER_S 5u
#define MS_PROBE_STALE_GAP_MS 250u
#define MS_PROBE_CHAL_LIFETIME_MS 60000u
/* The requester: a round of two small probes this often; MTU probes once the peer answers. */
#define MS_PROBE_ROUND_MS 400u

enum ms_probe_verdict {
	MS_PROBE_ANSWERED,	/* fresh small probe: two replies in out */
	MS_PROBE_RECORDED,	/* fresh MTU probe: noted, no reply */
	MS_PROBE_STALE,		/* echo not current: replies carry the challenge (at most every STALE_GAP) */
	MS_PROBE_REPLAY,	/* that probe of that run was seen already */
	MS_PROBE_RATE_LIMITED,	/* authentic, over the peer's answer budget */
	MS_PROBE_BAD_MAC,
	MS_PROBE_MALFORMED,
	MS_PROBE_UNEXPECTED,	/* a reply no run of ours waits for */
	MS_PROBE_REPLY_OK,	/* a reply accepted by a run */
	MS_PROBE_VERDICT_COUNT
};
const char *ms_probe_verdict_name(enum ms_probe_verdict v);

struct ms_probe_node;

struct ms_probe_node *ms_probe_node_new(const char *mesh, const char *self, const uint8_t secret[32]);
void ms_probe_node_free(struct ms_probe_node *n);
/* What peer id (the shell's; a reused id with another name starts afresh) sent us. */
const uint64_t *ms_probe_counts(const struct ms_probe_node *n, int peer, const char *name);

/* Replies to send: each on its channel, to the peer's inventory address at port. */
struct ms_probe_out {
	size_t n;
	struct ms_probe_dgram {
		enum ms_probe_channel channel;
		uint16_t port;		/* 0: the mesh port */
		size_t len;
		uint8_t buf[MS_PROBE_REPLY_MAX];
	} d[2];
};

/*
 * A PROBE from peer (the shell checked the receiver, the sender and the source address).
 * Costs one MAC; only a fresh, unseen, authentic probe within the budget is answered.
 */
enum ms_probe_verdict ms_probe_answer(struct ms_probe_node *n, int peer, const char *name, const uint8_t *buf,
				      size_t len, uint64_t now_ms, struct ms_probe_out *out);

/* One direction's finding. */
enum ms_probe_dir_state { MS_DIR_UNKNOWN, MS_DIR_OK, MS_DIR_BLOCKED, MS_DIR_NO_SA };
const char *ms_probe_dir_name(enum ms_probe_dir_state s);

struct ms_probe_result {
	enum ms_probe_dir_state clear_out, clear_in, esp_out, esp_in;	/* out: us -> peer */
	bool answered;			/* any authentic reply */
	uint64_t rtt_clear_us, rtt_esp_us;	/* best seen; 0: none */
	unsigned kernel_mtu;		/* the kernel's path MTU after ESP (inner IP packet), 0: unknown */
	unsigned mtu_arrived;		/* largest inner IP packet that reached the peer as ESP, 0: none */
	unsigned mtu_lost;		/* smallest one that did not (0: none lost) */
	unsigned probes_sent, replies;
	int esp_errno;			/* why our kernel refused ESP probes (MS_DIR_NO_SA) */
	bool no_sa;			/* the shell said the pair had no current SA (ms_probe_run_no_sa) */
	char no_sa_why[256];		/* and why: the peer's reason */
};

/* One netcheck to one peer. */
struct ms_probe_run {
	int peer;
	char name[MS_NAME_MAX + 1];
	uint64_t id, deadline_ms, next_ms;
	unsigned ip_hdr;		/* 20 (IPv4) or 40 (IPv6): probe sizes are inner IP packets */
	uint16_t esp_port;		/* where the peer's ESP replies come back */
	unsigned kernel_mtu;
	int esp_errno;			/* last local refusal to send ESP (no SA): errno */
	bool no_sa;			/* ms_probe_run_no_sa was called */
	char no_sa_why[256];
	unsigned phase;			/* 0 small probes only, 1 coarse MTU sent, 2 fine MTU sent, 3 settled */
	uint16_t mark;			/* the first small probe sent after the last MTU batch */
	uint16_t n;			/* probes made */
	bool fresh;			/* the peer answered a probe as fresh: our echo is current */
	struct ms_probe_q {
		uint8_t channel, flags;
		uint16_t size;		/* inner IP packet; 0: the smallest probe */
	} q[24];			/* this round's probes, sent one per ms_probe_run_next */
	unsigned qn, qi;
	struct ms_probe_sent {
		uint8_t channel, flags;
		int err;		/* the kernel refused to send it: -errno */
		uint16_t size;		/* inner IP packet */
		uint64_t sent_ms;
		uint8_t mac[MS_WIRE_MAC_LEN];
	} p[MS_PROBE_SEQS];
	uint64_t seen;			/* union of the peer's reports */
	bool got[3];			/* a reply arrived on channel 1 (clear) / 2 (ESP) */
	uint64_t rtt_us[3];
	unsigned replies;
};

/*
 * id: random, names the run; esp_port: our ESP socket's port; kernel_mtu: IP_MTU of a
 * connected non-bypass socket to the peer (0 if unknown); family AF_INET or AF_INET6.
 */
void ms_probe_run_init(struct ms_probe_run *r, int peer, const char *name, uint64_t id, int family,
		       uint16_t esp_port, unsigned kernel_mtu, uint64_t now_ms, uint64_t timeout_ms);
/*
 * The next probe due at now, encoded into buf (MS_PROBE_WIRE_MAX bytes): returns its length
 * (0: nothing due), *channel says where it goes, *seq names it for ms_probe_run_sent.
 */
size_t ms_probe_run_next(struct ms_probe_run *r, struct ms_probe_node *n, uint64_t now_ms, uint8_t *buf,
			 enum ms_probe_channel *channel, uint16_t *seq);
/*
 * The shell's word that the pair has no current outbound SA for this family (why: the peer's
 * reason, one sentence), asked when the run starts and when it ends.  The kernel need not refuse
 * to send ESP without an SA: with xfrm_larval_drop (the default) it takes the packet and drops
 * it, and its IP_MTU is then the blackhole route's.  So the ESP directions that got no evidence
 * are MS_DIR_NO_SA, never blocked, and no MTU is reported or probed.
 */
void ms_probe_run_no_sa(struct ms_probe_run *r, const char *why);
/* The kernel refused to send probe seq (rc = -errno), or took it (0). */
void ms_probe_run_sent(struct ms_probe_run *r, uint16_t seq, int rc);
/* A PROBE_REPLY for this run (ms_probe_reply_run says which) that came in on channel. */
enum ms_probe_verdict ms_probe_run_input(struct ms_probe_run *r, struct ms_probe_node *n, enum ms_probe_channel channel,
					 const uint8_t *buf, size_t len, uint64_t now_ms);
/* The run a PROBE_REPLY names (framing only, no MAC): 0 if it is not one. */
uint64_t ms_probe_reply_run(const uint8_t *buf, size_t len, char sender[MS_NAME_MAX + 1]);
/* Everything is known, or the time is up. */
bool ms_probe_run_done(const struct ms_probe_run *r, uint64_t now_ms);
/* When to call ms_probe_run_next again. */
uint64_t ms_probe_run_deadline(const struct ms_probe_run *r);
void ms_probe_run_result(const struct ms_probe_run *r, struct ms_probe_result *res);

/*
 * What an operator reads: one line per finding, each naming what is blocked, the direction and
 * the fix; "" ends the list.  Written into buf (lines separated by '\n'); returns the count of
 * problems found (0: everything reachable).
 */
unsigned ms_probe_findings(const struct ms_probe_result *res, const char *self, const char *peer, unsigned port,
			   char *buf, size_t cap);

#endif
