/*
 * The per-packet CPU cost of sending UDP datagrams, for tests/bench/policy-lookup.sh, as the
 * difference between two network namespaces: one holding N XFRM policies and an identical one
 * holding none.  Each sendto() on an unconnected socket routes the packet and, when the
 * namespace has out policies, looks the flow up in the SPD (xfrm_lookup); when the packet
 * reaches a local socket of a namespace with in policies, the receive path checks it against
 * them (__xfrm_policy_check).  Over veth that receive runs in the sender's softirq, so the
 * sender's thread CPU time covers both (the kernel has no IRQ time accounting here; where it
 * has, the input figures shrink to the sender's part).  Runs alternate between the two
 * namespaces (A B B A ...) so that a loaded machine's drift cancels out of the differences.
 * Figures only; judges nothing.
 *
 * usage: bench_policy_lookup pair NS_A NS_B SRC DST PORT CHUNK PAIRS
 *            a socket bound to SRC in each named namespace (/run/netns/NAME), an untimed warm-up,
 *            then PAIRS pairs of runs of CHUNK datagrams to DST:PORT (IPv4 or IPv6); prints
 *            "a_ns=M b_ns=M diff_ns=D diff_lo=P25 diff_hi=P75 errors=E" in thread CPU ns per
 *            packet: the medians of A's and B's runs, and the median and quartiles of the
 *            pairwise differences B - A; E failed sendto calls (then errno=NAME of the first)
 *        bench_policy_lookup probe SRC DST PORT
 *            one datagram; prints "ok" or the errno's name (EPERM: a block policy matched)
 *        bench_policy_lookup sink ADDR PORT
 *            binds a socket with the smallest receive buffer and never reads it, so datagrams
 *            are checked against the in policies and then dropped; runs until killed
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 1001

struct endpoint {
	struct sockaddr_storage ss;
	socklen_t len;
};

static int parse_endpoint(const char *addr, const char *port, struct endpoint *ep)
{
	char *end;
	unsigned long p = strtoul(port, &end, 10);

	if (*end || p > 65535)
		return -1;
	memset(ep, 0, sizeof(*ep));
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ep->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ep->ss;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		ep->len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		ep->len = sizeof(*in6);
		return 0;
	}
	return -1;
}

static int open_bound(const struct endpoint *local)
{
	int fd = socket(local->ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		perror("socket");
		return -1;
	}
	if (bind(fd, (const struct sockaddr *)&local->ss, local->len) < 0) {
		perror("bind");
		close(fd);
		return -1;
	}
	return fd;
}

static long long ns_of(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* One run: PACKETS datagrams; returns the thread CPU ns it took; counts failed sendto calls. */
static long long run(int fd, const struct endpoint *dst, long packets, long *errors, int *first_errno)
{
	static const char payload[32] = "meshsec policy lookup bench";
	struct timespec c0, c1;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
	for (long i = 0; i < packets; i++) {
		if (sendto(fd, payload, sizeof(payload), 0, (const struct sockaddr *)&dst->ss, dst->len) < 0) {
			if (!*first_errno)
				*first_errno = errno;
			(*errors)++;
		}
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
	return ns_of(&c1) - ns_of(&c0);
}

/* A socket bound to LOCAL in the network namespace NAME (this thread moves there and stays). */
static int open_in(const char *name, const struct endpoint *local)
{
	char path[256];

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	int nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0 || setns(nsfd, CLONE_NEWNET) < 0) {
		fprintf(stderr, "bench_policy_lookup: entering %s: %s\n", path, strerror(errno));
		if (nsfd >= 0)
			close(nsfd);
		return -1;
	}
	close(nsfd);
	return open_bound(local);
}

static double quantile(long long *v, long n, double q, double per)
{
	qsort(v, (size_t)n, sizeof(v[0]), cmp_ll);
	return v[(long)(q * (double)(n - 1) + 0.5)] / per;
}

