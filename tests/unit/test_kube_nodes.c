/*
 * Kubernetes NodeList to inventory: a kubectl NodeList fixture against its expected text, the
 * nodes left out and why, hostile lists (missing fields, duplicates, bad labels), 5,000 nodes in
 * shuffled order, and output that stays the same when nothing a member needs changed.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "table_tests.h"

#include "meshsec/inventory.h"
#include "meshsec/kube_nodes.h"

#define MESH "{\"version\":1,\"mesh\":{\"name\":\"k\"}}"
#define ADDRS(ip) "\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"" ip "\"}]}"
#define NODE(name, ip) "{\"metadata\":{\"name\":\"" name "\"}," ADDRS(ip) "}"
#define LIST(...) "{\"kind\":\"List\",\"items\":[" __VA_ARGS__ "]}"

struct notes {
	char text[4096];
	int n;
};

static void on_left_out(void *ctx, const char *node, const char *reason)
{
	struct notes *n = ctx;
	size_t used = strlen(n->text);

	snprintf(n->text + used, sizeof(n->text) - used, "%s: %s\n", node, reason);
	n->n++;
}

static char *slurp(const char *name)
{
	char path[512];
	FILE *f;
	char *buf;
	long len;

	snprintf(path, sizeof(path), "%s/tests/unit/kube/%s", TEST_SRCDIR, name);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static char *render_ok(const char *nodes, const char *mesh, struct notes *notes, size_t *n)
{
	struct ms_error err = { "" };
	char *out = NULL;

	if (ms_kube_render(nodes, strlen(nodes), mesh, strlen(mesh), "mesh.json", on_left_out, notes, &out, n, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	return out;
}

/* The fixture: what kubectl prints for a small dual-stack cluster, and what must come out. */
static void test_fixture(void **state)
{
	char *nodes = slurp("nodelist.json"), *mesh = slurp("mesh.json"), *want = slurp("inventory.expected.json");
	struct notes notes = { "", 0 };
	size_t n;
	char *out = render_ok(nodes, mesh, &notes, &n);

	(void)state;
	assert_string_equal(out, want);
	assert_int_equal(n, 5);
	/* Left out, each named with the fix; the opted-out gpu-1 is not a finding. */
	assert_int_equal(notes.n, 3);
	assert_non_null(strstr(notes.text, "worker-1.example.internal: InternalIP 10.20.0.111 not used"));
	assert_non_null(strstr(notes.text, "ip-10-20-0-14.a-very-long-availability-zone-name.compute.internal.example: "
					   "left out of the mesh: node name \"ip-10-20-0-14.a-very...\" is 73 characters long"));
	assert_non_null(strstr(notes.text, "--hostname-override"));
	assert_non_null(strstr(notes.text, "worker-3: left out of the mesh for now: no usable InternalIP"));
	assert_null(strstr(notes.text, "gpu-1"));
	free(out);
	free(nodes);
	free(mesh);
	free(want);
}

/* Order of items, heartbeats, conditions and images do not change the text; a new node does. */
static void test_stable(void **state)
{
	const char *a = LIST(NODE("b", "10.0.0.2") "," NODE("a", "10.0.0.1"));
	const char *b = LIST("{\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"9\"},\"status\":{\"conditions\":[{\"type\":\"Ready\","
			     "\"status\":\"False\"}],\"addresses\":[{\"type\":\"Hostname\",\"address\":\"a\"},{\"type\":\"InternalIP\","
			     "\"address\":\"10.0.0.1\"}]}}," NODE("b", "10.0.0.2"));
	const char *c = LIST(NODE("b", "10.0.0.2") "," NODE("a", "10.0.0.1") "," NODE("c", "10.0.0.3"));
	size_t n;
	char *x = render_ok(a, MESH, NULL, &n), *y = render_ok(b, MESH, NULL, &n), *z = render_ok(c, MESH, NULL, &n);

	(void)state;
	assert_string_equal(x, y);
	assert_string_not_equal(x, z);
	assert_non_null(strstr(x, "{\"name\":\"a\",\"addresses\":[\"10.0.0.1\"]},\n    {\"name\":\"b\""));
	free(x);
	free(y);
	free(z);
}

