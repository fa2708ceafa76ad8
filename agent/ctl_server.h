/*
 * The control socket's server side: a unix stream socket, one JSON request per line, one JSON
 * response per line (agent/CONTROL.md).  This file owns the socket, connections, framing,
 * bounds and permissions; what a request means is the handler's business.
 */
#ifndef MESHSEC_CTL_SERVER_H
#define MESHSEC_CTL_SERVER_H

#include <event2/event.h>
#include <jansson.h>
#include <sys/types.h>

#include "meshsec/ctl.h"
#include "meshsec/error.h"

/*
 * Fills resp (an object; "version" and "result" are added by the server) and returns the
 * result code; on an error code, resp's "message" should say why and what to do.  A handler
 * with a large answer may instead set *body to the text of a JSON object (malloc'd; the
 * server frees it), which is sent with "version" and "result" put in front.
 */
typedef enum ms_ctl_result (*ctl_handler_fn)(void *ctx, const struct ms_ctl_req *req, json_t *resp, char **body);

struct ctl_server;

/*
 * Requests answered later (netcheck waits on the network).  fn returns MS_CTL_OK to keep d and
 * answer through ctl_deferred_reply exactly once, after it returned; any other result is sent
 * at once with resp (fn then forgets d).  Until the answer, the client's further requests wait.
 */
struct ctl_deferred;
typedef enum ms_ctl_result (*ctl_deferred_fn)(void *ctx, const struct ms_ctl_req *req, struct ctl_deferred *d,
					     json_t *resp);
void ctl_set_deferred(struct ctl_server *s, enum ms_ctl_type type, ctl_deferred_fn fn, void *ctx);
/* Sends the answer (resp taken) if the client is still connected, and frees d. */
void ctl_deferred_reply(struct ctl_deferred *d, enum ms_ctl_result rc, json_t *resp);

/* Creates the socket (0660, group "meshsec" if it exists), replacing a stale one. */
int ctl_open(struct event_base *base, const char *path, ctl_handler_fn fn, void *ctx, struct ctl_server **out,
	     struct ms_error *err);
/*
 * Sends one event (a JSON object's text, no newline) to every connection that asked for
 * "events".  One that has more than 64 KiB unread loses events instead; the next one it gets is
 * preceded by {"time":time,"type":"dropped","peer":null,"count":N}, and one whose unread events
 * stay over 64 KiB for 10 s is closed (agent/CONTROL.md, "Events").
 */
void ctl_publish(struct ctl_server *s, const char *line, const char *time);
/* How many connections stream events now (0 for a NULL server): none, and nothing need be formatted. */
size_t ctl_subscribers(const struct ctl_server *s);
/* Closes every connection and removes the socket file. */
void ctl_close(struct ctl_server *s);

#endif
