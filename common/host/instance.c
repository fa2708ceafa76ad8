/* The per-namespace single-instance lock (instance.h). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "meshsec/instance.h"

#define LOCK_NAME "meshsec.instance"	/* abstract: the leading NUL is added below */

static socklen_t lock_addr(struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path + 1, LOCK_NAME, sizeof(LOCK_NAME) - 1);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + sizeof(LOCK_NAME) - 1);
}

/* The holder's pid, from the credentials its listening socket hands to a connecting client. */
static long holder_pid(void)
{
	struct sockaddr_un sun;
	socklen_t len = lock_addr(&sun), cl = sizeof(struct ucred);
	struct ucred cred = { 0 };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	long pid = -1;

	if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, len) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
		pid = cred.pid;
	if (fd >= 0)
		close(fd);
	return pid;
}

int instance_lock(const char *who, struct ms_error *err)
{
	struct sockaddr_un sun;
	socklen_t len = lock_addr(&sun);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;
	long pid;

	if (fd < 0)
		return ms_error_set(err, errno, "%s: cannot create the instance lock socket: %s", who, strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, len) == 0 && listen(fd, 1) == 0)
		return fd;
	e = errno;
	close(fd);
	if (e != EADDRINUSE)
		return ms_error_set(err, e, "%s: cannot take the instance lock: %s", who, strerror(e));
	pid = holder_pid();
	if (pid > 0)
		return ms_error_set(err, EADDRINUSE, "%s: meshsecd already runs in this network namespace (pid %ld); stop it first "
				    "(systemctl stop meshsecd), or run this one in another namespace", who, pid);
	return ms_error_set(err, EADDRINUSE, "%s: another meshsec process holds this network namespace's lock; stop it first", who);
}
