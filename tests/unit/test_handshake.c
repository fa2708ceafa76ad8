/*
 * The handshake engine against itself: two engines, a simulated network that can lose,
 * duplicate, reorder and replay datagrams, and a fake SA table per node that checks what the
 * engine asks the kernel to do.  Time is simulated; nothing sleeps.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <sodium.h>

#include "meshsec/handshake.h"

#define MAX_SA 64
#define MAX_Q 64
#define MAX_SEEN 512

struct sa {
	bool used;
	enum ms_dir dir;
	int family;
	uint32_t spi;
	uint8_t key[MS_TRAFFIC_KEY_MAX];
};

struct node {
	const char *name;
	struct hs_engine *e;
	int peer;	/* the other node's id in e */
	struct sa sa[MAX_SA];
	uint32_t next_spi;
	int fail_alloc;		/* refuse this many SPI allocations (a kernel that is not ready) */
	int ups;
	/* Every (spi, key) this node ever installed, to prove none is installed twice. */
	struct { uint32_t spi; uint8_t key[MS_TRAFFIC_KEY_MAX]; } seen[MAX_SEEN];
	size_t n_seen;
};

struct pkt {
	int to;
	size_t len;
	uint8_t buf[MS_WIRE_MAX];
};

static struct node nodes[2];
static struct pkt q[MAX_Q];
static size_t qn;
static uint64_t now_ms;
static uint8_t secret[32], other_secret[32];
static struct hs_out out;

static int alloc_spi(void *ctx, int peer, int family, uint32_t *spi)
{
	struct node *n = ctx;

	(void)peer, (void)family;
	if (n->fail_alloc > 0) {
		n->fail_alloc--;
		return -ENOMEM;
	}
	*spi = n->next_spi++;
	return 0;
}

static struct sa *find_sa(struct node *n, enum ms_dir dir, int family, uint32_t spi)
{
	for (int i = 0; i < MAX_SA; i++)
		if (n->sa[i].used && n->sa[i].dir == dir && n->sa[i].family == family && n->sa[i].spi == spi)
			return &n->sa[i];
	return NULL;
}

static int count_sa(struct node *n, enum ms_dir dir, int family)
{
	int c = 0;

	for (int i = 0; i < MAX_SA; i++)
		c += n->sa[i].used && n->sa[i].dir == dir && n->sa[i].family == family;
	return c;
}

/*
 * Invariant 8 of the design, checked on every action: a message announcing SPIs leaves only
 * when its sender's inbound SAs with those SPIs exist, and an outbound SA is added only when the
 * peer's inbound SA with that SPI and the same key exists.
 */
static void check_announced(struct node *n, const struct hs_action *a)
{
	const int fams[2] = { AF_INET, AF_INET6 };
	struct ms_msg m;

	if (ms_wire_peek(a->buf, a->len, &m) != MS_WIRE_OK)
		fail_msg("%s sent a malformed message", n->name);
	ms_wire_decode_body(a->buf, a->len, &m);
	if (m.type != MS_MSG_RESP && m.type != MS_MSG_CONFIRM)
		return;
	for (int f = 0; f < 2; f++)
		if (m.spi[f] && !find_sa(n, MS_DIR_IN, fams[f], m.spi[f]))
			fail_msg("%s announced inbound SPI %#x before installing it", n->name, m.spi[f]);
}

static void check_peer_inbound(struct node *n, int self, const struct hs_action *a)
{
	struct sa *in = find_sa(&nodes[1 - self], MS_DIR_IN, a->family, a->spi);

	if (!in || memcmp(in->key, a->key, a->key_len) != 0)
		fail_msg("%s added outbound SPI %#x before the peer had that inbound SA", n->name, a->spi);
}

/* Carries out the engine's actions the way the agent does, checking each. */
static void run_actions(int self)
{
	struct node *n = &nodes[self];

	for (size_t i = 0; i < out.n; i++) {
		struct hs_action *a = &out.act[i];
		struct sa *s;

		switch (a->type) {
		case HS_ACT_SEND:
			check_announced(n, a);
			assert_true(qn < MAX_Q);
			q[qn].to = 1 - self;
			q[qn].len = a->len;
			memcpy(q[qn].buf, a->buf, a->len);
			qn++;
			break;
		case HS_ACT_SA_ADD:
			if (find_sa(n, a->dir, a->family, a->spi))
				fail_msg("%s: SA %s spi %#x installed twice", n->name, a->dir == MS_DIR_IN ? "in" : "out", a->spi);
			for (size_t j = 0; j < n->n_seen; j++)
				if (memcmp(n->seen[j].key, a->key, a->key_len) == 0)
					fail_msg("%s: a key was installed before (spi %#x, now %#x)", n->name, n->seen[j].spi, a->spi);
			if (a->dir == MS_DIR_OUT)
				check_peer_inbound(n, self, a);
			assert_true(n->n_seen < MAX_SEEN);
			n->seen[n->n_seen].spi = a->spi;
			memcpy(n->seen[n->n_seen++].key, a->key, a->key_len);
			for (s = n->sa; s->used; s++)
				;
			s->used = true, s->dir = a->dir, s->family = a->family, s->spi = a->spi;
			memcpy(s->key, a->key, a->key_len);
			break;
		case HS_ACT_SA_DEL:
			s = find_sa(n, a->dir, a->family, a->spi);
			if (!s)
				fail_msg("%s: delete of an SA that does not exist (spi %#x)", n->name, a->spi);
			s->used = false;
			break;
		case HS_ACT_UP:
			n->ups++;
			break;
		}
	}
	sodium_memzero(&out, sizeof(out));
}

