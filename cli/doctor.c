/*
 * doctor's findings and its table of checks (doctor.h).  A check runs only when what it needs
 * is there; otherwise the table says why it did not run, so a non-root operator never reads
 * "ok" (or a missing module, or no firewall rule) for what doctor could not see.
 */
#include "config.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_client.h"
#include "doctor.h"

enum { NEEDS_ROOT = 1, NEEDS_INVENTORY = 2, NEEDS_AGENT = 4 };

static const struct doctor_check {
	const char *check;
	void (*run)(struct doctor *d);
	unsigned needs;
	const char *what;	/* "to check ..." in a skip finding */
} checks[] = {
	{ "secret", doctor_secret, NEEDS_ROOT, "the secret file" },
	{ "kernel", doctor_kernel_support, NEEDS_ROOT, "whether this kernel can do ESP with the mesh's cipher" },
	{ "policies", doctor_policies, NEEDS_ROOT | NEEDS_INVENTORY, "the kernel's policies" },
	{ "sas", doctor_sas, NEEDS_ROOT | NEEDS_INVENTORY, "the kernel's SAs" },
	{ "peers", doctor_agent, NEEDS_AGENT, "the peers the agent has" },
	{ "firewall", doctor_firewall, NEEDS_ROOT, "the firewall rules" },
	{ "mtu", doctor_mtu, NEEDS_INVENTORY, "the MTU of this node's interfaces" },
	{ "source", doctor_source, NEEDS_INVENTORY, "which source addresses the kernel picks for members" },
	{ "xfrm_stat", doctor_xfrm_stat, 0, "the kernel's IPsec error counters" },
};

const char *doctor_severity_name(enum doctor_severity s)
{
	static const char *const n[] = { "ok", "warn", "error", "skip" };

	return n[s];
}

void doctor_add(struct doctor *d, const char *check, enum doctor_severity sev, const char *fix, const char *fmt, ...)
{
	struct finding *f, tmp;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp.message, sizeof(tmp.message), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < d->n; i++)
		if (d->f[i].severity == sev && strcmp(d->f[i].check, check) == 0 && strcmp(d->f[i].message, tmp.message) == 0)
			return;
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
	memcpy(f->message, tmp.message, sizeof(f->message));
}

void doctor_skip_root(struct doctor *d, const char *check, const char *what)
{
	doctor_add(d, check, DOC_SKIP, "sudo meshsec doctor (with the same options)", "needs root: run as root to check %s", what);
}

void doctor_list_add(char *buf, size_t len, size_t *count, const char *item)
{
	size_t used = strlen(buf);

	if ((*count)++ < DOCTOR_SHOW && used < len)
		snprintf(buf + used, len - used, "%s%s", used ? ", " : "", item);
}

void doctor_list_end(char *buf, size_t len, size_t count)
{
	size_t used = strlen(buf);

	if (count > DOCTOR_SHOW && used < len)
		snprintf(buf + used, len - used, " and %zu more", count - DOCTOR_SHOW);
}

const char *doctor_unreachable_fix(const struct doctor *d)
{
	if (d->no_esp)
		return "this kernel cannot do ESP (the kernel finding names the module to load): fix that first; the firewall is not the cause";
	return "on the peer: systemctl status meshsecd; between the nodes, ESP (IP protocol 50) and the agents' UDP port must pass "
	       "the firewalls and security groups both ways";
}

/* CAP_NET_ADMIN (12) reads XFRM and nftables state; CAP_SYS_ADMIN (21) makes the ESP probe's namespace. */
static bool have_root(void)
{
	unsigned long long eff = 0;
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &eff) == 1)
			break;
	fclose(f);
	return (eff & (1ULL << 12)) && (eff & (1ULL << 21));
}

static bool same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	if (realpath(a, ra) && realpath(b, rb))
		return strcmp(ra, rb) == 0;
	return strcmp(a, b) == 0;
}

