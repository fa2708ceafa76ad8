/*
 * Watches a file for replacement or rewrite (inotify on its directory: editors and config
 * management replace files by rename; Kubernetes swaps a "..data" symlink) and calls back once
 * the changes have settled.
 */
#ifndef MESHSEC_WATCH_H
#define MESHSEC_WATCH_H

#include <event2/event.h>

#include "meshsec/error.h"

struct watch;

int watch_open(struct event_base *base, const char *path, void (*cb)(void *arg), void *arg,
	       struct watch **out, struct ms_error *err);
void watch_close(struct watch *w);

#endif