static void make_node(int i, const char *name, const char *peer, const uint8_t *key, const char *mesh, unsigned fams)
{
	struct node *n = &nodes[i];

	hs_engine_free(n->e);
	memset(n, 0, sizeof(*n));
	n->name = name;
	n->next_spi = (i + 1) * 0x1000 + (uint32_t)(now_ms & 0xff) * 0x10;
	n->e = hs_engine_new(mesh, name, MS_CIPHER_AES_GCM_256, key, alloc_spi, n);
	assert_non_null(n->e);
	n->peer = hs_peer_add(n->e, peer, fams);
	assert_true(n->peer >= 0);
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	memset(secret, 7, sizeof(secret));
	memset(other_secret, 8, sizeof(other_secret));
	qn = 0, now_ms = 1000;
	make_node(0, "a", "b", secret, "m", HS_FAM_V4 | HS_FAM_V6);
	make_node(1, "b", "a", secret, "m", HS_FAM_V4 | HS_FAM_V6);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		hs_engine_free(nodes[i].e);
		nodes[i].e = NULL;
	}
	return 0;
}

static enum hs_verdict deliver_one(size_t k)
{
	int peer, to = q[k].to;
	enum hs_verdict v = hs_receive(nodes[to].e, q[k].buf, q[k].len, now_ms, &out, &peer);

	run_actions(to);
	return v;
}

/* Delivers the queue in order (including what deliveries add), each packet with the fate given. */
enum fate { KEEP, DROP_ALL, DUP_ALL, DROP_FROM_B };
static void pump(enum fate f)
{
	for (size_t k = 0; k < qn; k++) {
		if (f == DROP_ALL || (f == DROP_FROM_B && q[k].to == 0))
			continue;
		deliver_one(k);
		if (f == DUP_ALL)
			deliver_one(k);
	}
	qn = 0;
}

static void initiate(int i)
{
	hs_initiate(nodes[i].e, nodes[i].peer, now_ms, false, &out);
	run_actions(i);
}

static void force(int i)
{
	assert_int_equal(hs_initiate(nodes[i].e, nodes[i].peer, now_ms, true, &out), 0);
	run_actions(i);
}

static void tick_both(uint64_t advance)
{
	now_ms += advance;
	for (int i = 0; i < 2; i++) {
		hs_tick(nodes[i].e, now_ms, &out);
		run_actions(i);
	}
}

/* Converged: one SA per direction and family on each side (after grace), keys crossing. */
static void assert_converged(void)
{
	const int fams[2] = { AF_INET, AF_INET6 };

	tick_both(HS_OLD_INBOUND_GRACE_MS + 1);
	assert_int_equal(qn, 0);
	for (int f = 0; f < 2; f++)
		for (int i = 0; i < 2; i++) {
			struct hs_peer_info me, other;
			struct sa *o, *in;

			hs_peer_info(nodes[i].e, nodes[i].peer, &me);
			hs_peer_info(nodes[1 - i].e, nodes[1 - i].peer, &other);
			assert_true(me.established);
			assert_int_equal(count_sa(&nodes[i], MS_DIR_OUT, fams[f]), 1);
			assert_int_equal(count_sa(&nodes[i], MS_DIR_IN, fams[f]), 1);
			/* my outbound SPI is the peer's inbound SPI, with the same key */
			assert_int_equal(me.out_spi[f], other.in_spi[f]);
			o = find_sa(&nodes[i], MS_DIR_OUT, fams[f], me.out_spi[f]);
			in = find_sa(&nodes[1 - i], MS_DIR_IN, fams[f], other.in_spi[f]);
			assert_non_null(o);
			assert_non_null(in);
			assert_memory_equal(o->key, in->key, 36);
		}
}

static struct hs_peer_info info_of(int i)
{
	struct hs_peer_info info;

	hs_peer_info(nodes[i].e, nodes[i].peer, &info);
	return info;
}

/* A first handshake, so both ends know each other's challenge: what follows is a rekey. */
static void established_pair(void)
{
	initiate(0);
	pump(KEEP);
	assert_converged();
}

