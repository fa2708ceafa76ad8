/* Configuration loading: parse, validate, identify self.  Touches no kernel state. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/inventory.h"
#include "meshsec/self.h"
#include "meshsec/conf.h"
#include "meshsec/localaddr.h"

static int load(const struct conf_paths *p, struct ms_inventory **inv, struct ms_error *err)
{
	if (p->given)
		return ms_inventory_parse(p->given->text, p->given->len, p->inventory, inv, err);
	return ms_inv_source_load(p->inventory, inv, err);
}

int conf_load_inventory(const struct conf_paths *p, struct ms_inventory **inv, size_t *self,
			  char *found_by, size_t found_by_len, struct ms_error *err)
{
	struct ms_addr *local = NULL;
	size_t n_local = 0;
	int ret;

	if (p->node_anywhere && !p->node)
		return ms_error_set(err, EINVAL, "--no-address-check needs --node NAME: without a name, this node is found by its addresses");
	if ((ret = load(p, inv, err)))
		return ret;
	if (!p->node_anywhere && (ret = localaddr_list(&local, &n_local)) < 0) {
		ms_inventory_free(*inv);
		*inv = NULL;
		return ms_error_set(err, -ret, "cannot list this host's addresses: %s; pass --node NAME --no-address-check", strerror(-ret));
	}
	ret = ms_self_find(*inv, p->node, p->node_anywhere, local, n_local, self, err);
	free(local);
	if (ret) {
		ms_inventory_free(*inv);
		*inv = NULL;
		return ms_error_prefix(err, ret, "%s", p->inventory);
	}
	snprintf(found_by, found_by_len, "%s", !p->node ? "found by this host's address"
		 : p->node_anywhere ? "named by --node, address not checked" : "named by --node, address on this host");
	return 0;
}

int conf_load(const struct conf_paths *p, struct conf *c, struct ms_error *err)
{
	int ret;

	memset(c, 0, sizeof(*c));
	ret = conf_load_inventory(p, &c->inv, &c->self, c->found_by, sizeof(c->found_by), err);
	if (ret)
		return ret;
	ret = ms_secret_load(p->secret, &c->secret, err);
	if (ret) {
		conf_free(c);
		return ret;
	}
	return 0;
}

void conf_free(struct conf *c)
{
	ms_inventory_free(c->inv);
	ms_secret_free(c->secret);
	memset(c, 0, sizeof(*c));
}
