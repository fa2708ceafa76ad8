/*
 * meshsec: the operator's command.  This file only dispatches; each subcommand lives in its
 * own cmd_*.c.  Exit codes: 0 success, 1 the answer is "no" (invalid, unhealthy), 2 usage or
 * the agent cannot be reached.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "status", cmd_status_main, "is every pair encrypted and alive? (exit 0 all up, 1 not, 2 no agent)" },
	{ "peers", cmd_peers_main, "every peer, one line each" },
	{ "show", cmd_show_main, "one peer" },
	{ "netcheck", cmd_netcheck_main, "what the network lets through to a peer: udp port, ESP, MTU (root)" },
	{ "doctor", cmd_doctor_main, "find what breaks the mesh here, and how to fix it" },
	{ "check", cmd_check_main, "validate the inventory and secret and show what this node would install" },
	{ "reload", cmd_ctl_main, "make the agent re-read the inventory now" },
	{ "rekey", cmd_ctl_main, "fresh keys with one peer or all" },
	{ "log-level", cmd_ctl_main, "show or set the agent's log level" },
	{ "metrics", cmd_ctl_main, "the agent's metrics (Prometheus text)" },
	{ "keygen", cmd_keygen_main, "make a new mesh secret (32 random bytes, base64): keygen --out FILE" },
	{ "install-policies", cmd_install_policies_main, "install this node's policies without keys or agent (boot, before the network)" },
	{ "down", cmd_down_main, "remove every SA and policy meshsec installed, and stop the agent" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: meshsec COMMAND [OPTIONS]   (meshsec COMMAND --help for its options)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int cli_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("meshsec %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "meshsec: libsodium failed to initialise (no entropy source?)\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "meshsec: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
