/*
 * Inventory parser: good inventories build the right model; every bad one is refused with a
 * message naming the source, the JSON path (or line:column) and the offending value.
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

#include "bad_inventory.h"
#include "table_tests.h"

#include "meshsec/index.h"
#include "meshsec/inventory.h"

#define MESH "\"mesh\":{\"name\":\"prod\"}"
#define NODE_A "{\"name\":\"a\",\"addresses\":[\"10.0.0.1\"]}"
#define NODE_B "{\"name\":\"b\",\"addresses\":[\"10.0.0.2\"]}"

static struct ms_inventory *parse_ok(const char *text)
{
	struct ms_inventory *inv = NULL;
	struct ms_error err = { "" };
	int ret = ms_inventory_parse(text, strlen(text), "inv.json", &inv, &err);

	if (ret != 0)
		fail_msg("unexpected error: %s", err.msg);
	assert_non_null(inv);
	return inv;
}

static void test_minimal_defaults(void **state)
{
	struct ms_inventory *inv = parse_ok("{\"version\":1," MESH ",\"nodes\":[" NODE_A "," NODE_B "]}");

	(void)state;
	assert_string_equal(inv->mesh_name, "prod");
	assert_int_equal(inv->port, 4801);
	assert_int_equal(inv->keepalive_s, 10);
	assert_int_equal(inv->dead_after_s, 30);
	assert_int_equal(inv->rekey_s, 3600);
	assert_true(inv->rekey_packets < (1ull << 32));
	assert_int_equal(inv->cipher, MS_CIPHER_AES_GCM_256);
	assert_int_equal(inv->n_nodes, 2);
	assert_string_equal(inv->nodes[1].name, "b");
	assert_int_equal(inv->nodes[1].v4.family, AF_INET);
	assert_int_equal(inv->nodes[1].v6.family, 0);
	ms_inventory_free(inv);
}

static void test_dual_stack_and_options(void **state)
{
	struct ms_inventory *inv = parse_ok(
		"{\"version\":1,\"mesh\":{\"name\":\"lab.eu-1\",\"port\":5000,\"cipher\":\"chacha20-poly1305\"},"
		"\"nodes\":[{\"name\":\"web-1\",\"addresses\":[\"fd00::5\",\"10.0.1.5\"]},"
		"{\"name\":\"db_2\",\"addresses\":[\"2001:db8::2\"]}]}");
	char buf[MS_ADDR_STRLEN];

	(void)state;
	assert_int_equal(inv->port, 5000);
	assert_int_equal(inv->cipher, MS_CIPHER_CHACHA20_POLY1305);
	assert_string_equal(ms_addr_format(&inv->nodes[0].v4, buf, sizeof(buf)), "10.0.1.5");
	assert_string_equal(ms_addr_format(&inv->nodes[0].v6, buf, sizeof(buf)), "fd00::5");
	assert_int_equal(inv->nodes[1].v4.family, 0);
	assert_int_equal(ms_cipher_key_len(inv->cipher), 36);
	assert_int_equal(ms_cipher_key_len(MS_CIPHER_AES_GCM_128), 20);
	ms_inventory_free(inv);
}

static void test_example_file_loads(void **state)
{
	struct ms_inventory *inv = NULL;
	struct ms_error err = { "" };

	(void)state;
	if (ms_inventory_load(TEST_SRCDIR "/deploy/inventory.example.json", &inv, &err) != 0)
		fail_msg("the shipped example does not load: %s", err.msg);
	assert_true(inv->n_nodes >= 3);
	ms_inventory_free(inv);
}

static struct ms_addr addr(const char *text)
{
	struct ms_addr a;

	assert_int_equal(ms_addr_parse(text, &a, NULL), 0);
	return a;
}

static void test_find(void **state)
{
	struct ms_inventory *inv = parse_ok("{\"version\":1," MESH ",\"nodes\":[" NODE_A "," NODE_B ","
					    "{\"name\":\"c\",\"addresses\":[\"fd00::3\",\"10.0.0.3\"]}]}");
	struct ms_addr v4 = addr("10.0.0.3"), v6 = addr("fd00::3"), other = addr("10.0.0.9"), same_bytes = addr("a00:3::");
	struct ms_addr none = { 0 };

	(void)state;
	assert_non_null(inv->by_name);
	assert_non_null(inv->by_addr);
	/* Twice: through the parser's indexes, then through the scan of a model built by hand. */
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(ms_inventory_find(inv, "a"), 0);
		assert_int_equal(ms_inventory_find(inv, "c"), 2);
		assert_int_equal(ms_inventory_find(inv, "d"), -1);
		assert_int_equal(ms_inventory_find(inv, ""), -1);
		assert_int_equal(ms_inventory_find(inv, "0123456789012345678901234567890123456789012345678901234567890123456789"), -1);
		assert_int_equal(ms_inventory_find_addr(inv, &v4), 2);
		assert_int_equal(ms_inventory_find_addr(inv, &v6), 2);
		assert_int_equal(ms_inventory_find_addr(inv, &inv->nodes[1].v4), 1);
		assert_int_equal(ms_inventory_find_addr(inv, &other), -1);
		assert_int_equal(ms_inventory_find_addr(inv, &same_bytes), -1);	/* 10.0.0.3's bytes, IPv6 */
		assert_int_equal(ms_inventory_find_addr(inv, &inv->nodes[0].v6), -1);	/* absent: family 0 */
		assert_int_equal(ms_inventory_find_addr(inv, &none), -1);
		ms_index_free(inv->by_name);
		ms_index_free(inv->by_addr);
		inv->by_name = inv->by_addr = NULL;
	}
	ms_inventory_free(inv);
}

