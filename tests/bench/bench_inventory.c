/*
 * Inventory cost against mesh size: for inventories of 100 to 16,384 dual-stack nodes, written
 * to a temporary file, prints the CPU time to load (read, parse, validate), the CPU time of one
 * digest, and the CPU time per call of name and address lookups.  Figures only; it judges nothing.
 *
 * usage: bench_inventory [SIZE...]   (default 100 1000 10000 16384)
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "meshsec/inventory.h"

/* CPU time, as bench_handshake uses: on a shared machine other jobs do not count. */
static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts t; a shared machine makes the best run the steadiest figure, the median the usual one. */
static void sort_runs(double *t, int n)
{
	qsort(t, (size_t)n, sizeof(*t), cmp);
}

/* Node i gets 10.a.b.c (c in 1..250, so never a .0 or .255) and fd00::i+1. */
static int write_inventory(FILE *f, size_t n)
{
	fprintf(f, "{\"version\":1,\"mesh\":{\"name\":\"bench\"},\"nodes\":[\n");
	for (size_t i = 0; i < n; i++)
		fprintf(f, "{\"name\":\"node-%05zu\",\"addresses\":[\"10.%zu.%zu.%zu\",\"fd00::%zx\"]}%s\n", i,
			i / (250 * 256), i / 250 % 256, i % 250 + 1, i + 1, i + 1 < n ? "," : "");
	fprintf(f, "]}\n");
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

/* A fixed pseudo-random order, so lookups do not walk the nodes in memory order. */
static void shuffle(size_t *v, size_t n)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	for (size_t i = n - 1; i > 0; i--) {
		size_t j, t;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		j = (size_t)(x % (i + 1));
		t = v[i], v[i] = v[j], v[j] = t;
	}
}

static int bench_size(size_t n)
{
	enum { RUNS = 5 };
	char path[] = "/tmp/bench_inventory.XXXXXX";
	struct ms_inventory *inv = NULL;
	struct ms_error err;
	double t[RUNS], t0;
	uint8_t digest[MS_DIGEST_LEN];
	size_t calls = n < 200000 ? 200000 : n, *order, found = 0;
	int fd = n ? mkstemp(path) : -1;
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f || write_inventory(f, n) < 0) {
		perror("bench_inventory: temporary file");
		return -1;
	}
	fclose(f);
	for (int r = 0; r < RUNS; r++) {
		ms_inventory_free(inv);
		t0 = now_ns();
		if (ms_inventory_load(path, &inv, &err) != 0) {
			printf("%6zu nodes: load refused: %s\n", n, err.msg);
			unlink(path);
			return 0;
		}
		t[r] = now_ns() - t0;
	}
	unlink(path);
	sort_runs(t, RUNS);
	printf("%6zu nodes: load %8.2f ms (median %8.2f)", n, t[0] / 1e6, t[RUNS / 2] / 1e6);

	for (int r = 0; r < RUNS; r++) {
		t0 = now_ns();
		ms_inventory_digest(inv, digest);
		t[r] = now_ns() - t0;
	}
	sort_runs(t, RUNS);
	printf("  digest %6.2f ms (median %6.2f)", t[0] / 1e6, t[RUNS / 2] / 1e6);

	if (!(order = malloc(n * sizeof(*order))))
		return -1;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	shuffle(order, n);
	t0 = now_ns();
	for (size_t k = 0; k < calls; k++)
		found += ms_inventory_find(inv, inv->nodes[order[k % n]].name) >= 0;
	printf("  find %6.1f ns/call", (now_ns() - t0) / (double)calls);
#ifndef BENCH_NO_FIND_ADDR
	t0 = now_ns();
	for (size_t k = 0; k < calls; k++) {
		const struct ms_node *node = &inv->nodes[order[k % n]];

		found += ms_inventory_find_addr(inv, k & 1 ? &node->v6 : &node->v4) >= 0;
	}
	printf("  find_addr %6.1f ns/call", (now_ns() - t0) / (double)calls);
#endif
	printf("  (%zu calls each)\n", calls);
	free(order);
	ms_inventory_free(inv);
	return found ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 100, 1000, 10000, 16384 };
	int rc = 0;

	printf("inventory (CPU time): load = read + parse + validate, best and median of 5; digest likewise; lookups of present keys\n");
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			rc |= bench_size(strtoul(argv[i], NULL, 10));
	} else {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			rc |= bench_size(sizes[i]);
	}
	return rc ? 1 : 0;
}
