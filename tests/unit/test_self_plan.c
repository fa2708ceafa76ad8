/*
 * Self-identification and the policy planner.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "meshsec/inventory.h"
#include "meshsec/plan.h"
#include "meshsec/self.h"

static const char inv_text[] =
	"{\"version\":1,\"mesh\":{\"name\":\"t\"},\"nodes\":["
	"{\"name\":\"a\",\"addresses\":[\"10.0.0.1\",\"fd00::1\"]},"
	"{\"name\":\"b\",\"addresses\":[\"10.0.0.2\"]},"
	"{\"name\":\"c\",\"addresses\":[\"fd00::3\"]},"
	"{\"name\":\"d\",\"addresses\":[\"10.0.0.4\",\"fd00::4\"]}]}";

static int setup(void **state)
{
	struct ms_inventory *inv;
	struct ms_error err;

	if (ms_inventory_parse(inv_text, strlen(inv_text), "t", &inv, &err))
		return -1;
	*state = inv;
	return 0;
}

static int teardown(void **state)
{
	ms_inventory_free(*state);
	return 0;
}

static struct ms_addr addr(const char *s)
{
	struct ms_addr a;

	assert_int_equal(ms_addr_parse(s, &a, NULL), 0);
	return a;
}

/* Any address a host may have, loopback and link-local included. */
static struct ms_addr host_addr(const char *s)
{
	struct ms_addr a = { .family = strchr(s, ':') ? AF_INET6 : AF_INET };

	assert_int_equal(inet_pton(a.family, s, a.u.raw), 1);
	return a;
}

static void test_self_by_address(void **state)
{
	struct ms_addr local[] = { addr("192.168.9.9"), addr("fd00::3"), addr("10.9.9.9") };
	size_t idx = 99;

	assert_int_equal(ms_self_find(*state, NULL, false, local, 3, &idx, NULL), 0);
	assert_int_equal(idx, 2);
}

static void test_self_by_name(void **state)
{
	struct ms_addr local[] = { addr("192.168.9.9"), addr("fd00::4") };
	struct ms_error err;
	size_t idx = 99;

	assert_int_equal(ms_self_find(*state, "d", false, local, 2, &idx, &err), 0);
	assert_int_equal(idx, 3);
	assert_int_not_equal(ms_self_find(*state, "zz", false, local, 2, &idx, &err), 0);
	assert_non_null(strstr(err.msg, "--node zz"));
}

/* --node of a node whose addresses this host does not have: refused, unless told otherwise. */
static void test_self_by_name_not_local(void **state)
{
	struct ms_addr local[] = { host_addr("127.0.0.1"), addr("10.0.0.1"), host_addr("fe80::1"), addr("fd00::1") };
	struct ms_addr many[] = { addr("10.1.0.1"), addr("10.1.0.2"), addr("10.1.0.3"), addr("10.1.0.4"), addr("10.1.0.5") };
	struct ms_error err;
	size_t idx = 99;

	assert_int_equal(ms_self_find(*state, "d", false, local, 4, &idx, &err), -EADDRNOTAVAIL);
	assert_int_equal(idx, 99);
	/* The node, its addresses, the host's (no loopback or link-local), whose they are, the fixes. */
	assert_non_null(strstr(err.msg, "--node d: none of its inventory addresses (10.0.0.4, fd00::4) is on this host "
					"(this host's addresses: 10.0.0.1, fd00::1; by them this host is node \"a\")"));
	assert_non_null(strstr(err.msg, "drop --node"));
	assert_non_null(strstr(err.msg, "--no-address-check"));
	assert_int_equal(ms_self_find(*state, "d", false, many, 5, &idx, &err), -EADDRNOTAVAIL);
	assert_non_null(strstr(err.msg, "(this host has 5 addresses)"));
	assert_int_equal(ms_self_find(*state, "d", false, NULL, 0, &idx, &err), -EADDRNOTAVAIL);
	assert_non_null(strstr(err.msg, "no address but loopback and link-local"));
	/* The override, for NAT: the name alone. */
	assert_int_equal(ms_self_find(*state, "d", true, NULL, 0, &idx, &err), 0);
	assert_int_equal(idx, 3);
}

