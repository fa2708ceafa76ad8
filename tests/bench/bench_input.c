/*
 * What a hostile datagram costs the node core, by mesh size: forged INITs (a member's name and
 * address, a wrong MAC), datagrams from an unknown sender, and spoofed ones (a member's name
 * from another address), each timed over many calls of core_input.  The cost must not grow
 * with the mesh.  Figures only; judges nothing.
 *
 * usage: bench_input [PEERS...]   (default: 100 10000)
 */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "meshsec/core.h"

#define CALLS 200000

static int op_alloc_spi(void *ctx, const struct ms_addr *src, const struct ms_addr *dst, uint32_t reqid, uint32_t *spi)
{
	(void)ctx, (void)src, (void)dst, (void)reqid, (void)spi;
	return -ENOSYS;
}

static void op_sa_add(void *ctx, const struct ms_sa *sa)
{
	(void)ctx, (void)sa;
}

static void op_sa_del(void *ctx, const struct ms_addr *dst, uint32_t spi)
{
	(void)ctx, (void)dst, (void)spi;
}

static int op_commit(void *ctx)
{
	(void)ctx;
	return 0;
}

static int op_send(void *ctx, const struct ms_addr *to, const uint8_t *buf, size_t len)
{
	(void)ctx, (void)to, (void)buf, (void)len;
	return 0;
}

static int op_dump_sas(void *ctx, struct ms_sa **sas, size_t *n)
{
	(void)ctx;
	*sas = NULL;
	*n = 0;
	return 0;
}

static const struct core_ops ops = {
	.alloc_spi = op_alloc_spi, .sa_add = op_sa_add, .sa_del = op_sa_del, .commit = op_commit,
	.send = op_send, .dump_sas = op_dump_sas,
};

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static size_t forged(const char *sender, uint8_t out[MS_WIRE_MAX])
{
	struct ms_msg m;
	uint8_t key[MS_KEY_LEN], zero[MS_WIRE_MAC_LEN] = { 0 };

	memset(&m, 0, sizeof(m));
	m.type = MS_MSG_INIT;
	snprintf(m.sender, sizeof(m.sender), "%s", sender);
	snprintf(m.receiver, sizeof(m.receiver), "self");
	randombytes_buf(key, sizeof(key));
	randombytes_buf(m.eph, sizeof(m.eph));
	return ms_wire_encode(&m, key, zero, out);
}

static double per_call(struct core *c, const struct ms_addr *src, const uint8_t *buf, size_t len, enum hs_verdict want)
{
	double t0 = cpu_ns();

	for (int i = 0; i < CALLS; i++)
		if (core_input(c, src, buf, len, 1000) != want) {
			fprintf(stderr, "bench_input: unexpected verdict\n");
			exit(1);
		}
	return (cpu_ns() - t0) / CALLS;
}

static int run(size_t peers)
{
	struct ms_inventory inv;
	struct ms_node *nodes = calloc(peers + 1, sizeof(*nodes));
	uint8_t secret[32], buf[MS_WIRE_MAX];
	struct ms_addr other;
	struct core *c;
	size_t len;
	char last[MS_NAME_MAX + 1];

	if (!nodes)
		return 1;
	memset(&inv, 0, sizeof(inv));
	snprintf(inv.mesh_name, sizeof(inv.mesh_name), "bench");
	inv.port = 4801;
	inv.cipher = MS_CIPHER_AES_GCM_256;
	inv.keepalive_s = 10, inv.dead_after_s = 30, inv.rekey_s = 3600;
	inv.rekey_bytes = 1ull << 40, inv.rekey_packets = 1ull << 30;
	for (size_t i = 0; i <= peers; i++) {
		snprintf(nodes[i].name, sizeof(nodes[i].name), i ? "p%zu" : "self", i);
		nodes[i].v4.family = AF_INET;
		nodes[i].v4.u.raw[0] = 10, nodes[i].v4.u.raw[1] = (uint8_t)(i >> 16);
		nodes[i].v4.u.raw[2] = (uint8_t)(i >> 8), nodes[i].v4.u.raw[3] = (uint8_t)i;
	}
	inv.nodes = nodes;
	inv.n_nodes = peers + 1;
	randombytes_buf(secret, sizeof(secret));
	if (!(c = core_new(&inv, 0, secret, &ops, NULL)))
		return 1;
	snprintf(last, sizeof(last), "p%zu", peers);
	len = forged(last, buf);
	printf("forged INIT (member's name and address, wrong MAC), %zu peers: %.0f ns per datagram\n", peers,
	       per_call(c, &nodes[peers].v4, buf, len, HS_DROP_BAD_MAC));
	other = nodes[1].v4;
	printf("spoofed (member's name, another member's address), %zu peers: %.0f ns per datagram\n", peers,
	       per_call(c, &other, buf, len, HS_DROP_SPOOFED));
	len = forged("stranger", buf);
	printf("unknown sender, %zu peers: %.0f ns per datagram\n", peers,
	       per_call(c, &nodes[peers].v4, buf, len, HS_DROP_UNKNOWN_PEER));
	core_free(c);
	free(nodes);
	return 0;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0)
		return 1;
	if (argc < 2)
		return run(100) || run(10000);
	for (int i = 1; i < argc; i++)
		if (run((size_t)atol(argv[i])))
			return 1;
	return 0;
}
