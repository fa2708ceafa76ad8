/*
 * The running mesh: the node core (common/core.c) wired to the kernel (netlink), the UDP sockets
 * and the event loop.  Start reconciles the kernel's policies with the plan and hands the SAs
 * found from before to the core; reload swaps in a new inventory and applies only the
 * difference; stop leaves kernel state in place.  Every decision is the core's.
 */
#ifndef MESHSEC_MESH_H
#define MESHSEC_MESH_H

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>
#include <time.h>

#include "meshsec/core.h"
#include "meshsec/ctl.h"
#include "meshsec/error.h"
#include "meshsec/conf.h"
#include "xev.h"
#include "meshsec/xnl.h"
#include "meshsec/fingerprint.h"

/* Where events go (mesh_events.c): a JSON object's text and its time. */
typedef void (*mesh_publish_fn)(void *ctx, const char *line, const char *time);
/* True while someone listens for events; until then none is formatted. */
typedef bool (*mesh_listening_fn)(void *ctx);

struct mesh {
	struct event_base *base;
	struct conf_paths paths;
	struct conf conf;
	struct xnl *xnl;
	struct xev *xev;	/* soft expiry of our SAs: rekey */
	struct core *core;
	int fd[2];			/* IPv4, IPv6; -1 when this node has no such address */
	struct event *ev[2], *tick;
	struct ms_sp *sps;		/* the SPs planned for the current model */
	size_t n_sps;
	/* Planned SPs whose selector another owner's policy holds (mesh_policies.c). */
	struct mesh_conflict {
		struct ms_sp sp;
		bool reported;
		char foreign[XNL_POLICY_STRLEN];	/* what holds it */
	} *conflicts;
	size_t n_conflicts, cap_conflicts;
	uint64_t conflicts_retry_ms;
	size_t batch_conflicts;		/* EEXIST policy refusals in the commit under way */
	uint64_t started_ms;
	bool stopping;			/* `down` asked: no more handshakes or kernel requests */
	bool conflicts_changed;
	bool mode_stale;		/* a prefer pair went up or down: mesh_mode_flush */
	uint64_t mode_check_ms;		/* mesh_mode_flush looks at every pair from then */
	bool mode_any_prefer;		/* some pair is in prefer mode: mesh_mode_flush at every tick */		/* the core's view of which peers have conflicts is stale */
	char fingerprint[MS_FINGERPRINT_HEX + 1];	/* of the secret (CONTROL.md, "Fingerprints") */
	mesh_publish_fn publish;	/* NULL: nobody listens for events */
	mesh_listening_fn listening;	/* NULL: publish always listens */
	void *publish_ctx;
	/* The inventory's source (file or etcd): what runs and whether the source is failing. */
	struct mesh_source {
		int64_t revision;	/* etcd: the running inventory's mod_revision; a file: 0 */
		time_t failing_since;	/* 0: the last read of the source was applied */
		bool unreachable;	/* failing because the source cannot be read (not a refused value) */
		char why[MS_ERROR_MAX + 64];	/* "revision N refused: " and the message */
	} source;
	struct mesh_netcheck *netcheck;	/* mesh_netcheck.c; NULL: unavailable */
	struct mesh_espcheck *espcheck;	/* mesh_espcheck.c; NULL: off (--no-esp-verify) */
	struct mesh_opts {
		bool skip_esp_check;	/* benchmarks on a kernel without ESP: no pair comes up */
		bool no_esp_verify;	/* prefer pairs use ESP once up, unchecked (mesh_espcheck.c) */
		const char *node_state;	/* where to keep this node's name for the next boot */
	} opts;
};

/* Takes ownership of conf.  On failure nothing is left running (kernel SPs may remain: fail closed). */
int mesh_start(struct mesh *m, struct event_base *base, struct conf *conf, const struct conf_paths *paths,
	       const struct mesh_opts *opts, struct ms_error *err);
/*
 * Applies given (the source's text, from the etcd watch) or, when NULL, re-reads the inventory;
 * checks the secret.  On error the running mesh is unchanged and the source is marked failing.
 */
int mesh_reload(struct mesh *m, const struct ms_inv_text *given, struct ms_error *err);
/* The source cannot be read (why) or can again (NULL); the running mesh stays either way. */
void mesh_source_state(struct mesh *m, const char *why);
void mesh_stop(struct mesh *m);

uint64_t mesh_now_ms(void);
/* Events (agent/CONTROL.md, "Events"): from the core, and the shell's own (reload, conflicts). */
void mesh_on_events(struct mesh *m, mesh_publish_fn fn, mesh_listening_fn listening, void *ctx);
void mesh_event_core(struct mesh *m, const struct core_event *ev);
/* A node-wide or peer event of the shell: peer may be NULL; detail is set as "detail". */
void mesh_event(struct mesh *m, const char *type, const char *peer, const char *detail);
/* Logs the counters and every peer's state (SIGUSR1). */
void mesh_log_stats(const struct mesh *m);

/* Prometheus text exposition of the status numbers, plus the kernel's xfrm_stat (malloc'd). */
char *mesh_metrics_text(struct mesh *m);
/* The control socket's handler (ctl_server.h); ctx is the mesh. */
enum ms_ctl_result mesh_ctl_handle(void *ctx, const struct ms_ctl_req *req, json_t *resp, char **body);

#endif