/* First contact: nobody knows the responder's challenge, so INIT, CHALLENGE, INIT, RESP, CONFIRM. */
static void test_basic(void **state)
{
	(void)state;
	initiate(0);
	assert_int_equal(deliver_one(0), HS_DROP_CHALLENGED);
	assert_int_equal(count_sa(&nodes[1], MS_DIR_IN, AF_INET), 0);	/* a CHALLENGE, nothing else */
	assert_int_equal(deliver_one(1), HS_ACCEPTED);			/* a: a new INIT with the echo */
	assert_int_equal(deliver_one(2), HS_ACCEPTED);			/* b: RESP */
	assert_int_equal(deliver_one(3), HS_ACCEPTED);			/* a: CONFIRM */
	assert_int_equal(deliver_one(4), HS_ACCEPTED);
	qn = 0;
	assert_converged();
	assert_int_equal(nodes[0].ups, 1);
	assert_int_equal(nodes[1].ups, 1);
}

/* Forward secrecy: ephemeral keys and pending traffic keys exist only while a handshake needs them. */
static void test_secrets_wiped(void **state)
{
	(void)state;
	established_pair();
	initiate(0);
	assert_true(hs_peer_holds_secrets(nodes[0].e, nodes[0].peer));		/* waiting for RESP: needs its ephemeral */
	assert_int_equal(deliver_one(0), HS_ACCEPTED);	/* b answers: its ephemeral is gone at once, */
	assert_true(hs_peer_holds_secrets(nodes[1].e, nodes[1].peer));		/* but its outbound keys wait for CONFIRM */
	deliver_one(1);				/* a: RESP -> CONFIRM */
	assert_false(hs_peer_holds_secrets(nodes[0].e, nodes[0].peer));
	deliver_one(2);				/* b: CONFIRM */
	qn = 0;
	assert_false(hs_peer_holds_secrets(nodes[1].e, nodes[1].peer));
	assert_true(info_of(0).established && info_of(1).established);
}

static void test_higher_name_initiates(void **state)
{
	(void)state;
	initiate(1);
	pump(KEEP);
	assert_converged();
}

static void test_simultaneous(void **state)
{
	(void)state;
	initiate(0);
	initiate(1);
	pump(KEEP);
	assert_converged();
	assert_int_equal(info_of(0).handshakes, 1);	/* exactly one handshake won */
	assert_int_equal(info_of(1).handshakes, 1);
	assert_int_equal(info_of(0).drops[HS_DROP_SIMULTANEOUS] + info_of(1).drops[HS_DROP_SIMULTANEOUS], 1);
}

/* The same, when both already know each other's challenge (a rekey both ends start at once). */
static void test_simultaneous_rekey(void **state)
{
	(void)state;
	established_pair();
	initiate(0);
	initiate(1);
	pump(KEEP);
	assert_converged();
	assert_int_equal(info_of(0).handshakes, 2);
	assert_int_equal(info_of(1).handshakes, 2);
}

static void test_lost_init(void **state)
{
	(void)state;
	initiate(0);
	pump(DROP_ALL);
	tick_both(HS_RETX_FIRST_MS * 2);	/* a retransmits; b, idle, starts one of its own */
	assert_int_equal(qn, 2);
	pump(KEEP);
	assert_converged();
}

/* Every retransmission is a new INIT: new hs_id and ephemeral, so none can go stale. */
static void test_retransmission_is_a_new_init(void **state)
{
	struct ms_msg m1, m2;

	(void)state;
	initiate(0);
	assert_int_equal(ms_wire_peek(q[0].buf, q[0].len, &m1), MS_WIRE_OK);
	ms_wire_decode_body(q[0].buf, q[0].len, &m1);
	pump(DROP_ALL);
	now_ms += HS_RETX_FIRST_MS * 2;
	hs_tick(nodes[0].e, now_ms, &out);
	run_actions(0);
	assert_int_equal(qn, 1);
	assert_int_equal(ms_wire_peek(q[0].buf, q[0].len, &m2), MS_WIRE_OK);
	ms_wire_decode_body(q[0].buf, q[0].len, &m2);
	assert_int_equal(m2.type, MS_MSG_INIT);
	assert_int_not_equal(m1.hs_id, m2.hs_id);
	assert_memory_not_equal(m1.eph, m2.eph, MS_EPH_LEN);
	assert_memory_not_equal(m1.nonce, m2.nonce, MS_NONCE_LEN);
	qn = 0;
}

static void test_lost_resp(void **state)
{
	(void)state;
	established_pair();
	initiate(0);
	deliver_one(0);		/* B gets INIT, queues RESP at q[1] */
	qn = 0;			/* RESP lost */
	tick_both(HS_RETX_FIRST_MS * 2);	/* A sends a new INIT, B its RESP again */
	pump(KEEP);
	assert_converged();
	assert_int_equal(nodes[1].ups, 2);
}

