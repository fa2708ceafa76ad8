/*
 * meshsim's command line: one seed, a range of seeds, the fixed regression scenarios, or the
 * fleet-reboot scale run.  A failing seed prints the invariant, the end of its trace and the
 * command that replays it exactly.
 */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define TRACE_LINES 8192
#define TRACE_SHOWN 200

static void usage(FILE *f)
{
	fprintf(f, "usage: meshsim [--seed S | --seeds A-B] [--nodes N] [--joiners N] [--fault-seconds T]\n"
		   "               [--quiet-seconds T] [--faults LIST] [--keepalive S] [--dead-after S] [--rekey S]\n"
		   "               [--traffic P] [--max-tick-ms MS] [--quiet-runs] [--show-trace N]\n"
		   "               [--watchdog WALL_SECONDS]\n"
		   "       meshsim --scenario NAME|all [--seed S]\n"
		   "       meshsim --scale N\n"
		   "faults: all, none, or a comma list of");
	for (int k = 0; k < FAULT_KINDS; k++)
		fprintf(f, " %s", fault_names[k]);
	fprintf(f, "\nscenarios:");
	for (int i = 0; scenario_names[i]; i++)
		fprintf(f, " %s", scenario_names[i]);
	fprintf(f, "\n");
}

static void faults_str(unsigned set, char *buf, size_t len)
{
	size_t n = 0;

	if (set == FAULT_ALL) {
		snprintf(buf, len, "all");
		return;
	}
	buf[0] = 0;
	for (int k = 0; k < FAULT_KINDS && n < len; k++)
		if (set & (1u << k))
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "", fault_names[k]);
	if (!set)
		snprintf(buf, len, "none");
}

void sim_replay_command(const struct options *o, char *buf, size_t len)
{
	char f[256];

	faults_str(o->faults, f, sizeof(f));
	if (o->scenario)
		snprintf(buf, len, "tests/sim/meshsim --scenario %s --seed %" PRIu64, o->scenario, o->seed);
	else
		snprintf(buf, len, "tests/sim/meshsim --seed %" PRIu64 " --nodes %u --joiners %u --fault-seconds %u "
				   "--quiet-seconds %u --faults %s --keepalive %u --dead-after %u --rekey %" PRIu64
				   " --traffic %g --max-tick-ms %u", o->seed, o->nodes, o->universe - o->nodes, o->fault_s,
			 o->quiet_s, f, o->keepalive_s, o->dead_after_s, o->rekey_s, o->traffic, o->max_tick_ms);
}

/*
 * A core call that never returns (an infinite loop in common/) would hang the suite silently:
 * a wall-clock alarm per seed reports it with the trace instead.  It decides nothing in the run.
 */
static struct world *running_world;
static unsigned watchdog_s = 120;

static void on_alarm(int sig)
{
	char cmd[512];

	(void)sig;
	if (running_world) {
		sim_replay_command(&running_world->o, cmd, sizeof(cmd));
		printf("%s seed %" PRIu64 ": FAILED at %" PRIu64 ".%03" PRIu64 " s: hung: a call into the core did not "
		       "return within %u s of wall time (core_tick of %s)\nlast %d trace lines:\n",
		       running_world->o.scenario ? running_world->o.scenario : "", running_world->o.seed, running_world->now / 1000,
		       running_world->now % 1000, watchdog_s, node_name(running_world, running_world->current), TRACE_SHOWN);
		trace_dump(running_world->o.show_trace > TRACE_SHOWN ? running_world->o.show_trace : TRACE_SHOWN);
		printf("replay: %s\nsim: 0 passed, 1 failed (hung)\n", cmd);
	}
	fflush(stdout);
	_exit(3);
}

void sim_watch(struct world *w)
{
	running_world = w;
	signal(SIGALRM, on_alarm);
	alarm(w ? watchdog_s : 0);
}

/* Totals over the seeds of one invocation. */
static uint64_t total_faults[FAULT_KINDS], worst_conv, worst_settle, total_late;
static uint64_t worst_seed;

