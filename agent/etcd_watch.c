/* The etcd inventory follower: range, then watch, then range again on any end (etcd_watch.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/etcd_http.h"
#include "etcd_watch.h"

enum step { STEP_RANGE, STEP_WATCH };

struct etcd_watch {
	struct event_base *base;
	struct ms_etcd_url url;
	struct etcd_watch_cb cb;
	struct etcd_req *req;
	struct event *timer;
	enum step next;
	int64_t delivered;	/* mod_revision of the last value given to on_value (or started with) */
	int64_t watch_from;	/* the watch's start_revision */
	unsigned retry_ms;
	bool failing;
	bool missing;		/* the key is absent: etcd answering does not make the source healthy */
	bool stopped;		/* the request under way failed: ignore it until the timer replaces it */
	struct evbuffer *line;	/* the watch stream's bytes not yet split into messages */
};

static void schedule(struct etcd_watch *w, enum step next, unsigned delay_ms)
{
	struct timeval tv = { delay_ms / 1000, (delay_ms % 1000) * 1000 };

	w->next = next;
	evtimer_add(w->timer, &tv);
}

/* The key cannot be followed: say why; with retry, drop the request and read the key again later. */
static void __attribute__((format(printf, 3, 4))) failing(struct etcd_watch *w, bool retry, const char *fmt, ...)
{
	char msg[MS_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->failing = true;
	w->cb.on_state(w->cb.arg, msg);
	if (!retry)
		return;
	w->stopped = true;
	schedule(w, STEP_RANGE, w->retry_ms);
	w->retry_ms = w->retry_ms * 2 > ETCD_RETRY_MAX_MS ? ETCD_RETRY_MAX_MS : w->retry_ms * 2;
}

static void healthy(struct etcd_watch *w)
{
	w->retry_ms = ETCD_RETRY_MIN_MS;
	if (w->failing && !w->missing) {
		w->failing = false;
		w->cb.on_state(w->cb.arg, NULL);
	}
}

static void deliver(struct etcd_watch *w, struct ms_etcd_reply *r)
{
	struct ms_inv_text t = { r->value, r->value_len, r->mod_revision };

	if (r->mod_revision == w->delivered)
		return;
	w->delivered = r->mod_revision;
	w->cb.on_value(w->cb.arg, &t);
}

static void on_range(void *arg, struct evbuffer *body, const char *why)
{
	struct etcd_watch *w = arg;
	struct ms_etcd_reply r;
	struct ms_error err;

	if (!body) {
		failing(w, true, "%s: %s", w->url.text, why);
		return;
	}
	if (ms_etcd_range_parse((const char *)evbuffer_pullup(body, -1), evbuffer_get_length(body), w->url.text, &r, &err) < 0) {
		failing(w, true, "%s", err.msg);
		return;
	}
	w->watch_from = r.revision + 1;
	w->missing = !r.found;
	if (!r.found) {
		failing(w, false, "%s: no such key in etcd (revision %lld); put the inventory there", w->url.text, (long long)r.revision);
	} else {
		healthy(w);
		deliver(w, &r);
		ms_etcd_reply_free(&r);
	}
	schedule(w, STEP_WATCH, 0);
}

/* One watch message (one line of the stream). */
static int on_message(struct etcd_watch *w, const char *text, size_t len)
{
	struct ms_etcd_reply r;
	struct ms_error err;

	if (ms_etcd_watch_parse(text, len, w->url.text, &r, &err) < 0) {
		failing(w, true, "%s", err.msg);
		return -1;
	}
	if (r.canceled) {
		failing(w, true, "%s: etcd ended the watch (%s); reading the key again", w->url.text,
			r.cancel_reason[0] ? r.cancel_reason : "no reason given");
		return -1;
	}
	if (r.created)
		healthy(w);
	w->missing = r.deleted ? true : r.found ? false : w->missing;
	if (r.deleted) {
		failing(w, false, "%s: the key was deleted in etcd (revision %lld); put the inventory back", w->url.text,
			(long long)r.mod_revision);
		w->delivered = r.mod_revision;
	} else if (r.found) {
		healthy(w);
		deliver(w, &r);
	}
	ms_etcd_reply_free(&r);
	return 0;
}

static void on_chunk(void *arg, struct evbuffer *in)
{
	struct etcd_watch *w = arg;
	struct evbuffer_ptr nl;

	if (w->stopped) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	evbuffer_add_buffer(w->line, in);
	while ((nl = evbuffer_search(w->line, "\n", 1, NULL)).pos >= 0) {
		size_t n = (size_t)nl.pos;
		int rc = on_message(w, (const char *)evbuffer_pullup(w->line, (ev_ssize_t)n), n);

		evbuffer_drain(w->line, n + 1);
		if (rc < 0)
			return;		/* the timer drops this request and reads the key again */
	}
	if (evbuffer_get_length(w->line) > ms_etcd_reply_max())
		failing(w, true, "%s: a watch message is larger than %zu bytes (the inventory's limit in base64)",
			w->url.text, ms_etcd_reply_max());
}

static void on_watch_end(void *arg, struct evbuffer *body, const char *why)
{
	struct etcd_watch *w = arg;

	(void)body;
	if (w->stopped)
		return;		/* a message already failed the stream */
	failing(w, true, "%s: the watch stream ended (%s)", w->url.text, why ? why : "closed by etcd");
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_watch *w = arg;
	char *body;

	(void)fd, (void)what;
	etcd_req_free(w->req);
	w->req = NULL;
	w->stopped = false;
	evbuffer_drain(w->line, evbuffer_get_length(w->line));
	body = w->next == STEP_RANGE ? ms_etcd_range_body(w->url.key) : ms_etcd_watch_body(w->url.key, w->watch_from);
	if (body)
		w->req = w->next == STEP_RANGE
			? etcd_post(w->base, &w->url, MS_ETCD_API "/kv/range", body, MS_ETCD_TIMEOUT_S, NULL, on_range, w)
			: etcd_post(w->base, &w->url, MS_ETCD_API "/watch", body, ETCD_WATCH_IDLE_S, on_chunk, on_watch_end, w);
	free(body);
	if (!w->req)
		failing(w, true, "%s: out of memory starting a request to etcd", w->url.text);
}

int etcd_watch_open(struct event_base *base, const char *url, int64_t revision, const struct etcd_watch_cb *cb,
		    struct etcd_watch **out, struct ms_error *err)
{
	struct etcd_watch *w = calloc(1, sizeof(*w));
	int rc;

	if (!w)
		return ms_error_set(err, ENOMEM, "out of memory");
	if ((rc = ms_etcd_url_parse(url, &w->url, err)) < 0) {
		free(w);
		return rc;
	}
	w->base = base;
	w->cb = *cb;
	w->delivered = revision;
	w->retry_ms = ETCD_RETRY_MIN_MS;
	w->timer = evtimer_new(base, on_timer, w);
	w->line = evbuffer_new();
	if (!w->timer || !w->line) {
		etcd_watch_close(w);
		return ms_error_set(err, ENOMEM, "out of memory");
	}
	schedule(w, STEP_RANGE, 0);
	*out = w;
	return 0;
}

void etcd_watch_resync(struct etcd_watch *w)
{
	w->delivered = -1;	/* a SIGHUP applies the key's value even if its revision was seen */
	schedule(w, STEP_RANGE, 0);
}

void etcd_watch_close(struct etcd_watch *w)
{
	if (!w)
		return;
	etcd_req_free(w->req);
	if (w->timer)
		event_free(w->timer);
	if (w->line)
		evbuffer_free(w->line);
	free(w);
}