/* The agent's inventory and node name, unless the options name others (then: say they differ). */
static void from_agent(struct doctor *d)
{
	const char *inv = json_string_value(json_object_get(json_object_get(d->status, "inventory"), "path"));
	const char *node = json_string_value(json_object_get(json_object_get(d->status, "self"), "name"));
	struct conf_paths *p = d->paths;

	if (inv && !p->inventory) {
		p->inventory = inv;
	} else if (inv && !same_file(inv, p->inventory)) {
		doctor_add(d, "config", DOC_WARN, "meshsec doctor without --inventory checks what the agent runs; "
			   "to make the agent run this file, copy it over the agent's and run meshsec reload",
			   "the agent runs the inventory %s, not %s given by --inventory: the checks below judge the kernel against %s",
			   inv, p->inventory, p->inventory);
	}
	if (node && !p->node) {
		p->node = node;
		p->node_anywhere = true;	/* the agent already found itself */
	} else if (node && strcmp(node, p->node) != 0) {
		doctor_add(d, "config", DOC_WARN, "meshsec doctor without --node checks the node the agent runs as",
			   "the agent runs as node %s, not %s given by --node", node, p->node);
	}
}

static void load(struct doctor *d)
{
	struct ms_error err;
	json_t *resp;

	if (ctl_call(d->socket, json_pack("{s:s}", "request", "status"), &resp, &err) == 0) {
		d->status = resp;
		from_agent(d);
	} else {
		doctor_add(d, "agent", DOC_ERROR, "systemctl start meshsecd (journalctl -u meshsecd says why it stopped)", "%s", err.msg);
	}
	if (!d->paths->inventory)
		d->paths->inventory = MS_DEFAULT_INVENTORY;
	memset(&d->conf, 0, sizeof(d->conf));
	if (conf_load_inventory(d->paths, &d->conf.inv, &d->conf.self, d->conf.found_by, sizeof(d->conf.found_by), &err) < 0) {
		doctor_add(d, "config", DOC_ERROR, "meshsec check explains it in full; fix the file named",
			   "the configuration does not load: %s", err.msg);
		d->conf.inv = NULL;
	} else {
		doctor_add(d, "config", DOC_OK, "", "this node is %s in mesh %s (%zu nodes; inventory %s%s)",
			   d->conf.inv->nodes[d->conf.self].name, d->conf.inv->mesh_name, d->conf.inv->n_nodes, d->paths->inventory,
			   d->status ? ", as the agent says" : "");
	}
}

void doctor_secret(struct doctor *d)
{
	struct ms_secret *secret = NULL;
	struct ms_error err;

	if (ms_secret_load(d->paths->secret, &secret, &err) < 0)
		doctor_add(d, "secret", DOC_ERROR, "meshsec check explains it in full; fix the file named", "%s", err.msg);
	else
		doctor_add(d, "secret", DOC_OK, "", "the secret file %s is private and well formed", d->paths->secret);
	ms_secret_free(secret);
}

void doctor_run(struct doctor *d)
{
	d->root = have_root();
	load(d);
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		const struct doctor_check *c = &checks[i];

		if ((c->needs & NEEDS_ROOT) && !d->root)
			doctor_skip_root(d, c->check, c->what);
		else if ((c->needs & NEEDS_INVENTORY) && !d->conf.inv)
			doctor_add(d, c->check, DOC_SKIP, "fix the configuration (the config finding says how)",
				   "needs the inventory, which did not load: not checked: %s", c->what);
		else if ((c->needs & NEEDS_AGENT) && !d->status)
			doctor_add(d, c->check, DOC_SKIP, "systemctl start meshsecd", "needs the agent, which did not answer: not checked: %s", c->what);
		else
			c->run(d);
	}
}

void doctor_free(struct doctor *d)
{
	free(d->f);
	json_decref(d->status);
	conf_free(&d->conf);
}
