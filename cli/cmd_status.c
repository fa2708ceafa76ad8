/*
 * meshsec status | peers | show PEER: the agent's view of the mesh, on one screen or as the
 * documented JSON (--json).  Exit status: 0 every peer up, 1 any peer not up, 2 agent unreachable.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctl_client.h"
#include "show.h"

static void print_peer(json_t *p)
{
	json_t *spi = json_object_get(p, "spi"), *in = json_object_get(spi, "in"), *out = json_object_get(spi, "out");
	int f = json_integer_value(json_array_get(in, 0)) ? 0 : 1;
	char a1[16], a2[16], b1[16], b2[16], spis[40], io[2][40], rtt[16] = "-";
	long long errs = show_num(p, "errors", "bad_mac") + show_num(p, "errors", "replay") + show_num(p, "errors", "failed");

	if (json_is_number(json_object_get(p, "rtt_ms")))
		snprintf(rtt, sizeof(rtt), "%.1fms", json_number_value(json_object_get(p, "rtt_ms")));
	snprintf(spis, sizeof(spis), "%08llx/%08llx", (long long)json_integer_value(json_array_get(in, f)),
		 (long long)json_integer_value(json_array_get(out, f)));
	snprintf(io[0], sizeof(io[0]), "%s/%lld", show_bytes(show_num(p, "in", "bytes"), b1, sizeof(b1)), show_num(p, "in", "packets"));
	snprintf(io[1], sizeof(io[1]), "%s/%lld", show_bytes(show_num(p, "out", "bytes"), b2, sizeof(b2)), show_num(p, "out", "packets"));
	printf("%-16s %-15s %-10s %-9s %-7s %-9s %-7s %-14s %-14s %-17s %lld\n", show_str(p, "name"),
	       json_string_value(json_array_get(json_object_get(p, "addresses"), 0)), show_str(p, "state"), show_str(p, "traffic"),
	       show_age(json_object_get(p, "since_s"), a1, sizeof(a1)), show_age(json_object_get(p, "last_handshake_age_s"), a2, sizeof(a2)),
	       rtt, io[0], io[1], spis, errs);
	if (json_is_object(json_object_get(p, "reason")))
		printf("  ^ %s: %s (meshsec show %s)\n", show_str(json_object_get(p, "reason"), "code"),
		       show_str(json_object_get(p, "reason"), "message"), show_str(p, "name"));
	if (json_is_true(json_object_get(p, "drift")))
		printf("  ^ runs another inventory (digest %s): ship the current one to %s\n", show_str(p, "inventory_digest"), show_str(p, "name"));
}

/* Policies another owner holds: the operator must know member traffic follows them, not us. */
static void print_conflicts(json_t *list)
{
	json_t *c;
	size_t i;

	json_array_foreach(list, i, c)
		printf("CONFLICT %s%s%s: another owner's policy holds this selector (%s); meshsec leaves it alone (meshsec doctor)\n",
		       show_str(c, "policy"), json_is_string(json_object_get(c, "peer")) ? " for " : "",
		       json_is_string(json_object_get(c, "peer")) ? show_str(c, "peer") : "", show_str(c, "foreign"));
	if (json_array_size(list))
		putchar('\n');
}

/* Traffic this node leaves in clear on purpose (mesh.exclude, nodes[].exclude): on the header, never missed. */
static void print_exclusions(json_t *list)
{
	json_t *x;
	size_t i;

	json_array_foreach(list, i, x)
		printf("%s%s", i ? ", " : "exclusions: ", show_str(x, "text"));
	if (json_array_size(list))
		printf("  (in clear between members)\n");
}

/* So an operator compares nodes: the secret's fingerprint and the whole inventory digest. */
static void print_fingerprints(json_t *doc)
{
	printf("secret fingerprint %s   inventory digest %s\n", show_str(json_object_get(doc, "mesh"), "secret_fingerprint"),
	       show_str(json_object_get(doc, "inventory"), "digest"));
}

