/*
 * A pair's ESP verification (meshsec/espcheck.h): the states it goes through as the pair comes
 * up, fails, retries and goes down, the retry delays and their bound, and the reason's text.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "meshsec/espcheck.h"

static const struct ms_probe_result passed = { .esp_out = MS_DIR_OK, .esp_in = MS_DIR_OK, .clear_out = MS_DIR_OK,
					       .clear_in = MS_DIR_OK, .answered = true };
static const struct ms_probe_result out_blocked = { .esp_out = MS_DIR_BLOCKED, .esp_in = MS_DIR_OK, .clear_out = MS_DIR_OK,
						    .clear_in = MS_DIR_OK, .answered = true };
static const struct ms_probe_result silent = { .esp_out = MS_DIR_UNKNOWN, .esp_in = MS_DIR_UNKNOWN };

/* Up at t, one check started at once. */
static void up_and_start(struct ms_espcheck *e, uint64_t t)
{
	ms_espcheck_track(e, true, t);
	assert_int_equal(e->state, MS_ESPCHECK_PENDING);
	assert_true(ms_espcheck_due(e, t));
	ms_espcheck_started(e, t);
	assert_int_equal(e->state, MS_ESPCHECK_RUNNING);
	assert_false(ms_espcheck_due(e, t));
}

static void test_passes(void **state)
{
	struct ms_espcheck e = { 0 };
	struct core_why w;

	(void)state;
	assert_false(ms_espcheck_track(&e, false, 0));
	assert_false(ms_espcheck_due(&e, 0));	/* not up: nothing to check */
	up_and_start(&e, 1000);
	assert_false(ms_espcheck_passed(&e));	/* the out policy waits for the verdict */
	assert_true(ms_espcheck_done(&e, &passed, 0.5, 1100));
	assert_true(ms_espcheck_passed(&e));
	assert_false(ms_espcheck_due(&e, 1000000));	/* passed: never again while up (rekeys included) */
	assert_false(ms_espcheck_track(&e, true, 5000));
	assert_true(ms_espcheck_passed(&e));
	ms_espcheck_why(&e, "a", "b", 4801, true, &w);
	assert_int_equal(w.code, CORE_REASON_NONE);
	/* down and up again: checked again */
	assert_true(ms_espcheck_track(&e, false, 6000));
	assert_false(ms_espcheck_passed(&e));
	ms_espcheck_track(&e, true, 7000);
	assert_false(ms_espcheck_passed(&e));
	assert_true(ms_espcheck_due(&e, 7000));
}

static void test_fails_and_retries(void **state)
{
	struct ms_espcheck e = { 0 };
	uint64_t t = 1000;

	(void)state;
	up_and_start(&e, t);
	assert_true(ms_espcheck_done(&e, &out_blocked, 0.5, t + 3000));	/* a new verdict: reported */
	assert_int_equal(e.state, MS_ESPCHECK_FAILED);
	assert_false(ms_espcheck_passed(&e));
	assert_int_equal(e.next_ms, t + 3000 + MS_ESPCHECK_RETRY_MS);	/* jitter 0.5: the nominal delay */
	assert_false(ms_espcheck_due(&e, e.next_ms - 1));
	assert_true(ms_espcheck_due(&e, e.next_ms));
	/* failing again is not news; the delays grow */
	for (unsigned i = 2; i < 12; i++) {
		uint64_t at = e.next_ms;

		ms_espcheck_started(&e, at);
		assert_false(ms_espcheck_done(&e, &out_blocked, 0.5, at + 3000));
		assert_int_equal(e.failures, i);
		assert_int_equal(e.next_ms - (at + 3000), ms_espcheck_backoff(i));
	}
	assert_int_equal(e.since_ms, t + 3000);	/* failing since the first failure */
	/* the block goes: the next check passes */
	ms_espcheck_started(&e, e.next_ms);
	assert_true(ms_espcheck_done(&e, &passed, 0.5, e.next_ms + 10));
	assert_true(ms_espcheck_passed(&e));
	assert_int_equal(e.failures, 0);
}

static void test_backoff_bounds(void **state)
{
	(void)state;
	assert_int_equal(ms_espcheck_backoff(1), 2000);
	assert_int_equal(ms_espcheck_backoff(2), 4000);
	assert_int_equal(ms_espcheck_backoff(5), 32000);
	assert_int_equal(ms_espcheck_backoff(6), MS_ESPCHECK_RETRY_MAX_MS);
	assert_int_equal(ms_espcheck_backoff(1000000), MS_ESPCHECK_RETRY_MAX_MS);
	/* jitter stays within +-25 %, out-of-range jitter is clamped */
	for (int k = 0; k < 3; k++) {
		double j[] = { -5.0, 0.0, 7.0 };
		struct ms_espcheck e = { 0 };

		up_and_start(&e, 0);
		ms_espcheck_done(&e, &out_blocked, j[k], 0);
		assert_int_equal(e.next_ms, k == 0 ? 1500 : k == 1 ? 1500 : 2500);
	}
}

