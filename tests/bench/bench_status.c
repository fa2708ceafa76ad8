/*
 * Control-socket latency: asks the agent for `status` N times over its socket (as `meshsec
 * status --json` does, without the process start) and prints the median, 90th percentile and
 * worst round trip in milliseconds, and the size of the answer.
 *
 * usage: bench_status SOCKET [N]   (default 50)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_client.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 50;
	double *t = calloc((size_t)(n > 0 ? n : 1), sizeof(*t));
	size_t peers = 0, bytes = 0;
	struct ms_error err;

	if (argc < 2 || n <= 0 || !t) {
		fprintf(stderr, "usage: bench_status SOCKET [N]\n");
		return 2;
	}
	for (int i = 0; i < n; i++) {
		json_t *resp;
		double t0 = now_ms();

		if (ctl_call(argv[1], json_pack("{s:s}", "request", "status"), &resp, &err) != 0) {
			fprintf(stderr, "bench_status: %s\n", err.msg);
			return 1;
		}
		t[i] = now_ms() - t0;
		peers = json_array_size(json_object_get(resp, "peers"));
		if (i == 0) {
			char *s = json_dumps(resp, JSON_COMPACT);

			bytes = s ? strlen(s) : 0;
			free(s);
		}
		json_decref(resp);
	}
	qsort(t, (size_t)n, sizeof(*t), cmp);
	printf("status over the socket: %zu peers, %zu bytes, %d requests: median %.2f ms, p90 %.2f ms, max %.2f ms\n",
	       peers, bytes, n, t[n / 2], t[n * 9 / 10], t[n - 1]);
	free(t);
	return 0;
}
