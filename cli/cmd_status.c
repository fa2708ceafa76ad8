/*
 * meshsec status | peers | show PEER: the agent's view of the mesh, on one screen or as the
 * documented JSON (--json).  Exit status: 0 every peer up, 1 any peer not up, 2 agent unreachable.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ctl_client.h"

static const char *s(json_t *o, const char *k)
{
	const char *v = json_string_value(json_object_get(o, k));

	return v ? v : "-";
}

static long long n(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	return (long long)json_integer_value(b ? json_object_get(v, b) : v);
}

/* 93s -> "1m33s"; null -> "-" */
static const char *age(json_t *v, char *buf, size_t len)
{
	double t = json_number_value(v);

	if (!json_is_number(v))
		return "-";
	if (t < 60)
		snprintf(buf, len, "%.1fs", t);
	else if (t < 3600)
		snprintf(buf, len, "%dm%02ds", (int)t / 60, (int)t % 60);
	else if (t < 86400)
		snprintf(buf, len, "%dh%02dm", (int)t / 3600, (int)t % 3600 / 60);
	else
		snprintf(buf, len, "%dd%02dh", (int)t / 86400, (int)t % 86400 / 3600);
	return buf;
}

static const char *bytes(long long b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)b;
	int u = 0;

	while (v >= 1000 && u < 4)
		v /= 1000, u++;
	snprintf(buf, len, u ? "%.1f%s" : "%.0f%s", v, unit[u]);
	return buf;
}

static void print_peer(json_t *p)
{
	json_t *spi = json_object_get(p, "spi"), *in = json_object_get(spi, "in"), *out = json_object_get(spi, "out");
	int f = json_integer_value(json_array_get(in, 0)) ? 0 : 1;
	char a1[16], a2[16], b1[16], b2[16], spis[40], io[2][40], rtt[16] = "-";
	long long errs = n(p, "errors", "bad_mac") + n(p, "errors", "replay") + n(p, "errors", "failed");

	if (json_is_number(json_object_get(p, "rtt_ms")))
		snprintf(rtt, sizeof(rtt), "%.1fms", json_number_value(json_object_get(p, "rtt_ms")));
	snprintf(spis, sizeof(spis), "%08llx/%08llx", (long long)json_integer_value(json_array_get(in, f)),
		 (long long)json_integer_value(json_array_get(out, f)));
	snprintf(io[0], sizeof(io[0]), "%s/%lld", bytes(n(p, "in", "bytes"), b1, sizeof(b1)), n(p, "in", "packets"));
	snprintf(io[1], sizeof(io[1]), "%s/%lld", bytes(n(p, "out", "bytes"), b2, sizeof(b2)), n(p, "out", "packets"));
	printf("%-16s %-15s %-10s %-7s %-9s %-7s %-14s %-14s %-17s %lld\n", s(p, "name"),
	       json_string_value(json_array_get(json_object_get(p, "addresses"), 0)), s(p, "state"),
	       age(json_object_get(p, "since_s"), a1, sizeof(a1)), age(json_object_get(p, "last_handshake_age_s"), a2, sizeof(a2)),
	       rtt, io[0], io[1], spis, errs);
	if (json_is_true(json_object_get(p, "drift")))
		printf("  ^ runs another inventory (digest %s): ship the current one to %s\n", s(p, "inventory_digest"), s(p, "name"));
}

/* Policies another owner holds: the operator must know member traffic follows them, not us. */
static void print_conflicts(json_t *list)
{
	json_t *c;
	size_t i;

	json_array_foreach(list, i, c)
		printf("CONFLICT %s%s%s: another owner's policy holds this selector (%s); meshsec leaves it alone (meshsec doctor)\n",
		       s(c, "policy"), json_is_string(json_object_get(c, "peer")) ? " for " : "",
		       json_is_string(json_object_get(c, "peer")) ? s(c, "peer") : "", s(c, "foreign"));
	if (json_array_size(list))
		putchar('\n');
}

/* Why a peer is not up, under its line; with what to do about it when fix is set (show). */
static void print_reason(json_t *p, int fix)
{
	json_t *r = json_object_get(p, "reason");

	if (!json_is_object(r))
		return;
	printf("  ^ %s: %s\n", s(r, "code"), s(r, "message"));
	if (fix)
		printf("    fix: %s\n", s(r, "fix"));
}

/* So an operator compares nodes: the secret's fingerprint and the whole inventory digest. */
static void print_fingerprints(json_t *doc)
{
	printf("secret fingerprint %s   inventory digest %s\n", s(json_object_get(doc, "mesh"), "secret_fingerprint"),
	       s(json_object_get(doc, "inventory"), "digest"));
}