static void test_down_while_running(void **state)
{
	struct ms_espcheck e = { 0 };

	(void)state;
	up_and_start(&e, 0);
	assert_false(ms_espcheck_track(&e, false, 100));	/* had no verdict: nothing to switch */
	assert_int_equal(e.state, MS_ESPCHECK_IDLE);
	assert_false(ms_espcheck_done(&e, &passed, 0.5, 200));	/* that run says nothing of the next up */
	assert_false(ms_espcheck_passed(&e));
	/* a failed pair going down: its verdict goes (mattered: the reason changes) */
	up_and_start(&e, 300);
	ms_espcheck_done(&e, &out_blocked, 0.5, 400);
	assert_true(ms_espcheck_track(&e, false, 500));
	assert_int_equal(e.failures, 0);
}

static void test_adopt_and_skip(void **state)
{
	struct ms_espcheck e = { 0 };

	(void)state;
	ms_espcheck_adopt(&e, 0);
	assert_true(ms_espcheck_passed(&e));
	assert_false(ms_espcheck_track(&e, true, 10));	/* still up (CONNECTING with its SA, then UP) */
	assert_true(ms_espcheck_passed(&e));
	memset(&e, 0, sizeof(e));
	up_and_start(&e, 0);
	ms_espcheck_skip(&e, 50);	/* no slot, no socket: tried again later, no verdict */
	assert_int_equal(e.state, MS_ESPCHECK_PENDING);
	assert_false(ms_espcheck_due(&e, 50));
	assert_true(ms_espcheck_due(&e, 50 + MS_ESPCHECK_RETRY_MS));
}

static void test_reason(void **state)
{
	struct ms_espcheck e = { 0 };
	struct ms_probe_result in_blocked = out_blocked;
	struct core_why w;

	(void)state;
	up_and_start(&e, 0);
	ms_espcheck_why(&e, "a", "b", 4801, true, &w);
	assert_int_equal(w.code, CORE_REASON_NONE);	/* first check under way: not a problem yet */
	ms_espcheck_done(&e, &out_blocked, 0.5, 10);
	ms_espcheck_why(&e, "a", "b", 4801, true, &w);
	assert_int_equal(w.code, CORE_REASON_ESP_BLOCKED);
	assert_string_equal(core_reason_code(w.code), "esp_blocked");
	assert_string_equal(w.message, "handshakes pass on udp/4801 but ESP (IP protocol 50) does not reach b (dropped from "
			    "a to b); traffic with it stays in clear (prefer mode)");
	assert_non_null(strstr(w.fix, "allow IP protocol 50"));
	assert_non_null(strstr(w.fix, "`meshsec netcheck b`"));
	ms_espcheck_why(&e, "a", "b", 4801, false, &w);
	assert_non_null(strstr(w.message, "is dropped (require mode)"));
	/* still said while the retry runs */
	ms_espcheck_started(&e, e.next_ms);
	ms_espcheck_why(&e, "a", "b", 4801, true, &w);
	assert_int_equal(w.code, CORE_REASON_ESP_BLOCKED);
	/* the other direction, both, and no answer at all */
	in_blocked.esp_out = MS_DIR_OK, in_blocked.esp_in = MS_DIR_BLOCKED;
	ms_espcheck_done(&e, &in_blocked, 0.5, e.next_ms + 10);
	ms_espcheck_why(&e, "a", "b", 4801, true, &w);
	assert_non_null(strstr(w.message, "(dropped from b to a)"));
	in_blocked.esp_out = MS_DIR_BLOCKED;
	ms_espcheck_started(&e, e.next_ms);
	ms_espcheck_done(&e, &in_blocked, 0.5, e.next_ms + 10);
	ms_espcheck_why(&e, "a", "b", 4801, true, &w);
	assert_non_null(strstr(w.message, "does not reach b in either direction"));
	ms_espcheck_started(&e, e.next_ms);
	ms_espcheck_done(&e, &silent, 0.5, e.next_ms + 10);
	ms_espcheck_why(&e, "a", "b", 4801, true, &w);
	assert_non_null(strstr(w.message, "b's agent does not answer ESP checks"));
	/* passed: no reason */
	ms_espcheck_started(&e, e.next_ms);
	ms_espcheck_done(&e, &passed, 0.5, e.next_ms + 10);
	ms_espcheck_why(&e, "a", "b", 4801, true, &w);
	assert_int_equal(w.code, CORE_REASON_NONE);
	assert_string_equal(ms_espcheck_state_name(e.state), "passed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passes),
		cmocka_unit_test(test_fails_and_retries),
		cmocka_unit_test(test_backoff_bounds),
		cmocka_unit_test(test_down_while_running),
		cmocka_unit_test(test_adopt_and_skip),
		cmocka_unit_test(test_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
