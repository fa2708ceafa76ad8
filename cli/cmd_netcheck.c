/*
 * meshsec netcheck PEER (options: cli_cmd_netcheck below): what the network between this
 * node and PEER lets through, probed by the two agents (agent/CONTROL.md "netcheck").
 * Exit status: 0 everything reachable, 1 something blocked (each finding names it and the fix),
 * 2 usage, no agent, or the agent refused.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctl_client.h"
#include "meshsec/ctl.h"
#include "show.h"

static const char *dir_word(json_t *dirs, const char *key)
{
	const char *s = json_string_value(json_object_get(dirs, key));

	return s ? s : "?";
}

static void print_line(const char *what, const char *from, const char *to, const char *state, json_t *rtt)
{
	printf("  %-24s %s -> %s  %s", what, from, to, state);
	if (json_is_number(rtt))
		printf("  (rtt %.0f ms)", json_number_value(rtt));
	printf("\n");
}

static void print_text(json_t *r)
{
	const char *self = show_str(r, "self"), *peer = show_str(r, "peer");
	json_t *dirs = json_object_get(r, "directions"), *rtt = json_object_get(r, "rtt_ms"), *mtu = json_object_get(r, "mtu");
	json_t *problems = json_object_get(r, "problems"), *v;
	char port[32];
	size_t i;

	snprintf(port, sizeof(port), "udp/%lld", (long long)json_integer_value(json_object_get(r, "port")));
	printf("netcheck %s -> %s (%s)\n", self, peer, show_str(r, "address"));
	print_line(port, self, peer, dir_word(dirs, "clear_out"), NULL);
	print_line(port, peer, self, dir_word(dirs, "clear_in"), json_object_get(rtt, "clear"));
	print_line("ESP (IP protocol 50)", self, peer, dir_word(dirs, "esp_out"), NULL);
	print_line("ESP (IP protocol 50)", peer, self, dir_word(dirs, "esp_in"), json_object_get(rtt, "esp"));
	if (json_is_integer(json_object_get(mtu, "arrived")))
		printf("  path MTU after ESP       %lld (largest inner packet that arrived", (long long)json_integer_value(json_object_get(mtu, "arrived")));
	else
		printf("  path MTU after ESP       unknown (no large probe arrived");
	if (json_is_integer(json_object_get(mtu, "kernel")))
		printf("; the kernel says %lld)\n", (long long)json_integer_value(json_object_get(mtu, "kernel")));
	else
		printf("; the kernel gave no figure: %s)\n", json_is_string(json_object_get(r, "mtu_error")) ?
			show_str(r, "mtu_error") : "no SA");
	if (json_array_size(problems) == 0) {
		printf("no problems found\n");
		return;
	}
	printf("problems:\n");
	json_array_foreach(problems, i, v)
		printf("  %s\n", json_is_string(v) ? json_string_value(v) : "-");
}

static int netcheck_main(int argc, char **argv)
{
	const char *sock, *t;
	struct ms_args a;
	struct ms_error err;
	json_t *req, *resp;
	char hint[128], fix[320];
	int rc = cli_begin(&cli_cmd_netcheck, argc, argv, &a);

	if (rc >= 0)
		return rc;
	sock = ms_opt(&a, "socket") ? ms_opt(&a, "socket") : cli_default_socket();
	req = json_pack("{s:s,s:s}", "request", "netcheck", "peer", a.pos[0]);
	if ((t = ms_opt(&a, "timeout"))) {
		char *end;
		long timeout = strtol(t, &end, 10);

		if (t[0] < '0' || t[0] > '9' || *end || timeout < 1 || timeout > MS_CTL_NETCHECK_MAX_S) {
			cli_error(&a, NULL, "--timeout %s: give whole seconds, 1 to %d", t, MS_CTL_NETCHECK_MAX_S);
			json_decref(req);
			return 2;
		}
		json_object_set_new(req, "timeout", json_integer(timeout));
	}
	if ((rc = ctl_call(sock, req, &resp, &err)) != 0) {
		if (rc == CTL_NOT_FOUND && cli_suggest_peer(sock, a.pos[0], hint, sizeof(hint))) {
			snprintf(fix, sizeof(fix), "did you mean \"%s\"? meshsec netcheck %s", hint, hint);
			cli_error(&a, fix, "%s", err.msg);
		} else {
			cli_error(&a, rc == CTL_UNREACHABLE ? CLI_FIX_UNREACHABLE : NULL, "%s", err.msg);
		}
		return 2;
	}
	if (cli_json(&a))
		cli_print_json(json_incref(resp));
	else
		print_text(resp);
	rc = json_array_size(json_object_get(resp, "problems")) ? 1 : 0;
	json_decref(resp);
	return rc;
}

static const struct ms_opt netcheck_opts[] = {
	CLI_OPT_JSON, CLI_OPT_SOCKET,
	{ "timeout", 't', "S", "how long to wait for the peer's answers, whole seconds 1-8 (default 3)" },
	{ NULL, 0, NULL, NULL },
};

const struct ms_cmd cli_cmd_netcheck = {
	.name = "netcheck", .args = "PEER", .min_pos = 1, .max_pos = 1,
	.summary = "what the network lets through to a peer: udp port, ESP both ways, MTU (root)",
	.help = "Probes, through PEER's agent, whether the handshake port and ESP (IP protocol 50) pass in each\n"
		"direction, the round trip, and the path MTU left after ESP; each problem is named with its fix.\n"
		"Root only: it sends traffic.\n"
		"Exit status: 0 nothing blocked, 1 something blocked, 2 usage, no agent, or the agent refused.",
	.opts = netcheck_opts, .main = netcheck_main,
};
