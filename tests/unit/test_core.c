/*
 * The node core with a fake kernel and network: the receive filter under a spoofed flood, pairs
 * whose reqids collide, adoption of SAs from before a restart, and the retry of a pair whose
 * kernel refused its SAs.  The fleet-wide properties are the simulator's (tests/sim/).
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

#include "meshsec/core.h"
#include "meshsec/plan.h"

#define MAX_SA 256
#define MAX_Q 4096

struct fnode {
	struct core *core;
	struct ms_sa sa[MAX_SA];
	uint8_t keys[MAX_SA][MS_CIPHER_KEY_MAX];
	size_t n_sa;
	uint32_t next_spi;
	int refuse_adds;	/* commit fails while > 0 */
	size_t queued_adds;
	unsigned events[CORE_EV_COUNT];
	enum core_reason last_event_reason;	/* of the last DOWN or REASON event */
	int send_errno;		/* sends fail with it while non-zero */
	unsigned send_warnings;	/* "cannot send" lines logged at warn */
	char send_warning[512];	/* the last of them */
};

struct dgram {
	int to;
	struct ms_addr src;
	size_t len;
	uint8_t buf[MS_WIRE_MAX];
};

static struct ms_inventory inv;
static struct ms_node nodes[600];
static struct fnode fn[2];
static struct dgram q[MAX_Q];
static size_t qn;
static uint64_t now_ms;
static uint8_t secret[32];

static int who(void *ctx)
{
	return (struct fnode *)ctx == &fn[0] ? 0 : 1;
}

static int op_alloc_spi(void *ctx, const struct ms_addr *src, const struct ms_addr *dst, uint32_t reqid, uint32_t *spi)
{
	struct fnode *n = ctx;

	(void)src, (void)dst, (void)reqid;
	*spi = n->next_spi++;
	return 0;
}

static void op_sa_add(void *ctx, const struct ms_sa *sa)
{
	struct fnode *n = ctx;

	assert_true(n->n_sa < MAX_SA);
	n->sa[n->n_sa] = *sa;
	memcpy(n->keys[n->n_sa], sa->key, ms_cipher_key_len(sa->cipher));
	n->sa[n->n_sa].key = n->keys[n->n_sa];
	n->n_sa++;
	n->queued_adds++;
}

static void op_sa_del(void *ctx, const struct ms_addr *dst, uint32_t spi)
{
	struct fnode *n = ctx;

	for (size_t i = 0; i < n->n_sa; i++)
		if (n->sa[i].spi == spi && ms_addr_equal(&n->sa[i].dst, dst)) {
			n->sa[i] = n->sa[--n->n_sa];
			memcpy(n->keys[i], n->keys[n->n_sa], MS_CIPHER_KEY_MAX);
			n->sa[i].key = n->keys[i];
			return;
		}
}

static int op_commit(void *ctx)
{
	struct fnode *n = ctx;
	int failed = 0;

	if (n->refuse_adds > 0 && n->queued_adds) {
		n->refuse_adds--;
		failed = (int)n->queued_adds;
		for (size_t i = n->n_sa - n->queued_adds; i < n->n_sa; i++)
			core_sa_refused(n->core, &n->sa[i].dst, n->sa[i].spi, n->sa[i].larval, ENOSYS,
					"Requested AEAD algorithm not found");
		n->n_sa -= n->queued_adds;	/* none of them went in */
	}
	n->queued_adds = 0;
	return failed;
}

static int op_send(void *ctx, const struct ms_addr *to, const uint8_t *buf, size_t len)
{
	int from = who(ctx);

	(void)to;
	if (fn[from].send_errno)
		return -fn[from].send_errno;
	assert_true(qn < MAX_Q);
	q[qn].to = 1 - from;
	q[qn].src = nodes[from].v4;
	q[qn].len = len;
	memcpy(q[qn].buf, buf, len);
	qn++;
	return 0;
}

