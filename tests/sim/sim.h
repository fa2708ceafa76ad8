/*
 * meshsim: a deterministic simulator of a whole fleet running the real node core (common/).
 *
 * One seed drives everything: the fault schedule, the network's per-datagram draws, the
 * simulated kernels' SPIs and libsodium's RNG (so the engines' ephemerals, nonces, hs_ids and
 * jitter replay bit for bit).  Time is simulated milliseconds; an event queue orders every
 * delivery, tick and fault.  Invariants are checked as the run goes (check.c) and a failure
 * prints the trace ring and the command that replays it.
 */
#ifndef MESHSIM_SIM_H
#define MESHSIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meshsec/core.h"
#include "meshsec/model.h"

/* ---- rng.c: seeded streams; libsodium's randombytes replaced by one of them ---- */
struct rng {
	uint64_t s[4];
};
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
uint32_t rng_below(struct rng *r, uint32_t n);	/* uniform in [0, n); 0 when n == 0 */
uint64_t rng_range(struct rng *r, uint64_t lo, uint64_t hi);	/* uniform in [lo, hi] */
bool rng_chance(struct rng *r, double p);
double rng_unit(struct rng *r);
/* Installs the seeded randombytes implementation; call once, before sodium_init(). */
void sim_sodium_install(void);
void sim_sodium_seed(uint64_t seed);

