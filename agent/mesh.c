/*
 * The running mesh's I/O: the node core's operations carried out with netlink and UDP, the
 * receive path, the tick, and start-up reconciliation of the policies.  Reload lives in
 * mesh_reload.c; every decision about peers, keys and liveness is the core's.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "meshsec/plan.h"
#include "meshsec/esp_probe.h"
#include "meshsec/node_state.h"
#include "meshsec/spd_hash.h"
#include "log.h"
#include "mesh.h"
#include "mesh_internal.h"
#include "mesh_espcheck.h"
#include "mesh_netcheck.h"
#include "udp.h"

#define TICK_MS 100
#define RX_BATCH 64	/* datagrams per wake-up: a flood cannot starve timers or the control socket */

uint64_t mesh_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What the kernel refused, for those who must know what they own (core, policy conflicts). */
static void on_refused(void *ctx, const struct xnl_request *r, int error)
{
	struct mesh *m = ctx;

	if (r->op == XNL_SA_ADD) {
		core_sa_refused(m->core, &r->dst, r->spi, r->larval, error, xnl_refusal_text(m->xnl));
	} else if (r->op == XNL_SP_ADD && error == EEXIST) {
		mesh_policy_conflict(m, &r->sp);
		m->batch_conflicts++;
	} else if (r->op == XNL_SP_UPDATE && mesh_planned(m, &r->sp)) {
		mesh_planned(m, &r->sp)->shape = MS_SP_UNKNOWN;	/* mesh_mode_flush puts it right */
		m->mode_stale = true;
	}
}

/* Commits; returns the failures other than policy conflicts (reported on their own), or -errno. */
static int commit(struct mesh *m, struct ms_error *err)
{
	int rc;

	m->batch_conflicts = 0;
	rc = xnl_commit(m->xnl, err);
	mesh_policy_report(m);	/* this batch's conflicts, and those found before a replace */
	mesh_policy_mark(m);
	return rc > 0 ? rc - (int)m->batch_conflicts : rc;
}

int mesh_commit(struct mesh *m)
{
	struct ms_error err;
	int rc = commit(m, &err);

	if (rc != 0)
		log_warnx("%s%s", err.msg, rc > 1 ? " (and more failures in the same batch)" : "");
	return rc < 0 ? 1 : rc;
}

int mesh_dump_sas(struct mesh *m, struct ms_sa **sas, size_t *n, struct ms_error *err)
{
	int rc = xnl_dump_sa(m->xnl, sas, n, err);

	if (rc == 0)
		core_sort_sas(*sas, *n);
	return rc;
}

static int op_alloc_spi(void *ctx, const struct ms_addr *src, const struct ms_addr *dst, uint32_t reqid, uint32_t *spi)
{
	struct mesh *m = ctx;
	struct ms_error err;
	int rc = xnl_alloc_spi(m->xnl, src, dst, reqid, spi, &err);

	if (rc < 0)
		log_warnx("%s", err.msg);
	return rc;
}

static void op_sa_add(void *ctx, const struct ms_sa *sa)
{
	xnl_sa_add(((struct mesh *)ctx)->xnl, sa);
}

static void op_sa_del(void *ctx, const struct ms_addr *dst, uint32_t spi)
{
	xnl_sa_del(((struct mesh *)ctx)->xnl, dst, spi);
}

static int op_commit(void *ctx)
{
	return mesh_commit(ctx);
}

static int op_send(void *ctx, const struct ms_addr *to, const uint8_t *buf, size_t len)
{
	struct mesh *m = ctx;
	int fd = m->fd[to->family == AF_INET ? 0 : 1];

	if (fd < 0)
		return -EAFNOSUPPORT;
	return udp_send(fd, to, m->conf.inv->port, buf, len) < 0 ? -errno : 0;
}

static int op_dump_sas(void *ctx, struct ms_sa **sas, size_t *n)
{
	struct ms_error err;
	int rc = xnl_dump_sa(((struct mesh *)ctx)->xnl, sas, n, &err);

	if (rc < 0)
		log_debug("%s", err.msg);
	return rc;
}

