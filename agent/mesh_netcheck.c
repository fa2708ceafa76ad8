/*
 * netcheck's I/O (common/PROTOCOL.md "Reachability probes", agent/CONTROL.md "netcheck"): the
 * ESP channel's sockets, answering peers' probes, and the runs the control socket asks for,
 * answered when they end.  What is sent when and what the replies mean is common/probe*.c's.
 *
 * The ESP channel is one UDP socket per family with per-socket policies of its own instead of
 * the bypass (xnl_socket_esp): inbound, only what arrived through an ESP SA reaches it; outbound,
 * set before each send to the pair's reqid, what it sends leaves only as ESP through the pair's
 * SA or is dropped.  So it proves ESP whatever the pair's SPD policies say (prefer mode sends in
 * clear until the pair is verified: that check is a run of its own, for mesh_espcheck.c).  It
 * is bound to an ephemeral port and sets DF without consulting the path MTU cache
 * (IP_PMTUDISC_PROBE), so large probes measure the path.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"
#include "mesh.h"
#include "mesh_espcheck.h"
#include "mesh_internal.h"
#include "mesh_netcheck.h"
#include "meshsec/espcheck.h"
#include "meshsec/xnl.h"
#include "udp.h"

#define NC_RUNS 4		/* netchecks under way at once */
#define VERIFY_RUNS 8		/* ESP checks under way at once (mesh_espcheck.c): runs[NC_RUNS..] */
#define NC_DEFAULT_S 3

struct nc_run {
	bool used;
	struct mesh *m;
	struct ctl_deferred *d;	/* NULL: an ESP check, its end goes to mesh_espcheck_done */
	struct event *ev;
	int f;			/* 0 IPv4, 1 IPv6 */
	struct ms_addr to;
	char mtu_error[128];	/* why the kernel gave no MTU figure */
	struct ms_probe_run r;
};

struct mesh_netcheck {
	struct ms_probe_node *node;
	int fd[2];
	uint16_t port[2];
	struct event *ev[2];
	struct nc_run runs[NC_RUNS + VERIFY_RUNS];
	uint64_t spoofed, malformed;
	uint8_t buf[MS_PROBE_WIRE_MAX + 1];
};

static const int fam[2] = { AF_INET, AF_INET6 };

