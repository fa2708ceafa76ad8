/* The optional Prometheus listener: GET /metrics over HTTP (libevent's evhttp). */
#ifndef MESHSEC_METRICS_HTTP_H
#define MESHSEC_METRICS_HTTP_H

#include <event2/event.h>

#include "meshsec/error.h"
#include "mesh.h"

struct metrics_http;

/*
 * listen: "PORT" (on 127.0.0.1), "ADDR:PORT" or "[V6ADDR]:PORT"; token_file: the bearer token
 * scrapers must send (metrics_token.h); without one the listener is refused.
 */
int metrics_http_open(struct event_base *base, const char *listen, const char *token_file, struct mesh *m,
		      struct metrics_http **out, struct ms_error *err);
void metrics_http_close(struct metrics_http *h);

#endif
