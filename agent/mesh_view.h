/*
 * A snapshot of the mesh for status and metrics: collected once per request, rendered as the
 * status document (mesh_status_text, agent/CONTROL.md) or as Prometheus text (mesh_metrics.c).
 * Pointers refer to the mesh; use the view before the mesh changes (same event-loop turn).
 */
#ifndef MESHSEC_MESH_VIEW_H
#define MESHSEC_MESH_VIEW_H

#include "mesh.h"

/*
 * What happens to the pair's traffic now: ESP (up), clear (prefer, not up), dropped (require, not
 * up), or foreign (another owner's policy holds one of the pair's selectors and decides).
 */
enum mesh_traffic { MESH_ENCRYPTED, MESH_CLEAR, MESH_DROPPED, MESH_FOREIGN };
const char *mesh_traffic_name(enum mesh_traffic t);

struct peer_view {
	const char *name;
	const struct ms_addr *v4, *v6;
	enum peer_state state;
	double since_s, handshake_age_s, seen_age_s, rtt_ms;	/* < 0: never */
	uint64_t handshakes, in_bytes, in_packets, out_bytes, out_packets;
	uint32_t in_spi[2], out_spi[2];
	bool have_digest, drift;
	uint8_t digest[MS_DIGEST_LEN];
	uint64_t bad_mac, replay, failed;
	struct core_why why;			/* code CORE_REASON_NONE when up */
	enum ms_mode mode;			/* the pair's (model.h) */
	enum mesh_traffic traffic;
};

struct mesh_view {
	size_t count[3], total, drifted;	/* over every peer */
	size_t traffic[4];			/* pairs by enum mesh_traffic */
	double uptime_s;
	size_t n;				/* the peers asked for (all, or the one named) */
	struct peer_view *peers;
};

int mesh_view_collect(struct mesh *m, const char *only_peer, struct mesh_view *v);
void mesh_view_free(struct mesh_view *v);

/* The status document as JSON text (malloc'd), or only its "peers" member when peers_only. */
char *mesh_status_text(struct mesh *m, const struct mesh_view *v, bool peers_only);

#endif
