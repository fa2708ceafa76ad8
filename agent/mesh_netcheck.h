/* netcheck in the agent (mesh_netcheck.c): the ESP probe sockets, answering, and runs. */
#ifndef MESHSEC_MESH_NETCHECK_H
#define MESHSEC_MESH_NETCHECK_H

#include "ctl_server.h"
#include "mesh.h"
#include "meshsec/probe.h"

/* After the mesh's UDP sockets are open; on failure netcheck is unavailable, the mesh runs. */
void mesh_netcheck_open(struct mesh *m);
/* Answers the runs under way ("the agent is stopping") and closes the sockets. */
void mesh_netcheck_close(struct mesh *m);
/* A PROBE or PROBE_REPLY from `from`, received on the mesh socket (clear) or the ESP one. */
void mesh_netcheck_input(struct mesh *m, enum ms_probe_channel ch, const struct ms_addr *from, const uint8_t *buf, size_t len);
/*
 * After a reload changed the core's peers (before anything is sent again): the runs whose peer
 * was removed, or whose address changed, end with that answer.  A run never sends to an address
 * that lost its policies (the ESP channel's socket would send in the clear).
 */
void mesh_netcheck_reloaded(struct mesh *m);
/*
 * Starts an ESP check of core peer id (an up pair): ESP probes only, done once one went out and
 * its answer came back, both as ESP; its end goes to mesh_espcheck_done.  0, -EBUSY when every
 * check slot is taken, -ENOTSUP without the family's ESP socket, -ENOMEM.
 */
int mesh_netcheck_verify(struct mesh *m, int id);
/* The control request "netcheck" (ctl_deferred_fn; ctx is the mesh). */
enum ms_ctl_result mesh_netcheck_request(void *ctx, const struct ms_ctl_req *req, struct ctl_deferred *d, json_t *resp);

#endif