static int op_dump_sas(void *ctx, struct ms_sa **sas, size_t *n)
{
	struct fnode *f = ctx;

	*sas = malloc((f->n_sa + 1) * sizeof(**sas));
	if (!*sas)
		return -ENOMEM;
	memcpy(*sas, f->sa, f->n_sa * sizeof(**sas));
	*n = f->n_sa;
	return 0;
}

static void op_event(void *ctx, const struct core_event *ev)
{
	struct fnode *n = ctx;

	n->events[ev->type]++;
	if (ev->why)
		n->last_event_reason = ev->why->code;
}

static void op_log(void *ctx, enum core_log level, const char *fmt, va_list ap)
{
	struct fnode *n = ctx;
	char line[512];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (level == CORE_LOG_WARN && strstr(line, ": cannot send to ")) {
		n->send_warnings++;
		memcpy(n->send_warning, line, sizeof(line));
	}
}

static const struct core_ops ops = {
	.alloc_spi = op_alloc_spi, .sa_add = op_sa_add, .sa_del = op_sa_del, .commit = op_commit,
	.send = op_send, .dump_sas = op_dump_sas, .event = op_event, .log = op_log,
};

/* An inventory of n nodes named a, b, then n002...; IPv4 10.0.x.y. */
static void make_inventory(size_t n)
{
	memset(&inv, 0, sizeof(inv));
	memset(nodes, 0, sizeof(nodes));
	snprintf(inv.mesh_name, sizeof(inv.mesh_name), "m");
	inv.port = 4801;
	inv.cipher = MS_CIPHER_AES_GCM_256;
	inv.keepalive_s = 10;
	inv.dead_after_s = 30;
	inv.rekey_s = 3600;
	inv.rekey_bytes = 1ull << 40;
	inv.rekey_packets = 1ull << 30;
	for (size_t i = 0; i < n; i++) {
		if (i < 2)
			snprintf(nodes[i].name, sizeof(nodes[i].name), "%c", (char)('a' + i));
		else
			snprintf(nodes[i].name, sizeof(nodes[i].name), "n%03zu", i);
		nodes[i].v4.family = AF_INET;
		nodes[i].v4.u.raw[0] = 10, nodes[i].v4.u.raw[2] = (uint8_t)(i >> 8), nodes[i].v4.u.raw[3] = (uint8_t)(i + 1);
	}
	inv.nodes = nodes;
	inv.n_nodes = n;
}

static void start(int i)
{
	core_free(fn[i].core);
	memset(&fn[i], 0, sizeof(fn[i]));
	fn[i].next_spi = 0x1000 * (uint32_t)(i + 1);
	fn[i].core = core_new(&inv, (size_t)i, secret, &ops, &fn[i]);
	assert_non_null(fn[i].core);
}

static void deliver_all(void)
{
	for (size_t k = 0; k < qn; k++)
		core_input(fn[q[k].to].core, &q[k].src, q[k].buf, q[k].len, now_ms);
	qn = 0;
}

static bool pair_up(void)
{
	struct hs_peer_info a, b;

	core_peer_info(fn[0].core, core_peer_find(fn[0].core, "b"), &a);
	core_peer_info(fn[1].core, core_peer_find(fn[1].core, "a"), &b);
	return a.established && b.established && a.session == b.session && a.out_spi[0] == b.in_spi[0] &&
	       b.out_spi[0] == a.in_spi[0];
}

static int setup(void **state)
{
	(void)state;
	if (sodium_init() < 0)
		return -1;
	memset(secret, 5, sizeof(secret));
	qn = 0, now_ms = 1000;
	make_inventory(2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < 2; i++) {
		core_free(fn[i].core);
		fn[i].core = NULL;
	}
	return 0;
}

static void test_pair_comes_up(void **state)
{
	(void)state;
	start(0);
	start(1);
	core_start(fn[0].core, now_ms);
	core_start(fn[1].core, now_ms);
	for (int i = 0; i < 10 && !pair_up(); i++)
		deliver_all();
	assert_true(pair_up());
}

