/*
 * Inventory parser: JSON (jansson) to the mesh model, validating as it goes.
 *
 * The parser never stops at the first wrong type with a generic message: every check says
 * where (file and JSON path), what was found, and what would fix it.  Unknown keys are errors
 * with a suggestion, so a typo cannot silently fall back to a default.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "meshsec/exclude.h"
#include "meshsec/index.h"
#include "meshsec/inventory.h"
#include "meshsec/suggest.h"

struct ctx {
	const char *src;
	struct ms_error *err;
};

static const char *const top_keys[] = { "version", "mesh", "nodes", NULL };
static const char *const mesh_keys[] = { "name", "port", "cipher", "keepalive_seconds", "dead_after_seconds",
					   "rekey_seconds", "rekey_bytes", "rekey_packets", "mode", "exclude", NULL };
static const char *const node_keys[] = { "name", "addresses", "mode", "exclude", NULL };
static const char *const mode_names[] = { "require", "prefer", NULL };
static const char *const cipher_names[] = { "aes-gcm-128", "aes-gcm-256", "chacha20-poly1305", NULL };

const char *ms_json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER: return "an integer";
	case JSON_REAL: return "a number with a fraction";
	case JSON_TRUE: case JSON_FALSE: return "a boolean";
	case JSON_NULL: return "null";
	}
	return "a value";
}

static int fail(struct ctx *c, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	char detail[MS_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return ms_error_set(c->err, EINVAL, "%s: %s: %s", c->src, path, detail);
}

static int want_type(struct ctx *c, const char *path, const json_t *v, json_type t, const char *what)
{
	if (json_typeof(v) == t || (t == JSON_TRUE && json_is_boolean(v)))
		return 0;
	return fail(c, path, "expected %s, found %s", what, ms_json_type_name(v));
}

static int check_keys(struct ctx *c, const char *path, const json_t *obj, const char *const *known)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v) {
		const char *const *k;
		const char *hint;

		for (k = known; *k && strcmp(*k, key) != 0; k++)
			;
		if (*k)
			continue;
		hint = ms_suggest(key, known);
		if (hint)
			return fail(c, path, "unknown key \"%s\"; did you mean \"%s\"?", key, hint);
		return fail(c, path, "unknown key \"%s\"; known keys here are listed in the README (inventory format v1)", key);
	}
	return 0;
}

int ms_name_check(const char *name, const char *what, struct ms_error *err)
{
	size_t n = strlen(name);

	if (n == 0)
		return ms_error_set(err, EINVAL, "%s is empty; use 1 to %d characters of A-Z a-z 0-9 . _ -", what, MS_NAME_MAX);
	if (n > MS_NAME_MAX)
		return ms_error_set(err, EINVAL, "%s \"%.20s...\" is %zu characters long; the limit is %d", what, name, n, MS_NAME_MAX);
	if (!isalnum((unsigned char)name[0]))
		return ms_error_set(err, EINVAL, "%s \"%s\" must start with a letter or a digit", what, name);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!isalnum(ch) && ch != '.' && ch != '_' && ch != '-')
			return isprint(ch)
				? ms_error_set(err, EINVAL, "%s \"%s\" has the character '%c' at position %zu; use only A-Z a-z 0-9 . _ -",
					       what, name, ch, i + 1)
				: ms_error_set(err, EINVAL, "%s has the byte 0x%02x at position %zu; use only A-Z a-z 0-9 . _ -",
					       what, ch, i + 1);
	}
	return 0;
}

static int get_name(struct ctx *c, const char *path, const json_t *v, const char *what, char out[MS_NAME_MAX + 1])
{
	int ret = want_type(c, path, v, JSON_STRING, "a string");

	if (ret)
		return ret;
	ret = ms_name_check(json_string_value(v), what, c->err);
	if (ret)
		return ms_error_prefix(c->err, ret, "%s: %s", c->src, path);
	strcpy(out, json_string_value(v));
	return 0;
}

/* Refused ciphers get the reason, not just "unknown". */
static const char *refusal(const char *name)
{
	char low[64];
	size_t i;

	for (i = 0; name[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)name[i]);
	low[i] = '\0';
	if (strstr(low, "des"))
		return "3DES/DES are refused: 64-bit blocks make them breakable at mesh traffic volumes (Sweet32)";
	if (strstr(low, "md5"))
		return "MD5 is refused: it is broken as a hash and meshsec only uses AEAD ciphers";
	if (strstr(low, "sha1") || strstr(low, "sha-1"))
		return "SHA-1 is refused: it is deprecated and meshsec only uses AEAD ciphers";
	if (strstr(low, "null") || strcmp(low, "none") == 0)
		return "a null cipher is refused: it would send member traffic unencrypted";
	return NULL;
}

