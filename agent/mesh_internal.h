/* Shared between the mesh_*.c files; not for other modules. */
#ifndef MESHSEC_MESH_INTERNAL_H
#define MESHSEC_MESH_INTERNAL_H

#include "mesh.h"

/* Queues what turns the SPs in have into want (sorted in place); returns how many go. */
size_t mesh_sync_policies(struct mesh *m, struct ms_sp *have, size_t n_have, struct ms_sp *want, size_t n_want);
/* Sends the queued kernel requests, reads every ACK, logs failures; returns how many failed. */
int mesh_commit(struct mesh *m);
/* The kernel's tagged SAs, sorted for core_sa_find. */
int mesh_dump_sas(struct mesh *m, struct ms_sa **sas, size_t *n, struct ms_error *err);

#endif
