/*
 * The secret fingerprint: the test vector printed in agent/CONTROL.md is what the code computes
 * (the document is read, so the two cannot drift apart), it is stable, and secrets that differ
 * in one bit have different fingerprints.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "meshsec/fingerprint.h"

#define DOC TEST_SRCDIR "/agent/CONTROL.md"

/* The line "    fingerprint vector: secret HEX -> HEX" of the document. */
static void doc_vector(uint8_t secret[32], char want[MS_FINGERPRINT_HEX + 1])
{
	FILE *f = fopen(DOC, "r");
	char line[256], s[65];
	int found = 0;

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, " fingerprint vector: secret %64s -> %16s", s, want) == 2;
	fclose(f);
	assert_true(found);
	assert_int_equal(sodium_hex2bin(secret, 32, s, 64, NULL, NULL, NULL), 0);
}

static void test_vector(void **state)
{
	uint8_t secret[32];
	char want[MS_FINGERPRINT_HEX + 1], got[MS_FINGERPRINT_HEX + 1];

	(void)state;
	doc_vector(secret, want);
	ms_secret_fingerprint(secret, got);
	assert_string_equal(got, want);
	ms_secret_fingerprint(secret, got);	/* no hidden state: the same again */
	assert_string_equal(got, want);
}

static void test_secrets_differ(void **state)
{
	uint8_t a[32], b[32];
	char fa[MS_FINGERPRINT_HEX + 1], fb[MS_FINGERPRINT_HEX + 1];

	(void)state;
	for (int bit = 0; bit < 256; bit++) {
		memset(a, 0x5a, sizeof(a));
		memcpy(b, a, sizeof(b));
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		ms_secret_fingerprint(a, fa);
		ms_secret_fingerprint(b, fb);
		assert_string_not_equal(fa, fb);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_secrets_differ),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("fingerprint", tests, NULL, NULL);
}
