/*
 * The mesh secret: 32 random bytes, base64 on one line, shared by every node of a mesh.
 *
 * Loaded into sodium_malloc memory (guard pages, never swapped, excluded from core dumps by
 * libsodium's allocator) and wiped by ms_secret_free.
 */
#ifndef MESHSEC_SECRET_H
#define MESHSEC_SECRET_H

#include <stddef.h>

#include "meshsec/error.h"

#define MS_SECRET_LEN 32
/* base64 of 32 bytes with padding is 44 characters (43 without). */
#define MS_SECRET_B64_LEN 44

struct ms_secret {
	unsigned char key[MS_SECRET_LEN];
};

/*
 * Loads the secret at path.  Refuses, with the fix: a file group/others can access (prints the
 * chmod), not a regular file, not base64, not 32 bytes, anything after the one line.
 */
int ms_secret_load(const char *path, struct ms_secret **out, struct ms_error *err);

/*
 * Decodes text: one non-empty line of base64 (padded, 44 characters, or not, 43), with any
 * whitespace around it and blank lines before or after.  source names the text in messages,
 * which say what is wrong (line, column, counts) and never quote the text.
 */
int ms_secret_parse(const char *text, size_t len, const char *source,
		    struct ms_secret **out, struct ms_error *err);

/* Creates path with a fresh secret: mode 0600, never over an existing file or link, synced. */
int ms_secret_create(const char *path, struct ms_error *err);

/* Writes a fresh secret as a NUL-terminated base64 line (no newline) into out. */
int ms_secret_generate(char out[MS_SECRET_B64_LEN + 1]);

void ms_secret_free(struct ms_secret *s);

#endif
