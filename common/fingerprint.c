/*
 * The secret fingerprint.  Keyed BLAKE2b is a PRF: without the key its output looks random, so
 * the fingerprint tells nothing about the secret except whether a guessed secret matches, and a
 * secret of 256 random bits cannot be guessed.  Its label and its output length (part of
 * BLAKE2b's parameter block) differ from every key derivation in kdf.c, so it is no key and helps
 * compute none.  64 bits are plenty to tell secrets apart in one fleet.
 */
#include "config.h"

#include <sodium.h>

#include "meshsec/fingerprint.h"

void ms_secret_fingerprint(const uint8_t secret[32], char hex[MS_FINGERPRINT_HEX + 1])
{
	static const char label[] = "meshsec-fingerprint-v1";
	uint8_t fp[MS_FINGERPRINT_LEN];

	crypto_generichash(fp, sizeof(fp), (const uint8_t *)label, sizeof(label) - 1, secret, 32);
	sodium_bin2hex(hex, MS_FINGERPRINT_HEX + 1, fp, sizeof(fp));
}
