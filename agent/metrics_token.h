/*
 * The metrics listener's bearer token (--metrics-token-file).  The file is checked like a
 * secret and read once; only the token's BLAKE2b hash is kept, so a request's token is
 * compared in constant time whatever its length, and the token itself does not stay in memory.
 */
#ifndef MESHSEC_METRICS_TOKEN_H
#define MESHSEC_METRICS_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "meshsec/error.h"

#define METRICS_TOKEN_MIN 16	/* characters */
#define METRICS_TOKEN_MAX 1024

struct metrics_token {
	unsigned char hash[32];
};

/*
 * Loads the token: one line of printable characters without spaces, at least
 * METRICS_TOKEN_MIN of them (trailing whitespace is dropped).  Refuses, with the fix, a
 * symlink, anything but a regular file, a file owned by another user than root or this
 * process's, and one that others may read or that anyone but its owner may write.
 */
int metrics_token_load(const char *path, struct metrics_token *out, struct ms_error *err);

/*
 * True when value[0..len), an Authorization header's value with its outer whitespace trimmed,
 * is "Bearer TOKEN" with the loaded token.  value may be NULL (no such header).
 */
bool metrics_token_check(const struct metrics_token *t, const char *value, size_t len);

#endif
