/*
 * Planner: which SPs a node must have.  Pure: the same model gives the same plan on every
 * run and on every node (the two ends of a pair plan mirror images of each other).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "meshsec/exclude.h"
#include "meshsec/plan.h"

uint32_t ms_pair_reqid(const char *a, const char *b)
{
	const char *lo = strcmp(a, b) < 0 ? a : b, *hi = lo == a ? b : a;
	uint32_t h = 2166136261u;	/* FNV-1a over "lo\0hi": stable, not secret */

	for (const char *p = lo; ; p++) {
		h = (h ^ (unsigned char)*p) * 16777619u;
		if (!*p)
			break;
	}
	for (const char *p = hi; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return MS_REQID_MIN + h % (MS_REQID_MAX - MS_REQID_MIN + 1);
}

static const int families[] = { AF_INET, AF_INET6 };

size_t ms_plan_unreachable(const struct ms_inventory *inv, size_t self)
{
	const struct ms_node *me = &inv->nodes[self];
	size_t n = 0;

	for (size_t p = 0; p < inv->n_nodes; p++) {
		bool shared = false;

		if (p == self)
			continue;
		for (size_t f = 0; f < 2; f++)
			shared |= ms_node_addr(me, families[f]) && ms_node_addr(&inv->nodes[p], families[f]);
		n += !shared;
	}
	return n;
}

bool ms_plan_set_up(const struct ms_inventory *inv, size_t self, struct ms_sp *sp, bool up)
{
	enum ms_sp_shape shape = MS_SP_REQUIRED;
	uint32_t reqid;

	if (!ms_sp_is_pair(sp))
		return false;
	reqid = ms_pair_reqid(inv->nodes[self].name, inv->nodes[sp->peer].name);
	if (ms_pair_mode(inv, self, sp->peer) == MS_MODE_PREFER)
		shape = sp->dir == MS_DIR_IN || up ? MS_SP_OPTIONAL : MS_SP_CLEAR;
	if (shape == MS_SP_CLEAR)
		reqid = 0;
	if (sp->shape == shape && sp->reqid == reqid)
		return false;
	sp->shape = shape;
	sp->reqid = reqid;
	return true;
}

static struct ms_sp host_side(enum ms_dir dir, const struct ms_addr *peer, uint32_t reqid, size_t p)
{
	struct ms_sp sp = { .dir = dir, .reqid = reqid, .priority = MS_SP_PRIORITY, .peer = p, .shape = MS_SP_REQUIRED };
	uint8_t len = (uint8_t)(ms_addr_len(peer) * 8);

	sp.src.family = sp.dst.family = peer->family;
	if (dir == MS_DIR_OUT)
		sp.dst = *peer, sp.dst_len = len;
	else
		sp.src = *peer, sp.src_len = len;
	return sp;
}

/* A node-wide inbound bypass of one destination prefix (multicast, broadcast). */
static struct ms_sp bypass_in(int family, const char *prefix, uint8_t len, size_t self)
{
	struct ms_sp sp = { .dir = MS_DIR_IN, .dst_len = len, .reqid = MS_REQID_NODE,
			    .priority = MS_SP_PRIORITY_NODE, .peer = self, .shape = MS_SP_OPTIONAL };

	sp.src.family = sp.dst.family = family;
	inet_pton(family, prefix, sp.dst.u.raw);
	return sp;
}

int ms_plan_policies(const struct ms_inventory *inv, size_t self,
		     struct ms_sp **out, size_t *n_out, struct ms_error *err)
{
	const struct ms_node *me = &inv->nodes[self];
	struct ms_sp *sps = calloc(inv->n_nodes * 4 + 8 + ms_plan_exclude(inv, self, NULL), sizeof(*sps));
	size_t n = 0;
	bool used[2] = { false, false };

	if (!sps)
		return ms_error_set(err, ENOMEM, "out of memory planning %zu policies", inv->n_nodes * 4);
	for (size_t p = 0; p < inv->n_nodes; p++) {
		const struct ms_node *peer = &inv->nodes[p];
		uint32_t reqid;

		if (p == self)
			continue;
		reqid = ms_pair_reqid(me->name, peer->name);
		for (size_t f = 0; f < 2; f++) {
			const struct ms_addr *theirs = ms_node_addr(peer, families[f]);

			if (!ms_node_addr(me, families[f]) || !theirs)
				continue;
			sps[n] = host_side(MS_DIR_OUT, theirs, reqid, p);
			ms_plan_set_up(inv, self, &sps[n++], false);
			sps[n] = host_side(MS_DIR_IN, theirs, reqid, p);
			ms_plan_set_up(inv, self, &sps[n++], false);
			used[f] = true;
		}
	}
	if (used[0]) {
		sps[n++] = bypass_in(AF_INET, "224.0.0.0", 4, self);
		sps[n++] = bypass_in(AF_INET, "255.255.255.255", 32, self);
	}
	if (used[1]) {
		sps[n++] = bypass_in(AF_INET6, "ff00::", 8, self);
		for (int d = 0; d < 4; d++) {
			struct ms_sp *sp = &sps[n++];

			*sp = (struct ms_sp){ .dir = d & 1 ? MS_DIR_OUT : MS_DIR_IN, .icmp6_type = d < 2 ? MS_ICMP6_NS : MS_ICMP6_NA,
					      .reqid = MS_REQID_NODE, .priority = MS_SP_PRIORITY_NODE, .peer = self,
					      .shape = MS_SP_OPTIONAL };
			sp->src.family = sp->dst.family = AF_INET6;
		}
	}
	n += ms_plan_exclude(inv, self, sps + n);
	*out = sps;
	*n_out = n;
	return 0;
}

