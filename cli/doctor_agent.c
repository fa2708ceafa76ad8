/*
 * doctor: the agent's own view (doctor.h).  Peers that are not up, grouped by why: the reason
 * the agent gives each peer when its status has one, else what its counters show (handshakes
 * failing authentication are a secret or mesh-name mismatch, not a firewall).  Only peers that
 * do not answer at all get the firewall advice, and not even those when the kernel lacks ESP.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "doctor.h"

#define MAX_REASONS 16

static const char auth_fix[] =
	"the secret file and the inventory's mesh.name must be the same on both nodes: meshsec check on each prints the mesh "
	"name and the secret fingerprint; copy the right files, then systemctl restart meshsecd there";

struct reason {
	char code[32];
	const char *what;	/* after "N peer(s) " */
	char agent_msg[256], agent_fix[384];
	char list[768];
	size_t n;
};

/* The peer's reason code: the agent's, else guessed from its state and counters; NULL when none. */
static const char *reason_of(json_t *p, json_t **agent)
{
	const char *state = json_string_value(json_object_get(p, "state"));
	json_t *r = json_object_get(p, "reason");

	*agent = NULL;
	if (json_is_object(r) && json_is_string(json_object_get(r, "code"))) {
		*agent = r;
		return json_string_value(json_object_get(r, "code"));
	}
	if (!state || strcmp(state, "up") == 0)
		return NULL;
	if (json_integer_value(json_object_get(json_object_get(p, "errors"), "bad_mac")) > 0)
		return "auth_failed";
	return strcmp(state, "down") == 0 ? "no_answer" : NULL;	/* connecting: under way */
}

static struct reason *group(struct reason *g, size_t *n, const char *code, json_t *agent)
{
	size_t i;

	for (i = 0; i < *n && strcmp(g[i].code, code) != 0; i++)
		;
	if (i == *n) {
		if (*n == MAX_REASONS)
			return NULL;
		memset(&g[i], 0, sizeof(g[i]));
		snprintf(g[i].code, sizeof(g[i].code), "%s", code);
		g[i].what = strcmp(code, "no_answer") == 0 ? "down: no answer to handshakes or keepalives"
			    : strcmp(code, "auth_failed") == 0 ? "not up: their handshakes fail authentication (the secret or the mesh name "
							     "differs from this node's)"
			    : strcmp(code, "esp_blocked") == 0 ? "up, but ESP (IP protocol 50) does not pass: their traffic stays in clear "
							     "(prefer) or is dropped (require)"
							   : NULL;
		snprintf(g[i].agent_msg, sizeof(g[i].agent_msg), "%s", json_string_value(json_object_get(agent, "message")) ?: code);
		snprintf(g[i].agent_fix, sizeof(g[i].agent_fix), "%s", json_string_value(json_object_get(agent, "fix")) ?: "");
		(*n)++;
	}
	return &g[i];
}

static void report(struct doctor *d, const struct reason *r)
{
	const char *fix = strcmp(r->code, "no_answer") == 0 ? doctor_unreachable_fix(d)
			  : strcmp(r->code, "auth_failed") == 0 ? auth_fix : r->agent_fix;

	if (strcmp(r->code, "handshaking") == 0)	/* every start and every new peer: not a fault */
		doctor_add(d, "peers", DOC_OK, "", "%zu peer%s connecting, handshake under way: %s", r->n, r->n == 1 ? "" : "s",
			   r->list);
	else if (r->what)
		doctor_add(d, "peers", DOC_ERROR, fix, "%zu peer%s %s: %s", r->n, r->n == 1 ? "" : "s", r->what, r->list);
	else
		doctor_add(d, "peers", DOC_ERROR, fix, "%zu peer%s not up (%s: %s): %s", r->n, r->n == 1 ? "" : "s", r->code,
			   r->agent_msg, r->list);
}

void doctor_agent(struct doctor *d)
{
	json_t *counts = json_object_get(d->status, "counts"), *p, *agent;
	struct reason g[MAX_REASONS];
	char drift[768] = "", item[160];
	size_t i, n_g = 0, n_drift = 0;

	json_array_foreach(json_object_get(d->status, "peers"), i, p) {
		const char *name = json_string_value(json_object_get(p, "name")), *code = reason_of(p, &agent);
		long long bad_mac = json_integer_value(json_object_get(json_object_get(p, "errors"), "bad_mac"));
		struct reason *r = code ? group(g, &n_g, code, agent) : NULL;

		if (r) {
			if (bad_mac > 0)
				snprintf(item, sizeof(item), "%s (%lld handshake datagrams failed authentication)", name, bad_mac);
			else
				snprintf(item, sizeof(item), "%s", name);
			doctor_list_add(r->list, sizeof(r->list), &r->n, item);
		}
		if (json_is_true(json_object_get(p, "drift"))) {
			snprintf(item, sizeof(item), "%s (digest %s)", name, json_string_value(json_object_get(p, "inventory_digest")) ?: "?");
			doctor_list_add(drift, sizeof(drift), &n_drift, item);
		}
	}
	for (i = 0; i < n_g; i++) {
		doctor_list_end(g[i].list, sizeof(g[i].list), g[i].n);
		report(d, &g[i]);
	}
	doctor_list_end(drift, sizeof(drift), n_drift);
	if (n_drift)
		doctor_add(d, "drift", DOC_WARN, "ship the current inventory to those nodes (their agents reload by themselves)",
			   "%zu peer%s run%s another inventory: %s", n_drift, n_drift == 1 ? "" : "s", n_drift == 1 ? "s" : "", drift);
	if (json_integer_value(json_object_get(counts, "up")) == json_integer_value(json_object_get(counts, "peers"))) {
		long long n = json_integer_value(json_object_get(counts, "peers"));

		if (n == 1)
			doctor_add(d, "peers", DOC_OK, "", "the only peer is up");
		else
			doctor_add(d, "peers", DOC_OK, "", "all %lld peers up", n);
	}
}
