/* Self-identification: match the host's addresses (or --node) against the inventory. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "meshsec/self.h"

static bool node_has(const struct ms_node *n, const struct ms_addr *a)
{
	const struct ms_addr *mine = ms_node_addr(n, a->family);

	return mine && ms_addr_equal(mine, a);
}

int ms_self_find(const struct ms_inventory *inv, const char *name,
		 const struct ms_addr *local, size_t n_local, size_t *idx, struct ms_error *err)
{
	size_t found = 0, first = 0, second = 0;

	if (name) {
		int i = ms_inventory_find(inv, name);

		if (i < 0)
			return ms_error_set(err, ENOENT, "--node %s: no node of that name in the inventory; check the spelling or add the node", name);
		*idx = (size_t)i;
		return 0;
	}
	for (size_t i = 0; i < inv->n_nodes; i++) {
		for (size_t j = 0; j < n_local; j++) {
			if (!node_has(&inv->nodes[i], &local[j]))
				continue;
			if (found == 0)
				first = i;
			else if (found == 1)
				second = i;
			found++;
			break;
		}
	}
	if (found == 1) {
		*idx = first;
		return 0;
	}
	if (found == 0)
		return ms_error_set(err, ENOENT, "none of this host's %zu addresses is in the inventory; add this node to it, or pass --node NAME", n_local);
	return ms_error_set(err, EEXIST, "this host has addresses of %zu nodes (\"%s\" and \"%s\"); pass --node NAME to choose",
			    found, inv->nodes[first].name, inv->nodes[second].name);
}
