/*
 * libFuzzer harness: the NodeList-to-inventory renderer must refuse or render any bytes without a
 * fault.  Input: TEMPLATE NUL NODELIST, or a NodeList alone under a fixed template.  Whatever it
 * renders must load as an inventory.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/inventory.h"
#include "meshsec/kube_nodes.h"

#define MESH "{\"version\":1,\"mesh\":{\"name\":\"fuzz\"}}"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void left_out(void *ctx, const char *node, const char *reason)
{
	(void)ctx;
	if (!memchr(node, '\0', 4096) || !memchr(reason, '\0', MS_ERROR_MAX))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *mesh = MESH, *nodes = text;
	size_t mesh_len = sizeof(MESH) - 1, nodes_len = size, n;
	const char *nul = memchr(text, '\0', size);
	struct ms_inventory *inv;
	struct ms_error err;
	char *out;

	if (nul) {
		mesh = text;
		mesh_len = (size_t)(nul - text);
		nodes = nul + 1;
		nodes_len = size - mesh_len - 1;
	}
	if (ms_kube_render(nodes, nodes_len, mesh, mesh_len, "fuzz", left_out, NULL, &out, &n, &err) == 0) {
		if (ms_inventory_parse(out, strlen(out), "rendered", &inv, &err) != 0 || inv->n_nodes != n)
			__builtin_trap();	/* rendered means loadable, with every member */
		ms_inventory_free(inv);
		free(out);
	} else if (out || memchr(err.msg, '\0', sizeof(err.msg)) == NULL) {
		__builtin_trap();
	}
	return 0;
}
