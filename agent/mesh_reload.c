/*
 * Reload: parse the new inventory whole, then apply only what changed.  Pairs whose two nodes
 * are unchanged are not touched: no handshake, no kernel request.  Anything wrong with the new
 * files leaves the running mesh exactly as it was.
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/inventory.h"
#include "meshsec/plan.h"
#include "log.h"
#include "mesh_internal.h"
#include "mesh_netcheck.h"

static bool same_node(const struct ms_node *a, const struct ms_node *b)
{
	return strcmp(a->name, b->name) == 0 && ms_addr_same_slot(&a->v4, &b->v4) && ms_addr_same_slot(&a->v6, &b->v6);
}

/* What a reload cannot change in place (every pair's keys or sockets depend on it). */
static int check_invariants(const struct mesh *m, const struct ms_inventory *inv, size_t self, struct ms_error *err)
{
	const struct ms_inventory *old = m->conf.inv;
	struct ms_secret *s;
	int rc;

	if (strcmp(inv->mesh_name, old->mesh_name) != 0 || inv->port != old->port || inv->cipher != old->cipher)
		return ms_error_set(err, EINVAL, "%s: mesh.name, mesh.port or mesh.cipher changed; every pair depends on them: restart meshsecd on every node to apply",
				    m->paths.inventory);
	if (!same_node(&inv->nodes[self], &old->nodes[m->conf.self]))
		return ms_error_set(err, EINVAL, "%s: this node's own name or addresses changed: restart meshsecd to apply", m->paths.inventory);
	if ((rc = ms_secret_load(m->paths.secret, &s, err)) < 0)
		return ms_error_prefix(err, rc, "the mesh secret is no longer usable (the running mesh keeps its copy)");
	rc = sodium_memcmp(s->key, m->conf.secret->key, MS_SECRET_LEN);
	ms_secret_free(s);
	if (rc != 0)
		return ms_error_set(err, EINVAL, "%s: the mesh secret changed; restart meshsecd on every node to re-key with it",
				    m->paths.secret);
	return 0;
}

/* " (revision 12)" for an etcd value, "" for a file. */
static const char *revision_text(int64_t revision, char *buf, size_t len)
{
	if (revision)
		snprintf(buf, len, " (revision %lld)", (long long)revision);
	else
		buf[0] = '\0';
	return buf;
}

static int reload(struct mesh *m, const struct ms_inv_text *given, struct ms_error *err, char *done, size_t done_len)
{
	struct conf_paths p = m->paths;
	struct ms_inventory *inv, *old;
	struct ms_sp *sps = NULL;
	size_t self, n_sps = 0, removed_sps, added = 0, removed = 0;
	uint8_t digest[MS_DIGEST_LEN];
	char found_by[96], rev[40];
	int rc;

	p.given = given;
	if ((rc = conf_load_inventory(&p, &inv, &self, found_by, sizeof(found_by), err)) < 0)
		return rc;
	if (ms_inventory_digest(inv, digest) < 0)
		rc = ms_error_set(err, ENOMEM, "out of memory");
	else if ((rc = check_invariants(m, inv, self, err)) == 0)
		rc = ms_plan_policies(inv, self, &sps, &n_sps, err);
	if (rc < 0) {
		ms_inventory_free(inv);
		return rc;
	}
	/* A pair in prefer mode keeps the shape its state gives it; a mode change is an SP update. */
	mesh_mode_apply(m, inv, self, sps, n_sps);
	/* Policies first: a new member's traffic is protected (or dropped) before its handshake. */
	removed_sps = mesh_sync_policies(m, m->sps, m->n_sps, sps, n_sps);
	free(m->sps);
	m->sps = sps;
	m->n_sps = n_sps;
	old = m->conf.inv;
	m->conf.inv = inv;	/* before the commit: a conflict reported names its peer by the new plan's index */
	m->conf.self = self;
	mesh_mode_planned(m);
	mesh_commit(m);
	core_set_digest(m->core, digest);
	core_reload(m->core, inv, self, mesh_now_ms(), &added, &removed);
	mesh_netcheck_reloaded(m);	/* before the loop runs again: no probe to a peer whose policies went */
	ms_inventory_free(old);
	m->conflicts_changed = true;	/* peers the core has just added get their conflicts too */
	mesh_policy_mark(m);
	m->source.revision = given->revision;
	snprintf(done, done_len, "reloaded %s%s: %zu nodes, %zu peers added, %zu removed, %zu policies removed",
		 m->paths.inventory, revision_text(given->revision, rev, sizeof(rev)), inv->n_nodes, added, removed, removed_sps);
	log_info("%s", done);
	return 0;
}

int mesh_reload(struct mesh *m, const struct ms_inv_text *given, struct ms_error *err)
{
	struct ms_inv_text own = { 0 };
	char done[512];
	int rc;

	/* Read here, not in conf_load_inventory: the status shows the revision of what runs. */
	if (!given && (rc = ms_inv_source_read(m->paths.inventory, &own, err)) == 0)
		given = &own;
	if (given)
		rc = reload(m, given, err, done, sizeof(done));
	if (rc == 0) {
		m->source.failing_since = 0;
		m->source.unreachable = false;
	} else {
		/* given: the source works, what it holds does not; else it could not be read. */
		if (!m->source.failing_since)
			m->source.failing_since = time(NULL);
		m->source.unreachable = !given;
		if (given && given->revision)
			snprintf(m->source.why, sizeof(m->source.why), "revision %lld refused: %s", (long long)given->revision, err->msg);
		else
			snprintf(m->source.why, sizeof(m->source.why), "%s", err->msg);
	}
	ms_inv_text_free(&own);
	mesh_event(m, rc < 0 ? "reload_failed" : "reload", NULL, rc < 0 ? err->msg : done);
	return rc;
}

void mesh_source_state(struct mesh *m, const char *why)
{
	if (!why) {
		if (m->source.unreachable)
			m->source.failing_since = 0;
		m->source.unreachable = false;
		return;
	}
	if (!m->source.failing_since)
		m->source.failing_since = time(NULL);
	m->source.unreachable = true;
	snprintf(m->source.why, sizeof(m->source.why), "%s", why);
}
