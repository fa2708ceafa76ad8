/*
 * libFuzzer harness: the handshake decoder and engine, on any datagram.  The first byte picks
 * how the rest is delivered to node "b" (peer "a"):
 *   0: as it is (framing and MAC checks);
 *   1: with its last 32 bytes replaced by a valid INIT MAC, so bodies reach the state machine;
 *   2: after b has sent its own INIT, with that INIT's hs_id and MAC'd as an answer to it (a RESP
 *      or a CHALLENGE: reaches the initiator's side);
 *   3: after b has answered a real INIT from "a" (challenge round included), with that hs_id and
 *      MAC'd as a CONFIRM to b's RESP (reaches the responder's completion).
 * Bit 7 of the first byte makes the second SPI allocation fail.  Every action the engine emits
 * is checked for sanity.
 */
#include "config.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "meshsec/handshake.h"

/* Where the hs_id sits in a message between "a" and "b": header, two 1-byte names, challenge. */
#define HSID_AT (8 + 2 + MS_CHAL_LEN)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t spi = 0x1000;
static bool refuse_second;	/* bit 7 of the first byte: the kernel refuses the 2nd SPI */
static unsigned allocs;

static int alloc_spi(void *ctx, int peer, int family, uint32_t *out)
{
	(void)ctx, (void)peer, (void)family;
	*out = spi++;
	return refuse_second && ++allocs == 2 ? -1 : 0;
}

static void check_actions(const struct hs_out *out)
{
	for (size_t i = 0; i < out->n; i++) {
		const struct hs_action *a = &out->act[i];

		if (a->peer != 0 || a->len > MS_WIRE_MAX || (a->type == HS_ACT_SA_ADD && (a->spi == 0 || a->key_len != 36)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t secret[32] = { 1, 2, 3 }, zero[MS_WIRE_MAC_LEN];
	static struct hs_out *out;
	uint8_t buf[MS_WIRE_MAX + 1], pair[MS_KEY_LEN], mac_key[MS_KEY_LEN], prev[MS_WIRE_MAC_LEN];
	crypto_generichash_state st;
	struct hs_engine *b;
	size_t len;
	int peer, mode;

	if (!out) {
		if (sodium_init() < 0 || !(out = sodium_malloc(sizeof(*out))))
			abort();
	}
	if (size < 1)
		return 0;
	mode = data[0] % 4;
	refuse_second = data[0] & 0x80;
	allocs = 0;
	len = size - 1 > sizeof(buf) ? sizeof(buf) : size - 1;
	memcpy(buf, data + 1, len);
	sodium_memzero(out, sizeof(*out));
	b = hs_engine_new("fuzz", "b", MS_CIPHER_AES_GCM_256, secret, alloc_spi, NULL);
	if (!b || hs_peer_add(b, "a", HS_FAM_V4 | HS_FAM_V6) != 0)
		abort();
	memcpy(prev, zero, sizeof(prev));
	if (mode == 2) {
		hs_initiate(b, 0, 1000, false, out);
		memcpy(prev, ms_wire_mac(out->act[0].buf, out->act[0].len), sizeof(prev));
		/* put b's hs_id where this message has one */
		if (len >= 8 && (size_t)8 + buf[6] + buf[7] + MS_CHAL_LEN + 8 <= len)
			memcpy(buf + 8 + buf[6] + buf[7] + MS_CHAL_LEN, out->act[0].buf + HSID_AT, 8);
		sodium_memzero(out, sizeof(*out));
	}
	if (mode == 3) {
		struct hs_engine *a = hs_engine_new("fuzz", "a", MS_CIPHER_AES_GCM_256, secret, alloc_spi, NULL);
		uint8_t init[MS_WIRE_MAX];
		size_t init_len;
		size_t i;

		if (!a || hs_peer_add(a, "b", HS_FAM_V4 | HS_FAM_V6) != 0)
			abort();
		hs_initiate(a, 0, 1000, false, out);
		init_len = out->act[0].len;
		memcpy(init, out->act[0].buf, init_len);
		sodium_memzero(out, sizeof(*out));
		/* the challenge round: b challenges, a makes its INIT anew with the echo */
		hs_receive(b, init, init_len, 1000, out, &peer);
		if (out->n == 1) {
			memcpy(init, out->act[0].buf, init_len = out->act[0].len);
			sodium_memzero(out, sizeof(*out));
			hs_receive(a, init, init_len, 1000, out, &peer);
			if (out->n == 1)
				memcpy(init, out->act[0].buf, init_len = out->act[0].len);
		}
		sodium_memzero(out, sizeof(*out));
		hs_engine_free(a);
		hs_receive(b, init, init_len, 1000, out, &peer);
		for (i = 0; i < out->n && out->act[i].type != HS_ACT_SEND; i++)
			;
		if (i < out->n) {	/* b's RESP: its MAC chains the CONFIRM; hs_id as in the INIT */
			memcpy(prev, ms_wire_mac(out->act[i].buf, out->act[i].len), sizeof(prev));
			if (len >= 8 && (size_t)8 + buf[6] + buf[7] + MS_CHAL_LEN + 8 <= len)
				memcpy(buf + 8 + buf[6] + buf[7] + MS_CHAL_LEN, init + HSID_AT, 8);
		}
		sodium_memzero(out, sizeof(*out));
	}
	if (mode > 0 && len >= MS_WIRE_MAC_LEN) {
		ms_kdf_pair_key(pair, secret, "fuzz", "a", "b");
		ms_kdf_mac_key(mac_key, pair);
		crypto_generichash_init(&st, mac_key, MS_KEY_LEN, MS_WIRE_MAC_LEN);
		crypto_generichash_update(&st, prev, sizeof(prev));
		crypto_generichash_update(&st, buf, len - MS_WIRE_MAC_LEN);
		crypto_generichash_final(&st, buf + len - MS_WIRE_MAC_LEN, MS_WIRE_MAC_LEN);
	}
	hs_receive(b, buf, len, 1001, out, &peer);
	check_actions(out);
	sodium_memzero(out, sizeof(*out));
	hs_tick(b, 100000, out);	/* retransmissions and expiries after whatever happened */
	check_actions(out);
	hs_engine_free(b);
	return 0;
}