static void test_self_none_or_several(void **state)
{
	struct ms_addr none[] = { addr("192.168.9.9") };
	struct ms_addr two[] = { addr("10.0.0.2"), addr("fd00::4") };
	struct ms_error err;
	size_t idx;

	assert_int_not_equal(ms_self_find(*state, NULL, false, none, 1, &idx, &err), 0);
	assert_non_null(strstr(err.msg, "--node NAME"));
	assert_int_not_equal(ms_self_find(*state, NULL, false, two, 2, &idx, &err), 0);
	assert_non_null(strstr(err.msg, "\"b\" and \"d\""));
}

static void test_reqid_symmetric_in_range(void **state)
{
	uint32_t ab = ms_pair_reqid("a", "b");

	(void)state;
	assert_int_equal(ab, ms_pair_reqid("b", "a"));
	assert_true(ms_is_our_reqid(ab));
	assert_int_not_equal(ab, ms_pair_reqid("a", "c"));
	/* "ab"+"c" and "a"+"bc" must not collide by concatenation. */
	assert_int_not_equal(ms_pair_reqid("ab", "c"), ms_pair_reqid("a", "bc"));
	assert_false(ms_is_our_reqid(0));
	assert_false(ms_is_our_reqid(MS_REQID_MAX + 1));
}

static size_t count_bypass(const struct ms_sp *sps, size_t n, int family)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ms_sp_is_bypass(&sps[i]) && sps[i].dst.family == family;
	return k;
}

/*
 * Pair SPs leave the local side open (out any -> peer, in peer -> any): traffic with a member
 * from any local address (secondary, VIP, IPv6 temporary) is ESP or dropped, never clear.
 */
static void test_plan_policies(void **state)
{
	struct ms_inventory *inv = *state;
	struct ms_sp *sps;
	size_t n, pairs = 0;
	char t[MS_SP_STRLEN];

	/* a is dual-stack: b (v4), c (v6), d (both) -> 1 + 1 + 2 families, 2 SPs each; then the
	 * node-wide bypasses: v4 multicast and broadcast, v6 multicast and the four ND SPs. */
	assert_int_equal(ms_plan_policies(inv, 0, &sps, &n, NULL), 0);
	assert_int_equal(n, 8 + 2 + 5);
	assert_int_equal(count_bypass(sps, n, AF_INET), 2);
	assert_int_equal(count_bypass(sps, n, AF_INET6), 5);
	for (size_t i = 0; i < n; i++) {
		const struct ms_sp *sp = &sps[i];
		uint8_t host = (uint8_t)(ms_addr_len(&sp->src) * 8);

		assert_int_equal(sp->src.family, sp->dst.family);
		assert_true(ms_is_our_reqid(sp->reqid));
		if (ms_sp_is_bypass(sp)) {
			assert_int_equal(sp->priority, MS_SP_PRIORITY_NODE);
			assert_int_equal(sp->src_len, 0);
			assert_true(sp->icmp6_type || sp->dir == MS_DIR_IN);	/* only ND goes out in clear */
			continue;
		}
		pairs++;
		assert_int_equal(sp->reqid, ms_pair_reqid("a", inv->nodes[sp->peer].name));
		assert_int_equal(sp->priority, MS_SP_PRIORITY);
		assert_int_equal(sp->dir == MS_DIR_OUT ? sp->src_len : sp->dst_len, 0);
		assert_int_equal(sp->dir == MS_DIR_OUT ? sp->dst_len : sp->src_len, host);
		assert_true(ms_addr_equal(sp->dir == MS_DIR_OUT ? &sp->dst : &sp->src,
					  ms_node_addr(&inv->nodes[sp->peer], sp->src.family)));
	}
	assert_int_equal(pairs, 8);
	assert_string_equal(ms_sp_format(&sps[0], t, sizeof(t)), "out any -> 10.0.0.2");
	assert_string_equal(ms_sp_format(&sps[1], t, sizeof(t)), "in 10.0.0.2 -> any");
	assert_string_equal(ms_sp_format(&sps[8], t, sizeof(t)), "in any -> 224.0.0.0/4 (bypass)");
	free(sps);
	/* b (v4 only) and c (v6 only) share nothing. */
	assert_int_equal(ms_plan_policies(inv, 1, &sps, &n, NULL), 0);
	assert_int_equal(n, 4 + 2);
	free(sps);
	assert_int_equal(ms_plan_unreachable(inv, 1), 1);
	assert_int_equal(ms_plan_unreachable(inv, 0), 0);
}

