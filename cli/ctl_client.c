/* Control socket client for the CLI: see ctl_client.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "meshsec/conf.h"
#include "ctl_client.h"
#include "meshsec/ctl.h"

#define RESPONSE_MAX (64u << 20)	/* status of a very large mesh, with room to spare */
#define TIMEOUT_S 10

const char *cli_default_socket(void)
{
	return MS_DEFAULT_SOCKET;
}

static int unreachable(const char *path, int e, struct ms_error *err)
{
	const char *why;

	switch (e) {
	case ENOENT: why = "no socket there: is meshsecd running (systemctl status meshsecd)? Or pass --socket PATH"; break;
	case ECONNREFUSED: why = "nobody answers: meshsecd is not running (the socket is left from a stopped agent)"; break;
	case EACCES:
	case EPERM: why = "permission denied: run as root, or as a member of group meshsec"; break;
	default: why = strerror(e); break;
	}
	ms_error_set(err, e, "cannot reach the agent at %s: %s", path, why);
	return CTL_UNREACHABLE;
}

/* Reads up to the newline that ends the response. */
static char *read_line(int fd, size_t *len, struct ms_error *err)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t r;
		char *nl;

		if (n + 1 >= cap) {
			char *b = cap >= RESPONSE_MAX ? NULL : realloc(buf, cap * 2);

			if (!b)
				break;
			buf = b, cap *= 2;
		}
		r = recv(fd, buf + n, cap - n - 1, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			ms_error_set(err, r < 0 ? errno : EPIPE, "the agent %s", r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
				     ? "did not answer within 10 s" : r < 0 ? strerror(errno) : "closed the connection without an answer");
			free(buf);
			return NULL;
		}
		nl = memchr(buf + n, '\n', (size_t)r);
		n += (size_t)r;
		if (nl) {
			*len = (size_t)(nl - buf);
			return buf;
		}
	}
	free(buf);
	ms_error_set(err, EMSGSIZE, "the agent's answer is larger than %u MiB", RESPONSE_MAX >> 20);
	return NULL;
}

/* No SIGPIPE: an agent that turned the connection away closes it, and says why first. */
static int send_request(int fd, const char *text)
{
	struct iovec iov[2] = { { (void *)text, strlen(text) }, { "\n", 1 } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	return sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

static const char *str(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

/* Connects and sends req (taken); *fd is open on return 0 or when only the sending failed (< 0). */
static int connect_send(const char *path, json_t *req, int *fd_out, struct ms_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { TIMEOUT_S, 0 };
	char *text;
	int fd, rc;

	*fd_out = -1;
	json_object_set_new(req, "version", json_integer(MS_CTL_VERSION));
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text || strlen(path) >= sizeof(sun.sun_path)) {
		free(text);
		return ms_error_set(err, ENAMETOOLONG, "socket path %s is too long (or out of memory)", path);
	}
	memcpy(sun.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		rc = unreachable(path, errno, err);
		free(text);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	rc = send_request(fd, text);
	free(text);
	*fd_out = fd;
	return rc;
}

int ctl_call_raw(const char *path, json_t *req, char **out, size_t *out_len, struct ms_error *err)
{
	char *line;
	size_t len;
	int fd, rc = connect_send(path, req, &fd, err);

	*out = NULL;
	if (fd < 0)
		return rc;
	line = read_line(fd, &len, err);	/* also when sending failed: the agent may have said why */
	close(fd);
	if (!line && rc < 0)
		return ms_error_set(err, -rc, "sending the request to %s: %s", path, strerror(-rc));
	if (!line)
		return -EIO;
	line[len] = '\0';
	*out = line;
	*out_len = len;
	return 0;
}

int ctl_stream(const char *path, json_t *req, int *fd_out, struct ms_error *err)
{
	static const char ok[] = "{\"version\":1,\"result\":\"ok\",";
	struct timeval forever = { 0, 0 };
	char line[512];
	size_t n = 0;
	int fd, rc = connect_send(path, req, &fd, err);

	*fd_out = -1;
	if (fd < 0)
		return rc;
	/* The answer byte by byte: what follows its newline is the stream's, not ours to swallow. */
	while (n + 1 < sizeof(line) && recv(fd, &line[n], 1, 0) == 1 && line[n] != '\n')
		n++;
	line[n] = '\0';
	if (strncmp(line, ok, sizeof(ok) - 1) != 0) {
		json_t *resp = json_loads(line, 0, NULL);

		rc = n ? ms_error_set(err, EPERM, "the agent says %s: %s", str(resp, "result", "?"), str(resp, "message", line))
		       : ms_error_set(err, EPIPE, "the agent closed the connection without an answer%s",
				      rc < 0 ? " (an older meshsecd without events?)" : "");
		json_decref(resp);
		close(fd);
		return n ? CTL_REFUSED : rc;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &forever, sizeof(forever));
	*fd_out = fd;
	return 0;
}

int ctl_call(const char *path, json_t *req, json_t **resp, struct ms_error *err)
{
	json_error_t jerr;
	char *line;
	size_t len;
	int rc;

	*resp = NULL;
	if ((rc = ctl_call_raw(path, req, &line, &len, err)) != 0)
		return rc;
	*resp = json_loadb(line, len, 0, &jerr);
	free(line);
	if (!json_is_object(*resp)) {
		json_decref(*resp);
		*resp = NULL;
		return ms_error_set(err, EPROTO, "the agent's answer is not JSON: %s", jerr.text);
	}
	if (strcmp(str(*resp, "result", ""), "ok") != 0) {
		rc = strcmp(str(*resp, "result", ""), "not-found") == 0 ? CTL_NOT_FOUND : CTL_REFUSED;
		ms_error_set(err, EPERM, "the agent says %s: %s", str(*resp, "result", "?"), str(*resp, "message", "(no message)"));
		json_decref(*resp);
		*resp = NULL;
		return rc;
	}
	return 0;
}
