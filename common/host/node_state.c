/* The node name kept across reboots (node_state.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meshsec/model.h"
#include "meshsec/node_state.h"

int node_state_write(const char *path, const char *name, struct ms_error *err)
{
	char tmp[4096];
	int fd, rc = 0;
	size_t n = strlen(name);

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return ms_error_set(err, ENAMETOOLONG, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return ms_error_set(err, errno, "%s: %s", tmp, strerror(errno));
	if (write(fd, name, n) != (ssize_t)n || write(fd, "\n", 1) != 1 || fsync(fd) < 0)
		rc = ms_error_set(err, errno ? errno : EIO, "%s: %s", tmp, strerror(errno ? errno : EIO));
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = ms_error_set(err, errno, "%s: %s", path, strerror(errno));
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int node_state_read(const char *path, char *name, size_t len, struct ms_error *err)
{
	char buf[MS_NAME_MAX + 2];
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return errno == ENOENT ? -ENOENT : ms_error_set(err, errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return ms_error_set(err, EINVAL, "%s: not a regular file", path);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return ms_error_set(err, EINVAL, "%s: empty", path);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0] || strlen(buf) >= len)
		return ms_error_set(err, EINVAL, "%s: no node name on its first line", path);
	snprintf(name, len, "%s", buf);
	return 0;
}
