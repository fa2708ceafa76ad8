/*
 * A Kubernetes cluster's nodes to an inventory: a NodeList (`kubectl get nodes -o json`) and a
 * mesh template ({"version": 1, "mesh": {...}, "nodes": [members outside the cluster]}) to
 * inventory JSON text, so a node that joins the cluster joins the mesh with nothing written by
 * hand.
 *
 * Per node: metadata.name is the inventory name (the agent's --node is spec.nodeName, the same
 * string); its InternalIP addresses, the first IPv4 and the first IPv6; the label
 * meshsec.io/member "false" leaves it out; the label meshsec.io/mode sets nodes[].mode.
 * Nodes come out sorted by name, one a line, so the text changes only when a member, an
 * address or a mode does.  The result is parsed with the inventory parser before it is returned.
 *
 * A node that cannot be a member (a name over 63 characters: Kubernetes allows 253; no usable
 * InternalIP yet) is left out and reported through left_out, never silently; its agent then
 * refuses to start, saying it is not in the inventory.  Input that is wrong as a whole (not a
 * NodeList, two nodes of one name, a label or annotation with a value other than the ones above,
 * a rendered inventory the parser refuses) is an error, and nothing is returned.
 */
#ifndef MESHSEC_KUBE_NODES_H
#define MESHSEC_KUBE_NODES_H

#include <stddef.h>

#include "meshsec/error.h"

#define MS_KUBE_LABEL_MEMBER "meshsec.io/member"
#define MS_KUBE_LABEL_MODE "meshsec.io/mode"

/* Called once per node left out, with its name (or "items[N]") and the reason with the fix. */
typedef void (*ms_kube_left_out_fn)(void *ctx, const char *node, const char *reason);

/*
 * nodes: the NodeList text; mesh: the template text, mesh_source names it in messages.
 * On success *out is the inventory text (malloc'd, NUL-terminated, ending in a newline) and
 * *n_nodes how many nodes it lists.
 */
int ms_kube_render(const char *nodes, size_t nodes_len, const char *mesh, size_t mesh_len, const char *mesh_source,
		   ms_kube_left_out_fn left_out, void *ctx, char **out, size_t *n_nodes, struct ms_error *err);

#endif
