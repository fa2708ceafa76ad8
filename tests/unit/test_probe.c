/*
 * netcheck probes: the wire format of PROBE and PROBE_REPLY, the answerer's checks (MAC,
 * freshness, replays, budget, no amplification) and the requester's verdicts, with a fake path
 * that drops chosen directions and channels and packets over a chosen size.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <sodium.h>

#include "meshsec/probe.h"

static const uint8_t secret[32] = { 7, 7, 7 };
static const uint8_t zero_mac[MS_WIRE_MAC_LEN];
/* ESP transport with rfc4106(gcm(aes)) or rfc7539esp(chacha20,poly1305): SPI 4, sequence 4,
 * IV 8, padding to 4 bytes 0-3, pad length 1, next header 1, ICV 16 (DESIGN.md: 34-37). */
#define ESP_MAX (4 + 4 + 8 + 3 + 1 + 1 + 16)

/* What the path between a (requester) and b (answerer) does. */
struct path {
	bool drop_clear_ab, drop_clear_ba, drop_esp_ab, drop_esp_ba, no_sa;
	unsigned esp_mtu_ab;	/* ESP probes a -> b with a larger inner packet are lost (0: none) */
	/* the shell says a has no current SA to b, and why (NULL: it has one); where the kernel
	   takes ESP sends without an SA and drops them (xfrm_larval_drop), say drop_esp_ab too */
	const char *no_sa_why;
};

struct bed {
	struct ms_probe_node *a, *b;
	uint64_t answered, replayed;
};

static void bed_init(struct bed *t)
{
	t->a = ms_probe_node_new("prod", "a", secret);
	t->b = ms_probe_node_new("prod", "b", secret);
	assert_non_null(t->a);
	assert_non_null(t->b);
	t->answered = t->replayed = 0;
}

static void bed_free(struct bed *t)
{
	ms_probe_node_free(t->a);
	ms_probe_node_free(t->b);
}

/* Runs one netcheck a -> b to its end over path p, 10 ms per step, 1 ms each way. */
static void run_netcheck(struct bed *t, const struct path *p, unsigned kernel_mtu, uint64_t t0, struct ms_probe_result *res)
{
	static uint8_t buf[MS_PROBE_WIRE_MAX];
	struct ms_probe_run r;
	uint64_t now = t0;

	ms_probe_run_init(&r, 0, "b", 0x1234 + t0, AF_INET, 40000, kernel_mtu, now, 3000);
	if (p->no_sa_why)
		ms_probe_run_no_sa(&r, p->no_sa_why);
	while (!ms_probe_run_done(&r, now)) {
		enum ms_probe_channel ch;
		uint16_t seq;
		size_t len;

		while ((len = ms_probe_run_next(&r, t->a, now, buf, &ch, &seq)) > 0) {
			struct ms_probe_out out;
			bool esp = ch == MS_PROBE_ESP;

			ms_probe_run_sent(&r, seq, esp && p->no_sa ? -EAGAIN : 0);
			if ((esp && (p->no_sa || p->drop_esp_ab)) || (!esp && p->drop_clear_ab) ||
			    (esp && p->esp_mtu_ab && len + 28 > p->esp_mtu_ab))
				continue;
			if (ms_probe_answer(t->b, 0, "a", buf, len, now + 1, &out) == MS_PROBE_ANSWERED)
				t->answered++;
			for (size_t i = 0; i < out.n; i++) {
				/* no amplification: on the wire (IPv4 here), the two replies together, one of
				   them ESP, never outweigh the probe */
				assert_true(out.d[0].len + 28 + (out.n > 1 ? out.d[1].len + 28 + ESP_MAX : 0) <= len + 28);
				if ((out.d[i].channel == MS_PROBE_ESP && p->drop_esp_ba) ||
				    (out.d[i].channel == MS_PROBE_CLEAR && p->drop_clear_ba))
					continue;
				assert_int_equal(out.d[i].port, out.d[i].channel == MS_PROBE_ESP ? 40000 : 0);
				assert_int_equal(ms_probe_run_input(&r, t->a, out.d[i].channel, out.d[i].buf, out.d[i].len, now + 2),
						 MS_PROBE_REPLY_OK);
			}
		}
		now += 10;
	}
	if (p->no_sa_why)
		ms_probe_run_no_sa(&r, p->no_sa_why);	/* the shell asks again at the end */
	ms_probe_run_result(&r, res);
}

