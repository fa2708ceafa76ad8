/*
 * Handshake CPU cost: two engines in one process complete N handshakes with each other (INIT,
 * RESP, CONFIRM, every SA action carried out against a no-op kernel), and the CPU time spent in
 * each side's engine calls is measured separately.  Prints microseconds per handshake for the
 * initiator and the responder and what that means in handshakes per second per core.
 *
 * usage: bench_handshake [N]   (default 2000)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "meshsec/handshake.h"

static uint32_t next_spi = 0x1000;

static int alloc_spi(void *ctx, int peer, int family, uint32_t *spi)
{
	(void)ctx, (void)peer, (void)family;
	*spi = next_spi++;
	return 0;
}

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The one datagram an action list carries (the benchmark never loses any). */
static int take_send(struct hs_out *out, uint8_t *buf, size_t *len)
{
	int found = 0;

	for (size_t i = 0; i < out->n; i++)
		if (out->act[i].type == HS_ACT_SEND) {
			memcpy(buf, out->act[i].buf, out->act[i].len);
			*len = out->act[i].len;
			found = 1;
		}
	sodium_memzero(out, sizeof(*out));
	return found;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	uint8_t secret[32], buf[MS_WIRE_MAX];
	struct hs_out *out;
	struct hs_engine *a, *b;
	double t_a = 0, t_b = 0, t0;
	uint64_t now = 1000;
	size_t len = 0;
	int pa, pb, peer;

	if (sodium_init() < 0 || n <= 0 || !(out = sodium_malloc(sizeof(*out))))
		return 1;
	sodium_memzero(out, sizeof(*out));
	randombytes_buf(secret, sizeof(secret));
	a = hs_engine_new("bench", "a", MS_CIPHER_AES_GCM_256, secret, alloc_spi, NULL);
	b = hs_engine_new("bench", "b", MS_CIPHER_AES_GCM_256, secret, alloc_spi, NULL);
	pa = hs_peer_add(a, "b", HS_FAM_V4 | HS_FAM_V6);
	pb = hs_peer_add(b, "a", HS_FAM_V4 | HS_FAM_V6);
	if (!a || !b || pa < 0 || pb < 0)
		return 1;
	/* The first INIT learns b's challenge (answered with a CHALLENGE); every later one echoes
	 * the challenge b sent in its last RESP, as between two running agents. */
	hs_initiate(a, pa, now, false, out);
	take_send(out, buf, &len);
	if (hs_receive(b, buf, len, now, out, &peer) != HS_DROP_CHALLENGED || !take_send(out, buf, &len) ||
	    hs_receive(a, buf, len, now, out, &peer) != HS_ACCEPTED)
		return fprintf(stderr, "no challenge exchange\n"), 1;
	sodium_memzero(out, sizeof(*out));
	for (long i = 0; i < n; i++) {
		now += 200;	/* within the responder's reply budget (HS_REPLY_PER_S) */
		t0 = cpu_us();
		hs_initiate(a, pa, now, true, out);			/* INIT */
		t_a += cpu_us() - t0;
		take_send(out, buf, &len);
		t0 = cpu_us();
		if (hs_receive(b, buf, len, now, out, &peer) != HS_ACCEPTED)	/* -> RESP */
			return fprintf(stderr, "INIT refused at %ld\n", i), 1;
		t_b += cpu_us() - t0;
		take_send(out, buf, &len);
		t0 = cpu_us();
		if (hs_receive(a, buf, len, now, out, &peer) != HS_ACCEPTED)	/* -> CONFIRM */
			return fprintf(stderr, "RESP refused at %ld\n", i), 1;
		t_a += cpu_us() - t0;
		take_send(out, buf, &len);
		t0 = cpu_us();
		if (hs_receive(b, buf, len, now, out, &peer) != HS_ACCEPTED)
			return fprintf(stderr, "CONFIRM refused at %ld\n", i), 1;
		t_b += cpu_us() - t0;
		sodium_memzero(out, sizeof(*out));
	}
	printf("handshakes: %ld (dual-stack pair: 4 SAs each side, aes-gcm-256)\n", n);
	printf("initiator CPU: %.1f us per handshake\n", t_a / n);
	printf("responder CPU: %.1f us per handshake\n", t_b / n);
	printf("handshakes per second per core: %.0f (both sides on one core: %.0f)\n",
	       1e6 / (t_a > t_b ? t_a / n : t_b / n), 1e6 / ((t_a + t_b) / n));
	hs_engine_free(a);
	hs_engine_free(b);
	sodium_free(out);
	return 0;
}
