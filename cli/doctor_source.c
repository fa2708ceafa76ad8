/*
 * doctor: which local addresses the kernel may use as the source of traffic to members
 * (meshsec/srcaddr.h says how it picks one).  The mesh's policies cover every source, its SAs
 * only this node's inventory address: member traffic from any other address is dropped.  Lists
 * this host's other global addresses of the mesh's families by what the kernel does with them,
 * and asks the kernel which source it picks for each member, as `ip route get` does.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "doctor.h"
#include "meshsec/localaddr.h"

/* Addresses (or members) named in one finding; the rest are counted. */
#define SHOW 3
/* Distinct wrong sources reported one by one. */
#define MAX_GROUPS 8

static void append(char *buf, size_t len, size_t *count, const char *item)
{
	size_t used = strlen(buf);

	if ((*count)++ < SHOW)
		snprintf(buf + used, len - used, "%s%s", used ? ", " : "", item);
}

static void and_more(char *buf, size_t len, size_t count)
{
	size_t used = strlen(buf);

	if (count > SHOW)
		snprintf(buf + used, len - used, " and %zu more", count - SHOW);
}

static void read_use_tempaddr(struct ms_host_addr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char path[96];
		FILE *f;

		if (a[i].addr.family != AF_INET6)
			continue;
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/use_tempaddr", a[i].ifname);
		if ((f = fopen(path, "r"))) {
			if (fscanf(f, "%d", &a[i].use_tempaddr) != 1)
				a[i].use_tempaddr = -1;
			fclose(f);
		}
	}
}

/* "10.0.0.100/24 on eth0 (secondary)" */
static const char *describe(const struct ms_host_addr *a, char *buf, size_t len)
{
	char s[MS_ADDR_STRLEN];
	unsigned f = a->flags;

	snprintf(buf, len, "%s/%u on %s%s%s%s", ms_addr_format(&a->addr, s, sizeof(s)), a->prefixlen, a->ifname,
		 f & MS_HOST_SECONDARY ? " (secondary)" : "", f & MS_HOST_TEMPORARY ? " (temporary)" : "",
		 f & MS_HOST_DEPRECATED ? " (deprecated)" : "");
	return buf;
}

/* "10.0.0.1" or "10.0.0.1 / fd00::1": this node's addresses, for the fixes. */
static const char *members(const struct ms_node *self, char *buf, size_t len)
{
	char a[MS_ADDR_STRLEN], b[MS_ADDR_STRLEN];

	snprintf(buf, len, "%s%s%s", self->v4.family ? ms_addr_format(&self->v4, a, sizeof(a)) : "",
		 self->v4.family && self->v6.family ? " / " : "", self->v6.family ? ms_addr_format(&self->v6, b, sizeof(b)) : "");
	return buf;
}

static void by_kind(struct doctor *d, const struct ms_node *self, const struct ms_host_addr *a, size_t n)
{
	char list[MS_SRC_KINDS][320] = { "" }, item[MS_ADDR_STRLEN + 48], mine[2 * MS_ADDR_STRLEN + 4], tmp_if[16] = "";
	size_t count[MS_SRC_KINDS] = { 0 };
	const struct ms_host_addr *armed = ms_src_tempaddr_armed(self, a, n);

	for (size_t i = 0; i < n; i++) {
		enum ms_src_kind k = ms_src_classify(self, &a[i]);

		if (k == MS_SRC_NONE)
			continue;
		if (k == MS_SRC_TEMPORARY)
			snprintf(tmp_if, sizeof(tmp_if), "%s", count[k] && strcmp(tmp_if, a[i].ifname) ? "IFACE" : a[i].ifname);
		append(list[k], sizeof(list[k]), &count[k], describe(&a[i], item, sizeof(item)));
	}
	for (size_t k = 0; k < MS_SRC_KINDS; k++)
		and_more(list[k], sizeof(list[k]), count[k]);
	members(self, mine, sizeof(mine));
	if (count[MS_SRC_TEMPORARY]) {
		char fix[256];

		snprintf(fix, sizeof(fix), "sysctl -w net.ipv6.conf.%s.use_tempaddr=0 (the kernel then prefers %s at once) and keep it "
			 "in /etc/sysctl.d/ (NetworkManager: ipv6.ip6-privacy 0)", tmp_if, ms_addr_format(&self->v6, item, sizeof(item)));
		doctor_add(d, "source", DOC_WARN, fix, "IPv6 temporary addresses the kernel prefers as the source (use_tempaddr=2): %s; "
			   "their traffic to members is dropped, not sent in clear", list[MS_SRC_TEMPORARY]);
	}
	if (armed) {
		char fix[160];

		snprintf(fix, sizeof(fix), "sysctl -w net.ipv6.conf.%s.use_tempaddr=0 and keep it in /etc/sysctl.d/", armed->ifname);
		doctor_add(d, "source", DOC_WARN, fix, "net.ipv6.conf.%s.use_tempaddr is %d: a temporary address made from a router "
			   "advertisement would be preferred as the source, and its traffic to members dropped", armed->ifname, armed->use_tempaddr);
	}
	if (count[MS_SRC_MAY_PICK]) {
		char fix[384];

		snprintf(fix, sizeof(fix), "make the routes to members name this node's address (ip route change ROUTE src %s), or delete the "
			 "address; for IPv6, ip addr change ADDR dev IFACE preferred_lft 0 also works (IPv4 ignores preferred_lft)", mine);
		doctor_add(d, "source", DOC_WARN, fix, "addresses the kernel may pick as the source of traffic to members (it takes a route's src, "
			   "else for IPv4 the outgoing interface's first primary address, for IPv6 the RFC 6724 choice): %s; that traffic is dropped, "
			   "not sent in clear", list[MS_SRC_MAY_PICK]);
	}
	if (count[MS_SRC_BOUND_ONLY]) {
		char fix[160];

		snprintf(fix, sizeof(fix), "programs that talk to members must use %s; nothing to do otherwise", mine);
		doctor_add(d, "source", DOC_WARN, fix, "addresses the kernel does not pick as a source on its own (IPv4 skips secondary "
			   "addresses; IPv6 deprecated ones, and temporary ones unless use_tempaddr=2): %s; traffic to members from programs bound to them, "
			   "or from routes naming them as src, is dropped, not sent in clear", list[MS_SRC_BOUND_ONLY]);
	}
	if (!count[MS_SRC_TEMPORARY] && !count[MS_SRC_MAY_PICK] && !count[MS_SRC_BOUND_ONLY])
		doctor_add(d, "source", DOC_OK, "", "no global address of the mesh's families on this host but %s", mine);
}

