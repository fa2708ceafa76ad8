/*
 * Prometheus text exposition (format 0.0.4), made from the status document so both always
 * agree, plus the kernel's /proc/net/xfrm_stat counters.  Served by `meshsec metrics` and by
 * the optional HTTP listener.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mesh.h"

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static long long num(json_t *o, const char *a, const char *b)
{
	json_t *v = json_object_get(o, a);

	return (long long)json_integer_value(b ? json_object_get(v, b) : v);
}

static void per_peer(FILE *f, json_t *peers, const char *name, const char *a, const char *b, const char *label)
{
	size_t i;
	json_t *p;

	json_array_foreach(peers, i, p)
		fprintf(f, "%s{peer=\"%s\"%s} %lld\n", name, json_string_value(json_object_get(p, "name")), label, num(p, a, b));
}

/* XfrmInNoStates 0 ... one counter per line; absent without CONFIG_XFRM_STATISTICS. */
static void xfrm_stat(FILE *f)
{
	FILE *in = fopen("/proc/net/xfrm_stat", "r");
	char name[64];
	unsigned long long v;

	if (!in)
		return;
	family(f, "meshsec_kernel_xfrm_stat", "counter", "the kernel's /proc/net/xfrm_stat counters (all IPsec on this node)");
	while (fscanf(in, "%63s %llu", name, &v) == 2)
		fprintf(f, "meshsec_kernel_xfrm_stat{counter=\"%s\"} %llu\n", name, v);
	fclose(in);
}

json_t *mesh_metrics_text(struct mesh *m)
{
	static const char *const states[] = { "up", "connecting", "down" };
	json_t *doc = mesh_status_json(m, NULL), *peers = json_object_get(doc, "peers"), *p, *out;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		json_decref(doc);
		return json_string("");
	}
	family(f, "meshsec_peers", "gauge", "peers by state");
	for (size_t s = 0; s < 3; s++)
		fprintf(f, "meshsec_peers{state=\"%s\"} %lld\n", states[s], num(doc, "counts", states[s]));
	family(f, "meshsec_peer_up", "gauge", "1 when the pair has SAs in both directions");
	json_array_foreach(peers, i, p)
		fprintf(f, "meshsec_peer_up{peer=\"%s\"} %d\n", json_string_value(json_object_get(p, "name")),
			strcmp(json_string_value(json_object_get(p, "state")), "up") == 0);
	family(f, "meshsec_peer_bytes_total", "counter", "bytes through the pair's current SAs (kernel counters)");
	per_peer(f, peers, "meshsec_peer_bytes_total", "in", "bytes", ",direction=\"in\"");
	per_peer(f, peers, "meshsec_peer_bytes_total", "out", "bytes", ",direction=\"out\"");
	family(f, "meshsec_peer_packets_total", "counter", "packets through the pair's current SAs (kernel counters)");
	per_peer(f, peers, "meshsec_peer_packets_total", "in", "packets", ",direction=\"in\"");
	per_peer(f, peers, "meshsec_peer_packets_total", "out", "packets", ",direction=\"out\"");
	family(f, "meshsec_peer_handshakes_total", "counter", "handshakes completed with the peer (the first, then rekeys)");
	per_peer(f, peers, "meshsec_peer_handshakes_total", "handshakes", NULL, "");
	family(f, "meshsec_peer_errors_total", "counter", "handshake datagrams from the peer dropped, by kind");
	per_peer(f, peers, "meshsec_peer_errors_total", "errors", "bad_mac", ",kind=\"bad_mac\"");
	per_peer(f, peers, "meshsec_peer_errors_total", "errors", "replay", ",kind=\"replay\"");
	per_peer(f, peers, "meshsec_peer_errors_total", "errors", "failed", ",kind=\"failed\"");
	family(f, "meshsec_datagrams_total", "counter", "handshake datagrams");
	fprintf(f, "meshsec_datagrams_total{direction=\"in\"} %llu\nmeshsec_datagrams_total{direction=\"out\"} %llu\n",
		(unsigned long long)m->st.rx, (unsigned long long)m->st.tx);
	family(f, "meshsec_dropped_total", "counter", "incoming handshake datagrams dropped, by reason");
	for (int v = 1; v < HS_VERDICT_COUNT; v++)
		fprintf(f, "meshsec_dropped_total{reason=\"%s\"} %llu\n", hs_verdict_name((enum hs_verdict)v),
			(unsigned long long)m->st.drops[v]);
	fprintf(f, "meshsec_dropped_total{reason=\"rate limited\"} %llu\nmeshsec_dropped_total{reason=\"spoofed source\"} %llu\n",
		(unsigned long long)m->st.rate_limited, (unsigned long long)m->st.spoofed);
	family(f, "meshsec_kernel_errors_total", "counter", "kernel requests refused");
	fprintf(f, "meshsec_kernel_errors_total %llu\n", (unsigned long long)m->st.kernel_errors);
	xfrm_stat(f);
	fclose(f);
	out = json_stringn(text, len);
	free(text);
	json_decref(doc);
	return out;
}
