/*
 * ms-hostile: misbehaving local clients of the agent, for the kernel scenario "clients"
 * (DESIGN.md invariant 11).  TARGET is the control socket's path, or ADDR:PORT (IPv4) of the
 * metrics listener.  REQ is sent byte for byte: the caller ends it with "\n" or "\r\n\r\n".
 *
 *   ms-hostile hangup TARGET N REQ     N times: connect, send REQ 64 times, read one byte of the
 *                                      replies and hang up with the rest unread.
 *                                      Prints "answered A of N".
 *   ms-hostile noread TARGET C N REQ   C connections each send REQ N times and never read.  Prints
 *                                      "sent S of C*N" once the agent takes no more for 2 s (or
 *                                      all are sent), then "closed K of C" each time the agent
 *                                      closes one; exits when all are closed, or on SIGTERM.
 *   ms-hostile flood TARGET N REQ      one connection sends REQ N times while reading every reply
 *                                      line.  Prints "replies R of N"; exits 0 if R is N.
 *   ms-hostile subscribe SOCKET C      C connections ask for events and never read them (the
 *                                      answer is only peeked at).  Prints "subscribed S of C" once
 *                                      each was answered "streaming" (or gave up after 10 s), then
 *                                      "closed K of C" each time the agent closes one; exits when
 *                                      all are closed, or on SIGTERM.
 *   ms-hostile conns TARGET N          N connections at once, held until SIGTERM.  Prints
 *                                      "connected C, closed by the agent K, pending P, refused R
 *                                      of N" once none changes for 2 s.
 *
 * The figures are reports; a scenario judges the agent's state (alive, memory, answers).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define PIPELINE 64		/* requests a hang-up client sends before it hangs up */
#define QUIET_MS 2000		/* "no more progress" */
#define GONE (POLLHUP | POLLRDHUP | POLLERR)

/* A connected (or, with nonblock, connecting) socket to TARGET; -1 with errno on failure. */
static int dial(const char *target, int nonblock)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, type = SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);

	if (strchr(target, '/')) {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		sun->sun_family = AF_UNIX;
		snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", target);
		len = sizeof(*sun);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		char host[64];
		const char *colon = strrchr(target, ':');

		if (!colon || (size_t)(colon - target) >= sizeof(host))
			return errno = EINVAL, -1;
		memcpy(host, target, (size_t)(colon - target));
		host[colon - target] = '\0';
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return errno = EINVAL, -1;
		len = sizeof(*sin);
	}
	if ((fd = socket(ss.ss_family, type, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		int e = errno;

		close(fd);
		return errno = e, -1;
	}
	return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0)
			return -1;
		buf += n, len -= (size_t)n;
	}
	return 0;
}

static int hangup(const char *target, long n, const char *req)
{
	long answered = 0;

	for (long i = 0; i < n; i++) {
		struct timeval tv = { 10, 0 };
		char byte;
		int fd = dial(target, 0), ok = fd >= 0;

		for (int k = 0; ok && k < PIPELINE; k++)
			ok = send_all(fd, req, strlen(req)) == 0;
		if (ok) {
			setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
			answered += recv(fd, &byte, 1, 0) == 1;
		}
		if (fd >= 0)
			close(fd);
	}
	printf("answered %ld of %ld\n", answered, n);
	return 0;
}

/* Prints "closed K of C" as the agent closes each of the c connections in p; returns once all are. */
static void await_closes(struct pollfd *p, int c)
{
	int closed = 0;

	for (int i = 0; i < c; i++)
		p[i].events = POLLRDHUP, closed += p[i].fd < 0;
	while (closed < c && poll(p, (nfds_t)c, -1) > 0) {
		for (int i = 0; i < c; i++) {
			if (p[i].fd < 0 || !(p[i].revents & GONE))
				continue;
			close(p[i].fd);
			p[i].fd = -1;
			printf("closed %d of %d\n", ++closed, c);
			fflush(stdout);
		}
	}
}

/* Sends from each connection what is left of its n requests, whenever the agent takes them. */
static int noread(const char *target, int c, long n, const char *req)
{
	size_t rl = strlen(req), chunk = rl * 256;
	char *buf = malloc(chunk);
	struct pollfd *p = calloc((size_t)c, sizeof(*p));
	size_t *left = calloc((size_t)c, sizeof(*left));
	long long sent = 0;
	int open_n = 0;

	if (!buf || !p || !left)
		return 1;
	for (size_t k = 0; k < 256; k++)
		memcpy(buf + k * rl, req, rl);
	for (int i = 0; i < c; i++) {
		if ((p[i].fd = dial(target, 1)) < 0)
			return perror("connect"), 1;
		left[i] = (size_t)n * rl;
		p[i].events = POLLOUT;
		open_n++;
	}
	while (open_n > 0 && poll(p, (nfds_t)c, QUIET_MS) > 0) {
		for (int i = 0; i < c; i++) {
			ssize_t w;

			if (!(p[i].revents & (POLLOUT | GONE)))
				continue;
			w = send(p[i].fd, buf, left[i] < chunk ? left[i] : chunk, MSG_NOSIGNAL);
			if (w > 0)
				left[i] -= (size_t)w, sent += w;
			if ((w < 0 && errno != EAGAIN) || left[i] == 0)
				p[i].fd = ~p[i].fd, open_n--;	/* done: poll skips negative fds */
		}
	}
	printf("sent %lld of %lld\n", sent / (long long)rl, (long long)c * n);
	fflush(stdout);
	for (int i = 0; i < c; i++)
		if (p[i].fd < 0)
			p[i].fd = ~p[i].fd;
	await_closes(p, c);
	free(buf);
	free(p);
	free(left);
	return 0;
}