struct group {
	struct ms_addr src;
	size_t count;
	char examples[256];
};

/* Adds a member reached from a wrong source to its source's group (sources past MAX_GROUPS go unsaid). */
static void group_add(struct group *g, size_t *n_g, const struct ms_addr *src, const char *example)
{
	size_t i;

	for (i = 0; i < *n_g && !ms_addr_equal(&g[i].src, src); i++)
		;
	if (i == *n_g) {
		if (*n_g == MAX_GROUPS)
			return;
		memset(&g[i], 0, sizeof(g[i]));
		g[i].src = *src;
		(*n_g)++;
	}
	append(g[i].examples, sizeof(g[i].examples), &g[i].count, example);
}

/* The kernel's own answer, member by member: the source a socket that binds none gets. */
static void probe(struct doctor *d, const struct ms_inventory *inv, size_t self)
{
	const struct ms_node *me = &inv->nodes[self];
	struct ms_addr *dst = calloc(2 * inv->n_nodes + 1, sizeof(*dst)), *src = calloc(2 * inv->n_nodes + 1, sizeof(*src));
	size_t *who = calloc(2 * inv->n_nodes + 1, sizeof(*who)), n = 0, n_g = 0, routed = 0;
	struct group g[MAX_GROUPS];
	char a[MS_ADDR_STRLEN], b[MS_ADDR_STRLEN], ex[MS_NAME_MAX + MS_ADDR_STRLEN + 2];

	for (size_t i = 0; dst && src && who && i < inv->n_nodes; i++)
		for (int fam = 0; fam < 2 && i != self; fam++) {
			const struct ms_addr *mine = fam ? &me->v6 : &me->v4, *peer = fam ? &inv->nodes[i].v6 : &inv->nodes[i].v4;

			if (mine->family && peer->family)
				dst[n] = *peer, who[n++] = i;
		}
	if (n && localaddr_sources(dst, n, src) == 0) {
		for (size_t i = 0; i < n; i++) {
			if (!src[i].family)
				continue;	/* no route: not a question of source */
			routed++;
			if (ms_addr_equal(&src[i], ms_node_addr(me, src[i].family)))
				continue;
			snprintf(ex, sizeof(ex), "%s %s", inv->nodes[who[i]].name, ms_addr_format(&dst[i], a, sizeof(a)));
			group_add(g, &n_g, &src[i], ex);
		}
		for (size_t i = 0; i < n_g; i++) {
			char fix[256];

			ms_addr_format(ms_node_addr(me, g[i].src.family), b, sizeof(b));
			snprintf(fix, sizeof(fix), "ip route get MEMBER shows the route; make it name this node's address (ip route change ROUTE src %s), "
				 "or remove %s (see the other source findings)", b, ms_addr_format(&g[i].src, a, sizeof(a)));
			and_more(g[i].examples, sizeof(g[i].examples), g[i].count);
			doctor_add(d, "source", DOC_ERROR, fix, "the kernel picks %s, not this node's %s, as the source of traffic to %zu member address%s "
				   "(%s): that traffic is dropped, not sent in clear", a, b, g[i].count, g[i].count == 1 ? "" : "es", g[i].examples);
		}
		if (!n_g && routed)
			doctor_add(d, "source", DOC_OK, "", "the kernel picks this node's address as the source for the %zu member address%s it has a route to",
				   routed, routed == 1 ? "" : "es");
	}
	free(dst);
	free(src);
	free(who);
}

void doctor_source(struct doctor *d)
{
	struct ms_host_addr *a;
	size_t n;

	if (!d->conf.inv)
		return;
	if (localaddr_dump(&a, &n) < 0) {
		doctor_add(d, "source", DOC_WARN, "", "cannot list this host's addresses");
		return;
	}
	read_use_tempaddr(a, n);
	by_kind(d, &d->conf.inv->nodes[d->conf.self], a, n);
	free(a);
	probe(d, d->conf.inv, d->conf.self);
}
