/* doctor: the kernel's meshsec objects against the plan, and the agent's own view (doctor.h). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "doctor.h"
#include "meshsec/plan.h"
#include "meshsec/xnl.h"

static const char *peer_state(const struct doctor *d, const char *name)
{
	size_t i;
	json_t *p;

	json_array_foreach(json_object_get(d->status, "peers"), i, p)
		if (strcmp(json_string_value(json_object_get(p, "name")), name) == 0)
			return json_string_value(json_object_get(p, "state"));
	return NULL;
}

static bool has_sa(const struct ms_sa *sas, size_t n, const struct ms_addr *src, const struct ms_addr *dst)
{
	for (size_t i = 0; i < n; i++)
		if (ms_addr_equal(&sas[i].src, src) && ms_addr_equal(&sas[i].dst, dst))
			return true;
	return false;
}

/* A planned policy that is not ours in the kernel: missing, or another owner holds its selector. */
static void missing_policy(struct doctor *d, struct xnl *x, const struct ms_sp *sp, size_t *missing, size_t *foreign)
{
	char sel[MS_SP_STRLEN], what[XNL_POLICY_STRLEN];
	struct xnl_policy pol;
	struct ms_error err;

	ms_sp_format(sp, sel, sizeof(sel));
	if (xnl_get_sp(x, sp, &pol, &err) == 0 && pol.found) {
		if ((*foreign)++ < 5)
			doctor_add(d, "policies", ms_sp_is_bypass(sp) ? DOC_WARN : DOC_ERROR,
				   "if that policy is stale, delete it (ip xfrm policy delete with this selector); the agent installs its own within 30 s. "
				   "If another IPsec daemon needs it, take this node out of one of the two configurations",
				   "another owner's policy holds the selector of meshsec's %s (%s): traffic it selects follows that policy, not meshsec",
				   sel, xnl_policy_format(&pol, what, sizeof(what)));
	} else if ((*missing)++ < 5) {
		doctor_add(d, "policies", DOC_ERROR, "restart meshsecd: it installs every member's policies at start",
			   "the policy %s is missing", sel);
	}
}

/* Both lists sorted, then walked together: what the plan has and the kernel not, and the reverse. */
static void policies(struct doctor *d, struct xnl *x, struct ms_sp *want, size_t n_want, struct ms_sp *have, size_t n_have)
{
	char sel[MS_SP_STRLEN];
	size_t i = 0, j = 0, missing = 0, foreign = 0, extra = 0;

	if (n_want)
		qsort(want, n_want, sizeof(*want), ms_sp_cmp);
	if (n_have)	/* an empty dump is NULL, which qsort must not get */
		qsort(have, n_have, sizeof(*have), ms_sp_cmp);
	while (i < n_want || j < n_have) {
		int c = i == n_want ? 1 : j == n_have ? -1 : ms_sp_cmp(&want[i], &have[j]);

		if (c == 0) {
			i++, j++;
		} else if (c < 0) {
			missing_policy(d, x, &want[i++], &missing, &foreign);
		} else {
			if (extra++ < 5)
				doctor_add(d, "policies", DOC_WARN, "restart meshsecd to reconcile, or stop it and run meshsec down",
					   "a meshsec policy %s is not in the plan for this inventory (left from an older one?)",
					   ms_sp_format(&have[j], sel, sizeof(sel)));
			j++;
		}
	}
	if (!missing && !extra && !foreign)
		doctor_add(d, "policies", DOC_OK, "", "all %zu policies of the plan are installed, and no other", n_want);
}

static void sas_of_peers(struct doctor *d, const struct ms_sa *sas, size_t n)
{
	const struct ms_inventory *inv = d->conf.inv;
	const struct ms_node *me = &inv->nodes[d->conf.self];
	size_t missing = 0;

	for (size_t p = 0; p < inv->n_nodes; p++) {
		const struct ms_node *peer = &inv->nodes[p];

		for (int f = 0; f < 2 && p != d->conf.self; f++) {
			const struct ms_addr *a = ms_node_addr(me, f ? AF_INET6 : AF_INET), *b = ms_node_addr(peer, f ? AF_INET6 : AF_INET);
			const char *state = d->status ? peer_state(d, peer->name) : NULL;

			if (!a || !b || (has_sa(sas, n, a, b) && has_sa(sas, n, b, a)))
				continue;
			missing++;
			doctor_add(d, "sas", state && strcmp(state, "up") == 0 ? DOC_ERROR : DOC_WARN,
				   "meshsec status shows why the pair is not up; check the peer's agent and the firewall",
				   "no %s SA pair with %s (the agent says: %s): traffic with it is dropped until a handshake succeeds",
				   f ? "IPv6" : "IPv4", peer->name, state ? state : "unknown");
		}
	}
	if (!missing)
		doctor_add(d, "sas", DOC_OK, "", "every peer has SAs in both directions for every shared family");
}

void doctor_kernel_state(struct doctor *d)
{
	struct ms_sp *want = NULL, *have = NULL;
	struct ms_sa *sas = NULL;
	size_t n_want = 0, n_have = 0, n_sas = 0, n_sock = 0;
	struct ms_error err;
	struct xnl *x;

	if (!d->conf.inv || xnl_open(&x, &err) < 0)
		return;
	if (ms_plan_policies(d->conf.inv, d->conf.self, &want, &n_want, &err) < 0 || xnl_dump_sp(x, &have, &n_have, &err) < 0 ||
	    xnl_dump_sa(x, &sas, &n_sas, &err) < 0 || xnl_count_socket_policies(x, &n_sock, &err) < 0) {
		doctor_add(d, "kernel-state", DOC_ERROR, "run as root", "cannot read the kernel's IPsec state: %s", err.msg);
	} else {
		policies(d, x, want, n_want, have, n_have);
		sas_of_peers(d, sas, n_sas);
		if (d->status && n_sock == 0)
			doctor_add(d, "bypass", DOC_ERROR, "restart meshsecd; if it persists, report a bug",
				   "the agent runs but no socket has an IPsec bypass policy: its handshakes would be held by its own policies");
		else if (d->status)
			doctor_add(d, "bypass", DOC_OK, "", "%zu per-socket bypass policies (the agent's UDP sockets)", n_sock);
	}
	free(want);
	free(have);
	free(sas);
	xnl_close(x);
}

void doctor_agent(struct doctor *d)
{
	json_t *counts = json_object_get(d->status, "counts"), *p;
	size_t i;

	if (!d->status)
		return;	/* cmd_doctor.c said why */
	json_array_foreach(json_object_get(d->status, "peers"), i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		const char *state = json_string_value(json_object_get(p, "state"));

		if (strcmp(state, "down") == 0)
			doctor_add(d, "peers", DOC_ERROR, "on that node: systemctl status meshsecd; between the nodes: ESP and the agents' UDP port must pass",
				   "peer %s is down: no answer to handshakes or keepalives", name);
		if (json_is_true(json_object_get(p, "drift")))
			doctor_add(d, "drift", DOC_WARN, "ship the current inventory to that node (its agent reloads by itself)",
				   "peer %s runs another inventory (digest %s)", name,
				   json_string_value(json_object_get(p, "inventory_digest")));
	}
	if (json_integer_value(json_object_get(counts, "up")) == json_integer_value(json_object_get(counts, "peers")))
		doctor_add(d, "peers", DOC_OK, "", "all %lld peers up", (long long)json_integer_value(json_object_get(counts, "peers")));
}