/* ---- trace.c: the last lines of a run, printed when an invariant fails ---- */
void trace_reset(size_t cap);
void trace_add(uint64_t now, const char *who, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void trace_vadd(uint64_t now, const char *who, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
void trace_dump(size_t last);
void trace_enable(bool on);
bool trace_enabled(void);

/* ---- kernel.c: one node's SAD, behind core_ops ---- */
struct ksa {
	struct ms_addr src, dst;
	uint32_t spi, reqid;
	bool larval, out;
	bool foreign;			/* another owner's (reqid not ours): the agent must never delete it */
	size_t key_len;
	uint8_t key[MS_CIPHER_KEY_MAX];
	uint64_t add_ms, order;		/* sim time; insertion order (newest outbound carries traffic) */
	uint64_t soft_ms;		/* soft expiry age; 0: none */
	bool expire_sent;
	uint64_t packets, bytes;
	uint32_t integrity_failed;
};

struct kreq {
	bool add;
	struct ksa sa;
};

struct kernel {
	struct ksa *sa;
	size_t n, cap;
	int32_t *slot;			/* open addressing on (dst, spi): index + 1, 0 empty */
	size_t slots;
	struct kreq *q;
	size_t nq, qcap;
	uint64_t alloc_fail_until, add_fail_until;	/* injected refusals (sim time) */
	uint32_t next_spi;		/* non-zero: the SPI the next ALLOCSPI hands out (a foreign collision) */
	uint64_t mutations;		/* ALLOCSPIs and successful adds: hostile input must not move it */
};

struct world;
struct node;
extern const struct core_ops sim_core_ops;
void kernel_init(struct kernel *k);
void kernel_free(struct kernel *k);
void kernel_wipe(struct kernel *k);	/* a reboot */
const struct ksa *kernel_find(const struct kernel *k, const struct ms_addr *dst, uint32_t spi);
/* Larval states the kernel drops by itself (acq_expires), soft expiries; once a simulated second. */
void kernel_second(struct world *w, struct node *nd);
/* One second of data traffic from nd on its newest outbound SA per destination. */
void kernel_traffic(struct world *w, struct node *nd);
size_t kernel_dump(const struct kernel *k, struct ms_sa **out);
/*
 * Another owner's SA in nd's kernel at (dst, spi), and peer's kernel made to hand out that SPI
 * next: the peer will announce an SPI that collides with it (the agent must leave it alone).
 */
void kernel_foreign_collision(struct world *w, struct node *nd, struct node *peer);

/* ---- net.c: datagrams between agents ---- */
struct dgram {
	struct ms_addr src;
	int to;				/* node index */
	uint8_t kind;			/* DG_* */
	uint8_t verdict;		/* recorded ones: what their delivery got */
	uint8_t first;			/* replays: the verdict of the recorded copy */
	size_t len;
	uint8_t buf[MS_WIRE_MAX];
};
enum { DG_NORMAL, DG_FORGED, DG_REPLAY, DG_SPOOFED };

struct netcond {
	double loss, dup, reorder;	/* per datagram */
	uint32_t delay_min_ms, delay_mean_ms;	/* min + exponential(mean) */
};

/* Called by the kernel's send op. */
int net_send(struct world *w, struct node *from, const struct ms_addr *to, const uint8_t *buf, size_t len);
struct dgram *net_inject(struct world *w, int kind, const struct ms_addr *src, int to, const uint8_t *buf, size_t len,
		uint64_t delay_ms);
void net_deliver(struct world *w, struct dgram *d);
void net_record(struct world *w, const struct dgram *d);

/* ---- world.c: nodes, inventories, the event queue, the run ---- */
enum ev_type { EV_TICK, EV_DGRAM, EV_FAULT, EV_SECOND, EV_CHECK, EV_RELOAD, EV_START, EV_QUIET };

struct event {
	uint64_t at, seq;
	enum ev_type type;
	int node;
	uint64_t gen;
	void *p;
};

struct node {
	struct world *w;
	int idx;
	char name[MS_NAME_MAX + 1];
	struct ms_addr v4, v6;
	bool member;			/* in the newest inventory */
	bool host_up, agent_up, paused;
	struct core *core;
	const struct ms_inventory *inv;	/* the one its core runs */
	size_t inv_self;
	struct kernel k;
	uint64_t clock_off;		/* node's monotonic clock = sim time + clock_off */
	uint64_t tick_at, tick_gen;
	bool traffic;			/* its pairs carry data (see kernel_traffic) */
	bool down;			/* restarting or rebooting: starts when that is over */
	uint64_t starts;
	uint64_t hs_sec, hs_count;		/* handshakes completed in second hs_sec */
	uint64_t hs_events;			/* handshake and rekey events of its current core */
};

struct options {
	uint64_t seed;
	unsigned nodes, universe;	/* members at start; nodes that may join */
	unsigned fault_s, quiet_s;
	unsigned faults;		/* FAULT_* bits */
	unsigned keepalive_s, dead_after_s;
	uint64_t rekey_s;
	unsigned max_tick_ms;
	double traffic;			/* share of nodes whose pairs carry data */
	bool scale;
	bool dual;			/* every node dual-stack (scenarios, --scale) */
	bool verbose;
	unsigned show_trace;		/* print this many trace lines after every run */
	bool terse;			/* print failing seeds only */
	bool seed_given;		/* --seed on the command line (scenarios have their own) */
	const char *scenario;
};

enum {
	FAULT_LOSS = 1u << 0, FAULT_DUP = 1u << 1, FAULT_REORDER = 1u << 2, FAULT_DELAY = 1u << 3,
	FAULT_PARTITION = 1u << 4, FAULT_ONEWAY = 1u << 5, FAULT_KERNEL = 1u << 6, FAULT_RESTART = 1u << 7,
	FAULT_REBOOT = 1u << 8, FAULT_PAUSE = 1u << 9, FAULT_CLOCK = 1u << 10, FAULT_INVENTORY = 1u << 11,
	FAULT_FORGE = 1u << 12, FAULT_REPLAY = 1u << 13, FAULT_SPOOF = 1u << 14, FAULT_REKEY = 1u << 15,
	FAULT_FOREIGN = 1u << 16,
	FAULT_ALL = (1u << 17) - 1,
};
#define FAULT_KINDS 17
extern const char *const fault_names[FAULT_KINDS];

#define RECORD_MAX 512

struct world {
	struct options o;
	uint64_t now;			/* sim ms */
	bool quiet;			/* no faults from now on */
	uint64_t quiet_at, converged_at, settled_at, strict_ok_at;
	bool done;
	struct rng r_fault, r_net, r_kernel;
	uint8_t secret[32];
	struct node *nodes;
	size_t n_nodes;
	/* Inventories: every version stays allocated (cores keep no pointer, but nodes do). */
	struct ms_inventory **invs;
	size_t n_invs;
	const struct ms_inventory *inv;	/* newest */
	/* Event queue: a binary heap. */
	struct event *heap;
	size_t n_ev, cap_ev;
	uint64_t ev_seq;
	/* Network conditions now, and episodes. */
	struct netcond cond, base_cond, quiet_cond;
	unsigned loss_eps, delay_eps;	/* episodes under way */
	uint8_t *cut;			/* n_nodes x n_nodes: 1 = datagrams from i to j are lost */
	struct dgram record[RECORD_MAX];
	size_t n_record;
	int current;			/* node whose core is running, for logs; -1 */
	struct fault **faults;
	size_t n_faults;
	/* Statistics. */
	uint64_t sent, delivered, dropped, duplicated, hostile;
	uint64_t fault_count[FAULT_KINDS];
	uint64_t handshake_rx;		/* for --scale */
	uint64_t max_conv_ms, max_settle_ms;
	uint64_t late_outbound;		/* outbound adds after the peer deleted the inbound (check.c) */
	uint64_t peak_hs_node, fleet_sec, fleet_hs, peak_hs_fleet;	/* --scale: outbound IPv4 installs */
	bool failed;
	char fail_msg[512];
	char last_why[400];		/* what the last failed convergence check saw */
};

struct world *world_new(const struct options *o);
void world_free(struct world *w);
void world_push(struct world *w, uint64_t at, enum ev_type t, int node, void *p);
uint64_t node_now(const struct world *w, const struct node *nd);
struct node *node_by_addr(struct world *w, const struct ms_addr *a);
/* Lifecycle of a node's agent and host. */
void node_start(struct world *w, struct node *nd, bool adopt);
void node_stop(struct world *w, struct node *nd);
void node_kick(struct world *w, struct node *nd, uint64_t delay);
/* Membership: a new newest inventory, rolled out to every running member within rollout_ms. */
void world_set_member(struct world *w, int idx, bool member, uint64_t rollout_ms);
/* Runs to the end (or to a violation); 0 when every invariant held. */
int world_run(struct world *w);
/* Members start at random times in [0, spread_ms]. */
void world_boot(struct world *w, uint64_t spread_ms);
/* The liveness bound: dead_after_seconds + two maximal retransmission intervals + 5 s. */
uint64_t world_bound_ms(const struct world *w);
void world_fail(struct world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *node_name(const struct world *w, int idx);

/* ---- faults.c: the schedule ---- */
struct fault {
	int kind;			/* FAULT_* bit index */
	bool ending;			/* the event that ends it */
	int a, b;			/* nodes (or -1) */
	uint64_t dur_ms;
	uint32_t arg;
	uint64_t mask_lo;		/* partition sets: bit i = node i (first 64 nodes) */
};
void faults_schedule(struct world *w);
void fault_at(struct world *w, uint64_t at, unsigned bit, int a, int b, uint64_t dur, uint32_t arg);
void fault_apply(struct world *w, struct fault *f);
void fault_end(struct world *w, struct fault *f);
unsigned faults_parse(const char *list, bool *ok);

/* ---- check.c: invariants ---- */
void check_reset(void);
void check_sa_added(struct world *w, struct node *nd, const struct ksa *sa);
void check_send(struct world *w, struct node *nd, const uint8_t *buf, size_t len);
/*
 * CONV_UP: every pair of running members established on one session, SPIs and kernel keys
 * matching.  CONV_SETTLED: and no handshake under way.  CONV_STRICT: and every kernel holds
 * exactly those SAs (plus the previous generation within its grace), statuses all "up".
 */
enum { CONV_UP, CONV_SETTLED, CONV_STRICT };
bool check_converged(struct world *w, int level, char *why, size_t len);

/* ---- main.c ---- */
int sim_report(struct world *w, int rc);
/* Runs a prepared world under the watchdog, reports it and frees it; 0 if it passed. */
int sim_run_world(struct world *w);
/* Arms (w) or disarms (NULL) the per-run wall-clock watchdog. */
void sim_watch(struct world *w);
void sim_replay_command(const struct options *o, char *buf, size_t len);

/* ---- scenarios.c: fixed schedules for the bugs version 2 fixed ---- */
int scenario_run(const char *name, struct options *o);
void scenario_list(void);
extern const char *const scenario_names[];

#endif
