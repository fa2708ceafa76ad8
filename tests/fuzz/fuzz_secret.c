/* libFuzzer harness: the secret-file parser, on any bytes. */
#include "config.h"

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "meshsec/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct ms_secret *s;
	struct ms_error err;

	if (!ready)
		ready = sodium_init() >= 0;
	if (ms_secret_parse((const char *)data, size, "fuzz", &s, &err) == 0)
		ms_secret_free(s);
	return 0;
}
