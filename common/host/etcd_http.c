/* POSTs to etcd's JSON gateway with evhttp (include/meshsec/etcd_http.h). */
#include "config.h"

#include <errno.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/etcd_http.h"

struct etcd_req {
	struct evhttp_connection *conn;
	etcd_chunk_fn chunk;
	etcd_done_fn done;
	void *arg;
	bool finished;
};

static void on_chunk(struct evhttp_request *req, void *arg)
{
	struct etcd_req *r = arg;

	if (evhttp_request_get_response_code(req) == 200)
		r->chunk(r->arg, evhttp_request_get_input_buffer(req));
}

static void on_done(struct evhttp_request *req, void *arg)
{
	struct etcd_req *r = arg;
	int code = req ? evhttp_request_get_response_code(req) : 0;
	char why[96];

	if (r->finished)
		return;
	r->finished = true;
	if (code == 200) {
		r->done(r->arg, evhttp_request_get_input_buffer(req), NULL);
		return;
	}
	if (code)
		snprintf(why, sizeof(why), "etcd answered HTTP %d %.40s", code, evhttp_request_get_response_code_line(req));
	else
		snprintf(why, sizeof(why), "no answer (etcd down, unreachable, or the answer was cut or too large)");
	r->done(r->arg, NULL, why);
}

static void on_error(enum evhttp_request_error e, void *arg)
{
	struct etcd_req *r = arg;
	char why[64];

	if (r->finished)
		return;
	r->finished = true;
	snprintf(why, sizeof(why), "%s", e == EVREQ_HTTP_TIMEOUT ? "no answer in time" : e == EVREQ_HTTP_EOF ?
		 "etcd closed the connection" : e == EVREQ_HTTP_DATA_TOO_LONG ? "the answer is too large" :
		 "cannot reach etcd");
	r->done(r->arg, NULL, why);
}

struct etcd_req *etcd_post(struct event_base *base, const struct ms_etcd_url *u, const char *path, const char *body,
			   int timeout_s, etcd_chunk_fn chunk, etcd_done_fn done, void *arg)
{
	struct etcd_req *r = calloc(1, sizeof(*r));
	struct evhttp_request *req = NULL;
	struct evkeyvalq *h;
	char host[MS_ETCD_HOST_MAX + 10];

	if (!r || !(r->conn = evhttp_connection_base_new(base, NULL, u->host, (ev_uint16_t)u->port)))
		goto fail;
	r->chunk = chunk;
	r->done = done;
	r->arg = arg;
	evhttp_connection_set_timeout(r->conn, timeout_s);
	evhttp_connection_set_max_headers_size(r->conn, 64 * 1024);
	if (!chunk)	/* a stream's lines are bounded by their reader */
		evhttp_connection_set_max_body_size(r->conn, (ev_ssize_t)ms_etcd_reply_max());
	if (!(req = evhttp_request_new(on_done, r)))
		goto fail;
	if (chunk)
		evhttp_request_set_chunked_cb(req, on_chunk);
	evhttp_request_set_error_cb(req, on_error);
	snprintf(host, sizeof(host), strchr(u->host, ':') ? "[%s]:%u" : "%s:%u", u->host, u->port);
	h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", host) < 0 || evhttp_add_header(h, "Content-Type", "application/json") < 0 ||
	    evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body)) < 0)
		goto fail;
	if (evhttp_make_request(r->conn, req, EVHTTP_REQ_POST, path) < 0) {
		req = NULL;	/* freed by evhttp_make_request */
		goto fail;
	}
	return r;
fail:
	if (req)
		evhttp_request_free(req);
	etcd_req_free(r);
	return NULL;
}

void etcd_req_free(struct etcd_req *r)
{
	if (!r)
		return;
	if (r->conn)
		evhttp_connection_free(r->conn);
	free(r);
}

struct get {
	struct event_base *base;
	const struct ms_etcd_url *u;
	struct ms_etcd_reply *reply;
	struct ms_error *err;
	int rc;
};

static void got(void *arg, struct evbuffer *body, const char *why)
{
	struct get *g = arg;
	size_t len;

	event_base_loopbreak(g->base);	/* else the idle keep-alive connection holds the loop until its timeout */
	if (!body) {
		g->rc = ms_error_set(g->err, EIO, "%s: %s", g->u->text, why);
		return;
	}
	len = evbuffer_get_length(body);
	g->rc = ms_etcd_range_parse((const char *)evbuffer_pullup(body, -1), len, g->u->text, g->reply, g->err);
	if (g->rc == 0 && !g->reply->found)
		g->rc = ms_error_set(g->err, ENOENT, "%s: no such key in etcd (revision %lld); put the inventory there with etcdctl put %s < inventory.json",
				     g->u->text, (long long)g->reply->revision, g->u->key);
}

int ms_etcd_get(const struct ms_etcd_url *u, struct ms_etcd_reply *r, struct ms_error *err)
{
	struct event_base *base = event_base_new();
	struct get g = { base, u, r, err, -EIO };
	char *body = ms_etcd_range_body(u->key);
	struct etcd_req *req = NULL;

	memset(r, 0, sizeof(*r));
	if (!base || !body || !(req = etcd_post(base, u, MS_ETCD_API "/kv/range", body, MS_ETCD_TIMEOUT_S, NULL, got, &g)))
		g.rc = ms_error_set(err, ENOMEM, "%s: cannot start a request (out of memory or a bad host name)", u->text);
	else
		event_base_dispatch(base);
	if (g.rc < 0)
		ms_etcd_reply_free(r);
	etcd_req_free(req);
	free(body);
	if (base)
		event_base_free(base);
	return g.rc;
}
