/*
 * Self-identification: match the host's addresses (or --node) against the inventory.  A node
 * named by --node must own one of the host's addresses too, unless the caller says it need not:
 * an agent for another node installs that node's policies, in the wrong place.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/self.h"
#include "meshsec/suggest.h"

/* Host addresses named in full in a message; beyond that, a count. */
#define SHOW_MAX 4

static bool node_has(const struct ms_node *n, const struct ms_addr *a)
{
	const struct ms_addr *mine = ms_node_addr(n, a->family);

	return mine && ms_addr_equal(mine, a);
}

/* How many nodes own a local address; the first two found go to *first and *second. */
static size_t owners(const struct ms_inventory *inv, const struct ms_addr *local, size_t n_local,
		     size_t *first, size_t *second)
{
	size_t found = 0;

	for (size_t i = 0; i < inv->n_nodes; i++) {
		for (size_t j = 0; j < n_local; j++) {
			if (!node_has(&inv->nodes[i], &local[j]))
				continue;
			if (found == 0)
				*first = i;
			else if (found == 1)
				*second = i;
			found++;
			break;
		}
	}
	return found;
}

static void append(char *buf, size_t len, const char *s)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", used ? ", " : "", s);
}

/* "its addresses: 10.0.0.1, fd00::1" or "this host has 37 addresses": loopback and link-local left out. */
static void host_text(const struct ms_addr *local, size_t n_local, char *buf, size_t len)
{
	char list[SHOW_MAX * (MS_ADDR_STRLEN + 2)] = "", a[MS_ADDR_STRLEN];
	size_t shown = 0;

	for (size_t i = 0; i < n_local; i++)
		shown += ms_addr_can_be_member(&local[i]);
	if (shown == 0) {
		snprintf(buf, len, "this host has no address but loopback and link-local ones");
		return;
	}
	if (shown > SHOW_MAX) {
		snprintf(buf, len, "this host has %zu addresses", shown);
		return;
	}
	for (size_t i = 0; i < n_local; i++)
		if (ms_addr_can_be_member(&local[i]))
			append(list, sizeof(list), ms_addr_format(&local[i], a, sizeof(a)));
	snprintf(buf, len, "this host's addresses: %s", list);
}

static int check_local(const struct ms_inventory *inv, size_t idx, const struct ms_addr *local, size_t n_local,
		       struct ms_error *err)
{
	const struct ms_node *n = &inv->nodes[idx];
	char mine[2 * (MS_ADDR_STRLEN + 2)] = "", host[64 + SHOW_MAX * (MS_ADDR_STRLEN + 2)], owner[MS_NAME_MAX + 40] = "";
	char a[MS_ADDR_STRLEN];
	size_t first = 0, second = 0;

	for (size_t i = 0; i < n_local; i++)
		if (node_has(n, &local[i]))
			return 0;
	if (n->v4.family)
		append(mine, sizeof(mine), ms_addr_format(&n->v4, a, sizeof(a)));
	if (n->v6.family)
		append(mine, sizeof(mine), ms_addr_format(&n->v6, a, sizeof(a)));
	host_text(local, n_local, host, sizeof(host));
	if (owners(inv, local, n_local, &first, &second) == 1)
		snprintf(owner, sizeof(owner), "; by them this host is node \"%s\"", inv->nodes[first].name);
	return ms_error_set(err, EADDRNOTAVAIL,
			    "--node %s: none of its inventory addresses (%s) is on this host (%s%s); run the agent for %s on its own host or network namespace, "
			    "drop --node to find this node by its addresses, or add --no-address-check if %s's address is not on this host by design (NAT)",
			    n->name, mine, host, owner, n->name, n->name);
}

/* A typo in --node gets the closest name, as a typo in a command or an inventory key does. */
static int no_such_node(const struct ms_inventory *inv, const char *name, struct ms_error *err)
{
	const char **names = calloc(inv->n_nodes + 1, sizeof(*names)), *hint = NULL;

	for (size_t i = 0; names && i < inv->n_nodes; i++)
		names[i] = inv->nodes[i].name;
	if (names)
		hint = ms_suggest(name, names);
	if (hint)
		ms_error_set(err, ENOENT, "--node %s: no node of that name in the inventory; did you mean --node %s?", name, hint);
	else
		ms_error_set(err, ENOENT, "--node %s: no node of that name in the inventory; check the spelling or add the node", name);
	free(names);
	return -ENOENT;
}

int ms_self_find(const struct ms_inventory *inv, const char *name, bool anywhere,
		 const struct ms_addr *local, size_t n_local, size_t *idx, struct ms_error *err)
{
	size_t found, first = 0, second = 0;

	if (name) {
		int i = ms_inventory_find(inv, name);

		if (i < 0)
			return no_such_node(inv, name, err);
		if (!anywhere) {
			int rc = check_local(inv, (size_t)i, local, n_local, err);

			if (rc)
				return rc;
		}
		*idx = (size_t)i;
		return 0;
	}
	found = owners(inv, local, n_local, &first, &second);
	if (found == 1) {
		*idx = first;
		return 0;
	}
	if (found == 0)
		return ms_error_set(err, ENOENT, "none of this host's %zu addresses is in the inventory; add this node to it, or pass --node NAME", n_local);
	return ms_error_set(err, EEXIST, "this host has addresses of %zu nodes (\"%s\" and \"%s\"); pass --node NAME to choose",
			    found, inv->nodes[first].name, inv->nodes[second].name);
}
