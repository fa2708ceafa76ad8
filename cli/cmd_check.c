/*
 * meshsec check: parse and validate the inventory and the secret, find this node, and show the
 * plan (the kernel policies it would install).  Touches no kernel state; exit 0 valid, 1 not.
 */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "meshsec/exclude.h"
#include "meshsec/inventory.h"
#include "meshsec/plan.h"
#include "meshsec/esp_probe.h"
#include "meshsec/fingerprint.h"
#include "cli.h"
#include "meshsec/conf.h"

static void addrs_text(const struct ms_node *n, char *buf, size_t len)
{
	char a[MS_ADDR_STRLEN], b[MS_ADDR_STRLEN];

	snprintf(buf, len, "%s%s%s", n->v4.family ? ms_addr_format(&n->v4, a, sizeof(a)) : "",
		 n->v4.family && n->v6.family ? " " : "", n->v6.family ? ms_addr_format(&n->v6, b, sizeof(b)) : "");
}

/* What `meshsec status` and the metrics show too, to compare nodes (agent/CONTROL.md, "Fingerprints"). */
static void fingerprints(const struct conf *c, char fp[MS_FINGERPRINT_HEX + 1], char digest[2 * MS_DIGEST_LEN + 1])
{
	uint8_t d[MS_DIGEST_LEN];

	ms_secret_fingerprint(c->secret->key, fp);
	if (ms_inventory_digest(c->inv, d) < 0)
		snprintf(digest, 2 * MS_DIGEST_LEN + 1, "(out of memory)");
	else
		sodium_bin2hex(digest, 2 * MS_DIGEST_LEN + 1, d, sizeof(d));
}

/* "reqid 0x6d73a1b2, ESP required", "no template: clear", ...: what a planned policy does. */
static const char *shape_text(const struct ms_sp *sp, char *buf, size_t n)
{
	if (sp->shape == MS_SP_CLEAR)
		snprintf(buf, n, "no template: passes in clear");
	else
		snprintf(buf, n, "reqid %#x, %s", sp->reqid, sp->shape == MS_SP_REQUIRED ? "ESP required" :
			 "passes in clear when no SA is there");
	return buf;
}

/* "exclusions tcp/443 (mesh), udp/8000-8100 on b from c (4 port blocks)": what stays in clear, on one line. */
static void print_exclusions(const struct conf *c)
{
	struct ms_exclude_ref *refs;
	char text[MS_EXCLUDE_STRLEN];
	size_t n;

	if (ms_exclude_for_node(c->inv, c->self, &refs, &n) < 0) {
		printf("exclusions (out of memory listing them)\n");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		printf("%s%s", i ? ", " : "exclusions ", ms_exclude_describe(c->inv, &refs[i], text, sizeof(text)));
		if (refs[i].blocks > 1)
			printf(" (%zu port blocks)", refs[i].blocks);
	}
	if (n)
		printf("\n           in clear between members, not encrypted (priority %u, no template)\n", MS_SP_PRIORITY_EXCLUDE);
	free(refs);
}

static void print_text(const struct conf_paths *p, const struct conf *c, const struct ms_sp *sps, size_t n_sps)
{
	const struct ms_inventory *inv = c->inv;
	const struct ms_node *me = &inv->nodes[c->self];
	char addrs[2 * MS_ADDR_STRLEN + 2], sel[MS_SP_STRLEN], fp[MS_FINGERPRINT_HEX + 1], digest[2 * MS_DIGEST_LEN + 1];
	char what[64];
	size_t unreachable = ms_plan_unreachable(inv, c->self);

	addrs_text(me, addrs, sizeof(addrs));
	printf("inventory  %s (version %d, %zu nodes)\n", p->inventory, inv->version, inv->n_nodes);
	printf("secret     %s (32 bytes, permissions ok)\n", p->secret);
	fingerprints(c, fp, digest);
	printf("compare    secret fingerprint %s, inventory digest %s (the same on every node)\n", fp, digest);
	printf("mesh       %s, port %u/udp, cipher %s (%s, %zu-byte keys)\n", inv->mesh_name, inv->port,
	       ms_cipher_name(inv->cipher), ms_cipher_kernel_name(inv->cipher), ms_cipher_key_len(inv->cipher));
	printf("self       %s  %s  (%s)\n", me->name, addrs, c->found_by);
	printf("mode       %s here (mesh default %s)%s\n", ms_mode_name(me->mode), ms_mode_name(inv->mode),
	       me->mode == MS_MODE_PREFER ? ": every pair passes in clear until it is up" : "");
	printf("peers      %zu\n", inv->n_nodes - 1);
	for (size_t i = 0; i < inv->n_nodes; i++) {
		if (i == c->self)
			continue;
		addrs_text(&inv->nodes[i], addrs, sizeof(addrs));
		printf("  %-20s %-40s %s\n", inv->nodes[i].name, addrs, ms_mode_name(ms_pair_mode(inv, c->self, i)));
	}
	if (unreachable)
		printf("warning    %zu %s no address family with this node and cannot be protected\n", unreachable,
		       unreachable == 1 ? "peer shares" : "peers share");
	print_exclusions(c);
	printf("policies   %zu (ESP transport mode, priority %u, tag reqid %#x-%#x)\n", n_sps,
	       MS_SP_PRIORITY, MS_REQID_MIN, MS_REQID_MAX);
	for (size_t i = 0; i < n_sps; i++)
		printf("  %-60s priority %u, %s\n", ms_sp_format(&sps[i], sel, sizeof(sel)), sps[i].priority,
		       shape_text(&sps[i], what, sizeof(what)));
	printf("configuration OK\n");
}

