/*
 * meshsec netcheck PEER [--json] [--timeout S] [--socket PATH]: what the network between this
 * node and PEER lets through, probed by the two agents (agent/CONTROL.md "netcheck").
 * Exit status: 0 everything reachable, 1 something blocked (each finding names it and the fix),
 * 2 usage, no agent, or the agent refused.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctl_client.h"
#include "meshsec/ctl.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: meshsec netcheck PEER [--json] [--timeout S] [--socket PATH]\n"
		   "Probe, through PEER's agent, whether the handshake port and ESP pass both ways, the round trip,\n"
		   "and the path MTU left after ESP.  Root only: it sends traffic.  --timeout: 1-%d s (default 3).\n",
		MS_CTL_NETCHECK_MAX_S);
}

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
	const char *self = json_string_value(json_object_get(r, "self")), *peer = json_string_value(json_object_get(r, "peer"));
	json_t *dirs = json_object_get(r, "directions"), *rtt = json_object_get(r, "rtt_ms"), *mtu = json_object_get(r, "mtu");
	json_t *problems = json_object_get(r, "problems"), *v;
	char port[32];
	size_t i;

	snprintf(port, sizeof(port), "udp/%lld", (long long)json_integer_value(json_object_get(r, "port")));
	printf("netcheck %s -> %s (%s)\n", self, peer, json_string_value(json_object_get(r, "address")));
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
		printf("; the kernel gave no figure: %s)\n", json_string_value(json_object_get(r, "mtu_error")) ?
			json_string_value(json_object_get(r, "mtu_error")) : "no SA");
	if (json_array_size(problems) == 0) {
		printf("no problems found\n");
		return;
	}
	printf("problems:\n");
	json_array_foreach(problems, i, v)
		printf("  %s\n", json_string_value(v));
}

int cmd_netcheck_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "timeout", required_argument, NULL, 't' },
		{ "socket", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sock = cli_default_socket();
	bool json = false;
	long timeout = 0;
	struct ms_error err;
	json_t *req, *resp;
	char *end;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 't':
			timeout = strtol(optarg, &end, 10);
			if (*end || timeout < 1 || timeout > MS_CTL_NETCHECK_MAX_S) {
				fprintf(stderr, "meshsec netcheck: --timeout '%s': give whole seconds, 1 to %d\n", optarg,
					MS_CTL_NETCHECK_MAX_S);
				return 2;
			}
			break;
		case 's':
			sock = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "meshsec netcheck: %s\n", optind == argc ? "name the peer to probe" : "one peer at a time");
		usage(stderr);
		return 2;
	}
	req = json_pack("{s:s,s:s}", "request", "netcheck", "peer", argv[optind]);
	if (timeout)
		json_object_set_new(req, "timeout", json_integer(timeout));
	rc = ctl_call(sock, req, &resp, &err);
	if (rc != 0) {
		if (json) {
			json_t *e = json_pack("{s:s,s:s}", "result", rc == CTL_REFUSED ? "refused" : "unreachable", "message", err.msg);
			char *text = e ? json_dumps(e, JSON_COMPACT) : NULL;

			printf("%s\n", text ? text : "{}");
			free(text);
			json_decref(e);
		}
		fprintf(stderr, "meshsec netcheck: %s\n", err.msg);
		return 2;
	}
	if (json) {
		char *text = json_dumps(resp, JSON_INDENT(2) | JSON_SORT_KEYS);

		printf("%s\n", text ? text : "{}");
		free(text);
	} else {
		print_text(resp);
	}
	rc = json_array_size(json_object_get(resp, "problems")) ? 1 : 0;
	json_decref(resp);
	return rc;
}
