/*
 * Loading what a node runs on: inventory + secret + which node this is.  Shared by the
 * agent (start and reload) and `meshsec check`, so both judge a configuration the same way.
 */
#ifndef MESHSEC_CONF_H
#define MESHSEC_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "meshsec/error.h"
#include "meshsec/inv_source.h"
#include "meshsec/model.h"
#include "meshsec/secret.h"

#define MS_DEFAULT_INVENTORY "/etc/meshsec/inventory.json"
#define MS_DEFAULT_SECRET "/etc/meshsec/mesh.key"
#define MS_DEFAULT_SOCKET "/run/meshsec/meshsec.sock"

struct conf_paths {
	const char *inventory, *secret, *node;	/* node may be NULL: find by address */
	bool node_anywhere;	/* --no-address-check: the named node's address need not be on this host */
	const struct ms_inv_text *given;	/* set: inventory's text, already read (the etcd watch) */
};

struct conf {
	struct ms_inventory *inv;
	struct ms_secret *secret;
	size_t self;
	char found_by[96];	/* how self was found, for humans */
};

/* Loads and validates everything; on error nothing is kept and err says why. */
int conf_load(const struct conf_paths *p, struct conf *c, struct ms_error *err);

/*
 * Loads the inventory only (from p->given, else read from p->inventory: a file or an etcd://
 * URL) and finds self again (a reload keeps the secret it has).
 */
int conf_load_inventory(const struct conf_paths *p, struct ms_inventory **inv, size_t *self,
			  char *found_by, size_t found_by_len, struct ms_error *err);

void conf_free(struct conf *c);

#endif
