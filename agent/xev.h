/*
 * The kernel's XFRM notifications the agent acts on: soft EXPIRE of its SAs (time, bytes or
 * packets reached), which start a rekey.  A socket of its own, apart from the request socket,
 * with a large buffer; an overflow (ENOBUFS) is logged and the agent's own rekey timer covers it.
 */
#ifndef MESHSEC_XEV_H
#define MESHSEC_XEV_H

#include <event2/event.h>
#include <stdint.h>

#include "meshsec/error.h"
#include "meshsec/model.h"

struct xev;

/* Called for a soft expire of a tagged SA. */
typedef void (*xev_expire_fn)(void *ctx, const struct ms_addr *src, const struct ms_addr *dst, uint32_t spi);

int xev_open(struct event_base *base, xev_expire_fn fn, void *ctx, struct xev **out, struct ms_error *err);
void xev_close(struct xev *x);

#endif
