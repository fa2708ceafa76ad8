/* Handshake message encoding and decoding; the layout is in wire.h and common/PROTOCOL.md. */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "meshsec/inventory.h"
#include "meshsec/wire.h"

#define HDR 8

static size_t body_len(enum ms_msg_type t)
{
	switch (t) {
	case MS_MSG_INIT: return 8 + 8 + MS_EPH_LEN + MS_NONCE_LEN;
	case MS_MSG_RESP: return 8 + MS_EPH_LEN + MS_NONCE_LEN + 8;
	case MS_MSG_CONFIRM: return 8 + 8;
	case MS_MSG_PING:
	case MS_MSG_PONG: return 8 + MS_DIGEST_LEN;
	}
	return 0;
}

const char *ms_wire_status_name(enum ms_wire_status s)
{
	static const char *const n[] = { "ok", "truncated", "oversized", "not meshsec", "version mismatch",
					 "unknown type", "bad name", "bad MAC" };

	return s <= MS_WIRE_BAD_MAC ? n[s] : "?";
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void mac(uint8_t out[MS_WIRE_MAC_LEN], const uint8_t *buf, size_t len,
		const uint8_t key[MS_KEY_LEN], const uint8_t prev[MS_WIRE_MAC_LEN])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, key, MS_KEY_LEN, MS_WIRE_MAC_LEN);
	crypto_generichash_update(&st, prev, MS_WIRE_MAC_LEN);
	crypto_generichash_update(&st, buf, len);
	crypto_generichash_final(&st, out, MS_WIRE_MAC_LEN);
}

size_t ms_wire_encode(const struct ms_msg *m, const uint8_t mac_key[MS_KEY_LEN],
		      const uint8_t prev[MS_WIRE_MAC_LEN], uint8_t out[MS_WIRE_MAX])
{
	size_t sl = strlen(m->sender), rl = strlen(m->receiver), n = HDR;

	out[0] = 'M', out[1] = 'S', out[2] = 'H', out[3] = MS_WIRE_VERSION;
	out[4] = (uint8_t)m->type, out[5] = 0, out[6] = (uint8_t)sl, out[7] = (uint8_t)rl;
	memcpy(out + n, m->sender, sl), n += sl;
	memcpy(out + n, m->receiver, rl), n += rl;
	if (m->type == MS_MSG_PING || m->type == MS_MSG_PONG) {
		put64(out + n, m->ts), n += 8;
		memcpy(out + n, m->digest, MS_DIGEST_LEN), n += MS_DIGEST_LEN;
		mac(out + n, out, n, mac_key, prev);
		return n + MS_WIRE_MAC_LEN;
	}
	put64(out + n, m->hs_id), n += 8;
	if (m->type == MS_MSG_INIT)
		put64(out + n, m->ts), n += 8;
	if (m->type == MS_MSG_INIT || m->type == MS_MSG_RESP) {
		memcpy(out + n, m->eph, MS_EPH_LEN), n += MS_EPH_LEN;
		memcpy(out + n, m->nonce, MS_NONCE_LEN), n += MS_NONCE_LEN;
	}
	if (m->type == MS_MSG_RESP || m->type == MS_MSG_CONFIRM) {
		put32(out + n, m->spi[0]), n += 4;
		put32(out + n, m->spi[1]), n += 4;
	}
	mac(out + n, out, n, mac_key, prev);
	return n + MS_WIRE_MAC_LEN;
}

static int read_name(const uint8_t *p, size_t n, char out[MS_NAME_MAX + 1])
{
	if (n == 0 || n > MS_NAME_MAX)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return ms_name_check(out, "name", NULL) == 0 ? 0 : -1;
}

enum ms_wire_status ms_wire_peek(const uint8_t *buf, size_t len, struct ms_msg *hdr)
{
	size_t want;

	if (len > MS_WIRE_MAX)
		return MS_WIRE_LONG;
	if (len < HDR)
		return MS_WIRE_SHORT;
	if (buf[0] != 'M' || buf[1] != 'S' || buf[2] != 'H')
		return MS_WIRE_MAGIC;
	if (buf[3] != MS_WIRE_VERSION)
		return MS_WIRE_VERSION_MISMATCH;
	if (buf[4] < MS_MSG_INIT || buf[4] > MS_MSG_PONG || buf[5] != 0)
		return MS_WIRE_BAD_TYPE;
	memset(hdr, 0, sizeof(*hdr));
	hdr->type = (enum ms_msg_type)buf[4];
	want = HDR + (size_t)buf[6] + buf[7] + body_len(hdr->type) + MS_WIRE_MAC_LEN;
	if (len < want)
		return MS_WIRE_SHORT;
	if (len > want)
		return MS_WIRE_LONG;
	if (read_name(buf + HDR, buf[6], hdr->sender) < 0 || read_name(buf + HDR + buf[6], buf[7], hdr->receiver) < 0)
		return MS_WIRE_BAD_NAME;
	return MS_WIRE_OK;
}

enum ms_wire_status ms_wire_verify(const uint8_t *buf, size_t len, const uint8_t mac_key[MS_KEY_LEN],
				   const uint8_t prev[MS_WIRE_MAC_LEN])
{
	uint8_t want[MS_WIRE_MAC_LEN];

	mac(want, buf, len - MS_WIRE_MAC_LEN, mac_key, prev);
	return sodium_memcmp(want, ms_wire_mac(buf, len), MS_WIRE_MAC_LEN) == 0 ? MS_WIRE_OK : MS_WIRE_BAD_MAC;
}

void ms_wire_decode_body(const uint8_t *buf, size_t len, struct ms_msg *m)
{
	size_t n = HDR + (size_t)buf[6] + buf[7];

	(void)len;
	if (m->type == MS_MSG_PING || m->type == MS_MSG_PONG) {
		m->ts = get64(buf + n), n += 8;
		memcpy(m->digest, buf + n, MS_DIGEST_LEN);
		return;
	}
	m->hs_id = get64(buf + n), n += 8;
	if (m->type == MS_MSG_INIT)
		m->ts = get64(buf + n), n += 8;
	if (m->type == MS_MSG_INIT || m->type == MS_MSG_RESP) {
		memcpy(m->eph, buf + n, MS_EPH_LEN), n += MS_EPH_LEN;
		memcpy(m->nonce, buf + n, MS_NONCE_LEN), n += MS_NONCE_LEN;
	}
	if (m->type == MS_MSG_RESP || m->type == MS_MSG_CONFIRM) {
		m->spi[0] = get32(buf + n), n += 4;
		m->spi[1] = get32(buf + n);
	}
}