static void test_lost_confirm(void **state)
{
	(void)state;
	established_pair();
	initiate(0);
	deliver_one(0);		/* RESP queued at 1 */
	deliver_one(1);		/* A established, CONFIRM queued at 2 */
	qn = 0;			/* CONFIRM lost */
	assert_int_equal(nodes[0].ups, 2);
	assert_int_equal(nodes[1].ups, 1);
	tick_both(HS_RETX_FIRST_MS * 2);	/* B retransmits RESP; A answers with the same CONFIRM */
	pump(KEEP);
	assert_converged();
	assert_int_equal(nodes[0].ups, 2);	/* no third handshake */
}

static void test_duplicates(void **state)
{
	(void)state;
	initiate(0);
	initiate(1);
	pump(DUP_ALL);
	assert_converged();
}

/* B answered and was never confirmed: it drops its pending SAs and starts a handshake itself,
 * since A may believe the pair is up with keys B no longer has. */
static void test_responder_gives_up(void **state)
{
	(void)state;
	established_pair();
	initiate(0);
	deliver_one(0);
	qn = 0;
	assert_int_equal(count_sa(&nodes[1], MS_DIR_IN, AF_INET), 2);	/* current and pending */
	hs_engine_free(nodes[0].e);	/* the initiator vanishes */
	nodes[0].e = hs_engine_new("m", "a", MS_CIPHER_AES_GCM_256, secret, alloc_spi, &nodes[0]);
	nodes[0].peer = hs_peer_add(nodes[0].e, "b", 3);
	for (int i = 0; i < 12 && info_of(1).state == HS_RESP_SENT; i++) {
		now_ms += HS_RETX_MAX_MS;
		hs_tick(nodes[1].e, now_ms, &out);
		run_actions(1);
	}
	/* B's unconfirmed inbound SAs are gone again; its current ones stay */
	assert_int_equal(count_sa(&nodes[1], MS_DIR_IN, AF_INET), 1);
	assert_int_equal(count_sa(&nodes[1], MS_DIR_IN, AF_INET6), 1);
	assert_int_equal(info_of(1).state, HS_INIT_SENT);
	qn = 0;
}

static void test_replay_and_reorder(void **state)
{
	struct pkt old[3];
	int peer;

	(void)state;
	established_pair();
	initiate(0);
	deliver_one(0);
	deliver_one(1);
	deliver_one(2);
	memcpy(old, q, sizeof(old));	/* INIT, RESP, CONFIRM as sent */
	qn = 0;
	assert_converged();
	/* Later, the same messages again: nothing is installed.  The INIT's challenge is used up, so
	 * it is only challenged (a small reply, no DH, no SPI, no SA). */
	assert_int_equal(hs_receive(nodes[1].e, old[0].buf, old[0].len, now_ms, &out, &peer), HS_DROP_CHALLENGED);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.act[0].type, HS_ACT_SEND);
	run_actions(1);
	assert_int_equal(deliver_one(0), HS_DROP_UNEXPECTED);	/* a has no INIT for that CHALLENGE */
	qn = 0;
	assert_int_equal(hs_receive(nodes[1].e, old[2].buf, old[2].len, now_ms, &out, &peer), HS_DROP_UNEXPECTED);
	assert_int_equal(out.n, 0);
	/* A replayed RESP only makes A repeat its CONFIRM, which B ignores. */
	hs_receive(nodes[0].e, old[1].buf, old[1].len, now_ms, &out, &peer);
	run_actions(0);
	pump(KEEP);
	assert_converged();
	assert_int_equal(nodes[0].ups + nodes[1].ups, 4);
}

/* No clock decides freshness: an INIT recorded at any time and replayed after B restarted (new
 * challenge) makes no SA, however old and whatever either clock says. */
static void test_replayed_init_after_restart(void **state)
{
	struct pkt first, accepted;
	int peer;

	(void)state;
	initiate(0);
	first = q[0];			/* echoes nothing */
	deliver_one(0);
	deliver_one(1);
	accepted = q[2];		/* echoed b's challenge: b accepted this one */
	pump(KEEP);
	assert_converged();
	make_node(1, "b", "a", secret, "m", 3);	/* B restarts */
	now_ms += 400ull * 24 * 3600 * 1000;	/* over a year later */
	assert_int_equal(hs_receive(nodes[1].e, first.buf, first.len, now_ms, &out, &peer), HS_DROP_CHALLENGED);
	assert_int_equal(out.n, 1);
	sodium_memzero(&out, sizeof(out));
	assert_int_equal(hs_receive(nodes[1].e, accepted.buf, accepted.len, now_ms, &out, &peer), HS_DROP_CHALLENGED);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.act[0].type, HS_ACT_SEND);
	sodium_memzero(&out, sizeof(out));
	assert_int_equal(count_sa(&nodes[1], MS_DIR_IN, AF_INET), 0);
	assert_false(info_of(1).established);
}