static int cmd_pair(char **argv)
{
	struct endpoint src, dst;
	char *end, *end2;
	long chunk = strtol(argv[6], &end, 10), pairs = strtol(argv[7], &end2, 10);

	if (parse_endpoint(argv[3], "0", &src) < 0 || parse_endpoint(argv[4], argv[5], &dst) < 0 ||
	    src.ss.ss_family != dst.ss.ss_family || *end || *end2 || chunk < 1 || pairs < 1 || pairs > MAX_PAIRS) {
		fprintf(stderr, "bench_policy_lookup pair: bad arguments (PAIRS at most %d)\n", MAX_PAIRS);
		return 2;
	}
	int fd[2] = {open_in(argv[1], &src), -1};
	if (fd[0] >= 0)
		fd[1] = open_in(argv[2], &src);
	if (fd[1] < 0) {
		if (fd[0] >= 0)
			close(fd[0]);
		return 1;
	}
	static long long cpu[2][MAX_PAIRS], diff[MAX_PAIRS];
	long errors = 0, warm_errors = 0;
	int first_errno = 0, warm_errno = 0;
	for (int s = 0; s < 2; s++)
		run(fd[s], &dst, chunk, &warm_errors, &warm_errno);
	for (long p = 0; p < pairs; p++) {
		for (int k = 0; k < 2; k++) {
			int s = (int)((p + k) & 1); /* A B, B A, A B, ... */
			cpu[s][p] = run(fd[s], &dst, chunk, &errors, &first_errno);
		}
		diff[p] = cpu[1][p] - cpu[0][p];
	}
	close(fd[0]);
	close(fd[1]);
	double per = (double)chunk;
	printf("a_ns=%.0f b_ns=%.0f diff_ns=%.0f diff_lo=%.0f diff_hi=%.0f errors=%ld", quantile(cpu[0], pairs, 0.5, per),
	       quantile(cpu[1], pairs, 0.5, per), quantile(diff, pairs, 0.5, per), quantile(diff, pairs, 0.25, per),
	       quantile(diff, pairs, 0.75, per), errors);
	if (errors)
		printf(" errno=%s", strerrorname_np(first_errno) ? strerrorname_np(first_errno) : "?");
	printf("\n");
	return 0;
}

static int cmd_probe(char **argv)
{
	struct endpoint src, dst;

	if (parse_endpoint(argv[1], "0", &src) < 0 || parse_endpoint(argv[2], argv[3], &dst) < 0 ||
	    src.ss.ss_family != dst.ss.ss_family) {
		fprintf(stderr, "bench_policy_lookup probe: bad arguments\n");
		return 2;
	}
	int fd = open_bound(&src);
	if (fd < 0)
		return 1;
	if (sendto(fd, "probe", 5, 0, (const struct sockaddr *)&dst.ss, dst.len) < 0) {
		const char *name = strerrorname_np(errno);
		printf("%s\n", name ? name : "error");
	} else {
		printf("ok\n");
	}
	close(fd);
	return 0;
}

static int cmd_sink(char **argv)
{
	struct endpoint local;

	if (parse_endpoint(argv[1], argv[2], &local) < 0) {
		fprintf(stderr, "bench_policy_lookup sink: bad arguments\n");
		return 2;
	}
	int fd = open_bound(&local);
	if (fd < 0)
		return 1;
	int one = 1; /* the kernel rounds it up to its minimum */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &one, sizeof(one));
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	if (argc == 9 && !strcmp(argv[1], "pair"))
		return cmd_pair(argv + 1);
	if (argc == 5 && !strcmp(argv[1], "probe"))
		return cmd_probe(argv + 1);
	if (argc == 4 && !strcmp(argv[1], "sink"))
		return cmd_sink(argv + 1);
	fprintf(stderr, "usage: bench_policy_lookup pair NS_A NS_B SRC DST PORT CHUNK PAIRS\n"
			"       bench_policy_lookup probe SRC DST PORT\n"
			"       bench_policy_lookup sink ADDR PORT\n");
	return 2;
}
