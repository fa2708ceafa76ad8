/*
 * meshsec install-policies: the mesh's policies for this node, before the network is up.
 *
 * Run at boot by meshsec-policies.service, ordered before network-pre.target: from then on a
 * packet between members is ESP or dropped, even for services that start before meshsecd.  Needs
 * no secret and no agent.  It only adds what is missing (NEWPOLICY: never replaces another
 * owner's policy) and never deletes; the agent reconciles the rest when it starts.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meshsec/inventory.h"
#include "meshsec/plan.h"
#include "cli.h"
#include "meshsec/conf.h"
#include "meshsec/instance.h"
#include "meshsec/node_state.h"
#include "meshsec/spd_hash.h"
#include "meshsec/xnl.h"

struct refusals {
	struct ms_sp held[16];		/* selectors another owner holds (the first 16) */
	size_t n_held, n_other;
};

static void on_refused(void *ctx, const struct xnl_request *r, int error)
{
	struct refusals *f = ctx;

	if (r->op == XNL_SP_ADD && error == EEXIST) {
		if (f->n_held < 16)
			f->held[f->n_held] = r->sp;
		f->n_held++;
	} else {
		f->n_other++;
	}
}

/* By address when the host has its addresses already; else the name it last ran as. */
static int find_self(struct conf_paths *p, const char *state, struct ms_inventory **inv, size_t *self, char *how,
		     size_t how_len, struct ms_error *err)
{
	static char saved[MS_NAME_MAX + 1];
	struct ms_error why = { .msg = "" };
	int rc;

	if ((rc = conf_load_inventory(p, inv, self, how, how_len, err)) == 0 || p->node)
		return rc;
	if (node_state_read(state, saved, sizeof(saved), &why) < 0) {
		struct ms_error by_addr = *err;

		return ms_error_set(err, -rc, "cannot tell which node this is yet: %s; and %s: meshsecd writes it when it "
				    "first runs. Pass --node NAME", by_addr.msg, why.msg[0] ? why.msg : "no saved node name");
	}
	/* The name meshsecd ran as (checked against this host's addresses then); at boot they are not up yet. */
	p->node = saved;
	p->node_anywhere = true;
	rc = conf_load_inventory(p, inv, self, how, how_len, err);
	snprintf(how, how_len, "the node this host last ran as, from %s", state);
	return rc;
}

static int install(struct xnl *x, struct ms_sp *want, size_t n_want, struct ms_sp *have, size_t n_have, size_t *added)
{
	size_t j = 0;

	if (n_want)
		qsort(want, n_want, sizeof(*want), ms_sp_cmp);
	if (n_have)
		qsort(have, n_have, sizeof(*have), ms_sp_cmp);
	*added = 0;
	for (size_t i = 0; i < n_want; i++) {
		while (j < n_have && ms_sp_cmp(&have[j], &want[i]) < 0)
			j++;
		if (j < n_have && ms_sp_cmp(&have[j], &want[i]) == 0) {
			/* Ours in a weaker shape (prefer mode's, and the inventory now says require): tighten it. */
			if (want[i].shape == MS_SP_REQUIRED && have[j].shape != MS_SP_REQUIRED) {
				if (xnl_sp_update(x, &want[i]) < 0)
					return -ENOMEM;
				(*added)++;
			}
			continue;
		}
		if (xnl_sp_add(x, &want[i]) < 0)
			return -ENOMEM;
		(*added)++;
	}
	return 0;
}

static void report_held(struct xnl *x, const struct refusals *f, json_t *warnings)
{
	for (size_t i = 0; i < f->n_held && i < 16; i++) {
		char sel[MS_SP_STRLEN], what[XNL_POLICY_STRLEN];
		struct xnl_policy pol;
		struct ms_error err;

		if (xnl_get_sp(x, &f->held[i], &pol, &err) < 0)
			snprintf(what, sizeof(what), "unknown");
		else
			xnl_policy_format(&pol, what, sizeof(what));
		if (warnings)
			json_array_append_new(warnings, json_sprintf("policy %s: another owner's policy holds this selector (%s); left alone",
								     ms_sp_format(&f->held[i], sel, sizeof(sel)), what));
		else
			fprintf(stderr, "meshsec install-policies: warning: policy %s: another owner's policy holds this selector (%s); left alone\n",
				ms_sp_format(&f->held[i], sel, sizeof(sel)), what);
	}
}

