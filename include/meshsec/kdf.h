/*
 * Key schedule (common/PROTOCOL.md, "Keys").  All derivations are keyed BLAKE2b
 * (crypto_generichash) over length-prefixed, domain-separated inputs.
 *
 *   pair key   = BLAKE2b-256(key = mesh secret,
 *                            "meshsec-pair-v1" | lp(mesh) | lp(lower name) | lp(higher name))
 *   mac key    = BLAKE2b-256(key = pair key, "meshsec-mac-v1")
 *   traffic    = BLAKE2b-(key length)(key = pair key,
 *                 "meshsec-esp-v2" | lp(cipher) | dh | eph_i | eph_r | nonce_i | nonce_r | dir | family)
 *
 * lp(x) is one length byte then x.  dir is 'I' (initiator to responder) or 'R'; family is 4 or 6,
 * so the two families never share a key (they have independent sequence numbers).  The cipher's
 * name is bound in, so two nodes whose inventories disagree on it never use one key for two
 * algorithms.
 */
#ifndef MESHSEC_KDF_H
#define MESHSEC_KDF_H

#include <stddef.h>
#include <stdint.h>

#define MS_KEY_LEN 32
#define MS_EPH_LEN 32
#define MS_NONCE_LEN 16
#define MS_TRAFFIC_KEY_MAX 36

enum ms_kdir { MS_KDIR_I2R = 'I', MS_KDIR_R2I = 'R' };

/* Names in any order; the canonical (byte-wise lower first) order is taken here. */
void ms_kdf_pair_key(uint8_t out[MS_KEY_LEN], const uint8_t secret[32], const char *mesh,
		     const char *a, const char *b);

void ms_kdf_mac_key(uint8_t out[MS_KEY_LEN], const uint8_t pair_key[MS_KEY_LEN]);

/* cipher: its inventory name; key_len: its kernel key length including salt (20 or 36). */
void ms_kdf_traffic_key(uint8_t *out, const char *cipher, size_t key_len, const uint8_t pair_key[MS_KEY_LEN],
			const uint8_t dh[32], const uint8_t eph_i[MS_EPH_LEN], const uint8_t eph_r[MS_EPH_LEN],
			const uint8_t nonce_i[MS_NONCE_LEN], const uint8_t nonce_r[MS_NONCE_LEN],
			enum ms_kdir dir, int family_label);

#endif