static int esp_socket(int f, uint16_t *port)
{
	int fd = socket(fam[f], SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), probe, rc;
	struct ms_error err;
	struct sockaddr_storage ss;
	socklen_t sl = f ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);

	if (fd < 0)
		return -errno;
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)fam[f];
	if (f) {
		int one = 1;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		probe = IPV6_PMTUDISC_PROBE;
		setsockopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &probe, sizeof(probe));
	} else {
		probe = IP_PMTUDISC_PROBE;
		setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &probe, sizeof(probe));
	}
	if ((rc = xnl_socket_esp(fd, fam[f], false, 0, &err)) < 0) {
		close(fd);
		return rc;
	}
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	*port = ntohs(f ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

/* IP_MTU of a socket connected to the peer (connecting sends nothing); reqid 0: with the
 * per-socket IPsec bypass, so the route's own MTU, without ESP; else forced through the pair's
 * ESP SA, as the ESP channel is.  0 and *err when there is none. */
static unsigned connected_mtu(int f, const struct ms_addr *to, uint16_t port, uint32_t reqid, int *err)
{
	int fd = socket(fam[f], SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu = 0, rc;
	struct sockaddr_storage ss;
	struct ms_error e;
	socklen_t sl, ml = sizeof(mtu);

	*err = 0;
	if (fd < 0) {
		*err = errno;
		return 0;
	}
	memset(&ss, 0, sizeof(ss));
	if (f) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6, s6->sin6_port = htons(port), s6->sin6_addr = to->u.v6, sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET, s4->sin_port = htons(port), s4->sin_addr = to->u.v4, sl = sizeof(*s4);
	}
	if ((rc = reqid ? xnl_socket_esp(fd, fam[f], true, reqid, &e) : xnl_socket_bypass(fd, fam[f], &e)) < 0) {
		*err = -rc;
		mtu = 0;
	} else if (connect(fd, (struct sockaddr *)&ss, sl) < 0 ||
		   getsockopt(fd, f ? IPPROTO_IPV6 : IPPROTO_IP, f ? IPV6_MTU : IP_MTU, &mtu, &ml) < 0) {
		*err = errno;
		mtu = 0;
	}
	close(fd);
	return mtu > 0 ? (unsigned)mtu : 0;
}

/*
 * The kernel's path MTU to the peer after ESP: IP_MTU of a non-bypass socket connected to it.
 * 0 and why in err when there is none (no route), or when it is above the route's own MTU:
 * without an SA the kernel routes the peer to a blackhole (xfrm_larval_drop), whose MTU is 65536.
 */
static unsigned kernel_mtu(int f, const struct ms_addr *to, uint16_t port, uint32_t reqid, char *err, size_t cap)
{
	int e;
	unsigned esp = connected_mtu(f, to, port, reqid, &e), route;

	err[0] = '\0';
	if (!esp) {
		snprintf(err, cap, "%s", strerror(e));
		return 0;
	}
	route = connected_mtu(f, to, port, 0, &e);
	if (route && esp > route) {
		snprintf(err, cap, "the kernel's figure (%u) is above the route's MTU (%u): no SA", esp, route);
		return 0;
	}
	return esp;
}

/*
 * Whether the pair has a current outbound SA for family f, by the core's account; if not, why
 * (the peer's reason, as status gives it).
 */
static bool pair_has_sa(struct mesh *m, int id, int f, char *why, size_t cap)
{
	const struct core_peer *p = core_peer(m->core, id);
	struct hs_peer_info info;
	struct core_why w;

	core_peer_info(m->core, id, &info);
	if (p->state == PEER_UP && info.out_spi[f])
		return true;
	core_peer_why(m->core, id, mesh_now_ms(), &w);
	if (w.message[0])
		snprintf(why, cap, "%s", w.message);
	else
		snprintf(why, cap, "the pair has no %s SA", f ? "IPv6" : "IPv4");
	return false;
}

static json_t *dirs_json(const struct ms_probe_result *res)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "clear_out", ms_probe_dir_name(res->clear_out), "clear_in",
			 ms_probe_dir_name(res->clear_in), "esp_out", ms_probe_dir_name(res->esp_out), "esp_in",
			 ms_probe_dir_name(res->esp_in));
}

static json_t *rtt_json(bool got, uint64_t us)
{
	return got ? json_real((double)us / 1000.0) : json_null();
}

static json_t *uint_or_null(unsigned v)
{
	return v ? json_integer((json_int_t)v) : json_null();
}

/* What this agent did with the probes the peer sent it: the other side of the same question. */
static json_t *counts_json(const struct mesh_netcheck *nc, int id, const char *name)
{
	const uint64_t *c = ms_probe_counts(nc->node, id, name);
	json_t *o = json_object();

	for (int v = 0; v < MS_PROBE_VERDICT_COUNT; v++)
		if (v != MS_PROBE_REPLY_OK && v != MS_PROBE_UNEXPECTED)
			json_object_set_new(o, ms_probe_verdict_name((enum ms_probe_verdict)v), json_integer((json_int_t)c[v]));
	return o;
}

static void run_free(struct nc_run *run)
{
	if (run->ev)
		event_free(run->ev);
	memset(run, 0, sizeof(*run));
}

/*
 * Frees the run, then answers it: the answer serves the client's next pipelined request at
 * once, and that one may need this slot (resp must not point into the run).  An ESP check cut
 * short (res NULL) or ended is told to mesh_espcheck.c instead.
 */
static void run_end(struct nc_run *run, enum ms_ctl_result rc, json_t *resp, const struct ms_probe_result *res)
{
	struct ctl_deferred *d = run->d;
	struct mesh *m = run->m;
	char name[MS_NAME_MAX + 1];
	int id = run->r.peer;

	memcpy(name, run->r.name, sizeof(name));
	run_free(run);
	if (d)
		ctl_deferred_reply(d, rc, resp);
	else if (!m->stopping && m->netcheck)
		mesh_espcheck_done(m, id, name, res);
	else
		json_decref(resp);
}