static void test_wire_roundtrip(void **state)
{
	uint8_t key[MS_KEY_LEN] = { 1 }, buf[MS_PROBE_WIRE_MAX];
	struct ms_msg m, d;
	size_t len;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.type = MS_MSG_PROBE;
	strcpy(m.sender, "alpha");
	strcpy(m.receiver, "beta");
	m.hs_id = 0x0102030405060708ull;
	m.echo[0] = 0xee;
	m.pseq = 9, m.channel = MS_PROBE_ESP, m.pflags = MS_PROBE_F_REPLY, m.reply_port = 4242, m.pad_len = 1000;
	len = ms_wire_encode(&m, key, zero_mac, buf);
	assert_int_equal(len, ms_wire_len(&m));
	assert_true(len > MS_WIRE_MAX);
	assert_true(ms_wire_is_probe(buf, len));
	assert_int_equal(ms_wire_peek(buf, len, &d), MS_WIRE_LONG);	/* the handshake never sees one */
	assert_int_equal(ms_wire_peek_probe(buf, len, &d), MS_WIRE_OK);
	assert_int_equal(ms_wire_verify(buf, len, key, zero_mac), MS_WIRE_OK);
	ms_wire_decode_body(buf, len, &d);
	assert_int_equal(d.hs_id, m.hs_id);
	assert_int_equal(d.pseq, 9);
	assert_int_equal(d.channel, MS_PROBE_ESP);
	assert_int_equal(d.pflags, MS_PROBE_F_REPLY);
	assert_int_equal(d.reply_port, 4242);
	assert_int_equal(d.pad_len, 1000);
	assert_int_equal(d.echo[0], 0xee);
	assert_int_equal(ms_wire_peek_probe(buf, len - 1, &d), MS_WIRE_SHORT);
	assert_int_equal(ms_wire_peek_probe(buf, len + 1, &d), MS_WIRE_LONG);

	/* a small probe of a known type is still not the handshake's */
	m.pad_len = (uint16_t)(ms_wire_probe_min(&m) - ms_wire_len(&(struct ms_msg){ .type = MS_MSG_PROBE, .sender = "alpha",
										       .receiver = "beta" }));
	len = ms_wire_encode(&m, key, zero_mac, buf);
	assert_int_equal(len, ms_wire_probe_min(&m));
	assert_int_equal(ms_wire_peek(buf, len, &d), MS_WIRE_BAD_TYPE);
	assert_int_equal(ms_wire_peek_probe(buf, len, &d), MS_WIRE_OK);
	/* one byte less padding and two replies would outweigh it: refused */
	m.pad_len--;
	len = ms_wire_encode(&m, key, zero_mac, buf);
	assert_int_equal(ms_wire_peek_probe(buf, len, &d), MS_WIRE_SHORT);

	memset(&m, 0, sizeof(m));
	m.type = MS_MSG_PROBE_REPLY;
	strcpy(m.sender, "beta");
	strcpy(m.receiver, "alpha");
	m.hs_id = 77, m.pseq = 3, m.channel = MS_PROBE_CLEAR, m.pflags = MS_PROBE_F_STALE, m.seen = 0x8000000000000005ull;
	len = ms_wire_encode(&m, key, zero_mac, buf);
	assert_true(len <= MS_PROBE_REPLY_MAX);
	assert_int_equal(ms_wire_peek_probe(buf, len, &d), MS_WIRE_OK);
	ms_wire_decode_body(buf, len, &d);
	assert_int_equal(d.seen, 0x8000000000000005ull);
	assert_int_equal(d.pflags, MS_PROBE_F_STALE);
	assert_int_equal(d.pseq, 3);
	/* a handshake message is not a probe */
	buf[4] = MS_MSG_PING;
	assert_false(ms_wire_is_probe(buf, len));
}

/*
 * No amplification on the wire: a small probe (one IP + UDP datagram, clear) outweighs its two
 * replies, each with its own IP + UDP header and one of them ESP, for IPv4 and IPv6 and names
 * of any length; one byte less and it is refused.
 */
