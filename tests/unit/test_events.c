/*
 * agent/mesh_events.c: events are formatted and handed to the publish hook only while someone
 * listens (meshsecd: the control socket has a subscriber); with nobody, nothing is built.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "../../agent/mesh.h"

struct hook {
	int listeners;		/* what the listening hook says */
	int asked;		/* times it was asked */
	int published;
	char last[512];
};

static void publish(void *ctx, const char *line, const char *time)
{
	struct hook *h = ctx;

	(void)time;
	h->published++;
	snprintf(h->last, sizeof(h->last), "%s", line);
}

static bool listening(void *ctx)
{
	struct hook *h = ctx;

	h->asked++;
	return h->listeners > 0;
}

static void test_nobody_listens(void **state)
{
	static struct mesh m;
	struct hook h = { 0 };
	struct core_event ev = { .type = CORE_EV_REKEY, .peer = "n2", .handshakes = 3 };

	(void)state;
	mesh_event(&m, "reload", NULL, "no hook at all");	/* nothing installed: nothing happens */
	mesh_on_events(&m, publish, listening, &h);
	mesh_event(&m, "reload", NULL, "nobody listens");
	mesh_event_core(&m, &ev);
	assert_int_equal(h.asked, 2);
	assert_int_equal(h.published, 0);	/* nothing formatted nor handed on */
	h.listeners = 1;
	mesh_event_core(&m, &ev);
	assert_int_equal(h.published, 1);
	assert_non_null(strstr(h.last, "\"type\":\"rekey\",\"peer\":\"n2\""));
	assert_non_null(strstr(h.last, "\"handshakes\":3"));
	mesh_event(&m, "reload", NULL, "someone listens");
	assert_int_equal(h.published, 2);
	assert_non_null(strstr(h.last, "\"detail\":\"someone listens\""));
	h.listeners = 0;
	mesh_event(&m, "reload", NULL, "gone again");
	assert_int_equal(h.published, 2);
	mesh_on_events(&m, publish, NULL, &h);	/* no listening hook: the publish hook always listens */
	mesh_event(&m, "reload", NULL, "always");
	assert_int_equal(h.published, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_nobody_listens) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
