/*
 * meshsecd: the agent.  This file owns start-up: options, configuration, logging, and the one
 * event loop; each concern it drives (netlink, handshakes, control socket) has its own file.
 */
#include "config.h"

#include <event2/event.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "meshsec/conf.h"
#include "ctl_server.h"
#include "meshsec/instance.h"
#include "meshsec/listen.h"
#include "meshsec/opts.h"
#include "log.h"
#include "mesh.h"
#include "mesh_netcheck.h"
#include "metrics_http.h"
#include "meshsec/node_state.h"
#include "sd_notify.h"
#include "watch.h"
#include "etcd_watch.h"

struct agent {
	struct event_base *base;
	struct conf_paths paths;
	struct mesh mesh;
	struct watch *watch;		/* a file inventory */
	struct etcd_watch *etcd;	/* an etcd:// inventory */
	struct ctl_server *ctl;
	struct metrics_http *metrics;
	const char *socket, *metrics_listen, *metrics_token;
	struct mesh_opts opts;
};

/*
 * Keys live in this process: no core dump may carry them, and no one but root may attach.
 * (sodium_malloc memory is also excluded from dumps; this covers the stack and libc's buffers.)
 */
static void harden_process(void)
{
	const struct rlimit none = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &none) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		log_warn("cannot disable core dumps");
}

static const struct ms_opt agent_opts[] = {
	{ "inventory", 'i', "PATH|URL", "inventory JSON file, or etcd://HOST[:PORT]/KEY (default " MS_DEFAULT_INVENTORY ")" },
	{ "secret", 's', "PATH", "mesh secret (default " MS_DEFAULT_SECRET ")" },
	{ "node", 'n', "NAME", "this node's name (default: found by this host's addresses)" },
	{ "no-address-check", 'A', NULL, "with --node: do not require its address on this host (NAT)" },
	{ "socket", 'S', "PATH", "the control socket (default " MS_DEFAULT_SOCKET ")" },
	{ "foreground", 'f', NULL, "log to stderr instead of syslog" },
	{ "log-level", 'l', "LEVEL", "error, warn, info (default) or debug" },
	{ "metrics-listen", 'm', "[ADDR:]PORT", "serve Prometheus /metrics there (default off; ADDR 127.0.0.1)" },
	{ "metrics-token-file", 'T', "PATH", "the bearer token /metrics requires (needed with --metrics-listen)" },
	{ "node-state", 'N', "PATH", "where to save this node's name for install-policies (default " MS_DEFAULT_NODE_STATE ")" },
	{ "skip-esp-check", 'E', NULL, "benchmarks only: start on a kernel without ESP; no pair comes up" },
	{ "no-esp-verify", 'P', NULL, "prefer mode: switch a pair to ESP once up, without checking that ESP passes "
	  "(a network that drops IP protocol 50 then blackholes it)" },
	{ "version", 'V', NULL, "print the version and exit" },
	{ NULL, 0, NULL, NULL },
};

static const struct ms_cmd agent_cmd = {
	.name = "meshsecd", .summary = "the meshsec agent: keeps this node's IPsec SAs and policies with every peer",
	.help = "Exit status: 0 stopped by a signal, 1 could not start, 2 usage.", .opts = agent_opts,
};

