/* Control socket server: see ctl_server.h. */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_server.h"
#include "log.h"

/*
 * What one client may cost (agent/CONTROL.md, "Limits"): its requests wait while more than
 * OUT_PAUSE bytes of its replies are unread, and it is closed if they stay unread for
 * STALL_TIMEOUT_S.  So a client holds at most OUT_PAUSE plus one reply, plus one read of
 * requests (libevent reads at most 16 KiB at a time).  An events subscriber is held to the same
 * rule: events beyond OUT_PAUSE unread are dropped, and it is closed if its unread events stay
 * over OUT_PAUSE for STALL_TIMEOUT_S.  One user holds at most MAX_PER_USER
 * connections, and the last MAX_PER_USER of MAX_CLIENTS are root's alone.
 */
#define MAX_CLIENTS 64
#define MAX_PER_USER 16
#define OUT_PAUSE (64u << 10)
#define STALL_TIMEOUT_S 10
#define IDLE_TIMEOUT_S 30
#define ACCEPT_RETRY_S 1
#define DISCARD_MAX (1u << 20)	/* an over-long line is skipped to its end, up to this much */

struct client {
	struct client *next, **pprev;	/* in the server's list, so close can free them all */
	struct ctl_server *srv;
	struct bufferevent *bev;
	struct event *stall;	/* runs while requests wait for the client to read its replies */
	unsigned long id;	/* names it in the log */
	uid_t uid;
	pid_t pid;
	int closing;		/* reply queued; close once it is written */
	int paused;		/* too many unread replies (or events): its requests wait, the stall timer runs */
	int eof;		/* the client sent all it will send: close once it is answered */
	size_t discarding;	/* inside an over-long line: bytes thrown away so far */
	int subscribed;		/* asked for events: the connection only streams them now */
	unsigned long dropped;	/* events it lost while too much was unread, not yet told */
	unsigned long dropped_total;	/* and in all, for the log */
	struct ctl_deferred *pending;	/* a request answered later: nothing more is read until then */
};

/* A request whose answer comes later; the client may be gone by then (c NULL). */
struct ctl_deferred {
	struct client *c;
};

struct ctl_server {
	struct event_base *base;
	struct evconnlistener *lst;
	struct event *retry;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	ctl_handler_fn fn;
	void *ctx;
	struct client *clients;
	size_t n_clients;
	size_t n_subscribed;	/* of which streaming events */
	size_t refused;		/* connections turned away since one was last let in */
	unsigned long last_id;
	enum ms_ctl_type dtype;		/* the request answered later, if dfn */
	ctl_deferred_fn dfn;
	void *dctx;
};

static void client_free(struct client *c)
{
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	c->srv->n_clients--;
	c->srv->n_subscribed -= c->subscribed != 0;
	if (c->pending)
		c->pending->c = NULL;	/* its owner answers into the void and frees it */
	bufferevent_free(c->bev);
	if (c->stall)
		event_free(c->stall);
	free(c);
}

/* Every connection ends here, with one line saying why (at debug level when it ended as usual). */
static void client_close(struct client *c, bool unusual, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (unusual)
		log_info("control client %lu (uid %u, pid %d): %s; closed", c->id, (unsigned)c->uid, (int)c->pid, why);
	else
		log_debug("control client %lu (uid %u, pid %d): %s; closed", c->id, (unsigned)c->uid, (int)c->pid, why);
	client_free(c);
}

static void send_reply(struct client *c, enum ms_ctl_result rc, json_t *resp)
{
	char *text;

	json_object_set_new(resp, "version", json_integer(MS_CTL_VERSION));
	json_object_set_new(resp, "result", json_string(ms_ctl_result_name(rc)));
	text = json_dumps(resp, JSON_COMPACT);
	if (text) {
		bufferevent_write(c->bev, text, strlen(text));
		bufferevent_write(c->bev, "\n", 1);
		free(text);
	}
	json_decref(resp);
}