static void test_peer_restart_fresh_keys(void **state)
{
	struct hs_peer_info before, after;

	(void)state;
	established_pair();
	before = info_of(0);
	/* B's agent restarts with no memory; its fresh handshake replaces the pair's SAs. */
	make_node(1, "b", "a", secret, "m", 3);
	initiate(1);
	pump(KEEP);
	after = info_of(0);
	assert_int_not_equal(before.in_spi[0], after.in_spi[0]);
	assert_int_not_equal(before.out_spi[0], after.out_spi[0]);
	/* A keeps its old inbound SAs for the grace period, then deletes them. */
	assert_int_equal(count_sa(&nodes[0], MS_DIR_IN, AF_INET), 2);
	assert_converged();
	assert_int_equal(after.handshakes, 2);
}

static void test_rekey_is_fresh(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++) {
		initiate(i % 2);
		pump(KEEP);
		tick_both(1000);
	}
	assert_converged();	/* run_actions failed already if any key repeated */
	assert_int_equal(nodes[0].n_seen + nodes[1].n_seen, 5 * 2 * 4);	/* 5 handshakes, 2 nodes, 2 families x 2 directions */
}

/* Make-before-break on each side: the old outbound SA outlives the new one's arrival by the
 * outbound grace, the old inbound one by the inbound grace; never more than one generation back. */
static void test_rekey_keeps_old_sas_a_while(void **state)
{
	struct hs_peer_info a, b;

	(void)state;
	established_pair();
	for (int k = 0; k < 3; k++) {	/* three rekeys inside one outbound grace */
		initiate(k % 2);
		pump(KEEP);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(count_sa(&nodes[i], MS_DIR_OUT, AF_INET), 2);
			assert_int_equal(count_sa(&nodes[i], MS_DIR_IN, AF_INET), 2);
		}
		tick_both(HS_OLD_OUTBOUND_GRACE_MS / 4);
	}
	a = info_of(0);
	b = info_of(1);
	tick_both(HS_OLD_OUTBOUND_GRACE_MS * 3 / 4 - 1);
	assert_int_equal(count_sa(&nodes[0], MS_DIR_OUT, AF_INET), 2);
	tick_both(2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(count_sa(&nodes[i], MS_DIR_OUT, AF_INET), 1);
		assert_int_equal(count_sa(&nodes[i], MS_DIR_OUT, AF_INET6), 1);
		assert_int_equal(count_sa(&nodes[i], MS_DIR_IN, AF_INET), 2);
	}
	assert_non_null(find_sa(&nodes[0], MS_DIR_OUT, AF_INET, a.out_spi[0]));
	assert_int_equal(a.out_spi[0], b.in_spi[0]);
	assert_converged();
}

/* meshsec rekey: a forced handshake abandons whatever is under way and always starts anew. */
static void test_forced_rekey(void **state)
{
	struct ms_msg m1, m2;

	(void)state;
	established_pair();
	initiate(0);
	assert_int_equal(hs_initiate(nodes[0].e, nodes[0].peer, now_ms, false, &out), -EALREADY);
	assert_int_equal(ms_wire_peek(q[0].buf, q[0].len, &m1), MS_WIRE_OK);
	ms_wire_decode_body(q[0].buf, q[0].len, &m1);
	qn = 0;
	force(0);
	assert_int_equal(qn, 1);
	assert_int_equal(ms_wire_peek(q[0].buf, q[0].len, &m2), MS_WIRE_OK);
	ms_wire_decode_body(q[0].buf, q[0].len, &m2);
	assert_int_not_equal(m1.hs_id, m2.hs_id);
	deliver_one(0);		/* b: RESP_SENT, with pending inbound SAs */
	qn = 0;
	assert_int_equal(count_sa(&nodes[1], MS_DIR_IN, AF_INET), 2);
	force(1);		/* b forces one of its own: its pending SAs go */
	assert_int_equal(count_sa(&nodes[1], MS_DIR_IN, AF_INET), 1);
	assert_int_equal(info_of(1).state, HS_INIT_SENT);
	pump(KEEP);
	tick_both(HS_RETX_MAX_MS);	/* a was waiting for a RESP that never comes: it retries */
	pump(KEEP);
	assert_converged();
}

/*
 * Regression (issue 9): b consumed a's INIT, and every answer of b's was lost for 40 s, long
 * enough for b to give up.  Version 1 retransmitted the same INIT, which b dropped as a replay
 * forever.  Now the pair comes up once the loss stops.
 */
static void test_answers_lost_for_40s(void **state)
{
	uint64_t healed;

	(void)state;
	initiate(0);
	pump(KEEP);	/* challenge round: both know each other's challenge; pair up */
	assert_converged();
	make_node(0, "a", "b", secret, "m", 3);	/* a restarts: new keys needed */
	initiate(0);
	for (uint64_t t = 0; t < 40000; t += 100) {
		pump(DROP_FROM_B);
		tick_both(100);
	}
	pump(DROP_FROM_B);
	healed = now_ms;
	while (!(info_of(0).established && info_of(1).established && info_of(0).session == info_of(1).session) &&
	       now_ms - healed < 2 * HS_RETX_MAX_MS) {
		pump(KEEP);
		tick_both(100);
	}
	pump(KEEP);
	assert_true(now_ms - healed < 2 * HS_RETX_MAX_MS);
	assert_converged();
}

