/* Kubernetes NodeList and mesh template to inventory text (kube_nodes.h). */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "meshsec/addr.h"
#include "meshsec/inventory.h"
#include "meshsec/kube_nodes.h"
#include "meshsec/model.h"

#define NODELIST "the NodeList"

struct member {
	const char *name;
	json_t *entry;		/* the inventory's node object (a reference) */
};

struct render {
	ms_kube_left_out_fn left_out;
	void *ctx;
	struct member *m;
	size_t n, cap;
	struct ms_error *err;
};

static void leave_out(struct render *r, const char *node, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void leave_out(struct render *r, const char *node, const char *fmt, ...)
{
	char reason[MS_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (r->left_out)
		r->left_out(r->ctx, node, reason);
}

static int parse_json(const char *text, size_t len, const char *source, json_t **out, struct ms_error *err)
{
	json_error_t je;

	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!*out)
		return ms_error_set(err, EINVAL, "%s:%d:%d: %s", source, je.line, je.column, je.text);
	if (!json_is_object(*out)) {
		int ret = ms_error_set(err, EINVAL, "%s: the top level is %s; expected an object", source, ms_json_type_name(*out));

		json_decref(*out);
		*out = NULL;
		return ret;
	}
	return 0;
}

static int add_member(struct render *r, const char *name, json_t *entry)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct member *m = realloc(r->m, cap * sizeof(*m));

		if (!m)
			return ms_error_set(r->err, ENOMEM, "out of memory for %zu nodes", r->n);
		r->m = m;
		r->cap = cap;
	}
	r->m[r->n++] = (struct member){ name, entry };
	return 0;
}

/* The value of metadata.labels[key], NULL when absent; an error if it is not a string. */
static int label(const json_t *meta, const char *key, const char *node, const char **out, struct ms_error *err)
{
	const json_t *map = json_object_get(meta, "labels"), *v;

	*out = NULL;
	if (!map || json_is_null(map))
		return 0;
	if (!json_is_object(map))
		return ms_error_set(err, EINVAL, NODELIST ": node %s: metadata.labels is %s; expected an object", node,
				    ms_json_type_name(map));
	if (!(v = json_object_get(map, key)))
		return 0;
	if (!json_is_string(v))
		return ms_error_set(err, EINVAL, NODELIST ": node %s: metadata.labels[\"%s\"] is %s; expected a string", node, key,
				    ms_json_type_name(v));
	*out = json_string_value(v);
	return 0;
}

/* The label's "true" (or absent) and "false"; anything else is a typo the operator must see. */
static int is_member(const json_t *meta, const char *node, bool *member, struct ms_error *err)
{
	const char *v;
	int ret = label(meta, MS_KUBE_LABEL_MEMBER, node, &v, err);

	if (ret)
		return ret;
	*member = !v || strcmp(v, "false") != 0;
	if (v && strcmp(v, "true") != 0 && strcmp(v, "false") != 0)
		return ms_error_set(err, EINVAL, NODELIST ": node %s: label " MS_KUBE_LABEL_MEMBER "=\"%s\"; use \"true\" or \"false\" "
				    "(kubectl label node %s " MS_KUBE_LABEL_MEMBER "=false --overwrite)", node, v, node);
	return 0;
}

static int mode_of(const json_t *meta, const char *node, const char **mode, struct ms_error *err)
{
	int ret = label(meta, MS_KUBE_LABEL_MODE, node, mode, err);

	if (ret || !*mode || strcmp(*mode, "prefer") == 0 || strcmp(*mode, "require") == 0)
		return ret;
	return ms_error_set(err, EINVAL, NODELIST ": node %s: label " MS_KUBE_LABEL_MODE "=\"%s\"; use \"prefer\" or "
			    "\"require\", or remove it for the mesh's mode (kubectl label node %s " MS_KUBE_LABEL_MODE "-)", node, *mode, node);
}

