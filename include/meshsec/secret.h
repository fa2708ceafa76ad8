/*
 * The mesh secret: 32 random bytes, base64 on one line, shared by every node of a mesh.
 *
 * Loaded into sodium_malloc memory (guard pages, never swapped, excluded from core dumps by
 * libsodium's allocator) and wiped by ms_secret_free.
 */
#ifndef MESHSEC_SECRET_H
#define MESHSEC_SECRET_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "meshsec/error.h"

#define MS_SECRET_LEN 32
/* base64 of 32 bytes with padding is 44 characters (43 without). */
#define MS_SECRET_B64_LEN 44
/* The most a secret file may hold: room for the line, whitespace and blank lines around it. */
#define MS_SECRET_FILE_MAX 4096

struct ms_secret {
	unsigned char key[MS_SECRET_LEN];
};

/*
 * Loads the secret at path.  Refuses, with the fix: a symbolic link, anything but a regular file
 * (without blocking on a FIFO), a file owned by anyone but root or this process's user, a file
 * group/others can access, a directory holding it that is owned by anyone else or writable by
 * group/others, a file over MS_SECRET_FILE_MAX bytes, and whatever ms_secret_parse refuses.
 */
int ms_secret_load(const char *path, struct ms_secret **out, struct ms_error *err);

/*
 * The ownership and mode rules of ms_secret_load, apart from the I/O: file and d are the stat
 * of the file and of its directory (named path and dir in messages), euid the user the caller
 * runs as.  Returns 0 or -errno with the reason and the fix.
 */
int ms_secret_check_stat(const char *path, const char *dir, const struct stat *file, const struct stat *d,
			 uid_t euid, struct ms_error *err);

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