/* A restarted node (kernel state kept) has fresh keys after one CHALLENGE round, with no timer. */
static void test_restart_needs_no_timer(void **state)
{
	int rounds = 0;

	(void)state;
	test_pair_comes_up(state);
	core_free(fn[1].core);
	fn[1].core = core_new(&inv, 1, secret, &ops, &fn[1]);
	assert_non_null(fn[1].core);
	core_adopt(fn[1].core, fn[1].sa, fn[1].n_sa);
	core_start(fn[1].core, now_ms);
	while (!pair_up() && rounds++ < 6)
		deliver_all();	/* INIT, CHALLENGE, INIT, RESP, CONFIRM: no tick in between */
	assert_true(pair_up());
	assert_true(rounds <= 5);
}

/*
 * A flood spoofed from b's address and claiming to be b (2,000 forged datagrams for each genuine
 * one) does not starve b's real handshake: every forgery costs one MAC and changes nothing.
 */
static void test_spoofed_flood_does_not_starve(void **state)
{
	uint8_t forged[MS_WIRE_MAX];
	struct ms_msg m;
	uint8_t bad_key[MS_KEY_LEN], zero[MS_WIRE_MAC_LEN] = { 0 };
	size_t len;

	(void)state;
	start(0);
	start(1);
	memset(&m, 0, sizeof(m));
	m.type = MS_MSG_INIT;
	snprintf(m.sender, sizeof(m.sender), "b");
	snprintf(m.receiver, sizeof(m.receiver), "a");
	randombytes_buf(bad_key, sizeof(bad_key));
	len = ms_wire_encode(&m, bad_key, zero, forged);
	core_start(fn[0].core, now_ms);
	core_start(fn[1].core, now_ms);
	for (int round = 0; round < 10 && !pair_up(); round++) {
		for (int i = 0; i < 2000; i++)
			assert_int_equal(core_input(fn[0].core, &nodes[1].v4, forged, len, now_ms), HS_DROP_BAD_MAC);
		deliver_all();
		now_ms += 1;
	}
	assert_true(pair_up());
	assert_true(core_stats(fn[0].core)->drops[HS_DROP_BAD_MAC] >= 2000);
	assert_int_equal(core_stats(fn[0].core)->drops[HS_DROP_RATE_LIMITED], 0);
}

/* A genuine message from the wrong source address is dropped before the MAC, as spoofed. */
static void test_wrong_source_is_spoofed(void **state)
{
	(void)state;
	start(0);
	start(1);
	core_start(fn[1].core, now_ms);
	assert_int_equal(qn, 1);
	q[0].src = nodes[0].v4;	/* claims b, comes from a's own address */
	assert_int_equal(core_input(fn[0].core, &q[0].src, q[0].buf, q[0].len, now_ms), HS_DROP_SPOOFED);
	qn = 0;
	assert_int_equal(core_stats(fn[0].core)->drops[HS_DROP_SPOOFED], 1);
}

static bool holds(const struct fnode *n, uint32_t spi)
{
	for (size_t i = 0; i < n->n_sa; i++)
		if (n->sa[i].spi == spi)
			return true;
	return false;
}

/*
 * Pairs whose reqids collide (the reqid is a 16-bit tag) stay apart: SAs adopted from before a
 * restart belong to their address pair, and removing one peer retires its SA only.
 */
