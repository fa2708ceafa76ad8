/*
 * meshsec kube-inventory --mesh PATH --nodes PATH|- [--out PATH]: the inventory of a Kubernetes
 * cluster's nodes (common/kube_nodes.c), for the renderer in deploy/kubernetes/.  Nodes left out
 * are reported on stderr (in --json, under left_out), one line each with the fix; the rendered
 * text has passed the inventory parser, so what is written is what meshsecd loads.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "meshsec/inventory.h"
#include "meshsec/kube_nodes.h"
#include "cli.h"

/* A NodeList of 16,384 nodes with their image lists stays far below this. */
#define NODELIST_MAX_BYTES (512u << 20)
/* Kubernetes refuses a ConfigMap over 1 MiB; keep room for its metadata. */
#define CONFIGMAP_DATA_MAX 1000000u

struct left_out {
	const struct ms_args *a;
	json_t *list;
};

static void on_left_out(void *ctx, const char *node, const char *reason)
{
	struct left_out *l = ctx;

	if (cli_json(l->a))
		json_array_append_new(l->list, json_pack("{s:s,s:s}", "node", node, "reason", reason));
	else
		fprintf(stderr, "meshsec kube-inventory: node %s: %s\n", node, reason);
}

/* The whole of path ("-": stdin) into *buf, NUL-terminated, at most max bytes. */
static int read_all(const char *path, size_t max, char **buf, size_t *len, struct ms_error *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	size_t cap = 0, n;
	int ret = 0;

	*buf = NULL;
	*len = 0;
	if (!f)
		return ms_error_set(err, errno, "%s: cannot open: %s", path, strerror(errno));
	do {
		if (*len + 1 >= cap) {
			char *b = realloc(*buf, cap = cap ? cap * 2 : 1 << 16);

			if (!b) {
				ret = ms_error_set(err, ENOMEM, "%s: out of memory", path);
				break;
			}
			*buf = b;
		}
		n = fread(*buf + *len, 1, cap - *len - 1, f);
		*len += n;
	} while (n > 0 && *len <= max);
	if (!ret && ferror(f))
		ret = ms_error_set(err, EIO, "%s: cannot read", path);
	else if (!ret && *len > max)
		ret = ms_error_set(err, EFBIG, "%s: over %zu MiB; is it the right file?", path, max >> 20);
	if (f != stdin)
		fclose(f);
	if (ret) {
		free(*buf);
		*buf = NULL;
	} else
		(*buf)[*len] = '\0';
	return ret;
}

/* Replaced by rename, so the watcher of path (or a reader) never sees half a file. */
static int write_file(const char *path, const char *text, struct ms_error *err)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	FILE *f;
	int ret = 0;

	if (!tmp)
		return ms_error_set(err, ENOMEM, "out of memory");
	snprintf(tmp, n, "%s.tmp", path);
	if (!(f = fopen(tmp, "we")))
		ret = ms_error_set(err, errno, "%s: cannot create: %s", tmp, strerror(errno));
	else if ((fputs(text, f) < 0) | (fclose(f) != 0))
		ret = ms_error_set(err, errno, "%s: cannot write: %s", tmp, strerror(errno));
	else if (rename(tmp, path) < 0)
		ret = ms_error_set(err, errno, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

static int render(const struct ms_args *a, struct left_out *l, char **text, size_t *n, struct ms_error *err)
{
	const char *mesh = ms_opt(a, "mesh"), *nodes = ms_opt(a, "nodes");
	char *mbuf, *nbuf;
	size_t mlen, nlen;
	int ret;

	if (!mesh || !nodes)
		return ms_error_set(err, EINVAL, "needs --mesh PATH (the template: version and mesh) and --nodes PATH "
				    "(kubectl get nodes -o json; - for stdin)");
	if ((ret = read_all(mesh, MS_INVENTORY_MAX_BYTES, &mbuf, &mlen, err)))
		return ret;
	if ((ret = read_all(nodes, NODELIST_MAX_BYTES, &nbuf, &nlen, err)) == 0) {
		ret = ms_kube_render(nbuf, nlen, mbuf, mlen, mesh, on_left_out, l, text, n, err);
		free(nbuf);
	}
	free(mbuf);
	if (ret == 0 && strlen(*text) > CONFIGMAP_DATA_MAX) {
		ret = ms_error_set(err, EFBIG, "the inventory of %zu nodes is %zu bytes, over what a ConfigMap holds (1 MiB); "
				   "split the cluster into meshes, or leave nodes out with the label " MS_KUBE_LABEL_MEMBER "=false",
				   *n, strlen(*text));
		free(*text);
	}
	return ret;
}

static int kube_inventory_main(int argc, char **argv)
{
	struct ms_args a;
	struct ms_error err;
	struct left_out l = { &a, NULL };
	const char *out;
	char *text;
	size_t n;
	int rc = cli_begin(&cli_cmd_kube_inventory, argc, argv, &a);

	if (rc >= 0)
		return rc;
	out = ms_opt(&a, "out");
	l.list = json_array();
	if (render(&a, &l, &text, &n, &err) < 0 || (out && write_file(out, text, &err) < 0)) {
		cli_error(&a, NULL, "%s", err.msg);
		json_decref(l.list);
		return 1;
	}
	if (cli_json(&a))
		cli_print_json(json_pack("{s:I,s:o,s:s}", "nodes", (json_int_t)n, "left_out", l.list, out ? "wrote" : "inventory",
					 out ? out : text));
	else {
		json_decref(l.list);
		if (!out)
			fputs(text, stdout);
	}
	free(text);
	return fflush(stdout) == 0 ? 0 : 1;
}

static const struct ms_opt kube_inventory_opts[] = {
	{ "mesh", 'm', "PATH", "the template: an inventory with version and mesh, and nodes outside the cluster if any" },
	{ "nodes", 'N', "PATH", "the cluster's nodes: the output of kubectl get nodes -o json (- for stdin)" },
	{ "out", 'o', "PATH", "write the inventory there (replaced by rename) instead of on stdout" },
	CLI_OPT_JSON, { NULL, 0, NULL, NULL },
};

const struct ms_cmd cli_cmd_kube_inventory = {
	.name = "kube-inventory", .summary = "the inventory of a Kubernetes cluster's nodes (deploy/kubernetes)",
	.help = "Every node of the NodeList, by metadata.name, with its first IPv4 and first IPv6 InternalIP, sorted by name;\n"
		"label " MS_KUBE_LABEL_MEMBER "=false leaves a node out, label " MS_KUBE_LABEL_MODE "=prefer|require sets its mode.\n"
		"Nodes that cannot be members (a name over 63 characters, no InternalIP yet) are left out and named on stderr.\n"
		"The result is validated as meshsecd would load it.  Exit status: 0 written, 1 refused (nothing written), 2 usage.",
	.opts = kube_inventory_opts, .main = kube_inventory_main,
};
