/*
 * A node's simulated kernel behind core_ops: an SAD keyed by (dst, SPI) with the semantics the
 * agent meets in XFRM.  ALLOCSPI makes a larval state at once (it expires after 30 s, the
 * kernel's acq_expires, unless filled); adds and deletes queue until commit, as the agent's
 * netlink batch does; UPDSA fills a larval state, NEWSA refuses an existing (dst, SPI) (EEXIST);
 * deleting a missing SA is a no-op.  Refusals can be injected for a time window.  Every
 * successful add goes through check.c, which holds the safety invariants.  Foreign SAs (another
 * owner's) are not in dumps, carry no traffic, and a delete of one ends the run as a violation.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sim.h"

#define LARVAL_EXPIRE_MS 30000
#define SPI_MIN 0x100u

static uint64_t hash(const struct ms_addr *dst, uint32_t spi)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)dst->family;

	for (size_t i = 0; i < ms_addr_len(dst); i++)
		h = (h ^ dst->u.raw[i]) * 1099511628211ull;
	h = (h ^ spi) * 1099511628211ull;
	return h ^ (h >> 29);
}

static bool same_id(const struct ksa *s, const struct ms_addr *dst, uint32_t spi)
{
	return s->spi == spi && ms_addr_equal(&s->dst, dst);
}

/* Slot holding (dst, spi), or the empty slot where it would go. */
static size_t probe(const struct kernel *k, const struct ms_addr *dst, uint32_t spi)
{
	size_t mask = k->slots - 1, i = hash(dst, spi) & mask;

	while (k->slot[i] && !same_id(&k->sa[k->slot[i] - 1], dst, spi))
		i = (i + 1) & mask;
	return i;
}

static void rehash(struct kernel *k, size_t slots)
{
	free(k->slot);
	k->slots = slots;
	k->slot = calloc(slots, sizeof(*k->slot));
	if (!k->slot)
		abort();
	for (size_t i = 0; i < k->n; i++)
		k->slot[probe(k, &k->sa[i].dst, k->sa[i].spi)] = (int32_t)i + 1;
}

void kernel_init(struct kernel *k)
{
	memset(k, 0, sizeof(*k));
	rehash(k, 16);
}

void kernel_free(struct kernel *k)
{
	free(k->sa);
	free(k->slot);
	free(k->q);
	memset(k, 0, sizeof(*k));
}

void kernel_wipe(struct kernel *k)
{
	k->n = 0;
	k->nq = 0;
	memset(k->slot, 0, k->slots * sizeof(*k->slot));
}

const struct ksa *kernel_find(const struct kernel *k, const struct ms_addr *dst, uint32_t spi)
{
	int32_t s = k->slot[probe(k, dst, spi)];

	return s ? &k->sa[s - 1] : NULL;
}

static struct ksa *insert(struct kernel *k, const struct ksa *sa)
{
	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct ksa *p = realloc(k->sa, cap * sizeof(*p));

		if (!p)
			abort();
		k->sa = p;
		k->cap = cap;
	}
	if ((k->n + 1) * 2 > k->slots)
		rehash(k, k->slots * 2);
	k->sa[k->n] = *sa;
	k->slot[probe(k, &sa->dst, sa->spi)] = (int32_t)++k->n;
	return &k->sa[k->n - 1];
}

/* Linear probing without tombstones: later entries of the cluster move back (backward shift). */
static void erase(struct kernel *k, const struct ms_addr *dst, uint32_t spi)
{
	size_t mask = k->slots - 1, i = probe(k, dst, spi), j;
	int32_t idx = k->slot[i];

	if (!idx)
		return;
	k->slot[i] = 0;
	for (j = (i + 1) & mask; k->slot[j]; j = (j + 1) & mask) {
		const struct ksa *s = &k->sa[k->slot[j] - 1];
		size_t h = hash(&s->dst, s->spi) & mask;

		if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
			k->slot[i] = k->slot[j];
			k->slot[j] = 0;
			i = j;
		}
	}
	if ((size_t)idx != k->n) {	/* the last entry fills the hole */
		k->sa[idx - 1] = k->sa[k->n - 1];
		k->slot[probe(k, &k->sa[idx - 1].dst, k->sa[idx - 1].spi)] = idx;
	}
	k->n--;
}