static void test_reqid_collision(void **state)
{
	size_t n = 600, x = 0, y = 0, added, removed;

	(void)state;
	make_inventory(n);
	for (size_t i = 2; i < n && !y; i++)
		for (size_t j = 2; j < i && !y; j++)
			if (ms_pair_reqid("a", nodes[i].name) == ms_pair_reqid("a", nodes[j].name))
				x = j, y = i;
	assert_true(y > 0);	/* 598 peers in 65,535 values: a collision is all but certain */
	start(0);
	/* From before a restart: one inbound SA from x and one from y, with the same reqid. */
	op_sa_add(&fn[0], &(struct ms_sa){ .src = nodes[x].v4, .dst = nodes[0].v4, .spi = 0x501,
				       .reqid = ms_pair_reqid("a", nodes[x].name), .key = secret });
	op_sa_add(&fn[0], &(struct ms_sa){ .src = nodes[y].v4, .dst = nodes[0].v4, .spi = 0x502,
				       .reqid = ms_pair_reqid("a", nodes[y].name), .key = secret });
	fn[0].queued_adds = 0;
	core_adopt(fn[0].core, fn[0].sa, fn[0].n_sa);
	assert_int_equal(core_stale_count(fn[0].core), 2);
	core_start(fn[0].core, now_ms);
	qn = 0;
	/* An expiry of y's adopted SA is about y's pair, which has no current SA: nothing happens. */
	core_expire(fn[0].core, &nodes[y].v4, &nodes[0].v4, 0x502, now_ms);
	assert_int_equal(qn, 0);
	/* y leaves the mesh: its adopted SA goes, x's stays. */
	nodes[y] = nodes[n - 1];
	inv.n_nodes = n - 1;
	core_reload(fn[0].core, &inv, 0, now_ms, &added, &removed);
	assert_int_equal(removed, 1);
	assert_int_equal(added, 0);
	assert_int_equal(core_stale_count(fn[0].core), 1);
	assert_true(holds(&fn[0], 0x501));
	assert_false(holds(&fn[0], 0x502));
	qn = 0;
}

/* The kernel refused a's SAs twice: the pair is retried after a backoff and comes up. */
static void test_kernel_refusal_is_retried(void **state)
{
	(void)state;
	start(0);
	start(1);
	fn[0].refuse_adds = 2;
	core_start(fn[0].core, now_ms);
	core_start(fn[1].core, now_ms);
	for (int i = 0; i < 400 && !pair_up(); i++) {
		deliver_all();
		now_ms += 250;
		core_tick(fn[0].core, now_ms);
		core_tick(fn[1].core, now_ms);
	}
	assert_true(pair_up());
	assert_int_equal(fn[0].refuse_adds, 0);
	assert_true(core_stats(fn[0].core)->kernel_errors >= 2);
}

/* Rounds of 250 ms: datagrams delivered (or lost, when partitioned), then both cores tick. */
static void run_for(uint64_t ms, bool partitioned)
{
	for (uint64_t end = now_ms + ms; now_ms < end;) {
		if (partitioned)
			qn = 0;
		deliver_all();
		now_ms += 250;
		core_tick(fn[0].core, now_ms);
		core_tick(fn[1].core, now_ms);
	}
}

static enum core_reason reason_of(int i, struct core_why *w)
{
	struct core *c = fn[i].core;

	core_peer_why(c, core_peer_find(c, i ? "a" : "b"), now_ms, w);
	return w->code;
}

/* A node with another secret: both ends say authentication, and say it once (one event). */
static void test_reason_wrong_secret(void **state)
{
	uint8_t other[32];
	struct core_why w;

	(void)state;
	memset(other, 6, sizeof(other));
	start(0);
	start(1);
	core_free(fn[1].core);
	fn[1].core = core_new(&inv, 1, other, &ops, &fn[1]);
	core_start(fn[0].core, now_ms);
	core_start(fn[1].core, now_ms);
	run_for(20000, false);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(core_peer(fn[i].core, 0)->state, PEER_DOWN);
		assert_int_equal(reason_of(i, &w), CORE_REASON_AUTH_FAILED);
		assert_non_null(strstr(w.message, "secret"));
		assert_non_null(strstr(w.fix, "meshsec check"));
		assert_int_equal(fn[i].events[CORE_EV_DOWN], 1);
		assert_int_equal(fn[i].last_event_reason, CORE_REASON_AUTH_FAILED);
		assert_true(fn[i].events[CORE_EV_REASON] <= 1);	/* perhaps told while still connecting */
	}
}

