/*
 * libFuzzer harness: the command-line parser (argv from NUL-separated input) and --metrics-listen's
 * value.  Every value and positional it returns is one of argv's strings or a tail of one.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/listen.h"
#include "meshsec/opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct ms_opt opts[] = {
	{ "json", 'j', NULL, "" }, { "socket", 'S', "PATH", "" }, { "out", 'o', "PATH", "" }, { NULL, 0, NULL, NULL },
};
static const struct ms_cmd cmd = { .name = "fuzz", .args = "[A B]", .max_pos = 2, .summary = "", .opts = opts };

static void inside(const char *v, const char *buf, size_t size)
{
	if (v && v[0] && (v < buf || v >= buf + size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[64] = { "fuzz" }, addr[MS_LISTEN_ADDR_MAX];
	int argc = 1;
	struct ms_args a;
	struct ms_error err;
	unsigned port;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	for (char *p = buf; p <= buf + size && argc < 63; p += strlen(p) + 1)
		argv[argc++] = p;
	argv[argc] = NULL;
	if (ms_opts_parse(&cmd, argc, argv, &a, &err) == 0 && !a.help) {
		for (int i = 0; opts[i].name; i++)
			inside(a.val[i], buf, size + 1);
		for (unsigned i = 0; i < a.n_pos; i++)
			inside(a.pos[i], buf, size + 1);
	}
	if (ms_listen_parse(buf, addr, &port, &err) == 0 && (port < 1 || port > 65535 || strlen(addr) >= MS_LISTEN_ADDR_MAX))
		abort();
	free(buf);
	return 0;
}
