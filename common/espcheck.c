/*
 * A pair's ESP verification (meshsec/espcheck.h): when to check, what a check proved, and the
 * reason an operator reads when it did not pass.
 *
 * The verdict is tied to the pair being up, not to its SAs: a rekey or a new handshake of an up
 * pair keeps the same addresses and the same path, so it is not checked again; a pair that went
 * down (or whose addresses a reload changed: the shell removes it) starts over.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "meshsec/espcheck.h"

const char *ms_espcheck_state_name(enum ms_espcheck_state s)
{
	static const char *const n[] = { "idle", "pending", "running", "passed", "failed" };

	return s <= MS_ESPCHECK_FAILED ? n[s] : "?";
}

static void enter(struct ms_espcheck *e, enum ms_espcheck_state s, uint64_t now_ms)
{
	e->state = s;
	e->since_ms = now_ms;
}

bool ms_espcheck_track(struct ms_espcheck *e, bool up, uint64_t now_ms)
{
	bool mattered;

	if (up && e->state == MS_ESPCHECK_IDLE) {
		memset(e, 0, sizeof(*e));
		enter(e, MS_ESPCHECK_PENDING, now_ms);
		e->next_ms = now_ms;
		return false;	/* still not verified: nothing to switch */
	}
	if (up || e->state == MS_ESPCHECK_IDLE)
		return false;
	mattered = e->state == MS_ESPCHECK_PASSED || e->state == MS_ESPCHECK_FAILED;
	memset(e, 0, sizeof(*e));
	enter(e, MS_ESPCHECK_IDLE, now_ms);
	return mattered;
}

void ms_espcheck_adopt(struct ms_espcheck *e, uint64_t now_ms)
{
	memset(e, 0, sizeof(*e));
	enter(e, MS_ESPCHECK_PASSED, now_ms);
	e->adopted = true;
}

bool ms_espcheck_due(const struct ms_espcheck *e, uint64_t now_ms)
{
	return (e->state == MS_ESPCHECK_PENDING || e->state == MS_ESPCHECK_FAILED) && now_ms >= e->next_ms;
}

void ms_espcheck_started(struct ms_espcheck *e, uint64_t now_ms)
{
	if (e->state == MS_ESPCHECK_PENDING || e->state == MS_ESPCHECK_FAILED) {
		e->answered = e->state == MS_ESPCHECK_FAILED && e->answered;
		e->state = MS_ESPCHECK_RUNNING;	/* since_ms stays: a failed pair is failing since its first failure */
		e->next_ms = now_ms;
	}
}

uint64_t ms_espcheck_backoff(unsigned failures)
{
	uint64_t d = MS_ESPCHECK_RETRY_MS;

	for (unsigned i = 1; i < failures && d < MS_ESPCHECK_RETRY_MAX_MS; i++)
		d *= 2;
	return d < MS_ESPCHECK_RETRY_MAX_MS ? d : MS_ESPCHECK_RETRY_MAX_MS;
}

static void retry(struct ms_espcheck *e, double jitter, uint64_t now_ms)
{
	uint64_t d = ms_espcheck_backoff(++e->failures);

	if (jitter < 0)
		jitter = 0;
	else if (jitter > 1)
		jitter = 1;
	e->next_ms = now_ms + (uint64_t)((double)d * (0.75 + 0.5 * jitter));
}

bool ms_espcheck_done(struct ms_espcheck *e, const struct ms_probe_result *res, double jitter, uint64_t now_ms)
{
	bool was_failed;

	if (e->state != MS_ESPCHECK_RUNNING)
		return false;	/* the pair went down meanwhile: that run says nothing of the new one */
	if (res->esp_out == MS_DIR_OK && res->esp_in == MS_DIR_OK) {
		memset(e, 0, sizeof(*e));
		enter(e, MS_ESPCHECK_PASSED, now_ms);
		return true;
	}
	was_failed = e->failures > 0;
	e->answered = res->answered;
	e->esp_out = res->esp_out;
	e->esp_in = res->esp_in;
	e->state = MS_ESPCHECK_FAILED;
	if (!was_failed)
		e->since_ms = now_ms;
	retry(e, jitter, now_ms);
	return !was_failed;
}

void ms_espcheck_skip(struct ms_espcheck *e, uint64_t now_ms)
{
	if (e->state == MS_ESPCHECK_RUNNING || e->state == MS_ESPCHECK_PENDING) {
		e->state = e->failures ? MS_ESPCHECK_FAILED : MS_ESPCHECK_PENDING;
		e->next_ms = now_ms + MS_ESPCHECK_RETRY_MS;
	}
}

bool ms_espcheck_passed(const struct ms_espcheck *e)
{
	return e->state == MS_ESPCHECK_PASSED;
}

/* "from a to b", "from b to a", "both ways" or "": what the last check could tell apart. */
static const char *which_way(const struct ms_espcheck *e, const char *self, const char *peer, char *buf, size_t cap)
{
	bool out = e->esp_out == MS_DIR_BLOCKED, in = e->esp_in == MS_DIR_BLOCKED;

	if (out && in)
		snprintf(buf, cap, " in either direction");
	else if (out || (in && e->esp_out == MS_DIR_OK))
		snprintf(buf, cap, " (dropped from %s to %s)", out ? self : peer, out ? peer : self);
	else
		buf[0] = '\0';
	return buf;
}

void ms_espcheck_why(const struct ms_espcheck *e, const char *self, const char *peer, unsigned port, bool prefer,
		     struct core_why *w)
{
	const char *effect = prefer ? "traffic with it stays in clear (prefer mode)" : "traffic with it is dropped (require mode)";
	char way[2 * MS_NAME_MAX + 32];

	memset(w, 0, sizeof(*w));
	if (e->failures == 0 || (e->state != MS_ESPCHECK_FAILED && e->state != MS_ESPCHECK_RUNNING))
		return;
	w->code = CORE_REASON_ESP_BLOCKED;
	if (e->answered)
		snprintf(w->message, sizeof(w->message), "handshakes pass on udp/%u but ESP (IP protocol 50) does not reach "
			 "%s%s; %s", port, peer, which_way(e, self, peer, way, sizeof(way)), effect);
	else
		snprintf(w->message, sizeof(w->message), "handshakes pass on udp/%u but %s's agent does not answer ESP "
			 "checks (ESP blocked both ways, or its agent predates the check); %s", port, peer, effect);
	snprintf(w->fix, sizeof(w->fix), "allow IP protocol 50 between the nodes in the firewall or security group; "
		 "`meshsec netcheck %s` shows which direction; the agent checks again by itself", peer);
}
