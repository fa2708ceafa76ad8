/*
 * Exclusions: parsing and validation of mesh.exclude and nodes[].exclude, the split of a port
 * range into selector blocks, the policies planned for each node, and the digest.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "bad_inventory.h"
#include "table_tests.h"

#include "meshsec/exclude.h"
#include "meshsec/inventory.h"
#include "meshsec/plan.h"

#define A "{\"name\":\"a\",\"addresses\":[\"10.0.0.1\",\"fd00::1\"]"
#define B "{\"name\":\"b\",\"addresses\":[\"10.0.0.2\"]"
#define C "{\"name\":\"c\",\"addresses\":[\"10.0.0.3\",\"fd00::3\"]"
/* An inventory with a mesh section tail M (after the name) and node tails NA, NB, NC. */
#define INV(M, NA, NB, NC) "{\"version\":1,\"mesh\":{\"name\":\"t\"" M "},\"nodes\":[" A NA "}," B NB "}," C NC "}]}"

static struct ms_inventory *parse_ok(const char *text)
{
	struct ms_inventory *inv = NULL;
	struct ms_error err = { "" };

	if (ms_inventory_parse(text, strlen(text), "inv.json", &inv, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	return inv;
}

/* The 3-node inventory of the plan tests: a dual-stack, b IPv4 only, c dual-stack. */
static const char three[] = INV(",\"exclude\":[{\"proto\":\"tcp\",\"port\":443}]", "",
				",\"exclude\":[{\"proto\":\"udp\",\"port\":\"8000-8100\",\"peer\":\"c\"}]",
				",\"exclude\":[{\"proto\":\"tcp\",\"port\":8080}]");

static void test_parse(void **state)
{
	struct ms_inventory *inv = parse_ok(three);

	(void)state;
	assert_int_equal(inv->n_exclude, 1);
	assert_int_equal(inv->exclude[0].proto, 6);
	assert_int_equal(inv->exclude[0].lo, 443);
	assert_int_equal(inv->exclude[0].hi, 443);
	assert_int_equal(inv->exclude[0].peer, -1);
	assert_int_equal(inv->nodes[0].n_exclude, 0);
	assert_null(inv->nodes[0].exclude);
	assert_int_equal(inv->nodes[1].n_exclude, 1);
	assert_int_equal(inv->nodes[1].exclude[0].proto, 17);
	assert_int_equal(inv->nodes[1].exclude[0].lo, 8000);
	assert_int_equal(inv->nodes[1].exclude[0].hi, 8100);
	assert_string_equal(inv->nodes[1].exclude[0].peer_name, "c");
	assert_int_equal(inv->nodes[1].exclude[0].peer, 2);	/* a node later in the list */
	assert_int_equal(inv->nodes[2].exclude[0].peer, -1);
	ms_inventory_free(inv);
}

/* What the rules allow: the same port by protocol, per peer, on several servers; empty lists; edges. */
static void test_parse_allowed(void **state)
{
	struct ms_inventory *inv = parse_ok(INV(",\"exclude\":[{\"proto\":\"tcp\",\"port\":443},{\"proto\":\"udp\",\"port\":443},"
						"{\"proto\":\"sctp\",\"port\":\"1-32767\"},{\"proto\":\"tcp\",\"port\":61000},"
						"{\"proto\":\"tcp\",\"port\":\"65535-65535\"}]",
						",\"exclude\":[{\"proto\":\"udp\",\"port\":5000,\"peer\":\"b\"},{\"proto\":\"udp\",\"port\":5000,\"peer\":\"c\"}]",
						",\"exclude\":[]", ",\"exclude\":[{\"proto\":\"udp\",\"port\":5000}]"));

	(void)state;
	assert_int_equal(inv->n_exclude, 5);
	assert_int_equal(inv->exclude[2].proto, 132);
	assert_int_equal(inv->exclude[4].lo, 65535);
	assert_int_equal(inv->nodes[0].n_exclude, 2);
	assert_int_equal(inv->nodes[1].n_exclude, 0);
	assert_int_equal(inv->nodes[2].n_exclude, 1);
	ms_inventory_free(inv);
}

#define MX(list) INV(",\"exclude\":" list, "", "", "")
#define NX(list) INV("", "", ",\"exclude\":" list, "")
#define TCP443 "{\"proto\":\"tcp\",\"port\":443}"

static const struct bad_case bad[] = {
	{ MX("{}"), { "inv.json: mesh.exclude:", "expected an array", "found an object" } },
	{ MX("[5]"), { "mesh.exclude[0]:", "expected an object such as", "found an integer" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":443,\"direction\":\"in\"}]"), { "mesh.exclude[0]:", "unknown key \"direction\"" } },
	{ MX("[{\"proto\":\"tcp\",\"prot\":443}]"), { "mesh.exclude[0]:", "unknown key \"prot\"", "did you mean" } },
	{ MX("[{\"port\":443}]"), { "mesh.exclude[0]:", "missing \"proto\"", "\"tcp\", \"udp\" or \"sctp\"" } },
	{ MX("[{\"proto\":6,\"port\":443}]"), { "mesh.exclude[0].proto:", "expected a string", "found an integer" } },
	{ MX("[{\"proto\":\"icmp\",\"port\":443}]"), { "mesh.exclude[0].proto:", "\"icmp\" is not a protocol", "use \"tcp\"" } },
	{ MX("[{\"proto\":\"TCP\",\"port\":443}]"), { "mesh.exclude[0].proto:", "lower case", "\"tcp\"" } },
	{ MX("[{\"proto\":\"tpc\",\"port\":443}]"), { "mesh.exclude[0].proto:", "did you mean \"tcp\"" } },
	{ MX("[{\"proto\":\"tcp\"}]"), { "mesh.exclude[0]:", "missing \"port\"", "\"port\": 443" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":0}]"), { "mesh.exclude[0].port:", "0 is out of range", "1 to 65535" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":65536}]"), { "mesh.exclude[0].port:", "65536 is out of range" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":-1}]"), { "mesh.exclude[0].port:", "-1 is out of range" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":44.5}]"), { "mesh.exclude[0].port:", "found a number with a fraction", "\"LO-HI\"" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":[443]}]"), { "mesh.exclude[0].port:", "found an array" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":\"443\"}]"), { "mesh.exclude[0].port:", "is a string", "\"port\": 443" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":\"80x\"}]"), { "mesh.exclude[0].port:", "\"80x\" is not a port range", "\"LO-HI\"" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":\"80-\"}]"), { "mesh.exclude[0].port:", "not a port range" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":\"-80\"}]"), { "mesh.exclude[0].port:", "not a port range" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":\" 80-90\"}]"), { "mesh.exclude[0].port:", "not a port range" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":\"80-90-100\"}]"), { "mesh.exclude[0].port:", "not a port range" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":\"100-700000\"}]"), { "mesh.exclude[0].port:", "not a port range" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":\"0-100\"}]"), { "mesh.exclude[0].port:", "\"0-100\": ports are 1 to 65535" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":\"100-70000\"}]"), { "mesh.exclude[0].port:", "ports are 1 to 65535" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":\"8100-8000\"}]"), { "mesh.exclude[0].port:", "reversed", "\"8000-8100\"" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":40000}]"), { "mesh.exclude[0].port:", "tcp/40000 touches the Linux default ephemeral port range 32768-60999", "below 32768" } },
	{ MX("[{\"proto\":\"udp\",\"port\":\"30000-33000\"}]"), { "mesh.exclude[0].port:", "udp/30000-33000 touches", "ephemeral" } },
	{ MX("[{\"proto\":\"udp\",\"port\":\"60999-61000\"}]"), { "mesh.exclude[0].port:", "ephemeral" } },
	{ MX("[{\"proto\":\"udp\",\"port\":32768}]"), { "mesh.exclude[0].port:", "ephemeral" } },
	{ MX("[{\"proto\":\"tcp\",\"port\":443,\"peer\":\"b\"}]"),
	  { "mesh.exclude[0].peer:", "allowed only in a node's list", "move this entry to nodes[K].exclude" } },
	{ MX("[" TCP443 ",{\"proto\":\"tcp\",\"port\":\"440-450\"}]"),
	  { "mesh.exclude[1]:", "tcp/440-450 overlaps mesh.exclude[0] (tcp/443)", "merge the two entries" } },
	{ MX("[{\"proto\":\"udp\",\"port\":\"1000-2000\"},{\"proto\":\"tcp\",\"port\":443},{\"proto\":\"udp\",\"port\":\"2000-3000\"}]"),
	  { "mesh.exclude[2]:", "overlaps mesh.exclude[0] (udp/1000-2000)" } },
	{ NX("7"), { "nodes[1].exclude:", "expected an array" } },
	{ NX("[\"tcp/443\"]"), { "nodes[1].exclude[0]:", "expected an object", "found a string" } },
	{ NX("[{\"proto\":\"tcp\",\"port\":443,\"peers\":\"c\"}]"), { "nodes[1].exclude[0]:", "unknown key \"peers\"", "did you mean \"peer\"" } },
	{ NX("[{\"proto\":\"tcp\",\"port\":443,\"peer\":3}]"), { "nodes[1].exclude[0].peer:", "expected a string naming another node" } },
	{ NX("[{\"proto\":\"tcp\",\"port\":443,\"peer\":\"c d\"}]"), { "nodes[1].exclude[0].peer:", "' '" } },
	{ NX("[{\"proto\":\"tcp\",\"port\":443,\"peer\":\"b\"}]"), { "nodes[1].exclude[0].peer:", "\"b\" is this list's own node", "drop \"peer\"" } },
	{ NX("[{\"proto\":\"tcp\",\"port\":443,\"peer\":\"zz\"}]"),
	  { "nodes[1].exclude[0].peer:", "no node is named \"zz\"", "meshsec check --names" } },
	{ NX("[{\"proto\":\"tcp\",\"port\":443},{\"proto\":\"tcp\",\"port\":443,\"peer\":\"c\"}]"),
	  { "nodes[1].exclude[1]:", "tcp/443 overlaps nodes[1].exclude[0] (tcp/443)" } },
	{ NX("[{\"proto\":\"tcp\",\"port\":\"400-500\",\"peer\":\"c\"},{\"proto\":\"tcp\",\"port\":443,\"peer\":\"c\"}]"),
	  { "nodes[1].exclude[1]:", "overlaps nodes[1].exclude[0] (tcp/400-500) for the same peer" } },
	{ NX("[{\"proto\":\"tcp\",\"port\":\"-1\"}]"), { "nodes[1].exclude[0].port:", "not a port range" } },
	{ INV(",\"exclude\":[{\"proto\":\"udp\",\"port\":53}," TCP443 "]", "", ",\"exclude\":[{\"proto\":\"tcp\",\"port\":\"400-500\",\"peer\":\"c\"}]", ""),
	  { "nodes[1].exclude[0]:", "tcp/400-500 overlaps mesh.exclude[1] (tcp/443)", "already leaves it in clear on every member" } },
	/* An exclusion's errors come after the node's own (its addresses). */
	{ "{\"version\":1,\"mesh\":{\"name\":\"t\"},\"nodes\":[{\"name\":\"a\",\"addresses\":[\"10.0.0.0/24\"],\"exclude\":[{\"proto\":\"x\"}]}]}",
	  { "nodes[0].addresses[0]", "is a network" } },
};

/* A list of n entries tcp/1, tcp/2, ... as the exclude of the mesh or of node b. */
static char *long_list(size_t n, int mesh)
{
	char *text = malloc(n * 40 + 512), *p = text;

	assert_non_null(text);
	p += sprintf(p, "{\"version\":1,\"mesh\":{\"name\":\"t\"%s", mesh ? ",\"exclude\":[" : "},\"nodes\":[" A "}," B ",\"exclude\":[");
	for (size_t i = 0; i < n; i++)
		p += sprintf(p, "%s{\"proto\":\"tcp\",\"port\":%zu}", i ? "," : "", i + 1);
	sprintf(p, "%s", mesh ? "]},\"nodes\":[" A "}," B "}]}" : "]}]}");
	return text;
}

static void test_list_limit(void **state)
{
	struct ms_inventory *inv = NULL;
	struct ms_error err = { "" };

	(void)state;
	for (int mesh = 0; mesh < 2; mesh++) {
		char *text = long_list(MS_EXCLUDE_MAX, mesh);

		inv = parse_ok(text);
		assert_int_equal(mesh ? inv->n_exclude : inv->nodes[1].n_exclude, 64);
		ms_inventory_free(inv);
		free(text);
		text = long_list(MS_EXCLUDE_MAX + 1, mesh);
		assert_int_equal(ms_inventory_parse(text, strlen(text), "inv.json", &inv, &err), -EINVAL);
		assert_non_null(strstr(err.msg, mesh ? "inv.json: mesh.exclude: has 65 entries; the limit is 64 per list"
						    : "inv.json: nodes[1].exclude: has 65 entries; the limit is 64 per list"));
		free(text);
	}
}

/* n IPv4 nodes, each excluding 64 ranges of 511 ports (9 blocks each) for every member. */
static char *many_ranges(size_t n)
{
	char *text = malloc(n * (64 * 48 + 96) + 128), *p = text;

	assert_non_null(text);
	p += sprintf(p, "{\"version\":1,\"mesh\":{\"name\":\"t\"},\"nodes\":[");
	for (size_t k = 0; k < n; k++) {
		p += sprintf(p, "%s{\"name\":\"n%zu\",\"addresses\":[\"10.1.%zu.%zu\"],\"exclude\":[", k ? "," : "", k, k / 250, k % 250 + 1);
		for (size_t i = 0; i < 64; i++)
			p += sprintf(p, "%s{\"proto\":\"udp\",\"port\":\"%zu-%zu\"}", i ? "," : "", 512 * i + 1, 512 * i + 511);
		p += sprintf(p, "]}");
	}
	sprintf(p, "]}");
	return text;
}

/* Exclusions a node must plan are bounded (65536 policies), or an inventory could plan millions. */
static void test_policy_bound(void **state)
{
	struct ms_inventory *inv = NULL;
	struct ms_error err = { "" };
	struct ms_sp *sps;
	size_t n;
	char *text = many_ranges(56);	/* 56 x 64 x 9 blocks x 2 = 64,512 policies per node */

	(void)state;
	inv = parse_ok(text);
	assert_int_equal(ms_plan_policies(inv, 3, &sps, &n, &err), 0);
	assert_int_equal(n, 55 * 2 + 2 + 56 * 64 * 9 * 2);
	free(sps);
	ms_inventory_free(inv);
	free(text);
	text = many_ranges(57);
	assert_int_equal(ms_inventory_parse(text, strlen(text), "inv.json", &inv, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "inv.json: nodes[0]: the exclusions would need up to 65664 policies on node \"n0\"; the limit is 65536"));
	free(text);
}

static void test_blocks_example(void **state)
{
	struct ms_port_block b[MS_PORT_BLOCKS_MAX];

	(void)state;
	assert_int_equal(ms_port_blocks(8000, 8100, b), 4);
	assert_int_equal(b[0].port, 8000);
	assert_int_equal(b[0].mask, 0xffc0);
	assert_int_equal(b[1].port, 8064);
	assert_int_equal(b[1].mask, 0xffe0);
	assert_int_equal(b[2].port, 8096);
	assert_int_equal(b[2].mask, 0xfffc);
	assert_int_equal(b[3].port, 8100);
	assert_int_equal(b[3].mask, 0xffff);
	assert_int_equal(ms_port_blocks(443, 443, b), 1);
	assert_int_equal(b[0].port, 443);
	assert_int_equal(b[0].mask, 0xffff);
	assert_int_equal(ms_port_blocks(1, 65535, b), 16);
	assert_int_equal(b[15].port, 32768);
	assert_int_equal(b[15].mask, 0x8000);
	assert_int_equal(ms_port_blocks(1, 65534, b), 30);	/* the worst case */
	assert_int_equal(ms_port_blocks(0, 65535, b), 1);
	assert_int_equal(b[0].mask, 0);
}

/* Checks that blocks cover exactly [lo, hi], in order, without overlap, each aligned. */
static void check_cover(uint16_t lo, uint16_t hi)
{
	struct ms_port_block b[MS_PORT_BLOCKS_MAX];
	size_t n = ms_port_blocks(lo, hi, b);
	uint32_t next = lo;

	if (n == 0 || n > MS_PORT_BLOCKS_MAX)
		fail_msg("%u-%u: %zu blocks", lo, hi, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t size = 0x10000u - b[i].mask;

		if ((size & (size - 1)) != 0 || (uint16_t)~b[i].mask != size - 1)
			fail_msg("%u-%u: block %zu mask %#x is not a prefix mask", lo, hi, i, b[i].mask);
		if ((b[i].port & ~b[i].mask & 0xffff) != 0)
			fail_msg("%u-%u: block %zu port %u is not aligned to mask %#x", lo, hi, i, b[i].port, b[i].mask);
		if (b[i].port != next)
			fail_msg("%u-%u: block %zu starts at %u, want %u (a gap or an overlap)", lo, hi, i, b[i].port, next);
		next = b[i].port + size;
	}
	if (next != (uint32_t)hi + 1)
		fail_msg("%u-%u: blocks end at %u", lo, hi, next - 1);
}

/* Property: for random ranges (and every range within a small window), an exact, aligned cover of at most 30 blocks. */
static void test_blocks_property(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint16_t a, b;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;	/* xorshift64: the same ranges every run */
		a = (uint16_t)(x >> 16), b = (uint16_t)(x >> 40);
		if (i % 4 == 0)
			b = (uint16_t)(a + (x >> 58));	/* short ranges too */
		check_cover(a < b ? a : b, a < b ? b : a);
	}
	for (uint32_t lo = 1; lo < 300; lo++)
		for (uint32_t hi = lo; hi < 300; hi++)
			check_cover((uint16_t)lo, (uint16_t)hi);
	for (uint32_t lo = 65300; lo <= 65535; lo++)
		for (uint32_t hi = lo; hi <= 65535; hi++)
			check_cover((uint16_t)lo, (uint16_t)hi);
}

static int by_text(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* The node's plan, the exclusions' policies only, formatted and sorted, one per line. */
static char *exclusion_lines(const struct ms_inventory *inv, size_t self)
{
	struct ms_sp *sps;
	size_t n, k = 0, len = 0;
	struct ms_error err;
	char (*lines)[MS_SP_STRLEN], *out;

	assert_int_equal(ms_plan_policies(inv, self, &sps, &n, &err), 0);
	lines = calloc(n + 1, sizeof(*lines));
	assert_non_null(lines);
	qsort(sps, n, sizeof(*sps), ms_sp_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && ms_sp_cmp(&sps[i - 1], &sps[i]) == 0)
			fail_msg("node %zu plans a policy twice: %s", self, ms_sp_format(&sps[i], lines[0], MS_SP_STRLEN));
		if (!ms_sp_is_exclusion(&sps[i]))
			continue;
		assert_false(ms_sp_is_bypass(&sps[i]));
		assert_int_equal(sps[i].shape, MS_SP_CLEAR);
		assert_int_equal(sps[i].reqid, 0);
		assert_int_equal(sps[i].priority, 990);
		assert_true(sps[i].proto != 0);
		ms_sp_format(&sps[i], lines[k], MS_SP_STRLEN);
		snprintf(lines[k] + strlen(lines[k]), MS_SP_STRLEN - strlen(lines[k]), " [%s]", inv->nodes[sps[i].peer].name);
		len += strlen(lines[k++]) + 1;
	}
	qsort(lines, k, sizeof(*lines), by_text);
	out = calloc(len + 1, 1);
	assert_non_null(out);
	for (size_t i = 0; i < k; i++)
		strcat(strcat(out, lines[i]), "\n");
	free(lines);
	free(sps);
	return out;
}

static void expect_lines(const struct ms_inventory *inv, size_t self, const char *want)
{
	char *got = exclusion_lines(inv, self);

	if (strcmp(got, want) != 0)
		fail_msg("node %s plans:\n%s\nwant:\n%s", inv->nodes[self].name, got, want);
	free(got);
}

/*
 * mesh tcp/443 everywhere; b serves udp/8000-8100 to c only (4 blocks); c serves tcp/8080 to all.
 * a (dual) has IPv4 pairs with b and c and an IPv6 pair with c; b is IPv4 only.
 */
static void test_plan_three_nodes(void **state)
{
	struct ms_inventory *inv = parse_ok(three);

	(void)state;
	expect_lines(inv, 0,
		     "in 10.0.0.3 -> any tcp sport 8080 (clear) [c]\n"
		     "in any -> any tcp dport 443 (clear) [a]\n"
		     "in any -> any tcp dport 443 (clear) [a]\n"
		     "in any -> any tcp sport 443 (clear) [a]\n"
		     "in any -> any tcp sport 443 (clear) [a]\n"
		     "in fd00::3 -> any tcp sport 8080 (clear) [c]\n"
		     "out any -> 10.0.0.3 tcp dport 8080 (clear) [c]\n"
		     "out any -> any tcp dport 443 (clear) [a]\n"
		     "out any -> any tcp dport 443 (clear) [a]\n"
		     "out any -> any tcp sport 443 (clear) [a]\n"
		     "out any -> any tcp sport 443 (clear) [a]\n"
		     "out any -> fd00::3 tcp dport 8080 (clear) [c]\n");
	expect_lines(inv, 1,
		     "in 10.0.0.3 -> any tcp sport 8080 (clear) [c]\n"
		     "in 10.0.0.3 -> any udp dport 8000/0xffc0 (clear) [c]\n"
		     "in 10.0.0.3 -> any udp dport 8064/0xffe0 (clear) [c]\n"
		     "in 10.0.0.3 -> any udp dport 8096/0xfffc (clear) [c]\n"
		     "in 10.0.0.3 -> any udp dport 8100 (clear) [c]\n"
		     "in any -> any tcp dport 443 (clear) [b]\n"
		     "in any -> any tcp sport 443 (clear) [b]\n"
		     "out any -> 10.0.0.3 tcp dport 8080 (clear) [c]\n"
		     "out any -> 10.0.0.3 udp sport 8000/0xffc0 (clear) [c]\n"
		     "out any -> 10.0.0.3 udp sport 8064/0xffe0 (clear) [c]\n"
		     "out any -> 10.0.0.3 udp sport 8096/0xfffc (clear) [c]\n"
		     "out any -> 10.0.0.3 udp sport 8100 (clear) [c]\n"
		     "out any -> any tcp dport 443 (clear) [b]\n"
		     "out any -> any tcp sport 443 (clear) [b]\n");
	expect_lines(inv, 2,
		     "in 10.0.0.2 -> any udp sport 8000/0xffc0 (clear) [b]\n"
		     "in 10.0.0.2 -> any udp sport 8064/0xffe0 (clear) [b]\n"
		     "in 10.0.0.2 -> any udp sport 8096/0xfffc (clear) [b]\n"
		     "in 10.0.0.2 -> any udp sport 8100 (clear) [b]\n"
		     "in any -> any tcp dport 443 (clear) [c]\n"
		     "in any -> any tcp dport 443 (clear) [c]\n"
		     "in any -> any tcp dport 8080 (clear) [c]\n"
		     "in any -> any tcp dport 8080 (clear) [c]\n"
		     "in any -> any tcp sport 443 (clear) [c]\n"
		     "in any -> any tcp sport 443 (clear) [c]\n"
		     "out any -> 10.0.0.2 udp dport 8000/0xffc0 (clear) [b]\n"
		     "out any -> 10.0.0.2 udp dport 8064/0xffe0 (clear) [b]\n"
		     "out any -> 10.0.0.2 udp dport 8096/0xfffc (clear) [b]\n"
		     "out any -> 10.0.0.2 udp dport 8100 (clear) [b]\n"
		     "out any -> any tcp dport 443 (clear) [c]\n"
		     "out any -> any tcp dport 443 (clear) [c]\n"
		     "out any -> any tcp sport 443 (clear) [c]\n"
		     "out any -> any tcp sport 443 (clear) [c]\n"
		     "out any -> any tcp sport 8080 (clear) [c]\n"
		     "out any -> any tcp sport 8080 (clear) [c]\n");
	ms_inventory_free(inv);
}

/* Both families of a wildcard policy: the pair above shows them as two lines; here, which is which. */
static void test_plan_families_and_selectors(void **state)
{
	struct ms_inventory *inv = parse_ok(three);
	struct ms_sp *sps;
	size_t n, v4 = 0, v6 = 0;
	struct ms_error err;

	(void)state;
	assert_int_equal(ms_plan_policies(inv, 0, &sps, &n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		if (!ms_sp_is_exclusion(&sps[i]))
			continue;
		assert_int_equal(sps[i].src.family, sps[i].dst.family);
		v4 += sps[i].src.family == AF_INET, v6 += sps[i].src.family == AF_INET6;
		/* A member address is a host prefix; a wildcard is the zero address with length 0. */
		if (sps[i].dst_len)
			assert_int_equal(sps[i].dst_len, sps[i].dst.family == AF_INET ? 32 : 128);
		if (sps[i].src_len == 0)
			assert_memory_equal(sps[i].src.u.raw, (uint8_t[16]){ 0 }, 16);
		/* Exactly one port side per policy. */
		assert_true((sps[i].sport_mask != 0) != (sps[i].dport_mask != 0));
	}
	assert_int_equal(v4, 6);
	assert_int_equal(v6, 6);
	free(sps);
	ms_inventory_free(inv);
}

/* Policy p selects at least the traffic of m (same direction and ports; each side equal or `any`). */
static bool covers(const struct ms_sp *p, const struct ms_sp *m)
{
	return p->dir == m->dir && p->proto == m->proto && p->src.family == m->src.family && p->sport == m->sport &&
	       p->sport_mask == m->sport_mask && p->dport == m->dport && p->dport_mask == m->dport_mask &&
	       (p->src_len == 0 || (p->src_len == m->src_len && memcmp(p->src.u.raw, m->src.u.raw, 16) == 0)) &&
	       (p->dst_len == 0 || (p->dst_len == m->dst_len && memcmp(p->dst.u.raw, m->dst.u.raw, 16) == 0));
}

/* The two ends of an excluded flow plan mirror images: what one sends clear, the other takes clear. */
static void test_plan_mirrors(void **state)
{
	struct ms_inventory *inv = parse_ok(three);
	struct ms_sp *sb, *sc;
	size_t nb, nc, matched = 0;
	struct ms_error err;

	(void)state;
	assert_int_equal(ms_plan_policies(inv, 1, &sb, &nb, &err), 0);
	assert_int_equal(ms_plan_policies(inv, 2, &sc, &nc, &err), 0);
	for (size_t i = 0; i < nb; i++) {
		struct ms_sp m = sb[i];

		if (!ms_sp_is_exclusion(&sb[i]) || sb[i].peer != 2)
			continue;	/* only b's policies toward c */
		/* c's counterpart: the other direction, the host prefix on the other side. */
		m.dir = sb[i].dir == MS_DIR_OUT ? MS_DIR_IN : MS_DIR_OUT;
		if (sb[i].dir == MS_DIR_OUT)
			m.src = inv->nodes[1].v4, m.src_len = 32, memset(&m.dst.u, 0, sizeof(m.dst.u)), m.dst_len = 0;
		else
			m.dst = inv->nodes[1].v4, m.dst_len = 32, memset(&m.src.u, 0, sizeof(m.src.u)), m.src_len = 0;
		for (size_t j = 0; j < nc; j++)
			matched += ms_sp_is_exclusion(&sc[j]) && covers(&sc[j], &m);
	}
	assert_int_equal(matched, 10);	/* 4 udp blocks x 2 directions, tcp/8080 x 2 */
	free(sb);
	free(sc);
	ms_inventory_free(inv);
}

static void test_no_exclusions_plan_nothing(void **state)
{
	struct ms_inventory *inv = parse_ok(INV("", "", "", ""));

	(void)state;
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(ms_plan_exclude(inv, i, NULL), 0);
	ms_inventory_free(inv);
}

static void test_for_node_and_describe(void **state)
{
	struct ms_inventory *inv = parse_ok(three);
	static const char *const want[3] = {
		"tcp/443 (mesh)|tcp/8080 on c|",
		"tcp/443 (mesh)|udp/8000-8100 on b from c:4|tcp/8080 on c|",
		"tcp/443 (mesh)|udp/8000-8100 on b from c:4|tcp/8080 on c|",
	};

	(void)state;
	for (size_t self = 0; self < 3; self++) {
		struct ms_exclude_ref *refs;
		char got[256] = "", text[MS_EXCLUDE_STRLEN];
		size_t n;

		assert_int_equal(ms_exclude_for_node(inv, self, &refs, &n), 0);
		for (size_t i = 0; i < n; i++) {
			strcat(got, ms_exclude_describe(inv, &refs[i], text, sizeof(text)));
			if (refs[i].blocks > 1)
				sprintf(got + strlen(got), ":%zu", refs[i].blocks);
			strcat(got, "|");
		}
		assert_string_equal(got, want[self]);
		free(refs);
	}
	ms_inventory_free(inv);
}

static void digest_of(const char *text, uint8_t d[MS_DIGEST_LEN])
{
	struct ms_inventory *inv = parse_ok(text);

	assert_int_equal(ms_inventory_digest(inv, d), 0);
	ms_inventory_free(inv);
}

/* Nodes with different exclusions show different digests; order and empty lists do not count. */
static void test_digest(void **state)
{
	static const char *const differ[] = {
		INV("", "", "", ""),
		INV(",\"exclude\":[" TCP443 "]", "", "", ""),
		INV(",\"exclude\":[{\"proto\":\"udp\",\"port\":443}]", "", "", ""),
		INV(",\"exclude\":[{\"proto\":\"tcp\",\"port\":\"443-444\"}]", "", "", ""),
		INV("", ",\"exclude\":[" TCP443 "]", "", ""),
		INV("", "", ",\"exclude\":[" TCP443 "]", ""),
		INV("", "", ",\"exclude\":[{\"proto\":\"tcp\",\"port\":443,\"peer\":\"c\"}]", ""),
		INV("", "", ",\"exclude\":[{\"proto\":\"tcp\",\"port\":443,\"peer\":\"a\"}]", ""),
	};
	uint8_t d[8][MS_DIGEST_LEN], e[MS_DIGEST_LEN];

	(void)state;
	for (size_t i = 0; i < 8; i++) {
		digest_of(differ[i], d[i]);
		for (size_t j = 0; j < i; j++)
			if (memcmp(d[i], d[j], MS_DIGEST_LEN) == 0)
				fail_msg("inventories %zu and %zu have one digest", j, i);
	}
	digest_of(INV(",\"exclude\":[]", ",\"exclude\":[]", "", ""), e);
	assert_memory_equal(d[0], e, MS_DIGEST_LEN);
	digest_of(INV(",\"exclude\":[{\"proto\":\"udp\",\"port\":53}," TCP443 "]", "", "", ""), d[0]);
	digest_of(INV(",\"exclude\":[" TCP443 ",{\"proto\":\"udp\",\"port\":53}]", "", "", ""), e);
	assert_memory_equal(d[0], e, MS_DIGEST_LEN);
}

int main(void)
{
	static const struct CMUnitTest named[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_allowed),
		cmocka_unit_test(test_list_limit),
		cmocka_unit_test(test_policy_bound),
		cmocka_unit_test(test_blocks_example),
		cmocka_unit_test(test_blocks_property),
		cmocka_unit_test(test_plan_three_nodes),
		cmocka_unit_test(test_plan_families_and_selectors),
		cmocka_unit_test(test_plan_mirrors),
		cmocka_unit_test(test_no_exclusions_plan_nothing),
		cmocka_unit_test(test_for_node_and_describe),
		cmocka_unit_test(test_digest),
	};

	return RUN_WITH_BAD_TABLE("exclude", named, "bad_exclude");
}
