/*
 * The planner: from the model and this node's index to the kernel objects it should have.
 */
#ifndef MESHSEC_PLAN_H
#define MESHSEC_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshsec/error.h"
#include "meshsec/model.h"

/* The pair's reqid: the same on both ends, in the ownership range. */
uint32_t ms_pair_reqid(const char *a, const char *b);

/*
 * Orders SPs by what identifies them in the kernel (direction, selector), for qsort and for
 * walking a desired list against an observed one; 0 means "the same policy".
 */
int ms_sp_cmp(const void *a, const void *b);

/*
 * Desired SPs for node self: per peer and shared address family, out `any -> peer` and in
 * `peer -> any`.  Peers with no family in common with self get none (ms_plan_unreachable counts
 * them).  Then the node-wide bypass SPs (model.h) of the families in use: inbound multicast and
 * broadcast, and for IPv6 the four neighbour-discovery SPs; then the exclusions' template-less SPs
 * (meshsec/exclude.h).  *out is malloc'd; the caller frees it.
 */
int ms_plan_policies(const struct ms_inventory *inv, size_t self,
		     struct ms_sp **out, size_t *n_out, struct ms_error *err);

/*
 * A pair SP's template for the pair's mode and state (model.h, enum ms_mode): require: ESP
 * required both ways; prefer: inbound optional, outbound optional while the pair is up (the
 * kernel then uses its SA) and template-less (clear) while it is not.  ms_plan_policies plans
 * every pair as not up.  Returns whether sp changed; other SPs are left alone.
 */
bool ms_plan_set_up(const struct ms_inventory *inv, size_t self, struct ms_sp *sp, bool up);

/* " sport 443 dport 8064/0xffe0": the port masks of a selector (as ip xfrm takes them when
 * the mask is full), "" when it has none; into buf, returned. */
const char *ms_sp_port_words(const struct ms_sp *sp, char *buf, size_t n);

/* "out any -> 10.0.0.2", "in 10.0.0.2 -> any", "in any -> 224.0.0.0/4 (bypass)": into buf, returned. */
#define MS_SP_STRLEN 128
const char *ms_sp_format(const struct ms_sp *sp, char *buf, size_t len);

/* Peers of self that share no address family with it (they cannot be protected). */
size_t ms_plan_unreachable(const struct ms_inventory *inv, size_t self);

#endif