static int install_policies_main(int argc, char **argv)
{
	struct conf_paths p = { MS_DEFAULT_INVENTORY, MS_DEFAULT_SECRET, NULL, false, NULL };
	struct ms_inventory *inv = NULL;
	struct ms_sp *want = NULL, *have = NULL;
	size_t self, n_want = 0, n_have = 0, added = 0;
	struct refusals f = { .n_held = 0 };
	struct ms_error err;
	struct xnl *x = NULL;
	const char *state = MS_DEFAULT_NODE_STATE;
	char how[128], c1[32], c2[32];
	struct ms_args a;
	json_t *warnings;
	int lock, rc = cli_begin(&cli_cmd_install_policies, argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (ms_opt(&a, "inventory"))
		p.inventory = ms_opt(&a, "inventory");
	if (ms_opt(&a, "node-state"))
		state = ms_opt(&a, "node-state");
	p.node = ms_opt(&a, "node");
	p.node_anywhere = ms_opt_set(&a, "no-address-check");
	if ((lock = instance_lock("meshsec install-policies", &err)) < 0) {
		if (lock != -EADDRINUSE) {
			cli_error(&a, NULL, "%s", err.msg);
			return 1;
		}
		if (cli_json(&a))
			cli_print_json(json_pack("{s:b}", "agent_running", 1));
		else
			printf("meshsec install-policies: an agent runs in this namespace and keeps the policies; nothing to do\n");
		return 0;
	}
	warnings = cli_json(&a) ? json_array() : NULL;
	rc = find_self(&p, state, &inv, &self, how, sizeof(how), &err);
	if (rc == 0)
		rc = ms_plan_policies(inv, self, &want, &n_want, &err);
	if (rc == 0 && (rc = xnl_open(&x, &err)) == 0) {
		bool rehashed;
		struct ms_error why;

		xnl_on_refusal(x, on_refused, &f);
		if (spd_hash_ensure(x, &rehashed, &why) < 0) {
			if (warnings)
				json_array_append_new(warnings, json_sprintf("%s; policies stay correct, with a slower lookup", why.msg));
			else
				fprintf(stderr, "meshsec install-policies: warning: %s; policies stay correct, with a slower lookup\n", why.msg);
		}
		if ((rc = xnl_dump_sp(x, &have, &n_have, &err)) == 0 && (rc = install(x, want, n_want, have, n_have, &added)) == 0)
			rc = xnl_commit(x, &err) < 0 ? -EIO : 0;
		report_held(x, &f, warnings);
	}
	if (rc < 0)
		cli_error(&a, rc == -EPERM || rc == -EACCES ? CLI_NEEDS_ROOT : NULL, "%s", err.msg);
	else if (f.n_other)
		cli_error(&a, NULL, "%zu %s refused by the kernel; first: %s", f.n_other, f.n_other == 1 ? "policy" : "policies", err.msg);
	else if (warnings)
		cli_print_json(json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:O}", "node", inv->nodes[self].name, "found_by", how,
					 "policies", (json_int_t)(n_want - f.n_held), "peers", (json_int_t)(inv->n_nodes - 1),
					 "added", (json_int_t)(added - f.n_held), "held_by_another_owner", (json_int_t)f.n_held,
					 "warnings", warnings));
	else
		printf("meshsec install-policies: node %s (%s): %s for %s in place (%zu added, %zu held by another owner)\n",
		       inv->nodes[self].name, how, cli_count(c1, sizeof(c1), (long long)(n_want - f.n_held), "policy", "policies"),
		       cli_count(c2, sizeof(c2), (long long)(inv->n_nodes - 1), "peer", "peers"), added - f.n_held, f.n_held);
	xnl_close(x);
	free(want);
	free(have);
	ms_inventory_free(inv);
	close(lock);
	json_decref(warnings);
	return rc < 0 || f.n_other ? 1 : 0;
}

static const struct ms_opt install_opts[] = {
	CLI_OPT_INVENTORY, CLI_OPT_NODE, CLI_OPT_NO_ADDRESS_CHECK,
	{ "node-state", 'N', "PATH", "the node name meshsecd saved (default " MS_DEFAULT_NODE_STATE ")" },
	CLI_OPT_JSON, { NULL, 0, NULL, NULL },
};

const struct ms_cmd cli_cmd_install_policies = {
	.name = "install-policies", .summary = "install this node's policies without keys or agent (boot, before the network)",
	.help = "Installs this node's mesh policies (only those missing; nothing is replaced or deleted), so that\n"
		"traffic between members is ESP or dropped from boot on. Needs no secret and no running agent;\n"
		"run by meshsec-policies.service before network-pre.target. The node is found by this host's\n"
		"addresses, else by --node-state (written by meshsecd), else --node. A node named by --node must\n"
		"have an address on this host: before the network is up, add --no-address-check.\n"
		"Needs root (CAP_NET_ADMIN).  Exit status: 0 in place, 1 failed, 2 usage.",
	.opts = install_opts, .main = install_policies_main,
};
