/*
 * meshsec doctor [--json] [--inventory PATH] [--secret PATH] [--node NAME [--no-address-check]] [--socket PATH]
 *                [--interval MS]
 * Finds what breaks meshes (doctor.h) and prints each finding with its fix.  Exit status: 0
 * nothing wrong, 1 warnings or errors found, 2 usage.
 */
#include "config.h"

#include <getopt.h>
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

int cmd_doctor_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },	       { "inventory", required_argument, NULL, 'i' },
		{ "secret", required_argument, NULL, 's' },    { "node", required_argument, NULL, 'n' },
		{ "socket", required_argument, NULL, 'S' },    { "interval", required_argument, NULL, 't' },
		{ "no-address-check", no_argument, NULL, 'A' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf_paths paths = { MS_DEFAULT_INVENTORY, MS_DEFAULT_SECRET, NULL, false };
	struct doctor d = { .paths = &paths, .socket = cli_default_socket(), .interval_ms = 2000 };
	int opt, json = 0, bad = 0;

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
			       "Exit status: 0 nothing wrong, 1 something to fix.\n");
			return 0;
		default: return 2;
		}
	}
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