/* An etcd inventory's revision; a failing source, and what still runs meanwhile. */
static void print_source(json_t *inv)
{
	json_t *failing = json_object_get(inv, "failing"), *rev = json_object_get(inv, "revision");

	if (json_is_integer(rev))
		printf("inventory source %s, revision %lld\n", show_str(inv, "path"), (long long)json_integer_value(rev));
	if (json_is_object(failing))
		printf("  ^ FAILING since %s (%llds): %s\n    the last good inventory%s stays in use\n", show_str(failing, "since"),
		       show_num(failing, "for_s", NULL), show_str(failing, "reason"), json_is_integer(rev) ? " (that revision)" : "");
}

static void print_status(json_t *doc, int header)
{
	json_t *peers = json_object_get(doc, "peers"), *p;
	size_t i;
	char a[16], cnt[32];

	if (header) {
		json_t *mesh = json_object_get(doc, "mesh"), *inv = json_object_get(doc, "inventory");

		printf("mesh %s (%s, port %lld)   self %s   inventory %.16s… (%lld nodes)   agent up %s\n", show_str(mesh, "name"),
		       show_str(mesh, "cipher"), show_num(mesh, "port", NULL), show_str(json_object_get(doc, "self"), "name"), show_str(inv, "digest"),
		       show_num(inv, "nodes", NULL), show_age(json_object_get(json_object_get(doc, "agent"), "uptime_s"), a, sizeof(a)));
		print_source(inv);
		print_exclusions(json_object_get(doc, "exclusions"));
		print_fingerprints(doc);
		printf("%s: %lld up, %lld connecting, %lld down%s\n", cli_count(cnt, sizeof(cnt), show_num(doc, "counts", "peers"), "peer", "peers"), show_num(doc, "counts", "up"),
		       show_num(doc, "counts", "connecting"), show_num(doc, "counts", "down"),
		       show_num(doc, "counts", "drift") ? "; some peers run another inventory (marked below)" : "");
		printf("traffic: %lld encrypted, %lld clear, %lld dropped%s (mode %s here, mesh default %s)\n\n",
		       show_num(doc, "counts", "encrypted"), show_num(doc, "counts", "clear"), show_num(doc, "counts", "dropped"),
		       show_num(doc, "counts", "foreign") ? ", some decided by another owner's policy (CONFLICT below)" : "",
		       show_str(json_object_get(doc, "self"), "mode"), show_str(mesh, "mode"));
		print_conflicts(json_object_get(doc, "policy_conflicts"));
	}
	printf("%-16s %-15s %-10s %-9s %-7s %-9s %-7s %-14s %-14s %-17s %s\n", "PEER", "ADDRESS", "STATE", "TRAFFIC", "SINCE", "HANDSHAKE",
	       "RTT", "IN bytes/pkts", "OUT bytes/pkts", "SPI in/out", "ERRORS");
	json_array_foreach(peers, i, p)
		print_peer(p);
}

/* show PEER: the peers line says too little about one peer; show_peer() says everything. */
static void print_show(json_t *doc)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(doc, "peers"), i, p)
		show_peer(p);
}

static int all_up(json_t *doc)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(doc, "peers"), i, p)
		if (strcmp(show_str(p, "state"), "up") != 0)
			return 0;
	return 1;
}

/* An error the agent or the socket gave; exit 1 when the agent answered "no", 2 when unreachable. */
static int failed(const struct ms_args *a, const char *sock, int rc, const struct ms_error *err)
{
	char hint[128], fix[320];

	if (rc == CTL_NOT_FOUND && a->n_pos && cli_suggest_peer(sock, a->pos[0], hint, sizeof(hint))) {
		snprintf(fix, sizeof(fix), "did you mean \"%s\"? meshsec show %s", hint, hint);
		cli_error(a, fix, "%s", err->msg);
		return 1;
	}
	cli_error(a, rc == CTL_UNREACHABLE ? CLI_FIX_UNREACHABLE : NULL, "%s", err->msg);
	return rc == CTL_REFUSED || rc == CTL_NOT_FOUND ? 1 : 2;
}

