/*
 * Handshake wire format (common/PROTOCOL.md, "Messages").  Every message:
 *
 *   0  'M' 'S' 'H' version(2)   4  type   5  flags (0)   6  sender length   7  receiver length
 *   8  sender name, receiver name   then the sender's challenge (16), then the type's body,
 *   last 32 bytes: MAC
 *
 * MAC = BLAKE2b-256(key = the pair's mac key, prev | message without MAC), where prev is the MAC
 * of the previous message of the same handshake (zeros for INIT): a response can only answer the
 * exact message it was made for.  Decoding is split so that nothing but the header is read before
 * the MAC has been checked.
 */
#ifndef MESHSEC_WIRE_H
#define MESHSEC_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshsec/kdf.h"
#include "meshsec/model.h"

#define MS_WIRE_VERSION 2
#define MS_CHAL_LEN 16
#define MS_WIRE_MAC_LEN 32
#define MS_WIRE_MAX 256		/* no valid message is longer; anything larger is dropped */

enum ms_msg_type {
	MS_MSG_INIT = 1,	/* initiator -> responder: echoed challenge, ephemeral, nonce */
	MS_MSG_RESP = 2,	/* responder -> initiator: ephemeral, nonce, responder's inbound SPIs */
	MS_MSG_CONFIRM = 3,	/* initiator -> responder: initiator's inbound SPIs */
	MS_MSG_PING = 4,	/* keepalive: session, sequence, sender's inventory digest */
	MS_MSG_PONG = 5,	/* answer: the PING's session and sequence, the answerer's digest; chained to the PING */
	MS_MSG_CHALLENGE = 6,	/* responder -> initiator: "echo my challenge"; chained to the INIT */
	/* netcheck (common/probe.h): never handed to the handshake engine, never change pair state */
	MS_MSG_PROBE = 7,	/* run, echo, seq, channel, flags, reply port, padding */
	MS_MSG_PROBE_REPLY = 8,	/* run, the probe's seq, this reply's channel, flags, probes seen; chained to the probe */
};
#define MS_MSG_MAX MS_MSG_CHALLENGE	/* the handshake's types: ms_wire_peek accepts no others */
#define MS_PROBE_WIRE_MAX 9216		/* a PROBE (padded to test the path MTU) is at most this long */
/*
 * ESP transport with the ciphers we allow (rfc4106(gcm(aes)), rfc7539esp(chacha20,poly1305)):
 * SPI 4, sequence 4, IV 8, padding to 4 bytes 0-3, pad length 1, next header 1, ICV 16.
 */
#define MS_WIRE_ESP_OVERHEAD_MAX 37
/*
 * What a small probe's two replies weigh on the wire beyond twice a PROBE_REPLY and the probe's
 * own IP + UDP header: the second reply's IP + UDP header (IPv6: 40 + 8) and, since one reply
 * goes as ESP, its ESP overhead.
 */
#define MS_WIRE_PROBE_SLACK (40 + 8 + MS_WIRE_ESP_OVERHEAD_MAX)

struct ms_msg {
	enum ms_msg_type type;
	char sender[MS_NAME_MAX + 1], receiver[MS_NAME_MAX + 1];
	uint8_t chal[MS_CHAL_LEN];	/* every type: what the receiver must echo in its next INIT */
	uint64_t hs_id;			/* INIT, RESP, CONFIRM, CHALLENGE: chosen by the initiator;
					   PING, PONG: the session (hs_id of the handshake in use) */
	uint64_t seq;			/* PING, PONG: sequence within the session */
	uint8_t echo[MS_CHAL_LEN];	/* INIT: the responder's challenge, as last heard */
	uint8_t eph[MS_EPH_LEN];	/* INIT, RESP */
	uint8_t nonce[MS_NONCE_LEN];	/* INIT, RESP */
	uint32_t spi[2];		/* RESP, CONFIRM: sender's inbound SPI for IPv4, IPv6 (0: none) */
	uint8_t digest[MS_DIGEST_LEN];	/* PING, PONG: the sender's inventory digest */
	/* PROBE, PROBE_REPLY (hs_id is the run; echo, in a PROBE, the receiver's probe challenge) */
	uint16_t pseq;			/* the probe's number within the run */
	uint8_t channel;		/* PROBE: sent on; PROBE_REPLY: this reply sent on (MS_PROBE_CLEAR, _ESP) */
	uint8_t pflags;			/* MS_PROBE_F_* */
	uint16_t reply_port;		/* PROBE: where ESP replies go (clear ones go to the mesh port) */
	uint16_t pad_len;		/* PROBE: zero bytes that make it as large as wanted */
	uint64_t seen;			/* PROBE_REPLY: bit i set: probe i of the run arrived */
};

enum ms_wire_status {
	MS_WIRE_OK = 0,
	MS_WIRE_SHORT,		/* truncated */
	MS_WIRE_LONG,		/* oversized or trailing bytes */
	MS_WIRE_MAGIC,		/* not ours */
	MS_WIRE_VERSION_MISMATCH,
	MS_WIRE_BAD_TYPE,
	MS_WIRE_BAD_NAME,
	MS_WIRE_BAD_MAC,
};

const char *ms_wire_status_name(enum ms_wire_status s);

/* How long msg is once encoded (a PROBE: up to MS_PROBE_WIRE_MAX, else at most MS_WIRE_MAX). */
size_t ms_wire_len(const struct ms_msg *msg);
/* Encodes msg, appending the MAC; returns the length written into out (ms_wire_len bytes). */
size_t ms_wire_encode(const struct ms_msg *msg, const uint8_t mac_key[MS_KEY_LEN],
		      const uint8_t prev[MS_WIRE_MAC_LEN], uint8_t *out);

/* Checks framing and reads type and names only: no secret, no state.  Handshake types only. */
enum ms_wire_status ms_wire_peek(const uint8_t *buf, size_t len, struct ms_msg *hdr);
/* The same for PROBE and PROBE_REPLY only; a PROBE shorter than ms_wire_probe_min is refused (SHORT). */
enum ms_wire_status ms_wire_peek_probe(const uint8_t *buf, size_t len, struct ms_msg *hdr);
/*
 * The shortest PROBE with msg's names: twice a PROBE_REPLY plus MS_WIRE_PROBE_SLACK, so on the
 * wire (IPv4 or IPv6) its two replies, one clear and one ESP, never outweigh it.
 */
size_t ms_wire_probe_min(const struct ms_msg *msg);
/* True if buf claims to be a PROBE or PROBE_REPLY (magic, version, type): which peek to use. */
bool ms_wire_is_probe(const uint8_t *buf, size_t len);

/* Constant-time MAC check. */
enum ms_wire_status ms_wire_verify(const uint8_t *buf, size_t len, const uint8_t mac_key[MS_KEY_LEN],
				   const uint8_t prev[MS_WIRE_MAC_LEN]);

/* Reads the body; call only after ms_wire_peek and ms_wire_verify succeeded. */
void ms_wire_decode_body(const uint8_t *buf, size_t len, struct ms_msg *msg);

/* The MAC of an encoded message (its last 32 bytes). */
static inline const uint8_t *ms_wire_mac(const uint8_t *buf, size_t len)
{
	return buf + len - MS_WIRE_MAC_LEN;
}

#endif