/* Options into a; refuses a bad --log-level or --metrics-listen before anything starts. */
static int parse_args(int argc, char **argv, struct agent *a, int *foreground, int *level)
{
	struct ms_args o;
	struct ms_error err;
	char addr[MS_LISTEN_ADDR_MAX];
	unsigned port;

	if (ms_opts_parse(&agent_cmd, argc, argv, &o, &err) < 0) {
		fprintf(stderr, "meshsecd: %s\n", err.msg);
		return 2;
	}
	if (o.help) {
		ms_opts_help(stdout, "meshsecd", &agent_cmd);
		return 0;
	}
	if (ms_opt_set(&o, "version")) {
		printf("meshsecd %s\n", PACKAGE_VERSION);
		return 0;
	}
	if (ms_opt(&o, "log-level") && (*level = log_level_parse(ms_opt(&o, "log-level"))) < 0) {
		fprintf(stderr, "meshsecd: --log-level %s: use error, warn, info or debug\n", ms_opt(&o, "log-level"));
		return 2;
	}
	if ((a->metrics_listen = ms_opt(&o, "metrics-listen")) && ms_listen_parse(a->metrics_listen, addr, &port, &err) < 0) {
		fprintf(stderr, "meshsecd: %s\n", err.msg);
		return 2;
	}
	if (a->metrics_listen && !(a->metrics_token = ms_opt(&o, "metrics-token-file"))) {
		fprintf(stderr, "meshsecd: --metrics-listen needs --metrics-token-file PATH: metrics go only to scrapers with that bearer token\n");
		return 2;
	}
	a->paths.inventory = ms_opt(&o, "inventory") ? ms_opt(&o, "inventory") : a->paths.inventory;
	a->paths.secret = ms_opt(&o, "secret") ? ms_opt(&o, "secret") : a->paths.secret;
	a->paths.node = ms_opt(&o, "node");
	a->paths.node_anywhere = ms_opt_set(&o, "no-address-check");
	a->socket = ms_opt(&o, "socket") ? ms_opt(&o, "socket") : a->socket;
	a->opts.node_state = ms_opt(&o, "node-state") ? ms_opt(&o, "node-state") : a->opts.node_state;
	a->opts.skip_esp_check = ms_opt_set(&o, "skip-esp-check");
	a->opts.no_esp_verify = ms_opt_set(&o, "no-esp-verify");
	a->metrics_token = ms_opt(&o, "metrics-token-file");
	*foreground = ms_opt_set(&o, "foreground");
	return -1;
}

/* The mesh's events go to the control socket's subscribers; with none, no event is formatted. */
static void publish_events(void *ctx, const char *line, const char *time)
{
	ctl_publish(ctx, line, time);
}

static bool events_listened(void *ctx)
{
	return ctl_subscribers(ctx) > 0;
}

/* Reload: the mesh builds the new model whole; on any error the running one stays. */

static void agent_reload(void *arg)
{
	struct agent *a = arg;
	struct ms_error err;

	if (mesh_reload(&a->mesh, NULL, &err) < 0)
		log_warnx("reload refused, the running mesh is unchanged: %s", err.msg);
}

/* etcd_watch.h: a new value of the key, applied as a diff like a changed file. */
static void etcd_value(void *arg, const struct ms_inv_text *t)
{
	struct agent *a = arg;
	struct ms_error err;

	if (mesh_reload(&a->mesh, t, &err) < 0)
		log_warnx("reload refused, the running mesh is unchanged: %s", err.msg);
}

/* Logged once per outage; status shows it meanwhile. */
static void etcd_state(void *arg, const char *why)
{
	struct agent *a = arg;
	const struct mesh_source *s = &a->mesh.source;

	if (why && !s->unreachable)
		log_warnx("%s; the running mesh keeps the inventory of revision %lld and retries", why, (long long)s->revision);
	else if (!why && s->unreachable)
		log_info("%s: etcd answers again; following the key from there", a->paths.inventory);
	mesh_source_state(&a->mesh, why);
}

/* Follows the inventory's changes: inotify for a file, a watch for an etcd key. */
static void follow_source(struct agent *a)
{
	const struct etcd_watch_cb cb = { etcd_value, etcd_state, a };
	struct ms_error err;

	if (!ms_inv_source_is_url(a->paths.inventory)) {
		if (watch_open(a->base, a->paths.inventory, agent_reload, a, &a->watch, &err) < 0)
			log_warnx("%s", err.msg);
	} else if (etcd_watch_open(a->base, a->paths.inventory, a->mesh.source.revision, &cb, &a->etcd, &err) < 0) {
		log_warnx("%s; the inventory will not follow etcd", err.msg);
	}
}

/* conf_load, with an etcd:// inventory read first so its revision is known. */
static int load_conf(struct agent *a, struct conf *conf, int64_t *revision, struct ms_error *err)
{
	struct ms_inv_text t = { 0 };
	int rc;

	*revision = 0;
	if (ms_inv_source_is_url(a->paths.inventory)) {
		if ((rc = ms_inv_source_read(a->paths.inventory, &t, err)) < 0)
			return rc;
		a->paths.given = &t;
		*revision = t.revision;
	}
	rc = conf_load(&a->paths, conf, err);
	a->paths.given = NULL;
	ms_inv_text_free(&t);
	return rc;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct agent *a = arg;

	(void)what;
	if (sig == SIGHUP) {
		log_info("SIGHUP: reloading %s", a->paths.inventory);
		if (a->etcd)
			etcd_watch_resync(a->etcd);
		else
			agent_reload(a);
		return;
	}
	if (sig == SIGUSR1) {
		mesh_log_stats(&a->mesh);
		return;
	}
	log_info("signal %d: stopping; kernel state stays in place (meshsec down removes it)", (int)sig);
	event_base_loopbreak(a->base);
}