/* Regression (issue 9): b's kernel refused SPIs for a while (module loading, ENOMEM). */
static void test_responder_kernel_not_ready(void **state)
{
	(void)state;
	nodes[1].fail_alloc = 6;
	initiate(0);
	for (int i = 0; i < 600 && !(info_of(0).established && info_of(1).established); i++) {
		pump(KEEP);
		tick_both(100);
	}
	pump(KEEP);
	assert_int_equal(nodes[1].fail_alloc, 0);
	assert_converged();
}

/* Replayed INITs (recorded any time) are only challenged, however many: no state changes and
 * nothing is spent that a genuine handshake needs, which goes through at once. */
static void test_replays_starve_nothing(void **state)
{
	struct pkt init;
	int peer, challenged = 0;
	struct hs_peer_info before;

	(void)state;
	established_pair();
	initiate(1);		/* a recorded INIT of b's: a rekey */
	init = q[0];
	pump(KEEP);
	assert_converged();
	before = info_of(0);
	for (int i = 0; i < 100; i++) {
		challenged += hs_receive(nodes[0].e, init.buf, init.len, now_ms, &out, &peer) == HS_DROP_CHALLENGED;
		sodium_memzero(&out, sizeof(out));
	}
	assert_int_equal(challenged, 100);
	assert_int_equal(info_of(0).last_seen_ms, before.last_seen_ms);	/* no sign of life either */
	force(1);
	pump(KEEP);
	assert_converged();
	assert_int_equal(info_of(0).handshakes, before.handshakes + 1);
}

/* While a's INIT (which wins) is out, a replayed INIT of b's is challenged and changes nothing
 * at a: its handshake, its ephemeral and what it echoes stay. */
static void test_replay_during_simultaneous(void **state)
{
	struct pkt old;
	struct ms_msg before, after;
	int peer;

	(void)state;
	established_pair();
	initiate(1);
	old = q[0];
	pump(KEEP);
	assert_converged();
	initiate(0);
	assert_int_equal(ms_wire_peek(q[0].buf, q[0].len, &before), MS_WIRE_OK);
	ms_wire_decode_body(q[0].buf, q[0].len, &before);
	assert_int_equal(hs_receive(nodes[0].e, old.buf, old.len, now_ms, &out, &peer), HS_DROP_CHALLENGED);
	assert_int_equal(out.n, 1);
	sodium_memzero(&out, sizeof(out));
	tick_both(HS_RETX_FIRST_MS * 2);	/* a's retransmission still echoes b's real challenge */
	assert_int_equal(ms_wire_peek(q[1].buf, q[1].len, &after), MS_WIRE_OK);
	ms_wire_decode_body(q[1].buf, q[1].len, &after);
	assert_memory_equal(before.echo, after.echo, MS_CHAL_LEN);
	qn = 0;
}

/* An INIT withheld from b (dropped on the wire and kept) is fresh for two challenge lifetimes at
 * most: later, b only challenges it. */
static void test_withheld_init_goes_stale(void **state)
{
	struct pkt held;
	int peer;

	(void)state;
	established_pair();
	initiate(0);
	held = q[0];
	qn = 0;
	force(0);
	pump(KEEP);		/* a later handshake that a initiated: b's challenge does not change */
	assert_converged();
	now_ms += 2 * HS_CHAL_LIFETIME_MS + 1;
	assert_int_equal(hs_receive(nodes[1].e, held.buf, held.len, now_ms, &out, &peer), HS_DROP_CHALLENGED);
	assert_int_equal(out.n, 1);
	sodium_memzero(&out, sizeof(out));
}

/* PONGs are budgeted per peer: a member flooding fresh PINGs gets HS_PONG_BURST answers, then
 * HS_PONG_PER_S a second. */
static void test_pong_budget(void **state)
{
	int answered = 0, limited = 0;

	(void)state;
	established_pair();
	for (int i = 0; i < 100; i++) {
		assert_true(hs_ping(nodes[0].e, nodes[0].peer, now_ms, &out));
		run_actions(0);
		answered += deliver_one(0) == HS_ACCEPTED;
		limited += info_of(1).drops[HS_DROP_RATE_LIMITED] > (uint64_t)limited;
		qn = 0;
	}
	assert_int_equal(answered, HS_PONG_BURST);
	assert_int_equal(limited, 100 - HS_PONG_BURST);
}

static void test_wrong_secret_and_mesh(void **state)
{
	int peer;

	(void)state;
	make_node(1, "b", "a", other_secret, "m", 3);
	initiate(1);
	assert_int_equal(hs_receive(nodes[0].e, q[0].buf, q[0].len, now_ms, &out, &peer), HS_DROP_BAD_MAC);
	assert_int_equal(out.n, 0);
	qn = 0;
	make_node(1, "b", "a", secret, "other-mesh", 3);
	initiate(1);
	assert_int_equal(hs_receive(nodes[0].e, q[0].buf, q[0].len, now_ms, &out, &peer), HS_DROP_BAD_MAC);
	assert_int_equal(out.n, 0);
}

