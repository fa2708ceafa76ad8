/*
 * The mesh secret's file: who may own it, where it may live, how it is read and how keygen makes
 * one.  Whoever can write the file or its directory can give the mesh a key they know, so the
 * rules follow OpenSSH's StrictModes: the file and its directory are owned by root or by this
 * process's user, the file is not readable or writable by group or others, and the directory is
 * not writable by them (a sticky shared directory such as /tmp is refused too: it is no place for
 * a key).  Only the directory that holds the file is checked, not its ancestors.
 *
 * The directory is opened first and the file opened relative to it, so the directory checked is
 * the one the file was read from; the file is opened without following a symbolic link and
 * without blocking (a FIFO must not hang the agent), and its type is checked before any read.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meshsec/secret.h"

static const char *file_type(mode_t m)
{
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISFIFO(m))
		return "a FIFO";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device";
	return "not a regular file";
}

int ms_secret_check_stat(const char *path, const char *dir, const struct stat *file, const struct stat *d,
			 uid_t euid, struct ms_error *err)
{
	if (!S_ISREG(file->st_mode))
		return ms_error_set(err, EINVAL, "%s: is %s, not a regular file; point --secret at the key file meshsec keygen wrote",
				    path, file_type(file->st_mode));
	if (file->st_uid != 0 && file->st_uid != euid)
		return ms_error_set(err, EPERM, "%s: owned by uid %u, not by root or by the user this runs as (uid %u): that user could change the mesh secret; run as root: chown root %s",
				    path, (unsigned)file->st_uid, (unsigned)euid, path);
	if (file->st_mode & 077)
		return ms_error_set(err, EPERM, "%s: mode %04o lets group or others access the mesh secret; run: chmod 600 %s",
				    path, (unsigned)(file->st_mode & 07777), path);
	if (d->st_uid != 0 && d->st_uid != euid)
		return ms_error_set(err, EPERM, "%s: its directory %s is owned by uid %u, who could replace the mesh secret; run as root: chown root %s",
				    path, dir, (unsigned)d->st_uid, dir);
	if ((d->st_mode & (S_IWGRP | S_IWOTH)) && (d->st_mode & S_ISVTX))
		return ms_error_set(err, EPERM, "%s: its directory %s (mode %04o) is shared by other users; move the mesh secret to a directory only root can write, such as /etc/meshsec",
				    path, dir, (unsigned)(d->st_mode & 07777));
	if (d->st_mode & (S_IWGRP | S_IWOTH))
		return ms_error_set(err, EPERM, "%s: its directory %s (mode %04o) lets group or others replace the mesh secret; run: chmod go-w %s",
				    path, dir, (unsigned)(d->st_mode & 07777), dir);
	return 0;
}

/* Splits path into its directory (".", "/" or the part before the last '/') and its last name. */
static int split_path(const char *path, char dir[PATH_MAX], const char **base)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (slash == path ? 1 : (size_t)(slash - path)) : 1;

	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(dir, slash ? path : ".", n);
	dir[n] = '\0';
	*base = slash ? slash + 1 : path;
	return 0;
}

static int open_error(const char *path, int e, struct ms_error *err)
{
	return ms_error_set(err, e, "%s: cannot open the mesh secret: %s%s", path, strerror(e),
			    e == ENOENT ? "; copy the mesh's key file there, or for a new mesh make one with: meshsec keygen --out FILE, and pass --secret FILE" : "");
}

static int symlink_error(int dfd, const char *base, const char *path, struct ms_error *err)
{
	char target[PATH_MAX];
	ssize_t n = readlinkat(dfd, base, target, sizeof(target) - 1);

	target[n > 0 ? n : 0] = '\0';
	return ms_error_set(err, ELOOP, "%s: is a symbolic link; point --secret at the file itself%s%s%s", path,
			    n > 0 ? " (the link points to " : "", target, n > 0 ? ")" : "");
}

/* Reads at most MS_SECRET_FILE_MAX bytes, into guarded memory, and parses them. */
static int read_secret(int fd, const struct stat *st, const char *path, struct ms_secret **out, struct ms_error *err)
{
	char *buf;
	size_t len = 0;
	int ret;

	if (st->st_size > MS_SECRET_FILE_MAX)
		return ms_error_set(err, EFBIG, "%s: %lld bytes, too large for a key file (one %d-character line); point --secret at the file meshsec keygen wrote",
				    path, (long long)st->st_size, MS_SECRET_B64_LEN);
	buf = sodium_malloc(MS_SECRET_FILE_MAX + 1);
	if (!buf)
		return ms_error_set(err, ENOMEM, "%s: cannot allocate secure memory for the secret (check RLIMIT_MEMLOCK)", path);
	while (len <= MS_SECRET_FILE_MAX) {
		ssize_t n = read(fd, buf + len, MS_SECRET_FILE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = ms_error_set(err, errno, "%s: cannot read the mesh secret: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > MS_SECRET_FILE_MAX)
		ret = ms_error_set(err, EFBIG, "%s: grew past %d bytes while being read; a key file holds one %d-character line",
				   path, MS_SECRET_FILE_MAX, MS_SECRET_B64_LEN);
	else
		ret = ms_secret_parse(buf, len, path, out, err);
out:
	sodium_free(buf);
	return ret;
}

int ms_secret_load(const char *path, struct ms_secret **out, struct ms_error *err)
{
	char dir[PATH_MAX];
	const char *base;
	struct stat fst, dst;
	int dfd, fd, ret;

	*out = NULL;
	if (split_path(path, dir, &base) < 0)
		return ms_error_set(err, ENAMETOOLONG, "%s: the path is too long", path);
	if (!*base)
		return ms_error_set(err, EISDIR, "%s: names a directory; point --secret at the key file meshsec keygen wrote", path);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return open_error(path, errno, err);
	fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		ret = errno == ELOOP ? symlink_error(dfd, base, path, err) : open_error(path, errno, err);
	} else {
		if (fstat(fd, &fst) < 0 || fstat(dfd, &dst) < 0)
			ret = ms_error_set(err, errno, "%s: cannot stat the mesh secret: %s", path, strerror(errno));
		else if ((ret = ms_secret_check_stat(path, dir, &fst, &dst, geteuid(), err)) == 0)
			ret = read_secret(fd, &fst, path, out, err);
		close(fd);
	}
	close(dfd);
	return ret;
}

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