int sim_report(struct world *w, int rc)
{
	char cmd[512];

	for (int k = 0; k < FAULT_KINDS; k++)
		total_faults[k] += w->fault_count[k];
	total_late += w->late_outbound;
	if (w->max_settle_ms > worst_settle)
		worst_settle = w->max_settle_ms;
	if (w->max_conv_ms > worst_conv) {
		worst_conv = w->max_conv_ms;
		worst_seed = w->o.seed;
	}
	if (w->o.show_trace)
		trace_dump(w->o.show_trace);
	if (rc == 0) {
		if (w->o.terse)
			return 0;
		printf("%s seed %" PRIu64 ": ok, converged %" PRIu64 " ms after the faults stopped (bound %" PRIu64
		       " ms), settled after %" PRIu64 " ms; %" PRIu64 " datagrams, %" PRIu64 " lost, %" PRIu64 " hostile, %" PRIu64 " late outbound\n",
		       w->o.scenario ? w->o.scenario : "", w->o.seed, w->max_conv_ms, world_bound_ms(w), w->max_settle_ms, w->sent, w->dropped,
		       w->hostile, w->late_outbound);
		return 0;
	}
	sim_replay_command(&w->o, cmd, sizeof(cmd));
	printf("%s seed %" PRIu64 ": FAILED at %" PRIu64 ".%03" PRIu64 " s: %s\n", w->o.scenario ? w->o.scenario : "",
	       w->o.seed, w->now / 1000, w->now % 1000, w->fail_msg);
	printf("last %d trace lines:\n", TRACE_SHOWN);
	trace_dump(TRACE_SHOWN);
	printf("replay: %s\n", cmd);
	return 1;
}

static int run_seed(struct options *o)
{
	struct world *w;

	trace_reset(TRACE_LINES);
	check_reset();
	/* Timing varies by seed too, within what the inventory accepts. */
	w = world_new(o);
	faults_schedule(w);
	world_boot(w, 2000);
	return sim_run_world(w);
}

int sim_run_world(struct world *w)
{
	int rc;

	sim_watch(w);
	rc = world_run(w);
	sim_watch(NULL);
	rc = sim_report(w, rc);
	world_free(w);
	return rc;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);	/* reported only, never decides anything */
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_scale(struct options *o)
{
	double t0 = wall_s();
	struct rusage ru;
	struct world *w;
	uint64_t pairs;
	int rc;

	o->universe = o->nodes;
	o->faults = 0;
	o->fault_s = 0;
	o->quiet_s = 0;
	o->traffic = 0;
	o->scale = true;
	trace_reset(o->show_trace > TRACE_LINES ? o->show_trace : TRACE_LINES);
	trace_enable(o->show_trace != 0);	/* costly at scale: only when asked */
	check_reset();
	w = world_new(o);
	world_boot(w, 1000);	/* a fleet reboot: every agent starts within one second */
	rc = world_run(w);
	getrusage(RUSAGE_SELF, &ru);
	pairs = (uint64_t)o->nodes * (o->nodes - 1) / 2;
	printf("scale: %u nodes, %" PRIu64 " pairs: %s\n", o->nodes, pairs, rc ? w->fail_msg : "full mesh");
	printf("  simulated time to full mesh (every pair established, keys matching): %" PRIu64 " ms\n", w->converged_at);
	printf("  simulated time until no handshake is under way: %" PRIu64 " ms (the check before: %s)\n", w->settled_at,
	       w->last_why);
	printf("  datagrams: %" PRIu64 " (%.2f per pair)\n", w->sent, (double)w->sent / (double)pairs);
	printf("  peak handshakes completed per second per node: %" PRIu64 " (mean over the busiest second: %.1f)\n",
	       w->peak_hs_node, w->peak_hs_fleet / (double)o->nodes);
	printf("  wall time %.1f s, peak memory %ld MiB\n", wall_s() - t0, ru.ru_maxrss / 1024);
	if (o->show_trace)
		trace_dump(o->show_trace);
	world_free(w);
	return rc ? 1 : 0;
}

