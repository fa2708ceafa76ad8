/* ESP verification in the agent (mesh_espcheck.c; meshsec/espcheck.h): which pair's ESP passes. */
#ifndef MESHSEC_MESH_ESPCHECK_H
#define MESHSEC_MESH_ESPCHECK_H

#include "mesh.h"
#include "meshsec/probe.h"

/* At start (before reconcile); with --no-esp-verify nothing is checked and every up pair passes. */
void mesh_espcheck_open(struct mesh *m);
void mesh_espcheck_close(struct mesh *m);
/* From the loop's tick, after the core's: follows the pairs' states and starts the checks due. */
void mesh_espcheck_tick(struct mesh *m, uint64_t now_ms);
/* A check of core peer id (named name when it started) ended; res NULL: it was cut short. */
void mesh_espcheck_done(struct mesh *m, int id, const char *name, const struct ms_probe_result *res);
/* At start: the kernel already sent this pair ESP through its SAs from before (the previous agent verified it). */
void mesh_espcheck_adopt(struct mesh *m, int id);
/* ESP passed its check for this pair (the outbound policy of a prefer pair may use it). */
bool mesh_espcheck_passed(struct mesh *m, int id);
/* The pair is up but its ESP failed the check: the reason (code CORE_REASON_NONE otherwise). */
void mesh_espcheck_why(struct mesh *m, int id, struct core_why *w);
bool mesh_espcheck_failed(struct mesh *m, int id);

#endif
