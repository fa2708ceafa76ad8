/*
 * The mesh's policies in the kernel: start-up and reload diffs, and policies another owner holds.
 *
 * Policies are created with NEWPOLICY, which fails (EEXIST) when a policy with the same selector
 * exists, whoever owns it.  Such a conflict is left alone: it is logged once with what the
 * foreign policy is, shown by status and doctor, looked at again every CONFLICT_RETRY_MS, and
 * ours goes in as soon as the other one is gone.  A conflicted selector is never deleted by us:
 * a delete by selector would remove the other owner's policy.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/exclude.h"
#include "meshsec/plan.h"
#include "log.h"
#include "mesh_internal.h"

#define CONFLICT_RETRY_MS 30000

static struct mesh_conflict *find_conflict(struct mesh *m, const struct ms_sp *sp)
{
	for (size_t i = 0; i < m->n_conflicts; i++)
		if (ms_sp_cmp(&m->conflicts[i].sp, sp) == 0)
			return &m->conflicts[i];
	return NULL;
}

bool mesh_policy_conflicted(struct mesh *m, const struct ms_sp *sp)
{
	return find_conflict(m, sp) != NULL;
}

static void forget_conflict(struct mesh *m, struct mesh_conflict *c)
{
	*c = m->conflicts[--m->n_conflicts];
	m->conflicts_changed = true;
}

/* From the refusal handler: the kernel already has a policy with this selector. */
void mesh_policy_conflict(struct mesh *m, const struct ms_sp *sp)
{
	struct mesh_conflict *c = find_conflict(m, sp);

	if (c)
		return;
	if (m->n_conflicts == m->cap_conflicts) {
		size_t cap = m->cap_conflicts ? m->cap_conflicts * 2 : 8;
		struct mesh_conflict *p = realloc(m->conflicts, cap * sizeof(*p));

		if (!p) {
			log_warnx("out of memory recording a policy conflict");
			return;
		}
		m->conflicts = p;
		m->cap_conflicts = cap;
	}
	c = &m->conflicts[m->n_conflicts++];
	memset(c, 0, sizeof(*c));
	c->sp = *sp;
	m->conflicts_changed = true;
}

const char *mesh_policy_peer(const struct mesh *m, const struct ms_sp *sp)
{
	if (ms_sp_is_bypass(sp) || (ms_sp_is_exclusion(sp) && sp->peer == m->conf.self))
		return NULL;	/* node-wide, or an exclusion with every member */
	return m->conf.inv->nodes[sp->peer].name;
}

static const char *peer_name(const struct mesh *m, const struct ms_sp *sp)
{
	const char *name = mesh_policy_peer(m, sp);

	return name ? name : "(node-wide)";
}

void mesh_policy_mark(struct mesh *m)
{
	if (!m->conflicts_changed)
		return;
	m->conflicts_changed = false;
	for (size_t i = 0; i < core_peer_slots(m->core); i++)
		core_peer_conflict(m->core, (int)i, false);
	/* An exclusion held by another owner leaves the pair's own protection alone: not the peer's problem. */
	for (size_t i = 0; i < m->n_conflicts; i++)
		if (!ms_sp_is_bypass(&m->conflicts[i].sp) && !ms_sp_is_exclusion(&m->conflicts[i].sp))
			core_peer_conflict(m->core, core_peer_find(m->core, peer_name(m, &m->conflicts[i].sp)), true);
}

/* The iproute2 words that name the selector: "dir out src 0.0.0.0/0 dst 10.0.0.2/32". */
static const char *ip_words(const struct ms_sp *sp, char *buf, size_t len)
{
	char s[MS_ADDR_STRLEN], d[MS_ADDR_STRLEN], ports[40];
	int n = snprintf(buf, len, "dir %s src %s/%u dst %s/%u", sp->dir == MS_DIR_OUT ? "out" : "in",
			 ms_addr_format(&sp->src, s, sizeof(s)), sp->src_len, ms_addr_format(&sp->dst, d, sizeof(d)), sp->dst_len);

	if (sp->icmp6_type && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " proto ipv6-icmp type %u", sp->icmp6_type);
	else if (sp->proto && n > 0 && (size_t)n < len)	/* a masked block (a range) reads "dport 8000/0xffc0": ip xfrm cannot take it */
		snprintf(buf + n, len - (size_t)n, " proto %s%s", ms_exclude_proto_name(sp->proto),
			 ms_sp_port_words(sp, ports, sizeof(ports)));
	return buf;
}

static void conflict_event(struct mesh *m, const char *type, const struct mesh_conflict *c, const char *sel)
{
	char detail[MS_SP_STRLEN + XNL_POLICY_STRLEN + 32];

	snprintf(detail, sizeof(detail), "policy %s: %s %s", sel, c->foreign[0] ? "held by" : "free again;",
		 c->foreign[0] ? c->foreign : "meshsec's installed");
	mesh_event(m, type, mesh_policy_peer(m, &c->sp), detail);
}

