/*
 * meshsec doctor [--json] [--inventory PATH] [--secret PATH] [--node NAME [--no-address-check]] [--socket PATH]
 *                [--interval MS]
 * Finds what breaks meshes (doctor.h) and prints each finding with its fix.  Exit status: 0
 * every check ran and found nothing wrong, 1 warnings or errors found, 2 usage, 3 nothing
 * wrong found but some checks could not run (skip findings say why).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctl_client.h"
#include "doctor.h"

static void print(const struct doctor *d, const size_t count[4], int json)
{
	if (json) {
		json_t *a = json_array(), *doc = json_pack("{s:o,s:{s:I,s:I,s:I,s:I}}", "findings", a, "counts", "ok",
							   (json_int_t)count[DOC_OK], "warn", (json_int_t)count[DOC_WARN], "error",
							   (json_int_t)count[DOC_ERROR], "skip", (json_int_t)count[DOC_SKIP]);

		for (size_t i = 0; i < d->n; i++)
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "check", d->f[i].check, "severity",
							   doctor_severity_name(d->f[i].severity), "message", d->f[i].message, "fix", d->f[i].fix));
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(doc);
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		printf("%-5s %-12s %s\n", doctor_severity_name(d->f[i].severity), d->f[i].check, d->f[i].message);
		if (d->f[i].severity != DOC_OK && d->f[i].fix[0])
			printf("      %-12s fix: %s\n", "", d->f[i].fix);
	}
	printf("%zu ok, %zu warnings, %zu errors, %zu not checked\n", count[DOC_OK], count[DOC_WARN], count[DOC_ERROR], count[DOC_SKIP]);
}

int cmd_doctor_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	       { "inventory", required_argument, NULL, 'i' },
		{ "secret", required_argument, NULL, 's' },    { "node", required_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 'S' },    { "interval", required_argument, NULL, 't' },
		{ "no-address-check", no_argument, NULL, 'A' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf_paths paths = { NULL, MS_DEFAULT_SECRET, NULL, false };	/* inventory, node: the agent's (doctor.c) */
	struct doctor d = { .paths = &paths, .socket = cli_default_socket(), .interval_ms = 2000 };
	size_t count[4] = { 0 };
	int opt, json = 0;

	while ((opt = getopt_long(argc, argv, "ji:s:n:S:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'j': json = 1; break;
		case 'i': paths.inventory = optarg; break;
		case 's': paths.secret = optarg; break;
		case 'n': paths.node = optarg; break;
		case 'A': paths.node_anywhere = true; break;
		case 'S': d.socket = optarg; break;
		case 't': d.interval_ms = (unsigned)atoi(optarg); break;
		case 'h':
			printf("usage: meshsec doctor [--json] [--inventory PATH] [--secret PATH] [--node NAME [--no-address-check]]\n"
			       "                      [--socket PATH] [--interval MS]\n"
			       "Checks kernel support, the kernel's IPsec error counters (watched for --interval, default 2000 ms),\n"
			       "the firewall, the MTU, local addresses the kernel may use as the source of traffic to members\n"
			       "(dropped: only this node's address has SAs), meshsec's policies and SAs against the inventory, and the agent's view.\n"
			       "Without --inventory and --node it checks the inventory and node the running agent uses (else the defaults).\n"
			       "A check it cannot run (not root, no agent, no inventory) is reported as \"skip\" with the reason, never as ok.\n"
			       "Exit status: 0 every check ran and nothing is wrong, 1 something to fix, 3 nothing wrong found but some\n"
			       "checks were skipped (run as root, with the agent running, for a full answer).\n");
			return 0;
		default: return 2;
		}
	}
	doctor_run(&d);
	for (size_t i = 0; i < d.n; i++)
		count[d.f[i].severity]++;
	print(&d, count, json);
	doctor_free(&d);
	return count[DOC_WARN] || count[DOC_ERROR] ? 1 : count[DOC_SKIP] ? 3 : 0;
}
