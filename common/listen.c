/* --metrics-listen's value: see listen.h.  Checked when meshsecd starts, as --log-level is. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "meshsec/listen.h"

#define FORMS "use PORT (on 127.0.0.1), ADDR:PORT or [IPV6]:PORT, with a numeric address and a port from 1 to 65535"

static int bad(struct ms_error *err, const char *spec, const char *why)
{
	return ms_error_set(err, EINVAL, "--metrics-listen %s: %s; %s", spec, why, FORMS);
}

int ms_listen_parse(const char *spec, char addr[MS_LISTEN_ADDR_MAX], unsigned *port, struct ms_error *err)
{
	const char *colon = strrchr(spec, ':'), *p = spec, *host = "127.0.0.1";
	size_t n = 0;
	unsigned long v = 0;
	unsigned char buf[16];

	if (colon) {
		host = spec;
		n = (size_t)(colon - spec);
		if (spec[0] == '[') {
			if (n < 2 || spec[n - 1] != ']')
				return bad(err, spec, "an IPv6 address goes in brackets, [ADDR]:PORT");
			host++, n -= 2;
		}
		if (n == 0)
			return bad(err, spec, "no address before the colon");
		p = colon + 1;
	} else {
		n = strlen(host);
	}
	if (n >= MS_LISTEN_ADDR_MAX)
		return bad(err, spec, "the address is too long");
	memcpy(addr, host, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, buf) != 1 && (spec[0] != '[' || inet_pton(AF_INET6, addr, buf) != 1))
		return bad(err, spec, strchr(addr, ':') && spec[0] != '[' ? "an IPv6 address goes in brackets"
									 : "the address is not a numeric IPv4 or [IPv6] address");
	if (*p == '\0')
		return bad(err, spec, "no port");
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return bad(err, spec, "the port is not a number");
		if ((v = v * 10 + (unsigned long)(*p - '0')) > 65535)
			break;
	}
	if (v < 1 || v > 65535)
		return bad(err, spec, "the port must be 1 to 65535");
	*port = (unsigned)v;
	return 0;
}
