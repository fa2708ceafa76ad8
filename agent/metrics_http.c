/*
 * Prometheus listener: see metrics_http.h.  Off unless --metrics-listen is given, and only for
 * scrapers that send the bearer token of --metrics-token-file: metrics tell what the control
 * socket tells only root and group meshsec, and any local user can reach a TCP port.
 *
 * One request per connection, answered and closed, which is all a scraper needs.  (libevent
 * 2.1's evhttp, used before, has no connection cap and keeps reading pipelined requests without
 * bound while a reply waits.)  What it may cost (agent/CONTROL.md, "Limits"): MAX_CONNS
 * connections at once, more being closed at once; each closed after TIMEOUT_S without progress,
 * and holding at most MAX_HEAD bytes of request and one metrics page.
 */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "log.h"
#include "meshsec/http_head.h"
#include "meshsec/listen.h"
#include "metrics_http.h"
#include "metrics_token.h"

#define MAX_CONNS 16
#define TIMEOUT_S 10
#define MAX_HEAD 4096

struct conn {
	LIST_ENTRY(conn) link;
	struct metrics_http *h;
	struct bufferevent *bev;
	bool answered;		/* close once the answer is written */
};

struct metrics_http {
	struct event_base *base;
	struct evconnlistener *lst;
	struct mesh *mesh;
	struct metrics_token token;
	LIST_HEAD(, conn) conns;
	size_t n_conns;
	size_t refused;		/* connections closed at the cap since one was last let in */
};

static void conn_free(struct conn *c)
{
	LIST_REMOVE(c, link);
	c->h->n_conns--;
	bufferevent_free(c->bev);
	free(c);
}

static void reply(struct conn *c, int code, const char *reason, const char *headers, const char *body)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n", code, reason,
			    strlen(body), headers);
	evbuffer_add(out, body, strlen(body));
	bufferevent_disable(c->bev, EV_READ);
	c->answered = true;
}

/* 401 says nothing of whether the token was missing or wrong. */
static void answer(struct conn *c, long head_len, const struct http_head *head)
{
	struct http_span path = head->target;
	char *text;

	if (path.p && memchr(path.p, '?', path.len))
		path.len = (size_t)((const char *)memchr(path.p, '?', path.len) - path.p);
	if (head_len == 0)
		reply(c, 431, "Request Header Fields Too Large", "", "the request head is over 4096 bytes\n");
	else if (head_len < 0)
		reply(c, 400, "Bad Request", "", "not an HTTP/1.x request\n");
	else if (!metrics_token_check(&c->h->token, head->authorization.p, head->authorization.len))
		reply(c, 401, "Unauthorized", "WWW-Authenticate: Bearer\r\n", "unauthorized\n");
	else if (!http_span_is(head->method, "GET", 0))
		reply(c, 405, "Method Not Allowed", "Allow: GET\r\n", "only GET\n");
	else if (!http_span_is(path, "/metrics", 0))
		reply(c, 404, "Not Found", "", "meshsecd serves /metrics only\n");
	else if (!(text = mesh_metrics_text(c->h->mesh)))
		reply(c, 500, "Internal Server Error", "", "out of memory\n");
	else
		reply(c, 200, "OK", "Content-Type: text/plain; version=0.0.4\r\n", text), free(text);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);
	struct http_head head;
	long rc = http_head_parse((const char *)evbuffer_pullup(in, -1), n, &head);

	if (rc != 0 || n >= MAX_HEAD)	/* the read watermark keeps n at most MAX_HEAD */
		answer(arg, rc, &head);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	(void)bev;
	if (c->answered)
		conn_free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev, (void)what;	/* end of file, error or time-out: it is over */
	conn_free(arg);
}

static void on_accept(struct evconnlistener *lst, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct metrics_http *h = arg;
	struct timeval tmo = { TIMEOUT_S, 0 };
	struct conn *c = NULL;

	(void)lst, (void)sa, (void)len;
	if (h->n_conns >= MAX_CONNS || !(c = calloc(1, sizeof(*c))) ||
	    !(c->bev = bufferevent_socket_new(h->base, fd, BEV_OPT_CLOSE_ON_FREE))) {
		if (h->refused++ == 0)
			log_warnx("metrics listener: %zu connections open, the most it takes; closing new ones until one ends", h->n_conns);
		free(c);
		close(fd);
		return;
	}
	if (h->refused)
		log_info("metrics listener: closed %zu connections over its limit of %d", h->refused, MAX_CONNS);
	h->refused = 0;
	c->h = h;
	LIST_INSERT_HEAD(&h->conns, c, link);
	h->n_conns++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, MAX_HEAD);
	bufferevent_set_timeouts(c->bev, &tmo, &tmo);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

int metrics_http_open(struct event_base *base, const char *listen, const char *token_file, struct mesh *m,
		      struct metrics_http **out, struct ms_error *err)
{
	struct addrinfo hints = { .ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM }, *ai;
	struct metrics_http *h;
	char addr[MS_LISTEN_ADDR_MAX], port_s[8];
	unsigned port;
	int rc;

	if ((rc = ms_listen_parse(listen, addr, &port, err)) < 0)
		return rc;
	if (!token_file)
		return ms_error_set(err, EINVAL, "--metrics-listen %s: no --metrics-token-file", listen);
	snprintf(port_s, sizeof(port_s), "%u", port);
	if ((rc = getaddrinfo(addr, port_s, &hints, &ai)) != 0)
		return ms_error_set(err, EINVAL, "--metrics-listen %s: %s: %s", listen, addr, gai_strerror(rc));
	if (!(h = calloc(1, sizeof(*h)))) {
		freeaddrinfo(ai);
		return ms_error_set(err, ENOMEM, "out of memory");
	}
	h->base = base, h->mesh = m;
	LIST_INIT(&h->conns);
	if ((rc = metrics_token_load(token_file, &h->token, err)) == 0 &&
	    !(h->lst = evconnlistener_new_bind(base, on_accept, h, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_REUSEABLE,
					       MAX_CONNS, ai->ai_addr, (int)ai->ai_addrlen)))
		rc = ms_error_set(err, errno, "--metrics-listen %s: cannot listen on %s port %u: %s", listen, addr, port, strerror(errno));
	freeaddrinfo(ai);
	if (rc < 0) {
		free(h);
		return rc;
	}
	*out = h;
	return 0;
}

void metrics_http_close(struct metrics_http *h)
{
	if (!h)
		return;
	while (!LIST_EMPTY(&h->conns))
		conn_free(LIST_FIRST(&h->conns));
	if (h->lst)
		evconnlistener_free(h->lst);
	free(h);
}
