/* The agent's answers to control requests (agent/CONTROL.md); the socket is ctl_server.c's. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "mesh.h"
#include "mesh_internal.h"
#include "mesh_view.h"

static enum ms_ctl_result failed(json_t *resp, enum ms_ctl_result rc, const char *msg)
{
	json_object_set_new(resp, "message", json_string(msg));
	return rc;
}

/* A new handshake with every peer, or the one named, whatever is under way. */
static enum ms_ctl_result rekey(struct mesh *m, const char *only, json_t *resp)
{
	json_t *names = json_array();
	uint64_t now = mesh_now_ms();

	if (only[0] && core_peer_find(m->core, only) < 0) {
		json_decref(names);
		return failed(resp, MS_CTL_E_NOT_FOUND, "no such peer; `meshsec peers` lists them");
	}
	for (size_t i = 0; i < core_peer_slots(m->core); i++) {
		const struct core_peer *p = core_peer(m->core, (int)i);
		int rc;

		if (!p->used || (only[0] && strcmp(only, p->name) != 0))
			continue;
		if ((rc = core_rekey(m->core, (int)i, now)) < 0) {
			json_decref(names);
			return failed(resp, MS_CTL_E_FAILED, strerror(-rc));
		}
		json_array_append_new(names, json_string(p->name));
	}
	log_info("rekey requested over the control socket for %zu peers", json_array_size(names));
	json_object_set_new(resp, "rekeying", names);
	return MS_CTL_OK;
}

/* Removes everything tagged and stops the agent once the answer is on its way. */
static enum ms_ctl_result down(struct mesh *m, json_t *resp)
{
	struct timeval soon = { 0, 200000 };
	size_t n_sps, n_sas;
	struct ms_error err;

	if (xnl_remove_all_tagged(m->xnl, &n_sps, &n_sas, &err) < 0)
		return failed(resp, MS_CTL_E_FAILED, err.msg);	/* the agent carries on; restart it to reinstall */
	m->stopping = true;	/* until the loop exits: no more handshakes, no more kernel requests */
	log_info("down requested over the control socket: removed %zu policies and %zu SAs; stopping", n_sps, n_sas);
	json_object_set_new(resp, "policies_removed", json_integer((json_int_t)n_sps));
	json_object_set_new(resp, "sas_removed", json_integer((json_int_t)n_sas));
	event_base_loopexit(m->base, &soon);
	return MS_CTL_OK;
}

/* status, peers and show: one view of the mesh, written as text. */
static enum ms_ctl_result status(struct mesh *m, const struct ms_ctl_req *req, json_t *resp, char **body)
{
	struct mesh_view v;

	if (req->type == MS_CTL_SHOW && core_peer_find(m->core, req->peer) < 0)
		return failed(resp, MS_CTL_E_NOT_FOUND, "no such peer; `meshsec peers` lists them");
	if (mesh_view_collect(m, req->type == MS_CTL_SHOW ? req->peer : NULL, &v) < 0 ||
	    !(*body = mesh_status_text(m, &v, req->type == MS_CTL_PEERS))) {
		mesh_view_free(&v);
		return failed(resp, MS_CTL_E_FAILED, "out of memory");
	}
	mesh_view_free(&v);
	return MS_CTL_OK;
}

enum ms_ctl_result mesh_ctl_handle(void *ctx, const struct ms_ctl_req *req, json_t *resp, char **body)
{
	struct mesh *m = ctx;
	struct ms_error err;
	char *text;

	switch (req->type) {
	case MS_CTL_STATUS:
	case MS_CTL_PEERS:
	case MS_CTL_SHOW:
		return status(m, req, resp, body);
	case MS_CTL_METRICS:
		if (!(text = mesh_metrics_text(m)))
			return failed(resp, MS_CTL_E_FAILED, "out of memory");
		json_object_set_new(resp, "text", json_string(text));
		free(text);
		return MS_CTL_OK;
	case MS_CTL_RELOAD:
		if (mesh_reload(m, NULL, &err) < 0)
			return failed(resp, MS_CTL_E_FAILED, err.msg);
		json_object_set_new(resp, "message", json_string("reloaded"));
		return MS_CTL_OK;
	case MS_CTL_REKEY:
		return rekey(m, req->peer, resp);
	case MS_CTL_LOG_LEVEL:
		if (req->level >= 0) {
			log_set_level((enum log_level)req->level);
			log_info("log level set to %s over the control socket", log_level_name(log_get_level()));
		}
		json_object_set_new(resp, "level", json_string(log_level_name(log_get_level())));
		return MS_CTL_OK;
	case MS_CTL_DOWN:
		return down(m, resp);
	case MS_CTL_EVENTS:	/* ctl_server.c streams them */
	case MS_CTL_NETCHECK:	/* answered later, by mesh_netcheck_request (ctl_set_deferred) */
	case MS_CTL_TYPE_COUNT:
		break;
	}
	return failed(resp, MS_CTL_E_UNKNOWN, "unknown request");
}