/* The pair's reqid: the ESP channel's outbound policy names the pair's SAs by it. */
static uint32_t pair_reqid(struct mesh *m, int id)
{
	return core_peer(m->core, id)->reqid;
}

/* One datagram on the ESP channel, forced through the pair's SA (or dropped by our kernel). */
static ssize_t esp_send(struct mesh *m, int f, uint32_t reqid, const struct ms_addr *to, uint16_t port,
			const uint8_t *buf, size_t len)
{
	struct ms_error err;
	int rc;

	if ((rc = xnl_socket_esp(m->netcheck->fd[f], fam[f], true, reqid, &err)) < 0) {
		errno = -rc;
		return -1;
	}
	return udp_send(m->netcheck->fd[f], to, port, buf, len);
}

static void finish(struct mesh *m, struct nc_run *run)
{
	const char *self = m->conf.inv->nodes[m->conf.self].name;
	struct ms_probe_result res;
	char text[2048], addr[MS_ADDR_STRLEN], why[256];
	json_t *resp, *problems;
	unsigned n;

	if (!pair_has_sa(m, run->r.peer, run->f, why, sizeof(why)))
		ms_probe_run_no_sa(&run->r, why);
	ms_probe_run_result(&run->r, &res);
	if (!run->d) {	/* an ESP check: no one to answer */
		run_end(run, MS_CTL_OK, NULL, &res);
		return;
	}
	problems = json_array();
	n = ms_probe_findings(&res, self, run->r.name, m->conf.inv->port, text, sizeof(text));
	for (char *line = text, *nl; *line; line = nl + 1) {
		if (!(nl = strchr(line, '\n')))
			break;
		*nl = '\0';
		json_array_append_new(problems, json_string(line));
	}
	resp = json_pack("{s:s,s:s,s:s,s:i,s:o,s:{s:o,s:o},s:{s:o,s:o,s:o},s:i,s:i,s:o,s:o}", "self", self, "peer",
			 run->r.name, "address", ms_addr_format(&run->to, addr, sizeof(addr)), "port", (int)m->conf.inv->port,
			 "directions", dirs_json(&res), "rtt_ms", "clear", rtt_json(res.clear_in == MS_DIR_OK, res.rtt_clear_us),
			 "esp", rtt_json(res.esp_in == MS_DIR_OK, res.rtt_esp_us), "mtu", "kernel", uint_or_null(res.kernel_mtu),
			 "arrived", uint_or_null(res.mtu_arrived), "lost", uint_or_null(res.mtu_lost), "probes_sent",
			 (int)res.probes_sent, "replies", (int)res.replies, "problems", problems, "peer_probes",
			 counts_json(m->netcheck, run->r.peer, run->r.name));
	if (resp && res.no_sa)
		json_object_set_new(resp, "mtu_error", json_string("no SA to the peer"));
	else if (resp && run->mtu_error[0])
		json_object_set_new(resp, "mtu_error", json_string(run->mtu_error));
	if (n)
		log_info("netcheck to %s: %u problem%s: %s", run->r.name, n, n == 1 ? "" : "s", json_string_value(json_array_get(problems, 0)));
	else
		log_info("netcheck to %s: udp/%u and ESP reachable both ways", run->r.name, m->conf.inv->port);
	run_end(run, resp ? MS_CTL_OK : MS_CTL_E_FAILED, resp ? resp : json_pack("{s:s}", "message", "out of memory"), NULL);
}

/* An ESP check needs no more than an ESP probe seen by the peer and its answer back as ESP. */
static bool esp_passed(const struct ms_probe_run *r)
{
	struct ms_probe_result res;

	ms_probe_run_result(r, &res);
	return res.esp_out == MS_DIR_OK && res.esp_in == MS_DIR_OK;
}

