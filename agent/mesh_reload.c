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

static int reload(struct mesh *m, struct ms_error *err, char *done, size_t done_len)
{
	struct ms_inventory *inv, *old;
	struct ms_sp *sps = NULL;
	size_t self, n_sps = 0, removed_sps, added = 0, removed = 0;
	uint8_t digest[MS_DIGEST_LEN];
	char found_by[96];
	int rc;

	if ((rc = conf_load_inventory(&m->paths, &inv, &self, found_by, sizeof(found_by), err)) < 0)
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
	snprintf(done, done_len, "reloaded %s: %zu nodes, %zu peers added, %zu removed, %zu policies removed",
		 m->paths.inventory, inv->n_nodes, added, removed, removed_sps);
	log_info("%s", done);
	return 0;
}

int mesh_reload(struct mesh *m, struct ms_error *err)
{
	char done[512];
	int rc = reload(m, err, done, sizeof(done));

	mesh_event(m, rc < 0 ? "reload_failed" : "reload", NULL, rc < 0 ? err->msg : done);
	return rc;
}
