/*
 * The name this host last ran the mesh as, kept across reboots (/var/lib/meshsec/node): at
 * boot, before the network has given the host its addresses, it is how `meshsec
 * install-policies` knows which node it is, and so which policies to install.
 */
#ifndef MESHSEC_NODE_STATE_H
#define MESHSEC_NODE_STATE_H

#include <stddef.h>

#include "meshsec/error.h"

#define MS_DEFAULT_NODE_STATE "/var/lib/meshsec/node"

/* Writes name atomically (temporary file, fsync, rename); 0 or -errno with err. */
int node_state_write(const char *path, const char *name, struct ms_error *err);
/* Reads the name (one line); 0, -ENOENT when there is none, or -errno with err. */
int node_state_read(const char *path, char *name, size_t len, struct ms_error *err);

#endif