static void test_malformed(void **state)
{
	uint8_t big[MS_WIRE_MAX + 1], buf[MS_WIRE_MAX];
	size_t len;
	int peer;

	(void)state;
	initiate(1);
	len = q[0].len;
	memcpy(buf, q[0].buf, len);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(hs_receive(nodes[0].e, buf, cut, now_ms, &out, &peer), HS_DROP_MALFORMED);
	memset(big, 0, sizeof(big));
	memcpy(big, buf, len);
	assert_int_equal(hs_receive(nodes[0].e, big, len + 1, now_ms, &out, &peer), HS_DROP_MALFORMED);
	assert_int_equal(hs_receive(nodes[0].e, big, sizeof(big), now_ms, &out, &peer), HS_DROP_MALFORMED);
	buf[3] = 1;	/* another protocol version */
	assert_int_equal(hs_receive(nodes[0].e, buf, len, now_ms, &out, &peer), HS_DROP_MALFORMED);
	buf[3] = MS_WIRE_VERSION;
	for (size_t bit = 8 * 8; bit < len * 8; bit += 7) {	/* any flipped bit after the header */
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(hs_receive(nodes[0].e, buf, len, now_ms, &out, &peer), HS_DROP_CHALLENGED);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	assert_int_equal(out.n, 0);
	assert_int_equal(count_sa(&nodes[0], MS_DIR_IN, AF_INET), 0);
	/* The intact message is authentic (and, echoing nothing, challenged). */
	assert_int_equal(hs_receive(nodes[0].e, buf, len, now_ms, &out, &peer), HS_DROP_CHALLENGED);
	run_actions(0);
}

static void test_not_for_us_and_unknown(void **state)
{
	int peer;

	(void)state;
	make_node(1, "b", "c", secret, "m", 3);	/* b talks to c */
	initiate(1);
	assert_int_equal(hs_receive(nodes[0].e, q[0].buf, q[0].len, now_ms, &out, &peer), HS_DROP_NOT_FOR_US);
	qn = 0;
	make_node(1, "z", "a", secret, "m", 3);	/* z is not in a's peers */
	initiate(1);
	assert_int_equal(hs_receive(nodes[0].e, q[0].buf, q[0].len, now_ms, &out, &peer), HS_DROP_UNKNOWN_PEER);
	assert_int_equal(hs_engine_drops(nodes[0].e)[HS_DROP_UNKNOWN_PEER], 1);
}

static void test_single_family(void **state)
{
	(void)state;
	make_node(0, "a", "b", secret, "m", HS_FAM_V6);
	make_node(1, "b", "a", secret, "m", HS_FAM_V6);
	initiate(0);
	pump(KEEP);
	tick_both(HS_OLD_INBOUND_GRACE_MS + 1);
	assert_int_equal(count_sa(&nodes[0], MS_DIR_OUT, AF_INET), 0);
	assert_int_equal(count_sa(&nodes[0], MS_DIR_OUT, AF_INET6), 1);
	assert_int_equal(count_sa(&nodes[1], MS_DIR_IN, AF_INET6), 1);
}

static void test_remove_peer_deletes_all(void **state)
{
	(void)state;
	initiate(0);
	pump(KEEP);
	make_node(1, "b", "a", secret, "m", 3);
	initiate(1);
	pump(KEEP);	/* a now has old inbound SAs in grace too */
	hs_peer_remove(nodes[0].e, nodes[0].peer, &out);
	run_actions(0);
	for (int i = 0; i < MAX_SA; i++)
		assert_false(nodes[0].sa[i].used);
}

/* The kernel refused a's SAs: all go, no new handshake before the backoff, then the engine
 * starts a fresh one by itself. */
static void test_kernel_failure_backs_off(void **state)
{
	struct hs_peer_info info;

	(void)state;
	initiate(0);
	pump(KEEP);
	hs_peer_fail(nodes[0].e, nodes[0].peer, now_ms, &out);
	run_actions(0);
	for (int i = 0; i < MAX_SA; i++)
		assert_false(nodes[0].sa[i].used);
	info = info_of(0);
	assert_false(info.established);
	assert_int_equal(info.state, HS_IDLE);
	assert_int_equal(info.drops[HS_DROP_FAILED], 1);
	assert_int_equal(hs_initiate(nodes[0].e, nodes[0].peer, now_ms, false, &out), -EAGAIN);
	assert_int_equal(qn, 0);	/* backing off */
	tick_both(HS_RETX_FIRST_MS * 2 * 5 / 4 + 1);	/* the first failure's backoff, at most */
	assert_int_equal(qn, 1);	/* the engine retried by itself */
	pump(KEEP);
	assert_converged();
}

/* Keepalives: RTT and digest from an answered PING; replays, stray PONGs and PINGs of another
 * session change nothing. */
static void test_keepalive(void **state)
{
	uint8_t da[MS_DIGEST_LEN], db[MS_DIGEST_LEN];
	struct hs_peer_info ia, ib;
	struct pkt ping, pong;

	(void)state;
	memset(da, 0xaa, sizeof(da));
	memset(db, 0xbb, sizeof(db));
	hs_set_digest(nodes[0].e, da);
	hs_set_digest(nodes[1].e, db);
	assert_false(hs_ping(nodes[0].e, nodes[0].peer, now_ms, &out));	/* no session yet */
	initiate(0);
	pump(KEEP);
	now_ms += 1000;
	assert_true(hs_ping(nodes[0].e, nodes[0].peer, now_ms, &out));
	run_actions(0);
	assert_int_equal(qn, 1);
	ping = q[0];
	now_ms += 7;
	assert_int_equal(deliver_one(0), HS_ACCEPTED);	/* b answers */
	assert_int_equal(qn, 2);
	pong = q[1];
	ib = info_of(1);
	assert_true(ib.have_digest);
	assert_memory_equal(ib.peer_digest, da, MS_DIGEST_LEN);
	assert_int_equal(ib.last_seen_ms, now_ms);
	now_ms += 5;
	assert_int_equal(deliver_one(1), HS_ACCEPTED);	/* a gets the PONG */
	ia = info_of(0);
	assert_int_equal(ia.rtt_us, 12000);
	assert_memory_equal(ia.peer_digest, db, MS_DIGEST_LEN);
	assert_false(ia.ping_outstanding);
	qn = 0;
	/* the same PING again is a replay, the same PONG again answers nothing */
	q[qn++] = ping;
	assert_int_equal(deliver_one(0), HS_DROP_REPLAY);
	assert_int_equal(qn, 1);	/* and gets no answer */
	q[0] = pong;
	assert_int_equal(deliver_one(0), HS_DROP_UNEXPECTED);
	/* a PONG forged for an outstanding PING fails its MAC */
	hs_ping(nodes[0].e, nodes[0].peer, now_ms, &out);
	run_actions(0);
	pong.buf[pong.len - 1] ^= 1;
	pong.to = 0;
	qn = 0;
	q[qn++] = pong;
	assert_int_not_equal(deliver_one(0), HS_ACCEPTED);
	assert_true(info_of(0).ping_outstanding);
	/* after a rekey, a PING of the old session is not answered */
	qn = 0;
	initiate(1);
	pump(KEEP);
	q[0] = ping;
	qn = 1;
	assert_int_equal(deliver_one(0), HS_DROP_UNEXPECTED);
	assert_int_equal(qn, 1);
}

/*
 * a's INIT went out before b started (lost); b's own INIT, echoing nothing, then reaches a, which
 * challenges it.  b makes its INIT anew with a's challenge; a, whose INIT wins, answers that fresh
 * one by sending its own again at once (echoing b's challenge, just heard), which b answers: the
 * pair comes up without waiting for a's backoff.
 */
static void test_late_peer_gets_init_again(void **state)
{
	(void)state;
	initiate(0);
	pump(DROP_ALL);		/* b was not up yet */
	initiate(1);
	assert_int_equal(deliver_one(0), HS_DROP_CHALLENGED);
	assert_int_equal(deliver_one(1), HS_ACCEPTED);		/* b: a new INIT with the echo */
	assert_int_equal(deliver_one(2), HS_DROP_SIMULTANEOUS);	/* a: its own INIT again, at once */
	assert_int_equal(deliver_one(3), HS_ACCEPTED);		/* b answers a's */
	pump(KEEP);
	assert_converged();
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_basic), T(test_secrets_wiped), T(test_higher_name_initiates), T(test_simultaneous),
		T(test_simultaneous_rekey), T(test_lost_init), T(test_retransmission_is_a_new_init), T(test_lost_resp),
		T(test_lost_confirm), T(test_duplicates), T(test_responder_gives_up), T(test_replay_and_reorder),
		T(test_replayed_init_after_restart), T(test_peer_restart_fresh_keys), T(test_rekey_is_fresh),
		T(test_rekey_keeps_old_sas_a_while), T(test_forced_rekey), T(test_answers_lost_for_40s),
		T(test_responder_kernel_not_ready), T(test_replays_starve_nothing), T(test_replay_during_simultaneous),
		T(test_withheld_init_goes_stale), T(test_pong_budget), T(test_wrong_secret_and_mesh), T(test_malformed),
		T(test_not_for_us_and_unknown), T(test_single_family), T(test_remove_peer_deletes_all),
		T(test_kernel_failure_backs_off), T(test_keepalive), T(test_late_peer_gets_init_again),
	};

	return cmocka_run_group_tests_name("handshake", tests, NULL, NULL);
}