/* status.addresses' InternalIPs: the first usable one per family, in canonical text. */
static json_t *internal_ips(struct render *r, const char *node, const json_t *item)
{
	const json_t *list = json_object_get(json_object_get(item, "status"), "addresses"), *a;
	char slot[2][MS_ADDR_STRLEN] = { "", "" }, text[MS_ADDR_STRLEN];
	json_t *out = json_array();
	size_t i;

	json_array_foreach(list, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *addr = json_string_value(json_object_get(a, "address"));
		struct ms_addr ad;
		struct ms_error why;
		int s;

		if (!type || strcmp(type, "InternalIP") != 0)
			continue;
		if (!addr || ms_addr_parse(addr, &ad, &why) < 0) {
			leave_out(r, node, "InternalIP %s%.60s%s not used: %s", addr ? "\"" : "", addr ? addr : "(not a string)",
				  addr ? "\"" : "", addr ? why.msg : "expected a string");
			continue;
		}
		s = ad.family == AF_INET6;
		ms_addr_format(&ad, text, sizeof(text));
		if (slot[s][0])
			leave_out(r, node, "InternalIP %s not used: a node has one address per family in the inventory, and %s "
				  "comes first", text, slot[s]);
		else
			memcpy(slot[s], text, sizeof(text));
	}
	for (int s = 0; s < 2; s++)
		if (slot[s][0])
			json_array_append_new(out, json_string(slot[s]));
	return out;
}

/* items[i] into r's members, or left out with the reason. */
static int one_node(struct render *r, size_t i, const json_t *item)
{
	const json_t *meta = json_object_get(item, "metadata");
	const char *name = json_string_value(json_object_get(meta, "name")), *mode;
	struct ms_error why;
	bool member;
	json_t *addrs, *entry;
	int ret;

	if (!json_is_object(item) || !name)
		return ms_error_set(r->err, EINVAL, NODELIST ": items[%zu] has no metadata.name; give the output of kubectl get nodes -o json", i);
	if ((ret = is_member(meta, name, &member, r->err)) || (ret = mode_of(meta, name, &mode, r->err)) || !member)
		return ret;
	if (ms_name_check(name, "node name", &why) < 0) {
		leave_out(r, name, "left out of the mesh: %s (meshsec's limit; Kubernetes allows 253); its agent will not start. "
			  "Register the node under a shorter name (kubelet --hostname-override), or label it "
			  MS_KUBE_LABEL_MEMBER "=false", why.msg);
		return 0;
	}
	addrs = internal_ips(r, name, item);
	if (json_array_size(addrs) == 0) {
		json_decref(addrs);
		leave_out(r, name, "left out of the mesh for now: no usable InternalIP in status.addresses; it joins once the "
			  "kubelet reports one");
		return 0;
	}
	entry = json_pack("{s:s,s:o}", "name", name, "addresses", addrs);
	if (entry && mode)
		json_object_set_new(entry, "mode", json_string(mode));
	if (!entry)
		return ms_error_set(r->err, ENOMEM, "out of memory");
	if ((ret = add_member(r, name, entry)) < 0)
		json_decref(entry);
	return ret;
}

/* The template's own nodes: members outside the cluster, taken as they are. */
static int static_nodes(struct render *r, const json_t *tmpl, const char *source)
{
	const json_t *list = json_object_get(tmpl, "nodes"), *n;
	size_t i;
	int ret;

	if (!list)
		return 0;
	if (!json_is_array(list))
		return ms_error_set(r->err, EINVAL, "%s: nodes is %s; expected an array of members outside the cluster", source,
				    ms_json_type_name(list));
	json_array_foreach(list, i, n) {
		const char *name = json_string_value(json_object_get(n, "name"));

		if (!name)
			return ms_error_set(r->err, EINVAL, "%s: nodes[%zu].name: expected a string", source, i);
		json_incref((json_t *)n);
		if ((ret = add_member(r, name, (json_t *)n)) < 0) {
			json_decref((json_t *)n);
			return ret;
		}
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->name, ((const struct member *)b)->name);
}