static void reply_error(struct client *c, enum ms_ctl_result rc, const char *msg)
{
	send_reply(c, rc, json_pack("{s:s}", "message", msg));
}

/*
 * "events": answered ok, then events follow on the connection until the client hangs up.  It
 * asks nothing more (what it sends is read and thrown away, so its hang-up is seen) and has no
 * idle timeout: a quiet mesh sends nothing for hours.  One that does not read costs at most
 * OUT_PAUSE plus an event: ctl_publish drops events for it and counts them; and, like any client,
 * it is closed once its unread events stayed over OUT_PAUSE for STALL_TIMEOUT_S, so a reader that
 * never reads does not keep its connection slot.  on_write runs whenever its unread events fall
 * to OUT_PAUSE or below (the write low-water mark), which stops the stall timer.
 */
static void subscribe(struct client *c)
{
	static const char ok[] = "{\"version\":1,\"result\":\"ok\",\"streaming\":true}\n";

	c->subscribed = 1;
	c->srv->n_subscribed++;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	bufferevent_setwatermark(c->bev, EV_WRITE, OUT_PAUSE, 0);
	bufferevent_write(c->bev, ok, sizeof(ok) - 1);
	log_debug("control client %lu (uid %u, pid %d): streaming events", c->id, (unsigned)c->uid, (int)c->pid);
}

size_t ctl_subscribers(const struct ctl_server *s)
{
	return s ? s->n_subscribed : 0;
}

void ctl_publish(struct ctl_server *s, const char *line, const char *time)
{
	struct timeval stall = { STALL_TIMEOUT_S, 0 };

	for (struct client *c = s->clients; c; c = c->next) {
		struct evbuffer *out;

		if (!c->subscribed)
			continue;
		out = bufferevent_get_output(c->bev);
		if (evbuffer_get_length(out) <= OUT_PAUSE) {
			if (c->dropped)
				evbuffer_add_printf(out, "{\"time\":\"%s\",\"type\":\"dropped\",\"peer\":null,\"count\":%lu}\n",
						    time, c->dropped);
			c->dropped = 0;
			evbuffer_add(out, line, strlen(line));
			evbuffer_add(out, "\n", 1);
		} else {
			c->dropped++;
			c->dropped_total++;
		}
		if (!c->paused && evbuffer_get_length(out) > OUT_PAUSE) {
			c->paused = 1;	/* over the limit: closed unless it reads within STALL_TIMEOUT_S */
			evtimer_add(c->stall, &stall);
		}
	}
}
static void defer(struct client *c, const struct ms_ctl_req *req);

static void handle_line(struct client *c, const char *line, size_t len)
{
	struct ms_ctl_req req;
	char msg[256], *body = NULL;
	enum ms_ctl_result rc = ms_ctl_parse(line, len, &req, msg, sizeof(msg));
	json_t *resp;

	if (rc != MS_CTL_OK) {
		reply_error(c, rc, msg);
		return;
	}
	if (req.type == MS_CTL_EVENTS) {
		subscribe(c);
		return;
	}
	if (ms_ctl_changes_state(&req) && c->uid != 0) {
		snprintf(msg, sizeof(msg), "\"%s\" %s: only root may ask (you are uid %u)",
			 ms_ctl_type_name(req.type), ms_ctl_root_why(&req), (unsigned)c->uid);
		reply_error(c, MS_CTL_E_FORBIDDEN, msg);
		return;
	}
	if (c->srv->dfn && req.type == c->srv->dtype) {
		defer(c, &req);
		return;
	}
	resp = json_object();
	rc = c->srv->fn(c->srv->ctx, &req, resp, &body);
	if (body && body[0] == '{') {
		char head[64];
		int n = snprintf(head, sizeof(head), "{\"version\":%d,\"result\":\"%s\"%s", MS_CTL_VERSION,
				 ms_ctl_result_name(rc), body[1] == '}' ? "" : ",");

		bufferevent_write(c->bev, head, (size_t)n);
		bufferevent_write(c->bev, body + 1, strlen(body + 1));
		bufferevent_write(c->bev, "\n", 1);
		json_decref(resp);
	} else {
		send_reply(c, rc, resp);
	}
	free(body);
}

