/*
 * Inventory texts that must be refused, and the test that runs one: the parse fails, leaves
 * nothing allocated, and its message names the file and holds each wanted substring.
 * Include after <cmocka.h>; the including file defines the table `bad`.
 */
#ifndef MESHSEC_BAD_INVENTORY_H
#define MESHSEC_BAD_INVENTORY_H

#include <string.h>

#include "meshsec/inventory.h"

struct bad_case {
	const char *json;
	const char *want[3];	/* substrings the message must contain */
};

static void test_bad_input(void **state)
{
	const struct bad_case *c = *state;
	struct ms_inventory *inv = (struct ms_inventory *)1;
	struct ms_error err = { "" };

	if (ms_inventory_parse(c->json, strlen(c->json), "inv.json", &inv, &err) == 0)
		fail_msg("accepted: %s", c->json);
	assert_null(inv);
	if (strncmp(err.msg, "inv.json", 8) != 0)
		fail_msg("message does not name the file: %s", err.msg);
	for (size_t w = 0; w < 3 && c->want[w]; w++)
		if (!strstr(err.msg, c->want[w]))
			fail_msg("message lacks \"%s\": %s", c->want[w], err.msg);
}

#endif