/* 5,000 nodes listed in reverse come out sorted and load as an inventory. */
static void test_many(void **state)
{
	const int count = 5000;
	size_t cap = (size_t)count * 120 + 64, len = 0, n;
	char *list = malloc(cap), *out;
	struct ms_inventory *inv;
	struct ms_error err;

	(void)state;
	assert_non_null(list);
	len += (size_t)snprintf(list + len, cap - len, "{\"items\":[");
	for (int i = count - 1; i >= 0; i--)
		len += (size_t)snprintf(list + len, cap - len, "%s{\"metadata\":{\"name\":\"n%05d\"}," ADDRS("10.1.%d.%d") "}",
					i == count - 1 ? "" : ",", i, i / 250, i % 250 + 1);
	snprintf(list + len, cap - len, "]}");
	out = render_ok(list, MESH, NULL, &n);
	assert_int_equal(n, count);
	assert_int_equal(ms_inventory_parse(out, strlen(out), "out", &inv, &err), 0);
	assert_string_equal(inv->nodes[0].name, "n00000");
	assert_string_equal(inv->nodes[count - 1].name, "n04999");
	ms_inventory_free(inv);
	free(out);
	free(list);
}

/* Static members of the template sort among the cluster's; modes and IPv6 are kept. */
static void test_static_and_mode(void **state)
{
	const char *mesh = "{\"version\":1,\"mesh\":{\"name\":\"k\",\"mode\":\"require\"},\"nodes\":[{\"name\":\"m\",\"addresses\":[\"10.9.9.9\"]}]}";
	const char *list = LIST("{\"metadata\":{\"name\":\"z\",\"labels\":{\"meshsec.io/mode\":\"prefer\"}},"
				"\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"FD00:0::1\"},"
				"{\"type\":\"InternalIP\",\"address\":\"10.0.0.1\"}]}}," NODE("a", "10.0.0.2"));
	size_t n;
	char *out = render_ok(list, mesh, NULL, &n);

	(void)state;
	assert_int_equal(n, 3);
	assert_non_null(strstr(out, "\"mesh\": {\"name\":\"k\",\"mode\":\"require\"}"));
	assert_non_null(strstr(out, "{\"name\":\"a\",\"addresses\":[\"10.0.0.2\"]},\n    {\"name\":\"m\""));
	assert_non_null(strstr(out, "{\"name\":\"z\",\"addresses\":[\"10.0.0.1\",\"fd00::1\"],\"mode\":\"prefer\"}"));
	free(out);
}

struct bad_case {
	const char *nodes, *mesh, *want;
};

static const struct bad_case bad[] = {
	{ "[]", MESH, "the NodeList: the top level is an array; expected an object" },
	{ "{\"items\":[", MESH, "the NodeList:1:10:" },
	{ "{\"kind\":\"List\"}", MESH, "no items array; give the output of kubectl get nodes -o json" },
	{ LIST("{\"status\":{}}"), MESH, "items[0] has no metadata.name" },
	{ LIST("7"), MESH, "items[0] has no metadata.name" },
	{ LIST("{\"metadata\":{\"name\":42}}"), MESH, "items[0] has no metadata.name" },
	{ LIST(NODE("a", "10.0.0.1") "," NODE("a", "10.0.0.2")), MESH, "node a is listed twice" },
	{ LIST(NODE("m", "10.0.0.1")), "{\"version\":1,\"mesh\":{\"name\":\"k\"},\"nodes\":[{\"name\":\"m\",\"addresses\":[\"10.9.9.9\"]}]}",
	  "node m is listed twice (in mesh.json or the NodeList)" },
	{ LIST(NODE("a", "10.0.0.1") "," NODE("b", "10.0.0.1")), MESH, "none is written: the rendered inventory: nodes[1]: address 10.0.0.1 of node \"b\" is also used by node \"a\"" },
	{ LIST("{\"metadata\":{\"name\":\"a\",\"labels\":{\"meshsec.io/member\":\"no\"}}}"), MESH,
	  "node a: label meshsec.io/member=\"no\"; use \"true\" or \"false\"" },
	{ LIST("{\"metadata\":{\"name\":\"a\",\"labels\":[]}}"), MESH, "node a: metadata.labels is an array; expected an object" },
	{ LIST("{\"metadata\":{\"name\":\"a\",\"labels\":{\"meshsec.io/mode\":true}}}"), MESH,
	  "node a: metadata.labels[\"meshsec.io/mode\"] is a boolean; expected a string" },
	{ LIST("{\"metadata\":{\"name\":\"a\",\"labels\":{\"meshsec.io/mode\":\"clear\"}}}"), MESH,
	  "label meshsec.io/mode=\"clear\"; use \"prefer\" or \"require\"" },
	{ LIST(NODE("a", "10.0.0.1")), "{\"version\":1}", "the rendered inventory: " },
	{ LIST(NODE("a", "10.0.0.1")), "{\"version\":1,\"mesh\":{\"name\":\"k\"},\"nodes\":{}}", "mesh.json: nodes is an object" },
	{ LIST(NODE("a", "10.0.0.1")), "{\"version\":1,\"mesh\":{\"name\":\"k\"},\"nodes\":[{}]}", "mesh.json: nodes[0].name" },
	{ LIST(NODE("a", "10.0.0.1")), "{\"version\":1,\"version\":1}", "mesh.json:1:" },
	{ LIST(NODE("a", "10.0.0.1")), "{\"version\":1,\"mesh\":{\"name\":\"k\",\"prot\":1}}", "did you mean" },
};