static int flood(const char *target, long n, const char *req)
{
	size_t rl = strlen(req), off = 0;
	long sent = 0, replies = 0;
	struct pollfd p = { .fd = dial(target, 1), .events = POLLIN | POLLOUT };
	char in[65536];

	if (p.fd < 0)
		return perror("connect"), 1;
	while (replies < n && poll(&p, 1, 30000) > 0) {
		if (p.revents & POLLIN) {
			ssize_t r = recv(p.fd, in, sizeof(in), 0);

			if (r <= 0)
				break;
			for (ssize_t k = 0; k < r; k++)
				replies += in[k] == '\n';
		} else if (p.revents & GONE) {
			break;
		}
		if ((p.revents & POLLOUT) && sent < n) {
			ssize_t w = send(p.fd, req + off, rl - off, MSG_NOSIGNAL);

			if (w > 0 && (off += (size_t)w) == rl)
				off = 0, sent++;
			if (sent == n)
				p.events = POLLIN;
		}
	}
	printf("replies %ld of %ld\n", replies, n);
	return replies == n ? 0 : 1;
}

static int subscribe(const char *target, int c)
{
	static const char req[] = "{\"version\":1,\"request\":\"events\"}\n";
	struct pollfd *p = calloc((size_t)c, sizeof(*p));
	int subscribed = 0;

	if (!p)
		return 1;
	for (int i = 0; i < c; i++) {
		struct timeval tv = { 10, 0 };
		static const char want[] = "{\"version\":1,\"result\":\"ok\",\"streaming\":true}\n";
		char ack[sizeof(want)];
		ssize_t n;

		if ((p[i].fd = dial(target, 0)) < 0)
			return perror("connect"), 1;
		setsockopt(p[i].fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (send_all(p[i].fd, req, sizeof(req) - 1) < 0)
			continue;
		/* The answer stays unread: MSG_WAITALL with MSG_PEEK waits for the whole ack. */
		n = recv(p[i].fd, ack, sizeof(want) - 1, MSG_PEEK | MSG_WAITALL);
		subscribed += n == (ssize_t)sizeof(want) - 1 && memcmp(ack, want, sizeof(want) - 1) == 0;
	}
	printf("subscribed %d of %d\n", subscribed, c);
	fflush(stdout);
	await_closes(p, c);
	free(p);
	return 0;
}

/* Connections are failed (dial refused), connecting, connected, or closed by the agent. */
enum conn_state { FAILED, CONNECTING, CONNECTED, CLOSED };

static int conns(const char *target, int n)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	enum conn_state *st = calloc((size_t)n, sizeof(*st));
	int count[4] = { 0 };

	if (!p || !st)
		return 1;
	for (int i = 0; i < n; i++) {
		p[i].fd = dial(target, 1);
		p[i].events = POLLOUT | POLLRDHUP;
		st[i] = p[i].fd >= 0 ? CONNECTING : FAILED;
	}
	while (poll(p, (nfds_t)n, QUIET_MS) > 0) {
		for (int i = 0; i < n; i++) {
			if (p[i].revents & GONE) {
				close(p[i].fd);
				p[i].fd = -1, st[i] = CLOSED;
			} else if (p[i].revents & POLLOUT) {
				p[i].events = POLLRDHUP, st[i] = CONNECTED;
			}
		}
	}
	for (int i = 0; i < n; i++)
		count[st[i]]++;
	printf("connected %d, closed by the agent %d, pending %d, refused %d of %d\n", count[CONNECTED], count[CLOSED],
	       count[CONNECTING], count[FAILED], n);
	fflush(stdout);
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	struct rlimit fds;

	/* Room for a thousand connections, as far as the hard limit allows. */
	if (getrlimit(RLIMIT_NOFILE, &fds) == 0) {
		fds.rlim_cur = fds.rlim_max;
		setrlimit(RLIMIT_NOFILE, &fds);
	}
	if (argc == 5 && strcmp(argv[1], "hangup") == 0)
		return hangup(argv[2], atol(argv[3]), argv[4]);
	if (argc == 6 && strcmp(argv[1], "noread") == 0)
		return noread(argv[2], atoi(argv[3]), atol(argv[4]), argv[5]);
	if (argc == 5 && strcmp(argv[1], "flood") == 0)
		return flood(argv[2], atol(argv[3]), argv[4]);
	if (argc == 4 && strcmp(argv[1], "subscribe") == 0)
		return subscribe(argv[2], atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "conns") == 0)
		return conns(argv[2], atoi(argv[3]));
	fprintf(stderr, "usage: ms-hostile hangup TARGET N REQ | noread TARGET CONNS N REQ | flood TARGET N REQ | subscribe SOCKET C | conns TARGET N\n");
	return 2;
}
