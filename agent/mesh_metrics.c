/*
 * Prometheus text exposition (format 0.0.4), rendered from the same view as status so both
 * always agree, plus the agent's drop counters and the kernel's /proc/net/xfrm_stat.  Served
 * by `meshsec metrics` and by the optional HTTP listener.
 */
#include "config.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh_view.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per peer of a counter the view holds at offset off. */
static void per_peer(FILE *f, const struct mesh_view *v, const char *name, size_t off, const char *label)
{
	for (size_t i = 0; i < v->n; i++)
		fprintf(f, "%s{peer=\"%s\"%s} %llu\n", name, v->peers[i].name, label,
			(unsigned long long)*(const uint64_t *)((const char *)&v->peers[i] + off));
}

/* XfrmInNoStates 0 ... one counter per line; absent without CONFIG_XFRM_STATISTICS. */
static void xfrm_stat(FILE *f)
{
	FILE *in = fopen("/proc/net/xfrm_stat", "r");
	char name[64];
	unsigned long long val;

	if (!in)
		return;
	family(f, "meshsec_kernel_xfrm_stat", "counter", "the kernel's /proc/net/xfrm_stat counters (all IPsec on this node)");
	while (fscanf(in, "%63s %llu", name, &val) == 2)
		fprintf(f, "meshsec_kernel_xfrm_stat{counter=\"%s\"} %llu\n", name, val);
	fclose(in);
}

static void agent_counters(FILE *f, const struct core_stats *st)
{
	family(f, "meshsec_datagrams_total", "counter", "handshake and keepalive datagrams");
	fprintf(f, "meshsec_datagrams_total{direction=\"in\"} %llu\nmeshsec_datagrams_total{direction=\"out\"} %llu\n",
		(unsigned long long)st->rx, (unsigned long long)st->tx);
	family(f, "meshsec_dropped_total", "counter", "incoming datagrams dropped, by reason");
	for (int r = 1; r < HS_VERDICT_COUNT; r++)
		fprintf(f, "meshsec_dropped_total{reason=\"%s\"} %llu\n", hs_verdict_name((enum hs_verdict)r),
			(unsigned long long)st->drops[r]);
	family(f, "meshsec_kernel_errors_total", "counter", "kernel requests refused");
	fprintf(f, "meshsec_kernel_errors_total %llu\n", (unsigned long long)st->kernel_errors);
}

/* One sample per peer that is not up: alert on it, and read the code for why. */
static void reasons(FILE *f, const struct mesh_view *v)
{
	family(f, "meshsec_peer_reason", "gauge", "1 for each peer that is not up, or up with its ESP blocked, labelled with why (agent/CONTROL.md, Reasons)");
	for (size_t i = 0; i < v->n; i++)
		if (v->peers[i].why.code != CORE_REASON_NONE)
			fprintf(f, "meshsec_peer_reason{peer=\"%s\",code=\"%s\"} 1\n", v->peers[i].name,
				core_reason_code(v->peers[i].why.code));
}

/* Info-style: compare a fleet's secrets and inventories with one query. */
static void info(FILE *f, struct mesh *m)
{
	char digest[2 * MS_DIGEST_LEN + 1];

	sodium_bin2hex(digest, sizeof(digest), core_digest(m->core), MS_DIGEST_LEN);
	family(f, "meshsec_info", "gauge", "always 1; the labels say which mesh, node, secret (fingerprint) and inventory");
	fprintf(f, "meshsec_info{mesh=\"%s\",node=\"%s\",secret_fingerprint=\"%s\",inventory_digest=\"%s\"} 1\n",
		m->conf.inv->mesh_name, m->conf.inv->nodes[m->conf.self].name, m->fingerprint, digest);
}

char *mesh_metrics_text(struct mesh *m)
{
	static const enum peer_state states[] = { PEER_UP, PEER_CONNECTING, PEER_DOWN };
	struct mesh_view v;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	if (mesh_view_collect(m, NULL, &v) < 0)
		return NULL;
	if (!(f = open_memstream(&text, &len))) {
		mesh_view_free(&v);
		return NULL;
	}
	family(f, "meshsec_peers", "gauge", "peers by state");
	for (size_t s = 0; s < 3; s++)
		fprintf(f, "meshsec_peers{state=\"%s\"} %zu\n", peer_state_name(states[s]), v.count[states[s]]);
	family(f, "meshsec_peer_up", "gauge", "1 when the pair has SAs in both directions and the peer is alive");
	for (size_t i = 0; i < v.n; i++)
		fprintf(f, "meshsec_peer_up{peer=\"%s\"} %d\n", v.peers[i].name, v.peers[i].state == PEER_UP);
	family(f, "meshsec_pairs_traffic", "gauge", "pairs by what happens to their traffic now: encrypted (up), "
	       "clear (prefer mode, not up), dropped (require mode, not up), foreign (another owner's policy decides)");
	for (int t = MESH_ENCRYPTED; t <= MESH_FOREIGN; t++)
		fprintf(f, "meshsec_pairs_traffic{traffic=\"%s\"} %zu\n", mesh_traffic_name((enum mesh_traffic)t), v.traffic[t]);
	family(f, "meshsec_pairs_clear", "gauge", "pairs whose traffic passes in clear (prefer mode): 0 before flipping to require");
	fprintf(f, "meshsec_pairs_clear %zu\n", v.traffic[MESH_CLEAR]);
	family(f, "meshsec_peer_clear", "gauge", "1 while the pair's traffic passes in clear (prefer mode, not up)");
	for (size_t i = 0; i < v.n; i++)
		fprintf(f, "meshsec_peer_clear{peer=\"%s\",mode=\"%s\"} %d\n", v.peers[i].name, ms_mode_name(v.peers[i].mode),
			v.peers[i].traffic == MESH_CLEAR);
	reasons(f, &v);
	info(f, m);
	family(f, "meshsec_peer_bytes_total", "counter", "bytes through the pair's current SAs (kernel counters)");
	per_peer(f, &v, "meshsec_peer_bytes_total", offsetof(struct peer_view, in_bytes), ",direction=\"in\"");
	per_peer(f, &v, "meshsec_peer_bytes_total", offsetof(struct peer_view, out_bytes), ",direction=\"out\"");
	family(f, "meshsec_peer_packets_total", "counter", "packets through the pair's current SAs (kernel counters)");
	per_peer(f, &v, "meshsec_peer_packets_total", offsetof(struct peer_view, in_packets), ",direction=\"in\"");
	per_peer(f, &v, "meshsec_peer_packets_total", offsetof(struct peer_view, out_packets), ",direction=\"out\"");
	family(f, "meshsec_peer_handshakes_total", "counter", "handshakes completed with the peer (the first, then rekeys)");
	per_peer(f, &v, "meshsec_peer_handshakes_total", offsetof(struct peer_view, handshakes), "");
	family(f, "meshsec_peer_errors_total", "counter", "datagrams from the peer dropped, and local failures, by kind");
	per_peer(f, &v, "meshsec_peer_errors_total", offsetof(struct peer_view, bad_mac), ",kind=\"bad_mac\"");
	per_peer(f, &v, "meshsec_peer_errors_total", offsetof(struct peer_view, replay), ",kind=\"replay\"");
	per_peer(f, &v, "meshsec_peer_errors_total", offsetof(struct peer_view, failed), ",kind=\"failed\"");
	agent_counters(f, core_stats(m->core));
	xfrm_stat(f);
	mesh_view_free(&v);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
