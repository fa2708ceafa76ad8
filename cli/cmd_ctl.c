/*
 * meshsec reload | rekey [PEER] | log-level [LEVEL] | metrics: one request to the agent each.
 * Exit status: 0 done, 1 the agent refused (the message says why), 2 usage or unreachable.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ctl_client.h"

struct ctl_cmd {
	const char *name, *arg_name, *arg_key, *help;
};

static const struct ctl_cmd cmds[] = {
	{ "reload", NULL, NULL, "re-read the inventory now (root)" },
	{ "rekey", "PEER", "peer", "fresh keys with PEER, or with every peer (root)" },
	{ "log-level", "LEVEL", "level", "show the agent's log level, or set it: error, warn, info, debug (root)" },
	{ "metrics", NULL, NULL, "the agent's metrics, Prometheus text format" },
};

static void print_result(const char *name, json_t *resp)
{
	json_t *v;
	size_t i;

	if (strcmp(name, "metrics") == 0) {
		fputs(json_string_value(json_object_get(resp, "text")), stdout);
	} else if (strcmp(name, "log-level") == 0) {
		printf("%s\n", json_string_value(json_object_get(resp, "level")));
	} else if (strcmp(name, "rekey") == 0) {
		printf("new handshakes started with:");
		json_array_foreach(json_object_get(resp, "rekeying"), i, v)
			printf(" %s", json_string_value(v));
		printf("\n");
	} else {
		printf("%s\n", json_string_value(json_object_get(resp, "message")));
	}
}

static int run(const struct ctl_cmd *c, int argc, char **argv)
{
	const char *arg = NULL, *sock = cli_socket_path(argc, argv);
	struct ms_error err;
	json_t *req, *resp;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			i++;
		} else if (c->arg_name && !arg && argv[i][0] != '-') {
			arg = argv[i];
		} else {
			fprintf(stderr, "usage: meshsec %s%s%s%s [--socket PATH]\n", c->name, c->arg_name ? " [" : "",
				c->arg_name ? c->arg_name : "", c->arg_name ? "]" : "");
			return 2;
		}
	}
	req = json_pack("{s:s}", "request", c->name);
	if (arg)
		json_object_set_new(req, c->arg_key, json_string(arg));
	rc = ctl_call(sock, req, &resp, &err);
	if (rc != 0) {
		fprintf(stderr, "meshsec %s: %s\n", c->name, err.msg);
		return rc == CTL_REFUSED ? 1 : 2;
	}
	print_result(c->name, resp);
	json_decref(resp);
	return 0;
}

int cmd_ctl_main(int argc, char **argv)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[0], cmds[i].name) == 0) {
			if (cli_wants_help(argc, argv)) {
				printf("usage: meshsec %s%s%s%s [--socket PATH]\n%s\n", cmds[i].name, cmds[i].arg_name ? " [" : "",
				       cmds[i].arg_name ? cmds[i].arg_name : "", cmds[i].arg_name ? "]" : "", cmds[i].help);
				return 0;
			}
			return run(&cmds[i], argc, argv);
		}
	return 2;
}