static bool parse_range(const char *s, uint64_t *a, uint64_t *b)
{
	char *end;

	*a = strtoull(s, &end, 10);
	if (*end != '-')
		return false;
	*b = strtoull(end + 1, &end, 10);
	return !*end && *b >= *a;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "seed", required_argument, NULL, 's' }, { "seeds", required_argument, NULL, 'S' },
		{ "nodes", required_argument, NULL, 'n' }, { "joiners", required_argument, NULL, 'j' },
		{ "fault-seconds", required_argument, NULL, 'f' }, { "quiet-seconds", required_argument, NULL, 'q' },
		{ "faults", required_argument, NULL, 'F' }, { "keepalive", required_argument, NULL, 'k' },
		{ "dead-after", required_argument, NULL, 'd' }, { "rekey", required_argument, NULL, 'r' },
		{ "traffic", required_argument, NULL, 't' }, { "max-tick-ms", required_argument, NULL, 'm' },
		{ "scale", required_argument, NULL, 'x' }, { "scenario", required_argument, NULL, 'c' },
		{ "quiet-runs", no_argument, NULL, 'Q' },
		{ "show-trace", required_argument, NULL, 'T' }, { "watchdog", required_argument, NULL, 'W' }, { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct options o = { .seed = 1, .nodes = 8, .fault_s = 300, .quiet_s = 60, .faults = FAULT_ALL,
			     .keepalive_s = 5, .dead_after_s = 15, .rekey_s = 3600, .max_tick_ms = 2000, .traffic = 0.5 };
	uint64_t first = 0, last = 0;
	unsigned joiners = 2, scale = 0;
	bool range = false, ok;
	int c, failed = 0, passed = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.seed = strtoull(optarg, NULL, 10); o.seed_given = true; break;
		case 'S':
			if (!parse_range(optarg, &first, &last)) {
				fprintf(stderr, "meshsim: --seeds %s: expected A-B with A <= B\n", optarg);
				return 2;
			}
			range = true;
			break;
		case 'n': o.nodes = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'j': joiners = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'f': o.fault_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'q': o.quiet_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'F':
			o.faults = faults_parse(optarg, &ok);
			if (!ok)
				return 2;
			break;
		case 'k': o.keepalive_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'd': o.dead_after_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'r': o.rekey_s = strtoull(optarg, NULL, 10); break;
		case 't': o.traffic = strtod(optarg, NULL); break;
		case 'm': o.max_tick_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'x': scale = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': o.scenario = optarg; break;
		case 'Q': o.terse = true; break;
		case 'W': watchdog_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': o.show_trace = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || o.nodes < 2 || o.nodes > MS_NODES_MAX || o.keepalive_s < 1 ||
	    o.dead_after_s < 2 * o.keepalive_s || !o.max_tick_ms || o.rekey_s < 10) {
		fprintf(stderr, "meshsim: bad arguments (nodes 2..%d, dead-after >= 2 x keepalive, rekey >= 10)\n",
			MS_NODES_MAX);
		usage(stderr);
		return 2;
	}
	o.universe = o.nodes + joiners;
	sim_sodium_install();
	if (sodium_init() < 0) {
		fprintf(stderr, "meshsim: libsodium failed to initialise\n");
		return 1;
	}
	if (scale) {
		o.nodes = scale;
		return run_scale(&o);
	}
	if (o.scenario)
		return scenario_run(o.scenario, &o) ? 1 : 0;
	if (!range)
		first = last = o.seed;
	for (uint64_t s = first; s <= last; s++) {
		o.seed = s;
		if (run_seed(&o))
			failed++;
		else
			passed++;
	}
	if (last > first) {
		printf("faults injected:");
		for (int k = 0; k < FAULT_KINDS; k++)
			printf(" %s %" PRIu64, fault_names[k], total_faults[k]);
		printf("\noutbound SAs added after the peer deleted the inbound: %" PRIu64 "\n", total_late);
		printf("worst convergence: %" PRIu64 " ms (seed %" PRIu64 "); worst settling: %" PRIu64 " ms\n", worst_conv,
		       worst_seed, worst_settle);
	}
	printf("sim: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
