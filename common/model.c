/* Small accessors on the mesh model and the cipher table. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "meshsec/model.h"

static const struct {
	const char *name, *kernel;
	size_t key_len;
} ciphers[] = {
	[MS_CIPHER_AES_GCM_128] = { "aes-gcm-128", "rfc4106(gcm(aes))", 16 + 4 },
	[MS_CIPHER_AES_GCM_256] = { "aes-gcm-256", "rfc4106(gcm(aes))", 32 + 4 },
	[MS_CIPHER_CHACHA20_POLY1305] = { "chacha20-poly1305", "rfc7539esp(chacha20,poly1305)", 32 + 4 },
};

const char *ms_cipher_name(enum ms_cipher c)
{
	return ciphers[c].name;
}

const char *ms_cipher_kernel_name(enum ms_cipher c)
{
	return ciphers[c].kernel;
}

size_t ms_cipher_key_len(enum ms_cipher c)
{
	return ciphers[c].key_len;
}

const struct ms_addr *ms_node_addr(const struct ms_node *n, int family)
{
	const struct ms_addr *a = family == AF_INET ? &n->v4 : &n->v6;

	return a->family ? a : NULL;
}

int ms_inventory_find(const struct ms_inventory *inv, const char *name)
{
	for (size_t i = 0; i < inv->n_nodes; i++)
		if (strcmp(inv->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

void ms_inventory_free(struct ms_inventory *inv)
{
	if (!inv)
		return;
	free(inv->nodes);
	free(inv);
}