int ms_sp_cmp(const void *a, const void *b)
{
	const struct ms_sp *x = a, *y = b;
	int c;

	if (x->dir != y->dir)
		return x->dir < y->dir ? -1 : 1;
	if (x->icmp6_type != y->icmp6_type)
		return x->icmp6_type < y->icmp6_type ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->sport != y->sport || x->sport_mask != y->sport_mask)
		return x->sport != y->sport ? (x->sport < y->sport ? -1 : 1) : (x->sport_mask < y->sport_mask ? -1 : 1);
	if (x->dport != y->dport || x->dport_mask != y->dport_mask)
		return x->dport != y->dport ? (x->dport < y->dport ? -1 : 1) : (x->dport_mask < y->dport_mask ? -1 : 1);
	if (x->src.family != y->src.family)
		return x->src.family < y->src.family ? -1 : 1;
	if (x->src_len != y->src_len)
		return x->src_len < y->src_len ? -1 : 1;
	if (x->dst_len != y->dst_len)
		return x->dst_len < y->dst_len ? -1 : 1;
	if ((c = memcmp(x->src.u.raw, y->src.u.raw, 16)) != 0)
		return c;
	return memcmp(x->dst.u.raw, y->dst.u.raw, 16);
}

static const char *side(const struct ms_addr *a, uint8_t len, char *buf, size_t n)
{
	char t[MS_ADDR_STRLEN];

	if (len == 0)
		return "any";
	if (len == ms_addr_len(a) * 8)
		return ms_addr_format(a, buf, n);
	snprintf(buf, n, "%s/%u", ms_addr_format(a, t, sizeof(t)), len);
	return buf;
}

const char *ms_sp_port_words(const struct ms_sp *sp, char *buf, size_t n)
{
	int k = 0;

	buf[0] = '\0';
	for (int i = 0; i < 2 && k >= 0 && (size_t)k < n; i++) {
		uint16_t port = i ? sp->dport : sp->sport, mask = i ? sp->dport_mask : sp->sport_mask;

		if (mask == 0xffff)
			k += snprintf(buf + k, n - (size_t)k, " %s %u", i ? "dport" : "sport", port);
		else if (mask)
			k += snprintf(buf + k, n - (size_t)k, " %s %u/0x%04x", i ? "dport" : "sport", port, mask);
	}
	return buf;
}

/* " tcp dport 8064/0xffe0": the protocol and port part of a selector, or "". */
static const char *ports(const struct ms_sp *sp, char *buf, size_t n)
{
	const char *name = sp->proto == 6 ? "tcp" : sp->proto == 17 ? "udp" : sp->proto == 132 ? "sctp" : NULL;
	char words[40];

	if (!sp->proto)
		buf[0] = '\0';
	else if (name)
		snprintf(buf, n, " %s%s", name, ms_sp_port_words(sp, words, sizeof(words)));
	else
		snprintf(buf, n, " proto %u%s", sp->proto, ms_sp_port_words(sp, words, sizeof(words)));
	return buf;
}

const char *ms_sp_format(const struct ms_sp *sp, char *buf, size_t len)
{
	static const char *const shape[] = { "", " (optional)", " (clear)", " (unknown)" };
	char s[MS_ADDR_STRLEN + 4], d[MS_ADDR_STRLEN + 4], pp[48];
	const char *dir = sp->dir == MS_DIR_OUT ? "out" : "in";

	if (sp->icmp6_type)
		snprintf(buf, len, "%s ICMPv6 type %u (neighbour discovery bypass)", dir, sp->icmp6_type);
	else
		snprintf(buf, len, "%s %s -> %s%s%s", dir, side(&sp->src, sp->src_len, s, sizeof(s)),
			 side(&sp->dst, sp->dst_len, d, sizeof(d)), ports(sp, pp, sizeof(pp)),
			 ms_sp_is_bypass(sp) ? " (bypass)" : shape[sp->shape]);
	return buf;
}
