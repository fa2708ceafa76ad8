/* Handshake message encoding and decoding; the layout is in wire.h and common/PROTOCOL.md. */
#include "config.h"

#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#include "meshsec/inventory.h"
#include "meshsec/wire.h"

#define HDR 8

/* Which fields a type carries after the challenge, in wire order. */
enum { F_HSID = 1, F_ECHO = 2, F_EPH = 4, F_SPIS = 8, F_SEQ = 16, F_PROBE = 32, F_REPLY = 64 };

#define PROBE_FIXED 8	/* seq 2, channel 1, flags 1, reply port 2, padding length 2 */
#define REPLY_FIXED 12	/* seq 2, channel 1, flags 1, seen 8 */

static unsigned fields(enum ms_msg_type t)
{
	switch (t) {
	case MS_MSG_INIT: return F_HSID | F_ECHO | F_EPH;
	case MS_MSG_RESP: return F_HSID | F_EPH | F_SPIS;
	case MS_MSG_CONFIRM: return F_HSID | F_SPIS;
	case MS_MSG_CHALLENGE: return F_HSID;
	case MS_MSG_PING:
	case MS_MSG_PONG: return F_HSID | F_SEQ;
	case MS_MSG_PROBE: return F_HSID | F_ECHO | F_PROBE;
	case MS_MSG_PROBE_REPLY: return F_HSID | F_REPLY;
	}
	return 0;
}

static size_t body_len(enum ms_msg_type t)
{
	unsigned f = fields(t);

	return MS_CHAL_LEN + (f & F_HSID ? 8 : 0) + (f & F_ECHO ? MS_CHAL_LEN : 0) +
	       (f & F_EPH ? MS_EPH_LEN + MS_NONCE_LEN : 0) + (f & F_SPIS ? 8 : 0) + (f & F_SEQ ? 8 + MS_DIGEST_LEN : 0) +
	       (f & F_PROBE ? PROBE_FIXED : 0) + (f & F_REPLY ? REPLY_FIXED : 0);
}

size_t ms_wire_len(const struct ms_msg *m)
{
	return HDR + strlen(m->sender) + strlen(m->receiver) + body_len(m->type) +
	       (m->type == MS_MSG_PROBE ? m->pad_len : 0) + MS_WIRE_MAC_LEN;
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

/* One walk over a body for both directions, so encoding and decoding cannot disagree. */
static size_t walk(uint8_t *p, struct ms_msg *m, bool enc)
{
	unsigned f = fields(m->type);
	size_t n = 0;

#define BYTES(field, len) (enc ? memcpy(p + n, (field), (len)) : memcpy((field), p + n, (len)), n += (len))
#define U64(field) (enc ? put64(p + n, (field)) : (void)((field) = get64(p + n)), n += 8)
#define U32(field) (enc ? put32(p + n, (field)) : (void)((field) = get32(p + n)), n += 4)
#define U16(field) (enc ? (void)(p[n] = (uint8_t)((field) >> 8), p[n + 1] = (uint8_t)(field)) \
			: (void)((field) = (uint16_t)(p[n] << 8 | p[n + 1])), n += 2)
#define U8(field) (enc ? (void)(p[n] = (field)) : (void)((field) = p[n]), n += 1)
	BYTES(m->chal, MS_CHAL_LEN);
	if (f & F_HSID)
		U64(m->hs_id);
	if (f & F_ECHO)
		BYTES(m->echo, MS_CHAL_LEN);
	if (f & F_EPH) {
		BYTES(m->eph, MS_EPH_LEN);
		BYTES(m->nonce, MS_NONCE_LEN);
	}
	if (f & F_SPIS) {
		U32(m->spi[0]);
		U32(m->spi[1]);
	}
	if (f & F_SEQ) {
		U64(m->seq);
		BYTES(m->digest, MS_DIGEST_LEN);
	}
	if (f & (F_PROBE | F_REPLY)) {
		U16(m->pseq);
		U8(m->channel);
		U8(m->pflags);
	}
	if (f & F_PROBE) {
		U16(m->reply_port);
		U16(m->pad_len);
		if (enc)	/* the padding is MAC'd like the rest; its content means nothing */
			memset(p + n, 0, m->pad_len);
		n += m->pad_len;
	}
	if (f & F_REPLY)
		U64(m->seen);
#undef BYTES
#undef U16
#undef U8
#undef U64
#undef U32
	return n;
}