/* Sends what is due, then sleeps until the next round or the end. */
static void step(struct mesh *m, struct nc_run *run)
{
	struct mesh_netcheck *nc = m->netcheck;
	uint64_t now = mesh_now_ms(), next;
	struct timeval tv;
	enum ms_probe_channel ch;
	uint16_t seq;
	size_t len;

	while ((len = ms_probe_run_next(&run->r, nc->node, now, nc->buf, &ch, &seq)) > 0) {
		ssize_t rc = ch == MS_PROBE_ESP ? esp_send(m, run->f, pair_reqid(m, run->r.peer), &run->to, m->conf.inv->port, nc->buf, len)
						: udp_send(m->fd[run->f], &run->to, m->conf.inv->port, nc->buf, len);

		ms_probe_run_sent(&run->r, seq, rc < 0 ? -errno : 0);
	}
	if (ms_probe_run_done(&run->r, now) || (!run->d && esp_passed(&run->r))) {
		finish(m, run);
		return;
	}
	next = ms_probe_run_deadline(&run->r);
	next = next > now ? next - now : 1;
	tv.tv_sec = (time_t)(next / 1000);
	tv.tv_usec = (suseconds_t)(next % 1000) * 1000;
	evtimer_add(run->ev, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct nc_run *run = arg;

	(void)fd, (void)what;
	step(run->m, run);
}

enum ms_ctl_result mesh_netcheck_request(void *ctx, const struct ms_ctl_req *req, struct ctl_deferred *d, json_t *resp)
{
	struct mesh *m = ctx;
	struct mesh_netcheck *nc = m->netcheck;
	const struct ms_node *me = &m->conf.inv->nodes[m->conf.self];
	const struct core_peer *p;
	struct nc_run *run = NULL;
	unsigned mtu;
	int id = core_peer_find(m->core, req->peer), f;
	char why[256];
	struct timeval now = { 0, 0 };
	uint64_t run_id;

	if (id < 0) {
		json_object_set_new(resp, "message", json_string("no such peer; `meshsec peers` lists them"));
		return MS_CTL_E_NOT_FOUND;
	}
	p = core_peer(m->core, id);
	f = me->v4.family && p->v4.family ? 0 : 1;	/* the handshake's family (PROTOCOL.md, "Transport") */
	if (!nc || nc->fd[f] < 0) {
		json_object_set_new(resp, "message", json_string("netcheck is unavailable: the agent could not open its ESP probe "
								  "socket at start (see its log)"));
		return MS_CTL_E_FAILED;
	}
	for (int i = 0; i < NC_RUNS && !run; i++)	/* the ESP checks' slots are theirs */
		if (!nc->runs[i].used)
			run = &nc->runs[i];
	if (!run) {
		json_object_set_new(resp, "message", json_string("4 netchecks are under way already; retry in a few seconds"));
		return MS_CTL_E_FAILED;
	}
	memset(run, 0, sizeof(*run));
	run->m = m, run->d = d, run->f = f;
	run->to = f ? p->v6 : p->v4;
	if (!(run->ev = evtimer_new(m->base, on_timer, run))) {
		json_object_set_new(resp, "message", json_string("out of memory"));
		return MS_CTL_E_FAILED;
	}
	run->used = true;
	mtu = kernel_mtu(f, &run->to, m->conf.inv->port, p->reqid, run->mtu_error, sizeof(run->mtu_error));
	randombytes_buf(&run_id, sizeof(run_id));
	ms_probe_run_init(&run->r, id, p->name, run_id | 1, fam[f], nc->port[f], mtu, mesh_now_ms(),
			  (uint64_t)(req->timeout_s ? req->timeout_s : NC_DEFAULT_S) * 1000);
	if (!pair_has_sa(m, id, f, why, sizeof(why)))
		ms_probe_run_no_sa(&run->r, why);
	log_info("netcheck to %s requested over the control socket", p->name);
	evtimer_add(run->ev, &now);	/* at once, but after we return: the answer must not come before */
	return MS_CTL_OK;
}

int mesh_netcheck_verify(struct mesh *m, int id)
{
	struct mesh_netcheck *nc = m->netcheck;
	const struct ms_node *me = &m->conf.inv->nodes[m->conf.self];
	const struct core_peer *p = core_peer(m->core, id);
	struct nc_run *run = NULL;
	struct timeval now = { 0, 0 };
	uint64_t run_id;
	int f = me->v4.family && p->v4.family ? 0 : 1;	/* the handshake's family */

	if (!nc || nc->fd[f] < 0)
		return -ENOTSUP;
	for (int i = NC_RUNS; i < NC_RUNS + VERIFY_RUNS && !run; i++)
		if (!nc->runs[i].used)
			run = &nc->runs[i];
	if (!run)
		return -EBUSY;
	memset(run, 0, sizeof(*run));
	run->m = m, run->f = f;
	run->to = f ? p->v6 : p->v4;
	if (!(run->ev = evtimer_new(m->base, on_timer, run)))
		return -ENOMEM;
	run->used = true;
	randombytes_buf(&run_id, sizeof(run_id));
	ms_probe_run_init(&run->r, id, p->name, run_id | 1, fam[f], nc->port[f], 0, mesh_now_ms(), MS_ESPCHECK_RUN_MS);
	log_debug("peer %s: checking that ESP passes both ways", p->name);
	evtimer_add(run->ev, &now);
	return 0;
}

void mesh_netcheck_reloaded(struct mesh *m)
{
	struct mesh_netcheck *nc = m->netcheck;

	if (!nc)
		return;
	for (int i = 0; i < NC_RUNS + VERIFY_RUNS; i++) {
		struct nc_run *run = &nc->runs[i];
		const struct core_peer *p;
		char msg[2 * MS_NAME_MAX + 128];

		if (!run->used)
			continue;
		p = run->r.peer >= 0 && (size_t)run->r.peer < core_peer_slots(m->core) ? core_peer(m->core, run->r.peer) : NULL;
		if (!p || !p->used || strcmp(p->name, run->r.name) != 0)
			snprintf(msg, sizeof(msg), "%s was removed by a reload", run->r.name);
		else if (!ms_addr_equal(&run->to, run->f ? &p->v6 : &p->v4))
			snprintf(msg, sizeof(msg), "%s's address was changed by a reload: run netcheck again", run->r.name);
		else
			continue;
		log_info("%s to %s ended: %s", run->d ? "netcheck" : "ESP check", run->r.name, msg);
		run_end(run, MS_CTL_E_FAILED, run->d ? json_pack("{s:s}", "message", msg) : NULL, NULL);
	}
}

static void send_replies(struct mesh *m, int f, uint32_t reqid, const struct ms_addr *to, const struct ms_probe_out *out)
{
	for (size_t i = 0; i < out->n; i++) {
		const struct ms_probe_dgram *d = &out->d[i];
		bool esp = d->channel == MS_PROBE_ESP;
		uint16_t port = d->port ? d->port : m->conf.inv->port;

		/* to the inventory address (checked equal to the source): the port is the MAC'd one */
		if ((esp ? m->netcheck->fd[f] : m->fd[f]) >= 0 &&
		    (esp ? esp_send(m, f, reqid, to, port, d->buf, d->len) : udp_send(m->fd[f], to, port, d->buf, d->len)) < 0)
			log_debug("netcheck: reply to %s not sent: %s", ms_probe_verdict_name(MS_PROBE_ANSWERED), strerror(errno));
	}
}

void mesh_netcheck_input(struct mesh *m, enum ms_probe_channel ch, const struct ms_addr *from, const uint8_t *buf, size_t len)
{
	struct mesh_netcheck *nc = m->netcheck;
	const struct core_peer *p;
	struct ms_probe_out out;
	struct ms_msg h;
	uint64_t now = mesh_now_ms();
	char a[MS_ADDR_STRLEN];
	int id;

	if (!nc)
		return;
	/* the handshake's receive filter, cheapest first: framing, names, source, then one MAC */
	if (ms_wire_peek_probe(buf, len, &h) != MS_WIRE_OK || strcmp(h.receiver, m->conf.inv->nodes[m->conf.self].name) != 0 ||
	    (id = core_peer_find(m->core, h.sender)) < 0) {
		nc->malformed++;
		return;
	}
	p = core_peer(m->core, id);
	if (!ms_addr_equal(from, &p->v4) && !ms_addr_equal(from, &p->v6)) {
		nc->spoofed++;
		log_debug("netcheck: a probe claiming to be from %s came from %s: dropped", h.sender, ms_addr_format(from, a, sizeof(a)));
		return;
	}
	if (h.type == MS_MSG_PROBE) {
		enum ms_probe_verdict v;

		if (ch != MS_PROBE_CLEAR)
			return;	/* probes come to the mesh port */
		v = ms_probe_answer(nc->node, id, h.sender, buf, len, now, &out);
		if (v != MS_PROBE_ANSWERED && v != MS_PROBE_RECORDED)
			log_debug("netcheck: probe from %s: %s", h.sender, ms_probe_verdict_name(v));
		send_replies(m, from->family == AF_INET ? 0 : 1, p->reqid, from, &out);
		return;
	}
	{
		char sender[MS_NAME_MAX + 1];
		uint64_t run_id = ms_probe_reply_run(buf, len, sender);

		for (int i = 0; i < NC_RUNS + VERIFY_RUNS; i++) {
			struct nc_run *run = &nc->runs[i];

			if (run->used && run->r.id == run_id && run->r.peer == id) {
				enum ms_probe_verdict v = ms_probe_run_input(&run->r, nc->node, ch, buf, len, now);

				if (v != MS_PROBE_REPLY_OK)
					log_debug("netcheck: reply from %s: %s", sender, ms_probe_verdict_name(v));
				else if (ms_probe_run_done(&run->r, now) || (!run->d && esp_passed(&run->r)))
					finish(m, run);
				return;
			}
		}
	}
}

static void on_esp(evutil_socket_t fd, short what, void *arg)
{
	struct mesh *m = arg;
	struct ms_addr from;
	ssize_t n;

	(void)what;
	for (int i = 0; i < 64 && !m->stopping && (n = udp_recv(fd, m->netcheck->buf, sizeof(m->netcheck->buf), &from)) >= 0; i++)
		mesh_netcheck_input(m, MS_PROBE_ESP, &from, m->netcheck->buf, (size_t)n);
}

void mesh_netcheck_open(struct mesh *m)
{
	const struct ms_node *me = &m->conf.inv->nodes[m->conf.self];
	struct mesh_netcheck *nc = calloc(1, sizeof(*nc));

	if (!nc || !(nc->node = ms_probe_node_new(m->conf.inv->mesh_name, me->name, m->conf.secret->key))) {
		free(nc);
		log_warnx("netcheck unavailable: out of memory");
		return;
	}
	for (int f = 0; f < 2; f++) {
		nc->fd[f] = -1;
		if (m->fd[f] < 0)
			continue;
		if ((nc->fd[f] = esp_socket(f, &nc->port[f])) < 0) {
			log_warnx("netcheck: cannot open the %s ESP probe socket: %s; netcheck is unavailable for that family",
				  f ? "IPv6" : "IPv4", strerror(-nc->fd[f]));
			nc->fd[f] = -1;
			continue;
		}
		nc->ev[f] = event_new(m->base, nc->fd[f], EV_READ | EV_PERSIST, on_esp, m);
		event_add(nc->ev[f], NULL);
	}
	m->netcheck = nc;
}

void mesh_netcheck_close(struct mesh *m)
{
	struct mesh_netcheck *nc = m->netcheck;

	if (!nc)
		return;
	m->netcheck = NULL;	/* a request served by an answer below finds netcheck gone */
	for (int i = 0; i < NC_RUNS + VERIFY_RUNS; i++)
		if (nc->runs[i].used)
			run_end(&nc->runs[i], MS_CTL_E_FAILED, nc->runs[i].d ? json_pack("{s:s}", "message", "the agent is stopping") : NULL,
				NULL);
	for (int f = 0; f < 2; f++) {
		if (nc->ev[f])
			event_free(nc->ev[f]);
		if (nc->fd[f] >= 0)
			close(nc->fd[f]);
	}
	ms_probe_node_free(nc->node);
	free(nc);
	m->netcheck = NULL;
}
