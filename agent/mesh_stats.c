/*
 * The agent's counters, written to the log on SIGUSR1: what arrived, what was dropped and why,
 * and each peer's handshake state.  (The control socket's status will serve the same numbers.)
 */
#include "config.h"

#include <stdio.h>

#include "log.h"
#include "mesh.h"

void mesh_log_stats(const struct mesh *m)
{
	static unsigned report;	/* numbered, so no report is taken for a repeated log line */
	const struct core_stats *s = core_stats(m->core);
	char drops[512];
	size_t off = 0;

	for (int v = 1; v < HS_VERDICT_COUNT; v++) {
		int n = snprintf(drops + off, sizeof(drops) - off, "%s%s %llu", v > 1 ? ", " : "",
				 hs_verdict_name((enum hs_verdict)v), (unsigned long long)s->drops[v]);

		if (n < 0 || (size_t)n >= sizeof(drops) - off)
			break;
		off += (size_t)n;
	}
	report++;
	log_info("stats: datagrams rx %llu tx %llu (send errors %llu); accepted %llu; dropped: %s; kernel errors %llu [report %u]",
		 (unsigned long long)s->rx, (unsigned long long)s->tx, (unsigned long long)s->tx_errors,
		 (unsigned long long)s->drops[HS_ACCEPTED], drops, (unsigned long long)s->kernel_errors, report);
	for (size_t i = 0; i < core_peer_slots(m->core); i++) {
		struct hs_peer_info info;

		if (!core_peer(m->core, (int)i)->used)
			continue;
		core_peer_info(m->core, (int)i, &info);
		log_info("stats: peer %s %s (%s), handshakes %llu, out %#x/%#x in %#x/%#x, bad MAC %llu, replay %llu [report %u]",
			 info.name, info.established ? "up" : "down", hs_state_name(info.state),
			 (unsigned long long)info.handshakes, info.out_spi[0], info.out_spi[1], info.in_spi[0],
			 info.in_spi[1], (unsigned long long)info.drops[HS_DROP_BAD_MAC],
			 (unsigned long long)info.drops[HS_DROP_REPLAY], report);
	}
}