/* An optional integer setting of the mesh section, in [lo, hi]. */
static int get_int(struct ctx *c, const json_t *mesh, const char *key, json_int_t lo, json_int_t hi, json_int_t dflt,
		   const char *what, json_int_t *out)
{
	const json_t *v = json_object_get(mesh, key);
	char path[48];
	int ret;

	snprintf(path, sizeof(path), "mesh.%s", key);
	*out = dflt;
	if (!v)
		return 0;
	if ((ret = want_type(c, path, v, JSON_INTEGER, "an integer")))
		return ret;
	*out = json_integer_value(v);
	if (*out < lo || *out > hi)
		return fail(c, path, "%lld is out of range; use %s from %lld to %lld (default %lld)", (long long)*out, what,
			    (long long)lo, (long long)hi, (long long)dflt);
	return 0;
}

const char *ms_mode_name(enum ms_mode m)
{
	return mode_names[m];
}

/* "mode": require or prefer, into *out when present. */
static int get_mode(struct ctx *c, const char *path, const json_t *v, enum ms_mode *out)
{
	const char *hint;
	int ret;

	if (!v)
		return 0;
	if ((ret = want_type(c, path, v, JSON_STRING, "\"require\" or \"prefer\"")))
		return ret;
	for (int i = 0; mode_names[i]; i++)
		if (strcmp(json_string_value(v), mode_names[i]) == 0) {
			*out = (enum ms_mode)i;
			return 0;
		}
	hint = ms_suggest(json_string_value(v), mode_names);
	return fail(c, path, "unknown mode \"%s\"%s%s%s; use \"require\" (ESP or nothing, the default) or \"prefer\" "
		    "(ESP once the pair's handshake succeeds, clear until then: for rolling meshsec out)", json_string_value(v),
		    hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
}

static int parse_mesh(struct ctx *c, const json_t *mesh, struct ms_inventory *inv)
{
	const json_t *v;
	json_int_t n;
	int ret;

	if ((ret = want_type(c, "mesh", mesh, JSON_OBJECT, "an object with \"name\", \"port\", \"cipher\"")) ||
	    (ret = check_keys(c, "mesh", mesh, mesh_keys)))
		return ret;
	v = json_object_get(mesh, "name");
	if (!v)
		return fail(c, "mesh", "missing \"name\"; every node of a mesh must use the same mesh name, e.g. \"name\": \"prod\"");
	if ((ret = get_name(c, "mesh.name", v, "mesh name", inv->mesh_name)))
		return ret;

	if ((ret = get_int(c, mesh, "port", 1, 65535, MS_DEFAULT_PORT, "a UDP port", &n)))
		return ret;
	inv->port = (uint16_t)n;
	if ((ret = get_int(c, mesh, "keepalive_seconds", 1, 3600, MS_DEFAULT_KEEPALIVE_S, "seconds between keepalives", &n)))
		return ret;
	inv->keepalive_s = (unsigned)n;
	if ((ret = get_int(c, mesh, "dead_after_seconds", 2, 86400, MS_DEFAULT_DEAD_AFTER_S, "seconds of silence", &n)))
		return ret;
	inv->dead_after_s = (unsigned)n;
	if ((ret = get_int(c, mesh, "rekey_seconds", 10, 7 * 86400, MS_DEFAULT_REKEY_S, "seconds between rekeys", &n)))
		return ret;
	inv->rekey_s = (uint64_t)n;
	if ((ret = get_int(c, mesh, "rekey_bytes", 1 << 20, (json_int_t)1 << 50, (json_int_t)MS_DEFAULT_REKEY_BYTES,
			   "bytes per SA before a rekey", &n)))
		return ret;
	inv->rekey_bytes = (uint64_t)n;
	if ((ret = get_int(c, mesh, "rekey_packets", 1000, (json_int_t)1 << 31, (json_int_t)MS_DEFAULT_REKEY_PACKETS,
			   "packets per SA before a rekey", &n)))
		return ret;
	inv->rekey_packets = (uint64_t)n;
	if (inv->dead_after_s < 2 * inv->keepalive_s)
		return fail(c, "mesh.dead_after_seconds", "%u is less than twice keepalive_seconds (%u); a peer would be "
			    "declared down before two keepalives could be missed: raise it to at least %u",
			    inv->dead_after_s, inv->keepalive_s, 2 * inv->keepalive_s);
	inv->mode = MS_MODE_REQUIRE;
	if ((ret = get_mode(c, "mesh.mode", json_object_get(mesh, "mode"), &inv->mode)))
		return ret;
	if ((ret = ms_exclude_parse(c->src, NULL, NULL, json_object_get(mesh, "exclude"), &inv->exclude, &inv->n_exclude, c->err)))
		return ret;

	inv->cipher = MS_DEFAULT_CIPHER;
	v = json_object_get(mesh, "cipher");
	if (v) {
		const char *name, *why, *hint;
		int i;

		if ((ret = want_type(c, "mesh.cipher", v, JSON_STRING, "a string")))
			return ret;
		name = json_string_value(v);
		for (i = 0; cipher_names[i]; i++)
			if (strcmp(name, cipher_names[i]) == 0) {
				inv->cipher = (enum ms_cipher)i;
				return 0;
			}
		why = refusal(name);
		if (why)
			return fail(c, "mesh.cipher", "\"%s\": %s; use aes-gcm-256 (default), aes-gcm-128 or chacha20-poly1305", name, why);
		hint = ms_suggest(name, cipher_names);
		return fail(c, "mesh.cipher", "unknown cipher \"%s\"%s%s%s; use aes-gcm-256 (default), aes-gcm-128 or chacha20-poly1305",
			    name, hint ? " (did you mean \"" : "", hint ? hint : "", hint ? "\"?)" : "");
	}
	return 0;
}

static int parse_addresses(struct ctx *c, const char *npath, const json_t *arr, struct ms_node *node)
{
	char path[96];
	size_t i;
	json_t *v;
	int ret;

	snprintf(path, sizeof(path), "%s.addresses", npath);
	if ((ret = want_type(c, path, arr, JSON_ARRAY, "an array of IP addresses")))
		return ret;
	if (json_array_size(arr) == 0)
		return fail(c, path, "is empty; give the node's IPv4 and/or IPv6 address");
	json_array_foreach(arr, i, v) {
		struct ms_addr a, *slot;

		snprintf(path, sizeof(path), "%s.addresses[%zu]", npath, i);
		if ((ret = want_type(c, path, v, JSON_STRING, "a string such as \"10.0.1.5\"")))
			return ret;
		if ((ret = ms_addr_parse(json_string_value(v), &a, c->err)))
			return ms_error_prefix(c->err, ret, "%s: %s", c->src, path);
		slot = a.family == AF_INET ? &node->v4 : &node->v6;
		if (slot->family)
			return fail(c, path, "\"%s\" is a second %s address for node \"%s\"; meshsec protects one address per family per node: keep the one peers reach it on",
				    json_string_value(v), a.family == AF_INET ? "IPv4" : "IPv6", node->name);
		*slot = a;
	}
	return 0;
}

static int parse_node(struct ctx *c, size_t idx, const json_t *obj, enum ms_mode mode, struct ms_node *node)
{
	char path[64], field[80];
	const json_t *v;
	int ret;

	snprintf(path, sizeof(path), "nodes[%zu]", idx);
	if ((ret = want_type(c, path, obj, JSON_OBJECT, "an object with \"name\" and \"addresses\"")) ||
	    (ret = check_keys(c, path, obj, node_keys)))
		return ret;
	v = json_object_get(obj, "name");
	if (!v)
		return fail(c, path, "missing \"name\"; every node needs a unique name, e.g. \"name\": \"web-1\"");
	snprintf(field, sizeof(field), "%s.name", path);
	if ((ret = get_name(c, field, v, "node name", node->name)))
		return ret;
	node->mode = mode;
	snprintf(field, sizeof(field), "%s.mode", path);
	if ((ret = get_mode(c, field, json_object_get(obj, "mode"), &node->mode)))
		return ret;
	v = json_object_get(obj, "addresses");
	if (!v)
		return fail(c, path, "node \"%s\" is missing \"addresses\"; give its IPv4 and/or IPv6 address, e.g. [\"10.0.1.5\"]", node->name);
	if ((ret = parse_addresses(c, path, v, node)))
		return ret;
	return ms_exclude_parse(c->src, path, node->name, json_object_get(obj, "exclude"), &node->exclude, &node->n_exclude, c->err);
}

/*
 * Across nodes, names and addresses are unique.  The model's indexes are built on the way, so
 * this is O(n), and the clash reported is the one a pairwise scan would find first: the lowest
 * node that clashes, with the lowest earlier node, a name before an address.
 */
static int index_nodes(struct ctx *c, struct ms_inventory *inv)
{
	char buf[MS_ADDR_STRLEN];
	size_t n_addr = 0;

	for (size_t i = 0; i < inv->n_nodes; i++)
		n_addr += (inv->nodes[i].v4.family != 0) + (inv->nodes[i].v6.family != 0);
	inv->by_name = ms_index_new(inv->n_nodes);
	inv->by_addr = ms_index_new(n_addr);
	if (!inv->by_name || !inv->by_addr)
		return ms_error_set(c->err, ENOMEM, "%s: out of memory", c->src);
	for (size_t i = 0; i < inv->n_nodes; i++) {
		const struct ms_node *b = &inv->nodes[i];
		const struct ms_addr *addr[2] = { &b->v4, &b->v6 };
		unsigned char key[2][MS_ADDR_KEY_MAX];
		size_t klen[2] = { 0, 0 };
		int dup = ms_index_get(inv->by_name, b->name, strlen(b->name)), dup_addr = -1, ret = 0;
		char path[32];

		for (int f = 0; f < 2; f++) {
			int j;

			if (!addr[f]->family)
				continue;
			klen[f] = ms_addr_key(addr[f], key[f]);
			j = ms_index_get(inv->by_addr, key[f], klen[f]);
			if (j >= 0 && (dup < 0 || j < dup))
				dup = j, dup_addr = f;
		}
		if (dup >= 0) {
			const struct ms_node *a = &inv->nodes[dup];

			snprintf(path, sizeof(path), "nodes[%zu]", i);
			if (dup_addr < 0)
				return fail(c, path, "duplicate node name \"%s\" (also nodes[%d]); node names must be unique", b->name, dup);
			return fail(c, path, "address %s of node \"%s\" is also used by node \"%s\" (nodes[%d]); each address belongs to one node",
				    ms_addr_format(addr[dup_addr], buf, sizeof(buf)), b->name, a->name, dup);
		}
		ret = ms_index_put(inv->by_name, b->name, strlen(b->name), (int)i);
		for (int f = 0; f < 2 && ret == 0; f++)
			if (klen[f])
				ret = ms_index_put(inv->by_addr, key[f], klen[f], (int)i);
		if (ret)
			return ms_error_set(c->err, -ret, "%s: cannot index the nodes: %s", c->src, strerror(-ret));
	}
	return 0;
}

static int parse_root(struct ctx *c, const json_t *root, struct ms_inventory *inv)
{
	const json_t *v, *nodes;
	size_t i;
	int ret;

	if ((ret = want_type(c, "(top level)", root, JSON_OBJECT, "an object with \"version\", \"mesh\" and \"nodes\"")) ||
	    (ret = check_keys(c, "(top level)", root, top_keys)))
		return ret;
	v = json_object_get(root, "version");
	if (!v)
		return fail(c, "version", "missing; add \"version\": 1");
	if ((ret = want_type(c, "version", v, JSON_INTEGER, "the integer 1")))
		return ret;
	if (json_integer_value(v) != 1)
		return fail(c, "version", "%lld is not supported; this meshsec reads inventory version 1",
			    (long long)json_integer_value(v));
	inv->version = 1;
	v = json_object_get(root, "mesh");
	if (!v)
		return fail(c, "mesh", "missing; add \"mesh\": {\"name\": \"...\"}");
	if ((ret = parse_mesh(c, v, inv)))
		return ret;
	nodes = json_object_get(root, "nodes");
	if (!nodes)
		return fail(c, "nodes", "missing; add \"nodes\": [{\"name\": \"...\", \"addresses\": [\"...\"]}]");
	if ((ret = want_type(c, "nodes", nodes, JSON_ARRAY, "an array of nodes")))
		return ret;
	if (json_array_size(nodes) == 0)
		return fail(c, "nodes", "is empty; list every member of the mesh, this node included");
	if (json_array_size(nodes) > MS_NODES_MAX)
		return fail(c, "nodes", "has %zu nodes; the limit is %d", json_array_size(nodes), MS_NODES_MAX);
	inv->nodes = calloc(json_array_size(nodes), sizeof(*inv->nodes));
	if (!inv->nodes)
		return ms_error_set(c->err, ENOMEM, "%s: out of memory", c->src);
	json_array_foreach(nodes, i, v) {
		if ((ret = parse_node(c, i, v, inv->mode, &inv->nodes[i])))
			return ret;
		inv->n_nodes = i + 1;
	}
	if ((ret = index_nodes(c, inv)))
		return ret;
	return ms_exclude_resolve(c->src, inv, c->err);
}

int ms_inventory_parse(const char *text, size_t len, const char *source,
		       struct ms_inventory **out, struct ms_error *err)
{
	struct ctx c = { source, err };
	struct ms_inventory *inv;
	json_error_t jerr;
	json_t *root;
	int ret;

	*out = NULL;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_duplicate_key)
			return ms_error_set(err, EINVAL, "%s:%d:%d: %s; remove one of them", source, jerr.line, jerr.column, jerr.text);
		return ms_error_set(err, EINVAL, "%s:%d:%d: JSON syntax error: %s; fix the JSON (a trailing comma or a missing quote is the usual cause)",
				    source, jerr.line, jerr.column, jerr.text);
	}
	inv = calloc(1, sizeof(*inv));
	if (!inv) {
		json_decref(root);
		return ms_error_set(err, ENOMEM, "%s: out of memory", source);
	}
	ret = parse_root(&c, root, inv);
	json_decref(root);
	if (ret) {
		ms_inventory_free(inv);
		return ret;
	}
	*out = inv;
	return 0;
}

int ms_inventory_read(const char *path, char **text, size_t *text_len, struct ms_error *err)
{
	struct stat st;
	char *buf;
	size_t len = 0;
	int fd;

	*text = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ms_error_set(err, errno, "%s: cannot open inventory: %s%s", path, strerror(errno),
				    errno == ENOENT ? "; pass --inventory PATH or install it there" : "");
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)MS_INVENTORY_MAX_BYTES) {
		close(fd);
		return ms_error_set(err, EINVAL, "%s: not a regular file of at most %u MiB; point --inventory at the inventory JSON file",
				    path, MS_INVENTORY_MAX_BYTES >> 20);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return ms_error_set(err, ENOMEM, "%s: out of memory", path);
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	*text = buf;
	*text_len = len;
	return 0;
}

int ms_inventory_load(const char *path, struct ms_inventory **out, struct ms_error *err)
{
	char *buf;
	size_t len;
	int ret;

	*out = NULL;
	if ((ret = ms_inventory_read(path, &buf, &len, err)) < 0)
		return ret;
	ret = ms_inventory_parse(buf, len, path, out, err);
	free(buf);
	return ret;
}
