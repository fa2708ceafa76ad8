/*
 * Mesh secret loading.  The file's bytes are read straight into guarded memory so that no copy
 * of the secret is left in the ordinary heap or on the stack.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meshsec/secret.h"

/* Room for the line, a newline, and enough more to notice extra content. */
#define READ_CAP 128

void ms_secret_free(struct ms_secret *s)
{
	if (s)
		sodium_free(s);	/* zeroes before releasing */
}

int ms_secret_generate(char out[MS_SECRET_B64_LEN + 1])
{
	unsigned char *raw = sodium_malloc(MS_SECRET_LEN);

	if (!raw)
		return -ENOMEM;
	randombytes_buf(raw, MS_SECRET_LEN);
	sodium_bin2base64(out, MS_SECRET_B64_LEN + 1, raw, MS_SECRET_LEN, sodium_base64_VARIANT_ORIGINAL);
	sodium_free(raw);
	return 0;
}

int ms_secret_parse(const char *text, size_t len, const char *source,
		    struct ms_secret **out, struct ms_error *err)
{
	struct ms_secret *s;
	size_t line = len, bin_len = 0;
	const char *end = NULL;
	int rc;

	*out = NULL;
	if (line > 0 && text[line - 1] == '\n')
		line--;
	if (line > 0 && text[line - 1] == '\r')
		line--;
	if (line == 0)
		return ms_error_set(err, EINVAL, "%s: the secret file is empty; create one with: meshsec keygen --out %s", source, source);
	if (memchr(text, '\n', line))
		return ms_error_set(err, EINVAL, "%s: extra content after the first line; the file must hold only the one base64 line that meshsec keygen prints", source);
	s = sodium_malloc(sizeof(*s));
	if (!s)
		return ms_error_set(err, ENOMEM, "%s: cannot allocate secure memory for the secret (check RLIMIT_MEMLOCK)", source);
	errno = 0;
	rc = sodium_base642bin(s->key, sizeof(s->key), text, line, NULL, &bin_len, &end,
			       sodium_base64_VARIANT_ORIGINAL);
	if (rc != 0 && errno == ERANGE) {
		sodium_free(s);
		return ms_error_set(err, EINVAL, "%s: the secret is longer than 32 bytes; it must be exactly the 44-character line that meshsec keygen prints", source);
	}
	if (rc != 0 || end != text + line) {
		size_t at = end ? (size_t)(end - text) : 0;

		sodium_free(s);
		return ms_error_set(err, EINVAL, "%s: not valid base64 (at character %zu); regenerate it with meshsec keygen and copy it to every node", source, at + 1);
	}
	if (bin_len != sizeof(s->key)) {
		sodium_free(s);
		return ms_error_set(err, EINVAL, "%s: the secret decodes to %zu bytes, not 32; regenerate it with meshsec keygen and copy it to every node", source, bin_len);
	}
	*out = s;
	return 0;
}

int ms_secret_load(const char *path, struct ms_secret **out, struct ms_error *err)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd, ret;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return ms_error_set(err, errno, "%s: cannot open the mesh secret: %s%s", path, strerror(errno),
				    errno == ENOENT ? "; create it with: meshsec keygen --out FILE and pass --secret FILE" : "");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ms_error_set(err, EINVAL, "%s: not a regular file; point --secret at the file meshsec keygen wrote", path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return ms_error_set(err, EPERM, "%s: mode %04o lets group or others access the mesh secret; run: chmod 600 %s",
				    path, (unsigned)(st.st_mode & 07777), path);
	}
	buf = sodium_malloc(READ_CAP);
	if (!buf) {
		close(fd);
		return ms_error_set(err, ENOMEM, "%s: cannot allocate secure memory for the secret (check RLIMIT_MEMLOCK)", path);
	}
	while (len < READ_CAP) {
		ssize_t n = read(fd, buf + len, READ_CAP - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == READ_CAP)
		ret = ms_error_set(err, EINVAL, "%s: extra content: the file is larger than one secret line; it must hold only what meshsec keygen prints", path);
	else
		ret = ms_secret_parse(buf, len, path, out, err);
	sodium_free(buf);
	return ret;
}
