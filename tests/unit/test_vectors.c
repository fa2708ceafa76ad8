/*
 * The test vectors of common/PROTOCOL.md, checked against the code: the document's "vectors"
 * block is parsed, every derived value is computed from its inputs and compared, and the three
 * messages are decoded and verified.  A change to the key schedule or the wire format that the
 * document does not describe fails here.  `test_vectors --print` prints the values the code
 * computes, in the block's format.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "meshsec/kdf.h"
#include "meshsec/wire.h"

#define DOC TEST_SRCDIR "/common/PROTOCOL.md"
#define MAX_VEC 48

static struct { char name[48]; char value[600]; } vec[MAX_VEC];
static size_t n_vec;
static bool print_mode;

static int load(void)
{
	FILE *f = fopen(DOC, "r");
	char line[700];
	bool in = false;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!in) {
			in = strcmp(line, "```vectors") == 0;
			continue;
		}
		if (strcmp(line, "```") == 0)
			break;
		if (n_vec < MAX_VEC && sscanf(line, "%47s = %599s", vec[n_vec].name, vec[n_vec].value) == 2)
			n_vec++;
	}
	fclose(f);
	return n_vec ? 0 : -1;
}

static const char *get(const char *name)
{
	for (size_t i = 0; i < n_vec; i++)
		if (strcmp(vec[i].name, name) == 0)
			return vec[i].value;
	fail_msg("%s: no vector named %s", DOC, name);
	return NULL;
}

static void hex_in(const char *name, uint8_t *out, size_t len)
{
	size_t got;

	if (sodium_hex2bin(out, len, get(name), strlen(get(name)), NULL, &got, NULL) != 0 || got != len)
		fail_msg("%s: %s must be %zu bytes of hex", DOC, name, len);
}

/* Compares a computed value with the document's (or prints it). */
static void expect(const char *name, const uint8_t *v, size_t len)
{
	char hex[600];

	sodium_bin2hex(hex, sizeof(hex), v, len);
	if (print_mode) {
		printf("%-24s = %s\n", name, hex);
		return;
	}
	if (strcmp(hex, get(name)) != 0)
		fail_msg("%s: %s\n  document: %s\n  code:     %s", DOC, name, get(name), hex);
}

struct inputs {
	uint8_t secret[32], sk_i[32], sk_r[32], nonce_i[MS_NONCE_LEN], nonce_r[MS_NONCE_LEN];
	uint8_t pk_i[32], pk_r[32], dh[32], pair[MS_KEY_LEN], mac[MS_KEY_LEN];
};

static void derive(struct inputs *in)
{
	uint8_t dh_r[32];

	hex_in("secret", in->secret, 32);
	hex_in("eph_i_secret", in->sk_i, 32);
	hex_in("eph_r_secret", in->sk_r, 32);
	hex_in("nonce_i", in->nonce_i, MS_NONCE_LEN);
	hex_in("nonce_r", in->nonce_r, MS_NONCE_LEN);
	crypto_scalarmult_base(in->pk_i, in->sk_i);
	crypto_scalarmult_base(in->pk_r, in->sk_r);
	assert_int_equal(crypto_scalarmult(in->dh, in->sk_i, in->pk_r), 0);
	assert_int_equal(crypto_scalarmult(dh_r, in->sk_r, in->pk_i), 0);
	assert_memory_equal(in->dh, dh_r, 32);
	ms_kdf_pair_key(in->pair, in->secret, get("mesh"), get("initiator"), get("responder"));
	ms_kdf_mac_key(in->mac, in->pair);
}

static void test_keys(void **state)
{
	static const struct { const char *name, *cipher; size_t len; enum ms_kdir dir; int fam; } t[] = {
		{ "esp_aes_gcm_256_i2r_v4", "aes-gcm-256", 36, MS_KDIR_I2R, 4 },
		{ "esp_aes_gcm_256_r2i_v4", "aes-gcm-256", 36, MS_KDIR_R2I, 4 },
		{ "esp_aes_gcm_256_i2r_v6", "aes-gcm-256", 36, MS_KDIR_I2R, 6 },
		{ "esp_aes_gcm_128_i2r_v4", "aes-gcm-128", 20, MS_KDIR_I2R, 4 },
		{ "esp_chacha20_poly1305_i2r_v4", "chacha20-poly1305", 36, MS_KDIR_I2R, 4 },
	};
	struct inputs in;
	uint8_t pair_rev[MS_KEY_LEN], k[MS_TRAFFIC_KEY_MAX];

	(void)state;
	derive(&in);
	expect("eph_i_public", in.pk_i, 32);
	expect("eph_r_public", in.pk_r, 32);
	expect("dh", in.dh, 32);
	expect("pair_key", in.pair, MS_KEY_LEN);
	ms_kdf_pair_key(pair_rev, in.secret, get("mesh"), get("responder"), get("initiator"));
	assert_memory_equal(pair_rev, in.pair, MS_KEY_LEN);	/* both ends derive the same */
	expect("mac_key", in.mac, MS_KEY_LEN);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ms_kdf_traffic_key(k, t[i].cipher, t[i].len, in.pair, in.dh, in.pk_i, in.pk_r, in.nonce_i, in.nonce_r, t[i].dir, t[i].fam);
		expect(t[i].name, k, t[i].len);
	}
}

static void names(struct ms_msg *m, enum ms_msg_type type, bool from_initiator)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	snprintf(m->sender, sizeof(m->sender), "%s", get(from_initiator ? "initiator" : "responder"));
	snprintf(m->receiver, sizeof(m->receiver), "%s", get(from_initiator ? "responder" : "initiator"));
}

