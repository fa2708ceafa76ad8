/* The metrics listener's bearer token: see metrics_token.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics_token.h"

static void token_hash(unsigned char out[32], const char *token, size_t len)
{
	crypto_generichash(out, 32, (const unsigned char *)token, len, NULL, 0);
}

/* Who may read or change the file: the checks a secret's file gets, group read allowed. */
static int check_file(const char *path, int fd, struct ms_error *err)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return ms_error_set(err, errno, "--metrics-token-file %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ms_error_set(err, EINVAL, "--metrics-token-file %s: not a regular file; point it at the file holding the token", path);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return ms_error_set(err, EPERM, "--metrics-token-file %s: owned by uid %u, who could change the token; run: chown root %s",
				    path, (unsigned)st.st_uid, path);
	if (st.st_mode & (S_IWGRP | S_IRWXO))
		return ms_error_set(err, EPERM, "--metrics-token-file %s: mode %04o lets others read it or change it; run: chmod 640 %s "
				    "(group: the scraper's, if it runs here)", path, (unsigned)(st.st_mode & 07777), path);
	return 0;
}

/* The token in buf[0..len): trailing whitespace dropped, then printable and long enough. */
static int check_token(const char *path, const char *buf, size_t *len, struct ms_error *err)
{
	while (*len > 0 && memchr(" \t\r\n", buf[*len - 1], 4))
		(*len)--;
	for (size_t i = 0; i < *len; i++)
		if (buf[i] <= ' ' || buf[i] > '~')
			return ms_error_set(err, EINVAL, "--metrics-token-file %s: character %zu is a space or not printable ASCII; "
					    "the file must hold the token alone on one line", path, i + 1);
	if (*len < METRICS_TOKEN_MIN)
		return ms_error_set(err, EINVAL, "--metrics-token-file %s: %zu characters; use at least %d random ones, e.g. "
				    "head -c 32 /dev/urandom | base64 > %s", path, *len, METRICS_TOKEN_MIN, path);
	return 0;
}

int metrics_token_load(const char *path, struct metrics_token *out, struct ms_error *err)
{
	/* O_NONBLOCK: a FIFO must not hang the agent; fstat refuses it right after. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), rc;
	char *buf;
	ssize_t n;
	size_t len;

	if (fd < 0)
		return ms_error_set(err, errno, "--metrics-token-file %s: %s", path,
				    errno == ELOOP ? "a symlink; point the option at the file itself" : strerror(errno));
	if ((rc = check_file(path, fd, err)) < 0) {
		close(fd);
		return rc;
	}
	if (!(buf = sodium_malloc(METRICS_TOKEN_MAX + 1))) {
		close(fd);
		return ms_error_set(err, ENOMEM, "--metrics-token-file %s: cannot allocate secure memory", path);
	}
	n = read(fd, buf, METRICS_TOKEN_MAX + 1);	/* a regular file: all of it, up to the size asked */
	close(fd);
	len = n > 0 ? (size_t)n : 0;
	if (n < 0)
		rc = ms_error_set(err, errno, "--metrics-token-file %s: %s", path, strerror(errno));
	else if (len > METRICS_TOKEN_MAX)
		rc = ms_error_set(err, EINVAL, "--metrics-token-file %s: longer than %d bytes; the file must hold the token alone",
				  path, METRICS_TOKEN_MAX);
	else if ((rc = check_token(path, buf, &len, err)) == 0)
		token_hash(out->hash, buf, len);
	sodium_free(buf);	/* zeroes it */
	return rc;
}

bool metrics_token_check(const struct metrics_token *t, const char *value, size_t len)
{
	unsigned char h[32];

	if (!value || len < 7 || strncasecmp(value, "Bearer ", 7) != 0)
		return false;
	for (value += 7, len -= 7; len > 0 && *value == ' '; value++, len--)
		;
	token_hash(h, value, len);
	return sodium_memcmp(h, t->hash, sizeof(h)) == 0;
}