/*
 * An over-long line is thrown away up to its newline and answered "too-large", and the
 * connection goes on; a client that never ends the line is cut off after DISCARD_MAX.
 */
static bool skip_long_line(struct client *c, struct evbuffer *in)
{
	struct evbuffer_ptr nl = evbuffer_search(in, "\n", 1, NULL);
	size_t n = nl.pos >= 0 ? (size_t)nl.pos + 1 : evbuffer_get_length(in);

	evbuffer_drain(in, n);
	c->discarding += n;
	if (nl.pos >= 0) {
		c->discarding = 0;
		reply_error(c, MS_CTL_E_TOO_LARGE, "requests are at most 4095 bytes, each ending with a newline");
		return true;
	}
	if (c->discarding > DISCARD_MAX) {
		reply_error(c, MS_CTL_E_TOO_LARGE, "a line of over 1 MiB: closing the connection");
		c->closing = 1;
		bufferevent_disable(c->bev, EV_READ);
	}
	return false;
}

static void client_pause(struct client *c)
{
	struct timeval stall = { STALL_TIMEOUT_S, 0 };

	bufferevent_disable(c->bev, EV_READ);
	if (!c->paused)
		evtimer_add(c->stall, &stall);
	c->paused = 1;
}

/* Answers the complete request lines read so far, until too many replies are left unread. */
static void serve(struct client *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t len;
	char *line;

	if (c->subscribed) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	for (;;) {
		if (c->closing || c->subscribed || c->pending)
			return;
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUT_PAUSE) {
			client_pause(c);
			return;
		}
		if (c->discarding || evbuffer_get_length(in) >= MS_CTL_MAX_REQUEST) {
			struct evbuffer_ptr nl = evbuffer_search(in, "\n", 1, NULL);

			if (c->discarding || nl.pos < 0 || (size_t)nl.pos >= MS_CTL_MAX_REQUEST) {
				c->discarding += !c->discarding;	/* now in an over-long line */
				if (!skip_long_line(c, in))
					return;
				continue;
			}
		}
		if (!(line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)))
			return;
		handle_line(c, line, len);
		free(line);
	}
}

/*
 * A request answered later: reading stops until the answer is sent, so answers stay in order and
 * the client holds at most one pending request (its other limits are unchanged).
 */
static void defer(struct client *c, const struct ms_ctl_req *req)
{
	struct ctl_deferred *d = calloc(1, sizeof(*d));
	json_t *resp;
	enum ms_ctl_result rc;

	if (!d) {
		reply_error(c, MS_CTL_E_FAILED, "out of memory");
		return;
	}
	d->c = c;
	resp = json_object();
	rc = c->srv->dfn(c->srv->dctx, req, d, resp);
	if (rc != MS_CTL_OK) {
		free(d);
		send_reply(c, rc, resp);
		return;
	}
	json_decref(resp);
	c->pending = d;
	bufferevent_disable(c->bev, EV_READ);
}

void ctl_deferred_reply(struct ctl_deferred *d, enum ms_ctl_result rc, json_t *resp)
{
	struct client *c = d->c;

	free(d);
	if (!c) {
		json_decref(resp);	/* the client hung up or the server closed meanwhile */
		return;
	}
	c->pending = NULL;
	send_reply(c, rc, resp);
	if (!c->eof && !c->paused && !c->closing)
		bufferevent_enable(c->bev, EV_READ);
	serve(c);	/* requests that came meanwhile */
}

void ctl_set_deferred(struct ctl_server *s, enum ms_ctl_type type, ctl_deferred_fn fn, void *ctx)
{
	s->dtype = type, s->dfn = fn, s->dctx = ctx;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	serve(arg);
}