/*
 * --json passes the agent's document through as it came (parsing and re-printing 1,000 peers
 * costs more than the whole request).  The exit status needs only the peers' states, which the
 * agent writes as "state":"..." (names cannot contain quotes, so the key cannot be forged).
 */
static int raw_json(const struct ms_args *a, const char *sock, json_t *req)
{
	static const char ok[] = "{\"version\":1,\"result\":\"ok\"";
	struct ms_error err;
	char *line, *p;
	size_t len;
	int rc = ctl_call_raw(sock, req, &line, &len, &err), up = 1;

	if (rc != 0)
		return failed(a, sock, rc == CTL_UNREACHABLE ? rc : CTL_REFUSED, &err);
	if (strncmp(line, ok, sizeof(ok) - 1) != 0) {
		json_t *resp = json_loadb(line, len, 0, NULL);

		ms_error_set(&err, EPERM, "the agent says %s: %s", show_str(resp, "result"), show_str(resp, "message"));
		rc = strcmp(show_str(resp, "result"), "not-found") == 0 ? CTL_NOT_FOUND : CTL_REFUSED;
		json_decref(resp);
		free(line);
		return failed(a, sock, rc, &err);
	}
	for (p = line; (p = strstr(p, "\"state\":\"")) != NULL; p += 9)
		up &= strncmp(p + 9, "up\"", 3) == 0;
	fwrite(line, 1, len, stdout);
	putchar('\n');
	free(line);
	return up ? 0 : 1;
}

/* status, peers and show share everything but the request and the printing; argv[0] says which. */
static int query(int argc, char **argv)
{
	const struct ms_cmd *cmd = strcmp(argv[0], "show") == 0	  ? &cli_cmd_show
				   : strcmp(argv[0], "peers") == 0 ? &cli_cmd_peers
								   : &cli_cmd_status;
	struct ms_args a;
	struct ms_error err;
	const char *sock;
	json_t *req, *doc;
	int rc = cli_begin(cmd, argc, argv, &a);

	if (rc >= 0)
		return rc;
	sock = ms_opt(&a, "socket") ? ms_opt(&a, "socket") : MS_DEFAULT_SOCKET;
	req = json_pack("{s:s}", "request", cmd->name);
	if (a.n_pos)
		json_object_set_new(req, "peer", json_string(a.pos[0]));
	if (cli_json(&a))
		return raw_json(&a, sock, req);
	if ((rc = ctl_call(sock, req, &doc, &err)) != 0)
		return failed(&a, sock, rc, &err);
	if (a.n_pos)
		print_show(doc);
	else
		print_status(doc, strcmp(cmd->name, "status") == 0);
	rc = all_up(doc) ? 0 : 1;
	json_decref(doc);
	return rc;
}

static const struct ms_opt query_opts[] = { CLI_OPT_JSON, CLI_OPT_SOCKET, { NULL, 0, NULL, NULL } };

const struct ms_cmd cli_cmd_status = {
	.name = "status", .summary = "is every pair encrypted and alive? (exit 0 all up, 1 not, 2 no agent)",
	.help = "The mesh as the agent sees it: counts, then every peer's state, handshake age, traffic, SPIs, errors.\n"
		"Exit status: 0 every peer up, 1 any peer not up, 2 the agent cannot be reached.",
	.opts = query_opts, .main = query,
};
const struct ms_cmd cli_cmd_peers = {
	.name = "peers", .summary = "every peer, one line each",
	.help = "Exit status: 0 every peer up, 1 any peer not up, 2 the agent cannot be reached.",
	.opts = query_opts, .main = query,
};
const struct ms_cmd cli_cmd_show = {
	.name = "show", .args = "PEER", .min_pos = 1, .max_pos = 1,
	.summary = "one peer in full: addresses, SPIs, counters, handshakes, errors and why it is not up",
	.help = "Exit status: 0 the peer is up, 1 it is not (or there is no such peer), 2 the agent cannot be reached.",
	.opts = query_opts, .main = query,
};