/* "10.0.0.2/32", "::/0" */
static const char *prefix(const struct ms_addr *a, unsigned len, char *buf, size_t n)
{
	char t[MS_ADDR_STRLEN];

	snprintf(buf, n, "%s/%u", ms_addr_format(a, t, sizeof(t)), len);
	return buf;
}

/* What print_text says under "warning", for --json. */
static json_t *warnings(const struct conf *c)
{
	json_t *w = json_array();
	size_t unreachable = ms_plan_unreachable(c->inv, c->self);
	char msg[160];

	if (unreachable) {
		snprintf(msg, sizeof(msg), "%zu %s no address family with this node and cannot be protected", unreachable,
			 unreachable == 1 ? "peer shares" : "peers share");
		json_array_append_new(w, json_string(msg));
	}
	return w;
}

/* The same list for --json, as `meshsec status --json` has it (agent/CONTROL.md). */
static json_t *exclusions_json(const struct conf *c)
{
	json_t *list = json_array();
	struct ms_exclude_ref *refs;
	char text[MS_EXCLUDE_STRLEN];
	size_t n;

	if (ms_exclude_for_node(c->inv, c->self, &refs, &n) < 0)
		return list;
	for (size_t i = 0; i < n; i++) {
		const struct ms_exclude *x = refs[i].x;

		json_array_append_new(list, json_pack("{s:s,s:i,s:i,s:o,s:o,s:I,s:s}", "proto", ms_exclude_proto_name(x->proto),
						       "port_min", x->lo, "port_max", x->hi,
						       "node", refs[i].owner < 0 ? json_null() : json_string(c->inv->nodes[refs[i].owner].name),
						       "peer", x->peer_name[0] ? json_string(x->peer_name) : json_null(),
						       "blocks", (json_int_t)refs[i].blocks,
						       "text", ms_exclude_describe(c->inv, &refs[i], text, sizeof(text))));
	}
	free(refs);
	return list;
}

static void print_json(const struct conf_paths *p, const struct conf *c, const struct ms_sp *sps, size_t n_sps)
{
	const struct ms_inventory *inv = c->inv;
	json_t *root = json_object(), *peers = json_array(), *pols = json_array(), *modes = json_object();
	char s[MS_ADDR_STRLEN + 4], d[MS_ADDR_STRLEN + 4], fp[MS_FINGERPRINT_HEX + 1], digest[2 * MS_DIGEST_LEN + 1];

	for (size_t i = 0; i < inv->n_nodes; i++)
		if (i != c->self)
			json_array_append_new(peers, json_string(inv->nodes[i].name));
	for (size_t i = 0; i < inv->n_nodes; i++)
		if (i != c->self)
			json_object_set_new(modes, inv->nodes[i].name, json_string(ms_mode_name(ms_pair_mode(inv, c->self, i))));
	for (size_t i = 0; i < n_sps; i++) {
		static const char *const shapes[] = { "required", "optional", "clear", "unknown" };
		json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b,s:s}", "dir", sps[i].dir == MS_DIR_OUT ? "out" : "in",
				      "src", prefix(&sps[i].src, sps[i].src_len, s, sizeof(s)),
				      "dst", prefix(&sps[i].dst, sps[i].dst_len, d, sizeof(d)), "reqid", (json_int_t)sps[i].reqid,
				      "priority", (json_int_t)sps[i].priority, "optional", sps[i].shape != MS_SP_REQUIRED,
				      "template", shapes[sps[i].shape]);

		if (sps[i].icmp6_type)
			json_object_set_new(o, "icmpv6_type", json_integer(sps[i].icmp6_type));
		if (sps[i].proto)
			json_object_set_new(o, "proto", json_integer(sps[i].proto));
		if (sps[i].sport_mask)
			json_object_set_new(o, "sport", json_pack("{s:i,s:i}", "port", sps[i].sport, "mask", sps[i].sport_mask));
		if (sps[i].dport_mask)
			json_object_set_new(o, "dport", json_pack("{s:i,s:i}", "port", sps[i].dport, "mask", sps[i].dport_mask));
		json_array_append_new(pols, o);
	}
	json_object_set_new(root, "valid", json_true());
	json_object_set_new(root, "inventory", json_string(p->inventory));
	json_object_set_new(root, "mesh", json_pack("{s:s,s:i,s:s,s:s}", "name", inv->mesh_name, "port", inv->port,
						    "cipher", ms_cipher_name(inv->cipher), "mode", ms_mode_name(inv->mode)));
	json_object_set_new(root, "mode", json_string(ms_mode_name(inv->nodes[c->self].mode)));
	json_object_set_new(root, "pair_modes", modes);
	json_object_set_new(root, "self", json_string(inv->nodes[c->self].name));
	fingerprints(c, fp, digest);
	json_object_set_new(root, "secret_fingerprint", json_string(fp));
	json_object_set_new(root, "inventory_digest", json_string(digest));
	json_object_set_new(root, "peers", peers);
	json_object_set_new(root, "exclusions", exclusions_json(c));
	json_object_set_new(root, "policies", pols);
	json_object_set_new(root, "warnings", warnings(c));
	json_dumpf(root, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(root);
}

