/* Key derivation: keyed BLAKE2b with length prefixes and domain labels (see kdf.h). */
#include "config.h"

#include <sodium.h>
#include <string.h>

#include "meshsec/kdf.h"

static void lp(crypto_generichash_state *st, const char *s)
{
	uint8_t n = (uint8_t)strlen(s);	/* names are at most 63 bytes */

	crypto_generichash_update(st, &n, 1);
	crypto_generichash_update(st, (const uint8_t *)s, n);
}

void ms_kdf_pair_key(uint8_t out[MS_KEY_LEN], const uint8_t secret[32], const char *mesh,
		     const char *a, const char *b)
{
	static const char label[] = "meshsec-pair-v1";
	crypto_generichash_state st;

	if (strcmp(a, b) > 0) {
		const char *t = a;

		a = b;
		b = t;
	}
	crypto_generichash_init(&st, secret, 32, MS_KEY_LEN);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label) - 1);
	lp(&st, mesh);
	lp(&st, a);
	lp(&st, b);
	crypto_generichash_final(&st, out, MS_KEY_LEN);
	sodium_memzero(&st, sizeof(st));
}

void ms_kdf_mac_key(uint8_t out[MS_KEY_LEN], const uint8_t pair_key[MS_KEY_LEN])
{
	static const char label[] = "meshsec-mac-v1";

	crypto_generichash(out, MS_KEY_LEN, (const uint8_t *)label, sizeof(label) - 1, pair_key, MS_KEY_LEN);
}

void ms_kdf_traffic_key(uint8_t *out, const char *cipher, size_t key_len, const uint8_t pair_key[MS_KEY_LEN],
			const uint8_t dh[32], const uint8_t eph_i[MS_EPH_LEN], const uint8_t eph_r[MS_EPH_LEN],
			const uint8_t nonce_i[MS_NONCE_LEN], const uint8_t nonce_r[MS_NONCE_LEN],
			enum ms_kdir dir, int family_label)
{
	static const char label[] = "meshsec-esp-v2";
	uint8_t tail[2] = { (uint8_t)dir, (uint8_t)family_label };
	crypto_generichash_state st;

	crypto_generichash_init(&st, pair_key, MS_KEY_LEN, key_len);
	crypto_generichash_update(&st, (const uint8_t *)label, sizeof(label) - 1);
	lp(&st, cipher);
	crypto_generichash_update(&st, dh, 32);
	crypto_generichash_update(&st, eph_i, MS_EPH_LEN);
	crypto_generichash_update(&st, eph_r, MS_EPH_LEN);
	crypto_generichash_update(&st, nonce_i, MS_NONCE_LEN);
	crypto_generichash_update(&st, nonce_r, MS_NONCE_LEN);
	crypto_generichash_update(&st, tail, sizeof(tail));
	crypto_generichash_final(&st, out, key_len);
	sodium_memzero(&st, sizeof(st));
}
