/* Shared between the mesh_*.c files; not for other modules. */
#ifndef MESHSEC_MESH_INTERNAL_H
#define MESHSEC_MESH_INTERNAL_H

#include "mesh.h"

/*
 * Queues what turns the SPs in have into want (sorted in place): adds, then deletes; never a
 * delete of a selector another owner holds (mesh_policies.c).  Returns how many go.
 */
size_t mesh_sync_policies(struct mesh *m, struct ms_sp *have, size_t n_have, struct ms_sp *want, size_t n_want);
/* A policy of ours the kernel refused with EEXIST: another owner holds the selector. */
void mesh_policy_conflict(struct mesh *m, const struct ms_sp *sp);
/* Logs each new conflict once, with what the foreign policy is (after a commit). */
void mesh_policy_report(struct mesh *m);
/* The peer a policy of the plan concerns, for reports; NULL when node-wide (with every member). */
const char *mesh_policy_peer(const struct mesh *m, const struct ms_sp *sp);
/* Tells the core which peers have a conflict, when that changed. */
void mesh_policy_mark(struct mesh *m);
/* Installs ours where a foreign policy has gone (at most every 30 s). */
void mesh_policy_retry(struct mesh *m, uint64_t now_ms);
/*
 * Queues a replace of one of our policies (UPDPOLICY), after checking that the kernel's policy
 * with that selector is still ours: another owner's is recorded as a conflict, never replaced.
 */
void mesh_policy_update(struct mesh *m, const struct ms_sp *sp);
/* The planned SP (in m->sps, sorted) with sp's selector, or NULL. */
struct ms_sp *mesh_planned(struct mesh *m, const struct ms_sp *sp);
/* True when another owner's policy holds sp's selector. */
bool mesh_policy_conflicted(struct mesh *m, const struct ms_sp *sp);
/*
 * Prefer mode (mesh_mode.c).  apply: gives the prefer pairs' SPs in sps (planned from inv) the
 * shapes of the pairs' current states, returns how many changed; stale: the core says peer went
 * up or down; flush: replaces the outbound SPs whose shape changed since, and commits (and
 * looks at every prefer pair each second anyway).
 */
size_t mesh_mode_apply(struct mesh *m, const struct ms_inventory *inv, size_t self, struct ms_sp *sps, size_t n);
void mesh_mode_stale(struct mesh *m, const char *peer);
void mesh_mode_flush(struct mesh *m, uint64_t now_ms);
/* After m->sps is replaced: whether any pair is in prefer mode (flush then runs every tick). */
void mesh_mode_planned(struct mesh *m);
/*
 * At start, before the SPs go in: a prefer pair with an outbound SA from before keeps using it,
 * if the kernel's outbound policy (in have, sorted here) already did: its ESP was verified.
 */
void mesh_mode_adopted(struct mesh *m, const struct ms_sa *sas, size_t n, struct ms_sp *have, size_t n_have);
/* Sends the queued kernel requests, reads every ACK, logs failures; returns how many failed. */
int mesh_commit(struct mesh *m);
/* The kernel's tagged SAs, sorted for core_sa_find. */
int mesh_dump_sas(struct mesh *m, struct ms_sa **sas, size_t *n, struct ms_error *err);

#endif