/* n nodes, IPv6 first; node dup_at (if below n) takes the name or the IPv4 address of node dup_of. */
static char *big_inventory(size_t n, size_t dup_at, size_t dup_of, int dup_addr)
{
	char *text = malloc(n * 96 + 128), *p = text;

	assert_non_null(text);
	p += sprintf(p, "{\"version\":1," MESH ",\"nodes\":[");
	for (size_t i = 0; i < n; i++) {
		size_t name = i == dup_at && !dup_addr ? dup_of : i, a = i == dup_at && dup_addr ? dup_of : i;

		p += sprintf(p, "%s{\"name\":\"n%zu\",\"addresses\":[\"fd00::%zx\",\"10.%zu.%zu.%zu\"]}", i ? "," : "", name,
			     i + 1, a / 250 / 256, a / 250 % 256, a % 250 + 1);
	}
	sprintf(p, "]}");
	return text;
}

static void test_size_limit(void **state)
{
	struct ms_inventory *inv = NULL;
	struct ms_error err = { "" };
	char *text = big_inventory(MS_NODES_MAX, SIZE_MAX, 0, 0);

	(void)state;
	assert_int_equal(MS_NODES_MAX, 16384);
	inv = parse_ok(text);
	assert_int_equal(inv->n_nodes, MS_NODES_MAX);
	assert_int_equal(ms_inventory_find(inv, "n16383"), 16383);
	ms_inventory_free(inv);
	free(text);

	text = big_inventory(MS_NODES_MAX + 1, SIZE_MAX, 0, 0);
	assert_int_equal(ms_inventory_parse(text, strlen(text), "inv.json", &inv, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "inv.json: nodes: has 16385 nodes; the limit is 16384"));
	free(text);
}

/* A clash between the last node and one far away is found, and named, in a full-size mesh. */
static void test_duplicates_at_scale(void **state)
{
	struct ms_inventory *inv = NULL;
	struct ms_error err = { "" };
	char *text = big_inventory(MS_NODES_MAX, MS_NODES_MAX - 1, 3, 0);

	(void)state;
	assert_int_equal(ms_inventory_parse(text, strlen(text), "inv.json", &inv, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "inv.json: nodes[16383]: duplicate node name \"n3\" (also nodes[3])"));
	free(text);

	text = big_inventory(MS_NODES_MAX, MS_NODES_MAX - 1, 300, 1);
	assert_int_equal(ms_inventory_parse(text, strlen(text), "inv.json", &inv, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "inv.json: nodes[16383]: address 10.0.1.51 of node \"n16383\" is also used by node \"n300\" (nodes[300])"));
	free(text);
}

