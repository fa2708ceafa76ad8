/* Shared between mesh.c and mesh_reload.c; not for other modules. */
#ifndef MESHSEC_MESH_INTERNAL_H
#define MESHSEC_MESH_INTERNAL_H

#include "mesh.h"

const struct ms_addr *mesh_self_addr(const struct mesh *m, int family);
unsigned mesh_shared_families(const struct mesh *m, const struct ms_node *peer);
/* Sends the queued kernel requests, reads every ACK, logs and counts failures; false on any. */
bool mesh_commit(struct mesh *m);
/* Carries out m->out in order; commits kernel requests before any send. */
void mesh_run_actions(struct mesh *m);
/* Registers a peer with the engine, and starts a handshake with it; returns its id or -errno. */
int mesh_peer_add(struct mesh *m, const struct ms_node *n);
/* Forgets a peer and deletes every SA the mesh has for it. */
void mesh_peer_remove(struct mesh *m, int id);
/* Queues what turns the SPs in have into want (sorted in place); returns how many go. */
size_t mesh_sync_policies(struct mesh *m, struct ms_sp *have, size_t n_have, struct ms_sp *want, size_t n_want);

/*
 * The kernel's tagged SAs sorted by SPI, and one found by SPI (inbound SPIs are unique on a
 * node: the kernel allocated them), so per-peer counters cost a lookup, not a scan.
 */
int mesh_dump_sas(struct mesh *m, struct xnl_sa **sas, size_t *n, struct ms_error *err);
const struct xnl_sa *mesh_sa_by_spi(const struct xnl_sa *sas, size_t n, uint32_t spi);

#endif
