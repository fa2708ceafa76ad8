/*
 * Kernel programming cost: installs N objects (N/2 SPs and N/2 SAs, as for N/4 dual-direction
 * peers), dumps them back, and deletes them, through agent/xfrm_nl.c's batched requests.
 * Prints microseconds per object for each step: 2,000 objects in all by default.  Needs root and XFRM (run it in a scratch
 * network namespace: the kernel bed's "bench" scenario does).
 *
 * usage: bench_netlink [N]   (default 2000)
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <sodium.h>

#include "xfrm_nl.h"

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

static int step(struct xnl *x, const char *what, size_t n, double t0)
{
	struct ms_error err;
	int rc = xnl_commit(x, &err);

	if (rc != 0) {
		fprintf(stderr, "bench_netlink: %s: %s\n", what, err.msg);
		return -1;
	}
	printf("%-28s %6zu objects  %8.1f ms  %6.2f us/object\n", what, n, (now_us() - t0) / 1e3, (now_us() - t0) / (double)n);
	return 0;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? (size_t)atol(argv[1]) : 2000, pairs = n / 4, got_sp = 0, got_sa = 0;
	struct ms_sp *sps = calloc(pairs * 2, sizeof(*sps)), *dsp = NULL;
	struct xnl_sa *sas = calloc(pairs * 2, sizeof(*sas)), *dsa = NULL;
	uint8_t key[MS_CIPHER_KEY_MAX];
	struct ms_addr self;
	struct ms_error err;
	struct xnl *x;
	double t0;

	if (sodium_init() < 0 || !sps || !sas || pairs == 0 || xnl_open(&x, &err) < 0) {
		fprintf(stderr, "bench_netlink: cannot start (root and XFRM needed)\n");
		return 1;
	}
	randombytes_buf(key, sizeof(key));
	v4(&self, 0x0a4d0001);
	for (size_t i = 0; i < pairs; i++) {
		struct ms_addr peer;
		uint32_t reqid = MS_REQID_MIN + (uint32_t)i;

		v4(&peer, 0x0a500000 + (uint32_t)i + 1);
		sps[2 * i] = (struct ms_sp){ .dir = MS_DIR_OUT, .src = self, .dst = peer, .reqid = reqid, .priority = MS_SP_PRIORITY };
		sps[2 * i + 1] = (struct ms_sp){ .dir = MS_DIR_IN, .src = peer, .dst = self, .reqid = reqid, .priority = MS_SP_PRIORITY };
		sas[2 * i] = (struct xnl_sa){ .src = self, .dst = peer, .spi = 0x10000 + (uint32_t)i, .reqid = reqid,
					      .cipher = MS_CIPHER_AES_GCM_256, .key = key };
		sas[2 * i + 1] = (struct xnl_sa){ .src = peer, .dst = self, .spi = 0x20000 + (uint32_t)i, .reqid = reqid,
						  .cipher = MS_CIPHER_AES_GCM_256, .key = key };
	}
	t0 = now_us();
	for (size_t i = 0; i < pairs * 2; i++)
		xnl_sp_put(x, &sps[i]);
	if (step(x, "install_sp (batched)", pairs * 2, t0) < 0)
		return 1;
	t0 = now_us();
	for (size_t i = 0; i < pairs * 2; i++)
		xnl_sa_add(x, &sas[i]);
	if (step(x, "install_sa (batched)", pairs * 2, t0) < 0)
		return 1;
	t0 = now_us();
	if (xnl_dump_sp(x, &dsp, &got_sp, &err) < 0 || xnl_dump_sa(x, &dsa, &got_sa, &err) < 0) {
		fprintf(stderr, "bench_netlink: dump: %s\n", err.msg);
		return 1;
	}
	printf("%-28s %6zu objects  %8.1f ms  %6.2f us/object\n", "dump_all (tagged SPs+SAs)", got_sp + got_sa,
	       (now_us() - t0) / 1e3, (now_us() - t0) / (double)(got_sp + got_sa));
	if (got_sp != pairs * 2 || got_sa != pairs * 2) {
		fprintf(stderr, "bench_netlink: dumped %zu SPs and %zu SAs, installed %zu of each\n", got_sp, got_sa, pairs * 2);
		return 1;
	}
	t0 = now_us();
	for (size_t i = 0; i < pairs * 2; i++)
		xnl_sp_del(x, &sps[i]);
	for (size_t i = 0; i < pairs * 2; i++)
		xnl_sa_del(x, &sas[i].dst, sas[i].spi);
	if (step(x, "delete_all (batched)", pairs * 4, t0) < 0)
		return 1;
	free(dsp);
	free(dsa);
	free(sps);
	free(sas);
	xnl_close(x);
	return 0;
}
