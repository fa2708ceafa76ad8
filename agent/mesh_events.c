/*
 * Events for `meshsec events` (agent/CONTROL.md, "Events"): the core's (handshakes, rekeys,
 * up/down and reasons, self-healing) and the shell's (reloads, policy conflicts), each one JSON
 * object stamped with the wall-clock time, handed to whoever listens (the control socket).
 * Nothing is formatted while nobody listens: with no publish hook, or while its listening hook
 * says nobody is there (meshsecd: the control socket has no subscriber).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mesh.h"

void mesh_on_events(struct mesh *m, mesh_publish_fn fn, mesh_listening_fn listening, void *ctx)
{
	m->publish = fn;
	m->listening = listening;
	m->publish_ctx = ctx;
}

static bool listened(const struct mesh *m)
{
	return m->publish && (!m->listening || m->listening(m->publish_ctx));
}

/* RFC 3339, UTC, milliseconds: "2026-11-23T10:04:05.123Z". */
static void now_text(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* A new event: time, type and peer first, as a reader scans them. */
static json_t *ev_object(const char *type, const char *peer, char *time, size_t len)
{
	json_t *o = json_object();

	now_text(time, len);
	if (o) {
		json_object_set_new(o, "time", json_string(time));
		json_object_set_new(o, "type", json_string(type));
		json_object_set_new(o, "peer", peer ? json_string(peer) : json_null());
	}
	return o;
}

static void publish(struct mesh *m, json_t *o, const char *time)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (text)
		m->publish(m->publish_ctx, text, time);
	free(text);
	json_decref(o);
}

void mesh_event_core(struct mesh *m, const struct core_event *ev)
{
	char time[40];
	json_t *o;

	if (!listened(m) || !(o = ev_object(core_event_name(ev->type), ev->peer, time, sizeof(time))))
		return;
	if (ev->why)
		json_object_set_new(o, "reason", json_pack("{s:s,s:s,s:s}", "code", core_reason_code(ev->why->code),
							   "message", ev->why->message, "fix", ev->why->fix));
	if (ev->detail)
		json_object_set_new(o, "detail", json_string(ev->detail));
	if (ev->type == CORE_EV_HANDSHAKE || ev->type == CORE_EV_REKEY)
		json_object_set_new(o, "handshakes", json_integer((json_int_t)ev->handshakes));
	publish(m, o, time);
}

void mesh_event(struct mesh *m, const char *type, const char *peer, const char *detail)
{
	char time[40];
	json_t *o;

	if (!listened(m) || !(o = ev_object(type, peer, time, sizeof(time))))
		return;
	json_object_set_new(o, "detail", json_string(detail));
	publish(m, o, time);
}
