/*
 * ESP verification of one pair, sans I/O (README "Modes and rolling out"; agent/mesh_espcheck.c
 * drives it with netcheck's probes).
 *
 * A pair's handshake runs over UDP, so a firewall that passes the mesh port but drops ESP (IP
 * protocol 50) lets the pair come up and then blackholes its traffic.  Once a pair is up, the
 * shell runs a probe that can only travel as ESP both ways (per-socket policies with a required
 * ESP template, meshsec/xnl.h xnl_socket_esp); only when it passes does a prefer pair's outbound
 * policy switch to ESP.  A failed check is retried with a growing, jittered delay (bounded work
 * at any mesh size), and reported as the pair's reason esp_blocked.  The verdict holds while the
 * pair stays up (rekeys do not change the path); a pair that goes down must verify again.
 */
#ifndef MESHSEC_ESPCHECK_H
#define MESHSEC_ESPCHECK_H

#include <stdbool.h>
#include <stdint.h>

#include "meshsec/core.h"
#include "meshsec/probe.h"

enum ms_espcheck_state {
	MS_ESPCHECK_IDLE,	/* the pair is not up: nothing to check */
	MS_ESPCHECK_PENDING,	/* up, not verified yet: a check is due at next_ms */
	MS_ESPCHECK_RUNNING,	/* a check is under way */
	MS_ESPCHECK_PASSED,	/* ESP went both ways */
	MS_ESPCHECK_FAILED,	/* the last check did not pass: retried at next_ms */
};
const char *ms_espcheck_state_name(enum ms_espcheck_state s);

/* First retry after a failure, then doubling up to the cap; each delay jittered by +-25 %. */
#define MS_ESPCHECK_RETRY_MS 2000u
#define MS_ESPCHECK_RETRY_MAX_MS 60000u
/* How long one check waits for the peer's answers. */
#define MS_ESPCHECK_RUN_MS 3000u

struct ms_espcheck {
	enum ms_espcheck_state state;
	unsigned failures;		/* checks failed in a row since the pair came up */
	uint64_t next_ms;		/* PENDING, FAILED: when the next check may start */
	uint64_t since_ms;		/* in this state since */
	bool adopted;			/* PASSED from before the agent's start (the kernel's policy said so) */
	bool answered;			/* the last failed check got an answer (else: no answer at all) */
	enum ms_probe_dir_state esp_out, esp_in;	/* of the last failed check */
};

/*
 * The pair's state as the shell sees it now (up: SAs both ways, or an outbound SA from before
 * the start).  A pair that is not up forgets its verdict.  Returns true when the state changed
 * in a way that matters to the outbound policy or the reason.
 */
bool ms_espcheck_track(struct ms_espcheck *e, bool up, uint64_t now_ms);
/* At start: the kernel already sends this pair ESP through its SAs from before (verified then). */
void ms_espcheck_adopt(struct ms_espcheck *e, uint64_t now_ms);
/* A check is due now. */
bool ms_espcheck_due(const struct ms_espcheck *e, uint64_t now_ms);
void ms_espcheck_started(struct ms_espcheck *e, uint64_t now_ms);
/*
 * A check ended with res; jitter in [0, 1] spreads the retry.  Returns true when the verdict
 * changed (passed now, or failed where it had not before).
 */
bool ms_espcheck_done(struct ms_espcheck *e, const struct ms_probe_result *res, double jitter, uint64_t now_ms);
/* The check could not start (no probe socket, every run slot busy): tried again in RETRY_MS. */
void ms_espcheck_skip(struct ms_espcheck *e, uint64_t now_ms);
/* ESP was seen to pass: the outbound policy may use it. */
bool ms_espcheck_passed(const struct ms_espcheck *e);
/* The delay before the check after `failures` failed ones, before jitter. */
uint64_t ms_espcheck_backoff(unsigned failures);

/*
 * The reason for a pair that is up but whose ESP failed its check (code CORE_REASON_NONE
 * otherwise): message and fix name the port, the peer and the direction when known; prefer says
 * the traffic stays in clear, require that it is dropped.
 */
void ms_espcheck_why(const struct ms_espcheck *e, const char *self, const char *peer, unsigned port, bool prefer,
		     struct core_why *w);

#endif
