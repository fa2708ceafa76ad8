/*
 * meshsec doctor (options: cli_cmd_doctor below): finds what breaks meshes (doctor.h; the checks
 * are in doctor.c's table) and prints each finding with its fix.  Exit status: 0 every check ran
 * and found nothing wrong, 1 warnings or errors found, 2 usage, 3 nothing wrong found but some
 * checks could not run (skip findings say why).
 */
#include "config.h"

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

static int parse_interval(const struct ms_args *a, unsigned *ms)
{
	const char *v = ms_opt(a, "interval");
	char *end;
	unsigned long n;

	if (!v)
		return 0;
	n = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || *end || n < 1 || n > 60000) {
		cli_error(a, NULL, "--interval %s: give milliseconds, 1 to 60000", v);
		return -1;
	}
	*ms = (unsigned)n;
	return 0;
}

static int doctor_main(int argc, char **argv)
{
	struct conf_paths paths = { NULL, MS_DEFAULT_SECRET, NULL, false, NULL };	/* inventory, node: the agent's (doctor.c) */
	struct doctor d = { .paths = &paths, .socket = cli_default_socket(), .interval_ms = 2000 };
	size_t count[4] = { 0 };
	struct ms_args a;
	int json, rc = cli_begin(&cli_cmd_doctor, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (parse_interval(&a, &d.interval_ms) < 0)
		return 2;
	json = cli_json(&a);
	paths.inventory = ms_opt(&a, "inventory");
	if (ms_opt(&a, "secret"))
		paths.secret = ms_opt(&a, "secret");
	if (ms_opt(&a, "socket"))
		d.socket = ms_opt(&a, "socket");
	paths.node = ms_opt(&a, "node");
	paths.node_anywhere = ms_opt_set(&a, "no-address-check");
	doctor_run(&d);
	for (size_t i = 0; i < d.n; i++)
		count[d.f[i].severity]++;
	print(&d, count, json);
	doctor_free(&d);
	return count[DOC_WARN] || count[DOC_ERROR] ? 1 : count[DOC_SKIP] ? 3 : 0;
}

static const struct ms_opt doctor_opts[] = {
	CLI_OPT_JSON, CLI_OPT_INVENTORY, CLI_OPT_SECRET, CLI_OPT_NODE, CLI_OPT_NO_ADDRESS_CHECK, CLI_OPT_SOCKET,
	{ "interval", 't', "MS", "how long to watch the kernel's IPsec error counters (default 2000)" },
	{ NULL, 0, NULL, NULL },
};

const struct ms_cmd cli_cmd_doctor = {
	.name = "doctor", .summary = "find what breaks the mesh here, and how to fix it",
	.help = "Checks kernel support, the kernel's IPsec error counters (watched for --interval), the firewall,\n"
		"the MTU, local addresses the kernel may use as the source of traffic to members (dropped: only\n"
		"this node's address has SAs), meshsec's policies and SAs against the inventory, and the agent's view.\n"
		"Without --inventory and --node it checks the inventory and node the running agent uses (else the defaults).\n"
		"A check it cannot run (not root, no agent, no inventory) is reported as \"skip\" with the reason, never as ok.\n"
		"Exit status: 0 every check ran and nothing is wrong, 1 something to fix, 2 usage, 3 nothing wrong found\n"
		"but some checks were skipped (run as root, with the agent running, for a full answer).",
	.opts = doctor_opts, .main = doctor_main,
};
