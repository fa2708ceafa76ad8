/*
 * Which node of the inventory is this host: by name (--node) or by its local addresses.
 */
#ifndef MESHSEC_SELF_H
#define MESHSEC_SELF_H

#include <stddef.h>

#include "meshsec/error.h"
#include "meshsec/model.h"

/*
 * Sets *idx to this node's index.  With name, that node must exist.  Otherwise exactly one node
 * must own one of the local addresses; none or several is an error naming what was seen.
 */
int ms_self_find(const struct ms_inventory *inv, const char *name,
		 const struct ms_addr *local, size_t n_local, size_t *idx, struct ms_error *err);

#endif