size_t ms_wire_encode(const struct ms_msg *m, const uint8_t mac_key[MS_KEY_LEN],
		      const uint8_t prev[MS_WIRE_MAC_LEN], uint8_t *out)
{
	size_t sl = strlen(m->sender), rl = strlen(m->receiver), n = HDR;

	out[0] = 'M', out[1] = 'S', out[2] = 'H', out[3] = MS_WIRE_VERSION;
	out[4] = (uint8_t)m->type, out[5] = 0, out[6] = (uint8_t)sl, out[7] = (uint8_t)rl;
	memcpy(out + n, m->sender, sl), n += sl;
	memcpy(out + n, m->receiver, rl), n += rl;
	n += walk(out + n, (struct ms_msg *)m, true);	/* encoding only reads m */
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

size_t ms_wire_probe_min(const struct ms_msg *m)
{
	return 2 * (HDR + strlen(m->sender) + strlen(m->receiver) + body_len(MS_MSG_PROBE_REPLY) + MS_WIRE_MAC_LEN) +
	       MS_WIRE_PROBE_SLACK;
}

/* Framing of the types lo..hi; a message of another type is BAD_TYPE. */
static enum ms_wire_status peek(const uint8_t *buf, size_t len, struct ms_msg *hdr, unsigned lo, unsigned hi,
				size_t max)
{
	size_t want, fixed;

	if (len > max)
		return MS_WIRE_LONG;
	if (len < HDR)
		return MS_WIRE_SHORT;
	if (buf[0] != 'M' || buf[1] != 'S' || buf[2] != 'H')
		return MS_WIRE_MAGIC;
	if (buf[3] != MS_WIRE_VERSION)
		return MS_WIRE_VERSION_MISMATCH;
	if (buf[4] < lo || buf[4] > hi || buf[5] != 0)
		return MS_WIRE_BAD_TYPE;
	memset(hdr, 0, sizeof(*hdr));
	hdr->type = (enum ms_msg_type)buf[4];
	fixed = HDR + (size_t)buf[6] + buf[7];
	want = fixed + body_len(hdr->type) + MS_WIRE_MAC_LEN;
	if (hdr->type == MS_MSG_PROBE) {
		/*
		 * The padding length is the body's last fixed field.  A small probe gets two replies,
		 * each in its own IP + UDP datagram and one of them as ESP: together, on the wire,
		 * they may not outweigh the probe (ms_wire_probe_min).
		 */
		size_t at = fixed + body_len(MS_MSG_PROBE) - 2;

		if (len < at + 2)
			return MS_WIRE_SHORT;
		want += (size_t)buf[at] << 8 | buf[at + 1];
		if (want < 2 * (fixed + body_len(MS_MSG_PROBE_REPLY) + MS_WIRE_MAC_LEN) + MS_WIRE_PROBE_SLACK)
			return MS_WIRE_SHORT;
	}
	if (len < want)
		return MS_WIRE_SHORT;
	if (len > want)
		return MS_WIRE_LONG;
	if (read_name(buf + HDR, buf[6], hdr->sender) < 0 || read_name(buf + HDR + buf[6], buf[7], hdr->receiver) < 0)
		return MS_WIRE_BAD_NAME;
	return MS_WIRE_OK;
}

enum ms_wire_status ms_wire_peek(const uint8_t *buf, size_t len, struct ms_msg *hdr)
{
	return peek(buf, len, hdr, MS_MSG_INIT, MS_MSG_MAX, MS_WIRE_MAX);
}

enum ms_wire_status ms_wire_peek_probe(const uint8_t *buf, size_t len, struct ms_msg *hdr)
{
	return peek(buf, len, hdr, MS_MSG_PROBE, MS_MSG_PROBE_REPLY, MS_PROBE_WIRE_MAX);
}

bool ms_wire_is_probe(const uint8_t *buf, size_t len)
{
	return len > 4 && buf[0] == 'M' && buf[1] == 'S' && buf[2] == 'H' && buf[3] == MS_WIRE_VERSION &&
	       (buf[4] == MS_MSG_PROBE || buf[4] == MS_MSG_PROBE_REPLY);
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
	(void)len;
	walk((uint8_t *)buf + HDR + buf[6] + buf[7], m, false);	/* decoding only reads buf */
}
