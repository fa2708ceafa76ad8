/*
 * Follows the inventory in an etcd key: reads it (range), then watches it from the next
 * revision; when the stream ends or fails, reads it again after a capped exponential backoff,
 * so a change made while etcd was away is picked up.  Values come to on_value only when their
 * revision differs from the last one delivered; on_state says when etcd cannot be read (why)
 * and when it can again (NULL).
 */
#ifndef MESHSEC_ETCD_WATCH_H
#define MESHSEC_ETCD_WATCH_H

#include <event2/event.h>

#include "meshsec/error.h"
#include "meshsec/inv_source.h"

#define ETCD_RETRY_MIN_MS 500
#define ETCD_RETRY_MAX_MS 8000
#define ETCD_WATCH_IDLE_S 900	/* a stream silent this long (no progress notice either) is renewed */

struct etcd_watch_cb {
	void (*on_value)(void *arg, const struct ms_inv_text *t);
	void (*on_state)(void *arg, const char *why);
	void *arg;
};

struct etcd_watch;

/* revision: the value's mod_revision the agent started with. */
int etcd_watch_open(struct event_base *base, const char *url, int64_t revision, const struct etcd_watch_cb *cb,
		    struct etcd_watch **out, struct ms_error *err);
/* Reads the key again now (SIGHUP). */
void etcd_watch_resync(struct etcd_watch *w);
void etcd_watch_close(struct etcd_watch *w);

#endif
