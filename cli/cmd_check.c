/*
 * meshsec check: parse and validate the inventory and the secret, find this node, and show the
 * plan (the kernel policies it would install).  Touches no kernel state; exit 0 valid, 1 not.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/socket.h>

#include "meshsec/plan.h"
#include "meshsec/esp_probe.h"
#include "meshsec/fingerprint.h"
#include "cli.h"
#include "meshsec/conf.h"

static void usage(void)
{
	printf("usage: meshsec check [--inventory PATH] [--secret PATH] [--node NAME [--no-address-check]] [--json]\n"
	       "  --inventory PATH  inventory JSON (default %s)\n"
	       "  --secret PATH     mesh secret (default %s)\n"
	       "  --node NAME       this node's name (default: found by this host's addresses);\n"
	       "                    one of its inventory addresses must be on this host\n"
	       "  --no-address-check  with --node: do not require that (NAT, an address added later)\n"
	       "  --json            machine-readable output\n"
	       "Exit status: 0 when the configuration is valid, 1 otherwise.\n",
	       MS_DEFAULT_INVENTORY, MS_DEFAULT_SECRET);
}

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

static void print_text(const struct conf_paths *p, const struct conf *c, const struct ms_sp *sps, size_t n_sps)
{
	const struct ms_inventory *inv = c->inv;
	const struct ms_node *me = &inv->nodes[c->self];
	char addrs[2 * MS_ADDR_STRLEN + 2], sel[MS_SP_STRLEN], fp[MS_FINGERPRINT_HEX + 1], digest[2 * MS_DIGEST_LEN + 1];
	size_t unreachable = ms_plan_unreachable(inv, c->self);

	addrs_text(me, addrs, sizeof(addrs));
	printf("inventory  %s (version %d, %zu nodes)\n", p->inventory, inv->version, inv->n_nodes);
	printf("secret     %s (32 bytes, permissions ok)\n", p->secret);
	fingerprints(c, fp, digest);
	printf("compare    secret fingerprint %s, inventory digest %s (the same on every node)\n", fp, digest);
	printf("mesh       %s, port %u/udp, cipher %s (%s, %zu-byte keys)\n", inv->mesh_name, inv->port,
	       ms_cipher_name(inv->cipher), ms_cipher_kernel_name(inv->cipher), ms_cipher_key_len(inv->cipher));
	printf("self       %s  %s  (%s)\n", me->name, addrs, c->found_by);
	printf("peers      %zu\n", inv->n_nodes - 1);
	for (size_t i = 0; i < inv->n_nodes; i++) {
		if (i == c->self)
			continue;
		addrs_text(&inv->nodes[i], addrs, sizeof(addrs));
		printf("  %-20s %s\n", inv->nodes[i].name, addrs);
	}
	if (unreachable)
		printf("warning    %zu peers share no address family with this node and cannot be protected\n", unreachable);
	printf("policies   %zu (ESP required, transport mode, priority %u, tag reqid %#x-%#x)\n", n_sps,
	       MS_SP_PRIORITY, MS_REQID_MIN, MS_REQID_MAX);
	for (size_t i = 0; i < n_sps; i++)
		printf("  %-60s priority %u, reqid %#x%s\n", ms_sp_format(&sps[i], sel, sizeof(sel)), sps[i].priority,
		       sps[i].reqid, ms_sp_is_bypass(&sps[i]) ? ", passes in clear when no SA is there" : "");
	printf("configuration OK\n");
}

/* "10.0.0.2/32", "::/0" */
static const char *prefix(const struct ms_addr *a, unsigned len, char *buf, size_t n)
{
	char t[MS_ADDR_STRLEN];

	snprintf(buf, n, "%s/%u", ms_addr_format(a, t, sizeof(t)), len);
	return buf;
}

static void print_json(const struct conf_paths *p, const struct conf *c, const struct ms_sp *sps, size_t n_sps)
{
	const struct ms_inventory *inv = c->inv;
	json_t *root = json_object(), *peers = json_array(), *pols = json_array();
	char s[MS_ADDR_STRLEN + 4], d[MS_ADDR_STRLEN + 4], fp[MS_FINGERPRINT_HEX + 1], digest[2 * MS_DIGEST_LEN + 1];

	for (size_t i = 0; i < inv->n_nodes; i++)
		if (i != c->self)
			json_array_append_new(peers, json_string(inv->nodes[i].name));
	for (size_t i = 0; i < n_sps; i++) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:b}", "dir", sps[i].dir == MS_DIR_OUT ? "out" : "in",
				      "src", prefix(&sps[i].src, sps[i].src_len, s, sizeof(s)),
				      "dst", prefix(&sps[i].dst, sps[i].dst_len, d, sizeof(d)), "reqid", (json_int_t)sps[i].reqid,
				      "priority", (json_int_t)sps[i].priority, "optional", ms_sp_is_bypass(&sps[i]));

		if (sps[i].icmp6_type)
			json_object_set_new(o, "icmpv6_type", json_integer(sps[i].icmp6_type));
		json_array_append_new(pols, o);
	}
	json_object_set_new(root, "valid", json_true());
	json_object_set_new(root, "inventory", json_string(p->inventory));
	json_object_set_new(root, "mesh", json_pack("{s:s,s:i,s:s}", "name", inv->mesh_name, "port", inv->port,
						    "cipher", ms_cipher_name(inv->cipher)));
	json_object_set_new(root, "self", json_string(inv->nodes[c->self].name));
	fingerprints(c, fp, digest);
	json_object_set_new(root, "secret_fingerprint", json_string(fp));
	json_object_set_new(root, "inventory_digest", json_string(digest));
	json_object_set_new(root, "peers", peers);
	json_object_set_new(root, "policies", pols);
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

int cmd_check_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "inventory", required_argument, NULL, 'i' }, { "secret", required_argument, NULL, 's' },
		{ "node", required_argument, NULL, 'n' },      { "json", no_argument, NULL, 'j' },
		{ "no-address-check", no_argument, NULL, 'A' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf_paths p = { MS_DEFAULT_INVENTORY, MS_DEFAULT_SECRET, NULL, false };
	struct ms_error err;
	struct conf c;
	struct ms_sp *sps = NULL;
	size_t n_sps = 0;
	int opt, json = 0;

	while ((opt = getopt_long(argc, argv, "i:s:n:jh", opts, NULL)) != -1) {
		switch (opt) {
		case 'i': p.inventory = optarg; break;
		case 's': p.secret = optarg; break;
		case 'n': p.node = optarg; break;
		case 'A': p.node_anywhere = true; break;
		case 'j': json = 1; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "meshsec check: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	if (conf_load(&p, &c, &err) < 0 || ms_plan_policies(c.inv, c.self, &sps, &n_sps, &err) < 0) {
		if (json) {
			json_t *o = json_pack("{s:b,s:s}", "valid", 0, "error", err.msg);

			json_dumpf(o, stdout, JSON_INDENT(2));
			putchar('\n');
			json_decref(o);
		} else {
			fprintf(stderr, "meshsec check: %s\n", err.msg);
		}
		conf_free(&c);
		return 1;
	}
	if (kernel_check(&c, &err) < 0) {
		fprintf(stderr, "meshsec check: %s\n", err.msg);
		free(sps);
		conf_free(&c);
		return 1;
	}
	if (json)
		print_json(&p, &c, sps, n_sps);
	else
		print_text(&p, &c, sps, n_sps);
	free(sps);
	conf_free(&c);
	return 0;
}