/* Called once all queued replies are written: the waiting requests go on, or the client is done. */
static void on_write(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	if (c->subscribed) {	/* its unread events fell to OUT_PAUSE or below */
		if (c->paused)
			evtimer_del(c->stall);
		c->paused = 0;
		if (c->eof && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			client_close(c, false, "done");
		return;
	}
	if (c->paused) {
		c->paused = 0;
		evtimer_del(c->stall);
		if (!c->eof)
			bufferevent_enable(bev, EV_READ);
		serve(c);
	}
	if (evbuffer_get_length(bufferevent_get_output(bev)) > 0 || c->paused)
		return;
	if (c->closing)
		client_close(c, true, "sent a line of over 1 MiB");
	else if (c->eof)
		client_close(c, false, "done");
}

static void on_stall(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd, (void)what;
	if (c->subscribed)
		client_close(c, true, "%zu bytes of events left unread for %d s, %lu events dropped",
			     evbuffer_get_length(bufferevent_get_output(c->bev)), STALL_TIMEOUT_S, c->dropped_total);
	else
		client_close(c, true, "%zu bytes of replies left unread for %d s", evbuffer_get_length(bufferevent_get_output(c->bev)),
			     STALL_TIMEOUT_S);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	if (what & BEV_EVENT_ERROR)	/* EPIPE, ECONNRESET: it hung up before reading its replies */
		client_close(c, false, "%s", evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else if (what & BEV_EVENT_TIMEOUT)
		client_close(c, true, "nothing asked or read for %d s", IDLE_TIMEOUT_S);
	else if (what & BEV_EVENT_EOF && !c->paused && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		client_close(c, false, "done");
	else if (what & BEV_EVENT_EOF)
		c->eof = 1;	/* answer what it asked, then close */
}

/* At most MAX_PER_USER connections per user; root's share is kept free of everyone else's. */
static bool admit(const struct ctl_server *s, uid_t uid)
{
	size_t same = 0;

	for (const struct client *c = s->clients; c; c = c->next)
		same += c->uid == uid;
	return same < MAX_PER_USER && s->n_clients < (uid == 0 ? MAX_CLIENTS : MAX_CLIENTS - MAX_PER_USER);
}

/*
 * A connection over the limits is told why and closed at once.  The log has one line when
 * turning connections away starts, and one with the count when it stops.
 */
static bool refuse(struct ctl_server *s, int fd, const struct ucred *cred)
{
	char line[192];
	int n;

	if (admit(s, cred->uid)) {
		if (s->refused)
			log_info("control socket: %zu connections were refused over the limits", s->refused);
		s->refused = 0;
		return false;
	}
	if (s->refused++ == 0)
		log_warnx("control socket: refusing connections from uid %u (pid %d): at most %d per user, %d in all",
			  (unsigned)cred->uid, (int)cred->pid, MAX_PER_USER, MAX_CLIENTS);
	n = snprintf(line, sizeof(line), "{\"version\":%d,\"result\":\"%s\",\"message\":\"too many connections: at most %d per user, %d in all; "
		     "close some and retry\"}\n", MS_CTL_VERSION, ms_ctl_result_name(MS_CTL_E_FAILED), MAX_PER_USER, MAX_CLIENTS);
	send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	return true;
}

static void on_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct ctl_server *s = arg;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	struct timeval idle = { IDLE_TIMEOUT_S, 0 };
	struct client *c;

	(void)lst, (void)sa, (void)len;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) < 0 || refuse(s, fd, &cred) || !(c = calloc(1, sizeof(*c)))) {
		close(fd);
		return;
	}
	c->srv = s;
	c->id = ++s->last_id;
	c->uid = cred.uid;
	c->pid = cred.pid;
	c->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	c->stall = evtimer_new(s->base, on_stall, c);
	if (!c->bev || !c->stall) {
		if (c->bev)
			bufferevent_free(c->bev);
		else
			close(fd);
		if (c->stall)
			event_free(c->stall);
		free(c);
		return;
	}
	s->n_clients++;
	c->next = s->clients;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &s->clients;
	s->clients = c;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_server *s = arg;

	(void)fd, (void)what;
	evconnlistener_enable(s->lst);
}

