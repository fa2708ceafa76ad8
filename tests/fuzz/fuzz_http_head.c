/* libFuzzer harness: the metrics listener's request-head parser; every span it returns lies in the head. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "meshsec/http_head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(struct http_span s, const char *buf, long head_len)
{
	if (s.p && (s.p < buf || s.p + s.len > buf + head_len))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http_head h;
	long rc = http_head_parse(buf, size, &h);

	if (rc < -EINVAL || (rc < 0 && rc != -EINVAL) || rc > (long)size)
		abort();
	if (rc > 0) {
		if (!h.method.p || !h.method.len || !h.target.p || !h.target.len)
			abort();
		inside(h.method, buf, rc);
		inside(h.target, buf, rc);
		inside(h.authorization, buf, rc);
	}
	return 0;
}