static void logk(struct node *nd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logk(struct node *nd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	trace_vadd(nd->w->now, nd->name, fmt, ap);
	va_end(ap);
}

static bool own(const struct node *nd, const struct ms_addr *a)
{
	return (nd->v4.family && ms_addr_equal(a, &nd->v4)) || (nd->v6.family && ms_addr_equal(a, &nd->v6));
}

static int op_alloc_spi(void *ctx, const struct ms_addr *src, const struct ms_addr *dst, uint32_t reqid, uint32_t *spi)
{
	struct node *nd = ctx;
	struct kernel *k = &nd->k;
	struct ksa sa;
	uint32_t s;

	if (nd->w->now < k->alloc_fail_until) {
		logk(nd, "kernel: ALLOCSPI refused (injected)");
		return -ENOBUFS;
	}
	s = k->next_spi;
	k->next_spi = 0;
	while (!s || kernel_find(k, dst, s))
		s = SPI_MIN + rng_below(&nd->w->r_kernel, UINT32_MAX - SPI_MIN);
	memset(&sa, 0, sizeof(sa));
	sa.src = *src;
	sa.dst = *dst;
	sa.spi = s;
	sa.reqid = reqid;
	sa.larval = true;
	sa.add_ms = nd->w->now;
	insert(k, &sa);
	k->mutations++;
	*spi = s;
	return 0;
}

static void enqueue(struct kernel *k, bool add, const struct ksa *sa)
{
	if (k->nq == k->qcap) {
		size_t cap = k->qcap ? k->qcap * 2 : 16;
		struct kreq *q = realloc(k->q, cap * sizeof(*q));

		if (!q)
			abort();
		k->q = q;
		k->qcap = cap;
	}
	k->q[k->nq].add = add;
	k->q[k->nq++].sa = *sa;
}

static void op_sa_add(void *ctx, const struct ms_sa *sa)
{
	struct node *nd = ctx;
	struct ksa s;

	memset(&s, 0, sizeof(s));
	s.src = sa->src;
	s.dst = sa->dst;
	s.spi = sa->spi;
	s.reqid = sa->reqid;
	s.larval = sa->larval;	/* here: "fill the larval state" (UPDSA) */
	s.key_len = ms_cipher_key_len(sa->cipher);
	memcpy(s.key, sa->key, s.key_len);
	s.soft_ms = sa->soft_seconds * 1000;
	enqueue(&nd->k, true, &s);
}

static void op_sa_del(void *ctx, const struct ms_addr *dst, uint32_t spi)
{
	struct node *nd = ctx;
	struct ksa s;

	memset(&s, 0, sizeof(s));
	s.dst = *dst;
	s.spi = spi;
	enqueue(&nd->k, false, &s);
}

static const char *fmt_sa(const struct ksa *s, char *buf, size_t len)
{
	char a[MS_ADDR_STRLEN];

	snprintf(buf, len, "%s/%#x", ms_addr_format(&s->dst, a, sizeof(a)), s->spi);
	return buf;
}

/* One queued add: 0 or -errno, as the kernel would answer it. */
static int do_add(struct node *nd, struct ksa *req)
{
	struct kernel *k = &nd->k;
	struct ksa *have = (struct ksa *)kernel_find(k, &req->dst, req->spi);
	char b[64];

	if (nd->w->now < k->add_fail_until) {
		logk(nd, "kernel: %s %s refused (injected)", req->larval ? "UPDSA" : "NEWSA", fmt_sa(req, b, sizeof(b)));
		return -ENOMEM;
	}
	req->add_ms = nd->w->now;
	req->order = nd->w->ev_seq++;
	req->out = !own(nd, &req->dst);
	if (req->larval) {
		if (!have) {
			logk(nd, "kernel: UPDSA %s: no such state (ESRCH)", fmt_sa(req, b, sizeof(b)));
			return -ESRCH;
		}
		if (!have->larval) {
			/* xfrm_state_update on a valid state keeps its keys: the caller's are not in. */
			logk(nd, "kernel: UPDSA %s on a valid SA: keys unchanged", fmt_sa(req, b, sizeof(b)));
			return 0;
		}
		req->larval = false;
		*have = *req;
	} else {
		if (have) {
			logk(nd, "kernel: NEWSA %s: exists (EEXIST)", fmt_sa(req, b, sizeof(b)));
			return -EEXIST;
		}
		have = insert(k, req);
	}
	k->mutations++;
	check_sa_added(nd->w, nd, have);
	return 0;
}

static int op_commit(void *ctx)
{
	struct node *nd = ctx;
	struct kernel *k = &nd->k;
	int failed = 0;

	/* Requests are carried out in order, each with its own answer, as in a netlink batch. */
	for (size_t i = 0; i < k->nq && !nd->w->failed; i++) {
		struct ksa *req = &k->q[i].sa;
		const struct ksa *have = kernel_find(k, &req->dst, req->spi);
		char b[64];

		if (k->q[i].add && do_add(nd, req) < 0) {
			failed++;
			core_sa_refused(nd->core, &req->dst, req->spi, req->larval, ENOSPC, "simulated refusal");
		} else if (!k->q[i].add && have && have->foreign) {
			world_fail(nd->w, "%s deleted another owner's SA %s", nd->name, fmt_sa(have, b, sizeof(b)));
		} else if (!k->q[i].add) {
			erase(k, &req->dst, req->spi);
		}
	}
	k->nq = 0;
	return failed;
}

static int op_send(void *ctx, const struct ms_addr *to, const uint8_t *buf, size_t len)
{
	struct node *nd = ctx;

	check_send(nd->w, nd, buf, len);
	return net_send(nd->w, nd, to, buf, len);
}

size_t kernel_dump(const struct kernel *k, struct ms_sa **out)
{
	struct ms_sa *s = calloc(k->n + 1, sizeof(*s));
	size_t n = 0;

	if (!s)
		abort();
	for (size_t i = 0; i < k->n; i++) {
		const struct ksa *a = &k->sa[i];

		if (a->foreign)
			continue;	/* the agent dumps its tagged SAs only */
		s[n].src = a->src;
		s[n].dst = a->dst;
		s[n].spi = a->spi;
		s[n].reqid = a->reqid;
		s[n].larval = a->larval;
		s[n].packets = a->packets;
		s[n].bytes = a->bytes;
		s[n++].integrity_failed = a->integrity_failed;
	}
	*out = s;
	return n;
}

static int op_dump_sas(void *ctx, struct ms_sa **sas, size_t *n)
{
	struct node *nd = ctx;

	*n = kernel_dump(&nd->k, sas);
	return 0;
}

static void op_log(void *ctx, enum core_log level, const char *fmt, va_list ap)
{
	struct node *nd = ctx;

	(void)level;
	trace_vadd(nd->w->now, nd->name, fmt, ap);
}

/* Events go to the trace; handshakes are counted for check.c (one event per completed one). */
static void op_event(void *ctx, const struct core_event *ev)
{
	struct node *nd = ctx;

	nd->hs_events += ev->type == CORE_EV_HANDSHAKE || ev->type == CORE_EV_REKEY;
	trace_add(nd->w->now, nd->name, "event %s %s%s%s", core_event_name(ev->type), ev->peer, ev->why ? ": " : "",
		  ev->why ? core_reason_code(ev->why->code) : "");
}

const struct core_ops sim_core_ops = {
	.alloc_spi = op_alloc_spi, .sa_add = op_sa_add, .sa_del = op_sa_del, .commit = op_commit,
	.send = op_send, .dump_sas = op_dump_sas, .log = op_log, .event = op_event,
};

void kernel_second(struct world *w, struct node *nd)
{
	struct kernel *k = &nd->k;
	struct { struct ms_addr src, dst; uint32_t spi; } due[64];
	size_t n_due = 0;
	char b[64];

	for (size_t i = 0; i < k->n;) {
		struct ksa *s = &k->sa[i];

		if (s->larval && w->now - s->add_ms >= LARVAL_EXPIRE_MS) {
			logk(nd, "kernel: larval %s expired", fmt_sa(s, b, sizeof(b)));
			erase(k, &s->dst, s->spi);
			continue;
		}
		if (!s->larval && s->soft_ms && !s->expire_sent && w->now - s->add_ms >= s->soft_ms && n_due < 64) {
			s->expire_sent = true;
			due[n_due].src = s->src;
			due[n_due].dst = s->dst;
			due[n_due++].spi = s->spi;
		}
		i++;
	}
	/* EXPIRE notifications reach a running agent only. */
	for (size_t i = 0; i < n_due && nd->agent_up && !nd->paused && !w->failed; i++) {
		trace_add(w->now, nd->name, "kernel: soft EXPIRE %#x", due[i].spi);
		core_expire(nd->core, &due[i].src, &due[i].dst, due[i].spi, node_now(w, nd));
		node_kick(w, nd, 0);
	}
}

static int by_dst_order(const void *a, const void *b)
{
	const struct ksa *x = *(const struct ksa *const *)a, *y = *(const struct ksa *const *)b;
	int c = x->dst.family - y->dst.family;

	if (!c)
		c = memcmp(x->dst.u.raw, y->dst.u.raw, ms_addr_len(&x->dst));
	if (!c)
		c = x->order < y->order ? -1 : x->order > y->order;
	return c;
}

void kernel_traffic(struct world *w, struct node *nd)
{
	struct kernel *k = &nd->k;
	const struct ksa **out;
	size_t n = 0;

	if (!nd->traffic || !nd->host_up || nd->paused || !k->n)
		return;
	out = malloc(k->n * sizeof(*out));
	if (!out)
		abort();
	for (size_t i = 0; i < k->n; i++)
		if (k->sa[i].out && !k->sa[i].larval && !k->sa[i].foreign)
			out[n++] = &k->sa[i];
	qsort(out, n, sizeof(*out), by_dst_order);
	for (size_t i = 0; i < n; i++) {
		struct node *peer;
		struct ksa *in;

		/* The kernel sends with the newest SA of a template: the last of each destination. */
		if (i + 1 < n && ms_addr_equal(&out[i]->dst, &out[i + 1]->dst))
			continue;
		peer = node_by_addr(w, &out[i]->dst);
		if (!peer || !peer->host_up || peer->paused)
			continue;
		in = (struct ksa *)kernel_find(&peer->k, &out[i]->dst, out[i]->spi);
		if (!in || in->larval)
			continue;	/* XfrmInNoStates */
		if (in->key_len == out[i]->key_len && memcmp(in->key, out[i]->key, in->key_len) == 0) {
			in->packets += 10;
			in->bytes += 10 * 1400;
		} else {
			in->integrity_failed += 10;
		}
	}
	free(out);
}

void kernel_foreign_collision(struct world *w, struct node *nd, struct node *peer)
{
	struct ksa s;
	char b[64];

	memset(&s, 0, sizeof(s));
	s.src = nd->v4.family && peer->v4.family ? nd->v4 : nd->v6;
	s.dst = nd->v4.family && peer->v4.family ? peer->v4 : peer->v6;
	do
		s.spi = SPI_MIN + rng_below(&w->r_kernel, UINT32_MAX - SPI_MIN);
	while (kernel_find(&nd->k, &s.dst, s.spi) || kernel_find(&peer->k, &s.dst, s.spi));
	s.reqid = 42;
	s.out = s.foreign = true;
	s.add_ms = w->now;
	insert(&nd->k, &s);
	peer->k.next_spi = s.spi;
	logk(nd, "kernel: another owner adds SA %s (reqid 42); %s's kernel hands out that SPI next", fmt_sa(&s, b, sizeof(b)),
	     peer->name);
}