/* The template's keys but nodes, compact, then one member a line. */
static int write_text(const struct render *r, const json_t *tmpl, char **out, struct ms_error *err)
{
	size_t len;
	FILE *f = open_memstream(out, &len);
	const char *key;
	json_t *v;
	bool first = true;

	if (!f)
		return ms_error_set(err, errno, "cannot buffer the inventory: %s", strerror(errno));
	fputs("{", f);
	json_object_foreach((json_t *)tmpl, key, v) {
		json_t *k;

		if (strcmp(key, "nodes") == 0)
			continue;
		k = json_string(key);
		fprintf(f, "%s\n  ", first ? "" : ",");
		json_dumpf(k, f, JSON_ENCODE_ANY);
		json_decref(k);
		fputs(": ", f);
		json_dumpf(v, f, JSON_COMPACT | JSON_ENCODE_ANY);
		first = false;
	}
	fprintf(f, "%s\n  \"nodes\": [", first ? "" : ",");
	for (size_t i = 0; i < r->n; i++) {
		fprintf(f, "%s\n    ", i ? "," : "");
		json_dumpf(r->m[i].entry, f, JSON_COMPACT);
	}
	fputs("\n  ]\n}\n", f);
	if (fclose(f) != 0) {
		free(*out);
		*out = NULL;
		return ms_error_set(err, ENOMEM, "cannot buffer the inventory: out of memory");
	}
	return 0;
}

static int render(struct render *r, const json_t *list, const json_t *tmpl, const char *mesh_source, char **out)
{
	const json_t *items = json_object_get(list, "items"), *item;
	struct ms_inventory *inv;
	size_t i;
	int ret;

	if (!json_is_array(items))
		return ms_error_set(r->err, EINVAL, NODELIST ": no items array; give the output of kubectl get nodes -o json");
	if ((ret = static_nodes(r, tmpl, mesh_source)))
		return ret;
	json_array_foreach(items, i, item)
		if ((ret = one_node(r, i, item)))
			return ret;
	if (r->n)
		qsort(r->m, r->n, sizeof(*r->m), by_name);
	for (i = 1; i < r->n; i++)
		if (strcmp(r->m[i - 1].name, r->m[i].name) == 0)
			return ms_error_set(r->err, EINVAL, "node %s is listed twice (in %s or the NodeList); rename the member outside "
					    "the cluster", r->m[i].name, mesh_source);
	if ((ret = write_text(r, tmpl, out, r->err)))
		return ret;
	if ((ret = ms_inventory_parse(*out, strlen(*out), "the rendered inventory", &inv, r->err)) < 0) {
		ms_error_prefix(r->err, ret, "the nodes make an inventory meshsecd would refuse, so none is written");
		free(*out);
		*out = NULL;
		return ret;
	}
	ms_inventory_free(inv);
	return 0;
}

int ms_kube_render(const char *nodes, size_t nodes_len, const char *mesh, size_t mesh_len, const char *mesh_source,
		   ms_kube_left_out_fn left_out, void *ctx, char **out, size_t *n_nodes, struct ms_error *err)
{
	struct render r = { .left_out = left_out, .ctx = ctx, .err = err };
	json_t *list = NULL, *tmpl = NULL;
	int ret;

	*out = NULL;
	*n_nodes = 0;
	if ((ret = parse_json(mesh, mesh_len, mesh_source, &tmpl, err)) == 0 &&
	    (ret = parse_json(nodes, nodes_len, NODELIST, &list, err)) == 0 &&
	    (ret = render(&r, list, tmpl, mesh_source, out)) == 0)
		*n_nodes = r.n;
	for (size_t i = 0; i < r.n; i++)
		json_decref(r.m[i].entry);
	free(r.m);
	json_decref(list);
	json_decref(tmpl);
	return ret;
}