/* Behind a partition from the start, and after being up: no answer, naming address and port. */
static void test_reason_partition(void **state)
{
	struct core_why w;
	unsigned downs;

	(void)state;
	start(0);
	start(1);
	core_start(fn[0].core, now_ms);
	run_for(10000, true);
	assert_int_equal(reason_of(0, &w), CORE_REASON_NO_ANSWER);
	assert_non_null(strstr(w.message, "10.0.0.2 port 4801"));
	core_start(fn[1].core, now_ms);
	run_for(35000, false);	/* a's retries are in backoff */
	assert_true(pair_up());
	assert_int_equal(reason_of(0, &w), CORE_REASON_NONE);
	assert_int_equal(fn[0].events[CORE_EV_HANDSHAKE], 1);
	assert_int_equal(fn[0].events[CORE_EV_UP], 1);	/* it had been down */
	downs = fn[1].events[CORE_EV_DOWN];
	run_for(40000, true);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(core_peer(fn[i].core, 0)->state, PEER_DOWN);
		assert_int_equal(reason_of(i, &w), CORE_REASON_NO_ANSWER);
	}
	assert_int_equal(fn[1].events[CORE_EV_DOWN], downs + 1);
	assert_int_equal(fn[1].last_event_reason, CORE_REASON_NO_ANSWER);
}

/*
 * The kernel refuses a's sends (a full neighbour table gives ENOBUFS): warned once with the peer,
 * its address and the error, however many retries fail; the reason (send_failed) names the local
 * error, not the far side's firewall; the first send that goes out again clears it.
 */
static void test_send_failure_is_explained(void **state)
{
	struct core_why w;

	(void)state;
	start(0);
	start(1);
	fn[0].send_errno = ENOBUFS;
	core_start(fn[0].core, now_ms);
	core_start(fn[1].core, now_ms);
	run_for(1000, true);
	assert_non_null(strstr(fn[0].send_warning, "peer b: cannot send to 10.0.0.2 port 4801: "));
	assert_non_null(strstr(fn[0].send_warning, strerror(ENOBUFS)));
	run_for(120000, true);
	assert_int_equal(reason_of(0, &w), CORE_REASON_SEND_FAILED);
	assert_non_null(strstr(w.message, "10.0.0.2 port 4801: "));
	assert_non_null(strstr(w.message, strerror(ENOBUFS)));
	assert_non_null(strstr(w.fix, "neighbour table"));
	assert_int_equal(fn[0].send_warnings, 1);	/* once, not once per retry */
	fn[0].send_errno = 0;
	run_for(120000, false);
	assert_true(pair_up());
	assert_int_equal(core_peer(fn[0].core, 0)->send_errno, 0);
}

/* Delivers to a the first n datagrams queued for it, and drops everything else. */
static void deliver_to_a(size_t n)
{
	for (size_t k = 0; k < qn; k++)
		if (q[k].to == 0 && n) {
			core_input(fn[0].core, &q[k].src, q[k].buf, q[k].len, now_ms);
			n--;
		}
	qn = 0;
}

/*
 * A silent peer whose address someone forges (here: datagrams under another secret): one
 * failed MAC proves nothing, so a still says no answer; a second says authentication, naming
 * forgery as the other cause.  The forgeries never count as the peer answering.
 */
