/*
 * Exclusions (meshsec/exclude.h): the inventory's "exclude" lists, parsed and validated.
 *
 * As in the rest of the inventory, every refusal names the file, the JSON path, the bad value and
 * the fix.  An entry is checked alone (protocol, port or range, peer), then against the entries
 * before it; once every node is read, peers are resolved and node lists checked against the mesh's.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "meshsec/exclude.h"
#include "meshsec/inventory.h"
#include "meshsec/suggest.h"

/* At most this many exclusion policies on one node: a list of ranges on every node could plan millions. */
#define EXCLUDE_SP_MAX 65536

static const char *const entry_keys[] = { "proto", "port", "peer", NULL };
static const char *const proto_names[] = { "tcp", "udp", "sctp", NULL };
static const uint8_t proto_numbers[] = { IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP };
static const char example[] = "{\"proto\": \"tcp\", \"port\": 443}";

static int fail(struct ms_error *err, const char *src, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct ms_error *err, const char *src, const char *path, const char *fmt, ...)
{
	char detail[MS_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return ms_error_set(err, EINVAL, "%s: %s: %s", src, path, detail);
}

const char *ms_exclude_proto_name(uint8_t proto)
{
	for (size_t i = 0; proto_names[i]; i++)
		if (proto_numbers[i] == proto)
			return proto_names[i];
	return "?";
}

const char *ms_exclude_ports(const struct ms_exclude *x, char *buf, size_t len)
{
	if (x->lo == x->hi)
		snprintf(buf, len, "%s/%u", ms_exclude_proto_name(x->proto), x->lo);
	else
		snprintf(buf, len, "%s/%u-%u", ms_exclude_proto_name(x->proto), x->lo, x->hi);
	return buf;
}

static int parse_proto(struct ms_error *err, const char *src, const char *path, const json_t *v, uint8_t *out)
{
	const char *name, *hint;

	if (!json_is_string(v))
		return fail(err, src, path, "expected a string (\"tcp\", \"udp\" or \"sctp\"), found %s", ms_json_type_name(v));
	name = json_string_value(v);
	for (size_t i = 0; proto_names[i]; i++) {
		if (strcmp(name, proto_names[i]) == 0) {
			*out = proto_numbers[i];
			return 0;
		}
		if (strcasecmp(name, proto_names[i]) == 0)
			return fail(err, src, path, "\"%s\": write it in lower case, \"%s\"", name, proto_names[i]);
	}
	hint = ms_suggest(name, proto_names);
	return fail(err, src, path, "\"%s\" is not a protocol meshsec can exclude by port%s%s%s; use \"tcp\", \"udp\" or \"sctp\"",
		    name, hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
}

/* 1 to 5 decimal digits, nothing else; -1 otherwise. */
static long digits(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 5)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int parse_port(struct ms_error *err, const char *src, const char *path, const json_t *v, struct ms_exclude *x)
{
	static const char how[] = "write one port as an integer (\"port\": 443) or a range as a string \"LO-HI\" with "
				  "1 <= LO <= HI <= 65535 (\"port\": \"8000-8100\")";
	const char *s, *dash;
	long lo, hi;

	if (json_is_integer(v)) {
		json_int_t p = json_integer_value(v);

		if (p < 1 || p > 65535)
			return fail(err, src, path, "%lld is out of range; use a port from 1 to 65535", (long long)p);
		x->lo = x->hi = (uint16_t)p;
	} else if (json_is_string(v)) {
		s = json_string_value(v);
		dash = strchr(s, '-');
		if (!dash && digits(s, strlen(s)) >= 0)
			return fail(err, src, path, "\"%s\" is a string; write a single port as an integer: \"port\": %s", s, s);
		lo = dash ? digits(s, (size_t)(dash - s)) : -1;
		hi = dash ? digits(dash + 1, strlen(dash + 1)) : -1;
		if (lo < 0 || hi < 0)
			return fail(err, src, path, "\"%.40s\" is not a port range; %s", s, how);
		if (lo < 1 || hi > 65535)
			return fail(err, src, path, "\"%s\": ports are 1 to 65535; %s", s, how);
		if (lo > hi)
			return fail(err, src, path, "\"%s\" is reversed; write \"%ld-%ld\"", s, hi, lo);
		x->lo = (uint16_t)lo;
		x->hi = (uint16_t)hi;
	} else {
		return fail(err, src, path, "expected a port (an integer) or a range (a string \"LO-HI\"), found %s; %s", ms_json_type_name(v), how);
	}
	if (x->lo <= MS_EPHEMERAL_MAX && x->hi >= MS_EPHEMERAL_MIN) {
		char p[32];

		return fail(err, src, path, "%s touches the Linux default ephemeral port range %d-%d, from which clients "
			    "pick their source ports: the policy passing replies from this port in clear would also pass any "
			    "client connection that happens to use it as its source port. Exclude a server port below %d "
			    "(move the service there), or above %d if this mesh's ip_local_port_range allows it",
			    ms_exclude_ports(x, p, sizeof(p)), MS_EPHEMERAL_MIN, MS_EPHEMERAL_MAX, MS_EPHEMERAL_MIN,
			    MS_EPHEMERAL_MAX);
	}
	return 0;
}

static int parse_peer(struct ms_error *err, const char *src, const char *path, const char *self_name, const json_t *v,
		      struct ms_exclude *x)
{
	int ret;

	if (!json_is_string(v))
		return fail(err, src, path, "expected a string naming another node, found %s", ms_json_type_name(v));
	if ((ret = ms_name_check(json_string_value(v), "peer node name", err)))
		return ms_error_prefix(err, ret, "%s: %s", src, path);
	if (strcmp(json_string_value(v), self_name) == 0)
		return fail(err, src, path, "\"%s\" is this list's own node; name the client node that reaches %s's port in "
			    "clear, or drop \"peer\" to let every member do so", self_name, self_name);
	snprintf(x->peer_name, sizeof(x->peer_name), "%s", json_string_value(v));
	return 0;
}

static int parse_entry(struct ms_error *err, const char *src, const char *path, const char *self_name, const json_t *e,
		       struct ms_exclude *x)
{
	char field[128];
	const char *key;
	json_t *v;
	int ret;

	if (!json_is_object(e))
		return fail(err, src, path, "expected an object such as %s, found %s", example, ms_json_type_name(e));
	json_object_foreach((json_t *)e, key, v) {
		const char *const *k, *hint;

		for (k = entry_keys; *k && strcmp(*k, key) != 0; k++)
			;
		if (*k)
			continue;
		hint = ms_suggest(key, entry_keys);
		return fail(err, src, path, "unknown key \"%s\"%s%s%s; an entry has \"proto\", \"port\" and, in a node's list, "
			    "\"peer\"", key, hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
	}
	memset(x, 0, sizeof(*x));
	x->peer = -1;
	if (!(v = json_object_get(e, "proto")))
		return fail(err, src, path, "missing \"proto\"; add \"proto\": \"tcp\", \"udp\" or \"sctp\"");
	snprintf(field, sizeof(field), "%s.proto", path);
	if ((ret = parse_proto(err, src, field, v, &x->proto)))
		return ret;
	if (!(v = json_object_get(e, "port")))
		return fail(err, src, path, "missing \"port\"; add the server's port, e.g. \"port\": 443, or a range, e.g. "
			    "\"port\": \"8000-8100\"");
	snprintf(field, sizeof(field), "%s.port", path);
	if ((ret = parse_port(err, src, field, v, x)))
		return ret;
	if (!(v = json_object_get(e, "peer")))
		return 0;
	snprintf(field, sizeof(field), "%s.peer", path);
	if (!self_name)
		return fail(err, src, field, "\"peer\" is allowed only in a node's list: move this entry to nodes[K].exclude of "
			    "the node K that runs the server, keeping \"peer\" as the client node");
	return parse_peer(err, src, field, self_name, v, x);
}

/* Same protocol, intersecting ranges, and a client in common (no peer means every member). */
static bool overlap(const struct ms_exclude *a, const struct ms_exclude *b)
{
	return a->proto == b->proto && a->lo <= b->hi && b->lo <= a->hi &&
	       (!a->peer_name[0] || !b->peer_name[0] || strcmp(a->peer_name, b->peer_name) == 0);
}

int ms_exclude_parse(const char *src, const char *node_path, const char *self_name, const json_t *list,
		     struct ms_exclude **out, size_t *n, struct ms_error *err)
{
	char path[96], other[96], a[32], b[32];
	struct ms_exclude *xs;
	size_t i;
	json_t *e;
	int ret;

	*out = NULL;
	*n = 0;
	if (!list)
		return 0;
	snprintf(path, sizeof(path), "%s.exclude", node_path ? node_path : "mesh");
	if (!json_is_array(list))
		return fail(err, src, path, "expected an array of entries such as %s, found %s", example, ms_json_type_name(list));
	if (json_array_size(list) > MS_EXCLUDE_MAX)
		return fail(err, src, path, "has %zu entries; the limit is %d per list: merge neighbouring ports into ranges "
			    "(\"port\": \"8000-8100\")", json_array_size(list), MS_EXCLUDE_MAX);
	if (json_array_size(list) == 0)
		return 0;
	if (!(xs = calloc(json_array_size(list), sizeof(*xs))))
		return ms_error_set(err, ENOMEM, "%s: out of memory", src);
	json_array_foreach(list, i, e) {
		snprintf(path, sizeof(path), "%s.exclude[%zu]", node_path ? node_path : "mesh", i);
		if ((ret = parse_entry(err, src, path, node_path ? self_name : NULL, e, &xs[i])))
			goto refused;
		for (size_t j = 0; j < i; j++) {
			if (!overlap(&xs[i], &xs[j]))
				continue;
			snprintf(other, sizeof(other), "%s.exclude[%zu]", node_path ? node_path : "mesh", j);
			ret = fail(err, src, path, "%s overlaps %s (%s)%s; list each port once: merge the two entries or make "
				   "their ranges disjoint", ms_exclude_ports(&xs[i], a, sizeof(a)), other,
				   ms_exclude_ports(&xs[j], b, sizeof(b)), xs[i].peer_name[0] && xs[j].peer_name[0] ?
				   " for the same peer" : "");
			goto refused;
		}
	}
	*out = xs;
	*n = json_array_size(list);
	return 0;
refused:
	free(xs);
	return ret;
}

size_t ms_port_blocks(uint16_t lo, uint16_t hi, struct ms_port_block out[MS_PORT_BLOCKS_MAX])
{
	uint32_t p = lo;
	size_t n = 0;

	while (p <= hi && n < MS_PORT_BLOCKS_MAX) {
		uint32_t size = 1;

		/* The largest aligned block that starts at p and ends within hi. */
		while (size < 0x10000 && p % (size * 2) == 0 && p + size * 2 - 1 <= hi)
			size *= 2;
		out[n].port = (uint16_t)p;
		out[n].mask = (uint16_t)(0x10000 - size);
		n++;
		p += size;
	}
	return n;
}

static size_t blocks_of(const struct ms_exclude *x)
{
	struct ms_port_block b[MS_PORT_BLOCKS_MAX];

	return ms_port_blocks(x->lo, x->hi, b);
}

/* The most policies the exclusions can need on each node, against EXCLUDE_SP_MAX: O(nodes + entries). */
static int check_size(const char *src, const struct ms_inventory *inv, struct ms_error *err)
{
	size_t *scoped = calloc(inv->n_nodes, sizeof(*scoped)), unscoped = 0, mesh = 0;

	if (!scoped)
		return ms_error_set(err, ENOMEM, "%s: out of memory", src);
	for (size_t i = 0; i < inv->n_exclude; i++)
		mesh += blocks_of(&inv->exclude[i]);
	for (size_t k = 0; k < inv->n_nodes; k++)
		for (size_t i = 0; i < inv->nodes[k].n_exclude; i++) {
			const struct ms_exclude *x = &inv->nodes[k].exclude[i];

			if (x->peer >= 0)
				scoped[x->peer] += blocks_of(x), scoped[k] += blocks_of(x);
			else
				unscoped += blocks_of(x);
		}
	for (size_t k = 0; k < inv->n_nodes; k++) {
		const struct ms_node *node = &inv->nodes[k];
		size_t fams = (node->v4.family != 0) + (node->v6.family != 0);
		size_t sps = (mesh * 4 + (unscoped + scoped[k]) * 2) * fams;

		if (sps > EXCLUDE_SP_MAX) {
			char path[32];

			free(scoped);
			snprintf(path, sizeof(path), "nodes[%zu]", k);
			return fail(err, src, path, "the exclusions would need up to %zu policies on node \"%s\"; the limit is %d: "
				    "narrow the port ranges (each is split into up to 30 blocks), or list a port served by "
				    "every node once in mesh.exclude", sps, node->name, EXCLUDE_SP_MAX);
		}
	}
	free(scoped);
	return 0;
}

int ms_exclude_resolve(const char *src, struct ms_inventory *inv, struct ms_error *err)
{
	char path[96], a[32], b[32];

	for (size_t k = 0; k < inv->n_nodes; k++) {
		struct ms_node *node = &inv->nodes[k];

		for (size_t i = 0; i < node->n_exclude; i++) {
			struct ms_exclude *x = &node->exclude[i];

			for (size_t j = 0; j < inv->n_exclude; j++) {
				if (!overlap(x, &inv->exclude[j]))
					continue;
				snprintf(path, sizeof(path), "nodes[%zu].exclude[%zu]", k, i);
				return fail(err, src, path, "%s overlaps mesh.exclude[%zu] (%s), which already leaves it in clear "
					    "on every member: remove the node's entry or make the ranges disjoint",
					    ms_exclude_ports(x, a, sizeof(a)), j, ms_exclude_ports(&inv->exclude[j], b, sizeof(b)));
			}
			if (!x->peer_name[0])
				continue;
			x->peer = ms_inventory_find(inv, x->peer_name);
			if (x->peer < 0) {
				snprintf(path, sizeof(path), "nodes[%zu].exclude[%zu].peer", k, i);
				return fail(err, src, path, "no node is named \"%s\"; name another node of this inventory "
					    "(meshsec check --names lists them), or drop \"peer\" to let every member in",
					    x->peer_name);
			}
		}
	}
	return check_size(src, inv, err);
}

int ms_exclude_for_node(const struct ms_inventory *inv, size_t self, struct ms_exclude_ref **out, size_t *n)
{
	size_t cap = inv->n_exclude, k = 0;

	*out = NULL;
	*n = 0;
	for (size_t j = 0; j < inv->n_nodes; j++)
		cap += inv->nodes[j].n_exclude;
	if (cap == 0)
		return 0;
	if (!(*out = calloc(cap, sizeof(**out))))
		return -ENOMEM;
	for (size_t i = 0; i < inv->n_exclude; i++)
		(*out)[k++] = (struct ms_exclude_ref){ &inv->exclude[i], -1, blocks_of(&inv->exclude[i]) };
	for (size_t j = 0; j < inv->n_nodes; j++)
		for (size_t i = 0; i < inv->nodes[j].n_exclude; i++) {
			const struct ms_exclude *x = &inv->nodes[j].exclude[i];

			if (j == self || x->peer < 0 || (size_t)x->peer == self)
				(*out)[k++] = (struct ms_exclude_ref){ x, (int)j, blocks_of(x) };
		}
	*n = k;
	return 0;
}

const char *ms_exclude_describe(const struct ms_inventory *inv, const struct ms_exclude_ref *r, char *buf, size_t len)
{
	char p[32];

	ms_exclude_ports(r->x, p, sizeof(p));
	if (r->owner < 0)
		snprintf(buf, len, "%s (mesh)", p);
	else
		snprintf(buf, len, "%s on %s%s%s", p, inv->nodes[r->owner].name, r->x->peer_name[0] ? " from " : "",
			 r->x->peer_name);
	return buf;
}

static int by_value(const void *a, const void *b)
{
	const struct ms_exclude *x = *(const struct ms_exclude *const *)a, *y = *(const struct ms_exclude *const *)b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return strcmp(x->peer_name, y->peer_name);
}

void ms_exclude_digest(crypto_generichash_state *st, const struct ms_exclude *x, size_t n)
{
	const struct ms_exclude *sorted[MS_EXCLUDE_MAX];
	/* 0xe5 is no name character: the list cannot be read as the next node's name. */
	uint8_t head[3] = { 0xe5, (uint8_t)(n >> 8), (uint8_t)n };

	if (n == 0 || n > MS_EXCLUDE_MAX)
		return;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &x[i];
	qsort(sorted, n, sizeof(*sorted), by_value);	/* the order of entries is formatting */
	crypto_generichash_update(st, head, sizeof(head));
	for (size_t i = 0; i < n; i++) {
		const struct ms_exclude *e = sorted[i];
		uint8_t v[5] = { e->proto, (uint8_t)(e->lo >> 8), (uint8_t)e->lo, (uint8_t)(e->hi >> 8), (uint8_t)e->hi };

		crypto_generichash_update(st, v, sizeof(v));
		crypto_generichash_update(st, (const uint8_t *)e->peer_name, strlen(e->peer_name) + 1);
	}
}