int main(int argc, char **argv)
{
	struct agent a = { .paths = { MS_DEFAULT_INVENTORY, MS_DEFAULT_SECRET, NULL, false, NULL }, .socket = MS_DEFAULT_SOCKET,
			   .opts = { .skip_esp_check = false, .node_state = MS_DEFAULT_NODE_STATE } };
	struct conf conf;
	struct event *sigs[4];
	const int signums[4] = { SIGHUP, SIGINT, SIGTERM, SIGUSR1 };
	int foreground = 0, level = LOG_LVL_INFO, rc = 0, lock;
	struct ms_error err;
	int64_t revision;

	if ((rc = parse_args(argc, argv, &a, &foreground, &level)) >= 0)
		return rc;
	rc = 0;
	log_init(foreground, (enum log_level)level);
	harden_process();
	/* A control or metrics client that hangs up mid-reply must cost an EPIPE, not the agent. */
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return 1;
	}
	if (load_conf(&a, &conf, &revision, &err) < 0) {
		log_error("not starting: %s", err.msg);
		return 1;
	}
	/* Before anything touches the kernel: a second agent would fight the first over its objects. */
	if ((lock = instance_lock("not starting", &err)) < 0) {
		log_error("%s", err.msg);
		conf_free(&conf);
		return 1;
	}
	log_info("mesh %s: this node is %s (%s), %zu peers, cipher %s, port %u", conf.inv->mesh_name,
		 conf.inv->nodes[conf.self].name, conf.found_by, conf.inv->n_nodes - 1,
		 ms_cipher_name(conf.inv->cipher), conf.inv->port);
	if (revision)
		log_info("inventory from %s, revision %lld; following its changes", a.paths.inventory, (long long)revision);
	a.base = event_base_new();
	if (!a.base) {
		log_error("cannot create the event loop");
		conf_free(&conf);
		return 1;
	}
	for (int i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(a.base, signums[i], on_signal, &a);
		event_add(sigs[i], NULL);
	}
	if (mesh_start(&a.mesh, a.base, &conf, &a.paths, &a.opts, &err) < 0) {
		log_error("not starting: %s", err.msg);
		rc = 1;
		goto out;
	}
	a.mesh.source.revision = revision;
	follow_source(&a);
	/* Without the socket the mesh still runs; status is what is lost, and the log says so. */
	if (ctl_open(a.base, a.socket, mesh_ctl_handle, &a.mesh, &a.ctl, &err) < 0)
		log_warnx("%s; meshsec status will not reach this agent", err.msg);
	else {
		mesh_on_events(&a.mesh, publish_events, events_listened, a.ctl);
		ctl_set_deferred(a.ctl, MS_CTL_NETCHECK, mesh_netcheck_request, &a.mesh);
	}
	if (a.metrics_listen && metrics_http_open(a.base, a.metrics_listen, a.metrics_token, &a.mesh, &a.metrics, &err) < 0)
		log_warnx("%s; metrics stay available through meshsec metrics", err.msg);
	/* Type=notify: services ordered after us start once member traffic is protected. */
	if (sd_notify_send(a.ctl ? "READY=1\nSTATUS=policies in place; agreeing keys with peers"
				 : "READY=1\nSTATUS=policies in place; the control socket failed (see the log)") < 0)
		log_warnx("cannot tell systemd the agent is ready ($NOTIFY_SOCKET)");
	event_base_dispatch(a.base);
out:
	ctl_close(a.ctl);
	metrics_http_close(a.metrics);
	watch_close(a.watch);
	etcd_watch_close(a.etcd);
	mesh_stop(&a.mesh);
	conf_free(&conf);
	for (int i = 0; i < 4; i++)
		event_free(sigs[i]);
	event_base_free(a.base);
	close(lock);
	return rc;
}