static void test_reason_forged_source(void **state)
{
	uint8_t other[32];
	struct core_why w;

	(void)state;
	memset(other, 7, sizeof(other));
	start(0);
	start(1);
	core_free(fn[1].core);
	fn[1].core = core_new(&inv, 1, other, &ops, &fn[1]);
	core_start(fn[0].core, now_ms);
	run_for(40000, true);
	assert_int_equal(reason_of(0, &w), CORE_REASON_NO_ANSWER);
	assert_int_equal(core_rekey(fn[1].core, 0, now_ms), 0);
	deliver_to_a(1);
	assert_int_equal(reason_of(0, &w), CORE_REASON_NO_ANSWER);
	assert_non_null(strstr(w.message, "nothing was ever received"));
	run_for(1000, true);
	assert_int_equal(core_rekey(fn[1].core, 0, now_ms), 0);
	deliver_to_a(1);
	assert_int_equal(reason_of(0, &w), CORE_REASON_AUTH_FAILED);
	assert_non_null(strstr(w.message, "forges"));
}

/*
 * b answers but its kernel refuses every SA, for ten minutes: a's reason for b settles instead
 * of flipping between no_answer and no_handshake at each retry (each flip is a warning).
 */
static void test_reason_does_not_flap(void **state)
{
	struct core_why w;

	(void)state;
	start(0);
	start(1);
	fn[1].refuse_adds = 1000000;
	core_start(fn[0].core, now_ms);
	core_start(fn[1].core, now_ms);
	run_for(60000, false);
	fn[0].events[CORE_EV_REASON] = fn[0].events[CORE_EV_DOWN] = 0;
	run_for(600000, false);
	assert_false(pair_up());
	assert_true(fn[0].events[CORE_EV_REASON] + fn[0].events[CORE_EV_DOWN] <= 2);
	assert_int_not_equal(reason_of(1, &w), CORE_REASON_NONE);
	assert_int_equal(reason_of(1, &w), CORE_REASON_KERNEL_REFUSED);
}

/* The kernel refuses the SAs: the reason carries errno and the extended-ack text. */
static void test_reason_kernel_refused(void **state)
{
	struct core_why w;

	(void)state;
	start(0);
	start(1);
	fn[0].refuse_adds = 1000;
	core_start(fn[0].core, now_ms);
	core_start(fn[1].core, now_ms);
	run_for(10000, false);
	assert_int_equal(reason_of(0, &w), CORE_REASON_KERNEL_REFUSED);
	assert_non_null(strstr(w.message, "Requested AEAD algorithm not found"));
	assert_non_null(strstr(w.message, strerror(ENOSYS)));
	core_peer_conflict(fn[0].core, 0, true);	/* the refusal still explains more */
	assert_int_equal(reason_of(0, &w), CORE_REASON_KERNEL_REFUSED);
}

/* A forced rekey is an event of its own; a foreign policy explains a peer that answers nothing. */
static void test_rekey_event_and_conflict(void **state)
{
	struct core_why w;

	(void)state;
	test_pair_comes_up(state);
	run_for(1000, false);
	assert_int_equal(core_rekey(fn[0].core, 0, now_ms), 0);
	run_for(1000, false);
	assert_int_equal(fn[0].events[CORE_EV_REKEY], 1);
	assert_int_equal(fn[1].events[CORE_EV_REKEY], 1);
	core_peer_conflict(fn[0].core, 0, true);
	assert_int_equal(reason_of(0, &w), CORE_REASON_NONE);	/* up: no reason */
	run_for(40000, true);
	assert_int_equal(reason_of(0, &w), CORE_REASON_POLICY_CONFLICT);
	core_peer_conflict(fn[0].core, 0, false);
	assert_int_equal(reason_of(0, &w), CORE_REASON_NO_ANSWER);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pair_comes_up), T(test_restart_needs_no_timer), T(test_spoofed_flood_does_not_starve), T(test_wrong_source_is_spoofed),
		T(test_reqid_collision), T(test_kernel_refusal_is_retried), T(test_reason_wrong_secret),
		T(test_reason_partition), T(test_reason_kernel_refused), T(test_reason_forged_source), T(test_reason_does_not_flap), T(test_rekey_event_and_conflict),
		T(test_send_failure_is_explained),
	};

	return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
