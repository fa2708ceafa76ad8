/*
 * Can this kernel carry the mesh's traffic?  A kernel without ESP (a VM image without esp4, a
 * container host) accepts the policies, which then drop every member packet with no SA ever
 * possible: a silent blackhole.  The agent refuses to start there; check and doctor say so.
 */
#ifndef MESHSEC_ESP_PROBE_H
#define MESHSEC_ESP_PROBE_H

#include <stddef.h>

#include "meshsec/error.h"
#include "meshsec/model.h"
#include "meshsec/xnl.h"

/*
 * In the agent's own namespace: an SPI reserved for self -> self (a larval state of ours), filled
 * with the cipher, then deleted whatever happened.  0, or -errno with the module to load in err.
 */
int esp_probe(struct xnl *x, const struct ms_addr *self, enum ms_cipher cipher, struct ms_error *err);

/* The same test in a private network namespace of a child process (touches nothing); 0 or -1 and why. */
int esp_probe_private(int family, enum ms_cipher cipher, char *why, size_t len);

/* "esp4" / "esp6" */
const char *esp_module(int family);

#endif
