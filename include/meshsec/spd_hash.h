/*
 * Hashing meshsec's policies.  Their local side is open (`any -> peer`, `peer -> any`), which the
 * kernel's default thresholds (local 32, remote 32) send to the inexact lookup: measured at
 * 20,000 peers, +0.9 to +1.6 us a packet in each direction, growing with the mesh
 * (tests/bench/policy-lookup.sh).  With local 0 and remote 32 / 128 they hash on the peer's
 * address and cost what exact policies do, flat in N.  The kernel applies the local bits to an
 * out policy's source and an in policy's destination (net/xfrm/xfrm_policy.c,
 * xfrm_hash_rebuild).  The setting is the namespace's: other owners' exact policies still hash
 * (on the remote side only), their subnet policies stay inexact as before, and which policy wins
 * does not change (the bench checks verdicts both ways).  Each change rebuilds the whole table
 * (20-47 ms measured at 40,000 policies), so it is read first and written only when it differs,
 * and never undone.
 */
#ifndef MESHSEC_SPD_HASH_H
#define MESHSEC_SPD_HASH_H

#include <stdbool.h>

#include "meshsec/error.h"
#include "meshsec/xnl.h"

/* Sets local 0 / remote full length for both families unless already so; *changed says if it did. */
int spd_hash_ensure(struct xnl *x, bool *changed, struct ms_error *err);

#endif
