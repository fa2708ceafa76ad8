/* Prometheus listener: see metrics_http.h.  Off unless --metrics-listen is given. */
#include "config.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_http.h"

struct metrics_http {
	struct evhttp *http;
	struct mesh *mesh;
};

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics_http *h = arg;
	struct evbuffer *body;
	char *text;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "only GET");
		return;
	}
	body = evbuffer_new();
	text = mesh_metrics_text(h->mesh);
	if (!body || !text) {
		evhttp_send_error(req, 500, "out of memory");
	} else {
		evbuffer_add(body, text, strlen(text));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
		evhttp_send_reply(req, 200, "OK", body);
	}
	free(text);
	if (body)
		evbuffer_free(body);
}

static void on_other(struct evhttp_request *req, void *arg)
{
	(void)arg;
	evhttp_send_error(req, 404, "meshsecd serves /metrics only");
}

/* "9101" -> 127.0.0.1:9101; "ADDR:PORT"; "[V6]:PORT". */
static int split(const char *listen, char *addr, size_t alen, unsigned *port)
{
	const char *colon = strrchr(listen, ':');
	char *end;
	unsigned long p;

	snprintf(addr, alen, "127.0.0.1");
	if (colon) {
		size_t n = (size_t)(colon - listen);

		if (listen[0] == '[' && n >= 2 && listen[n - 1] == ']')
			listen++, n -= 2;
		if (n == 0 || n >= alen)
			return -1;
		memcpy(addr, listen, n);
		addr[n] = '\0';
		listen = colon + 1;
	}
	p = strtoul(listen, &end, 10);
	if (*end || p < 1 || p > 65535)
		return -1;
	*port = (unsigned)p;
	return 0;
}

int metrics_http_open(struct event_base *base, const char *listen, struct mesh *m, struct metrics_http **out,
		      struct ms_error *err)
{
	struct metrics_http *h;
	char addr[64];
	unsigned port;

	if (split(listen, addr, sizeof(addr), &port) < 0)
		return ms_error_set(err, EINVAL, "--metrics-listen %s: use PORT (localhost), ADDR:PORT or [IPV6]:PORT", listen);
	if (!(h = calloc(1, sizeof(*h))) || !(h->http = evhttp_new(base))) {
		free(h);
		return ms_error_set(err, ENOMEM, "out of memory");
	}
	h->mesh = m;
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET);
	evhttp_set_max_headers_size(h->http, 8192);
	evhttp_set_max_body_size(h->http, 0);
	evhttp_set_timeout(h->http, 10);
	evhttp_set_cb(h->http, "/metrics", on_metrics, h);
	evhttp_set_gencb(h->http, on_other, h);
	if (evhttp_bind_socket(h->http, addr, (uint16_t)port) != 0) {
		int e = errno;

		metrics_http_close(h);
		return ms_error_set(err, e, "--metrics-listen %s: cannot listen on %s port %u: %s", listen, addr, port, strerror(e));
	}
	*out = h;
	return 0;
}

void metrics_http_close(struct metrics_http *h)
{
	if (!h)
		return;
	if (h->http)
		evhttp_free(h->http);
	free(h);
}