/* As root: can this kernel do ESP with the cipher, for each family of this node (as the agent checks). */
static int kernel_check(const struct conf *c, struct ms_error *err)
{
	static const int fam[2] = { AF_INET, AF_INET6 };
	char why[MS_ERROR_MAX];

	if (geteuid() != 0)
		return 0;
	for (int f = 0; f < 2; f++)
		if (ms_node_addr(&c->inv->nodes[c->self], fam[f]) && esp_probe_private(fam[f], c->inv->cipher, why, sizeof(why)) < 0)
			return ms_error_set(err, EPROTONOSUPPORT, "%s", why);
	return 0;
}

/* --names: the inventory's node names, one a line, for shell completion; needs no secret and no root. */
static int names(const struct ms_args *a, const char *path)
{
	struct ms_inventory *inv;
	struct ms_error err;

	if (ms_inv_source_load(path, &inv, &err) < 0) {
		cli_error(a, NULL, "%s", err.msg);
		return 1;
	}
	if (cli_json(a)) {
		json_t *list = json_array();

		for (size_t i = 0; i < inv->n_nodes; i++)
			json_array_append_new(list, json_string(inv->nodes[i].name));
		cli_print_json(json_pack("{s:o}", "nodes", list));
	} else {
		for (size_t i = 0; i < inv->n_nodes; i++)
			printf("%s\n", inv->nodes[i].name);
	}
	ms_inventory_free(inv);
	return 0;
}

static int check_main(int argc, char **argv)
{
	struct conf_paths p = { MS_DEFAULT_INVENTORY, MS_DEFAULT_SECRET, NULL, false, NULL };
	struct ms_args a;
	struct ms_error err;
	struct conf c;
	struct ms_sp *sps = NULL;
	size_t n_sps = 0;
	int rc = cli_begin(&cli_cmd_check, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (ms_opt(&a, "inventory"))
		p.inventory = ms_opt(&a, "inventory");
	if (ms_opt(&a, "secret"))
		p.secret = ms_opt(&a, "secret");
	p.node = ms_opt(&a, "node");
	p.node_anywhere = ms_opt_set(&a, "no-address-check");
	if (ms_opt_set(&a, "names"))
		return names(&a, p.inventory);
	if (conf_load(&p, &c, &err) < 0 || ms_plan_policies(c.inv, c.self, &sps, &n_sps, &err) < 0) {
		if (cli_json(&a))
			cli_print_json(json_pack("{s:b,s:{s:s,s:n}}", "valid", 0, "error", "message", err.msg, "fix"));
		else
			fprintf(stderr, "meshsec check: %s\n", err.msg);
		conf_free(&c);
		return 1;
	}
	if ((rc = kernel_check(&c, &err)) < 0) {
		if (cli_json(&a))
			cli_print_json(json_pack("{s:b,s:{s:s,s:n}}", "valid", 0, "error", "message", err.msg, "fix"));
		else
			fprintf(stderr, "meshsec check: %s\n", err.msg);
		free(sps);
		conf_free(&c);
		return 1;
	}
	if (cli_json(&a))
		print_json(&p, &c, sps, n_sps);
	else
		print_text(&p, &c, sps, n_sps);
	free(sps);
	conf_free(&c);
	return 0;
}

static const struct ms_opt check_opts[] = {
	CLI_OPT_INVENTORY, CLI_OPT_SECRET, CLI_OPT_NODE, CLI_OPT_NO_ADDRESS_CHECK, CLI_OPT_JSON,
	{ "names", 0, NULL, "only list the inventory's node names, one a line (no secret, no root: for completion)" },
	{ NULL, 0, NULL, NULL },
};

const struct ms_cmd cli_cmd_check = {
	.name = "check", .summary = "validate the inventory and secret and show what this node would install",
	.help = "A node named by --node must have one of its inventory addresses on this host, unless --no-address-check.\n"
		"As root, also checks that this kernel can install ESP SAs with the mesh's cipher.  Touches no kernel state.\n"
		"Exit status: 0 the configuration is valid, 1 it is not, 2 usage.",
	.opts = check_opts, .main = check_main,
};
