/*
 * The mesh secret's file, made by keygen: a new file of mode 0600, never an existing file or a
 * symbolic link, synced before keygen says it is there.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meshsec/secret.h"

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int ms_secret_create(const char *path, struct ms_error *err)
{
	char line[MS_SECRET_B64_LEN + 2];
	int fd, ret;

	/* O_EXCL also refuses a symbolic link, dangling or not, in the file's place. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0 && errno == EEXIST)
		return ms_error_set(err, EEXIST, "%s already exists; not overwriting it (every node of a mesh needs the same key): to replace it on purpose, remove it first",
				    path);
	if (fd < 0)
		return ms_error_set(err, errno, "%s: cannot create the mesh secret: %s", path, strerror(errno));
	/* The umask may have taken more than group and others: the owner must still read it. */
	ret = fchmod(fd, 0600) < 0 ? -errno : ms_secret_generate(line);
	if (ret == 0) {
		strcat(line, "\n");
		ret = write_all(fd, line, strlen(line));
		sodium_memzero(line, sizeof(line));
	}
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0)
		return 0;
	unlink(path);	/* we made it with O_EXCL: a half-written key must not be left behind */
	return ms_error_set(err, -ret, "%s: cannot write the new mesh secret: %s", path, strerror(-ret));
}
