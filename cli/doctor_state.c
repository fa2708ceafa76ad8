/*
 * doctor: the kernel's meshsec objects against the plan (doctor.h).  Each kind of problem is one
 * finding that counts its cases and names the first DOCTOR_SHOW.  A dump refused for want of
 * privilege is a skip, never "missing".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "doctor.h"
#include "meshsec/plan.h"
#include "meshsec/xnl.h"

/* Opens netlink and reports why not: true when the check may go on. */
static bool open_xnl(struct doctor *d, const char *check, const char *what, struct xnl **x)
{
	struct ms_error err;
	int rc = xnl_open(x, &err);

	if (rc == -EPERM || rc == -EACCES)
		doctor_skip_root(d, check, what);
	else if (rc < 0)
		doctor_add(d, check, DOC_ERROR, "modprobe xfrm_user", "cannot read the kernel's IPsec state: %s", err.msg);
	return rc == 0;
}

static void dump_failed(struct doctor *d, const char *check, const char *what, int rc, const struct ms_error *err)
{
	if (rc == -EPERM || rc == -EACCES)
		doctor_skip_root(d, check, what);
	else
		doctor_add(d, check, DOC_ERROR, "run it again; if it persists, report a bug", "cannot read the kernel's IPsec state: %s",
			   err->msg);
}

struct sp_lists {
	char missing[768], foreign[768], extra[768], weak[768];
	size_t n_missing, n_foreign, n_extra, foreign_errors, n_weak;
};

/* A planned policy that is not ours in the kernel: missing, or another owner holds its selector. */
static void missing_policy(struct xnl *x, const struct ms_sp *sp, struct sp_lists *l)
{
	char sel[MS_SP_STRLEN], what[XNL_POLICY_STRLEN], item[MS_SP_STRLEN + XNL_POLICY_STRLEN + 16];
	struct xnl_policy pol;
	struct ms_error err;

	ms_sp_format(sp, sel, sizeof(sel));
	if (xnl_get_sp(x, sp, &pol, &err) == 0 && pol.found) {
		snprintf(item, sizeof(item), "%s (held by %s)", sel, xnl_policy_format(&pol, what, sizeof(what)));
		doctor_list_add(l->foreign, sizeof(l->foreign), &l->n_foreign, item);
		l->foreign_errors += !ms_sp_is_bypass(sp) && !ms_sp_is_exclusion(sp);	/* a member's protection is at stake */
	} else {
		doctor_list_add(l->missing, sizeof(l->missing), &l->n_missing, sel);
	}
}

static void report_policies(struct doctor *d, struct sp_lists *l, size_t n_want)
{
	doctor_list_end(l->missing, sizeof(l->missing), l->n_missing);
	doctor_list_end(l->foreign, sizeof(l->foreign), l->n_foreign);
	doctor_list_end(l->extra, sizeof(l->extra), l->n_extra);
	doctor_list_end(l->weak, sizeof(l->weak), l->n_weak);
	if (l->n_weak)
		doctor_add(d, "policies", DOC_ERROR, "systemctl reload meshsecd (the agent applies the inventory's mode on reload); if "
			   "no agent runs, meshsec down then meshsec install-policies",
			   "%zu policies the inventory wants in require mode let traffic pass in clear (prefer mode's shape): %s",
			   l->n_weak, l->weak);
	if (l->n_missing)
		doctor_add(d, "policies", DOC_ERROR, "systemctl restart meshsecd: it installs every member's policies at start",
			   "%zu of the plan's %zu policies missing: %s", l->n_missing, n_want, l->missing);
	if (l->n_foreign)
		doctor_add(d, "policies", l->foreign_errors ? DOC_ERROR : DOC_WARN,
			   "if such a policy is stale, delete it (ip xfrm policy delete SELECTOR dir DIR, as ip xfrm policy shows it); the agent "
			   "installs its own within 30 s. If another IPsec daemon needs it, take this node out of one of the two configurations",
			   "%zu of meshsec's policies have their selector held by another owner's policy (traffic they select follows that "
			   "policy, not meshsec): %s", l->n_foreign, l->foreign);
	if (l->n_extra)
		doctor_add(d, "policies", DOC_WARN, "systemctl restart meshsecd to reconcile, or stop it and run meshsec down",
			   "%zu meshsec policies are not in the plan for this inventory (left from an older one?): %s", l->n_extra, l->extra);
	if (!l->n_missing && !l->n_extra && !l->n_foreign && !l->n_weak)
		doctor_add(d, "policies", DOC_OK, "", "all %zu policies of the plan are installed, and no other", n_want);
}

