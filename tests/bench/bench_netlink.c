/*
 * Kernel programming cost: installs N objects through common/host/xnl.c's batched requests (N/2
 * SPs and N/2 SAs, as for N/4 peers; or, with "sp", N SPs for kernels without ESP), dumps them
 * back, and deletes them.  Prints microseconds per object for each step.  Needs root and XFRM
 * (run it in a scratch network namespace: the kernel bed's "bench" scenario does).
 *
 * usage: bench_netlink [N [sp]]   (default 2000)
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "meshsec/xnl.h"

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void v4(struct ms_addr *a, uint32_t host)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	host = htonl(host);
	memcpy(a->u.raw, &host, 4);
}

static void report(const char *what, size_t n, double t0)
{
	double us = now_us() - t0;

	printf("%-28s %6zu objects  %8.1f ms  %6.2f us/object\n", what, n, us / 1e3, us / (double)n);
}

static int commit(struct xnl *x, const char *what, size_t n, double t0)
{
	struct ms_error err;

	if (xnl_commit(x, &err) != 0) {
		fprintf(stderr, "bench_netlink: %s: %s\n", what, err.msg);
		return -1;
	}
	report(what, n, t0);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 2000, n_sp, n_sa, got_sp = 0, got_sa = 0;
	int sp_only = argc > 2 && strcmp(argv[2], "sp") == 0;
	struct ms_sp *sps, *dsp = NULL;
	struct ms_sa *sas, *dsa = NULL;
	uint8_t key[MS_CIPHER_KEY_MAX];
	struct ms_addr self;
	struct ms_error err;
	struct xnl *x;
	double t0;

	n_sp = sp_only ? n : n / 2;
	n_sa = sp_only ? 0 : n / 2;
	sps = calloc(n_sp + 1, sizeof(*sps));
	sas = calloc(n_sa + 1, sizeof(*sas));
	if (sodium_init() < 0 || !sps || !sas || n < 4 || xnl_open(&x, &err) < 0) {
		fprintf(stderr, "bench_netlink: cannot start (root and XFRM needed)\n");
		return 1;
	}
	randombytes_buf(key, sizeof(key));
	v4(&self, 0x0a4d0001);
	for (size_t i = 0; i < n_sp / 2; i++) {
		struct ms_addr peer;

		v4(&peer, 0x0a500000 + (uint32_t)i + 1);
		/* The agent's layout: out any -> peer, in peer -> any. */
		sps[2 * i] = (struct ms_sp){ .dir = MS_DIR_OUT, .dst = peer, .dst_len = 32, .reqid = MS_REQID_MIN + (uint32_t)i,
					     .priority = MS_SP_PRIORITY };
		sps[2 * i + 1] = (struct ms_sp){ .dir = MS_DIR_IN, .src = peer, .src_len = 32, .reqid = MS_REQID_MIN + (uint32_t)i,
						 .priority = MS_SP_PRIORITY };
		sps[2 * i].src.family = sps[2 * i + 1].dst.family = AF_INET;
	}
	for (size_t i = 0; i < n_sa / 2; i++) {
		sas[2 * i] = (struct ms_sa){ .src = self, .dst = sps[2 * i].dst, .spi = 0x10000 + (uint32_t)i,
					      .reqid = sps[2 * i].reqid, .cipher = MS_CIPHER_AES_GCM_256, .key = key };
		sas[2 * i + 1] = (struct ms_sa){ .src = sps[2 * i].dst, .dst = self, .spi = 0x20000 + (uint32_t)i,
						  .reqid = sps[2 * i].reqid, .cipher = MS_CIPHER_AES_GCM_256, .key = key };
	}
	t0 = now_us();
	for (size_t i = 0; i < n_sp; i++)
		xnl_sp_add(x, &sps[i]);
	if (commit(x, "install_sp (batched)", n_sp, t0) < 0)
		return 1;
	if (n_sa) {
		t0 = now_us();
		for (size_t i = 0; i < n_sa; i++)
			xnl_sa_add(x, &sas[i]);
		if (commit(x, "install_sa (batched)", n_sa, t0) < 0)
			return 1;
	}
	t0 = now_us();
	if (xnl_dump_sp(x, &dsp, &got_sp, &err) < 0 || xnl_dump_sa(x, &dsa, &got_sa, &err) < 0) {
		fprintf(stderr, "bench_netlink: dump: %s\n", err.msg);
		return 1;
	}
	report("dump_all (tagged SPs+SAs)", got_sp + got_sa, t0);
	if (got_sp != n_sp || got_sa != n_sa) {
		fprintf(stderr, "bench_netlink: dumped %zu SPs and %zu SAs, installed %zu and %zu\n", got_sp, got_sa, n_sp, n_sa);
		return 1;
	}
	t0 = now_us();
	for (size_t i = 0; i < n_sp; i++)
		xnl_sp_del(x, &sps[i]);
	for (size_t i = 0; i < n_sa; i++)
		xnl_sa_del(x, &sas[i].dst, sas[i].spi);
	if (commit(x, "delete_all (batched)", n_sp + n_sa, t0) < 0)
		return 1;
	free(dsp);
	free(dsa);
	free(sps);
	free(sas);
	xnl_close(x);
	return 0;
}