static void print_status(json_t *doc, int header)
{
	json_t *peers = json_object_get(doc, "peers"), *p;
	size_t i;
	char a[16];

	if (header) {
		json_t *mesh = json_object_get(doc, "mesh"), *inv = json_object_get(doc, "inventory");

		printf("mesh %s (%s, port %lld)   self %s   inventory %.16s… (%lld nodes)   agent up %s\n", s(mesh, "name"),
		       s(mesh, "cipher"), n(mesh, "port", NULL), s(json_object_get(doc, "self"), "name"), s(inv, "digest"),
		       n(inv, "nodes", NULL), age(json_object_get(json_object_get(doc, "agent"), "uptime_s"), a, sizeof(a)));
		print_fingerprints(doc);
		printf("peers %lld: %lld up, %lld connecting, %lld down%s\n\n", n(doc, "counts", "peers"), n(doc, "counts", "up"),
		       n(doc, "counts", "connecting"), n(doc, "counts", "down"),
		       n(doc, "counts", "drift") ? "; some peers run another inventory (marked below)" : "");
		print_conflicts(json_object_get(doc, "policy_conflicts"));
	}
	printf("%-16s %-15s %-10s %-7s %-9s %-7s %-14s %-14s %-17s %s\n", "PEER", "ADDRESS", "STATE", "SINCE", "HANDSHAKE",
	       "RTT", "IN bytes/pkts", "OUT bytes/pkts", "SPI in/out", "ERRORS");
	json_array_foreach(peers, i, p) {
		print_peer(p);
		print_reason(p, !header && json_object_get(doc, "mesh"));	/* show: the whole document, no header */
	}
}

static int all_up(json_t *doc)
{
	json_t *p;
	size_t i;

	json_array_foreach(json_object_get(doc, "peers"), i, p)
		if (strcmp(s(p, "state"), "up") != 0)
			return 0;
	return 1;
}

/*
 * --json passes the agent's document through as it came (parsing and re-printing 1,000 peers
 * costs more than the whole request).  The exit status needs only the peers' states, which the
 * agent writes as "state":"..." (names cannot contain quotes, so the key cannot be forged).
 */
static int raw_json(const char *sock, json_t *req, const char *what)
{
	static const char ok[] = "{\"version\":1,\"result\":\"ok\"";
	struct ms_error err;
	char *line, *p;
	size_t len;
	int rc = ctl_call_raw(sock, req, &line, &len, &err), up = 1;

	if (rc != 0) {
		fprintf(stderr, "meshsec %s: %s\n", what, err.msg);
		return 2;
	}
	if (strncmp(line, ok, sizeof(ok) - 1) != 0) {
		json_t *resp = json_loadb(line, len, 0, NULL);

		fprintf(stderr, "meshsec %s: the agent says %s: %s\n", what, s(resp, "result"), s(resp, "message"));
		json_decref(resp);
		free(line);
		return 1;
	}
	for (p = line; (p = strstr(p, "\"state\":\"")) != NULL; p += 9)
		up &= strncmp(p + 9, "up\"", 3) == 0;
	fwrite(line, 1, len, stdout);
	putchar('\n');
	free(line);
	return up ? 0 : 1;
}

/* status, peers and show share everything but the request and the header. */
static int query(int argc, char **argv, const char *what)
{
	const char *peer = NULL, *sock = cli_socket_path(argc, argv);
	int json = 0;
	struct ms_error err;
	json_t *req, *doc;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--socket") == 0)
			i++;
		else if (strcmp(what, "show") == 0 && !peer && argv[i][0] != '-')
			peer = argv[i];
		else {
			fprintf(stderr, "usage: meshsec %s%s [--json] [--socket PATH]\n", what, strcmp(what, "show") == 0 ? " PEER" : "");
			return 2;
		}
	}
	if (strcmp(what, "show") == 0 && !peer) {
		fprintf(stderr, "usage: meshsec show PEER [--json] [--socket PATH]\n");
		return 2;
	}
	req = json_pack("{s:s}", "request", what);
	if (peer)
		json_object_set_new(req, "peer", json_string(peer));
	if (json)
		return raw_json(sock, req, what);
	rc = ctl_call(sock, req, &doc, &err);
	if (rc != 0) {
		fprintf(stderr, "meshsec %s: %s\n", what, err.msg);
		return rc == CTL_REFUSED ? 1 : 2;
	}
	print_status(doc, strcmp(what, "status") == 0);
	rc = all_up(doc) ? 0 : 1;
	json_decref(doc);
	return rc;
}

int cmd_status_main(int argc, char **argv)
{
	if (cli_wants_help(argc, argv)) {
		printf("usage: meshsec status [--json] [--socket PATH]\n"
		       "The mesh as the agent sees it: counts, then every peer's state, handshake age, traffic, SPIs, errors.\n"
		       "Exit status: 0 every peer up, 1 any peer not up, 2 the agent cannot be reached.\n");
		return 0;
	}
	return query(argc, argv, "status");
}

int cmd_peers_main(int argc, char **argv)
{
	return cli_wants_help(argc, argv) ? (printf("usage: meshsec peers [--json] [--socket PATH]\n"), 0)
					  : query(argc, argv, "peers");
}

int cmd_show_main(int argc, char **argv)
{
	return cli_wants_help(argc, argv) ? (printf("usage: meshsec show PEER [--json] [--socket PATH]\n"), 0)
					  : query(argc, argv, "show");
}
