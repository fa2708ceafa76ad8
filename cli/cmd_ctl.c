/*
 * meshsec reload | rekey [PEER] | log-level [LEVEL] | metrics: one request to the agent each.
 * Exit status: 0 done, 1 the agent refused (the message says why), 2 usage or unreachable.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ctl_client.h"

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

/* The positional argument goes in the request under this key. */
static const char *arg_key(const char *name)
{
	return strcmp(name, "rekey") == 0 ? "peer" : strcmp(name, "log-level") == 0 ? "level" : NULL;
}

/* reload, rekey, log-level and metrics differ only in their table; argv[0] says which. */
static int run(int argc, char **argv)
{
	const struct ms_cmd *const all[] = { &cli_cmd_reload, &cli_cmd_rekey, &cli_cmd_log_level, &cli_cmd_metrics }, *cmd = all[0];
	struct ms_args a;
	struct ms_error err;
	json_t *req, *resp;
	const char *sock;
	char hint[128], fix[320];
	int rc;

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(argv[0], all[i]->name) == 0)
			cmd = all[i];
	if ((rc = cli_begin(cmd, argc, argv, &a)) >= 0)
		return rc;
	sock = ms_opt(&a, "socket") ? ms_opt(&a, "socket") : MS_DEFAULT_SOCKET;
	req = json_pack("{s:s}", "request", cmd->name);
	if (a.n_pos)
		json_object_set_new(req, arg_key(cmd->name), json_string(a.pos[0]));
	rc = ctl_call(sock, req, &resp, &err);
	if (rc == CTL_NOT_FOUND && a.n_pos && cli_suggest_peer(sock, a.pos[0], hint, sizeof(hint))) {
		snprintf(fix, sizeof(fix), "did you mean \"%s\"? meshsec %s %s", hint, cmd->name, hint);
		cli_error(&a, fix, "%s", err.msg);
		return 1;
	}
	if (rc != 0) {
		cli_error(&a, rc == CTL_UNREACHABLE ? CLI_FIX_UNREACHABLE : NULL,
			  "%s", err.msg);
		return rc == CTL_UNREACHABLE || rc < 0 ? 2 : 1;
	}
	if (cli_json(&a)) {
		json_object_del(resp, "version");
		json_object_del(resp, "result");
		cli_print_json(resp);
		return 0;
	}
	print_result(cmd->name, resp);
	json_decref(resp);
	return 0;
}

static const struct ms_opt ctl_opts[] = { CLI_OPT_JSON, CLI_OPT_SOCKET, { NULL, 0, NULL, NULL } };

#define CTL_EXIT "Exit status: 0 done, 1 the agent refused (the message says why), 2 usage or the agent cannot be reached."

const struct ms_cmd cli_cmd_reload = {
	.name = "reload", .summary = "make the agent re-read the inventory now (root)",
	.help = "A reload that fails leaves the running mesh as it was; the message says what is wrong.\n" CTL_EXIT,
	.opts = ctl_opts, .main = run,
};
const struct ms_cmd cli_cmd_rekey = {
	.name = "rekey", .args = "[PEER]", .max_pos = 1, .summary = "fresh keys with PEER, or with every peer (root)",
	.help = CTL_EXIT, .opts = ctl_opts, .main = run,
};
const struct ms_cmd cli_cmd_log_level = {
	.name = "log-level", .args = "[LEVEL]", .max_pos = 1,
	.summary = "show the agent's log level, or set it: error, warn, info, debug (root to set)",
	.help = CTL_EXIT, .opts = ctl_opts, .main = run,
};
const struct ms_cmd cli_cmd_metrics = {
	.name = "metrics", .summary = "the agent's metrics (Prometheus text format)",
	.help = "With --json, the text comes as {\"text\": ...}.\n" CTL_EXIT, .opts = ctl_opts, .main = run,
};
