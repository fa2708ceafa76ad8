/* etcd://HOST[:PORT]/KEY: the inventory source's URL (include/meshsec/etcd.h). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meshsec/etcd.h"

#define FIX "; write etcd://HOST[:PORT]/KEY, e.g. etcd://127.0.0.1:2379/meshsec/inventory"

bool ms_etcd_is_url(const char *s)
{
	const char *p = strstr(s, "://");

	if (!p || p == s)
		return false;
	for (const char *c = s; c < p; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '+'))
			return false;
	return true;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

/* Host and optional port from [start, end): "h", "h:p", "[v6]", "[v6]:p". */
static int parse_authority(const char *url, const char *start, const char *end, struct ms_etcd_url *u, struct ms_error *err)
{
	const char *h = start, *he, *colon = NULL;

	if (memchr(start, '@', (size_t)(end - start)))
		return ms_error_set(err, EINVAL, "%s: user names and passwords in the URL are not supported (etcd authentication is not); protect the key with a loopback listener or a local proxy (README, \"Inventory in etcd\")", url);
	if (*h == '[') {
		if (!(he = memchr(h, ']', (size_t)(end - h))))
			return ms_error_set(err, EINVAL, "%s: an IPv6 address needs its closing ']'" FIX, url);
		h++;
		for (const char *c = h; c < he; c++)
			if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F') || *c == ':' || *c == '.'))
				return ms_error_set(err, EINVAL, "%s: '%c' in an IPv6 address" FIX, url, *c);
		if (he + 1 < end && he[1] != ':')
			return ms_error_set(err, EINVAL, "%s: only \":PORT\" may follow ']'" FIX, url);
		colon = he + 1 < end ? he + 1 : NULL;
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		he = colon ? colon : end;
		for (const char *c = h; c < he; c++)
			if (!host_char(*c))
				return ms_error_set(err, EINVAL, "%s: '%c' in the host name" FIX, url, *c);
	}
	if (he == h)
		return ms_error_set(err, EINVAL, "%s: no host" FIX, url);
	if ((size_t)(he - h) > MS_ETCD_HOST_MAX)
		return ms_error_set(err, EINVAL, "%s: host name longer than %d characters" FIX, url, MS_ETCD_HOST_MAX);
	memcpy(u->host, h, (size_t)(he - h));
	u->host[he - h] = '\0';
	u->port = MS_ETCD_DEFAULT_PORT;
	if (colon) {
		unsigned long port = 0;
		const char *c = colon + 1;

		for (; c < end && *c >= '0' && *c <= '9' && port <= 65535; c++)
			port = port * 10 + (unsigned long)(*c - '0');
		if (c != end || c == colon + 1 || port == 0 || port > 65535)
			return ms_error_set(err, EINVAL, "%s: the port must be a number from 1 to 65535" FIX, url);
		u->port = (unsigned)port;
	}
	return 0;
}

int ms_etcd_url_parse(const char *s, struct ms_etcd_url *u, struct ms_error *err)
{
	const char *auth, *slash;
	size_t len = strlen(s);

	memset(u, 0, sizeof(*u));
	if (len > MS_ETCD_URL_MAX)
		return ms_error_set(err, EINVAL, "%.64s...: URL longer than %zu characters" FIX, s, MS_ETCD_URL_MAX);
	memcpy(u->text, s, len + 1);
	if (strncmp(s, "https://", 8) == 0 || strncmp(s, "etcds://", 8) == 0)
		return ms_error_set(err, EINVAL, "%s: TLS to etcd is not supported; run a plain-HTTP etcd listener or a local TLS proxy on loopback and point etcd://127.0.0.1:PORT/KEY at it (README, \"Inventory in etcd\")", s);
	if (strncmp(s, MS_ETCD_SCHEME, strlen(MS_ETCD_SCHEME)) != 0)
		return ms_error_set(err, EINVAL, "%s: unknown scheme; the inventory is a file path or an etcd:// URL" FIX, s);
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f || *c == '?' || *c == '#' || *c == '%')
			return ms_error_set(err, EINVAL, "%s: '%s' is not allowed (no spaces, control characters, queries, fragments or %%-escapes)" FIX, s,
					    *c == '?' ? "?" : *c == '#' ? "#" : *c == '%' ? "%" : "a space or control character");
	auth = s + strlen(MS_ETCD_SCHEME);
	slash = strchr(auth, '/');
	if (!slash || !slash[1])
		return ms_error_set(err, EINVAL, "%s: no key after the host" FIX, s);
	if (strlen(slash) > MS_ETCD_KEY_MAX)
		return ms_error_set(err, EINVAL, "%s: key longer than %d bytes" FIX, s, MS_ETCD_KEY_MAX);
	if (parse_authority(s, auth, slash, u, err) < 0)
		return -EINVAL;
	snprintf(u->key, sizeof(u->key), "%s", slash);
	return 0;
}