static void op_log(void *ctx, enum core_log level, const char *fmt, va_list ap)
{
	static const enum log_level map[] = { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

	(void)ctx;
	log_vmsg(map[level], fmt, ap);
}

static void op_event(void *ctx, const struct core_event *ev)
{
	if (ev->type == CORE_EV_UP || ev->type == CORE_EV_DOWN || ev->type == CORE_EV_HANDSHAKE)
		mesh_mode_stale(ctx, ev->peer);	/* a first handshake is up without an "up" event */
	mesh_event_core(ctx, ev);
}

static const struct core_ops ops = {
	.alloc_spi = op_alloc_spi, .sa_add = op_sa_add, .sa_del = op_sa_del, .commit = op_commit,
	.send = op_send, .dump_sas = op_dump_sas, .log = op_log, .event = op_event,
};

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	struct mesh *m = arg;
	uint8_t buf[MS_PROBE_WIRE_MAX + 1];
	struct ms_addr from;
	ssize_t n;

	(void)what;
	for (int i = 0; i < RX_BATCH && !m->stopping && (n = udp_recv(fd, buf, sizeof(buf), &from)) >= 0; i++) {
		enum hs_verdict v;

		if (ms_wire_is_probe(buf, (size_t)n)) {	/* netcheck's: never the handshake's */
			mesh_netcheck_input(m, MS_PROBE_CLEAR, &from, buf, (size_t)n);
			continue;
		}
		v = core_input(m->core, &from, buf, (size_t)n, mesh_now_ms());

		if (v != HS_ACCEPTED && v != HS_DROP_UNEXPECTED && v != HS_DROP_SIMULTANEOUS && v != HS_DROP_CHALLENGED) {
			char a[MS_ADDR_STRLEN];

			log_debug("dropped a handshake datagram from %s: %s", ms_addr_format(&from, a, sizeof(a)), hs_verdict_name(v));
		}
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct mesh *m = arg;

	(void)fd, (void)what;
	if (!m->stopping) {
		core_tick(m->core, mesh_now_ms());
		mesh_espcheck_tick(m, mesh_now_ms());
		mesh_mode_flush(m, mesh_now_ms());
		mesh_policy_retry(m, mesh_now_ms());
	}
}

/*
 * Start-up reconciliation: tagged SPs are made to match the plan (installed before any handshake,
 * so member traffic is never sent in the clear); the tagged SAs found go to the core, which keeps
 * those of current pairs until fresh keys replace them and deletes the rest.
 */
static int reconcile(struct mesh *m, struct ms_error *err)
{
	struct ms_sp *have = NULL;
	struct ms_sa *sas = NULL;
	size_t n_have = 0, n_sas = 0, removed = 0;
	struct ms_error ignored;
	bool rehashed;
	int rc;

	if ((rc = ms_plan_policies(m->conf.inv, m->conf.self, &m->sps, &m->n_sps, err)) < 0)
		return rc;
	if (spd_hash_ensure(m->xnl, &rehashed, &ignored) < 0)
		log_warnx("%s; policies stay correct, with a slower lookup per packet", ignored.msg);
	else if (rehashed)
		log_info("policy hash thresholds set to local 0, remote 32/128: member policies hash on the peer's address");
	if ((rc = xnl_dump_sp(m->xnl, &have, &n_have, err)) < 0 || (rc = xnl_dump_sa(m->xnl, &sas, &n_sas, err)) < 0) {
		free(have);
		return rc;
	}
	if (m->n_sps > 1)
		qsort(m->sps, m->n_sps, sizeof(*m->sps), ms_sp_cmp);	/* for mesh_planned */
	mesh_mode_adopted(m, sas, n_sas, have, n_have);
	removed = mesh_sync_policies(m, have, n_have, m->sps, m->n_sps);
	mesh_mode_planned(m);
	rc = commit(m, err);
	free(have);
	if (rc != 0) {
		free(sas);
		return rc < 0 ? rc : ms_error_prefix(err, -EIO, "installing the mesh policies");
	}
	log_info("policies: %zu in place for %zu peers (%zu stale removed, %zu held by another owner)",
		 m->n_sps - m->n_conflicts, m->conf.inv->n_nodes - 1, removed, m->n_conflicts);
	core_adopt(m->core, sas, n_sas);
	free(sas);
	/* For meshsec install-policies at the next boot, before this host has its addresses. */
	if (node_state_write(m->opts.node_state, m->conf.inv->nodes[m->conf.self].name, &ignored) < 0)
		log_debug("not kept for the next boot: %s", ignored.msg);
	return 0;
}

/* The kernel says one of our SAs reached a soft limit. */
static void on_expire(void *ctx, const struct ms_addr *src, const struct ms_addr *dst, uint32_t spi)
{
	struct mesh *m = ctx;

	if (!m->stopping)
		core_expire(m->core, src, dst, spi, mesh_now_ms());
}

int mesh_start(struct mesh *m, struct event_base *base, struct conf *conf, const struct conf_paths *paths,
	       const struct mesh_opts *opts, struct ms_error *err)
{
	static const int fam[2] = { AF_INET, AF_INET6 };
	struct timeval tv = { 0, TICK_MS * 1000 };
	const struct ms_node *me;
	uint8_t digest[MS_DIGEST_LEN];
	int rc;

	memset(m, 0, sizeof(*m));
	m->opts = *opts;
	m->started_ms = mesh_now_ms();
	m->base = base;
	m->paths = *paths;
	m->conf = *conf;
	memset(conf, 0, sizeof(*conf));
	m->fd[0] = m->fd[1] = -1;
	me = &m->conf.inv->nodes[m->conf.self];
	m->core = core_new(m->conf.inv, m->conf.self, m->conf.secret->key, &ops, m);
	if (!m->core || ms_inventory_digest(m->conf.inv, digest) < 0)
		return ms_error_set(err, ENOMEM, "out of memory");
	core_set_digest(m->core, digest);
	ms_secret_fingerprint(m->conf.secret->key, m->fingerprint);
	if ((rc = xnl_open(&m->xnl, err)) < 0)
		return rc;
	for (int f = 0; f < 2 && !m->opts.skip_esp_check; f++)
		if (ms_node_addr(me, fam[f]) && (rc = esp_probe(m->xnl, ms_node_addr(me, fam[f]), m->conf.inv->cipher, err)) < 0)
			return rc;	/* before any policy: on a kernel without ESP they would only blackhole */
	xnl_on_refusal(m->xnl, on_refused, m);
	mesh_espcheck_open(m);
	if ((rc = reconcile(m, err)) < 0)
		return rc;
	if (xev_open(base, on_expire, m, &m->xev, err) < 0)
		log_warnx("%s; rekeys follow the agent's timer only", err->msg);
	for (int f = 0; f < 2; f++) {
		if (!ms_node_addr(me, fam[f]))
			continue;
		if ((m->fd[f] = udp_open(fam[f], m->conf.inv->port, err)) < 0)
			return m->fd[f];
		m->ev[f] = event_new(base, m->fd[f], EV_READ | EV_PERSIST, on_udp, m);
		event_add(m->ev[f], NULL);
	}
	mesh_netcheck_open(m);
	core_start(m->core, mesh_now_ms());
	m->tick = event_new(base, -1, EV_PERSIST, on_tick, m);
	event_add(m->tick, &tv);
	return 0;
}

void mesh_stop(struct mesh *m)
{
	mesh_netcheck_close(m);
	mesh_espcheck_close(m);
	for (int f = 0; f < 2; f++) {
		if (m->ev[f])
			event_free(m->ev[f]);
		if (m->fd[f] >= 0)
			close(m->fd[f]);
	}
	if (m->tick)
		event_free(m->tick);
	core_free(m->core);
	xev_close(m->xev);
	xnl_close(m->xnl);
	free(m->sps);
	free(m->conflicts);
	conf_free(&m->conf);
	memset(m, 0, sizeof(*m));
}
