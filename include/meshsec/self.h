/*
 * Which node of the inventory is this host: by name (--node) or by its local addresses.
 */
#ifndef MESHSEC_SELF_H
#define MESHSEC_SELF_H

#include <stdbool.h>
#include <stddef.h>

#include "meshsec/error.h"
#include "meshsec/model.h"

/*
 * Sets *idx to this node's index.  With name, that node must exist and own one of the local
 * addresses (unless anywhere: NAT, or an address not configured yet); the error names the node,
 * its addresses and the host's.  Without name, exactly one node must own one of the local
 * addresses; none or several is an error naming what was seen.
 */
int ms_self_find(const struct ms_inventory *inv, const char *name, bool anywhere,
		 const struct ms_addr *local, size_t n_local, size_t *idx, struct ms_error *err);

#endif
