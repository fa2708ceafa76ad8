/* Small accessors on the mesh model and the cipher table. */
#include "config.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "meshsec/exclude.h"
#include "meshsec/index.h"
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
	if (inv->by_name)
		return ms_index_get(inv->by_name, name, strlen(name));
	for (size_t i = 0; i < inv->n_nodes; i++)
		if (strcmp(inv->nodes[i].name, name) == 0)
			return (int)i;
	return -1;
}

int ms_inventory_find_addr(const struct ms_inventory *inv, const struct ms_addr *a)
{
	unsigned char key[MS_ADDR_KEY_MAX];

	if (a->family != AF_INET && a->family != AF_INET6)
		return -1;
	if (inv->by_addr)
		return ms_index_get(inv->by_addr, key, ms_addr_key(a, key));
	for (size_t i = 0; i < inv->n_nodes; i++) {
		const struct ms_addr *mine = ms_node_addr(&inv->nodes[i], a->family);

		if (mine && ms_addr_equal(mine, a))
			return (int)i;
	}
	return -1;
}

void ms_inventory_free(struct ms_inventory *inv)
{
	if (!inv)
		return;
	ms_index_free(inv->by_name);
	ms_index_free(inv->by_addr);
	for (size_t i = 0; inv->nodes && i < inv->n_nodes; i++)
		free(inv->nodes[i].exclude);
	free(inv->nodes);
	free(inv->exclude);
	free(inv);
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(const struct ms_node *const *)a)->name, (*(const struct ms_node *const *)b)->name);
}

int ms_inventory_digest(const struct ms_inventory *inv, uint8_t out[MS_DIGEST_LEN])
{
	const struct ms_node **sorted = malloc((inv->n_nodes + 1) * sizeof(*sorted));
	crypto_generichash_state st;
	uint8_t head[2 + 1] = { (uint8_t)(inv->port >> 8), (uint8_t)inv->port, (uint8_t)inv->cipher };

	if (!sorted)
		return -1;
	for (size_t i = 0; i < inv->n_nodes; i++)
		sorted[i] = &inv->nodes[i];
	qsort(sorted, inv->n_nodes, sizeof(*sorted), by_name);
	crypto_generichash_init(&st, NULL, 0, MS_DIGEST_LEN);
	crypto_generichash_update(&st, (const uint8_t *)inv->mesh_name, strlen(inv->mesh_name) + 1);
	crypto_generichash_update(&st, head, sizeof(head));
	ms_exclude_digest(&st, inv->exclude, inv->n_exclude);
	for (size_t i = 0; i < inv->n_nodes; i++) {
		const struct ms_node *n = sorted[i];
		uint8_t fam[2] = { (uint8_t)(n->v4.family != 0), (uint8_t)(n->v6.family != 0) };

		crypto_generichash_update(&st, (const uint8_t *)n->name, strlen(n->name) + 1);
		crypto_generichash_update(&st, fam, sizeof(fam));
		crypto_generichash_update(&st, n->v4.u.raw, 4);
		crypto_generichash_update(&st, n->v6.u.raw, 16);
		if (n->mode != MS_MODE_REQUIRE) {	/* so all-require inventories keep their digest */
			uint8_t mode = (uint8_t)n->mode;

			crypto_generichash_update(&st, &mode, 1);
		}
		ms_exclude_digest(&st, n->exclude, n->n_exclude);
	}
	crypto_generichash_final(&st, out, MS_DIGEST_LEN);
	free(sorted);
	return 0;
}
