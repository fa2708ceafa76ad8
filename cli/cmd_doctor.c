/*
 * meshsec doctor (options: cli_cmd_doctor below): finds what breaks meshes (doctor.h) and prints
 * each finding with its fix.  Exit status: 0 nothing wrong, 1 warnings or errors found, 2 usage.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ctl_client.h"
#include "doctor.h"

void doctor_add(struct doctor *d, const char *check, enum doctor_severity sev, const char *fix, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;

		if (!(f = realloc(d->f, cap * sizeof(*f))))
			return;
		d->f = f;
		d->cap = cap;
	}
	f = &d->f[d->n++];
	f->check = check;
	f->severity = sev;
	snprintf(f->fix, sizeof(f->fix), "%s", fix);
	va_start(ap, fmt);
	vsnprintf(f->message, sizeof(f->message), fmt, ap);
	va_end(ap);
}

static const char *sev_name(enum doctor_severity s)
{
	static const char *const n[] = { "ok", "warn", "error" };

	return n[s];
}

static void load(struct doctor *d)
{
	struct ms_error err;
	json_t *resp;
	int rc;

	if (conf_load(d->paths, &d->conf, &err) < 0) {
		doctor_add(d, "config", DOC_ERROR, "meshsec check explains it in full; fix the file named",
			   "the configuration does not load: %s", err.msg);
		memset(&d->conf, 0, sizeof(d->conf));
	} else {
		doctor_add(d, "config", DOC_OK, "", "this node is %s in mesh %s (%zu nodes)", d->conf.inv->nodes[d->conf.self].name,
			   d->conf.inv->mesh_name, d->conf.inv->n_nodes);
	}
	rc = ctl_call(d->socket, json_pack("{s:s}", "request", "status"), &resp, &err);
	if (rc == 0)
		d->status = resp;
	else
		doctor_add(d, "agent", DOC_ERROR, "systemctl start meshsecd (journalctl -u meshsecd says why it stopped)", "%s", err.msg);
}

static void print(const struct doctor *d, int json)
{
	if (json) {
		json_t *a = json_array(), *doc = json_pack("{s:o}", "findings", a);

		for (size_t i = 0; i < d->n; i++)
			json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s}", "check", d->f[i].check, "severity",
							   sev_name(d->f[i].severity), "message", d->f[i].message, "fix", d->f[i].fix));
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(doc);
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		printf("%-5s %-12s %s\n", sev_name(d->f[i].severity), d->f[i].check, d->f[i].message);
		if (d->f[i].severity != DOC_OK && d->f[i].fix[0])
			printf("      %-12s fix: %s\n", "", d->f[i].fix);
	}
}

/* --interval MS: a whole number of milliseconds, 1 to 60000. */
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
	struct conf_paths paths = { MS_DEFAULT_INVENTORY, MS_DEFAULT_SECRET, NULL, false };
	struct doctor d = { .paths = &paths, .socket = cli_default_socket(), .interval_ms = 2000 };
	struct ms_args a;
	int json, bad = 0, rc = cli_begin(&cli_cmd_doctor, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (parse_interval(&a, &d.interval_ms) < 0)
		return 2;
	json = cli_json(&a);
	if (ms_opt(&a, "inventory"))
		paths.inventory = ms_opt(&a, "inventory");
	if (ms_opt(&a, "secret"))
		paths.secret = ms_opt(&a, "secret");
	if (ms_opt(&a, "socket"))
		d.socket = ms_opt(&a, "socket");
	paths.node = ms_opt(&a, "node");
	paths.node_anywhere = ms_opt_set(&a, "no-address-check");
	load(&d);
	doctor_kernel_support(&d);
	doctor_kernel_state(&d);
	doctor_agent(&d);
	doctor_firewall(&d);
	doctor_mtu(&d);
	doctor_source(&d);
	doctor_xfrm_stat(&d);
	print(&d, json);
	for (size_t i = 0; i < d.n; i++)
		bad |= d.f[i].severity != DOC_OK;
	free(d.f);
	json_decref(d.status);
	conf_free(&d.conf);
	return bad ? 1 : 0;
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
		"Exit status: 0 nothing wrong, 1 something to fix, 2 usage.",
	.opts = doctor_opts, .main = doctor_main,
};
