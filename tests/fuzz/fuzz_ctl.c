/* libFuzzer harness: the control-request parser, on any line; every accepted request is sane. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "meshsec/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ms_ctl_req r;
	char msg[256];
	enum ms_ctl_result rc = ms_ctl_parse((const char *)data, size, &r, msg, sizeof(msg));

	if (rc >= MS_CTL_RESULT_COUNT || strlen(msg) >= sizeof(msg))
		abort();
	if (rc == MS_CTL_OK &&
	    (r.type >= MS_CTL_TYPE_COUNT || r.level < -1 || r.level > 3 || strlen(r.peer) > MS_NAME_MAX ||
	     (r.type == MS_CTL_SHOW && !r.peer[0])))
		abort();
	if (rc != MS_CTL_OK && !msg[0])
		abort();	/* every refusal says why */
	return 0;
}
