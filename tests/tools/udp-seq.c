/*
 * udp-seq: a numbered UDP stream for counting loss exactly across kernel changes.
 *
 *   udp-seq send ADDR PORT RATE SECONDS   connected socket, RATE datagrams/s; prints "sent N"
 *                                         (SECONDS 0: until SIGINT or SIGTERM)
 *   udp-seq recv PORT IDLE_MS             until IDLE_MS without a datagram (after the first);
 *                                         prints "received R of N, lost L, send errors E"
 *
 * Unlike ping, nothing is in flight when the figures are taken: the receiver waits out the
 * stream, and the last datagram carries the number sent.  The sender's socket is connected,
 * so the kernel caches its route and IPsec bundle: the path a long-lived flow takes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct dgram {
	uint32_t seq;		/* 1.. ; 0 marks the final datagram */
	uint32_t total;		/* in the final one: how many were sent */
	uint32_t errors;	/* in the final one: sends the kernel refused */
};

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int usage(void)
{
	fprintf(stderr, "usage: udp-seq send ADDR PORT RATE SECONDS | udp-seq recv PORT IDLE_MS\n");
	return 2;
}

static int do_send(const char *addr, const char *port, long rate, long seconds)
{
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	struct dgram d = { 0 };
	uint64_t start, gap = 1000000000ull / (uint64_t)rate;
	uint32_t n = seconds ? (uint32_t)(rate * seconds) : (1u << 24) - 1, errors = 0, sent = 0;
	struct sigaction sa = { .sa_handler = on_stop };
	int fd, rc = getaddrinfo(addr, port, &hints, &ai);

	if (rc != 0) {
		fprintf(stderr, "udp-seq: %s: %s\n", addr, gai_strerror(rc));
		return 1;
	}
	fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		fprintf(stderr, "udp-seq: %s to %s port %s: %s\n", fd < 0 ? "socket" : "connect", addr, port,
			strerror(errno));
		freeaddrinfo(ai);
		return 1;
	}
	freeaddrinfo(ai);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: a signal ends the sleep at once */
	sigaction(SIGTERM, &sa, NULL);
	start = now_ns();
	for (uint32_t i = 1; i <= n && !stop; i++) {
		uint64_t due = start + (i - 1) * gap, t = now_ns();

		if (due > t) {
			struct timespec ts = { .tv_sec = (time_t)((due - t) / 1000000000ull),
					       .tv_nsec = (long)((due - t) % 1000000000ull) };
			nanosleep(&ts, NULL);
		}
		if (stop)
			break;
		d.seq = htonl(i);
		if (send(fd, &d, sizeof(d), 0) < 0)
			errors++;
		sent = i;
	}
	n = sent;
	/* The trailer, a few times (the receiver keeps the first): it counts as no datagram. */
	d.seq = 0, d.total = htonl(n), d.errors = htonl(errors);
	for (int k = 0; k < 5; k++) {
		send(fd, &d, sizeof(d), 0);
		usleep(20000);
	}
	printf("sent %u, send errors %u\n", n, errors);
	return 0;
}

static int do_recv(const char *port, long idle_ms)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(port)) };
	uint8_t *seen = calloc(1u << 24, 1);
	uint32_t received = 0, total = 0, errors = 0, dups = 0;
	int fd = socket(AF_INET6, SOCK_DGRAM, 0), off = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (!seen || fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "udp-seq: listening on port %s: %s\n", port, strerror(errno));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (bool first = true;; first = false) {
		struct dgram d;

		if (poll(&p, 1, first ? -1 : (int)idle_ms) <= 0)
			break;
		if (recv(fd, &d, sizeof(d), 0) != (ssize_t)sizeof(d))
			continue;
		d.seq = ntohl(d.seq);
		if (d.seq == 0) {
			total = ntohl(d.total), errors = ntohl(d.errors);
			continue;
		}
		if (d.seq >= (1u << 24))
			continue;
		if (seen[d.seq]++)
			dups++;
		else
			received++;
	}
	free(seen);
	close(fd);
	if (!total) {
		printf("received %u, lost ? (no trailer), duplicates %u\n", received, dups);
		return 1;
	}
	printf("received %u of %u, lost %u, send errors %u, duplicates %u\n", received, total, total - received,
	       errors, dups);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "send") == 0 && atol(argv[4]) > 0 && atol(argv[5]) >= 0 &&
	    atol(argv[4]) * atol(argv[5]) < (1l << 24))
		return do_send(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
	if (argc == 4 && strcmp(argv[1], "recv") == 0 && atol(argv[3]) > 0)
		return do_recv(argv[2], atol(argv[3]));
	return usage();
}
