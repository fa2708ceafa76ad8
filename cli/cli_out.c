/* What every subcommand prints the same way: its help, its errors (text or JSON), counts. */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "ctl_client.h"
#include "meshsec/suggest.h"

static void error_out(int json, const char *cmd, const char *fix, const char *msg)
{
	if (json) {
		cli_print_json(json_pack("{s:{s:s,s:s?}}", "error", "message", msg, "fix", fix));
		return;
	}
	fprintf(stderr, "meshsec %s: %s\n", cmd, msg);
	if (fix)
		fprintf(stderr, "  fix: %s\n", fix);
}

int cli_begin(const struct ms_cmd *cmd, int argc, char **argv, struct ms_args *a)
{
	struct ms_error err;

	if (ms_opts_parse(cmd, argc, argv, a, &err) < 0) {
		error_out(ms_opts_wants_json(cmd, argc, argv), cmd->name, NULL, err.msg);
		return 2;
	}
	if (a->help) {
		ms_opts_help(stdout, "meshsec", cmd);
		return 0;
	}
	return -1;
}

int cli_json(const struct ms_args *a)
{
	for (int i = 0; a->cmd->opts[i].name; i++)
		if (strcmp(a->cmd->opts[i].name, "json") == 0)
			return a->val[i] != NULL;
	return 0;
}

void cli_error(const struct ms_args *a, const char *fix, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	error_out(cli_json(a), a->cmd->name, fix, msg);
}

void cli_print_json(json_t *doc)
{
	json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(doc);
}

const char *cli_count(char *buf, size_t len, long long n, const char *one, const char *many)
{
	snprintf(buf, len, "%lld %s", n, n == 1 ? one : many);
	return buf;
}

const char *cli_suggest_peer(const char *sock, const char *name, char *buf, size_t len)
{
	struct ms_error err;
	json_t *resp, *p;
	const char **names;
	const char *hint = NULL;
	size_t i, n;

	if (ctl_call(sock, json_pack("{s:s}", "request", "peers"), &resp, &err) != 0)
		return NULL;
	n = json_array_size(json_object_get(resp, "peers"));
	if ((names = calloc(n + 1, sizeof(*names)))) {
		json_array_foreach(json_object_get(resp, "peers"), i, p)
			names[i] = json_string_value(json_object_get(p, "name"));
		for (i = 0; i < n; i++)
			if (!names[i])
				names[i] = "";
		if ((hint = ms_suggest(name, names)))
			snprintf(buf, len, "%s", hint);
		free(names);
	}
	json_decref(resp);
	return hint ? buf : NULL;
}