/* Both lists sorted, then walked together: what the plan has and the kernel not, and the reverse. */
static void compare(struct doctor *d, struct xnl *x, struct ms_sp *want, size_t n_want, struct ms_sp *have, size_t n_have)
{
	char sel[MS_SP_STRLEN];
	struct sp_lists l = { .missing = "" };
	size_t i = 0, j = 0;

	if (n_want)
		qsort(want, n_want, sizeof(*want), ms_sp_cmp);
	if (n_have)	/* an empty dump is NULL, which qsort must not get */
		qsort(have, n_have, sizeof(*have), ms_sp_cmp);
	while (i < n_want || j < n_have) {
		int c = i == n_want ? 1 : j == n_have ? -1 : ms_sp_cmp(&want[i], &have[j]);

		if (c == 0 && want[i].shape == MS_SP_REQUIRED && have[j].shape != MS_SP_REQUIRED)
			doctor_list_add(l.weak, sizeof(l.weak), &l.n_weak, ms_sp_format(&have[j], sel, sizeof(sel)));
		if (c == 0)
			i++, j++;
		else if (c < 0)
			missing_policy(x, &want[i++], &l);
		else
			doctor_list_add(l.extra, sizeof(l.extra), &l.n_extra, ms_sp_format(&have[j++], sel, sizeof(sel)));
	}
	report_policies(d, &l, n_want);
}

void doctor_policies(struct doctor *d)
{
	struct ms_sp *want = NULL, *have = NULL;
	size_t n_want = 0, n_have = 0, n_sock = 0;
	struct ms_error err;
	struct xnl *x;
	int rc;

	if (!open_xnl(d, "policies", "the kernel's policies", &x))
		return;
	if ((rc = ms_plan_policies(d->conf.inv, d->conf.self, &want, &n_want, &err)) < 0)
		doctor_add(d, "policies", DOC_ERROR, "meshsec check explains it", "cannot plan this node's policies: %s", err.msg);
	else if ((rc = xnl_dump_sp(x, &have, &n_have, &err)) < 0 || (rc = xnl_count_socket_policies(x, &n_sock, &err)) < 0)
		dump_failed(d, "policies", "the kernel's policies", rc, &err);
	else
		compare(d, x, want, n_want, have, n_have);
	if (rc == 0 && d->status && n_sock == 0)
		doctor_add(d, "bypass", DOC_ERROR, "systemctl restart meshsecd; if it persists, report a bug",
			   "the agent runs but no socket has an IPsec bypass policy: its handshakes would be held by its own policies");
	else if (rc == 0 && d->status)
		doctor_add(d, "bypass", DOC_OK, "", "%zu per-socket bypass policies (the agent's UDP sockets)", n_sock);
	free(want);
	free(have);
	xnl_close(x);
}

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

/* Pairs without SAs: those the agent calls up are a kernel problem (error), the others wait for a handshake. */
static void sas_of_peers(struct doctor *d, const struct ms_sa *sas, size_t n)
{
	const struct ms_inventory *inv = d->conf.inv;
	const struct ms_node *me = &inv->nodes[d->conf.self];
	char lost[768] = "", waiting[768] = "", item[MS_NAME_MAX + 64];
	size_t n_lost = 0, n_waiting = 0, pairs = 0;

	for (size_t p = 0; p < inv->n_nodes; p++) {
		const struct ms_node *peer = &inv->nodes[p];

		for (int f = 0; f < 2 && p != d->conf.self; f++) {
			const struct ms_addr *a = ms_node_addr(me, f ? AF_INET6 : AF_INET), *b = ms_node_addr(peer, f ? AF_INET6 : AF_INET);
			const char *state = d->status ? peer_state(d, peer->name) : NULL;
			bool up = state && strcmp(state, "up") == 0;

			if (!a || !b)
				continue;
			pairs++;
			if (has_sa(sas, n, a, b) && has_sa(sas, n, b, a))
				continue;
			snprintf(item, sizeof(item), "%s %s (the agent says: %s)", peer->name, f ? "IPv6" : "IPv4", state ? state : "unknown");
			if (up)
				doctor_list_add(lost, sizeof(lost), &n_lost, item);
			else
				doctor_list_add(waiting, sizeof(waiting), &n_waiting, item);
		}
	}
	doctor_list_end(lost, sizeof(lost), n_lost);
	doctor_list_end(waiting, sizeof(waiting), n_waiting);
	if (n_lost)
		doctor_add(d, "sas", DOC_ERROR, "meshsec rekey PEER: a new handshake installs both SAs",
			   "%zu SA pairs missing that the agent counts as up: %s", n_lost, lost);
	if (n_waiting)
		doctor_add(d, "sas", DOC_WARN, "meshsec status shows why each pair is not up (the peers finding too)",
			   "%zu of %zu SA pairs missing (traffic with those peers is dropped until a handshake succeeds): %s",
			   n_waiting, pairs, waiting);
	if (!n_lost && !n_waiting)
		doctor_add(d, "sas", DOC_OK, "", "all %zu SA pairs are installed (every peer, every shared family)", pairs);
}

void doctor_sas(struct doctor *d)
{
	struct ms_sa *sas = NULL;
	size_t n_sas = 0;
	struct ms_error err;
	struct xnl *x;
	int rc;

	if (!open_xnl(d, "sas", "the kernel's SAs", &x))
		return;
	if ((rc = xnl_dump_sa(x, &sas, &n_sas, &err)) < 0)
		dump_failed(d, "sas", "the kernel's SAs", rc, &err);
	else
		sas_of_peers(d, sas, n_sas);
	free(sas);
	xnl_close(x);
}