static void test_probe_min_on_the_wire(void **state)
{
	static const size_t name_lens[] = { 1, 7, MS_NAME_MAX };
	uint8_t key[MS_KEY_LEN] = { 1 }, buf[MS_PROBE_WIRE_MAX];

	(void)state;
	assert_int_equal(MS_WIRE_ESP_OVERHEAD_MAX, ESP_MAX);
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++) {
			struct ms_msg m = { .type = MS_MSG_PROBE }, r = { .type = MS_MSG_PROBE_REPLY }, d;
			size_t min, reply, len;

			memset(m.sender, 'a', name_lens[i]);
			memset(m.receiver, 'b', name_lens[j]);
			memcpy(r.sender, m.receiver, sizeof(r.sender));
			memcpy(r.receiver, m.sender, sizeof(r.receiver));
			min = ms_wire_probe_min(&m);
			reply = ms_wire_len(&r);
			for (unsigned ip = 20; ip <= 40; ip += 20)
				assert_true(min + 8 + ip >= (reply + 8 + ip) + (reply + 8 + ip + ESP_MAX));
			m.pad_len = (uint16_t)(min - ms_wire_len(&m));
			len = ms_wire_encode(&m, key, zero_mac, buf);
			assert_int_equal(len, min);
			assert_int_equal(ms_wire_peek_probe(buf, len, &d), MS_WIRE_OK);
			m.pad_len--;
			len = ms_wire_encode(&m, key, zero_mac, buf);
			assert_int_equal(ms_wire_peek_probe(buf, len, &d), MS_WIRE_SHORT);
		}
}

static void test_all_open(void **state)
{
	struct ms_probe_result res;
	char text[2048];
	struct bed t;

	(void)state;
	bed_init(&t);
	run_netcheck(&t, &(struct path){ 0 }, 1438, 0, &res);
	assert_int_equal(res.clear_out, MS_DIR_OK);
	assert_int_equal(res.clear_in, MS_DIR_OK);
	assert_int_equal(res.esp_out, MS_DIR_OK);
	assert_int_equal(res.esp_in, MS_DIR_OK);
	assert_int_equal(res.rtt_clear_us, 2000);
	assert_int_equal(res.mtu_arrived, 1438);	/* the kernel's figure itself arrived */
	assert_int_equal(res.mtu_lost, 0);
	assert_int_equal(ms_probe_findings(&res, "a", "b", 4801, text, sizeof(text)), 0);
	assert_string_equal(text, "");
	bed_free(&t);
}

