/* libFuzzer harness: the inventory parser must refuse or accept any bytes without a fault. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/inventory.h"
#include "meshsec/plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_inventory *inv;
	struct ms_error err;

	if (ms_inventory_parse((const char *)data, size, "fuzz", &inv, &err) == 0) {
		struct ms_sp *sps;
		size_t n;

		/* An accepted model must plan for every node without a fault. */
		for (size_t i = 0; i < inv->n_nodes && i < 8; i++)
			if (ms_plan_policies(inv, i, &sps, &n, &err) == 0)
				free(sps);
		ms_inventory_free(inv);
	} else if (memchr(err.msg, '\0', sizeof(err.msg)) == NULL) {
		__builtin_trap();	/* every message is terminated */
	}
	return 0;
}
