/*
 * libFuzzer harness: the etcd source's parsers (include/meshsec/etcd.h) take any bytes from the
 * command line or the network without a fault: the URL, a range answer and a watch message.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/etcd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_etcd_url u;
	struct ms_etcd_reply r;
	struct ms_error err;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (ms_etcd_url_parse(s, &u, &err) == 0 && (!u.host[0] || !u.key[0] || u.port == 0 || u.port > 65535))
		__builtin_trap();	/* an accepted URL is whole */
	if (ms_etcd_range_parse(s, size, "fuzz", &r, &err) == 0) {
		if (r.found && r.value[r.value_len] != '\0')
			__builtin_trap();
		ms_etcd_reply_free(&r);
	}
	if (ms_etcd_watch_parse(s, size, "fuzz", &r, &err) == 0)
		ms_etcd_reply_free(&r);
	free(s);
	return 0;
}