static void test_directions(void **state)
{
	static const struct {
		struct path p;
		enum ms_probe_dir_state co, ci, eo, ei;
		const char *says;
		unsigned problems;
	} cases[] = {
		{ { .drop_esp_ab = true }, MS_DIR_OK, MS_DIR_OK, MS_DIR_BLOCKED, MS_DIR_OK,
		  "ESP (IP protocol 50) from a to b is dropped on the way: allow IP protocol 50", 1 },
		{ { .drop_esp_ba = true }, MS_DIR_OK, MS_DIR_OK, MS_DIR_OK, MS_DIR_BLOCKED,
		  "ESP (IP protocol 50) from b to a is dropped on the way", 1 },
		{ { .drop_clear_ab = true }, MS_DIR_BLOCKED, MS_DIR_OK, MS_DIR_OK, MS_DIR_OK,
		  "handshake port udp/4801 blocked from a to b: allow udp/4801 from a to b", 1 },
		{ { .drop_clear_ba = true }, MS_DIR_OK, MS_DIR_BLOCKED, MS_DIR_OK, MS_DIR_OK,
		  "handshake port udp/4801 blocked from b to a", 1 },
		{ { .drop_clear_ab = true, .drop_esp_ab = true }, MS_DIR_UNKNOWN, MS_DIR_UNKNOWN, MS_DIR_UNKNOWN, MS_DIR_UNKNOWN,
		  "no answer from b's agent", 1 },
		{ { .no_sa = true }, MS_DIR_OK, MS_DIR_OK, MS_DIR_NO_SA, MS_DIR_OK,
		  "a has no SA to b (the kernel refused to send ESP: ", 1 },
		/* no SA, the kernel takes ESP sends and drops them, the peer's ESP replies find no SA
		   here: "no SA" with the reason, never ESP blamed on the firewall */
		{ { .drop_esp_ab = true, .drop_esp_ba = true, .no_sa_why = "handshake with b under way (2 retransmissions so far)" },
		  MS_DIR_OK, MS_DIR_OK, MS_DIR_NO_SA, MS_DIR_NO_SA,
		  "a has no SA to b (handshake with b under way (2 retransmissions so far)): ESP between them cannot be checked", 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ms_probe_result res;
		char text[2048];
		struct bed t;

		bed_init(&t);
		run_netcheck(&t, &cases[i].p, 1438, 0, &res);
		printf("case %zu: clear %s/%s esp %s/%s\n", i, ms_probe_dir_name(res.clear_out), ms_probe_dir_name(res.clear_in),
		       ms_probe_dir_name(res.esp_out), ms_probe_dir_name(res.esp_in));
		assert_int_equal(res.clear_out, cases[i].co);
		assert_int_equal(res.clear_in, cases[i].ci);
		assert_int_equal(res.esp_out, cases[i].eo);
		assert_int_equal(res.esp_in, cases[i].ei);
		/* one fault, one finding: a blocked ESP path is not also blamed on the MTU */
		assert_int_equal(ms_probe_findings(&res, "a", "b", 4801, text, sizeof(text)), cases[i].problems);
		assert_non_null(strstr(text, cases[i].says));
		assert_null(strstr(text, "dropped on the way") && cases[i].eo == MS_DIR_NO_SA ? text : NULL);
		bed_free(&t);
	}
}

/*
 * No SA, and the kernel's figure is the blackhole route's (65536): no MTU is reported or
 * blamed, and no ESP direction is called blocked.  Once the pair is up by the end, evidence
 * wins: directions that got through are ok.
 */
static void test_no_sa_mtu(void **state)
{
	struct ms_probe_result res;
	char text[2048];
	struct bed t;

	(void)state;
	bed_init(&t);
	run_netcheck(&t, &(struct path){ .drop_esp_ab = true, .drop_esp_ba = true, .no_sa_why = "the kernel refused the SAs for b" },
		     65536, 0, &res);
	assert_int_equal(res.esp_out, MS_DIR_NO_SA);
	assert_int_equal(res.esp_in, MS_DIR_NO_SA);
	assert_int_equal(res.kernel_mtu, 0);
	assert_int_equal(res.mtu_arrived, 0);
	assert_int_equal(ms_probe_findings(&res, "a", "b", 4801, text, sizeof(text)), 1);
	assert_null(strstr(text, "MTU"));
	assert_non_null(strstr(text, "(the kernel refused the SAs for b)"));
	bed_free(&t);

	bed_init(&t);
	run_netcheck(&t, &(struct path){ .no_sa_why = "handshake with b under way" }, 1438, 0, &res);
	assert_int_equal(res.esp_out, MS_DIR_OK);
	assert_int_equal(res.esp_in, MS_DIR_OK);
	assert_int_equal(ms_probe_findings(&res, "a", "b", 4801, text, sizeof(text)), 0);
	bed_free(&t);
}

/* A link on the way with a smaller MTU: the largest inner packet that arrived is within 8 bytes. */
static void test_mtu_black_hole(void **state)
{
	struct ms_probe_result res;
	char text[2048];
	struct bed t;

	(void)state;
	bed_init(&t);
	run_netcheck(&t, &(struct path){ .esp_mtu_ab = 1263 }, 1438, 0, &res);
	assert_int_equal(res.esp_out, MS_DIR_OK);
	assert_true(res.mtu_arrived <= 1263);
	assert_true(res.mtu_arrived > 1263 - 8);
	assert_true(res.mtu_lost > 1263 && res.mtu_lost <= 1263 + 8);
	assert_int_equal(ms_probe_findings(&res, "a", "b", 4801, text, sizeof(text)), 1);
	assert_non_null(strstr(text, "smaller MTU"));
	bed_free(&t);
}

static size_t make_probe(struct ms_probe_node *a, uint64_t run, uint64_t now, uint8_t *buf, struct ms_probe_run *r)
{
	enum ms_probe_channel ch;
	uint16_t seq;

	ms_probe_run_init(r, 0, "b", run, AF_INET, 40000, 0, now, 3000);
	return ms_probe_run_next(r, a, now, buf, &ch, &seq);
}

/* Forged, stale and replayed probes cost a MAC and get nothing, or one small reply now and then. */
static void test_answerer_checks(void **state)
{
	uint8_t buf[MS_PROBE_WIRE_MAX];
	struct ms_probe_out out;
	struct ms_probe_run r;
	struct bed t;
	size_t len;

	(void)state;
	bed_init(&t);
	/* first contact: the echo is not b's challenge, so the answer is "stale" and carries it */
	len = make_probe(t.a, 1, 0, buf, &r);
	assert_int_equal(ms_probe_answer(t.b, 0, "a", buf, len, 0, &out), MS_PROBE_STALE);
	assert_int_equal(out.n, 2);
	assert_int_equal(ms_probe_run_input(&r, t.a, MS_PROBE_CLEAR, out.d[0].buf, out.d[0].len, 1), MS_PROBE_REPLY_OK);
	/* a reply on the wrong socket, or to another run, is not accepted */
	assert_int_equal(ms_probe_run_input(&r, t.a, MS_PROBE_ESP, out.d[0].buf, out.d[0].len, 1), MS_PROBE_UNEXPECTED);
	/* the same stale probe again within the gap: nothing */
	assert_int_equal(ms_probe_answer(t.b, 0, "a", buf, len, 100, &out), MS_PROBE_RATE_LIMITED);
	assert_int_equal(out.n, 0);

	/* now fresh: answered once, its replay dropped */
	len = make_probe(t.a, 2, 300, buf, &r);
	assert_int_equal(ms_probe_answer(t.b, 0, "a", buf, len, 300, &out), MS_PROBE_ANSWERED);
	assert_int_equal(out.n, 2);
	assert_int_equal(ms_probe_answer(t.b, 0, "a", buf, len, 301, &out), MS_PROBE_REPLAY);
	assert_int_equal(out.n, 0);
	/* a forged one: bad MAC, nothing */
	buf[len - 1] ^= 1;
	assert_int_equal(ms_probe_answer(t.b, 0, "a", buf, len, 302, &out), MS_PROBE_BAD_MAC);
	assert_int_equal(out.n, 0);
	buf[len - 1] ^= 1;
	/* another mesh secret: bad MAC */
	{
		static const uint8_t other[32] = { 8 };
		struct ms_probe_node *x = ms_probe_node_new("prod", "a", other);
		struct ms_probe_run rx;
		size_t lx = make_probe(x, 3, 303, buf, &rx);

		assert_int_equal(ms_probe_answer(t.b, 0, "a", buf, lx, 303, &out), MS_PROBE_BAD_MAC);
		ms_probe_node_free(x);
	}
	/* past two challenge lifetimes, the recorded probe is stale again */
	len = make_probe(t.a, 4, 400, buf, &r);
	assert_int_equal(ms_probe_answer(t.b, 0, "a", buf, len, 400 + 2 * MS_PROBE_CHAL_LIFETIME_MS + 1, &out), MS_PROBE_STALE);
	assert_int_equal(ms_probe_counts(t.b, 0, "a")[MS_PROBE_BAD_MAC], 2);
	assert_int_equal(ms_probe_counts(t.b, 0, "a")[MS_PROBE_REPLAY], 1);
	bed_free(&t);
}

/* A member asking faster than the budget gets MS_PROBE_BURST answers, then MS_PROBE_PER_S a second. */
static void test_budget(void **state)
{
	uint8_t buf[MS_PROBE_WIRE_MAX];
	struct ms_probe_out out;
	struct ms_probe_run r;
	unsigned answered = 0, limited = 0;
	struct bed t;
	size_t len;

	(void)state;
	bed_init(&t);
	len = make_probe(t.a, 1, 0, buf, &r);
	ms_probe_answer(t.b, 0, "a", buf, len, 0, &out);
	ms_probe_run_input(&r, t.a, MS_PROBE_CLEAR, out.d[0].buf, out.d[0].len, 0);	/* learn the challenge */
	for (unsigned k = 0; k < 40; k++) {
		/* fresh runs would exhaust the run table; one run, one new probe each time */
		enum ms_probe_channel ch;
		uint16_t seq;

		if (k == 0)
			ms_probe_run_init(&r, 0, "b", 99, AF_INET, 40000, 0, 0, 100000);
		r.next_ms = 0, r.qi = r.qn;	/* force a new round each call */
		len = ms_probe_run_next(&r, t.a, 10, buf, &ch, &seq);
		if (!len)
			break;
		switch (ms_probe_answer(t.b, 0, "a", buf, len, 10 + k * 10, &out)) {
		case MS_PROBE_ANSWERED: answered++; break;
		case MS_PROBE_RATE_LIMITED: limited++; break;
		default: fail();
		}
	}
	/* 40 probes over 0.4 s: the burst and 2 refills */
	assert_true(answered >= MS_PROBE_BURST && answered <= MS_PROBE_BURST + 2);
	assert_int_equal(answered + limited, 40);
	bed_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wire_roundtrip),
		cmocka_unit_test(test_probe_min_on_the_wire),
		cmocka_unit_test(test_all_open),
		cmocka_unit_test(test_directions),
		cmocka_unit_test(test_mtu_black_hole),
		cmocka_unit_test(test_no_sa_mtu),
		cmocka_unit_test(test_answerer_checks),
		cmocka_unit_test(test_budget),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
