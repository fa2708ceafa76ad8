/*
 * libFuzzer harness: netcheck's PROBE and PROBE_REPLY decoders and both sides' logic, on any
 * datagram.  The first byte picks the way in:
 *   0: to the answerer "b" as it is (framing and MAC checks);
 *   1: to the answerer, re-MAC'd with the pair's key, so bodies (sequence numbers, padding
 *      length, channel, flags) reach the freshness, replay and budget logic;
 *   2: to a run of "a" that has sent probes, as a reply on the clear channel;
 *   3: the same re-MAC'd, chained to the probe its sequence number names: reaches the verdicts.
 * Every reply the answerer makes must be framed, authentic and no larger than half the probe.
 */
#include "config.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "meshsec/kdf.h"
#include "meshsec/probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t secret[32] = { 4, 5, 6 }, zero[MS_WIRE_MAC_LEN];

static void remac(uint8_t *buf, size_t len, const uint8_t key[MS_KEY_LEN], const uint8_t prev[MS_WIRE_MAC_LEN])
{
	crypto_generichash_state st;

	if (len < MS_WIRE_MAC_LEN)
		return;
	crypto_generichash_init(&st, key, MS_KEY_LEN, MS_WIRE_MAC_LEN);
	crypto_generichash_update(&st, prev, MS_WIRE_MAC_LEN);
	crypto_generichash_update(&st, buf, len - MS_WIRE_MAC_LEN);
	crypto_generichash_final(&st, buf + len - MS_WIRE_MAC_LEN, MS_WIRE_MAC_LEN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[MS_PROBE_WIRE_MAX + 1], probe[MS_PROBE_WIRE_MAX];
	uint8_t pair[MS_KEY_LEN], key[MS_KEY_LEN];
	struct ms_probe_node *a, *b;
	struct ms_probe_out out;
	struct ms_probe_run r;
	struct ms_probe_result res;
	struct ms_msg m;
	enum ms_probe_channel ch;
	uint16_t seq;
	char text[2048];
	size_t len;
	int mode;

	if (size < 1 || size - 1 > sizeof(buf) || sodium_init() < 0)
		return 0;
	mode = data[0] & 3;
	len = size - 1;
	memcpy(buf, data + 1, len);
	a = ms_probe_node_new("prod", "a", secret);
	b = ms_probe_node_new("prod", "b", secret);
	if (!a || !b)
		abort();
	ms_kdf_pair_key(pair, secret, "prod", "a", "b");
	ms_kdf_mac_key(key, pair);
	if (mode <= 1) {
		if (mode == 1)
			remac(buf, len, key, zero);
		ms_probe_answer(b, 0, "a", buf, len, 1000, &out);
		for (size_t i = 0; i < out.n; i++)
			if (ms_wire_peek_probe(out.d[i].buf, out.d[i].len, &m) != MS_WIRE_OK || m.type != MS_MSG_PROBE_REPLY ||
			    ms_wire_verify(out.d[i].buf, out.d[i].len, key, ms_wire_mac(buf, len)) != MS_WIRE_OK ||
			    out.d[i].len * 2 > len)
				abort();
	} else {
		ms_probe_run_init(&r, 0, "b", 42, AF_INET, 40000, 1438, 0, 3000);
		while (ms_probe_run_next(&r, a, 0, probe, &ch, &seq) > 0)
			ms_probe_run_sent(&r, seq, 0);
		if (mode == 3 && ms_wire_peek_probe(buf, len, &m) == MS_WIRE_OK) {
			ms_wire_decode_body(buf, len, &m);
			remac(buf, len, key, m.pseq < r.n ? r.p[m.pseq].mac : zero);
		}
		ms_probe_run_input(&r, a, MS_PROBE_CLEAR, buf, len, 5);
		ms_probe_run_result(&r, &res);
		ms_probe_findings(&res, "a", "b", 4801, text, sizeof(text));
	}
	ms_probe_node_free(a);
	ms_probe_node_free(b);
	return 0;
}
