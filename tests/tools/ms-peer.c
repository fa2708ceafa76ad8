/*
 * ms-peer: a hostile member for the kernel scenarios.  It runs the real node core as one node of
 * the inventory, with the mesh secret, but without a kernel: every inbound SPI it "allocates" and
 * announces is the one given on the command line (for example another owner's SPI on the agent's
 * host, which the agent must leave alone when its add of that SPI fails).
 *
 *   ms-peer INVENTORY SECRET NODE SPI SECONDS
 *
 * It answers and initiates handshakes for SECONDS, then prints its counters.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "meshsec/core.h"
#include "meshsec/inventory.h"
#include "meshsec/secret.h"
#include "meshsec/wire.h"

struct peer {
	int fd;
	uint16_t port;
	uint32_t spi;
	unsigned long announced, sent;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int op_alloc_spi(void *ctx, const struct ms_addr *src, const struct ms_addr *dst, uint32_t reqid, uint32_t *spi)
{
	struct peer *p = ctx;

	(void)src, (void)dst, (void)reqid;
	*spi = p->spi;
	p->announced++;
	return 0;
}

static void op_sa_add(void *ctx, const struct ms_sa *sa) { (void)ctx, (void)sa; }
static void op_sa_del(void *ctx, const struct ms_addr *dst, uint32_t spi) { (void)ctx, (void)dst, (void)spi; }
static int op_commit(void *ctx) { (void)ctx; return 0; }
static int op_dump_sas(void *ctx, struct ms_sa **sas, size_t *n) { (void)ctx; *sas = NULL; *n = 0; return 0; }

static int op_send(void *ctx, const struct ms_addr *to, const uint8_t *buf, size_t len)
{
	struct peer *p = ctx;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(p->port), .sin_addr = to->u.v4 };

	if (to->family != AF_INET)
		return -EAFNOSUPPORT;
	if (sendto(p->fd, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -errno;
	p->sent++;
	return 0;
}

static void op_log(void *ctx, enum core_log level, const char *fmt, va_list ap)
{
	(void)ctx;
	if (level <= CORE_LOG_INFO) {
		fputs("ms-peer: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
	}
}

static const struct core_ops ops = {
	.alloc_spi = op_alloc_spi, .sa_add = op_sa_add, .sa_del = op_sa_del, .commit = op_commit,
	.send = op_send, .dump_sas = op_dump_sas, .log = op_log,
};

int main(int argc, char **argv)
{
	struct ms_inventory *inv;
	struct ms_secret *secret;
	struct ms_error err;
	struct peer p = { .fd = -1 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct core *c;
	uint64_t end;
	int self;

	if (argc != 6) {
		fprintf(stderr, "usage: ms-peer INVENTORY SECRET NODE SPI SECONDS\n");
		return 2;
	}
	if (sodium_init() < 0 || ms_inventory_load(argv[1], &inv, &err) < 0 || ms_secret_load(argv[2], &secret, &err) < 0) {
		fprintf(stderr, "ms-peer: %s\n", err.msg);
		return 1;
	}
	if ((self = ms_inventory_find(inv, argv[3])) < 0 || !inv->nodes[self].v4.family) {
		fprintf(stderr, "ms-peer: %s: no such node with an IPv4 address\n", argv[3]);
		return 1;
	}
	p.spi = (uint32_t)strtoul(argv[4], NULL, 0);
	p.port = inv->port;
	sin.sin_port = htons(inv->port);
	sin.sin_addr = inv->nodes[self].v4.u.v4;
	if ((p.fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 || bind(p.fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("ms-peer: socket");
		return 1;
	}
	if (!(c = core_new(inv, (size_t)self, secret->key, &ops, &p)))
		return 1;
	core_start(c, now_ms());
	for (end = now_ms() + 1000 * strtoull(argv[5], NULL, 10); now_ms() < end;) {
		struct pollfd pfd = { .fd = p.fd, .events = POLLIN };
		uint8_t buf[MS_WIRE_MAX + 1];
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (poll(&pfd, 1, 50) > 0 && (n = recvfrom(p.fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl)) >= 0) {
			struct ms_addr src = { .family = AF_INET, .u.v4 = from.sin_addr };

			core_input(c, &src, buf, (size_t)n, now_ms());
		}
		core_tick(c, now_ms());
	}
	printf("ms-peer: announced SPI %#x %lu times, sent %lu datagrams\n", p.spi, p.announced, p.sent);
	core_free(c);
	ms_secret_free(secret);
	ms_inventory_free(inv);
	close(p.fd);
	return 0;
}
