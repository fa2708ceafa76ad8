/*
 * One POST to etcd's JSON gateway over libevent's HTTP client (plain HTTP: README, "Inventory
 * in etcd"), streamed (the watch) or whole (a range); and the whole read of the key that
 * `meshsec check` and the agent's start make, on a loop of its own.
 */
#ifndef MESHSEC_ETCD_HTTP_H
#define MESHSEC_ETCD_HTTP_H

#include <event2/buffer.h>
#include <event2/event.h>

#include "meshsec/etcd.h"

#define MS_ETCD_TIMEOUT_S 10	/* a range's answer; the watch stream uses its own */

struct etcd_req;

/* A streamed answer's next bytes (drain what is used); NULL: the body comes whole to done. */
typedef void (*etcd_chunk_fn)(void *arg, struct evbuffer *in);
/* The answer ended: why is NULL on HTTP 200 (body holds what chunk did not take), else the failure. */
typedef void (*etcd_done_fn)(void *arg, struct evbuffer *body, const char *why);

/* Starts a POST of body to u's host at path (MS_ETCD_API "/kv/range", ...); NULL: out of memory. */
struct etcd_req *etcd_post(struct event_base *base, const struct ms_etcd_url *u, const char *path, const char *body,
			   int timeout_s, etcd_chunk_fn chunk, etcd_done_fn done, void *arg);
/* Drops the connection, cancelling an answer under way (done is not called).  Not from a callback. */
void etcd_req_free(struct etcd_req *r);

/* Reads the key once, blocking up to MS_ETCD_TIMEOUT_S; a missing key is an error. */
int ms_etcd_get(const struct ms_etcd_url *u, struct ms_etcd_reply *r, struct ms_error *err);

#endif