/* Encodes, compares with the document, then decodes and checks the MAC chain. */
static void roundtrip(const char *name, const struct ms_msg *m, const uint8_t *mac_key, const uint8_t *prev,
		      uint8_t *buf, size_t *len)
{
	static const uint8_t zero[MS_WIRE_MAC_LEN];
	struct ms_msg d;

	*len = ms_wire_encode(m, mac_key, prev, buf);
	expect(name, buf, *len);
	assert_int_equal(ms_wire_peek(buf, *len, &d), MS_WIRE_OK);
	assert_int_equal(ms_wire_verify(buf, *len, mac_key, prev), MS_WIRE_OK);
	assert_int_equal(ms_wire_verify(buf, *len, mac_key, sodium_is_zero(prev, MS_WIRE_MAC_LEN) ? mac_key : zero), MS_WIRE_BAD_MAC);
	ms_wire_decode_body(buf, *len, &d);
	assert_int_equal(d.type, m->type);
	assert_string_equal(d.sender, m->sender);
	assert_memory_equal(d.chal, m->chal, MS_CHAL_LEN);
	assert_memory_equal(d.echo, m->echo, MS_CHAL_LEN);
	assert_int_equal(d.hs_id, m->hs_id);
	assert_int_equal(d.seq, m->seq);
	assert_memory_equal(d.eph, m->eph, MS_EPH_LEN);
	assert_memory_equal(d.nonce, m->nonce, MS_NONCE_LEN);
	assert_memory_equal(d.spi, m->spi, sizeof(d.spi));
	assert_memory_equal(d.digest, m->digest, MS_DIGEST_LEN);
}

/* INIT (echoing the responder's challenge), RESP (with its next one), CONFIRM; and the
 * CHALLENGE the responder would have sent had the INIT not echoed its current challenge. */
static void test_messages(void **state)
{
	static const uint8_t zero[MS_WIRE_MAC_LEN];
	struct inputs in;
	struct ms_msg m;
	uint8_t init[MS_WIRE_MAX], resp[MS_WIRE_MAX], buf[MS_WIRE_MAX];
	size_t li, lr, l;

	(void)state;
	derive(&in);
	names(&m, MS_MSG_INIT, true);
	m.hs_id = strtoull(get("hs_id"), NULL, 16);
	hex_in("chal_i", m.chal, MS_CHAL_LEN);
	hex_in("chal_r", m.echo, MS_CHAL_LEN);
	memcpy(m.eph, in.pk_i, 32);
	memcpy(m.nonce, in.nonce_i, MS_NONCE_LEN);
	roundtrip("msg_init", &m, in.mac, zero, init, &li);
	names(&m, MS_MSG_CHALLENGE, false);
	m.hs_id = strtoull(get("hs_id"), NULL, 16);
	hex_in("chal_r", m.chal, MS_CHAL_LEN);
	roundtrip("msg_challenge", &m, in.mac, ms_wire_mac(init, li), buf, &l);
	names(&m, MS_MSG_RESP, false);
	m.hs_id = strtoull(get("hs_id"), NULL, 16);
	hex_in("chal_r_next", m.chal, MS_CHAL_LEN);
	memcpy(m.eph, in.pk_r, 32);
	memcpy(m.nonce, in.nonce_r, MS_NONCE_LEN);
	m.spi[0] = (uint32_t)strtoul(get("resp_spi_v4"), NULL, 16);
	m.spi[1] = (uint32_t)strtoul(get("resp_spi_v6"), NULL, 16);
	roundtrip("msg_resp", &m, in.mac, ms_wire_mac(init, li), resp, &lr);
	names(&m, MS_MSG_CONFIRM, true);
	m.hs_id = strtoull(get("hs_id"), NULL, 16);
	hex_in("chal_i", m.chal, MS_CHAL_LEN);
	m.spi[0] = (uint32_t)strtoul(get("confirm_spi_v4"), NULL, 16);
	m.spi[1] = (uint32_t)strtoul(get("confirm_spi_v6"), NULL, 16);
	roundtrip("msg_confirm", &m, in.mac, ms_wire_mac(resp, lr), buf, &l);
}

/* Keepalive in the session the handshake made: the initiator pings, the PONG chained to the PING. */
static void test_keepalive(void **state)
{
	static const uint8_t zero[MS_WIRE_MAC_LEN];
	struct inputs in;
	struct ms_msg m;
	uint8_t ping[MS_WIRE_MAX], pong[MS_WIRE_MAX];
	size_t l1, l2;

	(void)state;
	derive(&in);
	names(&m, MS_MSG_PING, true);
	hex_in("chal_i", m.chal, MS_CHAL_LEN);
	m.hs_id = strtoull(get("hs_id"), NULL, 16);
	m.seq = strtoull(get("ping_seq"), NULL, 10);
	hex_in("digest_i", m.digest, MS_DIGEST_LEN);
	roundtrip("msg_ping", &m, in.mac, zero, ping, &l1);
	names(&m, MS_MSG_PONG, false);
	hex_in("chal_r_next", m.chal, MS_CHAL_LEN);
	m.hs_id = strtoull(get("hs_id"), NULL, 16);
	m.seq = strtoull(get("ping_seq"), NULL, 10);
	hex_in("digest_r", m.digest, MS_DIGEST_LEN);
	roundtrip("msg_pong", &m, in.mac, ms_wire_mac(ping, l1), pong, &l2);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_keepalive),
	};

	if (sodium_init() < 0 || load() < 0) {
		fprintf(stderr, "%s: cannot read its ```vectors block\n", DOC);
		return 1;
	}
	if (argc > 1 && strcmp(argv[1], "--print") == 0) {
		print_mode = true;
		test_keys(NULL);
		test_messages(NULL);
		test_keepalive(NULL);
		return 0;
	}
	return cmocka_run_group_tests_name("protocol vectors", tests, NULL, NULL);
}
