/*
 * The secret fingerprint (agent/CONTROL.md, "Fingerprints"): a short keyed hash that tells
 * whether two nodes hold the same mesh secret, and reveals nothing else about it.
 */
#ifndef MESHSEC_FINGERPRINT_H
#define MESHSEC_FINGERPRINT_H

#include <stdint.h>

#define MS_FINGERPRINT_LEN 8			/* bytes */
#define MS_FINGERPRINT_HEX (2 * MS_FINGERPRINT_LEN)	/* characters */

/* BLAKE2b-64 keyed by the secret over "meshsec-fingerprint-v1", as lowercase hex. */
void ms_secret_fingerprint(const uint8_t secret[32], char hex[MS_FINGERPRINT_HEX + 1]);

#endif
