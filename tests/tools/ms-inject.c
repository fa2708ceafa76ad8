/*
 * ms-inject: sends hostile handshake datagrams to an agent, for the run-time scenarios.
 *
 *   ms-inject forge  ADDR PORT SENDER RECEIVER COUNT   well-framed INITs under a wrong MAC key
 *   ms-inject junk   ADDR PORT COUNT                   random bytes (framing errors)
 *   ms-inject replay ADDR PORT PCAP                    every UDP payload in PCAP sent to ADDR:PORT
 *   ms-inject esp    SRC DST SPI COUNT                 IPv4 ESP with that SPI and garbage inside,
 *                                                      from a forged source address (raw socket)
 *
 * It prints how many datagrams it sent, so a scenario can compare with the agent's counters.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "meshsec/wire.h"

static int sock_to(const char *addr, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)atoi(port));
		*len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)atoi(port));
		*len = sizeof(*s6);
	} else {
		fprintf(stderr, "ms-inject: %s: not an IP address\n", addr);
		return -1;
	}
	return socket(ss->ss_family, SOCK_DGRAM, 0);
}

static int forge(int fd, const struct sockaddr *to, socklen_t tl, const char *sender, const char *receiver, long n)
{
	uint8_t key[MS_KEY_LEN], prev[MS_WIRE_MAC_LEN] = { 0 }, buf[MS_WIRE_MAX];
	struct ms_msg m = { .type = MS_MSG_INIT };
	long sent = 0;

	snprintf(m.sender, sizeof(m.sender), "%s", sender);
	snprintf(m.receiver, sizeof(m.receiver), "%s", receiver);
	for (long i = 0; i < n; i++) {
		size_t len;

		randombytes_buf(key, sizeof(key));
		randombytes_buf(m.eph, sizeof(m.eph));
		randombytes_buf(m.nonce, sizeof(m.nonce));
		randombytes_buf(&m.hs_id, sizeof(m.hs_id));
		randombytes_buf(m.echo, sizeof(m.echo));
		len = ms_wire_encode(&m, key, prev, buf);
		sent += sendto(fd, buf, len, 0, to, tl) == (ssize_t)len;
	}
	printf("%ld\n", sent);
	return 0;
}

static int junk(int fd, const struct sockaddr *to, socklen_t tl, long n)
{
	uint8_t buf[MS_WIRE_MAX + 64];
	long sent = 0;

	for (long i = 0; i < n; i++) {
		size_t len = randombytes_uniform(sizeof(buf)) + 1;

		randombytes_buf(buf, len);
		if (i % 2)
			memcpy(buf, (const uint8_t[]){ 'M', 'S', 'H', MS_WIRE_VERSION }, len < 4 ? len : 4);	/* our magic, then garbage */
		sent += sendto(fd, buf, len, 0, to, tl) == (ssize_t)len;
	}
	printf("%ld\n", sent);
	return 0;
}

/* Finds the UDP payload in an Ethernet frame; 0 if it is not UDP to port. */
static size_t udp_payload(const uint8_t *f, size_t len, uint16_t port, const uint8_t **out)
{
	size_t off = 14, ihl;
	uint16_t et;
	uint8_t proto;

	if (len < off)
		return 0;
	et = (uint16_t)(f[12] << 8 | f[13]);
	if (et == 0x0800 && len >= off + 20) {
		ihl = (size_t)(f[off] & 0xf) * 4;
		proto = f[off + 9];
		off += ihl;
	} else if (et == 0x86dd && len >= off + 40) {
		proto = f[off + 6];
		off += 40;
	} else {
		return 0;
	}
	if (proto != 17 || len < off + 8 || (uint16_t)(f[off + 2] << 8 | f[off + 3]) != port)
		return 0;
	*out = f + off + 8;
	return len - off - 8;
}

static int replay(int fd, const struct sockaddr *to, socklen_t tl, uint16_t port, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t gh[24], rh[16], frame[65536];
	long sent = 0;

	if (!f || fread(gh, 1, sizeof(gh), f) != sizeof(gh)) {
		fprintf(stderr, "ms-inject: %s: %s\n", path, f ? "not a pcap file" : strerror(errno));
		return 1;
	}
	while (fread(rh, 1, sizeof(rh), f) == sizeof(rh)) {
		uint32_t caplen;
		const uint8_t *p;
		size_t n;

		memcpy(&caplen, rh + 8, 4);	/* the capture was written on this host: native order */
		if (caplen > sizeof(frame) || fread(frame, 1, caplen, f) != caplen)
			break;
		if ((n = udp_payload(frame, caplen, port, &p)) > 0)
			sent += sendto(fd, p, n, 0, to, tl) == (ssize_t)n;
	}
	fclose(f);
	printf("%ld\n", sent);
	return 0;
}

/* ESP that fails authentication at the receiver: its SA's integrity counter rises. */
static int esp(const char *src, const char *dst, const char *spi_text, long n)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	uint8_t pkt[20 + 8 + 8 + 48 + 16];
	uint32_t spi = (uint32_t)strtoul(spi_text, NULL, 0), saddr;
	long sent = 0;
	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);	/* IP_HDRINCL: we write the header */

	if (fd < 0 || inet_pton(AF_INET, src, &saddr) != 1 || inet_pton(AF_INET, dst, &to.sin_addr) != 1) {
		fprintf(stderr, "ms-inject esp: need root and two IPv4 addresses\n");
		return 1;
	}
	for (long i = 0; i < n; i++) {
		uint32_t seq = htonl((uint32_t)(1000 + i)), nspi = htonl(spi);

		memset(pkt, 0, 20);
		pkt[0] = 0x45, pkt[8] = 64, pkt[9] = IPPROTO_ESP;	/* length and checksum: the kernel's */
		memcpy(pkt + 12, &saddr, 4);
		memcpy(pkt + 16, &to.sin_addr, 4);
		memcpy(pkt + 20, &nspi, 4);
		memcpy(pkt + 24, &seq, 4);
		randombytes_buf(pkt + 28, sizeof(pkt) - 28);
		sent += sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)sizeof(pkt);
	}
	close(fd);
	printf("%ld\n", sent);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t tl;
	int fd;

	if (sodium_init() < 0 || argc < 5) {
		fprintf(stderr, "usage: ms-inject forge ADDR PORT SENDER RECEIVER COUNT | junk ADDR PORT COUNT | replay ADDR PORT PCAP"
				" | esp SRC DST SPI COUNT\n");
		return 2;
	}
	if (strcmp(argv[1], "esp") == 0 && argc == 6)
		return esp(argv[2], argv[3], argv[4], atol(argv[5]));
	if ((fd = sock_to(argv[2], argv[3], &ss, &tl)) < 0) {
		perror("ms-inject: socket");
		return 1;
	}
	if (strcmp(argv[1], "forge") == 0 && argc == 7)
		return forge(fd, (struct sockaddr *)&ss, tl, argv[4], argv[5], atol(argv[6]));
	if (strcmp(argv[1], "junk") == 0)
		return junk(fd, (struct sockaddr *)&ss, tl, atol(argv[4]));
	if (strcmp(argv[1], "replay") == 0)
		return replay(fd, (struct sockaddr *)&ss, tl, (uint16_t)atoi(argv[3]), argv[4]);
	fprintf(stderr, "ms-inject: unknown mode or wrong arguments: %s\n", argv[1]);
	return 2;
}
