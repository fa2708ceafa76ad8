/*
 * The inventory in an etcd v3 key, read through etcd's JSON gateway (plain HTTP).
 *
 *   etcd://HOST[:PORT]/KEY     HOST an IPv4 address, [IPv6] or a name; PORT 2379 by default;
 *                              KEY the path as written, leading '/' included ("/meshsec/inventory").
 *
 * Everything here is pure: the URL parser and the gateway's JSON (base64 keys and values,
 * revisions as decimal strings).  What comes from the network is hostile: sizes are bounded by
 * the inventory's own limit, and every error names the URL.  agent/etcd_watch.c and
 * common/host/etcd_http.c do the I/O.
 */
#ifndef MESHSEC_ETCD_H
#define MESHSEC_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshsec/error.h"

#define MS_ETCD_SCHEME "etcd://"
#define MS_ETCD_DEFAULT_PORT 2379
#define MS_ETCD_HOST_MAX 253
#define MS_ETCD_KEY_MAX 128	/* keeps the URL, the source name in messages, short */
#define MS_ETCD_URL_MAX (sizeof(MS_ETCD_SCHEME) + MS_ETCD_HOST_MAX + 8 + MS_ETCD_KEY_MAX)
/* The gateway's prefix in etcd 3.4 (Debian 12); /v3beta/ is its deprecated alias. */
#define MS_ETCD_API "/v3"

struct ms_etcd_url {
	char host[MS_ETCD_HOST_MAX + 1];	/* without the brackets of an IPv6 address */
	unsigned port;
	char key[MS_ETCD_KEY_MAX + 1];
	char text[MS_ETCD_URL_MAX + 1];		/* the URL as given: the source name in messages */
};

/* True when s names a URL ("scheme://..."), not a file: it then goes to ms_etcd_url_parse. */
bool ms_etcd_is_url(const char *s);

/* Parses an etcd:// URL; refuses https, credentials, queries and fragments with the fix. */
int ms_etcd_url_parse(const char *s, struct ms_etcd_url *u, struct ms_error *err);

/* Request bodies for POST /v3/kv/range and /v3/watch (start_revision 0: from now). */
char *ms_etcd_range_body(const char *key);
char *ms_etcd_watch_body(const char *key, int64_t start_revision);

/* The most a gateway answer may take: the inventory's limit in base64, plus the envelope. */
size_t ms_etcd_reply_max(void);

/* What a range answer or one watch message says about the key. */
struct ms_etcd_reply {
	int64_t revision;	/* header.revision: the store's revision when it answered */
	bool found;		/* range: the key exists; watch: an event put it */
	bool deleted;		/* watch: an event deleted it */
	bool created, canceled;	/* watch: the stream's first message; the server ended it */
	int64_t mod_revision;	/* of the value, when found */
	char *value;		/* found: the decoded value (NUL-terminated; caller frees) */
	size_t value_len;
	char cancel_reason[128];
};

/* source names the URL in messages.  On error nothing is allocated. */
int ms_etcd_range_parse(const char *body, size_t len, const char *source, struct ms_etcd_reply *r,
			struct ms_error *err);
int ms_etcd_watch_parse(const char *body, size_t len, const char *source, struct ms_etcd_reply *r,
			struct ms_error *err);
void ms_etcd_reply_free(struct ms_etcd_reply *r);

#endif
