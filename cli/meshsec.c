/*
 * meshsec: the operator's command.  This file only dispatches; each subcommand declares its
 * options and help in its own cmd_*.c (struct ms_cmd).  Exit codes: 0 success, 1 the answer is
 * "no" (invalid, unhealthy), 2 usage or the agent cannot be reached.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "meshsec/suggest.h"

static const struct ms_cmd *const commands[] = {
	&cli_cmd_status, &cli_cmd_peers, &cli_cmd_show, &cli_cmd_events, &cli_cmd_netcheck, &cli_cmd_doctor, &cli_cmd_check, &cli_cmd_reload, &cli_cmd_rekey,
	&cli_cmd_log_level, &cli_cmd_metrics, &cli_cmd_keygen, &cli_cmd_install_policies, &cli_cmd_down, &cli_cmd_kube_inventory,
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: meshsec COMMAND [OPTIONS]   (meshsec help COMMAND, or meshsec COMMAND --help, for its options)\n"
		   "       meshsec --version\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-17s %s\n", commands[i]->name, commands[i]->summary);
}

static const struct ms_cmd *find(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(name, commands[i]->name) == 0)
			return commands[i];
	return NULL;
}

static int unknown(const char *name)
{
	const char *names[N_COMMANDS + 1] = { NULL };
	const char *hint;

	for (size_t i = 0; i < N_COMMANDS; i++)
		names[i] = commands[i]->name;
	hint = ms_suggest(name, names);
	if (hint)
		fprintf(stderr, "meshsec: unknown command \"%s\"; did you mean \"%s\"?\n", name, hint);
	else
		fprintf(stderr, "meshsec: unknown command \"%s\" (meshsec help lists the commands)\n", name);
	return 2;
}

/* meshsec help [COMMAND]: the same text as COMMAND --help. */
static int help(int argc, char **argv)
{
	const struct ms_cmd *c;

	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (argc > 2) {
		fprintf(stderr, "meshsec help: unexpected argument \"%s\"; usage: meshsec help [COMMAND]\n", argv[2]);
		return 2;
	}
	if (!(c = find(argv[1])))
		return unknown(argv[1]);
	if (!c->opts) {
		char *av[] = { argv[1], "--help", NULL };

		return c->main(2, av);
	}
	ms_opts_help(stdout, "meshsec", c);
	return 0;
}

int main(int argc, char **argv)
{
	const struct ms_cmd *c;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)
		return help(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("meshsec %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "meshsec: \"%s\" before the command; usage: meshsec COMMAND [OPTIONS] (meshsec help lists the commands)\n", argv[1]);
		return 2;
	}
	if (!(c = find(argv[1])))
		return unknown(argv[1]);
	if (sodium_init() < 0) {
		fprintf(stderr, "meshsec: libsodium failed to initialise (no entropy source?)\n");
		return 2;
	}
	return c->main(argc - 1, argv + 1);
}