/* The identity of a policy: direction and selector, including the ND bypass's ICMPv6 type. */
/*
 * Modes: require pairs are ESP-required both ways whatever their state; a prefer pair's inbound is
 * optional, its outbound template-less (clear, reqid 0) until the pair is up, then optional with
 * the pair's reqid.  Other SPs never change shape.
 */
static void test_plan_modes(void **state)
{
	static const char text[] =
		"{\"version\":1,\"mesh\":{\"name\":\"t\"},\"nodes\":["
		"{\"name\":\"a\",\"addresses\":[\"10.0.0.1\",\"fd00::1\"]},"
		"{\"name\":\"b\",\"mode\":\"prefer\",\"addresses\":[\"10.0.0.2\",\"fd00::2\"]},"
		"{\"name\":\"c\",\"addresses\":[\"10.0.0.3\"]}]}";
	struct ms_inventory *inv;
	struct ms_error err;
	struct ms_sp *sps;
	size_t n, seen[2] = { 0, 0 };

	(void)state;
	assert_int_equal(ms_inventory_parse(text, strlen(text), "t", &inv, &err), 0);
	assert_int_equal(ms_plan_policies(inv, 0, &sps, &n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		struct ms_sp *sp = &sps[i], before = *sp;
		uint32_t reqid = ms_pair_reqid("a", inv->nodes[sp->peer].name);

		if (!ms_sp_is_pair(sp)) {
			assert_false(ms_plan_set_up(inv, 0, sp, true));
			assert_memory_equal(sp, &before, sizeof(*sp));
			continue;
		}
		if (sp->peer == 2) {	/* c: require */
			assert_int_equal(sp->shape, MS_SP_REQUIRED);
			assert_int_equal(sp->reqid, reqid);
			assert_false(ms_plan_set_up(inv, 0, sp, true));
			seen[0]++;
			continue;
		}
		assert_int_equal(sp->peer, 1);	/* b: prefer */
		seen[1]++;
		if (sp->dir == MS_DIR_IN) {
			assert_int_equal(sp->shape, MS_SP_OPTIONAL);
			assert_int_equal(sp->reqid, reqid);
			assert_false(ms_plan_set_up(inv, 0, sp, true));
			continue;
		}
		assert_int_equal(sp->shape, MS_SP_CLEAR);
		assert_int_equal(sp->reqid, 0);
		assert_true(ms_plan_set_up(inv, 0, sp, true));
		assert_int_equal(sp->shape, MS_SP_OPTIONAL);
		assert_int_equal(sp->reqid, reqid);
		assert_false(ms_plan_set_up(inv, 0, sp, true));
		assert_true(ms_plan_set_up(inv, 0, sp, false));
		assert_memory_equal(sp, &before, sizeof(*sp));
	}
	assert_int_equal(seen[0], 2);	/* c: IPv4 out and in */
	assert_int_equal(seen[1], 4);	/* b: both families, out and in */
	free(sps);
	ms_inventory_free(inv);
}

static void test_sp_cmp(void **state)
{
	struct ms_inventory *inv = *state;
	struct ms_sp *sps, a;
	size_t n;

	assert_int_equal(ms_plan_policies(inv, 0, &sps, &n, NULL), 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(ms_sp_cmp(&sps[i], &sps[i]), 0);
		for (size_t j = i + 1; j < n; j++)
			assert_int_not_equal(ms_sp_cmp(&sps[i], &sps[j]), 0);
	}
	a = sps[0];
	a.reqid++, a.priority++;	/* not part of the identity: reload replaces such a policy in place */
	assert_int_equal(ms_sp_cmp(&a, &sps[0]), 0);
	qsort(sps, n, sizeof(*sps), ms_sp_cmp);
	for (size_t i = 1; i < n; i++)
		assert_true(ms_sp_cmp(&sps[i - 1], &sps[i]) < 0);
	free(sps);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self_by_address),
		cmocka_unit_test(test_self_by_name),
		cmocka_unit_test(test_self_by_name_not_local),
		cmocka_unit_test(test_self_none_or_several),
		cmocka_unit_test(test_reqid_symmetric_in_range),
		cmocka_unit_test(test_plan_policies),
		cmocka_unit_test(test_sp_cmp),
		cmocka_unit_test(test_plan_modes),
	};

	return cmocka_run_group_tests_name("self_plan", tests, setup, teardown);
}