static const struct bad_case bad[] = {
	{ "{\"version\":1,", { "inv.json:1:", "JSON syntax error" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\"},\"nodes\":[" NODE_A ",]}", { "inv.json:1:", "syntax" } },
	{ "[]", { "(top level)", "expected an object" } },
	{ "{\"version\":1,\"version\":1," MESH ",\"nodes\":[" NODE_A "]}", { "inv.json:1:", "duplicate" } },
	{ "{" MESH ",\"nodes\":[" NODE_A "]}", { "version", "missing", "\"version\": 1" } },
	{ "{\"version\":2," MESH ",\"nodes\":[" NODE_A "]}", { "version", "2 is not supported" } },
	{ "{\"version\":\"1\"," MESH ",\"nodes\":[" NODE_A "]}", { "version", "found a string" } },
	{ "{\"version\":1,\"nodes\":[" NODE_A "]}", { "mesh", "missing" } },
	{ "{\"version\":1,\"mesh\":[],\"nodes\":[" NODE_A "]}", { "mesh", "expected an object" } },
	{ "{\"version\":1,\"mesh\":{},\"nodes\":[" NODE_A "]}", { "mesh", "missing \"name\"" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"\"},\"nodes\":[" NODE_A "]}", { "mesh.name", "empty" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"pr od\"},\"nodes\":[" NODE_A "]}", { "mesh.name", "' '", "position 3" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"-prod\"},\"nodes\":[" NODE_A "]}", { "mesh.name", "start with a letter" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"0123456789012345678901234567890123456789012345678901234567890123\"},\"nodes\":[" NODE_A "]}",
	  { "mesh.name", "64 characters", "limit is 63" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"port\":0},\"nodes\":[" NODE_A "]}", { "mesh.port", "0 is out of range" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"port\":70000},\"nodes\":[" NODE_A "]}", { "mesh.port", "70000", "1 to 65535" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"port\":\"4801\"},\"nodes\":[" NODE_A "]}", { "mesh.port", "found a string" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"keepalive_seconds\":0},\"nodes\":[" NODE_A "]}",
	  { "mesh.keepalive_seconds", "0 is out of range", "default 10" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"keepalive_seconds\":20},\"nodes\":[" NODE_A "]}",
	  { "mesh.dead_after_seconds", "30 is less than twice keepalive_seconds (20)", "at least 40" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"dead_after_seconds\":\"30\"},\"nodes\":[" NODE_A "]}",
	  { "mesh.dead_after_seconds", "found a string" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"rekey_seconds\":5},\"nodes\":[" NODE_A "]}",
	  { "mesh.rekey_seconds", "5 is out of range", "from 10 to 604800" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"rekey_packets\":4294967296},\"nodes\":[" NODE_A "]}",
	  { "mesh.rekey_packets", "out of range", "2147483648" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"cipher\":\"3des\"},\"nodes\":[" NODE_A "]}", { "mesh.cipher", "3DES", "Sweet32" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"cipher\":\"hmac-md5\"},\"nodes\":[" NODE_A "]}", { "mesh.cipher", "MD5 is refused" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"cipher\":\"aes-cbc-sha1\"},\"nodes\":[" NODE_A "]}", { "mesh.cipher", "SHA-1 is refused" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"cipher\":\"null\"},\"nodes\":[" NODE_A "]}", { "mesh.cipher", "unencrypted" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"cipher\":\"aes-gcm-265\"},\"nodes\":[" NODE_A "]}", { "mesh.cipher", "did you mean \"aes-gcm-256\"" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"prot\":1},\"nodes\":[" NODE_A "]}", { "mesh", "unknown key \"prot\"", "did you mean \"port\"" } },
	{ "{\"version\":1," MESH ",\"node\":[" NODE_A "]}", { "(top level)", "unknown key \"node\"", "\"nodes\"" } },
	{ "{\"version\":1," MESH "}", { "nodes", "missing" } },
	{ "{\"version\":1," MESH ",\"nodes\":[]}", { "nodes", "is empty" } },
	{ "{\"version\":1," MESH ",\"nodes\":{}}", { "nodes", "expected an array" } },
	{ "{\"version\":1," MESH ",\"nodes\":[" NODE_A ",7]}", { "nodes[1]", "expected an object", "found an integer" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"addresses\":[\"10.0.0.1\"]}]}", { "nodes[0]", "missing \"name\"" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\"}]}", { "nodes[0]", "missing \"addresses\"" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"adresses\":[]}]}", { "nodes[0]", "did you mean \"addresses\"" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[]}]}", { "nodes[0].addresses", "is empty" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":\"10.0.0.1\"}]}", { "nodes[0].addresses", "expected an array" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[5]}]}", { "nodes[0].addresses[0]", "expected a string" } },
	{ "{\"version\":1," MESH ",\"nodes\":[" NODE_A ",{\"name\":\"b\",\"addresses\":[\"fd00::1\",\"10.0.0.0/24\"]}]}",
	  { "nodes[1].addresses[1]", "\"10.0.0.0/24\" is a network" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"10.0.0.300\"]}]}", { "nodes[0].addresses[0]", "not an IPv4 or IPv6" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"0.0.0.0\"]}]}", { "nodes[0].addresses[0]", "unspecified" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"::\"]}]}", { "nodes[0].addresses[0]", "unspecified" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"224.0.0.5\"]}]}", { "nodes[0].addresses[0]", "multicast" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"ff02::1\"]}]}", { "nodes[0].addresses[0]", "multicast" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"127.0.0.1\"]}]}", { "nodes[0].addresses[0]", "loopback" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"255.255.255.255\"]}]}", { "addresses[0]", "broadcast" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"fe80::1\"]}]}", { "addresses[0]", "link-local" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"::ffff:10.0.0.1\"]}]}", { "addresses[0]", "IPv4-mapped" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"10.0.0.1\",\"10.0.0.9\"]}]}",
	  { "nodes[0].addresses[1]", "second IPv4 address", "\"a\"" } },
	{ "{\"version\":1," MESH ",\"nodes\":[" NODE_A ",{\"name\":\"a\",\"addresses\":[\"10.0.0.2\"]}]}",
	  { "nodes[1]", "duplicate node name \"a\"", "nodes[0]" } },
	{ "{\"version\":1," MESH ",\"nodes\":[" NODE_A ",{\"name\":\"b\",\"addresses\":[\"10.0.0.1\"]}]}",
	  { "nodes[1]", "10.0.0.1", "also used by node \"a\"" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"fd00::1\"]},{\"name\":\"b\",\"addresses\":[\"FD00:0::1\"]}]}",
	  { "nodes[1]", "fd00::1", "also used" } },
	/* The first clash a pairwise scan meets is reported: lowest node, lowest earlier node, name before address. */
	{ "{\"version\":1," MESH ",\"nodes\":[" NODE_A "," NODE_B ",{\"name\":\"b\",\"addresses\":[\"10.0.0.1\"]}]}",
	  { "nodes[2]", "10.0.0.1 of node \"b\" is also used by node \"a\" (nodes[0])" } },
	{ "{\"version\":1," MESH ",\"nodes\":[" NODE_A "," NODE_B ",{\"name\":\"a\",\"addresses\":[\"10.0.0.2\"]}]}",
	  { "nodes[2]", "duplicate node name \"a\" (also nodes[0])" } },
	{ "{\"version\":1," MESH ",\"nodes\":[" NODE_A ",{\"name\":\"a\",\"addresses\":[\"10.0.0.1\"]}]}",
	  { "nodes[1]", "duplicate node name \"a\"" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"10.0.0.1\",\"fd00::1\"]},{\"name\":\"b\",\"addresses\":[\"fd00::1\",\"10.0.0.1\"]}]}",
	  { "nodes[1]", "address 10.0.0.1 of node \"b\"" } },
	/* A node's own errors come before clashes between nodes. */
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\",\"addresses\":[\"10.0.0.1\",\"fd00::1\"]},{\"name\":\"b\",\"addresses\":[\"fd00::1\"]},7]}",
	  { "nodes[2]", "expected an object" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"web/1\",\"addresses\":[\"10.0.0.1\"]}]}", { "nodes[0].name", "'/'" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"w\\u00e9b\",\"addresses\":[\"10.0.0.1\"]}]}", { "nodes[0].name", "byte 0xc3" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":\"a\\u0000b\",\"addresses\":[\"10.0.0.1\"]}]}", { "inv.json:1:", "\\u0000 is not allowed" } },
	{ "{\"version\":1," MESH ",\"nodes\":[{\"name\":7,\"addresses\":[\"10.0.0.1\"]}]}", { "nodes[0].name", "expected a string" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"mode\":\"prefr\"},\"nodes\":[" NODE_A "]}",
	  { "mesh.mode", "unknown mode \"prefr\" (did you mean \"prefer\"?)", "\"require\" (ESP or nothing" } },
	{ "{\"version\":1,\"mesh\":{\"name\":\"p\",\"mode\":1},\"nodes\":[" NODE_A "]}", { "mesh.mode", "found an integer" } },
	{ "{\"version\":1," MESH ",\"nodes\":[" NODE_A ",{\"name\":\"b\",\"mode\":\"clear\",\"addresses\":[\"10.0.0.2\"]}]}",
	  { "nodes[1].mode", "unknown mode \"clear\"", "for rolling meshsec out" } },
};

/* mesh.mode is every node's default; nodes[].mode overrides it; a pair prefers when either end does. */
static void test_modes(void **state)
{
	struct ms_inventory *inv = parse_ok("{\"version\":1," MESH ",\"nodes\":[" NODE_A "," NODE_B "]}");
	uint8_t d1[MS_DIGEST_LEN], d2[MS_DIGEST_LEN], d3[MS_DIGEST_LEN];

	(void)state;
	assert_int_equal(inv->mode, MS_MODE_REQUIRE);
	assert_int_equal(inv->nodes[0].mode, MS_MODE_REQUIRE);
	assert_int_equal(ms_pair_mode(inv, 0, 1), MS_MODE_REQUIRE);
	assert_int_equal(ms_inventory_digest(inv, d1), 0);
	ms_inventory_free(inv);
	/* require written out: the same digest as the default (old agents compare it). */
	inv = parse_ok("{\"version\":1,\"mesh\":{\"name\":\"prod\",\"mode\":\"require\"},\"nodes\":[" NODE_A "," NODE_B "]}");
	assert_int_equal(ms_inventory_digest(inv, d2), 0);
	assert_memory_equal(d1, d2, MS_DIGEST_LEN);
	ms_inventory_free(inv);
	inv = parse_ok("{\"version\":1,\"mesh\":{\"name\":\"prod\",\"mode\":\"prefer\"},\"nodes\":[" NODE_A ","
		       "{\"name\":\"b\",\"mode\":\"require\",\"addresses\":[\"10.0.0.2\"]},{\"name\":\"c\",\"mode\":\"require\",\"addresses\":[\"10.0.0.3\"]}]}");
	assert_int_equal(inv->nodes[0].mode, MS_MODE_PREFER);
	assert_int_equal(inv->nodes[1].mode, MS_MODE_REQUIRE);
	assert_int_equal(ms_pair_mode(inv, 0, 1), MS_MODE_PREFER);
	assert_int_equal(ms_pair_mode(inv, 1, 0), MS_MODE_PREFER);
	assert_int_equal(ms_pair_mode(inv, 1, 2), MS_MODE_REQUIRE);
	assert_string_equal(ms_mode_name(inv->nodes[0].mode), "prefer");
	assert_int_equal(ms_inventory_digest(inv, d3), 0);
	assert_memory_not_equal(d1, d3, MS_DIGEST_LEN);
	ms_inventory_free(inv);
}

static void test_load_missing_file(void **state)
{
	struct ms_inventory *inv;
	struct ms_error err = { "" };

	(void)state;
	assert_int_not_equal(ms_inventory_load("/nonexistent/inv.json", &inv, &err), 0);
	assert_non_null(strstr(err.msg, "/nonexistent/inv.json"));
	assert_non_null(strstr(err.msg, "--inventory"));
	assert_int_not_equal(ms_inventory_load("/", &inv, &err), 0);
	assert_non_null(strstr(err.msg, "not a regular file"));
}

int main(void)
{
	static const struct CMUnitTest named[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_dual_stack_and_options),
		cmocka_unit_test(test_example_file_loads),
		cmocka_unit_test(test_load_missing_file),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_duplicates_at_scale),
	};

	return RUN_WITH_BAD_TABLE("inventory", named, "bad_inventory");
}