/* Looks up what holds each new conflict's selector and says so once (after a commit). */
void mesh_policy_report(struct mesh *m)
{
	for (size_t i = 0; i < m->n_conflicts; i++) {
		struct mesh_conflict *c = &m->conflicts[i];
		struct xnl_policy pol;
		struct ms_error err;
		char sel[MS_SP_STRLEN], words[2 * MS_ADDR_STRLEN + 112];

		if (c->reported)
			continue;
		c->reported = true;
		if (xnl_get_sp(m->xnl, &c->sp, &pol, &err) < 0)
			snprintf(c->foreign, sizeof(c->foreign), "unknown: %.100s", err.msg);
		else
			xnl_policy_format(&pol, c->foreign, sizeof(c->foreign));
		ms_sp_format(&c->sp, sel, sizeof(sel));
		conflict_event(m, "policy_conflict", c, sel);
		if (ms_sp_is_bypass(&c->sp))
			log_warnx("policy %s: another owner's policy holds this selector (%s); meshsec leaves it alone", sel,
				  c->foreign);
		else if (ms_sp_is_exclusion(&c->sp))
			log_warnx("exclusion policy %s%s%s: another owner's policy holds this selector (%s); meshsec leaves it "
				  "alone, and the traffic it selects follows that policy, not the exclusion. If it is stale, delete "
				  "it (ip xfrm policy delete %s): meshsec installs its own within %d s", sel,
				  mesh_policy_peer(m, &c->sp) ? " for peer " : "", mesh_policy_peer(m, &c->sp) ? peer_name(m, &c->sp) : "",
				  c->foreign, ip_words(&c->sp, words, sizeof(words)), CONFLICT_RETRY_MS / 1000);
		else
			log_warnx("policy %s for peer %s: another owner's policy holds this selector (%s); meshsec leaves it alone, "
				  "and traffic with %s follows that policy, not meshsec's. If it is stale, delete it (ip xfrm policy "
				  "delete %s): meshsec installs its own within %d s", sel, peer_name(m, &c->sp), c->foreign,
				  peer_name(m, &c->sp), ip_words(&c->sp, words, sizeof(words)), CONFLICT_RETRY_MS / 1000);
	}
}

/* The planned SP with sp's selector (m->sps is sorted by selector), or NULL. */
struct ms_sp *mesh_planned(struct mesh *m, const struct ms_sp *sp)
{
	return m->n_sps ? bsearch(sp, m->sps, m->n_sps, sizeof(*m->sps), ms_sp_cmp) : NULL;
}

/* Whether the kernel's policy with sp's selector is ours (or there is none: ours goes in). */
static bool kernel_holds_ours(struct mesh *m, const struct ms_sp *sp)
{
	struct xnl_policy pol;
	struct ms_error err;

	if (xnl_get_sp(m->xnl, sp, &pol, &err) < 0) {
		log_debug("policy lookup before a replace: %s", err.msg);
		return true;	/* the replace itself will say what is wrong */
	}
	return !pol.found || (!pol.block && ((pol.n_tmpl == 1 && ms_is_our_reqid(pol.reqid)) || pol.tagged));
}

void mesh_policy_update(struct mesh *m, const struct ms_sp *sp)
{
	if (find_conflict(m, sp))
		return;
	if (!kernel_holds_ours(m, sp)) {	/* replaced behind our back (ip xfrm policy update) */
		mesh_policy_conflict(m, sp);	/* reported by the next commit, under the inventory then in force */
		return;
	}
	xnl_sp_update(m->xnl, sp);
}

/* Every CONFLICT_RETRY_MS: a selector whose foreign policy is gone gets ours. */
void mesh_policy_retry(struct mesh *m, uint64_t now_ms)
{
	size_t tried = 0;

	if (!m->n_conflicts || now_ms < m->conflicts_retry_ms)
		return;
	m->conflicts_retry_ms = now_ms + CONFLICT_RETRY_MS;
	for (size_t i = 0; i < m->n_conflicts;) {
		struct mesh_conflict *c = &m->conflicts[i];
		struct xnl_policy pol;
		struct ms_error err;
		char sel[MS_SP_STRLEN];

		if (xnl_get_sp(m->xnl, &c->sp, &pol, &err) < 0 || pol.found) {
			i++;
			continue;
		}
		log_info("policy %s: the other owner's policy is gone; installing meshsec's", ms_sp_format(&c->sp, sel, sizeof(sel)));
		c->foreign[0] = '\0';
		conflict_event(m, "policy_resolved", c, sel);
		/* What the plan wants now (a reload or a pair's state may have changed it since). */
		xnl_sp_add(m->xnl, mesh_planned(m, &c->sp) ? mesh_planned(m, &c->sp) : &c->sp);
		forget_conflict(m, c);	/* a refusal (it came back) records it again */
		tried++;
	}
	if (tried)
		mesh_commit(m);
	mesh_policy_mark(m);
}

size_t mesh_sync_policies(struct mesh *m, struct ms_sp *have, size_t n_have, struct ms_sp *want, size_t n_want)
{
	size_t i = 0, j = 0, removed = 0;

	if (n_have > 1)
		qsort(have, n_have, sizeof(*have), ms_sp_cmp);
	if (n_want > 1)
		qsort(want, n_want, sizeof(*want), ms_sp_cmp);
	/* Adds first, then deletes: a selector that changes shape is never uncovered in between. */
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0, j = 0; i < n_have || j < n_want;) {
			int c = i == n_have ? 1 : j == n_want ? -1 : ms_sp_cmp(&have[i], &want[j]);
			struct mesh_conflict *k = c <= 0 ? find_conflict(m, &have[i]) : NULL;

			if (c < 0) {
				if (pass == 1 && k)
					forget_conflict(m, k);	/* the other owner's: not ours to delete */
				else if (pass == 1)
					xnl_sp_del(m->xnl, &have[i]), removed++;
				i++;
			} else if (c > 0) {
				if (pass == 0)
					xnl_sp_add(m->xnl, &want[j]);
				j++;
			} else {
				if (k)	/* what goes in once the other owner's is gone; its peer index is the new inventory's */
					k->sp = want[j];
				else if (pass == 0 && (have[i].reqid != want[j].reqid || have[i].priority != want[j].priority ||
						       have[i].shape != want[j].shape))
					mesh_policy_update(m, &want[j]);
				i++, j++;
			}
		}
	}
	return removed;
}