/* Out of file descriptors: stop accepting for a second rather than spin or die. */
static void on_accept_error(struct evconnlistener *lst, void *arg)
{
	struct ctl_server *s = arg;
	struct timeval tv = { ACCEPT_RETRY_S, 0 };
	int e = EVUTIL_SOCKET_ERROR();

	if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
		log_warnx("control socket: cannot accept (%s); pausing accepts for %d s", strerror(e), ACCEPT_RETRY_S);
		evconnlistener_disable(lst);
		evtimer_add(s->retry, &tv);
	}
}

/* A socket file nobody answers on is stale (an agent that died); one that answers is in use. */
static int clear_stale(const char *path, const struct sockaddr_un *sun, struct ms_error *err)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : ms_error_set(err, errno, "control socket %s: %s", path, strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return ms_error_set(err, EEXIST, "control socket %s: exists and is not a socket; remove it or pass --socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	rc = fd >= 0 ? connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) : -1;
	if (fd >= 0)
		close(fd);
	if (rc == 0)
		return ms_error_set(err, EADDRINUSE, "control socket %s: another meshsecd is serving it; stop that one first", path);
	unlink(path);
	return 0;
}

/* The socket's directory (/run/meshsec) if missing: traversable, the socket itself is 0660. */
static void ensure_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			log_warn("cannot create %s", dir);
	}
}

int ctl_open(struct event_base *base, const char *path, ctl_handler_fn fn, void *ctx, struct ctl_server **out,
	     struct ms_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct ctl_server *s;
	struct group *g;
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sun.sun_path))
		return ms_error_set(err, ENAMETOOLONG, "control socket %s: path longer than %zu bytes", path, sizeof(sun.sun_path) - 1);
	memcpy(sun.sun_path, path, strlen(path));
	if ((rc = clear_stale(path, &sun, err)) < 0)
		return rc;
	ensure_dir(path);
	if (!(s = calloc(1, sizeof(*s))))
		return ms_error_set(err, ENOMEM, "out of memory");
	snprintf(s->path, sizeof(s->path), "%s", path);
	s->base = base, s->fn = fn, s->ctx = ctx;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	old = umask(0117);	/* the socket file is born 0660: no window where others may connect */
	rc = fd < 0 ? -1 : bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc < 0 || listen(fd, 64) < 0) {
		rc = ms_error_set(err, errno, "control socket %s: %s%s", path, strerror(errno),
				  errno == ENOENT ? " (create its directory, or pass --socket)" : "");
		if (fd >= 0)
			close(fd);
		free(s);
		return rc;
	}
	/* Members of group "meshsec" may read status; only root may change anything. */
	if ((g = getgrnam("meshsec")) != NULL && chown(path, 0, g->gr_gid) < 0)
		log_warn("control socket %s: cannot give it to group meshsec", path);
	s->lst = evconnlistener_new(base, on_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
	s->retry = evtimer_new(base, on_retry, s);
	if (!s->lst || !s->retry) {
		if (!s->lst)
			close(fd);
		ctl_close(s);
		return ms_error_set(err, ENOMEM, "control socket %s: out of memory", path);
	}
	evconnlistener_set_error_cb(s->lst, on_accept_error);
	*out = s;
	return 0;
}

void ctl_close(struct ctl_server *s)
{
	if (!s)
		return;
	while (s->clients)
		client_free(s->clients);
	if (s->lst)
		evconnlistener_free(s->lst);
	if (s->retry)
		event_free(s->retry);
	unlink(s->path);
	free(s);
}