static void test_bad_input(void **state)
{
	const struct bad_case *c = *state;
	struct ms_error err = { "" };
	struct notes notes = { "", 0 };
	char *out = (char *)"untouched";
	size_t n = 99;

	assert_int_not_equal(ms_kube_render(c->nodes, strlen(c->nodes), c->mesh, strlen(c->mesh), "mesh.json", on_left_out, &notes,
					    &out, &n, &err), 0);
	if (!strstr(err.msg, c->want))
		fail_msg("error \"%s\" lacks \"%s\"", err.msg, c->want);
	assert_null(out);
	assert_int_equal(n, 0);
}

/* Addresses that cannot be a member's are named and skipped; a node with none is left out. */
static void test_unusable_addresses(void **state)
{
	const char *list = LIST("{\"metadata\":{\"name\":\"a\"},\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"},"
				"{\"type\":\"InternalIP\",\"address\":5},{\"type\":\"InternalIP\",\"address\":\"10.0.0.0/8\"},"
				"{\"type\":\"InternalIP\",\"address\":\"10.0.0.7\"}]}},"
				"{\"metadata\":{\"name\":\"b\"},\"status\":{\"addresses\":\"x\"}},{\"metadata\":{\"name\":\"c\"}},"
				"{\"metadata\":{\"name\":\"d\"},\"status\":{\"addresses\":[7,{\"type\":\"InternalIP\",\"address\":\"fe80::1\"}]}},"
				NODE("e", "10.0.0.8"));
	struct notes notes = { "", 0 };
	size_t n;
	char *out = render_ok(list, MESH, &notes, &n);

	(void)state;
	assert_int_equal(n, 2);
	assert_non_null(strstr(out, "{\"name\":\"a\",\"addresses\":[\"10.0.0.7\"]}"));
	assert_non_null(strstr(notes.text, "a: InternalIP \"127.0.0.1\" not used: "));
	assert_non_null(strstr(notes.text, "a: InternalIP (not a string) not used: expected a string"));
	assert_non_null(strstr(notes.text, "a: InternalIP \"10.0.0.0/8\" not used: "));
	assert_non_null(strstr(notes.text, "b: left out of the mesh for now"));
	assert_non_null(strstr(notes.text, "c: left out of the mesh for now"));
	assert_non_null(strstr(notes.text, "d: InternalIP \"fe80::1\" not used"));
	assert_non_null(strstr(notes.text, "d: left out of the mesh for now"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest named[] = {
		cmocka_unit_test(test_fixture),		cmocka_unit_test(test_stable),
		cmocka_unit_test(test_many),		cmocka_unit_test(test_static_and_mode),
		cmocka_unit_test(test_unusable_addresses),
	};

	return RUN_WITH_BAD_TABLE("kube_nodes", named, "bad");
}
